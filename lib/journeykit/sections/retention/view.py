"""Retention: what the notebook shows — labels, tables, charts and
generated sentences, in the client's language, built from :mod:`.compute`.

An analysis whose input the client does not send is skipped with one line
saying why, shown once, where the analysis would be (sessions and features
under "usage", acquisition channel under "churn by channel",
subscriptions, tickets); an empty chart is never drawn (a sentence
instead).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from journeykit import facts, report
from journeykit.core import i18n
from journeykit.report import plots
from journeykit.sections.retention import compute

KINDS = {"active_customers": "int", "mau": "int", "dau": "num", "dau_mau": "pct", "month1_retention": "pct",
         "month3_retention": "pct", "repeat_purchase_rate": "pct", "churn_rate": "pct", "renewal_rate": "pct",
         "mrr_churn": "pct", "tickets_per_100_customers": "num", "csat": "num", "session_minutes": "num",
         "inter_purchase_days": "num"}
"""Display kind of each KPI (for :func:`journeykit.report.kpi_table`)."""

TREND_PANELS = ("mau", "dau_mau", "month1_retention", "churn_rate", "repeat_purchase_rate", "renewal_rate",
                "tickets_per_100_customers", "csat")
"""The KPIs of the trend chart, in panel order."""

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
    # analyses skipped, one line each
    "retention_needs": {"en": "Not available: needs table {table}.", "ko": "제공되지 않음: {table} 테이블이 필요합니다."},
    "retention_needs_column": {"en": "Not available: needs column {column} in table {table}.",
                               "ko": "제공되지 않음: {table} 테이블의 {column} 컬럼이 필요합니다."},
    "retention_no_event_ids": {
        "en": "Session length and feature usage are not measured: the events carry no customer id.",
        "ko": "이벤트에 고객 ID가 없어 세션 길이와 기능 사용은 측정하지 않습니다."},
    "retention_no_events": {
        "en": "Session length and feature usage need the events table, which this client has not supplied.",
        "ko": "세션 길이와 기능 사용에는 이벤트 테이블이 필요하지만 이 고객사에서는 제공되지 않았습니다."},
    "retention_no_sessions": {"en": "Session length is not measured: the events have no session_id.",
                              "ko": "이벤트에 session_id가 없어 세션 길이는 측정하지 않습니다."},
    "retention_no_duration": {
        "en": "The events have no duration_s: a session's length runs from its first to its last event.",
        "ko": "이벤트에 duration_s가 없어 세션 길이는 첫 이벤트부터 마지막 이벤트까지로 계산합니다."},
    "retention_no_features": {"en": "Feature usage is not measured: the events have no feature column.",
                              "ko": "이벤트에 feature 컬럼이 없어 기능 사용은 측정하지 않습니다."},
    "retention_no_feature_use": {"en": "No feature use in {period}.", "ko": "{period}에는 기능 사용이 없습니다."},
    "retention_no_purchases": {"en": "Repeat purchases need orders (or purchase events), which this client has not supplied.",
                               "ko": "재구매 분석에는 주문(또는 구매 이벤트)이 필요하지만 이 고객사에서는 제공되지 않았습니다."},
    "retention_purchases_from_events": {
        "en": "There is no orders table: purchases are the client's purchase events.",
        "ko": "주문 테이블이 없어 구매(purchase) 이벤트를 구매로 봅니다."},
    "retention_no_mrr": {"en": "The subscriptions have no mrr: MRR churn is not measured.",
                         "ko": "구독 데이터에 mrr이 없어 MRR 이탈률은 측정하지 않습니다."},
    "retention_no_categories": {"en": "The tickets have no category: no breakdown by category.",
                                "ko": "문의 데이터에 유형(category)이 없어 유형별 분석을 할 수 없습니다."},
    "retention_no_csat": {"en": "The tickets have no csat: satisfaction is not measured.",
                          "ko": "문의 데이터에 csat이 없어 만족도는 측정하지 않습니다."},
    "retention_no_tickets_opened": {"en": "No ticket was opened in {period}.", "ko": "{period}에 접수된 문의가 없습니다."},
    "retention_no_cohorts": {"en": "No customer signed up in the last {n} months: there is no cohort to follow.",
                             "ko": "최근 {n}개월 동안 가입한 고객이 없어 따라갈 코호트가 없습니다."},
    "retention_trend_empty": {"en": "No retention KPI has a value in the trend window.",
                              "ko": "추이 기간에 값이 있는 유지 지표가 없습니다."},
    "retention_no_activity": {"en": "No customer was active in the trend window.",
                              "ko": "추이 기간에 활동한 고객이 없습니다."},
    # charts and columns
    "retention_trend_title": {"en": "Retention over the last {n} months", "ko": "최근 {n}개월 유지 지표"},
    "retention_heatmap_activity": {"en": "Share of each sign-up cohort active, by month since sign-up",
                                   "ko": "가입 코호트별 활동 고객 비율 (가입 후 경과 월)"},
    "retention_heatmap_purchase": {"en": "Share of each sign-up cohort purchasing, by month since sign-up",
                                   "ko": "가입 코호트별 구매 고객 비율 (가입 후 경과 월)"},
    "retention_months_since": {"en": "Months since sign-up", "ko": "가입 후 경과 월"},
    "retention_cohort": {"en": "Sign-up month (customers)", "ko": "가입 월 (고객 수)"},
    "retention_lifecycle_title": {"en": "Active customers by lifecycle state", "ko": "생애주기 상태별 활성 고객"},
    "retention_customers_axis": {"en": "Customers", "ko": "고객 수"},
    "retention_col_month": {"en": "Month", "ko": "월"},
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
    "retention_unknown": {"en": "(not recorded)", "ko": "(기록 없음)"},
    # generated sentences
    "retention_lifecycle_sentence": {
        "en": "In {period}, {active} customers were active: {new} new, {returning} returning and {resurrecting} "
              "resurrecting; {dormant} customers active the month before were not ({net}).",
        "ko": "{period} 활성 고객은 {active}명입니다: 신규 {new}명, 유지 {returning}명, 복귀 {resurrecting}명. "
              "전월 활성 고객 중 {dormant}명은 활동하지 않았습니다 ({net}).",
    },
    "retention_net_up": {"en": "net +{n}", "ko": "순증 {n}명"},
    "retention_net_down": {"en": "net −{n}", "ko": "순감 {n}명"},
    "retention_net_flat": {"en": "no net change", "ko": "순변화 없음"},
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


def label(key: str, cfg) -> str:
    """The display label of a KPI or measure in the client's language."""
    if key == "active_customers":
        return i18n.t("retention_active_customers", cfg.language, days=cfg.definitions.churn_inactivity_days)
    return i18n.t(f"retention_{key}", cfg.language)


