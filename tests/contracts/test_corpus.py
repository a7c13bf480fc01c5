"""Every broken-input case of ``cases/`` loads to its expected outcome.

See conftest.py for the case layout and the keys of expect.yaml.
"""

from __future__ import annotations

import datetime as dt
import math

import pytest

from journeykit.core.errors import ConfigError, DataError, DataErrors

ERROR_TYPES = {"DataError": DataError, "ConfigError": ConfigError}
EXPECT_KEYS = {
    "why", "outcome", "period", "generate",
    "error", "table", "column", "n_rows", "examples", "message_contains",
    "repairs", "report", "tables", "data", "pii_values",
}


# ``case`` is parametrized over the folders of cases/ by conftest.py.


def test_corpus_is_not_empty(all_cases):
    # The issue lists 20+ kinds of broken input; losing folders must be noticed.
    assert len(all_cases) >= 20


def test_case_folder_is_well_formed(case, cases_dir, expect_of):
    folder = cases_dir / case
    assert (folder / "client.yaml").is_file(), f"{case}: no client.yaml"
    assert (folder / "expect.yaml").is_file(), f"{case}: no expect.yaml"
    expect = expect_of(case)
    assert isinstance(expect.get("why"), str) and len(expect["why"].strip()) > 10, f"{case}: expect.yaml needs a 'why'"
    assert expect.get("outcome") in ("error", "repaired", "ok"), f"{case}: outcome must be error | repaired | ok"
    unknown = set(expect) - EXPECT_KEYS
    assert not unknown, f"{case}: unknown keys in expect.yaml: {sorted(unknown)}"
    if expect["outcome"] == "error":
        assert expect.get("error") in ERROR_TYPES, f"{case}: error must be one of {sorted(ERROR_TYPES)}"
        assert expect.get("message_contains"), f"{case}: say what the message must contain"
    if expect["outcome"] == "repaired":
        assert expect.get("repairs"), f"{case}: a repaired case lists its repairs"
    for target, spec in (expect.get("generate") or {}).items():
        assert (folder / spec["from"]).is_file(), f"{case}: generate.{target}.from is missing"
        assert not (folder / target).exists(), f"{case}: {target} is generated; do not commit it too"


def test_case(case, case_root):
    run = case_root(case)
    expect = run.expect
    if expect["outcome"] == "error":
        _check_error(run, expect)
    else:
        _check_loaded(run, expect)


# --------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------

def _check_error(run, expect):
    with pytest.raises((ConfigError, DataError, DataErrors)) as info:
        run.load()
    err = info.value
    text = str(err)
    want = ERROR_TYPES[expect["error"]]
    # One problem per case: a DataErrors bundle means the case tests two things.
    assert type(err) is want, f"expected {want.__name__}, got {type(err).__name__}:\n{text}"
    assert "fix:" in text, f"no 'fix:' line in:\n{text}"
    for s in expect.get("message_contains") or []:
        assert str(s) in text, f"{s!r} not in the message:\n{text}"

    if want is DataError:
        assert err.client == run.case
        assert f"client '{run.case}'" in text
        assert err.table == expect["table"]
        assert f"table '{expect['table']}'" in text
        assert err.column == expect.get("column")
        if expect.get("column"):
            assert f"column '{expect['column']}'" in text
        assert err.problem and err.fix
        if "n_rows" in expect:
            assert err.n_rows == expect["n_rows"]
            assert f"rows affected: {expect['n_rows']:,}" in text
        for ex in expect.get("examples") or []:
            assert ex in err.examples, f"{ex!r} not among the examples {err.examples!r}"
            assert repr(ex) in text
    else:
        # A ConfigError names the client file (and so the client), and the key.
        assert f"params/clients/{run.case}.yaml" in text
        for key in ("table", "column"):
            if expect.get(key):
                assert str(expect[key]) in text


# --------------------------------------------------------------------------
# loaded (ok / repaired)
# --------------------------------------------------------------------------

