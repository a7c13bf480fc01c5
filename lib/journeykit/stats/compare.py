"""Period over period: is a KPI's change real, and is it large enough to matter?

Every KPI a section shows is a :class:`Change`: this period's value, the
comparison period's value, and a test of the difference chosen by where the
noise of the KPI lives (README, "How changes are judged"):

- a **rate of independent units** (customers of a cohort, trials): the
  two-proportion z-test (:func:`rate`, statsmodels ``proportions_ztest``);
- a **rate whose units cluster** (impressions within days, sessions within
  days, messages within campaigns): a quasi-binomial GLM on the clusters'
  aggregates, the dispersion estimated from the data (:func:`clustered_rate`);
- a **count over a period** (sessions, orders, sign-ups): a quasi-Poisson GLM
  on the daily counts, comparing the mean per day, so a 31-day month is not
  "up" on a 30-day one (:func:`daily_count`);
- a **mean of per-unit values** whose units cluster (order value within
  customers, pages within days): the ratio estimator with a cluster-robust
  variance and a Welch t-test (:func:`clustered_mean`); of independent units:
  Welch's t-test (:func:`mean`);
- an **NPS**: a z-test with the multinomial variance (:func:`nps`);
- a **value** with no sampling model, or one the client buys (impressions,
  spend, messages sent, stocks of customers): no test (:func:`value`).

Noise also lives at the month level: a KPI moves from month to month with
the mix of customers who come and go, even when nothing in the shop
changes. Each test may be given the KPI's recent monthly values
(``history``); when they vary more than the test's own model says, the
change is judged against that month-to-month variance instead
(:func:`month_variance`).

The direction of a change (:attr:`Change.direction`) always comes from the
quantity tested: for a count, the mean per day (``tested``), not the total.

A test's p-value is not its verdict. :func:`judge` adjusts the p-values of a
family of tests for multiplicity (Benjamini–Hochberg, :func:`bh`) and checks
each change against the KPI's minimum meaningful size (``changes`` in
``params/defaults.yaml``, :class:`journeykit.core.config.ChangeSettings`); a
change is ``significant`` only when ``q ≤ fdr`` **and** it reaches that size.
In a section notebook the family is the section's tests; in a report run
the runner judges every section's tests together (:func:`judge_records`).

A change on less data than ``min_n`` (per period) is reported as "too
little data" instead of a verdict. Values are plain floats; rates stay 0–1.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.proportion import proportions_ztest
from statsmodels.stats.rates import test_poisson_2indep

ALPHA = 0.05
"""Default false discovery rate (the ``q`` threshold) of a family of
period-over-period tests; ``changes.fdr`` in the settings."""

Z95 = stats.norm.ppf(0.975)

VERDICTS = ("significant", "too_small", "not_significant", "too_little_data", "untested")
"""Every verdict a change can have: ``significant`` (q ≤ fdr and at least the
minimum meaningful size), ``too_small`` (q ≤ fdr, smaller than that size),
``not_significant``, ``too_little_data`` and ``untested`` (no test applies,
or no comparison value)."""

KINDS = ("rate", "mean", "count", "nps", "value")
"""The kinds of change; the minimum meaningful size is set per kind."""

MIN_CLUSTERS = 3
"""A clustered test needs this many clusters (days, campaigns, customers)
with data in each period; with fewer its dispersion cannot be estimated and
the change is "too little data"."""

MIN_MONTHS = 4
"""The month-to-month variance of a KPI (:func:`month_variance`) needs this
many consecutive differences (five months); with fewer, only the test's
own level of noise applies."""


_UNSET = object()


def _num(x) -> float | None:
    if x is None:
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) or math.isinf(f) else f


@dataclass(frozen=True)
class Change:
    """A KPI in this period and the comparison period, with its test.

    ``kind`` is ``rate``, ``mean``, ``count``, ``nps`` or ``value``;
    ``p_value`` is ``None`` when no test applies or when either period has
    too little data (then ``enough_data`` is False). ``higher_is_better``
    says which direction is good news (``None``: neither).

    ``tested`` is the pair of values the test compared when they differ
    from ``(value, prev)`` — for a count, the mean per day (``basis`` is
    ``per_day``); the change's delta and direction are taken from it.
    ``q_value``, ``meaningful``, ``alpha`` and ``scope`` are set by
    :func:`judge` (``scope`` says over which tests ``q`` was adjusted:
    ``section`` or ``report``). ``value_last_year`` is the KPI in the same
    month a year before, when the data reaches back that far.
    """

    key: str
    value: float | None
    prev: float | None
    kind: str = "value"
    p_value: float | None = None
    test: str | None = None
    enough_data: bool = True
    higher_is_better: bool | None = True
    n: float | None = None
    n_prev: float | None = None
    extra: dict = field(default_factory=dict)
    tested: tuple[float | None, float | None] | None = None
    basis: str | None = None
    q_value: float | None = None
    meaningful: bool | None = None
    min_effect: dict | None = None
    alpha: float = ALPHA
    scope: str | None = None
    family_size: int | None = None
    value_last_year: float | None = None

    @property
    def tested_value(self) -> float | None:
        """This period's value of the quantity tested (``value`` unless ``tested``)."""
        return self.value if self.tested is None else self.tested[0]

    @property
    def tested_prev(self) -> float | None:
        """The comparison period's value of the quantity tested."""
        return self.prev if self.tested is None else self.tested[1]

    @property
    def delta(self) -> float | None:
        """Difference of the quantity tested, this period minus the
        comparison period (for rates in 0–1 points, e.g. 0.012 = 1.2 pp;
        for counts per day)."""
        a, b = self.tested_value, self.tested_prev
        if a is None or b is None:
            return None
        return a - b

    @property
    def rel_delta(self) -> float | None:
        """``delta / |tested_prev|``; ``None`` when that is 0 or missing."""
        if self.delta is None or not self.tested_prev:
            return None
        return self.delta / abs(self.tested_prev)

    @property
    def q(self) -> float | None:
        """The multiplicity-adjusted p-value, or the p-value itself when the
        change was never judged (a single test)."""
        return self.q_value if self.q_value is not None else self.p_value

    @property
    def verdict(self) -> str:
        """One of :data:`VERDICTS`."""
        if self.value is None or self.prev is None:
            return "untested"
        if not self.enough_data:
            return "too_little_data"
        if self.p_value is None:
            return "untested"
        if self.q is not None and self.q <= self.alpha:
            return "significant" if self.meaningful is not False else "too_small"
        return "not_significant"

    @property
    def significant(self) -> bool:
        """True when the verdict is ``significant``."""
        return self.verdict == "significant"

    @property
    def direction(self) -> str:
        """``up``, ``down`` or ``flat`` (no change or no comparison), of the
        quantity tested."""
        d = self.delta
        if d is None or d == 0:
            return "flat"
        return "up" if d > 0 else "down"

    @property
    def good(self) -> bool | None:
        """Whether a significant change is good news; ``None`` otherwise."""
        if not self.significant or self.higher_is_better is None or self.direction == "flat":
            return None
        return (self.direction == "up") == self.higher_is_better

    def metrics(self) -> dict[str, float | None]:
        """``{key: value, key_prev: prev}`` for ``metrics.json``."""
        return {self.key: self.value, f"{self.key}_prev": self.prev}


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------

