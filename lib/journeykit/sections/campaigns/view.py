"""What the campaigns section shows: the words (en, ko), labels, tables,
charts and generated sentences, built from what :mod:`.compute` and
:mod:`.experiments` return.

Each analysis whose input is absent is skipped with one sentence, said
once: no messages — in :func:`key_figures`; no message this period, no
open or click times, no orders — in :func:`insights`; no channel, no
segment, no variant — under their own table; too few messages for the
timing and fatigue breakdowns — under :func:`hour_chart`; no experiments
— in :func:`experiment_verdicts`. Every other function then shows nothing
(returns ``None``).
"""

from __future__ import annotations

import math

import pandas as pd

from journeykit import report
from journeykit.core import i18n
from journeykit.report import plots
from journeykit.stats.compare import ALPHA
from journeykit.sections.campaigns import compute as C
from journeykit.sections.campaigns import experiments as X

KINDS = {"messages_sent": "int", "message_open_rate": "pct", "message_click_rate": "pct",
         "message_conversion_rate": "pct"}
"""Display kind of each KPI (see :func:`journeykit.report.key_figures`)."""
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

i18n.register({
    "campaigns_messages_sent": {"en": "Messages sent", "ko": "발송 메시지 수"},
    "campaigns_message_open_rate": {"en": "Open rate", "ko": "오픈율"},
    "campaigns_message_click_rate": {"en": "Click rate", "ko": "클릭률"},
    "campaigns_message_conversion_rate": {"en": "Conversion rate ({days} days)", "ko": "구매 전환율 ({days}일 이내)"},
    "campaigns_col_campaign": {"en": "Campaign", "ko": "캠페인"},
    "campaigns_col_channel": {"en": "Channel", "ko": "채널"},
    "campaigns_col_variant": {"en": "Variant", "ko": "변형"},
    "campaigns_col_segment": {"en": "Segment ({column})", "ko": "세그먼트 ({column})"},
    "campaigns_col_hour": {"en": "Send hour", "ko": "발송 시각"},
    "campaigns_col_weekday": {"en": "Weekday", "ko": "요일"},
    "campaigns_col_recency": {"en": "Days since last activity", "ko": "마지막 활동 후 경과 일수"},
    "campaigns_col_fatigue": {"en": "Messages in the previous 30 days", "ko": "직전 30일간 받은 메시지 수"},
    "campaigns_col_sent": {"en": "Sent", "ko": "발송"},
    "campaigns_col_open_rate": {"en": "Open rate", "ko": "오픈율"},
    "campaigns_col_click_rate": {"en": "Click rate", "ko": "클릭률"},
    "campaigns_col_conversion_rate": {"en": "Conversion rate", "ko": "구매 전환율"},
    "campaigns_col_p": {"en": "Open rate vs first variant (p)", "ko": "첫 변형 대비 오픈율 (p)"},
    "campaigns_col_p_click": {"en": "Click rate vs first variant (p)", "ko": "첫 변형 대비 클릭률 (p)"},
    "campaigns_col_p_mixed": {"en": "Open or click rate vs first variant (p)", "ko": "첫 변형 대비 오픈율 또는 클릭률 (p)"},
    "campaigns_not_measured": {"en": "not measured", "ko": "측정 불가"},
    "campaigns_unknown": {"en": "(not recorded)", "ko": "(기록 없음)"},
    "campaigns_none_activity": {"en": "no earlier activity", "ko": "이전 활동 없음"},
    "campaigns_d0_7": {"en": "0–7 days", "ko": "0–7일"},
    "campaigns_d8_30": {"en": "8–30 days", "ko": "8–30일"},
    "campaigns_d31_90": {"en": "31–90 days", "ko": "31–90일"},
    "campaigns_d91_plus": {"en": "over 90 days", "ko": "90일 초과"},
    "campaigns_mon": {"en": "Mon", "ko": "월"}, "campaigns_tue": {"en": "Tue", "ko": "화"},
    "campaigns_wed": {"en": "Wed", "ko": "수"}, "campaigns_thu": {"en": "Thu", "ko": "목"},
    "campaigns_fri": {"en": "Fri", "ko": "금"}, "campaigns_sat": {"en": "Sat", "ko": "토"},
    "campaigns_sun": {"en": "Sun", "ko": "일"},
    # charts
    "campaigns_chart_trend": {"en": "Message response, last {n} months", "ko": "메시지 반응, 최근 {n}개월"},
    "campaigns_chart_fatigue": {"en": "Relative open rate by messages received in the previous 30 days (last {n} months)",
                                "ko": "직전 30일간 받은 메시지 수별 상대 오픈율 (최근 {n}개월)"},
    "campaigns_chart_hour": {"en": "Relative open rate by send hour (last {n} months)",
                             "ko": "발송 시각별 상대 오픈율 (최근 {n}개월)"},
    "campaigns_chart_recency": {"en": "Relative open rate by days since the customer's last activity (last {n} months)",
                                "ko": "고객의 마지막 활동 후 경과 일수별 상대 오픈율 (최근 {n}개월)"},
    "campaigns_axis_open_rate": {"en": "Relative open rate (100% = usual)", "ko": "상대 오픈율 (100% = 평소)"},
    "campaigns_col_relative": {"en": "Relative open rate", "ko": "상대 오픈율"},
    # notes: each said once (see the module docstring)
    "campaigns_not_available": {
        "en": "Message response needs the messages table, which this client has not supplied.",
        "ko": "메시지 반응 분석에는 메시지 테이블이 필요하지만 이 고객사에서는 제공되지 않았습니다."},
    "campaigns_no_messages": {"en": "No message was sent in {period}.", "ko": "{period}에 발송된 메시지가 없습니다."},
    "campaigns_no_orders": {
        "en": "There is no orders table: message conversion cannot be measured.",
        "ko": "주문 테이블이 없어 메시지 구매 전환율을 측정할 수 없습니다."},
    "campaigns_no_opens": {
        "en": "Opens are not measured on {channels}: open rates there are shown as not measured, not as 0%.",
        "ko": "{channels} 채널은 오픈을 측정하지 않으므로 오픈율을 0%가 아닌 '측정 불가'로 표시합니다."},
    "campaigns_no_open_column": {
        "en": "The messages export has no open time: open rates cannot be measured.",
        "ko": "메시지 데이터에 오픈 시각이 없어 오픈율을 측정할 수 없습니다."},
    "campaigns_no_opens_recorded": {
        "en": "No message up to the end of {period} has an open time: open rates cannot be measured.",
        "ko": "{period} 말까지 오픈 시각이 기록된 메시지가 없어 오픈율을 측정할 수 없습니다."},
    "campaigns_no_click_column": {
        "en": "The messages export has no click time: click rates cannot be measured.",
        "ko": "메시지 데이터에 클릭 시각이 없어 클릭률을 측정할 수 없습니다."},
    "campaigns_no_channel": {
        "en": "The messages export has no channel: no breakdown by channel.",
        "ko": "메시지 데이터에 채널 정보가 없어 채널별 분석을 할 수 없습니다."},
    "campaigns_no_variant_column": {
        "en": "The messages export has no variant: message variants cannot be compared.",
        "ko": "메시지 데이터에 변형 정보가 없어 메시지 변형을 비교할 수 없습니다."},
    "campaigns_no_unsubscribes": {
        "en": "Unsubscribes are not available: the data has no unsubscribe information.",
        "ko": "수신 거부 정보가 데이터에 없어 수신 거부는 분석할 수 없습니다."},
    "campaigns_no_variants": {"en": "No campaign in {period} sent more than one variant.",
                              "ko": "{period}에 두 개 이상의 변형으로 발송된 캠페인이 없습니다."},
    "campaigns_no_segment": {
        "en": "The customers table has no segment or plan column: no breakdown by segment.",
        "ko": "고객 테이블에 세그먼트나 플랜 컬럼이 없어 세그먼트별 분석을 할 수 없습니다."},
    "campaigns_too_few": {
        "en": "Too few messages over the last {n} months to compare response by send time, recent activity or earlier messages (each group needs at least {min} messages).",
        "ko": "최근 {n}개월간 메시지가 너무 적어 발송 시점, 최근 활동, 이전 메시지 수별 반응을 비교할 수 없습니다 (그룹마다 최소 {min}건 필요)."},
    "campaigns_conversion_rule": {
        "en": "A message converts when the customer places a successful order within {days} days of receiving it; messages sent after {last} (whose window was still open at the end of {period}) are left out of the conversion rate.",
        "ko": "메시지를 받은 후 {days}일 이내에 결제를 완료하면 전환으로 봅니다. {last} 이후 발송된 메시지는 {period} 말에 전환 기간이 끝나지 않아 전환율 계산에서 제외합니다."},
    # generated sentences
    "campaigns_sentence_volume": {
        "en": "{sent} messages went to {customers} customers in {period} across {campaigns} campaigns.",
        "ko": "{period}에 {campaigns}개 캠페인으로 고객 {customers}명에게 메시지 {sent}건을 발송했습니다."},
    "campaigns_sentence_top": {
        "en": "{campaign} converted best: {rate} of its messages were followed by an order within {days} days ({n} messages).",
        "ko": "구매 전환율이 가장 높은 캠페인은 {campaign}(으)로, 메시지의 {rate}이(가) {days}일 이내 주문으로 이어졌습니다 (메시지 {n}건)."},
    "campaigns_sentence_variant": {
        "en": "{campaign}: variant {b} was opened by {rate_b} against {rate_a} for {a} ({lift}, p {p}){sig}.",
        "ko": "{campaign}: 변형 {b}의 오픈율은 {rate_b}, {a}은(는) {rate_a}입니다 ({lift}, p {p}){sig}."},
    "campaigns_sig_suffix": {"en": ", a significant difference", "ko": ", 유의한 차이"},
    "campaigns_sentence_fatigue": {
        "en": "Fatigue: customers who had received {label} messages in the previous 30 days opened {ratio} as often as those who had received none (compared within the same campaign and the same time since last activity; raw open rates {rate_hi} and {rate0}).",
        "ko": "피로도: 직전 30일간 메시지를 {label}건 받은 고객의 오픈율은 받지 않은 고객의 {ratio} 수준입니다 (같은 캠페인, 같은 마지막 활동 경과 기간끼리 비교; 단순 오픈율은 {rate_hi}와(과) {rate0})."},
    "campaigns_sentence_recency": {
        "en": "Customers active in the week before the message opened {rate_recent}; those inactive for over 90 days opened {rate_old}.",
        "ko": "메시지 발송 전 일주일 내 활동한 고객의 오픈율은 {rate_recent}, 90일 넘게 활동이 없던 고객은 {rate_old}입니다."},
    "campaigns_sentence_hour": {
        "en": "By send hour, against messages of the same channel to similarly active customers, {best}:00 opened best ({rel_best} of the usual rate) and {worst}:00 worst ({rel_worst}).",
        "ko": "발송 시각별로 같은 채널, 비슷한 활동 수준의 고객에게 보낸 메시지와 비교하면 {best}시의 오픈율이 가장 높고(평소의 {rel_best}) {worst}시가 가장 낮습니다(평소의 {rel_worst})."},
    # what to look at next
    "campaigns_next_fatigue": {
        "en": "Cap the message frequency: customers with {label} messages in the previous 30 days open {ratio} as often as those with none.",
        "ko": "발송 빈도를 제한하세요: 직전 30일간 {label}건을 받은 고객의 오픈율은 메시지를 받지 않은 고객의 {ratio} 수준입니다."},
    "campaigns_next_lapsed": {
        "en": "Treat lapsed customers differently: those inactive for over 90 days open {ratio} as often as recently active ones; a win-back offer or a lower frequency may work better than the regular messages.",
        "ko": "휴면 고객은 다르게 접근하세요: 90일 넘게 활동이 없던 고객의 오픈율은 최근 활동 고객의 {ratio} 수준이므로, 일반 메시지보다 복귀 혜택이나 낮은 발송 빈도가 효과적일 수 있습니다."},
    "campaigns_next_variant": {
        "en": "Use what worked in {campaign}: variant {b} was opened significantly more often than {a} ({lift}).",
        "ko": "{campaign}에서 효과가 있었던 방식을 활용하세요: 변형 {b}의 오픈율이 {a}보다 유의하게 높았습니다 ({lift})."},
    "campaigns_next_variant_click": {
        "en": "Use what worked in {campaign}: variant {b} was clicked significantly more often than {a} ({lift}).",
        "ko": "{campaign}에서 효과가 있었던 방식을 활용하세요: 변형 {b}의 클릭률이 {a}보다 유의하게 높았습니다 ({lift})."},
    "campaigns_next_hour": {
        "en": "Test sending at {best}:00: over the last {n} months its messages opened at {rate} of the usual rate for their channel and audience, the best of any hour.",
        "ko": "{best}시 발송을 실험해 보세요: 최근 {n}개월간 이 시각의 오픈율이 같은 채널·고객군 평소의 {rate}(으)로 가장 높았습니다."},
    "campaigns_next_nothing": {
        "en": "Nothing in campaigns and experiments stands out this month.",
        "ko": "이번 달 캠페인과 실험에서 특별히 눈에 띄는 점은 없습니다."},
})

