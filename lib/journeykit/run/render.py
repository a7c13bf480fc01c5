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

import base64
import datetime as dt
import html
import json
import os
import re
import shutil
from importlib import resources
from pathlib import Path

import jinja2
from bs4 import BeautifulSoup
import nbformat
from markupsafe import Markup
from nbconvert import HTMLExporter
from nbconvert.preprocessors import Preprocessor, TagRemovePreprocessor

from journeykit.core import i18n
from journeykit.core.config import RunConfig
from journeykit.core.errors import JourneykitError
from journeykit.report import alt
from journeykit.report.blocks import METHOD_CLASS, SIG_CLASS, STAT_CLASS
from journeykit.report.results import SectionResult
from journeykit.run import chromium
from journeykit.sections import registry

_PERIOD = re.compile(r"^\d{4}-\d{2}$")

_TEMPLATES = resources.files("journeykit") / "templates"


class _ClientOutputs(Preprocessor):
    """Drop what a client must never see: stderr, errors, raw tracebacks;
    note each remaining image output's description (its figure's plain
    text, :mod:`journeykit.report.alt`) in ``resources["jk_alts"]``, in
    document order."""

    def preprocess(self, nb, resources):
        resources["jk_alts"] = []
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code":
            cell.outputs = [
                o for o in cell.get("outputs", [])
                if not (o.get("output_type") == "error"
                        or (o.get("output_type") == "stream" and o.get("name") == "stderr"))
            ]
            for o in cell.outputs:
                data = o.get("data") or {}
                if ("image/png" in data or "image/jpeg" in data) and not (
                        "text/html" in data or "image/svg+xml" in data):
                    plain = data.get("text/plain") or ""
                    plain = "".join(plain) if isinstance(plain, list) else plain
                    resources["jk_alts"].append(plain[len(alt.PREFIX):].strip()
                                                if plain.startswith(alt.PREFIX) else None)
        return cell, resources


class _OnlyTagged(Preprocessor):
    """Keep only the cells tagged ``tag`` (the method part of a section)."""

    def __init__(self, tag: str, **kw):
        super().__init__(**kw)
        self.tag = tag

    def preprocess(self, nb, resources):
        nb.cells = [c for c in nb.cells if self.tag in c.get("metadata", {}).get("tags", [])]
        return nb, resources


METHOD_TAG = "method"
"""The cell tag of a section's method blocks (model parameters and
validation, test details, definitions): the deliverable moves them to its
appendix; the executed notebook keeps them where they are."""

METHODS_MARK = "<!--jk-methods-->"
"""Separates a section body's client part from its method part."""

NO_ALT = "No description has been provided for this image"
"""The alt text nbconvert gives an image it knows nothing about."""


def _exporter(language: str, part: str = "all") -> HTMLExporter:
    other = [f"lang-{lang}" for lang in i18n.LANGUAGES if lang != language]
    exporter = HTMLExporter(template_name="basic")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.anchor_link_text = ""
    if part == "method":
        exporter.register_preprocessor(_OnlyTagged(METHOD_TAG), enabled=True)
    remove = {"remove_cell", "parameters", "injected-parameters", *other}
    if part == "client":
        remove.add(METHOD_TAG)
    exporter.register_preprocessor(
        TagRemovePreprocessor(remove_cell_tags=remove, remove_all_outputs_tags={"remove_output"}),
        enabled=True,
    )
    exporter.register_preprocessor(_ClientOutputs(), enabled=True)
    return exporter


def display_title(title: str) -> str:
    """A section title as a client reads it: without the notebook's number
    (``90 · Executive summary`` → ``Executive summary``)."""
    return re.sub(r"^\s*\d+\s*·\s*", "", title).strip() or title


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


def _soup(fragment: str) -> BeautifulSoup:
    return BeautifulSoup(fragment, "html.parser")


def set_alt_texts(fragment: str, descriptions: list[str | None], language: str) -> str:
    """``fragment`` with an alt text on every ``<img>``: the image outputs'
    figure descriptions (``descriptions``, one per image in document
    order, ``None`` when unknown) as ``Chart: title (x: …, y: …)``; an image
    without one is described by the heading above it (``Chart: <heading>``),
    or as a chart alone. An alt text already set (other than nbconvert's
    placeholder) is kept."""
    soup = _soup(fragment)
    imgs = soup.find_all("img")
    if len(descriptions) != len(imgs):
        descriptions = [None] * len(imgs)
    for img, desc in zip(imgs, descriptions):
        current = (img.get("alt") or "").strip()
        if current and current != NO_ALT:
            continue
        if desc:
            img["alt"] = i18n.t("chart_alt", language, what=desc)
            continue
        heading = img.find_previous(["h1", "h2", "h3"])
        words = heading.get_text(" ", strip=True) if heading is not None else ""
        img["alt"] = i18n.t("chart_alt", language, what=words) if words else i18n.t("chart_alt_plain", language)
    return str(soup)


