"""Health score on hand-built data (components, re-weighting, bands,
contributions, a changed setting on the same dataset), playbook selection
and the pseudonymized exports, the generated text in en and ko, and the
tiny demo data: the bands at a past period end separate customers who left
in the following months from those who stayed (the generator's truth)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from journeykit import facts
from journeykit.core import config
from journeykit.core.settings import DEFAULT_PLAYBOOKS
from journeykit.sections.segmentation import compute
from journeykit.sections.segmentation import experience as X
from journeykit.sections.segmentation import health as H
from journeykit.sections.segmentation import playbooks as P
from journeykit.sections.segmentation import view_health as VH

# the customers and orders of tests/unit/test_segments.py (hand-worked values there)
from segment_data import CUSTOMERS, ORDERS, SUBSCRIPTIONS, SURVEYS, TICKETS  # noqa: E402


@pytest.fixture
def ds(make_dataset):
    return make_dataset({"customers": CUSTOMERS, "orders": ORDERS, "tickets": TICKETS, "surveys": SURVEYS,
                         "subscriptions": SUBSCRIPTIONS})


def test_score_frame_reweights_missing_components_and_bands():
    comp = pd.DataFrame({"customer_id": ["x", "y", "z", "w"], "a": [1.0, 0.2, 0.5, np.nan],
                         "b": [0.0, np.nan, 0.5, np.nan], "c": [1.0, 0.6, 0.5, np.nan]})
    out = H.score_frame(comp, {"a": 0.5, "b": 0.25, "c": 0.25}, ["a", "b", "c"], 70, 40).set_index("customer_id")
    # x: 100 × (0.5·1 + 0.25·0 + 0.25·1) / 1 = 75 -> healthy
    # y: b missing -> 100 × (0.5·0.2 + 0.25·0.6) / 0.75 = 33.33 -> unhealthy
    # z: 100 × 0.5 = 50 -> at risk;  w: nothing known -> no score, no band
    assert out.loc[["x", "y", "z"], "score"].tolist() == pytest.approx([75, 100 / 3, 50])
    assert out.loc[["x", "y", "z"], "band"].tolist() == ["healthy", "unhealthy", "at_risk"]
    assert np.isnan(out.loc["w", "score"]) and pd.isna(out.loc["w", "band"])
    # points: y's a = 100 × 0.1 / 0.75 = 13.33, c = 100 × 0.15 / 0.75 = 20; they add up to the score
    assert out.loc["y", "pts_a"] == pytest.approx(40 / 3) and out.loc["y", "pts_c"] == pytest.approx(20)
    pts = out.loc[["x", "y", "z"], ["pts_a", "pts_b", "pts_c"]].sum(axis=1)
    assert pts.tolist() == pytest.approx(out.loc[["x", "y", "z"], "score"].tolist())
    # band edges: 70 is healthy, 40 is at risk, 39.9 unhealthy
    edge = pd.DataFrame({"customer_id": ["p", "q", "r"], "a": [0.7, 0.4, 0.399]})
    assert H.score_frame(edge, {"a": 1}, ["a"], 70, 40)["band"].tolist() == ["healthy", "at_risk", "unhealthy"]


def test_components_on_the_engine(ds):
    c = H.components(ds, ds.cfg).set_index("customer_id")
    # scored: not churned at the end -> A (active), C (new), E (reactivated); B and D churned
    assert sorted(c.index) == ["A", "C", "E"]
    # recency: A silent 12 days -> 1 − 12/90
    assert c.loc["A", "recency"] == pytest.approx(1 - 12 / 90)
    # tickets in the last 90 days: A 2 -> 1/3; E's May ticket is too old -> 1; C none -> 1
    assert c.loc[["A", "C", "E"], "tickets"].tolist() == pytest.approx([1 / 3, 1, 1])
    # NPS/CSAT: A nps 3 -> 0.3, csat 2 -> 0.25: mean 0.275; E latest nps 8 -> 0.8; C none
    assert c.loc["A", "nps_csat"] == pytest.approx(0.275) and c.loc["E", "nps_csat"] == pytest.approx(0.8)
    assert np.isnan(c.loc["C", "nps_csat"])
    # payment attempts in the last 90 days: A paid Sep 1, failed Oct 19, paid Oct 20 -> 1/(1+1);
    # E paid Oct 25 -> 1; C never attempted -> no value
    assert c.loc["A", "payment_failures"] == pytest.approx(0.5) and c.loc["E", "payment_failures"] == 1
    assert np.isnan(c.loc["C", "payment_failures"])
    # subscription: E paid and running -> 1; A's trial ended 27 days ago -> 0; C none
    assert c.loc["E", "subscription"] == 1 and c.loc["A", "subscription"] == 0
    assert np.isnan(c.loc["C", "subscription"])
    # usage trend: A active days in the last 28 days (Oct 4–31): Oct 19, 20 -> 2; baseline (Aug 9–Oct 3,
    # 56 d): Sep 1 -> 1, expected 1 × 28/56 = 0.5 -> 2 / 2.5 = 0.8. C too new (no baseline) -> none
    assert c.loc["A", "usage_trend"] == pytest.approx(0.8) and np.isnan(c.loc["C", "usage_trend"])
    # engagement: active days in 84 d: A 3, E 1, C 0 -> pct ranks 1, 2/3, 1/3;
    # paid orders in the RFM window: A 3, E 2, C 0 -> 1, 2/3, 1/3; mean: A 1, E 2/3, C 1/3
    assert c.loc[["A", "E", "C"], "engagement"].tolist() == pytest.approx([1, 2 / 3, 1 / 3])


def test_sub_renewal_date(ds):
    s = H.subscription_state(ds, ds.cfg, ds.cfg.period.end).set_index("customer_id")
    # E started Oct 10: renews every 30 days -> next renewal after Nov 1 is Nov 9
    assert s.loc["E", "next_renewal"] == pd.Timestamp("2026-11-09")
    assert pd.isna(s.loc["A", "next_renewal"])


def test_orders_only_drops_components_and_says_so(make_dataset):
    ds = make_dataset({"orders": ORDERS})
    av = H.available_components(ds)
    assert av["tickets"] == "table:tickets" and av["subscription"] == "table:subscriptions"
    assert av["nps_csat"] == "table:surveys" and av["payment_failures"] is None
    assert H.used_components(ds, ds.cfg) == ["usage_trend", "recency", "engagement", "payment_failures"]
    note = VH.dropped_note(ds, ds.cfg)
    assert "Support tickets, NPS / CSAT, Subscription status" in note.text and "rescaled" in note.text
    assert X.experience(ds, ds.cfg) is None and X.experience_reason(ds, ds.cfg) == "no_tables"
    h = H.health(ds, ds.cfg)
    assert h["score"].notna().all() and set(h["band"]) <= set(facts.HEALTH_BANDS)
    html = VH.components_table(ds, ds.cfg)._repr_html_()
    assert "dropped: needs" in html and "nan" not in html.lower().replace("nanum", "")


def test_health_follows_a_changed_setting_on_the_same_dataset(ds):
    """Issue 15: the bands used to be cached per dataset and end, so a
    changed threshold returned the old bands."""
    h70 = H.health(ds, ds.cfg).set_index("customer_id")
    # scores: A 64.96, C 60, E 85.83 -> with healthy_min 70 only E is healthy
    assert h70["band"].to_dict() == {"A": "at_risk", "C": "at_risk", "E": "healthy"}
    strict = ds.cfg.updated(segmentation={"health": {"healthy_min": 95}})
    h95 = H.health(ds, strict).set_index("customer_id")
    assert h95["band"].to_dict() == {"A": "at_risk", "C": "at_risk", "E": "at_risk"}
    assert H.band_counts(ds, strict) == {"healthy": 0, "at_risk": 3, "unhealthy": 0}
    # and the default is still answered with the default
    assert H.band_counts(ds, ds.cfg) == {"healthy": 1, "at_risk": 2, "unhealthy": 0}


def test_bands_contributions_and_trend(ds):
    sh = H.band_shares(ds, ds.cfg)
    assert sh == pytest.approx({"healthy": 1 / 3, "at_risk": 2 / 3, "unhealthy": 0})
    c = H.contributions(H.health(ds, ds.cfg), H.used_components(ds, ds.cfg))
    # E alone is healthy: her points add up to her score; nobody is unhealthy
    assert c.loc["healthy"].sum() == pytest.approx(85.8333, abs=1e-3) and c.loc["unhealthy"].isna().all()
    t = H.band_trend(ds, ds.cfg)
    # the activity data starts 2025-10-01 (D's order): the six trailing months are all kept, oldest first
    assert t["month"].dt.strftime("%Y-%m").tolist() == ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09",
                                                        "2026-10"]
    assert t.iloc[-1][["healthy", "at_risk", "unhealthy"]].tolist() == pytest.approx([1 / 3, 2 / 3, 0])
    html = VH.bands_table(ds, ds.cfg)._repr_html_()
    assert "At risk" in html and "66.7%" in html and "nan" not in html
    seg = H.by_segment(ds, ds.cfg).set_index("segment")
    # scored A (at risk segment), E (potential loyalist), C (no paid order in the window)
    assert seg["customers"].to_dict() == {"potential_loyalists": 1, "at_risk": 1, "none": 1}
    assert VH.by_segment_table(ds, ds.cfg) is None  # every segment under k = 10


def test_the_trend_keeps_only_the_shares_of_past_months(ds):
    """Of the trend's months, only the period's and the previous month's
    per-customer frames stay memoized (the section's tables ask for them
    again); the others' are let go once their shares are counted."""
    ds._memo.clear()
    H.band_trend(ds, ds.cfg)
    ends = {k[1] for k, _ in ds._memo if isinstance(k, tuple) and k[0] == "segmentation.health"}
    assert ends == {ds.cfg.period.end, ds.cfg.period.previous().end}


