"""How well the purchase models predict a holdout they did not see: errors
per customer, and the frames behind the validation charts (holdout
purchases by calibration frequency, the repeat-purchase histogram, weekly
cumulative repeat purchases). Numbers only; the charts are in
:mod:`journeykit.sections.ltv.view`."""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd

from journeykit.data.query import ts
from journeykit.sections.ltv.models import Fit, _quiet
from journeykit.sections.ltv.summary import _days_between, purchase_days, unit_days
from journeykit.stats import compare


def holdout_errors(pred: np.ndarray, actual: np.ndarray) -> dict:
    """Holdout errors of per-customer predictions of purchase days:
    ``rmse`` (root mean square error per customer, purchases), ``mae``
    (mean absolute error, purchases), ``total_error`` ((Σ predicted − Σ
    actual) / Σ actual, 0–1 scale; ``None`` when nobody bought),
    ``predicted`` and ``actual`` (the two sums)."""
    pred, actual = np.asarray(pred, float), np.asarray(actual, float)
    if not len(pred):
        return {"rmse": None, "mae": None, "total_error": None, "predicted": None, "actual": None}
    return {"rmse": float(np.sqrt(np.mean((pred - actual) ** 2))), "mae": float(np.mean(np.abs(pred - actual))),
            "total_error": compare.safe_div(pred.sum() - actual.sum(), actual.sum()),
            "predicted": float(pred.sum()), "actual": float(actual.sum())}


def _pmf(fit: Fit, t: float, n: int) -> float:
    """P(X(t) = n): probability of n repeat purchase days in t units for a
    new customer drawn from the fitted population."""
    m = fit.predictor
    if t <= 0:
        return 1.0 if n == 0 else 0.0
    with _quiet():
        if fit.name == "pareto_nbd":
            # conditioning on an empty history (x = 0, t_x = 0, T = 0) is the prior
            v = m.conditional_probability_of_n_purchases_up_to_time(n, t, 0.0, 0.0, 0.0)
        else:
            v = m.probability_of_n_purchases_up_to_time(t, n)
    return float(np.asarray(v, dtype=float).reshape(-1)[0])


