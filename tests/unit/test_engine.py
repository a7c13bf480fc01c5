"""journeykit.core.engine: Ibis' Spark SQL is corrected where it would give
numbers different from DuckDB's (the end-to-end proof is
tests/e2e/test_spark.py, which compares whole reports)."""

from __future__ import annotations

from pathlib import Path

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


def test_the_spark_server_keeps_the_clients_jvm_options_and_runs_in_utc(tmp_path):
    server = engine.LocalConnectServer("local[2]", {"spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1",
                                                    "spark.sql.shuffle.partitions": "1"}, tmp_path)
    server.port = 15002
    cmd = server.command(Path("/opt/spark"))
    conf = dict(cmd[i + 1].split("=", 1) for i, a in enumerate(cmd) if a == "--conf")
    assert cmd[0] == "/opt/spark/bin/spark-submit" and cmd[-1] == "spark-internal"
    assert conf["spark.driver.extraJavaOptions"] == "-XX:TieredStopAtLevel=1 -Duser.timezone=UTC"
    assert conf["spark.sql.shuffle.partitions"] == "1" and conf["spark.sql.session.timeZone"] == "UTC"
    assert conf["spark.connect.grpc.binding.port"] == "15002"
    plain = engine.LocalConnectServer("local[2]", {}, tmp_path).command(Path("/opt/spark"))
    assert "spark.driver.extraJavaOptions=-Duser.timezone=UTC" in plain
