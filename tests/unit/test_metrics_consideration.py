"""journeykit.sections.consideration (compute and view) on a hand-built event
log (every expected value worked out in the comments), on event logs of
other shapes (equal and out-of-order timestamps, one identity column, no
session_id, device, channel, duration_s or page), and on the tiny demo data
against the generator's PARAMS["consideration"]."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from journeykit import demo, report
from journeykit.core.periods import Period
from journeykit.sections.consideration import compute as cons
from journeykit.sections.consideration import view as cons_view
from journeykit.sections.registry import require
from journeykit.stats import compare
from test_metrics_awareness import recorded_metrics, run_notebook

OCT, SEP = Period(2026, 10), Period(2026, 9)
COLS = ["occurred_at", "event_type", "customer_id", "visitor_id", "session_id", "device", "channel", "page",
        "duration_s"]


def ev(t, typ, cust, vis, sid, dev, chan, page=None, dur=None):
    return [t, typ, cust, vis, sid, dev, chan, page, dur]


EVENTS = pd.DataFrame([
    # --- October -------------------------------------------------------
    # s1: c1 on desktop goes all the way.      pages 4, dwell 60+20+30 = 110
    ev("2026-10-01 10:00:00", "visit", "c1", "k1", "s1", "desktop", "search", "/"),
    ev("2026-10-01 10:02:00", "product_view", "c1", "k1", "s1", "desktop", "search", "/p/a", 60),
    ev("2026-10-01 10:03:00", "add_to_cart", "c1", "k1", "s1", "desktop", "search", "/cart", 20),
    ev("2026-10-01 10:04:00", "checkout_start", "c1", "k1", "s1", "desktop", "search", "/checkout", 30),
    ev("2026-10-01 10:05:00", "purchase", "c1", "k1", "s1", "desktop", "search"),
    # s2: anonymous v2 on mobile views a product and the pricing page.  pages 3, dwell 40+10 = 50
    ev("2026-10-02 10:00:00", "visit", None, "v2", "s2", "mobile", "social", "/"),
    ev("2026-10-02 10:01:00", "product_view", None, "v2", "s2", "mobile", "social", "/p/b", 40),
    ev("2026-10-02 10:02:00", "pricing_view", None, "v2", "s2", "mobile", "social", "/pricing", 10),
    # s3: v3 on mobile adds to cart BEFORE viewing a product: the cart step is out of order,
    # so s3 reaches visit and product view only.  pages 3, dwell 5+15 = 20
    ev("2026-10-03 12:00:00", "visit", None, "v3", "s3", "mobile", "social", "/"),
    ev("2026-10-03 12:00:30", "add_to_cart", None, "v3", "s3", "mobile", "social", "/cart", 5),
    ev("2026-10-03 12:01:00", "product_view", None, "v3", "s3", "mobile", "social", "/p/c", 15),
    # s4: c1 again, desktop, only browses.      pages 2, dwell 100
    ev("2026-10-20 08:00:00", "visit", "c1", "k1", "s4", "desktop", "email", "/"),
    ev("2026-10-20 08:01:00", "page_view", "c1", "k1", "s4", "desktop", "email", "/menu", 100),
    # s5: c4's app session has no visit event: not a visit, not in any KPI
    ev("2026-10-05 09:00:00", "login", "c4", "k4", "s5", "mobile", "push"),
    ev("2026-10-05 09:01:00", "feature_use", "c4", "k4", "s5", "mobile", "push"),
    # s6a / s6b: c6 views a product on 10-10 and comes back on 10-12 to add it to the cart and check out.
    # Session rule: s6a reaches product view, s6b only the visit (no product view in s6b).
    # Days rule (7 days): c6 reaches checkout (cart on 10-12 is within 7 days of the 10-10 entry).
    ev("2026-10-10 09:00:00", "visit", "c6", "k6", "s6a", "desktop", "search", "/"),          # pages 2, dwell 20
    ev("2026-10-10 09:01:00", "product_view", "c6", "k6", "s6a", "desktop", "search", "/p/a", 20),
    ev("2026-10-12 09:00:00", "visit", "c6", "k6", "s6b", "desktop", "direct", "/"),          # pages 3, dwell 20
    ev("2026-10-12 09:01:00", "add_to_cart", "c6", "k6", "s6b", "desktop", "direct", "/cart", 10),
    ev("2026-10-12 09:02:00", "checkout_start", "c6", "k6", "s6b", "desktop", "direct", "/checkout", 10),
    # --- September -----------------------------------------------------
    # p1: c1 views a product.  pages 2, dwell 10
    ev("2026-09-10 10:00:00", "visit", "c1", "k1", "p1", "desktop", "search", "/"),
    ev("2026-09-10 10:01:00", "product_view", "c1", "k1", "p1", "desktop", "search", "/p/a", 10),
    # p2: v5 bounces.  pages 1, no duration
    ev("2026-09-11 10:00:00", "visit", None, "v5", "p2", "mobile", "social", "/"),
], columns=COLS)
# October: 6 visits (s1, s2, s3, s4, s6a, s6b; s5 has no visit event)
#   product view: s1, s2, s3, s6a = 4 → 4/6;  add to cart (in order): s1 = 1 → 1/6
#   checkout: s1 → 1/6;  pricing: s2 → 1/6
#   pages: 4, 3, 3, 2, 2, 3 → 17/6 = 2.8333;  dwell: 110, 50, 20, 100, 20, 20 → 320/6 = 53.333 s
# September: 2 visits; product view p1 → 1/2; no cart, checkout, pricing; pages (2+1)/2 = 1.5;
#   dwell: only p1 reports durations → 10 s


@pytest.fixture
def ds(make_dataset):
    return make_dataset({"events": EVENTS})


def test_visit_kpis_by_hand(ds):
    assert cons.sessions(ds, OCT) == 6
    assert cons.product_view_rate(ds, OCT) == pytest.approx(4 / 6)
    assert cons.add_to_cart_rate(ds, OCT) == pytest.approx(1 / 6)      # s3's cart came before its product view
    assert cons.checkout_rate(ds, OCT) == pytest.approx(1 / 6)
    assert cons.pricing_view_rate(ds, OCT) == pytest.approx(1 / 6)
    assert cons.pages_per_session(ds, OCT) == pytest.approx(17 / 6)
    assert cons.dwell_time(ds, OCT) == pytest.approx(320 / 6)
    assert cons.sessions(ds, SEP) == 2
    assert cons.product_view_rate(ds, SEP) == pytest.approx(0.5)
    assert cons.add_to_cart_rate(ds, SEP) == 0.0
    assert cons.pages_per_session(ds, SEP) == pytest.approx(1.5)
    assert cons.dwell_time(ds, SEP) == pytest.approx(10.0)            # p2 has no durations: not averaged in


def test_funnel_within_a_session(ds):
    f = cons.funnel(ds, OCT)
    # users: c1 (s1, s4), v2, v3, c6 → 4 visit; all four view a product (s1, s2, s3, s6a);
    # cart / checkout / purchase: c1 only (v3 out of order, c6's cart is in a session without a product view)
    assert f.step.tolist() == list(cons.STEPS)
    assert f.users.tolist() == [4, 4, 1, 1, 1]
    assert f.conversion_from_previous.tolist()[1:] == pytest.approx([1.0, 0.25, 1.0, 1.0])
    assert math.isnan(f.conversion_from_previous.iloc[0])
    assert cons.funnel_records(f)[2] == {"step": "add_to_cart", "users": 1, "conversion_from_previous": 0.25}
    assert cons.funnel_records(f)[0]["conversion_from_previous"] is None


def test_funnel_within_days_is_a_client_setting(make_dataset):
    ds7 = make_dataset({"events": EVENTS}, definitions={"funnel_window": "days", "funnel_window_days": 7})
    # c6 now reaches cart and checkout (10-12 is within 7 days of her 10-10 entry); c1 as before;
    # v3's cart is still before her product view
    assert cons.funnel(ds7, OCT).users.tolist() == [4, 4, 2, 2, 1]
    assert cons.funnel(ds7, OCT).conversion_from_previous.tolist()[1:] == pytest.approx([1.0, 0.5, 1.0, 0.5])
    ds1 = make_dataset({"events": EVENTS}, definitions={"funnel_window": "days", "funnel_window_days": 1})
    # one day: c6's cart (10-12 09:01) is after her deadline (10-11 09:00)
    assert cons.funnel(ds1, OCT).users.tolist() == [4, 4, 1, 1, 1]


# --------------------------------------------------------------------------
# The funnel's rule on time: timestamps, not rows; ties in order
# --------------------------------------------------------------------------

def _journey(sid, user, stamps):
    """One session's events: (time, event type) pairs, all on desktop."""
    return [ev(f"2026-10-{t}", typ, None, user, sid, "desktop", "search", "/x") for t, typ in stamps]


