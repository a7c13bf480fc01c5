"""Purchase and conversion: what the notebook shows — labels, tables,
charts and generated sentences, in the client's language, built from
:mod:`.compute`.

An analysis whose input the client does not send is skipped with one line
saying why, shown once, where the analysis would be: payment status and
device under "payments", discount codes under "discounts", order channel
under "channels", signup dates under "time to first purchase",
subscriptions under "trial → paid". Orders derived from events are said
once, under the key figures (:func:`caveats`).
"""

from __future__ import annotations

import pandas as pd

from journeykit import facts, report
from journeykit.core import i18n
from journeykit.report import plots
from journeykit.sections.purchase import compute
from journeykit.stats import compare

KINDS = {"orders": "int", "revenue": "money", "aov": "money", "conversion_rate": "pct",
         "payment_success_rate": "pct", "discount_order_share": "pct", "repeat_revenue_share": "pct",
         "median_days_to_first_purchase": "num", "trial_to_paid_rate": "pct"}
"""Display kind of each KPI (see :func:`journeykit.report.kpi_table`)."""

TREND_PANELS = ("orders", "revenue", "aov", "conversion_rate", "payment_success_rate", "repeat_revenue_share")
"""The KPIs of the trend chart, in panel order."""

i18n.register({
    "purchase_orders": {"en": "Orders", "ko": "주문 수"},
    "purchase_revenue": {"en": "Revenue", "ko": "매출"},
    "purchase_aov": {"en": "Average order value", "ko": "평균 주문 금액"},
    "purchase_conversion_rate": {"en": "First-purchase conversion ({days} days)",
                                 "ko": "첫 구매 전환율 ({days}일 이내)"},
    "purchase_payment_success_rate": {"en": "Payment success rate", "ko": "결제 성공률"},
    "purchase_discount_order_share": {"en": "Orders with a discount code", "ko": "할인 코드 사용 주문 비율"},
    "purchase_repeat_revenue_share": {"en": "Repeat-order share of revenue", "ko": "재구매 매출 비중"},
    "purchase_median_days_to_first_purchase": {"en": "Days from signup to first purchase (median)",
                                               "ko": "가입부터 첫 구매까지 일수(중앙값)"},
    "purchase_trial_to_paid_rate": {"en": "Trial → paid conversion", "ko": "체험 → 유료 전환율"},
    # breakdown columns
    "purchase_col_device": {"en": "Device", "ko": "기기"},
    "purchase_col_channel": {"en": "Channel", "ko": "채널"},
    "purchase_col_code": {"en": "Discount code", "ko": "할인 코드"},
    "purchase_col_attempts": {"en": "Payment attempts", "ko": "결제 시도"},
    "purchase_col_failed": {"en": "Failed payments", "ko": "결제 실패"},
    "purchase_col_failure_rate": {"en": "Failure rate", "ko": "결제 실패율"},
    "purchase_col_orders": {"en": "Orders", "ko": "주문 수"},
    "purchase_col_revenue": {"en": "Revenue", "ko": "매출"},
    "purchase_col_revenue_share": {"en": "Share of revenue", "ko": "매출 비중"},
    "purchase_col_order_share": {"en": "Share of orders", "ko": "주문 비중"},
    "purchase_col_first_order_share": {"en": "Share of first orders", "ko": "첫 주문 중 비중"},
    "purchase_col_aov": {"en": "Average order value", "ko": "평균 주문 금액"},
    "purchase_col_order_type": {"en": "Order type", "ko": "주문 구분"},
    "purchase_col_days": {"en": "Days from signup", "ko": "가입 후 경과 일수"},
    "purchase_with_code": {"en": "with a code", "ko": "코드 사용"},
    "purchase_without_code": {"en": "without a code", "ko": "코드 미사용"},
    "purchase_first_orders": {"en": "first orders", "ko": "첫 주문"},
    "purchase_repeat_orders": {"en": "repeat orders", "ko": "재구매 주문"},
    "purchase_unknown": {"en": "(not recorded)", "ko": "(기록 없음)"},
    "purchase_same_day": {"en": "same day", "ko": "당일"},
    "purchase_d1_3": {"en": "1–3 days", "ko": "1–3일"},
    "purchase_d4_7": {"en": "4–7 days", "ko": "4–7일"},
    "purchase_d8_14": {"en": "8–14 days", "ko": "8–14일"},
    "purchase_d15_30": {"en": "15–30 days", "ko": "15–30일"},
    "purchase_d31_90": {"en": "31–90 days", "ko": "31–90일"},
    "purchase_d91_plus": {"en": "over 90 days", "ko": "90일 초과"},
    # charts
    "purchase_chart_trend": {"en": "Purchase KPIs, last {n} months", "ko": "구매 지표, 최근 {n}개월"},
    "purchase_chart_days": {"en": "Time from signup to first purchase, {period}",
                            "ko": "가입 후 첫 구매까지 걸린 시간, {period}"},
    "purchase_chart_failure": {"en": "Payment failure rate by device, {period}",
                               "ko": "기기별 결제 실패율, {period}"},
    "purchase_axis_share_first": {"en": "Share of first purchases", "ko": "첫 구매 중 비중"},
    "purchase_trend_empty": {"en": "No purchase KPI has a value in the trend window.",
                             "ko": "추이 기간에 값이 있는 구매 지표가 없습니다."},
    # where the data comes from (said once, under the key figures)
    "purchase_from_events_no_amounts": {
        "en": "There is no orders table: orders are the client's purchase events and failed payment attempts its payment_failed events; the events carry no amount, so revenue, order value and repeat-revenue share are not measured.",
        "ko": "주문 테이블이 없어 구매(purchase) 이벤트를 주문으로, 결제 실패(payment_failed) 이벤트를 실패한 결제 시도로 봅니다. 이벤트에 금액이 없어 매출, 주문 금액, 재구매 매출 비중은 측정하지 않습니다."},
    "purchase_from_events_values": {
        "en": "There is no orders table: orders are the client's purchase events and failed payment attempts its payment_failed events; amounts come from the events' value.",
        "ko": "주문 테이블이 없어 구매(purchase) 이벤트를 주문으로, 결제 실패(payment_failed) 이벤트를 실패한 결제 시도로 봅니다. 금액은 이벤트의 value 값입니다."},
    "purchase_signup_first_seen": {
        "en": "There is no customers table: a customer's signup is taken as the first time she was seen (her first event or order).",
        "ko": "고객 테이블이 없어 고객이 처음 확인된 시점(첫 이벤트 또는 주문)을 가입일로 봅니다."},
    # analyses skipped, one line each
    "purchase_no_status": {"en": "The orders export has no payment status: every row is counted as a paid order, and payment success cannot be measured.",
                           "ko": "주문 데이터에 결제 상태가 없어 모든 행을 결제 완료 주문으로 보며, 결제 성공률은 측정할 수 없습니다."},
    "purchase_no_device": {"en": "The orders export has no device column: no breakdown by device.",
                           "ko": "주문 데이터에 기기 컬럼이 없어 기기별 분석을 할 수 없습니다."},
    "purchase_no_channel": {"en": "The orders export has no channel column: no breakdown by channel.",
                            "ko": "주문 데이터에 채널 컬럼이 없어 채널별 분석을 할 수 없습니다."},
    "purchase_no_discount": {"en": "The orders export has no discount-code column: discount use cannot be measured.",
                             "ko": "주문 데이터에 할인 코드 컬럼이 없어 할인 코드 사용을 측정할 수 없습니다."},
    "purchase_no_signups": {
        "en": "There is no customers table and no events with customer ids, so signup dates are unknown: first-purchase conversion and time to first purchase are not measured. Add a customers export with signup dates to enable them.",
        "ko": "고객 테이블과 고객 ID가 있는 이벤트가 없어 가입일을 알 수 없으므로 첫 구매 전환율과 첫 구매까지 걸린 시간은 측정하지 않습니다. 가입일이 있는 고객 데이터를 추가하면 표시됩니다."},
    "purchase_no_device_events": {"en": "The purchase events carry no device: no breakdown by device.",
                                  "ko": "구매 이벤트에 기기 정보가 없어 기기별 분석을 할 수 없습니다."},
    "purchase_no_channel_events": {"en": "The purchase events carry no channel: no breakdown by channel.",
                                   "ko": "구매 이벤트에 채널 정보가 없어 채널별 분석을 할 수 없습니다."},
    "purchase_no_discount_events": {"en": "The purchase events carry no discount code: discount use cannot be measured.",
                                    "ko": "구매 이벤트에 할인 코드가 없어 할인 코드 사용을 측정할 수 없습니다."},
    "purchase_no_subscriptions": {"en": "Trial → paid conversion needs the subscriptions table, which this client has not supplied.",
                                  "ko": "체험 → 유료 전환율에는 구독 테이블이 필요하지만 이 고객사에서는 제공되지 않았습니다."},
    "purchase_no_trials": {"en": "The subscriptions have no trial plans: trial → paid conversion does not apply.",
                           "ko": "구독 데이터에 체험(trial) 플랜이 없어 체험 → 유료 전환율은 해당되지 않습니다."},
    "purchase_no_trial_ends": {"en": "The subscriptions have no end dates: trial → paid conversion cannot be measured.",
                               "ko": "구독 데이터에 종료일이 없어 체험 → 유료 전환율을 측정할 수 없습니다."},
    # generated sentences
    "purchase_trial_sentence": {
        "en": "Of the {n} trials that ended in {period}, {x} ({rate}) were followed by a paid subscription of the same customer (previous month: {rate_prev}).",
        "ko": "{period}에 종료된 체험 {n}건 중 {x}건({rate})이 같은 고객의 유료 구독으로 이어졌습니다 (전월: {rate_prev})."},
    "purchase_trial_none": {"en": "No trial ended in {period}.", "ko": "{period}에 종료된 체험이 없습니다."},
    "purchase_no_orders": {"en": "No orders in {period}.", "ko": "{period}에는 주문이 없습니다."},
    "purchase_no_first": {"en": "No customer made a first purchase in {period}.",
                          "ko": "{period}에 첫 구매를 한 고객이 없습니다."},
    "purchase_cohort_sentence": {
        "en": "Conversion cohort: the {n} customers who signed up between {first} and {last}, whose {days}-day window closed in {period}; {x} of them ({rate}) made a paid order within {days} days of signing up.",
        "ko": "전환 코호트: {first}–{last}에 가입해 {days}일 전환 기간이 {period}에 끝난 고객 {n}명 중 {x}명({rate})이 가입 후 {days}일 이내에 결제를 완료했습니다."},
    "purchase_cohort_empty": {"en": "No customer's {days}-day conversion window closed in {period}.",
                              "ko": "{period}에 {days}일 전환 기간이 끝난 고객이 없습니다."},
    "purchase_device_gap": {
        "en": "Payments fail most often on {worst}: {worst_rate} of attempts failed, against {best_rate} on {best}.",
        "ko": "결제 실패는 {worst}에서 가장 많습니다: 시도의 {worst_rate}이(가) 실패했으며, {best}은(는) {best_rate}입니다."},
    "purchase_discount_sentence": {
        "en": "{share} of orders used a discount code; those orders averaged {aov_with}, against {aov_without} without a code.",
        "ko": "주문의 {share}이(가) 할인 코드를 사용했고, 코드 사용 주문의 평균 금액은 {aov_with}, 미사용 주문은 {aov_without}입니다."},
    "purchase_discount_share_sentence": {"en": "{share} of orders used a discount code.",
                                         "ko": "주문의 {share}이(가) 할인 코드를 사용했습니다."},
    "purchase_first_code_sentence": {
        "en": "The most used code on first orders is {code}: {share} of first orders.",
        "ko": "첫 주문에서 가장 많이 쓰인 코드는 {code}(으)로, 첫 주문의 {share}에 사용되었습니다."},
    "purchase_repeat_sentence": {
        "en": "Repeat orders brought {share} of revenue ({repeat} of {total}).",
        "ko": "재구매 주문이 매출의 {share}을(를) 차지했습니다 ({total} 중 {repeat})."},
    "purchase_repeat_orders_sentence": {
        "en": "Repeat orders were {share} of orders ({repeat} of {total}).",
        "ko": "재구매 주문이 전체 주문의 {share}입니다 ({total}건 중 {repeat}건)."},
    "purchase_days_sentence": {
        "en": "Half of the {n} first purchases in {period} came within {median} days of signing up; {within} came within {days} days.",
        "ko": "{period} 첫 구매 {n}건 중 절반이 가입 후 {median}일 이내에 이루어졌고, {within}이(가) {days}일 이내였습니다."},
    "purchase_channel_top": {
        "en": "{channel} brought the most revenue: {share} of the total.",
        "ko": "매출이 가장 많은 채널은 {channel}(으)로, 전체의 {share}입니다."},
    "purchase_channel_top_orders": {
        "en": "{channel} brought the most orders: {share} of the total.",
        "ko": "주문이 가장 많은 채널은 {channel}(으)로, 전체의 {share}입니다."},
    # what to look at next
    "purchase_next_device": {
        "en": "Check the payment flow on {device}: its failure rate ({rate}) is more than twice the overall rate ({overall}); failed attempts this month: {failed}.",
        "ko": "{device}의 결제 과정을 점검하세요: 실패율({rate})이 전체({overall})의 두 배가 넘으며, 이번 달 {failed}건이 실패했습니다."},
    "purchase_next_conversion_down": {
        "en": "Find out why fewer new customers buy within {days} days: first-purchase conversion fell significantly ({delta}). Compare the cohort's acquisition channels with last month's.",
        "ko": "신규 고객의 {days}일 이내 구매가 줄어든 이유를 확인하세요: 첫 구매 전환율이 유의하게 하락했습니다 ({delta}). 이번 코호트의 유입 채널을 전월과 비교해 보세요."},
    "purchase_next_low_conversion": {
        "en": "Fewer than half of new customers buy within {days} days ({rate}): the first days after signup (welcome messages, first-order offers) are the lever to test.",
        "ko": "신규 고객의 절반 미만({rate})만 {days}일 이내에 구매합니다: 가입 직후(환영 메시지, 첫 주문 혜택)를 개선 실험의 대상으로 삼으세요."},
    "purchase_next_payment_down": {
        "en": "Payment success fell significantly ({delta}): check the payment provider's declines and the checkout flow this month.",
        "ko": "결제 성공률이 유의하게 하락했습니다 ({delta}): 이번 달 결제사의 거절 내역과 결제 과정을 점검하세요."},
    "purchase_next_discount_aov": {
        "en": "Orders with a code are {gap} smaller on average than orders without one: check whether the codes bring new buyers or only discount orders that would have happened anyway.",
        "ko": "코드 사용 주문의 평균 금액이 미사용 주문보다 {gap} 작습니다: 할인 코드가 신규 구매를 만드는지, 어차피 일어날 주문을 할인해 주는지 확인하세요."},
    "purchase_next_repeat_low": {
        "en": "Only {share} of revenue comes from repeat orders: the retention section shows where customers stop buying.",
        "ko": "매출 중 재구매 비중이 {share}에 그칩니다: 고객이 구매를 멈추는 지점은 리텐션 섹션에서 확인하세요."},
    "purchase_next_aov_down": {
        "en": "The average order value fell significantly ({delta}): look at the product mix and discount use of this month's orders.",
        "ko": "평균 주문 금액이 유의하게 하락했습니다 ({delta}): 이번 달 주문의 상품 구성과 할인 사용을 살펴보세요."},
    "purchase_next_trial": {
        "en": "Only {rate} of trials convert to paid: look at what trial users do (or do not do) in their first days.",
        "ko": "체험의 {rate}만 유료로 전환됩니다: 체험 사용자가 초기에 무엇을 하는지(하지 않는지) 살펴보세요."},
    "purchase_next_nothing": {
        "en": "Nothing in purchase stands out this month: conversion, payments, discounts and repeat revenue are within their usual range.",
        "ko": "이번 달 구매 단계에서 특별히 눈에 띄는 점은 없습니다: 전환, 결제, 할인, 재구매 매출 모두 평소 범위입니다."},
})


