"""Retention: who stays, how often they come back, and who leaves — the
numbers (no text, no charts: :mod:`.view` shows them).

Activity and purchases are :mod:`journeykit.facts`' definitions: a
customer is *active* on a day with an event under her ``customer_id`` or an
``orders`` row of any status (a failed payment is contact too); a
*purchase* is an order (status ``paid`` or empty). Anonymous events
(``visitor_id`` only) are not activity. A client without an orders table
has its ``purchase`` events as orders.

Everything works from ``orders`` alone or ``events`` alone; session length
needs ``events.session_id``, feature usage ``events.feature``, renewals and
MRR churn ``subscriptions`` (MRR churn its ``mrr``), tickets and CSAT
``tickets`` (CSAT its ``csat``): their values are ``None`` without them.
Only rows before the period end are used, so a past month re-runs
identically. Settings are read from the ``cfg`` each function is given
(churn window ``definitions.churn_inactivity_days``, renewal cycle
``definitions.subscription_renewal_days``, …), never from the dataset's.

Months are calendar months. "Month *k* after sign-up" is the calendar
month *k* months after the sign-up month (month 0 is the sign-up month).
Monthly lifecycle states are :data:`journeykit.facts.MONTHLY_STATES`
(PostHog's vocabulary, in that order).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import ibis
import pandas as pd
from ibis import _

from journeykit import facts
from journeykit.core.periods import Period
from journeykit.data.query import daily, in_window, trailing_months, ts
from journeykit.sections import registry
from journeykit.stats import compare

STABLE_KEYS = registry.get("40_retention").stable_keys
"""The metrics.json keys of this section that are a stable interface (each also with ``_prev``)."""

EXTRA_KEYS = ("dau", "mrr_churn", "session_minutes", "inter_purchase_days")
"""Further metrics.json keys (each also with ``_prev``)."""

OTHER = facts.OTHER
"""The key of the row small groups fold into (the view names it)."""

UNKNOWN = facts.UNKNOWN
"""The key of the group whose breakdown column is empty (the view names it)."""


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------

def _mi(col):
    """Month index (year × 12 + month − 1) of a timestamp column."""
    return col.year() * 12 + col.month() - 1


def _pmi(p: Period) -> int:
    return p.year * 12 + p.month - 1


def _period_of(mi: int) -> Period:
    return Period(mi // 12, mi % 12 + 1)


def _customer_months(ds, by: str = "activity"):
    a = facts.activity_days(ds, by)
    if a is None:
        return None
    return a.select("customer_id", mi=_mi(a.day)).distinct()


def _count(expr) -> int:
    v = expr.execute()
    return 0 if v is None or (isinstance(v, float) and math.isnan(v)) else int(v)


def _stats(t, col: str) -> tuple[float | None, float, int]:
    """(mean, sample sd, n) of a column, computed on the engine."""
    r = t.aggregate(m=t[col].mean(), s=t[col].std(how="sample"), n=t[col].count()).execute().iloc[0]
    n = int(r["n"] or 0)
    m = None if n == 0 or pd.isna(r["m"]) else float(r["m"])
    s = 0.0 if n < 2 or pd.isna(r["s"]) else float(r["s"])
    return m, s, n


def _has_column(ds, table: str, column: str) -> bool:
    return ds.has(table) and column in ds.raw(table).columns


def _customers(ds):
    c = ds.table("customers")
    return c.select(customer_id=c.customer_id.cast("string"), cmi=_mi(c.signup_at))


def trend_start(ds) -> dt.date | None:
    """The first day with activity data (orders, or events with customer
    ids): trends and the lifecycle start in its month."""
    sources = facts.activity_sources(ds)
    return ds.first_date(*sources) if sources else None


def trend_months(ds, cfg) -> list[Period]:
    """The months of the trends: the trend window
    (``definitions.trend_periods`` months ending with the period), from the
    month of :func:`trend_start` on."""
    return trailing_months(cfg, trend_start(ds))


def orders_from_events(ds) -> bool:
    """Whether the client's orders (its purchases) are derived from its
    ``purchase`` events (it sent no orders table)."""
    t = ds.report.tables.get("orders")
    return t is not None and t.status == "derived"


# --------------------------------------------------------------------------
# KPIs of one period
# --------------------------------------------------------------------------

def active_customers(ds, cfg, period: Period) -> int | None:
    """Customers with any activity in the ``churn_inactivity_days`` days
    ending at the period end — the live customer base under the client's
    churn definition. Unit: customers. ``None`` without activity data."""
    a = facts.activity_days(ds)
    if a is None:
        return None
    w = cfg.definitions.churn_inactivity_days
    return _count(in_window(a, "day", period.end - dt.timedelta(days=w), period.end).customer_id.nunique())


def mau(ds, cfg, period: Period) -> int | None:
    """Monthly active customers: distinct customers with activity in the
    calendar month (start ≤ t < end). Unit: customers."""
    a = facts.activity_days(ds)
    if a is None:
        return None
    return _count(in_window(a, "day", period.start, period.end).customer_id.nunique())


def stickiness(ds, cfg, period: Period) -> dict:
    """Daily, weekly and monthly active customers of the period.

    - ``dau``: distinct active customers per day, averaged over the days of
      the month (days without activity count as 0);
    - ``wau``: distinct customers active in the 7 days ending on each day of
      the month, averaged over the days;
    - ``mau``: distinct customers active in the month;
    - ``dau_mau`` (stickiness) = ``dau / mau``, 0–1. It equals the mean, over
      the month's active customers, of the share of the month's days on which
      each was active; ``sd`` and ``n`` are that per-customer share's standard
      deviation and count (for Welch's test).
    """
    out = {"dau": None, "wau": None, "mau": None, "dau_mau": None, "sd": 0.0, "n": 0}
    a = facts.activity_days(ds)
    if a is None:
        return out
    days = a.select("customer_id", "day")
    recent = in_window(days, "day", period.start - dt.timedelta(days=6), period.end)
    in_p = in_window(recent, "day", period.start, period.end)
    per_customer = in_p.group_by("customer_id").aggregate(share=in_p.day.count() / period.days)
    m, s, n = _stats(per_customer, "share")
    customer_days = _count(in_p.count())
    shifted = ibis.union(*[recent.mutate(day=recent.day + ibis.interval(days=k)) for k in range(7)], distinct=False)
    shifted = in_window(shifted, "day", period.start, period.end)
    weekly = shifted.group_by("day").aggregate(u=shifted.customer_id.nunique())
    wau_sum = _count(weekly.u.sum())
    out.update(dau=customer_days / period.days, wau=wau_sum / period.days, mau=n, dau_mau=m, sd=s, n=n)
    return out


def month_k_retention(ds, cfg, period: Period, k: int, by: str = "activity") -> tuple[int, int]:
    """Month-``k`` retention measured in ``period``.

    Denominator: customers who signed up in the month ``k`` months before
    the period (``customers.signup_at``). Numerator: those of them active
    (``by="activity"``) or purchasing (``by="purchase"``) in the period.
    Returns ``(retained, cohort size)``; the rate is their ratio, 0–1.
    """
    if not ds.has("customers"):
        return 0, 0
    cohort_p = period.shift(-k)
    c = ds.table("customers")
    cohort = in_window(c, "signup_at", cohort_p.start, cohort_p.end).select(customer_id=c.customer_id.cast("string"))
    n = _count(cohort.count())
    a = facts.activity_days(ds, by)
    if a is None or n == 0:
        return 0, n
    act = in_window(a, "day", period.start, period.end).select("customer_id").distinct()
    return _count(cohort.semi_join(act, "customer_id").count()), n


def repeat_purchase(ds, cfg, period: Period) -> tuple[int, int]:
    """Repeat-purchase rate of the period.

    Denominator: customers with at least one purchase in the period.
    Numerator: those of them with at least two purchases up to the period
    end (an earlier purchase, before or within the period). Rate 0–1.
    """
    p = facts.purchases(ds)
    if p is None:
        return 0, 0
    buyers = in_window(p, "at", period.start, period.end).select("customer_id").distinct()
    before = p.filter(p.at < ts(period.end))
    counts = before.group_by("customer_id").aggregate(k=before.at.count())
    b = buyers.join(counts, "customer_id")
    return _count(b.filter(b.k >= 2).count()), _count(b.count())


def churn_flags(ds, cfg, period: Period):
    """Per-customer churn flags of the period (an Ibis table
    ``customer_id, churned``) for the customers in the churn base; see
    :func:`churn`. ``None`` without activity data."""
    a = facts.activity_days(ds)
    if a is None:
        return None
    w = dt.timedelta(days=cfg.definitions.churn_inactivity_days)
    base = in_window(a, "day", period.start - w, period.start).select("customer_id").distinct()
    still = in_window(a, "day", period.end - w, period.end).select("customer_id").distinct().mutate(seen=ibis.literal(1))
    j = base.left_join(still, "customer_id")
    return j.select(customer_id=base.customer_id, churned=j.seen.isnull())


def churn(ds, cfg, period: Period) -> tuple[int, int]:
    """Churn rate under the client's inactivity window ``W``
    (``definitions.churn_inactivity_days``).

    Denominator: customers active in the ``W`` days before the period start
    (the live base at the start). Numerator: those of them with no activity
    in the ``W`` days ending at the period end — their ``W``-day silence was
    completed during the period. Uses no data after the period end. Rate
    0–1, per month. Returns ``(churned, base)``.
    """
    f = churn_flags(ds, cfg, period)
    if f is None:
        return 0, 0
    r = f.aggregate(n=f.count(), x=f.churned.cast("int64").sum()).execute().iloc[0]
    return int(r["x"] or 0), int(r["n"] or 0)


def _paid_subscriptions(ds):
    s = ds.table("subscriptions")
    return s.filter(~facts.is_trial(s.plan)) if "plan" in s.columns else s


def renewals(ds, cfg, period: Period) -> tuple[int, int]:
    """Subscription renewal rate of the period.

    A paid subscription (not a trial, :func:`journeykit.facts.is_trial`) is
    due for renewal on each ``started_at + k × cycle`` (k ≥ 1; cycle =
    ``definitions.subscription_renewal_days``). Denominator: renewal dates
    falling in the period of subscriptions still running at the start of
    that cycle (``ended_at`` missing or after the previous renewal date).
    Numerator: those not ended by the renewal date (``ended_at`` missing or
    after it; an end after the period end is not yet known and counts as
    renewed). Rate 0–1. ``(0, 0)`` without ``subscriptions``.
    """
    if not ds.has("subscriptions"):
        return 0, 0
    s = _paid_subscriptions(ds)
    c = cfg.definitions.subscription_renewal_days * 86400
    p0 = int(dt.datetime.combine(period.start, dt.time()).replace(tzinfo=dt.timezone.utc).timestamp())
    p1 = int(dt.datetime.combine(period.end, dt.time()).replace(tzinfo=dt.timezone.utc).timestamp())
    start = s.started_at.epoch_seconds()
    end = s.ended_at.epoch_seconds() if "ended_at" in s.columns else ibis.null("int64")
    k1 = ibis.greatest(ibis.literal(1), ((p0 - start) / c).ceil().cast("int64"))
    base = s.select(start=start, end=end, k1=k1)
    d = ibis.union(*[base.select(due=base.start + (base.k1 + j) * c, end=base.end) for j in (0, 1)], distinct=False)
    d = d.filter((d.due >= p0) & (d.due < p1) & (d.end.isnull() | (d.end > d.due - c)))
    r = d.aggregate(n=d.count(), x=(d.end.isnull() | (d.end > d.due)).cast("int64").sum()).execute().iloc[0]
    return int(r["x"] or 0), int(r["n"] or 0)


def mrr_churn(ds, cfg, period: Period) -> tuple[float, float]:
    """MRR churn of the period: MRR of paid subscriptions running at the
    period start that ended during the period, over the MRR of all paid
    subscriptions running at the period start. Returns ``(lost, start MRR)``
    in the client's currency per month (``(0, 0)`` without subscriptions or
    their ``mrr``); the rate is their ratio, 0–1."""
    if not _has_column(ds, "subscriptions", "mrr"):
        return 0.0, 0.0
    s = _paid_subscriptions(ds)
    st = ts(period.start)
    s = s.mutate(_end=s.ended_at if "ended_at" in s.columns else ibis.null("timestamp"))
    running = s.filter((s.started_at < st) & (s._end.isnull() | (s._end >= st)))
    lost = running.filter(running._end.notnull() & (running._end < ts(period.end)))
    start_mrr, lost_mrr = running.mrr.sum().execute(), lost.mrr.sum().execute()
    return float(0 if pd.isna(lost_mrr) else lost_mrr), float(0 if pd.isna(start_mrr) else start_mrr)


def tickets(ds, cfg, period: Period) -> tuple[int | None, int | None]:
    """Support tickets opened in the period and the customer base they are
    set against: ``(tickets, active customers)`` (:func:`active_customers`).
    Tickets per 100 customers = ``100 × tickets / active customers`` (per
    month). ``(None, None)`` without ``tickets``."""
    if not ds.has("tickets"):
        return None, None
    t = in_window(ds.table("tickets"), "created_at", period.start, period.end)
    return _count(t.count()), active_customers(ds, cfg, period)


def _csat_tickets(ds, period: Period):
    """Tickets with a score resolved in the period (created, without
    ``resolved_at``); ``None`` without ``tickets.csat``."""
    if not _has_column(ds, "tickets", "csat"):
        return None
    t = ds.table("tickets")
    col = "resolved_at" if "resolved_at" in t.columns else "created_at"
    t = in_window(t, col, period.start, period.end)
    return t.filter(t.csat.notnull()).mutate(score=t.csat.cast("float64"))


def csat(ds, cfg, period: Period) -> tuple[float | None, float, int]:
    """CSAT of the period: the mean score (1–5) of tickets resolved in the
    period that have a score (``created_at`` when the client sends no
    ``resolved_at``). Returns ``(mean, sample sd, responses)``; the mean is
    on the 1–5 scale, not a share; ``None`` without scores."""
    t = _csat_tickets(ds, period)
    return (None, 0.0, 0) if t is None else _stats(t, "score")


def sessions(ds):
    """Every session of the customers' events (up to the period end), with
    ``session_id``, ``start`` (its first event), and ``minutes``: from the
    first event to the end of its last-ending event (event time +
    ``duration_s`` where known; without ``duration_s``, to the last event).
    Only events with a ``customer_id`` and a ``session_id``; events of a
    session need not arrive in time order. ``None`` without sessions.

    Computed once per version of the data and shared
    (:meth:`~journeykit.data.dataset.Dataset.shared`): every month's session
    length and daily sessions read it (on the large demo data, 62 M events
    grouped six times took 33 s of the section's 87 s)."""
    def build():
        e = facts.customer_events(ds)
        if e is None or "session_id" not in e.columns:
            return None
        e = e.filter(e.session_id.notnull())
        dur = e.duration_s.cast("float64").fill_null(0) if "duration_s" in e.columns else ibis.literal(0.0)
        e = e.mutate(t0=e.occurred_at.epoch_seconds(), t1=e.occurred_at.epoch_seconds() + dur)
        s = e.group_by("session_id").aggregate(t0=e.t0.min(), t1=e.t1.max(), start=e.occurred_at.min())
        return ds.shared("sessions", s.select("session_id", "start", minutes=(s.t1 - s.t0) / 60.0))

    return ds.memo("retention_sessions", build)


def purchase_gaps(ds):
    """Every purchase that is not its customer's first (up to the period
    end): ``customer_id``, ``at`` and ``days`` since her previous purchase
    (fractional); ``None`` without purchases. Computed once per version of
    the data and shared, like :func:`sessions`."""
    def build():
        p = facts.purchases(ds)
        if p is None:
            return None
        w = ibis.window(group_by="customer_id", order_by="at")
        g = p.mutate(prev=p.at.lag().over(w))
        g = g.filter(g.prev.notnull())
        return ds.shared("purchase_gaps", g.select(
            "customer_id", "at", days=(g.at.epoch_seconds() - g.prev.epoch_seconds()) / 86400.0))

    return ds.memo("retention_purchase_gaps", build)


def session_length(ds, cfg, period: Period) -> tuple[float | None, float, int]:
    """Session length of customers' sessions that started in the period, in
    minutes (:func:`sessions`). Returns ``(mean, sd, sessions)``;
    ``(None, 0, 0)`` without sessions."""
    s = sessions(ds)
    if s is None:
        return None, 0.0, 0
    return _stats(in_window(s, "start", period.start, period.end), "minutes")


def inter_purchase(ds, cfg, period: Period) -> dict:
    """Days between consecutive purchases of a customer, for purchases made
    in the period that are not the customer's first (days from her previous
    purchase, fractional; :func:`purchase_gaps`). Returns ``mean``, ``sd``,
    ``n`` (purchases) and ``median``."""
    out = {"mean": None, "sd": 0.0, "n": 0, "median": None}
    g = purchase_gaps(ds)
    if g is None:
        return out
    g = in_window(g, "at", period.start, period.end)
    m, s, n = _stats(g, "days")
    med = g.days.median().execute() if n else None
    out.update(mean=m, sd=s, n=n, median=None if med is None or pd.isna(med) else float(med))
    return out


def clusters(ds, cfg, period: Period) -> dict:
    """The figures per day (or per customer) behind the period-over-period
    tests of :func:`changes_from`, for the KPIs whose units cluster:

    - ``active_daily``: distinct active customers on each day of the period
      (active customers per day of the month: compares months of any length);
    - ``tickets_daily``: tickets opened on each day (``None`` without tickets);
    - ``session_daily``: per day, ``(minutes summed, sessions)`` of the
      sessions that started that day (``None`` without sessions);
    - ``inter_purchase_customers``: per customer, ``(days summed, repeat
      purchases)`` of the period's repeat purchases (a customer's gaps share
      her purchase rate).
    """
    out: dict = {"active_daily": None, "tickets_daily": None, "session_daily": None,
                 "inter_purchase_customers": None}
    a = facts.activity_days(ds)
    if a is not None:
        out["active_daily"] = daily(a, "day", period, n=_.customer_id.nunique())["n"].tolist()
    if ds.has("tickets"):
        out["tickets_daily"] = daily(ds.table("tickets"), "created_at", period, n=_.count())["n"].tolist()
    sess = sessions(ds)
    if sess is not None:
        d = daily(sess, "start", period, minutes=_.minutes.sum(), n=_.count())
        out["session_daily"] = (d["minutes"].tolist(), d["n"].tolist())
    g = purchase_gaps(ds)
    if g is not None:
        g = in_window(g, "at", period.start, period.end)
        c = g.group_by("customer_id").aggregate(days=g.days.sum(), n=g.count()).execute()
        out["inter_purchase_customers"] = (c["days"].astype(float).tolist(), c["n"].astype(float).tolist())
    return out


def period_values(ds, cfg, period: Period) -> dict:
    """Every retention KPI of one month, with the counts behind each (for
    the tests of :func:`changes`). Rates are 0–1, ``None`` when their
    denominator is 0 or their input is missing. Memoized on the dataset
    under ``cfg``."""
    return ds.memo(("retention_period", period), lambda: _period_values(ds, cfg, period), cfg)


def _period_values(ds, cfg, period: Period) -> dict:
    st = stickiness(ds, cfg, period)
    r1, r3 = month_k_retention(ds, cfg, period, 1), month_k_retention(ds, cfg, period, 3)
    rp, ch = repeat_purchase(ds, cfg, period), churn(ds, cfg, period)
    rn, mr = renewals(ds, cfg, period), mrr_churn(ds, cfg, period)
    tk, cs = tickets(ds, cfg, period), csat(ds, cfg, period)
    sl, ip = session_length(ds, cfg, period), inter_purchase(ds, cfg, period)
    subs = ds.has("subscriptions")
    return {**clusters(ds, cfg, period),
        "active_customers": active_customers(ds, cfg, period),
        "mau": st["mau"], "dau": st["dau"], "wau": st["wau"],
        "dau_mau": st["dau_mau"], "dau_mau_sd": st["sd"], "dau_mau_n": st["n"],
        "month1_retention": compare.safe_div(*r1), "month1": r1,
        "month3_retention": compare.safe_div(*r3), "month3": r3,
        "repeat_purchase_rate": compare.safe_div(*rp), "repeat": rp,
        "churn_rate": compare.safe_div(*ch), "churn": ch,
        "renewal_rate": compare.safe_div(*rn) if subs else None, "renewal": rn,
        "mrr_churn": compare.safe_div(*mr) if subs else None, "mrr": mr,
        "tickets": tk[0], "ticket_customers": tk[1],
        "tickets_per_100_customers": 100 * compare.safe_div(*tk) if tk[0] is not None and tk[1] else None,
        "csat": cs[0], "csat_sd": cs[1], "csat_n": cs[2],
        "session_minutes": sl[0], "session_sd": sl[1], "session_n": sl[2],
        "inter_purchase_days": ip["mean"], "inter_purchase_sd": ip["sd"], "inter_purchase_n": ip["n"],
        "inter_purchase_median": ip["median"],
    }


# --------------------------------------------------------------------------
# Period over period, metrics.json
# --------------------------------------------------------------------------

def _per100(key: str, tk: int | None, cust: int | None, tk0: int | None, cust0: int | None, min_n: int):
    """Tickets per 100 customers, tested as two Poisson rates with the
    customer bases as exposure."""
    if tk is None or not cust or tk0 is None or not cust0:
        return compare.value(key, None if tk is None or not cust else 100 * tk / cust,
                             None if tk0 is None or not cust0 else 100 * tk0 / cust0, higher_is_better=False)
    c = compare.count(key, tk, cust, tk0, cust0, min_n=min_n, higher_is_better=False)
    return dataclasses.replace(c, value=100 * tk / cust, prev=100 * tk0 / cust0, kind="count",
                               test="Poisson rate test (per customer)", n=float(cust), n_prev=float(cust0))


ADVICE = {
    "month1_retention": {"down": "retention_next_month1"},
    "churn_rate": {"up": "retention_next_churn"},
}
"""Advice for a significant change, shown in the key figures (see
:data:`journeykit.report.Advice`)."""


def changes_from(v: dict, v0: dict, cfg, trend: pd.DataFrame | None = None) -> list[compare.Change]:
    """The period-over-period changes from two :func:`period_values` dicts
    (this period's and the comparison period's), judged
    (:func:`journeykit.stats.compare.judge`).

    - active customers and MAU are stocks of customers whose size depends
      on the window (MAU on the month's length): shown, not tested; what
      they count is tested as **active customers per day** (``dau``:
      quasi-Poisson on the daily counts, :func:`compare.daily_count`) and
      as shares of a defined base (month-k retention, churn);
    - rates of customers counted once (retention, repeat purchase, churn,
      renewal): two-proportion z-test (:func:`compare.rate`);
    - stickiness and CSAT, means over customers and tickets: Welch;
    - tickets per 100 customers: quasi-Poisson on the daily tickets, per
      active customer (:func:`compare.daily_count` with the customer base as
      exposure);
    - session length (sessions within days) and days between purchases
      (purchases within customers): means with a cluster-robust variance
      (:func:`compare.clustered_mean`);
    - MRR churn (a ratio of amounts): no test.

    Without the daily figures (a dict made by hand) the totals-only tests
    are used: Poisson for tickets, Welch for the means; ``dau`` untested.
    With ``trend`` (:func:`monthly`), each test is also held to the KPI's
    month-to-month movement (:func:`compare.month_variance`).
    """
    n = cfg.definitions.min_sample_size
    if trend is not None and {"dau_mau", "mau"} <= set(trend.columns):
        trend = trend.assign(dau=trend["dau_mau"] * trend["mau"])
    if trend is not None and "tickets_per_100_customers" in trend.columns:
        # tested per customer and day (see _tickets_change)
        trend = trend.assign(_tickets_per_customer=trend["tickets_per_100_customers"] / 100)

    def hist(col, per_day=False):
        return compare.history(trend, col, cfg.period, per_day=per_day, cfg=cfg)

    def clustered_mean(key, pair, pair0, m, sd, cnt, hib, cluster):
        if v.get(pair) is not None and v0.get(pair) is not None:
            return compare.clustered_mean(key, *v[pair], *v0[pair0], cluster=cluster, min_n=n, higher_is_better=hib,
                                          history=hist(key))
        return compare.mean(key, v[m], v[sd], v[cnt], v0[m], v0[sd], v0[cnt], min_n=n, higher_is_better=hib,
                            history=hist(key))

    if v.get("active_daily") is not None and v0.get("active_daily") is not None:
        dau = compare.daily_count("dau", v["active_daily"], v0["active_daily"], min_n=n, history=hist("dau"))
    else:
        dau = compare.value("dau", v.get("dau"), v0.get("dau"))
    out = [
        compare.value("active_customers", v["active_customers"], v0["active_customers"], described="stock"),
        compare.value("mau", v["mau"], v0["mau"], described="stock"),
        # the KPI is itself per day: shown as the mean per day it tests
        dataclasses.replace(dau, value=dau.tested_value, prev=dau.tested_prev, tested=None, basis=None)
        if dau.kind == "count" else dau,
        compare.mean("dau_mau", v["dau_mau"], v["dau_mau_sd"], v["dau_mau_n"], v0["dau_mau"], v0["dau_mau_sd"],
                     v0["dau_mau_n"], min_n=n, history=hist("dau_mau")),
        compare.rate("month1_retention", *v["month1"], *v0["month1"], min_n=n, history=hist("month1_retention")),
        compare.rate("month3_retention", *v["month3"], *v0["month3"], min_n=n, history=hist("month3_retention")),
        compare.rate("repeat_purchase_rate", *v["repeat"], *v0["repeat"], min_n=n,
                     history=hist("repeat_purchase_rate")),
        compare.rate("churn_rate", *v["churn"], *v0["churn"], min_n=n, higher_is_better=False,
                     history=hist("churn_rate")),
    ]
    if v["renewal_rate"] is not None or v0["renewal_rate"] is not None:
        out.append(compare.rate("renewal_rate", *v["renewal"], *v0["renewal"], min_n=n, history=hist("renewal_rate")))
    else:
        out.append(compare.value("renewal_rate", None, None))
    out += [
        compare.value("mrr_churn", v["mrr_churn"], v0["mrr_churn"], higher_is_better=False),
        _tickets_change(v, v0, n, hist("_tickets_per_customer", per_day=True)),
        compare.mean("csat", v["csat"], v["csat_sd"], v["csat_n"], v0["csat"], v0["csat_sd"], v0["csat_n"], min_n=n,
                     history=hist("csat")),
        clustered_mean("session_minutes", "session_daily", "session_daily", "session_minutes", "session_sd",
                       "session_n", None, "day"),
        clustered_mean("inter_purchase_days", "inter_purchase_customers", "inter_purchase_customers",
                       "inter_purchase_days", "inter_purchase_sd", "inter_purchase_n", False, "customer"),
    ]
    return compare.judge(out, cfg)


def _tickets_change(v: dict, v0: dict, min_n: int, history=None) -> compare.Change:
    """Tickets per 100 active customers (per month, as shown), tested per
    customer and day: quasi-Poisson on the daily tickets with the customer
    base as exposure; without daily figures, :func:`_per100`."""
    key = "tickets_per_100_customers"
    tk, cust, tk0, cust0 = v["tickets"], v["ticket_customers"], v0["tickets"], v0["ticket_customers"]
    if v.get("tickets_daily") is None or v0.get("tickets_daily") is None or tk is None or not cust \
            or tk0 is None or not cust0:
        return _per100(key, tk, cust, tk0, cust0, min_n)
    c = compare.daily_count(key, v["tickets_daily"], v0["tickets_daily"], min_n=min_n, higher_is_better=False,
                            exposure=float(cust), exposure_prev=float(cust0),
                            shown=(100 * tk / cust, 100 * tk0 / cust0), history=history)
    # shown and tested per 100 customers: per month as shown, per day as tested
    return dataclasses.replace(c, tested=tuple(None if x is None else 100 * x for x in c.tested))


def changes(ds, cfg) -> list[compare.Change]:
    """Every retention KPI, this period against the comparison period, with
    its test (see :func:`changes_from`); with 13+ months of activity data
    each KPI carries its value a year before."""
    chs = compare.judge(compare.before_data(changes_from(period_values(ds, cfg, cfg.period),
                                           period_values(ds, cfg, cfg.period.previous()), cfg, monthly(ds, cfg)),
                              cfg.period, ds.first_date()), cfg)
    if not has_last_year(ds, cfg):
        return chs
    y = period_values(ds, cfg, cfg.period.shift(-12))
    last = {c.key: y.get(c.key) for c in chs}
    if y.get("active_daily"):
        last["dau"] = sum(y["active_daily"]) / len(y["active_daily"])
    return compare.with_last_year(chs, last)


def has_last_year(ds, cfg) -> bool:
    """Whether the activity data reaches back to the same month a year
    before the period (13 months or more): the key figures then show it."""
    first = trend_start(ds)
    return first is not None and first <= cfg.period.shift(-12).start


def metrics(ds, cfg, chs: list[compare.Change] | None = None) -> dict:
    """The section's metrics.json: every key of :data:`STABLE_KEYS` and of
    :data:`EXTRA_KEYS` with its ``_prev`` (``None`` when not computable),
    and ``survival`` (not stable, no ``_prev``): the Kaplan–Meier medians
    and log-rank p-values of :func:`journeykit.sections.retention.survival.metrics`
    (``None`` without sign-ups and activity). ``chs``: :func:`changes`,
    when already computed."""
    from journeykit.sections.retention import survival

    m = compare.to_metrics(*(changes(ds, cfg) if chs is None else chs))
    out = {k: m.get(k) for key in (*STABLE_KEYS, *EXTRA_KEYS) for k in (key, f"{key}_prev")}
    return out | {"survival": survival.metrics(ds, cfg)}


# --------------------------------------------------------------------------
# Trend
# --------------------------------------------------------------------------

def monthly(ds, cfg) -> pd.DataFrame:
    """One row per month of :func:`trend_months` (from the first month with
    activity): ``month``, ``mau``, ``dau_mau``, ``month1_retention``,
    ``churn_rate``, ``repeat_purchase_rate``, and where their tables exist
    ``renewal_rate``, ``tickets_per_100_customers``, ``csat`` — each as
    defined for one period (:func:`stickiness`, :func:`month_k_retention`,
    :func:`churn`, :func:`repeat_purchase`, :func:`renewals`,
    :func:`tickets`, :func:`csat`); grouped by month on the engine where
    the definition allows it. Memoized on the dataset under ``cfg``."""
    return ds.memo("retention_monthly", lambda: _monthly(ds, cfg), cfg)


def _monthly(ds, cfg) -> pd.DataFrame:
    months = trend_months(ds, cfg)
    lo = _pmi(months[0])
    frame = pd.DataFrame({"mi": range(lo, lo + len(months))})
    frame["month"] = [pd.Timestamp(p.start) for p in months]
    frame["days"] = [p.days for p in months]
    start, end = months[0].start, months[-1].end

    def grouped(expr, cols):
        df = expr.execute()
        if df.empty:
            return [[math.nan] * len(frame) for _ in cols]
        return frame[["mi"]].merge(df.astype({"mi": int}), on="mi", how="left")[cols].to_numpy(dtype=float).T

    a = facts.activity_days(ds)
    if a is not None:
        d = in_window(a, "day", start, end).select("customer_id", "day")
        d = d.mutate(mi=_mi(d.day))
        mau_, cd = grouped(d.group_by("mi").aggregate(mau=d.customer_id.nunique(), cd=d.count()), ["mau", "cd"])
        frame["mau"] = pd.Series(mau_).fillna(0).to_numpy()      # a month inside the data without activity: 0
        frame["dau_mau"] = [compare.safe_div(c, dd * m) for c, dd, m in zip(cd, frame["days"], frame["mau"])]
        if ds.has("customers"):
            c = _customers(ds)
            sizes = c.group_by("cmi").aggregate(n=c.count()).mutate(mi=lambda t: t.cmi + 1)
            kept = c.join(_customer_months(ds), "customer_id").filter(lambda t: t.mi == t.cmi + 1)
            x1, = grouped(kept.group_by("mi").aggregate(x=kept.customer_id.nunique()), ["x"])
            n1, = grouped(sizes.select("mi", "n"), ["n"])
            frame["month1_retention"] = [compare.safe_div(0 if math.isnan(x) else x, n) for x, n in zip(x1, n1)]
        else:
            frame["month1_retention"] = None
        frame["churn_rate"] = [compare.safe_div(*churn(ds, cfg, p)) for p in months]
    else:
        for col in ("mau", "dau_mau", "month1_retention", "churn_rate"):
            frame[col] = None
    pu = facts.purchases(ds)
    if pu is not None:
        w = ibis.window(group_by="customer_id", order_by="at")
        r = pu.mutate(rank=ibis.row_number().over(w) + 1)
        r = in_window(r, "at", start, end)
        per = r.group_by(["customer_id", _mi(r.at).name("mi")]).aggregate(top=r.rank.max())
        x, n = grouped(per.group_by("mi").aggregate(x=(per.top >= 2).cast("int64").sum(), n=per.count()), ["x", "n"])
        frame["repeat_purchase_rate"] = [compare.safe_div(a_, b_) for a_, b_ in zip(x, n)]
    else:
        frame["repeat_purchase_rate"] = None
    if ds.has("subscriptions"):
        frame["renewal_rate"] = [compare.safe_div(*renewals(ds, cfg, p)) for p in months]
    if ds.has("tickets"):
        t = in_window(ds.table("tickets"), "created_at", start, end)
        t = t.mutate(mi=_mi(t.created_at))
        tk, = grouped(t.group_by("mi").aggregate(k=t.count()), ["k"])
        base = [active_customers(ds, cfg, p) for p in months]
        frame["tickets_per_100_customers"] = [100 * (0 if math.isnan(k) else k) / b if b else None
                                              for k, b in zip(tk, base)]
        if _has_column(ds, "tickets", "csat"):
            cs = ds.table("tickets")
            col = "resolved_at" if "resolved_at" in cs.columns else "created_at"
            cs = in_window(cs, col, start, end)
            cs = cs.filter(cs.csat.notnull()).mutate(mi=_mi(cs[col]))
            frame["csat"], = grouped(cs.group_by("mi").aggregate(m=cs.csat.cast("float64").mean()), ["m"])
    out = frame.drop(columns=["mi", "days"])
    for col in out.columns:
        if col != "month":
            out[col] = pd.to_numeric(out[col], errors="coerce").astype("float64")
    return out


# --------------------------------------------------------------------------
# Cohorts and lifecycle
# --------------------------------------------------------------------------

def cohort_matrix(ds, cfg, by: str = "activity", months: int | None = None) -> pd.DataFrame:
    """Cohort retention matrix: one row per sign-up month of the last
    ``months`` months (default ``trend_periods``) with sign-ups, column
    ``size`` (customers who signed up that month) and columns ``0 …
    months−1``: the share of the cohort active (``by="activity"``) or
    purchasing (``by="purchase"``) in the k-th calendar month after
    sign-up, 0–1; ``NaN`` where that month is after the period. No rows when
    nobody signed up in those months. Memoized on the dataset under ``cfg``."""
    months = months or cfg.definitions.trend_periods
    return ds.memo(("retention_cohorts", by, months), lambda: _cohort_matrix(ds, cfg, by, months), cfg)


def _cohort_matrix(ds, cfg, by: str, months: int) -> pd.DataFrame:
    cols = list(range(months))
    empty = pd.DataFrame(columns=["cohort", "size"] + cols)
    if not ds.has("customers"):
        return empty
    end_mi = _pmi(cfg.period)
    c = _customers(ds)
    c = c.filter(c.cmi >= end_mi - months + 1)
    sizes = c.group_by("cmi").aggregate(size=c.count()).execute()
    if sizes.empty:
        return empty
    cm = _customer_months(ds, by)
    if cm is not None:
        j = c.join(cm, "customer_id")
        j = j.filter((j.mi >= j.cmi) & (j.mi <= end_mi))
        counts = j.group_by(["cmi", "mi"]).aggregate(x=j.customer_id.nunique()).execute()
    else:
        counts = pd.DataFrame({"cmi": pd.Series(dtype=int), "mi": pd.Series(dtype=int), "x": pd.Series(dtype=int)})
    counts["k"] = counts["mi"].astype(int) - counts["cmi"].astype(int)
    rows = []
    for r in sizes.sort_values("cmi").itertuples():
        row = {"cohort": pd.Timestamp(_period_of(int(r.cmi)).start), "size": int(r.size)}
        got = counts[counts["cmi"] == r.cmi].set_index("k")["x"]
        for k in cols:
            row[k] = (float(got.get(k, 0)) / r.size) if int(r.cmi) + k <= end_mi else math.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=["cohort", "size"] + cols)


