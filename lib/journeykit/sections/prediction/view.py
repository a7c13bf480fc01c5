"""What the prediction notebook shows: words (en/ko), tables, charts and
generated sentences, built from :mod:`.compute`'s results.

A model that is not available says why once, in its own section (the first
cell of it, :func:`validation_chart`); its other tables and charts show
nothing, and the section's summary sentences (:func:`insights`) speak only
of the models that ran.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from journeykit import report
from journeykit.core import i18n
from journeykit.sections.prediction import compute
from journeykit.sections.prediction.compute import TARGETS, Result
from journeykit.sections.prediction.models import calibration, deciles

i18n.register({
    "predict_churn": {"en": "Churn", "ko": "이탈"},
    "predict_promoter": {"en": "Promoter", "ko": "추천 고객"},
    "predict_upsell": {"en": "Upsell", "ko": "추가 구매"},
    "predict_col_model": {"en": "Model", "ko": "모델"},
    "predict_col_status": {"en": "Status", "ko": "상태"},
    "predict_col_auc": {"en": "ROC AUC", "ko": "ROC AUC"},
    "predict_col_baseline_auc": {"en": "Baseline AUC", "ko": "기준 모델 AUC"},
    "predict_col_auc_ci": {"en": "ROC AUC, 95% interval", "ko": "ROC AUC 95% 구간"},
    "predict_col_rule_auc": {"en": "Simple rule AUC", "ko": "단순 규칙 AUC"},
    "predict_col_verdict": {"en": "Act on it?", "ko": "실행 활용"},
    "predict_verdict_ok": {"en": "yes", "ko": "예"},
    "predict_verdict_chance": {"en": "no: not above chance", "ko": "아니오: 무작위와 구별 안 됨"},
    "predict_verdict_rule": {"en": "no: no better than the rule", "ko": "아니오: 규칙보다 낫지 않음"},
    "predict_verdict_uncertain": {"en": "no: gain uncertain", "ko": "아니오: 향상 불확실"},
    "predict_col_silence": {"en": "Days since last activity", "ko": "마지막 활동 후 경과일"},
    "predict_silence_range": {"en": "{lo}–{hi} days", "ko": "{lo}~{hi}일"},
    "predict_silence_lapsed": {"en": "already churned ({lo}–{hi} days)", "ko": "이미 이탈 ({lo}~{hi}일)"},
    "predict_col_revenue_12m": {"en": "Revenue, last 12 months (at risk or lost)", "ko": "최근 12개월 매출 (위험 또는 손실)"},
    "predict_legend_rule": {"en": "simple rule: {rule}", "ko": "단순 규칙: {rule}"},
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
    "predict_col_expected": {"en": "Expected", "ko": "예상 인원"},
    "predict_col_revenue_at_risk": {"en": "Revenue at risk (12 months)", "ko": "위험 매출 (12개월)"},
    "predict_col_driver": {"en": "Main driver", "ko": "주요 요인"},
    "predict_col_share_top": {"en": "Share of top-risk customers", "ko": "고위험 고객 중 비율"},
    "predict_no_lists": {"en": "No target list: no model is available for this client.",
                         "ko": "사용 가능한 모델이 없어 대상 목록이 없습니다."},
    "predict_no_model": {"en": "No model could be trained for this client: each model's section below says why.",
                         "ko": "이 고객사에는 학습할 수 있는 모델이 없습니다. 이유는 아래 각 모델 항목에 있습니다."},
    "predict_status_ok": {"en": "validated", "ko": "검증 완료"},
    "predict_status_not_available": {"en": "not available", "ko": "사용 불가"},
    "predict_band_low": {"en": "low", "ko": "낮음"},
    "predict_band_medium": {"en": "medium", "ko": "중간"},
    "predict_band_high": {"en": "high", "ko": "높음"},
    "predict_model_gbm": {"en": "gradient boosting", "ko": "그래디언트 부스팅"},
    "predict_model_logistic": {"en": "logistic regression", "ko": "로지스틱 회귀"},
    # reasons a model is not available (compute's reason codes)
    "predict_reason_table": {"en": "needs the {table} table", "ko": "{table} 테이블이 필요합니다"},
    "predict_reason_column": {"en": "needs the {column} column of the {table} table",
                              "ko": "{table} 테이블의 {column} 컬럼이 필요합니다"},
    "predict_reason_amounts": {"en": "needs order amounts, which this client's orders do not carry",
                               "ko": "주문 금액이 필요하지만 이 고객사의 주문에는 금액이 없습니다"},
    "predict_reason_positives": {
        "en": "too few cases to learn from: {pos} positive and {neg} negative customers in the {window} window (at least {need} of each needed)",
        "ko": "학습할 사례가 부족합니다: {window} 기간의 해당 고객 {pos}명, 비해당 고객 {neg}명 (각각 {need}명 이상 필요)"},
    "predict_window_train": {"en": "training", "ko": "학습"},
    "predict_window_test": {"en": "test", "ko": "검증"},
    "predict_reason_history": {
        "en": "the data do not cover two horizons of {h} days before the period end (from {start})",
        "ko": "기간 종료 전 {h}일씩 두 구간을 덮을 만큼 데이터가 없습니다 ({start}부터 필요)"},
    "predict_reason_features": {
        "en": "every feature is empty or constant on the training customers: nothing to learn from",
        "ko": "학습 고객의 모든 특성이 비어 있거나 값이 같아 학습할 정보가 없습니다"},
    "predict_not_available": {"en": "{model}: not available — {reason}.", "ko": "{model}: 사용 불가 — {reason}."},
    # generated sentences
    "predict_sentence_model": {
        "en": "{model}: trained on {n_train} customers at {train_cutoff} and tested on the {n_test} customers of {test_cutoff}, whose outcome over the next {h} days is known. The model ranks a random positive above a random negative {auc} of the time (ROC AUC; baseline {base_auc}); the 10% it ranks highest hold {lift}× the average rate and {capture} of all positives.",
        "ko": "{model}: {train_cutoff} 기준 고객 {n_train}명으로 학습하고, 이후 {h}일의 결과를 알고 있는 {test_cutoff} 기준 고객 {n_test}명으로 검증했습니다. 무작위로 고른 해당 고객을 비해당 고객보다 높게 평가하는 비율은 {auc}입니다 (ROC AUC, 기준 모델 {base_auc}). 상위 10%에는 평균의 {lift}배 비율로 해당 고객이 모여 있으며 전체 해당 고객의 {capture}을(를) 포착합니다."},
    "predict_sentence_sampled": {
        "en": "With {n_train} customers in the training window, each model was fitted on a random sample of {n_fit} with the same share of positives; every customer of the test window was scored.",
        "ko": "학습 기간 고객이 {n_train}명이어서 각 모델은 해당 고객 비율을 유지한 무작위 표본 {n_fit}명으로 학습했고, 검증 기간의 고객은 모두 평가했습니다."},
    "predict_sentence_dropped": {
        "en": "Left out of the models because they are empty or take one value on the customers a model learned from: {features}.",
        "ko": "모델이 학습한 고객에서 값이 비어 있거나 모두 같아 제외한 특성: {features}."},
    "predict_sentence_calibration": {
        "en": "Predicted probabilities are close to what happened: on the test window the model expected {expected} and {actual} occurred (Brier score {brier}).",
        "ko": "예측 확률이 실제와 가깝습니다: 검증 기간에 모델은 {expected}명을 예상했고 실제로는 {actual}명이었습니다 (브라이어 점수 {brier})."},
    "predict_sentence_calibration_off": {
        "en": "Predicted probabilities are off on the test window: the model expected {expected} and {actual} occurred (Brier score {brier}); use the ranking rather than the probabilities.",
        "ko": "검증 기간의 예측 확률이 실제와 차이가 있습니다: 모델은 {expected}명을 예상했으나 실제로는 {actual}명이었습니다 (브라이어 점수 {brier}). 확률보다 순위를 활용하세요."},
    "predict_sentence_verdict_ok": {
        "en": "{model}: beats the simple rule of sorting customers by \"{rule}\" on the test window (ROC AUC {auc}, 95% interval {lo}–{hi}, against {rule_auc}; gain {gain}, interval {glo} to {ghi}): its lists and advice can be acted on.",
        "ko": "{model}: 검증 기간에 '{rule}' 기준으로 고객을 정렬하는 단순 규칙보다 낫습니다 (ROC AUC {auc}, 95% 구간 {lo}–{hi}, 규칙 {rule_auc}; 향상 {gain}, 구간 {glo}~{ghi}). 목록과 제안을 실행에 활용할 수 있습니다."},
    "predict_sentence_verdict_chance": {
        "en": "{model}: not good enough to act on. Its ROC AUC of {auc} (95% interval {lo}–{hi}) cannot be told apart from chance (0.5), so no list or advice is drawn from it.",
        "ko": "{model}: 실행에 활용할 만큼 좋지 않습니다. ROC AUC {auc}(95% 구간 {lo}–{hi})가 무작위(0.5)와 구별되지 않아 이 모델로 목록이나 제안을 만들지 않습니다."},
    "predict_sentence_verdict_rule": {
        "en": "{model}: not good enough to act on. It ranks customers little better than simply sorting them by \"{rule}\" (ROC AUC {auc} against {rule_auc}; a gain of at least {margin} is required), so no list or advice is drawn from it.",
        "ko": "{model}: 실행에 활용할 만큼 좋지 않습니다. '{rule}' 기준으로 단순히 정렬한 것보다 거의 낫지 않아 (ROC AUC {auc}, 규칙 {rule_auc}; 최소 {margin} 향상 필요) 이 모델로 목록이나 제안을 만들지 않습니다."},
    "predict_sentence_verdict_uncertain": {
        "en": "{model}: not good enough to act on yet. It beats simply sorting customers by \"{rule}\" by {gain} ROC AUC, but the 95% interval of that gain ({glo} to {ghi}) includes no gain at all, so no list or advice is drawn from it.",
        "ko": "{model}: 아직 실행에 활용할 만큼 좋지 않습니다. '{rule}' 기준 단순 정렬보다 ROC AUC가 {gain} 높지만, 향상의 95% 구간({glo}~{ghi})이 0을 포함해 이 모델로 목록이나 제안을 만들지 않습니다."},
    "predict_sentence_churn_now": {
        "en": "Of the {n} customers not churned at the end of {period} (active in the last {h} days), the model expects {expected} ({rate}) to go the next {h} days without activity, i.e. to have churned by {date}; they account for {revenue} of the last 12 months' revenue. {high} customers are in the high-risk band.",
        "ko": "{period} 말 이탈하지 않은 고객(최근 {h}일 내 활동) {n}명 중 {expected}명({rate})이 향후 {h}일 동안 활동하지 않아 {date}까지 이탈할 것으로 예상되며, 이들의 최근 12개월 매출 {revenue}이(가) 위험에 있습니다. 고위험 구간 고객은 {high}명입니다."},
    "predict_sentence_churn_now_count": {
        "en": "Of the {n} customers not churned at the end of {period} (active in the last {h} days), the model expects {expected} ({rate}) to go the next {h} days without activity, i.e. to have churned by {date}. {high} customers are in the high-risk band.",
        "ko": "{period} 말 이탈하지 않은 고객(최근 {h}일 내 활동) {n}명 중 {expected}명({rate})이 향후 {h}일 동안 활동하지 않아 {date}까지 이탈할 것으로 예상됩니다. 고위험 구간 고객은 {high}명입니다."},
    "predict_sentence_lapsed": {
        "en": "Not in that forecast: {n} customers already churned in the last {h} days (their last activity was {h} to {h2} days ago); they carried {revenue} of the last 12 months' revenue.",
        "ko": "위 예측에 포함되지 않은 고객: 최근 {h}일 사이에 이미 이탈한 고객 {n}명(마지막 활동이 {h}~{h2}일 전)이며, 이들의 최근 12개월 매출은 {revenue}입니다."},
    "predict_sentence_lapsed_count": {
        "en": "Not in that forecast: {n} customers already churned in the last {h} days (their last activity was {h} to {h2} days ago).",
        "ko": "위 예측에 포함되지 않은 고객: 최근 {h}일 사이에 이미 이탈한 고객 {n}명(마지막 활동이 {h}~{h2}일 전)."},
    "predict_sentence_promoter_now": {
        "en": "Of the {n} active customers who have not answered a survey in the last {h} days, the model expects {expected} ({rate}) to be promoters; the {top} most likely are in the promoter list.",
        "ko": "최근 {h}일 동안 설문에 응답하지 않은 활성 고객 {n}명 중 {expected}명({rate})이 추천 고객일 것으로 예상됩니다. 가능성이 가장 높은 {top}명을 추천 고객 목록에 담았습니다."},
    "predict_sentence_upsell_now": {
        "en": "Of the {n} active buyers, the model expects {expected} ({rate}) to spend more than usual (or upgrade) in the next {h} days; the {top} most likely are in the upsell list.",
        "ko": "활성 구매 고객 {n}명 중 {expected}명({rate})이 향후 {h}일 동안 평소보다 더 구매(또는 업그레이드)할 것으로 예상됩니다. 가능성이 가장 높은 {top}명을 추가 구매 목록에 담았습니다."},
    "predict_drivers_intro": {
        "en": "The most common reasons among the highest-risk customers (each customer counts for up to three):",
        "ko": "위험이 가장 높은 고객들에게서 가장 흔한 요인 (고객당 최대 세 가지):"},
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
        "en": "Start with the {n} customers of the churn list: for most of them the main reason is \"{driver}\", which points to the first action to test.",
        "ko": "이탈 목록의 고객 {n}명부터 시작하세요: 대부분의 주요 요인이 \"{driver}\"이며, 먼저 시험할 조치를 알려 줍니다."},
    "predict_next_revenue": {
        "en": "Customers likely to churn carry {revenue} of the last 12 months' revenue: a win-back offer to the high band costs little against that.",
        "ko": "이탈 가능성이 높은 고객의 최근 12개월 매출은 {revenue}입니다: 고위험 구간에 대한 재활성화 혜택은 이에 비해 비용이 작습니다."},
    "predict_next_promoter": {
        "en": "Ask the {n} likeliest promoters for a review or a referral: they have not been surveyed recently.",
        "ko": "추천 가능성이 가장 높은 {n}명에게 리뷰나 추천을 요청하세요: 최근 설문을 받지 않은 고객입니다."},
    "predict_next_upsell": {
        "en": "Offer an upgrade or a bundle to the {n} customers of the upsell list first.",
        "ko": "추가 구매 목록의 고객 {n}명에게 먼저 업그레이드나 묶음 상품을 제안하세요."},
    "predict_next_not_actionable": {
        "en": "Do not act on the {model} model's scores this month (see its validation above): more history or another data source (events, tickets, surveys) may make it useful; it is checked again every month.",
        "ko": "이번 달에는 {model} 모델의 점수로 실행하지 마세요 (위 검증 참조): 더 긴 이력이나 다른 데이터(이벤트, 문의, 설문)가 있으면 쓸모가 생길 수 있으며, 매달 다시 검증합니다."},
    "predict_list_withheld": {
        "en": "No {model} list: the model is not good enough to act on this month.",
        "ko": "{model} 목록 없음: 이번 달 모델이 실행에 활용할 만큼 좋지 않습니다."},
    "predict_next_missing_data": {
        "en": "Adding {what} to the export would let the {model} model run.",
        "ko": "{what}을(를) 데이터에 추가하면 {model} 모델을 사용할 수 있습니다."},
    "predict_next_missing_amounts": {
        "en": "Order amounts in the export (or a value on purchase events) would let the {model} model run.",
        "ko": "주문 금액(또는 구매 이벤트의 금액)이 있으면 {model} 모델을 사용할 수 있습니다."},
    "predict_next_missing_history": {
        "en": "The {model} model needs more history or more customers; it is tried again with every new month of data.",
        "ko": "{model} 모델에는 더 긴 이력이나 더 많은 고객이 필요합니다. 새 달의 데이터가 쌓일 때마다 다시 시도합니다."},
    "predict_what_column": {"en": "the {column} column of the {table} table", "ko": "{table} 테이블의 {column} 컬럼"},
    "predict_what_table": {"en": "the {table} table", "ko": "{table} 테이블"},
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
    "predict_driver_missing": {"en": "{feature} (–)", "ko": "{feature} (없음)"},
    # features by name (aggregate tables, charts, the dropped-features sentence)
    "predict_feature_recency_days": {"en": "long inactivity", "ko": "장기 미활동"},
    "predict_feature_usage_trend": {"en": "falling activity", "ko": "활동 감소"},
    "predict_feature_active_days_28": {"en": "few recent active days", "ko": "최근 활동일 적음"},
    "predict_feature_active_days_365": {"en": "few active days this year", "ko": "올해 활동일 적음"},
    "predict_feature_session_interval_days": {"en": "long gaps between visits", "ko": "긴 방문 간격"},
    "predict_feature_tenure_days": {"en": "customer tenure", "ko": "가입 기간"},
    "predict_feature_frequency": {"en": "number of orders", "ko": "주문 횟수"},
    "predict_feature_monetary": {"en": "order value", "ko": "주문 금액"},
    "predict_feature_spend_90": {"en": "recent spend", "ko": "최근 구매액"},
    "predict_feature_spend_365": {"en": "spend this year", "ko": "올해 구매액"},
    "predict_feature_purchase_recency_days": {"en": "long without a purchase", "ko": "장기 미구매"},
    "predict_feature_payment_failures_180": {"en": "failed payments", "ko": "결제 실패"},
    "predict_feature_discount_share": {"en": "discount dependence", "ko": "할인 의존"},
    "predict_feature_sessions_90": {"en": "sessions", "ko": "세션 수"},
    "predict_feature_feature_breadth_90": {"en": "few features used", "ko": "적은 기능 사용"},
    "predict_feature_feature_uses_90": {"en": "feature use", "ko": "기능 사용"},
    "predict_feature_pricing_views_90": {"en": "pricing-page views", "ko": "가격 페이지 조회"},
    "predict_feature_tickets_90": {"en": "recent support tickets", "ko": "최근 문의"},
    "predict_feature_tickets_365": {"en": "support tickets", "ko": "문의"},
    "predict_feature_ticket_category": {"en": "{category} tickets", "ko": "{category} 문의"},
    "predict_feature_ticket_csat": {"en": "support satisfaction", "ko": "지원 만족도"},
    "predict_feature_last_nps": {"en": "last NPS answer", "ko": "최근 NPS 응답"},
    "predict_feature_mean_nps": {"en": "NPS answers", "ko": "NPS 응답"},
    "predict_feature_responses": {"en": "survey answers", "ko": "설문 응답"},
    "predict_feature_sub_active": {"en": "subscription status", "ko": "구독 상태"},
    "predict_feature_sub_mrr": {"en": "subscription amount", "ko": "구독 금액"},
    "predict_feature_sub_trial": {"en": "trial", "ko": "체험"},
    "predict_feature_message_open_rate_90": {"en": "message opens", "ko": "메시지 열람"},
    "predict_feature_channel": {"en": "acquisition channel", "ko": "유입 채널"},
    "predict_feature_device": {"en": "device", "ko": "기기"},
})

_CATEGORY_PREFIX = compute.TICKET_CATEGORY_PREFIX


def _category(name: str, cfg) -> str:
    """A client's category name as shown; a folded group (:data:`journeykit.facts.OTHER`) as "other"."""
    from journeykit import facts

    return i18n.t("other_group", cfg.language) if name == facts.OTHER else name


