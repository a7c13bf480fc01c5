"""Consideration, the numbers: what people look at before they buy.

Everything here is computed from the ``events`` table (required). Its unit
is a **visit**: one session that contains a ``visit`` event (every session
counts as a visit when the client sends no ``visit`` events at all). A
session is ``session_id`` when the export has one, otherwise a user's
calendar day. A **user** is ``customer_id`` when present, else
``visitor_id``; an export with only one of them works with that one.

**The funnel** visit → product view → add to cart → checkout → purchase is
an *ordered* funnel (PostHog's "sequential" order): a journey reaches a
step when it has that step's event at or after the time it reached the
previous step, other events in between allowed. The rule on time:

- order is the events' timestamps, never their position in the export
  (clickstream exports list the events of one session out of timestamp
  order; the rows are sorted by time, not read in file order);
- equal timestamps count as in order: a step logged in the same instant
  as the previous one reaches it (exports with whole-second timestamps
  log a product view and its add to cart in one second; PostHog's funnel
  also takes events with equal timestamps in step order);
- the visit step is reached when the session begins (its first event of
  any kind), so a visit event stamped a moment after the session's first
  page does not put that page "before the visit";
- a step strictly earlier than the previous one is out of order and does
  not count (an add to cart before any product view is not a product view
  followed by a cart); PostHog's "any order" funnel would count it, ours
  does not: the question is where people drop off *on the way* to buying.

Journeys are either visits (``definitions.funnel_window: session``, the
default) or users, entering at their first visit of the period, with each
later step within ``definitions.funnel_window_days`` days of that entry
(``funnel_window: days``).

This module returns numbers and frames only; the notebook's tables,
charts and sentences are built from them in
:mod:`journeykit.sections.consideration.view`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import pandas as pd

from journeykit import facts
from journeykit.data.query import in_window, month_frame, month_of, trailing_months, ts
from journeykit.sections import registry
from journeykit.stats import compare

STEPS = ("visit", "product_view", "add_to_cart", "checkout_start", "purchase")
"""Funnel steps, in order (canonical event types)."""
PAGE_TYPES = ("visit", "page_view", "product_view", "pricing_view")
"""Event types counted as page views when the export has no ``page`` column."""
OTHER = facts.OTHER
"""The breakdown row of groups folded for being small."""
UNKNOWN = facts.UNKNOWN
"""The group of journeys without a device or channel."""
BREAKDOWNS = ("device", "channel")
"""The columns the funnel can be split by."""
STABLE_KEYS = registry.get("20_consideration").stable_keys
"""The stable ``metrics.json`` keys of the section (each also with ``_prev``)."""
RATE_EVENTS = {"product_view_rate": ("product_view",), "add_to_cart_rate": ("product_view", "add_to_cart"),
               "checkout_rate": ("product_view", "add_to_cart", "checkout_start"), "pricing_view_rate": ("pricing_view",)}
"""The event types each visit rate needs: a client whose events never
contain one of them does not track that step, and the rate is ``None``
("not tracked"), not 0 (:func:`untracked_rates`)."""
NOTES = ("no_visit_events", "user_day_sessions", "page_types", "no_duration",
         "untracked_product_view", "untracked_add_to_cart", "untracked_checkout_start", "untracked_pricing_view",
         "no_device", "no_channel", "no_first_purchase")
"""What :func:`data_notes` may say about the client's events, in order."""


# --------------------------------------------------------------------------
# What the client's events allow
# --------------------------------------------------------------------------

def _columns(ds) -> list[str]:
    return list(ds.table("events").columns)


def has_visit_events(ds) -> bool:
    """Whether the client sends ``visit`` events at all (else every session
    counts as a visit)."""
    def check():
        e = ds.table("events")
        return bool(e.filter(e.event_type == "visit").limit(1).count().execute())

    return ds.memo(("consideration_has_visit",), check)


def event_types(ds) -> frozenset[str]:
    """The (canonical) event types present in the client's events up to the
    period end; empty without an events table."""
    def query():
        if not ds.has("events"):
            return frozenset()
        e = ds.table("events")
        return frozenset(str(x) for x in e.select("event_type").distinct().execute()["event_type"].dropna())

    return ds.memo(("consideration_event_types",), query)


def untracked_rates(ds) -> tuple[str, ...]:
    """The visit rates (keys of :data:`RATE_EVENTS`) whose event types never
    occur in the client's events: those steps are not tracked, so the rate
    is ``None`` in every period, not 0 %."""
    have = event_types(ds)
    return tuple(k for k, need in RATE_EVENTS.items() if not set(need) <= have)


def _tracked(ds, key: str, value):
    """``value``, or ``None`` when the rate ``key`` is not tracked."""
    return None if key in untracked_rates(ds) else value