def lifecycle(ds, cfg) -> pd.DataFrame:
    """Monthly lifecycle states (:data:`journeykit.facts.MONTHLY_STATES`)
    per month of :func:`trend_months`: columns ``month``, ``new``,
    ``returning``, ``resurrecting``, ``dormant`` (customers; dormant is a
    positive count here and drawn below zero), in that order. ``new``:
    active, and this is her first active month; ``returning``: active this
    month and the month before; ``resurrecting``: active this month, not
    the month before, but some earlier month; ``dormant``: active the month
    before, not this month. Memoized on the dataset under ``cfg``."""
    return ds.memo("retention_lifecycle", lambda: _lifecycle(ds, cfg), cfg)


def _lifecycle(ds, cfg) -> pd.DataFrame:
    cols = ["month", *facts.MONTHLY_STATES]
    cm = _customer_months(ds)
    if cm is None:
        return pd.DataFrame(columns=cols)
    months = trend_months(ds, cfg)
    lo, hi = _pmi(months[0]), _pmi(months[-1])
    first = cm.group_by("customer_id").aggregate(fm=cm.mi.min())
    prev = cm.select(customer_id=cm.customer_id, pmi=cm.mi + 1, had=ibis.literal(1))
    cur = cm.filter((cm.mi >= lo) & (cm.mi <= hi))
    j = cur.left_join(prev, [cur.customer_id == prev.customer_id, cur.mi == prev.pmi])
    j = j.select(customer_id=cur.customer_id, mi=cur.mi, had=prev.had).join(first, "customer_id")
    j = j.mutate(state=ibis.cases((j.mi == j.fm, "new"), (j.had.notnull(), "returning"), else_="resurrecting"))
    active = j.group_by(["mi", "state"]).aggregate(n=j.count()).execute()
    nxt = cm.select(customer_id=cm.customer_id, mi=cm.mi + 1)
    dormant = nxt.anti_join(cm, ["customer_id", "mi"])
    dormant = dormant.filter((dormant.mi >= lo) & (dormant.mi <= hi))
    dorm = dormant.group_by("mi").aggregate(n=dormant.count()).execute().assign(state="dormant")
    wide = pd.concat([active, dorm], ignore_index=True).pivot_table(index="mi", columns="state", values="n",
                                                                    aggfunc="sum", fill_value=0)
    wide = wide.reindex(index=range(lo, hi + 1), columns=list(facts.MONTHLY_STATES), fill_value=0).fillna(0)
    wide = wide.astype(int).reset_index(drop=True)
    wide.insert(0, "month", [pd.Timestamp(p.start) for p in months])
    return wide[cols]


