"""What the lifetime-value section shows: its words in English and Korean,
the key-figure labels, the tables, the charts and the generated sentences,
all built from what :mod:`journeykit.sections.ltv.compute` returns.

Each note is said once: a reason that holds for the whole section (no
purchases, no usable model, amounts unknown, a history too short for the
holdout) is said where the reader meets it first, and the later tables and
charts it empties are simply not shown (``None``).
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

from journeykit import facts, report
from journeykit.core import i18n
from journeykit.report import plots
from journeykit.sections.ltv import compute
from journeykit.sections.ltv.compute import KINDS, LOW_ALIVE, MODELS, OTHER, UNKNOWN
from journeykit.sections.ltv.models import MIN_REPEAT_CUSTOMERS, PENALIZER, STATUSES, population_spend

i18n.register({
    "ltv_customers": {"en": "Customers with a purchase", "ko": "구매 고객 수"},
    "ltv_clv_total": {"en": "Expected value of the customer base ({months} months)",
                      "ko": "고객 기반의 기대 가치 ({months}개월)"},
    "ltv_clv_mean": {"en": "Mean CLV per customer", "ko": "고객당 평균 CLV"},
    "ltv_clv_median": {"en": "Median CLV per customer", "ko": "고객당 CLV 중앙값"},
    "ltv_p_alive_mean": {"en": "Customers still active (mean P(alive))", "ko": "활성 고객 비율 (평균 P(alive))"},
    "ltv_expected_purchases_mean": {"en": "Expected purchases per customer ({months} months)",
                                    "ko": "고객당 기대 구매 횟수 ({months}개월)"},
    "ltv_model_bgnbd": {"en": "BG/NBD", "ko": "BG/NBD"},
    "ltv_model_pareto_nbd": {"en": "Pareto/NBD", "ko": "파레토/NBD"},
    "ltv_model_mbgnbd": {"en": "MBG/NBD", "ko": "MBG/NBD"},
    "ltv_unit_day": {"en": "days", "ko": "일"},
    "ltv_unit_week": {"en": "weeks", "ko": "주"},
    "ltv_unit_month": {"en": "months", "ko": "개월"},
    # model table
    "ltv_col_model": {"en": "Model", "ko": "모델"},
    "ltv_col_params": {"en": "Parameters", "ko": "모수"},
    "ltv_col_ll": {"en": "Log-likelihood", "ko": "로그우도"},
    "ltv_col_rmse": {"en": "Holdout error (RMSE per customer)", "ko": "홀드아웃 오차 (고객당 RMSE)"},
    "ltv_col_mae": {"en": "Mean absolute error", "ko": "평균 절대 오차"},
    "ltv_col_total_error": {"en": "Error in total holdout purchases", "ko": "홀드아웃 총 구매 오차"},
    "ltv_col_status": {"en": "Fit", "ko": "적합 상태"},
    "ltv_status_ok": {"en": "converged", "ko": "수렴"},
    "ltv_status_penalized": {"en": "converged with penalizer {c}", "ko": "벌점 {c}(으)로 수렴"},
    "ltv_status_degenerate": {"en": "degenerate estimates: not used", "ko": "비정상 추정치: 사용 안 함"},
    "ltv_status_failed": {"en": "did not converge: not used", "ko": "수렴 실패: 사용 안 함"},
    "ltv_selected_mark": {"en": " (selected)", "ko": " (선택)"},
    # validation charts
    "ltv_caption_holdout": {
        "en": "Customers grouped by their repeat purchases before the holdout: what they bought in the holdout, and what each model expected.",
        "ko": "홀드아웃 이전 재구매 횟수로 묶은 고객이 홀드아웃 기간에 실제로 구매한 횟수와 각 모델의 예측입니다."},
    "ltv_caption_tracking": {
        "en": "Repeat purchases of the same customers week by week, added up: a model that tracks the actual line after the holdout starts forecasts the business well.",
        "ko": "같은 고객들의 주별 누적 재구매입니다. 홀드아웃 시작 이후에도 실제 선을 잘 따라가는 모델이 예측력이 좋은 모델입니다."},
    "ltv_caption_histogram": {
        "en": "How many customers made 0, 1, 2 … repeat purchases before the holdout, against each model's expectation.",
        "ko": "홀드아웃 이전에 재구매를 0, 1, 2 … 회 한 고객 수와 각 모델의 기대값입니다."},
    "ltv_chart_holdout": {"en": "Holdout purchases by calibration purchases", "ko": "보정 기간 구매 횟수별 홀드아웃 구매"},
    "ltv_axis_cal_freq": {"en": "Repeat purchases in the calibration period", "ko": "보정 기간 재구매 횟수"},
    "ltv_axis_holdout_mean": {"en": "Mean purchases in the holdout", "ko": "홀드아웃 기간 평균 구매 횟수"},
    "ltv_actual": {"en": "actual", "ko": "실제"},
    "ltv_chart_tracking": {"en": "Cumulative repeat purchases: actual and models",
                           "ko": "누적 재구매: 실제와 모델"},
    "ltv_axis_cum": {"en": "Cumulative repeat purchases", "ko": "누적 재구매 수"},
    "ltv_axis_date": {"en": "Week", "ko": "주"},
    "ltv_holdout_starts": {"en": "holdout starts", "ko": "홀드아웃 시작"},
    "ltv_chart_histogram": {"en": "Customers by repeat purchases in the calibration period",
                            "ko": "보정 기간 재구매 횟수별 고객 수"},
    "ltv_axis_customers": {"en": "Customers", "ko": "고객 수"},
    "ltv_chart_clv": {"en": "CLV per customer, next {months} months", "ko": "고객별 CLV, 향후 {months}개월"},
    "ltv_axis_clv": {"en": "CLV ({currency})", "ko": "CLV ({currency})"},
    "ltv_chart_trend": {"en": "What feeds the models, last {n} months", "ko": "모델 입력 지표, 최근 {n}개월"},
    "ltv_new_buyers": {"en": "New buyers", "ko": "신규 구매 고객"},
    "ltv_repeat_days": {"en": "Repeat purchase days", "ko": "재구매 일수"},
    "ltv_buyers": {"en": "Buyers", "ko": "구매 고객"},
    "ltv_spend_per_day": {"en": "Spend per purchase day", "ko": "구매일당 지출"},
    # breakdown columns
    "ltv_col_segment": {"en": "RFM segment", "ko": "RFM 세그먼트"},
    "ltv_col_channel": {"en": "Acquisition channel", "ko": "유입 채널"},
    "ltv_col_cohort": {"en": "Signup quarter", "ko": "가입 분기"},
    "ltv_col_cohort_derived": {"en": "First-seen quarter", "ko": "첫 활동 분기"},
    "ltv_col_customers": {"en": "Customers", "ko": "고객 수"},
    "ltv_col_clv_total": {"en": "Total CLV", "ko": "CLV 합계"},
    "ltv_col_clv_share": {"en": "Share of CLV", "ko": "CLV 비중"},
    "ltv_col_clv_mean": {"en": "Mean CLV", "ko": "평균 CLV"},
    "ltv_col_p_alive": {"en": "Mean P(alive)", "ko": "평균 P(alive)"},
    "ltv_col_purchases": {"en": "Expected purchases", "ko": "기대 구매 횟수"},
    "ltv_col_signups": {"en": "Signups", "ko": "가입 고객"},
    "ltv_col_spend": {"en": "Spend", "ko": "광고비"},
    "ltv_col_cac": {"en": "CAC", "ko": "CAC"},
    "ltv_col_ltv": {"en": "LTV per signup", "ko": "가입자당 LTV"},
    "ltv_col_ltv_cac": {"en": "LTV:CAC", "ko": "LTV:CAC"},
    "ltv_col_ltv_margin": {"en": "LTV per signup (margin {margin})", "ko": "가입자당 LTV (이익률 {margin})"},
    "ltv_col_ltv_cac_ci": {"en": "LTV:CAC, 95% interval", "ko": "LTV:CAC 95% 구간"},
    "ltv_col_payback": {"en": "CAC payback (months)", "ko": "CAC 회수 기간 (개월)"},
    "ltv_col_quantile": {"en": "Customers", "ko": "고객 구간"},
    "ltv_col_clv": {"en": "CLV", "ko": "CLV"},
    "ltv_payback_over": {"en": "over {k}", "ko": "{k} 초과"},
    "ltv_q_p50": {"en": "median", "ko": "중앙값"},
    "ltv_q_p75": {"en": "top 25% from", "ko": "상위 25% 경계"},
    "ltv_q_p90": {"en": "top 10% from", "ko": "상위 10% 경계"},
    "ltv_q_p99": {"en": "top 1% from", "ko": "상위 1% 경계"},
    "ltv_q_top10_share": {"en": "share of CLV held by the top 10%", "ko": "상위 10% 고객의 CLV 비중"},
    "ltv_unknown": {"en": "(not recorded)", "ko": "(기록 없음)"},
    # notes and sentences
    "ltv_no_purchases": {"en": "No customer has a paid order up to the period end: lifetime value cannot be estimated.",
                         "ko": "기간 말까지 결제 완료 주문이 있는 고객이 없어 생애 가치를 추정할 수 없습니다."},
    "ltv_no_model": {"en": "No purchase model is good enough for this data: none of the three gave credible estimates that held up where they could be checked, so expected purchases and CLV are not shown.",
                     "ko": "이 데이터에 충분히 맞는 구매 모델이 없습니다: 세 모델 모두 검증할 수 있는 범위에서 믿을 만한 추정치를 내지 못해 기대 구매와 CLV를 표시하지 않습니다."},
    "ltv_reason_predictions": {"en": "predictions not finite", "ko": "예측값이 유한하지 않음"},
    "ltv_reason_log_likelihood": {"en": "log-likelihood not finite", "ko": "로그우도가 유한하지 않음"},
    "ltv_reason_ridge": {"en": "{bound}: every customer's dropout rate alike", "ko": "{bound}: 모든 고객의 이탈률이 같음"},
    "ltv_no_holdout": {
        "en": "The history is too short for the {days}-day holdout (definitions.ltv_holdout_days): no customer made a repeat purchase before it, so the models cannot be checked on purchases they did not see.",
        "ko": "{days}일 홀드아웃(definitions.ltv_holdout_days)을 두기에는 데이터 기간이 짧습니다: 홀드아웃 이전에 재구매한 고객이 없어 모델을 보지 않은 구매로 검증할 수 없습니다."},
    "ltv_no_cal_model": {
        "en": "None of the models fitted on the purchases before the {days}-day holdout gave usable estimates, so none could be checked on the holdout.",
        "ko": "{days}일 홀드아웃 이전 구매로 적합한 모델 중 쓸 수 있는 추정치를 낸 모델이 없어 홀드아웃으로 검증하지 못했습니다."},
    "ltv_degenerate_note": {
        "en": "Degenerate estimates, not used: {models}. The optimizer stopped at the edge of what the model can express (a parameter near zero or exploding), which describes no real customer base; this is typical of a short history.",
        "ko": "비정상 추정치로 사용하지 않은 모델: {models}. 최적화가 모델이 표현할 수 있는 범위의 끝(0에 가깝거나 폭주하는 모수)에서 멈춰 실제 고객 기반을 설명하지 못합니다. 데이터 기간이 짧을 때 흔히 나타납니다."},
    "ltv_counts_only": {
        "en": "Order amounts are unknown for this client (orders derived from events without a value): spend per purchase, CLV in money, CLV by RFM segment and LTV:CAC are not computed; expected purchases and P(alive) are.",
        "ko": "이 고객사는 주문 금액이 없습니다(값이 없는 이벤트에서 만든 주문): 구매당 지출, 금액 기준 CLV, RFM 세그먼트별 CLV, LTV:CAC는 계산하지 않고 기대 구매 횟수와 P(alive)만 계산합니다."},
    "ltv_summary_counts": {
        "en": "{n} customers have bought at least once; {repeat} ({repeat_share}) came back on another day. Over the next {months} months they are expected to make {purchases} purchases.",
        "ko": "한 번 이상 구매한 고객은 {n}명이며, 이 중 {repeat}명({repeat_share})이 다른 날 다시 구매했습니다. 향후 {months}개월 동안 이들의 기대 구매는 {purchases}회입니다."},
    "ltv_trend_empty": {
        "en": "No purchases in the last {n} months: the models' inputs have no trend to show.",
        "ko": "최근 {n}개월 동안 구매가 없어 모델 입력 지표의 추이를 표시할 수 없습니다."},
    "ltv_summary_sentence": {
        "en": "{n} customers have bought at least once; {repeat} ({repeat_share}) came back on another day. Over the next {months} months they are expected to make {purchases} purchases worth {clv} (discounted at {rate} a month).",
        "ko": "한 번 이상 구매한 고객은 {n}명이며, 이 중 {repeat}명({repeat_share})이 다른 날 다시 구매했습니다. 향후 {months}개월 동안 이들의 기대 구매는 {purchases}회, 가치는 {clv}입니다 (월 {rate} 할인)."},
    "ltv_selection_sentence": {
        "en": "The {model} model predicts the holdout best: its error is {rmse} purchases per customer (root mean square), against {others}. Its predictions are used below.",
        "ko": "홀드아웃을 가장 잘 예측한 모델은 {model}입니다: 고객당 오차(RMSE)가 {rmse}회로, {others}보다 작습니다. 아래 예측에는 이 모델을 사용합니다."},
    "ltv_selection_ll": {"en": "The {model} model has the highest log-likelihood and is used below, unchecked on a holdout: read its predictions as rough.",
                         "ko": "로그우도가 가장 높은 {model} 모델을 아래 예측에 사용하지만, 홀드아웃으로 검증하지 못했으므로 예측은 대략적인 값으로 보세요."},
    "ltv_holdout_sentence": {
        "en": "Calibration: {n} customers who bought by {cal_end}; holdout: {start} to {end} ({days} days), in which they made {actual} purchases; {model} predicted {predicted} ({error}).",
        "ko": "보정 기간: {cal_end}까지 구매한 고객 {n}명, 홀드아웃: {start}–{end} ({days}일). 홀드아웃 실제 구매는 {actual}회, {model} 예측은 {predicted}회입니다 ({error})."},
    "ltv_penalized_note": {
        "en": "{model} did not converge without regularisation and was refitted with a small penalizer ({c}); its parameters are slightly shrunk.",
        "ko": "{model}은(는) 정규화 없이 수렴하지 않아 작은 벌점({c})으로 다시 적합했으며, 모수가 약간 축소되어 있습니다."},
    "ltv_failed_note": {"en": "{model} did not converge, even with a penalizer: it is left out.",
                        "ko": "{model}은(는) 벌점을 주어도 수렴하지 않아 제외했습니다."},
    "ltv_gg_sentence": {
        "en": "Spend per purchase day follows the Gamma-Gamma model (p = {p}, q = {q}, v = {v}), fitted on the {n} customers with repeat purchases: its mean spend is {mean} per purchase day (observed: {observed}).",
        "ko": "구매일당 지출은 재구매 고객 {n}명에게 적합한 Gamma-Gamma 모델(p = {p}, q = {q}, v = {v})을 따르며, 모델의 평균 지출은 구매일당 {mean}입니다 (실제: {observed})."},
    "ltv_corr_ok": {
        "en": "The model assumes that how often a customer buys and how much she spends are unrelated: here their correlation is {r} (repeat customers), small enough for the assumption to hold.",
        "ko": "이 모델은 구매 빈도와 지출 금액이 서로 무관하다고 가정합니다. 재구매 고객의 상관계수는 {r}(으)로, 가정이 성립한다고 볼 만큼 작습니다."},
    "ltv_corr_bad": {
        "en": "The model assumes that how often a customer buys and how much she spends are unrelated, but here their correlation is {r}: the spend side of CLV is less reliable, read it with care.",
        "ko": "이 모델은 구매 빈도와 지출 금액이 서로 무관하다고 가정하지만, 여기서는 상관계수가 {r}입니다: CLV의 지출 부분은 신뢰도가 낮으니 주의해서 보세요."},
    "ltv_gg_fallback": {
        "en": "Gamma-Gamma could not be used ({why}): CLV uses the average spend per purchase day of all customers, {mean}.",
        "ko": "Gamma-Gamma 모델을 쓸 수 없어({why}) CLV에는 전체 고객의 구매일당 평균 지출 {mean}을(를) 사용합니다."},
    "ltv_gg_why_few": {"en": "fewer than {n} customers with repeat purchases", "ko": "재구매 고객이 {n}명 미만"},
    "ltv_gg_why_failed": {"en": "it did not converge", "ko": "수렴하지 않음"},
    "ltv_gg_why_degenerate": {"en": "its estimates are degenerate: {why}", "ko": "추정치가 비정상: {why}"},
    "ltv_no_acquisition": {
        "en": "CLV by acquisition channel needs the customers table with an acquisition_channel column, which this client has not supplied.",
        "ko": "유입 채널별 CLV에는 acquisition_channel 컬럼이 있는 고객 테이블이 필요하지만 이 고객사에서는 제공되지 않았습니다."},
    "ltv_no_cac": {
        "en": "LTV:CAC and CAC payback are not available: they need marketing spend and the customers' acquisition channel.",
        "ko": "LTV:CAC와 CAC 회수 기간은 제공되지 않습니다: 마케팅 광고비와 고객의 유입 채널 데이터가 필요합니다."},
    "ltv_cac_note": {
        "en": "Customers who signed up {start} to {end}. CAC = the channel's marketing spend in those months / its signups; LTV per signup = the gross margin ({margin}, definitions.gross_margin) × (the revenue those signups brought so far plus their expected CLV over {months} months), divided by the signups (customers who have not bought yet count as 0). Payback: months after signup until the average cumulative revenue per signup (all cohorts pooled) × the margin covers the CAC. The 95% interval of LTV:CAC combines the models' parameter uncertainty with the sampling of each channel's signups ({n} replicates).",
        "ko": "{start}–{end}에 가입한 고객 기준입니다. CAC = 해당 기간 채널 광고비 / 채널 가입자 수, 가입자당 LTV = 매출총이익률({margin}, definitions.gross_margin) × (이 가입자들이 지금까지 낸 매출 + 향후 {months}개월 기대 CLV) / 가입자 수(아직 구매하지 않은 고객은 0)입니다. 회수 기간: 가입 후 가입자당 평균 누적 매출(전체 코호트 합산) × 이익률이 CAC를 넘는 데 걸린 개월 수입니다. LTV:CAC의 95% 구간은 모델 모수의 불확실성과 채널별 가입자 표본의 변동을 함께 반영합니다({n}회 반복)."},
    "ltv_margin_revenue": {
        "en": "The gross margin is set to 100%: LTV here is revenue, not profit, and overstates what a channel earns against its cost. Set definitions.gross_margin in the client file to compare profit with CAC.",
        "ko": "매출총이익률이 100%로 설정되어 있어 여기의 LTV는 이익이 아닌 매출이며, 비용 대비 채널의 수익을 과대평가합니다. 이익과 CAC를 비교하려면 고객사 파일의 definitions.gross_margin을 설정하세요."},
    "ltv_unknown_note": {
        "en": "{n} signups have no recorded acquisition channel: their LTV is shown, but no marketing spend can be attributed to them, so they have no CAC and are not compared.",
        "ko": "가입자 {n}명은 유입 채널이 기록되지 않았습니다: LTV는 표시하지만 광고비를 배분할 수 없어 CAC가 없고 비교하지 않습니다."},
    "ltv_ltv_cac_sentence": {
        "en": "{best} returns the most per acquisition cost (LTV:CAC {best_ratio}); {worst} the least ({worst_ratio}).",
        "ko": "획득 비용 대비 가치가 가장 높은 채널은 {best}(LTV:CAC {best_ratio}), 가장 낮은 채널은 {worst}({worst_ratio})입니다."},
    "ltv_export_sentence": {
        "en": "Target lists (pseudonymized customer ids) in the report's exports folder: {top} (the {n_top} customers with the highest CLV) and {risk} ({n_risk} customers in the top fifth by past spend whose P(alive) is below {alive}).",
        "ko": "타깃 목록(가명 처리된 고객 ID)은 리포트의 exports 폴더에 있습니다: {top} (CLV 상위 {n_top}명), {risk} (과거 지출 상위 20% 중 P(alive)가 {alive} 미만인 {n_risk}명)."},
    "ltv_export_none": {
        "en": "Target lists are written to the exports folder when the report is rendered: the {n_top} customers with the highest CLV, and {n_risk} high-value customers whose P(alive) is below {alive}.",
        "ko": "리포트를 생성하면 exports 폴더에 타깃 목록이 저장됩니다: CLV 상위 {n_top}명, P(alive)가 {alive} 미만인 고가치 고객 {n_risk}명."},
    "ltv_closing": {
        "en": "The models were fitted on {triples} distinct (frequency, recency, T) patterns standing for {customers} customers, in {seconds} seconds for all fits. Fitting time grows with the number of distinct patterns, not of customers, and with more than {limit} customers the models are fitted on a random sample of that many, so fitting stays within about a minute whatever the client's size. Each model is fitted twice (calibration and all data). The summary query on the engine grows linearly with the number of orders.",
        "ko": "모델은 고객 {customers}명을 대표하는 서로 다른 (frequency, recency, T) 조합 {triples}개에 적합했으며, 모든 적합에 {seconds}초가 걸렸습니다. 적합 시간은 고객 수가 아니라 서로 다른 조합의 수에 따라 늘어나며, 고객이 {limit}명보다 많으면 그만큼의 무작위 표본으로 적합하므로 고객 규모와 관계없이 약 1분 안에 끝납니다. 각 모델은 두 번(보정 기간, 전체 데이터) 적합합니다. 엔진의 요약 쿼리는 주문 수에 비례해 늘어납니다."},
    "ltv_sampled_note": {
        "en": "With {n} customers, each purchase model was fitted on a random sample of {k} of them (definitions.ltv_max_fit_customers); the predictions cover every customer.",
        "ko": "고객이 {n}명이어서 각 구매 모델은 무작위 표본 {k}명으로 학습했습니다 (definitions.ltv_max_fit_customers). 예측은 모든 고객에 대해 계산했습니다."},
    "ltv_unit_note": {
        "en": "Time unit of the models: {unit}. Repeat purchases are counted as distinct purchase days (several orders on one day are one purchase).",
        "ko": "모델의 시간 단위: {unit}. 재구매는 서로 다른 구매일 수로 셉니다 (같은 날의 여러 주문은 한 번의 구매)."},
    "ltv_bgnbd_zero": {
        "en": "Note: BG/NBD counts a customer as certainly active until her first repeat purchase: the P(alive) of a one-time buyer is 100% by construction, however long ago she bought. Read P(alive) for repeat buyers only.",
        "ko": "참고: BG/NBD는 첫 재구매 전까지 고객을 확실히 활성으로 간주합니다. 1회 구매 고객의 P(alive)는 구매 시점과 관계없이 구조적으로 100%이므로, P(alive)는 재구매 고객에 대해서만 해석하세요."},
    "ltv_mbgnbd_zero": {
        "en": "Note: unlike BG/NBD, MBG/NBD lets a customer drop out right after her first purchase, so the P(alive) of a one-time buyer falls the longer she has not come back (here from {high} to {low}).",
        "ko": "참고: BG/NBD와 달리 MBG/NBD는 첫 구매 직후에도 이탈할 수 있다고 보므로, 1회 구매 고객의 P(alive)는 재방문하지 않은 기간이 길수록 낮아집니다 (여기서는 {high}에서 {low}까지)."},
    "ltv_clv_interval": {
        "en": "95% interval of the {months}-month value: {low} to {high} ({mean_low} to {mean_high} per customer), from {n} refits of the models on customers drawn with replacement. It covers the uncertainty of the models' parameters, not the chance of the purchases themselves.",
        "ko": "{months}개월 가치의 95% 구간: {low}~{high} (고객당 {mean_low}~{mean_high}), 고객을 복원 추출해 모델을 {n}번 다시 적합한 결과입니다. 모델 모수의 불확실성만 반영하며 구매 자체의 우연성은 포함하지 않습니다."},
    "ltv_clv_unstable": {
        "en": "No interval for this value: refitted on customers drawn with replacement, {model} broke down (no convergence, or degenerate estimates) on {failed} of {tries} tries. On so little or so irregular a history the model's parameters are not pinned down: read the CLV figures as rough.",
        "ko": "이 가치에는 구간을 제시하지 않습니다: 고객을 복원 추출해 다시 적합했을 때 {model}이(가) {tries}번 중 {failed}번 실패(수렴 실패 또는 비정상 추정치)했습니다. 이렇게 적거나 불규칙한 이력에서는 모델 모수가 정해지지 않으므로 CLV 수치는 대략적인 값으로 보세요."},
    "ltv_clv_interval_stopped": {
        "en": "The refits stopped at the time budget (definitions.ltv_bootstrap_seconds) after {n} of {requested}.",
        "ko": "재적합은 시간 한도(definitions.ltv_bootstrap_seconds)에 따라 {requested}회 중 {n}회 후 멈췄습니다."},
    # what to look at next
    "ltv_next_risk": {
        "en": "Win back the {n} high-value customers who are probably lapsing (P(alive) below {alive}, top fifth by past spend): together they spent {spend} so far. The list is in the exports.",
        "ko": "이탈 중일 가능성이 높은 고가치 고객 {n}명(P(alive) {alive} 미만, 과거 지출 상위 20%)을 되찾으세요: 이들의 지금까지 지출은 {spend}입니다. 목록은 exports에 있습니다."},
    "ltv_next_risk_counts": {
        "en": "Win back the {n} most frequent customers who are probably lapsing (P(alive) below {alive}, top fifth by past purchase days). The list is in the exports.",
        "ko": "이탈 중일 가능성이 높은 구매 빈도 상위 고객 {n}명(P(alive) {alive} 미만, 과거 구매일 수 상위 20%)을 되찾으세요. 목록은 exports에 있습니다."},
    "ltv_next_concentration": {
        "en": "The top 10% of customers hold {share} of the expected value: protect them first (service, early access, loyalty offers).",
        "ko": "상위 10% 고객이 기대 가치의 {share}을(를) 차지합니다: 이들을 먼저 지키세요 (서비스, 우선 혜택, 로열티 제안)."},
    "ltv_next_channel": {
        "en": "Shift acquisition budget towards {best}: its LTV:CAC is {best_ratio}, against {worst_ratio} for {worst} (95% interval of the difference {gap_low} to {gap_high}, at a gross margin of {margin}).",
        "ko": "획득 예산을 {best} 쪽으로 옮기는 것을 검토하세요: LTV:CAC가 {best_ratio}(으)로 {worst}({worst_ratio})보다 높습니다 (차이의 95% 구간 {gap_low}~{gap_high}, 매출총이익률 {margin} 기준)."},
    "ltv_next_channel_uncertain": {
        "en": "{best} shows a higher LTV:CAC than {worst} ({best_ratio} against {worst_ratio}), but the 95% interval of the difference includes no difference: not enough evidence yet to move budget between them.",
        "ko": "{best}의 LTV:CAC가 {worst}보다 높아 보이지만({best_ratio} 대 {worst_ratio}), 차이의 95% 구간이 0을 포함합니다: 아직 예산을 옮길 근거가 충분하지 않습니다."},
    "ltv_next_unprofitable": {
        "en": "{channel} does not earn its acquisition cost back within {months} months (LTV:CAC {ratio}, the whole 95% interval below 1, at a gross margin of {margin}): review its spend.",
        "ko": "{channel}은(는) {months}개월 안에 획득 비용을 회수하지 못합니다 (LTV:CAC {ratio}, 95% 구간 전체가 1 미만, 매출총이익률 {margin} 기준): 광고비를 검토하세요."},
    "ltv_next_model": {
        "en": "The selected model misses total holdout purchases by {error}: treat individual CLVs as rough and re-check next month.",
        "ko": "선택된 모델의 홀드아웃 총 구매 오차가 {error}입니다: 개별 CLV는 대략적인 값으로 보고 다음 달에 다시 확인하세요."},
    "ltv_next_correlation": {
        "en": "Frequency and spend are correlated ({r}): consider modelling spend by segment before using CLV for budgets.",
        "ko": "구매 빈도와 지출이 상관되어 있습니다 ({r}): CLV를 예산에 쓰기 전에 세그먼트별 지출 모델을 검토하세요."},
    "ltv_next_nothing_unchecked": {
        "en": "Nothing in lifetime value stands out this month, but the model could not be checked on a holdout: re-check when the history is longer.",
        "ko": "이번 달 생애 가치에서 눈에 띄는 점은 없지만, 모델을 홀드아웃으로 검증하지 못했습니다: 데이터 기간이 길어지면 다시 확인하세요."},
    "ltv_next_nothing": {
        "en": "Nothing in lifetime value stands out this month: the models validate well and no group of valuable customers is lapsing.",
        "ko": "이번 달 생애 가치에서 눈에 띄는 점은 없습니다: 모델 검증 결과가 양호하고 이탈 중인 고가치 고객 집단도 없습니다."},
})




# --------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------

def labels(cfg) -> dict[str, str]:
    """Display label of each key figure (:data:`compute.KINDS`) in the client's language."""
    months = int(cfg.definitions.ltv_horizon_months)
    return {k: i18n.t(f"ltv_{k}", cfg.language, months=months) for k in KINDS}


