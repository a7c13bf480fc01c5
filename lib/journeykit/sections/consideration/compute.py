"""Consideration: what people look at before they buy.

Everything here is computed from the ``events`` table (required); the unit
of most KPIs is a **visit**, one session that contains a ``visit`` event
(every session counts as a visit when the client sends no ``visit`` events
at all). A session is ``session_id`` when the export has one, otherwise a
user's calendar day. A **user** is ``customer_id`` when present, else
``visitor_id``.

The funnel visit → product view → add to cart → checkout → purchase counts
users who reach each step *in order* (each step at or after the previous
one) in the period, either within one session (``definitions.funnel_window:
session``, the default) or within ``definitions.funnel_window_days`` days of
the user's first visit of the period (``funnel_window: days``).
"""

from __future__ import annotations

import datetime as dt

import ibis
import matplotlib.pyplot as plt
import pandas as pd

from journeykit.stats import compare
from journeykit.core import i18n
from journeykit.report import plots
from journeykit import report
from journeykit.data.query import in_window, month_frame, month_of, trailing_months, ts
from journeykit.sections import registry

SECTION = "20_consideration"
STEPS = ("visit", "product_view", "add_to_cart", "checkout_start", "purchase")
"""Funnel steps, in order (canonical event types)."""
PAGE_TYPES = ("visit", "page_view", "product_view", "pricing_view")
"""Event types counted as page views when the export has no ``page`` column."""

