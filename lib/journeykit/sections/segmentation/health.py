"""Customer health score (0–100) and its bands.

Who is scored
    Every customer who has not churned at the period end (lifecycle state
    new, active, reactivated, at risk or dormant: :data:`journeykit.facts.
    LIVE_STATES`, see :mod:`.lifecycle`). Churned customers are the win-back
    playbook's business, not the health score's.

Components (each 0–1, 1 = healthy), over windows ending at the period end;
weights and windows are client settings (``segmentation.health``):

- ``usage_trend``: active days (:func:`journeykit.facts.activity_days`)
  in the last ``usage_recent_days`` (R) days against the same customer's
  rate over the ``usage_baseline_days`` before them: ``recent / (recent +
  expected)`` where ``expected`` is her baseline active days scaled to R
  days — 0.5 steady, towards 1 rising, 0 stopped. Not computed for a
  customer with under 7 days of baseline (too new to have a trend).
- ``recency``: ``1 − days silent / churn_inactivity_days`` (clipped to 0–1).
- ``engagement``: how established her habit is, relative to the other
  scored customers: the mean of the percentile ranks (0–1) of her active
  days over the last ``usage_recent_days + usage_baseline_days`` days and
  of her paid orders over the RFM window (``rfm.lookback_days``; only the
  first without ``orders``). New customers start low here: in
  customer-success practice they are not healthy until activated.
- ``tickets``: ``1 / (1 + tickets opened in the last tickets_days)``
  (needs ``tickets``).
- ``nps_csat``: the mean of her latest NPS answer / 10 and her mean CSAT
  rescaled ``(csat − 1) / 4``, answers of the last ``survey_days`` days
  (needs ``surveys`` with ``customer_id`` and ``nps`` or ``csat``, or
  ``tickets`` with ``csat``; customers who never answered have no value).
- ``payment_failures``: ``1 / (1 + failed payment attempts in the last
  payments_days)`` for customers who attempted a payment then (needs
  ``orders`` with ``payment_status``; attempts as in
  :func:`journeykit.facts.attempts`).
- ``subscription``: 1 with a paid subscription running at the period end,
  0.5 with only a trial running, 0 when her last subscription ended in the
  last ``payments_days`` days; no value otherwise (needs ``subscriptions``).
  A ``status`` column is ignored: it is the state at export time, not at
  the period end.

Score = ``100 × Σ wᵢ cᵢ / Σ wᵢ`` over the components that have a value for
the customer: a component whose table the client lacks is dropped for
everyone (:func:`available_components` says why), one a customer has no
data for is dropped for her, and the remaining weights are rescaled to sum
to 1. Bands (:data:`journeykit.facts.HEALTH_BANDS`): **healthy** at
``healthy_min`` (70) or more, **unhealthy** below ``unhealthy_below`` (40),
**at risk** in between.
"""

from __future__ import annotations

import contextlib
import datetime as dt

import ibis
import numpy as np
import pandas as pd

from journeykit import facts
from journeykit.data.frames import member
from journeykit.data.query import in_window, ts
from journeykit.sections.segmentation import segments
from journeykit.sections.segmentation.experience import experience
from journeykit.sections.segmentation.lifecycle import lifecycle_states
from journeykit.sections.segmentation.transitions import NONE

COMPONENTS = ("usage_trend", "recency", "engagement", "tickets", "nps_csat", "payment_failures", "subscription")
"""Health components, in display order."""


# --------------------------------------------------------------------------
# Components and score
# --------------------------------------------------------------------------

def available_components(ds) -> dict[str, str | None]:
    """Component → ``None`` when it can be computed for this client, else
    why not: ``"table:<table>"`` (the table is missing) or
    ``"column:<table>.<column>"`` (a column of it is). Looked up once per
    dataset (every health build asks)."""
    return ds.memo(("segmentation.available_components",), lambda: _available_components(ds))


