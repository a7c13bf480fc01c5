"""Lifetime value: purchase models validated on a holdout, and CLV per
customer, RFM segment, acquisition channel and signup cohort; LTV:CAC.
Numbers only (frames, dicts, numbers): what the report says about them is
in :mod:`journeykit.sections.ltv.view`.

The package, like pymc-marketing's ``clv``: :mod:`.summary` builds the
customer summary on the engine (the transforms), :mod:`.models` fits and
checks the models and predicts, :mod:`.validation` scores them on the
holdout, this module runs the whole analysis and its breakdowns, and
:mod:`.view` shows them.

- **Holdout**: the last ``definitions.ltv_holdout_days`` days up to the
  period end. The models are fitted on the calibration period before it
  (customers whose first purchase falls in it) and judged on how many
  purchase days each of those customers made in the holdout; the lowest
  error selects the model. Only when the history is too short for a
  holdout does the highest log-likelihood select it (the report says the
  model is unchecked); when a holdout exists and no model could be scored
  on it (every calibration fit degenerate or failed), no model is
  selected. A degenerate or failed fit is never selected.
- **CLV**: expected revenue over the next ``definitions.ltv_horizon_months``
  months, discounted monthly at ``definitions.ltv_discount_rate_monthly``:
  ``Σ_m E[spend per purchase] × E[purchases in month m] / (1 + d)^m``,
  months of 365.25/12 days converted into the model's time unit. Revenue,
  not margin, in the client's currency; its 95% interval comes from a
  seeded customer bootstrap of the models' parameters (:mod:`.uncertainty`).
  LTV:CAC applies ``definitions.gross_margin``. When order amounts are unknown
  (:func:`journeykit.facts.has_amounts`), only the purchase side is
  computed: expected purchases and P(alive); spend, CLV and LTV:CAC are
  ``None``.
- **RFM segment**: :func:`journeykit.facts.rfm` at the period end, the
  report's one RFM scorer; customers without an order in its lookback
  window are in :data:`NO_SEGMENT`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import ibis
import numpy as np
import pandas as pd

from journeykit import facts
from journeykit.data.query import in_window, month_frame, month_of, trailing_months, ts
from journeykit.report.results import export
from journeykit.sections import registry
from journeykit.sections.ltv.models import (
    MIN_REPEAT_CUSTOMERS, MODELS, PENALIZER, Fit, discounted_purchases, expected_purchases, expected_spend,
    fit_spend, fit_transactions, p_alive, population_spend,
)
from journeykit.sections.ltv.summary import (
    MONTH_DAYS, UNIT_DAYS, calibration_holdout, fit_sample, purchase_days, purchases, rfm_summary, triples, unit_days,
)
from journeykit.sections.ltv import uncertainty
from journeykit.sections.ltv.validation import holdout_by_frequency, holdout_errors, period_histogram, tracking
from journeykit.stats import compare

STABLE_KEYS = registry.get("80_ltv").stable_keys
"""The section's stable top-level ``metrics.json`` keys (each also with ``_prev``)."""

KINDS = {"customers": "int", "clv_total": "money", "clv_mean": "money", "clv_median": "money",
         "p_alive_mean": "pct", "expected_purchases_mean": "num"}
"""Display kind of each key figure."""

CORRELATION_LIMIT = 0.3
"""|Pearson r| between repeat frequency and spend above which the
Gamma-Gamma independence assumption is reported as doubtful."""

LOW_ALIVE = 0.5
"""P(alive) below which a high-value customer is listed as at risk."""

TOP_EXPORT = 100
"""Customers in the top-CLV export."""

NO_SEGMENT = "none"
"""RFM key of customers without an order in the RFM lookback window
(labelled by ``facts.label("rfm", "none", cfg)``)."""

OTHER = facts.OTHER
"""Group key of the small groups folded together (shown as "other")."""

UNKNOWN = facts.UNKNOWN
"""Acquisition channel key of customers without one (shown as "not recorded")."""

METRIC_STATUS = {"ok": "converged", "penalized": "penalized", "degenerate": "degenerate", "failed": "failed"}
"""A fit's status as recorded in ``metrics.json`` (``models.<name>.status``)."""

NOT_FITTED = "not_fitted"
"""``models.<name>.status`` of a model the analysis did not fit: no
purchases up to its end (e.g. the comparison month before the data's
first order), or, in ``models_prev``, a model other than this period's
selected one (the comparison refits only that one)."""


# --------------------------------------------------------------------------
# The whole analysis
# --------------------------------------------------------------------------

@dataclasses.dataclass
class Analysis:
    """Everything the section shows, computed once by :func:`analyse`."""

    unit: str
    end: dt.date
    amounts: bool                    # order amounts known (facts.has_amounts)
    calibration_end: dt.date | None  # None: no usable holdout
    customers: pd.DataFrame          # per customer: summary + predictions (ids stay inside journeykit)
    fits: dict                       # name → Fit, on all the data up to the end
    cal_fits: dict                   # name → Fit, on the calibration period
    holdout: dict                    # name → holdout_errors(...), usable calibration fits only
    selected: str | None
    selected_by: str                 # holdout | log_likelihood | none
    gamma_gamma: Fit | None
    correlation: float | None
    repeat_customers: int
    spend_fallback: float | None
    calibration: pd.DataFrame | None
    holdout_table: pd.DataFrame | None
    histogram: pd.DataFrame | None
    tracking: pd.DataFrame | None
    n_triples: int
    fit_seconds: float

    @property
    def ok(self) -> bool:
        """Whether a purchase model was selected (expected purchases and P(alive) exist)."""
        return self.selected is not None

    @property
    def has_clv(self) -> bool:
        """Whether CLV in money exists: a selected model and known amounts."""
        return self.ok and self.amounts

    @property
    def degenerate(self) -> dict[str, str]:
        """Transaction models with a degenerate fit (calibration or all the
        data), in display order: name → the reason of the first such fit."""
        out = {}
        for name in MODELS:
            for f in (self.cal_fits.get(name), self.fits.get(name)):
                if f is not None and f.status == "degenerate":
                    out[name] = f.degenerate
                    break
        return out


