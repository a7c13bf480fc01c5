"""Retention: who stays, how often they come back, and who leaves.

Activity
    A customer is *active* at a moment when she has an event with her
    ``customer_id`` (any event type) or an order (any payment status: a
    failed payment is still a visit). Anonymous events (``visitor_id`` only)
    are not activity. A *purchase* is an order whose ``payment_status`` is
    missing or not a failure (:data:`FAILED_STATUSES`).

Everything works from ``orders`` alone or ``events`` alone; session length
and feature usage need ``events``, renewals and MRR churn need
``subscriptions``, tickets and CSAT need ``tickets`` (their metrics are
``null`` without them). Only rows before the period end are used, so a
past month re-runs identically.

Months are calendar months in the client's local time. "Month *k* after
sign-up" is the calendar month *k* months after the sign-up month (month 0
is the sign-up month itself).

Lifecycle states (PostHog's vocabulary, in this order) of a customer in a
month: **new** (active, and this is her first active month), **returning**
(active this month and the month before), **resurrecting** (active this
month, not the month before, but some earlier month), **dormant** (active
the month before, not this month; shown as a negative count).
"""

from __future__ import annotations

import datetime as dt
import math

import ibis
import matplotlib.pyplot as plt
import pandas as pd

from journeykit.stats import compare
from journeykit.core import i18n
from journeykit import report
from journeykit.core.periods import Period
from journeykit.data.query import in_window, trailing_months, ts
from journeykit.sections import registry
from journeykit import facts

SECTION = "40_retention"

LIFECYCLE_STATES = ("new", "returning", "resurrecting", "dormant")

STABLE_KEYS = registry.get("40_retention").stable_keys
"""The metrics.json keys of this section that are a stable interface (each also with ``_prev``)."""

# --------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------

i18n.register({
    "retention_active_customers": {"en": "Active customers ({days}-day window)", "ko": "활성 고객 ({days}일 기준)"},
    "retention_mau": {"en": "Monthly active customers", "ko": "월간 활성 고객(MAU)"},
    "retention_dau_mau": {"en": "Stickiness (DAU/MAU)", "ko": "고착도(DAU/MAU)"},
    "retention_month1_retention": {"en": "Month-1 retention", "ko": "1개월 차 유지율"},
    "retention_month3_retention": {"en": "Month-3 retention", "ko": "3개월 차 유지율"},
    "retention_repeat_purchase_rate": {"en": "Repeat-purchase rate", "ko": "재구매율"},
    "retention_churn_rate": {"en": "Churn rate", "ko": "이탈률"},
    "retention_renewal_rate": {"en": "Subscription renewal rate", "ko": "구독 갱신율"},
    "retention_mrr_churn": {"en": "MRR churn", "ko": "MRR 이탈률"},
    "retention_tickets_per_100_customers": {"en": "Tickets per 100 customers", "ko": "고객 100명당 문의"},
    "retention_csat": {"en": "CSAT (mean, 1–5)", "ko": "고객만족도(CSAT, 1–5 평균)"},
    "retention_session_minutes": {"en": "Session length (minutes)", "ko": "세션 길이(분)"},
    "retention_inter_purchase_days": {"en": "Days between purchases", "ko": "구매 간격(일)"},
    "retention_dau": {"en": "Daily active (average)", "ko": "일간 활성(평균)"},
    "retention_wau": {"en": "Weekly active (average)", "ko": "주간 활성(평균)"},
    "retention_needs": {"en": "Not available: needs table {table}.", "ko": "제공되지 않음: {table} 테이블이 필요합니다."},
    "retention_needs_column": {"en": "Not available: needs column {column} in table {table}.",
                               "ko": "제공되지 않음: {table} 테이블의 {column} 컬럼이 필요합니다."},
    "retention_no_data": {"en": "No data in this period.", "ko": "이 기간에는 데이터가 없습니다."},
    "retention_trend_title": {"en": "Retention over the last {n} months", "ko": "최근 {n}개월 유지 지표"},
    "retention_heatmap_activity": {"en": "Share of each sign-up cohort active, by month since sign-up",
                                   "ko": "가입 코호트별 활동 고객 비율 (가입 후 경과 월)"},
    "retention_heatmap_purchase": {"en": "Share of each sign-up cohort purchasing, by month since sign-up",
                                   "ko": "가입 코호트별 구매 고객 비율 (가입 후 경과 월)"},
    "retention_months_since": {"en": "Months since sign-up", "ko": "가입 후 경과 월"},
    "retention_cohort": {"en": "Sign-up month (customers)", "ko": "가입 월 (고객 수)"},
    "retention_state_new": {"en": "new", "ko": "신규"},
    "retention_state_returning": {"en": "returning", "ko": "유지"},
    "retention_state_resurrecting": {"en": "resurrecting", "ko": "복귀"},
    "retention_state_dormant": {"en": "dormant", "ko": "휴면"},
    "retention_lifecycle_title": {"en": "Active customers by lifecycle state", "ko": "생애주기 상태별 활성 고객"},
    "retention_customers_axis": {"en": "Customers", "ko": "고객 수"},
    "retention_col_month": {"en": "Month", "ko": "월"},
    "retention_lifecycle_sentence": {
        "en": "In {period}, {active} customers were active: {new} new, {returning} returning and {resurrecting} "
              "resurrecting; {dormant} customers active the month before were not ({net}).",
        "ko": "{period} 활성 고객은 {active}명입니다: 신규 {new}명, 유지 {returning}명, 복귀 {resurrecting}명. "
              "전월 활성 고객 중 {dormant}명은 활동하지 않았습니다 ({net}).",
    },
    "retention_net_up": {"en": "net +{n}", "ko": "순증 {n}명"},
    "retention_net_down": {"en": "net −{n}", "ko": "순감 {n}명"},
    "retention_net_flat": {"en": "no net change", "ko": "순변화 없음"},
    "retention_col_feature": {"en": "Feature", "ko": "기능"},
    "retention_col_uses": {"en": "Uses", "ko": "사용 횟수"},
    "retention_col_users": {"en": "Customers", "ko": "고객 수"},
    "retention_col_user_share": {"en": "Share of monthly active", "ko": "월간 활성 고객 대비"},
    "retention_col_channel": {"en": "Acquisition channel", "ko": "유입 채널"},
    "retention_col_base": {"en": "Active at period start", "ko": "기간 초 활성 고객"},
    "retention_col_churned": {"en": "Churned", "ko": "이탈"},
    "retention_col_churn_rate": {"en": "Churn rate", "ko": "이탈률"},
    "retention_col_category": {"en": "Category", "ko": "유형"},
    "retention_col_tickets": {"en": "Tickets", "ko": "문의 수"},
    "retention_col_per100": {"en": "Per 100 customers", "ko": "고객 100명당"},
    "retention_col_csat": {"en": "CSAT (mean)", "ko": "CSAT (평균)"},
    "retention_col_csat_n": {"en": "CSAT responses", "ko": "CSAT 응답 수"},
    "retention_col_measure": {"en": "Measure", "ko": "항목"},
    "retention_col_value": {"en": "Value", "ko": "값"},
    "retention_col_due": {"en": "Due for renewal", "ko": "갱신 대상"},
    "retention_col_renewed": {"en": "Renewed", "ko": "갱신"},
    "retention_col_mrr_start": {"en": "MRR at period start", "ko": "기간 초 MRR"},
    "retention_col_mrr_lost": {"en": "MRR lost", "ko": "이탈 MRR"},
    "retention_median_gap": {"en": "Median days between purchases", "ko": "구매 간격 중앙값(일)"},
    "retention_repeat_buyers": {"en": "Customers buying again in the period", "ko": "기간 중 재구매 고객"},
    "retention_next_channel": {
        "en": "Customers acquired through {group} churn most ({rate} vs {overall} overall): look at what they were promised at acquisition and how their first month went.",
        "ko": "{group} 채널로 유입된 고객의 이탈률이 가장 높습니다 (전체 {overall} 대비 {rate}). 유입 시 기대와 첫 달 경험을 점검해 보세요.",
    },
    "retention_next_ticket": {
        "en": "Support tickets about {group} have the lowest satisfaction (CSAT {csat} on {n} responses): review how they are handled.",
        "ko": "{group} 관련 문의의 만족도가 가장 낮습니다 (응답 {n}건, CSAT {csat}). 처리 과정을 점검해 보세요.",
    },
    "retention_next_month1": {
        "en": "Month-1 retention fell significantly ({prev} → {value}): check the newest customers' first weeks (onboarding, first order, delivery).",
        "ko": "1개월 차 유지율이 유의하게 하락했습니다 ({prev} → {value}). 최근 가입 고객의 첫 몇 주(온보딩, 첫 주문, 배송)를 점검해 보세요.",
    },
    "retention_next_churn": {
        "en": "Churn rose significantly ({prev} → {value}): the customer lists of 60_segmentation and the churn scores of 70_prediction show whom to win back.",
        "ko": "이탈률이 유의하게 상승했습니다 ({prev} → {value}). 60_segmentation의 고객 목록과 70_prediction의 이탈 점수로 재활성화 대상을 확인하세요.",
    },
    "retention_next_default": {
        "en": "No retention measure moved significantly and no group stands out: keep watching the cohort heatmap for the newest sign-up months.",
        "ko": "유의하게 변한 유지 지표나 두드러진 그룹이 없습니다. 최근 가입 코호트를 히트맵에서 계속 지켜보세요.",
    },
})


