"""Advocacy (section 50, compute and view) on hand-built fixtures, on shops
of other shapes (their own names, few optional columns), and on the tiny
demo data.

The fixture below is small enough to count by hand; every expected value
says how it was counted. Period 2026-10, comparison period 2026-09.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
import shutil

import pandas as pd
import pytest
import yaml

from journeykit import report
from journeykit.core import config
from journeykit.core.errors import SectionNotAvailable
from journeykit.core.periods import Period
from journeykit.data import loader as io
from journeykit.sections.advocacy import compute as adv
from journeykit.sections.advocacy import view as adv_view
from journeykit.sections.registry import require
ROOT = Path(__file__).resolve().parents[2]
from test_metrics_awareness import recorded_metrics, run_notebook

OCT, SEP = Period(2026, 10), Period(2026, 9)
DEFS = {"min_group_size": 3, "k_anonymity": 2, "min_sample_size": 5}

# response_id, responded_at, customer_id, touchpoint, nps
SURVEYS = [
    ("r1", "2026-10-02 10:00", "c1", "post_purchase", 10),
    ("r2", "2026-10-03 10:00", "c2", "post_purchase", 9),
    ("r3", "2026-10-04 10:00", "c3", "post_purchase", 9),
    ("r4", "2026-10-05 10:00", "c4", "post_purchase", 8),
    ("r5", "2026-10-06 10:00", "c5", "post_purchase", 7),
    ("r6", "2026-10-10 10:00", "c6", "support", 6),
    ("r7", "2026-10-11 10:00", "c7", "support", 3),
    ("r8", "2026-10-12 10:00", "c8", "support", 0),
    ("r9", "2026-10-20 10:00", "c9", "in_app", 10),
    ("r10", "2026-10-21 10:00", "c10", "in_app", None),   # CSAT-only answer: not an NPS response
    ("s1", "2026-09-05 10:00", "c1", "post_purchase", 10),
    ("s2", "2026-09-06 10:00", "c3", "support", 5),
    ("s3", "2026-09-07 10:00", "c4", "support", 5),
    ("s4", "2026-09-08 10:00", "c5", "post_purchase", 8),
]
# customer_id, signup_at, referred_by
CUSTOMERS = [(f"c{i}", "2026-01-15 09:00", None) for i in range(1, 9)] + [
    ("c9", "2026-09-10 09:00", "c1"), ("c14", "2026-09-12 09:00", None),
    ("c10", "2026-10-02 09:00", "c1"), ("c11", "2026-10-03 09:00", None),
    ("c12", "2026-10-04 09:00", "c2"), ("c13", "2026-10-05 09:00", None),
]
# occurred_at, event_type, customer_id, value
EVENTS = [
    ("2026-09-28 08:00", "login", "c1", None), ("2026-09-29 08:00", "login", "c1", None),
    ("2026-09-29 09:00", "feature_use", "c1", None),
    ("2026-10-01 08:00", "login", "c3", None), ("2026-10-02 08:00", "login", "c3", None),
    ("2026-10-03 08:00", "feature_use", "c3", None),
    ("2026-10-08 12:00", "review", "c1", 5), ("2026-10-09 12:00", "review", "c2", 4),
    ("2026-10-15 12:00", "review", "c1", 3),
    ("2026-10-03 12:00", "referral", "c5", None), ("2026-10-04 12:00", "referral", "c1", None),
    ("2026-10-05 12:00", "share", "c4", None), ("2026-10-06 12:00", "share", "c4", None),
    ("2026-09-15 12:00", "review", "c3", 2), ("2026-09-10 12:00", "share", "c1", None),
]
# ticket_id, customer_id, created_at, csat
TICKETS = [
    ("t1", "c6", "2026-09-20 10:00", 1),     # 20 days before r6: recent
    ("t2", "c7", "2026-10-01 10:00", 5),     # before r7, the latest of c7's two
    ("t6", "c7", "2026-09-25 10:00", 2),
    ("t3", "c8", "2026-05-01 10:00", 2),     # 164 days before r8: not recent
    ("t4", "c3", "2026-09-01 10:00", None),  # before s2 (5 days) and r3 (33 days), unrated
    ("t5", "c6", "2026-10-15 10:00", 4),     # after r6: does not count for it
]
ORDERS = [("o1", "c6", "2026-10-09 10:00", 10000.0), ("o2", "c7", "2026-09-09 10:00", 12000.0)]


def _frames(with_events=True, with_customers=True, with_tickets=True):
    out = {"surveys": pd.DataFrame(SURVEYS, columns=["response_id", "responded_at", "customer_id", "touchpoint",
                                                     "nps"]).astype({"nps": "Float64"}),
           "orders": pd.DataFrame(ORDERS, columns=["order_id", "customer_id", "ordered_at", "amount"])}
    if with_customers:
        out["customers"] = pd.DataFrame(CUSTOMERS, columns=["customer_id", "signup_at", "referred_by"])
    if with_events:
        out["events"] = pd.DataFrame(EVENTS, columns=["occurred_at", "event_type", "customer_id", "value"])
    if with_tickets:
        out["tickets"] = pd.DataFrame(TICKETS, columns=["ticket_id", "customer_id", "created_at", "csat"])
    return out


@pytest.fixture
def ds(make_dataset):
    return make_dataset(_frames(), definitions=DEFS)


def _relaxed(cfg):
    """The same run with every group shown (no folding, no suppression)."""
    return cfg.model_copy(update={"definitions": cfg.definitions.model_copy(
        update={"min_group_size": 1, "k_anonymity": 1})})


# --------------------------------------------------------------------------
# KPIs of one period
# --------------------------------------------------------------------------

def test_nps_counts_by_hand(ds):
    v = adv.nps_counts(ds, OCT)
    # October answers 10, 9, 9, 8, 7, 6, 3, 0, 10 (r10 has no NPS answer)
    assert v["responses"] == 9
    assert (v["promoters"], v["passives"], v["detractors"]) == (4, 2, 3)   # 10,9,9,10 | 8,7 | 6,3,0
    assert v["nps"] == pytest.approx(1 / 9)                                 # (4 − 3) / 9
    assert v["promoter_share"] == pytest.approx(4 / 9)
    assert v["passive_share"] == pytest.approx(2 / 9)
    assert v["detractor_share"] == pytest.approx(3 / 9)
    # var = (4/9 + 3/9 − (1/9)²) / 9 = 0.0850480; half = 1.959964 × 0.291630 = 0.571584
    assert v["nps_ci_low"] == pytest.approx(-0.460473, abs=1e-5)
    assert v["nps_ci_high"] == pytest.approx(0.682695, abs=1e-5)
    p = adv.nps_counts(ds, SEP)
    # September: 10 | 8 | 5, 5 → NPS (1 − 2) / 4
    assert (p["responses"], p["promoters"], p["passives"], p["detractors"]) == (4, 1, 1, 2)
    assert p["nps"] == pytest.approx(-0.25)


def test_nps_counts_empty_period(ds):
    v = adv.nps_counts(ds, Period(2026, 3))
    assert v["responses"] == 0 and v["nps"] is None and v["nps_ci_low"] is None and v["promoter_share"] is None


def test_review_stats_by_hand(ds):
    v = adv.review_stats(ds, OCT)
    # active in October: c1, c2 (reviews), c3 (logins), c4 (shares), c5 (referral), c6 (order) = 6
    assert v["active_customers"] == 6
    assert v["reviewers"] == 2 and v["reviews"] == 3      # c1 twice, c2 once
    assert v["review_rate"] == pytest.approx(2 / 6)
    assert v["rating"] == pytest.approx(4.0)              # (5 + 4 + 3) / 3
    assert v["rating_sd"] == pytest.approx(1.0)           # sample sd of 5, 4, 3
    p = adv.review_stats(ds, SEP)
    # active in September: c1 (logins, share), c3 (review), c7 (order) = 3; one review by c3, rated 2
    assert (p["active_customers"], p["reviewers"], p["review_rate"], p["rating"]) == (3, 1, pytest.approx(1 / 3), 2.0)


def test_referral_stats_by_hand(ds):
    v = adv.referral_stats(ds, OCT)
    # new in October: c10 (referred by c1), c11, c12 (referred by c2), c13
    assert (v["new_customers"], v["referred"]) == (4, 2)
    assert v["referral_rate"] == pytest.approx(0.5)
    assert (v["referral_events"], v["referrers"]) == (2, 2)     # c5, c1
    assert (v["shares"], v["sharers"]) == (2, 1)                # c4 twice
    p = adv.referral_stats(ds, SEP)
    # new in September: c9 (referred by c1), c14
    assert (p["new_customers"], p["referred"], p["referral_rate"]) == (2, 1, 0.5)
    assert (p["referral_events"], p["shares"]) == (0, 1)


# --------------------------------------------------------------------------
# Period over period
# --------------------------------------------------------------------------

def test_changes_on_little_data_say_so(ds):
    chs = {c.key: c for c in adv.changes(ds, ds.cfg)}
    assert set(chs) == {"nps", "promoter_share", "detractor_share", "responses", "review_rate", "rating",
                        "referral_rate", "referral_events", "shares"}
    assert chs["nps"].value == pytest.approx(1 / 9) and chs["nps"].prev == pytest.approx(-0.25)
    assert chs["nps"].verdict == "too_little_data"          # 4 responses in September < min_sample_size 5
    assert chs["referral_rate"].verdict == "too_little_data"
    assert chs["detractor_share"].higher_is_better is False


def _big_surveys(oct_counts, sep_counts):
    """Responses: ``(promoters, detractors)`` per month, one customer each."""
    rows, i = [], 0
    for month, (p, d) in (("2026-10", oct_counts), ("2026-09", sep_counts)):
        for score in [10] * p + [2] * d:
            i += 1
            rows.append((f"r{i}", f"{month}-{1 + i % 28:02d} 12:00", f"c{i}", "post_purchase", score))
    return pd.DataFrame(rows, columns=["response_id", "responded_at", "customer_id", "touchpoint", "nps"])


def test_significant_fall_is_reported_en_and_ko(make_dataset):
    frames = {"surveys": _big_surveys((10, 30), (30, 10)),
              "orders": pd.DataFrame(ORDERS, columns=["order_id", "customer_id", "ordered_at", "amount"])}
    for lang, fell, rose in (("en", "NPS fell from 50.0 to −50.0", "Detractors (0–6) rose from 25.0% to 75.0%"),
                             ("ko", "NPS −100.0 하락 (50.0 → −50.0)", "비추천 고객 (0–6점) +50.0%p 상승")):
        d = make_dataset(frames, language=lang)
        chs = {c.key: c for c in adv.changes(d, d.cfg)}
        # October: 10 P, 30 D → NPS −0.5; September 30 P, 10 D → 0.5.
        # var = (1 − 0.25) / 40 each; z = 1 / sqrt(0.0375) = 5.16 → p < 0.001
        assert chs["nps"].value == pytest.approx(-0.5) and chs["nps"].prev == pytest.approx(0.5)
        assert chs["nps"].verdict == "significant" and chs["nps"].direction == "down"
        assert chs["detractor_share"].significant and chs["detractor_share"].good is False
        text = " ".join(report.describe_changes(list(chs.values()), adv_view.labels(d.cfg), adv_view.KINDS, d.cfg))
        assert fell.replace("−", "-") in text.replace("−", "-")
        assert rose in text
        # the advice follows the verdict, in the key figures
        shown = repr(report.key_figures(list(chs.values()), adv_view.labels(d.cfg), adv_view.KINDS, d.cfg,
                                        advice=adv.advice(d.cfg)))
        assert ("detractor share rose significantly since September 2026" in shown) or (
            "2026년 9월 대비 비추천 고객 비율이 유의하게" in shown)
        nxt = adv_view.next_steps(adv.compute(d, d.cfg), d.cfg)
        assert not any(("detractor share rose" in s) or ("비추천 고객 비율이 유의하게" in s) for s in nxt)


def test_headline_en_and_ko(ds, make_dataset):
    v = adv.nps_counts(ds, OCT)
    assert adv_view.headline(v, ds.cfg) == ("NPS in October 2026 is 11.1 (95% interval −46.0 to 68.3) from 9 responses: "
                                       "44.4% promoters, 33.3% detractors.")
    ko = make_dataset(_frames(), language="ko", definitions=DEFS)
    assert adv_view.headline(v, ko.cfg) == ("2026년 10월 NPS는 11.1점(95% 신뢰구간 −46.0~68.3)이며, 응답 9건 중 추천 고객 44.4%, "
                                       "비추천 고객 33.3%입니다.")
    assert adv_view.headline(adv.nps_counts(ds, Period(2026, 3)), ds.cfg).startswith("No survey response")


# --------------------------------------------------------------------------
# Monthly trend
# --------------------------------------------------------------------------

def test_monthly_by_hand(ds):
    m = adv.monthly(ds, ds.cfg).set_index("month")
    # the trend starts with the first survey response (2026-09-05), not twelve months back
    assert list(m.index) == [pd.Timestamp("2026-09-01"), pd.Timestamp("2026-10-01")]
    oct_, sep = m.loc[pd.Timestamp("2026-10-01")], m.loc[pd.Timestamp("2026-09-01")]
    assert oct_["nps"] == pytest.approx(1 / 9) and sep["nps"] == pytest.approx(-0.25)
    assert oct_["review_rate"] == pytest.approx(2 / 6) and sep["review_rate"] == pytest.approx(1 / 3)
    assert oct_["referral_rate"] == pytest.approx(0.5) and oct_["shares"] == 2 and oct_["referral_events"] == 2
    assert oct_["rating"] == pytest.approx(4.0) and sep["rating"] == pytest.approx(2.0)


def test_trend_starts_with_the_first_survey_month_and_keeps_gaps(make_dataset):
    """Regression: the trend showed the months before the first survey as
    empty months; a month without responses inside the data stays a gap."""
    frames = _frames()
    frames["surveys"] = frames["surveys"].assign(
        responded_at=frames["surveys"].responded_at.str.replace("2026-09-", "2026-07-"))
    d = make_dataset(frames, definitions=DEFS)
    m = adv.monthly(d, d.cfg).set_index("month")
    assert [t.month for t in m.index] == [7, 8, 9, 10]
    assert m.loc[pd.Timestamp("2026-08-01"), "responses"] == 0 and math.isnan(m.loc[pd.Timestamp("2026-08-01"), "nps"])


# --------------------------------------------------------------------------
# Breakdowns
# --------------------------------------------------------------------------

def test_touchpoint_folds_small_groups(ds):
    df = adv.nps_by_touchpoint(ds, ds.cfg).set_index("touchpoint")
    # post_purchase 10,9,9,8,7 → (3 − 0) / 5; support 6,3,0 → −1; in_app (1 response, 1 customer) → other
    assert list(df.index) == ["post_purchase", "support", adv.OTHER]
    assert df.loc["post_purchase", "nps"] == pytest.approx(0.6)
    assert df.loc["support", "nps"] == pytest.approx(-1.0)
    assert df.loc[adv.OTHER, "responses"] == 1
    assert math.isnan(df.loc[adv.OTHER, "nps"])       # 1 response < min_group_size 3: not shown
    sentence = adv_view.describe_touchpoints(df.reset_index(), ds.cfg)
    assert sentence == ["The lowest NPS is after a support ticket (−100.0, 3 responses), the highest after a "
                        "purchase (60.0)."]


def test_nps_by_recent_ticket_by_hand(ds):
    df = adv.nps_by_recent_ticket(ds, ds.cfg, months=2).set_index("group")
    # ticket in the 90 days before: r3 (9, t4), r6 (6, t1), r7 (3, t2/t6), s2 (5, t4) → (1 − 3) / 4
    assert df.loc["ticket", "responses"] == 4 and df.loc["ticket", "customers"] == 3
    assert df.loc["ticket", "nps"] == pytest.approx(-0.5)
    # the other 9: 10, 9, 8, 7, 0, 10, 10, 5, 8 → P 4, Pa 3, D 2 → (4 − 2) / 9
    assert df.loc["no_ticket", "responses"] == 9
    assert df.loc["no_ticket", "nps"] == pytest.approx(2 / 9)
    gap = adv.support_gap(df.reset_index(), ds.cfg)
    assert gap.value == pytest.approx(-0.5) and gap.prev == pytest.approx(2 / 9)


def test_nps_by_ticket_csat_uses_latest_ticket(ds):
    df = adv.nps_by_ticket_csat(ds, _relaxed(ds.cfg), months=2).set_index("group")
    # r6 → t1 (CSAT 1); r7 → t2 (CSAT 5, later than t6); r3 and s2 → t4 (unrated)
    assert list(df.index) == ["csat_1", "csat_5", "csat_none"]
    assert df.loc["csat_1", "nps"] == pytest.approx(-1.0)     # 6
    assert df.loc["csat_5", "nps"] == pytest.approx(-1.0)     # 3
    assert df.loc["csat_none", "nps"] == pytest.approx(0.0)   # 9 and 5 → (1 − 1) / 2
    folded = adv.nps_by_ticket_csat(ds, ds.cfg, months=2)
    assert list(folded["group"]) == [adv.OTHER] and folded["responses"].sum() == 4


def test_nps_by_usage_by_hand(ds):
    df = adv.nps_by_usage(ds, _relaxed(ds.cfg), months=2).set_index("group")
    # r1: c1 used on 09-28 and 09-29 (2 days) → usage_1; r3: c3 on 10-01..10-03 → usage_3; the other 11 → usage_0
    assert list(df.index) == ["usage_0", "usage_1", "usage_3"]
    assert df.loc["usage_1", "responses"] == 1 and df.loc["usage_3", "responses"] == 1
    # usage_0: 9, 8, 7, 6, 3, 0, 10, 10, 5, 5, 8 → P 3, Pa 3, D 5 → (3 − 5) / 11
    assert df.loc["usage_0", "nps"] == pytest.approx(-2 / 11)


def test_referrer_profile_by_hand(ds):
    df = adv.referrer_profile(ds, ds.cfg).set_index("group")
    # referrers c1 (named by c9, c10) and c2 (by c12): answers 10, 10, 9
    assert df.loc["referrer", "responses"] == 3 and df.loc["referrer", "promoter_share"] == pytest.approx(1.0)
    # everyone else: 9, 8, 7, 6, 3, 0, 10, 5, 5, 8 → P 2, Pa 3, D 5
    assert df.loc["non_referrer", "responses"] == 10
    assert df.loc["non_referrer", "nps"] == pytest.approx(-0.3)
    assert adv_view.describe_referrers(df.reset_index(), ds.cfg) == [
        "Customers who referred someone are promoters in 100.0% of their responses, against 20.0% for other "
        "respondents."]


# --------------------------------------------------------------------------
# Not available, metrics keys, views
# --------------------------------------------------------------------------

def test_without_surveys_the_section_is_not_available(make_dataset):
    d = make_dataset({"orders": pd.DataFrame(ORDERS, columns=["order_id", "customer_id", "ordered_at", "amount"])})
    with pytest.raises(SectionNotAvailable, match="surveys"):
        require(d.cfg, d, "50_advocacy")


def _shown(s: adv.Advocacy, cfg) -> str:
    """Every output of the notebook's view cells, as text (figures left out)."""
    parts = [adv_view.overview(s, cfg), report.key_figures(s.changes, adv_view.labels(cfg), adv_view.KINDS, cfg),
             adv_view.nps_chart(s, cfg), adv_view.mix_chart(s, cfg), adv_view.trend(s, cfg),
             adv_view.touchpoint_view(s, cfg), adv_view.support_view(s, cfg), adv_view.usage_view(s, cfg),
             adv_view.reviews_view(s, cfg), adv_view.referrals_view(s, cfg),
             report.Narrative(adv_view.next_steps(s, cfg))]
    return "\n".join(repr(p) for p in parts if p is not None and not hasattr(p, "savefig"))


