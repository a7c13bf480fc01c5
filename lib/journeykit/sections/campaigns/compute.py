"""CRM message response: which messages worked, when, and for whom.

Definitions (the ``messages`` table: one row per message sent to a
customer; all windows are ``start <= t < end`` in the client's local time):

- **Sent**: messages with ``sent_at`` in the window (exact duplicate rows
  count as separate messages, as the client sent them).
- **Opened**: sent messages with an ``opened_at`` before the period end.
  Opens are *measurable* only on channels where at least one message in
  the data up to the period end has an ``opened_at`` (SMS, for instance,
  never reports opens): **open rate** = opened / sent over measurable
  channels only, ``None`` ("not measurable") for a group with none — never
  0%. Without an ``opened_at`` column no open rate exists.
- **Clicked**: sent messages with a ``clicked_at``; **click rate** =
  clicked / sent (0–1; ``None`` without a ``clicked_at`` column).
  **Click-to-open** = clicked / opened, on measurable channels.
- **Converted**: a message followed by a successful order of the same
  customer (the payment classification of
  :mod:`journeykit.sections.purchase.compute`) within
  ``definitions.attribution_window_days`` (``A``) after ``sent_at``:
  ``sent_at <= ordered_at < sent_at + A days``. **Conversion rate** =
  converted / messages whose window had closed by the period end
  (``sent_at + A days <= period end``), so messages of the last ``A`` days
  are left out of the conversion (not counted as failures) and nothing
  after the period end is used. Every message with an order in its window
  counts (a response rate, not an attribution that splits an order between
  messages). ``None`` without an ``orders`` table.
- **Timing**: send hour (0–23) and weekday of ``sent_at``.
- **Days since last activity**: calendar days from the customer's last
  active day before the message (an event with her ``customer_id``, an
  ``orders`` row, or her signup) to the send day, in buckets
  :data:`RECENCY_BUCKETS`.
- **Fatigue**: messages the same customer received in the 30 days before
  ``sent_at`` (``[sent_at − 30 d, sent_at)``), in buckets
  :data:`FATIGUE_BUCKETS`.
- **Unsubscribes** are not part of the data contract (no column for them):
  not available.

Timing, recency and fatigue pool the trend window (the last
``definitions.trend_periods`` months) so each bucket has enough messages;
campaign, channel, variant and segment tables are for the period.
Groups with fewer than ``min_group_size`` messages or ``k_anonymity``
customers are folded into "other".

The section-level :func:`metrics` also reads :mod:`journeykit.sections.campaigns.experiments`.
"""

from __future__ import annotations


import ibis
import numpy as np
import pandas as pd

from journeykit.stats import compare
from journeykit.sections.campaigns import experiments
from journeykit.core import i18n
from journeykit.report import plots
from journeykit import report
from journeykit.data.query import in_window, month_frame, month_of, trailing_months, ts
from journeykit.core.periods import Period
from journeykit.sections import registry
from journeykit import facts

SECTION = "55_campaigns"
STABLE_KEYS = registry.get("55_campaigns").stable_keys
"""The section's stable ``metrics.json`` keys (lists; ``None`` when the table is missing)."""
KPI_KEYS = ("messages_sent", "message_open_rate", "message_click_rate", "message_conversion_rate")
"""Scalar KPIs of the section, each also with ``_prev``."""
CAMPAIGN_FIELDS = ("campaign", "sent", "open_rate", "click_rate", "conversion_rate")
KINDS = {"messages_sent": "int", "message_open_rate": "pct", "message_click_rate": "pct",
         "message_conversion_rate": "pct"}
FATIGUE_DAYS = 30
FATIGUE_BUCKETS = ((0, 1, "0"), (1, 2, "1"), (2, 3, "2"), (3, 5, "3–4"), (5, 10 ** 9, "5+"))
"""Messages received in the previous 30 days: ``[low, high)`` and a label."""
RECENCY_BUCKETS = ((0, 8, "d0_7"), (8, 31, "d8_30"), (31, 91, "d31_90"), (91, 10 ** 9, "d91_plus"))
"""Days since the customer's last activity: ``[low, high)`` and a text key."""
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