i18n.register({
    "experiments_col_experiment": {"en": "Experiment", "ko": "실험"},
    "experiments_col_variant": {"en": "Variant", "ko": "변형"},
    "experiments_col_assigned": {"en": "Assigned", "ko": "배정 고객"},
    "experiments_col_users": {"en": "Users (window closed)", "ko": "분석 대상 고객 (기간 종료)"},
    "experiments_col_conversions": {"en": "Conversions", "ko": "전환 고객"},
    "experiments_col_conversion_rate": {"en": "Conversion rate", "ko": "전환율"},
    "experiments_col_revenue_per_user": {"en": "Revenue per user", "ko": "고객당 매출"},
    "experiments_col_lift": {"en": "Lift vs control", "ko": "대조군 대비 차이"},
    "experiments_col_ci": {"en": "Interval (this look)", "ko": "신뢰구간 (이번 검토 기준)"},
    "experiments_col_p": {"en": "p-value", "ko": "p값"},
    "experiments_col_check": {"en": "Sample ratio (p)", "ko": "배정 비율 검정 (p)"},
    "experiments_col_planned": {"en": "Planned share", "ko": "계획 비율"},
    "experiments_col_share": {"en": "Actual share", "ko": "실제 비율"},
    "experiments_col_mde": {"en": "Detectable lift (80% power)", "ko": "검출 가능한 차이 (검정력 80%)"},
    "experiments_col_power": {"en": "Power for the planned lift", "ko": "계획한 차이에 대한 검정력"},
    "experiments_col_look": {"en": "Look", "ko": "검토 회차"},
    "experiments_col_threshold": {"en": "p needed (this look)", "ko": "필요한 p (이번 검토)"},
    "experiments_col_needed": {"en": "Users needed (plan)", "ko": "필요 고객 수 (계획)"},
    "experiments_control": {"en": "control", "ko": "대조군"},
    "experiments_srm_mismatch": {"en": "mismatch", "ko": "불일치"},
    "experiments_srm_check": {"en": "check", "ko": "점검 필요"},
    "experiments_srm_ok": {"en": "ok", "ko": "정상"},
    "experiments_share_vs_plan": {"en": "{variant} {share} vs {planned} planned", "ko": "{variant} {share}(계획 {planned})"},
    "experiments_none": {"en": "No experiment had assignments with an open conversion window in {period}.",
                         "ko": "{period}에 전환 기간이 진행 중인 배정이 있는 실험이 없습니다."},
    "experiments_not_available": {
        "en": "Experiment readouts need the experiments table, which this client has not supplied.",
        "ko": "실험 결과 분석에는 실험 테이블이 필요하지만 이 고객사에서는 제공되지 않았습니다."},
    "experiments_no_orders": {
        "en": "Conversions need the orders table, which this client has not supplied: only the assignment check is shown.",
        "ko": "전환 측정에는 주문 테이블이 필요하지만 이 고객사에서는 제공되지 않아 배정 비율 검정만 표시합니다."},
    "experiments_no_amounts": {
        "en": "Order amounts are unknown: revenue per user is not shown.",
        "ko": "주문 금액 정보가 없어 고객당 매출은 표시하지 않습니다."},
    "experiments_method": {
        "en": "A user converts with a successful order within {days} days of assignment; only users assigned by {last} (whose {days}-day window had closed by the end of {period}) are counted. Lift is the difference in conversion rate against the control, with the p-value of a two-proportion z-test and an interval (Newcombe) at the level of the current look. The sample-ratio check is a chi-square test of the assignment counts against the planned split (equal unless the client file plans another): below p = 0.01 the assignment is broken and no lift is read; from 0.01 to 0.05 the assignment should be checked.",
        "ko": "배정 후 {days}일 이내에 결제를 완료하면 전환으로 봅니다. {days}일 기간이 {period} 말까지 끝난 고객, 즉 {last}까지 배정된 고객만 집계합니다. 차이는 대조군 대비 전환율 차이이며, 두 비율 z-검정의 p값과 이번 검토 기준의 신뢰구간(Newcombe)을 함께 표시합니다. 배정 비율 검정은 계획된 배정 비율(고객사 설정에 따로 없으면 균등 배정) 대비 배정 고객 수의 카이제곱 검정입니다. p < 0.01이면 배정에 문제가 있어 차이를 판단하지 않고, 0.01 이상 0.05 미만이면 배정 방식 점검이 필요합니다."},
    "experiments_method_looks": {
        "en": "Every monthly report looks at a running experiment again, and testing each look at p < 0.05 would call about 15% of tests without any effect a winner over six looks. Each look therefore has its own threshold (Lan–DeMets alpha spending, O'Brien–Fleming-type unless the experiment's plan names Pocock's, over the share of the planned users reached): strict at early looks and close to 0.05 at the planned size, so that the chance of a false winner stays at 5% over all looks.",
        "ko": "진행 중인 실험은 매달 보고서에서 다시 검토되므로, 매번 p < 0.05 기준을 쓰면 효과가 없는 실험도 6번의 검토 동안 약 15%가 유의하게 나옵니다. 따라서 검토마다 별도의 기준을 적용합니다 (Lan–DeMets 알파 소비 함수, 실험 계획에 Pocock이 지정되지 않으면 O'Brien–Fleming 방식, 계획된 고객 수 대비 도달 비율 기준). 초기 검토에서는 엄격하고 계획된 규모에 도달하면 0.05에 가까워지며, 모든 검토를 통틀어 잘못된 승자를 고를 확률을 5%로 유지합니다."},
    "experiments_method_plan": {
        "en": "The users needed come from a minimum detectable effect fixed in advance ({mde} unless the experiment's plan sets its own) at 80% power, never from the observed difference.",
        "ko": "필요한 고객 수는 관측된 차이가 아니라 미리 정한 최소 검출 효과(실험 계획에 따로 없으면 {mde})와 검정력 80%로 계산합니다."},
    "experiments_plan_unknown": {
        "en": "The client file plans experiment {name}, which the experiments table does not name{hint}: its plan is not used.",
        "ko": "고객사 설정에 실험 {name}의 계획이 있지만 실험 테이블에 그런 실험이 없어{hint} 계획이 적용되지 않았습니다."},
    "experiments_plan_hint": {"en": " (did you mean {name}?)", "ko": " ({name}을(를) 의도하셨나요?)"},
    "experiments_correction": {
        "en": "{experiment} compares {m} variants with its control: p-values are Bonferroni-corrected (multiplied by {m}) and each comparison's thresholds and intervals use a 1/{m} share of the 5% level, so the chance of any false winner stays at 5%.",
        "ko": "{experiment}은(는) {m}개 변형을 대조군과 비교하므로 p값에 본페로니 보정(×{m})을 적용하고, 각 비교의 기준과 신뢰구간에 5% 수준의 1/{m}만 사용합니다. 따라서 잘못된 승자를 고를 확률은 5%로 유지됩니다."},
    # verdicts
    "experiments_verdict_win": {
        "en": "{experiment}: {variant} beats {control} by {lift} ({rate} vs {rate_c}), significant at look {look} (p {p}; this look needs p < {threshold}).",
        "ko": "{experiment}: {variant}이(가) {control}보다 {lift} 높습니다 ({rate} 대 {rate_c}). {look}번째 검토에서 통계적으로 유의합니다 (p {p}; 이번 검토 기준 p < {threshold})."},
    "experiments_verdict_loss": {
        "en": "{experiment}: {variant} is worse than {control} by {lift} ({rate} vs {rate_c}), significant at look {look} (p {p}; this look needs p < {threshold}).",
        "ko": "{experiment}: {variant}이(가) {control}보다 {lift} 낮습니다 ({rate} 대 {rate_c}). {look}번째 검토에서 통계적으로 유의합니다 (p {p}; 이번 검토 기준 p < {threshold})."},
    "experiments_verdict_keep_running": {
        "en": "{experiment}: no significant difference between {variant} and {control} yet ({lift}, p {p}; look {look} needs p < {threshold}). The test is planned to detect a lift of {mde}: with 80% power that takes about {need_c} users in {control} and {need_t} in {variant}; it has {n_c} and {n_t}.",
        "ko": "{experiment}: 아직 {variant}와(과) {control} 사이에 유의한 차이가 없습니다 ({lift}, p {p}; {look}번째 검토 기준 p < {threshold}). 이 실험은 {mde}의 차이를 검출하도록 계획되었으며, 검정력 80%로 검출하려면 {control}에 약 {need_c}명, {variant}에 약 {need_t}명이 필요합니다. 현재 각각 {n_c}명과 {n_t}명입니다."},
    "experiments_verdict_no_difference": {
        "en": "{experiment}: no significant difference between {variant} and {control} ({lift}, p {p}; look {look} needs p < {threshold}). It has the users planned to detect a lift of {mde} with 80% power ({n_c} and {n_t}); the data are consistent with a lift from {ci_low} to {ci_high}.",
        "ko": "{experiment}: {variant}와(과) {control} 사이에 유의한 차이가 없습니다 ({lift}, p {p}; {look}번째 검토 기준 p < {threshold}). {mde}의 차이를 검정력 80%로 검출하도록 계획한 고객 수에 도달했으며 (각각 {n_c}명, {n_t}명), 데이터로 보아 실제 차이는 {ci_low}에서 {ci_high} 사이입니다."},
    "experiments_verdict_too_little": {
        "en": "{experiment}: too little data to read yet ({n} users in the smallest arm; at least {min_n} needed).",
        "ko": "{experiment}: 아직 판단하기에 데이터가 너무 적습니다 (가장 작은 그룹 {n}명, 최소 {min_n}명 필요)."},
    "experiments_verdict_srm": {
        "en": "{experiment}: the assignment does not match the planned split ({shares}; sample-ratio check p {p}, below 0.01): fix the assignment before trusting any result of this test; no lift is read from it.",
        "ko": "{experiment}: 배정 비율이 계획과 다릅니다 ({shares}; 배정 비율 검정 p {p}, 0.01 미만). 이 실험의 결과를 믿기 전에 배정 방식을 먼저 점검하세요. 전환율 차이는 판단하지 않습니다."},
    "experiments_verdict_srm_check": {
        "en": "{experiment}: the split is somewhat off plan ({shares}; sample-ratio check p {p}, between 0.01 and 0.05): it may be chance, but check the assignment before relying on the result below.",
        "ko": "{experiment}: 배정 비율이 계획과 다소 다릅니다 ({shares}; 배정 비율 검정 p {p}, 0.01 이상 0.05 미만). 우연일 수 있지만 아래 결과를 활용하기 전에 배정 방식을 점검하세요."},
    "experiments_verdict_one_arm": {
        "en": "{experiment}: only one variant has users, nothing to compare.",
        "ko": "{experiment}: 고객이 있는 변형이 하나뿐이라 비교할 수 없습니다."},
    # what to look at next
    "experiments_next_srm": {
        "en": "Check how {experiment} assigns customers: its split is off plan beyond chance, so its result cannot be trusted.",
        "ko": "{experiment}의 고객 배정 방식을 점검하세요: 배정 비율이 우연으로 보기 어려울 만큼 계획과 달라 결과를 신뢰할 수 없습니다."},
    "experiments_next_win": {
        "en": "Consider rolling out {variant} of {experiment}: it converts significantly better ({lift}).",
        "ko": "{experiment}의 {variant} 적용을 검토하세요: 전환율이 유의하게 높습니다 ({lift})."},
    "experiments_next_loss": {
        "en": "Stop {variant} of {experiment}: it converts significantly worse ({lift}).",
        "ko": "{experiment}의 {variant}을(를) 중단하세요: 전환율이 유의하게 낮습니다 ({lift})."},
    "experiments_next_check": {
        "en": "Check how {experiment} assigns customers: its split is somewhat off plan (sample-ratio check p {p}).",
        "ko": "{experiment}의 고객 배정 방식을 점검하세요: 배정 비율이 계획과 다소 다릅니다 (배정 비율 검정 p {p})."},
    "experiments_next_wait": {
        "en": "Keep {experiment} running: about {more} more users ({more_c} in {control}, {more_t} in {variant}) are needed to reach the size planned to detect a lift of {mde}.",
        "ko": "{experiment}을(를) 계속 진행하세요: {mde}의 차이를 검출하도록 계획한 규모에 도달하려면 약 {more}명({control} {more_c}명, {variant} {more_t}명)이 더 필요합니다."},
})