def _empty_analysis(unit, end, amounts) -> Analysis:
    return Analysis(unit, end, amounts, None, pd.DataFrame(), {}, {}, {}, None, "none", None, None, 0, None,
                    None, None, None, None, 0, 0.0)


def analyse(ds, cfg=None, *, end: dt.date | None = None, validate: bool = True, models=MODELS,
            warm_from: dt.date | None = None) -> Analysis:
    """Fit, validate and predict, on the purchases up to the day before the
    period end (or up to and including ``end``).

    1. Calibration/holdout split (holdout = the last
       ``definitions.ltv_holdout_days`` days): each model in ``models`` is
       fitted on the calibration summary and scored on the holdout
       (:func:`journeykit.sections.ltv.validation.holdout_errors`). Without
       a calibration period with repeat buyers, there is no holdout.
    2. Every model is refitted on all the data up to the end. The usable
       fit (converged, not degenerate) with the lowest holdout RMSE is
       selected; without a holdout (history too short), the one with the
       highest log-likelihood; with a holdout on which no model could be
       scored, none (``selected_by == "none"``). It gives P(alive), expected purchases and CLV per
       customer; Gamma-Gamma gives spend (see
       :func:`journeykit.sections.ltv.models.fit_spend`).

    The searches of step 2 start from the calibration fits; with
    ``warm_from`` (the end of another analysis, e.g. this period's for the
    comparison period's), from that analysis's fits on all its data
    instead. A start changes how long a search takes, not where it ends
    (to the optimizer's tolerance).

    Computed once per dataset, question and settings (``ds.memo`` on
    ``cfg``): a changed ``definitions.ltv_*`` setting gives a new analysis.
    """
    cfg = cfg or ds.cfg
    end = end or (cfg.period.end - dt.timedelta(days=1))
    return ds.memo(("ltv", end, validate, tuple(models), warm_from),
                   lambda: _analyse(ds, cfg, end, validate, tuple(models), warm_from), cfg)


def _calibrate(t, cal_end: dt.date, end: dt.date, unit: str, models: tuple, limit: int) -> dict | None:
    """Step 1 of :func:`analyse`: ``None`` when the history is too short for
    the holdout (no calibration customer, or none with a repeat purchase)."""
    cal = calibration_holdout(t, cal_end, end, unit).execute()
    if not len(cal) or not (cal["frequency"] > 0).any():
        return None
    cal["customer_id"] = cal["customer_id"].astype(str)
    # rows in customer order: an engine returns them in any order, and the fit sample draws rows by position
    cal = cal.sort_values("customer_id", kind="stable").reset_index(drop=True)
    ctr = triples(cal)
    cfit = ctr if len(cal) <= limit else triples(fit_sample(cal, limit))
    fits, holdout, preds, secs = {}, {}, {}, 0.0
    keys = ["frequency", "recency_days", "T_days"]
    for name in models:
        f = fits[name] = fit_transactions(name, cfit)
        secs += f.seconds
        if not f.usable:
            continue
        e = expected_purchases(f.predictor, float(cal["duration_holdout"].iloc[0]), ctr)
        p = cal[keys].merge(ctr[keys].assign(_e=e), how="left")["_e"].to_numpy(float)
        if not np.isfinite(p).all():
            f.degenerate = "predictions not finite"
            continue
        preds[name] = p
        holdout[name] = holdout_errors(p, cal["frequency_holdout"].to_numpy(float))
    usable = [f for f in fits.values() if f.usable]
    return {"calibration": cal, "fits": fits, "holdout": holdout, "seconds": secs,
            "holdout_table": holdout_by_frequency(cal, preds), "histogram": period_histogram(cal, usable),
            "tracking": tracking(t, cal, usable, cal_end, end, unit)}


def _analyse(ds, cfg, end: dt.date, validate: bool, models: tuple, warm_from: dt.date | None = None) -> Analysis:
    d = cfg.definitions
    unit = str(d.ltv_time_unit)
    amounts = facts.has_amounts(ds)
    t = purchases(ds)
    if t is None:
        return _empty_analysis(unit, end, amounts)
    t = t.filter(t.ordered_at < ts(end + dt.timedelta(days=1)))
    summ = rfm_summary(t, end, unit).execute()
    if summ.empty:
        return _empty_analysis(unit, end, amounts)
    summ["customer_id"] = summ["customer_id"].astype(str)
    # in customer order (not the engine's): the fit sample and the bootstrap draw rows by position
    summ = summ.sort_values("customer_id", kind="stable").reset_index(drop=True)
    # an amount column whose every value is missing is no amount either
    amounts = amounts and bool(summ["total_spend"].notna().any())
    limit = int(d.ltv_max_fit_customers)

    # 1. calibration / holdout
    cal_end = end - dt.timedelta(days=int(d.ltv_holdout_days))
    v = _calibrate(t, cal_end, end, unit, models, limit) if validate else None
    v = v or {"calibration": None, "fits": {}, "holdout": {}, "seconds": 0.0, "holdout_table": None,
              "histogram": None, "tracking": None}
    holdout, fit_secs = v["holdout"], v["seconds"]

    # 2. all data up to the end; the best usable model whose predictions are finite
    tr = triples(summ)
    tfit = tr if len(summ) <= limit else triples(fit_sample(summ, limit))
    warm = analyse(ds, cfg, end=warm_from).fits if warm_from is not None else v["fits"]
    fits = {name: fit_transactions(name, tfit, start=_start_params(warm.get(name))) for name in models}
    fit_secs += sum(f.seconds for f in fits.values())
    usable = [n for n in models if fits[n].usable]
    scored = [n for n in usable if n in holdout]
    if scored:
        ranking, by = sorted(scored, key=lambda n: (holdout[n]["rmse"], MODELS.index(n))), "holdout"
    elif v["calibration"] is not None:
        # a holdout existed and no model passed it: none is good enough (a
        # model whose calibration fit was degenerate or failed is never
        # chosen on its log-likelihood instead)
        ranking, by = [], "none"
    else:
        ranking, by = sorted(usable, key=lambda n: (-fits[n].log_likelihood, MODELS.index(n))), "log_likelihood"
    selected = None
    for name in ranking:
        m = fits[name].predictor
        disc, undisc = discounted_purchases(m, tr, int(d.ltv_horizon_months), float(d.ltv_discount_rate_monthly),
                                            unit)
        pa = p_alive(m, tr)
        if np.isfinite(disc).all() and np.isfinite(undisc).all() and np.isfinite(pa).all():
            selected = name
            break
        fits[name].degenerate = "predictions not finite"
    if selected is None:
        by = "none"

    # spend: only with known amounts
    gg, corr, n_rep, fallback = None, None, 0, None
    if amounts:
        gg, corr, n_rep = fit_spend(summ)
        if gg is not None:
            fit_secs += gg.seconds
        if gg is None or not gg.usable:
            fallback = float(purchase_days(t, end).amount.mean().execute() or 0.0)

    if selected is not None:
        keys = ["frequency", "recency_days", "T_days"]
        per = summ[keys].merge(tr[keys].assign(_d=disc, _u=undisc, _a=pa), how="left")
        spend = expected_spend(gg, summ, fallback) if amounts else np.full(len(summ), np.nan)
        summ["p_alive"] = per["_a"].to_numpy()
        summ["expected_purchases"] = per["_u"].to_numpy()
        summ["expected_spend"] = spend
        summ["clv"] = per["_d"].to_numpy() * spend
    return Analysis(unit, end, amounts, cal_end if v["calibration"] is not None else None, summ, fits,
                    v["fits"], holdout, selected, by, gg, corr, n_rep, fallback, v["calibration"],
                    v["holdout_table"], v["histogram"], v["tracking"], len(tr), fit_secs)


