"""Advocacy, what the notebook shows: labels, tables, charts and generated
sentences in the client's language, built from what
:mod:`journeykit.sections.advocacy.compute` returns (an
:class:`~journeykit.sections.advocacy.compute.Advocacy`)."""

from __future__ import annotations

import math

import pandas as pd

from journeykit import report
from journeykit.core import i18n
from journeykit.report import plots
from journeykit.sections.advocacy.compute import NO_TOUCHPOINT, OTHER, Advocacy, support_gap

KINDS = {"nps": "nps", "responses": "int", "promoter_share": "pct", "passive_share": "pct",
         "detractor_share": "pct", "review_rate": "pct", "rating": "num", "reviews": "int",
         "referral_rate": "pct", "referral_events": "int", "shares": "int"}
"""Display kind of each KPI (for :func:`journeykit.report.key_figures`)."""
TREND_KEYS = ("promoter_share", "detractor_share", "responses", "review_rate", "shares", "referral_rate")
"""The small multiples of the trend (the rating stays in the KPI table: its monthly moves are hundredths)."""

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
    "advocacy_axis_nps": {"en": "NPS (−100 to 100)", "ko": "NPS (−100~100)"},
    "advocacy_axis_share": {"en": "Share of responses", "ko": "응답 비율"},
    "advocacy_no_trend": {"en": "No survey response with an NPS answer in the last {n} months.",
                          "ko": "최근 {n}개월에는 NPS 응답이 없습니다."},
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
        "ko": "다른 고객을 추천한 고객의 응답 중 {p_ref}이(가) 추천 고객(9–10점)이며, 그 밖의 응답자는 {p_other}입니다."},
    "advocacy_na_groups": {"en": "Too few responses to show this breakdown.",
                           "ko": "응답이 적어 이 분석을 표시할 수 없습니다."},
    "advocacy_reviews_rate_line": {
        "en": "In {period}, {reviewers} of {active} active customers wrote a review ({rate}).",
        "ko": "{period}에 활성 고객 {active}명 중 {reviewers}명이 리뷰를 작성했습니다({rate})."},
    "advocacy_reviews_rating_line": {
        "en": "{reviews} reviews averaged {rating} of 5.",
        "ko": "리뷰 {reviews}건의 평균 평점은 5점 만점에 {rating}점입니다."},
    "advocacy_reviews_count_line": {
        "en": "{reviews} reviews were written in {period}.",
        "ko": "{period}에 작성된 리뷰는 {reviews}건입니다."},
    "advocacy_referral_rate_line": {
        "en": "{referred} of {new} new customers in {period} were referred by an existing customer ({rate}).",
        "ko": "{period} 신규 고객 {new}명 중 {referred}명이 기존 고객의 추천으로 가입했습니다({rate})."},
    "advocacy_referral_events_line": {
        "en": "Customers sent {events} referrals in {period}.",
        "ko": "{period}에 고객이 보낸 추천은 {events}건입니다."},
    "advocacy_shares_line": {
        "en": "Customers shared {shares} times in {period}.",
        "ko": "{period}에 고객의 공유는 {shares}건입니다."},
    # what the data does not allow (compute.skipped), each said once
    "advocacy_skip_nps": {"en": "NPS is not available: the surveys have no nps column.",
                          "ko": "NPS는 제공되지 않습니다: 설문 데이터에 nps 컬럼이 없습니다."},
    "advocacy_skip_touchpoint": {
        "en": "NPS by touchpoint is not available: the surveys have no touchpoint column.",
        "ko": "접점별 NPS는 제공되지 않습니다: 설문 데이터에 touchpoint 컬럼이 없습니다."},
    "advocacy_skip_survey_customers": {
        "en": "NPS by support experience, usage and referrals is not available: the survey responses carry no customer_id.",
        "ko": "상담 경험·이용 수준·추천 여부별 NPS는 제공되지 않습니다: 설문 응답에 customer_id가 없습니다."},
    "advocacy_skip_tickets": {"en": "NPS by support experience is not available: it needs the support tickets table.",
                              "ko": "상담 경험별 NPS는 상담 티켓 테이블이 있어야 제공됩니다."},
    "advocacy_skip_ticket_csat": {
        "en": "NPS by the satisfaction of the last ticket is not shown: the tickets have no csat column.",
        "ko": "최근 상담 만족도별 NPS는 표시하지 않습니다: 상담 티켓 데이터에 csat 컬럼이 없습니다."},
    "advocacy_skip_usage": {"en": "NPS by usage is not available: it needs login or feature-use events with a customer_id.",
                            "ko": "이용 수준별 NPS는 customer_id가 있는 로그인 또는 기능 사용 이벤트가 있어야 제공됩니다."},
    "advocacy_skip_events": {"en": "Reviews, referral events and shares are not available: they need the events table.",
                             "ko": "리뷰, 추천 이벤트, 공유 지표는 이벤트 테이블이 있어야 제공됩니다."},
    "advocacy_skip_event_customers": {
        "en": "The review rate is not available: the events carry no customer_id.",
        "ko": "리뷰 작성률은 제공되지 않습니다: 이벤트 데이터에 customer_id가 없습니다."},
    "advocacy_skip_review_events": {
        "en": "Reviews are not available: the events include no review events.",
        "ko": "리뷰 지표는 제공되지 않습니다: 이벤트 데이터에 리뷰(review) 이벤트가 없습니다."},
    "advocacy_skip_rating_value": {
        "en": "The review rating is not available: the events have no value column.",
        "ko": "리뷰 평점은 제공되지 않습니다: 이벤트 데이터에 value 컬럼이 없습니다."},
    "advocacy_skip_referred_by": {
        "en": "The referral rate is not available: the customers table has no referred_by links.",
        "ko": "추천 유입 비율은 제공되지 않습니다: 고객 테이블에 추천인(referred_by) 정보가 없습니다."},
    "advocacy_skip_referral_events": {
        "en": "Referrals sent are not available: the events include no referral events.",
        "ko": "추천 발송 수는 제공되지 않습니다: 이벤트 데이터에 추천(referral) 이벤트가 없습니다."},
    "advocacy_skip_share_events": {
        "en": "Shares are not available: the events include no share events.",
        "ko": "공유 수는 제공되지 않습니다: 이벤트 데이터에 공유(share) 이벤트가 없습니다."},
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


