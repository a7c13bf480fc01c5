"""Message response on hand-built messages and orders, every expected value
worked out in a comment; period-over-period verdicts; folding; the memo
following the settings; every data shape the section must survive (each
analysis skipped with one sentence, said once); the generated text in en
and ko; and the tiny demo data against the generator's campaign effects."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import Counter
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import ibis  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import journeykit as jk  # noqa: E402
from journeykit import report  # noqa: E402
from journeykit.core import config  # noqa: E402
from journeykit.core.errors import SectionNotAvailable  # noqa: E402
from journeykit.data import loader as io  # noqa: E402
from journeykit.sections.campaigns import compute as C  # noqa: E402
from journeykit.sections.campaigns import experiments as X  # noqa: E402
from journeykit.sections.campaigns import view as V  # noqa: E402
from journeykit.sections.registry import require  # noqa: E402

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "55_campaigns.ipynb"

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

VISIT = pd.DataFrame({"customer_id": ["A"], "occurred_at": ["2026-10-01 10:00:00"], "event_type": ["visit"]})
"""An events table for clients without orders (every client needs orders or events)."""

SMALL = {"min_group_size": 1, "k_anonymity": 1, "min_sample_size": 1}


@pytest.fixture
def ds(make_dataset):
    return make_dataset({"customers": CUSTOMERS, "messages": MESSAGES, "orders": ORDERS}, definitions=SMALL)


# --------------------------------------------------------------------------
# The numbers, by hand
# --------------------------------------------------------------------------

def test_period_values_hand_computed(ds):
    v = C.period_values(ds, ds.cfg)
    assert v["messages_sent"] == 5                     # m1…m5
    # opens are measured on email only (no sms message has an opened_at): m1, m2 of m1–m3
    assert (v["opened"], v["open_base"]) == (2, 3)
    assert v["message_open_rate"] == pytest.approx(2 / 3)
    assert v["message_click_rate"] == pytest.approx(2 / 5)          # m1, m4
    # windows closed: m1–m4 (m5 closes Nov 4); converted: m1 only
    assert (v["converted"], v["conv_base"]) == (1, 4)
    assert v["message_conversion_rate"] == pytest.approx(0.25)
    assert v["customers"] == 3
    prev = C.period_values(ds, ds.cfg, ds.cfg.period.previous())
    assert (prev["sent"], prev["message_open_rate"], prev["message_click_rate"],
            prev["message_conversion_rate"]) == (1, 1.0, 0.0, 1.0)   # m6: opened, no click, o4 in window
    months = C.month_values(ds, ds.cfg, [ds.cfg.period.previous(), ds.cfg.period])
    assert list(months["sent"]) == [1, 5] and C.window_days(ds.cfg) == 7


def test_sms_open_rate_is_not_measured(ds):
    assert C.open_channels(ds, ds.cfg) == ["email"]
    camp = C.by_campaign(ds, ds.cfg).set_index("campaign")
    # spring: m1, m2, m3 → opened 2/3, clicked 1/3, converted 1/3
    assert camp.loc["spring", "open_rate"] == pytest.approx(2 / 3)
    assert camp.loc["spring", "click_rate"] == pytest.approx(1 / 3)
    assert camp.loc["spring", "conversion_rate"] == pytest.approx(1 / 3)
    # flash (sms): no open rate at all (not 0%), clicks 1/2, conversion 0/1 (m5 not counted)
    assert pd.isna(camp.loc["flash", "open_rate"])
    assert camp.loc["flash", "click_rate"] == 0.5 and camp.loc["flash", "conversion_rate"] == 0.0
    assert C.channels_without_opens(ds, ds.cfg) == ["sms"]
    view = V.channel_table(ds, ds.cfg).cells().set_index("Channel")
    assert view.loc["sms", "Open rate"] == "not measured" and view.loc["email", "Open rate"] == "66.7%"
    # click-to-open only where every message is measurable: spring 1 click / 2 opens
    assert camp.loc["spring", "click_to_open"] == 0.5 and pd.isna(camp.loc["flash", "click_to_open"])


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
    assert C.campaign_metrics(ds, ds.cfg) == m["campaigns"]


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
    h = C.by_hour(ds, cfg).set_index("hour")
    assert h.loc[10, "sent"] == 4 and h.loc[11, "sent"] == 2                  # m1–m3, m6; m4, m5
    w = C.by_weekday(ds, cfg).set_index("weekday")
    # Oct 5 2026 is a Monday (m1–m3), Oct 20 a Tuesday (m4), Oct 28 a Wednesday (m5), Sep 10 a Thursday (m6)
    assert list(w["sent"]) == [3, 1, 1, 1] and list(w.index) == [0, 1, 2, 3]
    v = C.by_variant(ds, cfg)
    assert list(v["variant"]) == ["A", "B"]
    # spring in October: A = m1 (opened), m3 (not) → 1/2; B = m2 → 1/1; lift +0.5
    assert v.iloc[1]["lift"] == pytest.approx(0.5) and v.iloc[0]["open_rate"] == 0.5
    assert C.significant_variants(ds, cfg) == []                              # p = 0.386
    s = C.by_segment(ds, cfg).set_index("segment")
    assert C.segment_column(ds) == "plan"
    assert s.loc["free", "sent"] == 3 and s.loc["member", "sent"] == 2     # A (m1, m4), C (m3); B (m2, m5)


@pytest.mark.parametrize("asof", [True, False], ids=["asof_join", "range_join"])
def test_days_since_last_activity_counts_only_moments_before_the_message(make_dataset, monkeypatch, asof):
    """X visits at 09:00 and 15:00 on the send day (10:00): her 09:00 visit
    is before the message, so 0 days (the day's latest moment alone would
    miss it); Y's only visit that day is at 11:00, after the message, so her
    last activity is her signup on Jan 1: 273 + 9 = 282 days. Z visits on
    Oct 3 and at the very moment of her message (Oct 9, 10:00), which is
    not before it: 6 days. The same on DuckDB's ``ASOF`` join and on the
    range join other engines run."""
    monkeypatch.setattr(C, "_asof", lambda ds: asof)
    cust = pd.DataFrame({"customer_id": ["X", "Y", "Z"], "signup_at": ["2026-01-01 00:00:00"] * 3})
    ev = pd.DataFrame({"customer_id": ["X", "X", "Y", "Z", "Z"], "event_type": ["visit"] * 5,
                       "occurred_at": ["2026-10-10 09:00:00", "2026-10-10 15:00:00", "2026-10-10 11:00:00",
                                       "2026-10-03 18:00:00", "2026-10-09 10:00:00"]})
    msgs = pd.DataFrame({"customer_id": ["X", "Y", "Z"], "campaign": ["c", "c", "c"],
                         "sent_at": ["2026-10-10 10:00:00", "2026-10-10 10:00:00", "2026-10-09 10:00:00"]})
    ds = make_dataset({"customers": cust, "events": ev, "messages": msgs})
    g = C.message_facts(ds, ds.cfg, ds.cfg.period.start, ds.cfg.period.end, recency=True).execute()
    days = dict(zip(g["customer_id"], g["days_since"]))
    assert days == {"X": 0, "Y": 282, "Z": 6}
    assert dict(zip(g["customer_id"], g["recency"])) == {"X": "d0_7", "Y": "d91_plus", "Z": "d0_7"}


def test_the_asof_join_is_used_on_duckdb_only(ds):
    assert C._asof(ds) and "ASOF" in str(ibis.to_sql(C.message_facts(ds, ds.cfg, ds.cfg.period.start,
                                                                      ds.cfg.period.end, recency=True)))


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
    msgs = pd.DataFrame(rows, columns=MESSAGES.columns)
    defs = {"min_group_size": 30, "k_anonymity": 2}
    ds = make_dataset({"messages": msgs, "orders": ORDERS}, definitions=defs)
    camp = C.by_campaign(ds, ds.cfg)
    # big: 40 messages to 12 customers: kept; tiny_one: 3 < 30: folded into one row (3 customers ≥ k = 2)
    assert list(camp["campaign"]) == ["big", C.OTHER] and list(camp["sent"]) == [40, 3]
    assert list(camp["folded"]) == [False, True]
    assert [c["campaign"] for c in C.campaign_metrics(ds, ds.cfg)] == ["big", "other"]
    assert list(V.campaign_table(ds, ds.cfg).cells()["Campaign"]) == ["big", "other"]
    ko = make_dataset({"messages": msgs, "orders": ORDERS}, definitions=defs, language="ko")
    assert list(V.campaign_table(ko, ko.cfg).cells()["캠페인"]) == ["big", "기타"]
    assert V.group_label(None, ds.cfg) == "(not recorded)" and V.group_label("x", ds.cfg, folded=True) == "other"


def test_memo_follows_the_settings(ds):
    """Regression: the section's private cache keyed results on the
    dataset's own settings, so a setting changed with ``cfg.updated`` was
    answered from the old result (and the attribution window was read from
    the dataset, not from the settings given)."""
    cfg = ds.cfg
    assert list(C.by_campaign(ds, cfg)["campaign"]) == ["spring", "flash"]
    strict = cfg.updated(definitions={"min_group_size": 3})
    # flash (2 messages) now folds; the folded row has 2 customers ≥ k = 1: kept as "other"
    assert list(C.by_campaign(ds, strict)["campaign"]) == ["spring", C.OTHER]
    assert C.period_values(ds, cfg)["converted"] == 1                         # m1 → o1 3 days later
    short = cfg.updated(definitions={"attribution_window_days": 2})
    v = C.period_values(ds, short)
    # A = 2 days: o1 (2.6 days after m1) no longer converts m1; m5's window now closes on Oct 30, by the
    # period end, and o3 (Oct 29) falls in it: m5 converts; all five windows closed
    assert (v["converted"], v["conv_base"]) == (1, 5)
    assert C.by_campaign(ds, short).set_index("campaign").loc["flash", "conversion_rate"] == 0.5
    assert C.period_values(ds, cfg)["converted"] == 1                         # the first answer is kept apart


# --------------------------------------------------------------------------
# Period over period and the generated text
# --------------------------------------------------------------------------

def test_changes_and_key_figures_en_and_ko(make_dataset):
    rows = []
    for i in range(100):       # September: 100 emails, 50 opened; October: 100 emails, 20 opened
        # four campaigns a month (messages cluster within campaigns: 12–13 of 25 opened in each in
        # September, 5 of 25 in October)
        camp = f"news{i % 4}"
        rows.append((f"s{i}", f"c{i}", camp, "email", None, "2026-09-08 10:00:00",
                     "2026-09-08 11:00:00" if i < 50 else None, None))
        rows.append((f"o{i}", f"c{i}", camp, "email", None, "2026-10-08 10:00:00",
                     "2026-10-08 11:00:00" if i < 20 else None, None))
    msgs = pd.DataFrame(rows, columns=MESSAGES.columns)
    for lang, expected in (("en", "Open rate fell from 50.0% to 20.0% (−30.0 pp); the change is significant."),
                           ("ko", "오픈율 −30.0%p 하락 (50.0% → 20.0%), 통계적으로 유의합니다.")):
        ds = make_dataset({"messages": msgs, "orders": ORDERS}, language=lang)
        ch = {c.key: c for c in C.changes(ds, ds.cfg)}
        op = ch["message_open_rate"]
        assert op.kind == "rate" and op.significant and op.extra["clusters"] == op.extra["clusters_prev"] == 4
        # messages sent is a volume the client decides: shown, not tested
        assert ch["messages_sent"].kind == "value" and ch["messages_sent"].verdict == "untested"
        assert ch["messages_sent"].test == "bought"
        shown = V.key_figures(ds, ds.cfg)
        kf, rule = shown.blocks
        table, sentences = kf.blocks[0], kf.blocks[1].sentences
        assert expected in sentences and rule.sentences == [V.conversion_rule(ds.cfg)]
        assert list(table.df.iloc[:, 0]) == [V.labels(ds.cfg)[k] for k in C.KPI_KEYS]
    assert V.labels(ds.cfg)["message_conversion_rate"] == "구매 전환율 (7일 이내)"


def test_insights_and_next_steps_en_and_ko(make_dataset):
    tables = {"customers": CUSTOMERS, "messages": MESSAGES, "orders": ORDERS}
    en = make_dataset(tables, definitions=SMALL)
    s = V.insights(en, en.cfg)
    assert s[0] == "5 messages went to 3 customers in October 2026 across 2 campaigns."
    assert s[1] == ("spring converted best: 33.3% of its messages were followed by an order within 7 days "
                    "(3 messages).")
    assert C.best_campaign(en, en.cfg)["campaign"] == "spring"
    assert "spring: variant B was opened by 100.0% against 50.0% for A (+50.0 pp, p = 0.386)." in s
    assert "Opens are not measured on sms: open rates there are shown as not measured, not as 0%." in s
    assert s[-1] == "Unsubscribes are not available: the data has no unsubscribe information."
    ko = make_dataset(tables, definitions=SMALL, language="ko")
    k = V.insights(ko, ko.cfg)
    assert k[0] == "2026년 10월에 2개 캠페인으로 고객 3명에게 메시지 5건을 발송했습니다."
    assert k[-1] == "수신 거부 정보가 데이터에 없어 수신 거부는 분석할 수 없습니다."
    # the only variant difference is not significant (p = 0.386) and the samples are tiny: nothing fires
    # except rules on bucket sizes ≥ 3 × min_sample_size = 3: fatigue "1" (m3 only measurable, 1 msg) is too small
    assert C.actions(ko, ko.cfg) == []
    assert V.next_steps(ko, ko.cfg) == ["이번 달 캠페인과 실험에서 특별히 눈에 띄는 점은 없습니다."]


def test_contrasts_and_actions(make_dataset):
    """200 messages to customers active the day before (bucket d0_7), 120
    of them opened, and 200 to customers silent since a signup a year
    earlier (d91_plus), 40 opened: open rates 60% and 20%, ratio 1/3 ≤ 1/2,
    so the lapsed-customers action fires."""
    cust, ev, rows = [], [], []
    for i in range(200):
        cust += [(f"r{i}", "2026-01-01 00:00:00"), (f"l{i}", "2025-09-01 00:00:00")]
        ev.append((f"r{i}", "2026-10-09 12:00:00", "visit"))
        rows.append((f"mr{i}", f"r{i}", "news", "email", None, "2026-10-10 10:00:00",
                     "2026-10-10 11:00:00" if i < 120 else None, None))
        rows.append((f"ml{i}", f"l{i}", "news", "email", None, "2026-10-10 10:00:00",
                     "2026-10-10 11:00:00" if i < 40 else None, None))
    ds = make_dataset({"customers": pd.DataFrame(cust, columns=["customer_id", "signup_at"]),
                       "events": pd.DataFrame(ev, columns=["customer_id", "occurred_at", "event_type"]),
                       "messages": pd.DataFrame(rows, columns=MESSAGES.columns)})
    rc = C.recency_contrast(ds, ds.cfg)
    assert rc["recent"]["open_rate"] == 0.6 and rc["lapsed"]["open_rate"] == 0.2
    assert rc["ratio"] == pytest.approx(1 / 3)
    assert C.actions(ds, ds.cfg) == [{"kind": "lapsed", "ratio": pytest.approx(1 / 3)}]
    assert V.next_steps(ds, ds.cfg)[0].startswith("Treat lapsed customers differently: those inactive for over "
                                                  "90 days open 33% as often")
    # one send hour and no earlier messages: no hour or fatigue contrast
    assert C.hour_contrast(ds, ds.cfg) is None and C.fatigue_contrast(ds, ds.cfg) is None


def test_hour_and_fatigue_contrasts(make_dataset):
    """Hours: 100 emails at 09:00 (30 opened) and 100 at 20:00 (60 opened),
    one per customer, all to customers with no earlier activity (one
    stratum, open rate 90/200 = 0.45): expected opens 45 at each hour, so
    relative open rates 30/45 = 0.667 and 60/45 = 1.333; 1.333 ≥ 1.25 ×
    0.667, so the send-hour action fires.

    Fatigue: 200 customers active the day before each message (one
    stratum: campaign news, 0–7 days); 100 get one message (bucket 0),
    100 get a second nine days later (bucket 1). Bucket 0: 200 messages,
    100 opened; bucket 1: 100 messages, 20 opened; stratum rate 120/300 =
    0.4, so relative open rates 100/80 = 1.25 and 20/40 = 0.5, ratio 0.4 ≤
    0.8: the frequency-cap action fires."""
    rows = [(f"h{i}", f"h{i}", "news", "email", None, f"2026-10-06 {9 if i < 100 else 20:02d}:00:00",
             "2026-10-06 21:00:00" if (i < 30 or 100 <= i < 160) else None, None) for i in range(200)]
    ds = make_dataset({"messages": pd.DataFrame(rows, columns=MESSAGES.columns), "orders": ORDERS})
    hc = C.hour_contrast(ds, ds.cfg)
    assert (hc["best"]["hour"], hc["worst"]["hour"]) == (20, 9)
    assert hc["best"]["relative_open_rate"] == pytest.approx(4 / 3)
    assert hc["worst"]["relative_open_rate"] == pytest.approx(2 / 3)
    assert C.actions(ds, ds.cfg) == [{"kind": "hour", "hour": 20, "rate": pytest.approx(4 / 3)}]
    assert V.next_steps(ds, ds.cfg) == [
        "Test sending at 20:00: over the last 1 months its messages opened at 133% of the usual rate for their "
        "channel and audience, the best of any hour."]

    cust = pd.DataFrame({"customer_id": [f"f{i}" for i in range(200)], "signup_at": "2025-01-01 00:00:00"})
    ev, rows = [], []
    for i in range(200):
        ev.append((f"f{i}", "2026-09-30 12:00:00", "visit"))
        rows.append((f"a{i}", f"f{i}", "news", "email", None, "2026-10-01 10:00:00",
                     "2026-10-01 11:00:00" if i % 2 == 0 else None, None))                 # 100 of 200 opened
        if i < 100:
            ev.append((f"f{i}", "2026-10-09 12:00:00", "visit"))
            rows.append((f"b{i}", f"f{i}", "news", "email", None, "2026-10-10 10:00:00",
                         "2026-10-10 11:00:00" if i < 20 else None, None))                 # 20 of 100 opened
    ds = make_dataset({"customers": cust, "events": pd.DataFrame(ev, columns=["customer_id", "occurred_at",
                                                                              "event_type"]),
                       "messages": pd.DataFrame(rows, columns=MESSAGES.columns)})
    fc = C.fatigue_contrast(ds, ds.cfg)
    assert (fc["none"]["bucket"], fc["most"]["bucket"]) == ("0", "1")
    assert fc["none"]["relative_open_rate"] == pytest.approx(1.25) and fc["ratio"] == pytest.approx(0.4)
    assert C.actions(ds, ds.cfg) == [{"kind": "fatigue", "label": "1", "ratio": pytest.approx(0.4)}]
    assert V.insights(ds, ds.cfg)[1] == (
        "Fatigue: customers who had received 1 messages in the previous 30 days opened 40% as often as those who "
        "had received none (compared within the same campaign and the same time since last activity; raw open "
        "rates 20.0% and 50.0%).")
    table = V.fatigue_table(ds, ds.cfg).cells()
    assert list(table["Relative open rate"]) == ["125.0%", "50.0%"]


def test_measurable_and_tables(ds):
    assert C.measurable(ds) == {"opens": True, "clicks": True, "conversion": True, "channel": True,
                                "variant": True, "segment": True}
    seg = V.segment_table(ds, ds.cfg).cells()
    assert list(seg.columns) == ["Segment (plan)", "Sent", "Open rate", "Click rate", "Conversion rate"]
    # free: m1, m3 (email: 1 of 2 opened), m4 (sms); member: m2 (opened), m5 (sms)
    assert seg.set_index("Segment (plan)").loc["free", "Open rate"] == "50.0%"
    var = V.variant_table(ds, ds.cfg).cells()
    assert list(var["Variant"]) == ["spring · A", "spring · B"]
    assert list(var["Open rate vs first variant (p)"]) == ["–", "+50.0 pp (0.386)"]
    assert V.pp(0.012, "en") == "+1.2 pp" and V.pp(-0.05, "ko") == "−5.0%p" and V.pp(None, "en") == "–"
    day = V.weekday_table(ds, ds.cfg).cells()
    assert list(day["Weekday"]) == ["Mon", "Tue", "Wed", "Thu"]


def test_campaign_names_are_escaped(make_dataset):
    msgs = MESSAGES.assign(campaign=MESSAGES["campaign"].replace("spring", "<b>spring & co</b>"))
    ds = make_dataset({"messages": msgs, "orders": ORDERS}, definitions=SMALL)
    html = V.campaign_table(ds, ds.cfg)._repr_html_()
    assert "&lt;b&gt;spring &amp; co&lt;/b&gt;" in html and "<b>spring" not in html
    assert "<b>" not in jk.report.Narrative(V.insights(ds, ds.cfg))._repr_html_()


# --------------------------------------------------------------------------
# Every data shape: each analysis skipped with one sentence, said once
# --------------------------------------------------------------------------

def _notebook_cells() -> list[str]:
    """The notebook's display cells (one call each, after the setup)."""
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    return [c for c in cells if "view." in c and "record(" not in c]