def test_surveys_only_gives_nps_and_says_once_what_is_missing(make_dataset):
    d = make_dataset(_frames(with_events=False, with_customers=False, with_tickets=False), definitions=DEFS)
    s = adv.compute(d, d.cfg)
    m = adv.metrics(d, d.cfg, s)
    assert m["nps"] == pytest.approx(1 / 9)
    assert m["review_rate"] is None and m["review_rate_prev"] is None
    assert m["referral_rate"] is None and m["referral_rate_prev"] is None
    assert {c.key for c in s.changes} == {"nps", "promoter_share", "detractor_share", "responses"}
    assert s.skipped == ["tickets", "usage", "events", "referred_by"]
    text = _shown(s, d.cfg)
    for sentence in ("NPS by support experience is not available", "NPS by usage is not available",
                     "they need the events table", "no referred_by links"):
        assert text.count(sentence) == 1, sentence


def test_a_shop_with_its_own_names_and_few_optional_columns(tmp_path):
    """Regression: a shop whose events have no value, feature or session_id
    failed in 50_advocacy with ``AttributeError: 'Table' object has no
    attribute 'value'`` (the rating assumed events.value). Each analysis now
    checks its own inputs: the review rate and shares are computed, the
    rating and the referral rate are skipped with a reason."""
    d = make_shop(tmp_path)
    s = adv.compute(d, d.cfg)
    assert s.skipped == ["touchpoint", "tickets", "rating_value", "referred_by", "referral_events"]
    v = s.values
    # active in October: c1, c2 (reviews), c3 (shares), c4 (login), c6 (order) = 5; reviewers c1, c2
    assert (v["reviews"], v["reviewers"], v["active_customers"]) == (3, 2, 5)
    assert v["review_rate"] == pytest.approx(0.4)
    assert v["rating"] is None and v["rated"] is None
    assert v["shares"] == 2 and v["sharers"] == 1 and v["referral_events"] is None
    assert v["referral_rate"] is None and v["new_customers"] is None
    assert {c.key for c in s.changes} == {"nps", "promoter_share", "detractor_share", "responses", "review_rate",
                                          "shares"}
    m = adv.metrics(d, d.cfg, s)
    assert m["review_rate"] == pytest.approx(0.4) and m["rating"] is None and m["referral_rate"] is None
    text = _shown(s, d.cfg)
    for sentence in ("the events have no value column", "no referred_by links", "no referral events",
                     "no touchpoint column", "support tickets table"):
        assert text.count(sentence) == 1, sentence
    assert "2 of 5 active customers wrote a review (40.0%)" in text and "3 reviews were written" in text


