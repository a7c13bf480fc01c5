"""RFM segments and value tiers at a period end.

The RFM scores and segments are :func:`journeykit.facts.rfm` (the one RFM
of the report: buyers of the ``segmentation.rfm.lookback_days`` days before
the end, quintile scores, the client's segment rules); this module counts
and summarises them, follows customers between segments, and ranks buyers
by spend (value tiers, the Pareto curve, the top-10% revenue share).

RFM needs order amounts (the M): a client whose orders carry none (orders
derived from ``purchase`` events without a ``value``) has no RFM segments
and no value tiers, and :func:`rfm_reason` / :func:`tiers_reason` say why.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

from journeykit import facts
from journeykit.sections.segmentation.transitions import transitions

SUMMARY_COLUMNS = ["segment", "customers", "share", "revenue", "revenue_share", "recency_days", "frequency",
                   "monetary"]


# --------------------------------------------------------------------------
# RFM
# --------------------------------------------------------------------------

def rfm_reason(ds, cfg, end: dt.date | None = None) -> str | None:
    """Why there are no RFM segments at ``end`` (default: the period end):
    ``"no_orders"`` (no orders table), ``"no_amounts"`` (order amounts are
    unknown, so there is no monetary score) or ``"no_buyers"`` (no paid
    order in the look-back window); ``None`` when there are segments."""
    if not ds.has("orders"):
        return "no_orders"
    if not facts.has_amounts(ds):
        return "no_amounts"
    if facts.rfm(ds, cfg, end).empty:
        return "no_buyers"
    return None


def rfm(ds, cfg, end: dt.date | None = None) -> pd.DataFrame | None:
    """:func:`journeykit.facts.rfm` at ``end`` (every buyer of the window
    with ``recency_days``, ``frequency``, ``monetary``, her scores and
    ``segment``; empty without a buyer), or ``None`` when RFM cannot be
    computed for this client (no orders, or no order amounts)."""
    if rfm_reason(ds, cfg, end) in ("no_orders", "no_amounts"):
        return None
    return facts.rfm(ds, cfg, end)


def segment_summary(df: pd.DataFrame, cfg) -> pd.DataFrame:
    """Per RFM segment of ``df`` (a :func:`rfm` frame), in the order of the
    client's rules, every segment listed even when empty: ``customers``,
    ``share`` (of the buyers, 0–1), ``revenue`` (their spend in the window),
    ``revenue_share`` (0–1), and the mean ``recency_days``, ``frequency``
    and ``monetary``."""
    keys = facts.segment_keys(cfg)
    g = df.groupby("segment").agg(customers=("customer_id", "size"), revenue=("monetary", "sum"),
                                  recency_days=("recency_days", "mean"), frequency=("frequency", "mean"),
                                  monetary=("monetary", "mean"))
    g = g.reindex(keys)
    g["customers"] = g["customers"].fillna(0).astype("int64")
    g["revenue"] = g["revenue"].fillna(0.0)
    n, rev = g["customers"].sum(), g["revenue"].sum()
    g["share"] = g["customers"] / n if n else np.nan
    g["revenue_share"] = g["revenue"] / rev if rev else np.nan
    return g.rename_axis("segment").reset_index()[SUMMARY_COLUMNS]


def segment_counts(ds, cfg, end: dt.date | None = None) -> dict[str, int] | None:
    """Customers per RFM segment at ``end`` (every segment key of the
    client's rules, 0 when empty); ``None`` when RFM cannot be computed
    (:func:`rfm`)."""
    df = rfm(ds, cfg, end)
    if df is None:
        return None
    s = segment_summary(df, cfg)
    return {k: int(v) for k, v in zip(s["segment"], s["customers"])}


def rfm_transitions(ds, cfg) -> pd.DataFrame | None:
    """Customers by RFM segment at the comparison period end (rows) and at
    this period end (columns), each end recomputed from the data before it;
    :data:`~journeykit.sections.segmentation.transitions.NONE` = no paid
    order in that end's window. ``None`` when RFM cannot be computed."""
    now, prev = rfm(ds, cfg), rfm(ds, cfg, cfg.period.previous().end)
    if now is None:
        return None
    return transitions(prev.set_index("customer_id")["segment"], now.set_index("customer_id")["segment"],
                       facts.segment_keys(cfg))


# --------------------------------------------------------------------------
# Value tiers
# --------------------------------------------------------------------------

def tiers_reason(ds, cfg, end: dt.date | None = None) -> str | None:
    """Why there are no value tiers at ``end``: the reasons of
    :func:`rfm_reason`, or ``"no_revenue"`` when the buyers spent nothing;
    ``None`` when there are tiers."""
    why = rfm_reason(ds, cfg, end)
    if why is not None:
        return why
    return None if facts.rfm(ds, cfg, end)["monetary"].sum() > 0 else "no_revenue"


def value_tiers(base: pd.DataFrame) -> pd.DataFrame:
    """Revenue deciles of the buyers in ``base`` (columns ``customer_id``,
    ``monetary``): buyers ranked by spend (ties by customer id), decile 1 =
    the top 10%. Columns ``decile``, ``customers``, ``revenue``,
    ``revenue_share`` (0–1), ``cum_share`` (cumulative, 0–1) and
    ``min_spend`` (the lowest spend in the decile)."""
    cols = ["decile", "customers", "revenue", "revenue_share", "cum_share", "min_spend"]
    if base.empty:
        return pd.DataFrame(columns=cols)
    d = base.sort_values(["monetary", "customer_id"], ascending=[False, True], kind="stable").reset_index(drop=True)
    n = len(d)
    d["decile"] = (np.arange(n) * 10 // n) + 1
    g = d.groupby("decile").agg(customers=("customer_id", "size"), revenue=("monetary", "sum"),
                                min_spend=("monetary", "min")).reset_index()
    tot = g["revenue"].sum()
    g["revenue_share"] = g["revenue"] / tot if tot else np.nan
    g["cum_share"] = g["revenue_share"].cumsum()
    return g[cols]


def pareto_curve(base: pd.DataFrame) -> pd.DataFrame:
    """The Pareto (Lorenz-type) curve of the buyers in ``base`` ranked by
    spend: ``customer_share`` (x, 0–1) and cumulative ``revenue_share``
    (0–1), starting at (0, 0); the single point (0, 0) without revenue."""
    if base.empty or not base["monetary"].sum():
        return pd.DataFrame({"customer_share": [0.0], "revenue_share": [0.0]})
    v = np.sort(base["monetary"].astype(float).to_numpy())[::-1]
    n = len(v)
    return pd.DataFrame({"customer_share": np.r_[0, np.arange(1, n + 1) / n],
                         "revenue_share": np.r_[0, np.cumsum(v) / v.sum()]})


def top_share(base: pd.DataFrame, fraction: float = 0.1) -> float | None:
    """Share of revenue (0–1) from the top ``fraction`` of buyers in ``base``
    by spend (the top ``ceil(fraction × n)`` buyers); ``None`` without
    buyers or without revenue."""
    if base is None or base.empty:
        return None
    v = np.sort(base["monetary"].astype(float).to_numpy())[::-1]
    tot = v.sum()
    if not tot > 0:
        return None
    return float(v[: math.ceil(fraction * len(v))].sum() / tot)


def top10pct_revenue_share(ds, cfg, end: dt.date | None = None) -> float | None:
    """Revenue share of the top 10% of buyers at ``end``: numerator, the
    spend of the top ``ceil(n / 10)`` buyers by spend; denominator, the
    spend of all ``n`` customers with a paid order in the
    ``rfm.lookback_days`` days before ``end``. Rate 0–1; ``None`` without
    value tiers (:func:`tiers_reason`)."""
    return top_share(rfm(ds, cfg, end), 0.1)


__all__ = ["rfm_reason", "rfm", "segment_summary", "segment_counts", "rfm_transitions", "tiers_reason",
           "value_tiers", "pareto_curve", "top_share", "top10pct_revenue_share"]