def _texts(block) -> list[str]:
    if block is None or isinstance(block, (Figure, report.Table)):
        return []
    if hasattr(block, "blocks"):
        return [s for b in block.blocks for s in _texts(b)]
    if hasattr(block, "sentences"):
        return list(block.sentences)
    return [block.text]


def run_notebook(ds) -> tuple[list, list[str]]:
    """Every display cell of the notebook on ``ds``: the outputs and all the
    sentences they show, in order. Fails on any exception, as the
    notebook would."""
    cfg = ds.cfg
    ns = {"jk": jk, "view": V, "ds": ds, "cfg": cfg, "changes": C.changes(ds, cfg), "readout": X.readout(ds, cfg)}
    with matplotlib.rc_context():
        jk.plots.use_style(cfg)                    # as the setup cell: a font with Hangul
        outputs = [eval(cell, ns) for cell in _notebook_cells()]
    for o in outputs:
        assert o is None or isinstance(o, (Figure, report.Table, report.Note, report.Narrative, report.Blocks)), o
    metrics = C.metrics(ds, cfg, ns["readout"])
    assert report.jsonable(metrics) == metrics and set(C.STABLE_KEYS) <= set(metrics)
    return outputs, [t for o in outputs for t in _texts(o)]


def _once(texts: list[str]) -> None:
    repeated = [t for t, n in Counter(texts).items() if n > 1]
    assert not repeated, repeated