i18n.register({
    "consideration_days_to_first_purchase": {"en": "Days from first visit to first purchase (median)",
                                             "ko": "첫 방문부터 첫 구매까지 일수(중앙값)"},
    "consideration_ttp_bucket": {"en": "Days from first visit", "ko": "첫 방문 후 경과 일수"},
    "consideration_ttp_buyers": {"en": "First-time buyers", "ko": "첫 구매 고객"},
    "consideration_ttp_share": {"en": "Share", "ko": "비율"},
    "consideration_ttp_sentence": {
        "en": "{n} customers bought for the first time in {period}; half of them had first visited {median} days or less before, {same_day} on the same day.",
        "ko": "{period}에 {n}명이 처음 구매했습니다. 이 중 절반은 첫 방문 후 {median}일 이내에 구매했고, {same_day}는 첫 방문 당일에 구매했습니다."},
    "consideration_ttp_none": {"en": "No first purchase in the events of {period}.",
                               "ko": "{period} 이벤트에는 첫 구매가 없습니다."},
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
    "consideration_col_to": {"en": "→ {step}", "ko": "→ {step}"},
    "consideration_funnel_title": {"en": "Funnel, {period}: users reaching each step",
                                   "ko": "{period} 퍼널: 단계별 도달 사용자"},
    "consideration_funnel_xlabel": {"en": "Users", "ko": "사용자 수"},
    "consideration_cart_by_device_title": {"en": "Add to cart after a product view, visits without a purchase",
                                           "ko": "구매 없는 방문의 상품 조회 후 장바구니 담기 비율 (기기별)"},
    "consideration_trend_title": {"en": "Consideration, last {n} months", "ko": "최근 {n}개월 고려 단계 지표"},
    "consideration_funnel_rule_session": {
        "en": "Funnel rule: steps in order within one session.",
        "ko": "퍼널 기준: 한 세션 안에서 순서대로 진행한 단계.",
    },
    "consideration_funnel_rule_days": {
        "en": "Funnel rule: steps in order within {days} days of the user's first visit in the month.",
        "ko": "퍼널 기준: 그 달 첫 방문 후 {days}일 안에 순서대로 진행한 단계.",
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
        "ko": "{group}의 {step} 단계를 살펴보세요: 다음 단계 진행률이 {rate}로 {best}({best_rate})보다 낮습니다. "
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
    "consideration_no_groups": {
        "en": "The events have no {column} column, so this breakdown is not available.",
        "ko": "이벤트 데이터에 {column} 컬럼이 없어 이 분석은 제공되지 않습니다.",
    },
})

LABELS_KEYS = ("sessions", "product_view_rate", "add_to_cart_rate", "checkout_rate", "pricing_view_rate",
               "visit_to_purchase", "pages_per_session", "dwell_s", "days_to_first_purchase")
KINDS = {"sessions": "int", "product_view_rate": "pct", "add_to_cart_rate": "pct", "checkout_rate": "pct",
         "pricing_view_rate": "pct", "visit_to_purchase": "pct", "pages_per_session": "num", "dwell_s": "num",
         "days_to_first_purchase": "num"}


def labels(cfg) -> dict[str, str]:
    """KPI key → display label in the client's language."""
    return {k: i18n.t(f"consideration_{k}", cfg.language) for k in LABELS_KEYS}


def step_label(step: str, cfg) -> str:
    return i18n.t(f"consideration_step_{step}", cfg.language)


# --------------------------------------------------------------------------
# Sessions and journeys (Ibis, on the engine)
# --------------------------------------------------------------------------

def _events(ds, start: dt.date, end: dt.date):
    """Events in ``[start, end)`` with ``user`` and ``sid`` (session key) columns."""
    e = in_window(ds.table("events"), "occurred_at", start, end)
    cols = e.columns
    ids = [e[c] for c in ("customer_id", "visitor_id") if c in cols]
    user = ibis.coalesce(*ids) if len(ids) > 1 else ids[0]
    if "session_id" in cols:
        sid = ibis.coalesce(e.session_id, user.concat("|", e.occurred_at.date().cast("string")))
    else:
        sid = user.concat("|", e.occurred_at.date().cast("string"))
    e = e.mutate(user=user, sid=sid)
    return e.filter(e.user.notnull())


def _has_visit_events(ds) -> bool:
    c = _cache(ds)
    if "has_visit" not in c:
        e = ds.table("events")
        c["has_visit"] = bool(e.filter(e.event_type == "visit").limit(1).count().execute())
    return c["has_visit"]


def _ordered(base, ev, key: str, first_col: str, deadline=None):
    """Add ``t_<step>`` for each step after the first: the first time of that
    step's event at or after the previous step's time (and before
    ``deadline`` when given), per ``key``.

    The steps are found on a narrow chain (key, times so far) that each
    step extends with one left join and one aggregation, so the query grows
    linearly with the steps. (Joining each step onto the full table joined
    so far made every step evaluate the previous ones twice: 16 evaluations
    of the first step for a five-step funnel, 7 s for one month of 4.7 M
    events.)"""
    chain = base.select(key, first_col, *([deadline] if deadline else []))
    prev = first_col
    for step in STEPS[1:]:
        s = ev.filter(ev.event_type == step).select(_k=ev[key], _t=ev.occurred_at)
        cond = [chain[key] == s._k, s._t >= chain[prev]]
        if deadline:
            cond.append(s._t < chain[deadline])
        j = chain.left_join(s, cond)
        carried = {c: j[c].min() for c in chain.columns if c != key}
        chain = j.group_by(key).agg(**carried, **{f"t_{step}": j._t.min()})
        prev = f"t_{step}"
    found = chain.select(chain[key].name("_key"), *[f"t_{step}" for step in STEPS[1:]])
    return base.left_join(found, base[key] == found._key).drop("_key")


def session_table(ds, start: dt.date, end: dt.date, steps: bool = True):
    """One row per visit (session with a visit event) starting in
    ``[start, end)``: ``sid``, ``user``, ``start`` (first event), ``month``,
    ``device`` and ``channel`` (of the first event, when the export has
    them), ``pages`` (events with a page; page-like event types when there is
    no ``page`` column), ``dwell_s`` (sum of ``duration_s``, null without
    that column), ``pricing`` (1 if a pricing-page view) and, unless
    ``steps`` is false (counting visits needs none of them, and they cost
    one join per step), ``t_<step>`` for each funnel step reached in order
    (null if not)."""
    e = _events(ds, start, end)
    cols = e.columns
    visits_only = _has_visit_events(ds)
    page = e.page.notnull() if "page" in cols else e.event_type.isin(PAGE_TYPES)
    aggs = dict(
        user=e.user.min(),
        start=e.occurred_at.min(),
        t_visit=(e.occurred_at.min(where=e.event_type == "visit") if visits_only else e.occurred_at.min()),
        pages=page.cast("int64").sum(),
        pricing=(e.event_type == "pricing_view").cast("int64").max(),
    )
    for c in ("device", "channel"):
        if c in cols:
            aggs[c] = e[c].argmin(e.occurred_at)
    if "duration_s" in cols:
        aggs["dwell_s"] = e.duration_s.sum()
    s = e.group_by("sid").agg(**aggs)
    s = s.filter(s.t_visit.notnull())
    s = s.mutate(month=month_of(s.start))
    return _ordered(s, e, "sid", "t_visit") if steps else s


def journeys(ds, start: dt.date, end: dt.date, cfg=None):
    """The units of the funnel in ``[start, end)`` under the client's funnel rule.

    ``funnel_window: session``: one row per visit (see :func:`session_table`).
    ``funnel_window: days``: one row per user, entering at her first visit in
    the window; each later step must follow the previous one and fall within
    ``funnel_window_days`` days of that entry (and before ``end``). Device
    and channel are those of the entry visit. Columns: ``user``, ``device``,
    ``channel`` (when available), ``t_visit`` and ``t_<step>``.
    """
    cfg = cfg or ds.cfg
    if cfg.definitions.funnel_window != "days":
        return session_table(ds, start, end)
    s = session_table(ds, start, end)
    keep = ["user", "t_visit"] + [c for c in ("device", "channel") if c in s.columns]
    first = s.select(*keep)
    agg = {"t_visit": first.t_visit.min()}
    for c in ("device", "channel"):
        if c in first.columns:
            agg[c] = first[c].argmin(first.t_visit)
    u = first.group_by("user").agg(**agg)
    days = int(cfg.definitions.funnel_window_days)
    u = u.mutate(deadline=u.t_visit + ibis.interval(days=days))
    return _ordered(u, _events(ds, start, end), "user", "t_visit", deadline="deadline").drop("deadline")


# --------------------------------------------------------------------------
# KPIs of one period
# --------------------------------------------------------------------------

def _cache(ds) -> dict:
    # results of one loaded dataset, kept on it so a notebook's cells share them
    return ds.__dict__.setdefault("_consideration_cache", {})


def _period_stats(ds, start: dt.date, end: dt.date) -> dict:
    key = ("stats", start, end)
    c = _cache(ds)
    if key not in c:
        c[key] = _visit_stats(session_table(ds, start, end))
    return c[key]


def _visit_stats(s) -> dict:
    row = s.aggregate(
        sessions=s.count(),
        product_view=s.t_product_view.notnull().cast("int64").sum(),
        add_to_cart=s.t_add_to_cart.notnull().cast("int64").sum(),
        checkout_start=s.t_checkout_start.notnull().cast("int64").sum(),
        purchase=s.t_purchase.notnull().cast("int64").sum(),
        pricing=s.pricing.sum(),
        pages_mean=s.pages.mean(), pages_sd=s.pages.std(),
        **({"dwell_mean": s.dwell_s.mean(), "dwell_sd": s.dwell_s.std(), "dwell_n": s.dwell_s.count()}
           if "dwell_s" in s.columns else {}),
    ).execute().iloc[0]
    out = {k: (None if pd.isna(v) else float(v)) for k, v in row.items()}
    for k in ("product_view", "add_to_cart", "checkout_start", "purchase", "pricing"):
        out[k] = out[k] or 0.0
    return out


def sessions(ds, period) -> int:
    """Visits: sessions containing a ``visit`` event that start in the
    period (every session when the client sends no ``visit`` events).
    Unit: count."""
    return int(_period_stats(ds, period.start, period.end)["sessions"])


def product_view_rate(ds, period) -> float | None:
    """Share of the period's visits with a product view after the visit
    began. Numerator: visits with a ``product_view``; denominator: visits.
    Unit: 0–1."""
    v = _period_stats(ds, period.start, period.end)
    return compare.safe_div(v["product_view"], v["sessions"])


def add_to_cart_rate(ds, period) -> float | None:
    """Share of the period's visits with an add to cart after a product
    view (in order). Numerator: visits reaching ``add_to_cart``;
    denominator: all visits. Unit: 0–1."""
    v = _period_stats(ds, period.start, period.end)
    return compare.safe_div(v["add_to_cart"], v["sessions"])


def checkout_rate(ds, period) -> float | None:
    """Share of the period's visits that start checkout after viewing a
    product and adding it to the cart (in order). Numerator: visits
    reaching ``checkout_start``; denominator: all visits. Unit: 0–1."""
    v = _period_stats(ds, period.start, period.end)
    return compare.safe_div(v["checkout_start"], v["sessions"])


def pricing_view_rate(ds, period) -> float | None:
    """Share of the period's visits with a pricing-page view
    (``pricing_view``). Numerator: visits with one; denominator: visits.
    Unit: 0–1."""
    v = _period_stats(ds, period.start, period.end)
    return compare.safe_div(v["pricing"], v["sessions"])


def pages_per_session(ds, period) -> float | None:
    """Mean pages per visit in the period: events with a ``page`` (or, with
    no ``page`` column, visit/page/product/pricing views) per visit.
    Unit: pages."""
    return _period_stats(ds, period.start, period.end)["pages_mean"]


def dwell_time(ds, period) -> float | None:
    """Mean time on site per visit in the period: the sum of ``duration_s``
    over a visit's events, averaged over visits that report durations.
    Unit: seconds; ``None`` without a ``duration_s`` column."""
    return _period_stats(ds, period.start, period.end).get("dwell_mean")


def funnel(ds, period, cfg=None) -> pd.DataFrame:
    """Users reaching each funnel step in the period, in order, under the
    client's funnel rule (see :func:`journeys`).

    Columns: ``step``, ``users`` (distinct users who reached the step in at
    least one journey), ``conversion_from_previous`` (users / users at the
    previous step, 0–1; null for the first step) and ``conversion_from_visit``.
    """
    cfg = cfg or ds.cfg
    key = ("funnel", period.start, period.end, cfg.definitions.funnel_window, cfg.definitions.funnel_window_days)
    c = _cache(ds)
    if key not in c:
        j = journeys(ds, period.start, period.end, cfg)
        aggs = {step: j.user.nunique(where=j[f"t_{step}"].notnull()) for step in STEPS}
        c[key] = j.aggregate(**aggs).execute().iloc[0]
    row = c[key]
    users = [int(row[s] or 0) for s in STEPS]
    conv = [None] + [compare.safe_div(users[i], users[i - 1]) for i in range(1, len(STEPS))]
    overall = [compare.safe_div(u, users[0]) for u in users]
    return pd.DataFrame({"step": list(STEPS), "users": users, "conversion_from_previous": conv,
                         "conversion_from_visit": overall})


def funnel_records(df: pd.DataFrame) -> list[dict]:
    """The funnel as ``metrics.json`` wants it: ``[{step, users, conversion_from_previous}]``."""
    return [{"step": r.step, "users": int(r.users),
             "conversion_from_previous": None if pd.isna(r.conversion_from_previous) else float(r.conversion_from_previous)}
            for r in df.itertuples()]


TTP_BUCKETS = ((0, 1, "0"), (1, 2, "1"), (2, 8, "2–7"), (8, 31, "8–30"), (31, 91, "31–90"), (91, None, "91+"))


def days_to_first_purchase(ds, period) -> pd.DataFrame:
    """Per customer whose first ``purchase`` event falls in ``period``: the
    days (fractional) from her first event of any kind to that purchase,
    column ``days``. A visitor's events before she had a customer id count
    as hers when the same ``visitor_id`` later appears with her
    ``customer_id``. Computed on the engine; one row per first-time buyer."""
    e = ds.table("events")
    if "customer_id" not in e.columns:
        return pd.DataFrame(columns=["customer_id", "days"])
    e = e.filter(e.occurred_at < ts(period.end))
    own = e.filter(e.customer_id.notnull()).select(cid=e.customer_id, occurred_at=e.occurred_at)
    seen = own
    if "visitor_id" in e.columns:
        link = e.filter(e.customer_id.notnull() & e.visitor_id.notnull()).select(
            vid=e.visitor_id, cid=e.customer_id).distinct()
        anon = e.filter(e.customer_id.isnull() & e.visitor_id.notnull())
        anon = anon.join(link, anon.visitor_id == link.vid).select(cid=link.cid, occurred_at=anon.occurred_at)
        seen = own.union(anon)
    first_seen = seen.group_by("cid").aggregate(first_seen=seen.occurred_at.min())
    p = e.filter((e.event_type == "purchase") & e.customer_id.notnull())
    first_buy = p.group_by(cid=p.customer_id).aggregate(first_buy=p.occurred_at.min())
    first_buy = first_buy.filter((first_buy.first_buy >= ts(period.start)) & (first_buy.first_buy < ts(period.end)))
    j = first_buy.join(first_seen, "cid")
    secs = j.first_buy.epoch_seconds() - j.first_seen.epoch_seconds()
    df = j.select(customer_id=j.cid, days=secs / 86400.0).execute()
    return df.sort_values("customer_id", kind="stable").reset_index(drop=True)


def days_to_first_purchase_buckets(days: pd.Series) -> pd.DataFrame:
    """First-time buyers per bucket of whole days since first visit
    (0 = same day, 1, 2–7, 8–30, 31–90, 91+): ``bucket``, ``buyers``, ``share``."""
    whole = pd.Series(days, dtype="float64").dropna().floordiv(1)
    rows = []
    for lo, hi, label in TTP_BUCKETS:
        n = int(((whole >= lo) & ((whole < hi) if hi is not None else True)).sum())
        rows.append({"bucket": label, "buyers": n, "share": n / len(whole) if len(whole) else None})
    return pd.DataFrame(rows)


def days_to_first_purchase_view(ds, cfg):
    """A generated sentence on the month's first-time buyers and a table of
    :func:`days_to_first_purchase_buckets` (or a note when there were none)."""
    lang = cfg.language
    d = days_to_first_purchase(ds, cfg.period)["days"]
    if d.empty:
        return [report.Note(i18n.t("consideration_ttp_none", lang, period=cfg.period.label(lang)))]
    b = days_to_first_purchase_buckets(d)
    sentence = i18n.t("consideration_ttp_sentence", lang, n=f"{len(d):,}", period=cfg.period.label(lang),
                      median=f"{d.median():.1f}", same_day=report.fmt_pct(b["share"].iloc[0]))
    cols = {"bucket": i18n.t("consideration_ttp_bucket", lang), "buyers": i18n.t("consideration_ttp_buyers", lang),
            "share": i18n.t("consideration_ttp_share", lang)}
    table = report.table(b.rename(columns=cols), cfg, {cols["buyers"]: "int", cols["share"]: "pct"})
    return [report.Narrative([sentence]), table]


def period_values(ds, period) -> dict:
    """Every consideration KPI for one month, with the counts behind them."""
    v = _period_stats(ds, period.start, period.end)
    f = funnel(ds, period)
    n = v["sessions"]
    return {
        "sessions": n,
        "product_view_rate": compare.safe_div(v["product_view"], n),
        "add_to_cart_rate": compare.safe_div(v["add_to_cart"], n),
        "checkout_rate": compare.safe_div(v["checkout_start"], n),
        "pricing_view_rate": compare.safe_div(v["pricing"], n),
        "pages_per_session": v["pages_mean"] if n else None,
        "dwell_s": v.get("dwell_mean") if n else None,
        "funnel": f,
        "_stats": v,
    }


def changes(ds, cfg) -> list[compare.Change]:
    """This period against the previous month: visits (Poisson rate per
    day), the visit rates and the visit → purchase user conversion
    (two-proportion z-tests), pages and time per visit (Welch t-tests)."""
    p, q = cfg.period, cfg.period.previous()
    a, b = period_values(ds, p), period_values(ds, q)
    sa, sb = a["_stats"], b["_stats"]
    mn = cfg.definitions.min_sample_size
    fa, fb = a["funnel"], b["funnel"]
    out = [compare.count("sessions", sa["sessions"], p.days, sb["sessions"], q.days, min_n=mn)]
    for key, num in (("product_view_rate", "product_view"), ("add_to_cart_rate", "add_to_cart"),
                     ("checkout_rate", "checkout_start"), ("pricing_view_rate", "pricing")):
        out.append(compare.rate(key, sa[num], sa["sessions"], sb[num], sb["sessions"], min_n=mn,
                                higher_is_better=None if key == "pricing_view_rate" else True))
    out.append(compare.rate("visit_to_purchase", fa.users.iloc[-1], fa.users.iloc[0],
                            fb.users.iloc[-1], fb.users.iloc[0], min_n=mn))
    out.append(compare.mean("pages_per_session", sa["pages_mean"], sa["pages_sd"], sa["sessions"],
                            sb["pages_mean"], sb["pages_sd"], sb["sessions"], min_n=mn, higher_is_better=None))
    if "dwell_mean" in sa:
        out.append(compare.mean("dwell_s", sa["dwell_mean"], sa["dwell_sd"], sa["dwell_n"] or 0,
                                sb["dwell_mean"], sb["dwell_sd"], sb["dwell_n"] or 0, min_n=mn,
                                higher_is_better=None))
    da, db = days_to_first_purchase(ds, p)["days"], days_to_first_purchase(ds, q)["days"]
    out.append(compare.value("days_to_first_purchase", da.median() if len(da) else None,
                             db.median() if len(db) else None, higher_is_better=False))
    return out


def monthly(ds, cfg) -> pd.DataFrame:
    """One row per month of the trend window: ``sessions``, the visit rates
    (``product_view_rate``, ``add_to_cart_rate``, ``checkout_rate``,
    ``purchase_rate``, ``pricing_view_rate``), ``pages_per_session`` and
    ``dwell_s``; months without visits are gaps. Computed month by month
    from the period figures (:func:`_period_stats`, cached per month), so
    the trend's last point is the KPI shown; one query over the whole trend
    window held every session of a year in memory at once."""
    months = trailing_months(cfg)
    rows = []
    for p in months:
        st = _period_stats(ds, p.start, p.end)
        n = st["sessions"] or 0.0

        def rate(k):
            return st[k] / n if n else float("nan")

        row = {"month": pd.Timestamp(p.start), "sessions": n, "product_view_rate": rate("product_view"),
               "add_to_cart_rate": rate("add_to_cart"), "checkout_rate": rate("checkout_start"),
               "purchase_rate": rate("purchase"), "pricing_view_rate": rate("pricing"),
               "pages_per_session": st["pages_mean"] if n else float("nan")}
        if "dwell_mean" in st:
            row["dwell_s"] = st["dwell_mean"] if st["dwell_mean"] is not None else float("nan")
        rows.append(row)
    return month_frame(cfg).merge(pd.DataFrame(rows), on="month", how="left")


# --------------------------------------------------------------------------
# Breakdowns
# --------------------------------------------------------------------------

def step_conversion_by(ds, period, by: str, cfg=None) -> pd.DataFrame | None:
    """Step-to-step conversion of the period's journeys (visits under the
    session rule, users under the days rule) by ``device`` or ``channel``
    of the visit.

    Columns: the group, ``journeys`` (visits), one count column per step and
    ``<step>_rate`` = journeys reaching the step / journeys reaching the
    previous step (0–1; its complement is the drop-off). Groups with fewer
    than max(min_group_size, k_anonymity) journeys fold into "other" (rates
    recomputed from the summed counts). ``None`` when events lack ``by``.
    """
    cfg = cfg or ds.cfg
    if by not in ds.table("events").columns:
        return None
    key = ("by", by, period.start, period.end, cfg.definitions.funnel_window, cfg.definitions.funnel_window_days)
    c = _cache(ds)
    if key not in c:
        j = journeys(ds, period.start, period.end, cfg)
        g = j.mutate(grp=j[by].fill_null(i18n.t("consideration_unknown", cfg.language)))
        aggs = {step: g[f"t_{step}"].notnull().cast("int64").sum() for step in STEPS}
        c[key] = g.group_by("grp").agg(**aggs).execute().rename(columns={"grp": by})
    df = c[key].copy()
    df["journeys"] = df["visit"]
    minimum = max(cfg.definitions.min_group_size, cfg.definitions.k_anonymity)
    df = compare.fold_small(df, by, "journeys", minimum, other=i18n.t("other_group", cfg.language),
                            sum_columns=list(STEPS) + ["journeys"])
    for i in range(1, len(STEPS)):
        df[f"{STEPS[i]}_rate"] = [compare.safe_div(a, b) for a, b in zip(df[STEPS[i]], df[STEPS[i - 1]])]
    return df[[by, "journeys", *STEPS, *[f"{s}_rate" for s in STEPS[1:]]]]


def browse_cart_rate_by_device(ds, start: dt.date, end: dt.date, min_size: int = 0, other: str = "other") -> pd.DataFrame:
    """Add to cart given a product view in visits that did not end in a
    purchase, by device, over ``[start, end)``: ``device``,
    ``product_views`` (visits with a product view), ``carts`` and ``rate``
    (0–1). This isolates browsing behaviour from purchase visits, which
    complete the funnel by construction. Devices with fewer than
    ``min_size`` such visits fold into ``other``."""
    s = session_table(ds, start, end)
    s = s.filter(s.t_purchase.isnull() & s.t_product_view.notnull())
    df = s.group_by("device").agg(product_views=s.count(),
                                  carts=s.t_add_to_cart.notnull().cast("int64").sum()).execute()
    df["device"] = df["device"].fillna(i18n.t("consideration_unknown", ds.cfg.language))
    if min_size:
        df = compare.fold_small(df, "device", "product_views", min_size, other=other,
                                sum_columns=["product_views", "carts"])
    else:
        df = df.sort_values("device").reset_index(drop=True)
    df["rate"] = df["carts"] / df["product_views"]
    return df


# --------------------------------------------------------------------------
# Views for the notebook
# --------------------------------------------------------------------------

def kpi_view(ds, cfg, ch=None):
    """The period-over-period KPI table."""
    ch = ch if ch is not None else changes(ds, cfg)
    return report.kpi_table(ch, labels(cfg), KINDS, cfg)


def narrative(ds, cfg, ch=None):
    """Generated sentences: what changed, the funnel's largest drop-off and
    the widest gap between devices."""
    ch = ch if ch is not None else changes(ds, cfg)
    sentences = report.describe_changes(ch, labels(cfg), KINDS, cfg)
    sentences += funnel_sentences(funnel(ds, cfg.period, cfg), step_conversion_by(ds, cfg.period, "device", cfg), cfg)
    return report.Narrative(sentences)


def _biggest_drop(f: pd.DataFrame):
    conv = f["conversion_from_previous"].iloc[1:]
    if conv.dropna().empty:
        return None
    i = int(conv.astype(float).idxmin())
    return i


def _group_gap(by_df: pd.DataFrame | None, group_col: str, cfg, min_gap: float = 0.05):
    """The step where groups differ most, among gaps of at least ``min_gap``
    that are significant (two-proportion z-test on the steps' counts):
    (step index, worst row, best row, gap)."""
    if by_df is None or len(by_df) < 2:
        return None
    other = i18n.t("other_group", cfg.language)
    d = by_df[by_df[group_col] != other]
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


def funnel_sentences(f: pd.DataFrame, by_device: pd.DataFrame | None, cfg) -> list[str]:
    """Sentences about the funnel: the step with the lowest conversion from
    the previous one, and the step where devices differ most (at least
    5 points apart and significantly so; groups folded into "other" left out)."""
    lang = cfg.language
    if f["users"].iloc[0] == 0:
        return [i18n.t("consideration_no_sessions", lang)]
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
                          worst=lo["device"], worst_rate=report.fmt_pct(lo[col]),
                          best=hi["device"], best_rate=report.fmt_pct(hi[col])))
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
        return [i18n.t("consideration_next_step_gap", lang, step=step_label(STEPS[k - 1], cfg), group=lo["device"],
                       rate=report.fmt_pct(lo[f"{STEPS[k]}_rate"]), best=hi["device"],
                       best_rate=report.fmt_pct(hi[f"{STEPS[k]}_rate"]), gain=report.fmt_int(gain),
                       target_step=step_label(STEPS[k], cfg))]
    if f["users"].iloc[0] > 0:
        i = _biggest_drop(f)
        if i is not None:
            return [i18n.t("consideration_next_drop", lang, a=step_label(STEPS[i - 1], cfg), b=step_label(STEPS[i], cfg))]
    return [i18n.t("consideration_next_none", lang)]