def _label(key: str, cfg) -> str:
    if key == "active_customers":
        return i18n.t("retention_active_customers", cfg.language, days=cfg.definitions.churn_inactivity_days)
    return i18n.t(f"retention_{key}", cfg.language)


KINDS = {"active_customers": "int", "mau": "int", "dau_mau": "pct", "month1_retention": "pct",
         "month3_retention": "pct", "repeat_purchase_rate": "pct", "churn_rate": "pct", "renewal_rate": "pct",
         "mrr_churn": "pct", "tickets_per_100_customers": "num", "csat": "num", "session_minutes": "num",
         "inter_purchase_days": "num"}
"""Display kind of each KPI (for :func:`journeykit.report.kpi_table`)."""


def labels(cfg) -> dict[str, str]:
    """KPI key → label in the client's language."""
    return {k: _label(k, cfg) for k in KINDS}


def needs_note(table: str, cfg) -> report.Note:
    """The short "not available: needs table X" note for an optional part."""
    return report.Note(i18n.t("retention_needs", cfg.language, table=i18n.table_name(table, cfg.language)), "warn")


# --------------------------------------------------------------------------
# Activity and purchases (Ibis tables on the engine)
# --------------------------------------------------------------------------

def _mi(col):
    """Month index (year × 12 + month − 1) of a timestamp column."""
    return col.year() * 12 + col.month() - 1


def _pmi(p: Period) -> int:
    return p.year * 12 + p.month - 1


