"""Gamma-Gamma maximum likelihood with an analytic gradient, on weighted
(frequency, monetary value) pairs.

The model is Fader & Hardie's (2013) Gamma-Gamma model of spend per
transaction, as in ``lifetimes.GammaGammaFitter``: a customer with ``x``
repeat transactions of mean value ``m`` contributes (equation 1a)

    LL = ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln v + (px−1) ln m
       + px ln x − (px+q) ln(xm + v)

``lifetimes`` evaluates this through ``autograd`` on every row and then
computes an autograd Hessian it does not need for the estimates. Here the
log-likelihood is summed over the distinct ``(x, m)`` pairs with the number
of customers of each as weight, and its gradient is written out:

    ∂LL/∂p = x [ψ(px+q) − ψ(px) + ln m + ln x − ln(xm+v)]
    ∂LL/∂q = ψ(px+q) − ψ(q) + ln v − ln(xm+v)
    ∂LL/∂v = q/v − (px+q)/(xm+v)

The objective is lifetimes' own — the weighted mean negative
log-likelihood in log-parameters plus ``penalizer · Σ parameter²``, BFGS
from ``0.1`` in each log-parameter (or a given start) with ``gtol`` 1e-7 —
so both find the same parameters (``tests/unit/test_gammagamma.py`` checks
this on CDNOW against lifetimes and the published values).

References
----------
Fader, P. S. and Hardie, B. G. S. (2013), "The Gamma-Gamma Model of
Monetary Value", http://brucehardie.com/notes/025/.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import digamma, gammaln

from journeykit.stats.bgnbd import LogParameterObjective

PARAMS = ("p", "q", "v")


@dataclass
class GammaGammaResult:
    params: dict[str, float]
    log_likelihood: float
    """Total weighted log-likelihood at ``params`` (without the penalty)."""
    converged: bool
    iterations: int
    message: str


class _Objective(LogParameterObjective):
    """lifetimes' objective (weighted mean negative log-likelihood plus the
    penalty) and its gradient, in log-parameters. Terms that do not depend
    on the parameters (``ln m``, ``ln x``) are computed once, the gamma and
    digamma terms once per distinct ``x``. (Summing those per distinct ``x``
    as well, rather than per pair, loses enough precision on large amounts
    that BFGS stopped on "precision loss" in 8 of the demo's 100 bootstrap
    refits: the sums stay per pair.)"""

    names = PARAMS

    def __init__(self, frequency, monetary_value, weights, penalizer: float):
        self.x = np.asarray(frequency, dtype=float)
        self.m = np.asarray(monetary_value, dtype=float)
        self.w = np.asarray(weights, dtype=float)
        self.W = float(self.w.sum())
        self.pen = float(penalizer)
        self.xm = self.x * self.m
        self.lm = np.log(self.m)
        self.lx = np.log(self.x)
        self.wx = self.w * self.x
        self.c_p = self.lm + self.lx            # ln m + ln x, in ∂/∂p
        # the gamma and digamma terms depend on x alone: computed per
        # distinct x and gathered (the same numbers, bit for bit)
        self.ux, inv = np.unique(self.x, return_inverse=True)
        self.ix = inv.ravel()

    def __call__(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        p, q, v = np.exp(theta)
        x, w, ix = self.x, self.w, self.ix
        px = p * x
        pxq = px + q
        pu = p * self.ux
        puq = pu + q
        lxv = np.log(self.xm + v)
        ll = float(w @ (gammaln(puq)[ix] - gammaln(pu)[ix] + (px - 1.0) * self.lm + px * self.lx - pxq * lxv)) \
            + self.W * (q * np.log(v) - gammaln(q))
        dg = digamma(puq)[ix]
        g_p = float(self.wx @ (dg - digamma(pu)[ix] + self.c_p - lxv))
        g_q = float(w @ (dg - lxv)) + self.W * (np.log(v) - digamma(q))
        g_v = self.W * q / v - float(w @ (pxq / (self.xm + v)))
        par = np.array([p, q, v])
        value = -ll / self.W + self.pen * float(par @ par)
        grad = -np.array([g_p * p, g_q * q, g_v * v]) / self.W + 2 * self.pen * par * par
        return value, grad


def fit(frequency, monetary_value, weights=None, *, penalizer: float = 0.0, start=None,
        tol: float = 1e-7) -> GammaGammaResult:
    """Fit Gamma-Gamma by maximum likelihood on (weighted) customers or
    distinct (frequency, monetary value) pairs.

    Parameters
    ----------
    frequency : array-like
        Repeat transactions ``x`` of each row (all > 0).
    monetary_value : array-like
        Mean value ``m`` of those transactions (currency; all > 0).
    weights : array-like, optional
        How many customers share each row (one each when absent).
    penalizer : float
        lifetimes' ``penalizer_coef``: adds ``penalizer · Σ θ²`` (θ = p, q, v).
    start : dict, optional
        Parameters to start from (a fit on similar data); lifetimes' start
        ``exp(0.1)`` for each otherwise.

    Returns
    -------
    GammaGammaResult
        ``converged`` is False when BFGS stopped without meeting its
        tolerance (lifetimes raises ``ConvergenceError`` then) or ended on a
        non-finite value: never use such parameters as if fitted.
    """
    x = np.asarray(frequency, dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    obj = _Objective(x, monetary_value, w, penalizer)
    x0 = 0.1 * np.ones(3) if start is None else np.log([float(start[k]) for k in PARAMS])
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        res = minimize(obj, x0, jac=True, method="BFGS", tol=tol)
    params = {k: float(v) for k, v in zip(PARAMS, np.exp(res.x))}
    ok = bool(np.isfinite(res.fun) and all(np.isfinite(v) and v > 0 for v in params.values()))
    # as lifetimes: only BFGS's own success counts. A "precision loss" stop
    # is typically a search running off to a boundary (p → ∞, v → 0 on a
    # dozen customers), which the penalized retry then resolves.
    converged = ok and bool(res.success)
    ll = obj.log_likelihood(params) if ok else float("nan")
    return GammaGammaResult(params, ll, converged, int(res.nit), str(res.message))


__all__ = ["PARAMS", "GammaGammaResult", "fit"]