def test_the_notebook_runs_on_a_shop_with_its_own_names(tmp_path):
    """The failing run itself: the section notebook, in a kernel, on the shop."""
    d = make_shop(tmp_path)
    recorded = recorded_metrics(run_notebook("50_advocacy", d, tmp_path))
    assert recorded["review_rate"] == pytest.approx(0.4) and recorded["rating"] is None
    assert recorded["referral_rate"] is None and recorded["nps"] is not None


def make_shop(tmp_path):
    """A shop that exports customers, marketing, events, orders and surveys
    under its own column and event names, with few optional columns: no
    event value, feature or session_id, no referred_by, no touchpoint."""
    root = tmp_path / "shop"
    (root / "params" / "clients").mkdir(parents=True)
    shutil.copy(ROOT / "params" / "defaults.yaml", root / "params" / "defaults.yaml")
    data = root / "data" / "mall"
    data.mkdir(parents=True)
    pd.DataFrame([(f"c{i}", "2026-01-15 09:00") for i in range(1, 9)], columns=["고객번호", "가입일"]).to_csv(
        data / "members.csv", index=False)
    pd.DataFrame([("2026-10-01", "검색", 1000, 20)], columns=["일자", "매체", "노출", "클릭"]).to_csv(
        data / "ads.csv", index=False)
    pd.DataFrame([("2026-10-08 12:00", "REVIEW", "c1"), ("2026-10-09 12:00", "REVIEW", "c2"),
                  ("2026-10-15 12:00", "REVIEW", "c1"), ("2026-10-05 12:00", "SNS", "c3"),
                  ("2026-10-06 12:00", "SNS", "c3"), ("2026-09-15 12:00", "REVIEW", "c3"),
                  ("2026-10-02 08:00", "LOGIN", "c4")],
                 columns=["시각", "행동", "고객번호"]).to_csv(data / "log.csv", index=False)
    pd.DataFrame([("o1", "c6", "2026-10-09 10:00", 10000.0), ("o2", "c7", "2026-09-09 10:00", 12000.0)],
                 columns=["주문번호", "고객번호", "주문일자", "결제금액"]).to_csv(data / "sales.csv", index=False)
    pd.DataFrame([(r[0], r[1], r[2], r[4]) for r in SURVEYS],
                 columns=["응답번호", "응답일", "고객번호", "추천점수"]).astype({"추천점수": "Float64"}).to_csv(
        data / "nps.csv", index=False)
    client = {"name": "Mall", "currency": "KRW", "timezone": "Asia/Seoul", "language": "en", "data": {
        "source": "data/mall", "tables": {
            "customers": {"file": "members.csv", "columns": {"customer_id": "고객번호", "signup_at": "가입일"}},
            "marketing": {"file": "ads.csv", "columns": {"date": "일자", "channel": "매체", "impressions": "노출",
                                                          "clicks": "클릭"}},
            "events": {"file": "log.csv", "columns": {"occurred_at": "시각", "event_type": "행동",
                                                       "customer_id": "고객번호"},
                       "event_types": {"REVIEW": "review", "SNS": "share"}},
            "orders": {"file": "sales.csv", "columns": {"order_id": "주문번호", "customer_id": "고객번호",
                                                         "ordered_at": "주문일자", "amount": "결제금액"}},
            "surveys": {"file": "nps.csv", "columns": {"response_id": "응답번호", "responded_at": "응답일",
                                                        "customer_id": "고객번호", "nps": "추천점수"}}}},
        "definitions": DEFS}
    (root / "params" / "clients" / "mall.yaml").write_text(yaml.safe_dump(client, allow_unicode=True),
                                                            encoding="utf-8")
    ds = io.load(config.load("mall", "2026-10", root=root))
    return ds