def notebook_body(nb, language: str, part: str = "all") -> str:
    """Client-facing HTML fragment of an executed notebook (no code), every
    image with an alt text (:func:`set_alt_texts`). ``part``: ``all``
    cells, the ``client`` part (without cells tagged :data:`METHOD_TAG`) or
    the ``method`` part (only those)."""
    body, resources = _exporter(language, part).from_notebook_node(nb)
    # The basic template wraps everything in Jupyter's classes; the CSS of
    # the page styles it. Remove the MathJax/require scripts it may add.
    body = re.sub(r"<script\b[^>]*>.*?</script>", "", body, flags=re.DOTALL | re.IGNORECASE)
    return set_alt_texts(body, resources.get("jk_alts") or [], language)


def has_method_cells(nb) -> bool:
    """Whether any cell of ``nb`` is tagged :data:`METHOD_TAG`."""
    return any(METHOD_TAG in c.get("metadata", {}).get("tags", []) for c in nb.cells)


i18n.register({
    "col_verdict": {"en": "Verdict", "ko": "판정"},
    "appendix": {"en": "Appendix", "ko": "부록"},
    "appendix_lead": {
        "en": "For analysts: how the data was checked, how each change was tested (p and q values), "
              "how the models were fitted and validated, and the definitions behind the numbers.",
        "ko": "분석 담당자를 위한 부록입니다: 데이터 점검 결과, 각 변화의 검정(p값과 q값), "
              "모델 적합과 검증, 수치의 정의를 담았습니다."},
    "appendix_methods_of": {"en": "Methods: {section}", "ko": "방법: {section}"},
    "appendix_tests": {"en": "Tests behind the key figures", "ko": "주요 지표의 검정"},
    "why_not_available": {"en": "not available — needs the {tables} table(s)",
                          "ko": "제공되지 않음 — {tables} 테이블이 있으면 볼 수 있습니다"},
    "why_failed": {"en": "could not be produced in this run", "ko": "이번 실행에서 생성하지 못함"},
    "status_line": {"en": "{section}: {why}", "ko": "{section}: {why}"},
    "cover_period": {"en": "Period", "ko": "기간"},
    "cover_comparison": {"en": "Compared with", "ko": "비교 기간"},
    "cover_data_last": {"en": "Data through", "ko": "데이터 기준일"},
    "cover_partial": {"en": "{date} (a partial month)", "ko": "{date} (일부 기간만 포함)"},
    "cover_generated": {"en": "Generated", "ko": "생성일"},
    "cover_prepared_by": {"en": "Prepared by", "ko": "작성"},
    "logo_alt": {"en": "{name} logo", "ko": "{name} 로고"},
    "chart_alt": {"en": "Chart: {what}", "ko": "차트: {what}"},
    "chart_alt_plain": {"en": "Chart", "ko": "차트"},
    "page_short": {"en": "p.", "ko": "쪽"},
})


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FunctionLoader(lambda name: (_TEMPLATES / name).read_text(encoding="utf-8")),
        autoescape=True,
    )


def logo_data_uri(path: Path) -> str:
    """A logo file (PNG, JPEG or SVG) as a ``data:`` URI: pages allow no
    other image source (Content-Security-Policy)."""
    import base64

    from journeykit.core.config import BrandingConfig

    mime = BrandingConfig.LOGO_SUFFIXES.get(path.suffix.lower())
    if mime is None:
        raise JourneykitError(f"logo {path} is not a PNG, JPEG or SVG file")
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def css_string(text: str) -> str:
    """``text`` as a CSS string literal that no character of it can end
    (every character but ASCII letters and digits hex-escaped, spaces too:
    CSS swallows one space after an escape), for the PDF's page margins."""
    out = []
    for ch in text:
        out.append(ch if ch.isalnum() and ord(ch) < 128 else f"\\{ord(ch):06x}")
    return '"' + "".join(out) + '"'


def _branding(cfg: RunConfig) -> dict:
    b = cfg.report.branding
    logos = {}
    for key in ("client_logo", "consultancy_logo"):
        path = cfg.logo_path(key)
        logos[key] = logo_data_uri(path) if path is not None and path.is_file() else None
    return {"client_logo": logos["client_logo"], "consultancy_logo": logos["consultancy_logo"],
            "consultancy": b.consultancy, "prepared_by": b.prepared_by, "confidentiality": b.confidentiality}


