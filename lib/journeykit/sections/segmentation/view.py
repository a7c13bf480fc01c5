"""What section 60 shows about segments: the key figures' labels, RFM
segments, value tiers, behavioural clusters, experience segments and
lifecycle states as client-facing tables, charts and generated sentences,
built from :mod:`.segments`, :mod:`.lifecycle`, :mod:`.clusters` and
:mod:`.experience`. The health score and playbooks are in :mod:`.view_health`.

An analysis that cannot run for this client (no order amounts, too few
active customers, no surveys or tickets …) is said once, in one sentence,
by the first cell of its heading; the other cells of that heading then
show nothing (they return ``None``). Groups of fewer than
``definitions.k_anonymity`` customers are suppressed.
"""

from __future__ import annotations

import math
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from journeykit import facts, report
from journeykit.core import i18n
from journeykit.report import plots
from journeykit.sections.segmentation import clusters as C
from journeykit.sections.segmentation import experience as X
from journeykit.sections.segmentation import lifecycle as L
from journeykit.sections.segmentation import segments as S
from journeykit.sections.segmentation.transitions import largest_move

i18n.register({
    # key figures
    "segments_kpi_rfm_customers": {"en": "Customers with a paid order (last {days} days)",
                                   "ko": "구매 고객 (최근 {days}일)"},
    "segments_kpi_live_customers": {"en": "Customers not churned", "ko": "이탈하지 않은 고객"},
    "segments_kpi_champions_share": {"en": "Champions (share of buyers)", "ko": "챔피언 비중 (구매 고객 중)"},
    "segments_kpi_at_risk_share": {"en": "At risk + Can't lose (share of buyers)",
                                   "ko": "이탈 위험 + 놓치면 안 될 고객 비중"},
    "segments_kpi_healthy_share": {"en": "Healthy (share of scored customers)", "ko": "건강 고객 비중"},
    "segments_kpi_unhealthy_share": {"en": "Unhealthy (share of scored customers)", "ko": "위험(Unhealthy) 고객 비중"},
    "segments_kpi_top10pct_revenue_share": {"en": "Revenue share of the top 10% of buyers",
                                            "ko": "상위 10% 구매 고객의 매출 비중"},
    # columns
    "segments_col_segment": {"en": "Segment", "ko": "세그먼트"},
    "segments_col_customers": {"en": "Customers", "ko": "고객 수"},
    "segments_col_share": {"en": "Share of customers", "ko": "고객 비중"},
    "segments_col_revenue": {"en": "Revenue", "ko": "매출"},
    "segments_col_revenue_share": {"en": "Share of revenue", "ko": "매출 비중"},
    "segments_col_recency": {"en": "Days since last order (mean)", "ko": "마지막 구매 후 일수 (평균)"},
    "segments_col_frequency": {"en": "Orders (mean)", "ko": "주문 수 (평균)"},
    "segments_col_monetary": {"en": "Spend (mean)", "ko": "구매 금액 (평균)"},
    "segments_col_state": {"en": "State", "ko": "상태"},
    "segments_col_cluster": {"en": "Cluster", "ko": "군집"},
    "segments_col_profile": {"en": "Profile", "ko": "특징"},
    "segments_col_decile": {"en": "Revenue decile", "ko": "매출 십분위"},
    "segments_col_cum_share": {"en": "Cumulative share of revenue", "ko": "누적 매출 비중"},
    "segments_col_min_spend": {"en": "Lowest spend in decile", "ko": "구간 최저 구매 금액"},
    "segments_col_nps": {"en": "NPS answer", "ko": "NPS 응답"},
    "segments_lifecycle_unreachable": {
        "en": "No customer can be {states} with these settings: segmentation.lifecycle.dormant_days ({dormant}) is not below definitions.churn_inactivity_days ({churn}), so a customer silent that long already counts as churned. Set dormant_days (and at_risk_days) below the churn window in the client file to see these states.",
        "ko": "현재 설정으로는 {states} 상태인 고객이 있을 수 없습니다: segmentation.lifecycle.dormant_days({dormant})이(가) definitions.churn_inactivity_days({churn})보다 작지 않아, 그만큼 활동이 없는 고객은 이미 이탈로 분류됩니다. 이 상태를 보려면 고객사 파일에서 dormant_days와 at_risk_days를 이탈 기준보다 작게 설정하세요."},
    "segments_col_load": {"en": "Support tickets", "ko": "문의 건수"},
    "segments_col_csat": {"en": "CSAT (mean, 1–5)", "ko": "CSAT (평균, 1–5)"},
    "segments_suppressed": {"en": "< {k}", "ko": "{k}명 미만"},
    "segments_small_folded": {"en": "other segments (fewer than {k} customers each)",
                              "ko": "기타 세그먼트 (각 {k}명 미만)"},
    "segments_decile_n": {"en": "top {lo}–{hi}%", "ko": "상위 {lo}–{hi}%"},
    # experience groups
    "segments_nps_promoter": {"en": "promoter (9–10)", "ko": "추천 (9–10)"},
    "segments_nps_passive": {"en": "passive (7–8)", "ko": "중립 (7–8)"},
    "segments_nps_detractor": {"en": "detractor (0–6)", "ko": "비추천 (0–6)"},
    "segments_nps_none": {"en": "no NPS answer", "ko": "NPS 응답 없음"},
    "segments_load_0": {"en": "none", "ko": "없음"},
    "segments_load_1": {"en": "1", "ko": "1건"},
    "segments_load_2": {"en": "2 or more", "ko": "2건 이상"},
    # cluster features and descriptions
    "segments_feat_active_days": {"en": "active days", "ko": "활동일 수"},
    "segments_feat_sessions": {"en": "sessions", "ko": "세션 수"},
    "segments_feat_days_between": {"en": "days between visits", "ko": "방문 간격"},
    "segments_feat_session_minutes": {"en": "time per session", "ko": "세션당 체류 시간"},
    "segments_feat_features_used": {"en": "features used", "ko": "사용 기능 수"},
    "segments_feat_channels": {"en": "channels used", "ko": "이용 채널 수"},
    "segments_feat_orders": {"en": "orders", "ko": "주문 수"},
    "segments_feat_spend": {"en": "spend", "ko": "구매 금액"},
    "segments_high": {"en": "more {feature}", "ko": "{feature} 많음"},
    "segments_low": {"en": "fewer {feature}", "ko": "{feature} 적음"},
    "segments_high_time": {"en": "longer {feature}", "ko": "{feature} 김"},
    "segments_low_time": {"en": "shorter {feature}", "ko": "{feature} 짧음"},
    "segments_high_money": {"en": "higher {feature}", "ko": "{feature} 높음"},
    "segments_low_money": {"en": "lower {feature}", "ko": "{feature} 낮음"},
    "segments_average": {"en": "close to the average on every measure", "ko": "모든 지표가 평균 수준"},
    "segments_than_average": {"en": "{parts} than average", "ko": "평균보다 {parts}"},
    "segments_cluster_name": {"en": "Cluster {i}", "ko": "군집 {i}"},
    # charts
    "segments_chart_rfm": {"en": "RFM segments, {period}: share of buyers and of revenue",
                           "ko": "RFM 세그먼트, {period}: 고객 비중과 매출 비중"},
    "segments_chart_moves": {"en": "Movement between RFM segments, {prev} → {period}",
                             "ko": "RFM 세그먼트 이동, {prev} → {period}"},
    "segments_chart_flows": {"en": "Lifecycle state flows, {prev} → {period}",
                             "ko": "생애주기 상태 이동, {prev} → {period}"},
    "segments_chart_pareto": {"en": "Share of revenue from the top customers, {period}",
                              "ko": "상위 고객의 매출 비중, {period}"},
    "segments_chart_clusters": {"en": "Cluster profiles (standard deviations from the average)",
                                "ko": "군집 특징 (평균 대비 표준편차)"},
    "segments_axis_customers_share": {"en": "Share of buyers (ranked by spend)", "ko": "구매 고객 비중 (구매 금액 순)"},
    "segments_axis_revenue_share": {"en": "Cumulative share of revenue", "ko": "누적 매출 비중"},
    "segments_legend_customers": {"en": "customers", "ko": "고객"},
    "segments_legend_revenue": {"en": "revenue", "ko": "매출"},
    # why an analysis is skipped (one line each)
    "segments_skip_rfm_no_orders": {"en": "RFM segments need the orders table, which this client has not supplied.",
                                    "ko": "RFM 세그먼트에는 주문 테이블이 필요하지만 이 고객사에서는 제공되지 않았습니다."},
    "segments_skip_rfm_no_amounts": {
        "en": "No RFM segments: this client's orders carry no amounts, so there is no spend to score.",
        "ko": "이 고객사의 주문에는 금액이 없어 구매 금액을 평가할 수 없으므로 RFM 세그먼트를 만들지 않았습니다."},
    "segments_skip_rfm_no_buyers": {"en": "No paid order in the last {days} days: no RFM segments.",
                                    "ko": "최근 {days}일간 결제 완료 주문이 없어 RFM 세그먼트를 만들 수 없습니다."},
    "segments_skip_tiers_no_orders": {"en": "Value tiers need the orders table, which this client has not supplied.",
                                      "ko": "가치 등급에는 주문 테이블이 필요하지만 이 고객사에서는 제공되지 않았습니다."},
    "segments_skip_tiers_no_amounts": {
        "en": "No value tiers: this client's orders carry no amounts, so buyers cannot be ranked by spend.",
        "ko": "이 고객사의 주문에는 금액이 없어 구매 금액 순으로 고객을 나눌 수 없으므로 가치 등급을 만들지 않았습니다."},
    "segments_skip_tiers_no_buyers": {"en": "No paid order in the last {days} days: no value tiers.",
                                      "ko": "최근 {days}일간 결제 완료 주문이 없어 가치 등급을 만들 수 없습니다."},
    "segments_skip_tiers_no_revenue": {"en": "The paid orders of the last {days} days add up to no revenue: no value tiers.",
                                       "ko": "최근 {days}일간 결제 완료 주문의 매출이 없어 가치 등급을 만들 수 없습니다."},
    "segments_skip_clusters_too_few": {
        "en": "Too few active customers ({n}, fewer than {min}) for behavioural clusters.",
        "ko": "활동 고객이 너무 적어({n}명, {min}명 미만) 행동 군집을 만들지 않았습니다."},
    "segments_skip_clusters_constant": {
        "en": "The {n} active customers behave alike on every measure ({features}): no behavioural clusters.",
        "ko": "활동 고객 {n}명의 모든 지표({features})가 같아 행동 군집을 만들지 않았습니다."},
    "segments_skip_clusters_no_split": {
        "en": "The {n} active customers could not be split into two or more behavioural clusters.",
        "ko": "활동 고객 {n}명을 둘 이상의 행동 군집으로 나눌 수 없었습니다."},
    "segments_skip_experience_no_tables": {
        "en": "Experience segments need the surveys or tickets table, which this client has not supplied.",
        "ko": "경험 세그먼트에는 설문 또는 문의 테이블이 필요하지만 이 고객사에서는 제공되지 않았습니다."},
    "segments_skip_experience_no_customer_ids": {
        "en": "Experience segments need to know who answered: this client's surveys carry no customer id, and there are no support tickets.",
        "ko": "경험 세그먼트에는 응답자 정보가 필요하지만 이 고객사의 설문에는 고객 ID가 없고 문의 데이터도 없습니다."},
    "segments_skip_experience_no_rows": {
        "en": "No survey answer and no support ticket in the last {days} days: no experience segments.",
        "ko": "최근 {days}일간 설문 응답과 문의가 없어 경험 세그먼트를 만들 수 없습니다."},
    "segments_skip_lifecycle": {"en": "No customer had signed up by the end of {period}.",
                                "ko": "{period} 말까지 가입한 고객이 없습니다."},
    # sentences
    "segments_clusters_sentence": {
        "en": "{n} customers active in the last {days} days fall into {k} behavioural clusters (k chosen by silhouette, {score}); clusters are numbered by size.",
        "ko": "최근 {days}일간 활동한 고객 {n}명을 {k}개 행동 군집으로 나누었습니다 (실루엣 점수로 k 선택, {score}). 군집 번호는 규모 순입니다."},
    "segments_clusters_constant": {
        "en": "Left out because every active customer has the same value: {features}.",
        "ko": "모든 활동 고객의 값이 같아 제외한 지표: {features}."},
    "segments_rfm_sentence": {
        "en": "{n} customers paid for an order in the last {days} days. The largest segment is {top} ({top_share} of buyers); {champ} are Champions, who bring {champ_rev} of revenue.",
        "ko": "최근 {days}일간 {n}명이 결제를 완료했습니다. 가장 큰 세그먼트는 {top}(구매 고객의 {top_share})이며, 챔피언은 {champ}(으)로 매출의 {champ_rev}을(를) 차지합니다."},
    "segments_move_sentence": {
        "en": "The largest move since {prev}: {n} customers went from {src} to {dst}.",
        "ko": "{prev} 이후 가장 큰 이동: {n}명이 {src}에서 {dst}(으)로 옮겨 갔습니다."},
    "segments_pareto_sentence": {
        "en": "The top 10% of buyers bring {top10} of revenue, and the top 20% bring {top20}.",
        "ko": "상위 10% 구매 고객이 매출의 {top10}, 상위 20%가 {top20}을(를) 차지합니다."},
    "segments_life_sentence": {
        "en": "At the end of {period}: {active} active, {new} new and {react} reactivated customers; {risk} at risk and {dormant} dormant; {churned} churned in total ({churned_new} more than at the end of {prev}).",
        "ko": "{period} 말 기준: 활성 {active}명, 신규 {new}명, 복귀 {react}명; 이탈 위험 {risk}명, 휴면 {dormant}명; 누적 이탈 {churned}명 ({prev} 말 대비 {churned_new}명 증가)."},
    "segments_suppression_note": {
        "en": "Groups of fewer than {k} customers are not shown (k-anonymity).",
        "ko": "{k}명 미만인 그룹은 표시하지 않습니다 (k-익명성)."},
})

