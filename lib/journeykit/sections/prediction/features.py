"""Prediction features: one builder per source, each per customer, from the
rows *before* a cutoff only.

Every builder reports the latest timestamp it read (``_max_seen``), and
:func:`check_no_leakage` refuses a feature table that saw the cutoff or
later. A builder whose table is missing returns ``None``; a builder whose
optional column is missing leaves out the features that need it (never a
column of nothing but missing values). Paid orders and failed payment
attempts are :func:`journeykit.facts.attempts`; activity is
:func:`journeykit.facts.activity_days`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import ibis
import numpy as np
import pandas as pd

from journeykit import facts
from journeykit.core.errors import JourneykitError
from journeykit.data.query import days_before, ts


class LeakageError(JourneykitError):
    """A feature was computed from rows at or after its cutoff."""


@dataclasses.dataclass
class FeatureBlock:
    """Per-customer features from one source.

    ``frame`` is indexed by ``customer_id`` (strings); ``max_seen`` is the
    latest timestamp among the rows the builder read (``None`` when it
    read none); ``categorical`` lists the columns holding categories.
    """

    name: str
    frame: pd.DataFrame
    max_seen: pd.Timestamp | None
    categorical: tuple[str, ...] = ()


def block(name: str, df: pd.DataFrame, categorical: tuple[str, ...] = ()) -> FeatureBlock:
    """A :class:`FeatureBlock` from a frame with ``customer_id`` and
    ``_max_seen`` columns (the latest timestamp read, per row)."""
    seen = df.pop("_max_seen") if "_max_seen" in df.columns else pd.Series(dtype="datetime64[ns]")
    m = pd.to_datetime(seen).max() if len(seen) else None
    df = df.assign(customer_id=df["customer_id"].astype(str)).set_index("customer_id")
    return FeatureBlock(name, df, None if m is None or pd.isna(m) else pd.Timestamp(m), categorical)


def _cid(t):
    return t.customer_id.cast("string").name("customer_id")


def activity_features(ds, cutoff: dt.date, by: str = "activity") -> FeatureBlock | None:
    """Activity before ``cutoff`` (:func:`journeykit.facts.activity_days`;
    ``by="purchase"``: orders only), per customer:

    - ``recency_days``: days from the last activity to the cutoff;
    - ``active_days_28``: distinct active days in the 28 days before the cutoff;
    - ``usage_trend``: ``active_days_28`` minus the average active days per
      28 days over the 56 days before those (days 29–84 before the cutoff);
      negative = falling usage; active days per 4 weeks;
    - ``active_days_365``: distinct active days in the 365 days before the cutoff;
    - ``session_interval_days``: mean days between consecutive active days
      in the 365 days before the cutoff (``null`` with fewer than two).
    """
    d = facts.activity_days(ds, by)
    if d is None:
        return None
    d = d.filter(d.day < ts(cutoff))
    back = days_before(cutoff, d.day)
    g = d.group_by("customer_id").aggregate(
        _max_seen=d.last.max(),
        recency_days=days_before(cutoff, d.last.max()),
        active_days_28=d.count(where=back <= 28),
        _prior=d.count(where=(back > 28) & (back <= 84)),
        active_days_365=d.count(where=back <= 365),
        _first365=d.day.min(where=back <= 365),
        _last365=d.day.max(where=back <= 365),
    )
    df = g.execute()
    span = (pd.to_datetime(df["_last365"]) - pd.to_datetime(df["_first365"])).dt.total_seconds() / 86400
    df["usage_trend"] = df["active_days_28"] - df["_prior"] / 2.0
    df["session_interval_days"] = np.where(df["active_days_365"] >= 2, span / (df["active_days_365"] - 1).clip(lower=1),
                                           np.nan)
    return block("activity", df.drop(columns=["_prior", "_first365", "_last365"]))


def order_features(ds, cutoff: dt.date) -> FeatureBlock | None:
    """Orders before ``cutoff``, per customer (:func:`journeykit.facts.attempts`:
    paid = an order, failed = a failed payment attempt):

    - ``frequency``: paid orders; count;
    - ``purchase_recency_days``: days from the last paid order to the cutoff;
    - ``payment_failures_180``: failed payment attempts in the 180 days
      before the cutoff (only with ``payment_status``: without it no attempt
      is known to have failed);
    - with amounts (:func:`journeykit.facts.has_amounts`): ``monetary`` (mean
      amount of the paid orders) and ``spend_90`` / ``spend_365`` (paid
      amount in the 90 / 365 days before the cutoff); currency;
    - with ``discount_code``: ``discount_share``, paid orders with a code /
      paid orders (0–1).
    """
    if not ds.has("orders"):
        return None
    o = facts.attempts(ds)
    o = o.filter(o.ordered_at < ts(cutoff))
    back = days_before(cutoff, o.ordered_at)
    aggs: dict[str, Any] = dict(
        _max_seen=o.ordered_at.max(),
        frequency=o.count(where=o._paid),
        purchase_recency_days=days_before(cutoff, o.ordered_at.max(where=o._paid)),
    )
    if facts.has_payment_status(ds):
        aggs["payment_failures_180"] = o.count(where=o._failed & (back <= 180))
    amounts = facts.has_amounts(ds)
    if amounts:
        aggs.update(monetary=o.amount.mean(where=o._paid), spend_90=o.amount.sum(where=o._paid & (back <= 90)),
                    spend_365=o.amount.sum(where=o._paid & (back <= 365)))
    coded = "discount_code" in o.columns
    if coded:
        aggs["_coded"] = o.count(where=o._paid & (o.discount_code.cast("string").strip().fill_null("") != ""))
    df = o.group_by(_cid(o)).aggregate(**aggs).execute()
    if amounts:
        df[["spend_90", "spend_365"]] = df[["spend_90", "spend_365"]].fillna(0.0)
    if coded:
        df["discount_share"] = df.pop("_coded") / df["frequency"].where(df["frequency"] > 0)
    return block("orders", df)


def event_features(ds, cutoff: dt.date) -> FeatureBlock | None:
    """Events with a customer id in the 90 days before ``cutoff``, per
    customer; counts:

    - ``feature_uses_90``: ``feature_use`` events;
    - ``pricing_views_90``: ``pricing_view`` events;
    - with ``session_id``: ``sessions_90``, distinct sessions;
    - with ``feature``: ``feature_breadth_90``, distinct ``feature`` values
      of ``feature_use`` events.
    """
    e = facts.customer_events(ds)
    if e is None:
        return None
    e = e.filter((e.occurred_at < ts(cutoff)) & (days_before(cutoff, e.occurred_at) <= 90))
    is_feat = e.event_type == "feature_use"
    aggs: dict[str, Any] = dict(
        _max_seen=e.occurred_at.max(),
        feature_uses_90=e.count(where=is_feat),
        pricing_views_90=e.count(where=e.event_type == "pricing_view"),
    )
    if "session_id" in e.columns:
        aggs["sessions_90"] = e.session_id.nunique()
    if "feature" in e.columns:
        aggs["feature_breadth_90"] = e.feature.nunique(where=is_feat)
    return block("events", e.group_by(_cid(e)).aggregate(**aggs).execute())


def _device_rows(ds):
    """Orders and events with a device: ``customer_id``, ``at``, ``device``
    (``None`` without a ``device`` column on either)."""
    parts = []
    if ds.has("orders") and "device" in ds.table("orders").columns:
        o = ds.table("orders")
        parts.append(o.select(customer_id=o.customer_id.cast("string"), at=o.ordered_at, device=o.device.cast("string")))
    e = facts.customer_events(ds)
    if e is not None and "device" in e.columns:
        parts.append(e.select(customer_id=e.customer_id.cast("string"), at=e.occurred_at, device=e.device.cast("string")))
    if not parts:
        return None
    u = parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=False)
    return u.filter(u.device.notnull())


def device_counts(ds, cutoffs: tuple[dt.date, ...]):
    """Rows with a device (:func:`_device_rows`) before the last of
    ``cutoffs``, counted per customer, device and ``stretch``: the number
    of ``cutoffs`` on or before the row's time (0 = before the first).
    The rows before ``cutoffs[k]`` (sorted) are those of stretches 0 to
    ``k``: every cutoff's device counts come from this one scan of the
    events (on 62 M events, one scan instead of five of about 2.5 s each).
    Columns ``customer_id``, ``device``, ``stretch``, ``n`` (rows) and
    ``_max_seen`` (their latest time); a temporary table, computed once
    per dataset and set of cutoffs. ``None`` without devices."""
    edges = tuple(sorted(set(cutoffs)))

    def build():
        u = _device_rows(ds)
        if u is None:
            return None
        u = u.filter(u.at < ts(edges[-1]))
        stretch = ibis.cases(*((u.at < ts(c), i) for i, c in enumerate(edges)), else_=len(edges))
        return ds.materialize(u.group_by(["customer_id", "device", stretch.name("stretch")])
                              .aggregate(n=u.count(), _max_seen=u.at.max()))

    return ds.memo(("prediction_device_counts", edges), build)


def device_features(ds, cutoff: dt.date, among: tuple[dt.date, ...] = ()) -> FeatureBlock | None:
    """``device``: the device of most of a customer's orders and events
    before ``cutoff`` (ties: alphabetical); a category. Needs a ``device``
    column on orders or events. With ``among`` (the cutoffs a run reads
    features at, ``cutoff`` one of them) the rows are counted once for all
    of them (:func:`device_counts`); the answer is the same."""
    if cutoff in among:
        counts = device_counts(ds, among)
        if counts is None:
            return None
        k = sorted(set(among)).index(cutoff)
        d = counts.filter(counts.stretch <= k)
        c = d.group_by(["customer_id", "device"]).aggregate(n=d.n.sum(), _max_seen=d._max_seen.max())
    else:
        u = _device_rows(ds)
        if u is None:
            return None
        u = u.filter(u.at < ts(cutoff))
        c = u.group_by(["customer_id", "device"]).aggregate(n=u.count(), _max_seen=u.at.max())
    w = ibis.window(group_by=c.customer_id, order_by=[ibis.desc(c.n), c.device])
    # the latest row read of each customer rides along: one query, not a second one for the bound
    r = c.mutate(rk=ibis.row_number().over(w), _max_seen=c._max_seen.max().over(group_by=c.customer_id))
    df = r.filter(r.rk == 0).select("customer_id", "device", "_max_seen").execute()
    return block("device", df, ("device",))


def ticket_features(ds, cutoff: dt.date, categories: tuple[str, ...] | None = None) -> FeatureBlock | None:
    """Support tickets opened before ``cutoff``, per customer:
    ``tickets_90`` / ``tickets_365`` (opened in the 90 / 365 days before it);
    with ``category``, ``tickets_cat_<category>`` (opened in the 365 days
    before it, one column per category); with ``csat`` and ``resolved_at``,
    ``ticket_csat`` (mean CSAT, 1–5, of tickets *resolved* before the
    cutoff: a score given later is not known at the cutoff)."""
    if not ds.has("tickets"):
        return None
    t = ds.table("tickets", until=cutoff)  # also masks resolved_at at or after the cutoff
    back = days_before(cutoff, t.created_at)
    aggs: dict[str, Any] = dict(
        _max_seen=ibis.greatest(t.created_at.max(), t.resolved_at.max().fill_null(t.created_at.max()))
        if "resolved_at" in t.columns else t.created_at.max(),
        tickets_90=t.count(where=back <= 90),
        tickets_365=t.count(where=back <= 365),
    )
    if "csat" in t.columns and "resolved_at" in t.columns:
        aggs["ticket_csat"] = t.csat.cast("float64").mean(where=t.resolved_at.notnull())
    if "category" in t.columns:
        cat = t.category.cast("string").fill_null("other")
        if categories is None:
            categories = tuple(sorted(str(c) for c in t.select(c=cat).distinct().execute()["c"]))
        names: set[str] = set()
        for c in categories:
            name = f"tickets_cat_{slug(c)}"
            while name in names:  # two categories that differ only in punctuation or case
                name += "_"
            names.add(name)
            aggs[name] = t.count(where=(cat == c) & (back <= 365))
    return block("tickets", t.group_by(_cid(t)).aggregate(**aggs).execute())


def survey_features(ds, cutoff: dt.date) -> FeatureBlock | None:
    """Survey answers with a customer id and an NPS score before ``cutoff``,
    per customer: ``last_nps`` (the latest answer, 0–10), ``mean_nps`` and
    ``responses`` (answers). Needs ``surveys.customer_id`` and ``surveys.nps``."""
    if not ds.has("surveys") or not {"customer_id", "nps"} <= set(ds.table("surveys").columns):
        return None
    s = ds.table("surveys", until=cutoff)
    s = s.filter(s.customer_id.notnull() & s.nps.notnull())
    w = ibis.window(group_by=s.customer_id, order_by=ibis.desc(s.responded_at))
    s = s.mutate(rk=ibis.row_number().over(w))
    g = s.group_by(_cid(s)).aggregate(
        _max_seen=s.responded_at.max(),
        last_nps=s.nps.cast("float64").max(where=s.rk == 0),
        mean_nps=s.nps.cast("float64").mean(),
        responses=s.count(),
    )
    return block("surveys", g.execute())


def subscription_features(ds, cutoff: dt.date) -> FeatureBlock | None:
    """Subscriptions at ``cutoff``, per customer: ``sub_active`` (1 when a
    subscription started before the cutoff and had not ended by it; without
    ``ended_at`` every started one runs), with ``mrr`` ``sub_mrr`` (monthly
    amount of those running; 0 when none) and with ``plan`` ``sub_trial``
    (1 when one of them is a trial plan)."""
    if not ds.has("subscriptions"):
        return None
    s = ds.table("subscriptions", until=cutoff)  # ended_at at or after the cutoff is masked: still running
    running = s.ended_at.isnull() if "ended_at" in s.columns else ibis.literal(True)
    aggs: dict[str, Any] = dict(
        _max_seen=ibis.greatest(s.started_at.max(), s.ended_at.max().fill_null(s.started_at.max()))
        if "ended_at" in s.columns else s.started_at.max(),
        sub_active=running.any().cast("int64"),
    )
    if "mrr" in s.columns:
        aggs["sub_mrr"] = s.mrr.cast("float64").fill_null(0.0).sum(where=running)
    if "plan" in s.columns:
        aggs["sub_trial"] = (running & s.plan.cast("string").lower().contains("trial").fill_null(False)).any().cast("int64")
    df = s.group_by(_cid(s)).aggregate(**aggs).execute()
    if "sub_mrr" in df.columns:
        df["sub_mrr"] = df["sub_mrr"].fillna(0.0)
    return block("subscriptions", df)


def message_features(ds, cutoff: dt.date) -> FeatureBlock | None:
    """``message_open_rate_90``: CRM messages sent in the 90 days before
    ``cutoff`` that were opened before it / messages sent (0–1; needs
    ``messages.opened_at``)."""
    if not ds.has("messages") or "opened_at" not in ds.table("messages").columns:
        return None
    m = ds.table("messages", until=cutoff)  # opened_at at or after the cutoff is masked
    m = m.filter(days_before(cutoff, m.sent_at) <= 90)
    g = m.group_by(_cid(m)).aggregate(
        _max_seen=ibis.greatest(m.sent_at.max(), m.opened_at.max().fill_null(m.sent_at.max())),
        message_open_rate_90=m.opened_at.notnull().cast("float64").mean(),
    )
    return block("messages", g.execute())


def customer_features(ds, cutoff: dt.date) -> FeatureBlock | None:
    """Customers who signed up before ``cutoff``: ``tenure_days`` (days from
    sign-up to the cutoff) and, with ``acquisition_channel``, ``channel``
    (a category)."""
    if not ds.has("customers"):
        return None
    c = ds.table("customers", until=cutoff)
    cols = dict(customer_id=c.customer_id.cast("string"), tenure_days=days_before(cutoff, c.signup_at),
                _max_seen=c.signup_at)
    cat: tuple[str, ...] = ()
    if "acquisition_channel" in c.columns:
        cols["channel"] = c.acquisition_channel.cast("string")
        cat = ("channel",)
    df = c.select(**cols).execute()
    df["_max_seen"] = pd.to_datetime(df["_max_seen"])
    return block("customers", df, cat)


BUILDERS: tuple[Callable, ...] = (customer_features, activity_features, order_features, event_features,
                                  device_features, ticket_features, survey_features, subscription_features,
                                  message_features)
"""Every feature builder; a builder whose table is missing returns ``None``."""


def slug(text: str) -> str:
    """A category as part of a feature name: lower case, ``_`` between words
    (letters of any script kept: ``배송 문의`` → ``배송_문의``)."""
    return re.sub(r"[\W_]+", "_", str(text).lower()).strip("_") or "x"


def check_no_leakage(blocks: list[FeatureBlock], cutoff: dt.date) -> None:
    """Fail loudly when a feature block read a row at or after ``cutoff``.

    Raises
    ------
    LeakageError
        Naming each block and the latest timestamp it read.
    """
    bound = pd.Timestamp(cutoff)
    bad = [b for b in blocks if b.max_seen is not None and b.max_seen >= bound]
    if bad:
        what = ", ".join(f"{b.name} (read a row at {b.max_seen})" for b in bad)
        raise LeakageError(f"features computed from data at or after the cutoff {cutoff}: {what}",
                           fix="build features from ds.table(name, until=cutoff) or filter rows before the cutoff")


def feature_blocks(ds, cutoff: dt.date, by: str = "activity", among: tuple[dt.date, ...] = ()) -> list[FeatureBlock]:
    """Every available feature block at ``cutoff``, checked for leakage;
    ``by`` is the activity rule of :func:`activity_features`, ``among`` the
    cutoffs whose device counts are read in one scan (:func:`device_features`)."""
    blocks = []
    for b in BUILDERS:
        if b is activity_features:
            blk = b(ds, cutoff, by)
        elif b is device_features:
            blk = b(ds, cutoff, among)
        else:
            blk = b(ds, cutoff)
        if blk is not None:
            blocks.append(blk)
    check_no_leakage(blocks, cutoff)
    return blocks


_ZERO_WHEN_ABSENT = re.compile(r"^(active_days|frequency|spend_|payment_failures|sessions_|feature_|pricing_views|"
                               r"tickets_|responses|sub_)")
"""Counts and amounts: a customer without rows in the block had none."""


def assemble(blocks: list[FeatureBlock]) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Join the blocks on ``customer_id`` (customers of any block). Counts
    and amounts missing for a customer are 0 (she had none); means,
    recencies and scores stay missing (the models handle them). Returns the
    frame and its categorical columns."""
    frames = [b.frame for b in blocks]
    if frames:
        # Align on integer codes of the ids rather than on the id strings:
        # on 800 k customers pandas' outer join of nine string indexes took
        # 8 s per cutoff, this takes 1. The ids are factorized as they come
        # (Arrow strings): made Python objects first, they took 0.9 s more.
        codes, ids = pd.factorize(pd.concat([pd.Series(f.index) for f in frames], ignore_index=True))
        rows, aligned, at = pd.RangeIndex(len(ids)), [], 0
        for f in frames:
            aligned.append(f.set_axis(codes[at:at + len(f)]).reindex(rows))
            at += len(f)
        df = pd.concat(aligned, axis=1).set_axis(pd.Index(ids, name="customer_id"))
    else:
        df = pd.DataFrame(index=pd.Index([], dtype=object, name="customer_id"))
    zero = [c for c in df.columns if _ZERO_WHEN_ABSENT.match(c)]
    df[zero] = df[zero].fillna(0)
    cats = tuple(c for b in blocks for c in b.categorical)
    return df, cats


