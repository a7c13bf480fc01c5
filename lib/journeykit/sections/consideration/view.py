"""Consideration, what the notebook shows: labels, tables, charts and
generated sentences in the client's language, built from what
:mod:`journeykit.sections.consideration.compute` returns."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from journeykit import report
from journeykit.core import i18n
from journeykit.report import plots
from journeykit.sections.consideration.compute import OTHER, STEPS, UNKNOWN, days_to_first_purchase_buckets
from journeykit.stats import compare

i18n.register({
    "consideration_days_to_first_purchase": {"en": "Days from first visit to first purchase (median)",
                                             "ko": "첫 방문부터 첫 구매까지 일수(중앙값)"},
    "consideration_ttp_bucket": {"en": "Days from first visit", "ko": "첫 방문 후 경과 일수"},
    "consideration_ttp_buyers": {"en": "First-time buyers", "ko": "첫 구매 고객"},
    "consideration_ttp_share": {"en": "Share", "ko": "비율"},
    "consideration_ttp_sentence": {
        "en": "{n} customers bought for the first time in {period}; half of them had first visited {median} days or less before, {same_day} on the same day.",
        "ko": "{period}에 {n}명이 처음 구매했습니다. 이 중 절반은 첫 방문 후 {median}일 이내에 구매했고, {same_day}은(는) 첫 방문 당일에 구매했습니다."},
    "consideration_ttp_none": {"en": "No first purchase by a visitor in {period}.",
                               "ko": "{period}에는 방문 기록이 있는 고객의 첫 구매가 없습니다."},
    "consideration_unknown": {"en": "unknown", "ko": "미상"},
    "consideration_sessions": {"en": "Visits (sessions)", "ko": "방문 (세션)"},
    "consideration_product_view_rate": {"en": "Visits with a product view", "ko": "상품 조회 방문 비율"},
    "consideration_add_to_cart_rate": {"en": "Visits with an add to cart", "ko": "장바구니 담기 방문 비율"},
    "consideration_checkout_rate": {"en": "Visits that start checkout", "ko": "결제 시작 방문 비율"},
    "consideration_pricing_view_rate": {"en": "Visits with a pricing-page view", "ko": "가격 페이지 조회 방문 비율"},
    "consideration_visit_to_purchase": {"en": "Users from visit to purchase", "ko": "방문 → 구매 전환 사용자 비율"},
    "consideration_pages_per_session": {"en": "Pages per visit", "ko": "방문당 페이지 수"},
    "consideration_dwell_s": {"en": "Time on site per visit (s)", "ko": "방문당 체류 시간 (초)"},
    "consideration_step_visit": {"en": "Visit", "ko": "방문"},
    "consideration_step_product_view": {"en": "Product view", "ko": "상품 조회"},
    "consideration_step_add_to_cart": {"en": "Add to cart", "ko": "장바구니"},
    "consideration_step_checkout_start": {"en": "Checkout", "ko": "결제 시작"},
    "consideration_step_purchase": {"en": "Purchase", "ko": "구매"},
    "consideration_col_step": {"en": "Step", "ko": "단계"},
    "consideration_col_users": {"en": "Users", "ko": "사용자"},
    "consideration_col_conversion": {"en": "From previous step", "ko": "이전 단계 대비 전환"},
    "consideration_col_overall": {"en": "From visit", "ko": "방문 대비"},
    "consideration_col_device": {"en": "Device", "ko": "기기"},
    "consideration_col_channel": {"en": "Channel", "ko": "채널"},
    "consideration_col_journeys": {"en": "Visits", "ko": "방문"},
    "consideration_col_users_journeys": {"en": "Users", "ko": "사용자"},
    "consideration_col_to": {"en": "→ {step}", "ko": "→ {step}"},
    "consideration_funnel_title": {"en": "Funnel, {period}: users reaching each step",
                                   "ko": "{period} 퍼널: 단계별 도달 사용자"},
    "consideration_funnel_xlabel": {"en": "Users", "ko": "사용자 수"},
    "consideration_cart_by_device_title": {"en": "Add to cart after a product view, visits without a purchase",
                                           "ko": "구매 없는 방문의 상품 조회 후 장바구니 담기 비율 (기기별)"},
    "consideration_trend_title": {"en": "Consideration, last {n} months", "ko": "최근 {n}개월 고려 단계 지표"},
    "consideration_trend_empty": {"en": "No month of the trend window has a visit.",
                                  "ko": "추이 기간에 방문이 있는 달이 없습니다."},
    "consideration_funnel_rule_session": {
        "en": "Funnel rule: steps in order, by timestamp, within one session; steps logged at the same time count as in order.",
        "ko": "퍼널 기준: 한 세션 안에서 시각 순서대로 진행한 단계(같은 시각에 기록된 단계는 순서대로 진행한 것으로 봅니다).",
    },
    "consideration_funnel_rule_days": {
        "en": "Funnel rule: steps in order, by timestamp, within {days} days of the user's first visit in the month; steps logged at the same time count as in order.",
        "ko": "퍼널 기준: 그 달 첫 방문 후 {days}일 안에 시각 순서대로 진행한 단계(같은 시각에 기록된 단계는 순서대로 진행한 것으로 봅니다).",
    },
    "consideration_biggest_drop": {
        "en": "The largest drop-off is from {a} to {b}: {conv} of users go on ({lost} do not).",
        "ko": "가장 큰 이탈은 {a} → {b} 구간입니다: {conv}만 다음 단계로 넘어갑니다 ({lost} 이탈).",
    },
    "consideration_group_gap": {
        "en": "From {a} to {b}, {worst} converts worst ({worst_rate}) and {best} best ({best_rate}).",
        "ko": "{a} → {b} 전환은 {worst}에서 가장 낮고 ({worst_rate}) {best}에서 가장 높습니다 ({best_rate}).",
    },
    "consideration_next_step_gap": {
        "en": "Look at the {step} step on {group}: {rate} of visits go on, against {best_rate} on {best}. "
              "Closing half that gap would add about {gain} {target_step} visits a month.",
        "ko": "{group}의 {step} 단계를 살펴보세요: 다음 단계 진행률이 {rate}(으)로 {best}({best_rate})보다 낮습니다. "
              "차이의 절반만 줄여도 월 {gain}건의 {target_step} 방문이 늘어납니다.",
    },
    "consideration_next_drop": {
        "en": "The biggest leak is between {a} and {b}; test changes on that page first.",
        "ko": "가장 큰 누수는 {a} → {b} 구간입니다. 이 페이지부터 개선을 실험해 보세요.",
    },
    "consideration_next_none": {
        "en": "No step or device stands out this month; keep watching the funnel trend.",
        "ko": "이번 달에는 눈에 띄는 단계나 기기가 없습니다. 퍼널 추이를 계속 지켜보세요.",
    },
    "consideration_no_sessions": {
        "en": "No visits in this period, so the funnel cannot be drawn.",
        "ko": "이 기간에 방문이 없어 퍼널을 그릴 수 없습니다.",
    },
    # what the client's events allow (compute.data_notes), each said once
    "consideration_note_no_visit_events": {
        "en": "The events have no visit events, so every session counts as a visit.",
        "ko": "방문(visit) 이벤트가 없어 모든 세션을 방문으로 봅니다.",
    },
    "consideration_note_user_day_sessions": {
        "en": "The events have no session_id, so a session is one user's calendar day.",
        "ko": "이벤트 데이터에 session_id가 없어 사용자의 하루를 한 세션으로 봅니다.",
    },
    "consideration_note_page_types": {
        "en": "The events have no page column, so pages per visit counts visit, page, product and pricing views.",
        "ko": "이벤트 데이터에 page 컬럼이 없어 방문당 페이지 수는 방문·페이지·상품·가격 조회 이벤트로 셉니다.",
    },
    "consideration_note_no_duration": {
        "en": "Time on site is not shown: the events have no duration_s column.",
        "ko": "체류 시간은 표시하지 않습니다: 이벤트 데이터에 duration_s 컬럼이 없습니다.",
    },
    "consideration_note_untracked_product_view": {
        "en": "Product views are not tracked (no product_view event at all): the product-view, add-to-cart and checkout rates are not shown.",
        "ko": "상품 조회가 추적되지 않습니다(product_view 이벤트 없음): 상품 조회율, 장바구니 담기율, 결제 시작률은 표시하지 않습니다.",
    },
    "consideration_note_untracked_add_to_cart": {
        "en": "Add-to-cart is not tracked (no add_to_cart event at all): the add-to-cart and checkout rates are not shown.",
        "ko": "장바구니 담기가 추적되지 않습니다(add_to_cart 이벤트 없음): 장바구니 담기율과 결제 시작률은 표시하지 않습니다.",
    },
    "consideration_note_untracked_checkout_start": {
        "en": "Checkout starts are not tracked (no checkout_start event at all): the checkout rate is not shown.",
        "ko": "결제 시작이 추적되지 않습니다(checkout_start 이벤트 없음): 결제 시작률은 표시하지 않습니다.",
    },
    "consideration_note_untracked_pricing_view": {
        "en": "Pricing-page views are not tracked (no pricing_view event at all): the pricing-view rate is not shown.",
        "ko": "가격 페이지 조회가 추적되지 않습니다(pricing_view 이벤트 없음): 가격 페이지 조회율은 표시하지 않습니다.",
    },
    "consideration_note_no_device": {
        "en": "Drop-off by device is not shown: the events have no device column.",
        "ko": "기기별 이탈은 표시하지 않습니다: 이벤트 데이터에 device 컬럼이 없습니다.",
    },
    "consideration_note_no_channel": {
        "en": "Drop-off by channel is not shown: the events have no channel column.",
        "ko": "채널별 이탈은 표시하지 않습니다: 이벤트 데이터에 channel 컬럼이 없습니다.",
    },
    "consideration_note_no_first_purchase": {
        "en": "Time to first purchase is not shown: it needs orders and events that carry a customer_id.",
        "ko": "첫 구매까지 걸린 시간은 표시하지 않습니다: 주문 데이터와 customer_id가 있는 이벤트가 필요합니다.",
    },
})

LABEL_KEYS = ("sessions", "product_view_rate", "add_to_cart_rate", "checkout_rate", "pricing_view_rate",
              "visit_to_purchase", "pages_per_session", "dwell_s", "days_to_first_purchase")
KINDS = {"sessions": "int", "product_view_rate": "pct", "add_to_cart_rate": "pct", "checkout_rate": "pct",
         "pricing_view_rate": "pct", "visit_to_purchase": "pct", "pages_per_session": "num", "dwell_s": "num",
         "days_to_first_purchase": "num"}
"""Display kind of each KPI."""
KPI_NOTES = ("no_visit_events", "user_day_sessions", "page_types", "no_duration", "untracked_product_view",
             "untracked_add_to_cart", "untracked_checkout_start", "untracked_pricing_view")
"""The data notes shown with the key figures (the others go with their analysis)."""


def labels(cfg) -> dict[str, str]:
    """KPI key → display label in the client's language."""
    return {k: i18n.t(f"consideration_{k}", cfg.language) for k in LABEL_KEYS}