def labels(cfg) -> dict[str, str]:
    """Display label of each KPI in the client's language."""
    W = compute.window_days(cfg)
    return {k: i18n.t(f"purchase_{k}", cfg.language, **({"days": W} if k == "conversion_rate" else {}))
            for k in KINDS}


def group_name(key: str, cfg) -> str:
    """A breakdown group's display name: the folded "other" row and the
    group without a value are named in the client's language."""
    if key == compute.OTHER:
        return i18n.t("other_group", cfg.language)
    if key == compute.UNKNOWN:
        return i18n.t("purchase_unknown", cfg.language)
    return str(key)


def _missing(what: str, ds, cfg) -> report.Note:
    """The one line saying the orders lack a column (``device``,
    ``channel``, ``discount``), worded for an orders export or for orders
    derived from purchase events."""
    return report.Note(i18n.t(f"purchase_no_{what}" + ("_events" if compute.orders_from_events(ds) else ""),
                              cfg.language))


def _money(x, cfg) -> str:
    return report.fmt_money(x, cfg.currency)


def caveats(ds, cfg) -> report.Narrative | None:
    """Where this client's orders and signups come from, when not from an
    orders and a customers table: one sentence each (orders derived from
    events, with or without amounts; signups taken as first seen).
    ``None`` when both tables were supplied."""
    lang = cfg.language
    out = []
    if compute.orders_from_events(ds):
        out.append(i18n.t("purchase_from_events_values" if facts.has_amounts(ds) else "purchase_from_events_no_amounts",
                          lang))
    if compute.signup_source(ds) == "first_seen":
        out.append(i18n.t("purchase_signup_first_seen", lang))
    return report.Narrative(out) if out else None


