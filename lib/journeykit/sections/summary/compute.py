"""The executive summary: one page that reads every other section's results.

Nothing here recomputes a KPI. The summary reads what the sections recorded
(:func:`journeykit.report.run_results`: their metrics, the period-over-period
tests they showed, and the trends they charted) and arranges it: the
scorecard of the KPIs each section declares in the registry, the journey
from impressions to promoters, the significant movements by business impact, health
and lifecycle shifts, the top playbook actions, the churn outlook and the
data caveats. This module returns data; :mod:`.view` words and draws it.
"""

from __future__ import annotations

from dataclasses import dataclass

from journeykit import facts
from journeykit.core.config import RunConfig
from journeykit.sections import registry
from journeykit.stats import compare

HEADLINES: tuple[tuple[str, str], ...] = tuple((s.name, key) for s in registry.SECTIONS for key in s.scorecard)
"""The scorecard's KPIs in journey order, (section, key), as each section
declares them in the registry (``scorecard``). A KPI whose section is
missing, not available or did not record it is left out."""


def _change_from_record(rec: dict) -> compare.Change:
    """Rebuild the :class:`compare.Change` a section recorded, verdict
    included (no recomputation; :func:`journeykit.report.results.change_from_record`)."""
    from journeykit.report.results import change_from_record

    return change_from_record(rec)


@dataclass
class Row:
    """One scorecard line."""

    section: str
    title: str
    change: compare.Change
    label: str
    kind: str
    trend: list[float | None]


def scorecard(sections: dict, cfg: RunConfig | None = None) -> list[Row]:
    """The headline KPIs with value, comparison value, change, test verdict
    and trend, exactly as their sections recorded them (:data:`HEADLINES`)."""
    rows = []
    for section, key in HEADLINES:
        sec = sections.get(section) or {}
        if sec.get("status") != "ok":
            continue
        rec = next((c for c in sec.get("changes") or [] if c.get("key") == key), None)
        if rec is None:
            continue
        trend = (sec.get("trend") or {}).get(key) or []
        rows.append(Row(section, sec.get("title") or section, _change_from_record(rec), rec.get("label") or key,
                        rec.get("kind") or "num", [None if v is None else float(v) for v in trend]))
    return rows


def impact_rank(rec: dict, ch: compare.Change) -> tuple:
    """The sort key of a significant change by business impact: changes
    in money first (revenue, order value: ``|Δ| × base`` in the client's
    currency), then the others by the customers, sessions or events they
    move (``|Δ| × base``, :func:`journeykit.stats.compare.impact`); the
    larger first."""
    money = (rec.get("kind") == "money")
    return (0 if money else 1, -(compare.impact(ch) or 0.0))


SAME_KPI: dict[tuple[str, str], tuple[str, str]] = {("10_awareness", "visits"): ("20_consideration", "sessions")}
"""KPIs two sections report under different keys, (section, key) → the
(section, key) of the stage that owns it: awareness counts visits by
source with consideration's definition of a visit (its ``sessions``,
the first step of its funnel and its scorecard KPI)."""


def owner(section: str, key: str) -> tuple[str, str]:
    """The (section, key) of the stage that owns a recorded KPI: the one
    :data:`SAME_KPI` names, else the KPI itself."""
    return SAME_KPI.get((section, key), (section, key))


def _recorded(sections: dict, section: str, key: str) -> bool:
    sec = sections.get(section) or {}
    return sec.get("status") == "ok" and any(r.get("key") == key for r in sec.get("changes") or [])


