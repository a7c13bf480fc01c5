"""Prediction: who is about to leave, who would recommend us, who would buy more.

Three models, each validated on a time-based holdout before it scores
anyone:

- **churn**: of the customers *live* at a cutoff ``c`` (any activity in the
  ``lookback_days`` before it; default ``definitions.churn_inactivity_days``),
  those with no activity in ``[c, c + H)``. Activity is
  :func:`journeykit.sections.retention.compute.activity` (events with a customer id
  and orders); with ``prediction.churn_label: purchase`` the base and the
  label use purchases only.
- **promoter**: of the customers who answered an NPS survey in
  ``[c, c + H)``, those whose last answer in that window was ≥
  ``promoter_score`` (9); the model then scores the live customers who did
  not answer recently.
- **upsell**: of the live customers who had bought before ``c``, those whose
  paid spend in ``[c, c + H)`` exceeds ``(1 + upsell_uplift)`` × their
  baseline (their average paid spend per ``H`` days over the
  ``upsell_baseline_days`` before ``c``, measured from their first order and
  over at least ``H`` days), or who start a subscription with a higher
  monthly amount than they had at ``c`` (a plan upgrade).

``H`` is ``prediction.horizon_days``. Features use only rows *before* the
cutoff; every feature builder reports the latest timestamp it read, and
:func:`check_no_leakage` refuses a feature table that saw the cutoff or
later. Paid orders are :func:`journeykit.sections.purchase.compute.attempts` rows
with a successful payment.

Backtest (period end ``E``): train on features at ``E − 2H`` and labels in
``[E − 2H, E − H)``; evaluate on features at ``E − H`` and labels in
``[E − H, E)`` — the most recent complete horizon. Then refit on that
window and score the customers live at ``E``. The headline model is a
gradient-boosting classifier (scikit-learn ``HistGradientBoostingClassifier``);
a logistic regression is the baseline. Both weight the classes to balance
them, and their probabilities are then corrected back to the training base
rate (the prior-shift correction of Saerens, Latinne & Decaestecker 2002),
so expected counts and the Brier score mean what they say.

Client settings live under ``prediction:`` in the client file and are
typed in :class:`journeykit.core.settings.PredictionSettings` (``cfg.prediction``).
"""

from __future__ import annotations

import dataclasses
import functools
import datetime as dt
import math
import re
from collections.abc import Callable
from typing import Any

import ibis
import numpy as np
import pandas as pd

from journeykit.core import i18n
from journeykit import report
from journeykit.core.errors import JourneykitError
from journeykit.core.settings import PredictionSettings
from journeykit.data.query import ts
from journeykit.sections import registry
from journeykit import facts

SECTION = "70_prediction"

TARGETS = ("churn", "promoter", "upsell")

STABLE_KEYS = registry.get("70_prediction").stable_keys
"""Top-level ``metrics.json`` keys of the section; each holds :data:`MODEL_KEYS`."""

MODEL_KEYS = registry.PREDICTION_MODEL_KEYS
"""The stable keys of each model's block in ``metrics.json``."""


# --------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------

