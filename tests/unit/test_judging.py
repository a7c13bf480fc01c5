"""The report-wide judging step of the runner (:func:`journeykit.run.runner.judge_report`):
the sections compute in separate kernels, each judging only its own tests; once they
have all run, every recorded test of the report is adjusted together (Benjamini–Hochberg),
the final verdicts are written into the records (metrics.json, the summary), and each
section's key-figures block is worded again — in its page and its executed notebook."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from journeykit import report
from journeykit.core import config
from journeykit.report.results import SectionResult
from journeykit.run import runner
from journeykit.stats import compare


@pytest.fixture
def cfg(tmp_path):
    (tmp_path / "params" / "clients").mkdir(parents=True)
    root = Path(__file__).resolve().parents[2]
    (tmp_path / "params" / "defaults.yaml").write_text((root / "params" / "defaults.yaml").read_text())
    (tmp_path / "params" / "clients" / "c.yaml").write_text(
        "name: C\ncurrency: KRW\ntimezone: Asia/Seoul\nlanguage: en\n"
        "data: {source: data/c, tables: {orders: {file: o.csv}}}\n", encoding="utf-8")
    return config.load("c", "2026-10", root=tmp_path)


def _section(name, changes, labels, kinds, cfg, staging, advice=None):
    """A section result as the runner holds it after the kernel: its recorded
    changes, its page body and its executed notebook, both showing the
    key figures as the section judged them."""
    block = report.key_figures(changes, labels, kinds, cfg, advice=advice)
    body = f"<h1>{name}</h1>{block._repr_html_()}<p>the rest of the page</p>"
    nb = new_notebook(cells=[new_code_cell("jk.report.key_figures(...)", outputs=[
        new_output("display_data", data={"text/html": block._repr_html_(), "text/plain": repr(block)})])])
    nbformat.write(nb, staging / "notebooks" / f"{name}.ipynb")
    recs = [report.change_record(c, labels[c.key], kinds[c.key], (advice or {}).get(c.key)) for c in changes]
    return SectionResult(name=name, title=name, status="ok", metrics={}, changes=recs, body_html=body)


def test_the_report_judges_every_sections_tests_together(cfg, tmp_path):
    from journeykit.core import i18n

    i18n.register({"test_judging_advice": {"en": "Look at conversion ({delta}).", "ko": "전환을 보세요 ({delta})."}})
    staging = tmp_path / "run"
    (staging / "notebooks").mkdir(parents=True)
    # 30_purchase alone: conversion 20% → 30% of 200 (p = 0.026) is significant over its one test
    conv = compare.judge([compare.rate("conversion_rate", 60, 200, 40, 200)], cfg)
    assert conv[0].verdict == "significant" and conv[0].scope == "section"
    purchase = _section("30_purchase", conv, {"conversion_rate": "Conversion"}, {"conversion_rate": "pct"}, cfg,
                        staging, advice={"conversion_rate": {"up": "test_judging_advice"}})
    assert "Look at conversion" in purchase.body_html
    # 40_retention: nine tests of nothing, and one large change (p < 1e-6)
    quiet = [compare.rate(f"k{i}", 50, 100, 50, 100) for i in range(9)] + [compare.rate("churn_rate", 80, 200, 20, 200)]
    retention = _section("40_retention", compare.judge(quiet, cfg), {c.key: c.key for c in quiet},
                         {c.key: "pct" for c in quiet}, cfg, staging)
    summary = SectionResult(name="90_summary", title="summary", status="ok", metrics={}, changes=None)

    m = runner.judge_report(cfg, [purchase, retention, summary], staging)

    assert m == 11
    c = purchase.changes[0]
    # eleven tests: q = 11 · 0.026 / rank > 0.05 → no longer significant, and its advice is gone
    assert c["scope"] == "report" and c["family_size"] == 11 and c["q_value"] > 0.05
    assert c["verdict"] == "not_significant" and c["good"] is None and c["p_value"] == pytest.approx(conv[0].p_value)
    churn = next(r for r in retention.changes if r["key"] == "churn_rate")
    assert churn["verdict"] == "significant" and churn["q_value"] <= 0.05
    # the page shows the report's verdicts, and says how they were judged
    assert "over all 11 tests of this report" in purchase.body_html
    assert "Look at conversion" not in purchase.body_html
    assert "None of the changes since September 2026 is statistically significant." in purchase.body_html
    assert purchase.body_html.startswith("<h1>30_purchase</h1>") and "the rest of the page" in purchase.body_html
    # so does the executed notebook the analyst opens from the report
    nb = nbformat.read(staging / "notebooks" / "30_purchase.ipynb", as_version=4)
    assert "over all 11 tests of this report" in nb.cells[0].outputs[0]["data"]["text/html"]


def test_a_report_without_tests_is_left_alone(cfg):
    r = SectionResult(name="80_ltv", title="ltv", status="ok", metrics={},
                      changes=[report.change_record(compare.value("clv", 2, 1), "CLV", "money")], body_html="<p>x</p>")
    assert runner.judge_report(cfg, [r]) == 0
    assert r.changes[0]["verdict"] == "untested" and r.body_html == "<p>x</p>"