def page(cfg: RunConfig, title: str, body: str, *, index_href: str | None = "index.html",
         generated_at: str | None = None, print_css: str = "") -> str:
    """A complete client-facing HTML page around ``body`` (trusted HTML),
    with the client's logo in the header and the confidentiality line and
    consultancy in the footer when the client file sets them."""
    lang = cfg.language
    brand = _branding(cfg)
    return _env().get_template("page.html.j2").render(
        lang=lang, title=display_title(title), client_name=cfg.name,
        css=Markup((_TEMPLATES / "style.css").read_text() + print_css),
        period_label=cfg.period.label(lang),
        comparison_label=i18n.t("comparison", lang, prev=cfg.comparison.label(lang)),
        index_href=index_href, back_label=i18n.t("back_to_index", lang),
        body=Markup(body), client_logo=brand["client_logo"],
        logo_alt=i18n.t("logo_alt", lang, name=cfg.name),
        consultancy=brand["consultancy"], confidentiality=brand["confidentiality"],
        footer=i18n.t("generated", lang, when=generated_at or dt.datetime.now().strftime("%Y-%m-%d %H:%M")),
    )


def status_line(cfg: RunConfig, result: SectionResult, with_title: bool = True) -> str:
    """One line saying why a section has no pages: the data that would
    unlock a section not available, or that it failed; after the section's
    title unless ``with_title`` is false."""
    lang = cfg.language
    if result.status == "not_available":
        why = i18n.t("why_not_available", lang, tables=registry.needs_text(result.needs, lang) or "?")
    else:
        why = i18n.t("why_failed", lang)
    return i18n.t("status_line", lang, section=display_title(result.title), why=why) if with_title else why


def status_body(cfg: RunConfig, result: SectionResult) -> str:
    """The page body for a section that is not available or failed."""
    lang = cfg.language
    esc = html.escape
    title = display_title(result.title)
    if result.status == "not_available":
        names = registry.needs_text(result.needs, lang) or "?"
        text = i18n.t("not_available_body", lang, tables=names, client=cfg.name)
        return (f"<h1>{esc(title)}</h1><h2>{esc(i18n.t('not_available_title', lang))}</h2>"
                f'<p class="jk-note jk-warn">{esc(text)}</p>')
    text = i18n.t("failed_body", lang, error=result.error or "?")
    return (f"<h1>{esc(title)}</h1><h2>{esc(i18n.t('failed_title', lang))}</h2>"
            f'<p class="jk-note jk-bad">{esc(text)}</p>')


def section_body(cfg: RunConfig, result: SectionResult, nb=None) -> str:
    """Body HTML for a section, whatever its status: for an executed
    notebook its client part, then (after :data:`METHODS_MARK`) the cells
    tagged :data:`METHOD_TAG`; :func:`split_body` separates them again."""
    if result.status == "ok" and nb is not None:
        client = notebook_body(nb, cfg.language, "client")
        if has_method_cells(nb):
            return client + METHODS_MARK + notebook_body(nb, cfg.language, "method")
        return client
    return status_body(cfg, result)


def _first_text(tag):
    from bs4 import NavigableString

    for child in tag.descendants:
        if isinstance(child, NavigableString) and child.strip():
            return child
    return None


def tidy_headings(soup) -> None:
    """Section headings as a client reads them: no notebook number on the
    H1 (``80 · Lifetime value`` → ``Lifetime value``) and the numbered H2s
    (``2. Funnel``) numbered again 1, 2, 3 … in the order they remain."""
    for h1 in soup.find_all("h1"):
        s = _first_text(h1)
        if s is not None:
            s.replace_with(re.sub(r"^\s*\d+\s*·\s*", "", str(s)))
    n = 0
    for h2 in soup.find_all("h2"):
        s = _first_text(h2)
        if s is not None and re.match(r"^\s*\d+\.\s+", str(s)):
            n += 1
            s.replace_with(re.sub(r"^\s*\d+\.\s+", f"{n}. ", str(s)))


def keep_together(soup) -> None:
    """Wrap each markdown cell with the chart (or short table) that follows
    it in ``div.jk-keep``, which print keeps on one page: a heading never
    ends a page while its chart starts the next."""
    cells = [c for c in soup.find_all("div", recursive=False) if "cell" in (c.get("class") or [])]
    i = 0
    while i < len(cells):
        cell = cells[i]
        if "text_cell" not in cell.get("class", []):
            i += 1
            continue
        j = i + 1
        while j < len(cells) and "code_cell" in cells[j].get("class", []) and not cells[j].get_text(strip=True) \
                and cells[j].find(["img", "table", "svg"]) is None:
            j += 1  # cells without output
        if j < len(cells) and "code_cell" in cells[j].get("class", []):
            target = cells[j]
            rows = len(target.find_all("tr"))
            if target.find("img") is not None or (target.find("table") is not None and rows <= 12):
                wrap = soup.new_tag("div", attrs={"class": "jk-keep"})
                cell.insert_before(wrap)
                for c in cells[i:j + 1]:
                    wrap.append(c.extract())
                i = j + 1
                continue
        i += 1