def rate(key: str, x: float, n: float, x_prev: float, n_prev: float, *, min_n: int = 30,
         higher_is_better: bool | None = True, history=None) -> Change:
    """A rate ``x / n`` of independent units (each counted once: customers of
    a cohort, trials) against ``x_prev / n_prev``, by the two-proportion
    z-test (pooled variance).

    The value is ``None`` when ``n`` is 0. With fewer than ``min_n`` trials
    in either period the change is "too little data". For units that
    cluster (impressions in days, messages in campaigns) use
    :func:`clustered_rate`. ``history``: the rate in the months before,
    ending with the comparison month (:func:`_month_level`).
    """
    value = x / n if n else None
    prev = x_prev / n_prev if n_prev else None
    enough = bool(n >= min_n and n_prev >= min_n)
    p = None
    extra = {"x": _num(x), "x_prev": _num(x_prev)}
    if enough and value is not None and prev is not None:
        if (x + x_prev) in (0, n + n_prev):     # all failures or all successes: identical rates
            p = 1.0
        else:
            _, p = proportions_ztest([x, x_prev], [n, n_prev])
            pooled = (x + x_prev) / (n + n_prev)
            p = _month_level(_num(p), value - prev, pooled * (1 - pooled) * (1 / n + 1 / n_prev), history, extra)
    return Change(key, _num(value), _num(prev), "rate", p, "two-proportion z-test", enough,
                  higher_is_better, _num(n), _num(n_prev), extra)


def _clean_pairs(x, n) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(pd.Series(x, dtype="float64").fillna(0.0), float)
    n = np.asarray(pd.Series(n, dtype="float64").fillna(0.0), float)
    keep = n > 0
    return x[keep], n[keep]