def test_events_without_customer_ids_count_reviews_and_shares(make_dataset):
    frames = _frames()
    frames["events"] = frames["events"].rename(columns={"customer_id": "visitor_id"})   # browser ids only
    d = make_dataset(frames, definitions=DEFS)
    s = adv.compute(d, d.cfg)
    assert "event_customers" in s.skipped and "usage" in s.skipped
    v = s.values
    assert v["review_rate"] is None and v["reviews"] == 3 and v["rating"] == pytest.approx(4.0)
    assert v["shares"] == 2 and v["sharers"] is None and v["referral_events"] == 2
    assert s.by_usage is None and s.monthly.review_rate.isna().all()
    assert _shown(s, d.cfg).count("the events carry no customer_id") == 1


def test_surveys_without_nps_skip_every_nps_analysis(make_dataset):
    frames = _frames()
    frames["surveys"] = frames["surveys"].drop(columns=["nps"]).assign(csat=4.0)
    d = make_dataset(frames, definitions=DEFS)
    s = adv.compute(d, d.cfg)
    assert s.skipped[0] == "nps" and s.values["nps"] is None and s.values["responses"] is None
    assert s.by_touchpoint is None and s.by_ticket is None and s.by_usage is None and s.referrers is None
    m = adv.metrics(d, d.cfg, s)
    assert all(m[k] is None for k in ("nps", "nps_ci_low", "promoter_share", "detractor_share", "nps_prev"))
    assert m["review_rate"] == pytest.approx(1 / 3) and m["referral_rate"] == pytest.approx(0.5)
    text = _shown(s, d.cfg)
    assert text.count("NPS is not available") == 1 and "NPS by" not in text
    assert adv_view.nps_chart(s, d.cfg) is None and adv_view.mix_chart(s, d.cfg) is None