def step_label(step: str, cfg) -> str:
    """A funnel step's display name."""
    return i18n.t(f"consideration_step_{step}", cfg.language)


def group_label(group, cfg) -> str:
    """A device or channel for display: the folded row as "other", a
    missing value as "unknown" (in the client's language)."""
    if group == OTHER:
        return i18n.t("other_group", cfg.language)
    if group == UNKNOWN:
        return i18n.t("consideration_unknown", cfg.language)
    return str(group)


def data_note(notes: list[str], cfg, *keys: str) -> report.Note | None:
    """One note saying what the events lack, for the ``keys`` among
    ``notes`` (from :func:`journeykit.sections.consideration.compute.data_notes`);
    ``None`` when none applies. The notebook shows each where it matters,
    once; with no ``keys``, the key figures' notes (:data:`KPI_NOTES`)."""
    keys = keys or KPI_NOTES
    texts = [i18n.t(f"consideration_note_{k}", cfg.language) for k in keys if k in notes]
    return report.Note(" ".join(texts), "warn") if texts else None


# --------------------------------------------------------------------------
# Generated text
# --------------------------------------------------------------------------

def _biggest_drop(f: pd.DataFrame) -> int | None:
    conv = pd.to_numeric(f["conversion_from_previous"].iloc[1:], errors="coerce")
    if conv.dropna().empty:
        return None
    return int(conv.idxmin())