def model_name(name: str, cfg) -> str:
    """A transaction model's display name (``bgnbd`` → BG/NBD)."""
    return i18n.t(f"ltv_model_{name}", cfg.language)


def group_label(kind: str, key, cfg) -> str:
    """The display name of a breakdown group: ``kind`` is ``segment`` (an
    RFM key, named by :func:`journeykit.facts.label`), ``channel`` or
    ``cohort``; the folded and unknown groups get their words."""
    if key == OTHER:
        return i18n.t("other_group", cfg.language)
    if kind == "segment":
        return facts.label("rfm", str(key), cfg)
    if kind == "channel" and key == UNKNOWN:
        return i18n.t("ltv_unknown", cfg.language)
    return str(key)


_REASONS = {"predictions not finite": "ltv_reason_predictions", "log-likelihood not finite": "ltv_reason_log_likelihood"}


def reason(why: str | None, cfg) -> str:
    """Why a fit is degenerate (:attr:`journeykit.sections.ltv.models.Fit.degenerate`),
    in the client's language: the fixed reasons are translated, a
    Pareto/NBD stopped on its ridge (``s > 30``) says what that means, and
    a parameter value (``a = 1e-11``) is shown as it is."""
    if why is None:
        return ""
    if why in _REASONS:
        return i18n.t(_REASONS[why], cfg.language)
    if why.startswith("s > "):
        return i18n.t("ltv_reason_ridge", cfg.language, bound=why)
    return why


