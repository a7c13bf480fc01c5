"""journeykit.data.loader: loading a client's folder into a validated Dataset.

Every fixture is a few rows written inside the test; every expected number
is counted by hand in the comment beside it.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from journeykit.core import config
from journeykit.data import loader as io
from journeykit.core.errors import ConfigError, DataError, DataErrors

REPO = Path(__file__).resolve().parents[2]
PERIOD = "2026-10"  # [2026-10-01, 2026-11-01)


def make_project(tmp_path: Path, client_yaml: str, files: dict[str, bytes | pd.DataFrame]) -> Path:
    """A project folder: the repo's defaults, client ``acme``, its data files.

    ``files`` maps a file name in data/acme/ to raw bytes, or to a frame
    written as Parquet or Excel according to the name's suffix.
    """
    root = tmp_path / "project"
    (root / "params" / "clients").mkdir(parents=True)
    shutil.copy(REPO / "params" / "defaults.yaml", root / "params" / "defaults.yaml")
    (root / "params" / "clients" / "acme.yaml").write_text(textwrap.dedent(client_yaml), encoding="utf-8")
    data = root / "data" / "acme"
    data.mkdir(parents=True)
    for name, content in files.items():
        if isinstance(content, pd.DataFrame):
            if name.endswith(".parquet"):
                content.to_parquet(data / name, index=False)
            else:
                content.to_excel(data / name, index=False)
        else:
            (data / name).parent.mkdir(parents=True, exist_ok=True)
            (data / name).write_bytes(content)
    return root


def load(root: Path, period: str = PERIOD) -> io.Dataset:
    return io.load(config.load("acme", period, root=root))


def frame(ds: io.Dataset, table: str, *, raw: bool = False) -> pd.DataFrame:
    t = ds.raw(table) if raw else ds.table(table)
    return t.to_pandas()


# --------------------------------------------------------------------------
# Formats
# --------------------------------------------------------------------------

def test_loads_a_folder_of_csv_parquet_and_xlsx(tmp_path):
    events = pd.DataFrame({
        "customer_id": ["c1", "c2"],
        "occurred_at": pd.to_datetime(["2026-10-01 09:00", "2026-10-02 10:30"]),
        "event_type": ["visit", "purchase"],
    })
    surveys = pd.DataFrame({
        "response_id": ["r1", "r2"],
        "responded_at": pd.to_datetime(["2026-10-03", "2026-10-04"]),
        "customer_id": ["c1", "c2"],
        "nps": [9, 6],
    })
    # The Excel table comes last: it is read after the others, on a connection
    # that has already run queries (that order once broke the Excel reader).
    root = make_project(tmp_path, """
        data:
          source: data/acme
          tables:
            orders: {file: orders.csv}
            events: {file: events.parquet}
            surveys: {file: surveys.xlsx}
        """, {
        "orders.csv": b"customer_id,ordered_at,amount\nc1,2026-10-01 09:05:00,12.5\nc2,2026-10-02 10:35:00,30\n",
        "events.parquet": events,
        "surveys.xlsx": surveys,
    })
    with load(root) as ds:
        formats = {t: ds.report.tables[t].format for t in ("orders", "events", "surveys")}
        assert formats == {"orders": "csv", "events": "parquet", "surveys": "excel"}
        assert ds.tables == ["customers", "events", "orders", "surveys"]  # contract order; customers derived

        orders = frame(ds, "orders").sort_values("customer_id")
        assert orders["amount"].tolist() == [12.5, 30.0]
        assert orders["ordered_at"].tolist() == [pd.Timestamp("2026-10-01 09:05"), pd.Timestamp("2026-10-02 10:35")]

        ev = frame(ds, "events").sort_values("occurred_at")
        assert ev["event_type"].tolist() == ["visit", "purchase"]
        assert ev["occurred_at"].tolist() == [pd.Timestamp("2026-10-01 09:00"), pd.Timestamp("2026-10-02 10:30")]

        sv = frame(ds, "surveys").sort_values("response_id")
        assert sv["nps"].tolist() == [9.0, 6.0]                  # Excel numbers arrive as numbers
        assert sv["responded_at"].tolist() == [pd.Timestamp("2026-10-03"), pd.Timestamp("2026-10-04")]
        assert {t: ds.report.tables[t].rows_loaded for t in ("orders", "events", "surveys")} == {
            "orders": 2, "events": 2, "surveys": 2}


def test_glob_pattern_reads_every_matching_file(tmp_path):
    root = make_project(tmp_path, """
        data:
          source: data/acme
          tables:
            orders: {file: "orders-*.csv"}
        """, {
        "orders-2026-09.csv": b"customer_id,ordered_at,amount\nc1,2026-09-01,10\n",
        "orders-2026-10.csv": b"customer_id,ordered_at,amount\nc2,2026-10-01,20\nc3,2026-10-02,30\n",
        "other.csv": b"customer_id,ordered_at,amount\nc9,2026-10-01,999\n",
    })
    with load(root) as ds:
        assert ds.report.tables["orders"].rows_loaded == 3          # 1 + 2 rows; other.csv not matched
        assert frame(ds, "orders")["amount"].sum() == 60.0          # 10 + 20 + 30


def test_missing_file_names_the_table_and_suggests_the_close_name(tmp_path):
    root = make_project(tmp_path, """
        data:
          source: data/acme
          tables:
            orders: {file: order.csv}
        """, {"orders.csv": b"customer_id,ordered_at,amount\nc1,2026-10-01,10\n"})
    with pytest.raises(DataError) as info:
        load(root)
    err = info.value
    assert (err.client, err.table) == ("acme", "orders")
    assert "order.csv" in err.problem
    assert "did you mean 'orders.csv'" in err.fix


# --------------------------------------------------------------------------
# CSV encodings
# --------------------------------------------------------------------------

KOREAN_CSV = "고객번호,주문일자,결제금액,채널\nc1,2026-10-01,1000,네이버\nc2,2026-10-02,2500,카카오\n"
KOREAN_YAML = """
    data:
      source: data/acme
      tables:
        orders:
          file: orders.csv
          columns: {customer_id: 고객번호, ordered_at: 주문일자, amount: 결제금액, channel: 채널}
    """


@pytest.mark.parametrize("encoding, raw", [
    ("utf-8", KOREAN_CSV.encode("utf-8")),
    ("utf-8-sig", KOREAN_CSV.encode("utf-8-sig")),   # Excel's "CSV UTF-8": BOM first
    ("cp949", KOREAN_CSV.encode("cp949")),           # Korean Excel's default CSV
])
def test_csv_encoding_is_detected_and_reported(tmp_path, encoding, raw):
    root = make_project(tmp_path, KOREAN_YAML, {"orders.csv": raw})
    assert io.detect_encoding(root / "data" / "acme" / "orders.csv") == encoding
    with load(root) as ds:
        assert ds.report.tables["orders"].encoding == encoding
        df = frame(ds, "orders").sort_values("customer_id")
        # Korean headers matched the mapping (a BOM glued to the first header would not)
        # and Korean values decoded intact.
        assert df["channel"].tolist() == ["네이버", "카카오"]
        assert df["amount"].tolist() == [1000.0, 2500.0]


def test_declared_encoding_is_used_and_reported(tmp_path):
    root = make_project(tmp_path, KOREAN_YAML.replace("file: orders.csv", "file: orders.csv\n          encoding: euc-kr"),
                        {"orders.csv": KOREAN_CSV.encode("euc-kr")})
    with load(root) as ds:
        assert ds.report.tables["orders"].encoding == "euc-kr"
        assert sorted(frame(ds, "orders")["channel"]) == ["네이버", "카카오"]


def test_detect_encoding_finds_a_bad_byte_deep_in_the_file(tmp_path):
    path = tmp_path / "x.csv"
    # 3 MiB of ASCII, then one cp949 Hangul pair: not UTF-8, so cp949 wins.
    path.write_bytes(b"a,b\n" + b"1,2\n" * (3 << 18) + "가".encode("cp949") + b"\n")
    assert io.detect_encoding(path) == "cp949"


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 5, 8, 64])
def test_ascii_runs_are_skipped_without_losing_a_character_split_between_chunks(tmp_path, chunk_size):
    # Plain ASCII chunks are copied or skipped undecoded; a two-byte CP949
    # character (or a three-byte UTF-8 one) cut by a chunk's end must still
    # be read whole, whose second CP949 byte may itself be an ASCII letter
    # ('갂' is B0 41: 'A').
    text = "고객,금액\nc1,갂A\n" + "c2,100\n" * 9 + "c3,네이버x\n"
    src = tmp_path / "in.csv"
    src.write_bytes(text.encode("cp949"))
    io._transcode(src, tmp_path / "out.csv", "cp949", chunk_size=chunk_size)
    assert (tmp_path / "out.csv").read_bytes() == text.encode("utf-8")
    assert io.detect_encoding(src, chunk_size=chunk_size) == "cp949"
    utf8 = tmp_path / "u.csv"
    utf8.write_bytes(text.encode("utf-8"))
    assert io.detect_encoding(utf8, chunk_size=chunk_size) == "utf-8"
    # A bad byte after ASCII chunks: found, with its byte and line.
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"a,b\n" * 20 + b"x,\xff\n")
    assert io._utf8_error(bad, 0, chunk_size).startswith("bytes FF")
    assert "at byte 82 (line 21)" in io._utf8_error(bad, 0, chunk_size)


def test_undecodable_csv_is_a_clear_error(tmp_path):
    # 0xFF is neither UTF-8 nor a CP949 lead byte.
    root = make_project(tmp_path, """
        data:
          source: data/acme
          tables:
            orders: {file: orders.csv}
        """, {"orders.csv": b"customer_id,ordered_at,amount\nc1,2026-10-01,\xff\xff\n"})
    with pytest.raises(DataError) as info:
        load(root)
    err = info.value
    assert err.table == "orders"
    assert "encoding" in err.problem
    assert "data.tables.orders.encoding" in err.fix


# --------------------------------------------------------------------------
# Column and event-type mapping
# --------------------------------------------------------------------------

EVENTS_YAML = """
    data:
      source: data/acme
      tables:
        events:
          file: events.csv
          columns: {visitor_id: cookie, occurred_at: ts, event_type: name}
          event_types: {PDP: product_view, CART: add_to_cart}
    """
EVENTS_CSV = (
    "cookie,ts,name,browser\n"
    "v1,2026-10-01 10:00:00,PDP,firefox\n"        # mapped → product_view
    "v1,2026-10-01 10:05:00,CART,firefox\n"       # mapped → add_to_cart
    "v2,2026-10-02 09:00:00,Visit,chrome\n"       # canonical name, other case → visit
    "v2,2026-10-02 09:01:00,WISHLIST,chrome\n"    # unmapped: kept as is
    "v3,2026-10-03 12:00:00,WISHLIST,safari\n"    # unmapped
    "v3,2026-10-03 12:01:00,purchase,safari\n"    # already canonical
).encode()


def test_columns_and_event_types_are_mapped_and_unmapped_types_kept(tmp_path):
    root = make_project(tmp_path, EVENTS_YAML, {"events.csv": EVENTS_CSV})
    with load(root) as ds:
        load_ = ds.report.tables["events"]
        assert load_.columns == {"occurred_at": "ts", "event_type": "name", "visitor_id": "cookie"}
        assert load_.unused_columns == ["browser"]
        ev = frame(ds, "events")
        assert set(ev.columns) == {"occurred_at", "event_type", "visitor_id"}
        assert ev["event_type"].value_counts().to_dict() == {
            "WISHLIST": 2, "product_view": 1, "add_to_cart": 1, "visit": 1, "purchase": 1}  # 6 rows, none dropped
        assert load_.unmapped_event_types == {"WISHLIST": 2}
        # Visitor-only events: v3's purchase event becomes an order of "customer" v3 (counts
        # only: the events carry no value), and the customers are derived from it.
        assert ds.tables == ["customers", "events", "orders"]
        orders = frame(ds, "orders")
        # no payment_failed event at all: failures are not tracked, so no payment status
        assert orders[["customer_id"]].to_dict("records") == [{"customer_id": "v3"}]
        assert "payment_status" not in orders.columns
        assert orders["amount"].isna().all() and "amount" not in ds.report.tables["orders"].columns


def test_event_type_mapped_to_a_non_canonical_type_is_rejected(tmp_path):
    root = make_project(tmp_path, EVENTS_YAML.replace("CART: add_to_cart", "CART: basket"), {"events.csv": EVENTS_CSV})
    with pytest.raises(ConfigError) as info:
        load(root)
    text = str(info.value)
    assert "'basket'" in text and "event_types" in text
    assert "add_to_cart" in text                                  # the fix lists the canonical types


def test_mapping_to_a_column_the_file_lacks_names_it_and_suggests_one(tmp_path):
    root = make_project(tmp_path, KOREAN_YAML.replace("amount: 결제금액", "amount: 결제금엑"),
                        {"orders.csv": KOREAN_CSV.encode()})
    with pytest.raises(DataError) as info:
        load(root)
    err = info.value
    assert (err.table, err.column) == ("orders", "amount")
    assert "결제금엑" in err.problem
    assert "did you mean '결제금액'" in err.fix


def test_missing_required_column_is_named_with_the_fix(tmp_path):
    root = make_project(tmp_path, """
        data:
          source: data/acme
          tables:
            orders: {file: orders.csv}
        """, {"orders.csv": b"customer_id,ordered_at,total\nc1,2026-10-01,10\n"})
    with pytest.raises(DataError) as info:
        load(root)
    err = info.value
    assert (err.table, err.column) == ("orders", "amount")
    assert "required column missing: amount" in err.problem
    assert "data.tables.orders.columns" in err.fix and "total" in err.fix   # lists the file's columns


def test_typed_parquet_columns_are_checked_without_being_written_as_text(tmp_path, monkeypatch):
    """A Parquet column that is already typed (numbers as occurred_at, an
    all-null float amount) gets the errors a CSV would: values that cannot
    be read as timestamps, with examples, and a required column without a
    value. The counting scan casts none of the typed columns to text."""
    events = pd.DataFrame({"customer_id": ["c1", "c2", "c3"], "occurred_at": [20261001, None, 20261003],
                           "event_type": ["visit", "visit", "visit"]})
    orders = pd.DataFrame({"customer_id": ["c1"], "ordered_at": pd.to_datetime(["2026-10-01"]),
                           "amount": [None]}).astype({"amount": "float64"})
    root = make_project(tmp_path, """
        data:
          source: data/acme
          tables:
            events: {file: events.parquet}
            orders: {file: orders.parquet}
        """, {"events.parquet": events, "orders.parquet": orders})
    scans = []
    real = io._TableLoader._scan_checks

    class Recording:
        def __init__(self, con):
            self.con = con

        def __getattr__(self, name):
            return getattr(self.con, name)

        def execute(self, sql, *a, **k):
            if sql.startswith("SELECT count"):
                scans.append(sql)
            return self.con.execute(sql, *a, **k)

    def spy(self, load, exprs, chosen, source):
        con, self.con = self.con, Recording(self.con)
        try:
            return real(self, load, exprs, chosen, source)
        finally:
            self.con = con

    monkeypatch.setattr(io._TableLoader, "_scan_checks", spy)
    with pytest.raises(DataErrors) as info:
        load(root)
    errors = {(e.table, e.column): e for e in info.value.errors}
    ts = errors[("events", "occurred_at")]
    assert ts.n_rows == 2 and "cannot be read as a date or timestamp" in ts.problem
    assert sorted(map(str, ts.examples)) == ["20261001.0", "20261003.0"]
    assert "is empty in all 1 rows" in errors[("orders", "amount")].problem
    typed = ('"occurred_at"', '"amount"', '"ordered_at"')
    assert scans and not any(f"CAST({c} AS VARCHAR)" in sql for sql in scans for c in typed)


def test_unknown_canonical_column_in_mapping_is_a_config_error(tmp_path):
    root = make_project(tmp_path, KOREAN_YAML.replace("channel: 채널", "chanel: 채널"),
                        {"orders.csv": KOREAN_CSV.encode()})
    with pytest.raises(ConfigError) as info:
        load(root)
    assert "'chanel'" in str(info.value) and "did you mean 'channel'" in str(info.value)


# --------------------------------------------------------------------------
# Derived customers and generated ids
# --------------------------------------------------------------------------

def test_customers_derived_from_first_order_or_event(tmp_path):
    root = make_project(tmp_path, """
        data:
          source: data/acme
          tables:
            orders: {file: orders.csv}
            events: {file: events.csv}
        """, {
        "orders.csv": (b"customer_id,ordered_at,amount\n"
                       b"c1,2026-09-03,100\n"
                       b"c1,2026-10-05,50\n"
                       b"c2,2026-10-10,30\n"),
        "events.csv": (b"customer_id,occurred_at,event_type\n"
                       b"c1,2026-08-01,visit\n"      # c1 visited before first ordering
                       b"c2,2026-10-11,visit\n"      # after c2's first order
                       b"c3,2026-10-20,visit\n"),    # c3 never ordered
    })
    with load(root) as ds:
        cust = frame(ds, "customers").set_index("customer_id")["signup_at"].to_dict()
        assert cust == {
            "c1": pd.Timestamp("2026-08-01"),   # first event (08-01) < first order (09-03)
            "c2": pd.Timestamp("2026-10-10"),   # first order (10-10) < first event (10-11)
            "c3": pd.Timestamp("2026-10-20"),   # events only
        }
        load_ = ds.report.tables["customers"]
        assert (load_.status, load_.format, load_.rows_loaded) == ("derived", "derived", 3)


def test_customers_unknown_to_the_customers_table_are_added(tmp_path):
    root = make_project(tmp_path, """
        data:
          source: data/acme
          tables:
            customers: {file: customers.csv}
            orders: {file: orders.csv}
        """, {
        "customers.csv": b"customer_id,signup_at,country\nc1,2026-01-05,KR\n",
        "orders.csv": b"customer_id,ordered_at,amount\nc1,2026-10-01,10\nc2,2026-10-03,20\nc2,2026-10-02,5\n",
    })
    with load(root) as ds:
        cust = frame(ds, "customers").set_index("customer_id")
        assert cust["signup_at"].to_dict() == {"c1": pd.Timestamp("2026-01-05"),
                                               "c2": pd.Timestamp("2026-10-02")}  # c2's first order
        load_ = ds.report.tables["customers"]
        assert [(r.kind, r.rows) for r in load_.repairs] == [("unknown_customers", 1)]   # c2
        assert load_.rows_loaded == 2                                                   # 1 supplied + 1 added
        known = [c for c in load_.checks if c.check == "known_customer"]
        assert [(c.column, c.failing_rows) for c in known] == [("customer_id", 1)]


def test_order_id_generated_when_absent(tmp_path):
    root = make_project(tmp_path, """
        data:
          source: data/acme
          tables:
            orders: {file: orders.csv}
        """, {"orders.csv": (b"customer_id,ordered_at,amount\n"
                             b"c1,2026-10-01,10\n"
                             b"c1,2026-10-01,10\n"     # same values again: still its own order
                             b"c2,2026-10-03,7\n")})
    with load(root) as ds:
        ids = frame(ds, "orders")["order_id"]
        assert sorted(ids) == ["row-1", "row-2", "row-3"]   # one per row, none deduplicated
        repairs = [(r.kind, r.rows, r.detail) for r in ds.report.tables["orders"].repairs]
        assert repairs == [("generated_id", 3, "order_id")]


def test_generated_order_id_counts_only_kept_rows(tmp_path):
    root = make_project(tmp_path, """
        data:
          source: data/acme
          tables:
            orders: {file: orders.csv}
        """, {"orders.csv": (b"customer_id,ordered_at,amount\n"
                             b"c1,2026-10-01,10\n"
                             b",2026-10-02,5\n"        # no customer: dropped
                             b"c2,2026-10-03,7\n")})
    with load(root) as ds:
        assert sorted(frame(ds, "orders")["order_id"]) == ["row-1", "row-2"]
        repairs = {r.kind: r.rows for r in ds.report.tables["orders"].repairs}
        assert repairs == {"generated_id": 2,          # ids given to the 2 kept rows, not to all 3
                           "missing_required": 1}      # the row without customer_id


def test_supplied_order_id_is_kept_and_must_be_unique(tmp_path):
    files = {"orders.csv": b"order_id,customer_id,ordered_at,amount\no1,c1,2026-10-01,10\no2,c2,2026-10-02,20\n"}
    yaml = """
        data:
          source: data/acme
          tables:
            orders: {file: orders.csv}
        """
    root = make_project(tmp_path / "good", yaml, files)
    with load(root) as ds:
        assert sorted(frame(ds, "orders")["order_id"]) == ["o1", "o2"]
        assert ds.report.tables["orders"].repairs == []

    bad = {"orders.csv": b"order_id,customer_id,ordered_at,amount\no1,c1,2026-10-01,10\no1,c2,2026-10-02,20\n"}
    root = make_project(tmp_path / "bad", yaml, bad)
    with pytest.raises(DataError) as info:
        load(root)
    err = info.value
    assert (err.table, err.column, err.n_rows) == ("orders", "order_id", 2)   # both rows share o1
    assert err.examples == ["o1"]


# --------------------------------------------------------------------------
# Privacy
# --------------------------------------------------------------------------

PII_YAML = """
    data:
      source: data/acme
      tables:
        customers: {file: customers.csv}
        orders: {file: orders.csv}
        surveys: {file: surveys.csv}
    """
PII_FILES = {
    "orders.csv": b"customer_id,ordered_at,amount\nc1,2026-10-01,10\n",
    "customers.csv": (
        "customer_id,signup_at,email,name,phone,휴대폰,segment\n"
        "c1,2026-01-05,kim.minsu@example.com,Kim Minsu,010-1234-5678,010-1111-2222,segment-gold\n"
        "c2,2026-02-01,lee.jiwoo@example.com,Lee Jiwoo,010-9876-5432,010-3333-4444,segment-silver\n"
    ).encode(),
    "surveys.csv": (
        "response_id,responded_at,customer_id,nps,comment\n"
        'r1,2026-10-02,c1,9,"my private complaint about the barista"\n'
        "r2,2026-10-03,c2,4,\n"
        'r3,2026-10-04,c2,7,"   "\n'
    ).encode(),
}
PII_VALUES = ["kim.minsu@example.com", "Kim Minsu", "010-1234-5678", "010-1111-2222", "private complaint"]


def test_pii_columns_are_never_loaded(tmp_path):
    root = make_project(tmp_path, PII_YAML, PII_FILES)
    with load(root) as ds:
        cust = frame(ds, "customers", raw=True)
        assert set(cust.columns) == {"customer_id", "signup_at", "segment"}
        dropped = ds.report.tables["customers"].pii_dropped
        # the three canonical PII columns, and 휴대폰 ("mobile phone") by its name
        assert {d.split(" ")[0] for d in dropped} == {"email", "name", "phone", "휴대폰"}
        for table in ds.tables:
            values = frame(ds, table, raw=True).astype(str).to_numpy().ravel().tolist()
            assert not any(p in v for p in PII_VALUES for v in values), table
        cache = ds.path
    # Nor are they written anywhere in the cache (the database and the load report).
    blobs = [p.read_bytes() for p in cache.rglob("*") if p.is_file()]
    assert blobs
    for p in PII_VALUES:
        assert not any(p.encode() in b for b in blobs), p
    # Control: a value that is loaded is found this way.
    assert any(b"segment-silver" in b for b in blobs)


def test_survey_comment_becomes_a_has_comment_flag(tmp_path):
    root = make_project(tmp_path, PII_YAML, PII_FILES)
    with load(root) as ds:
        sv = frame(ds, "surveys").set_index("response_id")
        assert "comment" not in sv.columns
        assert sv["has_comment"].to_dict() == {"r1": True,    # a comment
                                               "r2": False,   # empty
                                               "r3": False}   # blanks only
        assert ds.report.tables["surveys"].pii_dropped == ["comment"]
        assert "comment" not in ds.report.tables["surveys"].columns


# --------------------------------------------------------------------------
# Period end
# --------------------------------------------------------------------------

def test_nothing_after_the_period_end_is_visible(tmp_path):
    root = make_project(tmp_path, """
        data:
          source: data/acme
          tables:
            orders: {file: orders.csv}
            subscriptions: {file: subscriptions.csv}
        """, {
        "orders.csv": (b"customer_id,ordered_at,amount\n"
                       b"c1,2026-10-31 23:59:59,10\n"    # last second of October: in
                       b"c1,2026-11-01 00:00:00,20\n"    # period end itself: out
                       b"c2,2026-09-15 12:00:00,30\n"    # in
                       b"c2,2026-12-01 08:00:00,40\n"),  # out
        "subscriptions.csv": (b"subscription_id,customer_id,started_at,ended_at\n"
                              b"s1,c1,2026-10-01,2026-11-15\n"    # ended after the end: ended_at hidden
                              b"s2,c2,2026-09-01,2026-10-20\n"    # ended inside: kept
                              b"s3,c1,2026-11-02,\n"),            # started after the end: out
    })
    with load(root) as ds:
        orders = frame(ds, "orders")
        assert len(orders) == 2                          # 10 and 30
        assert orders["amount"].sum() == 40.0            # 10 + 30
        assert len(frame(ds, "orders", raw=True)) == 4   # raw() still has all 4

        subs = frame(ds, "subscriptions").set_index("subscription_id")
        assert sorted(subs.index) == ["s1", "s2"]
        assert pd.isna(subs.loc["s1", "ended_at"])
        assert subs.loc["s2", "ended_at"] == pd.Timestamp("2026-10-20")

        end = pd.Timestamp(ds.cfg.period.end)            # 2026-11-01
        for name in ds.tables:                           # customers too (derived)
            df = frame(ds, name)
            for col in df.select_dtypes("datetime").columns:
                assert (df[col].dropna() < end).all(), (name, col)

        # An explicit earlier bound: only September's order.
        early = ds.table("orders", until=dt.date(2026, 10, 1)).to_pandas()
        assert early["amount"].tolist() == [30.0]


def test_offset_timestamps_are_placed_in_the_client_time_zone(tmp_path):
    root = make_project(tmp_path, """
        timezone: Asia/Seoul
        data:
          source: data/acme
          tables:
            orders: {file: orders.csv}
        """, {"orders.csv": (b"customer_id,ordered_at,amount\n"
                             b"c1,2026-10-31T14:30:00Z,10\n"     # 23:30 in Seoul, Oct 31: in
                             b"c2,2026-10-31T16:30:00Z,20\n")})  # 01:30 in Seoul, Nov 1: out
    with load(root) as ds:
        assert frame(ds, "orders")["amount"].tolist() == [10.0]
        assert sorted(frame(ds, "orders", raw=True)["ordered_at"]) == [
            pd.Timestamp("2026-10-31 23:30"), pd.Timestamp("2026-11-01 01:30")]


# --------------------------------------------------------------------------
# Cache
# --------------------------------------------------------------------------

ORDERS_YAML = """
    data:
      source: data/acme
      tables:
        orders: {file: orders.csv}
    """


def _fingerprint(ds: io.Dataset) -> tuple:
    st = (ds.path / "data.duckdb").stat()
    return ds.path, st.st_ino, st.st_mtime_ns, ds.report.built_at


def test_cache_reused_when_files_unchanged_and_rebuilt_when_one_changes(tmp_path):
    root = make_project(tmp_path, ORDERS_YAML, {
        "orders.csv": b"customer_id,ordered_at,amount\nc1,2026-10-01,10\nc2,2026-10-02,20\n"})
    csv = root / "data" / "acme" / "orders.csv"

    with load(root) as ds:
        first = _fingerprint(ds)
    with load(root) as ds:
        assert _fingerprint(ds) == first                # same folder, same database file: not rebuilt

    # Same size, different content (20 → 30): the content digest tells.
    csv.write_bytes(b"customer_id,ordered_at,amount\nc1,2026-10-01,10\nc2,2026-10-02,30\n")
    st = csv.stat()
    os.utime(csv, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    with load(root) as ds:
        second = _fingerprint(ds)
        assert second[0] != first[0]
        assert frame(ds, "orders")["amount"].sum() == 40.0   # 10 + 30
    assert not first[0].exists()                              # the stale entry is removed

    # A row appended.
    with csv.open("ab") as f:
        f.write(b"c3,2026-10-03,5\n")
    with load(root) as ds:
        assert ds.path != second[0]
        assert ds.report.tables["orders"].rows_loaded == 3
        assert frame(ds, "orders")["amount"].sum() == 45.0   # 10 + 30 + 5


def test_cache_key_follows_content_not_modification_time(tmp_path):
    root = make_project(tmp_path, ORDERS_YAML, {
        "orders.csv": b"customer_id,ordered_at,amount\nc1,2026-10-01,10\n"})
    csv = root / "data" / "acme" / "orders.csv"
    cfg = config.load("acme", PERIOD, root=root)
    key = io.cache_key(cfg)
    st = csv.stat()
    os.utime(csv, ns=(st.st_atime_ns, st.st_mtime_ns + 5 * 10**9))   # touched, e.g. re-synced
    assert io.cache_key(cfg) == key
    csv.write_bytes(b"customer_id,ordered_at,amount\nc1,2026-10-01,11\n")
    assert io.cache_key(cfg) != key
    csv.write_bytes(b"customer_id,ordered_at,amount\nc1,2026-10-01,10\n")  # back to the first content
    assert io.cache_key(cfg) == key


def test_content_digest_is_remembered_by_path_size_and_mtime(tmp_path):
    f = tmp_path / "a.csv"
    f.write_bytes(b"x,y\n1,2\n")
    d = io.content_digest(f, tmp_path / "cache")
    assert d == io.content_digest(f)                         # same bytes, same digest, with or without memo
    assert len(d) == 32
    assert d in (tmp_path / "cache" / "digests.json").read_text()
    f.write_bytes(b"x,y\n1,3\n")
    assert io.content_digest(f, tmp_path / "cache") != d


def test_content_digests_of_several_files_hash_each_once_and_remember_them_all(tmp_path, monkeypatch):
    files = []
    for i in range(5):
        f = tmp_path / f"t{i}.csv"
        f.write_bytes(b"x,y\n" + str(i).encode() * (i + 1) + b",2\n")
        files.append(f)
    hashed = []
    real = io._hash_file
    monkeypatch.setattr(io, "_hash_file", lambda p: hashed.append(p) or real(p))
    digests = io.content_digests(files + [files[0]], tmp_path / "cache")   # a file named twice is hashed once
    assert sorted(hashed) == sorted(files)
    assert digests == {f: io.content_digest(f) for f in files}            # as one at a time, without memo
    assert len(set(digests.values())) == 5
    memo = (tmp_path / "cache" / "digests.json").read_text()
    assert all(d in memo for d in digests.values())                      # written once, every file in it
    hashed.clear()
    assert io.content_digests(files, tmp_path / "cache") == digests
    assert hashed == []                                                   # remembered: nothing read again


def test_large_csv_is_converted_once_to_parquet_and_reused(tmp_path, monkeypatch):
    monkeypatch.setattr(io, "CSV_TO_PARQUET_BYTES", 0)      # every CSV counts as large here
    root = make_project(tmp_path, KOREAN_YAML, {"orders.csv": KOREAN_CSV.encode("cp949")})
    with load(root) as ds:
        assert ds.report.tables["orders"].encoding == "cp949"
        assert sorted(frame(ds, "orders")["channel"]) == ["네이버", "카카오"]
    copies = list((root / "data" / ".cache" / "csv").glob("*.parquet"))
    assert len(copies) == 1

    # The client file changes (a new cache key): the rebuild reads the
    # Parquet copy; the CSV is neither decoded nor parsed again.
    def no_decoding(path, *a, **k):
        raise AssertionError(f"{path} was decoded again")

    monkeypatch.setattr(io, "detect_encoding", no_decoding)
    yaml_path = root / "params" / "clients" / "acme.yaml"
    yaml_path.write_text(yaml_path.read_text(encoding="utf-8").replace("language: ko", "language: en")
                         .replace("timezone: Asia/Seoul", "timezone: UTC"), encoding="utf-8")
    with load(root) as ds:
        assert ds.report.tables["orders"].encoding == "cp949"
        assert sorted(frame(ds, "orders")["amount"]) == [1000.0, 2500.0]
    assert list((root / "data" / ".cache" / "csv").glob("*.parquet")) == copies


def test_cache_rebuilt_when_the_mapping_changes_or_on_refresh(tmp_path):
    root = make_project(tmp_path, ORDERS_YAML, {
        "orders.csv": b"customer_id,ordered_at,amount,total\nc1,2026-10-01,10,11\n"})
    with load(root) as ds:
        first = _fingerprint(ds)
        assert frame(ds, "orders")["amount"].tolist() == [10.0]

    cfg = config.load("acme", PERIOD, root=root)
    with io.load(cfg, refresh=True) as ds:
        # same key, but a new entry beside the first (entries never change once written) …
        assert ds.path != first[0] and ds.path.name.split("-")[0] == first[0].name.split("-")[0]
        assert _fingerprint(ds)[1:3] != first[1:3]          # … with its own database file
    assert not first[0].exists()                            # the first, unused, is removed

    (root / "params" / "clients" / "acme.yaml").write_text(
        textwrap.dedent(ORDERS_YAML).replace("{file: orders.csv}", "{file: orders.csv, columns: {amount: total}}"),
        encoding="utf-8")
    with load(root) as ds:
        assert ds.path != first[0]
        assert frame(ds, "orders")["amount"].tolist() == [11.0]


def test_dataset_has_and_missing(tmp_path):
    root = make_project(tmp_path, ORDERS_YAML, {"orders.csv": b"customer_id,ordered_at,amount\nc1,2026-10-01,10\n"})
    with load(root) as ds:
        assert ds.has("orders", "customers")                 # customers derived
        assert not ds.has("orders", "surveys")
        assert ds.missing("orders", "surveys", "tickets") == ["surveys", "tickets"]
        with pytest.raises(KeyError, match="surveys"):
            ds.table("surveys")


def test_database_source_loads_like_a_file(tmp_path):
    import duckdb

    db = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE shop_orders (cust VARCHAR, ts TIMESTAMP, amount DOUBLE)")
    con.execute("INSERT INTO shop_orders VALUES ('c1', '2026-10-01 10:00', 10), ('c2', '2026-10-02 11:00', 32.5), "
                "('c2', '2026-11-03 09:00', 99)")                # the last one is after the period end
    con.close()
    root = make_project(tmp_path, f"""
        data:
          source: duckdb://{db}
          tables:
            orders:
              table: shop_orders
              columns: {{customer_id: cust, ordered_at: ts}}
        """, {})
    with load(root) as ds:
        load_ = ds.report.tables["orders"]
        assert (load_.format, load_.rows_loaded) == ("database", 3)
        assert load_.source == f"duckdb://{db} / shop_orders"
        assert frame(ds, "orders")["amount"].sum() == 42.5        # 10 + 32.5; 99 is in November


def test_missing_database_file_is_a_clear_error_and_not_created(tmp_path):
    db = tmp_path / "nope.duckdb"
    root = make_project(tmp_path, f"""
        data:
          source: duckdb://{db}
          tables:
            orders: {{table: orders}}
        """, {})
    with pytest.raises(DataError) as info:
        load(root)
    assert info.value.table == "orders" and "cannot read table 'orders'" in info.value.problem
    assert not db.exists()


# --------------------------------------------------------------------------
# Hostile inputs (issue 19): zones, repeated names, currencies, CSV shapes,
# encodings, Excel headers, database tables, messages
# --------------------------------------------------------------------------

def xlsx(rows: list[list], merge: list[str] = ()) -> bytes:
    """An .xlsx file whose first sheet holds ``rows`` from A1 (None: empty cell)."""
    import io as _io

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for r, row in enumerate(rows, start=1):
        for c, v in enumerate(row, start=1):
            if v is not None:
                ws.cell(r, c, v)
    for rng in merge:
        ws.merge_cells(rng)
    buf = _io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_zone_names_are_converted_to_the_client_time_zone(tmp_path):
    root = make_project(tmp_path, """
        timezone: Asia/Seoul
        data:
          source: data/acme
          tables:
            orders: {file: orders.csv}
        """, {"orders.csv": (b"customer_id,ordered_at,amount\n"
                             b"c1,2024-11-04 08:25:30 UTC,10\n"                # 17:25:30 in Seoul (+9 h)
                             b"c2,2024-11-04 08:25:30 PST,20\n"                # -08:00: 2024-11-05 01:25:30
                             b"c3,2024-11-04 08:25:30 America/New_York,30\n"   # EST since Nov 3: 22:25:30
                             b"c4,2024-07-04 08:25:30 America/New_York,40\n"   # EDT in July: 21:25:30
                             b"c5,2024-11-04 08:25:30 UTC+9,50\n"              # an offset after UTC: as is
                             b"c6,2024-11-04 08:25:30,60\n")})                 # no zone: Seoul time
    with load(root, "2024-11") as ds:
        got = frame(ds, "orders", raw=True).set_index("customer_id")["ordered_at"].to_dict()
        assert got == {
            "c1": pd.Timestamp("2024-11-04 17:25:30"), "c2": pd.Timestamp("2024-11-05 01:25:30"),
            "c3": pd.Timestamp("2024-11-04 22:25:30"), "c4": pd.Timestamp("2024-07-04 21:25:30"),
            "c5": pd.Timestamp("2024-11-04 08:25:30"), "c6": pd.Timestamp("2024-11-04 08:25:30")}
        assert ds.report.tables["orders"].time_zones == {"ordered_at": {
            "UTC": 1, "PST": 1, "America/New_York": 2, "UTC+9": 1}}


def test_client_says_what_an_ambiguous_zone_name_means(tmp_path):
    files = {"orders.csv": (b"customer_id,ordered_at,amount\n"
                            b"c1,2024-11-04 08:00:00 IST,10\n"      # India: 02:30 UTC, 11:30 in Seoul
                            b"c2,2024-11-04 08:00:00 CST,20\n")}    # by default North American Central (-06:00)
    yaml_ = """
        timezone: Asia/Seoul
        data:
          source: data/acme
          tables:
            orders: {file: orders.csv%s}
        """
    with pytest.raises(DataError) as info:
        load(make_project(tmp_path / "a", yaml_ % "", files), "2024-11")
    assert info.value.column == "ordered_at" and info.value.n_rows == 1
    assert "IST (1 row: ambiguous" in info.value.problem and "time_zones" in info.value.fix

    root = make_project(tmp_path / "b", yaml_ % ", time_zones: {IST: Asia/Kolkata, CST: '+08:00'}", files)
    with load(root, "2024-11") as ds:
        got = frame(ds, "orders", raw=True).set_index("customer_id")["ordered_at"].to_dict()
        assert got == {"c1": pd.Timestamp("2024-11-04 11:30"),     # 08:00 +05:30 -> 02:30 UTC -> 11:30 KST
                       "c2": pd.Timestamp("2024-11-04 09:00")}     # China: 08:00 +08:00 -> 09:00 KST


def test_zone_name_after_a_date_format_is_converted(tmp_path):
    root = make_project(tmp_path, """
        timezone: Asia/Seoul
        data:
          source: data/acme
          tables:
            orders: {file: orders.csv, date_format: "%d/%m/%Y %H:%M %Z"}
        """, {"orders.csv": b"customer_id,ordered_at,amount\nc1,04/11/2024 08:25 BST,10\nc2,04/11/2024 08:25,20\n"})
    with load(root, "2024-11") as ds:
        got = frame(ds, "orders", raw=True).set_index("customer_id")["ordered_at"].to_dict()
        # BST is British Summer Time (+01:00), not ICU's Bangladesh (+06:00): 07:25 UTC, 16:25 in Seoul.
        assert got == {"c1": pd.Timestamp("2024-11-04 16:25"), "c2": pd.Timestamp("2024-11-04 08:25")}


def test_repeated_excel_column_name_is_an_error_naming_it(tmp_path):
    root = make_project(tmp_path, """
        data:
          source: data/acme
          tables:
            orders: {file: orders.xlsx}
        """, {"orders.xlsx": xlsx([["customer_id", "ordered_at", "Amount", "amount"],
                                   ["c1", "2026-10-01", 1, 12000],
                                   ["c2", "2026-10-02", 1, 8000]])})
    with pytest.raises(DataError) as info:
        load(root)
    err = info.value
    assert (err.table, err.column) == ("orders", "amount")
    assert "'Amount' and 'amount' (columns C, D" in err.problem      # Excel's column letters
    assert err.examples == ["Amount", "amount"]


def test_repeated_name_of_an_unread_column_is_not_an_error(tmp_path):
    root = make_project(tmp_path, ORDERS_YAML, {
        "orders.csv": b"customer_id,ordered_at,amount,note,note\nc1,2026-10-01,10,a,b\n"})
    with load(root) as ds:
        assert frame(ds, "orders")["amount"].tolist() == [10.0]


def test_repeated_name_is_found_in_a_large_csv_read_from_its_parquet_copy(tmp_path, monkeypatch):
    monkeypatch.setattr(io, "CSV_TO_PARQUET_BYTES", 0)
    root = make_project(tmp_path, ORDERS_YAML.replace("{file: orders.csv}", "{file: orders.csv, columns: {amount: total}}"),
                        {"orders.csv": b"customer_id,ordered_at,total,amount,amount\nc1,2026-10-01,10,1,2\n"})
    with load(root) as ds:                                      # amount is not read: the copy is made
        assert frame(ds, "orders")["amount"].tolist() == [10.0]
    yaml_path = root / "params" / "clients" / "acme.yaml"
    yaml_path.write_text(textwrap.dedent(ORDERS_YAML), encoding="utf-8")
    with pytest.raises(DataError, match="repeats a column name"):   # the copy remembers the header
        load(root)


@pytest.mark.parametrize("currency, rows, bad", [
    ("JPY", b"c1,2026-10-01,1.5\n", ["1.5"]),                   # yen have no minor unit
    ("KRW", b"c1,2026-10-01,\"1.234.567\"\n", None),             # not a number at all: the cast error says so
    ("USD", b"c1,2026-10-01,1.234\n", []),                      # cents are fine in dollars
])
def test_decimals_in_a_currency_without_minor_units(tmp_path, currency, rows, bad):
    root = make_project(tmp_path, f"currency: {currency}\n" + textwrap.dedent(ORDERS_YAML),
                        {"orders.csv": b"customer_id,ordered_at,amount\n" + rows})
    if bad == []:
        with load(root) as ds:
            assert ds.report.tables["orders"].rows_loaded == 1
        return
    with pytest.raises(DataError) as info:
        load(root)
    if bad is None:
        assert "not a number" in info.value.problem
    else:
        assert info.value.examples == bad and currency in info.value.problem


def test_decimals_are_checked_in_each_row_s_own_currency(tmp_path):
    root = make_project(tmp_path, "currency: USD\n" + textwrap.dedent(ORDERS_YAML), {
        "orders.csv": (b"customer_id,ordered_at,amount,currency\n"
                       b"c1,2026-10-01,12.50,USD\n"        # cents: fine
                       b"c2,2026-10-02,1200,jpy\n"         # whole yen: fine
                       b"c3,2026-10-03,9.99,JPY\n")})      # yen with decimals: refused
    with pytest.raises(DataError) as info:
        load(root)
    err = info.value
    assert (err.column, err.n_rows, err.examples) == ("amount", 1, ["9.99"])
    assert "JPY has no minor unit" in err.problem


def test_quoted_newline_in_a_large_csv_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(io, "CSV_TO_PARQUET_BYTES", 0)          # the Parquet conversion path
    root = make_project(tmp_path, ORDERS_YAML, {
        "orders.csv": b'customer_id,ordered_at,amount,note\nc1,2026-10-01,10,"two\nlines"\nc2,2026-10-02,20\n'})
    with load(root) as ds:
        assert sorted(frame(ds, "orders")["amount"]) == [10.0, 20.0]


def test_short_rows_are_padded_not_misread(tmp_path):
    # What null_padding buys: without it DuckDB's sniffer reads a file with
    # a short row as one column per line, and the table fails to map.
    root = make_project(tmp_path, ORDERS_YAML, {
        "orders.csv": b"customer_id,ordered_at,amount,channel\nc1,2026-10-01,10,web\nc2,2026-10-02,20\n"})
    with load(root) as ds:
        assert frame(ds, "orders").set_index("customer_id")["amount"].to_dict() == {"c1": 10.0, "c2": 20.0}


def test_bom_on_a_cp949_file_is_explained(tmp_path):
    raw = b"\xef\xbb\xbf" + KOREAN_CSV.encode("cp949")
    root = make_project(tmp_path, KOREAN_YAML, {"orders.csv": raw})
    with pytest.raises(io.EncodingMismatch):
        io.detect_encoding(root / "data" / "acme" / "orders.csv")
    with pytest.raises(DataError) as info:
        load(root)
    err = info.value
    assert err.table == "orders" and err.column is None
    assert "UTF-8 byte-order mark" in err.problem and "CP949" in err.problem
    assert "bytes B0 ED at byte 3 (line 1) (in CP949: '고')" in err.problem   # the first Hangul of the header
    assert "data.tables.orders.encoding: cp949" in err.fix

    # The fix works: declared CP949, the mark is skipped (not glued to the first name).
    (root / "params" / "clients" / "acme.yaml").write_text(
        textwrap.dedent(KOREAN_YAML).replace("file: orders.csv", "file: orders.csv\n      encoding: cp949"),
        encoding="utf-8")
    with load(root) as ds:
        assert sorted(frame(ds, "orders")["channel"]) == ["네이버", "카카오"]


def test_declared_utf8_that_is_not_is_explained(tmp_path):
    root = make_project(tmp_path, KOREAN_YAML.replace("file: orders.csv", "file: orders.csv\n          encoding: utf-8"),
                        {"orders.csv": KOREAN_CSV.encode("cp949")})
    with pytest.raises(DataError) as info:
        load(root)
    assert "declared utf-8" in info.value.problem and "reads as CP949" in info.value.problem
    assert "encoding: cp949" in info.value.fix


def test_excel_title_rows_and_two_level_header(tmp_path):
    sheet = xlsx([
        ["Orders export, October 2026"],                                   # row 1: title
        [],                                                                # row 2: blank
        ["Customer", None, "Order", None],                                 # row 3: groups (merged)
        ["customer_id", "channel", "ordered_at", "amount"],                # row 4: the names
        ["(id)", "(text)", "(date)", "(KRW)"],                             # row 5: units
        ["c1", "web", "2026-10-01 09:00:00", 12000],
        ["c2", "app", "2026-10-02 10:00:00", 8000],
    ], merge=["A3:B3", "C3:D3"])
    root = make_project(tmp_path, """
        data:
          source: data/acme
          tables:
            orders: {file: orders.xlsx, header_row: 4, skip_rows: 1}
        """, {"orders.xlsx": sheet})
    with load(root) as ds:
        df = frame(ds, "orders").sort_values("customer_id")
        assert df["amount"].tolist() == [12000.0, 8000.0]
        assert df["channel"].tolist() == ["web", "app"]
        assert ds.report.tables["orders"].rows_read == 2


def test_header_row_beyond_the_sheet_is_explained(tmp_path):
    root = make_project(tmp_path, """
        data:
          source: data/acme
          tables:
            orders: {file: orders.xlsx, header_row: 9}
        """, {"orders.xlsx": xlsx([["customer_id", "ordered_at", "amount"], ["c1", "2026-10-01", 1]])})
    with pytest.raises(DataError) as info:
        load(root)
    assert "has 2 rows" in info.value.problem and "header_row" in info.value.fix


def test_header_settings_on_a_parquet_file_are_refused(tmp_path):
    root = make_project(tmp_path, """
        data:
          source: data/acme
          tables:
            orders: {file: orders.parquet, header_row: 2}
        """, {"orders.parquet": pd.DataFrame({"customer_id": ["c1"], "ordered_at": ["2026-10-01"], "amount": [1.0]})})
    with pytest.raises(ConfigError, match="header_row is set, but the table is read from a Parquet file"):
        load(root)


def _warehouse(path: Path) -> None:
    import duckdb

    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA sales")
    con.execute("CREATE TABLE sales.orders (cust VARCHAR, ts TIMESTAMP, amount DOUBLE)")
    con.execute("INSERT INTO sales.orders VALUES ('c1', '2026-10-01 10:00', 10), ('c2', '2026-10-02 11:00', 32.5)")
    con.close()


def test_database_table_with_a_schema_and_a_relative_path(tmp_path, monkeypatch):
    root = make_project(tmp_path, """
        data:
          source: duckdb://data/warehouse.duckdb
          tables:
            orders:
              table: sales.orders
              columns: {customer_id: cust, ordered_at: ts}
        """, {})
    _warehouse(root / "data" / "warehouse.duckdb")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)                    # relative to the project, not the working directory
    with load(root) as ds:
        assert frame(ds, "orders")["amount"].sum() == 42.5
        assert ds.report.tables["orders"].source == "duckdb://data/warehouse.duckdb / sales.orders"
    assert not (elsewhere / "data").exists()


def test_missing_database_table_lists_the_tables(tmp_path):
    root = make_project(tmp_path, """
        data:
          source: duckdb://data/warehouse.duckdb
          tables:
            orders: {table: sales.order, columns: {customer_id: cust, ordered_at: ts}}
        """, {})
    _warehouse(root / "data" / "warehouse.duckdb")
    with pytest.raises(DataError) as info:
        load(root)
    assert "table 'sales.order' does not exist" in info.value.problem
    assert "did you mean 'sales.orders'" in info.value.fix


def test_errors_name_files_matched_in_several_folders_by_path(tmp_path):
    root = make_project(tmp_path, """
        data:
          source: data/acme
          tables:
            orders: {file: "*/orders.csv"}
        """, {
        "2026-09/orders.csv": b"customer_id,ordered_at,amount\nc1,2026-09-01,10\n",
        "2026-10/orders.csv": b"customer_id,ordered_at,amount\nc2,2026-10-01,abc\n",
    })
    with pytest.raises(DataError) as info:
        load(root)
    assert info.value.file == "2026-09/orders.csv, 2026-10/orders.csv"
    assert "(file 2026-09/orders.csv, 2026-10/orders.csv)" in str(info.value)


def test_glob_with_folders_matching_nothing_lists_paths(tmp_path):
    root = make_project(tmp_path, """
        data:
          source: data/acme
          tables:
            orders: {file: "*/order.csv"}
        """, {"2026-09/orders.csv": b"customer_id,ordered_at,amount\nc1,2026-09-01,10\n"})
    with pytest.raises(DataError) as info:
        load(root)
    assert "did you mean '2026-09/orders.csv'" in info.value.fix


def test_classify_values_reads_client_default_blank_and_unmapped_values():
    from journeykit.data.loader import classify_values

    mapping = {"settled": ("paid", "client"), "paid": ("paid", "default")}
    listed, unmapped = classify_values([("Settled", 5), ("failed", 3), (None, 2), ("결제완료", 1)], mapping,
                                       {"paid", "failed"})
    assert [(r["value"], r["canonical"], r["rows"], r["mapped_by"]) for r in listed] == [
        ("Settled", "paid", 5, "client"), ("failed", "failed", 3, "default"), (None, None, 2, "empty"),
        ("결제완료", None, 1, None)]
    assert unmapped == [("결제완료", 1)]


def test_value_checks_run_on_every_row_beyond_the_first_chunk(tmp_path, monkeypatch):
    """The whole schema runs on the first chunk, the value checks on every
    row: failures in a later chunk are counted, each row once, with its
    examples; table-wide checks too (chunks of 2 rows here)."""
    from journeykit.core.errors import DataErrors

    monkeypatch.setattr(io, "CHUNK_ROWS", 2)
    orders = (b"order_id,customer_id,ordered_at,amount,items\n"
              b"o1,c1,2026-10-01,-5,1\n"        # row 0: amount < 0 (first chunk)
              b"o2,c1,2026-10-02,10,1\n"
              b"o3,c2,2026-10-03,10,1\n"
              b"o4,c2,2026-10-04,10,-2\n"       # row 3: items < 0 (second chunk)
              b"o5,c3,2026-10-05,-7,1\n")       # row 4: amount < 0 (third chunk)
    messages = (b"customer_id,campaign,sent_at,opened_at\n"
                b"c1,oct,2026-10-02,2026-10-03\n"
                b"c2,oct,2026-10-02,2026-10-02\n"
                b"c3,oct,2026-10-05,2026-10-03\n")   # row 2: opened before it was sent (second chunk)
    yaml = """
        data:
          source: data/acme
          tables:
            orders: {file: orders.csv}
            messages: {file: messages.csv}
        """
    root = make_project(tmp_path, yaml, {"orders.csv": orders, "messages.csv": messages})
    with pytest.raises(DataErrors) as info:
        load(root)
    got = {(e.table, e.column): (e.n_rows, sorted(map(str, e.examples))) for e in info.value.errors}
    assert got == {("orders", "amount"): (2, ["-5.0", "-7.0"]),
                   ("orders", "items"): (1, ["-2.0"]),
                   ("messages", "opened_at"): (1, ["{'sent_at': '2026-10-05 00:00:00', 'opened_at': "
                                                   "'2026-10-03 00:00:00'}"])}