def _start_params(fit: Fit | None) -> dict | None:
    """A fit's parameters to start another search from: only a usable fit's
    (a degenerate or failed one would lead the search to its boundary)."""
    return dict(fit.params) if fit is not None and fit.usable else None


def previous(ds, cfg) -> Analysis:
    """The same analysis at the end of the comparison period, with this
    period's selected model (no holdout: the model choice is made once),
    its searches starting from this period's fits."""
    a = analyse(ds, cfg)
    models = (a.selected,) if a.selected else MODELS
    return analyse(ds, cfg, end=cfg.period.previous().end - dt.timedelta(days=1), validate=False, models=models,
                   warm_from=a.end)


def bootstrap(ds, cfg) -> uncertainty.Bootstrap | None:
    """The customer bootstrap of this period's analysis
    (:func:`journeykit.sections.ltv.uncertainty.run`); computed once per
    dataset and settings. ``None`` without a selected model or with
    ``ltv_bootstrap_samples: 0``."""
    return ds.memo(("ltv_bootstrap",), lambda: uncertainty.run(analyse(ds, cfg), cfg), cfg)


def clv_intervals(ds, cfg) -> dict | None:
    """95% intervals of the total and the mean CLV over the horizon
    (currency; parameter uncertainty, see :mod:`.uncertainty`):
    ``clv_total`` and ``clv_mean`` as ``(low, high)`` (``None`` with fewer
    than :data:`~.uncertainty.MIN_REPLICATES` usable refits or an unstable
    model), and ``samples`` (refits used), ``requested``, ``failed``,
    ``seconds``, ``stopped`` (the time budget ended the refits),
    ``unstable`` (most refits failed: see :mod:`.uncertainty`). ``None``
    without CLV or without a bootstrap."""
    a = analyse(ds, cfg)
    b = bootstrap(ds, cfg)
    iv = uncertainty.clv_intervals(b) if a.has_clv else None
    if iv is None:
        return None
    return iv | {"samples": b.samples, "requested": b.requested, "failed": b.failed, "seconds": b.seconds,
                 "stopped": b.stopped, "unstable": b.unstable}


# --------------------------------------------------------------------------
# Breakdowns: RFM segment, acquisition channel, signup cohort
# --------------------------------------------------------------------------

def _minimum(cfg) -> int:
    return max(int(cfg.definitions.min_group_size), int(cfg.definitions.k_anonymity))


def _group_table(df: pd.DataFrame, group: str, cfg, amounts: bool, order: list | None = None) -> pd.DataFrame:
    """CLV by a group column: ``customers``, ``clv_total``, ``clv_share``,
    ``clv_mean`` (``None`` without amounts), ``p_alive`` (mean),
    ``expected_purchases`` (mean), ``is_other``; groups under
    max(min_group_size, k_anonymity) customers fold into :data:`OTHER`."""
    g = df.groupby(group, dropna=False).agg(customers=("p_alive", "size"), clv_total=("clv", "sum"),
                                            p_sum=("p_alive", "sum"), e_sum=("expected_purchases", "sum")).reset_index()
    g[group] = g[group].astype(str)
    g = compare.fold_small(g, group, "customers", _minimum(cfg), other=OTHER,
                           sum_columns=["customers", "clv_total", "p_sum", "e_sum"])
    if order is not None:
        rank = {k: i for i, k in enumerate(order)}
        g = g.sort_values(group, key=lambda s: s.map(lambda v: rank.get(v, len(rank))), kind="stable")
    total = df["clv"].sum()
    g["clv_share"] = [compare.safe_div(x, total) if amounts else None for x in g["clv_total"]]
    g["clv_mean"] = [compare.safe_div(x, n) if amounts else None for x, n in zip(g["clv_total"], g["customers"])]
    g["clv_total"] = [float(x) if amounts else None for x in g["clv_total"]]
    g["p_alive"] = [compare.safe_div(x, n) for x, n in zip(g["p_sum"], g["customers"])]
    g["expected_purchases"] = [compare.safe_div(x, n) for x, n in zip(g["e_sum"], g["customers"])]
    g["is_other"] = g[group] == OTHER
    return g[[group, "customers", "clv_total", "clv_share", "clv_mean", "p_alive", "expected_purchases",
              "is_other"]].reset_index(drop=True)


