"""An analyst's Run All, twice, in one kernel: the setup cell loads the data
again (it used to fail with DuckDB's "Can't open a connection to same
database file with a different configuration")."""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.e2e
def test_a_section_notebook_runs_twice_in_one_kernel(tmp_path, tiny_data):
    import papermill as pm

    source = nbformat.read(REPO / "notebooks" / "30_purchase.ipynb", as_version=4)
    doubled = copy.deepcopy(source)
    again = []
    for cell in copy.deepcopy(source.cells):
        cell.metadata.pop("tags", None)           # the second parameters cell is an ordinary cell
        cell["id"] = f"again-{len(again)}"
        again.append(cell)
    doubled.cells += again
    path = tmp_path / "twice.ipynb"
    nbformat.write(doubled, path)
    out = tmp_path / "twice.out.ipynb"
    pm.execute_notebook(str(path), str(out), cwd=str(REPO / "notebooks"), kernel_name="python3",
                        progress_bar=False, log_output=False)
    executed = nbformat.read(out, as_version=4)
    errors = [o for c in executed.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    recorded = [o for c in executed.cells for o in c.get("outputs", [])
                if "application/vnd.journeykit.metrics+json" in o.get("data", {})]
    assert len(recorded) == 2
    first, second = (o["data"]["application/vnd.journeykit.metrics+json"]["metrics"] for o in recorded)
    assert first == second                        # the same answer the second time