i18n.register({
    "campaigns_messages_sent": {"en": "Messages sent", "ko": "발송 메시지 수"},
    "campaigns_message_open_rate": {"en": "Open rate", "ko": "오픈율"},
    "campaigns_message_click_rate": {"en": "Click rate", "ko": "클릭률"},
    "campaigns_message_conversion_rate": {"en": "Conversion rate ({days} days)", "ko": "구매 전환율 ({days}일 이내)"},
    "campaigns_col_campaign": {"en": "Campaign", "ko": "캠페인"},
    "campaigns_col_channel": {"en": "Channel", "ko": "채널"},
    "campaigns_col_variant": {"en": "Variant", "ko": "변형"},
    "campaigns_col_segment": {"en": "Segment ({column})", "ko": "세그먼트 ({column})"},
    "campaigns_col_hour": {"en": "Send hour", "ko": "발송 시각"},
    "campaigns_col_weekday": {"en": "Weekday", "ko": "요일"},
    "campaigns_col_recency": {"en": "Days since last activity", "ko": "마지막 활동 후 경과 일수"},
    "campaigns_col_fatigue": {"en": "Messages in the previous 30 days", "ko": "직전 30일간 받은 메시지 수"},
    "campaigns_col_sent": {"en": "Sent", "ko": "발송"},
    "campaigns_col_open_rate": {"en": "Open rate", "ko": "오픈율"},
    "campaigns_col_click_rate": {"en": "Click rate", "ko": "클릭률"},
    "campaigns_col_click_to_open": {"en": "Click-to-open", "ko": "오픈 대비 클릭률"},
    "campaigns_col_conversion_rate": {"en": "Conversion rate", "ko": "구매 전환율"},
    "campaigns_col_conv_base": {"en": "Window closed", "ko": "전환 기간 종료 메시지"},
    "campaigns_col_p": {"en": "Open rate vs first variant (p)", "ko": "첫 변형 대비 오픈율 (p)"},
    "campaigns_not_measured": {"en": "not measured", "ko": "측정 불가"},
    "campaigns_unknown": {"en": "(not recorded)", "ko": "(기록 없음)"},
    "campaigns_none_activity": {"en": "no earlier activity", "ko": "이전 활동 없음"},
    "campaigns_d0_7": {"en": "0–7 days", "ko": "0–7일"},
    "campaigns_d8_30": {"en": "8–30 days", "ko": "8–30일"},
    "campaigns_d31_90": {"en": "31–90 days", "ko": "31–90일"},
    "campaigns_d91_plus": {"en": "over 90 days", "ko": "90일 초과"},
    "campaigns_mon": {"en": "Mon", "ko": "월"}, "campaigns_tue": {"en": "Tue", "ko": "화"},
    "campaigns_wed": {"en": "Wed", "ko": "수"}, "campaigns_thu": {"en": "Thu", "ko": "목"},
    "campaigns_fri": {"en": "Fri", "ko": "금"}, "campaigns_sat": {"en": "Sat", "ko": "토"},
    "campaigns_sun": {"en": "Sun", "ko": "일"},
    # charts
    "campaigns_chart_trend": {"en": "Message response, last {n} months", "ko": "메시지 반응, 최근 {n}개월"},
    "campaigns_chart_fatigue": {"en": "Relative open rate by messages received in the previous 30 days (last {n} months)",
                                "ko": "직전 30일간 받은 메시지 수별 상대 오픈율 (최근 {n}개월)"},
    "campaigns_chart_hour": {"en": "Relative open rate by send hour (last {n} months)",
                             "ko": "발송 시각별 상대 오픈율 (최근 {n}개월)"},
    "campaigns_chart_recency": {"en": "Relative open rate by days since the customer's last activity (last {n} months)",
                                "ko": "고객의 마지막 활동 후 경과 일수별 상대 오픈율 (최근 {n}개월)"},
    "campaigns_axis_open_rate": {"en": "Relative open rate (100% = usual)", "ko": "상대 오픈율 (100% = 평소)"},
    "campaigns_col_relative": {"en": "Relative open rate", "ko": "상대 오픈율"},
    # notes
    "campaigns_not_available": {
        "en": "Message response needs the messages table, which this client has not supplied.",
        "ko": "메시지 반응 분석에는 메시지 테이블이 필요하지만 이 고객사에서는 제공되지 않았습니다."},
    "campaigns_no_messages": {"en": "No message was sent in {period}.", "ko": "{period}에 발송된 메시지가 없습니다."},
    "campaigns_no_orders": {
        "en": "There is no orders table: message conversion cannot be measured.",
        "ko": "주문 테이블이 없어 메시지 구매 전환율을 측정할 수 없습니다."},
    "campaigns_no_opens": {
        "en": "Opens are not measured on {channels}: open rates there are shown as not measured, not as 0%.",
        "ko": "{channels} 채널은 오픈을 측정하지 않으므로 오픈율을 0%가 아닌 '측정 불가'로 표시합니다."},
    "campaigns_no_open_column": {
        "en": "The messages export has no open time: open rates cannot be measured.",
        "ko": "메시지 데이터에 오픈 시각이 없어 오픈율을 측정할 수 없습니다."},
    "campaigns_no_unsubscribes": {
        "en": "Unsubscribes are not available: the data has no unsubscribe information.",
        "ko": "수신 거부 정보가 데이터에 없어 수신 거부는 분석할 수 없습니다."},
    "campaigns_no_variants": {"en": "No campaign in {period} sent more than one variant.",
                              "ko": "{period}에 두 개 이상의 변형으로 발송된 캠페인이 없습니다."},
    "campaigns_no_segment": {
        "en": "The customers table has no segment or plan column: no breakdown by segment.",
        "ko": "고객 테이블에 세그먼트나 플랜 컬럼이 없어 세그먼트별 분석을 할 수 없습니다."},
    "campaigns_conversion_rule": {
        "en": "A message converts when the customer places a successful order within {days} days of receiving it; messages sent after {last} (whose window was still open at the end of {period}) are left out of the conversion rate.",
        "ko": "메시지를 받은 후 {days}일 이내에 결제를 완료하면 전환으로 봅니다. {last} 이후 발송된 메시지는 {period} 말에 전환 기간이 끝나지 않아 전환율 계산에서 제외합니다."},
    # generated sentences
    "campaigns_sentence_volume": {
        "en": "{sent} messages went to {customers} customers in {period} across {campaigns} campaigns.",
        "ko": "{period}에 {campaigns}개 캠페인으로 고객 {customers}명에게 메시지 {sent}건을 발송했습니다."},
    "campaigns_sentence_top": {
        "en": "{campaign} converted best: {rate} of its messages were followed by an order within {days} days ({n} messages).",
        "ko": "구매 전환율이 가장 높은 캠페인은 {campaign}로, 메시지의 {rate}가 {days}일 이내 주문으로 이어졌습니다 (메시지 {n}건)."},
    "campaigns_sentence_variant": {
        "en": "{campaign}: variant {b} was opened by {rate_b} against {rate_a} for {a} ({lift}, p {p}){sig}.",
        "ko": "{campaign}: 변형 {b}의 오픈율은 {rate_b}, {a}는 {rate_a}입니다 ({lift}, p {p}){sig}."},
    "campaigns_sig_suffix": {"en": ", a significant difference", "ko": ", 유의한 차이"},
    "campaigns_sentence_fatigue": {
        "en": "Fatigue: customers who had received {label} messages in the previous 30 days opened {ratio} as often as those who had received none (compared within the same campaign and the same time since last activity; raw open rates {rate_hi} and {rate0}).",
        "ko": "피로도: 직전 30일간 메시지를 {label}건 받은 고객의 오픈율은 받지 않은 고객의 {ratio} 수준입니다 (같은 캠페인, 같은 마지막 활동 경과 기간끼리 비교; 단순 오픈율은 {rate_hi}와 {rate0})."},
    "campaigns_sentence_recency": {
        "en": "Customers active in the week before the message opened {rate_recent}; those inactive for over 90 days opened {rate_old}.",
        "ko": "메시지 발송 전 일주일 내 활동한 고객의 오픈율은 {rate_recent}, 90일 넘게 활동이 없던 고객은 {rate_old}입니다."},
    "campaigns_sentence_hour": {
        "en": "By send hour, against messages of the same channel to similarly active customers, {best}:00 opened best ({rel_best} of the usual rate) and {worst}:00 worst ({rel_worst}).",
        "ko": "발송 시각별로 같은 채널, 비슷한 활동 수준의 고객에게 보낸 메시지와 비교하면 {best}시의 오픈율이 가장 높고(평소의 {rel_best}) {worst}시가 가장 낮습니다(평소의 {rel_worst})."},
    # what to look at next
    "campaigns_next_fatigue": {
        "en": "Cap the message frequency: customers with {label} messages in the previous 30 days open {ratio} as often as those with none.",
        "ko": "발송 빈도를 제한하세요: 직전 30일간 {label}건을 받은 고객의 오픈율은 메시지를 받지 않은 고객의 {ratio} 수준입니다."},
    "campaigns_next_lapsed": {
        "en": "Treat lapsed customers differently: those inactive for over 90 days open {ratio} as often as recently active ones; a win-back offer or a lower frequency may work better than the regular messages.",
        "ko": "휴면 고객은 다르게 접근하세요: 90일 넘게 활동이 없던 고객의 오픈율은 최근 활동 고객의 {ratio} 수준이므로, 일반 메시지보다 복귀 혜택이나 낮은 발송 빈도가 효과적일 수 있습니다."},
    "campaigns_next_variant": {
        "en": "Use what worked in {campaign}: variant {b} was opened significantly more often than {a} ({lift}).",
        "ko": "{campaign}에서 효과가 있었던 방식을 활용하세요: 변형 {b}의 오픈율이 {a}보다 유의하게 높았습니다 ({lift})."},
    "campaigns_next_hour": {
        "en": "Test sending at {best}:00: over the last {n} months its messages opened at {rate} of the usual rate for their channel and audience, the best of any hour.",
        "ko": "{best}시 발송을 실험해 보세요: 최근 {n}개월간 이 시각의 오픈율이 같은 채널·고객군 평소의 {rate}로 가장 높았습니다."},
    "campaigns_next_nothing": {
        "en": "Nothing in campaigns and experiments stands out this month.",
        "ko": "이번 달 캠페인과 실험에서 특별히 눈에 띄는 점은 없습니다."},
})


