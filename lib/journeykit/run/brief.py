"""The one-page brief: ``brief.pdf`` and ``brief.png`` beside each report.

One A4 landscape page to paste into an e-mail: the executive summary's
scorecard (every headline KPI with its value, its change and the report's
verdict in words, never a p-value), the three largest *meaningful* changes
(verdict ``significant``, ranked by business impact exactly as the summary
ranks them: :func:`journeykit.sections.summary.compute.significant_changes`)
and the top actions (the advice the sections recorded with their
significant changes, then the summary's playbook actions:
:func:`journeykit.sections.summary.compute.actions`). It reads the run's
``metrics.json`` document and recomputes nothing.

The page is printed by the same headless Chromium call as ``report.pdf``
(:func:`journeykit.run.render.print_pdf`); the PNG is the PDF's page
rasterized by ``pdftoppm`` (poppler-utils). The runner writes both into
the run's staging folder before it publishes, so a failed run never leaves
a half-written brief. Only aggregated numbers and generated sentences are
shown: no customer id, name, e-mail, phone or comment.
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

from markupsafe import Markup

from journeykit import report
from journeykit.core import i18n
from journeykit.core.config import RunConfig
from journeykit.core.errors import JourneykitError
from journeykit.sections import registry

TOP_CHANGES = 3
"""How many significant changes the brief shows."""

TOP_ACTIONS = 4
"""How many actions the brief shows at most."""

i18n.register({
    "brief_title": {"en": "One-page brief", "ko": "한 장 요약"},
    "brief_kpis": {"en": "Headline KPIs", "ko": "핵심 지표"},
    "brief_changes": {"en": "The largest meaningful changes", "ko": "가장 큰 의미 있는 변화"},
    "brief_no_changes": {"en": "No headline KPI changed significantly and meaningfully since {prev}.",
                         "ko": "{prev} 대비 유의하고 의미 있는 크기로 변한 지표는 없습니다."},
    "brief_actions": {"en": "What to do next", "ko": "다음에 할 일"},
    "brief_no_actions": {"en": "No section recorded an action for this month.",
                         "ko": "이번 달 기록된 실행 항목이 없습니다."},
    "brief_action_playbook": {"en": "{action}: {customers} customers ({timing}).",
                              "ko": "{action}: 대상 고객 {customers}명({timing})."},
    "brief_action_playbook_revenue": {
        "en": "{action}: {customers} customers, {revenue} of spend in the last 12 months ({timing}).",
        "ko": "{action}: 대상 고객 {customers}명, 최근 12개월 구매액 {revenue}({timing})."},
    "brief_vs": {"en": "vs {prev}", "ko": "{prev} 대비"},
    "brief_how": {
        "en": "Verdicts are the report's: every test of the report judged together and held to a minimum meaningful size. "
              "▲ ▼ mark a significant change (green good, red bad); other changes are shown in grey. Details: report.pdf.",
        "ko": "판단은 리포트 전체 검정을 함께 보정하고 최소 의미 크기를 적용한 결과입니다. "
              "▲ ▼는 유의한 변화(초록: 좋음, 빨강: 나쁨), 회색은 그 밖의 변화입니다. 자세한 내용: report.pdf."},
    "brief_generated": {"en": "Generated {when}", "ko": "생성 {when}"},
})


def _formats(currency: str, language: str):
    """What the display formats read from a configuration (the currency and
    the language), for a report known only by its ``metrics.json``."""
    return SimpleNamespace(currency=currency, language=language)


def kpi_rows(sections: dict, currency: str, language: str) -> list[dict]:
    """The executive summary's scorecard KPIs for display, in journey order
    (:func:`journeykit.sections.summary.compute.scorecard`, nothing
    recomputed): per KPI ``section`` (stage title), ``key``, ``label``,
    ``value`` and ``prev`` (formatted), ``delta`` (formatted change: points
    for rates), ``verdict`` (the report's verdict key), ``verdict_text``
    (its words in ``language``), ``arrow`` (▲/▼ for a significant change,
    otherwise ↗/↘/→ for the direction, empty without a comparison) and
    ``tone`` (``good``/``bad`` for a significant change the KPI's
    direction judges, otherwise ``neutral``). No p-value is shown."""
    from journeykit.sections.summary import compute

    fcfg = _formats(currency, language)
    rows = []
    for r in compute.scorecard(sections, None):
        c = r.change
        f = report.fmt_kpi(r.kind, fcfg, along=(c.value, c.prev))
        if c.delta is None:
            arrow = ""
        elif c.significant:
            arrow = "▲" if c.direction == "up" else "▼"
        else:
            arrow = {"up": "↗", "down": "↘"}.get(c.direction, "→")
        tone = "neutral"
        if c.significant and c.good is not None:
            tone = "good" if c.good else "bad"
        rows.append({"section": r.title.split("·")[-1].strip(), "key": c.key, "label": r.label,
                     "value": f(c.value), "prev": f(c.prev), "delta": report.fmt_delta(c, r.kind, fcfg),
                     "verdict": c.verdict, "verdict_text": i18n.t(f"verdict_{c.verdict}", language),
                     "arrow": arrow, "tone": tone})
    return rows


def _register_section_texts(names) -> None:
    """Import the view modules of ``names``: their advice texts are
    registered there (:func:`journeykit.core.i18n.register`)."""
    for name in names:
        section = registry.get(name)
        if section is not None:
            importlib.import_module(f"journeykit.sections.{section.package}.view")


def top_changes(sections: dict, cfg: RunConfig, limit: int = TOP_CHANGES) -> list[dict]:
    """The ``limit`` largest meaningful changes as the summary ranks them
    (:func:`journeykit.sections.summary.compute.significant_changes`):
    ``{section, key, sentence, tone}``, the sentence in the client's
    language (:func:`journeykit.report.change_sentence`)."""
    from journeykit.sections.summary import compute

    out = []
    for name, rec, ch in compute.significant_changes(sections, limit):
        title = (sections[name].get("title") or name).split("·")[-1].strip()
        tone = "neutral" if ch.good is None else ("good" if ch.good else "bad")
        out.append({"section": title, "key": ch.key, "tone": tone,
                    "sentence": report.change_sentence(ch, rec.get("label") or ch.key, rec.get("kind") or "num", cfg)})
    return out


def top_actions(sections: dict, cfg: RunConfig, limit: int = TOP_ACTIONS) -> list[str]:
    """The actions the report recommends, at most ``limit``: first the
    advice the sections recorded with their significant changes, in the
    summary's impact order (:func:`journeykit.report.advise`), then the
    playbook actions of the summary's next steps
    (:func:`journeykit.sections.summary.compute.actions`: largest revenue
    at stake first), customer counts under the k-anonymity minimum shown as
    ``< k``. Sentences in the client's language, each once."""
    from journeykit.sections.summary import compute

    lang = cfg.language
    out: list[str] = []
    ranked = compute.significant_changes(sections, limit=10_000)
    _register_section_texts({name for name, rec, _ in ranked if rec.get("advice")})
    for name, rec, ch in ranked:
        if not rec.get("advice"):
            continue
        advice = {ch.key: {d: (a["text"], a.get("params") or {}) for d, a in rec["advice"].items()}}
        out += report.advise([ch], {ch.key: rec.get("label") or ch.key}, {ch.key: rec.get("kind") or "num"},
                             cfg, advice)
    k = cfg.definitions.k_anonymity
    for b in compute.actions(sections, cfg, limit):
        n = b["customers"]
        values = dict(action=b.get("label") or b.get("action"), timing=b.get("timing") or "–",
                      customers=f"{n:,}" if n >= k else f"< {k}")
        if n >= k and b.get("revenue_12m"):
            out.append(i18n.t("brief_action_playbook_revenue", lang, **values,
                              revenue=report.fmt_money(b["revenue_12m"], cfg.currency)))
        else:
            out.append(i18n.t("brief_action_playbook", lang, **values))
    seen, unique = set(), []
    for s in out:
        if s not in seen:
            seen.add(s)
            unique.append(s)
    return unique[:limit]


def brief_html(cfg: RunConfig, sections: dict, generated_at: str) -> str:
    """The brief as one self-contained HTML page (no script, every
    client-supplied string escaped), laid out for one A4 landscape page."""
    from journeykit.run import render

    lang = cfg.language
    css = (render._TEMPLATES / "brief.css").read_text(encoding="utf-8")
    changes = top_changes(sections, cfg)
    return render._env().get_template("brief.html.j2").render(
        lang=lang, css=Markup(css), client_name=cfg.name, title=i18n.t("brief_title", lang),
        period_label=cfg.period.label(lang),
        comparison_label=i18n.t("comparison", lang, prev=cfg.comparison.label(lang)),
        kpis_title=i18n.t("brief_kpis", lang), kpis=kpi_rows(sections, cfg.currency, lang),
        vs=i18n.t("brief_vs", lang, prev=cfg.comparison.label(lang)),
        changes_title=i18n.t("brief_changes", lang), changes=changes,
        no_changes=i18n.t("brief_no_changes", lang, prev=cfg.comparison.label(lang)),
        actions_title=i18n.t("brief_actions", lang), actions=top_actions(sections, cfg),
        no_actions=i18n.t("brief_no_actions", lang),
        how=i18n.t("brief_how", lang), generated=i18n.t("brief_generated", lang, when=generated_at))


def to_png(pdf_path: Path, png_path: Path, dpi: int = 110, timeout: float = 60) -> None:
    """Rasterize the first page of ``pdf_path`` to ``png_path`` with
    ``pdftoppm`` (``dpi`` dots per inch: 110 gives an A4 landscape page
    about 1,290 pixels wide, readable in an e-mail)."""
    exe = shutil.which("pdftoppm")
    if exe is None:
        raise JourneykitError("no pdftoppm found to make brief.png",
                              fix="run `make sysdeps` (installs poppler-utils)")
    stem = png_path.with_suffix("")
    proc = subprocess.run([exe, "-png", "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile", str(pdf_path), str(stem)],
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0 or not png_path.is_file():
        raise JourneykitError(f"pdftoppm could not make {png_path.name}: {proc.stderr.strip()[-200:] or 'no output'}",
                              fix="check that `pdftoppm -v` runs on this machine")


def write_brief(cfg: RunConfig, out: Path, doc: dict, generated_at: str) -> list[str]:
    """Write ``brief.pdf`` and ``brief.png`` into the report folder ``out``
    from the run's metrics document ``doc`` (:func:`journeykit.report.metrics_document`).
    Returns warnings: a PNG that could not be made (no ``pdftoppm``) is a
    warning, the PDF is kept; a Chromium failure raises like ``report.pdf``."""
    from journeykit.run import render

    page = out / ".brief.html"
    page.write_text(brief_html(cfg, doc.get("sections") or {}, generated_at), encoding="utf-8")
    try:
        render.print_pdf(page, out / "brief.pdf")
    finally:
        page.unlink(missing_ok=True)
    try:
        to_png(out / "brief.pdf", out / "brief.png")
    except (JourneykitError, OSError, subprocess.TimeoutExpired) as e:
        return [f"brief.png not made ({e}); brief.pdf is there: install poppler-utils (`make sysdeps`) "
                "and run the same command again with --force"]
    return []


__all__ = ["TOP_CHANGES", "TOP_ACTIONS", "kpi_rows", "top_changes", "top_actions", "brief_html", "to_png",
           "write_brief"]