def by_segment(ds, cfg) -> pd.DataFrame | None:
    """CLV by RFM segment (:func:`journeykit.facts.rfm` at the period end,
    the report's one RFM scorer, so the segmentation section counts the
    same customers in each segment), segments in the client's rule order,
    then :data:`NO_SEGMENT` (customers whose last purchase is older than
    the RFM lookback), then :data:`OTHER`. ``None`` without a selected model
    or without amounts (the M of RFM)."""
    a = analyse(ds, cfg)
    if not a.has_clv:
        return None
    seg = facts.rfm(ds, cfg)[["customer_id", "segment"]]
    seg = seg.assign(customer_id=seg["customer_id"].astype(str))
    df = a.customers.merge(seg, on="customer_id", how="left")
    df["segment"] = df["segment"].fillna(NO_SEGMENT)
    return _group_table(df, "segment", cfg, a.amounts, order=facts.segment_keys(cfg) + [NO_SEGMENT, OTHER])


has_acquisition = facts.has_acquisition


def customers_derived(ds) -> bool:
    """Whether the loader derived the customers table (signup = first seen)."""
    t = ds.report.tables.get("customers")
    return t is not None and t.status == "derived"


def _customer_attributes(ds):
    """``customer_id`` (string), ``signup_at`` and, with an acquisition
    channel, ``channel`` (trimmed, lower case; :data:`UNKNOWN` when empty)."""
    c = ds.table("customers")
    cols = {"customer_id": c.customer_id.cast("string"), "signup_at": c.signup_at}
    if "acquisition_channel" in c.columns:
        cols["channel"] = facts.channel_key(c.acquisition_channel)
    return c.select(**cols)


def _with_attributes(ds, a: Analysis) -> pd.DataFrame:
    if not ds.has("customers"):
        return a.customers.assign(signup_at=pd.NaT)
    attrs = _customer_attributes(ds).execute()
    attrs["customer_id"] = attrs["customer_id"].astype(str)
    return a.customers.merge(attrs, on="customer_id", how="left")


def by_channel(ds, cfg) -> pd.DataFrame | None:
    """CLV by acquisition channel (``customers.acquisition_channel``,
    missing as :data:`UNKNOWN`); ``None`` without the column or without a
    selected model."""
    a = analyse(ds, cfg)
    if not a.ok or not has_acquisition(ds):
        return None
    df = _with_attributes(ds, a)
    df["channel"] = df["channel"].fillna(UNKNOWN)
    return _group_table(df, "channel", cfg, a.amounts)


def _quarter(ts_: pd.Series) -> pd.Series:
    t = pd.to_datetime(ts_)
    return t.dt.year.astype("Int64").astype(str) + " Q" + t.dt.quarter.astype("Int64").astype(str)


def by_cohort(ds, cfg) -> pd.DataFrame | None:
    """CLV by signup quarter (``customers.signup_at``; when the loader
    derived the customers table, the quarter of the first order or event;
    the first purchase when a customer has no signup). Quarters in time
    order; ``None`` without a selected model."""
    a = analyse(ds, cfg)
    if not a.ok:
        return None
    df = _with_attributes(ds, a)
    start = df["signup_at"].where(df["signup_at"].notna(), df["first_purchase"])
    df["cohort"] = _quarter(start)
    return _group_table(df, "cohort", cfg, a.amounts, order=sorted(df["cohort"].unique()) + [OTHER])


def clv_quantiles(ds, cfg) -> pd.DataFrame | None:
    """CLV distribution: median, 75th, 90th and 99th percentiles (currency),
    and the share of total CLV held by the top 10% of customers (0–1).
    Columns ``key`` (``p50`` … ``p99``, ``top10_share``), ``value``,
    ``kind`` (``money`` / ``pct``); ``None`` without CLV."""
    a = analyse(ds, cfg)
    if not a.has_clv:
        return None
    clv = a.customers["clv"].to_numpy(float)
    srt = np.sort(clv)[::-1]
    top = srt[: max(1, int(math.ceil(0.1 * len(srt))))].sum()
    rows = [("p50", float(np.quantile(clv, 0.5)), "money"), ("p75", float(np.quantile(clv, 0.75)), "money"),
            ("p90", float(np.quantile(clv, 0.9)), "money"), ("p99", float(np.quantile(clv, 0.99)), "money"),
            ("top10_share", compare.safe_div(top, clv.sum()), "pct")]
    return pd.DataFrame(rows, columns=["key", "value", "kind"])


# --------------------------------------------------------------------------
# LTV:CAC and payback by channel
# --------------------------------------------------------------------------

def has_cac(ds) -> bool:
    """Whether LTV:CAC can be computed: marketing spend, acquisition
    channels and order amounts."""
    if not ds.has("marketing") or not has_acquisition(ds) or not facts.has_amounts(ds):
        return False
    m = ds.table("marketing")
    return "spend" in m.columns and bool(int(m.spend.notnull().sum().execute() or 0))


def cac_window(cfg) -> tuple[dt.date, dt.date]:
    """The acquisition window of LTV:CAC: the ``trend_periods`` months ending
    with the period (start inclusive, end exclusive)."""
    months = trailing_months(cfg)
    return months[0].start, months[-1].end


def acquisition_costs(ds, cfg, lo: dt.date, hi: dt.date) -> pd.DataFrame:
    """Per acquisition channel, customers who signed up in ``[lo, hi)``:
    ``signups``, ``spend``, ``cac`` and ``is_other`` as the report defines
    them once (:func:`journeykit.facts.acquisition_costs`)."""
    df = facts.acquisition_costs(ds, cfg, lo, hi)
    df["signups"] = df["signups"].astype("int64")
    return df[["channel", "signups", "spend", "cac", "is_other"]].reset_index(drop=True)