# --------------------------------------------------------------------------
# Messages on the engine
# --------------------------------------------------------------------------

def has_messages(ds) -> bool:
    """Whether the client supplied messages."""
    return ds.has("messages")


def _window_days(ds) -> int:
    return int(ds.cfg.definitions.attribution_window_days)


def _channel_expr(t):
    if "channel" not in t.columns:
        return ibis.null("string")
    c = t.channel.cast("string").strip()
    return ibis.ifelse(c == "", ibis.null("string"), c)


def _cached(ds, key, fn):
    return ds.memo(("campaigns", key), fn, ds.cfg)


def open_channels(ds) -> list | None:
    """Channels on which opens are measured (at least one ``opened_at`` up to
    the period end); ``None`` when the export has no ``opened_at`` column.
    A missing channel is ``None`` in the list."""
    t = ds.table("messages")
    if "opened_at" not in t.columns:
        return None

    def q():
        f = t.filter(t.opened_at.notnull())
        return f.select(ch=_channel_expr(f)).distinct().execute()["ch"].tolist()
    return [None if pd.isna(c) else c for c in _cached(ds, "open_channels", q)]


def channels_without_opens(ds, cfg) -> list[str]:
    """Channels of messages sent in the period on which opens are not measured."""
    oc = open_channels(ds)
    if oc is None:
        return []
    t = in_window(ds.table("messages"), "sent_at", cfg.period.start, cfg.period.end)
    chans = t.select(ch=_channel_expr(t)).distinct().execute()["ch"].tolist()
    return sorted(str(c) for c in chans if not pd.isna(c) and c not in oc)


def message_facts(ds, start, end, recency: bool = False, fatigue: bool = False, segment: str | None = None):
    """Messages sent in ``[start, end)`` as an Ibis table, one row per
    distinct message row with ``_n`` (its multiplicity) and flags:
    ``channel``, ``campaign``, ``variant``, ``hour``, ``weekday`` (0 =
    Monday), ``_measurable`` (opens measured on its channel), ``_opened``,
    ``_clicked``, ``_eligible`` (attribution window closed by the period
    end), ``_converted``; with ``recency`` ``days_since`` (days since the
    last active day, null without one); with ``fatigue`` ``prior`` (messages
    in the 30 days before); with ``segment`` that customers column."""
    cfg = ds.cfg
    A = _window_days(ds)
    t = ds.table("messages")
    m = in_window(t, "sent_at", start, end)
    cols = m.columns
    oc = open_channels(ds)
    ch = _channel_expr(m)
    if oc is None:
        measurable = ibis.literal(False)
    else:
        named = [c for c in oc if c is not None]
        measurable = (ch.isin(named) if named else ibis.literal(False)).fill_null(False)
        if None in oc:
            measurable = measurable | ch.isnull()
    variant = m.variant.cast("string").strip() if "variant" in cols else ibis.null("string")
    m = m.select(
        customer_id=m.customer_id, campaign=m.campaign.cast("string"), channel=ch,
        variant=ibis.ifelse(variant == "", ibis.null("string"), variant), sent_at=m.sent_at,
        _measurable=measurable,
        _opened=(m.opened_at.notnull() if "opened_at" in cols else ibis.literal(False)),
        _clicked=(m.clicked_at.notnull() if "clicked_at" in cols else ibis.literal(False)),
    )
    keys = list(m.columns)
    g = m.group_by(keys).aggregate(_n=m.count())
    g = g.mutate(_eligible=(g.sent_at + ibis.interval(days=A)) <= ts(cfg.period.end),
                 hour=g.sent_at.hour(), weekday=g.sent_at.day_of_week.index())
    keys = list(g.columns)
    if ds.has("orders"):

        p = facts.paid_orders(ds)
        p = p.select(_ocid=p.customer_id, _ot=p.ordered_at)
        j = g.left_join(p, [g.customer_id == p._ocid, p._ot >= g.sent_at, p._ot < g.sent_at + ibis.interval(days=A)])
        g = j.group_by(keys).aggregate(_converted=j._ot.notnull().any())
    else:
        g = g.mutate(_converted=ibis.null("boolean"))
    keys = list(g.columns)
    if recency:
        act = _activity_days(ds)
        j = g.left_join(act, [g.customer_id == act._acid, act._first < g.sent_at])
        g = j.group_by(keys).aggregate(_last=j._day.max())
        g = g.mutate(days_since=g.sent_at.date().delta(g._last, unit="day")).drop("_last")
        g = g.mutate(recency=ibis.cases(*[((g.days_since >= lo) & (g.days_since < hi), key)
                                          for lo, hi, key in RECENCY_BUCKETS], else_="none_activity"))
        keys = list(g.columns)
    if fatigue:
        allm = ds.table("messages")
        allm = allm.group_by(_pcid=allm.customer_id, _pt=allm.sent_at).aggregate(_pn=allm.count())
        j = g.left_join(allm, [g.customer_id == allm._pcid, allm._pt < g.sent_at,
                               allm._pt >= g.sent_at - ibis.interval(days=FATIGUE_DAYS)])
        g = j.group_by(keys).aggregate(prior=j._pn.sum().fill_null(0))
        keys = list(g.columns)
    if segment:
        c = ds.table("customers")
        c = c.select(_scid=c.customer_id, segment=c[segment].cast("string"))
        g = g.left_join(c, g.customer_id == c._scid).drop("_scid")
    return g


def _activity_days(ds):
    """Per customer and calendar day with any activity (an event with her
    ``customer_id``, an ``orders`` row, her signup): ``_day`` and ``_first``
    (the day's earliest activity)."""
    parts = []
    if ds.has("events") and "customer_id" in ds.table("events").columns:
        e = ds.table("events")
        e = e.filter(e.customer_id.notnull())
        parts.append(e.select(_acid=e.customer_id, _t=e.occurred_at))
    if ds.has("orders"):
        o = ds.table("orders")
        parts.append(o.select(_acid=o.customer_id, _t=o.ordered_at))
    if ds.has("customers"):
        c = ds.table("customers")
        parts.append(c.select(_acid=c.customer_id, _t=c.signup_at))
    u = parts[0]
    for p in parts[1:]:
        u = u.union(p)
    return u.group_by(_acid=u._acid, _day=u._t.date()).aggregate(_first=u._t.min())


def _aggregate(g, by: list) -> pd.DataFrame:
    """Counts per group of :func:`facts` rows: ``sent``, ``open_base`` (sent
    on measurable channels), ``opened``, ``clicked``, ``conv_base``
    (eligible), ``converted``, ``customers`` (distinct)."""
    n = g._n
    aggs = dict(sent=n.sum(), open_base=n.sum(where=g._measurable), opened=n.sum(where=g._measurable & g._opened),
                clicked=n.sum(where=g._clicked), conv_base=n.sum(where=g._eligible),
                converted=n.sum(where=g._eligible & g._converted.fill_null(False)),
                customers=g.customer_id.nunique())
    if by:
        df = g.group_by(by).aggregate(**aggs).execute()
    else:
        df = g.aggregate(**aggs).execute()
    for c in ("sent", "open_base", "opened", "clicked", "conv_base", "converted", "customers"):
        df[c] = df[c].fillna(0).astype(float)
    return df