def _glm_period_test(endog, exog_period, family, var_weights=None, offset=None,
                     by_hand=None) -> tuple[float | None, float]:
    """p-value of the period coefficient of a one-indicator GLM with the
    dispersion estimated by Pearson's X² over the residual degrees of
    freedom, never below 1; a t-test on those degrees of freedom when the
    estimate is used. Returns ``(p, dispersion)``. ``by_hand()`` gives the
    same test in closed form (``(coefficient, variance at dispersion 1,
    Pearson X², residual df)``) for the data statsmodels cannot start on
    (every cluster exactly on its period's rate)."""
    import warnings

    import statsmodels.api as sm

    exog = sm.add_constant(np.asarray(exog_period, float), has_constant="add")
    try:
        with warnings.catch_warnings():
            # clusters that all sit exactly on their period's rate look like "perfect separation" to
            # statsmodels; the fit is still the MLE, and the dispersion floor below applies
            warnings.simplefilter("ignore")
            model = sm.GLM(endog, exog, family=family, var_weights=var_weights, offset=offset)
            res = model.fit(scale="X2", use_t=True)
            phi = float(res.scale)
            if not math.isfinite(phi) or phi < 1.0:
                res = model.fit(scale=1.0)
                phi = 1.0
            return _num(res.pvalues[1]), phi
    except ValueError:
        if by_hand is None:
            raise
    b, v1, x2, df = by_hand()
    phi = max(1.0, x2 / df) if df > 0 else 1.0
    se = math.sqrt(phi * v1)
    if se == 0:
        return (1.0 if b == 0 else 0.0), phi
    t = abs(b) / se
    p = 2 * stats.t.sf(t, df) if phi > 1.0 else 2 * stats.norm.sf(t)
    return _num(p), phi


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def month_variance(history) -> tuple[float | None, int]:
    """The variance of a month-to-month change of a KPI in its recent past:
    the mean squared difference of consecutive months' values (``history``,
    oldest first, ending with the comparison month; missing months break
    the chain). Returns ``(variance, differences)``; ``None`` with fewer
    than :data:`MIN_MONTHS` differences.

    Within a month, days, customers or campaigns measure sampling noise;
    from month to month a KPI also moves with the mix of customers who come
    and go (a few heavy buyers, a cohort's channel mix). A shop whose
    processes do not change still shows these moves, so a change is judged
    against them too (:func:`_month_level`). Consecutive differences leave
    out a slow trend; a seasonal swing in the past year counts as ordinary
    movement, which makes the tests of a seasonal business conservative.
    """
    if history is None:
        return None, 0
    v = [_num(x) for x in history]
    d = [b - a for a, b in zip(v, v[1:]) if a is not None and b is not None]
    if len(d) < MIN_MONTHS:
        return None, len(d)
    return float(np.mean(np.square(d))), len(d)


def _month_level(p: float | None, delta: float | None, v_within: float | None, history,
                 extra: dict) -> float | None:
    """The p-value of a change judged at the level where its noise is
    largest: the test's own (``p``, whose variance of the change on the
    KPI's scale is ``v_within``), or — when the KPI's recent month-to-month
    changes vary more (:func:`month_variance`) — a t-test of ``delta``
    against that variance on as many degrees of freedom as differences.
    Records ``month_variance``, ``months`` and ``noise_level`` (``within``
    or ``month``) in ``extra``."""
    mv, k = month_variance(history)
    extra.update(month_variance=mv, months=k, noise_level="within")
    if p is None or delta is None or mv is None or v_within is None or mv <= v_within:
        return p
    extra["noise_level"] = "month"
    return _num(2 * stats.t.sf(abs(delta) / math.sqrt(mv), k)) if mv > 0 else p


def clustered_rate(key: str, x, n, x_prev, n_prev, *, cluster: str = "day", min_n: int = 30,
                   higher_is_better: bool | None = True, history=None) -> Change:
    """A rate whose units cluster, from per-cluster aggregates.

    ``x`` and ``n`` hold each cluster's successes and trials in this period
    (a day's clicks and impressions, a campaign's opens and messages),
    ``x_prev`` and ``n_prev`` the comparison period's. The value is the
    ratio of the totals (``Σx / Σn``), as for :func:`rate`.

    Model: a binomial GLM (logit link) with one indicator for the period,
    fitted to the clusters' proportions weighted by their trials; the
    variance is the binomial one times a dispersion ``φ`` estimated from the
    clusters (Pearson's X² / residual degrees of freedom; never below 1),
    and the period coefficient is tested with a t-test on those degrees of
    freedom — the quasi-binomial test. Day-to-day (or campaign-to-campaign)
    variation beyond binomial noise widens the interval instead of being
    read as a change. ``extra`` records ``dispersion`` and the number of
    clusters (``clusters``, ``clusters_prev``). ``history``: the rate in the
    months before, ending with the comparison month; when it moves more from
    month to month than the clusters say, the change is judged against that
    (:func:`_month_level`).

    "Too little data" with fewer than ``min_n`` trials or fewer than
    :data:`MIN_CLUSTERS` clusters in either period.
    """
    import statsmodels.api as sm

    x, n = _clean_pairs(x, n)
    x0, n0 = _clean_pairs(x_prev, n_prev)
    N, N0 = float(n.sum()), float(n0.sum())
    X, X0 = float(x.sum()), float(x0.sum())
    value = X / N if N else None
    prev = X0 / N0 if N0 else None
    enough = bool(N >= min_n and N0 >= min_n and len(n) >= MIN_CLUSTERS and len(n0) >= MIN_CLUSTERS)
    p, phi = None, None
    if enough and value is not None and prev is not None:
        if value in (0.0, 1.0) or prev in (0.0, 1.0):
            # a period with no successes (or no failures): the logit is infinite; the totals decide
            p = 1.0 if value == prev else _num(proportions_ztest([X, X0], [N, N0])[1])
        else:
            endog = np.r_[x / n, x0 / n0]
            period = np.r_[np.ones(len(n)), np.zeros(len(n0))]

            def by_hand():
                x2 = float(((x - n * value) ** 2 / (n * value * (1 - value))).sum()
                           + ((x0 - n0 * prev) ** 2 / (n0 * prev * (1 - prev))).sum())
                v1 = 1 / (N * value * (1 - value)) + 1 / (N0 * prev * (1 - prev))
                return _logit(value) - _logit(prev), v1, x2, len(n) + len(n0) - 2

            p, phi = _glm_period_test(endog, period, sm.families.Binomial(), var_weights=np.r_[n, n0],
                                      by_hand=by_hand)
    extra = {"x": X, "x_prev": X0, "dispersion": _num(phi), "cluster": cluster, "clusters": len(n),
             "clusters_prev": len(n0)}
    if p is not None and phi is not None:
        p = _month_level(p, value - prev, phi * (value * (1 - value) / N + prev * (1 - prev) / N0), history, extra)
    return Change(key, _num(value), _num(prev), "rate", p, f"quasi-binomial GLM ({cluster}s as clusters)", enough,
                  higher_is_better, N, N0, extra)