def can_time_first_purchase(ds) -> bool:
    """Whether time from first visit to first purchase can be measured:
    events that carry a ``customer_id`` (to tie visits to a buyer) and
    orders (:func:`journeykit.facts.purchases`; an events-only client's
    orders are derived from its ``purchase`` events)."""
    return "customer_id" in _columns(ds) and ds.has("orders")


def data_notes(ds) -> list[str]:
    """What the reader should know about the client's events, each once
    (keys of :data:`NOTES`): the rules that stand in for a missing input
    (``no_visit_events``: every session is a visit; ``user_day_sessions``:
    no ``session_id``, a session is a user's day; ``page_types``: no
    ``page``, page-like event types are counted) and the analyses skipped
    (``untracked_<event type>``: no such event at all, its rate not shown;
    ``no_duration``: no time on site; ``no_device`` / ``no_channel``: no
    breakdown; ``no_first_purchase``: no time to first purchase)."""
    cols = _columns(ds)
    out = []
    if not has_visit_events(ds):
        out.append("no_visit_events")
    if "session_id" not in cols:
        out.append("user_day_sessions")
    if "page" not in cols:
        out.append("page_types")
    if "duration_s" not in cols:
        out.append("no_duration")
    have = event_types(ds)
    out += [f"untracked_{t}" for t in ("product_view", "add_to_cart", "checkout_start", "pricing_view")
            if t not in have]
    out += [f"no_{c}" for c in BREAKDOWNS if c not in cols]
    if not can_time_first_purchase(ds):
        out.append("no_first_purchase")
    return out


# --------------------------------------------------------------------------
# Sessions and journeys (Ibis, on the engine)
# --------------------------------------------------------------------------

def _events(ds, start: dt.date, end: dt.date):
    """Events in ``[start, end)`` with ``user`` and ``sid`` (session key) columns."""
    e = in_window(ds.table("events"), "occurred_at", start, end)
    cols = e.columns
    ids = [e[c] for c in ("customer_id", "visitor_id") if c in cols]
    user = ibis.coalesce(*ids) if len(ids) > 1 else ids[0]
    day = user.concat("|", e.occurred_at.date().cast("string"))
    sid = ibis.coalesce(e.session_id.cast("string"), day) if "session_id" in cols else day
    e = e.mutate(user=user, sid=sid)
    return e.filter(e.user.notnull())


def _ordered(base, ev, key: str, first_col: str, deadline=None):
    """Add ``t_<step>`` for each step after the first: the earliest time of
    that step's event at or after the time of the previous step (equal
    timestamps count as in order), and before ``deadline`` when given, per
    ``key``. Taking the earliest qualifying event at every step finds a
    journey's furthest step whatever the order of the rows.

    The steps are found on a narrow chain (key, times so far) that each
    step extends with one left join and one aggregation, so the query grows
    linearly with the steps. (Joining each step onto the full table joined
    so far made every step evaluate the previous ones twice: 16 evaluations
    of the first step for a five-step funnel, 7 s for one month of 4.7 M
    events.)"""
    chain = base.select(key, first_col, *([deadline] if deadline else []))
    prev = first_col
    for step in STEPS[1:]:
        s = ev.filter(ev.event_type == step).select(_k=ev[key], _t=ev.occurred_at)
        cond = [chain[key] == s._k, s._t >= chain[prev]]
        if deadline:
            cond.append(s._t < chain[deadline])
        j = chain.left_join(s, cond)
        carried = {c: j[c].min() for c in chain.columns if c != key}
        chain = j.group_by(key).agg(**carried, **{f"t_{step}": j._t.min()})
        prev = f"t_{step}"
    found = chain.select(chain[key].name("_key"), *[f"t_{step}" for step in STEPS[1:]])
    return base.left_join(found, base[key] == found._key).drop("_key")


def session_table(ds, start: dt.date, end: dt.date, steps: bool = True):
    """One row per visit (session with a visit event) starting in
    ``[start, end)``: ``sid``, ``user``, ``start`` (first event),
    ``t_visit`` (= ``start``: a visit begins with its session), ``month``
    and ``channel`` (of the session's first visit event, when the export
    has one). Unless ``steps`` is false (counting visits needs none of it,
    and the steps cost one join each), also ``device`` (likewise), ``pages``
    (events with a page; page-like event types without a ``page`` column),
    ``dwell_s`` (sum of ``duration_s``; only with that column),
    ``pricing`` (1 with a pricing-page view) and ``t_<step>`` for each
    funnel step reached in order (null if not; see the module's rule)."""
    e = _events(ds, start, end)
    cols = e.columns
    is_visit = (e.event_type == "visit") if has_visit_events(ds) else e.event_type.notnull()
    aggs = dict(user=e.user.min(), start=e.occurred_at.min(), _visit=is_visit.cast("int64").max())
    extra = ["channel"] + (["device"] if steps else [])
    for c in extra:
        if c in cols:
            # the visit's own: with equal timestamps "the first event" would be any of them
            aggs[c] = e[c].argmin(e.occurred_at, where=is_visit)
    if steps:
        page = e.page.notnull() if "page" in cols else e.event_type.isin(PAGE_TYPES)
        aggs |= dict(pages=page.cast("int64").sum(), pricing=(e.event_type == "pricing_view").cast("int64").max())
        if "duration_s" in cols:
            aggs["dwell_s"] = e.duration_s.sum()
    s = e.group_by("sid").agg(**aggs)
    s = s.filter(s._visit == 1).drop("_visit")
    s = s.mutate(t_visit=s.start, month=month_of(s.start))
    return _ordered(s, e, "sid", "t_visit") if steps else s