def _available_components(ds) -> dict[str, str | None]:
    out: dict[str, str | None] = {"usage_trend": None, "recency": None, "engagement": None}
    out["tickets"] = None if ds.has("tickets") else "table:tickets"
    has_csat = ds.has("tickets") and "csat" in ds.table("tickets").columns
    survey_cols = set(ds.table("surveys").columns) if ds.has("surveys") else set()
    has_answers = "customer_id" in survey_cols and bool({"nps", "csat"} & survey_cols)
    if has_answers or has_csat:
        out["nps_csat"] = None
    elif not ds.has("surveys"):
        out["nps_csat"] = "table:surveys"
    else:
        out["nps_csat"] = "column:surveys.customer_id" if "customer_id" not in survey_cols else "column:surveys.nps"
    if not ds.has("orders"):
        out["payment_failures"] = "table:orders"
    else:
        out["payment_failures"] = None if facts.has_payment_status(ds) else "column:orders.payment_status"
    out["subscription"] = None if ds.has("subscriptions") else "table:subscriptions"
    return out


def used_components(ds, cfg) -> list[str]:
    """Components with a weight above 0 whose data this client has, in
    :data:`COMPONENTS` order."""
    w = cfg.segmentation.health.weights.model_dump()
    return [c for c, why in available_components(ds).items() if why is None and w[c] > 0]


def _ratio(recent: pd.Series, expected: pd.Series) -> pd.Series:
    tot = recent + expected
    return (recent / tot.where(tot > 0)).where(tot > 0, 0.0)


def _orders_in_window(ds, cfg, end: dt.date) -> pd.DataFrame:
    """Paid orders per customer in the ``rfm.lookback_days`` before ``end``
    (columns ``customer_id``, ``orders``)."""
    o = in_window(facts.paid_orders(ds, until=end), "ordered_at",
                  end - dt.timedelta(days=cfg.segmentation.rfm.lookback_days), end)
    return o.group_by(customer_id=o.customer_id.cast("string")).aggregate(orders=o.count()).execute()


def components(ds, cfg, end: dt.date | None = None) -> pd.DataFrame:
    """Per customer not churned at ``end`` (default: the period end):
    ``customer_id``, ``state``, ``days_since_signup``, ``days_silent``,
    ``last_seen``, ``reactivated`` and every component of
    :data:`COMPONENTS` (0–1; NaN where the customer has no value, or for
    everyone when the client lacks its data); see the module docstring."""
    end = end or cfg.period.end
    hs = cfg.segmentation.health
    life = lifecycle_states(ds, cfg, end)
    df = life[life["state"].isin(facts.LIVE_STATES)].drop(columns=["signup_at"]).reset_index(drop=True)
    avail = available_components(ds)
    df["recency"] = (1 - df["days_silent"] / int(cfg.definitions.churn_inactivity_days)).clip(0, 1)
    # usage trend and the activity half of engagement
    R, B = hs.usage_recent_days, hs.usage_baseline_days
    ranks = []
    a = facts.activity_days(ds)
    if a is not None and len(df):
        d = in_window(a, "day", end - dt.timedelta(days=R + B), end).select("customer_id", "day")
        cut = ts(end - dt.timedelta(days=R))
        g = d.group_by("customer_id").aggregate(recent=(d.day >= cut).cast("int64").sum(),
                                                base=(d.day < cut).cast("int64").sum()).execute()
        df = df.merge(g, on="customer_id", how="left")
        df[["recent", "base"]] = df[["recent", "base"]].fillna(0)
        # baseline days the customer could have been active: from sign-up (or the window start) to the cut
        base_days = (df["days_since_signup"] - R).clip(0, B)
        expected = df["base"] * R / base_days.where(base_days > 0)
        df["usage_trend"] = _ratio(df["recent"], expected.fillna(0)).where(base_days >= 7)
        ranks.append((df["recent"] + df["base"]).rank(pct=True))
        df = df.drop(columns=["recent", "base"])
    if ds.has("orders") and len(df):
        f = df[["customer_id"]].merge(_orders_in_window(ds, cfg, end), on="customer_id", how="left")
        ranks.append(f["orders"].fillna(0).rank(pct=True).set_axis(df.index))
    df["engagement"] = pd.concat(ranks, axis=1).mean(axis=1) if ranks else np.nan
    if avail["tickets"] is None and len(df):
        t = in_window(ds.table("tickets", until=end), "created_at", end - dt.timedelta(days=hs.tickets_days), end)
        tk = t.group_by(customer_id=t.customer_id.cast("string")).aggregate(n=t.count()).execute()
        df = df.merge(tk, on="customer_id", how="left")
        df["tickets"] = 1 / (1 + df.pop("n").fillna(0))
    if avail["nps_csat"] is None and len(df):
        ex = experience(ds, cfg, end)
        df = df.merge(ex[["customer_id", "nps", "csat"]], on="customer_id", how="left")
        parts = pd.concat([df["nps"] / 10, (df["csat"] - 1) / 4], axis=1)
        df["nps_csat"] = parts.mean(axis=1, skipna=True).clip(0, 1)
        df = df.drop(columns=["nps", "csat"])
    if avail["payment_failures"] is None and len(df):
        o = facts.attempts(ds, until=end)
        o = in_window(o, "ordered_at", end - dt.timedelta(days=hs.payments_days), end)
        o = o.filter(o._paid | o._failed)
        pf = o.group_by(customer_id=o.customer_id.cast("string")).aggregate(
            failed=o._failed.cast("int64").sum()).execute()
        df = df.merge(pf, on="customer_id", how="left")
        df["payment_failures"] = 1 / (1 + df.pop("failed"))  # NaN: no attempt in the window
    if avail["subscription"] is None and len(df):
        sub = subscription_state(ds, cfg, end)
        df = df.merge(sub[["customer_id", "subscription"]], on="customer_id", how="left")
    for c in COMPONENTS:
        if c not in df.columns:
            df[c] = np.nan
        df[c] = df[c].astype(float)
    return df.reset_index(drop=True)


