"""Advocacy (section 50): who recommends us, and what moves it.

Definitions used throughout (all windows are ``start <= t < end`` in the
client's local time):

- **Survey response**: a row of ``surveys`` with an ``nps`` answer (0–10).
  Responses without an NPS answer (a CSAT-only survey) are not counted.
- **Promoter** answers 9–10, **passive** 7–8, **detractor** 0–6.
- **NPS** = promoter share − detractor share of the responses, stored as a
  −1…1 difference of shares (``0.32``) and shown as −100…100 (``32``). Its
  95% interval is the normal approximation with the multinomial variance
  (:func:`journeykit.stats.compare.nps_interval`).
- **Active customer** (denominator of the review rate): a customer with at
  least one event (any type, with a ``customer_id``) or one order in the
  period.
- **Review rate** = customers with at least one ``review`` event in the
  period / active customers in the period (0–1). A reviewer is always an
  active customer, so this is a proper proportion, tested with the
  two-proportion z-test. **Rating** is the mean ``value`` (1–5) of the
  period's review events.
- **Referral rate** = new customers of the period (``signup_at`` in the
  period) whose ``customers.referred_by`` names an existing customer /
  new customers of the period (0–1).
- **Referral events** and **shares**: ``referral`` and ``share`` events in
  the period (counts, Poisson rate test per day).

Surveys are required; the review, referral and share parts need ``events``
(and ``customers`` with ``referred_by`` for the referral rate) and are
``None`` ("not available") without them. The support and usage views need
``tickets`` and ``events``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import ibis
import pandas as pd
from ibis import _

from journeykit.stats import compare
from journeykit.core import i18n
from journeykit import report
from journeykit.core.periods import Period
from journeykit.data.query import in_window, month_of, trailing_months
from journeykit.sections import registry

PROMOTER_MIN = 9
"""Lowest NPS answer that counts as a promoter (9–10)."""
PASSIVE_MIN = 7
"""Lowest NPS answer that counts as a passive (7–8); below is a detractor (0–6)."""
RECENT_TICKET_DAYS = 90
"""A ticket counts as "recent" for a response when it was created in the
90 days before the response."""
USAGE_DAYS = 30
"""Usage before a response is counted over the 30 days before it."""
USAGE_EVENTS = ("login", "feature_use")
"""Event types that count as using the product (app or account)."""

KEYS = ("nps", "nps_ci_low", "nps_ci_high", "promoter_share", "detractor_share", "review_rate", "referral_rate")
STABLE_KEYS = registry.get("50_advocacy").stable_keys
"""The stable metrics.json keys of the section (each also with ``_prev``)."""

KINDS = {"nps": "nps", "responses": "int", "promoter_share": "pct", "passive_share": "pct",
         "detractor_share": "pct", "review_rate": "pct", "rating": "num", "reviews": "int",
         "referral_rate": "pct", "referral_events": "int", "shares": "int"}
"""Display kind of each KPI (for :func:`journeykit.report.kpi_table`)."""

i18n.register({
    "advocacy_nps": {"en": "NPS", "ko": "NPS"},
    "advocacy_responses": {"en": "Survey responses", "ko": "설문 응답 수"},
    "advocacy_promoter_share": {"en": "Promoters (9–10)", "ko": "추천 고객 (9–10점)"},
    "advocacy_passive_share": {"en": "Passives (7–8)", "ko": "중립 고객 (7–8점)"},
    "advocacy_detractor_share": {"en": "Detractors (0–6)", "ko": "비추천 고객 (0–6점)"},
    "advocacy_review_rate": {"en": "Review rate (of active customers)", "ko": "리뷰 작성률 (활성 고객 대비)"},
    "advocacy_rating": {"en": "Average review rating (1–5)", "ko": "평균 리뷰 평점 (1–5)"},
    "advocacy_reviews": {"en": "Reviews", "ko": "리뷰 수"},
    "advocacy_referral_rate": {"en": "Referred share of new customers", "ko": "신규 고객 중 추천 유입 비율"},
    "advocacy_referral_events": {"en": "Referrals sent", "ko": "추천 발송 수"},
    "advocacy_shares": {"en": "Shares", "ko": "공유 수"},
    "advocacy_nps_ci": {"en": "NPS, 95% interval", "ko": "NPS, 95% 신뢰구간"},
    # table columns
    "advocacy_col_touchpoint": {"en": "Touchpoint", "ko": "접점"},
    "advocacy_col_group": {"en": "Respondents", "ko": "응답자"},
    "advocacy_col_responses": {"en": "Responses", "ko": "응답 수"},
    "advocacy_col_nps": {"en": "NPS", "ko": "NPS"},
    "advocacy_col_interval": {"en": "95% interval", "ko": "95% 신뢰구간"},
    "advocacy_interval": {"en": "{low} to {high}", "ko": "{low} ~ {high}"},
        "advocacy_caption_months": {"en": "Last {n} months ({start} to {end})", "ko": "최근 {n}개월 ({start}~{end})"},
    "advocacy_col_promoters": {"en": "Promoters", "ko": "추천"},
    "advocacy_col_passives": {"en": "Passives", "ko": "중립"},
    "advocacy_col_detractors": {"en": "Detractors", "ko": "비추천"},
    # groups
    "advocacy_tp_post_purchase": {"en": "after a purchase", "ko": "구매 후"},
    "advocacy_tp_support": {"en": "after a support ticket", "ko": "상담 후"},
    "advocacy_tp_in_app": {"en": "in the app", "ko": "앱 내"},
    "advocacy_tp_none": {"en": "not recorded", "ko": "기록 없음"},
    "advocacy_grp_no_ticket": {"en": "no ticket in the 90 days before", "ko": "응답 전 90일간 상담 없음"},
    "advocacy_grp_ticket": {"en": "ticket(s) in the 90 days before", "ko": "응답 전 90일간 상담 있음"},
    "advocacy_grp_csat": {"en": "last ticket rated {csat} of 5", "ko": "최근 상담 만족도 {csat}점"},
    "advocacy_grp_csat_none": {"en": "last ticket not rated", "ko": "최근 상담 만족도 미응답"},
    "advocacy_grp_usage_0": {"en": "no use in the 30 days before", "ko": "응답 전 30일간 이용 없음"},
    "advocacy_grp_usage_1": {"en": "used on 1–2 days", "ko": "1–2일 이용"},
    "advocacy_grp_usage_3": {"en": "used on 3 or more days", "ko": "3일 이상 이용"},
    "advocacy_grp_referrer": {"en": "customers who referred someone", "ko": "다른 고객을 추천한 고객"},
    "advocacy_grp_non_referrer": {"en": "all other respondents", "ko": "그 밖의 응답자"},
    # charts
    "advocacy_chart_nps": {"en": "NPS by month, with 95% interval", "ko": "월별 NPS (95% 신뢰구간)"},
    "advocacy_chart_mix": {"en": "Promoter / passive / detractor mix by month", "ko": "월별 추천·중립·비추천 비율"},
    "advocacy_chart_trends": {"en": "Advocacy over the last {n} months", "ko": "최근 {n}개월 추천 지표 추이"},
    "advocacy_chart_touchpoint": {"en": "NPS by touchpoint", "ko": "접점별 NPS"},
    "advocacy_axis_nps": {"en": "NPS (−100 to 100)", "ko": "NPS (−100~100)"},
    "advocacy_axis_share": {"en": "Share of responses", "ko": "응답 비율"},
    # sentences
    "advocacy_headline": {
        "en": "NPS in {period} is {nps} (95% interval {low} to {high}) from {n} responses: {p} promoters, {d} detractors.",
        "ko": "{period} NPS는 {nps}점(95% 신뢰구간 {low}~{high})이며, 응답 {n}건 중 추천 고객 {p}, 비추천 고객 {d}입니다."},
    "advocacy_no_responses": {"en": "No survey response with an NPS answer in {period}.",
                              "ko": "{period}에는 NPS 응답이 없습니다."},
    "advocacy_support_gap": {
        "en": "Respondents with a support ticket in the 90 days before answering give an NPS of {with_}, against {without} for those without ({n_with} and {n_without} responses over the last {months} months); the gap is {sig}.",
        "ko": "응답 전 90일 안에 상담 이력이 있는 응답자의 NPS는 {with_}점, 없는 응답자는 {without}점입니다(최근 {months}개월 응답 {n_with}건, {n_without}건). 차이는 {sig}."},
    "advocacy_gap_sig": {"en": "statistically significant (p {p})", "ko": "통계적으로 유의합니다 (p {p})"},
    "advocacy_gap_not_sig": {"en": "not statistically significant (p {p})", "ko": "통계적으로 유의하지 않습니다 (p {p})"},
    "advocacy_gap_little": {"en": "based on too little data to judge", "ko": "데이터가 부족해 판단할 수 없습니다"},
    "advocacy_touchpoint_low": {
        "en": "The lowest NPS is {tp} ({nps}, {n} responses), the highest {tp_hi} ({nps_hi}).",
        "ko": "NPS가 가장 낮은 접점은 {tp}({nps}점, 응답 {n}건), 가장 높은 접점은 {tp_hi}({nps_hi}점)입니다."},
    "advocacy_referrers": {
        "en": "Customers who referred someone are promoters in {p_ref} of their responses, against {p_other} for other respondents.",
        "ko": "다른 고객을 추천한 고객의 응답 중 {p_ref}가 추천 고객(9–10점)이며, 그 밖의 응답자는 {p_other}입니다."},
    "advocacy_na_events": {"en": "Reviews, referral events and shares are not available: they need the events table.",
                           "ko": "리뷰, 추천 이벤트, 공유 지표는 이벤트 테이블이 있어야 제공됩니다."},
    "advocacy_na_referred_by": {
        "en": "The referral rate is not available: the customers table has no referred_by links.",
        "ko": "추천 유입 비율은 제공되지 않습니다: 고객 테이블에 추천인(referred_by) 정보가 없습니다."},
    "advocacy_na_tickets": {"en": "NPS by support experience is not available: it needs the support tickets table.",
                            "ko": "상담 경험별 NPS는 상담 티켓 테이블이 있어야 제공됩니다."},
    "advocacy_na_usage": {"en": "NPS by usage is not available: it needs login or feature-use events.",
                          "ko": "이용 수준별 NPS는 로그인 또는 기능 사용 이벤트가 있어야 제공됩니다."},
    "advocacy_na_groups": {"en": "Too few responses to show this breakdown.",
                           "ko": "응답이 적어 이 분석을 표시할 수 없습니다."},
    "advocacy_reviews_line": {
        "en": "In {period}, {reviewers} of {active} active customers wrote a review ({rate}); {reviews} reviews averaged {rating} of 5.",
        "ko": "{period}에 활성 고객 {active}명 중 {reviewers}명이 리뷰를 작성했습니다({rate}). 리뷰 {reviews}건의 평균 평점은 5점 만점에 {rating}점입니다."},
    "advocacy_referral_line": {
        "en": "{referred} of {new} new customers in {period} were referred by an existing customer ({rate}); customers sent {events} referrals and {shares} shares.",
        "ko": "{period} 신규 고객 {new}명 중 {referred}명이 기존 고객의 추천으로 가입했습니다({rate}). 고객이 보낸 추천은 {events}건, 공유는 {shares}건입니다."},
    "advocacy_referral_events_line": {
        "en": "Customers sent {events} referrals and {shares} shares in {period}.",
        "ko": "{period}에 고객이 보낸 추천은 {events}건, 공유는 {shares}건입니다."},
    # what to look at next
    "advocacy_next_touchpoint": {
        "en": "Start with the {tp} touchpoint: its NPS ({nps}) is {gap} points below the overall {overall}.",
        "ko": "{tp} 접점부터 살펴보세요: NPS({nps}점)가 전체({overall}점)보다 {gap}점 낮습니다."},
    "advocacy_next_support": {
        "en": "Respondents with a recent support ticket score {gap} NPS points lower than those without: review how tickets are resolved, starting with those rated low.",
        "ko": "최근 상담을 경험한 응답자의 NPS가 그렇지 않은 응답자보다 {gap}점 낮습니다: 만족도가 낮은 상담부터 해결 과정을 점검하세요."},
    "advocacy_next_detractors": {
        "en": "The detractor share rose significantly since {prev}: read this month's detractor comments by touchpoint.",
        "ko": "{prev} 대비 비추천 고객 비율이 유의하게 늘었습니다: 이번 달 비추천 응답을 접점별로 확인하세요."},
    "advocacy_next_referrers": {
        "en": "Referrals come from promoters: ask customers for a referral or a review right after a touchpoint where they score 9–10.",
        "ko": "추천은 추천 고객(9–10점)에게서 나옵니다: 높은 점수를 준 접점 직후에 추천이나 리뷰를 요청해 보세요."},
    "advocacy_next_none": {
        "en": "Nothing stands out this month; keep watching the NPS interval and the detractor share.",
        "ko": "이번 달에는 눈에 띄는 문제가 없습니다. NPS 신뢰구간과 비추천 비율을 계속 지켜보세요."},
})


# --------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------

def _min_n(cfg) -> int:
    return int(cfg.definitions.min_sample_size)


def _days(period: Period) -> int:
    return (period.end - period.start).days


def responses(ds, start=None, end=None):
    """Survey responses with an NPS answer, as an Ibis table, with a
    ``category`` column (``promoter`` / ``passive`` / ``detractor``);
    restricted to ``start <= responded_at < end`` when given."""
    s = ds.table("surveys")
    s = s.filter(s.nps.notnull())
    if start is not None:
        s = in_window(s, "responded_at", start, end)
    cat = ibis.cases((s.nps >= PROMOTER_MIN, "promoter"), (s.nps >= PASSIVE_MIN, "passive"), else_="detractor")
    return s.mutate(category=cat)


def _count_exprs(t):
    return dict(responses=t.count(),
                promoters=(t.nps >= PROMOTER_MIN).cast("int64").sum(),
                passives=((t.nps >= PASSIVE_MIN) & (t.nps < PROMOTER_MIN)).cast("int64").sum(),
                detractors=(t.nps < PASSIVE_MIN).cast("int64").sum())


def with_nps(df: pd.DataFrame) -> pd.DataFrame:
    """Add ``nps``, ``ci_low``, ``ci_high``, ``promoter_share``,
    ``passive_share`` and ``detractor_share`` to a frame of counts
    (``promoters``, ``passives``, ``detractors``); NaN where there are no
    responses."""
    out = df.copy()
    for c in ("promoters", "passives", "detractors"):
        out[c] = out[c].fillna(0).astype("int64")
    out["responses"] = out["promoters"] + out["passives"] + out["detractors"]
    vals = [compare.nps_interval(p, q, d) for p, q, d in zip(out.promoters, out.passives, out.detractors)]
    out["nps"] = [v[0] for v in vals]
    out["ci_low"] = [v[1] for v in vals]
    out["ci_high"] = [v[2] for v in vals]
    n = out["responses"].where(out["responses"] > 0)
    out["promoter_share"] = out["promoters"] / n
    out["passive_share"] = out["passives"] / n
    out["detractor_share"] = out["detractors"] / n
    for c in ("nps", "ci_low", "ci_high", "promoter_share", "passive_share", "detractor_share"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64")
    return out


def nps_counts(ds, period: Period) -> dict:
    """Promoters, passives and detractors among the period's survey responses.

    Numerator/denominator: counts of responses with an NPS answer whose
    ``responded_at`` falls in the period (a customer answering twice counts
    twice). Returns ``responses``, ``promoters``, ``passives``,
    ``detractors`` (ints), ``nps``, ``nps_ci_low``, ``nps_ci_high`` (−1…1)
    and the three shares (0–1, ``None`` without responses).
    """
    t = responses(ds, period.start, period.end)
    row = t.aggregate(**_count_exprs(t)).execute().iloc[0]
    p, q, d = (_i(row[c]) for c in ("promoters", "passives", "detractors"))
    n = p + q + d
    v, lo, hi, _var = (None if x is None else float(x) for x in compare.nps_interval(p, q, d))
    return {"responses": n, "promoters": p, "passives": q, "detractors": d,
            "nps": v, "nps_ci_low": lo, "nps_ci_high": hi,
            "promoter_share": p / n if n else None, "passive_share": q / n if n else None,
            "detractor_share": d / n if n else None}


def _active_ids(ds, start, end):
    """Distinct customer ids with an event or an order in ``[start, end)``."""
    parts = []
    if ds.has("events"):
        e = in_window(ds.table("events"), "occurred_at", start, end)
        parts.append(e.filter(e.customer_id.notnull()).select("customer_id"))
    if ds.has("orders"):
        parts.append(in_window(ds.table("orders"), "ordered_at", start, end).select("customer_id"))
    if not parts:
        return None
    u = parts[0]
    for p in parts[1:]:
        u = u.union(p)
    return u.distinct()


def review_stats(ds, period: Period) -> dict:
    """Reviews in the period (needs ``events``; every value ``None`` without it).

    - ``reviewers``: distinct customers with a ``review`` event in the period;
    - ``active_customers``: distinct customers with any event or order in
      the period (the review rate's denominator);
    - ``review_rate`` = reviewers / active customers (0–1);
    - ``reviews``: review events in the period (count);
    - ``rating``, ``rating_sd``, ``rated``: mean, sample standard deviation
      and number of the review events' ``value`` (1–5 stars).
    """
    out = dict.fromkeys(("reviewers", "active_customers", "review_rate", "reviews", "rating", "rating_sd", "rated"))
    if not ds.has("events"):
        return out
    e = in_window(ds.table("events"), "occurred_at", period.start, period.end)
    rv = e.filter(e.event_type == "review")
    val = rv.value.cast("float64")
    row = rv.aggregate(reviews=rv.count(), reviewers=rv.customer_id.nunique(), rating=val.mean(),
                       rating_sd=val.std(), rated=val.count()).execute().iloc[0]
    active = int(_active_ids(ds, period.start, period.end).count().execute())
    reviewers = _i(row["reviewers"])
    out.update(reviewers=reviewers, active_customers=active, review_rate=reviewers / active if active else None,
               reviews=_i(row["reviews"]), rated=_i(row["rated"]),
               rating=_f(row["rating"]), rating_sd=_f(row["rating_sd"]))
    return out


def has_referral_links(ds) -> bool:
    """Whether ``customers`` carries ``referred_by`` links at all (a derived
    customers table, or a client that does not export the column, has none)."""
    if not ds.has("customers"):
        return False
    c = ds.table("customers")
    if "referred_by" not in c.columns:
        return False
    return int(c.referred_by.count().execute()) > 0


def referral_stats(ds, period: Period) -> dict:
    """Referrals and shares in the period.

    - ``new_customers``: customers with ``signup_at`` in the period;
    - ``referred``: those of them whose ``referred_by`` names a customer;
    - ``referral_rate`` = referred / new customers (0–1; ``None`` when the
      customers table has no ``referred_by`` links);
    - ``referral_events``, ``referrers``: ``referral`` events in the period
      and the distinct customers who sent them (needs ``events``);
    - ``shares``, ``sharers``: the same for ``share`` events.
    """
    out = dict.fromkeys(("new_customers", "referred", "referral_rate", "referral_events", "referrers",
                         "shares", "sharers"))
    if has_referral_links(ds):
        c = in_window(ds.table("customers"), "signup_at", period.start, period.end)
        row = c.aggregate(n=c.count(), r=c.referred_by.count()).execute().iloc[0]
        n, r = _i(row["n"]), _i(row["r"])
        out.update(new_customers=n, referred=r, referral_rate=r / n if n else None)
    if ds.has("events"):
        e = in_window(ds.table("events"), "occurred_at", period.start, period.end)
        e = e.filter(e.event_type.isin(["referral", "share"]))
        df = e.group_by("event_type").aggregate(n=_.count(), c=_.customer_id.nunique()).execute()
        got = {r.event_type: (int(r.n), int(r.c)) for r in df.itertuples()}
        out.update(referral_events=got.get("referral", (0, 0))[0], referrers=got.get("referral", (0, 0))[1],
                   shares=got.get("share", (0, 0))[0], sharers=got.get("share", (0, 0))[1])
    return out


def _i(x) -> int:
    """An aggregate count as an int (an empty SUM comes back NULL/NaN)."""
    f = _f(x)
    return 0 if f is None else int(f)


def _f(x) -> float | None:
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


# --------------------------------------------------------------------------
# The stage shape: period values, changes, monthly, breakdowns, metrics
# --------------------------------------------------------------------------

def period_values(ds, period: Period) -> dict:
    """Every advocacy KPI for one month: :func:`nps_counts`,
    :func:`review_stats` and :func:`referral_stats` merged."""
    return {**nps_counts(ds, period), **review_stats(ds, period), **referral_stats(ds, period)}


def changes(ds, cfg, values: tuple[dict, dict] | None = None) -> list[compare.Change]:
    """This period against the comparison period, each with its test.

    NPS (z-test on the difference, interval in ``extra``), promoter and
    detractor shares (two-proportion z-tests; fewer detractors is better),
    responses (Poisson), review rate (two-proportion), rating (Welch),
    referral rate (two-proportion), referral events and shares (Poisson).
    Review, referral and share changes are left out when their tables are
    missing. ``values`` may pass precomputed ``(this, previous)``
    :func:`period_values`.
    """
    per, prev = cfg.period, cfg.period.previous()
    a, b = values or (period_values(ds, per), period_values(ds, prev))
    m = _min_n(cfg)
    out = [
        compare.nps("nps", (a["promoters"], a["passives"], a["detractors"]),
                    (b["promoters"], b["passives"], b["detractors"]), min_n=m),
        compare.rate("promoter_share", a["promoters"], a["responses"], b["promoters"], b["responses"], min_n=m),
        compare.rate("detractor_share", a["detractors"], a["responses"], b["detractors"], b["responses"], min_n=m,
                     higher_is_better=False),
        compare.count("responses", a["responses"], _days(per), b["responses"], _days(prev), min_n=m,
                      higher_is_better=None),
    ]
    if a["active_customers"] is not None:
        out.append(compare.rate("review_rate", a["reviewers"], a["active_customers"], b["reviewers"],
                                b["active_customers"], min_n=m))
        out.append(compare.mean("rating", a["rating"], a["rating_sd"] or 0.0, a["rated"], b["rating"],
                                b["rating_sd"] or 0.0, b["rated"], min_n=m))
    if a["new_customers"] is not None:
        out.append(compare.rate("referral_rate", a["referred"], a["new_customers"], b["referred"],
                                b["new_customers"], min_n=m))
    if a["referral_events"] is not None:
        out.append(compare.count("referral_events", a["referral_events"], _days(per), b["referral_events"],
                                 _days(prev), min_n=m))
        out.append(compare.count("shares", a["shares"], _days(per), b["shares"], _days(prev), min_n=m))
    return out


def labels(cfg) -> dict[str, str]:
    """Display label of each KPI key in the client's language."""
    return {k: i18n.t(f"advocacy_{k}", cfg.language) for k in KINDS}


def monthly(ds, cfg) -> pd.DataFrame:
    """One row per month of the trend window (``definitions.trend_periods``
    months ending with the period): ``month``, ``responses``, ``promoters``,
    ``passives``, ``detractors``, ``nps``, ``ci_low``, ``ci_high``, the three
    shares, and where the tables allow ``review_rate``, ``rating``,
    ``referral_rate``, ``referral_events``, ``shares``. Months without data
    are NaN (a gap in the chart), counts 0."""
    months = trailing_months(cfg)
    start, end = months[0].start, months[-1].end
    frame = pd.DataFrame({"month": [pd.Timestamp(p.start) for p in months]})

    t = responses(ds, start, end).mutate(month=lambda t: month_of(t.responded_at))
    counts = t.group_by("month").aggregate(**_count_exprs(t)).execute()
    df = frame.merge(_month_key(counts), on="month", how="left")
    df = with_nps(df)
    for k in ("review_rate", "rating", "referral_rate", "referral_events", "shares"):
        df[k] = float("nan")

    if ds.has("events"):
        e = in_window(ds.table("events"), "occurred_at", start, end).mutate(month=_.occurred_at.truncate("M"))
        ev = e.filter(e.event_type.isin(["review", "share", "referral"]))
        agg = ev.group_by("month").aggregate(
            reviewers=ibis.ifelse(_.event_type == "review", _.customer_id, ibis.null("string")).nunique(),
            rating=ibis.ifelse(_.event_type == "review", _.value.cast("float64"), ibis.null("float64")).mean(),
            referral_events=(_.event_type == "referral").cast("int64").sum(),
            shares=(_.event_type == "share").cast("int64").sum()).execute()
        act = _active_monthly(ds, start, end)
        m = frame.merge(_month_key(agg), on="month", how="left").merge(act, on="month", how="left")
        df["review_rate"] = (m["reviewers"].fillna(0) / m["active"].where(m["active"] > 0)).astype("float64")
        df["rating"] = m["rating"].astype("float64")
        df["referral_events"] = m["referral_events"].fillna(0).astype("float64")
        df["shares"] = m["shares"].fillna(0).astype("float64")
    if has_referral_links(ds):
        c = in_window(ds.table("customers"), "signup_at", start, end).mutate(month=_.signup_at.truncate("M"))
        agg = c.group_by("month").aggregate(new=_.count(), referred=_.referred_by.count()).execute()
        m = frame.merge(_month_key(agg), on="month", how="left")
        df["referral_rate"] = (m["referred"].fillna(0) / m["new"].where(m["new"] > 0)).astype("float64")
    return df


def _month_key(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out["month"] = pd.to_datetime(out["month"]).astype("datetime64[ns]")
    return out


def _active_monthly(ds, start, end) -> pd.DataFrame:
    parts = []
    if ds.has("events"):
        e = in_window(ds.table("events"), "occurred_at", start, end)
        parts.append(e.filter(e.customer_id.notnull()).select("customer_id", month=e.occurred_at.truncate("M")))
    if ds.has("orders"):
        o = in_window(ds.table("orders"), "ordered_at", start, end)
        parts.append(o.select("customer_id", month=o.ordered_at.truncate("M")))
    u = parts[0]
    for p in parts[1:]:
        u = u.union(p)
    df = u.distinct().group_by("month").aggregate(active=_.count()).execute()
    return _month_key(df)


# --------------------------------------------------------------------------
# Breakdowns
# --------------------------------------------------------------------------

def _window(cfg, months: int | None) -> tuple:
    """``[start, end)`` of the ``months`` months ending with the period
    (``None``: everything up to the period end)."""
    if months is None:
        return None, None
    ps = cfg.period.trailing(months)
    return ps[0].start, ps[-1].end


def _fold(df: pd.DataFrame, group: str, cfg) -> pd.DataFrame:
    """Fold groups with fewer than ``min_group_size`` responses (or fewer
    customers than ``k_anonymity``) into "other", then recompute NPS."""
    if df.empty:
        return with_nps(df.assign(nps=[], ci_low=[], ci_high=[]))
    k = int(cfg.definitions.k_anonymity)
    size = df["responses"].where(df["customers"] >= k, 0) if "customers" in df else df["responses"]
    work = df.assign(_size=size)
    cols = ["responses", "promoters", "passives", "detractors"] + (["customers"] if "customers" in df else [])
    folded = compare.fold_small(work, group, "_size", int(cfg.definitions.min_group_size), other="__other__",
                                sum_columns=cols)
    return _suppress(with_nps(folded.drop(columns=["_size"])), cfg)


def nps_by_touchpoint(ds, cfg, months: int = 1) -> pd.DataFrame:
    """NPS per survey touchpoint over the ``months`` months ending with the
    period: ``touchpoint``, ``responses``, ``customers``, the three counts,
    ``nps`` with its 95% interval and shares. Touchpoints with fewer than
    ``min_group_size`` responses are folded into ``__other__``; a missing
    touchpoint is ``__none__``."""
    start, end = _window(cfg, months)
    t = responses(ds, start, end)
    t = t.mutate(touchpoint=t.touchpoint.fill_null("__none__"))
    df = t.group_by("touchpoint").aggregate(customers=_.customer_id.nunique(), **_count_exprs(t)).execute()
    return _fold(df, "touchpoint", cfg)


def response_support(ds, cfg, months: int | None = None):
    """One row per response in the window (Ibis table) with
    ``recent_tickets`` (tickets created in the 90 days before the response)
    and ``last_csat`` (CSAT of the latest of them, ``NULL`` if unrated or
    none). Needs ``tickets``."""
    start, end = _window(cfg, months)
    s = responses(ds, start, end).select("response_id", "customer_id", "responded_at", "nps", "category")
    tk = ds.table("tickets").select(tk_customer="customer_id", tk_at="created_at", tk_csat="csat")
    j = s.left_join(tk, [s.customer_id == tk.tk_customer, tk.tk_at < s.responded_at,
                         tk.tk_at >= s.responded_at - ibis.interval(days=RECENT_TICKET_DAYS)])
    return j.group_by(["response_id", "customer_id", "nps", "category"]).aggregate(
        recent_tickets=_.tk_at.count(), last_csat=_.tk_csat.argmax(_.tk_at))


def _group_counts(t, group) -> pd.DataFrame:
    return t.group_by(group).aggregate(customers=_.customer_id.nunique(), **_count_exprs(t)).execute()


def nps_by_recent_ticket(ds, cfg, months: int | None = None) -> pd.DataFrame:
    """NPS of respondents with vs without a support ticket created in the
    90 days before they answered, over the ``months`` months ending with
    the period (``None``: the trend window). Columns ``group``
    (``ticket`` / ``no_ticket``), counts, ``nps``, interval, shares; both
    groups always listed (no folding: two groups), NPS NaN when a group has
    fewer than ``min_group_size`` responses or ``k_anonymity`` customers."""
    months = months or cfg.definitions.trend_periods
    t = response_support(ds, cfg, months)
    t = t.mutate(group=ibis.ifelse(t.recent_tickets > 0, "ticket", "no_ticket"))
    df = _group_counts(t, "group")
    df = pd.DataFrame({"group": ["no_ticket", "ticket"]}).merge(df, on="group", how="left").fillna(0)
    return _suppress(with_nps(df), cfg)


def _suppress(df: pd.DataFrame, cfg) -> pd.DataFrame:
    small = (df["responses"] < cfg.definitions.min_group_size) | (df["customers"] < cfg.definitions.k_anonymity)
    for c in ("nps", "ci_low", "ci_high", "promoter_share", "passive_share", "detractor_share"):
        df.loc[small, c] = float("nan")
    return df


def nps_by_ticket_csat(ds, cfg, months: int | None = None) -> pd.DataFrame:
    """NPS of respondents who had a ticket in the 90 days before answering,
    by the CSAT (1–5) of the latest of those tickets (``group`` ``csat_1`` …
    ``csat_5``, ``csat_none`` when unrated), over the trend window by
    default. Small groups fold into ``__other__``."""
    months = months or cfg.definitions.trend_periods
    t = response_support(ds, cfg, months)
    t = t.filter(t.recent_tickets > 0)
    t = t.mutate(group=ibis.ifelse(t.last_csat.isnull(), "csat_none",
                                   "csat_" + t.last_csat.round().cast("int64").cast("string")))
    df = _fold(_group_counts(t, "group"), "group", cfg)
    order = {f"csat_{i}": i for i in range(1, 6)} | {"csat_none": 6}
    return df.sort_values("group", key=lambda s: s.map(order).fillna(9), kind="stable").reset_index(drop=True)


def nps_by_usage(ds, cfg, months: int | None = None) -> pd.DataFrame:
    """NPS by how much the respondent used the product in the 30 days
    before answering: distinct days with a ``login`` or ``feature_use``
    event, grouped ``usage_0`` (none), ``usage_1`` (1–2 days), ``usage_3``
    (3 or more). Trend window by default; small groups fold into
    ``__other__``. Empty when there are no usage events."""
    months = months or cfg.definitions.trend_periods
    start, end = _window(cfg, months)
    s = responses(ds, start, end).select("response_id", "customer_id", "responded_at", "nps")
    e = ds.table("events")
    e = e.filter(e.event_type.isin(list(USAGE_EVENTS)) & e.customer_id.notnull())
    e = e.select(ev_customer="customer_id", ev_at="occurred_at")
    j = s.left_join(e, [s.customer_id == e.ev_customer, e.ev_at < s.responded_at,
                        e.ev_at >= s.responded_at - ibis.interval(days=USAGE_DAYS)])
    per = j.group_by(["response_id", "customer_id", "nps"]).aggregate(days=_.ev_at.date().nunique())
    per = per.mutate(group=ibis.cases((per.days == 0, "usage_0"), (per.days < 3, "usage_1"), else_="usage_3"))
    df = _group_counts(per, "group")
    order = {"usage_0": 0, "usage_1": 1, "usage_3": 2}
    df = _fold(df, "group", cfg)
    return df.sort_values("group", key=lambda s: s.map(order).fillna(9), kind="stable").reset_index(drop=True)


def has_usage_events(ds) -> bool:
    """Whether ``events`` has any login or feature-use event."""
    if not ds.has("events"):
        return False
    e = ds.table("events")
    return int(e.filter(e.event_type.isin(list(USAGE_EVENTS))).count().execute()) > 0


def referrer_profile(ds, cfg) -> pd.DataFrame:
    """How customers who referred someone answer the NPS survey.

    A *referrer* is a customer named in ``customers.referred_by`` by a
    customer who signed up before the period end. All survey responses up
    to the period end, split into ``referrer`` and ``non_referrer``
    responses: counts, ``customers``, ``nps``, interval and shares. Empty
    when there are no referral links.
    """
    if not has_referral_links(ds):
        return pd.DataFrame()
    c = ds.table("customers")
    refs = c.filter(c.referred_by.notnull()).select(ref_id="referred_by").distinct()
    s = responses(ds)
    j = s.left_join(refs, s.customer_id == refs.ref_id)
    j = j.mutate(group=ibis.ifelse(j.ref_id.notnull(), "referrer", "non_referrer"))
    df = _group_counts(j, "group")
    df = pd.DataFrame({"group": ["referrer", "non_referrer"]}).merge(df, on="group", how="left").fillna(0)
    return _suppress(with_nps(df), cfg)


# --------------------------------------------------------------------------
# Generated text
# --------------------------------------------------------------------------

def fmt_nps(x) -> str:
    """NPS for display: ``0.321`` → ``32.1``, ``-0.05`` → ``−5.0``; missing → ``–``."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    v = round(100 * float(x), 1)
    return f"−{abs(v):.1f}" if v < 0 else f"{abs(v):.1f}"  # U+2212: a hyphen is easily lost in print


def group_label(group: str, cfg) -> str:
    """Display name of a breakdown group (touchpoint, support, usage, referrer)."""
    lang = cfg.language
    if group == "__other__":
        return i18n.t("other_group", lang)
    if group == "__none__":
        return i18n.t("advocacy_tp_none", lang)
    if group.startswith("csat_"):
        v = group[5:]
        return i18n.t("advocacy_grp_csat_none", lang) if v == "none" else i18n.t("advocacy_grp_csat", lang, csat=v)
    for prefix in ("advocacy_tp_", "advocacy_grp_"):
        if f"{prefix}{group}" in i18n.TEXT:
            return i18n.t(f"{prefix}{group}", lang)
    return group


def headline(values: dict, cfg) -> str:
    """One sentence: the period's NPS, its interval, responses and mix."""
    lang = cfg.language
    if not values.get("responses"):
        return i18n.t("advocacy_no_responses", lang, period=cfg.period.label(lang))
    return i18n.t("advocacy_headline", lang, period=cfg.period.label(lang), nps=fmt_nps(values["nps"]),
                  low=fmt_nps(values["nps_ci_low"]), high=fmt_nps(values["nps_ci_high"]),
                  n=report.fmt_int(values["responses"]), p=report.fmt_pct(values["promoter_share"]),
                  d=report.fmt_pct(values["detractor_share"]))


def support_gap(df: pd.DataFrame, cfg) -> compare.Change | None:
    """The NPS gap between respondents with and without a recent ticket as
    a :class:`compare.Change` (``value``: with a ticket, ``prev``: without;
    the same z-test as period over period), or ``None`` without data."""
    if df is None or df.empty:
        return None
    g = df.set_index("group")
    cnt = lambda r: (int(g.loc[r, "promoters"]), int(g.loc[r, "passives"]), int(g.loc[r, "detractors"]))  # noqa: E731
    ch = compare.nps("nps_support_gap", cnt("ticket"), cnt("no_ticket"), min_n=int(cfg.definitions.min_group_size))
    if min(g["customers"]) < cfg.definitions.k_anonymity:
        return compare.Change(ch.key, None, None, "nps", enough_data=False)
    return ch


def describe_support(df: pd.DataFrame, cfg) -> list[str]:
    """A sentence comparing NPS with and without a recent support ticket."""
    ch = support_gap(df, cfg)
    if ch is None or ch.value is None or ch.prev is None:
        return []
    lang = cfg.language
    p = "–" if ch.p_value is None else ("< 0.001" if ch.p_value < 0.001 else f"= {ch.p_value:.3f}")
    sig = {"significant": i18n.t("advocacy_gap_sig", lang, p=p),
           "not_significant": i18n.t("advocacy_gap_not_sig", lang, p=p)}.get(ch.verdict,
                                                                             i18n.t("advocacy_gap_little", lang))
    g = df.set_index("group")
    return [i18n.t("advocacy_support_gap", lang, with_=fmt_nps(ch.value), without=fmt_nps(ch.prev),
                   n_with=report.fmt_int(g.loc["ticket", "responses"]),
                   n_without=report.fmt_int(g.loc["no_ticket", "responses"]),
                   months=cfg.definitions.trend_periods, sig=sig)]


def describe_touchpoints(df: pd.DataFrame, cfg) -> list[str]:
    """A sentence naming the lowest- and highest-NPS touchpoints (two or more
    shown touchpoints, "other" excluded)."""
    d = df[(df["touchpoint"] != "__other__") & df["nps"].notna()] if not df.empty else df
    if len(d) < 2:
        return []
    lo, hi = d.loc[d["nps"].idxmin()], d.loc[d["nps"].idxmax()]
    return [i18n.t("advocacy_touchpoint_low", cfg.language, tp=group_label(lo.touchpoint, cfg), nps=fmt_nps(lo.nps),
                   n=report.fmt_int(lo.responses), tp_hi=group_label(hi.touchpoint, cfg), nps_hi=fmt_nps(hi.nps))]


def describe_referrers(df: pd.DataFrame, cfg) -> list[str]:
    """A sentence comparing referrers' promoter share with other respondents'."""
    if df is None or df.empty:
        return []
    g = df.set_index("group")
    a, b = g.loc["referrer", "promoter_share"], g.loc["non_referrer", "promoter_share"]
    if pd.isna(a) or pd.isna(b):
        return []
    return [i18n.t("advocacy_referrers", cfg.language, p_ref=report.fmt_pct(a), p_other=report.fmt_pct(b))]


def describe_reviews(values: dict, cfg) -> list[str]:
    """The period's review figures in a sentence (none without events)."""
    if values.get("active_customers") is None:
        return []
    lang = cfg.language
    return [i18n.t("advocacy_reviews_line", lang, period=cfg.period.label(lang),
                   reviewers=report.fmt_int(values["reviewers"]), active=report.fmt_int(values["active_customers"]),
                   rate=report.fmt_pct(values["review_rate"]), reviews=report.fmt_int(values["reviews"]),
                   rating=report.fmt_num(values["rating"], 2))]


def describe_referrals(values: dict, cfg) -> list[str]:
    """The period's referral and share figures in a sentence."""
    lang = cfg.language
    per = cfg.period.label(lang)
    if values.get("new_customers") is not None and values.get("referral_events") is not None:
        return [i18n.t("advocacy_referral_line", lang, period=per, referred=report.fmt_int(values["referred"]),
                       new=report.fmt_int(values["new_customers"]), rate=report.fmt_pct(values["referral_rate"]),
                       events=report.fmt_int(values["referral_events"]), shares=report.fmt_int(values["shares"]))]
    if values.get("referral_events") is not None:
        return [i18n.t("advocacy_referral_events_line", lang, period=per,
                       events=report.fmt_int(values["referral_events"]), shares=report.fmt_int(values["shares"]))]
    return []


NEXT_TOUCHPOINT_GAP = 0.10
"""A touchpoint is worth a look when its NPS is at least 10 points below
the overall NPS."""


def next_steps(values: dict, chs: list, by_touchpoint: pd.DataFrame, by_ticket: pd.DataFrame | None,
               referrers: pd.DataFrame | None, cfg) -> list[str]:
    """What to look at next, generated from the data, most specific first:
    a touchpoint ≥ 10 NPS points below the overall NPS; a significant NPS
    gap after support tickets; a significant rise in the detractor share;
    referrers far more often promoters than others (≥ 20 pp). Falls back to
    a "nothing stands out" sentence."""
    lang = cfg.language
    out = []
    overall = values.get("nps")
    if overall is not None and by_touchpoint is not None and not by_touchpoint.empty:
        d = by_touchpoint[(by_touchpoint["touchpoint"] != "__other__") & by_touchpoint["nps"].notna()]
        if len(d) >= 2:
            lo = d.loc[d["nps"].idxmin()]
            if overall - lo.nps >= NEXT_TOUCHPOINT_GAP:
                out.append(i18n.t("advocacy_next_touchpoint", lang, tp=group_label(lo.touchpoint, cfg),
                                  nps=fmt_nps(lo.nps), gap=f"{100 * (overall - lo.nps):.0f}", overall=fmt_nps(overall)))
    gap = support_gap(by_ticket, cfg) if by_ticket is not None else None
    if gap is not None and gap.significant and gap.delta < 0:
        out.append(i18n.t("advocacy_next_support", lang, gap=f"{-100 * gap.delta:.0f}"))
    det = next((c for c in chs if c.key == "detractor_share"), None)
    if det is not None and det.significant and det.direction == "up":
        out.append(i18n.t("advocacy_next_detractors", lang, prev=cfg.period.previous().label(lang)))
    if referrers is not None and not referrers.empty:
        g = referrers.set_index("group")
        a, b = g.loc["referrer", "promoter_share"], g.loc["non_referrer", "promoter_share"]
        if pd.notna(a) and pd.notna(b) and a - b >= 0.20:
            out.append(i18n.t("advocacy_next_referrers", lang))
    return out or [i18n.t("advocacy_next_none", lang)]


# --------------------------------------------------------------------------
# Views for the notebook (tables and charts, display language)
# --------------------------------------------------------------------------

def nps_table(df: pd.DataFrame, group: str, cfg, group_title_key: str, caption: str | None = None) -> report.Table:
    """A breakdown frame as a client-facing table: group, responses, NPS,
    its interval, promoter / passive / detractor shares."""
    lang = cfg.language
    t = lambda k: i18n.t(k, lang)  # noqa: E731
    out = pd.DataFrame({
        t(group_title_key): [group_label(str(g), cfg) for g in df[group]],
        t("advocacy_col_responses"): df["responses"].astype("int64"),
        t("advocacy_col_nps"): [fmt_nps(v) for v in df["nps"]],
        t("advocacy_col_interval"): [("–" if pd.isna(lo) else i18n.t("advocacy_interval", lang, low=fmt_nps(lo),
                                                                      high=fmt_nps(hi)))
                                     for lo, hi in zip(df["ci_low"], df["ci_high"])],
        t("advocacy_col_promoters"): df["promoter_share"],
        t("advocacy_col_passives"): df["passive_share"],
        t("advocacy_col_detractors"): df["detractor_share"],
    })
    fm = {t("advocacy_col_responses"): "int", t("advocacy_col_nps"): "numtext", t("advocacy_col_interval"): "numtext",
          t("advocacy_col_promoters"): "pct", t("advocacy_col_passives"): "pct", t("advocacy_col_detractors"): "pct"}
    return report.table(out, cfg, fm, caption=caption)


def nps_chart(df: pd.DataFrame, cfg):
    """NPS by month with its 95% interval as a band, the period marked."""
    import matplotlib.dates
    import matplotlib.pyplot as plt

    from journeykit.report.plots import _axis_format

    fig, ax = plt.subplots(figsize=(8, 3.4))
    d = df.sort_values("month")
    ax.fill_between(d["month"], d["ci_low"], d["ci_high"], alpha=0.2, linewidth=0)
    ax.plot(d["month"], d["nps"], marker="o", markersize=3, linewidth=1.6)
    last = d.dropna(subset=["nps"]).tail(1)
    ax.plot(last["month"], last["nps"], marker="o", markersize=7, color=ax.lines[0].get_color())
    ax.axhline(0, color="#8c8c8c", linewidth=0.8)
    ax.set_title(i18n.t("advocacy_chart_nps", cfg.language))
    ax.set_ylabel(i18n.t("advocacy_axis_nps", cfg.language))
    _axis_format(ax, "nps")
    ax.xaxis.set_major_locator(matplotlib.dates.MonthLocator())
    ax.xaxis.set_major_formatter(matplotlib.dates.DateFormatter("%y-%m"))
    ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    fig.tight_layout()
    plt.close(fig)
    return fig


def mix_chart(df: pd.DataFrame, cfg):
    """Promoter / passive / detractor shares by month, stacked to 100%."""
    import matplotlib.pyplot as plt

    from journeykit.report.plots import _axis_format

    lang = cfg.language
    d = df.sort_values("month")
    x = list(range(len(d)))
    fig, ax = plt.subplots(figsize=(8, 3.4))
    bottom = pd.Series(0.0, index=d.index)
    for col, key, color in (("detractor_share", "advocacy_col_detractors", "#b8423c"),
                            ("passive_share", "advocacy_col_passives", "#c9c9c9"),
                            ("promoter_share", "advocacy_col_promoters", "#3a9d5d")):
        v = d[col].fillna(0.0)
        ax.bar(x, v, bottom=bottom, color=color, label=i18n.t(key, lang), width=0.75)
        bottom = bottom + v
    ax.set_xticks(x, [pd.Timestamp(m).strftime("%y-%m") for m in d["month"]], rotation=45, fontsize=8)
    ax.set_ylim(0, 1)
    ax.grid(axis="x", visible=False)
    _axis_format(ax, "pct")
    ax.set_ylabel(i18n.t("advocacy_axis_share", lang))
    ax.set_title(i18n.t("advocacy_chart_mix", lang))
    handles, names = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], names[::-1], loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9)  # as stacked
    fig.tight_layout()
    plt.close(fig)
    return fig