def test_trend_starts_with_the_data(make_dataset):
    orders = pd.DataFrame({"customer_id": ["x", "y"], "ordered_at": ["2026-08-20 00:00:00", "2026-10-03 00:00:00"],
                           "amount": [10, 20]})
    ds = make_dataset({"orders": orders})
    # the data starts in August: no bar for May, June or July
    assert H.band_trend(ds, ds.cfg)["month"].dt.strftime("%Y-%m").tolist() == ["2026-08", "2026-09", "2026-10"]


def test_subscription_ending_after_the_period_end_was_running_then(make_dataset):
    """Nothing after the period end is used: a subscription that ended in
    November was running at the end of October."""
    subs = pd.DataFrame([("s1", "E", "2026-10-10 00:00:00", "2026-11-15 00:00:00", "basic", 9900)],
                        columns=["subscription_id", "customer_id", "started_at", "ended_at", "plan", "mrr"])
    ds = make_dataset({"customers": CUSTOMERS, "orders": ORDERS, "subscriptions": subs}, period="2026-10")
    s = H.subscription_state(ds, ds.cfg, ds.cfg.period.end).set_index("customer_id")
    assert s.loc["E", "subscription"] == 1 and s.loc["E", "next_renewal"] == pd.Timestamp("2026-11-09")
    nov = make_dataset({"customers": CUSTOMERS, "orders": ORDERS, "subscriptions": subs}, period="2026-11")
    s = H.subscription_state(nov, nov.cfg, nov.cfg.period.end).set_index("customer_id")
    # at the end of November it ended 16 days before: 0, no renewal
    assert s.loc["E", "subscription"] == 0 and pd.isna(s.loc["E", "next_renewal"])


