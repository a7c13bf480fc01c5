"""journeykit.data.dataset: the one memo (keyed on the settings), and one
DuckDB connection per cache file and process (so an analyst's Run All,
twice, works)."""

from __future__ import annotations

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
