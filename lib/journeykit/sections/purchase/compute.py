"""Purchase and conversion: how well new customers convert, and how they pay.

Every KPI here needs only the ``orders`` table (``customers`` is derived by
the loader when the client sends none); ``subscriptions`` adds trial → paid
conversion. Definitions shared by every KPI:

- **Order**: an ``orders`` row whose payment succeeded. When the export has
  ``payment_status``, a row counts as an order when its status is one of
  :data:`PAID_STATUSES` (case-insensitive) or empty (the export did not say
  it failed); a row with a status in :data:`FAILED_STATUSES` is a failed
  payment attempt; any other status (refunded, cancelled, pending …) is
  neither an order nor a payment attempt. Without ``payment_status`` every
  row is an order.
- **First order**: a customer's earliest order in all the data up to the
  period end (ties broken by ``order_id``); every later order of the same
  customer is a **repeat order**.
- Money is in the client's currency; rates are 0–1; days are calendar days
  (fractional, from timestamps).

The module follows the stage shape of :mod:`journeykit.data.query`:
:func:`period_values`, :func:`changes`, :func:`monthly`, the breakdowns
(:func:`by_device`, :func:`by_channel`, :func:`discount_split`,
:func:`discount_codes`, :func:`new_vs_repeat`, :func:`days_to_first_purchase`),
:func:`metrics`, and display helpers for the notebook (``*_view``,
``*_chart``, :func:`insights`, :func:`next_steps`).
"""

from __future__ import annotations

import math

import ibis
import numpy as np
import pandas as pd

from journeykit.stats import compare
from journeykit.core import i18n
from journeykit.report import plots
from journeykit import report
from journeykit.core.periods import Period
from journeykit.data.query import in_window, month_frame, month_of, trailing_months, ts
from journeykit.sections import registry
from journeykit import facts

STABLE_KEYS = registry.get("30_purchase").stable_keys
"""The section's stable ``metrics.json`` keys (each also with ``_prev``)."""

KINDS = {"orders": "int", "revenue": "money", "aov": "money", "conversion_rate": "pct",
         "payment_success_rate": "pct", "discount_order_share": "pct", "repeat_revenue_share": "pct",
         "median_days_to_first_purchase": "num", "trial_to_paid_rate": "pct"}
"""Display kind of each KPI (see :func:`journeykit.report.kpi_table`)."""

DAY_BUCKETS = ((0, 1, "same_day"), (1, 4, "d1_3"), (4, 8, "d4_7"), (8, 15, "d8_14"), (15, 31, "d15_30"),
               (31, 91, "d31_90"), (91, math.inf, "d91_plus"))
"""Buckets of days from signup to first order: ``[low, high)`` and a text key."""