def _pmf_table(fit: Fit, ages: np.ndarray, max_n: int) -> np.ndarray:
    """``P(X(t) = n)`` for each age ``t`` in ``ages`` (rows) and ``n`` = 0 …
    ``max_n`` − 1 (columns): :func:`_pmf` for every pair. BG/NBD and MBG/NBD
    in one vectorised pass (Fader, Hardie & Lee 2005, eq. 8, as lifetimes'
    ``probability_of_n_purchases_up_to_time``, and its MBG/NBD variant);
    Pareto/NBD pair by pair through lifetimes."""
    from scipy.special import betaln, gammaln

    ages = np.asarray(ages, dtype=float)
    if fit.name not in ("bgnbd", "mbgnbd"):
        return np.array([[_pmf(fit, float(t), k) for k in range(max_n)] for t in ages]).reshape(len(ages), max_n)
    r, alpha, a, b = (float(fit.params[k]) for k in ("r", "alpha", "a", "b"))
    t = np.maximum(ages, 0.0)[:, None]
    n = np.arange(max_n)[None, :]
    q = t / (alpha + t)                              # the ratio is the same on any time scale
    p0 = (alpha / (alpha + t)) ** r
    coef = np.exp(gammaln(r + n) - gammaln(r) - gammaln(n + 1.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = coef * q ** n                        # Γ(r+j)/(Γ(r) j!) (t/(α+t))^j
    cum = np.cumsum(terms, axis=1) - terms           # Σ over j < n
    extra = 1 if fit.name == "mbgnbd" else 0
    first = np.exp(betaln(a, b + n + extra) - betaln(a, b)) * p0 * terms
    second = np.exp(betaln(a + 1, b + n - 1 + extra) - betaln(a, b)) * (1 - p0 * cum)
    if fit.name == "bgnbd":
        second = np.where(n > 0, second, 0.0)
    out = first + second
    return np.where(ages[:, None] > 0, out, (n == 0).astype(float))


def period_histogram(cal: pd.DataFrame, fits: list[Fit], max_n: int = 7) -> pd.DataFrame:
    """Customers by repeat purchases in the calibration period, actual and
    expected by each usable model: rows ``n`` = 0 … ``max_n`` − 1 and
    ``max_n`` (meaning "max_n or more"); columns ``actual`` and one per
    model (Σ over customers of P(X(T_i) = n), ages to the nearest week; the
    last row takes the rest)."""
    out = pd.DataFrame({"n": range(max_n + 1)})
    out["actual"] = [float(((cal["frequency"] == k) if k < max_n else (cal["frequency"] >= k)).sum())
                     for k in range(max_n + 1)]
    # ages binned to whole weeks (at most 3.5 days off): lifetimes' pmf is
    # scalar in t, and one call per distinct day of age is slow on long histories
    u = float(cal["T"].max() / cal["T_days"].max()) if cal["T_days"].max() > 0 else 1.0
    week = (cal["T_days"] / 7).round() * 7
    ages = cal.assign(_age=week * u).groupby("_age").agg(w=("customer_id", "size"))
    ages["T"] = ages.index.to_numpy(float)
    for fit in fits:
        if not fit.usable:
            continue
        p = np.clip(np.nan_to_num(_pmf_table(fit, ages["T"].to_numpy(float), max_n)), 0, 1)
        wts = ages["w"].to_numpy(float)
        exp = np.zeros(max_n + 1)
        exp[:max_n] = wts @ p if len(wts) else 0.0
        exp[max_n] = float(wts @ np.maximum(0.0, 1.0 - p.sum(axis=1))) if len(wts) else 0.0
        out[fit.name] = exp
    return out


def holdout_by_frequency(cal: pd.DataFrame, preds: dict[str, np.ndarray], max_n: int = 7) -> pd.DataFrame:
    """Mean holdout purchases by calibration frequency (0 … ``max_n``, the
    last meaning "max_n or more"): ``customers``, ``actual`` and one column
    per model (mean predicted)."""
    key = np.minimum(cal["frequency"].to_numpy(), max_n)
    df = pd.DataFrame({"n": key, "actual": cal["frequency_holdout"].to_numpy(float)} |
                      {k: v for k, v in preds.items()})
    g = df.groupby("n").mean()
    g.insert(0, "customers", df.groupby("n").size())
    return g.reindex(range(max_n + 1)).reset_index()


def tracking(t, cal: pd.DataFrame, fits: list[Fit], calibration_end: dt.date, observation_end: dt.date,
             unit: str) -> pd.DataFrame:
    """Cumulative repeat purchase days of the calibration customers by week,
    actual (an Ibis query) and expected by each usable model (Σ over
    first-purchase days d of customers × E[X(t − d)]). Columns ``week``
    (timestamp of the week's end), ``actual``, one per model."""
    u = unit_days(unit)
    first = pd.to_datetime(cal["first_purchase"]).dt.normalize()
    origin = first.min()
    end = pd.Timestamp(observation_end)
    grid = pd.date_range(origin + pd.Timedelta(days=7), end + pd.Timedelta(days=6), freq="7D")
    # actual: repeat purchase days (not the first) of the calibration customers
    d = purchase_days(t, observation_end)
    ids = ibis.memtable(pd.DataFrame({"cid": cal["customer_id"].astype(str).to_numpy()}))
    d = d.mutate(_cid=d.customer_id.cast("string"))
    d = d.inner_join(ids, d._cid == ids.cid)
    d = d.mutate(_first=d.day.min().over(group_by=d.customer_id))
    rep = d.filter(d.day > d._first)
    days = rep.select(k=_days_between(rep.day, ibis.literal(ts(origin.date())))).group_by("k").aggregate(
        n=ibis._.count()).execute()
    counts = np.zeros(len(grid))
    if len(days) and len(grid):
        idx = np.searchsorted(((grid - origin).days).to_numpy(), days["k"].to_numpy(), side="right")
        np.add.at(counts, np.minimum(idx, len(grid) - 1), days["n"].to_numpy(float))
    out = pd.DataFrame({"week": grid, "actual": np.cumsum(counts)})
    fd = first.value_counts()
    offs = ((fd.index - origin).days).to_numpy(float)
    wts = fd.to_numpy(float)
    gdays = np.minimum((grid - origin).days.to_numpy(float), (end - origin).days)
    for fit in fits:
        if not fit.usable:
            continue
        tt = np.maximum(gdays[:, None] - offs[None, :], 0.0) / u
        with _quiet():
            e = np.asarray(fit.predictor.expected_number_of_purchases_up_to_time(tt.ravel()), dtype=float)
        out[fit.name] = (np.nan_to_num(e).reshape(tt.shape) * wts[None, :]).sum(axis=1)
    return out


__all__ = ["holdout_errors", "period_histogram", "holdout_by_frequency", "tracking"]