def test_funnel_counts_steps_with_equal_timestamps_as_in_order(make_dataset):
    """Exports with whole-second timestamps log several steps in one second:
    they reach each step (PostHog's funnel also takes equal timestamps in
    step order). The rows are listed purchase first."""
    rows = _journey("e1", "u1", [("05 10:00:00", "purchase"), ("05 10:00:00", "checkout_start"),
                                 ("05 10:00:00", "add_to_cart"), ("05 10:00:00", "product_view"),
                                 ("05 10:00:00", "visit")])
    # e2: the view and the cart share a second after the visit; checkout is a second before the cart
    rows += _journey("e2", "u2", [("06 09:00:00", "visit"), ("06 09:00:07", "add_to_cart"),
                                  ("06 09:00:07", "product_view"), ("06 09:00:06", "checkout_start")])
    ds = make_dataset({"events": pd.DataFrame(rows, columns=COLS)})
    # e1 reaches every step; e2 reaches view and cart (same second), not checkout (strictly earlier)
    assert cons.funnel(ds, OCT).users.tolist() == [2, 2, 2, 1, 1]
    days = make_dataset({"events": pd.DataFrame(rows, columns=COLS)}, definitions={"funnel_window": "days"})
    assert cons.funnel(days, OCT).users.tolist() == [2, 2, 2, 1, 1]


