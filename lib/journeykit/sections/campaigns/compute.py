"""CRM message response: which messages worked, when, and for whom (the
numbers; :mod:`.view` words and draws them, :mod:`.experiments` reads the
A/B tests).

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
- **Converted**: a message followed by an order of the same customer
  (:func:`journeykit.facts.paid_orders`: a successful payment) within
  ``definitions.attribution_window_days`` (``A``) after ``sent_at``:
  ``sent_at <= ordered_at < sent_at + A days``. **Conversion rate** =
  converted / messages whose window had closed by the period end
  (``sent_at + A days <= period end``), so messages of the last ``A`` days
  are left out of the conversion (not counted as failures) and nothing
  after the period end is used. Every message with an order in its window
  counts (a response rate, not an attribution that splits an order between
  messages). ``None`` without an ``orders`` table; order amounts are not
  needed.
- **Timing**: send hour (0–23) and weekday of ``sent_at``.
- **Days since last activity**: calendar days from the customer's last
  active day before the message (:func:`journeykit.facts.activity_days`:
  an event with her ``customer_id`` or an ``orders`` row, with a moment
  before ``sent_at``; or her signup) to the send day, in buckets
  :data:`RECENCY_BUCKETS`.
- **Fatigue**: messages the same customer received in the 30 days before
  ``sent_at`` (``[sent_at − 30 d, sent_at)``), in buckets
  :data:`FATIGUE_BUCKETS`.
- **Unsubscribes** are not part of the data contract (no column for them):
  not available.

Timing, recency and fatigue pool the trend window (the last
``definitions.trend_periods`` months, from the first month with messages)
so each bucket has enough messages; campaign, channel, variant and segment
tables are for the period. Groups with fewer than ``min_group_size``
messages or ``k_anonymity`` customers are folded into one row (``folded``
True, named :data:`OTHER`); a group whose value is not recorded (no
channel, no segment) is ``None``.
"""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from journeykit import facts
from journeykit.core.periods import Period
from journeykit.data.query import in_window, month_frame, month_of, trailing_months, ts
from journeykit.report.results import jsonable
from journeykit.sections import registry
from journeykit.stats import compare
from journeykit.stats import experiments as abstats
from journeykit.sections.campaigns import experiments

STABLE_KEYS = registry.get("55_campaigns").stable_keys
"""The section's stable ``metrics.json`` keys (lists; ``None`` when the table is missing)."""
KPI_KEYS = ("messages_sent", "message_open_rate", "message_click_rate", "message_conversion_rate")
"""Scalar KPIs of the section, each also with ``_prev``."""
CAMPAIGN_FIELDS = ("campaign", "sent", "open_rate", "click_rate", "conversion_rate")
"""Fields of each entry of the stable ``campaigns`` metrics key."""
OTHER = "other"
"""The name of the folded group of small campaigns, channels or segments
(language-independent; the view shows the client's word for it)."""
FATIGUE_DAYS = 30
FATIGUE_BUCKETS = ((0, 1, "0"), (1, 2, "1"), (2, 3, "2"), (3, 5, "3–4"), (5, 10 ** 9, "5+"))
"""Messages received in the previous 30 days: ``[low, high)`` and a label."""
RECENCY_BUCKETS = ((0, 8, "d0_7"), (8, 31, "d8_30"), (31, 91, "d31_90"), (91, 10 ** 9, "d91_plus"))
"""Days since the customer's last activity: ``[low, high)`` and a key."""
RECENCY_NONE = "none_activity"
"""The recency key of a message to a customer with no earlier activity."""
COUNTS = ("sent", "open_base", "opened", "clicked", "conv_base", "converted", "customers")
"""The counts behind every rate (see :func:`with_rates`)."""


def _memo(ds, cfg, key, fn):
    return ds.memo(("campaigns", key), fn, cfg)


# --------------------------------------------------------------------------
# What the data can measure
# --------------------------------------------------------------------------

def has_messages(ds) -> bool:
    """Whether the client supplied messages."""
    return ds.has("messages")


def _columns(ds) -> list[str]:
    return list(ds.table("messages").columns) if has_messages(ds) else []


def segment_column(ds) -> str | None:
    """The customers column used as segment: ``segment``, else ``plan``; ``None``."""
    if not ds.has("customers"):
        return None
    cols = ds.table("customers").columns
    return next((c for c in ("segment", "plan") if c in cols), None)


