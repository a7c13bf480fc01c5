"""journeykit.sections.awareness (compute and view) on hand-built marketing,
customers and events (every expected value worked out in the comments), on
clients of other shapes (no spend, one channel, no acquisition channel, no
customers, events without a channel), and on the tiny demo data against the
generator's PARAMS["awareness"]."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from journeykit import demo, report
from journeykit.core.periods import Period
from journeykit.sections.awareness import compute as aw
from journeykit.sections.awareness import view as aw_view
from journeykit.sections.registry import require

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
    assert df.channel.tolist() == ["search", aw.OTHER]
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
    assert df.channel.tolist() == ["search", aw.OTHER]
    assert df.new_customers.tolist() == [2, 4]
    assert df.cac.tolist() == pytest.approx([40000, 7000])
    assert df.share.tolist() == pytest.approx([2 / 6, 4 / 6])
    small = make_dataset({"marketing": MARKETING, "customers": CUSTOMERS, "events": EVENTS},
                         definitions={"min_group_size": 1, "k_anonymity": 1})
    d = aw.acquisition_by_channel(small, OCT).set_index("channel")
    assert pd.isna(d.loc["organic", "cac"]) and pd.isna(d.loc[aw.UNKNOWN, "cac"])   # unpaid: no CAC
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
    assert ch["clicks"].verdict == "untested" and ch["clicks"].test == "bought"             # clicks follow impressions
    assert ch["cac"].kind == "value" and ch["cac"].higher_is_better is False
    # CTR is tested on days: September has impressions on one day only, so its day-to-day noise
    # cannot be estimated (3 days needed in each month): too little data, whatever 21,000 impressions say
    ctr = ch["ctr"]
    assert ctr.value == pytest.approx(110 / 14000) and ctr.prev == pytest.approx(50 / 7000)
    assert ctr.extra["clusters"] == 3 and ctr.extra["clusters_prev"] == 1 and ctr.verdict == "too_little_data"
    # new customers 6 + 2 = 8 < 30 in both periods together
    assert ch["new_customers"].verdict == "too_little_data"
    # the daily clusters: 31 October days, clicks 50 + 20 (1st), 30 (2nd), 10 (5th)
    d = aw.daily_values(ds, OCT)
    assert len(d) == 31 and d.clicks.tolist()[:5] == [70, 30, 0, 0, 10] and d.clicks.sum() == 110
    assert d.new_customers.sum() == 6 and d.visits.sum() == 2 and d.new_visitors.sum() == 1


def test_key_figures_show_ctr_with_two_decimals(ds):
    changes = aw.changes(ds, ds.cfg)
    figures = report.key_figures(*aw_view.for_display(changes, ds.cfg), ds.cfg)
    t = figures.blocks[0].cells()
    row = t[t.iloc[:, 0] == "Click-through rate"].iloc[0]
    # 110/14,000 = 0.786 % and 50/7,000 = 0.714 %: rates under 5 % keep two decimals; +0.07 pp
    assert row.iloc[1] == "0.79%" and row.iloc[2] == "0.71%" and row.iloc[3] == "+0.07 pp"
    assert changes[2].value == pytest.approx(110 / 14000)     # the change itself stays 0–1
    assert "Impressions moved from 7,000 to 14,000 (+100.0%)." in repr(figures)
    # what the notebook shows is what a report run shows again from the record: every change
    assert "Spend per new customer" in repr(figures)


def test_monthly(ds):
    m = aw.monthly(ds, ds.cfg)
    last, prev = m.iloc[-1], m.iloc[-2]
    assert last.impressions == 14000 and last.ctr == pytest.approx(110 / 14000) and last.cac == pytest.approx(23500)
    assert prev.cpc == pytest.approx(800) and prev.new_customers == 2 and prev.new_visitors == 2


def test_trend_starts_with_the_first_month_of_marketing(make_dataset):
    """Regression: the trend showed the ten months before the marketing
    export starts (2026-09-15) as zeros and gaps."""
    later = MARKETING.assign(date=MARKETING.date.str.replace("2026-09-15", "2026-09-20"))
    ds = make_dataset({"marketing": later, "customers": CUSTOMERS, "events": EVENTS})
    m = aw.monthly(ds, ds.cfg)
    assert m.month.tolist() == [pd.Timestamp("2026-09-01"), pd.Timestamp("2026-10-01")]
    assert m.impressions.tolist() == [7000, 14000]
    # a gap inside the data stays a gap: marketing in July and October only
    gap = make_dataset({"marketing": MARKETING.assign(date=MARKETING.date.str.replace("2026-09-15", "2026-07-15")),
                        "events": EVENTS})
    g = aw.monthly(gap, gap.cfg)
    assert g.month.dt.month.tolist() == [7, 8, 9, 10]
    assert math.isnan(g.ctr.iloc[1]) and math.isnan(g.ctr.iloc[2])


def test_an_empty_trend_is_a_sentence_not_a_chart(make_dataset):
    ds = make_dataset({"marketing": MARKETING, "events": EVENTS}, period="2026-08")   # marketing starts after it
    m = aw.monthly(ds, ds.cfg)
    assert len(m) == 1 and math.isnan(m.impressions.iloc[0])
    out = aw_view.trend(m, ds.cfg)
    assert isinstance(out, report.Note) and "No month of the trend window has marketing data" in out.text
    assert aw_view.ctr_chart(aw.by_channel(ds, ds.cfg.period), ds.cfg) is None
    a = aw.compute(ds, ds.cfg)                                      # no marketing row in the period at all
    assert a.media.empty and a.changes[2].value is None
    assert _shown(a, ds.cfg).count("No marketing rows in August 2026.") == 1


def test_metrics_keys(ds):
    m = aw.metrics(ds, ds.cfg)
    for key in aw.STABLE_KEYS:
        assert key in m and f"{key}_prev" in m
    assert m["ctr"] == pytest.approx(110 / 14000) and m["cac_prev"] == pytest.approx(40000)
    assert set(m["ctr_by_channel"]) == {"search", "other"}      # display and social: under 30 clicks
    json.dumps(report.jsonable(m))


def test_breakdowns_follow_a_changed_setting_on_the_same_dataset(ds):
    """The memo keys on the settings: a cell re-run with another
    min_group_size gets the new folding, not the cached one."""
    wide = ds.cfg.updated(definitions={"min_group_size": 1, "k_anonymity": 1})
    assert aw.by_channel(ds, OCT, wide).channel.tolist() == ["search", "display", "social"]
    narrow = ds.cfg.updated(definitions={"min_group_size": 25, "k_anonymity": 1})
    assert aw.by_channel(ds, OCT, narrow).channel.tolist() == ["search", aw.OTHER]
    assert aw.by_channel(ds, OCT, wide).channel.tolist() == ["search", "display", "social"]
    assert aw.acquisition_by_channel(ds, OCT, wide).channel.tolist()[0] == "search"
    assert aw.acquisition_by_channel(ds, OCT, narrow).channel.tolist() == [aw.OTHER]


def _shown(a: aw.Awareness, cfg) -> str:
    """Every output of the notebook's view cells, as text."""
    parts = [report.key_figures(*aw_view.for_display(a.changes, cfg), cfg), aw_view.skip_note(a.skipped, cfg, "spend"),
             report.narrative(aw_view.insights(a.media, a.acquisition, cfg)), aw_view.trend(a.monthly, cfg),
             aw_view.media_table(a.media, cfg), aw_view.ctr_chart(a.media, cfg),
             aw_view.acquisition_table(a.acquisition, a.skipped, cfg), aw_view.cac_chart(a.acquisition, cfg),
             aw_view.sources_table(a.sources, a.skipped, cfg),
             report.Narrative(aw_view.next_steps(a.media, a.acquisition, cfg))]
    return "\n".join(repr(p) for p in parts if p is not None and not hasattr(p, "savefig"))


