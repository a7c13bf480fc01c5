"""Data quality: what was loaded, checked, repaired and dropped (section 00).

Every function reads a :class:`journeykit.data.loader.Dataset` and returns a small
pandas frame with canonical (English) column names; the notebook renames
them for display in the client's language.
"""

from __future__ import annotations

import ibis
import pandas as pd

from journeykit.data import schemas
from journeykit.data.loader import Dataset


def tables_overview(ds: Dataset) -> pd.DataFrame:
    """One row per canonical table: how it was loaded and what it covers.

    Columns
    -------
    table, status (loaded | empty | derived | missing), source, format,
    encoding, rows_read, rows_loaded, rows_in_scope (time column before the
    period end), rows_after_end (loaded but after the period end, so unused),
    first, last (earliest and latest time-column value in scope).
    """
    rows = []
    for name, spec in schemas.SPECS.items():
        load = ds.report.tables.get(name)
        row = {"table": name, "status": "missing", "source": None, "format": None, "encoding": None,
               "rows_read": None, "rows_loaded": None, "rows_in_scope": None, "rows_after_end": None,
               "first": None, "last": None}
        if load is not None:
            row.update(status=load.status, source=load.source, format=load.format, encoding=load.encoding,
                       rows_read=load.rows_read if load.status != "derived" else None,
                       rows_loaded=load.rows_loaded)
        if name in ds.tables:
            scoped = ds.table(name)
            col = scoped[spec.time_column]
            stats = scoped.aggregate(n=scoped.count(), first=col.min(), last=col.max()).to_pandas().iloc[0]
            total = int(ds.raw(name).count().to_pandas())
            row.update(rows_in_scope=int(stats["n"]), rows_after_end=total - int(stats["n"]),
                       first=stats["first"], last=stats["last"])
        rows.append(row)
    return pd.DataFrame(rows)


def checks(ds: Dataset) -> pd.DataFrame:
    """Every validation run at load: table, check, column, failing_rows, result.

    ``result`` is ``passed``, or ``repaired`` when failing rows were repaired
    (the load stops on any failure it cannot repair, so ``failed`` only
    appears in the error message, never here).
    """
    rows = []
    for name, load in ds.report.tables.items():
        for c in load.checks:
            rows.append({"table": name, "check": c.check, "column": c.column,
                         "failing_rows": c.failing_rows,
                         "result": "passed" if c.passed else "repaired"})
    return pd.DataFrame(rows, columns=["table", "check", "column", "failing_rows", "result"])


def repairs(ds: Dataset) -> pd.DataFrame:
    """Rows repaired or dropped at load: table, kind, what, rows, why, detail."""
    rows = [{"table": name, "kind": r.kind, "what": r.what, "rows": r.rows, "why": r.why, "detail": r.detail}
            for name, load in ds.report.tables.items() for r in load.repairs]
    for name, load in ds.report.tables.items():
        if load.status == "empty":
            rows.append({"table": name, "kind": "empty_table", "what": "header-only file", "rows": 0,
                         "why": load.note, "detail": ""})
    return pd.DataFrame(rows, columns=["table", "kind", "what", "rows", "why", "detail"])


def column_mapping(ds: Dataset) -> pd.DataFrame:
    """How the client's columns map to canonical ones: table, canonical, client_column."""
    rows = [{"table": name, "canonical": canon, "client_column": src}
            for name, load in ds.report.tables.items() for canon, src in load.columns.items()]
    return pd.DataFrame(rows, columns=["table", "canonical", "client_column"])


def not_loaded(ds: Dataset) -> pd.DataFrame:
    """Client columns that were not loaded: table, column, reason (pii | unused)."""
    rows = []
    for name, load in ds.report.tables.items():
        rows += [{"table": name, "column": c, "reason": "pii"} for c in load.pii_dropped]
        rows += [{"table": name, "column": c, "reason": "unused"} for c in load.unused_columns]
    return pd.DataFrame(rows, columns=["table", "column", "reason"])


def unmapped_event_types(ds: Dataset) -> pd.DataFrame:
    """Event names kept as they are because no canonical type was mapped:
    event_type, events (count over everything loaded)."""
    load = ds.report.tables.get("events")
    items = (load.unmapped_event_types if load else {}).items()
    return pd.DataFrame([{"event_type": k, "events": v} for k, v in items], columns=["event_type", "events"])


