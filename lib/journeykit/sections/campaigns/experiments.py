"""A/B test readouts: which tests worked, and which cannot be read yet.

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
- **Conversion**: a successful order (the payment classification of
  :mod:`journeykit.sections.purchase.compute`) of the user within W days of
  ``assigned_at``. **Conversion rate** = converting users / users, 0–1.
  **Revenue per user** = amount of those users' successful orders in their
  window / users (client currency).
- **Control**: the variant named ``control``, ``A``, ``ctrl``, ``baseline``,
  ``original`` or ``default`` (case-insensitive); otherwise the first
  variant in alphabetical order. Every other variant is compared with it.
- **Lift**: ``rate(variant) − rate(control)`` in 0–1 points (``0.05`` =
  +5 pp), with Newcombe's hybrid score interval of the difference (built
  from each arm's Wilson interval; statsmodels
  ``confint_proportions_2indep(method="newcomb")``, its default: the Wald
  interval covers too rarely with the few hundred users per arm of a
  typical test) and the two-sided p-value of the pooled two-proportion
  z-test (statsmodels ``proportions_ztest``). The two come from different
  approximations, so right at the edge (p ≈ 0.05) an interval may just
  touch 0 while the test says significant, or the reverse.
  **Relative lift** = lift / rate(control).
- **Several treatments**: with ``m`` treatment variants the comparisons are
  Bonferroni-corrected: each p-value is multiplied by ``m`` (capped at 1)
  and each interval is a ``1 − α/m`` interval, so "significant" and "the
  interval excludes 0" agree and the family-wise error stays at α = 0.05.
- **Sample-ratio mismatch (SRM)**: chi-square goodness-of-fit test of the
  assigned counts against the planned split (equal unless the caller passes
  ``planned``); flagged when p < :data:`SRM_ALPHA`. A flagged experiment's
  result is not trusted: the assignment itself is broken.
- **MDE**: the smallest absolute lift over the control's rate that the test
  detects with 80% power at its current users per variant (two-sided,
  corrected α; statsmodels ``NormalIndPower`` on Cohen's h).
  **Power**: the power, at the current sizes, to detect the observed lift.
  **Users needed**: per variant, to detect the observed lift with 80% power.
"""

from __future__ import annotations

import math

import ibis
import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_effectsize, proportions_ztest

from journeykit.stats import compare
from journeykit.core import i18n
from journeykit import report
from journeykit.data.query import ts
from journeykit import facts

ALPHA = 0.05
"""Significance level of a readout (before the multiple-comparison correction)."""
SRM_ALPHA = 0.001
"""A sample-ratio mismatch is flagged when the chi-square p-value is below
this (the usual, strict threshold: a healthy experiment is flagged about
once in a thousand readouts)."""
POWER = 0.8
"""Target power of the MDE and of "users needed"."""
CONTROL_NAMES = ("control", "a", "ctrl", "baseline", "original", "default")

METRIC_FIELDS = ("experiment", "variant", "users", "conversion_rate", "lift", "ci_low", "ci_high", "p_value",
                 "srm_p_value")
"""Fields of each entry of the stable ``experiments`` metrics key."""

