"""BG/NBD maximum likelihood with an analytic gradient, on weighted patterns.

The model is Fader, Hardie & Lee's (2005) beta-geometric / negative
binomial distribution model, as in ``lifetimes.BetaGeoFitter``: for a
customer with ``x`` repeat purchases, the last at ``t_x``, observed for
``T``,

    LL = ln Γ(r+x) − ln Γ(r) + r ln α
       + ln B(a, b+x) − ln B(a, b)
       + ln[ (α+T)^−(r+x) + [x>0] · a/(b+x−1) · (α+t_x)^−(r+x) ]

``lifetimes`` evaluates this through ``autograd`` on every row. Here the
terms that depend on ``x`` alone (gamma and digamma functions) are computed
once per distinct ``x``, ``ln(α+T)`` once per distinct ``T`` and
``ln(α+t_x)`` once per distinct ``t_x``, and the gradient is written out,
so an evaluation costs a few vector operations over the distinct
``(x, t_x, T)`` patterns. The objective is lifetimes' own — time rescaled
so that the longest ``T`` is 1, the weighted mean negative
log-likelihood plus ``penalizer · Σ parameter²`` — so both find the same
parameters (``tests/unit/test_ltv.py`` checks this on
CDNOW against the published values and against lifetimes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import digamma, gammaln

PARAMS = ("r", "alpha", "a", "b")
WARM_START_ROWS = 20_000
"""Above this many rows, the fit starts from the fit on a sample of them."""


@dataclass
class BGNBDResult:
    params: dict[str, float]
    log_likelihood: float
    """Total weighted log-likelihood at ``params`` (without the penalty)."""
    converged: bool
    iterations: int
    message: str
    hess_inv: np.ndarray | None = None
    """BFGS's estimate of the inverse Hessian of the objective in
    log-parameters at the optimum: a refit on similar data starts with it."""


def _dot(u: np.ndarray, v: np.ndarray) -> float:
    """Σ u·v without BLAS: its threads cost more than the sum on a shared
    machine (a 360,000-element ``@`` took 0.2 to 8 ms here, ``einsum`` 0.5)."""
    return float(np.einsum("i,i->", u, v))


def _codes(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sorted distinct values of ``v`` and each element's position among
    them (``np.unique(v, return_inverse=True)``, by hashing: a sort of
    every element costs five times as much on 360,000 patterns)."""
    import pandas as pd

    inv, u = pd.factorize(np.asarray(v, dtype=float), sort=True)
    return np.asarray(u, dtype=float), inv