i18n.register({
    "purchase_orders": {"en": "Orders", "ko": "주문 수"},
    "purchase_revenue": {"en": "Revenue", "ko": "매출"},
    "purchase_aov": {"en": "Average order value", "ko": "평균 주문 금액"},
    "purchase_conversion_rate": {"en": "First-purchase conversion ({days} days)",
                                 "ko": "첫 구매 전환율 ({days}일 이내)"},
    "purchase_payment_success_rate": {"en": "Payment success rate", "ko": "결제 성공률"},
    "purchase_discount_order_share": {"en": "Orders with a discount code", "ko": "할인 코드 사용 주문 비율"},
    "purchase_repeat_revenue_share": {"en": "Repeat-order share of revenue", "ko": "재구매 매출 비중"},
    "purchase_median_days_to_first_purchase": {"en": "Median days to first purchase",
                                               "ko": "첫 구매까지 걸린 일수 (중앙값)"},
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
    "purchase_col_customers": {"en": "Customers", "ko": "고객 수"},
    "purchase_col_share": {"en": "Share", "ko": "비중"},
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
    # notes and generated sentences
    "purchase_no_status": {"en": "The orders export has no payment status: every row is counted as a paid order, and payment success cannot be measured.",
                           "ko": "주문 데이터에 결제 상태가 없어 모든 행을 결제 완료 주문으로 보며, 결제 성공률은 측정할 수 없습니다."},
    "purchase_no_device": {"en": "The orders export has no device column: no breakdown by device.",
                           "ko": "주문 데이터에 기기 컬럼이 없어 기기별 분석을 할 수 없습니다."},
    "purchase_no_channel": {"en": "The orders export has no channel column: no breakdown by channel.",
                            "ko": "주문 데이터에 채널 컬럼이 없어 채널별 분석을 할 수 없습니다."},
    "purchase_no_discount": {"en": "The orders export has no discount-code column: discount use cannot be measured.",
                             "ko": "주문 데이터에 할인 코드 컬럼이 없어 할인 코드 사용을 측정할 수 없습니다."},
    "purchase_no_orders": {"en": "No orders in {period}.", "ko": "{period}에는 주문이 없습니다."},
    "purchase_no_first": {"en": "No customer made a first purchase in {period}.",
                          "ko": "{period}에 첫 구매를 한 고객이 없습니다."},
    "purchase_no_subscriptions": {"en": "Trial → paid conversion needs the subscriptions table, which this client has not supplied.",
                                  "ko": "체험 → 유료 전환율에는 구독 테이블이 필요하지만 이 고객사에서는 제공되지 않았습니다."},
    "purchase_no_trials": {"en": "The subscriptions have no trial plans: trial → paid conversion does not apply.",
                           "ko": "구독 데이터에 체험(trial) 플랜이 없어 체험 → 유료 전환율은 해당되지 않습니다."},
    "purchase_trial_sentence": {
        "en": "Of the {n} trials that ended in {period}, {x} ({rate}) were followed by a paid subscription of the same customer (previous month: {rate_prev}).",
        "ko": "{period}에 종료된 체험 {n}건 중 {x}건({rate})이 같은 고객의 유료 구독으로 이어졌습니다 (전월: {rate_prev})."},
    "purchase_trial_none": {"en": "No trial ended in {period}.", "ko": "{period}에 종료된 체험이 없습니다."},
    "purchase_cohort_sentence": {
        "en": "Conversion cohort: the {n} customers who signed up between {first} and {last}, whose {days}-day window closed in {period}; {x} of them ({rate}) made a paid order within {days} days of signing up.",
        "ko": "전환 코호트: {first}–{last}에 가입해 {days}일 전환 기간이 {period}에 끝난 고객 {n}명 중 {x}명({rate})이 가입 후 {days}일 이내에 결제를 완료했습니다."},
    "purchase_cohort_empty": {"en": "No customer's {days}-day conversion window closed in {period}.",
                              "ko": "{period}에 {days}일 전환 기간이 끝난 고객이 없습니다."},
    "purchase_derived_customers": {
        "en": "There is no customers table, so signup dates are unknown: first-purchase conversion and time to first purchase are not measured. Add a customers export with signup dates to enable them.",
        "ko": "고객 테이블이 없어 가입일을 알 수 없으므로 첫 구매 전환율과 첫 구매까지 걸린 시간은 측정하지 않습니다. 가입일이 있는 고객 데이터를 추가하면 표시됩니다."},
    "purchase_device_gap": {
        "en": "Payments fail most often on {worst}: {worst_rate} of attempts failed, against {best_rate} on {best}.",
        "ko": "결제 실패는 {worst}에서 가장 많습니다: 시도의 {worst_rate}가 실패했으며, {best}는 {best_rate}입니다."},
    "purchase_discount_sentence": {
        "en": "{share} of orders used a discount code; those orders averaged {aov_with}, against {aov_without} without a code.",
        "ko": "주문의 {share}가 할인 코드를 사용했고, 코드 사용 주문의 평균 금액은 {aov_with}, 미사용 주문은 {aov_without}입니다."},
    "purchase_first_code_sentence": {
        "en": "The most used code on first orders is {code}: {share} of first orders.",
        "ko": "첫 주문에서 가장 많이 쓰인 코드는 {code}로, 첫 주문의 {share}에 사용되었습니다."},
    "purchase_repeat_sentence": {
        "en": "Repeat orders brought {share} of revenue ({repeat} of {total}).",
        "ko": "재구매 주문이 매출의 {share}를 차지했습니다 ({total} 중 {repeat})."},
    "purchase_days_sentence": {
        "en": "Half of the {n} first purchases in {period} came within {median} days of signing up; {within} came within {days} days.",
        "ko": "{period} 첫 구매 {n}건 중 절반이 가입 후 {median}일 이내에 이루어졌고, {within}가 {days}일 이내였습니다."},
    "purchase_channel_top": {
        "en": "{channel} brought the most revenue: {share} of the total.",
        "ko": "매출이 가장 많은 채널은 {channel}로, 전체의 {share}입니다."},
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


# --------------------------------------------------------------------------
# Orders on the engine
# --------------------------------------------------------------------------

def _customers_derived(ds) -> bool:
    t = ds.report.tables.get("customers")
    return t is not None and t.status == "derived"


def _window_days(ds) -> int:
    return int(ds.cfg.definitions.first_purchase_window_days)


def month_values(ds, months: list[Period]) -> pd.DataFrame:
    """The KPIs of :func:`period_values` with their numerators and
    denominators, one row per month of ``months`` (consecutive, oldest
    first), index ``month`` (timestamp of each month's first day). One
    grouped query per KPI family, however many months. Results are kept
    per dataset (its data is read-only), so a notebook's cells share them."""
    return ds.memo(("purchase_months", tuple(months)), lambda: _month_values(ds, list(months)), ds.cfg)


def _month_values(ds, months: list[Period]) -> pd.DataFrame:
    lo, hi = months[0].start, months[-1].end
    W = _window_days(ds)
    idx = pd.Index([pd.Timestamp(p.start) for p in months], name="month")
    out = pd.DataFrame(index=idx)

    # orders, revenue, AOV, discount use, repeat revenue: orders placed in the month
    o = in_window(facts.paid_orders(ds), "ordered_at", lo, hi)
    o = o.mutate(month=month_of(o.ordered_at))
    agg = o.group_by("month").aggregate(
        orders=o.count(), revenue=o.amount.sum(), aov_sd=o.amount.std(how="sample"),
        repeat_revenue=o.amount.sum(where=o._seq > 0), discount_orders=o.count(where=o._code.notnull()),
        first_orders=o.count(where=o._seq == 0),
    ).execute()
    out = out.join(agg.assign(month=pd.to_datetime(agg["month"])).set_index("month"))

    # payment success: attempts with a known paid or failed status
    if facts.has_payment_status(ds):
        a = in_window(facts.attempts(ds), "ordered_at", lo, hi)
        a = a.mutate(month=month_of(a.ordered_at))
        pay = a.group_by("month").aggregate(
            paid_attempts=a.count(where=a._paid & a._status_known), failed_attempts=a.count(where=a._failed),
        ).execute()
        out = out.join(pay.assign(month=pd.to_datetime(pay["month"])).set_index("month"))
    else:
        out["paid_attempts"] = np.nan
        out["failed_attempts"] = np.nan

    # first-purchase conversion: customers whose W-day window closed in the month
    c = ds.table("customers").select("customer_id", "signup_at")
    p = facts.paid_orders(ds)
    first = p.filter(p._seq == 0).select(customer_id=p.customer_id, first_paid_at=p.ordered_at)
    c = c.mutate(close=c.signup_at + ibis.interval(days=W))
    c = c.filter((c.close >= ts(lo)) & (c.close < ts(hi)))
    j = c.left_join(first, c.customer_id == first.customer_id)
    conv = j.mutate(month=month_of(j.close),
                    converted=(j.first_paid_at.notnull() & (j.first_paid_at < j.close)).fill_null(False))
    cv = conv.group_by("month").aggregate(cohort=conv.count(), converted=conv.count(where=conv.converted)).execute()
    out = out.join(cv.assign(month=pd.to_datetime(cv["month"])).set_index("month"))

    # days from signup to first order, for first orders placed in the month
    f = in_window(p.filter(p._seq == 0), "ordered_at", lo, hi)
    cu = ds.table("customers").select("customer_id", "signup_at")
    fj = f.inner_join(cu, f.customer_id == cu.customer_id)
    days = ((fj.ordered_at.epoch_seconds() - fj.signup_at.epoch_seconds()) / 86400.0)
    fj = fj.mutate(month=month_of(fj.ordered_at), days=ibis.greatest(days, 0.0))
    dd = fj.group_by("month").aggregate(median_days=fj.days.median(), first_with_signup=fj.count()).execute()
    out = out.join(dd.assign(month=pd.to_datetime(dd["month"])).set_index("month"))

    # trial → paid: trials that ended in the month, followed by a paid subscription
    tr = _trial_frame(ds, lo, hi)
    if tr is not None:
        out = out.join(tr)
    else:
        out["trials"] = np.nan
        out["trials_converted"] = np.nan

    for col in ("orders", "revenue", "discount_orders", "first_orders", "cohort", "converted", "first_with_signup"):
        out[col] = out[col].fillna(0)
    out["repeat_revenue"] = out["repeat_revenue"].fillna(0.0)
    if facts.has_payment_status(ds):
        out[["paid_attempts", "failed_attempts"]] = out[["paid_attempts", "failed_attempts"]].fillna(0)
    out["aov"] = [compare.safe_div(r, n) for r, n in zip(out["revenue"], out["orders"])]
    out["conversion_rate"] = [compare.safe_div(x, n) for x, n in zip(out["converted"], out["cohort"])]
    out["payment_success_rate"] = [compare.safe_div(x, x + f) if not pd.isna(x) else None
                                   for x, f in zip(out["paid_attempts"], out["failed_attempts"])]
    has_code = "discount_code" in ds.table("orders").columns
    out["discount_order_share"] = [compare.safe_div(x, n) if has_code else None
                                   for x, n in zip(out["discount_orders"], out["orders"])]
    out["repeat_revenue_share"] = [compare.safe_div(x, r) for x, r in zip(out["repeat_revenue"], out["revenue"])]
    out["median_days_to_first_purchase"] = out["median_days"]
    out["trial_to_paid_rate"] = [compare.safe_div(x, n) if not pd.isna(n) else None
                                 for x, n in zip(out["trials_converted"], out["trials"])]
    if _customers_derived(ds):
        # signup_at is then the first order or event itself: conversion would be
        # ~100% and time to first purchase ~0 by construction, not a measurement
        out[["cohort", "converted", "conversion_rate", "median_days", "median_days_to_first_purchase"]] = np.nan
    return out.astype({c: "float64" for c in out.columns})


def _trial_frame(ds, lo, hi) -> pd.DataFrame | None:
    """Trials (``plan`` containing "trial") whose ``ended_at`` falls in each
    month, and how many were followed by a paid subscription (any other
    plan) of the same customer starting on or after the trial's start and
    before the period end. ``None`` when there are no trial subscriptions."""
    if not ds.has("subscriptions"):
        return None
    s = ds.table("subscriptions")
    if "plan" not in s.columns:
        return None
    s = s.mutate(_trial=s.plan.cast("string").lower().contains("trial").fill_null(False))
    if not int(s.count(where=s._trial).execute()):
        return None
    trials = s.filter(s._trial & s.ended_at.notnull())
    trials = in_window(trials, "ended_at", lo, hi).select(
        sid=trials.subscription_id, cust=trials.customer_id, t_start=trials.started_at, t_end=trials.ended_at)
    paid = s.filter(~s._trial).select(pcust=s.customer_id, p_start=s.started_at)
    j = trials.left_join(paid, [trials.cust == paid.pcust, paid.p_start >= trials.t_start])
    per = j.group_by(["sid", "t_end"]).aggregate(conv=j.p_start.notnull().any())
    per = per.mutate(month=month_of(per.t_end))
    m = per.group_by("month").aggregate(trials=per.count(), trials_converted=per.count(where=per.conv)).execute()
    return m.assign(month=pd.to_datetime(m["month"])).set_index("month")


def has_trials(ds) -> bool:
    """Whether the client's subscriptions include trial plans."""
    if not ds.has("subscriptions") or "plan" not in ds.table("subscriptions").columns:
        return False
    s = ds.table("subscriptions")
    return bool(int(s.count(where=s.plan.cast("string").lower().contains("trial").fill_null(False)).execute()))


# --------------------------------------------------------------------------
# The KPIs of one period
# --------------------------------------------------------------------------

def period_values(ds, period: Period) -> dict:
    """The section's KPIs for one month (``period.start <= t < period.end``).

    - ``orders``: orders (successful payments) placed in the period; count.
    - ``revenue``: sum of ``amount`` over those orders; currency.
    - ``aov``: ``revenue / orders``; currency per order (``None`` without orders).
    - ``conversion_rate``: numerator = customers of the cohort with a paid
      order before ``signup_at + W`` days; denominator = the cohort: customers
      whose conversion window ``[signup_at, signup_at + W days)`` *closed* in
      the period (``W`` = ``definitions.first_purchase_window_days``), i.e.
      who signed up between ``period.start − W`` and ``period.end − W`` days.
      This cohort is chosen, rather than "signups of the period", so that
      every customer counted had her full W days to buy and nothing after
      the period end is needed: signups late in the month are not
      penalised for a window still open, and a past month re-runs
      identically. 0–1.
    - ``payment_success_rate``: successful payment attempts / (successful +
      failed attempts) in the period, attempts = ``orders`` rows with a
      paid or failed ``payment_status``; 0–1; ``None`` without the column.
    - ``discount_order_share``: orders with a non-empty ``discount_code`` /
      orders, in the period; 0–1; ``None`` without the column.
    - ``repeat_revenue_share``: revenue of repeat orders (after the
      customer's first order) / revenue, in the period; 0–1.
    - ``median_days_to_first_purchase``: over customers whose first order
      was placed in the period, the median of days from ``signup_at`` to
      that order (negative gaps, an order before the recorded signup,
      count as 0); days.

      Both are ``None`` when the client sends no ``customers`` table: the
      loader then takes signup as the first order or event, which would make
      them ~100% and ~0 days by construction.
    - ``trial_to_paid_rate``: trials (``plan`` containing "trial") whose
      ``ended_at`` falls in the period that were followed by a paid
      subscription of the same customer (another plan, starting on or after
      the trial's start and before the period end) / those trials; 0–1;
      ``None`` without trial subscriptions.

    Also returned: the counts behind them (``cohort``, ``converted``,
    ``paid_attempts``, ``failed_attempts``, ``discount_orders``,
    ``repeat_revenue``, ``first_orders``, ``trials``, ``trials_converted``)
    and ``aov_sd`` (sample standard deviation of order amounts).
    """
    row = month_values(ds, [period]).iloc[0]
    return {k: (None if pd.isna(v) else float(v)) for k, v in row.items()}


def labels(cfg) -> dict[str, str]:
    """Display label of each KPI in the client's language."""
    lang = cfg.language
    W = int(cfg.definitions.first_purchase_window_days)
    return {k: i18n.t(f"purchase_{k}", lang, days=W) if k == "conversion_rate" else i18n.t(f"purchase_{k}", lang)
            for k in KINDS}


def changes(ds, cfg) -> list[compare.Change]:
    """This period against the comparison period, each KPI with its test:

    orders — Poisson rate per day (:func:`compare.count`); revenue — no test
    (:func:`compare.value`: a sum of amounts has no simple sampling model
    here); AOV — Welch t-test on per-order amounts (:func:`compare.mean`);
    conversion, payment success, discount share, trial → paid — two-proportion
    z-test (:func:`compare.rate`); repeat revenue share (a ratio of amounts)
    and median days to first purchase — no test. ``trial_to_paid_rate`` is
    included only when the client has trial subscriptions.
    """
    f = month_values(ds, [cfg.period.previous(), cfg.period])
    prev, cur = f.iloc[0], f.iloc[1]
    n_min = int(cfg.definitions.min_sample_size)
    days, days_prev = cfg.period.days, cfg.period.previous().days

    def z(v):
        return 0.0 if v is None or pd.isna(v) else float(v)

    out = [
        compare.count("orders", z(cur.orders), days, z(prev.orders), days_prev, min_n=n_min),
        compare.value("revenue", cur.revenue if cur.orders else None, prev.revenue if prev.orders else None),
        compare.mean("aov", cur.aov, z(cur.aov_sd), z(cur.orders), prev.aov, z(prev.aov_sd), z(prev.orders),
                     min_n=n_min),
        compare.rate("conversion_rate", z(cur.converted), z(cur.cohort), z(prev.converted), z(prev.cohort),
                     min_n=n_min),
    ]
    if facts.has_payment_status(ds):
        out.append(compare.rate("payment_success_rate", z(cur.paid_attempts), z(cur.paid_attempts + cur.failed_attempts),
                                z(prev.paid_attempts), z(prev.paid_attempts + prev.failed_attempts), min_n=n_min))
    else:
        out.append(compare.value("payment_success_rate", None, None))
    if "discount_code" in ds.table("orders").columns:
        out.append(compare.rate("discount_order_share", z(cur.discount_orders), z(cur.orders),
                                z(prev.discount_orders), z(prev.orders), min_n=n_min, higher_is_better=None))
    else:
        out.append(compare.value("discount_order_share", None, None, higher_is_better=None))
    out += [
        compare.value("repeat_revenue_share", cur.repeat_revenue_share, prev.repeat_revenue_share,
                      higher_is_better=None),
        compare.value("median_days_to_first_purchase", cur.median_days_to_first_purchase,
                      prev.median_days_to_first_purchase, higher_is_better=False),
    ]
    if not pd.isna(cur.trials) or not pd.isna(prev.trials):
        out.append(compare.rate("trial_to_paid_rate", z(cur.trials_converted), z(cur.trials),
                                z(prev.trials_converted), z(prev.trials), min_n=n_min))
    return out


def monthly(ds, cfg) -> pd.DataFrame:
    """One row per month of the trend window (``definitions.trend_periods``
    months ending with the period): column ``month`` and a column per KPI
    (same definitions as :func:`period_values`), plus the counts behind them."""
    f = month_values(ds, trailing_months(cfg)).reset_index()
    return month_frame(cfg).merge(f, on="month", how="left")


def metrics(ds, cfg) -> dict:
    """The stable ``metrics.json`` keys of the section (:data:`STABLE_KEYS`,
    each with ``_prev``; ``None`` when not computable), plus
    ``trial_to_paid_rate`` / ``_prev`` (``None`` without trials) and
    ``conversion_cohort`` / ``_prev`` (the conversion denominators)."""
    ch = {c.key: c for c in changes(ds, cfg)}
    out: dict = {}
    for k in (*STABLE_KEYS, "trial_to_paid_rate"):
        c = ch.get(k)
        out[k] = c.value if c else None
        out[f"{k}_prev"] = c.prev if c else None
    conv = ch["conversion_rate"]
    out["conversion_cohort"] = conv.n
    out["conversion_cohort_prev"] = conv.n_prev
    return out


# --------------------------------------------------------------------------
# Breakdowns (period only), small groups folded
# --------------------------------------------------------------------------

def _fold(df: pd.DataFrame, group: str, size: str, cfg, sum_columns: list[str]) -> pd.DataFrame:
    """Fold groups with fewer than ``min_group_size`` ``size`` or fewer than
    ``k_anonymity`` customers into "other"; an "other" row still under
    ``k_anonymity`` customers (summed per group, an upper bound) is dropped."""
    if df.empty:
        return df
    k = int(cfg.definitions.k_anonymity)
    d = df.copy()
    d["_size"] = np.where(d["customers"] >= k, d[size], 0)
    other = i18n.t("other_group", cfg.language)
    out = compare.fold_small(d, group, "_size", int(cfg.definitions.min_group_size), other=other,
                             sum_columns=[*sum_columns, "customers", "_size"])
    out = out[~((out[group] == other) & (out["customers"] < k))]
    return out.drop(columns="_size").reset_index(drop=True)


def _group_col(t, col: str, cfg):
    return t[col].cast("string").strip().fill_null(i18n.t("purchase_unknown", cfg.language))


def by_device(ds, cfg, since=None) -> pd.DataFrame | None:
    """Per ``device`` in the period (or from the date ``since`` to the period end): ``attempts`` (paid + failed payment
    attempts), ``failed``, ``failure_rate`` (failed / attempts, 0–1; ``None``
    without payment status), ``orders``, ``revenue``, ``aov`` (revenue per
    order), ``customers`` (distinct, for suppression). Small groups folded
    into "other". ``None`` without a device column."""
    t = facts.attempts(ds)
    if "device" not in t.columns:
        return None
    t = in_window(t, "ordered_at", since or cfg.period.start, cfg.period.end)
    t = t.mutate(group=_group_col(t, "device", cfg))
    df = t.group_by("group").aggregate(
        attempts=t.count(where=(t._paid & t._status_known) | t._failed), failed=t.count(where=t._failed),
        orders=t.count(where=t._paid), revenue=t.amount.sum(where=t._paid),
        customers=t.customer_id.nunique(),
    ).execute()
    df["revenue"] = df["revenue"].fillna(0.0)
    df = _fold(df, "group", "orders", cfg, ["attempts", "failed", "orders", "revenue"])
    df["failure_rate"] = [compare.safe_div(f, a) if facts.has_payment_status(ds) else None
                          for f, a in zip(df["failed"], df["attempts"])]
    df["aov"] = [compare.safe_div(r, n) for r, n in zip(df["revenue"], df["orders"])]
    return df.rename(columns={"group": "device"})


def by_channel(ds, cfg) -> pd.DataFrame | None:
    """Per order ``channel`` in the period: ``orders``, ``revenue``,
    ``revenue_share`` (of the period's revenue, 0–1), ``aov``, ``customers``.
    Small groups folded into "other". ``None`` without a channel column."""
    p = facts.paid_orders(ds)
    if "channel" not in p.columns:
        return None
    p = in_window(p, "ordered_at", cfg.period.start, cfg.period.end)
    p = p.mutate(group=_group_col(p, "channel", cfg))
    df = p.group_by("group").aggregate(orders=p.count(), revenue=p.amount.sum(),
                                       customers=p.customer_id.nunique()).execute()
    df = _fold(df, "group", "orders", cfg, ["orders", "revenue"])
    total = df["revenue"].sum()
    df["revenue_share"] = [compare.safe_div(r, total) for r in df["revenue"]]
    df["aov"] = [compare.safe_div(r, n) for r, n in zip(df["revenue"], df["orders"])]
    return df.rename(columns={"group": "channel"})


def discount_split(ds, cfg) -> pd.DataFrame | None:
    """Orders of the period with and without a discount code: rows
    ``with_code`` and ``without_code``; ``orders``, ``order_share`` (0–1),
    ``revenue``, ``aov``. ``None`` without a discount-code column."""
    p = facts.paid_orders(ds)
    if "discount_code" not in p.columns:
        return None
    p = in_window(p, "ordered_at", cfg.period.start, cfg.period.end)
    df = p.group_by(with_code=p._code.notnull()).aggregate(orders=p.count(), revenue=p.amount.sum()).execute()
    rows = []
    for flag, name in ((True, "with_code"), (False, "without_code")):
        r = df[df["with_code"] == flag]
        n = float(r["orders"].sum()) if len(r) else 0.0
        rev = float(r["revenue"].sum()) if len(r) else 0.0
        rows.append({"group": name, "orders": n, "revenue": rev, "aov": compare.safe_div(rev, n)})
    out = pd.DataFrame(rows)
    total = out["orders"].sum()
    out["order_share"] = [compare.safe_div(n, total) for n in out["orders"]]
    return out


def discount_codes(ds, cfg, since=None) -> pd.DataFrame | None:
    """Per discount code used in the period (or from the date ``since`` to the period end): ``orders``, ``order_share`` (of
    all the period's orders, 0–1), ``first_orders`` and
    ``first_order_share`` (of the period's first orders that used this code,
    0–1), ``aov``, ``customers``. Small groups folded into "other". ``None``
    without a discount-code column; empty when no code was used."""
    p = facts.paid_orders(ds)
    if "discount_code" not in p.columns:
        return None
    p = in_window(p, "ordered_at", since or cfg.period.start, cfg.period.end)
    tot = p.aggregate(orders=p.count(), first=p.count(where=p._seq == 0)).execute().iloc[0]
    c = p.filter(p._code.notnull())
    df = c.group_by(group=c._code).aggregate(orders=c.count(), first_orders=c.count(where=c._seq == 0),
                                             revenue=c.amount.sum(), customers=c.customer_id.nunique()).execute()
    df = _fold(df, "group", "orders", cfg, ["orders", "first_orders", "revenue"])
    df["order_share"] = [compare.safe_div(n, tot["orders"]) for n in df["orders"]]
    df["first_order_share"] = [compare.safe_div(n, tot["first"]) for n in df["first_orders"]]
    df["aov"] = [compare.safe_div(r, n) for r, n in zip(df["revenue"], df["orders"])]
    return df.rename(columns={"group": "code"})


def new_vs_repeat(ds, cfg) -> pd.DataFrame:
    """Orders of the period split into ``first`` (the customer's first
    order) and ``repeat`` (every later one): ``orders``, ``revenue``,
    ``revenue_share`` (0–1), ``aov``."""
    p = in_window(facts.paid_orders(ds), "ordered_at", cfg.period.start, cfg.period.end)
    df = p.group_by(repeat=p._seq > 0).aggregate(orders=p.count(), revenue=p.amount.sum()).execute()
    rows = []
    for flag, name in ((False, "first"), (True, "repeat")):
        r = df[df["repeat"] == flag]
        n = float(r["orders"].sum()) if len(r) else 0.0
        rev = float(r["revenue"].sum()) if len(r) else 0.0
        rows.append({"group": name, "orders": n, "revenue": rev, "aov": compare.safe_div(rev, n)})
    out = pd.DataFrame(rows)
    total = out["revenue"].sum()
    out["revenue_share"] = [compare.safe_div(r, total) for r in out["revenue"]]
    return out


def first_purchase_days(ds, cfg, since=None) -> pd.Series:
    """Days from signup to first order (≥ 0, fractional), one value per
    customer whose first order was placed in the period (or from the date
    ``since`` to the period end): a small result, one number per new buyer."""
    p = facts.paid_orders(ds)
    f = in_window(p.filter(p._seq == 0), "ordered_at", since or cfg.period.start, cfg.period.end)
    cu = ds.table("customers").select("customer_id", "signup_at")
    j = f.inner_join(cu, f.customer_id == cu.customer_id)
    days = ((j.ordered_at.epoch_seconds() - j.signup_at.epoch_seconds()) / 86400.0)
    return j.select(days=ibis.greatest(days, 0.0)).execute()["days"].astype(float)


def days_to_first_purchase(ds, cfg) -> pd.DataFrame:
    """Distribution of days from signup to first order, over the customers
    whose first order was placed in the period: one row per bucket of
    :data:`DAY_BUCKETS` (``bucket`` text key, ``customers``, ``share`` 0–1)."""
    d = first_purchase_days(ds, cfg)
    rows = [{"bucket": key, "customers": float(((d >= lo) & (d < hi)).sum())} for lo, hi, key in DAY_BUCKETS]
    out = pd.DataFrame(rows)
    total = out["customers"].sum()
    out["share"] = [compare.safe_div(n, total) for n in out["customers"]]
    return out


# --------------------------------------------------------------------------
# Generated text
# --------------------------------------------------------------------------

def _money(x, cfg) -> str:
    return report.fmt_money(x, cfg.currency)


def insights(ds, cfg, values: dict | None = None) -> list[str]:
    """Sentences about this period's purchase behaviour, in the client's
    language: the conversion cohort (which customers, how many converted),
    time to first purchase, the device where payments fail most against
    the one where they fail least (when each has ``min_sample_size``
    attempts), discount use and AOV with / without a code, the most used
    code on first orders, the repeat share of revenue, the top revenue
    channel, and a caveat when ``customers`` was derived."""
    lang = cfg.language
    per = cfg.period.label(lang)
    W = _window_days(ds)
    v = values if values is not None else period_values(ds, cfg.period)
    out: list[str] = []
    derived = _customers_derived(ds)
    if derived:
        out.append(i18n.t("purchase_derived_customers", lang))
    if not v["orders"]:
        out.append(i18n.t("purchase_no_orders", lang, period=per))
    # conversion cohort
    if derived:
        pass
    elif v["cohort"]:
        first = cfg.period.start - pd.Timedelta(days=W)
        last = cfg.period.end - pd.Timedelta(days=W + 1)
        out.append(i18n.t("purchase_cohort_sentence", lang, n=report.fmt_int(v["cohort"]),
                          first=report.fmt_date(first), last=report.fmt_date(last), days=W, period=per,
                          x=report.fmt_int(v["converted"]), rate=report.fmt_pct(v["conversion_rate"])))
    else:
        out.append(i18n.t("purchase_cohort_empty", lang, days=W, period=per))
    # time to first purchase
    d = first_purchase_days(ds, cfg)
    if len(d) and not derived:
        out.append(i18n.t("purchase_days_sentence", lang, n=report.fmt_int(len(d)), period=per,
                          median=report.fmt_num(v["median_days_to_first_purchase"]),
                          within=report.fmt_pct(float((d < W).mean())), days=W))
    # payments by device
    dev = by_device(ds, cfg)
    if dev is not None and facts.has_payment_status(ds):
        ok = dev[(dev["attempts"] >= int(cfg.definitions.min_sample_size))
                 & (dev["device"] != i18n.t("other_group", lang))].dropna(subset=["failure_rate"])
        if len(ok) >= 2:
            ok = ok.sort_values(["failure_rate", "device"])
            best, worst = ok.iloc[0], ok.iloc[-1]
            if worst["failure_rate"] > best["failure_rate"]:
                out.append(i18n.t("purchase_device_gap", lang, worst=worst["device"], best=best["device"],
                                  worst_rate=report.fmt_pct(worst["failure_rate"]),
                                  best_rate=report.fmt_pct(best["failure_rate"])))
    # discounts
    split = discount_split(ds, cfg)
    if split is not None and v["orders"]:
        w, wo = split.iloc[0], split.iloc[1]
        out.append(i18n.t("purchase_discount_sentence", lang, share=report.fmt_pct(w["order_share"]),
                          aov_with=_money(w["aov"], cfg), aov_without=_money(wo["aov"], cfg)))
        codes = discount_codes(ds, cfg)
        codes = codes[codes["code"] != i18n.t("other_group", lang)] if codes is not None else None
        if codes is not None and len(codes) and codes["first_orders"].max() > 0:
            top = codes.sort_values(["first_orders", "code"], ascending=[False, True]).iloc[0]
            out.append(i18n.t("purchase_first_code_sentence", lang, code=top["code"],
                              share=report.fmt_pct(top["first_order_share"])))
    # repeat revenue
    if v["revenue"]:
        out.append(i18n.t("purchase_repeat_sentence", lang, share=report.fmt_pct(v["repeat_revenue_share"]),
                          repeat=_money(v["repeat_revenue"], cfg), total=_money(v["revenue"], cfg)))
    # top channel
    chan = by_channel(ds, cfg)
    if chan is not None and len(chan):
        named = chan[chan["channel"] != i18n.t("other_group", lang)]
        if len(named):
            top = named.sort_values(["revenue", "channel"], ascending=[False, True]).iloc[0]
            out.append(i18n.t("purchase_channel_top", lang, channel=top["channel"],
                              share=report.fmt_pct(top["revenue_share"])))
    return out


def next_steps(ds, cfg, chs: list[compare.Change] | None = None) -> list[str]:
    """"What to look at next": sentences generated from this period's data,
    most urgent first. Rules (each fires independently):

    1. a device with ``min_sample_size`` attempts whose payment failure
       rate is above 5% and more than twice the overall rate;
    2. first-purchase conversion fell significantly, or (otherwise) is
       below 50% on a cohort of ``min_sample_size``;
    3. AOV fell significantly;
    4. orders with a code are at least 10% smaller than orders without one
       (both with ``min_sample_size`` orders);
    5. repeat orders bring under 30% of revenue (with ``min_sample_size``
       orders);
    6. trial → paid conversion under 50% (with ``min_sample_size`` trials).

    When none fires, one sentence says nothing stands out.
    """
    lang = cfg.language
    n_min = int(cfg.definitions.min_sample_size)
    W = _window_days(ds)
    chs = chs if chs is not None else changes(ds, cfg)
    ch = {c.key: c for c in chs}
    out: list[str] = []
    dev = by_device(ds, cfg)
    if dev is not None and facts.has_payment_status(ds) and dev["attempts"].sum():
        overall = dev["failed"].sum() / dev["attempts"].sum()
        bad = dev[(dev["attempts"] >= n_min) & (dev["failure_rate"] > 0.05) & (dev["failure_rate"] > 2 * overall)
                  & (dev["device"] != i18n.t("other_group", lang))]
        for _, r in bad.sort_values(["failure_rate", "device"], ascending=[False, True]).iterrows():
            out.append(i18n.t("purchase_next_device", lang, device=r["device"], rate=report.fmt_pct(r["failure_rate"]),
                              overall=report.fmt_pct(overall), failed=report.fmt_int(r["failed"])))
    conv = ch["conversion_rate"]
    if conv.significant and conv.direction == "down":
        out.append(i18n.t("purchase_next_conversion_down", lang, days=W, delta=report.fmt_delta(conv, "pct", cfg)))
    elif conv.value is not None and conv.n and conv.n >= n_min and conv.value < 0.5:
        out.append(i18n.t("purchase_next_low_conversion", lang, days=W, rate=report.fmt_pct(conv.value)))
    aov = ch["aov"]
    if aov.significant and aov.direction == "down":
        out.append(i18n.t("purchase_next_aov_down", lang, delta=report.fmt_delta(aov, "money", cfg)))
    split = discount_split(ds, cfg)
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
    if not out:
        out.append(i18n.t("purchase_next_nothing", lang))
    return out


# --------------------------------------------------------------------------
# Views for the notebook
# --------------------------------------------------------------------------

def kpi_view(ds, cfg, chs: list[compare.Change] | None = None):
    """The period-over-period KPI table (KPIs that cannot be computed for
    this client are left out of the table; they are ``null`` in metrics)."""
    chs = chs if chs is not None else changes(ds, cfg)
    return report.kpi_table(chs, labels(cfg), KINDS, cfg)


def changes_view(ds, cfg, chs: list[compare.Change] | None = None):
    """The generated sentences about what changed since the comparison period."""
    chs = chs if chs is not None else changes(ds, cfg)
    return report.Narrative(report.describe_changes(chs, labels(cfg), KINDS, cfg))


def insights_view(ds, cfg):
    """:func:`insights` as a paragraph list."""
    return report.Narrative(insights(ds, cfg))


def next_steps_view(ds, cfg):
    """:func:`next_steps` as a paragraph list."""
    return report.Narrative(next_steps(ds, cfg))


def trend_chart(ds, cfg):
    """Small multiples of the main KPIs over the trend window (KPIs with no
    value in any month are left out)."""
    df = monthly(ds, cfg)
    lab = labels(cfg)
    panels = [(k, lab[k], KINDS[k] if KINDS[k] != "money" else "money")
              for k in ("orders", "revenue", "aov", "conversion_rate", "payment_success_rate", "repeat_revenue_share")
              if df[k].notna().any()]
    fig = plots.trends(df, panels, title=i18n.t("purchase_chart_trend", cfg.language, n=len(df)))
    # rates that move within a few points (payment success ≈ 95–97%) need a
    # decimal on the axis, or neighbouring ticks read the same
    from matplotlib.ticker import FuncFormatter

    for ax, (_, _, kind) in zip(fig.axes, panels):
        lo, hi = ax.get_ylim()
        if kind == "pct" and hi - lo < 0.05:
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v * 100:.1f}%"))
    return fig


def _view(df: pd.DataFrame, cfg, columns: dict[str, tuple[str, str]]):
    lang = cfg.language
    out = df[list(columns)].copy()
    lab = {c: i18n.t(key, lang) for c, (key, _) in columns.items()}
    return report.table(out.rename(columns=lab), cfg, {lab[c]: kind for c, (_, kind) in columns.items()})


def device_view(ds, cfg):
    """Payments, orders and revenue by device (a table), or a note."""
    df = by_device(ds, cfg)
    if df is None:
        return report.Note(i18n.t("purchase_no_device", cfg.language))
    cols = {"device": ("purchase_col_device", "text")}
    if facts.has_payment_status(ds):
        cols |= {"attempts": ("purchase_col_attempts", "int"), "failed": ("purchase_col_failed", "int"),
                 "failure_rate": ("purchase_col_failure_rate", "pct")}
    cols |= {"orders": ("purchase_col_orders", "int"), "revenue": ("purchase_col_revenue", "money"),
             "aov": ("purchase_col_aov", "money")}
    return _view(df, cfg, cols)


def device_failure_chart(ds, cfg):
    """Bar chart of payment failure rate by device, or a note when the
    export has no device or no payment status."""
    df = by_device(ds, cfg)
    if df is None:
        return report.Note(i18n.t("purchase_no_device", cfg.language))
    if not facts.has_payment_status(ds):
        return report.Note(i18n.t("purchase_no_status", cfg.language))
    return plots.bars(df, "device", "failure_rate",
                      i18n.t("purchase_chart_failure", cfg.language, period=cfg.period.label(cfg.language)), kind="pct")


def channel_view(ds, cfg):
    """Orders and revenue by order channel (a table), or a note."""
    df = by_channel(ds, cfg)
    if df is None:
        return report.Note(i18n.t("purchase_no_channel", cfg.language))
    return _view(df, cfg, {"channel": ("purchase_col_channel", "text"), "orders": ("purchase_col_orders", "int"),
                           "revenue": ("purchase_col_revenue", "money"),
                           "revenue_share": ("purchase_col_revenue_share", "pct"), "aov": ("purchase_col_aov", "money")})


def discount_view(ds, cfg):
    """Orders with and without a discount code (a table), or a note."""
    df = discount_split(ds, cfg)
    if df is None:
        return report.Note(i18n.t("purchase_no_discount", cfg.language))
    df = df.assign(group=[i18n.t(f"purchase_{g}", cfg.language) for g in df["group"]])
    return _view(df, cfg, {"group": ("purchase_col_order_type", "text"), "orders": ("purchase_col_orders", "int"),
                           "order_share": ("purchase_col_order_share", "pct"),
                           "revenue": ("purchase_col_revenue", "money"), "aov": ("purchase_col_aov", "money")})


def discount_codes_view(ds, cfg):
    """Orders by discount code (a table), or a note when there is no code column."""
    df = discount_codes(ds, cfg)
    if df is None:
        return report.Note(i18n.t("purchase_no_discount", cfg.language))
    return _view(df, cfg, {"code": ("purchase_col_code", "text"), "orders": ("purchase_col_orders", "int"),
                           "order_share": ("purchase_col_order_share", "pct"),
                           "first_order_share": ("purchase_col_first_order_share", "pct"),
                           "aov": ("purchase_col_aov", "money")})


def new_vs_repeat_view(ds, cfg):
    """First and repeat orders of the period (a table)."""
    df = new_vs_repeat(ds, cfg)
    df = df.assign(group=[i18n.t("purchase_first_orders" if g == "first" else "purchase_repeat_orders", cfg.language)
                          for g in df["group"]])
    return _view(df, cfg, {"group": ("purchase_col_order_type", "text"), "orders": ("purchase_col_orders", "int"),
                           "revenue": ("purchase_col_revenue", "money"),
                           "revenue_share": ("purchase_col_revenue_share", "pct"), "aov": ("purchase_col_aov", "money")})


def days_chart(ds, cfg):
    """Bar chart of the time from signup to first purchase (share of the
    period's first purchases per bucket), or a note when there were none."""
    lang = cfg.language
    if _customers_derived(ds):
        return report.Note(i18n.t("purchase_derived_customers", lang))
    df = days_to_first_purchase(ds, cfg)
    if not df["customers"].sum():
        return report.Note(i18n.t("purchase_no_first", lang, period=cfg.period.label(lang)))
    df = df.assign(bucket=[i18n.t(f"purchase_{b}", lang) for b in df["bucket"]])
    fig = plots.bars(df, "bucket", "share", i18n.t("purchase_chart_days", lang, period=cfg.period.label(lang)),
                     kind="pct", horizontal=False)
    ax = fig.axes[0]
    ax.set_ylabel(i18n.t("purchase_axis_share_first", lang))
    ax.set_xlabel(i18n.t("purchase_col_days", lang))
    return fig


def trial_view(ds, cfg):
    """A sentence on trial → paid conversion, or a note when the client has
    no subscriptions or no trials."""
    lang = cfg.language
    if not ds.has("subscriptions"):
        return report.Note(i18n.t("purchase_no_subscriptions", lang))
    if not has_trials(ds):
        return report.Note(i18n.t("purchase_no_trials", lang))
    v, prev = period_values(ds, cfg.period), period_values(ds, cfg.period.previous())
    per = cfg.period.label(lang)
    if not v["trials"]:
        return report.Note(i18n.t("purchase_trial_none", lang, period=per))
    return report.Note(i18n.t("purchase_trial_sentence", lang, n=report.fmt_int(v["trials"]), period=per,
                              x=report.fmt_int(v["trials_converted"]), rate=report.fmt_pct(v["trial_to_paid_rate"]),
                              rate_prev=report.fmt_pct(prev["trial_to_paid_rate"])))


__all__ = ["STABLE_KEYS", "KINDS", "period_values",
           "changes", "monthly", "month_values", "metrics", "labels", "by_device", "by_channel", "discount_split", "discount_codes",
           "new_vs_repeat", "days_to_first_purchase", "first_purchase_days", "insights", "next_steps", "has_trials"]