i18n.register({
    "experiments_col_experiment": {"en": "Experiment", "ko": "실험"},
    "experiments_col_variant": {"en": "Variant", "ko": "변형"},
    "experiments_col_assigned": {"en": "Assigned", "ko": "배정 고객"},
    "experiments_col_users": {"en": "Users (window closed)", "ko": "분석 대상 고객 (기간 종료)"},
    "experiments_col_conversions": {"en": "Conversions", "ko": "전환 고객"},
    "experiments_col_conversion_rate": {"en": "Conversion rate", "ko": "전환율"},
    "experiments_col_revenue_per_user": {"en": "Revenue per user", "ko": "고객당 매출"},
    "experiments_col_lift": {"en": "Lift vs control", "ko": "대조군 대비 차이"},
    "experiments_col_ci": {"en": "95% interval", "ko": "95% 신뢰구간"},
    "experiments_col_p": {"en": "p-value", "ko": "p값"},
    "experiments_col_check": {"en": "Sample ratio (p)", "ko": "배정 비율 검정 (p)"},
    "experiments_col_planned": {"en": "Planned share", "ko": "계획 비율"},
    "experiments_col_share": {"en": "Actual share", "ko": "실제 비율"},
    "experiments_col_mde": {"en": "Detectable lift (80% power)", "ko": "검출 가능한 차이 (검정력 80%)"},
    "experiments_col_power": {"en": "Power for the observed lift", "ko": "관측된 차이에 대한 검정력"},
    "experiments_control": {"en": "control", "ko": "대조군"},
    "experiments_srm_flag": {"en": "mismatch", "ko": "불일치"},
    "experiments_srm_ok": {"en": "ok", "ko": "정상"},
    "experiments_none": {"en": "No experiment had assignments with an open conversion window in {period}.",
                         "ko": "{period}에 전환 기간이 진행 중인 배정이 있는 실험이 없습니다."},
    "experiments_not_available": {
        "en": "Experiment readouts need the experiments table, which this client has not supplied.",
        "ko": "실험 결과 분석에는 실험 테이블이 필요하지만 이 고객사에서는 제공되지 않았습니다."},
    "experiments_no_orders": {
        "en": "Conversions need the orders table, which this client has not supplied: only the assignment check is shown.",
        "ko": "전환 측정에는 주문 테이블이 필요하지만 이 고객사에서는 제공되지 않아 배정 비율 검정만 표시합니다."},
    "experiments_method": {
        "en": "A user converts with a successful order within {days} days of assignment; only users assigned by {last} (whose {days}-day window had closed by the end of {period}) are counted. Lift is the difference in conversion rate against the control, with a 95% interval (Newcombe) and the p-value of a two-proportion z-test; the sample-ratio check is a chi-square test of the assignment counts against an equal split (flagged below p = 0.001).",
        "ko": "배정 후 {days}일 이내에 결제를 완료하면 전환으로 봅니다. {days}일 기간이 {period} 말까지 끝난 고객, 즉 {last}까지 배정된 고객만 집계합니다. 차이는 대조군 대비 전환율 차이이며 95% 신뢰구간(Newcombe)과 두 비율 z-검정의 p값을 함께 표시합니다. 배정 비율 검정은 균등 배정 대비 배정 고객 수의 카이제곱 검정입니다 (p < 0.001이면 불일치)."},
    "experiments_correction": {
        "en": "{experiment} compares {m} variants with its control: p-values are Bonferroni-corrected (multiplied by {m}) and the intervals are {level} intervals, so the chance of any false winner stays at 5%.",
        "ko": "{experiment}은(는) {m}개 변형을 대조군과 비교하므로 p값에 본페로니 보정(×{m})을 적용하고 {level} 신뢰구간을 사용합니다. 따라서 잘못된 승자를 고를 확률은 5%로 유지됩니다."},
    # verdicts
    "experiments_verdict_win": {
        "en": "{experiment}: {variant} beats {control} by {lift} ({rate} vs {rate_c}), significant (p {p}).",
        "ko": "{experiment}: {variant}이(가) {control}보다 {lift} 높습니다 ({rate} 대 {rate_c}), 통계적으로 유의합니다 (p {p})."},
    "experiments_verdict_loss": {
        "en": "{experiment}: {variant} is worse than {control} by {lift} ({rate} vs {rate_c}), significant (p {p}).",
        "ko": "{experiment}: {variant}이(가) {control}보다 {lift} 낮습니다 ({rate} 대 {rate_c}), 통계적으로 유의합니다 (p {p})."},
    "experiments_verdict_more_data": {
        "en": "{experiment}: not enough data yet: {variant} vs {control} differ by {lift} (p {p}); need about {more} more users per arm to tell whether a difference this size is real.",
        "ko": "{experiment}: 아직 데이터가 부족합니다: {variant}와(과) {control}의 차이는 {lift}이며 (p {p}), 이 크기의 차이가 실제인지 판단하려면 그룹당 약 {more}명이 더 필요합니다."},
    "experiments_verdict_no_difference": {
        "en": "{experiment}: no significant difference between {variant} and {control} ({lift}, p {p}); the test could detect a lift of {mde} or more.",
        "ko": "{experiment}: {variant}와(과) {control} 사이에 유의한 차이가 없습니다 ({lift}, p {p}). 이 실험은 {mde} 이상의 차이를 검출할 수 있습니다."},
    "experiments_verdict_too_little": {
        "en": "{experiment}: too little data to read yet ({n} users in the smallest arm; at least {min_n} needed).",
        "ko": "{experiment}: 아직 판단하기에 데이터가 너무 적습니다 (가장 작은 그룹 {n}명, 최소 {min_n}명 필요)."},
    "experiments_verdict_srm": {
        "en": "{experiment}: the assignment does not match the planned split ({shares}; sample-ratio check p {p}): fix the assignment before trusting any result of this test.",
        "ko": "{experiment}: 배정 비율이 계획과 다릅니다 ({shares}; 배정 비율 검정 p {p}). 이 실험의 결과를 믿기 전에 배정 방식을 먼저 점검하세요."},
    "experiments_verdict_one_arm": {
        "en": "{experiment}: only one variant has users, nothing to compare.",
        "ko": "{experiment}: 고객이 있는 변형이 하나뿐이라 비교할 수 없습니다."},
    # what to look at next
    "experiments_next_srm": {
        "en": "Check how {experiment} assigns customers: its split is off plan beyond chance, so its result cannot be trusted.",
        "ko": "{experiment}의 고객 배정 방식을 점검하세요: 배정 비율이 우연으로 보기 어려울 만큼 계획과 달라 결과를 신뢰할 수 없습니다."},
    "experiments_next_win": {
        "en": "Consider rolling out {variant} of {experiment}: it converts significantly better ({lift}).",
        "ko": "{experiment}의 {variant} 적용을 검토하세요: 전환율이 유의하게 높습니다 ({lift})."},
    "experiments_next_loss": {
        "en": "Stop {variant} of {experiment}: it converts significantly worse ({lift}).",
        "ko": "{experiment}의 {variant}을(를) 중단하세요: 전환율이 유의하게 낮습니다 ({lift})."},
    "experiments_next_wait": {
        "en": "Keep {experiment} running: about {more} more users per arm are needed before its result can be read.",
        "ko": "{experiment}을(를) 계속 진행하세요: 결과를 판단하려면 그룹당 약 {more}명이 더 필요합니다."},
})


