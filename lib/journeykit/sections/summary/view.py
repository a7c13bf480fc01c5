"""What the executive summary shows: the scorecard with sparklines, the
sentences about what changed, the journey chart, health and lifecycle
shifts, top actions, the churn outlook and the data caveats, built from
:mod:`.compute` in the client's language."""

from __future__ import annotations

import html
import math

import matplotlib.pyplot as plt
import pandas as pd

from journeykit import report
from journeykit.core import i18n
from journeykit.core.config import RunConfig
from journeykit.report import plots
from journeykit.sections import registry
from journeykit.sections.summary import compute
from journeykit.sections.summary.compute import Row
from journeykit.stats import compare

i18n.register({
    "summary_since_new": {"en": "{label}: {dir} significantly this month ({value}); last month's report saw no significant change.",
                          "ko": "{label}: 이번 달 유의하게 {dir}했습니다({value}). 지난달 리포트에서는 유의한 변화가 없었습니다."},
    "summary_since_ended": {"en": "{label}: last month's report saw a significant {dir_then}; this month's change is not significant ({value}).",
                            "ko": "{label}: 지난달 리포트에서는 유의하게 {dir_then}했지만, 이번 달 변화는 유의하지 않습니다({value})."},
    "summary_since_reversed": {"en": "{label}: {dir} significantly this month, after a significant {dir_then} in last month's report ({value_then} → {value}).",
                               "ko": "{label}: 지난달 리포트의 유의한 {dir_then}에 이어 이번 달에는 유의하게 {dir}했습니다({value_then} → {value})."},
    "summary_since_continued": {"en": "{label}: {dir} significantly again, as in last month's report ({value_then} → {value}).",
                                "ko": "{label}: 지난달 리포트에 이어 다시 유의하게 {dir}했습니다({value_then} → {value})."},
    "summary_since_new_kpi": {"en": "{label}: new in this report ({value}).", "ko": "{label}: 이번 리포트에 새로 추가된 지표입니다({value})."},
    "summary_since_nothing": {"en": "Nothing new since the {prev} report: no headline KPI changed its verdict.",
                              "ko": "{prev} 리포트 이후 판단이 바뀐 핵심 지표는 없습니다."},
    "summary_since_none": {"en": "There is no {prev} report to compare with.",
                           "ko": "비교할 {prev} 리포트가 없습니다."},
    "summary_dir_up": {"en": "rose", "ko": "상승"},
    "summary_dir_down": {"en": "fell", "ko": "하락"},
    "summary_dir_flat": {"en": "held", "ko": "유지"},
    "summary_dir_noun_up": {"en": "rise", "ko": "상승"},
    "summary_dir_noun_down": {"en": "fall", "ko": "하락"},
    "summary_dir_noun_flat": {"en": "change", "ko": "변화"},
    "summary_col_section": {"en": "Stage", "ko": "단계"},
    "summary_col_trend": {"en": "Last 12 months", "ko": "최근 12개월"},
    "summary_no_sections": {"en": "No other section has results for this period yet: render the full report first.",
                            "ko": "이 기간의 다른 섹션 결과가 아직 없습니다. 전체 리포트를 먼저 생성하세요."},
    "summary_nothing_changed": {"en": "No headline KPI changed significantly since {prev}.",
                                "ko": "{prev} 대비 통계적으로 유의하게 변한 핵심 지표는 없습니다."},
    "summary_funnel_title": {"en": "The journey in {period}", "ko": "{period}의 고객 여정"},
    "summary_funnel_axis": {"en": "Count (log scale)", "ko": "수 (로그 스케일)"},
    "summary_funnel_note_intro": {"en": "Each bar is the stage's own count for the month:", "ko": "막대는 단계별로 그 달에 집계한 수입니다:"},
    "summary_funnel_part_marketing": {"en": "impressions and clicks from marketing", "ko": "노출·클릭은 마케팅 데이터"},
    "summary_funnel_part_events": {"en": "users reaching each funnel step (from events)", "ko": "퍼널 단계에 도달한 사용자는 이벤트"},
    "summary_funnel_part_orders": {"en": "the month's orders", "ko": "그 달의 주문"},
    "summary_funnel_part_promoters": {"en": "promoters among the month's survey answers", "ko": "추천 고객은 그 달 설문 응답"},
    "summary_funnel_note_end": {"en": "The sources differ, so read it as the shape of the journey, not one cohort moving through it.",
                                "ko": "출처가 서로 달라 한 코호트의 이동이 아니라 여정의 모양으로 읽어야 합니다."},
    "summary_step_impressions": {"en": "Impressions", "ko": "노출"},
    "summary_step_clicks": {"en": "Clicks", "ko": "클릭"},
    "summary_step_visit": {"en": "Visitors", "ko": "방문자"},
    "summary_step_product_view": {"en": "Viewed a product", "ko": "상품 조회"},
    "summary_step_add_to_cart": {"en": "Added to cart", "ko": "장바구니 담기"},
    "summary_step_checkout_start": {"en": "Started checkout", "ko": "결제 시작"},
    "summary_step_purchase": {"en": "Bought", "ko": "구매"},
    "summary_step_orders": {"en": "Orders", "ko": "주문"},
    "summary_step_promoters": {"en": "Promoters (survey)", "ko": "추천 고객(설문)"},
    "summary_caveat_not_available": {"en": "{section} is not available: it needs the {tables} table(s).",
                                     "ko": "{section}: {tables} 테이블이 없어 제공되지 않습니다."},
    "summary_caveat_failed": {"en": "{section} failed and is missing from this report.",
                              "ko": "{section} 섹션이 실패해 이 리포트에서 빠졌습니다."},
    "summary_caveat_repaired": {"en": "{n} rows were repaired or dropped at load (see Data quality).",
                                "ko": "적재 시 {n}행을 보정하거나 제외했습니다(데이터 품질 참조)."},
    "summary_caveat_unmapped": {"en": "{n} event name(s) are not mapped to a canonical type and are not analysed.",
                                "ko": "표준 유형에 매핑되지 않아 분석하지 않은 이벤트 이름이 {n}개 있습니다."},
    "summary_caveat_too_little": {"en": "Too little data to judge the change in: {labels}.",
                                  "ko": "데이터가 부족해 변화를 판단할 수 없는 지표: {labels}."},
    "summary_group_health": {"en": "Health band (share of customers)", "ko": "건강 등급(고객 비율)"},
    "summary_group_lifecycle": {"en": "Lifecycle state (customers)", "ko": "생애주기 상태(고객 수)"},
    "summary_col_group": {"en": "Measure", "ko": "구분"},
    "summary_col_action": {"en": "Action", "ko": "실행 항목"},
    "summary_col_timing": {"en": "When", "ko": "시점"},
    "summary_col_customers": {"en": "Customers", "ko": "대상 고객"},
    "summary_col_revenue": {"en": "Their spend, last 12 months", "ko": "최근 12개월 구매액"},
    "summary_no_segments": {"en": "Health and segments are not available for this report (section 60 did not run).",
                            "ko": "이 리포트에는 건강도와 세그먼트 정보가 없습니다(60 섹션 미실행)."},
    "summary_no_actions": {"en": "No playbook action selects any customer this month.",
                           "ko": "이번 달 실행 항목에 해당하는 고객이 없습니다."},
    "summary_churn_risk": {
        "en": "Of the {scored} customers not churned at the period end, the churn model expects about {n} to go the next {days} days without activity (to churn), with {revenue} of their last year's spend at risk (backtest ROC AUC {auc}, 95% interval {lo}–{hi}).",
        "ko": "기간 말 이탈하지 않은 고객 {scored}명 중 약 {n}명이 향후 {days}일 동안 활동하지 않아 이탈하고, 이들의 지난 1년 구매액 {revenue}이(가) 위험하다고 이탈 예측 모델은 봅니다(백테스트 ROC AUC {auc}, 95% 구간 {lo}–{hi})."},
    "summary_churn_risk_count": {
        "en": "Of the {scored} customers not churned at the period end, the churn model expects about {n} to go the next {days} days without activity (to churn) (backtest ROC AUC {auc}, 95% interval {lo}–{hi}).",
        "ko": "기간 말 이탈하지 않은 고객 {scored}명 중 약 {n}명이 향후 {days}일 동안 활동하지 않아 이탈할 것으로 이탈 예측 모델은 봅니다(백테스트 ROC AUC {auc}, 95% 구간 {lo}–{hi})."},
    "summary_churn_lapsed": {
        "en": "Apart from that forecast, {n} customers already churned in the last {days} days.",
        "ko": "이 예측과 별도로, 최근 {days}일 사이에 이미 이탈한 고객이 {n}명입니다."},
    "summary_churn_not_actionable": {
        "en": "The churn model is not good enough to act on this month (backtest ROC AUC {auc}, 95% interval {lo}–{hi}; see Prediction): no churn forecast is given here.",
        "ko": "이번 달 이탈 예측 모델은 실행에 활용할 만큼 좋지 않습니다(백테스트 ROC AUC {auc}, 95% 구간 {lo}–{hi}; 예측 섹션 참조). 여기서는 이탈 예측을 제시하지 않습니다."},
    "summary_caveat_none": {"en": "No data caveats: every table was supplied and nothing was repaired.",
                            "ko": "데이터 관련 유의 사항이 없습니다. 모든 테이블이 제공되었고 보정한 행이 없습니다."},
})