def test_without_customers_the_customer_part_is_skipped_once(make_dataset):
    orders = pd.DataFrame({"customer_id": ["c1"], "ordered_at": ["2026-10-01"], "amount": [10.0]})
    ds = make_dataset({"marketing": MARKETING, "orders": orders})     # customers derived from orders
    m = aw.metrics(ds, ds.cfg)
    assert m["ctr"] == pytest.approx(110 / 14000)
    assert m["new_customers"] is None and m["cac"] is None and m["cac_prev"] is None and m["cac_by_channel"] is None
    assert m["visits"] is None
    assert aw.acquisition_by_channel(ds, OCT) is None
    a = aw.compute(ds, ds.cfg)
    assert a.skipped == ["acquisition", "events"]
    text = _shown(a, ds.cfg)
    assert text.count("acquisition_channel column") == 1 and text.count("need the events table") == 1
    assert "Add acquisition_channel" in aw_view.next_steps(a.media, None, ds.cfg)[0]


def test_customers_without_acquisition_channel(make_dataset):
    ds = make_dataset({"marketing": MARKETING, "customers": CUSTOMERS.drop(columns=["acquisition_channel"]),
                       "events": EVENTS})
    a = aw.compute(ds, ds.cfg)
    assert a.skipped == ["acquisition"] and a.acquisition is None
    assert {c.key for c in a.changes} == {"impressions", "clicks", "ctr", "spend", "cpc", "cpm", "visits",
                                          "new_visitors"}
    assert _shown(a, ds.cfg).count("acquisition_channel column") == 1
    assert aw.monthly(ds, ds.cfg).new_customers.isna().all()


