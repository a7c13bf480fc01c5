"""Awareness, the numbers: which channels bring people, and at what cost.

Paid media come from the ``marketing`` table (required): impressions and
clicks per day and channel, and ``spend`` when the export has it. New
customers and the cost of acquiring them need a supplied ``customers``
table with an ``acquisition_channel``; visits and new visitors need
``events``, and their breakdown by source needs ``events.channel``. Each
part is skipped (``None``) when its input is missing, and
:func:`skipped` names what was skipped and why.

Channel names are compared case-insensitively and without surrounding
blanks, so a marketing channel ``Search`` matches an acquisition channel
``search``. Breakdown rows folded for being small are called
:data:`OTHER`, a missing channel :data:`UNKNOWN`; the view names them in
the client's language.

This module returns numbers and frames only; what the notebook shows is
built from them in :mod:`journeykit.sections.awareness.view`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import pandas as pd
from ibis import _

from journeykit import facts
from journeykit.data.query import daily, in_window, month_frame, month_of, trailing_months
from journeykit.sections import registry
from journeykit.stats import compare

OTHER = facts.OTHER
"""The breakdown row of channels folded for being small."""
UNKNOWN = facts.UNKNOWN
"""The channel of rows without one (a customer without ``acquisition_channel``)."""
METRIC_NAMES = {OTHER: "other", UNKNOWN: "unknown"}
"""How :data:`OTHER` and :data:`UNKNOWN` are written in ``metrics.json``."""

KEYS = ("impressions", "clicks", "ctr", "spend", "cpc", "cpm", "new_customers", "paid_new_customers", "cac",
        "blended_cac", "visits", "new_visitors")
"""Every KPI of one month (:func:`period_values`)."""
STABLE_KEYS = registry.get("10_awareness").stable_keys
"""The stable ``metrics.json`` keys of the section (each also with ``_prev``)."""

SKIPS = ("spend", "acquisition", "events", "event_channel")
"""The analyses :func:`skipped` may name, in the order a reader meets them."""


def _norm(col):
    return col.strip().lower()


# --------------------------------------------------------------------------
# What the client's data allows
# --------------------------------------------------------------------------

def has_spend(ds) -> bool:
    """Whether the marketing export has a ``spend`` column with any value."""
    def check():
        m = ds.table("marketing")
        return "spend" in m.columns and bool(int(m.spend.notnull().sum().execute() or 0))

    return ds.memo(("awareness_has_spend",), check)


has_acquisition = facts.has_acquisition


def has_visit_source(ds) -> bool:
    """Whether visits can be split by source: events with a ``channel`` column."""
    return ds.has("events") and "channel" in ds.table("events").columns


def skipped(ds) -> list[str]:
    """The analyses the client's data does not allow, each named once
    (keys of :data:`SKIPS`): ``spend`` (no spend: no CPC, CPM or CAC),
    ``acquisition`` (no supplied customers with ``acquisition_channel``:
    no new customers or CAC), ``events`` (no events: no visits) and
    ``event_channel`` (events without ``channel``: no visits by source)."""
    out = []
    if not has_spend(ds):
        out.append("spend")
    if not has_acquisition(ds):
        out.append("acquisition")
    if not ds.has("events"):
        out.append("events")
    elif not has_visit_source(ds):
        out.append("event_channel")
    return out


def paid_channels(ds) -> list[str]:
    """Normalised channel names that appear in the marketing table."""
    def query():
        m = ds.table("marketing")
        return sorted(m.select(c=_norm(m.channel)).distinct().execute()["c"].dropna().tolist())

    return ds.memo(("awareness_paid_channels",), query)


# --------------------------------------------------------------------------
# KPIs of one window
# --------------------------------------------------------------------------

def _media(ds, start: dt.date, end: dt.date) -> dict:
    m = in_window(ds.table("marketing"), "date", start, end)
    aggs = dict(impressions=m.impressions.sum(), clicks=m.clicks.sum())
    spend_known = has_spend(ds)
    if spend_known:
        aggs["spend"] = m.spend.sum()
    row = m.aggregate(**aggs).execute().iloc[0]
    return {"impressions": _float(row["impressions"]), "clicks": _float(row["clicks"]),
            "spend": _float(row["spend"]) if spend_known else None}


def _float(x) -> float:
    """An aggregate as a float: an empty window's NULL sum is 0."""
    return 0.0 if x is None or pd.isna(x) else float(x)