# --------------------------------------------------------------------------
# Small formatting helpers
# --------------------------------------------------------------------------

def _missing(x) -> bool:
    return x is None or pd.isna(x)


def pp(x, lang: str) -> str:
    """A 0–1 difference as signed percentage points (``+5.0 pp``); ``–`` when missing."""
    if _missing(x):
        return "–"
    sign = "+" if x > 0 else ("−" if x < 0 else "±")
    return i18n.t("pp", lang, sign=sign, x=f"{abs(x) * 100:.1f}")


def _p(p) -> str:
    return report.fmt_p(None if _missing(p) else float(p))


def _p_bare(p) -> str:
    return "–" if _missing(p) else _p(p).replace("= ", "")


def small_p(x) -> str:
    """A p-value or a look's threshold with the digits it needs: ``0.012``,
    ``0.00024``, ``4.8e-08``; ``–`` when missing. (A threshold at an early
    look can be far below 0.001, where :func:`journeykit.report.fmt_p`
    stops.)"""
    if _missing(x):
        return "–"
    x = float(x)
    if x >= 0.001 or x == 0:
        return f"{x:.3f}"
    if x >= 1e-6:
        return f"{x:.{1 - math.floor(math.log10(x))}f}"     # two significant digits
    return f"{x:.1e}"


