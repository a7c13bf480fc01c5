"""Prediction populations and labels: who is live at a cutoff, and what
happened to them in the horizon ``[c, c + H)`` after it (``H`` =
:func:`horizon_days`: ``definitions.churn_inactivity_days`` for churn,
``prediction.horizon_days`` for the other targets).

- **churn**: the client's churn definition (``D`` =
  ``definitions.churn_inactivity_days``), applied twice. The base is the
  customers not churned at ``c`` (activity in the ``D`` days before it);
  the label is 1 for those churned at ``c + D`` (no activity in
  ``[c, c + D)``). A customer already silent for ``D`` days is churned, not
  at risk, and is never scored; the label window is the definition's own,
  so "expected churners" means what the retention section's churn means.
  Activity is :func:`journeykit.facts.activity_days`; with
  ``prediction.churn_label: purchase`` the base and the label use
  purchases only.
- **promoter**: of the customers who answered an NPS survey in
  ``[c, c + H)``, those whose last answer there was ≥ ``promoter_score``.
- **upsell**: of the live customers who had bought before ``c``, those who
  spend more than usual in ``[c, c + H)`` or move to a higher subscription
  amount (:func:`upsell_labels`).

Every function takes the run's ``cfg`` (its ``prediction`` settings and
``definitions``).
"""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd

from journeykit import facts
from journeykit.data.frames import member
from journeykit.data.query import ts


def lookback_days(cfg, target: str | None = None) -> int:
    """Days of activity before a cutoff that make a customer live: for
    churn always ``definitions.churn_inactivity_days`` (not churned under
    the client's definition); for the other targets
    ``prediction.lookback_days``, else the same."""
    d = int(cfg.definitions.churn_inactivity_days)
    return d if target == "churn" else int(cfg.prediction.lookback_days or d)


def horizon_days(cfg, target: str) -> int:
    """The label window ``H`` of a target, in days: for churn
    ``definitions.churn_inactivity_days`` (the label is the churn definition
    applied at ``c + H``); for promoter and upsell ``prediction.horizon_days``."""
    if target == "churn":
        return int(cfg.definitions.churn_inactivity_days)
    return int(cfg.prediction.horizon_days)


def has_nps(ds) -> bool:
    """Whether survey answers can be tied to customers and carry an NPS score."""
    return ds.has("surveys") and {"customer_id", "nps"} <= set(ds.table("surveys").columns)


def live_customers(ds, cutoff: dt.date, cfg, days: int | None = None) -> pd.Index:
    """Customers with activity (or a purchase, by ``churn_label``) in the
    ``days`` before ``cutoff`` (default :func:`lookback_days`): the base
    every model scores. Computed once per dataset, cutoff, window and rule."""
    by = cfg.prediction.churn_label
    lo = cutoff - dt.timedelta(days=days or lookback_days(cfg))

    def build():
        a = facts.activity_days(ds, by)
        if a is None:
            return pd.Index([], dtype=object, name="customer_id")
        a = a.filter((a.day >= ts(lo)) & (a.day < ts(cutoff)))
        ids = a.select("customer_id").distinct().execute()["customer_id"].astype(str)
        return pd.Index(np.sort(ids.to_numpy(dtype=object)), name="customer_id")

    return ds.memo(("prediction_live", cutoff, lo, by), build)


def churn_labels(ds, cutoff: dt.date, cfg) -> pd.Series:
    """For each customer not churned at ``cutoff`` (activity, or a purchase
    by ``churn_label``, in the ``D`` days before it; ``D`` =
    ``definitions.churn_inactivity_days``): 1 when she is churned at
    ``cutoff + D`` (no activity in ``[cutoff, cutoff + D)``), else 0;
    indexed by ``customer_id``."""
    st = cfg.prediction
    d = horizon_days(cfg, "churn")
    base = live_customers(ds, cutoff, cfg, d)
    a = facts.activity_days(ds, st.churn_label)
    if a is None:
        return pd.Series(np.zeros(len(base), dtype="int64"), index=base, name="churn")
    hi = cutoff + dt.timedelta(days=d)
    seen = a.filter((a.day >= ts(cutoff)) & (a.day < ts(hi))).select("customer_id").distinct().execute()["customer_id"]
    return pd.Series((~member(base, seen.astype(str))).astype("int64"), index=base, name="churn")


def promoter_labels(ds, cutoff: dt.date, cfg) -> pd.Series | None:
    """1 when the last NPS answer of a customer in ``[cutoff, cutoff + H)``
    is ≥ ``promoter_score``, 0 when below; only customers who answered in
    that window and signed up before the cutoff. ``None`` without survey
    answers tied to customers (:func:`has_nps`)."""
    if not has_nps(ds):
        return None
    st = cfg.prediction
    s = ds.table("surveys")
    hi = cutoff + dt.timedelta(days=st.horizon_days)
    s = s.filter(s.customer_id.notnull() & s.nps.notnull() & (s.responded_at >= ts(cutoff)) & (s.responded_at < ts(hi)))
    w = ibis.window(group_by=s.customer_id, order_by=ibis.desc(s.responded_at))
    s = s.mutate(rk=ibis.row_number().over(w))
    s = s.filter(s.rk == 0)
    cu = ds.table("customers", until=cutoff)
    c = cu.select(cid=cu.customer_id.cast("string"))
    j = s.inner_join(c, s.customer_id.cast("string") == c.cid)
    df = j.select(customer_id=j.cid, nps=j.nps).execute()
    y = (df["nps"].astype(float) >= st.promoter_score).astype("int64")
    return pd.Series(y.to_numpy(), index=pd.Index(df["customer_id"].astype(str), name="customer_id"),
                     name="promoter").sort_index()


