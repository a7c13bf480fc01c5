"""The lifecycle state of every customer at a period end
(:data:`journeykit.facts.CUSTOMER_STATES`: new, active, reactivated, at
risk, dormant, churned), from her sign-up and her silence.

Activity is :func:`journeykit.facts.activity_days` (an event carrying her
``customer_id`` or an ``orders`` row of any payment status); her sign-up
also counts as a moment of contact when working out how long she has been
silent. Each end is computed from the rows before it only, so the
comparison period's states are what was known then. Thresholds:
``segmentation.lifecycle`` and ``definitions.churn_inactivity_days``.
"""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd

from journeykit import facts
from journeykit.core.settings import LifecycleSettings
from journeykit.data.query import days_before, ts
from journeykit.sections.segmentation.transitions import transitions


def assign_states(days_since_signup: pd.Series, days_silent: pd.Series, reactivated: pd.Series,
                  lc: LifecycleSettings, churn_days: int) -> pd.Series:
    """The lifecycle state of each customer at a period end, first rule wins:

    1. **new**: signed up less than ``new_days`` days ago;
    2. **reactivated**: silent less than ``at_risk_days`` days, and came back
       within the last ``reactivated_days`` days after a silence of at least
       ``dormant_days`` days;
    3. **active**: silent less than ``at_risk_days`` days;
    4. **at risk**: silent less than ``dormant_days`` days;
    5. **dormant**: silent less than ``churn_days`` days
       (``definitions.churn_inactivity_days``);
    6. **churned**: otherwise.

    "Silent" days count from the last activity (or sign-up) to the period end.
    """
    s = days_silent.astype(float)
    conds = [days_since_signup.astype(float) < lc.new_days,
             reactivated.astype(bool) & (s < lc.at_risk_days),
             s < lc.at_risk_days, s < lc.dormant_days, s < churn_days]
    return pd.Series(np.select(conds, ["new", "reactivated", "active", "at_risk", "dormant"], "churned"),
                     index=days_silent.index, dtype="object")


def customer_activity(ds, cfg, end: dt.date) -> pd.DataFrame:
    """Per customer signed up before ``end``: ``signup_at``, ``last_seen``
    (her last activity, or sign-up when later), ``days_since_signup``,
    ``days_silent`` (days from ``last_seen`` to ``end``) and
    ``reactivated`` (a return within ``reactivated_days`` of ``end`` after
    at least ``dormant_days`` without activity). Aggregated on the engine;
    sorted by ``customer_id``."""
    lc = cfg.segmentation.lifecycle
    c = ds.table("customers", until=end)
    c = c.select(customer_id=c.customer_id.cast("string"), signup_at=c.signup_at.cast("timestamp"))
    a = facts.activity_gaps(ds)
    if a is not None:
        a = a.filter(a.day < ts(end))
        back = (a.day >= ts(end - dt.timedelta(days=lc.reactivated_days))) & (a.gap_days >= lc.dormant_days)
        # the last moment (not its day) counts for "days silent"
        per = a.group_by("customer_id").aggregate(last_at=a["last"].max(),
                                                  back=back.fill_null(False).cast("int64").max())
        j = c.left_join(per, "customer_id").select(c.customer_id, c.signup_at, per.last_at, per.back)
    else:
        j = c.mutate(last_at=ibis.null("timestamp"), back=ibis.null("int64"))
    seen = ibis.greatest(j.signup_at, j.last_at.fill_null(j.signup_at))
    j = j.mutate(days_since_signup=days_before(end, j.signup_at), days_silent=days_before(end, seen),
                 reactivated=j.back.fill_null(0) > 0, last_seen=seen)
    df = j.select("customer_id", "signup_at", "last_seen", "days_since_signup", "days_silent", "reactivated").execute()
    return df.sort_values("customer_id", kind="stable").reset_index(drop=True)


def lifecycle_states(ds, cfg, end: dt.date | None = None) -> pd.DataFrame:
    """:func:`customer_activity` at ``end`` (default: the period end) with
    each customer's ``state`` (:func:`assign_states`)."""
    end = end or cfg.period.end

    def build():
        df = customer_activity(ds, cfg, end)
        df["state"] = assign_states(df["days_since_signup"], df["days_silent"], df["reactivated"],
                                    cfg.segmentation.lifecycle, int(cfg.definitions.churn_inactivity_days))
        return df

    return ds.memo(("segmentation.lifecycle", end), build, cfg)


def lifecycle_counts(ds, cfg, end: dt.date | None = None) -> dict[str, int]:
    """Customers per lifecycle state at ``end``, every state of
    :data:`journeykit.facts.CUSTOMER_STATES` in that order (0 when empty)."""
    s = lifecycle_states(ds, cfg, end)["state"].value_counts()
    return {k: int(s.get(k, 0)) for k in facts.CUSTOMER_STATES}


def lifecycle_flows(ds, cfg) -> pd.DataFrame:
    """Customers by lifecycle state at the comparison period end (rows;
    :data:`~journeykit.sections.segmentation.transitions.NONE` = not yet
    signed up) and at this period end (columns)."""
    now, prev = lifecycle_states(ds, cfg), lifecycle_states(ds, cfg, cfg.period.previous().end)
    return transitions(prev.set_index("customer_id")["state"], now.set_index("customer_id")["state"],
                       list(facts.CUSTOMER_STATES))


__all__ = ["assign_states", "customer_activity", "lifecycle_states", "lifecycle_counts", "lifecycle_flows"]