def _period_of(mi: int) -> Period:
    return Period(mi // 12, mi % 12 + 1)


def _customer_months(ds, by: str = "activity"):
    a = facts.activity_days(ds, by)
    if a is None:
        return None
    return a.select("customer_id", mi=_mi(a.day)).distinct()


def _count(expr) -> int:
    v = expr.execute()
    return 0 if v is None or (isinstance(v, float) and math.isnan(v)) else int(v)


def _stats(expr_table, col: str) -> tuple[float | None, float | None, int]:
    """(mean, sample sd, n) of a column, computed on the engine."""
    df = expr_table.aggregate(m=expr_table[col].mean(), s=expr_table[col].std(how="sample"),
                              n=expr_table[col].count()).execute()
    r = df.iloc[0]
    n = int(r["n"] or 0)
    m = None if n == 0 or pd.isna(r["m"]) else float(r["m"])
    s = 0.0 if n < 2 or pd.isna(r["s"]) else float(r["s"])
    return m, s, n


# --------------------------------------------------------------------------
# KPIs of one period
# --------------------------------------------------------------------------

def active_customers(ds, period: Period) -> int | None:
    """Customers with any activity in the ``churn_inactivity_days`` days ending
    at the period end — the live customer base under the client's churn
    definition. Unit: customers. ``None`` without activity data."""
    a = facts.activity_days(ds)
    if a is None:
        return None
    w = ds.cfg.definitions.churn_inactivity_days
    return _count(in_window(a, "day", period.end - dt.timedelta(days=w), period.end).customer_id.nunique())


def mau(ds, period: Period) -> int | None:
    """Monthly active customers: distinct customers with activity in the
    calendar month (start ≤ t < end). Unit: customers."""
    a = facts.activity_days(ds)
    if a is None:
        return None
    return _count(in_window(a, "day", period.start, period.end).customer_id.nunique())


def stickiness(ds, period: Period) -> dict:
    """Daily, weekly and monthly active customers of the period.

    - ``dau``: distinct active customers per day, averaged over the days of
      the month (days without activity count as 0);
    - ``wau``: distinct customers active in the 7 days ending on each day of
      the month, averaged over the days;
    - ``mau``: distinct customers active in the month;
    - ``dau_mau`` (stickiness) = ``dau / mau``, 0–1. It equals the mean, over
      the month's active customers, of the share of the month's days on which
      each was active; ``sd`` and ``n`` are that per-customer share's standard
      deviation and count (for Welch's test).
    """
    out = {"dau": None, "wau": None, "mau": None, "dau_mau": None, "sd": 0.0, "n": 0}
    a = facts.activity_days(ds)
    if a is None:
        return out
    days = a.select("customer_id", "day")
    recent = in_window(days, "day", period.start - dt.timedelta(days=6), period.end)
    in_p = in_window(recent, "day", period.start, period.end)
    per_customer = in_p.group_by("customer_id").aggregate(share=in_p.day.count() / period.days)
    m, s, n = _stats(per_customer, "share")
    customer_days = _count(in_p.count())
    shifted = ibis.union(*[recent.mutate(day=recent.day + ibis.interval(days=k)) for k in range(7)], distinct=False)
    shifted = in_window(shifted, "day", period.start, period.end)
    weekly = shifted.group_by("day").aggregate(u=shifted.customer_id.nunique())
    wau_sum = _count(weekly.u.sum())
    out.update(dau=customer_days / period.days, wau=wau_sum / period.days, mau=n, dau_mau=m, sd=s, n=n)
    return out


def month_k_retention(ds, period: Period, k: int, by: str = "activity") -> tuple[int, int]:
    """Month-``k`` retention measured in ``period``.

    Denominator: customers who signed up in the month ``k`` months before
    the period (``customers.signup_at``). Numerator: those of them active
    (``by="activity"``) or purchasing (``by="purchase"``) in the period.
    Returns ``(retained, cohort size)``; the rate is their ratio, 0–1.
    """
    cohort_p = period.shift(-k)
    c = ds.table("customers")
    cohort = in_window(c, "signup_at", cohort_p.start, cohort_p.end).select(customer_id=c.customer_id.cast("string"))
    n = _count(cohort.count())
    a = facts.activity_days(ds, by)
    if a is None or n == 0:
        return 0, n
    act = in_window(a, "day", period.start, period.end).select("customer_id").distinct()
    x = _count(cohort.semi_join(act, "customer_id").count())
    return x, n


def repeat_purchase(ds, period: Period) -> tuple[int, int]:
    """Repeat-purchase rate of the period.

    Denominator: customers with at least one purchase in the period.
    Numerator: those of them with at least two purchases up to the period
    end (an earlier purchase, before or within the period). Rate 0–1.
    """
    p = facts.purchases(ds)
    if p is None:
        return 0, 0
    buyers = in_window(p, "at", period.start, period.end).select("customer_id").distinct()
    before = p.filter(p.at < ts(period.end))
    counts = before.group_by("customer_id").aggregate(k=before.at.count())
    b = buyers.join(counts, "customer_id")
    n = _count(b.count())
    x = _count(b.filter(b.k >= 2).count())
    return x, n


def churn_flags(ds, period: Period):
    """Per-customer churn flags of the period (an Ibis table
    ``customer_id, churned``) for the customers in the churn base; see
    :func:`churn`. ``None`` without activity data."""
    a = facts.activity_days(ds)
    if a is None:
        return None
    w = dt.timedelta(days=ds.cfg.definitions.churn_inactivity_days)
    base = in_window(a, "day", period.start - w, period.start).select("customer_id").distinct()
    still = in_window(a, "day", period.end - w, period.end).select("customer_id").distinct().mutate(seen=ibis.literal(1))
    j = base.left_join(still, "customer_id")
    return j.select(customer_id=base.customer_id, churned=j.seen.isnull())


def churn(ds, period: Period) -> tuple[int, int]:
    """Churn rate under the client's inactivity window ``W``
    (``definitions.churn_inactivity_days``).

    Denominator: customers active in the ``W`` days before the period start
    (the live base at the start). Numerator: those of them with no activity
    in the ``W`` days ending at the period end — their ``W``-day silence was
    completed during the period. Uses no data after the period end. Rate
    0–1, per month.
    """
    f = churn_flags(ds, period)
    if f is None:
        return 0, 0
    df = f.aggregate(n=f.count(), x=f.churned.cast("int64").sum()).execute().iloc[0]
    return int(df["x"] or 0), int(df["n"] or 0)


def _paid_subscriptions(ds):
    s = ds.table("subscriptions")
    if "plan" in s.columns:
        s = s.filter(s.plan.isnull() | (s.plan.lower() != "trial"))
    return s


def renewals(ds, period: Period, cycle_days: int | None = None) -> tuple[int, int]:
    """Subscription renewal rate of the period.

    A paid subscription (plan not ``trial``) is due for renewal on each
    ``started_at + k × cycle_days`` (k ≥ 1; ``cycle_days`` defaults to the
    client's ``definitions.subscription_renewal_days``). Denominator: renewal dates
    falling in the period of subscriptions still running at the start of
    that cycle (``ended_at`` missing or after the previous renewal date).
    Numerator: those not ended by the renewal date (``ended_at`` missing or
    after it; an end after the period end is not yet known and counts as
    renewed). Rate 0–1. ``(0, 0)`` without ``subscriptions``.
    """
    if not ds.has("subscriptions"):
        return 0, 0
    s = _paid_subscriptions(ds)
    cycle_days = cycle_days or ds.cfg.definitions.subscription_renewal_days
    c = cycle_days * 86400
    p0 = int(dt.datetime.combine(period.start, dt.time()).replace(tzinfo=dt.timezone.utc).timestamp())
    p1 = int(dt.datetime.combine(period.end, dt.time()).replace(tzinfo=dt.timezone.utc).timestamp())
    start = s.started_at.epoch_seconds()
    end = s.ended_at.epoch_seconds() if "ended_at" in s.columns else ibis.null("int64")
    k1 = ibis.greatest(ibis.literal(1), ((p0 - start) / c).ceil().cast("int64"))
    base = s.select(start=start, end=end, k1=k1)
    parts = [base.select(due=base.start + (base.k1 + j) * c, end=base.end) for j in (0, 1)]
    d = ibis.union(*parts, distinct=False)
    d = d.filter((d.due >= p0) & (d.due < p1) & (d.end.isnull() | (d.end > d.due - c)))
    r = d.aggregate(n=d.count(), x=(d.end.isnull() | (d.end > d.due)).cast("int64").sum()).execute().iloc[0]
    return int(r["x"] or 0), int(r["n"] or 0)


def mrr_churn(ds, period: Period) -> tuple[float, float]:
    """MRR churn of the period: MRR of paid subscriptions running at the
    period start that ended during the period, over the MRR of all paid
    subscriptions running at the period start. Returns ``(lost, start MRR)``
    in the client's currency per month; the rate is their ratio, 0–1."""
    if not ds.has("subscriptions"):
        return 0.0, 0.0
    s = _paid_subscriptions(ds)
    if "mrr" not in s.columns:
        return 0.0, 0.0
    st = ts(period.start)
    ended = s.ended_at if "ended_at" in s.columns else ibis.null("timestamp")
    s = s.mutate(_end=ended)
    running = s.filter((s.started_at < st) & (s._end.isnull() | (s._end >= st)))
    lost = running.filter(running._end.notnull() & (running._end < ts(period.end)))
    start_mrr = running.mrr.sum().execute()
    lost_mrr = lost.mrr.sum().execute()
    return float(0 if pd.isna(lost_mrr) else lost_mrr), float(0 if pd.isna(start_mrr) else start_mrr)


def tickets(ds, period: Period) -> tuple[int, int | None]:
    """Support tickets opened in the period and the customer base they are
    set against: ``(tickets, active customers)`` where active customers is
    :func:`active_customers`. Tickets per 100 customers = ``100 × tickets /
    active customers`` (per month). ``(0, None)`` without ``tickets``."""
    if not ds.has("tickets"):
        return 0, None
    t = in_window(ds.table("tickets"), "created_at", period.start, period.end)
    return _count(t.count()), active_customers(ds, period)


def _csat_tickets(ds, period: Period):
    t = ds.table("tickets")
    if "csat" not in t.columns:
        return None
    col = "resolved_at" if "resolved_at" in t.columns else "created_at"
    t = in_window(t, col, period.start, period.end)
    return t.filter(t.csat.notnull())


def csat(ds, period: Period) -> tuple[float | None, float, int]:
    """CSAT of the period: the mean score (1–5) of tickets resolved in the
    period that have a score (``created_at`` when the client sends no
    ``resolved_at``). Returns ``(mean, sample sd, responses)``; the mean is
    on the 1–5 scale, not a share."""
    if not ds.has("tickets"):
        return None, 0.0, 0
    t = _csat_tickets(ds, period)
    if t is None:
        return None, 0.0, 0
    return _stats(t.mutate(score=t.csat.cast("float64")), "score")


def session_length(ds, period: Period) -> tuple[float | None, float, int]:
    """Session length of customers' sessions that started in the period, in
    minutes: from the session's first event to the end of its last-ending
    event (event time + ``duration_s`` where known). Only events with a
    ``customer_id`` and a ``session_id``. Returns ``(mean, sd, sessions)``."""
    e = facts.customer_events(ds)
    if e is None or "session_id" not in e.columns:
        return None, 0.0, 0
    e = e.filter(e.session_id.notnull())
    dur = e.duration_s.fill_null(0) if "duration_s" in e.columns else ibis.literal(0.0)
    e = e.mutate(t0=e.occurred_at.epoch_seconds(), t1=e.occurred_at.epoch_seconds() + dur)
    s = e.group_by("session_id").aggregate(t0=e.t0.min(), t1=e.t1.max(), start=e.occurred_at.min())
    s = in_window(s, "start", period.start, period.end)
    return _stats(s.mutate(minutes=(s.t1 - s.t0) / 60.0), "minutes")


def inter_purchase(ds, period: Period) -> dict:
    """Days between consecutive purchases of a customer, for purchases made
    in the period that are not the customer's first (days from her previous
    purchase, fractional). Returns ``mean``, ``sd``, ``n`` (purchases) and
    ``median``."""
    p = facts.purchases(ds)
    out = {"mean": None, "sd": 0.0, "n": 0, "median": None}
    if p is None:
        return out
    w = ibis.window(group_by="customer_id", order_by="at")
    g = p.mutate(prev=p.at.lag().over(w))
    g = in_window(g.filter(g.prev.notnull()), "at", period.start, period.end)
    g = g.mutate(days=(g.at.epoch_seconds() - g.prev.epoch_seconds()) / 86400.0)
    m, s, n = _stats(g, "days")
    med = g.days.median().execute() if n else None
    out.update(mean=m, sd=s, n=n, median=None if med is None or pd.isna(med) else float(med))
    return out


def period_values(ds, period: Period) -> dict:
    """Every retention KPI of one month, with the counts behind each (for
    the tests of :func:`changes`). Rates are 0–1, ``None`` when their
    denominator is 0 or their table is missing."""
    st = stickiness(ds, period)
    r1 = month_k_retention(ds, period, 1)
    r3 = month_k_retention(ds, period, 3)
    rp = repeat_purchase(ds, period)
    ch = churn(ds, period)
    rn = renewals(ds, period)
    mr = mrr_churn(ds, period)
    tk = tickets(ds, period)
    cs = csat(ds, period)
    sl = session_length(ds, period)
    ip = inter_purchase(ds, period)
    return {
        "active_customers": active_customers(ds, period),
        "mau": st["mau"], "dau": st["dau"], "wau": st["wau"],
        "dau_mau": st["dau_mau"], "dau_mau_sd": st["sd"], "dau_mau_n": st["n"],
        "month1_retention": compare.safe_div(*r1), "month1": r1,
        "month3_retention": compare.safe_div(*r3), "month3": r3,
        "repeat_purchase_rate": compare.safe_div(*rp), "repeat": rp,
        "churn_rate": compare.safe_div(*ch), "churn": ch,
        "renewal_rate": compare.safe_div(*rn) if ds.has("subscriptions") else None, "renewal": rn,
        "mrr_churn": compare.safe_div(*mr) if ds.has("subscriptions") else None, "mrr": mr,
        "tickets": tk[0] if ds.has("tickets") else None, "ticket_customers": tk[1],
        "tickets_per_100_customers": (100 * compare.safe_div(tk[0], tk[1])
                                      if ds.has("tickets") and tk[1] else None),
        "csat": cs[0], "csat_sd": cs[1], "csat_n": cs[2],
        "session_minutes": sl[0], "session_sd": sl[1], "session_n": sl[2],
        "inter_purchase_days": ip["mean"], "inter_purchase_sd": ip["sd"], "inter_purchase_n": ip["n"],
        "inter_purchase_median": ip["median"],
    }


# --------------------------------------------------------------------------
# Period over period
# --------------------------------------------------------------------------

def _per100(key: str, tk: int | None, cust: int | None, tk0: int | None, cust0: int | None, min_n: int):
    """Tickets per 100 customers, tested as two Poisson rates with the
    customer bases as exposure."""
    if tk is None or not cust or not cust0:
        return compare.value(key, None if tk is None or not cust else 100 * tk / cust,
                             None if tk0 is None or not cust0 else 100 * tk0 / cust0, higher_is_better=False)
    c = compare.count(key, tk, cust, tk0, cust0, min_n=min_n, higher_is_better=False)
    import dataclasses

    return dataclasses.replace(c, value=100 * tk / cust, prev=100 * tk0 / cust0, kind="count",
                               test="Poisson rate test (per customer)", n=float(cust), n_prev=float(cust0))


def changes_from(v: dict, v0: dict, cfg) -> list[compare.Change]:
    """The period-over-period changes from two :func:`period_values` dicts."""
    n = cfg.definitions.min_sample_size
    days, days0 = cfg.period.days, cfg.period.previous().days
    out = [
        compare.count("active_customers", v["active_customers"] or 0, days, v0["active_customers"] or 0, days0,
                      min_n=n) if v["active_customers"] is not None else compare.value("active_customers", None, None),
        compare.count("mau", v["mau"] or 0, days, v0["mau"] or 0, days0, min_n=n)
        if v["mau"] is not None else compare.value("mau", None, None),
        compare.mean("dau_mau", v["dau_mau"], v["dau_mau_sd"], v["dau_mau_n"], v0["dau_mau"], v0["dau_mau_sd"],
                     v0["dau_mau_n"], min_n=n),
        compare.rate("month1_retention", *v["month1"], *v0["month1"], min_n=n),
        compare.rate("month3_retention", *v["month3"], *v0["month3"], min_n=n),
        compare.rate("repeat_purchase_rate", *v["repeat"], *v0["repeat"], min_n=n),
        compare.rate("churn_rate", *v["churn"], *v0["churn"], min_n=n, higher_is_better=False),
    ]
    if v["renewal_rate"] is not None or v0["renewal_rate"] is not None:
        out.append(compare.rate("renewal_rate", *v["renewal"], *v0["renewal"], min_n=n))
        out.append(compare.value("mrr_churn", v["mrr_churn"], v0["mrr_churn"], higher_is_better=False))
    else:
        out += [compare.value("renewal_rate", None, None), compare.value("mrr_churn", None, None)]
    out.append(_per100("tickets_per_100_customers", v["tickets"], v["ticket_customers"], v0["tickets"],
                       v0["ticket_customers"], n))
    out.append(compare.mean("csat", v["csat"], v["csat_sd"], v["csat_n"], v0["csat"], v0["csat_sd"], v0["csat_n"],
                            min_n=n))
    out.append(compare.mean("session_minutes", v["session_minutes"], v["session_sd"], v["session_n"],
                            v0["session_minutes"], v0["session_sd"], v0["session_n"], min_n=n, higher_is_better=None))
    out.append(compare.mean("inter_purchase_days", v["inter_purchase_days"], v["inter_purchase_sd"],
                            v["inter_purchase_n"], v0["inter_purchase_days"], v0["inter_purchase_sd"],
                            v0["inter_purchase_n"], min_n=n, higher_is_better=False))
    return out


def changes(ds, cfg) -> list[compare.Change]:
    """Every retention KPI, this period against the comparison period, with
    its test (counts: Poisson rate per day; rates: two-proportion z-test;
    means: Welch; tickets per 100 customers: Poisson rate per customer; MRR
    churn: untested ratio of totals)."""
    return changes_from(period_values(ds, cfg.period), period_values(ds, cfg.period.previous()), cfg)


def shown(chs: list[compare.Change]) -> list[compare.Change]:
    """The changes worth a row: those with a value in either period."""
    return [c for c in chs if c.value is not None or c.prev is not None]


def kpi_table(chs, cfg) -> report.Table:
    """The KPI table of the section (KPIs with no value in either period are left out)."""
    return report.kpi_table(shown(chs), labels(cfg), KINDS, cfg)


def metrics(ds, cfg, chs: list[compare.Change] | None = None) -> dict:
    """The section's metrics.json: every key of :data:`STABLE_KEYS` and its
    ``_prev`` (``None`` when not computable), plus ``mrr_churn``,
    ``session_minutes`` and ``inter_purchase_days`` (with ``_prev``)."""
    chs = changes(ds, cfg) if chs is None else chs
    m = compare.to_metrics(*chs)
    out = {}
    for k in STABLE_KEYS + ("mrr_churn", "session_minutes", "inter_purchase_days"):
        out[k] = m.get(k)
        out[f"{k}_prev"] = m.get(f"{k}_prev")
    return out


# --------------------------------------------------------------------------
# Trend
# --------------------------------------------------------------------------

def monthly(ds, cfg) -> pd.DataFrame:
    """One row per month of the trend window: ``month``, ``mau``,
    ``dau_mau``, ``month1_retention``, ``churn_rate``,
    ``repeat_purchase_rate``, and where their tables exist
    ``renewal_rate``, ``tickets_per_100_customers``, ``csat`` — each as
    defined for one period (:func:`stickiness`, :func:`month_k_retention`,
    :func:`churn`, :func:`repeat_purchase`, :func:`renewals`,
    :func:`tickets`, :func:`csat`); grouped by month on the engine where
    the definition allows it."""
    months = trailing_months(cfg)
    lo, hi = _pmi(months[0]), _pmi(months[-1])
    frame = pd.DataFrame({"mi": range(lo, hi + 1)})
    frame["month"] = [pd.Timestamp(p.start) for p in months]
    frame["days"] = [p.days for p in months]
    start, end = months[0].start, months[-1].end

    def grouped(expr, cols):
        df = expr.execute()
        return frame[["mi"]].merge(df.astype({"mi": int}), on="mi", how="left")[cols].to_numpy().T \
            if not df.empty else [[float("nan")] * len(frame) for _ in cols]

    a = facts.activity_days(ds)
    if a is not None:
        d = in_window(a, "day", start, end).select("customer_id", "day")
        d = d.mutate(mi=_mi(d.day))
        mau_, cd = grouped(d.group_by("mi").aggregate(mau=d.customer_id.nunique(), cd=d.count()), ["mau", "cd"])
        frame["mau"] = mau_
        frame["dau_mau"] = [compare.safe_div(c, dd * m) if m == m and c == c else None
                            for c, dd, m in zip(cd, frame["days"], mau_)]
        cm = _customer_months(ds)
        c = ds.table("customers")
        c = c.select(customer_id=c.customer_id.cast("string"), cmi=_mi(c.signup_at))
        sizes = c.group_by("cmi").aggregate(n=c.count()).mutate(mi=lambda t: t.cmi + 1)
        kept = c.join(cm, "customer_id").filter(lambda t: t.mi == t.cmi + 1)
        kept = kept.group_by("mi").aggregate(x=kept.customer_id.nunique())
        x1, = grouped(kept, ["x"])
        n1, = grouped(sizes.select("mi", "n"), ["n"])
        frame["month1_retention"] = [compare.safe_div(0 if x != x else x, n) if n == n else None
                                     for x, n in zip(x1, n1)]
        frame["churn_rate"] = [compare.safe_div(*churn(ds, p)) for p in months]
    else:
        for col in ("mau", "dau_mau", "month1_retention", "churn_rate"):
            frame[col] = None
    pu = facts.purchases(ds)
    if pu is not None:
        w = ibis.window(group_by="customer_id", order_by="at")
        r = pu.mutate(rank=ibis.row_number().over(w) + 1)
        r = in_window(r, "at", start, end)
        per = r.group_by(["customer_id", r.at.year().name("y"), r.at.month().name("m")]).aggregate(top=r.rank.max())
        per = per.mutate(mi=per.y * 12 + per.m - 1)
        x, n = grouped(per.group_by("mi").aggregate(x=(per.top >= 2).cast("int64").sum(), n=per.count()), ["x", "n"])
        frame["repeat_purchase_rate"] = [compare.safe_div(a_, b_) if b_ == b_ else None for a_, b_ in zip(x, n)]
    else:
        frame["repeat_purchase_rate"] = None
    if ds.has("subscriptions"):
        frame["renewal_rate"] = [compare.safe_div(*renewals(ds, p)) for p in months]
    if ds.has("tickets"):
        t = in_window(ds.table("tickets"), "created_at", start, end)
        t = t.mutate(mi=_mi(t.created_at))
        tk, = grouped(t.group_by("mi").aggregate(k=t.count()), ["k"])
        base = [active_customers(ds, p) for p in months]
        frame["tickets_per_100_customers"] = [100 * (0 if k != k else k) / b if b else None for k, b in zip(tk, base)]
        cs = ds.table("tickets")
        if "csat" in cs.columns:
            col = "resolved_at" if "resolved_at" in cs.columns else "created_at"
            cs = in_window(cs, col, start, end)
            cs = cs.filter(cs.csat.notnull()).mutate(mi=_mi(cs[col]))
            m, = grouped(cs.group_by("mi").aggregate(m=cs.csat.cast("float64").mean()), ["m"])
            frame["csat"] = m
        else:
            frame["csat"] = None
    out = frame.drop(columns=["mi", "days"])
    for col in out.columns:
        if col != "month":
            out[col] = pd.to_numeric(out[col], errors="coerce").astype("float64")
    return out


def trend_chart(df: pd.DataFrame, cfg):
    """Small multiples of :func:`monthly`."""
    from journeykit.report import plots

    kinds = {"mau": "int", "tickets_per_100_customers": "num", "csat": "num"}
    panels = [(c, _label(c, cfg), kinds.get(c, "pct")) for c in
              ("mau", "dau_mau", "month1_retention", "churn_rate", "repeat_purchase_rate", "renewal_rate",
               "tickets_per_100_customers", "csat") if c in df.columns]
    fig = plots.trends(df, panels, title=i18n.t("retention_trend_title", cfg.language, n=len(df)))
    # plots.trends rounds "num" axes (12, 12, 13… / 3.2, 3.2, 3.3): show enough decimals here
    decimals = {_label("tickets_per_100_customers", cfg): 1, _label("csat", cfg): 2}
    for ax in fig.axes:
        if ax.get_title() in decimals:
            ax.yaxis.set_major_formatter(plt.FuncFormatter(
                lambda v, _, d=decimals[ax.get_title()]: f"{v:,.{d}f}"))
    return fig


# --------------------------------------------------------------------------
# Cohorts and lifecycle
# --------------------------------------------------------------------------

def cohort_matrix(ds, cfg, by: str = "activity", months: int | None = None) -> pd.DataFrame:
    """Cohort retention matrix: one row per sign-up month of the last
    ``months`` months (default ``trend_periods``), column ``size`` (customers
    who signed up that month) and columns ``0 … months−1``: the share of the
    cohort active (``by="activity"``) or purchasing (``by="purchase"``) in
    the k-th calendar month after sign-up, 0–1; ``NaN`` where that month is
    after the period."""
    months = months or cfg.definitions.trend_periods
    end_mi = _pmi(cfg.period)
    first_mi = end_mi - months + 1
    c = ds.table("customers")
    c = c.select(customer_id=c.customer_id.cast("string"), cmi=_mi(c.signup_at))
    c = c.filter(c.cmi >= first_mi)
    sizes = c.group_by("cmi").aggregate(size=c.count()).execute()
    cols = list(range(months))
    if sizes.empty:
        return pd.DataFrame(columns=["cohort", "size"] + cols)
    cm = _customer_months(ds, by)
    if cm is not None:
        j = c.join(cm, "customer_id")
        j = j.filter((j.mi >= j.cmi) & (j.mi <= end_mi))
        counts = j.group_by(["cmi", "mi"]).aggregate(x=j.customer_id.nunique()).execute()
    else:
        counts = pd.DataFrame(columns=["cmi", "mi", "x"])
    counts["k"] = counts["mi"].astype(int) - counts["cmi"].astype(int)
    rows = []
    for r in sizes.sort_values("cmi").itertuples():
        row = {"cohort": pd.Timestamp(_period_of(int(r.cmi)).start), "size": int(r.size)}
        got = counts[counts["cmi"] == r.cmi].set_index("k")["x"]
        for k in cols:
            row[k] = (float(got.get(k, 0)) / r.size) if int(r.cmi) + k <= end_mi else float("nan")
        rows.append(row)
    return pd.DataFrame(rows, columns=["cohort", "size"] + cols)


def heatmap(matrix: pd.DataFrame, cfg, by: str = "activity"):
    """Heatmap of :func:`cohort_matrix`: cohorts down, months since sign-up
    across, each cell's percentage written in it."""
    import seaborn as sns

    cols = [c for c in matrix.columns if c not in ("cohort", "size")]
    data = matrix[cols].astype(float)
    # drop trailing columns no cohort has reached
    while cols and data[cols[-1]].isna().all():
        cols = cols[:-1]
    data = data[cols]
    data.index = [f"{pd.Timestamp(c):%Y-%m} ({int(s):,})" for c, s in zip(matrix["cohort"], matrix["size"])]
    fig, ax = plt.subplots(figsize=(8.5, 0.38 * len(data) + 1.6))
    annot = data.map(lambda v: "" if pd.isna(v) else f"{v * 100:.0f}")
    vmax = float(data.drop(columns=[0], errors="ignore").max().max()) if len(cols) > 1 else 1.0
    sns.heatmap(data, ax=ax, cmap="Blues", vmin=0, vmax=max(vmax, 0.05), annot=annot, fmt="",
                annot_kws={"fontsize": 7}, cbar_kws={"format": plt.FuncFormatter(lambda v, _: f"{v * 100:.0f}%")},
                linewidths=0.5, linecolor="white")
    ax.set_title(i18n.t(f"retention_heatmap_{by}", cfg.language), fontsize=11)
    ax.set_xlabel(i18n.t("retention_months_since", cfg.language))
    ax.set_ylabel(i18n.t("retention_cohort", cfg.language))
    ax.tick_params(axis="both", labelsize=8)
    ax.grid(False)
    fig.tight_layout()
    plt.close(fig)
    return fig


def lifecycle(ds, cfg) -> pd.DataFrame:
    """Lifecycle states per month of the trend window: columns ``month``,
    ``new``, ``returning``, ``resurrecting``, ``dormant`` (customers; dormant
    is a positive count here and drawn below zero), in that order."""
    cols = ["month", *LIFECYCLE_STATES]
    cm = _customer_months(ds)
    if cm is None:
        return pd.DataFrame(columns=cols)
    months = trailing_months(cfg)
    lo, hi = _pmi(months[0]), _pmi(months[-1])
    first = cm.group_by("customer_id").aggregate(fm=cm.mi.min())
    prev = cm.select(customer_id=cm.customer_id, pmi=cm.mi + 1, had=ibis.literal(1))
    cur = cm.filter((cm.mi >= lo) & (cm.mi <= hi))
    j = cur.left_join(prev, [cur.customer_id == prev.customer_id, cur.mi == prev.pmi])
    j = j.select(customer_id=cur.customer_id, mi=cur.mi, had=prev.had)
    j = j.join(first, "customer_id")
    state = ibis.cases((j.mi == j.fm, "new"), (j.had.notnull(), "returning"), else_="resurrecting")
    j = j.mutate(state=state)
    active = j.group_by(["mi", "state"]).aggregate(n=j.count()).execute()
    nxt = cm.select(customer_id=cm.customer_id, mi=cm.mi + 1)
    dormant = nxt.anti_join(cm, ["customer_id", "mi"])
    dormant = dormant.filter((dormant.mi >= lo) & (dormant.mi <= hi))
    dorm = dormant.group_by("mi").aggregate(n=dormant.count()).execute().assign(state="dormant")
    allc = pd.concat([active, dorm], ignore_index=True)
    wide = allc.pivot_table(index="mi", columns="state", values="n", aggfunc="sum", fill_value=0)
    wide = wide.reindex(index=range(lo, hi + 1), columns=list(LIFECYCLE_STATES), fill_value=0).fillna(0)
    wide = wide.astype(int).reset_index(drop=True)
    wide.insert(0, "month", [pd.Timestamp(p.start) for p in months])
    return wide[cols]


def lifecycle_chart(df: pd.DataFrame, cfg):
    """Stacked bars per month: new, returning, resurrecting above zero,
    dormant below."""
    from journeykit.report.plots import PALETTE

    colors = {"new": PALETTE[0], "returning": PALETTE[2], "resurrecting": PALETTE[1], "dormant": PALETTE[3]}
    fig, ax = plt.subplots(figsize=(8, 3.6))
    x = [f"{pd.Timestamp(m):%y-%m}" for m in df["month"]]
    bottom = pd.Series(0, index=df.index, dtype=float)
    for s in ("new", "returning", "resurrecting"):
        ax.bar(x, df[s], bottom=bottom, color=colors[s], label=i18n.t(f"retention_state_{s}", cfg.language))
        bottom = bottom + df[s]
    ax.bar(x, -df["dormant"], color=colors["dormant"], label=i18n.t("retention_state_dormant", cfg.language))
    ax.axhline(0, color="#333333", linewidth=0.8)
    ax.set_title(i18n.t("retention_lifecycle_title", cfg.language))
    ax.set_ylabel(i18n.t("retention_customers_axis", cfg.language))
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{abs(v):,.0f}"))
    ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9)
    ax.grid(axis="x", visible=False)
    fig.tight_layout()
    plt.close(fig)
    return fig