# --------------------------------------------------------------------------
# Words
# --------------------------------------------------------------------------

def label(target: str, cfg) -> str:
    """A target's name: ``churn`` → ``Churn`` / ``이탈``."""
    return i18n.t(f"predict_{target}", cfg.language)


def reason_text(r: Result, cfg) -> str | None:
    """Why a model is not available, in the client's language (from its
    reason code and values); ``None`` for a model that ran."""
    if r.reason is None:
        return None
    lang = cfg.language
    v: dict[str, Any] = dict(r.reason_values)
    if "table" in v:
        v["table"] = i18n.table_name(v["table"], lang)
    if "window" in v:
        v["window"] = i18n.t(f"predict_window_{v['window']}", lang)
    if "start" in v:
        v["start"] = report.fmt_date(v["start"])
    return i18n.t(f"predict_reason_{r.reason}", lang, **v)


def feature_name(feature: str, cfg) -> str:
    """A feature's name without a customer's value (aggregate tables, charts):
    ``usage_trend`` → ``falling activity`` / ``활동 감소``."""
    lang = cfg.language
    if feature.startswith(_CATEGORY_PREFIX):
        return i18n.t("predict_feature_ticket_category", lang,
                      category=_category(feature[len(_CATEGORY_PREFIX):], cfg).replace("_", " "))
    key = f"predict_feature_{feature}"
    return i18n.t(key, lang) if key in i18n.TEXT else feature.replace("_", " ")


