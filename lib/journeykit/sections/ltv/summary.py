"""The customer summary the purchase models read, built on the engine: one
row per customer in the lifetimes vocabulary (``frequency``, ``recency``,
``T``, ``monetary_value``), and its calibration/holdout split.

Definitions:

- **Purchase**: an order in the sense of :func:`journeykit.facts.purchases`
  (a successful payment).
- **Purchase day**: a customer's purchases on one calendar day, merged into
  one transaction whose amount is the day's total. Repeat purchases are
  counted as distinct purchase days, as in the published CDNOW analyses
  (Fader, Hardie & Lee 2005): same-day orders are one transaction.
- **Customer summary** at an observation end day ``E`` (inclusive), in the
  time unit ``u`` (``definitions.ltv_time_unit``: ``day`` = 1 day, ``week``
  = 7 days, ``month`` = 365.25/12 days): ``frequency`` = purchase days − 1
  (repeat purchases); ``recency`` = days from the first to the last purchase
  day / u; ``T`` = days from the first purchase day to ``E`` / u;
  ``monetary_value`` = mean amount of the repeat purchase days (0 without
  repeat purchases). The unit changes only the scale of ``recency`` and
  ``T``: several purchase days within one week still count separately.
- **Holdout**: the last ``definitions.ltv_holdout_days`` days up to ``E``;
  the calibration summary is the summary at the day before it.

These are this project's own transforms: lifetimes'
``calibration_and_holdout_data`` fails on pandas 3 without a monetary
column, and its ``freq='M'`` is gone (see DESIGN, "Known pitfalls").
"""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd

from journeykit import facts
from journeykit.data.query import ts

UNIT_DAYS = {"day": 1.0, "week": 7.0, "month": 365.25 / 12}
"""Days per model time unit."""

MONTH_DAYS = 365.25 / 12
"""Days per month (for the CLV horizon and the payback curve)."""


def unit_days(unit: str) -> float:
    """Days per model time unit (``day``, ``week`` or ``month``)."""
    if unit not in UNIT_DAYS:
        raise ValueError(f"ltv_time_unit {unit!r}: use one of {', '.join(UNIT_DAYS)}")
    return UNIT_DAYS[unit]


def purchases(ds):
    """Purchases up to the period end (:func:`journeykit.facts.purchases`)
    with a customer: columns ``customer_id`` (string), ``ordered_at``,
    ``amount`` (null when the client's orders carry no amounts). An Ibis
    table; ``None`` without orders."""
    p = facts.purchases(ds)
    if p is None:
        return None
    p = p.filter(p.customer_id.notnull())
    return p.select(customer_id=p.customer_id, ordered_at=p.at, amount=p.amount)


def purchase_days(t, end: dt.date | None = None, start: dt.date | None = None):
    """One row per customer and purchase day: ``customer_id``, ``day``
    (timestamp at midnight), ``amount`` (the day's total), for days
    ``start < day <= end`` (inclusive end; either bound optional).

    ``t`` is an Ibis table with ``customer_id``, ``ordered_at``, ``amount``.
    """
    d = t.mutate(day=t.ordered_at.truncate("D"))
    if end is not None:
        d = d.filter(d.day <= ts(end))
    if start is not None:
        d = d.filter(d.day > ts(start))
    return d.group_by(["customer_id", "day"]).aggregate(amount=d.amount.sum())


def _days_between(later, earlier):
    return ((later.epoch_seconds() - earlier.epoch_seconds()) / 86400.0).round().cast("int64")