def _p_seq(p) -> str:
    """``= 0.033`` / ``= 4.8e-08``: a p-value to compare with a look's threshold."""
    return "–" if _missing(p) else f"= {small_p(p)}"


def _shares(shares: dict, lang: str) -> str:
    """``control 56.6% vs 50.0% planned, treatment 43.4% vs 50.0% planned``."""
    return ", ".join(i18n.t("experiments_share_vs_plan", lang, variant=v, share=report.fmt_pct(s),
                            planned=report.fmt_pct(p)) for v, (s, p) in shares.items())


def about(x: float) -> float:
    """A number of users rounded up to two significant digits ("about n")."""
    if x <= 0:
        return 0.0
    mag = 10 ** max(0, int(math.floor(math.log10(x))) - 1)
    return math.ceil(x / mag) * mag


def group_label(value, cfg, folded: bool = False) -> str:
    """A breakdown group's display name: the client's word for "other" for
    the folded group, "(not recorded)" for a missing value."""
    if folded:
        return i18n.t("other_group", cfg.language)
    return i18n.t("campaigns_unknown", cfg.language) if _missing(value) else str(value)


def labels(cfg) -> dict[str, str]:
    """Display label of each KPI in the client's language."""
    return {k: i18n.t(f"campaigns_{k}", cfg.language, days=C.window_days(cfg)) for k in KINDS}