def driver_text(feature: str, value: Any, cfg) -> str:
    """One driver in words in the client's language, e.g. ``no activity for
    45 days`` / ``45일째 활동 없음``."""
    lang = cfg.language
    if feature.startswith(_CATEGORY_PREFIX):
        return i18n.t("predict_driver_ticket_category", lang, v=float(value or 0),
                      category=_category(feature[len(_CATEGORY_PREFIX):], cfg).replace("_", " "))
    if feature in ("channel", "device"):
        return i18n.t(f"predict_driver_{feature}", lang,
                      category=_category(str(value), cfg) if value is not None else "–")
    key = f"predict_driver_{feature}"
    if report.is_missing(value):
        return i18n.t("predict_driver_missing", lang, feature=feature_name(feature, cfg))
    if key not in i18n.TEXT:
        return feature_name(feature, cfg)
    v = float(value)
    return i18n.t(key, lang, v=v, p=report.fmt_pct(v))


def _auc(x) -> str:
    return "–" if report.is_missing(x) else f"{x:.2f}"


def _signed(x) -> str:
    return "–" if report.is_missing(x) else ("+" if x >= 0 else "−") + f"{abs(x):.2f}"


def rule_name(r: Result, cfg) -> str:
    """The one-feature rule a model is compared with, in words: the
    feature's name (``long inactivity``); ``–`` without a rule."""
    return feature_name((r.rule or {}).get("feature") or "", cfg) if r.rule else "–"