def test_health_charts_and_notes(ds, tmp_path):
    from matplotlib.figure import Figure

    for chart in (VH.distribution_chart, VH.trend_chart, VH.contributions_chart):
        assert isinstance(chart(ds, ds.cfg), Figure)
    assert VH.dropped_note(ds, ds.cfg) is None  # every table is there
    assert VH.playbook_note(ds.cfg, []).text.endswith("Target lists are written to exports/ when the report is rendered.")
    assert VH.playbook_note(ds.cfg, [tmp_path / "a.csv"] * 7).text.endswith(
        "7 target lists written to exports/ (pseudonymized ids).")


def test_playbook_selection(ds):
    t = P.targets(ds, ds.cfg)
    rules = {r.action: r for r in ds.cfg.segmentation.playbooks}
    sel = {a: sorted(t.loc[P.select(t, r, ds.cfg.period.end), "customer_id"]) for a, r in rules.items()}
    assert sel["welcome_guide"] == ["C"]                 # the only new customer
    assert sel["activation"] == ["C"]                    # new, no paid order yet
    assert sel["renewal_contact"] == ["E"]               # renews Nov 9, within 90 days
    assert sel["recommendations"] == ["E"]               # potential loyalist
    # churned within 365 days: B (139 d); D (396 d) is too long gone
    assert sel["winback_churned"] == ["B"]
    assert sel["winback_at_risk"] == []
    p = P.playbook_counts(ds, ds.cfg).set_index("action")
    assert p.loc["renewal_contact", "customers"] == 1
    # revenue at stake: the selected customers' spend in the RFM window; E (potential loyalist) 50
    assert p.loc["recommendations", "revenue_12m"] == 50 and p.loc["welcome_guide", "revenue_12m"] == 0
    summary = VH.playbook_summary(ds, ds.cfg)
    assert summary[0] == {"action": "welcome_guide", "label": "Welcome message and getting-started guide",
                          "timing": "within 1 day of signup", "customers": 1, "revenue_12m": 0.0}
    html = VH.playbooks_table(ds, ds.cfg)._repr_html_()
    assert "state: New; no paid order yet; signed up in the last 30 days" in html and "&lt; 10" in html


