"""Section ``60_segmentation``: what kinds of customers we have, how healthy
each is, and what to do for each — the numbers.

The package, in the order its modules import each other (one way):

- :mod:`.transitions` — moves between groups from one period end to the next;
- :mod:`.segments` — RFM segments (:func:`journeykit.facts.rfm`) and value tiers;
- :mod:`.lifecycle` — the lifecycle state of every customer;
- :mod:`.clusters` — behavioural clusters;
- :mod:`.experience` — NPS / CSAT / support-load segments;
- :mod:`.health` — the health score and its bands (reads lifecycle, experience, segments);
- :mod:`.playbooks` — the actions and their target lists (reads all of the above);
- this module — the period-over-period changes and the ``metrics.json`` keys;
- :mod:`.view` and :mod:`.view_health` — tables, charts and sentences, built
  from what the modules above return.

Everything is computed *at a period end* with rows before it only, so the
comparison period's segments are recomputed from what was known then, and
a past month re-runs identically. Client settings: the ``segmentation:``
block (:mod:`journeykit.core.settings`, ``cfg.segmentation``).
"""

from __future__ import annotations

from typing import Any

from journeykit.sections import registry
from journeykit.sections.segmentation import clusters, health, lifecycle, segments
from journeykit.stats import compare

STABLE_KEYS = registry.get("60_segmentation").stable_keys
"""The section's stable ``metrics.json`` keys (each also with ``_prev``)."""


ADVICE = {"unhealthy_share": {"up": "health_next_unhealthy_up"}}
"""Advice for a significant change, shown in the key figures (see
:data:`journeykit.report.Advice`)."""


def changes(ds, cfg) -> list[compare.Change]:
    """This period end against the comparison period end, judged
    (:func:`journeykit.stats.compare.judge`):

    - ``rfm_customers``: buyers in the RFM window (stock; no test);
    - ``live_customers``: customers not churned (stock; no test);
    - ``champions_share``: Champions / buyers (two-proportion z-test);
    - ``at_risk_share``: (At risk + Can't lose) / buyers (z-test; lower is better);
    - ``healthy_share`` and ``unhealthy_share``: of the customers scored by
      :mod:`.health` (z-test);
    - ``top10pct_revenue_share``: see
      :func:`~.segments.top10pct_revenue_share` (no test).

    The RFM changes are left out without RFM (:func:`.segments.rfm_reason`),
    the health shares when nobody was scored at either end, the top-10%
    share without value tiers. The two ends share most customers, so the
    z-tests (which assume independent samples) are conservative for stocks
    that barely move.
    """
    min_n = int(cfg.definitions.min_sample_size)
    prev_end = cfg.period.previous().end
    out: list[compare.Change] = []
    sc, sc0 = segments.segment_counts(ds, cfg), segments.segment_counts(ds, cfg, prev_end)
    if sc is not None:
        n, n0 = sum(sc.values()), sum(sc0.values())
        out.append(compare.value("rfm_customers", n, n0, described="stock"))
        out.append(compare.rate("champions_share", sc.get("champions", 0), n, sc0.get("champions", 0), n0, min_n=min_n))
        risk = sc.get("at_risk", 0) + sc.get("cant_lose", 0)
        risk0 = sc0.get("at_risk", 0) + sc0.get("cant_lose", 0)
        out.append(compare.rate("at_risk_share", risk, n, risk0, n0, min_n=min_n, higher_is_better=False))
    lc, lc0 = lifecycle.lifecycle_counts(ds, cfg), lifecycle.lifecycle_counts(ds, cfg, prev_end)
    out.append(compare.value("live_customers", sum(v for k, v in lc.items() if k != "churned"),
                             sum(v for k, v in lc0.items() if k != "churned"), described="stock"))
    hb, hb0 = health.band_counts(ds, cfg), health.band_counts(ds, cfg, prev_end)
    n, n0 = sum(hb.values()), sum(hb0.values())
    if n or n0:
        out.append(compare.rate("healthy_share", hb["healthy"], n, hb0["healthy"], n0, min_n=min_n))
        out.append(compare.rate("unhealthy_share", hb["unhealthy"], n, hb0["unhealthy"], n0, min_n=min_n,
                                higher_is_better=False))
    t10, t10_0 = segments.top10pct_revenue_share(ds, cfg), segments.top10pct_revenue_share(ds, cfg, prev_end)
    if t10 is not None or t10_0 is not None:
        out.append(compare.value("top10pct_revenue_share", t10, t10_0, higher_is_better=None))
    last = values_at(ds, cfg, cfg.period.shift(-12).end) if has_last_year(ds, cfg) else None
    return compare.with_last_year(compare.judge(out, cfg, first_date=ds.first_date()), last)


