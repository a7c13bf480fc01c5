"""Survival: how long customers stay, and how long new customers take to
buy — Kaplan–Meier curves that count the customers whose story is not
finished yet (censored) instead of dropping them.

Two clocks, both starting at sign-up (``customers.signup_at``; the first
order or event when the loader derived the customers table), in days, with
nothing after the period end ``E``:

- **Lifetime** (:func:`lifetimes`): from sign-up to the customer's last
  activity (:func:`journeykit.facts.activity_days`) before ``E``, observed
  (**churned**) when she has been silent for ``D`` =
  ``definitions.churn_inactivity_days`` days or more at ``E`` — the
  report's churn definition. A churn is only known ``D`` days after the
  last activity, so a customer not churned at ``E`` is known to have a
  lifetime of at least ``E − D − sign-up`` and is **censored** there (not
  at her last activity: that would hide exactly the churns not yet
  declared, and make recent cohorts look loyal). Customers who signed up
  within the last ``D`` days cannot have churned yet and are left out. A
  customer never active after sign-up has a lifetime of 0.
- **Time to first purchase** (:func:`first_purchase_times`): from sign-up
  to her first purchase (:func:`journeykit.facts.purchases`); censored at
  ``E`` for a customer who has not bought yet — not left out, which would
  make buying look faster than it is (``30_purchase``'s
  ``median_days_to_first_purchase`` counts buyers only).

Curves are Kaplan–Meier estimates with Greenwood 95% intervals (log-log),
medians with their Brookmeyer–Crowley intervals, and groups are compared
with the log-rank test, all from ``statsmodels.duration`` (a dependency
already; lifelines, the usual choice, declares ``pandas<3``, which this
project's pin excludes).

References
----------
Kaplan, E. L. & Meier, P. (1958). Nonparametric estimation from incomplete
observations. *JASA* 53, 457–481.
Mantel, N. (1966). Evaluation of survival data and two new rank order
statistics arising in its consideration. *Cancer Chemotherapy Reports* 50.
Brookmeyer, R. & Crowley, J. (1982). A confidence interval for the median
survival time. *Biometrics* 38, 29–41.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from journeykit import facts
from journeykit.data.query import ts

OTHER = facts.OTHER
UNKNOWN = facts.UNKNOWN

COHORT_QUARTERS = 6
"""Signup quarters compared (the most recent ones ending before the period end)."""

MAX_DAYS = 730
"""Curves are tabulated up to this many days after sign-up."""


# --------------------------------------------------------------------------
# The durations
# --------------------------------------------------------------------------

def _signups(ds, cfg):
    c = ds.table("customers", until=cfg.period.end)
    cols = {"customer_id": c.customer_id.cast("string"), "signup_at": c.signup_at.cast("timestamp")}
    if "acquisition_channel" in c.columns:
        cols["channel"] = facts.channel_key(c.acquisition_channel)
    return c.select(**cols)


def _frame(df: pd.DataFrame, end: dt.date) -> pd.DataFrame:
    df = df.copy()
    df["signup_at"] = pd.to_datetime(df["signup_at"])
    q = df["signup_at"].dt.to_period("Q")
    df["cohort"] = q.astype(str).str.replace("Q", " Q", regex=False)
    if "channel" not in df.columns:
        df["channel"] = None
    return df.sort_values("customer_id", kind="stable").reset_index(drop=True)


def lifetimes(ds, cfg) -> pd.DataFrame | None:
    """Per customer signed up at least ``D`` = ``churn_inactivity_days``
    days before the period end ``E``: ``customer_id``, ``signup_at``,
    ``cohort`` (signup quarter, ``2026 Q3``), ``channel``
    (:func:`journeykit.facts.channel_key` of ``acquisition_channel``;
    ``None`` without the column), ``churned`` (1: silent for ``D`` days or
    more at ``E``; 0: censored) and ``days``: for a churned customer, whole
    days from her sign-up day to her last active day; for a censored one,
    from her sign-up day to ``E − D`` (see the module docstring). ``None``
    without customers or activity data. Computed once per dataset and
    settings."""
    if not ds.has("customers") or facts.activity_days(ds) is None:
        return None

    def build():
        end = cfg.period.end
        d = int(cfg.definitions.churn_inactivity_days)
        c = _signups(ds, cfg)
        a = facts.activity_days(ds)
        a = a.filter(a.day < ts(end))
        last = a.group_by("customer_id").aggregate(last_day=a.day.max())
        j = c.left_join(last, c.customer_id == last.customer_id)
        df = j.select(*[j[k] for k in c.columns], last_day=j.last_day).execute()
        if df.empty:
            return None
        df = _frame(df, end)
        signup_day = df["signup_at"].dt.normalize()
        last_day = pd.to_datetime(df["last_day"]).where(lambda s: s >= signup_day, signup_day)
        silent = (pd.Timestamp(end) - last_day).dt.days - 1
        df["churned"] = (silent >= d).astype(int)
        known = (pd.Timestamp(end) - pd.Timedelta(days=d) - signup_day).dt.days
        df["days"] = np.where(df["churned"] == 1, (last_day - signup_day).dt.days, known).astype(float)
        df = df[known >= 0]
        return df.drop(columns=["last_day"]).reset_index(drop=True)

    return ds.memo(("retention.survival.lifetimes",), build, cfg)


def first_purchase_times(ds, cfg) -> pd.DataFrame | None:
    """Per customer signed up before the period end: ``customer_id``,
    ``signup_at``, ``cohort``, ``channel`` (as :func:`lifetimes`), ``days``
    (sign-up to first purchase; for a customer who has not bought, sign-up
    to the period end) and ``bought`` (1: the first purchase was observed;
    0: censored). A purchase before sign-up counts at day 0. ``None``
    without customers or purchases. Computed once per dataset and settings."""
    p = facts.purchases(ds)
    if not ds.has("customers") or p is None:
        return None

    def build():
        end = cfg.period.end
        c = _signups(ds, cfg)
        pp = p.filter(p.at < ts(end))
        first = pp.group_by(cid=pp.customer_id.cast("string")).aggregate(first_at=pp.at.min())
        j = c.left_join(first, c.customer_id == first.cid)
        df = j.select(*[j[k] for k in c.columns], first_at=j.first_at).execute()
        if df.empty:
            return None
        df = _frame(df, end)
        first_at = pd.to_datetime(df["first_at"])
        stop = first_at.fillna(pd.Timestamp(end))
        df["days"] = ((stop - df["signup_at"]).dt.total_seconds() / 86400).clip(lower=0.0)
        df["bought"] = first_at.notna().astype(int)
        return df.drop(columns=["first_at"])

    return ds.memo(("retention.survival.first_purchase",), build, cfg)


# --------------------------------------------------------------------------
# Kaplan–Meier, medians, log-rank
# --------------------------------------------------------------------------

def kaplan_meier(days, event, max_days: int | None = MAX_DAYS) -> pd.DataFrame:
    """The Kaplan–Meier estimate of S(t) = P(duration > t) from ``days`` and
    ``event`` (1 observed, 0 censored): one row per distinct event time up to
    ``max_days`` with ``days``, ``at_risk`` (durations ≥ t), ``events``,
    ``survival`` (0–1) and its Greenwood 95% interval ``ci_low`` /
    ``ci_high`` (log-log transform), starting with a row at day 0 (S = 1
    before any event at 0 is counted, so a curve that drops at 0 shows it)."""
    from statsmodels.duration.survfunc import SurvfuncRight

    t = np.asarray(days, float)
    e = np.asarray(event, int)
    cols = ["days", "at_risk", "events", "survival", "ci_low", "ci_high"]
    if not len(t):
        return pd.DataFrame(columns=cols)
    sf = SurvfuncRight(t, e)
    rows = [{"days": 0.0, "at_risk": len(t), "events": 0, "survival": 1.0, "ci_low": 1.0, "ci_high": 1.0}]
    if len(sf.surv_times):
        lo, hi = _greenwood_ci(sf)
        for k, x in enumerate(sf.surv_times):
            if max_days is not None and x > max_days:
                break
            rows.append({"days": float(x), "at_risk": int(sf.n_risk[k]), "events": int(sf.n_events[k]),
                         "survival": float(sf.surv_prob[k]), "ci_low": float(lo[k]), "ci_high": float(hi[k])})
    return pd.DataFrame(rows, columns=cols)


def _greenwood_ci(sf) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise 95% intervals of S(t): log(−log S) ± 1.96 · se / (S · |log S|)
    (Kalbfleisch & Prentice), with Greenwood's standard error."""
    s, se = np.asarray(sf.surv_prob, float), np.asarray(sf.surv_prob_se, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ll = np.log(-np.log(s))
        half = 1.96 * se / (s * np.abs(np.log(s)))
        lo, hi = np.exp(-np.exp(ll + half)), np.exp(-np.exp(ll - half))
    lo = np.where(s >= 1, 1.0, np.where(s <= 0, 0.0, lo))
    hi = np.where(s >= 1, 1.0, np.where(s <= 0, 0.0, hi))
    return np.nan_to_num(lo, nan=0.0), np.nan_to_num(hi, nan=1.0)


def median(days, event) -> dict:
    """The median duration (days) of the Kaplan–Meier curve — the first time
    S(t) ≤ 0.5 — with its 95% interval (Brookmeyer–Crowley): ``median``,
    ``ci_low``, ``ci_high``; ``None`` where not reached (the curve never
    falls to 0.5, or the interval's end lies beyond the follow-up)."""
    from statsmodels.duration.survfunc import SurvfuncRight

    t, e = np.asarray(days, float), np.asarray(event, int)
    out = {"median": None, "ci_low": None, "ci_high": None}
    if not len(t) or not e.any():
        return out
    sf = SurvfuncRight(t, e)
    below = np.flatnonzero(np.asarray(sf.surv_prob) <= 0.5 + 1e-9)   # 3 × 0.5 / 3 may be 0.5000000000000001
    if len(below):
        out["median"] = float(sf.surv_times[below[0]])
    try:
        lo, hi = sf.quantile_ci(0.5)
    except (ValueError, ZeroDivisionError, FloatingPointError, np.linalg.LinAlgError):
        return out
    out["ci_low"] = None if lo is None or not np.isfinite(lo) else float(lo)
    out["ci_high"] = None if hi is None or not np.isfinite(hi) else float(hi)
    return out


def logrank(days, event, group) -> dict | None:
    """The log-rank test that the groups share one survival curve:
    ``chi2``, ``df`` (groups − 1) and ``p``. ``None`` with fewer than two
    groups, no event, or when the test's variance is singular (tiny samples)."""
    from statsmodels.duration.survfunc import survdiff

    t, e, g = np.asarray(days, float), np.asarray(event, int), np.asarray(group, dtype=object)
    if len(pd.unique(g)) < 2 or not e.any():
        return None
    try:
        chi2, p = survdiff(t, e, g)
    except np.linalg.LinAlgError:      # no group's events vary apart from the others' (tiny samples)
        return None
    if not (np.isfinite(chi2) and np.isfinite(p)):
        return None
    return {"chi2": float(chi2), "df": int(len(pd.unique(g)) - 1), "p": float(p)}


# --------------------------------------------------------------------------
# By group
# --------------------------------------------------------------------------

def _groups(df: pd.DataFrame, by: str, cfg) -> pd.Series | None:
    """Each customer's group for ``by`` (``channel``, ``cohort``), or
    ``None`` when the grouping does not apply: channels as
    :func:`journeykit.facts.channel_key`, small ones (under
    max(min_group_size, k_anonymity) customers) folded into :data:`OTHER`;
    cohorts the last :data:`COHORT_QUARTERS` signup quarters with enough
    customers (earlier and smaller ones left out: NaN)."""
    minimum = max(int(cfg.definitions.min_group_size), int(cfg.definitions.k_anonymity))
    if by == "channel":
        if df["channel"].isna().all():
            return None
        g = df["channel"].fillna(UNKNOWN)
        n = g.value_counts()
        return g.where(g.map(n) >= minimum, OTHER)
    quarters = sorted(df["cohort"].unique())[-COHORT_QUARTERS:]
    n = df["cohort"].value_counts()
    keep = [q for q in quarters if n.get(q, 0) >= minimum]
    return df["cohort"].where(df["cohort"].isin(keep)) if keep else None


def by_group(df: pd.DataFrame | None, by: str, cfg, event: str = "churned") -> dict | None:
    """Kaplan–Meier per group of ``df`` (:func:`lifetimes` or
    :func:`first_purchase_times`; ``event`` its event column) by ``by``
    (``channel`` or ``cohort``): ``{"curves": {group: kaplan_meier frame},
    "summary": frame (group, customers, events, median, ci_low, ci_high),
    "logrank": :func:`logrank` over the groups}``, groups in order (channels
    by size, :data:`OTHER` last; cohorts in time order). ``None`` when the
    grouping does not apply or fewer than two groups are left."""
    if df is None or df.empty:
        return None
    g = _groups(df, by, cfg)
    if g is None:
        return None
    m = g.notna()
    d, g = df[m], g[m]
    if g.nunique() < 2:
        return None
    if by == "channel":
        n = g.value_counts()
        order = [k for k in n.sort_values(ascending=False, kind="stable").index if k != OTHER]
        order += [OTHER] if OTHER in n.index else []
    else:
        order = sorted(g.unique())
    curves, rows = {}, []
    for k in order:
        sel = (g == k).to_numpy()
        t, e = d["days"].to_numpy()[sel], d[event].to_numpy()[sel]
        curves[k] = kaplan_meier(t, e)
        rows.append({"group": k, "customers": int(sel.sum()), "events": int(e.sum()), **median(t, e)})
    return {"curves": curves, "summary": pd.DataFrame(rows),
            "logrank": logrank(d["days"].to_numpy(), d[event].to_numpy(), g.to_numpy())}


def grouped(ds, cfg, by: str, what: str = "lifetime") -> dict | None:
    """:func:`by_group` of :func:`lifetimes` (``what="lifetime"``, event
    ``churned``) or of :func:`first_purchase_times`
    (``what="first_purchase"``, event ``bought``) by ``by``; ``None``
    without the data. Computed once per dataset and settings: the
    section's chart, table, sentences and metrics all ask for it (on a
    million customers each asking cost 1.3 s)."""
    def build():
        lifetime = what == "lifetime"
        df = lifetimes(ds, cfg) if lifetime else first_purchase_times(ds, cfg)
        return by_group(df, by, cfg, "churned" if lifetime else "bought")

    return ds.memo(("retention.survival.by_group", by, what), build, cfg)


def metrics(ds, cfg) -> dict | None:
    """The section's survival numbers for ``metrics.json`` (not stable keys):
    ``median_lifetime_days`` with ``median_lifetime_ci_low`` / ``_high``
    (days; ``null`` when not reached), ``lifetime_customers``,
    ``lifetime_churned``, ``logrank_channel_p`` and ``logrank_cohort_p``
    (``null`` when the grouping does not apply), and
    ``median_days_to_first_purchase_km`` (all sign-ups, those who have not
    bought censored; with its interval) and ``first_purchase_share_90d``
    (the Kaplan–Meier share who bought within 90 days of sign-up, 0–1).
    ``None`` without lifetimes."""
    lt = lifetimes(ds, cfg)
    if lt is None:
        return None
    md = median(lt["days"], lt["churned"])
    out = {"lifetime_customers": int(len(lt)), "lifetime_churned": int(lt["churned"].sum()),
           "median_lifetime_days": md["median"], "median_lifetime_ci_low": md["ci_low"],
           "median_lifetime_ci_high": md["ci_high"]}
    for by in ("channel", "cohort"):
        r = grouped(ds, cfg, by)
        out[f"logrank_{by}_p"] = r["logrank"]["p"] if r and r["logrank"] else None
    fp = first_purchase_times(ds, cfg)
    if fp is not None:
        m2 = median(fp["days"], fp["bought"])
        km = kaplan_meier(fp["days"], fp["bought"], max_days=None)
        at90 = km.loc[km["days"] <= 90, "survival"]
        out |= {"median_days_to_first_purchase_km": m2["median"],
                "median_days_to_first_purchase_km_ci_low": m2["ci_low"],
                "median_days_to_first_purchase_km_ci_high": m2["ci_high"],
                "first_purchase_share_90d": 1 - float(at90.iloc[-1]) if len(at90) else None}
    return out


__all__ = ["COHORT_QUARTERS", "MAX_DAYS", "lifetimes", "first_purchase_times", "kaplan_meier", "median", "logrank",
           "by_group", "grouped", "metrics"]
