"""Survival in the retention section (issue 17): Kaplan–Meier, medians and
the log-rank test against published values (Gehan's 6-MP leukaemia trial),
lifetimes and time to first purchase on a hand-built client (censoring
done right), and the tiny demo client."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from journeykit.sections.retention import compute as rt
from journeykit.sections.retention import survival as S
from journeykit.sections.retention import view_survival as V

# Gehan (1965), remission times in weeks of 21 leukaemia patients on 6-MP
# (0 = censored) and 21 on placebo (all relapsed).
MP6 = np.array([6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35], float)
MP6_EVENT = np.array([1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0])
PLACEBO = np.array([1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23], float)


def test_kaplan_meier_reproduces_the_published_6mp_curve():
    km = S.kaplan_meier(MP6, MP6_EVENT).set_index("days")
    # Kalbfleisch & Prentice (1980), Table 1.1 / Klein & Moeschberger (2003), Table 4.1A
    expected = {6: 0.857, 7: 0.807, 10: 0.753, 13: 0.690, 16: 0.627, 22: 0.538, 23: 0.448}
    assert list(km.index) == [0.0, *map(float, expected)]
    for t, s in expected.items():
        assert km.loc[t, "survival"] == pytest.approx(s, abs=5e-4), t
    assert km.loc[0, "survival"] == 1.0 and km.loc[6, "at_risk"] == 21 and km.loc[6, "events"] == 3
    # log-log Greenwood interval at 6 weeks: 0.620–0.952 (R survfit, conf.type = "log-log")
    assert (km.loc[6, "ci_low"], km.loc[6, "ci_high"]) == (pytest.approx(0.620, abs=1e-3), pytest.approx(0.952, abs=1e-3))
    assert S.median(MP6, MP6_EVENT)["median"] == 23.0
    # placebo: median 8 weeks
    assert S.median(PLACEBO, np.ones(21))["median"] == 8.0


def test_logrank_reproduces_the_published_6mp_test():
    t = np.r_[MP6, PLACEBO]
    e = np.r_[MP6_EVENT, np.ones(21, int)]
    g = np.r_[["6-MP"] * 21, ["placebo"] * 21]
    r = S.logrank(t, e, g)
    # Mantel's log-rank for Gehan's data: χ² = 16.79 on 1 df, p = 4.2e-5 (R survdiff)
    assert r["chi2"] == pytest.approx(16.79, abs=0.01) and r["df"] == 1 and r["p"] == pytest.approx(4.17e-5, rel=0.01)
    assert S.logrank(t, e, ["x"] * 42) is None and S.logrank(t, np.zeros(42), g) is None


def test_kaplan_meier_agrees_with_lifelines_when_installed():
    lifelines = pytest.importorskip("lifelines")   # not a dependency: it declares pandas < 3
    k = lifelines.KaplanMeierFitter().fit(MP6, MP6_EVENT)
    ours = S.kaplan_meier(MP6, MP6_EVENT).set_index("days")["survival"]
    theirs = k.survival_function_["KM_estimate"].reindex(ours.index)
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(), rtol=1e-12)


# --------------------------------------------------------------------------
# A hand-built client: period 2026-10 (end 11-01), churn window 90 days
# --------------------------------------------------------------------------

def _client(make_dataset):
    customers = pd.DataFrame({
        "customer_id": ["A", "B", "C", "D", "E"],
        "signup_at": ["2026-01-01 09:00:00", "2026-02-01 09:00:00", "2026-03-01 09:00:00", "2026-10-01 09:00:00",
                      "2026-04-01 09:00:00"],
        "acquisition_channel": ["search", "search", "social", "social", None]})
    orders = pd.DataFrame({
        "order_id": ["o1", "o2", "o3", "o4", "o5", "o6"],
        "customer_id": ["A", "A", "B", "C", "D", "A"],
        "ordered_at": ["2026-01-11 10:00:00", "2026-03-02 10:00:00", "2026-06-10 10:00:00", "2026-10-20 10:00:00",
                       "2026-10-02 10:00:00", "2026-11-05 10:00:00"],
        "amount": [10, 20, 30, 40, 50, 60]})
    return make_dataset({"customers": customers, "orders": orders})


def test_lifetimes_censor_at_the_last_day_a_churn_could_be_known(make_dataset):
    ds = _client(make_dataset)
    lt = S.lifetimes(ds, ds.cfg).set_index("customer_id")
    # E − D = 2026-08-03. A: last active 03-02 (the 11-05 order is after the end), silent 243 days →
    # churned, lifetime 01-01 → 03-02 = 60 days. B: last 06-10, silent 143 → churned, 02-01 → 06-10 = 129.
    # C: active 10-20 → censored at 08-03: 03-01 → 08-03 = 155. E: never active after sign-up, signed up
    # 04-01, silent 213 days → churned at 0. D: signed up 10-01, within the last 90 days → left out.
    assert lt["days"].to_dict() == {"A": 60.0, "B": 129.0, "C": 155.0, "E": 0.0}
    assert lt["churned"].to_dict() == {"A": 1, "B": 1, "C": 0, "E": 1}
    assert lt.loc["A", "cohort"] == "2026 Q1" and lt.loc["E", "channel"] == "__unknown__"
    # S(t): E at 0 (4 at risk) → 0.75; A at 60 (3) → 0.5; B at 129 (2) → 0.25; C censored
    km = S.kaplan_meier(lt["days"], lt["churned"])
    assert km["survival"].tolist() == pytest.approx([1.0, 0.75, 0.5, 0.25])
    assert km["days"].tolist() == [0.0, 0.0, 60.0, 129.0]
    assert S.median(lt["days"], lt["churned"])["median"] == 60.0


def test_first_purchase_times_count_those_who_have_not_bought(make_dataset):
    ds = _client(make_dataset)
    fp = S.first_purchase_times(ds, ds.cfg).set_index("customer_id")
    # A 10 days 1 hour; B 129 days 1 hour; C 233 days 1 hour; D 1 day 1 hour;
    # E never bought: censored at the period end, 04-01 09:00 → 11-01 00:00 = 213 days 15 hours
    assert fp["bought"].to_dict() == {"A": 1, "B": 1, "C": 1, "D": 1, "E": 0}
    assert fp.loc["A", "days"] == pytest.approx(10 + 1 / 24) and fp.loc["E", "days"] == pytest.approx(213 + 15 / 24)
    m = S.metrics(ds, ds.cfg)
    # KM: 5 at risk; events at 1.04 (D), 10.04 (A), 129.04 (B), 233.04 (C); E censored at 213.6
    # S: 0.8, 0.6, 0.4 → the median is B's 129 days; the buyers-only median would be 69.5
    assert m["median_days_to_first_purchase_km"] == pytest.approx(129 + 1 / 24)
    assert m["first_purchase_share_90d"] == pytest.approx(0.4)
    assert m["lifetime_customers"] == 4 and m["lifetime_churned"] == 3 and m["median_lifetime_days"] == 60.0
    assert m["logrank_channel_p"] is None       # every channel under the minimum group size: one "other" group
    assert rt.metrics(ds, ds.cfg)["survival"] == m


def test_no_customers_table_means_no_survival(make_dataset):
    ev = pd.DataFrame({"customer_id": ["A"], "occurred_at": ["2026-10-01 10:00:00"], "event_type": ["login"]})
    ds = make_dataset({"events": ev})
    # the loader derives customers (sign-up = first seen): curves still exist, from first sight
    lt = S.lifetimes(ds, ds.cfg)
    assert lt is not None and lt.empty            # first seen within the last 90 days
    assert V.insights(ds, ds.cfg)[0].startswith("Fewer than half of the customers")


# --------------------------------------------------------------------------
# The tiny demo client
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny(tiny_data):
    import journeykit as jk

    cfg = jk.config.load("tiny", "2026-10", root=tiny_data.parents[1])
    ds = jk.load(cfg)
    yield ds
    ds.close()


def test_tiny_survival_by_channel_and_cohort(tiny, monkeypatch):
    cfg = tiny.cfg
    lt = S.lifetimes(tiny, cfg)
    assert len(lt) > 1000 and 0.5 < lt["churned"].mean() < 0.8
    # every customer signed up at least 90 days before the end; a churned lifetime ends before E − D
    assert (lt["signup_at"].dt.normalize() <= pd.Timestamp(cfg.period.end - dt.timedelta(days=90))).all()
    ch = S.by_group(lt, "channel", cfg)
    co = S.by_group(lt, "cohort", cfg)
    # the generator's churn does not change over time: signup quarters do not differ (measured
    # p = 0.51; censoring at the last activity instead made them differ at p < 1e-15); channels do
    # (measured p < 0.001, display shortest)
    assert co["logrank"]["p"] > 0.05 and ch["logrank"]["p"] < 0.01
    s = ch["summary"].set_index("group")
    assert s["median"].idxmin() == "display" and s.loc["display", "ci_high"] < s.loc["referral", "ci_low"]
    m = rt.metrics(tiny, cfg)["survival"]
    assert 30 < m["median_lifetime_days"] < 150 and m["median_lifetime_ci_low"] < m["median_lifetime_days"]
    assert 0 < m["first_purchase_share_90d"] < 1
    en = V.insights(tiny, cfg)
    assert en[0].startswith("Half of the customers who sign up have churned")
    assert en[1].startswith("Lifetimes differ by acquisition channel") and "display" in en[1]
    assert en[2].startswith("Lifetimes do not differ significantly by signup quarter")
    ko = V.insights(tiny, cfg.model_copy(update={"language": "ko"}))
    assert len(ko) == len(en) and "로그순위 검정" in ko[1]
    cells = V.table(tiny, cfg, "channel").cells()
    assert list(cells.columns) == ["Group", "Customers", "Churned so far", "Median lifetime (days)", "95% interval"]
    assert V.chart(tiny, cfg, "cohort") is not None and V.chart(tiny, cfg, "channel", "first_purchase") is not None
    # the chart, table, sentences and metrics share one computation per grouping
    def again(*a, **k):
        raise AssertionError("by_group computed again")

    monkeypatch.setattr(S, "by_group", again)
    assert V.table(tiny, cfg, "channel").cells().equals(cells) and rt.metrics(tiny, cfg)["survival"] == m
    monkeypatch.undo()
    pd.testing.assert_frame_equal(S.grouped(tiny, cfg, "channel")["summary"], ch["summary"])
    fp = S.by_group(S.first_purchase_times(tiny, cfg), "channel", cfg, "bought")
    pd.testing.assert_frame_equal(S.grouped(tiny, cfg, "channel", "first_purchase")["summary"], fp["summary"])
