"""The portfolio page: ``reports/index.html``.

One page over every client: for each, its latest published period's
headline KPIs (the executive summary's scorecard, as recorded in that
report's ``metrics.json``) each beside its change and the report's verdict
in words and arrows (no p-value), with links to the report, its PDF and
one-page brief when they were made, and to the client's earlier periods.
Every run rewrites it (:func:`write_portfolio`); reports kept in
``_failed/`` and staging folders are not listed.
"""

from __future__ import annotations

import html
import json
import uuid
from importlib import resources
from pathlib import Path
from urllib.parse import quote

from journeykit.core import i18n
from journeykit.core.periods import Period
from journeykit.run.brief import kpi_rows
from journeykit.run.render import _PERIOD, published_reports

_TEMPLATES = resources.files("journeykit") / "templates"

i18n.register({
    "portfolio_title": {"en": "Reports", "ko": "리포트"},
    "portfolio_lead": {
        "en": "Every client's latest report: its headline KPIs and how they moved against the month before "
              "(▲ ▼ a significant change, green good, red bad; ↗ ↘ → a change that is not significant).",
        "ko": "고객사별 최신 리포트의 핵심 지표와 전월 대비 변화입니다"
              "(▲ ▼ 유의한 변화, 초록 좋음·빨강 나쁨; ↗ ↘ → 유의하지 않은 변화)."},
    "portfolio_report": {"en": "Report", "ko": "리포트"},
    "portfolio_pdf": {"en": "PDF", "ko": "PDF"},
    "portfolio_brief": {"en": "One-page brief", "ko": "한 장 요약"},
    "portfolio_brief_png": {"en": "(image)", "ko": "(이미지)"},
    "portfolio_earlier": {"en": "Earlier periods:", "ko": "이전 기간:"},
    "portfolio_no_kpis": {"en": "No headline KPI in this report ({ok} of {n} sections rendered).",
                          "ko": "이 리포트에는 핵심 지표가 없습니다({n}개 섹션 중 {ok}개 생성)."},
    "portfolio_sections": {"en": "Sections: {badges}", "ko": "섹션: {badges}"},
    "portfolio_none": {"en": "No report has been rendered yet.", "ko": "아직 생성된 리포트가 없습니다."},
    "portfolio_generated": {"en": "generated {when}", "ko": "생성 {when}"},
})

_CSS = """
.pf-client { border: 1px solid var(--line); border-radius: 6px; padding: 12px 16px; margin: 14px 0; }
.pf-client h2 { margin: 0 0 .2em; border: 0; padding: 0; }
.pf-links { font-size: .88rem; margin: .2em 0 .6em; }
.pf-links a { margin-right: .9em; }
.pf-kpis { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 8px; }
.pf-kpi { background: var(--soft); border-radius: 4px; padding: 6px 9px; }
.pf-kpi .stage { font-size: .68rem; color: var(--muted); text-transform: uppercase; }
.pf-kpi .label { font-size: .8rem; font-weight: 600; }
.pf-kpi .value { font-size: 1.15rem; font-weight: 700; color: var(--brand); font-variant-numeric: tabular-nums; }
.pf-kpi .change { font-size: .78rem; color: var(--muted); }
.pf-kpi .change.good { color: var(--ok); font-weight: 600; } .pf-kpi .change.bad { color: var(--bad); font-weight: 600; }
.pf-earlier { font-size: .85rem; color: var(--muted); margin-top: .6em; }
"""


def latest_reports(reports_dir: Path) -> list[dict]:
    """Per client, its latest published report
    (:func:`journeykit.run.render.published_reports`), in client-name
    order, with its ``sections`` and ``currency`` from ``metrics.json``,
    the files beside it (``has_pdf``, ``has_brief``, ``has_brief_png``) and
    its client's ``earlier`` periods (newest first)."""
    by_client: dict[str, dict] = {}
    for r in published_reports(reports_dir):
        if r["client"] in by_client:
            by_client[r["client"]]["earlier"].append(r["period"])
            continue
        folder = reports_dir / r["client"] / r["period"]
        try:
            doc = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        by_client[r["client"]] = {**r, "sections": doc.get("sections") or {}, "currency": doc.get("currency") or "",
                                  "has_pdf": (folder / "report.pdf").is_file(),
                                  "has_brief": (folder / "brief.pdf").is_file(),
                                  "has_brief_png": (folder / "brief.png").is_file(), "earlier": []}
    return list(by_client.values())