def sparkline(values: list[float | None], width: int = 110, height: int = 24) -> str:
    """A small inline SVG line of ``values`` (gaps for missing values), the
    last point marked; empty string when fewer than two values."""
    pts = [(i, v) for i, v in enumerate(values) if v is not None and not math.isnan(v)]
    if len(pts) < 2:
        return ""
    lo, hi = min(v for _, v in pts), max(v for _, v in pts)
    span = (hi - lo) or 1.0
    n = max(len(values) - 1, 1)

    def xy(i, v):
        return 2 + (width - 4) * i / n, height - 3 - (height - 6) * (v - lo) / span

    path = " ".join(f"{'M' if k == 0 else 'L'}{x:.1f},{y:.1f}" for k, (x, y) in enumerate(xy(i, v) for i, v in pts))
    lx, ly = xy(*pts[-1])
    return (f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">'
            f'<path d="{path}" fill="none" stroke="#1f4e79" stroke-width="1.5"/>'
            f'<circle cx="{lx:.1f}" cy="{ly:.1f}" r="2.5" fill="#e07b39"/></svg>')


class Scorecard:
    """The scorecard as an HTML table with sparklines (text escaped)."""

    def __init__(self, rows: list[Row], cfg: RunConfig):
        self.rows, self.cfg = rows, cfg

    def _repr_html_(self) -> str:
        cfg, lang, esc = self.cfg, self.cfg.language, html.escape
        head = [i18n.t("summary_col_section", lang), i18n.t("col_kpi", lang), cfg.period.label(lang),
                cfg.period.previous().label(lang), i18n.t("col_change", lang), i18n.t("col_significance", lang),
                i18n.t("summary_col_trend", lang)]
        cls = ["txt", "txt", "num", "num", "num", f"txt {report.blocks.SIG_CLASS}", "txt"]
        ths = "".join(f'<th class="{c}">{esc(h)}</th>' for c, h in zip(cls, head))
        trs = []
        for r in self.rows:
            c = r.change
            f = report.fmt_kpi(r.kind, cfg, along=(c.value, c.prev))
            mark = ""
            if c.significant:
                good = c.good
                tone = "good" if good else ("bad" if good is False else "neutral")
                mark = f' <span class="mark {tone}">{"▲" if c.direction == "up" else "▼"}</span>'
            cells = [esc(r.title.split("·")[-1].strip()), esc(r.label), esc(f(c.value)), esc(f(c.prev)),
                     esc(report.fmt_delta(c, r.kind, cfg)) + mark, report.blocks.significance_html(report.significance_text(c, cfg)),
                     sparkline(r.trend)]
            trs.append("<tr>" + "".join(f'<td class="{k}">{v}</td>' for k, v in zip(cls, cells)) + "</tr>")
        return f'<table class="jk-table scorecard"><thead><tr>{ths}</tr></thead><tbody>{"".join(trs)}</tbody></table>'

    def __repr__(self) -> str:
        return "\n".join(f"{r.label}: {r.change.value} (prev {r.change.prev}, {r.change.verdict})" for r in self.rows)


