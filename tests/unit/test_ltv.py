"""Lifetime value: the customer summary and holdout split on hand-built
orders, the CLV sum, model fitting and its failure paths (failed,
penalized, degenerate), breakdowns through the report's one RFM, clients
with less data (short history, counts only, no paid orders), generated
text, metrics keys, the memo, and parameter recovery on the tiny demo."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from journeykit import facts, report
from journeykit.core import config, i18n
from journeykit.core.errors import SectionNotAvailable
from journeykit.sections.ltv import compute as ltv
from journeykit.sections.ltv import models, summary, validation, view
from journeykit.sections.registry import require


def _orders(rows):
    return pd.DataFrame(rows, columns=["order_id", "customer_id", "ordered_at", "amount", "payment_status"])


ORDERS = _orders([
    # A: two orders on 01-05 (one purchase day of 150), then 01-19 and 02-02; 10-10 twice (holdout)
    ("o1", "A", "2026-01-05 10:00:00", 100, "paid"),
    ("o2", "A", "2026-01-05 15:00:00", 50, "paid"),
    ("o3", "A", "2026-01-19 09:00:00", 200, "PAID"),
    ("o4", "A", "2026-02-02 12:00:00", 400, None),         # empty status: counted as paid
    ("o5", "A", "2026-10-10 08:00:00", 120, "paid"),
    ("o6", "A", "2026-10-10 21:00:00", 30, "paid"),
    # B: first purchase on the last day of the period
    ("o7", "B", "2026-10-31 20:00:00", 70, "paid"),
    # C: one paid order; a failed and a refunded one do not count
    ("o8", "C", "2026-09-01 10:00:00", 80, "paid"),
    ("o9", "C", "2026-09-02 10:00:00", 80, "failed"),
    ("o10", "C", "2026-09-03 10:00:00", 90, "refunded"),
    # D: after the period end: never seen
    ("o11", "D", "2026-11-02 10:00:00", 999, "paid"),
])


def synthetic_orders(months: float, n: int = 300, seed: int = 11, end=dt.date(2026, 10, 31)) -> pd.DataFrame:
    """``n`` customers whose first purchase falls in the last ``months``
    months before ``end``, each buying again at her own Poisson rate
    (gamma-distributed across customers, mean one purchase day in 40)."""
    rng = np.random.default_rng(seed)
    span = int(months * 30.4)
    start = end - dt.timedelta(days=span)
    rows, k = [], 0
    for c in range(n):
        first = int(rng.integers(0, span))
        days, t = {first}, float(first)
        rate = rng.gamma(0.5, 1 / 20)
        while len(days) <= 30:
            t += rng.exponential(1 / max(rate, 1e-6))
            if t >= span:
                break
            days.add(int(t))
        for d in sorted(days):
            k += 1
            rows.append((f"o{k}", f"C{c:04d}", f"{start + dt.timedelta(days=d)} 10:00:00",
                         float(rng.integers(10, 100)) * 1000, "paid"))
    return _orders(rows)


@pytest.fixture
def small(make_dataset):
    return make_dataset({"orders": ORDERS}, definitions={"ltv_holdout_days": 30})


def _summary(ds, end=dt.date(2026, 10, 31), unit="week"):
    s = summary.rfm_summary(summary.purchases(ds), end, unit).execute()
    return s.set_index("customer_id").sort_index()


def _everything_shown(ds, cfg) -> list:
    """Every block the notebook shows, in its order."""
    return [report.key_figures(ltv.changes(ds, cfg), view.labels(cfg), ltv.KINDS, cfg),
            report.narrative(view.insights(ds, cfg)), view.model_table(ds, cfg),
            report.narrative(view.model_notes(ds, cfg)), view.validation_figure(ds, cfg, "holdout"),
            view.validation_figure(ds, cfg, "tracking"), view.validation_figure(ds, cfg, "histogram"), report.narrative(view.spend_notes(ds, cfg)), view.clv_chart(ds, cfg),
            view.quantile_table(ds, cfg), view.segment_table(ds, cfg), view.channel_table(ds, cfg),
            view.cohort_table(ds, cfg), view.cac_table(ds, cfg), report.narrative(view.cac_notes(ds, cfg)),
            view.trend_chart(ds, cfg), view.exports_note(ds, cfg), report.narrative(view.next_steps(ds, cfg)),
            view.closing(ds, cfg)]


def _text(blocks) -> str:
    return "\n".join(repr(b) for b in blocks if b is not None and not hasattr(b, "savefig"))


# --------------------------------------------------------------------------
# The summary and the split
# --------------------------------------------------------------------------

def test_summary_counts_purchase_days_and_only_paid_orders(small):
    s = _summary(small)
    assert list(s.index) == ["A", "B", "C"]          # D is after the period end
    a = s.loc["A"]
    assert a["frequency"] == 3                      # 4 purchase days (01-05, 01-19, 02-02, 10-10) − 1
    assert a["recency_days"] == 278                 # 01-05 → 10-10
    assert a["T_days"] == 299                       # 01-05 → 10-31
    assert a["recency"] == pytest.approx(278 / 7)
    assert a["T"] == pytest.approx(299 / 7)
    assert a["monetary_value"] == pytest.approx((200 + 400 + 150) / 3)  # repeat days; 10-10 is 120 + 30
    assert a["total_spend"] == 900                  # 150 + 200 + 400 + 150
    b = s.loc["B"]
    assert (b["frequency"], b["recency"], b["T"], b["monetary_value"]) == (0, 0.0, 0.0, 0.0)
    c = s.loc["C"]
    assert c["frequency"] == 0 and c["total_spend"] == 80   # failed and refunded rows ignored


def test_summary_time_unit_scales_recency_and_T_only(small):
    d, w = _summary(small, unit="day"), _summary(small, unit="week")
    assert d.loc["A", "recency"] == 278 and d.loc["A", "T"] == 299
    assert (d["frequency"] == w["frequency"]).all()
    m = _summary(small, unit="month")
    assert m.loc["A", "T"] == pytest.approx(299 / (365.25 / 12))
    with pytest.raises(ValueError, match="ltv_time_unit"):
        summary.unit_days("fortnight")


def test_calibration_holdout_split(small):
    h = summary.calibration_holdout(summary.purchases(small), dt.date(2026, 10, 1), dt.date(2026, 10, 31),
                                    "week").execute()
    h = h.set_index("customer_id").sort_index()
    assert list(h.index) == ["A", "C"]              # B first bought in the holdout
    a = h.loc["A"]
    assert a["frequency"] == 2                      # 01-05, 01-19, 02-02 before 10-01
    assert a["recency_days"] == 28 and a["T_days"] == 269   # 01-05 → 02-02; 01-05 → 10-01
    assert a["frequency_holdout"] == 1              # 10-10, one purchase day
    assert a["monetary_value_holdout"] == 150
    assert h.loc["C", "frequency_holdout"] == 0 and h.loc["C", "monetary_value_holdout"] == 0
    assert a["duration_holdout"] == pytest.approx(30 / 7)


def test_purchase_days_merge_same_day_orders(small):
    d = summary.purchase_days(summary.purchases(small), end=dt.date(2026, 10, 31)).execute()
    a = d[d["customer_id"] == "A"].sort_values("day")
    assert a["amount"].tolist() == [150, 200, 400, 150]      # 01-05: 100 + 50; 10-10: 120 + 30
    held = summary.purchase_days(summary.purchases(small), end=dt.date(2026, 10, 31), start=dt.date(2026, 10, 1))
    assert sorted(held.execute()["customer_id"]) == ["A", "B"]   # 10-10 and 10-31 only


def test_triples_collapse_identical_patterns():
    s = pd.DataFrame({"customer_id": ["a", "b", "c"], "frequency": [1, 1, 0], "recency_days": [7, 7, 0],
                      "T_days": [14, 14, 14], "recency": [1.0, 1.0, 0.0], "T": [2.0, 2.0, 2.0]})
    tr = summary.triples(s)
    assert len(tr) == 2
    assert tr.set_index("frequency").loc[1, "weight"] == 2


def test_fit_sample_is_seeded_and_only_above_the_limit():
    s = pd.DataFrame({"customer_id": [f"c{i}" for i in range(1000)], "frequency": np.arange(1000) % 7})
    assert summary.fit_sample(s, 1000) is s
    a, b = summary.fit_sample(s, 300), summary.fit_sample(s, 300)
    assert len(a) == 300 and a.index.is_monotonic_increasing and a.equals(b)
    assert a["customer_id"].is_unique and set(a["customer_id"]) <= set(s["customer_id"])


# --------------------------------------------------------------------------
# CLV and errors, by hand
# --------------------------------------------------------------------------

class _Linear:
    """A stand-in model: `rate` purchases per time unit, for everyone."""

    def __init__(self, rate):
        self.rate = rate

    def conditional_expected_number_of_purchases_up_to_time(self, t, f, r, T):
        return np.full(len(f), self.rate * t)


def test_discounted_purchases_by_hand():
    tr = pd.DataFrame({"frequency": [1], "recency": [1.0], "T": [2.0]})
    disc, undisc = models.discounted_purchases(_Linear(1.0), tr, 2, 0.01, "week")
    month = (365.25 / 12) / 7                       # 4.348 weeks a month, one purchase a week
    assert undisc[0] == pytest.approx(2 * month)
    assert disc[0] == pytest.approx(month / 1.01 + month / 1.01 ** 2)  # 4.305 + 4.262 = 8.567


def test_clv_does_not_depend_on_the_time_unit():
    """The same BG/NBD in weeks and in days (alpha × 7) gives the same
    12-month expected purchases: the unit is handled explicitly."""
    L = models._lifetimes()
    wk, dy = L["bgnbd"](), L["bgnbd"]()
    wk.params_ = pd.Series({"r": 0.5, "alpha": 4.0, "a": 0.8, "b": 2.5})
    dy.params_ = pd.Series({"r": 0.5, "alpha": 28.0, "a": 0.8, "b": 2.5})
    trw = pd.DataFrame({"frequency": [0, 3], "recency": [0.0, 20.0], "T": [30.0, 30.0]})
    trd = trw.assign(recency=trw["recency"] * 7, T=trw["T"] * 7)
    a = models.discounted_purchases(wk, trw, 12, 0.01, "week")
    b = models.discounted_purchases(dy, trd, 12, 0.01, "day")
    np.testing.assert_allclose(a[0], b[0], rtol=1e-9)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-9)


def test_holdout_errors_by_hand():
    e = ltv.holdout_errors([1.0, 2.0, 0.0], [0.0, 2.0, 2.0])
    assert e["rmse"] == pytest.approx(np.sqrt((1 + 0 + 4) / 3))   # 1.291
    assert e["mae"] == pytest.approx(1.0)                          # (1 + 0 + 2) / 3
    assert e["total_error"] == pytest.approx((3 - 4) / 4)           # −25%
    assert ltv.holdout_errors([], [])["rmse"] is None


def test_expected_purchases_and_p_alive_by_hand():
    tr = pd.DataFrame({"frequency": [0, 2], "recency": [0.0, 3.0], "T": [5.0, 5.0]})
    assert models.expected_purchases(_Linear(0.5), 4.0, tr).tolist() == [2.0, 2.0]   # 0.5 a week × 4 weeks
    L = models._lifetimes()
    m = L["bgnbd"]()
    m.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    pa = models.p_alive(m, tr)
    # BG/NBD: no repeat purchase → alive for sure; x = 2, t_x = 3, T = 5:
    # 1 / (1 + a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)) = 1 / (1 + 0.793/3.426 · (9.414/7.414)^2.243)
    assert pa[0] == 1.0
    assert pa[1] == pytest.approx(1 / (1 + 0.793 / 3.426 * (9.414 / 7.414) ** 2.243), rel=1e-9)


def test_headline_by_hand():
    a = ltv._empty_analysis("week", dt.date(2026, 10, 30), True)
    c = pd.DataFrame({"customer_id": ["a", "b", "c"], "clv": [10.0, 20.0, 60.0], "p_alive": [0.5, 1.0, 0.0],
                      "expected_purchases": [1.0, 2.0, 6.0]})
    h = ltv.headline(dataclasses.replace(a, customers=c, selected="bgnbd"))
    assert h == {"customers": 3.0, "clv_total": 90.0, "clv_mean": 30.0, "clv_median": 20.0, "p_alive_mean": 0.5,
                 "expected_purchases_mean": 3.0}
    counts = ltv.headline(dataclasses.replace(a, customers=c.assign(clv=np.nan), selected="bgnbd", amounts=False))
    assert counts["clv_total"] is None and counts["clv_median"] is None and counts["p_alive_mean"] == 0.5
    assert ltv.headline(a) == {k: None for k in ltv.KINDS}


def test_holdout_by_frequency_by_hand():
    cal = pd.DataFrame({"frequency": [0, 0, 1, 9], "frequency_holdout": [0, 2, 1, 5]})
    g = validation.holdout_by_frequency(cal, {"bgnbd": np.array([0.5, 0.5, 1.0, 4.0])}, max_n=2).set_index("n")
    assert g.loc[0, "customers"] == 2 and g.loc[0, "actual"] == 1.0 and g.loc[0, "bgnbd"] == 0.5
    assert g.loc[1, "actual"] == 1.0 and g.loc[2, "actual"] == 5.0     # 9 repeat purchases count as "2+"
    assert len(g) == 3


def test_bgnbd_expected_purchases_equal_lifetimes_where_it_works():
    """CDNOW's published BG/NBD and a second set with a + b > 1: the
    sign-aware formula gives lifetimes' numbers."""
    L = models._lifetimes()
    m = L["bgnbd"]()
    x, tx, T = np.array([0, 1, 2, 5, 20, 0]), np.array([0, 5, 10, 30, 38, 0.]), np.array([39, 39, 39, 39, 39, 1.])
    for p in ({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, {"r": 0.5, "alpha": 3.0, "a": 1.5, "b": 0.7}):
        m.params_ = pd.Series(p)
        for t in (1.0, 52.0, 500.0):
            with models._quiet():
                ref = m.conditional_expected_number_of_purchases_up_to_time(t, x, tx, T)
            np.testing.assert_allclose(models.bgnbd_conditional_expected(p, t, x, tx, T), ref, rtol=1e-9)


def test_bgnbd_expected_purchases_of_one_time_buyers_when_a_plus_b_is_below_one():
    """Regression: with a + b < 1 lifetimes takes the log of a negative
    hypergeometric term and returns NaN for every customer without a repeat
    purchase. By hand for x = 0, T = 10, t = 52 at r = 0.5, α = 3, a = 0.02,
    b = 0.4: E = (a+b−1)/(a−1) · [1 − 2F1(r, b; a+b−1; t/(α+T+t)) ·
    ((α+T)/(α+T+t))^r]."""
    from scipy.special import hyp2f1

    p = {"r": 0.5, "alpha": 3.0, "a": 0.02, "b": 0.4}
    L = models._lifetimes()
    m = L["bgnbd"]()
    m.params_ = pd.Series(p)
    with models._quiet():
        assert np.isnan(m.conditional_expected_number_of_purchases_up_to_time(52.0, np.array([0]), np.array([0.0]),
                                                                               np.array([10.0]))).all()
    assert hyp2f1(0.5, 0.4, 0.42 - 1, 52 / 65) < 0                      # −4.9: its log is NaN
    by_hand = (0.42 - 1) / (0.02 - 1) * (1 - hyp2f1(0.5, 0.4, 0.42 - 1, 52 / 65) * (13 / 65) ** 0.5)
    got = models.bgnbd_conditional_expected(p, 52.0, np.array([0]), np.array([0.0]), np.array([10.0]))
    assert got[0] == pytest.approx(by_hand, rel=1e-12) and got[0] > 0


def test_bgnbd_expected_purchases_where_the_gauss_series_overflows():
    """x = 200 repeat purchases, T = 0.1, t = 50 at α = 0.3: 2F1(r+x, b+x;
    a+b+x−1; z) overflows (inf) at z = 50/50.4; Euler's transformation
    2F1(a, b; c; z) = (1−z)^(c−a−b) 2F1(c−a, c−b; c; z), in logarithms,
    gives the finite value."""
    from scipy.special import hyp2f1

    p = {"r": 1.25, "alpha": 0.3, "a": 0.69, "b": 4.82}
    x, tx, T, t = 200.0, 0.09, 0.1, 50.0
    A, B, C, z = 1.25 + x, 4.82 + x, 0.69 + 4.82 + x - 1, t / (0.3 + T + t)
    assert not np.isfinite(hyp2f1(A, B, C, z))
    ln_h = np.log(hyp2f1(C - A, C - B, C, z)) + (C - A - B) * np.log1p(-z)
    num = (0.69 + 4.82 + x - 1) / (0.69 - 1) * (1 - np.exp(ln_h + (1.25 + x) * np.log((0.3 + T) / (0.3 + t + T))))
    den = 1 + 0.69 / (4.82 + x - 1) * ((0.3 + T) / (0.3 + tx)) ** (1.25 + x)
    got = models.bgnbd_conditional_expected(p, t, np.array([x]), np.array([tx]), np.array([T]))
    assert np.isfinite(got[0]) and got[0] == pytest.approx(num / den, rel=1e-12)


def test_bgnbd_expected_purchases_for_many_horizons_in_one_call_equal_one_call_each():
    """A column of horizons gives (horizons × patterns), the same numbers as
    one call per horizon and per pattern (patterns sharing (x, T) included,
    and one whose series overflows)."""
    p = {"r": 1.25, "alpha": 0.3, "a": 0.69, "b": 4.82}
    x = np.array([0, 2, 2, 5, 200, 0])
    tx = np.array([0.0, 3.0, 7.0, 9.0, 0.09, 0.0])
    T = np.array([10.0, 10.0, 10.0, 10.0, 0.1, 10.0])
    ts_ = np.array([1.0, 4.3, 50.0])
    many = models.bgnbd_conditional_expected(p, ts_[:, None], x, tx, T)
    assert many.shape == (3, 6) and np.isfinite(many).all()
    for i, t in enumerate(ts_):
        for j in range(len(x)):
            one = models.bgnbd_conditional_expected(p, t, x[j], tx[j], T[j])
            assert float(one) == pytest.approx(many[i, j], rel=1e-13)
    assert many[:, 0].tolist() == many[:, 5].tolist()


def test_discounted_purchases_of_bgnbd_in_one_call_equal_the_monthly_loop():
    L = models._lifetimes()
    m = L["bgnbd"]()
    m.params_ = pd.Series({"r": 0.5, "alpha": 4.0, "a": 0.8, "b": 2.5})
    tr = pd.DataFrame({"frequency": [0, 3, 3], "recency": [0.0, 20.0, 25.0], "T": [30.0, 30.0, 30.0]})
    fast = models.discounted_purchases(models._Rescaled(m, 0.2, "bgnbd"), tr, 12, 0.01, "week")
    slow = models.discounted_purchases(models._Rescaled(m, 0.2, None), tr, 12, 0.01, "week")   # lifetimes, month by month
    np.testing.assert_allclose(fast[0], slow[0], rtol=1e-9)
    np.testing.assert_allclose(fast[1], slow[1], rtol=1e-9)


# --------------------------------------------------------------------------
# Fitting: convergence failures and degenerate estimates are said, never hidden
# --------------------------------------------------------------------------

def _demo_triples(n=400, seed=1):
    rng = np.random.default_rng(seed)
    T = rng.integers(20, 300, n)
    f = rng.poisson(2.0, n)
    rec = np.where(f > 0, (rng.random(n) * T).astype(int), 0)
    s = pd.DataFrame({"customer_id": range(n), "frequency": f, "recency_days": rec, "T_days": T,
                      "recency": rec / 7, "T": T / 7})
    return summary.triples(s)


def test_failed_fit_is_retried_with_a_penalizer(monkeypatch):
    L = models._lifetimes()
    real = L["mbgnbd"].fit

    def flaky(self, *a, **k):
        if self.penalizer_coef == 0:
            raise L["ConvergenceError"]("planted")
        return real(self, *a, **k)

    monkeypatch.setattr(L["mbgnbd"], "fit", flaky)
    f = models.fit_transactions("mbgnbd", _demo_triples())
    assert f.status == "penalized" and f.penalizer == models.PENALIZER and f.params is not None


def test_fit_that_never_converges_has_no_parameters(monkeypatch):
    L = models._lifetimes()

    def broken(self, *a, **k):
        raise L["ConvergenceError"]("planted")

    monkeypatch.setattr(L["mbgnbd"], "fit", broken)
    f = models.fit_transactions("mbgnbd", _demo_triples())
    assert f.status == "failed" and f.params is None and f.log_likelihood is None and f.predictor is None
    m = ltv._model_metrics({"mbgnbd": f}, {"mbgnbd": {"rmse": 1.0}})["mbgnbd"]
    assert m == {"params": None, "log_likelihood": None, "holdout_error": None, "converged": False, "penalizer": None,
                 "status": "failed"}


def test_degenerate_reason_by_hand():
    ok = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert models.degenerate_reason("bgnbd", ok, 78.0, -9582.4) is None
    assert models.degenerate_reason("bgnbd", ok | {"a": 1e-11, "b": 1e-11}, 78.0, -100.0) == "a = 1e-11"
    assert models.degenerate_reason("mbgnbd", ok | {"r": 135_000.0}, 78.0, -100.0) == "r = 1.35e+05"
    assert models.degenerate_reason("bgnbd", ok, 78.0, float("nan")) == "log-likelihood not finite"
    # a scale parameter is judged against the observed span: α = 4.4 weeks is
    # fine, and so is α = 31 days on the same data (unit-free)
    assert models.degenerate_reason("bgnbd", ok | {"alpha": 30.9}, 546.0, -1.0) is None
    assert models.degenerate_reason("bgnbd", ok | {"alpha": 1e7}, 78.0, -1.0) == "alpha = 1e+07"


def test_degenerate_estimates_are_never_selected(make_dataset, some_orders, monkeypatch):
    """Regression: a converged BG/NBD with a ≈ b ≈ 1e-11 was labelled
    "converged" and could be selected. Now it is ``degenerate``: recorded
    with its parameters, never used, said once."""
    from journeykit.stats import bgnbd

    real = bgnbd.fit

    def degenerate(*a, **k):
        res = real(*a, **k)
        res.params.update(a=1e-11, b=1.2e-11)
        return res

    monkeypatch.setattr(bgnbd, "fit", degenerate)
    ds = make_dataset({"orders": some_orders})
    a = ltv.analyse(ds, ds.cfg)
    assert a.fits["bgnbd"].status == "degenerate" and a.cal_fits["bgnbd"].status == "degenerate"
    assert "bgnbd" not in a.holdout and a.selected in ("pareto_nbd", "mbgnbd")
    m = ltv.metrics(ds, ds.cfg)["models"]["bgnbd"]
    assert m["status"] == "degenerate" and m["params"]["a"] == 1e-11 and m["holdout_error"] is None
    text = _text(_everything_shown(ds, ds.cfg))
    assert text.count("Degenerate estimates, not used: BG/NBD (a = 1e-11)") == 1
    assert "degenerate estimates: not used" in view.model_table(ds, ds.cfg).cells().iloc[0].tolist()


def test_failed_model_is_named_in_the_report_and_not_selected(make_dataset, some_orders, monkeypatch):
    L = models._lifetimes()

    def broken(self, *a, **k):
        raise L["ConvergenceError"]("planted")

    monkeypatch.setattr(L["pareto_nbd"], "fit", broken)
    ds = make_dataset({"orders": some_orders})
    a = ltv.analyse(ds, ds.cfg)
    assert a.selected in ("bgnbd", "mbgnbd")
    notes = view.model_notes(ds, ds.cfg)
    assert "Pareto/NBD did not converge, even with a penalizer: it is left out." in notes
    cells = view.model_table(ds, ds.cfg).cells()
    assert "did not converge: not used" in cells.iloc[1].tolist()
    assert ltv.metrics(ds, ds.cfg)["models"]["pareto_nbd"]["params"] is None


def test_no_usable_model_is_said_once(make_dataset, some_orders, monkeypatch):
    L = models._lifetimes()
    from journeykit.stats import bgnbd

    def broken(self, *a, **k):
        raise L["ConvergenceError"]("planted")

    for name in ("pareto_nbd", "mbgnbd"):
        monkeypatch.setattr(L[name], "fit", broken)
    monkeypatch.setattr(bgnbd, "fit", lambda *a, **k: bgnbd.BGNBDResult({}, float("nan"), False, 0, "planted"))
    ds = make_dataset({"orders": some_orders})
    m = ltv.metrics(ds, ds.cfg)
    assert m["selected_model"] is None and m["clv_total"] is None and m["p_alive_mean"] is None
    text = _text(_everything_shown(ds, ds.cfg))
    assert text.count(i18n.t("ltv_no_model", "en")) == 1


def test_lifetimes_does_not_turn_off_future_warnings(small):
    ltv.analyse(small, small.cfg)
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("default")
        warnings.warn("still visible", FutureWarning)
    assert got
    # no blanket filter (journeykit's own filter names one PySpark message)
    assert not any(f[0] == "ignore" and f[2] is FutureWarning and f[1] is None and f[3] is None
                   for f in warnings.filters)


# --------------------------------------------------------------------------
# Short histories
# --------------------------------------------------------------------------

def test_short_history_degenerate_fit_is_marked_and_the_holdout_note_said_once(make_dataset):
    """Regression (a client with four months of orders): BG/NBD ran off to
    a ≈ 5e4, b ≈ 3e6 — no heterogeneity left — and was labelled
    "converged"; the too-short-holdout note was printed four times."""
    ds = make_dataset({"orders": synthetic_orders(4)})
    cfg = ds.cfg
    a = ltv.analyse(ds, cfg)
    assert a.calibration is None and a.selected_by == "log_likelihood"
    assert a.fits["bgnbd"].status == "degenerate" and a.selected != "bgnbd"
    assert a.fits["bgnbd"].params["a"] > models.SHAPE_MAX
    m = ltv.metrics(ds, cfg)
    assert m["models"]["bgnbd"]["status"] == "degenerate" and m["selected_model"] == a.selected
    assert m["models"][a.selected]["status"] in ("converged", "penalized")
    assert m["clv_total"] > 0 and np.isfinite(a.customers["clv"]).all()
    shown = _everything_shown(ds, cfg)
    text = _text(shown)
    assert text.count("The history is too short for the 182-day holdout") == 1
    assert text.count("Degenerate estimates, not used: BG/NBD") == 1
    assert view.holdout_chart(ds, cfg) is None and view.tracking_chart(ds, cfg) is None
    assert view.histogram_chart(ds, cfg) is None
    ko = cfg.updated(language="ko")
    assert _text(_everything_shown(ds, ko)).count("홀드아웃(definitions.ltv_holdout_days)을 두기에는") == 1


def test_history_without_calibration_buyers_falls_back_to_log_likelihood(make_dataset):
    rows, k = [], 0
    rng = np.random.default_rng(3)
    for c in range(60):                              # 60 customers, all in October, repeat buyers among them
        for d in sorted(set(rng.integers(1, 31, 1 + c % 4))):
            k += 1
            rows.append((f"o{k}", f"C{c}", f"2026-10-{d:02d} 10:00:00", 1000 + 10 * c, "paid"))
    ds = make_dataset({"orders": _orders(rows)})     # holdout 182 days: nobody bought before it
    a = ltv.analyse(ds, ds.cfg)
    assert a.calibration is None and a.selected_by in ("log_likelihood", "none")
    assert sum("too short" in s for s in view.model_notes(ds, ds.cfg)) == 1
    assert view.tracking_chart(ds, ds.cfg) is None


# --------------------------------------------------------------------------
# The memo
# --------------------------------------------------------------------------

def test_a_changed_ltv_setting_gives_a_new_analysis(make_dataset, some_orders):
    ds = make_dataset({"orders": some_orders})
    cfg = ds.cfg
    a = ltv.analyse(ds, cfg)
    assert ltv.analyse(ds, cfg) is a                     # same question, same settings: the memo
    six = cfg.updated(definitions={"ltv_horizon_months": 6})
    b = ltv.analyse(ds, six)
    assert b is not a and b.customers["clv"].sum() < a.customers["clv"].sum()
    assert ltv.metrics(ds, six)["horizon_months"] == 6 and ltv.metrics(ds, cfg)["horizon_months"] == 12
    short = cfg.updated(definitions={"ltv_holdout_days": 91})
    c = ltv.analyse(ds, short)
    assert c.calibration_end == a.end - dt.timedelta(days=91) != a.calibration_end
    assert ltv.analyse(ds, cfg) is a


# --------------------------------------------------------------------------
# A realistic client built from the tiny demo orders
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_orders(tiny_data) -> pd.DataFrame:
    """The tiny demo orders with canonical column names (orders only)."""
    raw = pd.read_csv(tiny_data / "orders.csv", encoding="cp949")
    return raw.rename(columns={"주문번호": "order_id", "고객번호": "customer_id", "주문일자": "ordered_at",
                               "결제금액": "amount", "결제상태": "payment_status"})[
        ["order_id", "customer_id", "ordered_at", "amount", "payment_status"]]


@pytest.fixture(scope="module")
def some_orders(tiny_orders) -> pd.DataFrame:
    """The orders of the first 400 tiny customers (faster fits)."""
    keep = sorted(tiny_orders["customer_id"].unique())[:400]
    return tiny_orders[tiny_orders["customer_id"].isin(keep)]


@pytest.fixture(scope="module")
def tiny_ds(tiny_data):
    import journeykit as jk

    cfg = jk.config.load("tiny", "2026-10")
    ds = jk.load(cfg)
    yield ds
    ds.close()


def test_tiny_demo_recovers_the_generators_bgnbd_and_gamma_gamma(tiny_ds, tiny_data):
    """Against data/tiny/truth.json, on ~770 buyers. Tolerances: the mean
    purchase rate r/α within 20% (its sampling error on 770 customers is
    ≈ 4%, and counting purchase days merges the ~5% of repeat orders that
    fall on the same day as another, a deliberate downward bias); the mean
    dropout probability a/(a+b) within 25% (identified only through the
    customers who stopped, ≈ 8% sampling error); the Gamma-Gamma mean spend
    p·v/(q−1) within 10% (≈ 2% sampling error). p, q and v on their own
    are weakly identified and not tested."""
    truth = json.loads((tiny_data / "truth.json").read_text())
    a = ltv.analyse(tiny_ds, tiny_ds.cfg)
    bg = a.fits["bgnbd"].params
    t = truth["bgnbd"]
    assert t["time_unit"] == a.unit == "week"
    assert bg["r"] / bg["alpha"] == pytest.approx(t["r"] / t["alpha"], rel=0.20)
    assert bg["a"] / (bg["a"] + bg["b"]) == pytest.approx(t["a"] / (t["a"] + t["b"]), rel=0.25)
    g, tg = a.gamma_gamma.params, truth["gamma_gamma"]
    assert models.population_spend(g) == pytest.approx(tg["p"] * tg["v_krw"] / (tg["q"] - 1), rel=0.10)
    assert a.selected_by == "holdout" and a.fits[a.selected].usable
    assert not a.degenerate and all(f.status == "ok" for f in a.fits.values())
    # the validation frames: every calibration customer counted once; each
    # model's expected histogram sums to the customers (its pmf sums to 1)
    hist = a.histogram
    n = len(a.calibration)
    assert hist["actual"].sum() == n
    for m in ltv.MODELS:
        assert hist[m].sum() == pytest.approx(n, rel=1e-6)
    assert a.tracking["actual"].is_monotonic_increasing
    assert a.tracking["actual"].iloc[-1] == (a.calibration["frequency"].sum() + a.calibration["frequency_holdout"].sum())


def test_metrics_have_every_stable_key_and_the_nested_shapes(tiny_ds):
    m = ltv.metrics(tiny_ds, tiny_ds.cfg)
    for key in ltv.STABLE_KEYS:
        assert key in m and f"{key}_prev" in m
    assert m["time_unit"] == "week" and m["horizon_months"] == 12 and m["discount_rate_monthly"] == 0.01
    assert set(m["models"]) == {"bgnbd", "pareto_nbd", "mbgnbd"}
    assert set(m["models"]["bgnbd"]) == {"params", "log_likelihood", "holdout_error", "converged", "penalizer",
                                         "status"}
    assert set(m["models"]["bgnbd"]["params"]) == {"r", "alpha", "a", "b"}
    assert set(m["models"]["pareto_nbd"]["params"]) == {"r", "alpha", "s", "beta"}
    assert all(m["models"][x]["status"] == "converged" and m["models"][x]["converged"] for x in ltv.MODELS)
    for k in ("log_likelihood", "holdout_error"):
        assert all(isinstance(m["models"][x][k], float) for x in ltv.MODELS)
    assert m["selected_model"] in ltv.MODELS
    assert set(m["gamma_gamma"]["params"]) == {"p", "q", "v"} and m["gamma_gamma"]["status"] == "converged"
    assert m["clv_total"] > m["clv_mean"] > 0 and m["clv_median"] > 0
    assert m["clv_total_prev"] > 0 and m["selected_model_prev"] == m["selected_model"]
    assert 0 <= m["p_alive_mean"] <= 1
    json.dumps(report.jsonable(m), allow_nan=False)


def test_changes_are_untested_model_outputs(tiny_ds):
    chs = {c.key: c for c in ltv.changes(tiny_ds, tiny_ds.cfg)}
    assert set(chs) == set(ltv.KINDS)
    assert all(c.verdict == "untested" for c in chs.values())
    # customers with a purchase by 10-31 include everyone who had one by 09-30
    assert chs["customers"].value >= chs["customers"].prev
    assert ltv.previous(tiny_ds, tiny_ds.cfg).end == dt.date(2026, 9, 30)   # the comparison period's last day


def test_breakdowns_fold_small_groups_and_add_up(tiny_ds):
    cfg = tiny_ds.cfg
    total = ltv.metrics(tiny_ds, cfg)["clv_total"]
    minimum = max(cfg.definitions.min_group_size, cfg.definitions.k_anonymity)
    for df, col in ((ltv.by_segment(tiny_ds, cfg), "segment"), (ltv.by_channel(tiny_ds, cfg), "channel"),
                    (ltv.by_cohort(tiny_ds, cfg), "cohort")):
        assert df["clv_total"].sum() == pytest.approx(total)
        assert df["clv_share"].sum() == pytest.approx(1.0)
        assert (df.loc[~df["is_other"], "customers"] >= minimum).all()
        assert list(df["is_other"]) == [False] * (len(df) - int(df["is_other"].sum())) + [True] * int(df["is_other"].sum())


def test_clv_by_segment_uses_the_reports_one_rfm(tiny_ds):
    """Regression: the section had its own RFM scorer (other windows, tie
    rules and names). Now each segment holds exactly the customers
    facts.rfm puts in it (the segmentation section's count), named by
    facts.label; buyers outside the RFM window are "none"."""
    cfg = tiny_ds.cfg
    seg = ltv.by_segment(tiny_ds, cfg).set_index("segment")
    counts = facts.rfm(tiny_ds, cfg)["segment"].value_counts()
    kept = seg[~seg["is_other"]]
    for key, row in kept.iterrows():
        if key == ltv.NO_SEGMENT:
            a = ltv.analyse(tiny_ds, cfg)
            assert row["customers"] == len(a.customers) - counts.sum()
        else:
            assert row["customers"] == counts[key]
    assert set(kept.index) - {ltv.NO_SEGMENT} <= set(facts.segment_keys(cfg))
    order = [k for k in facts.segment_keys(cfg) + [ltv.NO_SEGMENT] if k in set(kept.index)]
    assert list(kept.index) == order
    names = view.segment_table(tiny_ds, cfg).cells().iloc[:, 0].tolist()
    assert names[: len(order)] == [facts.label("rfm", k, cfg) for k in order]
    assert "(no paid order in the window)" in names or ltv.NO_SEGMENT not in kept.index
    assert not hasattr(ltv, "rfm_segments") and not hasattr(ltv, "SEGMENTS")
    assert not [k for k in i18n.TEXT if k.startswith("ltv_seg_")]


def test_ltv_cac_by_channel_on_tiny(tiny_ds):
    df = ltv.ltv_cac(tiny_ds, tiny_ds.cfg)
    assert df is not None
    paid = df[df["cac"].notna()]
    assert len(paid) >= 2
    np.testing.assert_allclose(paid["ltv_cac"], paid["ltv"] / paid["cac"])
    # unpaid channels (organic, referral) have no CAC
    assert df.loc[df["channel"] == "organic", "cac"].isna().all()
    acq = ltv.acquisition_costs(tiny_ds, tiny_ds.cfg, *ltv.cac_window(tiny_ds.cfg))
    assert (acq["signups"].sum() == df["signups"].sum())
    assert view.cac_notes(tiny_ds, tiny_ds.cfg)[0].startswith("Customers who signed up")


def test_payback_curve_and_ranked_channels_by_hand(make_dataset):
    customers = pd.DataFrame({"customer_id": ["A", "B"], "signup_at": ["2026-01-01 09:00:00", "2026-09-15 09:00:00"],
                              "acquisition_channel": [" Search", "search"]})
    orders = _orders([("o1", "A", "2026-01-10 10:00:00", 100, "paid"), ("o2", "A", "2026-02-20 10:00:00", 50, "paid"),
                      ("o3", "B", "2026-09-20 10:00:00", 30, "paid")])
    ds = make_dataset({"customers": customers, "orders": orders})
    assert ltv.has_acquisition(ds) and not ltv.customers_derived(ds) and not ltv.has_cac(ds)   # no marketing
    curve = ltv.payback_curve(ds, ds.cfg).set_index("month")
    # A has 9 whole months by 11-01, B one: month 1 = (100 + 30) / 2; month 2 = 65 + 50 / 1; then flat
    assert curve.loc[1, "cum_revenue"] == 65 and curve.loc[1, "signups"] == 2
    assert curve.loc[2, "cum_revenue"] == 115 and curve.loc[2, "signups"] == 1
    assert list(curve.index) == list(range(1, 10)) and curve.loc[9, "cum_revenue"] == 115
    assert (curve["channel"] == "search").all()
    df = pd.DataFrame({"channel": ["x", "y", ltv.OTHER, "z"], "ltv_cac": [2.0, 5.0, 9.0, None],
                       "is_other": [False, False, True, False]})
    assert ltv.ranked_channels(df)["channel"].tolist() == ["y", "x"]
    assert ltv.ranked_channels(None).empty


def test_exports_are_pseudonymized(tiny_ds, tmp_path):
    cfg = tiny_ds.cfg.model_copy(update={"run": config.RunContext(folder=tmp_path, exports=tmp_path,
                                                                  results=tmp_path / "r.json")})
    out = ltv.write_exports(tiny_ds, cfg)
    top = pd.read_csv(out["ltv_top_customers"][1])
    assert len(top) == ltv.TOP_EXPORT and top["customer_id"].str.match(r"^cx_[0-9a-f]{16}$").all()
    assert top["clv"].is_monotonic_decreasing
    risk = pd.read_csv(out["ltv_high_value_at_risk"][1])
    assert (risk["p_alive"] < ltv.LOW_ALIVE).all() and risk["customer_id"].str.startswith("cx_").all()
    assert not (tmp_path / "ltv_top_customers.csv").read_text().count("C000")


def test_exports_outside_a_report_run_write_nothing(tiny_ds):
    assert tiny_ds.cfg.run is None
    note = view.exports_note(tiny_ds, tiny_ds.cfg)
    assert "written to the exports folder when the report is rendered" in note.text


def test_monthly_inputs_start_with_the_data(make_dataset):
    ds = make_dataset({"orders": synthetic_orders(4, n=60)})
    m = ltv.monthly(ds, ds.cfg)
    assert m["month"].min() == pd.Timestamp(ds.first_date("orders").replace(day=1))
    assert len(m) <= 5 and m["buyers"].iloc[0] > 0


# --------------------------------------------------------------------------
# Clients with less data
# --------------------------------------------------------------------------

def test_orders_only_client_gets_a_complete_section(make_dataset, tiny_orders):
    ds = make_dataset({"orders": tiny_orders})
    cfg = ds.cfg
    m = ltv.metrics(ds, cfg)
    assert m["selected_model"] in ltv.MODELS and m["clv_total"] > 0
    assert ltv.by_cohort(ds, cfg) is not None and ltv.by_segment(ds, cfg) is not None
    assert ltv.ltv_cac(ds, cfg) is None
    assert ltv.customers_derived(ds) and not ltv.has_acquisition(ds) and not ltv.has_cac(ds)
    assert view.cac_table(ds, cfg).text.startswith("LTV:CAC and CAC payback are not available")
    assert view.cac_notes(ds, cfg) == []
    assert "acquisition_channel" in view.channel_table(ds, cfg).text
    assert "First-seen quarter" in view.cohort_table(ds, cfg).cells().columns


@pytest.mark.parametrize("value_column", [False, True], ids=["no_value", "empty_value"])
def test_counts_only_client_gets_purchases_without_money(make_dataset, some_orders, value_column):
    """Regression: an events-only client whose purchase events carry no
    value (no column, or an empty one) has orders without amounts. The
    purchase models still run; spend, CLV and LTV:CAC are null, with one
    reason, said once."""
    o = some_orders[some_orders["payment_status"] == "paid"]
    ev = pd.DataFrame({"occurred_at": o["ordered_at"], "event_type": "purchase", "customer_id": o["customer_id"]})
    if value_column:
        ev["value"] = np.nan
    ds = make_dataset({"events": ev})
    cfg = ds.cfg
    assert facts.has_amounts(ds) == value_column
    a = ltv.analyse(ds, cfg)
    assert a.ok and not a.has_clv and a.gamma_gamma is None and a.spend_fallback is None
    assert a.customers["p_alive"].between(0, 1).all() and a.customers["clv"].isna().all()
    m = ltv.metrics(ds, cfg)
    assert m["selected_model"] in ltv.MODELS and m["p_alive_mean"] > 0 and m["expected_purchases_mean"] > 0
    assert all(m[k] is None for k in ("clv_total", "clv_mean", "clv_median", "clv_total_prev"))
    assert m["gamma_gamma"] == {"params": None, "correlation": None, "customers": 0, "status": None}
    json.dumps(report.jsonable(m), allow_nan=False)
    shown = _everything_shown(ds, cfg)
    assert _text(shown).count(i18n.t("ltv_counts_only", "en")) == 1
    assert view.insights(ds, cfg)[0].endswith("they are expected to make " +
                                              report.fmt_int(a.customers["expected_purchases"].sum()) + " purchases.")
    assert view.clv_chart(ds, cfg) is None and view.quantile_table(ds, cfg) is None
    assert view.segment_table(ds, cfg) is None and view.cac_table(ds, cfg) is None
    assert view.spend_notes(ds, cfg) == [] and ltv.ltv_cac(ds, cfg) is None
    cohorts = view.cohort_table(ds, cfg).cells()
    assert "Total CLV" not in cohorts.columns and "Mean P(alive)" in cohorts.columns
    assert ltv.top_customers(ds, cfg)["expected_purchases"].is_monotonic_decreasing
    kf = {c.key: c for c in ltv.changes(ds, cfg)}
    assert kf["clv_total"].value is None and kf["p_alive_mean"].value is not None


def test_no_paid_orders_gives_nulls_and_one_sentence(make_dataset):
    ds = make_dataset({"orders": _orders([("o1", "A", "2026-10-01 10:00:00", 10, "failed")])})
    m = ltv.metrics(ds, ds.cfg)
    assert all(m[k] is None for k in ("selected_model", "clv_total", "clv_mean", "clv_median"))
    assert all(v["params"] is None and v["status"] == ltv.NOT_FITTED for v in m["models"].values())
    assert view.insights(ds, ds.cfg) == [i18n.t("ltv_no_purchases", "en")]
    shown = _everything_shown(ds, ds.cfg)
    assert _text(shown).count(i18n.t("ltv_no_purchases", "en")) == 1
    assert [b for b in shown[2:] if b is not None] == []


def test_section_without_orders_is_not_available_and_keeps_its_keys(make_dataset):
    ev = pd.DataFrame({"occurred_at": ["2026-10-01 10:00:00"], "event_type": ["visit"], "customer_id": ["A"]})
    ds = make_dataset({"events": ev})
    with pytest.raises(SectionNotAvailable, match="orders"):
        require(ds.cfg, ds, "80_ltv")


def test_models_fitted_on_a_sample_still_score_every_customer(make_dataset, some_orders):
    ds = make_dataset({"orders": some_orders}, definitions={"ltv_max_fit_customers": 150})
    a = ltv.analyse(ds, ds.cfg)
    n = len(a.customers)
    assert n == 400 and a.ok
    # each model saw 150 customers, in the calibration fits and in the final ones ...
    assert {f.n_customers for f in a.fits.values()} == {150}
    assert {f.n_customers for f in a.cal_fits.values()} == {150}
    # ... and every customer has a prediction
    assert a.customers["clv"].notna().all() and a.customers["p_alive"].between(0, 1).all()
    notes = view.model_notes(ds, ds.cfg)
    assert any("random sample of 150 of them" in x for x in notes) and "400 customers" in " ".join(notes)
    assert "150 customers" in view.closing(ds, ds.cfg).text
    ko = ds.cfg.updated(language="ko")
    assert any("무작위 표본 150명" in x for x in view.model_notes(ds, ko))


# --------------------------------------------------------------------------
# Generated text, en and ko
# --------------------------------------------------------------------------

def test_generated_text_in_english(tiny_ds):
    cfg = tiny_ds.cfg
    s = view.insights(tiny_ds, cfg)[0]
    assert s.startswith("769 customers have bought at least once")
    assert "Over the next 12 months" in s and "₩" in s and "1.0% a month" in s
    notes = view.model_notes(tiny_ds, cfg)
    assert notes[0].startswith("Time unit of the models: weeks.")
    # which model wins depends on the data; the note names the one selected
    selected = view.model_name(ltv.analyse(tiny_ds, cfg).selected, cfg)
    assert any(n.startswith(f"The {selected} model predicts the holdout best") for n in notes)
    assert any("Calibration: " in n and "(182 days)" in n for n in notes)
    assert view.spend_notes(tiny_ds, cfg)[0].startswith("The model assumes")
    assert view.next_steps(tiny_ds, cfg)
    assert "distinct (frequency, recency, T) patterns" in view.closing(tiny_ds, cfg).text
    kf = report.key_figures(ltv.changes(tiny_ds, cfg), view.labels(cfg), ltv.KINDS, cfg)
    assert "Expected value of the customer base (12 months)" in repr(kf)


def test_generated_text_in_korean(make_dataset, some_orders):
    ds = make_dataset({"orders": some_orders}, language="ko")
    cfg = ds.cfg
    assert cfg.language == "ko"
    assert "한 번 이상 구매한 고객은" in view.insights(ds, cfg)[0]
    notes = view.model_notes(ds, cfg)
    assert notes[0] == "모델의 시간 단위: 주. 재구매는 서로 다른 구매일 수로 셉니다 (같은 날의 여러 주문은 한 번의 구매)."
    assert "LTV:CAC와 CAC 회수 기간은 제공되지 않습니다" in view.cac_table(ds, cfg).text
    assert all(s and not s.isascii() for s in view.next_steps(ds, cfg))
    assert view.labels(cfg)["clv_total"] == "고객 기반의 기대 가치 (12개월)"
    assert view.group_label("segment", "champions", cfg) == "챔피언"


def test_next_steps_rules(tiny_ds, monkeypatch):
    cfg = tiny_ds.cfg
    steps = view.next_steps(tiny_ds, cfg)
    risk = ltv.at_risk_customers(tiny_ds, cfg)
    assert len(risk) >= cfg.definitions.min_sample_size
    assert steps[0].startswith(f"Win back the {len(risk)} high-value customers")
    rules = [f["rule"] for f in ltv.findings(tiny_ds, cfg)]
    q = ltv.clv_quantiles(tiny_ds, cfg).set_index("key")["value"]
    assert ("concentration" in rules) == (q["top10_share"] > 0.5)
    assert len(steps) == len(rules)
    # nothing fires → one sentence says so
    monkeypatch.setattr(ltv, "findings", lambda ds, cfg: [])
    assert view.next_steps(tiny_ds, cfg) == [i18n.t("ltv_next_nothing", "en")]


def test_every_text_has_both_languages():
    keys = [k for k in i18n.TEXT if k.startswith("ltv_")]
    assert len(keys) > 50
    assert all(set(i18n.TEXT[k]) == {"en", "ko"} for k in keys)


def test_compute_modules_hold_no_text_and_no_charts():
    import inspect

    for mod in (ltv, models, summary, validation):
        src = inspect.getsource(mod)
        assert "i18n" not in src and "matplotlib" not in src and "Narrative" not in src and "Note(" not in src


def _shapes():
    one = _orders([("o1", "A", "2026-10-03 10:00:00", 10, "paid")])
    old = _orders([(f"o{i}", f"C{i % 5}", f"2025-0{1 + i % 3}-{1 + i:02d} 10:00:00", 10 + i, "paid")
                   for i in range(20)])                                        # nothing in the trend window
    bare = synthetic_orders(8, n=80)[["customer_id", "ordered_at", "amount"]]  # no order_id, no payment_status
    cust = pd.DataFrame({"customer_id": sorted(set(bare["customer_id"])), "signup_at": "2025-01-01 00:00:00",
                         "acquisition_channel": None})
    mkt = pd.DataFrame({"date": ["2026-10-01"], "channel": ["search"], "impressions": [100], "clicks": [10],
                        "spend": [1000.0]})
    return {"one_order": {"orders": one}, "history_before_the_window": {"orders": old},
            "no_order_id_no_status": {"orders": bare},
            "empty_channels_and_spend": {"orders": bare, "customers": cust, "marketing": mkt}}


@pytest.mark.parametrize("shape", list(_shapes()))
@pytest.mark.parametrize("language", ["en", "ko"])
def test_every_data_shape_shows_without_failing(make_dataset, shape, language):
    """Small and odd clients: every block the notebook shows is built, each
    sentence at most once, and the metrics are JSON."""
    ds = make_dataset(_shapes()[shape], language=language)
    cfg = ds.cfg
    shown = _everything_shown(ds, cfg)
    sentences = [s for b in shown if isinstance(b, report.Narrative) for s in b.sentences]
    sentences += [b.text for b in shown if isinstance(b, report.Note)]
    assert len(sentences) == len(set(sentences))
    json.dumps(report.jsonable(ltv.metrics(ds, cfg)), allow_nan=False)
    if shape == "history_before_the_window":
        trend = view.trend_chart(ds, cfg)
        assert isinstance(trend, report.Note) and "12" in trend.text


# --------------------------------------------------------------------------
# Issue 17: value with uncertainty, margin, unknown channels, the MBG/NBD note
# --------------------------------------------------------------------------

def test_gross_margin_setting_is_typed_with_a_default(make_dataset, some_orders):
    from journeykit.core.errors import ConfigError

    ds = make_dataset({"orders": some_orders.head(50)})
    assert ds.cfg.definitions.gross_margin == 1.0
    assert ds.cfg.updated(definitions={"gross_margin": 0.35}).definitions.gross_margin == 0.35
    for bad in (0, 1.5, -0.2):
        with pytest.raises(ConfigError, match="gross_margin"):
            ds.cfg.updated(definitions={"gross_margin": bad})


def _cac_client(make_dataset, margin=1.0):
    customers = pd.DataFrame({
        "customer_id": ["A", "B", "U", "V"],
        "signup_at": ["2026-05-01 09:00:00", "2026-06-01 09:00:00", "2026-06-01 09:00:00", "2026-07-01 09:00:00"],
        "acquisition_channel": ["search", "search", None, ""]})
    orders = _orders([("o1", "A", "2026-05-10 10:00:00", 100, "paid"), ("o2", "A", "2026-06-10 10:00:00", 50, "paid"),
                      ("o3", "B", "2026-06-05 10:00:00", 30, "paid"), ("o4", "U", "2026-06-02 10:00:00", 40, "paid")])
    marketing = pd.DataFrame({"date": ["2026-05-01"], "channel": ["Search"], "impressions": [1000], "clicks": [10],
                              "spend": [120.0]})
    return make_dataset({"customers": customers, "orders": orders, "marketing": marketing},
                        definitions={"min_group_size": 1, "k_anonymity": 1, "gross_margin": margin})


def test_ltv_cac_margin_and_unknown_channel_by_hand(make_dataset):
    # Measured (issue 17): LTV:CAC compared revenue, not margin, with CAC and
    # showed no uncertainty; customers without a channel must be handled
    # like the others (their value counted), never as a channel with LTV 0.
    ds = _cac_client(make_dataset)
    cfg = ds.cfg
    a = ltv.analyse(ds, cfg)
    clv = a.customers.set_index("customer_id")["clv"].fillna(0.0) if a.has_clv else pd.Series(dtype=float)
    c = lambda k: float(clv.get(k, 0.0))  # noqa: E731
    df = ltv.ltv_cac(ds, cfg).set_index("channel")
    assert sorted(df.index) == sorted(["search", ltv.UNKNOWN])
    s, u = df.loc["search"], df.loc[ltv.UNKNOWN]
    # search: spend 120 over 2 signups → CAC 60; LTV = (A 150 + B 30 + their CLV) / 2
    assert s["cac"] == 60 and s["ltv"] == pytest.approx((180 + c("A") + c("B")) / 2)
    assert s["ltv_cac"] == pytest.approx(s["ltv"] / 60)
    assert s["ltv_ci_low"] <= s["ltv"] <= s["ltv_ci_high"] and s["ltv_cac_ci_low"] <= s["ltv_cac"] <= s["ltv_cac_ci_high"]
    # not recorded (U blank, V empty): value counted, (U 40 + her CLV, V nothing) / 2; no CAC, ratio or payback
    assert u["signups"] == 2 and u["ltv"] == pytest.approx((40 + c("U")) / 2) and u["ltv"] > 0
    assert u["is_unknown"] and pd.isna(u["cac"]) and pd.isna(u["ltv_cac"]) and pd.isna(u["payback_months"])
    assert ltv.ranked_channels(ltv.ltv_cac(ds, cfg))["channel"].tolist() == ["search"]
    notes = view.cac_notes(ds, cfg)
    assert "gross margin (100%, definitions.gross_margin)" in notes[0]
    assert notes[1].startswith("The gross margin is set to 100%: LTV here is revenue")
    assert notes[2] == ("2 signups have no recorded acquisition channel: their LTV is shown, but no marketing "
                        "spend can be attributed to them, so they have no CAC and are not compared.")
    cells = view.cac_table(ds, cfg).cells()
    assert "LTV per signup (margin 100%)" in cells.columns and "(not recorded)" in list(cells.iloc[:, 0])
    # at a 40% margin: LTV and the ratio scale by 0.4, payback needs 0.4 × revenue to cover CAC
    m = _cac_client(make_dataset, margin=0.4)
    dm = ltv.ltv_cac(m, m.cfg).set_index("channel")
    assert dm.loc["search", "ltv"] == pytest.approx(0.4 * s["ltv"])
    assert dm.loc["search", "ltv_cac"] == pytest.approx(0.4 * s["ltv_cac"])
    curve = ltv.payback_curve(m, m.cfg)
    cv = curve[curve["channel"] == "search"]
    hit = cv[cv["cum_revenue"] * 0.4 >= 60]
    expected = int(hit["month"].min()) if len(hit) else None
    got = dm.loc["search", "payback_months"]
    assert (expected is None and pd.isna(got)) or got == expected
    assert "40%" in view.cac_notes(m, m.cfg)[0] and not any("set to 100%" in n for n in view.cac_notes(m, m.cfg))
    assert ltv.metrics(m, m.cfg)["gross_margin"] == 0.4


def test_gg_mean_matches_lifetimes():
    from journeykit.sections.ltv import uncertainty as U

    f = ltv.fit_spend(pd.DataFrame({"frequency": [1, 2, 3, 1, 5, 2, 4, 1, 2, 3, 6, 2],
                                    "monetary_value": [10.0, 12, 9, 30, 11, 14, 8, 20, 16, 10, 12, 25]}))[0]
    assert f is not None and f.usable
    x, m = np.array([0, 1, 3, 6]), np.array([0.0, 10.0, 20.0, 5.0])
    got = U.gg_mean(f.params, x, m)
    want = f.model.conditional_expected_average_profit(x, np.where(x > 0, m, 0.0))
    np.testing.assert_allclose(got, np.asarray(want, float), rtol=1e-9)
    # a one-time buyer gets the population mean p·v/(q − 1)
    assert got[0] == pytest.approx(ltv.population_spend(f.params))


def test_clv_interval_on_tiny_is_seeded_and_covers_the_estimate(tiny_ds):
    from journeykit.sections.ltv import uncertainty as U

    cfg = tiny_ds.cfg.updated(definitions={"ltv_bootstrap_samples": 25, "ltv_bootstrap_seconds": 600})
    a = ltv.analyse(tiny_ds, cfg)
    b1, b2 = U.run(a, cfg), U.run(a, cfg)
    assert b1.samples + b1.failed == 25 and not b1.stopped and not b1.unstable
    np.testing.assert_allclose(b1.disc, b2.disc)                           # seeded: the same replicates
    iv = ltv.clv_intervals(tiny_ds, cfg)
    lo, hi = iv["clv_total"]
    total = float(a.customers["clv"].sum())
    assert lo < total < hi and (hi - lo) / total < 0.5
    assert iv["clv_mean"][0] == pytest.approx(lo / len(a.customers))
    m = ltv.metrics(tiny_ds, cfg)
    assert (m["clv_total_ci_low"], m["clv_total_ci_high"]) == (lo, hi) and m["bootstrap_samples"] == b1.samples
    s = view.insights(tiny_ds, cfg)
    assert s[1].startswith("95% interval of the 12-month value:") and f"from {b1.samples} refits" in s[1]
    # no refits asked: no interval, nothing said
    off = tiny_ds.cfg.updated(definitions={"ltv_bootstrap_samples": 0})
    assert ltv.clv_intervals(tiny_ds, off) is None and ltv.metrics(tiny_ds, off)["clv_total_ci_low"] is None
    assert len(view.insights(tiny_ds, off)) == 1


def test_resampled_patterns_and_pairs_are_those_of_the_drawn_rows():
    """The bootstrap counts each resample's patterns instead of regrouping
    the drawn rows: the same frames as triples() and fit_spend()'s grouping
    of ``fitted.iloc[idx]``, row for row."""
    from journeykit.sections.ltv import uncertainty as U

    s = _demo_triples(400).loc[lambda t: t.index.repeat(t["weight"])].drop(columns="weight").reset_index(drop=True)
    s = s.assign(customer_id=[f"c{i}" for i in range(len(s))],
                 monetary_value=np.where(s["frequency"] > 0, np.round(10 + (s.index % 7) * 2.5, 2), 0.0))
    s["total_spend"] = s["monetary_value"] * (s["frequency"] + 1)
    r = U.Resampler(s)
    for b in range(3):
        idx = r.draw(b)
        drawn = s.iloc[idx]
        pd.testing.assert_frame_equal(r.patterns(idx), summary.triples(drawn))
        rep = drawn[(drawn["frequency"] > 0) & (drawn["monetary_value"] > 0)]
        pairs, mean_spend = r.pairs(idx)
        pd.testing.assert_frame_equal(pairs, rep.groupby(["frequency", "monetary_value"], as_index=False).size())
        assert mean_spend == pytest.approx(rep["monetary_value"].mean(), rel=1e-12)
        assert r.spend_per_day(idx) == pytest.approx(drawn["total_spend"].sum() / (drawn["frequency"] + 1).sum())
    assert U.Resampler(s.head(5)).pairs(np.arange(5)) == (None, None)   # fewer than 10 repeat customers


def test_unstable_model_gives_no_interval_and_says_so(make_dataset, monkeypatch):
    from journeykit.sections.ltv import uncertainty as U

    ds = make_dataset({"orders": synthetic_orders(8, n=120)})
    a = ltv.analyse(ds, ds.cfg)
    assert a.has_clv
    real = U.fit_transactions
    calls = []

    def flaky(name, tr, **kw):        # every other refit degenerates
        calls.append(1)
        f = real(name, tr, **kw)
        if len(calls) % 2:
            f.degenerate = "a = 1e-11"
        return f

    monkeypatch.setattr(U, "fit_transactions", flaky)
    b = U.run(a, ds.cfg)
    # after 10 tries, at least the 5 made degenerate failed (more than a quarter): stopped, no interval
    assert b.unstable and b.samples + b.failed == 10 and b.failed >= 5 and not b.stopped
    assert U.clv_intervals(b) == {"clv_total": None, "clv_mean": None}


def test_mbgnbd_note_regression(tiny_ds):
    # Measured (issue 17): the note said one-time buyers are certainly alive
    # under MBG/NBD; they are not (it lets a customer drop out at once).
    cfg = tiny_ds.cfg
    a = ltv.analyse(tiny_ds, cfg)
    assert a.selected == "mbgnbd"
    one = a.customers.loc[a.customers["frequency"] == 0, "p_alive"]
    assert len(one) and one.max() < 1 and one.min() < 0.5
    notes = " ".join(view.model_notes(tiny_ds, cfg))
    assert "certainly active" not in notes and "MBG/NBD lets a customer drop out right after her first" in notes
    # under BG/NBD the note says what holds there
    bg = ltv.analyse(tiny_ds, cfg, models=("bgnbd",))
    assert (bg.customers.loc[bg.customers["frequency"] == 0, "p_alive"] == 1).all()


def test_budget_advice_needs_an_interval_clear_of_zero(tiny_ds, monkeypatch):
    # Measured (issue 17): "Shift acquisition budget towards X" rested on a
    # point ratio. It now needs the paired interval of the difference above 0.
    cfg = tiny_ds.cfg
    f = {x["rule"]: x for x in ltv.findings(tiny_ds, cfg)}
    assert "channel" in f and f["channel"]["gap"][0] > 0
    assert any(s.startswith(f"Shift acquisition budget towards {f['channel']['best']}") and "95% interval" in s
               for s in view.next_steps(tiny_ds, cfg))
    monkeypatch.setattr(ltv, "channel_gap", lambda ds, cfg, best, worst: (-1.0, 5.0))
    rules = [x["rule"] for x in ltv.findings(tiny_ds, cfg)]
    assert "channel_uncertain" in rules and "channel" not in rules
    steps = view.next_steps(tiny_ds, cfg)
    assert not any("Shift acquisition budget" in s for s in steps)
    assert any("not enough evidence yet to move budget" in s for s in steps)
    # a channel below 1 is called unprofitable only when its whole interval is
    df = pd.DataFrame({"channel": ["x", "y"], "ltv_cac": [0.8, 0.7], "ltv_cac_ci_high": [1.3, 0.9],
                       "is_other": [False, False], "is_unknown": [False, False]})
    monkeypatch.setattr(ltv, "ltv_cac", lambda ds, cfg: df)
    monkeypatch.setattr(ltv, "channel_gap", lambda ds, cfg, best, worst: None)
    assert [x["channel"] for x in ltv.findings(tiny_ds, cfg) if x["rule"] == "unprofitable"] == ["y"]


# --------------------------------------------------------------------------
# A small shop (first-time user's findings, issue 16/17 follow-ups)
# --------------------------------------------------------------------------

def _ridge_triples(n: int = 300, days: int = 120, seed: int = 1) -> pd.DataFrame:
    """Patterns of a small shop with four months of orders in which every
    customer's chance of buying again is the same (homogeneous dropout):
    Pareto/NBD's likelihood then climbs towards s → ∞."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        first = int(rng.integers(0, days))
        k = int(rng.geometric(0.5))
        d = {first} | {first + int(rng.integers(0, max(1, days - first))) for _ in range(k - 1)}
        rows.append((len(d) - 1, (max(d) - first) / 7, (days - first) / 7))
    s = pd.DataFrame(rows, columns=["frequency", "recency", "T"])
    s["recency_days"], s["T_days"] = s["recency"] * 7, s["T"] * 7
    return summary.triples(s.assign(customer_id=[f"C{i}" for i in range(n)]))


def test_pareto_objective_is_lifetimes_objective_to_the_last_bit():
    """The Pareto/NBD objective computes the hypergeometric terms once per
    distinct (x, t_x) and (x, T) and gathers them: the same value as
    lifetimes' ``_negative_log_likelihood``, bit for bit, on both sides of
    α = β, with a penalizer, and ``inf`` outside the positive orthant."""
    L = models._lifetimes()
    tr = _demo_triples(300)
    tr = pd.concat([tr, tr.assign(recency=tr["recency"] / 2)], ignore_index=True)   # (x, T) pairs repeat
    f, r, T, w = (tr[c].to_numpy(float) for c in ("frequency", "recency", "T", "weight"))
    r, T = r / T.max(), T / T.max()
    obj = models._ParetoObjective(f, r, T, w, 0.001)
    assert len(obj.x2) < len(f)
    for p in ([1.5, 0.5, 0.9, 2.0], [1.5, 2.0, 0.9, 0.3], [0.5, 0.5, 0.5, 0.5], [1.0, 1.0, -1.0, 1.0]):
        p = np.array(p)
        with models._quiet():
            want = L["pareto_nbd"]._negative_log_likelihood(p, f, r, T, w, 0.001)
        assert obj(p) == want


def test_bgnbd_fit_log_likelihood_is_lifetimes_in_the_data_time_unit():
    """BG/NBD's log-likelihood comes from journeykit.stats.bgnbd (no second
    evaluation through lifetimes): the same number as lifetimes' likelihood
    brought to the data's time unit."""
    tr = _demo_triples(400)
    f = models.fit_transactions("bgnbd", tr)
    cols = [tr[c].to_numpy(float) for c in ("frequency", "recency", "T", "weight")]
    assert f.log_likelihood == pytest.approx(models._log_likelihood("bgnbd", f.params, *cols), rel=1e-10)