def sessions_of(ds, start: dt.date, end: dt.date):
    """:func:`session_table` of ``[start, end)`` (with its steps). The
    dataset's own period and the one before are computed once and kept on
    the engine (:meth:`~journeykit.data.dataset.Dataset.materialize`): the
    period's daily figures, funnel, conversion by device and by channel and
    browsing add-to-cart rate all read the same visits (on the large demo
    data each build took 2.3 s, five builds for the period). Other months,
    read once each by the trend, are computed where they are used."""
    p = ds.cfg.period
    kept = {(p.start, p.end), (p.previous().start, p.previous().end)}
    if (start, end) not in kept:
        return session_table(ds, start, end)
    return ds.memo(("consideration_sessions", start, end), lambda: ds.materialize(session_table(ds, start, end)))


def journeys(ds, start: dt.date, end: dt.date, cfg=None):
    """The units of the funnel in ``[start, end)`` under the client's funnel rule.

    ``funnel_window: session``: one row per visit (see :func:`session_table`).
    ``funnel_window: days``: one row per user, entering at her first visit in
    the window; each later step must follow the previous one (ties in
    order) and fall within ``funnel_window_days`` days of that entry (and
    before ``end``). Device and channel are those of the entry visit.
    Columns: ``user``, ``device``, ``channel`` (when available), ``t_visit``
    and ``t_<step>``.
    """
    cfg = cfg or ds.cfg
    s = sessions_of(ds, start, end)
    if cfg.definitions.funnel_window != "days":
        return s
    keep = ["user", "t_visit"] + [c for c in BREAKDOWNS if c in s.columns]
    first = s.select(*keep)
    agg = {"t_visit": first.t_visit.min()}
    for c in BREAKDOWNS:
        if c in first.columns:
            agg[c] = first[c].argmin(first.t_visit)
    u = first.group_by("user").agg(**agg)
    days = int(cfg.definitions.funnel_window_days)
    u = u.mutate(deadline=u.t_visit + ibis.interval(days=days))
    return _ordered(u, _events(ds, start, end), "user", "t_visit", deadline="deadline").drop("deadline")


# --------------------------------------------------------------------------
# KPIs of one period
# --------------------------------------------------------------------------

def _period_stats(ds, start: dt.date, end: dt.date) -> dict:
    """Visit counts and moments of ``[start, end)``, computed once per window
    (from the daily figures, :func:`daily_stats`)."""
    return ds.memo(("consideration_stats", start, end), lambda: _visit_stats(daily_stats(ds, start, end)))


DAILY_COUNTS = ("sessions", "product_view", "add_to_cart", "checkout_start", "purchase", "pricing")


def daily_stats(ds, start: dt.date, end: dt.date) -> pd.DataFrame:
    """One row per day of ``[start, end)`` (``day``, a date; days without
    visits hold 0) with the visits that started that day (``sessions``),
    those reaching each funnel step in order (``product_view``,
    ``add_to_cart``, ``checkout_start``, ``purchase``) or viewing pricing
    (``pricing``), and the sums behind the per-visit means: ``pages`` and
    ``pages2`` (pages per visit, summed and squared), with ``duration_s``
    also ``dwell``, ``dwell2`` and ``dwell_n`` (visits with a known
    duration). The clusters of the period-over-period tests."""
    return ds.memo(("consideration_daily", start, end), lambda: _daily_stats(ds, start, end))