def impressions(ds, period) -> float:
    """Paid impressions served in the period (sum of ``marketing.impressions``
    over days ``start ≤ date < end``, all channels). Unit: count."""
    return _media(ds, period.start, period.end)["impressions"]


def clicks(ds, period) -> float:
    """Paid clicks in the period (sum of ``marketing.clicks``). Unit: count."""
    return _media(ds, period.start, period.end)["clicks"]


def spend(ds, period) -> float | None:
    """Paid media spend in the period (sum of ``marketing.spend``). Unit: the
    client's currency; ``None`` without spend."""
    return _media(ds, period.start, period.end)["spend"]


def ctr(ds, period) -> float | None:
    """Click-through rate: clicks / impressions over the period, all paid
    channels (a ratio of totals, not a mean of daily rates). Unit: 0–1."""
    m = _media(ds, period.start, period.end)
    return compare.safe_div(m["clicks"], m["impressions"])


def cpc(ds, period) -> float | None:
    """Cost per click: spend / clicks over the period. Unit: currency;
    ``None`` without spend."""
    m = _media(ds, period.start, period.end)
    return compare.safe_div(m["spend"], m["clicks"])


def cpm(ds, period) -> float | None:
    """Cost per thousand impressions: 1000 × spend / impressions over the
    period. Unit: currency; ``None`` without spend."""
    m = _media(ds, period.start, period.end)
    v = compare.safe_div(m["spend"], m["impressions"])
    return None if v is None else 1000 * v


def _new_customers(ds, start: dt.date, end: dt.date) -> dict:
    if not has_acquisition(ds):
        return {"new_customers": None, "paid_new_customers": None}
    c = in_window(ds.table("customers"), "signup_at", start, end)
    paid = paid_channels(ds)
    row = c.aggregate(n=c.count(), paid=_norm(c.acquisition_channel).isin(paid).cast("int64").sum()).execute().iloc[0]
    return {"new_customers": float(row["n"] or 0), "paid_new_customers": float(row["paid"] or 0)}


def new_customers(ds, period) -> float | None:
    """Customers who signed up in the period (``customers.signup_at``), any
    channel. Unit: count; ``None`` without customers/acquisition_channel."""
    return _new_customers(ds, period.start, period.end)["new_customers"]


def cac(ds, period) -> float | None:
    """Customer acquisition cost of paid media: spend in the period / new
    customers in the period whose ``acquisition_channel`` is one of the
    marketing table's channels. Unit: currency per customer."""
    m, n = _media(ds, period.start, period.end), _new_customers(ds, period.start, period.end)
    return compare.safe_div(m["spend"], n["paid_new_customers"])


def blended_cac(ds, period) -> float | None:
    """Spend in the period / every new customer in the period (paid and
    unpaid channels). Unit: currency per customer."""
    m, n = _media(ds, period.start, period.end), _new_customers(ds, period.start, period.end)
    return compare.safe_div(m["spend"], n["new_customers"])


def _visitor_events(ds):
    e = ds.table("events")
    ids = [e[c] for c in ("visitor_id", "customer_id") if c in e.columns]
    who = ibis.coalesce(*ids) if len(ids) > 1 else ids[0]
    e = e.mutate(who=who)
    return e.filter(e.who.notnull())


def _first_seen(ds):
    """One row per visitor: first event time and (with ``events.channel``)
    the channel of that event."""
    e = _visitor_events(ds)
    aggs = {"first": e.occurred_at.min()}
    if "channel" in e.columns:
        aggs["channel"] = e.channel.argmin(e.occurred_at)
    return e.group_by("who").agg(**aggs)


def _visits(ds, start, end):
    from journeykit.sections.consideration.compute import session_table

    return session_table(ds, start, end, steps=False)


def visits(ds, period) -> float | None:
    """Visits in the period: sessions with a ``visit`` event (see
    :func:`journeykit.sections.consideration.compute.sessions`). Unit: count;
    ``None`` without events."""
    if not ds.has("events"):
        return None
    return float(_visits(ds, period.start, period.end).count().execute())


def new_visitors(ds, period) -> float | None:
    """Visitors first seen in the period: browser identities
    (``visitor_id``, else ``customer_id``) whose first event in the data
    falls in the period. A person on two devices counts twice. Unit: count;
    ``None`` without events."""
    if not ds.has("events"):
        return None
    f = _first_seen(ds)
    return float(in_window(f, "first", period.start, period.end).count().execute())