def daily_count(key: str, daily, daily_prev, *, min_n: int = 30, higher_is_better: bool | None = True,
                exposure: float | None = None, exposure_prev: float | None = None,
                shown: tuple[float | None, float | None] | None = None, history=None) -> Change:
    """A count over a period against the comparison period's, from the
    counts of each day (one entry per calendar day, zeros included).

    The value shown is the period's total (``Σ daily``) unless ``shown``
    gives another pair (tickets per 100 customers); the quantity tested is
    the **mean per day** (``tested``, ``basis="per_day"``), divided by
    ``exposure`` when given (tickets per customer per day), so months of
    different lengths compare fairly and the direction follows the mean
    per day.

    Model: a Poisson GLM (log link) on the daily counts with one indicator
    for the period (and ``log(exposure)`` as offset), the dispersion
    estimated from the days (Pearson's X² / residual degrees of freedom,
    never below 1) and a t-test on the period coefficient — the
    quasi-Poisson test. Weekday patterns and day-to-day shocks widen the
    interval instead of being read as a change. ``history``: the mean per
    day (per unit of exposure) in the months before, ending with the
    comparison month; when it moves more from month to month than the days
    say, the change is judged against that (:func:`_month_level`).

    "Too little data" with fewer than ``min_n`` events in both periods
    together, or fewer than :data:`MIN_CLUSTERS` days in either.
    """
    import statsmodels.api as sm

    y = np.asarray(pd.Series(daily, dtype="float64").fillna(0.0), float)
    y0 = np.asarray(pd.Series(daily_prev, dtype="float64").fillna(0.0), float)
    total, total0 = float(y.sum()), float(y0.sum())
    days, days0 = len(y), len(y0)
    e = exposure if exposure else 1.0
    e0 = exposure_prev if exposure_prev else 1.0
    per_day = total / days / e if days else None
    per_day0 = total0 / days0 / e0 if days0 else None
    enough = bool(total + total0 >= min_n and days >= MIN_CLUSTERS and days0 >= MIN_CLUSTERS)
    if (exposure is not None and not exposure) or (exposure_prev is not None and not exposure_prev):
        enough = False
    p, phi = None, None
    if enough:
        if total == 0 and total0 == 0:
            p = 1.0
        elif total == 0 or total0 == 0:
            # no events in one period: the log rate is infinite; the exact Poisson comparison of the totals
            p = _num(test_poisson_2indep(total, days * e, total0, days0 * e0, method="score").pvalue)
        else:
            period = np.r_[np.ones(days), np.zeros(days0)]
            offset = np.log(np.r_[np.full(days, e), np.full(days0, e0)])
            m1, m0 = total / days, total0 / days0

            def by_hand():
                x2 = float(((y - m1) ** 2 / m1).sum() + ((y0 - m0) ** 2 / m0).sum())
                return math.log(m1 / m0), 1 / total + 1 / total0, x2, days + days0 - 2

            p, phi = _glm_period_test(np.r_[y, y0], period, sm.families.Poisson(), offset=offset, by_hand=by_hand)
    extra = {"total": total, "total_prev": total0, "dispersion": _num(phi)}
    if p is not None and phi is not None and per_day is not None and per_day0 is not None:
        p = _month_level(p, per_day - per_day0, phi * (per_day / (days * e) + per_day0 / (days0 * e0)), history,
                         extra)
    value, prev = shown if shown is not None else (total, total0)
    return Change(key, _num(value), _num(prev), "count", p, "quasi-Poisson GLM (mean per day)", enough,
                  higher_is_better, float(days), float(days0), extra,
                  tested=(_num(per_day), _num(per_day0)), basis="per_day")