def trend_panels(ds, cfg) -> list[tuple[str, str, str]]:
    """The small-multiple panels for :func:`journeykit.report.plots.trends`: only
    KPIs the client's tables allow."""
    keys = ["promoter_share", "detractor_share", "responses"]
    if ds.has("events"):
        keys += ["review_rate", "shares"]   # rating stays in the KPI table: its monthly moves are hundredths
    if has_referral_links(ds):
        keys += ["referral_rate"]
    lab = labels(cfg)
    return [(k, lab[k], KINDS[k] if KINDS[k] != "int" else "int") for k in keys]


@dataclass
class Section:
    """Everything the notebook shows, computed once."""

    values: dict
    prev: dict
    changes: list
    monthly: pd.DataFrame
    by_touchpoint: pd.DataFrame
    by_touchpoint_trend: pd.DataFrame
    by_ticket: pd.DataFrame | None
    by_csat: pd.DataFrame | None
    by_usage: pd.DataFrame | None
    referrers: pd.DataFrame | None


def compute(ds, cfg) -> Section:
    """Compute every number of the section once (the notebook's cells show
    parts of it)."""
    a, b = period_values(ds, cfg.period), period_values(ds, cfg.period.previous())
    tickets = ds.has("tickets")
    return Section(values=a, prev=b, changes=changes(ds, cfg, (a, b)), monthly=monthly(ds, cfg),
                   by_touchpoint=nps_by_touchpoint(ds, cfg),
                   by_touchpoint_trend=nps_by_touchpoint(ds, cfg, months=cfg.definitions.trend_periods),
                   by_ticket=nps_by_recent_ticket(ds, cfg) if tickets else None,
                   by_csat=nps_by_ticket_csat(ds, cfg) if tickets else None,
                   by_usage=nps_by_usage(ds, cfg) if has_usage_events(ds) else None,
                   referrers=referrer_profile(ds, cfg) if has_referral_links(ds) else None)