def period_values(ds, period) -> dict:
    """Every awareness KPI of one month (:data:`KEYS`, see the single-KPI
    functions): ``None`` where the data does not allow it. Computed once
    per dataset and period."""
    return ds.memo(("awareness_period", period.start, period.end), lambda: _period_values(ds, period))


def _period_values(ds, period) -> dict:
    m = _media(ds, period.start, period.end)
    n = _new_customers(ds, period.start, period.end)
    cpm_ = compare.safe_div(m["spend"], m["impressions"])
    return {
        **m, **n,
        "ctr": compare.safe_div(m["clicks"], m["impressions"]),
        "cpc": compare.safe_div(m["spend"], m["clicks"]),
        "cpm": None if cpm_ is None else 1000 * cpm_,
        "cac": compare.safe_div(m["spend"], n["paid_new_customers"]),
        "blended_cac": compare.safe_div(m["spend"], n["new_customers"]),
        "visits": visits(ds, period),
        "new_visitors": new_visitors(ds, period),
    }


def daily_values(ds, period) -> pd.DataFrame:
    """One row per day of ``period`` (``day``) with the day's ``clicks``
    and ``impressions`` (all paid channels), and, where the data allows,
    ``new_customers`` (sign-ups), ``visits`` and ``new_visitors``: the
    clusters of the period-over-period tests (:func:`changes`)."""
    return ds.memo(("awareness_daily", period.start, period.end), lambda: _daily_values(ds, period))


def _daily_values(ds, period) -> pd.DataFrame:
    out = daily(ds.table("marketing"), "date", period, clicks=_.clicks.sum(), impressions=_.impressions.sum())
    if has_acquisition(ds):
        out["new_customers"] = daily(ds.table("customers"), "signup_at", period, n=_.count())["n"].to_numpy()
    if ds.has("events"):
        out["visits"] = daily(_visits(ds, period.start, period.end), "start", period, n=_.count())["n"].to_numpy()
        out["new_visitors"] = daily(_first_seen(ds), "first", period, n=_.count())["n"].to_numpy()
    return out


def has_last_year(ds, cfg) -> bool:
    """Whether the marketing data reaches back to the same month a year
    before the period (13 months or more): the key figures then show it."""
    first = ds.first_date("marketing")
    return first is not None and first <= cfg.period.shift(-12).start


def changes(ds, cfg) -> list[compare.Change]:
    """This period against the previous month, judged
    (:func:`journeykit.stats.compare.judge`).

    Impressions, spend and clicks are bought (the media plan buys
    impressions, and clicks follow them), so their change is shown without
    a test; so are the cost ratios (CPC, CPM, CAC). CTR is a rate whose
    impressions cluster within days: a quasi-binomial test on the daily
    clicks and impressions (:func:`compare.clustered_rate`), so ordinary
    day-to-day variation is not called a change. New customers, visits and
    new visitors are counts: quasi-Poisson on the daily counts, comparing
    the mean per day (:func:`compare.daily_count`). Each test is also held
    to the KPI's month-to-month movement over the trend window
    (:func:`monthly`; :func:`compare.month_variance`). KPIs that are not
    computable for this client (no spend, no acquisition channels, no
    events) are left out. With 13+ months of marketing data each KPI
    carries its value of the same month a year before.
    """
    p, q = cfg.period, cfg.period.previous()
    a, b = period_values(ds, p), period_values(ds, q)
    da, db = daily_values(ds, p), daily_values(ds, q)
    mn = cfg.definitions.min_sample_size
    trend = monthly(ds, cfg)

    def hist(col, per_day=False):
        return compare.history(trend, col, p, per_day=per_day, cfg=cfg)

    out = [compare.value("impressions", a["impressions"], b["impressions"], higher_is_better=None,
                         described="bought"),
           compare.value("clicks", a["clicks"], b["clicks"], described="bought"),
           compare.clustered_rate("ctr", da.clicks, da.impressions, db.clicks, db.impressions, min_n=mn,
                                  history=hist("ctr"))]
    if a["spend"] is not None:
        out += [compare.value("spend", a["spend"], b["spend"], higher_is_better=None, described="bought"),
                compare.value("cpc", a["cpc"], b["cpc"], higher_is_better=False),
                compare.value("cpm", a["cpm"], b["cpm"], higher_is_better=False)]
    if a["new_customers"] is not None:
        out.append(compare.daily_count("new_customers", da.new_customers, db.new_customers, min_n=mn,
                                       history=hist("new_customers", True)))
        if a["spend"] is not None:
            out += [compare.value("cac", a["cac"], b["cac"], higher_is_better=False),
                    compare.value("blended_cac", a["blended_cac"], b["blended_cac"], higher_is_better=False)]
    if a["visits"] is not None:
        out += [compare.daily_count("visits", da.visits, db.visits, min_n=mn, history=hist("visits", True)),
                compare.daily_count("new_visitors", da.new_visitors, db.new_visitors, min_n=mn,
                                    history=hist("new_visitors", True))]
    last = period_values(ds, p.shift(-12)) if has_last_year(ds, cfg) else None
    return compare.with_last_year(compare.judge(out, cfg, first_date=ds.first_date()), last)