def _money(x, cfg) -> str:
    return report.fmt_money(x, cfg.currency)


def _ratio(x) -> str:
    return "–" if x is None or pd.isna(x) else f"{float(x):.1f}"


def _margin(cfg) -> str:
    return report.fmt_pct(float(cfg.definitions.gross_margin), 0)


def _signed_pct(x: float) -> str:
    return ("+" if x >= 0 else "−") + report.fmt_pct(abs(x))


def _table(df: pd.DataFrame, cfg, columns: dict):
    """``df``'s ``columns`` (column → (i18n key, display kind)), renamed to
    the client's language, as a report table."""
    lang = cfg.language
    out = df[list(columns)].copy()
    lab = {c: i18n.t(key, lang) for c, (key, _) in columns.items()}
    return report.table(out.rename(columns=lab), cfg, {lab[c]: kind for c, (_, kind) in columns.items()})


# --------------------------------------------------------------------------
# Generated sentences
# --------------------------------------------------------------------------

def insights(ds, cfg) -> list[str]:
    """The summary: customers, repeat buyers, expected purchases and CLV
    over the horizon; or the one reason there is none (no purchases, no
    usable model). Without amounts, the purchases only, and why."""
    lang = cfg.language
    a = compute.analyse(ds, cfg)
    if a.customers.empty:
        return [i18n.t("ltv_no_purchases", lang)]
    if not a.ok:
        return [i18n.t("ltv_no_model", lang)]
    c = a.customers
    rep = int((c["frequency"] > 0).sum())
    values = dict(n=report.fmt_int(len(c)), repeat=report.fmt_int(rep), repeat_share=report.fmt_pct(rep / len(c)),
                  months=int(cfg.definitions.ltv_horizon_months), purchases=report.fmt_int(c["expected_purchases"].sum()))
    if not a.amounts:
        return [i18n.t("ltv_summary_counts", lang, **values), i18n.t("ltv_counts_only", lang)]
    out = [i18n.t("ltv_summary_sentence", lang, **values, clv=_money(c["clv"].sum(), cfg),
                  rate=report.fmt_pct(float(cfg.definitions.ltv_discount_rate_monthly)))]
    return out + interval_sentences(ds, cfg)


