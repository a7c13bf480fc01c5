"""Lifetime value: purchase models, validated on a holdout, and CLV per
customer, segment and acquisition channel.

Definitions shared by everything here:

- **Purchase**: an ``orders`` row whose payment succeeded, as classified by
  :func:`journeykit.sections.purchase.compute.attempts` (rows without a
  ``payment_status`` column are all purchases).
- **Purchase day**: a customer's purchases on one calendar day, merged into
  one transaction whose amount is the day's total. Repeat purchases are
  counted as distinct purchase days, as in the published CDNOW analyses
  (Fader, Hardie & Lee 2005): same-day orders are one transaction.
- **Customer summary** (the lifetimes vocabulary), at an observation end
  day ``E`` (inclusive), in the time unit ``u`` (``definitions.ltv_time_unit``:
  ``day`` = 1 day, ``week`` = 7 days, ``month`` = 365.25/12 days):
  ``frequency`` = purchase days − 1 (repeat purchases); ``recency`` = days
  from the first to the last purchase day / u; ``T`` = days from the first
  purchase day to ``E`` / u; ``monetary_value`` = mean amount of the repeat
  purchase days (0 without repeat purchases). The unit changes only the
  scale of ``recency`` and ``T``: several purchase days within one week
  still count separately.
- **Holdout**: the last ``definitions.ltv_holdout_days`` days up to the
  period end. The models are fitted on the calibration period before it
  (customers whose first purchase falls in it) and judged on how many
  purchase days each of those customers made in the holdout.
- **CLV**: expected revenue over the next ``definitions.ltv_horizon_months``
  months, discounted monthly at ``definitions.ltv_discount_rate_monthly``:
  ``Σ_m E[spend per purchase] × E[purchases in month m] / (1 + d)^m``,
  months of 365.25/12 days converted into the model's time unit. Revenue,
  not margin, in the client's currency.

Models (the ``lifetimes`` fitters, fitted on the distinct (frequency,
recency, T) triples with ``weights`` = customers per triple): BG/NBD
(``bgnbd``), Pareto/NBD (``pareto_nbd``, seeded), modified BG/NBD
(``mbgnbd``) for transactions; Gamma-Gamma for spend per purchase day.

References
----------
Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005), "Counting Your
Customers the Easy Way: An Alternative to the Pareto/NBD Model",
Marketing Science 24(2), 275–284.
Fader, P. S. and Hardie, B. G. S. (2013), "The Gamma-Gamma Model of
Monetary Value", http://brucehardie.com/notes/025/.
Schmittlein, D. C., Morrison, D. G. and Colombo, R. (1987), "Counting Your
Customers: Who Are They and What Will They Do Next?", Management Science 33(1).
Batislam, E. P., Denizel, M. and Filiztekin, A. (2007), "Empirical
validation and comparison of models for customer base analysis",
International Journal of Research in Marketing 24(3) (MBG/NBD).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import io as _io
import math
import time
import types
import warnings

import ibis
import numpy as np
import pandas as pd

from journeykit.stats import bgnbd
from journeykit.stats import compare
from journeykit.core import i18n
from journeykit.report import plots
from journeykit import report
from journeykit.data.query import in_window, month_frame, month_of, trailing_months, ts
from journeykit.sections import registry
from journeykit import facts

UNIT_DAYS = {"day": 1.0, "week": 7.0, "month": 365.25 / 12}
"""Days per model time unit."""

MONTH_DAYS = 365.25 / 12
"""Days per month (for the CLV horizon and the payback curve)."""

MODELS = ("bgnbd", "pareto_nbd", "mbgnbd")
"""Transaction models, in the order they are shown."""

PARAM_NAMES = {"bgnbd": ("r", "alpha", "a", "b"), "mbgnbd": ("r", "alpha", "a", "b"),
               "pareto_nbd": ("r", "alpha", "s", "beta"), "gamma_gamma": ("p", "q", "v")}

PENALIZER = 0.001
"""Penalizer of the retry after a convergence failure (lifetimes' L2 term)."""

SEED = 20050301
"""Seed of the Pareto/NBD starting values (lifetimes draws them at random)."""

CORRELATION_LIMIT = 0.3
"""|Pearson r| between repeat frequency and spend above which the
Gamma-Gamma independence assumption is reported as doubtful."""

MIN_REPEAT_CUSTOMERS = 10
"""Fewest repeat customers needed to fit Gamma-Gamma."""

LOW_ALIVE = 0.5
"""P(alive) below which a high-value customer is listed as at risk."""

TOP_EXPORT = 100
"""Customers in the top-CLV export."""

STABLE_KEYS = registry.get("80_ltv").stable_keys
"""The section's stable top-level ``metrics.json`` keys (each also with ``_prev``)."""

KINDS = {"customers": "int", "clv_total": "money", "clv_mean": "money", "clv_median": "money",
         "p_alive_mean": "pct", "expected_purchases_mean": "num"}
"""Display kind of each KPI of the key-figures table."""

SEGMENTS = ("champions", "loyal", "at_risk", "new", "needs_attention", "hibernating")
"""RFM segments, in display order (see :func:`rfm_segments`)."""

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
    "ltv_status_penalized": {"en": "converged with penalizer {c}", "ko": "벌점 {c}로 수렴"},
    "ltv_status_failed": {"en": "did not converge: not used", "ko": "수렴 실패: 사용 안 함"},
    "ltv_selected_mark": {"en": " (selected)", "ko": " (선택)"},
    # validation charts
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
    "ltv_col_payback": {"en": "CAC payback (months)", "ko": "CAC 회수 기간 (개월)"},
    "ltv_col_quantile": {"en": "Customers", "ko": "고객 구간"},
    "ltv_col_clv": {"en": "CLV", "ko": "CLV"},
    "ltv_payback_over": {"en": "over {k}", "ko": "{k} 초과"},
    "ltv_q_p50": {"en": "median", "ko": "중앙값"},
    "ltv_q_p75": {"en": "top 25% from", "ko": "상위 25% 경계"},
    "ltv_q_p90": {"en": "top 10% from", "ko": "상위 10% 경계"},
    "ltv_q_p99": {"en": "top 1% from", "ko": "상위 1% 경계"},
    "ltv_q_top10_share": {"en": "share of CLV held by the top 10%", "ko": "상위 10% 고객의 CLV 비중"},
    "ltv_seg_champions": {"en": "champions", "ko": "최우수 고객"},
    "ltv_seg_loyal": {"en": "loyal", "ko": "충성 고객"},
    "ltv_seg_at_risk": {"en": "at risk", "ko": "이탈 위험"},
    "ltv_seg_new": {"en": "new", "ko": "신규 고객"},
    "ltv_seg_needs_attention": {"en": "needs attention", "ko": "관심 필요"},
    "ltv_seg_hibernating": {"en": "hibernating", "ko": "휴면 고객"},
    "ltv_unknown": {"en": "(not recorded)", "ko": "(기록 없음)"},
    # notes and sentences
    "ltv_no_purchases": {"en": "No customer has a paid order up to the period end: lifetime value cannot be estimated.",
                         "ko": "기간 말까지 결제 완료 주문이 있는 고객이 없어 생애 가치를 추정할 수 없습니다."},
    "ltv_no_model": {"en": "None of the purchase models converged on this data: CLV is not shown.",
                     "ko": "이 데이터에서는 어떤 구매 모델도 수렴하지 않아 CLV를 표시하지 않습니다."},
    "ltv_no_holdout": {
        "en": "The data is too short for a {days}-day holdout (no customer bought before it, or none has a repeat purchase before it): models are compared on their log-likelihood instead.",
        "ko": "{days}일 홀드아웃을 두기에는 데이터 기간이 짧아(홀드아웃 이전 구매 또는 재구매 고객이 없음) 로그우도로 모델을 비교합니다."},
    "ltv_summary_sentence": {
        "en": "{n} customers have bought at least once; {repeat} ({repeat_share}) came back on another day. Over the next {months} months they are expected to make {purchases} purchases worth {clv} (discounted at {rate} a month).",
        "ko": "한 번 이상 구매한 고객은 {n}명이며, 이 중 {repeat}명({repeat_share})이 다른 날 다시 구매했습니다. 향후 {months}개월 동안 이들의 기대 구매는 {purchases}회, 가치는 {clv}입니다 (월 {rate} 할인)."},
    "ltv_selection_sentence": {
        "en": "The {model} model predicts the holdout best: its error is {rmse} purchases per customer (root mean square), against {others}. Its predictions are used below.",
        "ko": "홀드아웃을 가장 잘 예측한 모델은 {model}입니다: 고객당 오차(RMSE)가 {rmse}회로, {others}보다 작습니다. 아래 예측에는 이 모델을 사용합니다."},
    "ltv_selection_ll": {"en": "The {model} model has the highest log-likelihood and is used below.",
                         "ko": "로그우도가 가장 높은 {model} 모델을 아래 예측에 사용합니다."},
    "ltv_holdout_sentence": {
        "en": "Calibration: {n} customers who bought by {cal_end}; holdout: {start} to {end} ({days} days), in which they made {actual} purchases; {model} predicted {predicted} ({error}).",
        "ko": "보정 기간: {cal_end}까지 구매한 고객 {n}명, 홀드아웃: {start}–{end} ({days}일). 홀드아웃 실제 구매는 {actual}회, {model} 예측은 {predicted}회입니다 ({error})."},
    "ltv_penalized_note": {
        "en": "{model} did not converge without regularisation and was refitted with a small penalizer ({c}); its parameters are slightly shrunk.",
        "ko": "{model}은 정규화 없이 수렴하지 않아 작은 벌점({c})으로 다시 적합했으며, 모수가 약간 축소되어 있습니다."},
    "ltv_failed_note": {"en": "{model} did not converge, even with a penalizer: it is left out.",
                        "ko": "{model}은 벌점을 주어도 수렴하지 않아 제외했습니다."},
    "ltv_gg_sentence": {
        "en": "Spend per purchase day follows the Gamma-Gamma model (p = {p}, q = {q}, v = {v}), fitted on the {n} customers with repeat purchases: its mean spend is {mean} per purchase day (observed: {observed}).",
        "ko": "구매일당 지출은 재구매 고객 {n}명에게 적합한 Gamma-Gamma 모델(p = {p}, q = {q}, v = {v})을 따르며, 모델의 평균 지출은 구매일당 {mean}입니다 (실제: {observed})."},
    "ltv_corr_ok": {
        "en": "The model assumes that how often a customer buys and how much she spends are unrelated: here their correlation is {r} (repeat customers), small enough for the assumption to hold.",
        "ko": "이 모델은 구매 빈도와 지출 금액이 서로 무관하다고 가정합니다. 재구매 고객의 상관계수는 {r}로, 가정이 성립한다고 볼 만큼 작습니다."},
    "ltv_corr_bad": {
        "en": "The model assumes that how often a customer buys and how much she spends are unrelated, but here their correlation is {r}: the spend side of CLV is less reliable, read it with care.",
        "ko": "이 모델은 구매 빈도와 지출 금액이 서로 무관하다고 가정하지만, 여기서는 상관계수가 {r}입니다: CLV의 지출 부분은 신뢰도가 낮으니 주의해서 보세요."},
    "ltv_gg_fallback": {
        "en": "Gamma-Gamma could not be used ({why}): CLV uses the average spend per purchase day of all customers, {mean}.",
        "ko": "Gamma-Gamma 모델을 쓸 수 없어({why}) CLV에는 전체 고객의 구매일당 평균 지출 {mean}을 사용합니다."},
    "ltv_gg_why_few": {"en": "fewer than {n} customers with repeat purchases", "ko": "재구매 고객이 {n}명 미만"},
    "ltv_gg_why_failed": {"en": "it did not converge", "ko": "수렴하지 않음"},
    "ltv_no_acquisition": {
        "en": "CLV by acquisition channel needs the customers table with an acquisition_channel column, which this client has not supplied.",
        "ko": "유입 채널별 CLV에는 acquisition_channel 컬럼이 있는 고객 테이블이 필요하지만 이 고객사에서는 제공되지 않았습니다."},
    "ltv_no_cac": {
        "en": "LTV:CAC and CAC payback are not available: they need marketing spend and the customers' acquisition channel.",
        "ko": "LTV:CAC와 CAC 회수 기간은 제공되지 않습니다: 마케팅 광고비와 고객의 유입 채널 데이터가 필요합니다."},
    "ltv_cac_note": {
        "en": "Customers who signed up {start} to {end}. CAC = the channel's marketing spend in those months / its signups; LTV per signup = the revenue those signups brought so far plus their expected CLV over {months} months, divided by the signups (customers who have not bought yet count as 0). Revenue, not margin: multiply by the gross margin before comparing with CAC. Payback: months after signup until the average cumulative revenue per signup (all cohorts pooled) covers the CAC.",
        "ko": "{start}–{end}에 가입한 고객 기준입니다. CAC = 해당 기간 채널 광고비 / 채널 가입자 수, 가입자당 LTV = 이 가입자들이 지금까지 낸 매출과 향후 {months}개월 기대 CLV의 합을 가입자 수로 나눈 값(아직 구매하지 않은 고객은 0)입니다. 마진이 아닌 매출 기준이므로 CAC와 비교하기 전에 매출총이익률을 곱하세요. 회수 기간: 가입 후 가입자당 평균 누적 매출(전체 코호트 합산)이 CAC를 넘는 데 걸린 개월 수입니다."},
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
        "en": "Note: BG/NBD and MBG/NBD count a customer as certainly active until her first repeat purchase; P(alive) of one-time buyers is high by construction under BG/NBD.",
        "ko": "참고: BG/NBD는 첫 재구매 전까지 고객을 확실히 활성으로 간주하므로, 1회 구매 고객의 P(alive)는 구조적으로 높게 나옵니다."},
    # what to look at next
    "ltv_next_risk": {
        "en": "Win back the {n} high-value customers who are probably lapsing (P(alive) below {alive}, top fifth by past spend): together they spent {spend} so far. The list is in the exports.",
        "ko": "이탈 중일 가능성이 높은 고가치 고객 {n}명(P(alive) {alive} 미만, 과거 지출 상위 20%)을 되찾으세요: 이들의 지금까지 지출은 {spend}입니다. 목록은 exports에 있습니다."},
    "ltv_next_concentration": {
        "en": "The top 10% of customers hold {share} of the expected value: protect them first (service, early access, loyalty offers).",
        "ko": "상위 10% 고객이 기대 가치의 {share}를 차지합니다: 이들을 먼저 지키세요 (서비스, 우선 혜택, 로열티 제안)."},
    "ltv_next_channel": {
        "en": "Shift acquisition budget towards {best}: its LTV:CAC is {best_ratio}, against {worst_ratio} for {worst}.",
        "ko": "획득 예산을 {best} 쪽으로 옮기는 것을 검토하세요: LTV:CAC가 {best_ratio}로 {worst}({worst_ratio})보다 높습니다."},
    "ltv_next_unprofitable": {
        "en": "{channel} does not earn its acquisition cost back within {months} months on revenue alone (LTV:CAC {ratio}): review its spend.",
        "ko": "{channel}은 매출만으로도 {months}개월 안에 획득 비용을 회수하지 못합니다 (LTV:CAC {ratio}): 광고비를 검토하세요."},
    "ltv_next_model": {
        "en": "The selected model misses total holdout purchases by {error}: treat individual CLVs as rough and re-check next month.",
        "ko": "선택된 모델의 홀드아웃 총 구매 오차가 {error}입니다: 개별 CLV는 대략적인 값으로 보고 다음 달에 다시 확인하세요."},
    "ltv_next_correlation": {
        "en": "Frequency and spend are correlated ({r}): consider modelling spend by segment before using CLV for budgets.",
        "ko": "구매 빈도와 지출이 상관되어 있습니다 ({r}): CLV를 예산에 쓰기 전에 세그먼트별 지출 모델을 검토하세요."},
    "ltv_next_nothing": {
        "en": "Nothing in lifetime value stands out this month: the models validate well and no group of valuable customers is lapsing.",
        "ko": "이번 달 생애 가치에서 눈에 띄는 점은 없습니다: 모델 검증 결과가 양호하고 이탈 중인 고가치 고객 집단도 없습니다."},
})


