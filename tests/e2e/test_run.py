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

from journeykit.run import cli
from journeykit.report import METRICS_SCHEMA
from journeykit.sections import registry

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
    """Emails, names, phones and survey comments planted in the tiny exports,
    and the personal data planted in category values (a channel, a page, an
    event name, a campaign: ``truth.json``'s ``planted_pii``)."""
    values = list(json.loads((tiny / "truth.json").read_text(encoding="utf-8"))["planted_pii"])
    with open(tiny / "customers.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            values += [row["email"], row["phone"]]
            if len(row["name"]) >= 3:  # two-syllable names could match unrelated text
                values.append(row["name"])
    with open(tiny / "surveys.csv", encoding="utf-8") as f:
        values += [r["comment"] for r in csv.DictReader(f) if len(r["comment"]) >= 12]
    return [v for v in values if v]


STAGES = [s.name for s in registry.SECTIONS if s.name not in ("00_data_quality", "90_summary")]


def _stable_keys(section: str) -> list[str]:
    return registry.get(section).keys()


@pytest.mark.e2e
def test_run_renders_a_complete_report(full_run: Path):
    project = full_run
    out = project / "reports" / "tiny" / PERIOD
    assert (out / "index.html").is_file()
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="00_data_quality.html"' in index and 'href="report.pdf"' in index

    for name in ["00_data_quality", *STAGES]:
        assert f'href="{name}.html"' in index, name
        section = (out / f"{name}.html").read_text(encoding="utf-8")
        section = re.sub(r"data:image/[^\"')\s]+", "", section)  # embedded figures are base64
        for forbidden in ("Traceback", "quality.", "import journeykit", ">nan<", "NaN", ">None<"):
            assert forbidden not in section, (name, forbidden)
    assert "Data quality" in (out / "00_data_quality.html").read_text(encoding="utf-8")
    # every image has an alt text; charts are described by their own title and axis labels
    alts = []
    for page in out.glob("*.html"):
        for img in re.findall(r"<img\b[^>]*>", page.read_text(encoding="utf-8")):
            alt = re.search(r'\balt="([^"]*)"', img)
            assert alt and alt.group(1).strip() and "No description" not in alt.group(1), (page.name, img[:80])
            alts.append(alt.group(1))
    assert alts and sum("(x: " in a or "y: " in a for a in alts) > len(alts) / 2, alts[:5]
    # the client part reads verdicts, not test statistics; the appendix keeps them
    purchase = (out / "30_purchase.html").read_text(encoding="utf-8")
    client_part, _, appendix_part = purchase.partition('<section class="jk-appendix">')
    assert ">Verdict</th>" in client_part and "(p " not in client_part and "(p " in appendix_part
    # the executive summary runs last (it reads the others) but is read first
    assert index.index('href="90_summary.html"') < index.index('href="00_data_quality.html"')
    summary_page = (out / "90_summary.html").read_text(encoding="utf-8")
    assert "Scorecard" in summary_page and "<svg" in summary_page

    doc = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    jsonschema.validate(doc, METRICS_SCHEMA)
    assert doc["client"] == "tiny" and doc["period"] == PERIOD
    dq = doc["sections"]["00_data_quality"]
    assert dq["status"] == "ok"
    assert dq["metrics"]["tables_loaded"] == 9
    assert dq["metrics"]["unmapped_event_types"] == 1  # APP_OPEN is left unmapped in tiny.yaml

    pdf = PdfReader(out / "report.pdf")
    assert len(pdf.pages) >= 3 + len(STAGES)  # cover, contents, a page or more per section
    text = "\n".join(p.extract_text() for p in pdf.pages)
    assert "Data quality" in text and "Awareness" in text and "Advocacy" in text
    contents = pdf.pages[1].extract_text()
    assert "Appendix" in contents and re.search(r"Executive summary\s*3\b", contents), contents
    assert "90 ·" not in text

    assert (out / "notebooks" / "00_data_quality.ipynb").is_file()
    assert not list(project.glob("reports/tiny/.tmp-*")), "staging folder left behind"
    history = (project / "reports" / "index.html").read_text(encoding="utf-8")
    assert 'href="tiny/2026-10/index.html"' in history and "Demo Coffee (tiny sample)" in history
    # the one-page brief beside it, linked from the portfolio page with the headline KPIs
    brief = PdfReader(out / "brief.pdf")
    assert len(brief.pages) == 1 and (out / "brief.png").is_file()
    brief_text = brief.pages[0].extract_text()
    assert "Headline KPIs" in brief_text and "Payment success rate" in brief_text and "What to do next" in brief_text
    assert 'href="tiny/2026-10/brief.pdf"' in history and "Payment success rate" in history


@pytest.mark.e2e
@pytest.mark.parametrize("section", list(STAGES))
def test_every_stage_records_its_stable_keys(full_run: Path, section: str):
    doc = json.loads((full_run / "reports" / "tiny" / PERIOD / "metrics.json").read_text(encoding="utf-8"))
    sec = doc["sections"][section]
    assert sec["status"] == "ok", sec.get("error")
    missing = [k for k in _stable_keys(section) if k not in sec["metrics"]]
    assert not missing, f"{section} lacks {missing}"
    # the tiny client has every table: the headline of each stage is computed
    assert sec["metrics"][registry.get(section).headline] is not None


@pytest.mark.e2e
def test_no_pii_in_any_output(full_run: Path, tiny_data: Path):
    out = full_run / "reports" / "tiny" / PERIOD
    planted = _pii_values(tiny_data)
    assert len(planted) > 100
    # the category values really carry it (as URL queries: search?email=…&tel=…)
    import pyarrow.parquet as pq

    exports = (tiny_data / "orders.csv").read_bytes().decode("cp949") + \
        (tiny_data / "messages.csv").read_text(encoding="utf-8") + \
        (tiny_data / "customers.csv").read_text(encoding="utf-8")
    events = pq.read_table(tiny_data / "events.parquet", columns=["name", "page"]).to_pylist()
    in_values = [v for v in json.loads((tiny_data / "truth.json").read_text(encoding="utf-8"))["planted_pii"]]
    assert all(v in exports for v in in_values[:2]) and in_values[2] in exports
    assert any("?email=" in r["name"] for r in events) and any("?utm_source=" in (r["page"] or "") for r in events)
    doc = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    # masked at load, the values are the plain ones again: nothing was split off
    assert doc["sections"]["00_data_quality"]["metrics"]["unmapped_event_types"] == 1
    files = [p for p in out.rglob("*") if p.is_file()]
    assert any(p.suffix == ".pdf" for p in files) and any(p.suffix == ".ipynb" for p in files)
    for path in files:
        if path.suffix == ".pdf":
            text = "\n".join(pg.extract_text() for pg in PdfReader(path).pages)
        else:
            text = path.read_text(encoding="utf-8", errors="ignore")
        leaked = [v for v in planted if v in text]
        assert not leaked, f"{path.name} contains PII, e.g. {leaked[:3]}"


@pytest.mark.e2e
def test_two_runs_on_the_same_inputs_write_the_same_metrics_json_but_generated_at(
        full_run: Path, tmp_path_factory, tiny_data: Path, project_factory):
    # another project, another day: the same data, settings, notebooks and journeykit
    other = project_factory(tmp_path_factory.mktemp("again"), tiny_data)
    assert cli.main(["--root", str(other), "run", "--client", "tiny", "--period", PERIOD, "--jobs", "2"]) == 0
    first = (full_run / "reports" / "tiny" / PERIOD / "metrics.json").read_text(encoding="utf-8")
    second = (other / "reports" / "tiny" / PERIOD / "metrics.json").read_text(encoding="utf-8")

    def without_generated_at(text: str) -> str:
        return re.sub(r'"generated_at": "[^"]*"', '"generated_at": ""', text)

    assert json.loads(first)["generated_at"] != "" and "fit_seconds" not in first and '"seconds"' not in first
    assert without_generated_at(first) == without_generated_at(second)
    # the timings are in run.json
    ran = json.loads((other / "reports" / "tiny" / PERIOD / "run.json").read_text(encoding="utf-8"))
    assert ran["sections"]["80_ltv"]["timings"]["fit_seconds"] > 0 and ran["sections"]["80_ltv"]["seconds"] > 0


@pytest.mark.e2e
def test_failed_section_leaves_others_rendered_and_exit_nonzero(project: Path):
    _add_notebook(project, "99_boom", "raise ValueError('planted failure')")
    assert _run(project, "--set", "report.pdf=false", "--sections", "00", "99") == 1
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
    assert _run(project, "--set", "report.pdf=false", "--sections", "00") == 0
    out = project / "reports" / "tiny" / PERIOD
    before = (out / "metrics.json").read_bytes()
    files_before = sorted(p.name for p in out.iterdir())

    _add_notebook(project, "99_boom", "raise RuntimeError('second run breaks')")
    assert _run(project, "--set", "report.pdf=false", "--sections", "00", "99") == 1
    assert (out / "metrics.json").read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == files_before
    failed = project / "reports" / "tiny" / "_failed" / PERIOD
    doc = json.loads((failed / "metrics.json").read_text(encoding="utf-8"))
    assert doc["sections"]["99_boom"]["status"] == "failed"


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
