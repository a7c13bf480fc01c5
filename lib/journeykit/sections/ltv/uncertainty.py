"""Lifetime value with its uncertainty: a seeded customer bootstrap of the
models' parameters, and what it gives CLV and LTV:CAC.

**The bootstrap.** Replicate ``b`` (``b = 0 … B − 1``, ``B`` =
``definitions.ltv_bootstrap_samples``) draws the customers the purchase
models were fitted on with replacement (a generator seeded with ``(SEED,
b)``), refits the selected transaction model on their (frequency, recency,
T) patterns, starting from the full fit (BG/NBD also from its curvature) and with
its penalizer, and
Gamma-Gamma on the same resample likewise (or, without a usable Gamma-Gamma, recomputes the average spend
per purchase day), then predicts every customer's CLV with those
parameters. A refit that does not converge, or is degenerate, is dropped
and counted. Replicate ``b`` is the same on every run, so the intervals
are too. With ``definitions.ltv_bootstrap_seconds`` set, the refits stop
after the one that passes that budget: then how many fit depends on the
machine, and the report says how many were used (measured here, 100
refits of the demo client, 9,500 distinct purchase patterns, cost 2.3 s:
BG/NBD and Gamma-Gamma refits plus each replicate's 12 monthly
expectations of every pattern, which are most of it). They also stop when, after
:data:`UNSTABLE_AFTER` tries, more than a quarter have failed: a model
that breaks down on many resamples of its own customers is **unstable**
(its parameters are not pinned down by the data, and an interval from the
refits that happened to succeed would be too narrow), and no interval is
given (the report says so).

**What the intervals mean.** The 2.5th and 97.5th percentiles over the
replicates: the uncertainty of the estimated parameters (how different
the CLV of *these* customers would look had the models been fitted on
another sample of the same kind of customers). They do not include the
randomness of the purchases themselves (the revenue the base will really
bring varies more) nor a wrong model (the holdout checks that).

References
----------
Efron, B. & Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*,
ch. 6 and 13. Chapman & Hall.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from journeykit.sections.ltv.models import (MIN_REPEAT_CUSTOMERS, discounted_purchases, fit_spend_pairs,
                                            fit_transactions)
from journeykit.sections.ltv.summary import fit_sample, triples

SEED = 20260117
"""Seed of the bootstrap resamples (replicate ``b`` uses ``(SEED, b)``)."""

MIN_REPLICATES = 20
"""Fewest usable replicates behind an interval; fewer give none."""

REFIT_MAXITER = 600
"""Nelder-Mead iterations of a Pareto/NBD refit from the full fit (the full
fit may take 3,000 from a cold start; from its optimum a stable refit needs
a few hundred: one that needs more counts as failed)."""

UNSTABLE_AFTER = 10
"""Tries after which more than a quarter failed marks the model unstable (and stops the refits)."""

LEVEL = 0.95
"""Coverage of the percentile intervals."""

_KEYS = ["frequency", "recency_days", "T_days"]


def gg_mean(params: dict, frequency, monetary_value) -> np.ndarray:
    """Gamma-Gamma expected spend per purchase day of customers with
    ``frequency`` repeat purchase days of mean ``monetary_value``: the
    weighted mean ``(1 − w)·p·v/(q − 1) + w·m̄`` with ``w = p·x/(p·x + q −
    1)`` (Fader & Hardie 2013, eq. 5); the population mean for ``x = 0``."""
    p, q, v = (float(params[k]) for k in ("p", "q", "v"))
    x = np.asarray(frequency, float)
    m = np.where(x > 0, np.asarray(monetary_value, float), 0.0)
    w = p * x / (p * x + q - 1)
    return (1 - w) * p * v / (q - 1) + w * m


@dataclasses.dataclass
class Bootstrap:
    """The replicates of one analysis (:func:`run`).

    ``disc``: (replicates × patterns) discounted expected purchases over
    the CLV horizon of each pattern of ``patterns``; ``spend``: per
    replicate, the Gamma-Gamma parameters (dict) or the average spend per
    purchase day (float), ``None`` without amounts; ``pattern``: each
    customer's row in ``patterns`` (in the order of ``Analysis.customers``).
    """

    requested: int
    seconds: float
    stopped: bool
    failed: int
    unstable: bool
    disc: np.ndarray
    spend: list
    pattern: np.ndarray
    frequency: np.ndarray
    monetary_value: np.ndarray

    @property
    def samples(self) -> int:
        """Usable replicates."""
        return int(self.disc.shape[0])

    def clv(self, b: int) -> np.ndarray:
        """Every customer's CLV (currency) under replicate ``b``; NaN without amounts."""
        sp = self.spend[b]
        if sp is None:
            s = np.full(len(self.pattern), np.nan)
        elif isinstance(sp, dict):
            s = gg_mean(sp, self.frequency, self.monetary_value)
        else:
            s = np.full(len(self.pattern), float(sp))
        return self.disc[b][self.pattern] * s