def verdict_sentence(t: str, r: Result, cfg) -> str | None:
    """Whether a validated model may be acted on, in one sentence with its
    ROC AUC interval and the one-feature rule it was compared with
    (:func:`journeykit.sections.prediction.compute.verdict`); ``None`` for a
    model that is not available."""
    if r.status != "ok":
        return None
    b = r.boot or {}
    ci, gci = b.get("roc_auc_ci") or [None, None], b.get("gain_ci") or [None, None]
    return i18n.t(f"predict_sentence_verdict_{r.verdict}", cfg.language, model=label(t, cfg), rule=rule_name(r, cfg),
                  auc=_auc(b.get("roc_auc")), lo=_auc(ci[0]), hi=_auc(ci[1]), rule_auc=_auc(b.get("ref_roc_auc")),
                  gain=_signed(b.get("gain")), glo=_signed(gci[0]), ghi=_signed(gci[1]),
                  margin=f"{r.min_gain:.2f}")


def _dropped_sentence(res: dict[str, Result], cfg) -> str | None:
    ran = {t: r for t, r in res.items() if r.status == "ok"}
    where: dict[str, list[str]] = {}
    for t, r in ran.items():
        for f in r.dropped:
            where.setdefault(f, []).append(t)
    if not where:
        return None
    parts = []
    for f, ts_ in where.items():
        name = feature_name(f, cfg)
        if len(ts_) < len(ran):
            name += f" ({', '.join(label(t, cfg) for t in ts_)})"
        parts.append(name)
    return i18n.t("predict_sentence_dropped", cfg.language, features=", ".join(parts))