def _shapes():
    no_plan = CUSTOMERS.drop(columns="plan")
    purchase_events = pd.DataFrame([("A", "2026-10-08 00:00:00", "purchase"), ("C", "2026-09-12 00:00:00", "purchase"),
                                    ("B", "2026-10-06 00:00:00", "payment_failed")],
                                   columns=["customer_id", "occurred_at", "event_type"])
    one = pd.DataFrame([("m9", "B", "solo", "email", None, "2026-10-12 09:00:00", None, None)],
                       columns=MESSAGES.columns)
    assign = pd.DataFrame([("A", "e", "A", "2026-10-01 00:00:00"), ("B", "e", "B", "2026-10-01 00:00:00")],
                          columns=["customer_id", "experiment", "variant", "assigned_at"])
    base = {"customers": CUSTOMERS, "orders": ORDERS}
    return {
        "full": {**base, "messages": MESSAGES},
        "experiments_without_messages": {"experiments": assign, "orders": ORDERS},
        "messages_without_orders": {"customers": CUSTOMERS, "messages": MESSAGES, "events": VISIT},
        "no_channel": {**base, "messages": MESSAGES.drop(columns="channel")},
        "no_opened_at": {**base, "messages": MESSAGES.drop(columns="opened_at")},
        "no_clicked_at": {**base, "messages": MESSAGES.drop(columns="clicked_at")},
        "no_variant": {**base, "messages": MESSAGES.drop(columns="variant")},
        "no_message_id": {**base, "messages": MESSAGES.drop(columns="message_id")},
        "required_columns_only": {"messages": MESSAGES[["customer_id", "campaign", "sent_at"]], "events": VISIT},
        "customers_without_segment": {"customers": no_plan, "orders": ORDERS, "messages": MESSAGES},
        "orders_without_amounts": {"customers": CUSTOMERS, "events": purchase_events, "messages": MESSAGES},
        "campaign_with_one_message": {**base, "messages": pd.concat([MESSAGES, one])},
        "month_without_sends": {**base, "messages": MESSAGES[MESSAGES["sent_at"] < "2026-10"]},
        "no_sends_in_the_trend_window": {**base, "messages": MESSAGES.iloc[:1].assign(
            sent_at="2025-08-05 10:00:00", opened_at="2025-08-05 11:00:00", clicked_at=None)},
    }