def subscription_state(ds, cfg, end: dt.date) -> pd.DataFrame:
    """Per customer with a subscription started before ``end``:
    ``subscription`` (the component: 1 paid running, 0.5 trial running, 0
    ended in the last ``payments_days``, NaN otherwise; a ``plan`` of
    ``trial`` is a trial) and ``next_renewal`` (the next ``started_at + k ×
    subscription_renewal_days`` after ``end`` of her running paid
    subscription, NaT without one). Without ``ended_at`` every subscription
    is running."""
    hs = cfg.segmentation.health
    cycle = int(cfg.definitions.subscription_renewal_days)
    cols = ["customer_id", "subscription", "next_renewal"]
    if not ds.has("subscriptions"):
        return pd.DataFrame(columns=cols)
    s = ds.table("subscriptions", until=end)
    plan = s.plan.cast("string").lower() if "plan" in s.columns else ibis.literal("")
    ended = s.ended_at.cast("timestamp") if "ended_at" in s.columns else ibis.null("timestamp")
    s = s.select(customer_id=s.customer_id.cast("string"), started_at=s.started_at.cast("timestamp"),
                 ended_at=ended, trial=plan.fill_null("") == "trial")
    df = s.execute()
    if df.empty:
        return pd.DataFrame(columns=cols)
    end_ts = pd.Timestamp(end)
    df["ended_at"] = pd.to_datetime(df["ended_at"])
    running = df["ended_at"].isna()  # an end after ``end`` is not known then (the dataset masks it)
    recent_end = ~running & (df["ended_at"] >= end_ts - pd.Timedelta(days=hs.payments_days))
    df["value"] = np.select([running & ~df["trial"], running & df["trial"], recent_end], [1.0, 0.5, 0.0], np.nan)
    age = (end_ts - df["started_at"]).dt.total_seconds() / 86400
    k = np.floor(age / cycle) + 1
    df["renewal"] = (df["started_at"] + pd.to_timedelta(k * cycle, unit="D")).where(running & ~df["trial"])
    return df.groupby("customer_id").agg(subscription=("value", "max"), next_renewal=("renewal", "min")).reset_index()


def score_frame(comp: pd.DataFrame, weights: dict[str, float], used: list[str],
                healthy_min: float, unhealthy_below: float) -> pd.DataFrame:
    """``comp`` with ``score`` (0–100), ``band`` (``None`` without a score)
    and one ``pts_<component>`` column per used component (its points of the
    score: ``100 × w c / Σ w`` over the customer's available components;
    they add up to the score)."""
    out = comp.copy()
    W = pd.Series({c: float(weights[c]) for c in used}, dtype=float)
    vals = out[used].astype(float)
    w_avail = vals.notna().mul(W, axis=1)
    denom = w_avail.sum(axis=1)
    pts = vals.fillna(0).mul(W, axis=1).div(denom.where(denom > 0), axis=0) * 100
    for c in used:
        out[f"pts_{c}"] = pts[c]
    out["score"] = pts.sum(axis=1, min_count=1).where(denom > 0)
    out["band"] = pd.Series(np.select([out["score"] >= healthy_min, out["score"] < unhealthy_below],
                                      ["healthy", "unhealthy"], "at_risk"), index=out.index, dtype="object")
    out.loc[out["score"].isna(), "band"] = None
    return out