def next_steps_view(ds, cfg):
    return report.Narrative(next_steps(funnel(ds, cfg.period, cfg), step_conversion_by(ds, cfg.period, "device", cfg), cfg))


def funnel_rule_note(cfg) -> report.Note:
    """One line stating the funnel rule in force (a client setting)."""
    if cfg.definitions.funnel_window == "days":
        return report.Note(i18n.t("consideration_funnel_rule_days", cfg.language, days=cfg.definitions.funnel_window_days))
    return report.Note(i18n.t("consideration_funnel_rule_session", cfg.language))


def funnel_table(ds, cfg):
    """The funnel as a client-facing table."""
    f = funnel(ds, cfg.period, cfg)
    lang = cfg.language
    df = pd.DataFrame({
        i18n.t("consideration_col_step", lang): [step_label(s, cfg) for s in f.step],
        i18n.t("consideration_col_users", lang): f.users,
        i18n.t("consideration_col_conversion", lang): f.conversion_from_previous,
        i18n.t("consideration_col_overall", lang): f.conversion_from_visit,
    })
    cols = list(df.columns)
    return report.table(df, cfg, {cols[1]: "int", cols[2]: "pct", cols[3]: "pct"})


def funnel_chart(f: pd.DataFrame, cfg):
    """Horizontal bars of users per step, each labelled with its count and
    its conversion from the previous step."""
    fig, ax = plt.subplots(figsize=(7.5, 3.0))
    names = [step_label(s, cfg) for s in f.step]
    vals = f.users.astype(float).tolist()
    ax.barh(names[::-1], vals[::-1], color=plots.PALETTE[0])
    top = max(vals) if vals and max(vals) > 0 else 1
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