def measurable(ds) -> dict[str, bool]:
    """Which analyses the client's data supports (all ``False`` without
    messages): ``opens`` (an ``opened_at`` column), ``clicks`` (a
    ``clicked_at`` column), ``conversion`` (an ``orders`` table),
    ``channel``, ``variant`` (those columns), ``segment`` (a customers
    ``segment`` or ``plan`` column)."""
    cols = _columns(ds)
    on = bool(cols)
    return {"opens": "opened_at" in cols, "clicks": "clicked_at" in cols, "conversion": on and ds.has("orders"),
            "channel": "channel" in cols, "variant": "variant" in cols,
            "segment": on and segment_column(ds) is not None}


def window_days(cfg) -> int:
    """The attribution window ``A`` of a message's conversion, in days."""
    return int(cfg.definitions.attribution_window_days)


def _channel_expr(t):
    if "channel" not in t.columns:
        return ibis.null("string")
    c = t.channel.cast("string").strip()
    return ibis.ifelse(c == "", ibis.null("string"), c)


def open_channels(ds, cfg) -> list | None:
    """Channels on which opens are measured (at least one ``opened_at`` up to
    the period end); ``None`` when the export has no ``opened_at`` column.
    A missing channel is ``None`` in the list."""
    if "opened_at" not in _columns(ds):
        return None

    def q():
        t = ds.table("messages")
        f = t.filter(t.opened_at.notnull())
        return f.select(ch=_channel_expr(f)).distinct().execute()["ch"].tolist()
    return [None if pd.isna(c) else c for c in _memo(ds, cfg, "open_channels", q)]


def channels_without_opens(ds, cfg) -> list[str]:
    """Channels of messages sent in the period on which opens are not
    measured (empty without an ``opened_at`` column or a ``channel``)."""
    oc = open_channels(ds, cfg)
    if oc is None or "channel" not in _columns(ds):
        return []
    t = in_window(ds.table("messages"), "sent_at", cfg.period.start, cfg.period.end)
    chans = t.select(ch=_channel_expr(t)).distinct().execute()["ch"].tolist()
    return sorted(str(c) for c in chans if not pd.isna(c) and c not in oc)


# --------------------------------------------------------------------------
# Messages on the engine
# --------------------------------------------------------------------------

def _activity_starts(ds):
    """Per customer and active day (:func:`journeykit.facts.activity_days`)
    and per signup: ``_acid``, ``_day`` (midnight) and ``_first`` (the
    day's earliest moment); ``None`` with neither."""
    parts = []
    a = facts.activity_days(ds)
    if a is not None:
        parts.append(a.select(_acid=a.customer_id.cast("string"), _day=a.day.cast("timestamp"),
                              _first=a["first"].cast("timestamp")))
    if ds.has("customers"):
        c = ds.table("customers")
        parts.append(c.select(_acid=c.customer_id.cast("string"), _day=c.signup_at.truncate("D").cast("timestamp"),
                              _first=c.signup_at.cast("timestamp")))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=False)


def _asof(ds) -> bool:
    """Whether the dataset's engine runs ``ASOF`` joins (DuckDB): a message's
    latest contact before it is then found as the nearest row, not by
    joining every earlier active day and grouping them again (on the large
    demo data, 4 M messages: 9.6 s as a range join, 7.1 s as an ``ASOF``
    join, two threads, the rest of the messages' facts included). Other
    engines (Spark, a client's database) keep the range join; both give
    the same rows (tested)."""
    return getattr(ds.con, "name", None) == "duckdb"


