"""Retention KPIs on tiny hand-built histories (every expected value worked
out in a comment), the period-over-period verdicts, folding, the memo under
changed settings, the parts skipped for missing inputs (each said once),
trends and cohorts on data that starts late or has no cohort in range, the
generated text in en/ko, and the tiny demo data against the generator's
truth."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from journeykit.core import config
from journeykit.data import loader as io
from journeykit import facts, report
from journeykit.sections import registry
from journeykit.sections.retention import compute as rt
from journeykit.sections.retention import view as rv
from journeykit.core.periods import Period

OCT, SEP = Period(2026, 10), Period(2026, 9)
DEFS = {"churn_inactivity_days": 30, "min_sample_size": 2, "min_group_size": 2, "k_anonymity": 1}


def _customers():
    return pd.DataFrame({
        "customer_id": ["A", "B", "C", "D", "E", "F"],
        "signup_at": ["2026-09-05 10:00:00", "2026-09-10 10:00:00", "2026-07-03 10:00:00",
                      "2026-07-20 10:00:00", "2026-05-01 10:00:00", "2026-10-10 10:00:00"],
        "acquisition_channel": ["search", "search", "social", "social", "email", "search"],
    })


def _orders():
    rows = [  # customer, ordered_at, status
        ("A", "2026-09-05 10:00:00", "paid"), ("A", "2026-10-02 10:00:00", "paid"),
        ("B", "2026-09-10 10:00:00", "paid"),
        ("C", "2026-07-03 10:00:00", "paid"), ("C", "2026-10-15 10:00:00", "paid"),
        ("C", "2026-10-20 10:00:00", "paid"),
        ("D", "2026-07-20 10:00:00", "paid"), ("D", "2026-10-03 10:00:00", "failed"),
        ("E", "2026-05-01 10:00:00", "paid"), ("E", "2026-08-20 10:00:00", "paid"),
        ("F", "2026-10-10 10:00:00", "paid"),
    ]
    return pd.DataFrame({"order_id": [f"O{i}" for i in range(len(rows))], "customer_id": [r[0] for r in rows],
                         "ordered_at": [r[1] for r in rows], "amount": 10000.0,
                         "payment_status": [r[2] for r in rows]})


def _subscriptions():
    return pd.DataFrame({
        "subscription_id": ["S1", "S2", "S3", "S4", "S5", "S6", "S7"],
        "customer_id": ["A", "C", "D", "E", "F", "B", "A"],
        "started_at": ["2026-09-05 10:00:00", "2026-08-10 10:00:00", "2026-09-20 10:00:00", "2026-06-01 10:00:00",
                       "2026-09-03 10:00:00", "2026-08-31 10:00:00", "2026-09-01 00:30:00"],
        "ended_at": [None, "2026-10-09 10:00:00", "2026-10-04 10:00:00", "2026-08-20 10:00:00",
                     "2026-11-15 10:00:00", None, None],
        "plan": ["basic", "plus", "trial", "basic", "basic", "basic", "plus"],
        "mrr": [9900.0, 19900.0, 0.0, 9900.0, 9900.0, 9900.0, 19900.0],
    })


def _tickets():
    return pd.DataFrame({
        "ticket_id": ["T1", "T2", "T3", "T4", "T5"],
        "customer_id": ["A", "C", "D", "A", "F"],
        "created_at": ["2026-10-03 10:00:00", "2026-10-05 10:00:00", "2026-10-07 10:00:00", "2026-09-28 10:00:00",
                       "2026-10-30 10:00:00"],
        "category": ["delivery", "delivery", "billing", "app", "delivery"],
        "resolved_at": ["2026-10-03 12:00:00", "2026-10-06 10:00:00", "2026-10-08 10:00:00", "2026-10-01 10:00:00",
                        "2026-11-02 10:00:00"],
        "csat": [5.0, 4.0, 1.0, 3.0, 5.0],
    })


@pytest.fixture
def full(make_dataset):
    return make_dataset({"customers": _customers(), "orders": _orders(), "subscriptions": _subscriptions(),
                         "tickets": _tickets()}, definitions=DEFS)


@pytest.fixture
def orders_only(make_dataset):
    return make_dataset({"orders": _orders()}, definitions=DEFS)


# --------------------------------------------------------------------------
# KPIs, by hand (W = 30 days; period October 2026, comparison September)
# --------------------------------------------------------------------------

def test_activity_counts(full):
    # October activity: A (10-02), C (10-15, 10-20), D (failed order 10-03 is still activity), F (10-10)
    assert rt.mau(full, full.cfg, OCT) == 4
    # active in [10-02 00:00, 11-01): A, C, D, F
    assert rt.active_customers(full, full.cfg, OCT) == 4
    st = rt.stickiness(full, full.cfg, OCT)
    # customer-days: A 1 + C 2 + D 1 + F 1 = 5 → DAU 5/31; DAU/MAU = 5 / (31 × 4)
    assert st["dau"] == pytest.approx(5 / 31)
    assert st["dau_mau"] == pytest.approx(5 / 124)
    # 7-day windows inside October: A 10-02…08 (7), C 10-15…26 (12), D 10-03…09 (7), F 10-10…16 (7) = 33 days
    assert st["wau"] == pytest.approx(33 / 31)
    assert st["n"] == 4


def test_activity_days_one_row_per_customer_and_day(make_dataset, monkeypatch):
    orders = pd.DataFrame({"order_id": ["O1", "O2", "O3", "O4"], "customer_id": ["A", "A", "A", "B"],
                           "ordered_at": ["2026-10-02 09:00:00", "2026-10-02 18:30:00", "2026-10-05 08:00:00",
                                          "2026-10-02 23:59:00"],
                           "amount": 1.0, "payment_status": ["paid", "failed", "paid", "paid"]})
    ds = make_dataset({"orders": orders}, definitions=DEFS)
    d = facts.activity_days(ds).execute().sort_values(["customer_id", "day"]).reset_index(drop=True)
    # A's two orders of 10-02 are one day, its latest moment 18:30 (a failed payment is still activity)
    assert d[["customer_id", "day", "first", "last"]].to_dict("records") == [
        {"customer_id": "A", "day": pd.Timestamp("2026-10-02"), "first": pd.Timestamp("2026-10-02 09:00"),
         "last": pd.Timestamp("2026-10-02 18:30")},
        {"customer_id": "A", "day": pd.Timestamp("2026-10-05"), "first": pd.Timestamp("2026-10-05 08:00"),
         "last": pd.Timestamp("2026-10-05 08:00")},
        {"customer_id": "B", "day": pd.Timestamp("2026-10-02"), "first": pd.Timestamp("2026-10-02 23:59"),
         "last": pd.Timestamp("2026-10-02 23:59")}]
    # by purchase: the failed payment is not a purchase
    p = facts.activity_days(ds, "purchase").execute().sort_values(["customer_id", "day"])
    assert p["last"].tolist() == [pd.Timestamp("2026-10-02 09:00"), pd.Timestamp("2026-10-05 08:00"),
                                  pd.Timestamp("2026-10-02 23:59")]
    # computed once and kept on the engine while the dataset is open ...
    assert facts.activity_days(ds) is facts.activity_days(ds)
    files = sorted(p.name.split("-")[0] for p in (ds.path / "shared").glob("*.parquet"))
    assert files == ["activity_days_activity", "activity_days_purchase"]
    ds.close()
    # ... and once per version of the data: another kernel reads the shared copy
    import ibis.expr.types as ir

    def no_recompute(*a, **k):
        raise AssertionError("recomputed")

    monkeypatch.setattr(ir.Table, "to_parquet", no_recompute)
    again = io.load(ds.cfg)
    assert len(facts.activity_days(again).execute()) == 3
    again.close()


def test_activity_gaps_count_days_since_the_previous_active_day(make_dataset):
    orders = pd.DataFrame({"order_id": ["O1", "O2", "O3", "O4", "O5"], "customer_id": ["A", "A", "A", "A", "B"],
                           "ordered_at": ["2026-07-01 09:00", "2026-07-01 20:00", "2026-07-11 23:00",
                                          "2026-10-01 01:00", "2026-10-02 12:00"],
                           "amount": 1.0})
    ds = make_dataset({"orders": orders}, definitions=DEFS)
    g = facts.activity_gaps(ds).execute().sort_values(["customer_id", "day"]).reset_index(drop=True)
    # A: 07-01 (first: no gap), 07-11 (10 days), 10-01 (82 days: 21 of July, 31 + 30); B: first only
    assert g["customer_id"].tolist() == ["A", "A", "A", "B"]
    assert g["day"].tolist() == [pd.Timestamp(d) for d in ("2026-07-01", "2026-07-11", "2026-10-01", "2026-10-02")]
    assert g["last"].tolist() == [pd.Timestamp(d) for d in ("2026-07-01 20:00", "2026-07-11 23:00",
                                                               "2026-10-01 01:00", "2026-10-02 12:00")]
    assert g["gap_days"].isna().tolist() == [True, False, False, True]
    assert g["gap_days"].iloc[1:3].tolist() == [10.0, 82.0]
    # a gap depends on earlier rows only: the rows before 10-01 keep theirs
    a = facts.activity_gaps(ds)
    early = a.filter(a.day < pd.Timestamp("2026-10-01")).execute().sort_values("day")
    assert early["gap_days"].isna().tolist() == [True, False] and early["gap_days"].iloc[1] == 10.0
    assert sorted(p.name.split("-")[0] for p in (ds.path / "shared").glob("activity_gaps*.parquet")) == [
        "activity_gaps_activity"]
    ds.close()


def test_month_k_retention(full):
    # September cohort A, B; A active in October → 1/2
    assert rt.month_k_retention(full, full.cfg, OCT, 1) == (1, 2)
    # July cohort C, D: both active in October (D only through a failed order) → 2/2
    assert rt.month_k_retention(full, full.cfg, OCT, 3) == (2, 2)
    # by purchase: D's failed order is not a purchase → 1/2
    assert rt.month_k_retention(full, full.cfg, OCT, 3, by="purchase") == (1, 2)


def test_repeat_purchase_and_gaps(full):
    # October buyers A (2nd purchase), C (2nd and 3rd), F (1st) → 2 of 3 repeat
    assert rt.repeat_purchase(full, full.cfg, OCT) == (2, 3)
    # September buyers A (1st), B (1st) → 0 of 2; later purchases do not count for September
    assert rt.repeat_purchase(full, full.cfg, SEP) == (0, 2)
    ip = rt.inter_purchase(full, full.cfg, OCT)
    # A 09-05→10-02 = 27 d; C 07-03→10-15 = 104 d; C 10-15→10-20 = 5 d
    assert ip["n"] == 3
    assert ip["mean"] == pytest.approx((27 + 104 + 5) / 3)
    assert ip["median"] == pytest.approx(27)


def test_churn(full):
    # base: active in [09-01, 10-01): A, B (E's last activity 08-20 is outside)
    # churned: no activity in [10-02, 11-01): B → 1 of 2
    assert rt.churn(full, full.cfg, OCT) == (1, 2)


def test_renewals_and_mrr_churn(full):
    # S1 due 10-05, open → renewed; S2 due 10-09, ended exactly then → not renewed;
    # S3 trial → never a renewal; S4 ended 08-20, long before its 10-29 date → not due;
    # S5 due 10-03, ends 11-15 (after the period: not yet known) → renewed;
    # S6 due 10-30 → renewed; S7 due 10-01 00:30 and 10-31 00:30 → 2 renewed
    assert rt.renewals(full, full.cfg, OCT) == (5, 6)
    # running at 10-01: S1 9,900 + S2 19,900 + S5 9,900 + S6 9,900 + S7 19,900 = 69,500; S2 ended → 19,900 lost
    assert rt.mrr_churn(full, full.cfg, OCT) == (19900.0, 69500.0)


def test_tickets_and_csat(full):
    # opened in October: T1, T2, T3, T5 = 4, against 4 active customers → 100 per 100
    assert rt.tickets(full, full.cfg, OCT) == (4, 4)
    # resolved in October with a score: T1 5, T2 4, T3 1, T4 3 (T5 resolves 11-02: unknown) → 13/4
    m, sd, n = rt.csat(full, full.cfg, OCT)
    assert (m, n) == (pytest.approx(3.25), 4)
    assert sd == pytest.approx(np.std([5, 4, 1, 3], ddof=1))


def test_tickets_by_category_folds_small(full):
    df = rt.tickets_by_category(full, full.cfg)
    # delivery: T1, T2, T5 = 3 tickets (≥ 2 kept), CSAT (5 + 4) / 2; billing (1 ticket) and
    # app (no ticket opened, one score) fold into "other": 1 ticket, CSAT (1 + 3) / 2
    assert df["category"].tolist() == ["delivery", rt.OTHER]
    assert df["tickets"].tolist() == [3, 1]
    assert df["csat"].tolist() == [pytest.approx(4.5), pytest.approx(2.0)]
    assert df["per_100"].tolist() == [pytest.approx(75.0), pytest.approx(25.0)]


def test_session_length_and_features_from_events_only(make_dataset):
    ev = pd.DataFrame({
        "occurred_at": ["2026-10-02 10:00:00", "2026-10-02 10:01:00", "2026-10-02 10:03:00",
                        "2026-10-15 09:00:00", "2026-10-15 09:00:30", "2026-10-15 09:01:00",
                        "2026-10-16 12:00:00", "2026-09-30 23:59:00", "2026-10-01 00:01:00"],
        "event_type": ["login", "feature_use", "page_view", "visit", "page_view", "feature_use", "visit", "login",
                       "feature_use"],
        "customer_id": ["A", "A", "A", "C", "C", "C", None, "D", "D"],
        "visitor_id": ["a", "a", "a", "c", "c", "c", "v", "d", "d"],
        "session_id": ["s1", "s1", "s1", "s2", "s2", "s2", "s3", "s4", "s4"],
        "duration_s": [None, None, 60.0, None, 90.0, None, 30.0, None, None],
        "feature": [None, "order_ahead", None, None, None, "gift", None, None, "stamp_card"],
    })
    ds = make_dataset({"events": ev}, definitions=DEFS)
    assert not registry.get("40_retention").missing(registry.available(ds.report))
    # s1: 10:00 → 10:03 + 60 s = 4 min; s2: 09:00 → 09:00:30 + 90 s = 2 min; s3 anonymous; s4 began in September
    m, _, n = rt.session_length(ds, ds.cfg, OCT)
    assert (m, n) == (pytest.approx(3.0), 2)
    # the sessions are grouped once for every month that asks (a shared table of the data version)
    assert rt.session_length(ds, ds.cfg, SEP)[2] == 1                   # s4, begun on 30 September
    assert rt.clusters(ds, ds.cfg, OCT)["session_daily"][1] == [0] + [1] + [0] * 12 + [1] + [0] * 16  # 2nd, 15th
    assert len(list((ds.path / "shared").glob("sessions-*.parquet"))) == 1
    # October MAU from events: A, C, D = 3; one user per feature → share 1/3 each
    assert rt.mau(ds, ds.cfg, OCT) == 3
    f = rt.feature_usage(ds, ds.cfg.model_copy(update={"definitions": ds.cfg.definitions.model_copy(
        update={"min_group_size": 1})}))
    assert sorted(f["feature"]) == ["gift", "order_ahead", "stamp_card"]
    assert f["user_share"].tolist() == [pytest.approx(1 / 3)] * 3
    # with the fixture's minimum of 2 users, every feature folds into "other" (3 uses by 3 customers)
    g = rt.feature_usage(ds, ds.cfg)
    assert g["feature"].tolist() == [rt.OTHER] and g["uses"].tolist() == [3]


def test_cohort_matrix(full):
    m = rt.cohort_matrix(full, full.cfg, months=6)
    m = m.set_index(m["cohort"].dt.strftime("%Y-%m"))
    # July cohort (C, D): active in July (2/2), not in Aug or Sep, both in October; later months not reached
    jul = m.loc["2026-07"]
    assert jul["size"] == 2
    assert [jul[k] for k in range(4)] == [1.0, 0.0, 0.0, 1.0]
    assert pd.isna(jul[4]) and pd.isna(jul[5])
    # September cohort (A, B): month 1 = A only
    assert m.loc["2026-09"][1] == 0.5
    # by purchase, July month 3 is C only (D's October order failed)
    p = rt.cohort_matrix(full, full.cfg, by="purchase", months=6)
    assert p.set_index(p["cohort"].dt.strftime("%Y-%m")).loc["2026-07"][3] == 0.5


def test_lifecycle_states(full):
    life = rt.lifecycle(full, full.cfg)
    assert list(life.columns) == ["month", "new", "returning", "resurrecting", "dormant"]
    oct_ = life.iloc[-1]
    # October: F new; A returning (active in Sep); C and D resurrecting (last active July);
    # B active in September only → dormant
    assert [oct_[s] for s in facts.MONTHLY_STATES] == [1, 1, 2, 1]
    sep = life.iloc[-2]
    # September: A, B new; E (active August) dormant
    assert [sep[s] for s in facts.MONTHLY_STATES] == [2, 0, 0, 1]


def test_churn_by_channel_folds_small_groups(make_dataset):
    cust = pd.DataFrame({"customer_id": ["G1", "G2", "G3", "G4", "G5"], "signup_at": "2026-08-01 10:00:00",
                         "acquisition_channel": ["search", "search", "search", "social", "email"]})
    rows = [(c, "2026-09-10 10:00:00") for c in cust["customer_id"]]
    rows += [("G1", "2026-10-10 10:00:00"), ("G2", "2026-10-11 10:00:00"), ("G5", "2026-10-12 10:00:00")]
    orders = pd.DataFrame({"customer_id": [r[0] for r in rows], "ordered_at": [r[1] for r in rows], "amount": 1.0})
    ds = make_dataset({"customers": cust, "orders": orders}, definitions=DEFS)
    df = rt.churn_by(ds, ds.cfg)
    # search: G3 churned of 3; social (G4 churned, 1) and email (G5 stayed, 1) are under 2 → other: 1 of 2
    assert df["group"].tolist() == ["search", rt.OTHER]
    assert df["base"].tolist() == [3, 2]
    assert df["churned"].tolist() == [1, 1]
    assert df["churn_rate"].tolist() == [pytest.approx(1 / 3), pytest.approx(0.5)]


# --------------------------------------------------------------------------
# Period over period, metrics, not available
# --------------------------------------------------------------------------

def _vals(**over):
    v = {"active_customers": 1000, "mau": 800, "dau_mau": 0.1, "dau_mau_sd": 0.05, "dau_mau_n": 800,
         "month1": (300, 500), "month3": (200, 500), "repeat": (400, 500), "churn": (100, 1000),
         "renewal_rate": 0.9, "renewal": (450, 500), "mrr_churn": 0.1, "tickets": 100, "ticket_customers": 1000,
         "csat": 4.0, "csat_sd": 1.0, "csat_n": 200, "session_minutes": 3.0, "session_sd": 2.0, "session_n": 500,
         "inter_purchase_days": 20.0, "inter_purchase_sd": 10.0, "inter_purchase_n": 300}
    v.update(over)
    return v


def test_verdicts(full):
    cfg = full.cfg.model_copy(update={"definitions": full.cfg.definitions.model_copy(update={"min_sample_size": 30})})
    chs = {c.key: c for c in rt.changes_from(_vals(churn=(150, 1000), month1=(310, 500)), _vals(), cfg)}
    # churn 10% → 15% on 1,000 each: z ≈ 3.4 → significant, bad news
    assert chs["churn_rate"].verdict == "significant" and chs["churn_rate"].good is False
    # month-1 60% → 62% on 500 each: z ≈ 0.65 → not significant
    assert chs["month1_retention"].verdict == "not_significant"
    # same tickets per customer base → identical rates, p = 1
    assert chs["tickets_per_100_customers"].value == pytest.approx(10.0)
    assert chs["tickets_per_100_customers"].p_value == pytest.approx(1.0)
    # MRR churn has no sampling model
    assert chs["mrr_churn"].verdict == "untested"
    small = {c.key: c for c in rt.changes_from(_vals(month3=(5, 10)), _vals(), cfg)}
    assert small["month3_retention"].verdict == "too_little_data"


def test_metrics_keys_all_present(full, orders_only):
    m = rt.metrics(full, full.cfg)
    for k in rt.STABLE_KEYS:
        assert k in m and f"{k}_prev" in m
    assert m["mau"] == 4 and m["churn_rate"] == pytest.approx(0.5) and m["renewal_rate"] == pytest.approx(5 / 6)
    assert m["tickets_per_100_customers"] == pytest.approx(100.0) and m["csat"] == pytest.approx(3.25)
    json.dumps(m)
    o = rt.metrics(orders_only, orders_only.cfg)
    assert set(rt.STABLE_KEYS) <= set(o)
    # orders alone: activity and purchase KPIs computed, subscription/ticket ones null
    assert o["mau"] == 4 and o["month1_retention"] == pytest.approx(0.5)
    for k in ("renewal_rate", "renewal_rate_prev", "tickets_per_100_customers", "csat", "csat_prev"):
        assert o[k] is None


def test_orders_only_parts_say_why_once(orders_only):
    cfg = orders_only.cfg
    assert not registry.get("40_retention").missing(registry.available(orders_only.report))
    assert repr(rv.subscriptions(orders_only, cfg)) == "Not available: needs table subscriptions."
    assert repr(rv.support(orders_only, cfg)) == "Not available: needs table support tickets."
    assert repr(rv.churn_by_channel(orders_only, cfg)) == ("Not available: needs column acquisition_channel in "
                                                           "table customers.")
    # usage: the activity table, then one line for sessions and features together
    usage = rv.usage(orders_only, cfg).blocks
    assert len(usage) == 2 and isinstance(usage[0], report.Table)
    assert repr(usage[1]) == ("Session length and feature usage need the events table, which this client has not "
                              "supplied.")
    kpis = repr(report.kpi_table(rt.changes(orders_only, cfg), rv.labels(cfg), rv.KINDS, cfg))
    assert "renewal" not in kpis and "CSAT" not in kpis and "Session" not in kpis
    # the trend starts with the first order (May 2026), not twelve months back
    df = rt.monthly(orders_only, cfg)
    assert df["month"].iloc[0] == pd.Timestamp("2026-05-01") and len(df) == 6
    assert "renewal_rate" not in df.columns
    # June had no activity: no active customer, not a gap
    assert df.set_index("month").loc["2026-06-01", "mau"] == 0


def test_events_without_sessions_durations_or_features(make_dataset):
    ev = pd.DataFrame({"customer_id": ["A", "A", "B"], "event_type": ["login", "page_view", "login"],
                       "occurred_at": ["2026-10-02 10:00:00", "2026-10-02 10:05:00", "2026-10-03 10:00:00"]})
    ds = make_dataset({"events": ev}, definitions=DEFS)
    notes = [repr(b) for b in rv.usage(ds, ds.cfg).blocks[1:]]
    assert notes == ["Session length is not measured: the events have no session_id.",
                     "Feature usage is not measured: the events have no feature column."]
    assert rt.feature_usage(ds, ds.cfg) is None and rt.session_length(ds, ds.cfg, OCT) == (None, 0.0, 0)
    # no orders and no purchase events: repeat purchases and purchase cohorts say so once each
    assert repr(rv.purchases(ds, ds.cfg)).startswith("Repeat purchases need orders")
    assert repr(rv.cohorts(ds, ds.cfg, by="purchase")).startswith("Repeat purchases need orders")
    # sessions without durations: measured from the first to the last event, said once
    ev = ev.assign(session_id=["s1", "s1", "s2"], feature=[None, None, None])
    ds = make_dataset({"events": ev}, definitions=DEFS)
    assert rt.session_length(ds, ds.cfg, OCT)[:1] == (pytest.approx(2.5),)     # (5 + 0) / 2 minutes
    notes = [repr(b) for b in rv.usage(ds, ds.cfg).blocks[1:]]
    assert notes[0] == "The events have no duration_s: a session's length runs from its first to its last event."
    # the feature column is there (all empty) but nobody used a feature
    assert notes[1:] == ["No feature use in October 2026."]


def test_tickets_without_category_or_csat(make_dataset):
    t = _tickets().drop(columns=["category", "csat"])
    ds = make_dataset({"customers": _customers(), "orders": _orders(), "tickets": t}, definitions=DEFS)
    assert repr(rv.support(ds, ds.cfg)).split("\n\n") == [
        "The tickets have no category: no breakdown by category.",
        "The tickets have no csat: satisfaction is not measured."]
    m = rt.metrics(ds, ds.cfg)
    assert m["tickets_per_100_customers"] == pytest.approx(100.0) and m["csat"] is None
    assert "csat" not in rt.monthly(ds, ds.cfg).columns


def test_subscriptions_without_mrr(make_dataset):
    ds = make_dataset({"customers": _customers(), "orders": _orders(),
                       "subscriptions": _subscriptions().drop(columns=["mrr"])}, definitions=DEFS)
    blocks = rv.subscriptions(ds, ds.cfg).blocks
    assert "MRR" not in repr(blocks[0]) and repr(blocks[1]) == "The subscriptions have no mrr: MRR churn is not measured."
    m = rt.metrics(ds, ds.cfg)
    assert m["renewal_rate"] == pytest.approx(5 / 6) and m["mrr_churn"] is None


def test_memo_follows_the_settings(full):
    """Period values are memoized on the dataset, keyed on the settings:
    another churn window on the same dataset gives the new answer."""
    assert rt.period_values(full, full.cfg, OCT)["churn"] == (1, 2)
    wide = full.cfg.updated(definitions={"churn_inactivity_days": 60})
    # base: active in [08-02, 10-01): A, B, E (08-20); still active in [09-01, 11-01): A, B → E churned
    assert rt.period_values(full, wide, OCT)["churn"] == (1, 3)
    assert rt.metrics(full, wide)["churn_rate"] == pytest.approx(1 / 3)
    assert rt.metrics(full, full.cfg)["churn_rate"] == pytest.approx(0.5)


def test_trend_with_no_cohorts_in_range_has_no_empty_panel(make_dataset):
    """Regression: a retention trend with no cohorts in range showed an
    empty month-1 panel with a 1969–1970 axis, and the cohort heatmap an
    empty frame."""
    import matplotlib.dates as mdates

    cust = pd.DataFrame({"customer_id": ["A", "B"], "signup_at": ["2020-01-05 00:00:00", "2020-02-01 00:00:00"]})
    orders = pd.DataFrame({"customer_id": ["A", "B", "A"], "amount": 1.0,
                           "ordered_at": ["2026-10-02 00:00:00", "2026-10-03 00:00:00", "2026-09-03 00:00:00"]})
    ds = make_dataset({"customers": cust, "orders": orders}, definitions=DEFS)
    df = rt.monthly(ds, ds.cfg)
    assert df["month"].tolist() == [pd.Timestamp("2026-09-01"), pd.Timestamp("2026-10-01")]   # from the first order
    assert df["month1_retention"].isna().all()
    fig = rv.trend_chart(ds, ds.cfg)
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert "Month-1 retention" not in titles and "Monthly active customers" in titles
    assert fig._suptitle.get_text() == "Retention over the last 2 months"
    for ax in fig.axes:
        if ax.get_visible():
            lo, hi = (mdates.num2date(x).year for x in ax.get_xlim())
            assert lo >= 2026 and hi <= 2027, ax.get_title()
    # the cohort heatmaps: one sentence, not an empty chart; the purchase one adds nothing
    assert rt.cohort_matrix(ds, ds.cfg).empty
    assert repr(rv.cohorts(ds, ds.cfg)) == "No customer signed up in the last 12 months: there is no cohort to follow."
    assert rv.cohorts(ds, ds.cfg, by="purchase") is None
    # the lifecycle starts with the data too
    life = rt.lifecycle(ds, ds.cfg)
    assert life["month"].tolist() == df["month"].tolist()
    assert life.iloc[0][list(facts.MONTHLY_STATES)].tolist() == [1, 0, 0, 0]   # September: A new


def show_everything(ds) -> list:
    """Every cell of the notebook, as it calls them."""
    cfg = ds.cfg
    chs = rt.changes(ds, cfg)
    return [report.key_figures(chs, rv.labels(cfg), rv.KINDS, cfg), report.narrative(rv.insights(ds, cfg)),
            rv.trend_chart(ds, cfg), rv.cohorts(ds, cfg, by="activity"), rv.cohorts(ds, cfg, by="purchase"),
            rv.lifecycle_chart(rt.lifecycle(ds, cfg), cfg), rv.lifecycle_table(rt.lifecycle(ds, cfg), cfg),
            rv.usage(ds, cfg), rv.purchases(ds, cfg), rv.churn_by_channel(ds, cfg), rv.subscriptions(ds, cfg),
            rv.support(ds, cfg), rv.next_steps(ds, cfg, chs), json.dumps(rt.metrics(ds, cfg, chs)), rt.monthly(ds, cfg)]


def test_views_on_the_full_client(full):
    import matplotlib.figure

    from journeykit.report import plots

    plots.use_style()
    cfg = full.cfg.updated(language="ko")
    figures = (rv.trend_chart(full, cfg), rv.cohorts(full, cfg), rv.cohorts(full, cfg, by="purchase"),
               rv.lifecycle_chart(rt.lifecycle(full, cfg), cfg))
    assert all(isinstance(f, matplotlib.figure.Figure) for f in figures)
    life = rv.lifecycle_table(rt.lifecycle(full, cfg), cfg).df
    assert list(life.columns) == ["월", "신규", "유지", "복귀", "이탈(이번 달)"]      # facts' monthly labels
    assert life.iloc[-1].tolist() == ["2026-10", 1, 1, 2, 1]
    assert rv.usage(full, cfg).blocks[1].text == "세션 길이와 기능 사용에는 이벤트 테이블이 필요하지만 이 고객사에서는 제공되지 않았습니다."
    assert rv.purchases(full, cfg).cells().iloc[0].tolist() == ["기간 중 재구매 고객", "2 / 3"]
    churn_ = rv.churn_by_channel(full, cfg).df
    # base A, B (search): B churned; 2 ≥ min_group_size 2
    assert churn_.iloc[:, 0].tolist() == ["search"] and churn_.iloc[0, 3] == 0.5
    subs = rv.subscriptions(full, cfg).cells()
    assert subs.iloc[0].tolist() == ["2026년 10월", "6", "5", "83.3%", "₩69,500", "₩19,900", "28.6%"]
    support = rv.support(full, cfg).blocks
    assert len(support) == 1 and support[0].df.iloc[:, 0].tolist() == ["delivery", "기타"]
    assert rt.subscription_periods(full, full.cfg)["due"].tolist() == [6, rt.renewals(full, full.cfg, SEP)[1]]
    assert rv.group_name(rt.OTHER, cfg) == "기타" and rv.group_name(rt.UNKNOWN, cfg) == "(기록 없음)"
    assert rv.label("active_customers", cfg) == "활성 고객 (30일 기준)"          # the client's churn window
    assert not rt.orders_from_events(full)
    assert rt.trend_start(full) == pd.Timestamp("2026-05-01").date()
    assert rt.trend_months(full, full.cfg)[0] == Period(2026, 5)


def test_a_period_without_activity(make_dataset):
    """Activity stops in September: October has none. Every cell still runs,
    and nothing is drawn empty."""
    orders = _orders()
    ds = make_dataset({"customers": _customers(), "orders": orders[orders["ordered_at"] < "2026-10-01"]},
                      definitions=DEFS)
    shown = show_everything(ds)
    m = rt.metrics(ds, ds.cfg)
    assert m["mau"] == 0 and m["dau_mau"] is None and m["repeat_purchase_rate"] is None
    assert m["churn_rate"] == 1.0                                      # A and B, active in September, are gone
    assert repr(shown[1]).startswith("- In October 2026, 0 customers were active")
    assert shown[-1]["mau"].iloc[-1] == 0


# --------------------------------------------------------------------------
# Generated text
# --------------------------------------------------------------------------

def test_lifecycle_sentence_en_ko(full):
    life = rt.lifecycle(full, full.cfg)
    assert rv.insights(full, full.cfg) == [rv.lifecycle_sentence(life, full.cfg)]
    assert rv.lifecycle_sentence(life, full.cfg) == (
        "In October 2026, 4 customers were active: 1 new, 1 returning and 2 resurrecting; "
        "1 customers active the month before were not (net +2).")
    ko = full.cfg.model_copy(update={"language": "ko"})
    assert rv.lifecycle_sentence(life, ko) == (
        "2026년 10월 활성 고객은 4명입니다: 신규 1명, 유지 1명, 복귀 2명. "
        "전월 활성 고객 중 1명은 활동하지 않았습니다 (순증 2명).")


def test_narrative_and_next_steps_en_ko(full):
    cfg = full.cfg.model_copy(update={"definitions": full.cfg.definitions.model_copy(update={"min_sample_size": 30})})
    chs = rt.changes_from(_vals(churn=(150, 1000), month1=(250, 500)), _vals(), cfg)
    text = repr(report.key_figures(chs, rv.labels(cfg), rv.KINDS, cfg))
    assert "Churn rate rose from 10.0% to 15.0% (+5.0 pp); the change is significant." in text
    groups = pd.DataFrame({"group": ["search", "social", "other"], "base": [100, 100, 50],
                           "churned": [10, 30, 5], "churn_rate": [0.1, 0.3, 0.1]})
    tickets = pd.DataFrame({"category": ["delivery", "billing"], "tickets": [50, 40], "customers": [40, 35],
                            "per_100": [5.0, 4.0], "csat": [4.2, 3.1], "csat_n": [40, 35]})
    # month-1 60% → 50% significant, churn up significant: their advice is in the key figures, so it
    # follows the verdict (a report run words it again with the report's verdicts)
    assert report.advise(chs, rv.labels(cfg), rv.KINDS, cfg, rt.ADVICE) == [
        "Month-1 retention fell significantly (60.0% → 50.0%): check the newest customers' first weeks "
        "(onboarding, first order, delivery).",
        "Churn rose significantly (10.0% → 15.0%): the customer lists of 60_segmentation and the churn scores "
        "of 70_prediction show whom to win back."]
    figures = repr(report.key_figures(chs, rv.labels(cfg), rv.KINDS, cfg, advice=rt.ADVICE))
    assert "Churn rose significantly (10.0% → 15.0%)" in figures
    steps = rv.pointers(chs, groups, tickets, cfg)
    # social 30% ≥ 1.25 × 18% overall, billing CSAT 3.1 < 4
    assert steps == [
        "Customers acquired through social churn most (30.0% vs 18.0% overall): look at what they were promised "
        "at acquisition and how their first month went.",
        "Support tickets about billing have the lowest satisfaction (CSAT 3.10 on 35 responses): review how they "
        "are handled.",
    ]
    ko = cfg.model_copy(update={"language": "ko"})
    steps_ko = rv.pointers(chs, groups, tickets, ko)
    assert steps_ko[0] == ("social 채널로 유입된 고객의 이탈률이 가장 높습니다 (전체 18.0% 대비 30.0%). "
                           "유입 시 기대와 첫 달 경험을 점검해 보세요.")
    assert "이탈률 +5.0%p 상승 (10.0% → 15.0%), 통계적으로 유의합니다." in report.describe_changes(
        chs, rv.labels(ko), rv.KINDS, ko)
    # nothing stands out → the default pointer
    calm = rv.pointers(rt.changes_from(_vals(), _vals(), cfg), groups.iloc[:0], None, cfg)
    assert calm == ["No retention measure moved significantly and no group stands out: keep watching the cohort "
                    "heatmap for the newest sign-up months."]
    # on a dataset: the groups come from the data (full: 4 active, too few for any pointer)
    assert rv.next_steps(full, full.cfg) == calm


# --------------------------------------------------------------------------
# Tiny demo data against the generator's truth
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny(tiny_data):
    cfg = config.load("tiny", "2026-10")
    ds = io.load(cfg)
    yield ds
    ds.close()


def test_leavers_activity_falls_before_leaving(tiny, tiny_data):
    """The generator thins a leaver's app usage linearly to 15% over the 56
    days before she leaves (PARAMS churn.usage_decline_days, usage_floor).
    Her purchases do not fall (BG/NBD drops a customer out right after a
    purchase), so we count distinct *active days*, which is what cohort
    retention and the lifecycle count. Measured on this seed: about 0.73 of
    the 56 days before; pooled over ~300 leavers each window holds several
    hundred active days (Poisson SE of the ratio ≈ 0.05), so < 0.85 would
    fail if there were no decline. After leaving: nothing beyond 30 days
    (PARAMS churn.after_dropout_days_mean = 10)."""
    truth = pd.read_parquet(tiny_data / "truth_customers.parquet")
    leavers = truth[truth["left_at"].notna()
                    & (truth["left_at"] - truth["signup_at"] > pd.Timedelta(days=140))
                    & (truth["left_at"] < pd.Timestamp("2026-08-01"))][["customer_id", "left_at"]]
    assert len(leavers) > 100
    act = facts.activity(tiny).execute()
    act["day"] = act["at"].dt.floor("D")
    days_ = act.drop_duplicates(["customer_id", "day"]).merge(leavers, on="customer_id")
    before = (days_["left_at"] - days_["day"]).dt.total_seconds() / 86400
    bins = [int(((before > lo) & (before <= lo + 28)).sum()) for lo in (0, 28, 56, 84)]
    assert bins[1] + bins[0] > 200
    assert (bins[0] + bins[1]) / (bins[2] + bins[3]) < 0.85
    assert bins[0] < bins[1] < bins[2] + 30          # falling towards the end (last four weeks lowest)
    assert int((before < -30).sum()) == 0


def test_cohort_retention_decays(tiny):
    """Customers drop out (BG/NBD p and a 90-day lifetime for non-buyers), so
    retention averaged over cohorts falls with months since sign-up. The gaps
    (≈ 0.68 → 0.45 → 0.3 for months 1, 3, 6) are many standard errors wide
    on ~800 customers, so the ordering is not a sampling accident."""
    m = rt.cohort_matrix(tiny, tiny.cfg, months=12)
    mean = {k: np.nansum(m[k] * m["size"]) / m.loc[m[k].notna(), "size"].sum() for k in (1, 3, 6)}
    assert mean[1] > mean[3] + 0.05 > mean[6] + 0.1
    p = rt.cohort_matrix(tiny, tiny.cfg, by="purchase", months=12)
    assert (p[1].dropna() <= m[1].dropna() + 1e-12).all()       # buying is a subset of activity


def test_churn_flags_agree_with_truth(tiny, tiny_data):
    """Everyone flagged churned (90 days silent) over the last six months
    must be a customer the generator made leave before the flag: activity
    after leaving lasts ~10 days on average, far below 90. Allow 3% for
    customers whose post-dropout trickle is long."""
    truth = pd.read_parquet(tiny_data / "truth_customers.parquet").set_index("customer_id")["left_at"]
    flagged, correct = 0, 0
    for p in Period(2026, 10).trailing(6):
        f = rt.churn_flags(tiny, tiny.cfg, p).execute()
        ids = f.loc[f["churned"], "customer_id"]
        left = truth.reindex(ids)
        flagged += len(ids)
        correct += int((left.notna() & (left < pd.Timestamp(p.end))).sum())
    assert flagged > 100
    assert correct / flagged > 0.97


def test_renewal_rate_matches_generator(tiny, tiny_data):
    """A paid subscription renews at each 30-day date unless it is cancelled
    there (PARAMS subscriptions.monthly_cancel_prob = 4%) or the customer left
    before it (truth left_at). Expected renewal over the due dates we count
    = 0.96 × share of them whose customer had not left; pooled over 12
    months (≈ 300 due dates) we allow 3 binomial standard errors."""
    from journeykit import demo

    truth = pd.read_parquet(tiny_data / "truth_customers.parquet").set_index("customer_id")["left_at"]
    subs = pd.read_csv(tiny_data / "subscriptions.csv", parse_dates=["started_at", "ended_at"])
    subs = subs[subs["plan"] != "trial"]
    keep = 1 - demo.PARAMS["subscriptions"]["monthly_cancel_prob"]
    x = n = 0
    expected = []
    cycle = pd.Timedelta(days=demo.PARAMS["subscriptions"]["renewal_days"])
    for p in Period(2026, 10).trailing(12):
        xi, ni = rt.renewals(tiny, tiny.cfg, p)
        x, n = x + xi, n + ni
        lo, hi = pd.Timestamp(p.start), pd.Timestamp(p.end)
        for s in subs.itertuples():
            d = s.started_at + cycle
            while d < hi:
                end = s.ended_at if pd.notna(s.ended_at) and s.ended_at < hi else pd.NaT
                if d >= lo and (pd.isna(end) or end > d - cycle):
                    left = truth.get(s.customer_id)
                    expected.append(keep * (1.0 if pd.isna(left) or left > d else 0.0))
                d += cycle
    assert n == len(expected) and n > 150
    e = float(np.mean(expected))
    se = (e * (1 - e) / n) ** 0.5
    assert abs(x / n - e) < 3 * se + 1e-9


def test_tiny_notebook_metrics_complete(tiny):
    m = rt.metrics(tiny, tiny.cfg)
    for k in rt.STABLE_KEYS:
        assert m[k] is not None and m[f"{k}_prev"] is not None, k
    assert 0 < m["churn_rate"] < 0.5 and 1 <= m["csat"] <= 5 and 0 < m["dau_mau"] < 1