# --------------------------------------------------------------------------
# Generated sentences
# --------------------------------------------------------------------------

def insights(ds, cfg, values: dict | None = None) -> list[str]:
    """Sentences about this period's purchase behaviour, in the client's
    language: no orders (when so), the conversion cohort (which customers,
    how many converted), time to first purchase, the device where payments
    fail most against the one where they fail least (each with
    ``min_sample_size`` attempts), discount use (and order value with /
    without a code), the most used code on first orders, the repeat share
    of revenue (of orders without amounts) and the top channel. Analyses
    the client's data does not allow are left out (their sections say
    why)."""
    lang = cfg.language
    per = cfg.period.label(lang)
    W = compute.window_days(cfg)
    v = values if values is not None else compute.period_values(ds, cfg, cfg.period)
    money = facts.has_amounts(ds)
    out: list[str] = []
    if not v["orders"]:
        out.append(i18n.t("purchase_no_orders", lang, period=per))
    if v["cohort"]:
        first = cfg.period.start - pd.Timedelta(days=W)
        last = cfg.period.end - pd.Timedelta(days=W + 1)
        out.append(i18n.t("purchase_cohort_sentence", lang, n=report.fmt_int(v["cohort"]),
                          first=report.fmt_date(first), last=report.fmt_date(last), days=W, period=per,
                          x=report.fmt_int(v["converted"]), rate=report.fmt_pct(v["conversion_rate"])))
    elif v["cohort"] is not None:
        out.append(i18n.t("purchase_cohort_empty", lang, days=W, period=per))
    d = compute.first_purchase_days(ds, cfg)
    if len(d):
        out.append(i18n.t("purchase_days_sentence", lang, n=report.fmt_int(len(d)), period=per,
                          median=report.fmt_num(v["median_days_to_first_purchase"]),
                          within=report.fmt_pct(float((d < W).mean())), days=W))
    dev = compute.by_device(ds, cfg)
    if dev is not None and facts.has_payment_status(ds):
        ok = dev[(dev["attempts"] >= int(cfg.definitions.min_sample_size))
                 & (dev["device"] != compute.OTHER)].dropna(subset=["failure_rate"])
        if len(ok) >= 2:
            ok = ok.sort_values(["failure_rate", "device"])
            best, worst = ok.iloc[0], ok.iloc[-1]
            if worst["failure_rate"] > best["failure_rate"]:
                out.append(i18n.t("purchase_device_gap", lang, worst=group_name(worst["device"], cfg),
                                  best=group_name(best["device"], cfg),
                                  worst_rate=report.fmt_pct(worst["failure_rate"]),
                                  best_rate=report.fmt_pct(best["failure_rate"])))
    split = compute.discount_split(ds, cfg)
    if split is not None and v["orders"]:
        w, wo = split.iloc[0], split.iloc[1]
        if money:
            out.append(i18n.t("purchase_discount_sentence", lang, share=report.fmt_pct(w["order_share"]),
                              aov_with=_money(w["aov"], cfg), aov_without=_money(wo["aov"], cfg)))
        else:
            out.append(i18n.t("purchase_discount_share_sentence", lang, share=report.fmt_pct(w["order_share"])))
        codes = compute.discount_codes(ds, cfg)
        codes = codes[codes["code"] != compute.OTHER]
        if len(codes) and codes["first_orders"].max() > 0:
            top = codes.sort_values(["first_orders", "code"], ascending=[False, True]).iloc[0]
            out.append(i18n.t("purchase_first_code_sentence", lang, code=group_name(top["code"], cfg),
                              share=report.fmt_pct(top["first_order_share"])))
    if v["revenue"]:
        out.append(i18n.t("purchase_repeat_sentence", lang, share=report.fmt_pct(v["repeat_revenue_share"]),
                          repeat=_money(v["repeat_revenue"], cfg), total=_money(v["revenue"], cfg)))
    elif not money and v["orders"]:
        repeat = v["orders"] - v["first_orders"]
        out.append(i18n.t("purchase_repeat_orders_sentence", lang, share=report.fmt_pct(repeat / v["orders"]),
                          repeat=report.fmt_int(repeat), total=report.fmt_int(v["orders"])))
    chan = compute.by_channel(ds, cfg)
    if chan is not None:
        named = chan[(chan["channel"] != compute.OTHER) & (chan["channel"] != compute.UNKNOWN)]
        if len(named):
            by, key = ("revenue", "purchase_channel_top") if money else ("order", "purchase_channel_top_orders")
            top = named.sort_values([f"{by}_share", "channel"], ascending=[False, True]).iloc[0]
            out.append(i18n.t(key, lang, channel=top["channel"], share=report.fmt_pct(top[f"{by}_share"])))
    return out