class Resampler:
    """The customers the models were fitted on (``fitted``: a customer
    summary), and what a resample of them (row positions ``idx``, with
    repeats) gives the refits. A resample's patterns are the fitted
    customers' patterns with other weights, so each is counted
    (``np.bincount``) rather than regrouped from the drawn rows; the results
    are the frames :func:`triples` and :func:`fit_spend` would build from
    ``fitted.iloc[idx]``, rows in the same (key) order."""

    def __init__(self, fitted):
        self.n = len(fitted)
        self.tr = triples(fitted)
        self.pattern = fitted[_KEYS].merge(self.tr[_KEYS].reset_index(), how="left")["index"].to_numpy()
        freq = fitted["frequency"].to_numpy(float)
        self.days = freq + 1
        self.spent = fitted["total_spend"].to_numpy(float) if "total_spend" in fitted else None
        self.mv = fitted["monetary_value"].to_numpy(float) if "monetary_value" in fitted else np.full(self.n, np.nan)
        rep = (freq > 0) & (self.mv > 0)
        keys = ["frequency", "monetary_value"]
        self.spend_pairs = fitted[rep].groupby(keys, as_index=False).size()
        self.pair = np.full(self.n, -1)
        self.pair[rep] = fitted.loc[rep, keys].merge(self.spend_pairs[keys].reset_index(), how="left")["index"].to_numpy()

    def draw(self, b: int) -> np.ndarray:
        """Replicate ``b``'s row positions: ``n`` draws with replacement, seeded with ``(SEED, b)``."""
        return np.random.default_rng((SEED, b)).integers(0, self.n, self.n)

    def patterns(self, idx) -> "pd.DataFrame":
        """``triples(fitted.iloc[idx])``: the resample's (frequency, recency, T) patterns and their weights."""
        w = np.bincount(self.pattern[idx], minlength=len(self.tr))
        return self.tr[w > 0].assign(weight=w[w > 0]).reset_index(drop=True)

    def pairs(self, idx):
        """``(pairs, mean spend)`` of the resample's repeat customers with
        positive spend, as :func:`fit_spend` groups them (``size``:
        customers per (frequency, monetary_value) pair); ``(None, None)``
        with fewer than :data:`MIN_REPEAT_CUSTOMERS` of them."""
        drawn = self.pair[idx]
        drawn = drawn[drawn >= 0]
        if len(drawn) < MIN_REPEAT_CUSTOMERS:
            return None, None
        w = np.bincount(drawn, minlength=len(self.spend_pairs))
        pairs = self.spend_pairs[w > 0].assign(size=w[w > 0]).reset_index(drop=True)
        return pairs, float(self.spend_pairs["monetary_value"].to_numpy() @ w) / len(drawn)

    def spend_per_day(self, idx) -> float:
        """The resample's total spend over its purchase days (first purchases included); currency."""
        dd = float(self.days[idx].sum())
        return float(np.nansum(self.spent[idx])) / dd if dd else 0.0