def with_rates(df: pd.DataFrame, ds) -> pd.DataFrame:
    """Add ``open_rate`` (opened / open_base; ``None`` when no message of the
    group is on a measurable channel), ``click_rate`` (clicked / sent;
    ``None`` without ``clicked_at``), ``click_to_open`` (clicked on
    measurable channels is approximated by all clicks of the group only when
    every message is measurable; otherwise ``None``) and
    ``conversion_rate`` (converted / conv_base; ``None`` without orders)."""
    df = df.copy()
    cols = ds.table("messages").columns
    df["open_rate"] = [compare.safe_div(o, b) if "opened_at" in cols else None
                       for o, b in zip(df["opened"], df["open_base"])]
    df["click_rate"] = [compare.safe_div(c, s) if "clicked_at" in cols else None
                        for c, s in zip(df["clicked"], df["sent"])]
    df["click_to_open"] = [compare.safe_div(c, o) if ("clicked_at" in cols and b == s and b) else None
                           for c, o, b, s in zip(df["clicked"], df["opened"], df["open_base"], df["sent"])]
    orders = ds.has("orders")
    df["conversion_rate"] = [compare.safe_div(x, n) if orders else None for x, n in zip(df["converted"], df["conv_base"])]
    return df


def _fold(df: pd.DataFrame, group: str, cfg) -> pd.DataFrame:
    """Fold groups with fewer than ``min_group_size`` messages or
    ``k_anonymity`` customers into "other"; an "other" still under
    ``k_anonymity`` customers (summed, an upper bound) is dropped."""
    if df.empty:
        return df
    k = int(cfg.definitions.k_anonymity)
    d = df.copy()
    d["_size"] = np.where(d["customers"] >= k, d["sent"], 0)
    other = i18n.t("other_group", cfg.language)
    sums = ["sent", "open_base", "opened", "clicked", "conv_base", "converted", "customers", "_size"]
    out = compare.fold_small(d, group, "_size", int(cfg.definitions.min_group_size), other=other, sum_columns=sums)
    out = out[~((out[group] == other) & (out["customers"] < k))]
    return out.drop(columns="_size").reset_index(drop=True)


# --------------------------------------------------------------------------
# The KPIs of one period, changes, trend
# --------------------------------------------------------------------------

def month_values(ds, months: list[Period]) -> pd.DataFrame:
    """Counts and rates (see :func:`with_rates`) per month of ``months``
    (messages sent in the month), index ``month``; one grouped query."""
    def q():
        lo, hi = months[0].start, months[-1].end
        g = message_facts(ds, lo, hi)
        g = g.mutate(month=month_of(g.sent_at))
        df = _aggregate(g, ["month"])
        df["month"] = pd.to_datetime(df["month"])
        idx = pd.Index([pd.Timestamp(p.start) for p in months], name="month")
        out = pd.DataFrame(index=idx).join(df.set_index("month"))
        for c in ("sent", "open_base", "opened", "clicked", "conv_base", "converted", "customers"):
            out[c] = out[c].fillna(0.0)
        return with_rates(out.reset_index(), ds).set_index("month")
    return _cached(ds, ("months", tuple(months)), q)


def period_values(ds, period: Period) -> dict:
    """The section's KPIs for one month (messages sent in the period):

    - ``messages_sent``: messages sent; count.
    - ``message_open_rate``: opened / sent on channels where opens are
      measured; 0–1 (``None`` when none is).
    - ``message_click_rate``: clicked / sent; 0–1.
    - ``message_conversion_rate``: messages followed by a successful order
      within the attribution window / messages whose window closed by the
      report's period end; 0–1.

    Also returned: the counts behind them (``sent``, ``open_base``,
    ``opened``, ``clicked``, ``conv_base``, ``converted``, ``customers``).
    """
    r = month_values(ds, [period]).iloc[0]
    v = {k: (None if pd.isna(x) else float(x)) for k, x in r.items()}
    v.update(messages_sent=v["sent"], message_open_rate=v["open_rate"], message_click_rate=v["click_rate"],
             message_conversion_rate=v["conversion_rate"])
    return v


def labels(cfg) -> dict[str, str]:
    """Display label of each KPI in the client's language."""
    A = int(cfg.definitions.attribution_window_days)
    return {k: i18n.t(f"campaigns_{k}", cfg.language, days=A) for k in KINDS}


def changes(ds, cfg) -> list[compare.Change]:
    """This period against the comparison period: messages sent — Poisson
    rate per day (:func:`compare.count`); open, click and conversion rates —
    two-proportion z-test (:func:`compare.rate`) on their own denominators.
    Empty without a messages table."""
    if not has_messages(ds):
        return []
    f = month_values(ds, [cfg.period.previous(), cfg.period])
    prev, cur = f.iloc[0], f.iloc[1]
    n_min = int(cfg.definitions.min_sample_size)
    cols = ds.table("messages").columns
    out = [compare.count("messages_sent", cur.sent, cfg.period.days, prev.sent, cfg.period.previous().days,
                         min_n=n_min, higher_is_better=None)]
    if "opened_at" in cols and (cur.open_base or prev.open_base):
        out.append(compare.rate("message_open_rate", cur.opened, cur.open_base, prev.opened, prev.open_base,
                                min_n=n_min))
    else:
        out.append(compare.value("message_open_rate", None, None))
    if "clicked_at" in cols:
        out.append(compare.rate("message_click_rate", cur.clicked, cur.sent, prev.clicked, prev.sent, min_n=n_min))
    else:
        out.append(compare.value("message_click_rate", None, None))
    if ds.has("orders"):
        out.append(compare.rate("message_conversion_rate", cur.converted, cur.conv_base, prev.converted,
                                prev.conv_base, min_n=n_min))
    else:
        out.append(compare.value("message_conversion_rate", None, None))
    return out


def monthly(ds, cfg) -> pd.DataFrame:
    """One row per month of the trend window: ``month``, the counts and the
    rates of :func:`with_rates` (messages sent in each month)."""
    f = month_values(ds, trailing_months(cfg)).reset_index()
    return month_frame(cfg).merge(f, on="month", how="left")


# --------------------------------------------------------------------------
# Breakdowns
# --------------------------------------------------------------------------

def _period_facts(ds, cfg, **kw):
    return message_facts(ds, cfg.period.start, cfg.period.end, **kw)


def _trend_start(cfg):
    return trailing_months(cfg)[0].start


def _label_missing(df: pd.DataFrame, col: str, cfg) -> pd.DataFrame:
    df = df.copy()
    df[col] = [i18n.t("campaigns_unknown", cfg.language) if pd.isna(v) else str(v) for v in df[col]]
    return df


def by_campaign(ds, cfg) -> pd.DataFrame:
    """Per campaign, messages sent in the period: counts and rates, small
    campaigns folded, largest first."""
    def q():
        df = _aggregate(_period_facts(ds, cfg), ["campaign"])
        return _fold(_label_missing(df, "campaign", cfg), "campaign", cfg)
    return with_rates(_cached(ds, "by_campaign", q), ds)