def labels(cfg) -> dict[str, str]:
    """Display label of each KPI key in the client's language."""
    return {k: i18n.t(f"advocacy_{k}", cfg.language) for k in KINDS}


def fmt_nps(x) -> str:
    """NPS for display: ``0.321`` → ``32.1``, ``-0.05`` → ``−5.0``; missing → ``–``."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    v = round(100 * float(x), 1)
    return f"−{abs(v):.1f}" if v < 0 else f"{abs(v):.1f}"  # U+2212: a hyphen is easily lost in print


def group_label(group: str, cfg) -> str:
    """Display name of a breakdown group (touchpoint, support, usage, referrer)."""
    lang = cfg.language
    if group == OTHER:
        return i18n.t("other_group", lang)
    if group == NO_TOUCHPOINT:
        return i18n.t("advocacy_tp_none", lang)
    if group.startswith("csat_"):
        v = group[5:]
        return i18n.t("advocacy_grp_csat_none", lang) if v == "none" else i18n.t("advocacy_grp_csat", lang, csat=v)
    for prefix in ("advocacy_tp_", "advocacy_grp_"):
        if f"{prefix}{group}" in i18n.TEXT:
            return i18n.t(f"{prefix}{group}", lang)
    return group


def skip_note(skipped: list[str], cfg, *keys: str) -> report.Note | None:
    """One note naming the analyses among ``keys`` that the data does not
    allow (from :func:`journeykit.sections.advocacy.compute.skipped`), or
    ``None``. The views below show each reason once, where its analysis
    would be."""
    texts = [i18n.t(f"advocacy_skip_{k}", cfg.language) for k in keys if k in skipped]
    return report.Note(" ".join(texts), "warn") if texts else None


def _sentences(sentences: list[str]):
    return report.Narrative(sentences) if sentences else None


# --------------------------------------------------------------------------
# Generated text
# --------------------------------------------------------------------------

def headline(values: dict, cfg) -> str:
    """One sentence: the period's NPS, its interval, responses and mix."""
    lang = cfg.language
    if not values.get("responses"):
        return i18n.t("advocacy_no_responses", lang, period=cfg.period.label(lang))
    return i18n.t("advocacy_headline", lang, period=cfg.period.label(lang), nps=fmt_nps(values["nps"]),
                  low=fmt_nps(values["nps_ci_low"]), high=fmt_nps(values["nps_ci_high"]),
                  n=report.fmt_int(values["responses"]), p=report.fmt_pct(values["promoter_share"]),
                  d=report.fmt_pct(values["detractor_share"]))