class Views:
    """Several report items (tables, notes, narratives) shown as one cell output."""

    def __init__(self, *items):
        self.items = [i for i in items if i is not None]

    def _repr_html_(self) -> str:
        return "".join(i._repr_html_() for i in self.items)

    def __repr__(self) -> str:
        return "\n\n".join(repr(i) for i in self.items)


def _sentences(sentences: list[str]):
    return report.Narrative(sentences) if sentences else None


def touchpoint_view(s: Section, cfg) -> Views:
    """The period's NPS by touchpoint (table), the lowest/highest sentence,
    and the same table over the trend window (small touchpoints reach the
    minimum group size there)."""
    lang = cfg.language
    if s.by_touchpoint.empty:
        return Views(report.Note(i18n.t("advocacy_na_groups", lang)))
    n = cfg.definitions.trend_periods
    span = cfg.period.trailing(n)
    cap = i18n.t("advocacy_caption_months", lang, n=n, start=span[0].label(lang), end=span[-1].label(lang))
    return Views(nps_table(s.by_touchpoint, "touchpoint", cfg, "advocacy_col_touchpoint", cfg.period.label(lang)),
                 _sentences(describe_touchpoints(s.by_touchpoint, cfg)),
                 nps_table(s.by_touchpoint_trend, "touchpoint", cfg, "advocacy_col_touchpoint", cap)
                 if not s.by_touchpoint_trend.empty else None)


