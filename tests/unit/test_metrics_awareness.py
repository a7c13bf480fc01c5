"""journeykit.sections.awareness.compute on hand-built marketing, customers and events
(every expected value worked out in the comments) and on the tiny demo data
against the generator's PARAMS["awareness"]."""

from __future__ import annotations

import datetime as dt
import math
from types import SimpleNamespace

import pandas as pd
import pytest

from journeykit.sections.registry import require
from journeykit import demo
from journeykit.sections.awareness import compute as aw
from journeykit.core.periods import Period

OCT, SEP = Period(2026, 10), Period(2026, 9)

MARKETING = pd.DataFrame([
    # date, channel, impressions, clicks, spend
    ("2026-10-01", "search", 1000, 50, 50000),
    ("2026-10-02", "search", 1000, 30, 30000),
    ("2026-10-01", "display", 10000, 20, 8000),
    ("2026-10-05", " Social ", 2000, 10, 6000),     # matched to "social" (case, blanks)
    ("2026-09-15", "search", 2000, 40, 36000),
    ("2026-09-15", "display", 5000, 10, 4000),
], columns=["date", "channel", "impressions", "clicks", "spend"])
# October: impressions 14,000; clicks 110; spend 94,000
#   CTR 110/14,000 = 0.0078571; CPC 94,000/110 = 854.545; CPM 1000·94,000/14,000 = 6,714.29
# September: impressions 7,000; clicks 50; spend 40,000; CTR 0.0071429; CPC 800; CPM 5,714.29

CUSTOMERS = pd.DataFrame([
    ("c1", "2026-10-03", "search"), ("c2", "2026-10-04", "search"), ("c3", "2026-10-05", "display"),
    ("c4", "2026-10-06", "organic"), ("c5", "2026-10-07", None), ("c6", "2026-10-08", "SOCIAL"),
    ("c7", "2026-09-03", "search"), ("c8", "2026-09-04", "organic"),
], columns=["customer_id", "signup_at", "acquisition_channel"])
# October: 6 new customers; paid channels (search, search, display, social) = 4
#   CAC 94,000 / 4 = 23,500; blended 94,000 / 6 = 15,666.67
# September: 2 new, 1 paid (c7): CAC 40,000; blended 20,000

EVENTS = pd.DataFrame([
    # occurred_at, event_type, customer_id, visitor_id, session_id, channel
    ("2026-09-01 10:00", "visit", None, "v2", "a", "social"),    # v2 first seen in September
    ("2026-09-20 10:00", "visit", "c1", "k1", "b", "email"),     # k1 first seen in September
    ("2026-10-03 10:00", "visit", None, "v1", "c", "search"),    # v1 first seen in October
    ("2026-10-04 10:00", "visit", "c1", "k1", "d", "direct"),    # k1 returns
], columns=["occurred_at", "event_type", "customer_id", "visitor_id", "session_id", "channel"])
# visits: October 2 (c, d), September 2 (a, b); new visitors: October 1 (v1), September 2 (v2, k1)


@pytest.fixture
def ds(make_dataset):
    return make_dataset({"marketing": MARKETING, "customers": CUSTOMERS, "events": EVENTS})


def test_media_kpis_by_hand(ds):
    assert aw.impressions(ds, OCT) == 14000 and aw.clicks(ds, OCT) == 110 and aw.spend(ds, OCT) == 94000
    assert aw.ctr(ds, OCT) == pytest.approx(110 / 14000)
    assert aw.cpc(ds, OCT) == pytest.approx(854.545, abs=1e-3)
    assert aw.cpm(ds, OCT) == pytest.approx(6714.286, abs=1e-3)
    assert aw.ctr(ds, SEP) == pytest.approx(50 / 7000) and aw.cpc(ds, SEP) == pytest.approx(800)


def test_customer_and_visit_kpis_by_hand(ds):
    assert aw.new_customers(ds, OCT) == 6 and aw.new_customers(ds, SEP) == 2
    assert aw.cac(ds, OCT) == pytest.approx(23500) and aw.cac(ds, SEP) == pytest.approx(40000)
    assert aw.blended_cac(ds, OCT) == pytest.approx(94000 / 6)
    assert aw.visits(ds, OCT) == 2 and aw.visits(ds, SEP) == 2
    assert aw.new_visitors(ds, OCT) == 1 and aw.new_visitors(ds, SEP) == 2