def test_funnel_reads_timestamps_not_row_order(make_dataset):
    """Clickstream exports list the events of one session out of timestamp
    order: the same events in any row order give the same numbers."""
    shuffled = EVENTS.sample(frac=1.0, random_state=3).reset_index(drop=True)
    assert shuffled.occurred_at.tolist() != EVENTS.occurred_at.tolist()
    for frame in (shuffled, EVENTS.iloc[::-1]):
        ds = make_dataset({"events": frame})
        assert cons.funnel(ds, OCT).users.tolist() == [4, 4, 1, 1, 1]
        assert cons.sessions(ds, OCT) == 6 and cons.add_to_cart_rate(ds, OCT) == pytest.approx(1 / 6)
        assert cons.step_conversion_by(ds, OCT, "device", ds.cfg.updated(
            definitions={"min_group_size": 1, "k_anonymity": 1})).set_index("device").journeys.to_dict() == {
            "desktop": 4, "mobile": 2}


def test_a_visit_event_stamped_after_the_first_page_still_starts_the_visit(make_dataset):
    """Regression: a session whose visit event is stamped a moment after its
    first product view (clock skew between trackers) lost that product view
    and every step after it: the visit began at its visit event."""
    rows = _journey("k1", "u1", [("07 10:00:00", "page_view"), ("07 10:00:05", "product_view"),
                                 ("07 10:00:09", "visit"), ("07 10:00:20", "add_to_cart")])
    ds = make_dataset({"events": pd.DataFrame(rows, columns=COLS)})
    assert cons.funnel(ds, OCT).users.tolist() == [1, 1, 1, 0, 0]
    assert cons.product_view_rate(ds, OCT) == 1.0


def test_the_funnel_follows_a_changed_setting_on_the_same_dataset(ds):
    """The memo keys on the settings: the funnel, its breakdown and the
    changes follow ``cfg.updated(...)`` on the same dataset."""
    assert cons.funnel(ds, OCT, ds.cfg).users.tolist() == [4, 4, 1, 1, 1]
    days = ds.cfg.updated(definitions={"funnel_window": "days", "funnel_window_days": 7})
    assert cons.funnel(ds, OCT, days).users.tolist() == [4, 4, 2, 2, 1]
    assert cons.funnel(ds, OCT, ds.cfg).users.tolist() == [4, 4, 1, 1, 1]
    by = cons.step_conversion_by(ds, OCT, "device", days.updated(definitions={"min_group_size": 1, "k_anonymity": 1}))
    assert by.set_index("device").journeys.to_dict() == {"desktop": 2, "mobile": 2}     # users c1, c6 | v2, v3
    ch = {c.key: c for c in cons.changes(ds, days)}
    assert ch["visit_to_purchase"].value == pytest.approx(1 / 4)


def test_the_periods_visits_are_built_once_for_the_whole_section(ds, monkeypatch):
    """The period's daily figures, funnel, breakdowns and browsing rate read
    one build of its visits, and the previous period's figures and funnel
    one of theirs; the figures are those computed one by one."""
    alone = (cons.funnel(ds, OCT).users.tolist(), cons.sessions(ds, OCT), cons.add_to_cart_rate(ds, SEP))
    ds._memo.clear()  # forget what the figures above computed
    built = []
    real = cons.session_table

    def counted(d, start, end, steps=True):
        built.append((start, end))
        return real(d, start, end, steps)

    monkeypatch.setattr(cons, "session_table", counted)
    c = cons.compute(ds, ds.cfg)
    assert built.count((OCT.start, OCT.end)) == 1 and built.count((SEP.start, SEP.end)) == 1
    assert (c.funnel.users.tolist(), cons.sessions(ds, OCT), cons.add_to_cart_rate(ds, SEP)) == alone
    assert c.by_device is not None and c.browse_cart is not None


# --------------------------------------------------------------------------
# Event logs of other shapes
# --------------------------------------------------------------------------