def interval_sentences(ds, cfg) -> list[str]:
    """The 95% interval of the CLV total and mean
    (:func:`compute.clv_intervals`), how many refits it rests on, and
    whether the time budget stopped them; empty without an interval."""
    lang = cfg.language
    iv = compute.clv_intervals(ds, cfg)
    if iv is None:
        return []
    if iv["unstable"]:
        return [i18n.t("ltv_clv_unstable", lang, model=model_name(compute.analyse(ds, cfg).selected, cfg),
                       failed=report.fmt_int(iv["failed"]), tries=report.fmt_int(iv["failed"] + iv["samples"]))]
    if iv["clv_total"] is None:
        return []
    (lo, hi), (mlo, mhi) = iv["clv_total"], iv["clv_mean"]
    out = [i18n.t("ltv_clv_interval", lang, months=int(cfg.definitions.ltv_horizon_months), low=_money(lo, cfg),
                  high=_money(hi, cfg), mean_low=_money(mlo, cfg), mean_high=_money(mhi, cfg),
                  n=report.fmt_int(iv["samples"]))]
    if iv["stopped"]:
        out.append(i18n.t("ltv_clv_interval_stopped", lang, n=report.fmt_int(iv["samples"] + iv["failed"]),
                          requested=report.fmt_int(iv["requested"])))
    return out


