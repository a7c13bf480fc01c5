"""Awareness, what the notebook shows: labels, tables, charts and generated
sentences in the client's language, built from what
:mod:`journeykit.sections.awareness.compute` returns."""

from __future__ import annotations

import pandas as pd

from journeykit import report
from journeykit.core import i18n
from journeykit.report import plots
from journeykit.sections.awareness.compute import OTHER, UNKNOWN
from journeykit.stats.compare import safe_div

i18n.register({
    "awareness_impressions": {"en": "Impressions", "ko": "노출수"},
    "awareness_clicks": {"en": "Clicks", "ko": "클릭수"},
    "awareness_ctr": {"en": "Click-through rate", "ko": "클릭률 (CTR)"},
    "awareness_ctr_per_mille": {"en": "Clicks per 1,000 impressions (CTR ‰)", "ko": "노출 천 회당 클릭 (CTR ‰)"},
    "awareness_ctr_axis": {"en": "Click-through rate (%)", "ko": "클릭률 (%)"},
    "awareness_spend": {"en": "Ad spend", "ko": "광고비"},
    "awareness_cpc": {"en": "Cost per click", "ko": "클릭당 비용 (CPC)"},
    "awareness_cpm": {"en": "Cost per 1,000 impressions", "ko": "천 회 노출당 비용 (CPM)"},
    "awareness_new_customers": {"en": "New customers", "ko": "신규 고객"},
    "awareness_paid_new_customers": {"en": "New customers from paid channels", "ko": "유료 채널 신규 고객"},
    "awareness_cac": {"en": "Cost per new customer, paid channels (CAC)", "ko": "유료 채널 고객 획득 비용 (CAC)"},
    "awareness_blended_cac": {"en": "Spend per new customer, all channels", "ko": "전체 신규 고객당 광고비"},
    "awareness_visits": {"en": "Visits", "ko": "방문수"},
    "awareness_new_visitors": {"en": "New visitors", "ko": "신규 방문자"},
    "awareness_col_channel": {"en": "Channel", "ko": "채널"},
    "awareness_col_acq_channel": {"en": "Acquisition channel", "ko": "유입 채널"},
    "awareness_col_source": {"en": "Source", "ko": "유입 경로"},
    "awareness_col_spend_share": {"en": "Share of spend", "ko": "광고비 비중"},
    "awareness_col_new_share": {"en": "Share of new customers", "ko": "신규 고객 비중"},
    "awareness_col_new_visitor_share": {"en": "New visitors / visits", "ko": "신규 방문자 / 방문"},
    "awareness_unknown": {"en": "unknown", "ko": "미상"},
    "awareness_trend_title": {"en": "Awareness, last {n} months", "ko": "최근 {n}개월 인지 단계 지표"},
    "awareness_trend_empty": {"en": "No month of the trend window has marketing data.",
                              "ko": "추이 기간에 마케팅 데이터가 있는 달이 없습니다."},
    "awareness_ctr_title": {"en": "Click-through rate by channel, {period}", "ko": "{period} 채널별 클릭률"},
    "awareness_cac_title": {"en": "Cost per new customer by acquisition channel, {period}",
                            "ko": "{period} 유입 채널별 고객 획득 비용"},
    "awareness_no_media": {"en": "No marketing rows in {period}.", "ko": "{period}에는 마케팅 데이터가 없습니다."},
    "awareness_skip_acquisition": {
        "en": "New customers and CAC are not shown: they need the customers table with an acquisition_channel column.",
        "ko": "신규 고객과 CAC는 표시하지 않습니다: acquisition_channel 컬럼이 있는 고객 테이블이 필요합니다.",
    },
    "awareness_skip_events": {
        "en": "Visits and new visitors by source are not shown: they need the events table.",
        "ko": "유입 경로별 방문과 신규 방문자는 표시하지 않습니다: 이벤트 테이블이 필요합니다.",
    },
    "awareness_skip_event_channel": {
        "en": "Visits by source are not shown: the events have no channel column.",
        "ko": "유입 경로별 방문은 표시하지 않습니다: 이벤트 데이터에 channel 컬럼이 없습니다.",
    },
    "awareness_skip_spend": {
        "en": "The marketing export has no spend, so costs (CPC, CPM, CAC) are not shown.",
        "ko": "마케팅 데이터에 광고비가 없어 비용 지표(CPC, CPM, CAC)는 표시하지 않습니다.",
    },
    "awareness_ctr_range": {
        "en": "{best} has the highest click-through rate ({best_ctr}) and {worst} the lowest ({worst_ctr}).",
        "ko": "클릭률이 가장 높은 채널은 {best}({best_ctr}), 가장 낮은 채널은 {worst}({worst_ctr})입니다.",
    },
    "awareness_spend_top": {
        "en": "{channel} takes the largest share of spend ({share}).",
        "ko": "광고비 비중이 가장 큰 채널은 {channel}({share})입니다.",
    },
    "awareness_cac_range": {
        "en": "A new customer costs {best_cac} through {best} and {worst_cac} through {worst}.",
        "ko": "신규 고객 한 명의 획득 비용은 {best} {best_cac}, {worst} {worst_cac}입니다.",
    },
    "awareness_next_cac": {
        "en": "Review the budget of {worst}: it takes {share} of spend and a new customer costs {worst_cac} there, "
              "{ratio:.1f}× {best} ({best_cac}).",
        "ko": "{worst}의 예산을 검토하세요: 광고비의 {share}을(를) 쓰며 신규 고객당 {worst_cac}(으)로 {best}({best_cac})의 {ratio:.1f}배입니다.",
    },
    "awareness_next_ctr": {
        "en": "Refresh the creative or targeting on {channel}: its click-through rate ({ctr}) is under half the average ({avg}).",
        "ko": "{channel}의 소재나 타기팅을 점검하세요: 클릭률({ctr})이 평균({avg})의 절반에도 못 미칩니다.",
    },
    "awareness_next_add_acq": {
        "en": "Add acquisition_channel to the customers export to compare what a new customer costs per channel.",
        "ko": "채널별 고객 획득 비용을 비교하려면 고객 데이터에 acquisition_channel을 추가하세요.",
    },
    "awareness_next_none": {
        "en": "No channel stands out this month; keep watching CAC and click-through rate in the trend.",
        "ko": "이번 달에는 눈에 띄는 채널이 없습니다. CAC와 클릭률 추이를 계속 지켜보세요.",
    },
})

