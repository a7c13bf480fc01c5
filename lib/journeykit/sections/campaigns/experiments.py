"""A/B test readouts: which tests worked, which are not yet sized to tell,
and which cannot be read (the numbers; the statistics are
:mod:`journeykit.stats.experiments`, the words :mod:`.view`).

Definitions (the ``experiments`` table: one row per customer and
experiment, with her ``variant`` and ``assigned_at``; the client file's
``experiments:`` block plans each test, :class:`journeykit.core.settings.ExperimentPlan`):

- **Experiment in the report**: one with at least one assignment whose
  conversion window was open during the period, i.e. ``assigned_at`` on or
  after ``period.start − W`` days (and, like every table, before the period
  end), ``W`` = ``definitions.experiment_window_days``. Its readout uses
  *every* assignment of the experiment up to the period end (an experiment
  is read over its whole run, not month by month), from its plan's
  ``started`` day when set (earlier assignments are left out everywhere).
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
- **Planned split**: the plan's ``allocation``, else an equal split of the
  variants found. A planned variant without assignments is shown with 0.
- **Sample-ratio check**: the assigned counts against the planned split
  (:func:`journeykit.stats.experiments.srm_p_value`), in three bands
  (:func:`journeykit.stats.experiments.srm_status`): ``mismatch`` below p =
  0.01 — the assignment is broken and the lift is not read; ``check`` from
  0.01 to 0.05 — the lift is read, with a warning; ``ok`` from 0.05.
- **Several treatments**: with ``m`` treatment variants the comparisons are
  Bonferroni-corrected: each p-value is multiplied by ``m`` (capped at 1)
  and each comparison spends ``α/m`` (α = 0.05), so the family-wise error
  stays at α.
- **Planned size**: the users each arm needs to detect the plan's minimum
  detectable effect (``mde``, default ``definitions.experiment_mde``; an
  absolute lift) over the control's observed rate with 80 % power at
  ``α/m``, in the planned proportion
  (:func:`journeykit.stats.experiments.plan_size`). Never from the
  observed lift.
- **Looks**: every monthly report reads the experiment again. Look ``k``
  is the ``k``-th month end, counted from the experiment's start, at which
  both arms had at least ``min_sample_size`` users and more users than at
  the look before. The current look is significant when its p-value is
  below that look's threshold (``p_threshold``, on the Bonferroni-corrected
  scale) from Lan–DeMets alpha spending (the plan's ``spending``,
  O'Brien–Fleming-type by default) over the share of the planned size
  reached at each look (:func:`journeykit.stats.experiments.group_sequential`);
  the interval is the repeated confidence interval at the same level
  (``ci_level``). Six monthly looks at p < 0.05 each would call about 15 %
  of tests without effect a winner; the thresholds keep it under 5 %
  (``tests/unit/test_experiments.py::test_repeated_looks_false_positives``).
"""

from __future__ import annotations

import difflib

import ibis
import numpy as np
import pandas as pd

from journeykit import facts
from journeykit.core.periods import Period
from journeykit.data.query import ts
from journeykit.report.results import jsonable
from journeykit.stats import compare
from journeykit.stats import experiments as abstats

CONTROL_NAMES = ("control", "a", "ctrl", "baseline", "original", "default")
"""Variant names taken as the control (compared lower-cased)."""
METRIC_FIELDS = ("experiment", "variant", "users", "conversion_rate", "lift", "ci_low", "ci_high", "p_value",
                 "srm_p_value", "srm_status", "planned_share", "planned_mde", "users_needed", "look", "p_threshold",
                 "significant")
"""Fields of each entry of the stable ``experiments`` metrics key (the first
nine are the original ones and keep their meaning)."""
READOUT_COLUMNS = ("experiment", "variant", "is_control", "assigned", "share", "planned_share", "users",
                   "conversions", "conversion_rate", "revenue_per_user", "lift", "relative_lift", "ci_low",
                   "ci_high", "p_value", "mde", "power", "users_needed", "srm_p_value", "srm", "srm_status",
                   "comparisons", "ci_level", "planned_mde", "spending", "look", "information", "p_threshold",
                   "significant")
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