def model_notes(ds, cfg) -> list[str]:
    """Sentences on the model fits: the unit, a fit on a sample, penalized
    retries and failures, degenerate estimates (one sentence for all), how
    the model was selected — with the holdout comparison, or the one
    sentence saying the history is too short for the holdout. Empty
    without purchases."""
    lang = cfg.language
    a = compute.analyse(ds, cfg)
    if a.customers.empty:
        return []
    out = [i18n.t("ltv_unit_note", lang, unit=i18n.t(f"ltv_unit_{a.unit}", lang))]
    fitted = [f for f in a.fits.values() if f.converged]
    if fitted and fitted[0].n_customers < len(a.customers):
        out.append(i18n.t("ltv_sampled_note", lang, n=report.fmt_int(len(a.customers)),
                          k=report.fmt_int(fitted[0].n_customers)))
    degenerate = a.degenerate
    for name in MODELS:
        if name in degenerate:
            continue
        fs = [f for f in (a.cal_fits.get(name), a.fits.get(name)) if f is not None]
        if any(f.status == "failed" for f in fs):
            out.append(i18n.t("ltv_failed_note", lang, model=model_name(name, cfg)))
        elif any(f.status == "penalized" for f in fs):
            out.append(i18n.t("ltv_penalized_note", lang, model=model_name(name, cfg), c=PENALIZER))
    if degenerate:
        out.append(i18n.t("ltv_degenerate_note", lang,
                          models=", ".join(f"{model_name(n, cfg)} ({reason(why, cfg)})" for n, why in degenerate.items())))
    days = int(cfg.definitions.ltv_holdout_days)
    if a.calibration is None:
        out.append(i18n.t("ltv_no_holdout", lang, days=days))
    elif not a.holdout:
        out.append(i18n.t("ltv_no_cal_model", lang, days=days))
    if a.selected_by == "holdout":
        sel = a.holdout[a.selected]
        others = [f"{model_name(n, cfg)} {report.fmt_num(a.holdout[n]['rmse'], 2)}" for n in MODELS
                  if n != a.selected and a.holdout.get(n, {}).get("rmse") is not None]
        out.append(i18n.t("ltv_selection_sentence", lang, model=model_name(a.selected, cfg),
                          rmse=report.fmt_num(sel["rmse"], 2), others=", ".join(others) or "–"))
        out.append(i18n.t("ltv_holdout_sentence", lang, n=report.fmt_int(len(a.calibration)),
                          cal_end=report.fmt_date(a.calibration_end),
                          start=report.fmt_date(a.calibration_end + dt.timedelta(days=1)), end=report.fmt_date(a.end),
                          days=days, actual=report.fmt_int(sel["actual"]), model=model_name(a.selected, cfg),
                          predicted=report.fmt_int(sel["predicted"]), error=_signed_pct(sel["total_error"] or 0)))
    elif a.selected_by == "log_likelihood":
        out.append(i18n.t("ltv_selection_ll", lang, model=model_name(a.selected, cfg)))
    if a.selected == "bgnbd":
        out.append(i18n.t("ltv_bgnbd_zero", lang))
    elif a.selected == "mbgnbd":
        one = a.customers.loc[a.customers["frequency"] == 0, "p_alive"]
        if len(one):
            out.append(i18n.t("ltv_mbgnbd_zero", lang, high=report.fmt_pct(one.max()), low=report.fmt_pct(one.min())))
    return out