def _period_label(period: str, language: str) -> str:
    return Period.parse(period).label(language) if _PERIOD.match(period) else period


def portfolio_html(reports: list[dict], language: str = "en") -> str:
    """The portfolio page for :func:`latest_reports` in ``language`` (each
    client's KPI labels stay in its report's language); client-supplied
    strings are escaped, and no script can run (Content-Security-Policy)."""
    esc = html.escape
    blocks = []
    for r in reports:
        base = f'{quote(r["client"])}/{quote(r["period"])}/'
        lang = r["language"] if r["language"] in i18n.LANGUAGES else "en"
        links = [f'<a href="{esc(base)}index.html">{esc(i18n.t("portfolio_report", language))}</a>']
        if r["has_pdf"]:
            links.append(f'<a href="{esc(base)}report.pdf">{esc(i18n.t("portfolio_pdf", language))}</a>')
        if r["has_brief"]:
            png = (f' <a href="{esc(base)}brief.png">{esc(i18n.t("portfolio_brief_png", language))}</a>'
                   if r["has_brief_png"] else "")
            links.append(f'<a href="{esc(base)}brief.pdf">{esc(i18n.t("portfolio_brief", language))}</a>{png}')
        cells = []
        for k in kpi_rows(r["sections"], r["currency"], lang):
            arrow = f'<span class="arrow">{esc(k["arrow"])}</span> ' if k["arrow"] else ""
            cells.append(f'<div class="pf-kpi"><div class="stage">{esc(k["section"])}</div>'
                         f'<div class="label">{esc(k["label"])}</div><div class="value">{esc(k["value"])}</div>'
                         f'<div class="change {esc(k["tone"])}">{arrow}{esc(k["delta"])} · {esc(k["verdict_text"])}</div>'
                         "</div>")
        n = sum(r[s] for s in ("ok", "not_available", "failed"))
        kpis = (f'<div class="pf-kpis">{"".join(cells)}</div>' if cells else
                f'<p class="jk-note">{esc(i18n.t("portfolio_no_kpis", language, ok=r["ok"], n=n))}</p>')
        badges = " ".join(f'<span class="badge {st}">{esc(i18n.t("status_" + st, language))} {r[st]}</span>'
                          for st in ("ok", "not_available", "failed") if r[st])
        earlier = ""
        if r["earlier"]:
            items = ", ".join(f'<a href="{esc(quote(r["client"]))}/{esc(quote(p))}/index.html">'
                              f'{esc(_period_label(p, language))}</a>' for p in r["earlier"])
            earlier = f'<div class="pf-earlier">{esc(i18n.t("portfolio_earlier", language))} {items}</div>'
        blocks.append(
            f'<section class="pf-client"><h2>{esc(r["client_name"])} · {esc(_period_label(r["period"], language))}</h2>'
            f'<div class="pf-links">{"".join(links)}<span class="meta">'
            f'{esc(i18n.t("portfolio_generated", language, when=r["generated_at"]))} · {badges}</span></div>'
            f"{kpis}{earlier}</section>")
    body = "".join(blocks) or f'<p class="jk-note">{esc(i18n.t("portfolio_none", language))}</p>'
    css = (_TEMPLATES / "style.css").read_text(encoding="utf-8") + _CSS
    title = i18n.t("portfolio_title", language)
    return (f'<!DOCTYPE html><html lang="{language}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            """<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline';">"""
            f"<title>{esc(title)}</title><style>{css}</style></head><body>"
            f'<main><h1>{esc(title)}</h1><p>{esc(i18n.t("portfolio_lead", language))}</p>{body}</main></body></html>')


def write_portfolio(reports_dir: Path) -> Path:
    """(Re)write ``reports/index.html`` (:func:`portfolio_html`), atomically;
    Korean when every listed client reports in Korean, else English."""
    reports = latest_reports(reports_dir)
    language = "ko" if reports and all(r["language"] == "ko" for r in reports) else "en"
    reports_dir.mkdir(parents=True, exist_ok=True)
    path = reports_dir / "index.html"
    tmp = path.with_name(f".index-{uuid.uuid4().hex[:6]}.html")
    tmp.write_text(portfolio_html(reports, language), encoding="utf-8")
    tmp.replace(path)
    return path


__all__ = ["latest_reports", "portfolio_html", "write_portfolio"]