def monthly_rows(ds: Dataset, months: int = 24) -> pd.DataFrame:
    """Rows per calendar month for each available table, over the ``months``
    months ending with the period: table, month (first day), rows."""
    start = ds.cfg.period.shift(-(months - 1)).start
    frames = []
    for name in ds.tables:
        t = ds.table(name)
        col = t[schemas.SPECS[name].time_column]
        t = t.filter(col >= ibis.timestamp(pd.Timestamp(start).to_pydatetime()))
        agg = t.group_by(month=col.truncate("M")).aggregate(rows=t.count()).to_pandas()
        agg["table"] = name
        frames.append(agg)
    if not frames:
        return pd.DataFrame(columns=["table", "month", "rows"])
    out = pd.concat(frames, ignore_index=True)[["table", "month", "rows"]]
    return out.sort_values(["table", "month"]).reset_index(drop=True)


def metrics(ds: Dataset) -> dict:
    """The section's metrics.

    tables_loaded : int
        Canonical tables with rows (derived customers included).
    rows_loaded : {table: int}
        Rows loaded per table (all dates).
    rows_in_scope : {table: int}
        Rows up to the period end per table.
    rows_repaired : int
        Rows changed or dropped by load-time repairs (generated ids excluded).
    checks_run, checks_repaired : int
        Validation checks run, and those whose failures were repaired.
    unmapped_event_types : int
        Distinct event names with no canonical type.
    pii_columns_dropped : int
        Client columns not loaded because they hold personal data.
    """
    overview = tables_overview(ds)
    loaded = overview[overview["rows_loaded"].notna() & (overview["status"] != "empty")]
    rep = repairs(ds)
    rep = rep[rep["kind"] != "generated_id"]
    chk = checks(ds)
    return {
        "tables_loaded": int(len(loaded)),
        "rows_loaded": {r.table: int(r.rows_loaded) for r in loaded.itertuples()},
        "rows_in_scope": {r.table: int(r.rows_in_scope) for r in loaded.itertuples()},
        "rows_repaired": int(rep["rows"].sum()) if len(rep) else 0,
        "checks_run": int(len(chk)),
        "checks_repaired": int((chk["result"] == "repaired").sum()),
        "unmapped_event_types": int(len(unmapped_event_types(ds))),
        "pii_columns_dropped": int((not_loaded(ds)["reason"] == "pii").sum()),
    }


# --------------------------------------------------------------------------
# Views: the frames above, labelled in the client's language for display.
# --------------------------------------------------------------------------

def _view(df: pd.DataFrame, ds: Dataset, columns: dict[str, tuple[str, str]]):
    from journeykit.core import i18n
    from journeykit import report

    lang = ds.cfg.language
    out = df[list(columns)].copy()
    if "table" in out:
        out["table"] = [i18n.table_name(t, lang) for t in out["table"]]
    labels = {c: i18n.t(key, lang) for c, (key, _) in columns.items()}
    formats = {labels[c]: kind for c, (_, kind) in columns.items()}
    return report.table(out.rename(columns=labels), ds.cfg, formats)


def overview_view(ds: Dataset):
    """Display table of :func:`tables_overview` (supplied tables only)."""
    from journeykit.core import i18n

    df = tables_overview(ds)
    df = df[df["status"] != "missing"]
    lang = ds.cfg.language
    sources = [i18n.table_name(t, lang) for t, load in sorted(ds.report.tables.items())
               if load.status != "derived" and schemas.SPECS[t].customer_keyed]
    df["source"] = [i18n.t("source_derived", lang, tables=", ".join(sources)) if st == "derived" else src
                    for st, src in zip(df["status"], df["source"])]
    df["status"] = [i18n.t(f"table_{s}", lang) for s in df["status"]]
    return _view(df, ds, {
        "table": ("col_table", "text"), "status": ("col_status", "text"), "source": ("col_source", "text"),
        "encoding": ("col_encoding", "text"), "rows_read": ("col_rows_read", "int"),
        "rows_loaded": ("col_rows_loaded", "int"), "rows_in_scope": ("col_rows_in_scope", "int"),
        "rows_after_end": ("col_rows_after", "int"), "first": ("col_first", "date"), "last": ("col_last", "date"),
    })