def run(a, cfg) -> Bootstrap | None:
    """The bootstrap of an analysis ``a``
    (:func:`journeykit.sections.ltv.compute.analyse`) under ``cfg``'s
    ``definitions``; ``None`` without a selected model or with
    ``ltv_bootstrap_samples: 0``. See the module docstring."""
    d = cfg.definitions
    n_req = int(d.ltv_bootstrap_samples)
    if not a.ok or n_req <= 0:
        return None
    summ = a.customers
    pats = triples(summ)
    pattern = summ[_KEYS].merge(pats[_KEYS].reset_index(), how="left")["index"].to_numpy()
    fitted = fit_sample(summ, int(d.ltv_max_fit_customers)).reset_index(drop=True)
    draws = Resampler(fitted)
    start = a.fits[a.selected].params
    gg = a.gamma_gamma if a.gamma_gamma is not None and a.gamma_gamma.usable else None
    horizon, rate, unit = int(d.ltv_horizon_months), float(d.ltv_discount_rate_monthly), a.unit
    budget = None if d.ltv_bootstrap_seconds is None else float(d.ltv_bootstrap_seconds)
    disc, spend, failed = [], [], 0
    t0 = time.perf_counter()
    stopped = False
    unstable = False
    for b in range(n_req):
        if budget is not None and time.perf_counter() - t0 > budget:
            stopped = True
            break
        if b >= UNSTABLE_AFTER and failed > b / 4:
            unstable = True
            break
        idx = draws.draw(b)
        tr = draws.patterns(idx)
        f = fit_transactions(a.selected, tr, start=start, penalizers=(a.fits[a.selected].penalizer,),
                             maxiter=REFIT_MAXITER, curvature=a.fits[a.selected].curvature,
                             check_predictions=False)   # checked below, on every customer's pattern
        if not f.usable:
            failed += 1
            continue
        dsc, _ = discounted_purchases(f.predictor, pats, horizon, rate, unit)
        if not np.isfinite(dsc).all():
            failed += 1
            continue
        if not a.amounts:
            sp = None
        elif gg is not None:
            pb, mean_spend = draws.pairs(idx)
            if pb is None:
                failed += 1
                continue
            g = fit_spend_pairs(pb, mean_spend, start=gg.params, penalizers=(gg.penalizer,))
            if not g.usable:
                failed += 1
                continue
            sp = dict(g.params)
        else:
            sp = draws.spend_per_day(idx)
        disc.append(dsc)
        spend.append(sp)
    return Bootstrap(n_req, time.perf_counter() - t0, stopped, failed, unstable,
                     np.array(disc).reshape(len(disc), len(pats)), spend, pattern,
                     summ["frequency"].to_numpy(float), summ["monetary_value"].fillna(0).to_numpy(float))


def interval(draws: np.ndarray) -> tuple[float, float] | None:
    """The :data:`LEVEL` percentile interval of ``draws`` (NaN ignored);
    ``None`` with fewer than :data:`MIN_REPLICATES` finite draws."""
    x = np.asarray(draws, float)
    x = x[np.isfinite(x)]
    if len(x) < MIN_REPLICATES:
        return None
    lo, hi = np.quantile(x, [(1 - LEVEL) / 2, 1 - (1 - LEVEL) / 2])
    return float(lo), float(hi)


def clv_intervals(boot: Bootstrap | None) -> dict | None:
    """Intervals of the total and the mean CLV over the customers
    (currency): ``{"clv_total": (lo, hi), "clv_mean": (lo, hi)}``, each
    ``None`` with too few replicates or an unstable model; ``None`` without
    a bootstrap or without amounts."""
    if boot is None or (boot.samples and boot.spend[0] is None):
        return None
    if not boot.samples or boot.unstable:
        return {"clv_total": None, "clv_mean": None}
    tot = np.array([np.nansum(boot.clv(b)) for b in range(boot.samples)])
    n = len(boot.pattern)
    return {"clv_total": interval(tot), "clv_mean": interval(tot / n) if n else None}


__all__ = ["SEED", "MIN_REPLICATES", "LEVEL", "gg_mean", "Bootstrap", "Resampler", "run", "interval", "clv_intervals"]