def by_channel(ds, cfg) -> pd.DataFrame:
    """Per channel, messages sent in the period: counts and rates (a channel
    without measurable opens has ``open_rate`` ``None``)."""
    def q():
        df = _aggregate(_period_facts(ds, cfg), ["channel"])
        return _fold(_label_missing(df, "channel", cfg), "channel", cfg)
    return with_rates(_cached(ds, "by_channel", q), ds)


def by_variant(ds, cfg) -> pd.DataFrame:
    """Per campaign and variant, for campaigns of the period that sent two or
    more variants: counts and rates, and for every variant after the first
    (alphabetical) ``lift`` / ``p_value`` of its open rate against the
    first variant's (:func:`journeykit.sections.campaigns.experiments.two_proportions`; click
    rate instead where opens are not measured). Variants under
    ``k_anonymity`` customers are dropped."""
    cols = ["campaign", "variant", "sent", "open_rate", "click_rate", "conversion_rate", "lift", "p_value", "metric"]
    if "variant" not in ds.table("messages").columns:
        return pd.DataFrame(columns=cols)

    def q():
        g = _period_facts(ds, cfg)
        g = g.filter(g.variant.notnull())
        return _aggregate(g, ["campaign", "variant"])
    df = with_rates(_cached(ds, "by_variant", q), ds)
    df = df[df["customers"] >= int(cfg.definitions.k_anonymity)]
    rows = []
    for camp, g in df.groupby("campaign", sort=True):
        if len(g) < 2:
            continue
        g = g.sort_values("variant")
        first = g.iloc[0]
        use_open = bool(g["open_base"].min() > 0)
        for i, (_, r) in enumerate(g.iterrows()):
            row = {c: r.get(c) for c in cols if c in r}
            row["metric"] = "open_rate" if use_open else "click_rate"
            row["lift"] = row["p_value"] = None
            if i:
                if use_open:
                    t = experiments.two_proportions(first["opened"], first["open_base"], r["opened"], r["open_base"])
                else:
                    t = experiments.two_proportions(first["clicked"], first["sent"], r["clicked"], r["sent"])
                row["lift"], row["p_value"] = t["lift"], t["p_value"]
            rows.append(row)
    return pd.DataFrame(rows, columns=cols)


def segment_column(ds) -> str | None:
    """The customers column used as segment: ``segment``, else ``plan``; ``None``."""
    if not ds.has("customers"):
        return None
    cols = ds.table("customers").columns
    return next((c for c in ("segment", "plan") if c in cols), None)


def by_segment(ds, cfg) -> pd.DataFrame | None:
    """Per customer segment (:func:`segment_column`), messages of the period:
    counts and rates, small groups folded. ``None`` without a segment."""
    col = segment_column(ds)
    if col is None:
        return None

    def q():
        df = _aggregate(_period_facts(ds, cfg, segment=col), ["segment"])
        return _fold(_label_missing(df, "segment", cfg), "segment", cfg)
    return with_rates(_cached(ds, "by_segment", q), ds)


def _trend_facts(ds, cfg, **kw):
    """:func:`facts` of the trend window. With ``recency`` it is computed
    once per dataset and kept on the engine (see
    :meth:`journeykit.data.loader.Dataset.materialize`): the hour, weekday, recency
    and fatigue breakdowns all group the same rows, and the joins that find
    each message's last activity and prior messages are the costliest
    queries of the section."""
    start = _trend_start(cfg)
    if not kw.get("recency"):
        return message_facts(ds, start, cfg.period.end, **kw)
    return _cached(ds, ("trend_facts", start, cfg.period.end),
                   lambda: ds.materialize(message_facts(ds, start, cfg.period.end, recency=True, fatigue=True)))


def _standardized(df: pd.DataFrame, strata: list[str], group: str) -> pd.DataFrame:
    """Per ``group``: the counts summed, plus ``expected_opens`` = Σ over
    strata of the group's measurable messages × the stratum's open rate,
    and ``relative_open_rate`` = opened / expected_opens (1 = as often as
    comparable messages; indirect standardization)."""
    d = df[df["open_base"] > 0]
    st = d.groupby(strata, dropna=False)[["opened", "open_base"]].sum()
    st["_r"] = st["opened"] / st["open_base"]
    d = d.merge(st["_r"].reset_index(), on=strata, how="left")
    d["expected_opens"] = d["_r"] * d["open_base"]
    sums = ["sent", "open_base", "opened", "clicked", "conv_base", "converted", "customers"]
    out = df.groupby(group, dropna=False)[sums].sum()
    out["expected_opens"] = d.groupby(group, dropna=False)["expected_opens"].sum()
    out = out.reset_index()
    out["expected_opens"] = out["expected_opens"].fillna(0.0)
    out["relative_open_rate"] = [compare.safe_div(o, e) for o, e in zip(out["opened"], out["expected_opens"])]
    return out


def by_hour(ds, cfg) -> pd.DataFrame:
    """Per send hour (0–23), messages of the trend window: counts, rates and
    ``relative_open_rate`` (opens against messages of the same channel to
    customers of the same days-since-last-activity bucket: hours are
    otherwise confounded with who gets messaged when). Hours under
    ``min_group_size`` messages or ``k_anonymity`` customers (summed over
    strata, an upper bound) dropped."""
    def q():
        return _aggregate(_trend_facts(ds, cfg, recency=True), ["hour", "channel", "recency"])
    df = _standardized(_cached(ds, "by_hour", q), ["channel", "recency"], "hour").sort_values("hour")
    return _small_dropped(with_rates(df.reset_index(drop=True), ds), cfg)


def by_weekday(ds, cfg) -> pd.DataFrame:
    """Per weekday of sending (``weekday`` 0 = Monday, ``day`` label),
    messages of the trend window: counts, rates and ``relative_open_rate``
    (as in :func:`by_hour`); small groups dropped."""
    def q():
        return _aggregate(_trend_facts(ds, cfg, recency=True), ["weekday", "channel", "recency"])
    df = _standardized(_cached(ds, "by_weekday", q), ["channel", "recency"], "weekday").sort_values("weekday")
    df = _small_dropped(with_rates(df.reset_index(drop=True), ds), cfg)
    df["day"] = [i18n.t(f"campaigns_{WEEKDAYS[int(w)]}", cfg.language) for w in df["weekday"]]
    return df


def _small_dropped(df: pd.DataFrame, cfg) -> pd.DataFrame:
    keep = (df["sent"] >= int(cfg.definitions.min_group_size)) & (df["customers"] >= int(cfg.definitions.k_anonymity))
    return df[keep].reset_index(drop=True)


