"""Awareness: which channels bring people, and at what cost.

Paid media come from the ``marketing`` table (required): impressions,
clicks and spend per day, channel and campaign. New customers and the
cost of acquiring them need ``customers`` with an ``acquisition_channel``;
visits and new visitors by source need ``events``. Each part is skipped
(``None``) when its table or column is missing.

Channel names are compared case-insensitively and without surrounding
blanks, so a marketing channel ``Search`` matches an acquisition channel
``search``.
"""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd

from journeykit.stats import compare
from journeykit.core import i18n
from journeykit.report import plots
from journeykit import report
from journeykit.data.query import in_window, month_frame, month_of, trailing_months
from journeykit.sections import registry

SECTION = "10_awareness"

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
    "awareness_ctr_title": {"en": "Click-through rate by channel, {period}", "ko": "{period} 채널별 클릭률"},
    "awareness_cac_title": {"en": "Cost per new customer by acquisition channel, {period}",
                            "ko": "{period} 유입 채널별 고객 획득 비용"},
    "awareness_no_customers": {
        "en": "New customers and CAC are not shown: they need the customers table with an acquisition_channel column.",
        "ko": "신규 고객과 CAC는 표시하지 않습니다: acquisition_channel 컬럼이 있는 고객 테이블이 필요합니다.",
    },
    "awareness_no_events": {
        "en": "Visits and new visitors by source are not shown: they need the events table.",
        "ko": "유입 경로별 방문과 신규 방문자는 표시하지 않습니다: 이벤트 테이블이 필요합니다.",
    },
    "awareness_no_spend": {
        "en": "The marketing export has no spend column, so costs (CPC, CPM, CAC) are not shown.",
        "ko": "마케팅 데이터에 광고비 컬럼이 없어 비용 지표(CPC, CPM, CAC)는 표시하지 않습니다.",
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
        "ko": "{worst}의 예산을 검토하세요: 광고비의 {share}를 쓰며 신규 고객당 {worst_cac}로 {best}({best_cac})의 {ratio:.1f}배입니다.",
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

KEYS = ("impressions", "clicks", "ctr", "spend", "cpc", "cpm", "new_customers", "paid_new_customers", "cac",
        "blended_cac", "visits", "new_visitors")
KINDS = {"impressions": "int", "clicks": "int", "ctr": "pct", "spend": "money", "cpc": "money", "cpm": "money",
         "new_customers": "int", "paid_new_customers": "int", "cac": "money", "blended_cac": "money",
         "visits": "int", "new_visitors": "int"}


def labels(cfg) -> dict[str, str]:
    """KPI key → display label in the client's language."""
    return {k: i18n.t(f"awareness_{k}", cfg.language) for k in KEYS}


def _norm(col):
    return col.strip().lower()


def has_spend(ds) -> bool:
    """Whether the marketing export has a spend column with any value."""
    m = ds.table("marketing")
    return "spend" in m.columns and bool(m.spend.notnull().sum().execute())


def has_acquisition(ds) -> bool:
    """Whether new customers can be attributed: a supplied (not derived)
    customers table with an ``acquisition_channel`` column."""
    if not ds.has("customers") or ds.report.tables["customers"].status == "derived":
        return False
    return "acquisition_channel" in ds.table("customers").columns


def paid_channels(ds) -> list[str]:
    """Normalised channel names that appear in the marketing table."""
    m = ds.table("marketing")
    return sorted(m.select(c=_norm(m.channel)).distinct().execute()["c"].dropna().tolist())


# --------------------------------------------------------------------------
# KPIs of one window
# --------------------------------------------------------------------------

def _media(ds, start: dt.date, end: dt.date) -> dict:
    m = in_window(ds.table("marketing"), "date", start, end)
    aggs = dict(impressions=m.impressions.sum(), clicks=m.clicks.sum())
    if "spend" in m.columns:
        aggs["spend"] = m.spend.sum()
    row = m.aggregate(**aggs).execute().iloc[0]
    out = {k: (None if pd.isna(row.get(k)) else float(row.get(k))) for k in ("impressions", "clicks", "spend")}
    out["impressions"] = out["impressions"] or 0.0
    out["clicks"] = out["clicks"] or 0.0
    if not has_spend(ds):
        out["spend"] = None
    elif out["spend"] is None:
        out["spend"] = 0.0
    return out


def impressions(ds, period) -> float:
    """Paid impressions served in the period (sum of ``marketing.impressions``
    over days ``start ≤ date < end``, all channels). Unit: count."""
    return _media(ds, period.start, period.end)["impressions"]


def clicks(ds, period) -> float:
    """Paid clicks in the period (sum of ``marketing.clicks``). Unit: count."""
    return _media(ds, period.start, period.end)["clicks"]


def spend(ds, period) -> float | None:
    """Paid media spend in the period (sum of ``marketing.spend``). Unit: the
    client's currency; ``None`` without a spend column."""
    return _media(ds, period.start, period.end)["spend"]


def ctr(ds, period) -> float | None:
    """Click-through rate: clicks / impressions over the period, all paid
    channels (a ratio of totals, not a mean of daily rates). Unit: 0–1."""
    m = _media(ds, period.start, period.end)
    return compare.safe_div(m["clicks"], m["impressions"])


def cpc(ds, period) -> float | None:
    """Cost per click: spend / clicks over the period. Unit: currency."""
    m = _media(ds, period.start, period.end)
    return compare.safe_div(m["spend"], m["clicks"])


def cpm(ds, period) -> float | None:
    """Cost per thousand impressions: 1000 × spend / impressions over the
    period. Unit: currency."""
    m = _media(ds, period.start, period.end)
    v = compare.safe_div(m["spend"], m["impressions"])
    return None if v is None else 1000 * v


def _new_customers(ds, start: dt.date, end: dt.date) -> dict:
    if not has_acquisition(ds):
        return {"new_customers": None, "paid_new_customers": None}
    c = in_window(ds.table("customers"), "signup_at", start, end)
    paid = paid_channels(ds)
    row = c.aggregate(n=c.count(), paid=_norm(c.acquisition_channel).isin(paid).cast("int64").sum()).execute().iloc[0]
    return {"new_customers": float(row["n"] or 0), "paid_new_customers": float(row["paid"] or 0)}


def new_customers(ds, period) -> float | None:
    """Customers who signed up in the period (``customers.signup_at``), any
    channel. Unit: count; ``None`` without customers/acquisition_channel."""
    return _new_customers(ds, period.start, period.end)["new_customers"]


def cac(ds, period) -> float | None:
    """Customer acquisition cost of paid media: spend in the period / new
    customers in the period whose ``acquisition_channel`` is one of the
    marketing table's channels. Unit: currency per customer."""
    m, n = _media(ds, period.start, period.end), _new_customers(ds, period.start, period.end)
    return compare.safe_div(m["spend"], n["paid_new_customers"])


def blended_cac(ds, period) -> float | None:
    """Spend in the period / every new customer in the period (paid and
    unpaid channels). Unit: currency per customer."""
    m, n = _media(ds, period.start, period.end), _new_customers(ds, period.start, period.end)
    return compare.safe_div(m["spend"], n["new_customers"])


def _visitor_events(ds):
    e = ds.table("events")
    ids = [e[c] for c in ("visitor_id", "customer_id") if c in e.columns]
    who = ibis.coalesce(*ids) if len(ids) > 1 else ids[0]
    e = e.mutate(who=who)
    return e.filter(e.who.notnull())


def _first_seen(ds):
    """One row per visitor: first event time and the channel of that event."""
    e = _visitor_events(ds)
    aggs = {"first": e.occurred_at.min()}
    if "channel" in e.columns:
        aggs["channel"] = e.channel.argmin(e.occurred_at)
    return e.group_by("who").agg(**aggs)


def _visits(ds, start, end):
    from journeykit.sections.consideration.compute import session_table

    return session_table(ds, start, end, steps=False)


def visits(ds, period) -> float | None:
    """Visits in the period: sessions with a ``visit`` event (see
    :func:`journeykit.sections.consideration.compute.sessions`). Unit: count;
    ``None`` without events."""
    if not ds.has("events"):
        return None
    return float(_visits(ds, period.start, period.end).count().execute())


def new_visitors(ds, period) -> float | None:
    """Visitors first seen in the period: browser identities
    (``visitor_id``, else ``customer_id``) whose first event in the data
    falls in the period. A person on two devices counts twice. Unit: count;
    ``None`` without events."""
    if not ds.has("events"):
        return None
    f = _first_seen(ds)
    return float(in_window(f, "first", period.start, period.end).count().execute())


def period_values(ds, period) -> dict:
    """Every awareness KPI for one month (see the single-KPI functions);
    computed once per dataset and period."""
    return ds.memo(("awareness_period", period.start, period.end), lambda: _period_values(ds, period), ds.cfg)


def _period_values(ds, period) -> dict:
    m = _media(ds, period.start, period.end)
    n = _new_customers(ds, period.start, period.end)
    cpm_ = compare.safe_div(m["spend"], m["impressions"])
    return {
        **m, **n,
        "ctr": compare.safe_div(m["clicks"], m["impressions"]),
        "cpc": compare.safe_div(m["spend"], m["clicks"]),
        "cpm": None if cpm_ is None else 1000 * cpm_,
        "cac": compare.safe_div(m["spend"], n["paid_new_customers"]),
        "blended_cac": compare.safe_div(m["spend"], n["new_customers"]),
        "visits": visits(ds, period),
        "new_visitors": new_visitors(ds, period),
    }


def changes(ds, cfg) -> list[compare.Change]:
    """This period against the previous month.

    Impressions and spend are bought quantities (the media plan), not
    samples, so their change is shown without a test; so are the cost
    ratios (CPC, CPM, CAC). Clicks, new customers, visits and new visitors
    are counts (Poisson rate per day); CTR is a rate (two-proportion
    z-test of clicks over impressions). KPIs that are not computable for
    this client (no spend, no customers, no events) are left out.
    """
    p, q = cfg.period, cfg.period.previous()
    a, b = period_values(ds, p), period_values(ds, q)
    mn = cfg.definitions.min_sample_size
    out = [compare.value("impressions", a["impressions"], b["impressions"], higher_is_better=None),
           compare.count("clicks", a["clicks"], p.days, b["clicks"], q.days, min_n=mn),
           compare.rate("ctr", a["clicks"], a["impressions"], b["clicks"], b["impressions"], min_n=mn)]
    if a["spend"] is not None:
        out += [compare.value("spend", a["spend"], b["spend"], higher_is_better=None),
                compare.value("cpc", a["cpc"], b["cpc"], higher_is_better=False),
                compare.value("cpm", a["cpm"], b["cpm"], higher_is_better=False)]
    if a["new_customers"] is not None:
        out.append(compare.count("new_customers", a["new_customers"], p.days, b["new_customers"], q.days, min_n=mn))
        if a["spend"] is not None:
            out += [compare.value("cac", a["cac"], b["cac"], higher_is_better=False),
                    compare.value("blended_cac", a["blended_cac"], b["blended_cac"], higher_is_better=False)]
    if a["visits"] is not None:
        out += [compare.count("visits", a["visits"], p.days, b["visits"], q.days, min_n=mn),
                compare.count("new_visitors", a["new_visitors"], p.days, b["new_visitors"], q.days, min_n=mn)]
    return out


def monthly(ds, cfg) -> pd.DataFrame:
    """One row per month of the trend window: ``impressions``, ``clicks``,
    ``ctr``, ``spend``, ``cpc``, ``cpm``, ``new_customers``, ``cac`` (paid)
    and ``visits`` / ``new_visitors`` where the data has them (NaN
    otherwise); months without marketing rows are gaps. Computed once per
    dataset and trend window."""
    months = trailing_months(cfg)
    return ds.memo(("awareness_monthly", tuple(months)), lambda: _monthly(ds, cfg, months), ds.cfg)


def _monthly(ds, cfg, months) -> pd.DataFrame:
    start, end = months[0].start, cfg.period.end
    m = in_window(ds.table("marketing"), "date", start, end)
    aggs = dict(impressions=m.impressions.sum(), clicks=m.clicks.sum())
    if has_spend(ds):
        aggs["spend"] = m.spend.sum()
    df = m.group_by(month=month_of(m.date)).agg(**aggs).execute()
    df["month"] = pd.to_datetime(df["month"])
    out = month_frame(cfg).merge(df, on="month", how="left")
    if "spend" not in out:
        out["spend"] = float("nan")
    out["ctr"] = out["clicks"] / out["impressions"].where(out["impressions"] > 0)
    out["cpc"] = out["spend"] / out["clicks"].where(out["clicks"] > 0)
    out["cpm"] = 1000 * out["spend"] / out["impressions"].where(out["impressions"] > 0)
    out["new_customers"] = float("nan")
    out["cac"] = float("nan")
    if has_acquisition(ds):
        c = in_window(ds.table("customers"), "signup_at", start, end)
        paid = paid_channels(ds)
        n = c.group_by(month=month_of(c.signup_at)).agg(
            new_customers=c.count(), paid=_norm(c.acquisition_channel).isin(paid).cast("int64").sum()).execute()
        n["month"] = pd.to_datetime(n["month"])
        out = out.drop(columns=["new_customers"]).merge(n, on="month", how="left")
        out["new_customers"] = out["new_customers"].fillna(0)
        out["cac"] = out["spend"] / out["paid"].where(out["paid"] > 0)
        out = out.drop(columns=["paid"])
    out["visits"] = float("nan")
    out["new_visitors"] = float("nan")
    if ds.has("events"):
        s = _visits(ds, start, end)
        v = s.group_by("month").agg(visits=s.count()).execute()
        f = in_window(_first_seen(ds), "first", start, end)
        nv = f.group_by(month=month_of(f["first"])).agg(new_visitors=f.count()).execute()
        for frame in (v, nv):
            frame["month"] = pd.to_datetime(frame["month"])
        out = out.drop(columns=["visits", "new_visitors"]).merge(v, on="month", how="left").merge(nv, on="month", how="left")
        out[["visits", "new_visitors"]] = out[["visits", "new_visitors"]].fillna(0)
    return out


# --------------------------------------------------------------------------
# Breakdowns
# --------------------------------------------------------------------------

def _minimum(cfg) -> int:
    return max(cfg.definitions.min_group_size, cfg.definitions.k_anonymity)


def _media_by_channel(ds, period) -> pd.DataFrame:
    m = in_window(ds.table("marketing"), "date", period.start, period.end)
    aggs = dict(impressions=m.impressions.sum(), clicks=m.clicks.sum())
    if "spend" in m.columns:
        aggs["spend"] = m.spend.sum()
    df = m.group_by(channel=_norm(m.channel)).agg(**aggs).execute()
    if "spend" not in df or not has_spend(ds):
        df["spend"] = float("nan")
    return df


def by_channel(ds, period, cfg=None) -> pd.DataFrame:
    """Paid media per marketing channel in the period.

    Columns: ``channel``, ``impressions``, ``clicks``, ``ctr`` (clicks /
    impressions), ``spend``, ``spend_share`` (channel spend / all spend),
    ``cpc`` (spend / clicks), ``cpm`` (1000 × spend / impressions). Channels
    with fewer than max(min_group_size, k_anonymity) clicks fold into
    "other" (ratios recomputed from the sums). Rows: by clicks, descending.
    """
    cfg = cfg or ds.cfg
    df = compare.fold_small(_media_by_channel(ds, period), "channel", "clicks", _minimum(cfg), other=i18n.t("other_group", cfg.language),
                            sum_columns=["impressions", "clicks", "spend"])
    total = df["spend"].sum(min_count=1)
    df["ctr"] = [compare.safe_div(c, i) for c, i in zip(df.clicks, df.impressions)]
    df["spend_share"] = [compare.safe_div(s, total) for s in df.spend]
    df["cpc"] = [compare.safe_div(s, c) for s, c in zip(df.spend, df.clicks)]
    df["cpm"] = [None if v is None else 1000 * v for v in (compare.safe_div(s, i) for s, i in zip(df.spend, df.impressions))]
    return df[["channel", "impressions", "clicks", "ctr", "spend", "spend_share", "cpc", "cpm"]]


def acquisition_by_channel(ds, period, cfg=None) -> pd.DataFrame | None:
    """New customers and their cost per acquisition channel in the period.

    Columns: ``channel`` (``customers.acquisition_channel``; missing as
    "unknown"), ``new_customers``, ``share`` (of all new customers),
    ``spend`` (the channel's marketing spend; NaN for unpaid channels) and
    ``cac`` = spend / new customers of that channel. Channels with fewer
    than max(min_group_size, k_anonymity) new customers fold into "other",
    whose CAC is the folded paid spend over the folded paid channels' new
    customers. ``None`` without customers/acquisition_channel.
    """
    cfg = cfg or ds.cfg
    if not has_acquisition(ds):
        return None
    c = in_window(ds.table("customers"), "signup_at", period.start, period.end)
    unknown = i18n.t("awareness_unknown", cfg.language)
    n = c.group_by(channel=_norm(c.acquisition_channel).fill_null(unknown)).agg(new_customers=c.count()).execute()
    media = _media_by_channel(ds, period)
    df = n.merge(media[["channel", "spend"]], on="channel", how="outer").fillna({"new_customers": 0})
    df["paid_new"] = df["new_customers"].where(df["spend"].notna(), 0)
    df = compare.fold_small(df, "channel", "new_customers", _minimum(cfg), other=i18n.t("other_group", cfg.language),
                            sum_columns=["new_customers", "spend", "paid_new"])
    if len(df) and df["channel"].iloc[-1] == i18n.t("other_group", cfg.language) and df["paid_new"].iloc[-1] == 0:
        df.loc[df.index[-1], "spend"] = float("nan")
    total = df["new_customers"].sum()
    df["share"] = [compare.safe_div(x, total) for x in df.new_customers]
    df["cac"] = [compare.safe_div(s, p) for s, p in zip(df.spend, df.paid_new)]
    return df[["channel", "new_customers", "share", "spend", "cac"]]


def visits_by_source(ds, period, cfg=None) -> pd.DataFrame | None:
    """Visits and new visitors by source (``events.channel``) in the period.

    Columns: ``channel``, ``visits`` (sessions with a visit whose first
    event came through the channel), ``new_visitors`` (visitors first seen
    in the period, by the channel of their first event) and
    ``new_visitor_share`` = new visitors / visits. Sources with fewer than
    max(min_group_size, k_anonymity) visits fold into "other". ``None``
    without events or without a channel column.
    """
    cfg = cfg or ds.cfg
    if not ds.has("events") or "channel" not in ds.table("events").columns:
        return None
    unknown = i18n.t("awareness_unknown", cfg.language)
    s = _visits(ds, period.start, period.end)
    v = s.group_by(channel=s.channel.fill_null(unknown)).agg(visits=s.count()).execute()
    f = in_window(_first_seen(ds), "first", period.start, period.end)
    nv = f.group_by(channel=f.channel.fill_null(unknown)).agg(new_visitors=f.count()).execute()
    df = v.merge(nv, on="channel", how="outer").fillna({"visits": 0, "new_visitors": 0})
    df = compare.fold_small(df, "channel", "visits", _minimum(cfg), other=i18n.t("other_group", cfg.language),
                            sum_columns=["visits", "new_visitors"])
    df["new_visitor_share"] = [compare.safe_div(a, b) for a, b in zip(df.new_visitors, df.visits)]
    return df[["channel", "visits", "new_visitors", "new_visitor_share"]]


# --------------------------------------------------------------------------
# Generated text
# --------------------------------------------------------------------------

def _other(cfg) -> str:
    return i18n.t("other_group", cfg.language)


def _cap(text: str) -> str:
    # channel names are the client's own (often lower case) and may start a sentence
    return text[:1].upper() + text[1:]


def channel_sentences(media: pd.DataFrame, acq: pd.DataFrame | None, cfg) -> list[str]:
    """Sentences on the channel breakdowns: the highest and lowest CTR, the
    largest share of spend, the cheapest and dearest CAC (rows folded into
    "other" left out; each sentence needs two channels to compare)."""
    lang = cfg.language
    out = []
    d = media[media.channel != _other(cfg)].dropna(subset=["ctr"])
    if len(d) >= 2:
        hi, lo = d.loc[d.ctr.astype(float).idxmax()], d.loc[d.ctr.astype(float).idxmin()]
        out.append(_cap(i18n.t("awareness_ctr_range", lang, best=hi.channel, best_ctr=report.fmt_pct(hi.ctr, 2),
                               worst=lo.channel, worst_ctr=report.fmt_pct(lo.ctr, 2))))
    s = media.dropna(subset=["spend_share"])
    s = s[s.channel != _other(cfg)]
    if len(s) >= 2:
        top = s.loc[s.spend_share.astype(float).idxmax()]
        out.append(_cap(i18n.t("awareness_spend_top", lang, channel=top.channel, share=report.fmt_pct(top.spend_share))))
    if acq is not None:
        a = acq[acq.channel != _other(cfg)].dropna(subset=["cac"])
        if len(a) >= 2:
            lo, hi = a.loc[a.cac.astype(float).idxmin()], a.loc[a.cac.astype(float).idxmax()]
            out.append(i18n.t("awareness_cac_range", lang, best=lo.channel, best_cac=report.fmt_money(lo.cac, cfg.currency),
                              worst=hi.channel, worst_cac=report.fmt_money(hi.cac, cfg.currency)))
    return out


def next_steps(media: pd.DataFrame, acq: pd.DataFrame | None, cfg, cac_ratio: float = 2.0) -> list[str]:
    """What to look at next: a channel whose CAC is at least ``cac_ratio`` ×
    the cheapest (budget review); channels whose CTR is under half the
    all-channel CTR (creative/targeting); a hint to send
    acquisition_channel when CAC cannot be computed; else nothing stands out."""
    lang = cfg.language
    out = []
    other = _other(cfg)
    if acq is None:
        out.append(i18n.t("awareness_next_add_acq", lang))
    else:
        a = acq[acq.channel != other].dropna(subset=["cac"])
        if len(a) >= 2:
            lo, hi = a.loc[a.cac.astype(float).idxmin()], a.loc[a.cac.astype(float).idxmax()]
            if lo.cac > 0 and hi.cac / lo.cac >= cac_ratio:
                share = media.loc[media.channel == hi.channel, "spend_share"]
                out.append(i18n.t("awareness_next_cac", lang, worst=hi.channel, best=lo.channel,
                                  share=report.fmt_pct(share.iloc[0] if len(share) else None),
                                  worst_cac=report.fmt_money(hi.cac, cfg.currency),
                                  best_cac=report.fmt_money(lo.cac, cfg.currency), ratio=hi.cac / lo.cac))
    avg = compare.safe_div(media.clicks.sum(), media.impressions.sum())
    if avg:
        for r in media[media.channel != other].itertuples():
            if r.ctr is not None and not pd.isna(r.ctr) and r.ctr < avg / 2:
                out.append(i18n.t("awareness_next_ctr", lang, channel=r.channel, ctr=report.fmt_pct(r.ctr, 2),
                                  avg=report.fmt_pct(avg, 2)))
    if not out:
        out.append(i18n.t("awareness_next_none", lang))
    return out


# --------------------------------------------------------------------------
# Views for the notebook
# --------------------------------------------------------------------------

def _display(ch: list[compare.Change], cfg):
    """Changes, labels and kinds for display. A CTR of ~1 % shows as 0.8 % →
    0.8 % with one decimal, so the KPI table and sentences show it per 1,000
    impressions (same test and p-value; metrics keep the 0–1 rate)."""
    import dataclasses

    out = [dataclasses.replace(c, value=None if c.value is None else 1000 * c.value,
                               prev=None if c.prev is None else 1000 * c.prev) if c.key == "ctr" else c
           for c in ch if c.key != "blended_cac"]
    lb = labels(cfg) | {"ctr": i18n.t("awareness_ctr_per_mille", cfg.language)}
    return out, lb, KINDS | {"ctr": "num"}


def kpi_view(ds, cfg, ch=None):
    """The period-over-period KPI table."""
    ch = ch if ch is not None else changes(ds, cfg)
    return report.kpi_table(*_display(ch, cfg), cfg)


def narrative(ds, cfg, ch=None):
    """What changed, then what the channel breakdowns show."""
    ch = ch if ch is not None else changes(ds, cfg)
    sentences = report.describe_changes(*_display(ch, cfg), cfg)
    sentences += channel_sentences(by_channel(ds, cfg.period, cfg), acquisition_by_channel(ds, cfg.period, cfg), cfg)
    return report.Narrative(sentences)


def notes(ds, cfg) -> list[report.Note]:
    """Notes on the parts skipped for lack of data."""
    out = []
    if not has_spend(ds):
        out.append(report.Note(i18n.t("awareness_no_spend", cfg.language), "warn"))
    if not has_acquisition(ds):
        out.append(report.Note(i18n.t("awareness_no_customers", cfg.language), "warn"))
    if not ds.has("events"):
        out.append(report.Note(i18n.t("awareness_no_events", cfg.language), "warn"))
    return out


def notes_view(ds, cfg):
    """The skipped parts as one note (``None``, so nothing shows, when none is skipped)."""
    n = notes(ds, cfg)
    return report.Note(" ".join(x.text for x in n), "warn") if n else None


def trend_view(ds, cfg):
    """Small multiples of the monthly KPIs that the data supports."""
    m = monthly(ds, cfg)
    m["ctr"] = 1000 * m["ctr"]
    lb, kinds = labels(cfg) | {"ctr": i18n.t("awareness_ctr_per_mille", cfg.language)}, KINDS | {"ctr": "num"}
    panels = [(k, lb[k], kinds[k]) for k in ("impressions", "clicks", "ctr", "spend", "cpc", "new_customers", "cac",
                                            "visits", "new_visitors") if m[k].notna().any()]
    return plots.trends(m, panels, title=i18n.t("awareness_trend_title", cfg.language, n=len(m)))


def media_view(ds, cfg):
    df = by_channel(ds, cfg.period, cfg)
    lang = cfg.language
    lb = labels(cfg)
    out = pd.DataFrame({i18n.t("awareness_col_channel", lang): df.channel, lb["impressions"]: df.impressions,
                        lb["clicks"]: df.clicks, lb["ctr"]: [report.fmt_pct(x, 2) for x in df.ctr]})
    fmts = {lb["impressions"]: "int", lb["clicks"]: "int", lb["ctr"]: "numtext"}
    if df.spend.notna().any():
        out[lb["spend"]] = df.spend
        out[i18n.t("awareness_col_spend_share", lang)] = df.spend_share
        out[lb["cpc"]] = df.cpc
        out[lb["cpm"]] = df.cpm
        fmts |= {lb["spend"]: "money", i18n.t("awareness_col_spend_share", lang): "pct", lb["cpc"]: "money",
                 lb["cpm"]: "money"}
    return report.table(out, cfg, fmts)


def ctr_chart(ds, cfg):
    df = by_channel(ds, cfg.period, cfg)
    df = df.assign(ctr_pct=[None if x is None or pd.isna(x) else 100 * x for x in df.ctr])
    fig = plots.bars(df, "channel", "ctr_pct", i18n.t("awareness_ctr_title", cfg.language,
                                                      period=cfg.period.label(cfg.language)), kind="num")
    fig.axes[0].set_xlabel(i18n.t("awareness_ctr_axis", cfg.language))
    return fig


def acquisition_view(ds, cfg):
    df = acquisition_by_channel(ds, cfg.period, cfg)
    if df is None:
        return report.Note(i18n.t("awareness_no_customers", cfg.language), "warn")
    lang = cfg.language
    lb = labels(cfg)
    out = pd.DataFrame({i18n.t("awareness_col_acq_channel", lang): df.channel, lb["new_customers"]: df.new_customers,
                        i18n.t("awareness_col_new_share", lang): df.share, lb["spend"]: df.spend, "CAC": df.cac})
    return report.table(out, cfg, {lb["new_customers"]: "int", i18n.t("awareness_col_new_share", lang): "pct",
                                   lb["spend"]: "money", "CAC": "money"})


def cac_chart(ds, cfg):
    df = acquisition_by_channel(ds, cfg.period, cfg)
    if df is None:
        return report.Note(i18n.t("awareness_no_customers", cfg.language), "warn")
    d = df.dropna(subset=["cac"])
    if d.empty:
        return None
    return plots.bars(d, "channel", "cac", i18n.t("awareness_cac_title", cfg.language,
                                                  period=cfg.period.label(cfg.language)), kind="money")


def sources_view(ds, cfg):
    df = visits_by_source(ds, cfg.period, cfg)
    if df is None:
        return report.Note(i18n.t("awareness_no_events", cfg.language), "warn")
    lang = cfg.language
    lb = labels(cfg)
    out = pd.DataFrame({i18n.t("awareness_col_source", lang): df.channel, lb["visits"]: df.visits,
                        lb["new_visitors"]: df.new_visitors,
                        i18n.t("awareness_col_new_visitor_share", lang): df.new_visitor_share})
    return report.table(out, cfg, {lb["visits"]: "int", lb["new_visitors"]: "int",
                                   i18n.t("awareness_col_new_visitor_share", lang): "pct"})


def next_steps_view(ds, cfg):
    return report.Narrative(next_steps(by_channel(ds, cfg.period, cfg), acquisition_by_channel(ds, cfg.period, cfg), cfg))


# --------------------------------------------------------------------------
# metrics.json
# --------------------------------------------------------------------------

STABLE_KEYS = registry.get("10_awareness").stable_keys


def empty_metrics() -> dict:
    """Every stable key (and its ``_prev``) as ``None``."""
    return {k: None for key in STABLE_KEYS for k in (key, f"{key}_prev")}


def metrics(ds, cfg) -> dict:
    """The section's ``metrics.json`` entries: the stable keys
    ``impressions, clicks, ctr, spend, cpc, new_customers, cac`` each with
    ``_prev`` (``None`` where not computable), plus ``cpm``,
    ``paid_new_customers``, ``blended_cac``, ``visits``, ``new_visitors``
    (with ``_prev``) and ``ctr_by_channel`` / ``cac_by_channel``
    (channel → value, after folding)."""
    out = empty_metrics()
    if not ds.has("marketing"):
        return out
    p, q = cfg.period, cfg.period.previous()
    a, b = period_values(ds, p), period_values(ds, q)
    for k in KEYS:
        out[k], out[f"{k}_prev"] = a[k], b[k]
    media = by_channel(ds, p, cfg)
    out["ctr_by_channel"] = {r.channel: r.ctr for r in media.itertuples()}
    acq = acquisition_by_channel(ds, p, cfg)
    out["cac_by_channel"] = None if acq is None else {r.channel: (None if pd.isna(r.cac) else r.cac)
                                                       for r in acq.itertuples()}
    return out


__all__ = ["impressions", "clicks", "spend", "ctr", "cpc", "cpm", "new_customers", "cac", "blended_cac", "visits",
           "new_visitors", "period_values", "changes", "monthly", "by_channel", "acquisition_by_channel",
           "visits_by_source", "channel_sentences", "next_steps", "metrics", "empty_metrics", "has_acquisition",
           "has_spend", "paid_channels"]
