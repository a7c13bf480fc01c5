"""The executive summary: one page that reads every other section's results.

Nothing here recomputes a KPI. The summary reads what the sections recorded
(:func:`journeykit.report.run_results`: their metrics, the period-over-period
tests they showed, and the trends they charted) and arranges it: a KPI
scorecard with sparklines, the journey from impressions to promoters in one
picture, the largest significant movements, and the data caveats.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
import pandas as pd

from journeykit.stats import compare
from journeykit.core import i18n
from journeykit.report import plots
from journeykit import report
from journeykit.core.config import RunConfig

i18n.register({
    "summary_col_section": {"en": "Stage", "ko": "단계"},
    "summary_col_trend": {"en": "Last 12 months", "ko": "최근 12개월"},
    "summary_no_sections": {"en": "No other section has results for this period yet: render the full report first.",
                            "ko": "이 기간의 다른 섹션 결과가 아직 없습니다. 전체 리포트를 먼저 생성하세요."},
    "summary_nothing_changed": {"en": "No headline KPI changed significantly since {prev}.",
                                "ko": "{prev} 대비 통계적으로 유의하게 변한 핵심 지표는 없습니다."},
    "summary_funnel_title": {"en": "The journey in {period}", "ko": "{period}의 고객 여정"},
    "summary_funnel_axis": {"en": "Count (log scale)", "ko": "수 (로그 스케일)"},
    "summary_funnel_note": {
        "en": "Each bar is the stage's own count for the month: impressions and clicks from marketing, then users reaching each funnel step (from events), then promoters among the month's survey answers. The sources differ, so read it as the shape of the journey, not one cohort moving through it.",
        "ko": "막대는 단계별로 그 달에 집계한 수입니다. 노출·클릭은 마케팅 데이터, 이후는 퍼널 단계에 도달한 사용자(이벤트), 마지막은 그 달 설문 응답 중 추천 고객입니다. 출처가 서로 달라 한 코호트의 이동이 아니라 여정의 모양으로 읽어야 합니다."},
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
    "summary_band_healthy": {"en": "Healthy", "ko": "건강"},
    "summary_band_at_risk": {"en": "At risk", "ko": "위험"},
    "summary_band_unhealthy": {"en": "Unhealthy", "ko": "불건강"},
    "summary_state_new": {"en": "New", "ko": "신규"},
    "summary_state_active": {"en": "Active", "ko": "활성"},
    "summary_state_reactivated": {"en": "Reactivated", "ko": "재활성"},
    "summary_state_at_risk": {"en": "At risk", "ko": "이탈 위험"},
    "summary_state_dormant": {"en": "Dormant", "ko": "휴면"},
    "summary_state_churned": {"en": "Churned", "ko": "이탈"},
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
        "en": "The churn model expects about {n} customers to leave in the next {days} days, with {revenue} of their last year's spend at risk (backtest ROC AUC {auc}).",
        "ko": "이탈 예측 모델은 향후 {days}일 동안 약 {n}명의 고객이 이탈하고, 이들의 지난 1년 구매액 {revenue}가 위험하다고 봅니다(백테스트 ROC AUC {auc})."},
    "summary_caveat_none": {"en": "No data caveats: every table was supplied and nothing was repaired.",
                            "ko": "데이터 관련 유의 사항이 없습니다. 모든 테이블이 제공되었고 보정한 행이 없습니다."},
})

HEADLINES: tuple[tuple[str, str], ...] = (
    ("10_awareness", "new_customers"), ("10_awareness", "ctr"), ("10_awareness", "cac"),
    ("20_consideration", "sessions"), ("20_consideration", "add_to_cart_rate"),
    ("30_purchase", "orders"), ("30_purchase", "revenue"), ("30_purchase", "conversion_rate"),
    ("30_purchase", "payment_success_rate"),
    ("40_retention", "mau"), ("40_retention", "month1_retention"), ("40_retention", "churn_rate"),
    ("50_advocacy", "nps"), ("50_advocacy", "referral_rate"),
    ("55_campaigns", "message_open_rate"), ("55_campaigns", "message_conversion_rate"),
    ("80_ltv", "clv_mean"),
)
"""The scorecard's KPIs, in journey order: (section, key). A KPI whose
section is missing, not available or did not record it is left out."""


def _change_from_record(rec: dict) -> compare.Change:
    """Rebuild the :class:`compare.Change` a section recorded (no recomputation)."""
    return compare.Change(rec["key"], rec.get("value"), rec.get("prev"), rec.get("kind") or "value",
                          rec.get("p_value"), rec.get("test"), rec.get("verdict") != "too_little_data",
                          rec.get("higher_is_better", True))


@dataclass
class Row:
    """One scorecard line."""

    section: str
    title: str
    change: compare.Change
    label: str
    kind: str
    trend: list[float | None]


def scorecard(sections: dict, cfg: RunConfig) -> list[Row]:
    """The headline KPIs with value, comparison value, change, test verdict
    and trend, exactly as their sections recorded them (:data:`HEADLINES`)."""
    rows = []
    for section, key in HEADLINES:
        sec = sections.get(section) or {}
        if sec.get("status") != "ok":
            continue
        rec = next((c for c in sec.get("changes") or [] if c.get("key") == key), None)
        if rec is None:
            continue
        trend = (sec.get("trend") or {}).get(key) or []
        rows.append(Row(section, sec.get("title") or section, _change_from_record(rec), rec.get("label") or key,
                        rec.get("kind") or "num", [None if v is None else float(v) for v in trend]))
    return rows


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
        cls = ["txt", "txt", "num", "num", "num", "txt", "txt"]
        ths = "".join(f'<th class="{c}">{esc(h)}</th>' for c, h in zip(cls, head))
        trs = []
        for r in self.rows:
            f = report.fmt_kpi(r.kind, cfg)
            c = r.change
            mark = ""
            if c.significant:
                good = c.good
                tone = "good" if good else ("bad" if good is False else "neutral")
                mark = f' <span class="mark {tone}">{"▲" if c.direction == "up" else "▼"}</span>'
            cells = [esc(r.title.split("·")[-1].strip()), esc(r.label), esc(f(c.value)), esc(f(c.prev)),
                     esc(report.fmt_delta(c, r.kind, cfg)) + mark, esc(report.significance_text(c, cfg)),
                     sparkline(r.trend)]
            trs.append("<tr>" + "".join(f'<td class="{k}">{v}</td>' for k, v in zip(cls, cells)) + "</tr>")
        return f'<table class="jk-table scorecard"><thead><tr>{ths}</tr></thead><tbody>{"".join(trs)}</tbody></table>'

    def __repr__(self) -> str:
        return "\n".join(f"{r.label}: {r.change.value} (prev {r.change.prev}, {r.change.verdict})" for r in self.rows)


def what_changed(sections: dict, cfg: RunConfig, limit: int = 6) -> list[str]:
    """Sentences for the largest significant movements across all sections
    (smallest p-value first, at most ``limit``), in the client's language."""
    found = []
    for name, sec in sections.items():
        if sec.get("status") != "ok":
            continue
        for rec in sec.get("changes") or []:
            ch = _change_from_record(rec)
            if ch.significant:
                found.append((ch.p_value, name, rec, ch))
    found.sort(key=lambda t: (t[0], t[1], t[2]["key"]))
    seen, top = set(), []
    for item in found:  # one KPI reported by two sections (visits, sessions) is said once
        sig = (item[3].value, item[3].prev)
        if sig not in seen:
            seen.add(sig)
            top.append(item)
    top = top[:limit]
    if not top:
        return [i18n.t("summary_nothing_changed", cfg.language, prev=cfg.period.previous().label(cfg.language))]
    out = []
    for _, name, rec, ch in top:
        title = (sections[name].get("title") or name).split("·")[-1].strip()
        out += report.describe_changes([ch], {ch.key: f"[{title}] {rec.get('label') or ch.key}"},
                                       {ch.key: rec.get("kind") or "num"}, cfg)
    return out