i18n.register({
    "predict_churn": {"en": "Churn", "ko": "이탈"},
    "predict_promoter": {"en": "Promoter", "ko": "추천 고객"},
    "predict_upsell": {"en": "Upsell", "ko": "추가 구매"},
    "predict_col_model": {"en": "Model", "ko": "모델"},
    "predict_col_status": {"en": "Status", "ko": "상태"},
    "predict_col_auc": {"en": "ROC AUC", "ko": "ROC AUC"},
    "predict_col_baseline_auc": {"en": "Baseline AUC", "ko": "기준 모델 AUC"},
    "predict_col_pr_auc": {"en": "PR AUC", "ko": "PR AUC"},
    "predict_col_brier": {"en": "Brier score", "ko": "브라이어 점수"},
    "predict_col_base_rate": {"en": "Base rate", "ko": "기준 비율"},
    "predict_col_lift": {"en": "Top-decile lift", "ko": "상위 10% 리프트"},
    "predict_col_n_train": {"en": "Training customers", "ko": "학습 고객 수"},
    "predict_col_n_test": {"en": "Test customers", "ko": "검증 고객 수"},
    "predict_col_decile": {"en": "Decile", "ko": "십분위"},
    "predict_col_customers": {"en": "Customers", "ko": "고객 수"},
    "predict_col_positives": {"en": "Actual positives", "ko": "실제 해당 고객"},
    "predict_col_rate": {"en": "Actual rate", "ko": "실제 비율"},
    "predict_col_predicted": {"en": "Predicted rate", "ko": "예측 비율"},
    "predict_col_lift_d": {"en": "Lift", "ko": "리프트"},
    "predict_col_gains": {"en": "Cumulative capture", "ko": "누적 포착률"},
    "predict_col_band": {"en": "Risk band", "ko": "위험 구간"},
    "predict_col_band_likelihood": {"en": "Likelihood band", "ko": "가능성 구간"},
    "predict_no_lists": {"en": "No target list: no model is available for this client.",
                         "ko": "사용 가능한 모델이 없어 대상 목록이 없습니다."},
    "predict_col_expected": {"en": "Expected", "ko": "예상 인원"},
    "predict_col_revenue_at_risk": {"en": "Revenue at risk (12 months)", "ko": "위험 매출 (12개월)"},
    "predict_col_driver": {"en": "Main driver", "ko": "주요 요인"},
    "predict_col_share_top": {"en": "Share of top-risk customers", "ko": "고위험 고객 중 비율"},
    "predict_col_feature": {"en": "Feature", "ko": "특성"},
    "predict_col_importance": {"en": "AUC lost when shuffled", "ko": "섞었을 때 AUC 감소"},
    "predict_status_ok": {"en": "validated", "ko": "검증 완료"},
    "predict_status_not_available": {"en": "not available", "ko": "사용 불가"},
    "predict_band_low": {"en": "low", "ko": "낮음"},
    "predict_band_medium": {"en": "medium", "ko": "중간"},
    "predict_band_high": {"en": "high", "ko": "높음"},
    "predict_model_gbm": {"en": "gradient boosting", "ko": "그래디언트 부스팅"},
    "predict_model_logistic": {"en": "logistic regression", "ko": "로지스틱 회귀"},
    # reasons a model is not available
    "predict_reason_table": {"en": "needs the {table} table", "ko": "{table} 테이블이 필요합니다"},
    "predict_reason_positives": {
        "en": "too few cases to learn from: {pos} positive and {neg} negative customers in the {window} window (at least {need} of each needed)",
        "ko": "학습할 사례가 부족합니다: {window} 기간의 해당 고객 {pos}명, 비해당 고객 {neg}명 (각각 {need}명 이상 필요)"},
    "predict_window_train": {"en": "training", "ko": "학습"},
    "predict_window_test": {"en": "test", "ko": "검증"},
    "predict_reason_history": {
        "en": "the data do not cover two horizons of {h} days before the period end (from {start})",
        "ko": "기간 종료 전 {h}일씩 두 구간을 덮을 만큼 데이터가 없습니다 ({start}부터 필요)"},
    "predict_not_available": {"en": "{model}: not available — {reason}.", "ko": "{model}: 사용 불가 — {reason}."},
    # generated sentences
    "predict_sentence_model": {
        "en": "{model}: trained on {n_train} customers at {train_cutoff} and tested on the {n_test} customers of {test_cutoff}, whose outcome over the next {h} days is known. The model ranks a random positive above a random negative {auc} of the time (ROC AUC; baseline {base_auc}); the 10% it ranks highest hold {lift}× the average rate and {capture} of all positives.",
        "ko": "{model}: {train_cutoff} 기준 고객 {n_train}명으로 학습하고, 이후 {h}일의 결과를 알고 있는 {test_cutoff} 기준 고객 {n_test}명으로 검증했습니다. 무작위로 고른 해당 고객을 비해당 고객보다 높게 평가하는 비율은 {auc}입니다 (ROC AUC, 기준 모델 {base_auc}). 상위 10%에는 평균의 {lift}배 비율로 해당 고객이 모여 있으며 전체 해당 고객의 {capture}를 포착합니다."},
    "predict_sentence_sampled": {
        "en": "With {n_train} customers in the training window, each model was fitted on a random sample of {n_fit} with the same share of positives; every customer of the test window was scored.",
        "ko": "학습 기간 고객이 {n_train}명이어서 각 모델은 해당 고객 비율을 유지한 무작위 표본 {n_fit}명으로 학습했고, 검증 기간의 고객은 모두 평가했습니다."},
    "predict_sentence_calibration": {
        "en": "Predicted probabilities are close to what happened: on the test window the model expected {expected} and {actual} occurred (Brier score {brier}).",
        "ko": "예측 확률이 실제와 가깝습니다: 검증 기간에 모델은 {expected}명을 예상했고 실제로는 {actual}명이었습니다 (브라이어 점수 {brier})."},
    "predict_sentence_calibration_off": {
        "en": "Predicted probabilities are off on the test window: the model expected {expected} and {actual} occurred (Brier score {brier}); use the ranking rather than the probabilities.",
        "ko": "검증 기간의 예측 확률이 실제와 차이가 있습니다: 모델은 {expected}명을 예상했으나 실제로는 {actual}명이었습니다 (브라이어 점수 {brier}). 확률보다 순위를 활용하세요."},
    "predict_sentence_weak": {
        "en": "{model}: the model barely beats chance (ROC AUC {auc}); treat its lists as a starting point, not a forecast.",
        "ko": "{model}: 모델이 무작위보다 크게 낫지 않습니다 (ROC AUC {auc}). 목록은 예측이라기보다 출발점으로 활용하세요."},
    "predict_sentence_churn_now": {
        "en": "Of the {n} customers active at the end of {period}, the model expects {expected} ({rate}) to show no activity in the next {h} days; they account for {revenue} of the last 12 months' revenue. {high} customers are in the high-risk band.",
        "ko": "{period} 말 활성 고객 {n}명 중 {expected}명({rate})이 향후 {h}일 동안 활동하지 않을 것으로 예상되며, 이들의 최근 12개월 매출 {revenue}가 위험에 있습니다. 고위험 구간 고객은 {high}명입니다."},
    "predict_sentence_promoter_now": {
        "en": "Of the {n} active customers who have not answered a survey in the last {h} days, the model expects {expected} ({rate}) to be promoters; the {top} most likely are in the promoter list.",
        "ko": "최근 {h}일 동안 설문에 응답하지 않은 활성 고객 {n}명 중 {expected}명({rate})이 추천 고객일 것으로 예상됩니다. 가능성이 가장 높은 {top}명을 추천 고객 목록에 담았습니다."},
    "predict_sentence_upsell_now": {
        "en": "Of the {n} active buyers, the model expects {expected} ({rate}) to spend more than usual (or upgrade) in the next {h} days; the {top} most likely are in the upsell list.",
        "ko": "활성 구매 고객 {n}명 중 {expected}명({rate})이 향후 {h}일 동안 평소보다 더 구매(또는 업그레이드)할 것으로 예상됩니다. 가능성이 가장 높은 {top}명을 추가 구매 목록에 담았습니다."},
    "predict_sentence_drivers": {
        "en": "Among the {n} highest-risk customers, the most common reasons are: {drivers}.",
        "ko": "위험이 가장 높은 고객 {n}명에서 가장 흔한 요인: {drivers}."},
    "predict_exported": {"en": "Target list written: {file} ({n} customers, pseudonymized ids).",
                         "ko": "대상 목록 저장: {file} (고객 {n}명, 가명 ID)."},
    "predict_export_skipped": {"en": "Target list of {n} customers prepared (written to exports/ when the report is rendered).",
                               "ko": "대상 고객 {n}명 목록 준비 완료 (보고서 생성 시 exports/에 저장)."},
    "predict_chart_validation": {"en": "{model}: validation on the last {h} days", "ko": "{model}: 최근 {h}일 검증"},
    "predict_chart_calibration": {"en": "Calibration", "ko": "보정 곡선"},
    "predict_chart_gains": {"en": "Cumulative gains", "ko": "누적 이득"},
    "predict_axis_predicted": {"en": "Predicted probability", "ko": "예측 확률"},
    "predict_axis_observed": {"en": "Observed rate", "ko": "실제 비율"},
    "predict_axis_contacted": {"en": "Share of customers contacted (highest score first)", "ko": "연락한 고객 비율 (점수 높은 순)"},
    "predict_axis_captured": {"en": "Share of positives captured", "ko": "포착한 해당 고객 비율"},
    "predict_legend_random": {"en": "random order", "ko": "무작위 순서"},
    "predict_chart_importance": {"en": "{model}: what the model relies on", "ko": "{model}: 모델이 주로 보는 특성"},
    "predict_axis_importance": {"en": "ROC AUC lost when the feature is shuffled", "ko": "특성을 섞었을 때 ROC AUC 감소"},
    # what to look at next
    "predict_next_churn_driver": {
        "en": "Start with the {n} high-risk customers in the churn list: for most of them the main reason is \"{driver}\", which points to the first action to test.",
        "ko": "이탈 목록의 고위험 고객 {n}명부터 시작하세요: 대부분의 주요 요인이 \"{driver}\"이며, 먼저 시험할 조치를 알려 줍니다."},
    "predict_next_revenue": {
        "en": "Customers likely to churn carry {revenue} of the last 12 months' revenue: a win-back offer to the high band costs little against that.",
        "ko": "이탈 가능성이 높은 고객의 최근 12개월 매출은 {revenue}입니다: 고위험 구간에 대한 재활성화 혜택은 이에 비해 비용이 작습니다."},
    "predict_next_promoter": {
        "en": "Ask the {n} likeliest promoters for a review or a referral: they have not been surveyed recently.",
        "ko": "추천 가능성이 가장 높은 {n}명에게 리뷰나 추천을 요청하세요: 최근 설문을 받지 않은 고객입니다."},
    "predict_next_upsell": {
        "en": "Offer an upgrade or a bundle to the {n} customers of the upsell list first.",
        "ko": "추가 구매 목록의 고객 {n}명에게 먼저 업그레이드나 묶음 상품을 제안하세요."},
    "predict_next_weak": {
        "en": "The {model} model is weak (ROC AUC {auc}): more history or another data source (events, tickets, surveys) would help it.",
        "ko": "{model} 모델의 성능이 낮습니다 (ROC AUC {auc}): 더 긴 이력이나 다른 데이터(이벤트, 문의, 설문)가 도움이 됩니다."},
    "predict_next_missing": {
        "en": "The {model} model needs more data: {reason}.",
        "ko": "{model} 모델에는 더 많은 데이터가 필요합니다: {reason}."},
    # drivers in words
    "predict_driver_recency_days": {"en": "no activity for {v:.0f} days", "ko": "{v:.0f}일째 활동 없음"},
    "predict_driver_usage_trend": {"en": "activity falling ({v:+.1f} active days per 4 weeks)", "ko": "활동 감소 (4주당 활동일 {v:+.1f}일)"},
    "predict_driver_active_days_28": {"en": "few active days in the last 4 weeks ({v:.0f})", "ko": "최근 4주 활동일이 적음 ({v:.0f}일)"},
    "predict_driver_active_days_365": {"en": "few active days in the last year ({v:.0f})", "ko": "최근 1년 활동일이 적음 ({v:.0f}일)"},
    "predict_driver_session_interval_days": {"en": "long gaps between visits ({v:.0f} days)", "ko": "방문 간격이 긺 ({v:.0f}일)"},
    "predict_driver_tenure_days": {"en": "customer for {v:.0f} days", "ko": "가입 후 {v:.0f}일"},
    "predict_driver_frequency": {"en": "{v:.0f} paid orders so far", "ko": "누적 결제 주문 {v:.0f}건"},
    "predict_driver_monetary": {"en": "average order value of {v:,.0f}", "ko": "평균 주문 금액 {v:,.0f}"},
    "predict_driver_spend_90": {"en": "spend in the last 90 days: {v:,.0f}", "ko": "최근 90일 구매액 {v:,.0f}"},
    "predict_driver_spend_365": {"en": "spend in the last year: {v:,.0f}", "ko": "최근 1년 구매액 {v:,.0f}"},
    "predict_driver_purchase_recency_days": {"en": "no purchase for {v:.0f} days", "ko": "{v:.0f}일째 구매 없음"},
    "predict_driver_payment_failures_180": {"en": "{v:.0f} failed payments in 6 months", "ko": "6개월간 결제 실패 {v:.0f}건"},
    "predict_driver_discount_share": {"en": "buys mostly with discount codes ({p})", "ko": "주로 할인 코드로 구매 ({p})"},
    "predict_driver_sessions_90": {"en": "{v:.0f} sessions in the last 90 days", "ko": "최근 90일 세션 {v:.0f}회"},
    "predict_driver_feature_breadth_90": {"en": "uses few features ({v:.0f})", "ko": "사용하는 기능이 적음 ({v:.0f}개)"},
    "predict_driver_feature_uses_90": {"en": "{v:.0f} feature uses in 90 days", "ko": "90일간 기능 사용 {v:.0f}회"},
    "predict_driver_pricing_views_90": {"en": "{v:.0f} pricing-page views in 90 days", "ko": "90일간 가격 페이지 조회 {v:.0f}회"},
    "predict_driver_tickets_90": {"en": "{v:.0f} support tickets in the last 90 days", "ko": "최근 90일 문의 {v:.0f}건"},
    "predict_driver_tickets_365": {"en": "{v:.0f} support tickets in the last year", "ko": "최근 1년 문의 {v:.0f}건"},
    "predict_driver_ticket_category": {"en": "{v:.0f} {category} tickets in the last year", "ko": "최근 1년 {category} 문의 {v:.0f}건"},
    "predict_driver_ticket_csat": {"en": "low support satisfaction ({v:.1f} of 5)", "ko": "낮은 지원 만족도 (5점 중 {v:.1f})"},
    "predict_driver_last_nps": {"en": "last NPS answer {v:.0f}", "ko": "최근 NPS 응답 {v:.0f}점"},
    "predict_driver_mean_nps": {"en": "average NPS answer {v:.1f}", "ko": "평균 NPS 응답 {v:.1f}점"},
    "predict_driver_responses": {"en": "{v:.0f} survey answers", "ko": "설문 응답 {v:.0f}건"},
    "predict_driver_sub_active": {"en": "subscription status", "ko": "구독 상태"},
    "predict_driver_sub_mrr": {"en": "subscription amount {v:,.0f} a month", "ko": "월 구독 금액 {v:,.0f}"},
    "predict_driver_sub_trial": {"en": "on a trial", "ko": "체험 중"},
    "predict_driver_message_open_rate_90": {"en": "opens few messages ({p})", "ko": "메시지 열람이 적음 ({p})"},
    "predict_driver_channel": {"en": "acquired through {category}", "ko": "{category} 채널로 유입"},
    "predict_driver_device": {"en": "uses mainly {category}", "ko": "주로 {category} 사용"},
    "predict_driver_other": {"en": "{feature}", "ko": "{feature}"},
})


def _label(target: str, cfg) -> str:
    return i18n.t(f"predict_{target}", cfg.language)


# --------------------------------------------------------------------------
# Features: one builder per source, each reporting the latest row it read
# --------------------------------------------------------------------------

class LeakageError(JourneykitError):
    """A feature was computed from rows at or after its cutoff."""


@dataclasses.dataclass
class FeatureBlock:
    """Per-customer features from one source.

    ``frame`` is indexed by ``customer_id`` (strings); ``max_seen`` is the
    latest timestamp among the rows the builder read (``None`` when it
    read none); ``categorical`` lists the columns holding categories.
    """

    name: str
    frame: pd.DataFrame
    max_seen: pd.Timestamp | None
    categorical: tuple[str, ...] = ()


def _days_before(cutoff: dt.date, col):
    """Days from a timestamp column to the cutoff (fractional)."""
    return (ts(cutoff).epoch_seconds() - col.epoch_seconds()) / 86400.0


def _block(name: str, df: pd.DataFrame, categorical: tuple[str, ...] = ()) -> FeatureBlock:
    seen = df.pop("_max_seen") if "_max_seen" in df.columns else pd.Series(dtype="datetime64[ns]")
    m = pd.to_datetime(seen).max() if len(seen) else None
    df = df.assign(customer_id=df["customer_id"].astype(str)).set_index("customer_id")
    return FeatureBlock(name, df, None if m is None or pd.isna(m) else pd.Timestamp(m), categorical)