def test_distinct_pairs_by_hand():
    ua, ub, inv = models._distinct_pairs(np.array([2.0, 1.0, 2.0, 1.0]), np.array([5.0, 7.0, 5.0, 3.0]))
    assert ua.tolist() == [1.0, 1.0, 2.0] and ub.tolist() == [3.0, 7.0, 5.0]   # sorted by a, then b
    assert inv.tolist() == [2, 1, 2, 0]


def test_pareto_nbd_heading_for_homogeneous_dropout_stops_and_is_degenerate(monkeypatch):
    """Regression: on a small shop's four months, Pareto/NBD crawled towards
    s → ∞ (each likelihood evaluation slower as s grows: 8.4 s per fit, a
    106-s LTV section) and ended with a log-likelihood that overflowed.
    Now the search stops once s passes PARETO_S_MAX, and the fit is
    degenerate (never used) with that reason."""
    calls = []
    real = models._ParetoObjective.__call__

    def counted(self, params):
        calls.append(float(params[2]))
        return real(self, params)

    monkeypatch.setattr(models._ParetoObjective, "__call__", counted)
    f = models.fit_transactions("pareto_nbd", _ridge_triples())
    assert f.status == "degenerate" and f.degenerate == f"s > {models.PARETO_S_MAX:g}"
    assert not f.usable and f.params["s"] > models.PARETO_S_MAX
    assert f.penalizer == 0.0                      # a boundary is not retried with the penalizer
    assert max(calls) < 3 * models.PARETO_S_MAX    # the search never went far along the ridge
    assert view.reason(f.degenerate, SimpleNamespace(language="ko")) == "s > 30: 모든 고객의 이탈률이 같음"


