"""Prediction models and their evaluation.

The headline model is a gradient-boosting classifier (scikit-learn
``HistGradientBoostingClassifier``); a logistic regression is the baseline.
Both weight the classes to balance them, and their probabilities are then
corrected back to the training base rate (the prior-shift correction of
Saerens, Latinne & Decaestecker 2002), so expected counts and the Brier
score mean what they say.

A feature that is all missing or constant on the rows a model is fitted on
carries nothing to learn from (and an all-missing one stops scikit-learn
1.9's gradient boosting with "window shape cannot be larger than input
array shape"): every fit leaves such columns out (:func:`unusable_columns`)
and records them (``Model.dropped_``).

References
----------
Saerens, M., Latinne, P. & Decaestecker, C. (2002). Adjusting the outputs of
a classifier to new a priori probabilities: a simple procedure. *Neural
Computation* 14(1), 21–41.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

import numpy as np
import pandas as pd

from journeykit.core.settings import PredictionSettings


# --------------------------------------------------------------------------
# Model input
# --------------------------------------------------------------------------

def design(X: pd.DataFrame, cats: tuple[str, ...], columns: list[str] | None = None) -> pd.DataFrame:
    """Numeric model input: categories one-hot encoded (``<col>=<value>``;
    a missing category is ``<col>=(none)``); with ``columns`` (the training
    columns) the frame is aligned to them."""
    num = X.drop(columns=[c for c in cats if c in X.columns]).astype("float64")
    dummies = [pd.get_dummies(X[c].fillna("(none)").astype(str), prefix=c, prefix_sep="=", dtype="float64")
               for c in cats if c in X.columns]
    out = pd.concat([num, *dummies], axis=1)
    if columns is not None:
        out = out.reindex(columns=columns, fill_value=0.0)
    return out


def feature_of(column: str) -> str:
    """The feature a model column belongs to: ``device=mobile`` → ``device``."""
    return column.split("=", 1)[0]


def unusable_columns(X: pd.DataFrame) -> list[str]:
    """The columns of ``X`` with nothing to learn from: all missing, or one
    value on every row. A column with one value and some missing rows is
    kept (missing or not is informative)."""
    out = []
    for c in X.columns:  # column by column: no copy of the whole design matrix
        a = X[c].to_numpy(dtype="float64")
        nan = np.isnan(a)
        if nan.all():
            out.append(c)
            continue
        present = a[~nan]
        if len(a) < 2 or (present.min() == present.max() and not nan.any()):
            out.append(c)
    return out


def dropped_features(columns: Iterable[str], dropped: Iterable[str]) -> list[str]:
    """The features all of whose model ``columns`` are in ``dropped``
    (a category counts as dropped only when every level was), in order."""
    gone = set(dropped)
    return [f for f, cols in _groups(columns).items() if all(c in gone for c in cols)]


def _groups(columns: Iterable[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for c in columns:
        out.setdefault(feature_of(c), []).append(c)
    return out


# --------------------------------------------------------------------------
# The classifier
# --------------------------------------------------------------------------

def _weights(y: np.ndarray, mode: str) -> np.ndarray:
    if mode == "none":
        return np.ones(len(y))
    pos = y.mean()
    return np.where(y == 1, 0.5 / pos, 0.5 / (1 - pos))


def prior_correct(p: np.ndarray, base_rate: float, trained_rate: float = 0.5) -> np.ndarray:
    """Probabilities of a model trained at ``trained_rate`` (0.5 with balanced
    class weights) moved back to ``base_rate``: odds × (π/(1−π)) / (ρ/(1−ρ))
    (Saerens, Latinne & Decaestecker 2002). Ranking is unchanged."""
    p = np.clip(np.asarray(p, float), 1e-6, 1 - 1e-6)
    k = (base_rate / (1 - base_rate)) / (trained_rate / (1 - trained_rate))
    odds = p / (1 - p) * k
    return odds / (1 + odds)


def _threads(n_rows: int):
    """One thread for small frames: on a few thousand rows OpenMP's start-up
    costs more than it saves (measured: 6× slower with every core)."""
    return _controller().limit(limits=1 if n_rows < 50_000 else None)


@functools.lru_cache(maxsize=1)
def _controller():
    # The process's thread pools, found once (not a data cache): a model
    # scored hundreds of times (permutation importance, drivers) looked
    # them up on every call.
    import sklearn.ensemble  # noqa: F401  (loads the OpenMP runtime the controller must see)
    import sklearn.linear_model  # noqa: F401
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def auc(y: np.ndarray, p: np.ndarray) -> float:
    """ROC AUC as the Mann–Whitney statistic (ties count half): the chance
    that a random positive scores above a random negative; ``nan`` without
    both classes."""
    from scipy.stats import rankdata

    y = np.asarray(y, bool)
    n1, n0 = int(y.sum()), int((~y).sum())
    if not n1 or not n0:
        return float("nan")
    r = rankdata(p)
    return float((r[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


class Model:
    """One classifier with its preprocessing, scikit-learn style: ``fit``
    returns ``self``; ``predict_proba`` returns calibrated P(y = 1).

    ``kind`` is ``gbm`` (gradient boosting) or ``logistic``. Learned state:
    ``columns_`` (the columns used), ``dropped_`` (columns left out because
    they were all missing or constant on the fitted rows),
    ``base_rate_``, ``trained_rate_`` and ``estimator_`` (``None`` when no
    column was usable: every customer then gets the base rate).
    """

    def __init__(self, kind: str, st: PredictionSettings):
        self.kind = kind
        self.st = st

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> Model:
        y = np.asarray(y, int)
        self.dropped_ = unusable_columns(X)
        gone = set(self.dropped_)
        self.columns_ = [c for c in X.columns if c not in gone]
        self.base_rate_ = float(y.mean())
        self.trained_rate_ = 0.5 if self.st.class_weight == "balanced" else self.base_rate_
        self.estimator_ = None
        if self.columns_:
            with _threads(len(X)):
                self._fit(X[self.columns_], y, _weights(y, self.st.class_weight))
        return self

    def _fit(self, X: pd.DataFrame, y: np.ndarray, w: np.ndarray) -> None:
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.impute import SimpleImputer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        if self.kind == "gbm":
            g = self.st.gbm
            self.estimator_ = HistGradientBoostingClassifier(
                max_iter=g.max_iter, learning_rate=g.learning_rate, max_depth=g.max_depth,
                min_samples_leaf=g.min_samples_leaf, l2_regularization=g.l2_regularization, max_bins=g.max_bins,
                early_stopping=False, random_state=self.st.seed)
            self.estimator_.fit(X.to_numpy(), y, sample_weight=w)
        else:
            lg = self.st.logistic
            self.estimator_ = make_pipeline(
                SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler(),
                LogisticRegression(C=lg.C, max_iter=lg.max_iter, random_state=self.st.seed))
            self.estimator_.fit(X.to_numpy(), y, logisticregression__sample_weight=w)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        if self.estimator_ is None:
            return np.full(len(X), self.base_rate_)
        with _threads(len(X)):
            raw = self.estimator_.predict_proba(X[self.columns_].to_numpy())[:, 1]
        if self.trained_rate_ == self.base_rate_:
            return raw
        return prior_correct(raw, self.base_rate_, self.trained_rate_)


# --------------------------------------------------------------------------
# Samples and model choice
# --------------------------------------------------------------------------

def sample_rows(y: np.ndarray, n: int, seed: int) -> np.ndarray | None:
    """Sorted row positions of a seeded sample of ``n`` rows of ``y`` with its
    class shares (stratified); ``None`` when ``y`` has at most ``n`` rows."""
    if len(y) <= n:
        return None
    from sklearn.model_selection import train_test_split

    idx, _ = train_test_split(np.arange(len(y)), train_size=n, stratify=y, random_state=seed)
    return np.sort(idx)


def subset(X: pd.DataFrame, y: np.ndarray, rows: np.ndarray | None) -> tuple[pd.DataFrame, np.ndarray]:
    """The rows ``rows`` of ``X`` and ``y`` (all of them when ``None``)."""
    return (X, y) if rows is None else (X.iloc[rows], y[rows])


def choose_model(X: pd.DataFrame, y: np.ndarray, st: PredictionSettings) -> str:
    """The headline model: ``st.model``, or with ``auto`` the one that ranks
    training customers it was not fitted on better (ROC AUC), never the test
    window; gradient boosting on a tie. On a seeded stratified sample of
    ``st.max_choice_rows`` training customers when there are more.

    - one seeded stratified **holdout** (``st.choice_holdout`` of the
      customers, 25 % by default; both kinds fitted on the rest) when it
      holds at least ``st.choice_holdout_min_class`` customers of each
      class: two fits;
    - otherwise a seeded **5-fold** stratified cross-validation (mean ROC
      AUC over the folds): on a small window the fits are cheap, and one
      small holdout cannot tell the two kinds apart.
    """
    if st.model != "auto":
        return st.model
    X, y = subset(X, y, sample_rows(y, st.max_choice_rows, st.seed))
    y = np.asarray(y, int)
    minority = int(min(y.sum(), len(y) - y.sum()))
    if int(st.choice_holdout * minority) >= st.choice_holdout_min_class:
        from sklearn.model_selection import train_test_split

        splits = [train_test_split(np.arange(len(y)), test_size=st.choice_holdout, stratify=y, random_state=st.seed)]
    else:
        from sklearn.model_selection import StratifiedKFold

        splits = list(StratifiedKFold(n_splits=5, shuffle=True, random_state=st.seed).split(X, y))
    held: dict[str, list[float]] = {"gbm": [], "logistic": []}
    for fit, hold in splits:
        for kind in held:
            held[kind].append(auc(y[hold], Model(kind, st).fit(X.iloc[fit], y[fit]).predict_proba(X.iloc[hold])))
    return "logistic" if np.nanmean(held["logistic"]) > np.nanmean(held["gbm"]) else "gbm"


# --------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------

def deciles(y: np.ndarray, p: np.ndarray) -> pd.DataFrame:
    """Lift and cumulative gains by decile of the score (decile 1 = the 10%
    with the highest scores; ties broken by position). Columns: ``decile``,
    ``customers``, ``positives``, ``rate`` (positives / customers),
    ``predicted`` (mean score), ``lift`` (rate / overall rate) and
    ``gains`` (share of all positives in this and higher deciles)."""
    y = np.asarray(y, float)
    p = np.asarray(p, float)
    order = np.argsort(-p, kind="stable")
    groups = np.array_split(order, 10)
    total, rate = y.sum(), y.mean() if len(y) else float("nan")
    rows, cum = [], 0.0
    for i, g in enumerate(groups, 1):
        pos = float(y[g].sum())
        cum += pos
        r = pos / len(g) if len(g) else float("nan")
        rows.append({"decile": i, "customers": len(g), "positives": pos, "rate": r,
                     "predicted": float(p[g].mean()) if len(g) else float("nan"),
                     "lift": r / rate if rate else float("nan"), "gains": cum / total if total else float("nan")})
    return pd.DataFrame(rows)


def calibration(y: np.ndarray, p: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Calibration curve: customers in ``bins`` equal-count groups by score;
    ``predicted`` (mean score) against ``observed`` (share positive)."""
    y, p = np.asarray(y, float), np.asarray(p, float)
    order = np.argsort(p, kind="stable")
    rows = []
    for g in np.array_split(order, min(bins, max(len(p), 1))):
        if len(g):
            rows.append({"predicted": float(np.mean(p[g])), "observed": float(np.mean(y[g])), "customers": len(g)})
    return pd.DataFrame(rows, columns=["predicted", "observed", "customers"])