def checks_view(ds: Dataset):
    """Display table of :func:`checks`."""
    from journeykit.core import i18n

    df = checks(ds)
    lang = ds.cfg.language
    df["check"] = [i18n.check_label(c, col, lang) for c, col in zip(df["check"], df["column"])]
    df["result"] = [i18n.t("result_passed", lang) if r == "passed" else i18n.t("result_repaired", lang, n=f"{n:,}")
                    for r, n in zip(df["result"], df["failing_rows"])]
    return _view(df, ds, {"table": ("col_table", "text"), "check": ("col_check", "text"),
                          "result": ("col_result", "text")})


def repairs_view(ds: Dataset):
    """Display table of :func:`repairs`, or a note when nothing was repaired."""
    from journeykit.core import i18n
    from journeykit import report

    df = repairs(ds)
    lang = ds.cfg.language
    if df.empty:
        return report.Note(i18n.t("no_repairs", lang))
    df["what"] = [i18n.t(f"repair_{k}", lang, detail=d) for k, d in zip(df["kind"], df["detail"])]
    df["why"] = [i18n.t(f"repair_{k}_why", lang, detail=d) for k, d in zip(df["kind"], df["detail"])]
    return _view(df, ds, {"table": ("col_table", "text"), "what": ("col_repair", "text"),
                          "rows": ("col_rows", "int"), "why": ("col_why", "text")})


def mapping_view(ds: Dataset):
    """Display table of :func:`column_mapping`, one row per table: the
    columns the client names differently (``canonical ← client column``) and
    the canonical columns whose names already matched."""
    df = column_mapping(ds)
    rows = []
    for table, g in df.groupby("table", sort=False):
        pairs = list(zip(g["canonical"], g["client_column"]))
        rows.append({"table": table,
                     "renamed": ", ".join(f"{c} ← {s}" for c, s in pairs if c != s) or "–",
                     "same": ", ".join(c for c, s in pairs if c == s) or "–"})
    out = pd.DataFrame(rows, columns=["table", "renamed", "same"])
    return _view(out, ds, {"table": ("col_table", "text"), "renamed": ("col_renamed", "text"),
                           "same": ("col_same_name", "text")})


def missing_view(ds: Dataset):
    """A note naming the canonical tables the client did not supply."""
    from journeykit.core import i18n
    from journeykit import report

    lang = ds.cfg.language
    missing = [i18n.table_name(t, lang) for t in schemas.SPECS
               if t not in ds.report.tables or ds.report.tables[t].status == "empty"]
    if not missing:
        return report.Note(i18n.t("all_tables_supplied", lang))
    return report.Note(i18n.t("tables_missing", lang, tables=", ".join(missing)), "warn")


def not_loaded_view(ds: Dataset):
    """Display table of :func:`not_loaded`, or a note when every column was used."""
    from journeykit.core import i18n
    from journeykit import report

    df = not_loaded(ds)
    if df.empty:
        return report.Note(i18n.t("nothing_dropped", ds.cfg.language))
    df["reason"] = [i18n.t(f"reason_{r}", ds.cfg.language) for r in df["reason"]]
    return _view(df, ds, {"table": ("col_table", "text"), "column": ("col_dropped", "text"),
                          "reason": ("col_reason", "text")})


def unmapped_view(ds: Dataset):
    """Display table of :func:`unmapped_event_types`, or a note."""
    from journeykit.core import i18n
    from journeykit import report

    if not ds.has("events"):
        return report.Note(i18n.t("no_events", ds.cfg.language))
    df = unmapped_event_types(ds)
    if df.empty:
        return report.Note(i18n.t("no_unmapped", ds.cfg.language))
    return _view(df, ds, {"event_type": ("col_event_type", "text"), "events": ("col_events", "int")})


def monthly_rows_chart(ds: Dataset, months: int = 24):
    """Figure of :func:`monthly_rows`."""
    from journeykit.core import i18n
    from journeykit.report import plots

    df = monthly_rows(ds, months)
    lang = ds.cfg.language
    df["table"] = [i18n.table_name(t, lang) for t in df["table"]]
    return plots.monthly_rows(df, i18n.t("chart_rows_per_month", lang), i18n.t("axis_rows", lang),
                              i18n.t("col_month", lang))
