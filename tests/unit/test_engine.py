"""journeykit.core.engine: Ibis' Spark SQL is corrected where it would give
numbers different from DuckDB's (the end-to-end proof is
tests/e2e/test_spark.py, which compares whole reports)."""

from __future__ import annotations

import ibis
import pytest

pytest.importorskip("pyspark")

from journeykit.core import engine  # noqa: E402


@pytest.fixture(scope="module")
def sql():
    engine.patch_pyspark_compiler()
    t = ibis.table({"n": "int64", "s": "string", "at": "timestamp"}, name="t")

    def compile(**exprs) -> str:
        return ibis.to_sql(t.select(**exprs), dialect="pyspark")

    return t, compile


def test_float_literals_are_doubles_not_decimals(sql):
    t, compile = sql
    text = compile(days=t.n / 86400.0)
    assert "CAST(86400.0 AS DOUBLE)" in text


def test_strip_trims_whitespace_without_a_literal_of_escapes(sql):
    t, compile = sql
    text = compile(a=t.s.strip(), b=t.s.lstrip(), c=t.s.rstrip())
    assert "TRIM(" not in text.upper().replace("RTRIM", "").replace("LTRIM", "")
    assert "REGEXP_REPLACE(`t0`.`s`, '^\\\\s+|\\\\s+$', '')" in text
    assert "REGEXP_REPLACE(`t0`.`s`, '^\\\\s+', '')" in text
    assert "REGEXP_REPLACE(`t0`.`s`, '\\\\s+$', '')" in text


def test_epoch_seconds_keeps_the_fraction(sql):
    t, compile = sql
    text = compile(e=t.at.epoch_seconds())
    assert "UNIX_MICROS(" in text and "UNIX_TIMESTAMP" not in text


def test_patching_twice_changes_nothing(sql):
    t, compile = sql
    before = compile(x=t.s.strip(), y=t.n * 1.5)
    engine.patch_pyspark_compiler()
    assert compile(x=t.s.strip(), y=t.n * 1.5) == before