def _shown(c: cons.Consideration, cfg) -> str:
    """Every output of the notebook's view cells, as text (figures left out)."""
    parts = [report.key_figures(c.changes, cons_view.labels(cfg), cons_view.KINDS, cfg), cons_view.data_note(c.notes, cfg),
             report.narrative(cons_view.insights(c.funnel, c.by_device, cfg)), cons_view.funnel_rule(cfg),
             cons_view.funnel_chart(c.funnel, cfg), cons_view.funnel_table(c.funnel, cfg),
             cons_view.breakdown_table(c.by_device, "device", c.notes, cfg),
             cons_view.cart_by_device_chart(c.browse_cart, cfg),
             cons_view.breakdown_table(c.by_channel, "channel", c.notes, cfg),
             cons_view.first_purchase_view(c.first_purchase_days, c.notes, cfg), cons_view.trend(c.monthly, cfg),
             report.Narrative(cons_view.next_steps(c.funnel, c.by_device, cfg))]
    return "\n".join(repr(p) for p in parts if p is not None and not hasattr(p, "savefig"))


@pytest.mark.parametrize("drop, notes", [
    (["customer_id"], ["no_first_purchase"]),
    (["visitor_id"], []),
    (["session_id"], ["user_day_sessions"]),
    (["device", "channel", "duration_s", "page"], ["page_types", "no_duration", "no_device", "no_channel"]),
])
def test_event_logs_of_other_shapes(make_dataset, drop, notes):
    events = EVENTS.drop(columns=drop)
    if "customer_id" in drop:
        events = events.assign(visitor_id=EVENTS.visitor_id)
    if "visitor_id" in drop:
        events = events.assign(customer_id=EVENTS.customer_id.fillna(EVENTS.visitor_id))  # anonymous rows keep an id
    ds = make_dataset({"events": events})
    c = cons.compute(ds, ds.cfg)
    assert c.notes == notes
    assert c.funnel.users.iloc[0] == 4 and cons.sessions(ds, OCT) == 6
    text = _shown(c, ds.cfg)
    for key in notes:                                     # each reason said once
        assert text.count(repr(cons_view.data_note(notes, ds.cfg, key))) == 1, key
    m = cons.metrics(ds, ds.cfg)
    assert m["sessions"] == 6 and ("dwell_s" in m) == ("duration_s" not in drop)
    assert ("days_to_first_purchase" in m) == ("customer_id" not in drop)


def test_only_visitor_ids_without_sessions_or_visit_events(make_dataset):
    """The barest clickstream: visitor ids, timestamps, event types."""
    bare = EVENTS[["occurred_at", "event_type", "visitor_id"]]
    bare = bare[bare.event_type != "visit"]
    ds = make_dataset({"events": bare})
    c = cons.compute(ds, ds.cfg)
    assert c.notes == ["no_visit_events", "user_day_sessions", "page_types", "no_duration", "no_device",
                       "no_channel", "no_first_purchase"]
    # sessions: user-days with any event. October: k1 10-01, v2 10-02, v3 10-03, k1 10-20, k4 10-05,
    # k6 10-10, k6 10-12 = 7; product views in k1 10-01, v2, v3, k6 10-10 = 4
    assert cons.sessions(ds, OCT) == 7 and cons.product_view_rate(ds, OCT) == pytest.approx(4 / 7)
    assert c.by_device is None and c.browse_cart is None and c.first_purchase_days.empty
    assert "dwell_s" not in c.monthly.columns or c.monthly.dwell_s.isna().all()
    shown = _shown(c, ds.cfg)
    assert shown.count("every session counts as a visit") == 1


def test_the_notebook_runs_on_a_bare_clickstream(make_dataset, tmp_path):
    """The real notebook, in a kernel, on events with visitor ids only, no
    session_id, device, channel, duration_s or page, rows out of order."""
    bare = EVENTS[["occurred_at", "event_type", "visitor_id"]].iloc[::-1]
    ds = make_dataset({"events": bare})
    recorded = recorded_metrics(run_notebook("20_consideration", ds, tmp_path))
    assert recorded["sessions"] == 6 and [s["users"] for s in recorded["funnel"]] == [4, 4, 1, 1, 1]
    assert recorded["dwell_s"] is None if "dwell_s" in recorded else True


def test_breakdown_by_device_folds_small_groups(make_dataset):
    ds = make_dataset({"events": EVENTS}, definitions={"min_group_size": 3, "k_anonymity": 1})
    df = cons.step_conversion_by(ds, OCT, "device")
    # desktop: s1, s4, s6a, s6b = 4 visits (kept); product view s1, s6a = 2 → 0.5; cart s1 → 1/2;
    #          checkout 1/1; purchase 1/1
    # mobile: s2, s3 = 2 visits < 3 → folded into "other": product view 2/2; cart 0/2; checkout 0/0 → None
    assert df.device.tolist() == ["desktop", cons.OTHER]
    d, o = df.iloc[0], df.iloc[1]
    assert d.journeys == 4 and d.product_view_rate == pytest.approx(0.5)
    assert d.add_to_cart_rate == pytest.approx(0.5) and d.checkout_start_rate == 1.0 and d.purchase_rate == 1.0
    assert o.journeys == 2 and o.product_view_rate == 1.0 and o.add_to_cart_rate == 0.0
    assert pd.isna(o.checkout_start_rate)          # 0 of 0: no rate
    # default minimum (30): everything is "other"
    assert cons.step_conversion_by(ds, OCT, "channel", ds.cfg.updated(
        definitions={"min_group_size": 30})).channel.tolist() == [cons.OTHER]