@pytest.mark.parametrize("shape", list(_shapes()))
@pytest.mark.parametrize("definitions", [SMALL, None], ids=["small_groups", "defaults"])
def test_every_shape_runs_and_says_each_thing_once(make_dataset, shape, definitions):
    ds = make_dataset(_shapes()[shape], definitions=definitions)
    _, texts = run_notebook(ds)
    _once(texts)


def test_required_columns_only_in_korean(make_dataset):
    """Only ``customer_id, campaign, sent_at`` and no orders: every missing
    input is said once, in Korean, and where it belongs."""
    ds = make_dataset(_shapes()["required_columns_only"], definitions=SMALL, language="ko")
    outputs, texts = run_notebook(ds)
    _once(texts)
    for note in ("메시지 데이터에 오픈 시각이 없어 오픈율을 측정할 수 없습니다.",
                 "메시지 데이터에 클릭 시각이 없어 클릭률을 측정할 수 없습니다.",
                 "주문 테이블이 없어 메시지 구매 전환율을 측정할 수 없습니다.",
                 "메시지 데이터에 채널 정보가 없어 채널별 분석을 할 수 없습니다.",
                 "메시지 데이터에 변형 정보가 없어 메시지 변형을 비교할 수 없습니다.",
                 "실험 결과 분석에는 실험 테이블이 필요하지만 이 고객사에서는 제공되지 않았습니다."):
        assert texts.count(note) == 1, note
    assert list(V.campaign_table(ds, ds.cfg).df.columns) == ["캠페인", "발송"]


