"""Events-only clients: no orders table, so the loader derives orders from
``purchase`` events (paid) and ``payment_failed`` events (failed attempts),
with amounts from ``events.value`` when the events have one. 30_purchase
shows order counts, conversion and payment success, leaves the money KPIs
``null`` when amounts are unknown and says so in one sentence; 40_retention
counts the same purchases. The clickstream has a payment-failure spike in
October, which payment success must show.

The clickstream (period October 2026, comparison September):

- 40 buyers ``b0…b39``: a visit on Sep 1 09:00, a purchase on Sep 3 10:00
  and another on Oct 10 10:00 (value 100 in September, 120 in October);
  failed payments just before the purchase: b0, b1 in September (2),
  b0…b29 in October (30: the spike);
- 20 visitors ``n0…n19``: a visit on Sep 1 09:00, nothing else.
"""

from __future__ import annotations

import pandas as pd
import pytest

from journeykit import facts, report
from journeykit.core.periods import Period
from journeykit.sections.purchase import compute as P
from journeykit.sections.purchase import view as PV
from journeykit.sections.retention import compute as R
from journeykit.sections.retention import view as RV

OCT, SEP = Period(2026, 10), Period(2026, 9)


def clickstream(ids: str = "visitor", value: bool = False, spread: bool = False) -> pd.DataFrame:
    """The events above, keyed by ``visitor_id`` only (``ids="visitor"``) or
    by ``visitor_id`` and, for buyers, ``customer_id`` (``ids="both"``;
    the other visitors stay anonymous); with a ``value`` column or not.
    With ``spread``, buyer ``i`` pays on day ``3 + i % 20`` of September and
    day ``1 + i % 20`` of October instead (two buyers a day), so payment
    attempts fall on 20 days of each month."""
    rows = []
    for i in range(40):
        who = f"b{i}"
        sep, oct_ = (f"2026-09-{3 + i % 20:02d}", f"2026-10-{1 + i % 20:02d}") if spread else ("2026-09-03", "2026-10-10")
        rows.append((who, "2026-09-01 09:00:00", "visit", None))
        if i < 2:
            rows.append((who, f"{sep} 09:50:00", "payment_failed", None))
        rows.append((who, f"{sep} 10:00:00", "purchase", 100.0))
        if i < 30:
            rows.append((who, f"{oct_} 09:50:00", "payment_failed", None))
        rows.append((who, f"{oct_} 10:00:00", "purchase", 120.0))
    for i in range(20):
        rows.append((f"n{i}", "2026-09-01 09:00:00", "visit", None))
    df = pd.DataFrame(rows, columns=["visitor_id", "occurred_at", "event_type", "value"])
    if ids == "both":
        df.insert(0, "customer_id", [v.replace("b", "c") if v.startswith("b") else None for v in df["visitor_id"]])
    return df if value else df.drop(columns="value")


def test_orders_are_derived_without_amounts(make_dataset):
    ds = make_dataset({"events": clickstream()})
    t = ds.report.tables["orders"]
    assert t.status == "derived" and "amounts are unknown" in t.note
    assert not facts.has_amounts(ds) and facts.has_payment_status(ds) and P.orders_from_events(ds)
    m = P.metrics(ds, ds.cfg)
    # orders, payment success: every purchase event is an order, every payment_failed a failed attempt
    assert (m["orders"], m["orders_prev"]) == (40, 40)
    assert m["payment_success_rate"] == pytest.approx(40 / 70)          # the October spike
    assert m["payment_success_rate_prev"] == pytest.approx(40 / 42)
    # money KPIs are unknown: null, not zero
    for k in P.MONEY_KEYS:
        assert m[k] is None and m[f"{k}_prev"] is None, k
    # conversion: a visitor signs up at her first event (Sep 1); October's cohort is every visitor
    # first seen Sep 1 – Sep 30: 60, of whom the 40 buyers bought within 30 days
    assert P.signup_source(ds) == "first_seen"
    assert m["conversion_rate"] == pytest.approx(40 / 60) and m["conversion_cohort"] == 60
    assert m["conversion_rate_prev"] is None                            # nobody was first seen in August
    v = P.period_values(ds, ds.cfg, SEP)
    assert v["median_days_to_first_purchase"] == pytest.approx(2 + 1 / 24)   # Sep 1 09:00 → Sep 3 10:00
    assert (m["discount_order_share"], m["trial_to_paid_rate"]) == (None, None)