# --------------------------------------------------------------------------
# Statistics on counts (pure functions)
# --------------------------------------------------------------------------

def _f(x) -> float | None:
    return compare._num(x)


def two_proportions(x_c: float, n_c: float, x_t: float, n_t: float, alpha: float = ALPHA) -> dict:
    """Compare a treatment's rate ``x_t / n_t`` with the control's ``x_c / n_c``.

    Returns ``lift`` (``p_t − p_c``, 0–1 points), ``relative_lift``
    (``lift / p_c``; ``None`` when ``p_c`` is 0), ``ci_low`` / ``ci_high``
    (Newcombe's ``1 − alpha`` interval of the difference: with each arm's
    Wilson interval ``[l, u]``, ``lift − √((p_t − l_t)² + (u_c − p_c)²)`` …
    ``lift + √((u_t − p_t)² + (p_c − l_c)²)``) and ``p_value`` (two-sided pooled
    two-proportion z-test: ``z = lift / √(p(1−p)(1/n_t + 1/n_c))`` with
    ``p = (x_t + x_c) / (n_t + n_c)``). Every value is ``None`` when either
    arm has no users; ``p_value`` is 1 when both rates are 0 or both 1.
    """
    out = {"lift": None, "relative_lift": None, "ci_low": None, "ci_high": None, "p_value": None}
    if not n_c or not n_t:
        return out
    p_c, p_t = x_c / n_c, x_t / n_t
    out["lift"] = p_t - p_c
    out["relative_lift"] = (p_t - p_c) / p_c if p_c else None
    if (x_c + x_t) in (0, n_c + n_t):
        out["p_value"] = 1.0
        out["ci_low"] = out["ci_high"] = 0.0
        return out
    _, p = proportions_ztest([x_t, x_c], [n_t, n_c])
    lo, hi = confint_proportions_2indep(x_t, n_t, x_c, n_c, method="newcomb", compare="diff", alpha=alpha)
    out.update(p_value=_f(p), ci_low=_f(lo), ci_high=_f(hi))
    return out