def test_by_channel_folds_channels_with_few_clicks(make_dataset):
    ds = make_dataset({"marketing": MARKETING, "customers": CUSTOMERS, "events": EVENTS},
                      definitions={"min_group_size": 25, "k_anonymity": 1})
    df = aw.by_channel(ds, OCT)
    # clicks: search 80 (kept), display 20 and social 10 (< 25) → other: 12,000 impressions, 30 clicks, 14,000 spend
    assert df.channel.tolist() == ["search", "other"]
    s, o = df.iloc[0], df.iloc[1]
    assert s.ctr == pytest.approx(80 / 2000) and s.cpc == pytest.approx(1000) and s.cpm == pytest.approx(40000)
    assert o.ctr == pytest.approx(30 / 12000) and o.cpc == pytest.approx(14000 / 30)
    assert s.spend_share == pytest.approx(80000 / 94000) and o.spend_share == pytest.approx(14000 / 94000)


def test_acquisition_by_channel_cac_per_channel(make_dataset):
    ds = make_dataset({"marketing": MARKETING, "customers": CUSTOMERS, "events": EVENTS},
                      definitions={"min_group_size": 2, "k_anonymity": 1})
    df = aw.acquisition_by_channel(ds, OCT)
    # search: 2 new, spend 80,000 → CAC 40,000 (kept)
    # display 1, social 1, organic 1, unknown 1 (< 2) → other: 4 new; paid spend 8,000 + 6,000 = 14,000
    #   over the 2 paid new customers (display, social) → CAC 7,000
    assert df.channel.tolist() == ["search", "other"]
    assert df.new_customers.tolist() == [2, 4]
    assert df.cac.tolist() == pytest.approx([40000, 7000])
    assert df.share.tolist() == pytest.approx([2 / 6, 4 / 6])
    small = make_dataset({"marketing": MARKETING, "customers": CUSTOMERS, "events": EVENTS},
                         definitions={"min_group_size": 1, "k_anonymity": 1})
    d = aw.acquisition_by_channel(small, OCT).set_index("channel")
    assert pd.isna(d.loc["organic", "cac"]) and pd.isna(d.loc["unknown", "cac"])   # unpaid: no CAC
    assert d.loc["social", "cac"] == pytest.approx(6000)


def test_visits_by_source(make_dataset):
    ds = make_dataset({"marketing": MARKETING, "events": EVENTS}, definitions={"min_group_size": 1, "k_anonymity": 1})
    df = aw.visits_by_source(ds, OCT).set_index("channel")
    # October visits: search (v1), direct (k1); new visitors: v1 via search
    assert df.visits.to_dict() == {"direct": 1, "search": 1}
    assert df.new_visitors.to_dict() == {"direct": 0, "search": 1}


def test_changes_verdicts(ds, make_dataset):
    ch = {c.key: c for c in aw.changes(ds, ds.cfg)}
    assert ch["impressions"].verdict == "untested" and ch["spend"].verdict == "untested"   # bought, not sampled
    assert ch["cac"].kind == "value" and ch["cac"].higher_is_better is False
    # CTR: 110/14,000 vs 50/7,000 on 21,000 impressions: pooled p = 160/21,000 = 0.0076190;
    # se = sqrt(p(1−p)(1/14,000 + 1/7,000)) = 0.0012727; z = (0.0078571 − 0.0071429)/0.0012727 = 0.5612; p = 0.5747
    assert ch["ctr"].p_value == pytest.approx(0.5747, abs=1e-3) and ch["ctr"].verdict == "not_significant"
    # new customers 6 + 2 = 8 < 30 in both periods together
    assert ch["new_customers"].verdict == "too_little_data"