def count(key: str, c: float, days: float, c_prev: float, days_prev: float, *, min_n: int = 30,
          higher_is_better: bool | None = True) -> Change:
    """A count over a period against the comparison period's when only the
    totals are known: the score test that the two Poisson rates per day are
    equal (statsmodels ``test_poisson_2indep``). The quantity tested, and
    the direction, is the count per day. It assumes independent events:
    prefer :func:`daily_count`, which estimates the day-to-day dispersion.
    Fewer than ``min_n`` events in both periods together is "too little data"."""
    enough = bool(c + c_prev >= min_n)
    p = None
    if enough and days and days_prev:
        if c == 0 and c_prev == 0:
            p = 1.0
        else:
            p = _num(test_poisson_2indep(c, days, c_prev, days_prev, method="score").pvalue)
    return Change(key, _num(c), _num(c_prev), "count", p, "Poisson rate test (per day)", enough,
                  higher_is_better, _num(days), _num(days_prev),
                  tested=(_num(c / days) if days else None, _num(c_prev / days_prev) if days_prev else None),
                  basis="per_day")


def mean(key: str, m: float, sd: float, n: float, m_prev: float, sd_prev: float, n_prev: float, *,
         min_n: int = 30, higher_is_better: bool | None = True, history=None) -> Change:
    """A mean of independent per-unit values (a score per customer) against
    the comparison period's, by Welch's t-test from summary statistics
    (mean, sample standard deviation, count). ``history``: the mean in the
    months before (:func:`_month_level`)."""
    value = _num(m) if n else None
    prev = _num(m_prev) if n_prev else None
    enough = bool(n >= min_n and n_prev >= min_n)
    p = None
    extra: dict = {}
    if enough and value is not None and prev is not None:
        if not (_num(sd) or _num(sd_prev)):
            p = 1.0 if value == prev else 0.0
        else:
            p = _num(stats.ttest_ind_from_stats(m, sd or 0.0, n, m_prev, sd_prev or 0.0, n_prev,
                                                equal_var=False).pvalue)
            p = _month_level(p, value - prev, (sd or 0.0) ** 2 / n + (sd_prev or 0.0) ** 2 / n_prev, history, extra)
    return Change(key, value, prev, "mean", p, "Welch t-test", enough, higher_is_better, _num(n), _num(n_prev),
                  extra)


def mean_of(key: str, values, values_prev, *, min_n: int = 30, higher_is_better: bool | None = True) -> Change:
    """:func:`mean` from the two periods' raw values (NaN ignored)."""
    a = pd.Series(values, dtype="float64").dropna()
    b = pd.Series(values_prev, dtype="float64").dropna()
    return mean(key, a.mean() if len(a) else None, a.std(ddof=1) if len(a) > 1 else 0.0, len(a),
                b.mean() if len(b) else None, b.std(ddof=1) if len(b) > 1 else 0.0, len(b),
                min_n=min_n, higher_is_better=higher_is_better)


def ratio_mean(sums, ns) -> tuple[float | None, float | None, int, float]:
    """The ratio estimator of a mean over clusters and its cluster-robust
    variance: ``R = Σ y_c / Σ n_c`` and
    ``V = C / (C − 1) · Σ (y_c − R n_c)² / (Σ n_c)²`` over the ``C``
    clusters with ``n_c > 0``. Returns ``(R, V, C, Σ n)``; ``R`` and ``V``
    are ``None`` without units (``V`` also with one cluster)."""
    y, n = _clean_pairs(sums, ns)
    C, N = len(n), float(n.sum())
    if not N:
        return None, None, C, N
    R = float(y.sum()) / N
    if C < 2:
        return R, None, C, N
    V = C / (C - 1) * float(((y - R * n) ** 2).sum()) / N ** 2
    return R, V, C, N


def clustered_mean(key: str, sums, ns, sums_prev, ns_prev, *, cluster: str = "day", min_n: int = 30,
                   higher_is_better: bool | None = True, history=None) -> Change:
    """A mean of per-unit values whose units cluster (orders of a customer,
    sessions of a day), from per-cluster sums and unit counts.

    The value is the mean over units (``Σ sums / Σ ns``). Its variance is
    the cluster-robust (linearization) variance of the ratio estimator
    (:func:`ratio_mean`), which holds whatever the correlation of units
    inside a cluster; the difference is tested with Welch's t on the
    Welch–Satterthwaite degrees of freedom of the clusters. With one unit
    per cluster it is Welch's t-test on the units. ``n``/``n_prev`` are the
    units; ``extra`` holds the clusters. ``history``: the mean in the months
    before (:func:`_month_level`).

    "Too little data" with fewer than ``min_n`` units or fewer than
    :data:`MIN_CLUSTERS` clusters in either period.
    """
    R, V, C, N = ratio_mean(sums, ns)
    R0, V0, C0, N0 = ratio_mean(sums_prev, ns_prev)
    enough = bool(N >= min_n and N0 >= min_n and C >= MIN_CLUSTERS and C0 >= MIN_CLUSTERS)
    p = None
    if enough and R is not None and R0 is not None and V is not None and V0 is not None:
        se2 = V + V0
        if se2 <= 0:
            p = 1.0 if R == R0 else 0.0
        else:
            df = se2 ** 2 / ((V ** 2) / (C - 1) + (V0 ** 2) / (C0 - 1)) if (V or V0) else C + C0 - 2
            p = _num(2 * stats.t.sf(abs(R - R0) / math.sqrt(se2), df))
    extra = {"cluster": cluster, "clusters": C, "clusters_prev": C0}
    if p is not None and V is not None and V0 is not None:
        p = _month_level(p, R - R0, V + V0, history, extra)
    return Change(key, _num(R), _num(R0), "mean", p, f"Welch t-test, cluster-robust ({cluster}s as clusters)",
                  enough, higher_is_better, N, N0, extra)


