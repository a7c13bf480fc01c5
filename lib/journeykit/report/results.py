"""What a section records, and the documents a run writes from it.

A section notebook ends with ``report.record(section, metrics)``, which
emits the metrics as a custom MIME output; the runner reads it back from
the executed notebook into a :class:`SectionResult`, and writes every
section's result into ``metrics.json`` (:func:`metrics_document`, schema
:data:`METRICS_SCHEMA`). Target lists go through :func:`export`
(pseudonymized, written only inside a report run); the summary reads the
other sections' results through :func:`run_results`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
import math
import re
from pathlib import Path
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from journeykit.core.config import RunConfig
from journeykit.report.formats import is_missing

METRICS_MIME = "application/vnd.journeykit.metrics+json"
STATUSES = ("ok", "not_available", "failed")

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
        "currency": {"type": "string", "pattern": r"^[A-Z]{3}$"},
        "inputs_digest": {"type": ["string", "null"]},
        "settings_digest": {"type": "string"},
        "timezone": {"type": "string"},
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
                    "retried": {"type": "boolean"},   # before run.json (journeykit 0.x reports)
                    "seconds": {"type": "number"},    # idem
                    "engine": {"type": "string"},
                },
            },
        },
    },
}


# --------------------------------------------------------------------------
# Exports: target lists for the client, pseudonymized
# --------------------------------------------------------------------------

_PII = ("email", "name", "phone", "comment")


def export(name: str, df: pd.DataFrame, cfg: RunConfig, id_column: str = "customer_id"):
    """Write ``exports/<name>.csv`` of the report being rendered.

    The ``id_column`` is replaced by keyed-hash pseudonyms
    (:mod:`journeykit.core.privacy`) and every other text passes
    :func:`~journeykit.core.privacy.mask_text`; a frame with a personal-data
    column is refused. Outside a report run (an analyst's notebook) nothing
    is written and ``None`` is returned; inside one, the path written.
    """
    from journeykit.core import privacy

    bad = [c for c in df.columns if str(c).lower() in _PII]
    if bad:
        raise ValueError(f"export {name!r} has personal-data columns {bad}: drop them")
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        raise ValueError(f"export name {name!r}: use letters, digits, '_' and '-'")
    out = privacy.pseudonymize_frame(df, cfg, id_column) if id_column in df.columns else df
    out = privacy.mask_frame(out, skip=[id_column])
    if cfg.run is None:
        return None
    path = Path(cfg.run.exports) / f"{name}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(path, index=False, encoding="utf-8")
    return path


# --------------------------------------------------------------------------
# Section status and metrics
# --------------------------------------------------------------------------

def jsonable(value: Any) -> Any:
    """Convert numpy/pandas values to plain JSON: NaN and NaT become ``None``."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date)):
        return None if is_missing(value) else value.isoformat()
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(float(value)) or math.isinf(float(value)) else float(value)
    if value is None or isinstance(value, str):
        return value
    if is_missing(value):
        return None
    raise TypeError(f"metric value of type {type(value).__name__} is not JSON: {value!r}")


def peak_memory_mb() -> float:
    """The peak resident memory of this process since it started or since
    its peak mark was last reset, in MB: Linux's ``VmHWM``, which a report
    kernel resets before each section
    (:func:`journeykit.run.kernel.fresh_section`), so at :func:`record`
    time this is the section's own peak; elsewhere ``getrusage``'s
    ``ru_maxrss`` (the process's peak)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def without_prev(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """``metrics`` with every number or text under a ``<key>_prev`` key set
    to ``None``: what a section records when its comparison period lies
    wholly before the client's data (its changes say
    ``no_earlier_data``, :func:`journeykit.stats.compare.before_data`),
    so a month before the data is "no data" in metrics.json, not 0.
    Mappings and lists under ``_prev`` keys (funnels, fitted models with
    their status) are kept: they say themselves what was found."""
    return {k: (None if k.endswith("_prev") and not isinstance(v, (Mapping, list, tuple)) else v)
            for k, v in metrics.items()}


def record(section: str, metrics: Mapping[str, Any], *, changes=None, labels: Mapping[str, str] | None = None,
           kinds: Mapping[str, str] | None = None, trend: pd.DataFrame | None = None,
           advice: Mapping[str, Mapping[str, Any]] | None = None,
           timings: Mapping[str, float] | None = None) -> dict[str, Any]:
    """Emit a section's results for the runner (and show them to the analyst).

    Parameters
    ----------
    section : str
        The notebook's name, e.g. ``"00_data_quality"``.
    metrics : mapping
        KPI name → number, string, list or mapping. Rates are 0–1.
    changes : list of :class:`journeykit.stats.compare.Change`, optional
        The period-over-period tests the section showed; saved with their
        ``labels`` and ``kinds`` so the summary reuses them, never recomputes.
    advice : mapping, optional
        The section's advice for significant changes
        (:data:`journeykit.report.blocks.Advice`), recorded with each change
        so the runner words it again when it judges the whole report.
    trend : DataFrame, optional
        One row per month (column ``month``), a column per KPI: the trend the
        section charted, for the summary's sparklines.
    timings : mapping, optional
        How long parts of the section took (seconds, e.g. ``fit_seconds``):
        kept apart from the metrics, in the run's ``run.json``, since they
        differ from run to run. ``peak_memory_mb`` (:func:`peak_memory_mb`)
        is always added.

    When the changes say the comparison period lies before the data
    (``no_earlier_data``), the ``_prev`` numbers are recorded as ``None``
    (:func:`without_prev`), whatever the section computed for that month.

    Text values (and mapping keys) pass :func:`journeykit.core.privacy.mask_text`:
    an e-mail address, phone number or URL query in a client's category
    name never reaches metrics.json.
    """
    from IPython.display import display

    from journeykit.core import privacy
    from journeykit.data.dataset import ENGINES_OPENED

    if changes and any(getattr(c, "test", None) == "no_earlier_data" for c in changes):
        metrics = without_prev(metrics)
    data = {"section": section, "metrics": privacy.mask_values(jsonable(dict(metrics)))}
    # the section's kernel is its own process: its peak resident memory so far is the section's (run.json, bench)
    data["timings"] = jsonable({**dict(timings or {}), "peak_memory_mb": peak_memory_mb()})
    if ENGINES_OPENED:
        data["engine"] = ",".join(sorted(ENGINES_OPENED))
    if changes:
        data["changes"] = privacy.mask_values(
            [change_record(c, (labels or {}).get(c.key, c.key), (kinds or {}).get(c.key, "num"), (advice or {}).get(c.key))
             for c in changes])
    if trend is not None and len(trend):
        t = trend.sort_values("month")
        data["trend"] = {"month": [pd.Timestamp(m).strftime("%Y-%m") for m in t["month"]],
                         **{c: jsonable(t[c].tolist()) for c in t.columns
                            if c != "month" and pd.api.types.is_numeric_dtype(t[c])}}
    lines = "\n".join(f"- `{k}`: {v}" for k, v in data["metrics"].items())
    display({METRICS_MIME: data, "text/markdown": f"**metrics recorded for {section}**\n\n{lines}",
             "text/plain": f"metrics recorded for {section}"}, raw=True)
    return data


def change_record(change, label: str, kind: str, advice: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A :class:`journeykit.stats.compare.Change` as plain JSON for metrics.json.

    Stable keys: ``key``, ``verdict``, ``direction`` and ``p_value``. Also:
    the values (``value``, ``prev``, ``value_last_year``), the quantity
    tested when it differs from them (``value_tested``, ``prev_tested``,
    ``basis``: ``per_day`` for counts), ``delta`` and ``rel_delta`` of that
    quantity, ``test``, ``n``/``n_prev`` (trials, units or days),
    ``q_value`` (Benjamini–Hochberg over ``family_size`` tests of ``scope``
    ``section`` or ``report``), ``alpha`` (the false discovery rate),
    ``meaningful`` and ``min_effect`` (the minimum size it was held to),
    ``impact`` (:func:`journeykit.stats.compare.impact`), ``good``, and the
    ``advice`` for a significant change by direction (``{"down": {"text":
    i18n key, "params": {…}}}``)."""
    from journeykit.stats.compare import impact

    rec = {"key": change.key, "label": label, "kind": kind, "change_kind": change.kind, "value": change.value, "prev": change.prev,
           "delta": change.delta, "rel_delta": change.rel_delta, "p_value": change.p_value,
           "q_value": change.q_value, "test": change.test, "verdict": change.verdict, "direction": change.direction,
           "good": change.good, "higher_is_better": change.higher_is_better, "n": change.n, "n_prev": change.n_prev,
           "meaningful": change.meaningful, "min_effect": change.min_effect, "alpha": change.alpha,
           "scope": change.scope, "family_size": change.family_size, "impact": impact(change),
           "value_last_year": change.value_last_year}
    if change.tested is not None:
        rec.update(value_tested=change.tested[0], prev_tested=change.tested[1], basis=change.basis)
    if advice:
        rec["advice"] = {d: ({"text": a, "params": {}} if isinstance(a, str) else {"text": a[0], "params": dict(a[1])})
                         for d, a in advice.items()}
    return jsonable(rec)


