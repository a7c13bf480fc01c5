"""The client deliverable (issue 20): two audiences in one run, page-aware
layout with numbered contents, branding and provenance, alt texts."""

from __future__ import annotations

import base64
import re
import subprocess
from pathlib import Path

import matplotlib
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from journeykit.core import config
from journeykit.core.errors import ConfigError, JourneykitError
from journeykit.report import alt, blocks
from journeykit.run import render
from journeykit.run.render import SectionResult

from test_render import PNG, make_cfg

matplotlib.use("Agg")


def test_describe_figure_names_titles_and_axis_labels():
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2)
    a.set_title("Orders per month")
    a.set_xlabel("Month")
    a.set_ylabel("Orders")
    b.set_title("AOV")              # a title alone
    fig.colorbar(a.imshow([[0, 1]]), ax=b)   # a colour bar has no words: skipped
    assert alt.describe_figure(fig) == "Chart: Orders per month (x: Month, y: Orders); AOV"
    fig.suptitle("Purchase at a glance")
    assert alt.describe_figure(fig).startswith("Chart: Purchase at a glance; Orders per month")
    empty, _ = plt.subplots()
    assert alt.describe_figure(empty) == "Chart"
    many, axes = plt.subplots(1, 60)
    for i, ax in enumerate(axes):
        ax.set_title(f"A rather long panel title number {i}")
    text = alt.describe_figure(many)
    assert len(text) == alt.MAX_CHARS and text.endswith("…")
    plt.close("all")


def test_register_makes_the_plain_text_of_a_figure_its_description():
    import matplotlib.pyplot as plt
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    assert alt.register(shell)
    fig, ax = plt.subplots()
    ax.set_title("Visits")
    data, _ = shell.display_formatter.format(fig)
    assert data["text/plain"] == "Chart: Visits"
    # choosing figure formats (the report's chart style does) drops it; the next cell has it again
    from IPython.core.pylabtools import select_figure_formats

    select_figure_formats(shell, {"png"})
    assert shell.display_formatter.format(fig)[0]["text/plain"].startswith("<Figure")
    shell.run_cell("pass")
    assert shell.display_formatter.format(fig)[0]["text/plain"] == "Chart: Visits"
    assert alt.register(shell)      # registering twice adds no second hook
    assert sum(getattr(cb, "__name__", "") == "again" for cb in shell.events.callbacks["pre_run_cell"]) == 1
    plt.close("all")


def _notebook(plain: str = "Chart: Orders by month (x: Month, y: Orders)"):
    return new_notebook(cells=[
        new_markdown_cell("# 30 · Purchase", metadata={"tags": ["lang-en"]}),
        new_markdown_cell("## 1. Key figures", metadata={"tags": ["lang-en"]}),
        new_code_cell("kf()", outputs=[new_output("display_data", data={
            "text/html": '<div class="jk-key-figures"><table class="jk-table"><thead><tr><th class="txt">KPI</th>'
                         '<th class="txt jk-sig">Significance</th></tr></thead><tbody><tr><td class="txt">Orders</td>'
                         '<td class="txt jk-sig">significant<span class="jk-stat"> (p 0.003, q 0.012)</span></td>'
                         '</tr></tbody></table><p class="jk-note jk-info jk-method">How these verdicts are judged'
                         '</p></div><!--/jk-key-figures-->', "text/plain": "kf"})]),
        new_markdown_cell("## 2. Models and their validation", metadata={"tags": ["lang-en", "method"]}),
        new_code_cell("models()", metadata={"tags": ["method"]}, outputs=[new_output("display_data", data={
            "text/html": "<p>MODEL-PARAMETERS r=0.24</p>", "text/plain": "m"})]),
        new_markdown_cell("## 3. Trend", metadata={"tags": ["lang-en"]}),
        new_code_cell("chart()", outputs=[new_output("display_data", data={"image/png": PNG, "text/plain": plain})]),
        new_code_cell("other()", outputs=[new_output("display_data", data={"image/png": PNG,
                                                                          "text/plain": "<Figure size 1x1>"})]),
    ])


