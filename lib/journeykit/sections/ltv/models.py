"""The purchase and spend models: lifetimes' fitters, contained, fitted on
weighted patterns, checked (convergence, degenerate estimates), and their
predictions.

Transaction models (fitted on the distinct (frequency, recency, T) triples
with ``weights`` = customers per triple): BG/NBD (``bgnbd``, through
:mod:`journeykit.stats.bgnbd`), Pareto/NBD (``pareto_nbd``, seeded), and
modified BG/NBD (``mbgnbd``); Gamma-Gamma for spend per purchase day.

Each fit ends in one status (:attr:`Fit.status`):

- ``ok``: converged without help;
- ``penalized``: converged only with the small penalizer :data:`PENALIZER`;
- ``degenerate``: the optimizer stopped, but on estimates at the edge of the
  parameter space (a shape parameter below :data:`SHAPE_MIN` or above
  :data:`SHAPE_MAX`, a scale parameter likewise relative to the observed
  span, a non-finite log-likelihood, or non-finite predictions). Typical of
  a short history (BG/NBD with a ≈ b ≈ 1e-11 on four months of orders):
  such a model describes no customer base and is never used;
- ``failed``: no convergence, even with the penalizer.

References
----------
Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005), "Counting Your
Customers the Easy Way: An Alternative to the Pareto/NBD Model",
Marketing Science 24(2), 275–284.
Fader, P. S. and Hardie, B. G. S. (2013), "The Gamma-Gamma Model of
Monetary Value", http://brucehardie.com/notes/025/.
Schmittlein, D. C., Morrison, D. G. and Colombo, R. (1987), "Counting Your
Customers: Who Are They and What Will They Do Next?", Management Science 33(1).
Batislam, E. P., Denizel, M. and Filiztekin, A. (2007), "Empirical
validation and comparison of models for customer base analysis",
International Journal of Research in Marketing 24(3) (MBG/NBD).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import io as _io
import math
import time
import warnings

import numpy as np
import pandas as pd

from journeykit.sections.ltv.summary import MONTH_DAYS, unit_days
from journeykit.stats import bgnbd, gammagamma

MODELS = ("bgnbd", "pareto_nbd", "mbgnbd")
"""Transaction models, in the order they are shown."""

PARAM_NAMES = {"bgnbd": ("r", "alpha", "a", "b"), "mbgnbd": ("r", "alpha", "a", "b"),
               "pareto_nbd": ("r", "alpha", "s", "beta"), "gamma_gamma": ("p", "q", "v")}
"""Each model's parameters, in lifetimes' order."""

SCALE_PARAMS = ("alpha", "beta")
"""Transaction-model parameters measured in time (the others are shapes)."""

PENALIZER = 0.001
"""Penalizer of the retry after a convergence failure (lifetimes' L2 term)."""

SEED = 20050301
"""Seed of the Pareto/NBD starting values (lifetimes draws them at random)."""

PARETO_MAXITER = 3000
"""Nelder-Mead iterations allowed to a Pareto/NBD fit. It converges in 246
on CDNOW and in about 360 on the 20,000-customer demo; a fit that has not
converged by 3,000 is stuck at a boundary (e.g. every customer long
silent), and each further 1,000 iterations cost seconds per thousand
patterns — twice, with the penalized retry."""

PARETO_S_MAX = 30.0
"""Largest credible Pareto/NBD dropout shape ``s``. As ``s`` grows (with β
in proportion) the customers' dropout rates become all alike: the
likelihood flattens into a ridge towards ``s → ∞`` (typical of a few months
of data), and each evaluation gets slower (lifetimes' Gauss hypergeometric
series needs about ``r + s + x`` terms: 0.4 ms per evaluation at ``s = 1``,
9 ms at ``s = 100`` on 400 patterns), until the log-likelihood overflows.
A fit whose search passes ``s`` = 30 (a coefficient of variation of the
dropout rates under 0.2) is stopped there and marked ``degenerate``: on a
small client's four months this took 8.4 s per fit, and a report fits
Pareto/NBD three times plus its bootstrap refits."""

PARETO_SAMPLE_ROWS = 1500
"""Above this many patterns, a Pareto/NBD fit without a given start starts
from a rough fit (tolerance 1e-3) on this many evenly spaced patterns:
Nelder-Mead then needs about half the evaluations of the full data that
lifetimes' random start costs, and ends at the same optimum to its
tolerance."""

SHAPE_MIN, SHAPE_MAX = 1e-6, 1e4
"""Bounds of a credible estimate: a shape parameter (r, a, b, s; p, q), or a
scale parameter divided by the longest observation (α, β over max T; v
over the mean spend), outside them marks the fit ``degenerate``."""

MIN_REPEAT_CUSTOMERS = 10
"""Fewest repeat customers needed to fit Gamma-Gamma."""


# --------------------------------------------------------------------------
# lifetimes, contained
# --------------------------------------------------------------------------

@contextlib.contextmanager
def _quiet():
    """Run lifetimes code without letting it change the process: its import
    and its likelihood functions turn FutureWarnings off for the whole
    process (restored on exit), a failed fit prints the optimizer's state
    to stdout (swallowed), and overflow warnings of a diverging fit are
    not the reader's concern (convergence is checked instead)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with contextlib.redirect_stdout(_io.StringIO()):
            yield


_LT: dict = {}


def _lifetimes():
    """The lifetimes fitters, imported once inside :func:`_quiet`."""
    if not _LT:
        with _quiet():
            from lifetimes import BetaGeoFitter, GammaGammaFitter, ModifiedBetaGeoFitter, ParetoNBDFitter
            from lifetimes.utils import ConvergenceError
            from scipy.optimize import minimize

        class SeededParetoNBDFitter(ParetoNBDFitter):
            """Pareto/NBD with seeded starting values and a convergence flag
            (lifetimes draws unseeded starts and never checks the optimizer)."""

            seed = SEED
            s_max = PARETO_S_MAX

            def _fit(self, args, iterative_fitting, initial_params, params_size, disp, tol=1e-6,
                     fit_method="Nelder-Mead", maxiter=2000, **kwargs):
                rng = np.random.default_rng(self.seed)
                best, self.boundary_ = None, None

                def ridge(intermediate_result):
                    # the search is heading for s → ∞ (see PARETO_S_MAX): stop
                    if intermediate_result.x[2] > self.s_max:
                        raise StopIteration

                objective = _ParetoObjective(*args)
                for _ in range(max(1, iterative_fitting)):
                    x0 = rng.normal(1.0, 0.05, params_size) if initial_params is None else initial_params
                    out = minimize(objective, method=fit_method, tol=tol, x0=x0,
                                   callback=ridge, options={"disp": disp, "maxiter": maxiter, **kwargs})
                    if best is None or out.fun < best.fun:
                        best = out
                self.success_ = bool(best.success) and bool(np.isfinite(best.fun))
                if best.x[2] > self.s_max:
                    # a boundary, not a failure: kept for the record, marked degenerate
                    self.boundary_ = f"s > {self.s_max:g}"
                    self.success_ = bool(np.isfinite(best.fun))
                return best.x, best.fun

        _LT.update(bgnbd=BetaGeoFitter, mbgnbd=ModifiedBetaGeoFitter, pareto_nbd=SeededParetoNBDFitter,
                   gamma_gamma=GammaGammaFitter, ConvergenceError=ConvergenceError)
    return _LT


class _ParetoObjective:
    """lifetimes' Pareto/NBD objective (``ParetoNBDFitter._negative_log_likelihood``:
    the weighted negative log-likelihood over the mean weight, plus the
    penalty; ``inf`` outside the positive orthant), evaluated with the same
    operations in the same order, so Nelder-Mead takes the same path to the
    same parameters. What differs: of its two Gauss hypergeometric terms
    (Fader & Hardie's note 009, eq. 19-20), which cost nearly the whole
    evaluation, the first depends only on ``(x, t_x)`` and the second only
    on ``(x, T)``: each is computed once per distinct pair and gathered."""

    def __init__(self, freq, rec, T, weights, penalizer_coef):
        self.x, self.rec, self.T = (np.asarray(v, dtype=float) for v in (freq, rec, T))
        self.w = np.asarray(weights)
        self.wmean = self.w.mean()
        self.pen = penalizer_coef
        self.x1, self.rec1, self.i1 = _distinct_pairs(self.x, self.rec)
        self.x2, self.T2, self.i2 = _distinct_pairs(self.x, self.T)

    def __call__(self, params) -> float:
        from scipy.special import gammaln, hyp2f1

        if np.any(np.asarray(params) <= 0.0):
            return np.inf
        r, alpha, s, beta = params
        x, rec, T = self.x, self.rec, self.T
        r_s_x = r + s + x
        A_1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        # _log_A_0, with the hypergeometric terms per distinct pair
        if alpha < beta:
            lo, hi = alpha, beta
            t1, t2 = r + self.x1, r + self.x2
        else:
            lo, hi = beta, alpha
            t1 = t2 = s + 1
        d = hi - lo
        rsf1, rsf2 = r + s + self.x1, r + s + self.x2
        p_1 = hyp2f1(rsf1, t1, rsf1 + 1.0, d / (hi + self.rec1))[self.i1]
        p_2 = hyp2f1(rsf2, t2, rsf2 + 1.0, d / (hi + self.T2))[self.i2]
        q_1, q_2 = hi + rec, hi + T
        # log(e^A − e^B) as lifetimes' logsumexp(..., b=[1, −1]) computes it
        # (A ≥ B; NaN otherwise, as there), without its general machinery
        A = np.log(p_1) + r_s_x * np.log(q_2)
        B = np.log(p_2) + r_s_x * np.log(q_1)
        with np.errstate(divide="ignore", invalid="ignore"):   # A = B (t_x = T): log 0 = −inf, as there
            log_A_0 = A + np.log1p(-np.exp(B - A)) - r_s_x * np.log(q_1 * q_2)
        A_2 = np.logaddexp(-(r + x) * np.log(alpha + T) - s * np.log(beta + T), np.log(s) + log_A_0 - np.log(r_s_x))
        ll = A_1 + A_2
        return -(self.w * ll).sum() / self.wmean + self.pen * sum(np.asarray(params) ** 2)


# --------------------------------------------------------------------------
# A fit and its status
# --------------------------------------------------------------------------

@dataclasses.dataclass
class Fit:
    """One fitted model. ``model`` is the lifetimes fitter (``None`` when it
    did not converge even with the penalizer); ``penalizer`` is 0 for a
    plain fit and :data:`PENALIZER` when the retry was needed;
    ``degenerate`` says why converged estimates are not credible (``None``
    when they are)."""

    name: str
    model: object | None
    params: dict | None
    log_likelihood: float | None
    penalizer: float
    converged: bool
    seconds: float
    n_rows: int
    n_customers: int
    scale: float = 1.0
    degenerate: str | None = None
    curvature: np.ndarray | None = None
    """BG/NBD: the optimizer's inverse Hessian at the estimate
    (log-parameters), for refits on similar data (the bootstrap). Not used
    for Gamma-Gamma: started with it, BFGS stopped on "precision loss" in 4
    of the demo's 100 refits."""

    @property
    def usable(self) -> bool:
        """Whether the fit may be used for predictions: converged, not degenerate."""
        return self.model is not None and self.converged and self.degenerate is None

    @property
    def predictor(self):
        """The model for predictions, evaluated on rescaled time (see
        :class:`_Rescaled`); ``None`` unless :attr:`usable`."""
        return _Rescaled(self.model, self.scale, self.name) if self.usable else None

    @property
    def status(self) -> str:
        """``ok``, ``penalized``, ``degenerate`` or ``failed``."""
        if not self.converged or self.model is None:
            return "failed"
        if self.degenerate is not None:
            return "degenerate"
        return "penalized" if self.penalizer else "ok"


STATUSES = ("ok", "penalized", "degenerate", "failed")
"""Fit statuses, best first."""


def bgnbd_conditional_expected(params: dict, t, x, t_x, T) -> np.ndarray:
    """BG/NBD expected repeat purchases in the next ``t`` of a customer with
    history (``x``, ``t_x``, ``T``): equation (10) of Fader, Hardie & Lee
    (2005), as lifetimes' ``BetaGeoFitter``, but sign-aware. lifetimes takes
    the logarithm of the Gauss hypergeometric term, which is negative when
    ``a + b + x < 1`` (a credible estimate: a small dropout probability with
    much heterogeneity), and so returns NaN for every one-time buyer; here
    its sign is kept apart from its logarithm."""
    from scipy.special import hyp2f1

    r, alpha, a, b = (float(params[k]) for k in PARAM_NAMES["bgnbd"])
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    t = np.asarray(t, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        den = 1 + (x > 0) * (a / np.where(x > 0, b + x - 1, 1.0)) * ((alpha + T) / (alpha + t_x)) ** (r + x)
        if x.ndim == 1 and x.shape == T.shape and len(x) > 1:
            # the numerator depends on (x, T) only: once per distinct pair
            ux, uT, inv = _distinct_pairs(x, T)
            num = _bgnbd_numerator(r, alpha, a, b, t, ux, uT)[..., inv]
        else:
            num = _bgnbd_numerator(r, alpha, a, b, t, x, T)
    return num / den


def _distinct_pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct pairs ``(a[i], b[i])`` of two equally long 1-d arrays,
    sorted, and each row's pair: ``(ua, ub, inv)`` with ``a == ua[inv]``
    and ``b == ub[inv]`` (``np.unique(..., axis=0)`` does the same ten times
    slower, a lexicographic sort three times)."""
    if not len(a):
        return a[:0], b[:0], np.zeros(0, dtype=int)
    # hashing (pd.factorize), then sorting only the distinct values
    ia, ua = pd.factorize(a, sort=True)
    ib, ub = pd.factorize(b, sort=True)
    inv, uk = pd.factorize(ia.astype(np.int64) * len(ub) + ib, sort=True)
    return np.asarray(ua)[uk // len(ub)], np.asarray(ub)[uk % len(ub)], inv


def _bgnbd_numerator(r, alpha, a, b, t, x, T):
    """The numerator of :func:`bgnbd_conditional_expected` (the expectation
    of a customer still alive at ``T``), broadcast over ``t``, ``x`` and ``T``."""
    from scipy.special import hyp2f1

    x, T, t = np.broadcast_arrays(x, T, t)
    _a, _b, _c = r + x, b + x, a + b + x - 1
    z = t / (alpha + T + t)
    h = hyp2f1(_a, _b, _c, z)
    sign = np.array(np.sign(h), dtype=float)          # arrays even for scalar inputs
    ln_h = np.array(np.log(np.abs(h)), dtype=float)
    # where the series overflows, Euler's transformation: 2F1(a, b; c; z) =
    # (1 − z)^(c−a−b) 2F1(c−a, c−b; c; z), with the power kept in
    # logarithms (evaluated only there: each hyp2f1 is costly)
    bad = ~np.isfinite(h)
    if bad.any():
        ca, cb, cc, zz = _c[bad] - _a[bad], _c[bad] - _b[bad], _c[bad], z[bad]
        h_alt = hyp2f1(ca, cb, cc, zz)
        sign[bad] = np.sign(h_alt)
        ln_h[bad] = np.log(np.abs(h_alt)) + (cc - _a[bad] - _b[bad]) * np.log1p(-zz)
    second = 1 - sign * np.exp(ln_h + (r + x) * np.log((alpha + T) / (alpha + t + T)))
    return (a + b + x - 1) / (a - 1) * second


class _Rescaled:
    """A fitted transaction model whose predictions are computed on time
    multiplied by ``c`` (with its scale parameters α, β multiplied by ``c``):
    the same numbers mathematically, but the Pareto/NBD terms no longer
    overflow for very frequent buyers (lifetimes issue #25). lifetimes fits
    on the same rescaled time. BG/NBD's conditional expectation is
    :func:`bgnbd_conditional_expected` (lifetimes' is NaN when a + b < 1)."""

    def __init__(self, model, c: float, name: str | None = None):
        self.c = float(c)
        self.name = name
        self.m = copy.copy(model)
        self.m.params_ = model.params_.copy()
        for k in SCALE_PARAMS:
            if k in self.m.params_:
                self.m.params_[k] = self.m.params_[k] * self.c

    def conditional_expected_number_of_purchases_up_to_time(self, t, f, r, T):
        if self.name == "bgnbd":
            return bgnbd_conditional_expected(dict(self.m.params_), t * self.c, f, r * self.c, T * self.c)
        return self.m.conditional_expected_number_of_purchases_up_to_time(t * self.c, f, r * self.c, T * self.c)

    def conditional_probability_alive(self, f, r, T):
        return self.m.conditional_probability_alive(f, r * self.c, T * self.c)

    def expected_number_of_purchases_up_to_time(self, t):
        return self.m.expected_number_of_purchases_up_to_time(np.asarray(t) * self.c)

    def probability_of_n_purchases_up_to_time(self, t, n):
        return self.m.probability_of_n_purchases_up_to_time(t * self.c, n)

    def conditional_probability_of_n_purchases_up_to_time(self, n, t, f, r, T):
        return self.m.conditional_probability_of_n_purchases_up_to_time(n, t * self.c, f, r * self.c, T * self.c)


def _time_scale(T) -> float:
    T = np.asarray(T, dtype=float)
    return 10.0 / float(T.max()) if len(T) and T.max() > 0 else 1.0


def degenerate_reason(name: str, params: dict, span: float, log_likelihood: float | None) -> str | None:
    """Why converged estimates are not credible, or ``None`` when they are.

    ``span`` is the scale the model's scale parameter is measured against:
    the longest observation ``max T`` (in the data's time unit) for a
    transaction model, the mean spend per repeat purchase day for
    Gamma-Gamma (``v``). A parameter is degenerate when it, or a scale
    parameter divided by ``span``, lies outside
    [:data:`SHAPE_MIN`, :data:`SHAPE_MAX`]: the estimate sits at a boundary
    of the parameter space (no heterogeneity left, or all of it) rather
    than at an interior optimum. A non-finite log-likelihood is degenerate
    too. The reason names the first offending value, e.g. ``"a = 1e-11"``.
    """
    if log_likelihood is None or not math.isfinite(log_likelihood):
        return "log-likelihood not finite"
    for k in PARAM_NAMES[name]:
        v = float(params[k])
        rel = v / span if k in (*SCALE_PARAMS, "v") and span and span > 0 else v
        if not math.isfinite(rel) or not (SHAPE_MIN <= rel <= SHAPE_MAX):
            return f"{k} = {v:.3g}"
    return None


def _log_likelihood(name: str, params: dict, f, r, T, w) -> float:
    """The model's log-likelihood in the data's own time unit, summed over
    customers (lifetimes reports a per-customer mean on rescaled time).

    It is evaluated, like the fit, on time rescaled by ``c = 10 / max(T)``
    (the Pareto/NBD terms overflow for very frequent buyers otherwise,
    lifetimes issue #25) and brought back to the data's unit: rescaling
    time by ``c`` divides the density of each of a customer's ``x``
    purchase times by ``c``, so ``LL = LL_c + Σ w·x·log c``.
    """
    L = _lifetimes()
    f, r, T, w = (np.asarray(x, dtype=float) for x in (f, r, T, w))
    c = _time_scale(T)
    p = {k: v * c if k in SCALE_PARAMS else v for k, v in params.items()}
    p = np.array([p[k] for k in PARAM_NAMES[name]], dtype=float)
    with _quiet():
        if name == "pareto_nbd":
            ll = float((w * L["pareto_nbd"]._conditional_log_likelihood(p, f, r * c, T * c)).sum())
        else:
            ll = float(-L[name]._negative_log_likelihood(np.log(p), f, r * c, T * c, w, 0.0) * w.sum())
    return ll + float((w * f).sum() * math.log(c))


# --------------------------------------------------------------------------
# Fitting
# --------------------------------------------------------------------------

def _start(name: str, params: dict | None, T) -> np.ndarray | None:
    """lifetimes' starting point for ``name`` at ``params`` (a previous fit):
    scale parameters on lifetimes' time scale (max T = 1), in logarithms for
    the fitters that search in them (MBG/NBD, Gamma-Gamma)."""
    if not params:
        return None
    sc = 1.0 / float(np.max(T)) if name != "gamma_gamma" and len(T) and np.max(T) > 0 else 1.0
    v = np.array([params[k] * (sc if k in SCALE_PARAMS else 1.0) for k in PARAM_NAMES[name]], dtype=float)
    return v if name == "pareto_nbd" else np.log(v)


def _pareto_sample_fit(f, r, T, w, penalizer: float, maxiter: int) -> dict | None:
    """Pareto/NBD parameters (data's time unit) of a rough fit on
    :data:`PARETO_SAMPLE_ROWS` evenly spaced patterns, or ``None`` when it
    fails or heads for the ``s`` boundary (the full fit then starts as
    lifetimes does)."""
    L = _lifetimes()
    pick = np.linspace(0, len(f) - 1, PARETO_SAMPLE_ROWS).astype(int)
    m = L["pareto_nbd"](penalizer_coef=penalizer)
    try:
        with _quiet():
            m.fit(f[pick], r[pick], T[pick], weights=w[pick], tol=1e-3, maxiter=maxiter)
    except (L["ConvergenceError"], ValueError, FloatingPointError, np.linalg.LinAlgError):
        return None
    params = {k: float(m.params_[k]) for k in PARAM_NAMES["pareto_nbd"]}
    if not m.success_ or m.boundary_ or not all(np.isfinite(v) and v > 0 for v in params.values()):
        return None
    return params


def fit_transactions(name: str, tr: pd.DataFrame, start: dict | None = None, penalizers=(0.0, PENALIZER),
                     maxiter: int = PARETO_MAXITER, curvature: np.ndarray | None = None,
                     check_predictions: bool = True) -> Fit:
    """Fit one transaction model (``bgnbd``, ``pareto_nbd``, ``mbgnbd``) on
    the patterns ``tr`` (:func:`journeykit.sections.ltv.summary.triples`),
    weighted by customers. ``start``: parameters to start the search from
    (a fit on similar data: the bootstrap refits start from the full fit,
    the full fit from the calibration fit); without it, lifetimes' start
    (BG/NBD: its own sample fit on many patterns).
    ``penalizers``: the penalizers tried in turn; ``maxiter``: Pareto/NBD's
    iterations (a bootstrap refit from the optimum needs far fewer);
    ``curvature``: BG/NBD, with ``start``, that fit's :attr:`Fit.curvature`;
    ``check_predictions=False``: the caller checks the predictions it uses
    itself (the bootstrap: its discounted purchases), so they are not
    computed twice.

    A fit that does not converge is retried once with the penalizer
    :data:`PENALIZER`; a fit that fails both times is returned with
    ``converged=False`` and no model, never as if it had converged. A
    converged fit whose estimates are degenerate (:func:`degenerate_reason`,
    or predictions on the fitted patterns that are not finite) keeps its
    parameters for the record and is marked so (:attr:`Fit.status`).
    """
    L = _lifetimes()
    f, r, T, w = (tr[c].to_numpy() for c in ("frequency", "recency", "T", "weight"))
    t0 = time.perf_counter()
    model, pen, params = None, 0.0, None
    for pen in penalizers:
        m = L[name](penalizer_coef=pen)
        if name == "bgnbd":
            # journeykit.stats.bgnbd: lifetimes' objective with an analytic
            # gradient; the lifetimes model object only carries the
            # parameters for its prediction formulas.
            res = bgnbd.fit(f, r, T, w, penalizer=pen, start=start, curvature=curvature)
            if not res.converged:
                continue
            m.params_ = pd.Series(res.params)[list(PARAM_NAMES[name])]
            params = dict(res.params)
            model = m
            bgnbd_ll = res.log_likelihood   # in the data's time unit, as _log_likelihood gives it
            curvature = res.hess_inv
            break
        x0 = _start(name, start, T)
        if name == "pareto_nbd" and x0 is None and len(f) > PARETO_SAMPLE_ROWS:
            x0 = _start(name, _pareto_sample_fit(f, r, T, w, pen, maxiter), T)
        try:
            with _quiet():
                m.fit(f, r, T, weights=w, initial_params=x0) if name != "pareto_nbd" else m.fit(
                    f, r, T, weights=w, tol=1e-6, maxiter=maxiter, initial_params=x0)
        except (L["ConvergenceError"], ValueError, FloatingPointError, np.linalg.LinAlgError):
            continue
        params = {k: float(m.params_[k]) for k in PARAM_NAMES[name]}
        ok = getattr(m, "success_", True) and all(np.isfinite(v) and v > 0 for v in params.values())
        if ok:
            model = m
            break
    secs = time.perf_counter() - t0
    if model is None:
        return Fit(name, None, None, None, pen, False, secs, len(tr), int(w.sum()))
    ll = bgnbd_ll if name == "bgnbd" else _log_likelihood(name, params, f, r, T, w)
    span = float(np.max(T)) if len(T) else 0.0
    fit = Fit(name, model, params, ll, pen, True, secs, len(tr), int(w.sum()), _time_scale(T),
              getattr(model, "boundary_", None) or degenerate_reason(name, params, span, ll),
              curvature if name == "bgnbd" else None)
    if check_predictions and fit.usable and span > 0:
        pred = fit.predictor
        if not (np.isfinite(expected_purchases(pred, span, tr)).all() and np.isfinite(p_alive(pred, tr, clip=False)).all()):
            fit.degenerate = "predictions not finite"
    return fit


def fit_spend(summary: pd.DataFrame, start: dict | None = None,
              penalizers=(0.0, PENALIZER)) -> tuple[Fit | None, float | None, int]:
    """Gamma-Gamma on the customers with repeat purchases and positive
    spend: ``(fit, correlation, n)`` where ``correlation`` is Pearson's r
    between ``frequency`` and ``monetary_value`` over those customers and
    ``n`` their number. ``fit`` is ``None`` with fewer than
    :data:`MIN_REPEAT_CUSTOMERS` of them; retried with the penalizer like
    :func:`fit_transactions`; degenerate estimates (``v`` measured against
    the mean spend) are marked, never used. ``start``: parameters to start
    the search from."""
    L = _lifetimes()
    rep = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    n = len(rep)
    corr = None
    if n >= 3 and rep["frequency"].nunique() > 1 and rep["monetary_value"].nunique() > 1:
        corr = float(np.corrcoef(rep["frequency"].astype(float), rep["monetary_value"].astype(float))[0, 1])
    if n < MIN_REPEAT_CUSTOMERS:
        return None, corr, n
    g = rep.groupby(["frequency", "monetary_value"], as_index=False).size()
    return fit_spend_pairs(g, float(rep["monetary_value"].mean()), start, penalizers), corr, n


def fit_spend_pairs(pairs: pd.DataFrame, mean_spend: float, start: dict | None = None,
                    penalizers=(0.0, PENALIZER)) -> Fit:
    """Gamma-Gamma on the distinct (``frequency``, ``monetary_value``) pairs
    of repeat customers with positive spend, weighted by ``size`` (customers
    per pair): the fit of :func:`fit_spend`, for callers that already hold
    the pairs (the bootstrap). ``mean_spend``: those customers' mean
    ``monetary_value`` (the scale ``v`` is judged against)."""
    L = _lifetimes()
    fq, mv, wt = (pairs[c].to_numpy(float) for c in ("frequency", "monetary_value", "size"))
    n = int(wt.sum())
    t0 = time.perf_counter()
    for pen in penalizers:
        # journeykit.stats.gammagamma: lifetimes' objective with an analytic
        # gradient; the lifetimes model object only carries the parameters
        # for its prediction formulas.
        res = gammagamma.fit(fq, mv, wt, penalizer=pen, start=start)
        if not res.converged:
            continue
        params = dict(res.params)
        if params["q"] > 1:
            m = L["gamma_gamma"](penalizer_coef=pen)
            m.params_ = pd.Series(params)[list(PARAM_NAMES["gamma_gamma"])]
            why = degenerate_reason("gamma_gamma", params, mean_spend, res.log_likelihood)
            return Fit("gamma_gamma", m, params, res.log_likelihood, pen, True, time.perf_counter() - t0, len(pairs), n,
                       degenerate=why)
    return Fit("gamma_gamma", None, None, None, PENALIZER, False, time.perf_counter() - t0, len(pairs), n)


# --------------------------------------------------------------------------
# Predictions
# --------------------------------------------------------------------------

def expected_purchases(model, t: float, tr: pd.DataFrame) -> np.ndarray:
    """Expected purchase days in the next ``t`` time units of each pattern
    (``t`` a number; for BG/NBD also a column ``(k, 1)`` of horizons, which
    gives a ``(k, patterns)`` array in one vectorised call)."""
    with _quiet():
        v = model.conditional_expected_number_of_purchases_up_to_time(
            t, tr["frequency"].to_numpy(float), tr["recency"].to_numpy(float), tr["T"].to_numpy(float))
    return np.asarray(v, dtype=float)


def p_alive(model, tr: pd.DataFrame, clip: bool = True) -> np.ndarray:
    """P(alive) of each pattern: the probability that the customer has not
    dropped out by the observation end (0–1; unclipped with ``clip=False``)."""
    with _quiet():
        v = model.conditional_probability_alive(tr["frequency"].to_numpy(float), tr["recency"].to_numpy(float),
                                                tr["T"].to_numpy(float))
    v = np.asarray(v, dtype=float)
    return np.clip(v, 0.0, 1.0) if clip else v


def discounted_purchases(model, tr: pd.DataFrame, horizon_months: int, discount_rate_monthly: float,
                         unit: str) -> tuple[np.ndarray, np.ndarray]:
    """``(discounted, undiscounted)`` expected purchases of each pattern over
    the next ``horizon_months`` months: month ``m`` (of 365.25/12 days,
    converted to the model's ``unit``) contributes its expected purchases
    divided by ``(1 + discount_rate_monthly) ** m``.

    The time unit is explicit here: lifetimes' own ``customer_lifetime_value``
    assumes daily data unless told otherwise.
    """
    step = MONTH_DAYS / unit_days(unit)
    prev = np.zeros(len(tr))
    disc = np.zeros(len(tr))
    months = range(1, int(horizon_months) + 1)
    if getattr(model, "name", None) == "bgnbd":
        # every month's cumulative expectation in one vectorised call (months × patterns)
        cums = expected_purchases(model, np.array([m * step for m in months])[:, None], tr)
    else:
        cums = [expected_purchases(model, m * step, tr) for m in months]
    for m, cum in zip(months, cums):
        disc += (cum - prev) / (1.0 + discount_rate_monthly) ** m
        prev = cum
    return disc, prev


def expected_spend(fit: Fit | None, summary: pd.DataFrame, fallback: float) -> np.ndarray:
    """Expected spend per purchase day of each customer: the Gamma-Gamma
    conditional mean (the population mean ``p·v/(q−1)`` for customers
    without repeat purchases), or ``fallback`` when there is no usable fit
    (NaN for ``fallback=None``: amounts unknown)."""
    if fit is None or not fit.usable:
        return np.full(len(summary), np.nan if fallback is None else float(fallback))
    f = summary["frequency"].to_numpy(float)
    m = np.where(f > 0, summary["monetary_value"].to_numpy(float), 0.0)
    with _quiet():
        v = fit.model.conditional_expected_average_profit(f, m)
    return np.asarray(v, dtype=float)


def population_spend(params: dict) -> float:
    """Gamma-Gamma mean spend per purchase ``p·v/(q−1)``."""
    return params["p"] * params["v"] / (params["q"] - 1)


__all__ = ["MODELS", "PARAM_NAMES", "PENALIZER", "SEED", "PARETO_MAXITER", "PARETO_S_MAX", "PARETO_SAMPLE_ROWS", "SHAPE_MIN", "SHAPE_MAX", "MIN_REPEAT_CUSTOMERS", "STATUSES",
           "Fit", "bgnbd_conditional_expected", "degenerate_reason", "fit_transactions", "fit_spend", "fit_spend_pairs", "expected_purchases", "p_alive",
           "discounted_purchases", "expected_spend", "population_spend"]