def what_changed(sections: dict, cfg: RunConfig, limit: int = 6) -> list[str]:
    """Sentences for the significant movements across all sections, largest business impact first
    (:func:`~journeykit.sections.summary.compute.significant_changes`), in the client's language."""
    top = compute.significant_changes(sections, limit)
    if not top:
        return [i18n.t("summary_nothing_changed", cfg.language, prev=cfg.period.previous().label(cfg.language))]
    out = []
    for name, rec, ch in top:
        title = (sections[name].get("title") or name).split("·")[-1].strip()
        out += report.describe_changes([ch], {ch.key: f"[{title}] {rec.get('label') or ch.key}"},
                                       {ch.key: rec.get("kind") or "num"}, cfg)
    return out


def journey_chart(steps: list[tuple[str, float]], cfg: RunConfig):
    """Horizontal bars of :func:`journey` on a log scale, values labelled."""
    lang = cfg.language
    labels = [i18n.t(f"summary_step_{k}", lang) for k, _ in steps]
    vals = [v for _, v in steps]
    fig, ax = plt.subplots(figsize=(7.5, 0.42 * len(steps) + 1.1))
    bars = ax.barh(labels[::-1], vals[::-1], color=plots.PALETTE[0])
    ax.set_xscale("log")
    ax.bar_label(bars, labels=[f"{v:,.0f}" for v in vals[::-1]], padding=3, fontsize=8)
    ax.set_title(i18n.t("summary_funnel_title", lang, period=cfg.period.label(lang)))
    ax.set_xlabel(i18n.t("summary_funnel_axis", lang))
    ax.grid(axis="y", visible=False)
    ax.set_xlim(right=max(vals) * 8)
    fig.tight_layout()
    plt.close(fig)
    return fig