def by_fatigue(ds, cfg) -> pd.DataFrame:
    """Response by messages the customer received in the 30 days before
    (``bucket`` of :data:`FATIGUE_BUCKETS`), messages of the trend window:
    counts, rates (opens over measurable channels only) and
    ``relative_open_rate``: opens against messages of the same campaign to
    customers of the same days-since-last-activity bucket, so that a
    frequently messaged group is not compared with another campaign or with
    lapsed customers. Buckets under ``min_group_size`` messages dropped."""
    def q():
        return _aggregate(_trend_facts(ds, cfg, recency=True, fatigue=True), ["campaign", "recency", "prior"])
    df = _cached(ds, "by_fatigue", q)
    df["bucket"] = None
    for lo, hi, key in FATIGUE_BUCKETS:
        df.loc[(df["prior"] >= lo) & (df["prior"] < hi), "bucket"] = key
    out = _standardized(df, ["campaign", "recency"], "bucket")
    order = {key: i for i, (_, _, key) in enumerate(FATIGUE_BUCKETS)}
    out = out.sort_values("bucket", key=lambda s: s.map(order)).reset_index(drop=True)
    return _min_sent(with_rates(out, ds), cfg)


def by_recency(ds, cfg) -> pd.DataFrame:
    """Response by days since the customer's last activity (``key`` of
    :data:`RECENCY_BUCKETS` or ``none_activity``, ``bucket`` label),
    messages of the trend window; ``relative_open_rate`` against messages
    of the same campaign."""
    def q():
        return _aggregate(_trend_facts(ds, cfg, recency=True), ["campaign", "recency"])
    out = _standardized(_cached(ds, "by_recency", q), ["campaign"], "recency")
    order = {key: i for i, (_, _, key) in enumerate(RECENCY_BUCKETS)} | {"none_activity": len(RECENCY_BUCKETS)}
    out = out.sort_values("recency", key=lambda s: s.map(order)).reset_index(drop=True)
    out["key"] = out["recency"]
    out["bucket"] = [i18n.t(f"campaigns_{k}", cfg.language) for k in out["key"]]
    return _min_sent(with_rates(out, ds), cfg)


def _min_sent(df: pd.DataFrame, cfg) -> pd.DataFrame:
    """Buckets of many customers' messages; empty buckets and buckets under
    ``min_group_size`` messages are dropped (too noisy to show)."""
    return df[df["sent"] >= max(1, int(cfg.definitions.min_group_size))].reset_index(drop=True)


# --------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------

def campaign_metrics(ds, cfg) -> list[dict] | None:
    """The stable ``campaigns`` key: per campaign of the period (folded as in
    :func:`by_campaign`) ``{campaign, sent, open_rate, click_rate,
    conversion_rate}``; ``None`` without a messages table."""
    if not has_messages(ds):
        return None
    df = by_campaign(ds, cfg)
    return [{k: report.jsonable(r[k]) for k in CAMPAIGN_FIELDS} for _, r in df.iterrows()]


def metrics(ds, cfg) -> dict:
    """Every ``metrics.json`` key of the section: the stable lists
    ``campaigns`` and ``experiments`` (``None`` when their table is
    missing), and the scalar :data:`KPI_KEYS` with ``_prev`` (``None``
    without messages)."""
    out: dict = {"campaigns": campaign_metrics(ds, cfg), "experiments": experiments.metrics(ds, cfg)}
    ch = {c.key: c for c in changes(ds, cfg)}
    for k in KPI_KEYS:
        c = ch.get(k)
        out[k] = c.value if c else None
        out[f"{k}_prev"] = c.prev if c else None
    return out


# --------------------------------------------------------------------------
# Generated text
# --------------------------------------------------------------------------

def _fatigue_contrast(ds, cfg):
    """(the "0" bucket, the highest bucket with 3 × ``min_sample_size``
    measurable messages, the ratio of their relative open rates), or ``None``."""
    if open_channels(ds) is None:
        return None
    df = by_fatigue(ds, cfg)
    n_min = 3 * int(cfg.definitions.min_sample_size)
    ok = df[(df["open_base"] >= n_min) & df["relative_open_rate"].notna()]
    if len(ok) < 2 or ok.iloc[0]["bucket"] != "0" or not ok.iloc[0]["relative_open_rate"]:
        return None
    return ok.iloc[0], ok.iloc[-1], ok.iloc[-1]["relative_open_rate"] / ok.iloc[0]["relative_open_rate"]


def _recency_contrast(ds, cfg):
    if open_channels(ds) is None:
        return None
    df = by_recency(ds, cfg).set_index("key")
    n_min = int(cfg.definitions.min_sample_size)
    if not {"d0_7", "d91_plus"} <= set(df.index):
        return None
    a, b = df.loc["d0_7"], df.loc["d91_plus"]
    if min(a["open_base"], b["open_base"]) < n_min or pd.isna(a["open_rate"]) or pd.isna(b["open_rate"]):
        return None
    return a, b


def _hour_contrast(ds, cfg):
    """(best, worst) send hour by relative open rate among the hours with at
    least ``min_sample_size`` and 5% of the window's measurable messages
    (main send slots, not a handful of one-off sends), or ``None``."""
    if open_channels(ds) is None:
        return None
    df = by_hour(ds, cfg)
    n_min = max(int(cfg.definitions.min_sample_size), 0.05 * df["open_base"].sum())
    ok = df[(df["open_base"] >= n_min) & df["relative_open_rate"].notna()].sort_values(["relative_open_rate", "hour"])
    if len(ok) < 2:
        return None
    return ok.iloc[-1], ok.iloc[0]