def payback_curve(ds, cfg, max_months: int = 36) -> pd.DataFrame:
    """Average cumulative revenue per signup by month since signup, per
    acquisition channel, all signup cohorts pooled: month ``k``'s revenue
    per signup is the revenue in days ``[k, k+1)·365.25/12`` after signup
    of the customers who had reached the end of that month by the period
    end, over their number; the curve is its running sum. Columns
    ``channel``, ``month`` (1 = first month), ``cum_revenue``, ``signups``."""
    end = cfg.period.end
    c = _customer_attributes(ds)
    c = c.filter(c.signup_at.notnull())
    age = (ibis.literal(ts(end)).epoch_seconds() - c.signup_at.epoch_seconds()) / (86400.0 * MONTH_DAYS)
    c = c.mutate(full_months=age.floor().cast("int64"))
    p = purchases(ds)
    j = p.inner_join(c, p.customer_id == c.customer_id)
    k = ((j.ordered_at.epoch_seconds() - j.signup_at.epoch_seconds()) / (86400.0 * MONTH_DAYS)).floor().cast("int64")
    j = j.mutate(k=ibis.greatest(k, 0))
    j = j.filter((j.k < j.full_months) & (j.k < max_months))
    rev = j.group_by(["channel", "k"]).aggregate(revenue=j.amount.sum()).execute()
    ages = c.group_by(["channel", "full_months"]).aggregate(n=c.count()).execute()
    rows = []
    for ch, g in ages.groupby("channel"):
        rk = rev[rev["channel"] == ch].set_index("k")["revenue"]
        cum = 0.0
        for kk in range(max_months):
            n = int(g.loc[g["full_months"] > kk, "n"].sum())
            if n == 0:
                break
            cum += float(rk.get(kk, 0.0)) / n
            rows.append({"channel": ch, "month": kk + 1, "cum_revenue": cum, "signups": n})
    return pd.DataFrame(rows, columns=["channel", "month", "cum_revenue", "signups"])


def ltv_cac(ds, cfg) -> pd.DataFrame | None:
    """LTV:CAC and CAC payback per acquisition channel, for customers who
    signed up in :func:`cac_window`, at the client's gross margin ``g`` =
    ``definitions.gross_margin`` (1.0: revenue).

    - ``signups``, ``spend``, ``cac``: :func:`acquisition_costs`;
    - ``ltv``: g × (revenue of those signups so far + their CLV over the
      horizon) / signups — customers without a purchase count as 0, so it is
      gross profit (revenue at g = 1) per signup, not per buyer; currency;
    - ``ltv_cac`` = ltv / cac; ``payback_months``: the first month after
      signup in which the pooled cumulative revenue per signup
      (:func:`payback_curve`) × g reaches the CAC (``None``: not within the
      observed months; ``payback_observed`` says how many);
    - ``ltv_ci_low`` / ``ltv_ci_high`` and ``ltv_cac_ci_low`` /
      ``ltv_cac_ci_high``: 95% intervals (:func:`ltv_cac_draws`); ``None``
      with too few replicates;
    - ``is_other``: the row of the folded small channels; ``is_unknown``:
      the customers without a recorded channel (:data:`UNKNOWN`). Their LTV
      is computed like every channel's, but no marketing spend can be
      attributed to them: no CAC, ratio or payback, never ranked.

    ``None`` without spend, acquisition channels or order amounts.
    Computed once per dataset and settings (``ds.memo``).
    """
    if not has_cac(ds):
        return None
    return _ltv_cac_all(ds, cfg)[0]


def ltv_cac_draws(ds, cfg) -> pd.DataFrame | None:
    """The replicates behind the LTV:CAC intervals: one row per replicate
    ``b``, one column per channel of :func:`ltv_cac` (its key), holding the
    channel's LTV:CAC in that replicate (NaN without a CAC). Replicate ``b``
    uses the ``b``-th bootstrap refit's CLV (:func:`bootstrap`; the point
    CLV when there is none) and resamples each channel's signups with
    replacement (seeded): it carries both the parameters' uncertainty and
    the sampling of the channel's customers. Channels share the refit of a
    replicate, so differences between channels are paired. ``None`` when
    :func:`ltv_cac` is."""
    if not has_cac(ds):
        return None
    return _ltv_cac_all(ds, cfg)[1]


SIGNUP_RESAMPLES = 200
"""Replicates of the LTV:CAC intervals when there is no bootstrap refit (CLV held at its point value)."""


def _ltv_cac_all(ds, cfg):
    return ds.memo(("ltv_cac",), lambda: _ltv_cac(ds, cfg), cfg)