def test_section_body_splits_the_client_part_from_the_appendix(tmp_path):
    cfg = make_cfg(tmp_path, name="ACME")
    r = SectionResult("30_purchase", "30 · Purchase", "ok")
    r.body_html = render.section_body(cfg, r, _notebook())
    assert render.METHODS_MARK in r.body_html
    client, appendix = render.split_body(r.body_html, "en")
    # the client reads verdict words, no statistics, no method
    assert "significant" in client and "p 0.003" not in client and "How these verdicts" not in client
    assert ">Verdict</th>" in client and "Significance" not in client
    assert "MODEL-PARAMETERS" not in client
    # headings: no notebook number, H2s numbered again in the order they remain
    assert re.search(r"<h1[^>]*>Purchase", client) and "30 ·" not in client
    assert re.search(r"<h2[^>]*>1\. Key figures", client) and re.search(r"<h2[^>]*>2\. Trend", client)
    # the chart is kept with its heading
    assert re.search(r'<div class="jk-keep">.*?2\. Trend.*?<img', client, re.S)
    # the analyst keeps everything in the appendix: the tests and the method cells
    assert "p 0.003, q 0.012" in appendix and "How these verdicts" in appendix
    assert "MODEL-PARAMETERS" in appendix and re.search(r"<h2[^>]*>1\. Models and their validation", appendix)
    assert "Tests behind the key figures" in appendix


def test_every_image_gets_an_alt_text(tmp_path):
    body = render.notebook_body(_notebook(), "en")
    alts = re.findall(r'<img[^>]*\balt="([^"]*)"', body)
    assert alts == ["Chart: Orders by month (x: Month, y: Orders)", "Chart: 3. Trend"]  # the second from its heading
    ko = render.notebook_body(_notebook(), "ko")
    assert 'alt="차트: Orders by month (x: Month, y: Orders)"' in ko
    kept = render.set_alt_texts('<h2>T</h2><img src="x" alt="Logo">', [None], "en")
    assert 'alt="Logo"' in kept
    bare = render.set_alt_texts('<img src="x">', [], "en")
    assert 'alt="Chart"' in bare


def test_significance_html_marks_the_statistics():
    assert blocks.significance_html("significant (p 0.003, q 0.012)") == (
        'significant<span class="jk-stat"> (p 0.003, q 0.012)</span>')
    assert blocks.significance_html("too little data") == "too little data"
    assert blocks.significance_html("유의함 (p <0.001, q 0.01)") == (
        '유의함<span class="jk-stat"> (p &lt;0.001, q 0.01)</span>')


def test_display_title_and_tidy_headings():
    assert render.display_title("90 · Executive summary") == "Executive summary"
    assert render.display_title("고객 생애 가치") == "고객 생애 가치"
    soup = render._soup("<h1>80 · LTV</h1><h2>1. A</h2><h2>Unnumbered</h2><h2>4. B</h2>")
    render.tidy_headings(soup)
    assert str(soup) == "<h1>LTV</h1><h2>1. A</h2><h2>Unnumbered</h2><h2>2. B</h2>"


def test_css_string_cannot_break_out_of_the_style():
    s = render.css_string('Confidential "x" } </style> 기밀')
    assert s.startswith('"') and s.endswith('"') and '"' not in s[1:-1]
    assert "<" not in s and "}" not in s and "기" not in s
    assert s.startswith('"Confidential\\000020\\000022x')      # a space after an escape would be swallowed


def _brand(tmp_path, **branding):
    cfg = make_cfg(tmp_path, name="ACME")
    return cfg.updated(report={"branding": branding})


def test_missing_logo_is_a_config_error_naming_the_file(tmp_path):
    root = tmp_path / "project"
    make_cfg(tmp_path, name="ACME")
    with pytest.raises(ConfigError) as info:
        config.load("acme", "2026-10", root=root, overrides=["report.branding.client_logo=params/acme-logo.png"])
    assert "report.branding.client_logo" in str(info.value) and "acme-logo.png" in str(info.value)
    with pytest.raises(ConfigError) as info:
        config.load("acme", "2026-10", root=root, overrides=["report.branding.consultancy_logo=logo.gif"])
    assert "logo.gif" in str(info.value)
    (root / "params" / "acme-logo.png").write_bytes(base64.b64decode(PNG))
    cfg = config.load("acme", "2026-10", root=root, overrides=["report.branding.client_logo=params/acme-logo.png"])
    assert cfg.logo_path("client_logo") == root / "params" / "acme-logo.png"
    assert render.logo_data_uri(cfg.logo_path("client_logo")) == f"data:image/png;base64,{PNG}"


