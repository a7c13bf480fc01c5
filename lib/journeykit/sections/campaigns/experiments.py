"""A/B test readouts: which tests worked, and which cannot be read yet (the
numbers; the statistics are :mod:`journeykit.stats.experiments`, the words
:mod:`.view`).

Definitions (the ``experiments`` table: one row per customer and
experiment, with her ``variant`` and ``assigned_at``):

- **Experiment in the report**: one with at least one assignment whose
  conversion window was open during the period, i.e. ``assigned_at`` on or
  after ``period.start − W`` days (and, like every table, before the period
  end), ``W`` = ``definitions.experiment_window_days``. Its readout uses
  *every* assignment of the experiment up to the period end (an experiment
  is read over its whole run, not month by month).
- **Assigned**: customers assigned to the variant up to the period end.
- **Users** (the readout denominator): assigned customers whose conversion
  window ``[assigned_at, assigned_at + W days)`` had closed by the period
  end; later assignments are left out of the readout (they still count in
  the sample-ratio check), so nothing after the period end is needed and
  every user had the full window to convert.
- **Conversion**: an order (:func:`journeykit.facts.paid_orders`: a
  successful payment) of the user within W days of ``assigned_at``.
  **Conversion rate** = converting users / users, 0–1. **Revenue per
  user** = amount of those users' orders in their window / users (client
  currency; ``None`` when order amounts are unknown,
  :func:`journeykit.facts.has_amounts`). Without an ``orders`` table only
  the assignment check is possible.
- **Control**: the variant named ``control``, ``A``, ``ctrl``, ``baseline``,
  ``original`` or ``default`` (case-insensitive); otherwise the first
  variant in alphabetical order. Every other variant is compared with it.
- **Lift** and its interval, the p-value, the sample-ratio check, MDE,
  power and users needed: :mod:`journeykit.stats.experiments`.
- **Several treatments**: with ``m`` treatment variants the comparisons are
  Bonferroni-corrected: each p-value is multiplied by ``m`` (capped at 1)
  and each interval is a ``1 − α/m`` interval, so "significant" and "the
  interval excludes 0" agree and the family-wise error stays at α = 0.05.
- **Sample-ratio mismatch (SRM)**: the assigned counts against the planned
  split (equal unless the caller passes ``planned``); flagged when p <
  :data:`journeykit.stats.experiments.SRM_ALPHA`. A flagged experiment's
  result is not trusted: the assignment itself is broken.
"""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from journeykit import facts
from journeykit.data.query import ts
from journeykit.report.results import jsonable
from journeykit.stats import compare
from journeykit.stats import experiments as abstats

CONTROL_NAMES = ("control", "a", "ctrl", "baseline", "original", "default")
"""Variant names taken as the control (compared lower-cased)."""
METRIC_FIELDS = ("experiment", "variant", "users", "conversion_rate", "lift", "ci_low", "ci_high", "p_value",
                 "srm_p_value")
"""Fields of each entry of the stable ``experiments`` metrics key."""
REACH = 10.0
""""Not enough data yet" is said only when the users needed to detect the
observed lift are at most this many times the current smaller arm; beyond
that, the observed difference is too small to matter at this traffic, and
the verdict is "no significant difference" with the detectable lift."""
READOUT_COLUMNS = ("experiment", "variant", "is_control", "assigned", "share", "planned_share", "users",
                   "conversions", "conversion_rate", "revenue_per_user", "lift", "relative_lift", "ci_low",
                   "ci_high", "p_value", "mde", "power", "users_needed", "srm_p_value", "srm", "comparisons",
                   "ci_level")
"""The columns of :func:`readout`."""


def window_days(cfg) -> int:
    """The conversion window ``W`` of an assignment, in days."""
    return int(cfg.definitions.experiment_window_days)


def control_of(variants) -> str:
    """The control variant (see the module docstring)."""
    names = sorted(str(v) for v in variants)
    for c in CONTROL_NAMES:
        for v in names:
            if v.strip().lower() == c:
                return v
    return names[0]


def last_counted_assignment(cfg) -> pd.Timestamp:
    """The latest ``assigned_at`` (exclusive) whose window closed by the period end."""
    return pd.Timestamp(cfg.period.end) - pd.Timedelta(days=window_days(cfg))


# --------------------------------------------------------------------------
# Counts on the engine
# --------------------------------------------------------------------------

def active(ds, cfg) -> list[str]:
    """Experiments in the report (see the module docstring), by name; empty
    without an experiments table."""
    if not ds.has("experiments"):
        return []
    e = ds.table("experiments")
    start = pd.Timestamp(cfg.period.start) - pd.Timedelta(days=window_days(cfg))
    names = e.filter(e.assigned_at >= ibis.timestamp(start.to_pydatetime())).experiment.cast("string").name("x")
    return sorted(str(x) for x in names.as_table().distinct().execute()["x"].dropna())


