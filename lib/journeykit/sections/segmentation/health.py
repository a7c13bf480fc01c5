"""Customer health score (0–100), its bands, and the playbooks that act on
segments, lifecycle states and bands.

Who is scored
    Every customer who has not churned at the period end (lifecycle state
    new, active, reactivated, at risk or dormant; see
    :func:`journeykit.sections.segmentation.compute.assign_states`). Churned customers are the
    win-back playbook's business, not the health score's.

Components (each 0–1, 1 = healthy), over windows ending at the period end;
weights and windows are client settings (``segmentation.health``):

- ``usage_trend``: active days (:func:`journeykit.sections.retention.compute.activity_days`)
  in the last ``usage_recent_days`` (R) days against the same customer's
  rate over the ``usage_baseline_days`` before them: ``recent / (recent +
  expected)`` where ``expected`` is her baseline active days scaled to R
  days — 0.5 steady, towards 1 rising, 0 stopped. Not computed for a
  customer with under 7 days of baseline (too new to have a trend).
- ``recency``: ``1 − days silent / churn_inactivity_days`` (clipped to 0–1).
- ``engagement``: how established her habit is, relative to the other
  scored customers: the mean of the percentile ranks (0–1) of her active
  days over the last ``usage_recent_days + usage_baseline_days`` days and
  of her paid orders over the RFM window (``rfm.lookback_days``; only the
  first without ``orders``). New customers start low here: in
  customer-success practice they are not healthy until activated.
- ``tickets``: ``1 / (1 + tickets opened in the last tickets_days)``
  (needs ``tickets``).
- ``nps_csat``: the mean of her latest NPS answer / 10 and her mean CSAT
  rescaled ``(csat − 1) / 4``, answers of the last ``survey_days`` days
  (needs ``surveys`` or ``tickets`` with ``csat``; customers who never
  answered have no value).
- ``payment_failures``: ``1 / (1 + failed payment attempts in the last
  payments_days)`` for customers who attempted a payment then (needs
  ``orders`` with ``payment_status``; failures as in
  :mod:`journeykit.sections.purchase.compute`).
- ``subscription``: 1 with a paid subscription running at the period end,
  0.5 with only a trial running, 0 when her last subscription ended in the
  last ``payments_days`` days; no value otherwise (needs ``subscriptions``).
  A ``status`` column is ignored: it is the state at export time, not at
  the period end.

Score = ``100 × Σ wᵢ cᵢ / Σ wᵢ`` over the components that have a value for
the customer: a component whose table the client lacks is dropped for
everyone (and the notebook says so), one a customer has no data for is
dropped for her, and the remaining weights are rescaled to sum to 1.
Bands: **Healthy** at ``healthy_min`` (70) or more, **Unhealthy** below
``unhealthy_below`` (40), **At Risk** in between.
"""

from __future__ import annotations

import datetime as dt

import ibis
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from journeykit.core import i18n
from journeykit.report import plots
from journeykit import report
from journeykit.core.settings import DEFAULT_PLAYBOOKS, PlaybookRule
from journeykit.sections.segmentation import compute as S
from journeykit.data.query import in_window, ts
from journeykit import facts

COMPONENTS = ("usage_trend", "recency", "engagement", "tickets", "nps_csat", "payment_failures", "subscription")
"""Health components, in display order."""

NEEDS = {"usage_trend": None, "recency": None, "engagement": None, "tickets": "tickets", "nps_csat": "surveys",
         "payment_failures": "orders", "subscription": "subscriptions"}
"""The table each component needs (``None``: any activity source)."""

LIVE_STATES = ("new", "active", "reactivated", "at_risk", "dormant")

i18n.register({
    "health_band_healthy": {"en": "Healthy", "ko": "건강"},
    "health_band_at_risk": {"en": "At Risk", "ko": "주의"},
    "health_band_unhealthy": {"en": "Unhealthy", "ko": "위험"},
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
        "en": "{n} customers who have not churned were scored: {healthy} Healthy, {at_risk} At Risk and {unhealthy} Unhealthy (mean score {mean}).",
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
        "ko": "이탈 위험·놓치면 안 될 고객이 매출의 {share}를 차지합니다. 최우선 재방문 유도 대상입니다."},
    "health_next_activation": {
        "en": "{share} of new customers have not paid for an order yet: the activation list is exports/playbook_activation.csv.",
        "ko": "신규 고객의 {share}가 아직 구매하지 않았습니다. 활성화 대상 목록은 exports/playbook_activation.csv입니다."},
    "health_next_concentration": {
        "en": "The top 10% of buyers bring {share} of revenue: protect them with the recommendations playbook and watch their health each month.",
        "ko": "상위 10% 구매 고객이 매출의 {share}를 차지합니다. 개인화 추천으로 관리하고 매월 건강 점수를 확인하세요."},
    "health_next_nothing": {
        "en": "No segment or band stands out this month: run the playbooks as scheduled.",
        "ko": "이번 달에 두드러진 세그먼트나 등급은 없습니다. 계획대로 실행 방안을 진행하세요."},
})


