"""What section 60 shows about health and playbooks: the score's
components, the bands, their trend and contributions, health by RFM
segment, the playbooks and their exports, and "what to look at next" —
tables, charts and generated sentences built from :mod:`.health` and
:mod:`.playbooks`. Band names come from :func:`journeykit.facts.label`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from journeykit import facts, report
from journeykit.core import i18n
from journeykit.core.settings import DEFAULT_PLAYBOOKS, PlaybookRule
from journeykit.report import plots
from journeykit.sections.segmentation import health as H
from journeykit.sections.segmentation import playbooks as P
from journeykit.sections.segmentation import segments as S
from journeykit.sections.segmentation.view import suppress

i18n.register({
    "health_comp_usage_trend": {"en": "Usage trend", "ko": "이용 추세"},
    "health_comp_recency": {"en": "Recency", "ko": "최근성"},
    "health_comp_engagement": {"en": "Engagement", "ko": "참여도"},
    "health_comp_tickets": {"en": "Support tickets", "ko": "고객 문의"},
    "health_comp_nps_csat": {"en": "NPS / CSAT", "ko": "NPS / CSAT"},
    "health_comp_payment_failures": {"en": "Payment failures", "ko": "결제 실패"},
    "health_comp_subscription": {"en": "Subscription status", "ko": "구독 상태"},
    "health_col_component": {"en": "Component", "ko": "구성 요소"},
    "health_col_weight": {"en": "Weight (setting)", "ko": "가중치 (설정)"},
    "health_col_effective": {"en": "Weight used", "ko": "적용 가중치"},
    "health_col_coverage": {"en": "Customers with a value", "ko": "값이 있는 고객 비율"},
    "health_col_status": {"en": "Status", "ko": "상태"},
    "health_col_band": {"en": "Band", "ko": "등급"},
    "health_col_customers": {"en": "Customers", "ko": "고객 수"},
    "health_col_share": {"en": "Share", "ko": "비중"},
    "health_col_mean": {"en": "Mean score", "ko": "평균 점수"},
    "health_col_segment": {"en": "RFM segment", "ko": "RFM 세그먼트"},
    "health_col_action": {"en": "Action", "ko": "실행 방안"},
    "health_col_target": {"en": "Who", "ko": "대상"},
    "health_col_timing": {"en": "When", "ko": "시점"},
    "health_col_export": {"en": "Target list", "ko": "대상 목록"},
    "health_used": {"en": "used", "ko": "사용"},
    "health_dropped": {"en": "dropped: needs {table}", "ko": "제외: {table} 필요"},
    "health_dropped_column": {"en": "dropped: needs {column} in {table}", "ko": "제외: {table}의 {column} 필요"},
    "health_zero_weight": {"en": "not used: weight 0", "ko": "미사용: 가중치 0"},
    "health_dropped_note": {
        "en": "Health components dropped for this client: {items}. The remaining weights were rescaled to sum to 100%.",
        "ko": "이 고객사에서 제외된 건강 점수 구성 요소: {items}. 나머지 가중치를 합계 100%가 되도록 다시 조정했습니다."},
    "health_chart_dist": {"en": "Health score distribution, {period}", "ko": "건강 점수 분포, {period}"},
    "health_chart_trend": {"en": "Health bands at each month end", "ko": "월말 기준 건강 등급 비중"},
    "health_chart_contrib": {"en": "What makes up the score, by band (mean points)",
                             "ko": "등급별 점수 구성 (평균 점수)"},
    "health_axis_score": {"en": "Health score (0–100)", "ko": "건강 점수 (0–100)"},
    "health_axis_customers": {"en": "Customers", "ko": "고객 수"},
    "health_axis_share": {"en": "Share of scored customers", "ko": "점수 산정 고객 중 비중"},
    "health_axis_points": {"en": "Points", "ko": "점수"},
    "health_none": {"en": "No customer to score at the end of {period}.",
                    "ko": "{period} 말 기준 점수를 산정할 고객이 없습니다."},
    "health_sentence": {
        "en": "{n} customers who have not churned were scored: {healthy} Healthy, {at_risk} At risk and {unhealthy} Unhealthy (mean score {mean}).",
        "ko": "이탈하지 않은 고객 {n}명의 점수를 산정했습니다: 건강 {healthy}, 주의 {at_risk}, 위험 {unhealthy} (평균 {mean}점)."},
    "health_weakest": {
        "en": "Unhealthy customers fall furthest behind Healthy ones on {component} ({gap} points of the score).",
        "ko": "위험 등급 고객은 건강 등급 고객에 비해 {component}에서 가장 크게 뒤처집니다 (점수 {gap}점 차이)."},
    # playbooks
    "health_action_welcome_guide": {"en": "Welcome message and getting-started guide", "ko": "환영 메시지와 이용 가이드 발송"},
    "health_action_activation": {"en": "Activation: first-order nudge", "ko": "첫 구매 유도 (활성화)"},
    "health_action_recommendations": {"en": "Personalised recommendations", "ko": "개인화 추천"},
    "health_action_renewal_contact": {"en": "Renewal contact", "ko": "구독 갱신 안내"},
    "health_action_rescue_unhealthy": {"en": "Customer-success outreach", "ko": "고객 성공 담당자 연락"},
    "health_action_winback_at_risk": {"en": "Win-back offer (at risk)", "ko": "재방문 유도 혜택 (이탈 위험)"},
    "health_action_winback_churned": {"en": "Win-back offer (churned)", "ko": "복귀 유도 혜택 (이탈 고객)"},
    "health_timing_welcome_guide": {"en": "within 1 day of signup", "ko": "가입 후 1일 이내"},
    "health_timing_activation": {"en": "within 30 days of signup", "ko": "가입 후 30일 이내"},
    "health_timing_recommendations": {"en": "monthly, after each order", "ko": "매월, 주문 후"},
    "health_timing_renewal_contact": {"en": "90 days before the subscription ends or renews",
                                      "ko": "구독 종료·갱신 90일 전"},
    "health_timing_rescue_unhealthy": {"en": "within 7 days", "ko": "7일 이내"},
    "health_timing_winback_at_risk": {"en": "within 7 days, before the churn window closes",
                                      "ko": "7일 이내 (이탈 기준일 전)"},
    "health_timing_winback_churned": {"en": "once, then a reminder after 30 days", "ko": "1회 발송 후 30일 뒤 재안내"},
    "health_timing_days": {"en": "within {days} days", "ko": "{days}일 이내"},
    "health_target_rfm": {"en": "RFM: {v}", "ko": "RFM: {v}"},
    "health_target_bands": {"en": "health: {v}", "ko": "건강 등급: {v}"},
    "health_target_states": {"en": "state: {v}", "ko": "상태: {v}"},
    "health_target_buyer": {"en": "has bought", "ko": "구매 이력 있음"},
    "health_target_no_buyer": {"en": "no paid order yet", "ko": "구매 이력 없음"},
    "health_target_signup": {"en": "signed up in the last {d} days", "ko": "최근 {d}일 내 가입"},
    "health_target_renewal": {"en": "subscription ends or renews within {d} days", "ko": "{d}일 내 구독 종료·갱신"},
    "health_target_inactive": {"en": "last seen within {d} days", "ko": "최근 {d}일 내 활동"},
    "health_target_all": {"en": "every customer", "ko": "전체 고객"},
    "health_playbook_note": {
        "en": "A customer can be in several playbooks. Each target list is exported as exports/playbook_<action>.csv with pseudonymized customer ids (no personal data); counts under {k} are not shown here.",
        "ko": "한 고객이 여러 실행 방안에 포함될 수 있습니다. 각 대상 목록은 가명 처리된 고객 ID로 exports/playbook_<action>.csv에 저장되며 개인정보는 포함되지 않습니다. {k}명 미만은 여기에 표시하지 않습니다."},
    "health_exported": {"en": "{n} target lists written to exports/ (pseudonymized ids).",
                        "ko": "대상 목록 {n}개를 exports/에 저장했습니다 (가명 ID)."},
    "health_not_exported": {"en": "Target lists are written to exports/ when the report is rendered.",
                            "ko": "대상 목록은 리포트 생성 시 exports/에 저장됩니다."},
    # what to look at next
    "health_next_unhealthy": {
        "en": "{n} customers ({share}) are Unhealthy: start the customer-success outreach list (exports/playbook_rescue_unhealthy.csv) with those of the highest value.",
        "ko": "{n}명({share})이 위험 등급입니다. 고객 성공 담당자 연락 목록(exports/playbook_rescue_unhealthy.csv)을 가치가 높은 고객부터 시작하세요."},
    "health_next_unhealthy_up": {
        "en": "The Unhealthy share rose significantly ({delta}): check which component moved in the contributions table.",
        "ko": "위험 등급 비중이 유의하게 상승했습니다 ({delta}). 구성 요소별 점수 표에서 어떤 요소가 변했는지 확인하세요."},
    "health_next_cant_lose": {
        "en": "At risk and Can't lose buyers hold {share} of revenue: they are the first win-back target.",
        "ko": "이탈 위험·놓치면 안 될 고객이 매출의 {share}을(를) 차지합니다. 최우선 재방문 유도 대상입니다."},
    "health_next_activation": {
        "en": "{share} of new customers have not paid for an order yet: the activation list is exports/playbook_activation.csv.",
        "ko": "신규 고객의 {share}이(가) 아직 구매하지 않았습니다. 활성화 대상 목록은 exports/playbook_activation.csv입니다."},
    "health_next_concentration": {
        "en": "The top 10% of buyers bring {share} of revenue: protect them with the recommendations playbook and watch their health each month.",
        "ko": "상위 10% 구매 고객이 매출의 {share}을(를) 차지합니다. 개인화 추천으로 관리하고 매월 건강 점수를 확인하세요."},
    "health_next_unvalidated": {
        "en": "{n} customers ({share}) are Unhealthy, but the score did not tell who churned after {cutoff} (see its check above): review the health weights before acting on the bands.",
        "ko": "{n}명({share})이 위험 등급이지만, 이 점수는 {cutoff} 이후 누가 이탈할지 가려내지 못했습니다(위 검증 참조). 등급으로 실행하기 전에 건강 점수 가중치를 검토하세요."},
    "health_col_churned": {"en": "Churned within {days} days", "ko": "{days}일 내 이탈"},
    "health_col_churn_rate": {"en": "Churn rate", "ko": "이탈률"},
    "health_col_churn_ci": {"en": "95% interval", "ko": "95% 구간"},
    "health_validation_ok": {
        "en": "The score tells who leaves: of the customers scored on {cutoff}, {healthy} of the Healthy and {unhealthy} of the Unhealthy had churned {days} days later (no activity in those days); the rates rise band by band and the intervals of the two ends do not overlap.",
        "ko": "이 점수는 누가 떠날지 가려냅니다: {cutoff} 기준으로 점수를 매긴 고객 중 건강 등급은 {healthy}, 위험 등급은 {unhealthy}이(가) {days}일 뒤 이탈했습니다(그 기간 활동 없음). 이탈률이 등급마다 높아지고 양 끝 등급의 구간이 겹치지 않습니다."},
    "health_validation_weak": {
        "en": "The score does not clearly tell who leaves: of the customers scored on {cutoff}, {healthy} of the Healthy and {unhealthy} of the Unhealthy had churned {days} days later; the rates do not rise band by band, or their intervals overlap. Review the weights (segmentation.health) before acting on the bands.",
        "ko": "이 점수는 누가 떠날지 뚜렷이 가려내지 못합니다: {cutoff} 기준으로 점수를 매긴 고객 중 건강 등급은 {healthy}, 위험 등급은 {unhealthy}이(가) {days}일 뒤 이탈했습니다. 이탈률이 등급마다 높아지지 않거나 구간이 겹칩니다. 등급으로 실행하기 전에 가중치(segmentation.health)를 검토하세요."},
    "health_validation_none": {
        "en": "The score cannot be checked against later churn yet: nobody could be scored {days} days before the period end.",
        "ko": "아직 이후 이탈과 비교해 점수를 검증할 수 없습니다: 기간 말 {days}일 전 시점에 점수를 매길 고객이 없습니다."},
    "health_next_nothing": {
        "en": "No segment or band stands out this month: run the playbooks as scheduled.",
        "ko": "이번 달에 두드러진 세그먼트나 등급은 없습니다. 계획대로 실행 방안을 진행하세요."},
})

_BAND_COLOURS = {"healthy": plots.PALETTE[2], "at_risk": plots.PALETTE[6], "unhealthy": plots.PALETTE[3]}


def _band(b: str, cfg) -> str:
    return facts.label("band", b, cfg)


def _scored(h: pd.DataFrame) -> pd.DataFrame:
    return h.dropna(subset=["score"])


# --------------------------------------------------------------------------
# Components and bands
# --------------------------------------------------------------------------

def _status(why: str | None, weight: float, lang: str) -> str:
    if why is None:
        return i18n.t("health_used", lang) if weight > 0 else i18n.t("health_zero_weight", lang)
    kind, _, what = why.partition(":")
    if kind == "table":
        return i18n.t("health_dropped", lang, table=i18n.table_name(what, lang))
    table, _, column = what.partition(".")
    return i18n.t("health_dropped_column", lang, table=i18n.table_name(table, lang), column=column)


def dropped_note(ds, cfg):
    """A note naming the components dropped for this client (their data is
    missing), or ``None`` when none is."""
    lang = cfg.language
    dropped = [c for c, why in H.available_components(ds).items() if why is not None]
    if not dropped:
        return None
    items = ", ".join(i18n.t(f"health_comp_{c}", lang) for c in dropped)
    return report.Note(i18n.t("health_dropped_note", lang, items=items), "warn")


def components_table(ds, cfg):
    """The components (table): weight as set and as used, the share of
    scored customers with a value, and the status (used, or which table or
    column a dropped component needs)."""
    lang = cfg.language
    w = cfg.segmentation.health.weights.model_dump()
    avail = H.available_components(ds)
    used = H.used_components(ds, cfg)
    h = _scored(H.health(ds, cfg))
    tot = sum(w[c] for c in used)
    rows = [{"component": i18n.t(f"health_comp_{c}", lang), "weight": w[c],
             "effective": w[c] / tot if c in used and tot else np.nan,
             "coverage": h[c].notna().mean() if c in used and len(h) else np.nan,
             "status": _status(avail[c], w[c], lang)} for c in H.COMPONENTS]
    names = {k: i18n.t(f"health_col_{k}", lang) for k in ("component", "weight", "effective", "coverage", "status")}
    df = pd.DataFrame(rows).rename(columns=names)
    return report.table(df, cfg, {names["weight"]: "num2", names["effective"]: "pct", names["coverage"]: "pct"})


def insights(ds, cfg) -> list[str]:
    """Sentences on the bands (customers scored, band shares, mean score)
    and the component that separates Unhealthy from Healthy customers most;
    the one sentence that nobody could be scored otherwise."""
    lang = cfg.language
    h = _scored(H.health(ds, cfg))
    if h.empty:
        return [i18n.t("health_none", lang, period=cfg.period.label(lang))]
    sh = H.band_shares(ds, cfg)
    out = [i18n.t("health_sentence", lang, n=report.fmt_int(len(h)), mean=report.fmt_num(h["score"].mean()),
                  **{b: report.fmt_pct(sh[b]) for b in facts.HEALTH_BANDS})]
    c = H.contributions(h, H.used_components(ds, cfg))
    if len(c.columns) and c.loc[["healthy", "unhealthy"]].notna().all(axis=None):
        gap = (c.loc["healthy"] - c.loc["unhealthy"]).sort_values(ascending=False)
        out.append(i18n.t("health_weakest", lang, component=i18n.t(f"health_comp_{gap.index[0]}", lang),
                          gap=report.fmt_num(gap.iloc[0])))
    return out


def validation_table(ds, cfg):
    """The health score's check against later churn
    (:func:`journeykit.sections.segmentation.health.validation`): per band,
    the customers scored at the cutoff, those churned ``D`` days later, the
    churn rate and its 95% interval; counts under ``k_anonymity``
    suppressed. ``None`` when the check cannot be made (said by
    :func:`validation_sentence`)."""
    lang = cfg.language
    v = H.validation(ds, cfg)
    if v is None:
        return None
    k = int(cfg.definitions.k_anonymity)
    rows = []
    for b in facts.HEALTH_BANDS:
        x = v["bands"][b]
        shown = x["customers"] >= k
        rows.append({"band": _band(b, cfg), "n": suppress(x["customers"], cfg),
                     "churned": f"{x['churned']:,}" if shown else "–",
                     "rate": x["rate"] if shown else np.nan,
                     "ci": f"{report.fmt_pct(x['ci_low'])} – {report.fmt_pct(x['ci_high'])}" if shown else "–"})
    cols = {"band": i18n.t("health_col_band", lang),
            "n": f"{i18n.t('health_col_customers', lang)} ({report.fmt_date(v['cutoff'])})",
            "churned": i18n.t("health_col_churned", lang, days=v["days"]),
            "rate": i18n.t("health_col_churn_rate", lang), "ci": i18n.t("health_col_churn_ci", lang)}
    df = pd.DataFrame(rows).rename(columns=cols)
    return report.table(df, cfg, {cols["n"]: "numtext", cols["churned"]: "numtext", cols["rate"]: "pct",
                                  cols["ci"]: "numtext"})


def validation_sentence(ds, cfg) -> list[str]:
    """One sentence on the health score's check against later churn: it
    separates who leaves, it does not (review the weights), or it cannot
    be checked yet."""
    lang = cfg.language
    v = H.validation(ds, cfg)
    d = int(cfg.definitions.churn_inactivity_days)
    if v is None or v["separates"] is None:
        return [i18n.t("health_validation_none", lang, days=d)]
    b = v["bands"]

    def rate(x):
        return report.fmt_pct(x["rate"]) if x["rate"] is not None else "–"

    return [i18n.t("health_validation_ok" if v["separates"] else "health_validation_weak", lang,
                   cutoff=report.fmt_date(v["cutoff"]), days=v["days"], healthy=rate(b["healthy"]),
                   unhealthy=rate(b["unhealthy"]))]


def bands_table(ds, cfg):
    """Customers, share and mean score per band at this period end, and the
    share at the comparison period end; counts under ``k_anonymity``
    suppressed. ``None`` when nobody was scored at either end."""
    lang = cfg.language
    h, h0 = _scored(H.health(ds, cfg)), _scored(H.health(ds, cfg, cfg.period.previous().end))
    if h.empty and h0.empty:
        return None
    per, prev = cfg.period.label(lang), cfg.period.previous().label(lang)
    k = int(cfg.definitions.k_anonymity)
    rows = []
    for b in facts.HEALTH_BANDS:
        n, n0 = int((h["band"] == b).sum()), int((h0["band"] == b).sum())
        rows.append({"band": _band(b, cfg), "n": suppress(n, cfg), "share": n / len(h) if len(h) else np.nan,
                     "mean": h.loc[h["band"] == b, "score"].mean() if n >= k else np.nan,
                     "share0": n0 / len(h0) if len(h0) else np.nan})
    cols = {"band": i18n.t("health_col_band", lang), "n": i18n.t("health_col_customers", lang),
            "share": f"{i18n.t('health_col_share', lang)} ({per})", "mean": i18n.t("health_col_mean", lang),
            "share0": f"{i18n.t('health_col_share', lang)} ({prev})"}
    df = pd.DataFrame(rows).rename(columns=cols)
    return report.table(df, cfg, {cols["n"]: "numtext", cols["share"]: "pct", cols["mean"]: "num",
                                  cols["share0"]: "pct"})


def distribution_chart(ds, cfg):
    """Histogram of the health score, stacked by band, thresholds marked;
    ``None`` when nobody was scored (:func:`insights` says so)."""
    lang = cfg.language
    hs = cfg.segmentation.health
    h = _scored(H.health(ds, cfg))
    if h.empty:
        return None
    fig, ax = plt.subplots(figsize=(8, 3.4))
    bands = facts.HEALTH_BANDS
    ax.hist([h.loc[h["band"] == b, "score"] for b in bands], bins=np.arange(0, 102.5, 2.5), stacked=True,
            color=[_BAND_COLOURS[b] for b in bands], label=[_band(b, cfg) for b in bands])
    for x in (hs.unhealthy_below, hs.healthy_min):
        ax.axvline(x, color="#444444", linestyle="--", linewidth=0.8)
    ax.set_xlim(0, 100)
    ax.set_xlabel(i18n.t("health_axis_score", lang))
    ax.set_ylabel(i18n.t("health_axis_customers", lang))
    ax.set_title(i18n.t("health_chart_dist", lang, period=cfg.period.label(lang)))
    ax.legend(loc="upper left", fontsize=9)
    fig.tight_layout()
    plt.close(fig)
    return fig


def trend_chart(ds, cfg):
    """Stacked bars of the band shares at each recent month end, from the
    first month with data; ``None`` when nobody was scored in any of them."""
    lang = cfg.language
    df = H.band_trend(ds, cfg).dropna(how="all", subset=list(facts.HEALTH_BANDS))
    if df.empty:
        return None
    fig, ax = plt.subplots(figsize=(8, 3.4))
    x = [f"{m:%y-%m}" for m in df["month"]]
    bottom = np.zeros(len(df))
    for b in facts.HEALTH_BANDS:
        v = df[b].fillna(0).to_numpy()
        bars = ax.bar(x, v, bottom=bottom, color=_BAND_COLOURS[b], label=_band(b, cfg))
        ax.bar_label(bars, labels=[f"{p * 100:.0f}%" if p >= 0.06 else "" for p in v], label_type="center",
                     fontsize=8, color="white")
        bottom += v
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v * 100:.0f}%"))
    ax.set_ylim(0, 1)
    ax.set_ylabel(i18n.t("health_axis_share", lang))
    ax.set_title(i18n.t("health_chart_trend", lang))
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9)
    ax.grid(axis="x", visible=False)
    fig.tight_layout()
    plt.close(fig)
    return fig


def contributions_chart(ds, cfg):
    """Horizontal stacked bars: each band's mean score split into the
    points each component contributes; ``None`` when nobody was scored."""
    lang = cfg.language
    used = H.used_components(ds, cfg)
    c = H.contributions(_scored(H.health(ds, cfg)), used).dropna(how="all")
    if c.empty:
        return None
    fig, ax = plt.subplots(figsize=(8, 2.6))
    names = [_band(b, cfg) for b in c.index]
    left = np.zeros(len(c))
    for i, comp in enumerate(used):
        v = c[comp].fillna(0).to_numpy()
        bars = ax.barh(names, v, left=left, color=plots.PALETTE[i % len(plots.PALETTE)],
                       label=i18n.t(f"health_comp_{comp}", lang))
        ax.bar_label(bars, labels=[f"{p:.0f}" if p >= 4 else "" for p in v], label_type="center", fontsize=8,
                     color="white")
        left += v
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel(i18n.t("health_axis_points", lang))
    ax.set_title(i18n.t("health_chart_contrib", lang))
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    ax.grid(axis="y", visible=False)
    fig.tight_layout()
    plt.close(fig)
    return fig


def by_segment_table(ds, cfg):
    """Band shares per RFM segment (table); segments under
    ``k_anonymity`` scored customers are not shown. ``None`` without RFM
    segments (the RFM heading says why) or without a segment to show."""
    lang = cfg.language
    df = H.by_segment(ds, cfg)
    if df is None:
        return None
    df = df[df["customers"] >= int(cfg.definitions.k_anonymity)].copy()
    if df.empty:
        return None
    df["segment"] = [facts.label("rfm", s, cfg) for s in df["segment"]]
    cols = {"segment": i18n.t("health_col_segment", lang), "customers": i18n.t("health_col_customers", lang),
            **{b: _band(b, cfg) for b in facts.HEALTH_BANDS}, "mean_score": i18n.t("health_col_mean", lang)}
    out = df[list(cols)].rename(columns=cols)
    return report.table(out, cfg, {cols["customers"]: "int", **{cols[b]: "pct" for b in facts.HEALTH_BANDS},
                                   cols["mean_score"]: "num"})


# --------------------------------------------------------------------------
# Playbooks
# --------------------------------------------------------------------------

def action_label(rule: PlaybookRule, cfg) -> str:
    """A playbook's name: the rule's own ``label``, else the default
    action's wording, else its key with spaces."""
    if rule.label:
        return rule.label
    k = f"health_action_{rule.action}"
    return i18n.t(k, cfg.language) if k in i18n.TEXT else rule.action.replace("_", " ")


