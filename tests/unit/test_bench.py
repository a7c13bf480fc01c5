"""The benchmark's comparisons run and compare like with like (timings are
printed by `make bench`, never asserted)."""

from __future__ import annotations

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
    # the weighted fit on distinct patterns finds the same parameters as the fit on every row
    assert f["max_param_rel_diff"] < 1e-4


def test_project_points_the_demo_client_at_the_size(tmp_path, tiny_data):
    client = bench._project(ROOT, "tiny", tmp_path / "p")
    text = (tmp_path / "p" / "params" / "clients" / f"{client}.yaml").read_text(encoding="utf-8")
    assert client == "bench_tiny" and "source: data/tiny" in text
    assert (tmp_path / "p" / "data" / "tiny" / "truth.json").is_file()
