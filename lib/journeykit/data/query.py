"""Ibis helpers for questions asked by period: a date as a timestamp
literal, rows inside a window, the month of a timestamp, the trend window
of a run and its month frame.
"""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd

from journeykit.core.periods import Period


def ts(d: dt.date) -> ibis.expr.types.TimestampScalar:
    """A date as an Ibis timestamp literal at midnight."""
    return ibis.timestamp(dt.datetime.combine(d, dt.time()))


def in_window(t, column: str, start: dt.date, end: dt.date):
    """Rows of ``t`` with ``start <= column < end``."""
    return t.filter((t[column] >= ts(start)) & (t[column] < ts(end)))


def month_of(col):
    """The first day of the month of a timestamp column (for grouping by month)."""
    return col.truncate("M")


def trailing_months(cfg, since: dt.date | None = None) -> list[Period]:
    """The trend window: the ``definitions.trend_periods`` months ending with
    the period; with ``since`` (the first date with data, e.g.
    :meth:`journeykit.data.dataset.Dataset.first_date`), only the months
    from the one holding ``since`` on, so a trend never shows the months
    before the data starts as zeros. The period itself is always kept."""
    months = cfg.period.trailing(cfg.definitions.trend_periods)
    if since is None:
        return months
    kept = [p for p in months if p.end > since]
    return kept or months[-1:]


def month_frame(cfg, since: dt.date | None = None) -> pd.DataFrame:
    """One row per month of the trend window (:func:`trailing_months`),
    column ``month`` (timestamps), to left-join monthly KPIs onto so that
    empty months show as gaps, not as missing x positions."""
    return pd.DataFrame({"month": [pd.Timestamp(p.start) for p in trailing_months(cfg, since)]})


def daily(t, column: str, period: Period, **aggs) -> pd.DataFrame:
    """Daily aggregates of the rows of ``t`` whose ``column`` falls in
    ``period``: one row per calendar day of the period (column ``day``, a
    date), the aggregates ``aggs`` (name → Ibis expression on ``t``, e.g.
    ``clicks=t.clicks.sum()``), 0 on days without rows. The input of the
    day-level tests of :mod:`journeykit.stats.compare`."""
    w = in_window(t, column, period.start, period.end)
    w = w.mutate(_day=w[column].date())
    got = w.group_by("_day").aggregate(**{k: (v.fill_null(0) if hasattr(v, "fill_null") else v)
                                          for k, v in aggs.items()}).execute() if aggs else None
    days = pd.date_range(period.start, period.end - dt.timedelta(days=1), freq="D").date
    out = pd.DataFrame({"day": days})
    if got is None or got.empty:
        for k in aggs:
            out[k] = 0.0
        return out
    got["_day"] = pd.to_datetime(got["_day"]).dt.date
    out = out.merge(got.rename(columns={"_day": "day"}), on="day", how="left")
    for k in aggs:
        out[k] = pd.to_numeric(out[k], errors="coerce").fillna(0.0).astype(float)
    return out


def days_before(end: dt.date, col):
    """Days from the timestamp column ``col`` to midnight of ``end``,
    fractional (an Ibis expression)."""
    return (ts(end).epoch_seconds() - col.epoch_seconds()) / 86400.0


__all__ = ["ts", "daily", "days_before", "in_window", "month_of", "trailing_months", "month_frame"]
