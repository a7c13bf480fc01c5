"""What the retention notebook shows about survival: Kaplan–Meier charts of
how long customers stay (by acquisition channel and by signup quarter) and
of how soon new customers buy, the medians with their intervals, and the
log-rank comparison in words — built from :mod:`.survival`."""

from __future__ import annotations

import pandas as pd

from journeykit import report
from journeykit.core import i18n
from journeykit.report import plots
from journeykit.sections.retention import survival as S
from journeykit.sections.retention.view import group_name

MONTH_DAYS = 365.25 / 12

i18n.register({
    "survival_chart_lifetime": {"en": "Customers still active, by {by}", "ko": "{by}별 활동 유지 고객 비율"},
    "survival_chart_first_purchase": {"en": "Share of new customers who have bought", "ko": "구매한 신규 고객 비율"},
    "survival_by_channel": {"en": "acquisition channel", "ko": "유입 채널"},
    "survival_by_cohort": {"en": "signup quarter", "ko": "가입 분기"},
    "survival_axis_months": {"en": "Months since sign-up", "ko": "가입 후 개월"},
    "survival_axis_days": {"en": "Days since sign-up", "ko": "가입 후 일수"},
    "survival_axis_active": {"en": "Still active (not churned)", "ko": "활동 유지 비율 (이탈 전)"},
    "survival_axis_bought": {"en": "Have bought", "ko": "구매 경험 비율"},
    "survival_all": {"en": "all customers", "ko": "전체 고객"},
    "survival_col_group": {"en": "Group", "ko": "그룹"},
    "survival_col_customers": {"en": "Customers", "ko": "고객 수"},
    "survival_col_churned": {"en": "Churned so far", "ko": "현재까지 이탈"},
    "survival_col_bought": {"en": "Bought so far", "ko": "현재까지 구매"},
    "survival_col_median": {"en": "Median lifetime (days)", "ko": "수명 중앙값 (일)"},
    "survival_col_median_fp": {"en": "Median days to first purchase", "ko": "첫 구매까지 일수 중앙값"},
    "survival_col_ci": {"en": "95% interval", "ko": "95% 구간"},
    "survival_not_reached": {"en": "not reached", "ko": "미도달"},
    "survival_median_days": {"en": "{days} days", "ko": "{days}일"},
    "survival_median_not_reached": {"en": "median not reached yet", "ko": "중앙값 미도달"},
    "survival_no_data": {
        "en": "Survival curves need the customers' sign-up dates and their activity: not available for this client.",
        "ko": "생존 곡선에는 고객 가입일과 활동 데이터가 필요해 이 고객사에는 제공되지 않습니다."},
    "survival_no_groups": {
        "en": "No comparison by {by}: fewer than two groups with enough customers.",
        "ko": "{by}별 비교 없음: 고객 수가 충분한 그룹이 둘 미만입니다."},
    "survival_overall": {
        "en": "Half of the customers who sign up have churned (gone {d} days without activity, counted from their last activity) {median} days after signing up (95% interval {low} to {high}); {n} customers, {churned} of whom have churned so far — the others are counted for as long as they have been seen, not dropped.",
        "ko": "가입 고객의 절반은 가입 후 {median}일에 이탈합니다({d}일 무활동, 마지막 활동 시점 기준; 95% 구간 {low}~{high}). 고객 {n}명 중 지금까지 {churned}명이 이탈했으며, 나머지는 빼지 않고 관찰된 기간만큼 반영했습니다."},
    "survival_overall_not_reached": {
        "en": "Fewer than half of the customers who sign up have churned within the follow-up: the median lifetime is not reached yet ({n} customers, {churned} churned so far).",
        "ko": "관찰 기간 안에 이탈한 가입 고객이 절반 미만이어서 수명 중앙값에 아직 도달하지 않았습니다 (고객 {n}명, 지금까지 이탈 {churned}명)."},
    "survival_logrank_differs": {
        "en": "Lifetimes differ by {by} (log-rank test, χ² = {chi2}, {df} df, p {p}): the shortest median is {short} ({short_days} days), the longest {long} ({long_days}).",
        "ko": "{by}에 따라 수명이 다릅니다 (로그순위 검정, χ² = {chi2}, 자유도 {df}, p {p}): 중앙값이 가장 짧은 그룹은 {short}({short_days}일), 가장 긴 그룹은 {long}({long_days})입니다."},
    "survival_logrank_same": {
        "en": "Lifetimes do not differ significantly by {by} (log-rank test, χ² = {chi2}, {df} df, p {p}).",
        "ko": "{by}에 따른 수명 차이는 유의하지 않습니다 (로그순위 검정, χ² = {chi2}, 자유도 {df}, p {p})."},
    "survival_first_purchase": {
        "en": "Counting every new customer — those who have not bought yet until the period end, not left out — half have bought within {median} days of signing up (95% interval {low} to {high}), and {share90} within 90 days. The purchase section's median counts buyers only, so it is shorter.",
        "ko": "아직 구매하지 않은 고객도 빼지 않고 기간 말까지 반영하면, 신규 고객의 절반이 가입 후 {median}일 안에 구매했고(95% 구간 {low}~{high}) 90일 안에는 {share90}이(가) 구매했습니다. 구매 섹션의 중앙값은 구매 고객만 세므로 더 짧습니다."},
    "survival_first_purchase_not_reached": {
        "en": "Counting every new customer — those who have not bought yet until the period end — fewer than half have bought within the follow-up; {share90} bought within 90 days of signing up.",
        "ko": "아직 구매하지 않은 고객도 기간 말까지 반영하면, 관찰 기간 안에 구매한 신규 고객은 절반 미만이며 가입 후 90일 안에는 {share90}이(가) 구매했습니다."},
})