def _ltv_cac(ds, cfg):
    a = analyse(ds, cfg)
    margin = float(cfg.definitions.gross_margin)
    lo, hi = cac_window(cfg)
    acq = acquisition_costs(ds, cfg, lo, hi)
    if acq.empty:
        return None, None
    c = in_window(_customer_attributes(ds), "signup_at", lo, hi).execute()
    c["customer_id"] = c["customer_id"].astype(str)
    p = purchases(ds)
    spent = p.group_by("customer_id").aggregate(spent=p.amount.sum()).execute()
    spent["customer_id"] = spent["customer_id"].astype(str)
    c = c.merge(spent, on="customer_id", how="left")
    clv = a.customers[["customer_id", "clv"]] if a.has_clv else pd.DataFrame({"customer_id": [], "clv": []})
    c = c.merge(clv, on="customer_id", how="left")
    c["spent"] = c["spent"].fillna(0.0).astype(float)
    c["value"] = c["spent"] + c["clv"].fillna(0.0)
    kept = set(acq.loc[~acq["is_other"], "channel"])
    c["group"] = c["channel"].where(c["channel"].isin(kept), OTHER)
    val = c.groupby("group")["value"].sum()
    # the replicates: each bootstrap refit's CLV, the channel's signups resampled
    boot = bootstrap(ds, cfg) if a.has_clv else None
    k = boot.samples if boot is not None and not boot.unstable and boot.samples >= uncertainty.MIN_REPLICATES else 0
    row_of = pd.Series(np.arange(len(a.customers)), index=a.customers["customer_id"].astype(str)) if a.has_clv else None
    pos = (c["customer_id"].map(row_of).fillna(-1).astype(int).to_numpy() if row_of is not None
           else np.full(len(c), -1))
    n_rep = k or SIGNUP_RESAMPLES
    members = {ch: np.flatnonzero((c["group"] == ch).to_numpy()) for ch in acq["channel"]}
    ltv_draws = {ch: np.full(n_rep, np.nan) for ch in acq["channel"]}
    point_clv = c["clv"].fillna(0.0).to_numpy(float)
    spent_v = c["spent"].to_numpy(float)
    for b in range(n_rep):
        if k:
            cb = boot.clv(b)
            clv_b = np.where(pos >= 0, cb[np.maximum(pos, 0)], 0.0)
        else:
            clv_b = point_clv
        for j, (ch, m) in enumerate(members.items()):
            if not len(m):
                continue
            rng = np.random.default_rng((uncertainty.SEED, b, j))
            idx = m[rng.integers(0, len(m), len(m))]
            ltv_draws[ch][b] = margin * float((spent_v[idx] + clv_b[idx]).mean())
    curve = payback_curve(ds, cfg)
    rows, ratio_draws = [], {}
    for _, r in acq.iterrows():
        ch, n = r["channel"], r["signups"]
        unknown = ch == UNKNOWN
        ltv_ = compare.safe_div(margin * val.get(ch, 0.0), n)
        cac_ = r["cac"] if r["cac"] is not None and pd.notna(r["cac"]) and not unknown else None
        pb, seen = None, None
        if cac_ is not None and not r["is_other"]:
            cv = curve[curve["channel"] == ch]
            seen = int(cv["month"].max()) if len(cv) else 0
            hit = cv[cv["cum_revenue"] * margin >= cac_]
            pb = int(hit["month"].min()) if len(hit) else None
        ratio_draws[ch] = ltv_draws[ch] / cac_ if cac_ else np.full(n_rep, np.nan)
        liv, riv = uncertainty.interval(ltv_draws[ch]), uncertainty.interval(ratio_draws[ch])
        rows.append({"channel": ch, "signups": int(n), "spend": r["spend"] if not unknown else float("nan"),
                     "cac": cac_, "ltv": ltv_, "ltv_cac": compare.safe_div(ltv_, cac_), "payback_months": pb,
                     "payback_observed": seen, "ltv_ci_low": liv[0] if liv else None,
                     "ltv_ci_high": liv[1] if liv else None, "ltv_cac_ci_low": riv[0] if riv else None,
                     "ltv_cac_ci_high": riv[1] if riv else None, "is_other": bool(r["is_other"]),
                     "is_unknown": unknown})
    return pd.DataFrame(rows), pd.DataFrame(ratio_draws)


def ranked_channels(df: pd.DataFrame | None) -> pd.DataFrame:
    """The named channels of :func:`ltv_cac` with a ratio, best LTV:CAC
    first (never the folded small channels nor the customers without a
    recorded channel)."""
    if df is None or df.empty:
        return pd.DataFrame(columns=["channel", "ltv_cac"])
    unknown = df["is_unknown"] if "is_unknown" in df.columns else df["channel"] == UNKNOWN
    ok = df[~df["is_other"] & ~unknown & df["ltv_cac"].notna()]
    return ok.sort_values(["ltv_cac", "channel"], ascending=[False, True])


def channel_gap(ds, cfg, best: str, worst: str) -> tuple[float, float] | None:
    """95% interval of LTV:CAC of ``best`` minus that of ``worst``, paired
    over the replicates of :func:`ltv_cac_draws`; ``None`` with too few."""
    d = ltv_cac_draws(ds, cfg)
    if d is None or best not in d.columns or worst not in d.columns:
        return None
    return uncertainty.interval((d[best] - d[worst]).to_numpy(float))


# --------------------------------------------------------------------------
# Target lists
# --------------------------------------------------------------------------

def top_customers(ds, cfg, n: int = TOP_EXPORT) -> pd.DataFrame | None:
    """The ``n`` customers with the highest CLV (without amounts: the most
    expected purchases): ``customer_id`` (pseudonymized on export), ``clv``,
    ``p_alive``, ``expected_purchases``, ``expected_spend``, ``frequency``,
    ``recency_days``, ``T_days``, ``total_spend``."""
    a = analyse(ds, cfg)
    if not a.ok:
        return None
    key = "clv" if a.has_clv else "expected_purchases"
    cols = ["customer_id", "clv", "p_alive", "expected_purchases", "expected_spend", "frequency", "recency_days",
            "T_days", "total_spend"]
    return a.customers.sort_values([key, "customer_id"], ascending=[False, True]).head(n)[cols].reset_index(drop=True)


def at_risk_customers(ds, cfg) -> pd.DataFrame | None:
    """High-value customers who are probably lapsing: the top fifth by past
    spend (``total_spend``; without amounts, by purchase days) whose
    P(alive) is below :data:`LOW_ALIVE`; sorted by that value."""
    a = analyse(ds, cfg)
    if not a.ok:
        return None
    c = a.customers
    key = "total_spend" if a.amounts else "frequency"
    cut = c[key].quantile(0.8)
    r = c[(c[key] >= cut) & (c["p_alive"] < LOW_ALIVE)]
    cols = ["customer_id", "total_spend", "p_alive", "clv", "frequency", "recency_days", "T_days"]
    return r.sort_values([key, "customer_id"], ascending=[False, True])[cols].reset_index(drop=True)


def write_exports(ds, cfg) -> dict:
    """Write the two target lists through :func:`journeykit.report.export`
    (pseudonymized ids, only inside a report run). Returns ``{name: (rows,
    path or None)}``; empty without a selected model."""
    out = {}
    for name, df in (("ltv_top_customers", top_customers(ds, cfg)), ("ltv_high_value_at_risk", at_risk_customers(ds, cfg))):
        if df is None:
            continue
        num = df.select_dtypes("float").columns
        out[name] = (len(df), export(name, df.assign(**{c: df[c].round(4) for c in num}), cfg))
    return out


# --------------------------------------------------------------------------
# Monthly inputs (the trend chart)
# --------------------------------------------------------------------------