def test_breakdown_without_the_column_is_none(make_dataset):
    ds = make_dataset({"events": EVENTS.drop(columns=["device"])})
    assert cons.step_conversion_by(ds, OCT, "device") is None
    assert cons.browse_cart_rate_by_device(ds, OCT.start, OCT.end) is None
    notes = cons.data_notes(ds)
    assert notes == ["no_device"]
    assert repr(cons_view.breakdown_table(None, "device", notes, ds.cfg)) == (
        "Drop-off by device is not shown: the events have no device column.")
    assert cons_view.cart_by_device_chart(None, ds.cfg) is None         # said once, by the table


def test_without_session_id_a_session_is_a_user_day(make_dataset):
    ds = make_dataset({"events": EVENTS.drop(columns=["session_id"])})
    # user-days with a visit in October: c1 10-01, v2 10-02, v3 10-03, c1 10-20, c6 10-10, c6 10-12 → 6
    assert cons.sessions(ds, OCT) == 6


def test_changes_and_their_verdicts(ds, make_dataset):
    ch = {c.key: c for c in cons.changes(ds, ds.cfg)}
    assert ch["sessions"].value == 6 and ch["sessions"].prev == 2 and ch["sessions"].kind == "count"
    assert ch["product_view_rate"].value == pytest.approx(4 / 6) and ch["product_view_rate"].prev == pytest.approx(0.5)
    # every change rests on fewer than min_sample_size (30) visits
    # every tested KPI has too little data; the median days to first purchase has no test
    assert {c.verdict for k, c in ch.items() if k != "days_to_first_purchase"} == {"too_little_data"}
    assert ch["days_to_first_purchase"].verdict == "untested"
    small = make_dataset({"events": EVENTS}, definitions={"min_sample_size": 1})
    sc = {c.key: c for c in cons.changes(small, small.cfg)}
    # visits cluster within days: September's 2 visits fall on 2 days, too few to estimate the
    # day-to-day noise (3 days needed), whatever min_sample_size says
    pv = sc["product_view_rate"]
    assert pv.extra["clusters_prev"] == 2 and pv.verdict == "too_little_data" and pv.p_value is None
    # the daily figures: October 1st has c1's visit with a product view (s1) …
    d = cons.daily_stats(small, OCT.start, OCT.end)
    assert len(d) == 31 and d.sessions.sum() == 6 and d.product_view.sum() == 4


def test_a_real_change_is_significant(make_dataset):
    rows = []
    for i in range(60):   # October: 60 visits, all view a product; September: 60 visits, none does
        rows.append(ev(f"2026-10-{1 + i % 28:02d} 10:00:00", "visit", None, f"a{i}", f"o{i}", "mobile", "search", "/"))
        rows.append(ev(f"2026-10-{1 + i % 28:02d} 10:01:00", "product_view", None, f"a{i}", f"o{i}", "mobile", "search", "/p"))
        rows.append(ev(f"2026-09-{1 + i % 28:02d} 10:00:00", "visit", None, f"b{i}", f"q{i}", "mobile", "search", "/"))
    ds = make_dataset({"events": pd.DataFrame(rows, columns=COLS)})
    ch = {c.key: c for c in cons.changes(ds, ds.cfg)}
    assert ch["product_view_rate"].verdict == "significant" and ch["product_view_rate"].good is True
    assert ch["sessions"].verdict == "not_significant"    # 60 vs 60 visits


def test_monthly_starts_with_the_first_month_of_events(ds, make_dataset):
    """Regression: the trend showed the ten months before the events start
    (2026-09-10) as zero visits."""
    m = cons.monthly(ds, ds.cfg)
    assert m.month.tolist() == [pd.Timestamp("2026-09-01"), pd.Timestamp("2026-10-01")]
    assert m.sessions.tolist() == [2, 6]
    assert m.product_view_rate.tolist() == pytest.approx([0.5, 4 / 6])
    # a month without visits inside the data stays a gap: events in July and October
    july = EVENTS.assign(occurred_at=EVENTS.occurred_at.str.replace("2026-09-", "2026-07-"))
    gap = make_dataset({"events": july})
    g = cons.monthly(gap, gap.cfg)
    assert g.month.dt.month.tolist() == [7, 8, 9, 10] and g.sessions.tolist() == [2, 0, 0, 6]
    assert math.isnan(g.product_view_rate.iloc[1])        # no visits: a gap, not 0