def health(ds, cfg, end: dt.date | None = None) -> pd.DataFrame:
    """Per customer not churned at ``end`` (default: the period end): the
    :func:`components`, ``score``, ``band`` and ``pts_*``
    (:func:`score_frame`) under ``segmentation.health``."""
    end = end or cfg.period.end

    def build():
        hs = cfg.segmentation.health
        return score_frame(components(ds, cfg, end), hs.weights.model_dump(), used_components(ds, cfg),
                           hs.healthy_min, hs.unhealthy_below)

    return ds.memo(("segmentation.health", end), build, cfg)


def band_counts(ds, cfg, end: dt.date | None = None) -> dict[str, int]:
    """Scored customers per band at ``end``, every band of
    :data:`journeykit.facts.HEALTH_BANDS` in that order."""
    b = health(ds, cfg, end)["band"].value_counts()
    return {k: int(b.get(k, 0)) for k in facts.HEALTH_BANDS}


def band_shares(ds, cfg, end: dt.date | None = None) -> dict[str, float] | None:
    """Share of scored customers per band at ``end``: numerator, customers
    in the band; denominator, customers not churned at ``end`` with a
    score. 0–1; ``None`` when nobody is scored."""
    c = band_counts(ds, cfg, end)
    n = sum(c.values())
    return {k: v / n for k, v in c.items()} if n else None


def contributions(h: pd.DataFrame, used: list[str]) -> pd.DataFrame:
    """Mean points of each component per band of ``h`` (a :func:`health`
    frame): rows the bands, columns the ``used`` components; each row sums
    to the band's mean score (NaN rows for empty bands)."""
    cols = [f"pts_{c}" for c in used]
    g = h.dropna(subset=["band"]).groupby("band")[cols].mean().reindex(list(facts.HEALTH_BANDS))
    g.columns = list(used)
    return g


def band_trend(ds, cfg) -> pd.DataFrame:
    """Band shares at the end of each of the last ``health.trend_months``
    months, from the first month with activity data on: columns ``month``
    (timestamp of the month's first day) and one per band (0–1; NaN when
    nobody was scored)."""
    since = ds.first_date(*facts.activity_sources(ds))
    months = cfg.period.trailing(cfg.segmentation.health.trend_months)
    months = [p for p in months if since is None or p.end > since] or months[-1:]
    kept = {cfg.period.end, cfg.period.previous().end}   # asked for again by the section's other tables
    rows = []
    for p in months:
        # of the other months only the shares are kept, not their per-customer frames
        with contextlib.nullcontext() if p.end in kept else ds.transient():
            sh = band_shares(ds, cfg, p.end) or {}
        rows.append({"month": pd.Timestamp(p.start), **{b: sh.get(b, np.nan) for b in facts.HEALTH_BANDS}})
    return pd.DataFrame(rows, columns=["month", *facts.HEALTH_BANDS])


def by_segment(ds, cfg) -> pd.DataFrame | None:
    """Scored customers by RFM segment (rows, in rule order, then
    :data:`~journeykit.sections.segmentation.transitions.NONE`: no paid order
    in the RFM window) and band: ``segment``, ``customers``, each band's
    share (0–1) and ``mean_score``; segments without a scored customer are
    left out. ``None`` when RFM cannot be computed for this client."""
    seg = segments.rfm(ds, cfg)
    if seg is None:
        return None
    h = health(ds, cfg).dropna(subset=["band"])
    j = h.merge(seg[["customer_id", "segment"]], on="customer_id", how="left")
    j["segment"] = j["segment"].fillna(NONE)
    t = pd.crosstab(j["segment"], j["band"]).reindex(columns=list(facts.HEALTH_BANDS), fill_value=0)
    t = t.loc[[k for k in [*facts.segment_keys(cfg), NONE] if k in t.index]]
    out = pd.DataFrame({"segment": t.index, "customers": t.sum(axis=1).to_numpy()})
    for b in facts.HEALTH_BANDS:
        out[b] = (t[b] / t.sum(axis=1)).to_numpy()
    out["mean_score"] = j.groupby("segment")["score"].mean().reindex(t.index).to_numpy()
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------
# Validation against what happened next
# --------------------------------------------------------------------------

