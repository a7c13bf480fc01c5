"""journeykit.data.dataset: the one memo (keyed on the settings), and one
DuckDB connection per cache file and process (so an analyst's Run All,
twice, works)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from journeykit.data import dataset as dataset_mod
from journeykit.data import loader

ORDERS = pd.DataFrame({"order_id": ["o1", "o2", "o3"], "customer_id": ["a", "a", "b"],
                       "ordered_at": ["2026-09-03 10:00:00", "2026-10-02 11:00:00", "2026-10-05 09:30:00"],
                       "amount": [10.0, 20.0, 5.0]})


def test_memo_computes_once_per_question_and_settings(make_dataset):
    ds = make_dataset({"orders": ORDERS})
    calls = []

    def compute():
        calls.append(1)
        return pd.DataFrame({"x": [len(calls)]})

    cfg = ds.cfg
    first = ds.memo("q", compute, cfg)
    again = ds.memo("q", compute, cfg)
    assert len(calls) == 1 and first.equals(again)
    first.loc[0, "x"] = 99                                        # a copy: the memo is not changed
    assert ds.memo("q", compute, cfg).loc[0, "x"] == 1
    # another setting: another answer (it used to return the old one)
    other = cfg.updated(definitions={"churn_inactivity_days": 30})
    assert ds.memo("q", compute, other).loc[0, "x"] == 2 and len(calls) == 2
    # the run context and an equal copy are not settings
    assert ds.memo("q", compute, cfg.updated()).loc[0, "x"] == 1 and len(calls) == 2
    # another question under the same settings
    ds.memo("r", compute, cfg)
    assert len(calls) == 3
    # forgotten: asked again, computed again; other answers kept; forgetting twice is harmless
    ds.forget("r", cfg)
    ds.forget("r", cfg)
    ds.memo("r", compute, cfg)
    assert len(calls) == 4 and ds.memo("q", compute, cfg).loc[0, "x"] == 1 and len(calls) == 4


def test_fetch_through_arrow_equals_ibis_execute(tmp_path):
    """The dataset's DuckDB backend fetches through Arrow; its results equal
    ibis' own ``execute`` for every type and null pattern a section fetches:
    partly null, all null, nested, empty, a column and a scalar."""
    import types

    import ibis
    from ibis.backends.duckdb import Backend

    con = dataset_mod.duckdb_backend()().connect(str(tmp_path / "x.duckdb"))
    con.raw_sql("""CREATE TABLE t AS SELECT i,
      CASE WHEN i % 3 = 0 THEN NULL ELSE i END AS int_n,
      CASE WHEN i % 3 = 0 THEN NULL ELSE i * 1.5 END AS dec_n,
      CASE WHEN i % 3 = 0 THEN NULL ELSE CAST(i AS DOUBLE) / 7 END AS flt_n,
      CASE WHEN i % 3 = 0 THEN NULL ELSE 'c' || i END AS str_n,
      CASE WHEN i % 3 = 0 THEN NULL ELSE i % 2 = 0 END AS bool_n,
      CASE WHEN i % 3 = 0 THEN NULL ELSE TIMESTAMP '2026-01-01' + INTERVAL (i) HOUR END AS ts_n,
      CASE WHEN i % 3 = 0 THEN NULL ELSE TIMESTAMPTZ '2026-01-01 00:00+00' + INTERVAL (i) HOUR END AS tstz_n,
      CASE WHEN i % 3 = 0 THEN NULL ELSE DATE '2026-01-01' + CAST(i AS INTEGER) END AS date_n,
      CASE WHEN i % 3 = 0 THEN NULL ELSE [i, i + 1] END AS list_n,
      CAST(NULL AS BIGINT) AS null_int, CAST(NULL AS VARCHAR) AS null_str, CAST(NULL AS TIMESTAMP) AS null_ts,
      CAST(NULL AS DOUBLE) AS null_flt, i % 5 AS int_plain, 'x' || i AS str_plain
      FROM range(10) r(i)""")
    t = con.table("t")
    ibis_own = types.MethodType(Backend.execute, con)
    cases = [t, t.filter(t.i < 0), t.group_by("bool_n").aggregate(n=t.count(), m=t.flt_n.mean()).order_by("bool_n"),
             t.mutate(z=ibis.null()).select("i", "z")]
    for e in cases:
        pd.testing.assert_frame_equal(con.execute(e), ibis_own(e))
    pd.testing.assert_series_equal(con.execute(t.str_n), ibis_own(t.str_n))
    pd.testing.assert_series_equal(con.execute(t.ts_n), ibis_own(t.ts_n))
    assert con.execute(t.int_n.max()) == ibis_own(t.int_n.max()) == 8
    assert con.execute(t.filter(t.i < 0).int_n.max()) is None
    con.disconnect()


def test_loading_the_same_data_twice_in_one_process_shares_the_connection(make_dataset):
    ds = make_dataset({"orders": ORDERS})
    again = loader.load(ds.cfg)                   # an analyst re-running the setup cell
    assert again.con is ds.con
    assert int(again.table("orders").count().execute()) == 3
    ds.close()                                    # the first dataset going away ...
    assert int(again.table("orders").count().execute()) == 3       # ... leaves the second working
    again.close()
    third = loader.load(ds.cfg)                   # after the last one closed, a fresh connection
    assert int(third.table("orders").count().execute()) == 3
    third.close()


def test_a_table_is_looked_up_once_per_dataset(make_dataset, monkeypatch):
    # each lookup is a schema query; sections ask for the same table hundreds of times
    ds = make_dataset({"orders": ORDERS})
    looked = []
    real = type(ds.con).table
    monkeypatch.setattr(type(ds.con), "table", lambda self, name, *a, **k: looked.append(name) or real(self, name, *a, **k))
    first = ds.table("orders")
    assert int(ds.table("orders").count().execute()) == 3 and int(first.count().execute()) == 3
    assert ds.raw("orders") is ds.raw("orders")
    assert looked == ["orders"]
    ds.close()
    assert "_raw" not in ds.__dict__


def test_a_lanes_share_of_the_cores_sets_duckdbs_threads(make_dataset, monkeypatch):
    monkeypatch.setenv("JOURNEYKIT_THREADS", "1")      # set by the run's pool for its kernels
    ds = make_dataset({"orders": ORDERS})
    assert ds.con.raw_sql("SELECT current_setting('threads')").fetchone()[0] == 1


def test_a_transient_block_lets_go_of_what_it_memoized_and_keeps_the_rest(make_dataset):
    ds = make_dataset({"orders": ORDERS})
    calls = []

    def answer(k):
        return ds.memo(k, lambda: calls.append(k) or pd.DataFrame({"k": [k]}))

    answer("before")
    with ds.transient():
        answer("before")                        # memoized before: not computed again, and kept
        answer("inside")
        answer("inside")                        # memoized inside the block while it lasts
    assert calls == ["before", "inside"]
    answer("before")
    answer("inside")                            # let go at the block's end: computed again
    assert calls == ["before", "inside", "inside"]


def test_a_fetch_lets_go_of_the_cache_files_blocks_beyond_what_it_keeps(tmp_path, monkeypatch):
    """After a fetch, DuckDB holds no more of the (read-only) cache file's
    blocks than KEEP_CACHED_BYTES, and its memory limit is the dataset's
    again; with a larger allowance the blocks stay, as DuckDB keeps them."""
    import duckdb

    db = tmp_path / "data.duckdb"
    with duckdb.connect(str(db)) as w:
        w.execute("CREATE TABLE t AS SELECT range AS i, md5(CAST(range AS VARCHAR)) AS s FROM range(400000)")
    held = ("SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory() WHERE tag = 'BASE_TABLE'")
    try:
        con = dataset_mod._duckdb_connection(db, "1GB")
        limit = con.con.execute("SELECT current_setting('memory_limit')").fetchall()
        t = con.table("t")
        monkeypatch.setattr(dataset_mod, "KEEP_CACHED_BYTES", 1 << 40)
        assert t.s.max().execute() == max(t.s.execute())
        assert con.con.execute(held).fetchall()[0][0] > 4 << 20     # DuckDB keeps what it read

        monkeypatch.setattr(dataset_mod, "KEEP_CACHED_BYTES", 1 << 20)
        got = t.group_by(k=t.i % 7).aggregate(n=t.count(), s=t.s.max()).order_by("k").execute()
        assert got.n.tolist() == [len(range(k, 400000, 7)) for k in range(7)]
        assert con.con.execute(held).fetchall()[0][0] <= 1 << 20
        assert con.con.execute("SELECT current_setting('memory_limit')").fetchall() == limit
        assert int(t.count().execute()) == 400000                   # read again from the file
    finally:
        dataset_mod._release(db, dataset_mod._CONNECTIONS[str(db)][0])


def test_another_memory_limit_replaces_the_connection(make_dataset):
    ds = make_dataset({"orders": ORDERS})
    bigger = loader.load(ds.cfg.updated(engine={"memory_limit": "3GB"}))
    assert bigger.con is not ds.con
    assert int(bigger.table("orders").count().execute()) == 3
    key = str(bigger.path / "data.duckdb")
    assert dataset_mod._CONNECTIONS[key][1] == "3GB"
    bigger.close()
    assert key not in dataset_mod._CONNECTIONS


def test_first_and_last_dates_come_from_the_load(make_dataset):
    import datetime as dt

    ds = make_dataset({"orders": ORDERS})
    assert ds.first_date("orders") == dt.date(2026, 9, 3)
    assert ds.last_date() == dt.date(2026, 10, 5)
    assert ds.first_date("surveys") is None
    with pytest.raises(KeyError, match="not available"):
        ds.raw("surveys")


def test_close_all_closes_every_open_dataset_and_their_connection(make_dataset):
    ds = make_dataset({"orders": ORDERS})
    again = loader.load(ds.cfg)
    key = str(ds.path / "data.duckdb")
    assert {ds, again} <= set(dataset_mod._LIVE) and key in dataset_mod._CONNECTIONS
    assert dataset_mod.close_all() >= 2                 # what a kept report kernel does between sections
    assert not dataset_mod._LIVE and key not in dataset_mod._CONNECTIONS
    assert dataset_mod.close_all() == 0                 # nothing left; closing twice is harmless
    ds.close()


def test_journeykit_turns_transparent_huge_pages_off_for_itself_and_its_children():
    """A fresh gigabyte in huge pages cost 6-7 s of kernel time on this
    machine (THP defrag ``madvise``) and 0.4 s without: importing journeykit
    turns them off for its process, and the processes it starts (kernels,
    workers) inherit it; ``JOURNEYKIT_HUGE_PAGES=1`` keeps them."""
    import os
    import subprocess
    import sys

    if "THP_enabled" not in Path("/proc/self/status").read_text():
        pytest.skip("the kernel does not report THP_enabled")
    code = ("import subprocess, journeykit; "
            "thp = lambda text: text.split('THP_enabled:')[1].split()[0]; "
            "child = subprocess.run(['cat', '/proc/self/status'], capture_output=True, text=True).stdout; "
            "print(thp(open('/proc/self/status').read()), thp(child))")
    import ctypes

    def fresh():  # as from a shell: not inherited from this test process (which imported journeykit)
        ctypes.CDLL(None).prctl(41, 0, 0, 0, 0)

    env = {k: v for k, v in os.environ.items() if k != "JOURNEYKIT_HUGE_PAGES"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env,
                         preexec_fn=fresh)
    assert out.stdout.split() == ["0", "0"], out.stderr[-1500:]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env=env | {"JOURNEYKIT_HUGE_PAGES": "1"}, preexec_fn=fresh)
    assert out.stdout.split() == ["1", "1"], out.stderr[-1500:]