def journey(sections: dict) -> list[tuple[str, float]]:
    """The month's journey as (step, count) from the stages' metrics:
    impressions and clicks, users reaching each funnel step (visit →
    purchase; orders when there is no funnel), promoters among survey
    answers. Steps whose section or metric is missing are left out."""
    def m(section):
        sec = sections.get(section) or {}
        return (sec.get("metrics") or {}) if sec.get("status") == "ok" else {}

    steps: list[tuple[str, float | None]] = []
    aw = m("10_awareness")
    steps += [("impressions", aw.get("impressions")), ("clicks", aw.get("clicks"))]
    funnel = {s.get("step"): s.get("users") for s in m("20_consideration").get("funnel") or []}
    for step in ("visit", "product_view", "add_to_cart", "checkout_start", "purchase"):
        steps.append((step, funnel.get(step)))
    if not funnel.get("purchase"):
        steps.append(("orders", m("30_purchase").get("orders")))
    ad = m("50_advocacy")
    if ad.get("responses") is not None and ad.get("promoter_share") is not None:
        steps.append(("promoters", ad["responses"] * ad["promoter_share"]))
    return [(k, float(v)) for k, v in steps if v is not None and v > 0]


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


BANDS = ("healthy", "at_risk", "unhealthy")
STATES = ("new", "active", "reactivated", "at_risk", "dormant", "churned")