def significant_changes(sections: dict, limit: int = 6) -> list[tuple[str, dict, compare.Change]]:
    """The significant movements across all sections, as ``(section,
    recorded change, Change)``, ranked by business impact
    (:func:`impact_rank`; not by p-value: a tiny p-value on a huge sample
    says nothing of size), each KPI once, under the stage that owns it
    (:func:`owner`: awareness's visits are shown under consideration's
    visits when that section recorded them, significant or not; a change
    two sections recorded with the same values, once), at most ``limit``.
    The verdicts are the report's (the runner judged every section's tests
    together)."""
    found = []
    for name, sec in sections.items():
        if sec.get("status") != "ok":
            continue
        for rec in sec.get("changes") or []:
            own = owner(name, rec.get("key"))
            if own != (name, rec.get("key")) and _recorded(sections, *own):
                continue
            ch = _change_from_record(rec)
            if ch.significant:
                found.append((impact_rank(rec, ch), name, rec, ch))
    found.sort(key=lambda t: (t[0], t[1], t[2]["key"]))
    seen, top = set(), []
    for _, name, rec, ch in found:
        if (ch.value, ch.prev) not in seen:
            seen.add((ch.value, ch.prev))
            top.append((name, rec, ch))
    return top[:limit]


def journey(sections: dict) -> list[tuple[str, float]]:
    """The month's journey as (step, count) from the stages' metrics:
    impressions and clicks, users reaching each funnel step (visit →
    purchase; orders when there is no funnel), promoters among survey
    answers. Steps whose section or metric is missing are left out."""
    def m(section):
        sec = sections.get(section) or {}
        return (sec.get("metrics") or {}) if sec.get("status") == "ok" else {}

    steps: list[tuple[str, float | None]] = []
    aw = m("10_awareness")
    steps += [("impressions", aw.get("impressions")), ("clicks", aw.get("clicks"))]
    funnel = {s.get("step"): s.get("users") for s in m("20_consideration").get("funnel") or []}
    for step in ("visit", "product_view", "add_to_cart", "checkout_start", "purchase"):
        steps.append((step, funnel.get(step)))
    if not funnel.get("purchase"):
        steps.append(("orders", m("30_purchase").get("orders")))
    ad = m("50_advocacy")
    if ad.get("responses") is not None and ad.get("promoter_share") is not None:
        steps.append(("promoters", ad["responses"] * ad["promoter_share"]))
    return [(k, float(v)) for k, v in steps if v is not None and v > 0]


def health_shifts(sections: dict, cfg: RunConfig) -> list[dict]:
    """Health bands (shares) and lifecycle states (counts) this period and
    the comparison period, as ``60_segmentation`` recorded them: rows of
    ``{group, key, label, value, prev, kind}``. Empty without that section."""
    sec = sections.get("60_segmentation") or {}
    m = sec.get("metrics") or {}
    if sec.get("status") != "ok":
        return []
    rows = []
    now, before = m.get("health_band_shares") or {}, m.get("health_band_shares_prev") or {}
    for b in facts.HEALTH_BANDS:
        if b in now:
            rows.append({"group": "health", "key": b, "label": facts.label("band", b, cfg),
                         "value": now.get(b), "prev": before.get(b), "kind": "pct"})
    now, before = m.get("lifecycle_counts") or {}, m.get("lifecycle_counts_prev") or {}
    for st in facts.CUSTOMER_STATES:
        if st in now:
            rows.append({"group": "lifecycle", "key": st, "label": facts.label("state", st, cfg),
                         "value": now.get(st), "prev": before.get(st), "kind": "int"})
    return rows


def actions(sections: dict, cfg: RunConfig, limit: int = 5) -> list[dict]:
    """The playbook actions ``60_segmentation`` recorded, largest revenue at
    stake first (then most customers), at most ``limit``; actions touching
    nobody are left out."""
    sec = sections.get("60_segmentation") or {}
    if sec.get("status") != "ok":
        return []
    books = [b for b in (sec.get("metrics") or {}).get("playbooks") or [] if b.get("customers")]
    books.sort(key=lambda b: (-(b.get("revenue_12m") or 0), -b["customers"], b.get("action", "")))
    return books[:limit]


def churn_outlook(sections: dict) -> dict | None:
    """The churn model's outlook as ``70_prediction`` recorded it
    (expected churners, revenue at risk, horizon, backtest ROC AUC), or
    ``None`` when it did not score customers."""
    sec = sections.get("70_prediction") or {}
    churn = (sec.get("metrics") or {}).get("churn") or {}
    if sec.get("status") != "ok" or churn.get("status") != "ok" or churn.get("expected_churners") is None:
        return None
    return churn