def upsell_labels(ds, cutoff: dt.date, cfg) -> pd.Series | None:
    """1 for a live customer with a paid order before ``cutoff`` whose paid
    spend in ``[cutoff, cutoff + H)`` exceeds ``(1 + upsell_uplift)`` × her
    baseline, or who starts a subscription there with a higher monthly
    amount than she had running at the cutoff (needs ``subscriptions.mrr``);
    else 0.

    Baseline: paid spend in the ``upsell_baseline_days`` before the cutoff
    (from her first paid order, over at least ``H`` days) × ``H`` / that
    span — her usual spend per ``H`` days. ``None`` without orders or
    without amounts (:func:`journeykit.facts.has_amounts`).
    """
    if not ds.has("orders") or not facts.has_amounts(ds):
        return None
    st = cfg.prediction
    H = st.horizon_days
    base = live_customers(ds, cutoff, cfg)
    o = facts.attempts(ds)
    o = o.filter(o._paid)
    lo = cutoff - dt.timedelta(days=st.upsell_baseline_days)
    hi = cutoff + dt.timedelta(days=H)
    before = o.filter(o.ordered_at < ts(cutoff))
    g = before.group_by(before.customer_id.cast("string").name("customer_id")).aggregate(
        first=before.ordered_at.min(),
        past=before.amount.sum(where=before.ordered_at >= ts(lo)),
    ).execute()
    after = o.filter((o.ordered_at >= ts(cutoff)) & (o.ordered_at < ts(hi)))
    f = after.group_by(after.customer_id.cast("string").name("customer_id")).aggregate(future=after.amount.sum()).execute()
    df = g.set_index("customer_id").join(f.set_index("customer_id"))
    df = df[member(df.index, base)]
    start = pd.to_datetime(df["first"]).clip(lower=pd.Timestamp(lo))
    span = ((pd.Timestamp(cutoff) - start).dt.total_seconds() / 86400).clip(lower=H)
    baseline = df["past"].fillna(0.0) * H / span
    future = df["future"].fillna(0.0)
    y = (future > (1 + st.upsell_uplift) * baseline) & (future > 0)
    if ds.has("subscriptions") and "mrr" in ds.table("subscriptions").columns:
        s = ds.table("subscriptions")
        ended = s.ended_at if "ended_at" in s.columns else ibis.null("timestamp")
        run = s.filter((s.started_at < ts(cutoff)) & (ended.isnull() | (ended >= ts(cutoff))))
        now = run.group_by(run.customer_id.cast("string").name("customer_id")).aggregate(
            m0=run.mrr.cast("float64").max()).execute()
        new = s.filter((s.started_at >= ts(cutoff)) & (s.started_at < ts(hi)))
        nxt = new.group_by(new.customer_id.cast("string").name("customer_id")).aggregate(
            m1=new.mrr.cast("float64").max()).execute()
        m = pd.DataFrame(index=df.index).join(now.set_index("customer_id")).join(nxt.set_index("customer_id"))
        y = y | (m["m1"].fillna(0) > m["m0"].fillna(0))
    return pd.Series(y.astype("int64").to_numpy(), index=df.index.rename("customer_id"), name="upsell").sort_index()


LABELERS = {"churn": churn_labels, "promoter": promoter_labels, "upsell": upsell_labels}
"""The labeller of each target."""


def scoring_population(ds, target: str, cfg) -> pd.Index:
    """Who a model scores at the period end: the customers not churned
    under the client's definition (churn); the live customers with no NPS
    answer in the last ``H`` days (promoter); the live customers who have
    bought (upsell)."""
    end = cfg.period.end
    base = live_customers(ds, end, cfg, lookback_days(cfg, target))
    if target == "promoter" and has_nps(ds):
        s = ds.table("surveys")
        lo = end - dt.timedelta(days=cfg.prediction.horizon_days)
        s = s.filter(s.nps.notnull() & (s.responded_at >= ts(lo)))
        recent = s.select(c=s.customer_id.cast("string")).distinct().execute()["c"]
        base = base[~member(base, recent)]
    if target == "upsell" and ds.has("orders"):
        o = facts.attempts(ds)
        o = o.filter(o._paid)
        buyers = o.select(c=o.customer_id.cast("string")).distinct().execute()["c"]
        base = base[member(base, buyers)]
    return base


__all__ = ["lookback_days", "horizon_days", "has_nps", "live_customers", "churn_labels", "promoter_labels", "upsell_labels",
           "LABELERS", "scoring_population"]