def test_cover_states_period_comparison_data_date_and_provenance(tmp_path):
    root = tmp_path / "project"
    make_cfg(tmp_path, name="ACME")
    (root / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>', encoding="utf-8")
    cfg = config.load("acme", "2026-10", root=root, overrides=[
        "report.branding.client_logo=logo.svg", "report.branding.consultancy=Northwind <Analytics>",
        "report.branding.prepared_by=J. Park", "report.branding.confidentiality=Confidential"])
    import datetime as dt

    cover = render.cover_html(cfg, "2026-11-02 09:00", dt.date(2026, 10, 31))
    assert "October 2026 (2026-10-01 – 2026-10-31)" in cover
    assert "September 2026 (2026-09-01 – 2026-09-30)" in cover
    assert "<dd>2026-10-31</dd>" in cover and "<dd>2026-11-02 09:00</dd>" in cover
    assert "J. Park, Northwind &lt;Analytics&gt;" in cover and "Confidential" in cover
    assert 'src="data:image/svg+xml;base64,' in cover and 'alt="ACME logo"' in cover
    partial = render.cover_html(cfg, "x", dt.date(2026, 10, 20), partial=True)
    assert "2026-10-20 (a partial month)" in partial
    css = render.print_css(cfg)
    assert "@bottom-left" in css and "Confidential" in css
    assert render.print_css(make_cfg(tmp_path / "b", name="B")) == ""


def _results(cfg, *, ok=("30_purchase",)):
    names = {"90_summary": "90 · Executive summary", "00_data_quality": "00 · Data quality",
             "10_awareness": "10 · Awareness", "30_purchase": "30 · Purchase", "50_advocacy": "50 · Advocacy",
             "80_ltv": "80 · Lifetime value"}
    out = []
    for name, title in names.items():
        if name in ok:
            r = SectionResult(name, title, "ok", metrics={"x": 1})
            r.body_html = render.section_body(cfg, r, _notebook())
        else:
            r = SectionResult(name, title, "not_available", needs=["surveys"])
            r.body_html = render.section_body(cfg, r)
        out.append(r)
    return out


def test_contents_lines_for_sections_not_available_and_page_numbers(tmp_path):
    cfg = make_cfg(tmp_path, name="ACME")
    results = _results(cfg)
    body = render.combined_body(cfg, results, "2026-11-02 09:00")
    assert body.count('class="section-break" id="jk-') == 1            # one section page: Purchase
    assert "Advocacy: not available — needs the surveys table(s)" in body
    assert "90 ·" not in body and "Methods: Purchase" in body
    numbered = render.combined_body(cfg, results, "x", pages={"jk-30_purchase": 3, "jk-methods-30_purchase": 5})
    assert re.search(r'href="#jk-30_purchase"><span class="t">Purchase</span><span class="pg">3</span>', numbered)
    assert re.search(r'Methods: Purchase</span><span class="pg">5</span>', numbered)
    # report.appendix: false — the client part only
    client_only = render.combined_body(cfg.updated(report={"appendix": False}), results, "x")
    assert "MODEL-PARAMETERS" not in client_only and "Appendix" not in client_only
    parts = render.report_parts(cfg, results)
    assert [r.name for r, _, _ in parts["client"]] == ["30_purchase"]
    assert [r.name for r in parts["missing"]] == ["90_summary", "00_data_quality", "10_awareness", "50_advocacy",
                                                  "80_ltv"]


def test_section_page_keeps_the_appendix_only_when_asked(tmp_path):
    cfg = make_cfg(tmp_path, name="ACME")
    r = _results(cfg)[3]
    assert "MODEL-PARAMETERS" in render.section_page_body(cfg, r)
    assert "MODEL-PARAMETERS" not in render.section_page_body(cfg.updated(report={"appendix": False}), r)


def _pdf_pages_text(pdf: Path) -> list[str]:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    n = int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))
    return [subprocess.run(["pdftotext", "-f", str(i), "-l", str(i), str(pdf), "-"], capture_output=True,
                           text=True, check=True).stdout for i in range(1, n + 1)]