def _daily_stats(ds, start: dt.date, end: dt.date) -> pd.DataFrame:
    s = sessions_of(ds, start, end)
    s = s.mutate(_day=s.start.date())
    aggs = dict(
        sessions=s.count(),
        product_view=s.t_product_view.notnull().cast("int64").sum(),
        add_to_cart=s.t_add_to_cart.notnull().cast("int64").sum(),
        checkout_start=s.t_checkout_start.notnull().cast("int64").sum(),
        purchase=s.t_purchase.notnull().cast("int64").sum(),
        pricing=s.pricing.sum(),
        pages=s.pages.sum(), pages2=(s.pages * s.pages).sum(),
    )
    if "dwell_s" in s.columns:
        aggs |= dict(dwell=s.dwell_s.sum(), dwell2=(s.dwell_s * s.dwell_s).sum(), dwell_n=s.dwell_s.count())
    got = s.group_by("_day").aggregate(**aggs).execute()
    days = pd.DataFrame({"day": pd.date_range(start, end - dt.timedelta(days=1), freq="D").date})
    got["_day"] = pd.to_datetime(got["_day"]).dt.date
    out = days.merge(got.rename(columns={"_day": "day"}), on="day", how="left")
    for k in aggs:
        out[k] = pd.to_numeric(out[k], errors="coerce").fillna(0.0).astype(float)
    return out


def _moments(total: float, total2: float, n: float) -> tuple[float | None, float | None]:
    """Mean and sample standard deviation from a sum, a sum of squares and a count."""
    if not n:
        return None, None
    m = total / n
    if n < 2:
        return m, None
    return m, max(0.0, (total2 - total * total / n) / (n - 1)) ** 0.5


def _visit_stats(d: pd.DataFrame) -> dict:
    out = {k: float(d[k].sum()) for k in DAILY_COUNTS}
    out["pages_mean"], out["pages_sd"] = _moments(d["pages"].sum(), d["pages2"].sum(), out["sessions"])
    if "dwell" in d.columns:
        n = float(d["dwell_n"].sum())
        out["dwell_mean"], out["dwell_sd"] = _moments(d["dwell"].sum(), d["dwell2"].sum(), n)
        out["dwell_n"] = n
    return out


def sessions(ds, period) -> int:
    """Visits: sessions containing a ``visit`` event that start in the
    period (every session when the client sends no ``visit`` events).
    Unit: count."""
    return int(_period_stats(ds, period.start, period.end)["sessions"])


def product_view_rate(ds, period) -> float | None:
    """Share of the period's visits with a product view after the visit
    began. Numerator: visits with a ``product_view``; denominator: visits.
    Unit: 0–1; ``None`` without visits."""
    v = _period_stats(ds, period.start, period.end)
    return _tracked(ds, "product_view_rate", compare.safe_div(v["product_view"], v["sessions"]))


def add_to_cart_rate(ds, period) -> float | None:
    """Share of the period's visits with an add to cart after a product
    view (in order). Numerator: visits reaching ``add_to_cart``;
    denominator: all visits. Unit: 0–1."""
    v = _period_stats(ds, period.start, period.end)
    return _tracked(ds, "add_to_cart_rate", compare.safe_div(v["add_to_cart"], v["sessions"]))


def checkout_rate(ds, period) -> float | None:
    """Share of the period's visits that start checkout after viewing a
    product and adding it to the cart (in order). Numerator: visits
    reaching ``checkout_start``; denominator: all visits. Unit: 0–1."""
    v = _period_stats(ds, period.start, period.end)
    return _tracked(ds, "checkout_rate", compare.safe_div(v["checkout_start"], v["sessions"]))


def pricing_view_rate(ds, period) -> float | None:
    """Share of the period's visits with a pricing-page view
    (``pricing_view``). Numerator: visits with one; denominator: visits.
    Unit: 0–1; ``None`` without visits, or when the client's events have no
    ``pricing_view`` at all (not tracked, :func:`untracked_rates`; likewise
    for the other visit rates)."""
    v = _period_stats(ds, period.start, period.end)
    return _tracked(ds, "pricing_view_rate", compare.safe_div(v["pricing"], v["sessions"]))


def pages_per_session(ds, period) -> float | None:
    """Mean pages per visit in the period: events with a ``page`` (or, with
    no ``page`` column, visit/page/product/pricing views) per visit.
    Unit: pages; ``None`` without visits."""
    v = _period_stats(ds, period.start, period.end)
    return v["pages_mean"] if v["sessions"] else None


def dwell_time(ds, period) -> float | None:
    """Mean time on site per visit in the period: the sum of ``duration_s``
    over a visit's events, averaged over visits that report durations.
    Unit: seconds; ``None`` without a ``duration_s`` column or visits."""
    return _period_stats(ds, period.start, period.end).get("dwell_mean")