def test_custom_playbook_from_the_client_file(make_dataset):
    ds = make_dataset({"customers": CUSTOMERS, "orders": ORDERS},
                      segmentation={"playbooks": [{"action": "vip_call", "label": "Call the VIPs",
                                                   "rfm": ["at_risk"], "timing_days": 3}]})
    p = P.playbook_counts(ds, ds.cfg)
    assert p["action"].tolist() == ["vip_call"] and p.loc[0, "customers"] == 1  # A
    rule = ds.cfg.segmentation.playbooks[0]
    assert VH.action_label(rule, ds.cfg) == "Call the VIPs" and VH.timing_label(rule, ds.cfg) == "within 3 days"
    assert VH.target_label(rule, ds.cfg) == "RFM: At risk"


def test_exports_are_pseudonymized(ds, tmp_path):
    assert P.export_playbooks(ds, ds.cfg) == []  # outside a report run nothing is written
    in_run = ds.cfg.model_copy(update={"run": config.RunContext(folder=tmp_path, exports=tmp_path / "exports",
                                                                results=tmp_path / "r.json")})
    paths = P.export_playbooks(ds, in_run)
    assert sorted(p.name for p in paths) == sorted(f"playbook_{r.action}.csv" for r in DEFAULT_PLAYBOOKS)
    df = pd.read_csv(tmp_path / "exports" / "playbook_renewal_contact.csv")
    assert list(df.columns) == P.EXPORT_COLUMNS
    assert df["customer_id"].str.match(r"^cx_[0-9a-f]{16}$").all()
    assert df.loc[0, "next_renewal"] == "2026-11-09"
    text = "".join(p.read_text() for p in paths)
    assert not any(f",{c}," in text or text.startswith(f"{c},") for c in "ABCDE")