def message_facts(ds, cfg, start, end, recency: bool = False, fatigue: bool = False, segment: str | None = None):
    """Messages sent in ``[start, end)`` as an Ibis table, one row per
    distinct message row with ``_n`` (its multiplicity) and flags:
    ``channel``, ``campaign``, ``variant``, ``hour``, ``weekday`` (0 =
    Monday), ``_measurable`` (opens measured on its channel), ``_opened``,
    ``_clicked``, ``_eligible`` (attribution window closed by the period
    end), ``_converted`` (null without orders); with ``recency``
    ``days_since`` (days since the last active day, null without one) and
    ``recency`` (its bucket key); with ``fatigue`` ``prior`` (messages in
    the 30 days before); with ``segment`` that customers column as
    ``segment``."""
    A = window_days(cfg)
    m = in_window(ds.table("messages"), "sent_at", start, end)
    cols = m.columns
    oc = open_channels(ds, cfg)
    ch = _channel_expr(m)
    if oc is None:
        measurable_ = ibis.literal(False)
    else:
        named = [c for c in oc if c is not None]
        measurable_ = (ch.isin(named) if named else ibis.literal(False)).fill_null(False)
        if None in oc:
            measurable_ = measurable_ | ch.isnull()
    if "variant" in cols:
        variant = m.variant.cast("string").strip()
        variant = ibis.ifelse(variant == "", ibis.null("string"), variant)
    else:
        variant = ibis.null("string")  # (a null literal cannot be compared with "")
    m = m.select(
        customer_id=m.customer_id.cast("string"), campaign=m.campaign.cast("string"), channel=ch,
        variant=variant, sent_at=m.sent_at,
        _measurable=measurable_,
        _opened=(m.opened_at.notnull() if "opened_at" in cols else ibis.literal(False)),
        _clicked=(m.clicked_at.notnull() if "clicked_at" in cols else ibis.literal(False)),
    )
    g = m.group_by(list(m.columns)).aggregate(_n=m.count())
    g = g.mutate(_eligible=(g.sent_at + ibis.interval(days=A)) <= ts(cfg.period.end),
                 hour=g.sent_at.hour(), weekday=g.sent_at.day_of_week.index())
    keys = list(g.columns)
    if ds.has("orders"):
        p = facts.paid_orders(ds)
        p = p.select(_ocid=p.customer_id.cast("string"), _ot=p.ordered_at)
        j = g.left_join(p, [g.customer_id == p._ocid, p._ot >= g.sent_at, p._ot < g.sent_at + ibis.interval(days=A)])
        g = j.group_by(keys).aggregate(_converted=j._ot.notnull().any())
    else:
        g = g.mutate(_converted=ibis.null("boolean"))
    keys = list(g.columns)
    if recency:
        act = _activity_starts(ds)
        if act is None:
            g = g.mutate(days_since=ibis.null("int64"))
        else:
            if _asof(ds):
                # the latest contact before the message: its day is the latest day (a day's first
                # moment orders the days); one row per message instead of one per earlier active day
                j = g.asof_join(act, on=g.sent_at > act._first, predicates=[g.customer_id == act._acid])
                g = j.select(*keys, _last=j._day)
            else:
                j = g.left_join(act, [g.customer_id == act._acid, act._first < g.sent_at])
                g = j.group_by(keys).aggregate(_last=j._day.max())
            g = g.mutate(days_since=g.sent_at.date().delta(g._last.date(), unit="day")).drop("_last")
        g = g.mutate(recency=ibis.cases(*[((g.days_since >= lo) & (g.days_since < hi), key)
                                          for lo, hi, key in RECENCY_BUCKETS], else_=RECENCY_NONE))
        keys = list(g.columns)
    if fatigue:
        allm = ds.table("messages")
        allm = allm.group_by(_pcid=allm.customer_id.cast("string"), _pt=allm.sent_at).aggregate(_pn=allm.count())
        j = g.left_join(allm, [g.customer_id == allm._pcid, allm._pt < g.sent_at,
                               allm._pt >= g.sent_at - ibis.interval(days=FATIGUE_DAYS)])
        g = j.group_by(keys).aggregate(prior=j._pn.sum().fill_null(0))
    if segment:
        c = ds.table("customers")
        c = c.select(_scid=c.customer_id.cast("string"), segment=c[segment].cast("string"))
        g = g.left_join(c, g.customer_id == c._scid).drop("_scid")
    return g


def _aggregate(g, by: list) -> pd.DataFrame:
    """Counts per group of :func:`message_facts` rows: ``sent``,
    ``open_base`` (sent on measurable channels), ``opened``, ``clicked``,
    ``conv_base`` (eligible), ``converted``, ``customers`` (distinct)."""
    n = g._n
    aggs = dict(sent=n.sum(), open_base=n.sum(where=g._measurable), opened=n.sum(where=g._measurable & g._opened),
                clicked=n.sum(where=g._clicked), conv_base=n.sum(where=g._eligible),
                converted=n.sum(where=g._eligible & g._converted.fill_null(False)),
                customers=g.customer_id.nunique())
    df = (g.group_by(by).aggregate(**aggs) if by else g.aggregate(**aggs)).execute()
    for c in COUNTS:
        df[c] = df[c].fillna(0).astype(float)
    return df


def with_rates(df: pd.DataFrame, ds) -> pd.DataFrame:
    """Add ``open_rate`` (opened / open_base; ``None`` when no message of the
    group is on a measurable channel), ``click_rate`` (clicked / sent;
    ``None`` without ``clicked_at``), ``click_to_open`` (clicked / opened,
    only when every message of the group is on a measurable channel;
    otherwise ``None``) and ``conversion_rate`` (converted / conv_base;
    ``None`` without orders)."""
    df = df.copy()
    ok = measurable(ds)
    df["open_rate"] = [compare.safe_div(o, b) if ok["opens"] else None
                       for o, b in zip(df["opened"], df["open_base"])]
    df["click_rate"] = [compare.safe_div(c, s) if ok["clicks"] else None for c, s in zip(df["clicked"], df["sent"])]
    df["click_to_open"] = [compare.safe_div(c, o) if (ok["clicks"] and b == s and b) else None
                           for c, o, b, s in zip(df["clicked"], df["opened"], df["open_base"], df["sent"])]
    df["conversion_rate"] = [compare.safe_div(x, n) if ok["conversion"] else None
                             for x, n in zip(df["converted"], df["conv_base"])]
    return df


