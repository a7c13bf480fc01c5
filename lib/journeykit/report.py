"""What a section notebook shows and records: tables, notes, metrics.

A section notebook ends with ``report.record(section, metrics)``, which
emits the metrics as a custom MIME output; the runner reads it back from
the executed notebook into ``metrics.json``. A section whose tables are
missing calls ``report.require(...)``, which shows a short note and stops
the notebook with ``SectionNotAvailable``; the runner records it as
``not_available``.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import os
import re
from pathlib import Path
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from . import i18n
from .config import RunConfig
from .errors import SectionNotAvailable

METRICS_MIME = "application/vnd.journeykit.metrics+json"
STATUSES = ("ok", "not_available", "failed")

CURRENCY_SYMBOLS = {"KRW": "₩", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "¥"}

# The stable schema of metrics.json (DESIGN.md, "Parameters and outputs").
METRICS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["client", "period", "generated_at", "sections"],
    "additionalProperties": False,
    "properties": {
        "client": {"type": "string"},
        "client_name": {"type": "string"},
        "language": {"enum": ["en", "ko"]},
        "period": {"type": "string", "pattern": r"^\d{4}-\d{2}$"},
        "generated_at": {"type": "string"},
        "journeykit_version": {"type": "string"},
        "engine": {"enum": ["duckdb", "spark"]},
        "sections": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["status", "metrics"],
                "properties": {
                    "status": {"enum": list(STATUSES)},
                    "metrics": {"type": ["object", "null"]},
                    "error": {"type": "string"},
                    "needs": {"type": "array", "items": {"type": "string"}},
                    "title": {"type": "string"},
                    "retried": {"type": "boolean"},
                    "seconds": {"type": "number"},
                    "engine": {"type": "string"},
                },
            },
        },
    },
}


# --------------------------------------------------------------------------
# Formatting (display only: numbers stay numbers, rates stay 0-1 in code)
# --------------------------------------------------------------------------

def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NaT or (
        not isinstance(x, (str, bytes)) and pd.api.types.is_scalar(x) and pd.isna(x))


def fmt_int(x: Any) -> str:
    """``12345`` → ``12,345``; missing → ``–``."""
    return "–" if _missing(x) else f"{int(round(float(x))):,}"


def fmt_num(x: Any, digits: int = 1) -> str:
    """A number with thousands separators and ``digits`` decimals."""
    return "–" if _missing(x) else f"{float(x):,.{digits}f}"


def fmt_pct(x: Any, digits: int = 1) -> str:
    """A 0–1 rate as a percentage: ``0.1234`` → ``12.3%``."""
    return "–" if _missing(x) else f"{100 * float(x):.{digits}f}%"


def fmt_money(x: Any, currency: str) -> str:
    """An amount with the currency's symbol; no decimals for KRW and JPY."""
    if _missing(x):
        return "–"
    sym = CURRENCY_SYMBOLS.get(currency, currency + " ")
    digits = 0 if currency in ("KRW", "JPY") else 2
    sign = "-" if float(x) < 0 else ""
    return f"{sign}{sym}{abs(float(x)):,.{digits}f}"


def fmt_date(x: Any) -> str:
    """A date or timestamp as ``YYYY-MM-DD``."""
    return "–" if _missing(x) else pd.Timestamp(x).strftime("%Y-%m-%d")


def formatter(kind: str, cfg: RunConfig):
    """The display function for a column kind: int, num (1 decimal), num2
    (2 decimals), pct, money, date, text, or numtext (text already formatted, right-aligned like a number)."""
    return {
        "int": fmt_int,
        "num": fmt_num,
        "pct": fmt_pct,
        "money": lambda x: fmt_money(x, cfg.currency),
        "date": fmt_date,
        "text": lambda x: "–" if _missing(x) else str(x),
        "num2": lambda x: fmt_num(x, 2),
        "numtext": lambda x: "–" if _missing(x) else str(x),   # already formatted, aligned as a number
    }[kind]


