"""A/B test statistics on counts: the lift between two proportions and its
interval, the two-proportion test, the sample-ratio check, power and the
planned size, and the boundaries of repeated looks (alpha spending).

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
  assigned counts against the planned split (equal unless given). Three
  bands (:func:`srm_status`): ``mismatch`` below :data:`SRM_ALPHA` (0.01:
  the assignment is broken, the lift is not read), ``check`` from 0.01 to
  :data:`SRM_WARN` (0.05: possibly chance — a healthy test lands here once
  in 25 — but worth checking the assignment; the lift is read), ``ok``
  from 0.05.
- **Planned size** (:func:`plan_size`): the users each arm needs to detect
  a pre-set minimum detectable effect (an absolute lift, 0–1 points) at
  level alpha with :data:`POWER`, for the planned split; Cohen's h with
  statsmodels ``NormalIndPower`` (two-sided). Never from the observed lift
  ("observed power" says nothing the p-value does not).
- **MDE and power at the current size** (:func:`mde`, :func:`power_at`).
- **Repeated looks** (:func:`boundaries`, :func:`group_sequential`): an
  experiment read in every monthly report is tested once a month on
  growing data; six looks at p < 0.05 each find a "winner" in a test
  without effect about 15 % of the time. A group-sequential design keeps
  that at alpha: Lan–DeMets alpha spending (O'Brien–Fleming-type by
  default, Pocock-type on request) over the *information fraction* of each
  look, the effective sample ``1 / (1/n_c + 1/n_t)`` as a share of the
  planned one. Each look gets a z boundary, i.e. a nominal level the
  two-sided p-value must be below: tiny at early looks (O'Brien–Fleming:
  p < 0.0000011 at a fifth of the plan), close to alpha at the planned
  size. A look that passes the planned size is taken as the final one
  (fraction 1). The boundaries are computed by the recursive numerical
  integration of Armitage, McPherson and Rowe (1969) on the score scale
  (Jennison and Turnbull 2000, ch. 19), one spending function per side
  with alpha/2 (as gsDesign's ``sfLDOF`` / ``sfLDPocock`` and ldbounds).

References
----------
Newcombe, R. G. (1998). Interval estimation for the difference between
independent proportions: comparison of eleven methods. *Statistics in
Medicine* 17(8), 873–890.

Fabijan, A. et al. (2019). Diagnosing sample ratio mismatch in online
controlled experiments. *KDD '19*.

Lan, K. K. G. and DeMets, D. L. (1983). Discrete sequential boundaries for
clinical trials. *Biometrika* 70(3), 659–663.

Armitage, P., McPherson, C. K. and Rowe, B. C. (1969). Repeated
significance tests on accumulating data. *JRSS A* 132(2), 235–244.

Jennison, C. and Turnbull, B. W. (2000). *Group Sequential Methods with
Applications to Clinical Trials*. Chapman & Hall/CRC.
"""

from __future__ import annotations

import functools
import itertools
import math
import warnings

import numpy as np
from scipy import optimize, stats
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_effectsize, proportions_ztest

