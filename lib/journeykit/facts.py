"""Business definitions, each stated once: every section that counts an
order, a purchase, an active customer, an RFM segment or a lifecycle state
counts it here.

**Payment status.** ``orders.payment_status`` is mapped at load onto the
canonical values :data:`journeykit.data.schemas.PAYMENT_STATUSES` (``paid``,
``failed``, ``refunded``, ``pending``, ``cancelled``; the client file maps
its own values, see ``data.tables.orders.values``). An empty status means
the export did not say the payment failed: it counts as paid.

**Order (purchase).** An ``orders`` row whose payment succeeded: status
``paid`` or empty. Without a ``payment_status`` column every row is an
order. Refunded, pending and cancelled rows are not orders.

**Payment attempt.** An ``orders`` row with status ``paid`` or ``failed``;
payment success = paid attempts ÷ (paid + failed) attempts. Rows with
another status, or none, are not attempts.

**First and repeat order.** A customer's first order is her earliest
order up to the period end (ties broken by ``order_id``); every later one
is a repeat order.

**Trial.** A subscription whose ``plan`` contains "trial" (any case:
``trial``, ``Trial``, ``trial_14d``); every other subscription, a missing
plan included, is paid (:func:`is_trial`).

**Activity.** A customer is active on a day when she has an event carrying
her ``customer_id`` or an ``orders`` row of any status that day (a failed
payment attempt is contact too). ``by="purchase"`` narrows activity to
orders as defined above.

**RFM.** Over the customers with an order in the ``segmentation.rfm.
lookback_days`` before a date: recency = whole days since the last order,
frequency = orders, monetary = their amount. Each is scored 1–5 by
quintile (:func:`quintile_scores`, ties share the lower score), F and M
combine into FM (:func:`fm_score`) and the client's segment rules map
(R, FM) to a segment (:data:`journeykit.core.settings.DEFAULT_RFM_RULES`).

**Lifecycle vocabularies.** Two, with different questions:

- :data:`MONTHLY_STATES` — how this month's active customers relate to last
  month (PostHog's lifecycle): ``new`` (first active this month),
  ``returning`` (active last month too), ``resurrecting`` (active before,
  not last month), ``dormant`` (active last month, not this month; counted
  negative);
- :data:`CUSTOMER_STATES` — where each customer stands at a date, from her
  signup and her silence (``segmentation.lifecycle``): ``new``, ``active``,
  ``reactivated``, ``at_risk``, ``dormant``, ``churned``.

Health bands are :data:`HEALTH_BANDS`. Each word has one label per
language (:func:`label`), so every section and the summary name it alike.
"""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd

from journeykit.core import i18n
from journeykit.data.query import days_before, in_window
from journeykit.data.schemas import PAYMENT_STATUSES

MONTHLY_STATES = ("new", "returning", "resurrecting", "dormant")
"""How this month's customers relate to last month (retention's lifecycle chart)."""

CUSTOMER_STATES = ("new", "active", "reactivated", "at_risk", "dormant", "churned")
"""Where each customer stands at a date (segmentation, health, playbooks)."""

LIVE_STATES = ("new", "active", "reactivated", "at_risk", "dormant")
"""Customer states that are not churned."""

HEALTH_BANDS = ("healthy", "at_risk", "unhealthy")
"""Health-score bands, best first."""

OTHER = "__other__"
"""The group small groups are folded into (worded "other" by a view, ``other`` in metrics.json)."""

UNKNOWN = "__unknown__"
"""The group of rows whose grouping value is missing (worded by a view)."""

