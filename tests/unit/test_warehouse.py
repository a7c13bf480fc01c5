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

from journeykit.core import config
from journeykit.core.errors import ConfigError, DataError, DataErrors
from journeykit.data import loader as io
from journeykit.data import warehouse

from warehouse_data import REPO, fill_warehouse, make_client  # noqa: E402

PERIOD = "2026-10"
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


class FetchLog:
    """Every result the warehouse (an Ibis DuckDB backend) hands back to
    Python: its number of rows."""

    def __init__(self, monkeypatch):
        import ibis.backends.duckdb as backend

        from journeykit.data.dataset import duckdb_backend

        self.rows: list[int] = []
        self.bulk: list[str] = []
        # ibis' own backend, and journeykit's (a DuckDB file is opened with its Arrow fetch)
        for cls in (backend.Backend, duckdb_backend()):
            def logged(con, expr, *args, _execute=cls.execute, **kwargs):
                out = _execute(con, expr, *args, **kwargs)
                self.rows.append(len(out) if isinstance(out, (pd.DataFrame, pd.Series)) else 1)
                return out

            monkeypatch.setattr(cls, "execute", logged)
        for name in ("to_pyarrow", "to_pyarrow_batches", "to_parquet", "to_csv"):
            def bulk(con, *args, _name=name, **kwargs):
                self.bulk.append(_name)
                raise AssertionError(f"{_name} would copy rows off the warehouse")

            monkeypatch.setattr(backend.Backend, name, bulk)