def test_pdf_of_a_client_with_one_section_has_no_empty_section_page(tmp_path):
    # Needs Debian's chromium and poppler-utils (`make sysdeps`).
    cfg = make_cfg(tmp_path, name="ACME")
    results = _results(cfg)
    out = tmp_path / "out"
    out.mkdir()
    timings = render.write_report(cfg, out, results, "2026-11-02 09:00")
    assert set(timings) == {"layout_seconds", "pdf_seconds"}   # printed twice: numbers in the contents
    pages = _pdf_pages_text(out / "report.pdf")
    # cover, contents, Purchase, the appendix (title with the methods after it)
    assert len(pages) == 4, [p[:60] for p in pages]
    for i, text in enumerate(pages[1:], start=2):
        words = re.sub(rf"\b{i}\s*/\s*{len(pages)}\b", "", text).split()
        assert len(words) > 5, (i, text)                   # no page holds only its number
    assert "Purchase" in pages[2] and "p 0.003" not in pages[2]
    contents = pages[1]
    assert re.search(r"Purchase\s*\.*\s*3\b", contents), contents      # the page Purchase starts on
    assert "Advocacy: not available" in contents and "Lifetime value: not available" in contents
    assert "MODEL-PARAMETERS" in pages[3] and "p 0.003" in pages[3]


@pytest.mark.parametrize("text, clean", [
    ("B was opened by 11.9% against 11.6% for A (+0.3 pp, p = 0.901). Next", "B was opened by 11.9% against 11.6% for A (+0.3 pp). Next"),
    ("differ by signup quarter (log-rank test, χ² = 4.3, 5 df, p = 0.505).", "differ by signup quarter (log-rank test)."),
    ("NPS rose (p < 0.001) this month", "NPS rose this month"),
    ("B가 A보다 높았습니다 (+0.3%p, p = 0.901).", "B가 A보다 높았습니다 (+0.3%p)."),
    ("see p. 3 (pp, per day)", "see p. 3 (pp, per day)"),          # nothing statistical: unchanged
])
def test_scrub_statistics_keeps_the_words(text, clean):
    assert render.scrub_statistics(text) == clean


def test_client_part_scrubs_statistics_from_sentences_only():
    body = ('<ul class="jk-narrative"><li>Orders rose (+3.0%, p = 0.010).</li></ul>'
            '<table><tr><td>p = 0.010</td></tr></table>')
    client, _ = render.split_body(body, "en")
    assert "<li>Orders rose (+3.0%).</li>" in client and "<td>p = 0.010</td>" in client


def test_definitions_say_the_client_rules_in_words(tmp_path):
    cfg = make_cfg(tmp_path, name="ACME").updated(
        definitions={"churn_inactivity_days": 60, "funnel_window": "days", "funnel_window_days": 3,
                     "ltv_horizon_months": 12, "ltv_discount_rate_monthly": 0.01, "gross_margin": 0.4},
        changes={"fdr": 0.1})
    en = render.definitions_html(cfg)
    assert "after 60 days without any activity" in en and "<code>definitions.churn_inactivity_days</code>" in en
    assert "follows each visit for 3 days" in en
    assert "next 12 months, discounted at 1% a month, at a gross margin of 40%" in en
    assert "is at most 0.1 and" in en
    ko = render.definitions_html(cfg.updated(language="ko"))
    assert "60일 동안 활동" in ko and "<h1>정의</h1>" in ko
    body = render.combined_body(cfg, _results(cfg), "x")
    assert 'href="#jk-definitions"' in body and 'id="jk-definitions"' in body
    assert "jk-definitions" not in render.combined_body(cfg.updated(report={"appendix": False}), _results(cfg), "x")