def timing_label(rule: PlaybookRule, cfg) -> str:
    """When a playbook acts: the rule's own ``timing``, the default
    wording of an unchanged default playbook, "within N days" from
    ``timing_days``, or ``–``."""
    if rule.timing:
        return rule.timing
    k = f"health_timing_{rule.action}"
    if k in i18n.TEXT and rule in DEFAULT_PLAYBOOKS:
        return i18n.t(k, cfg.language)
    if rule.timing_days is not None:
        return i18n.t("health_timing_days", cfg.language, days=rule.timing_days)
    return "–"


def target_label(rule: PlaybookRule, cfg) -> str:
    """Who a playbook targets, in words (its selectors joined by ``;``)."""
    lang = cfg.language
    parts = []
    if rule.states:
        states = ", ".join(facts.label("state", s, cfg) for s in rule.states)
        parts.append(i18n.t("health_target_states", lang, v=states))
    if rule.rfm:
        parts.append(i18n.t("health_target_rfm", lang, v=", ".join(facts.label("rfm", s, cfg) for s in rule.rfm)))
    if rule.bands:
        parts.append(i18n.t("health_target_bands", lang, v=", ".join(_band(b, cfg) for b in rule.bands)))
    if rule.buyer is not None:
        parts.append(i18n.t("health_target_buyer" if rule.buyer else "health_target_no_buyer", lang))
    if rule.signup_within_days:
        parts.append(i18n.t("health_target_signup", lang, d=rule.signup_within_days))
    if rule.renewal_within_days:
        parts.append(i18n.t("health_target_renewal", lang, d=rule.renewal_within_days))
    if rule.inactive_max_days:
        parts.append(i18n.t("health_target_inactive", lang, d=rule.inactive_max_days))
    return "; ".join(parts) or i18n.t("health_target_all", lang)