def _cal_fits_degenerate(monkeypatch, n_cal: int = 3):
    """Make the first ``n_cal`` transaction fits (the calibration fits) degenerate."""
    real = ltv.fit_transactions
    count = {"n": 0}

    def fit(name, tr, *a, **k):
        f = real(name, tr, *a, **k)
        count["n"] += 1
        if count["n"] <= n_cal and f.converged:
            f.degenerate = "predictions not finite"
        return f

    monkeypatch.setattr(ltv, "fit_transactions", fit)


def test_no_model_is_selected_when_every_model_failed_the_holdout(make_dataset, some_orders, monkeypatch):
    """Regression: with every calibration fit degenerate (the holdout
    existed but no model could be scored on it), the model with the highest
    log-likelihood on all the data was selected ("MBG/NBD (선택)") and the
    report said validation was good. Now no model is selected, the report
    says plainly that none is good enough, and nothing is marked selected."""
    _cal_fits_degenerate(monkeypatch)
    ds = make_dataset({"orders": some_orders}, language="ko")
    cfg = ds.cfg
    a = ltv.analyse(ds, cfg)
    assert a.calibration is not None and not a.holdout
    assert any(f.usable for f in a.fits.values())          # usable on all the data, yet unchecked
    assert a.selected is None and a.selected_by == "none"
    assert view.insights(ds, cfg) == [i18n.t("ltv_no_model", "ko")]
    assert view.next_steps(ds, cfg) == []
    cells = view.model_table(ds, cfg).cells()
    assert not cells.iloc[:, 0].str.contains("선택").any()
    text = _text(_everything_shown(ds, cfg))
    assert "predictions not finite" not in text and "예측값이 유한하지 않음" in text
    assert "양호" not in text
    assert ltv.metrics(ds, cfg)["selected_model"] is None