def srm_p_value(counts, planned=None) -> float | None:
    """Chi-square goodness-of-fit p-value of assignment ``counts`` (one per
    variant) against the ``planned`` shares (same order; default equal).
    ``None`` with fewer than two variants or no assignments."""
    obs = np.asarray([float(c) for c in counts])
    if len(obs) < 2 or obs.sum() <= 0:
        return None
    shares = np.full(len(obs), 1.0 / len(obs)) if planned is None else np.asarray(planned, float) / np.sum(planned)
    return _f(stats.chisquare(obs, obs.sum() * shares).pvalue)


def _h_to_rate(p_c: float, h: float) -> float:
    """The rate whose Cohen's h against ``p_c`` is ``h`` (clipped to [0, 1])."""
    a = 2 * math.asin(math.sqrt(p_c)) + h
    a = min(max(a, 0.0), math.pi)
    return math.sin(a / 2) ** 2


def mde(p_c: float | None, n_c: float, n_t: float, alpha: float = ALPHA, power: float = POWER) -> float | None:
    """Minimum detectable (upward) absolute lift over the control's rate
    ``p_c`` with ``n_c`` and ``n_t`` users, two-sided level ``alpha`` and the
    given power: solve Cohen's h with statsmodels ``NormalIndPower`` and
    convert it back to a rate difference. ``None`` without users or rate."""
    if p_c is None or not n_c or not n_t:
        return None
    h = NormalIndPower().solve_power(effect_size=None, nobs1=n_c, alpha=alpha, power=power, ratio=n_t / n_c,
                                     alternative="two-sided")
    return _h_to_rate(p_c, float(h)) - p_c


def power_at(p_c: float | None, p_t: float | None, n_c: float, n_t: float, alpha: float = ALPHA) -> float | None:
    """Power of the two-sided test at level ``alpha`` to detect the
    difference between ``p_c`` and ``p_t`` with ``n_c`` and ``n_t`` users."""
    if p_c is None or p_t is None or not n_c or not n_t:
        return None
    h = abs(float(proportion_effectsize(p_t, p_c)))
    if h == 0:
        return alpha
    return _f(NormalIndPower().power(effect_size=h, nobs1=n_c, alpha=alpha, ratio=n_t / n_c))


def users_needed(p_c: float | None, p_t: float | None, alpha: float = ALPHA, power: float = POWER) -> float | None:
    """Users per variant (equal arms) to detect the difference between
    ``p_c`` and ``p_t`` with the given power; ``None`` when they are equal."""
    if p_c is None or p_t is None:
        return None
    h = abs(float(proportion_effectsize(p_t, p_c)))
    if h == 0:
        return None
    return float(NormalIndPower().solve_power(effect_size=h, nobs1=None, alpha=alpha, power=power, ratio=1.0))


def control_of(variants) -> str:
    """The control variant (see the module docstring)."""
    names = sorted(str(v) for v in variants)
    for c in CONTROL_NAMES:
        for v in names:
            if v.strip().lower() == c:
                return v
    return names[0]


# --------------------------------------------------------------------------
# Counts on the engine
# --------------------------------------------------------------------------

def _window(ds) -> int:
    return int(ds.cfg.definitions.experiment_window_days)


def last_counted_assignment(cfg) -> pd.Timestamp:
    """The latest ``assigned_at`` (exclusive) whose window closed by the period end."""
    return pd.Timestamp(cfg.period.end) - pd.Timedelta(days=int(cfg.definitions.experiment_window_days))


def active(ds, cfg) -> list[str]:
    """Experiments in the report (see the module docstring), by name."""
    if not ds.has("experiments"):
        return []
    e = ds.table("experiments")
    start = pd.Timestamp(cfg.period.start) - pd.Timedelta(days=_window(ds))
    names = e.filter(e.assigned_at >= ibis.timestamp(start.to_pydatetime())).experiment.cast("string").name("x")
    return sorted(str(x) for x in names.as_table().distinct().execute()["x"].dropna())