def support_view(s: Section, cfg) -> Views:
    """NPS with vs without a recent ticket, then by the last ticket's CSAT;
    a "not available" note without tickets."""
    if s.by_ticket is None:
        return Views(report.Note(i18n.t("advocacy_na_tickets", cfg.language)))
    items = [nps_table(s.by_ticket, "group", cfg, "advocacy_col_group"), _sentences(describe_support(s.by_ticket, cfg))]
    if s.by_csat is not None and not s.by_csat.empty:
        items.append(nps_table(s.by_csat, "group", cfg, "advocacy_col_group"))
    return Views(*items)


def usage_view(s: Section, cfg) -> Views:
    """NPS by usage in the 30 days before answering, or a note."""
    if s.by_usage is None:
        return Views(report.Note(i18n.t("advocacy_na_usage", cfg.language)))
    if s.by_usage.empty:
        return Views(report.Note(i18n.t("advocacy_na_groups", cfg.language)))
    return Views(nps_table(s.by_usage, "group", cfg, "advocacy_col_group"))


def reviews_view(s: Section, cfg) -> Views:
    """The review sentence, or a "not available" note without events."""
    if s.values.get("active_customers") is None:
        return Views(report.Note(i18n.t("advocacy_na_events", cfg.language)))
    return Views(_sentences(describe_reviews(s.values, cfg)))