def plan_of(cfg, name: str) -> dict:
    """The plan of experiment ``name`` with the defaults filled in:
    ``allocation`` (variant → share, or ``None`` for an equal split),
    ``mde`` (absolute lift, 0–1), ``started`` (a date or ``None``) and
    ``spending``."""
    p = cfg.experiments.get(name)
    return {"allocation": dict(p.allocation) if p is not None and p.allocation else None,
            "mde": float(p.mde if p is not None and p.mde is not None else cfg.definitions.experiment_mde),
            "started": p.started if p is not None else None,
            "spending": p.spending if p is not None else "obrien_fleming"}


def _month(p: Period) -> int:
    return p.year * 12 + p.month - 1


def _period_of(index: int) -> Period:
    return Period(index // 12, index % 12 + 1)


# --------------------------------------------------------------------------
# Counts on the engine
# --------------------------------------------------------------------------

def _assignments(ds, cfg):
    """The experiments table as ``cid, experiment, variant, at``, without the
    assignments before an experiment's planned ``started`` day."""
    e = ds.table("experiments")
    e = e.select(cid=e.customer_id.cast("string"), experiment=e.experiment.cast("string"),
                 variant=e.variant.cast("string"), at=e.assigned_at)
    for name, plan in cfg.experiments.items():
        if plan.started is not None:
            e = e.filter((e.experiment != name) | (e.at >= ts(plan.started)))
    return e


def active(ds, cfg) -> list[str]:
    """Experiments in the report (see the module docstring), by name; empty
    without an experiments table."""
    if not ds.has("experiments"):
        return []
    e = _assignments(ds, cfg)
    start = pd.Timestamp(cfg.period.start) - pd.Timedelta(days=window_days(cfg))
    names = e.filter(e.at >= ibis.timestamp(start.to_pydatetime())).experiment.name("x")
    return sorted(str(x) for x in names.as_table().distinct().execute()["x"].dropna())


def by_look(ds, cfg) -> pd.DataFrame:
    """One row per experiment in the report, variant and *look month*: the
    month at whose end the assignments' conversion windows had closed
    (``look``, ``YYYY-MM``; the month after the period for windows still
    open, and never later), with ``assigned``, ``conversions`` and
    ``revenue`` of those assignments (``NaN`` as in
    :func:`arms`). Summed over the months up to the period, it is
    :func:`arms`; cumulated month by month, it is each look's data."""
    cols = ["experiment", "variant", "look", "assigned", "conversions", "revenue"]

    def q():
        names = active(ds, cfg)
        if not names:
            return pd.DataFrame(columns=cols).astype({c: "float64" for c in cols[3:]})
        W = window_days(cfg)
        e = _assignments(ds, cfg)
        e = e.filter(e.experiment.isin(names))
        close = e.at + ibis.interval(days=W)
        # the month whose end (midnight of the next month's first day) is the first at or after `close`
        idx = close.year() * 12 + close.month() - 1
        idx = ibis.ifelse((close.day() == 1) & (close == close.truncate("D")), idx - 1, idx)
        e = e.mutate(look=ibis.least(idx, _month(cfg.period) + 1))
        if ds.has("orders"):
            p = facts.paid_orders(ds)
            p = p.select(ocid=p.customer_id.cast("string"), ot=p.ordered_at, amount=p.amount.cast("float64"))
            j = e.left_join(p, [e.cid == p.ocid, p.ot >= e.at, p.ot < e.at + ibis.interval(days=W)])
            per = j.group_by(["cid", "experiment", "variant", "look"]).aggregate(
                conv=j.ot.notnull().any(), rev=j.amount.sum())
            df = per.group_by(["experiment", "variant", "look"]).aggregate(
                assigned=per.count(), conversions=per.count(where=per.conv), revenue=per.rev.sum()).execute()
            df["revenue"] = df["revenue"].astype(float).fillna(0.0) if facts.has_amounts(ds) else np.nan
        else:
            df = e.group_by(["experiment", "variant", "look"]).aggregate(assigned=e.count()).execute()
            df["conversions"] = np.nan
            df["revenue"] = np.nan
        df["look"] = [str(_period_of(int(i))) for i in df["look"]]
        return df[cols].sort_values(["experiment", "variant", "look"]).reset_index(drop=True).astype(
            {c: "float64" for c in cols[3:]})
    return ds.memo(("campaigns", "experiment_looks"), q, cfg)


def arms(ds, cfg) -> pd.DataFrame:
    """One row per experiment in the report and variant: ``assigned`` (all
    assignments up to the period end), ``users`` (those whose window
    closed), ``conversions``, ``revenue`` (orders within the window;
    ``NaN`` without an orders table, or without order amounts for
    ``revenue``). Sorted by experiment, variant."""
    cols = ["experiment", "variant", "assigned", "users", "conversions", "revenue"]
    b = by_look(ds, cfg)
    if b.empty:
        return pd.DataFrame(columns=cols).astype({c: "float64" for c in cols[2:]})
    closed = b["look"] <= str(cfg.period)
    b = b.assign(users=b["assigned"].where(closed, 0.0), conversions=b["conversions"].where(closed, 0.0),
                 revenue=b["revenue"].where(closed, 0.0))
    g = b.groupby(["experiment", "variant"], sort=True)
    out = g[["assigned", "users"]].sum()
    for c in ("conversions", "revenue"):    # NaN throughout when not measurable (no orders, no amounts)
        out[c] = g[c].sum() if b[c].notna().all() else np.nan
    return out.reset_index()[cols].astype({c: "float64" for c in cols[2:]})


def looks(ds, cfg, experiment: str, control: str, treatment: str) -> list[tuple[float, float, float, float]]:
    """The cumulative ``(conversions, users)`` of ``control`` and
    ``treatment`` at each month end from the experiment's first closed
    window through the period: ``[(x_c, n_c, x_t, n_t), ...]``, the current
    look last. Empty without conversions."""
    b = by_look(ds, cfg)
    b = b[(b["experiment"] == experiment) & (b["look"] <= str(cfg.period))]
    if b.empty or b["conversions"].isna().any():
        return []
    first = min(Period.parse(x) for x in b["look"])
    months = [str(_period_of(i)) for i in range(_month(first), _month(cfg.period) + 1)]

    def cum(v, col):
        s = b[b["variant"] == v].set_index("look")[col]
        return s.reindex(months, fill_value=0.0).cumsum().tolist()
    xc, nc, xt, nt = cum(control, "conversions"), cum(control, "assigned"), cum(treatment, "conversions"), \
        cum(treatment, "assigned")
    return list(zip(xc, nc, xt, nt))


def unknown_plans(ds, cfg) -> list[tuple[str, str | None]]:
    """Experiments the client file plans that the experiments table does not
    name at all (a typo leaves the plan unused): ``(name, closest name in the
    data or None)``."""
    if not cfg.experiments or not ds.has("experiments"):
        return []
    e = ds.table("experiments")
    known = sorted(str(x) for x in e.experiment.cast("string").name("x").as_table().distinct().execute()["x"].dropna())
    out = []
    for name in sorted(cfg.experiments):
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            out.append((name, close[0] if close else None))
    return out


# --------------------------------------------------------------------------
# The readout
# --------------------------------------------------------------------------

def readout(ds, cfg) -> pd.DataFrame:
    """The readout of every experiment in the report, one row per variant
    (empty without an experiments table or an experiment in the report).

    Columns (:data:`READOUT_COLUMNS`): ``experiment``, ``variant``,
    ``is_control``, ``assigned``, ``share`` (of the experiment's
    assignments), ``planned_share``, ``users``, ``conversions``,
    ``conversion_rate`` (0–1), ``revenue_per_user``, ``users_needed`` (the
    arm's planned size; the control's for its largest comparison), and for
    treatments ``lift``, ``relative_lift``, ``ci_low``, ``ci_high`` (the
    interval at the current look's level), ``p_value`` (corrected when
    there are several treatments), ``mde`` (the lift detectable with 80 %
    power at the current size), ``power`` (to detect the planned lift at
    the current size), ``look`` (its number; 0 when the current data is too
    little to be a look), ``information`` (the share of the planned size
    reached), ``p_threshold`` (what ``p_value`` must be below at this look)
    and ``significant``; per experiment ``srm_p_value``, ``srm_status``,
    ``srm`` (a mismatch), ``comparisons`` (m), ``ci_level``, ``planned_mde``
    and ``spending``. The plan is :func:`plan_of`.
    """
    a = arms(ds, cfg)
    n_min = float(cfg.definitions.min_sample_size)
    rows = []
    for name, g in a.groupby("experiment", sort=True):
        plan = plan_of(cfg, name)
        alloc = plan["allocation"]
        g = g.set_index("variant")
        variants = sorted(set(g.index) | set(alloc or {}))
        g = g.reindex(variants).fillna({"assigned": 0.0, "users": 0.0})
        if not g["conversions"].isna().all():      # a planned variant without assignments converts nobody
            g["conversions"] = g["conversions"].fillna(0.0)
            if not a["revenue"].isna().all():
                g["revenue"] = g["revenue"].fillna(0.0)
        shares_plan = [float(alloc.get(v, 0.0)) for v in variants] if alloc else [1.0 / len(variants)] * len(variants)
        srm_p = abstats.srm_p_value(g["assigned"].tolist(), shares_plan)
        status = abstats.srm_status(srm_p)
        total = g["assigned"].sum()
        ctrl = control_of(variants)
        c = g.loc[ctrl]
        m = max(len(variants) - 1, 1)
        alpha = abstats.ALPHA / m
        rate_c = compare.safe_div(c["conversions"], c["users"])
        share = dict(zip(variants, shares_plan))
        common = {"experiment": name, "srm_p_value": srm_p, "srm_status": status, "srm": status == "mismatch",
                  "comparisons": float(len(variants) - 1), "ci_level": 1 - alpha, "planned_mde": plan["mde"],
                  "spending": plan["spending"]}
        out, need_c = [], None
        for v in variants:
            r = g.loc[v]
            rate = compare.safe_div(r["conversions"], r["users"])
            row = {**common, "variant": v, "is_control": v == ctrl, "assigned": r["assigned"],
                   "share": compare.safe_div(r["assigned"], total), "planned_share": share[v],
                   "users": r["users"], "conversions": r["conversions"], "conversion_rate": rate,
                   "revenue_per_user": compare.safe_div(r["revenue"], r["users"]),
                   "lift": None, "relative_lift": None, "ci_low": None, "ci_high": None, "p_value": None,
                   "mde": None, "power": None, "users_needed": None, "look": None, "information": None,
                   "p_threshold": None, "significant": None}
            if v != ctrl and not pd.isna(r["conversions"]):
                size = abstats.plan_size(rate_c, plan["mde"], share[ctrl], share[v], alpha)
                seq = abstats.group_sequential(looks(ds, cfg, name, ctrl, v), size, alpha, plan["spending"], n_min)
                level = seq["level"] if seq["look"] else alpha
                t = abstats.two_proportions(c["conversions"], c["users"], r["conversions"], r["users"],
                                            alpha=max(level, 1e-12))
                t["p_value"] = abstats.bonferroni(t["p_value"], m)
                row.update(t)
                row.update(mde=abstats.mde(rate_c, c["users"], r["users"], alpha),
                           power=abstats.power_at(rate_c, abstats.planned_rate(rate_c, plan["mde"]), c["users"],
                                                  r["users"], alpha),
                           users_needed=size[1] if size else None, look=float(seq["look"]),
                           information=seq["fraction"], ci_level=1 - level,
                           p_threshold=min(1.0, m * seq["level"]) if seq["look"] else None,
                           significant=bool(seq["significant"]) and status != "mismatch")
                if size:
                    need_c = max(need_c or 0.0, size[0])
            out.append(row)
        for row in out:
            if row["is_control"]:
                row["users_needed"] = need_c
        rows += out
    return pd.DataFrame(rows, columns=list(READOUT_COLUMNS))


def metrics(ds, cfg, ro: pd.DataFrame | None = None) -> list[dict] | None:
    """The stable ``experiments`` key: one entry per experiment and variant
    with :data:`METRIC_FIELDS` (the control's lift, interval, p-value, look,
    threshold and verdict are ``None``). ``None`` when the client has no
    experiments table; an empty list when no experiment is in the report."""
    if not ds.has("experiments"):
        return None
    ro = readout(ds, cfg) if ro is None else ro
    out = [{k: jsonable(r[k]) for k in METRIC_FIELDS} for _, r in ro.iterrows()]
    for e in out:
        e["look"] = None if e["look"] is None else int(e["look"])
    return out


# --------------------------------------------------------------------------
# Verdicts and actions (what the readout says, before it is worded)
# --------------------------------------------------------------------------

def _missing(x) -> bool:
    return x is None or pd.isna(x)


def judge(ro: pd.DataFrame, cfg) -> list[dict]:
    """The verdicts of every experiment (one per treatment when there are
    several), each a dict with ``experiment``, ``kind`` and the numbers
    behind it. In order of precedence:

    - ``srm``: a sample-ratio ``mismatch`` (p < 0.01; ``shares``: variant →
      (actual share, planned share), ``srm_p_value``); nothing else is said
      of the test: no lift is read from a broken assignment;
    - ``srm_check``: the split is in the ``check`` band (0.01 ≤ p < 0.05),
      said before the lift verdicts, which follow;
    - ``one_arm``: only one variant has assignments;
    - ``too_little``: an arm under ``min_sample_size`` users (``n``: users
      of the smaller arm, ``min_n``);
    - ``win`` / ``loss``: significant at this look (``p_value`` below
      ``p_threshold``);
    - ``keep_running``: not significant, and an arm has fewer users than the
      planned size to detect the planned lift (``need_c`` / ``need_t``,
      ``n_c`` / ``n_t``, ``more``: users still missing, both arms);
    - ``no_difference``: not significant with the planned size reached.

    Treatment verdicts also carry ``variant``, ``control``, ``lift``,
    ``rate``, ``rate_control``, ``p_value``, ``p_threshold``, ``look``,
    ``ci_low``, ``ci_high``, ``ci_level``, ``mde`` (the planned lift) and
    ``mde_now`` (detectable at the current size). An experiment without
    conversions (no orders table) gets no verdict beyond the assignment's.
    """
    n_min = int(cfg.definitions.min_sample_size)
    out: list[dict] = []
    for name, g in ro.groupby("experiment", sort=True):
        shares = {v: (s, p) for v, s, p in zip(g["variant"], g["share"], g["planned_share"])}
        status = g["srm_status"].iloc[0]
        if status == "mismatch":
            out.append({"experiment": name, "kind": "srm", "shares": shares, "srm_p_value": g["srm_p_value"].iloc[0]})
            continue
        if status == "check":
            out.append({"experiment": name, "kind": "srm_check", "shares": shares,
                        "srm_p_value": g["srm_p_value"].iloc[0]})
        c = g[g["is_control"]].iloc[0]
        treatments = g[~g["is_control"] & (g["assigned"] > 0)]
        if not len(treatments) or not c["assigned"]:
            out.append({"experiment": name, "kind": "one_arm"})
            continue
        if pd.isna(c["conversions"]):
            continue
        for _, r in treatments.iterrows():
            small = min(c["users"], r["users"])
            v = {"experiment": name, "variant": r["variant"], "control": c["variant"], "lift": r["lift"],
                 "rate": r["conversion_rate"], "rate_control": c["conversion_rate"], "p_value": r["p_value"],
                 "p_threshold": r["p_threshold"], "look": r["look"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                 "ci_level": r["ci_level"], "mde": r["planned_mde"], "mde_now": r["mde"], "n": small, "min_n": n_min,
                 "n_c": c["users"], "n_t": r["users"], "need_c": c["users_needed"], "need_t": r["users_needed"],
                 "spending": r["spending"]}
            if small < n_min or not r["look"]:
                v["kind"] = "too_little"
            elif r["significant"]:
                v["kind"] = "win" if r["lift"] > 0 else "loss"
            elif not _missing(r["users_needed"]) and (r["users"] < r["users_needed"]
                                                       or c["users"] < c["users_needed"]):
                v["kind"] = "keep_running"
                v["more_c"] = max(0.0, c["users_needed"] - c["users"])
                v["more_t"] = max(0.0, r["users_needed"] - r["users"])
                v["more"] = v["more_c"] + v["more_t"]
            else:
                v["kind"] = "no_difference"
            out.append(v)
    return out


def actions(ro: pd.DataFrame, cfg) -> list[dict]:
    """Experiment actions for "what to look at next", from :func:`judge`:
    ``srm`` (fix the assignment), ``check`` (look at the assignment),
    ``win`` (roll out) / ``loss`` (stop) and ``wait`` (keep running until
    the planned size: ``more`` users still needed, ``more_c`` / ``more_t``
    per arm). Tests with too little data or no difference need no
    action."""
    kinds = {"srm": "srm", "srm_check": "check", "win": "win", "loss": "loss", "keep_running": "wait"}
    return [{**v, "kind": kinds[v["kind"]]} for v in judge(ro, cfg) if v["kind"] in kinds]


__all__ = ["CONTROL_NAMES", "METRIC_FIELDS", "READOUT_COLUMNS", "window_days", "control_of",
           "last_counted_assignment", "plan_of", "active", "by_look", "arms", "looks", "unknown_plans", "readout",
           "metrics", "judge", "actions"]
