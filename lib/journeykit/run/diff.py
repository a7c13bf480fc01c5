"""``journeykit diff``: what changed since last month's report.

Compares the published report of a period with the one of the month before
(their ``metrics.json``): each scorecard KPI's value and verdict then and
now, and the sections whose status changed. Nothing is recomputed.
"""

from __future__ import annotations

import json

from journeykit.core.config import RunConfig
from journeykit.core.errors import ConfigError
from journeykit.report import formats
from journeykit.sections.summary import compute as summary


def _read(cfg: RunConfig, period: str) -> dict | None:
    path = cfg.root / "reports" / cfg.client / period / "metrics.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def compare(cfg: RunConfig) -> dict:
    """The two reports side by side: ``rows`` (every scorecard KPI with its
    value and verdict now and then, and ``what`` from
    :func:`journeykit.sections.summary.compute.since_last_report`, ``same``
    for an unchanged verdict), ``statuses`` (sections whose status changed:
    name, then, now) and both periods.

    Raises
    ------
    ConfigError
        When the period's report has not been rendered.
    """
    now = _read(cfg, str(cfg.period))
    if now is None:
        raise ConfigError(f"no report of {cfg.client} for {cfg.period} in reports/{cfg.client}/{cfg.period}/",
                          fix=f"render it first: journeykit run --client {cfg.client} --period {cfg.period}")
    then = _read(cfg, str(cfg.comparison))
    sections, before = now.get("sections", {}), (then or {}).get("sections")
    moved = {(r["section"], r["key"]): r["what"] for r in summary.since_last_report(sections, before)}
    old = {(r.section, r.change.key): r for r in summary.scorecard(before or {})}
    rows = []
    for r in summary.scorecard(sections):
        o = old.get((r.section, r.change.key))
        rows.append({"label": r.label, "kind": r.kind, "value": r.change.value, "verdict": r.change.verdict,
                     "direction": r.change.direction, "value_then": o.change.value if o else None,
                     "verdict_then": o.change.verdict if o else None,
                     "what": moved.get((r.section, r.change.key), "same" if o else "new_kpi")})
    statuses = [(name, (before or {}).get(name, {}).get("status"), sec.get("status"))
                for name, sec in sections.items() if (before or {}).get(name, {}).get("status") != sec.get("status")]
    return {"client": cfg.client, "period": str(cfg.period), "previous": str(cfg.comparison),
            "has_previous": then is not None, "currency": cfg.currency, "rows": rows, "statuses": statuses}


_MARKS = {"en": {"new": "NEW", "ended": "ended", "reversed": "REVERSED", "continued": "again", "same": "",
                 "new_kpi": "new KPI"},
          "ko": {"new": "새로 유의", "ended": "유의 해제", "reversed": "방향 반전", "continued": "계속", "same": "",
                 "new_kpi": "새 지표"}}


def describe(cmp: dict, language: str = "en") -> list[str]:
    """:func:`compare` as lines of text for the terminal, in ``language``:
    a header, one row per scorecard KPI (value then → now, verdict then →
    now, what moved), then the sections whose status changed."""
    from journeykit.core import i18n

    def verdict(v: str | None, direction: str | None = None) -> str:
        if not v:
            return "-"
        word = i18n.t(f"verdict_{v}", language)
        return word + ({"up": " ▲", "down": " ▼"}.get(direction or "", "") if v == "significant" else "")

    out = [f"{cmp['client']}: {cmp['period']} against the {cmp['previous']} report"]
    if not cmp["has_previous"]:
        out.append(f"  no report for {cmp['previous']}: nothing to compare with")
    rows = [(r["label"], _fmt(r["kind"], cmp["currency"])(r["value_then"]), _fmt(r["kind"], cmp["currency"])(r["value"]),
             verdict(r["verdict_then"]), verdict(r["verdict"], r["direction"]), _MARKS[language][r["what"]])
            for r in cmp["rows"]]
    head = ("KPI", cmp["previous"], cmp["period"], f"{cmp['previous']} verdict", f"{cmp['period']} verdict", "")
    widths = [max(len(str(x[i])) for x in [head, *rows]) for i in range(6)]
    for i, row in enumerate([head, *rows]):
        out.append("  " + "  ".join(str(v).rjust(w) if k in (1, 2) else str(v).ljust(w)
                                    for k, (v, w) in enumerate(zip(row, widths))).rstrip())
        if i == 0:
            out.append("  " + "  ".join("-" * w for w in widths).rstrip())
    for name, before, now in cmp["statuses"]:
        out.append(f"  section {name}: {before or 'absent'} → {now}")
    return out


def _fmt(kind: str, currency: str):
    if kind == "pct":
        return lambda x: formats.fmt_pct(x, 2)
    if kind == "money":
        return lambda x: formats.fmt_money(x, currency)
    if kind == "nps":
        return lambda x: "–" if formats.is_missing(x) else f"{float(x) * 100:.1f}"
    if kind == "int":
        return formats.fmt_int
    return formats.fmt_num