def caveat_facts(sections: dict, cfg: RunConfig) -> list[dict]:
    """What the reader must know about the data, as records for
    :func:`journeykit.sections.summary.view.caveats`: sections not available
    (``kind`` ``not_available``, with ``section`` and ``needs``), failed
    sections (``failed``), rows repaired at load (``repaired``, ``n``),
    unmapped event names (``unmapped``, ``n``), headline KPIs with too
    little data (``too_little``, ``labels``)."""
    out = []
    for name, sec in sections.items():
        title = sec.get("title") or name
        if sec.get("status") == "not_available":
            out.append({"kind": "not_available", "section": title, "needs": list(sec.get("needs") or [])})
        elif sec.get("status") == "failed":
            out.append({"kind": "failed", "section": title})
    dq = (sections.get("00_data_quality") or {}).get("metrics") or {}
    if dq.get("rows_repaired"):
        out.append({"kind": "repaired", "n": int(dq["rows_repaired"])})
    if dq.get("unmapped_event_types"):
        out.append({"kind": "unmapped", "n": int(dq["unmapped_event_types"])})
    little = [r.label for r in scorecard(sections, cfg) if r.change.verdict == "too_little_data"]
    if little:
        out.append({"kind": "too_little", "labels": little})
    return out


def previous_report(cfg: RunConfig) -> dict | None:
    """The ``sections`` of the comparison period's published report
    (``reports/<client>/<previous month>/metrics.json``), or ``None``."""
    import json

    path = cfg.root / "reports" / cfg.client / str(cfg.comparison) / "metrics.json"
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("sections")
    except (OSError, ValueError):
        return None


def since_last_report(sections: dict, before: dict | None) -> list[dict]:
    """What a consultant would not know from last month's report: for each
    scorecard KPI, how its verdict moved between the two reports. Rows of
    ``{section, key, label, kind, value, value_then, verdict, verdict_then,
    direction, direction_then, what}`` where ``what`` is ``new`` (significant
    now, not then), ``ended`` (significant then, not now), ``reversed``
    (significant both times, the other way), ``continued`` (significant both
    times, the same way) or ``new_kpi`` (not in last month's report); KPIs
    quiet both times are left out. Empty without last month's report."""
    if not before:
        return []
    then = {(r.section, r.change.key): r for r in scorecard(before, None)}
    out = []
    for r in scorecard(sections, None):
        old = then.get((r.section, r.change.key))
        now_sig = r.change.significant
        if old is None:
            what = "new_kpi"
        else:
            old_sig = old.change.significant
            if now_sig and not old_sig:
                what = "new"
            elif old_sig and not now_sig:
                what = "ended"
            elif now_sig and old_sig:
                what = "reversed" if old.change.direction != r.change.direction else "continued"
            else:
                continue
        out.append({"section": r.section, "key": r.change.key, "label": r.label, "kind": r.kind,
                    "value": r.change.value, "value_then": old.change.value if old else None,
                    "verdict": r.change.verdict, "verdict_then": old.change.verdict if old else None,
                    "direction": r.change.direction, "direction_then": old.change.direction if old else None,
                    "what": what})
    return out


def metrics(sections: dict, cfg: RunConfig) -> dict:
    """What the summary records: the sections it read and how many headline
    KPIs moved significantly (``significant_changes``), up and down."""
    rows = scorecard(sections, cfg)
    sig = [r for r in rows if r.change.significant]
    return {"sections_read": sorted(k for k, v in sections.items() if v.get("status") == "ok"),
            "headline_kpis": len(rows), "significant_changes": len(sig),
            "significant_up": sum(r.change.direction == "up" for r in sig),
            "significant_down": sum(r.change.direction == "down" for r in sig)}


__all__ = ["HEADLINES", "Row", "scorecard", "impact_rank", "SAME_KPI", "owner", "significant_changes", "journey", "health_shifts", "actions",
           "churn_outlook", "caveat_facts", "previous_report", "since_last_report", "metrics"]