LABEL_KEYS = ("impressions", "clicks", "ctr", "spend", "cpc", "cpm", "new_customers", "paid_new_customers", "cac",
              "blended_cac", "visits", "new_visitors")
KINDS = {"impressions": "int", "clicks": "int", "ctr": "pct", "spend": "money", "cpc": "money", "cpm": "money",
         "new_customers": "int", "paid_new_customers": "int", "cac": "money", "blended_cac": "money",
         "visits": "int", "new_visitors": "int"}
"""Display kind of each KPI (the recorded changes keep CTR as a 0–1 rate)."""
TREND_KEYS = ("impressions", "clicks", "ctr", "spend", "cpc", "new_customers", "cac", "visits", "new_visitors")


def labels(cfg) -> dict[str, str]:
    """KPI key → display label in the client's language."""
    return {k: i18n.t(f"awareness_{k}", cfg.language) for k in LABEL_KEYS}


def channel_label(channel: str, cfg) -> str:
    """A channel for display: the folded row as "other", a missing channel
    as "unknown" (in the client's language), any other name as it is."""
    if channel == OTHER:
        return i18n.t("other_group", cfg.language)
    if channel == UNKNOWN:
        return i18n.t("awareness_unknown", cfg.language)
    return str(channel)


def _cap(text: str) -> str:
    # channel names are the client's own (often lower case) and may start a sentence
    return text[:1].upper() + text[1:]


def for_display(changes: list, cfg) -> tuple[list, dict[str, str], dict[str, str]]:
    """The changes, labels and kinds for :func:`journeykit.report.key_figures`
    (CTR as a percentage with two decimals, see
    :func:`journeykit.report.fmt_kpi`): what the notebook shows and what a
    report run shows again from the recorded changes."""
    return list(changes), labels(cfg), dict(KINDS)


def skip_note(skipped: list[str], cfg, *keys: str) -> report.Note | None:
    """One warning naming the analyses among ``keys`` that the data does
    not allow (from :func:`journeykit.sections.awareness.compute.skipped`),
    or ``None`` when none of them is skipped. Each reason is shown by the
    notebook once, where its analysis would be."""
    texts = [i18n.t(f"awareness_skip_{k}", cfg.language) for k in keys if k in skipped]
    return report.Note(" ".join(texts), "warn") if texts else None


# --------------------------------------------------------------------------
# Generated text
# --------------------------------------------------------------------------