def test_surveys_without_touchpoint_or_respondent(make_dataset):
    frames = _frames()
    frames["surveys"] = frames["surveys"].drop(columns=["touchpoint", "customer_id"])
    d = make_dataset(frames, definitions=DEFS)
    s = adv.compute(d, d.cfg)
    assert s.skipped[:2] == ["touchpoint", "survey_customers"]
    assert s.values["nps"] == pytest.approx(1 / 9)
    assert s.by_touchpoint is None and s.by_ticket is None and s.by_usage is None and s.referrers is None
    text = _shown(s, d.cfg)
    assert text.count("no touchpoint column") == 1 and text.count("carry no customer_id") == 1
    assert "NPS by usage is not available" not in text          # said by the customer_id note


def test_tickets_without_csat(make_dataset):
    frames = _frames()
    frames["tickets"] = frames["tickets"].drop(columns=["csat"])
    d = make_dataset(frames, definitions=DEFS)
    s = adv.compute(d, _relaxed(d.cfg))
    assert "ticket_csat" in s.skipped and s.by_csat is None
    assert s.by_ticket.set_index("group").loc["ticket", "responses"] == 4
    assert _shown(s, d.cfg).count("the tickets have no csat column") == 1


def test_no_review_share_or_referral_events(make_dataset):
    frames = _frames()
    frames["events"] = frames["events"][frames["events"].event_type.isin(["login", "feature_use"])]
    d = make_dataset(frames, definitions=DEFS)
    s = adv.compute(d, d.cfg)
    assert [k for k in s.skipped if k.endswith("_events")] == ["review_events", "referral_events", "share_events"]
    assert all(s.values[k] is None for k in ("review_rate", "reviews", "rating", "referral_events", "shares"))
    assert s.values["referral_rate"] == pytest.approx(0.5)
    assert {"review_rate", "rating", "referral_events", "shares"}.isdisjoint(c.key for c in s.changes)
    assert s.monthly[["review_rate", "rating", "shares", "referral_events"]].isna().all().all()


