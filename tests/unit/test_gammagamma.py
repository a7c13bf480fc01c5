"""journeykit.stats.gammagamma: the Gamma-Gamma fitter with an analytic
gradient finds lifetimes' parameters (the published CDNOW values are also
checked through journeykit.sections.ltv.compute in test_ltv_cdnow.py)."""

from __future__ import annotations

import importlib.util
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from journeykit.stats import gammagamma


@pytest.fixture(scope="module")
def pairs() -> pd.DataFrame:
    """CDNOW's 946 repeat customers as distinct (x, m) pairs with their counts."""
    folder = Path(importlib.util.find_spec("lifetimes").origin).parent / "datasets"
    df = pd.read_csv(folder / "cdnow_customers_summary_with_transactions.csv")
    rep = df[(df["x"] > 0) & (df["zbar"] > 0)]
    assert len(rep) == 946
    return rep.groupby(["x", "zbar"], as_index=False).size()


def _lifetimes(g, penalizer):
    from lifetimes import GammaGammaFitter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = GammaGammaFitter(penalizer_coef=penalizer).fit(g["x"], g["zbar"], weights=g["size"])
    return [float(m.params_[k]) for k in gammagamma.PARAMS]


@pytest.mark.parametrize("penalizer", [0.0, 0.001])
def test_same_parameters_as_lifetimes_on_cdnow(pairs, penalizer):
    ours = gammagamma.fit(pairs["x"], pairs["zbar"], pairs["size"], penalizer=penalizer)
    assert ours.converged
    np.testing.assert_allclose([ours.params[k] for k in gammagamma.PARAMS], _lifetimes(pairs, penalizer), rtol=1e-6)
    if not penalizer:
        # Fader & Hardie 2013: p = 6.25, q = 3.74, γ = 15.44, LL = −4055.92
        np.testing.assert_allclose([ours.params[k] for k in gammagamma.PARAMS], [6.25, 3.74, 15.44], rtol=0.01)
        assert ours.log_likelihood == pytest.approx(-4055.92, abs=0.01)


def test_a_start_near_the_optimum_reaches_the_same_optimum(pairs):
    cold = gammagamma.fit(pairs["x"], pairs["zbar"], pairs["size"])
    warm = gammagamma.fit(pairs["x"], pairs["zbar"], pairs["size"], start={"p": 6.0, "q": 4.0, "v": 15.0})
    assert warm.converged
    np.testing.assert_allclose(list(warm.params.values()), list(cold.params.values()), rtol=1e-5)


def test_gradient_matches_finite_differences(pairs):
    obj = gammagamma._Objective(pairs["x"], pairs["zbar"], pairs["size"], 0.05)
    theta = np.log([3.0, 2.0, 10.0])
    _, grad = obj(theta)
    eps = 1e-6
    numeric = [(obj(theta + eps * e)[0] - obj(theta - eps * e)[0]) / (2 * eps) for e in np.eye(3)]
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


def test_weighted_pairs_give_the_fit_on_every_customer(pairs):
    rows = pairs.loc[pairs.index.repeat(pairs["size"])]
    a = gammagamma.fit(rows["x"], rows["zbar"])
    b = gammagamma.fit(pairs["x"], pairs["zbar"], pairs["size"])
    np.testing.assert_allclose(list(a.params.values()), list(b.params.values()), rtol=1e-6)
    assert a.log_likelihood == pytest.approx(b.log_likelihood, rel=1e-9)


def test_log_likelihood_by_hand_for_three_customers():
    # p=2, q=3, v=4. A customer with x purchases of mean m has the density of
    # m under Gamma(px, scale 1/(ν x)) mixed over ν ~ Gamma(q, scale 1/v):
    #   f(m | x) = Γ(px+q)/(Γ(px)Γ(q)) · v^q · m^(px−1) · x^(px) / (xm+v)^(px+q)
    # x=1, m=2:  Γ(5)/(Γ(2)Γ(3)) · 4³ · 2¹ · 1  / 6⁵   = 12 · 64 · 2 / 7776
    # x=2, m=1:  Γ(7)/(Γ(4)Γ(3)) · 4³ · 1³ · 2⁴ / 6⁷   = 60 · 64 · 16 / 279936
    # x=1, m=2 again (weight 2 on one row below, or two rows)
    l1 = 12 * 64 * 2 / 7776
    l2 = 60 * 64 * 16 / 279936
    expected = 2 * math.log(l1) + math.log(l2)
    obj = gammagamma._Objective([1, 2], [2.0, 1.0], [2, 1], 0.0)
    assert obj.log_likelihood({"p": 2.0, "q": 3.0, "v": 4.0}) == pytest.approx(expected, rel=1e-12)
    rows = gammagamma._Objective([1, 2, 1], [2.0, 1.0, 2.0], [1, 1, 1], 0.0)
    assert rows.log_likelihood({"p": 2.0, "q": 3.0, "v": 4.0}) == pytest.approx(expected, rel=1e-12)


def test_penalty_is_lifetimes_sum_of_squared_parameters():
    obj = gammagamma._Objective([1, 2], [2.0, 1.0], [2, 1], 0.5)
    value, _ = obj(np.log([2.0, 3.0, 4.0]))
    ll = obj.log_likelihood({"p": 2.0, "q": 3.0, "v": 4.0})
    assert value == pytest.approx(-ll / 3 + 0.5 * (4 + 9 + 16), rel=1e-12)


def test_a_search_that_runs_off_to_a_boundary_is_not_converged():
    # a dozen customers: unpenalized, BFGS heads for p → ∞, v → 0 and stops on
    # "precision loss" (lifetimes raises ConvergenceError); the penalized fit converges
    x = [1, 2, 3, 1, 5, 2, 4, 1, 2, 3, 6, 2]
    m = [10.0, 12, 9, 30, 11, 14, 8, 20, 16, 10, 12, 25]
    assert not gammagamma.fit(x, m).converged
    pen = gammagamma.fit(x, m, penalizer=0.001)
    assert pen.converged and pen.params["p"] == pytest.approx(8.9594, rel=1e-4)   # lifetimes: 8.95942