def nps_interval(promoters: float, passives: float, detractors: float, level: float = 0.95):
    """NPS as a 0–1 difference of shares with its normal-approximation interval.

    ``nps = (P − D) / n`` with ``n = P + passives + D``; its variance is
    ``(p + d − (p − d)²) / n`` for shares ``p`` and ``d``. Returns
    ``(nps, low, high, variance)``, all ``None`` when ``n`` is 0; the interval
    is clipped to [−1, 1].
    """
    n = promoters + passives + detractors
    if not n:
        return None, None, None, None
    p, d = promoters / n, detractors / n
    nps = p - d
    var = (p + d - nps ** 2) / n
    z = stats.norm.ppf(0.5 + level / 2)
    half = z * math.sqrt(max(var, 0.0))
    return nps, max(-1.0, nps - half), min(1.0, nps + half), var


def nps(key: str, counts: tuple[float, float, float], counts_prev: tuple[float, float, float], *,
        min_n: int = 30, history=None) -> Change:
    """NPS this period against the comparison period's; ``counts`` are
    (promoters, passives, detractors). Two-sided z-test on the difference
    with the variances of :func:`nps_interval`; the interval of this
    period's NPS goes in ``extra`` (``ci_low``, ``ci_high``). ``history``:
    the NPS (0–1 scale) in the months before (:func:`_month_level`)."""
    v, lo, hi, var = nps_interval(*counts)
    v0, lo0, hi0, var0 = nps_interval(*counts_prev)
    n, n0 = sum(counts), sum(counts_prev)
    enough = bool(n >= min_n and n0 >= min_n)
    p = None
    extra = {"ci_low": _num(lo), "ci_high": _num(hi), "ci_low_prev": _num(lo0), "ci_high_prev": _num(hi0)}
    if enough and v is not None and v0 is not None:
        se = math.sqrt(var + var0)
        p = 1.0 if se == 0 and v == v0 else (0.0 if se == 0 else float(2 * stats.norm.sf(abs(v - v0) / se)))
        p = _month_level(p, v - v0, var + var0, history, extra)
    return Change(key, _num(v), _num(v0), "nps", p, "z-test on NPS", enough, True, _num(n), _num(n0), extra)


def value(key: str, v, v_prev, *, higher_is_better: bool | None = True, described: str | None = None) -> Change:
    """A KPI with no sampling model (a cost ratio, a stock of customers) or
    one the client decides (impressions, spend, messages sent): the change
    is shown, no test is run. ``described`` says why in ``test``
    (``bought``, ``stock``), for the record."""
    return Change(key, _num(v), _num(v_prev), "value", None, described, True, higher_is_better)


def history(frame: pd.DataFrame | None, column: str, period, *, per_day: bool = False,
            scale: float = 1.0, cfg=None) -> list[float | None] | None:
    """The monthly values of ``column`` in a section's trend frame (one row
    per month, column ``month``) before ``period`` — the months up to and
    including the comparison month, oldest first — for the ``history`` of
    the tests; with ``per_day`` each divided by its month's length (counts
    are tested per day), times ``scale``. ``None`` without the column, or
    when ``cfg.changes.month_level`` is off."""
    settings = getattr(cfg, "changes", None)
    if settings is not None and not settings.month_level:
        return None
    if frame is None or column not in getattr(frame, "columns", ()) or "month" not in frame.columns:
        return None
    f = frame[pd.to_datetime(frame["month"]) < pd.Timestamp(period.start)].sort_values("month")
    out = []
    for m, v in zip(pd.to_datetime(f["month"]), f[column]):
        v = _num(v)
        if v is not None and per_day:
            v = v / m.days_in_month
        out.append(None if v is None else v * scale)
    return out


# --------------------------------------------------------------------------
# Multiplicity and magnitude
# --------------------------------------------------------------------------

