"""Segments: RFM value segments, behavioural clusters, value tiers,
experience segments and the lifecycle state of every customer.

Section ``60_segmentation`` answers *what kinds of customers do we have*;
:mod:`journeykit.sections.segmentation.health` adds *how healthy is each* and *what should we
do for each* (health score and playbooks).

Definitions shared by everything here:

- **Paid order**: an ``orders`` row whose payment succeeded, classified as
  in :mod:`journeykit.sections.purchase.compute` (:func:`~journeykit.sections.purchase.compute.paid_orders`).
- **Activity**: as in :mod:`journeykit.sections.retention.compute`
  (:func:`~journeykit.sections.retention.compute.activity`): an event with the
  customer's id or an order (any payment status). A customer's sign-up also
  counts as her first moment of contact when working out how long she has
  been silent.
- Everything is computed *at a period end* with rows before it only, so
  the comparison period's segments are recomputed from what was known then
  (``ds.table(name, until=end)``), and a past month re-runs identically.

Client settings: the ``segmentation:`` block, typed and documented in
:mod:`journeykit.core.settings` (``cfg.segmentation``).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import ibis
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from journeykit.stats import compare
from journeykit.core import i18n
from journeykit.report import plots
from journeykit import report
from journeykit.core.settings import ClusterSettings, LifecycleSettings
from journeykit.data.query import days_before, in_window, ts
from journeykit.sections import registry
from journeykit import facts

SECTION = "60_segmentation"

STABLE_KEYS = registry.get("60_segmentation").stable_keys
"""The section's stable ``metrics.json`` keys (each also with ``_prev``)."""

RFM_SEGMENTS = ("champions", "loyal", "potential_loyalists", "new", "promising", "need_attention", "cant_lose",
                "at_risk", "hibernating", "lost")
"""The default RFM segments, in the order of their rules (and of every table)."""

LIFECYCLE_STATES = ("new", "active", "reactivated", "at_risk", "dormant", "churned")
"""Lifecycle states at a period end, in display order."""

BANDS = ("healthy", "at_risk", "unhealthy")
"""Health bands (see :mod:`journeykit.sections.segmentation.health`)."""

NONE = "none"
"""The key of "not in the group at that period end" in transition tables."""

# --------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------

