"""Compute engines: where the sections' Ibis expressions run.

DuckDB, embedded, is the default: the loader builds the client's validated
canonical tables in a DuckDB file and every section queries it. With
``engine: {backend: spark}`` in the client file (or ``--set
engine.backend=spark`` on the command line), the same expressions run in a
Spark session instead, through Ibis' PySpark backend: the canonical tables
are written once as Parquet where Spark reads them (``engine.spark.path``)
and only aggregates and per-customer feature tables come back to Python.

Two differences between Ibis' Spark SQL and DuckDB's semantics would change
numbers, so this module corrects Ibis' PySpark compiler (once, on first
use) rather than having sections work around them:

- A float literal such as ``86400.0`` is written bare, which Spark parses
  as a DECIMAL: ``seconds / 86400.0`` then rounds to six decimals. Float
  literals are cast to DOUBLE.
- ``str.strip()`` is written as ``TRIM(' \\t\\n\\r\\v\\f' FROM x)``, and
  Spark reads ``\\v`` and ``\\f`` in that literal as the letters v and f,
  so ``'failed'.strip()`` became ``'ailed'``. Whitespace is trimmed with a
  regular expression instead.
- ``epoch_seconds()`` is ``UNIX_TIMESTAMP``, whole seconds, where DuckDB's
  ``EPOCH`` keeps the fraction: a session ending at 12:00:05.999 was a
  second shorter on Spark. Spark now returns fractional seconds too.

``tests/e2e/test_spark.py`` renders the tiny client on both engines and
compares every number of ``metrics.json``.
"""

from __future__ import annotations

import math
import os
import signal
import socket
import subprocess
import time
import warnings
from pathlib import Path
from typing import Any

SPARK_DEFAULT_CONF = {
    # Canonical timestamps are naive local times (converted at load): Spark
    # must not shift them by the JVM's zone.
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "4",
}

_PATCHED = False


def patch_pyspark_compiler() -> None:
    """Make Ibis' PySpark SQL agree with DuckDB on float literals and
    whitespace trimming (see the module docstring). Idempotent."""
    global _PATCHED
    if _PATCHED:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # pyspark on pandas 3, see spark_session()
        import ibis.backends.pyspark  # noqa: F401  (registers options.pyspark)
    import ibis.expr.datatypes as dt
    import sqlglot.expressions as sge
    from ibis.backends.sql.compilers.pyspark import PySparkCompiler

    original = PySparkCompiler.visit_NonNullLiteral

    def visit_NonNullLiteral(self, op, *, value, dtype):
        if dtype.is_floating() and math.isfinite(value):
            return self.cast(sge.convert(value), dtype)
        return original(self, op, value=value, dtype=dtype)

    def _trim(pattern: str):
        def visit(self, op, *, arg):
            return self.f.regexp_replace(arg, sge.convert(pattern), sge.convert(""))
        return visit

    def visit_ExtractEpochSeconds(self, op, *, arg):
        micros = self.f.unix_micros(self.cast(arg, dt.timestamp))
        return micros / self.cast(sge.convert(1_000_000), dt.float64)

    PySparkCompiler.visit_NonNullLiteral = visit_NonNullLiteral
    PySparkCompiler.visit_ExtractEpochSeconds = visit_ExtractEpochSeconds
    PySparkCompiler.visit_Strip = _trim(r"^\s+|\s+$")
    PySparkCompiler.visit_LStrip = _trim(r"^\s+")
    PySparkCompiler.visit_RStrip = _trim(r"\s+$")
    for op in list(PySparkCompiler.SIMPLE_OPS):
        if op.__name__ in ("LStrip", "RStrip", "Strip"):
            PySparkCompiler.SIMPLE_OPS.pop(op)
    _PATCHED = True


def has_spark_connect() -> bool:
    """Whether PySpark's Spark Connect client can be used (``pyspark[connect]``)."""
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("grpc", "grpc_status", "google.protobuf"))


