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
    start = end - dt.timedelta(days=cfg.segmentation.health.survey_days)
    frames, csat_parts = [pd.DataFrame({"customer_id": pd.Series([], dtype="object")})], []
    nps = None
    if _has_survey_ids(ds):
        s = ds.table("surveys", until=end)
        s = in_window(s.filter(s.customer_id.notnull()), "responded_at", start, end)
        s = s.mutate(customer_id=s.customer_id.cast("string"))
        if "nps" in s.columns:
            sn = s.filter(s.nps.notnull())
            w = ibis.window(group_by=sn.customer_id, order_by=[ibis.desc(sn.responded_at), ibis.desc(sn.response_id)])
            sn = sn.mutate(_rn=ibis.row_number().over(w))
            nps = sn.filter(sn._rn == 0).select("customer_id", nps=sn.nps.cast("float64")).execute()
        if "csat" in s.columns:
            csat_parts.append(s.filter(s.csat.notnull()).select("customer_id", score=s.csat.cast("float64")))
        frames.append(s.select("customer_id").distinct().execute())
    tk = None
    if ds.has("tickets"):
        t = in_window(ds.table("tickets", until=end), "created_at", start, end)
        t = t.mutate(customer_id=t.customer_id.cast("string"))
        tk = t.group_by("customer_id").aggregate(tickets=t.count()).execute()
        frames.append(tk[["customer_id"]])
        if "csat" in t.columns:
            csat_parts.append(t.filter(t.csat.notnull()).select("customer_id", score=t.csat.cast("float64")))
    out = pd.concat(frames, ignore_index=True)[["customer_id"]].drop_duplicates()
    out = out.merge(nps, on="customer_id", how="left") if nps is not None else out.assign(nps=np.nan)
    if csat_parts:
        u = csat_parts[0] if len(csat_parts) == 1 else ibis.union(*csat_parts, distinct=False)
        cs = u.group_by("customer_id").aggregate(csat=u.score.mean()).execute()
        out = out.merge(cs, on="customer_id", how="left")
    else:
        out["csat"] = np.nan
    out = out.merge(tk, on="customer_id", how="left") if tk is not None else out.assign(tickets=0)
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