def next_steps(ds, cfg, chs: list[compare.Change] | None = None) -> list[str]:
    """"What to look at next": sentences generated from this period's data,
    most urgent first. Rules (each fires independently):

    1. a device with ``min_sample_size`` attempts whose payment failure
       rate is above 5% and more than twice the overall rate;
    2. first-purchase conversion is below 50% on a cohort of
       ``min_sample_size``;
    3. orders with a code are at least 10% smaller than orders without one
       (both with ``min_sample_size`` orders);
    4. repeat orders bring under 30% of revenue (with ``min_sample_size``
       orders);
    5. trial → paid conversion under 50% (with ``min_sample_size`` trials).

    Advice that follows a significant change (payment success, conversion or
    order value fell) is part of the key figures
    (:func:`journeykit.sections.purchase.compute.advice`), so it agrees with
    the report's verdicts. When no rule fires, one sentence says nothing
    stands out.
    """
    lang = cfg.language
    n_min = int(cfg.definitions.min_sample_size)
    W = compute.window_days(cfg)
    ch = {c.key: c for c in (chs if chs is not None else compute.changes(ds, cfg))}
    out: list[str] = []
    dev = compute.by_device(ds, cfg)
    if dev is not None and facts.has_payment_status(ds) and dev["attempts"].sum():
        overall = dev["failed"].sum() / dev["attempts"].sum()
        bad = dev[(dev["attempts"] >= n_min) & (dev["failure_rate"] > 0.05) & (dev["failure_rate"] > 2 * overall)
                  & (dev["device"] != compute.OTHER)]
        for _, r in bad.sort_values(["failure_rate", "device"], ascending=[False, True]).iterrows():
            out.append(i18n.t("purchase_next_device", lang, device=group_name(r["device"], cfg),
                              rate=report.fmt_pct(r["failure_rate"]), overall=report.fmt_pct(overall),
                              failed=report.fmt_int(r["failed"])))
    conv = ch["conversion_rate"]
    if conv.value is not None and conv.n and conv.n >= n_min and conv.value < 0.5:
        out.append(i18n.t("purchase_next_low_conversion", lang, days=W, rate=report.fmt_pct(conv.value)))
    split = compute.discount_split(ds, cfg)
    if split is not None:
        w, wo = split.iloc[0], split.iloc[1]
        if w["orders"] >= n_min and wo["orders"] >= n_min and w["aov"] and wo["aov"] and w["aov"] <= 0.9 * wo["aov"]:
            out.append(i18n.t("purchase_next_discount_aov", lang, gap=report.fmt_pct(1 - w["aov"] / wo["aov"])))
    rr = ch["repeat_revenue_share"]
    if rr.value is not None and ch["orders"].value and ch["orders"].value >= n_min and rr.value < 0.3:
        out.append(i18n.t("purchase_next_repeat_low", lang, share=report.fmt_pct(rr.value)))
    tr = ch.get("trial_to_paid_rate")
    if tr is not None and tr.value is not None and tr.n and tr.n >= n_min and tr.value < 0.5:
        out.append(i18n.t("purchase_next_trial", lang, rate=report.fmt_pct(tr.value)))
    return out or [i18n.t("purchase_next_nothing", lang)]