def funnel(ds, period, cfg=None) -> pd.DataFrame:
    """Users reaching each funnel step in the period, in order, under the
    client's funnel rule (see the module docstring and :func:`journeys`).

    Columns: ``step``, ``users`` (distinct users who reached the step in at
    least one journey), ``conversion_from_previous`` (users / users at the
    previous step, 0–1; null for the first step and after an empty step)
    and ``conversion_from_visit``. Computed once per period and settings.
    """
    cfg = cfg or ds.cfg

    def query():
        j = journeys(ds, period.start, period.end, cfg)
        aggs = {step: j.user.nunique(where=j[f"t_{step}"].notnull()) for step in STEPS}
        row = j.aggregate(**aggs).execute().iloc[0]
        return [0 if pd.isna(row[s]) else int(row[s]) for s in STEPS]

    users = ds.memo(("consideration_funnel", period.start, period.end), query, cfg)
    conv = [None] + [compare.safe_div(users[i], users[i - 1]) for i in range(1, len(STEPS))]
    overall = [compare.safe_div(u, users[0]) for u in users]
    return pd.DataFrame({"step": list(STEPS), "users": users, "conversion_from_previous": conv,
                         "conversion_from_visit": overall})


def funnel_records(df: pd.DataFrame) -> list[dict]:
    """The funnel as ``metrics.json`` wants it: ``[{step, users, conversion_from_previous}]``."""
    return [{"step": r.step, "users": int(r.users),
             "conversion_from_previous": None if pd.isna(r.conversion_from_previous) else float(r.conversion_from_previous)}
            for r in df.itertuples()]


TTP_BUCKETS = ((0, 1, "0"), (1, 2, "1"), (2, 8, "2–7"), (8, 31, "8–30"), (31, 91, "31–90"), (91, None, "91+"))
"""Buckets of whole days from first visit to first purchase: (from, to, name)."""


def days_to_first_purchase(ds, period) -> pd.DataFrame:
    """Per customer whose first order (:func:`journeykit.facts.purchases`)
    falls in ``period``: the days (fractional) from her first event of any
    kind to that order, column ``days``. A visitor's events before she had a
    customer id count as hers when the same ``visitor_id`` later appears
    with her ``customer_id``. Buyers without an event up to their first
    order (first seen after buying) are left out. Empty when the events
    carry no ``customer_id`` or there are no orders. One row per first-time
    buyer, sorted by ``customer_id``. Memoized on the dataset: the section's
    changes, its chart and its metrics ask for the same months (on the
    large demo data each answer scans 62 M events, 1.6 s)."""
    return ds.memo(("consideration_days_to_first_purchase", period.start, period.end),
                   lambda: _days_to_first_purchase(ds, period))


def _days_to_first_purchase(ds, period) -> pd.DataFrame:
    cols = ["customer_id", "days"]
    if not can_time_first_purchase(ds):
        return pd.DataFrame(columns=cols)
    p = facts.purchases(ds)
    first_buy = p.group_by(cid=p.customer_id).aggregate(first_buy=p.at.min())
    first_buy = first_buy.filter((first_buy.first_buy >= ts(period.start)) & (first_buy.first_buy < ts(period.end)))
    # Only the period's first-time buyers' events are grouped (a semi-join
    # first): grouping every customer's events, then keeping a few thousand,
    # took 4.8 s a month on the large demo data; 1.6 s this way.
    buyers = first_buy.select(bid="cid")
    e = ds.table("events")
    e = e.filter(e.occurred_at < ts(period.end))
    own = e.filter(e.customer_id.notnull()).select(cid=e.customer_id.cast("string"), occurred_at=e.occurred_at)
    seen = own.semi_join(buyers, own.cid == buyers.bid)
    if "visitor_id" in e.columns:
        link = e.filter(e.customer_id.notnull() & e.visitor_id.notnull()).select(
            vid=e.visitor_id, cid=e.customer_id.cast("string"))
        link = link.semi_join(buyers, link.cid == buyers.bid).distinct()
        anon = e.filter(e.customer_id.isnull() & e.visitor_id.notnull())
        anon = anon.join(link, anon.visitor_id == link.vid).select(cid=link.cid, occurred_at=anon.occurred_at)
        seen = seen.union(anon)
    first_seen = seen.group_by("cid").aggregate(first_seen=seen.occurred_at.min())
    j = first_buy.join(first_seen, "cid")
    j = j.filter(j.first_seen <= j.first_buy)
    secs = j.first_buy.epoch_seconds() - j.first_seen.epoch_seconds()
    df = j.select(customer_id=j.cid, days=secs / 86400.0).execute()
    return df.sort_values("customer_id", kind="stable").reset_index(drop=True)


def days_to_first_purchase_buckets(days: pd.Series) -> pd.DataFrame:
    """First-time buyers per bucket of whole days since first visit
    (:data:`TTP_BUCKETS`: 0 = same day, 1, 2–7, 8–30, 31–90, 91+):
    ``bucket``, ``buyers``, ``share`` (0–1; ``None`` without buyers)."""
    whole = pd.Series(days, dtype="float64").dropna().floordiv(1)
    rows = []
    for lo, hi, name in TTP_BUCKETS:
        n = int(((whole >= lo) & ((whole < hi) if hi is not None else True)).sum())
        rows.append({"bucket": name, "buyers": n, "share": n / len(whole) if len(whole) else None})
    return pd.DataFrame(rows)