def test_metrics_keys_are_stable(ds):
    m = cons.metrics(ds, ds.cfg)
    for key in cons.STABLE_KEYS:
        assert key in m and f"{key}_prev" in m
    assert m["sessions"] == 6 and m["sessions_prev"] == 2
    assert m["funnel"][-1] == {"step": "purchase", "users": 1, "conversion_from_previous": 1.0}
    assert m["funnel_prev"][0] == {"step": "visit", "users": 2, "conversion_from_previous": None}


def test_not_available_without_events(make_dataset):
    ds = make_dataset({"orders": pd.DataFrame({"customer_id": ["c1"], "ordered_at": ["2026-10-01"], "amount": [10.0]})})
    m = cons.metrics(ds, ds.cfg)
    assert set(m) == {k for key in cons.STABLE_KEYS for k in (key, f"{key}_prev")}
    assert all(v is None for v in m.values())
    from journeykit.core.errors import SectionNotAvailable
    with pytest.raises(SectionNotAvailable, match="events"):
        require(ds.cfg, ds, "20_consideration")


def _funnel_frame(users):
    conv = [None] + [users[i] / users[i - 1] if users[i - 1] else None for i in range(1, 5)]
    return pd.DataFrame({"step": list(cons.STEPS), "users": users, "conversion_from_previous": conv,
                         "conversion_from_visit": [u / users[0] if users[0] else None for u in users]})


BY_DEVICE = pd.DataFrame({"device": ["desktop", "mobile"], "journeys": [1000, 2000],
                          "visit": [1000, 2000], "product_view": [500, 1000], "add_to_cart": [150, 200],
                          "checkout_start": [100, 100], "purchase": [90, 80],
                          "product_view_rate": [0.5, 0.5], "add_to_cart_rate": [0.30, 0.20],
                          "checkout_start_rate": [100 / 150, 0.5], "purchase_rate": [0.9, 0.8]})


def test_generated_sentences_en_and_ko(ds):
    f = _funnel_frame([1000, 500, 100, 80, 60])    # conversions 50%, 20%, 80%, 75%: worst is view → cart
    en = cons_view.insights(f, BY_DEVICE, ds.cfg)
    # device gaps: view → cart 30% vs 20% = 10 pp; cart → checkout 66.7% (100/150) vs 50% (100/200)
    # = 16.7 pp, the widest (z = 3.1, p = 0.002: significant); checkout → purchase 90% vs 80% = 10 pp
    assert en == ["The largest drop-off is from Product view to Add to cart: 20.0% of users go on (80.0% do not).",
                  "From Add to cart to Checkout, mobile converts worst (50.0%) and desktop best (66.7%)."]
    ko_cfg = ds.cfg.updated(language="ko")
    ko = cons_view.insights(f, BY_DEVICE, ko_cfg)
    assert ko[0] == "가장 큰 이탈은 상품 조회 → 장바구니 구간입니다: 20.0%만 다음 단계로 넘어갑니다 (80.0% 이탈)."
    assert ko[1] == "장바구니 → 결제 시작 전환은 mobile에서 가장 낮고 (50.0%) desktop에서 가장 높습니다 (66.7%)."
    # next steps: half the 16.7 pp gap on mobile's 200 carts = 200 · 0.1667 / 2 = 16.7 → "17" more checkout visits
    nxt = cons_view.next_steps(f, BY_DEVICE, ds.cfg)
    assert nxt == ["Look at the Add to cart step on mobile: 50.0% of visits go on, against 66.7% on desktop. "
                   "Closing half that gap would add about 17 Checkout visits a month."]
    # the same gap on a tenth of the visits (15 and 20 carts) is not significant: no device sentence
    tenth = BY_DEVICE.assign(**{c: BY_DEVICE[c] // 10 for c in ["visit", "product_view", "add_to_cart",
                                                               "checkout_start", "purchase"]})
    assert len(cons_view.insights(f, tenth, ds.cfg)) == 1
    assert cons_view.next_steps(f, BY_DEVICE, ko_cfg)[0].startswith("mobile의 장바구니 단계를 살펴보세요")
    # no device gap: the biggest drop-off instead; nothing at all: "nothing stands out"
    assert cons_view.next_steps(f, None, ds.cfg) == ["The biggest leak is between Product view and Add to cart; "
                                                     "test changes on that page first."]
    # the folded and unknown devices are not compared
    assert len(cons_view.insights(f, BY_DEVICE.assign(device=[cons.OTHER, cons.UNKNOWN]), ds.cfg)) == 1
    # no visits: the chart says so once, the sentences and the table stay silent
    empty = _funnel_frame([0, 0, 0, 0, 0])
    assert cons_view.next_steps(empty, None, ds.cfg) == [
        "No step or device stands out this month; keep watching the funnel trend."]
    assert cons_view.insights(empty, None, ds.cfg) == [] and cons_view.funnel_table(empty, ds.cfg) is None
    assert repr(cons_view.funnel_chart(empty, ds.cfg)) == "No visits in this period, so the funnel cannot be drawn."