def describe_support(df: pd.DataFrame | None, cfg) -> list[str]:
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


def describe_touchpoints(df: pd.DataFrame | None, cfg) -> list[str]:
    """A sentence naming the lowest- and highest-NPS touchpoints (two or more
    shown touchpoints, "other" excluded)."""
    if df is None or df.empty:
        return []
    d = df[(df["touchpoint"] != OTHER) & df["nps"].notna()]
    if len(d) < 2:
        return []
    lo, hi = d.loc[d["nps"].idxmin()], d.loc[d["nps"].idxmax()]
    return [i18n.t("advocacy_touchpoint_low", cfg.language, tp=group_label(lo.touchpoint, cfg), nps=fmt_nps(lo.nps),
                   n=report.fmt_int(lo.responses), tp_hi=group_label(hi.touchpoint, cfg), nps_hi=fmt_nps(hi.nps))]


def _referrer_shares(df: pd.DataFrame | None):
    if df is None or df.empty:
        return None
    g = df.set_index("group")
    a, b = g.loc["referrer", "promoter_share"], g.loc["non_referrer", "promoter_share"]
    return None if pd.isna(a) or pd.isna(b) else (float(a), float(b))


def describe_referrers(df: pd.DataFrame | None, cfg) -> list[str]:
    """A sentence comparing referrers' promoter share with other respondents'."""
    shares = _referrer_shares(df)
    if shares is None:
        return []
    return [i18n.t("advocacy_referrers", cfg.language, p_ref=report.fmt_pct(shares[0]),
                   p_other=report.fmt_pct(shares[1]))]


def describe_reviews(values: dict, cfg) -> list[str]:
    """The period's review figures in sentences: the review rate (with
    customer ids), the average rating (with ``value``) or else the count
    of reviews; none without review events."""
    lang = cfg.language
    per = cfg.period.label(lang)
    out = []
    if values.get("review_rate") is not None or values.get("active_customers"):
        out.append(i18n.t("advocacy_reviews_rate_line", lang, period=per,
                          reviewers=report.fmt_int(values["reviewers"]),
                          active=report.fmt_int(values["active_customers"]), rate=report.fmt_pct(values["review_rate"])))
    if values.get("rated"):
        out.append(i18n.t("advocacy_reviews_rating_line", lang, reviews=report.fmt_int(values["rated"]),
                          rating=report.fmt_num(values["rating"], 2)))
    elif values.get("reviews") is not None:
        out.append(i18n.t("advocacy_reviews_count_line", lang, period=per, reviews=report.fmt_int(values["reviews"])))
    return out


def describe_referrals(values: dict, cfg) -> list[str]:
    """The period's referral rate, referrals sent and shares in sentences,
    each when the data allows it."""
    lang = cfg.language
    per = cfg.period.label(lang)
    out = []
    if values.get("new_customers") is not None:
        out.append(i18n.t("advocacy_referral_rate_line", lang, period=per, referred=report.fmt_int(values["referred"]),
                          new=report.fmt_int(values["new_customers"]), rate=report.fmt_pct(values["referral_rate"])))
    if values.get("referral_events") is not None:
        out.append(i18n.t("advocacy_referral_events_line", lang, period=per,
                          events=report.fmt_int(values["referral_events"])))
    if values.get("shares") is not None:
        out.append(i18n.t("advocacy_shares_line", lang, period=per, shares=report.fmt_int(values["shares"])))
    return out


NEXT_TOUCHPOINT_GAP = 0.10
"""A touchpoint is worth a look when its NPS is at least 10 points below
the overall NPS."""


