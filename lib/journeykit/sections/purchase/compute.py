"""Purchase and conversion: how well new customers convert, and how they
pay — the numbers (no text, no charts: :mod:`.view` shows them).

Every KPI needs only ``orders``; ``customers`` adds first-purchase
conversion and time to first purchase, ``subscriptions`` trial → paid
conversion. The definitions come from :mod:`journeykit.facts`:

- **Order**: an ``orders`` row whose payment succeeded (status ``paid`` or
  empty; every row without a ``payment_status`` column).
  **Payment attempt**: a row with status ``paid`` or ``failed``.
  **First order**: a customer's earliest order up to the period end; every
  later one is a **repeat order**.
- **Orders from events**: a client without an orders table has its
  ``purchase`` events as orders and its ``payment_failed`` events as failed
  attempts (:func:`orders_from_events`); amounts are the events' ``value``
  when they have one, else unknown (:func:`journeykit.facts.has_amounts`):
  revenue, order value and repeat revenue share are then ``None``.
- **Signup** (:func:`signups`): ``customers.signup_at``; without a
  customers table, the customer's first event or order ("first seen"),
  when the client sends events; with orders alone, signup would be the
  first order itself, so conversion and time to first purchase are not
  measured (``None``).
- Money is in the client's currency; rates are 0–1; days are calendar days
  (fractional, from timestamps).

Shape: :func:`month_values` (every KPI of several months in one grouped
query per family, memoized on the dataset), :func:`period_values`,
:func:`changes`, :func:`monthly`, :func:`metrics`, then the breakdowns of
the period (:func:`by_device`, :func:`by_channel`, :func:`discount_split`,
:func:`discount_codes`, :func:`new_vs_repeat`, :func:`days_to_first_purchase`).
"""

from __future__ import annotations

import math

import ibis
import numpy as np
from ibis import _
import pandas as pd

from journeykit import facts
from journeykit.core.periods import Period
from journeykit.data.query import daily, in_window, month_frame, month_of, trailing_months, ts
from journeykit.sections import registry
from journeykit.stats import compare

STABLE_KEYS = registry.get("30_purchase").stable_keys
"""The section's stable ``metrics.json`` keys (each also with ``_prev``)."""

MONEY_KEYS = ("revenue", "aov", "repeat_revenue_share")
"""KPIs in (or from) amounts: ``None`` when order amounts are unknown."""

DAY_BUCKETS = ((0, 1, "same_day"), (1, 4, "d1_3"), (4, 8, "d4_7"), (8, 15, "d8_14"), (15, 31, "d15_30"),
               (31, 91, "d31_90"), (91, math.inf, "d91_plus"))
"""Buckets of days from signup to first order: ``[low, high)`` and a key."""

OTHER = facts.OTHER
"""The key of the row small groups fold into (the view names it)."""

UNKNOWN = facts.UNKNOWN
"""The key of the group whose breakdown column is empty (the view names it)."""


# --------------------------------------------------------------------------
# Where orders and signups come from
# --------------------------------------------------------------------------

def orders_from_events(ds) -> bool:
    """Whether the client's orders are derived from its ``purchase`` and
    ``payment_failed`` events (it sent no orders table)."""
    t = ds.report.tables.get("orders")
    return t is not None and t.status == "derived"


def _visitor_orders(ds) -> bool:
    """Orders derived from events keyed by ``visitor_id`` (no customer id)."""
    return orders_from_events(ds) and ds.report.tables["orders"].columns.get("customer_id") == "events.visitor_id"


def signup_source(ds) -> str | None:
    """Where signup dates come from: ``"customers"`` (the client's
    customers table), ``"first_seen"`` (no customers table: the customer's
    first event or order; the client sends events, so a first visit
    usually precedes the first purchase) or ``None`` (no customers table
    and no events with the customer's id: signup would be the first order
    itself, and conversion would be 100% by construction)."""
    c = ds.report.tables.get("customers")
    if c is not None and c.status == "loaded":
        return "customers"
    if _visitor_orders(ds) or facts.customer_events(ds) is not None:
        return "first_seen"
    return None