def labels(cfg) -> dict[str, str]:
    """KPI key → label in the client's language."""
    return {k: label(k, cfg) for k in KINDS}


def group_name(key: str, cfg) -> str:
    """A breakdown group's display name: the folded "other" row and the
    group without a value are named in the client's language."""
    if key == compute.OTHER:
        return i18n.t("other_group", cfg.language)
    if key == compute.UNKNOWN:
        return i18n.t("retention_unknown", cfg.language)
    return str(key)


def _note(key: str, cfg, **values) -> report.Note:
    return report.Note(i18n.t(key, cfg.language, **values))


def _needs(table: str, cfg, column: str | None = None) -> report.Note:
    name = i18n.table_name(table, cfg.language)
    if column:
        return _note("retention_needs_column", cfg, column=column, table=name)
    return _note("retention_needs", cfg, table=name)


def _table(df: pd.DataFrame, cfg, columns: dict[str, tuple[str, str]]) -> report.Table:
    """``df``'s ``columns`` (column → (label key or KPI key, kind)) as a report table."""
    names = {c: (label(k, cfg) if k in KINDS else i18n.t(k, cfg.language)) for c, (k, _) in columns.items()}
    return report.table(df[list(columns)].rename(columns=names), cfg,
                        {names[c]: kind for c, (_, kind) in columns.items()})


def _measures(rows: list[tuple[str, str]], cfg) -> report.Table:
    lang = cfg.language
    df = pd.DataFrame(rows, columns=[i18n.t("retention_col_measure", lang), i18n.t("retention_col_value", lang)])
    return report.table(df, cfg, {i18n.t("retention_col_value", lang): "numtext"})


# --------------------------------------------------------------------------
# Sentences
# --------------------------------------------------------------------------

def lifecycle_sentence(df: pd.DataFrame, cfg) -> str | None:
    """One generated sentence on the period's lifecycle counts (last row of
    :func:`.compute.lifecycle`); ``None`` when there is no activity."""
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