def test_experiments_without_messages(make_dataset):
    """Regression: without messages, every message cell repeated "Message
    response needs the messages table"."""
    ds = make_dataset(_shapes()["experiments_without_messages"])
    _, texts = run_notebook(ds)
    assert texts.count("Message response needs the messages table, which this client has not supplied.") == 1
    assert C.metrics(ds, ds.cfg)["campaigns"] is None and C.monthly(ds, ds.cfg).empty


def test_messages_without_orders(make_dataset):
    ds = make_dataset(_shapes()["messages_without_orders"], definitions=SMALL)
    m = C.metrics(ds, ds.cfg)
    assert m["message_conversion_rate"] is None and m["messages_sent"] == 5
    assert all(c["conversion_rate"] is None for c in m["campaigns"])
    _, texts = run_notebook(ds)
    assert texts.count("There is no orders table: message conversion cannot be measured.") == 1
    assert "Conversion rate" not in V.campaign_table(ds, ds.cfg).df.columns
    assert not any(t.startswith("A message converts when") for t in texts)     # no rule for what is not measured


def test_messages_without_open_times(make_dataset):
    """Regression: without ``opened_at`` the hour, recency and fatigue
    charts each said "no open time", and the brief said it a fourth time."""
    ds = make_dataset(_shapes()["no_opened_at"], definitions=SMALL)
    assert C.open_channels(ds, ds.cfg) is None and C.period_values(ds, ds.cfg)["message_open_rate"] is None
    outputs, texts = run_notebook(ds)
    assert texts.count("The messages export has no open time: open rates cannot be measured.") == 1
    assert V.hour_chart(ds, ds.cfg) is None and V.recency_chart(ds, ds.cfg) is None
    assert V.fatigue_chart(ds, ds.cfg) is None
    assert "Open rate" not in V.campaign_table(ds, ds.cfg).df.columns
    assert "Relative open rate" not in V.fatigue_table(ds, ds.cfg).df.columns
    # the variants are compared on clicks instead
    assert set(C.by_variant(ds, ds.cfg)["metric"]) == {"click_rate"}
    assert "Click rate vs first variant (p)" in V.variant_table(ds, ds.cfg).df.columns