KINDS = {"rfm_customers": "int", "live_customers": "int", "champions_share": "pct", "at_risk_share": "pct",
         "healthy_share": "pct", "unhealthy_share": "pct", "top10pct_revenue_share": "pct"}
"""Display kind of each key figure of :func:`journeykit.sections.segmentation.compute.changes`."""

FEATURE_WORDING = {"active_days": "count", "sessions": "count", "days_between": "time", "session_minutes": "time",
                   "features_used": "count", "channels": "count", "orders": "count", "spend": "money"}
"""How a cluster feature is worded: counts "more/fewer", times "longer/shorter", money "higher/lower"."""


def labels(cfg) -> dict[str, str]:
    """Key figure → label in the client's language."""
    out = {k: i18n.t(f"segments_kpi_{k}", cfg.language) for k in KINDS if k != "rfm_customers"}
    out["rfm_customers"] = i18n.t("segments_kpi_rfm_customers", cfg.language, days=cfg.segmentation.rfm.lookback_days)
    return out


def suppress(n: Any, cfg) -> str:
    """A count for a client-facing table: ``"< k"`` from 1 to
    ``k_anonymity − 1``, ``–`` when missing."""
    k = int(cfg.definitions.k_anonymity)
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return "–"
    n = int(n)
    if 0 < n < k:
        return i18n.t("segments_suppressed", cfg.language, k=k)
    return f"{n:,}"