def spend_notes(ds, cfg) -> list[str]:
    """Sentences on the spend model: the frequency–spend correlation check
    (doubtful when |r| ≥ :data:`compute.CORRELATION_LIMIT`) and the
    Gamma-Gamma fit, or why it was not used. Empty without amounts (said
    once in :func:`insights`)."""
    lang = cfg.language
    a = compute.analyse(ds, cfg)
    if not a.amounts or a.customers.empty:
        return []
    out = []
    if a.correlation is not None:
        key = "ltv_corr_bad" if abs(a.correlation) >= compute.CORRELATION_LIMIT else "ltv_corr_ok"
        out.append(i18n.t(key, lang, r=f"{a.correlation:.2f}"))
    gg = a.gamma_gamma
    if gg is not None and gg.usable:
        rep = a.customers[(a.customers["frequency"] > 0) & (a.customers["monetary_value"] > 0)]
        out.append(i18n.t("ltv_gg_sentence", lang, p=f"{gg.params['p']:.2f}", q=f"{gg.params['q']:.2f}",
                          v=report.fmt_num(gg.params["v"], 1), n=report.fmt_int(a.repeat_customers),
                          mean=_money(population_spend(gg.params), cfg),
                          observed=_money(rep["monetary_value"].mean(), cfg)))
    elif a.spend_fallback is not None:
        if gg is None:
            why = i18n.t("ltv_gg_why_few", lang, n=MIN_REPEAT_CUSTOMERS)
        elif gg.status == "degenerate":
            why = i18n.t("ltv_gg_why_degenerate", lang, why=reason(gg.degenerate, cfg))
        else:
            why = i18n.t("ltv_gg_why_failed", lang)
        out.append(i18n.t("ltv_gg_fallback", lang, why=why, mean=_money(a.spend_fallback, cfg)))
    return out


def next_steps(ds, cfg) -> list[str]:
    """"What to look at next": one sentence per :func:`compute.findings`
    rule that fires, or one saying nothing stands out. Empty without a
    selected model (said once in :func:`insights`)."""
    lang = cfg.language
    if not compute.analyse(ds, cfg).ok:
        return []
    months = int(cfg.definitions.ltv_horizon_months)
    out = []
    for f in compute.findings(ds, cfg):
        rule = f["rule"]
        if rule == "risk":
            alive = report.fmt_pct(LOW_ALIVE, 0)
            out.append(i18n.t("ltv_next_risk", lang, n=report.fmt_int(f["n"]), alive=alive, spend=_money(f["spend"], cfg))
                       if f["spend"] is not None else
                       i18n.t("ltv_next_risk_counts", lang, n=report.fmt_int(f["n"]), alive=alive))
        elif rule == "concentration":
            out.append(i18n.t("ltv_next_concentration", lang, share=report.fmt_pct(f["share"])))
        elif rule == "channel":
            out.append(i18n.t("ltv_next_channel", lang, best=f["best"], worst=f["worst"],
                              best_ratio=_ratio(f["best_ratio"]), worst_ratio=_ratio(f["worst_ratio"]),
                              gap_low=_ratio(f["gap"][0]), gap_high=_ratio(f["gap"][1]), margin=_margin(cfg)))
        elif rule == "channel_uncertain":
            out.append(i18n.t("ltv_next_channel_uncertain", lang, best=f["best"], worst=f["worst"],
                              best_ratio=_ratio(f["best_ratio"]), worst_ratio=_ratio(f["worst_ratio"])))
        elif rule == "unprofitable":
            out.append(i18n.t("ltv_next_unprofitable", lang, channel=f["channel"], ratio=_ratio(f["ratio"]),
                              margin=_margin(cfg),
                              months=months))
        elif rule == "model":
            out.append(i18n.t("ltv_next_model", lang, error=_signed_pct(f["error"])))
        elif rule == "correlation":
            out.append(i18n.t("ltv_next_correlation", lang, r=f"{f['r']:.2f}"))
    if out:
        return out
    return [i18n.t("ltv_next_nothing" if compute.analyse(ds, cfg).selected_by == "holdout" else "ltv_next_nothing_unchecked",
                   lang)]


def closing(ds, cfg):
    """Fit time and patterns, and how fitting scales with customers (a
    note for the analyst: the notebook shows it in a cell the client's
    HTML and PDF leave out); ``None`` without purchases."""
    a = compute.analyse(ds, cfg)
    if a.customers.empty:
        return None
    fitted = [f for f in a.fits.values() if f.converged]
    triples_, customers = ((fitted[0].n_rows, fitted[0].n_customers) if fitted
                           else (a.n_triples, len(a.customers)))
    return report.Note(i18n.t("ltv_closing", cfg.language, triples=report.fmt_int(triples_),
                              customers=report.fmt_int(customers), seconds=report.fmt_num(a.fit_seconds, 1),
                              limit=report.fmt_int(int(cfg.definitions.ltv_max_fit_customers))))


# --------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------

def _fmt_params(params: dict | None) -> str:
    if not params:
        return "–"
    return ", ".join(f"{k} = {v:,.3g}" if abs(v) < 1000 else f"{k} = {v:,.0f}" for k, v in params.items())


def model_table(ds, cfg):
    """The model comparison: parameters and log-likelihood (all the data),
    holdout errors (calibration fit) and fit status — the worse of the two
    fits; the selected model marked. ``None`` without purchases."""
    lang = cfg.language
    a = compute.analyse(ds, cfg)
    rows = []
    for name in MODELS:
        f, cf, h = a.fits.get(name), a.cal_fits.get(name), a.holdout.get(name, {})
        if f is None:
            continue
        worst = max((x for x in (f, cf) if x is not None), key=lambda x: STATUSES.index(x.status))
        err = h.get("total_error")
        rows.append({
            "model": model_name(name, cfg) + (i18n.t("ltv_selected_mark", lang) if name == a.selected else ""),
            "params": _fmt_params(f.params), "ll": f.log_likelihood, "rmse": h.get("rmse"), "mae": h.get("mae"),
            "total": None if err is None else _signed_pct(err),
            "status": i18n.t(f"ltv_status_{worst.status}", lang, c=PENALIZER)})
    if not rows:
        return None
    df = pd.DataFrame(rows, columns=["model", "params", "ll", "rmse", "mae", "total", "status"])
    return _table(df, cfg, {"model": ("ltv_col_model", "text"), "params": ("ltv_col_params", "text"),
                            "ll": ("ltv_col_ll", "num"), "rmse": ("ltv_col_rmse", "num2"),
                            "mae": ("ltv_col_mae", "num2"), "total": ("ltv_col_total_error", "numtext"),
                            "status": ("ltv_col_status", "text")})