def playbook_summary(ds, cfg) -> list[dict]:
    """Per playbook, for ``metrics.json`` (the summary reads it): ``action``,
    ``label``, ``timing``, ``customers`` it selects at the period end and
    ``revenue_12m`` (their paid spend over the RFM window; ``None`` without
    order amounts). Counts below ``k_anonymity`` are kept here (the summary
    suppresses them for display)."""
    counts = P.playbook_counts(ds, cfg).set_index("action")
    return [{"action": r.action, "label": action_label(r, cfg), "timing": timing_label(r, cfg),
             "customers": int(counts.loc[r.action, "customers"]),
             "revenue_12m": None if pd.isna(counts.loc[r.action, "revenue_12m"])
             else float(counts.loc[r.action, "revenue_12m"])}
            for r in cfg.segmentation.playbooks]


def playbooks_table(ds, cfg):
    """The playbooks (table): action, who, when, customers (suppressed
    under ``k_anonymity``) and the export file."""
    lang = cfg.language
    counts = P.playbook_counts(ds, cfg).set_index("action")["customers"]
    rules = list(cfg.segmentation.playbooks)
    df = pd.DataFrame({i18n.t("health_col_action", lang): [action_label(r, cfg) for r in rules],
                       i18n.t("health_col_target", lang): [target_label(r, cfg) for r in rules],
                       i18n.t("health_col_timing", lang): [timing_label(r, cfg) for r in rules],
                       i18n.t("health_col_customers", lang): [suppress(counts[r.action], cfg) for r in rules],
                       i18n.t("health_col_export", lang): [f"playbook_{r.action}.csv" for r in rules]})
    return report.table(df, cfg, {i18n.t("health_col_customers", lang): "numtext"})