def test_marketing_without_spend_says_so_once(make_dataset):
    """No spend: no CPC, CPM or CAC anywhere, and one sentence saying why."""
    ds = make_dataset({"marketing": MARKETING.drop(columns=["spend"]), "customers": CUSTOMERS, "events": EVENTS})
    a = aw.compute(ds, ds.cfg)
    assert a.skipped == ["spend"]
    m = aw.metrics(ds, ds.cfg)
    assert m["ctr"] == pytest.approx(110 / 14000) and m["new_customers"] == 6
    assert all(m[k] is None for k in ("spend", "cpc", "cpm", "cac", "blended_cac", "spend_prev", "cac_prev"))
    assert set(m["cac_by_channel"].values()) == {None}
    assert {c.key for c in a.changes} == {"impressions", "clicks", "ctr", "new_customers", "visits", "new_visitors"}
    assert a.media.spend.isna().all() and a.acquisition.cac.isna().all()
    text = _shown(a, ds.cfg)
    assert text.count("no spend") == 1 and "CPC" not in text.replace("(CPC, CPM, CAC)", "")
    assert "Ad spend" not in text and "₩" not in text
    assert aw_view.cac_chart(a.acquisition, ds.cfg) is None
    assert aw_view.next_steps(a.media, None, ds.cfg) == [
        "No channel stands out this month; keep watching CAC and click-through rate in the trend."]


def test_one_channel_only(make_dataset):
    ds = make_dataset({"marketing": MARKETING[MARKETING.channel == "search"], "customers": CUSTOMERS, "events": EVENTS},
                      definitions={"min_group_size": 1, "k_anonymity": 1})
    a = aw.compute(ds, ds.cfg)
    assert a.media.channel.tolist() == ["search"]
    assert aw_view.insights(a.media, a.acquisition, ds.cfg) == []     # nothing to compare
    # new customers: search 2 (paid, ₩80,000 → ₩40,000 each); the rest are unpaid
    assert a.acquisition.set_index("channel").loc["search", "cac"] == pytest.approx(40000)
    assert aw_view.next_steps(a.media, a.acquisition, ds.cfg) == [
        "No channel stands out this month; keep watching CAC and click-through rate in the trend."]
    assert aw_view.ctr_chart(a.media, ds.cfg) is not None
    assert "search" in repr(aw_view.media_table(a.media, ds.cfg))


def test_events_without_channel_count_visits_but_not_by_source(make_dataset):
    ds = make_dataset({"marketing": MARKETING, "customers": CUSTOMERS, "events": EVENTS.drop(columns=["channel"])})
    a = aw.compute(ds, ds.cfg)
    assert a.skipped == ["event_channel"] and a.sources is None
    assert aw.visits(ds, OCT) == 2 and aw.new_visitors(ds, OCT) == 1
    assert _shown(a, ds.cfg).count("events have no channel column") == 1


def test_events_with_one_identity_column(make_dataset):
    only_visitor = EVENTS.drop(columns=["customer_id"])
    only_customer = EVENTS.drop(columns=["visitor_id"]).dropna(subset=["customer_id"])
    for events, oct_visits in ((only_visitor, 2), (only_customer, 1)):
        ds = make_dataset({"marketing": MARKETING, "events": events})
        assert aw.visits(ds, OCT) == oct_visits
        assert aw.visits_by_source(ds, OCT, ds.cfg.updated(definitions={"min_group_size": 1, "k_anonymity": 1})
                                   ).visits.sum() == oct_visits