def arms(ds, cfg) -> pd.DataFrame:
    """One row per experiment in the report and variant: ``assigned`` (all
    assignments up to the period end), ``users`` (those whose window
    closed), ``conversions``, ``revenue`` (successful orders within the
    window; ``NaN`` without an orders table). Sorted by experiment, variant."""

    cols = ["experiment", "variant", "assigned", "users", "conversions", "revenue"]
    names = active(ds, cfg)
    if not names:
        return pd.DataFrame(columns=cols)
    W = _window(ds)
    e = ds.table("experiments")
    e = e.filter(e.experiment.cast("string").isin(names))
    e = e.select(cid=e.customer_id, experiment=e.experiment.cast("string"), variant=e.variant.cast("string"),
                 at=e.assigned_at)
    e = e.mutate(closed=(e.at + ibis.interval(days=W)) <= ts(cfg.period.end))
    if ds.has("orders"):
        p = facts.paid_orders(ds)
        p = p.select(ocid=p.customer_id, ot=p.ordered_at, amount=p.amount)
        j = e.left_join(p, [e.cid == p.ocid, p.ot >= e.at, p.ot < e.at + ibis.interval(days=W)])
        per = j.group_by(["cid", "experiment", "variant", "closed"]).aggregate(
            conv=j.ot.notnull().any(), rev=j.amount.sum())
        df = per.group_by(["experiment", "variant"]).aggregate(
            assigned=per.count(), users=per.count(where=per.closed),
            conversions=per.count(where=per.closed & per.conv),
            revenue=per.rev.sum(where=per.closed)).execute()
        df["revenue"] = df["revenue"].astype(float).fillna(0.0)
    else:
        df = e.group_by(["experiment", "variant"]).aggregate(assigned=e.count(), users=e.count(where=e.closed)).execute()
        df["conversions"] = np.nan
        df["revenue"] = np.nan
    return df[cols].sort_values(["experiment", "variant"]).reset_index(drop=True).astype(
        {c: "float64" for c in cols[2:]})


def readout(ds, cfg, planned: dict[str, dict[str, float]] | None = None) -> pd.DataFrame:
    """The readout of every experiment in the report, one row per variant.

    Columns: ``experiment``, ``variant``, ``is_control``, ``assigned``,
    ``share`` (of the experiment's assignments), ``planned_share``,
    ``users``, ``conversions``, ``conversion_rate`` (0–1),
    ``revenue_per_user``, and for treatments ``lift``, ``relative_lift``,
    ``ci_low``, ``ci_high``, ``p_value`` (corrected when there are several
    treatments), ``mde``, ``power``, ``users_needed``; per experiment
    ``srm_p_value``, ``srm`` (flagged), ``comparisons`` (m) and
    ``ci_level``. ``planned`` maps experiment → {variant: share}; an
    experiment not in it is planned as an equal split.
    """
    a = arms(ds, cfg)
    rows = []
    for name, g in a.groupby("experiment", sort=True):
        g = g.sort_values("variant")
        plan = (planned or {}).get(name)
        shares_plan = [float(plan.get(v, 0.0)) for v in g["variant"]] if plan else [1.0 / len(g)] * len(g)
        srm_p = srm_p_value(g["assigned"].tolist(), shares_plan if plan else None)
        total = g["assigned"].sum()
        ctrl = control_of(g["variant"])
        c = g[g["variant"] == ctrl].iloc[0]
        m = max(len(g) - 1, 1)
        alpha = ALPHA / m
        rate_c = compare.safe_div(c["conversions"], c["users"])
        for _, r in g.iterrows():
            rate = compare.safe_div(r["conversions"], r["users"])
            row = {"experiment": name, "variant": r["variant"], "is_control": r["variant"] == ctrl,
                   "assigned": r["assigned"], "share": compare.safe_div(r["assigned"], total),
                   "planned_share": shares_plan[list(g["variant"]).index(r["variant"])] / sum(shares_plan),
                   "users": r["users"], "conversions": r["conversions"], "conversion_rate": rate,
                   "revenue_per_user": compare.safe_div(r["revenue"], r["users"]),
                   "srm_p_value": srm_p, "srm": srm_p is not None and srm_p < SRM_ALPHA,
                   "comparisons": float(len(g) - 1), "ci_level": 1 - alpha,
                   "lift": None, "relative_lift": None, "ci_low": None, "ci_high": None, "p_value": None,
                   "mde": None, "power": None, "users_needed": None}
            if r["variant"] != ctrl and not pd.isna(r["conversions"]):
                t = two_proportions(c["conversions"], c["users"], r["conversions"], r["users"], alpha=alpha)
                if t["p_value"] is not None:
                    t["p_value"] = min(1.0, t["p_value"] * m)
                row.update(t)
                row["mde"] = mde(rate_c, c["users"], r["users"], alpha)
                row["power"] = power_at(rate_c, rate, c["users"], r["users"], alpha)
                row["users_needed"] = users_needed(rate_c, rate, alpha)
            rows.append(row)
    cols = ["experiment", "variant", "is_control", "assigned", "share", "planned_share", "users", "conversions",
            "conversion_rate", "revenue_per_user", "lift", "relative_lift", "ci_low", "ci_high", "p_value", "mde",
            "power", "users_needed", "srm_p_value", "srm", "comparisons", "ci_level"]
    return pd.DataFrame(rows, columns=cols)