def activity_features(ds, cutoff: dt.date, by: str = "activity") -> FeatureBlock | None:
    """Activity before ``cutoff`` (:func:`journeykit.sections.retention.compute.activity`),
    per customer:

    - ``recency_days``: days from the last activity to the cutoff;
    - ``active_days_28``: distinct active days in the 28 days before the cutoff;
    - ``usage_trend``: ``active_days_28`` minus the average active days per
      28 days over the 56 days before those (days 29–84 before the cutoff);
      negative = falling usage; active days per 4 weeks;
    - ``active_days_365``: distinct active days in the 365 days before the cutoff;
    - ``session_interval_days``: mean days between consecutive active days
      in the 365 days before the cutoff (``null`` with fewer than two).
    """
    d = facts.activity_days(ds, by)
    if d is None:
        return None
    d = d.filter(d.day < ts(cutoff))
    back = _days_before(cutoff, d.day)
    g = d.group_by("customer_id").aggregate(
        _max_seen=d.last.max(),
        recency_days=_days_before(cutoff, d.last.max()),
        active_days_28=d.count(where=back <= 28),
        _prior=d.count(where=(back > 28) & (back <= 84)),
        active_days_365=d.count(where=back <= 365),
        _first365=d.day.min(where=back <= 365),
        _last365=d.day.max(where=back <= 365),
    )
    df = g.execute()
    span = (pd.to_datetime(df["_last365"]) - pd.to_datetime(df["_first365"])).dt.total_seconds() / 86400
    df["usage_trend"] = df["active_days_28"] - df["_prior"] / 2.0
    df["session_interval_days"] = np.where(df["active_days_365"] >= 2, span / (df["active_days_365"] - 1).clip(lower=1),
                                           np.nan)
    df = df.drop(columns=["_prior", "_first365", "_last365"])
    return _block("activity", df)


def order_features(ds, cutoff: dt.date) -> FeatureBlock | None:
    """Orders before ``cutoff``, per customer (paid = a successful payment,
    :func:`journeykit.sections.purchase.compute.attempts`):

    - ``frequency``: paid orders; count;
    - ``monetary``: mean amount of the paid orders; currency;
    - ``spend_90`` / ``spend_365``: paid amount in the 90 / 365 days before the cutoff; currency;
    - ``purchase_recency_days``: days from the last paid order to the cutoff;
    - ``payment_failures_180``: failed payment attempts in the 180 days before the cutoff;
    - ``discount_share``: paid orders with a discount code / paid orders (0–1;
      ``null`` without the column).
    """
    if not ds.has("orders"):
        return None
    o = facts.attempts(ds)
    o = o.filter(o.ordered_at < ts(cutoff))
    back = _days_before(cutoff, o.ordered_at)
    has_code = "discount_code" in o.columns
    code = (o.discount_code.cast("string").strip().fill_null("") != "") if has_code else ibis.literal(False)
    g = o.group_by(o.customer_id.cast("string").name("customer_id")).aggregate(
        _max_seen=o.ordered_at.max(),
        frequency=o.count(where=o._paid),
        monetary=o.amount.mean(where=o._paid),
        spend_90=o.amount.sum(where=o._paid & (back <= 90)),
        spend_365=o.amount.sum(where=o._paid & (back <= 365)),
        purchase_recency_days=_days_before(cutoff, o.ordered_at.max(where=o._paid)),
        payment_failures_180=o.count(where=o._failed & (back <= 180)),
        _coded=o.count(where=o._paid & code),
    )
    df = g.execute()
    df[["spend_90", "spend_365"]] = df[["spend_90", "spend_365"]].fillna(0.0)
    df["discount_share"] = (df["_coded"] / df["frequency"].where(df["frequency"] > 0)) if has_code else np.nan
    return _block("orders", df.drop(columns=["_coded"]))


def event_features(ds, cutoff: dt.date) -> FeatureBlock | None:
    """Events with a customer id before ``cutoff``, per customer, over the 90
    days before it: ``sessions_90`` (distinct ``session_id``; distinct active
    days without the column), ``feature_breadth_90`` (distinct ``feature``
    values of ``feature_use`` events), ``feature_uses_90`` (``feature_use``
    events) and ``pricing_views_90`` (``pricing_view`` events); counts."""
    e = facts.customer_events(ds)
    if e is None:
        return None
    e = e.filter(e.occurred_at < ts(cutoff))
    e = e.filter(_days_before(cutoff, e.occurred_at) <= 90)
    sess = e.session_id if "session_id" in e.columns else e.occurred_at.truncate("D").cast("string")
    is_feat = e.event_type == "feature_use"
    feat = e.feature if "feature" in e.columns else ibis.null("string")
    g = e.group_by(e.customer_id.cast("string").name("customer_id")).aggregate(
        _max_seen=e.occurred_at.max(),
        sessions_90=sess.nunique(),
        feature_breadth_90=feat.nunique(where=is_feat),
        feature_uses_90=e.count(where=is_feat),
        pricing_views_90=e.count(where=e.event_type == "pricing_view"),
    )
    return _block("events", g.execute())


def device_features(ds, cutoff: dt.date) -> FeatureBlock | None:
    """``device``: the device of most of a customer's orders and events
    before ``cutoff`` (ties: alphabetical); a category."""
    parts = []
    if ds.has("orders") and "device" in ds.table("orders").columns:
        o = ds.table("orders")
        parts.append(o.select(customer_id=o.customer_id.cast("string"), at=o.ordered_at, device=o.device.cast("string")))
    e = facts.customer_events(ds)
    if e is not None and "device" in e.columns:
        parts.append(e.select(customer_id=e.customer_id.cast("string"), at=e.occurred_at, device=e.device.cast("string")))
    if not parts:
        return None
    u = parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=False)
    u = u.filter((u.at < ts(cutoff)) & u.device.notnull())
    c = u.group_by(["customer_id", "device"]).aggregate(n=u.count(), _max_seen=u.at.max())
    w = ibis.window(group_by=c.customer_id, order_by=[ibis.desc(c.n), c.device])
    r = c.mutate(rk=ibis.row_number().over(w))
    seen = c.aggregate(m=c._max_seen.max()).execute()["m"].iloc[0]
    df = r.filter(r.rk == 0).select("customer_id", "device").execute()
    df["_max_seen"] = seen
    return _block("device", df, ("device",))


def ticket_features(ds, cutoff: dt.date, categories: tuple[str, ...] | None = None) -> FeatureBlock | None:
    """Support tickets opened before ``cutoff``, per customer:
    ``tickets_90`` / ``tickets_365`` (opened in the 90 / 365 days before it),
    ``tickets_cat_<category>`` (opened in the 365 days before it, one column
    per category), and ``ticket_csat`` (mean CSAT, 1–5, of tickets *resolved*
    before the cutoff: a score given later is not known at the cutoff)."""
    if not ds.has("tickets"):
        return None
    t = ds.table("tickets", until=cutoff)  # also masks resolved_at at or after the cutoff
    back = _days_before(cutoff, t.created_at)
    aggs: dict[str, Any] = dict(
        _max_seen=ibis.greatest(t.created_at.max(), t.resolved_at.max().fill_null(t.created_at.max()))
        if "resolved_at" in t.columns else t.created_at.max(),
        tickets_90=t.count(where=back <= 90),
        tickets_365=t.count(where=back <= 365),
    )
    if "csat" in t.columns and "resolved_at" in t.columns:
        aggs["ticket_csat"] = t.csat.cast("float64").mean(where=t.resolved_at.notnull())
    if "category" in t.columns:
        if categories is None:
            categories = tuple(sorted(str(c) for c in t.select(c=t.category.cast("string").fill_null("other"))
                                      .distinct().execute()["c"]))
        cat = t.category.cast("string").fill_null("other")
        for c in categories:
            aggs[f"tickets_cat_{_slug(c)}"] = t.count(where=(cat == c) & (back <= 365))
    g = t.group_by(t.customer_id.cast("string").name("customer_id")).aggregate(**aggs)
    return _block("tickets", g.execute())


def survey_features(ds, cutoff: dt.date) -> FeatureBlock | None:
    """Survey answers before ``cutoff`` with a customer id, per customer:
    ``last_nps`` (the latest answer, 0–10), ``mean_nps`` and ``responses``
    (answers with an NPS score)."""
    if not ds.has("surveys") or "customer_id" not in ds.table("surveys").columns:
        return None
    s = ds.table("surveys", until=cutoff)
    s = s.filter(s.customer_id.notnull() & s.nps.notnull())
    w = ibis.window(group_by=s.customer_id, order_by=ibis.desc(s.responded_at))
    s = s.mutate(rk=ibis.row_number().over(w))
    g = s.group_by(s.customer_id.cast("string").name("customer_id")).aggregate(
        _max_seen=s.responded_at.max(),
        last_nps=s.nps.cast("float64").max(where=s.rk == 0),
        mean_nps=s.nps.cast("float64").mean(),
        responses=s.count(),
    )
    return _block("surveys", g.execute())


def subscription_features(ds, cutoff: dt.date) -> FeatureBlock | None:
    """Subscriptions at ``cutoff``, per customer: ``sub_active`` (1 when a
    subscription started before the cutoff and had not ended by it),
    ``sub_mrr`` (monthly amount of those running; 0 when none) and
    ``sub_trial`` (1 when one of them is a trial plan)."""
    if not ds.has("subscriptions"):
        return None
    s = ds.table("subscriptions", until=cutoff)  # ended_at at or after the cutoff is masked: still running
    running = s.ended_at.isnull() if "ended_at" in s.columns else ibis.literal(True)
    mrr = s.mrr.cast("float64").fill_null(0.0) if "mrr" in s.columns else ibis.literal(0.0)
    trial = s.plan.cast("string").lower().contains("trial").fill_null(False) if "plan" in s.columns else ibis.literal(False)
    seen = ibis.greatest(s.started_at.max(), s.ended_at.max().fill_null(s.started_at.max())) \
        if "ended_at" in s.columns else s.started_at.max()
    g = s.group_by(s.customer_id.cast("string").name("customer_id")).aggregate(
        _max_seen=seen,
        sub_active=running.any().cast("int64"),
        sub_mrr=mrr.sum(where=running),
        sub_trial=(running & trial).any().cast("int64"),
    )
    df = g.execute()
    df["sub_mrr"] = df["sub_mrr"].fillna(0.0)
    return _block("subscriptions", df)


def message_features(ds, cutoff: dt.date) -> FeatureBlock | None:
    """``message_open_rate_90``: CRM messages sent in the 90 days before
    ``cutoff`` that were opened before it / messages sent (0–1; needs
    ``opened_at``)."""
    if not ds.has("messages") or "opened_at" not in ds.table("messages").columns:
        return None
    m = ds.table("messages", until=cutoff)  # opened_at at or after the cutoff is masked
    m = m.filter(_days_before(cutoff, m.sent_at) <= 90)
    g = m.group_by(m.customer_id.cast("string").name("customer_id")).aggregate(
        _max_seen=ibis.greatest(m.sent_at.max(), m.opened_at.max().fill_null(m.sent_at.max())),
        message_open_rate_90=m.opened_at.notnull().cast("float64").mean(),
    )
    return _block("messages", g.execute())