# --------------------------------------------------------------------------
# Key figures and sentences
# --------------------------------------------------------------------------

def conversion_rule(cfg) -> str:
    """The sentence stating the conversion window and which messages count."""
    A = C.window_days(cfg)
    last = pd.Timestamp(cfg.period.end) - pd.Timedelta(days=A)
    return i18n.t("campaigns_conversion_rule", cfg.language, days=A, last=report.fmt_date(last),
                  period=cfg.period.label(cfg.language))


def key_figures(ds, cfg, changes=None):
    """The period-over-period table and sentences
    (:func:`journeykit.report.key_figures`) followed by the conversion rule
    (outside the key-figures block, which a report run words again); the
    one "not available" note of the messages analyses without messages."""
    if not C.has_messages(ds):
        return report.Note(i18n.t("campaigns_not_available", cfg.language))
    changes = C.changes(ds, cfg) if changes is None else changes
    out = report.key_figures(changes, labels(cfg), KINDS, cfg)
    if C.measurable(ds)["conversion"]:
        return report.Blocks([out, report.Narrative([conversion_rule(cfg)])])
    return out


def _open_notes(ds, cfg) -> list[str]:
    """The one sentence on opens that cannot be measured, if any."""
    lang = cfg.language
    oc = C.open_channels(ds, cfg)
    if oc is None:
        return [i18n.t("campaigns_no_open_column", lang)]
    if not oc:
        return [i18n.t("campaigns_no_opens_recorded", lang, period=cfg.period.label(lang))]
    missing = C.channels_without_opens(ds, cfg)
    return [i18n.t("campaigns_no_opens", lang, channels=", ".join(missing))] if missing else []


def insights(ds, cfg) -> list[str]:
    """Sentences about this period's messages, in the client's language:
    volume (or that nothing was sent; campaigns counted with
    :func:`compute.campaign_count`); the campaign with the best
    conversion (:func:`compute.best_campaign`); each campaign's variant
    test on open rates; the fatigue, recency and send-hour contrasts; and,
    once each, what cannot be measured (opens, clicks, conversion,
    unsubscribes). Empty without messages (:func:`key_figures` says so)."""
    lang = cfg.language
    if not C.has_messages(ds):
        return []
    per = cfg.period.label(lang)
    v = C.period_values(ds, cfg)
    out: list[str] = []
    if not v["sent"]:
        out.append(i18n.t("campaigns_no_messages", lang, period=per))
    else:
        out.append(i18n.t("campaigns_sentence_volume", lang, sent=report.fmt_int(v["sent"]),
                          customers=report.fmt_int(v["customers"]),
                          campaigns=report.fmt_int(C.campaign_count(ds, cfg)), period=per))
        top = C.best_campaign(ds, cfg)
        if top is not None:
            out.append(i18n.t("campaigns_sentence_top", lang, campaign=top["campaign"],
                              rate=report.fmt_pct(top["conversion_rate"]), days=C.window_days(cfg),
                              n=report.fmt_int(top["conv_base"])))
        var = C.by_variant(ds, cfg)
        for camp, g in var.groupby("campaign", sort=True):
            a = g.iloc[0]
            for _, b in g.iloc[1:].iterrows():
                if b["metric"] != "open_rate":
                    continue
                sig = not _missing(b["p_value"]) and b["p_value"] < ALPHA
                out.append(i18n.t("campaigns_sentence_variant", lang, campaign=camp, a=a["variant"], b=b["variant"],
                                  rate_a=report.fmt_pct(a["open_rate"]), rate_b=report.fmt_pct(b["open_rate"]),
                                  lift=pp(b["lift"], lang), p=_p(b["p_value"]),
                                  sig=i18n.t("campaigns_sig_suffix", lang) if sig else ""))
    fc = C.fatigue_contrast(ds, cfg)
    if fc is not None:
        out.append(i18n.t("campaigns_sentence_fatigue", lang, rate0=report.fmt_pct(fc["none"]["open_rate"]),
                          label=fc["most"]["bucket"], rate_hi=report.fmt_pct(fc["most"]["open_rate"]),
                          ratio=report.fmt_pct(fc["ratio"], 0)))
    rc = C.recency_contrast(ds, cfg)
    if rc is not None:
        out.append(i18n.t("campaigns_sentence_recency", lang, rate_recent=report.fmt_pct(rc["recent"]["open_rate"]),
                          rate_old=report.fmt_pct(rc["lapsed"]["open_rate"])))
    hc = C.hour_contrast(ds, cfg)
    if hc is not None:
        out.append(i18n.t("campaigns_sentence_hour", lang, best=int(hc["best"]["hour"]), worst=int(hc["worst"]["hour"]),
                          rel_best=report.fmt_pct(hc["best"]["relative_open_rate"], 0),
                          rel_worst=report.fmt_pct(hc["worst"]["relative_open_rate"], 0)))
    ok = C.measurable(ds)
    out += _open_notes(ds, cfg)
    if not ok["clicks"]:
        out.append(i18n.t("campaigns_no_click_column", lang))
    if not ok["conversion"]:
        out.append(i18n.t("campaigns_no_orders", lang))
    out.append(i18n.t("campaigns_no_unsubscribes", lang))
    return out