def lifecycle_sentence(df: pd.DataFrame, cfg) -> str | None:
    """One generated sentence on the period's lifecycle counts (last row of
    :func:`lifecycle`); ``None`` when there is no activity."""
    if df.empty:
        return None
    r = df.iloc[-1]
    active = int(r["new"] + r["returning"] + r["resurrecting"])
    if active == 0 and int(r["dormant"]) == 0:
        return None
    net = int(r["new"] + r["resurrecting"] - r["dormant"])
    lang = cfg.language
    net_text = (i18n.t("retention_net_up", lang, n=f"{net:,}") if net > 0 else
                i18n.t("retention_net_down", lang, n=f"{-net:,}") if net < 0 else i18n.t("retention_net_flat", lang))
    return i18n.t("retention_lifecycle_sentence", lang, period=cfg.period.label(lang), active=f"{active:,}",
                  new=f"{int(r['new']):,}", returning=f"{int(r['returning']):,}",
                  resurrecting=f"{int(r['resurrecting']):,}", dormant=f"{int(r['dormant']):,}", net=net_text)


def lifecycle_table(df: pd.DataFrame, cfg) -> report.Table:
    """:func:`lifecycle` for the report (last six months)."""
    lang = cfg.language
    out = df.tail(6).copy()
    out["month"] = [f"{pd.Timestamp(m):%Y-%m}" for m in out["month"]]
    names = {"month": i18n.t("retention_col_month", lang),
             **{s: i18n.t(f"retention_state_{s}", lang) for s in LIFECYCLE_STATES}}
    out = out.rename(columns=names)
    return report.table(out, cfg, {names[s]: "int" for s in LIFECYCLE_STATES})