def period_values(ds, period, cfg=None) -> dict:
    """Every consideration KPI of one month, with the counts behind them
    (``_stats``) and the ``funnel``; rates ``None`` without visits."""
    v = _period_stats(ds, period.start, period.end)
    n = v["sessions"]
    return {
        "sessions": n,
        "product_view_rate": _tracked(ds, "product_view_rate", compare.safe_div(v["product_view"], n)),
        "add_to_cart_rate": _tracked(ds, "add_to_cart_rate", compare.safe_div(v["add_to_cart"], n)),
        "checkout_rate": _tracked(ds, "checkout_rate", compare.safe_div(v["checkout_start"], n)),
        "pricing_view_rate": _tracked(ds, "pricing_view_rate", compare.safe_div(v["pricing"], n)),
        "pages_per_session": v["pages_mean"] if n else None,
        "dwell_s": v.get("dwell_mean") if n else None,
        "funnel": funnel(ds, period, cfg),
        "_stats": v,
    }


def has_last_year(ds, cfg) -> bool:
    """Whether the events reach back to the same month a year before the
    period (13 months or more of data): the key figures then show it."""
    first = ds.first_date("events")
    return first is not None and first <= cfg.period.shift(-12).start


def changes(ds, cfg) -> list[compare.Change]:
    """This period against the previous month, judged
    (:func:`journeykit.stats.compare.judge`). Visits cluster within days, so
    every visit KPI is tested on the daily figures (:func:`daily_stats`):
    visits as a count (quasi-Poisson, mean per day,
    :func:`compare.daily_count`), the visit rates as quasi-binomial rates
    (:func:`compare.clustered_rate`), pages and time per visit as means
    with a cluster-robust variance (:func:`compare.clustered_mean`; time
    only with ``duration_s``). The visit → purchase conversion counts each
    user once: a two-proportion z-test. The median days to a first purchase
    has no test (only when it can be measured). Each test is also held to
    the KPI's month-to-month movement over the trend window (:func:`monthly`;
    :func:`compare.month_variance`). With 13+ months of events, each KPI
    carries its value a year before."""
    p, q = cfg.period, cfg.period.previous()
    a, b = period_values(ds, p, cfg), period_values(ds, q, cfg)
    da, db = daily_stats(ds, p.start, p.end), daily_stats(ds, q.start, q.end)
    mn = cfg.definitions.min_sample_size
    fa, fb = a["funnel"], b["funnel"]
    trend = monthly(ds, cfg)

    def hist(col, per_day=False):
        return compare.history(trend, col, p, per_day=per_day, cfg=cfg)

    out = [compare.daily_count("sessions", da["sessions"], db["sessions"], min_n=mn, history=hist("sessions", True))]
    for key, num in (("product_view_rate", "product_view"), ("add_to_cart_rate", "add_to_cart"),
                     ("checkout_rate", "checkout_start"), ("pricing_view_rate", "pricing")):
        if key in untracked_rates(ds):
            out.append(compare.value(key, None, None, higher_is_better=None, described="not_tracked"))
            continue
        out.append(compare.clustered_rate(key, da[num], da["sessions"], db[num], db["sessions"], min_n=mn,
                                          higher_is_better=None if key == "pricing_view_rate" else True,
                                          history=hist(key)))
    out.append(compare.rate("visit_to_purchase", fa.users.iloc[-1], fa.users.iloc[0],
                            fb.users.iloc[-1], fb.users.iloc[0], min_n=mn))
    out.append(compare.clustered_mean("pages_per_session", da["pages"], da["sessions"], db["pages"], db["sessions"],
                                      min_n=mn, higher_is_better=None, history=hist("pages_per_session")))
    if "dwell" in da.columns:
        out.append(compare.clustered_mean("dwell_s", da["dwell"], da["dwell_n"], db["dwell"], db["dwell_n"],
                                          min_n=mn, higher_is_better=None, history=hist("dwell_s")))
    if can_time_first_purchase(ds):
        dd, dp = days_to_first_purchase(ds, p)["days"], days_to_first_purchase(ds, q)["days"]
        out.append(compare.value("days_to_first_purchase", dd.median() if len(dd) else None,
                                 dp.median() if len(dp) else None, higher_is_better=False))
    last = None
    if has_last_year(ds, cfg):
        v = period_values(ds, cfg.period.shift(-12), cfg)
        fy = v["funnel"]
        last = {k: v.get(k) for k in ("sessions", "product_view_rate", "add_to_cart_rate", "checkout_rate",
                                      "pricing_view_rate", "pages_per_session", "dwell_s")}
        last["visit_to_purchase"] = compare.safe_div(fy.users.iloc[-1], fy.users.iloc[0]) if len(fy) else None
    return compare.with_last_year(compare.judge(out, cfg, first_date=ds.first_date()), last)