def monthly(ds, cfg) -> pd.DataFrame:
    """What feeds the models, one row per month of the trend window from the
    first month with orders: ``new_buyers`` (customers whose first purchase
    day is in the month), ``buyers`` (customers with a purchase day in the
    month), ``repeat_days`` (purchase days in the month that are not a
    customer's first), ``spend_per_day`` (mean amount of the month's
    purchase days; currency; NaN without amounts)."""
    frame = month_frame(cfg, since=ds.first_date("orders"))
    cols = ["new_buyers", "buyers", "repeat_days", "spend_per_day"]
    p = purchases(ds)
    if p is None:
        return frame.assign(**{c: np.nan for c in cols})
    lo, hi = frame["month"].min().date(), cfg.period.end
    d = purchase_days(p)
    d = d.mutate(_first=d.day.min().over(group_by=d.customer_id))
    d = in_window(d, "day", lo, hi)
    d = d.mutate(month=month_of(d.day))
    m = d.group_by("month").aggregate(new_buyers=d.count(where=d.day == d._first), buyers=d.customer_id.nunique(),
                                      repeat_days=d.count(where=d.day > d._first),
                                      spend_per_day=d.amount.mean()).execute()
    m["month"] = pd.to_datetime(m["month"])
    out = frame.merge(m, on="month", how="left")
    for c in ("new_buyers", "buyers", "repeat_days"):
        out[c] = out[c].fillna(0).astype(float)
    out["spend_per_day"] = out["spend_per_day"].astype(float)
    return out


# --------------------------------------------------------------------------
# Key figures, metrics, findings
# --------------------------------------------------------------------------

def headline(a: Analysis) -> dict:
    """The key figures of one analysis (``None`` where not computable):
    ``customers`` (customers with a purchase up to the end), ``clv_total`` /
    ``clv_mean`` / ``clv_median`` (CLV over the horizon, summed / mean /
    median over those customers; currency; ``None`` without amounts),
    ``p_alive_mean`` (mean P(alive), 0–1), ``expected_purchases_mean``
    (expected purchase days per customer over the horizon, undiscounted)."""
    c = a.customers
    out = {k: None for k in KINDS}
    out["customers"] = float(len(c)) if len(c) else None
    if a.ok:
        out |= {"p_alive_mean": float(c["p_alive"].mean()),
                "expected_purchases_mean": float(c["expected_purchases"].mean())}
    if a.has_clv:
        out |= {"clv_total": float(c["clv"].sum()), "clv_mean": float(c["clv"].mean()),
                "clv_median": float(c["clv"].median())}
    return out


def changes(ds, cfg) -> list[compare.Change]:
    """This period's key figures against the comparison period's
    (:func:`headline` of :func:`analyse` and :func:`previous`). Model
    outputs have no sampling model: no test (:func:`compare.value`)."""
    a, b = headline(analyse(ds, cfg)), headline(previous(ds, cfg))
    return compare.judge([compare.value(k, a[k], b[k], higher_is_better=True) for k in KINDS], cfg, first_date=ds.first_date())


def _model_metrics(fits: dict, holdout: dict) -> dict:
    out = {}
    for name in MODELS:
        f = fits.get(name)
        ok = f is not None and f.converged
        out[name] = {"params": f.params if ok else None, "log_likelihood": f.log_likelihood if ok else None,
                     "holdout_error": (holdout.get(name) or {}).get("rmse") if ok else None,
                     "converged": bool(ok) if f is not None else None,
                     "penalizer": f.penalizer if ok else None,
                     "status": METRIC_STATUS[f.status] if f is not None else NOT_FITTED}
    return out


def metrics(ds, cfg) -> dict:
    """The section's stable ``metrics.json`` keys (:data:`STABLE_KEYS`), each
    with ``_prev`` (the analysis at the end of the comparison period, with
    this period's selected model):

    - ``time_unit``: the models' time unit; ``horizon_months``,
      ``discount_rate_monthly``: the CLV settings;
    - ``models.<bgnbd|pareto_nbd|mbgnbd>``: ``params`` ({r, alpha, a, b} /
      {r, alpha, s, beta}, alpha and beta in the time unit), ``log_likelihood``
      (on all the data), ``holdout_error`` (RMSE of holdout purchase days
      per customer, from the calibration fit; ``null`` when that fit was not
      usable), ``converged`` (the optimizer converged), ``penalizer``,
      ``status`` (``converged``, ``penalized``, ``degenerate`` — converged
      on estimates at the edge of the parameter space, never used —,
      ``failed``, or ``not_fitted`` (:data:`NOT_FITTED`): never ``null``);
      params and log-likelihood ``null`` for a model that did not converge;
    - ``selected_model``: the model used for predictions (never a
      degenerate or failed one, nor one whose calibration fit failed the
      holdout); ``null`` when no model is good enough;
    - ``gamma_gamma``: ``params`` {p, q, v} (v in the client's currency;
      ``null`` unless usable), ``correlation`` (frequency–spend, repeat
      customers), ``customers``, ``status``;
    - ``clv_total``, ``clv_mean``, ``clv_median``: CLV over the horizon
      (currency), summed / mean / median over customers with a purchase;
      ``null`` when amounts are unknown.

    Also (not stable): ``customers``, ``p_alive_mean``,
    ``expected_purchases_mean``, ``triples``;
    ``clv_total_ci_low`` / ``clv_total_ci_high`` and ``clv_mean_ci_low`` /
    ``clv_mean_ci_high`` (95% intervals of this period's CLV,
    :func:`clv_intervals`; ``null`` without), ``bootstrap_samples`` (refits
    behind them); ``gross_margin`` (the setting LTV:CAC uses). How long the
    fits and the bootstrap took is in :func:`timings` (run.json: it differs
    from run to run).
    """
    d = cfg.definitions
    out: dict = {}
    for suffix, a in (("", analyse(ds, cfg)), ("_prev", previous(ds, cfg))):
        h = headline(a)
        gg = a.gamma_gamma
        out |= {
            f"time_unit{suffix}": a.unit,
            f"models{suffix}": _model_metrics(a.fits, a.holdout),
            f"selected_model{suffix}": a.selected,
            f"gamma_gamma{suffix}": {"params": gg.params if gg is not None and gg.usable else None,
                                     "correlation": a.correlation, "customers": a.repeat_customers,
                                     "status": METRIC_STATUS[gg.status] if gg is not None else None},
            f"clv_total{suffix}": h["clv_total"], f"clv_mean{suffix}": h["clv_mean"],
            f"clv_median{suffix}": h["clv_median"],
            f"horizon_months{suffix}": int(d.ltv_horizon_months),
            f"discount_rate_monthly{suffix}": float(d.ltv_discount_rate_monthly),
            f"customers{suffix}": h["customers"], f"p_alive_mean{suffix}": h["p_alive_mean"],
            f"expected_purchases_mean{suffix}": h["expected_purchases_mean"],
        }
    out["triples"] = analyse(ds, cfg).n_triples
    iv = clv_intervals(ds, cfg) or {}
    for k in ("clv_total", "clv_mean"):
        lo_hi = iv.get(k) or (None, None)
        out[f"{k}_ci_low"], out[f"{k}_ci_high"] = lo_hi
    out["bootstrap_samples"] = iv.get("samples")
    out["gross_margin"] = float(cfg.definitions.gross_margin)
    return out