def funnel_view(ds, cfg):
    return funnel_chart(funnel(ds, cfg.period, cfg), cfg)


def breakdown_view(ds, cfg, by: str):
    """Step conversion by device or channel as a client-facing table (or a
    note when the events lack the column)."""
    df = step_conversion_by(ds, cfg.period, by, cfg)
    lang = cfg.language
    if df is None:
        return report.Note(i18n.t("consideration_no_groups", lang, column=by))
    out = pd.DataFrame({i18n.t(f"consideration_col_{by}", lang): df[by],
                        i18n.t("consideration_col_journeys", lang): df["journeys"]})
    fmts = {out.columns[1]: "int"}
    for s in STEPS[1:]:
        name = i18n.t("consideration_col_to", lang, step=step_label(s, cfg))
        out[name] = df[f"{s}_rate"]
        fmts[name] = "pct"
    return report.table(out, cfg, fmts)


def cart_by_device_chart(ds, cfg):
    """Bars: add to cart given a product view in visits that did not end in
    a purchase (browsing), by device, this period."""
    if "device" not in ds.table("events").columns:
        return report.Note(i18n.t("consideration_no_groups", cfg.language, column="device"))
    df = browse_cart_rate_by_device(ds, cfg.period.start, cfg.period.end,
                                    max(cfg.definitions.min_group_size, cfg.definitions.k_anonymity),
                                    i18n.t("other_group", cfg.language))
    if df.empty:
        return None
    return plots.bars(df, "device", "rate", i18n.t("consideration_cart_by_device_title", cfg.language), kind="pct")


