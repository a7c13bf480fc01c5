"""The benchmark's comparisons run and compare like with like (timings are
printed by `make bench`, never asserted)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from journeykit import bench

ROOT = Path(__file__).resolve().parents[2]


def test_rfm_and_fit_comparisons_on_tiny(tiny_data):
    import json

    c = bench.rfm_comparison(ROOT, "tiny")
    rows = json.loads((tiny_data / "truth.json").read_text(encoding="utf-8"))["meta"]["rows"]
    # the floor scans every export row; the summary has one row per buyer
    assert c["orders_rows"] == rows["orders.csv"]
    assert 0 < c["customers"] <= 1_500
    assert c["journeykit_rfm_s"] >= 0
    assert c["lifetimes_rfm_s"] is not None or "lifetimes_rfm_error" in c
    f = bench.fit_comparison(c["summary"])
    assert f["customers"] == c["customers"] and f["patterns"] <= f["customers"]
    assert f["repeats"] == 3 and f["weighted_fit_s"] > 0 and f["every_row_fit_s"] > 0   # best of three each
    # the weighted fit on distinct patterns finds the same parameters as the fit on every row
    assert f["max_param_rel_diff"] < 1e-4


def test_project_points_the_demo_client_at_the_size(tmp_path, tiny_data):
    client = bench._project(ROOT, "tiny", tmp_path / "p")
    text = (tmp_path / "p" / "params" / "clients" / f"{client}.yaml").read_text(encoding="utf-8")
    assert client == "bench_tiny" and "source: data/tiny" in text
    assert (tmp_path / "p" / "data" / "tiny" / "truth.json").is_file()

def _rss_kb(pid: int) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_tree_rss_counts_a_child_and_its_grandchild():
    # a child that starts a grandchild holding 150 MB, then waits
    code = ("import subprocess, sys, time; "
            "subprocess.Popen([sys.executable, '-c', 'b = bytearray(150 << 20); import time; time.sleep(30)']); "
            "time.sleep(30)")
    child = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 20
        while bench.tree_rss_kb(child.pid) - _rss_kb(child.pid) < 140 << 10 and time.monotonic() < deadline:
            time.sleep(0.1)
        total = bench.tree_rss_kb(child.pid)
        assert total - _rss_kb(child.pid) >= 140 << 10          # the grandchild's 150 MB are in the sum
        assert bench.tree_rss_kb(os.getpid()) >= total           # and in ours, one level further up
    finally:
        subprocess.run(["pkill", "-P", str(child.pid)])
        child.kill()
        child.wait()


def test_tree_pss_counts_a_page_shared_by_a_child_once():
    # a child touches 150 MB, then forks: parent and grandchild share those pages
    code = ("import os, time; b = bytearray(150 << 20); b[::4096] = b'x' * len(b[::4096]); "
            "os.fork(); time.sleep(30)")
    child = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 20
        while bench.tree_rss_kb(child.pid) < 280 << 10 and time.monotonic() < deadline:
            time.sleep(0.1)
        rss, pss = bench.tree_rss_kb(child.pid), bench.tree_pss_kb(child.pid)
        assert rss >= 280 << 10                                  # RSS counts the 150 MB in both processes
        assert 140 << 10 <= pss <= 200 << 10                     # PSS once: they take the memory once
    finally:
        subprocess.run(["pkill", "-P", str(child.pid)])
        child.kill()
        child.wait()


def test_tree_memory_keeps_the_peak():
    proc = subprocess.Popen([sys.executable, "-c",
                             "import time; b = bytearray(120 << 20); time.sleep(1.5); del b; time.sleep(1.5)"])
    sampler = bench.TreeMemory(proc.pid, interval=0.05)
    sampler.start()
    proc.wait()
    sampler.stop()
    assert sampler.peak_kb >= 110 << 10
    assert sampler.peak_rss_kb >= sampler.peak_kb


def test_targets_say_met_or_missed_with_the_margin():
    report = {"wall_s": 57.0, "peak_mb_tree": 2048.0, "exit_code": 0, "rerun_s": 1.2, "rerun_exit_code": 0}
    fit = {"weighted_fit_s": 0.5, "every_row_fit_s": 12.0}
    got = {name: (figure, met) for name, figure, met in bench.targets("demo", report, fit)}
    assert got["full report ≤ 30 s"] == ("57.0 s (27.0 s over)", False)
    assert got["re-run, inputs unchanged ≤ 5 s"] == ("1.20 s (3.80 s to spare)", True)
    assert "BG/NBD fit ≥ 20× lifetimes" not in got                # a target of the large size only
    fit_large = {name: (figure, met) for name, figure, met in bench.targets("large", None, fit)}
    assert fit_large["BG/NBD fit ≥ 20× lifetimes"] == ("24.0×", True)
    assert not any("memory" in name for name in got)          # the demo has no memory target
    large = {name: met for name, _, met in bench.targets("large", {**report, "wall_s": 290.0,
                                                                    "peak_mb_tree": 6.5 * 1024}, None)}
    assert large == {"full report ≤ 300 s": True, "peak memory ≤ 6 GiB": False,
                     "re-run, inputs unchanged ≤ 5 s": True}
    # the large report on Spark: it completes, with its time against DuckDB's
    on_spark = {name: (figure, met) for name, figure, met in bench.targets(
        "large", {**report, "wall_s": 290.0}, None, {"wall_s": 870.0, "exit_code": 0})}
    assert on_spark["report on Spark (local) completes"] == ("870.0 s = 3.0× DuckDB, exit 0", True)
    assert bench.targets("large", None, None, {"wall_s": 10.0, "exit_code": 1})[0][2] is False
    # with the CPU seconds, the wall target also says what the cores allow
    busy = {**report, "wall_s": 350.0, "cpu_s": 600.0, "cores": 2}
    assert bench.targets("large", busy, None)[0][1] == "350.0 s (50.0 s over); CPU / cores 300.0 s"
    # a failed run meets no report target, however fast
    failed = bench.targets("demo", {**report, "wall_s": 3.0, "exit_code": 1}, None)
    assert failed[0][2] is False


def test_cpu_floor_is_the_wall_with_every_core_busy():
    # 600 CPU-seconds on 2 cores take at least 300 s; in 400 s the cores were busy 600 of 800 s
    assert bench.cpu_floor(400.0, 600.0, 2) == {"floor_s": 300.0, "idle_share": 0.25}
    assert bench.cpu_floor(10.0, 25.0, 2)["idle_share"] == 0.0       # children counted after a reap: never below 0
    assert bench.cpu_floor(0.0, 0.0, 0) == {"floor_s": 0.0, "idle_share": 0.0}


def test_record_adds_the_kernels_peak_memory():
    from journeykit import report

    data = report.record("00_x", {"a": 1}, timings={"fit_seconds": 0.5})
    assert data["timings"]["fit_seconds"] == 0.5
    assert data["timings"]["peak_memory_mb"] > 10   # a Python process with pandas loaded


def test_phases_split_the_wall_time_by_the_run_document():
    # run.json counts from the first section to the last file: 300 s of a 380 s wall, 20 of them rendering
    doc = {"seconds": 300.0, "render_seconds": 20.0, "pdf_prints": {"pdf_seconds": 6.0, "toc_seconds": 5.5}}
    assert bench.phases_of(380.0, doc) == {"before_s": 80.0, "sections_s": 280.0, "render_s": 20.0, "pdf_s": 11.5}
    # a run without a PDF; a run document without timings counts all of the wall as before the sections
    assert bench.phases_of(50.0, {"seconds": 40.0, "render_seconds": 2.0})["pdf_s"] == 0.0
    assert bench.phases_of(5.0, {})["before_s"] == 5.0