_P_VALUE = r"[pq]\s*(?:=|<|>|≤)\s*[0-9][0-9.eE−-]*"
_STAT_PATTERNS = (
    re.compile(r"\s*\(\s*" + _P_VALUE + r"(?:\s*,\s*" + _P_VALUE + r")*\s*\)"),     # " (p = 0.003)"
    re.compile(r"\s*[,;]\s*χ²\s*=\s*[0-9.]+(?:\s*,\s*\d+\s*df)?(?=\s*[,;)])"),      # ", χ² = 4.3, 5 df"
    re.compile(r"\s*[,;]\s*" + _P_VALUE + r"(?=\s*[);,])"),                            # ", p = 0.901)"
)


def scrub_statistics(text: str) -> str:
    """A generated sentence without its test statistics: ``(p = 0.003)``
    and ``, p < 0.001`` / ``, χ² = 4.3, 5 df`` inside parentheses are
    dropped, the words around them kept (``(+0.3 pp, p = 0.901)`` →
    ``(+0.3 pp)``)."""
    for pattern in _STAT_PATTERNS:
        text = pattern.sub("", text)
    return text


def split_body(body_html: str, language: str) -> tuple[str, str]:
    """A section body as its two audiences read it: ``(client, appendix)``.

    The client part keeps verdict words and arrows and loses the test
    statistics (``.jk-stat``: p and q values; those in generated sentences,
    :func:`scrub_statistics`) and the method notes (``.jk-method``); a
    significance column is headed "Verdict". The
    appendix part holds the section's key-figure tables with their tests,
    the method notes, and the cells tagged :data:`METHOD_TAG`. Headings are
    tidied (:func:`tidy_headings`) and charts kept with their headings
    (:func:`keep_together`) in both."""
    client_html, _, method_html = body_html.partition(METHODS_MARK)
    soup = _soup(client_html)
    tests = []
    for block in soup.select("div.jk-key-figures"):
        table = block.find("table")
        if table is not None and table.select(f".{STAT_CLASS}"):
            tests.append(str(table))
        tests += [str(n) for n in block.select(f".{METHOD_CLASS}")]
    for table in soup.select("table.scorecard"):
        if table.select(f".{STAT_CLASS}"):
            tests.append(str(table))
    for el in soup.select(f".{STAT_CLASS}, .{METHOD_CLASS}"):
        el.decompose()
    for th in soup.select(f"th.{SIG_CLASS}"):
        th.string = i18n.t("col_verdict", language)
    from bs4 import NavigableString

    for node in soup.select("ul.jk-narrative li, p.jk-note"):
        for text in list(node.find_all(string=True)):
            if isinstance(text, NavigableString) and (clean := scrub_statistics(str(text))) != str(text):
                text.replace_with(clean)
    tidy_headings(soup)
    keep_together(soup)
    appendix = ""
    if tests:
        appendix += f'<h2>{html.escape(i18n.t("appendix_tests", language))}</h2>' + "".join(tests)
    if method_html.strip():
        msoup = _soup(method_html)
        tidy_headings(msoup)
        keep_together(msoup)
        appendix += str(msoup)
    return str(soup), appendix


i18n.register({
    "appendix_definitions": {"en": "Definitions", "ko": "정의"},
    "appendix_definitions_lead": {
        "en": "The business rules behind this report's numbers, as set in the client file (params/defaults.yaml "
              "holds the defaults).",
        "ko": "이 리포트의 수치에 적용된 업무 규칙입니다(고객사 설정 파일 기준, 기본값은 params/defaults.yaml)."},
    "def_col_rule": {"en": "Rule", "ko": "규칙"},
    "def_col_setting": {"en": "Setting", "ko": "설정 키"},
    "def_churn": {"en": "A customer has churned after {v} days without any activity (an event or an order).",
                  "ko": "{v}일 동안 활동(이벤트나 주문)이 없으면 이탈한 고객으로 봅니다."},
    "def_first_purchase": {"en": "First-purchase conversion counts a first paid order within {v} days of signing up.",
                           "ko": "가입 후 {v}일 이내의 첫 결제 주문을 첫 구매 전환으로 셉니다."},
    "def_funnel_session": {"en": "The funnel follows each visit within its session.",
                           "ko": "퍼널은 각 방문을 같은 세션 안에서 따라갑니다."},
    "def_funnel_days": {"en": "The funnel follows each visit for {v} days.",
                        "ko": "퍼널은 각 방문을 {v}일 동안 따라갑니다."},
    "def_attribution": {"en": "A message converts when its customer buys within {v} days of receiving it.",
                        "ko": "메시지를 받은 뒤 {v}일 이내에 구매하면 전환으로 셉니다."},
    "def_experiment": {"en": "An experiment converts on a purchase within {v} days of assignment.",
                       "ko": "실험 배정 후 {v}일 이내의 구매를 전환으로 셉니다."},
    "def_ltv": {"en": "CLV covers the next {h} months, discounted at {r} a month, at a gross margin of {m}.",
                "ko": "CLV는 향후 {h}개월을 월 {r}(으)로 할인해 계산하며, 매출총이익률은 {m}입니다."},
    "def_groups": {"en": "Breakdown groups smaller than {v} are folded into \"other\".",
                   "ko": "{v}보다 작은 분류 그룹은 \"기타\"로 묶습니다."},
    "def_k": {"en": "Client-facing tables suppress groups of fewer than {v} customers.",
              "ko": "고객용 표에서는 고객이 {v}명 미만인 그룹을 표시하지 않습니다."},
    "def_fdr": {"en": "A change is significant when its q value (Benjamini–Hochberg over all the report's tests) is "
                      "at most {v} and it reaches its minimum meaningful size.",
                "ko": "q값(리포트 전체 검정에 대한 Benjamini–Hochberg 보정)이 {v} 이하이고 의미 있는 최소 크기에 "
                      "이르면 유의한 변화로 봅니다."},
})


