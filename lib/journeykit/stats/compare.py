"""Period over period: is a KPI's change real or noise?

Every KPI a section shows is a :class:`Change`: this period's value, the
comparison period's value, and a test of the difference chosen by the kind
of KPI:

- a **rate** (``x`` successes of ``n`` trials): two-proportion z-test
  (statsmodels ``proportions_ztest``, pooled variance);
- a **mean** of per-unit values (order value, dwell time): Welch's t-test
  from each period's mean, standard deviation and count;
- a **count** over a period (orders, sessions): the score test that the two
  Poisson rates are equal, with each period's length in days as exposure
  (statsmodels ``test_poisson_2indep``), so a 31-day month is not "up" on a
  30-day one;
- an **NPS** (promoters minus detractors, −100…100 as a 0–1 difference of
  shares here): a z-test with the multinomial variance
  ``(p + d − (p − d)²) / n``;
- a **value** with no sampling model (spend, CAC): no test; the change is
  shown without a verdict.

A change on less data than ``min_n`` (per period) is reported as "too
little data" instead of a verdict. Values are plain floats; rates stay 0–1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd
from scipy import stats
from statsmodels.stats.proportion import proportions_ztest
from statsmodels.stats.rates import test_poisson_2indep

ALPHA = 0.05
"""Significance level of every period-over-period test."""

Z95 = stats.norm.ppf(0.975)


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

    @property
    def delta(self) -> float | None:
        """``value − prev`` (for rates: in 0–1 points, e.g. 0.012 = 1.2 pp)."""
        if self.value is None or self.prev is None:
            return None
        return self.value - self.prev

    @property
    def rel_delta(self) -> float | None:
        """``(value − prev) / |prev|``; ``None`` when prev is 0 or missing."""
        if self.delta is None or not self.prev:
            return None
        return self.delta / abs(self.prev)

    @property
    def significant(self) -> bool:
        """True when a test ran on enough data and ``p_value < ALPHA``."""
        return self.enough_data and self.p_value is not None and self.p_value < ALPHA

    @property
    def direction(self) -> str:
        """``up``, ``down`` or ``flat`` (no change or no comparison)."""
        d = self.delta
        if d is None or d == 0:
            return "flat"
        return "up" if d > 0 else "down"

    @property
    def verdict(self) -> str:
        """``significant``, ``not_significant``, ``too_little_data`` or ``untested``."""
        if self.value is None or self.prev is None:
            return "untested"
        if not self.enough_data:
            return "too_little_data"
        if self.p_value is None:
            return "untested"
        return "significant" if self.significant else "not_significant"

    @property
    def good(self) -> bool | None:
        """Whether a significant change is good news; ``None`` otherwise."""
        if not self.significant or self.higher_is_better is None or self.direction == "flat":
            return None
        return (self.direction == "up") == self.higher_is_better

    def metrics(self) -> dict[str, float | None]:
        """``{key: value, key_prev: prev}`` for ``metrics.json``."""
        return {self.key: self.value, f"{self.key}_prev": self.prev}


def rate(key: str, x: float, n: float, x_prev: float, n_prev: float, *, min_n: int = 30,
         higher_is_better: bool | None = True) -> Change:
    """A rate ``x / n`` against ``x_prev / n_prev`` with a two-proportion z-test.

    The value is ``None`` when ``n`` is 0. With fewer than ``min_n`` trials
    in either period the change is "too little data".
    """
    value = x / n if n else None
    prev = x_prev / n_prev if n_prev else None
    enough = bool(n >= min_n and n_prev >= min_n)
    p = None
    if enough and value is not None and prev is not None:
        if (x + x_prev) in (0, n + n_prev):     # all failures or all successes: identical rates
            p = 1.0
        else:
            _, p = proportions_ztest([x, x_prev], [n, n_prev])
            p = _num(p)
    return Change(key, _num(value), _num(prev), "rate", p, "two-proportion z-test", enough,
                  higher_is_better, _num(n), _num(n_prev), {"x": _num(x), "x_prev": _num(x_prev)})


def mean(key: str, m: float, sd: float, n: float, m_prev: float, sd_prev: float, n_prev: float, *,
         min_n: int = 30, higher_is_better: bool | None = True) -> Change:
    """A mean of per-unit values against the comparison period's, by Welch's t-test
    from summary statistics (mean, sample standard deviation, count)."""
    value = _num(m) if n else None
    prev = _num(m_prev) if n_prev else None
    enough = bool(n >= min_n and n_prev >= min_n)
    p = None
    if enough and value is not None and prev is not None:
        if not (_num(sd) or _num(sd_prev)):
            p = 1.0 if value == prev else 0.0
        else:
            p = _num(stats.ttest_ind_from_stats(m, sd or 0.0, n, m_prev, sd_prev or 0.0, n_prev,
                                                equal_var=False).pvalue)
    return Change(key, value, prev, "mean", p, "Welch t-test", enough, higher_is_better, _num(n), _num(n_prev))


def mean_of(key: str, values, values_prev, *, min_n: int = 30, higher_is_better: bool | None = True) -> Change:
    """:func:`mean` from the two periods' raw values (NaN ignored)."""
    a = pd.Series(values, dtype="float64").dropna()
    b = pd.Series(values_prev, dtype="float64").dropna()
    return mean(key, a.mean() if len(a) else None, a.std(ddof=1) if len(a) > 1 else 0.0, len(a),
                b.mean() if len(b) else None, b.std(ddof=1) if len(b) > 1 else 0.0, len(b),
                min_n=min_n, higher_is_better=higher_is_better)