i18n.register({
    # RFM segments (the default rules' keys)
    "rfm_champions": {"en": "Champions", "ko": "챔피언"},
    "rfm_loyal": {"en": "Loyal", "ko": "충성 고객"},
    "rfm_potential_loyalists": {"en": "Potential loyalists", "ko": "잠재 충성 고객"},
    "rfm_new": {"en": "New", "ko": "신규 구매 고객"},
    "rfm_promising": {"en": "Promising", "ko": "유망 고객"},
    "rfm_need_attention": {"en": "Need attention", "ko": "관심 필요"},
    "rfm_at_risk": {"en": "At risk", "ko": "이탈 위험"},
    "rfm_cant_lose": {"en": "Can't lose", "ko": "놓치면 안 될 고객"},
    "rfm_hibernating": {"en": "Hibernating", "ko": "휴면 고객"},
    "rfm_lost": {"en": "Lost", "ko": "이탈 고객"},
    "rfm_none": {"en": "(no paid order in the window)", "ko": "(기간 내 구매 없음)"},
    # customer states
    "state_new": {"en": "New", "ko": "신규"},
    "state_active": {"en": "Active", "ko": "활성"},
    "state_reactivated": {"en": "Reactivated", "ko": "복귀"},
    "state_at_risk": {"en": "At risk", "ko": "이탈 위험"},
    "state_dormant": {"en": "Dormant", "ko": "휴면"},
    "state_churned": {"en": "Churned", "ko": "이탈"},
    "state_none": {"en": "(not yet signed up)", "ko": "(가입 전)"},
    # monthly lifecycle
    "monthly_new": {"en": "new", "ko": "신규"},
    "monthly_returning": {"en": "returning", "ko": "유지"},
    "monthly_resurrecting": {"en": "resurrecting", "ko": "복귀"},
    "monthly_dormant": {"en": "dormant", "ko": "이탈(이번 달)"},
    # health bands
    "band_healthy": {"en": "Healthy", "ko": "건강"},
    "band_at_risk": {"en": "At risk", "ko": "주의"},
    "band_unhealthy": {"en": "Unhealthy", "ko": "위험"},
})

_VOCABULARY = {"rfm": None, "state": CUSTOMER_STATES, "monthly": MONTHLY_STATES, "band": HEALTH_BANDS}


def label(kind: str, key: str, cfg) -> str:
    """The display name of a defined word: ``kind`` is ``rfm`` (an RFM
    segment; a client rule's own ``label`` wins), ``state`` (a customer
    state), ``monthly`` (a monthly lifecycle state) or ``band`` (a health
    band). Unknown keys (a client's own segment without a label) are shown
    with underscores as spaces."""
    if kind not in _VOCABULARY:
        raise ValueError(f"unknown vocabulary {kind!r}: one of {', '.join(_VOCABULARY)}")
    if kind == "rfm":
        for rule in cfg.segmentation.rfm.segments:
            if rule.segment == key and rule.label:
                return rule.label
    k = f"{kind}_{key}"
    return i18n.t(k, cfg.language) if k in i18n.TEXT else str(key).replace("_", " ")


# --------------------------------------------------------------------------
# Orders, attempts, purchases
# --------------------------------------------------------------------------

def has_payment_status(ds) -> bool:
    """Whether the client's orders carry a ``payment_status``."""
    return ds.has("orders") and "payment_status" in ds.raw("orders").columns


def has_amounts(ds) -> bool:
    """Whether order amounts are known (orders derived from ``purchase``
    events without a ``value`` have none: counts only)."""
    return ds.has("orders") and "amount" in ds.report.tables["orders"].columns


def attempts(ds, until: dt.date | None = None):
    """Every ``orders`` row before ``until`` (default: the period end) with
    three flags: ``_paid`` (an order: status ``paid`` or empty), ``_failed``
    (a failed payment attempt) and ``_status_known`` (a status is given)."""
    t = ds.table("orders", until=until)
    if "payment_status" in t.columns:
        s = t.payment_status
        paid = s.isnull() | (s == "paid")
        failed = (s == "failed").fill_null(False)
        known = s.notnull()
    else:
        paid, failed, known = ibis.literal(True), ibis.literal(False), ibis.literal(False)
    return t.mutate(_paid=paid, _failed=failed, _status_known=known)


def paid_orders(ds, until: dt.date | None = None):
    """Orders (successful payments) before ``until`` (default: the period
    end), with ``_seq``: 0 for the customer's first order, 1, 2, … for her
    repeat orders, and ``_code``: the discount code, or null when none."""
    t = attempts(ds, until)
    t = t.filter(t._paid)
    w = ibis.window(group_by=t.customer_id, order_by=[t.ordered_at, t.order_id])
    if "discount_code" in t.columns:
        code = t.discount_code.cast("string").strip()
        code = ibis.ifelse(code == "", ibis.null("string"), code)
    else:
        code = ibis.null("string")
    return t.mutate(_seq=ibis.row_number().over(w), _code=code)