def _fmt_days(x, cfg) -> str:
    return i18n.t("survival_not_reached", cfg.language) if x is None or pd.isna(x) else f"{x:,.0f}"


def _p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


def insights(ds, cfg) -> list[str]:
    """Sentences: the median lifetime of everyone who signed up (with its
    interval), the log-rank comparisons by channel and by signup quarter,
    and the time to first purchase counting those who have not bought.
    One sentence when the client lacks the data."""
    lang = cfg.language
    lt = S.lifetimes(ds, cfg)
    if lt is None:
        return [i18n.t("survival_no_data", lang)]
    d = int(cfg.definitions.churn_inactivity_days)
    md = S.median(lt["days"], lt["churned"])
    n, churned = report.fmt_int(len(lt)), report.fmt_int(int(lt["churned"].sum()))
    if md["median"] is None:
        out = [i18n.t("survival_overall_not_reached", lang, n=n, churned=churned)]
    else:
        out = [i18n.t("survival_overall", lang, d=d, median=_fmt_days(md["median"], cfg),
                      low=_fmt_days(md["ci_low"], cfg), high=_fmt_days(md["ci_high"], cfg), n=n, churned=churned)]
    for by in ("channel", "cohort"):
        s = logrank_sentence(ds, cfg, by)
        if s:
            out.append(s)
    fp = S.first_purchase_times(ds, cfg)
    if fp is not None and len(fp):
        m = S.metrics(ds, cfg)
        share = report.fmt_pct(m["first_purchase_share_90d"])
        if m["median_days_to_first_purchase_km"] is None:
            out.append(i18n.t("survival_first_purchase_not_reached", lang, share90=share))
        else:
            out.append(i18n.t("survival_first_purchase", lang, median=_fmt_days(m["median_days_to_first_purchase_km"], cfg),
                              low=_fmt_days(m["median_days_to_first_purchase_km_ci_low"], cfg),
                              high=_fmt_days(m["median_days_to_first_purchase_km_ci_high"], cfg), share90=share))
    return out


def logrank_sentence(ds, cfg, by: str) -> str | None:
    """The log-rank comparison of lifetimes by ``by`` (``channel``,
    ``cohort``) in one sentence: whether they differ at p < 0.05 and, when
    they do, the groups with the shortest and longest median; ``None`` when
    the grouping does not apply."""
    lang = cfg.language
    r = S.grouped(ds, cfg, by)
    if r is None or r["logrank"] is None:
        return None
    lr = r["logrank"]
    values = dict(by=i18n.t(f"survival_by_{by}", lang), chi2=f"{lr['chi2']:.1f}", df=lr["df"], p=_p(lr["p"]))
    if lr["p"] >= 0.05:
        return i18n.t("survival_logrank_same", lang, **values)
    s = r["summary"].dropna(subset=["median"])
    if s.empty:
        return None
    lo = s.loc[s["median"].idxmin()]
    full = r["summary"]
    if full["median"].isna().any():     # a group that has not reached its median lives longest
        hi = full[full["median"].isna()].iloc[0]
        long_days = i18n.t("survival_median_not_reached", lang)
    else:
        hi = s.loc[s["median"].idxmax()]
        long_days = i18n.t("survival_median_days", lang, days=f"{hi['median']:,.0f}")
    return i18n.t("survival_logrank_differs", lang, **values, short=group_name(lo["group"], cfg),
                  short_days=f"{lo['median']:,.0f}", long=group_name(hi["group"], cfg), long_days=long_days)