def _people(n: str, cfg) -> str:
    """A displayed count of customers in a sentence, with the Korean
    counter 명 ("49명"; "5명 미만" already has it)."""
    return f"{n}명" if cfg.language == "ko" and n[-1:].isdigit() else n


def suppression_note(cfg):
    """The note that small groups are not shown."""
    return report.Note(i18n.t("segments_suppression_note", cfg.language, k=int(cfg.definitions.k_anonymity)))


def _col(key: str, cfg, **kw) -> str:
    return i18n.t(f"segments_col_{key}", cfg.language, **kw)


def _frame(df: pd.DataFrame, cfg, columns: dict[str, tuple[str, str]]):
    """``df``'s ``columns`` (column → (text key, display kind)) as a report table."""
    out = df[list(columns)].rename(columns={c: _col(n, cfg) for c, (n, _) in columns.items()})
    return report.table(out, cfg, {_col(n, cfg): kind for _, (n, kind) in columns.items()})


# --------------------------------------------------------------------------
# Key figures and sentences
# --------------------------------------------------------------------------

def insights(ds, cfg) -> list[str]:
    """Sentences on this period end: the RFM buyers and their largest
    segment, the largest move between segments (when at least
    ``k_anonymity`` customers made it), revenue concentration, and the
    lifecycle states. An analysis that cannot run is left out here (its
    heading says why)."""
    lang = cfg.language
    days = cfg.segmentation.rfm.lookback_days
    per, prev = cfg.period.label(lang), cfg.period.previous().label(lang)
    k = int(cfg.definitions.k_anonymity)
    out: list[str] = []
    if S.rfm_reason(ds, cfg) is None:
        df = S.rfm(ds, cfg)
        s = S.segment_summary(df, cfg)
        top = s.sort_values(["customers", "segment"], ascending=[False, True]).iloc[0]
        ch = s.set_index("segment")
        champ = int(ch.loc["champions", "customers"]) if "champions" in ch.index else 0
        champ_rev = ch.loc["champions", "revenue_share"] if "champions" in ch.index else None
        out.append(i18n.t("segments_rfm_sentence", lang, n=report.fmt_int(len(df)), days=days,
                          top=facts.label("rfm", top["segment"], cfg), top_share=report.fmt_pct(top["share"]),
                          champ=_people(suppress(champ, cfg), cfg), champ_rev=report.fmt_pct(champ_rev)))
        mv = largest_move(S.rfm_transitions(ds, cfg))
        if mv and mv[2] >= k:
            out.append(i18n.t("segments_move_sentence", lang, prev=prev, n=report.fmt_int(mv[2]),
                              src=facts.label("rfm", mv[0], cfg), dst=facts.label("rfm", mv[1], cfg)))
    if S.tiers_reason(ds, cfg) is None:
        df = S.rfm(ds, cfg)
        out.append(i18n.t("segments_pareto_sentence", lang, top10=report.fmt_pct(S.top_share(df, 0.1)),
                          top20=report.fmt_pct(S.top_share(df, 0.2))))
    lc, lc0 = L.lifecycle_counts(ds, cfg), L.lifecycle_counts(ds, cfg, cfg.period.previous().end)
    if sum(lc.values()):
        words = {"active": "active", "new": "new", "react": "reactivated", "risk": "at_risk", "dormant": "dormant",
                 "churned": "churned"}
        out.append(i18n.t("segments_life_sentence", lang, period=per, prev=prev,
                          **{w: report.fmt_int(lc[s]) for w, s in words.items()},
                          churned_new=report.fmt_int(max(0, lc["churned"] - lc0["churned"]))))
    return out