def test_status_lines_say_what_would_unlock_a_section(tmp_path):
    cfg = make_cfg(tmp_path, name="ACME")
    na = SectionResult("50_advocacy", "50 · Advocacy", "not_available", needs=["surveys", "tickets"])
    failed = SectionResult("70_prediction", "70 · Prediction", "failed", error="x")
    assert render.status_line(cfg, na) == "Advocacy: not available — needs the surveys, support tickets table(s)"
    assert render.status_line(cfg, na, with_title=False) == "not available — needs the surveys, support tickets table(s)"
    assert render.status_line(cfg, failed) == "Prediction: could not be produced in this run"
    ko = cfg.updated(language="ko")
    assert render.status_line(ko, na) == "Advocacy: 제공되지 않음 — 설문, 상담 티켓 테이블이 있으면 볼 수 있습니다"
    index = render.index_body(cfg, [na], has_pdf=False)
    assert '<span class="why">not available — needs the surveys, support tickets table(s)</span>' in index


def _png(width: int, height: int) -> str:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), (40, 90, 160)).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def test_the_layout_scripts_blank_each_chart_at_its_size_and_bring_it_back(tmp_path):
    # Needs Debian's chromium (`make sysdeps`).
    from journeykit.run import chromium

    png = _png(640, 360)
    doc = tmp_path / "charts.html"
    doc.write_text('<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:;">'
                   f'<img id="c" src="data:image/png;base64,{png}"><img id="j" src="data:image/gif;base64,'
                   'R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==">'
                   '<ol class="toc"><li><a href="#jk-a"><span class="t">A</span><span class="pg"></span></a></li>'
                   '<li><a href="#jk-b"><span class="t">B</span><span class="pg"></span></a></li></ol>',
                   encoding="utf-8")
    size = "[...document.images].map(i => [i.src.slice(0, 22), i.width, i.height])"
    blank, restore = render.LAYOUT_SCRIPTS
    with chromium.Browser(render.find_chromium(), timeout=60) as b:
        b.open(doc)
        before = b.evaluate(size)
        assert b.evaluate(blank) == 1                               # the PNG only; the GIF is not a chart
        during = b.evaluate(size)
        assert during[0] == ["data:image/svg+xml;bas", 640, 360] and during[1] == before[1]
        assert b.evaluate(restore) == 1 and b.evaluate(size) == before
        # the contents' numbers, as combined_body(pages=...) writes them; a part without a page stays empty
        assert b.evaluate(render.numbering_script({"jk-a": 3})) == 2
        assert b.evaluate("[...document.querySelectorAll('.pg')].map(e => e.textContent)") == ["3", ""]
        b.pdf(tmp_path / "charts.pdf")
    assert (tmp_path / "charts.pdf").read_bytes()[:5] == b"%PDF-"
    assert not list(tmp_path.glob(".*.part"))


def test_a_browser_that_cannot_answer_says_so_and_leaves_nothing_running(tmp_path):
    from journeykit.run import chromium

    doc = tmp_path / "a.html"
    doc.write_text("<p>a</p>", encoding="utf-8")
    with chromium.Browser(render.find_chromium(), timeout=60) as b:
        b.open(doc)
        with pytest.raises(JourneykitError, match=r"could not run a script: .*nope"):
            b.evaluate("(() => { throw new Error('nope') })()")
    assert not chromium.RUNNING
    with chromium.Browser(render.find_chromium(), timeout=60) as b:
        proc = b.proc
        chromium.stop_all()                                   # a stopped run kills it: the print fails
        with pytest.raises(JourneykitError, match="Chromium stopped"):
            b.open(doc)
    assert proc.poll() is not None and not chromium.RUNNING
    # a browser that is not Chromium at all: no answer, then the error names what it was doing
    fake = tmp_path / "fake-chromium"
    fake.write_text("#!/bin/sh\nsleep 30\n")
    fake.chmod(0o755)
    with chromium.Browser(str(fake), timeout=1) as b:
        with pytest.raises(JourneykitError, match=r"did not answer within 1 s \(opening a.html\)"):
            b.open(doc)