def insights(ds, cfg) -> list[str]:
    """Sentences about this period's retention beyond the key figures: the
    lifecycle counts (:func:`lifecycle_sentence`), when anyone was active."""
    sentence = lifecycle_sentence(compute.lifecycle(ds, cfg), cfg)
    return [sentence] if sentence else []


def pointers(chs, churn_groups: pd.DataFrame | None, ticket_groups: pd.DataFrame | None, cfg) -> list[str]:
    """Generated pointers, most urgent first:

    1. the acquisition channel (not "other") whose churn rate is highest and at
       least 1.25 × the overall rate;
    2. the ticket category (not "other") with the lowest CSAT, when it is below
       4.0 on at least ``min_sample_size`` responses.

    The pointers that follow a significant change (month-1 retention fell,
    churn rose) are in the key figures (:data:`.compute.ADVICE`), so they
    agree with the report's verdicts; ``chs`` is kept for callers.

    A default sentence when none applies. ``churn_groups`` and
    ``ticket_groups`` are :func:`.compute.churn_by` and
    :func:`.compute.tickets_by_category` (``None`` when not available)."""
    lang = cfg.language
    out = []
    named = (compute.OTHER, compute.UNKNOWN)
    if churn_groups is not None and not churn_groups.empty and churn_groups["base"].sum():
        overall = churn_groups["churned"].sum() / churn_groups["base"].sum()
        g = churn_groups[~churn_groups["group"].isin(named)].sort_values(["churn_rate", "group"],
                                                                          ascending=[False, True])
        if len(g) > 1 and overall > 0 and g.iloc[0]["churn_rate"] >= 1.25 * overall:
            out.append(i18n.t("retention_next_channel", lang, group=g.iloc[0]["group"],
                              rate=report.fmt_pct(g.iloc[0]["churn_rate"]), overall=report.fmt_pct(overall)))
    if ticket_groups is not None and not ticket_groups.empty:
        g = ticket_groups[~ticket_groups["category"].isin(named)
                          & (ticket_groups["csat_n"] >= cfg.definitions.min_sample_size)
                          & ticket_groups["csat"].notna()].sort_values(["csat", "category"])
        if len(g) and g.iloc[0]["csat"] < 4.0:
            out.append(i18n.t("retention_next_ticket", lang, group=g.iloc[0]["category"],
                              csat=f"{g.iloc[0]['csat']:.2f}", n=f"{int(g.iloc[0]['csat_n']):,}"))
    return out or [i18n.t("retention_next_default", lang)]


def next_steps(ds, cfg, chs=None) -> list[str]:
    """:func:`pointers` for this client's period: the changes ``chs``
    (:func:`.compute.changes` when not given), churn by acquisition channel
    and tickets by category."""
    chs = compute.changes(ds, cfg) if chs is None else chs
    return pointers(chs, compute.churn_by(ds, cfg), compute.tickets_by_category(ds, cfg), cfg)


# --------------------------------------------------------------------------
# Charts
# --------------------------------------------------------------------------

def trend_chart(ds, cfg):
    """Small multiples of :func:`.compute.monthly` (:data:`TREND_PANELS`),
    from the first month with activity; panels without a value are left
    out, and with none at all a sentence replaces the chart."""
    df = compute.monthly(ds, cfg)
    panels = [(c, label(c, cfg), KINDS[c]) for c in TREND_PANELS if c in df.columns]
    return plots.trends(df, panels, title=i18n.t("retention_trend_title", cfg.language, n=len(df)),
                        empty=i18n.t("retention_trend_empty", cfg.language))


