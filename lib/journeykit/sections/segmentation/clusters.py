"""Behavioural clusters: customers active in the last
``segmentation.clusters.window_days`` grouped by how they use the service.

The features (:data:`FEATURES`) are what the client's data carries:
activity days and their spacing always; event sessions, time per session,
features used and channels when the events have those columns; paid orders
always and spend when order amounts are known. A feature that is the same
for every active customer (one channel, no ``feature`` values) carries no
information: it is left out before fitting, and :class:`ClusterFit` says
which. Too few active customers, or no feature left, means no clusters,
with the reason.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import ibis
import numpy as np
import pandas as pd

from journeykit import facts
from journeykit.core.settings import ClusterSettings
from journeykit.data.query import in_window

FEATURES = ("active_days", "sessions", "days_between", "session_minutes", "features_used", "channels", "orders",
            "spend")
"""Behaviour features per customer over the window, in display order."""


@dataclass
class ClusterFit:
    """The outcome of :func:`fit_clusters`.

    ``reason`` is ``None`` when customers were clustered, else why not:
    ``"too_few"`` (fewer than ``min_customers`` active customers),
    ``"constant"`` (no feature varies between customers) or ``"no_split"``
    (no ``k`` gave two clusters or more).
    """

    n: int
    """Active customers in the window."""
    features: list[str] = field(default_factory=list)
    """Features that vary between customers (the profiles use them)."""
    constant: list[str] = field(default_factory=list)
    """Features left out because every customer has the same value."""
    model_features: list[str] = field(default_factory=list)
    """Features the model was fitted on (one of two features correlated
    above 0.9 is left out, so one behaviour is not counted twice)."""
    reason: str | None = None
    k: int | None = None
    silhouette: float | None = None
    labels: pd.Series | None = None
    """Cluster (1, 2, …) by customer id."""
    profile: pd.DataFrame | None = None
    """Cluster × feature means in the features' own units."""
    z: pd.DataFrame | None = None
    """Cluster × feature means of ``log1p(feature)`` in standard deviations from the overall mean."""
    sizes: pd.Series | None = None
    """Customers per cluster."""


def behaviour(ds, cfg, end: dt.date | None = None) -> pd.DataFrame:
    """Per customer active in the ``clusters.window_days`` days before
    ``end`` (default: the period end): ``active_days`` (distinct days with
    activity), ``days_between`` (mean days between her active days; the
    window length for a single day), and where the data has them
    ``sessions`` (distinct event sessions), ``session_minutes`` (mean summed
    ``duration_s`` per session, minutes), ``features_used`` (distinct
    ``feature`` values), ``channels`` (distinct event channels), ``orders``
    (paid orders) and ``spend`` (their amount; only with order amounts).
    A customer without such rows has 0. Columns in :data:`FEATURES` order;
    sorted by ``customer_id``."""
    end = end or cfg.period.end
    W = cfg.segmentation.clusters.window_days
    start = end - dt.timedelta(days=W)
    a = facts.activity_days(ds)
    if a is None:
        return pd.DataFrame(columns=["customer_id"])
    d = in_window(a, "day", start, end).select("customer_id", "day")
    g = d.group_by("customer_id").aggregate(active_days=d.count(), first=d.day.min(), last=d.day.max())
    span = (g["last"].epoch_seconds() - g["first"].epoch_seconds()) / 86400.0
    g = g.mutate(days_between=ibis.ifelse(g.active_days > 1, span / (g.active_days - 1), float(W)))
    df = g.select("customer_id", "active_days", "days_between").execute()
    e = facts.customer_events(ds)
    if e is not None:
        e = in_window(e, "occurred_at", start, end)
        e = e.mutate(customer_id=e.customer_id.cast("string"))
        aggs = {}
        if "session_id" in e.columns:
            aggs["sessions"] = e.session_id.nunique()
        if "feature" in e.columns:
            aggs["features_used"] = e.feature.nunique()
        if "channel" in e.columns:
            aggs["channels"] = e.channel.nunique()
        if aggs:
            df = df.merge(e.group_by("customer_id").aggregate(**aggs).execute(), on="customer_id", how="left")
        if "session_id" in e.columns and "duration_s" in e.columns:
            s = e.filter(e.session_id.notnull()).group_by(["customer_id", "session_id"]).aggregate(
                sec=e.duration_s.cast("float64").sum())
            m = s.group_by("customer_id").aggregate(session_minutes=(s.sec / 60.0).mean()).execute()
            df = df.merge(m, on="customer_id", how="left")
    if ds.has("orders"):
        o = in_window(facts.paid_orders(ds, until=end), "ordered_at", start, end)
        aggs = {"orders": o.count()}
        if facts.has_amounts(ds):
            aggs["spend"] = o.amount.cast("float64").sum()
        df = df.merge(o.group_by(customer_id=o.customer_id.cast("string")).aggregate(**aggs).execute(),
                      on="customer_id", how="left")
    for c in df.columns:
        if c != "customer_id":
            df[c] = pd.to_numeric(df[c], errors="coerce").astype(float).fillna(0.0)
    keep = ["customer_id"] + [c for c in FEATURES if c in df.columns]
    return df[keep].sort_values("customer_id", kind="stable").reset_index(drop=True)