def test_breakdowns_follow_a_changed_setting(ds):
    assert list(adv.compute(ds, ds.cfg).by_touchpoint.touchpoint) == ["post_purchase", "support", adv.OTHER]
    relaxed = adv.compute(ds, _relaxed(ds.cfg))
    assert list(relaxed.by_touchpoint.touchpoint) == ["post_purchase", "support", "in_app"]


def test_metrics_has_every_stable_key(ds):
    m = adv.metrics(ds, ds.cfg)
    for k in adv.KEYS:
        assert k in m and f"{k}_prev" in m
    assert m["nps"] == pytest.approx(1 / 9) and m["nps_prev"] == pytest.approx(-0.25)
    assert m["review_rate"] == pytest.approx(1 / 3) and m["referral_rate"] == pytest.approx(0.5)
    json.dumps(report.jsonable(m))      # plain JSON


def test_views_show_no_ids_or_nan(ds):
    s = adv.compute(ds, ds.cfg)
    parts = (adv_view.overview(s, ds.cfg), adv_view.touchpoint_view(s, ds.cfg), adv_view.support_view(s, ds.cfg),
             adv_view.usage_view(s, ds.cfg), adv_view.reviews_view(s, ds.cfg), adv_view.referrals_view(s, ds.cfg),
             report.Narrative(adv_view.next_steps(s, ds.cfg)))
    html = "".join(v._repr_html_() for v in parts)
    assert ">nan<" not in html.lower() and "None" not in html and "nan%" not in html.lower()
    for cid in ("c1", "c10", "r1"):
        assert f">{cid}<" not in html