def cohorts(ds, cfg, by: str = "activity"):
    """Heatmap of :func:`.compute.cohort_matrix`: cohorts down, months since
    sign-up across, each cell's percentage written in it. Without a cohort
    in the window, a sentence (said under ``by="activity"``; the purchase
    heatmap then shows nothing); without purchases, one line."""
    import seaborn as sns

    lang = cfg.language
    if by == "purchase" and facts.purchases(ds) is None:
        return _note("retention_no_purchases", cfg)
    matrix = compute.cohort_matrix(ds, cfg, by=by)
    if matrix.empty:
        if by == "purchase":
            return None
        return _note("retention_no_cohorts", cfg, n=cfg.definitions.trend_periods)
    cols = [c for c in matrix.columns if c not in ("cohort", "size")]
    data = matrix[cols].astype(float)
    while cols and data[cols[-1]].isna().all():       # months no cohort has reached
        cols = cols[:-1]
    data = data[cols]
    data.index = [f"{pd.Timestamp(c):%Y-%m} ({int(s):,})" for c, s in zip(matrix["cohort"], matrix["size"])]
    fig, ax = plt.subplots(figsize=(8.5, 0.38 * len(data) + 1.6))
    annot = data.map(lambda v: "" if pd.isna(v) else f"{v * 100:.0f}")
    later = data.drop(columns=[0], errors="ignore")
    vmax = float(later.max().max()) if later.notna().any().any() else 1.0
    sns.heatmap(data, ax=ax, cmap="Blues", vmin=0, vmax=max(vmax, 0.05), annot=annot, fmt="",
                annot_kws={"fontsize": 7}, cbar_kws={"format": plt.FuncFormatter(lambda v, _: f"{v * 100:.0f}%")},
                linewidths=0.5, linecolor="white")
    ax.set_title(i18n.t(f"retention_heatmap_{by}", lang), fontsize=11)
    ax.set_xlabel(i18n.t("retention_months_since", lang))
    ax.set_ylabel(i18n.t("retention_cohort", lang))
    ax.tick_params(axis="both", labelsize=8)
    ax.grid(False)
    fig.tight_layout()
    plt.close(fig)
    return fig


def lifecycle_chart(df: pd.DataFrame, cfg):
    """Stacked bars per month of :func:`.compute.lifecycle`: new,
    returning, resurrecting above zero, dormant below; a sentence when no
    month has anyone in any state."""
    if df.empty or not df[list(facts.MONTHLY_STATES)].to_numpy().any():
        return _note("retention_no_activity", cfg)
    colors = dict(zip(facts.MONTHLY_STATES, (plots.PALETTE[0], plots.PALETTE[2], plots.PALETTE[1], plots.PALETTE[3])))
    fig, ax = plt.subplots(figsize=(8, 3.6))
    x = [f"{pd.Timestamp(m):%y-%m}" for m in df["month"]]
    bottom = pd.Series(0, index=df.index, dtype=float)
    for s in ("new", "returning", "resurrecting"):
        ax.bar(x, df[s], bottom=bottom, color=colors[s], label=facts.label("monthly", s, cfg))
        bottom = bottom + df[s]
    ax.bar(x, -df["dormant"], color=colors["dormant"], label=facts.label("monthly", "dormant", cfg))
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


def lifecycle_table(df: pd.DataFrame, cfg) -> report.Table | None:
    """:func:`.compute.lifecycle` for the report (last six months); ``None``
    when it is empty (the chart says so)."""
    if df.empty:
        return None
    out = df.tail(6).copy()
    out["month"] = [f"{pd.Timestamp(m):%Y-%m}" for m in out["month"]]
    names = {"month": i18n.t("retention_col_month", cfg.language),
             **{s: facts.label("monthly", s, cfg) for s in facts.MONTHLY_STATES}}
    return report.table(out.rename(columns=names), cfg, {names[s]: "int" for s in facts.MONTHLY_STATES})


# --------------------------------------------------------------------------
# Tables of the period
# --------------------------------------------------------------------------

def usage(ds, cfg) -> report.Blocks:
    """DAU, WAU, MAU and stickiness of the period, the mean session length
    when events have sessions, and feature usage (a table) when they have
    features; one line for each missing input, each once."""
    v = compute.period_values(ds, cfg, cfg.period)
    rows = [(label("dau", cfg), report.fmt_num(v["dau"])), (label("wau", cfg), report.fmt_num(v["wau"])),
            (label("mau", cfg), report.fmt_int(v["mau"])), (label("dau_mau", cfg), report.fmt_pct(v["dau_mau"]))]
    if v["session_minutes"] is not None:
        rows.append((label("session_minutes", cfg), report.fmt_num(v["session_minutes"])))
    blocks = [_measures(rows, cfg)]
    events = facts.customer_events(ds)
    if events is None:
        blocks.append(_note("retention_no_event_ids" if ds.has("events") else "retention_no_events", cfg))
        return report.Blocks(blocks)
    if "session_id" not in events.columns:
        blocks.append(_note("retention_no_sessions", cfg))
    elif "duration_s" not in events.columns:
        blocks.append(_note("retention_no_duration", cfg))
    features = compute.feature_usage(ds, cfg)
    if features is None:
        blocks.append(_note("retention_no_features", cfg))
    elif features.empty:
        blocks.append(_note("retention_no_feature_use", cfg, period=cfg.period.label(cfg.language)))
    else:
        features = features.assign(feature=[group_name(f, cfg) for f in features["feature"]])
        blocks.append(_table(features, cfg, {
            "feature": ("retention_col_feature", "text"), "uses": ("retention_col_uses", "int"),
            "users": ("retention_col_users", "int"), "user_share": ("retention_col_user_share", "pct")}))
    return report.Blocks(blocks)