def count(key: str, c: float, days: float, c_prev: float, days_prev: float, *, min_n: int = 30,
          higher_is_better: bool | None = True) -> Change:
    """A count over a period against the comparison period's.

    The test compares daily rates (``c / days``) with the score test for two
    Poisson rates; the values shown are the raw counts. Fewer than ``min_n``
    events in both periods together is "too little data".
    """
    enough = bool(c + c_prev >= min_n)
    p = None
    if enough and days and days_prev:
        if c == 0 and c_prev == 0:
            p = 1.0
        else:
            p = _num(test_poisson_2indep(c, days, c_prev, days_prev, method="score").pvalue)
    return Change(key, _num(c), _num(c_prev), "count", p, "Poisson rate test (per day)", enough,
                  higher_is_better, _num(days), _num(days_prev))


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
        min_n: int = 30) -> Change:
    """NPS this period against the comparison period's; ``counts`` are
    (promoters, passives, detractors). Two-sided z-test on the difference
    with the variances of :func:`nps_interval`; the interval of this
    period's NPS goes in ``extra`` (``ci_low``, ``ci_high``)."""
    v, lo, hi, var = nps_interval(*counts)
    v0, lo0, hi0, var0 = nps_interval(*counts_prev)
    n, n0 = sum(counts), sum(counts_prev)
    enough = bool(n >= min_n and n0 >= min_n)
    p = None
    if enough and v is not None and v0 is not None:
        se = math.sqrt(var + var0)
        p = 1.0 if se == 0 and v == v0 else (0.0 if se == 0 else float(2 * stats.norm.sf(abs(v - v0) / se)))
    return Change(key, _num(v), _num(v0), "nps", p, "z-test on NPS", enough, True, _num(n), _num(n0),
                  {"ci_low": _num(lo), "ci_high": _num(hi), "ci_low_prev": _num(lo0), "ci_high_prev": _num(hi0)})


def value(key: str, v, v_prev, *, higher_is_better: bool | None = True) -> Change:
    """A KPI with no sampling model (spend, CAC, a ratio of totals): the
    change is shown, no test is run."""
    return Change(key, _num(v), _num(v_prev), "value", None, None, True, higher_is_better)


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


__all__ = ["ALPHA", "Change", "rate", "mean", "mean_of", "count", "nps", "nps_interval", "value",
           "fold_small", "safe_div", "to_metrics"]