def test_next_steps_fall_back_when_nothing_stands_out(ds):
    s = dataclasses.replace(adv.compute(ds, ds.cfg), values={"nps": None}, changes=[], by_touchpoint=None,
                            by_ticket=None, referrers=None)
    assert adv_view.next_steps(s, ds.cfg) == [
        "Nothing stands out this month; keep watching the NPS interval and the detractor share."]


# --------------------------------------------------------------------------
# The tiny demo data against the generator's truth
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny(tiny_data):
    import journeykit as jk

    cfg = jk.config.load("tiny", "2026-10")
    d = jk.load(cfg)
    yield d, cfg, tiny_data
    d.close()


def test_tiny_nps_after_support_is_much_lower_than_after_purchase(tiny):
    d, cfg, _ = tiny
    df = adv.nps_by_touchpoint(d, cfg, months=12).set_index("touchpoint")
    sup, pur = df.loc["support"], df.loc["post_purchase"]
    # demo.PARAMS["advocacy"]: each ticket in the 90 days before costs 0.7 points and every CSAT point
    # below 5 another 0.6, on top of the friction that brings customers to support; the observed gap is
    # ≈ 80 NPS points on ~200 and ~500 responses (95% half-widths ≈ 10 and 7 points), so a 40-point
    # floor and disjoint intervals cannot fail by sampling error alone.
    assert pur["nps"] - sup["nps"] > 0.40
    assert sup["ci_high"] < pur["ci_low"]