# --------------------------------------------------------------------------
# Charts and tables
# --------------------------------------------------------------------------

def trend_chart(ds, cfg):
    """Small multiples of the main KPIs (:data:`TREND_PANELS`) from the
    first month with orders to the period; KPIs without a value in any
    month are left out, and with none at all a sentence replaces the chart."""
    df = compute.monthly(ds, cfg)
    lab = labels(cfg)
    return plots.trends(df, [(k, lab[k], KINDS[k]) for k in TREND_PANELS],
                        title=i18n.t("purchase_chart_trend", cfg.language, n=len(df)),
                        empty=i18n.t("purchase_trend_empty", cfg.language))


def days_chart(ds, cfg):
    """Bar chart of the time from signup to first purchase (share of the
    period's first purchases per bucket); a note when signups are not
    known (:func:`.compute.signup_source`) or nobody bought for the first
    time this period."""
    lang = cfg.language
    if compute.signup_source(ds) is None:
        return report.Note(i18n.t("purchase_no_signups", lang))
    df = compute.days_to_first_purchase(ds, cfg)
    if not df["customers"].sum():
        return report.Note(i18n.t("purchase_no_first", lang, period=cfg.period.label(lang)))
    df = df.assign(bucket=[i18n.t(f"purchase_{b}", lang) for b in df["bucket"]])
    fig = plots.bars(df, "bucket", "share", i18n.t("purchase_chart_days", lang, period=cfg.period.label(lang)),
                     kind="pct", horizontal=False)
    ax = fig.axes[0]
    ax.set_ylabel(i18n.t("purchase_axis_share_first", lang))
    ax.set_xlabel(i18n.t("purchase_col_days", lang))
    return fig