def definitions_html(cfg: RunConfig) -> str:
    """The appendix's definitions: each business rule behind the numbers
    in words, with its value and its key in the client file."""
    lang = cfg.language
    d = cfg.definitions
    esc = html.escape
    pct = lambda x: f"{x * 100:.1f}%".replace(".0%", "%")  # noqa: E731
    funnel = (i18n.t("def_funnel_session", lang) if d.funnel_window == "session"
              else i18n.t("def_funnel_days", lang, v=d.funnel_window_days))
    rows = [
        (i18n.t("def_churn", lang, v=d.churn_inactivity_days), "definitions.churn_inactivity_days"),
        (i18n.t("def_first_purchase", lang, v=d.first_purchase_window_days), "definitions.first_purchase_window_days"),
        (funnel, "definitions.funnel_window"),
        (i18n.t("def_attribution", lang, v=d.attribution_window_days), "definitions.attribution_window_days"),
        (i18n.t("def_experiment", lang, v=d.experiment_window_days), "definitions.experiment_window_days"),
        (i18n.t("def_ltv", lang, h=d.ltv_horizon_months, r=pct(d.ltv_discount_rate_monthly), m=pct(d.gross_margin)),
         "definitions.ltv_horizon_months, ltv_discount_rate_monthly, gross_margin"),
        (i18n.t("def_groups", lang, v=d.min_group_size), "definitions.min_group_size"),
        (i18n.t("def_k", lang, v=d.k_anonymity), "definitions.k_anonymity"),
        (i18n.t("def_fdr", lang, v=f"{cfg.changes.fdr:g}"), "changes.fdr, changes.min_effect"),
    ]
    body = "".join(f'<tr><td class="txt">{esc(text)}</td><td class="txt"><code>{esc(key)}</code></td></tr>'
                   for text, key in rows)
    return (f'<h1>{esc(i18n.t("appendix_definitions", lang))}</h1>'
            f'<p>{esc(i18n.t("appendix_definitions_lead", lang))}</p>'
            f'<table class="jk-table definitions"><thead><tr><th class="txt">{esc(i18n.t("def_col_rule", lang))}</th>'
            f'<th class="txt">{esc(i18n.t("def_col_setting", lang))}</th></tr></thead><tbody>{body}</tbody></table>')


def _is_appendix(result: SectionResult) -> bool:
    section = registry.get(result.name)
    return bool(section and section.appendix)


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


def report_parts(cfg: RunConfig, results: list[SectionResult]) -> dict:
    """How the deliverable is laid out, in reading order: ``client`` — the
    sections with pages for the client (summary first), each as
    ``(result, client html, appendix html)``; ``missing`` — sections not
    available or failed, which get a line instead of a page;
    ``appendix`` — sections that belong to the appendix (data quality);
    ``methods`` — ``(result, appendix html)`` of the client sections that
    have one. ``appendix`` and ``methods`` are empty when the client file
    sets ``report.appendix: false``."""
    parts = {"client": [], "missing": [], "appendix": [], "methods": []}
    for r in reading_order(results):
        if r.status != "ok":
            parts["missing"].append(r)
        elif _is_appendix(r):
            if cfg.report.appendix:
                parts["appendix"].append(r)
        else:
            client, appendix = split_body(r.body_html, cfg.language)
            parts["client"].append((r, client, appendix))
            if appendix and cfg.report.appendix:
                parts["methods"].append((r, appendix))
    return parts


def section_page_body(cfg: RunConfig, result: SectionResult) -> str:
    """The body of a section's own HTML page: its client part, then (with
    ``report.appendix``) its appendix part; a section of the appendix (data
    quality) whole."""
    if result.status != "ok" or _is_appendix(result):
        soup = _soup(result.body_html.replace(METHODS_MARK, ""))
        tidy_headings(soup)
        return str(soup)
    client, appendix = split_body(result.body_html, cfg.language)
    if appendix and cfg.report.appendix:
        title = i18n.t("appendix_methods_of", cfg.language, section=display_title(result.title))
        client += f'<section class="jk-appendix"><h1>{html.escape(title)}</h1>{appendix}</section>'
    return client