def insights(ds, cfg) -> list[str]:
    """Sentences on each model that ran: how it was validated and how well
    it did (ROC AUC, baseline, top-decile lift and capture), whether it may
    be acted on (:func:`verdict_sentence`), whether its probabilities
    matched what happened (expected within 15% of actual), what it says
    about the customers at the period end — for churn the forecast over the
    customers not churned, then those who already churned, apart; for
    promoter and upsell only when the model may be acted on — then the
    features left out of the models. Empty when no model ran."""
    lang = cfg.language
    res = compute.results(ds, cfg)
    out = []
    for t, r in res.items():
        if r.status != "ok":
            continue
        name = label(t, cfg)
        s = r.scores
        out.append(i18n.t("predict_sentence_model", lang, model=name, n_train=report.fmt_int(r.n_train),
                          n_test=report.fmt_int(r.n_test), train_cutoff=report.fmt_date(r.train_cutoff),
                          test_cutoff=report.fmt_date(r.test_cutoff), h=r.horizon_days, auc=_auc(s["roc_auc"]),
                          base_auc=_auc(r.baseline_scores["roc_auc"]), lift=f"{s['top_decile_lift']:.1f}",
                          capture=report.fmt_pct(s["top_decile_capture"])))
        if r.n_fit and r.n_fit < r.n_train:
            out.append(i18n.t("predict_sentence_sampled", lang, n_train=report.fmt_int(r.n_train),
                              n_fit=report.fmt_int(r.n_fit)))
        out.append(verdict_sentence(t, r, cfg))
        exp, act = float(r.test["p"].sum()), int(r.test["y"].sum())
        key = "predict_sentence_calibration" if act and abs(exp - act) <= 0.15 * act else "predict_sentence_calibration_off"
        out.append(i18n.t(key, lang, expected=report.fmt_int(exp), actual=report.fmt_int(act),
                          brier=f"{s['brier']:.3f}"))
        n = len(r.scored)
        if not n:
            continue
        exp_now = float(r.scored["p"].sum())
        if t == "churn":
            o = compute.churn_outlook(ds, cfg)
            by = cfg.period.end + dt.timedelta(days=r.horizon_days - 1)
            values = dict(n=report.fmt_int(n), period=cfg.period.label(lang), expected=report.fmt_int(exp_now),
                          rate=report.fmt_pct(exp_now / n), h=r.horizon_days, high=report.fmt_int(o["high"]),
                          date=report.fmt_date(by))
            if o["revenue_at_risk"] is None:
                out.append(i18n.t("predict_sentence_churn_now_count", lang, **values))
            else:
                out.append(i18n.t("predict_sentence_churn_now", lang, **values,
                                  revenue=report.fmt_money(o["revenue_at_risk"], cfg.currency)))
            lp = compute.lapsed(ds, cfg)
            if lp and lp["customers"]:
                lv = dict(n=report.fmt_int(lp["customers"]), h=lp["days"], h2=2 * lp["days"] - 1)
                out.append(i18n.t("predict_sentence_lapsed", lang, **lv,
                                  revenue=report.fmt_money(lp["revenue"], cfg.currency))
                           if lp["revenue"] is not None else i18n.t("predict_sentence_lapsed_count", lang, **lv))
            d = compute.driver_summary(ds, cfg, t)
            if r.actionable and d is not None and len(d):
                top3 = ", ".join(f"{feature_name(f, cfg)} ({report.fmt_pct(sh)})"
                                 for f, sh in zip(d["feature"][:3], d["share"][:3]))
                out.append(i18n.t("predict_sentence_drivers", lang,
                                  n=report.fmt_int(compute.top_driver_customers(ds, cfg, t)), drivers=top3))
        elif r.actionable:
            out.append(i18n.t(f"predict_sentence_{t}_now", lang, n=report.fmt_int(n), expected=report.fmt_int(exp_now),
                              rate=report.fmt_pct(exp_now / n), h=r.horizon_days,
                              top=report.fmt_int(compute.top_count(n, cfg))))
    dropped = _dropped_sentence(res, cfg)
    if dropped:
        out.append(dropped)
    return out