class LogParameterObjective:
    """An objective in log-parameters as lifetimes writes them: called with
    ``theta`` (the logarithms of ``params``, in ``names`` order), it returns
    the weighted mean negative log-likelihood plus ``pen · Σ parameter²``
    and its gradient; ``W`` is the total weight. Shared by the BG/NBD and
    Gamma-Gamma fitters."""

    names: tuple[str, ...] = ()
    W: float = 0.0
    pen: float = 0.0

    def __call__(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        raise NotImplementedError

    def log_likelihood(self, params: dict[str, float]) -> float:
        """Total weighted log-likelihood at ``params`` (without the penalty)."""
        theta = np.log([params[k] for k in self.names])
        pen, self.pen = self.pen, 0.0
        try:
            return -self(theta)[0] * self.W
        finally:
            self.pen = pen


class _Objective(LogParameterObjective):
    """lifetimes' objective and its gradient in log-parameters. Patterns
    without repeat purchases (x = 0) have only the first term inside the
    logarithm and are kept apart, so no ``-inf`` enters the arithmetic
    (NumPy's special-value paths are ten times slower), and sums are
    element-wise rather than BLAS dot products (which start threads)."""

    names = PARAMS

    def __init__(self, x, t_x, T, w, penalizer: float):
        x = np.asarray(x, dtype=float)
        t_x = np.asarray(t_x, dtype=float)
        T = np.asarray(T, dtype=float)
        w = np.asarray(w, dtype=float)
        self.W = float(w.sum())
        self.pen = penalizer
        self.ux, ix = _codes(x)
        self.wx = np.bincount(ix, weights=w, minlength=len(self.ux))   # weight per distinct x
        pos = x > 0
        # x = 0: ln(α+T) per distinct T, with the weight of each T
        self.uT0, iT0 = _codes(T[~pos])
        self.wT0 = np.bincount(iT0, weights=w[~pos], minlength=len(self.uT0))
        # x > 0: the patterns themselves, with ln(α+T), ln(α+t_x) and
        # ln[a/(b+x−1)] computed per distinct T, t_x and x and gathered
        # (a take is several times cheaper than a logarithm)
        self.xp, self.wp = x[pos], w[pos]
        self.wxp = self.wp * self.xp
        self.uTp, self.iTp = _codes(T[pos])
        self.utp, self.itp = _codes(t_x[pos])
        self.uxp, self.ixp = _codes(self.xp)

    def __call__(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        r, alpha, a, b = np.exp(theta)
        ux, wx = self.ux, self.wx
        # terms in x alone, summed with the weight of each distinct x
        ll = float(wx @ (gammaln(r + ux) - gammaln(r) + r * np.log(alpha)
                         + gammaln(a + b) + gammaln(b + ux) - gammaln(b) - gammaln(a + b + ux)))
        g_r = float(wx @ (digamma(r + ux) - digamma(r) + np.log(alpha)))
        g_alpha = self.W * r / alpha
        g_a = float(wx @ (digamma(a + b) - digamma(a + b + ux)))
        g_b = float(wx @ (digamma(a + b) + digamma(b + ux) - digamma(b) - digamma(a + b + ux)))
        # x = 0: ln[(α+T)^-r]
        lT0 = np.log(alpha + self.uT0)
        ll -= r * float(self.wT0 @ lT0)
        g_r -= float(self.wT0 @ lT0)
        g_alpha -= r * float(self.wT0 @ (1.0 / (alpha + self.uT0)))
        # x > 0: ln[(α+T)^-(r+x) + a/(b+x-1) (α+t_x)^-(r+x)]
        #      = A3 + ln(1 + e^d), A3 = −(r+x) ln(α+T), d = ln[a/(b+x−1)] + (r+x)[ln(α+T) − ln(α+t_x)]
        w, wx_ = self.wp, self.wxp
        aTu, atu = alpha + self.uTp, alpha + self.utp
        lT = np.take(np.log(aTu), self.iTp)
        dl = lT - np.take(np.log(atu), self.itp)
        d = np.take(np.log(a / (b + self.uxp - 1.0)), self.ixp)
        rx = r + self.xp
        d += rx * dl
        e = np.exp(-np.abs(d))                 # in (0, 1]: no overflow either way
        up = d > 0
        s4 = e + up * (1.0 - e)                # share of the second term: s4 / (1 + e)
        ope = 1.0 + e
        s4 /= ope
        np.maximum(d, 0.0, out=d)
        d += np.log1p(e)                       # ln(1 + e^d)
        w_lT = _dot(w, lT)
        ll += _dot(w, d) - r * w_lT - _dot(wx_, lT)
        ws4 = w * s4
        # ln(α+T) has weight ws3 = w − ws4 and ln(α+t_x) weight ws4
        g_r -= w_lT - _dot(ws4, dl)
        rws4 = rx * ws4
        g_alpha -= _dot(np.bincount(self.iTp, r * w + wx_ - rws4, len(aTu)), 1.0 / aTu) \
            + _dot(np.bincount(self.itp, rws4, len(atu)), 1.0 / atu)
        g_a += float(ws4.sum()) / a
        g_b -= _dot(np.bincount(self.ixp, ws4, len(self.uxp)), 1.0 / (b + self.uxp - 1.0))
        p = np.exp(theta)
        value = -ll / self.W + self.pen * float(p @ p)
        grad = -np.array([g_r * r, g_alpha * alpha, g_a * a, g_b * b]) / self.W + 2 * self.pen * p * p
        return value, grad


def fit(frequency, recency, T, weights=None, *, penalizer: float = 0.0, tol: float = 1e-8,
        maxiter: int = 2000, start: dict | None = None, curvature: np.ndarray | None = None) -> BGNBDResult:
    """Fit BG/NBD by maximum likelihood on (weighted) customers or patterns.

    Parameters
    ----------
    frequency, recency, T : array-like
        Repeat purchases ``x``, time of the last purchase ``t_x`` and
        observation length ``T``, in one time unit, as in lifetimes.
    weights : array-like, optional
        How many customers share each row (one each when absent).
    penalizer : float
        lifetimes' ``penalizer_coef``: adds ``penalizer · Σ θ²``.
    start : dict, optional
        Parameters (``r, alpha, a, b``, alpha in the data's time unit) to
        start from: a fit on similar data, e.g. the full fit for a
        bootstrap refit. Without it, the search starts from 1 for every
        parameter (lifetimes' start), or from the fit on a sample of the
        rows when there are more than :data:`WARM_START_ROWS`.
    curvature : ndarray, optional
        With ``start``: the ``hess_inv`` of that fit (the objective is a
        weighted mean, so similar data have a similar curvature): BFGS then
        needs a few steps instead of learning it again.

    Returns
    -------
    BGNBDResult
        ``converged`` is False when the optimizer stopped without meeting
        its tolerance or ended on a non-finite value: never use such
        parameters as if fitted.
    """
    x = np.asarray(frequency, dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    T = np.asarray(T, dtype=float)
    recency = np.asarray(recency, dtype=float)
    scale = 1.0 / T.max()           # as lifetimes: only α depends on the time unit
    obj = _Objective(x, recency * scale, T * scale, w, penalizer)
    options = {"gtol": tol, "maxiter": maxiter}
    given = start is not None
    start = np.log([float(start[k]) * (scale if k == "alpha" else 1.0) for k in PARAMS]) if given else np.zeros(4)
    if not given and len(x) > WARM_START_ROWS:
        # Start from the fit on an evenly spaced sample of the rows (the
        # objective is a weighted mean): the full fit then needs a few
        # iterations only.
        # The optimum found is the full data's, to the same tolerance.
        pick = np.linspace(0, len(x) - 1, WARM_START_ROWS).astype(int)
        sample = _Objective(x[pick], recency[pick] * scale, T[pick] * scale, w[pick], penalizer)
        with np.errstate(over="ignore", invalid="ignore"):
            first = minimize(sample, start, jac=True, method="BFGS", options={"gtol": 1e-6, "maxiter": maxiter})
        if np.all(np.isfinite(first.x)):
            start = first.x
            # The objective is a mean, so the sample's curvature is the full
            # data's to sampling error: BFGS started from it as well as from
            # the sample's optimum needs fewer full evaluations.
            if _positive_definite(first.hess_inv):
                options["hess_inv0"] = (first.hess_inv + first.hess_inv.T) / 2
    if given and _positive_definite(curvature):
        options["hess_inv0"] = curvature
    with np.errstate(over="ignore", invalid="ignore"):
        res = minimize(obj, start, jac=True, method="BFGS", options=options)
    params = {k: float(v) for k, v in zip(PARAMS, np.exp(res.x))}
    ok = bool(np.isfinite(res.fun) and all(np.isfinite(v) and v > 0 for v in params.values()))
    # BFGS reports "precision loss" when the gradient is already below what
    # float64 can resolve; accept that if the gradient is small.
    grad_ok = bool(np.all(np.abs(res.jac) < 1e-5))
    converged = ok and (res.success or grad_ok)
    # In the original time unit: with α and every time divided by s, each
    # customer's likelihood is a density in time that gains s^x, so
    # LL = LL_scaled + Σ w·x·ln s (no second pass over the patterns).
    # (without a penalty, the objective's value at the optimum is the mean negative log-likelihood)
    ll_scaled = -float(res.fun) * obj.W if penalizer == 0 else obj.log_likelihood(params)
    ll = ll_scaled + _dot(w, x) * np.log(scale) if ok else float("nan")
    params["alpha"] /= scale
    H = getattr(res, "hess_inv", None)
    return BGNBDResult(params, ll, converged, int(res.nit), str(res.message),
                       (H + H.T) / 2 if _positive_definite(H) else None)


def _positive_definite(H) -> bool:
    """Whether ``H`` is a finite symmetric-positive-definite matrix (after symmetrising)."""
    if H is None:
        return False
    H = np.asarray(H, dtype=float)
    return bool(H.ndim == 2 and np.all(np.isfinite(H)) and np.linalg.eigvalsh((H + H.T) / 2).min() > 0)