def insights(media: pd.DataFrame, acq: pd.DataFrame | None, cfg) -> list[str]:
    """Sentences on the channel breakdowns: the highest and lowest CTR, the
    largest share of spend, the cheapest and dearest CAC (the folded row
    left out; each sentence needs two channels to compare)."""
    lang = cfg.language
    out = []
    d = media[media.channel != OTHER].dropna(subset=["ctr"])
    if len(d) >= 2:
        hi, lo = d.loc[d.ctr.astype(float).idxmax()], d.loc[d.ctr.astype(float).idxmin()]
        out.append(_cap(i18n.t("awareness_ctr_range", lang, best=channel_label(hi.channel, cfg),
                               best_ctr=report.fmt_pct(hi.ctr, 2), worst=channel_label(lo.channel, cfg),
                               worst_ctr=report.fmt_pct(lo.ctr, 2))))
    s = media[media.channel != OTHER].dropna(subset=["spend_share"])
    if len(s) >= 2:
        top = s.loc[s.spend_share.astype(float).idxmax()]
        out.append(_cap(i18n.t("awareness_spend_top", lang, channel=channel_label(top.channel, cfg),
                               share=report.fmt_pct(top.spend_share))))
    if acq is not None:
        a = acq[acq.channel != OTHER].dropna(subset=["cac"])
        if len(a) >= 2:
            lo, hi = a.loc[a.cac.astype(float).idxmin()], a.loc[a.cac.astype(float).idxmax()]
            out.append(i18n.t("awareness_cac_range", lang, best=channel_label(lo.channel, cfg),
                              best_cac=report.fmt_money(lo.cac, cfg.currency), worst=channel_label(hi.channel, cfg),
                              worst_cac=report.fmt_money(hi.cac, cfg.currency)))
    return out


def next_steps(media: pd.DataFrame, acq: pd.DataFrame | None, cfg, cac_ratio: float = 2.0) -> list[str]:
    """What to look at next: a channel whose CAC is at least ``cac_ratio`` ×
    the cheapest (budget review); channels whose CTR is under half the
    all-channel CTR (creative/targeting); a hint to send
    acquisition_channel when spend is known but CAC cannot be computed;
    else nothing stands out."""
    lang = cfg.language
    out = []
    if acq is None:
        if media["spend"].notna().any():
            out.append(i18n.t("awareness_next_add_acq", lang))
    else:
        a = acq[acq.channel != OTHER].dropna(subset=["cac"])
        if len(a) >= 2:
            lo, hi = a.loc[a.cac.astype(float).idxmin()], a.loc[a.cac.astype(float).idxmax()]
            if lo.cac > 0 and hi.cac / lo.cac >= cac_ratio:
                share = media.loc[media.channel == hi.channel, "spend_share"]
                out.append(i18n.t("awareness_next_cac", lang, worst=channel_label(hi.channel, cfg),
                                  best=channel_label(lo.channel, cfg),
                                  share=report.fmt_pct(share.iloc[0] if len(share) else None),
                                  worst_cac=report.fmt_money(hi.cac, cfg.currency),
                                  best_cac=report.fmt_money(lo.cac, cfg.currency), ratio=hi.cac / lo.cac))
    avg = safe_div(media.clicks.sum(), media.impressions.sum())
    if avg and (media.channel != OTHER).sum() >= 2:
        for r in media[media.channel != OTHER].itertuples():
            if not pd.isna(r.ctr) and r.ctr < avg / 2:
                out.append(i18n.t("awareness_next_ctr", lang, channel=channel_label(r.channel, cfg),
                                  ctr=report.fmt_pct(r.ctr, 2), avg=report.fmt_pct(avg, 2)))
    if not out:
        out.append(i18n.t("awareness_next_none", lang))
    return out


# --------------------------------------------------------------------------
# Tables and charts
# --------------------------------------------------------------------------

def trend(monthly: pd.DataFrame, cfg):
    """Small multiples of the monthly KPIs the data supports (CTR per 1,000
    impressions), from the first month with marketing data; a sentence
    instead when no month has any."""
    m = monthly.copy()
    m["ctr"] = 1000 * m["ctr"]
    lb, kinds = labels(cfg) | {"ctr": i18n.t("awareness_ctr_per_mille", cfg.language)}, KINDS | {"ctr": "per_mille"}
    panels = [(k, lb[k], kinds[k]) for k in TREND_KEYS]
    return plots.trends(m, panels, title=i18n.t("awareness_trend_title", cfg.language, n=len(m)),
                        empty=i18n.t("awareness_trend_empty", cfg.language))