def purchases(ds):
    """Orders up to the period end as ``(customer_id, at, amount)``; ``None``
    without orders."""
    if not ds.has("orders"):
        return None
    o = attempts(ds)
    o = o.filter(o._paid)
    return o.select(customer_id=o.customer_id.cast("string"), at=o.ordered_at.cast("timestamp"),
                    amount=o.amount.cast("float64"))


# --------------------------------------------------------------------------
# Subscriptions
# --------------------------------------------------------------------------

def is_trial(plan):
    """Whether a subscription is a trial, from its ``plan`` (an Ibis
    column): the plan contains "trial", in any case; a missing plan is not
    a trial. A boolean column without nulls."""
    return plan.cast("string").lower().contains("trial").fill_null(False)


# --------------------------------------------------------------------------
# Activity
# --------------------------------------------------------------------------

def customer_events(ds):
    """Events up to the period end that carry a customer id; ``None`` when
    there are no events or they have no ``customer_id`` column."""
    if not ds.has("events"):
        return None
    e = ds.table("events")
    if "customer_id" not in e.columns:
        return None
    return e.filter(e.customer_id.notnull())


def activity_sources(ds) -> list[str]:
    """The tables activity is read from: ``orders`` and/or ``events`` (when
    its rows carry a ``customer_id``)."""
    out = ["orders"] if ds.has("orders") else []
    if customer_events(ds) is not None:
        out.append("events")
    return out


def activity(ds, by: str = "activity"):
    """Activity moments ``(customer_id, at)`` up to the period end:
    ``by="activity"``: events with a customer id and orders rows of any
    status; ``by="purchase"``: orders only. ``None`` without a source."""
    if by not in ("activity", "purchase"):
        raise ValueError(f"by must be 'activity' or 'purchase', not {by!r}")
    if by == "purchase":
        p = purchases(ds)
        return None if p is None else p.select("customer_id", "at")
    parts = []
    if ds.has("orders"):
        o = ds.table("orders")
        parts.append(o.select(customer_id=o.customer_id.cast("string"), at=o.ordered_at.cast("timestamp")))
    e = customer_events(ds)
    if e is not None:
        parts.append(e.select(customer_id=e.customer_id.cast("string"), at=e.occurred_at.cast("timestamp")))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=False)


def activity_days(ds, by: str = "activity"):
    """:func:`activity` reduced to one row per customer and active day:
    ``customer_id``, ``day`` (midnight), ``first`` and ``last`` (the day's
    earliest and latest moment); ``None`` without a source. Any question
    about activity before a date, or between two dates, has the same answer
    on these rows as on the raw moments (before a moment too, with
    ``first``). Computed once per version of the data and shared by
    every section (:meth:`journeykit.data.dataset.Dataset.shared`): on the
    large demo data 62 M events and 5 M orders become 12 M customer-days."""
    def build():
        a = activity(ds, by)
        if a is None:
            return None
        return ds.shared(f"activity_days_{by}",
                         a.group_by("customer_id", day=a.at.truncate("D")).aggregate(
                             first=a.at.min(), last=a.at.max()))

    return ds.memo(("activity_days", by), build)


SHARED = {"activity_days": lambda ds: activity_days(ds)}
"""The shared facts a section can declare it reads
(:attr:`journeykit.sections.registry.Section.facts`), each a function of
the dataset that computes it (once per version of the data)."""


def prebuild(ds, names) -> None:
    """Compute the shared facts ``names`` (keys of :data:`SHARED`) on
    ``ds`` now, as the first section asking for them would: into the cache
    entry (:meth:`journeykit.data.dataset.Dataset.shared`), where every
    section of the run then reads them."""
    for name in names:
        SHARED[name](ds)


def activity_gaps(ds, by: str = "activity"):
    """:func:`activity_days` with ``gap_days``: the days from the customer's
    previous active day to this one (``day`` minus the previous ``day``;
    ``null`` on her first). A row's gap depends only on earlier rows, so
    keeping the rows before any date keeps their gaps right. Computed once
    per version of the data and shared, like the active days: the lifecycle
    states of nine month ends each ran this window over 12 M customer-days
    of the large demo data (3.5 s a month, one thread). ``None`` without a
    source."""
    def build():
        a = activity_days(ds, by)
        if a is None:
            return None
        w = ibis.window(group_by=a.customer_id, order_by=a.day)
        g = a.select("customer_id", "day", "last").mutate(
            gap_days=(a.day.epoch_seconds() - a.day.lag().over(w).epoch_seconds()) / 86400.0)
        return ds.shared(f"activity_gaps_{by}", g)

    return ds.memo(("activity_gaps", by), build)