def rfm_summary(t, end: dt.date, unit: str = "week"):
    """The customer summary at the observation end day ``end`` (inclusive),
    as an Ibis expression: one row per customer with a purchase on or
    before ``end``.

    Columns: ``customer_id``; ``frequency`` = distinct purchase days − 1;
    ``recency_days`` / ``recency`` = days from the first to the last purchase
    day (/ days per ``unit``); ``T_days`` / ``T`` = days from the first
    purchase day to ``end`` (/ days per unit); ``monetary_value`` = mean
    amount of the repeat purchase days (a day's orders summed; 0 without
    repeat purchases; null when amounts are unknown); ``first_purchase``
    (timestamp of the first purchase day); ``total_spend`` (all purchase
    days; null when amounts are unknown).

    ``t`` is an Ibis table with ``customer_id``, ``ordered_at``, ``amount``
    (e.g. :func:`purchases`).
    """
    u = unit_days(unit)
    d = purchase_days(t, end)
    # The first day's amount by arg-min in the same aggregation (days are
    # distinct per customer): a window over the days per customer cost
    # a third of the query.
    g = d.group_by("customer_id").aggregate(
        first_purchase=d.day.min(), last=d.day.max(), n=d.count(), total_spend=d.amount.sum(),
        first_amount=d.amount.argmin(d.day))
    rec = _days_between(g["last"], g.first_purchase)
    age = _days_between(ibis.literal(ts(end)), g.first_purchase)
    freq = (g.n - 1).cast("int64")
    mon = ibis.ifelse(freq > 0, (g.total_spend - g.first_amount) / freq.cast("float64"),
                      ibis.ifelse(g.total_spend.isnull(), ibis.null("float64"), 0.0))
    return g.select(customer_id=g.customer_id, frequency=freq, recency_days=rec, T_days=age,
                    recency=rec.cast("float64") / u, T=age.cast("float64") / u,
                    monetary_value=mon.cast("float64"), first_purchase=g.first_purchase,
                    total_spend=g.total_spend.cast("float64"))


def calibration_holdout(t, calibration_end: dt.date, observation_end: dt.date, unit: str = "week"):
    """The calibration summary (:func:`rfm_summary` at ``calibration_end``)
    with the holdout of each of its customers, as an Ibis expression.

    Extra columns: ``frequency_holdout`` = purchase days in
    ``(calibration_end, observation_end]``; ``monetary_value_holdout`` =
    their mean amount (0 without any); ``duration_holdout`` = the holdout's
    length in ``unit``. Customers whose first purchase falls in the holdout
    are not in it.
    """
    cal = rfm_summary(t, calibration_end, unit)
    h = purchase_days(t, observation_end, start=calibration_end)
    hg = h.group_by("customer_id").aggregate(frequency_holdout=h.count(), spend_holdout=h.amount.sum())
    j = cal.left_join(hg, cal.customer_id == hg.customer_id)
    fh = j.frequency_holdout.fill_null(0).cast("int64")
    mh = ibis.ifelse(fh > 0, j.spend_holdout / fh.cast("float64"), 0.0)
    days = (observation_end - calibration_end).days
    return j.select(*[j[c] for c in cal.columns], frequency_holdout=fh, monetary_value_holdout=mh.cast("float64"),
                    duration_holdout=ibis.literal(days / unit_days(unit)))


def fit_sample(summary: pd.DataFrame, limit: int, seed: int = 7) -> pd.DataFrame:
    """The customers the purchase models are fitted on: all of ``summary``,
    or a seeded random sample of ``limit`` of its rows when it has more
    (``definitions.ltv_max_fit_customers``). Parameters from 50,000
    customers are precise to about 1 %, and a Pareto/NBD fit on every one
    of a million customers takes minutes; predictions still use every
    customer's own history."""
    if len(summary) <= limit:
        return summary
    rows = np.sort(np.random.default_rng(seed).choice(len(summary), limit, replace=False))
    return summary.iloc[rows]


def triples(summary: pd.DataFrame) -> pd.DataFrame:
    """The distinct (frequency, recency, T) patterns of a customer summary
    with ``weight`` = customers per pattern (what the models are fitted on:
    lifetimes converges more reliably on collapsed, weighted rows).
    Keyed on whole days, so float rounding cannot split a pattern."""
    return (summary.groupby(["frequency", "recency_days", "T_days"], as_index=False)
            .agg(recency=("recency", "first"), T=("T", "first"), weight=("customer_id", "size")))


__all__ = ["UNIT_DAYS", "MONTH_DAYS", "unit_days", "purchases", "purchase_days", "rfm_summary", "calibration_holdout",
           "fit_sample", "triples"]