# --------------------------------------------------------------------------
# Components and score
# --------------------------------------------------------------------------

def available_components(ds) -> dict[str, str | None]:
    """Component → ``None`` when it can be computed for this client, else
    the reason key (``"table:tickets"`` or ``"column:orders.payment_status"``)."""
    out: dict[str, str | None] = {"usage_trend": None, "recency": None, "engagement": None}
    out["tickets"] = None if ds.has("tickets") else "table:tickets"
    has_csat = ds.has("tickets") and "csat" in ds.table("tickets").columns
    has_nps = ds.has("surveys") and "customer_id" in ds.table("surveys").columns
    out["nps_csat"] = None if (has_nps or has_csat) else "table:surveys"
    if not ds.has("orders"):
        out["payment_failures"] = "table:orders"
    else:
        out["payment_failures"] = None if facts.has_payment_status(ds) else "column:orders.payment_status"
    out["subscription"] = None if ds.has("subscriptions") else "table:subscriptions"
    return out


def _ratio(recent: pd.Series, expected: pd.Series) -> pd.Series:
    tot = recent + expected
    return (recent / tot.where(tot > 0)).where(tot > 0, 0.0)


def components(ds, cfg, end: dt.date | None = None) -> pd.DataFrame:
    """Per customer not churned at ``end``: ``customer_id``, ``state``,
    ``days_silent`` and each available component (0–1, NaN where the
    customer has no value); see the module docstring."""
    end = end or cfg.period.end
    st = cfg.segmentation
    hs = st.health
    life = S.lifecycle_states(ds, cfg, end)
    df = life[life["state"].isin(LIVE_STATES)][["customer_id", "state", "signup_at", "days_since_signup",
                                                "days_silent"]].copy()
    avail = available_components(ds)
    churn_days = int(cfg.definitions.churn_inactivity_days)
    df["recency"] = (1 - df["days_silent"] / churn_days).clip(0, 1)
    # usage trend
    R, B = hs.usage_recent_days, hs.usage_baseline_days
    a = facts.activity_days(ds)
    if a is not None:
        d = in_window(a, "day", end - dt.timedelta(days=R + B), end).select("customer_id", "day")
        cut = ts(end - dt.timedelta(days=R))
        g = d.group_by("customer_id").aggregate(recent=(d.day >= cut).cast("int64").sum(),
                                                base=(d.day < cut).cast("int64").sum()).execute()
        df = df.merge(g, on="customer_id", how="left")
        df[["recent", "base"]] = df[["recent", "base"]].fillna(0)
        # baseline days the customer could have been active: from sign-up (or the window start) to the cut
        base_days = (df["days_since_signup"] - R).clip(0, B)
        expected = df["base"] * R / base_days.where(base_days > 0)
        df["usage_trend"] = _ratio(df["recent"], expected.fillna(0)).where(base_days >= 7)
        ranks = [(df["recent"] + df["base"]).rank(pct=True)]
        df = df.drop(columns=["recent", "base"])
    else:
        df["usage_trend"] = np.nan
        ranks = []
    if ds.has("orders"):
        f = df[["customer_id"]].merge(facts.rfm(ds, cfg, end)[["customer_id", "frequency"]], on="customer_id", how="left")
        ranks.append(f["frequency"].fillna(0).rank(pct=True).set_axis(df.index))
    df["engagement"] = pd.concat(ranks, axis=1).mean(axis=1) if ranks else np.nan
    # tickets
    if avail["tickets"] is None:
        t = in_window(ds.table("tickets", until=end), "created_at", end - dt.timedelta(days=hs.tickets_days), end)
        tk = t.group_by(customer_id=t.customer_id.cast("string")).aggregate(n=t.count()).execute()
        df = df.merge(tk, on="customer_id", how="left")
        df["tickets"] = 1 / (1 + df.pop("n").fillna(0))
    # NPS / CSAT
    if avail["nps_csat"] is None:
        ex = S.experience(ds, cfg, end)
        ex = ex[["customer_id", "nps", "csat"]] if ex is not None else pd.DataFrame(columns=["customer_id", "nps", "csat"])
        df = df.merge(ex, on="customer_id", how="left")
        parts = pd.concat([df["nps"] / 10, (df["csat"] - 1) / 4], axis=1)
        df["nps_csat"] = parts.mean(axis=1, skipna=True).clip(0, 1)
        df = df.drop(columns=["nps", "csat"])
    # payment failures
    if avail["payment_failures"] is None:
        o = facts.attempts(ds)
        o = in_window(o.filter(o.ordered_at < ts(end)), "ordered_at", end - dt.timedelta(days=hs.payments_days), end)
        o = o.filter(o._paid | o._failed)
        pf = o.group_by(customer_id=o.customer_id.cast("string")).aggregate(
            failed=o._failed.cast("int64").sum()).execute()
        df = df.merge(pf, on="customer_id", how="left")
        df["payment_failures"] = 1 / (1 + df.pop("failed"))  # NaN: no attempt in the window
    # subscription
    if avail["subscription"] is None:
        sub = subscription_state(ds, cfg, end)
        df = df.merge(sub[["customer_id", "subscription"]], on="customer_id", how="left")
    for c in COMPONENTS:
        if c not in df.columns:
            df[c] = np.nan
    return df.drop(columns=["signup_at"]).reset_index(drop=True)