def test_a_model_chosen_without_holdout_never_claims_it_validated(make_dataset, monkeypatch):
    """Regression: three months of orders (shorter than the 182-day holdout):
    the model chosen on its log-likelihood was followed by "the models
    validate well". Now the report says it is unchecked."""
    ds = make_dataset({"orders": synthetic_orders(3, n=200)})
    a = ltv.analyse(ds, ds.cfg)
    assert a.calibration is None
    if a.ok:
        assert a.selected_by == "log_likelihood"
        assert any("unchecked on a holdout" in s for s in view.model_notes(ds, ds.cfg))
        monkeypatch.setattr(ltv, "findings", lambda ds, cfg: [])
        assert view.next_steps(ds, ds.cfg) == [i18n.t("ltv_next_nothing_unchecked", "en")]
    assert "validate well" not in _text(_everything_shown(ds, ds.cfg))


def test_models_prev_statuses_are_never_null(make_dataset):
    """Regression: ``models_prev.<model>.status`` was null when the
    comparison analysis did not fit the model (the month before the data's
    first order, or a model other than the selected one)."""
    orders = synthetic_orders(4, n=150)
    ds = make_dataset({"orders": orders}, period="2026-07")   # data starts in late June
    m = ltv.metrics(ds, ds.cfg)
    for key in ("models", "models_prev"):
        for name in ltv.MODELS:
            assert m[key][name]["status"] in (*ltv.METRIC_STATUS.values(), ltv.NOT_FITTED), (key, name)
    assert {v["status"] for v in m["models_prev"].values()} == {ltv.NOT_FITTED}