def _fold(df: pd.DataFrame, group: str, cfg) -> pd.DataFrame:
    """Fold groups with fewer than ``min_group_size`` messages or
    ``k_anonymity`` customers into one :data:`OTHER` row (``folded``
    True); that row is dropped when it still has under ``k_anonymity``
    customers (summed, an upper bound)."""
    if df.empty:
        return df.assign(folded=pd.Series(dtype=bool))
    k = int(cfg.definitions.k_anonymity)
    d = df.copy()
    d["_size"] = np.where(d["customers"] >= k, d["sent"], 0)
    minimum = int(cfg.definitions.min_group_size)
    out = compare.fold_small(d, group, "_size", minimum, other=OTHER, sum_columns=[*COUNTS, "_size"])
    out["folded"] = False
    if (d["_size"] < minimum).any():
        out.loc[out.index[-1], "folded"] = True
    out = out[~(out["folded"] & (out["customers"] < k))]
    return out.drop(columns="_size").reset_index(drop=True)


# --------------------------------------------------------------------------
# The KPIs of one period, changes, trend
# --------------------------------------------------------------------------

def month_values(ds, cfg, months: list[Period]) -> pd.DataFrame:
    """Counts and rates (see :func:`with_rates`) per month of ``months``
    (messages sent in the month; a month without messages has zero counts
    and no rates), index ``month``; one grouped query."""
    def q():
        g = message_facts(ds, cfg, months[0].start, months[-1].end)
        g = g.mutate(month=month_of(g.sent_at))
        df = _aggregate(g, ["month"])
        df["month"] = pd.to_datetime(df["month"])
        idx = pd.Index([pd.Timestamp(p.start) for p in months], name="month")
        out = pd.DataFrame(index=idx).join(df.set_index("month"))
        for c in COUNTS:
            out[c] = out[c].fillna(0.0)
        return out
    return with_rates(_memo(ds, cfg, ("months", tuple(months)), q).reset_index(), ds).set_index("month")