def test_kpi_table_shows_ctr_per_thousand_impressions(ds):
    t = aw.kpi_view(ds, ds.cfg).cells()
    row = t[t.iloc[:, 0] == "Clicks per 1,000 impressions (CTR ‰)"].iloc[0]
    # 1000 · 110/14,000 = 7.857 → "7.9"; 1000 · 50/7,000 = 7.143 → "7.1"; relative change +10.0 %
    assert row.iloc[1] == "7.9" and row.iloc[2] == "7.1" and row.iloc[3] == "+10.0%"
    assert aw.changes(ds, ds.cfg)[2].value == pytest.approx(110 / 14000)     # the change itself stays 0–1
    text = repr(aw.narrative(ds, ds.cfg))
    assert "Impressions moved from 7,000 to 14,000 (+100.0%)." in text


def test_monthly(ds):
    m = aw.monthly(ds, ds.cfg)
    assert len(m) == 12
    last, prev = m.iloc[-1], m.iloc[-2]
    assert last.impressions == 14000 and last.ctr == pytest.approx(110 / 14000) and last.cac == pytest.approx(23500)
    assert prev.cpc == pytest.approx(800) and prev.new_customers == 2 and prev.new_visitors == 2
    assert math.isnan(m.ctr.iloc[0])           # no marketing rows: a gap


def test_metrics_keys(ds):
    m = aw.metrics(ds, ds.cfg)
    for key in aw.STABLE_KEYS:
        assert key in m and f"{key}_prev" in m
    assert m["ctr"] == pytest.approx(110 / 14000) and m["cac_prev"] == pytest.approx(40000)


def test_without_acquisition_channel_the_customer_part_is_skipped(make_dataset):
    orders = pd.DataFrame({"customer_id": ["c1"], "ordered_at": ["2026-10-01"], "amount": [10.0]})
    ds = make_dataset({"marketing": MARKETING, "orders": orders})     # customers derived from orders
    m = aw.metrics(ds, ds.cfg)
    assert m["ctr"] == pytest.approx(110 / 14000)
    assert m["new_customers"] is None and m["cac"] is None and m["cac_prev"] is None
    assert m["visits"] is None
    assert aw.acquisition_by_channel(ds, OCT) is None
    text = " ".join(n.text for n in aw.notes(ds, ds.cfg))
    assert "acquisition_channel" in text and "events" in text
    assert "Add acquisition_channel" in aw.next_steps(aw.by_channel(ds, OCT), None, ds.cfg)[0]


def test_not_available_without_marketing(make_dataset):
    from journeykit.core.errors import SectionNotAvailable

    orders = pd.DataFrame({"customer_id": ["c1"], "ordered_at": ["2026-10-01"], "amount": [10.0]})
    ds = make_dataset({"orders": orders})
    m = aw.metrics(ds, ds.cfg)
    assert set(m) == {k for key in aw.STABLE_KEYS for k in (key, f"{key}_prev")} and all(v is None for v in m.values())
    with pytest.raises(SectionNotAvailable, match="marketing"):
        require(ds.cfg, ds, "10_awareness")


MEDIA = pd.DataFrame({"channel": ["search", "display", "email"], "impressions": [1000.0, 10000.0, 1000.0],
                      "clicks": [40.0, 20.0, 20.0], "ctr": [0.04, 0.002, 0.02], "spend": [40000.0, 8000.0, 2000.0],
                      "spend_share": [0.8, 0.16, 0.04], "cpc": [1000.0, 400.0, 100.0], "cpm": [40000.0, 800.0, 2000.0]})
ACQ = pd.DataFrame({"channel": ["search", "display", "email"], "new_customers": [40, 2, 10],
                    "share": [40 / 52, 2 / 52, 10 / 52], "spend": [40000.0, 8000.0, 2000.0],
                    "cac": [1000.0, 4000.0, 200.0]})