def next_steps(s: Advocacy, cfg) -> list[str]:
    """What to look at next, generated from the data, most specific first:
    a touchpoint ≥ 10 NPS points below the overall NPS; a significant NPS
    gap after support tickets; referrers far more often promoters than
    others (≥ 20 pp). Falls back to a "nothing stands out" sentence. A
    significant rise in the detractor share has its advice in the key
    figures (:func:`.compute.advice`), so it agrees with the report's
    verdicts."""
    lang = cfg.language
    out = []
    overall = s.values.get("nps")
    tp = s.by_touchpoint
    if overall is not None and tp is not None and not tp.empty:
        d = tp[(tp["touchpoint"] != OTHER) & tp["nps"].notna()]
        if len(d) >= 2:
            lo = d.loc[d["nps"].idxmin()]
            if overall - lo.nps >= NEXT_TOUCHPOINT_GAP:
                out.append(i18n.t("advocacy_next_touchpoint", lang, tp=group_label(lo.touchpoint, cfg),
                                  nps=fmt_nps(lo.nps), gap=f"{100 * (overall - lo.nps):.0f}", overall=fmt_nps(overall)))
    gap = support_gap(s.by_ticket, cfg)
    if gap is not None and gap.significant and gap.delta < 0:
        out.append(i18n.t("advocacy_next_support", lang, gap=f"{-100 * gap.delta:.0f}"))
    shares = _referrer_shares(s.referrers)
    if shares is not None and shares[0] - shares[1] >= 0.20:
        out.append(i18n.t("advocacy_next_referrers", lang))
    return out or [i18n.t("advocacy_next_none", lang)]


# --------------------------------------------------------------------------
# Tables and charts
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


def overview(s: Advocacy, cfg):
    """The period's NPS in a sentence, or why there is none."""
    if "nps" in s.skipped:
        return skip_note(s.skipped, cfg, "nps")
    return report.Narrative([headline(s.values, cfg)])