def period_values(ds, cfg, period: Period | None = None) -> dict:
    """The section's KPIs for one month (default: the report's period;
    messages sent in it):

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
    r = month_values(ds, cfg, [period or cfg.period]).iloc[0]
    v = {k: (None if pd.isna(x) else float(x)) for k, x in r.items()}
    v.update(messages_sent=v["sent"], message_open_rate=v["open_rate"], message_click_rate=v["click_rate"],
             message_conversion_rate=v["conversion_rate"])
    return v


def campaign_counts(ds, cfg, period: Period) -> pd.DataFrame:
    """Per campaign of the messages sent in ``period`` (not folded: a
    statistical input, never shown): the counts of :func:`_aggregate`
    (``sent``, ``open_base``, ``opened``, ``clicked``, ``conv_base``,
    ``converted``) — the clusters of the rate tests of :func:`changes`."""
    def q():
        return _aggregate(message_facts(ds, cfg, period.start, period.end), ["campaign"])

    return _memo(ds, cfg, ("campaign_counts", period), q)


def has_last_year(ds, cfg) -> bool:
    """Whether the messages reach back to the same month a year before the
    period (13 months or more): the key figures then show it."""
    first = ds.first_date("messages")
    return first is not None and first <= cfg.period.shift(-12).start


def changes(ds, cfg) -> list[compare.Change]:
    """This period against the comparison period, judged
    (:func:`journeykit.stats.compare.judge`): messages sent — a volume the
    client decides, shown without a test; open, click and conversion rates —
    messages cluster within campaigns (one subject line, one audience, one
    send time), so each rate is tested with a quasi-binomial GLM on the
    campaigns' counts (:func:`compare.clustered_rate`) on its own
    denominator (a rate the data cannot measure has no value), and held to
    the rate's month-to-month movement over the trend window
    (:func:`compare.month_variance`). With few campaigns in a month the test
    is honestly weak. Empty without a
    messages table; with 13+ months of messages each KPI carries its value
    a year before."""
    if not has_messages(ds):
        return []
    f = month_values(ds, cfg, [cfg.period.previous(), cfg.period])
    prev, cur = f.iloc[0], f.iloc[1]
    ca, cb = campaign_counts(ds, cfg, cfg.period), campaign_counts(ds, cfg, cfg.period.previous())
    n_min = int(cfg.definitions.min_sample_size)
    ok = measurable(ds)
    out = [compare.value("messages_sent", cur.sent, prev.sent, higher_is_better=None, described="bought")]

    trend = monthly(ds, cfg)

    def rate(key, num, base):
        col = key.replace("message_", "")
        return compare.clustered_rate(key, ca[num], ca[base], cb[num], cb[base], cluster="campaign", min_n=n_min,
                                      history=compare.history(trend, col, cfg.period, cfg=cfg))

    if ok["opens"] and (cur.open_base or prev.open_base):
        out.append(rate("message_open_rate", "opened", "open_base"))
    else:
        out.append(compare.value("message_open_rate", None, None))
    out.append(rate("message_click_rate", "clicked", "sent") if ok["clicks"]
               else compare.value("message_click_rate", None, None))
    out.append(rate("message_conversion_rate", "converted", "conv_base") if ok["conversion"]
               else compare.value("message_conversion_rate", None, None))
    last = None
    if has_last_year(ds, cfg):
        y = period_values(ds, cfg, cfg.period.shift(-12))
        last = {k: y.get(k) for k in ("messages_sent", "message_open_rate", "message_click_rate",
                                      "message_conversion_rate")}
    return compare.with_last_year(compare.judge(out, cfg, first_date=ds.first_date()), last)


def trend_months(ds, cfg) -> list[Period]:
    """The trend window: the last ``definitions.trend_periods`` months, from
    the first month with messages on (the period itself always)."""
    return trailing_months(cfg, since=ds.first_date("messages"))


def monthly(ds, cfg) -> pd.DataFrame:
    """One row per month of the trend window (:func:`trend_months`):
    ``month``, the counts and the rates of :func:`with_rates` (messages
    sent in each month). Empty without messages."""
    if not has_messages(ds):
        return pd.DataFrame(columns=["month", *COUNTS])
    since = ds.first_date("messages")
    f = month_values(ds, cfg, trend_months(ds, cfg)).reset_index()
    return month_frame(cfg, since=since).merge(f, on="month", how="left")


# --------------------------------------------------------------------------
# Breakdowns of the period
# --------------------------------------------------------------------------

def _period_facts(ds, cfg, **kw):
    return message_facts(ds, cfg, cfg.period.start, cfg.period.end, **kw)


def _by(ds, cfg, group: str, **kw) -> pd.DataFrame:
    """Counts per ``group`` of the period's messages, folded, with rates."""
    def q():
        return _fold(_aggregate(_period_facts(ds, cfg, **kw), [group]), group, cfg)
    if not has_messages(ds):
        return with_rates(pd.DataFrame(columns=[group, *COUNTS, "folded"]), ds)
    return with_rates(_memo(ds, cfg, ("by", group), q), ds)


def by_campaign(ds, cfg) -> pd.DataFrame:
    """Per campaign, messages sent in the period: counts and rates, small
    campaigns folded (``folded``), largest first."""
    return _by(ds, cfg, "campaign")


def by_channel(ds, cfg) -> pd.DataFrame:
    """Per channel, messages sent in the period: counts and rates (a channel
    without measurable opens has ``open_rate`` ``None``; messages without
    a channel are the ``None`` group)."""
    return _by(ds, cfg, "channel")


def by_segment(ds, cfg) -> pd.DataFrame | None:
    """Per customer segment (:func:`segment_column`), messages of the period:
    counts and rates, small groups folded. ``None`` without a segment."""
    col = segment_column(ds)
    if col is None or not has_messages(ds):
        return None
    return _by(ds, cfg, "segment", segment=col)


def by_variant(ds, cfg) -> pd.DataFrame:
    """Per campaign and variant, for campaigns of the period that sent two or
    more variants: counts and rates, and for every variant after the first
    (alphabetical) ``lift`` / ``p_value`` of its open rate against the
    first variant's (:func:`journeykit.stats.experiments.two_proportions`;
    ``metric`` says which: the click rate instead where opens are not
    measured). Variants under ``k_anonymity`` customers are dropped."""
    cols = ["campaign", "variant", "sent", "open_rate", "click_rate", "conversion_rate", "lift", "p_value", "metric"]
    if not measurable(ds)["variant"]:
        return pd.DataFrame(columns=cols)

    def q():
        g = _period_facts(ds, cfg)
        g = g.filter(g.variant.notnull())
        return _aggregate(g, ["campaign", "variant"])
    df = with_rates(_memo(ds, cfg, ("by", "variant"), q), ds)
    df = df[df["customers"] >= int(cfg.definitions.k_anonymity)]
    rows = []
    for _, g in df.groupby("campaign", sort=True):
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
                    t = abstats.two_proportions(first["opened"], first["open_base"], r["opened"], r["open_base"])
                else:
                    t = abstats.two_proportions(first["clicked"], first["sent"], r["clicked"], r["sent"])
                row["lift"], row["p_value"] = t["lift"], t["p_value"]
            rows.append(row)
    return pd.DataFrame(rows, columns=cols)