def shifts_table(rows: list[dict], cfg: RunConfig):
    """:func:`health_shifts` as a report table (change in points for shares)."""
    lang = cfg.language
    out = []
    for r in rows:
        f = report.fmt_kpi(r["kind"], cfg, along=(r["value"], r["prev"]))
        ch = compare.value(r["key"], r["value"], r["prev"])
        delta = report.fmt_delta(ch, r["kind"], cfg) if r["kind"] == "pct" else (
            "–" if ch.delta is None else f"{ch.delta:+,.0f}")
        out.append({"group": i18n.t(f"summary_group_{r['group']}", lang), "label": r["label"],
                    "value": f(r["value"]), "prev": f(r["prev"]), "delta": delta})
    df = pd.DataFrame(out, columns=["group", "label", "value", "prev", "delta"])
    cols = [i18n.t("summary_col_group", lang), i18n.t("col_kpi", lang), cfg.period.label(lang),
            cfg.period.previous().label(lang), i18n.t("col_change", lang)]
    df.columns = cols
    return report.table(df, cfg, {cols[2]: "numtext", cols[3]: "numtext", cols[4]: "numtext"})


def actions_table(books: list[dict], cfg: RunConfig):
    """:func:`actions` as a table; customer counts below the k-anonymity
    minimum are shown as "< k"."""
    lang = cfg.language
    k = cfg.definitions.k_anonymity
    rows = [{"action": b.get("label") or b.get("action"), "timing": b.get("timing") or "–",
             "customers": f"{b['customers']:,}" if b["customers"] >= k else f"< {k}",
             "revenue": report.fmt_money(b.get("revenue_12m"), cfg.currency) if b["customers"] >= k else "–"}
            for b in books]
    cols = [i18n.t("summary_col_action", lang), i18n.t("summary_col_timing", lang),
            i18n.t("summary_col_customers", lang), i18n.t("summary_col_revenue", lang)]
    df = pd.DataFrame(rows, columns=["action", "timing", "customers", "revenue"])
    df.columns = cols
    return report.table(df, cfg, {cols[2]: "numtext", cols[3]: "numtext"})