def change_from_record(rec: Mapping[str, Any]):
    """The :class:`journeykit.stats.compare.Change` a section recorded
    (:func:`change_record`), verdict included, with nothing recomputed. A
    record without ``verdict`` inputs of its own (an older report) keeps its
    recorded significance through its ``p_value``."""
    from journeykit.stats.compare import ALPHA, Change

    tested = (rec.get("value_tested"), rec.get("prev_tested")) if "value_tested" in rec else None
    verdict = rec.get("verdict")
    meaningful = False if verdict == "too_small" else rec.get("meaningful")
    return Change(rec["key"], rec.get("value"), rec.get("prev"), rec.get("change_kind") or _kind(rec),
                  rec.get("p_value"),
                  rec.get("test"), verdict != "too_little_data", rec.get("higher_is_better", True),
                  rec.get("n"), rec.get("n_prev"), tested=tested, basis=rec.get("basis"), q_value=rec.get("q_value"),
                  meaningful=meaningful, min_effect=rec.get("min_effect"), alpha=rec.get("alpha") or ALPHA,
                  scope=rec.get("scope"),
                  family_size=rec.get("family_size"), value_last_year=rec.get("value_last_year"))


def _kind(rec: Mapping[str, Any]) -> str:
    """The test kind of a recorded change (``rate``, ``count``, …), from its
    display kind and test (records keep the display kind in ``kind``)."""
    test = (rec.get("test") or "").lower()
    if rec.get("basis") == "per_day" or "poisson" in test:
        return "count"
    if "nps" in test:
        return "nps"
    if "binomial" in test or "proportion" in test:
        return "rate"
    if "welch" in test:
        return "mean"
    return "value"