def _group_gap(by_df: pd.DataFrame | None, group_col: str, cfg, min_gap: float = 0.05):
    """The step where groups differ most, among gaps of at least ``min_gap``
    that are significant (two-proportion z-test on the steps' counts):
    (step index, worst row, best row, gap); the folded and unknown groups
    left out."""
    if by_df is None:
        return None
    d = by_df[~by_df[group_col].isin([OTHER, UNKNOWN])]
    if len(d) < 2:
        return None
    best = None
    for i in range(1, len(STEPS)):
        col = f"{STEPS[i]}_rate"
        r = d.dropna(subset=[col])
        if len(r) < 2:
            continue
        lo, hi = r.loc[r[col].idxmin()], r.loc[r[col].idxmax()]
        gap = hi[col] - lo[col]
        test = compare.rate("gap", lo[STEPS[i]], lo[STEPS[i - 1]], hi[STEPS[i]], hi[STEPS[i - 1]],
                            min_n=cfg.definitions.min_sample_size)
        if gap >= min_gap and test.significant and (best is None or gap > best[3]):
            best = (i, lo, hi, gap)
    return best


def insights(f: pd.DataFrame, by_device: pd.DataFrame | None, cfg) -> list[str]:
    """Sentences about the funnel: the step with the lowest conversion from
    the previous one, and the step where devices differ most (at least
    5 points apart and significantly so; folded and unknown devices left
    out). Nothing without visits (the funnel chart says so)."""
    lang = cfg.language
    if f["users"].iloc[0] == 0:
        return []
    out = []
    i = _biggest_drop(f)
    if i is not None:
        conv = f["conversion_from_previous"].iloc[i]
        out.append(i18n.t("consideration_biggest_drop", lang, a=step_label(STEPS[i - 1], cfg),
                          b=step_label(STEPS[i], cfg), conv=report.fmt_pct(conv), lost=report.fmt_pct(1 - conv)))
    g = _group_gap(by_device, "device", cfg)
    if g is not None:
        k, lo, hi, _ = g
        col = f"{STEPS[k]}_rate"
        out.append(i18n.t("consideration_group_gap", lang, a=step_label(STEPS[k - 1], cfg), b=step_label(STEPS[k], cfg),
                          worst=group_label(lo["device"], cfg), worst_rate=report.fmt_pct(lo[col]),
                          best=group_label(hi["device"], cfg), best_rate=report.fmt_pct(hi[col])))
    return out