def fit_clusters(features: pd.DataFrame, cs: ClusterSettings) -> ClusterFit:
    """Cluster customers on their behaviour (``features``: ``customer_id``
    and one numeric column per feature; a missing value counts as 0).

    Features the same for every customer (or all missing) are left out
    first. The model sees ``log1p`` of each remaining feature (a feature
    correlated above 0.9 with an earlier one is left out too),
    StandardScaler, then k-means (``n_init=4``) or a Gaussian mixture,
    seeded; ``k`` in ``[k_min, k_max]`` (at most the number of distinct
    behaviours) with the best silhouette (on a seeded sample of
    ``silhouette_sample`` customers). With more than
    ``fit_sample`` customers each model is fitted on a seeded sample of that
    many and then assigns every customer.

    Clusters are numbered 1, 2, … by size (largest first; ties by the mean
    of the first feature, then by the model's own order), so the same data
    and seed always give the same labels. See :class:`ClusterFit` for the
    result and the reasons there may be no clusters.
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import pairwise_distances, silhouette_score
    from sklearn.mixture import GaussianMixture
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler
    from threadpoolctl import threadpool_limits

    cols = [c for c in features.columns if c != "customer_id"]
    n = len(features)
    values = features[cols].apply(pd.to_numeric, errors="coerce").astype(float)
    constant = [c for c in cols if values[c].fillna(0.0).nunique() <= 1]
    feats = [c for c in cols if c not in constant]
    out = ClusterFit(n=n, features=feats, constant=constant)
    if n < cs.min_customers:
        out.reason = "too_few"
        return out
    if not feats:
        out.reason = "constant"
        return out
    L = np.log1p(values[feats].fillna(0.0).clip(lower=0).to_numpy())
    Zall = (L - L.mean(axis=0)) / L.std(axis=0)
    # near-duplicate features (sessions vs active days) would count one behaviour twice
    corr = np.corrcoef(L, rowvar=False) if len(feats) > 1 else np.ones((1, 1))
    model_idx: list[int] = []
    for i in range(len(feats)):
        if all(abs(corr[i, j]) < 0.9 for j in model_idx):
            model_idx.append(i)
    out.model_features = [feats[i] for i in model_idx]
    X = values[out.model_features].fillna(0.0).clip(lower=0).to_numpy()
    fit_rows = (np.sort(np.random.default_rng(cs.seed).choice(n, cs.fit_sample, replace=False))
                if n > cs.fit_sample else None)
    # more clusters than distinct customers' behaviours cannot be told apart
    k_max = min(cs.k_max, n - 1, len(np.unique(X, axis=0)))
    # The model's input (log1p, then standardized on the fitted rows) is the
    # same for every k, and so is the silhouette's sample of it (the one
    # silhouette_score(sample_size=…, random_state=seed) draws): both are
    # computed once, the sample's distances too.
    scale = make_pipeline(FunctionTransformer(np.log1p), StandardScaler()).fit(X if fit_rows is None else X[fit_rows])
    Z = scale.transform(X)
    sample = np.random.RandomState(cs.seed).permutation(n)[:min(cs.silhouette_sample, n)]
    D = pairwise_distances(Z[sample])
    best = None
    # One thread below 50,000 fitted customers (the prediction models' rule):
    # there OpenMP's threads cost more than they save, and far more on a
    # shared machine (measured on the demo, two period ends: 3.5 s and 4.6 s
    # of CPU with both cores, 0.56 s with one).
    with threadpool_limits(limits=1 if min(n, cs.fit_sample) < 50_000 else None):
        for k in range(cs.k_min, k_max + 1):
            model = (KMeans(n_clusters=k, n_init=4, random_state=cs.seed) if cs.method == "kmeans"
                     else GaussianMixture(n_components=k, random_state=cs.seed, n_init=2))
            lab = model.fit_predict(Z) if fit_rows is None else model.fit(Z[fit_rows]).predict(Z)
            if len(set(lab)) < 2:
                continue
            try:
                sil = float(silhouette_score(D, lab[sample], metric="precomputed"))
            except ValueError:  # the silhouette sample fell in one cluster
                continue
            if best is None or sil > best[0] + 1e-12:
                best = (sil, k, lab)
    if best is None:
        out.reason = "no_split"
        return out
    sil, k, lab = best
    raw = values[feats].assign(_c=lab)
    sizes = raw.groupby("_c").size()
    first = raw.groupby("_c")[feats[0]].mean()
    order = sorted(sizes.index, key=lambda c: (-sizes[c], -first[c], c))
    remap = {c: i + 1 for i, c in enumerate(order)}
    labels = pd.Series([remap[c] for c in lab], index=features["customer_id"].to_numpy(), name="cluster")
    out.k, out.silhouette, out.labels = k, sil, labels
    out.z = pd.DataFrame(Zall, columns=feats).assign(cluster=labels.to_numpy()).groupby("cluster").mean()
    out.profile = values[feats].assign(cluster=labels.to_numpy()).groupby("cluster").mean()
    out.sizes = labels.value_counts().sort_index()
    return out


def clusters(ds, cfg, end: dt.date | None = None) -> ClusterFit:
    """:func:`fit_clusters` on :func:`behaviour` at ``end`` (default: the
    period end) under ``segmentation.clusters``."""
    end = end or cfg.period.end
    return ds.memo(("segmentation.clusters", end),
                   lambda: fit_clusters(behaviour(ds, cfg, end), cfg.segmentation.clusters), cfg)


def n_clusters(ds, cfg, end: dt.date | None = None) -> int | None:
    """Number of behavioural clusters chosen at ``end``; ``None`` when the
    customers were not clustered (:attr:`ClusterFit.reason`)."""
    c = clusters(ds, cfg, end)
    return None if c.reason else int(c.k)


__all__ = ["FEATURES", "ClusterFit", "behaviour", "fit_clusters", "clusters", "n_clusters"]