def bh(p_values) -> list[float | None]:
    """Benjamini–Hochberg adjusted p-values (q-values) of a family of tests,
    in the order given; ``None`` stays ``None`` and is not counted.

    ``q_(i) = min over j ≥ i of m · p_(j) / j`` for the p-values sorted
    ascending, capped at 1 (statsmodels ``multipletests``, ``fdr_bh``).
    Declaring every test with ``q ≤ α`` significant controls the expected
    share of false discoveries at ``α`` for independent or positively
    dependent tests (Benjamini & Hochberg, 1995).
    """
    from statsmodels.stats.multitest import multipletests

    idx = [i for i, p in enumerate(p_values) if p is not None and not (isinstance(p, float) and math.isnan(p))]
    out: list[float | None] = [None] * len(p_values)
    if not idx:
        return out
    _, q, _, _ = multipletests([float(p_values[i]) for i in idx], method="fdr_bh")
    for i, v in zip(idx, q):
        out[i] = float(min(1.0, v))
    return out


def min_effect_for(key: str, kind: str, settings) -> dict:
    """The minimum meaningful size of a change of KPI ``key`` of ``kind``:
    ``{"relative": …, "absolute": …}`` (either may be ``None``), the KPI's
    own setting (``changes.kpis.<key>``) when there is one, else its kind's
    (``changes.min_effect.<kind>``). ``settings`` is a
    :class:`journeykit.core.config.ChangeSettings` (or ``None``: no minimum)."""
    if settings is None:
        return {"relative": None, "absolute": None}
    spec = settings.kpis.get(key) or getattr(settings.min_effect, kind, None)
    if spec is None:
        return {"relative": None, "absolute": None}
    return {"relative": spec.relative, "absolute": spec.absolute}


def is_meaningful(change: Change, spec: dict) -> bool:
    """Whether ``change`` reaches the minimum size ``spec``: its relative
    change (of the quantity tested) is at least ``relative``, **or** its
    absolute change at least ``absolute`` (in the KPI's unit: 0–1 points
    for rates and NPS, per day for counts). A spec with neither bound
    accepts every change."""
    rel, ab = spec.get("relative"), spec.get("absolute")
    if rel is None and ab is None:
        return True
    d, r = change.delta, change.rel_delta
    if d is None:
        return False
    return bool((rel is not None and r is not None and abs(r) >= rel - 1e-12)
                or (ab is not None and abs(d) >= ab - 1e-12))


def in_family(change: Change) -> bool:
    """Whether a change is one of the tests adjusted for multiplicity: a
    test ran on enough data with both periods' values."""
    return (change.p_value is not None and change.enough_data and change.value is not None
            and change.prev is not None)


NO_EARLIER_DATA = "no_earlier_data"
"""``Change.test`` of a change whose comparison period ends before the
client's data begins (:func:`before_data`): no comparison value, no test."""


def before_data(changes, period, first_date) -> list[Change]:
    """The changes, with the comparison period blanked when it lies wholly
    before the data's first date ``first_date`` (``Dataset.first_date()``):
    a month before the data is "no data", not zero. Each change then has
    ``prev = None`` (and no ``n_prev``, ``tested`` pair, p-value or value a
    year before), ``test`` = :data:`NO_EARLIER_DATA`, and the verdict
    ``untested``. ``period`` is this report's period (its ``previous()``
    is the comparison); ``first_date`` ``None`` (no data at all) blanks
    them too. Changes are returned unchanged when the comparison period
    has at least one day of data."""
    changes = list(changes)
    prev = period.previous()
    if first_date is not None and prev.end > first_date:
        return changes
    return [dataclasses.replace(c, prev=None, n_prev=None, p_value=None, test=NO_EARLIER_DATA, enough_data=True,
                                tested=None, basis=None, value_last_year=None) for c in changes]


def judge(changes, cfg=None, *, scope: str = "section", first_date=_UNSET) -> list[Change]:
    """The changes with their verdicts: q-values by Benjamini–Hochberg over
    the tested changes in ``changes`` (:func:`bh`, :func:`in_family`), the
    minimum meaningful size of each KPI (:func:`min_effect_for`) from
    ``cfg.changes``, and the false discovery rate ``cfg.changes.fdr``.
    ``scope`` records what the family was: ``section`` (a section's own
    tests, in an analyst's notebook) or ``report``. ``first_date``: the
    data's first date (``ds.first_date()``); a comparison period wholly
    before it has no data (:func:`before_data`), whatever the section
    computed for it. Every section passes it."""
    settings = getattr(cfg, "changes", None) if cfg is not None else None
    alpha = settings.fdr if settings is not None else ALPHA
    changes = list(changes)
    if first_date is not _UNSET and cfg is not None:
        changes = before_data(changes, cfg.period, first_date)
    fam = [i for i, c in enumerate(changes) if in_family(c)]
    q = bh([changes[i].p_value for i in fam])
    qs = dict(zip(fam, q))
    out = []
    for i, c in enumerate(changes):
        spec = min_effect_for(c.key, c.kind, settings)
        out.append(dataclasses.replace(c, q_value=qs.get(i), meaningful=is_meaningful(c, spec) if i in qs else None,
                                       min_effect=spec, alpha=alpha, scope=scope if i in qs else None,
                                       family_size=len(fam) if i in qs else None))
    return out