# --------------------------------------------------------------------------
# RFM segments
# --------------------------------------------------------------------------

def _rfm_note(why: str, cfg):
    return report.Note(i18n.t(f"segments_skip_rfm_{why}", cfg.language, days=cfg.segmentation.rfm.lookback_days))


def rfm_table(ds, cfg):
    """RFM segments (table): customers, shares, revenue and the mean R, F
    and M of each non-empty segment; segments under ``k_anonymity``
    customers folded into one row. When there are no RFM segments, the
    one-line reason instead (the section's only note about it)."""
    why = S.rfm_reason(ds, cfg)
    if why is not None:
        return _rfm_note(why, cfg)
    s = S.segment_summary(S.rfm(ds, cfg), cfg)
    s = s[s["customers"] > 0]
    k = int(cfg.definitions.k_anonymity)
    small = s["customers"] < k
    shown = s[~small].copy()
    shown["segment"] = [facts.label("rfm", x, cfg) for x in shown["segment"]]
    if small.any():
        folded = s[small]
        row = {"segment": i18n.t("segments_small_folded", cfg.language, k=k), "customers": folded["customers"].sum(),
               "share": folded["share"].sum(), "revenue": folded["revenue"].sum(),
               "revenue_share": folded["revenue_share"].sum(), "recency_days": np.nan, "frequency": np.nan,
               "monetary": np.nan}
        shown = pd.concat([shown, pd.DataFrame([row])], ignore_index=True)
    return _frame(shown, cfg, {"segment": ("segment", "text"), "customers": ("customers", "int"),
                               "share": ("share", "pct"), "revenue_share": ("revenue_share", "pct"),
                               "recency_days": ("recency", "num"), "frequency": ("frequency", "num"),
                               "monetary": ("monetary", "money")})