def test_messages_without_any_recorded_open(make_dataset):
    ds = make_dataset({"messages": MESSAGES.assign(opened_at=None), "orders": ORDERS}, definitions=SMALL)
    assert C.open_channels(ds, ds.cfg) == []
    _, texts = run_notebook(ds)
    assert texts.count("No message up to the end of October 2026 has an open time: open rates cannot be "
                       "measured.") == 1
    assert "Open rate" not in V.channel_table(ds, ds.cfg).df.columns


def test_messages_without_click_times(make_dataset):
    ds = make_dataset(_shapes()["no_clicked_at"], definitions=SMALL)
    assert C.period_values(ds, ds.cfg)["message_click_rate"] is None
    _, texts = run_notebook(ds)
    assert texts.count("The messages export has no click time: click rates cannot be measured.") == 1
    assert "Click rate" not in V.campaign_table(ds, ds.cfg).df.columns


def test_messages_without_channel(make_dataset):
    ds = make_dataset(_shapes()["no_channel"], definitions=SMALL)
    # every message is on the one unknown channel, on which opens are measured (m1, m2, m6 have opens)
    assert C.open_channels(ds, ds.cfg) == [None] and C.channels_without_opens(ds, ds.cfg) == []
    assert C.period_values(ds, ds.cfg)["message_open_rate"] == pytest.approx(2 / 5)
    ch = C.by_channel(ds, ds.cfg)
    assert len(ch) == 1 and pd.isna(ch["channel"].iloc[0])
    _, texts = run_notebook(ds)
    assert texts.count("The messages export has no channel: no breakdown by channel.") == 1