def _missing_step(t: str, r: Result, cfg) -> str:
    lang = cfg.language
    model = label(t, cfg)
    v = r.reason_values
    if r.reason == "table":
        what = i18n.t("predict_what_table", lang, table=i18n.table_name(v["table"], lang))
        return i18n.t("predict_next_missing_data", lang, what=what, model=model)
    if r.reason == "column":
        what = i18n.t("predict_what_column", lang, table=i18n.table_name(v["table"], lang), column=v["column"])
        return i18n.t("predict_next_missing_data", lang, what=what, model=model)
    if r.reason == "amounts":
        return i18n.t("predict_next_missing_amounts", lang, model=model)
    return i18n.t("predict_next_missing_history", lang, model=model)


def next_steps(ds, cfg) -> list[str]:
    """"What to look at next", from the data, most urgent first. Advice that
    rests on a model is given only when the model may be acted on
    (:func:`journeykit.sections.prediction.compute.verdict` is ``ok``):

    1. churn: the most common driver among the top-risk customers (when it
       is among the main drivers of at least ``k_anonymity`` of them);
    2. churn: revenue at risk above zero (a win-back offer to the high band);
    3. promoter: ask the likeliest promoters for referrals;
    4. upsell: offer upgrades to the upsell list;
    5. a validated model that may not be acted on says so; a model not
       available says what would enable it.
    """
    lang = cfg.language
    res = compute.results(ds, cfg)
    out = []
    ch = res["churn"]
    if ch.actionable:
        d = compute.driver_summary(ds, cfg, "churn")
        o = compute.churn_outlook(ds, cfg)
        if d is not None and len(d):
            n = compute.top_count(len(ch.scored), cfg)
            out.append(i18n.t("predict_next_churn_driver", lang, n=report.fmt_int(n),
                              driver=feature_name(d["feature"].iloc[0], cfg)))
        if o and o["revenue_at_risk"]:
            out.append(i18n.t("predict_next_revenue", lang, revenue=report.fmt_money(o["revenue_at_risk"], cfg.currency)))
    for t in ("promoter", "upsell"):
        r = res[t]
        if r.actionable and len(r.scored):
            out.append(i18n.t(f"predict_next_{t}", lang, n=report.fmt_int(compute.top_count(len(r.scored), cfg))))
    for t, r in res.items():
        if r.status == "ok" and not r.actionable:
            out.append(i18n.t("predict_next_not_actionable", lang, model=label(t, cfg)))
        elif r.status != "ok":
            out.append(_missing_step(t, r, cfg))
    return out


# --------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------

def _table(df: pd.DataFrame, cfg, columns: dict[str, tuple[str, str]]) -> report.Table:
    lab = {c: i18n.t(k, cfg.language) for c, (k, _) in columns.items()}
    out = df[list(columns)].rename(columns=lab)
    return report.table(out, cfg, {lab[c]: kind for c, (_, kind) in columns.items()})