def _tall_charts_results(cfg):
    """Three sections whose tall charts decide where the next one starts."""
    out = []
    for name, title, height in (("10_awareness", "10 · Awareness", 900), ("30_purchase", "30 · Purchase", 1500),
                                ("50_advocacy", "50 · Advocacy", 700)):
        nb = new_notebook(cells=[
            new_markdown_cell(f"# {title}", metadata={"tags": ["lang-en"]}),
            *[new_code_cell("chart()", outputs=[new_output("display_data", data={
                "image/png": _png(800, height), "text/plain": f"Chart {i}"})]) for i in range(3)]])
        r = SectionResult(name, title, "ok", metrics={"x": 1})
        r.body_html = render.section_body(cfg, r, nb)
        out.append(r)
    return out


def _contents_numbers(out: Path) -> list[int]:
    """The page numbers of the contents' client part, in order (pdftotext
    puts the titles first, then the numbers, one a line)."""
    contents = _pdf_pages_text(out / "report.pdf")[1].split("Appendix")[0]
    return [int(n) for n in re.findall(r"^(\d+)$", contents, re.MULTILINE)]


def test_contents_numbers_come_from_the_layout_print_and_match_the_report(tmp_path):
    # Needs Debian's chromium and poppler-utils (`make sysdeps`).
    cfg = make_cfg(tmp_path, name="ACME")
    out = tmp_path / "out"
    out.mkdir()
    timings = render.write_report(cfg, out, _tall_charts_results(cfg), "2026-11-02 09:00")
    assert set(timings) == {"layout_seconds", "pdf_seconds"}   # the blank charts gave the report's pages
    pages = render.part_pages(out / "report.pdf", ["jk-10_awareness", "jk-30_purchase", "jk-50_advocacy"])
    assert pages["jk-30_purchase"] - pages["jk-10_awareness"] >= 2      # the charts span pages
    assert _contents_numbers(out) == [pages[k] for k in ("jk-10_awareness", "jk-30_purchase", "jk-50_advocacy")]
    assert not list(out.glob(".*.html"))                              # no print's source left behind


def test_a_part_the_charts_moved_is_numbered_as_printed(tmp_path, monkeypatch):
    # Needs Debian's chromium and poppler-utils (`make sysdeps`).
    cfg = make_cfg(tmp_path, name="ACME")
    out = tmp_path / "out"
    out.mkdir()
    # a layout print without its charts at all: every part starts earlier than in the report
    monkeypatch.setattr(render, "LAYOUT_SCRIPTS", (
        "(() => { const s = document.createElement('style'); s.id = 'gone'; s.textContent = 'img { display: none }';"
        " document.head.append(s); return 1; })()",
        "(() => { document.getElementById('gone').remove(); return 1; })()"))
    timings = render.write_report(cfg, out, _tall_charts_results(cfg), "2026-11-02 09:00")
    assert set(timings) == {"layout_seconds", "pdf_seconds", "reprint_seconds"}
    pages = render.part_pages(out / "report.pdf", ["jk-10_awareness", "jk-30_purchase", "jk-50_advocacy"])
    assert _contents_numbers(out) == [pages[k] for k in ("jk-10_awareness", "jk-30_purchase", "jk-50_advocacy")]


def test_a_browser_that_cannot_start_is_an_error_with_the_fix(tmp_path, monkeypatch):
    from journeykit.run import chromium

    monkeypatch.setenv("PATH", str(tmp_path))          # no bash to start it with
    with pytest.raises(JourneykitError, match="could not start Chromium") as e:
        chromium.Browser("/usr/bin/chromium")
    assert "report.pdf: false" in e.value.fix and not chromium.RUNNING


def test_a_print_cut_short_leaves_no_half_file(tmp_path, monkeypatch):
    from journeykit.run import chromium

    doc = tmp_path / "a.html"
    doc.write_text("<p>a</p>", encoding="utf-8")
    with chromium.Browser(render.find_chromium(), timeout=60) as b:
        b.open(doc)
        real = b.send

        def cut(method, params=None, **kw):
            if method == "IO.read":
                chromium.stop_all()          # Chromium dies while the PDF streams
            return real(method, params, **kw)

        monkeypatch.setattr(b, "send", cut)
        with pytest.raises(JourneykitError, match="Chromium stopped"):
            b.pdf(tmp_path / "a.pdf")
    assert list(tmp_path.iterdir()) == [doc]