# --------------------------------------------------------------------------
# Breakdowns of the period
# --------------------------------------------------------------------------

def feature_usage(ds, cfg) -> pd.DataFrame | None:
    """``feature_use`` events of the period by ``feature``: ``uses`` (events),
    ``users`` (distinct customers) and ``user_share`` = users / MAU (0–1).
    Features with fewer than ``min_group_size`` users, or fewer than
    ``k_anonymity``, fold into :data:`OTHER` (its users an upper bound: a
    customer of two folded features counts twice). ``None`` without events
    carrying customer ids and a ``feature`` column; empty without feature
    use in the period."""
    cols = ["feature", "uses", "users", "user_share"]
    e = facts.customer_events(ds)
    if e is None or "feature" not in e.columns:
        return None
    e = in_window(e.filter(e.event_type == "feature_use"), "occurred_at", cfg.period.start, cfg.period.end)
    f = e.feature.cast("string").strip()
    e = e.mutate(feature=ibis.ifelse(f == "", ibis.null("string"), f).fill_null(UNKNOWN))
    df = e.group_by("feature").aggregate(uses=e.count(), users=e.customer_id.nunique()).execute()
    if df.empty:
        return pd.DataFrame(columns=cols)
    df = df.astype({"uses": int, "users": int})
    folded = compare.fold_small(df[["feature", "uses", "users"]], "feature", "users",
                                max(cfg.definitions.min_group_size, cfg.definitions.k_anonymity), other=OTHER)
    m = period_values(ds, cfg, cfg.period)["mau"] or 0
    folded["user_share"] = [compare.safe_div(u, m) for u in folded["users"]]
    return folded[cols]