def test_generated_sentences_en_and_ko(ds):
    en = aw.channel_sentences(MEDIA, ACQ, ds.cfg)
    assert en == ["Search has the highest click-through rate (4.00%) and display the lowest (0.20%).",
                  "Search takes the largest share of spend (80.0%).",
                  "A new customer costs ₩200 through email and ₩4,000 through display."]
    ko = aw.channel_sentences(MEDIA, ACQ, ds.cfg.model_copy(update={"language": "ko"}))
    assert ko[0] == "클릭률이 가장 높은 채널은 search(4.00%), 가장 낮은 채널은 display(0.20%)입니다."
    assert ko[1] == "광고비 비중이 가장 큰 채널은 search(80.0%)입니다."
    assert ko[2] == "신규 고객 한 명의 획득 비용은 email ₩200, display ₩4,000입니다."
    # all-channel CTR = 80 / 12,000 = 0.667%; display 0.20% is under half of it.
    # CAC: display 4,000 / email 200 = 20× ≥ 2× → budget review
    nxt = aw.next_steps(MEDIA, ACQ, ds.cfg)
    assert nxt == ["Review the budget of display: it takes 16.0% of spend and a new customer costs ₩4,000 there, "
                   "20.0× email (₩200).",
                   "Refresh the creative or targeting on display: its click-through rate (0.20%) is under half "
                   "the average (0.67%)."]
    assert aw.next_steps(MEDIA, ACQ, ds.cfg.model_copy(update={"language": "ko"}))[0].startswith("display의 예산을 검토하세요")
    even = MEDIA.assign(ctr=[0.01, 0.01, 0.01], clicks=[10.0, 100.0, 10.0])
    assert aw.next_steps(even, ACQ.assign(cac=[1000.0, 1500.0, 1200.0]), ds.cfg) == [
        "No channel stands out this month; keep watching CAC and click-through rate in the trend."]


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


ALL = SimpleNamespace(start=dt.date(2000, 1, 1), end=dt.date(2026, 11, 1))


def test_ctr_per_channel_matches_the_generator(tiny):
    """The generator draws impressions = clicks / ctr × LogNormal(0, 0.1) per
    day and campaign, so a channel's CTR over its ~730-1,460 rows is its
    PARAMS ctr divided by E[LogNormal] = e^0.005 (−0.5 %), with a relative
    noise below 0.5 %. Tolerance 5 % relative: far above that noise, far
    below the ≥ 40 % gaps between channels' CTRs."""
    df = aw.by_channel(tiny, ALL).set_index("channel")
    for ch, ctr in demo.PARAMS["awareness"]["ctr"].items():
        assert df.loc[ch, "ctr"] == pytest.approx(ctr, rel=0.05), ch
    oct_ = aw.by_channel(tiny, OCT).set_index("channel")   # one month: ~30 rows per campaign, noise ~2 %
    for ch, ctr in demo.PARAMS["awareness"]["ctr"].items():
        assert oct_.loc[ch, "ctr"] == pytest.approx(ctr, rel=0.10), ch


def test_cpc_and_cac_per_channel_match_the_generator(tiny):
    """CPC: spend = clicks × cpc × LogNormal(0, 0.15), so CPC ≈ cpc × e^0.01125
    (+1.1 %); tolerance 5 %. CAC: clicks are drawn as clicks_per_signup ×
    expected sign-ups, so CAC ≈ cpc × clicks_per_signup × 1.011; the count
    of a channel's customers is Poisson, so the tolerance is 4 / sqrt(n)
    relative (4 standard errors) plus the 5 % CPC allowance."""
    d = aw.acquisition_by_channel(tiny, ALL, tiny.cfg).set_index("channel")
    media = aw.by_channel(tiny, ALL).set_index("channel")
    truth = demo.PARAMS["awareness"]
    for ch in truth["ctr"]:
        assert media.loc[ch, "cpc"] == pytest.approx(truth["cpc"][ch] * math.exp(0.15 ** 2 / 2), rel=0.05), ch
        n = d.loc[ch, "new_customers"]
        expected = truth["cpc"][ch] * truth["clicks_per_signup"][ch] * math.exp(0.15 ** 2 / 2)
        assert d.loc[ch, "cac"] == pytest.approx(expected, rel=4 / math.sqrt(n) + 0.05), (ch, n)
    assert pd.isna(d.loc["organic", "cac"])      # unpaid channel: no CAC


def test_metrics_on_tiny(tiny):
    m = aw.metrics(tiny, tiny.cfg)
    for key in aw.STABLE_KEYS:
        assert m[key] is not None and m[f"{key}_prev"] is not None
    assert 0 < m["ctr"] < 0.05 and m["cac"] > m["cpc"]