def has_last_year(ds, cfg) -> bool:
    """Whether the orders reach back to the same month a year before the
    period (13 months or more): the key figures then show it."""
    first = ds.first_date("orders")
    return first is not None and first <= cfg.period.shift(-12).start


def values_at(ds, cfg, end) -> dict[str, float | None]:
    """The KPIs of :func:`changes` at the period end ``end`` (a date), from
    the data before it: the same-month-last-year column of the key figures."""
    out: dict[str, float | None] = {}
    sc = segments.segment_counts(ds, cfg, end)
    if sc is not None:
        n = sum(sc.values())
        out["rfm_customers"] = float(n)
        out["champions_share"] = compare.safe_div(sc.get("champions", 0), n)
        out["at_risk_share"] = compare.safe_div(sc.get("at_risk", 0) + sc.get("cant_lose", 0), n)
    lc = lifecycle.lifecycle_counts(ds, cfg, end)
    out["live_customers"] = float(sum(v for k, v in lc.items() if k != "churned"))
    hb = health.band_counts(ds, cfg, end)
    n = sum(hb.values())
    out["healthy_share"] = compare.safe_div(hb["healthy"], n)
    out["unhealthy_share"] = compare.safe_div(hb["unhealthy"], n)
    out["top10pct_revenue_share"] = segments.top10pct_revenue_share(ds, cfg, end)
    return out


def metrics(ds, cfg) -> dict[str, Any]:
    """The stable ``metrics.json`` keys (:data:`STABLE_KEYS`), each with
    ``_prev`` (the comparison period end, recomputed from the data before
    it); ``null`` where not computable:

    - ``segment_counts``: customers per RFM segment key (``null`` without
      RFM: no order amounts);
    - ``health_band_shares``: ``healthy``, ``at_risk``, ``unhealthy`` (0–1,
      of the customers scored; ``null`` when nobody is);
    - ``lifecycle_counts``: customers per lifecycle state;
    - ``n_clusters``: behavioural clusters chosen (``null`` when the
      customers were not clustered);
    - ``top10pct_revenue_share``: 0–1 (``null`` without value tiers).

    Also (not stable, no ``_prev``): ``health_validation``, the health
    score's check against later churn
    (:func:`~journeykit.sections.segmentation.health.validation`; ``null``
    when it cannot be made).
    """
    prev_end = cfg.period.previous().end
    out: dict[str, Any] = {}
    for suffix, end in (("", cfg.period.end), ("_prev", prev_end)):
        out[f"segment_counts{suffix}"] = segments.segment_counts(ds, cfg, end)
        out[f"health_band_shares{suffix}"] = health.band_shares(ds, cfg, end)
        out[f"lifecycle_counts{suffix}"] = lifecycle.lifecycle_counts(ds, cfg, end)
        out[f"n_clusters{suffix}"] = clusters.n_clusters(ds, cfg, end)
        out[f"top10pct_revenue_share{suffix}"] = segments.top10pct_revenue_share(ds, cfg, end)
    return {k: out[k] for key in STABLE_KEYS for k in (key, f"{key}_prev")} | {
        "health_validation": health.validation(ds, cfg)}


__all__ = ["STABLE_KEYS", "ADVICE", "changes", "has_last_year", "values_at", "metrics"]