def purchases(ds, cfg):
    """Repeat buyers and the gaps between purchases in the period (a
    table), with one line when purchases are the client's purchase events;
    one line when there are no purchases at all."""
    if facts.purchases(ds) is None:
        return _note("retention_no_purchases", cfg)
    v = compute.period_values(ds, cfg, cfg.period)
    x, n = v["repeat"]
    table = _measures([(i18n.t("retention_repeat_buyers", cfg.language), f"{x:,} / {n:,}"),
                       (label("repeat_purchase_rate", cfg), report.fmt_pct(v["repeat_purchase_rate"])),
                       (i18n.t("retention_median_gap", cfg.language), report.fmt_num(v["inter_purchase_median"])),
                       (label("inter_purchase_days", cfg), report.fmt_num(v["inter_purchase_days"]))], cfg)
    if compute.orders_from_events(ds):
        return report.Blocks([table, _note("retention_purchases_from_events", cfg)])
    return table


def churn_by_channel(ds, cfg):
    """:func:`.compute.churn_by` acquisition channel (a table); one line
    when customers carry no acquisition channel; ``None`` without a churn
    base (the key figures show no churn rate then)."""
    df = compute.churn_by(ds, cfg)
    if df is None:
        return _needs("customers", cfg, "acquisition_channel")
    if df.empty:
        return None
    df = df.assign(group=[group_name(g, cfg) for g in df["group"]])
    return _table(df, cfg, {"group": ("retention_col_channel", "text"), "base": ("retention_col_base", "int"),
                            "churned": ("retention_col_churned", "int"),
                            "churn_rate": ("retention_col_churn_rate", "pct")})


def subscriptions(ds, cfg):
    """Renewals and MRR churn of the period and the comparison period (a
    table); one line without subscriptions, or without their ``mrr``."""
    df = compute.subscription_periods(ds, cfg)
    if df is None:
        return _needs("subscriptions", cfg)
    df = df.assign(period=[p.label(cfg.language) for p in df["period"]])
    cols = {"period": ("period", "text"), "due": ("retention_col_due", "int"),
            "renewed": ("retention_col_renewed", "int"), "renewal_rate": ("renewal_rate", "pct")}
    if df["mrr_start"].notna().any():
        cols |= {"mrr_start": ("retention_col_mrr_start", "money"), "mrr_lost": ("retention_col_mrr_lost", "money"),
                 "mrr_churn": ("mrr_churn", "pct")}
        return _table(df, cfg, cols)
    return report.Blocks([_table(df, cfg, cols), _note("retention_no_mrr", cfg)])


def support(ds, cfg):
    """Tickets opened in the period by category, per 100 active customers,
    with their satisfaction (a table); one line without tickets, without
    categories or without scores."""
    lang = cfg.language
    if not ds.has("tickets"):
        return _needs("tickets", cfg)
    notes = [] if "csat" in ds.raw("tickets").columns else [_note("retention_no_csat", cfg)]
    df = compute.tickets_by_category(ds, cfg)
    if df is None:
        return report.Blocks([_note("retention_no_categories", cfg), *notes])
    if df.empty or not df["tickets"].sum():
        return report.Blocks([_note("retention_no_tickets_opened", cfg, period=cfg.period.label(lang)), *notes])
    df = df.assign(category=[group_name(g, cfg) for g in df["category"]])
    cols = {"category": ("retention_col_category", "text"), "tickets": ("retention_col_tickets", "int"),
            "per_100": ("retention_col_per100", "num")}
    if not notes:
        cols |= {"csat": ("retention_col_csat", "num"), "csat_n": ("retention_col_csat_n", "int")}
    return report.Blocks([_table(df, cfg, cols), *notes])


__all__ = ["KINDS", "TREND_PANELS", "label", "labels", "group_name", "lifecycle_sentence", "insights", "pointers", "next_steps",
           "trend_chart", "cohorts", "lifecycle_chart", "lifecycle_table", "usage", "purchases", "churn_by_channel",
           "subscriptions", "support"]