def timings(ds, cfg) -> dict:
    """``fit_seconds``: the seconds the period's model fits took (every
    model, with its retry), and ``bootstrap_seconds``: the CLV intervals'
    refits (``None`` without intervals), for run.json
    (:func:`journeykit.report.record`'s ``timings``)."""
    iv = clv_intervals(ds, cfg)
    return {"fit_seconds": round(analyse(ds, cfg).fit_seconds, 3),
            "bootstrap_seconds": round(iv["seconds"], 3) if iv else None}


def findings(ds, cfg) -> list[dict]:
    """What to look at next, most urgent first: one dict per rule that
    fires, ``rule`` plus its numbers. Rules (each on its own):

    1. ``risk``: high-value customers (:func:`at_risk_customers`) — at least
       ``min_sample_size`` of them, or 5% of customers (``n``, ``spend``:
       their past spend, ``None`` without amounts);
    2. ``concentration``: the top 10% of customers hold more than half of
       the total CLV (``share``);
    3. ``channel``: the best channel's LTV:CAC is at least twice the
       worst's and the 95% interval of their difference (:func:`channel_gap`)
       is above 0 (``best``, ``worst``, ``best_ratio``, ``worst_ratio``,
       ``gap``: the interval); ``channel_uncertain`` when twice but the
       interval reaches 0 (same keys): no budget advice then;
       ``unprofitable``: a channel whose LTV:CAC and the upper end of its
       interval are below 1 (``channel``, ``ratio``);
    4. ``model``: the selected model misses total holdout purchases by more
       than 10% (``error``, signed, 0–1 scale);
    5. ``correlation``: the frequency–spend correlation is at or above
       :data:`CORRELATION_LIMIT` (``r``).

    Empty without a selected model.
    """
    a = analyse(ds, cfg)
    if not a.ok:
        return []
    out = []
    risk = at_risk_customers(ds, cfg)
    if risk is not None and len(risk) and (len(risk) >= int(cfg.definitions.min_sample_size)
                                           or len(risk) >= 0.05 * len(a.customers)):
        out.append({"rule": "risk", "n": len(risk),
                    "spend": float(risk["total_spend"].sum()) if a.amounts else None})
    q = clv_quantiles(ds, cfg)
    if q is not None:
        share = float(q.loc[q["key"] == "top10_share", "value"].iloc[0] or 0)
        if share > 0.5:
            out.append({"rule": "concentration", "share": share})
    ranked = ranked_channels(ltv_cac(ds, cfg))
    if len(ranked) >= 2:
        best, worst = ranked.iloc[0], ranked.iloc[-1]
        if worst["ltv_cac"] > 0 and best["ltv_cac"] >= 2 * worst["ltv_cac"]:
            gap = channel_gap(ds, cfg, best["channel"], worst["channel"])
            out.append({"rule": "channel" if gap is not None and gap[0] > 0 else "channel_uncertain",
                        "best": best["channel"], "worst": worst["channel"], "best_ratio": float(best["ltv_cac"]),
                        "worst_ratio": float(worst["ltv_cac"]), "gap": gap})
    for _, r in ranked[ranked["ltv_cac"] < 1].iterrows():
        hi = r.get("ltv_cac_ci_high")
        if hi is not None and pd.notna(hi) and hi < 1:
            out.append({"rule": "unprofitable", "channel": r["channel"], "ratio": float(r["ltv_cac"])})
    err = a.holdout.get(a.selected, {}).get("total_error")
    if err is not None and abs(err) > 0.1:
        out.append({"rule": "model", "error": float(err)})
    if a.correlation is not None and abs(a.correlation) >= CORRELATION_LIMIT:
        out.append({"rule": "correlation", "r": float(a.correlation)})
    return out


__all__ = ["STABLE_KEYS", "KINDS", "MODELS", "UNIT_DAYS", "PENALIZER", "MIN_REPEAT_CUSTOMERS", "CORRELATION_LIMIT",
           "LOW_ALIVE", "TOP_EXPORT", "NO_SEGMENT", "OTHER", "UNKNOWN", "METRIC_STATUS", "NOT_FITTED", "Analysis",
           # the transforms and models, re-exported (bench, golden tests)
           "purchases", "purchase_days", "rfm_summary", "calibration_holdout", "fit_sample", "triples", "unit_days",
           "Fit", "fit_transactions", "fit_spend", "expected_purchases", "p_alive", "discounted_purchases",
           "expected_spend", "population_spend", "holdout_errors",
           # the analysis
           "analyse", "previous", "by_segment", "by_channel", "by_cohort", "clv_quantiles", "has_acquisition",
           "customers_derived", "has_cac", "cac_window", "acquisition_costs", "payback_curve", "ltv_cac",
           "ltv_cac_draws", "SIGNUP_RESAMPLES", "channel_gap", "bootstrap", "clv_intervals", "ranked_channels",
           "top_customers", "at_risk_customers", "write_exports", "monthly", "headline", "changes", "metrics", "timings",
           "findings"]
