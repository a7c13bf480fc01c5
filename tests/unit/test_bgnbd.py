"""journeykit.stats.bgnbd: the BG/NBD fitter with an analytic gradient finds
lifetimes' parameters (the published CDNOW values are checked through
journeykit.sections.ltv.compute in test_ltv_cdnow.py)."""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from journeykit.stats import bgnbd


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    folder = Path(importlib.util.find_spec("lifetimes").origin).parent / "datasets"
    return pd.read_csv(folder / "cdnow_customers_summary_with_transactions.csv")


def _lifetimes(df, penalizer=0.0):
    from lifetimes import BetaGeoFitter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = BetaGeoFitter(penalizer_coef=penalizer).fit(df["x"], df["t_x"], df["T"])
    return {k: float(m.params_[k]) for k in bgnbd.PARAMS}


@pytest.mark.parametrize("penalizer", [0.0, 0.01])
def test_same_parameters_as_lifetimes_on_cdnow(cdnow, penalizer):
    ours = bgnbd.fit(cdnow["x"], cdnow["t_x"], cdnow["T"], penalizer=penalizer)
    assert ours.converged
    theirs = _lifetimes(cdnow, penalizer)
    np.testing.assert_allclose([ours.params[k] for k in bgnbd.PARAMS], [theirs[k] for k in bgnbd.PARAMS],
                               rtol=1e-5)
    if not penalizer:
        assert ours.log_likelihood == pytest.approx(-9582.43, abs=0.01)   # Fader, Hardie & Lee 2005: −9582.4


def test_gradient_matches_finite_differences(cdnow):
    obj = bgnbd._Objective(cdnow["x"], cdnow["t_x"], cdnow["T"], np.ones(len(cdnow)), 0.05)
    theta = np.log([0.5, 3.0, 1.1, 2.0])
    _, grad = obj(theta)
    eps = 1e-6
    numeric = [(obj(theta + eps * e)[0] - obj(theta - eps * e)[0]) / (2 * eps) for e in np.eye(4)]
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


def test_weighted_patterns_give_the_fit_on_every_row(cdnow):
    rows = cdnow.assign(t_x=cdnow["t_x"].round(0), T=cdnow["T"].round(0))   # so that patterns repeat
    patterns = rows.groupby(["x", "t_x", "T"], as_index=False).size()
    assert len(patterns) < len(rows) / 2
    a = bgnbd.fit(rows["x"], rows["t_x"], rows["T"])
    b = bgnbd.fit(patterns["x"], patterns["t_x"], patterns["T"], patterns["size"])
    np.testing.assert_allclose(list(a.params.values()), list(b.params.values()), rtol=1e-6)
    assert a.log_likelihood == pytest.approx(b.log_likelihood, rel=1e-9)


def test_log_likelihood_by_hand_for_two_customers():
    # x=0, T=10 and x=2, t_x=4, T=10 at r=1, α=2, a=1, b=3:
    # customer 1: Γ(1)/Γ(1)·2¹ · B(1,3)/B(1,3) · 12⁻¹            = 2/12
    # customer 2: Γ(3)/Γ(1)·2  · B(1,5)/B(1,3) · [12⁻³ + 1/4 · 6⁻³]
    #           = 2·2 · (1/5)/(1/3) · (1/1728 + 1/864)
    l1 = 2 / 12
    l2 = 4 * (3 / 5) * (1 / 1728 + 1 / 864)
    obj = bgnbd._Objective([0, 2], [0, 4], [10, 10], [1, 1], 0.0)
    ll = obj.log_likelihood({"r": 1.0, "alpha": 2.0, "a": 1.0, "b": 3.0})
    assert ll == pytest.approx(np.log(l1) + np.log(l2), rel=1e-12)


def test_warm_start_from_a_sample_reaches_the_same_optimum(cdnow, monkeypatch):
    cold = bgnbd.fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    monkeypatch.setattr(bgnbd, "WARM_START_ROWS", 300)      # CDNOW's 2,357 rows now start from a 300-row fit
    warm = bgnbd.fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    assert warm.converged
    np.testing.assert_allclose(list(warm.params.values()), list(cold.params.values()), rtol=1e-6)


def test_a_refit_started_from_a_fit_and_its_curvature_reaches_the_same_optimum(cdnow):
    full = bgnbd.fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    assert full.hess_inv is not None and np.all(np.linalg.eigvalsh(full.hess_inv) > 0)
    rows = cdnow.sample(frac=1.0, replace=True, random_state=3)          # a bootstrap resample
    cold = bgnbd.fit(rows["x"], rows["t_x"], rows["T"])
    warm = bgnbd.fit(rows["x"], rows["t_x"], rows["T"], start=full.params, curvature=full.hess_inv)
    assert warm.converged
    np.testing.assert_allclose(list(warm.params.values()), list(cold.params.values()), rtol=1e-6)
    assert warm.log_likelihood == pytest.approx(cold.log_likelihood, abs=1e-6)
    assert warm.iterations < cold.iterations


def test_log_parameter_objective_gives_the_total_log_likelihood_without_the_penalty():
    from journeykit.stats.bgnbd import LogParameterObjective

    class Toy(LogParameterObjective):   # mean NLL 2·p² on 10 customers, plus the penalty
        names, W, pen = ("p",), 10.0, 0.5

        def __call__(self, theta):
            p = float(np.exp(theta[0]))
            return 2 * p * p + self.pen * p * p, np.array([4 * p * p])

    toy = Toy()
    assert toy.log_likelihood({"p": 3.0}) == pytest.approx(-180.0)   # −10 × 2 × 9: no penalty
    assert toy.pen == 0.5                                       # and the penalty is put back