def metrics(ds, cfg, ro: pd.DataFrame | None = None) -> list[dict] | None:
    """The stable ``experiments`` key: one entry per experiment and variant
    with :data:`METRIC_FIELDS` (the control's lift, interval and p-value are
    ``None``). ``None`` when the client has no experiments table; an empty
    list when no experiment is in the report."""
    if not ds.has("experiments"):
        return None
    ro = readout(ds, cfg) if ro is None else ro
    return [{k: report.jsonable(r[k]) for k in METRIC_FIELDS} for _, r in ro.iterrows()]


# --------------------------------------------------------------------------
# Generated text
# --------------------------------------------------------------------------

def _pp(x: float | None, lang: str) -> str:
    if x is None or pd.isna(x):
        return "–"
    sign = "+" if x > 0 else ("−" if x < 0 else "±")
    return i18n.t("pp", lang, sign=sign, x=f"{abs(x) * 100:.1f}")


def _p(p) -> str:
    return report.fmt_p(None if p is None or pd.isna(p) else float(p))


def verdicts(ds, cfg, ro: pd.DataFrame | None = None) -> list[str]:
    """One plain sentence per experiment (per treatment when there are
    several), in the client's language. In order of precedence: a flagged
    sample-ratio mismatch; too little data (an arm under
    ``min_sample_size`` users); a significant win or loss; not enough data
    (the power to detect the observed lift is under 80% and the users
    needed are at most :data:`REACH` times the smaller arm: "need about n
    more users per arm", n = users needed − users of the smaller arm); no
    significant difference (with the detectable lift)."""
    lang = cfg.language
    ro = readout(ds, cfg) if ro is None else ro
    n_min = int(cfg.definitions.min_sample_size)
    out: list[str] = []
    for name, g in ro.groupby("experiment", sort=True):
        if g["srm"].any():
            shares = ", ".join(f"{v} {report.fmt_pct(s)}" for v, s in zip(g["variant"], g["share"]))
            out.append(i18n.t("experiments_verdict_srm", lang, experiment=name, shares=shares,
                              p=_p(g["srm_p_value"].iloc[0])))
            continue
        c = g[g["is_control"]].iloc[0]
        treatments = g[~g["is_control"]]
        if not len(treatments) or pd.isna(c["conversions"]):
            if not len(treatments):
                out.append(i18n.t("experiments_verdict_one_arm", lang, experiment=name))
            continue
        for _, r in treatments.iterrows():
            small = min(c["users"], r["users"])
            base = dict(experiment=name, variant=r["variant"], control=c["variant"], lift=_pp(r["lift"], lang),
                        rate=report.fmt_pct(r["conversion_rate"]), rate_c=report.fmt_pct(c["conversion_rate"]),
                        p=_p(r["p_value"]))
            if small < n_min:
                out.append(i18n.t("experiments_verdict_too_little", lang, experiment=name, n=report.fmt_int(small),
                                  min_n=n_min))
            elif r["p_value"] is not None and r["p_value"] < ALPHA:
                key = "experiments_verdict_win" if r["lift"] > 0 else "experiments_verdict_loss"
                out.append(i18n.t(key, lang, **{**base, "lift": _pp(abs(r["lift"]), lang).lstrip("+")}))
            elif _within_reach(r, small):
                more = max(0.0, r["users_needed"] - small)
                out.append(i18n.t("experiments_verdict_more_data", lang, more=report.fmt_int(_round_up(more)), **base))
            else:
                out.append(i18n.t("experiments_verdict_no_difference", lang, mde=_pp(r["mde"], lang), **base))
    return out