def subscription_state(ds, cfg, end: dt.date) -> pd.DataFrame:
    """Per customer with a subscription before ``end``: ``subscription``
    (the component: 1 paid running, 0.5 trial running, 0 ended in the last
    ``payments_days``, NaN otherwise) and ``next_renewal`` (the next
    ``started_at + k × subscription_renewal_days`` after ``end`` of her
    running paid subscription, NaT without one)."""
    hs = cfg.segmentation.health
    cycle = int(cfg.definitions.subscription_renewal_days)
    s = ds.table("subscriptions", until=end)
    plan = s.plan.cast("string").lower() if "plan" in s.columns else ibis.literal("")
    ended = s.ended_at if "ended_at" in s.columns else ibis.null("timestamp")
    s = s.select(customer_id=s.customer_id.cast("string"), started_at=s.started_at, ended_at=ended,
                 trial=plan.fill_null("") == "trial")
    df = s.execute()
    if df.empty:
        return pd.DataFrame(columns=["customer_id", "subscription", "next_renewal"])
    end_ts = pd.Timestamp(end)
    running = df["ended_at"].isna()
    recent_end = df["ended_at"].notna() & (df["ended_at"] >= end_ts - pd.Timedelta(days=hs.payments_days))
    df["value"] = np.select([running & ~df["trial"], running & df["trial"], recent_end], [1.0, 0.5, 0.0], np.nan)
    age = (end_ts - df["started_at"]).dt.total_seconds() / 86400
    k = np.floor(age / cycle) + 1
    df["renewal"] = (df["started_at"] + pd.to_timedelta(k * cycle, unit="D")).where(running & ~df["trial"])
    g = df.groupby("customer_id").agg(subscription=("value", "max"), next_renewal=("renewal", "min")).reset_index()
    return g


def score_frame(comp: pd.DataFrame, weights: dict[str, float], used: list[str],
                healthy_min: float, unhealthy_below: float) -> pd.DataFrame:
    """Add ``score`` (0–100), ``band`` and one ``pts_<component>`` column per
    used component (its points of the score: ``100 × w c / Σ w`` over the
    customer's available components; they add up to the score)."""
    out = comp.copy()
    W = pd.Series({c: float(weights[c]) for c in used})
    vals = out[used].astype(float)
    w_avail = vals.notna().mul(W, axis=1)
    denom = w_avail.sum(axis=1)
    pts = vals.fillna(0).mul(W, axis=1).div(denom.where(denom > 0), axis=0) * 100
    for c in used:
        out[f"pts_{c}"] = pts[c]
    out["score"] = pts.sum(axis=1, min_count=1).where(denom > 0)
    out["band"] = np.select([out["score"] >= healthy_min, out["score"] < unhealthy_below],
                            ["healthy", "unhealthy"], "at_risk")
    out.loc[out["score"].isna(), "band"] = None
    return out


def used_components(ds, cfg) -> list[str]:
    """Components with a weight above 0 whose data this client has."""
    w = cfg.segmentation.health.weights.model_dump()
    return [c for c, why in available_components(ds).items() if why is None and w[c] > 0]


def health(ds, cfg, end: dt.date | None = None) -> pd.DataFrame:
    """Per scored customer at ``end``: components, ``score``, ``band`` and
    ``pts_*`` (:func:`score_frame`). Cached per dataset and end."""
    end = end or cfg.period.end

    def build():
        hs = cfg.segmentation.health
        comp = components(ds, cfg, end)
        return score_frame(comp, hs.weights.model_dump(), used_components(ds, cfg), hs.healthy_min,
                           hs.unhealthy_below)

    return ds.memo(("health", end), build, cfg)