def _table(df: pd.DataFrame, cfg, group: str | None, columns: dict[str, tuple[str, str]]):
    lang = cfg.language
    out = df[list(columns)].copy()
    if group:
        out[group] = [group_name(g, cfg) for g in out[group]]
    names = {c: i18n.t(key, lang) for c, (key, _) in columns.items()}
    return report.table(out.rename(columns=names), cfg, {names[c]: kind for c, (_, kind) in columns.items()})


def _money_columns(ds, columns: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    if facts.has_amounts(ds):
        return columns
    return {c: v for c, v in columns.items() if v[1] != "money" and c != "revenue_share"}


def payments(ds, cfg):
    """Payments, orders and revenue by device (a table), with one line for
    each missing input (no payment status, no device column)."""
    lang = cfg.language
    notes = [] if facts.has_payment_status(ds) else [report.Note(i18n.t("purchase_no_status", lang))]
    df = compute.by_device(ds, cfg)
    if df is None:
        return report.Blocks([*notes, _missing("device", ds, cfg)])
    if df.empty:
        return report.Blocks(notes) if notes else None
    cols = {"device": ("purchase_col_device", "text")}
    if facts.has_payment_status(ds):
        cols |= {"attempts": ("purchase_col_attempts", "int"), "failed": ("purchase_col_failed", "int"),
                 "failure_rate": ("purchase_col_failure_rate", "pct")}
    cols |= _money_columns(ds, {"orders": ("purchase_col_orders", "int"), "revenue": ("purchase_col_revenue", "money"),
                                "aov": ("purchase_col_aov", "money")})
    return report.Blocks([_table(df, cfg, "device", cols), *notes])


def payment_failure_chart(ds, cfg):
    """Bar chart of the payment failure rate by device; ``None`` without a
    device column, a payment status or attempts (:func:`payments` says why)."""
    df = compute.by_device(ds, cfg)
    if df is None or not facts.has_payment_status(ds) or df.empty or not df["attempts"].sum():
        return None
    df = df.assign(device=[group_name(g, cfg) for g in df["device"]])
    return plots.bars(df, "device", "failure_rate",
                      i18n.t("purchase_chart_failure", cfg.language, period=cfg.period.label(cfg.language)), kind="pct")


def discounts(ds, cfg):
    """Orders with and without a discount code, and the codes used (two
    tables); one line when the export has no discount-code column; ``None``
    without orders this period."""
    split = compute.discount_split(ds, cfg)
    if split is None:
        return _missing("discount", ds, cfg)
    if not split["orders"].sum():
        return None
    split = split.assign(group=[i18n.t(f"purchase_{g}", cfg.language) for g in split["group"]])
    blocks = [_table(split, cfg, None, _money_columns(ds, {
        "group": ("purchase_col_order_type", "text"), "orders": ("purchase_col_orders", "int"),
        "order_share": ("purchase_col_order_share", "pct"), "revenue": ("purchase_col_revenue", "money"),
        "aov": ("purchase_col_aov", "money")}))]
    codes = compute.discount_codes(ds, cfg)
    if len(codes):
        blocks.append(_table(codes, cfg, "code", _money_columns(ds, {
            "code": ("purchase_col_code", "text"), "orders": ("purchase_col_orders", "int"),
            "order_share": ("purchase_col_order_share", "pct"),
            "first_order_share": ("purchase_col_first_order_share", "pct"), "aov": ("purchase_col_aov", "money")})))
    return report.Blocks(blocks)


def channels(ds, cfg):
    """Orders and revenue by order channel (a table); one line when the
    export has no channel column; ``None`` without orders this period."""
    df = compute.by_channel(ds, cfg)
    if df is None:
        return _missing("channel", ds, cfg)
    if df.empty:
        return None
    return _table(df, cfg, "channel", _money_columns(ds, {
        "channel": ("purchase_col_channel", "text"), "orders": ("purchase_col_orders", "int"),
        "order_share": ("purchase_col_order_share", "pct"), "revenue": ("purchase_col_revenue", "money"),
        "revenue_share": ("purchase_col_revenue_share", "pct"), "aov": ("purchase_col_aov", "money")}))


def first_and_repeat(ds, cfg):
    """First and repeat orders of the period (a table); ``None`` without
    orders this period."""
    df = compute.new_vs_repeat(ds, cfg)
    if not df["orders"].sum():
        return None
    df = df.assign(group=[i18n.t("purchase_first_orders" if g == "first" else "purchase_repeat_orders", cfg.language)
                          for g in df["group"]])
    return _table(df, cfg, None, _money_columns(ds, {
        "group": ("purchase_col_order_type", "text"), "orders": ("purchase_col_orders", "int"),
        "order_share": ("purchase_col_order_share", "pct"), "revenue": ("purchase_col_revenue", "money"),
        "revenue_share": ("purchase_col_revenue_share", "pct"), "aov": ("purchase_col_aov", "money")}))


def trials(ds, cfg) -> report.Note:
    """A sentence on trial → paid conversion, or one line saying why it
    does not apply (no subscriptions, no trial plans, no end dates)."""
    lang = cfg.language
    if not ds.has("subscriptions"):
        return report.Note(i18n.t("purchase_no_subscriptions", lang))
    if not compute.has_trials(ds):
        return report.Note(i18n.t("purchase_no_trials", lang))
    if "ended_at" not in ds.raw("subscriptions").columns:
        return report.Note(i18n.t("purchase_no_trial_ends", lang))
    v = compute.period_values(ds, cfg, cfg.period)
    prev = compute.period_values(ds, cfg, cfg.period.previous())
    per = cfg.period.label(lang)
    if not v["trials"]:
        return report.Note(i18n.t("purchase_trial_none", lang, period=per))
    return report.Note(i18n.t("purchase_trial_sentence", lang, n=report.fmt_int(v["trials"]), period=per,
                              x=report.fmt_int(v["trials_converted"]), rate=report.fmt_pct(v["trial_to_paid_rate"]),
                              rate_prev=report.fmt_pct(prev["trial_to_paid_rate"])))


__all__ = ["KINDS", "TREND_PANELS", "labels", "group_name", "caveats", "insights", "next_steps", "trend_chart",
           "days_chart", "payments", "payment_failure_chart", "discounts", "channels", "first_and_repeat", "trials"]
