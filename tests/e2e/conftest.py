"""The full tiny report, rendered once per test session and shared by the
end-to-end modules (test_run checks it; test_spark compares Spark's
metrics.json with it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from journeykit.run import cli

PERIOD = "2026-10"


@pytest.fixture(scope="session")
def full_run(tmp_path_factory, tiny_data: Path, project_factory) -> Path:
    """Every section of the tiny client on DuckDB, HTML and PDF."""
    project = project_factory(tmp_path_factory.mktemp("full"), tiny_data)
    assert cli.main(["--root", str(project), "run", "--client", "tiny", "--period", PERIOD, "--jobs", "2"]) == 0
    return project