def rfm_chart(ds, cfg):
    """Bars per RFM segment: share of buyers and share of revenue; ``None``
    without RFM segments (:func:`rfm_table` says why)."""
    if S.rfm_reason(ds, cfg) is not None:
        return None
    lang = cfg.language
    s = S.segment_summary(S.rfm(ds, cfg), cfg)
    fig, ax = plt.subplots(figsize=(8, 4.2))
    y = np.arange(len(s))
    ax.barh(y - 0.2, s["share"].fillna(0), height=0.4, color=plots.PALETTE[0],
            label=i18n.t("segments_legend_customers", lang))
    ax.barh(y + 0.2, s["revenue_share"].fillna(0), height=0.4, color=plots.PALETTE[1],
            label=i18n.t("segments_legend_revenue", lang))
    ax.set_yticks(y, [facts.label("rfm", x, cfg) for x in s["segment"]])
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v * 100:.0f}%"))
    ax.set_title(i18n.t("segments_chart_rfm", lang, period=cfg.period.label(lang)))
    ax.legend(loc="lower right", fontsize=9)
    ax.grid(axis="y", visible=False)
    fig.tight_layout()
    plt.close(fig)
    return fig


def transition_heatmap(m: pd.DataFrame, names: dict[str, str], title: str, cfg, xlabel: str, ylabel: str):
    """A heatmap of a transition matrix (rows: before, columns: after),
    counts written in the cells; cells under ``k_anonymity`` customers are
    written "< k" and not coloured by their value. Empty rows and columns
    are left out; ``None`` when nothing is left."""
    k = int(cfg.definitions.k_anonymity)
    rows = [r for r in m.index if m.loc[r].sum() > 0]
    cols = [c for c in m.columns if m[c].sum() > 0]
    if not rows or not cols:
        return None
    m = m.loc[rows, cols]
    shown = m.where(m >= k, 0).astype(float)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.75 * len(cols) + 2.8), 0.45 * len(rows) + 2.0))
    ax.imshow(np.log1p(shown.to_numpy()), cmap="Blues", aspect="auto")
    vmax = np.log1p(shown.to_numpy()).max() or 1
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            v = int(m.loc[r, c])
            if v == 0:
                continue
            txt = f"{v:,}" if v >= k else f"<{k}"
            dark = np.log1p(shown.loc[r, c]) > 0.6 * vmax
            ax.text(j, i, txt, ha="center", va="center", fontsize=8, color="white" if dark else "#222222")
    ax.set_xticks(range(len(cols)), [names[c] for c in cols], rotation=35, ha="right", fontsize=8)
    ax.set_yticks(range(len(rows)), [names[r] for r in rows], fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=11)
    ax.grid(False)
    fig.tight_layout()
    plt.close(fig)
    return fig


