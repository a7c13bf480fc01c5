"""Message response on hand-built messages and orders, every expected value
worked out in a comment; period-over-period verdicts; folding; the
not-available and partial cases; the generated text in en and ko; and the
tiny demo data against the generator's campaign effects."""

from __future__ import annotations

import datetime as dt
import json
import math

import pandas as pd
import pytest

from journeykit.sections.campaigns import compute as C
from journeykit.core import config
from journeykit.data import loader as io
from journeykit import report
from journeykit.core.errors import SectionNotAvailable
from journeykit.sections.registry import require

# Period 2026-10, attribution window A = 7 days (the default): a message
# counts for conversion when sent_at + 7 d <= Nov 1, i.e. sent before Oct 25.
CUSTOMERS = pd.DataFrame([
    ("A", "2026-01-01 00:00:00", "free"),
    ("B", "2026-09-20 00:00:00", "member"),
    ("C", "2026-08-01 00:00:00", "free"),
], columns=["customer_id", "signup_at", "plan"])

MESSAGES = pd.DataFrame([
    # id,   cust, campaign, channel, variant, sent_at,              opened_at,            clicked_at
    ("m1", "A", "spring", "email", "A", "2026-10-05 10:00:00", "2026-10-05 11:00:00", "2026-10-05 11:05:00"),
    ("m2", "B", "spring", "email", "B", "2026-10-05 10:00:00", "2026-10-05 12:00:00", None),
    ("m3", "C", "spring", "email", "A", "2026-10-05 10:00:00", None, None),
    ("m4", "A", "flash", "sms", None, "2026-10-20 11:00:00", None, "2026-10-20 11:10:00"),
    ("m5", "B", "flash", "sms", None, "2026-10-28 11:00:00", None, None),      # window still open
    ("m6", "C", "spring", "email", "A", "2026-09-10 10:00:00", "2026-09-10 18:00:00", None),   # September
], columns=["message_id", "customer_id", "campaign", "channel", "variant", "sent_at", "opened_at", "clicked_at"])

ORDERS = pd.DataFrame([
    ("o1", "A", "2026-10-08 00:00:00", 100, "paid"),     # 3 d after m1: m1 converts
    ("o2", "B", "2026-10-06 00:00:00", 50, "failed"),    # a failed payment is not a conversion (m2)
    ("o3", "B", "2026-10-29 00:00:00", 70, "paid"),      # after m5, whose window is open: not counted
    ("o4", "C", "2026-09-12 00:00:00", 90, "paid"),      # 2 d after m6 (September)
], columns=["order_id", "customer_id", "ordered_at", "amount", "payment_status"])

SMALL = {"min_group_size": 1, "k_anonymity": 1, "min_sample_size": 1}


@pytest.fixture
def ds(make_dataset):
    return make_dataset({"customers": CUSTOMERS, "messages": MESSAGES, "orders": ORDERS}, definitions=SMALL)


def test_period_values_hand_computed(ds):
    v = C.period_values(ds, ds.cfg.period)
    assert v["messages_sent"] == 5                     # m1…m5
    # opens are measured on email only (no sms message has an opened_at): m1, m2 of m1–m3
    assert (v["opened"], v["open_base"]) == (2, 3)
    assert v["message_open_rate"] == pytest.approx(2 / 3)
    assert v["message_click_rate"] == pytest.approx(2 / 5)          # m1, m4
    # windows closed: m1–m4 (m5 closes Nov 4); converted: m1 only
    assert (v["converted"], v["conv_base"]) == (1, 4)
    assert v["message_conversion_rate"] == pytest.approx(0.25)
    prev = C.period_values(ds, ds.cfg.period.previous())
    assert (prev["sent"], prev["message_open_rate"], prev["message_click_rate"],
            prev["message_conversion_rate"]) == (1, 1.0, 0.0, 1.0)   # m6: opened, no click, o4 in window


def test_sms_open_rate_is_not_measured(ds):
    assert C.open_channels(ds) == ["email"]
    camp = C.by_campaign(ds, ds.cfg).set_index("campaign")
    # spring: m1, m2, m3 → opened 2/3, clicked 1/3, converted 1/3
    assert camp.loc["spring", "open_rate"] == pytest.approx(2 / 3)
    assert camp.loc["spring", "click_rate"] == pytest.approx(1 / 3)
    assert camp.loc["spring", "conversion_rate"] == pytest.approx(1 / 3)
    # flash (sms): no open rate at all (not 0%), clicks 1/2, conversion 0/1 (m5 not counted)
    assert pd.isna(camp.loc["flash", "open_rate"])
    assert camp.loc["flash", "click_rate"] == 0.5 and camp.loc["flash", "conversion_rate"] == 0.0
    assert C.channels_without_opens(ds, ds.cfg) == ["sms"]
    view = C.channel_view(ds, ds.cfg).cells().set_index("Channel")
    assert view.loc["sms", "Open rate"] == "not measured" and view.loc["email", "Open rate"] == "66.7%"