# --------------------------------------------------------------------------
# RFM
# --------------------------------------------------------------------------

def quintile_scores(values: pd.Series, higher_is_better: bool = True) -> pd.Series:
    """Scores 1–5 by quintile of ``values`` (5 = best).

    A value's score is ``1 + floor(5 × (rank − 1) / n)`` where ``rank`` is its
    *minimum* rank (1 = worst): equal values always share a score (the lower
    one), whatever the row order, so scoring is deterministic. With heavy
    ties (e.g. most customers with one order) the top scores may stay
    empty rather than splitting equal customers arbitrarily.
    """
    v = pd.to_numeric(values, errors="coerce").astype(float)
    if not len(v):
        return pd.Series([], dtype="int64", index=v.index)
    r = (v if higher_is_better else -v).rank(method="min", ascending=True)
    return (1 + np.floor(5 * (r - 1) / len(v))).astype("int64")


def fm_score(f: pd.Series, m: pd.Series) -> pd.Series:
    """The combined frequency–monetary score: the mean of F and M, halves
    rounded up (``(f + m + 1) // 2``)."""
    return ((f.astype("int64") + m.astype("int64") + 1) // 2).astype("int64")


def assign_segments(r: pd.Series, fm: pd.Series, rules) -> pd.Series:
    """The segment of each (R, FM) pair: the first rule whose ranges hold it."""
    out = pd.Series([None] * len(r), index=r.index, dtype="object")
    for rule in reversed(list(rules)):
        hit = r.between(*rule.r) & fm.between(*rule.fm)
        out[hit] = rule.segment
    return out


def rfm_base(ds, cfg, end: dt.date | None = None) -> pd.DataFrame:
    """Per customer with an order in the ``segmentation.rfm.lookback_days``
    days before ``end`` (default: the period end): ``recency_days`` (whole
    days from her last order to ``end``), ``frequency`` (orders in the
    window), ``monetary`` (their amount, client currency). Aggregated on the
    engine; sorted by ``customer_id``. Empty without orders, and without
    order amounts (:func:`has_amounts`): RFM needs all three."""
    end = end or cfg.period.end
    cols = ["customer_id", "recency_days", "frequency", "monetary"]
    if not ds.has("orders") or not has_amounts(ds):
        # RFM needs amounts: orders derived from events without a value have none
        return pd.DataFrame(columns=cols)
    o = in_window(paid_orders(ds, until=end), "ordered_at",
                  end - dt.timedelta(days=cfg.segmentation.rfm.lookback_days), end)
    g = o.group_by(customer_id=o.customer_id.cast("string")).aggregate(
        last=o.ordered_at.max(), frequency=o.count(), monetary=o.amount.cast("float64").sum())
    g = g.mutate(recency_days=days_before(end, g["last"]).floor().cast("int64"))
    df = g.select(*cols).execute()
    return df.sort_values("customer_id", kind="stable").reset_index(drop=True)


def score_rfm(base: pd.DataFrame, rules) -> pd.DataFrame:
    """R, F, M and FM scores and the segment of every customer of ``base``
    (columns ``recency_days``, ``frequency``, ``monetary``) under ``rules``
    (a sequence of :class:`journeykit.core.settings.SegmentRule`)."""
    out = base.copy()
    out["r"] = quintile_scores(out["recency_days"], higher_is_better=False)
    out["f"] = quintile_scores(out["frequency"])
    out["m"] = quintile_scores(out["monetary"])
    out["fm"] = fm_score(out["f"], out["m"])
    out["segment"] = assign_segments(out["r"], out["fm"], rules)
    return out


def rfm(ds, cfg, end: dt.date | None = None) -> pd.DataFrame:
    """Every RFM customer at ``end`` (default: the period end) with her
    scores and segment: :func:`score_rfm` of :func:`rfm_base` under the
    client's rules. The one RFM of the report: segmentation, LTV and the
    summary all read it."""
    end = end or cfg.period.end
    return ds.memo(("rfm", end), lambda: score_rfm(rfm_base(ds, cfg, end), cfg.segmentation.rfm.segments), cfg)


# --------------------------------------------------------------------------
# Acquisition cost
# --------------------------------------------------------------------------

def has_acquisition(ds) -> bool:
    """Whether new customers can be attributed to a channel: a supplied (not
    derived) customers table with an ``acquisition_channel`` column."""
    t = ds.report.tables.get("customers")
    return (ds.has("customers") and t is not None and t.status != "derived"
            and "acquisition_channel" in ds.table("customers").columns)


def channel_key(col):
    """A channel name as it is matched across tables: trimmed, lower case;
    empty and missing as :data:`UNKNOWN` (an Ibis expression)."""
    ch = col.cast("string").strip().lower()
    return ibis.ifelse(ch.isnull() | (ch == ""), ibis.literal(UNKNOWN), ch)


def acquisition_costs(ds, cfg, start: dt.date, end: dt.date) -> pd.DataFrame | None:
    """Customer acquisition cost per channel, for the customers who signed
    up in ``[start, end)``: the one definition of CAC (awareness and LTV:CAC
    both read it).

    Columns: ``channel`` (:func:`channel_key` of ``acquisition_channel``),
    ``signups``; ``spend``: the channel's ``marketing.spend`` over the same
    days (channels matched by :func:`channel_key`; NaN for a channel without
    spend); ``paid_signups``: the signups of channels with spend; ``cac`` =
    spend ÷ paid signups (currency per customer; ``None`` without spend);
    ``is_other``. Channels with fewer than max(min_group_size, k_anonymity)
    signups fold into :data:`OTHER`, whose CAC is the folded spend over the
    folded paid signups. ``None`` without attributable customers.
    """
    if not has_acquisition(ds):
        return None

    def build():
        from journeykit.stats import compare

        c = in_window(ds.table("customers"), "signup_at", start, end)
        n = c.group_by(channel=channel_key(c.acquisition_channel)).aggregate(signups=c.count()).execute()
        if ds.has("marketing") and "spend" in ds.table("marketing").columns:
            m = in_window(ds.table("marketing"), "date", start, end)
            sp = m.group_by(channel=channel_key(m.channel)).aggregate(spend=m.spend.sum()).execute()
        else:
            sp = pd.DataFrame({"channel": pd.Series([], dtype=object), "spend": pd.Series([], dtype="float64")})
        df = n.merge(sp, on="channel", how="outer").fillna({"signups": 0})
        df["paid_signups"] = df["signups"].where(df["spend"].notna(), 0)
        minimum = max(int(cfg.definitions.min_group_size), int(cfg.definitions.k_anonymity))
        df = compare.fold_small(df, "channel", "signups", minimum, other=OTHER,
                                sum_columns=["signups", "spend", "paid_signups"])
        if len(df) and df["channel"].iloc[-1] == OTHER and df["paid_signups"].iloc[-1] == 0:
            df.loc[df.index[-1], "spend"] = float("nan")
        df["cac"] = [compare.safe_div(s, p) for s, p in zip(df["spend"], df["paid_signups"])]
        df["is_other"] = df["channel"] == OTHER
        cols = ["channel", "signups", "paid_signups", "spend", "cac", "is_other"]
        return df.reindex(columns=cols).astype({"signups": "float64", "paid_signups": "float64",
                                                "spend": "float64", "cac": "float64"}).reset_index(drop=True)

    return ds.memo(("acquisition_costs", start, end), build, cfg)


def segment_keys(cfg) -> list[str]:
    """The client's RFM segment keys in rule order, each once."""
    return list(dict.fromkeys(r.segment for r in cfg.segmentation.rfm.segments))


__all__ = ["SHARED", "prebuild", "MONTHLY_STATES", "CUSTOMER_STATES", "LIVE_STATES", "HEALTH_BANDS", "PAYMENT_STATUSES", "label",
           "customer_events", "has_payment_status", "has_amounts", "attempts", "paid_orders", "purchases", "activity_sources",
           "activity", "activity_days", "activity_gaps", "is_trial", "quintile_scores", "fm_score", "assign_segments", "rfm_base", "score_rfm",
           "rfm", "segment_keys", "OTHER", "UNKNOWN", "has_acquisition", "channel_key", "acquisition_costs"]