def churn_by(ds, cfg, column: str = "acquisition_channel") -> pd.DataFrame | None:
    """Churn of the period (see :func:`churn`) by a ``customers`` column:
    ``group``, ``base``, ``churned``, ``churn_rate`` (0–1); customers
    without a value are :data:`UNKNOWN`. Groups with a base under
    ``min_group_size`` (or ``k_anonymity``) fold into :data:`OTHER`, its rate
    recomputed from the summed counts. ``None`` without the column (or a
    customers table); empty without a churn base."""
    cols = ["group", "base", "churned", "churn_rate"]
    f = churn_flags(ds, cfg, cfg.period)
    if f is None or not _has_column(ds, "customers", column):
        return None
    c = ds.table("customers")
    g = c[column].cast("string").strip()
    c = c.select(customer_id=c.customer_id.cast("string"), group=ibis.ifelse(g == "", ibis.null("string"), g))
    j = f.left_join(c, "customer_id")
    j = j.mutate(group=j.group.fill_null(UNKNOWN))
    df = j.group_by("group").aggregate(base=j.count(), churned=j.churned.cast("int64").sum()).execute()
    if df.empty:
        return pd.DataFrame(columns=cols)
    df = df.astype({"base": int, "churned": int})
    out = compare.fold_small(df, "group", "base", max(cfg.definitions.min_group_size, cfg.definitions.k_anonymity),
                             other=OTHER)
    out["churn_rate"] = out["churned"] / out["base"]
    return out[cols]