def test_text_en_and_ko(ds, make_dataset):
    en = VH.insights(ds, ds.cfg)
    assert en[0].startswith("3 customers who have not churned were scored:")
    nxt = VH.next_steps(ds, ds.cfg, compute.changes(ds, ds.cfg))
    assert nxt == ["No segment or band stands out this month: run the playbooks as scheduled."]
    ko_ds = make_dataset({"customers": CUSTOMERS, "orders": ORDERS}, language="ko")
    assert VH.insights(ko_ds, ko_ds.cfg)[0].startswith("이탈하지 않은 고객 3명의 점수를 산정했습니다")
    assert VH.next_steps(ko_ds, ko_ds.cfg, []) == ["이번 달에 두드러진 세그먼트나 등급은 없습니다. 계획대로 실행 방안을 진행하세요."]


def test_next_steps_rules_fire(monkeypatch, ds):
    # 100 scored customers, 20 unhealthy (20% >= 15%) -> the outreach sentence
    fake = pd.DataFrame({"customer_id": [f"c{i}" for i in range(100)], "score": [30.0] * 20 + [80.0] * 80,
                         "band": ["unhealthy"] * 20 + ["healthy"] * 80})
    monkeypatch.setattr(H, "health", lambda ds, cfg, end=None: fake)
    monkeypatch.setattr(H, "validation", lambda ds, cfg: {"cutoff": "2026-08-03", "separates": True})
    out = VH.next_steps(ds, ds.cfg, [])
    assert out[0].startswith("20 customers (20.0%) are Unhealthy")
    # a score that failed its check against later churn: no outreach advice, review the weights
    monkeypatch.setattr(H, "validation", lambda ds, cfg: {"cutoff": "2026-08-03", "separates": False})
    out = VH.next_steps(ds, ds.cfg, [])
    assert out[0].startswith("20 customers (20.0%) are Unhealthy, but the score did not tell who churned after "
                             "2026-08-03") and "outreach" not in out[0]


def test_churn_by_band():
    h = pd.DataFrame({"customer_id": list("pqrst"), "band": ["healthy", "healthy", "unhealthy", "unhealthy", "at_risk"]})
    left = pd.Series({"p": None, "q": pd.Timestamp("2027-03-01"), "r": pd.Timestamp("2026-11-20"),
                      "s": pd.Timestamp("2026-10-15"), "t": None})
    g = H.churn_by_band(h, left, pd.Timestamp("2026-11-01").date(), days=90)
    # healthy: p stays, q leaves after 90 days -> 0/2; unhealthy: s left before the end (excluded), r leaves -> 1/1
    assert g.loc["healthy", "rate"] == 0 and g.loc["unhealthy", "customers"] == 1 and g.loc["unhealthy", "rate"] == 1


def test_tiny_health_bands_separate_who_leaves_next(tiny_data):
    """Score the tiny client at the end of 2026-08 and follow the customers
    still there (truth ``left_at`` empty or later) for 60 days — the data
    ends at 2026-10-31, so 60 days is the longest window fully observed.
    The generator makes leavers' usage fall for 56 days and their tickets
    rise for 45 days before they leave, and non-buyers leave early, so the
    share leaving must be clearly higher for Unhealthy than for Healthy.
    Margin: at least 20 points and twice the rate (observed about 50% vs
    8% on ~30 and ~180 customers), and a one-sided two-proportion z-test
    at p < 0.01 so the gap is not noise."""
    from statsmodels.stats.proportion import proportions_ztest

    from journeykit.core import config
    from journeykit.data import loader as io

    cfg = config.load("tiny", "2026-08", root=Path(__file__).resolve().parents[2])
    with io.load(cfg) as ds:
        h = H.health(ds, cfg)
    truth = pd.read_parquet(tiny_data / "truth_customers.parquet").set_index("customer_id")["left_at"]
    g = H.churn_by_band(h, truth, cfg.period.end, days=60)
    un, ok = g.loc["unhealthy"], g.loc["healthy"]
    assert un["customers"] >= 15 and ok["customers"] >= 50
    assert un["rate"] >= ok["rate"] + 0.20 and un["rate"] >= 2 * ok["rate"]
    assert g.loc["at_risk", "rate"] > ok["rate"]
    _z, p = proportions_ztest([un["left"], ok["left"]], [un["customers"], ok["customers"]], alternative="larger")
    assert p < 0.01


