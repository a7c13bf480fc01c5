"""``data.mode: in_place``: the data contract checked on the client's
database and the sections' queries run there (journeykit.data.warehouse).

The warehouse is a second DuckDB database *file*, filled from the tiny demo
exports with the client's own column names (every canonical name prefixed
``src_``; orders keep their Korean names), in a schema ``shop``. Tickets keep
their timestamps as text, as some warehouses do.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from journeykit.core import config
from journeykit.core.errors import ConfigError, DataError, DataErrors
from journeykit.data import loader as io
from journeykit.data import warehouse

REPO = Path(__file__).resolve().parents[2]
PERIOD = "2026-10"
TIMESTAMPS = {"signup_at", "date", "sent_at", "opened_at", "clicked_at", "started_at", "ended_at",
              "responded_at", "assigned_at"}
TEXT_TIMESTAMPS = {"created_at", "resolved_at"}  # tickets: text in the warehouse


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


@pytest.fixture(scope="module")
def wh_project(tmp_path_factory, tiny_data):
    """A project with clients ``wh`` (in place) and ``wh_copy`` (copy mode)
    on the same warehouse file."""
    root = tmp_path_factory.mktemp("wh") / "project"
    (root / "params" / "clients").mkdir(parents=True)
    shutil.copy(REPO / "params" / "defaults.yaml", root / "params" / "defaults.yaml")
    (root / "data").mkdir()
    db = root / "warehouse.duckdb"
    tables = fill_warehouse(db, tiny_data)
    make_client(root, "wh", db, tables, "in_place")
    make_client(root, "wh_copy", db, tables, "copy")
    return root


def small_project(tmp_path: Path, client_yaml: str) -> Path:
    root = tmp_path / "project"
    (root / "params" / "clients").mkdir(parents=True)
    shutil.copy(REPO / "params" / "defaults.yaml", root / "params" / "defaults.yaml")
    (root / "params" / "clients" / "acme.yaml").write_text(textwrap.dedent(client_yaml), encoding="utf-8")
    (root / "data").mkdir()
    return root


def test_in_place_load_smoke(wh_project):
    cfg = config.load("wh", PERIOD, root=wh_project)
    with io.load(cfg) as ds:
        print(ds.report.to_json()[:3000])
        print(ds.table("orders").head().execute())