class Table:
    """A client-facing table: formatted, escaped, without the index.

    Displays as HTML in notebooks and in the rendered report.
    """

    def __init__(self, df: pd.DataFrame, cfg: RunConfig, formats: Mapping[str, str] | None = None,
                 caption: str | None = None):
        self.df = df
        self.cfg = cfg
        self.formats = dict(formats or {})
        self.caption = caption

    def cells(self) -> pd.DataFrame:
        """The formatted cell strings (unescaped)."""
        out = {}
        for col in self.df.columns:
            kind = self.formats.get(col, "text")
            out[col] = [formatter(kind, self.cfg)(v) for v in self.df[col]]
        return pd.DataFrame(out, columns=self.df.columns)

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


# --------------------------------------------------------------------------
# Period over period: the KPI table and the sentences about it
# --------------------------------------------------------------------------

def fmt_delta(change, kind: str, cfg: RunConfig) -> str:
    """A change for display: percentage points for rates (``+1.2 pp``,
    Korean ``+1.2%p``), NPS in points (``+3.0``), otherwise relative
    (``+12.3%``); ``–`` when there is no comparison."""
    d = change.delta
    if d is None:
        return "–"
    sign = "+" if d > 0 else ("−" if d < 0 else "±")
    if kind == "pct":
        digits = 2 if abs(d) < 0.001 else 1   # a change under 0.1 pp would read "+0.0 pp"
        return i18n.t("pp", cfg.language, sign=sign, x=f"{abs(d) * 100:.{digits}f}")
    if kind == "nps":
        return f"{sign}{abs(d) * 100:.1f}"
    r = change.rel_delta
    if r is None:
        return f"{sign}{formatter(kind, cfg)(abs(d))}"
    return f"{sign}{abs(r) * 100:.1f}%"


def fmt_kpi(kind: str, cfg: RunConfig):
    """The display function for a KPI of ``kind`` (``nps`` shown ×100;
    rates under 5 % with two decimals, so 0.84 % and 0.79 % differ)."""
    if kind == "pct":
        return lambda x: fmt_pct(x, 2 if not _missing(x) and abs(float(x)) < 0.05 else 1)
    if kind == "nps":
        return lambda x: "–" if _missing(x) else f"{float(x) * 100:.1f}"
    return formatter(kind, cfg)


def _p(p: float | None) -> str:
    """``= 0.012`` or ``< 0.001`` (to follow a ``p``)."""
    if p is None:
        return "–"
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


def significance_text(change, cfg: RunConfig) -> str:
    """``significant (p = 0.012)`` / ``not significant (p = 0.4)`` / ``too little data``."""
    return i18n.t(f"sig_{change.verdict}", cfg.language, p=_p(change.p_value))


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


# --------------------------------------------------------------------------
# Exports: target lists for the client, pseudonymized
# --------------------------------------------------------------------------

EXPORTS_ENV = "JOURNEYKIT_EXPORTS"
_PII = ("email", "name", "phone", "comment")


def export(name: str, df: pd.DataFrame, cfg: RunConfig, id_column: str = "customer_id"):
    """Write ``exports/<name>.csv`` of the report being rendered.

    The ``id_column`` is replaced by keyed-hash pseudonyms
    (:mod:`journeykit.privacy`); a frame with a personal-data column is
    refused. Outside a report run (an analyst's notebook) nothing is written
    and ``None`` is returned; inside one, the path written.
    """
    from . import privacy

    bad = [c for c in df.columns if str(c).lower() in _PII]
    if bad:
        raise ValueError(f"export {name!r} has personal-data columns {bad}: drop them")
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        raise ValueError(f"export name {name!r}: use letters, digits, '_' and '-'")
    out = privacy.pseudonymize_frame(df, cfg, id_column) if id_column in df.columns else df
    folder = os.environ.get(EXPORTS_ENV)
    if not folder:
        return None
    path = Path(folder) / f"{name}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(path, index=False, encoding="utf-8")
    return path


# --------------------------------------------------------------------------
# Section status and metrics
# --------------------------------------------------------------------------

def require(cfg: RunConfig, ds, *tables: str, section: str | None = None, keys=(), prev: bool = True) -> None:
    """Stop the section with a "not available" note unless every table exists.

    With ``section`` and ``keys`` (the section's stable metric keys), the
    section still records every key (and, with ``prev``, its ``_prev``) as
    ``null`` before it stops, so ``metrics.json`` keeps its stable shape.

    Raises
    ------
    SectionNotAvailable
        Naming the missing tables; the runner records ``not_available``.
    """
    missing = ds.missing(*tables)
    if not missing:
        return
    from IPython.display import display

    names = ", ".join(i18n.table_name(t, cfg.language) for t in missing)
    display(Note(i18n.t("not_available_body", cfg.language, tables=names, client=cfg.name), "warn"))
    if section:
        record(section, {k: None for key in keys for k in ((key, f"{key}_prev") if prev else (key,))})
    raise SectionNotAvailable(f"needs table(s): {', '.join(missing)}")


