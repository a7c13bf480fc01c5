"""journeykit.sections.prediction: settings, features before a cutoff (every
optional column absent too), the leakage guard, labels, models and their
evaluation (features with nothing to learn from left out), drivers in words,
not-available behaviour (said once), the memo keyed on the settings, and the
churn model on the tiny demo data against the generator's own hazard."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from journeykit.core import config
from journeykit.core.errors import ConfigError
from journeykit.core.settings import PredictionSettings
from journeykit.sections.prediction import compute as pr
from journeykit.sections.prediction import features as fe
from journeykit.sections.prediction import labels as lb
from journeykit.sections.prediction import models as md
from journeykit.sections.prediction import view

C = dt.date(2026, 10, 1)  # the cutoff of the hand-built tests


# --------------------------------------------------------------------------
# A hand-built client: customers A, B, C around the cutoff 2026-10-01
# --------------------------------------------------------------------------

def _tables() -> dict[str, pd.DataFrame]:
    customers = pd.DataFrame({
        "customer_id": ["A", "B", "C"],
        "signup_at": ["2026-01-01 09:00:00", "2026-06-01 09:00:00", "2026-02-01 09:00:00"],
        "acquisition_channel": ["search", "social", "search"],
    })
    orders = pd.DataFrame({
        "order_id": ["o1", "o2", "o3", "o4", "o5", "o6"],
        "customer_id": ["A", "A", "A", "B", "A", "C"],
        "ordered_at": ["2026-07-01 12:00:00", "2026-09-15 12:00:00", "2026-09-20 12:00:00", "2026-08-01 12:00:00",
                       "2026-10-05 12:00:00", "2026-09-01 12:00:00"],
        "amount": [10000, 20000, 5000, 30000, 50000, 40000],
        "payment_status": ["paid", "paid", "failed", "paid", "paid", "paid"],
        "device": ["desktop", "desktop", "mobile", "mobile", "desktop", "desktop"],
        "discount_code": ["WELCOME10", None, None, None, None, None],
    })
    events = pd.DataFrame({
        "customer_id": ["A", "A", "A", "A", "B", "A"],
        "occurred_at": ["2026-05-01 08:00:00", "2026-09-25 10:00:00", "2026-09-25 10:05:00", "2026-09-28 12:00:00",
                        "2026-07-15 08:00:00", "2026-10-03 08:00:00"],
        "event_type": ["login", "feature_use", "feature_use", "pricing_view", "login", "feature_use"],
        "session_id": ["s0", "s1", "s1", "s2", "s3", "s4"],
        "feature": [None, "gift", "recipes", None, None, "stamp_card"],
        "device": ["mobile", "mobile", "mobile", "desktop", "mobile", "mobile"],
    })
    tickets = pd.DataFrame({
        "ticket_id": ["t1", "t2", "t3"],
        "customer_id": ["A", "A", "B"],
        "created_at": ["2026-09-10 09:00:00", "2026-09-29 09:00:00", "2026-03-01 09:00:00"],
        "category": ["delivery", "billing", "product"],
        "resolved_at": ["2026-09-11 09:00:00", "2026-10-02 09:00:00", "2026-03-02 09:00:00"],
        "csat": [2, 5, 4],
    })
    surveys = pd.DataFrame({
        "response_id": ["r1", "r2", "r3", "r4"],
        "customer_id": ["A", "A", "B", "A"],
        "responded_at": ["2026-08-01 09:00:00", "2026-09-20 09:00:00", "2026-10-10 09:00:00", "2026-10-20 09:00:00"],
        "nps": [6, 9, 10, 3],
    })
    subscriptions = pd.DataFrame({
        "subscription_id": ["s1", "s2", "s3"],
        "customer_id": ["A", "A", "B"],
        "started_at": ["2026-08-01 09:00:00", "2026-08-15 09:00:00", "2026-10-25 09:00:00"],
        "ended_at": ["2026-08-15 09:00:00", None, None],
        "plan": ["trial", "basic", "plus"],
        "mrr": [0.0, 9900.0, 19900.0],
    })
    return {"customers": customers, "orders": orders, "events": events, "tickets": tickets, "surveys": surveys,
            "subscriptions": subscriptions}


@pytest.fixture
def hand(make_dataset):
    return make_dataset(_tables(), prediction={"horizon_days": 30})




# --------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------

def test_settings_defaults(hand):
    st = hand.cfg.prediction
    assert st.horizon_days == 30 and st.churn_label == "activity" and st.min_positives == 20
    assert PredictionSettings().horizon_days == 60 and PredictionSettings().gbm.max_depth == 3


def test_bad_value_is_a_config_error(hand):
    with pytest.raises(ConfigError, match="risk_bands"):
        hand.cfg.updated(prediction={"risk_bands": [0.7, 0.2]})
    with pytest.raises(ConfigError, match="prediction.churn_label"):
        hand.cfg.updated(prediction={"churn_label": "silence"})


# --------------------------------------------------------------------------
# Features: only rows before the cutoff
# --------------------------------------------------------------------------

def test_features_use_only_rows_before_the_cutoff(hand):
    f = fe.activity_features(hand, C).frame
    a, b = f.loc["A"], f.loc["B"]
    # A's active days: 05-01, 07-01, 09-15, 09-20, 09-25, 09-28 (10-03 and 10-05 are after the cutoff)
    assert a["recency_days"] == pytest.approx(2.5)            # last: 09-28 12:00 → 10-01 00:00
    assert a["active_days_28"] == 4                           # 09-15, 09-20, 09-25, 09-28
    assert a["usage_trend"] == pytest.approx(4.0)             # 4 − (0 days in days 29–84) / 2
    assert a["active_days_365"] == 6
    assert a["session_interval_days"] == pytest.approx(30.0)  # 05-01 → 09-28 = 150 days / 5 gaps
    # B: 07-15 (login) and 08-01 (order)
    assert b["recency_days"] == pytest.approx(60.5)           # 08-01 12:00 → 10-01
    assert b["active_days_28"] == 0
    assert b["usage_trend"] == pytest.approx(-1.0)            # 0 − 2 / 2
    assert b["session_interval_days"] == pytest.approx(17.0)  # 07-15 → 08-01

    f = fe.order_features(hand, C).frame
    a, b = f.loc["A"], f.loc["B"]
    assert a["frequency"] == 2                 # o1, o2 paid; o3 failed; o5 after the cutoff
    assert a["monetary"] == pytest.approx(15000)
    assert a["spend_90"] == pytest.approx(20000)   # o1 is 91.5 days before the cutoff
    assert a["spend_365"] == pytest.approx(30000)
    assert a["purchase_recency_days"] == pytest.approx(15.5)
    assert a["payment_failures_180"] == 1
    assert a["discount_share"] == pytest.approx(0.5)   # 1 of 2 paid orders had a code
    assert b["frequency"] == 1 and b["discount_share"] == 0 and b["purchase_recency_days"] == pytest.approx(60.5)

    e = fe.event_features(hand, C).frame
    assert e.loc["A", "feature_breadth_90"] == 2      # gift, recipes (stamp_card is after the cutoff)
    assert e.loc["A", "feature_uses_90"] == 2
    assert e.loc["A", "sessions_90"] == 2             # s1, s2 (s0 is 153 days back)
    assert e.loc["A", "pricing_views_90"] == 1
    assert e.loc["B", "sessions_90"] == 1 and e.loc["B", "feature_breadth_90"] == 0   # login 78 days back
    t = fe.ticket_features(hand, C).frame
    assert t.loc["A", "tickets_90"] == 2 and t.loc["A", "tickets_cat_billing"] == 1
    assert t.loc["A", "ticket_csat"] == pytest.approx(2.0)   # t2's 5 was given after the cutoff
    assert t.loc["B", "tickets_90"] == 0 and t.loc["B", "tickets_365"] == 1 and t.loc["B", "ticket_csat"] == 4
    s = fe.survey_features(hand, C).frame
    assert s.loc["A", "last_nps"] == 9 and s.loc["A", "mean_nps"] == pytest.approx(7.5) and s.loc["A", "responses"] == 2
    assert "B" not in s.index                          # B answered only after the cutoff
    sub = fe.subscription_features(hand, C).frame
    assert sub.loc["A", "sub_active"] == 1 and sub.loc["A", "sub_mrr"] == 9900 and sub.loc["A", "sub_trial"] == 0
    assert "B" not in sub.index
    d = fe.device_features(hand, C).frame
    assert d.loc["A", "device"] == "mobile"    # before the cutoff: mobile 4 (o3, 05-01, 09-25 ×2), desktop 3 (o1, o2, 09-28)
    assert d.loc["B", "device"] == "mobile"


def test_device_counts_read_once_for_several_cutoffs_give_each_cutoff_its_own_answer(make_dataset, hand):
    # One scan counts the rows of every stretch between cutoffs; each
    # cutoff's answer must equal the answer of its own scan, rows exactly
    # at a cutoff (not before it) and ties (alphabetical) included.
    edge = make_dataset({"orders": pd.DataFrame({
        "order_id": ["x1", "x2", "y1"],
        "customer_id": ["X", "X", "Y"],
        "ordered_at": ["2026-08-31 23:00:00", "2026-09-01 00:00:00", "2026-09-20 12:00:00"],
        "amount": [1000, 1000, 1000],
        "device": ["mobile", "desktop", "tablet"],
    })})
    cuts = (C, dt.date(2026, 7, 1), dt.date(2026, 9, 1), dt.date(2026, 9, 2), dt.date(2026, 9, 26),
            dt.date(2026, 10, 4))                       # not sorted: the order does not matter
    for ds in (hand, edge):
        for c in cuts:
            alone, shared = fe.device_features(ds, c), fe.device_features(ds, c, cuts)
            pd.testing.assert_frame_equal(shared.frame.sort_index(), alone.frame.sort_index())
            assert shared.max_seen == alone.max_seen
    at = {c: fe.device_features(edge, c, cuts).frame["device"].to_dict() for c in cuts}
    assert at[dt.date(2026, 9, 1)] == {"X": "mobile"}          # x2 is at the cutoff, not before it
    assert at[dt.date(2026, 9, 2)] == {"X": "desktop"}         # 1 each: alphabetical
    assert at[C] == {"X": "desktop", "Y": "tablet"}
    assert at[dt.date(2026, 7, 1)] == {}
    a = {c: fe.device_features(hand, c, cuts).frame["device"].to_dict() for c in cuts}
    assert a[dt.date(2026, 7, 1)] == {"A": "mobile"}            # only the 05-01 login; o1 is at 12:00 that day
    assert a[dt.date(2026, 9, 26)]["A"] == "mobile"             # mobile 4 (05-01, o3, 09-25 ×2), desktop 2 (o1, o2)
    assert fe.device_features(make_dataset({"orders": _tables()["orders"].drop(columns="device")}), C, cuts) is None


def test_missing_tables_drop_their_features(make_dataset):
    ds = make_dataset({"orders": _tables()["orders"]})
    blocks = fe.feature_blocks(ds, C)
    names = {b.name for b in blocks}
    assert names == {"customers", "activity", "orders", "device"}
    X, cats = fe.assemble(blocks)
    assert "tickets_90" not in X.columns and "last_nps" not in X.columns
    assert "recency_days" in X.columns and "frequency" in X.columns


def test_assemble_fills_counts_with_zero_and_keeps_recencies_missing(hand):
    X, cats = fe.assemble(fe.feature_blocks(hand, C))
    assert cats == ("channel", "device")
    assert sorted(X.index) == ["A", "B", "C"]
    c = X.loc["C"]
    # C: one order (09-01), no events, tickets or surveys before the cutoff
    assert c["recency_days"] == pytest.approx(29.5) and c["frequency"] == 1
    assert c["feature_uses_90"] == 0 and c["sessions_90"] == 0 and c["tickets_365"] == 0 and c["responses"] == 0
    assert np.isnan(c["ticket_csat"]) and np.isnan(c["last_nps"])      # unknown, not zero
    assert c["channel"] == "search" and c["device"] == "desktop"


def test_ticket_categories_in_any_script(make_dataset):
    assert fe.slug("Billing / Refund") == "billing_refund" and fe.slug("배송 문의") == "배송_문의"
    assert fe.slug("?!") == "x"
    t = _tables()["tickets"].assign(category=["배송 문의", "Billing", "billing"])
    ds = make_dataset({"orders": _tables()["orders"], "tickets": t})
    f = fe.ticket_features(ds, C).frame
    # three categories, none lost to a shared name: "Billing" and "billing" stay apart
    assert sorted(c for c in f.columns if c.startswith("tickets_cat_")) == [
        "tickets_cat_billing", "tickets_cat_billing_", "tickets_cat_배송_문의"]
    assert f.loc["A", "tickets_cat_배송_문의"] == 1
    assert view.driver_text("tickets_cat_배송_문의", 1, ds.cfg) == "1 배송 문의 tickets in the last year"


# --------------------------------------------------------------------------
# The leakage guard
# --------------------------------------------------------------------------

def _leaky_builder(ds, cutoff):
    """A careless builder: counts every order up to the period end."""
    o = ds.table("orders")
    df = o.group_by(o.customer_id.cast("string").name("customer_id")).aggregate(
        _max_seen=o.ordered_at.max(), orders_all=o.count()).execute()
    return fe.block("leaky_orders", df)


def test_leakage_guard_catches_a_feature_built_from_after_the_cutoff(hand, monkeypatch):
    # the real builders pass
    fe.check_no_leakage(fe.feature_blocks(hand, C), C)
    leaky = _leaky_builder(hand, C)
    assert leaky.max_seen == pd.Timestamp("2026-10-05 12:00:00")   # o5
    with pytest.raises(fe.LeakageError, match="leaky_orders"):
        fe.check_no_leakage([leaky], C)
    # a leaky builder registered among the real ones stops the whole feature table
    monkeypatch.setattr(fe, "BUILDERS", (*fe.BUILDERS, _leaky_builder))
    with pytest.raises(fe.LeakageError, match="2026-10-01"):
        fe.feature_blocks(hand, C)
    # a row exactly at the cutoff is also refused
    blk = fe.FeatureBlock("edge", pd.DataFrame(index=pd.Index([], name="customer_id")), pd.Timestamp(C))
    with pytest.raises(fe.LeakageError):
        fe.check_no_leakage([blk], C)


# --------------------------------------------------------------------------
# Labels
# --------------------------------------------------------------------------

def test_labels(hand):
    cfg = hand.cfg
    y = lb.churn_labels(hand, C, cfg)
    # live base: activity in the 90 days before 10-01 → A, B, C
    # activity in [10-01, 10-31): A (event 10-03, order 10-05); none for B and C
    assert y.to_dict() == {"A": 0, "B": 1, "C": 1}
    yp = lb.churn_labels(hand, C, cfg.updated(prediction={"horizon_days": 30, "churn_label": "purchase"}))
    assert yp.to_dict() == {"A": 0, "B": 1, "C": 1}   # purchases before: A, B, C; after: A (o5)

    y = lb.promoter_labels(hand, C, cfg)
    # answers in [10-01, 10-31): B 10 (promoter), A 3
    assert y.to_dict() == {"A": 0, "B": 1}

    y = lb.upsell_labels(hand, C, cfg)
    # A: baseline 30,000 over 91.5 days × 30 = 9,836; spends 50,000 → 1
    # B: no order after, but starts 'plus' (19,900/month) with nothing running → upgrade → 1
    # C: baseline 40,000 over max(29.5, 30) days × 30 = 40,000; spends 0 → 0
    assert y.to_dict() == {"A": 1, "B": 1, "C": 0}
    y2 = lb.upsell_labels(hand, C, cfg.updated(prediction={"horizon_days": 30, "upsell_uplift": 5.0}))
    assert y2.to_dict() == {"A": 0, "B": 1, "C": 0}   # 50,000 < 6 × 9,836 = 59,016


def test_live_customers_and_scoring_populations(hand):
    cfg = hand.cfg
    assert lb.lookback_days(cfg) == 90                          # definitions.churn_inactivity_days
    # live at the period end 2026-11-01: activity since 08-03 → A, C (B's last activity was 08-01)
    assert list(lb.scoring_population(hand, "churn", cfg)) == ["A", "C"]
    # promoter: not A, who answered on 10-20, within the last 30 days
    assert list(lb.scoring_population(hand, "promoter", cfg)) == ["C"]
    assert list(lb.scoring_population(hand, "upsell", cfg)) == ["A", "C"]   # both have paid orders
    assert pr.data_start(hand) == dt.date(2026, 5, 1)           # A's first login


# --------------------------------------------------------------------------
# Evaluation helpers
# --------------------------------------------------------------------------

def test_deciles_lift_and_gains():
    y = np.array([1] * 5 + [0] * 15)
    p = np.linspace(1, 0, 20)          # the 5 positives score highest
    d = md.deciles(y, p)
    assert list(d["customers"]) == [2] * 10
    assert d["lift"].iloc[0] == pytest.approx(4.0)   # rate 2/2 ÷ base rate 5/20
    assert d["gains"].iloc[0] == pytest.approx(0.4)  # 2 of the 5 positives
    assert d["gains"].iloc[2] == pytest.approx(1.0)  # all 5 within the top 30%
    s = md.scores(y, p)
    assert s["roc_auc"] == 1.0 and s["top_decile_lift"] == pytest.approx(4.0) and s["base_rate"] == 0.25


def test_design_one_hot_and_alignment():
    X = pd.DataFrame({"a": [1, 2], "device": ["web", None]})
    d = md.design(X, ("device",))
    assert list(d.columns) == ["a", "device=(none)", "device=web"]
    assert d.loc[1, "device=(none)"] == 1.0 and d.loc[0, "device=web"] == 1.0
    later = md.design(pd.DataFrame({"a": [3], "device": ["app"]}), ("device",), ["a", "device=web", "device=(none)"])
    assert later.iloc[0].to_dict() == {"a": 3.0, "device=web": 0.0, "device=(none)": 0.0}   # an unseen level: no column
    assert md.feature_of("device=web") == "device" and md.feature_of("a") == "a"


def test_calibration_and_permutation_importance():
    c = md.calibration(np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.7, 0.9]), bins=2)
    assert c.to_dict("records") == [{"predicted": pytest.approx(0.15), "observed": 0.0, "customers": 2},
                                    {"predicted": pytest.approx(0.8), "observed": 1.0, "customers": 2}]

    class Stub:   # the score is column a; b is ignored
        def predict_proba(self, X):
            return X["a"].to_numpy()

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": np.arange(40.0), "b": rng.normal(size=40)})
    y = (X["a"] >= 20).to_numpy().astype(int)
    imp = md.permutation_importance(Stub(), X, y, seed=1)
    assert list(imp["feature"]) == ["a", "b"]
    assert imp.loc[0, "importance"] > 0.3 and imp.loc[1, "importance"] == 0.0 and imp.loc[1, "sd"] == 0.0


def test_auc_matches_scikit_learn_and_prior_correction():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(1)
    y = rng.random(200) < 0.3
    p = np.round(rng.random(200) + 0.3 * y, 2)   # with ties
    assert md.auc(y, p) == pytest.approx(roc_auc_score(y, p))
    # trained at 50/50, base rate 20%: p = 0.5 means odds 1 → 0.25 → p = 0.2
    assert md.prior_correct(np.array([0.5]), 0.2)[0] == pytest.approx(0.2)
    assert np.all(np.diff(md.prior_correct(np.array([0.1, 0.4, 0.9]), 0.2)) > 0)   # ranking kept


def test_driver_text_en_ko(hand):
    en = hand.cfg
    ko = hand.cfg.model_copy(update={"language": "ko"})
    assert view.driver_text("recency_days", 45.2, en) == "no activity for 45 days"
    assert view.driver_text("recency_days", 45.2, ko) == "45일째 활동 없음"
    assert view.driver_text("tickets_cat_delivery", 3, en) == "3 delivery tickets in the last year"
    assert view.driver_text("discount_share", 0.8, en) == "buys mostly with discount codes (80.0%)"
    assert view.driver_text("channel", "display", ko) == "display 채널로 유입"
    assert view.feature_name("usage_trend", ko) == "활동 감소"


def test_drivers_name_the_feature_that_raises_the_score():
    class Stub:   # score = recency / 100: only recency can drive it
        def predict_proba(self, X):
            return X["recency_days"].to_numpy() / 100

    X = pd.DataFrame({"recency_days": [80.0, 10.0], "frequency": [1.0, 5.0]}, index=["x", "y"])
    ref = pd.DataFrame({"recency_days": [10.0, 20.0, 30.0], "frequency": [1.0, 2.0, 3.0]})
    d = md.drivers(Stub(), X, ref)
    # x: 0.8 − 0.2 (median recency 20) = 0.6; y is below the median: no driver
    assert d.to_dict("records") == [{"customer_id": "x", "rank": 1, "feature": "recency_days", "value": 80.0,
                                     "effect": pytest.approx(0.6)}]


def test_drivers_rank_features_and_name_the_category():
    class Stub:   # score = recency / 100 + 0.3 on the display channel
        def predict_proba(self, X):
            return X["recency_days"].to_numpy() / 100 + 0.3 * X["channel=display"].to_numpy()

    X = pd.DataFrame({"recency_days": [80.0, 50.0, 10.0], "channel=display": [1.0, 0.0, 0.0],
                      "channel=search": [0.0, 1.0, 0.0]}, index=["x", "y", "z"])
    ref = pd.DataFrame({"recency_days": [10.0, 20.0, 30.0], "channel=display": [1.0, 0.0, 0.0],
                        "channel=search": [0.0, 1.0, 1.0]})
    d = md.drivers(Stub(), X, ref)
    # typical: recency 20, channel search. x: 1.1 − 0.5 = 0.6 (recency), 1.1 − 0.8 = 0.3 (channel);
    # y: 0.5 − 0.2 = 0.3 (recency), channel already typical; z: nothing raises its score
    assert d.to_dict("records") == [
        {"customer_id": "x", "rank": 1, "feature": "recency_days", "value": 80.0, "effect": pytest.approx(0.6)},
        {"customer_id": "x", "rank": 2, "feature": "channel", "value": "display", "effect": pytest.approx(0.3)},
        {"customer_id": "y", "rank": 1, "feature": "recency_days", "value": 50.0, "effect": pytest.approx(0.3)}]


def test_sample_rows_keeps_the_class_shares_and_is_seeded():
    y = np.r_[np.ones(300), np.zeros(2700)].astype(int)
    assert md.sample_rows(y, 3000, 7) is None
    a, b = md.sample_rows(y, 1000, 7), md.sample_rows(y, 1000, 7)
    assert len(a) == 1000 and (a == b).all() and (np.diff(a) > 0).all()
    assert y[a].sum() == 100   # 10% positives, as in y


# --------------------------------------------------------------------------
# Models: features with nothing to learn from are left out
# --------------------------------------------------------------------------

def test_unusable_columns_are_all_missing_or_constant():
    X = pd.DataFrame({"empty": [np.nan] * 4,            # all missing
                      "same": [3.0] * 4,                 # one value
                      "same_or_missing": [3.0, np.nan, 3.0, np.nan],   # present vs missing: kept
                      "varied": [1.0, 2.0, 1.0, 2.0],
                      "device=(none)": [1.0] * 4})       # a category missing on every row
    assert md.unusable_columns(X) == ["empty", "same", "device=(none)"]
    assert md.dropped_features(["a", "device=mobile", "device=web", "channel=x"],
                               ["a", "device=mobile", "channel=x"]) == ["a", "channel"]   # device still has web


def test_model_fit_with_an_all_missing_feature_regression():
    # scikit-learn 1.9's HistGradientBoosting raised "window shape cannot be
    # larger than input array shape" on an all-NaN column (discount_share of
    # an export without discount_code): every fit leaves such columns out.
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"x": rng.normal(size=200), "empty": np.nan, "one": 1.0})
    y = (X["x"] + rng.normal(scale=0.5, size=200) > 0).astype(int).to_numpy()
    st = PredictionSettings()
    for kind in ("gbm", "logistic"):
        m = md.Model(kind, st).fit(X, y)
        assert m.dropped_ == ["empty", "one"] and m.columns_ == ["x"]
        assert md.auc(y, m.predict_proba(X)) > 0.8
    assert md.choose_model(X, y, st) in ("gbm", "logistic")
    # nothing usable at all: every customer gets the base rate
    m = md.Model("gbm", st).fit(X[["empty", "one"]], y)
    assert m.estimator_ is None and np.allclose(m.predict_proba(X), y.mean())


def test_choose_model_picks_the_kind_that_ranks_a_holdout_better(monkeypatch):
    fits = []
    fit = md.Model.fit
    monkeypatch.setattr(md.Model, "fit", lambda self, X, y: fits.append(len(X)) or fit(self, X, y))
    st = PredictionSettings(choice_holdout_min_class=10)
    rng = np.random.default_rng(1)
    # a U shape (|x| > 1): a line cannot rank it, trees can
    x = rng.normal(size=400)
    X = pd.DataFrame({"x": x, "noise": rng.normal(size=400)})
    assert md.choose_model(X, (np.abs(x) > 1).astype(int), st) == "gbm"
    assert fits == [300, 300]                        # one holdout of 100: two fits on the other 300
    # an additive signal over eight features on 120 customers: the line wins
    # (holdout of 30: logistic ranks it perfectly, AUC 1.0; gbm 0.93)
    X = pd.DataFrame(rng.normal(size=(120, 8)), columns=[f"x{i}" for i in range(8)])
    y = (X.sum(axis=1) + rng.normal(scale=0.5, size=120) > 0).astype(int).to_numpy()
    fits.clear()
    assert md.choose_model(X, y, st) == "logistic" and fits == [90, 90]
    # under 100 of a class in the holdout (the default): five folds, ten fits, the same winner
    fits.clear()
    assert md.choose_model(X, y, PredictionSettings()) == "logistic" and fits == [96] * 10
    # a fixed model is never compared
    fits.clear()
    assert md.choose_model(X, y, st.model_copy(update={"model": "gbm"})) == "gbm" and fits == []
    # a tie (nothing usable: both give the base rate, AUC 0.5) goes to gbm
    assert md.choose_model(pd.DataFrame({"one": np.ones(120)}), y, st) == "gbm"


# --------------------------------------------------------------------------
# Not available, never a crash, said once
# --------------------------------------------------------------------------

def test_trailing_spend_and_list_sizes(hand):
    cfg = hand.cfg
    s = pr.trailing_spend(hand, cfg, pd.Index(["A", "B", "C", "Z"]))
    # paid orders in the year before 2026-11-01: A o1 + o2 + o5 (o3 failed), B o4, C o6; Z none
    assert s.to_dict() == {"A": 80000.0, "B": 30000.0, "C": 40000.0, "Z": 0.0}
    assert [pr.top_count(n, cfg) for n in (0, 1, 10, 11)] == [0, 1, 1, 2]     # top 10%, rounded up


def test_validation_table_of_models_not_available(hand):
    t = view.validation_table(hand, hand.cfg)
    cells = t.cells()
    assert list(cells["Model"]) == ["Churn", "Promoter", "Upsell"]
    assert set(cells["Status"]) == {"not available"} and set(cells["ROC AUC"]) == {"–"}
    assert set(cells["Act on it?"]) == {"–"} and set(cells["ROC AUC, 95% interval"]) == {"–"}
    # churn's horizon is the 90-day churn window: its training cutoff 2026-05-05 needs history from
    # 2026-02-04, before the data start (no one labelled). Labelled at the training cutoff 2026-09-02
    # (too few to learn from): upsell A, B, C; promoter only A, the one answer in [09-02, 10-02)
    assert list(cells["Training customers"]) == ["–", "1", "3"]


def test_too_few_positives_is_not_available_with_a_reason(hand):
    m = pr.metrics(hand, hand.cfg)
    assert set(pr.STABLE_KEYS) <= set(m)
    for t in pr.TARGETS:
        assert set(pr.MODEL_KEYS) <= set(m[t]), t
        assert m[t]["status"] == "not_available" and m[t]["roc_auc"] is None and m[t]["dropped_features"] == []
        assert m[t]["actionable"] is None and m[t]["roc_auc_ci_low"] is None and m[t]["verdict"] is None
    # churn: its horizon is the churn window (90 days), whatever prediction.horizon_days says;
    # two horizons and a look-back before 2026-11-01 start on 2026-02-04, before the data (05-01)
    assert m["churn"]["horizon_days"] == 90 and m["churn"]["reason"] == "history"
    assert m["churn"]["reason_values"] == {"h": 90, "start": "2026-02-04"}
    assert m["churn"]["expected_churners"] is None
    # already churned, apart from any forecast: B, last active 08-01, silent through [08-03, 11-01)
    assert m["churn"]["already_lapsed"] == 1 and m["churn"]["already_lapsed_revenue"] == 30000.0
    for t in ("promoter", "upsell"):
        assert m[t]["horizon_days"] == 30 and m[t]["reason"] == "positives", t
    # upsell: live buyers A, B, C at 2026-09-02 (train cutoff); A spends above her baseline by 10-02
    assert m["upsell"]["reason_values"] == {"pos": 1, "neg": 2, "need": 20, "window": "train"}
    r = pr.backtest(hand, hand.cfg, "upsell")
    assert view.reason_text(r, hand.cfg) == ("too few cases to learn from: 1 positive and 2 negative customers "
                                             "in the training window (at least 20 of each needed)")
    assert pr.bands(hand, hand.cfg) is None and pr.target_list(hand, hand.cfg, "churn") is None
    assert pr.outlook_by_silence(hand, hand.cfg) is None
    assert view.insights(hand, hand.cfg) == []


def test_a_model_not_available_says_why_once(hand):
    """Every cell of the notebook, on a client where no model runs: each
    model's reason appears once (its section's first cell), never again."""
    cfg = hand.cfg
    import journeykit as jk

    shown = [view.validation_table(hand, cfg),
             jk.report.narrative(view.insights(hand, cfg), cfg, "predict_no_model")]
    for t in pr.TARGETS:
        shown += [view.validation_chart(hand, cfg, t), view.deciles_table(hand, cfg, t),
                  view.bands_table(hand, cfg, t), view.drivers_table(hand, cfg, t), view.importance_chart(hand, cfg, t)]
    shown += [view.exports(hand, cfg), jk.report.narrative(view.next_steps(hand, cfg))]
    text = "\n".join(repr(b) for b in shown if b is not None)
    for t in pr.TARGETS:
        reason = view.reason_text(pr.backtest(hand, cfg, t), cfg)
        assert text.count(reason) == 1, (t, reason)
    assert text.count("Churn: not available") == 1
    assert "No model could be trained for this client" in text


def test_missing_surveys_make_promoter_not_available(make_dataset):
    t = _tables()
    ds = make_dataset({"orders": t["orders"], "events": t["events"]}, language="ko")
    r = pr.backtest(ds, ds.cfg, "promoter")
    assert r.status == "not_available" and r.reason == "table" and r.reason_values == {"table": "surveys"}
    assert "테이블이 필요합니다" in view.reason_text(r, ds.cfg)
    # surveys without customer ids: the column is named
    ds = make_dataset({"orders": t["orders"], "surveys": t["surveys"].drop(columns=["customer_id"])})
    r = pr.backtest(ds, ds.cfg, "promoter")
    assert (r.reason, r.reason_values) == ("column", {"table": "surveys", "column": "customer_id"})
    assert view.reason_text(r, ds.cfg) == "needs the customer_id column of the surveys table"
    assert fe.survey_features(ds, C) is None


def test_events_without_feature_value_or_session_id_regression(make_dataset):
    # A shop whose events lack feature, value and session_id failed with
    # "'StringScalar' object has no attribute 'nunique'": each event feature
    # is built only from the columns that are there.
    t = _tables()
    ev = t["events"].drop(columns=["feature", "session_id"])
    ds = make_dataset({"customers": t["customers"], "orders": t["orders"], "events": ev},
                      prediction={"horizon_days": 30})
    e = fe.event_features(ds, C).frame
    assert "feature_breadth_90" not in e.columns and "sessions_90" not in e.columns
    assert e.loc["A", "feature_uses_90"] == 2 and e.loc["A", "pricing_views_90"] == 1
    X, _ = fe.assemble(fe.feature_blocks(ds, C))
    assert not X.isna().all().any()        # no column of nothing but missing values
    m = pr.metrics(ds, ds.cfg)
    assert m["churn"]["status"] == "not_available" and m["churn"]["reason"] == "history"
    assert m["upsell"]["status"] == "not_available" and m["upsell"]["reason"] == "positives"


def test_orders_without_optional_columns_skip_their_features(make_dataset):
    o = _tables()["orders"].drop(columns=["discount_code", "payment_status", "device"])
    ds = make_dataset({"orders": o})
    f = fe.order_features(ds, C).frame
    assert "discount_share" not in f.columns and "payment_failures_180" not in f.columns
    assert f.loc["A", "frequency"] == 3          # without a status every row is an order: o1, o2, o3
    assert fe.device_features(ds, C) is None
    assert {b.name for b in fe.feature_blocks(ds, C)} == {"customers", "activity", "orders"}


def test_orders_without_amounts_skip_spend_and_upsell(make_dataset):
    # an events-only client: orders derived from purchase events without a value
    ev = pd.DataFrame({
        "customer_id": ["A", "A", "B", "A"],
        "occurred_at": ["2026-07-01 12:00:00", "2026-09-15 12:00:00", "2026-08-01 12:00:00", "2026-10-05 12:00:00"],
        "event_type": ["purchase", "purchase", "purchase", "purchase"],
    })
    ds = make_dataset({"events": ev}, prediction={"horizon_days": 30})
    f = fe.order_features(ds, C).frame
    assert {"monetary", "spend_90", "spend_365"}.isdisjoint(f.columns)
    assert f.loc["A", "frequency"] == 2 and f.loc["B", "frequency"] == 1
    assert lb.upsell_labels(ds, C, ds.cfg) is None
    r = pr.backtest(ds, ds.cfg, "upsell")
    assert (r.status, r.reason) == ("not_available", "amounts")
    assert "order amounts" in view.reason_text(r, ds.cfg)
    assert "Order amounts" in " ".join(view.next_steps(ds, ds.cfg))
    assert pr.trailing_spend(ds, ds.cfg, pd.Index(["A"])) is None


# --------------------------------------------------------------------------
# One memo, keyed on the settings
# --------------------------------------------------------------------------

def test_a_changed_prediction_setting_gives_a_new_result_on_the_same_dataset(hand):
    cfg = hand.cfg
    assert pr.backtest(hand, cfg, "upsell").reason_values["need"] == 20
    fewer = cfg.updated(prediction={"min_positives": 2})
    assert pr.backtest(hand, fewer, "upsell").reason_values["need"] == 2
    assert pr.metrics(hand, cfg.updated(prediction={"horizon_days": 45}))["upsell"]["horizon_days"] == 45
    assert pr.metrics(hand, cfg)["upsell"]["horizon_days"] == 30      # the first answer is still right
    # churn's horizon follows the churn definition, not prediction.horizon_days
    assert pr.metrics(hand, cfg.updated(definitions={"churn_inactivity_days": 60}))["churn"]["horizon_days"] == 60
    assert pr.metrics(hand, cfg)["churn"]["horizon_days"] == 90
    # the live base follows the look-back: only A was active in the 7 days before 10-01
    assert list(lb.live_customers(hand, C, cfg)) == ["A", "B", "C"]
    assert list(lb.live_customers(hand, C, cfg.updated(prediction={"lookback_days": 7}))) == ["A"]


# --------------------------------------------------------------------------
# The tiny demo data: the churn model against the generator's hazard
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny(tiny_data: Path):
    import journeykit as jk

    cfg = jk.config.load("tiny", "2026-10", root=tiny_data.parents[1])
    ds = jk.load(cfg)
    yield ds
    ds.close()


def hazard_ceiling(test: pd.DataFrame, truth: pd.DataFrame, cutoff: dt.date, horizon: int) -> float:
    """ROC AUC of the generator's own churn hazard on the test window.

    A score that knows each customer's latent state *at the cutoff* (no
    future): 1 when she had already left (``left_at`` before the cutoff);
    otherwise the probability that she leaves within the horizon,
    ``1 − exp(−h·H)``, with ``h`` = ``lambda_per_week / 7 × p_dropout`` per
    day for a purchaser (BG/NBD: she may drop out after each purchase) and
    ``1 / non_purchaser_lifetime_days_mean`` for a customer who had not
    bought yet (exponential lifetime). Knowing ``left_at`` itself would rank
    the label almost perfectly, so that is no ceiling; this is what the
    generator's hazard allows a perfectly informed model to know at the cutoff.
    """
    from journeykit.demo import PARAMS

    c = pd.Timestamp(cutoff)
    t = test.join(truth)
    gone = (t["left_at"].notna() & (t["left_at"] < c)).to_numpy(float)
    purchaser = (t["purchased"] & (t["first_purchase_at"] < c)).to_numpy(bool)
    h = np.where(purchaser, t["lambda_per_week"] / 7 * t["p_dropout"],
                 1 / PARAMS["churn"]["non_purchaser_lifetime_days_mean"])
    score = gone + (1 - gone) * (1 - np.exp(-h * horizon))
    return md.auc(t["y"].to_numpy(), score)


def test_churn_model_comes_close_to_the_generators_hazard(tiny, tiny_data):
    r = pr.backtest(tiny, tiny.cfg, "churn")
    assert r.status == "ok" and r.n_test >= 300
    truth = pd.read_parquet(tiny_data / "truth_customers.parquet").set_index("customer_id")
    ceiling = hazard_ceiling(r.test, truth, r.test_cutoff, r.horizon_days)
    auc = r.scores["roc_auc"]
    # measured: ceiling 0.93, model 0.86. Margin 0.10: the model sees behaviour,
    # not the latent "already left", and 587 test customers give an AUC a
    # standard error of about 0.015.
    assert auc >= ceiling - 0.10, (auc, ceiling)
    # and it cannot know more than the generator: far above the ceiling would mean leakage
    assert auc <= ceiling + 0.03, (auc, ceiling)
    # it beats the recency-only rule (days since last activity) on the same customers
    F, _ = fe.features_at(tiny, r.test_cutoff, tiny.cfg)
    rule = md.auc(r.test["y"].to_numpy(), F.reindex(r.test.index)["recency_days"].fillna(1e6).to_numpy())
    assert auc > rule, (auc, rule)
    # probabilities mean what they say: expected churners within 15% of actual
    assert r.test["p"].sum() == pytest.approx(r.test["y"].sum(), rel=0.15)
    # measured 35.6% of the live base shows no activity in the 60 days (left, or quiet)
    assert 0.2 < r.scores["base_rate"] < 0.6


def test_tiny_metrics_every_key_and_privacy(tiny, tmp_path):
    m = pr.metrics(tiny, tiny.cfg)
    for t in pr.TARGETS:
        assert set(pr.MODEL_KEYS) <= set(m[t]), t
        assert m[t]["horizon_days"] == (90 if t == "churn" else 60)
        lo, hi = m[t]["roc_auc_ci_low"], m[t]["roc_auc_ci_high"]
        assert lo < m[t]["roc_auc"] < hi and m[t]["auc_gain_ci_low"] < m[t]["auc_gain"] < m[t]["auc_gain_ci_high"]
    assert m["churn"]["status"] == "ok" and m["churn"]["expected_churners"] > 0 and m["churn"]["revenue_at_risk"] > 0
    assert m["churn"]["rule_feature"] == "recency_days" and m["churn"]["actionable"] is True
    # target lists: written with pseudonymized ids only
    in_run = tiny.cfg.model_copy(update={"run": config.RunContext(folder=tmp_path, exports=tmp_path,
                                                                  results=tmp_path / "r.json")})
    notes = view.export_lists(tiny, in_run)
    assert notes and notes[0].startswith("Target list written: exports/prediction_churn.csv")
    df = pd.read_csv(tmp_path / "prediction_churn.csv")
    assert df["customer_id"].str.startswith("cx_").all()
    assert not df["customer_id"].str.match(r"^C\d+$").any()
    assert list(df.columns) == ["customer_id", "probability", "band", "drivers"]
    assert df["drivers"].fillna("").str.contains("no activity for").any()   # drivers in words
    # the aggregate driver table shows no ids and no group under k
    d = pr.driver_summary(tiny, tiny.cfg)
    assert "customer_id" not in d.columns and (d["customers"] >= tiny.cfg.definitions.k_anonymity).all()


def test_importance_is_measured_on_first_use_on_its_bounded_sample(tiny):
    cfg = tiny.cfg.updated(prediction={"max_importance_rows": 150})
    r = pr.backtest(tiny, cfg, "upsell")
    assert r.importance is None                      # not measured until it is shown
    X, y = r.importance_rows
    assert len(X) == len(y) == 150 < r.n_test and y.mean() == pytest.approx(r.test["y"].mean(), abs=0.01)
    imp = pr.importance(tiny, cfg, "upsell")
    assert imp.equals(md.permutation_importance(r.fitted, X, y, cfg.prediction.seed))
    assert pr.backtest(tiny, cfg, "upsell").importance is imp    # kept with the result: measured once
    assert set(imp["feature"]) <= {md.feature_of(c) for c in r.fitted.columns_}


def test_batched_scoring_does_not_change_importance_or_drivers(monkeypatch):
    rng = np.random.default_rng(2)
    X = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300),
                      "device=web": (rng.random(300) < 0.5).astype(float)})
    X["device=app"] = 1.0 - X["device=web"]
    y = ((X["a"] + X["device=web"] + rng.normal(scale=0.5, size=300)) > 0.5).astype(int).to_numpy()
    m = md.Model("gbm", PredictionSettings()).fit(X, y)
    imp, drv = md.permutation_importance(m, X, y, seed=3), md.drivers(m, X.iloc[:50], X)
    monkeypatch.setattr(md, "_BATCH_ROWS", 1)        # one copy per scoring call
    pd.testing.assert_frame_equal(md.permutation_importance(m, X, y, seed=3, batch_rows=1), imp)
    pd.testing.assert_frame_equal(md.drivers(m, X.iloc[:50], X), drv)
    assert set(drv["feature"]) <= {"a", "b", "device"} and len(drv)


def test_large_windows_are_fitted_on_a_sample_and_say_so(tiny):
    cfg = tiny.cfg.updated(prediction={"max_fit_rows": 200, "max_choice_rows": 150, "max_importance_rows": 150})
    full = pr.backtest(tiny, tiny.cfg, "churn")
    r = pr.backtest(tiny, cfg, "churn")
    assert full.n_fit == full.n_train and r.n_train == full.n_train > 200
    assert r.status == "ok" and r.n_fit == 200
    # every test customer is still scored, and the sample model still ranks well
    assert r.n_test == full.n_test and len(r.test) == len(full.test)
    assert r.scores["roc_auc"] > 0.75 and r.scores["roc_auc"] > full.scores["roc_auc"] - 0.08
    assert len(r.scored) == len(full.scored)
    en = view.insights(tiny, cfg)
    assert any("random sample of 200" in s for s in en)
    assert not any("random sample" in s for s in view.insights(tiny, tiny.cfg))
    ko = view.insights(tiny, cfg.model_copy(update={"language": "ko"}))
    assert any("표본 200명" in s for s in ko)


def test_tiny_generated_text_en_and_ko(tiny):
    en = view.insights(tiny, tiny.cfg)
    assert en[0].startswith("Churn: trained on") and "ROC AUC" in en[0]
    assert any("expects" in s for s in en)
    nxt = view.next_steps(tiny, tiny.cfg)
    assert nxt and "churn list" in nxt[0]
    ko_cfg = tiny.cfg.model_copy(update={"language": "ko"})
    ko = view.insights(tiny, ko_cfg)
    assert ko[0].startswith("이탈:") and "ROC AUC" in ko[0]
    assert all("nan" not in s and "None" not in s for s in en + ko)


# --------------------------------------------------------------------------
# Real export shapes at the tiny client's size: every model trains
# --------------------------------------------------------------------------

def test_orders_only_export_without_discount_code_regression(tiny, make_dataset):
    # An orders-only export without discount_code failed in scikit-learn
    # 1.9's HistGradientBoosting ("window shape cannot be larger than input
    # array shape": discount_share was all missing).
    orders = tiny.raw("orders").execute()
    ds = make_dataset({"orders": orders.drop(columns=["discount_code"])})
    m = pr.metrics(ds, ds.cfg)
    assert m["churn"]["status"] == "ok" and m["upsell"]["status"] == "ok", m
    assert m["promoter"]["reason"] == "table"
    assert "discount_share" not in fe.features_at(ds, ds.cfg.period.end, ds.cfg)[0].columns
    # one device on every order: the feature has nothing to teach, is left out and named
    ds = make_dataset({"orders": orders.assign(device="web")}, language="ko")
    m = pr.metrics(ds, ds.cfg)
    assert m["churn"]["status"] == "ok" and "device" in m["churn"]["dropped_features"]
    assert "device" in m["upsell"]["dropped_features"]
    dropped = [s for s in view.insights(ds, ds.cfg) if "제외한 특성" in s]
    assert len(dropped) == 1 and "기기" in dropped[0]      # one sentence, the feature by its Korean name
    en = view.insights(ds, ds.cfg.model_copy(update={"language": "en"}))
    assert en[-1].startswith("Left out of the models because") and "device" in en[-1]


def test_events_only_export_without_feature_value_or_session_id(tiny, make_dataset):
    # events only, without the optional columns real exports lack: orders
    # are derived from purchase events without amounts
    ev = tiny.raw("events").execute().drop(columns=["feature", "value", "session_id"])
    ds = make_dataset({"events": ev})
    m = pr.metrics(ds, ds.cfg)
    assert m["churn"]["status"] == "ok", m["churn"]
    assert m["churn"]["expected_churners"] > 0 and m["churn"]["revenue_at_risk"] is None
    assert m["upsell"]["reason"] == "amounts"
    en = view.insights(ds, ds.cfg)
    assert any("expects" in s for s in en) and not any("revenue" in s for s in en)
    assert "revenue_at_risk" not in pr.bands(ds, ds.cfg).columns


# --------------------------------------------------------------------------
# Issue 17: an honest churn outlook, advice only from models worth acting on
# --------------------------------------------------------------------------

def test_days_silent_lapsed_and_the_silence_table(hand):
    cfg = hand.cfg
    # last activity before 2026-11-01 (events with a customer id, orders of any status):
    # A 10-05 (order o5) → silent 10-06…10-31: 26 days; B 08-01 → 08-02…10-31: 91; C 09-01: 60
    assert pr.days_silent(hand, cfg).to_dict() == {"A": 26, "B": 91, "C": 60}
    # at 10-01: A 09-28 → 2 days (09-29, 09-30); B 60; C 29
    assert pr.days_silent(hand, cfg, C).to_dict() == {"A": 2, "B": 60, "C": 29}
    # churned in the 90 days before 11-01 (last activity in [05-05, 08-03)): B; her paid spend in the
    # year before 11-01: o4 30,000
    assert pr.lapsed(hand, cfg) == {"customers": 1, "revenue": 30000.0, "days": 90}
    # a 60-day churn window: silent 60–119 days → B (91) and C (60); a 30-day one: 30–59 → nobody
    assert pr.lapsed(hand, cfg.updated(definitions={"churn_inactivity_days": 60}))["customers"] == 2
    assert pr.lapsed(hand, cfg.updated(definitions={"churn_inactivity_days": 30}))["customers"] == 0


def test_churn_label_window_is_the_churn_definition(hand):
    # Measured (issue 17): the churn model scored everyone active in the
    # last 90 days with a 60-day label, so customers already silent 60–90
    # days were "churners" before the window began. The label is the churn
    # definition applied at the horizon's end; prediction.horizon_days does not move it.
    cfg = hand.cfg
    assert lb.horizon_days(cfg, "churn") == 90 and lb.horizon_days(cfg, "upsell") == 30
    assert lb.lookback_days(cfg.updated(prediction={"lookback_days": 7}), "churn") == 90
    d30 = cfg.updated(definitions={"churn_inactivity_days": 30})
    # D = 30 at 10-01: base = activity in [09-01, 10-01) → A, C (B last 08-01 is already churned);
    # label = no activity in [10-01, 10-31): A active 10-03 → 0; C → 1
    assert lb.churn_labels(hand, C, d30).to_dict() == {"A": 0, "C": 1}
    assert lb.horizon_days(d30, "churn") == 30


def test_bootstrap_auc_on_a_hand_checked_window():
    y = np.array([1, 1, 1, 0, 0, 0, 0])
    p = np.array([0.9, 0.8, 0.3, 0.7, 0.2, 0.1, 0.3])
    # pairs (3 × 4 = 12): 0.9 and 0.8 beat all 4 negatives (8); 0.3 beats 0.2, 0.1 and ties 0.3 (2.5)
    # → 10.5 / 12 = 0.875
    b = md.bootstrap_auc(y, p, n=500, seed=1)
    assert b["roc_auc"] == pytest.approx(0.875)
    lo, hi = b["roc_auc_ci"]
    assert 0.4 < lo < 0.875 < hi <= 1.0
    assert md.bootstrap_auc(y, p, n=500, seed=1) == b                      # seeded
    # the resampled AUC with every customer drawn once is the plain AUC (ties half)
    k, m = md._rank_index(p)
    assert md._auc_ranked(k[:3], k[3:], m) == pytest.approx(0.875)
    # drawn twice, the positive 0.3 (beats 0.2, 0.1, ties 0.3) and the negative 0.3 (tied by it alone):
    # positives 0.9, 0.8, 0.3, 0.3 against negatives 0.7, 0.2, 0.1, 0.3, 0.3: 5 + 5 + 2 × (2 + 2 × 0.5) = 16 of 20
    assert md._auc_ranked(k[[0, 1, 2, 2]], k[[3, 4, 5, 6, 6]], m) == pytest.approx(0.8)
    # paired against a reference score: the gain is the difference, its interval paired
    ref = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7])                    # ranks the negatives higher: AUC 0
    g = md.bootstrap_auc(y, p, ref, n=500, seed=1)
    assert g["ref_roc_auc"] == 0.0 and g["gain"] == pytest.approx(0.875)
    assert g["gain_ci"][0] > 0.4 and g["ref_roc_auc_ci"] == [0.0, 0.0]
    # one class only: no interval
    assert md.bootstrap_auc(np.ones(3), np.arange(3.0))["roc_auc_ci"] is None


def test_best_rule_is_chosen_on_the_training_window():
    X = pd.DataFrame({"recency_days": [1.0, 2.0, 50.0, 60.0, np.nan, 3.0],
                      "spend": [5.0, 5.0, 5.0, 5.0, 5.0, 5.0],              # constant: never a rule
                      "device=mobile": [1.0, 0.0, 1.0, 0.0, 1.0, 0.0]})     # a category: never a rule
    y = np.array([0, 0, 1, 1, 1, 0])
    r = md.best_rule(X, y)
    # long silence means churn; a missing recency (never active) ranks as the longest
    assert r["feature"] == "recency_days" and r["direction"] == 1 and r["fill"] == 61.0 and r["roc_auc"] == 1.0
    assert list(md.rule_scores(X, r)) == [1.0, 2.0, 50.0, 60.0, 61.0, 3.0]
    assert md.best_rule(X[["spend", "device=mobile"]], y) is None


def _judged(auc_ci, gain=None, gain_ci=None) -> pr.Result:
    r = pr.Result("upsell", "ok", None, 60, C, C)
    r.boot = {"roc_auc": 0.6, "roc_auc_ci": auc_ci, "gain": gain, "gain_ci": gain_ci}
    return r


def test_verdict_rules():
    assert pr.verdict(_judged([0.48, 0.66], 0.10, [0.01, 0.2])) == "chance"      # may be a coin
    assert pr.verdict(_judged([0.52, 0.66], 0.01, [-0.03, 0.05])) == "rule"      # the rule does as well
    assert pr.verdict(_judged([0.52, 0.66], 0.05, [-0.01, 0.11])) == "uncertain"  # cannot tell apart
    assert pr.verdict(_judged([0.52, 0.66], 0.05, [0.01, 0.09])) == "ok"
    assert pr.verdict(_judged([0.52, 0.66], 0.05, [0.01, 0.09]), min_gain=0.06) == "rule"
    # no rule to compare with: above chance by the margin
    assert pr.verdict(_judged([0.53, 0.66])) == "ok" and pr.verdict(_judged([0.51, 0.66])) == "rule"
    r = _judged([0.52, 0.66], 0.05, [0.01, 0.09])
    assert r.actionable and not _judged([0.48, 0.66]).actionable


def test_tiny_churn_outlook_regression(tiny):
    # Measured before (issue 17): 58 of 191 expected churners were customers
    # already silent 60–90 days under a 60-day label; 61 of the 149 "high".
    cfg = tiny.cfg
    r = pr.backtest(tiny, cfg, "churn")
    d = cfg.definitions.churn_inactivity_days
    assert r.horizon_days == d == 90
    silent = pr.days_silent(tiny, cfg)
    # nobody scored has already completed the churn silence
    assert silent.reindex(r.scored.index).max() < d
    lp = pr.lapsed(tiny, cfg)
    lapsed_ids = silent.index[(silent >= d) & (silent < 2 * d)]
    assert lp["customers"] == len(lapsed_ids) > 0 and not set(lapsed_ids) & set(r.scored.index)
    o = pr.churn_outlook(tiny, cfg)
    assert o["customers"] == len(r.scored) and o["horizon_days"] == 90
    t = pr.outlook_by_silence(tiny, cfg)
    assert list(t["silence"]) == ["recent", "quiet", "dormant", "lapsed"]
    fc = t[t["silence"] != "lapsed"]
    assert fc["customers"].sum() == o["customers"] and fc["expected"].sum() == pytest.approx(o["expected"])
    assert fc["revenue_at_risk"].sum() == pytest.approx(o["revenue_at_risk"])
    assert t.iloc[-1]["customers"] == lp["customers"] and np.isnan(t.iloc[-1]["expected"])
    m = pr.metrics(tiny, cfg)["churn"]
    assert (m["expected_churners"], m["scored_customers"], m["already_lapsed"]) == (
        pytest.approx(o["expected"]), o["customers"], lp["customers"])
    # the words: the forecast over those not churned, the lapsed apart, the date the window ends
    en = view.insights(tiny, cfg)
    now = next(s for s in en if s.startswith("Of the"))
    assert "not churned at the end of October 2026" in now and "next 90 days" in now and "2027-01-29" in now
    assert any(s.startswith(f"Not in that forecast: {lp['customers']} customers already churned") for s in en)
    cells = view.silence_table(tiny, cfg).cells()
    assert cells.iloc[-1, 0] == "already churned (90–179 days)" and cells.iloc[-1, 2] == "–"


def test_tiny_advice_only_from_models_worth_acting_on_regression(tiny, tmp_path):
    # Measured before (issue 17): "Offer an upgrade … to the upsell list"
    # appeared while the same section called the upsell model weak (AUC
    # 0.58, top-decile lift 1.09). On the tiny client the upsell model does
    # no better than sorting by days without a purchase, and the promoter
    # model's gain over the NPS answers is within noise.
    cfg = tiny.cfg
    res = pr.results(tiny, cfg)
    assert res["churn"].verdict == "ok" and res["upsell"].verdict == "rule" and res["promoter"].verdict == "uncertain"
    nxt = " ".join(view.next_steps(tiny, cfg))
    assert "Offer an upgrade" not in nxt and "likeliest promoters" not in nxt
    assert "Do not act on the Upsell model" in nxt and "churn list" in nxt
    en = view.insights(tiny, cfg)
    assert any(s.startswith("Upsell: not good enough to act on.") for s in en)
    assert not any("upsell list" in s or "promoter list" in s for s in en)
    in_run = cfg.model_copy(update={"run": config.RunContext(folder=tmp_path, exports=tmp_path,
                                                             results=tmp_path / "r.json")})
    notes = view.export_lists(tiny, in_run)
    assert "No Upsell list: the model is not good enough to act on this month." in notes
    assert sorted(p.name for p in tmp_path.glob("prediction_*.csv")) == ["prediction_churn.csv"]
    cells = view.validation_table(tiny, cfg).cells()
    assert list(cells["Act on it?"]) == ["yes", "no: gain uncertain", "no: no better than the rule"]
    # a stricter margin withholds the churn advice too, and says so
    strict = cfg.updated(prediction={"min_auc_gain": 0.2})
    assert pr.backtest(tiny, strict, "churn").verdict == "rule"
    assert not any("churn list" in s for s in view.next_steps(tiny, strict))


def test_drivers_intro_is_shown_only_with_its_list(hand, monkeypatch):
    """Regression: the notebook's "…가장 흔한 요인 (고객당 최대 세 가지):"
    dangled when no list followed. The sentence is now part of the drivers
    block: shown with the table, gone with it."""
    cfg = hand.cfg.updated(language="ko")
    assert view.drivers_table(hand, cfg, "churn") is None            # no model on the hand-built client
    d = pd.DataFrame({"feature": ["recency_days"], "customers": [12], "share": [0.4]})
    monkeypatch.setattr(pr, "driver_summary", lambda ds, cfg, target="churn": d)
    b = view.drivers_table(hand, cfg, "churn")
    html = b._repr_html_()
    assert html.startswith("<p>위험이 가장 높은 고객들에게서 가장 흔한 요인 (고객당 최대 세 가지):</p>")
    assert "40.0%" in html
    import json
    from pathlib import Path

    nb = json.loads((Path(__file__).resolve().parents[2] / "notebooks" / "70_prediction.ipynb").read_text())
    assert not any("".join(c["source"]).rstrip().endswith(":") for c in nb["cells"] if c["cell_type"] == "markdown")


def test_feature_tables_are_let_go_once_no_target_needs_them(tiny, monkeypatch):
    import journeykit as jk

    ds = jk.load(tiny.cfg)       # a dataset of its own: nothing computed yet
    steps: list[tuple[str, dt.date]] = []
    real_blocks, real_forget = fe.feature_blocks, ds.forget
    monkeypatch.setattr(fe, "feature_blocks",
                        lambda d, c, by="activity", among=(): steps.append(("compute", c)) or real_blocks(d, c, by, among))
    monkeypatch.setattr(ds, "forget", lambda key, settings=None: steps.append(("forget", key[1])) or real_forget(key, settings))
    res = pr.results(ds, ds.cfg)
    assert all(r.status == "ok" for r in res.values())
    churn, promoter = pr.cutoffs(ds.cfg, "churn"), pr.cutoffs(ds.cfg, "promoter")
    assert churn[0] not in promoter and churn[2] == promoter[2]      # the period end is shared
    computed = [c for k, c in steps if k == "compute"]
    assert sorted(computed) == sorted({c for t in pr.TARGETS for c in pr.cutoffs(ds.cfg, t)})   # each once
    # churn's own cutoffs are let go before promoter's first table is built
    assert steps.index(("forget", churn[0])) < steps.index(("compute", promoter[0]))
    assert not [k for k, _ in ds._memo if k[0] == "prediction_features"]   # nothing held at the end
    pr.results(ds, ds.cfg)                                                # asked again: nothing recomputed
    assert [c for k, c in steps if k == "compute"] == computed
    ds.close()