RATE_EVENTS_COUNT = {"product_view_rate": "product_view", "add_to_cart_rate": "add_to_cart",
                     "checkout_rate": "checkout_start", "pricing_view_rate": "pricing"}
"""The daily-count column (:data:`DAILY_COUNTS`) behind each visit rate."""


def monthly(ds, cfg) -> pd.DataFrame:
    """One row per month of the trend window from the first month with
    events (``ds.first_date("events")``): ``sessions``, the visit rates
    (``product_view_rate``, ``add_to_cart_rate``, ``checkout_rate``,
    ``purchase_rate``, ``pricing_view_rate``), ``pages_per_session`` and,
    with ``duration_s``, ``dwell_s``; months without visits are gaps (rates
    NaN), and so is a rate the client does not track (:func:`untracked_rates`). Computed month by month from the period figures, so the trend's
    last point is the KPI shown; one query over the whole trend window held
    every session of a year in memory at once."""
    since = ds.first_date("events")
    rows = []
    for p in trailing_months(cfg, since=since):
        st = _period_stats(ds, p.start, p.end)
        n = st["sessions"] or 0.0

        untracked = {RATE_EVENTS_COUNT[k] for k in untracked_rates(ds)}

        def rate(k):
            return st[k] / n if n and k not in untracked else float("nan")

        row = {"month": pd.Timestamp(p.start), "sessions": n, "product_view_rate": rate("product_view"),
               "add_to_cart_rate": rate("add_to_cart"), "checkout_rate": rate("checkout_start"),
               "purchase_rate": rate("purchase"), "pricing_view_rate": rate("pricing"),
               "pages_per_session": st["pages_mean"] if n else float("nan")}
        if "dwell_mean" in st:
            row["dwell_s"] = st["dwell_mean"] if n and st["dwell_mean"] is not None else float("nan")
        rows.append(row)
    df = pd.DataFrame(rows)
    df["month"] = df["month"].astype("datetime64[ns]")
    frame = month_frame(cfg, since=since)
    frame["month"] = frame["month"].astype("datetime64[ns]")
    return frame.merge(df, on="month", how="left")


# --------------------------------------------------------------------------
# Breakdowns
# --------------------------------------------------------------------------

def step_conversion_by(ds, period, by: str, cfg=None) -> pd.DataFrame | None:
    """Step-to-step conversion of the period's journeys (visits under the
    session rule, users under the days rule) by ``device`` or ``channel``
    of the visit.

    Columns: the group (a missing value as :data:`UNKNOWN`), ``journeys``
    (visits or users), one count column per step and ``<step>_rate`` =
    journeys reaching the step / journeys reaching the previous step (0–1;
    its complement is the drop-off; NaN after an empty step). Groups with
    fewer than max(min_group_size, k_anonymity) journeys fold into
    :data:`OTHER` (rates recomputed from the summed counts). ``None`` when
    the events lack ``by``.
    """
    cfg = cfg or ds.cfg
    if by not in BREAKDOWNS:
        raise ValueError(f"by must be one of {', '.join(BREAKDOWNS)}, not {by!r}")
    if by not in _columns(ds):
        return None

    def query():
        j = journeys(ds, period.start, period.end, cfg)
        g = j.mutate(grp=j[by].cast("string").fill_null(UNKNOWN))
        aggs = {step: g[f"t_{step}"].notnull().cast("int64").sum() for step in STEPS}
        return g.group_by("grp").agg(**aggs).execute().rename(columns={"grp": by})

    df = ds.memo(("consideration_by", by, period.start, period.end), query, cfg)
    df = df.astype({s: "float64" for s in STEPS})
    df["journeys"] = df["visit"]
    minimum = max(cfg.definitions.min_group_size, cfg.definitions.k_anonymity)
    df = compare.fold_small(df, by, "journeys", minimum, other=OTHER, sum_columns=list(STEPS) + ["journeys"])
    for i in range(1, len(STEPS)):
        df[f"{STEPS[i]}_rate"] = [compare.safe_div(a, b) for a, b in zip(df[STEPS[i]], df[STEPS[i - 1]])]
    cols = [by, "journeys", *STEPS, *[f"{s}_rate" for s in STEPS[1:]]]
    return df.reindex(columns=cols).astype({c: "float64" for c in cols[1:]})