def next_steps(f: pd.DataFrame, by_device: pd.DataFrame | None, cfg) -> list[str]:
    """What to look at next: the device and step with the widest gap to the
    best device, with the visits a half-closed gap would add a month; else
    the funnel's largest drop-off; else nothing stands out."""
    lang = cfg.language
    g = _group_gap(by_device, "device", cfg)
    if g is not None:
        k, lo, hi, gap = g
        gain = lo[STEPS[k - 1]] * gap / 2
        return [i18n.t("consideration_next_step_gap", lang, step=step_label(STEPS[k - 1], cfg),
                       group=group_label(lo["device"], cfg), rate=report.fmt_pct(lo[f"{STEPS[k]}_rate"]),
                       best=group_label(hi["device"], cfg), best_rate=report.fmt_pct(hi[f"{STEPS[k]}_rate"]),
                       gain=report.fmt_int(gain), target_step=step_label(STEPS[k], cfg))]
    if f["users"].iloc[0] > 0:
        i = _biggest_drop(f)
        if i is not None:
            return [i18n.t("consideration_next_drop", lang, a=step_label(STEPS[i - 1], cfg), b=step_label(STEPS[i], cfg))]
    return [i18n.t("consideration_next_none", lang)]


# --------------------------------------------------------------------------
# Tables and charts
# --------------------------------------------------------------------------

def funnel_rule(cfg) -> report.Note:
    """One line stating the funnel rule in force (a client setting) and how
    equal timestamps count."""
    if cfg.definitions.funnel_window == "days":
        return report.Note(i18n.t("consideration_funnel_rule_days", cfg.language,
                                  days=cfg.definitions.funnel_window_days))
    return report.Note(i18n.t("consideration_funnel_rule_session", cfg.language))


def funnel_chart(f: pd.DataFrame, cfg):
    """Horizontal bars of users per step, each labelled with its count and
    its conversion from the previous step; a sentence instead without visits."""
    if f["users"].iloc[0] == 0:
        return report.Note(i18n.t("consideration_no_sessions", cfg.language))
    fig, ax = plt.subplots(figsize=(7.5, 3.0))
    names = [step_label(s, cfg) for s in f.step]
    vals = f.users.astype(float).tolist()
    ax.barh(names[::-1], vals[::-1], color=plots.PALETTE[0])
    top = max(vals)
    for y, (v, c) in enumerate(zip(vals[::-1], f.conversion_from_previous.tolist()[::-1])):
        text = f"{v:,.0f}" + ("" if c is None or pd.isna(c) else f"  ({c * 100:.1f}%)")
        ax.text(v + top * 0.01, y, text, va="center", fontsize=8)
    ax.set_xlim(0, top * 1.3)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(i18n.t("consideration_funnel_xlabel", cfg.language))
    ax.set_title(i18n.t("consideration_funnel_title", cfg.language, period=cfg.period.label(cfg.language)))
    fig.tight_layout()
    plt.close(fig)
    return fig