def rfm_transition_chart(ds, cfg):
    """Heatmap of the movement between RFM segments since the comparison
    period end; ``None`` without RFM segments."""
    if S.rfm_reason(ds, cfg) is not None:
        return None
    lang = cfg.language
    m = S.rfm_transitions(ds, cfg)
    names = {key: facts.label("rfm", key, cfg) for key in m.index}  # NONE: "(no paid order in the window)"
    per, prev = cfg.period.label(lang), cfg.period.previous().label(lang)
    return transition_heatmap(m, names, i18n.t("segments_chart_moves", lang, prev=prev, period=per), cfg, per, prev)


# --------------------------------------------------------------------------
# Value tiers
# --------------------------------------------------------------------------

def pareto_chart(ds, cfg):
    """The Pareto curve of revenue over buyers ranked by spend, the top 10%
    marked. When there are no value tiers, the one-line reason instead."""
    lang = cfg.language
    why = S.tiers_reason(ds, cfg)
    if why is not None:
        return report.Note(i18n.t(f"segments_skip_tiers_{why}", lang, days=cfg.segmentation.rfm.lookback_days))
    df = S.rfm(ds, cfg)
    p = S.pareto_curve(df)
    t10 = S.top_share(df, 0.1)
    fig, ax = plt.subplots(figsize=(6, 3.8))
    ax.plot(p["customer_share"], p["revenue_share"], color=plots.PALETTE[0], linewidth=1.8)
    ax.plot([0, 1], [0, 1], color="#999999", linestyle="--", linewidth=0.8)
    ax.scatter([0.1], [t10], color=plots.PALETTE[1], zorder=3)
    ax.annotate(f"10% → {t10 * 100:.1f}%", (0.1, t10), xytext=(12, -14), textcoords="offset points", fontsize=9)
    fmt = plt.FuncFormatter(lambda v, _: f"{v * 100:.0f}%")
    ax.xaxis.set_major_formatter(fmt)
    ax.yaxis.set_major_formatter(fmt)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(i18n.t("segments_axis_customers_share", lang))
    ax.set_ylabel(i18n.t("segments_axis_revenue_share", lang))
    ax.set_title(i18n.t("segments_chart_pareto", lang, period=cfg.period.label(lang)))
    fig.tight_layout()
    plt.close(fig)
    return fig


def tiers_table(ds, cfg):
    """Revenue deciles (table): customers, revenue, revenue share,
    cumulative share and the lowest spend; ``None`` without value tiers
    (:func:`pareto_chart` says why)."""
    if S.tiers_reason(ds, cfg) is not None:
        return None
    t = S.value_tiers(S.rfm(ds, cfg))
    t["decile"] = [i18n.t("segments_decile_n", cfg.language, lo=(d - 1) * 10, hi=d * 10) for d in t["decile"]]
    return _frame(t, cfg, {"decile": ("decile", "text"), "customers": ("customers", "int"),
                           "revenue": ("revenue", "money"), "revenue_share": ("revenue_share", "pct"),
                           "cum_share": ("cum_share", "pct"), "min_spend": ("min_spend", "money")})


