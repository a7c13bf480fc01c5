"""End to end: `journeykit run` on the tiny demo client renders a real
report (HTML, PDF through Chromium, metrics.json), isolates a failing
section, and never replaces a good report with a failed one."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import jsonschema
import nbformat
import pytest
from pypdf import PdfReader

from journeykit import cli
from journeykit.report import METRICS_SCHEMA

PERIOD = "2026-10"


def _add_notebook(project: Path, name: str, source: str) -> None:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('client: str = "tiny"\nperiod: str = "2026-10"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {name}"), params, nbformat.v4.new_code_cell(source)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, project / "notebooks" / f"{name}.ipynb")


def _run(project: Path, *extra: str) -> int:
    return cli.main(["--root", str(project), "run", "--client", "tiny", "--period", PERIOD, *extra])


def _pii_values(tiny: Path) -> list[str]:
    """Emails, names, phones and survey comments planted in the tiny exports."""
    values = []
    with open(tiny / "customers.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            values += [row["email"], row["phone"]]
            if len(row["name"]) >= 3:  # two-syllable names could match unrelated text
                values.append(row["name"])
    with open(tiny / "surveys.csv", encoding="utf-8") as f:
        values += [r["comment"] for r in csv.DictReader(f) if len(r["comment"]) >= 12]
    return [v for v in values if v]


@pytest.mark.e2e
def test_run_renders_a_complete_report(project: Path, tiny_data: Path):
    assert _run(project) == 0
    out = project / "reports" / "tiny" / PERIOD
    assert (out / "index.html").is_file()
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="00_data_quality.html"' in index and 'href="report.pdf"' in index

    section = (out / "00_data_quality.html").read_text(encoding="utf-8")
    assert "Data quality" in section
    section = re.sub(r"data:image/[^\"')\s]+", "", section)  # embedded figures are base64
    for forbidden in ("Traceback", "jk.quality", "import journeykit", ">nan<", "NaN"):
        assert forbidden not in section, forbidden

    doc = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    jsonschema.validate(doc, METRICS_SCHEMA)
    assert doc["client"] == "tiny" and doc["period"] == PERIOD
    dq = doc["sections"]["00_data_quality"]
    assert dq["status"] == "ok"
    assert dq["metrics"]["tables_loaded"] == 9
    assert dq["metrics"]["unmapped_event_types"] == 1  # APP_OPEN is left unmapped in tiny.yaml

    pdf = PdfReader(out / "report.pdf")
    assert len(pdf.pages) >= 3  # cover, contents, the section
    text = "\n".join(p.extract_text() for p in pdf.pages)
    assert "Data quality" in text

    assert (out / "notebooks" / "00_data_quality.ipynb").is_file()
    assert not list(project.glob("reports/tiny/.tmp-*")), "staging folder left behind"


@pytest.mark.e2e
def test_no_pii_in_any_output(project: Path, tiny_data: Path):
    assert _run(project, "--set", "report.pdf=false") == 0
    out = project / "reports" / "tiny" / PERIOD
    planted = _pii_values(tiny_data)
    assert len(planted) > 100
    for path in out.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="ignore")
            leaked = [v for v in planted if v in text]
            assert not leaked, f"{path.name} contains PII, e.g. {leaked[:3]}"


@pytest.mark.e2e
def test_failed_section_leaves_others_rendered_and_exit_nonzero(project: Path):
    _add_notebook(project, "99_boom", "raise ValueError('planted failure')")
    assert _run(project, "--set", "report.pdf=false") == 1
    out = project / "reports" / "tiny" / PERIOD  # no good report before: published with the failure
    doc = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert doc["sections"]["00_data_quality"]["status"] == "ok"
    assert doc["sections"]["99_boom"]["status"] == "failed"
    assert "planted failure" in doc["sections"]["99_boom"]["error"]
    assert doc["sections"]["99_boom"]["metrics"] is None
    page = (out / "99_boom.html").read_text(encoding="utf-8")
    assert "could not be produced" in page and "Traceback" not in page
    assert (out / "00_data_quality.html").is_file()


@pytest.mark.e2e
def test_failed_rerun_keeps_the_previous_good_report(project: Path):
    assert _run(project, "--set", "report.pdf=false") == 0
    out = project / "reports" / "tiny" / PERIOD
    before = (out / "metrics.json").read_bytes()
    files_before = sorted(p.name for p in out.iterdir())

    _add_notebook(project, "99_boom", "raise RuntimeError('second run breaks')")
    assert _run(project, "--set", "report.pdf=false") == 1
    assert (out / "metrics.json").read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == files_before
    failed = project / "reports" / "tiny" / "_failed" / PERIOD
    doc = json.loads((failed / "metrics.json").read_text(encoding="utf-8"))
    assert doc["sections"]["99_boom"]["status"] == "failed"


@pytest.mark.e2e
def test_section_without_its_tables_is_not_available(project: Path):
    # A client with only orders: a section needing surveys says so, and the run succeeds.
    client = project / "params" / "clients" / "orders-only.yaml"
    client.write_text(
        "name: Orders only\ncurrency: KRW\ntimezone: Asia/Seoul\nlanguage: en\n"
        "data:\n  source: data/tiny\n  tables:\n    orders:\n      file: orders.csv\n"
        "      columns: {order_id: 주문번호, customer_id: 고객번호, ordered_at: 주문일자, amount: 결제금액}\n",
        encoding="utf-8")
    _add_notebook(project, "50_needs_surveys",
                  "import journeykit as jk\ncfg = jk.config.load(client, period)\nds = jk.io.load(cfg)\n"
                  "jk.report.require(cfg, ds, 'surveys')\njk.report.record('50_needs_surveys', {'x': 1})")
    rc = cli.main(["--root", str(project), "run", "--client", "orders-only", "--period", PERIOD,
                   "--set", "report.pdf=false"])
    assert rc == 0
    out = project / "reports" / "orders-only" / PERIOD
    doc = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    sec = doc["sections"]["50_needs_surveys"]
    assert sec["status"] == "not_available" and sec["metrics"] is None and sec["needs"] == ["surveys"]
    assert doc["sections"]["00_data_quality"]["status"] == "ok"
    page = (out / "50_needs_surveys.html").read_text(encoding="utf-8")
    assert "Not available for this client" in page and "surveys" in page


@pytest.mark.e2e
def test_bad_data_fails_before_any_report_with_a_clear_message(project: Path, capsys):
    client = project / "params" / "clients" / "broken.yaml"
    client.write_text(
        "name: Broken\ndata:\n  source: data/tiny\n  tables:\n    orders:\n      file: orders.csv\n"
        "      columns: {customer_id: 고객번호, ordered_at: 주문일시, amount: 결제금액}\n", encoding="utf-8")
    rc = cli.main(["--root", str(project), "run", "--client", "broken", "--period", PERIOD])
    err = capsys.readouterr().err
    assert rc == 2
    assert "client 'broken', table 'orders', column 'ordered_at'" in err
    assert "주문일자" in err  # the close match is suggested
    assert "Traceback" not in err
    assert not (project / "reports" / "broken").exists()
