"""A/B test statistics on counts: the lift between two proportions and its
interval, the two-proportion test, the sample-ratio check and power.

Pure functions of numbers: no datasets, no clients, no report text (the
readouts that apply them to a client's experiments live in
:mod:`journeykit.sections.campaigns.experiments`).

- **Lift**: ``rate(treatment) − rate(control)`` in 0–1 points (``0.05`` =
  +5 pp), with Newcombe's hybrid score interval of the difference (built
  from each arm's Wilson interval; statsmodels
  ``confint_proportions_2indep(method="newcomb")``: the Wald interval
  covers too rarely with the few hundred users per arm of a typical test)
  and the two-sided p-value of the pooled two-proportion z-test
  (statsmodels ``proportions_ztest``). The two come from different
  approximations, so right at the edge (p ≈ 0.05) an interval may just
  touch 0 while the test says significant, or the reverse.
- **Sample-ratio mismatch (SRM)**: chi-square goodness-of-fit test of the
  assigned counts against the planned split (equal unless given).
- **MDE, power, users needed**: on Cohen's h with statsmodels
  ``NormalIndPower`` (two-sided).

References
----------
Newcombe, R. G. (1998). Interval estimation for the difference between
independent proportions: comparison of eleven methods. *Statistics in
Medicine* 17(8), 873–890.

Fabijan, A. et al. (2019). Diagnosing sample ratio mismatch in online
controlled experiments. *KDD '19*.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import stats
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_effectsize, proportions_ztest

ALPHA = 0.05
"""Significance level of a readout (before a multiple-comparison correction)."""
SRM_ALPHA = 0.001
"""A sample-ratio mismatch is flagged when the chi-square p-value is below
this (the usual, strict threshold: a healthy experiment is flagged about
once in a thousand readouts)."""
POWER = 0.8
"""Target power of the MDE and of "users needed"."""


def _finite(x) -> float | None:
    """``x`` as a float, ``None`` when it is missing, NaN or infinite."""
    if x is None:
        return None
    f = float(x)
    return None if math.isnan(f) or math.isinf(f) else f


def two_proportions(x_c: float, n_c: float, x_t: float, n_t: float, alpha: float = ALPHA) -> dict:
    """Compare a treatment's rate ``x_t / n_t`` with the control's ``x_c / n_c``.

    Returns ``lift`` (``p_t − p_c``, 0–1 points), ``relative_lift``
    (``lift / p_c``; ``None`` when ``p_c`` is 0), ``ci_low`` / ``ci_high``
    (Newcombe's ``1 − alpha`` interval of the difference: with each arm's
    Wilson interval ``[l, u]``, ``lift − √((p_t − l_t)² + (u_c − p_c)²)`` …
    ``lift + √((u_t − p_t)² + (p_c − l_c)²)``) and ``p_value`` (two-sided pooled
    two-proportion z-test: ``z = lift / √(p(1−p)(1/n_t + 1/n_c))`` with
    ``p = (x_t + x_c) / (n_t + n_c)``). Every value is ``None`` when either
    arm has no users; ``p_value`` is 1 (and the interval 0 … 0) when both
    rates are 0 or both 1.
    """
    out = {"lift": None, "relative_lift": None, "ci_low": None, "ci_high": None, "p_value": None}
    if not n_c or not n_t:
        return out
    p_c, p_t = x_c / n_c, x_t / n_t
    out["lift"] = p_t - p_c
    out["relative_lift"] = (p_t - p_c) / p_c if p_c else None
    if (x_c + x_t) in (0, n_c + n_t):
        out["p_value"] = 1.0
        out["ci_low"] = out["ci_high"] = 0.0
        return out
    _, p = proportions_ztest([x_t, x_c], [n_t, n_c])
    lo, hi = confint_proportions_2indep(x_t, n_t, x_c, n_c, method="newcomb", compare="diff", alpha=alpha)
    out.update(p_value=_finite(p), ci_low=_finite(lo), ci_high=_finite(hi))
    return out


def bonferroni(p_value: float | None, m: int) -> float | None:
    """A p-value corrected for ``m`` comparisons: ``min(1, m·p)``; ``None``
    stays ``None``. The matching interval level is ``1 − alpha / m``."""
    if p_value is None:
        return None
    return min(1.0, float(p_value) * max(int(m), 1))


def srm_p_value(counts, planned=None) -> float | None:
    """Chi-square goodness-of-fit p-value of assignment ``counts`` (one per
    variant) against the ``planned`` shares (same order; default equal).
    ``None`` with fewer than two variants or no assignments."""
    obs = np.asarray([float(c) for c in counts])
    if len(obs) < 2 or obs.sum() <= 0:
        return None
    shares = np.full(len(obs), 1.0 / len(obs)) if planned is None else np.asarray(planned, float) / np.sum(planned)
    return _finite(stats.chisquare(obs, obs.sum() * shares).pvalue)


def _h_to_rate(p_c: float, h: float) -> float:
    """The rate whose Cohen's h against ``p_c`` is ``h`` (clipped to [0, 1])."""
    a = 2 * math.asin(math.sqrt(p_c)) + h
    a = min(max(a, 0.0), math.pi)
    return math.sin(a / 2) ** 2


def mde(p_c: float | None, n_c: float, n_t: float, alpha: float = ALPHA, power: float = POWER) -> float | None:
    """Minimum detectable (upward) absolute lift over the control's rate
    ``p_c`` with ``n_c`` and ``n_t`` users, two-sided level ``alpha`` and the
    given power: Cohen's h solved with statsmodels ``NormalIndPower``,
    converted back to a rate difference. ``None`` without users or rate,
    or when no lift is detectable (a handful of users: the solver finds no
    effect size)."""
    if p_c is None or not n_c or not n_t:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels warns before it gives up and returns NaN
        h = _finite(NormalIndPower().solve_power(effect_size=None, nobs1=n_c, alpha=alpha, power=power,
                                                 ratio=n_t / n_c, alternative="two-sided"))
    return None if h is None else _h_to_rate(p_c, h) - p_c


def power_at(p_c: float | None, p_t: float | None, n_c: float, n_t: float, alpha: float = ALPHA) -> float | None:
    """Power of the two-sided test at level ``alpha`` to detect the
    difference between ``p_c`` and ``p_t`` with ``n_c`` and ``n_t`` users
    (``alpha`` itself when the rates are equal; ``None`` without users or
    rates)."""
    if p_c is None or p_t is None or not n_c or not n_t:
        return None
    h = abs(float(proportion_effectsize(p_t, p_c)))
    if h == 0:
        return alpha
    return _finite(NormalIndPower().power(effect_size=h, nobs1=n_c, alpha=alpha, ratio=n_t / n_c))


def users_needed(p_c: float | None, p_t: float | None, alpha: float = ALPHA, power: float = POWER) -> float | None:
    """Users per variant (equal arms) to detect the difference between
    ``p_c`` and ``p_t`` with the given power; ``None`` when they are equal
    or unknown, or when the solver finds no size (a difference of 0% against
    100%, detectable with a single user)."""
    if p_c is None or p_t is None:
        return None
    h = abs(float(proportion_effectsize(p_t, p_c)))
    if h == 0:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels warns before it gives up and returns NaN
        return _finite(NormalIndPower().solve_power(effect_size=h, nobs1=None, alpha=alpha, power=power, ratio=1.0))


__all__ = ["ALPHA", "SRM_ALPHA", "POWER", "two_proportions", "bonferroni", "srm_p_value", "mde", "power_at",
           "users_needed"]