def next_steps(ds, cfg, ro: pd.DataFrame | None = None) -> list[str]:
    """"What to look at next", most urgent first: the experiment actions
    (:func:`experiments.actions`: a sample-ratio mismatch, a significant
    winner or loser, a test that needs more users), then the message
    actions (:func:`compute.actions`: fatigue, lapsed customers, a winning
    variant, the best send hour). When none fires, one sentence says
    nothing stands out."""
    lang = cfg.language
    out: list[str] = []
    if ds.has("experiments"):
        ro = X.readout(ds, cfg) if ro is None else ro
        for a in X.actions(ro, cfg):
            if a["kind"] == "srm":
                out.append(i18n.t("experiments_next_srm", lang, experiment=a["experiment"]))
            elif a["kind"] == "check":
                out.append(i18n.t("experiments_next_check", lang, experiment=a["experiment"],
                                  p=_p(a["srm_p_value"])))
            elif a["kind"] in ("win", "loss"):
                out.append(i18n.t(f"experiments_next_{a['kind']}", lang, experiment=a["experiment"],
                                  variant=a["variant"], lift=pp(a["lift"], lang)))
            else:
                out.append(i18n.t("experiments_next_wait", lang, experiment=a["experiment"], control=a["control"],
                                  variant=a["variant"], more=report.fmt_int(about(a["more"])),
                                  more_c=report.fmt_int(about(a["more_c"])),
                                  more_t=report.fmt_int(about(a["more_t"])), mde=pp(a["mde"], lang)))
    for a in C.actions(ds, cfg):
        if a["kind"] == "fatigue":
            out.append(i18n.t("campaigns_next_fatigue", lang, label=a["label"], ratio=report.fmt_pct(a["ratio"], 0)))
        elif a["kind"] == "lapsed":
            out.append(i18n.t("campaigns_next_lapsed", lang, ratio=report.fmt_pct(a["ratio"], 0)))
        elif a["kind"] == "variant":
            key = "campaigns_next_variant" if a["metric"] == "open_rate" else "campaigns_next_variant_click"
            out.append(i18n.t(key, lang, campaign=a["campaign"], a=a["first"], b=a["variant"], lift=pp(a["lift"], lang)))
        elif a["kind"] == "hour":
            out.append(i18n.t("campaigns_next_hour", lang, best=a["hour"], rate=report.fmt_pct(a["rate"], 0),
                              n=len(C.trend_months(ds, cfg))))
    return out or [i18n.t("campaigns_next_nothing", lang)]


# --------------------------------------------------------------------------
# Tables of the period's messages
# --------------------------------------------------------------------------

_RATE_COLS = {"sent": ("campaigns_col_sent", "int"), "open_rate": ("campaigns_col_open_rate", "pct"),
              "click_rate": ("campaigns_col_click_rate", "pct"),
              "conversion_rate": ("campaigns_col_conversion_rate", "pct")}
_REL = {"relative_open_rate": ("campaigns_col_relative", "pct")}
_NEEDS = {"open_rate": "opens", "relative_open_rate": "opens", "click_rate": "clicks",
          "conversion_rate": "conversion"}


def _table(ds, df: pd.DataFrame, cfg, head: str, labels_: list[str], extra: dict | None = None):
    """A breakdown table: the group (``labels_``, headed ``head``), then
    sent and the rates the data can measure; an open rate that is not
    measurable on a group's channels reads "not measured"."""
    lang = cfg.language
    ok = {**C.measurable(ds), "opens": _opens_shown(ds, cfg)}
    cols = {c: v for c, v in {**_RATE_COLS, **(extra or {})}.items() if ok.get(_NEEDS.get(c, ""), True)}
    out = pd.DataFrame({head: labels_})
    kinds = {head: "text"}
    for c, (key, kind) in cols.items():
        name = i18n.t(key, lang)
        values = list(df[c])
        if c == "open_rate":
            nm = i18n.t("campaigns_not_measured", lang)
            values, kind = [nm if _missing(r) else report.fmt_pct(r) for r in values], "numtext"
        out[name] = values
        kinds[name] = kind
    return report.table(out, cfg, kinds)


def _period_empty(ds, cfg) -> bool:
    return not C.has_messages(ds) or not C.period_values(ds, cfg)["sent"]


def _labels(df: pd.DataFrame, col: str, cfg) -> list[str]:
    return [group_label(v, cfg, bool(f)) for v, f in zip(df[col], df["folded"])]


def campaign_table(ds, cfg):
    """Sent → opened → clicked → converted per campaign of the period (or
    nothing when no message was sent: :func:`insights` says so)."""
    if _period_empty(ds, cfg):
        return None
    df = C.by_campaign(ds, cfg)
    return _table(ds, df, cfg, i18n.t("campaigns_col_campaign", cfg.language), _labels(df, "campaign", cfg))


def channel_table(ds, cfg):
    """Response per channel of the period; a note without a channel column."""
    if _period_empty(ds, cfg):
        return None
    if not C.measurable(ds)["channel"]:
        return report.Note(i18n.t("campaigns_no_channel", cfg.language))
    df = C.by_channel(ds, cfg)
    return _table(ds, df, cfg, i18n.t("campaigns_col_channel", cfg.language), _labels(df, "channel", cfg))


def segment_table(ds, cfg):
    """Response per customer segment of the period; a note without a segment."""
    if _period_empty(ds, cfg):
        return None
    df = C.by_segment(ds, cfg)
    if df is None:
        return report.Note(i18n.t("campaigns_no_segment", cfg.language))
    head = i18n.t("campaigns_col_segment", cfg.language, column=C.segment_column(ds))
    return _table(ds, df, cfg, head, _labels(df, "segment", cfg))


def variant_table(ds, cfg):
    """Response per campaign variant with the test against the campaign's
    first variant; a note without variants."""
    lang = cfg.language
    if _period_empty(ds, cfg):
        return None
    if not C.measurable(ds)["variant"]:
        return report.Note(i18n.t("campaigns_no_variant_column", lang))
    df = C.by_variant(ds, cfg)
    if df.empty:
        return report.Note(i18n.t("campaigns_no_variants", lang, period=cfg.period.label(lang)))
    metrics = set(df["metric"])
    key = {frozenset({"open_rate"}): "campaigns_col_p", frozenset({"click_rate"}): "campaigns_col_p_click"}.get(
        frozenset(metrics), "campaigns_col_p_mixed")
    df = df.assign(test=[f"{pp(l, lang)} ({_p_bare(p)})" if not _missing(l) else "–"
                         for l, p in zip(df["lift"], df["p_value"])])
    names = [f"{c} · {v}" for c, v in zip(df["campaign"], df["variant"])]
    t = _table(ds, df, cfg, i18n.t("campaigns_col_variant", lang), names)
    t.df[i18n.t(key, lang)] = list(df["test"])
    t.formats[i18n.t(key, lang)] = "numtext"
    return t


