"""What a section shows: client-facing tables, notes and generated
sentences, HTML-escaped, displayed in notebooks and in the rendered report."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import pandas as pd

from journeykit.core.config import RunConfig
from journeykit.core import i18n
from journeykit.report.formats import fmt_delta, fmt_kpi, fmt_min_effect, formatter, per_day, significance_text


class Table:
    """A client-facing table: formatted, escaped, without the index.

    Displays as HTML in notebooks and in the rendered report. Text cells and
    column names pass :func:`journeykit.core.privacy.mask_text` (e-mail
    addresses, phone numbers and URL queries in a client's names are never
    shown, even when a name reached the table some other way than the load).
    """

    def __init__(self, df: pd.DataFrame, cfg: RunConfig, formats: Mapping[str, str] | None = None,
                 caption: str | None = None, significance: str | None = None):
        self.df = df
        self.cfg = cfg
        self.formats = dict(formats or {})
        self.caption = caption
        self.significance = significance
        """The column holding significance texts (:func:`significance_html`), if any."""

    def cells(self) -> pd.DataFrame:
        """The formatted cell strings (unescaped)."""
        from journeykit.core.privacy import mask_text

        out = {}
        for col in self.df.columns:
            kind = self.formats.get(col, "text")
            f = formatter(kind, self.cfg)
            out[col] = [mask_text(f(v)) for v in self.df[col]] if kind == "text" else [f(v) for v in self.df[col]]
        cells = pd.DataFrame(out, columns=self.df.columns)
        cells.columns = [mask_text(c) if isinstance(c, str) else c for c in cells.columns]
        return cells

    def _repr_html_(self) -> str:
        cells = self.cells()
        cls = {c: "num" if k in ("int", "num", "num2", "pct", "money", "numtext") else "date" if k == "date" else "txt"
               for c, k in self.formats.items()}
        if self.significance is not None:
            cls[self.significance] = cls.get(self.significance, "txt") + " " + SIG_CLASS
        head = "".join(f'<th class="{cls.get(c, "txt")}">{html.escape(str(c))}</th>' for c in cells.columns)
        rows = []
        for rec in cells.itertuples(index=False):
            tds = "".join(f'<td class="{cls.get(c, "txt")}">'
                          f'{significance_html(v) if c == self.significance else html.escape(v)}</td>'
                          for c, v in zip(cells.columns, rec))
            rows.append(f"<tr>{tds}</tr>")
        cap = f"<caption>{html.escape(self.caption)}</caption>" if self.caption else ""
        return (f'<table class="jk-table">{cap}<thead><tr>{head}</tr></thead>'
                f'<tbody>{"".join(rows)}</tbody></table>')

    def __repr__(self) -> str:
        return self.cells().to_string(index=False)


SIG_CLASS = "jk-sig"
"""The class of a significance column's cells: the client part of the
report shows its verdict words only (:func:`significance_html`)."""
STAT_CLASS = "jk-stat"
"""The class of test statistics (p and q values, test details) that the
client part of the report leaves to the appendix."""
METHOD_CLASS = "jk-method"
"""The class of a block about method (how verdicts were judged, model
internals) that the client part of the report leaves to the appendix."""


def significance_html(text: str) -> str:
    """A significance text (:func:`journeykit.report.formats.significance_text`)
    as HTML: the verdict words, then the statistics in parentheses marked
    :data:`STAT_CLASS`, e.g. ``significant<span class="jk-stat"> (p 0.003,
    q 0.012)</span>``; a text without statistics is only escaped."""
    i = text.find(" (")
    if i <= 0 or not text.endswith(")"):
        return html.escape(text)
    return f'{html.escape(text[:i])}<span class="{STAT_CLASS}">{html.escape(text[i:])}</span>'


def table(df: pd.DataFrame, cfg: RunConfig, formats: Mapping[str, str] | None = None,
          caption: str | None = None) -> Table:
    """Format ``df`` for the report (see :class:`Table`)."""
    return Table(df, cfg, formats, caption)


class Note:
    """A short paragraph of generated text (HTML-escaped)."""

    def __init__(self, text: str, kind: str = "info", method: bool = False):
        self.text = text
        self.kind = kind
        self.method = method
        """About method (how something was judged): left to the report's appendix."""

    def _repr_html_(self) -> str:
        extra = f" {METHOD_CLASS}" if self.method else ""
        return f'<p class="jk-note jk-{self.kind}{extra}">{html.escape(self.text)}</p>'

    def _repr_markdown_(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text



def shown(changes) -> list:
    """The changes worth showing: those with a value in at least one period."""
    return [c for c in changes if c.value is not None or c.prev is not None]


def judged(changes, cfg: RunConfig) -> list:
    """``changes`` as judged (:func:`journeykit.stats.compare.judge`): as
    they are when any already carries a verdict scope, else judged now over
    themselves with ``cfg``'s settings (a caller that built its own list)."""
    from journeykit.stats import compare

    changes = list(changes)
    if any(getattr(c, "scope", None) for c in changes) or not any(compare.in_family(c) for c in changes):
        return changes
    return compare.judge(changes, cfg)


def kpi_table(changes, labels: Mapping[str, str], kinds: Mapping[str, str], cfg: RunConfig) -> Table:
    """The period-over-period table: KPI, this period, the comparison period,
    the change and its verdict, and — when any KPI has one — the same month
    a year before. ``labels`` and ``kinds`` (``int``, ``num``, ``pct``,
    ``money``, ``nps``) are keyed by the change's key. KPIs without a value
    in either period are left out."""
    changes = shown(changes)
    lang = cfg.language
    this, prev = cfg.period.label(lang), cfg.period.previous().label(lang)
    last_year = any(getattr(c, "value_last_year", None) is not None for c in changes)
    ly = cfg.period.shift(-12).label(lang)
    rows = []
    for c in changes:
        kind = kinds.get(c.key, "num")
        f = fmt_kpi(kind, cfg, along=(c.value, c.prev, getattr(c, "value_last_year", None)))
        marker = " ▲" if c.significant and c.direction == "up" else (" ▼" if c.significant and c.direction == "down" else "")
        before = c.test == "no_earlier_data" and c.prev is None
        row = {"kpi": labels.get(c.key, c.key), "value": f(c.value),
               "prev": i18n.t("prev_no_data", lang) if before else f(c.prev),
               "change": fmt_delta(c, kind, cfg) + marker, "sig": significance_text(c, cfg)}
        if last_year:
            row["ly"] = f(c.value_last_year)
        rows.append(row)
    cols = ["kpi", "value", "prev", "change", "sig"] + (["ly"] if last_year else [])
    df = pd.DataFrame(rows, columns=cols)
    names = [i18n.t("col_kpi", lang), this, prev, i18n.t("col_change", lang), i18n.t("col_significance", lang)]
    df.columns = names + ([ly] if last_year else [])
    formats = {this: "numtext", prev: "numtext", i18n.t("col_change", lang): "numtext"}
    if last_year:
        formats[ly] = "numtext"
    return Table(df, cfg, formats, significance=i18n.t("col_significance", lang))


def _sentence_values(c, kind: str, label: str, cfg: RunConfig) -> dict:
    """The label and values a sentence about ``c`` shows: a count over
    months of different lengths is told per day (what was tested)."""
    if per_day(c):
        f = fmt_kpi("num", cfg)
        return {"label": i18n.t("per_day_label", cfg.language, label=label), "prev": f(c.tested_prev),
                "value": f(c.tested_value), "delta": fmt_delta(c, kind, cfg)}
    f = fmt_kpi(kind, cfg, along=(c.value, c.prev))
    return {"label": label, "prev": f(c.prev), "value": f(c.value), "delta": fmt_delta(c, kind, cfg)}


def change_sentence(c, label: str, kind: str, cfg: RunConfig) -> str:
    """One sentence about a change, whatever its verdict and direction (every
    combination has words in en and ko): significant and real-but-small
    changes say which way they went, an untested one what it moved to, the
    others that they did not change significantly or had too little data."""
    lang = cfg.language
    v = _sentence_values(c, kind, label, cfg)
    verdict = c.verdict
    if verdict == "significant":
        return i18n.t(f"change_{c.direction}_sig", lang, **v)
    if verdict == "too_small":
        return i18n.t(f"change_{c.direction}_small", lang, **v,
                      min=fmt_min_effect(getattr(c, "min_effect", None), kind, cfg))
    if verdict == "untested":
        return i18n.t("change_untested", lang, **v)
    if verdict == "too_little_data":
        return i18n.t("changes_too_little", lang, labels=label)
    return i18n.t("changes_none_sig", lang, labels=label)


def describe_changes(changes, labels: Mapping[str, str], kinds: Mapping[str, str], cfg: RunConfig) -> list[str]:
    """Sentences about the changes since the comparison period, in the
    client's language: each significant change (largest impact first), each
    real but small one, each change that has no test, then the KPIs that did
    not change significantly, then those with too little data to judge.
    KPIs without a value in either period are left out."""
    from journeykit.stats.compare import impact

    changes = shown(changes)
    lang = cfg.language
    sig = sorted((c for c in changes if c.significant), key=lambda c: (-(impact(c) or 0.0), c.key))
    small = [c for c in changes if c.verdict == "too_small"]
    untested = [c for c in changes if c.verdict == "untested" and c.delta]
    flat = [c for c in changes if c.verdict == "not_significant"]
    little = [c for c in changes if c.verdict == "too_little_data"]
    out = [change_sentence(c, labels.get(c.key, c.key), kinds.get(c.key, "num"), cfg) for c in sig + small + untested]
    if flat:
        if sig or small:
            out.append(i18n.t("changes_none_sig", lang, labels=", ".join(labels.get(c.key, c.key) for c in flat)))
        else:
            out.append(i18n.t("changes_all_none_sig", lang, prev_period=cfg.period.previous().label(lang)))
    if little:
        out.append(i18n.t("changes_too_little", lang, labels=", ".join(labels.get(c.key, c.key) for c in little)))
    return out


Advice = Mapping[str, Mapping[str, Any]]
"""A section's advice for significant changes: KPI key → direction (``up``
or ``down``) → an i18n text key, or ``(text key, {extra values})``. The
text gets ``label``, ``prev``, ``value``, ``delta`` and ``prev_period``
(the extra values override them)."""


def advice_spec(advice: Advice | None, key: str, direction: str) -> tuple[str, dict] | None:
    """The ``(text key, extra values)`` of ``advice`` for a change of ``key``
    going ``direction``, or ``None``."""
    spec = (advice or {}).get(key, {}).get(direction)
    if spec is None:
        return None
    return (spec, {}) if isinstance(spec, str) else (spec[0], dict(spec[1] or {}))


def advise(changes, labels: Mapping[str, str], kinds: Mapping[str, str], cfg: RunConfig,
           advice: Advice | None) -> list[str]:
    """The advice sentences of the significant changes that have one (see
    :data:`Advice`), in the order of ``changes``. They live in the key
    figures, so a report that judges the changes again words them again."""
    out = []
    for c in shown(changes):
        spec = advice_spec(advice, c.key, c.direction) if c.significant else None
        if spec is None:
            continue
        text, extra = spec
        v = _sentence_values(c, kinds.get(c.key, "num"), labels.get(c.key, c.key), cfg)
        out.append(i18n.t(text, cfg.language, **{**v, "prev_period": cfg.period.previous().label(cfg.language),
                                                   **extra}))
    return out


def judged_note(changes, cfg: RunConfig) -> Note | None:
    """How the verdicts were reached: over the section's own tests (an
    analyst's notebook) or over the whole report's; ``None`` when nothing
    was tested."""
    scoped = [c for c in changes if getattr(c, "scope", None)]
    if not scoped:
        return None
    c = scoped[0]
    key = "judged_report" if c.scope == "report" else "judged_section"
    return Note(i18n.t(key, cfg.language, m=c.family_size or len(scoped), fdr=f"{c.alpha:g}"), "info",
                method=True)


class Narrative:
    """Generated sentences shown as one paragraph list (HTML-escaped)."""

    def __init__(self, sentences: list[str]):
        self.sentences = list(sentences)

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{html.escape(s)}</li>" for s in self.sentences)
        return f'<ul class="jk-narrative">{items}</ul>'

    def __repr__(self) -> str:
        return "\n".join(f"- {s}" for s in self.sentences)




def _figure_html(fig) -> str:
    """A matplotlib figure as an inline PNG ``<img>`` (as the notebook shows a figure)."""
    import base64
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return f'<img src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}"/>'


class Blocks:
    """Several blocks shown one after the other (one notebook output): a
    text is a paragraph, a matplotlib figure an inline PNG, anything else
    its own HTML."""

    def __init__(self, blocks: list):
        self.blocks = [b for b in blocks if b is not None]

    def _repr_html_(self) -> str:
        out = []
        for b in self.blocks:
            if hasattr(b, "savefig"):
                out.append(_figure_html(b))
            else:
                out.append(b._repr_html_() if hasattr(b, "_repr_html_") else f"<p>{html.escape(str(b))}</p>")
        return "".join(out)

    def __repr__(self) -> str:
        return "\n\n".join(repr(b) for b in self.blocks)


KEY_FIGURES_OPEN = '<div class="jk-key-figures">'
KEY_FIGURES_CLOSE = '</div><!--/jk-key-figures-->'
"""The marks around a key-figures block in HTML: the runner replaces what is
between them once the report's verdicts are known."""


class KeyFigures(Blocks):
    """A section's key figures (:func:`key_figures`), marked in HTML so that
    a report run can replace them with the report-wide verdicts."""

    def _repr_html_(self) -> str:
        return KEY_FIGURES_OPEN + super()._repr_html_() + KEY_FIGURES_CLOSE


def key_figures(changes, labels: Mapping[str, str], kinds: Mapping[str, str], cfg: RunConfig,
                advice: Advice | None = None) -> KeyFigures:
    """A section's key figures: the period-over-period table
    (:func:`kpi_table`), the sentences about what changed
    (:func:`describe_changes`), the advice of the significant changes
    (:func:`advise`) and how the verdicts were judged
    (:func:`judged_note`), in the client's language. Every section shows its
    KPIs with this one call; changes not yet judged are judged here over
    themselves (:func:`judged`)."""
    changes = judged(changes, cfg)
    tips = advise(changes, labels, kinds, cfg, advice)
    return KeyFigures([kpi_table(changes, labels, kinds, cfg),
                       Narrative(describe_changes(changes, labels, kinds, cfg)),
                       Narrative(tips) if tips else None,
                       judged_note(changes, cfg)])


def key_figures_from_records(records: list[dict], cfg: RunConfig) -> KeyFigures:
    """The key figures of a section from its recorded changes (labels,
    kinds, verdicts and advice as recorded): what the runner shows once it
    has judged the report's tests together."""
    from journeykit.report.results import change_from_record

    changes = [change_from_record(r) for r in records]
    labels = {r["key"]: r.get("label") or r["key"] for r in records}
    kinds = {r["key"]: r.get("kind") or "num" for r in records}
    advice = {r["key"]: {d: (a["text"], a.get("params") or {}) for d, a in (r.get("advice") or {}).items()}
              for r in records if r.get("advice")}
    return key_figures(changes, labels, kinds, cfg, advice)


def replace_key_figures(html_text: str, block_html: str) -> tuple[str, int]:
    """``html_text`` with its key-figures block(s) (:data:`KEY_FIGURES_OPEN`
    … :data:`KEY_FIGURES_CLOSE`) replaced by ``block_html``; returns the text
    and how many blocks were replaced."""
    out, n, pos = [], 0, 0
    while True:
        i = html_text.find(KEY_FIGURES_OPEN, pos)
        if i < 0:
            break
        j = html_text.find(KEY_FIGURES_CLOSE, i)
        if j < 0:
            break
        out += [html_text[pos:i], block_html]
        pos = j + len(KEY_FIGURES_CLOSE)
        n += 1
    out.append(html_text[pos:])
    return "".join(out), n


def narrative(sentences: list[str], cfg: RunConfig | None = None, empty_key: str | None = None) -> Narrative | Note | None:
    """Generated sentences as a paragraph list; with ``empty_key``, the
    i18n text shown (as a note) when there is nothing to say; otherwise
    ``None`` then, so a notebook cell shows nothing."""
    if sentences:
        return Narrative(sentences)
    if empty_key and cfg is not None:
        return Note(i18n.t(empty_key, cfg.language))
    return None