def test_payment_failure_spike_shows(make_dataset):
    # every attempt on one day of each month: one cluster each, the day-to-day noise is unknown
    one_day = make_dataset({"events": clickstream()})
    assert {c.key: c for c in P.changes(one_day, one_day.cfg)}["payment_success_rate"].verdict == "too_little_data"
    ds = make_dataset({"events": clickstream(spread=True)})
    ch = {c.key: c for c in P.changes(ds, ds.cfg)}
    pay = ch["payment_success_rate"]
    # 40 of 70 attempts on 20 October days against 40 of 42 on 20 September days
    assert (pay.extra["x"], pay.n, pay.extra["x_prev"], pay.n_prev) == (40, 70, 40, 42)
    assert (pay.extra["clusters"], pay.extra["clusters_prev"]) == (20, 20)
    assert pay.verdict == "significant" and pay.direction == "down" and pay.good is False
    # the advice follows the verdict, in the key figures (so a report run words it again)
    tips = report.advise(list(ch.values()), PV.labels(ds.cfg), PV.KINDS, ds.cfg, P.advice(ds.cfg))
    assert tips[0].startswith("Payment success fell significantly (−38.1 pp)")
    assert not any("Payment success" in s for s in PV.next_steps(ds, ds.cfg))
    assert P.monthly(ds, ds.cfg)["payment_success_rate"].round(3).tolist() == [0.952, 0.571]


def test_purchase_view_without_amounts(make_dataset):
    ds = make_dataset({"events": clickstream()})
    cfg = ds.cfg
    # one sentence says where orders come from and that amounts are unknown
    assert PV.caveats(ds, cfg).sentences == [
        "There is no orders table: orders are the client's purchase events and failed payment attempts its "
        "payment_failed events; the events carry no amount, so revenue, order value and repeat-revenue share "
        "are not measured.",
        "There is no customers table: a customer's signup is taken as the first time she was seen (her first "
        "event or order)."]
    kpis = list(report.kpi_table(P.changes(ds, cfg), PV.labels(cfg), PV.KINDS, cfg).df.iloc[:, 0])
    assert kpis == ["Orders", "First-purchase conversion (30 days)", "Payment success rate",
                    "Days from signup to first purchase (median)"]
    # the trend draws no money panel
    fig = PV.trend_chart(ds, cfg)
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert "Revenue" not in titles and "Average order value" not in titles and "Orders" in titles
    # first and repeat orders: counts and shares only
    t = PV.first_and_repeat(ds, cfg)
    assert list(t.df.columns) == ["Order type", "Orders", "Share of orders"]
    assert t.df["Orders"].tolist() == [0, 40]                           # every October order is a repeat
    assert "Repeat orders were 100.0% of orders (40 of 40)." in PV.insights(ds, cfg)
    # the events have no device or channel: one line each, the money sentence nowhere
    assert repr(PV.payments(ds, cfg)) == "The purchase events carry no device: no breakdown by device."
    assert repr(PV.channels(ds, cfg)) == "The purchase events carry no channel: no breakdown by channel."
    assert not any("₩" in s for s in PV.insights(ds, cfg) + PV.next_steps(ds, cfg))


def test_amounts_from_event_values(make_dataset):
    ds = make_dataset({"events": clickstream(ids="both", value=True)})
    assert facts.has_amounts(ds) and "amounts from the events' value" in ds.report.tables["orders"].note
    m = P.metrics(ds, ds.cfg)
    assert (m["orders"], m["revenue"], m["aov"]) == (40, pytest.approx(4800.0), pytest.approx(120.0))
    assert (m["revenue_prev"], m["aov_prev"]) == (pytest.approx(4000.0), pytest.approx(100.0))
    assert m["repeat_revenue_share"] == 1.0 and m["repeat_revenue_share_prev"] == 0.0
    assert m["payment_success_rate"] == pytest.approx(40 / 70)
    # customer ids: the anonymous visitors are no customers; buyers sign up at their first event (the visit)
    assert m["conversion_rate"] == 1.0 and m["conversion_cohort"] == 40
    assert PV.caveats(ds, ds.cfg).sentences[0].endswith("amounts come from the events' value.")


@pytest.mark.parametrize("ids", ["visitor", "both"])
def test_retention_counts_the_same_purchases(make_dataset, ids):
    ds = make_dataset({"events": clickstream(ids=ids)})
    cfg = ds.cfg
    # every October buyer bought in September too
    assert R.repeat_purchase(ds, cfg, OCT) == (40, 40) and R.repeat_purchase(ds, cfg, SEP) == (0, 40)
    ip = R.inter_purchase(ds, cfg, OCT)
    assert ip["n"] == 40 and ip["mean"] == pytest.approx(37.0)          # Sep 3 → Oct 10
    # activity: the buyers (their failed attempts too); anonymous visits are not activity
    assert R.mau(ds, cfg, OCT) == 40
    m = R.metrics(ds, cfg)
    assert m["repeat_purchase_rate"] == 1.0 and m["repeat_purchase_rate_prev"] == 0.0
    # purchase cohorts: signed up (first seen) in September, 40 of them, all buying in both months
    c = R.cohort_matrix(ds, cfg, by="purchase", months=2)
    assert c["size"].tolist() == [40] and c[0].tolist() == [1.0] and c[1].tolist() == [1.0]
    assert R.orders_from_events(ds)
    blocks = RV.purchases(ds, cfg).blocks
    assert repr(blocks[1]) == "There is no orders table: purchases are the client's purchase events."
    # no subscriptions, tickets or acquisition channel: one line each; no money anywhere
    assert repr(RV.subscriptions(ds, cfg)).startswith("Not available: needs table")
    assert m["mrr_churn"] is None and m["renewal_rate"] is None