def band_counts(ds, cfg, end: dt.date | None = None) -> dict[str, int]:
    """Scored customers per band at ``end`` (every band)."""
    b = health(ds, cfg, end)["band"].value_counts()
    return {k: int(b.get(k, 0)) for k in S.BANDS}


def band_shares(ds, cfg, end: dt.date | None = None) -> dict[str, float] | None:
    """Share of scored customers per band at ``end``: numerator, customers in
    the band; denominator, customers not churned at ``end`` with a score.
    0–1; ``None`` when nobody is scored."""
    c = band_counts(ds, cfg, end)
    n = sum(c.values())
    return {k: v / n for k, v in c.items()} if n else None


def contributions(h: pd.DataFrame, used: list[str]) -> pd.DataFrame:
    """Mean points of each component per band (rows: bands; columns: used
    components; the row sums are the band's mean score)."""
    cols = [f"pts_{c}" for c in used]
    g = h.dropna(subset=["band"]).groupby("band")[cols].mean().reindex(list(S.BANDS))
    g.columns = used
    return g


def band_trend(ds, cfg) -> pd.DataFrame:
    """Band shares at each of the last ``health.trend_months`` month ends:
    columns ``month`` (timestamp of the month's first day), ``healthy``,
    ``at_risk``, ``unhealthy`` (0–1)."""
    rows = []
    for p in cfg.period.trailing(cfg.segmentation.health.trend_months):
        sh = band_shares(ds, cfg, p.end) or {}
        rows.append({"month": pd.Timestamp(p.start), **{b: sh.get(b, np.nan) for b in S.BANDS}})
    return pd.DataFrame(rows)


def by_segment(ds, cfg) -> pd.DataFrame:
    """Scored customers by RFM segment (rows, plus customers without a paid
    order in the RFM window) × band: ``customers`` and band shares."""
    h = health(ds, cfg)
    seg = facts.rfm(ds, cfg)[["customer_id", "segment"]] if ds.has("orders") else pd.DataFrame(columns=["customer_id", "segment"])
    j = h.merge(seg, on="customer_id", how="left")
    j["segment"] = j["segment"].fillna(S.NONE)
    t = pd.crosstab(j["segment"], j["band"]).reindex(columns=list(S.BANDS), fill_value=0)
    order = [k for k in [*facts.segment_keys(cfg), S.NONE] if k in t.index]
    t = t.loc[order]
    out = pd.DataFrame({"segment": t.index, "customers": t.sum(axis=1).to_numpy()})
    for b in S.BANDS:
        out[b] = (t[b] / t.sum(axis=1)).to_numpy()
    out["mean_score"] = j.groupby("segment")["score"].mean().reindex(t.index).to_numpy()
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------
# Playbooks
# --------------------------------------------------------------------------

def targets(ds, cfg, end: dt.date | None = None) -> pd.DataFrame:
    """Every customer signed up before ``end`` with what playbooks select
    on: ``state``, ``segment`` (RFM, NaN outside the window), ``band`` and
    ``score`` (NaN when churned), ``buyer`` (any paid order before ``end``),
    ``days_since_signup``, ``days_silent``, ``last_seen`` and
    ``next_renewal``. Cached per dataset and end."""
    end = end or cfg.period.end
    return ds.memo(("targets", end), lambda: _targets(ds, cfg, end), cfg)


def _targets(ds, cfg, end: dt.date) -> pd.DataFrame:
    life = S.lifecycle_states(ds, cfg, end)
    df = life[["customer_id", "state", "days_since_signup", "days_silent", "last_seen"]].copy()
    if ds.has("orders"):
        df = df.merge(facts.rfm(ds, cfg, end)[["customer_id", "segment"]], on="customer_id", how="left")
        o = facts.paid_orders(ds, until=end) if ds.has("orders") else None
        buyers = o.select(customer_id=o.customer_id.cast("string")).distinct().execute()["customer_id"]
        df["buyer"] = df["customer_id"].isin(buyers.to_numpy())
    else:
        df["segment"] = np.nan
        df["buyer"] = False
    df = df.merge(health(ds, cfg, end)[["customer_id", "score", "band"]], on="customer_id", how="left")
    if ds.has("subscriptions"):
        df = df.merge(subscription_state(ds, cfg, end)[["customer_id", "next_renewal"]], on="customer_id", how="left")
    else:
        df["next_renewal"] = pd.NaT
    return df