def features_at(ds, cutoff: dt.date, cfg, among: tuple[dt.date, ...] = ()) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """:func:`assemble` of :func:`feature_blocks` at ``cutoff`` under the
    run's activity rule (``prediction.churn_label``); computed once per
    dataset, cutoff and rule (the three models share it) until
    :func:`forget_features`. ``among``: every cutoff the caller will ask
    for (see :func:`device_features`); it changes the cost, not the answer."""
    by = cfg.prediction.churn_label
    return ds.memo(_memo_key(cutoff, cfg), lambda: assemble(feature_blocks(ds, cutoff, by, among)))


def _memo_key(cutoff: dt.date, cfg) -> tuple:
    return ("prediction_features", cutoff, cfg.prediction.churn_label)


def forget_features(ds, cutoff: dt.date, cfg) -> None:
    """Let go of :func:`features_at`'s table at ``cutoff`` (a million
    customers' features take about half a gigabyte); asked again, it is
    computed again."""
    ds.forget(_memo_key(cutoff, cfg))


__all__ = ["LeakageError", "FeatureBlock", "block", "activity_features", "order_features", "event_features",
           "device_counts", "device_features", "ticket_features", "survey_features", "subscription_features", "message_features",
           "customer_features", "BUILDERS", "slug", "check_no_leakage", "feature_blocks", "assemble", "features_at",
           "forget_features"]