def test_key_figures_and_insights_on_the_fixture(ds):
    c = cons.compute(ds, ds.cfg)
    text = repr(report.key_figures(c.changes, cons_view.labels(ds.cfg), cons_view.KINDS, ds.cfg))
    assert "Too little data to judge the change in: Visits (sessions)" in text
    assert cons_view.insights(c.funnel, c.by_device, ds.cfg)[0].startswith(
        "The largest drop-off is from Product view to Add to cart: 25.0% of users go on")


# --------------------------------------------------------------------------
# Tiny demo data against the generator's truth
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny(tiny_data):
    from journeykit.core import config
    from journeykit.data import loader as io

    ds = io.load(config.load("tiny", "2026-10"))
    yield ds
    ds.close()


def test_add_to_cart_drop_off_by_device_matches_the_generator(tiny):
    """Browse sessions (visits without a purchase) add to cart after a product
    view with PARAMS["consideration"]["add_to_cart"][device] (desktop 0.30,
    mobile 0.18). Over the whole tiny history (~1,600-1,800 product-view
    visits per device) the binomial standard error is ~0.01; the tolerance is
    4 standard errors, so a correct metric fails about once in 16,000 runs
    while a mixed-up device or a cart counted without its product view
    (off by > 0.05) fails."""
    df = cons.browse_cart_rate_by_device(tiny, dt.date(2000, 1, 1), dt.date(2026, 11, 1)).set_index("device")
    truth = demo.PARAMS["consideration"]["add_to_cart"]
    for device in ("desktop", "mobile", "tablet"):
        r = df.loc[device]
        se = math.sqrt(truth[device] * (1 - truth[device]) / r.product_views)
        assert abs(r.rate - truth[device]) < 4 * se, (device, r.rate, truth[device], se)
    diff = compare.rate("d", df.loc["desktop", "carts"], df.loc["desktop", "product_views"],
                        df.loc["mobile", "carts"], df.loc["mobile", "product_views"])
    assert diff.delta > 0.06 and diff.significant


def test_purchase_sessions_complete_the_funnel(tiny):
    """In the generator a purchase session goes visit → product view → cart →
    checkout → purchase, so every visit that reaches purchase in order has
    every earlier step: exactly, no sampling."""
    s = cons.session_table(tiny, dt.date(2026, 1, 1), dt.date(2026, 11, 1))
    p = s.filter(s.t_purchase.notnull()).execute()
    assert len(p) > 500
    assert p[["t_product_view", "t_add_to_cart", "t_checkout_start"]].notna().all().all()
    # and every purchase event sits in such a visit: the ordered funnel loses none
    e = tiny.table("events")
    n_purchases = e.filter((e.event_type == "purchase") & (e.occurred_at >= dt.datetime(2026, 1, 1))).count().execute()
    assert len(p) == n_purchases


def test_device_breakdown_on_tiny_shows_the_mobile_gap(tiny):
    """All visits of the period: desktop's product view → cart conversion is
    higher than mobile's (browse 0.30 vs 0.18 plus purchase visits, which
    are 100 %); the period has ~400 desktop and ~480 mobile product-view
    visits, so the expected gap of ≥ 0.08 is over 2.5 standard errors."""
    df = cons.step_conversion_by(tiny, OCT, "device").set_index("device")
    assert df.loc["desktop", "add_to_cart_rate"] > df.loc["mobile", "add_to_cart_rate"]


def test_metrics_on_tiny(tiny):
    m = cons.metrics(tiny, tiny.cfg)
    for key in cons.STABLE_KEYS:
        assert m[key] is not None and m[f"{key}_prev"] is not None
    assert 0 < m["checkout_rate"] < m["add_to_cart_rate"] < m["product_view_rate"] < 1
    assert [s["step"] for s in m["funnel"]] == list(cons.STEPS)