# --------------------------------------------------------------------------
# Behavioural clusters
# --------------------------------------------------------------------------

def _feature_names(features, language: str) -> str:
    return ", ".join(i18n.t(f"segments_feat_{f}", language) for f in features)


def describe_cluster(z: pd.Series, language: str = "en", threshold: float = 0.5, top: int = 2) -> str:
    """Words for a cluster from its profile in standard deviations from the
    average (``z``: feature → value): the ``top`` features furthest from
    the average by at least ``threshold`` SD, e.g. "More active days and
    fewer orders than average"; "Close to the average on every measure"
    when none is."""
    picked = sorted(((f, float(v)) for f, v in z.items() if abs(float(v)) >= threshold),
                    key=lambda fv: (-abs(fv[1]), fv[0]))[:top]
    if not picked:
        text = i18n.t("segments_average", language)
    else:
        parts = []
        for f, v in picked:
            kind = FEATURE_WORDING.get(f, "count")
            suffix = {"count": "", "time": "_time", "money": "_money"}[kind]
            key = ("segments_high" if v > 0 else "segments_low") + suffix
            feat = i18n.t(f"segments_feat_{f}", language) if f"segments_feat_{f}" in i18n.TEXT else f
            parts.append(i18n.t(key, language, feature=feat))
        joined = (" and " if language == "en" else ", ").join(parts)
        text = i18n.t("segments_than_average", language, parts=joined)
    return text[:1].upper() + text[1:]


def cluster_note(ds, cfg):
    """One note on the clusters: how many customers fell into how many
    clusters (and which features were left out for being the same for
    everyone), or why there are no clusters."""
    lang = cfg.language
    cs = cfg.segmentation.clusters
    c = C.clusters(ds, cfg)
    n = report.fmt_int(c.n)
    if c.reason == "too_few":
        return report.Note(i18n.t("segments_skip_clusters_too_few", lang, n=n, min=cs.min_customers))
    if c.reason == "constant":
        return report.Note(i18n.t("segments_skip_clusters_constant", lang, n=n,
                                  features=_feature_names(c.constant, lang)))
    if c.reason:
        return report.Note(i18n.t(f"segments_skip_clusters_{c.reason}", lang, n=n))
    text = i18n.t("segments_clusters_sentence", lang, n=n, days=cs.window_days, k=c.k, score=f"{c.silhouette:.2f}")
    if c.constant:
        text += " " + i18n.t("segments_clusters_constant", lang, features=_feature_names(c.constant, lang))
    return report.Note(text)


def cluster_table(ds, cfg):
    """Behavioural clusters (table): size, share and the profile in words;
    clusters under ``k_anonymity`` customers are not shown. ``None``
    without clusters (:func:`cluster_note` says why)."""
    c = C.clusters(ds, cfg)
    if c.reason:
        return None
    k = int(cfg.definitions.k_anonymity)
    sizes = c.sizes
    rows = [{"cluster": i18n.t("segments_cluster_name", cfg.language, i=i), "customers": int(sizes[i]),
             "share": sizes[i] / sizes.sum(), "profile": describe_cluster(c.z.loc[i], cfg.language)}
            for i in sizes.index if sizes[i] >= k]
    df = pd.DataFrame(rows, columns=["cluster", "customers", "share", "profile"])
    return _frame(df, cfg, {"cluster": ("cluster", "text"), "customers": ("customers", "int"),
                            "share": ("share", "pct"), "profile": ("profile", "text")})