def insights(ds, cfg) -> list[str]:
    """Sentences about this period's messages, in the client's language:
    volume; the campaign with the best conversion (with ``min_sample_size``
    messages whose window closed); each campaign's variant test; the fatigue
    contrast (no message in the previous 30 days against the highest bucket
    with ``min_sample_size`` messages); recency (active in the last week
    against inactive for over 90 days); the best and worst send hour; and
    notes on channels without opens and on unsubscribes."""
    lang = cfg.language
    per = cfg.period.label(lang)
    if not has_messages(ds):
        return [i18n.t("campaigns_not_available", lang)]
    v = period_values(ds, cfg.period)
    n_min = int(cfg.definitions.min_sample_size)
    A = _window_days(ds)
    out: list[str] = []
    if not v["sent"]:
        out.append(i18n.t("campaigns_no_messages", lang, period=per))
    else:
        camps = by_campaign(ds, cfg)
        named = camps[camps["campaign"] != i18n.t("other_group", lang)]
        out.append(i18n.t("campaigns_sentence_volume", lang, sent=report.fmt_int(v["sent"]),
                          customers=report.fmt_int(v["customers"]), campaigns=report.fmt_int(len(named)), period=per))
        ok = named[(named["conv_base"] >= n_min) & named["conversion_rate"].notna()]
        if len(ok):
            top = ok.sort_values(["conversion_rate", "campaign"], ascending=[False, True]).iloc[0]
            out.append(i18n.t("campaigns_sentence_top", lang, campaign=top["campaign"],
                              rate=report.fmt_pct(top["conversion_rate"]), days=A, n=report.fmt_int(top["conv_base"])))
        var = by_variant(ds, cfg)
        for camp, g in var.groupby("campaign", sort=True):
            a = g.iloc[0]
            for _, b in g.iloc[1:].iterrows():
                metric = b["metric"]
                sig = b["p_value"] is not None and not pd.isna(b["p_value"]) and b["p_value"] < compare.ALPHA
                if metric != "open_rate":
                    continue
                out.append(i18n.t("campaigns_sentence_variant", lang, campaign=camp, a=a["variant"], b=b["variant"],
                                  rate_a=report.fmt_pct(a["open_rate"]), rate_b=report.fmt_pct(b["open_rate"]),
                                  lift=experiments._pp(b["lift"], lang), p=experiments._p(b["p_value"]),
                                  sig=i18n.t("campaigns_sig_suffix", lang) if sig else ""))
    fc = _fatigue_contrast(ds, cfg)
    if fc is not None:
        out.append(i18n.t("campaigns_sentence_fatigue", lang, rate0=report.fmt_pct(fc[0]["open_rate"]),
                          label=fc[1]["bucket"], rate_hi=report.fmt_pct(fc[1]["open_rate"]),
                          ratio=report.fmt_pct(fc[2], 0)))
    rc = _recency_contrast(ds, cfg)
    if rc is not None:
        out.append(i18n.t("campaigns_sentence_recency", lang, rate_recent=report.fmt_pct(rc[0]["open_rate"]),
                          rate_old=report.fmt_pct(rc[1]["open_rate"])))
    hc = _hour_contrast(ds, cfg)
    if hc is not None:
        out.append(i18n.t("campaigns_sentence_hour", lang, best=int(hc[0]["hour"]), worst=int(hc[1]["hour"]),
                          rel_best=report.fmt_pct(hc[0]["relative_open_rate"], 0),
                          rel_worst=report.fmt_pct(hc[1]["relative_open_rate"], 0)))
    missing = channels_without_opens(ds, cfg)
    if open_channels(ds) is None:
        out.append(i18n.t("campaigns_no_open_column", lang))
    elif missing:
        out.append(i18n.t("campaigns_no_opens", lang, channels=", ".join(missing)))
    if not ds.has("orders"):
        out.append(i18n.t("campaigns_no_orders", lang))
    out.append(i18n.t("campaigns_no_unsubscribes", lang))
    return out


def conversion_rule(ds, cfg) -> str:
    """The sentence stating the conversion window and which messages count."""
    A = _window_days(ds)
    last = pd.Timestamp(cfg.period.end) - pd.Timedelta(days=A)
    return i18n.t("campaigns_conversion_rule", cfg.language, days=A, last=report.fmt_date(last),
                  period=cfg.period.label(cfg.language))


def next_steps(ds, cfg) -> list[str]:
    """"What to look at next", most urgent first; each rule fires on its own:

    1. experiments: a sample-ratio mismatch, a significant winner or loser,
       a test that needs more users (:func:`journeykit.sections.campaigns.experiments.next_steps`);
    2. fatigue: customers in the highest bucket (with ``min_sample_size``
       messages) open at most 80% as often as those with no message in
       the previous 30 days (relative open rates, see :func:`by_fatigue`);
    3. lapsed customers (inactive over 90 days) open at most half as often
       as those active in the last week;
    4. a campaign variant opened significantly more than the first variant;
    5. the best send hour's relative open rate beats the worst's by at
       least a quarter (hours with ``min_sample_size`` measurable messages).

    When none fires, one sentence says nothing stands out.
    """
    lang = cfg.language
    out: list[str] = []
    if ds.has("experiments"):
        out += experiments.next_steps(ds, cfg)
    if has_messages(ds):
        fc = _fatigue_contrast(ds, cfg)
        if fc is not None and fc[2] <= 0.8:
            out.append(i18n.t("campaigns_next_fatigue", lang, label=fc[1]["bucket"], ratio=report.fmt_pct(fc[2], 0)))
        rc = _recency_contrast(ds, cfg)
        if rc is not None and rc[0]["open_rate"] and rc[1]["open_rate"] <= 0.5 * rc[0]["open_rate"]:
            out.append(i18n.t("campaigns_next_lapsed", lang,
                              ratio=report.fmt_pct(rc[1]["open_rate"] / rc[0]["open_rate"], 0)))
        var = by_variant(ds, cfg)
        for camp, g in var.groupby("campaign", sort=True):
            for _, b in g.iloc[1:].iterrows():
                if b["p_value"] is not None and not pd.isna(b["p_value"]) and b["p_value"] < compare.ALPHA \
                        and b["lift"] > 0:
                    out.append(i18n.t("campaigns_next_variant", lang, campaign=camp, a=g.iloc[0]["variant"],
                                      b=b["variant"], lift=experiments._pp(b["lift"], lang)))
        hc = _hour_contrast(ds, cfg)
        if hc is not None and hc[1]["relative_open_rate"] and hc[0]["relative_open_rate"] >= 1.25 * hc[1]["relative_open_rate"]:
            out.append(i18n.t("campaigns_next_hour", lang, best=int(hc[0]["hour"]),
                              rate=report.fmt_pct(hc[0]["relative_open_rate"], 0), n=len(trailing_months(cfg))))
    if not out:
        out.append(i18n.t("campaigns_next_nothing", lang))
    return out


# --------------------------------------------------------------------------
# Views for the notebook
# --------------------------------------------------------------------------

def kpi_view(ds, cfg, chs=None):
    """The period-over-period KPI table, or a note without messages."""
    if not has_messages(ds):
        return report.Note(i18n.t("campaigns_not_available", cfg.language))
    chs = chs if chs is not None else changes(ds, cfg)
    return report.kpi_table(chs, labels(cfg), KINDS, cfg)


def changes_view(ds, cfg, chs=None):
    """The generated sentences about what changed since the comparison period."""
    if not has_messages(ds):
        return report.Note(i18n.t("campaigns_not_available", cfg.language))
    chs = chs if chs is not None else changes(ds, cfg)
    return report.Narrative(report.describe_changes(chs, labels(cfg), KINDS, cfg)
                            + [conversion_rule(ds, cfg)])


def insights_view(ds, cfg):
    """:func:`insights` as a paragraph list."""
    return report.Narrative(insights(ds, cfg))


def next_steps_view(ds, cfg):
    """:func:`next_steps` as a paragraph list."""
    return report.Narrative(next_steps(ds, cfg))


def trend_chart(ds, cfg):
    """Small multiples of messages sent and the response rates over the
    trend window (rates never measured are left out), or a note."""
    if not has_messages(ds):
        return report.Note(i18n.t("campaigns_not_available", cfg.language))
    df = monthly(ds, cfg)
    lab = labels(cfg)
    src = {"messages_sent": "sent", "message_open_rate": "open_rate", "message_click_rate": "click_rate",
           "message_conversion_rate": "conversion_rate"}
    df = df.assign(**{k: df[v] for k, v in src.items()})
    panels = [(k, lab[k], KINDS[k]) for k in KPI_KEYS if df[k].notna().any()]
    return plots.trends(df, panels, ncols=4, title=i18n.t("campaigns_chart_trend", cfg.language, n=len(df)))


_REL = {"relative_open_rate": ("campaigns_col_relative", "pct")}
_RATE_COLS = {"sent": ("campaigns_col_sent", "int"), "open_rate": ("campaigns_col_open_rate", "pct"),
              "click_rate": ("campaigns_col_click_rate", "pct"),
              "conversion_rate": ("campaigns_col_conversion_rate", "pct")}