def campaign_count(ds, cfg) -> int:
    """Distinct campaigns that sent a message in the period (small ones
    included: a count, not a breakdown); 0 without messages."""
    if not has_messages(ds):
        return 0

    def q():
        t = in_window(ds.table("messages"), "sent_at", cfg.period.start, cfg.period.end)
        return int(t.campaign.nunique().execute() or 0)
    return _memo(ds, cfg, "campaign_count", q)


def best_campaign(ds, cfg) -> dict | None:
    """The campaign of the period with the highest conversion rate among
    those with ``min_sample_size`` messages whose window closed (folded
    groups aside; ties by name), as a row dict of :func:`by_campaign`;
    ``None`` when none qualifies or conversion is not measurable."""
    df = by_campaign(ds, cfg)
    n_min = int(cfg.definitions.min_sample_size)
    ok = df[~df["folded"].astype(bool) & (df["conv_base"] >= n_min) & df["conversion_rate"].notna()]
    if ok.empty:
        return None
    return ok.sort_values(["conversion_rate", "campaign"], ascending=[False, True]).iloc[0].to_dict()


def significant_variants(ds, cfg) -> list[dict]:
    """The variants of :func:`by_variant` whose rate differs significantly
    (p < 0.05) from their campaign's first variant: ``campaign``,
    ``first`` (that variant), ``variant``, ``lift``, ``p_value``, ``metric``."""
    out = []
    for camp, g in by_variant(ds, cfg).groupby("campaign", sort=True):
        for _, b in g.iloc[1:].iterrows():
            if b["p_value"] is not None and not pd.isna(b["p_value"]) and b["p_value"] < compare.ALPHA:
                out.append({"campaign": camp, "first": g.iloc[0]["variant"], "variant": b["variant"],
                            "lift": b["lift"], "p_value": b["p_value"], "metric": b["metric"]})
    return out


# --------------------------------------------------------------------------
# Timing, recency and fatigue over the trend window
# --------------------------------------------------------------------------

def _trend_facts(ds, cfg):
    """:func:`message_facts` of the trend window with recency and fatigue,
    computed once per dataset and settings and kept on the engine (see
    :meth:`journeykit.data.dataset.Dataset.materialize`): the hour,
    weekday, recency and fatigue breakdowns all group the same rows, and
    the joins that find each message's last activity and prior messages are
    the costliest queries of the section."""
    start, end = trend_months(ds, cfg)[0].start, cfg.period.end
    return _memo(ds, cfg, ("trend_facts", start, end),
                 lambda: ds.materialize(message_facts(ds, cfg, start, end, recency=True, fatigue=True)))


def _trend_counts(ds, cfg, by: list[str]) -> pd.DataFrame:
    """Counts of the trend window's messages per ``by`` (empty without messages)."""
    if not has_messages(ds):
        return pd.DataFrame(columns=[*by, *COUNTS])
    return _memo(ds, cfg, ("trend", tuple(by)), lambda: _aggregate(_trend_facts(ds, cfg), by))


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
    out = df.groupby(group, dropna=False)[list(COUNTS)].sum()
    out["expected_opens"] = d.groupby(group, dropna=False)["expected_opens"].sum()
    out = out.reset_index()
    out["expected_opens"] = out["expected_opens"].astype(float).fillna(0.0)
    out["relative_open_rate"] = [compare.safe_div(o, e) for o, e in zip(out["opened"], out["expected_opens"])]
    return out


def _small_dropped(df: pd.DataFrame, cfg) -> pd.DataFrame:
    keep = (df["sent"] >= int(cfg.definitions.min_group_size)) & (df["customers"] >= int(cfg.definitions.k_anonymity))
    return df[keep].reset_index(drop=True)


def _min_sent(df: pd.DataFrame, cfg) -> pd.DataFrame:
    """Buckets of many customers' messages; empty buckets and buckets under
    ``min_group_size`` messages are dropped (too noisy to show)."""
    return df[df["sent"] >= max(1, int(cfg.definitions.min_group_size))].reset_index(drop=True)