def narrative(chs, life: pd.DataFrame, cfg) -> report.Narrative:
    """The generated narrative: the changes since the comparison period, then
    the lifecycle sentence."""
    s = report.describe_changes(shown(chs), labels(cfg), KINDS, cfg)
    ls = lifecycle_sentence(life, cfg)
    return report.Narrative(s + ([ls] if ls else []))


# --------------------------------------------------------------------------
# Usage, purchases, churn, subscriptions, support: breakdowns
# --------------------------------------------------------------------------

def usage(ds, cfg) -> report.Table:
    """DAU, WAU, MAU and stickiness of the period (see :func:`stickiness`),
    and the mean session length when ``events`` has sessions."""
    lang = cfg.language
    st = stickiness(ds, cfg.period)
    sl = session_length(ds, cfg.period)
    rows = [(_label("dau", cfg), report.fmt_num(st["dau"])), (_label("wau", cfg), report.fmt_num(st["wau"])),
            (_label("mau", cfg), report.fmt_int(st["mau"])), (_label("dau_mau", cfg), report.fmt_pct(st["dau_mau"]))]
    if sl[0] is not None:
        rows.append((_label("session_minutes", cfg), report.fmt_num(sl[0])))
    df = pd.DataFrame(rows, columns=[i18n.t("retention_col_measure", lang), i18n.t("retention_col_value", lang)])
    return report.table(df, cfg, {i18n.t("retention_col_value", lang): "numtext"})