# --------------------------------------------------------------------------
# Timing, recency and fatigue (the trend window)
# --------------------------------------------------------------------------

def _too_few(ds, cfg) -> bool:
    """Messages exist, but every timing, recency and fatigue group is too small."""
    return C.has_messages(ds) and all(f(ds, cfg).empty for f in (C.by_hour, C.by_weekday, C.by_recency,
                                                                 C.by_fatigue))


def _opens_shown(ds, cfg) -> bool:
    return bool(C.open_channels(ds, cfg))


def _open_bars(df: pd.DataFrame, category: str, title: str, xlabel: str, cfg):
    """Bars of the relative open rate (see :func:`compute.by_fatigue`) per
    category; ``None`` when no group has one."""
    d = df.dropna(subset=["relative_open_rate"])
    if d.empty:
        return None
    fig = plots.bars(d.assign(**{category: d[category].astype(str)}), category, "relative_open_rate", title,
                     kind="ratio", horizontal=False)   # a ratio to the average: may pass 100 %
    if fig is None:   # only the "other" group: no chart
        return None
    ax = fig.axes[0]
    ax.axhline(1.0, color="#8c8c8c", linewidth=1, linestyle="--")
    if len(d) > 10:
        fig.set_size_inches(9, 3.6)
        for t in ax.texts:
            t.set_fontsize(6)
    ax.set_ylabel(i18n.t("campaigns_axis_open_rate", cfg.language))
    ax.set_xlabel(xlabel)
    return fig


def hour_chart(ds, cfg):
    """Relative open rate by send hour over the trend window (bars); the
    one note when every timing and fatigue group is too small; otherwise
    nothing when opens are not measured."""
    lang = cfg.language
    n = len(C.trend_months(ds, cfg)) if C.has_messages(ds) else 0
    if _too_few(ds, cfg):
        return report.Note(i18n.t("campaigns_too_few", lang, n=n, min=int(cfg.definitions.min_group_size)))
    if not C.has_messages(ds) or not _opens_shown(ds, cfg):
        return None
    df = C.by_hour(ds, cfg)
    df = df.assign(label=[str(int(h)) for h in df["hour"]])
    return _open_bars(df, "label", i18n.t("campaigns_chart_hour", lang, n=n), i18n.t("campaigns_col_hour", lang), cfg)


def recency_chart(ds, cfg):
    """Relative open rate by days since the customer's last activity (bars),
    or nothing."""
    if not C.has_messages(ds) or not _opens_shown(ds, cfg):
        return None
    lang = cfg.language
    df = C.by_recency(ds, cfg)
    df = df.assign(bucket=[i18n.t(f"campaigns_{k}", lang) for k in df["key"]])
    return _open_bars(df, "bucket", i18n.t("campaigns_chart_recency", lang, n=len(C.trend_months(ds, cfg))),
                      i18n.t("campaigns_col_recency", lang), cfg)


def fatigue_chart(ds, cfg):
    """Relative open rate by messages received in the previous 30 days
    (bars), or nothing."""
    if not C.has_messages(ds) or not _opens_shown(ds, cfg):
        return None
    lang = cfg.language
    return _open_bars(C.by_fatigue(ds, cfg), "bucket",
                      i18n.t("campaigns_chart_fatigue", lang, n=len(C.trend_months(ds, cfg))),
                      i18n.t("campaigns_col_fatigue", lang), cfg)


def weekday_table(ds, cfg):
    """Response per weekday of sending over the trend window, or nothing."""
    if not C.has_messages(ds):
        return None
    df = C.by_weekday(ds, cfg)
    if df.empty:
        return None
    days = [i18n.t(f"campaigns_{WEEKDAYS[int(w)]}", cfg.language) for w in df["weekday"]]
    return _table(ds, df, cfg, i18n.t("campaigns_col_weekday", cfg.language), days, _REL)


def fatigue_table(ds, cfg):
    """Response by messages received in the previous 30 days, or nothing."""
    if not C.has_messages(ds):
        return None
    df = C.by_fatigue(ds, cfg)
    if df.empty:
        return None
    return _table(ds, df, cfg, i18n.t("campaigns_col_fatigue", cfg.language), list(df["bucket"]), _REL)


def trend_chart(ds, cfg):
    """Small multiples of messages sent and the response rates over the
    trend window, from the first month with messages (rates never measured
    are left out), or nothing without messages."""
    if not C.has_messages(ds):
        return None
    df = C.monthly(ds, cfg)
    if not df["sent"].sum():
        return None  # nothing sent in the whole window: the brief says so for the period
    lab = labels(cfg)
    src = {"messages_sent": "sent", "message_open_rate": "open_rate", "message_click_rate": "click_rate",
           "message_conversion_rate": "conversion_rate"}
    df = df.assign(**{k: df[v] for k, v in src.items()})
    panels = [(k, lab[k], KINDS[k]) for k in C.KPI_KEYS]
    return plots.trends(df, panels, ncols=4, title=i18n.t("campaigns_chart_trend", cfg.language, n=len(df)))


# --------------------------------------------------------------------------
# Experiments
# --------------------------------------------------------------------------

def verdicts(ro: pd.DataFrame, cfg) -> list[str]:
    """:func:`experiments.judge` in plain sentences, one per experiment (per
    treatment when there are several; a split in the ``check`` band adds
    one before them), in the client's language."""
    lang = cfg.language
    out: list[str] = []
    for v in X.judge(ro, cfg):
        kind, name = v["kind"], v["experiment"]
        if kind in ("srm", "srm_check"):
            out.append(i18n.t(f"experiments_verdict_{kind}", lang, experiment=name, shares=_shares(v["shares"], lang),
                              p=_p_seq(v["srm_p_value"])))
            continue
        if kind == "one_arm":
            out.append(i18n.t("experiments_verdict_one_arm", lang, experiment=name))
            continue
        if kind == "too_little":
            out.append(i18n.t("experiments_verdict_too_little", lang, experiment=name, n=report.fmt_int(v["n"]),
                              min_n=v["min_n"]))
            continue
        base = dict(experiment=name, variant=v["variant"], control=v["control"], lift=pp(v["lift"], lang),
                    rate=report.fmt_pct(v["rate"]), rate_c=report.fmt_pct(v["rate_control"]), p=_p_seq(v["p_value"]),
                    threshold=small_p(v["p_threshold"]), look=int(v["look"]), mde=pp(v["mde"], lang),
                    n_c=report.fmt_int(v["n_c"]), n_t=report.fmt_int(v["n_t"]))
        if kind in ("win", "loss"):
            out.append(i18n.t(f"experiments_verdict_{kind}", lang, **{**base, "lift": pp(abs(v["lift"]), lang).lstrip("+")}))
        elif kind == "keep_running":
            out.append(i18n.t("experiments_verdict_keep_running", lang, need_c=report.fmt_int(about(v["need_c"])),
                              need_t=report.fmt_int(about(v["need_t"])), **base))
        else:
            out.append(i18n.t("experiments_verdict_no_difference", lang, ci_low=pp(v["ci_low"], lang),
                              ci_high=pp(v["ci_high"], lang), **base))
    return out