def arms(ds, cfg) -> pd.DataFrame:
    """One row per experiment in the report and variant: ``assigned`` (all
    assignments up to the period end), ``users`` (those whose window
    closed), ``conversions``, ``revenue`` (orders within the window;
    ``NaN`` without an orders table, or without order amounts for
    ``revenue``). Sorted by experiment, variant."""
    cols = ["experiment", "variant", "assigned", "users", "conversions", "revenue"]

    def q():
        names = active(ds, cfg)
        if not names:
            return pd.DataFrame(columns=cols).astype({c: "float64" for c in cols[2:]})
        W = window_days(cfg)
        e = ds.table("experiments")
        e = e.filter(e.experiment.cast("string").isin(names))
        e = e.select(cid=e.customer_id.cast("string"), experiment=e.experiment.cast("string"),
                     variant=e.variant.cast("string"), at=e.assigned_at)
        e = e.mutate(closed=(e.at + ibis.interval(days=W)) <= ts(cfg.period.end))
        if ds.has("orders"):
            p = facts.paid_orders(ds)
            p = p.select(ocid=p.customer_id.cast("string"), ot=p.ordered_at, amount=p.amount.cast("float64"))
            j = e.left_join(p, [e.cid == p.ocid, p.ot >= e.at, p.ot < e.at + ibis.interval(days=W)])
            per = j.group_by(["cid", "experiment", "variant", "closed"]).aggregate(
                conv=j.ot.notnull().any(), rev=j.amount.sum())
            df = per.group_by(["experiment", "variant"]).aggregate(
                assigned=per.count(), users=per.count(where=per.closed),
                conversions=per.count(where=per.closed & per.conv),
                revenue=per.rev.sum(where=per.closed)).execute()
            df["revenue"] = df["revenue"].astype(float).fillna(0.0) if facts.has_amounts(ds) else np.nan
        else:
            df = e.group_by(["experiment", "variant"]).aggregate(
                assigned=e.count(), users=e.count(where=e.closed)).execute()
            df["conversions"] = np.nan
            df["revenue"] = np.nan
        return df[cols].sort_values(["experiment", "variant"]).reset_index(drop=True).astype(
            {c: "float64" for c in cols[2:]})
    return ds.memo(("campaigns", "experiment_arms"), q, cfg)


# --------------------------------------------------------------------------
# The readout
# --------------------------------------------------------------------------

def readout(ds, cfg, planned: dict[str, dict[str, float]] | None = None) -> pd.DataFrame:
    """The readout of every experiment in the report, one row per variant
    (empty without an experiments table or an experiment in the report).

    Columns (:data:`READOUT_COLUMNS`): ``experiment``, ``variant``,
    ``is_control``, ``assigned``, ``share`` (of the experiment's
    assignments), ``planned_share``, ``users``, ``conversions``,
    ``conversion_rate`` (0–1), ``revenue_per_user``, and for treatments
    ``lift``, ``relative_lift``, ``ci_low``, ``ci_high``, ``p_value``
    (corrected when there are several treatments), ``mde``, ``power``,
    ``users_needed``; per experiment ``srm_p_value``, ``srm`` (flagged),
    ``comparisons`` (m) and ``ci_level``. ``planned`` maps experiment →
    {variant: share}; an experiment not in it is planned as an equal split.
    """
    a = arms(ds, cfg)
    rows = []
    for name, g in a.groupby("experiment", sort=True):
        g = g.sort_values("variant")
        plan = (planned or {}).get(name)
        shares_plan = [float(plan.get(v, 0.0)) for v in g["variant"]] if plan else [1.0 / len(g)] * len(g)
        srm_p = abstats.srm_p_value(g["assigned"].tolist(), shares_plan if plan else None)
        total = g["assigned"].sum()
        ctrl = control_of(g["variant"])
        c = g[g["variant"] == ctrl].iloc[0]
        m = max(len(g) - 1, 1)
        alpha = abstats.ALPHA / m
        rate_c = compare.safe_div(c["conversions"], c["users"])
        for _, r in g.iterrows():
            rate = compare.safe_div(r["conversions"], r["users"])
            row = {"experiment": name, "variant": r["variant"], "is_control": r["variant"] == ctrl,
                   "assigned": r["assigned"], "share": compare.safe_div(r["assigned"], total),
                   "planned_share": shares_plan[list(g["variant"]).index(r["variant"])] / sum(shares_plan),
                   "users": r["users"], "conversions": r["conversions"], "conversion_rate": rate,
                   "revenue_per_user": compare.safe_div(r["revenue"], r["users"]),
                   "srm_p_value": srm_p, "srm": srm_p is not None and srm_p < abstats.SRM_ALPHA,
                   "comparisons": float(len(g) - 1), "ci_level": 1 - alpha,
                   "lift": None, "relative_lift": None, "ci_low": None, "ci_high": None, "p_value": None,
                   "mde": None, "power": None, "users_needed": None}
            if r["variant"] != ctrl and not pd.isna(r["conversions"]):
                t = abstats.two_proportions(c["conversions"], c["users"], r["conversions"], r["users"], alpha=alpha)
                t["p_value"] = abstats.bonferroni(t["p_value"], m)
                row.update(t)
                row["mde"] = abstats.mde(rate_c, c["users"], r["users"], alpha)
                row["power"] = abstats.power_at(rate_c, rate, c["users"], r["users"], alpha)
                row["users_needed"] = abstats.users_needed(rate_c, rate, alpha)
            rows.append(row)
    return pd.DataFrame(rows, columns=list(READOUT_COLUMNS))