def _view(df: pd.DataFrame, cfg, first: tuple[str, str], extra: dict | None = None):
    """A breakdown table: the group column then sent, open, click and
    conversion rate; an open rate that is not measurable reads "not measured"."""
    lang = cfg.language
    cols = {first[0]: (first[1], "text"), **_RATE_COLS, **(extra or {})}
    out = pd.DataFrame({c: df[c] for c in cols})
    nm = i18n.t("campaigns_not_measured", lang)
    if "open_rate" in out:
        out["open_rate"] = [nm if pd.isna(r) or r is None else report.fmt_pct(r) for r in out["open_rate"]]
        cols["open_rate"] = (cols["open_rate"][0], "numtext")
    lab = {c: i18n.t(key, lang, column="") for c, (key, _) in cols.items()}
    return report.table(out.rename(columns=lab), cfg, {lab[c]: kind for c, (_, kind) in cols.items()})


def campaign_view(ds, cfg):
    """Sent → opened → clicked → converted per campaign of the period, or a note."""
    lang = cfg.language
    if not has_messages(ds):
        return report.Note(i18n.t("campaigns_not_available", lang))
    df = by_campaign(ds, cfg)
    if df.empty:
        return report.Note(i18n.t("campaigns_no_messages", lang, period=cfg.period.label(lang)))
    return _view(df, cfg, ("campaign", "campaigns_col_campaign"))


def channel_view(ds, cfg):
    """Response per channel of the period, or a note."""
    lang = cfg.language
    if not has_messages(ds):
        return report.Note(i18n.t("campaigns_not_available", lang))
    df = by_channel(ds, cfg)
    if df.empty:
        return report.Note(i18n.t("campaigns_no_messages", lang, period=cfg.period.label(lang)))
    return _view(df, cfg, ("channel", "campaigns_col_channel"))


def variant_view(ds, cfg):
    """Response per campaign variant with the open-rate test, or a note."""
    lang = cfg.language
    if not has_messages(ds):
        return report.Note(i18n.t("campaigns_not_available", lang))
    df = by_variant(ds, cfg)
    if df.empty:
        return report.Note(i18n.t("campaigns_no_variants", lang, period=cfg.period.label(lang)))
    df = df.assign(test=[f"{experiments._pp(l, lang)} ({experiments._p(p).replace('= ', '')})"
                         if l is not None and not pd.isna(l) else "–" for l, p in zip(df["lift"], df["p_value"])])
    df = df.assign(campaign=[f"{c} · {v}" for c, v in zip(df["campaign"], df["variant"])])
    return _view(df, cfg, ("campaign", "campaigns_col_variant"), {"test": ("campaigns_col_p", "numtext")})


def segment_view(ds, cfg):
    """Response per customer segment of the period, or a note."""
    lang = cfg.language
    if not has_messages(ds):
        return report.Note(i18n.t("campaigns_not_available", lang))
    df = by_segment(ds, cfg)
    if df is None:
        return report.Note(i18n.t("campaigns_no_segment", lang))
    if df.empty:
        return report.Note(i18n.t("campaigns_no_messages", lang, period=cfg.period.label(lang)))
    head = i18n.t("campaigns_col_segment", lang, column=segment_column(ds))
    out = _view(df, cfg, ("segment", "campaigns_col_campaign"))
    out.df = out.df.rename(columns={out.df.columns[0]: head})
    return out


def timing_view(ds, cfg):
    """Response per weekday of sending over the trend window (a table), or a note."""
    lang = cfg.language
    if not has_messages(ds):
        return report.Note(i18n.t("campaigns_not_available", lang))
    return _view(by_weekday(ds, cfg), cfg, ("day", "campaigns_col_weekday"), _REL)


def fatigue_view(ds, cfg):
    """Response by messages received in the previous 30 days (a table), or a note."""
    lang = cfg.language
    if not has_messages(ds):
        return report.Note(i18n.t("campaigns_not_available", lang))
    return _view(by_fatigue(ds, cfg), cfg, ("bucket", "campaigns_col_fatigue"), _REL)


def recency_view(ds, cfg):
    """Response by days since the customer's last activity (a table), or a note."""
    lang = cfg.language
    if not has_messages(ds):
        return report.Note(i18n.t("campaigns_not_available", lang))
    return _view(by_recency(ds, cfg), cfg, ("bucket", "campaigns_col_recency"), _REL)


def _open_bars(df: pd.DataFrame, category: str, title: str, xlabel: str, cfg):
    """Bars of the relative open rate (see :func:`by_fatigue`) per category."""
    d = df.dropna(subset=["relative_open_rate"])
    if d.empty:
        return report.Note(i18n.t("campaigns_no_open_column", cfg.language))
    fig = plots.bars(d.assign(**{category: d[category].astype(str)}), category, "relative_open_rate", title,
                     kind="pct", horizontal=False)
    ax = fig.axes[0]
    ax.axhline(1.0, color="#8c8c8c", linewidth=1, linestyle="--")
    if len(d) > 10:
        fig.set_size_inches(9, 3.6)
        for t in ax.texts:
            t.set_fontsize(6)
    ax.set_ylabel(i18n.t("campaigns_axis_open_rate", cfg.language))
    ax.set_xlabel(xlabel)
    return fig


def hour_chart(ds, cfg):
    """Open rate by send hour over the trend window (bars), or a note."""
    lang = cfg.language
    if not has_messages(ds):
        return report.Note(i18n.t("campaigns_not_available", lang))
    df = by_hour(ds, cfg).assign(label=lambda d: [str(int(h)) for h in d["hour"]])
    n = len(trailing_months(cfg))
    return _open_bars(df, "label", i18n.t("campaigns_chart_hour", lang, n=n), i18n.t("campaigns_col_hour", lang), cfg)


def fatigue_chart(ds, cfg):
    """Open rate by messages received in the previous 30 days (bars), or a note."""
    lang = cfg.language
    if not has_messages(ds):
        return report.Note(i18n.t("campaigns_not_available", lang))
    n = len(trailing_months(cfg))
    return _open_bars(by_fatigue(ds, cfg), "bucket", i18n.t("campaigns_chart_fatigue", lang, n=n),
                      i18n.t("campaigns_col_fatigue", lang), cfg)


def recency_chart(ds, cfg):
    """Open rate by days since the customer's last activity (bars), or a note."""
    lang = cfg.language
    if not has_messages(ds):
        return report.Note(i18n.t("campaigns_not_available", lang))
    n = len(trailing_months(cfg))
    return _open_bars(by_recency(ds, cfg), "bucket", i18n.t("campaigns_chart_recency", lang, n=n),
                      i18n.t("campaigns_col_recency", lang), cfg)


__all__ = ["SECTION", "STABLE_KEYS", "KPI_KEYS", "CAMPAIGN_FIELDS", "KINDS", "open_channels", "message_facts",
           "period_values", "changes", "monthly", "by_campaign", "by_channel", "by_variant", "by_segment", "by_hour",
           "by_weekday", "by_fatigue", "by_recency", "campaign_metrics", "metrics", "insights", "next_steps",
           "conversion_rule", "segment_column"]