def index_body(cfg: RunConfig, results: list[SectionResult], *, has_pdf: bool) -> str:
    """Body of index.html: headline figures, a link to every client
    section, a line for each section not available (what would unlock it),
    and the appendix."""
    lang = cfg.language
    esc = html.escape

    def item(r: SectionResult, extra: str = "") -> str:
        return (f'<li><a href="{esc(r.href)}">{esc(display_title(r.title))}</a>{extra}'
                f'<span class="badge {esc(r.status)}">{esc(i18n.t("status_" + r.status, lang))}</span></li>')

    ordered = reading_order(results)
    main = [item(r) for r in ordered if r.status == "ok" and not _is_appendix(r)]
    main += [item(r, f'<span class="why">{esc(status_line(cfg, r, with_title=False))}</span>') for r in ordered if r.status != "ok"]
    appendix = [item(r) for r in ordered if r.status == "ok" and _is_appendix(r)] if cfg.report.appendix else []
    pdf = (f'<p><a href="report.pdf">{esc(i18n.t("download_pdf", lang))}</a></p>' if has_pdf else "")
    extra = (f"<h2>{esc(i18n.t('appendix', lang))}</h2><ul class=\"sections\">{''.join(appendix)}</ul>"
             if appendix else "")
    return (f"<h1>{esc(i18n.t('report_title', lang))}</h1>"
            f"<blockquote><p>{esc(cfg.name)} · {esc(cfg.period.label(lang))} · "
            f"{esc(i18n.t('comparison', lang, prev=cfg.comparison.label(lang)))}</p></blockquote>"
            f"{_headline_cards(cfg, results)}"
            f"<h2>{esc(i18n.t('sections', lang))}</h2><ul class=\"sections\">{''.join(main)}</ul>{extra}{pdf}"
            f'<p class="no-print"><a href="notebooks/">{esc(i18n.t("analyst_notebooks", lang))}</a></p>')


def anchor(name: str) -> str:
    """The id of a part of the combined document (a section, the appendix),
    which the contents link to and the PDF keeps as a named destination."""
    return "jk-" + re.sub(r"[^A-Za-z0-9_-]", "-", name)


def cover_html(cfg: RunConfig, generated_at: str, data_through: dt.date | None = None,
               partial: bool = False) -> str:
    """The cover: logos, the client, the period and its comparison period,
    the data's last date, the generation date, who prepared it and the
    confidentiality line (client strings escaped)."""
    lang = cfg.language
    esc = html.escape
    brand = _branding(cfg)
    logos = ""
    if brand["client_logo"] or brand["consultancy_logo"]:
        left = (f'<img class="logo" src="{brand["client_logo"]}" alt="{esc(i18n.t("logo_alt", lang, name=cfg.name))}">'
                if brand["client_logo"] else "<span></span>")
        right = (f'<img class="logo" src="{brand["consultancy_logo"]}" '
                 f'alt="{esc(i18n.t("logo_alt", lang, name=brand["consultancy"] or ""))}">'
                 if brand["consultancy_logo"] else "<span></span>")
        logos = f'<div class="logos">{left}{right}</div>'
    last = "–"
    if data_through is not None:
        last = i18n.t("cover_partial", lang, date=str(data_through)) if partial else str(data_through)
    end = cfg.period.end - dt.timedelta(days=1)
    prev = cfg.comparison
    facts = [(i18n.t("cover_period", lang), f"{cfg.period.label(lang)} ({cfg.period.start} – {end})"),
             (i18n.t("cover_comparison", lang),
              f"{prev.label(lang)} ({prev.start} – {prev.end - dt.timedelta(days=1)})"),
             (i18n.t("cover_data_last", lang), last),
             (i18n.t("cover_generated", lang), generated_at)]
    who = ", ".join(x for x in (brand["prepared_by"], brand["consultancy"]) if x)
    if who:
        facts.append((i18n.t("cover_prepared_by", lang), who))
    dl = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in facts)
    conf = f'<p class="confidential">{esc(brand["confidentiality"])}</p>' if brand["confidentiality"] else ""
    return (f'<section class="cover">{logos}<div class="kicker">{esc(i18n.t("report_title", lang))}</div>'
            f'<h1>{esc(cfg.name)}</h1><div class="sub">{esc(cfg.period.label(lang))}</div>'
            f'<dl class="facts">{dl}</dl>{conf}</section>')


