"""Data quality: what was loaded, checked, repaired and dropped (section 00).

Every function reads a :class:`journeykit.data.dataset.Dataset` and returns
a small pandas frame (or dict) with canonical (English) column names;
:mod:`.view` labels them in the client's language.
"""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd

from journeykit.data import schemas
from journeykit.data.dataset import Dataset


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
    event_type, events (rows up to the period end, most first)."""
    cols = ["event_type", "events"]
    load = ds.report.tables.get("events")
    names = list(load.unmapped_event_types) if load and ds.has("events") else []
    if not names:
        return pd.DataFrame(columns=cols)
    e = ds.table("events")
    e = e.filter(e.event_type.isin(names))
    df = e.group_by("event_type").aggregate(events=e.count()).to_pandas()
    df = df[df["events"] > 0].sort_values(["events", "event_type"], ascending=[False, True], kind="stable")
    return df[cols].reset_index(drop=True)


def value_mappings(ds: Dataset) -> pd.DataFrame:
    """How the values of categorical columns (``orders.payment_status``) were
    read: table, column, value (as in the export; empty for a blank),
    canonical (what it counts as), rows (all loaded rows), mapped_by
    (``client``: the client file's ``values`` mapping; ``default``: a common
    English value; ``empty``: blank, counted as paid)."""
    rows = [{"table": name, "column": col, **{k: v for k, v in rec.items()}}
            for name, load in ds.report.tables.items() for col, recs in load.values.items() for rec in recs]
    return pd.DataFrame(rows, columns=["table", "column", "value", "canonical", "rows", "mapped_by"])


def derived_orders(ds: Dataset) -> dict | None:
    """For a client without an orders table whose orders were derived from
    its events (see :func:`journeykit.data.loader.load`): ``paid`` (purchase
    events), ``failed`` (payment_failed events; ``None`` when the client
    sends none, so payment failures are not tracked) and ``with_amounts``
    (the events carry a value); ``None`` when orders were exported."""
    load = ds.report.tables.get("orders")
    if load is None or load.status != "derived":
        return None
    o = ds.raw("orders")
    if "payment_status" not in o.columns:   # no payment_failed event at all: every derived order is a purchase
        return {"paid": int(o.count().to_pandas()), "failed": None, "with_amounts": "amount" in load.columns}
    counts = o.aggregate(paid=o.count(where=o.payment_status == "paid"),
                         failed=o.count(where=o.payment_status == "failed")).to_pandas().iloc[0]
    return {"paid": int(counts["paid"]), "failed": int(counts["failed"]), "with_amounts": "amount" in load.columns}


def coverage(ds: Dataset) -> dict:
    """What the data covers against the period: ``first_date`` and
    ``last_date`` (the earliest and latest timestamp in any loaded table,
    all rows), and ``period_partial``: True when the data ends inside the
    period (the last data date is before the period's last day), so the
    month's counts are incomplete; and ``in_place``: True when the data was
    checked and is queried on the client's database (``data.mode:
    in_place``), no row copied to the machine that renders the report."""
    first, last = ds.first_date(), ds.last_date()
    end = ds.cfg.period.end
    return {"first_date": first, "last_date": last,
            "period_partial": bool(last is not None and last < end - dt.timedelta(days=1)),
            "in_place": getattr(ds, "warehouse", None) is not None}


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
    data_first_date, data_last_date : str
        The earliest and latest date in the loaded data (ISO), see :func:`coverage`.
    period_partial : bool
        The data ends before the period's last day.
    """
    cov = coverage(ds)
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
        "data_first_date": cov["first_date"].isoformat() if cov["first_date"] else None,
        "data_last_date": cov["last_date"].isoformat() if cov["last_date"] else None,
        "period_partial": cov["period_partial"],
    }
