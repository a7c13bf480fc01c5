"""The loaded data of one client: :class:`Dataset`.

A Dataset opens the validated cache entry the loader built (DuckDB,
read-only) or, with ``engine.backend: spark``, a Spark session reading its
Parquet export, and hands out the canonical tables as Ibis expressions
restricted to the run's period. It also owns the memo of computed results
(:meth:`Dataset.memo`), keyed on the question asked *and* the settings it
was asked with. While open it holds a shared lock on its cache entry
(:func:`hold`), so nothing removes the entry under it.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import fcntl
import functools
import hashlib
import os
import shutil
import tempfile
import uuid
import weakref
from pathlib import Path
from collections.abc import Callable, Iterator
from typing import Any

import duckdb

from journeykit.core.config import RunConfig
from journeykit.core.errors import ConfigError, JourneykitError
from journeykit.data import schemas
from journeykit.data.load_report import LoadReport


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class CacheEntryGone(JourneykitError):
    """The cache entry a dataset was to open has been removed (only an
    entry nobody holds is: see :func:`journeykit.data.loader.sweep`)."""


ENGINES_OPENED: set[str] = set()
"""The engines this process's datasets ran on (``duckdb``, ``spark``):
:func:`journeykit.report.record` notes them in the section's results."""


def hold(entry: Path) -> int | None:
    """A shared lock on the cache entry ``entry`` (the descriptor; closing it
    releases the lock), or ``None`` when the entry is gone or incomplete."""
    try:
        fd = os.open(Path(entry) / ".users", os.O_RDONLY)
    except OSError:
        return None
    fcntl.flock(fd, fcntl.LOCK_SH)  # waits only while a sweeper moves the entry away
    if not (Path(entry) / "load_report.json").is_file():  # moved away meanwhile
        os.close(fd)
        return None
    return fd


