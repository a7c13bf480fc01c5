"""KPIs of the journey stages, one module per stage.

Every stage module follows one shape, so notebooks stay thin and the
summary can read any stage the same way:

- ``period_values(ds, period)`` → dict of the stage's KPIs for one month,
  computed on the engine (Ibis on DuckDB) from rows with
  ``period.start <= t < period.end``; only small results come back;
- ``changes(ds, cfg)`` → list of :class:`journeykit.stats.compare.Change`, this
  period against the comparison period, each with its test;
- ``monthly(ds, cfg)`` → one row per month of the trailing
  ``definitions.trend_periods`` months, a column per KPI (for trend charts);
- breakdown functions (by channel, device, touchpoint, cohort), with small
  groups folded into "other" (:func:`journeykit.stats.compare.fold_small`);
- ``metrics(ds, cfg)`` → the stable ``metrics.json`` keys of the section,
  ``null`` where not computable, rates 0–1, each with ``_prev``.

Helpers shared by the stage modules live here.
"""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd

from journeykit.core.periods import Period


def ts(d: dt.date) -> ibis.expr.types.TimestampScalar:
    """A date as an Ibis timestamp literal at midnight."""
    return ibis.timestamp(dt.datetime.combine(d, dt.time()))


def in_period(t, column: str, period: Period):
    """Rows of ``t`` whose ``column`` falls inside ``period`` (start ≤ x < end)."""
    return t.filter((t[column] >= ts(period.start)) & (t[column] < ts(period.end)))


def in_window(t, column: str, start: dt.date, end: dt.date):
    """Rows of ``t`` with ``start <= column < end``."""
    return t.filter((t[column] >= ts(start)) & (t[column] < ts(end)))


def month_of(col):
    """The first day of the month of a timestamp column (for grouping by month)."""
    return col.truncate("M")


def trailing_months(cfg) -> list[Period]:
    """The trend window: the ``definitions.trend_periods`` months ending with the period."""
    return cfg.period.trailing(cfg.definitions.trend_periods)


def month_frame(cfg) -> pd.DataFrame:
    """One row per month of the trend window, column ``month`` (timestamps),
    to left-join monthly KPIs onto so that empty months show as gaps, not
    as missing x positions."""
    return pd.DataFrame({"month": [pd.Timestamp(p.start) for p in trailing_months(cfg)]})


def scalar(expr) -> float | None:
    """Execute an Ibis scalar expression; ``None`` for NULL."""
    v = expr.execute()
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def memo(ds, key, fn):
    """``fn()``, computed once per loaded dataset and ``key`` and then
    returned as a copy (the data is read-only, so a notebook's cells and the
    closing ``record`` share one query instead of repeating it; on a million
    customers a stage's monthly trend is tens of seconds)."""
    store = ds.__dict__.setdefault("_stage_memo", {})
    if key not in store:
        store[key] = fn()
    v = store[key]
    return v.copy() if hasattr(v, "copy") else v


__all__ = ["ts", "in_period", "in_window", "month_of", "trailing_months", "month_frame", "scalar", "memo"]
