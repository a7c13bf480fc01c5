"""Experience segments: customers by what they told us (their latest NPS
answer, their CSAT scores) and how often they needed support (tickets),
over the ``segmentation.health.survey_days`` before a period end.

Needs ``surveys`` with a ``customer_id`` (NPS, CSAT) or ``tickets``
(support load, CSAT); without either :func:`experience_reason` says why.
"""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd

from journeykit.data.query import in_window

NPS_GROUPS = ("promoter", "passive", "detractor", "none")
"""NPS groups in display order: 9–10, 7–8, 0–6, no answer."""

def _has_survey_ids(ds) -> bool:
    return ds.has("surveys") and "customer_id" in ds.table("surveys").columns


def experience_reason(ds, cfg, end: dt.date | None = None) -> str | None:
    """Why there are no experience segments at ``end``: ``"no_tables"``
    (neither surveys nor tickets), ``"no_customer_ids"`` (surveys that do
    not say who answered, and no tickets) or ``"no_rows"`` (no answer and
    no ticket in the window); ``None`` when there are segments."""
    if not (ds.has("surveys") or ds.has("tickets")):
        return "no_tables"
    if not (_has_survey_ids(ds) or ds.has("tickets")):
        return "no_customer_ids"
    return "no_rows" if experience(ds, cfg, end).empty else None


def experience(ds, cfg, end: dt.date | None = None) -> pd.DataFrame | None:
    """Per customer with a survey answer or a ticket in the
    ``health.survey_days`` days before ``end`` (default: the period end):
    ``nps`` (her latest NPS answer, 0–10), ``nps_group`` (promoter 9–10,
    passive 7–8, detractor 0–6, or none), ``csat`` (mean of her ticket and
    survey CSAT scores, 1–5, NaN without one) and ``tickets`` (tickets
    opened). ``None`` when the client has no usable surveys or tickets
    (:func:`experience_reason`)."""
    end = end or cfg.period.end
    if not (_has_survey_ids(ds) or ds.has("tickets")):
        return None
    return ds.memo(("segmentation.experience", end), lambda: _experience(ds, cfg, end), cfg)


def _experience(ds, cfg, end: dt.date) -> pd.DataFrame:
    # One query per table: each customer's latest NPS answer (rows with a
    # score first, then the latest), and her CSAT sums and counts, so the
    # mean over surveys and tickets together is (sum + sum) / (n + n).
    start = end - dt.timedelta(days=cfg.segmentation.health.survey_days)
    frames = [pd.DataFrame({"customer_id": pd.Series([], dtype="object")})]
    parts = []
    if _has_survey_ids(ds):
        s = ds.table("surveys", until=end)
        s = in_window(s.filter(s.customer_id.notnull()), "responded_at", start, end)
        s = s.mutate(customer_id=s.customer_id.cast("string"))
        aggs = {}
        if "nps" in s.columns:
            w = ibis.window(group_by=s.customer_id,
                            order_by=[s.nps.isnull(), ibis.desc(s.responded_at), ibis.desc(s.response_id)])
            s = s.mutate(_rn=ibis.row_number().over(w))
            aggs["nps"] = s.nps.cast("float64").max(where=s._rn == 0)
        if "csat" in s.columns:
            aggs |= {"s_sum": s.csat.cast("float64").sum(), "s_n": s.csat.count()}
        sv = (s.group_by("customer_id").aggregate(**aggs) if aggs else s.select("customer_id").distinct()).execute()
        frames.append(sv[["customer_id"]])
        parts.append(sv)
    tk = None
    if ds.has("tickets"):
        t = in_window(ds.table("tickets", until=end), "created_at", start, end)
        t = t.mutate(customer_id=t.customer_id.cast("string"))
        aggs = {"tickets": t.count()}
        if "csat" in t.columns:
            aggs |= {"t_sum": t.csat.cast("float64").sum(), "t_n": t.csat.count()}
        tk = t.group_by("customer_id").aggregate(**aggs).execute()
        frames.append(tk[["customer_id"]])
        parts.append(tk)
    out = pd.concat(frames, ignore_index=True)[["customer_id"]].drop_duplicates()
    for part in parts:
        out = out.merge(part, on="customer_id", how="left")
    if "nps" not in out.columns:
        out["nps"] = np.nan
    total = sum(out[c].fillna(0.0) for c in ("s_sum", "t_sum") if c in out.columns)
    n = sum(out[c].fillna(0) for c in ("s_n", "t_n") if c in out.columns)
    out["csat"] = (total / n).where(n > 0) if isinstance(n, pd.Series) else np.nan
    if "tickets" not in out.columns:
        out["tickets"] = 0
    out["nps"] = out["nps"].astype(float)
    out["csat"] = out["csat"].astype(float)
    out["tickets"] = out["tickets"].fillna(0).astype("int64")
    out["nps_group"] = np.select([out["nps"] >= 9, out["nps"] >= 7, out["nps"].notna()],
                                 ["promoter", "passive", "detractor"], "none")
    return out.sort_values("customer_id", kind="stable").reset_index(drop=True)[
        ["customer_id", "nps", "nps_group", "csat", "tickets"]]


def experience_groups(df: pd.DataFrame) -> pd.DataFrame:
    """Customers of ``df`` (an :func:`experience` frame) by NPS group ×
    support load (``load``: ``"0"``, ``"1"``, ``"2"`` = two or more
    tickets): ``customers``, ``share`` (of the customers in ``df``, 0–1)
    and mean ``csat`` (1–5). Groups in :data:`NPS_GROUPS` × load order;
    empty groups are not listed."""
    cols = ["nps_group", "load", "customers", "share", "csat"]
    if df.empty:
        return pd.DataFrame(columns=cols)
    load = np.select([df["tickets"] >= 2, df["tickets"] == 1], ["2", "1"], "0")
    g = df.assign(load=load).groupby(["nps_group", "load"]).agg(customers=("customer_id", "size"),
                                                               csat=("csat", "mean")).reset_index()
    order = {k: i for i, k in enumerate(NPS_GROUPS)}
    g = g.sort_values(["nps_group", "load"], key=lambda s: s.map(order) if s.name == "nps_group" else s)
    g["share"] = g["customers"] / g["customers"].sum()
    return g.reset_index(drop=True)[cols]


__all__ = ["NPS_GROUPS", "experience_reason", "experience", "experience_groups"]