def test_metrics_has_every_key(ds):
    m = C.metrics(ds, ds.cfg)
    for k in C.STABLE_KEYS:
        assert k in m
    for k in C.KPI_KEYS:
        assert k in m and f"{k}_prev" in m
    assert m["campaigns"] == [
        {"campaign": "spring", "sent": 3.0, "open_rate": 2 / 3, "click_rate": 1 / 3, "conversion_rate": 1 / 3},
        {"campaign": "flash", "sent": 2.0, "open_rate": None, "click_rate": 0.5, "conversion_rate": 0.0}]
    assert m["experiments"] is None                   # no experiments table
    assert report.jsonable(m) == m


def test_fatigue_recency_variant_and_segment(ds):
    cfg = ds.cfg
    f = C.by_fatigue(ds, cfg).set_index("bucket")
    # messages in the 30 days before: m1 0, m2 0, m3 1 (m6 on Sep 10, 25 d before), m4 1 (m1), m5 1 (m2), m6 0
    assert f.loc["0", "sent"] == 3 and f.loc["1", "sent"] == 3
    # bucket 0: m6, m1, m2 all opened; bucket 1: m3 (email, not opened), m4, m5 (sms: not measurable)
    assert f.loc["0", "open_rate"] == 1.0 and f.loc["1", "open_rate"] == 0.0
    r = C.by_recency(ds, cfg).set_index("key")
    # m1 (A, Oct 5): last activity is A's signup on Jan 1 → 277 d; m4 (A, Oct 20): o1 on Oct 8 → 12 d;
    # m2 (B, Oct 5): o2 is on Oct 6 (after), signup Sep 20 → 15 d; m5 (B, Oct 28): o2 Oct 6 → 22 d;
    # m3 (C, Oct 5): o4 on Sep 12 → 23 d; m6 (C, Sep 10): signup Aug 1 → 40 d
    assert r.loc["d91_plus", "sent"] == 1 and r.loc["d8_30", "sent"] == 4 and r.loc["d31_90", "sent"] == 1
    v = C.by_variant(ds, cfg)
    assert list(v["variant"]) == ["A", "B"]
    # spring in October: A = m1 (opened), m3 (not) → 1/2; B = m2 → 1/1; lift +0.5
    assert v.iloc[1]["lift"] == pytest.approx(0.5) and v.iloc[0]["open_rate"] == 0.5
    s = C.by_segment(ds, cfg).set_index("segment")
    assert C.segment_column(ds) == "plan"
    assert s.loc["free", "sent"] == 3 and s.loc["member", "sent"] == 2     # A (m1, m4), C (m3); B (m2, m5)


def test_relative_open_rate_is_indirect_standardization():
    # two strata: s1 rate 0.5 (10 of 20), s2 rate 0.1 (2 of 20); group g1 = 10 msgs in s1 (6 opened) and
    # 10 in s2 (1 opened): expected 10·0.5 + 10·0.1 = 6 → relative 7/6; g2: 4 + 1 = 5 opened of 6 → 5/6
    df = pd.DataFrame([("g1", "s1", 10, 6), ("g1", "s2", 10, 1), ("g2", "s1", 10, 4), ("g2", "s2", 10, 1)],
                      columns=["g", "st", "open_base", "opened"])
    for c in ("sent", "clicked", "conv_base", "converted", "customers"):
        df[c] = 0.0
    df["sent"] = df["open_base"]
    out = C._standardized(df, ["st"], "g").set_index("g")
    assert out.loc["g1", "relative_open_rate"] == pytest.approx(7 / 6)
    assert out.loc["g2", "relative_open_rate"] == pytest.approx(5 / 6)