def table(ds, cfg, by: str, what: str = "lifetime") -> report.Table | report.Note | None:
    """Per group of ``by``: customers, events so far (churned; for
    ``what="first_purchase"`` bought), the median (days; "not reached")
    with its 95% interval; a note when there are fewer than two groups;
    ``None`` without the data (said once in :func:`insights`)."""
    lang = cfg.language
    df = S.lifetimes(ds, cfg) if what == "lifetime" else S.first_purchase_times(ds, cfg)
    if df is None:
        return None
    r = S.grouped(ds, cfg, by, what)
    if r is None:
        return report.Note(i18n.t("survival_no_groups", lang, by=i18n.t(f"survival_by_{by}", lang)))
    s = r["summary"]
    ci = [f"{_fmt_days(a, cfg)} – {_fmt_days(b, cfg)}" if a is not None and not pd.isna(a) else "–"
          for a, b in zip(s["ci_low"], s["ci_high"])]
    cols = [i18n.t("survival_col_group", lang), i18n.t("survival_col_customers", lang),
            i18n.t("survival_col_churned" if what == "lifetime" else "survival_col_bought", lang),
            i18n.t("survival_col_median" if what == "lifetime" else "survival_col_median_fp", lang),
            i18n.t("survival_col_ci", lang)]
    out = pd.DataFrame({cols[0]: [group_name(g, cfg) for g in s["group"]], cols[1]: s["customers"],
                        cols[2]: s["events"], cols[3]: [_fmt_days(x, cfg) for x in s["median"]], cols[4]: ci})
    return report.table(out, cfg, {cols[1]: "int", cols[2]: "int", cols[3]: "numtext", cols[4]: "numtext"})


def chart(ds, cfg, by: str, what: str = "lifetime"):
    """Kaplan–Meier step curves by ``by`` with their 95% bands (and, for
    lifetimes, everyone's curve dashed): the share still active by months
    since sign-up, or for ``what="first_purchase"`` the share who have
    bought (1 − S) by days since sign-up (first 180 days). ``None`` without
    the data or fewer than two groups (the table says so)."""
    import matplotlib.pyplot as plt

    lang = cfg.language
    lifetime = what == "lifetime"
    df = S.lifetimes(ds, cfg) if lifetime else S.first_purchase_times(ds, cfg)
    if df is None:
        return None
    event = "churned" if lifetime else "bought"
    r = S.grouped(ds, cfg, by, what)
    if r is None:
        return None
    fig, ax = plt.subplots(figsize=(8, 3.8))
    scale = MONTH_DAYS if lifetime else 1.0
    limit = S.MAX_DAYS if lifetime else 180

    def draw(km, colour, name, style="-", band=True):
        km = km[km["days"] <= limit]
        x = km["days"].to_numpy() / scale
        y = km["survival"].to_numpy() if lifetime else 1 - km["survival"].to_numpy()
        ax.step(x, y, where="post", color=colour, linestyle=style, lw=1.6, label=name)
        if band:
            lo, hi = km["ci_low"].to_numpy(), km["ci_high"].to_numpy()
            if not lifetime:
                lo, hi = 1 - hi, 1 - lo
            ax.fill_between(x, lo, hi, step="post", color=colour, alpha=0.12, lw=0)

    for i, (g, km) in enumerate(r["curves"].items()):
        draw(km, plots.PALETTE[i % len(plots.PALETTE)], group_name(g, cfg))
    if lifetime:
        draw(S.kaplan_meier(df["days"], df[event]), "0.3", i18n.t("survival_all", lang), "--", band=False)
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(lambda v, _: f"{v * 100:.0f}%")
    ax.set_xlabel(i18n.t("survival_axis_months" if lifetime else "survival_axis_days", lang))
    ax.set_ylabel(i18n.t("survival_axis_active" if lifetime else "survival_axis_bought", lang))
    title = (i18n.t("survival_chart_lifetime", lang, by=i18n.t(f"survival_by_{by}", lang)) if lifetime
             else i18n.t("survival_chart_first_purchase", lang) + f" ({i18n.t(f'survival_by_{by}', lang)})")
    ax.set_title(title)
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    plt.close(fig)
    return fig


__all__ = ["insights", "logrank_sentence", "table", "chart"]
