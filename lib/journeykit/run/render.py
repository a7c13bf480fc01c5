"""Rendering: executed notebooks → client-facing HTML, index and PDF.

Client-facing HTML hides all code, prompts, stderr and error output, keeps
only the markdown cells of the client's language (cells tagged
``lang-en`` / ``lang-ko``), and embeds figures, so each page is one
self-contained file. Pages forbid scripts by Content-Security-Policy and
escape every client-supplied string. The PDF is printed from one combined
HTML document by Debian's headless Chromium (see DESIGN.md, "Known
pitfalls", for why not LaTeX or WeasyPrint).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
import shutil
import subprocess
import tempfile
import uuid
from importlib import resources
from pathlib import Path
from urllib.parse import quote

import jinja2
import nbformat
from markupsafe import Markup
from nbconvert import HTMLExporter
from nbconvert.preprocessors import Preprocessor, TagRemovePreprocessor

from journeykit.core import i18n
from journeykit.core.config import RunConfig
from journeykit.core.errors import JourneykitError
from journeykit.core.periods import Period
from journeykit.report.results import SectionResult
from journeykit.sections import registry

_PERIOD = re.compile(r"^\d{4}-\d{2}$")

_TEMPLATES = resources.files("journeykit") / "templates"


class _ClientOutputs(Preprocessor):
    """Drop what a client must never see: stderr, errors, raw tracebacks."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code":
            cell.outputs = [
                o for o in cell.get("outputs", [])
                if not (o.get("output_type") == "error"
                        or (o.get("output_type") == "stream" and o.get("name") == "stderr"))
            ]
        return cell, resources


def _exporter(language: str) -> HTMLExporter:
    other = [f"lang-{lang}" for lang in i18n.LANGUAGES if lang != language]
    exporter = HTMLExporter(template_name="basic")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.anchor_link_text = ""
    exporter.register_preprocessor(
        TagRemovePreprocessor(remove_cell_tags={"remove_cell", "parameters", "injected-parameters", *other},
                              remove_all_outputs_tags={"remove_output"}),
        enabled=True,
    )
    exporter.register_preprocessor(_ClientOutputs(), enabled=True)
    return exporter


def notebook_title(nb, language: str, fallback: str) -> str:
    """The first H1 of the notebook's markdown in ``language``."""
    other = {f"lang-{lang}" for lang in i18n.LANGUAGES if lang != language}
    for cell in nb.cells:
        if cell.cell_type != "markdown" or other & set(cell.get("metadata", {}).get("tags", [])):
            continue
        m = re.search(r"^#\s+(.+)$", cell.source, re.MULTILINE)
        if m:
            return m.group(1).strip()
    return fallback


def notebook_body(nb, language: str) -> str:
    """Client-facing HTML fragment of an executed notebook (no code)."""
    body, _ = _exporter(language).from_notebook_node(nb)
    # The basic template wraps everything in Jupyter's classes; the CSS of
    # the page styles it. Remove the MathJax/require scripts it may add.
    body = re.sub(r"<script\b[^>]*>.*?</script>", "", body, flags=re.DOTALL | re.IGNORECASE)
    return body


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FunctionLoader(lambda name: (_TEMPLATES / name).read_text(encoding="utf-8")),
        autoescape=True,
    )


def page(cfg: RunConfig, title: str, body: str, *, index_href: str | None = "index.html",
         generated_at: str | None = None) -> str:
    """A complete client-facing HTML page around ``body`` (trusted HTML)."""
    lang = cfg.language
    return _env().get_template("page.html.j2").render(
        lang=lang, title=title, client_name=cfg.name, css=Markup((_TEMPLATES / "style.css").read_text()),
        period_label=cfg.period.label(lang),
        comparison_label=i18n.t("comparison", lang, prev=cfg.comparison.label(lang)),
        index_href=index_href, back_label=i18n.t("back_to_index", lang),
        body=Markup(body),
        footer=i18n.t("generated", lang, when=generated_at or dt.datetime.now().strftime("%Y-%m-%d %H:%M")),
    )