def combined_body(cfg: RunConfig, results: list[SectionResult], generated_at: str,
                  data_through: dt.date | None = None, partial: bool = False,
                  pages: dict[str, int] | None = None) -> str:
    """The PDF's document: cover, contents (with the page each part starts
    on, from ``pages``: anchor → page), the client sections (summary first),
    then the appendix: data quality, each section's methods and the
    definitions (:func:`definitions_html`). A section
    not available or failed has no page, only its line in the contents."""
    lang = cfg.language
    esc = html.escape
    parts = report_parts(cfg, results)
    pages = pages or {}

    def entry(key: str, title: str, cls: str = "") -> str:
        number = pages.get(anchor(key))
        return (f'<li class="{cls}"><a href="#{anchor(key)}"><span class="t">{esc(title)}</span>'
                f'<span class="pg">{number if number else ""}</span></a></li>')

    toc = [entry(r.name, display_title(r.title)) for r, _, _ in parts["client"]]
    missing = "".join(f'<li class="missing">{esc(status_line(cfg, r))}</li>' for r in parts["missing"])
    appendix_toc = [entry(r.name, display_title(r.title)) for r in parts["appendix"]]
    appendix_toc += [entry("methods-" + r.name, i18n.t("appendix_methods_of", lang, section=display_title(r.title)))
                     for r, _ in parts["methods"]]
    if cfg.report.appendix:
        appendix_toc.append(entry("definitions", i18n.t("appendix_definitions", lang)))
    contents = f'<ol class="toc">{"".join(toc)}</ol>'
    if missing:
        contents += f'<ul class="toc-missing">{missing}</ul>'
    if appendix_toc:
        contents += (f'<h2 class="toc-part">{esc(i18n.t("appendix", lang))}</h2>'
                     f'<ol class="toc">{"".join(appendix_toc)}</ol>')
    out = [cover_html(cfg, generated_at, data_through, partial),
           f'<section class="section-break contents"><h1>{esc(i18n.t("contents", lang))}</h1>{contents}</section>']
    for r, client, _ in parts["client"]:
        out.append(f'<section class="section-break" id="{anchor(r.name)}">{client}</section>')
    if cfg.report.appendix:
        out.append(f'<section class="section-break appendix-title"><div class="kicker">'
                   f'{esc(i18n.t("appendix", lang))}</div><p>{esc(i18n.t("appendix_lead", lang))}</p></section>')
        first = True
        for r in parts["appendix"]:
            soup = _soup(r.body_html)
            tidy_headings(soup)
            keep_together(soup)
            cls = "section-break" if not first else "appendix-part"
            out.append(f'<section class="{cls}" id="{anchor(r.name)}">{soup}</section>')
            first = False
        for r, appendix in parts["methods"]:
            title = i18n.t("appendix_methods_of", lang, section=display_title(r.title))
            out.append(f'<section class="methods-part" id="{anchor("methods-" + r.name)}">'
                       f"<h1>{esc(title)}</h1>{appendix}</section>")
        out.append(f'<section class="methods-part" id="{anchor("definitions")}">{definitions_html(cfg)}</section>')
    return "\n".join(out)


def part_pages(pdf_path: Path, anchors: list[str]) -> dict[str, int]:
    """The page (1-based) each of ``anchors`` starts on in a PDF printed
    from :func:`combined_body`: Chromium keeps every linked-to id as a
    named destination."""
    from pypdf import PdfReader

    reader = PdfReader(str(pdf_path))
    found = {}
    for name, dest in reader.named_destinations.items():
        key = str(name).lstrip("/")
        if key in anchors:
            try:
                found[key] = reader.get_destination_page_number(dest) + 1
            except Exception:  # noqa: BLE001 - an unreadable destination only loses its number
                continue
    return found


LAYOUT_SCRIPTS = (
    # before the print that finds the pages: each PNG chart becomes an empty image of its size
    """(async () => {
      const charts = [...document.images].filter(i => i.src.startsWith('data:image/png'));
      window.__jkCharts = charts.map(i => [i, i.src]);
      for (const i of charts) {
        const svg = `<svg xmlns='http://www.w3.org/2000/svg' width='${i.naturalWidth}' height='${i.naturalHeight}'/>`;
        i.src = 'data:image/svg+xml;base64,' + btoa(svg);
      }
      await Promise.all(charts.map(i => i.decode().catch(() => null)));
      return charts.length;
    })()""",
    # after it: the charts back
    """(async () => {
      const kept = window.__jkCharts || [];
      for (const [i, src] of kept) i.src = src;
      await Promise.all(kept.map(([i]) => i.decode().catch(() => null)));
      return kept.length;
    })()""",
)
"""JavaScript run in the PDF's page around the print that only finds the
page each part starts on (:func:`write_report`): the charts are blank
boxes of their size then, laid out the same and printed faster (on the
demo report Chromium spent 1.2 s of a 3.0 s print on its 42 charts). An
image that is not a PNG is left as it is."""


