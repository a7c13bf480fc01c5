"""journeykit.run.render: executed notebooks → client-facing HTML, and the PDF."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from journeykit.core import config
from journeykit.run import render
from journeykit.core.errors import JourneykitError
from journeykit.run.render import SectionResult

REPO = Path(__file__).resolve().parents[2]
EVIL = "<script>alert(1)</script>"
EVIL_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
# A 1×1 PNG.
PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e5273de90000000049454e44ae426082")).decode()


def make_cfg(tmp_path: Path, name: str = EVIL, language: str = "en", pdf: bool = True):
    root = tmp_path / "project"
    (root / "params" / "clients").mkdir(parents=True)
    shutil.copy(REPO / "params" / "defaults.yaml", root / "params" / "defaults.yaml")
    (root / "params" / "clients" / "acme.yaml").write_text(textwrap.dedent(f"""
        name: '{name}'
        language: {language}
        data:
          source: data/acme
          tables:
            orders: {{file: orders.csv}}
        report:
          pdf: {str(pdf).lower()}
        """), encoding="utf-8")
    return config.load("acme", "2026-10", root=root)


def executed_notebook():
    """What papermill leaves behind: code, outputs, tags."""
    return new_notebook(cells=[
        new_markdown_cell("# Purchase\n\n> How well they convert", metadata={"tags": ["lang-en"]}),
        new_markdown_cell("# 구매\n\n> 전환과 결제", metadata={"tags": ["lang-ko"]}),
        new_markdown_cell("Shared narrative for every language."),
        new_code_cell('client = "demo"', metadata={"tags": ["parameters"]},
                      outputs=[new_output("stream", name="stdout", text="PARAMETERS-OUTPUT\n")]),
        new_code_cell('client = "acme"', metadata={"tags": ["injected-parameters"]},
                      outputs=[new_output("stream", name="stdout", text="INJECTED-OUTPUT\n")]),
        new_code_cell("debug_only()", metadata={"tags": ["remove_cell"]},
                      outputs=[new_output("stream", name="stdout", text="REMOVED-CELL-OUTPUT\n")]),
        new_code_cell("show_table_secret_code()", outputs=[
            new_output("stream", name="stderr", text="WARNING-ON-STDERR\n"),
            new_output("display_data", data={
                "text/html": f'<table class="jk-table"><tr><td>{EVIL_ESCAPED}</td><td>1,234</td></tr></table>',
                "text/plain": "table"}),
            new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"}),
            new_output("display_data", data={"text/html": "<p>before</p><script>window.evil = 1</script><p>after</p>",
                                             "text/plain": "x"}),
        ]),
        new_code_cell("fails()", outputs=[new_output("error", ename="ValueError", evalue="secret-evalue",
                                                     traceback=["TRACEBACK-LINE"])]),
        new_code_cell("noisy()", metadata={"tags": ["remove_output"]},
                      outputs=[new_output("stream", name="stdout", text="REMOVED-OUTPUT\n")]),
    ])


@pytest.mark.parametrize("language, kept, dropped", [
    ("en", "How well they convert", "전환과 결제"),
    ("ko", "전환과 결제", "How well they convert"),
])
def test_notebook_body_is_client_facing(language, kept, dropped):
    body = render.notebook_body(executed_notebook(), language)
    # only the client's language, plus untagged markdown
    assert kept in body and dropped not in body
    assert "Shared narrative for every language." in body
    # no code at all
    for code in ('client = "demo"', "debug_only", "show_table_secret_code", "fails()", "noisy()"):
        assert code not in body, code
    # parameters / remove_cell cells and remove_output outputs are gone
    for text in ("PARAMETERS-OUTPUT", "INJECTED-OUTPUT", "REMOVED-CELL-OUTPUT", "REMOVED-OUTPUT"):
        assert text not in body, text
    # no stderr, no errors or tracebacks
    for text in ("WARNING-ON-STDERR", "secret-evalue", "TRACEBACK-LINE", "ValueError"):
        assert text not in body, text
    # no scripts, but the outputs around them stay
    assert not re.search(r"<script", body, re.IGNORECASE)
    assert "<p>before</p>" in body and "<p>after</p>" in body
    # tables stay escaped, figures embedded
    assert EVIL_ESCAPED in body and EVIL not in body
    assert f"data:image/png;base64,{PNG}" in body
    assert "In&nbsp;[" not in body and "Out[" not in body      # no prompts


def test_notebook_title_in_the_client_language():
    nb = executed_notebook()
    assert render.notebook_title(nb, "en", "30_purchase") == "Purchase"
    assert render.notebook_title(nb, "ko", "30_purchase") == "구매"
    assert render.notebook_title(new_notebook(cells=[new_markdown_cell("no heading")]), "en", "30_x") == "30_x"


def test_page_escapes_the_client_name_and_forbids_scripts(tmp_path):
    cfg = make_cfg(tmp_path)
    html = render.page(cfg, "Title <b>x</b>", "<p>trusted body</p>", generated_at="2026-11-01 06:00")
    assert EVIL not in html and "<script" not in html.lower()
    assert EVIL_ESCAPED in html                              # header and <title>
    assert "Title &lt;b&gt;x&lt;/b&gt;" in html
    assert "<p>trusted body</p>" in html                     # the body is rendered HTML, kept
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert '<html lang="en">' in html
    assert "October 2026" in html and "compared with September 2026" in html
    assert "Generated 2026-11-01 06:00" in html


def test_index_cover_and_status_pages_escape_client_strings(tmp_path):
    cfg = make_cfg(tmp_path)
    results = [
        SectionResult("00_data_quality", "Data <quality>", "ok",
                      metrics={"tables_loaded": 2, "rows_in_scope": {"orders": 1234}}),
        SectionResult("50_advocacy", "Advocacy", "not_available", needs=["surveys"]),
        SectionResult("70_prediction", "Prediction", "failed", error=f"ValueError: {EVIL}"),
    ]
    index = render.index_body(cfg, results, has_pdf=True)
    assert EVIL_ESCAPED in index and EVIL not in index
    assert "Data &lt;quality&gt;" in index
    assert index.count('class="badge ok"') == 1 and index.count('class="badge failed"') == 1
    assert '<a href="report.pdf">' in index
    assert ">1,234<" in index                                # orders to date, formatted
    cover = render.combined_body(cfg, results, "2026-11-01 06:00")
    assert EVIL_ESCAPED in cover and EVIL not in cover
    na = render.status_body(cfg, results[1])
    assert "surveys" in na and EVIL_ESCAPED in na and EVIL not in na   # "… which <client> has not supplied"
    failed = render.status_body(cfg, results[2])
    assert "could not be produced" in failed and EVIL_ESCAPED in failed and EVIL not in failed


def test_status_pages_in_korean(tmp_path):
    cfg = make_cfg(tmp_path, name="에이크미 커피", language="ko")
    na = render.status_body(cfg, SectionResult("50_advocacy", "추천", "not_available", needs=["surveys", "tickets"]))
    assert "이 고객사에는 제공되지 않는 섹션입니다" in na
    assert "설문, 상담 티켓 테이블이 필요하지만 에이크미 커피에서 제공되지 않았습니다" in na


def test_find_chromium_explains_when_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JOURNEYKIT_CHROMIUM", raising=False)
    with pytest.raises(JourneykitError) as info:
        render.find_chromium()
    assert "Chromium" in str(info.value) and "report.pdf: false" in info.value.fix


def test_write_report_html_pages_and_a_multi_page_pdf(tmp_path):
    # Needs Debian's chromium and poppler-utils (`make sysdeps`).
    cfg = make_cfg(tmp_path, name="에이크미 커피 <ACME>", language="ko")
    body = render.notebook_body(executed_notebook(), "ko")
    results = [
        SectionResult("30_purchase", "구매", "ok", metrics={"x": 1}, body_html=body),
        SectionResult("50_advocacy", "추천", "not_available", needs=["surveys"]),
    ]
    results[1].body_html = render.section_body(cfg, results[1])
    out = tmp_path / "out"
    out.mkdir()
    render.write_report(cfg, out, results, "2026-11-01 06:00")

    assert sorted(p.name for p in out.iterdir()) == ["30_purchase.html", "50_advocacy.html", "index.html",
                                                     "report.pdf"]   # the combined HTML is cleaned up
    for page in ("30_purchase.html", "50_advocacy.html", "index.html"):
        html = (out / page).read_text(encoding="utf-8")
        assert "<script" not in html.lower()
        assert "에이크미 커피 &lt;ACME&gt;" in html

    pdf = out / "report.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))
    assert pages == 4     # cover, contents, 1 section (the one not available has a line only), appendix (definitions)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "에이크미 커피" in text          # Hangul survived (a font with the glyphs was used)
    assert "전환과 결제" in text and "How well they convert" not in text


def _publish_fake(reports: Path, client: str, period: str, name: str, language: str, statuses: list[str]) -> None:
    import json

    d = reports / client / period
    d.mkdir(parents=True)
    doc = {"client": client, "client_name": name, "language": language, "period": period,
           "generated_at": "2026-11-02T09:30:00+09:00",
           "sections": {f"{i:02d}_s": {"status": s, "metrics": None} for i, s in enumerate(statuses)}}
    (d / "metrics.json").write_text(json.dumps(doc), encoding="utf-8")


def test_published_reports_lists_every_published_report(tmp_path):
    reports = tmp_path / "reports"
    _publish_fake(reports, "acme", "2026-09", "ACME", "en", ["ok", "ok"])
    _publish_fake(reports, "acme", "2026-10", "ACME", "en", ["ok", "not_available"])
    _publish_fake(reports, "evil", "2026-10", "<script>alert(1)</script>", "en", ["ok"])
    _publish_fake(reports / "acme" / "_failed", "x", "2026-10", "X", "en", ["failed"])  # not a published report
    listed = render.published_reports(reports)
    assert [(r["client"], r["period"]) for r in listed] == [
        ("evil", "2026-10"), ("acme", "2026-10"), ("acme", "2026-09")]  # by name ("<" sorts first), newest first
    assert listed[1]["ok"] == 1 and listed[1]["not_available"] == 1