i18n.register({
    # RFM segments
    "segments_rfm_champions": {"en": "Champions", "ko": "챔피언"},
    "segments_rfm_loyal": {"en": "Loyal", "ko": "충성 고객"},
    "segments_rfm_potential_loyalists": {"en": "Potential loyalists", "ko": "잠재 충성 고객"},
    "segments_rfm_new": {"en": "New", "ko": "신규 구매 고객"},
    "segments_rfm_promising": {"en": "Promising", "ko": "유망 고객"},
    "segments_rfm_need_attention": {"en": "Need attention", "ko": "관심 필요"},
    "segments_rfm_at_risk": {"en": "At risk", "ko": "이탈 위험"},
    "segments_rfm_cant_lose": {"en": "Can't lose", "ko": "놓치면 안 될 고객"},
    "segments_rfm_hibernating": {"en": "Hibernating", "ko": "휴면 고객"},
    "segments_rfm_lost": {"en": "Lost", "ko": "이탈 고객"},
    "segments_rfm_none": {"en": "(no paid order in the window)", "ko": "(기간 내 구매 없음)"},
    # lifecycle states
    "segments_state_new": {"en": "new", "ko": "신규"},
    "segments_state_active": {"en": "active", "ko": "활성"},
    "segments_state_reactivated": {"en": "reactivated", "ko": "복귀"},
    "segments_state_at_risk": {"en": "at risk", "ko": "이탈 위험"},
    "segments_state_dormant": {"en": "dormant", "ko": "휴면"},
    "segments_state_churned": {"en": "churned", "ko": "이탈"},
    "segments_state_none": {"en": "(not yet signed up)", "ko": "(가입 전)"},
    # KPIs
    "segments_rfm_customers": {"en": "Customers with a paid order (last {days} days)",
                               "ko": "구매 고객 (최근 {days}일)"},
    "segments_live_customers": {"en": "Customers not churned", "ko": "이탈하지 않은 고객"},
    "segments_champions_share": {"en": "Champions (share of buyers)", "ko": "챔피언 비중 (구매 고객 중)"},
    "segments_at_risk_share": {"en": "At risk + Can't lose (share of buyers)",
                               "ko": "이탈 위험 + 놓치면 안 될 고객 비중"},
    "segments_healthy_share": {"en": "Healthy (share of scored customers)", "ko": "건강 고객 비중"},
    "segments_unhealthy_share": {"en": "Unhealthy (share of scored customers)", "ko": "위험(Unhealthy) 고객 비중"},
    "segments_top10pct_revenue_share": {"en": "Revenue share of the top 10% of buyers",
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
    "segments_col_prev": {"en": "{period} ↓ / {this} →", "ko": "{period} ↓ / {this} →"},
    "segments_col_state": {"en": "State", "ko": "상태"},
    "segments_col_prev_count": {"en": "{period}", "ko": "{period}"},
    "segments_col_cluster": {"en": "Cluster", "ko": "군집"},
    "segments_col_profile": {"en": "Profile", "ko": "특징"},
    "segments_col_decile": {"en": "Revenue decile", "ko": "매출 십분위"},
    "segments_col_cum_share": {"en": "Cumulative share of revenue", "ko": "누적 매출 비중"},
    "segments_col_min_spend": {"en": "Lowest spend in decile", "ko": "구간 최저 구매 금액"},
    "segments_col_nps": {"en": "NPS answer", "ko": "NPS 응답"},
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
    "segments_axis_now": {"en": "{period}", "ko": "{period}"},
    "segments_legend_customers": {"en": "customers", "ko": "고객"},
    "segments_legend_revenue": {"en": "revenue", "ko": "매출"},
    # notes and sentences
    "segments_no_orders": {"en": "No paid order in the last {days} days: no RFM segments.",
                           "ko": "최근 {days}일간 결제 완료 주문이 없어 RFM 세그먼트를 만들 수 없습니다."},
    "segments_no_clusters": {"en": "Too few active customers ({n}, fewer than {min}) for behavioural clusters.",
                             "ko": "활동 고객이 너무 적어({n}명, {min}명 미만) 행동 군집을 만들지 않았습니다."},
    "segments_clusters_sentence": {
        "en": "{n} customers active in the last {days} days fall into {k} behavioural clusters (k chosen by silhouette, {score}); clusters are numbered by size.",
        "ko": "최근 {days}일간 활동한 고객 {n}명을 {k}개 행동 군집으로 나누었습니다 (실루엣 점수로 k 선택, {score}). 군집 번호는 규모 순입니다."},
    "segments_no_experience": {"en": "Experience segments need the surveys or tickets table, which this client has not supplied.",
                               "ko": "경험 세그먼트에는 설문 또는 문의 테이블이 필요하지만 이 고객사에서는 제공되지 않았습니다."},
    "segments_rfm_sentence": {
        "en": "{n} customers paid for an order in the last {days} days. The largest segment is {top} ({top_share} of buyers); {champ} are Champions, who bring {champ_rev} of revenue.",
        "ko": "최근 {days}일간 {n}명이 결제를 완료했습니다. 가장 큰 세그먼트는 {top}(구매 고객의 {top_share})이며, 챔피언은 {champ}로 매출의 {champ_rev}를 차지합니다."},
    "segments_move_sentence": {
        "en": "The largest move since {prev}: {n} customers went from {src} to {dst}.",
        "ko": "{prev} 이후 가장 큰 이동: {n}명이 {src}에서 {dst}(으)로 옮겨 갔습니다."},
    "segments_pareto_sentence": {
        "en": "The top 10% of buyers bring {top10} of revenue, and the top 20% bring {top20}.",
        "ko": "상위 10% 구매 고객이 매출의 {top10}, 상위 20%가 {top20}를 차지합니다."},
    "segments_life_sentence": {
        "en": "At the end of {period}: {active} active, {new} new and {react} reactivated customers; {risk} at risk and {dormant} dormant; {churned} churned in total ({churned_new} more than at the end of {prev}).",
        "ko": "{period} 말 기준: 활성 {active}명, 신규 {new}명, 복귀 {react}명; 이탈 위험 {risk}명, 휴면 {dormant}명; 누적 이탈 {churned}명 ({prev} 말 대비 {churned_new}명 증가)."},
    "segments_suppression_note": {
        "en": "Groups of fewer than {k} customers are not shown (k-anonymity).",
        "ko": "{k}명 미만인 그룹은 표시하지 않습니다 (k-익명성)."},
})


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------

def segment_label(key: str, cfg, st=None) -> str:
    """Display name of an RFM segment key (a custom rule's ``label`` wins)."""
    st = st or cfg.segmentation
    for rule in st.rfm.segments:
        if rule.segment == key and rule.label:
            return rule.label
    k = f"segments_rfm_{key}"
    return i18n.t(k, cfg.language) if k in i18n.TEXT else key.replace("_", " ")


def state_label(key: str, cfg) -> str:
    return i18n.t(f"segments_state_{key}", cfg.language)


def suppress(n: Any, cfg) -> str:
    """A count for a client-facing table: ``"< k"`` below ``k_anonymity``."""
    k = int(cfg.definitions.k_anonymity)
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return "–"
    n = int(n)
    if 0 < n < k:
        return i18n.t("segments_suppressed", cfg.language, k=k)
    return f"{n:,}"


# --------------------------------------------------------------------------
# RFM
# --------------------------------------------------------------------------

def segment_summary(df: pd.DataFrame, cfg) -> pd.DataFrame:
    """Per RFM segment (rule order, every segment even when empty):
    ``customers``, ``share`` (of buyers), ``revenue``, ``revenue_share``,
    mean ``recency_days``, ``frequency`` and ``monetary``."""
    keys = facts.segment_keys(cfg)
    g = df.groupby("segment").agg(customers=("customer_id", "size"), revenue=("monetary", "sum"),
                                  recency_days=("recency_days", "mean"), frequency=("frequency", "mean"),
                                  monetary=("monetary", "mean"))
    g = g.reindex(keys)
    g["customers"] = g["customers"].fillna(0).astype("int64")
    g["revenue"] = g["revenue"].fillna(0.0)
    n, rev = g["customers"].sum(), g["revenue"].sum()
    g["share"] = g["customers"] / n if n else np.nan
    g["revenue_share"] = g["revenue"] / rev if rev else np.nan
    return g.rename_axis("segment").reset_index()[
        ["segment", "customers", "share", "revenue", "revenue_share", "recency_days", "frequency", "monetary"]]


def segment_counts(ds, cfg, end: dt.date | None = None) -> dict[str, int] | None:
    """Customers per RFM segment at ``end`` (every segment key, 0 when
    empty); ``None`` without orders."""
    if not ds.has("orders"):
        return None
    s = segment_summary(facts.rfm(ds, cfg, end), cfg)
    return {k: int(v) for k, v in zip(s["segment"], s["customers"])}


def transitions(before: pd.Series, after: pd.Series, order: list[str]) -> pd.DataFrame:
    """Counts of customers by (state before, state after): rows ``before``,
    columns ``after``, both in ``order`` + :data:`NONE` (not in the group at
    that end). ``before`` and ``after`` are Series indexed by customer id."""
    j = pd.concat([before.rename("before"), after.rename("after")], axis=1).fillna(NONE)
    keys = [*order, NONE]
    m = pd.crosstab(j["before"], j["after"]).reindex(index=keys, columns=keys, fill_value=0)
    m.loc[NONE, NONE] = 0
    return m.astype("int64")


def rfm_transitions(ds, cfg) -> pd.DataFrame:
    """RFM segment at the comparison period end (rows) × at this period end
    (columns), customers; each end recomputed from the data before it."""
    now, prev = facts.rfm(ds, cfg), facts.rfm(ds, cfg, cfg.period.previous().end)
    return transitions(prev.set_index("customer_id")["segment"], now.set_index("customer_id")["segment"],
                       facts.segment_keys(cfg))


def largest_move(m: pd.DataFrame) -> tuple[str, str, int] | None:
    """The largest off-diagonal cell of a transition matrix between two
    groups (moves from or to :data:`NONE` excluded): ``(from, to, n)``."""
    best = None
    for a in m.index:
        for b in m.columns:
            if a == b or NONE in (a, b):
                continue
            n = int(m.loc[a, b])
            if n and (best is None or n > best[2]):
                best = (a, b, n)
    return best


# --------------------------------------------------------------------------
# Value tiers
# --------------------------------------------------------------------------

def value_tiers(base: pd.DataFrame) -> pd.DataFrame:
    """Revenue deciles of the buyers in ``base`` (column ``monetary``):
    customers ranked by spend (ties by customer id), decile 1 = the top 10%.
    Columns ``decile``, ``customers``, ``revenue``, ``revenue_share``,
    ``cum_share``, ``min_spend``."""
    cols = ["decile", "customers", "revenue", "revenue_share", "cum_share", "min_spend"]
    if base.empty:
        return pd.DataFrame(columns=cols)
    d = base.sort_values(["monetary", "customer_id"], ascending=[False, True], kind="stable").reset_index(drop=True)
    n = len(d)
    d["decile"] = (np.arange(n) * 10 // n) + 1
    g = d.groupby("decile").agg(customers=("customer_id", "size"), revenue=("monetary", "sum"),
                                min_spend=("monetary", "min")).reset_index()
    tot = g["revenue"].sum()
    g["revenue_share"] = g["revenue"] / tot if tot else np.nan
    g["cum_share"] = g["revenue_share"].cumsum()
    return g[cols]


def pareto_curve(base: pd.DataFrame) -> pd.DataFrame:
    """The Pareto (Lorenz-type) curve: for customers ranked by spend,
    ``customer_share`` (x, 0–1) and ``revenue_share`` (cumulative, 0–1),
    starting at (0, 0)."""
    if base.empty or not base["monetary"].sum():
        return pd.DataFrame({"customer_share": [0.0], "revenue_share": [0.0]})
    v = np.sort(base["monetary"].astype(float).to_numpy())[::-1]
    n = len(v)
    return pd.DataFrame({"customer_share": np.r_[0, np.arange(1, n + 1) / n],
                         "revenue_share": np.r_[0, np.cumsum(v) / v.sum()]})


def top_share(base: pd.DataFrame, fraction: float = 0.1) -> float | None:
    """Share of revenue (0–1) from the top ``fraction`` of buyers by spend
    (the top ``ceil(fraction × n)`` customers); ``None`` without revenue."""
    if base.empty:
        return None
    v = np.sort(base["monetary"].astype(float).to_numpy())[::-1]
    tot = v.sum()
    if not tot:
        return None
    return float(v[: math.ceil(fraction * len(v))].sum() / tot)


def top10pct_revenue_share(ds, cfg, end: dt.date | None = None) -> float | None:
    """Revenue share of the top 10% of buyers: numerator, the spend of the
    top ``ceil(n / 10)`` customers by spend; denominator, the spend of all
    ``n`` customers with a paid order in the ``rfm.lookback_days`` days
    before ``end``. Rate 0–1."""
    if not ds.has("orders"):
        return None
    return top_share(facts.rfm(ds, cfg, end), 0.1)


# --------------------------------------------------------------------------
# Lifecycle state
# --------------------------------------------------------------------------

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
    """Per customer signed up before ``end``: ``signup_at``,
    ``days_since_signup``, ``days_silent`` (days from the last activity, or
    sign-up when later, to ``end``) and ``reactivated`` (a return within
    ``reactivated_days`` of ``end`` after at least ``dormant_days`` without
    activity). Aggregated on the engine."""
    lc = cfg.segmentation.lifecycle
    c = ds.table("customers", until=end)
    c = c.select(customer_id=c.customer_id.cast("string"), signup_at=c.signup_at.cast("timestamp"))
    a = facts.activity_days(ds)
    if a is not None:
        a = a.filter(a.day < ts(end))
        days = a.select("customer_id", "day")
        w = ibis.window(group_by=days.customer_id, order_by=days.day)
        days = days.mutate(prev=days.day.lag().over(w))
        gap = (days.day.epoch_seconds() - days.prev.epoch_seconds()) / 86400.0
        days = days.mutate(back=(days.day >= ts(end - dt.timedelta(days=lc.reactivated_days)))
                           & (gap >= lc.dormant_days))
        per = days.group_by("customer_id").aggregate(back=days.back.fill_null(False).cast("int64").max())
        # the last moment (not its day) counts for "days silent"
        last = a.group_by("customer_id").aggregate(last_at=a["last"].max())
        per = per.join(last, "customer_id").select("customer_id", "last_at", "back")
        j = c.left_join(per, "customer_id").select(c.customer_id, c.signup_at, per.last_at, per.back)
    else:
        j = c.mutate(last_at=ibis.null("timestamp"), back=ibis.null("int64"))
    seen = ibis.greatest(j.signup_at, j.last_at.fill_null(j.signup_at))
    j = j.mutate(days_since_signup=days_before(end, j.signup_at), days_silent=days_before(end, seen),
                 reactivated=j.back.fill_null(0) > 0, last_seen=seen)
    df = j.select("customer_id", "signup_at", "last_seen", "days_since_signup", "days_silent", "reactivated").execute()
    return df.sort_values("customer_id", kind="stable").reset_index(drop=True)


def lifecycle_states(ds, cfg, end: dt.date | None = None) -> pd.DataFrame:
    """:func:`customer_activity` at ``end`` with each customer's ``state``
    (:func:`assign_states`). Cached per dataset and end."""
    end = end or cfg.period.end

    def build():
        df = customer_activity(ds, cfg, end)
        df["state"] = assign_states(df["days_since_signup"], df["days_silent"], df["reactivated"],
                                    cfg.segmentation.lifecycle, int(cfg.definitions.churn_inactivity_days))
        return df

    return ds.memo(("life", end), build, cfg)


def lifecycle_counts(ds, cfg, end: dt.date | None = None) -> dict[str, int]:
    """Customers per lifecycle state at ``end`` (every state, 0 when empty)."""
    s = lifecycle_states(ds, cfg, end)["state"].value_counts()
    return {k: int(s.get(k, 0)) for k in LIFECYCLE_STATES}


def lifecycle_flows(ds, cfg) -> pd.DataFrame:
    """Lifecycle state at the comparison period end (rows; :data:`NONE` =
    not yet signed up) × state at this period end (columns), customers."""
    now, prev = lifecycle_states(ds, cfg), lifecycle_states(ds, cfg, cfg.period.previous().end)
    return transitions(prev.set_index("customer_id")["state"], now.set_index("customer_id")["state"],
                       list(LIFECYCLE_STATES))


# --------------------------------------------------------------------------
# Behavioural clusters
# --------------------------------------------------------------------------

FEATURE_KINDS = {"active_days": "count", "sessions": "count", "days_between": "time", "session_minutes": "time",
                 "features_used": "count", "channels": "count", "orders": "count", "spend": "money"}
"""Behaviour features (per customer, over ``clusters.window_days``) and how
they are worded: counts ("more/fewer"), times ("longer/shorter"), money
("higher/lower")."""


def behaviour(ds, cfg, end: dt.date | None = None) -> pd.DataFrame:
    """Per customer active in the ``clusters.window_days`` days before
    ``end``: ``active_days`` (distinct days with activity), ``days_between``
    (mean days between her active days; the window length for a single day),
    and where the data has them ``sessions`` (distinct event sessions),
    ``session_minutes`` (mean summed ``duration_s`` per session, minutes),
    ``features_used`` (distinct ``feature`` values), ``channels`` (distinct
    event channels), ``orders`` and ``spend`` (paid orders and their amount).
    Features that cannot be computed for this client are left out."""
    end = end or cfg.period.end
    W = cfg.segmentation.clusters.window_days
    start = end - dt.timedelta(days=W)
    a = facts.activity_days(ds)
    if a is None:
        return pd.DataFrame(columns=["customer_id"])
    d = in_window(a, "day", start, end).select("customer_id", "day")
    g = d.group_by("customer_id").aggregate(active_days=d.count(), first=d.day.min(), last=d.day.max())
    span = (g["last"].epoch_seconds() - g["first"].epoch_seconds()) / 86400.0
    g = g.mutate(days_between=ibis.ifelse(g.active_days > 1, span / (g.active_days - 1), float(W)))
    df = g.select("customer_id", "active_days", "days_between").execute()
    if ds.has("events") and "customer_id" in ds.table("events").columns:
        e = ds.table("events")
        e = in_window(e.filter(e.customer_id.notnull()), "occurred_at", start, end)
        e = e.mutate(customer_id=e.customer_id.cast("string"))
        aggs = {}
        if "session_id" in e.columns:
            aggs["sessions"] = e.session_id.nunique()
        if "feature" in e.columns:
            aggs["features_used"] = e.feature.nunique()
        if "channel" in e.columns:
            aggs["channels"] = e.channel.nunique()
        if aggs:
            df = df.merge(e.group_by("customer_id").aggregate(**aggs).execute(), on="customer_id", how="left")
        if "session_id" in e.columns and "duration_s" in e.columns:
            s = e.filter(e.session_id.notnull()).group_by(["customer_id", "session_id"]).aggregate(
                sec=e.duration_s.cast("float64").sum())
            m = s.group_by("customer_id").aggregate(session_minutes=(s.sec / 60.0).mean()).execute()
            df = df.merge(m, on="customer_id", how="left")
    o = facts.paid_orders(ds, until=end) if ds.has("orders") else None
    if o is not None:
        o = in_window(o, "ordered_at", start, end)
        og = o.group_by(customer_id=o.customer_id.cast("string")).aggregate(
            orders=o.count(), spend=o.amount.cast("float64").sum()).execute()
        df = df.merge(og, on="customer_id", how="left")
    for c in df.columns:
        if c != "customer_id":
            df[c] = pd.to_numeric(df[c], errors="coerce").astype(float).fillna(0.0)
    keep = ["customer_id"] + [c for c in FEATURE_KINDS if c in df.columns and df[c].nunique() > 1]
    return df[keep].sort_values("customer_id", kind="stable").reset_index(drop=True)


def fit_clusters(features: pd.DataFrame, cs: ClusterSettings) -> dict | None:
    """Cluster customers on their behaviour: ``log1p`` of each feature
    (a feature correlated above 0.9 with an earlier one is left out of the
    model), StandardScaler, then k-means (``n_init=4``) or a Gaussian mixture,
    seeded; ``k`` in ``[k_min, k_max]`` with the best silhouette (on a
    seeded sample of ``silhouette_sample`` customers). With more than
    ``fit_sample`` customers each model is fitted on a seeded sample of
    that many and then assigns every customer.

    Clusters are numbered 1, 2, … by size (largest first; ties by the mean
    of the first feature, then by the model's own order), so the same data
    and seed always give the same labels. Returns ``labels`` (Series by
    customer), ``k``, ``silhouette``, ``profile`` (cluster × feature means
    in original units), ``z`` (cluster × feature means in standard
    deviations from the overall mean) and ``sizes``; ``None`` with fewer
    than ``min_customers`` customers or no usable feature.
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.mixture import GaussianMixture
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    feats = [c for c in features.columns if c != "customer_id"]
    n = len(features)
    if n < cs.min_customers or not feats:
        return None
    L = np.log1p(features[feats].to_numpy(dtype=float))
    Zall = (L - L.mean(axis=0)) / L.std(axis=0)
    # near-duplicate features (sessions vs active days) would count one behaviour twice
    corr = np.corrcoef(L, rowvar=False) if len(feats) > 1 else np.ones((1, 1))
    model_feats = []
    for i in range(len(feats)):
        if all(abs(corr[i, j]) < 0.9 for j in model_feats):
            model_feats.append(i)
    X = features[[feats[i] for i in model_feats]].to_numpy(dtype=float)
    fit_rows = (np.sort(np.random.default_rng(cs.seed).choice(n, cs.fit_sample, replace=False))
                if n > cs.fit_sample else None)
    best = None
    for k in range(cs.k_min, min(cs.k_max, n - 1) + 1):
        model = (KMeans(n_clusters=k, n_init=4, random_state=cs.seed) if cs.method == "kmeans"
                 else GaussianMixture(n_components=k, random_state=cs.seed, n_init=2))
        pipe = make_pipeline(FunctionTransformer(np.log1p), StandardScaler(), model)
        lab = pipe.fit_predict(X) if fit_rows is None else pipe.fit(X[fit_rows]).predict(X)
        if len(set(lab)) < 2:
            continue
        Z = pipe[:-1].transform(X)
        sil = float(silhouette_score(Z, lab, sample_size=min(cs.silhouette_sample, n), random_state=cs.seed))
        if best is None or sil > best[0] + 1e-12:
            best = (sil, k, lab)
    if best is None:
        return None
    sil, k, lab = best
    raw = features[feats].assign(_c=lab)
    sizes = raw.groupby("_c").size()
    first = raw.groupby("_c")[feats[0]].mean()
    order = sorted(sizes.index, key=lambda c: (-sizes[c], -first[c], c))
    remap = {c: i + 1 for i, c in enumerate(order)}
    labels = pd.Series([remap[c] for c in lab], index=features["customer_id"].to_numpy(), name="cluster")
    zf = pd.DataFrame(Zall, columns=feats).assign(cluster=labels.to_numpy())
    profile = features[feats].assign(cluster=labels.to_numpy()).groupby("cluster").mean()
    return {"labels": labels, "k": k, "silhouette": sil, "profile": profile,
            "z": zf.groupby("cluster").mean(), "sizes": labels.value_counts().sort_index()}


def clusters(ds, cfg, end: dt.date | None = None) -> dict | None:
    """:func:`fit_clusters` on :func:`behaviour` at ``end`` (cached)."""
    end = end or cfg.period.end
    return ds.memo(("clusters", end), lambda: fit_clusters(behaviour(ds, cfg, end), cfg.segmentation.clusters), cfg)


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
            kind = FEATURE_KINDS.get(f, "count")
            key = ("segments_high" if v > 0 else "segments_low") + {"count": "", "time": "_time", "money": "_money"}[kind]
            feat = i18n.t(f"segments_feat_{f}", language) if f"segments_feat_{f}" in i18n.TEXT else f
            parts.append(i18n.t(key, language, feature=feat))
        joined = (" and " if language == "en" else ", ").join(parts)
        text = i18n.t("segments_than_average", language, parts=joined)
    return text[:1].upper() + text[1:]


def n_clusters(ds, cfg, end: dt.date | None = None) -> int | None:
    """Number of behavioural clusters chosen at ``end``; ``None`` when there
    are too few active customers to cluster."""
    c = clusters(ds, cfg, end)
    return None if c is None else int(c["k"])


# --------------------------------------------------------------------------
# Experience
# --------------------------------------------------------------------------

def experience(ds, cfg, end: dt.date | None = None) -> pd.DataFrame | None:
    """Per customer with a survey answer or a ticket in the
    ``health.survey_days`` days before ``end``: ``nps_group`` (her latest
    NPS answer: promoter 9–10, passive 7–8, detractor 0–6, or none),
    ``csat`` (mean of her ticket and survey CSAT scores, 1–5, NaN without
    one) and ``tickets`` (tickets opened). ``None`` without surveys and
    tickets."""
    end = end or cfg.period.end
    if not (ds.has("surveys") or ds.has("tickets")):
        return None
    start = end - dt.timedelta(days=cfg.segmentation.health.survey_days)
    frames, csat_parts = [], []
    if ds.has("surveys"):
        s = ds.table("surveys", until=end)
        if "customer_id" in s.columns:
            s = in_window(s.filter(s.customer_id.notnull()), "responded_at", start, end)
            s = s.mutate(customer_id=s.customer_id.cast("string"))
            if "nps" in s.columns:
                sn = s.filter(s.nps.notnull())
                w = ibis.window(group_by=sn.customer_id, order_by=[ibis.desc(sn.responded_at), ibis.desc(sn.response_id)])
                sn = sn.mutate(_rn=ibis.row_number().over(w))
                frames.append(sn.filter(sn._rn == 0).select("customer_id", nps=sn.nps.cast("float64")).execute())
            if "csat" in s.columns:
                csat_parts.append(s.filter(s.csat.notnull()).select("customer_id", score=s.csat.cast("float64")))
            frames.append(s.select("customer_id").distinct().execute())
    tk = None
    if ds.has("tickets"):
        t = in_window(ds.table("tickets", until=end), "created_at", start, end)
        t = t.mutate(customer_id=t.customer_id.cast("string"))
        tk = t.group_by("customer_id").aggregate(tickets=t.count()).execute()
        frames.append(tk[["customer_id"]])
        if "csat" in t.columns:
            csat_parts.append(t.filter(t.csat.notnull()).select("customer_id", score=t.csat.cast("float64")))
    ids = pd.concat(frames, ignore_index=True)[["customer_id"]].drop_duplicates()
    out = ids
    nps = [f for f in frames if "nps" in f.columns]
    out = out.merge(nps[0], on="customer_id", how="left") if nps else out.assign(nps=np.nan)
    if csat_parts:
        u = csat_parts[0] if len(csat_parts) == 1 else ibis.union(*csat_parts, distinct=False)
        cs = u.group_by("customer_id").aggregate(csat=u.score.mean()).execute()
        out = out.merge(cs, on="customer_id", how="left")
    else:
        out["csat"] = np.nan
    out = out.merge(tk, on="customer_id", how="left") if tk is not None else out.assign(tickets=0)
    out["tickets"] = out["tickets"].fillna(0).astype("int64")
    out["nps_group"] = np.select([out["nps"] >= 9, out["nps"] >= 7, out["nps"].notna()],
                                 ["promoter", "passive", "detractor"], "none")
    return out.sort_values("customer_id", kind="stable").reset_index(drop=True)


def experience_groups(df: pd.DataFrame) -> pd.DataFrame:
    """Customers by NPS group × support load (0, 1, 2+ tickets), with their
    mean CSAT (1–5) and share of the customers in ``df``."""
    load = np.select([df["tickets"] >= 2, df["tickets"] == 1], ["2", "1"], "0")
    g = df.assign(load=load).groupby(["nps_group", "load"]).agg(customers=("customer_id", "size"),
                                                               csat=("csat", "mean")).reset_index()
    order = {k: i for i, k in enumerate(["promoter", "passive", "detractor", "none"])}
    g = g.sort_values(["nps_group", "load"], key=lambda s: s.map(order) if s.name == "nps_group" else s)
    g["share"] = g["customers"] / g["customers"].sum()
    return g.reset_index(drop=True)[["nps_group", "load", "customers", "share", "csat"]]


# --------------------------------------------------------------------------
# Period over period, metrics
# --------------------------------------------------------------------------

KINDS = {"rfm_customers": "int", "live_customers": "int", "champions_share": "pct", "at_risk_share": "pct",
         "healthy_share": "pct", "unhealthy_share": "pct", "top10pct_revenue_share": "pct"}


def labels(cfg) -> dict[str, str]:
    """KPI key → label in the client's language."""
    lab = {k: i18n.t(f"segments_{k}", cfg.language) for k in KINDS if k != "rfm_customers"}
    lab["rfm_customers"] = i18n.t("segments_rfm_customers", cfg.language, days=cfg.segmentation.rfm.lookback_days)
    return lab


def changes(ds, cfg) -> list[compare.Change]:
    """This period end against the comparison period end:

    - ``rfm_customers``: buyers in the RFM window (stock; no test);
    - ``live_customers``: customers not churned (stock; no test);
    - ``champions_share``: Champions / buyers (two-proportion z-test);
    - ``at_risk_share``: (At risk + Can't lose) / buyers (z-test; lower is better);
    - ``healthy_share`` and ``unhealthy_share``: of the customers scored by
      :mod:`journeykit.sections.segmentation.health` (z-test);
    - ``top10pct_revenue_share``: see :func:`top10pct_revenue_share` (no test).

    The two ends share most customers, so the z-tests (which assume
    independent samples) are conservative for stocks that barely move.
    """
    from journeykit.sections.segmentation import health

    min_n = int(cfg.definitions.min_sample_size)
    prev_end = cfg.period.previous().end
    out: list[compare.Change] = []
    sc, sc0 = segment_counts(ds, cfg), segment_counts(ds, cfg, prev_end)
    if sc is not None:
        n, n0 = sum(sc.values()), sum(sc0.values())
        out.append(compare.value("rfm_customers", n, n0))
        out.append(compare.rate("champions_share", sc.get("champions", 0), n, sc0.get("champions", 0), n0, min_n=min_n))
        risk = sc.get("at_risk", 0) + sc.get("cant_lose", 0)
        risk0 = sc0.get("at_risk", 0) + sc0.get("cant_lose", 0)
        out.append(compare.rate("at_risk_share", risk, n, risk0, n0, min_n=min_n, higher_is_better=False))
    lc, lc0 = lifecycle_counts(ds, cfg), lifecycle_counts(ds, cfg, prev_end)
    out.append(compare.value("live_customers", sum(v for k, v in lc.items() if k != "churned"),
                             sum(v for k, v in lc0.items() if k != "churned")))
    hb, hb0 = health.band_counts(ds, cfg), health.band_counts(ds, cfg, prev_end)
    n, n0 = sum(hb.values()), sum(hb0.values())
    if n or n0:
        out.append(compare.rate("healthy_share", hb["healthy"], n, hb0["healthy"], n0, min_n=min_n))
        out.append(compare.rate("unhealthy_share", hb["unhealthy"], n, hb0["unhealthy"], n0, min_n=min_n,
                                higher_is_better=False))
    if sc is not None:
        out.append(compare.value("top10pct_revenue_share", top10pct_revenue_share(ds, cfg),
                                 top10pct_revenue_share(ds, cfg, prev_end), higher_is_better=None))
    return out


def metrics(ds, cfg) -> dict:
    """The stable ``metrics.json`` keys (:data:`STABLE_KEYS`), each with
    ``_prev`` (the comparison period end, recomputed from the data before
    it); ``null`` where not computable:

    - ``segment_counts``: customers per RFM segment key;
    - ``health_band_shares``: ``healthy``, ``at_risk``, ``unhealthy`` (0–1,
      of the customers scored);
    - ``lifecycle_counts``: customers per lifecycle state;
    - ``n_clusters``: behavioural clusters chosen;
    - ``top10pct_revenue_share``: 0–1.
    """
    from journeykit.sections.segmentation import health

    prev_end = cfg.period.previous().end
    out: dict[str, Any] = {}
    for suffix, end in (("", cfg.period.end), ("_prev", prev_end)):
        out[f"segment_counts{suffix}"] = segment_counts(ds, cfg, end)
        out[f"health_band_shares{suffix}"] = health.band_shares(ds, cfg, end)
        out[f"lifecycle_counts{suffix}"] = lifecycle_counts(ds, cfg, end)
        out[f"n_clusters{suffix}"] = n_clusters(ds, cfg, end)
        out[f"top10pct_revenue_share{suffix}"] = top10pct_revenue_share(ds, cfg, end)
    return {k: out[k] for key in STABLE_KEYS for k in (key, f"{key}_prev")}


# --------------------------------------------------------------------------
# Generated text
# --------------------------------------------------------------------------

def insights(ds, cfg) -> list[str]:
    """Sentences on this period end: the RFM base and its largest segment,
    the largest move between segments, revenue concentration, and the
    lifecycle states."""
    lang = cfg.language
    st = cfg.segmentation
    per, prev = cfg.period.label(lang), cfg.period.previous().label(lang)
    out: list[str] = []
    if ds.has("orders"):
        df = facts.rfm(ds, cfg)
        if df.empty:
            out.append(i18n.t("segments_no_orders", lang, days=st.rfm.lookback_days))
        else:
            s = segment_summary(df, cfg)
            top = s.sort_values(["customers", "segment"], ascending=[False, True]).iloc[0]
            ch = s.set_index("segment")
            champ = int(ch.loc["champions", "customers"]) if "champions" in ch.index else 0
            champ_rev = ch.loc["champions", "revenue_share"] if "champions" in ch.index else None
            out.append(i18n.t("segments_rfm_sentence", lang, n=report.fmt_int(len(df)), days=st.rfm.lookback_days,
                              top=segment_label(top["segment"], cfg, st), top_share=report.fmt_pct(top["share"]),
                              champ=suppress(champ, cfg), champ_rev=report.fmt_pct(champ_rev)))
            mv = largest_move(rfm_transitions(ds, cfg))
            if mv and mv[2] >= int(cfg.definitions.k_anonymity):
                out.append(i18n.t("segments_move_sentence", lang, prev=prev, n=report.fmt_int(mv[2]),
                                  src=segment_label(mv[0], cfg, st), dst=segment_label(mv[1], cfg, st)))
            out.append(i18n.t("segments_pareto_sentence", lang, top10=report.fmt_pct(top_share(df, 0.1)),
                              top20=report.fmt_pct(top_share(df, 0.2))))
    lc, lc0 = lifecycle_counts(ds, cfg), lifecycle_counts(ds, cfg, cfg.period.previous().end)
    out.append(i18n.t("segments_life_sentence", lang, period=per, prev=prev,
                      **{k: report.fmt_int(lc[s]) for k, s in (("active", "active"), ("new", "new"),
                                                                 ("react", "reactivated"), ("risk", "at_risk"),
                                                                 ("dormant", "dormant"), ("churned", "churned"))},
                      churned_new=report.fmt_int(max(0, lc["churned"] - lc0["churned"]))))
    return out


# --------------------------------------------------------------------------
# Views for the notebook
# --------------------------------------------------------------------------

def kpi_view(ds, cfg, chs=None):
    """The period-over-period KPI table."""
    chs = chs if chs is not None else changes(ds, cfg)
    return report.kpi_table(chs, labels(cfg), KINDS, cfg)


def changes_view(ds, cfg, chs=None):
    """Generated sentences on the changes and on this period end."""
    chs = chs if chs is not None else changes(ds, cfg)
    return report.Narrative(report.describe_changes(chs, labels(cfg), KINDS, cfg) + insights(ds, cfg))


def _col(key: str, cfg, **kw) -> str:
    return i18n.t(f"segments_col_{key}", cfg.language, **kw)


def rfm_view(ds, cfg):
    """RFM segments (table): customers, shares, revenue and the mean R, F,
    M; segments under ``k_anonymity`` customers folded into one row."""
    lang = cfg.language
    st = cfg.segmentation
    df = facts.rfm(ds, cfg)
    if df.empty:
        return report.Note(i18n.t("segments_no_orders", lang, days=st.rfm.lookback_days))
    s = segment_summary(df, cfg)
    s = s[s["customers"] > 0]
    k = int(cfg.definitions.k_anonymity)
    small = s["customers"] < k
    shown = s[~small].copy()
    shown["segment"] = [segment_label(x, cfg, st) for x in shown["segment"]]
    if small.any():
        folded = s[small]
        row = {"segment": i18n.t("segments_small_folded", lang, k=k), "customers": folded["customers"].sum(),
               "share": folded["share"].sum(), "revenue": folded["revenue"].sum(),
               "revenue_share": folded["revenue_share"].sum(), "recency_days": np.nan, "frequency": np.nan,
               "monetary": np.nan}
        shown = pd.concat([shown, pd.DataFrame([row])], ignore_index=True)
    cols = {"segment": ("segment", "text"), "customers": ("customers", "int"), "share": ("share", "pct"),
            "revenue_share": ("revenue_share", "pct"), "recency_days": ("recency", "num"),
            "frequency": ("frequency", "num"), "monetary": ("monetary", "money")}
    out = shown[list(cols)].rename(columns={c: _col(n, cfg) for c, (n, _) in cols.items()})
    return report.table(out, cfg, {_col(n, cfg): kd for _, (n, kd) in cols.items()})


def rfm_chart(ds, cfg):
    """Bars per RFM segment: share of buyers and share of revenue."""
    lang = cfg.language
    st = cfg.segmentation
    df = facts.rfm(ds, cfg)
    if df.empty:
        return report.Note(i18n.t("segments_no_orders", lang, days=st.rfm.lookback_days))
    s = segment_summary(df, cfg)
    fig, ax = plt.subplots(figsize=(8, 4.2))
    y = np.arange(len(s))
    names = [segment_label(x, cfg, st) for x in s["segment"]]
    ax.barh(y - 0.2, s["share"].fillna(0), height=0.4, color=plots.PALETTE[0],
            label=i18n.t("segments_legend_customers", lang))
    ax.barh(y + 0.2, s["revenue_share"].fillna(0), height=0.4, color=plots.PALETTE[1],
            label=i18n.t("segments_legend_revenue", lang))
    ax.set_yticks(y, names)
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
    written "< k" and not coloured by their value."""
    k = int(cfg.definitions.k_anonymity)
    rows = [r for r in m.index if m.loc[r].sum() > 0]
    cols = [c for c in m.columns if m[c].sum() > 0]
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
    """Heatmap of the movement between RFM segments since the comparison period."""
    lang = cfg.language
    st = cfg.segmentation
    if facts.rfm(ds, cfg).empty:
        return report.Note(i18n.t("segments_no_orders", lang, days=st.rfm.lookback_days))
    m = rfm_transitions(ds, cfg)
    names = {k: segment_label(k, cfg, st) for k in m.index}
    per, prev = cfg.period.label(lang), cfg.period.previous().label(lang)
    return transition_heatmap(m, names, i18n.t("segments_chart_moves", lang, prev=prev, period=per), cfg,
                              per, prev)


def lifecycle_view(ds, cfg):
    """Customers per lifecycle state at this and the comparison period end."""
    lang = cfg.language
    lc, lc0 = lifecycle_counts(ds, cfg), lifecycle_counts(ds, cfg, cfg.period.previous().end)
    per, prev = cfg.period.label(lang), cfg.period.previous().label(lang)
    df = pd.DataFrame({_col("state", cfg): [state_label(s, cfg) for s in LIFECYCLE_STATES],
                       per: [suppress(lc[s], cfg) for s in LIFECYCLE_STATES],
                       prev: [suppress(lc0[s], cfg) for s in LIFECYCLE_STATES]})
    return report.table(df, cfg, {per: "numtext", prev: "numtext"})


def lifecycle_flow_chart(ds, cfg):
    """Heatmap of lifecycle state flows since the comparison period end."""
    lang = cfg.language
    m = lifecycle_flows(ds, cfg)
    names = {k: state_label(k, cfg) for k in m.index}
    per, prev = cfg.period.label(lang), cfg.period.previous().label(lang)
    return transition_heatmap(m, names, i18n.t("segments_chart_flows", lang, prev=prev, period=per), cfg, per, prev)


def cluster_view(ds, cfg):
    """Behavioural clusters (table): size, share and the generated profile
    in words; clusters under ``k_anonymity`` customers are not shown."""
    lang = cfg.language
    cs = cfg.segmentation.clusters
    c = clusters(ds, cfg)
    if c is None:
        n = len(behaviour(ds, cfg))
        return report.Note(i18n.t("segments_no_clusters", lang, n=report.fmt_int(n), min=cs.min_customers))
    k = int(cfg.definitions.k_anonymity)
    sizes = c["sizes"]
    rows = [{"cluster": i18n.t("segments_cluster_name", lang, i=i), "customers": int(sizes[i]),
             "share": sizes[i] / sizes.sum(), "profile": describe_cluster(c["z"].loc[i], lang)}
            for i in sizes.index if sizes[i] >= k]
    df = pd.DataFrame(rows)
    names = {"cluster": _col("cluster", cfg), "customers": _col("customers", cfg), "share": _col("share", cfg),
             "profile": _col("profile", cfg)}
    return report.table(df.rename(columns=names), cfg, {names["customers"]: "int", names["share"]: "pct"})


def cluster_sentence(ds, cfg) -> str | None:
    """One sentence on how the clusters were chosen; ``None`` without clusters."""
    c = clusters(ds, cfg)
    if c is None:
        return None
    return i18n.t("segments_clusters_sentence", cfg.language, n=report.fmt_int(len(c["labels"])),
                  days=cfg.segmentation.clusters.window_days, k=c["k"], score=f"{c['silhouette']:.2f}")


def cluster_note(ds, cfg):
    """:func:`cluster_sentence` as a note (``None`` without clusters)."""
    s = cluster_sentence(ds, cfg)
    return None if s is None else report.Note(s)


def cluster_chart(ds, cfg):
    """Heatmap of the cluster profiles in standard deviations from the average."""
    lang = cfg.language
    c = clusters(ds, cfg)
    if c is None:
        return report.Note(i18n.t("segments_no_clusters", lang, n=report.fmt_int(len(behaviour(ds, cfg))),
                                  min=cfg.segmentation.clusters.min_customers))
    z = c["z"]
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


def tiers_view(ds, cfg):
    """Revenue deciles (table): customers, revenue share and cumulative share."""
    lang = cfg.language
    df = facts.rfm(ds, cfg)
    if df.empty:
        return report.Note(i18n.t("segments_no_orders", lang, days=cfg.segmentation.rfm.lookback_days))
    t = value_tiers(df)
    t["decile"] = [i18n.t("segments_decile_n", lang, lo=(d - 1) * 10, hi=d * 10) for d in t["decile"]]
    cols = {"decile": ("decile", "text"), "customers": ("customers", "int"), "revenue": ("revenue", "money"),
            "revenue_share": ("revenue_share", "pct"), "cum_share": ("cum_share", "pct"),
            "min_spend": ("min_spend", "money")}
    out = t[list(cols)].rename(columns={c: _col(n, cfg) for c, (n, _) in cols.items()})
    return report.table(out, cfg, {_col(n, cfg): kd for _, (n, kd) in cols.items()})


def pareto_chart(ds, cfg):
    """The Pareto curve of revenue over buyers ranked by spend."""
    lang = cfg.language
    df = facts.rfm(ds, cfg)
    if df.empty:
        return report.Note(i18n.t("segments_no_orders", lang, days=cfg.segmentation.rfm.lookback_days))
    p = pareto_curve(df)
    fig, ax = plt.subplots(figsize=(6, 3.8))
    ax.plot(p["customer_share"], p["revenue_share"], color=plots.PALETTE[0], linewidth=1.8)
    ax.plot([0, 1], [0, 1], color="#999999", linestyle="--", linewidth=0.8)
    t10 = top_share(df, 0.1)
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


def experience_view(ds, cfg):
    """Experience segments (table): NPS group × support load, customers,
    share and mean CSAT; groups under ``k_anonymity`` are suppressed."""
    lang = cfg.language
    df = experience(ds, cfg)
    if df is None:
        return report.Note(i18n.t("segments_no_experience", lang))
    g = experience_groups(df)
    k = int(cfg.definitions.k_anonymity)
    small = g["customers"] < k
    g["customers_txt"] = [suppress(n, cfg) for n in g["customers"]]
    g.loc[small, "share"] = np.nan
    g.loc[small, "csat"] = np.nan
    g["nps_group"] = [i18n.t(f"segments_nps_{x}", lang) for x in g["nps_group"]]
    g["load"] = [i18n.t(f"segments_load_{x}", lang) for x in g["load"]]
    names = {"nps_group": _col("nps", cfg), "load": _col("load", cfg), "customers_txt": _col("customers", cfg),
             "share": _col("share", cfg), "csat": _col("csat", cfg)}
    out = g[list(names)].rename(columns=names)
    return report.table(out, cfg, {names["customers_txt"]: "numtext", names["share"]: "pct", names["csat"]: "num2"})


def suppression_note(cfg):
    """The note that small groups are not shown."""
    return report.Note(i18n.t("segments_suppression_note", cfg.language, k=int(cfg.definitions.k_anonymity)))


__all__ = ["SECTION", "STABLE_KEYS", "RFM_SEGMENTS", "LIFECYCLE_STATES", "BANDS", "segment_summary", "segment_counts", "transitions", "rfm_transitions", "value_tiers", "pareto_curve",
           "top_share", "top10pct_revenue_share", "assign_states", "customer_activity", "lifecycle_states",
           "lifecycle_counts", "lifecycle_flows", "behaviour", "fit_clusters", "clusters", "describe_cluster",
           "n_clusters", "experience", "experience_groups", "changes", "metrics", "insights"]
