"""Playbooks: the actions of ``segmentation.playbooks`` and the customers
each selects at the period end, from their lifecycle state, RFM segment,
health band, purchase history, sign-up, silence and subscription renewal
(:class:`journeykit.core.settings.PlaybookRule`); the target lists are
exported with pseudonymized ids."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from journeykit import facts
from journeykit.core.settings import PlaybookRule
from journeykit.data.frames import member
from journeykit.report.results import export
from journeykit.sections.segmentation import segments
from journeykit.sections.segmentation.health import health, subscription_state
from journeykit.sections.segmentation.lifecycle import lifecycle_states

EXPORT_COLUMNS = ["customer_id", "action", "lifecycle_state", "rfm_segment", "health_band", "health_score",
                  "last_seen", "next_renewal"]
"""The columns of ``exports/playbook_<action>.csv``."""


def targets(ds, cfg, end: dt.date | None = None) -> pd.DataFrame:
    """Every customer signed up before ``end`` (default: the period end)
    with what playbooks select on: ``state``, ``segment`` (RFM; NaN outside
    the window or without RFM), ``band`` and ``score`` (NaN when churned),
    ``buyer`` (any paid order before ``end``), ``monetary`` (paid spend in
    the RFM window; NaN without), ``days_since_signup``, ``days_silent``,
    ``last_seen`` and ``next_renewal``."""
    end = end or cfg.period.end
    return ds.memo(("segmentation.targets", end), lambda: _targets(ds, cfg, end), cfg)


def _targets(ds, cfg, end: dt.date) -> pd.DataFrame:
    life = lifecycle_states(ds, cfg, end)
    df = life[["customer_id", "state", "days_since_signup", "days_silent", "last_seen"]].copy()
    r = segments.rfm(ds, cfg, end)
    if r is not None:
        df = df.merge(r[["customer_id", "segment", "monetary"]], on="customer_id", how="left")
    else:
        df["segment"], df["monetary"] = None, np.nan
    if ds.has("orders"):
        o = facts.paid_orders(ds, until=end)
        buyers = o.select(customer_id=o.customer_id.cast("string")).distinct().execute()["customer_id"]
        df["buyer"] = member(df["customer_id"], buyers)
    else:
        df["buyer"] = False
    df = df.merge(health(ds, cfg, end)[["customer_id", "score", "band"]], on="customer_id", how="left")
    sub = subscription_state(ds, cfg, end)
    df = df.merge(sub[["customer_id", "next_renewal"]], on="customer_id", how="left")
    df["next_renewal"] = pd.to_datetime(df["next_renewal"])
    return df


def select(df: pd.DataFrame, rule: PlaybookRule, end: dt.date) -> pd.Series:
    """The customers of :func:`targets` a playbook rule selects at ``end``
    (a boolean mask): every selector set in the rule must hold."""
    m = pd.Series(True, index=df.index)
    if rule.rfm:
        m &= df["segment"].isin(rule.rfm)
    if rule.bands:
        m &= df["band"].isin(rule.bands)
    if rule.states:
        m &= df["state"].isin(rule.states)
    if rule.buyer is not None:
        m &= df["buyer"].astype(bool) == rule.buyer
    if rule.signup_within_days is not None:
        m &= df["days_since_signup"] < rule.signup_within_days
    if rule.renewal_within_days is not None:
        nr = pd.to_datetime(df["next_renewal"])
        m &= nr.notna() & (nr < pd.Timestamp(end) + pd.Timedelta(days=rule.renewal_within_days))
    if rule.inactive_max_days is not None:
        m &= df["days_silent"] < rule.inactive_max_days
    return m


def playbook_counts(ds, cfg) -> pd.DataFrame:
    """One row per playbook of the client's settings, in their order:
    ``action``, ``customers`` it selects at the period end and
    ``revenue_12m``, those customers' paid spend over the RFM look-back
    window (the revenue at stake; ``None`` without order amounts)."""
    df = targets(ds, cfg)
    known = segments.rfm(ds, cfg) is not None
    rows = []
    for r in cfg.segmentation.playbooks:
        sel = select(df, r, cfg.period.end)
        rows.append({"action": r.action, "customers": int(sel.sum()),
                     "revenue_12m": float(df.loc[sel, "monetary"].fillna(0).sum()) if known else None})
    return pd.DataFrame(rows, columns=["action", "customers", "revenue_12m"])


def target_list(ds, cfg, rule: PlaybookRule) -> pd.DataFrame:
    """The customers one playbook selects, as :data:`EXPORT_COLUMNS` (real
    customer ids: :func:`export_playbooks` pseudonymizes them), lowest
    health score first, then by id."""
    df = targets(ds, cfg)
    d = df[select(df, rule, cfg.period.end)]
    out = pd.DataFrame({"customer_id": d["customer_id"], "action": rule.action, "lifecycle_state": d["state"],
                        "rfm_segment": d["segment"], "health_band": d["band"],
                        "health_score": d["score"].round(1), "last_seen": pd.to_datetime(d["last_seen"]).dt.date,
                        "next_renewal": pd.to_datetime(d["next_renewal"]).dt.date})
    return out.sort_values(["health_score", "customer_id"], na_position="last", kind="stable").reset_index(drop=True)


def export_playbooks(ds, cfg) -> list:
    """Write ``exports/playbook_<action>.csv`` for every playbook (through
    :func:`journeykit.report.export`: pseudonymized ids, no personal data).
    Returns the paths written (empty outside a report run)."""
    paths = []
    for rule in cfg.segmentation.playbooks:
        p = export(f"playbook_{rule.action}", target_list(ds, cfg, rule), cfg)
        if p is not None:
            paths.append(p)
    return paths


__all__ = ["EXPORT_COLUMNS", "targets", "select", "playbook_counts", "target_list", "export_playbooks"]