def feature_usage(ds, cfg) -> pd.DataFrame:
    """``feature_use`` events of the period by ``feature``: ``uses`` (events),
    ``users`` (distinct customers) and ``user_share`` = users / MAU (0–1).
    Features with fewer than ``min_group_size`` users, or fewer than
    ``k_anonymity``, are folded into "other"."""
    cols = ["feature", "uses", "users", "user_share"]
    e = facts.customer_events(ds)
    if e is None or "feature" not in e.columns:
        return pd.DataFrame(columns=cols)
    e = in_window(e.filter(e.event_type == "feature_use"), "occurred_at", cfg.period.start, cfg.period.end)
    e = e.mutate(feature=e.feature.fill_null("?"))
    df = e.group_by("feature").aggregate(uses=e.count(), users=e.customer_id.nunique()).execute()
    if df.empty:
        return pd.DataFrame(columns=cols)
    df["users"] = df["users"].astype(int)
    df["uses"] = df["uses"].astype(int)
    folded = compare.fold_small(df[["feature", "uses", "users"]], "feature", "users",
                                max(cfg.definitions.min_group_size, cfg.definitions.k_anonymity),
                                other=i18n.t("other_group", cfg.language))
    # a customer using two folded features counts once per feature: "other" users is an upper bound
    m = mau(ds, cfg.period) or 0
    folded["user_share"] = [compare.safe_div(u, m) for u in folded["users"]]
    return folded[cols]