def read_payload(nb) -> dict[str, Any] | None:
    """Everything a section recorded (metrics, changes, trend), or None."""
    found = None
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if METRICS_MIME in data:
                found = data[METRICS_MIME]
    return found


def run_results(cfg: RunConfig) -> dict[str, Any]:
    """The sections already rendered for this client and period: inside a
    report run, the results of the sections that ran before this one;
    otherwise (an analyst's notebook) the published ``metrics.json``, if
    any. Returns the ``sections`` mapping of metrics.json (``{}`` if none)."""
    import json

    for path in (cfg.run.results if cfg.run else None, cfg.report_dir / "metrics.json"):
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


# --------------------------------------------------------------------------
# The run's documents
# --------------------------------------------------------------------------

@dataclass
class SectionResult:
    """The outcome of one section of a run."""

    name: str
    title: str
    status: str  # ok | not_available | failed
    metrics: dict | None = None
    changes: list | None = None
    trend: dict | None = None
    error: str | None = None
    needs: list[str] = field(default_factory=list)
    seconds: float = 0.0
    retried: bool = False
    engine: str | None = None
    """The engine(s) the section's queries ran on, as its kernel reported."""
    timings: dict | None = None
    """How long parts of the section took (seconds), as it recorded them: run.json, not metrics.json."""
    timed_out: bool = False
    """Stopped at ``report.section_timeout_minutes``."""
    body_html: str = ""

    @property
    def href(self) -> str:
        return f"{self.name}.html"


SIGNIFICANT_DIGITS = 10
"""Significant digits of the fractional numbers in metrics.json."""


def rounded(value: Any, digits: int = SIGNIFICANT_DIGITS) -> Any:
    """``value`` (plain JSON) with every fractional number rounded to
    ``digits`` significant digits; whole numbers are kept exact.

    Sums over doubles depend on the order they are added in, and DuckDB adds
    in parallel: two runs on the same data differ in the 16th digit (a
    standard deviation, a p-value, a delta). Rounded, metrics.json is the
    same byte for byte for the same inputs.
    """
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")) or value.is_integer():
            return value
        return float(f"{value:.{digits}g}")
    if isinstance(value, dict):
        return {k: rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v, digits) for v in value]
    return value


def metrics_document(cfg: RunConfig, results: list[SectionResult], generated_at: str) -> dict:
    """The metrics.json document (schema: :data:`METRICS_SCHEMA`): the run's
    client, period, currency and time zone (the unit of every money value
    and the calendar of every period), and each section's status, metrics,
    the changes it tested and the trend it charted — what the data and the
    settings determine, numbers :func:`rounded`, so the same inputs give the
    same document apart from ``generated_at``. How the run went (seconds,
    retries, time-outs) is in run.json (:func:`journeykit.run.runner.run_document`)."""
    from journeykit import __version__

    sections = {}
    for r in sorted(results, key=lambda r: r.name):
        entry: dict = {"status": r.status, "title": r.title, "metrics": r.metrics if r.status != "failed" else None}
        if r.error:
            entry["error"] = r.error
        if r.needs:
            entry["needs"] = r.needs
        if r.engine:
            entry["engine"] = r.engine
        if r.status != "failed" and r.changes:
            entry["changes"] = r.changes
        if r.status != "failed" and r.trend:
            entry["trend"] = r.trend
        sections[r.name] = entry
    return {"client": cfg.client, "client_name": cfg.name, "language": cfg.language, "period": str(cfg.period),
            "currency": cfg.currency, "timezone": cfg.timezone,
            "generated_at": generated_at, "journeykit_version": __version__, "engine": cfg.engine.backend,
            "sections": rounded(sections)}