def test_tiny_recent_ticket_lowers_nps(tiny):
    d, cfg, _ = tiny
    df = adv.nps_by_recent_ticket(d, cfg)
    gap = adv.support_gap(df, cfg)
    # same mechanism as above, on the 12-month window (~430 responses per group): observed gap ≈ 64 points
    assert gap.significant and gap.prev - gap.value > 0.30


def test_tiny_referred_customers_name_promoters(tiny):
    d, cfg, root = tiny
    truth = json.loads((root / "truth.json").read_text())["advocacy"]
    tc = pd.read_parquet(root / "truth_customers.parquet", columns=["customer_id", "promoter"])
    promoters = set(tc.loc[tc["promoter"], "customer_id"])
    c = d.table("customers")
    refs = c.filter(c.referred_by.notnull()).select("customer_id", "referred_by").execute()
    # exact, no sampling: every referred customer is counted, and every referrer is a promoter in the truth
    assert len(refs) == truth["referred_customers"]
    assert set(refs["referred_by"]) <= promoters
    prof = adv.referrer_profile(d, cfg).set_index("group")
    # referrers have satisfaction ≥ 9 (PARAMS promoter_satisfaction) and answer satisfaction + N(0, 1) minus
    # ticket effects: observed ≈ 69% promoters on ~210 responses vs ≈ 27% for others (half-widths ≈ 6 pp)
    assert prof.loc["referrer", "promoter_share"] > 0.55
    assert prof.loc["referrer", "promoter_share"] - prof.loc["non_referrer", "promoter_share"] > 0.25


def test_tiny_metrics_and_shares_by_promoters(tiny):
    d, cfg, root = tiny
    m = adv.metrics(d, cfg)
    assert all(m[k] is not None for k in adv.KEYS)
    assert -1 <= m["nps_ci_low"] <= m["nps"] <= m["nps_ci_high"] <= 1
    # share events come only from promoters' usage sessions (PARAMS share_per_usage_session_promoter)
    tc = pd.read_parquet(root / "truth_customers.parquet", columns=["customer_id", "promoter"])
    e = d.table("events")
    sharers = set(e.filter(e.event_type == "share").customer_id.execute())
    assert sharers and sharers <= set(tc.loc[tc["promoter"], "customer_id"])


def test_compute_holds_no_words_or_charts_and_every_skip_has_a_reason_in_both_languages():
    from journeykit.core import i18n
    from test_metrics_awareness import imported_names

    names = imported_names(adv)
    assert not {n for n in names if "i18n" in n or "matplotlib" in n or "plots" in n or n.endswith(".report")
                or n == "journeykit.report"}, names
    for key in adv.SKIPS:
        assert set(i18n.TEXT[f"advocacy_skip_{key}"]) == {"en", "ko"}


def test_a_period_without_responses(make_dataset):
    d = make_dataset(_frames(), period="2027-01", definitions=DEFS)    # the data ends in October 2026
    s = adv.compute(d, d.cfg)
    assert s.values["responses"] == 0 and s.values["nps"] is None and s.values["review_rate"] is None
    assert s.by_touchpoint.empty
    assert [t.month for t in s.monthly.month] == [9, 10, 11, 12, 1]
    text = _shown(s, d.cfg)
    assert "No survey response with an NPS answer in January 2027." in text
    assert text.count("Too few responses to show this breakdown.") == 1
    m = adv.metrics(d, d.cfg, s)
    assert m["nps"] is None and m["responses"] == 0 and m["nps_prev"] is None


def test_nps_charts_start_with_the_first_month_with_answers_and_keep_0_on_the_axis(ds):
    # June and July had no survey answer: both charts start in August; NPS +20…+40 (interval up to +55)
    # is drawn on an axis from 0, never past +100
    import types

    import matplotlib.dates as mdates

    months = pd.to_datetime(["2026-06-01", "2026-07-01", "2026-08-01", "2026-09-01", "2026-10-01"])
    monthly = pd.DataFrame({"month": months, "nps": [None, None, 0.2, 0.4, 0.3],
                            "ci_low": [None, None, 0.05, 0.25, 0.1], "ci_high": [None, None, 0.35, 0.55, 0.5],
                            "promoter_share": [None, None, 0.4, 0.5, 0.45], "passive_share": [None, None, 0.4, 0.4, 0.4],
                            "detractor_share": [None, None, 0.2, 0.1, 0.15]})
    s = types.SimpleNamespace(skipped=[], monthly=monthly)
    ax = adv_view.nps_chart(s, ds.cfg).axes[0]
    assert ax.get_ylim() == pytest.approx((0.0, 0.55 * 1.1))
    first = mdates.num2date(ax.lines[0].get_xdata(orig=False)[0]).strftime("%Y-%m")
    assert first == "2026-08"
    mix = adv_view.mix_chart(s, ds.cfg).axes[0]
    assert [t.get_text() for t in mix.get_xticklabels()] == ["26-08", "26-09", "26-10"]