def customer_features(ds, cutoff: dt.date) -> FeatureBlock | None:
    """Customers who signed up before ``cutoff``: ``tenure_days`` (days from
    sign-up to the cutoff) and ``channel`` (acquisition channel, a category;
    absent without the column)."""
    c = ds.table("customers", until=cutoff)
    cols = dict(customer_id=c.customer_id.cast("string"), tenure_days=_days_before(cutoff, c.signup_at),
                _max_seen=c.signup_at)
    cat: tuple[str, ...] = ()
    if "acquisition_channel" in c.columns:
        cols["channel"] = c.acquisition_channel.cast("string")
        cat = ("channel",)
    df = c.select(**cols).execute()
    df["_max_seen"] = pd.to_datetime(df["_max_seen"])
    return _block("customers", df, cat)


BUILDERS: tuple[Callable, ...] = (customer_features, activity_features, order_features, event_features,
                                  device_features, ticket_features, survey_features, subscription_features,
                                  message_features)
"""Every feature builder; a builder whose table is missing returns ``None``."""


def _slug(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(text).lower()).strip("_") or "x"


def check_no_leakage(blocks: list[FeatureBlock], cutoff: dt.date) -> None:
    """Fail loudly when a feature block read a row at or after ``cutoff``.

    Raises
    ------
    LeakageError
        Naming each block and the latest timestamp it read.
    """
    bound = pd.Timestamp(cutoff)
    bad = [b for b in blocks if b.max_seen is not None and b.max_seen >= bound]
    if bad:
        what = ", ".join(f"{b.name} (read a row at {b.max_seen})" for b in bad)
        raise LeakageError(f"features computed from data at or after the cutoff {cutoff}: {what}",
                           fix="build features from ds.table(name, until=cutoff) or filter rows before the cutoff")


def feature_blocks(ds, cutoff: dt.date, st: PredictionSettings | None = None) -> list[FeatureBlock]:
    """Every available feature block at ``cutoff``, checked for leakage."""
    by = (st.churn_label if st else "activity")
    blocks = []
    for b in BUILDERS:
        blk = b(ds, cutoff, by) if b is activity_features else b(ds, cutoff)
        if blk is not None:
            blocks.append(blk)
    check_no_leakage(blocks, cutoff)
    return blocks


def assemble(blocks: list[FeatureBlock]) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Join the blocks on ``customer_id`` (customers of the first block and
    any other). Counts and amounts missing for a customer are 0 (she had
    none); means, recencies and scores stay missing (the models handle them).
    Returns the frame and its categorical columns."""
    frames = [b.frame for b in blocks]
    if frames:
        # Align on integer codes of the ids rather than on the id strings:
        # on 800 k customers pandas' outer join of nine string indexes took
        # 8 s per cutoff, this takes 2.
        codes, ids = pd.factorize(np.concatenate([f.index.to_numpy(dtype=object) for f in frames]))
        rows, aligned, at = pd.RangeIndex(len(ids)), [], 0
        for f in frames:
            aligned.append(f.set_axis(codes[at:at + len(f)]).reindex(rows))
            at += len(f)
        df = pd.concat(aligned, axis=1).set_axis(pd.Index(ids, name="customer_id"))
    else:
        df = pd.DataFrame()
    zero = [c for c in df.columns if re.match(r"^(active_days|frequency|spend_|payment_failures|sessions_|feature_|"
                                              r"pricing_views|tickets_|responses|sub_)", c)]
    df[zero] = df[zero].fillna(0)
    cats = tuple(c for b in blocks for c in b.categorical)
    return df, cats


# --------------------------------------------------------------------------
# Populations and labels
# --------------------------------------------------------------------------

def _lookback(ds, st: PredictionSettings) -> int:
    return int(st.lookback_days or ds.cfg.definitions.churn_inactivity_days)


def live_customers(ds, cutoff: dt.date, st: PredictionSettings) -> pd.Index:
    """Customers with activity (or a purchase, by ``churn_label``) in the
    ``lookback_days`` before ``cutoff``: the base every model scores.
    Computed once per dataset, cutoff and rule (every target starts here)."""
    lo = cutoff - dt.timedelta(days=_lookback(ds, st))

    def build():
        a = facts.activity_days(ds, st.churn_label)
        if a is None:
            return pd.Index([], dtype=object, name="customer_id")
        a = a.filter((a.day >= ts(lo)) & (a.day < ts(cutoff)))
        ids = a.select("customer_id").distinct().execute()["customer_id"].astype(str)
        return pd.Index(np.sort(ids.to_numpy(dtype=object)), name="customer_id")

    return ds.memo(("live", cutoff, lo, st.churn_label), build)


def churn_labels(ds, cutoff: dt.date, st: PredictionSettings) -> pd.Series:
    """1 for a live customer at ``cutoff`` with no activity (or no purchase)
    in ``[cutoff, cutoff + H)``, else 0; indexed by ``customer_id``."""
    base = live_customers(ds, cutoff, st)
    a = facts.activity_days(ds, st.churn_label)
    hi = cutoff + dt.timedelta(days=st.horizon_days)
    seen = a.filter((a.day >= ts(cutoff)) & (a.day < ts(hi))).select("customer_id").distinct().execute()["customer_id"]
    return pd.Series((~base.isin(seen.astype(str).to_numpy())).astype("int64"), index=base, name="churn")


def promoter_labels(ds, cutoff: dt.date, st: PredictionSettings) -> pd.Series | None:
    """1 when the last NPS answer of a customer in ``[cutoff, cutoff + H)``
    is ≥ ``promoter_score``, 0 when below; only customers who answered in
    that window and signed up before the cutoff. ``None`` without surveys."""
    if not ds.has("surveys") or "customer_id" not in ds.table("surveys").columns:
        return None
    s = ds.table("surveys")
    hi = cutoff + dt.timedelta(days=st.horizon_days)
    s = s.filter(s.customer_id.notnull() & s.nps.notnull() & (s.responded_at >= ts(cutoff)) & (s.responded_at < ts(hi)))
    w = ibis.window(group_by=s.customer_id, order_by=ibis.desc(s.responded_at))
    s = s.mutate(rk=ibis.row_number().over(w))
    s = s.filter(s.rk == 0)
    cu = ds.table("customers", until=cutoff)
    c = cu.select(cid=cu.customer_id.cast("string"))
    j = s.inner_join(c, s.customer_id.cast("string") == c.cid)
    df = j.select(customer_id=j.cid, nps=j.nps).execute()
    y = (df["nps"].astype(float) >= st.promoter_score).astype("int64")
    return pd.Series(y.to_numpy(), index=pd.Index(df["customer_id"].astype(str), name="customer_id"),
                     name="promoter").sort_index()


def upsell_labels(ds, cutoff: dt.date, st: PredictionSettings) -> pd.Series | None:
    """1 for a live customer with a paid order before ``cutoff`` whose paid
    spend in ``[cutoff, cutoff + H)`` exceeds ``(1 + upsell_uplift)`` × her
    baseline, or who starts a subscription there with a higher monthly
    amount than she had running at the cutoff; else 0.

    Baseline: paid spend in the ``upsell_baseline_days`` before the cutoff
    (from her first paid order, over at least ``H`` days) × ``H`` / that
    span — her usual spend per ``H`` days. ``None`` without orders.
    """
    if not ds.has("orders"):
        return None
    H = st.horizon_days
    base = live_customers(ds, cutoff, st)
    o = facts.attempts(ds)
    o = o.filter(o._paid)
    lo = cutoff - dt.timedelta(days=st.upsell_baseline_days)
    hi = cutoff + dt.timedelta(days=H)
    before = o.filter(o.ordered_at < ts(cutoff))
    g = before.group_by(before.customer_id.cast("string").name("customer_id")).aggregate(
        first=before.ordered_at.min(),
        past=before.amount.sum(where=before.ordered_at >= ts(lo)),
    ).execute()
    after = o.filter((o.ordered_at >= ts(cutoff)) & (o.ordered_at < ts(hi)))
    f = after.group_by(after.customer_id.cast("string").name("customer_id")).aggregate(future=after.amount.sum()).execute()
    df = g.set_index("customer_id").join(f.set_index("customer_id"))
    df = df[df.index.isin(base)]
    start = pd.to_datetime(df["first"]).clip(lower=pd.Timestamp(lo))
    span = ((pd.Timestamp(cutoff) - start).dt.total_seconds() / 86400).clip(lower=H)
    baseline = df["past"].fillna(0.0) * H / span
    y = (df["future"].fillna(0.0) > (1 + st.upsell_uplift) * baseline) & (df["future"].fillna(0.0) > 0)
    if ds.has("subscriptions") and "mrr" in ds.table("subscriptions").columns:
        s = ds.table("subscriptions")
        ended = s.ended_at if "ended_at" in s.columns else ibis.null("timestamp")
        run = s.filter((s.started_at < ts(cutoff)) & (ended.isnull() | (ended >= ts(cutoff))))
        now = run.group_by(run.customer_id.cast("string").name("customer_id")).aggregate(m0=run.mrr.cast("float64").max()).execute()
        new = s.filter((s.started_at >= ts(cutoff)) & (s.started_at < ts(hi)))
        nxt = new.group_by(new.customer_id.cast("string").name("customer_id")).aggregate(m1=new.mrr.cast("float64").max()).execute()
        m = pd.DataFrame(index=df.index).join(now.set_index("customer_id")).join(nxt.set_index("customer_id"))
        y = y | (m["m1"].fillna(0) > m["m0"].fillna(0))
    return pd.Series(y.astype("int64").to_numpy(), index=df.index.rename("customer_id"), name="upsell").sort_index()


LABELERS = {"churn": churn_labels, "promoter": promoter_labels, "upsell": upsell_labels}


def scoring_population(ds, target: str, st: PredictionSettings) -> pd.Index:
    """Who a model scores at the period end: the live customers (churn); the
    live customers with no NPS answer in the last ``H`` days (promoter); the
    live customers who have bought (upsell)."""
    end = ds.cfg.period.end
    base = live_customers(ds, end, st)
    if target == "promoter" and ds.has("surveys") and "customer_id" in ds.table("surveys").columns:
        s = ds.table("surveys")
        lo = end - dt.timedelta(days=st.horizon_days)
        s = s.filter(s.nps.notnull() & (s.responded_at >= ts(lo)))
        recent = set(s.select(c=s.customer_id.cast("string")).distinct().execute()["c"])
        base = base[~base.isin(list(recent))]
    if target == "upsell" and ds.has("orders"):
        o = facts.attempts(ds)
        o = o.filter(o._paid)
        buyers = set(o.select(c=o.customer_id.cast("string")).distinct().execute()["c"])
        base = base[base.isin(list(buyers))]
    return base


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------

def design(X: pd.DataFrame, cats: tuple[str, ...], columns: list[str] | None = None) -> pd.DataFrame:
    """Numeric model input: categories one-hot encoded (``<col>=<value>``);
    with ``columns`` (the training columns) the frame is aligned to them."""
    num = X.drop(columns=[c for c in cats if c in X.columns]).astype("float64")
    dummies = [pd.get_dummies(X[c].fillna("(none)").astype(str), prefix=c, prefix_sep="=", dtype="float64")
               for c in cats if c in X.columns]
    out = pd.concat([num, *dummies], axis=1)
    if columns is not None:
        out = out.reindex(columns=columns, fill_value=0.0)
    return out


def _weights(y: np.ndarray, mode: str) -> np.ndarray:
    if mode == "none":
        return np.ones(len(y))
    pos = y.mean()
    return np.where(y == 1, 0.5 / pos, 0.5 / (1 - pos))


def prior_correct(p: np.ndarray, base_rate: float, trained_rate: float = 0.5) -> np.ndarray:
    """Probabilities of a model trained at ``trained_rate`` (0.5 with balanced
    class weights) moved back to ``base_rate``: odds × (π/(1−π)) / (ρ/(1−ρ))
    (Saerens, Latinne & Decaestecker 2002). Ranking is unchanged."""
    p = np.clip(np.asarray(p, float), 1e-6, 1 - 1e-6)
    k = (base_rate / (1 - base_rate)) / (trained_rate / (1 - trained_rate))
    odds = p / (1 - p) * k
    return odds / (1 + odds)


def _threads(n_rows: int):
    """One thread for small frames: on a few thousand rows OpenMP's start-up
    costs more than it saves (measured: 6× slower with every core)."""
    return _controller().limit(limits=1 if n_rows < 50_000 else None)


@functools.lru_cache(maxsize=1)
def _controller():
    # Finding the loaded thread pools costs milliseconds; a model scored
    # hundreds of times (permutation importance, drivers) looked them up
    # on every call.
    import sklearn.ensemble  # noqa: F401  (loads the OpenMP runtime the controller must see)
    import sklearn.linear_model  # noqa: F401
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def auc(y: np.ndarray, p: np.ndarray) -> float:
    """ROC AUC as the Mann–Whitney statistic (ties count half): the chance
    that a random positive scores above a random negative."""
    from scipy.stats import rankdata

    y = np.asarray(y, bool)
    n1, n0 = int(y.sum()), int((~y).sum())
    if not n1 or not n0:
        return float("nan")
    r = rankdata(p)
    return float((r[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


class Model:
    """One classifier with its preprocessing, scikit-learn style: ``fit``
    returns ``self``; ``predict_proba`` returns calibrated P(y = 1)."""

    def __init__(self, kind: str, st: PredictionSettings):
        self.kind = kind
        self.st = st

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> "Model":
        y = np.asarray(y, int)
        w = _weights(y, self.st.class_weight)
        with _threads(len(X)):
            self._fit(X, y, w)
        self.base_rate_ = float(y.mean())
        self.trained_rate_ = 0.5 if self.st.class_weight == "balanced" else self.base_rate_
        self.columns_ = list(X.columns)
        return self

    def _fit(self, X: pd.DataFrame, y: np.ndarray, w: np.ndarray) -> None:
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.impute import SimpleImputer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        if self.kind == "gbm":
            g = self.st.gbm
            self.estimator_ = HistGradientBoostingClassifier(
                max_iter=g.max_iter, learning_rate=g.learning_rate, max_depth=g.max_depth,
                min_samples_leaf=g.min_samples_leaf, l2_regularization=g.l2_regularization, max_bins=g.max_bins,
                early_stopping=False, random_state=self.st.seed)
            self.estimator_.fit(X.to_numpy(), y, sample_weight=w)
        else:
            lg = self.st.logistic
            self.estimator_ = make_pipeline(
                SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler(),
                LogisticRegression(C=lg.C, max_iter=lg.max_iter, random_state=self.st.seed))
            self.estimator_.fit(X.to_numpy(), y, logisticregression__sample_weight=w)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        with _threads(len(X)):
            raw = self.estimator_.predict_proba(X[self.columns_].to_numpy())[:, 1]
        if self.trained_rate_ == self.base_rate_:
            return raw
        return prior_correct(raw, self.base_rate_, self.trained_rate_)


# --------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------

def sample_rows(y: np.ndarray, n: int, seed: int) -> np.ndarray | None:
    """Sorted row positions of a seeded sample of ``n`` rows of ``y`` with its
    class shares (stratified); ``None`` when ``y`` has at most ``n`` rows."""
    if len(y) <= n:
        return None
    from sklearn.model_selection import train_test_split

    idx, _ = train_test_split(np.arange(len(y)), train_size=n, stratify=y, random_state=seed)
    return np.sort(idx)


def _subset(X: pd.DataFrame, y: np.ndarray, rows: np.ndarray | None) -> tuple[pd.DataFrame, np.ndarray]:
    return (X, y) if rows is None else (X.iloc[rows], y[rows])


def choose_model(X: pd.DataFrame, y: np.ndarray, st: PredictionSettings) -> str:
    """The headline model: ``st.model``, or with ``auto`` the one with the
    higher mean ROC AUC over a seeded 5-fold stratified cross-validation on
    the training window (on a stratified sample of ``st.max_choice_rows``
    customers when it has more; gradient boosting on a tie)."""
    if st.model != "auto":
        return st.model
    from sklearn.model_selection import StratifiedKFold

    X, y = _subset(X, y, sample_rows(y, st.max_choice_rows, st.seed))

    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=st.seed)
    cv = {"gbm": [], "logistic": []}
    for tr, te in folds.split(X, y):
        for kind in cv:
            m = Model(kind, st).fit(X.iloc[tr], y[tr])
            cv[kind].append(auc(y[te], m.predict_proba(X.iloc[te])))
    return "gbm" if np.mean(cv["gbm"]) >= np.mean(cv["logistic"]) else "logistic"


def deciles(y: np.ndarray, p: np.ndarray) -> pd.DataFrame:
    """Lift and cumulative gains by decile of the score (decile 1 = the 10%
    with the highest scores; ties broken by position). Columns: ``decile``,
    ``customers``, ``positives``, ``rate`` (positives / customers),
    ``predicted`` (mean score), ``lift`` (rate / overall rate) and
    ``gains`` (share of all positives in this and higher deciles)."""
    y = np.asarray(y, float)
    p = np.asarray(p, float)
    order = np.argsort(-p, kind="stable")
    groups = np.array_split(order, 10)
    total, rate = y.sum(), y.mean() if len(y) else float("nan")
    rows, cum = [], 0.0
    for i, g in enumerate(groups, 1):
        pos = float(y[g].sum())
        cum += pos
        r = pos / len(g) if len(g) else float("nan")
        rows.append({"decile": i, "customers": len(g), "positives": pos, "rate": r,
                     "predicted": float(p[g].mean()) if len(g) else float("nan"),
                     "lift": r / rate if rate else float("nan"), "gains": cum / total if total else float("nan")})
    return pd.DataFrame(rows)


def calibration(y: np.ndarray, p: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Calibration curve: customers in ``bins`` equal-count groups by score;
    ``predicted`` (mean score) against ``observed`` (share positive)."""
    order = np.argsort(p, kind="stable")
    rows = []
    for g in np.array_split(order, min(bins, max(len(p), 1))):
        if len(g):
            rows.append({"predicted": float(np.mean(p[g])), "observed": float(np.mean(y[g])), "customers": len(g)})
    return pd.DataFrame(rows)