def funnel_table(f: pd.DataFrame, cfg):
    """The funnel as a client-facing table; nothing without visits (the
    chart says so)."""
    if f["users"].iloc[0] == 0:
        return None
    lang = cfg.language
    df = pd.DataFrame({
        i18n.t("consideration_col_step", lang): [step_label(s, cfg) for s in f.step],
        i18n.t("consideration_col_users", lang): f.users,
        i18n.t("consideration_col_conversion", lang): f.conversion_from_previous,
        i18n.t("consideration_col_overall", lang): f.conversion_from_visit,
    })
    cols = list(df.columns)
    return report.table(df, cfg, {cols[1]: "int", cols[2]: "pct", cols[3]: "pct"})


def breakdown_table(df: pd.DataFrame | None, by: str, notes: list[str], cfg):
    """Step conversion by device or channel as a client-facing table, or the
    one-line reason it is not shown."""
    lang = cfg.language
    if df is None:
        return data_note(notes, cfg, f"no_{by}")
    unit = "consideration_col_users_journeys" if cfg.definitions.funnel_window == "days" else "consideration_col_journeys"
    out = pd.DataFrame({i18n.t(f"consideration_col_{by}", lang): [group_label(g, cfg) for g in df[by]],
                        i18n.t(unit, lang): df["journeys"]})
    fmts = {out.columns[1]: "int"}
    for s in STEPS[1:]:
        name = i18n.t("consideration_col_to", lang, step=step_label(s, cfg))
        out[name] = df[f"{s}_rate"]
        fmts[name] = "pct"
    return report.table(out, cfg, fmts)


def cart_by_device_chart(df: pd.DataFrame | None, cfg):
    """Bars: add to cart given a product view in visits that did not end in
    a purchase (browsing), by device; nothing without devices or such
    visits (the breakdown table says why)."""
    if df is None or df.empty:
        return None
    d = df.assign(device=[group_label(g, cfg) for g in df.device])
    return plots.bars(d, "device", "rate", i18n.t("consideration_cart_by_device_title", cfg.language), kind="pct")


def first_purchase_view(days: pd.DataFrame, notes: list[str], cfg):
    """A sentence on the month's first-time buyers and a table of days from
    first visit (:func:`~journeykit.sections.consideration.compute.days_to_first_purchase_buckets`);
    a note when there were none, or the reason it cannot be measured."""
    lang = cfg.language
    if "no_first_purchase" in notes:
        return data_note(notes, cfg, "no_first_purchase")
    d = days["days"]
    if d.empty:
        return report.Note(i18n.t("consideration_ttp_none", lang, period=cfg.period.label(lang)))
    b = days_to_first_purchase_buckets(d)
    sentence = i18n.t("consideration_ttp_sentence", lang, n=f"{len(d):,}", period=cfg.period.label(lang),
                      median=f"{d.median():.1f}", same_day=report.fmt_pct(b["share"].iloc[0]))
    cols = {"bucket": i18n.t("consideration_ttp_bucket", lang), "buyers": i18n.t("consideration_ttp_buyers", lang),
            "share": i18n.t("consideration_ttp_share", lang)}
    table = report.table(b.rename(columns=cols), cfg, {cols["buyers"]: "int", cols["share"]: "pct"})
    return report.Blocks([report.Narrative([sentence]), table])


def trend(monthly: pd.DataFrame, cfg):
    """Small multiples of the monthly KPIs from the first month with
    events; a sentence instead when no month has a visit."""
    lb = labels(cfg)
    panels = [("sessions", lb["sessions"], "int"), ("product_view_rate", lb["product_view_rate"], "pct"),
              ("add_to_cart_rate", lb["add_to_cart_rate"], "pct"), ("checkout_rate", lb["checkout_rate"], "pct"),
              ("pages_per_session", lb["pages_per_session"], "num"), ("dwell_s", lb["dwell_s"], "num")]
    m = monthly.copy()
    if (m["sessions"].fillna(0) == 0).all():
        m["sessions"] = float("nan")     # only zeros: nothing to draw
    return plots.trends(m, panels, title=i18n.t("consideration_trend_title", cfg.language, n=len(m)),
                        empty=i18n.t("consideration_trend_empty", cfg.language))


__all__ = ["KINDS", "KPI_NOTES", "labels", "step_label", "group_label", "data_note", "insights", "next_steps",
           "funnel_rule", "funnel_chart", "funnel_table", "breakdown_table", "cart_by_device_chart",
           "first_purchase_view", "trend"]