def scores(y: np.ndarray, p: np.ndarray) -> dict:
    """ROC AUC, PR AUC (average precision), Brier score, base rate,
    top-decile lift (positive rate of the top 10% by score / base rate) and
    top-decile capture (share of all positives in that 10%)."""
    from sklearn.metrics import average_precision_score, brier_score_loss

    y = np.asarray(y, int)
    d = deciles(y, p)
    return {"roc_auc": auc(y, p), "pr_auc": float(average_precision_score(y, p)),
            "brier": float(brier_score_loss(y, p)), "base_rate": float(y.mean()),
            "top_decile_lift": float(d["lift"].iloc[0]), "top_decile_capture": float(d["gains"].iloc[0])}


_BATCH_ROWS = 40_000
"""Rows per scoring call when many copies of a frame are scored: enough that
a model's fixed cost per call does not dominate on a few thousand rows, and
under :func:`_threads`' limit so each call runs on one thread (measured on
the demo's churn window, 7,634 rows × 81 copies on a shared 2-core machine:
3.3 s of CPU in 40,000-row calls against 6.0 s in 250,000-row calls, whose
waiting OpenMP threads burn CPU)."""


def permutation_importance(model: Model, X: pd.DataFrame, y: np.ndarray, seed: int, repeats: int = 3,
                           batch_rows: int = _BATCH_ROWS) -> pd.DataFrame:
    """Mean drop of ROC AUC on ``(X, y)`` when one feature is shuffled
    (one-hot columns of a category are shuffled together), sorted; only the
    features the model uses; ``sd`` is the standard deviation over the
    ``repeats`` shuffles. The shuffled copies are scored together, about
    ``batch_rows`` rows per call."""
    rng = np.random.default_rng(seed)
    base = auc(y, model.predict_proba(X))
    groups = _groups(getattr(model, "columns_", X.columns))
    copies = []
    for name, cols in groups.items():
        for _ in range(repeats):
            Xp = X.copy()
            idx = rng.permutation(len(X))
            Xp[cols] = X[cols].to_numpy()[idx]
            copies.append((name, Xp))
    per_call = max(1, batch_rows // max(len(X), 1))
    drops: dict[str, list[float]] = {name: [] for name in groups}
    for i in range(0, len(copies), per_call):
        part = copies[i:i + per_call]
        p = model.predict_proba(pd.concat([c for _, c in part], ignore_index=True))
        for k, (name, _) in enumerate(part):
            drops[name].append(base - auc(y, p[k * len(X):(k + 1) * len(X)]))
    rows = [{"feature": name, "importance": float(np.mean(d)), "sd": float(np.std(d))} for name, d in drops.items()]
    return pd.DataFrame(rows, columns=["feature", "importance", "sd"]).sort_values(
        ["importance", "feature"], ascending=[False, True]).reset_index(drop=True)


DRIVER_COLUMNS = ["customer_id", "rank", "feature", "value", "effect"]


def drivers(model: Model, X: pd.DataFrame, reference: pd.DataFrame, top: int = 3) -> pd.DataFrame:
    """The main drivers of each customer's score: for each feature the model
    uses (a category's one-hot columns together), the score change when the
    customer's value is replaced by the typical value in ``reference`` (its
    median; for a category, the most common one). Returns one row per
    customer of ``X`` and rank ``1..top`` with ``feature``, ``value`` (the
    customer's value; the category name for a category) and ``effect`` (score
    points the feature adds), only for features that raise the score.
    Only the customers whose value differs from the typical one are scored
    again: the others' effect is exactly 0."""
    p0 = model.predict_proba(X)
    groups = _groups(getattr(model, "columns_", X.columns))
    med = reference.median(numeric_only=True)
    effects, values, copies = {}, {}, []
    for name, cols in groups.items():
        if len(cols) == 1 and "=" not in cols[0]:
            x = X[cols[0]].to_numpy(dtype=float)
            typical_value = float(med.get(cols[0], np.nan))
            # a customer who already has the typical value: her score does not move (effect 0)
            changed = ~((x == typical_value) | (np.isnan(x) & np.isnan(typical_value)))
            Xr = X.loc[changed].copy()
            Xr[cols[0]] = typical_value
            values[name] = X[cols[0]].to_numpy()
        else:
            typical = reference[cols].sum().idxmax()
            M = X[cols].to_numpy()
            changed = (M != np.array([1.0 if c == typical else 0.0 for c in cols])).any(axis=1)
            Xr = X.loc[changed].copy()
            Xr[cols] = 0.0
            Xr[typical] = 1.0
            levels = np.array([c.split("=", 1)[1] for c in cols], dtype=object)
            values[name] = np.where(M.max(axis=1) > 0, levels[M.argmax(axis=1)], None)
        effects[name] = np.zeros(len(X))
        copies.append((name, changed, Xr))
    # only the rows a change moves are scored; the changed copies together, a few calls
    # instead of one per feature
    start = 0
    while start < len(copies):
        stop, rows = start, 0
        while stop < len(copies) and (stop == start or rows + len(copies[stop][2]) <= _BATCH_ROWS):
            rows += len(copies[stop][2])
            stop += 1
        part = [c for c in copies[start:stop] if len(c[2])]
        if part:
            p = model.predict_proba(pd.concat([c for _, _, c in part], ignore_index=True))
            at = 0
            for name, changed, Xr in part:
                effects[name][changed] = p0[changed] - p[at:at + len(Xr)]
                at += len(Xr)
        start = stop
    names = list(effects)
    if not names or not len(X):
        return pd.DataFrame(columns=DRIVER_COLUMNS)
    E = np.column_stack([effects[n] for n in names])
    order = np.argsort(-E, axis=1, kind="stable")[:, :top]
    ids, pos = X.index.to_numpy(), np.arange(len(X))
    parts = []
    for r in range(order.shape[1]):
        j = order[:, r]
        eff = E[pos, j]
        keep = eff > 0.005  # sorted: a rank that falls below ends the customer's list
        vals = np.empty(len(X), dtype=object)
        for k, n in enumerate(names):
            at = keep & (j == k)
            vals[at] = values[n][at]
        parts.append(pd.DataFrame({"_pos": pos[keep], "customer_id": ids[keep], "rank": r + 1,
                                   "feature": np.array(names, dtype=object)[j[keep]], "value": vals[keep],
                                   "effect": eff[keep].astype(float)}))
    out = pd.concat(parts, ignore_index=True).sort_values(["_pos", "rank"], kind="stable")
    return out[DRIVER_COLUMNS].reset_index(drop=True)


# --------------------------------------------------------------------------
# Is the model worth acting on? A one-feature rule and bootstrap intervals
# --------------------------------------------------------------------------

def best_rule(X: pd.DataFrame, y: np.ndarray) -> dict | None:
    """The simple rule a model has to beat: rank customers by one numeric
    feature of ``X`` (not a one-hot category), in the direction and with
    missing values placed (first or last) where they give the highest ROC
    AUC on ``(X, y)`` — the training window, never the test window.

    Returns ``{"feature", "direction" (+1: higher value, higher score; −1:
    lower), "fill" (the value that stands for a missing one), "roc_auc"}``,
    or ``None`` when no feature varies. Ties between features go to the
    first column.
    """
    y = np.asarray(y, int)
    best = None
    for c in X.columns:
        if "=" in c:
            continue
        a = X[c].to_numpy(dtype="float64")
        ok = ~np.isnan(a)
        if not ok.any() or np.nanmin(a) == np.nanmax(a) and ok.all():
            continue
        lo, hi = float(np.nanmin(a)), float(np.nanmax(a))
        for direction in (1, -1):
            for fill in (hi + 1.0, lo - 1.0) if not ok.all() else (hi + 1.0,):
                v = auc(y, direction * np.where(ok, a, fill))
                if best is None or v > best["roc_auc"] + 1e-12:
                    best = {"feature": c, "direction": direction, "fill": fill, "roc_auc": float(v)}
    return best


def rule_scores(X: pd.DataFrame, rule: dict) -> np.ndarray:
    """The score :func:`best_rule`'s rule gives each row of ``X`` (a rank
    order, not a probability): ``direction × value``, a missing value
    replaced by the rule's ``fill``."""
    a = X[rule["feature"]].to_numpy(dtype="float64") if rule["feature"] in X.columns else np.full(len(X), np.nan)
    return rule["direction"] * np.where(np.isnan(a), rule["fill"], a)


def _rank_index(p: np.ndarray) -> tuple[np.ndarray, int]:
    vals = np.unique(p)
    return np.searchsorted(vals, p), len(vals)


def _auc_ranked(kpos: np.ndarray, kneg: np.ndarray, m: int) -> float:
    """Mann–Whitney AUC (ties count half) of the positives against the
    negatives, each given by the rank index of its score among the ``m``
    distinct scores (:func:`_rank_index`); a resample lists a customer once
    per draw. The sum is of half-integers, so it is exact in any order."""
    nb = np.bincount(kneg, minlength=m)
    beaten = np.cumsum(nb) - 0.5 * nb      # negatives below each score, ties half
    return float(beaten[kpos].sum() / (len(kpos) * len(kneg)))


def bootstrap_auc(y: np.ndarray, p: np.ndarray, p_ref: np.ndarray | None = None, n: int = 1000,
                  seed: int = 7, level: float = 0.95) -> dict:
    """Percentile bootstrap intervals of ROC AUC on one test window.

    Customers are resampled with replacement within each class (a
    stratified bootstrap: every resample keeps the window's numbers of
    positives and negatives, so AUC is always defined), ``n`` times with a
    seeded generator. With ``p_ref`` (a reference score of the same
    customers) each resample scores both, so the interval of the
    difference is paired. Each resample costs O(customers): no sorting.

    Returns ``roc_auc`` and ``roc_auc_ci`` ([low, high] at ``level``); with
    ``p_ref`` also ``ref_roc_auc``, ``ref_roc_auc_ci``, ``gain`` (AUC − the
    reference's) and ``gain_ci``. Intervals are ``None`` without both classes.

    References
    ----------
    Efron, B. & Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*,
    ch. 13 (percentile intervals).
    """
    y = np.asarray(y, bool)
    pos, neg = np.flatnonzero(y), np.flatnonzero(~y)
    scores = {"roc_auc": np.asarray(p, float)}
    if p_ref is not None:
        scores["ref_roc_auc"] = np.asarray(p_ref, float)
    out: dict = {k: auc(y, v) for k, v in scores.items()}
    if p_ref is not None:
        out["gain"] = out["roc_auc"] - out["ref_roc_auc"]
    if not len(pos) or not len(neg):
        return out | {f"{k}_ci": None for k in (*scores, *(("gain",) if p_ref is not None else ()))}
    ranked = {}
    for k, v in scores.items():
        ki, m = _rank_index(v)
        ranked[k] = (ki[pos], ki[neg], m)
    rng = np.random.default_rng(seed)
    draws = {k: np.empty(n) for k in scores}
    for b in range(n):
        dpos, dneg = rng.integers(0, len(pos), len(pos)), rng.integers(0, len(neg), len(neg))
        for k, (kpos, kneg, m) in ranked.items():
            draws[k][b] = _auc_ranked(kpos[dpos], kneg[dneg], m)
    q = [(1 - level) / 2, 1 - (1 - level) / 2]
    for k, d in draws.items():
        out[f"{k}_ci"] = [float(x) for x in np.quantile(d, q)]
    if p_ref is not None:
        out["gain_ci"] = [float(x) for x in np.quantile(draws["roc_auc"] - draws["ref_roc_auc"], q)]
    return out


__all__ = ["design", "feature_of", "unusable_columns", "dropped_features", "prior_correct", "auc", "Model",
           "sample_rows", "subset", "choose_model", "deciles", "calibration", "scores", "permutation_importance",
           "DRIVER_COLUMNS", "drivers", "best_rule", "rule_scores", "bootstrap_auc"]