def test_messages_without_variant_or_id(make_dataset):
    ds = make_dataset(_shapes()["no_variant"], definitions=SMALL)
    assert C.by_variant(ds, ds.cfg).empty
    _, texts = run_notebook(ds)
    assert texts.count("The messages export has no variant: message variants cannot be compared.") == 1
    full = make_dataset(_shapes()["full"], definitions=SMALL)
    ids = make_dataset(_shapes()["no_message_id"], definitions=SMALL)
    assert C.metrics(ids, ids.cfg) == C.metrics(full, full.cfg)


def test_customers_without_segment(make_dataset):
    ds = make_dataset(_shapes()["customers_without_segment"], definitions=SMALL)
    assert C.segment_column(ds) is None and C.by_segment(ds, ds.cfg) is None
    _, texts = run_notebook(ds)
    assert texts.count("The customers table has no segment or plan column: no breakdown by segment.") == 1


def test_orders_derived_from_events_without_amounts(make_dataset):
    ds = make_dataset(_shapes()["orders_without_amounts"], definitions=SMALL)
    # the purchase events are paid orders without amounts: m1 converts (A buys 3 days later), as with ORDERS
    v = C.period_values(ds, ds.cfg)
    assert (v["converted"], v["conv_base"]) == (1, 4)
    run_notebook(ds)


def test_campaign_with_one_message(make_dataset):
    ds = make_dataset(_shapes()["campaign_with_one_message"])        # default group sizes: everything folds
    camp = C.by_campaign(ds, ds.cfg)
    assert camp.empty          # 6 messages to 3 customers: one folded row under k = 10 customers, dropped
    _, texts = run_notebook(ds)
    # m1–m5 and m9, of three campaigns (however small: a count, not a breakdown)
    assert "6 messages went to 3 customers in October 2026 across 3 campaigns." in texts
    assert C.campaign_count(ds, ds.cfg) == 3
    small = make_dataset(_shapes()["campaign_with_one_message"], definitions=SMALL)
    assert C.by_campaign(small, small.cfg).set_index("campaign").loc["solo", "sent"] == 1


def test_month_without_sends(make_dataset):
    """Regression: a month without messages said "No message was sent" under
    the campaign, channel and segment tables and in the brief."""
    ds = make_dataset(_shapes()["month_without_sends"], definitions=SMALL)
    assert C.period_values(ds, ds.cfg)["sent"] == 0
    outputs, texts = run_notebook(ds)
    assert texts.count("No message was sent in October 2026.") == 1
    assert V.campaign_table(ds, ds.cfg) is None and V.channel_table(ds, ds.cfg) is None
    assert isinstance(V.trend_chart(ds, ds.cfg), Figure)                      # September still has a point
    m = C.metrics(ds, ds.cfg)
    assert m["campaigns"] == [] and m["messages_sent"] == 0 and m["messages_sent_prev"] == 1