@pytest.mark.parametrize("ids, value", [("visitor", False), ("both", True)])
def test_every_cell_runs(make_dataset, ids, value):
    """Every cell of both notebooks, as they call them, on an events-only
    client; no note is shown twice in a notebook."""
    import json

    ds = make_dataset({"events": clickstream(ids=ids, value=value)})
    cfg = ds.cfg
    pc, rc = P.changes(ds, cfg), R.changes(ds, cfg)
    purchase = [report.key_figures(pc, PV.labels(cfg), PV.KINDS, cfg), PV.caveats(ds, cfg),
                report.Narrative(PV.insights(ds, cfg)), PV.trend_chart(ds, cfg), PV.days_chart(ds, cfg),
                PV.payments(ds, cfg), PV.payment_failure_chart(ds, cfg), PV.discounts(ds, cfg), PV.channels(ds, cfg),
                PV.first_and_repeat(ds, cfg), PV.trials(ds, cfg), report.Narrative(PV.next_steps(ds, cfg, pc))]
    retention = [report.key_figures(rc, RV.labels(cfg), RV.KINDS, cfg), report.narrative(RV.insights(ds, cfg)),
                 RV.trend_chart(ds, cfg), RV.cohorts(ds, cfg), RV.cohorts(ds, cfg, by="purchase"),
                 RV.lifecycle_chart(R.lifecycle(ds, cfg), cfg), RV.lifecycle_table(R.lifecycle(ds, cfg), cfg),
                 RV.usage(ds, cfg), RV.purchases(ds, cfg), RV.churn_by_channel(ds, cfg), RV.subscriptions(ds, cfg),
                 RV.support(ds, cfg), report.Narrative(RV.next_steps(ds, cfg, rc))]
    for cells in (purchase, retention):
        notes = [line for c in cells if isinstance(c, (report.Note, report.Blocks))
                 for line in repr(c).split("\n\n") if not isinstance(c, report.Blocks) or line]
        notes = [n for n in notes if len(n.splitlines()) == 1]          # one-line notes, not tables
        assert len(notes) == len(set(notes)), notes
    json.dumps(report.jsonable(P.metrics(ds, cfg, pc)))
    json.dumps(R.metrics(ds, cfg, rc))


def test_payment_success_is_not_tracked_without_any_payment_failed_event(make_dataset):
    """Regression (the same pattern as an untracked pricing-view rate): an
    events-only client that never sends ``payment_failed`` got a payment
    success rate of 100 %. Without a single failure event, failures are not
    tracked: no payment status, and the rate is null (not shown)."""
    ev = clickstream()
    ds = make_dataset({"events": ev[ev.event_type != "payment_failed"]})
    assert not facts.has_payment_status(ds)
    assert "payment_status" not in ds.report.tables["orders"].columns
    m = P.metrics(ds, ds.cfg)
    assert (m["orders"], m["orders_prev"]) == (40, 40)
    assert m["payment_success_rate"] is None and m["payment_success_rate_prev"] is None
    kpis = list(report.kpi_table(P.changes(ds, ds.cfg), PV.labels(ds.cfg), PV.KINDS, ds.cfg).df.iloc[:, 0])
    assert "Payment success rate" not in kpis


def test_data_quality_counts_the_derived_orders_with_and_without_failed_payments(make_dataset):
    # regression: an events-only client without any payment_failed event has no derived payment status,
    # and 00_data_quality failed with "'Table' object has no attribute 'payment_status'"
    from journeykit.sections.data_quality import compute as DQ
    from journeykit.sections.data_quality import view as DQV

    ds = make_dataset({"events": clickstream()})
    assert DQ.derived_orders(ds) == {"paid": 80, "failed": 32, "with_amounts": False}
    events = clickstream(value=True)
    ds = make_dataset({"events": events[events["event_type"] != "payment_failed"]})
    assert DQ.derived_orders(ds) == {"paid": 80, "failed": None, "with_amounts": True}
    text = DQV.coverage_view(ds)._repr_html_()
    assert "the 80 purchase events are taken as orders" in text and "payment success is not measured" in text