def parquet_export(path: Path) -> Path:
    """The canonical tables of the cache entry ``path`` as Parquet files,
    ``<path>/parquet/<table>.parquet``, for an engine that reads files
    (Spark). Written once per entry, atomically: concurrent callers either
    find the finished folder or write their own copy and keep the first."""
    out = path / "parquet"
    if (out / "_SUCCESS").exists():
        return out
    report = LoadReport.from_json((path / "load_report.json").read_text(encoding="utf-8"))
    tmp = path / f".parquet-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        con = duckdb.connect(str(path / "data.duckdb"), read_only=True)
        try:
            for name, t in report.tables.items():
                if t.status != "empty":
                    con.execute(f"COPY {_q(name)} TO {_lit(str(tmp / (name + '.parquet')))} (FORMAT parquet)")
        finally:
            con.close()
        (tmp / "_SUCCESS").write_text("")
        try:
            tmp.rename(out)
        except OSError:
            if not (out / "_SUCCESS").exists():
                raise
            shutil.rmtree(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


_SPILL: Path | None = None
KEEP_CACHED_BYTES = 256 << 20
"""How much of the cache file's blocks a connection keeps in memory between
queries (:func:`trim_cache`)."""
_CONNECTIONS: dict[str, list[Any]] = {}
"""Open DuckDB connections of this process by database file: ``[backend,
memory limit, datasets using it]``."""


def _spill_folder() -> Path:
    """One spill folder per process: DuckDB refuses a second connection to a
    file with another configuration, so every connection of a process to a
    cache file is opened alike (parallel sections are separate processes,
    each with its own folder)."""
    global _SPILL
    if _SPILL is None:
        _SPILL = Path(tempfile.gettempdir()) / f"journeykit-spill-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        atexit.register(shutil.rmtree, _SPILL, ignore_errors=True)
    return _SPILL


@functools.lru_cache(maxsize=1)
def duckdb_backend() -> type:
    """Ibis' DuckDB backend, with ``execute`` fetching through Arrow.

    Ibis 12 turns every result column that holds a null into a Python list
    before pandas sees it (``to_pylist``). On a million customers that
    doubles a fetch: the large demo client's per-customer activity (1 M
    rows, 4 columns) took 1.43 s through ibis and 0.71 s so. Here a column
    goes to pandas through Arrow (``to_pandas``: nulls become NaN, NaT or
    None in the same dtypes) and only a column of nothing but nulls, a
    nested or a dictionary column takes ibis' Python route; ibis' own type
    conversion then runs on the frame as before. The result equals ibis' own
    (``tests/unit/test_dataset.py::test_fetch_through_arrow_equals_ibis_execute``).
    """
    import ibis
    import pandas as pd

    ibis.duckdb  # noqa: B018  (loads the backend and registers its options)
    from ibis.backends.duckdb import Backend

    class ArrowFetch(Backend):
        def execute(self, expr, /, *, params=None, limit=None, **kwargs):
            import pyarrow.types as pat
            from ibis.backends.duckdb.converter import DuckDBPandasData

            table = self._to_duckdb_relation(expr, params=params, limit=limit, **kwargs).to_arrow_table()
            df = pd.DataFrame({
                name: col.to_pylist() if (pat.is_nested(col.type) or pat.is_dictionary(col.type)
                                          or pat.is_null(col.type) or col.null_count == len(col) > 0)
                else col.to_pandas()
                for name, col in zip(table.column_names, table.columns)})
            out = expr.__pandas_result__(DuckDBPandasData.convert_table(df, expr.as_table().schema()))
            if getattr(self, "memory_limit", None):  # a connection of _duckdb_connection
                trim_cache(self.con, self.memory_limit)
            return out

    return ArrowFetch


def _duckdb_connection(db: Path, memory_limit: str):
    """The process's read-only connection to ``db``, opened on first use and
    shared by every dataset on that file, so loading the same data again in
    a kernel (an analyst's Run All, twice) reuses it. A dataset asking for
    another memory limit replaces the connection: the older datasets on it
    are closed."""
    key = str(db)
    entry = _CONNECTIONS.get(key)
    if entry is not None and entry[1] != memory_limit:
        try:
            entry[0].disconnect()
        finally:
            _CONNECTIONS.pop(key, None)
            entry = None
    if entry is None:
        # a section run beside others gets its lane's share of the cores (journeykit.run.workers.lane_threads)
        threads = {"threads": int(os.environ["JOURNEYKIT_THREADS"])} if os.environ.get("JOURNEYKIT_THREADS") else {}
        con = duckdb_backend()().connect(key, read_only=True, memory_limit=memory_limit,
                                         temp_directory=str(_spill_folder()), **threads)
        con.memory_limit = memory_limit  # for trim_cache after each fetch
        entry = _CONNECTIONS[key] = [con, memory_limit, 0]
    entry[2] += 1
    return entry[0]


_LIVE: "weakref.WeakSet[Dataset]" = weakref.WeakSet()
"""The datasets of this process not yet closed."""


def close_all() -> int:
    """Close every open dataset of this process (:meth:`Dataset.close`);
    returns how many. A report kernel kept for the next section calls it
    between sections (:func:`journeykit.run.kernel.fresh_section`)."""
    live = list(_LIVE)
    for d in live:
        d.close()
    return len(live)


def _release(db: Path, con) -> None:
    entry = _CONNECTIONS.get(str(db))
    if entry is None or entry[0] is not con:
        return  # replaced meanwhile: already disconnected
    entry[2] -= 1
    if entry[2] <= 0:
        _CONNECTIONS.pop(str(db), None)
        con.disconnect()


def trim_cache(con: duckdb.DuckDBPyConnection, memory_limit: str, keep: int | None = None) -> int:
    """Let go of the cache file's blocks that DuckDB still holds after a
    query, beyond ``keep`` bytes (:data:`KEEP_CACHED_BYTES`); returns the
    bytes let go. ``memory_limit``: the connection's limit, set again
    afterwards.

    DuckDB keeps every block of the database it has read in its buffer pool
    until its memory limit is reached, and the file is read-only here, so
    these blocks are only a copy of what the operating system's page cache
    holds too. A section that scans the events once and then fits models on
    the result used to carry up to its whole limit (2 GB) through the model
    fitting beside the frames it works on. Lowering the limit for a moment
    makes DuckDB evict them (its documented way to free its buffers);
    temporary tables and query state are not counted as blocks of the file,
    and a block let go is read again from the page cache when a later query
    needs it."""
    keep = KEEP_CACHED_BYTES if keep is None else keep
    try:
        rows = con.execute("SELECT tag, memory_usage_bytes FROM duckdb_memory()").fetchall()
        held = sum(b for tag, b in rows if tag == "BASE_TABLE")
        if held <= keep:
            return 0
        other = sum(b for tag, b in rows if tag != "BASE_TABLE")
        try:
            con.execute(f"SET memory_limit = '{other + keep}B'")
        finally:
            con.execute(f"SET memory_limit = '{memory_limit}'")
    except duckdb.Error:  # never a reason to fail a query that has its answer
        return 0
    return held - keep


class Dataset:
    """A client's validated canonical tables, as Ibis tables on the run's
    engine: DuckDB (the cache file, read-only) or, with ``engine.backend:
    spark``, a Spark session reading the cache's Parquet export (see
    :mod:`journeykit.core.engine`).

    ``ds.table("orders")`` holds rows up to the end of the run's period only;
    later timestamps in the same row (``ended_at``, ``resolved_at``, …) are
    masked to null, so a past month re-runs identically. ``ds.raw(name)``
    has everything that was loaded.
    """

    def __init__(self, cfg: RunConfig, path: Path):
        self.cfg = cfg
        self.path = path
        self._closed = True
        # A shared lock on the entry for the dataset's life: nothing removes it meanwhile.
        self._hold = hold(path)
        if self._hold is None:
            raise CacheEntryGone(f"the data cache entry {path} is gone",
                                 fix="run the report (or load the data) again: a new entry is built")
        try:
            self.report = LoadReport.from_json((path / "load_report.json").read_text(encoding="utf-8"))
        except BaseException:
            os.close(self._hold)
            raise
        self.engine = cfg.engine.backend
        self._views: dict[str, str] = {}
        self._memo: dict[Any, Any] = {}
        self.warehouse = None
        """With ``data.mode: in_place``: the client's database, where the
        canonical tables stay (:class:`journeykit.data.warehouse.Warehouse`)."""
        try:
            if (path / "in_place.json").is_file():
                from journeykit.data import warehouse

                self.warehouse = warehouse.open_entry(cfg, path)
                self.con = self.warehouse.backend
            elif self.engine == "spark":
                self.con = self._open_spark()
            else:
                self.con = _duckdb_connection(path / "data.duckdb", cfg.engine.memory_limit)
        except BaseException:
            os.close(self._hold)
            raise
        self._closed = False
        _LIVE.add(self)
        ENGINES_OPENED.add(self.engine)

    def memo(self, key: Any, compute: Callable[[], Any], settings: RunConfig | None = None) -> Any:
        """``compute()``, computed once per ``key`` and per settings, then
        returned as a copy (frames, series, dicts and lists).

        The data a dataset holds is read-only, so an answer computed once
        stays right for the same question asked under the same settings.
        ``settings`` is the configuration the answer depends on (a section's
        ``cfg``): the memo keys on its :attr:`~RunConfig.settings_digest`, so
        re-running a cell after changing a setting (``cfg.updated(...)``)
        computes the new answer instead of returning the old one. Without
        ``settings`` the answer may depend only on the data and the
        dataset's own period.
        """
        full = (key, settings.settings_digest if settings is not None else None)
        if full not in self._memo:
            self._memo[full] = compute()
        value = self._memo[full]
        return value.copy() if hasattr(value, "copy") and not hasattr(value, "op") else value

    @contextlib.contextmanager
    def transient(self) -> Iterator[None]:
        """A block whose new :meth:`memo` answers are let go when it ends:
        for a question asked once, whose intermediate answers nothing asks
        for again (the health bands of each of nine past months need nine
        per-customer frames, 1.5 GB on a million customers, of which only
        the counts are kept). Answers memoized before the block stay."""
        before = set(self._memo)
        try:
            yield
        finally:
            for k in [k for k in self._memo if k not in before]:
                del self._memo[k]

    def forget(self, key: Any, settings: RunConfig | None = None) -> None:
        """Let go of :meth:`memo`'s answer to ``key`` under ``settings``, so its
        memory can be freed once nothing else holds it; asked again, it is
        computed again. Nothing happens when there is no such answer."""
        self._memo.pop((key, settings.settings_digest if settings is not None else None), None)

    def _open_spark(self):
        from journeykit.core import engine

        try:
            import pyspark  # noqa: F401
        except ImportError:
            raise ConfigError(
                f"params/clients/{self.cfg.client}.yaml: engine.backend is 'spark', but PySpark is not installed",
                fix="install it with `pip install pyspark` in the project's environment (or `pip install -e '.[spark]'`), "
                    "or set engine.backend: duckdb",
            ) from None
        folder = parquet_export(self.path)
        sc = self.cfg.engine.spark
        con = engine.connect_spark(sc.master, sc.conf, sc.remote or (self.cfg.run.spark_remote if self.cfg.run else None))
        for name in self.tables:
            # a cache entry's folder name has '-' (its time stamp): Spark's view names take word characters only
            view = "jk_" + "".join(ch if ch.isalnum() else "_" for ch in self.path.name) + f"_{name}"
            con._session.read.parquet(str(folder / f"{name}.parquet")).createOrReplaceTempView(view)
            self._views[name] = view
        return con

    @property
    def tables(self) -> list[str]:
        """Canonical tables with rows, in contract order."""
        return [t for t in schemas.SCHEMAS if t in self.report.tables and self.report.tables[t].status != "empty"]

    def has(self, *names: str) -> bool:
        """Whether every named table is available."""
        return all(n in self.tables for n in names)

    def missing(self, *names: str) -> list[str]:
        """The named tables that are not available."""
        return [n for n in names if n not in self.tables]

    def first_date(self, *names: str) -> dt.date | None:
        """The earliest date with rows in any of the named tables (all
        tables when none is named), from the load report; ``None`` when
        none has rows."""
        dates = [dt.datetime.fromisoformat(t.first_at).date() for n, t in self.report.tables.items()
                 if (not names or n in names) and t.status != "empty" and t.first_at]
        return min(dates) if dates else None

    def last_date(self, *names: str) -> dt.date | None:
        """The latest date with rows in any of the named tables (all tables
        when none is named), rows after the period end included."""
        dates = [dt.datetime.fromisoformat(t.last_at).date() for n, t in self.report.tables.items()
                 if (not names or n in names) and t.status != "empty" and t.last_at]
        return max(dates) if dates else None

    def raw(self, name: str):
        """Every loaded row of ``name`` (including after the period end)."""
        if name not in self.tables:
            raise KeyError(f"table {name!r} is not available for client {self.cfg.client!r}")
        if self.warehouse is not None:
            return self.warehouse.view(name)
        # the tables are read-only: their Ibis tables are looked up (a schema query each) once per dataset
        raws = self.__dict__.setdefault("_raw", {})
        if name not in raws:
            raws[name] = self.con.table(self._views.get(name, name))
        return raws[name]

    def table(self, name: str, until: dt.date | None = None):
        """Rows of ``name`` before ``until`` (default: the period end)."""
        import ibis

        t = self.raw(name)
        end = until or self.cfg.period.end
        bound = ibis.timestamp(dt.datetime.combine(end, dt.time()))
        spec = schemas.SPECS[name]
        t = t.filter(t[spec.time_column] < bound)
        masks = {c: ibis.ifelse(t[c] < bound, t[c], ibis.null(t[c].type()))
                 for c in spec.later_columns if c in t.columns}
        return t.mutate(**masks) if masks else t

    def materialize(self, expr):
        """``expr`` computed once into a temporary table of the engine (DuckDB)
        that later queries read; released when the dataset closes. On a
        client's database (``data.mode: in_place``) the temporary table is
        the database's (its rows stay there), and where the database refuses
        temporary tables the expression is returned as is, as on Spark."""
        if self.engine != "duckdb":
            return expr
        if self.warehouse is not None:
            try:
                t = expr.cache()
            except Exception:  # no right to create temporary tables: only slower, never different
                return expr
            self.__dict__.setdefault("_materialized", []).append(t)
            return t
        t = expr.cache()
        self.__dict__.setdefault("_materialized", []).append(t)
        return t

    def shared(self, name: str, expr):
        """``expr``, an intermediate result every section may need (e.g. each
        customer's active days), computed once per version of the data: the
        first kernel to ask writes it as Parquet into the cache entry
        (``shared/<name>-<hash of its query>.parquet``), and every later one,
        in this run or the next, reads that file instead of recomputing it
        from the raw rows (DuckDB scans the Parquet file
        directly, so it costs no memory while unused). On Spark it is
        computed where it is used; on a client's database (``data.mode:
        in_place``) it is kept for this dataset in a temporary table there
        (:meth:`materialize`): nothing of it is written on the host."""
        if self.warehouse is not None:
            return self.materialize(expr)
        if self.engine != "duckdb":
            return expr
        import ibis

        digest = hashlib.blake2b(str(ibis.to_sql(expr)).encode(), digest_size=8).hexdigest()
        path = self.path / "shared" / f"{name}-{digest}.parquet"
        if not path.exists():
            path.parent.mkdir(exist_ok=True)
            tmp = path.with_name(f".{path.stem}-{uuid.uuid4().hex[:8]}.parquet")
            try:
                expr.to_parquet(tmp)
                tmp.replace(path)  # atomic: a kernel never reads a half-written file
            finally:
                tmp.unlink(missing_ok=True)
            trim_cache(self.con.con, self.cfg.engine.memory_limit)
        return self.con.read_parquet(path)

    def close(self) -> None:
        """Release what this dataset opened: its temporary tables, its Spark
        views, and its share of the process's DuckDB connection (closed
        with the last dataset on it)."""
        if self._closed:
            return
        self._closed = True
        _LIVE.discard(self)
        self._memo.clear()
        self.__dict__.pop("_raw", None)
        try:
            self._close_engine()
        finally:
            os.close(self._hold)

    def _close_engine(self) -> None:
        for t in self.__dict__.pop("_materialized", []):
            try:
                t.release()
            except Exception:  # already dropped with its connection
                pass
        if self.warehouse is not None:
            self.warehouse.close()
            return
        if self.engine == "spark":
            for view in self._views.values():  # the session may be shared: leave it running
                self.con._session.catalog.dropTempView(view)
            return
        _release(self.path / "data.duckdb", self.con)

    def __enter__(self) -> "Dataset":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