def signups(ds):
    """Each customer's signup (see :func:`signup_source`) up to the period
    end as an Ibis table ``(customer_id, signup_at)``; ``None`` when signups
    are not known. Customers whose orders come from ``visitor_id`` events
    sign up at their visitor's first event."""
    if signup_source(ds) is None:
        return None
    if _visitor_orders(ds):
        e = ds.table("events")
        e = e.filter(e.visitor_id.notnull())
        return e.group_by(customer_id=e.visitor_id.cast("string")).aggregate(signup_at=e.occurred_at.min())
    c = ds.table("customers")
    return c.select(customer_id=c.customer_id.cast("string"), signup_at=c.signup_at)


def window_days(cfg) -> int:
    """The first-purchase window ``W`` (``definitions.first_purchase_window_days``)."""
    return int(cfg.definitions.first_purchase_window_days)


def _first_orders(ds):
    p = facts.paid_orders(ds)
    return p.filter(p._seq == 0).select(customer_id=p.customer_id.cast("string"), first_paid_at=p.ordered_at)


# --------------------------------------------------------------------------
# Every KPI, month by month
# --------------------------------------------------------------------------

def _by_month(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(month=pd.to_datetime(df["month"])).set_index("month")


def month_values(ds, cfg, months: list[Period]) -> pd.DataFrame:
    """The KPIs of :func:`period_values` with their numerators and
    denominators, one row per month of ``months`` (consecutive, oldest
    first), index ``month`` (timestamp of each month's first day). One
    grouped query per KPI family, however many months; memoized on the
    dataset under ``cfg`` (:meth:`~journeykit.data.dataset.Dataset.memo`)."""
    months = list(months)
    return ds.memo(("purchase_months", tuple(months)), lambda: _month_values(ds, cfg, months), cfg)


def _month_values(ds, cfg, months: list[Period]) -> pd.DataFrame:
    lo, hi = months[0].start, months[-1].end
    W = window_days(cfg)
    out = pd.DataFrame(index=pd.Index([pd.Timestamp(p.start) for p in months], name="month"))

    # orders placed in the month: count, amounts, discount use, first and repeat
    o = in_window(facts.paid_orders(ds), "ordered_at", lo, hi)
    o = o.mutate(month=month_of(o.ordered_at), _amount=o.amount.cast("float64"))
    out = out.join(_by_month(o.group_by("month").aggregate(
        orders=o.count(), priced_orders=o._amount.count(), revenue=o._amount.sum(),
        aov_sd=o._amount.std(how="sample"), repeat_revenue=o._amount.sum(where=o._seq > 0),
        discount_orders=o.count(where=o._code.notnull()), first_orders=o.count(where=o._seq == 0),
    ).execute()))

    # payment success: attempts with a paid or failed status
    if facts.has_payment_status(ds):
        a = in_window(facts.attempts(ds), "ordered_at", lo, hi)
        a = a.mutate(month=month_of(a.ordered_at))
        out = out.join(_by_month(a.group_by("month").aggregate(
            paid_attempts=a.count(where=a._paid & a._status_known), failed_attempts=a.count(where=a._failed),
        ).execute()))
    else:
        out["paid_attempts"] = np.nan
        out["failed_attempts"] = np.nan

    # conversion: customers whose W-day window closed in the month; time to
    # first purchase: first orders placed in the month
    s = signups(ds)
    if s is not None:
        first = _first_orders(ds)
        c = s.mutate(close=s.signup_at + ibis.interval(days=W))
        c = c.filter((c.close >= ts(lo)) & (c.close < ts(hi)))
        j = c.left_join(first, c.customer_id == first.customer_id)
        j = j.mutate(month=month_of(j.close),
                     converted=(j.first_paid_at.notnull() & (j.first_paid_at < j.close)).fill_null(False))
        out = out.join(_by_month(j.group_by("month").aggregate(cohort=j.count(),
                                                               converted=j.count(where=j.converted)).execute()))
        f = in_window(first, "first_paid_at", lo, hi)
        fj = f.inner_join(s, f.customer_id == s.customer_id)
        fj = fj.mutate(month=month_of(fj.first_paid_at),
                       days=ibis.greatest((fj.first_paid_at.epoch_seconds() - fj.signup_at.epoch_seconds()) / 86400.0,
                                          0.0))
        out = out.join(_by_month(fj.group_by("month").aggregate(
            median_days_to_first_purchase=fj.days.median(), first_with_signup=fj.count()).execute()))
    else:
        for col in ("cohort", "converted", "median_days_to_first_purchase", "first_with_signup"):
            out[col] = np.nan

    # trial → paid: trials that ended in the month, followed by a paid subscription
    tr = _trial_frame(ds, lo, hi)
    if tr is not None:
        out = out.join(tr)
        out[["trials", "trials_converted"]] = out[["trials", "trials_converted"]].fillna(0)
    else:
        out["trials"] = np.nan
        out["trials_converted"] = np.nan

    counts = ["orders", "priced_orders", "discount_orders", "first_orders", "revenue", "repeat_revenue"]
    if facts.has_payment_status(ds):
        counts += ["paid_attempts", "failed_attempts"]
    if s is not None:
        counts += ["cohort", "converted", "first_with_signup"]
    out[counts] = out[counts].fillna(0)
    out["aov"] = [compare.safe_div(r, n) for r, n in zip(out["revenue"], out["priced_orders"])]
    out["conversion_rate"] = [compare.safe_div(x, n) for x, n in zip(out["converted"], out["cohort"])]
    out["payment_success_rate"] = [compare.safe_div(x, x + f) for x, f in zip(out["paid_attempts"],
                                                                             out["failed_attempts"])]
    has_code = "discount_code" in ds.raw("orders").columns
    out["discount_order_share"] = [compare.safe_div(x, n) if has_code else None
                                   for x, n in zip(out["discount_orders"], out["orders"])]
    out["repeat_revenue_share"] = [compare.safe_div(x, r) for x, r in zip(out["repeat_revenue"], out["revenue"])]
    out["trial_to_paid_rate"] = [compare.safe_div(x, n) for x, n in zip(out["trials_converted"], out["trials"])]
    if not facts.has_amounts(ds):
        out[["revenue", "aov", "aov_sd", "repeat_revenue", "repeat_revenue_share"]] = np.nan
    return out.astype({c: "float64" for c in out.columns})


def _trial_frame(ds, lo, hi) -> pd.DataFrame | None:
    """Trials (:func:`journeykit.facts.is_trial`) whose ``ended_at`` falls in
    each month, and how many were followed by a paid subscription (not a
    trial) of the same customer starting on or after the trial's start and
    before the period end. ``None`` without trial subscriptions."""
    if not has_trials(ds) or "ended_at" not in ds.raw("subscriptions").columns:
        return None
    s = ds.table("subscriptions")
    s = s.mutate(_trial=facts.is_trial(s.plan))
    trials = s.filter(s._trial & s.ended_at.notnull())
    trials = in_window(trials, "ended_at", lo, hi).select(
        sid=trials.subscription_id, cust=trials.customer_id, t_start=trials.started_at, t_end=trials.ended_at)
    paid = s.filter(~s._trial).select(pcust=s.customer_id, p_start=s.started_at)
    j = trials.left_join(paid, [trials.cust == paid.pcust, paid.p_start >= trials.t_start])
    per = j.group_by(["sid", "t_end"]).aggregate(conv=j.p_start.notnull().any())
    per = per.mutate(month=month_of(per.t_end))
    return _by_month(per.group_by("month").aggregate(trials=per.count(),
                                                     trials_converted=per.count(where=per.conv)).execute())


def has_trials(ds) -> bool:
    """Whether the client's subscriptions include trials
    (:func:`journeykit.facts.is_trial`)."""
    if not ds.has("subscriptions") or "plan" not in ds.raw("subscriptions").columns:
        return False
    s = ds.table("subscriptions")
    return bool(int(s.count(where=facts.is_trial(s.plan)).execute()))


# --------------------------------------------------------------------------
# The KPIs of one period, period over period, the trend, metrics.json
# --------------------------------------------------------------------------

def period_values(ds, cfg, period: Period) -> dict:
    """The section's KPIs for one month (``period.start <= t < period.end``).

    - ``orders``: orders (successful payments) placed in the period; count.
    - ``revenue``: sum of ``amount`` over those orders; currency.
    - ``aov``: ``revenue`` / orders with an amount; currency per order.
    - ``conversion_rate``: numerator = customers of the cohort with an
      order before ``signup_at + W`` days; denominator = the cohort:
      customers whose conversion window ``[signup_at, signup_at + W days)``
      *closed* in the period (``W`` = ``definitions.first_purchase_window_days``),
      i.e. who signed up between ``period.start − W`` and ``period.end − W``.
      This cohort, rather than the period's signups, gives every customer
      counted her full W days and needs nothing after the period end. 0–1.
    - ``payment_success_rate``: paid attempts / (paid + failed attempts) in
      the period; 0–1; ``None`` without a ``payment_status`` column.
    - ``discount_order_share``: orders with a non-empty ``discount_code`` /
      orders; 0–1; ``None`` without the column.
    - ``repeat_revenue_share``: revenue of repeat orders / revenue; 0–1.
    - ``median_days_to_first_purchase``: over customers whose first order
      was placed in the period, the median of days from signup to that
      order (an order before the recorded signup counts as 0); days.
    - ``trial_to_paid_rate``: trials whose ``ended_at`` falls in the period
      that were followed by a paid subscription of the same customer
      (starting on or after the trial's start, before the period end) /
      those trials; 0–1; ``None`` without trial subscriptions.

    Conversion and time to first purchase are ``None`` when signups are not
    known (:func:`signup_source`); revenue, AOV and repeat revenue share
    when amounts are not (:func:`journeykit.facts.has_amounts`). Also
    returned: the counts behind them (``cohort``, ``converted``,
    ``paid_attempts``, ``failed_attempts``, ``discount_orders``,
    ``repeat_revenue``, ``first_orders``, ``priced_orders``, ``trials``,
    ``trials_converted``) and ``aov_sd`` (sample standard deviation of
    order amounts).
    """
    row = month_values(ds, cfg, [period]).iloc[0]
    return {k: (None if pd.isna(v) else float(v)) for k, v in row.items()}


def daily_values(ds, cfg, period: Period) -> pd.DataFrame:
    """One row per day of ``period`` (``day``, a date): the day's
    ``orders``, ``revenue`` (sum of amounts) and ``discount_orders``, and
    payment attempts ``paid_attempts`` / ``failed_attempts`` (NaN without
    a payment status): the clusters of the period-over-period tests."""
    return ds.memo(("purchase_daily", period), lambda: _daily_values(ds, period), cfg)


def _daily_values(ds, period: Period) -> pd.DataFrame:
    o = facts.paid_orders(ds)
    out = daily(o, "ordered_at", period, orders=_.count(), revenue=_.amount.cast("float64").sum(),
                discount_orders=_.count(where=_._code.notnull()))
    if facts.has_payment_status(ds):
        a = daily(facts.attempts(ds), "ordered_at", period, paid_attempts=_.count(where=_._paid & _._status_known),
                  failed_attempts=_.count(where=_._failed))
        out[["paid_attempts", "failed_attempts"]] = a[["paid_attempts", "failed_attempts"]].to_numpy()
    else:
        out["paid_attempts"] = np.nan
        out["failed_attempts"] = np.nan
    return out


def order_values_by_customer(ds, cfg, period: Period) -> pd.DataFrame:
    """Per customer with a priced order in ``period``: the sum of her order
    amounts (``amount``) and the number of those orders (``orders``) — the
    clusters of the order-value test (a customer's orders share her spend
    level, so they are not independent)."""
    def q():
        o = in_window(facts.paid_orders(ds), "ordered_at", period.start, period.end)
        o = o.filter(o.amount.notnull())
        return o.group_by("customer_id").aggregate(amount=o.amount.cast("float64").sum(), orders=o.count()).execute()

    return ds.memo(("purchase_aov_clusters", period), q, cfg)


def has_last_year(ds, cfg) -> bool:
    """Whether the orders reach back to the same month a year before the
    period (13 months or more of data): the key figures then show it."""
    first = ds.first_date("orders")
    return first is not None and first <= cfg.period.shift(-12).start


NEXT_STEPS_ADVICE = {
    "payment_success_rate": {"down": "purchase_next_payment_down"},
    "aov": {"down": "purchase_next_aov_down"},
}
"""Advice for a significant change (see :data:`journeykit.report.Advice`);
the conversion advice takes the window in days, see :func:`advice`."""


def advice(cfg) -> dict:
    """The section's advice for significant changes, for the key figures
    (:func:`journeykit.report.key_figures`) and the record."""
    return {**NEXT_STEPS_ADVICE, "conversion_rate": {"down": ("purchase_next_conversion_down",
                                                              {"days": window_days(cfg)})}}


def changes(ds, cfg) -> list[compare.Change]:
    """This period against the comparison period, each KPI with its test,
    judged (:func:`journeykit.stats.compare.judge`):

    orders and revenue — quasi-Poisson on the daily figures, comparing the
    mean per day (:func:`compare.daily_count`); AOV — the mean order amount
    with customers as clusters (:func:`compare.clustered_mean`); payment
    success and discount share — quasi-binomial on the daily attempts and
    orders (:func:`compare.clustered_rate`); conversion and trial → paid —
    customers and trials counted once each: two-proportion z-test
    (:func:`compare.rate`); repeat revenue share (a ratio of amounts) and
    median days to first purchase — no test. A KPI that cannot be measured
    for the client has ``None`` in both periods; ``trial_to_paid_rate`` is
    included only when the client has trial subscriptions. Each test is
    also held to the KPI's month-to-month movement over the trend window
    (:func:`monthly`; :func:`compare.month_variance`). With 13+ months of
    orders each KPI carries its value a year before.
    """
    y = cfg.period.shift(-12)
    ly = has_last_year(ds, cfg)
    f = month_values(ds, cfg, [y, cfg.period.previous(), cfg.period] if ly else [cfg.period.previous(), cfg.period])
    prev, cur = f.iloc[-2], f.iloc[-1]
    da, db = daily_values(ds, cfg, cfg.period), daily_values(ds, cfg, cfg.period.previous())
    n_min = int(cfg.definitions.min_sample_size)
    trend = monthly(ds, cfg)

    def hist(col, per_day=False):
        return compare.history(trend, col, cfg.period, per_day=per_day, cfg=cfg)

    def z(v):
        return 0.0 if v is None or pd.isna(v) else float(v)

    def measured(col):
        return not (pd.isna(cur[col]) and pd.isna(prev[col]))

    out = [compare.daily_count("orders", da["orders"], db["orders"], min_n=n_min, history=hist("orders", True))]
    if facts.has_amounts(ds):
        ca, cb = order_values_by_customer(ds, cfg, cfg.period), order_values_by_customer(ds, cfg, cfg.period.previous())
        out += [compare.daily_count("revenue", da["revenue"], db["revenue"], min_n=n_min,
                                    history=hist("revenue", True))
                if cur.orders and prev.orders else
                compare.value("revenue", cur.revenue if cur.orders else None, prev.revenue if prev.orders else None),
                compare.clustered_mean("aov", ca["amount"], ca["orders"], cb["amount"], cb["orders"],
                                       cluster="customer", min_n=n_min, history=hist("aov"))]
    else:
        out += [compare.value("revenue", None, None), compare.value("aov", None, None)]
    out.append(compare.rate("conversion_rate", z(cur.converted), z(cur.cohort), z(prev.converted), z(prev.cohort),
                            min_n=n_min, history=hist("conversion_rate"))
               if measured("cohort") else compare.value("conversion_rate", None, None))
    if facts.has_payment_status(ds):
        out.append(compare.clustered_rate("payment_success_rate", da["paid_attempts"],
                                          da["paid_attempts"] + da["failed_attempts"], db["paid_attempts"],
                                          db["paid_attempts"] + db["failed_attempts"], min_n=n_min,
                                          history=hist("payment_success_rate")))
    else:
        out.append(compare.value("payment_success_rate", None, None))
    if "discount_code" in ds.raw("orders").columns:
        out.append(compare.clustered_rate("discount_order_share", da["discount_orders"], da["orders"],
                                          db["discount_orders"], db["orders"], min_n=n_min, higher_is_better=None,
                                          history=hist("discount_order_share")))
    else:
        out.append(compare.value("discount_order_share", None, None, higher_is_better=None))
    out += [
        compare.value("repeat_revenue_share", cur.repeat_revenue_share, prev.repeat_revenue_share,
                      higher_is_better=None),
        compare.value("median_days_to_first_purchase", cur.median_days_to_first_purchase,
                      prev.median_days_to_first_purchase, higher_is_better=False),
    ]
    if measured("trials"):
        out.append(compare.rate("trial_to_paid_rate", z(cur.trials_converted), z(cur.trials),
                                z(prev.trials_converted), z(prev.trials), min_n=n_min,
                                history=hist("trial_to_paid_rate")))
    last = None
    if ly:
        last = {k: (None if pd.isna(v) else float(v)) for k, v in f.iloc[0].items()}
    return compare.with_last_year(compare.judge(out, cfg, first_date=ds.first_date()), last)

def monthly(ds, cfg) -> pd.DataFrame:
    """One row per month of the trend window (``definitions.trend_periods``
    months ending with the period, starting no earlier than the month of
    the first order): column ``month`` and a column per KPI (definitions of
    :func:`period_values`), plus the counts behind them."""
    since = ds.first_date("orders")
    f = month_values(ds, cfg, trailing_months(cfg, since)).reset_index()
    return month_frame(cfg, since).merge(f, on="month", how="left")


def metrics(ds, cfg, chs: list[compare.Change] | None = None) -> dict:
    """The stable ``metrics.json`` keys of the section (:data:`STABLE_KEYS`,
    each with ``_prev``; ``None`` when not computable), plus
    ``trial_to_paid_rate`` / ``_prev`` (``None`` without trials) and
    ``conversion_cohort`` / ``_prev`` (the conversion denominators; ``None``
    when signups are not known). ``chs``: :func:`changes`, when already
    computed."""
    ch = {c.key: c for c in (chs if chs is not None else changes(ds, cfg))}
    out: dict = {}
    for k in (*STABLE_KEYS, "trial_to_paid_rate"):
        c = ch.get(k)
        out[k] = c.value if c else None
        out[f"{k}_prev"] = c.prev if c else None
    conv = ch["conversion_rate"]
    out["conversion_cohort"] = conv.n if conv.kind == "rate" else None
    out["conversion_cohort_prev"] = conv.n_prev if conv.kind == "rate" else None
    return out


# --------------------------------------------------------------------------
# Breakdowns of the period, small groups folded
# --------------------------------------------------------------------------

def _fold(df: pd.DataFrame, group: str, size: str, cfg, sum_columns: list[str]) -> pd.DataFrame:
    """Fold groups with fewer than ``min_group_size`` ``size`` or fewer than
    ``k_anonymity`` customers into :data:`OTHER`; an "other" row still under
    ``k_anonymity`` customers (summed per group, an upper bound) is dropped."""
    if df.empty:
        return df
    k = int(cfg.definitions.k_anonymity)
    d = df.copy()
    d["_size"] = np.where(d["customers"] >= k, d[size], 0)
    out = compare.fold_small(d, group, "_size", int(cfg.definitions.min_group_size), other=OTHER,
                             sum_columns=[*sum_columns, "customers", "_size"])
    out = out[~((out[group] == OTHER) & (out["customers"] < k))]
    return out.drop(columns="_size").reset_index(drop=True)


def _group_col(t, col: str):
    g = t[col].cast("string").strip()
    return ibis.ifelse(g == "", ibis.null("string"), g).fill_null(UNKNOWN)


def _money(df: pd.DataFrame, ds, columns: list[str]) -> pd.DataFrame:
    if not facts.has_amounts(ds):
        df[columns] = None
    return df


def by_device(ds, cfg, since=None) -> pd.DataFrame | None:
    """Per ``device`` in the period (or from the date ``since`` to the period
    end): ``attempts`` (paid + failed payment attempts), ``failed``,
    ``failure_rate`` (failed / attempts, 0–1; ``None`` without payment
    status), ``orders``, ``revenue``, ``aov`` (revenue per order; both
    ``None`` without amounts), ``customers`` (distinct, for suppression).
    Small groups folded into :data:`OTHER`, rows without a device are
    :data:`UNKNOWN`. ``None`` without a device column."""
    t = facts.attempts(ds)
    if "device" not in t.columns:
        return None
    t = in_window(t, "ordered_at", since or cfg.period.start, cfg.period.end)
    t = t.mutate(group=_group_col(t, "device"), _amount=t.amount.cast("float64"))
    df = t.group_by("group").aggregate(
        attempts=t.count(where=(t._paid & t._status_known) | t._failed), failed=t.count(where=t._failed),
        orders=t.count(where=t._paid), revenue=t._amount.sum(where=t._paid),
        priced=t._amount.count(where=t._paid), customers=t.customer_id.nunique(),
    ).execute()
    df["revenue"] = df["revenue"].fillna(0.0)
    df = _fold(df, "group", "orders", cfg, ["attempts", "failed", "orders", "revenue", "priced"])
    status = facts.has_payment_status(ds)
    df["failure_rate"] = [compare.safe_div(f, a) if status else None for f, a in zip(df["failed"], df["attempts"])]
    df["aov"] = [compare.safe_div(r, n) for r, n in zip(df["revenue"], df["priced"])]
    return _money(df.drop(columns="priced").rename(columns={"group": "device"}), ds, ["revenue", "aov"])


def by_channel(ds, cfg) -> pd.DataFrame | None:
    """Per order ``channel`` in the period: ``orders``, ``order_share`` (of
    the period's orders, 0–1), ``revenue``, ``revenue_share`` (of the
    period's revenue, 0–1), ``aov`` (the money columns ``None`` without
    amounts), ``customers``. Small groups folded into :data:`OTHER`.
    ``None`` without a channel column."""
    p = facts.paid_orders(ds)
    if "channel" not in p.columns:
        return None
    p = in_window(p, "ordered_at", cfg.period.start, cfg.period.end)
    p = p.mutate(group=_group_col(p, "channel"), _amount=p.amount.cast("float64"))
    df = p.group_by("group").aggregate(orders=p.count(), revenue=p._amount.sum(), priced=p._amount.count(),
                                       customers=p.customer_id.nunique()).execute()
    df["revenue"] = df["revenue"].fillna(0.0)
    df = _fold(df, "group", "orders", cfg, ["orders", "revenue", "priced"])
    n, total = df["orders"].sum(), df["revenue"].sum()
    df["order_share"] = [compare.safe_div(x, n) for x in df["orders"]]
    df["revenue_share"] = [compare.safe_div(r, total) for r in df["revenue"]]
    df["aov"] = [compare.safe_div(r, k) for r, k in zip(df["revenue"], df["priced"])]
    df = df.drop(columns="priced").rename(columns={"group": "channel"})
    return _money(df, ds, ["revenue", "revenue_share", "aov"])


def _split(df: pd.DataFrame, flag: str, names: tuple[tuple[bool, str], ...]) -> pd.DataFrame:
    rows = []
    for value, name in names:
        r = df[df[flag] == value]
        n = float(r["orders"].sum()) if len(r) else 0.0
        rev = float(r["revenue"].fillna(0).sum()) if len(r) else 0.0
        priced = float(r["priced"].sum()) if len(r) else 0.0
        rows.append({"group": name, "orders": n, "revenue": rev, "aov": compare.safe_div(rev, priced)})
    return pd.DataFrame(rows)


def discount_split(ds, cfg) -> pd.DataFrame | None:
    """Orders of the period with and without a discount code: rows
    ``with_code`` and ``without_code``; ``orders``, ``order_share`` (0–1),
    ``revenue``, ``aov`` (``None`` without amounts). ``None`` without a
    discount-code column."""
    p = facts.paid_orders(ds)
    if "discount_code" not in p.columns:
        return None
    p = in_window(p, "ordered_at", cfg.period.start, cfg.period.end)
    a = p.amount.cast("float64")
    df = p.group_by(with_code=p._code.notnull()).aggregate(orders=p.count(), revenue=a.sum(),
                                                           priced=a.count()).execute()
    out = _split(df, "with_code", ((True, "with_code"), (False, "without_code")))
    total = out["orders"].sum()
    out["order_share"] = [compare.safe_div(n, total) for n in out["orders"]]
    return _money(out, ds, ["revenue", "aov"])


def discount_codes(ds, cfg, since=None) -> pd.DataFrame | None:
    """Per discount code used in the period (or from the date ``since`` to
    the period end): ``orders``, ``order_share`` (of all the period's
    orders, 0–1), ``first_orders`` and ``first_order_share`` (of the
    period's first orders, 0–1), ``aov`` (``None`` without amounts),
    ``customers``. Small groups folded into :data:`OTHER`. ``None`` without
    a discount-code column; empty when no code was used."""
    p = facts.paid_orders(ds)
    if "discount_code" not in p.columns:
        return None
    p = in_window(p, "ordered_at", since or cfg.period.start, cfg.period.end)
    tot = p.aggregate(orders=p.count(), first=p.count(where=p._seq == 0)).execute().iloc[0]
    c = p.filter(p._code.notnull())
    a = c.amount.cast("float64")
    df = c.group_by(group=c._code).aggregate(orders=c.count(), first_orders=c.count(where=c._seq == 0),
                                             revenue=a.sum(), priced=a.count(),
                                             customers=c.customer_id.nunique()).execute()
    df["revenue"] = df["revenue"].fillna(0.0)
    df = _fold(df, "group", "orders", cfg, ["orders", "first_orders", "revenue", "priced"])
    df["order_share"] = [compare.safe_div(n, tot["orders"]) for n in df["orders"]]
    df["first_order_share"] = [compare.safe_div(n, tot["first"]) for n in df["first_orders"]]
    df["aov"] = [compare.safe_div(r, n) for r, n in zip(df["revenue"], df["priced"])]
    df = df.drop(columns=["priced", "revenue"]).rename(columns={"group": "code"})
    return _money(df, ds, ["aov"])


def new_vs_repeat(ds, cfg) -> pd.DataFrame:
    """Orders of the period split into ``first`` (the customer's first
    order) and ``repeat`` (every later one): ``orders``, ``order_share``,
    ``revenue``, ``revenue_share`` (0–1), ``aov`` (the money columns
    ``None`` without amounts)."""
    p = in_window(facts.paid_orders(ds), "ordered_at", cfg.period.start, cfg.period.end)
    a = p.amount.cast("float64")
    df = p.group_by(repeat=p._seq > 0).aggregate(orders=p.count(), revenue=a.sum(), priced=a.count()).execute()
    out = _split(df, "repeat", ((False, "first"), (True, "repeat")))
    n, total = out["orders"].sum(), out["revenue"].sum()
    out["order_share"] = [compare.safe_div(x, n) for x in out["orders"]]
    out["revenue_share"] = [compare.safe_div(r, total) for r in out["revenue"]]
    return _money(out, ds, ["revenue", "revenue_share", "aov"])


def first_purchase_days(ds, cfg, since=None) -> pd.Series:
    """Days from signup to first order (≥ 0, fractional), one value per
    customer whose first order was placed in the period (or from the date
    ``since`` to the period end); empty when signups are not known
    (:func:`signup_source`)."""
    s = signups(ds)
    if s is None:
        return pd.Series([], dtype="float64", name="days")
    f = in_window(_first_orders(ds), "first_paid_at", since or cfg.period.start, cfg.period.end)
    j = f.inner_join(s, f.customer_id == s.customer_id)
    days = (j.first_paid_at.epoch_seconds() - j.signup_at.epoch_seconds()) / 86400.0
    return j.select(days=ibis.greatest(days, 0.0)).execute()["days"].astype(float)


def days_to_first_purchase(ds, cfg) -> pd.DataFrame:
    """Distribution of days from signup to first order, over the customers
    whose first order was placed in the period: one row per bucket of
    :data:`DAY_BUCKETS` (``bucket`` key, ``customers``, ``share`` 0–1)."""
    d = first_purchase_days(ds, cfg)
    out = pd.DataFrame([{"bucket": key, "customers": float(((d >= lo) & (d < hi)).sum())}
                        for lo, hi, key in DAY_BUCKETS])
    total = out["customers"].sum()
    out["share"] = [compare.safe_div(n, total) for n in out["customers"]]
    return out


__all__ = ["STABLE_KEYS", "MONEY_KEYS", "DAY_BUCKETS", "OTHER", "UNKNOWN", "orders_from_events", "signup_source",
           "signups", "window_days", "month_values", "has_trials", "period_values", "daily_values",
           "order_values_by_customer", "has_last_year", "advice", "changes", "monthly", "metrics",
           "by_device", "by_channel", "discount_split", "discount_codes", "new_vs_repeat", "first_purchase_days",
           "days_to_first_purchase"]