# --------------------------------------------------------------------------
# Trend
# --------------------------------------------------------------------------

def monthly(ds, cfg) -> pd.DataFrame:
    """One row per month of the trend window from the first month with
    marketing rows (``ds.first_date("marketing")``): ``impressions``,
    ``clicks``, ``ctr``, ``spend``, ``cpc``, ``cpm``, ``new_customers``,
    ``cac`` (paid) and ``visits`` / ``new_visitors``; NaN where the data
    does not allow a KPI, and in months without marketing rows (a gap)."""
    months = trailing_months(cfg, since=ds.first_date("marketing"))
    return ds.memo(("awareness_monthly", tuple(months)), lambda: _monthly(ds, cfg, months), cfg)


def _monthly(ds, cfg, months) -> pd.DataFrame:
    start, end = months[0].start, cfg.period.end
    frame = month_frame(cfg, since=ds.first_date("marketing"))
    m = in_window(ds.table("marketing"), "date", start, end)
    aggs = dict(impressions=m.impressions.sum(), clicks=m.clicks.sum())
    if has_spend(ds):
        aggs["spend"] = m.spend.sum()
    df = m.group_by(month=month_of(m.date)).agg(**aggs).execute()
    df["month"] = pd.to_datetime(df["month"]).astype("datetime64[ns]")
    out = frame.merge(df, on="month", how="left")
    if "spend" not in out:
        out["spend"] = float("nan")
    out["ctr"] = out["clicks"] / out["impressions"].where(out["impressions"] > 0)
    out["cpc"] = out["spend"] / out["clicks"].where(out["clicks"] > 0)
    out["cpm"] = 1000 * out["spend"] / out["impressions"].where(out["impressions"] > 0)
    out["new_customers"] = float("nan")
    out["cac"] = float("nan")
    if has_acquisition(ds):
        c = in_window(ds.table("customers"), "signup_at", start, end)
        paid = paid_channels(ds)
        n = c.group_by(month=month_of(c.signup_at)).agg(
            new_customers=c.count(), paid=_norm(c.acquisition_channel).isin(paid).cast("int64").sum()).execute()
        n["month"] = pd.to_datetime(n["month"]).astype("datetime64[ns]")
        out = out.drop(columns=["new_customers"]).merge(n, on="month", how="left")
        out["new_customers"] = out["new_customers"].fillna(0).astype("float64")
        out["cac"] = out["spend"] / out["paid"].where(out["paid"] > 0)
        out = out.drop(columns=["paid"])
    out["visits"] = float("nan")
    out["new_visitors"] = float("nan")
    if ds.has("events"):
        s = _visits(ds, start, end)
        v = s.group_by("month").agg(visits=s.count()).execute()
        f = in_window(_first_seen(ds), "first", start, end)
        nv = f.group_by(month=month_of(f["first"])).agg(new_visitors=f.count()).execute()
        for part in (v, nv):
            part["month"] = pd.to_datetime(part["month"]).astype("datetime64[ns]")
        out = out.drop(columns=["visits", "new_visitors"]).merge(v, on="month", how="left").merge(nv, on="month",
                                                                                                  how="left")
        out[["visits", "new_visitors"]] = out[["visits", "new_visitors"]].fillna(0).astype("float64")
    # months before a table's first row are unknown, not zero
    for table, cols in (("customers", ["new_customers", "cac"]), ("events", ["visits", "new_visitors"])):
        first = ds.first_date(table)
        if first is not None:
            out.loc[out["month"] < pd.Timestamp(first.replace(day=1)), cols] = float("nan")
    return out