def test_no_sends_in_the_whole_trend_window(make_dataset):
    """One message, fourteen months before the period: no trend is drawn,
    the brief says nothing was sent, the breakdowns say once that there is
    too little to compare."""
    ds = make_dataset(_shapes()["no_sends_in_the_trend_window"])
    assert list(C.monthly(ds, ds.cfg)["sent"]) == [0] * 12 and V.trend_chart(ds, ds.cfg) is None
    _, texts = run_notebook(ds)
    assert texts.count("No message was sent in October 2026.") == 1
    assert sum(t.startswith("Too few messages over the last 12 months") for t in texts) == 1


def test_trend_starts_with_the_first_month_of_messages(ds):
    """Regression: the trend covered the full twelve months, ten of them
    before the first message, as zeros."""
    df = C.monthly(ds, ds.cfg)
    assert list(df["month"]) == [pd.Timestamp("2026-09-01"), pd.Timestamp("2026-10-01")]
    assert list(df["sent"]) == [1, 5]
    assert [str(p) for p in C.trend_months(ds, ds.cfg)] == ["2026-09", "2026-10"]


def test_too_few_messages_for_the_timing_breakdowns_said_once(make_dataset):
    ds = make_dataset({"customers": CUSTOMERS, "messages": MESSAGES, "orders": ORDERS})   # min_group_size 30
    assert C.by_hour(ds, ds.cfg).empty and C.by_fatigue(ds, ds.cfg).empty
    note = V.hour_chart(ds, ds.cfg)
    assert note.text == ("Too few messages over the last 2 months to compare response by send time, recent "
                         "activity or earlier messages (each group needs at least 30 messages).")
    assert V.recency_chart(ds, ds.cfg) is None and V.fatigue_table(ds, ds.cfg) is None
    assert V.weekday_table(ds, ds.cfg) is None and V.fatigue_chart(ds, ds.cfg) is None


def test_compute_draws_nothing_and_words_nothing():
    """The numbers load without the view: no matplotlib, no charts, no
    section text registered (the section's words live in ``view``)."""
    import subprocess
    import sys

    code = ("import sys, journeykit.sections.campaigns.compute, journeykit.sections.campaigns.experiments\n"
            "from journeykit.core import i18n\n"
            "print(any(m.startswith('matplotlib') for m in sys.modules), 'journeykit.report.plots' in sys.modules,"
            " any(k.startswith(('campaigns_', 'experiments_')) for k in i18n.TEXT))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False", "False"]


def test_registry_lists_what_the_section_reads():
    from journeykit.sections.registry import get

    s = get("55_campaigns")
    assert s.optional == {"messages": ("channel", "opened_at", "clicked_at", "variant"),
                          "orders": ("payment_status", "amount"), "customers": ("segment", "plan"),
                          "events": ("customer_id",)}


def test_not_available(make_dataset):
    ds = make_dataset({"orders": ORDERS})
    with pytest.raises(SectionNotAvailable, match="messages, experiments"):
        require(ds.cfg, ds, "55_campaigns")
    m = C.metrics(ds, ds.cfg)
    assert m["campaigns"] is None and m["experiments"] is None and m["messages_sent"] is None
    ds = make_dataset({"messages": MESSAGES, "events": VISIT}, definitions=SMALL)
    require(ds.cfg, ds, "55_campaigns")                 # does not stop


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
    g = C.message_facts(ds, ds.cfg, dt.date(2024, 11, 1), ds.cfg.period.end)
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
    assert "sms" not in C.open_channels(ds, ds.cfg)


def test_tiny_metrics_are_plausible(tiny):
    ds, _ = tiny
    m = C.metrics(ds, ds.cfg)
    assert all(m[k] is not None for k in C.KPI_KEYS)
    assert {c["campaign"] for c in m["campaigns"]} >= {"welcome", "newsletter_2026-10"}
    assert {(e["experiment"], e["variant"]) for e in m["experiments"]} == {
        ("checkout_redesign", "A"), ("checkout_redesign", "B"),
        ("free_shipping_banner", "control"), ("free_shipping_banner", "treatment")}


def test_tiny_notebook_says_each_thing_once(tiny):
    ds, _ = tiny
    outputs, texts = run_notebook(ds)
    _once(texts)
    assert sum(isinstance(o, Figure) for o in outputs) == 4          # trend, hour, recency, fatigue


def test_fatigue_on_the_demo_data_falls_with_each_earlier_message(demo_data):
    """On the 20,000-customer demo (1,560 messages with 2 earlier ones):
    relative opens fall 0 → 1 → 2 earlier messages in 30 days (×0.9 each in
    the generator, on top of the mix of campaigns and activity)."""
    cfg = config.load("demo", "2026-10")
    with io.load(cfg) as ds:
        f = C.by_fatigue(ds, cfg).set_index("bucket")
    assert f.loc["2", "relative_open_rate"] < f.loc["1", "relative_open_rate"] < f.loc["0", "relative_open_rate"]