def test_small_campaigns_fold_into_other(make_dataset):
    rows = [(f"x{i}", f"c{i % 12}", "big", "email", None, "2026-10-05 10:00:00", None, None) for i in range(40)]
    rows += [(f"y{i}", f"c{i}", "tiny_one", "email", None, "2026-10-06 10:00:00", None, None) for i in range(3)]
    ds = make_dataset({"messages": pd.DataFrame(rows, columns=MESSAGES.columns), "orders": ORDERS},
                      definitions={"min_group_size": 30, "k_anonymity": 2})
    camp = C.by_campaign(ds, ds.cfg)
    # big: 40 messages to 12 customers: kept; tiny_one: 3 < 30: folded into "other" (3 customers ≥ k = 2)
    assert list(camp["campaign"]) == ["big", "other"] and list(camp["sent"]) == [40, 3]


def test_not_available_and_partial(make_dataset):
    ds = make_dataset({"orders": ORDERS})
    with pytest.raises(SectionNotAvailable, match="messages, experiments"):
        require(ds.cfg, ds, "55_campaigns")
    m = C.metrics(ds, ds.cfg)
    assert m["campaigns"] is None and m["experiments"] is None and m["messages_sent"] is None
    # messages without orders: conversion not measurable, the rest works
    ev = pd.DataFrame({"customer_id": ["A"], "occurred_at": ["2026-10-01 10:00:00"], "event_type": ["visit"]})
    ds = make_dataset({"messages": MESSAGES, "events": ev}, definitions=SMALL)
    require(ds.cfg, ds, "55_campaigns")                 # does not stop
    m = C.metrics(ds, ds.cfg)
    assert m["message_conversion_rate"] is None and m["messages_sent"] == 5
    assert "There is no orders table: message conversion cannot be measured." in C.insights(ds, ds.cfg)


def test_changes_and_narrative_en_and_ko(make_dataset):
    rows = []
    for i in range(100):       # September: 100 emails, 50 opened; October: 100 emails, 20 opened
        rows.append((f"s{i}", f"c{i}", "news", "email", None, "2026-09-08 10:00:00",
                     "2026-09-08 11:00:00" if i < 50 else None, None))
        rows.append((f"o{i}", f"c{i}", "news", "email", None, "2026-10-08 10:00:00",
                     "2026-10-08 11:00:00" if i < 20 else None, None))
    msgs = pd.DataFrame(rows, columns=MESSAGES.columns)
    for lang, expected in (("en", "Open rate fell from 50.0% to 20.0% (−30.0 pp); the change is significant."),
                           ("ko", "오픈율 −30.0%p 하락 (50.0% → 20.0%), 통계적으로 유의합니다.")):
        ds = make_dataset({"messages": msgs, "orders": ORDERS}, language=lang)
        ch = {c.key: c for c in C.changes(ds, ds.cfg)}
        assert ch["message_open_rate"].kind == "rate" and ch["message_open_rate"].significant
        assert ch["messages_sent"].kind == "count" and ch["messages_sent"].verdict == "not_significant"
        assert expected in C.changes_view(ds, ds.cfg).sentences


def test_insights_and_next_steps_en_and_ko(make_dataset):
    tables = {"customers": CUSTOMERS, "messages": MESSAGES, "orders": ORDERS}
    en = make_dataset(tables, definitions=SMALL)
    s = C.insights(en, en.cfg)
    assert s[0] == "5 messages went to 3 customers in October 2026 across 2 campaigns."
    assert s[1] == ("spring converted best: 33.3% of its messages were followed by an order within 7 days "
                    "(3 messages).")
    assert "spring: variant B was opened by 100.0% against 50.0% for A (+50.0 pp, p = 0.386)." in s
    assert "Opens are not measured on sms: open rates there are shown as not measured, not as 0%." in s
    assert s[-1] == "Unsubscribes are not available: the data has no unsubscribe information."
    ko = make_dataset(tables, definitions=SMALL, language="ko")
    k = C.insights(ko, ko.cfg)
    assert k[0] == "2026년 10월에 2개 캠페인으로 고객 3명에게 메시지 5건을 발송했습니다."
    assert k[-1] == "수신 거부 정보가 데이터에 없어 수신 거부는 분석할 수 없습니다."
    # the only variant difference is not significant (p = 0.386) and the samples are tiny: nothing fires
    # except rules on bucket sizes ≥ 3 × min_sample_size = 3: fatigue "1" (m3 only measurable, 1 msg) is too small
    assert C.next_steps(ko, ko.cfg) == ["이번 달 캠페인과 실험에서 특별히 눈에 띄는 점은 없습니다."]