def by_hour(ds, cfg) -> pd.DataFrame:
    """Per send hour (0–23), messages of the trend window: counts, rates and
    ``relative_open_rate`` (opens against messages of the same channel to
    customers of the same days-since-last-activity bucket: hours are
    otherwise confounded with who gets messaged when). Hours under
    ``min_group_size`` messages or ``k_anonymity`` customers (summed over
    strata, an upper bound) dropped."""
    df = _standardized(_trend_counts(ds, cfg, ["hour", "channel", "recency"]), ["channel", "recency"], "hour")
    return _small_dropped(with_rates(df.sort_values("hour").reset_index(drop=True), ds), cfg)


def by_weekday(ds, cfg) -> pd.DataFrame:
    """Per weekday of sending (``weekday`` 0 = Monday), messages of the
    trend window: counts, rates and ``relative_open_rate`` (as in
    :func:`by_hour`); small groups dropped."""
    df = _standardized(_trend_counts(ds, cfg, ["weekday", "channel", "recency"]), ["channel", "recency"], "weekday")
    return _small_dropped(with_rates(df.sort_values("weekday").reset_index(drop=True), ds), cfg)


def by_fatigue(ds, cfg) -> pd.DataFrame:
    """Response by messages the customer received in the 30 days before
    (``bucket`` of :data:`FATIGUE_BUCKETS`), messages of the trend window:
    counts, rates (opens over measurable channels only) and
    ``relative_open_rate``: opens against messages of the same campaign to
    customers of the same days-since-last-activity bucket, so that a
    frequently messaged group is not compared with another campaign or with
    lapsed customers. Buckets under ``min_group_size`` messages dropped."""
    df = _trend_counts(ds, cfg, ["campaign", "recency", "prior"])
    df["bucket"] = None
    for lo, hi, key in FATIGUE_BUCKETS:
        df.loc[(df["prior"] >= lo) & (df["prior"] < hi), "bucket"] = key
    out = _standardized(df, ["campaign", "recency"], "bucket")
    order = {key: i for i, (_, _, key) in enumerate(FATIGUE_BUCKETS)}
    out = out.sort_values("bucket", key=lambda s: s.map(order)).reset_index(drop=True)
    return _min_sent(with_rates(out, ds), cfg)


def by_recency(ds, cfg) -> pd.DataFrame:
    """Response by days since the customer's last activity (``key`` of
    :data:`RECENCY_BUCKETS` or :data:`RECENCY_NONE`), messages of the trend
    window; ``relative_open_rate`` against messages of the same campaign."""
    out = _standardized(_trend_counts(ds, cfg, ["campaign", "recency"]), ["campaign"], "recency")
    order = {key: i for i, (_, _, key) in enumerate(RECENCY_BUCKETS)} | {RECENCY_NONE: len(RECENCY_BUCKETS)}
    out = out.sort_values("recency", key=lambda s: s.map(order)).reset_index(drop=True)
    out["key"] = out["recency"]
    return _min_sent(with_rates(out, ds), cfg)


def fatigue_contrast(ds, cfg) -> dict | None:
    """The "0" bucket of :func:`by_fatigue` against the highest bucket with
    3 × ``min_sample_size`` measurable messages: ``none`` and ``most`` (their
    rows) and ``ratio`` (of their relative open rates); ``None`` when opens
    are not measured or either is missing."""
    if open_channels(ds, cfg) is None:
        return None
    df = by_fatigue(ds, cfg)
    n_min = 3 * int(cfg.definitions.min_sample_size)
    ok = df[(df["open_base"] >= n_min) & df["relative_open_rate"].notna()]
    if len(ok) < 2 or ok.iloc[0]["bucket"] != "0" or not ok.iloc[0]["relative_open_rate"]:
        return None
    none, most = ok.iloc[0].to_dict(), ok.iloc[-1].to_dict()
    return {"none": none, "most": most, "ratio": most["relative_open_rate"] / none["relative_open_rate"]}


def recency_contrast(ds, cfg) -> dict | None:
    """Open rates of customers active in the week before the message
    (``recent``, bucket ``d0_7``) and of those inactive for over 90 days
    (``lapsed``), each with ``min_sample_size`` measurable messages, and
    ``ratio`` = lapsed / recent (``None`` when the recent rate is 0); ``None``
    when opens are not measured or either bucket is too small."""
    if open_channels(ds, cfg) is None:
        return None
    df = by_recency(ds, cfg).set_index("key")
    n_min = int(cfg.definitions.min_sample_size)
    if not {"d0_7", "d91_plus"} <= set(df.index):
        return None
    a, b = df.loc["d0_7"], df.loc["d91_plus"]
    if min(a["open_base"], b["open_base"]) < n_min or pd.isna(a["open_rate"]) or pd.isna(b["open_rate"]):
        return None
    return {"recent": a.to_dict(), "lapsed": b.to_dict(),
            "ratio": b["open_rate"] / a["open_rate"] if a["open_rate"] else None}