ALPHA = 0.05
"""Significance level of a readout (before a multiple-comparison correction)."""
SRM_ALPHA = 0.01
"""A sample-ratio mismatch is flagged (``mismatch``: the lift is not read)
when the chi-square p-value is below this: a healthy experiment is flagged
about once in a hundred readouts, a broken one of a few thousand users
almost always."""
SRM_WARN = 0.05
"""From :data:`SRM_ALPHA` up to this, the split is ``check``: possibly
chance, worth a look at the assignment; the lift is read."""
POWER = 0.8
"""Target power of the MDE and of the planned size."""
SPENDING = ("obrien_fleming", "pocock")
"""The alpha-spending functions of :func:`spending`."""


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
    A variant with assignments but a planned share of 0 is a certain
    mismatch (p = 0); a variant planned at 0 without assignments is left
    out. ``None`` with fewer than two variants or no assignments."""
    obs = np.asarray([float(c) for c in counts])
    shares = np.full(len(obs), 1.0) if planned is None else np.asarray(planned, float)
    if len(obs) != len(shares):
        raise ValueError(f"{len(obs)} counts but {len(shares)} planned shares")
    if np.any((shares <= 0) & (obs > 0)):
        return 0.0
    obs, shares = obs[shares > 0], shares[shares > 0]
    if len(obs) < 2 or obs.sum() <= 0:
        return None
    return _finite(stats.chisquare(obs, obs.sum() * shares / shares.sum()).pvalue)


def srm_status(p_value: float | None) -> str | None:
    """``mismatch`` (p < :data:`SRM_ALPHA`), ``check`` (p < :data:`SRM_WARN`)
    or ``ok``; ``None`` without a p-value. Never ``ok`` below 0.05."""
    if p_value is None or (isinstance(p_value, float) and math.isnan(p_value)):
        return None
    return "mismatch" if p_value < SRM_ALPHA else ("check" if p_value < SRM_WARN else "ok")


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


def users_needed(p_c: float | None, p_t: float | None, alpha: float = ALPHA, power: float = POWER,
                 ratio: float = 1.0) -> float | None:
    """Control users to detect the difference between ``p_c`` and ``p_t``
    with the given power when the treatment has ``ratio`` times as many
    (equal arms by default); ``None`` when the rates are equal or unknown,
    or when the solver finds no size (a difference of 0% against 100%,
    detectable with a single user). A design quantity: ``p_t`` is the
    planned effect, never the observed one."""
    if p_c is None or p_t is None:
        return None
    h = abs(float(proportion_effectsize(p_t, p_c)))
    if h == 0:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels warns before it gives up and returns NaN
        return _finite(NormalIndPower().solve_power(effect_size=h, nobs1=None, alpha=alpha, power=power,
                                                    ratio=float(ratio)))


def planned_rate(p_c: float | None, mde: float) -> float | None:
    """The treatment rate a lift of ``mde`` (0–1 points) would give: ``p_c +
    mde``, or ``p_c − mde`` when that passes 1 (the test is two-sided);
    ``None`` without ``p_c`` or when neither is a rate."""
    if p_c is None:
        return None
    for r in (p_c + mde, p_c - mde):
        if 0.0 <= r <= 1.0:
            return r
    return None


def plan_size(p_c: float | None, mde: float, share_c: float = 0.5, share_t: float = 0.5, alpha: float = ALPHA,
              power: float = POWER) -> tuple[float, float] | None:
    """Users the control and the treatment need, ``(n_c, n_t)``, to detect an
    absolute lift of ``mde`` over the control's rate ``p_c`` with the given
    power at two-sided level ``alpha``, the arms in the planned proportion
    ``share_c : share_t`` (:func:`users_needed`). ``None`` when ``p_c`` is
    unknown or no size is found."""
    if not share_c or not share_t:
        return None
    ratio = share_t / share_c
    n_c = users_needed(p_c, planned_rate(p_c, mde), alpha, power, ratio)
    return None if n_c is None else (n_c, n_c * ratio)


def information(n_c: float, n_t: float) -> float:
    """The effective sample of a two-arm comparison, ``1 / (1/n_c + 1/n_t)``
    (the variance of the difference scales with its inverse); 0 when an arm
    is empty. Equal arms of ``n``: ``n / 2``."""
    return 0.0 if not n_c or not n_t else 1.0 / (1.0 / n_c + 1.0 / n_t)


# --------------------------------------------------------------------------
# Repeated looks: alpha spending
# --------------------------------------------------------------------------

def spending(t, alpha: float = ALPHA, kind: str = "obrien_fleming"):
    """Two-sided alpha spent by information fraction ``t`` (0–1; scalar or
    array), Lan–DeMets, each side spending ``alpha/2``:

    - ``obrien_fleming``: ``2 · 2(1 − Φ(z_{1−alpha/4} / √t))`` — almost
      nothing early, ``alpha`` at ``t = 1``;
    - ``pocock``: ``alpha · ln(1 + (e − 1) t)`` — evenly over the looks.
    """
    t = np.clip(np.asarray(t, float), 0.0, 1.0)
    if kind == "obrien_fleming":
        with np.errstate(divide="ignore"):
            out = 4 * stats.norm.sf(stats.norm.isf(alpha / 4) / np.sqrt(t))
        return np.where(t > 0, out, 0.0)
    if kind == "pocock":
        return alpha * np.log1p((math.e - 1) * t)
    raise ValueError(f"unknown spending function {kind!r} (known: {', '.join(SPENDING)})")


def _crossing(b: float, t: float, sd: float, grid, mass) -> float:
    """P(the first crossing of ``|Z| ≥ b`` is at the look at fraction ``t``),
    given the sub-density ``mass`` (density × quadrature weight) of the
    score on ``grid`` at the look before, ``sd`` apart."""
    c = b * math.sqrt(t)
    return float(np.sum(mass * (stats.norm.cdf((-c - grid) / sd) + stats.norm.cdf((grid - c) / sd))))


@functools.lru_cache(maxsize=4096)
def _boundaries(fractions: tuple[float, ...], alpha: float, kind: str, n: int) -> tuple[float, ...]:
    t = np.asarray(fractions, float)
    inc = np.diff(np.r_[0.0, spending(t, alpha, kind)])
    out: list[float] = []
    grid = mass = None
    prev = 0.0
    for k, (tk, a) in enumerate(zip(t, inc)):
        if a <= 0:
            b = math.inf                      # nothing left to spend at this look
        elif k == 0:
            b = float(stats.norm.isf(a / 2))
        else:
            sd = math.sqrt(tk - prev)
            args = (tk, sd, grid, mass)
            b = (0.0 if _crossing(0.0, *args) <= a
                 else float(optimize.brentq(lambda x, a=a, args=args: _crossing(x, *args) - a, 0.0, 40.0, xtol=1e-10)))
        out.append(b)
        # sub-density of the score S_k = Z_k √t_k over the continuation region |S_k| < b √t_k
        # (Simpson's rule; beyond 8 standard deviations the density is nil)
        c = min(b, 8.0) * math.sqrt(tk)
        new = np.linspace(-c, c, n)
        w = np.full(n, 2.0)
        w[1::2], w[0], w[-1] = 4.0, 1.0, 1.0
        w *= (new[1] - new[0]) / 3
        if k == 0:
            f = stats.norm.pdf(new / math.sqrt(tk)) / math.sqrt(tk)
        else:
            f = (stats.norm.pdf((new[:, None] - grid[None, :]) / sd) / sd) @ mass
        grid, mass, prev = new, w * f, tk
    return tuple(out)


def boundaries(fractions, alpha: float = ALPHA, kind: str = "obrien_fleming") -> list[float]:
    """Two-sided z boundaries of a group-sequential test with looks at the
    given information ``fractions`` (increasing, in (0, 1]): the test stops
    with a significant result at the first look ``k`` with ``|z_k| ≥ b_k``,
    and under no effect that happens with probability :func:`spending` of
    the last fraction (``alpha`` at 1) over all the looks together.
    ``inf`` at a look with nothing left to spend. E.g. five equal looks,
    O'Brien–Fleming-type, alpha 0.05: 4.877, 3.357, 2.680, 2.290, 2.031
    (gsDesign, ldbounds); one look at fraction 1: 1.960."""
    t = tuple(round(float(x), 12) for x in fractions)
    if not t or any(x <= 0 or x > 1 for x in t) or any(b <= a for a, b in itertools.pairwise(t)):
        raise ValueError(f"information fractions must increase within (0, 1]: {list(t)}")
    return list(_boundaries(t, float(alpha), kind, 201))


def nominal_level(boundary: float) -> float:
    """The two-sided p-value a z boundary corresponds to: ``2(1 − Φ(b))``."""
    return float(2 * stats.norm.sf(boundary)) if math.isfinite(boundary) else 0.0


def _z(x_c: float, n_c: float, x_t: float, n_t: float) -> float:
    """The pooled two-proportion z statistic (as :func:`two_proportions`' test)."""
    p = (x_c + x_t) / (n_c + n_t)
    if p <= 0 or p >= 1:
        return 0.0
    return (x_t / n_t - x_c / n_c) / math.sqrt(p * (1 - p) * (1 / n_c + 1 / n_t))


def group_sequential(looks, planned: tuple[float, float] | None = None, alpha: float = ALPHA,
                     kind: str = "obrien_fleming", min_n: float = 1) -> dict:
    """The current look of an experiment tested at every monthly report.

    ``looks``: the cumulative counts ``(x_c, n_c, x_t, n_t)`` (conversions
    and users of control and treatment) at each look so far, oldest first,
    the current one last. A look counts when both arms have at least
    ``min_n`` users and the information (:func:`information`) grew since the
    look before (a month without new users is the same look again: only the
    later is kept). ``planned``: the users per arm of the planned size
    (:func:`plan_size`); without it, or once the current look passes it,
    the current look is the final one.

    Returns ``look`` (its number among the counted looks, 1 = first; 0 when
    the current look does not count), ``looks`` (the counted looks'
    information fractions), ``fraction`` (the current information as a
    share of the planned, uncapped: ≥ 1 once the plan is reached),
    ``boundary`` (z), ``level`` (the nominal two-sided p-value the current
    look must be below: :func:`nominal_level` of the boundary), ``z`` and
    ``significant`` (``|z| ≥ boundary``).
    """
    kept: list[tuple[float, tuple]] = []
    for lk in looks:
        x_c, n_c, x_t, n_t = (float(v) for v in lk)
        info = information(n_c, n_t)
        if min(n_c, n_t) < min_n or info <= 0:
            continue
        if kept and info <= kept[-1][0]:
            kept.pop()
        kept.append((info, (x_c, n_c, x_t, n_t)))
    out = {"look": 0, "looks": [], "fraction": None, "boundary": None, "level": None, "z": None,
           "significant": False}
    last = tuple(float(v) for v in looks[-1]) if len(looks) else None
    if not kept or kept[-1][1] != last:
        return out
    cur = kept[-1][0]
    plan = information(*planned) if planned else 0.0
    full = max(plan, cur)
    fr = [min(1.0, i / full) for i, _ in kept]
    b = boundaries(fr, alpha, kind)[-1]
    z = _z(*last)
    out.update(look=len(kept), looks=fr, fraction=cur / plan if plan else None, boundary=b,
               level=nominal_level(b), z=z, significant=bool(abs(z) >= b))
    return out


__all__ = ["ALPHA", "SRM_ALPHA", "SRM_WARN", "POWER", "SPENDING", "two_proportions", "bonferroni", "srm_p_value",
           "srm_status", "mde", "power_at", "users_needed", "planned_rate", "plan_size", "information", "spending",
           "boundaries", "nominal_level", "group_sequential"]