def select(df: pd.DataFrame, rule: PlaybookRule, end: dt.date) -> pd.Series:
    """The customers of :func:`targets` a playbook rule selects (a boolean
    mask): every selector set in the rule must hold."""
    m = pd.Series(True, index=df.index)
    if rule.rfm:
        m &= df["segment"].isin(rule.rfm)
    if rule.bands:
        m &= df["band"].isin(rule.bands)
    if rule.states:
        m &= df["state"].isin(rule.states)
    if rule.buyer is not None:
        m &= df["buyer"].astype(bool) == rule.buyer
    if rule.signup_within_days is not None:
        m &= df["days_since_signup"] < rule.signup_within_days
    if rule.renewal_within_days is not None:
        nr = pd.to_datetime(df["next_renewal"])
        m &= nr.notna() & (nr < pd.Timestamp(end) + pd.Timedelta(days=rule.renewal_within_days))
    if rule.inactive_max_days is not None:
        m &= df["days_silent"] < rule.inactive_max_days
    return m


def action_label(rule: PlaybookRule, cfg) -> str:
    if rule.label:
        return rule.label
    k = f"health_action_{rule.action}"
    return i18n.t(k, cfg.language) if k in i18n.TEXT else rule.action.replace("_", " ")


def timing_label(rule: PlaybookRule, cfg) -> str:
    if rule.timing:
        return rule.timing
    k = f"health_timing_{rule.action}"
    if k in i18n.TEXT and _is_default(rule):
        return i18n.t(k, cfg.language)
    if rule.timing_days is not None:
        return i18n.t("health_timing_days", cfg.language, days=rule.timing_days)
    return "–"


def _is_default(rule: PlaybookRule) -> bool:
    return rule in DEFAULT_PLAYBOOKS


def target_label(rule: PlaybookRule, cfg) -> str:
    """Who a playbook targets, in words."""
    lang = cfg.language
    st = cfg.segmentation
    parts = []
    if rule.states:
        parts.append(i18n.t("health_target_states", lang, v=", ".join(S.state_label(s, cfg) for s in rule.states)))
    if rule.rfm:
        parts.append(i18n.t("health_target_rfm", lang, v=", ".join(S.segment_label(s, cfg, st) for s in rule.rfm)))
    if rule.bands:
        parts.append(i18n.t("health_target_bands", lang,
                            v=", ".join(i18n.t(f"health_band_{b}", lang) for b in rule.bands)))
    if rule.buyer is not None:
        parts.append(i18n.t("health_target_buyer" if rule.buyer else "health_target_no_buyer", lang))
    if rule.signup_within_days:
        parts.append(i18n.t("health_target_signup", lang, d=rule.signup_within_days))
    if rule.renewal_within_days:
        parts.append(i18n.t("health_target_renewal", lang, d=rule.renewal_within_days))
    if rule.inactive_max_days:
        parts.append(i18n.t("health_target_inactive", lang, d=rule.inactive_max_days))
    return "; ".join(parts) or i18n.t("health_target_all", lang)


def playbooks(ds, cfg) -> pd.DataFrame:
    """One row per playbook of the client's settings: ``action``,
    ``label``, ``target`` (in words), ``timing`` and ``customers`` (selected
    at the period end)."""
    st = cfg.segmentation
    df = targets(ds, cfg)
    rows = [{"action": r.action, "label": action_label(r, cfg), "target": target_label(r, cfg),
             "timing": timing_label(r, cfg), "customers": int(select(df, r, cfg.period.end).sum())}
            for r in st.playbooks]
    return pd.DataFrame(rows, columns=["action", "label", "target", "timing", "customers"])


def playbook_summary(ds, cfg) -> list[dict]:
    """Per playbook: ``action``, ``label``, ``timing``, ``customers`` it
    selects at the period end and ``revenue_12m``, those customers' paid
    spend over the RFM look-back window (the revenue at stake; 0 for
    customers with none). Counts below ``k_anonymity`` are kept here (the
    summary suppresses them for display)."""
    st = cfg.segmentation
    df = targets(ds, cfg)
    spend = facts.rfm(ds, cfg)[["customer_id", "monetary"]] if ds.has("orders") else None
    if spend is not None:
        df = df.merge(spend, on="customer_id", how="left")
    out = []
    for r in st.playbooks:
        sel = select(df, r, cfg.period.end)
        revenue = float(df.loc[sel, "monetary"].fillna(0).sum()) if spend is not None else None
        out.append({"action": r.action, "label": action_label(r, cfg), "timing": timing_label(r, cfg),
                    "customers": int(sel.sum()), "revenue_12m": revenue})
    return out


EXPORT_COLUMNS = ["customer_id", "action", "lifecycle_state", "rfm_segment", "health_band", "health_score",
                  "last_seen", "next_renewal"]