def playbook_note(cfg, exported: list):
    """The note on the playbooks and their exports; ``exported`` is what
    :func:`journeykit.sections.segmentation.playbooks.export_playbooks`
    returned (empty outside a report run)."""
    lang = cfg.language
    text = i18n.t("health_playbook_note", lang, k=int(cfg.definitions.k_anonymity)) + " " + (
        i18n.t("health_exported", lang, n=len(exported)) if exported else i18n.t("health_not_exported", lang))
    return report.Note(text)


# --------------------------------------------------------------------------
# What to look at next
# --------------------------------------------------------------------------

def next_steps(ds, cfg, changes) -> list[str]:
    """"What to look at next", most urgent first. Rules (each independent):

    1. the Unhealthy share is at least 15% of the scored customers (with
       ``min_sample_size`` scored) — the outreach advice only when the score
       has not failed its check against later churn
       (:func:`journeykit.sections.segmentation.health.validation`); when it
       has, the advice is to review the weights first;
    2. the RFM segments At risk and Can't lose hold at least 15% of revenue;
    3. at least half of the new customers (``min_sample_size`` or more)
       have no paid order yet;
    4. the top 10% of buyers bring at least half of the revenue.

    One sentence that nothing stands out when none fires. A significant rise
    of the Unhealthy share has its advice in the key figures
    (:data:`journeykit.sections.segmentation.compute.ADVICE`), so it agrees
    with the report's verdicts; ``changes`` is kept for callers.
    """
    lang = cfg.language
    n_min = int(cfg.definitions.min_sample_size)
    out: list[str] = []
    h = _scored(H.health(ds, cfg))
    if len(h) >= n_min:
        k = int((h["band"] == "unhealthy").sum())
        if k / len(h) >= 0.15:
            v = H.validation(ds, cfg)
            if v is not None and v["separates"] is False:
                out.append(i18n.t("health_next_unvalidated", lang, n=report.fmt_int(k), share=report.fmt_pct(k / len(h)),
                                  cutoff=report.fmt_date(v["cutoff"])))
            else:
                out.append(i18n.t("health_next_unhealthy", lang, n=report.fmt_int(k),
                                  share=report.fmt_pct(k / len(h))))
    r = S.rfm(ds, cfg)
    if r is not None and len(r) >= n_min and r["monetary"].sum() > 0:
        share = r.loc[r["segment"].isin(["at_risk", "cant_lose"]), "monetary"].sum() / r["monetary"].sum()
        if share >= 0.15:
            out.append(i18n.t("health_next_cant_lose", lang, share=report.fmt_pct(share)))
    if ds.has("orders"):
        new = P.targets(ds, cfg).query("state == 'new'")
        if len(new) >= n_min and (~new["buyer"]).mean() >= 0.5:
            out.append(i18n.t("health_next_activation", lang, share=report.fmt_pct((~new["buyer"]).mean())))
    t10 = S.top_share(r, 0.1)
    if t10 is not None and len(r) >= n_min and t10 >= 0.5:
        out.append(i18n.t("health_next_concentration", lang, share=report.fmt_pct(t10)))
    if not out:
        out.append(i18n.t("health_next_nothing", lang))
    return out


__all__ = ["dropped_note", "components_table", "insights", "validation_table", "validation_sentence", "bands_table", "distribution_chart", "trend_chart",
           "contributions_chart", "by_segment_table", "action_label", "timing_label", "target_label",
           "playbook_summary", "playbooks_table", "playbook_note", "next_steps"]