def spark_session(master: str = "local[2]", conf: dict[str, str] | None = None, remote: str | None = None):
    """A Spark session: a Spark Connect session on ``remote`` (a cluster's,
    or the run's own server: ``cfg.run.spark_remote``), else the active
    session, else a new local one on ``master``.

    An active session (a Databricks or EMR notebook, ``spark-submit``) is
    used as it is, with only the session time zone set to UTC; a new
    session is built with :data:`SPARK_DEFAULT_CONF` and ``conf`` on top.
    """
    with warnings.catch_warnings():
        # PySpark warns that it does not fully support pandas 3 on import;
        # journeykit never hands it a pandas frame (results come back through
        # Ibis as Arrow).
        warnings.simplefilter("ignore", FutureWarning)
        from pyspark.sql import SparkSession

        if remote:
            session = SparkSession.builder.remote(remote).getOrCreate()
            session.conf.set("spark.sql.session.timeZone", "UTC")
            return session
        active = SparkSession.getActiveSession()
        if active is not None:
            active.conf.set("spark.sql.session.timeZone", "UTC")
            return active
        os.environ.setdefault("PYSPARK_PYTHON", "python3")
        builder = SparkSession.builder.master(master).appName("journeykit")
        java_opts = "-Duser.timezone=UTC -Dlog4j2.level=error"
        builder = builder.config("spark.driver.extraJavaOptions", java_opts)
        for k, v in {**SPARK_DEFAULT_CONF, **(conf or {})}.items():
            builder = builder.config(k, str(v))
        session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def connect_spark(master: str = "local[2]", conf: dict[str, str] | None = None, remote: str | None = None) -> Any:
    """An Ibis PySpark backend on :func:`spark_session`."""
    import ibis

    patch_pyspark_compiler()
    return ibis.pyspark.connect(spark_session(master, conf, remote))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalConnectServer:
    """One local Spark Connect server for a whole run.

    Sections run in several kernels; without a shared server each
    kernel would start (and warm up) its own JVM. The runner starts this
    server once, on a free port of 127.0.0.1, hands its URL to the sections
    in the run's configuration (``cfg.run.spark_remote``) and stops it when the run ends. Its
    log is ``<log_dir>/spark-connect.log``.
    """

    def __init__(self, master: str, conf: dict[str, str], log_dir: Path, start_timeout: float = 120.0):
        self.master = master
        self.conf = {**SPARK_DEFAULT_CONF, **conf}
        self.log_path = log_dir / "spark-connect.log"
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"sc://127.0.0.1:{self.port}"

    def command(self, home: Path) -> list[str]:
        """The ``spark-submit`` command line starting the server from the
        PySpark installation ``home``: the configuration's settings, then
        the server's address; the JVM's time zone is UTC (as the session's),
        after any ``spark.driver.extraJavaOptions`` of the configuration."""
        conf = {**self.conf, "spark.connect.grpc.binding.address": "127.0.0.1",
                "spark.connect.grpc.binding.port": str(self.port),
                "spark.driver.extraJavaOptions": " ".join(
                    filter(None, [self.conf.get("spark.driver.extraJavaOptions", ""), "-Duser.timezone=UTC"]))}
        cmd = [str(home / "bin" / "spark-submit"), "--master", self.master, "--name", "journeykit",
               "--class", "org.apache.spark.sql.connect.service.SparkConnectServer"]
        for k, v in conf.items():
            cmd += ["--conf", f"{k}={v}"]
        return cmd + ["spark-internal"]

    def start(self) -> "LocalConnectServer":
        import pyspark

        home = Path(pyspark.__file__).parent
        self.port = _free_port()
        cmd = self.command(home)
        env = {**os.environ, "SPARK_HOME": str(home)}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = self.log_path.read_text(errors="replace").strip().splitlines()[-5:]
                raise RuntimeError("the local Spark Connect server exited: " + " | ".join(tail))
            with socket.socket() as s:
                s.settimeout(0.5)
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"the local Spark Connect server did not start within {self.start_timeout:.0f} s "
                           f"(log: {self.log_path})")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def __enter__(self) -> "LocalConnectServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