def jsonable(value: Any) -> Any:
    """Convert numpy/pandas values to plain JSON: NaN and NaT become ``None``."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date)):
        return None if _missing(value) else value.isoformat()
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(float(value)) or math.isinf(float(value)) else float(value)
    if value is None or isinstance(value, str):
        return value
    if _missing(value):
        return None
    raise TypeError(f"metric value of type {type(value).__name__} is not JSON: {value!r}")


def record(section: str, metrics: Mapping[str, Any], *, changes=None, labels: Mapping[str, str] | None = None,
           kinds: Mapping[str, str] | None = None, trend: pd.DataFrame | None = None) -> dict[str, Any]:
    """Emit a section's results for the runner (and show them to the analyst).

    Parameters
    ----------
    section : str
        The notebook's name, e.g. ``"00_data_quality"``.
    metrics : mapping
        KPI name → number, string, list or mapping. Rates are 0–1.
    changes : list of :class:`journeykit.compare.Change`, optional
        The period-over-period tests the section showed; saved with their
        ``labels`` and ``kinds`` so the summary reuses them, never recomputes.
    trend : DataFrame, optional
        One row per month (column ``month``), a column per KPI: the trend the
        section charted, for the summary's sparklines.
    """
    from IPython.display import display

    from . import io

    data = {"section": section, "metrics": jsonable(dict(metrics))}
    if io.ENGINES_OPENED:
        data["engine"] = ",".join(sorted(io.ENGINES_OPENED))
    if changes:
        data["changes"] = [change_record(c, (labels or {}).get(c.key, c.key), (kinds or {}).get(c.key, "num"))
                           for c in changes]
    if trend is not None and len(trend):
        t = trend.sort_values("month")
        data["trend"] = {"month": [pd.Timestamp(m).strftime("%Y-%m") for m in t["month"]],
                         **{c: jsonable(t[c].tolist()) for c in t.columns
                            if c != "month" and pd.api.types.is_numeric_dtype(t[c])}}
    lines = "\n".join(f"- `{k}`: {v}" for k, v in data["metrics"].items())
    display({METRICS_MIME: data, "text/markdown": f"**metrics recorded for {section}**\n\n{lines}",
             "text/plain": f"metrics recorded for {section}"}, raw=True)
    return data


def change_record(change, label: str, kind: str) -> dict[str, Any]:
    """A :class:`journeykit.compare.Change` as plain JSON for metrics.json."""
    return jsonable({"key": change.key, "label": label, "kind": kind, "value": change.value, "prev": change.prev,
                     "delta": change.delta, "rel_delta": change.rel_delta, "p_value": change.p_value,
                     "test": change.test, "verdict": change.verdict, "direction": change.direction,
                     "good": change.good, "higher_is_better": change.higher_is_better})


def read_payload(nb) -> dict[str, Any] | None:
    """Everything a section recorded (metrics, changes, trend), or None."""
    found = None
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if METRICS_MIME in data:
                found = data[METRICS_MIME]
    return found


RUN_ENV = "JOURNEYKIT_RUN_RESULTS"


def run_results(cfg: RunConfig) -> dict[str, Any]:
    """The sections already rendered for this client and period: inside a
    report run, the results of the sections that ran before this one;
    otherwise (an analyst's notebook) the published ``metrics.json``, if
    any. Returns the ``sections`` mapping of metrics.json (``{}`` if none)."""
    import json

    for path in (os.environ.get(RUN_ENV), cfg.report_dir / "metrics.json"):
        if path and Path(path).is_file():
            try:
                return json.loads(Path(path).read_text(encoding="utf-8")).get("sections", {})
            except ValueError:
                return {}
    return {}


def read_metrics(nb) -> dict[str, Any] | None:
    """The metrics a section recorded, from its executed notebook (or None)."""
    payload = read_payload(nb)
    return payload.get("metrics") if payload else None