def test_days_from_first_visit_to_first_purchase(make_dataset, monkeypatch):
    ev = pd.DataFrame([
        # visitor v1 browses anonymously on Oct 1 12:00, signs up as c1, buys Oct 3 12:00 → 2.0 days
        ("2026-10-01 12:00:00", "visit", None, "v1"),
        ("2026-10-02 09:00:00", "visit", "c1", "v1"),
        ("2026-10-03 12:00:00", "purchase", "c1", "v1"),
        # c2 first seen Sep 30 18:00 and buys Oct 1 06:00 → 0.5 days; buys again Oct 9 (not a first purchase)
        ("2026-09-30 18:00:00", "visit", "c2", "v2"),
        ("2026-10-01 06:00:00", "purchase", "c2", "v2"),
        ("2026-10-09 06:00:00", "purchase", "c2", "v2"),
        # c3 bought first in September: not an October first-time buyer
        ("2026-09-10 10:00:00", "purchase", "c3", "v3"),
        ("2026-10-10 10:00:00", "purchase", "c3", "v3"),
        # c4 visits in October, never buys
        ("2026-10-05 10:00:00", "visit", "c4", "v4"),
    ], columns=["occurred_at", "event_type", "customer_id", "visitor_id"])
    ds = make_dataset({"events": ev})
    d = cons.days_to_first_purchase(ds, OCT)
    assert d["customer_id"].tolist() == ["c1", "c2"]
    assert d["days"].tolist() == pytest.approx([2.0, 0.5])
    b = cons.days_to_first_purchase_buckets(d["days"])
    # 0.5 → same day (bucket "0"), 2.0 → "2–7"
    assert dict(zip(b["bucket"], b["buyers"])) == {"0": 1, "1": 0, "2–7": 1, "8–30": 0, "31–90": 0, "91+": 0}
    assert b["share"].iloc[0] == 0.5
    assert cons.days_to_first_purchase(ds, SEP)["customer_id"].tolist() == ["c3"]   # c3's first buy, 0 days
    # asked again (the changes, the chart and the metrics ask for the same months): answered from the memo
    monkeypatch.setattr(cons, "_days_to_first_purchase", lambda *a: pytest.fail("computed twice"))
    assert cons.days_to_first_purchase(ds, OCT)["customer_id"].tolist() == ["c1", "c2"]


def test_compute_holds_no_words_or_charts_and_every_note_has_a_text_in_both_languages():
    from journeykit.core import i18n
    from test_metrics_awareness import imported_names

    names = imported_names(cons)
    assert not {n for n in names if "i18n" in n or "matplotlib" in n or "plots" in n or n.endswith(".report")
                or n == "journeykit.report"}, names
    for key in cons.NOTES:
        assert set(i18n.TEXT[f"consideration_note_{key}"]) == {"en", "ko"}


def test_a_period_without_events(make_dataset):
    ds = make_dataset({"events": EVENTS}, period="2026-12")     # the events end in October
    c = cons.compute(ds, ds.cfg)
    assert c.funnel.users.tolist() == [0, 0, 0, 0, 0] and cons.sessions(ds, ds.cfg.period) == 0
    assert c.by_device.empty and c.browse_cart.empty and c.first_purchase_days.empty
    assert c.monthly.month.dt.month.tolist() == [9, 10, 11, 12] and c.monthly.sessions.tolist() == [2, 6, 0, 0]
    text = _shown(c, ds.cfg)
    assert text.count("No visits in this period") == 1 and "No first purchase by a visitor in December 2026" in text
    m = cons.metrics(ds, ds.cfg)
    assert m["sessions"] == 0 and m["product_view_rate"] is None and m["funnel"][0]["users"] == 0


def test_a_rate_whose_event_type_is_never_sent_is_not_tracked_not_zero(make_dataset):
    """Regression: a client with no pricing events at all showed a
    pricing-view rate of 0.00 %. A visit rate whose event types never occur
    is ``None`` ("not tracked") in every period, in metrics and on the
    page, and a note says why; a month without such an event when the
    client does track it stays 0 (September's pricing rate in ``ds``)."""
    ds = make_dataset({"events": EVENTS[EVENTS.event_type != "pricing_view"]})
    assert cons.untracked_rates(ds) == ("pricing_view_rate",)
    assert cons.pricing_view_rate(ds, OCT) is None and cons.pricing_view_rate(ds, SEP) is None
    assert cons.product_view_rate(ds, OCT) == pytest.approx(4 / 6)      # the others unchanged
    c = cons.compute(ds, ds.cfg)
    assert "untracked_pricing_view" in c.notes
    assert "pricing_view_rate" not in {ch.key for ch in report.shown(c.changes)}
    m = cons.metrics(ds, ds.cfg)
    assert m["pricing_view_rate"] is None and m["pricing_view_rate_prev"] is None
    assert c.monthly["pricing_view_rate"].isna().all()
    assert "not tracked" in repr(cons_view.data_note(c.notes, ds.cfg))
    # no add-to-cart events: the cart and checkout rates (later funnel steps) are not tracked either
    nocart = make_dataset({"events": EVENTS[EVENTS.event_type != "add_to_cart"]})
    assert cons.untracked_rates(nocart) == ("add_to_cart_rate", "checkout_rate")
    tracked = make_dataset({"events": EVENTS})
    assert cons.untracked_rates(tracked) == () and cons.pricing_view_rate(tracked, SEP) == 0.0
