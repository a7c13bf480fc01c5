"""What a section shows: client-facing tables, notes and generated
sentences, HTML-escaped, displayed in notebooks and in the rendered report."""

from __future__ import annotations

import html
from collections.abc import Mapping

import pandas as pd

from journeykit.core.config import RunConfig
from journeykit.core import i18n
from journeykit.report.formats import fmt_delta, fmt_kpi, formatter, significance_text


class Table:
    """A client-facing table: formatted, escaped, without the index.

    Displays as HTML in notebooks and in the rendered report. Text cells and
    column names pass :func:`journeykit.core.privacy.mask_text` (e-mail
    addresses, phone numbers and URL queries in a client's names are never
    shown, even when a name reached the table some other way than the load).
    """

    def __init__(self, df: pd.DataFrame, cfg: RunConfig, formats: Mapping[str, str] | None = None,
                 caption: str | None = None):
        self.df = df
        self.cfg = cfg
        self.formats = dict(formats or {})
        self.caption = caption

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
        head = "".join(f'<th class="{cls.get(c, "txt")}">{html.escape(str(c))}</th>' for c in cells.columns)
        rows = []
        for rec in cells.itertuples(index=False):
            tds = "".join(f'<td class="{cls.get(c, "txt")}">{html.escape(v)}</td>' for c, v in zip(cells.columns, rec))
            rows.append(f"<tr>{tds}</tr>")
        cap = f"<caption>{html.escape(self.caption)}</caption>" if self.caption else ""
        return (f'<table class="jk-table">{cap}<thead><tr>{head}</tr></thead>'
                f'<tbody>{"".join(rows)}</tbody></table>')

    def __repr__(self) -> str:
        return self.cells().to_string(index=False)


def table(df: pd.DataFrame, cfg: RunConfig, formats: Mapping[str, str] | None = None,
          caption: str | None = None) -> Table:
    """Format ``df`` for the report (see :class:`Table`)."""
    return Table(df, cfg, formats, caption)


class Note:
    """A short paragraph of generated text (HTML-escaped)."""

    def __init__(self, text: str, kind: str = "info"):
        self.text = text
        self.kind = kind

    def _repr_html_(self) -> str:
        return f'<p class="jk-note jk-{self.kind}">{html.escape(self.text)}</p>'

    def _repr_markdown_(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text



def shown(changes) -> list:
    """The changes worth showing: those with a value in at least one period."""
    return [c for c in changes if c.value is not None or c.prev is not None]


def kpi_table(changes, labels: Mapping[str, str], kinds: Mapping[str, str], cfg: RunConfig) -> Table:
    """The period-over-period table: KPI, this period, the comparison period,
    the change and its significance. ``labels`` and ``kinds`` (``int``,
    ``num``, ``pct``, ``money``, ``nps``) are keyed by the change's key.
    KPIs without a value in either period are left out."""
    changes = shown(changes)
    lang = cfg.language
    this, prev = cfg.period.label(lang), cfg.period.previous().label(lang)
    rows = []
    for c in changes:
        kind = kinds.get(c.key, "num")
        f = fmt_kpi(kind, cfg)
        marker = " ▲" if c.significant and c.direction == "up" else (" ▼" if c.significant and c.direction == "down" else "")
        rows.append({"kpi": labels.get(c.key, c.key), "value": f(c.value), "prev": f(c.prev),
                     "change": fmt_delta(c, kind, cfg) + marker, "sig": significance_text(c, cfg)})
    df = pd.DataFrame(rows, columns=["kpi", "value", "prev", "change", "sig"])
    df.columns = [i18n.t("col_kpi", lang), this, prev, i18n.t("col_change", lang), i18n.t("col_significance", lang)]
    return Table(df, cfg, {this: "numtext", prev: "numtext", i18n.t("col_change", lang): "numtext"})


def describe_changes(changes, labels: Mapping[str, str], kinds: Mapping[str, str], cfg: RunConfig) -> list[str]:
    """Sentences about the changes since the comparison period, in the
    client's language: each significant change (largest first, by p-value),
    each change that has no test, then the KPIs that did not change
    significantly, then those with too little data to judge. KPIs without
    a value in either period are left out."""
    changes = shown(changes)
    lang = cfg.language
    sig = sorted((c for c in changes if c.significant), key=lambda c: (c.p_value, c.key))
    untested = [c for c in changes if c.verdict == "untested" and c.delta]
    flat = [c for c in changes if c.verdict == "not_significant"]
    little = [c for c in changes if c.verdict == "too_little_data"]
    out = []
    for c in sig + untested:
        kind = kinds.get(c.key, "num")
        f = fmt_kpi(kind, cfg)
        key = "change_untested" if c in untested else f"change_{c.direction}_sig"
        out.append(i18n.t(key, lang, label=labels.get(c.key, c.key), prev=f(c.prev), value=f(c.value),
                          delta=fmt_delta(c, kind, cfg)))
    if flat:
        if sig:
            out.append(i18n.t("changes_none_sig", lang, labels=", ".join(labels.get(c.key, c.key) for c in flat)))
        else:
            out.append(i18n.t("changes_all_none_sig", lang, prev_period=cfg.period.previous().label(lang)))
    if little:
        out.append(i18n.t("changes_too_little", lang, labels=", ".join(labels.get(c.key, c.key) for c in little)))
    return out


class Narrative:
    """Generated sentences shown as one paragraph list (HTML-escaped)."""

    def __init__(self, sentences: list[str]):
        self.sentences = list(sentences)

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{html.escape(s)}</li>" for s in self.sentences)
        return f'<ul class="jk-narrative">{items}</ul>'

    def __repr__(self) -> str:
        return "\n".join(f"- {s}" for s in self.sentences)




class Blocks:
    """Several blocks shown one after the other (one notebook output)."""

    def __init__(self, blocks: list):
        self.blocks = [b for b in blocks if b is not None]

    def _repr_html_(self) -> str:
        out = []
        for b in self.blocks:
            out.append(b._repr_html_() if hasattr(b, "_repr_html_") else f"<p>{html.escape(str(b))}</p>")
        return "".join(out)

    def __repr__(self) -> str:
        return "\n\n".join(repr(b) for b in self.blocks)


def key_figures(changes, labels: Mapping[str, str], kinds: Mapping[str, str], cfg: RunConfig) -> Blocks:
    """A section's key figures: the period-over-period table
    (:func:`kpi_table`) and the sentences about what changed
    (:func:`describe_changes`), in the client's language. Every section
    shows its KPIs with this one call."""
    return Blocks([kpi_table(changes, labels, kinds, cfg),
                   Narrative(describe_changes(changes, labels, kinds, cfg))])


def narrative(sentences: list[str], cfg: RunConfig | None = None, empty_key: str | None = None) -> Narrative | Note | None:
    """Generated sentences as a paragraph list; with ``empty_key``, the
    i18n text shown (as a note) when there is nothing to say; otherwise
    ``None`` then, so a notebook cell shows nothing."""
    if sentences:
        return Narrative(sentences)
    if empty_key and cfg is not None:
        return Note(i18n.t(empty_key, cfg.language))
    return None