def test_engineering_closing_note_stays_in_the_notebook():
    """Regression: "Fitting time grows with …" appeared on the client's
    page. The closing note's cell is removed from the client's HTML/PDF."""
    import nbformat

    from journeykit.run import render

    nb = nbformat.read(str(Path(__file__).resolve().parents[2] / "notebooks" / "80_ltv.ipynb"), as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code" and "view.closing(" in c.source)
    assert "remove_cell" in cell.metadata.get("tags", [])
    cell.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "CLOSING-NOTE"}, execution_count=1)]
    body, _ = render._exporter("en").from_notebook_node(nb)
    assert "CLOSING-NOTE" not in body


def test_holdout_chart_captions_only_with_their_charts(make_dataset, small):
    """Regression: the notebook's captions of the three holdout charts
    ("Customers grouped by their repeat purchases before the holdout: …")
    stayed on the page when the history was too short for a holdout and no
    chart followed. Each caption now comes with its chart, or not at all."""
    short = make_dataset({"orders": synthetic_orders(3, n=120)}, language="ko")
    assert ltv.analyse(short, short.cfg).calibration is None
    for chart in ("holdout", "tracking", "histogram"):
        assert view.validation_figure(short, short.cfg, chart) is None
    html = view.validation_figure(small, small.cfg, "holdout")._repr_html_()
    assert html.startswith("<p>Customers grouped by their repeat purchases before the holdout")
    assert '<img src="data:image/png;base64,' in html
    import nbformat

    nb = nbformat.read(str(Path(__file__).resolve().parents[2] / "notebooks" / "80_ltv.ipynb"), as_version=4)
    md = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "Customers grouped by" not in md and "How many customers made" not in md