_GROUP_COLS = {"customers": ("ltv_col_customers", "int"), "clv_total": ("ltv_col_clv_total", "money"),
               "clv_share": ("ltv_col_clv_share", "pct"), "clv_mean": ("ltv_col_clv_mean", "money"),
               "p_alive": ("ltv_col_p_alive", "pct"), "expected_purchases": ("ltv_col_purchases", "num")}
_MONEY_COLS = ("clv_total", "clv_share", "clv_mean")


def _group_view(df: pd.DataFrame, kind: str, column: tuple[str, str], cfg, amounts: bool):
    df = df.assign(**{kind: [group_label(kind, k, cfg) for k in df[kind]]})
    cols = {k: v for k, v in _GROUP_COLS.items() if amounts or k not in _MONEY_COLS}
    return _table(df, cfg, {kind: column} | cols)


def segment_table(ds, cfg):
    """CLV by RFM segment (a table; the segment names of the segmentation
    section); ``None`` without CLV (the reason is said once elsewhere)."""
    df = compute.by_segment(ds, cfg)
    if df is None:
        return None
    return _group_view(df, "segment", ("ltv_col_segment", "text"), cfg, True)


def channel_table(ds, cfg):
    """CLV by acquisition channel (a table); a note when the client has no
    acquisition channels; ``None`` without a selected model."""
    if not compute.has_acquisition(ds):
        if compute.analyse(ds, cfg).customers.empty:
            return None
        return report.Note(i18n.t("ltv_no_acquisition", cfg.language))
    df = compute.by_channel(ds, cfg)
    if df is None:
        return None
    return _group_view(df, "channel", ("ltv_col_channel", "text"), cfg, compute.analyse(ds, cfg).amounts)


def cohort_table(ds, cfg):
    """CLV by signup quarter (a table; "first-seen quarter" when the loader
    derived the customers); ``None`` without a selected model."""
    df = compute.by_cohort(ds, cfg)
    if df is None:
        return None
    key = "ltv_col_cohort_derived" if compute.customers_derived(ds) else "ltv_col_cohort"
    return _group_view(df, "cohort", (key, "text"), cfg, compute.analyse(ds, cfg).amounts)


def quantile_table(ds, cfg):
    """The CLV distribution in a few numbers (a table); ``None`` without CLV."""
    q = compute.clv_quantiles(ds, cfg)
    if q is None:
        return None
    vals = [report.fmt_pct(v) if k == "pct" else _money(v, cfg) for v, k in zip(q["value"], q["kind"])]
    df = pd.DataFrame({"q": [i18n.t(f"ltv_q_{k}", cfg.language) for k in q["key"]], "v": vals})
    return _table(df, cfg, {"q": ("ltv_col_quantile", "text"), "v": ("ltv_col_clv", "numtext")})


def cac_table(ds, cfg):
    """LTV:CAC and payback by channel (a table), or a note saying what it
    needs; ``None`` without purchases or without amounts (said once in
    :func:`insights`)."""
    lang = cfg.language
    a = compute.analyse(ds, cfg)
    if a.customers.empty or not a.amounts:
        return None
    df = compute.ltv_cac(ds, cfg)
    if df is None:
        return report.Note(i18n.t("ltv_no_cac", lang))
    df = df.copy()
    df["channel"] = [group_label("channel", k, cfg) for k in df["channel"]]
    df["payback"] = [str(int(p)) if p is not None and not pd.isna(p) else
                     (i18n.t("ltv_payback_over", lang, k=int(s)) if s is not None and not pd.isna(s) else "–")
                     for p, s in zip(df["payback_months"], df["payback_observed"])]
    df["ratio"] = [_ratio(x) for x in df["ltv_cac"]]
    df["ratio_ci"] = ["–" if lo is None or pd.isna(lo) else f"{_ratio(lo)}–{_ratio(hi)}"
                      for lo, hi in zip(df["ltv_cac_ci_low"], df["ltv_cac_ci_high"])]
    cols = {"channel": ("ltv_col_channel", "text"), "signups": ("ltv_col_signups", "int"),
            "spend": ("ltv_col_spend", "money"), "cac": ("ltv_col_cac", "money"), "ltv": ("ltv_col_ltv", "money"),
            "ratio": ("ltv_col_ltv_cac", "numtext"), "ratio_ci": ("ltv_col_ltv_cac_ci", "numtext"),
            "payback": ("ltv_col_payback", "numtext")}
    lab = {c: i18n.t(key, lang) for c, (key, _) in cols.items()}
    lab["ltv"] = i18n.t("ltv_col_ltv_margin", lang, margin=_margin(cfg))
    out = df[list(cols)].rename(columns=lab)
    return report.table(out, cfg, {lab[c]: kind for c, (_, kind) in cols.items()})


def cac_notes(ds, cfg) -> list[str]:
    """The definitions behind :func:`cac_table` (the gross margin and the
    intervals included), a warning when the margin is left at 100%, the
    customers without a recorded channel, and the best and worst channel;
    empty when the table is not shown."""
    df = compute.ltv_cac(ds, cfg)
    if df is None:
        return []
    lang = cfg.language
    lo, hi = compute.cac_window(cfg)
    draws = compute.ltv_cac_draws(ds, cfg)
    out = [i18n.t("ltv_cac_note", lang, start=report.fmt_date(lo), end=report.fmt_date(hi - dt.timedelta(days=1)),
                  months=int(cfg.definitions.ltv_horizon_months), margin=_margin(cfg),
                  n=report.fmt_int(len(draws) if draws is not None else 0))]
    if float(cfg.definitions.gross_margin) >= 1.0:
        out.append(i18n.t("ltv_margin_revenue", lang))
    unknown = df[df["is_unknown"]]
    if len(unknown):
        out.append(i18n.t("ltv_unknown_note", lang, n=report.fmt_int(int(unknown["signups"].sum()))))
    ranked = compute.ranked_channels(df)
    if len(ranked) >= 2:
        out.append(i18n.t("ltv_ltv_cac_sentence", cfg.language, best=ranked.iloc[0]["channel"],
                          best_ratio=_ratio(ranked.iloc[0]["ltv_cac"]), worst=ranked.iloc[-1]["channel"],
                          worst_ratio=_ratio(ranked.iloc[-1]["ltv_cac"])))
    return out


def exports_note(ds, cfg):
    """Writes the target lists (inside a report run) and says what they
    hold (a note); ``None`` without a selected model."""
    lang = cfg.language
    written = compute.write_exports(ds, cfg)
    if not written:
        return None
    (n_top, p_top), (n_risk, p_risk) = written["ltv_top_customers"], written["ltv_high_value_at_risk"]
    alive = report.fmt_pct(LOW_ALIVE, 0)
    if p_top is None:
        return report.Note(i18n.t("ltv_export_none", lang, n_top=report.fmt_int(n_top), n_risk=report.fmt_int(n_risk),
                                  alive=alive))
    return report.Note(i18n.t("ltv_export_sentence", lang, top=p_top.name, risk=p_risk.name,
                              n_top=report.fmt_int(n_top), n_risk=report.fmt_int(n_risk), alive=alive))


