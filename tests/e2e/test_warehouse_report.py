"""The tiny client's report rendered with its data in a warehouse, in place
(``data.mode: in_place``: every check and every section's query on the
warehouse), gives the metrics.json of the same data read from files.

The warehouse is a DuckDB database file with other column names
(tests/unit/warehouse_data.py); the file-based report is the one the other
end-to-end tests render (``full_run``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from journeykit.run import cli

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from warehouse_data import fill_warehouse, make_client  # noqa: E402

from test_spark import differences  # noqa: E402

PERIOD = "2026-10"

pytestmark = pytest.mark.e2e


def test_in_place_report_gives_the_metrics_of_the_files(full_run: Path, tmp_path: Path, tiny_data: Path, project_factory):
    project = project_factory(tmp_path / "wh", tiny_data)
    db = project / "warehouse.duckdb"
    make_client(project, "tiny", db, fill_warehouse(db, tiny_data), "in_place")
    code = cli.main(["--root", str(project), "run", "--client", "tiny", "--period", PERIOD, "--jobs", "2",
                     "--set", "report.pdf=false"])
    assert code == 0
    files = json.loads((full_run / "reports" / "tiny" / PERIOD / "metrics.json").read_text(encoding="utf-8"))
    wh = json.loads((project / "reports" / "tiny" / PERIOD / "metrics.json").read_text(encoding="utf-8"))
    # no row on the host: the cache entry holds the load report and the plan
    entries = [p for p in (project / "data" / ".cache" / "tiny").iterdir() if not p.name.startswith(".")]
    assert [sorted(q.name for q in e.iterdir() if q.name != ".users") for e in entries] == [["in_place.json", "load_report.json"]]
    assert set(files["sections"]) == set(wh["sections"])
    for name in files["sections"]:
        assert wh["sections"][name]["status"] == files["sections"][name]["status"], name
    compared = {k: {s: {f: v.get(f) for f in ("metrics", "changes", "trend")} for s, v in d["sections"].items()}
                for k, d in (("files", files), ("warehouse", wh))}
    diffs = differences(compared["files"], compared["warehouse"])
    assert not diffs, f"{len(diffs)} differences, first: " + "; ".join(diffs[:15])