REACH = 10.0
""""Not enough data yet" is said only when the users needed to detect the
observed lift are at most this many times the current smaller arm; beyond
that, the observed difference is too small to matter at this traffic, and
the verdict is "no significant difference" with the detectable lift."""


def _within_reach(r, small: float) -> bool:
    return (r["power"] is not None and not pd.isna(r["power"]) and r["power"] < POWER
            and r["users_needed"] is not None and not pd.isna(r["users_needed"])
            and r["users_needed"] <= REACH * small)


def _round_up(x: float) -> float:
    """Round a number of users up to two significant digits (about n)."""
    if x <= 0:
        return 0.0
    mag = 10 ** max(0, int(math.floor(math.log10(x))) - 1)
    return math.ceil(x / mag) * mag


def notes(ds, cfg, ro: pd.DataFrame | None = None) -> list[str]:
    """The method sentence and, for experiments with several treatments, the
    correction used."""
    lang = cfg.language
    ro = readout(ds, cfg) if ro is None else ro
    W = _window(ds)
    last = last_counted_assignment(cfg) - pd.Timedelta(days=1)
    out = [i18n.t("experiments_method", lang, days=W, last=report.fmt_date(last), period=cfg.period.label(lang))]
    for name, g in ro.groupby("experiment", sort=True):
        m = int(g["comparisons"].iloc[0])
        if m > 1:
            out.append(i18n.t("experiments_correction", lang, experiment=name, m=m,
                              level=report.fmt_pct(g["ci_level"].iloc[0])))
    return out


def next_steps(ds, cfg, ro: pd.DataFrame | None = None) -> list[str]:
    """Experiment actions for "what to look at next": fix a flagged
    assignment; roll out a significant winner / stop a significant loser;
    keep an under-powered test running (with the users still needed)."""
    lang = cfg.language
    ro = readout(ds, cfg) if ro is None else ro
    n_min = int(cfg.definitions.min_sample_size)
    out: list[str] = []
    for name, g in ro.groupby("experiment", sort=True):
        if g["srm"].any():
            out.append(i18n.t("experiments_next_srm", lang, experiment=name))
            continue
        c = g[g["is_control"]].iloc[0]
        for _, r in g[~g["is_control"]].iterrows():
            if r["p_value"] is None or pd.isna(r["p_value"]) or min(c["users"], r["users"]) < n_min:
                continue
            if r["p_value"] < ALPHA:
                key = "experiments_next_win" if r["lift"] > 0 else "experiments_next_loss"
                out.append(i18n.t(key, lang, experiment=name, variant=r["variant"], lift=_pp(r["lift"], lang)))
            elif _within_reach(r, min(c["users"], r["users"])):
                more = _round_up(max(0.0, r["users_needed"] - min(c["users"], r["users"])))
                out.append(i18n.t("experiments_next_wait", lang, experiment=name, more=report.fmt_int(more)))
    return out


# --------------------------------------------------------------------------
# Views for the notebook
# --------------------------------------------------------------------------