def browse_cart_rate_by_device(ds, start: dt.date, end: dt.date, min_size: int = 0) -> pd.DataFrame | None:
    """Add to cart given a product view in visits that did not end in a
    purchase, by device, over ``[start, end)``: ``device`` (missing as
    :data:`UNKNOWN`), ``product_views`` (visits with a product view),
    ``carts`` and ``rate`` (0–1). This isolates browsing behaviour from
    purchase visits, which complete the funnel by construction. Devices
    with fewer than ``min_size`` such visits fold into :data:`OTHER`.
    ``None`` when the events have no ``device``."""
    if "device" not in _columns(ds):
        return None
    s = sessions_of(ds, start, end)
    s = s.filter(s.t_purchase.isnull() & s.t_product_view.notnull())
    df = s.group_by(device=s.device.cast("string").fill_null(UNKNOWN)).agg(
        product_views=s.count(), carts=s.t_add_to_cart.notnull().cast("int64").sum()).execute()
    df = df.astype({"product_views": "float64", "carts": "float64"})
    if min_size:
        df = compare.fold_small(df, "device", "product_views", min_size, other=OTHER,
                                sum_columns=["product_views", "carts"])
    else:
        df = df.sort_values("device").reset_index(drop=True)
    df["rate"] = df["carts"] / df["product_views"]
    return df


# --------------------------------------------------------------------------
# The section at once
# --------------------------------------------------------------------------

@dataclass
class Consideration:
    """Everything the consideration notebook shows, computed once (the view
    functions of :mod:`journeykit.sections.consideration.view` take its parts)."""

    notes: list[str]
    """What the reader should know about the events (:func:`data_notes`)."""
    changes: list
    """This period against the previous (:func:`changes`)."""
    funnel: pd.DataFrame
    """The period's funnel (:func:`funnel`)."""
    by_device: pd.DataFrame | None
    """Step conversion by device (:func:`step_conversion_by`)."""
    by_channel: pd.DataFrame | None
    """Step conversion by channel."""
    browse_cart: pd.DataFrame | None
    """Browsing add-to-cart rate by device this period (:func:`browse_cart_rate_by_device`)."""
    first_purchase_days: pd.DataFrame
    """Days from first visit to first purchase (:func:`days_to_first_purchase`)."""
    monthly: pd.DataFrame
    """The trend (:func:`monthly`)."""


def compute(ds, cfg) -> Consideration:
    """Every number of the section for ``cfg``'s period (see :class:`Consideration`)."""
    p = cfg.period
    minimum = max(cfg.definitions.min_group_size, cfg.definitions.k_anonymity)
    return Consideration(notes=data_notes(ds), changes=changes(ds, cfg), funnel=funnel(ds, p, cfg),
                         by_device=step_conversion_by(ds, p, "device", cfg),
                         by_channel=step_conversion_by(ds, p, "channel", cfg),
                         browse_cart=browse_cart_rate_by_device(ds, p.start, p.end, minimum),
                         first_purchase_days=days_to_first_purchase(ds, p), monthly=monthly(ds, cfg))


# --------------------------------------------------------------------------
# metrics.json
# --------------------------------------------------------------------------

def metrics(ds, cfg) -> dict:
    """The section's ``metrics.json`` entries: the stable keys ``sessions``,
    ``product_view_rate``, ``add_to_cart_rate``, ``checkout_rate``,
    ``funnel`` (list of ``{step, users, conversion_from_previous}``), each
    with ``_prev``; plus ``pricing_view_rate``, ``visit_to_purchase``,
    ``pages_per_session``, ``dwell_s`` and ``days_to_first_purchase`` (with
    ``_prev``, where the events allow them) and ``funnel_window``. ``None``
    where not computable (no events table)."""
    out = {k: None for key in STABLE_KEYS for k in (key, f"{key}_prev")}
    if not ds.has("events"):
        return out
    out.update(compare.to_metrics(*changes(ds, cfg)))
    out["funnel"] = funnel_records(funnel(ds, cfg.period, cfg))
    out["funnel_prev"] = funnel_records(funnel(ds, cfg.period.previous(), cfg))
    out["funnel_window"] = cfg.definitions.funnel_window
    return out


__all__ = ["STEPS", "PAGE_TYPES", "OTHER", "UNKNOWN", "BREAKDOWNS", "STABLE_KEYS", "NOTES", "RATE_EVENTS", "RATE_EVENTS_COUNT", "event_types", "untracked_rates", "has_visit_events",
           "can_time_first_purchase", "data_notes", "session_table", "sessions_of", "journeys", "sessions", "product_view_rate",
           "add_to_cart_rate", "checkout_rate", "pricing_view_rate", "pages_per_session", "dwell_time", "funnel",
           "funnel_records", "TTP_BUCKETS", "days_to_first_purchase", "days_to_first_purchase_buckets",
           "period_values", "changes", "monthly", "step_conversion_by", "browse_cart_rate_by_device",
           "Consideration", "compute", "metrics"]