def test_campaign_names_are_escaped(make_dataset):
    msgs = MESSAGES.assign(campaign=MESSAGES["campaign"].replace("spring", "<b>spring & co</b>"))
    ds = make_dataset({"messages": msgs, "orders": ORDERS}, definitions=SMALL)
    html = C.campaign_view(ds, ds.cfg)._repr_html_()
    assert "&lt;b&gt;spring &amp; co&lt;/b&gt;" in html and "<b>spring" not in html
    assert "<b>" not in C.insights_view(ds, ds.cfg)._repr_html_()


# --------------------------------------------------------------------------
# The tiny demo data against the generator's effects
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny(tiny_data):
    cfg = config.load("tiny", "2026-10")
    ds = io.load(cfg)
    yield ds, json.loads((tiny_data / "truth.json").read_text())["campaigns"]
    ds.close()


def test_newsletter_variant_b_opens_more(tiny):
    """Variant B multiplies the open probability by 1.2. Pooled over all 24
    months of newsletters (≈ 2,800 measurable messages per variant, open
    rate ≈ 17%) the log of the ratio of open rates has SE ≈ √(1/468 + 1/527
    − 1/2775 − 1/2859) ≈ 0.058: B must open more than A, and the ratio must
    be within 3 SEs of 1.2 (on this seed: 1.09, 1.6 SEs below)."""
    ds, truth = tiny
    g = C.message_facts(ds, dt.date(2024, 11, 1), ds.cfg.period.end)
    v = C._aggregate(g.filter(g.variant.notnull()), ["variant"]).set_index("variant")
    ra, rb = (v.loc[x, "opened"] / v.loc[x, "open_base"] for x in ("A", "B"))
    se = math.sqrt(sum(1 / v.loc[x, "opened"] - 1 / v.loc[x, "open_base"] for x in ("A", "B")))
    assert rb > ra
    assert abs(math.log(rb / ra) - math.log(truth["newsletter_variant_b_open_factor"])) < 3 * se


def test_fatigue_and_timing_direction(tiny):
    """Opens fall ×0.9 per message received in the previous 30 days, and
    send hour 21 opens 1.2× / hour 7 0.9× the base: compared within the
    same campaign and activity (relative open rates), customers with 2
    earlier messages open less than those with none, and 21:00 beats
    07:00; customers inactive for over 90 days open less than those active
    in the last week (after-churn factor 0.35)."""
    ds, truth = tiny
    f = C.by_fatigue(ds, ds.cfg).set_index("bucket")
    # tiny has ~100 messages with 2 earlier ones: compare none against any (sent-weighted)
    some = f.drop(index="0")
    assert (some["relative_open_rate"] * some["sent"]).sum() / some["sent"].sum() < f.loc["0", "relative_open_rate"]
    h = C.by_hour(ds, ds.cfg).set_index("hour")
    assert h.loc[21, "relative_open_rate"] > h.loc[7, "relative_open_rate"]
    r = C.by_recency(ds, ds.cfg).set_index("key")
    assert r.loc["d91_plus", "open_rate"] < 0.6 * r.loc["d0_7", "open_rate"]
    # sms (Black Friday) never has opens: its open rate is not measured, not 0
    assert "sms" not in C.open_channels(ds)


def test_tiny_metrics_are_plausible(tiny):
    ds, _ = tiny
    m = C.metrics(ds, ds.cfg)
    assert all(m[k] is not None for k in C.KPI_KEYS)
    assert {c["campaign"] for c in m["campaigns"]} >= {"welcome", "newsletter_2026-10"}
    assert {(e["experiment"], e["variant"]) for e in m["experiments"]} == {
        ("checkout_redesign", "A"), ("checkout_redesign", "B"),
        ("free_shipping_banner", "control"), ("free_shipping_banner", "treatment")}


def test_fatigue_on_the_demo_data_falls_with_each_earlier_message(demo_data):
    """On the 20,000-customer demo (1,560 messages with 2 earlier ones):
    relative opens fall 0 → 1 → 2 earlier messages in 30 days (×0.9 each in
    the generator, on top of the mix of campaigns and activity)."""
    from journeykit.core import config
    from journeykit.data import loader as io

    cfg = config.load("demo", "2026-10")
    with io.load(cfg) as ds:
        f = C.by_fatigue(ds, cfg).set_index("bucket")
    assert f.loc["2", "relative_open_rate"] < f.loc["1", "relative_open_rate"] < f.loc["0", "relative_open_rate"]