def target_list(ds, cfg, rule: PlaybookRule) -> pd.DataFrame:
    """The customers one playbook selects, as the export's columns
    (:data:`EXPORT_COLUMNS`; real customer ids — pseudonymized by
    :func:`journeykit.report.export`), ordered by health score (lowest
    first), then id."""
    df = targets(ds, cfg)
    d = df[select(df, rule, cfg.period.end)]
    out = pd.DataFrame({"customer_id": d["customer_id"], "action": rule.action, "lifecycle_state": d["state"],
                        "rfm_segment": d["segment"], "health_band": d["band"],
                        "health_score": d["score"].round(1), "last_seen": pd.to_datetime(d["last_seen"]).dt.date,
                        "next_renewal": pd.to_datetime(d["next_renewal"]).dt.date})
    return out.sort_values(["health_score", "customer_id"], na_position="last", kind="stable").reset_index(drop=True)


def export_playbooks(ds, cfg) -> list:
    """Write ``exports/playbook_<action>.csv`` for every playbook (through
    :func:`journeykit.report.export`: pseudonymized ids, no personal data).
    Returns the paths written (empty outside a report run)."""
    paths = []
    for rule in cfg.segmentation.playbooks:
        p = report.export(f"playbook_{rule.action}", target_list(ds, cfg, rule), cfg)
        if p is not None:
            paths.append(p)
    return paths


# --------------------------------------------------------------------------
# Generated text
# --------------------------------------------------------------------------

def insights(ds, cfg) -> list[str]:
    """Sentences on the health bands and the component that separates
    Unhealthy from Healthy customers most."""
    lang = cfg.language
    h = health(ds, cfg)
    if h["score"].notna().sum() == 0:
        return [i18n.t("health_none", lang, period=cfg.period.label(lang))]
    sh = band_shares(ds, cfg)
    out = [i18n.t("health_sentence", lang, n=report.fmt_int(h["score"].notna().sum()),
                  mean=report.fmt_num(h["score"].mean()), **{b: report.fmt_pct(sh[b]) for b in S.BANDS})]
    used = used_components(ds, cfg)
    c = contributions(h, used)
    if c.loc[["healthy", "unhealthy"]].notna().all(axis=None):
        gap = (c.loc["healthy"] - c.loc["unhealthy"]).sort_values(ascending=False)
        out.append(i18n.t("health_weakest", lang, component=i18n.t(f"health_comp_{gap.index[0]}", lang),
                          gap=report.fmt_num(gap.iloc[0])))
    return out


def next_steps(ds, cfg, chs=None) -> list[str]:
    """"What to look at next", most urgent first. Rules (each independent):

    1. the Unhealthy share rose significantly, or (otherwise) is at least
       15% of the scored customers (with ``min_sample_size`` scored);
    2. the RFM segments At risk and Can't lose hold at least 15% of revenue;
    3. at least half of the new customers (``min_sample_size`` or more)
       have no paid order yet;
    4. the top 10% of buyers bring at least half of the revenue.

    One sentence that nothing stands out when none fires.
    """
    lang = cfg.language
    n_min = int(cfg.definitions.min_sample_size)
    chs = chs if chs is not None else S.changes(ds, cfg)
    ch = {c.key: c for c in chs}
    out: list[str] = []
    h = health(ds, cfg)
    n = int(h["score"].notna().sum())
    un = ch.get("unhealthy_share")
    if un is not None and un.significant and un.direction == "up":
        out.append(i18n.t("health_next_unhealthy_up", lang, delta=report.fmt_delta(un, "pct", cfg)))
    elif n >= n_min:
        k = int((h["band"] == "unhealthy").sum())
        if k / n >= 0.15:
            out.append(i18n.t("health_next_unhealthy", lang, n=report.fmt_int(k), share=report.fmt_pct(k / n)))
    if ds.has("orders"):
        r = facts.rfm(ds, cfg)
        if len(r) >= n_min and r["monetary"].sum() > 0:
            share = r.loc[r["segment"].isin(["at_risk", "cant_lose"]), "monetary"].sum() / r["monetary"].sum()
            if share >= 0.15:
                out.append(i18n.t("health_next_cant_lose", lang, share=report.fmt_pct(share)))
        t = targets(ds, cfg)
        new = t[t["state"] == "new"]
        if len(new) >= n_min and (~new["buyer"]).mean() >= 0.5:
            out.append(i18n.t("health_next_activation", lang, share=report.fmt_pct((~new["buyer"]).mean())))
        t10 = S.top_share(r, 0.1)
        if t10 is not None and len(r) >= n_min and t10 >= 0.5:
            out.append(i18n.t("health_next_concentration", lang, share=report.fmt_pct(t10)))
    if not out:
        out.append(i18n.t("health_next_nothing", lang))
    return out