def method_notes(ro: pd.DataFrame, cfg) -> list[str]:
    """The method sentences (conversion, lift and the sample-ratio check;
    the repeated looks; the planned size) and, for experiments with several
    treatments, the correction used."""
    lang = cfg.language
    W = X.window_days(cfg)
    last = X.last_counted_assignment(cfg) - pd.Timedelta(days=1)
    out = [i18n.t("experiments_method", lang, days=W, last=report.fmt_date(last), period=cfg.period.label(lang))]
    if not ro["conversions"].isna().all():
        out.append(i18n.t("experiments_method_looks", lang))
        out.append(i18n.t("experiments_method_plan", lang, mde=pp(cfg.definitions.experiment_mde, lang)))
    for name, g in ro.groupby("experiment", sort=True):
        m = int(g["comparisons"].iloc[0])
        if m > 1:
            out.append(i18n.t("experiments_correction", lang, experiment=name, m=m))
    return out


def experiment_verdicts(ds, cfg, ro: pd.DataFrame | None = None):
    """:func:`verdicts`, what cannot be measured and :func:`method_notes` as
    a paragraph list; the one note when there is no experiment to read."""
    lang = cfg.language
    if not ds.has("experiments"):
        return report.Note(i18n.t("experiments_not_available", lang))
    ro = X.readout(ds, cfg) if ro is None else ro
    if ro.empty:
        return report.Note(i18n.t("experiments_none", lang, period=cfg.period.label(lang)))
    extra = [i18n.t("experiments_plan_unknown", lang, name=n,
                    hint=i18n.t("experiments_plan_hint", lang, name=close) if close else "")
             for n, close in X.unknown_plans(ds, cfg)]
    if not ds.has("orders"):
        extra.append(i18n.t("experiments_no_orders", lang))
    elif ro["revenue_per_user"].isna().all():
        extra.append(i18n.t("experiments_no_amounts", lang))
    return report.Narrative(verdicts(ro, cfg) + extra + method_notes(ro, cfg))


def readout_table(ds, cfg, ro: pd.DataFrame | None = None):
    """The readout table (one row per experiment and variant; only the
    assignments without conversions, no revenue without amounts), or
    nothing when there is no experiment to read."""
    lang = cfg.language
    if not ds.has("experiments"):
        return None
    ro = X.readout(ds, cfg) if ro is None else ro
    if ro.empty:
        return None
    L = {k: i18n.t(f"experiments_col_{k}", lang) for k in
         ("experiment", "variant", "assigned", "users", "conversions", "conversion_rate", "revenue_per_user", "lift",
          "ci", "p", "look", "threshold", "needed", "mde", "power")}
    df = pd.DataFrame({
        L["experiment"]: ro["experiment"],
        L["variant"]: [f"{v} ({i18n.t('experiments_control', lang)})" if c else v
                       for v, c in zip(ro["variant"], ro["is_control"])],
        L["assigned"]: ro["assigned"], L["users"]: ro["users"], L["conversions"]: ro["conversions"],
        L["conversion_rate"]: ro["conversion_rate"], L["revenue_per_user"]: ro["revenue_per_user"],
        L["lift"]: [pp(x, lang) for x in ro["lift"]],
        L["ci"]: [f"{pp(lo, lang)} … {pp(hi, lang)}" if not _missing(lo) else "–"
                  for lo, hi in zip(ro["ci_low"], ro["ci_high"])],
        L["p"]: [small_p(p) for p in ro["p_value"]],
        L["look"]: [str(int(k)) if not _missing(k) and k else "–" for k in ro["look"]],
        L["threshold"]: [small_p(x) for x in ro["p_threshold"]],
        L["needed"]: ro["users_needed"],
        L["mde"]: [pp(x, lang) for x in ro["mde"]],
        L["power"]: ro["power"],
    })
    if ro["conversions"].isna().all():
        df = df[[L["experiment"], L["variant"], L["assigned"]]]
    elif ro["revenue_per_user"].isna().all():
        df = df.drop(columns=L["revenue_per_user"])
    return report.table(df, cfg, {L["assigned"]: "int", L["users"]: "int", L["conversions"]: "int",
                                  L["conversion_rate"]: "pct", L["revenue_per_user"]: "money", L["lift"]: "numtext",
                                  L["ci"]: "numtext", L["p"]: "numtext", L["look"]: "numtext",
                                  L["threshold"]: "numtext", L["needed"]: "int", L["mde"]: "numtext",
                                  L["power"]: "pct"})


def srm_table(ds, cfg, ro: pd.DataFrame | None = None):
    """The sample-ratio check per experiment and variant (a table), or
    nothing when there is no experiment to read."""
    lang = cfg.language
    if not ds.has("experiments"):
        return None
    ro = X.readout(ds, cfg) if ro is None else ro
    if ro.empty:
        return None
    L = {k: i18n.t(f"experiments_col_{k}", lang) for k in ("experiment", "variant", "assigned", "planned", "share",
                                                              "check")}
    df = pd.DataFrame({
        L["experiment"]: ro["experiment"], L["variant"]: ro["variant"], L["assigned"]: ro["assigned"],
        L["planned"]: ro["planned_share"], L["share"]: ro["share"],
        L["check"]: [f"{i18n.t('experiments_srm_' + st, lang)} ({small_p(p)})"
                     if not _missing(p) else "–" for st, p in zip(ro["srm_status"], ro["srm_p_value"])],
    })
    return report.table(df, cfg, {L["assigned"]: "int", L["planned"]: "pct", L["share"]: "pct"})


__all__ = ["KINDS", "WEEKDAYS", "pp", "small_p", "about", "group_label", "labels", "conversion_rule", "key_figures", "insights",
           "next_steps", "campaign_table", "channel_table", "segment_table", "variant_table", "hour_chart",
           "recency_chart", "fatigue_chart", "weekday_table", "fatigue_table", "trend_chart", "verdicts",
           "method_notes", "experiment_verdicts", "readout_table", "srm_table"]