def nps_chart(s: Advocacy, cfg):
    """NPS by month with its 95% interval as a band, the period marked;
    a sentence instead when no month of the trend has a response, nothing
    without NPS (the overview says why)."""
    import matplotlib.dates
    import matplotlib.pyplot as plt

    if "nps" in s.skipped:
        return None
    if s.monthly["nps"].isna().all():
        return report.Note(i18n.t("advocacy_no_trend", cfg.language, n=len(s.monthly)))
    d = plots.from_first_data(s.monthly, ["nps"])   # from the first month with a response
    fig, ax = plt.subplots(figsize=(8, 3.4))
    ax.fill_between(d["month"], d["ci_low"], d["ci_high"], alpha=0.2, linewidth=0)
    ax.plot(d["month"], d["nps"], marker="o", markersize=3, linewidth=1.6)
    last = d.dropna(subset=["nps"]).tail(1)
    ax.plot(last["month"], last["nps"], marker="o", markersize=7, color=ax.lines[0].get_color())
    ax.axhline(0, color="#8c8c8c", linewidth=0.8)
    ax.set_title(i18n.t("advocacy_chart_nps", cfg.language))
    ax.set_ylabel(i18n.t("advocacy_axis_nps", cfg.language))
    ax.set_ylim(*plots.rate_limits(pd.concat([d["nps"], d["ci_low"], d["ci_high"]]), "nps"))   # 0 in, ±100 at most
    plots._axis_format(ax, "nps")
    ax.xaxis.set_major_locator(matplotlib.dates.MonthLocator(interval=max(1, len(d) // 12)))
    ax.xaxis.set_major_formatter(matplotlib.dates.DateFormatter("%y-%m"))
    ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    fig.tight_layout()
    plt.close(fig)
    return fig


def mix_chart(s: Advocacy, cfg):
    """Promoter / passive / detractor shares by month, stacked to 100%;
    nothing without responses in the trend (:func:`nps_chart` says so)."""
    import matplotlib.pyplot as plt

    if "nps" in s.skipped or s.monthly["nps"].isna().all():
        return None
    d = plots.from_first_data(s.monthly, ["nps"])   # from the first month with a response
    lang = cfg.language
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
    plots._axis_format(ax, "pct")
    ax.set_ylabel(i18n.t("advocacy_axis_share", lang))
    ax.set_title(i18n.t("advocacy_chart_mix", lang))
    handles, names = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], names[::-1], loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9)  # as stacked
    fig.tight_layout()
    plt.close(fig)
    return fig


def trend(s: Advocacy, cfg):
    """Small multiples of the monthly KPIs the data allows (:data:`TREND_KEYS`);
    nothing when none has a value (the NPS chart already said so)."""
    lab = labels(cfg)
    panels = [(k, lab[k], KINDS[k]) for k in TREND_KEYS]
    return plots.trends(s.monthly, panels,
                        title=i18n.t("advocacy_chart_trends", cfg.language, n=len(s.monthly)))


def touchpoint_view(s: Advocacy, cfg):
    """The period's NPS by touchpoint (table), the lowest/highest sentence,
    and the same table over the trend window (small touchpoints reach the
    minimum group size there); or the reason it is not available."""
    lang = cfg.language
    if "nps" in s.skipped:
        return None
    if s.by_touchpoint is None:
        return skip_note(s.skipped, cfg, "touchpoint")
    if s.by_touchpoint.empty:
        return report.Note(i18n.t("advocacy_na_groups", lang))
    n = cfg.definitions.trend_periods
    span = cfg.period.trailing(n)
    cap = i18n.t("advocacy_caption_months", lang, n=n, start=span[0].label(lang), end=span[-1].label(lang))
    trend_df = s.by_touchpoint_trend
    return report.Blocks([
        nps_table(s.by_touchpoint, "touchpoint", cfg, "advocacy_col_touchpoint", cfg.period.label(lang)),
        _sentences(describe_touchpoints(s.by_touchpoint, cfg)),
        nps_table(trend_df, "touchpoint", cfg, "advocacy_col_touchpoint", cap)
        if trend_df is not None and not trend_df.empty else None])


def support_view(s: Advocacy, cfg):
    """NPS with vs without a recent ticket, then by the last ticket's CSAT;
    or the reason it is not available."""
    if "nps" in s.skipped:
        return None
    if s.by_ticket is None:
        return skip_note(s.skipped, cfg, "survey_customers", "tickets")
    items = [nps_table(s.by_ticket, "group", cfg, "advocacy_col_group"), _sentences(describe_support(s.by_ticket, cfg))]
    if s.by_csat is None:
        items.append(skip_note(s.skipped, cfg, "ticket_csat"))
    elif not s.by_csat.empty:
        items.append(nps_table(s.by_csat, "group", cfg, "advocacy_col_group"))
    return report.Blocks(items)


def usage_view(s: Advocacy, cfg):
    """NPS by usage in the 30 days before answering, or the reason it is
    not available (a missing ``surveys.customer_id`` is said in
    :func:`support_view`)."""
    if "nps" in s.skipped or "survey_customers" in s.skipped:
        return None
    if s.by_usage is None:
        return skip_note(s.skipped, cfg, "usage")
    if s.by_usage.empty:
        return report.Note(i18n.t("advocacy_na_groups", cfg.language))
    return nps_table(s.by_usage, "group", cfg, "advocacy_col_group")


def reviews_view(s: Advocacy, cfg):
    """The review sentences, and the reasons for what is not available."""
    return report.Blocks([_sentences(describe_reviews(s.values, cfg)),
                          skip_note(s.skipped, cfg, "events", "review_events", "event_customers", "rating_value")])


def referrals_view(s: Advocacy, cfg):
    """Referral rate, referrals sent and shares, referrers' NPS; the reasons
    for what is not available (missing events are said in :func:`reviews_view`)."""
    items = [_sentences(describe_referrals(s.values, cfg)),
             skip_note(s.skipped, cfg, "referred_by", "referral_events", "share_events")]
    if s.referrers is not None and not s.referrers.empty:
        items += [nps_table(s.referrers, "group", cfg, "advocacy_col_group"),
                  _sentences(describe_referrers(s.referrers, cfg))]
    return report.Blocks(items)


__all__ = ["KINDS", "TREND_KEYS", "labels", "fmt_nps", "group_label", "skip_note", "headline", "describe_support",
           "describe_touchpoints", "describe_referrers", "describe_reviews", "describe_referrals", "next_steps",
           "nps_table", "overview", "nps_chart", "mix_chart", "trend", "touchpoint_view", "support_view",
           "usage_view", "reviews_view", "referrals_view"]