def numbering_script(pages: dict[str, int]) -> str:
    """JavaScript that writes each part's page (``pages``: anchor → page)
    into the contents of a document from :func:`combined_body`, as
    ``combined_body(..., pages=pages)`` would have; returns the entries
    numbered."""
    return ("(() => { const pages = " + json.dumps(pages) + "; let n = 0;"
            " for (const a of document.querySelectorAll('.toc a[href^=\"#\"]')) {"
            " const pg = a.querySelector('.pg'); if (!pg) continue;"
            " const k = a.getAttribute('href').slice(1); pg.textContent = pages[k] ? String(pages[k]) : ''; n++; }"
            " return n; })()")


def find_chromium() -> str:
    """Path of a Chromium to print PDFs with (``$JOURNEYKIT_CHROMIUM`` first)."""
    for cand in (os.environ.get("JOURNEYKIT_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if cand and (path := shutil.which(cand)):
            return path
    raise JourneykitError(
        "no Chromium found to print report.pdf",
        fix="run `make sysdeps` (installs Debian's chromium and fonts-noto-cjk), or set report.pdf: false",
    )


_PRINTS = chromium.RUNNING
"""Chromium processes running in this process (in any thread): :func:`stop_prints` kills them."""


def stop_prints() -> None:
    """Kill every Chromium print of this process still running (its whole
    session); the print waiting on it then fails. A run that is stopped
    while the brief prints beside the report calls it."""
    chromium.stop_all()


def print_pdf(html_path: Path, pdf_path: Path, timeout: float = 180) -> None:
    """Print an HTML file to PDF with headless Chromium (offline, no
    downloads; :class:`journeykit.run.chromium.Browser`), giving up after
    ``timeout`` seconds a step."""
    with chromium.Browser(find_chromium(), timeout) as browser:
        browser.open(html_path).pdf(pdf_path)


def print_css(cfg: RunConfig) -> str:
    """Page margins of the PDF: the confidentiality line (or the
    consultancy) bottom left, the page number bottom right."""
    b = cfg.report.branding
    line = b.confidentiality or b.consultancy
    if not line:
        return ""
    return ("\n@page { @bottom-left { content: " + css_string(line)
            + "; font-size: 8pt; color: #5c6b7a; } }\n@page :first { @bottom-left { content: none; } }\n")


def write_report(cfg: RunConfig, out: Path, results: list[SectionResult], generated_at: str,
                 data_through: dt.date | None = None, partial: bool = False) -> dict:
    """Write every section page, index.html and report.pdf into ``out``;
    the cover says how far the data goes (``data_through``) and whether the
    period is only partly covered.

    The PDF is printed twice from one page in one Chromium. The first
    print finds the page each part starts on, with the charts blank boxes
    of their size (:data:`LAYOUT_SCRIPTS`: laid out the same, printed
    faster); the second is the report, with those numbers written into the
    contents (:func:`numbering_script`). Its parts are checked against the
    numbers, and in the rare case one moved it is printed once more with
    the numbers as printed. Returns the seconds each print took
    (``layout_seconds``, with starting Chromium and loading the page;
    ``pdf_seconds``; and ``reprint_seconds`` when there was a third)."""
    import time

    for r in results:
        (out / r.href).write_text(page(cfg, r.title, section_page_body(cfg, r), generated_at=generated_at),
                                  encoding="utf-8")
    has_pdf = cfg.report.pdf
    (out / "index.html").write_text(
        page(cfg, i18n.t("report_title", cfg.language), index_body(cfg, results, has_pdf=has_pdf),
             index_href=None, generated_at=generated_at), encoding="utf-8")
    timings = {}
    if has_pdf:
        combined = out / ".combined.html"
        pdf = out / "report.pdf"
        document = page(cfg, i18n.t("report_title", cfg.language),
                        combined_body(cfg, results, generated_at, data_through, partial),
                        index_href=None, generated_at=generated_at, print_css=print_css(cfg))
        anchors = re.findall(r'href="#(jk-[^"]+)"', document)
        try:
            started = time.monotonic()
            combined.write_text(document, encoding="utf-8")
            with chromium.Browser(find_chromium()) as browser:
                blank, restore = LAYOUT_SCRIPTS
                browser.open(combined).evaluate(blank)
                browser.pdf(pdf)
                pages = part_pages(pdf, anchors)
                timings["layout_seconds"] = time.monotonic() - started
                started = time.monotonic()
                browser.evaluate(restore)
                browser.evaluate(numbering_script(pages))
                browser.pdf(pdf)
                timings["pdf_seconds"] = time.monotonic() - started
                printed = part_pages(pdf, anchors)
                if printed != pages:   # the charts moved a part (not seen so far): number the contents as printed
                    started = time.monotonic()
                    browser.evaluate(numbering_script(printed))
                    browser.pdf(pdf)
                    timings["reprint_seconds"] = time.monotonic() - started
        finally:
            combined.unlink(missing_ok=True)
    return timings


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


def read_notebook(path: Path):
    return nbformat.read(path, as_version=4)