# --------------------------------------------------------------------------
# lifetimes, contained
# --------------------------------------------------------------------------

@contextlib.contextmanager
def _quiet():
    """Run lifetimes code without letting it change the process: its import
    and its likelihood functions turn FutureWarnings off for the whole
    process (restored on exit), a failed fit prints the optimizer's state
    to stdout (swallowed), and overflow warnings of a diverging fit are
    not the reader's concern (convergence is checked instead)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with contextlib.redirect_stdout(_io.StringIO()):
            yield


_LT: dict = {}


def _lifetimes():
    """The lifetimes fitters, imported once inside :func:`_quiet`."""
    if not _LT:
        with _quiet():
            from lifetimes import BetaGeoFitter, GammaGammaFitter, ModifiedBetaGeoFitter, ParetoNBDFitter
            from lifetimes.utils import ConvergenceError
            from scipy.optimize import minimize

        class SeededParetoNBDFitter(ParetoNBDFitter):
            """Pareto/NBD with seeded starting values and a convergence flag
            (lifetimes draws unseeded starts and never checks the optimizer)."""

            seed = SEED

            def _fit(self, args, iterative_fitting, initial_params, params_size, disp, tol=1e-6,
                     fit_method="Nelder-Mead", maxiter=2000, **kwargs):
                rng = np.random.default_rng(self.seed)
                best = None
                for _ in range(max(1, iterative_fitting)):
                    x0 = rng.normal(1.0, 0.05, params_size) if initial_params is None else initial_params
                    out = minimize(self._negative_log_likelihood, method=fit_method, tol=tol, x0=x0, args=args,
                                   options={"disp": disp, "maxiter": maxiter, **kwargs})
                    if best is None or out.fun < best.fun:
                        best = out
                self.success_ = bool(best.success) and bool(np.isfinite(best.fun))
                return best.x, best.fun

        _LT.update(bgnbd=BetaGeoFitter, mbgnbd=ModifiedBetaGeoFitter, pareto_nbd=SeededParetoNBDFitter,
                   gamma_gamma=GammaGammaFitter, ConvergenceError=ConvergenceError)
    return _LT


# --------------------------------------------------------------------------
# The customer summary, on the engine
# --------------------------------------------------------------------------

def unit_days(unit: str) -> float:
    """Days per model time unit (``day``, ``week`` or ``month``)."""
    if unit not in UNIT_DAYS:
        raise ValueError(f"ltv_time_unit {unit!r}: use one of {', '.join(UNIT_DAYS)}")
    return UNIT_DAYS[unit]


def purchases(ds):
    """Purchases up to the period end: ``orders`` rows whose payment
    succeeded (:func:`journeykit.sections.purchase.compute.attempts`), columns
    ``customer_id``, ``ordered_at``, ``amount``. An Ibis table."""
    t = facts.attempts(ds)
    t = t.filter(t._paid & t.customer_id.notnull())
    return t.select("customer_id", "ordered_at", "amount")


def purchase_days(t, end: dt.date | None = None, start: dt.date | None = None):
    """One row per customer and purchase day: ``customer_id``, ``day``
    (timestamp at midnight), ``amount`` (the day's total), for days
    ``start < day <= end`` (inclusive end; either bound optional).

    ``t`` is an Ibis table with ``customer_id``, ``ordered_at``, ``amount``.
    """
    d = t.mutate(day=t.ordered_at.truncate("D"))
    if end is not None:
        d = d.filter(d.day <= ts(end))
    if start is not None:
        d = d.filter(d.day > ts(start))
    return d.group_by(["customer_id", "day"]).aggregate(amount=d.amount.sum())


def _days_between(later, earlier):
    return ((later.epoch_seconds() - earlier.epoch_seconds()) / 86400.0).round().cast("int64")


def rfm_summary(t, end: dt.date, unit: str = "week"):
    """The customer summary at the observation end day ``end`` (inclusive),
    as an Ibis expression: one row per customer with a purchase on or
    before ``end``.

    Columns: ``customer_id``; ``frequency`` = distinct purchase days − 1;
    ``recency_days`` / ``recency`` = days from the first to the last purchase
    day (/ days per ``unit``); ``T_days`` / ``T`` = days from the first
    purchase day to ``end`` (/ days per unit); ``monetary_value`` = mean
    amount of the repeat purchase days (a day's orders summed; 0 without
    repeat purchases); ``first_purchase`` (timestamp of the first purchase
    day); ``total_spend`` (all purchase days).

    ``t`` is an Ibis table with ``customer_id``, ``ordered_at``, ``amount``
    (e.g. :func:`purchases`).
    """
    u = unit_days(unit)
    d = purchase_days(t, end)
    # The first day's amount by arg-min in the same aggregation (days are
    # distinct per customer): a window over the days per customer cost
    # a third of the query.
    g = d.group_by("customer_id").aggregate(
        first_purchase=d.day.min(), last=d.day.max(), n=d.count(), total_spend=d.amount.sum(),
        first_amount=d.amount.argmin(d.day))
    rec = _days_between(g["last"], g.first_purchase)
    age = _days_between(ibis.literal(ts(end)), g.first_purchase)
    freq = (g.n - 1).cast("int64")
    mon = ibis.ifelse(freq > 0, (g.total_spend - g.first_amount) / freq.cast("float64"), 0.0)
    return g.select(customer_id=g.customer_id, frequency=freq, recency_days=rec, T_days=age,
                    recency=rec.cast("float64") / u, T=age.cast("float64") / u,
                    monetary_value=mon.cast("float64"), first_purchase=g.first_purchase,
                    total_spend=g.total_spend.cast("float64"))


def calibration_holdout(t, calibration_end: dt.date, observation_end: dt.date, unit: str = "week"):
    """The calibration summary (:func:`rfm_summary` at ``calibration_end``)
    with the holdout of each of its customers, as an Ibis expression.

    Extra columns: ``frequency_holdout`` = purchase days in
    ``(calibration_end, observation_end]``; ``monetary_value_holdout`` =
    their mean amount (0 without any); ``duration_holdout`` = the holdout's
    length in ``unit``. Customers whose first purchase falls in the holdout
    are not in it.
    """
    cal = rfm_summary(t, calibration_end, unit)
    h = purchase_days(t, observation_end, start=calibration_end)
    hg = h.group_by("customer_id").aggregate(frequency_holdout=h.count(), spend_holdout=h.amount.sum())
    j = cal.left_join(hg, cal.customer_id == hg.customer_id)
    fh = j.frequency_holdout.fill_null(0).cast("int64")
    mh = ibis.ifelse(fh > 0, j.spend_holdout / fh.cast("float64"), 0.0)
    days = (observation_end - calibration_end).days
    return j.select(*[j[c] for c in cal.columns], frequency_holdout=fh, monetary_value_holdout=mh.cast("float64"),
                    duration_holdout=ibis.literal(days / unit_days(unit)))


def fit_sample(summary: pd.DataFrame, limit: int, seed: int = 7) -> pd.DataFrame:
    """The customers the purchase models are fitted on: all of ``summary``,
    or a seeded random sample of ``limit`` of its rows when it has more
    (``definitions.ltv_max_fit_customers``). Parameters from 50,000
    customers are precise to about 1 %, and a Pareto/NBD fit on every one
    of a million customers takes minutes; predictions still use every
    customer's own history."""
    if len(summary) <= limit:
        return summary
    rows = np.sort(np.random.default_rng(seed).choice(len(summary), limit, replace=False))
    return summary.iloc[rows]


def triples(summary: pd.DataFrame) -> pd.DataFrame:
    """The distinct (frequency, recency, T) patterns of a customer summary
    with ``weight`` = customers per pattern (what the models are fitted on).
    Keyed on whole days, so float rounding cannot split a pattern."""
    g = (summary.groupby(["frequency", "recency_days", "T_days"], as_index=False)
         .agg(recency=("recency", "first"), T=("T", "first"), weight=("customer_id", "size")))
    return g


# --------------------------------------------------------------------------
# Fitting
# --------------------------------------------------------------------------

@dataclasses.dataclass
class Fit:
    """One fitted model. ``model`` is the lifetimes fitter (``None`` when it
    did not converge even with the penalizer); ``penalizer`` is 0 for a
    plain fit and :data:`PENALIZER` when the retry was needed."""

    name: str
    model: object | None
    params: dict | None
    log_likelihood: float | None
    penalizer: float
    converged: bool
    seconds: float
    n_rows: int
    n_customers: int
    scale: float = 1.0

    @property
    def predictor(self):
        """The model for predictions, evaluated on rescaled time (see
        :class:`_Rescaled`); ``None`` when the fit failed."""
        return None if self.model is None else _Rescaled(self.model, self.scale)

    @property
    def status(self) -> str:
        """``ok``, ``penalized`` or ``failed``."""
        return "failed" if not self.converged else ("penalized" if self.penalizer else "ok")


class _Rescaled:
    """A fitted transaction model whose predictions are computed on time
    multiplied by ``c`` (with its scale parameters α, β multiplied by ``c``):
    the same numbers mathematically, but the Pareto/NBD terms no longer
    overflow for very frequent buyers (lifetimes issue #25). lifetimes fits
    on the same rescaled time."""

    def __init__(self, model, c: float):
        import copy

        self.c = float(c)
        self.m = copy.copy(model)
        self.m.params_ = model.params_.copy()
        for k in ("alpha", "beta"):
            if k in self.m.params_:
                self.m.params_[k] = self.m.params_[k] * self.c

    def conditional_expected_number_of_purchases_up_to_time(self, t, f, r, T):
        return self.m.conditional_expected_number_of_purchases_up_to_time(t * self.c, f, r * self.c, T * self.c)

    def conditional_probability_alive(self, f, r, T):
        return self.m.conditional_probability_alive(f, r * self.c, T * self.c)

    def expected_number_of_purchases_up_to_time(self, t):
        return self.m.expected_number_of_purchases_up_to_time(np.asarray(t) * self.c)

    def probability_of_n_purchases_up_to_time(self, t, n):
        return self.m.probability_of_n_purchases_up_to_time(t * self.c, n)

    def conditional_probability_of_n_purchases_up_to_time(self, n, t, f, r, T):
        return self.m.conditional_probability_of_n_purchases_up_to_time(n, t * self.c, f, r * self.c, T * self.c)


def _time_scale(T) -> float:
    T = np.asarray(T, dtype=float)
    return 10.0 / float(T.max()) if len(T) and T.max() > 0 else 1.0


def _log_likelihood(name: str, params: dict, f, r, T, w) -> float:
    """The model's log-likelihood in the data's own time unit, summed over
    customers (lifetimes reports a per-customer mean on rescaled time).

    It is evaluated, like the fit, on time rescaled by ``c = 10 / max(T)``
    (the Pareto/NBD terms overflow for very frequent buyers otherwise,
    lifetimes issue #25) and brought back to the data's unit: rescaling
    time by ``c`` divides the density of each of a customer's ``x``
    purchase times by ``c``, so ``LL = LL_c + Σ w·x·log c``.
    """
    L = _lifetimes()
    f, r, T, w = (np.asarray(x, dtype=float) for x in (f, r, T, w))
    c = _time_scale(T)
    p = {k: v * c if k in ("alpha", "beta") else v for k, v in params.items()}
    p = np.array([p[k] for k in PARAM_NAMES[name]], dtype=float)
    with _quiet():
        if name == "pareto_nbd":
            ll = float((w * L["pareto_nbd"]._conditional_log_likelihood(p, f, r * c, T * c)).sum())
        else:
            ll = float(-L[name]._negative_log_likelihood(np.log(p), f, r * c, T * c, w, 0.0) * w.sum())
    return ll + float((w * f).sum() * math.log(c))


def fit_transactions(name: str, tr: pd.DataFrame) -> Fit:
    """Fit one transaction model (``bgnbd``, ``pareto_nbd``, ``mbgnbd``) on
    the patterns ``tr`` (:func:`triples`), weighted by customers.

    A fit that does not converge is retried once with the penalizer
    :data:`PENALIZER`; a fit that fails both times is returned with
    ``converged=False`` and no model, never as if it had converged.
    """
    L = _lifetimes()
    f, r, T, w = (tr[c].to_numpy() for c in ("frequency", "recency", "T", "weight"))
    t0 = time.perf_counter()
    model, pen = None, 0.0
    for pen in (0.0, PENALIZER):
        m = L[name](penalizer_coef=pen)
        if name == "bgnbd":
            # journeykit.stats.bgnbd: lifetimes' objective with an analytic
            # gradient; the lifetimes model object only carries the
            # parameters for its prediction formulas.
            res = bgnbd.fit(f, r, T, w, penalizer=pen)
            if not res.converged:
                continue
            m.params_ = pd.Series(res.params)[list(PARAM_NAMES[name])]
            params = dict(res.params)
            model = m
            break
        try:
            with _quiet():
                m.fit(f, r, T, weights=w) if name != "pareto_nbd" else m.fit(f, r, T, weights=w, tol=1e-6,
                                                                            maxiter=10000)
        except (L["ConvergenceError"], ValueError, FloatingPointError, np.linalg.LinAlgError):
            continue
        params = {k: float(m.params_[k]) for k in PARAM_NAMES[name]}
        ok = getattr(m, "success_", True) and all(np.isfinite(v) and v > 0 for v in params.values())
        if ok:
            model = m
            break
    secs = time.perf_counter() - t0
    if model is None:
        return Fit(name, None, None, None, pen, False, secs, len(tr), int(w.sum()))
    ll = _log_likelihood(name, params, f, r, T, w)
    return Fit(name, model, params, ll, pen, True, secs, len(tr), int(w.sum()), _time_scale(T))


def fit_spend(summary: pd.DataFrame) -> tuple[Fit | None, float | None, int]:
    """Gamma-Gamma on the customers with repeat purchases and positive
    spend: ``(fit, correlation, n)`` where ``correlation`` is Pearson's r
    between ``frequency`` and ``monetary_value`` over those customers and
    ``n`` their number. ``fit`` is ``None`` with fewer than
    :data:`MIN_REPEAT_CUSTOMERS` of them; retried with the penalizer like
    :func:`fit_transactions`."""
    L = _lifetimes()
    rep = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    n = len(rep)
    corr = None
    if n >= 3 and rep["frequency"].nunique() > 1 and rep["monetary_value"].nunique() > 1:
        corr = float(np.corrcoef(rep["frequency"].astype(float), rep["monetary_value"].astype(float))[0, 1])
    if n < MIN_REPEAT_CUSTOMERS:
        return None, corr, n
    g = rep.groupby(["frequency", "monetary_value"], as_index=False).size()
    t0 = time.perf_counter()
    for pen in (0.0, PENALIZER):
        m = L["gamma_gamma"](penalizer_coef=pen)
        try:
            with _quiet():
                m.fit(g["frequency"].to_numpy(), g["monetary_value"].to_numpy(), weights=g["size"].to_numpy())
        except (L["ConvergenceError"], ValueError, FloatingPointError, np.linalg.LinAlgError):
            continue
        params = {k: float(m.params_[k]) for k in PARAM_NAMES["gamma_gamma"]}
        if all(np.isfinite(v) and v > 0 for v in params.values()) and params["q"] > 1:
            with _quiet():
                ll = -float(m._negative_log_likelihood(np.log([params["p"], params["q"], params["v"]]),
                                                       g["frequency"].to_numpy(float), g["monetary_value"].to_numpy(float),
                                                       g["size"].to_numpy(float), 0.0)) * float(g["size"].sum())
            return Fit("gamma_gamma", m, params, ll, pen, True, time.perf_counter() - t0, len(g), n), corr, n
    return Fit("gamma_gamma", None, None, None, PENALIZER, False, time.perf_counter() - t0, len(g), n), corr, n


# --------------------------------------------------------------------------
# Predictions
# --------------------------------------------------------------------------

def expected_purchases(model, t: float, tr: pd.DataFrame) -> np.ndarray:
    """Expected purchase days in the next ``t`` time units of each pattern."""
    with _quiet():
        v = model.conditional_expected_number_of_purchases_up_to_time(
            t, tr["frequency"].to_numpy(float), tr["recency"].to_numpy(float), tr["T"].to_numpy(float))
    return np.asarray(v, dtype=float)


def p_alive(model, tr: pd.DataFrame) -> np.ndarray:
    """P(alive) of each pattern: the probability that the customer has not
    dropped out by the observation end."""
    with _quiet():
        v = model.conditional_probability_alive(tr["frequency"].to_numpy(float), tr["recency"].to_numpy(float),
                                                tr["T"].to_numpy(float))
    return np.clip(np.asarray(v, dtype=float), 0.0, 1.0)


def discounted_purchases(model, tr: pd.DataFrame, horizon_months: int, discount_rate_monthly: float,
                         unit: str) -> tuple[np.ndarray, np.ndarray]:
    """``(discounted, undiscounted)`` expected purchases of each pattern over
    the next ``horizon_months`` months: month ``m`` (of 365.25/12 days,
    converted to the model's ``unit``) contributes its expected purchases
    divided by ``(1 + discount_rate_monthly) ** m``.

    The time unit is explicit here: lifetimes' own ``customer_lifetime_value``
    assumes daily data unless told otherwise.
    """
    step = MONTH_DAYS / unit_days(unit)
    prev = np.zeros(len(tr))
    disc = np.zeros(len(tr))
    for m in range(1, int(horizon_months) + 1):
        cum = expected_purchases(model, m * step, tr)
        disc += (cum - prev) / (1.0 + discount_rate_monthly) ** m
        prev = cum
    return disc, prev


def expected_spend(fit: Fit | None, summary: pd.DataFrame, fallback: float) -> np.ndarray:
    """Expected spend per purchase day of each customer: the Gamma-Gamma
    conditional mean (the population mean ``p·v/(q−1)`` for customers
    without repeat purchases), or ``fallback`` when there is no fit."""
    if fit is None or fit.model is None:
        return np.full(len(summary), float(fallback))
    f = summary["frequency"].to_numpy(float)
    m = np.where(f > 0, summary["monetary_value"].to_numpy(float), 0.0)
    with _quiet():
        v = fit.model.conditional_expected_average_profit(f, m)
    return np.asarray(v, dtype=float)


def population_spend(params: dict) -> float:
    """Gamma-Gamma mean spend per purchase ``p·v/(q−1)``."""
    return params["p"] * params["v"] / (params["q"] - 1)


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------

def holdout_errors(pred: np.ndarray, actual: np.ndarray) -> dict:
    """Holdout errors of per-customer predictions of purchase days:
    ``rmse`` (root mean square error per customer, purchases), ``mae``
    (mean absolute error, purchases), ``total_error`` ((Σ predicted − Σ
    actual) / Σ actual, 0–1 scale; ``None`` when nobody bought)."""
    pred, actual = np.asarray(pred, float), np.asarray(actual, float)
    if not len(pred):
        return {"rmse": None, "mae": None, "total_error": None, "predicted": None, "actual": None}
    return {"rmse": float(np.sqrt(np.mean((pred - actual) ** 2))), "mae": float(np.mean(np.abs(pred - actual))),
            "total_error": compare.safe_div(pred.sum() - actual.sum(), actual.sum()),
            "predicted": float(pred.sum()), "actual": float(actual.sum())}


def _pmf(fit: Fit, t: float, n: int) -> float:
    """P(X(t) = n): probability of n repeat purchase days in t units for a
    new customer drawn from the fitted population."""
    m = fit.predictor
    if t <= 0:
        return 1.0 if n == 0 else 0.0
    with _quiet():
        if fit.name == "pareto_nbd":
            # conditioning on an empty history (x = 0, t_x = 0, T = 0) is the prior
            v = m.conditional_probability_of_n_purchases_up_to_time(n, t, 0.0, 0.0, 0.0)
        else:
            v = m.probability_of_n_purchases_up_to_time(t, n)
    return float(np.asarray(v, dtype=float).reshape(-1)[0])


def period_histogram(cal: pd.DataFrame, fits: list[Fit], max_n: int = 7) -> pd.DataFrame:
    """Customers by repeat purchases in the calibration period, actual and
    expected by each model: rows ``n`` = 0 … ``max_n`` − 1 and ``max_n``
    (meaning "max_n or more"); columns ``actual`` and one per model
    (Σ over customers of P(X(T_i) = n), ages to the nearest week; the last
    row takes the rest)."""
    out = pd.DataFrame({"n": range(max_n + 1)})
    out["actual"] = [float(((cal["frequency"] == k) if k < max_n else (cal["frequency"] >= k)).sum())
                     for k in range(max_n + 1)]
    # ages binned to whole weeks (at most 3.5 days off): lifetimes' pmf is
    # scalar in t, and one call per distinct day of age is slow on long histories
    u = float(cal["T"].max() / cal["T_days"].max()) if cal["T_days"].max() > 0 else 1.0
    week = (cal["T_days"] / 7).round() * 7
    ages = cal.assign(_age=week * u).groupby("_age").agg(w=("customer_id", "size"))
    ages["T"] = ages.index.to_numpy(float)
    for fit in fits:
        if fit.model is None:
            continue
        exp = np.zeros(max_n + 1)
        for _, row in ages.iterrows():
            p = np.array([_pmf(fit, float(row["T"]), k) for k in range(max_n)])
            p = np.clip(np.nan_to_num(p), 0, 1)
            exp[:max_n] += row["w"] * p
            exp[max_n] += row["w"] * max(0.0, 1.0 - p.sum())
        out[fit.name] = exp
    return out


def holdout_by_frequency(cal: pd.DataFrame, preds: dict[str, np.ndarray], max_n: int = 7) -> pd.DataFrame:
    """Mean holdout purchases by calibration frequency (0 … ``max_n``, the
    last meaning "max_n or more"): ``customers``, ``actual`` and one column
    per model (mean predicted)."""
    key = np.minimum(cal["frequency"].to_numpy(), max_n)
    df = pd.DataFrame({"n": key, "actual": cal["frequency_holdout"].to_numpy(float)} |
                      {k: v for k, v in preds.items()})
    g = df.groupby("n").mean()
    g.insert(0, "customers", df.groupby("n").size())
    return g.reindex(range(max_n + 1)).reset_index()


def tracking(t, cal: pd.DataFrame, fits: list[Fit], calibration_end: dt.date, observation_end: dt.date,
             unit: str) -> pd.DataFrame:
    """Cumulative repeat purchase days of the calibration customers by week,
    actual (an Ibis query) and expected by each model (Σ over first-purchase
    days d of customers × E[X(t − d)]). Columns ``week`` (timestamp of the
    week's end), ``actual``, one per model."""
    u = unit_days(unit)
    first = pd.to_datetime(cal["first_purchase"]).dt.normalize()
    origin = first.min()
    end = pd.Timestamp(observation_end)
    grid = pd.date_range(origin + pd.Timedelta(days=7), end + pd.Timedelta(days=6), freq="7D")
    grid = grid[grid <= end + pd.Timedelta(days=6)]
    # actual: repeat purchase days (not the first) of the calibration customers
    d = purchase_days(t, observation_end)
    ids = ibis.memtable(pd.DataFrame({"cid": cal["customer_id"].astype(str).to_numpy()}))
    d = d.mutate(_cid=d.customer_id.cast("string"))
    d = d.inner_join(ids, d._cid == ids.cid)
    d = d.mutate(_first=d.day.min().over(group_by=d.customer_id))
    rep = d.filter(d.day > d._first)
    days = rep.select(k=_days_between(rep.day, ibis.literal(ts(origin.date())))).group_by("k").aggregate(
        n=ibis._.count()).execute()
    counts = np.zeros(len(grid))
    if len(days):
        idx = np.searchsorted(((grid - origin).days).to_numpy(), days["k"].to_numpy(), side="right")
        np.add.at(counts, np.minimum(idx, len(grid) - 1), days["n"].to_numpy(float))
    out = pd.DataFrame({"week": grid, "actual": np.cumsum(counts)})
    fd = first.value_counts()
    offs = ((fd.index - origin).days).to_numpy(float)
    wts = fd.to_numpy(float)
    gdays = np.minimum((grid - origin).days.to_numpy(float), (end - origin).days)
    for fit in fits:
        if fit.model is None:
            continue
        tt = np.maximum(gdays[:, None] - offs[None, :], 0.0) / u
        with _quiet():
            e = np.asarray(fit.predictor.expected_number_of_purchases_up_to_time(tt.ravel()), dtype=float)
        out[fit.name] = (np.nan_to_num(e).reshape(tt.shape) * wts[None, :]).sum(axis=1)
    return out


# --------------------------------------------------------------------------
# The whole analysis
# --------------------------------------------------------------------------

@dataclasses.dataclass
class Analysis:
    """Everything the section shows, computed once by :func:`analyse`."""

    cfg: object
    unit: str
    end: dt.date
    calibration_end: dt.date | None
    customers: pd.DataFrame          # per customer: summary + predictions (ids stay inside journeykit)
    fits: dict                       # name → Fit, on all the data up to the period end
    cal_fits: dict                   # name → Fit, on the calibration period
    holdout: dict                    # name → holdout_errors(...)
    selected: str | None
    selected_by: str                 # holdout | log_likelihood | none
    gamma_gamma: Fit | None
    correlation: float | None
    repeat_customers: int
    spend_fallback: float | None
    calibration: pd.DataFrame | None
    holdout_table: pd.DataFrame | None
    histogram: pd.DataFrame | None
    tracking: pd.DataFrame | None
    n_triples: int
    fit_seconds: float

    @property
    def ok(self) -> bool:
        """Whether CLV could be computed (some model converged)."""
        return self.selected is not None


def _empty_analysis(cfg, unit, end) -> Analysis:
    return Analysis(cfg, unit, end, None, pd.DataFrame(), {}, {}, {}, None, "none", None, None, 0, None, None, None,
                    None, None, 0, 0.0)


def analyse(ds, cfg=None, *, end: dt.date | None = None, validate: bool = True, models=MODELS) -> Analysis:
    """Fit, validate and predict, on the purchases up to the day before the
    period end (or up to and including ``end``).

    1. Calibration/holdout split (holdout = the last
       ``definitions.ltv_holdout_days`` days): each model in ``models`` is
       fitted on the calibration summary and scored on the holdout
       (:func:`holdout_errors`); the lowest RMSE selects the model (the
       highest log-likelihood when there is no usable holdout).
    2. Every model is refitted on all the data up to the end; the selected
       one gives P(alive), expected purchases and CLV per customer;
       Gamma-Gamma gives spend (see :func:`fit_spend`).

    Results are kept per dataset, so a notebook's cells share one analysis.
    """
    cfg = cfg or ds.cfg
    d = cfg.definitions
    unit = str(d.ltv_time_unit)
    end = end or (cfg.period.end - dt.timedelta(days=1))
    key = (end, validate, tuple(models), unit, int(d.ltv_holdout_days), int(d.ltv_horizon_months),
           float(d.ltv_discount_rate_monthly))
    return ds.memo(("ltv", key), lambda: _analyse(ds, cfg, end, validate, tuple(models)), cfg)


def _analyse(ds, cfg, end: dt.date, validate: bool, models: tuple) -> Analysis:
    d = cfg.definitions
    unit = str(d.ltv_time_unit)
    t = purchases(ds)
    t = t.filter(t.ordered_at < ts(end + dt.timedelta(days=1)))
    summ = rfm_summary(t, end, unit).execute()
    if summ.empty:
        return _empty_analysis(cfg, unit, end)
    summ["customer_id"] = summ["customer_id"].astype(str)
    fit_secs = 0.0
    limit = int(d.ltv_max_fit_customers)

    # 1. calibration / holdout
    cal_end = end - dt.timedelta(days=int(d.ltv_holdout_days))
    cal = None
    holdout, preds, hist, track, hold_tab = {}, {}, None, None, None
    cal_fits = {}
    if validate:
        cal = calibration_holdout(t, cal_end, end, unit).execute()
        if len(cal) and (cal["frequency"] > 0).any():
            cal["customer_id"] = cal["customer_id"].astype(str)
            ctr = triples(cal)
            cfit = ctr if len(cal) <= limit else triples(fit_sample(cal, limit))
            for name in models:
                f = fit_transactions(name, cfit)
                fit_secs += f.seconds
                cal_fits[name] = f
                if f.model is None:
                    continue
                e = expected_purchases(f.predictor, float(cal["duration_holdout"].iloc[0]), ctr)
                per = cal[["frequency", "recency_days", "T_days"]].merge(
                    ctr[["frequency", "recency_days", "T_days"]].assign(_e=e), how="left")
                preds[name] = per["_e"].to_numpy(float)
                holdout[name] = holdout_errors(preds[name], cal["frequency_holdout"].to_numpy(float))
            fitted = [f for f in cal_fits.values() if f.model is not None]
            hold_tab = holdout_by_frequency(cal, preds)
            hist = period_histogram(cal, fitted)
            track = tracking(t, cal, fitted, cal_end, end, unit)
        else:
            cal = None

    # 2. all data up to the end
    tr = triples(summ)
    tfit = tr if len(summ) <= limit else triples(fit_sample(summ, limit))
    fits = {}
    for name in models:
        fits[name] = fit_transactions(name, tfit)
        fit_secs += fits[name].seconds
    ok = [n for n in models if fits[n].model is not None]
    scored = [n for n in ok if holdout.get(n, {}).get("rmse") is not None]
    if scored:
        selected, by = min(scored, key=lambda n: (holdout[n]["rmse"], MODELS.index(n))), "holdout"
    elif ok:
        selected, by = max(ok, key=lambda n: (fits[n].log_likelihood, -MODELS.index(n))), "log_likelihood"
    else:
        selected, by = None, "none"

    gg, corr, n_rep = fit_spend(summ)
    if gg is not None:
        fit_secs += gg.seconds
    fallback = None
    if gg is None or gg.model is None:
        days = purchase_days(t, end)
        fallback = float(days.amount.mean().execute() or 0.0)

    if selected is not None:
        m = fits[selected].predictor
        disc, undisc = discounted_purchases(m, tr, int(d.ltv_horizon_months), float(d.ltv_discount_rate_monthly), unit)
        pa = p_alive(m, tr)
        per = summ[["frequency", "recency_days", "T_days"]].merge(
            tr[["frequency", "recency_days", "T_days"]].assign(_d=disc, _u=undisc, _a=pa), how="left")
        spend = expected_spend(gg, summ, fallback if fallback is not None else 0.0)
        summ["p_alive"] = per["_a"].to_numpy()
        summ["expected_purchases"] = per["_u"].to_numpy()
        summ["expected_spend"] = spend
        summ["clv"] = per["_d"].to_numpy() * spend
    return Analysis(cfg, unit, end, cal_end if cal is not None else None, summ, fits, cal_fits, holdout, selected, by,
                    gg, corr, n_rep, fallback, cal, hold_tab, hist, track, len(tr), fit_secs)


# --------------------------------------------------------------------------
# Per customer: RFM segments; breakdowns
# --------------------------------------------------------------------------

def _score(x: pd.Series, higher_is_better: bool = True) -> pd.Series:
    """Quintile score 1–5 from the percentile rank (ties share their mean
    rank, so a mass of equal values gets one score)."""
    pct = x.rank(pct=True, method="average")
    s = np.ceil(pct * 5).clip(1, 5).astype(int)
    return s if higher_is_better else 6 - s


def rfm_segments(customers: pd.DataFrame, end: dt.date) -> pd.DataFrame:
    """R, F and M quintile scores (1–5, 5 best) and a simple segment per
    customer. R: days from the last purchase day to ``end`` (fewer is
    better); F: purchase days; M: mean spend per purchase day.

    Segments, first rule that matches: ``champions`` (R ≥ 4 and F ≥ 4),
    ``at_risk`` (R ≤ 2 and F ≥ 3), ``loyal`` (F ≥ 3), ``new`` (R ≥ 4 and
    F ≤ 2), ``hibernating`` (R ≤ 2 and F ≤ 2), else ``needs_attention``.
    A simple scheme for this section; the segmentation section builds the
    full one.
    """
    c = customers
    days_since = c["T_days"] - c["recency_days"]
    n = c["frequency"] + 1
    m = c["total_spend"] / n
    R, F, M = _score(days_since, higher_is_better=False), _score(n), _score(m)
    seg = np.select([(R >= 4) & (F >= 4), (R <= 2) & (F >= 3), F >= 3, (R >= 4) & (F <= 2), (R <= 2) & (F <= 2)],
                    ["champions", "at_risk", "loyal", "new", "hibernating"], default="needs_attention")
    return pd.DataFrame({"customer_id": c["customer_id"], "r_score": R, "f_score": F, "m_score": M, "segment": seg},
                        index=c.index)


def _minimum(cfg) -> int:
    return max(int(cfg.definitions.min_group_size), int(cfg.definitions.k_anonymity))


def _group_table(df: pd.DataFrame, group: str, cfg, order: list | None = None) -> pd.DataFrame:
    """CLV by a group column: ``customers``, ``clv_total``, ``clv_share``,
    ``clv_mean``, ``p_alive`` (mean), ``expected_purchases`` (mean); groups
    under max(min_group_size, k_anonymity) customers fold into "other"."""
    g = df.groupby(group, dropna=False).agg(customers=("clv", "size"), clv_total=("clv", "sum"),
                                            p_sum=("p_alive", "sum"), e_sum=("expected_purchases", "sum")).reset_index()
    g[group] = g[group].astype(str)
    other = i18n.t("other_group", cfg.language)
    g = compare.fold_small(g, group, "customers", _minimum(cfg), other=other,
                           sum_columns=["customers", "clv_total", "p_sum", "e_sum"])
    if order is not None:
        rank = {k: i for i, k in enumerate(order)}
        g = g.sort_values(group, key=lambda s: s.map(lambda v: rank.get(v, len(rank))), kind="stable")
    total = df["clv"].sum()
    g["clv_share"] = [compare.safe_div(x, total) for x in g["clv_total"]]
    g["clv_mean"] = [compare.safe_div(x, n) for x, n in zip(g["clv_total"], g["customers"])]
    g["p_alive"] = [compare.safe_div(x, n) for x, n in zip(g["p_sum"], g["customers"])]
    g["expected_purchases"] = [compare.safe_div(x, n) for x, n in zip(g["e_sum"], g["customers"])]
    return g[[group, "customers", "clv_total", "clv_share", "clv_mean", "p_alive", "expected_purchases"]].reset_index(drop=True)


def by_segment(ds, cfg) -> pd.DataFrame | None:
    """CLV by RFM segment (:func:`rfm_segments`), segments in their fixed
    order; ``None`` when CLV is not available."""
    a = analyse(ds, cfg)
    if not a.ok:
        return None
    df = a.customers.join(rfm_segments(a.customers, a.end)[["segment"]])
    out = _group_table(df, "segment", cfg, order=list(SEGMENTS) + [i18n.t("other_group", cfg.language)])
    return out


def _customer_attributes(ds):
    c = ds.table("customers")
    cols = {"customer_id": c.customer_id.cast("string"), "signup_at": c.signup_at}
    if "acquisition_channel" in c.columns:
        cols["channel"] = c.acquisition_channel.cast("string").strip().lower()
    return c.select(**cols)


def has_acquisition(ds) -> bool:
    """Whether customers were supplied (not derived) with an ``acquisition_channel``."""
    t = ds.report.tables.get("customers")
    return (ds.has("customers") and t is not None and t.status != "derived"
            and "acquisition_channel" in ds.table("customers").columns)


def _with_attributes(ds, a: Analysis) -> pd.DataFrame:
    attrs = _customer_attributes(ds).execute()
    attrs["customer_id"] = attrs["customer_id"].astype(str)
    return a.customers.merge(attrs, on="customer_id", how="left")


def by_channel(ds, cfg) -> pd.DataFrame | None:
    """CLV by acquisition channel (``customers.acquisition_channel``, missing
    as "(not recorded)"); ``None`` without the column or without CLV."""
    a = analyse(ds, cfg)
    if not a.ok or not has_acquisition(ds):
        return None
    df = _with_attributes(ds, a)
    df["channel"] = df["channel"].fillna(i18n.t("ltv_unknown", cfg.language))
    out = _group_table(df, "channel", cfg)
    return out


def _quarter(ts_: pd.Series) -> pd.Series:
    t = pd.to_datetime(ts_)
    return t.dt.year.astype("Int64").astype(str) + " Q" + t.dt.quarter.astype("Int64").astype(str)


def by_cohort(ds, cfg) -> pd.DataFrame | None:
    """CLV by signup quarter (``customers.signup_at``; when the loader
    derived the customers table, the quarter of the first order or event).
    Quarters in time order; ``None`` without CLV."""
    a = analyse(ds, cfg)
    if not a.ok:
        return None
    df = _with_attributes(ds, a)
    start = df["signup_at"].where(df["signup_at"].notna(), df["first_purchase"])
    df["cohort"] = _quarter(start)
    out = _group_table(df, "cohort", cfg, order=sorted(df["cohort"].unique()))
    return out


def clv_quantiles(ds, cfg) -> pd.DataFrame | None:
    """CLV distribution: median, 75th, 90th and 99th percentiles, and the
    share of total CLV held by the top 10% of customers (``key``,
    ``value``, ``kind``)."""
    a = analyse(ds, cfg)
    if not a.ok:
        return None
    clv = a.customers["clv"].to_numpy(float)
    srt = np.sort(clv)[::-1]
    top = srt[: max(1, int(math.ceil(0.1 * len(srt))))].sum()
    rows = [("p50", float(np.quantile(clv, 0.5)), "money"), ("p75", float(np.quantile(clv, 0.75)), "money"),
            ("p90", float(np.quantile(clv, 0.9)), "money"), ("p99", float(np.quantile(clv, 0.99)), "money"),
            ("top10_share", compare.safe_div(top, clv.sum()), "pct")]
    return pd.DataFrame(rows, columns=["key", "value", "kind"])


# --------------------------------------------------------------------------
# LTV:CAC and payback by channel
# --------------------------------------------------------------------------

def has_cac(ds) -> bool:
    """Whether LTV:CAC can be computed: marketing spend and acquisition channels."""
    if not ds.has("marketing") or not has_acquisition(ds):
        return False
    m = ds.table("marketing")
    return "spend" in m.columns and bool(int(m.spend.notnull().sum().execute() or 0))


def cac_window(cfg) -> tuple[dt.date, dt.date]:
    """The acquisition window of LTV:CAC: the ``trend_periods`` months ending
    with the period (start inclusive, end exclusive)."""
    months = trailing_months(cfg)
    return months[0].start, months[-1].end


def payback_curve(ds, cfg, max_months: int = 36) -> pd.DataFrame:
    """Average cumulative revenue per signup by month since signup, per
    acquisition channel, all signup cohorts pooled: month ``k``'s revenue
    per signup is the revenue in days ``[k, k+1)·365.25/12`` after signup
    of the customers who had reached the end of that month by the period
    end, over their number; the curve is its running sum. Columns
    ``channel``, ``month`` (1 = first month), ``cum_revenue``, ``signups``."""
    end = cfg.period.end
    c = _customer_attributes(ds)
    c = c.filter(c.signup_at.notnull())
    age = (ibis.literal(ts(end)).epoch_seconds() - c.signup_at.epoch_seconds()) / (86400.0 * MONTH_DAYS)
    c = c.mutate(full_months=age.floor().cast("int64"))
    p = purchases(ds)
    p = p.mutate(cid=p.customer_id.cast("string"))
    j = p.inner_join(c, p.cid == c.customer_id)
    k = ((j.ordered_at.epoch_seconds() - j.signup_at.epoch_seconds()) / (86400.0 * MONTH_DAYS)).floor().cast("int64")
    j = j.mutate(k=ibis.greatest(k, 0))
    j = j.filter((j.k < j.full_months) & (j.k < max_months))
    rev = j.group_by(["channel", "k"]).aggregate(revenue=j.amount.sum()).execute()
    ages = c.group_by(["channel", "full_months"]).aggregate(n=c.count()).execute()
    rows = []
    for ch, g in ages.groupby("channel", dropna=False):
        r = rev[rev["channel"].isna()] if pd.isna(ch) else rev[rev["channel"] == ch]
        rk = r.set_index("k")["revenue"]
        cum = 0.0
        for kk in range(max_months):
            n = int(g.loc[g["full_months"] > kk, "n"].sum())
            if n == 0:
                break
            cum += float(rk.get(kk, 0.0)) / n
            rows.append({"channel": ch, "month": kk + 1, "cum_revenue": cum, "signups": n})
    return pd.DataFrame(rows, columns=["channel", "month", "cum_revenue", "signups"])


def ltv_cac(ds, cfg) -> pd.DataFrame | None:
    """LTV:CAC and CAC payback per acquisition channel, for customers who
    signed up in :func:`cac_window`.

    - ``signups``: customers of the channel who signed up in the window;
    - ``spend``: the channel's marketing spend in the window (channels
      matched case-insensitively); ``cac`` = spend / signups (currency per
      signup; from :func:`journeykit.sections.awareness.compute.acquisition_by_channel`);
    - ``ltv``: (revenue of those signups so far + their CLV over the
      horizon) / signups — customers without a purchase count as 0, so it is
      revenue per signup, not per buyer; currency;
    - ``ltv_cac`` = ltv / cac; ``payback_months``: the first month after
      signup in which the pooled cumulative revenue per signup
      (:func:`payback_curve`) reaches the CAC (``None``: not within the
      observed months; ``payback_observed`` says how many).

    Channels under max(min_group_size, k_anonymity) signups fold into
    "other". ``None`` without spend and acquisition channels.
    """
    if not has_cac(ds):
        return None
    from journeykit.sections.awareness import compute as awareness

    a = analyse(ds, cfg)
    lo, hi = cac_window(cfg)
    win = types.SimpleNamespace(start=lo, end=hi)
    acq = awareness.acquisition_by_channel(ds, win, cfg)
    if acq is None or acq.empty:
        return None
    other = i18n.t("other_group", cfg.language)
    c = in_window(_customer_attributes(ds), "signup_at", lo, hi).execute()
    c["customer_id"] = c["customer_id"].astype(str)
    p = purchases(ds)
    p = p.mutate(cid=p.customer_id.cast("string"))
    spent = p.group_by("cid").aggregate(spent=p.amount.sum()).execute().rename(columns={"cid": "customer_id"})
    c = c.merge(spent, on="customer_id", how="left")
    clv = a.customers[["customer_id", "clv"]] if a.ok else pd.DataFrame({"customer_id": [], "clv": []})
    c = c.merge(clv, on="customer_id", how="left")
    c["value"] = c["spent"].fillna(0.0) + c["clv"].fillna(0.0)
    kept = set(acq["channel"]) - {other}
    c["group"] = c["channel"].where(c["channel"].isin(kept), other)
    val = c.groupby("group")["value"].sum()
    curve = payback_curve(ds, cfg)
    rows = []
    for _, r in acq.iterrows():
        ch, n = r["channel"], r["new_customers"]
        ltv_ = compare.safe_div(val.get(ch, 0.0), n)
        cac_ = r["cac"] if pd.notna(r["cac"]) else None
        pb, seen = None, None
        if cac_ is not None and ch != other:
            cv = curve[curve["channel"] == ch]
            seen = int(cv["month"].max()) if len(cv) else 0
            hit = cv[cv["cum_revenue"] >= cac_]
            pb = int(hit["month"].min()) if len(hit) else None
        rows.append({"channel": ch, "signups": n, "spend": r["spend"], "cac": cac_, "ltv": ltv_,
                     "ltv_cac": compare.safe_div(ltv_, cac_), "payback_months": pb, "payback_observed": seen})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------
# Exports
# --------------------------------------------------------------------------

def top_customers(ds, cfg, n: int = TOP_EXPORT) -> pd.DataFrame | None:
    """The ``n`` customers with the highest CLV: ``customer_id`` (pseudonymized
    on export), ``clv``, ``p_alive``, ``expected_purchases``, ``frequency``,
    ``recency_days``, ``T_days``, ``total_spend``."""
    a = analyse(ds, cfg)
    if not a.ok:
        return None
    cols = ["customer_id", "clv", "p_alive", "expected_purchases", "expected_spend", "frequency", "recency_days",
            "T_days", "total_spend"]
    return a.customers.sort_values(["clv", "customer_id"], ascending=[False, True]).head(n)[cols].reset_index(drop=True)


def at_risk_customers(ds, cfg) -> pd.DataFrame | None:
    """High-value customers who are probably lapsing: the top fifth by past
    spend (``total_spend``) whose P(alive) is below :data:`LOW_ALIVE`;
    sorted by past spend."""
    a = analyse(ds, cfg)
    if not a.ok:
        return None
    c = a.customers
    cut = c["total_spend"].quantile(0.8)
    r = c[(c["total_spend"] >= cut) & (c["p_alive"] < LOW_ALIVE)]
    cols = ["customer_id", "total_spend", "p_alive", "clv", "frequency", "recency_days", "T_days"]
    return r.sort_values(["total_spend", "customer_id"], ascending=[False, True])[cols].reset_index(drop=True)


def write_exports(ds, cfg) -> dict:
    """Write the two target lists through :func:`journeykit.report.export`
    (pseudonymized ids, only inside a report run). Returns ``{name: (rows,
    path or None)}``."""
    out = {}
    for name, df in (("ltv_top_customers", top_customers(ds, cfg)), ("ltv_high_value_at_risk", at_risk_customers(ds, cfg))):
        if df is None:
            continue
        num = df.select_dtypes("float").columns
        out[name] = (len(df), report.export(name, df.assign(**{c: df[c].round(4) for c in num}), cfg))
    return out


# --------------------------------------------------------------------------
# Monthly inputs (the trend chart)
# --------------------------------------------------------------------------

def monthly(ds, cfg) -> pd.DataFrame:
    """What feeds the models, one row per month of the trend window:
    ``new_buyers`` (customers whose first purchase day is in the month),
    ``buyers`` (customers with a purchase day in the month),
    ``repeat_days`` (purchase days in the month that are not a customer's
    first), ``spend_per_day`` (mean amount of the month's purchase days;
    currency)."""
    lo, hi = trailing_months(cfg)[0].start, cfg.period.end
    d = purchase_days(purchases(ds))
    d = d.mutate(_first=d.day.min().over(group_by=d.customer_id))
    d = in_window(d, "day", lo, hi)
    d = d.mutate(month=month_of(d.day))
    m = d.group_by("month").aggregate(new_buyers=d.count(where=d.day == d._first), buyers=d.customer_id.nunique(),
                                      repeat_days=d.count(where=d.day > d._first),
                                      spend_per_day=d.amount.mean()).execute()
    m["month"] = pd.to_datetime(m["month"])
    out = month_frame(cfg).merge(m, on="month", how="left")
    for c in ("new_buyers", "buyers", "repeat_days"):
        out[c] = out[c].fillna(0).astype(float)
    out["spend_per_day"] = out["spend_per_day"].astype(float)
    return out


# --------------------------------------------------------------------------
# Key figures, metrics
# --------------------------------------------------------------------------

def headline(a: Analysis) -> dict:
    """The key figures of one analysis (``None`` where not computable):
    ``customers`` (customers with a purchase up to the end), ``clv_total`` /
    ``clv_mean`` / ``clv_median`` (CLV over the horizon, summed / mean /
    median over those customers; currency), ``p_alive_mean`` (mean P(alive),
    0–1), ``expected_purchases_mean`` (expected purchase days per customer
    over the horizon, undiscounted)."""
    c = a.customers
    n = float(len(c)) if len(c) else None
    if not a.ok:
        return {"customers": n, "clv_total": None, "clv_mean": None, "clv_median": None, "p_alive_mean": None,
                "expected_purchases_mean": None}
    return {"customers": n, "clv_total": float(c["clv"].sum()), "clv_mean": float(c["clv"].mean()),
            "clv_median": float(c["clv"].median()), "p_alive_mean": float(c["p_alive"].mean()),
            "expected_purchases_mean": float(c["expected_purchases"].mean())}


def previous(ds, cfg) -> Analysis:
    """The same analysis at the end of the comparison period, with this
    period's selected model (no holdout: the model choice is made once)."""
    a = analyse(ds, cfg)
    models = (a.selected,) if a.selected else MODELS
    return analyse(ds, cfg, end=cfg.period.previous().end - dt.timedelta(days=1), validate=False, models=models)


def changes(ds, cfg) -> list[compare.Change]:
    """This period's key figures against the comparison period's
    (:func:`headline` of :func:`analyse` and :func:`previous`). Model
    outputs have no sampling model: no test (:func:`compare.value`)."""
    a, b = headline(analyse(ds, cfg)), headline(previous(ds, cfg))
    return [compare.value(k, a[k], b[k], higher_is_better=True) for k in KINDS]


def labels(cfg) -> dict[str, str]:
    """Display label of each key figure in the client's language."""
    months = int(cfg.definitions.ltv_horizon_months)
    return {k: i18n.t(f"ltv_{k}", cfg.language, months=months) for k in KINDS}


def _model_metrics(fits: dict, holdout: dict) -> dict:
    out = {}
    for name in MODELS:
        f = fits.get(name)
        ok = f is not None and f.converged
        out[name] = {"params": f.params if ok else None, "log_likelihood": f.log_likelihood if ok else None,
                     "holdout_error": (holdout.get(name) or {}).get("rmse") if ok else None,
                     "converged": bool(ok) if f is not None else None,
                     "penalizer": f.penalizer if ok else None}
    return out


def metrics(ds, cfg) -> dict:
    """The section's stable ``metrics.json`` keys (:data:`STABLE_KEYS`), each
    with ``_prev`` (the analysis at the end of the comparison period, with
    this period's selected model):

    - ``time_unit``: the models' time unit; ``horizon_months``,
      ``discount_rate_monthly``: the CLV settings;
    - ``models.<bgnbd|pareto_nbd|mbgnbd>``: ``params`` ({r, alpha, a, b} /
      {r, alpha, s, beta}, alpha and beta in the time unit), ``log_likelihood``
      (on all the data), ``holdout_error`` (RMSE of holdout purchase days
      per customer, from the calibration fit), ``converged``, ``penalizer``;
      ``null`` for a model that did not converge;
    - ``selected_model``: the model used for predictions;
    - ``gamma_gamma.params``: {p, q, v} (v in the client's currency), plus
      ``correlation`` (frequency–spend, repeat customers) and ``customers``;
    - ``clv_total``, ``clv_mean``, ``clv_median``: CLV over the horizon
      (currency), summed / mean / median over customers with a purchase.

    Also (not stable): ``customers``, ``p_alive_mean``,
    ``expected_purchases_mean``, ``fit_seconds``, ``triples``.
    """
    d = cfg.definitions
    out: dict = {}
    for suffix, a in (("", analyse(ds, cfg)), ("_prev", previous(ds, cfg))):
        h = headline(a)
        gg = a.gamma_gamma
        out |= {
            f"time_unit{suffix}": a.unit,
            f"models{suffix}": _model_metrics(a.fits, a.holdout),
            f"selected_model{suffix}": a.selected,
            f"gamma_gamma{suffix}": {"params": gg.params if gg is not None and gg.converged else None,
                                     "correlation": a.correlation, "customers": a.repeat_customers},
            f"clv_total{suffix}": h["clv_total"], f"clv_mean{suffix}": h["clv_mean"],
            f"clv_median{suffix}": h["clv_median"],
            f"horizon_months{suffix}": int(d.ltv_horizon_months),
            f"discount_rate_monthly{suffix}": float(d.ltv_discount_rate_monthly),
            f"customers{suffix}": h["customers"], f"p_alive_mean{suffix}": h["p_alive_mean"],
            f"expected_purchases_mean{suffix}": h["expected_purchases_mean"],
        }
    a = analyse(ds, cfg)
    out["fit_seconds"] = round(a.fit_seconds, 3)
    out["triples"] = a.n_triples
    return out


# --------------------------------------------------------------------------
# Generated sentences
# --------------------------------------------------------------------------

def _money(x, cfg) -> str:
    return report.fmt_money(x, cfg.currency)


def _model_name(name: str, cfg) -> str:
    return i18n.t(f"ltv_model_{name}", cfg.language)


def _ratio(x) -> str:
    return "–" if x is None or pd.isna(x) else f"{float(x):.1f}"


def model_notes(ds, cfg) -> list[str]:
    """Sentences on the model fits: penalized retries and failures (on the
    calibration or the full data), the unit used, and how the model was
    selected, with the holdout comparison."""
    lang = cfg.language
    a = analyse(ds, cfg)
    out = [i18n.t("ltv_unit_note", lang, unit=i18n.t(f"ltv_unit_{a.unit}", lang))]
    fitted = [f for f in a.fits.values() if f.model is not None]
    if fitted and fitted[0].n_customers < len(a.customers):
        out.append(i18n.t("ltv_sampled_note", lang, n=report.fmt_int(len(a.customers)),
                          k=report.fmt_int(fitted[0].n_customers)))
    for name in MODELS:
        fs = [f for f in (a.cal_fits.get(name), a.fits.get(name)) if f is not None]
        if any(f.status == "failed" for f in fs):
            out.append(i18n.t("ltv_failed_note", lang, model=_model_name(name, cfg)))
        elif any(f.status == "penalized" for f in fs):
            out.append(i18n.t("ltv_penalized_note", lang, model=_model_name(name, cfg), c=PENALIZER))
    if a.selected is None:
        out.append(i18n.t("ltv_no_model", lang))
        return out
    if a.selected_by == "holdout":
        sel = a.holdout[a.selected]
        others = [f"{_model_name(n, cfg)} {report.fmt_num(a.holdout[n]['rmse'], 2)}" for n in MODELS
                  if n != a.selected and a.holdout.get(n, {}).get("rmse") is not None]
        out.append(i18n.t("ltv_selection_sentence", lang, model=_model_name(a.selected, cfg),
                          rmse=report.fmt_num(sel["rmse"], 2), others=", ".join(others) or "–"))
        cal = a.calibration
        err = sel["total_error"]
        out.append(i18n.t("ltv_holdout_sentence", lang, n=report.fmt_int(len(cal)),
                          cal_end=report.fmt_date(a.calibration_end),
                          start=report.fmt_date(a.calibration_end + dt.timedelta(days=1)), end=report.fmt_date(a.end),
                          days=int(cfg.definitions.ltv_holdout_days), actual=report.fmt_int(sel["actual"]),
                          model=_model_name(a.selected, cfg), predicted=report.fmt_int(sel["predicted"]),
                          error=("+" if (err or 0) >= 0 else "−") + report.fmt_pct(abs(err or 0))))
    else:
        out.append(i18n.t("ltv_no_holdout", lang, days=int(cfg.definitions.ltv_holdout_days)))
        out.append(i18n.t("ltv_selection_ll", lang, model=_model_name(a.selected, cfg)))
    if a.selected in ("bgnbd", "mbgnbd"):
        out.append(i18n.t("ltv_bgnbd_zero", lang))
    return out


def spend_notes(ds, cfg) -> list[str]:
    """Sentences on the spend model: the frequency–spend correlation check
    (doubtful when |r| ≥ :data:`CORRELATION_LIMIT`) and the Gamma-Gamma fit,
    or why it was not used."""
    lang = cfg.language
    a = analyse(ds, cfg)
    out = []
    if a.correlation is not None:
        key = "ltv_corr_bad" if abs(a.correlation) >= CORRELATION_LIMIT else "ltv_corr_ok"
        out.append(i18n.t(key, lang, r=f"{a.correlation:.2f}"))
    gg = a.gamma_gamma
    if gg is not None and gg.converged:
        rep = a.customers[(a.customers["frequency"] > 0) & (a.customers["monetary_value"] > 0)]
        out.append(i18n.t("ltv_gg_sentence", lang, p=f"{gg.params['p']:.2f}", q=f"{gg.params['q']:.2f}",
                          v=report.fmt_num(gg.params["v"], 1), n=report.fmt_int(a.repeat_customers),
                          mean=_money(population_spend(gg.params), cfg),
                          observed=_money(rep["monetary_value"].mean(), cfg)))
    elif a.spend_fallback is not None:
        why = (i18n.t("ltv_gg_why_few", lang, n=MIN_REPEAT_CUSTOMERS) if gg is None
               else i18n.t("ltv_gg_why_failed", lang))
        out.append(i18n.t("ltv_gg_fallback", lang, why=why, mean=_money(a.spend_fallback, cfg)))
    return out


def insights(ds, cfg) -> list[str]:
    """The summary sentence: customers, repeat buyers, expected purchases
    and CLV over the horizon; or why there is none."""
    lang = cfg.language
    a = analyse(ds, cfg)
    if a.customers.empty:
        return [i18n.t("ltv_no_purchases", lang)]
    if not a.ok:
        return [i18n.t("ltv_no_model", lang)]
    c = a.customers
    rep = int((c["frequency"] > 0).sum())
    return [i18n.t("ltv_summary_sentence", lang, n=report.fmt_int(len(c)), repeat=report.fmt_int(rep),
                   repeat_share=report.fmt_pct(rep / len(c)), months=int(cfg.definitions.ltv_horizon_months),
                   purchases=report.fmt_int(c["expected_purchases"].sum()), clv=_money(c["clv"].sum(), cfg),
                   rate=report.fmt_pct(float(cfg.definitions.ltv_discount_rate_monthly)))]


def _ranked_channels(df: pd.DataFrame | None, cfg) -> pd.DataFrame:
    if df is None:
        return pd.DataFrame()
    other = i18n.t("other_group", cfg.language)
    ok = df[(df["channel"] != other) & df["ltv_cac"].notna()]
    return ok.sort_values(["ltv_cac", "channel"], ascending=[False, True])


def next_steps(ds, cfg) -> list[str]:
    """"What to look at next", most urgent first. Rules (each fires on its own):

    1. high-value customers (top fifth by past spend) with P(alive) below
       :data:`LOW_ALIVE`: at least ``min_sample_size`` of them, or 5% of
       customers;
    2. the top 10% of customers hold more than half of the total CLV;
    3. with LTV:CAC: the best channel's ratio is at least twice the worst's;
       any channel below 1 (does not earn its CAC back in revenue);
    4. the selected model misses total holdout purchases by more than 10%;
    5. the frequency–spend correlation is at or above :data:`CORRELATION_LIMIT`.

    When none fires, one sentence says nothing stands out.
    """
    lang = cfg.language
    a = analyse(ds, cfg)
    if not a.ok:
        return [i18n.t("ltv_no_model" if not a.customers.empty else "ltv_no_purchases", lang)]
    out = []
    risk = at_risk_customers(ds, cfg)
    if risk is not None and len(risk) and (len(risk) >= int(cfg.definitions.min_sample_size)
                                           or len(risk) >= 0.05 * len(a.customers)):
        out.append(i18n.t("ltv_next_risk", lang, n=report.fmt_int(len(risk)), alive=report.fmt_pct(LOW_ALIVE, 0),
                          spend=_money(risk["total_spend"].sum(), cfg)))
    q = clv_quantiles(ds, cfg)
    share = float(q.loc[q["key"] == "top10_share", "value"].iloc[0] or 0)
    if share > 0.5:
        out.append(i18n.t("ltv_next_concentration", lang, share=report.fmt_pct(share)))
    ranked = _ranked_channels(ltv_cac(ds, cfg), cfg)
    if len(ranked) >= 2:
        best, worst = ranked.iloc[0], ranked.iloc[-1]
        if worst["ltv_cac"] > 0 and best["ltv_cac"] >= 2 * worst["ltv_cac"]:
            out.append(i18n.t("ltv_next_channel", lang, best=best["channel"], worst=worst["channel"],
                              best_ratio=_ratio(best["ltv_cac"]), worst_ratio=_ratio(worst["ltv_cac"])))
    for _, r in ranked[ranked["ltv_cac"] < 1].iterrows() if len(ranked) else []:
        out.append(i18n.t("ltv_next_unprofitable", lang, channel=r["channel"], ratio=_ratio(r["ltv_cac"]),
                          months=int(cfg.definitions.ltv_horizon_months)))
    err = a.holdout.get(a.selected, {}).get("total_error")
    if err is not None and abs(err) > 0.1:
        out.append(i18n.t("ltv_next_model", lang, error=("+" if err > 0 else "−") + report.fmt_pct(abs(err))))
    if a.correlation is not None and abs(a.correlation) >= CORRELATION_LIMIT:
        out.append(i18n.t("ltv_next_correlation", lang, r=f"{a.correlation:.2f}"))
    if not out:
        out.append(i18n.t("ltv_next_nothing", lang))
    return out


def closing_note(ds, cfg) -> str:
    """Fit time and patterns, and how fitting scales with customers."""
    a = analyse(ds, cfg)
    fitted = [f for f in a.fits.values() if f.model is not None]
    triples_, customers = ((fitted[0].n_rows, fitted[0].n_customers) if fitted
                           else (a.n_triples, len(a.customers)))
    return i18n.t("ltv_closing", cfg.language, triples=report.fmt_int(triples_), customers=report.fmt_int(customers),
                  seconds=report.fmt_num(a.fit_seconds, 1),
                  limit=report.fmt_int(int(cfg.definitions.ltv_max_fit_customers)))


# --------------------------------------------------------------------------
# Views for the notebook
# --------------------------------------------------------------------------

def kpi_view(ds, cfg, chs=None):
    """The key figures, this period against the comparison period."""
    chs = chs if chs is not None else changes(ds, cfg)
    return report.kpi_table(chs, labels(cfg), KINDS, cfg)


def changes_view(ds, cfg, chs=None):
    """Generated sentences about the key figures' changes."""
    chs = chs if chs is not None else changes(ds, cfg)
    return report.Narrative(report.describe_changes(chs, labels(cfg), KINDS, cfg))


def insights_view(ds, cfg):
    """:func:`insights` as a paragraph list."""
    return report.Narrative(insights(ds, cfg))


def model_notes_view(ds, cfg):
    """:func:`model_notes` as a paragraph list."""
    return report.Narrative(model_notes(ds, cfg))


def spend_view(ds, cfg):
    """:func:`spend_notes` as a paragraph list."""
    return report.Narrative(spend_notes(ds, cfg))


def next_steps_view(ds, cfg):
    """:func:`next_steps` as a paragraph list."""
    return report.Narrative(next_steps(ds, cfg))


def closing_view(ds, cfg):
    """:func:`closing_note` as a note."""
    return report.Note(closing_note(ds, cfg))


def _fmt_params(params: dict | None) -> str:
    if not params:
        return "–"
    return ", ".join(f"{k} = {v:,.3g}" if abs(v) < 1000 else f"{k} = {v:,.0f}" for k, v in params.items())


def model_table(ds, cfg):
    """The model comparison: parameters and log-likelihood (all the data),
    holdout errors (calibration fit) and fit status; the selected model
    marked."""
    lang = cfg.language
    a = analyse(ds, cfg)
    rows = []
    for name in MODELS:
        f, cf, h = a.fits.get(name), a.cal_fits.get(name), a.holdout.get(name, {})
        if f is None:
            continue
        worst = max((x for x in (f, cf) if x is not None), key=lambda x: ("ok", "penalized", "failed").index(x.status))
        status = i18n.t(f"ltv_status_{worst.status}", lang, c=PENALIZER)
        err = h.get("total_error")
        rows.append({
            "model": _model_name(name, cfg) + (i18n.t("ltv_selected_mark", lang) if name == a.selected else ""),
            "params": _fmt_params(f.params), "ll": f.log_likelihood, "rmse": h.get("rmse"), "mae": h.get("mae"),
            "total": None if err is None else ("+" if err >= 0 else "−") + report.fmt_pct(abs(err)),
            "status": status})
    df = pd.DataFrame(rows, columns=["model", "params", "ll", "rmse", "mae", "total", "status"])
    cols = {"model": ("ltv_col_model", "text"), "params": ("ltv_col_params", "text"), "ll": ("ltv_col_ll", "num"),
            "rmse": ("ltv_col_rmse", "num2"), "mae": ("ltv_col_mae", "num2"), "total": ("ltv_col_total_error", "numtext"),
            "status": ("ltv_col_status", "text")}
    return _view(df, cfg, cols)


def _view(df: pd.DataFrame, cfg, columns: dict):
    lang = cfg.language
    out = df[list(columns)].copy()
    lab = {c: i18n.t(key, lang) for c, (key, _) in columns.items()}
    return report.table(out.rename(columns=lab), cfg, {lab[c]: kind for c, (_, kind) in columns.items()})


_GROUP_COLS = {"customers": ("ltv_col_customers", "int"), "clv_total": ("ltv_col_clv_total", "money"),
               "clv_share": ("ltv_col_clv_share", "pct"), "clv_mean": ("ltv_col_clv_mean", "money"),
               "p_alive": ("ltv_col_p_alive", "pct"), "expected_purchases": ("ltv_col_purchases", "num")}


def segment_view(ds, cfg):
    """CLV by RFM segment (a table), or a note."""
    df = by_segment(ds, cfg)
    if df is None:
        return report.Note(i18n.t("ltv_no_model", cfg.language))
    other = i18n.t("other_group", cfg.language)
    df = df.assign(segment=[s if s == other else i18n.t(f"ltv_seg_{s}", cfg.language) for s in df["segment"]])
    return _view(df, cfg, {"segment": ("ltv_col_segment", "text")} | _GROUP_COLS)


def channel_view(ds, cfg):
    """CLV by acquisition channel (a table), or a note."""
    if not has_acquisition(ds):
        return report.Note(i18n.t("ltv_no_acquisition", cfg.language))
    df = by_channel(ds, cfg)
    if df is None:
        return report.Note(i18n.t("ltv_no_model", cfg.language))
    return _view(df, cfg, {"channel": ("ltv_col_channel", "text")} | _GROUP_COLS)


def cohort_view(ds, cfg):
    """CLV by signup quarter (a table), or a note."""
    df = by_cohort(ds, cfg)
    if df is None:
        return report.Note(i18n.t("ltv_no_model", cfg.language))
    derived = ds.report.tables.get("customers") is not None and ds.report.tables["customers"].status == "derived"
    return _view(df, cfg, {"cohort": ("ltv_col_cohort_derived" if derived else "ltv_col_cohort", "text")} | _GROUP_COLS)


def quantile_view(ds, cfg):
    """The CLV distribution in a few numbers (a table)."""
    q = clv_quantiles(ds, cfg)
    if q is None:
        return report.Note(i18n.t("ltv_no_model", cfg.language))
    vals = [report.fmt_pct(v) if k == "pct" else _money(v, cfg) for v, k in zip(q["value"], q["kind"])]
    df = pd.DataFrame({"q": [i18n.t(f"ltv_q_{k}", cfg.language) for k in q["key"]], "v": vals})
    return _view(df, cfg, {"q": ("ltv_col_quantile", "text"), "v": ("ltv_col_clv", "numtext")})


def cac_view(ds, cfg):
    """LTV:CAC and payback by channel (a table and its definition), or a
    note saying they are not available."""
    lang = cfg.language
    df = ltv_cac(ds, cfg)
    if df is None:
        return report.Note(i18n.t("ltv_no_cac", lang))
    df = df.copy()
    df["payback"] = [str(int(p)) if p is not None and not pd.isna(p) else
                     (i18n.t("ltv_payback_over", lang, k=int(s)) if s is not None and not pd.isna(s) else "–")
                     for p, s in zip(df["payback_months"], df["payback_observed"])]
    df["ratio"] = [_ratio(x) for x in df["ltv_cac"]]
    return _view(df, cfg, {"channel": ("ltv_col_channel", "text"), "signups": ("ltv_col_signups", "int"),
                           "spend": ("ltv_col_spend", "money"), "cac": ("ltv_col_cac", "money"),
                           "ltv": ("ltv_col_ltv", "money"), "ratio": ("ltv_col_ltv_cac", "numtext"),
                           "payback": ("ltv_col_payback", "numtext")})


def cac_note(ds, cfg):
    """The definitions behind :func:`cac_view` (a note), or nothing to add."""
    if not has_cac(ds):
        return report.Narrative([])
    lo, hi = cac_window(cfg)
    out = [i18n.t("ltv_cac_note", cfg.language, start=report.fmt_date(lo), end=report.fmt_date(hi - dt.timedelta(days=1)),
                  months=int(cfg.definitions.ltv_horizon_months))]
    ranked = _ranked_channels(ltv_cac(ds, cfg), cfg)
    if len(ranked) >= 2:
        out.append(i18n.t("ltv_ltv_cac_sentence", cfg.language, best=ranked.iloc[0]["channel"],
                          best_ratio=_ratio(ranked.iloc[0]["ltv_cac"]), worst=ranked.iloc[-1]["channel"],
                          worst_ratio=_ratio(ranked.iloc[-1]["ltv_cac"])))
    return report.Narrative(out)


def exports_view(ds, cfg):
    """Writes the target lists (inside a report run) and says what they hold."""
    lang = cfg.language
    written = write_exports(ds, cfg)
    if not written:
        return report.Note(i18n.t("ltv_no_model", lang))
    (n_top, p_top), (n_risk, p_risk) = written["ltv_top_customers"], written["ltv_high_value_at_risk"]
    if p_top is None:
        return report.Note(i18n.t("ltv_export_none", lang, n_top=report.fmt_int(n_top), n_risk=report.fmt_int(n_risk),
                                  alive=report.fmt_pct(LOW_ALIVE, 0)))
    return report.Note(i18n.t("ltv_export_sentence", lang, top=p_top.name, risk=p_risk.name, n_top=report.fmt_int(n_top),
                              n_risk=report.fmt_int(n_risk), alive=report.fmt_pct(LOW_ALIVE, 0)))


# --------------------------------------------------------------------------
# Charts
# --------------------------------------------------------------------------

def trend_chart(ds, cfg):
    """Small multiples of the models' inputs over the trend window."""
    lang = cfg.language
    df = monthly(ds, cfg)
    panels = [("new_buyers", i18n.t("ltv_new_buyers", lang), "int"), ("buyers", i18n.t("ltv_buyers", lang), "int"),
              ("repeat_days", i18n.t("ltv_repeat_days", lang), "int"),
              ("spend_per_day", i18n.t("ltv_spend_per_day", lang), "money")]
    return plots.trends(df, panels, ncols=2, title=i18n.t("ltv_chart_trend", lang, n=len(df)))


def _legend_names(cfg) -> dict:
    return {"actual": i18n.t("ltv_actual", cfg.language)} | {m: _model_name(m, cfg) for m in MODELS}


def _no_validation(cfg):
    return report.Note(i18n.t("ltv_no_holdout", cfg.language, days=int(cfg.definitions.ltv_holdout_days)))


def holdout_chart(ds, cfg):
    """Mean holdout purchases by calibration repeat purchases: actual
    (bars) and each model (lines)."""
    import matplotlib.pyplot as plt

    a = analyse(ds, cfg)
    df = a.holdout_table
    if df is None:
        return _no_validation(cfg)
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
    actual and each model, the holdout start marked."""
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    a = analyse(ds, cfg)
    df = a.tracking
    if df is None:
        return _no_validation(cfg)
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
    each model's expectation (grouped bars)."""
    import matplotlib.pyplot as plt

    a = analyse(ds, cfg)
    df = a.histogram
    if df is None:
        return _no_validation(cfg)
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
    below 1 currency unit in the first bin)."""
    import matplotlib.pyplot as plt

    a = analyse(ds, cfg)
    if not a.ok:
        return report.Note(i18n.t("ltv_no_model", cfg.language))
    clv = np.maximum(a.customers["clv"].to_numpy(float), 1.0)
    fig, ax = plt.subplots(figsize=(8, 3.4))
    bins = np.logspace(0, math.log10(max(clv.max(), 10.0)) + 0.01, 30)
    ax.hist(clv, bins=bins, color=plots.PALETTE[0])
    ax.set_xscale("log")
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.axvline(float(np.median(a.customers["clv"])), color=plots.PALETTE[1], linestyle="--")
    sym = report.CURRENCY_SYMBOLS.get(cfg.currency, cfg.currency)
    ax.set_xlabel(i18n.t("ltv_axis_clv", cfg.language, currency=sym))
    ax.set_ylabel(i18n.t("ltv_axis_customers", cfg.language))
    ax.set_title(i18n.t("ltv_chart_clv", cfg.language, months=int(cfg.definitions.ltv_horizon_months)))
    fig.tight_layout()
    plt.close(fig)
    return fig


__all__ = ["STABLE_KEYS", "KINDS", "MODELS", "UNIT_DAYS", "purchases", "purchase_days", "rfm_summary",
           "calibration_holdout", "triples", "fit_transactions", "fit_spend", "expected_purchases", "p_alive",
           "discounted_purchases", "expected_spend", "holdout_errors", "period_histogram", "holdout_by_frequency",
           "tracking", "analyse", "previous", "headline", "changes", "metrics", "labels", "rfm_segments", "by_segment",
           "by_channel", "by_cohort", "clv_quantiles", "ltv_cac", "payback_curve", "top_customers",
           "at_risk_customers", "write_exports", "monthly", "insights", "model_notes", "spend_notes", "next_steps",
           "closing_note"]