def feature_usage_view(ds, cfg):
    """:func:`feature_usage` as a report table, or a note when ``events`` is missing."""
    if facts.customer_events(ds) is None:
        return needs_note("events", cfg)
    df = feature_usage(ds, cfg)
    if df.empty:
        return report.Note(i18n.t("retention_no_data", cfg.language))
    lang = cfg.language
    names = {"feature": i18n.t("retention_col_feature", lang), "uses": i18n.t("retention_col_uses", lang),
             "users": i18n.t("retention_col_users", lang), "user_share": i18n.t("retention_col_user_share", lang)}
    return report.table(df.rename(columns=names), cfg,
                        {names["uses"]: "int", names["users"]: "int", names["user_share"]: "pct"})


def purchases_view(ds, cfg) -> report.Table:
    """Repeat buyers and the median gap between purchases in the period."""
    lang = cfg.language
    x, n = repeat_purchase(ds, cfg.period)
    ip = inter_purchase(ds, cfg.period)
    rows = [(i18n.t("retention_repeat_buyers", lang), f"{x:,} / {n:,}"),
            (_label("repeat_purchase_rate", cfg), report.fmt_pct(compare.safe_div(x, n))),
            (i18n.t("retention_median_gap", lang), report.fmt_num(ip["median"])),
            (_label("inter_purchase_days", cfg), report.fmt_num(ip["mean"]))]
    df = pd.DataFrame(rows, columns=[i18n.t("retention_col_measure", lang), i18n.t("retention_col_value", lang)])
    return report.table(df, cfg, {i18n.t("retention_col_value", lang): "numtext"})


def churn_by(ds, cfg, column: str = "acquisition_channel") -> pd.DataFrame:
    """Churn of the period (see :func:`churn`) by a ``customers`` column:
    ``group``, ``base``, ``churned``, ``churn_rate`` (0–1). Groups with a
    base under ``min_group_size`` (or ``k_anonymity``) are folded into
    "other", its rate recomputed from the summed counts."""
    cols = ["group", "base", "churned", "churn_rate"]
    f = churn_flags(ds, cfg.period)
    c = ds.table("customers")
    if f is None or column not in c.columns:
        return pd.DataFrame(columns=cols)
    c = c.select(customer_id=c.customer_id.cast("string"), group=c[column].cast("string"))
    j = f.left_join(c, "customer_id")
    j = j.mutate(group=j.group.fill_null("?"))
    df = j.group_by("group").aggregate(base=j.count(), churned=j.churned.cast("int64").sum()).execute()
    if df.empty:
        return pd.DataFrame(columns=cols)
    df = df.astype({"base": int, "churned": int})
    out = compare.fold_small(df, "group", "base", max(cfg.definitions.min_group_size, cfg.definitions.k_anonymity),
                             other=i18n.t("other_group", cfg.language))
    out["churn_rate"] = out["churned"] / out["base"]
    return out[cols]


def churn_view(ds, cfg):
    """:func:`churn_by` acquisition channel as a report table (or a note)."""
    df = churn_by(ds, cfg)
    lang = cfg.language
    if df.empty:
        return report.Note(i18n.t("retention_needs_column", lang, column="acquisition_channel",
                                  table=i18n.table_name("customers", lang)))
    names = {"group": i18n.t("retention_col_channel", lang), "base": i18n.t("retention_col_base", lang),
             "churned": i18n.t("retention_col_churned", lang), "churn_rate": i18n.t("retention_col_churn_rate", lang)}
    return report.table(df.rename(columns=names), cfg,
                        {names["base"]: "int", names["churned"]: "int", names["churn_rate"]: "pct"})