# --------------------------------------------------------------------------
# Charts
# --------------------------------------------------------------------------

def trend_chart(ds, cfg):
    """Small multiples of the models' inputs over the trend window, from the
    first month with orders; a sentence when nothing was bought in it;
    ``None`` without purchases at all (said once in :func:`insights`)."""
    lang = cfg.language
    df = compute.monthly(ds, cfg)
    panels = [("new_buyers", i18n.t("ltv_new_buyers", lang), "int"), ("buyers", i18n.t("ltv_buyers", lang), "int"),
              ("repeat_days", i18n.t("ltv_repeat_days", lang), "int"),
              ("spend_per_day", i18n.t("ltv_spend_per_day", lang), "money")]
    if not (df[["buyers"]].fillna(0) > 0).any().any():
        if compute.analyse(ds, cfg).customers.empty:
            return None
        return report.Note(i18n.t("ltv_trend_empty", lang, n=len(df)))
    return plots.trends(df, panels, ncols=2, title=i18n.t("ltv_chart_trend", lang, n=len(df)))


def validation_figure(ds, cfg, chart: str):
    """One of the holdout charts — ``holdout`` (:func:`holdout_chart`),
    ``tracking`` (:func:`tracking_chart`) or ``histogram``
    (:func:`histogram_chart`) — after the sentence that says how to read
    it; ``None``, sentence included, when the chart is not drawn (no
    holdout: said once in :func:`model_notes`), so no caption is left
    describing a chart that is not there."""
    fig = {"holdout": holdout_chart, "tracking": tracking_chart, "histogram": histogram_chart}[chart](ds, cfg)
    if fig is None:
        return None
    return report.Blocks([i18n.t(f"ltv_caption_{chart}", cfg.language), fig])


def _legend_names(cfg) -> dict:
    return {"actual": i18n.t("ltv_actual", cfg.language)} | {m: model_name(m, cfg) for m in MODELS}


def holdout_chart(ds, cfg):
    """Mean holdout purchases by calibration repeat purchases: actual
    (bars) and each usable model (lines); ``None`` without a holdout (said
    once in :func:`model_notes`)."""
    import matplotlib.pyplot as plt

    a = compute.analyse(ds, cfg)
    df = a.holdout_table
    if df is None:
        return None
    names = _legend_names(cfg)
    fig, ax = plt.subplots(figsize=(8, 3.6))
    x = np.arange(len(df))
    ax.bar(x, df["actual"].fillna(0), color=plots.PALETTE[5], alpha=0.6, label=names["actual"])
    for i, m in enumerate(n for n in MODELS if n in df.columns):
        ax.plot(x, df[m], marker="o", color=plots.PALETTE[i], label=names[m] + (" ✓" if m == a.selected else ""))
    ax.set_xticks(x, [str(n) if n < len(df) - 1 else f"{n}+" for n in df["n"]])
    ax.set_xlabel(i18n.t("ltv_axis_cal_freq", cfg.language))
    ax.set_ylabel(i18n.t("ltv_axis_holdout_mean", cfg.language))
    ax.set_title(i18n.t("ltv_chart_holdout", cfg.language))
    ax.legend(fontsize=8)
    fig.tight_layout()
    plt.close(fig)
    return fig


def tracking_chart(ds, cfg):
    """Cumulative repeat purchases of the calibration customers by week,
    actual and each usable model, the holdout start marked; ``None``
    without a holdout."""
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    a = compute.analyse(ds, cfg)
    df = a.tracking
    if df is None or df.empty:
        return None
    names = _legend_names(cfg)
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.plot(df["week"], df["actual"], color="black", linewidth=2, label=names["actual"])
    for i, m in enumerate(n for n in MODELS if n in df.columns):
        ax.plot(df["week"], df[m], color=plots.PALETTE[i], linestyle="--", label=names[m])
    ax.axvline(pd.Timestamp(a.calibration_end + dt.timedelta(days=1)), color=plots.PALETTE[5], linestyle=":")
    ax.annotate(i18n.t("ltv_holdout_starts", cfg.language), (pd.Timestamp(a.calibration_end), 0.95),
                xycoords=("data", "axes fraction"), ha="right", fontsize=8, color=plots.PALETTE[5])
    ax.yaxis.set_major_formatter(plots._tick_formatter(ax.yaxis, "int"))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%y-%m"))
    ax.set_ylabel(i18n.t("ltv_axis_cum", cfg.language))
    ax.set_title(i18n.t("ltv_chart_tracking", cfg.language))
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    plt.close(fig)
    return fig


def histogram_chart(ds, cfg):
    """Customers by repeat purchases in the calibration period, actual and
    each usable model's expectation (grouped bars); ``None`` without a
    holdout."""
    import matplotlib.pyplot as plt

    a = compute.analyse(ds, cfg)
    df = a.histogram
    if df is None:
        return None
    names = _legend_names(cfg)
    cols = ["actual"] + [m for m in MODELS if m in df.columns]
    fig, ax = plt.subplots(figsize=(8, 3.4))
    x = np.arange(len(df))
    w = 0.8 / len(cols)
    for i, c in enumerate(cols):
        ax.bar(x + (i - (len(cols) - 1) / 2) * w, df[c], width=w, label=names[c],
               color="black" if c == "actual" else plots.PALETTE[MODELS.index(c)])
    ax.set_xticks(x, [str(n) if n < len(df) - 1 else f"{n}+" for n in df["n"]])
    ax.yaxis.set_major_formatter(plots._tick_formatter(ax.yaxis, "int"))
    ax.set_xlabel(i18n.t("ltv_axis_cal_freq", cfg.language))
    ax.set_ylabel(i18n.t("ltv_axis_customers", cfg.language))
    ax.set_title(i18n.t("ltv_chart_histogram", cfg.language))
    ax.legend(fontsize=8)
    fig.tight_layout()
    plt.close(fig)
    return fig


def clv_chart(ds, cfg):
    """Histogram of CLV per customer (log-spaced bins; customers with a CLV
    below 1 currency unit in the first bin), the median dashed; ``None``
    without CLV."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    a = compute.analyse(ds, cfg)
    if not a.has_clv:
        return None
    clv = np.maximum(a.customers["clv"].to_numpy(float), 1.0)
    fig, ax = plt.subplots(figsize=(8, 3.4))
    bins = np.logspace(0, math.log10(max(clv.max(), 10.0)) + 0.01, 30)
    ax.hist(clv, bins=bins, color=plots.PALETTE[0])
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.axvline(float(np.median(a.customers["clv"])), color=plots.PALETTE[1], linestyle="--")
    sym = report.CURRENCY_SYMBOLS.get(cfg.currency, cfg.currency)
    ax.set_xlabel(i18n.t("ltv_axis_clv", cfg.language, currency=sym))
    ax.set_ylabel(i18n.t("ltv_axis_customers", cfg.language))
    ax.set_title(i18n.t("ltv_chart_clv", cfg.language, months=int(cfg.definitions.ltv_horizon_months)))
    fig.tight_layout()
    plt.close(fig)
    return fig


__all__ = ["labels", "model_name", "reason", "group_label", "insights", "model_notes", "spend_notes", "next_steps", "closing",
           "model_table", "segment_table", "channel_table", "cohort_table", "quantile_table", "cac_table",
           "cac_notes", "exports_note", "trend_chart", "validation_figure", "holdout_chart", "tracking_chart", "histogram_chart",
           "clv_chart"]