# --------------------------------------------------------------------------
# Views for the notebook
# --------------------------------------------------------------------------

def components_view(ds, cfg):
    """The components, their weights as set and as used, and the share of
    scored customers with a value; dropped components say which table they
    need."""
    lang = cfg.language
    w = cfg.segmentation.health.weights.model_dump()
    avail = available_components(ds)
    used = used_components(ds, cfg)
    h = health(ds, cfg)
    tot = sum(w[c] for c in used)
    rows = []
    for c in COMPONENTS:
        why = avail[c]
        if why is None:
            status = i18n.t("health_used", lang)
        elif why.startswith("table:"):
            status = i18n.t("health_dropped", lang, table=i18n.table_name(why[6:], lang))
        else:
            tbl, col = why[7:].split(".")
            status = i18n.t("health_dropped_column", lang, table=i18n.table_name(tbl, lang), column=col)
        rows.append({"component": i18n.t(f"health_comp_{c}", lang), "weight": w[c],
                     "effective": w[c] / tot if c in used and tot else np.nan,
                     "coverage": h[c].notna().mean() if c in used and len(h) else np.nan, "status": status})
    names = {"component": "health_col_component", "weight": "health_col_weight", "effective": "health_col_effective",
             "coverage": "health_col_coverage", "status": "health_col_status"}
    df = pd.DataFrame(rows).rename(columns={k: i18n.t(v, lang) for k, v in names.items()})
    return report.table(df, cfg, {i18n.t(names["weight"], lang): "num2", i18n.t(names["effective"], lang): "pct",
                                  i18n.t(names["coverage"], lang): "pct"})


def dropped_note(ds, cfg):
    """A note naming the components dropped for this client, or ``None``."""
    lang = cfg.language
    avail = available_components(ds)
    dropped = [c for c, why in avail.items() if why is not None]
    if not dropped:
        return None
    items = ", ".join(i18n.t(f"health_comp_{c}", lang) for c in dropped)
    return report.Note(i18n.t("health_dropped_note", lang, items=items), "warn")


def bands_view(ds, cfg):
    """Customers, share and mean score per band, this and the comparison period end."""
    lang = cfg.language
    h, h0 = health(ds, cfg), health(ds, cfg, cfg.period.previous().end)
    per, prev = cfg.period.label(lang), cfg.period.previous().label(lang)
    rows = []
    for b in S.BANDS:
        n, n0 = int((h["band"] == b).sum()), int((h0["band"] == b).sum())
        rows.append({"band": i18n.t(f"health_band_{b}", lang), "n": S.suppress(n, cfg),
                     "share": n / h["band"].notna().sum() if h["band"].notna().any() else np.nan,
                     "mean": h.loc[h["band"] == b, "score"].mean() if n >= cfg.definitions.k_anonymity else np.nan,
                     "share0": n0 / h0["band"].notna().sum() if h0["band"].notna().any() else np.nan})
    cols = {"band": i18n.t("health_col_band", lang), "n": i18n.t("health_col_customers", lang),
            "share": f"{i18n.t('health_col_share', lang)} ({per})", "mean": i18n.t("health_col_mean", lang),
            "share0": f"{i18n.t('health_col_share', lang)} ({prev})"}
    df = pd.DataFrame(rows).rename(columns=cols)
    return report.table(df, cfg, {cols["n"]: "numtext", cols["share"]: "pct", cols["mean"]: "num",
                                  cols["share0"]: "pct"})