def metrics(ds, cfg, ro: pd.DataFrame | None = None) -> list[dict] | None:
    """The stable ``experiments`` key: one entry per experiment and variant
    with :data:`METRIC_FIELDS` (the control's lift, interval and p-value are
    ``None``). ``None`` when the client has no experiments table; an empty
    list when no experiment is in the report."""
    if not ds.has("experiments"):
        return None
    ro = readout(ds, cfg) if ro is None else ro
    return [{k: jsonable(r[k]) for k in METRIC_FIELDS} for _, r in ro.iterrows()]


# --------------------------------------------------------------------------
# Verdicts and actions (what the readout says, before it is worded)
# --------------------------------------------------------------------------

def _missing(x) -> bool:
    return x is None or pd.isna(x)


def _within_reach(r, small: float) -> bool:
    """Under-powered for the observed lift, yet within :data:`REACH` times
    the smaller arm of the users needed to detect it."""
    return (not _missing(r["power"]) and r["power"] < abstats.POWER
            and not _missing(r["users_needed"]) and r["users_needed"] <= REACH * small)


def judge(ro: pd.DataFrame, cfg) -> list[dict]:
    """One verdict per experiment (per treatment when there are several),
    each a dict with ``experiment``, ``kind`` and the numbers behind it.
    In order of precedence:

    - ``srm``: a flagged sample-ratio mismatch (``shares``: variant → share
      of assignments, ``srm_p_value``); nothing else is said of the test;
    - ``one_arm``: only one variant has assignments;
    - ``too_little``: an arm under ``min_sample_size`` users (``n``: users
      of the smaller arm, ``min_n``);
    - ``win`` / ``loss``: a significant lift (corrected p < 0.05);
    - ``more_data``: not significant, the power to detect the observed lift
      is under 80% and the users needed are at most :data:`REACH` times the
      smaller arm (``more``: users needed − users of the smaller arm);
    - ``no_difference``: otherwise (``mde``: the detectable lift).

    Treatment verdicts also carry ``variant``, ``control``, ``lift``,
    ``rate``, ``rate_control`` and ``p_value``. An experiment without
    conversions (no orders table) gets no verdict beyond ``srm``/``one_arm``.
    """
    n_min = int(cfg.definitions.min_sample_size)
    out: list[dict] = []
    for name, g in ro.groupby("experiment", sort=True):
        if g["srm"].any():
            out.append({"experiment": name, "kind": "srm", "shares": dict(zip(g["variant"], g["share"])),
                        "srm_p_value": g["srm_p_value"].iloc[0]})
            continue
        c = g[g["is_control"]].iloc[0]
        treatments = g[~g["is_control"]]
        if not len(treatments):
            out.append({"experiment": name, "kind": "one_arm"})
            continue
        if pd.isna(c["conversions"]):
            continue
        for _, r in treatments.iterrows():
            small = min(c["users"], r["users"])
            v = {"experiment": name, "variant": r["variant"], "control": c["variant"], "lift": r["lift"],
                 "rate": r["conversion_rate"], "rate_control": c["conversion_rate"], "p_value": r["p_value"],
                 "mde": r["mde"], "n": small, "min_n": n_min}
            if small < n_min:
                v["kind"] = "too_little"
            elif not _missing(r["p_value"]) and r["p_value"] < abstats.ALPHA:
                v["kind"] = "win" if r["lift"] > 0 else "loss"
            elif _within_reach(r, small):
                v["kind"], v["more"] = "more_data", max(0.0, r["users_needed"] - small)
            else:
                v["kind"] = "no_difference"
            out.append(v)
    return out


def actions(ro: pd.DataFrame, cfg) -> list[dict]:
    """Experiment actions for "what to look at next", from :func:`judge`:
    ``srm`` (fix the assignment), ``win`` (roll out) / ``loss`` (stop) and
    ``wait`` (keep running; ``more`` users per arm still needed). Tests with
    too little data or no difference need no action."""
    kinds = {"srm": "srm", "win": "win", "loss": "loss", "more_data": "wait"}
    return [{**v, "kind": kinds[v["kind"]]} for v in judge(ro, cfg) if v["kind"] in kinds]


__all__ = ["CONTROL_NAMES", "METRIC_FIELDS", "REACH", "READOUT_COLUMNS", "window_days", "control_of",
           "last_counted_assignment", "active", "arms", "readout", "metrics", "judge", "actions"]
