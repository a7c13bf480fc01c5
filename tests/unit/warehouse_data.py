"""A warehouse for the in-place tests: the tiny demo exports written into a
DuckDB database file (schema ``shop``) under the client's own column names
(every canonical name prefixed ``src_``; orders keep their Korean names);
tickets keep their timestamps as text, as some warehouses do. Used by
tests/unit/test_warehouse.py and tests/e2e/test_warehouse_report.py."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[2]
TIMESTAMPS = {"signup_at", "date", "sent_at", "opened_at", "clicked_at", "started_at", "ended_at",
              "responded_at", "assigned_at"}
# (tickets' created_at and resolved_at are left as text)


def _tiny_client() -> dict:
    return yaml.safe_load((REPO / "params" / "clients" / "tiny.yaml").read_text(encoding="utf-8"))


def fill_warehouse(db: Path, tiny: Path) -> dict:
    """Write the tiny exports into ``db`` (schema ``shop``), renamed; return
    the client file's ``data.tables`` for it."""
    tables = _tiny_client()["data"]["tables"]
    out: dict = {}
    con = duckdb.connect(str(db))
    con.execute("CREATE SCHEMA shop")
    for name, tcfg in tables.items():
        f = tiny / tcfg["file"]
        if f.suffix == ".parquet":
            df = pd.read_parquet(f)
        else:
            df = pd.read_csv(f, encoding="cp949" if name == "orders" else "utf-8", dtype=str, keep_default_na=False)
            df = df.replace("", None)
        mapped = dict(tcfg.get("columns", {}))
        by_source = {v: k for k, v in mapped.items()}
        renamed, columns = {}, {}
        for c in df.columns:
            canon = by_source.get(c, c)
            new = c if c in by_source and not c.isascii() else f"src_{c}"
            renamed[c] = new
            if canon in TIMESTAMPS or (canon in ("occurred_at", "ordered_at")):
                df[c] = pd.to_datetime(df[c])
            elif canon in ("impressions", "clicks", "spend", "conversions", "nps", "csat", "mrr", "items", "amount"):
                df[c] = pd.to_numeric(df[c])
            columns[canon] = new
        df = df.rename(columns=renamed)
        con.register("_df", df)
        con.execute(f'CREATE TABLE shop."src_{name}" AS SELECT * FROM _df')
        con.unregister("_df")
        entry = {"table": f"shop.src_{name}", "columns": columns}
        for k in ("event_types",):
            if k in tcfg:
                entry[k] = tcfg[k]
        out[name] = entry
    con.close()
    return out


def make_client(root: Path, name: str, db: Path, tables: dict, mode: str) -> None:
    client = _tiny_client()
    client["data"] = {"source": f"duckdb://{db}", "mode": mode, "tables": tables}
    (root / "params" / "clients" / f"{name}.yaml").write_text(yaml.safe_dump(client, allow_unicode=True), encoding="utf-8")