def status_body(cfg: RunConfig, result: SectionResult) -> str:
    """The page body for a section that is not available or failed."""
    lang = cfg.language
    esc = html.escape
    if result.status == "not_available":
        names = registry.needs_text(result.needs, lang) or "?"
        text = i18n.t("not_available_body", lang, tables=names, client=cfg.name)
        return (f"<h1>{esc(result.title)}</h1><h2>{esc(i18n.t('not_available_title', lang))}</h2>"
                f'<p class="jk-note jk-warn">{esc(text)}</p>')
    text = i18n.t("failed_body", lang, error=result.error or "?")
    return (f"<h1>{esc(result.title)}</h1><h2>{esc(i18n.t('failed_title', lang))}</h2>"
            f'<p class="jk-note jk-bad">{esc(text)}</p>')


def section_body(cfg: RunConfig, result: SectionResult, nb=None) -> str:
    """Body HTML for a section page, whatever its status."""
    if result.status == "ok" and nb is not None:
        return notebook_body(nb, cfg.language)
    return status_body(cfg, result)


def _headline_cards(cfg: RunConfig, results: list[SectionResult]) -> str:
    """A few headline figures from the sections' metrics."""
    from journeykit.report import fmt_int

    cards = []
    dq = next((r for r in results if r.name.startswith("00_") and r.metrics), None)
    if dq:
        m = dq.metrics
        lang = cfg.language
        scope = m.get("rows_in_scope", {})
        labels = {"en": ("Tables loaded", "Orders to date", "Events to date", "Customers"),
                  "ko": ("적재된 테이블", "누적 주문", "누적 이벤트", "고객 수")}[lang]
        cards.append((labels[0], fmt_int(m.get("tables_loaded"))))
        for key, label in (("orders", labels[1]), ("events", labels[2]), ("customers", labels[3])):
            if key in scope:
                cards.append((label, fmt_int(scope[key])))
    if not cards:
        return ""
    items = "".join(f'<div class="card"><div class="label">{html.escape(lbl)}</div>'
                    f'<div class="value">{html.escape(val)}</div></div>' for lbl, val in cards)
    return f'<h2>{html.escape(i18n.t("key_figures", cfg.language))}</h2><div class="cards">{items}</div>'


def reading_order(results: list[SectionResult]) -> list[SectionResult]:
    """Sections as a reader meets them: the executive summary (``*_summary``,
    run last because it reads the others) first, then the rest in run order."""
    return sorted(results, key=lambda r: not r.name.endswith("_summary"))


def index_body(cfg: RunConfig, results: list[SectionResult], *, has_pdf: bool) -> str:
    """Body of index.html: headline figures and a link to every section."""
    lang = cfg.language
    esc = html.escape
    items = []
    for r in reading_order(results):
        items.append(
            f'<li><a href="{esc(r.href)}">{esc(r.title)}</a>'
            f'<span class="badge {esc(r.status)}">{esc(i18n.t("status_" + r.status, lang))}</span></li>')
    pdf = (f'<p><a href="report.pdf">{esc(i18n.t("download_pdf", lang))}</a></p>' if has_pdf else "")
    return (f"<h1>{esc(i18n.t('report_title', lang))}</h1>"
            f"<blockquote><p>{esc(cfg.name)} · {esc(cfg.period.label(lang))} · "
            f"{esc(i18n.t('comparison', lang, prev=cfg.comparison.label(lang)))}</p></blockquote>"
            f"{_headline_cards(cfg, results)}"
            f"<h2>{esc(i18n.t('sections', lang))}</h2><ul class=\"sections\">{''.join(items)}</ul>{pdf}"
            f'<p class="no-print"><a href="notebooks/">{esc(i18n.t("analyst_notebooks", lang))}</a></p>')