def distribution_chart(ds, cfg):
    """Histogram of the health score, coloured by band, thresholds marked."""
    lang = cfg.language
    hs = cfg.segmentation.health
    h = health(ds, cfg).dropna(subset=["score"])
    if h.empty:
        return report.Note(i18n.t("health_none", lang, period=cfg.period.label(lang)))
    fig, ax = plt.subplots(figsize=(8, 3.4))
    bins = np.arange(0, 102.5, 2.5)
    colors = {"healthy": plots.PALETTE[2], "at_risk": plots.PALETTE[6], "unhealthy": plots.PALETTE[3]}
    ax.hist([h.loc[h["band"] == b, "score"] for b in S.BANDS], bins=bins, stacked=True,
            color=[colors[b] for b in S.BANDS], label=[i18n.t(f"health_band_{b}", lang) for b in S.BANDS])
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
    """Stacked bars of the band shares at each recent month end."""
    lang = cfg.language
    df = band_trend(ds, cfg)
    fig, ax = plt.subplots(figsize=(8, 3.4))
    x = [f"{m:%y-%m}" for m in df["month"]]
    bottom = np.zeros(len(df))
    colors = {"healthy": plots.PALETTE[2], "at_risk": plots.PALETTE[6], "unhealthy": plots.PALETTE[3]}
    for b in S.BANDS:
        v = df[b].fillna(0).to_numpy()
        bars = ax.bar(x, v, bottom=bottom, color=colors[b], label=i18n.t(f"health_band_{b}", lang))
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
    points each component contributes."""
    lang = cfg.language
    used = used_components(ds, cfg)
    c = contributions(health(ds, cfg), used).dropna(how="all")
    if c.empty:
        return report.Note(i18n.t("health_none", lang, period=cfg.period.label(lang)))
    fig, ax = plt.subplots(figsize=(8, 2.6))
    names = [i18n.t(f"health_band_{b}", lang) for b in c.index]
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


def by_segment_view(ds, cfg):
    """Band shares per RFM segment (table); segments under ``k_anonymity``
    scored customers are not shown."""
    lang = cfg.language
    st = cfg.segmentation
    df = by_segment(ds, cfg)
    df = df[df["customers"] >= int(cfg.definitions.k_anonymity)].copy()
    df["segment"] = [S.segment_label(s, cfg, st) for s in df["segment"]]
    cols = {"segment": i18n.t("health_col_segment", lang), "customers": i18n.t("health_col_customers", lang),
            **{b: i18n.t(f"health_band_{b}", lang) for b in S.BANDS}, "mean_score": i18n.t("health_col_mean", lang)}
    out = df[list(cols)].rename(columns=cols)
    return report.table(out, cfg, {cols["customers"]: "int", **{cols[b]: "pct" for b in S.BANDS},
                                   cols["mean_score"]: "num"})


def playbooks_view(ds, cfg):
    """The playbooks (table): action, who, when, customers (suppressed under
    ``k_anonymity``) and the export file."""
    lang = cfg.language
    p = playbooks(ds, cfg)
    df = pd.DataFrame({i18n.t("health_col_action", lang): p["label"], i18n.t("health_col_target", lang): p["target"],
                       i18n.t("health_col_timing", lang): p["timing"],
                       i18n.t("health_col_customers", lang): [S.suppress(n, cfg) for n in p["customers"]],
                       i18n.t("health_col_export", lang): [f"playbook_{a}.csv" for a in p["action"]]})
    return report.table(df, cfg, {i18n.t("health_col_customers", lang): "numtext"})


def playbook_note(ds, cfg):
    """The note on the playbooks and their exports (written here when the
    report is being rendered)."""
    lang = cfg.language
    paths = export_playbooks(ds, cfg)
    text = i18n.t("health_playbook_note", lang, k=int(cfg.definitions.k_anonymity)) + " " + (
        i18n.t("health_exported", lang, n=len(paths)) if paths else i18n.t("health_not_exported", lang))
    return report.Note(text)


def next_steps_view(ds, cfg, chs=None):
    """:func:`next_steps` as a paragraph list."""
    return report.Narrative(next_steps(ds, cfg, chs))


def insights_view(ds, cfg):
    """:func:`insights` as a paragraph list."""
    return report.Narrative(insights(ds, cfg))


# --------------------------------------------------------------------------
# Validation against what happened next
# --------------------------------------------------------------------------

def churn_by_band(h: pd.DataFrame, left_at: pd.Series, end: dt.date, days: int = 90) -> pd.DataFrame:
    """Per band: scored customers still present at ``end`` (``left_at``
    missing or not before ``end``) and the share of them whose ``left_at``
    falls in the ``days`` days after ``end``. ``left_at`` is a Series
    indexed by customer id (e.g. the demo generator's truth)."""
    e = pd.Timestamp(end)
    la = pd.to_datetime(h["customer_id"].map(left_at))
    present = la.isna() | (la >= e)
    left = la.notna() & (la >= e) & (la < e + pd.Timedelta(days=days))
    d = pd.DataFrame({"band": h["band"], "present": present, "left": left})[present]
    g = d.groupby("band").agg(customers=("left", "size"), left=("left", "sum")).reindex(list(S.BANDS))
    g["rate"] = g["left"] / g["customers"]
    return g


__all__ = ["COMPONENTS", "available_components", "components", "subscription_state", "score_frame",
           "used_components", "health", "band_counts", "band_shares", "contributions", "band_trend", "by_segment",
           "targets", "select", "playbooks", "target_list", "export_playbooks", "insights", "next_steps",
           "churn_by_band"]