def validation_table(ds, cfg) -> report.Table:
    """One row per model: status, ROC AUC with its 95% bootstrap interval,
    the one-feature rule's ROC AUC, whether it may be acted on, Brier
    score, base rate, top-decile lift, training and test customers."""
    rows = []
    lang = cfg.language
    for t, r in compute.results(ds, cfg).items():
        m = r.metrics()
        ci = "–" if m["roc_auc_ci_low"] is None else f"{m['roc_auc_ci_low']:.2f}–{m['roc_auc_ci_high']:.2f}"
        rows.append({"model": label(t, cfg), "status": i18n.t(f"predict_status_{r.status}", lang),
                     "auc": m["roc_auc"], "ci": ci, "rule": m["rule_roc_auc"],
                     "verdict": i18n.t(f"predict_verdict_{r.verdict}", lang) if r.verdict else "–",
                     "brier": m["brier"], "rate": m["base_rate"], "lift": m["top_decile_lift"],
                     "n_train": m["n_train"], "n_test": m["n_test"]})
    return _table(pd.DataFrame(rows), cfg, {
        "model": ("predict_col_model", "text"), "status": ("predict_col_status", "text"),
        "auc": ("predict_col_auc", "num2"), "ci": ("predict_col_auc_ci", "numtext"),
        "rule": ("predict_col_rule_auc", "num2"), "verdict": ("predict_col_verdict", "text"),
        "brier": ("predict_col_brier", "num2"),
        "rate": ("predict_col_base_rate", "pct"), "lift": ("predict_col_lift", "num"),
        "n_train": ("predict_col_n_train", "int"), "n_test": ("predict_col_n_test", "int")})


def deciles_table(ds, cfg, target: str) -> report.Table | None:
    """Lift and cumulative gains by decile on the test window; ``None`` when
    the model is not available (its section says why once)."""
    r = compute.backtest(ds, cfg, target)
    if r.status != "ok":
        return None
    d = deciles(r.test["y"].to_numpy(), r.test["p"].to_numpy())
    return _table(d, cfg, {"decile": ("predict_col_decile", "int"), "customers": ("predict_col_customers", "int"),
                           "positives": ("predict_col_positives", "int"), "rate": ("predict_col_rate", "pct"),
                           "predicted": ("predict_col_predicted", "pct"), "lift": ("predict_col_lift_d", "num"),
                           "gains": ("predict_col_gains", "pct")})


def bands_table(ds, cfg, target: str = "churn") -> report.Table | None:
    """Customers, expected positives and (churn, with known amounts) revenue
    at risk by band; ``None`` when the model is not available."""
    b = compute.bands(ds, cfg, target)
    if b is None:
        return None
    b = b.assign(band=[i18n.t(f"predict_band_{x}", cfg.language) for x in b["band"]])
    cols = {"band": ("predict_col_band" if target == "churn" else "predict_col_band_likelihood", "text"),
            "customers": ("predict_col_customers", "int"),
            "expected": ("predict_col_expected", "int")}
    if "revenue_at_risk" in b.columns:
        cols["revenue_at_risk"] = ("predict_col_revenue_at_risk", "money")
    return _table(b, cfg, cols)


def silence_table(ds, cfg) -> report.Table | None:
    """The churn outlook by days since the last activity
    (:func:`journeykit.sections.prediction.compute.outlook_by_silence`):
    customers, expected churners and revenue at risk of the scored
    customers by how long they have been silent, and apart, the customers
    who already churned in the last ``churn_inactivity_days`` with the
    revenue they carried; ``None`` when the churn model is not available."""
    df = compute.outlook_by_silence(ds, cfg)
    if df is None:
        return None
    lang = cfg.language
    df = df.assign(silence=[
        i18n.t("predict_silence_lapsed" if k == "lapsed" else "predict_silence_range", lang, lo=lo, hi=hi - 1)
        for k, lo, hi in zip(df["silence"], df["days_from"], df["days_to"])])
    cols = {"silence": ("predict_col_silence", "text"), "customers": ("predict_col_customers", "int"),
            "expected": ("predict_col_expected", "int")}
    if "revenue_at_risk" in df.columns:
        cols["revenue_at_risk"] = ("predict_col_revenue_12m", "money")
    return _table(df, cfg, cols)


def drivers_table(ds, cfg, target: str = "churn") -> report.Blocks | None:
    """Drivers of the top-risk customers, aggregated (no customer shown),
    after the sentence that introduces them; ``None`` — the sentence too,
    so it never ends in a colon with nothing after it — when the model is
    not available or no group reaches k."""
    d = compute.driver_summary(ds, cfg, target)
    if d is None or not len(d):
        return None
    d = d.assign(driver=[feature_name(f, cfg) for f in d["feature"]])
    table = _table(d, cfg, {"driver": ("predict_col_driver", "text"), "customers": ("predict_col_customers", "int"),
                            "share": ("predict_col_share_top", "pct")})
    return report.Blocks([i18n.t("predict_drivers_intro", cfg.language), table])


# --------------------------------------------------------------------------
# Charts
# --------------------------------------------------------------------------

def _pct_axes(*axes) -> None:
    for ax in axes:
        ax.xaxis.set_major_formatter(lambda v, _: f"{v * 100:.0f}%")
        ax.yaxis.set_major_formatter(lambda v, _: f"{v * 100:.0f}%")