def combined_body(cfg: RunConfig, results: list[SectionResult], generated_at: str,
                  data_through: dt.date | None = None, partial: bool = False) -> str:
    """Cover, contents and every section, one page break apart (for the PDF)."""
    lang = cfg.language
    esc = html.escape
    results = reading_order(results)
    toc = "".join(f"<li>{esc(r.title)}</li>" for r in results)
    through = ""
    if data_through is not None:
        through = f"<p>{esc(i18n.t('data_through_partial' if partial else 'data_through', lang, date=str(data_through)))}</p>"
    parts = [
        f'<section class="cover"><div class="kicker">{esc(i18n.t("report_title", lang))}</div>'
        f"<h1>{esc(cfg.name)}</h1><div class=\"sub\">{esc(cfg.period.label(lang))} · "
        f"{esc(i18n.t('comparison', lang, prev=cfg.comparison.label(lang)))}</div>"
        f"{through}<p>{esc(i18n.t('generated', lang, when=generated_at))}</p></section>",
        f'<section class="section-break"><h1>{esc(i18n.t("contents", lang))}</h1><ol class="toc">{toc}</ol></section>',
    ]
    for r in results:
        parts.append(f'<section class="section-break">{r.body_html}</section>')
    return "\n".join(parts)


def find_chromium() -> str:
    """Path of a Chromium to print PDFs with (``$JOURNEYKIT_CHROMIUM`` first)."""
    for cand in (os.environ.get("JOURNEYKIT_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if cand and (path := shutil.which(cand)):
            return path
    raise JourneykitError(
        "no Chromium found to print report.pdf",
        fix="run `make sysdeps` (installs Debian's chromium and fonts-noto-cjk), or set report.pdf: false",
    )


def print_pdf(html_path: Path, pdf_path: Path, timeout: float = 180) -> None:
    """Print an HTML file to PDF with headless Chromium (offline, no downloads).

    Chromium and its helper processes run in a session of their own: a
    Ctrl-C at the terminal reaches the run only, which then kills them all
    (as it does after ``timeout`` seconds)."""
    import signal

    chromium = find_chromium()
    with tempfile.TemporaryDirectory(prefix="jk-chromium-") as profile:
        cmd = [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-extensions", "--hide-scrollbars", f"--user-data-dir={profile}",
            "--no-pdf-header-footer", f"--print-to-pdf={pdf_path}", html_path.resolve().as_uri(),
        ]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        try:
            _, stderr = proc.communicate(timeout=timeout)
        except BaseException as e:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            proc.wait()
            if isinstance(e, subprocess.TimeoutExpired):
                raise JourneykitError(f"Chromium did not print {html_path.name} within {timeout:.0f} s",
                                      fix="check that `chromium --headless` runs on this machine, "
                                          "or set report.pdf: false") from None
            raise
    if proc.returncode != 0 or not pdf_path.exists() or pdf_path.stat().st_size == 0:
        tail = (stderr or "").strip().splitlines()[-3:]
        raise JourneykitError(f"Chromium could not print {html_path.name}: {' | '.join(tail) or 'no output'}",
                              fix="check that `chromium --headless` runs on this machine")


def write_report(cfg: RunConfig, out: Path, results: list[SectionResult], generated_at: str,
                 data_through: dt.date | None = None, partial: bool = False) -> None:
    """Write every section page, index.html and report.pdf into ``out``;
    the cover says how far the data goes (``data_through``) and whether the
    period is only partly covered."""
    for r in results:
        (out / r.href).write_text(page(cfg, r.title, r.body_html, generated_at=generated_at), encoding="utf-8")
    has_pdf = cfg.report.pdf
    (out / "index.html").write_text(
        page(cfg, i18n.t("report_title", cfg.language), index_body(cfg, results, has_pdf=has_pdf),
             index_href=None, generated_at=generated_at), encoding="utf-8")
    if has_pdf:
        combined = out / ".combined.html"
        combined.write_text(page(cfg, i18n.t("report_title", cfg.language),
                                 combined_body(cfg, results, generated_at, data_through, partial), index_href=None,
                                 generated_at=generated_at), encoding="utf-8")
        try:
            print_pdf(combined, out / "report.pdf")
        finally:
            combined.unlink(missing_ok=True)


def published_reports(reports_dir: Path) -> list[dict]:
    """Every published report under ``reports/<client>/<period>/``, newest
    period first per client: client, client_name, language, period,
    generated_at and the count of sections per status. Failed runs kept in
    ``_failed/`` and staging folders are not listed."""
    found = []
    for path in sorted(reports_dir.glob("*/*/metrics.json")):
        client_dir, period_dir = path.parent.parent.name, path.parent.name
        if client_dir.startswith((".", "_")) or period_dir.startswith((".", "_")):
            continue
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        statuses = [s.get("status") for s in doc.get("sections", {}).values()]
        found.append({"client": client_dir, "client_name": doc.get("client_name") or client_dir,
                      "language": doc.get("language", "en"), "period": period_dir,
                      "generated_at": str(doc.get("generated_at", ""))[:16].replace("T", " "),
                      **{st: statuses.count(st) for st in ("ok", "not_available", "failed")}})
    found.sort(key=lambda r: (r["client_name"].lower(), r["client"], [-ord(c) for c in r["period"]]))
    return found


_HISTORY_TEXT = {
    "title": {"en": "Reports", "ko": "리포트"},
    "lead": {"en": "Every client and period rendered here, newest first.",
             "ko": "이곳에서 생성된 모든 고객사와 기간의 리포트입니다(최신순)."},
    "col_client": {"en": "Client", "ko": "고객사"},
    "col_period": {"en": "Period", "ko": "기간"},
    "col_sections": {"en": "Sections", "ko": "섹션"},
    "col_generated": {"en": "Generated", "ko": "생성 시각"},
    "none": {"en": "No report has been rendered yet.", "ko": "아직 생성된 리포트가 없습니다."},
}


def reports_index_html(reports: list[dict], language: str = "en") -> str:
    """The top-level ``reports/index.html``: a table of every published
    report with links; client names are escaped."""
    esc = html.escape
    t = {k: v[language] for k, v in _HISTORY_TEXT.items()}
    rows = []
    for r in reports:
        period = Period.parse(r["period"]).label(r["language"]) if _PERIOD.match(r["period"]) else r["period"]
        badges = "".join(f'<span class="badge {st}">{esc(i18n.t("status_" + st, r["language"]))} {r[st]}</span> '
                         for st in ("ok", "not_available", "failed") if r[st])
        href = f'{quote(r["client"])}/{quote(r["period"])}/index.html'
        rows.append(f'<tr><td class="txt">{esc(r["client_name"])}</td>'
                    f'<td class="txt"><a href="{esc(href)}">{esc(period)}</a></td>'
                    f'<td class="txt">{badges}</td><td class="date">{esc(r["generated_at"])}</td></tr>')
    table = (f'<table class="jk-table"><thead><tr><th>{esc(t["col_client"])}</th><th>{esc(t["col_period"])}</th>'
             f'<th>{esc(t["col_sections"])}</th><th>{esc(t["col_generated"])}</th></tr></thead>'
             f'<tbody>{"".join(rows)}</tbody></table>') if rows else f'<p class="jk-note">{esc(t["none"])}</p>'
    css = Markup((_TEMPLATES / "style.css").read_text())
    return (f'<!DOCTYPE html><html lang="{language}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            """<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline';">"""
            f'<title>{esc(t["title"])}</title><style>{css}</style></head><body>'
            f'<main><h1>{esc(t["title"])}</h1><p>{esc(t["lead"])}</p>{table}</main></body></html>')


def write_reports_index(reports_dir: Path) -> Path:
    """(Re)write ``reports/index.html`` from the published reports; Korean
    when every listed client reports in Korean, else English."""
    reports = published_reports(reports_dir)
    language = "ko" if reports and all(r["language"] == "ko" for r in reports) else "en"
    path = reports_dir / "index.html"
    tmp = path.with_name(f".index-{uuid.uuid4().hex[:6]}.html")
    tmp.write_text(reports_index_html(reports, language), encoding="utf-8")
    tmp.replace(path)
    return path


def read_notebook(path: Path):
    return nbformat.read(path, as_version=4)
