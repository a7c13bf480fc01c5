"""Calibration of the period-over-period verdicts (README, "How changes are judged").

The demo generator's ``stationary`` scenario is a shop whose processes never
change (constant sign-ups, visits, funnel, payments, NPS; ad CTR with its
day-to-day noise; a customer base at equilibrium): every change a report calls
significant there is a false alarm. Its ``planted`` scenario adds changes of
known size in the last month (:data:`journeykit.demo.PLANTED`): a CTR shift, a
payment-failure spike on mobile, an NPS drop; each must be flagged, in the
right direction.

Each report here is every section's ``changes()`` computed directly on the
demo-sized data (20,000 customers) and judged together by the runner's step
(:func:`journeykit.run.calibrate.judged_report`), for October 2026 against
September (31 and 30 days). The data is cached in ``data/calibration/``.
About 30 s per report on two cores.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from journeykit import demo

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "data" / "calibration"
PERIOD = "2026-10"
STATIONARY_SEEDS = (1, 2, 3, 4)
PLANTED_SEED = 1


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A project folder whose clients are the demo client's exports of one
    scenario and seed each (absolute data sources into the cache)."""
    root = tmp_path_factory.mktemp("calibration")
    (root / "params" / "clients").mkdir(parents=True)
    shutil.copy(ROOT / "params" / "defaults.yaml", root / "params" / "defaults.yaml")
    return root


def judged(project: Path, scenario: str, seed: int) -> list[dict]:
    """The report's tested changes, judged over the whole report."""
    from journeykit.core import config
    from journeykit.data import loader as io
    from journeykit.run import calibrate

    name = f"{scenario}{seed}"
    folder = CACHE / name
    if not demo.is_current(folder, "demo", seed, demo.DEFAULT_END, scenario=scenario):
        demo.generate(folder, size="demo", seed=seed, scenario=scenario)
    doc = yaml.safe_load((ROOT / "params" / "clients" / "demo.yaml").read_text(encoding="utf-8"))
    doc["data"]["source"] = str(folder)
    doc["language"] = "en"
    (project / "params" / "clients" / f"{name}.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True),
                                                                 encoding="utf-8")
    ds = io.load(config.load(name, PERIOD, root=project))
    try:
        return [r for r in calibrate.judged_report(ds, ds.cfg) if r.get("scope") == "report"]
    finally:
        ds.close()


def _alarm(r: dict) -> str:
    return (f"{r['section']} {r['key']} {r['direction']} {r.get('prev_tested', r['prev']):.4g} → "
            f"{r.get('value_tested', r['value']):.4g} (p {r['p_value']:.2g}, q {r['q_value']:.2g})")


@pytest.mark.parametrize("seed", STATIONARY_SEEDS)
def test_a_stationary_shop_raises_at_most_one_alarm(project, seed):
    tests = judged(project, "stationary", seed)
    assert len(tests) >= 40                     # every section tested its KPIs
    alarms = [_alarm(r) for r in tests if r["verdict"] == "significant"]
    assert len(alarms) <= 1, alarms


def test_planted_changes_are_flagged_in_the_right_direction(project):
    tests = {r["key"]: r for r in judged(project, "planted", PLANTED_SEED)}
    for key, direction in (("ctr", "up"), ("payment_success_rate", "down"), ("nps", "down")):
        r = tests[key]
        assert r["verdict"] == "significant" and r["direction"] == direction, _alarm(r)
    assert tests["payment_success_rate"]["good"] is False and tests["nps"]["good"] is False
