"""The same client file pointed at Spark (Ibis' PySpark backend, local
mode) produces the same metrics.json as DuckDB on the same data.

Only ``--set engine.backend=spark`` differs between the two runs. Every
section must have the same status, and every number the same value: counts
and strings exactly, other numbers to a relative 1e-9 (the engines may add
floating-point sums in a different order). Both runs draw their model
seeds from the same config, so the model-based sections (segmentation,
prediction, LTV) must agree too: their inputs come from the engine.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

from journeykit.run import cli

PERIOD = "2026-10"
REL = 1e-9

pytestmark = pytest.mark.e2e


def _java() -> str | None:
    return shutil.which("java")


def differences(a, b, path: str = "") -> list[str]:
    """Where two metrics.json values differ: exact for strings, booleans,
    nulls and integers, relative ``REL`` for other numbers. Keys ending in
    ``seconds`` are wall-clock timings of the run, not results, and are
    skipped."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{path}.{k}: only in {'DuckDB' if k in a else 'Spark'}" for k in sorted(set(a) ^ set(b))]
        for k in sorted(set(a) & set(b)):
            if str(k).endswith("seconds"):
                continue
            out += differences(a[k], b[k], f"{path}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items vs {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}[{i}]")]
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool) and not isinstance(b, bool):
        if isinstance(a, int) and isinstance(b, int):
            return [] if a == b else [f"{path}: {a} vs {b}"]
        if math.isclose(a, b, rel_tol=REL, abs_tol=1e-12):
            return []
        return [f"{path}: {a!r} vs {b!r}"]
    return [] if a == b and type(a) is type(b) else [f"{path}: {a!r} vs {b!r}"]


def test_differences_finds_what_differs():
    a = {"x": 1, "y": 0.5, "z": [1, "a"], "w": None}
    assert differences(a, json.loads(json.dumps(a))) == []
    assert differences(a, {**a, "x": 2}) == [".x: 1 vs 2"]
    assert differences(a, {**a, "y": 0.5 * (1 + 1e-7)}) == [f".y: 0.5 vs {0.5 * (1 + 1e-7)!r}"]
    assert differences(a, {**a, "y": 0.5 * (1 + 1e-12)}) == []
    assert differences(a, {**a, "z": [1]}) == [".z: 2 items vs 1"]
    assert differences(a, {"x": 1, "y": 0.5, "z": [1, "a"]}) == [".w: only in DuckDB"]
    assert differences({"r": True}, {"r": 1}) == [".r: True vs 1"]
    assert differences({"fit_seconds": 1.3}, {"fit_seconds": 1.1}) == []


@pytest.mark.skipif(_java() is None, reason="Spark needs Java 17+ (`make sysdeps` installs it)")
def test_spark_gives_the_same_metrics_as_duckdb(full_run: Path, tmp_path: Path, tiny_data: Path, project_factory):
    project = project_factory(tmp_path / "spark", tiny_data)
    code = cli.main(["--root", str(project), "run", "--client", "tiny", "--period", PERIOD, "--jobs", "2",
                     "--set", "engine.backend=spark", "--set", "report.pdf=false",
                     # tiny data: one shuffle partition, no adaptive re-planning, and no
                     # code generation (compiling each query cost more than running it:
                     # 2 m 50 s for the report instead of 3 m 36 s); the JVM's quick compiler only
                     # (a few hundred small queries: 301 s of CPU instead of 332)
                     "--set", "engine.spark.conf={spark.sql.shuffle.partitions: '1', spark.sql.adaptive.enabled: 'false', "
                              "spark.sql.codegen.wholeStage: 'false', spark.sql.codegen.factoryMode: NO_CODEGEN, "
                              "spark.driver.extraJavaOptions: '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC'}"])
    assert code == 0
    duck = json.loads((full_run / "reports" / "tiny" / PERIOD / "metrics.json").read_text(encoding="utf-8"))
    spark = json.loads((project / "reports" / "tiny" / PERIOD / "metrics.json").read_text(encoding="utf-8"))
    assert (duck["engine"], spark["engine"]) == ("duckdb", "spark")
    # each kernel reports the engine its dataset was opened on
    engines = {name: (duck["sections"][name].get("engine"), s.get("engine")) for name, s in spark["sections"].items()}
    assert engines.pop("90_summary") == (None, None)          # reads the other sections' results only
    assert set(engines.values()) == {("duckdb", "spark")}, engines
    assert list((project / "data" / ".cache" / "tiny").glob("*/parquet/_SUCCESS"))
    assert not list((full_run / "data" / ".cache" / "tiny").glob("*/parquet"))
    assert set(duck["sections"]) == set(spark["sections"])
    for name in duck["sections"]:
        assert spark["sections"][name]["status"] == duck["sections"][name]["status"], name
    compared = {k: {s: {f: v.get(f) for f in ("metrics", "changes", "trend")} for s, v in d["sections"].items()}
                for k, d in (("duck", duck), ("spark", spark))}
    diffs = differences(compared["duck"], compared["spark"])
    assert not diffs, f"{len(diffs)} differences, first: " + "; ".join(diffs[:15])