def churn_by_band(h: pd.DataFrame, left_at: pd.Series, end: dt.date, days: int = 90) -> pd.DataFrame:
    """Per band: scored customers still present at ``end`` (``left_at``
    missing or not before ``end``) and the share of them whose ``left_at``
    falls in the ``days`` days after ``end``. ``left_at`` is a Series
    indexed by customer id (e.g. the demo generator's truth)."""
    e = pd.Timestamp(end)
    la = pd.to_datetime(h["customer_id"].map(left_at))
    present = la.isna() | (la >= e)
    left = la.notna() & (la >= e) & (la < e + pd.Timedelta(days=days))
    d = pd.DataFrame({"band": h["band"], "present": present, "left": left})[present]
    g = d.groupby("band").agg(customers=("left", "size"), left=("left", "sum")).reindex(list(facts.HEALTH_BANDS))
    g["rate"] = g["left"] / g["customers"]
    return g


def validation(ds, cfg) -> dict | None:
    """Does the health score tell who churns next? The score at a past
    cutoff against what happened after it, under the client's own churn
    definition (``D`` = ``definitions.churn_inactivity_days``).

    Cutoff ``c`` = the period end − ``D``: the latest one whose ``D``-day
    follow-up is fully observed by the period end. Everyone scored at ``c``
    (:func:`health` at ``c``: not churned then, scored with the data before
    ``c`` only) is followed for ``D`` days; she **churned** when she has no
    activity (:func:`journeykit.facts.activity_days`) in ``[c, c + D)`` —
    churned at ``c + D``, the definition the retention and prediction
    sections use.

    Returns ``{"cutoff", "days", "bands": {band: {"customers", "churned",
    "rate" (0–1), "ci_low", "ci_high" (95% Wilson interval)}}, "separates"}``
    with every band of :data:`journeykit.facts.HEALTH_BANDS` (a band nobody
    was in has ``customers`` 0 and ``None`` for the rest). ``separates`` is
    true when the churn rate rises from healthy to at risk to unhealthy
    (bands with customers, at least two of them) and the intervals of the
    healthiest and the least healthy band do not overlap; false otherwise;
    ``None`` when fewer than two bands have customers. ``None`` when nobody
    was scored at ``c`` (too little history) or without activity data.
    """
    from statsmodels.stats.proportion import proportion_confint

    d = int(cfg.definitions.churn_inactivity_days)
    c = cfg.period.end - dt.timedelta(days=d)

    def build():
        a = facts.activity_days(ds)
        if a is None:
            return None
        h = health(ds, cfg, c).dropna(subset=["band"])
        if h.empty:
            return None
        seen = in_window(a, "day", c, c + dt.timedelta(days=d)).select("customer_id").distinct().execute()
        churned = ~member(h["customer_id"].astype(str), seen["customer_id"].astype(str))
        bands: dict[str, dict] = {}
        for b in facts.HEALTH_BANDS:
            m = (h["band"] == b).to_numpy()
            n, k = int(m.sum()), int(churned[m].sum())
            if not n:
                bands[b] = {"customers": 0, "churned": 0, "rate": None, "ci_low": None, "ci_high": None}
                continue
            lo, hi = proportion_confint(k, n, alpha=0.05, method="wilson")
            bands[b] = {"customers": n, "churned": k, "rate": k / n, "ci_low": float(lo), "ci_high": float(hi)}
        present = [b for b in facts.HEALTH_BANDS if bands[b]["customers"]]
        separates = None
        if len(present) >= 2:
            rates = [bands[b]["rate"] for b in present]
            rising = all(x < y for x, y in zip(rates, rates[1:]))
            separates = bool(rising and bands[present[0]]["ci_high"] < bands[present[-1]]["ci_low"])
        return {"cutoff": c.isoformat(), "days": d, "bands": bands, "separates": separates}

    return ds.memo(("segmentation.health_validation", c), build, cfg)


__all__ = ["COMPONENTS", "available_components", "used_components", "components", "subscription_state",
           "score_frame", "health", "band_counts", "band_shares", "contributions", "band_trend", "by_segment",
           "churn_by_band", "validation"]
