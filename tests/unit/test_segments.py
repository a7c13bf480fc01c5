"""Segments on hand-built data, every expected value worked out in a
comment: quintile scores and their ties, RFM segments, lifecycle states and
flows, value tiers, cluster descriptions and stable labels, the settings
block, the stable metrics keys, the generated text in en and ko, and the
tiny demo data against the generator's truth. Other data shapes (no
amounts, no events, constant behaviour …) are in test_segmentation_shapes.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from journeykit import facts, report
from journeykit.core.errors import SectionNotAvailable
from journeykit.core.settings import DEFAULT_RFM_RULES, ClusterSettings, LifecycleSettings, SegmentationSettings
from journeykit.sections.registry import require
from journeykit.sections.segmentation import clusters as C
from journeykit.sections.segmentation import compute
from journeykit.sections.segmentation import lifecycle as L
from journeykit.sections.segmentation import segments as S
from journeykit.sections.segmentation import view as V
from journeykit.sections.segmentation.transitions import NONE, largest_move, transitions

# Period 2026-10: end = 2026-11-01 00:00; comparison end = 2026-10-01 00:00.
# RFM window: 365 days before the end = from 2025-11-01.
from segment_data import CUSTOMERS, ORDERS, SURVEYS, TICKETS  # noqa: E402


@pytest.fixture
def ds(make_dataset):
    return make_dataset({"customers": CUSTOMERS, "orders": ORDERS})


# --------------------------------------------------------------------------
# Scores and segments
# --------------------------------------------------------------------------

def test_quintile_scores_by_minimum_rank():
    # n = 10 distinct values: ranks 1..10 -> 1 + floor(5 (r-1) / 10) = 1,1,2,2,3,3,4,4,5,5
    s = facts.quintile_scores(pd.Series([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]))
    assert s.tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    # lower is better (recency): the smallest value scores 5
    assert facts.quintile_scores(pd.Series([1, 2, 3, 4, 5]), higher_is_better=False).tolist() == [5, 4, 3, 2, 1]


def test_quintile_ties_share_the_lower_score_whatever_the_order():
    # values 1,1,1,1,1,1,2,3,4,5 (n=10): the six 1s have min rank 1 -> score 1;
    # 2 has rank 7 -> 1 + floor(30/10) = 4; 3 -> rank 8 -> 1 + floor(35/10) = 4; 4 -> 5; 5 -> 5
    v = pd.Series([1, 1, 1, 1, 1, 1, 2, 3, 4, 5])
    assert facts.quintile_scores(v).tolist() == [1, 1, 1, 1, 1, 1, 4, 4, 5, 5]
    shuffled = v.sample(frac=1, random_state=3)
    assert facts.quintile_scores(shuffled).sort_index().tolist() == facts.quintile_scores(v).tolist()


def test_fm_score_rounds_halves_up():
    assert facts.fm_score(pd.Series([1, 1, 4, 5]), pd.Series([1, 2, 4, 4])).tolist() == [1, 2, 4, 5]


def test_default_mapping_covers_every_cell_with_the_ten_segments():
    r = pd.Series([r for r in range(1, 6) for _ in range(5)])
    fm = pd.Series([f for _ in range(5) for f in range(1, 6)])
    seg = facts.assign_segments(r, fm, DEFAULT_RFM_RULES)
    assert seg.notna().all()
    assert set(seg) == {r.segment for r in DEFAULT_RFM_RULES}
    grid = dict(zip(zip(r, fm), seg))
    assert grid[(5, 5)] == "champions" and grid[(5, 1)] == "new" and grid[(4, 1)] == "promising"
    assert grid[(1, 5)] == "cant_lose" and grid[(2, 3)] == "at_risk" and grid[(1, 1)] == "lost"
    assert grid[(3, 5)] == "loyal" and grid[(3, 2)] == "need_attention" and grid[(2, 2)] == "hibernating"


def test_rfm_on_the_engine(ds):
    df = facts.rfm(ds, ds.cfg).set_index("customer_id")
    # D's only order is before the 365-day window; C never ordered
    assert sorted(df.index) == ["A", "B", "E"]
    # recency: A last paid 2026-10-20 -> 12 days; B 2026-06-15 -> 139; E 2026-10-25 -> 7
    assert df.loc[["A", "B", "E"], "recency_days"].tolist() == [12, 139, 7]
    # frequency: A 3 paid (the failed a3 is not an order); B 1; E 2.  monetary: 350, 30, 50
    assert df.loc[["A", "B", "E"], "frequency"].tolist() == [3, 1, 2]
    assert df.loc[["A", "B", "E"], "monetary"].tolist() == [350, 30, 50]
    # R (n=3, lower recency better): B rank 1 -> 1; A rank 2 -> 1 + floor(5/3) = 2; E rank 3 -> 1 + floor(10/3) = 4
    assert df.loc[["A", "B", "E"], "r"].tolist() == [2, 1, 4]
    # F: B 1, E 2, A 4; M: B 1, E 2, A 4; FM: A (4+4+1)//2 = 4, B 1, E (2+2+1)//2 = 2
    assert df.loc[["A", "B", "E"], "fm"].tolist() == [4, 1, 2]
    # A (r2, fm4) at risk; B (r1, fm1) lost; E (r4, fm2) potential loyalist
    assert df.loc[["A", "B", "E"], "segment"].tolist() == ["at_risk", "lost", "potential_loyalists"]
    counts = S.segment_counts(ds, ds.cfg)
    assert list(counts) == [r.segment for r in DEFAULT_RFM_RULES] and sum(counts.values()) == 3 and counts["lost"] == 1


def test_segment_summary_shares():
    df = pd.DataFrame({"customer_id": ["x", "y", "z"], "recency_days": [1, 2, 3], "frequency": [1, 2, 3],
                       "monetary": [100.0, 300.0, 600.0], "segment": ["loyal", "loyal", "lost"]})

    class Cfg:
        segmentation = SegmentationSettings()
        client = "t"

    s = S.segment_summary(df, Cfg()).set_index("segment")
    # loyal: 2 of 3 customers, 400 of 1000 revenue; lost: 1 of 3, 600 of 1000
    assert s.loc["loyal", "customers"] == 2 and s.loc["loyal", "share"] == pytest.approx(2 / 3)
    assert s.loc["loyal", "revenue_share"] == pytest.approx(0.4) and s.loc["lost", "revenue_share"] == pytest.approx(0.6)
    assert s.loc["champions", "customers"] == 0  # every segment is listed


def test_rfm_transitions_recompute_the_comparison_end(ds):
    m = S.rfm_transitions(ds, ds.cfg)
    # at 2026-10-01 the window starts 2025-10-01, so D's order of that day counts:
    # recency A 29 (Sep 1 12:00 -> 29.5 d), B 108, D 365, E 269; F: A 2, others 1; M: A 250, B 30, D 80, E 10
    # R (n=4): D rank1 -> 1, E rank2 -> 1 + floor(5/4) = 2, B -> 1 + floor(10/4) = 3, A -> 1 + floor(15/4) = 4
    # F: B, D, E share min rank 1 -> 1; A -> 4.  M: E 1, B 2, D 3, A 4
    # FM: A 4, B (1+2+1)//2 = 2, D (1+3+1)//2 = 2, E 1
    # A (4, 4) loyal; B (3, 2) need attention; D (1, 2) lost; E (2, 1) hibernating
    assert m.loc["loyal", "at_risk"] == 1                  # A
    assert m.loc["need_attention", "lost"] == 1            # B
    assert m.loc["hibernating", "potential_loyalists"] == 1  # E
    assert m.loc["lost", NONE] == 1                        # D: no order in this period's window
    assert m.to_numpy().sum() == 4
    assert largest_move(m) == ("loyal", "at_risk", 1)  # ties: the first cell in segment order


def test_transitions_none_row_and_column():
    before = pd.Series({"a": "x", "b": "y"})
    after = pd.Series({"a": "y", "c": "x"})
    m = transitions(before, after, ["x", "y"])
    # a: x -> y; b: y -> none (left the group); c: none -> x (joined)
    assert m.loc["x", "y"] == 1 and m.loc["y", NONE] == 1 and m.loc[NONE, "x"] == 1
    assert m.to_numpy().sum() == 3
    assert largest_move(m) == ("x", "y", 1)
    # joining and leaving are not moves between groups
    assert largest_move(transitions(pd.Series({"a": "x"}), pd.Series({"b": "y"}), ["x", "y"])) is None


# --------------------------------------------------------------------------
# Value tiers
# --------------------------------------------------------------------------

def test_value_tiers_and_top_share():
    # 20 buyers spending 1..20: total 210; top 10% = 2 customers (20 + 19 = 39) -> 39/210
    base = pd.DataFrame({"customer_id": [f"c{i:02d}" for i in range(1, 21)], "monetary": list(range(1, 21))})
    assert S.top_share(base, 0.1) == pytest.approx(39 / 210)
    t = S.value_tiers(base)
    assert t["customers"].tolist() == [2] * 10
    assert t.loc[0, "revenue"] == 39 and t.loc[9, "revenue"] == 3  # 2 + 1
    assert t["cum_share"].iloc[-1] == pytest.approx(1.0)
    p = S.pareto_curve(base)
    assert p.iloc[0].tolist() == [0.0, 0.0] and p.iloc[-1].tolist() == pytest.approx([1.0, 1.0])
    assert p.loc[2, "revenue_share"] == pytest.approx(39 / 210)
    # 7 buyers: the top 10% is ceil(0.7) = 1 customer
    assert S.top_share(base.head(7), 0.1) == pytest.approx(7 / 28)
    assert S.top_share(base.iloc[:0]) is None


def test_top10pct_on_the_engine(ds):
    # A 350, E 50, B 30 -> top ceil(0.3) = 1 customer: 350 / 430
    assert S.top10pct_revenue_share(ds, ds.cfg) == pytest.approx(350 / 430)


# --------------------------------------------------------------------------
# Lifecycle
# --------------------------------------------------------------------------

def test_assign_states_thresholds():
    lc = LifecycleSettings()  # new 30, at risk 30, dormant 60; churn 90
    df = pd.DataFrame([
        (10, 5, False, "new"),          # signed up 10 days ago
        (400, 5, True, "reactivated"),  # back after a long silence
        (400, 29.9, False, "active"),
        (400, 30, False, "at_risk"),    # exactly 30 silent days: at risk
        (400, 59, False, "at_risk"),
        (400, 60, False, "dormant"),
        (400, 89.9, False, "dormant"),
        (400, 90, False, "churned"),
        (400, 45, True, "at_risk"),     # a return long ago does not make her reactivated now
    ], columns=["since_signup", "silent", "react", "expected"])
    got = L.assign_states(df["since_signup"], df["silent"], df["react"], lc, 90)
    assert got.tolist() == df["expected"].tolist()


def test_lifecycle_states_and_flows(ds):
    life = L.lifecycle_states(ds, ds.cfg).set_index("customer_id")
    # A last activity Oct 20 (12 d; the failed attempt on Oct 19 also counts) -> active;
    # B 139 d -> churned; C signed up Oct 20 -> new; D 396 d -> churned;
    # E back on Oct 25 after 293 silent days -> reactivated
    assert life["state"].to_dict() == {"A": "active", "B": "churned", "C": "new", "D": "churned", "E": "reactivated"}
    assert life.loc["A", "days_silent"] == pytest.approx(12)
    assert L.lifecycle_counts(ds, ds.cfg) == {"new": 1, "active": 1, "reactivated": 1, "at_risk": 0, "dormant": 0,
                                              "churned": 2}
    # at 2026-10-01: A back on Sep 1 12:00 after 184 silent days, 29.5 d ago -> reactivated;
    # B 108 d -> churned; C not signed up; D churned; E 269 d -> churned
    prev = L.lifecycle_counts(ds, ds.cfg, ds.cfg.period.previous().end)
    assert prev == {"new": 0, "active": 0, "reactivated": 1, "at_risk": 0, "dormant": 0, "churned": 3}
    f = L.lifecycle_flows(ds, ds.cfg)
    assert f.loc["reactivated", "active"] == 1 and f.loc["churned", "churned"] == 2
    assert f.loc[NONE, "new"] == 1 and f.loc["churned", "reactivated"] == 1
    assert f.to_numpy().sum() == 5


# --------------------------------------------------------------------------
# Clusters
# --------------------------------------------------------------------------

def test_describe_cluster_en_and_ko():
    z = pd.Series({"active_days": 1.2, "orders": -0.8, "spend": 0.3, "session_minutes": 0.9})
    assert V.describe_cluster(z, "en") == "More active days and longer time per session than average"
    assert V.describe_cluster(z, "ko") == "평균보다 활동일 수 많음, 세션당 체류 시간 김"
    z2 = pd.Series({"spend": -1.5, "orders": -0.6, "active_days": 0.1})
    assert V.describe_cluster(z2, "en") == "Lower spend and fewer orders than average"
    assert V.describe_cluster(pd.Series({"orders": 0.2, "spend": -0.4}), "en") == "Close to the average on every measure"
    assert V.describe_cluster(pd.Series({"orders": 0.2}), "ko") == "모든 지표가 평균 수준"


def _blobs(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    # 120 light users (few active days, few orders) and 60 heavy ones
    light = pd.DataFrame({"active_days": rng.poisson(2, 120) + 1, "orders": rng.poisson(0.5, 120)})
    heavy = pd.DataFrame({"active_days": rng.poisson(25, 60) + 10, "orders": rng.poisson(8, 60) + 3})
    df = pd.concat([light, heavy], ignore_index=True)
    df.insert(0, "customer_id", [f"c{i:03d}" for i in range(len(df))])
    return df


def test_fit_clusters_on_a_sample_assigns_every_customer():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"active_days": np.r_[rng.poisson(1, 2000) + 1, rng.poisson(30, 1000) + 30],
                       "orders": np.r_[rng.poisson(0.3, 2000), rng.poisson(8, 1000) + 10]})
    df.insert(0, "customer_id", [f"c{i:04d}" for i in range(len(df))])
    full = C.fit_clusters(df, ClusterSettings(k_min=2, k_max=3))
    sampled = C.fit_clusters(df, ClusterSettings(k_min=2, k_max=3, fit_sample=1000))
    assert sampled.k == full.k == 2
    assert len(sampled.labels) == 3000 and sampled.sizes.to_dict() == {1: 2000, 2: 1000}
    assert (sampled.labels == full.labels).all()


def test_fit_clusters_silhouette_is_scikit_learns_on_its_sample():
    # the silhouette of the chosen k is silhouette_score's own, on the seeded
    # sample it draws (sample_size, random_state), though the sample's
    # distances are computed once for every k
    from sklearn.metrics import silhouette_score

    cs = ClusterSettings(k_min=2, k_max=4, min_customers=50, silhouette_sample=100)
    df = _blobs()
    fit = C.fit_clusters(df, cs)
    assert fit.model_features == ["active_days"]    # orders: correlated above 0.9, left out
    Z = np.log1p(df[["active_days"]].to_numpy(float))
    Z = (Z - Z.mean(axis=0)) / Z.std(axis=0)
    assert fit.k == 2 and fit.silhouette == pytest.approx(
        silhouette_score(Z, fit.labels.to_numpy(), sample_size=100, random_state=cs.seed), abs=1e-12)


def test_fit_clusters_finds_the_groups_with_stable_labels():
    cs = ClusterSettings(k_min=2, k_max=4, min_customers=50)
    df = _blobs()
    a = C.fit_clusters(df, cs)
    b = C.fit_clusters(df.sample(frac=1, random_state=1).reset_index(drop=True), cs)
    assert a.k == 2
    # numbered by size: cluster 1 is the 120 light users
    assert a.sizes.to_dict() == {1: 120, 2: 60}
    assert (a.labels.loc[[f"c{i:03d}" for i in range(120)]] == 1).all()
    # the same data in another row order gets the same labels
    assert (b.labels.sort_index() == a.labels.sort_index()).all()
    assert V.describe_cluster(a.z.loc[2], "en").startswith("More ")
    assert a.reason is None and a.constant == [] and a.n == 180
    few = C.fit_clusters(df.head(20), cs)  # fewer than min_customers
    assert few.reason == "too_few" and few.n == 20 and few.k is None


def test_behaviour_on_the_engine(ds):
    b = C.behaviour(ds, ds.cfg).set_index("customer_id")
    # window: the 90 days before 2026-11-01 (from 2026-08-03). Activity days: A Sep 1, Oct 19 (the failed
    # attempt), Oct 20 -> 3, spaced (49 days) / 2 = 24.5; E Oct 25 -> 1, a single day -> the window, 90.
    # B, C, D: no activity in the window (a sign-up is not activity)
    assert sorted(b.index) == ["A", "E"]
    assert b.loc[["A", "E"], "active_days"].tolist() == [3, 1]
    assert b.loc[["A", "E"], "days_between"].tolist() == pytest.approx([24.5, 90])
    # paid orders: A a2 (200) and a4 (100) -> 2, 300; E e2 -> 1, 40. No events: no session features
    assert b.loc[["A", "E"], "orders"].tolist() == [2, 1] and b.loc[["A", "E"], "spend"].tolist() == [300, 40]
    assert list(b.columns) == ["active_days", "days_between", "orders", "spend"]
    # two active customers, fewer than clusters.min_customers (50)
    fit = C.clusters(ds, ds.cfg)
    assert fit.reason == "too_few" and fit.n == 2 and C.n_clusters(ds, ds.cfg) is None
    assert V.cluster_note(ds, ds.cfg).text == "Too few active customers (2, fewer than 50) for behavioural clusters."
    assert V.cluster_table(ds, ds.cfg) is None and V.cluster_chart(ds, ds.cfg) is None


def test_experience_segments(make_dataset):
    from journeykit.sections.segmentation import experience as X

    ds = make_dataset({"customers": CUSTOMERS, "orders": ORDERS, "tickets": TICKETS, "surveys": SURVEYS})
    ex = X.experience(ds, ds.cfg).set_index("customer_id")
    # window: the 365 days before 2026-11-01. A: NPS 3 -> detractor, CSAT 2 (the survey's; the tickets have
    # none), tickets Sep 10 and Oct 10 -> 2. E: latest NPS 8 (Oct 28) -> passive, no CSAT, ticket May 1 -> 1
    assert ex["nps_group"].to_dict() == {"A": "detractor", "E": "passive"}
    assert ex.loc["A", "csat"] == 2 and np.isnan(ex.loc["E", "csat"])
    assert ex["tickets"].to_dict() == {"A": 2, "E": 1}
    g = X.experience_groups(ex.reset_index())
    # passive before detractor; one customer each, half of the two
    assert g[["nps_group", "load", "customers"]].values.tolist() == [["passive", "1", 1], ["detractor", "2", 1]]
    assert g["share"].tolist() == [0.5, 0.5]
    assert X.experience_reason(ds, ds.cfg) is None
    # before any answer or ticket: nobody in the window
    assert X.experience_reason(ds, ds.cfg, pd.Timestamp("2026-01-01").date()) == "no_rows"
    html = V.experience_table(ds, ds.cfg)._repr_html_()
    assert "passive (7–8)" in html and "&lt; 10" in html and "nan" not in html


def test_rfm_and_tiers_tables(ds):
    html = V.rfm_table(ds, ds.cfg)._repr_html_()
    # three segments of one customer each: folded into one row under k = 10
    assert "other segments (fewer than 10 customers each)" in html and ">3<" in html
    t = V.tiers_table(ds, ds.cfg).df
    # three buyers: deciles 1 (A 350), 4 (E 50) and 7 (B 30)
    assert t.iloc[:, 0].tolist() == ["top 0–10%", "top 30–40%", "top 60–70%"]
    assert S.tiers_reason(ds, ds.cfg) is None and S.rfm_reason(ds, ds.cfg) is None


def test_client_file_block_is_used(make_dataset):
    ds = make_dataset({"customers": CUSTOMERS, "orders": ORDERS},
                      segmentation={"rfm": {"lookback_days": 730}})
    # with a 730-day window D's 2025-10-01 order counts
    assert "D" in set(facts.rfm(ds, ds.cfg)["customer_id"])


# --------------------------------------------------------------------------
# Metrics, not available, text
# --------------------------------------------------------------------------

def test_metrics_has_every_stable_key(ds):
    m = compute.metrics(ds, ds.cfg)
    # the stable keys with their _prev twins, then the non-stable health check
    assert list(m) == [k for key in compute.STABLE_KEYS for k in (key, f"{key}_prev")] + ["health_validation"]
    assert m["lifecycle_counts"]["churned"] == 2 and m["segment_counts"]["at_risk"] == 1
    assert m["n_clusters"] is None  # five customers: too few to cluster
    assert set(m["health_band_shares"]) == {"healthy", "at_risk", "unhealthy"}
    assert sum(m["health_band_shares"].values()) == pytest.approx(1.0)
    report.jsonable(m)  # plain JSON


def test_changes_on_the_hand_built_client(ds):
    ch = {c.key: c for c in compute.changes(ds, ds.cfg)}
    assert list(ch) == ["rfm_customers", "champions_share", "at_risk_share", "live_customers", "healthy_share",
                        "unhealthy_share", "top10pct_revenue_share"]
    # buyers: A, B, E now; A, B, D, E at the comparison end (test_rfm_transitions_recompute_the_comparison_end)
    assert (ch["rfm_customers"].value, ch["rfm_customers"].prev) == (3, 4)
    # at risk + can't lose: A now (1 of 3); nobody before (0 of 4)
    assert ch["at_risk_share"].value == pytest.approx(1 / 3) and ch["at_risk_share"].prev == 0
    # not churned: new C, active A, reactivated E now; reactivated A before
    assert (ch["live_customers"].value, ch["live_customers"].prev) == (3, 1)
    # top 10%: A 350 of 430 now; A 250 of 370 (A 250, B 30, D 80, E 10) before
    assert ch["top10pct_revenue_share"].value == pytest.approx(350 / 430)
    assert ch["top10pct_revenue_share"].prev == pytest.approx(250 / 370)
    lab = V.labels(ds.cfg)
    assert set(lab) == set(V.KINDS) and lab["rfm_customers"] == "Customers with a paid order (last 365 days)"


def test_charts_are_drawn_or_left_out(ds):
    from matplotlib.figure import Figure

    assert isinstance(V.rfm_chart(ds, ds.cfg), Figure) and isinstance(V.rfm_transition_chart(ds, ds.cfg), Figure)
    assert isinstance(V.pareto_chart(ds, ds.cfg), Figure) and isinstance(V.lifecycle_flow_chart(ds, ds.cfg), Figure)
    empty = transitions(pd.Series(dtype=object), pd.Series(dtype=object), ["x"])
    assert V.transition_heatmap(empty, {}, "t", ds.cfg, "a", "b") is None  # nothing to draw
    assert V.suppression_note(ds.cfg).text == "Groups of fewer than 10 customers are not shown (k-anonymity)."


def test_not_available_without_orders_records_null_keys(make_dataset):
    ev = pd.DataFrame({"customer_id": ["A"], "occurred_at": ["2026-10-02 00:00:00"], "event_type": ["login"]})
    ds = make_dataset({"events": ev})
    with pytest.raises(SectionNotAvailable, match="orders"):
        require(ds.cfg, ds, "60_segmentation")


def test_insights_en_and_ko(ds, make_dataset):
    en = V.insights(ds, ds.cfg)
    # three segments of one customer each: the largest is the first by key (at_risk)
    assert en[0] == ("3 customers paid for an order in the last 365 days. The largest segment is At risk "
                     "(33.3% of buyers); 0 are Champions, who bring 0.0% of revenue.")
    assert en[1] == "The top 10% of buyers bring 81.4% of revenue, and the top 20% bring 81.4%."
    assert en[2].startswith("At the end of October 2026: 1 active, 1 new and 1 reactivated customers;")
    ko_ds = make_dataset({"customers": CUSTOMERS, "orders": ORDERS}, language="ko")
    ko = V.insights(ko_ds, ko_ds.cfg)
    assert ko[0].startswith("최근 365일간 3명이 결제를 완료했습니다. 가장 큰 세그먼트는 이탈 위험")
    assert ko[-1].startswith("2026년 10월 말 기준: 활성 1명")


def test_suppression_in_client_facing_tables(ds):
    assert V.suppress(3, ds.cfg) == "< 10" and V.suppress(0, ds.cfg) == "0" and V.suppress(12, ds.cfg) == "12"
    html = V.lifecycle_table(ds, ds.cfg)._repr_html_()
    assert "&lt; 10" in html and "None" not in html and "nan" not in html


# --------------------------------------------------------------------------
# Tiny demo data against the generator's truth
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_ds(tiny_data):
    from journeykit.core import config
    from journeykit.data import loader as io

    from pathlib import Path
    cfg = config.load("tiny", "2026-10", root=Path(__file__).resolve().parents[2])
    d = io.load(cfg)
    yield d
    d.close()


def test_tiny_lifecycle_agrees_with_truth(tiny_ds, tiny_data):
    """Customers called churned at 2026-10 should have left (truth left_at
    set); customers called active should mostly still be there. Bounds:
    the generator's activity stops ~10 days after a customer leaves (and a
    non-buyer may simply never come back without "leaving"), so churned ⇒
    left holds for at least 90%; active customers can be in their last
    weeks (usage declines over 56 days before leaving), so at least 60% of
    them are still there — on ~360 active customers a 95% interval is
    about ±5 points."""
    truth = pd.read_parquet(tiny_data / "truth_customers.parquet").set_index("customer_id")["left_at"]
    life = L.lifecycle_states(tiny_ds, tiny_ds.cfg)
    left = life["customer_id"].map(truth).notna()
    churned = life["state"] == "churned"
    assert left[churned].mean() >= 0.9
    assert (~left[life["state"] == "active"]).mean() >= 0.6
    assert 1 <= C.n_clusters(tiny_ds, tiny_ds.cfg) <= 6
    # revenue concentration: Gamma-Gamma spend with BG/NBD frequency makes the top decile heavy
    assert 0.3 <= S.top10pct_revenue_share(tiny_ds, tiny_ds.cfg) <= 0.7


def test_support_load_is_not_shown_without_a_tickets_table(make_dataset):
    """Regression: "문의 건수: 없음" for every group when the client sends no
    tickets table at all: support load is not tracked, so the column is
    left out (with tickets it stays)."""
    ds = make_dataset({"customers": CUSTOMERS, "orders": ORDERS, "surveys": SURVEYS}, language="ko")
    df = V.experience_table(ds, ds.cfg).df
    assert "문의 건수" not in df.columns and "없음" not in df.to_string()
    with_tickets = make_dataset({"customers": CUSTOMERS, "orders": ORDERS, "tickets": TICKETS, "surveys": SURVEYS})
    assert "Support tickets" in V.experience_table(with_tickets, with_tickets.cfg).df.columns


def test_korean_rfm_sentence_counts_champions_in_people():
    """Regression: "챔피언은 49로": the count lacked its counter 명 (and
    the particle after it is chosen from the number's sound)."""
    from types import SimpleNamespace

    from journeykit.core import i18n

    ko, en = SimpleNamespace(language="ko"), SimpleNamespace(language="en")
    assert V._people("49", ko) == "49명" and V._people("10명 미만", ko) == "10명 미만" and V._people("49", en) == "49"
    s = i18n.t("segments_rfm_sentence", "ko", n="300", days=365, top="충성 고객", top_share="20.0%",
               champ=V._people("49", ko), champ_rev="31.0%")
    assert "챔피언은 49명으로 매출의 31.0%를 차지합니다." in s


def test_unreachable_lifecycle_states_are_named_and_warned(ds):
    """Regression: ``segmentation.lifecycle.dormant_days`` at or above
    ``definitions.churn_inactivity_days`` left the dormant state empty by
    construction, silently. The typed settings name the states that cannot
    be reached, and the lifecycle table carries a warning (en and ko)."""
    from journeykit.core.settings import LifecycleSettings, unreachable_states

    lc = LifecycleSettings()                                           # at risk 30, dormant 60
    assert unreachable_states(lc, 90) == ()                            # the defaults: every state reachable
    assert unreachable_states(lc, 61) == ()
    assert unreachable_states(lc, 60) == ("dormant",)                  # [60, 60) is empty
    assert unreachable_states(lc, 30) == ("at_risk", "dormant")
    assert V.lifecycle_settings_note(ds.cfg) is None
    assert isinstance(V.lifecycle_table(ds, ds.cfg), report.Table)
    cfg = ds.cfg.updated(definitions={"churn_inactivity_days": 60})
    note = V.lifecycle_settings_note(cfg)
    assert note.text.startswith("No customer can be Dormant with these settings: "
                                "segmentation.lifecycle.dormant_days (60) is not below "
                                "definitions.churn_inactivity_days (60)")
    assert repr(V.lifecycle_table(ds, cfg)).count("No customer can be Dormant") == 1   # with the table
    ko = V.lifecycle_settings_note(cfg.updated(language="ko")).text
    assert "dormant_days(60)이 definitions.churn_inactivity_days(60)보다 작지 않아" in ko