def _no_media(cfg) -> report.Note:
    return report.Note(i18n.t("awareness_no_media", cfg.language, period=cfg.period.label(cfg.language)))


def media_table(media: pd.DataFrame, cfg):
    """Paid media by channel (:func:`~journeykit.sections.awareness.compute.by_channel`)
    as a client-facing table; the cost columns only when spend is known."""
    if media.empty:
        return _no_media(cfg)
    lang = cfg.language
    lb = labels(cfg)
    out = pd.DataFrame({i18n.t("awareness_col_channel", lang): [channel_label(c, cfg) for c in media.channel],
                        lb["impressions"]: media.impressions, lb["clicks"]: media.clicks,
                        lb["ctr"]: [report.fmt_pct(x, 2) for x in media.ctr]})
    fmts = {lb["impressions"]: "int", lb["clicks"]: "int", lb["ctr"]: "numtext"}
    if media.spend.notna().any():
        share = i18n.t("awareness_col_spend_share", lang)
        out[lb["spend"]] = media.spend
        out[share] = media.spend_share
        out[lb["cpc"]] = media.cpc
        out[lb["cpm"]] = media.cpm
        fmts |= {lb["spend"]: "money", share: "pct", lb["cpc"]: "money", lb["cpm"]: "money"}
    return report.table(out, cfg, fmts)


def ctr_chart(media: pd.DataFrame, cfg):
    """Bars: click-through rate (%) by channel this period; nothing without
    marketing rows (the table says so)."""
    d = media.dropna(subset=["ctr"])
    if d.empty:
        return None
    d = d.assign(channel=[channel_label(c, cfg) for c in d.channel], ctr_pct=100 * d.ctr)
    fig = plots.bars(d, "channel", "ctr_pct", i18n.t("awareness_ctr_title", cfg.language,
                                                     period=cfg.period.label(cfg.language)), kind="num")
    if fig is None:   # only the "other" group: no chart (the table shows it)
        return None
    fig.axes[0].set_xlabel(i18n.t("awareness_ctr_axis", cfg.language))
    return fig


def acquisition_table(acq: pd.DataFrame | None, skipped: list[str], cfg):
    """New customers and CAC by acquisition channel as a client-facing
    table (spend and CAC only when spend is known), or the one-line reason
    it is skipped."""
    if acq is None:
        return skip_note(skipped, cfg, "acquisition")
    lang = cfg.language
    lb = labels(cfg)
    share = i18n.t("awareness_col_new_share", lang)
    out = pd.DataFrame({i18n.t("awareness_col_acq_channel", lang): [channel_label(c, cfg) for c in acq.channel],
                        lb["new_customers"]: acq.new_customers, share: acq.share})
    fmts = {lb["new_customers"]: "int", share: "pct"}
    if "spend" not in skipped:
        out[lb["spend"]] = acq.spend
        out["CAC"] = acq.cac
        fmts |= {lb["spend"]: "money", "CAC": "money"}
    return report.table(out, cfg, fmts)


def cac_chart(acq: pd.DataFrame | None, cfg):
    """Bars: CAC by acquisition channel this period; nothing when no
    channel has one (no acquisition channels, no spend, no paid sign-ups)."""
    d = None if acq is None else acq.dropna(subset=["cac"])
    if d is None or d.empty:
        return None
    d = d.assign(channel=[channel_label(c, cfg) for c in d.channel])
    return plots.bars(d, "channel", "cac", i18n.t("awareness_cac_title", cfg.language,
                                                  period=cfg.period.label(cfg.language)), kind="money")


def sources_table(sources: pd.DataFrame | None, skipped: list[str], cfg):
    """Visits and new visitors by source as a client-facing table, or the
    one-line reason it is skipped."""
    if sources is None:
        return skip_note(skipped, cfg, "events", "event_channel")
    lang = cfg.language
    lb = labels(cfg)
    share = i18n.t("awareness_col_new_visitor_share", lang)
    out = pd.DataFrame({i18n.t("awareness_col_source", lang): [channel_label(c, cfg) for c in sources.channel],
                        lb["visits"]: sources.visits, lb["new_visitors"]: sources.new_visitors,
                        share: sources.new_visitor_share})
    return report.table(out, cfg, {lb["visits"]: "int", lb["new_visitors"]: "int", share: "pct"})


__all__ = ["KINDS", "labels", "channel_label", "for_display", "skip_note", "insights", "next_steps", "trend",
           "media_table", "ctr_chart", "acquisition_table", "cac_chart", "sources_table"]