def readout_view(ds, cfg, ro: pd.DataFrame | None = None):
    """The readout table (one row per experiment and variant), or a note."""
    lang = cfg.language
    if not ds.has("experiments"):
        return report.Note(i18n.t("experiments_not_available", lang))
    ro = readout(ds, cfg) if ro is None else ro
    if ro.empty:
        return report.Note(i18n.t("experiments_none", lang, period=cfg.period.label(lang)))
    L = {k: i18n.t(f"experiments_col_{k}", lang) for k in
         ("experiment", "variant", "assigned", "users", "conversions", "conversion_rate", "revenue_per_user", "lift",
          "ci", "p", "mde", "power")}
    df = pd.DataFrame({
        L["experiment"]: ro["experiment"],
        L["variant"]: [f"{v} ({i18n.t('experiments_control', lang)})" if c else v
                       for v, c in zip(ro["variant"], ro["is_control"])],
        L["assigned"]: ro["assigned"], L["users"]: ro["users"], L["conversions"]: ro["conversions"],
        L["conversion_rate"]: ro["conversion_rate"], L["revenue_per_user"]: ro["revenue_per_user"],
        L["lift"]: [_pp(x, lang) if x is not None and not pd.isna(x) else "–" for x in ro["lift"]],
        L["ci"]: [f"{_pp(lo, lang)} … {_pp(hi, lang)}" if lo is not None and not pd.isna(lo) else "–"
                  for lo, hi in zip(ro["ci_low"], ro["ci_high"])],
        L["p"]: [_p(p).replace("= ", "") if p is not None and not pd.isna(p) else "–" for p in ro["p_value"]],
        L["mde"]: [_pp(x, lang) if x is not None and not pd.isna(x) else "–" for x in ro["mde"]],
        L["power"]: ro["power"],
    })
    if ro["conversions"].isna().all():
        df = df[[L["experiment"], L["variant"], L["assigned"]]]
    return report.table(df, cfg, {L["assigned"]: "int", L["users"]: "int", L["conversions"]: "int",
                                  L["conversion_rate"]: "pct", L["revenue_per_user"]: "money", L["lift"]: "numtext",
                                  L["ci"]: "numtext", L["p"]: "numtext", L["mde"]: "numtext", L["power"]: "pct"})


def srm_view(ds, cfg, ro: pd.DataFrame | None = None):
    """The sample-ratio check per experiment and variant (a table), or a note."""
    lang = cfg.language
    if not ds.has("experiments"):
        return report.Note(i18n.t("experiments_not_available", lang))
    ro = readout(ds, cfg) if ro is None else ro
    if ro.empty:
        return report.Note(i18n.t("experiments_none", lang, period=cfg.period.label(lang)))
    L = {k: i18n.t(f"experiments_col_{k}", lang) for k in ("experiment", "variant", "assigned", "planned", "share",
                                                              "check")}
    df = pd.DataFrame({
        L["experiment"]: ro["experiment"], L["variant"]: ro["variant"], L["assigned"]: ro["assigned"],
        L["planned"]: ro["planned_share"], L["share"]: ro["share"],
        L["check"]: [f"{i18n.t('experiments_srm_flag' if f else 'experiments_srm_ok', lang)} ({_p(p).replace('= ', '')})"
                     if p is not None and not pd.isna(p) else "–" for f, p in zip(ro["srm"], ro["srm_p_value"])],
    })
    return report.table(df, cfg, {L["assigned"]: "int", L["planned"]: "pct", L["share"]: "pct"})


def verdicts_view(ds, cfg, ro: pd.DataFrame | None = None):
    """:func:`verdicts` and :func:`notes` as a paragraph list, or a note."""
    lang = cfg.language
    if not ds.has("experiments"):
        return report.Note(i18n.t("experiments_not_available", lang))
    ro = readout(ds, cfg) if ro is None else ro
    if ro.empty:
        return report.Note(i18n.t("experiments_none", lang, period=cfg.period.label(lang)))
    extra = [] if ds.has("orders") else [i18n.t("experiments_no_orders", lang)]
    return report.Narrative(verdicts(ds, cfg, ro) + extra + notes(ds, cfg, ro))


__all__ = ["ALPHA", "SRM_ALPHA", "POWER", "METRIC_FIELDS", "two_proportions", "srm_p_value", "mde", "power_at",
           "users_needed", "control_of", "active", "arms", "readout", "metrics", "verdicts", "notes", "next_steps",
           "readout_view", "srm_view", "verdicts_view", "last_counted_assignment"]