def cluster_chart(ds, cfg):
    """Heatmap of the cluster profiles in standard deviations from the
    average; ``None`` without clusters."""
    c = C.clusters(ds, cfg)
    if c.reason:
        return None
    lang = cfg.language
    z = c.z
    fig, ax = plt.subplots(figsize=(8, 0.6 * z.shape[0] + 2.2))
    lim = max(1.0, float(np.nanmax(np.abs(z.to_numpy()))))
    ax.imshow(z.to_numpy(), cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            ax.text(j, i, f"{z.iat[i, j]:+.1f}", ha="center", va="center", fontsize=9)
    ax.set_xticks(range(z.shape[1]), [i18n.t(f"segments_feat_{f}", lang) for f in z.columns], rotation=30,
                  ha="right", fontsize=9)
    ax.set_yticks(range(z.shape[0]), [i18n.t("segments_cluster_name", lang, i=i) for i in z.index], fontsize=9)
    ax.set_title(i18n.t("segments_chart_clusters", lang), fontsize=11)
    ax.grid(False)
    fig.tight_layout()
    plt.close(fig)
    return fig


# --------------------------------------------------------------------------
# Experience
# --------------------------------------------------------------------------

def experience_table(ds, cfg):
    """Experience segments (table): NPS group × support load, customers,
    share and mean CSAT; groups under ``k_anonymity`` are suppressed; no
    support-load column when the client has no tickets table (not tracked,
    rather than "none" for everyone). When there are none, the one-line
    reason instead."""
    lang = cfg.language
    why = X.experience_reason(ds, cfg)
    if why is not None:
        return report.Note(i18n.t(f"segments_skip_experience_{why}", lang, days=cfg.segmentation.health.survey_days))
    g = X.experience_groups(X.experience(ds, cfg))
    small = g["customers"] < int(cfg.definitions.k_anonymity)
    g["customers_txt"] = [suppress(n, cfg) for n in g["customers"]]
    g.loc[small, "share"] = np.nan
    g.loc[small, "csat"] = np.nan
    g["nps_group"] = [i18n.t(f"segments_nps_{x}", lang) for x in g["nps_group"]]
    g["load"] = [i18n.t(f"segments_load_{x}", lang) for x in g["load"]]
    cols = {"nps_group": ("nps", "text"), "load": ("load", "text"), "customers_txt": ("customers", "numtext"),
            "share": ("share", "pct"), "csat": ("csat", "num2")}
    if not ds.has("tickets"):
        # no tickets table: support load is not tracked, not "none"
        cols.pop("load")
    return _frame(g, cfg, cols)


# --------------------------------------------------------------------------
# Lifecycle
# --------------------------------------------------------------------------

def lifecycle_table(ds, cfg):
    """Customers per lifecycle state at this and the comparison period end
    (counts under ``k_anonymity`` suppressed); a one-line note when no
    customer had signed up by either end."""
    lang = cfg.language
    lc, lc0 = L.lifecycle_counts(ds, cfg), L.lifecycle_counts(ds, cfg, cfg.period.previous().end)
    per, prev = cfg.period.label(lang), cfg.period.previous().label(lang)
    if not sum(lc.values()) and not sum(lc0.values()):
        return report.Note(i18n.t("segments_skip_lifecycle", lang, period=per))
    states = facts.CUSTOMER_STATES
    df = pd.DataFrame({_col("state", cfg): [facts.label("state", s, cfg) for s in states],
                       per: [suppress(lc[s], cfg) for s in states], prev: [suppress(lc0[s], cfg) for s in states]})
    table = report.table(df, cfg, {per: "numtext", prev: "numtext"})
    warn = lifecycle_settings_note(cfg)
    return report.Blocks([warn, table]) if warn is not None else table


def lifecycle_settings_note(cfg) -> report.Note | None:
    """A warning when the lifecycle settings leave a state empty by
    construction (:func:`journeykit.core.settings.unreachable_states`:
    ``segmentation.lifecycle.dormant_days`` at or above
    ``definitions.churn_inactivity_days``); ``None`` when every state can
    be reached."""
    from journeykit.core.settings import unreachable_states

    lc, churn = cfg.segmentation.lifecycle, int(cfg.definitions.churn_inactivity_days)
    empty = unreachable_states(lc, churn)
    if not empty:
        return None
    return report.Note(i18n.t("segments_lifecycle_unreachable", cfg.language,
                              states=", ".join(facts.label("state", s, cfg) for s in empty),
                              dormant=lc.dormant_days, churn=churn), "warn")


def lifecycle_flow_chart(ds, cfg):
    """Heatmap of the lifecycle state flows since the comparison period
    end; ``None`` when nobody had signed up."""
    lang = cfg.language
    m = L.lifecycle_flows(ds, cfg)
    names = {key: facts.label("state", key, cfg) for key in m.index}  # NONE: "(not yet signed up)"
    per, prev = cfg.period.label(lang), cfg.period.previous().label(lang)
    return transition_heatmap(m, names, i18n.t("segments_chart_flows", lang, prev=prev, period=per), cfg, per, prev)


__all__ = ["KINDS", "FEATURE_WORDING", "labels", "suppress", "suppression_note", "lifecycle_settings_note", "insights", "rfm_table", "rfm_chart",
           "transition_heatmap", "rfm_transition_chart", "pareto_chart", "tiers_table", "describe_cluster",
           "cluster_note", "cluster_table", "cluster_chart", "experience_table", "lifecycle_table",
           "lifecycle_flow_chart"]