def churn_risk(sections: dict, cfg: RunConfig) -> list[str]:
    """Sentences on the churn model's outlook
    (:func:`~journeykit.sections.summary.compute.churn_outlook`): the
    customers not churned at the period end expected to churn over the
    model's horizon (the client's churn window) and the revenue they carry,
    with the backtest ROC AUC and its interval; apart, the customers who
    already churned in that window. A model that may not be acted on
    (``actionable`` false) gives one sentence saying so, and no forecast."""
    churn = compute.churn_outlook(sections)
    if churn is None:
        return []
    lang = cfg.language

    def num(x):
        return "–" if x is None else f"{x:.2f}"

    auc = dict(auc=num(churn.get("roc_auc")), lo=num(churn.get("roc_auc_ci_low")), hi=num(churn.get("roc_auc_ci_high")))
    if churn.get("actionable") is False:
        return [i18n.t("summary_churn_not_actionable", lang, **auc)]
    days = churn.get("horizon_days")
    values = dict(n=f"{churn['expected_churners']:,.0f}", days=days, **auc,
                  scored="–" if churn.get("scored_customers") is None else f"{churn['scored_customers']:,}")
    out = [i18n.t("summary_churn_risk", lang, **values,
                  revenue=report.fmt_money(churn.get("revenue_at_risk"), cfg.currency))
           if churn.get("revenue_at_risk") is not None else i18n.t("summary_churn_risk_count", lang, **values)]
    if churn.get("already_lapsed"):
        out.append(i18n.t("summary_churn_lapsed", lang, n=f"{churn['already_lapsed']:,}", days=days))
    return out


def caveats(sections: dict, cfg: RunConfig) -> list[str]:
    """The data caveats (:func:`~journeykit.sections.summary.compute.caveat_facts`) as sentences."""
    lang = cfg.language
    out = []
    for c in compute.caveat_facts(sections, cfg):
        if c["kind"] == "not_available":
            out.append(i18n.t("summary_caveat_not_available", lang, section=c["section"],
                              tables=registry.needs_text(c["needs"], lang) or "?"))
        elif c["kind"] == "failed":
            out.append(i18n.t("summary_caveat_failed", lang, section=c["section"]))
        elif c["kind"] in ("repaired", "unmapped"):
            out.append(i18n.t(f"summary_caveat_{c['kind']}", lang, n=f"{c['n']:,}"))
        elif c["kind"] == "too_little":
            out.append(i18n.t("summary_caveat_too_little", lang, labels=", ".join(c["labels"])))
    return out or [i18n.t("summary_caveat_none", lang)]


def since_last_report(sections: dict, cfg: RunConfig, before: dict | None) -> list[str]:
    """Sentences for :func:`~journeykit.sections.summary.compute.since_last_report`:
    what moved differently from last month's report."""
    lang = cfg.language
    prev = cfg.comparison.label(lang)
    if before is None:
        return [i18n.t("summary_since_none", lang, prev=prev)]
    rows = compute.since_last_report(sections, before)
    if not rows:
        return [i18n.t("summary_since_nothing", lang, prev=prev)]
    out = []
    for r in rows:
        f = report.fmt_kpi(r["kind"], cfg, along=(r["value"], r["value_then"]))
        out.append(i18n.t(f"summary_since_{r['what']}", lang, label=r["label"], value=f(r["value"]),
                          value_then=f(r["value_then"]),
                          dir=i18n.t(f"summary_dir_{r['direction']}", lang),
                          dir_then=i18n.t(f"summary_dir_noun_{r['direction_then'] or 'flat'}", lang)))
    return out


def journey_note(steps: list[tuple[str, float]], cfg: RunConfig) -> report.Note | None:
    """What the journey chart's bars are, naming only the sources the chart
    shows (a client without marketing is not told about impressions);
    ``None`` without a chart."""
    if not steps:
        return None
    lang = cfg.language
    keys = {k for k, _ in steps}
    parts = []
    if keys & {"impressions", "clicks"}:
        parts.append("marketing")
    if keys & {"visit", "product_view", "add_to_cart", "checkout_start", "purchase"}:
        parts.append("events")
    if "orders" in keys:
        parts.append("orders")
    if "promoters" in keys:
        parts.append("promoters")
    sep = "; " if lang == "en" else ", "
    text = " ".join([i18n.t("summary_funnel_note_intro", lang),
                     sep.join(i18n.t(f"summary_funnel_part_{p}", lang) for p in parts) + ".",
                     *([i18n.t("summary_funnel_note_end", lang)] if len(parts) > 1 else [])])
    return report.Note(text)


__all__ = ["journey_note", "since_last_report", "sparkline", "Scorecard", "what_changed", "journey_chart", "shifts_table", "actions_table", "churn_risk",
           "caveats"]