# --------------------------------------------------------------------------
# Breakdowns
# --------------------------------------------------------------------------

def _minimum(cfg) -> int:
    return max(cfg.definitions.min_group_size, cfg.definitions.k_anonymity)


def _media_by_channel(ds, period) -> pd.DataFrame:
    m = in_window(ds.table("marketing"), "date", period.start, period.end)
    aggs = dict(impressions=m.impressions.sum(), clicks=m.clicks.sum())
    if has_spend(ds):
        aggs["spend"] = m.spend.sum()
    df = m.group_by(channel=_norm(m.channel)).agg(**aggs).execute()
    if "spend" not in df:
        df["spend"] = float("nan")
    return df.astype({"impressions": "float64", "clicks": "float64", "spend": "float64"})


def by_channel(ds, period, cfg=None) -> pd.DataFrame:
    """Paid media per marketing channel in the period.

    Columns: ``channel``, ``impressions``, ``clicks``, ``ctr`` (clicks /
    impressions), ``spend``, ``spend_share`` (channel spend / all spend),
    ``cpc`` (spend / clicks), ``cpm`` (1000 × spend / impressions); the cost
    columns are NaN without spend. Channels with fewer than
    max(min_group_size, k_anonymity) clicks fold into :data:`OTHER` (ratios
    recomputed from the sums). Rows: by clicks, descending; none when the
    period has no marketing rows.
    """
    cfg = cfg or ds.cfg
    return ds.memo(("awareness_by_channel", period.start, period.end), lambda: _by_channel(ds, period, cfg), cfg)


def _by_channel(ds, period, cfg) -> pd.DataFrame:
    df = compare.fold_small(_media_by_channel(ds, period), "channel", "clicks", _minimum(cfg), other=OTHER,
                            sum_columns=["impressions", "clicks", "spend"])
    if not has_spend(ds):
        df["spend"] = float("nan")      # the folded row's sum of nothing is not a spend of 0
    total = df["spend"].sum(min_count=1)
    df["ctr"] = [compare.safe_div(c, i) for c, i in zip(df.clicks, df.impressions)]
    df["spend_share"] = [compare.safe_div(s, total) for s in df.spend]
    df["cpc"] = [compare.safe_div(s, c) for s, c in zip(df.spend, df.clicks)]
    df["cpm"] = [None if v is None else 1000 * v
                 for v in (compare.safe_div(s, i) for s, i in zip(df.spend, df.impressions))]
    cols = ["channel", "impressions", "clicks", "ctr", "spend", "spend_share", "cpc", "cpm"]
    return df.reindex(columns=cols).astype({c: "float64" for c in cols[1:]})


def acquisition_by_channel(ds, period, cfg=None) -> pd.DataFrame | None:
    """New customers and their cost per acquisition channel in the period.

    Columns: ``channel`` (``customers.acquisition_channel``, normalised;
    missing as :data:`UNKNOWN`), ``new_customers``, ``share`` (of all new
    customers), ``spend`` (the channel's marketing spend; NaN for unpaid
    channels and without spend) and ``cac`` = spend / new customers of that
    channel. Channels with fewer than max(min_group_size, k_anonymity) new
    customers fold into :data:`OTHER`, whose CAC is the folded paid spend
    over the folded paid channels' new customers. ``None`` without
    customers/acquisition_channel.
    """
    cfg = cfg or ds.cfg
    if not has_acquisition(ds):
        return None
    return ds.memo(("awareness_acquisition", period.start, period.end), lambda: _acquisition(ds, period, cfg), cfg)


def _acquisition(ds, period, cfg) -> pd.DataFrame:
    df = facts.acquisition_costs(ds, cfg, period.start, period.end).rename(columns={"signups": "new_customers"})
    total = df["new_customers"].sum()
    df["share"] = [compare.safe_div(x, total) for x in df.new_customers]
    cols = ["channel", "new_customers", "share", "spend", "cac"]
    return df.reindex(columns=cols).astype({c: "float64" for c in cols[1:]})


