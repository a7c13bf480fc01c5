"""Calibration of the period-over-period verdicts: every section's tests of
one report, computed directly (no notebooks) and judged together as the
runner judges them (:func:`journeykit.run.runner.judge_report`).

On the demo generator's ``stationary`` scenario nothing changes, so every
significant change is a false alarm; on ``planted`` the known changes of
:data:`journeykit.demo.PLANTED` must be flagged in the right direction
(``tests/calibration/``; README, "How changes are judged").
"""

from __future__ import annotations

import importlib

from journeykit.report.results import SectionResult, change_record

SECTIONS = {"10_awareness": "awareness", "20_consideration": "consideration", "30_purchase": "purchase",
            "40_retention": "retention", "50_advocacy": "advocacy", "55_campaigns": "campaigns",
            "60_segmentation": "segmentation"}
"""The sections whose ``changes()`` run tests (80_ltv's changes are model
outputs, shown without a test)."""


def section_changes(ds, cfg, sections: dict[str, str] | None = None) -> dict[str, list]:
    """Each section's judged changes (its ``compute.changes(ds, cfg)``), by
    section name; a section whose needs the data does not meet is left out."""
    from journeykit.sections import registry

    available = registry.available(ds.report)
    out = {}
    for name, package in (sections or SECTIONS).items():
        if registry.get(name).missing(available):
            continue
        compute = importlib.import_module(f"journeykit.sections.{package}.compute")
        out[name] = compute.changes(ds, cfg)
    return out


def judged_report(ds, cfg, sections: dict[str, str] | None = None) -> list[dict]:
    """Every tested change of the report as the runner records it, judged
    over the whole report: the records of :func:`change_record` with
    ``section`` added, after :func:`journeykit.run.runner.judge_report`."""
    from journeykit.run.runner import judge_report

    results = []
    for name, chs in section_changes(ds, cfg, sections).items():
        results.append(SectionResult(name=name, title=name, status="ok",
                                     changes=[change_record(c, c.key, "num") for c in chs]))
    judge_report(cfg, results)
    return [{"section": r.name, **rec} for r in results for rec in r.changes]


def significant(records: list[dict]) -> list[dict]:
    """The records a report calls significant."""
    return [r for r in records if r.get("verdict") == "significant"]


__all__ = ["SECTIONS", "section_changes", "judged_report", "significant"]