def test_validation_against_later_churn(monkeypatch, make_dataset):
    # Period 2026-10, churn window 90 days: cutoff 2026-08-03, follow-up [08-03, 11-01).
    ids = ["h1", "h2", "h3", "a1", "a2", "u1", "u2"]
    after = {"h1": "2026-09-01", "h2": "2026-10-30", "a1": "2026-08-03"}    # a1 on the cutoff day: stayed
    orders = pd.DataFrame({
        "customer_id": ids + list(after),
        "ordered_at": ["2026-07-01 12:00:00"] * len(ids) + [f"{d} 00:30:00" for d in after.values()],
        "amount": 1000})
    ds = make_dataset({"orders": orders})
    fake = pd.DataFrame({"customer_id": ids, "score": [80.0] * 3 + [50.0] * 2 + [20.0] * 2,
                         "band": ["healthy"] * 3 + ["at_risk"] * 2 + ["unhealthy"] * 2})
    seen = []
    monkeypatch.setattr(H, "health", lambda ds, cfg, end=None: seen.append(end) or fake)
    v = H.validation(ds, ds.cfg)
    assert seen == [pd.Timestamp("2026-08-03").date()] and v["cutoff"] == "2026-08-03" and v["days"] == 90
    b = v["bands"]
    # healthy: h3 silent → 1/3; at risk: a2 → 1/2; unhealthy: u1, u2 → 2/2
    assert [(b[k]["customers"], b[k]["churned"]) for k in facts.HEALTH_BANDS] == [(3, 1), (2, 1), (2, 2)]
    # Wilson 95%: 1/3 → [0.0615, 0.7923]; 2/2 → [0.3424, 1.0]
    assert b["healthy"]["ci_low"] == pytest.approx(0.0615, abs=1e-4)
    assert b["healthy"]["ci_high"] == pytest.approx(0.7923, abs=1e-4)
    assert b["unhealthy"]["ci_low"] == pytest.approx(0.3424, abs=1e-4)
    # rising rates, but the two ends' intervals overlap: not shown to separate
    assert v["separates"] is False
    assert VH.validation_sentence(ds, ds.cfg)[0].startswith("The score does not clearly tell who leaves")
    # nobody scored at the cutoff: no check
    monkeypatch.setattr(H, "health", lambda ds, cfg, end=None: fake.assign(band=None).iloc[:0])
    assert H.validation(ds, ds.cfg.updated(definitions={"churn_inactivity_days": 60})) is None


def test_tiny_health_validation_regression(tiny_data):
    """Measured (issue 17): ``churn_by_band`` existed but the report never
    showed it. On the tiny client, scored at 2026-08-03 and followed for the
    90-day churn window, 4.7% / 32.0% / 85.9% of Healthy / At risk /
    Unhealthy churned (191 / 272 / 99 customers): the section shows it."""
    from journeykit.core import config as C
    from journeykit.data import loader as io

    cfg = C.load("tiny", "2026-10", root=Path(__file__).resolve().parents[2])
    with io.load(cfg) as ds:
        v = H.validation(ds, cfg)
        m = compute.metrics(ds, cfg)
        cells = VH.validation_table(ds, cfg).cells()
        text = VH.validation_sentence(ds, cfg)
    b = v["bands"]
    assert v["separates"] is True and m["health_validation"] == v
    assert b["healthy"]["rate"] < 0.1 < b["at_risk"]["rate"] < 0.5 < b["unhealthy"]["rate"]
    assert b["healthy"]["ci_high"] < b["unhealthy"]["ci_low"]
    assert list(cells.columns) == ["Band", "Customers (2026-08-03)", "Churned within 90 days", "Churn rate",
                                   "95% interval"]
    assert text[0].startswith("The score tells who leaves: of the customers scored on 2026-08-03")