def _check_loaded(run, expect):
    cfg, ds = run.load()
    try:
        report = ds.report
        listed = {(r["table"], r["kind"]) for r in expect.get("repairs") or []}
        for r in expect.get("repairs") or []:
            load = report.tables[r["table"]]
            found = [x for x in load.repairs if x.kind == r["kind"]]
            assert found, f"no {r['kind']} repair on {r['table']}: {load.repairs}"
            assert found[0].rows == r["rows"], found[0]
            if "what_contains" in r:
                assert r["what_contains"] in found[0].what
            assert found[0].why, "every repair says why it is safe"
        if expect["outcome"] == "ok":
            extra = [(t, x.kind, x.rows) for t, load in report.tables.items() for x in load.repairs
                     if (t, x.kind) not in listed]
            assert not extra, f"an 'ok' case changed rows: {extra}"

        for table, attrs in (expect.get("report") or {}).items():
            load = report.tables[table]
            for attr, value in attrs.items():
                got = getattr(load, attr)
                if attr == "pii_dropped":
                    got, value = sorted(got), sorted(value)
                assert got == value, f"report.tables[{table!r}].{attr} = {got!r}, expected {value!r}"

        if "tables" in expect:
            assert ds.tables == expect["tables"]

        for table, spec in (expect.get("data") or {}).items():
            _check_table(ds, table, spec)

        if expect.get("pii_values"):
            _check_no_pii(ds, expect["pii_values"])
    finally:
        ds.close()


def _check_table(ds, table, spec):
    t = ds.table(table)
    if "rows" in spec:
        assert t.count().execute() == spec["rows"], f"{table}: rows up to the period end"
    if "raw_rows" in spec:
        assert ds.raw(table).count().execute() == spec["raw_rows"], f"{table}: all loaded rows"
    for col in spec.get("lacks_columns") or []:
        assert col not in ds.raw(table).columns, f"{table}.{col} should not be loaded"
    df = t.execute()
    for col, total in (spec.get("sum") or {}).items():
        assert math.isclose(df[col].sum(), total), f"sum of {table}.{col}"
    for col, values in (spec.get("values") or {}).items():
        assert sorted(df[col].dropna().unique().tolist()) == sorted(values), f"{table}.{col}"
    for lk in spec.get("lookup") or []:
        rows = df
        for k, v in lk["where"].items():
            rows = rows[rows[k] == v]
        assert len(rows) == 1, f"{table}: {lk['where']} matches {len(rows)} rows"
        got = _plain(rows.iloc[0][lk["column"]])
        assert got == lk["equals"], f"{table}.{lk['column']} where {lk['where']}: {got!r}"


def _plain(v):
    """A cell as YAML would write it: None, bool, number, or text."""
    if v is None or (not isinstance(v, str) and _isna(v)):
        return None
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if hasattr(v, "item"):
        v = v.item()
    return v


def _isna(v) -> bool:
    import pandas as pd

    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _check_no_pii(ds, values):
    # Every table and view the Dataset's database holds, not only the
    # canonical ones. (Asked of DuckDB directly: ibis 12's list_tables()
    # calls fetch_arrow_table(), which DuckDB 2.0 no longer has.)
    raw = ds.con.con
    names = [r[0] for r in raw.execute("SELECT table_name FROM information_schema.tables").fetchall()]
    assert names
    for name in names:
        df = raw.execute(f'SELECT * FROM "{name}"').df()
        text = df.astype(str).to_csv(index=False) + ",".join(map(str, df.columns))
        for v in values:
            assert v not in text, f"PII value {v!r} is queryable in table {name!r}"
    # Nor left at rest in the cache folder (database pages, load report).
    for f in ds.path.rglob("*"):
        if f.is_file():
            blob = f.read_bytes()
            for v in values:
                assert v.encode() not in blob, f"PII value {v!r} is stored in {f.name}"