def validation_chart(ds, cfg, target: str):
    """Two panels on the test window: the calibration curve (predicted
    against observed rate, by tenth of the score) and cumulative gains (share
    of positives captured against share of customers contacted, with the
    baseline model and random order). When the model is not available, the
    one note that says why."""
    import matplotlib.pyplot as plt

    r = compute.backtest(ds, cfg, target)
    lang = cfg.language
    if r.status != "ok":
        return report.Note(i18n.t("predict_not_available", lang, model=label(target, cfg),
                                  reason=reason_text(r, cfg)), "warn")
    y, p, pb = r.test["y"].to_numpy(), r.test["p"].to_numpy(), r.test["p_baseline"].to_numpy()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.8))
    cal = calibration(y, p)
    hi = max(float(cal["predicted"].max()), float(cal["observed"].max()), 0.05) * 1.05
    a1.plot([0, hi], [0, hi], color="0.7", lw=1, ls="--")
    a1.plot(cal["predicted"], cal["observed"], marker="o", lw=1.5)
    a1.set_xlabel(i18n.t("predict_axis_predicted", lang))
    a1.set_ylabel(i18n.t("predict_axis_observed", lang))
    a1.set_title(i18n.t("predict_chart_calibration", lang))
    x = np.arange(0, 11) / 10
    curves = [(p, i18n.t(f"predict_model_{r.model}", lang)),
              (pb, i18n.t(f"predict_model_{'logistic' if r.model == 'gbm' else 'gbm'}", lang))]
    if "p_rule" in r.test.columns:
        curves.append((r.test["p_rule"].to_numpy(), i18n.t("predict_legend_rule", lang, rule=rule_name(r, cfg))))
    for prob, name in curves:
        g = deciles(y, prob)
        a2.plot(x, np.r_[0, g["gains"].to_numpy()], marker="o", ms=3, lw=1.5, label=name)
    a2.plot([0, 1], [0, 1], color="0.7", lw=1, ls="--", label=i18n.t("predict_legend_random", lang))
    a2.set_xlabel(i18n.t("predict_axis_contacted", lang))
    a2.set_ylabel(i18n.t("predict_axis_captured", lang))
    a2.set_title(i18n.t("predict_chart_gains", lang))
    _pct_axes(a1, a2)
    a2.legend(fontsize=8, loc="lower right")
    fig.suptitle(i18n.t("predict_chart_validation", lang, model=label(target, cfg), h=r.horizon_days))
    fig.tight_layout()
    plt.close(fig)  # shown once, as the cell's result
    return fig


def importance_chart(ds, cfg, target: str, top: int = 10):
    """Permutation importance of the top features (ROC AUC lost on the test
    window when a feature is shuffled); ``None`` when the model is not
    available."""
    import matplotlib.pyplot as plt

    imp = compute.importance(ds, cfg, target)
    if imp is None or not len(imp):
        return None
    lang = cfg.language
    imp = imp.head(top).iloc[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.32 * len(imp) + 1.2))
    ax.barh([feature_name(f, cfg) for f in imp["feature"]], imp["importance"], xerr=imp["sd"], color="#4C72B0")
    ax.set_xlabel(i18n.t("predict_axis_importance", lang))
    ax.set_title(i18n.t("predict_chart_importance", lang, model=label(target, cfg)))
    fig.tight_layout()
    plt.close(fig)
    return fig


# --------------------------------------------------------------------------
# Target lists
# --------------------------------------------------------------------------

def target_list(ds, cfg, target: str) -> pd.DataFrame | None:
    """:func:`journeykit.sections.prediction.compute.target_list` with the
    drivers in words (``; `` between them), as written to ``exports/``."""
    df = compute.target_list(ds, cfg, target)
    if df is None:
        return None
    said: dict[tuple[str, Any], str] = {}  # the same feature and value recur among many customers

    def text(f: str, v: Any) -> str:
        key = (f, v)
        if key not in said:
            said[key] = driver_text(f, v, cfg)
        return said[key]

    return df.assign(drivers=["; ".join(text(f, v) for f, v in pairs) for pairs in df["drivers"]])


def export_lists(ds, cfg) -> list[str]:
    """Write the target list of each model that may be acted on to
    ``exports/prediction_<target>.csv`` (pseudonymized ids,
    :func:`journeykit.report.export`); one sentence per list (written, or
    prepared outside a report run), and one per validated model whose list
    is withheld because it may not be acted on."""
    out = []
    for t in TARGETS:
        r = compute.backtest(ds, cfg, t)
        if r.status == "ok" and not r.actionable:
            out.append(i18n.t("predict_list_withheld", cfg.language, model=label(t, cfg)))
            continue
        df = target_list(ds, cfg, t)
        if df is None or not len(df):
            continue
        path = report.export(f"prediction_{t}", df, cfg)
        key = "predict_exported" if path is not None else "predict_export_skipped"
        out.append(i18n.t(key, cfg.language, file=f"exports/prediction_{t}.csv", n=report.fmt_int(len(df))))
    return out


def exports(ds, cfg):
    """Writes the target lists (:func:`export_lists`) and says what was
    written; a note when there is no list."""
    return report.narrative(export_lists(ds, cfg), cfg, "predict_no_lists")


__all__ = ["label", "reason_text", "feature_name", "driver_text", "rule_name", "verdict_sentence", "insights",
           "next_steps", "validation_table", "deciles_table", "bands_table", "silence_table", "drivers_table", "validation_chart", "importance_chart", "target_list",
           "export_lists", "exports"]