def subscriptions_view(ds, cfg):
    """Renewals and MRR churn of the period and the comparison period, or a
    note when ``subscriptions`` is missing."""
    if not ds.has("subscriptions"):
        return needs_note("subscriptions", cfg)
    lang = cfg.language
    rows = []
    for p in (cfg.period, cfg.period.previous()):
        x, n = renewals(ds, p)
        lost, start = mrr_churn(ds, p)
        rows.append({"period": p.label(lang), "due": n, "renewed": x, "renewal_rate": compare.safe_div(x, n),
                     "mrr_start": start, "mrr_lost": lost, "mrr_churn": compare.safe_div(lost, start)})
    df = pd.DataFrame(rows)
    names = {"period": i18n.t("period", lang), "due": i18n.t("retention_col_due", lang),
             "renewed": i18n.t("retention_col_renewed", lang), "renewal_rate": _label("renewal_rate", cfg),
             "mrr_start": i18n.t("retention_col_mrr_start", lang), "mrr_lost": i18n.t("retention_col_mrr_lost", lang),
             "mrr_churn": _label("mrr_churn", cfg)}
    return report.table(df.rename(columns=names), cfg,
                        {names["due"]: "int", names["renewed"]: "int", names["renewal_rate"]: "pct",
                         names["mrr_start"]: "money", names["mrr_lost"]: "money", names["mrr_churn"]: "pct"})


def tickets_by_category(ds, cfg) -> pd.DataFrame:
    """Tickets opened in the period by ``category``: ``tickets``,
    ``customers`` (distinct), ``per_100`` (tickets per 100 active customers,
    see :func:`tickets`), ``csat`` (mean 1–5 score of the category's tickets
    resolved in the period) and ``csat_n``. Categories with fewer than
    ``min_group_size`` tickets or ``k_anonymity`` customers fold into "other"."""
    cols = ["category", "tickets", "customers", "per_100", "csat", "csat_n"]
    if not ds.has("tickets"):
        return pd.DataFrame(columns=cols)
    t = ds.table("tickets")
    cat = t.category.cast("string").fill_null("?") if "category" in t.columns else ibis.literal("?")
    t = t.mutate(category=cat)
    opened = in_window(t, "created_at", cfg.period.start, cfg.period.end)
    df = opened.group_by("category").aggregate(tickets=opened.count(), customers=opened.customer_id.nunique()).execute()
    cs = _csat_tickets(ds, cfg.period)
    if cs is not None:
        cs = cs.mutate(category=cs.category.cast("string").fill_null("?") if "category" in cs.columns
                       else ibis.literal("?"))
        cs = cs.mutate(score=cs.csat.cast("float64"))
        sc = cs.group_by("category").aggregate(csat_sum=cs.score.sum(), csat_n=cs.score.count()).execute()
        df = df.merge(sc, on="category", how="outer").fillna({"tickets": 0, "customers": 0, "csat_sum": 0,
                                                               "csat_n": 0})
    else:
        df["csat_sum"], df["csat_n"] = 0.0, 0
    if df.empty:
        return pd.DataFrame(columns=cols)
    df = df.astype({"tickets": int, "customers": int, "csat_n": int})
    d = cfg.definitions
    df["_key"] = df["tickets"].where((df["tickets"] >= d.min_group_size) & (df["customers"] >= d.k_anonymity), -1)
    out = compare.fold_small(df, "category", "_key", 0, other=i18n.t("other_group", cfg.language),
                             sum_columns=["tickets", "customers", "csat_sum", "csat_n"])
    out = out.drop(columns="_key")
    base = active_customers(ds, cfg.period)
    out["per_100"] = [None if not base else 100 * x / base for x in out["tickets"]]
    out["csat"] = [compare.safe_div(s, n) for s, n in zip(out["csat_sum"], out["csat_n"])]
    return out[cols]


def tickets_view(ds, cfg):
    """:func:`tickets_by_category` as a report table (without customer
    counts), or a note when ``tickets`` is missing."""
    if not ds.has("tickets"):
        return needs_note("tickets", cfg)
    df = tickets_by_category(ds, cfg)
    lang = cfg.language
    if df.empty:
        return report.Note(i18n.t("retention_no_data", lang))
    names = {"category": i18n.t("retention_col_category", lang), "tickets": i18n.t("retention_col_tickets", lang),
             "per_100": i18n.t("retention_col_per100", lang), "csat": i18n.t("retention_col_csat", lang),
             "csat_n": i18n.t("retention_col_csat_n", lang)}
    out = df.drop(columns="customers").rename(columns=names)
    return report.table(out, cfg, {names["tickets"]: "int", names["per_100"]: "num", names["csat"]: "num",
                                   names["csat_n"]: "int"})


# --------------------------------------------------------------------------
# What to look at next
# --------------------------------------------------------------------------

def next_steps(chs, churn_groups: pd.DataFrame, ticket_groups: pd.DataFrame, cfg) -> list[str]:
    """Generated pointers, most urgent first:

    1. month-1 retention fell significantly → the newest customers' first weeks;
    2. churn rose significantly → the segment and prediction sections;
    3. the acquisition channel (not "other") whose churn rate is highest and at
       least 1.25 × the overall rate;
    4. the ticket category (not "other") with the lowest CSAT, when it is below
       4.0 on at least ``min_sample_size`` responses.

    A default sentence when none applies."""
    lang = cfg.language
    by = {c.key: c for c in chs}
    out = []
    m1 = by.get("month1_retention")
    if m1 is not None and m1.significant and m1.direction == "down":
        out.append(i18n.t("retention_next_month1", lang, prev=report.fmt_pct(m1.prev), value=report.fmt_pct(m1.value)))
    ch = by.get("churn_rate")
    if ch is not None and ch.significant and ch.direction == "up":
        out.append(i18n.t("retention_next_churn", lang, prev=report.fmt_pct(ch.prev), value=report.fmt_pct(ch.value)))
    other = i18n.t("other_group", lang)
    if not churn_groups.empty and churn_groups["base"].sum():
        overall = churn_groups["churned"].sum() / churn_groups["base"].sum()
        g = churn_groups[churn_groups["group"] != other].sort_values(["churn_rate", "group"], ascending=[False, True])
        if len(g) > 1 and overall > 0 and g.iloc[0]["churn_rate"] >= 1.25 * overall:
            out.append(i18n.t("retention_next_channel", lang, group=g.iloc[0]["group"],
                              rate=report.fmt_pct(g.iloc[0]["churn_rate"]), overall=report.fmt_pct(overall)))
    if not ticket_groups.empty:
        g = ticket_groups[(ticket_groups["category"] != other)
                          & (ticket_groups["csat_n"] >= cfg.definitions.min_sample_size)
                          & ticket_groups["csat"].notna()].sort_values(["csat", "category"])
        if len(g) and g.iloc[0]["csat"] < 4.0:
            out.append(i18n.t("retention_next_ticket", lang, group=g.iloc[0]["category"],
                              csat=f"{g.iloc[0]['csat']:.2f}", n=f"{int(g.iloc[0]['csat_n']):,}"))
    return out or [i18n.t("retention_next_default", lang)]


__all__ = [
    "STABLE_KEYS", "LIFECYCLE_STATES", "active_customers", "mau", "stickiness", "month_k_retention", "repeat_purchase", "churn", "churn_flags",
    "renewals", "mrr_churn", "tickets", "csat", "session_length", "inter_purchase", "period_values", "changes",
    "changes_from", "kpi_table", "metrics", "monthly", "trend_chart", "cohort_matrix", "heatmap", "lifecycle",
    "lifecycle_chart", "lifecycle_sentence", "lifecycle_table", "narrative", "usage", "feature_usage",
    "feature_usage_view", "purchases_view", "churn_by", "churn_view", "subscriptions_view", "tickets_by_category",
    "tickets_view", "next_steps", "labels", "needs_note",
]