def test_customers_come_in_customer_order_whatever_order_the_engine_returns(tiny_ds):
    # regression: the fit sample and the bootstrap draw rows by position, and Spark, a warehouse or
    # DuckDB's parallel scan return the summary in any order: CLV intervals differed between engines
    a = ltv.analyse(tiny_ds, tiny_ds.cfg)
    ids = a.customers["customer_id"]
    assert len(ids) > 100 and ids.is_monotonic_increasing and ids.is_unique


def test_pmf_table_equals_lifetimes_pair_by_pair():
    """The histogram's P(X(t) = n), vectorised for BG/NBD and MBG/NBD, is
    lifetimes' probability_of_n_purchases_up_to_time for every (t, n); an
    age of 0 has no purchase for sure."""
    L = models._lifetimes()
    ages = np.array([0.0, 0.5, 3.0, 10.0, 38.0])
    for name, p in (("bgnbd", {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}),
                    ("mbgnbd", {"r": 0.5, "alpha": 3.0, "a": 1.5, "b": 0.7})):
        m = L[name]()
        m.params_ = pd.Series(p)
        fit = models.Fit(name, m, p, -1.0, 0.0, True, 0.0, 1, 1, scale=0.25)
        got = validation._pmf_table(fit, ages, 7)
        assert got.shape == (5, 7) and got[0].tolist() == [1.0, 0, 0, 0, 0, 0, 0]
        for i, t in enumerate(ages[1:], start=1):
            for n in range(7):
                assert got[i, n] == pytest.approx(float(m.probability_of_n_purchases_up_to_time(t, n)), rel=1e-9)