def hour_contrast(ds, cfg) -> dict | None:
    """The ``best`` and ``worst`` send hour by relative open rate (rows of
    :func:`by_hour`) among the hours with at least ``min_sample_size`` and
    5% of the window's measurable messages (main send slots, not a handful
    of one-off sends); ``None`` with fewer than two such hours."""
    if open_channels(ds, cfg) is None:
        return None
    df = by_hour(ds, cfg)
    n_min = max(int(cfg.definitions.min_sample_size), 0.05 * df["open_base"].sum())
    ok = df[(df["open_base"] >= n_min) & df["relative_open_rate"].notna()].sort_values(["relative_open_rate", "hour"])
    if len(ok) < 2:
        return None
    return {"best": ok.iloc[-1].to_dict(), "worst": ok.iloc[0].to_dict()}


def actions(ds, cfg) -> list[dict]:
    """Message findings worth acting on, each a dict with ``kind``, in order:

    1. ``fatigue``: customers in the highest fatigue bucket open at most 80%
       as often as those with no message in the previous 30 days
       (:func:`fatigue_contrast`; ``label``, ``ratio``);
    2. ``lapsed``: customers inactive for over 90 days open at most half as
       often as those active in the last week (:func:`recency_contrast`;
       ``ratio``);
    3. ``variant``: a campaign variant opened significantly more than the
       first variant (:func:`significant_variants` with a positive lift);
    4. ``hour``: the best send hour's relative open rate beats the worst's
       by at least a quarter (:func:`hour_contrast`; ``hour``, ``rate``).

    Empty without messages.
    """
    if not has_messages(ds):
        return []
    out: list[dict] = []
    fc = fatigue_contrast(ds, cfg)
    if fc is not None and fc["ratio"] <= 0.8:
        out.append({"kind": "fatigue", "label": fc["most"]["bucket"], "ratio": fc["ratio"]})
    rc = recency_contrast(ds, cfg)
    if rc is not None and rc["ratio"] is not None and rc["ratio"] <= 0.5:
        out.append({"kind": "lapsed", "ratio": rc["ratio"]})
    out += [{"kind": "variant", **v} for v in significant_variants(ds, cfg) if v["lift"] > 0]
    hc = hour_contrast(ds, cfg)
    if hc is not None and hc["worst"]["relative_open_rate"] \
            and hc["best"]["relative_open_rate"] >= 1.25 * hc["worst"]["relative_open_rate"]:
        out.append({"kind": "hour", "hour": int(hc["best"]["hour"]), "rate": hc["best"]["relative_open_rate"]})
    return out


# --------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------

def campaign_metrics(ds, cfg) -> list[dict] | None:
    """The stable ``campaigns`` key: per campaign of the period (folded as in
    :func:`by_campaign`, the folded row named :data:`OTHER`) ``{campaign,
    sent, open_rate, click_rate, conversion_rate}``; ``None`` without a
    messages table."""
    if not has_messages(ds):
        return None
    df = by_campaign(ds, cfg)
    return [{k: jsonable(r[k]) for k in CAMPAIGN_FIELDS} for _, r in df.iterrows()]


def metrics(ds, cfg, ro: pd.DataFrame | None = None) -> dict:
    """Every ``metrics.json`` key of the section: the stable lists
    ``campaigns`` and ``experiments`` (``None`` when their table is
    missing; ``ro`` is the experiments readout when already computed), and
    the scalar :data:`KPI_KEYS` with ``_prev`` (``None`` without messages)."""
    out: dict = {"campaigns": campaign_metrics(ds, cfg), "experiments": experiments.metrics(ds, cfg, ro)}
    ch = {c.key: c for c in changes(ds, cfg)}
    for k in KPI_KEYS:
        c = ch.get(k)
        out[k] = c.value if c else None
        out[f"{k}_prev"] = c.prev if c else None
    return out


__all__ = ["STABLE_KEYS", "KPI_KEYS", "CAMPAIGN_FIELDS", "OTHER", "FATIGUE_DAYS", "FATIGUE_BUCKETS",
           "RECENCY_BUCKETS", "RECENCY_NONE", "COUNTS", "has_messages", "segment_column", "measurable", "window_days",
           "open_channels", "channels_without_opens", "message_facts", "with_rates", "month_values", "period_values",
           "campaign_counts", "has_last_year",
           "changes", "trend_months", "monthly", "by_campaign", "by_channel", "by_segment", "by_variant",
           "campaign_count", "best_campaign", "significant_variants", "by_hour", "by_weekday", "by_fatigue", "by_recency",
           "fatigue_contrast", "recency_contrast", "hour_contrast", "actions", "campaign_metrics", "metrics"]