def referrals_view(s: Section, cfg) -> Views:
    """Referral rate and events, referrers' NPS; notes for what is missing."""
    lang = cfg.language
    items = [_sentences(describe_referrals(s.values, cfg))]
    if s.values.get("new_customers") is None:
        items.append(report.Note(i18n.t("advocacy_na_referred_by", lang)))
    if s.values.get("referral_events") is None:
        items.append(report.Note(i18n.t("advocacy_na_events", lang)))
    if s.referrers is not None and not s.referrers.empty:
        items += [nps_table(s.referrers, "group", cfg, "advocacy_col_group"),
                  _sentences(describe_referrers(s.referrers, cfg))]
    return Views(*items)


def next_steps_view(s: Section, cfg) -> report.Narrative:
    """The generated "what to look at next" sentences."""
    return report.Narrative(next_steps(s.values, s.changes, s.by_touchpoint, s.by_ticket, s.referrers, cfg))


def metrics(ds, cfg, section: Section | None = None) -> dict:
    """The section's ``metrics.json`` entries: the stable keys (``nps``,
    ``nps_ci_low``, ``nps_ci_high``, ``promoter_share``, ``detractor_share``,
    ``review_rate``, ``referral_rate``, each with ``_prev``; ``None`` when
    not computable), plus ``responses``, ``passive_share``, ``rating``,
    ``reviews``, ``referral_events``, ``shares`` (with ``_prev``) and the
    support gap (``nps_with_recent_ticket``, ``nps_without_recent_ticket``)."""
    s = section or compute(ds, cfg)
    a, b = s.values, s.prev
    out = {}
    for k in KEYS + ("responses", "passive_share", "rating", "reviews", "referral_events", "shares"):
        out[k] = a.get(k)
        out[f"{k}_prev"] = b.get(k)
    gap = support_gap(s.by_ticket, cfg) if s.by_ticket is not None else None
    out["nps_with_recent_ticket"] = gap.value if gap else None
    out["nps_without_recent_ticket"] = gap.prev if gap else None
    return {k: (None if v is None or (isinstance(v, float) and math.isnan(v)) else v) for k, v in out.items()}


__all__ = ["KEYS", "KINDS", "PROMOTER_MIN", "PASSIVE_MIN", "RECENT_TICKET_DAYS", "responses", "with_nps",
           "nps_counts", "review_stats", "referral_stats", "has_referral_links", "period_values", "changes",
           "labels", "monthly", "nps_by_touchpoint", "response_support", "nps_by_recent_ticket",
           "nps_by_ticket_csat", "nps_by_usage", "has_usage_events", "referrer_profile", "headline",
           "support_gap", "describe_support", "describe_touchpoints", "describe_referrers", "describe_reviews",
           "describe_referrals", "next_steps", "nps_table", "nps_chart", "mix_chart", "trend_panels",
           "Section", "compute", "metrics", "fmt_nps", "group_label", "Views", "touchpoint_view", "support_view",
           "usage_view", "reviews_view", "referrals_view", "next_steps_view"]