def trend_view(ds, cfg):
    """Small multiples of the monthly KPIs."""
    m = monthly(ds, cfg)
    lb = labels(cfg)
    panels = [("sessions", lb["sessions"], "int"), ("product_view_rate", lb["product_view_rate"], "pct"),
              ("add_to_cart_rate", lb["add_to_cart_rate"], "pct"), ("checkout_rate", lb["checkout_rate"], "pct"),
              ("pages_per_session", lb["pages_per_session"], "num")]
    if "dwell_s" in m.columns:
        panels.append(("dwell_s", lb["dwell_s"], "num"))
    return plots.trends(m, panels, title=i18n.t("consideration_trend_title", cfg.language, n=len(m)))


# --------------------------------------------------------------------------
# metrics.json
# --------------------------------------------------------------------------

STABLE_KEYS = registry.get("20_consideration").stable_keys


def empty_metrics() -> dict:
    """Every stable key (and its ``_prev``) as ``None``."""
    return {k: None for key in STABLE_KEYS for k in (key, f"{key}_prev")}


def metrics(ds, cfg) -> dict:
    """The section's ``metrics.json`` entries: the stable keys ``sessions``,
    ``product_view_rate``, ``add_to_cart_rate``, ``checkout_rate``,
    ``funnel`` (list of ``{step, users, conversion_from_previous}``), each
    with ``_prev``; plus ``pricing_view_rate``, ``visit_to_purchase``,
    ``pages_per_session`` and ``dwell_s`` (with ``_prev``). ``None`` where not
    computable (no events table)."""
    out = empty_metrics()
    if not ds.has("events"):
        return out
    out.update(compare.to_metrics(*changes(ds, cfg)))
    out["funnel"] = funnel_records(funnel(ds, cfg.period, cfg))
    out["funnel_prev"] = funnel_records(funnel(ds, cfg.period.previous(), cfg))
    out["funnel_window"] = cfg.definitions.funnel_window
    return out


__all__ = ["STEPS", "session_table", "journeys", "sessions", "product_view_rate", "add_to_cart_rate",
           "checkout_rate", "pricing_view_rate", "pages_per_session", "dwell_time", "funnel", "funnel_records",
           "period_values", "changes", "monthly", "step_conversion_by", "browse_cart_rate_by_device",
           "funnel_sentences", "next_steps", "metrics", "empty_metrics", "days_to_first_purchase",
           "days_to_first_purchase_buckets", "days_to_first_purchase_view"]