def judge_records(sections: dict[str, list[dict]], fdr: float = ALPHA) -> int:
    """Judge the recorded changes of a whole report together, in place:
    ``sections`` maps a section to its recorded changes (the dicts of
    :func:`journeykit.report.results.change_record`). Every recorded test
    (``p_value`` present, enough data) gets its report-wide Benjamini–Hochberg
    ``q_value``, its ``verdict`` (from that ``q``, ``fdr`` and its recorded
    ``meaningful``), ``good``, ``scope: "report"`` and ``family_size``.
    Returns the number of tests in the family."""
    fam = [(name, rec) for name, recs in sections.items() for rec in recs or []
           if rec.get("p_value") is not None and rec.get("verdict") not in ("too_little_data", "untested")
           and rec.get("value") is not None and rec.get("prev") is not None]
    q = bh([rec["p_value"] for _, rec in fam])
    for (_, rec), qv in zip(fam, q):
        rec["q_value"] = qv
        rec["alpha"] = fdr
        rec["scope"] = "report"
        rec["family_size"] = len(fam)
        if qv is not None and qv <= fdr:
            rec["verdict"] = "significant" if rec.get("meaningful") is not False else "too_small"
        else:
            rec["verdict"] = "not_significant"
        d, hib = rec.get("direction"), rec.get("higher_is_better")
        rec["good"] = None if rec["verdict"] != "significant" or hib is None or d == "flat" else ((d == "up") == hib)
    return len(fam)


# --------------------------------------------------------------------------
# Impact and last year
# --------------------------------------------------------------------------

def impact(change: Change) -> float | None:
    """The size of a change in what it touches: ``|Δ| × base`` — for a rate
    the units moved (``|Δ rate| × trials``: clicks, customers, sessions),
    for a count the events per period (``|Δ per day| × days``), for a mean
    the total it moves (``|Δ mean| × units``: revenue for order value), for
    an NPS the respondents moved; ``None`` without a comparison."""
    d = change.delta
    if d is None:
        return None
    base = change.n if change.n is not None else None
    if change.kind == "value":
        return abs(d)
    return abs(d) * base if base is not None else None


def with_last_year(changes, last_year: dict[str, Any] | None) -> list[Change]:
    """``changes`` with ``value_last_year`` set from ``last_year`` (KPI key →
    its value in the same month a year before); unchanged when ``None``."""
    if not last_year:
        return list(changes)
    return [dataclasses.replace(c, value_last_year=_num(last_year.get(c.key))) if c.key in last_year else c
            for c in changes]


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------

def fold_small(df: pd.DataFrame, group: str, size: str, min_size: int, other: str = "other",
               sum_columns: list[str] | None = None) -> pd.DataFrame:
    """Fold groups whose ``size`` is below ``min_size`` into one ``other`` row.

    ``sum_columns`` (default: every numeric column) are summed into the
    ``other`` row; rates must be recomputed from the summed numerators and
    denominators afterwards, never averaged. Row order: the kept groups by
    ``size`` descending, then ``other`` (only when something was folded).
    """
    if df.empty:
        return df.copy()
    cols = sum_columns if sum_columns is not None else [c for c in df.columns
                                                        if c != group and pd.api.types.is_numeric_dtype(df[c])]
    small = df[size] < min_size
    kept = df[~small].sort_values([size, group], ascending=[False, True], kind="stable")
    if not small.any():
        return kept.reset_index(drop=True)
    row = {c: df.loc[small, c].sum() for c in cols}
    row[group] = other
    folded = pd.DataFrame([row]).reindex(columns=df.columns)
    return pd.concat([kept, folded], ignore_index=True)


def safe_div(a, b) -> float | None:
    """``a / b`` as a float, ``None`` when ``b`` is 0 or either is missing."""
    a, b = _num(a), _num(b)
    if a is None or not b:
        return None
    return a / b


def to_metrics(*changes: Change) -> dict[str, float | None]:
    """Merge the ``metrics()`` of several changes."""
    out: dict[str, float | None] = {}
    for c in changes:
        out.update(c.metrics())
    return out


__all__ = ["ALPHA", "VERDICTS", "KINDS", "MIN_CLUSTERS", "MIN_MONTHS", "Change", "rate", "clustered_rate",
           "daily_count", "count", "mean", "mean_of", "ratio_mean", "clustered_mean", "nps", "nps_interval", "value",
           "month_variance", "history", "bh", "min_effect_for",
           "is_meaningful", "in_family", "NO_EARLIER_DATA", "before_data", "judge", "judge_records", "impact", "with_last_year", "fold_small",
           "safe_div", "to_metrics"]