def visits_by_source(ds, period, cfg=None) -> pd.DataFrame | None:
    """Visits and new visitors by source (``events.channel``) in the period.

    Columns: ``channel`` (missing as :data:`UNKNOWN`), ``visits`` (sessions
    with a visit whose first event came through the channel),
    ``new_visitors`` (visitors first seen in the period, by the channel of
    their first event) and ``new_visitor_share`` = new visitors / visits.
    Sources with fewer than max(min_group_size, k_anonymity) visits fold
    into :data:`OTHER`. ``None`` without events or without a channel column.
    """
    cfg = cfg or ds.cfg
    if not has_visit_source(ds):
        return None
    s = _visits(ds, period.start, period.end)
    v = s.group_by(channel=s.channel.fill_null(UNKNOWN)).agg(visits=s.count()).execute()
    f = in_window(_first_seen(ds), "first", period.start, period.end)
    nv = f.group_by(channel=f.channel.fill_null(UNKNOWN)).agg(new_visitors=f.count()).execute()
    df = v.merge(nv, on="channel", how="outer").fillna({"visits": 0, "new_visitors": 0})
    df = compare.fold_small(df, "channel", "visits", _minimum(cfg), other=OTHER,
                            sum_columns=["visits", "new_visitors"])
    df["new_visitor_share"] = [compare.safe_div(a, b) for a, b in zip(df.new_visitors, df.visits)]
    cols = ["channel", "visits", "new_visitors", "new_visitor_share"]
    return df.reindex(columns=cols).astype({c: "float64" for c in cols[1:]})


# --------------------------------------------------------------------------
# The section at once
# --------------------------------------------------------------------------

@dataclass
class Awareness:
    """Everything the awareness notebook shows, computed once (the view
    functions of :mod:`journeykit.sections.awareness.view` take its parts)."""

    skipped: list[str]
    """What the data does not allow (:func:`skipped`)."""
    changes: list
    """This period against the previous (:func:`changes`)."""
    monthly: pd.DataFrame
    """The trend (:func:`monthly`)."""
    media: pd.DataFrame
    """Paid media by channel this period (:func:`by_channel`)."""
    acquisition: pd.DataFrame | None
    """New customers and CAC by channel (:func:`acquisition_by_channel`)."""
    sources: pd.DataFrame | None
    """Visits by source (:func:`visits_by_source`)."""


def compute(ds, cfg) -> Awareness:
    """Every number of the section for ``cfg``'s period (see :class:`Awareness`)."""
    p = cfg.period
    return Awareness(skipped=skipped(ds), changes=changes(ds, cfg), monthly=monthly(ds, cfg),
                     media=by_channel(ds, p, cfg), acquisition=acquisition_by_channel(ds, p, cfg),
                     sources=visits_by_source(ds, p, cfg))


# --------------------------------------------------------------------------
# metrics.json
# --------------------------------------------------------------------------

def metrics(ds, cfg) -> dict:
    """The section's ``metrics.json`` entries: the stable keys
    ``impressions, clicks, ctr, spend, cpc, new_customers, cac`` each with
    ``_prev`` (``None`` where not computable), plus ``cpm``,
    ``paid_new_customers``, ``blended_cac``, ``visits``, ``new_visitors``
    (with ``_prev``) and ``ctr_by_channel`` / ``cac_by_channel`` (channel →
    value after folding; the folded row is ``other``, a missing channel
    ``unknown``; ``cac_by_channel`` is ``None`` without acquisition
    channels)."""
    out = {k: None for key in STABLE_KEYS for k in (key, f"{key}_prev")}
    if not ds.has("marketing"):
        return out
    p, q = cfg.period, cfg.period.previous()
    a, b = period_values(ds, p), period_values(ds, q)
    for k in KEYS:
        out[k], out[f"{k}_prev"] = a[k], b[k]

    def name(channel):
        return METRIC_NAMES.get(channel, channel)

    def num(v):
        return None if v is None or pd.isna(v) else float(v)

    out["ctr_by_channel"] = {name(r.channel): num(r.ctr) for r in by_channel(ds, p, cfg).itertuples()}
    acq = acquisition_by_channel(ds, p, cfg)
    out["cac_by_channel"] = None if acq is None else {name(r.channel): num(r.cac) for r in acq.itertuples()}
    return out


__all__ = ["OTHER", "UNKNOWN", "KEYS", "STABLE_KEYS", "SKIPS", "has_spend", "has_acquisition", "has_visit_source",
           "skipped", "paid_channels", "impressions", "clicks", "spend", "ctr", "cpc", "cpm", "new_customers", "cac",
           "blended_cac", "visits", "new_visitors", "period_values", "daily_values", "has_last_year", "changes", "monthly", "by_channel",
           "acquisition_by_channel", "visits_by_source", "Awareness", "compute", "metrics"]