def scores(y: np.ndarray, p: np.ndarray) -> dict:
    """ROC AUC, PR AUC (average precision), Brier score, base rate and
    top-decile lift (positive rate of the top 10% by score / base rate)."""
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    y = np.asarray(y, int)
    d = deciles(y, p)
    return {"roc_auc": float(roc_auc_score(y, p)), "pr_auc": float(average_precision_score(y, p)),
            "brier": float(brier_score_loss(y, p)), "base_rate": float(y.mean()),
            "top_decile_lift": float(d["lift"].iloc[0]), "top_decile_capture": float(d["gains"].iloc[0])}


def permutation_importance(model: Model, X: pd.DataFrame, y: np.ndarray, seed: int, repeats: int = 3,
                           batch_rows: int = 250_000) -> pd.DataFrame:
    """Mean drop of ROC AUC on ``(X, y)`` when one feature is shuffled
    (one-hot columns of a category are shuffled together), sorted. The
    shuffled copies are scored together, about ``batch_rows`` rows per
    call (a model's fixed cost per call dominated on a few thousand rows)."""
    rng = np.random.default_rng(seed)
    base = auc(y, model.predict_proba(X))
    groups: dict[str, list[str]] = {}
    for c in X.columns:
        groups.setdefault(c.split("=", 1)[0], []).append(c)
    copies = []
    for name, cols in groups.items():
        for _ in range(repeats):
            Xp = X.copy()
            idx = rng.permutation(len(X))
            Xp[cols] = X[cols].to_numpy()[idx]
            copies.append((name, Xp))
    per_call = max(1, batch_rows // max(len(X), 1))
    drops: dict[str, list[float]] = {name: [] for name in groups}
    for i in range(0, len(copies), per_call):
        part = copies[i:i + per_call]
        p = model.predict_proba(pd.concat([c for _, c in part], ignore_index=True))
        for k, (name, _) in enumerate(part):
            drops[name].append(base - auc(y, p[k * len(X):(k + 1) * len(X)]))
    rows = [{"feature": name, "importance": float(np.mean(d)), "sd": float(np.std(d))} for name, d in drops.items()]
    return pd.DataFrame(rows).sort_values(["importance", "feature"], ascending=[False, True]).reset_index(drop=True)


# --------------------------------------------------------------------------
# Drivers in words
# --------------------------------------------------------------------------

def drivers(model: Model, X: pd.DataFrame, reference: pd.DataFrame, top: int = 3) -> pd.DataFrame:
    """The main drivers of each customer's score: for each feature (a
    category's one-hot columns together), the score change when the
    customer's value is replaced by the typical value in ``reference`` (its
    median; for a category, the most common one). Returns one row per
    customer of ``X`` and rank ``1..top`` with ``feature``, ``value`` (the
    customer's value; the category name for a category) and ``effect`` (score
    points the feature adds), only for features that raise the score."""
    p0 = model.predict_proba(X)
    groups: dict[str, list[str]] = {}
    for c in X.columns:
        groups.setdefault(c.split("=", 1)[0], []).append(c)
    med = reference.median(numeric_only=True)
    effects, values = {}, {}
    for name, cols in groups.items():
        Xr = X.copy()
        if len(cols) == 1 and "=" not in cols[0]:
            Xr[cols[0]] = med.get(cols[0], np.nan)
            values[name] = X[cols[0]].to_numpy()
        else:
            typical = reference[cols].sum().idxmax()
            Xr[cols] = 0.0
            Xr[typical] = 1.0
            M = X[cols].to_numpy()
            levels = np.array([c.split("=", 1)[1] for c in cols], dtype=object)
            values[name] = np.where(M.max(axis=1) > 0, levels[M.argmax(axis=1)], None)
        effects[name] = p0 - model.predict_proba(Xr)
    columns = ["customer_id", "rank", "feature", "value", "effect"]
    names = list(effects)
    if not names or not len(X):
        return pd.DataFrame(columns=columns)
    E = np.column_stack([effects[n] for n in names])
    order = np.argsort(-E, axis=1, kind="stable")[:, :top]
    ids, pos = X.index.to_numpy(), np.arange(len(X))
    parts = []
    for r in range(order.shape[1]):
        j = order[:, r]
        eff = E[pos, j]
        keep = eff > 0.005  # sorted: a rank that falls below ends the customer's list
        vals = np.empty(len(X), dtype=object)
        for k, n in enumerate(names):
            at = keep & (j == k)
            vals[at] = values[n][at]
        parts.append(pd.DataFrame({"_pos": pos[keep], "customer_id": ids[keep], "rank": r + 1,
                                   "feature": np.array(names, dtype=object)[j[keep]], "value": vals[keep],
                                   "effect": eff[keep].astype(float)}))
    out = pd.concat(parts, ignore_index=True).sort_values(["_pos", "rank"], kind="stable")
    return out[columns].reset_index(drop=True)


def driver_text(feature: str, value: Any, cfg) -> str:
    """One driver in words in the client's language, e.g. ``no activity for
    45 days`` / ``45일째 활동 없음``."""
    lang = cfg.language
    if feature.startswith("tickets_cat_"):
        return i18n.t("predict_driver_ticket_category", lang, v=float(value or 0),
                      category=feature[len("tickets_cat_"):].replace("_", " "))
    if feature in ("channel", "device"):
        return i18n.t(f"predict_driver_{feature}", lang, category=str(value) if value is not None else "–")
    key = f"predict_driver_{feature}"
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return i18n.t("predict_driver_other", lang, feature=feature.replace("_", " ")) + (
            " (–)" if lang == "en" else " (없음)")
    try:
        v = float(value)
        return i18n.t(key, lang, v=v, p=report.fmt_pct(v))
    except KeyError:
        return i18n.t("predict_driver_other", lang, feature=feature.replace("_", " "))


def driver_category(feature: str, cfg) -> str:
    """A driver's name without the customer's value (for aggregate tables)."""
    text = {
        "en": {"recency_days": "long inactivity", "usage_trend": "falling activity", "active_days_28": "few recent active days",
               "active_days_365": "few active days this year", "session_interval_days": "long gaps between visits",
               "tenure_days": "customer tenure", "frequency": "number of orders", "monetary": "order value",
               "spend_90": "recent spend", "spend_365": "spend this year", "purchase_recency_days": "long without a purchase",
               "payment_failures_180": "failed payments", "discount_share": "discount dependence",
               "sessions_90": "sessions", "feature_breadth_90": "few features used", "feature_uses_90": "feature use",
               "pricing_views_90": "pricing-page views", "tickets_90": "recent support tickets",
               "tickets_365": "support tickets", "ticket_csat": "support satisfaction", "last_nps": "last NPS answer",
               "mean_nps": "NPS answers", "responses": "survey answers", "sub_active": "subscription status",
               "sub_mrr": "subscription amount", "sub_trial": "trial", "message_open_rate_90": "message opens",
               "channel": "acquisition channel", "device": "device"},
        "ko": {"recency_days": "장기 미활동", "usage_trend": "활동 감소", "active_days_28": "최근 활동일 적음",
               "active_days_365": "올해 활동일 적음", "session_interval_days": "긴 방문 간격",
               "tenure_days": "가입 기간", "frequency": "주문 횟수", "monetary": "주문 금액",
               "spend_90": "최근 구매액", "spend_365": "올해 구매액", "purchase_recency_days": "장기 미구매",
               "payment_failures_180": "결제 실패", "discount_share": "할인 의존",
               "sessions_90": "세션 수", "feature_breadth_90": "적은 기능 사용", "feature_uses_90": "기능 사용",
               "pricing_views_90": "가격 페이지 조회", "tickets_90": "최근 문의", "tickets_365": "문의",
               "ticket_csat": "지원 만족도", "last_nps": "최근 NPS 응답", "mean_nps": "NPS 응답",
               "responses": "설문 응답", "sub_active": "구독 상태", "sub_mrr": "구독 금액", "sub_trial": "체험",
               "message_open_rate_90": "메시지 열람", "channel": "유입 채널", "device": "기기"},
    }[cfg.language]
    if feature.startswith("tickets_cat_"):
        cat = feature[len("tickets_cat_"):].replace("_", " ")
        return f"{cat} tickets" if cfg.language == "en" else f"{cat} 문의"
    return text.get(feature, feature.replace("_", " "))


# --------------------------------------------------------------------------
# The backtest of one target
# --------------------------------------------------------------------------

@dataclasses.dataclass
class Result:
    """Everything one target's validation and scoring produced."""

    target: str
    status: str                       # ok | not_available
    reason: str | None
    horizon_days: int
    train_cutoff: dt.date
    test_cutoff: dt.date
    n_train: int = 0
    n_test: int = 0
    scores: dict | None = None        # headline model on the test window
    baseline_scores: dict | None = None
    test: pd.DataFrame | None = None  # customer_id, y, p, p_baseline
    importance: pd.DataFrame | None = None
    scored: pd.DataFrame | None = None   # customer_id, p, band (customers scored at the period end)
    drivers: pd.DataFrame | None = None  # of the top customers
    model: str | None = None             # gbm | logistic: the headline model
    reason_spec: tuple[str, dict] | None = None
    n_fit: int = 0                       # customers the models were fitted on (a sample when < n_train)

    def metrics(self) -> dict:
        """The target's stable ``metrics.json`` block (:data:`MODEL_KEYS`) plus
        ``reason``, ``baseline_roc_auc`` and ``top_decile_capture``."""
        s = self.scores or {}
        out = {"status": self.status, "roc_auc": s.get("roc_auc"), "pr_auc": s.get("pr_auc"),
               "brier": s.get("brier"), "base_rate": s.get("base_rate"), "top_decile_lift": s.get("top_decile_lift"),
               "n_train": self.n_train if self.status == "ok" else (self.n_train or None),
               "n_test": self.n_test if self.status == "ok" else (self.n_test or None),
               "horizon_days": self.horizon_days}
        out["top_decile_capture"] = s.get("top_decile_capture")
        out["baseline_roc_auc"] = (self.baseline_scores or {}).get("roc_auc")
        out["reason"] = self.reason
        out["model"] = self.model
        return out


def _not_available(target, reason, st, c1, c2, n_train=0, n_test=0) -> Result:
    res = Result(target, "not_available", None, st.horizon_days, c1, c2, n_train, n_test)
    res.reason_spec = reason
    return res


def _reason(spec: tuple[str, dict] | None, lang: str) -> str | None:
    """A reason ``(text key, values)`` in ``lang``; ``table`` and ``window`` values are translated."""
    if spec is None:
        return None
    key, values = spec
    v = dict(values)
    if "table" in v:
        v["table"] = i18n.table_name(v["table"], lang)
    if "window" in v:
        v["window"] = i18n.t(f"predict_window_{v['window']}", lang)
    return i18n.t(key, lang, **v)


def _enough(y: pd.Series, need: int) -> bool:
    return int(y.sum()) >= need and int((1 - y).sum()) >= need


def _features_at(ds, cutoff: dt.date, st: PredictionSettings) -> tuple[pd.DataFrame, tuple[str, ...]]:
    return ds.memo(("features", cutoff, st), lambda: assemble(feature_blocks(ds, cutoff, st)))


def _data_start(ds) -> dt.date | None:
    a = facts.activity(ds)
    if a is None:
        return None
    v = a.aggregate(m=a.at.min()).execute()["m"].iloc[0]
    return None if pd.isna(v) else pd.Timestamp(v).date()


def backtest(ds, cfg, target: str) -> Result:
    """Validate and apply one model (``churn``, ``promoter`` or ``upsell``).

    Train on features at ``E − 2H`` with labels in ``[E − 2H, E − H)``;
    evaluate on features at ``E − H`` with labels in ``[E − H, E)`` (``E`` =
    the period end); then refit on the test window and score the customers
    of :func:`scoring_population` at ``E``. Never raises for lack of data:
    the result is ``not_available`` with a reason instead.
    """
    res = ds.memo(("backtest", target), lambda: _backtest(ds, cfg, target), cfg)
    return dataclasses.replace(res, reason=_reason(res.reason_spec, cfg.language))


def _backtest(ds, cfg, target: str) -> Result:
    st = cfg.prediction
    H = st.horizon_days
    E = cfg.period.end
    c2 = E - dt.timedelta(days=H)
    c1 = E - dt.timedelta(days=2 * H)
    need = st.min_positives

    def done(res: Result) -> Result:
        return res

    needs = {"promoter": "surveys", "upsell": "orders"}.get(target)
    if needs and (not ds.has(needs) or "customer_id" not in ds.table(needs).columns):
        return done(_not_available(target, ("predict_reason_table", {"table": needs}),
                                   st, c1, c2))
    start = _data_start(ds)
    if start is None:
        return done(_not_available(target, ("predict_reason_table", {"table": "orders"}),
                                   st, c1, c2))
    if start > c1 - dt.timedelta(days=_lookback(ds, st)):
        return done(_not_available(target, ("predict_reason_history", {
            "h": H, "start": report.fmt_date(c1 - dt.timedelta(days=_lookback(ds, st)))}),
                                   st, c1, c2))
    y1 = LABELERS[target](ds, c1, st)
    if y1 is None:
        table = "surveys" if target == "promoter" else "orders"
        return done(_not_available(target, ("predict_reason_table", {"table": table}),
                                   st, c1, c2))
    y2 = LABELERS[target](ds, c2, st)
    if not _enough(y1, need):
        return done(_not_available(target, ("predict_reason_positives", {
            "pos": int(y1.sum()), "neg": int((1 - y1).sum()), "need": need, "window": "train"}),
                                   st, c1, c2, len(y1), len(y2)))
    if not _enough(y2, max(need // 2, 1)):
        return done(_not_available(target, ("predict_reason_positives", {
            "pos": int(y2.sum()), "neg": int((1 - y2).sum()), "need": max(need // 2, 1), "window": "test"}),
                                   st, c1, c2, len(y1), len(y2)))
    F1, cats = _features_at(ds, c1, st)
    F2, _ = _features_at(ds, c2, st)
    X1 = design(F1.reindex(y1.index), cats)
    cols = list(X1.columns)
    X2 = design(F2.reindex(y2.index), cats, cols)
    Xf, yf = _subset(X1, y1.to_numpy(), sample_rows(y1.to_numpy(), st.max_fit_rows, st.seed))
    main_kind = choose_model(Xf, yf, st)
    base_kind = "logistic" if main_kind == "gbm" else "gbm"
    m = Model(main_kind, st).fit(Xf, yf)
    b = Model(base_kind, st).fit(Xf, yf)
    p, pb = m.predict_proba(X2), b.predict_proba(X2)
    test = pd.DataFrame({"y": y2.to_numpy(), "p": p, "p_baseline": pb}, index=y2.index)
    res = Result(target, "ok", None, H, c1, c2, len(y1), len(y2), scores(y2.to_numpy(), p),
                 scores(y2.to_numpy(), pb), test, model=main_kind, n_fit=len(yf))
    Xi, yi = _subset(X2, y2.to_numpy(), sample_rows(y2.to_numpy(), st.max_importance_rows, st.seed))
    res.importance = permutation_importance(m, Xi, yi, st.seed)
    # refit on the most recent complete window; score the customers at the period end
    final = Model(main_kind, st).fit(*_subset(X2, y2.to_numpy(), sample_rows(y2.to_numpy(), st.max_fit_rows, st.seed)))
    pop = scoring_population(ds, target, st)
    F3, _ = _features_at(ds, E, st)
    X3 = design(F3.reindex(pop), cats, cols)
    p3 = final.predict_proba(X3) if len(X3) else np.array([])
    lo, hi = st.risk_bands
    band = np.where(p3 >= hi, "high", np.where(p3 >= lo, "medium", "low"))
    res.scored = pd.DataFrame({"p": p3, "band": band}, index=pop).sort_values("p", ascending=False)
    n_top = int(math.ceil(st.top_share * len(res.scored))) if len(res.scored) else 0
    top_ids = res.scored.index[:n_top]
    res.drivers = drivers(final, X3.loc[top_ids], X2) if n_top else pd.DataFrame(
        columns=["customer_id", "rank", "feature", "value", "effect"])
    return done(res)


def results(ds, cfg) -> dict[str, Result]:
    """:func:`backtest` of every target."""
    return {t: backtest(ds, cfg, t) for t in TARGETS}


def metrics(ds, cfg) -> dict:
    """The section's ``metrics.json``: for each of :data:`STABLE_KEYS`, a
    block with every key of :data:`MODEL_KEYS` (``null`` when not
    computable) plus ``reason``, ``baseline_roc_auc``, ``top_decile_capture``;
    for churn also ``expected_churners`` and ``revenue_at_risk``."""
    out = {t: r.metrics() for t, r in results(ds, cfg).items()}
    ch = churn_outlook(ds, cfg)
    out["churn"]["expected_churners"] = ch["expected"] if ch else None
    out["churn"]["revenue_at_risk"] = ch["revenue_at_risk"] if ch else None
    return out


def not_available_metrics(reason: str, horizon_days: int | None = None) -> dict:
    """Every stable key with status ``not_available`` and ``reason``, numbers ``null``."""
    return {t: {**{k: None for k in MODEL_KEYS}, "status": "not_available", "horizon_days": horizon_days,
                "reason": reason} for t in TARGETS}


# --------------------------------------------------------------------------
# Outputs: risk bands, revenue at risk, target lists
# --------------------------------------------------------------------------

def _trailing_spend(ds, ids: pd.Index) -> pd.Series:
    """Paid spend of each customer in the 365 days before the period end."""
    if not ds.has("orders") or not len(ids):
        return pd.Series(0.0, index=ids)
    o = facts.attempts(ds)
    lo = ds.cfg.period.end - dt.timedelta(days=365)
    o = o.filter(o._paid & (o.ordered_at >= ts(lo)))
    g = o.group_by(o.customer_id.cast("string").name("customer_id")).aggregate(s=o.amount.sum()).execute()
    return g.set_index("customer_id")["s"].reindex(ids).fillna(0.0).astype(float)


def bands(ds, cfg, target: str = "churn") -> pd.DataFrame | None:
    """Scored customers by band (``low``, ``medium``, ``high``): ``customers``,
    ``expected`` (sum of probabilities: the expected number of positives)
    and, for churn, ``revenue_at_risk`` (sum over customers of probability ×
    paid spend in the 365 days before the period end: the yearly revenue
    expected to leave with them; currency). ``None`` when not available."""
    r = backtest(ds, cfg, target)
    if r.status != "ok":
        return None
    s = r.scored.copy()
    s["spend"] = _trailing_spend(ds, s.index)
    s["risk"] = s["p"] * s["spend"]
    g = s.groupby("band").agg(customers=("p", "size"), expected=("p", "sum"), revenue_at_risk=("risk", "sum"))
    g = g.reindex(["high", "medium", "low"]).fillna(0.0).reset_index()
    return g


def churn_outlook(ds, cfg) -> dict | None:
    """Churn totals at the period end: ``customers`` scored, ``expected``
    churners (sum of probabilities), ``rate`` (expected / customers),
    ``revenue_at_risk`` (currency, see :func:`bands`) and ``high`` (customers
    in the high band). ``None`` when the churn model is not available."""
    b = bands(ds, cfg, "churn")
    if b is None:
        return None
    n = float(b["customers"].sum())
    return {"customers": int(n), "expected": float(b["expected"].sum()),
            "rate": float(b["expected"].sum() / n) if n else None,
            "revenue_at_risk": float(b["revenue_at_risk"].sum()),
            "high": int(b.loc[b["band"] == "high", "customers"].sum())}


def target_list(ds, cfg, target: str) -> pd.DataFrame | None:
    """The top ``top_share`` of the scored customers of a target, highest
    first: ``customer_id`` (the client's id; pseudonymize before showing),
    ``probability``, ``band`` and ``drivers`` (the main drivers in words)."""
    r = backtest(ds, cfg, target)
    if r.status != "ok":
        return None
    st = cfg.prediction
    n = int(math.ceil(st.top_share * len(r.scored))) if len(r.scored) else 0
    top = r.scored.iloc[:n]
    d = r.drivers
    words = {cid: "; ".join(driver_text(f, v, cfg) for f, v in zip(g["feature"], g["value"]))
             for cid, g in d.sort_values(["customer_id", "rank"]).groupby("customer_id")} if len(d) else {}
    return pd.DataFrame({"customer_id": top.index.astype(str), "probability": top["p"].round(4).to_numpy(),
                         "band": top["band"].to_numpy(), "drivers": [words.get(c, "") for c in top.index]})


def export_lists(ds, cfg) -> list[report.Note]:
    """Write each available target list to ``exports/prediction_<target>.csv``
    (pseudonymized ids, :func:`journeykit.report.export`); one note per list."""
    notes = []
    for t in TARGETS:
        df = target_list(ds, cfg, t)
        if df is None or not len(df):
            continue
        path = report.export(f"prediction_{t}", df, cfg)
        key = "predict_exported" if path is not None else "predict_export_skipped"
        notes.append(report.Note(i18n.t(key, cfg.language, file=f"exports/prediction_{t}.csv", n=report.fmt_int(len(df)))))
    return notes


def driver_summary(ds, cfg, target: str = "churn") -> pd.DataFrame | None:
    """Drivers of the top-scored customers, aggregated: for each driver
    (feature), the number of top customers for whom it is among the main
    three and their share; groups under ``k_anonymity`` customers are not
    shown. No customer appears individually."""
    r = backtest(ds, cfg, target)
    if r.status != "ok" or r.drivers is None or not len(r.drivers):
        return None
    n_top = r.drivers["customer_id"].nunique()
    g = r.drivers.groupby("feature")["customer_id"].nunique().rename("customers").reset_index()
    g = g[g["customers"] >= cfg.definitions.k_anonymity]
    g["share"] = g["customers"] / n_top
    g["driver"] = [driver_category(f, cfg) for f in g["feature"]]
    return g.sort_values(["customers", "feature"], ascending=[False, True]).reset_index(drop=True)


# --------------------------------------------------------------------------
# Generated text
# --------------------------------------------------------------------------

def _auc(x) -> str:
    return "–" if x is None else f"{x:.2f}"


def describe(ds, cfg) -> list[str]:
    """Sentences on each model: how it was validated and how well it did
    (ROC AUC, baseline, top-decile lift and capture), whether its
    probabilities matched what happened (expected within 15% of actual),
    what it says about the customers at the period end; or why it is not
    available."""
    lang = cfg.language
    out = []
    for t, r in results(ds, cfg).items():
        name = _label(t, cfg)
        if r.status != "ok":
            out.append(i18n.t("predict_not_available", lang, model=name, reason=r.reason))
            continue
        s = r.scores
        out.append(i18n.t("predict_sentence_model", lang, model=name, n_train=report.fmt_int(r.n_train),
                          n_test=report.fmt_int(r.n_test), train_cutoff=report.fmt_date(r.train_cutoff),
                          test_cutoff=report.fmt_date(r.test_cutoff), h=r.horizon_days, auc=_auc(s["roc_auc"]),
                          base_auc=_auc(r.baseline_scores["roc_auc"]), lift=f"{s['top_decile_lift']:.1f}",
                          capture=report.fmt_pct(s["top_decile_capture"])))
        if r.n_fit and r.n_fit < r.n_train:
            out.append(i18n.t("predict_sentence_sampled", lang, n_train=report.fmt_int(r.n_train),
                              n_fit=report.fmt_int(r.n_fit)))
        if s["roc_auc"] < 0.6:
            out.append(i18n.t("predict_sentence_weak", lang, model=name, auc=_auc(s["roc_auc"])))
        exp, act = float(r.test["p"].sum()), int(r.test["y"].sum())
        key = "predict_sentence_calibration" if act and abs(exp - act) <= 0.15 * act else "predict_sentence_calibration_off"
        out.append(i18n.t(key, lang, expected=report.fmt_int(exp), actual=report.fmt_int(act),
                          brier=f"{s['brier']:.3f}"))
        n = len(r.scored)
        if not n:
            continue
        exp_now = float(r.scored["p"].sum())
        top = int(math.ceil(cfg.prediction.top_share * n))
        if t == "churn":
            o = churn_outlook(ds, cfg)
            out.append(i18n.t("predict_sentence_churn_now", lang, n=report.fmt_int(n), period=cfg.period.label(lang),
                              expected=report.fmt_int(exp_now), rate=report.fmt_pct(exp_now / n), h=r.horizon_days,
                              revenue=report.fmt_money(o["revenue_at_risk"], cfg.currency),
                              high=report.fmt_int(o["high"])))
            ds_ = driver_summary(ds, cfg, t)
            if ds_ is not None and len(ds_):
                top3 = ", ".join(f"{d} ({report.fmt_pct(sh)})" for d, sh in zip(ds_["driver"][:3], ds_["share"][:3]))
                out.append(i18n.t("predict_sentence_drivers", lang, n=report.fmt_int(r.drivers["customer_id"].nunique()),
                                  drivers=top3))
        else:
            out.append(i18n.t(f"predict_sentence_{t}_now", lang, n=report.fmt_int(n), expected=report.fmt_int(exp_now),
                              rate=report.fmt_pct(exp_now / n), h=r.horizon_days, top=report.fmt_int(top)))
    return out


def next_steps(ds, cfg) -> list[str]:
    """"What to look at next", from the data, most urgent first:

    1. churn available: the most common driver among the top-risk customers
       (when it is among the main drivers of at least ``k_anonymity`` of them);
    2. churn revenue at risk above zero;
    3. promoter available: ask the likeliest promoters for referrals;
    4. upsell available: offer upgrades to the upsell list;
    5. a model with ROC AUC under 0.6 is called weak; a model not available
       says what it needs.
    """
    lang = cfg.language
    res = results(ds, cfg)
    out = []
    st = cfg.prediction
    ch = res["churn"]
    if ch.status == "ok":
        ds_ = driver_summary(ds, cfg, "churn")
        o = churn_outlook(ds, cfg)
        if ds_ is not None and len(ds_):
            out.append(i18n.t("predict_next_churn_driver", lang, n=report.fmt_int(o["high"] or ch.drivers["customer_id"].nunique()),
                              driver=ds_["driver"].iloc[0]))
        if o and o["revenue_at_risk"] > 0:
            out.append(i18n.t("predict_next_revenue", lang, revenue=report.fmt_money(o["revenue_at_risk"], cfg.currency)))
    for t in ("promoter", "upsell"):
        r = res[t]
        if r.status == "ok" and len(r.scored):
            out.append(i18n.t(f"predict_next_{t}", lang, n=report.fmt_int(math.ceil(st.top_share * len(r.scored)))))
    for t, r in res.items():
        if r.status == "ok" and r.scores["roc_auc"] < 0.6:
            out.append(i18n.t("predict_next_weak", lang, model=_label(t, cfg), auc=_auc(r.scores["roc_auc"])))
        elif r.status != "ok":
            out.append(i18n.t("predict_next_missing", lang, model=_label(t, cfg), reason=r.reason))
    return out


# --------------------------------------------------------------------------
# Views for the notebook
# --------------------------------------------------------------------------

def validation_view(ds, cfg) -> report.Table:
    """One row per model: status, ROC AUC (and the baseline's), PR AUC,
    Brier score, base rate, top-decile lift, training and test customers."""
    lang = cfg.language
    rows = []
    for t, r in results(ds, cfg).items():
        m = r.metrics()
        rows.append({"model": _label(t, cfg), "status": i18n.t(f"predict_status_{r.status}", lang),
                     "auc": m["roc_auc"], "base": m["baseline_roc_auc"], "pr": m["pr_auc"], "brier": m["brier"],
                     "rate": m["base_rate"], "lift": m["top_decile_lift"], "n_train": m["n_train"], "n_test": m["n_test"]})
    cols = {"model": ("predict_col_model", "text"), "status": ("predict_col_status", "text"),
            "auc": ("predict_col_auc", "num2"), "base": ("predict_col_baseline_auc", "num2"),
            "pr": ("predict_col_pr_auc", "num2"), "brier": ("predict_col_brier", "num2"),
            "rate": ("predict_col_base_rate", "pct"), "lift": ("predict_col_lift", "num"),
            "n_train": ("predict_col_n_train", "int"), "n_test": ("predict_col_n_test", "int")}
    return _view(pd.DataFrame(rows), cfg, cols)


def _view(df: pd.DataFrame, cfg, columns: dict[str, tuple[str, str]]) -> report.Table:
    lab = {c: i18n.t(k, cfg.language) for c, (k, _) in columns.items()}
    out = df[list(columns)].rename(columns=lab)
    return report.table(out, cfg, {lab[c]: kind for c, (_, kind) in columns.items()})


def _na_note(r: Result, cfg) -> report.Note:
    return report.Note(i18n.t("predict_not_available", cfg.language, model=_label(r.target, cfg), reason=r.reason), "warn")


def deciles_view(ds, cfg, target: str):
    """Lift and cumulative gains by decile on the test window (a table), or a note."""
    r = backtest(ds, cfg, target)
    if r.status != "ok":
        return _na_note(r, cfg)
    d = deciles(r.test["y"].to_numpy(), r.test["p"].to_numpy())
    return _view(d, cfg, {"decile": ("predict_col_decile", "int"), "customers": ("predict_col_customers", "int"),
                          "positives": ("predict_col_positives", "int"), "rate": ("predict_col_rate", "pct"),
                          "predicted": ("predict_col_predicted", "pct"), "lift": ("predict_col_lift_d", "num"),
                          "gains": ("predict_col_gains", "pct")})


def validation_chart(ds, cfg, target: str):
    """Two panels on the test window: the calibration curve (predicted
    against observed rate, by tenth of the score) and cumulative gains (share
    of positives captured against share of customers contacted, with the
    baseline model and random order). A note when not available."""
    import matplotlib.pyplot as plt

    r = backtest(ds, cfg, target)
    if r.status != "ok":
        return _na_note(r, cfg)
    lang = cfg.language
    y, p, pb = r.test["y"].to_numpy(), r.test["p"].to_numpy(), r.test["p_baseline"].to_numpy()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.8))
    cal = calibration(y, p)
    hi = max(float(cal["predicted"].max()), float(cal["observed"].max()), 0.05) * 1.05
    a1.plot([0, hi], [0, hi], color="0.7", lw=1, ls="--")
    a1.plot(cal["predicted"], cal["observed"], marker="o", lw=1.5)
    a1.set_xlabel(i18n.t("predict_axis_predicted", lang))
    a1.set_ylabel(i18n.t("predict_axis_observed", lang))
    a1.set_title(i18n.t("predict_chart_calibration", lang))
    for ax in (a1,):
        ax.xaxis.set_major_formatter(lambda v, _: f"{v * 100:.0f}%")
        ax.yaxis.set_major_formatter(lambda v, _: f"{v * 100:.0f}%")
    x = np.arange(0, 11) / 10
    for prob, label in ((p, i18n.t(f"predict_model_{r.model}", lang)),
                        (pb, i18n.t(f"predict_model_{'logistic' if r.model == 'gbm' else 'gbm'}", lang))):
        g = deciles(y, prob)
        a2.plot(x, np.r_[0, g["gains"].to_numpy()], marker="o", ms=3, lw=1.5, label=label)
    a2.plot([0, 1], [0, 1], color="0.7", lw=1, ls="--", label=i18n.t("predict_legend_random", lang))
    a2.set_xlabel(i18n.t("predict_axis_contacted", lang))
    a2.set_ylabel(i18n.t("predict_axis_captured", lang))
    a2.set_title(i18n.t("predict_chart_gains", lang))
    a2.xaxis.set_major_formatter(lambda v, _: f"{v * 100:.0f}%")
    a2.yaxis.set_major_formatter(lambda v, _: f"{v * 100:.0f}%")
    a2.legend(fontsize=8, loc="lower right")
    fig.suptitle(i18n.t("predict_chart_validation", lang, model=_label(target, cfg), h=r.horizon_days))
    fig.tight_layout()
    plt.close(fig)  # shown once, as the cell's result
    return fig


def importance_chart(ds, cfg, target: str, top: int = 10):
    """Permutation importance of the top features (ROC AUC lost on the test
    window when a feature is shuffled), or a note."""
    import matplotlib.pyplot as plt

    r = backtest(ds, cfg, target)
    if r.status != "ok":
        return _na_note(r, cfg)
    lang = cfg.language
    imp = r.importance.head(top).iloc[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.32 * len(imp) + 1.2))
    ax.barh([driver_category(f, cfg) for f in imp["feature"]], imp["importance"], xerr=imp["sd"], color="#4C72B0")
    ax.set_xlabel(i18n.t("predict_axis_importance", lang))
    ax.set_title(i18n.t("predict_chart_importance", lang, model=_label(target, cfg)))
    fig.tight_layout()
    plt.close(fig)
    return fig


def bands_view(ds, cfg, target: str = "churn"):
    """Customers, expected positives and (churn) revenue at risk by band, or a note."""
    b = bands(ds, cfg, target)
    if b is None:
        return _na_note(backtest(ds, cfg, target), cfg)
    b = b.assign(band=[i18n.t(f"predict_band_{x}", cfg.language) for x in b["band"]])
    cols = {"band": ("predict_col_band" if target == "churn" else "predict_col_band_likelihood", "text"),
            "customers": ("predict_col_customers", "int"),
            "expected": ("predict_col_expected", "int")}
    if target == "churn":
        cols["revenue_at_risk"] = ("predict_col_revenue_at_risk", "money")
    return _view(b, cfg, cols)


def drivers_view(ds, cfg, target: str = "churn"):
    """Drivers of the top-risk customers, aggregated (no customer shown), or a note."""
    d = driver_summary(ds, cfg, target)
    if d is None:
        return _na_note(backtest(ds, cfg, target), cfg)
    return _view(d, cfg, {"driver": ("predict_col_driver", "text"), "customers": ("predict_col_customers", "int"),
                          "share": ("predict_col_share_top", "pct")})


def exports_view(ds, cfg):
    """Writes the target lists (:func:`export_lists`) and says what was written."""
    notes = export_lists(ds, cfg)
    if not notes:
        return report.Note(i18n.t("predict_no_lists", cfg.language), "warn")
    return report.Narrative([n.text for n in notes])


def describe_view(ds, cfg) -> report.Narrative:
    """:func:`describe` as a paragraph list."""
    return report.Narrative(describe(ds, cfg))


def next_steps_view(ds, cfg) -> report.Narrative:
    """:func:`next_steps` as a paragraph list."""
    return report.Narrative(next_steps(ds, cfg))


__all__ = ["SECTION", "TARGETS", "STABLE_KEYS", "MODEL_KEYS", "FeatureBlock", "LeakageError",
           "BUILDERS", "activity_features", "order_features", "event_features", "device_features", "ticket_features",
           "survey_features", "subscription_features", "message_features", "customer_features", "check_no_leakage",
           "feature_blocks", "assemble", "live_customers", "churn_labels", "promoter_labels", "upsell_labels",
           "scoring_population", "design", "prior_correct", "Model", "deciles", "calibration", "scores",
           "permutation_importance", "drivers", "driver_text", "driver_category", "Result", "backtest", "results",
           "metrics", "not_available_metrics", "bands", "churn_outlook", "target_list", "export_lists",
           "driver_summary", "describe", "next_steps"]