def _raw_rows(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'shop'").fetchall()]
        return {n: con.execute(f'SELECT count(*) FROM shop."{n}"').fetchone()[0] for n in names}
    finally:
        con.close()


def _summary(ds) -> dict:
    """What a load did, without where it read from."""
    return {n: dict(rows_read=t.rows_read, rows_loaded=t.rows_loaded, status=t.status, first_at=t.first_at,
                    last_at=t.last_at, columns=t.columns, pii_dropped=sorted(t.pii_dropped),
                    repairs=sorted((r.kind, r.what, r.rows) for r in t.repairs),
                    checks=sorted((c.check, c.column or "", c.failing_rows) for c in t.checks),
                    values=t.values, unmapped=t.unmapped_event_types)
            for n, t in ds.report.tables.items()}


@pytest.fixture(scope="module")
def both(wh_project):
    """The warehouse loaded in place and copied, with their configurations."""
    cfg_in, cfg_copy = (config.load(c, PERIOD, root=wh_project) for c in ("wh", "wh_copy"))
    with io.load(cfg_copy) as copied, io.load(cfg_in) as in_place:
        yield in_place, cfg_in, copied, cfg_copy


def test_in_place_load_copies_no_row_to_the_host(wh_project, monkeypatch):
    log = FetchLog(monkeypatch)
    cfg = config.load("wh", PERIOD, root=wh_project)
    raw = _raw_rows(wh_project / "warehouse.duckdb")
    assert min(raw.values()) > 500                                        # experiments: 637 rows
    with io.load(cfg, refresh=True) as ds:
        entry = ds.path
        assert ds.report.tables["events"].rows_loaded == raw["src_events"] == 94104
    # Each answer is a count, a list of distinct values or up to 5 examples,
    # never a table's rows; the bulk readers of the copy mode are never used.
    assert log.bulk == [] and log.rows and max(log.rows) <= 30
    assert sum(log.rows) < min(raw.values())
    assert sorted(p.name for p in entry.iterdir()) == [".users", "in_place.json", "load_report.json"]
    cache = wh_project / "data" / ".cache"
    assert not [p for p in cache.rglob("*") if p.suffix in (".duckdb", ".parquet", ".csv", ".wal")]
    # The plan names columns and repairs, never a value (no personal data):
    assert "@" not in (entry / "in_place.json").read_text(encoding="utf-8")


def test_in_place_load_reports_what_the_copy_reports(both):
    in_place, _, copied, _ = both
    assert _summary(in_place) == _summary(copied)
    assert in_place.report.tables["orders"].format == "database (in place)"
    repairs = {(r.kind, r.detail) for r in in_place.report.tables["orders"].repairs}
    assert ("masked_personal_data", "channel") in repairs               # search?email=... in the demo's channels


@pytest.mark.parametrize("table", ["customers", "orders", "events", "tickets", "messages"])
def test_in_place_tables_hold_the_copied_rows(both, table):
    in_place, _, copied, _ = both
    a = copied.table(table).to_pandas()
    b = in_place.table(table).to_pandas()[list(a.columns)]
    cols = list(a.columns)
    pd.testing.assert_frame_equal(a.sort_values(cols).reset_index(drop=True), b.sort_values(cols).reset_index(drop=True))


def _close(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == pytest.approx(b, rel=1e-9, abs=1e-12)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    return a == b


@pytest.mark.parametrize("section", ["purchase", "retention", "awareness"])
def test_in_place_numbers_equal_the_copy_numbers(both, section, monkeypatch):
    import importlib

    compute = importlib.import_module(f"journeykit.sections.{section}.compute")
    in_place, cfg_in, copied, cfg_copy = both
    expected = compute.metrics(copied, cfg_copy)
    log = FetchLog(monkeypatch)
    got = compute.metrics(in_place, cfg_in)
    assert expected and _close(got, expected), {k: (got.get(k), v) for k, v in expected.items() if not _close(got.get(k), v)}
    # Only aggregates and per-customer tables came back from the warehouse:
    assert log.bulk == [] and max(log.rows) <= in_place.report.tables["customers"].rows_loaded


def test_sections_read_temporary_views_or_the_expressions_where_views_are_refused(wh_project, monkeypatch):
    import ibis.expr.operations as ops

    cfg = config.load("wh", PERIOD, root=wh_project)
    with io.load(cfg) as ds:
        orders = ds.raw("orders")
        assert isinstance(orders.op(), ops.DatabaseTable)                 # a view on the warehouse
        assert orders.op().name.startswith("jk_") and orders.op().name.endswith("_orders")
        n = int(orders.count().execute())
    backend = type(ds.warehouse.backend)

    def refused(self, *args, **kwargs):
        raise PermissionError("permission denied to create temporary views")

    monkeypatch.setattr(backend, "raw_sql", refused)
    with io.load(cfg) as ds:
        orders = ds.raw("orders")
        assert not isinstance(orders.op(), ops.DatabaseTable)             # the full expression instead
        assert int(orders.count().execute()) == n == 7697


@pytest.mark.parametrize("language, says", [("en", "no row was copied"), ("ko", "복사된 행은 없습니다")])
def test_data_quality_says_the_data_stayed_in_the_database(both, language, says):
    from journeykit.sections.data_quality import compute as quality
    from journeykit.sections.data_quality import view

    in_place, cfg_in, copied, _ = both
    assert quality.coverage(in_place)["in_place"] and not quality.coverage(copied)["in_place"]
    in_place.cfg = cfg_in.updated(language=language)
    try:
        texts = [b.text for b in view.coverage_view(in_place).blocks]
    finally:
        in_place.cfg = cfg_in
    assert sum(says in t for t in texts) == 1
    assert not any(says in b.text for b in view.coverage_view(copied).blocks)


# --------------------------------------------------------------------------
# The contract on the warehouse: the same messages as for files
# --------------------------------------------------------------------------

ORDERS_CSV = """cust,ts,amt,state,note
c1,2026-10-01 10:00:00,10,PAID,
c2,2026-10-02 11:00:00,20,okay,
c3,2026-10-03 12:00:00,30,okay,
c4,2026-10-04 13:00:00,40,pending,
"""


def _file_and_warehouse(tmp_path: Path, csv: str, columns: str, extra: str = "") -> tuple[Path, Path]:
    """The same orders as a CSV export (client ``files``) and as a warehouse
    table (client ``wh``, in place)."""
    root = small_project(tmp_path, f"""
        data:
          source: data/acme
          tables:
            orders:
              file: orders.csv
              columns: {columns}
              {extra}
        """)
    (root / "data" / "acme").mkdir()
    (root / "data" / "acme" / "orders.csv").write_text(csv, encoding="utf-8")
    db = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(db))
    con.execute(f"CREATE TABLE orders AS SELECT * FROM read_csv({str(root / 'data' / 'acme' / 'orders.csv')!r}, all_varchar=true)")
    con.close()
    text = (root / "params" / "clients" / "acme.yaml").read_text(encoding="utf-8")
    text = text.replace("source: data/acme", f"source: duckdb://{db}\n  mode: in_place").replace("file: orders.csv", "table: orders")
    (root / "params" / "clients" / "wh.yaml").write_text(text, encoding="utf-8")
    return root, db


def _errors(root: Path, client: str) -> list[DataError]:
    with pytest.raises((DataError, DataErrors)) as info:
        io.load(config.load(client, PERIOD, root=root))
    e = info.value
    return e.errors if isinstance(e, DataErrors) else [e]


def _said(e: DataError) -> tuple:
    """What an error tells the user, the client's name aside."""
    fix = e.fix.replace(f"params/clients/{e.client}.yaml", "params/clients/<client>.yaml")
    return (e.table, e.column, e.problem, e.n_rows, [str(x) for x in e.examples], fix)


def test_unmapped_payment_status_on_the_warehouse_says_what_it_says_for_a_file(tmp_path):
    root, _ = _file_and_warehouse(tmp_path, ORDERS_CSV, "{customer_id: cust, ordered_at: ts, amount: amt, payment_status: state}")
    (f,), (w,) = _errors(root, "acme"), _errors(root, "wh")
    assert _said(w) == _said(f)
    assert w.column == "payment_status" and w.n_rows == 2 and w.examples == ["okay (2 rows)"]
    assert "1 value of column 'state' is not mapped" in w.problem and "values.payment_status" in w.fix
    assert (f.client, w.client) == ("acme", "wh")


def test_blank_required_column_on_the_warehouse_says_what_it_says_for_a_file(tmp_path):
    csv = "cust,ts,amt,state\n,2026-10-01 10:00:00,10,paid\n ,2026-10-02 11:00:00,20,paid\n"
    root, _ = _file_and_warehouse(tmp_path, csv, "{customer_id: cust, ordered_at: ts, amount: amt}")
    (f,), (w,) = _errors(root, "acme"), _errors(root, "wh")
    assert _said(w) == _said(f)
    assert w.problem == "column 'cust' is empty in all 2 rows, and customer_id is required"


def test_value_checks_and_shared_ids_on_the_warehouse_say_what_they_say_for_a_file(tmp_path):
    csv = ("id,cust,ts,amt\no1,c1,2026-10-01 10:00:00,-5\no2,c2,2026-10-02 11:00:00,20\n"
           "o2,c3,2026-10-02 12:00:00,25\no3,c4,2026-10-03 12:00:00,abc\n")
    root, _ = _file_and_warehouse(tmp_path, csv, "{order_id: id, customer_id: cust, ordered_at: ts, amount: amt}")
    file_errors, wh_errors = _errors(root, "acme"), _errors(root, "wh")
    assert [_said(e) for e in wh_errors] == [_said(e) for e in file_errors]
    assert {e.problem.split(" ")[1] for e in wh_errors} >= {"value", "rows", "row"}   # text, shared id, negative


def test_decimals_in_a_currency_without_minor_units_on_the_warehouse_say_what_they_say_for_a_file(tmp_path):
    csv = "cust,ts,amt,cur\nc1,2026-10-01 10:00:00,1.234,KRW\nc2,2026-10-02 11:00:00,12.50,USD\nc3,2026-10-02 11:00:00,1.5,\n"
    root, _ = _file_and_warehouse(tmp_path, csv, "{customer_id: cust, ordered_at: ts, amount: amt, currency: cur}")
    (f,), (w,) = _errors(root, "acme"), _errors(root, "wh")
    assert _said(w) == _said(f)
    assert w.n_rows == 1 and w.examples == ["1.234"] and "KRW has no minor unit" in w.problem   # blank: the client's USD


def test_repairs_on_the_warehouse_are_filters_counted_by_a_query(tmp_path):
    csv = ("cust,ts,amt\nc1,2026-10-01 10:00:00,10\nc1,2026-10-01 10:00:00,10\n"
           ",2026-10-02 11:00:00,20\nc2,2026-10-03 12:00:00,30\n")
    root, _ = _file_and_warehouse(tmp_path, csv, "{customer_id: cust, ordered_at: ts, amount: amt}")
    with io.load(config.load("wh", PERIOD, root=root)) as ds:
        orders = ds.report.tables["orders"]
        assert (orders.rows_read, orders.rows_loaded) == (4, 3)         # the row without a customer is dropped
        assert {r.kind: r.rows for r in orders.repairs} == {"generated_id": 3, "missing_required": 1}
        got = ds.table("orders").order_by(["customer_id", "order_id"]).to_pandas()
        assert got["order_id"].tolist() == ["row-1", "row-2", "row-3"] and got["amount"].sum() == 50
        customers = ds.report.tables["customers"]
        assert (customers.status, customers.rows_loaded) == ("derived", 2)   # c1, c2


def test_text_timestamp_with_a_zone_is_refused_in_place_not_misread(tmp_path):
    csv = "cust,ts,amt\nc1,2026-10-01 10:00:00 PST,10\nc2,2026-10-02 11:00:00,20\n"
    root, _ = _file_and_warehouse(tmp_path, csv, "{customer_id: cust, ordered_at: ts, amount: amt}")
    (w,) = _errors(root, "wh")
    assert w.column == "ordered_at" and w.n_rows == 1 and w.examples == ["2026-10-01 10:00:00 PST"]
    assert "cannot be read as a date or timestamp" in w.problem and "data.mode: copy" in w.fix
    with io.load(config.load("acme", PERIOD, root=root)) as ds:              # the copy mode converts it
        assert ds.report.tables["orders"].time_zones == {"ordered_at": {"PST": 1}}


def test_text_numbers_and_timestamps_in_place_are_read_only_when_they_are_plain(tmp_path):
    csv = ("cust,ts,amt\nc1,2026-10-01,\"1,234\"\nc2,2026-10-02T11:30:00,12.5\nc3,2026-10-03 12:00:00.250, 7 \n"
           "c4,2026/10/04 10:00,1e3\nc5,2026-10-05 10:00,1.234.567\n")
    root, _ = _file_and_warehouse(tmp_path, csv, "{customer_id: cust, ordered_at: ts, amount: amt}")
    errors = {e.column: e for e in _errors(root, "wh")}
    assert errors["ordered_at"].examples == ["2026/10/04 10:00"]            # ISO 8601 only, in place
    assert errors["amount"].examples == ["1.234.567"] and "dots are not thousands separators" in errors["amount"].fix
    ok = csv.replace("2026/10/04", "2026-10-04").replace("1.234.567", "5")
    root, _ = _file_and_warehouse(tmp_path / "ok", ok, "{customer_id: cust, ordered_at: ts, amount: amt}")
    with io.load(config.load("wh", PERIOD, root=root)) as ds:
        got = ds.table("orders").order_by("customer_id").to_pandas()
    assert got["amount"].tolist() == [1234.0, 12.5, 7.0, 1000.0, 5.0]
    assert [str(t) for t in got["ordered_at"]] == ["2026-10-01 00:00:00", "2026-10-02 11:30:00", "2026-10-03 12:00:00.250000",
                                                   "2026-10-04 10:00:00", "2026-10-05 10:00:00"]


def test_events_only_client_in_place_gets_orders_and_customers_derived(tmp_path):
    db = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE ev AS SELECT * FROM (VALUES "
                "('u1', 'v1', TIMESTAMP '2026-10-01 10:00', 'BUY', 12.5), "
                "(NULL, 'v2', TIMESTAMP '2026-10-02 10:00', 'BUY', 7.5), "        # before a login: visitor's order
                "('u1', 'v1', TIMESTAMP '2026-10-03 10:00', 'FAIL', NULL), "
                "('u3', 'v3', TIMESTAMP '2026-09-20 10:00', 'visit', NULL)) t(uid, cookie, at_, kind, val)")
    con.close()
    root = small_project(tmp_path, f"""
        data:
          source: duckdb://{db}
          mode: in_place
          tables:
            events:
              table: ev
              columns: {{customer_id: uid, visitor_id: cookie, occurred_at: at_, event_type: kind, value: val}}
              event_types: {{BUY: purchase, FAIL: payment_failed}}
        """)
    with io.load(config.load("acme", PERIOD, root=root)) as ds:
        orders = ds.table("orders").order_by("order_id").to_pandas()
        assert orders["customer_id"].tolist() == ["u1", "v2", "u1"]
        assert orders["payment_status"].tolist() == ["paid", "paid", "failed"]
        assert orders["amount"].fillna(0).tolist() == [12.5, 7.5, 0.0]
        assert {r.kind: r.rows for r in ds.report.tables["orders"].repairs} == {"visitor_orders": 1}
        customers = ds.table("customers").order_by("customer_id").to_pandas()
        assert customers["customer_id"].tolist() == ["u1", "u3", "v2"]        # u3: first seen 2026-09-20
        assert str(customers["signup_at"].iloc[1]) == "2026-09-20 10:00:00"


def test_derive_orders_and_with_unknown_on_expressions():
    import ibis

    events = ibis.memtable(pd.DataFrame({
        "customer_id": ["a", None, "a", "b"],
        "visitor_id": ["v1", "v2", "v1", None],
        "occurred_at": pd.to_datetime(["2026-10-02", "2026-10-01", "2026-10-03", "2026-10-04"]),
        "event_type": ["purchase", "purchase", "payment_failed", "visit"],
        "value": [10.0, 4.0, None, None],
    }))
    orders = warehouse.derive_orders(events).order_by("order_id").to_pandas()
    assert orders["order_id"].tolist() == ["ev-1", "ev-2", "ev-3"]            # by time: v2 on the 1st first
    assert orders["customer_id"].tolist() == ["v2", "a", "a"]
    assert orders["payment_status"].tolist() == ["paid", "paid", "failed"]   # the visit is no order
    customers = ibis.memtable(pd.DataFrame({"customer_id": ["a"], "signup_at": pd.to_datetime(["2026-01-01"]),
                                            "plan": ["pro"]}))
    first = ibis.memtable(pd.DataFrame({"customer_id": ["a", "z"], "signup_at": pd.to_datetime(["2026-10-02", "2026-10-05"])}))
    both, unknown = warehouse.with_unknown(customers, first)
    got = both.order_by("customer_id").to_pandas()
    assert got["customer_id"].tolist() == ["a", "z"] and got["plan"].tolist()[0] == "pro" and pd.isna(got["plan"].iloc[1])
    assert str(got["signup_at"].iloc[0]) == "2026-01-01 00:00:00"            # a keeps her own signup
    assert unknown.count().execute() == 1


def test_customers_unknown_to_the_customers_table_are_added_in_place(tmp_path):
    db = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE c AS SELECT * FROM (VALUES ('k1', TIMESTAMP '2026-01-01', 'KR')) t(id, at_, country)")
    con.execute("CREATE TABLE o AS SELECT * FROM (VALUES ('k1', TIMESTAMP '2026-10-01', 5.0), "
                "('k2', TIMESTAMP '2026-10-02', 6.0), ('k2', TIMESTAMP '2026-10-05', 1.0)) t(id, at_, amt)")
    con.close()
    root = small_project(tmp_path, f"""
        data:
          source: duckdb://{db}
          mode: in_place
          tables:
            customers: {{table: c, columns: {{customer_id: id, signup_at: at_}}}}
            orders: {{table: o, columns: {{customer_id: id, ordered_at: at_, amount: amt}}}}
        """)
    with io.load(config.load("acme", PERIOD, root=root)) as ds:
        customers = ds.table("customers").order_by("customer_id").to_pandas()
        assert customers["customer_id"].tolist() == ["k1", "k2"]
        assert str(customers["signup_at"].iloc[1]) == "2026-10-02 00:00:00" and customers["country"].isna().tolist() == [False, True]
        assert {r.kind: r.rows for r in ds.report.tables["customers"].repairs} == {"unknown_customers": 1}


# --------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------

def test_source_url_reads_credentials_from_the_environment(tmp_path, monkeypatch):
    root = small_project(tmp_path, """
        data:
          source: postgres://analyst:${JK_TEST_PG_PASSWORD}@db.internal:5432/shop
          mode: in_place
          tables:
            orders: {table: sales.orders}
        """)
    cfg = config.load("acme", PERIOD, root=root)
    monkeypatch.setenv("JK_TEST_PG_PASSWORD", "s3cr:t")
    assert warehouse.source_url(cfg) == "postgres://analyst:s3cr:t@db.internal:5432/shop"
    assert warehouse.duckdb_file(cfg) is None
    monkeypatch.delenv("JK_TEST_PG_PASSWORD")
    with pytest.raises(ConfigError, match="JK_TEST_PG_PASSWORD, which is not set"):
        warehouse.source_url(cfg)


def test_a_connection_error_never_shows_the_password(tmp_path, monkeypatch):
    root = small_project(tmp_path, """
        data:
          source: notadatabase://analyst:${JK_TEST_PW}@nowhere/shop
          mode: in_place
          tables:
            orders: {table: orders}
        """)
    monkeypatch.setenv("JK_TEST_PW", "hunter2-secret")
    with pytest.raises(DataError) as info:
        io.load(config.load("acme", PERIOD, root=root))
    assert "cannot connect to notadatabase://analyst:***@nowhere/shop" in info.value.problem
    assert "hunter2" not in str(info.value)
    with pytest.raises(DataError) as info:                                  # the copy mode too
        io.load(config.load("acme", PERIOD, root=root, overrides=["data.mode=copy"]))
    assert "cannot read table 'orders'" in info.value.problem and "hunter2" not in str(info.value)


def test_a_missing_database_file_is_a_clear_error_and_not_created(tmp_path):
    root = small_project(tmp_path, f"""
        data:
          source: duckdb://{tmp_path / 'nope.duckdb'}
          mode: in_place
          tables:
            orders: {{table: orders}}
        """)
    with pytest.raises(DataError, match="nope.duckdb of data.source does not exist"):
        io.load(config.load("acme", PERIOD, root=root))
    assert not (tmp_path / "nope.duckdb").exists()


def test_duckdb_file_is_relative_to_the_project(tmp_path):
    root = small_project(tmp_path, """
        data:
          source: duckdb://warehouse/shop.duckdb
          mode: in_place
          tables:
            orders: {table: orders}
        """)
    assert warehouse.duckdb_file(config.load("acme", PERIOD, root=root)) == root / "warehouse" / "shop.duckdb"


def test_in_place_is_refused_for_folders_and_with_spark(tmp_path):
    root = small_project(tmp_path, """
        data:
          source: data/acme
          mode: in_place
          tables:
            orders: {file: orders.csv}
        """)
    cfg = config.load("acme", PERIOD, root=root)
    with pytest.raises(ConfigError, match="in_place applies to a database URL"):
        warehouse.check_supported(cfg)
    db = config.load("acme", PERIOD, root=root, overrides=["data.source=duckdb://x.duckdb", "engine.backend=spark"])
    with pytest.raises(ConfigError, match="with engine.backend: spark is not supported"):
        warehouse.check_supported(db)


def test_a_table_name_that_is_not_one_is_refused_in_place_as_when_copying(tmp_path):
    # the copy loader and the in-place loader read data.tables.<t>.table with one method
    from types import SimpleNamespace

    from journeykit.core.errors import ConfigError
    from journeykit.data.loader import _TableLoader

    loader = _TableLoader.__new__(_TableLoader)
    loader.table = "orders"
    loader.cfg = SimpleNamespace(client="acme")
    loader.tcfg = SimpleNamespace(table="sales.orders", header_row=None, skip_rows=None)
    loader._no_header_settings = lambda where: None
    assert loader._database_table() == ("sales.orders", ["sales", "orders"], "sales")
    loader.tcfg.table = "a.b.c"
    assert loader._database_table()[2] == ("a", "b")
    loader.tcfg.table = "..."
    with pytest.raises(ConfigError, match="is not a table name"):
        loader._database_table()


def test_table_wide_checks_on_the_warehouse_say_what_they_say_for_a_file(tmp_path):
    """A message opened before it was sent, and a day with more clicks than
    impressions: the same errors, with the same examples, in place as from
    files. The messages have no clicked_at, so the check of clicks against
    sends has nothing to fail (in place it used to end in a traceback)."""
    messages = ("cust,camp,sent,opened\nc1,oct,2026-10-02 10:00:00,2026-10-03 10:00:00\n"
                "c2,oct,2026-10-05 10:00:00,2026-10-03 09:00:00\n")                     # opened first
    marketing = "day,ch,imp,clk\n2026-10-01,search,100,20\n2026-10-02,search,50,80\n"   # 80 clicks of 50
    root = small_project(tmp_path, """
        data:
          source: data/acme
          tables:
            messages:
              file: messages.csv
              columns: {customer_id: cust, campaign: camp, sent_at: sent, opened_at: opened}
            marketing:
              file: marketing.csv
              columns: {date: day, channel: ch, impressions: imp, clicks: clk}
        """)
    (root / "data" / "acme").mkdir()
    db = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(db))
    for name, csv in (("messages", messages), ("marketing", marketing)):
        path = root / "data" / "acme" / f"{name}.csv"
        path.write_text(csv, encoding="utf-8")
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_csv({str(path)!r}, all_varchar=true)")
    con.close()
    text = (root / "params" / "clients" / "acme.yaml").read_text(encoding="utf-8")
    text = (text.replace("source: data/acme", f"source: duckdb://{db}\n  mode: in_place")
            .replace("file: messages.csv", "table: messages").replace("file: marketing.csv", "table: marketing"))
    (root / "params" / "clients" / "wh.yaml").write_text(text, encoding="utf-8")
    file_errors, wh_errors = _errors(root, "acme"), _errors(root, "wh")
    assert sorted(_said(e) for e in wh_errors) == sorted(_said(e) for e in file_errors)
    got = {(e.table, e.column): (e.n_rows, [str(x) for x in e.examples]) for e in wh_errors}
    assert got == {("marketing", "clicks"): (1, ["{'impressions': '50.0', 'clicks': '80.0'}"]),
                   ("messages", "opened_at"): (1, ["{'sent_at': '2026-10-05 10:00:00', "
                                                   "'opened_at': '2026-10-03 09:00:00'}"])}