def subscription_periods(ds, cfg) -> pd.DataFrame | None:
    """Renewals and MRR churn of the period and the comparison period (in
    that order): ``period`` (:class:`~journeykit.core.periods.Period`),
    ``due``, ``renewed``, ``renewal_rate``, ``mrr_start``, ``mrr_lost``,
    ``mrr_churn`` (the MRR columns ``None`` without ``subscriptions.mrr``).
    ``None`` without subscriptions."""
    if not ds.has("subscriptions"):
        return None
    has_mrr = _has_column(ds, "subscriptions", "mrr")
    rows = []
    for p in (cfg.period, cfg.period.previous()):
        x, n = renewals(ds, cfg, p)
        lost, start = mrr_churn(ds, cfg, p) if has_mrr else (None, None)
        rows.append({"period": p, "due": n, "renewed": x, "renewal_rate": compare.safe_div(x, n),
                     "mrr_start": start, "mrr_lost": lost, "mrr_churn": compare.safe_div(lost, start)})
    return pd.DataFrame(rows)


def tickets_by_category(ds, cfg) -> pd.DataFrame | None:
    """Tickets opened in the period by ``category``: ``tickets``,
    ``customers`` (distinct), ``per_100`` (tickets per 100 active customers,
    see :func:`tickets`), ``csat`` (mean 1–5 score of the category's tickets
    resolved in the period; ``None`` without scores) and ``csat_n``.
    Tickets without a category are :data:`UNKNOWN`; categories with fewer
    than ``min_group_size`` tickets or ``k_anonymity`` customers fold into
    :data:`OTHER`. ``None`` without tickets or their ``category``."""
    cols = ["category", "tickets", "customers", "per_100", "csat", "csat_n"]
    if not _has_column(ds, "tickets", "category"):
        return None

    def categorized(t):
        g = t.category.cast("string").strip()
        return t.mutate(category=ibis.ifelse(g == "", ibis.null("string"), g).fill_null(UNKNOWN))

    opened = categorized(in_window(ds.table("tickets"), "created_at", cfg.period.start, cfg.period.end))
    df = opened.group_by("category").aggregate(tickets=opened.count(), customers=opened.customer_id.nunique()).execute()
    cs = _csat_tickets(ds, cfg.period)
    if cs is not None:
        cs = categorized(cs)
        sc = cs.group_by("category").aggregate(csat_sum=cs.score.sum(), csat_n=cs.score.count()).execute()
        df = df.merge(sc, on="category", how="outer").fillna({"tickets": 0, "customers": 0, "csat_sum": 0,
                                                               "csat_n": 0})
    else:
        df["csat_sum"], df["csat_n"] = 0.0, 0
    if df.empty:
        return pd.DataFrame(columns=cols)
    df = df.astype({"tickets": int, "customers": int, "csat_n": int})
    d = cfg.definitions
    df["_key"] = df["tickets"].where((df["tickets"] >= d.min_group_size) & (df["customers"] >= d.k_anonymity), -1)
    out = compare.fold_small(df, "category", "_key", 0, other=OTHER,
                             sum_columns=["tickets", "customers", "csat_sum", "csat_n"]).drop(columns="_key")
    base = period_values(ds, cfg, cfg.period)["active_customers"]
    out["per_100"] = [None if not base else 100 * x / base for x in out["tickets"]]
    out["csat"] = [compare.safe_div(s, n) for s, n in zip(out["csat_sum"], out["csat_n"])]
    return out[cols]


__all__ = [
    "STABLE_KEYS", "EXTRA_KEYS", "OTHER", "UNKNOWN", "trend_start", "trend_months", "orders_from_events",
    "active_customers", "mau", "stickiness", "month_k_retention", "repeat_purchase", "churn_flags", "churn",
    "renewals", "mrr_churn", "tickets", "csat", "session_length", "inter_purchase", "clusters", "period_values", "ADVICE", "has_last_year", "changes_from",
    "changes", "metrics", "monthly", "cohort_matrix", "lifecycle", "feature_usage", "churn_by",
    "subscription_periods", "tickets_by_category",
]
