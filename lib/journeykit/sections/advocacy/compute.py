"""Advocacy, the numbers: who recommends us, and what moves it.

Definitions used throughout (all windows are ``start <= t < end`` in the
client's local time):

- **Survey response**: a row of ``surveys`` with an ``nps`` answer (0–10).
  Responses without an NPS answer (a CSAT-only survey) are not counted.
- **Promoter** answers 9–10, **passive** 7–8, **detractor** 0–6.
- **NPS** = promoter share − detractor share of the responses, stored as a
  −1…1 difference of shares (``0.32``) and shown as −100…100 (``32``). Its
  95% interval is the normal approximation with the multinomial variance
  (:func:`journeykit.stats.compare.nps_interval`).
- **Active customer** (denominator of the review rate): a customer with
  activity in the period (:func:`journeykit.facts.activity`: an event
  carrying her ``customer_id`` or an order of any status).
- **Review rate** = customers with at least one ``review`` event in the
  period / active customers in the period (0–1). A reviewer is always an
  active customer, so this is a proper proportion, tested with the
  two-proportion z-test. **Rating** is the mean ``value`` (1–5) of the
  period's review events.
- **Referral rate** = new customers of the period (``signup_at`` in the
  period) whose ``customers.referred_by`` names an existing customer /
  new customers of the period (0–1).
- **Referral events** and **shares**: ``referral`` and ``share`` events in
  the period (counts, Poisson rate test per day).

Surveys are required. Every other part checks its own inputs and is
skipped, ``None``, when they are missing; :func:`skipped` names what was
skipped (the view says why, once): NPS needs ``surveys.nps``, the
touchpoint breakdown ``surveys.touchpoint``; the support, usage and
referrer breakdowns need ``surveys.customer_id`` (and ``tickets``, usage
events, ``customers.referred_by``); the review rate needs ``review``
events that carry a ``customer_id``, the rating their ``value``; the
referral rate needs ``customers.referred_by``; referral events and shares
need ``referral`` and ``share`` events.

This module returns numbers and frames only; the notebook's tables,
charts and sentences are built from them in
:mod:`journeykit.sections.advocacy.view`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import ibis
import pandas as pd
from ibis import _

from journeykit import facts
from journeykit.core.periods import Period
from journeykit.data.query import daily, in_window, month_frame, month_of, trailing_months
from journeykit.sections import registry
from journeykit.stats import compare

PROMOTER_MIN = 9
"""Lowest NPS answer that counts as a promoter (9–10)."""
PASSIVE_MIN = 7
"""Lowest NPS answer that counts as a passive (7–8); below is a detractor (0–6)."""
RECENT_TICKET_DAYS = 90
"""A ticket counts as "recent" for a response when it was created in the
90 days before the response."""
USAGE_DAYS = 30
"""Usage before a response is counted over the 30 days before it."""
USAGE_EVENTS = ("login", "feature_use")
"""Event types that count as using the product (app or account)."""
OTHER = facts.OTHER
"""The breakdown row of groups folded for being small."""
NO_TOUCHPOINT = "__none__"
"""The touchpoint of responses that do not record one."""

KEYS = ("nps", "nps_ci_low", "nps_ci_high", "promoter_share", "detractor_share", "review_rate", "referral_rate")
STABLE_KEYS = registry.get("50_advocacy").stable_keys
"""The stable metrics.json keys of the section (each also with ``_prev``)."""
EXTRA_KEYS = ("responses", "passive_share", "rating", "reviews", "referral_events", "shares")
"""The other KPIs recorded in ``metrics.json`` (each with ``_prev``)."""

SKIPS = ("nps", "touchpoint", "survey_customers", "tickets", "ticket_csat", "usage", "events", "event_customers",
         "review_events", "rating_value", "referred_by", "referral_events", "share_events")
"""The analyses :func:`skipped` may name."""


# --------------------------------------------------------------------------
# What the client's data allows
# --------------------------------------------------------------------------

def _survey_columns(ds) -> list[str]:
    return list(ds.table("surveys").columns)


def _event_columns(ds) -> list[str]:
    return list(ds.table("events").columns) if ds.has("events") else []


def has_nps(ds) -> bool:
    """Whether the surveys carry an ``nps`` column."""
    return "nps" in _survey_columns(ds)


def event_types(ds) -> frozenset[str]:
    """The event types present in the events up to the period end (empty
    without events)."""
    def query():
        if not ds.has("events"):
            return frozenset()
        e = ds.table("events")
        return frozenset(e.select("event_type").distinct().execute()["event_type"].dropna())

    return ds.memo(("advocacy_event_types",), query)


def has_usage_events(ds) -> bool:
    """Whether events with a ``customer_id`` include a login or feature use."""
    return "customer_id" in _event_columns(ds) and bool(event_types(ds) & set(USAGE_EVENTS))


def has_referral_links(ds) -> bool:
    """Whether ``customers`` carries ``referred_by`` links at all (a derived
    customers table, or a client that does not export the column, has none)."""
    if not ds.has("customers") or ds.report.tables["customers"].status == "derived":
        return False
    c = ds.table("customers")
    if "referred_by" not in c.columns:
        return False
    return ds.memo(("advocacy_referral_links",), lambda: int(c.referred_by.count().execute()) > 0)


def skipped(ds) -> list[str]:
    """The analyses the client's data does not allow, each named once
    (keys of :data:`SKIPS`, in that order): ``nps`` (no ``surveys.nps``),
    ``touchpoint`` (no ``surveys.touchpoint``), ``survey_customers`` (no
    ``surveys.customer_id``: no support, usage or referrer breakdown),
    ``tickets`` (no tickets), ``ticket_csat`` (tickets without ``csat``),
    ``usage`` (no login or feature-use events with a customer id),
    ``events`` (no events: no reviews, referral events or shares),
    ``event_customers`` (events without ``customer_id``: no review rate),
    ``review_events`` / ``referral_events`` / ``share_events`` (no event of
    that type), ``rating_value`` (review events without ``value``) and
    ``referred_by`` (no ``customers.referred_by`` links: no referral rate)."""
    s, e, types = _survey_columns(ds), _event_columns(ds), event_types(ds)
    out = []
    if "nps" not in s:
        out.append("nps")
    if "touchpoint" not in s:
        out.append("touchpoint")
    if "customer_id" not in s:
        out.append("survey_customers")
    if not ds.has("tickets"):
        out.append("tickets")
    elif "csat" not in ds.table("tickets").columns:
        out.append("ticket_csat")
    if not has_usage_events(ds):
        out.append("usage")
    if not ds.has("events"):
        out.append("events")
    else:
        if "customer_id" not in e:
            out.append("event_customers")
        if "review" not in types:
            out.append("review_events")
        elif "value" not in e:
            out.append("rating_value")
    if not has_referral_links(ds):
        out.append("referred_by")
    if ds.has("events"):
        out += [f"{t}_events" for t in ("referral", "share") if t not in types]
    return out


# --------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------

def _min_n(cfg) -> int:
    return int(cfg.definitions.min_sample_size)


def _days(period: Period) -> int:
    return (period.end - period.start).days


def _i(x) -> int:
    """An aggregate count as an int (an empty SUM comes back NULL/NaN)."""
    f = _f(x)
    return 0 if f is None else int(f)


def _f(x) -> float | None:
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def responses(ds, start=None, end=None):
    """Survey responses with an NPS answer, as an Ibis table, with a
    ``category`` column (``promoter`` / ``passive`` / ``detractor``);
    restricted to ``start <= responded_at < end`` when given. ``None``
    when the surveys have no ``nps`` column."""
    if not has_nps(ds):
        return None
    s = ds.table("surveys")
    s = s.filter(s.nps.notnull())
    if start is not None:
        s = in_window(s, "responded_at", start, end)
    cat = ibis.cases((s.nps >= PROMOTER_MIN, "promoter"), (s.nps >= PASSIVE_MIN, "passive"), else_="detractor")
    return s.mutate(category=cat)


def _count_exprs(t):
    out = dict(responses=t.count(),
               promoters=(t.nps >= PROMOTER_MIN).cast("int64").sum(),
               passives=((t.nps >= PASSIVE_MIN) & (t.nps < PROMOTER_MIN)).cast("int64").sum(),
               detractors=(t.nps < PASSIVE_MIN).cast("int64").sum())
    if "customer_id" in t.columns:
        out["customers"] = t.customer_id.nunique()
    return out


def with_nps(df: pd.DataFrame) -> pd.DataFrame:
    """Add ``nps``, ``ci_low``, ``ci_high``, ``promoter_share``,
    ``passive_share`` and ``detractor_share`` to a frame of counts
    (``promoters``, ``passives``, ``detractors``), and recompute
    ``responses``; NaN where there are no responses."""
    out = df.copy()
    for c in ("promoters", "passives", "detractors"):
        out[c] = out[c].fillna(0).astype("int64")
    out["responses"] = out["promoters"] + out["passives"] + out["detractors"]
    vals = [compare.nps_interval(p, q, d) for p, q, d in zip(out.promoters, out.passives, out.detractors)]
    out["nps"] = [v[0] for v in vals]
    out["ci_low"] = [v[1] for v in vals]
    out["ci_high"] = [v[2] for v in vals]
    n = out["responses"].where(out["responses"] > 0)
    out["promoter_share"] = out["promoters"] / n
    out["passive_share"] = out["passives"] / n
    out["detractor_share"] = out["detractors"] / n
    for c in ("nps", "ci_low", "ci_high", "promoter_share", "passive_share", "detractor_share"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64")
    return out


NPS_KEYS = ("responses", "promoters", "passives", "detractors", "nps", "nps_ci_low", "nps_ci_high",
            "promoter_share", "passive_share", "detractor_share")


def nps_counts(ds, period: Period) -> dict:
    """Promoters, passives and detractors among the period's survey responses.

    Numerator/denominator: counts of responses with an NPS answer whose
    ``responded_at`` falls in the period (a customer answering twice counts
    twice). Returns ``responses``, ``promoters``, ``passives``,
    ``detractors`` (ints), ``nps``, ``nps_ci_low``, ``nps_ci_high`` (−1…1)
    and the three shares (0–1, ``None`` without responses); every value
    ``None`` when the surveys have no ``nps`` column.
    """
    t = responses(ds, period.start, period.end)
    if t is None:
        return dict.fromkeys(NPS_KEYS)
    row = t.aggregate(**{k: v for k, v in _count_exprs(t).items() if k != "customers"}).execute().iloc[0]
    p, q, d = (_i(row[c]) for c in ("promoters", "passives", "detractors"))
    n = p + q + d
    v, lo, hi, _var = (None if x is None else float(x) for x in compare.nps_interval(p, q, d))
    return {"responses": n, "promoters": p, "passives": q, "detractors": d,
            "nps": v, "nps_ci_low": lo, "nps_ci_high": hi,
            "promoter_share": p / n if n else None, "passive_share": q / n if n else None,
            "detractor_share": d / n if n else None}


def _active(ds, start, end) -> int | None:
    """Distinct customers with activity (:func:`journeykit.facts.activity`)
    in ``[start, end)``; ``None`` without a source of activity."""
    a = facts.activity(ds)
    if a is None:
        return None
    a = in_window(a, "at", start, end)
    return _i(a.customer_id.nunique().execute())


REVIEW_KEYS = ("reviewers", "active_customers", "review_rate", "reviews", "rating", "rating_sd", "rated")


def review_stats(ds, period: Period) -> dict:
    """Reviews in the period; each value ``None`` when its inputs are missing.

    - ``reviews``: ``review`` events in the period (needs review events);
    - ``reviewers``: distinct customers with a review event in the period;
    - ``active_customers``: distinct active customers in the period (the
      review rate's denominator);
    - ``review_rate`` = reviewers / active customers (0–1); the three need
      review events that carry a ``customer_id``;
    - ``rating``, ``rating_sd``, ``rated``: mean, sample standard deviation
      and number of the review events' ``value`` (1–5 stars; needs ``value``).
    """
    out = dict.fromkeys(REVIEW_KEYS)
    if "review" not in event_types(ds):
        return out
    cols = _event_columns(ds)
    e = in_window(ds.table("events"), "occurred_at", period.start, period.end)
    rv = e.filter(e.event_type == "review")
    aggs = {"reviews": rv.count()}
    if "customer_id" in cols:
        aggs["reviewers"] = rv.customer_id.nunique()
    if "value" in cols:
        val = rv.value.cast("float64")
        aggs |= dict(rating=val.mean(), rating_sd=val.std(), rated=val.count())
    row = rv.aggregate(**aggs).execute().iloc[0]
    out["reviews"] = _i(row["reviews"])
    if "value" in cols:
        out.update(rated=_i(row["rated"]), rating=_f(row["rating"]), rating_sd=_f(row["rating_sd"]))
    if "customer_id" in cols:
        active = _active(ds, period.start, period.end) or 0
        reviewers = _i(row["reviewers"])
        out.update(reviewers=reviewers, active_customers=active, review_rate=reviewers / active if active else None)
    return out


REFERRAL_KEYS = ("new_customers", "referred", "referral_rate", "referral_events", "referrers", "shares", "sharers")


def referral_stats(ds, period: Period) -> dict:
    """Referrals and shares in the period; each value ``None`` when its
    inputs are missing.

    - ``new_customers``: customers with ``signup_at`` in the period;
    - ``referred``: those of them whose ``referred_by`` names a customer;
    - ``referral_rate`` = referred / new customers (0–1); these three need
      ``customers.referred_by`` links;
    - ``referral_events``, ``referrers``: ``referral`` events in the period
      and the distinct customers who sent them (needs referral events; the
      senders need ``events.customer_id``);
    - ``shares``, ``sharers``: the same for ``share`` events.
    """
    out = dict.fromkeys(REFERRAL_KEYS)
    if has_referral_links(ds):
        c = in_window(ds.table("customers"), "signup_at", period.start, period.end)
        row = c.aggregate(n=c.count(), r=c.referred_by.count()).execute().iloc[0]
        n, r = _i(row["n"]), _i(row["r"])
        out.update(new_customers=n, referred=r, referral_rate=r / n if n else None)
    kinds = [t for t in ("referral", "share") if t in event_types(ds)]
    if kinds:
        e = in_window(ds.table("events"), "occurred_at", period.start, period.end)
        e = e.filter(e.event_type.isin(kinds))
        by_customer = "customer_id" in e.columns
        aggs = {"n": _.count(), **({"c": _.customer_id.nunique()} if by_customer else {})}
        df = e.group_by("event_type").aggregate(**aggs).execute().set_index("event_type")
        for kind, count, who in (("referral", "referral_events", "referrers"), ("share", "shares", "sharers")):
            if kind in kinds:
                out[count] = _i(df["n"].get(kind))
                out[who] = _i(df["c"].get(kind)) if by_customer else None
    return out


# --------------------------------------------------------------------------
# The stage shape: period values, changes, monthly
# --------------------------------------------------------------------------

def period_values(ds, period: Period) -> dict:
    """Every advocacy KPI for one month: :func:`nps_counts`,
    :func:`review_stats` and :func:`referral_stats` merged."""
    return {**nps_counts(ds, period), **review_stats(ds, period), **referral_stats(ds, period)}


def daily_counts(ds, period: Period) -> pd.DataFrame:
    """One row per day of ``period`` (``day``) with the day's NPS
    ``responses`` and, where the events have them, ``referral_events`` and
    ``shares``: the clusters of the count tests of :func:`changes`."""
    def q():
        out = daily(ds.table("surveys"), "responded_at", period, n=_.count())[["day"]]
        r = responses(ds)
        if r is not None:
            out["responses"] = daily(r, "responded_at", period, n=_.count())["n"].to_numpy()
        kinds = [t for t in ("referral", "share") if t in event_types(ds)]
        for kind, col in (("referral", "referral_events"), ("share", "shares")):
            if kind in kinds:
                e = ds.table("events")
                out[col] = daily(e.filter(e.event_type == kind), "occurred_at", period, n=_.count())["n"].to_numpy()
        return out

    return ds.memo(("advocacy_daily", period), q)


ADVICE = {"detractor_share": {"up": "advocacy_next_detractors"}}
"""Advice for a significant change, shown in the key figures (see
:data:`journeykit.report.Advice`; the text names the comparison month)."""


def advice(cfg) -> dict:
    """:data:`ADVICE` with the values its texts need in ``cfg``'s language."""
    return {"detractor_share": {"up": ("advocacy_next_detractors",
                                       {"prev": cfg.period.previous().label(cfg.language)})}}


def has_last_year(ds, cfg) -> bool:
    """Whether the surveys reach back to the same month a year before the
    period (13 months or more): the key figures then show it."""
    first = ds.first_date("surveys")
    return first is not None and first <= cfg.period.shift(-12).start


def changes(ds, cfg, values: tuple[dict, dict] | None = None, trend: pd.DataFrame | None = None) -> list[compare.Change]:
    """This period against the comparison period, each with its test,
    judged (:func:`journeykit.stats.compare.judge`).

    NPS (z-test on the difference, interval in ``extra``), promoter and
    detractor shares (two-proportion z-tests; fewer detractors is better),
    review rate and referral rate (customers counted once: two-proportion),
    rating (Welch); responses, referral events and shares are counts:
    quasi-Poisson on the daily counts, comparing the mean per day
    (:func:`compare.daily_count`). Each is left out when its inputs are
    missing (see :func:`skipped`). ``values`` may pass precomputed
    ``(this, previous)`` :func:`period_values`. Each test is also held to
    the KPI's month-to-month movement over the trend window (:func:`monthly`,
    or ``trend`` when already computed; :func:`compare.month_variance`). With 13+ months of surveys each KPI
    carries its value a year before.
    """
    per, prev = cfg.period, cfg.period.previous()
    a, b = values or (period_values(ds, per), period_values(ds, prev))
    da, db = daily_counts(ds, per), daily_counts(ds, prev)
    m = _min_n(cfg)
    trend = monthly(ds, cfg) if trend is None else trend

    def hist(col, per_day=False):
        return compare.history(trend, col, per, per_day=per_day, cfg=cfg)

    out = []
    if a["responses"] is not None:
        out += [
            compare.nps("nps", (a["promoters"], a["passives"], a["detractors"]),
                        (b["promoters"], b["passives"], b["detractors"]), min_n=m, history=hist("nps")),
            compare.rate("promoter_share", a["promoters"], a["responses"], b["promoters"], b["responses"], min_n=m,
                         history=hist("promoter_share")),
            compare.rate("detractor_share", a["detractors"], a["responses"], b["detractors"], b["responses"],
                         min_n=m, higher_is_better=False, history=hist("detractor_share")),
            compare.daily_count("responses", da["responses"], db["responses"], min_n=m, higher_is_better=None,
                                history=hist("responses", True)),
        ]
    if a["active_customers"] is not None:
        out.append(compare.rate("review_rate", a["reviewers"], a["active_customers"], b["reviewers"],
                                b["active_customers"], min_n=m, history=hist("review_rate")))
    if a["rated"] is not None:
        out.append(compare.mean("rating", a["rating"], a["rating_sd"] or 0.0, a["rated"], b["rating"],
                                b["rating_sd"] or 0.0, b["rated"], min_n=m, history=hist("rating")))
    if a["new_customers"] is not None:
        out.append(compare.rate("referral_rate", a["referred"], a["new_customers"], b["referred"],
                                b["new_customers"], min_n=m, history=hist("referral_rate")))
    for key in ("referral_events", "shares"):
        if a[key] is not None:
            out.append(compare.daily_count(key, da[key], db[key], min_n=m, history=hist(key, True)))
    last = period_values(ds, per.shift(-12)) if has_last_year(ds, cfg) else None
    return compare.with_last_year(compare.judge(out, cfg, first_date=ds.first_date()), last)


def _month_key(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out["month"] = pd.to_datetime(out["month"]).astype("datetime64[ns]")
    return out


MONTHLY_KPIS = ("review_rate", "rating", "referral_rate", "referral_events", "shares")


def monthly(ds, cfg) -> pd.DataFrame:
    """One row per month of the trend window from the first month with
    survey responses (``ds.first_date("surveys")``): ``month``,
    ``responses``, ``promoters``, ``passives``, ``detractors``, ``nps``,
    ``ci_low``, ``ci_high``, the three shares, and ``review_rate``,
    ``rating``, ``referral_rate``, ``referral_events``, ``shares``. A KPI
    the data does not allow is NaN throughout; a month without data is NaN
    (a gap in the chart), its counts 0."""
    since = ds.first_date("surveys")
    months = trailing_months(cfg, since=since)
    start, end = months[0].start, months[-1].end
    frame = month_frame(cfg, since=since)
    frame["month"] = frame["month"].astype("datetime64[ns]")

    t = responses(ds, start, end)
    if t is None:
        df = frame.assign(promoters=0, passives=0, detractors=0)
    else:
        t = t.mutate(month=month_of(t.responded_at))
        counts = t.group_by("month").aggregate(
            **{k: v for k, v in _count_exprs(t).items() if k != "customers"}).execute()
        df = frame.merge(_month_key(counts), on="month", how="left")
    df = with_nps(df)
    if t is None:
        df["responses"] = float("nan")
    for k in MONTHLY_KPIS:
        df[k] = float("nan")

    types, cols = event_types(ds), _event_columns(ds)
    if types & {"review", "share", "referral"}:
        e = in_window(ds.table("events"), "occurred_at", start, end).mutate(month=_.occurred_at.truncate("M"))
        ev = e.filter(e.event_type.isin(["review", "share", "referral"]))
        aggs = dict(referral_events=(_.event_type == "referral").cast("int64").sum(),
                    shares=(_.event_type == "share").cast("int64").sum())
        if "customer_id" in cols:
            aggs["reviewers"] = ibis.ifelse(_.event_type == "review", _.customer_id, ibis.null("string")).nunique()
        if "value" in cols:
            aggs["rating"] = ibis.ifelse(_.event_type == "review", _.value.cast("float64"), ibis.null("float64")).mean()
        m = frame.merge(_month_key(ev.group_by("month").aggregate(**aggs).execute()), on="month", how="left")
        if "review" in types and "customer_id" in cols:
            act = _active_monthly(ds, start, end)
            m = m.merge(act, on="month", how="left")
            df["review_rate"] = (m["reviewers"].fillna(0) / m["active"].where(m["active"] > 0)).astype("float64")
        if "review" in types and "value" in cols:
            df["rating"] = m["rating"].astype("float64")
        for kind, col in (("referral", "referral_events"), ("share", "shares")):
            if kind in types:
                df[col] = m[col].fillna(0).astype("float64")
    if has_referral_links(ds):
        c = in_window(ds.table("customers"), "signup_at", start, end).mutate(month=_.signup_at.truncate("M"))
        agg = c.group_by("month").aggregate(new=_.count(), referred=_.referred_by.count()).execute()
        m = frame.merge(_month_key(agg), on="month", how="left")
        df["referral_rate"] = (m["referred"].fillna(0) / m["new"].where(m["new"] > 0)).astype("float64")
    return df


def _active_monthly(ds, start, end) -> pd.DataFrame:
    a = in_window(facts.activity(ds), "at", start, end)
    df = a.group_by(month=a.at.truncate("M")).aggregate(active=a.customer_id.nunique()).execute()
    return _month_key(df)


# --------------------------------------------------------------------------
# Breakdowns
# --------------------------------------------------------------------------

def _window(cfg, months: int | None) -> tuple:
    """``[start, end)`` of the ``months`` months ending with the period
    (``None``: everything up to the period end)."""
    if months is None:
        return None, None
    ps = cfg.period.trailing(months)
    return ps[0].start, ps[-1].end


def _suppress(df: pd.DataFrame, cfg) -> pd.DataFrame:
    """Blank the NPS of groups under ``min_group_size`` responses or (when
    respondents are known) ``k_anonymity`` customers."""
    small = df["responses"] < cfg.definitions.min_group_size
    if "customers" in df:
        small |= df["customers"] < cfg.definitions.k_anonymity
    for c in ("nps", "ci_low", "ci_high", "promoter_share", "passive_share", "detractor_share"):
        df.loc[small, c] = float("nan")
    return df


def _fold(df: pd.DataFrame, group: str, cfg) -> pd.DataFrame:
    """Fold groups with fewer than ``min_group_size`` responses (or fewer
    customers than ``k_anonymity``) into :data:`OTHER`, then recompute NPS."""
    if df.empty:
        return with_nps(df.assign(nps=[], ci_low=[], ci_high=[]))
    k = int(cfg.definitions.k_anonymity)
    size = df["responses"].where(df["customers"] >= k, 0) if "customers" in df else df["responses"]
    work = df.assign(_size=size)
    cols = ["responses", "promoters", "passives", "detractors"] + (["customers"] if "customers" in df else [])
    folded = compare.fold_small(work, group, "_size", int(cfg.definitions.min_group_size), other=OTHER,
                                sum_columns=cols)
    return _suppress(with_nps(folded.drop(columns=["_size"])), cfg)


def _group_counts(t, group) -> pd.DataFrame:
    return t.group_by(group).aggregate(**_count_exprs(t)).execute()


def nps_by_touchpoint(ds, cfg, months: int = 1) -> pd.DataFrame | None:
    """NPS per survey touchpoint over the ``months`` months ending with the
    period: ``touchpoint``, ``responses``, ``customers`` (with
    ``surveys.customer_id``), the three counts, ``nps`` with its 95%
    interval and shares. Touchpoints with fewer than ``min_group_size``
    responses are folded into :data:`OTHER`; a missing touchpoint is
    :data:`NO_TOUCHPOINT`. ``None`` without ``surveys.nps`` or
    ``surveys.touchpoint``."""
    if not has_nps(ds) or "touchpoint" not in _survey_columns(ds):
        return None
    start, end = _window(cfg, months)
    t = responses(ds, start, end)
    t = t.mutate(touchpoint=t.touchpoint.fill_null(NO_TOUCHPOINT))
    return _fold(_group_counts(t, "touchpoint"), "touchpoint", cfg)


def _respondents(ds) -> bool:
    return has_nps(ds) and "customer_id" in _survey_columns(ds)


def response_support(ds, cfg, months: int | None = None):
    """One row per response in the window (Ibis table) with
    ``recent_tickets`` (tickets created in the 90 days before the response)
    and ``last_csat`` (CSAT of the latest of them, ``NULL`` if unrated or
    none, or without ``tickets.csat``). Needs ``tickets`` and
    ``surveys.customer_id``."""
    start, end = _window(cfg, months)
    s = responses(ds, start, end).select("response_id", "customer_id", "responded_at", "nps", "category")
    tk = ds.table("tickets")
    csat = tk.csat.cast("float64") if "csat" in tk.columns else ibis.null("float64")
    tk = tk.select(tk_customer=tk.customer_id, tk_at=tk.created_at, tk_csat=csat)
    j = s.left_join(tk, [s.customer_id == tk.tk_customer, tk.tk_at < s.responded_at,
                         tk.tk_at >= s.responded_at - ibis.interval(days=RECENT_TICKET_DAYS)])
    return j.group_by(["response_id", "customer_id", "nps", "category"]).aggregate(
        recent_tickets=_.tk_at.count(), last_csat=_.tk_csat.argmax(_.tk_at))


def nps_by_recent_ticket(ds, cfg, months: int | None = None) -> pd.DataFrame | None:
    """NPS of respondents with vs without a support ticket created in the
    90 days before they answered, over the ``months`` months ending with
    the period (``None``: the trend window). Columns ``group``
    (``ticket`` / ``no_ticket``), counts, ``nps``, interval, shares; both
    groups always listed (no folding: two groups), NPS NaN when a group has
    fewer than ``min_group_size`` responses or ``k_anonymity`` customers.
    ``None`` without tickets or ``surveys.customer_id``."""
    if not ds.has("tickets") or not _respondents(ds):
        return None
    months = months or cfg.definitions.trend_periods
    t = response_support(ds, cfg, months)
    t = t.mutate(group=ibis.ifelse(t.recent_tickets > 0, "ticket", "no_ticket"))
    df = _group_counts(t, "group")
    df = pd.DataFrame({"group": ["no_ticket", "ticket"]}).merge(df, on="group", how="left").fillna(0)
    return _suppress(with_nps(df), cfg)


def nps_by_ticket_csat(ds, cfg, months: int | None = None) -> pd.DataFrame | None:
    """NPS of respondents who had a ticket in the 90 days before answering,
    by the CSAT (1–5) of the latest of those tickets (``group`` ``csat_1`` …
    ``csat_5``, ``csat_none`` when unrated), over the trend window by
    default. Small groups fold into :data:`OTHER`. ``None`` without
    tickets, ``tickets.csat`` or ``surveys.customer_id``."""
    if not ds.has("tickets") or "csat" not in ds.table("tickets").columns or not _respondents(ds):
        return None
    months = months or cfg.definitions.trend_periods
    t = response_support(ds, cfg, months)
    t = t.filter(t.recent_tickets > 0)
    t = t.mutate(group=ibis.ifelse(t.last_csat.isnull(), "csat_none",
                                   "csat_" + t.last_csat.round().cast("int64").cast("string")))
    df = _fold(_group_counts(t, "group"), "group", cfg)
    order = {f"csat_{i}": i for i in range(1, 6)} | {"csat_none": 6}
    return df.sort_values("group", key=lambda s: s.map(order).fillna(9), kind="stable").reset_index(drop=True)


def nps_by_usage(ds, cfg, months: int | None = None) -> pd.DataFrame | None:
    """NPS by how much the respondent used the product in the 30 days
    before answering: distinct days with a ``login`` or ``feature_use``
    event, grouped ``usage_0`` (none), ``usage_1`` (1–2 days), ``usage_3``
    (3 or more). Trend window by default; small groups fold into
    :data:`OTHER`. ``None`` without usage events or ``surveys.customer_id``."""
    if not has_usage_events(ds) or not _respondents(ds):
        return None
    months = months or cfg.definitions.trend_periods
    start, end = _window(cfg, months)
    s = responses(ds, start, end).select("response_id", "customer_id", "responded_at", "nps")
    e = ds.table("events")
    e = e.filter(e.event_type.isin(list(USAGE_EVENTS)) & e.customer_id.notnull())
    e = e.select(ev_customer="customer_id", ev_at="occurred_at")
    j = s.left_join(e, [s.customer_id == e.ev_customer, e.ev_at < s.responded_at,
                        e.ev_at >= s.responded_at - ibis.interval(days=USAGE_DAYS)])
    per = j.group_by(["response_id", "customer_id", "nps"]).aggregate(days=_.ev_at.date().nunique())
    per = per.mutate(group=ibis.cases((per.days == 0, "usage_0"), (per.days < 3, "usage_1"), else_="usage_3"))
    df = _fold(_group_counts(per, "group"), "group", cfg)
    order = {"usage_0": 0, "usage_1": 1, "usage_3": 2}
    return df.sort_values("group", key=lambda s: s.map(order).fillna(9), kind="stable").reset_index(drop=True)


def referrer_profile(ds, cfg) -> pd.DataFrame | None:
    """How customers who referred someone answer the NPS survey.

    A *referrer* is a customer named in ``customers.referred_by`` by a
    customer who signed up before the period end. All survey responses up
    to the period end, split into ``referrer`` and ``non_referrer``
    responses: counts, ``customers``, ``nps``, interval and shares.
    ``None`` without referral links or ``surveys.customer_id``.
    """
    if not has_referral_links(ds) or not _respondents(ds):
        return None
    c = ds.table("customers")
    refs = c.filter(c.referred_by.notnull()).select(ref_id="referred_by").distinct()
    s = responses(ds)
    j = s.left_join(refs, s.customer_id == refs.ref_id)
    j = j.mutate(group=ibis.ifelse(j.ref_id.notnull(), "referrer", "non_referrer"))
    df = _group_counts(j, "group")
    df = pd.DataFrame({"group": ["referrer", "non_referrer"]}).merge(df, on="group", how="left").fillna(0)
    return _suppress(with_nps(df), cfg)


def support_gap(df: pd.DataFrame | None, cfg) -> compare.Change | None:
    """The NPS gap between respondents with and without a recent ticket as
    a :class:`compare.Change` (``value``: with a ticket, ``prev``: without;
    the same z-test as period over period; "too little data" when a group
    has fewer than ``k_anonymity`` customers), or ``None`` without data."""
    if df is None or df.empty:
        return None
    g = df.set_index("group")
    cnt = lambda r: (int(g.loc[r, "promoters"]), int(g.loc[r, "passives"]), int(g.loc[r, "detractors"]))  # noqa: E731
    ch = compare.nps("nps_support_gap", cnt("ticket"), cnt("no_ticket"), min_n=int(cfg.definitions.min_group_size))
    if min(g["customers"]) < cfg.definitions.k_anonymity:
        return compare.Change(ch.key, None, None, "nps", enough_data=False)
    return ch


# --------------------------------------------------------------------------
# The section at once, and metrics.json
# --------------------------------------------------------------------------

@dataclass
class Advocacy:
    """Everything the advocacy notebook shows, computed once (the view
    functions of :mod:`journeykit.sections.advocacy.view` take it)."""

    skipped: list[str]
    """What the data does not allow (:func:`skipped`)."""
    values: dict
    """This period's :func:`period_values`."""
    prev: dict
    """The comparison period's."""
    changes: list
    """:func:`changes`."""
    monthly: pd.DataFrame
    """:func:`monthly`."""
    by_touchpoint: pd.DataFrame | None
    """:func:`nps_by_touchpoint` of the period."""
    by_touchpoint_trend: pd.DataFrame | None
    """The same over the trend window."""
    by_ticket: pd.DataFrame | None
    """:func:`nps_by_recent_ticket`."""
    by_csat: pd.DataFrame | None
    """:func:`nps_by_ticket_csat`."""
    by_usage: pd.DataFrame | None
    """:func:`nps_by_usage`."""
    referrers: pd.DataFrame | None
    """:func:`referrer_profile`."""


def compute(ds, cfg) -> Advocacy:
    """Every number of the section for ``cfg``'s period (see :class:`Advocacy`)."""
    a, b = period_values(ds, cfg.period), period_values(ds, cfg.period.previous())
    trend = monthly(ds, cfg)
    return Advocacy(skipped=skipped(ds), values=a, prev=b, changes=changes(ds, cfg, (a, b), trend), monthly=trend,
                    by_touchpoint=nps_by_touchpoint(ds, cfg),
                    by_touchpoint_trend=nps_by_touchpoint(ds, cfg, months=cfg.definitions.trend_periods),
                    by_ticket=nps_by_recent_ticket(ds, cfg), by_csat=nps_by_ticket_csat(ds, cfg),
                    by_usage=nps_by_usage(ds, cfg), referrers=referrer_profile(ds, cfg))


def metrics(ds, cfg, result: Advocacy | None = None) -> dict:
    """The section's ``metrics.json`` entries: the stable keys (``nps``,
    ``nps_ci_low``, ``nps_ci_high``, ``promoter_share``, ``detractor_share``,
    ``review_rate``, ``referral_rate``, each with ``_prev``; ``None`` when
    not computable), plus ``responses``, ``passive_share``, ``rating``,
    ``reviews``, ``referral_events``, ``shares`` (with ``_prev``) and the
    support gap (``nps_with_recent_ticket``, ``nps_without_recent_ticket``)."""
    s = result or compute(ds, cfg)
    a, b = s.values, s.prev
    out = {}
    for k in KEYS + EXTRA_KEYS:
        out[k] = a.get(k)
        out[f"{k}_prev"] = b.get(k)
    gap = support_gap(s.by_ticket, cfg)
    out["nps_with_recent_ticket"] = gap.value if gap else None
    out["nps_without_recent_ticket"] = gap.prev if gap else None
    return {k: (None if v is None or (isinstance(v, float) and math.isnan(v)) else v) for k, v in out.items()}


__all__ = ["PROMOTER_MIN", "PASSIVE_MIN", "RECENT_TICKET_DAYS", "USAGE_DAYS", "USAGE_EVENTS", "OTHER",
           "NO_TOUCHPOINT", "KEYS", "STABLE_KEYS", "EXTRA_KEYS", "SKIPS", "has_nps", "event_types",
           "has_usage_events", "has_referral_links", "skipped", "responses", "with_nps", "nps_counts",
           "review_stats", "referral_stats", "period_values", "daily_counts", "ADVICE", "advice", "has_last_year",
           "changes", "monthly", "nps_by_touchpoint",
           "response_support", "nps_by_recent_ticket", "nps_by_ticket_csat", "nps_by_usage", "referrer_profile",
           "support_gap", "Advocacy", "compute", "metrics"]