def test_the_notebook_runs_on_a_shop_of_another_shape(make_dataset, tmp_path):
    """The real notebook, in a kernel, on a client with one channel, no
    spend, no acquisition channels and events without a channel."""
    shop = {"marketing": MARKETING[MARKETING.channel == "search"].drop(columns=["spend"]),
            "customers": CUSTOMERS.drop(columns=["acquisition_channel"]),
            "events": EVENTS.drop(columns=["channel", "session_id"])}
    ds = make_dataset(shop)
    nb = run_notebook("10_awareness", ds, tmp_path)
    recorded = recorded_metrics(nb)
    assert recorded["ctr"] == pytest.approx(80 / 2000) and recorded["cac"] is None and recorded["visits"] == 2


def run_notebook(name: str, ds, folder):
    """Execute ``notebooks/<name>.ipynb`` with papermill on the client of ``ds``."""
    import papermill

    ROOT = Path(__file__).resolve().parents[2]

    cfg_path = ds.cfg.write(folder / "run_config.json")
    return papermill.execute_notebook(str(ROOT / "notebooks" / f"{name}.ipynb"), str(folder / f"{name}.ipynb"),
                                      parameters={"client": ds.cfg.client, "period": str(ds.cfg.period),
                                                  "run_config": str(cfg_path)},
                                      cwd=str(ds.cfg.root), progress_bar=False, kernel_name="python3")


def recorded_metrics(nb) -> dict:
    """The metrics a notebook recorded (:func:`journeykit.report.record`)."""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if report.METRICS_MIME in data:
                return data[report.METRICS_MIME]["metrics"]
    raise AssertionError("no metrics recorded")


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
    en = aw_view.insights(MEDIA, ACQ, ds.cfg)
    assert en == ["Search has the highest click-through rate (4.00%) and display the lowest (0.20%).",
                  "Search takes the largest share of spend (80.0%).",
                  "A new customer costs ₩200 through email and ₩4,000 through display."]
    ko = aw_view.insights(MEDIA, ACQ, ds.cfg.updated(language="ko"))
    assert ko[0] == "클릭률이 가장 높은 채널은 search(4.00%), 가장 낮은 채널은 display(0.20%)입니다."
    assert ko[1] == "광고비 비중이 가장 큰 채널은 search(80.0%)입니다."
    assert ko[2] == "신규 고객 한 명의 획득 비용은 email ₩200, display ₩4,000입니다."
    # all-channel CTR = 80 / 12,000 = 0.667%; display 0.20% is under half of it.
    # CAC: display 4,000 / email 200 = 20× ≥ 2× → budget review
    nxt = aw_view.next_steps(MEDIA, ACQ, ds.cfg)
    assert nxt == ["Review the budget of display: it takes 16.0% of spend and a new customer costs ₩4,000 there, "
                   "20.0× email (₩200).",
                   "Refresh the creative or targeting on display: its click-through rate (0.20%) is under half "
                   "the average (0.67%)."]
    assert aw_view.next_steps(MEDIA, ACQ, ds.cfg.updated(language="ko"))[0].startswith("display의 예산을 검토하세요")
    even = MEDIA.assign(ctr=[0.01, 0.01, 0.01], clicks=[10.0, 100.0, 10.0])
    assert aw_view.next_steps(even, ACQ.assign(cac=[1000.0, 1500.0, 1200.0]), ds.cfg) == [
        "No channel stands out this month; keep watching CAC and click-through rate in the trend."]
    # the folded and missing channels are named in the client's language
    folded = MEDIA.assign(channel=["search", aw.OTHER, aw.UNKNOWN])
    assert aw_view.insights(folded, None, ds.cfg) == [
        "Search has the highest click-through rate (4.00%) and unknown the lowest (2.00%).",
        "Search takes the largest share of spend (80.0%)."]
    assert aw_view.channel_label(aw.OTHER, ds.cfg.updated(language="ko")) == "기타"


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


# --------------------------------------------------------------------------
# The split: numbers in compute, words and charts in view
# --------------------------------------------------------------------------

def imported_names(module) -> set[str]:
    """Every module and name a module imports (its source, parsed)."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(module))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            out |= {node.module or ""} | {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
    return out


def test_compute_holds_no_words_or_charts_and_every_skip_has_a_reason_in_both_languages():
    from journeykit.core import i18n

    names = imported_names(aw)
    assert not {n for n in names if "i18n" in n or "matplotlib" in n or "plots" in n or n.endswith(".report")
                or n == "journeykit.report"}, names
    for key in aw.SKIPS:
        assert set(i18n.TEXT[f"awareness_skip_{key}"]) == {"en", "ko"}