def health_shifts(sections: dict, cfg: RunConfig) -> list[dict]:
    """Health bands (shares) and lifecycle states (counts) this period and
    the comparison period, as ``60_segmentation`` recorded them: rows of
    ``{group, key, label, value, prev, kind}``. Empty without that section."""
    sec = sections.get("60_segmentation") or {}
    m = sec.get("metrics") or {}
    if sec.get("status") != "ok":
        return []
    lang = cfg.language
    rows = []
    now, before = m.get("health_band_shares") or {}, m.get("health_band_shares_prev") or {}
    for b in BANDS:
        if b in now:
            rows.append({"group": "health", "key": b, "label": i18n.t(f"summary_band_{b}", lang),
                         "value": now.get(b), "prev": before.get(b), "kind": "pct"})
    now, before = m.get("lifecycle_counts") or {}, m.get("lifecycle_counts_prev") or {}
    for st in STATES:
        if st in now:
            rows.append({"group": "lifecycle", "key": st, "label": i18n.t(f"summary_state_{st}", lang),
                         "value": now.get(st), "prev": before.get(st), "kind": "int"})
    return rows


def shifts_table(rows: list[dict], cfg: RunConfig):
    """:func:`health_shifts` as a report table (change in points for shares)."""
    lang = cfg.language
    out = []
    for r in rows:
        f = report.fmt_kpi(r["kind"], cfg)
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


def actions(sections: dict, cfg: RunConfig, limit: int = 5) -> list[dict]:
    """The playbook actions ``60_segmentation`` recorded, largest revenue at
    stake first (then most customers), at most ``limit``; actions touching
    nobody are left out."""
    sec = sections.get("60_segmentation") or {}
    if sec.get("status") != "ok":
        return []
    books = [b for b in (sec.get("metrics") or {}).get("playbooks") or [] if b.get("customers")]
    books.sort(key=lambda b: (-(b.get("revenue_12m") or 0), -b["customers"], b.get("action", "")))
    return books[:limit]


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
    """A sentence on the churn model's outlook when ``70_prediction`` scored
    customers: expected churners and revenue at risk over its horizon, and
    how well it ranked on its backtest."""
    sec = sections.get("70_prediction") or {}
    churn = (sec.get("metrics") or {}).get("churn") or {}
    if sec.get("status") != "ok" or churn.get("status") != "ok" or churn.get("expected_churners") is None:
        return []
    return [i18n.t("summary_churn_risk", cfg.language, n=f"{churn['expected_churners']:,.0f}",
                   days=churn.get("horizon_days"),
                   revenue=report.fmt_money(churn.get("revenue_at_risk"), cfg.currency),
                   auc=f"{churn.get('roc_auc', 0):.2f}")]


def caveats(sections: dict, cfg: RunConfig) -> list[str]:
    """What the reader must know about the data: sections not available
    (and the tables they need), failed sections, rows repaired at load,
    unmapped event names, KPIs with too little data to judge."""
    lang = cfg.language
    out = []
    for name, sec in sections.items():
        title = (sec.get("title") or name)
        if sec.get("status") == "not_available":
            tables = ", ".join(i18n.table_name(t, lang) for t in sec.get("needs") or []) or "?"
            out.append(i18n.t("summary_caveat_not_available", lang, section=title, tables=tables))
        elif sec.get("status") == "failed":
            out.append(i18n.t("summary_caveat_failed", lang, section=title))
    dq = (sections.get("00_data_quality") or {}).get("metrics") or {}
    if dq.get("rows_repaired"):
        out.append(i18n.t("summary_caveat_repaired", lang, n=f"{int(dq['rows_repaired']):,}"))
    if dq.get("unmapped_event_types"):
        out.append(i18n.t("summary_caveat_unmapped", lang, n=int(dq["unmapped_event_types"])))
    little = [r.label for r in scorecard(sections, cfg) if r.change.verdict == "too_little_data"]
    if little:
        out.append(i18n.t("summary_caveat_too_little", lang, labels=", ".join(little)))
    return out or [i18n.t("summary_caveat_none", lang)]


def metrics(sections: dict, cfg: RunConfig) -> dict:
    """What the summary records: the sections it read and how many headline
    KPIs moved significantly (``significant_changes``), up and down."""
    rows = scorecard(sections, cfg)
    sig = [r for r in rows if r.change.significant]
    return {"sections_read": sorted(k for k, v in sections.items() if v.get("status") == "ok"),
            "headline_kpis": len(rows), "significant_changes": len(sig),
            "significant_up": sum(r.change.direction == "up" for r in sig),
            "significant_down": sum(r.change.direction == "down" for r in sig)}


__all__ = ["HEADLINES", "Row", "scorecard", "Scorecard", "sparkline", "what_changed", "journey", "journey_chart",
           "health_shifts", "shifts_table", "actions", "actions_table", "churn_risk", "caveats", "metrics"]
