"""Loading a client's data: the only module that reads client files or
connects to engines.

``load(cfg)`` returns a :class:`Dataset`: canonical tables on DuckDB, as Ibis
tables, validated once against :mod:`journeykit.data.schemas`. The load happens
on the engine and is cached per client in ``data/.cache/<client>/<key>/``
(key: the client's table mapping and each source file's content, see
:func:`content_digest`), so every section notebook of a run, and an analyst's
re-run, opens the same validated database read-only instead of re-reading
the exports.

What the loader does, in order, for each table in the client file:

1. finds the file (CSV, Parquet, Excel) or the database table;
2. detects a CSV's encoding (UTF-8, UTF-8 with BOM, CP949/EUC-KR);
3. maps the client's column names and event names onto canonical ones;
4. drops PII columns (email, name, phone, free-text comment) unread;
5. casts each column on the engine, failing with examples on values that
   are not numbers or timestamps;
6. validates values with the table's pandera schema, in bounded chunks;
7. repairs what is safe to repair, and counts it (see ``Repair``).

Then, across tables: duplicate ids, customers unknown to ``customers``
(added as derived customers), and a derived ``customers`` table when the
client sends none.
"""

from __future__ import annotations

import codecs
import copy
import datetime as dt
import difflib
import hashlib
import json
import re
import shutil
import uuid
from pathlib import Path

import duckdb
import pandera.errors
import pandas as pd

from journeykit import __version__
from journeykit.core import i18n
from journeykit.data import schemas
from journeykit.core.config import RunConfig, TableConfig
from journeykit.core.errors import ConfigError, DataError, DataErrors
from journeykit.data.dataset import Dataset, parquet_export
from journeykit.data.load_report import Check, LoadReport, Repair, TableLoad

CACHE_FORMAT = 2
CHUNK_ROWS = 1_000_000
CSV_TO_PARQUET_BYTES = 64 << 20
"""CSV exports of at least this size are converted once to Parquet (in a
cache keyed by their content) and read from there."""
_CSV_OPTIONS = "all_varchar=true, header=true, union_by_name=true, strict_mode=false, null_padding=true"

_CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
_PARQUET_SUFFIXES = {".parquet", ".pq"}
_EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}

# Column names that look like personal data; such unmapped columns are
# reported as PII (they are never loaded either way).
_PII_NAME_RE = re.compile(
    r"e-?mail|phone|mobile|\btel\b|name|address|comment|memo|note|"
    r"이메일|메일|전화|휴대폰|연락처|이름|성명|주소|메모|의견|코멘트",
    re.IGNORECASE,
)

_TS_FORMATS = [
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y.%m.%d %H:%M:%S", "%Y.%m.%d %H:%M",
    "%Y.%m.%d", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%Y%m%d",
    "%Y. %m. %d. %H:%M:%S", "%Y. %m. %d.",
]

# What to tell the user for each failed value check, by check name.
_CHECK_FIXES = {
    "greater_than_or_equal_to": "correct or remove these rows in the export; refunds and cancellations belong in payment_status, not in negative amounts",
    "isin": "NPS is the 0-10 answer to 'how likely are you to recommend us'; rescale other scales before export or map the right column",
    "in_range": "CSAT is expected on a 1-5 scale; rescale it before export or map the right column",
    "clicks_le_impressions": "clicks cannot exceed impressions: check that the two columns are not swapped in the mapping, or correct the rows",
}


# --------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------

def detect_encoding(path: Path, chunk_size: int = 1 << 20) -> str:
    """Detect a CSV file's encoding: ``utf-8-sig``, ``utf-8`` or ``cp949``.

    CP949 is Microsoft's superset of EUC-KR, the encoding of Korean Excel
    exports. The whole file is decoded incrementally, so a non-UTF-8 byte
    deep in the file is not missed.

    Raises
    ------
    ValueError
        When the file is none of the three; the message gives the byte offset.
    """
    with open(path, "rb") as f:
        head = f.read(3)
    if head == codecs.BOM_UTF8:
        return "utf-8-sig"
    first_error: str | None = None
    for enc in ("utf-8", "cp949"):
        dec = codecs.getincrementaldecoder(enc)(errors="strict")
        offset = 0
        try:
            with open(path, "rb") as f:
                while chunk := f.read(chunk_size):
                    dec.decode(chunk)
                    offset += len(chunk)
                dec.decode(b"", final=True)
            return enc
        except UnicodeDecodeError as e:
            first_error = first_error or f"byte {offset + e.start:,} is not valid UTF-8"
    raise ValueError(f"{first_error}, and the file is not CP949/EUC-KR either")


def _transcode(src: Path, dst: Path, encoding: str) -> None:
    with open(src, encoding=encoding, newline="") as fin, open(dst, "w", encoding="utf-8", newline="") as fout:
        shutil.copyfileobj(fin, fout, 1 << 20)


# --------------------------------------------------------------------------
# Cache key
# --------------------------------------------------------------------------

def _source_files(cfg: RunConfig, table: str, tcfg: TableConfig) -> list[Path]:
    src = cfg.source_path
    assert src is not None
    if not tcfg.file:
        raise ConfigError(
            f"params/clients/{cfg.client}.yaml: data.tables.{table} has no 'file'",
            fix=f"name the file that holds {table} inside {cfg.data.source}",
        )
    pattern = tcfg.file
    if any(ch in pattern for ch in "*?["):
        files = sorted(src.glob(pattern))
    else:
        files = [src / pattern] if (src / pattern).is_file() else []
    if not files:
        present = sorted(p.name for p in src.iterdir()) if src.is_dir() else []
        close = difflib.get_close_matches(pattern, present, n=1)
        raise DataError(
            client=cfg.client, table=table, column=None,
            problem=f"file '{pattern}' not found in {src}" + ("" if src.is_dir() else " (the folder does not exist)"),
            fix=(f"did you mean '{close[0]}'? " if close else "")
            + f"set data.tables.{table}.file in params/clients/{cfg.client}.yaml; files there: {', '.join(present[:10]) or 'none'}",
        )
    return files


def content_digest(path: Path, cache_root: Path | None = None) -> str:
    """A digest of a file's bytes (BLAKE2b, 128 bits).

    Hashing reads the whole file (about 1 GB/s here), so the digest is
    remembered in ``<cache_root>/digests.json`` under the file's path, size
    and modification time: a file that is only touched, copied or re-synced
    keeps its cache entries, and one whose content changed gets new ones.
    """
    st = path.stat()
    stamp = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    memo_path = cache_root / "digests.json" if cache_root else None
    memo: dict[str, str] = {}
    if memo_path and memo_path.exists():
        try:
            memo = json.loads(memo_path.read_text(encoding="utf-8"))
        except ValueError:
            memo = {}
    if stamp in memo:
        return memo[stamp]
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    digest = h.hexdigest()
    if memo_path:
        memo = {k: v for k, v in memo.items() if not k.startswith(f"{path.resolve()}|")}
        memo[stamp] = digest
        memo_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = memo_path.with_name(f".digests-{uuid.uuid4().hex[:8]}.json")
        tmp.write_text(json.dumps(memo, indent=0), encoding="utf-8")
        tmp.replace(memo_path)  # atomic; a concurrent writer's entry may be lost, never the file
    return digest


def cache_key(cfg: RunConfig) -> str:
    """A digest of everything the loaded data depends on: the format, the
    journeykit version, the time zone, the client's data mapping and the
    content of every source file (see :func:`content_digest`)."""
    h = hashlib.sha256()
    h.update(f"{CACHE_FORMAT}|{__version__}|{cfg.timezone}|".encode())
    h.update(cfg.data.model_dump_json().encode())
    if not cfg.data.is_database:
        for table, tcfg in sorted(cfg.data.tables.items()):
            for f in _source_files(cfg, table, tcfg):
                h.update(f"{f.name}|{content_digest(f, _cache_root(cfg))}".encode())
    return h.hexdigest()[:16]


def _cache_root(cfg: RunConfig) -> Path:
    return cfg.root / "data" / ".cache"


# --------------------------------------------------------------------------
# One table
# --------------------------------------------------------------------------

def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class _TableLoader:
    def __init__(self, con: duckdb.DuckDBPyConnection, cfg: RunConfig, table: str, tcfg: TableConfig, work: Path):
        self.con = con
        self.cfg = cfg
        self.table = table
        self.tcfg = tcfg
        self.work = work
        self.spec = schemas.SPECS[table]
        self.schema = schemas.SCHEMAS[table]
        self.raw = f"raw_{table}"
        self.file_label: str | None = None
        self.errors: list[DataError] = []

    def error(self, column: str | None, problem: str, fix: str, n_rows: int | None = None, examples=()) -> DataError:
        return DataError(client=self.cfg.client, table=self.table, column=column, problem=problem,
                         fix=fix, n_rows=n_rows, examples=examples, file=self.file_label)

    # -- reading ---------------------------------------------------------
    def read(self) -> TableLoad:
        if self.cfg.data.is_database:
            return self._read_database()
        files = _source_files(self.cfg, self.table, self.tcfg)
        self.file_label = ", ".join(f.name for f in files)
        suffix = files[0].suffix.lower()
        if suffix in _CSV_SUFFIXES:
            return self._read_csv(files)
        if suffix in _PARQUET_SUFFIXES:
            paths = "[" + ", ".join(_lit(str(f)) for f in files) + "]"
            self.con.execute(f"CREATE VIEW {self.raw} AS SELECT * FROM read_parquet({paths}, union_by_name=true)")
            return TableLoad(self.table, self.file_label, "parquet")
        if suffix in _EXCEL_SUFFIXES:
            return self._read_excel(files)
        raise self.error(None, f"unsupported file type '{suffix}'",
                         "export the table as .csv, .parquet or .xlsx")

    def _read_csv(self, files: list[Path]) -> TableLoad:
        encodings = set()
        as_parquet = sum(f.stat().st_size for f in files) >= CSV_TO_PARQUET_BYTES
        paths = []
        try:
            for f in files:
                if f.stat().st_size == 0:
                    raise self.error(None, f"file {f.name} is empty (0 bytes)",
                                     "re-export the table; if the client has no such data, remove the table from the client file")
                if as_parquet:
                    done = self._parquet_copy(f)
                    if done is not None:
                        paths.append(done[0])
                        encodings.add(done[1])
                        continue
                readable, enc = self._utf8(f, len(paths))
                encodings.add(enc)
                paths.append(self._csv_as_parquet(f, readable, enc) if as_parquet else readable)
            lst = "[" + ", ".join(_lit(str(p)) for p in paths) + "]"
            if as_parquet:
                self.con.execute(f"CREATE VIEW {self.raw} AS SELECT * FROM read_parquet({lst}, union_by_name=true)")
            else:
                self.con.execute(f"CREATE TABLE {self.raw} AS SELECT * FROM read_csv({lst}, {_CSV_OPTIONS})")
        except duckdb.Error as e:
            raise self.error(None, f"the CSV file cannot be parsed: {str(e).splitlines()[0]}",
                             "check the delimiter and quoting (a header row, one record per line)") from None
        return TableLoad(self.table, self.file_label or "", "csv", encoding=", ".join(sorted(encodings)))

    def _utf8(self, f: Path, i: int) -> tuple[Path, str]:
        """A UTF-8 readable path for ``f`` (transcoded into the build folder
        when needed) and the encoding it was read in."""
        enc = self.tcfg.encoding
        if not enc:
            try:
                enc = detect_encoding(f)
            except ValueError as e:
                raise self.error(None, f"cannot tell the text encoding of {f.name}: {e}",
                                 f"save it as UTF-8, or set data.tables.{self.table}.encoding") from None
        if codecs.lookup(enc).name in ("utf-8", "utf-8-sig"):
            return f, enc
        out = self.work / f"{self.table}-{i}.utf8.csv"
        try:
            _transcode(f, out, enc)
        except (UnicodeDecodeError, LookupError) as e:
            raise self.error(None, f"{f.name} is not valid {enc}: {e}",
                             f"check data.tables.{self.table}.encoding") from None
        return out, enc

    def _parquet_target(self, source: Path) -> Path:
        root = _cache_root(self.cfg)
        enc = self.tcfg.encoding or "detected"
        return root / "csv" / f"{content_digest(source, root)}-{re.sub(r'[^A-Za-z0-9_-]', '', enc)}.parquet"

    def _parquet_copy(self, source: Path) -> tuple[Path, str] | None:
        """The finished Parquet copy of ``source`` and the encoding it was
        read in, if an earlier load converted it."""
        out = self._parquet_target(source)
        meta = out.with_suffix(".json")
        if out.exists() and meta.exists():
            return out, json.loads(meta.read_text(encoding="utf-8"))["encoding"]
        return None

    def _csv_as_parquet(self, source: Path, readable: Path, encoding: str) -> Path:
        """Convert a large CSV once to Parquet (every column text, as the CSV
        reader gives it) in ``data/.cache/csv/<content digest>``: a rebuild
        after the client file changes, or another client mapping the same
        export, reads it instead of detecting, transcoding and parsing the
        CSV again."""
        out = self._parquet_target(source)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.stem}-{uuid.uuid4().hex[:8]}.parquet")
        try:
            self.con.execute(f"COPY (SELECT * FROM read_csv({_lit(str(readable))}, {_CSV_OPTIONS})) "
                             f"TO {_lit(str(tmp))} (FORMAT parquet)")
            tmp.replace(out)
        finally:
            tmp.unlink(missing_ok=True)
        out.with_suffix(".json").write_text(json.dumps({"source": source.name, "encoding": encoding}),
                                            encoding="utf-8")
        return out

    def _read_excel(self, files: list[Path]) -> TableLoad:
        frames = []
        for f in files:
            try:
                df = pd.read_excel(f, sheet_name=self.tcfg.sheet or 0, dtype=object)
            except ValueError as e:
                raise self.error(None, f"cannot read sheet of {f.name}: {e}",
                                 f"set data.tables.{self.table}.sheet to an existing sheet name") from None
            frames.append(df.astype("string").astype(object).where(df.notna(), None))
        df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        df.columns = [str(c) for c in df.columns]
        # Fix (tests/unit/test_io.py::test_loads_a_folder_of_csv_parquet_and_xlsx):
        # on DuckDB 2.0 register() refuses to run while an earlier
        # execute(...).fetchone() result is unfinished, so an .xlsx table
        # loaded after any other table failed with ResourceInUseException.
        # A cursor is its own connection to the same database.
        cur = self.con.cursor()
        try:
            cur.register("_excel_df", df)
            cur.execute(f"CREATE TABLE {self.raw} AS SELECT * FROM _excel_df")
        finally:
            cur.close()
        return TableLoad(self.table, self.file_label or "", "excel")

    def _read_database(self) -> TableLoad:
        import ibis

        name = self.tcfg.table or self.table
        if self.cfg.data.source.startswith("duckdb://"):
            return self._read_duckdb_file(name)
        try:
            backend = ibis.connect(self.cfg.data.source)
            expr = backend.table(name)
        except Exception as e:  # backend errors have no common base class
            raise self.error(None, f"cannot read table '{name}' from {_redact(self.cfg.data.source)}: {e}",
                             f"check data.source and data.tables.{self.table}.table") from None
        reader = expr.to_pyarrow_batches(chunk_size=CHUNK_ROWS)
        self.con.execute(f"CREATE TABLE {self.raw} AS SELECT * FROM reader")
        self.file_label = name
        return TableLoad(self.table, f"{_redact(self.cfg.data.source)} / {name}", "database")

    def _read_duckdb_file(self, name: str) -> TableLoad:
        # Fix (tests/unit/test_io.py::test_database_source_loads_like_a_file):
        # a duckdb:// source went through ibis' to_pyarrow_batches(), which
        # calls DuckDBPyConnection.fetch_record_batch(), removed in DuckDB 2.0:
        # every duckdb:// load failed with a raw InvalidInputException. The
        # file is now attached read-only to the build connection and copied on
        # the engine (which also no longer creates a missing file, as ibis'
        # read-write connect did). Paths are read as ibis reads them:
        # duckdb:///abs/file.db, duckdb://relative/file.db.
        source = self.cfg.data.source
        path = source[len("duckdb://"):].split("?", 1)[0]
        try:
            self.con.execute(f"ATTACH {_lit(str(Path(path).absolute()))} AS _jk_source (READ_ONLY)")
            try:
                self.con.execute(f"CREATE TABLE {self.raw} AS SELECT * FROM _jk_source.{_q(name)}")
            finally:
                self.con.execute("DETACH _jk_source")
        except duckdb.Error as e:
            raise self.error(None, f"cannot read table '{name}' from {_redact(source)}: {str(e).splitlines()[0]}",
                             f"check data.source and data.tables.{self.table}.table") from None
        self.file_label = name
        return TableLoad(self.table, f"{_redact(source)} / {name}", "database")

    # -- mapping ---------------------------------------------------------
    def source_columns(self) -> dict[str, str]:
        """Source column name -> DuckDB type."""
        rows = self.con.execute(f"DESCRIBE {self.raw}").fetchall()
        return {r[0]: r[1] for r in rows}

    def mapping(self, load: TableLoad, source: dict[str, str]) -> dict[str, str]:
        """canonical -> source column, for the columns we keep."""
        mappable = schemas.mappable_columns(self.table)
        unknown = [k for k in self.tcfg.columns if k not in mappable]
        if unknown:
            k = unknown[0]
            close = difflib.get_close_matches(k, mappable, n=1)
            raise ConfigError(
                f"params/clients/{self.cfg.client}.yaml: data.tables.{self.table}.columns: '{k}' is not a column of {self.table}"
                + (f" (did you mean '{close[0]}'?)" if close else ""),
                fix=f"map only canonical columns: {', '.join(mappable)}",
            )
        lower = {c.lower().strip(): c for c in source}
        chosen: dict[str, str] = {}
        for canon in mappable:
            want = self.tcfg.columns.get(canon)
            if want is not None:
                if want not in source:
                    match = lower.get(want.lower().strip())
                    if match is None:
                        close = difflib.get_close_matches(want, list(source), n=1)
                        raise self.error(
                            canon, f"the client file maps {canon} to column '{want}', which the file does not have",
                            (f"did you mean '{close[0]}'? " if close else "")
                            + f"columns in the file: {', '.join(list(source)[:15])}",
                        )
                    want = match
                chosen[canon] = want
            elif canon.lower() in lower:
                chosen[canon] = lower[canon.lower()]
        pii = [c for c in schemas.SPECS[self.table].pii if c in chosen]
        load.pii_dropped = sorted(chosen[c] if chosen[c] == c else f"{chosen[c]} ({c})" for c in pii)
        used = set(chosen.values())
        for c in pii:
            if c not in schemas.DERIVED_COLUMNS.get(self.table, {}).values():
                chosen.pop(c)
        for col in source:
            if col in used:
                continue
            if _PII_NAME_RE.search(col):
                load.pii_dropped.append(col)
            else:
                load.unused_columns.append(col)
        required = schemas.required_columns(self.table)
        missing = [c for c in required if c not in chosen]
        if self.table == "events" and self.tcfg.event_type:
            if "event_type" in chosen:
                raise ConfigError(
                    f"params/clients/{self.cfg.client}.yaml: data.tables.events has both an event_type column "
                    f"('{chosen['event_type']}') and a fixed event_type ('{self.tcfg.event_type}')",
                    fix="keep one: map the column under columns, or remove it from the export")
            if self.tcfg.event_type not in schemas.EVENT_TYPES:
                raise ConfigError(
                    f"params/clients/{self.cfg.client}.yaml: data.tables.events.event_type "
                    f"'{self.tcfg.event_type}' is not a canonical event type",
                    fix=f"use one of: {', '.join(schemas.EVENT_TYPES)}")
            missing = [c for c in missing if c != "event_type"]
        if self.table == "events" and "customer_id" not in chosen and "visitor_id" not in chosen:
            missing.append("customer_id or visitor_id")
        if missing:
            cols = ", ".join(list(source)[:15])
            raise self.error(
                missing[0], f"required column{'s' if len(missing) > 1 else ''} missing: {', '.join(missing)}",
                f"map {'them' if len(missing) > 1 else 'it'} under data.tables.{self.table}.columns in "
                f"params/clients/{self.cfg.client}.yaml (e.g. {missing[0].split(' ')[0]}: <your column>); "
                f"columns in the file: {cols}",
            )
        load.columns = {c: s for c, s in chosen.items() if c not in schemas.SPECS[self.table].pii}
        if self.table == "events" and self.tcfg.event_type:
            load.columns["event_type"] = f"(every row: {self.tcfg.event_type})"
        return chosen

    # -- typing ----------------------------------------------------------
    def typed_expr(self, canon: str, src: str, src_type: str) -> str:
        kind = schemas.dtype(self.table, canon)
        col = _q(src)
        is_text = src_type.upper().startswith("VARCHAR")
        if kind == "str":
            base = f"NULLIF(TRIM(CAST({col} AS VARCHAR)), '')"
            if canon == "event_type":
                return self._event_type_expr(base)
            if (self.table, canon) in schemas.CATEGORIES:
                return self._category_expr(canon, base)
            return base
        if kind == "float64":
            if not is_text:
                return f"TRY_CAST({col} AS DOUBLE)"
            s = f"TRIM({col})"
            return (f"TRY_CAST(CASE WHEN regexp_full_match({s}, '-?[0-9]{{1,3}}(,[0-9]{{3}})+(\\.[0-9]*)?') "
                    f"THEN replace({s}, ',', '') ELSE {s} END AS DOUBLE)")
        if kind.startswith("datetime64"):
            t = src_type.upper()
            if "WITH TIME ZONE" in t:
                return f"CAST(({col} AT TIME ZONE {_lit(self.cfg.timezone)}) AS TIMESTAMP)"
            if t.startswith("TIMESTAMP") or t == "DATE":
                return f"CAST({col} AS TIMESTAMP)"
            if not is_text:
                return f"TRY_CAST({col} AS TIMESTAMP)"
            s = f"TRIM({col})"
            if self.tcfg.date_format:
                return f"TRY_STRPTIME({s}, {_lit(self.tcfg.date_format)})"
            fmts = "[" + ", ".join(_lit(f) for f in _TS_FORMATS) + "]"
            tz = _lit(self.cfg.timezone)
            return (
                f"CASE WHEN regexp_matches({s}, '(Z|[+-][0-9]{{2}}:?[0-9]{{2}})$') "
                f"THEN CAST((TRY_CAST({s} AS TIMESTAMPTZ) AT TIME ZONE {tz}) AS TIMESTAMP) "
                f"ELSE COALESCE(TRY_CAST({s} AS TIMESTAMP), TRY_STRPTIME({s}, {fmts})) END"
            )
        raise AssertionError(f"no cast for {kind}")

    def _event_type_expr(self, base: str) -> str:
        mapping = dict(self.tcfg.event_types)
        canonical = set(schemas.EVENT_TYPES)
        bad = [v for v in mapping.values() if v not in canonical]
        if bad:
            raise ConfigError(
                f"params/clients/{self.cfg.client}.yaml: data.tables.events.event_types maps to '{bad[0]}', "
                "which is not a canonical event type",
                fix=f"use one of: {', '.join(schemas.EVENT_TYPES)}",
            )
        cases = " ".join(f"WHEN {base} = {_lit(k)} THEN {_lit(v)}" for k, v in mapping.items())
        canon_list = ", ".join(_lit(c) for c in schemas.EVENT_TYPES)
        return (f"CASE {cases} WHEN lower({base}) IN ({canon_list}) THEN lower({base}) "
                f"ELSE {base} END")

    def value_map(self, canon: str) -> dict[str, tuple[str, str]]:
        """Lower-cased source value -> (canonical value, ``client`` or
        ``default``) for the categorical column ``canon``; the client's
        mapping wins."""
        allowed = schemas.CATEGORIES[(self.table, canon)]
        out = {k: (v, "default") for k, v in schemas.DEFAULT_VALUES.get((self.table, canon), {}).items()}
        for k, v in (self.tcfg.values.get(canon) or {}).items():
            out[str(k).strip().lower()] = (v, "client")
        bad = sorted({v for v, who in out.values() if who == "client" and v not in allowed})
        if bad:
            raise ConfigError(
                f"params/clients/{self.cfg.client}.yaml: data.tables.{self.table}.values.{canon} maps to "
                f"{', '.join(repr(b) for b in bad)}, not a canonical {canon}",
                fix=f"map each value to one of: {', '.join(allowed)}")
        return out

    def _category_expr(self, canon: str, base: str) -> str:
        cases = " ".join(f"WHEN {_lit(k)} THEN {_lit(v)}" for k, (v, _) in self.value_map(canon).items())
        # an unmapped value is kept as it is, and reported by _check_categories
        return f"CASE lower({base}) {cases} ELSE {base} END" if cases else base

    def _check_values(self, load: TableLoad, chosen: dict[str, str]) -> None:
        """Record how each categorical column's values were mapped, and
        refuse values that are not mapped (never read as "neither paid nor
        failed")."""
        for (table, canon), allowed in schemas.CATEGORIES.items():
            if table != self.table or canon not in chosen:
                continue
            mapping = self.value_map(canon)
            src = f"NULLIF(TRIM(CAST({_q(chosen[canon])} AS VARCHAR)), '')"
            rows = self.con.execute(f"SELECT {src} AS v, count(*) FROM {self.raw} GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()
            listed, unmapped = [], []
            for value, n in rows:
                if value is None:
                    listed.append({"value": None, "canonical": None, "rows": int(n), "mapped_by": "empty"})
                    continue
                hit = mapping.get(value.lower())
                if hit is None and value in allowed:
                    hit = (value, "default")
                if hit is None:
                    unmapped.append((value, int(n)))
                listed.append({"value": value, "canonical": hit[0] if hit else None, "rows": int(n),
                               "mapped_by": hit[1] if hit else None})
            load.values[canon] = listed
            if unmapped:
                total = sum(n for _, n in unmapped)
                example = ", ".join(f"{v}: <{'|'.join(allowed)}>" for v, _ in unmapped[:3])
                self.errors.append(self.error(
                    canon, f"{len(unmapped)} value{'s' if len(unmapped) > 1 else ''} of column "
                           f"'{chosen[canon]}' {'are' if len(unmapped) > 1 else 'is'} not mapped to a canonical "
                           f"{canon} ({', '.join(allowed)})",
                    n_rows=total, examples=[f"{v} ({n:,} row{'s' if n != 1 else ''})" for v, n in unmapped[:5]],
                    fix=f"say what each value means under data.tables.{self.table}.values.{canon} in "
                        f"params/clients/{self.cfg.client}.yaml, e.g. {{{example}}}"))

    def _check_blank(self, load: TableLoad, chosen: dict[str, str]) -> None:
        """A required column without a single value is a wrong mapping or a
        broken export, not something to repair by dropping every row."""
        required = [c for c in schemas.required_columns(self.table) if c in chosen]
        if not required:
            return
        counts = self.con.execute(
            "SELECT " + ", ".join(f"count(NULLIF(TRIM(CAST({_q(chosen[c])} AS VARCHAR)), ''))" for c in required)
            + f" FROM {self.raw}").fetchone()
        for c, n in zip(required, counts):
            if not n:
                self.errors.append(self.error(
                    c, f"column '{chosen[c]}' is empty in all {load.rows_read:,} rows, and {c} is required",
                    n_rows=load.rows_read,
                    fix=f"check that data.tables.{self.table}.columns.{c} names the right column, "
                        "or re-export the table with it filled"))

    def _time_range(self, load: TableLoad) -> None:
        col = _q(self.spec.time_column)
        lo, hi = self.con.execute(f"SELECT min({col}), max({col}) FROM {_q(self.table)}").fetchone()
        load.first_at = lo.isoformat() if lo is not None else None
        load.last_at = hi.isoformat() if hi is not None else None

    def load(self) -> TableLoad:
        load = self.read()
        source = self.source_columns()
        chosen = self.mapping(load, source)
        load.rows_read = self.con.execute(f"SELECT count(*) FROM {self.raw}").fetchone()[0]
        if load.rows_read == 0:
            load.status = "empty"
            load.note = "the file has a header but no rows: the table is treated as not supplied"
            return load

        exprs: dict[str, str] = {}
        for canon, src in chosen.items():
            if canon in schemas.SPECS[self.table].pii:
                continue
            exprs[canon] = self.typed_expr(canon, src, source[src])
        if self.table == "events" and self.tcfg.event_type:
            exprs["event_type"] = _lit(self.tcfg.event_type)  # one kind of event per file (checked in mapping)
        for derived, from_col in schemas.DERIVED_COLUMNS.get(self.table, {}).items():
            if from_col in chosen:
                exprs[derived] = f"(NULLIF(TRIM(CAST({_q(chosen[from_col])} AS VARCHAR)), '') IS NOT NULL)"

        # Values that fail to cast are reported here and become null below,
        # so the value checks still run and one load reports every problem.
        self._check_casts(exprs, chosen, source)
        self._check_blank(load, chosen)
        self._check_values(load, chosen)

        select = ", ".join(f"{e} AS {_q(c)}" for c, e in exprs.items())
        # Cast and filter in one pass: the typed rows are never stored
        # separately (on 62 M events a typed copy cost 35 s of a 2-minute load).
        self._repair(load, exprs, f"(SELECT {select} FROM {self.raw})")
        kind = self.con.execute("SELECT table_type FROM information_schema.tables WHERE table_name = ?",
                                [self.raw]).fetchone()[0]
        self.con.execute(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} {self.raw}")
        if self.table == "events":
            self._unmapped_events(load)
        self._validate(load)
        load.rows_loaded = self.con.execute(f"SELECT count(*) FROM {_q(self.table)}").fetchone()[0]
        self._time_range(load)
        return load

    def _check_casts(self, exprs: dict[str, str], chosen: dict[str, str], source: dict[str, str]) -> None:
        checked = [c for c in exprs if c in chosen and schemas.dtype(self.table, c) != "str"]
        if not checked:
            return

        def failing(canon: str) -> str:
            src = _q(chosen[canon])
            return f"({src} IS NOT NULL AND TRIM(CAST({src} AS VARCHAR)) <> '' AND ({exprs[canon]}) IS NULL)"

        # One scan counts the failures of every column.
        counts = self.con.execute(
            "SELECT " + ", ".join(f"count(*) FILTER (WHERE {failing(c)})" for c in checked) + f" FROM {self.raw}"
        ).fetchone()
        for canon, n in zip(checked, counts):
            if not n:
                continue
            src = _q(chosen[canon])
            examples = [r[0] for r in self.con.execute(
                f"SELECT DISTINCT CAST({src} AS VARCHAR) FROM {self.raw} WHERE {failing(canon)} LIMIT 5"
            ).fetchall()]
            if schemas.dtype(self.table, canon).startswith("datetime"):
                self.errors.append(self.error(
                    canon, f"{_n_values(n)} in column '{chosen[canon]}' cannot be read as a date or timestamp",
                    n_rows=n, examples=examples,
                    fix=f"write them as YYYY-MM-DD HH:MM:SS, or set data.tables.{self.table}.date_format "
                        "(e.g. '%d/%m/%Y %H:%M') in the client file",
                ))
            else:
                self.errors.append(self.error(
                    canon, f"{_n_values(n)} in column '{chosen[canon]}' {'is not a number' if n == 1 else 'are not numbers'}",
                    n_rows=n, examples=examples,
                    fix="export plain numbers (no currency signs or units); check that the mapping names the right column",
                ))

    def _repair(self, load: TableLoad, exprs: dict[str, str], typed: str) -> None:
        """Create the table from ``typed`` (a query of the cast rows),
        dropping rows without a required value and exact duplicates."""
        t = _q(self.table)
        required = [c for c in schemas.required_columns(self.table) if c in exprs]
        where = " AND ".join(f"{_q(c)} IS NOT NULL" for c in required) or "TRUE"
        if self.table == "events":
            ids = [c for c in ("customer_id", "visitor_id") if c in exprs]
            where += " AND (" + " OR ".join(f"{_q(c)} IS NOT NULL" for c in ids) + ")"
        n_typed = load.rows_read
        id_col = self.spec.id_column
        if id_col and id_col not in exprs:
            # The client's export has no order id: each row is one order.
            self.con.execute(
                f"CREATE TABLE {t} AS SELECT *, 'row-' || CAST(row_number() OVER () AS VARCHAR) AS {_q(id_col)} "
                f"FROM {typed} WHERE {where}"
            )
            # Fix (tests/unit/test_io.py::test_generated_order_id_counts_only_kept_rows):
            # ids are generated for the rows kept, not for those dropped below
            # for a missing required value; n_typed over-counted them.
            n_ids = self.con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            load.repairs.append(Repair(
                "generated_id", f"generated {id_col}", n_ids,
                f"the export has no {id_col}: each row is taken as one {self.table[:-1]}", id_col))
        else:
            self.con.execute(f"CREATE TABLE {t} AS SELECT * FROM {typed} WHERE {where}")
        n_kept = self.con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        if n_kept < n_typed:
            load.repairs.append(Repair(
                "missing_required", "dropped rows missing a required value", n_typed - n_kept,
                f"a row without {', '.join(required)} cannot be placed in time or attributed; "
                "the count is shown so a large one is noticed", ", ".join(required)))
        unique = self.schema.unique or []
        if unique and all(c in exprs or c == id_col for c in unique):
            self._dedupe(load, list(unique))

    def _dedupe(self, load: TableLoad, key: list[str]) -> None:
        t = _q(self.table)
        k = ", ".join(_q(c) for c in key)

        def shared_ids() -> int:
            return int(self.con.execute(
                f"SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM {t} GROUP BY {k} HAVING count(*) > 1)"
            ).fetchone()[0])

        n = shared_ids()
        if n:
            # Rows that repeat an id *and* every other value are the same
            # record exported twice: keeping one loses nothing. (Only looked
            # for when some id repeats: a DISTINCT over every column is the
            # costliest query of a load.)
            before = self.con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            self.con.execute(f"CREATE TABLE _dedup AS SELECT DISTINCT * FROM {t}")
            after = self.con.execute("SELECT count(*) FROM _dedup").fetchone()[0]
            if after < before:
                self.con.execute(f"DROP TABLE {t}")
                self.con.execute(f"ALTER TABLE _dedup RENAME TO {t}")
                load.repairs.append(Repair("exact_duplicates", "dropped exact duplicate rows", before - after,
                                           "the same record exported twice (same id, same values): one copy is kept"))
                n = shared_ids()
            else:
                self.con.execute("DROP TABLE _dedup")
        load.checks.append(Check("unique", "+".join(key), n))
        if n:
            dups = self.con.execute(
                f"SELECT {k}, count(*) AS n FROM {t} GROUP BY ALL HAVING count(*) > 1 ORDER BY n DESC, {k} LIMIT 5"
            ).fetchall()
            self.errors.append(self.error(
                "+".join(key), f"{n:,} rows share an id with a different row ({'+'.join(key)} must be unique)",
                n_rows=n, examples=[r[0] if len(key) == 1 else tuple(r[:-1]) for r in dups],
                fix="ids must identify one record: de-duplicate the export, or map the right id column",
            ))

    def _unmapped_events(self, load: TableLoad) -> None:
        canon = ", ".join(_lit(c) for c in schemas.EVENT_TYPES)
        rows = self.con.execute(
            f"SELECT event_type, count(*) FROM events WHERE event_type NOT IN ({canon}) GROUP BY 1 ORDER BY 2 DESC, 1"
        ).fetchall()
        load.unmapped_event_types = {r[0]: int(r[1]) for r in rows}

    def _validate(self, load: TableLoad) -> None:
        """Run the pandera schema over the table in chunks of CHUNK_ROWS."""
        present = [c for c in self.schema.columns if c in self._columns()]
        schema = copy.deepcopy(self.schema)
        schema.unique = None  # checked on the whole table by _dedupe
        schema.columns = {c: schema.columns[c] for c in present}
        failing: dict[tuple[str, str | None], set[int]] = {}
        examples: dict[tuple[str, str | None], list] = {}
        checks_seen: set[tuple[str, str | None]] = set()
        for col in present:
            for chk in schema.columns[col].checks:
                checks_seen.add((chk.name, col))
        for chk in schema.checks:
            checks_seen.add((chk.name, None))
        reader = self.con.sql(f"SELECT {', '.join(_q(c) for c in present)} FROM {_q(self.table)}").to_arrow_reader(CHUNK_ROWS)
        offset = 0
        for chunk in _chunks(reader, CHUNK_ROWS):
            df = chunk.to_pandas()
            df.index = range(offset, offset + len(df))
            offset += len(df)
            try:
                schema.validate(df, lazy=True)
            except pandera.errors.SchemaErrors as e:
                fc = e.failure_cases
                for rec in fc.itertuples(index=False):
                    check = str(rec.check).split("(")[0]
                    column = rec.column if rec.schema_context == "Column" else None
                    key = (check, column)
                    checks_seen.add(key)
                    if rec.index is not None and not pd.isna(rec.index):
                        failing.setdefault(key, set()).add(int(rec.index))
                    ex = examples.setdefault(key, [])
                    if len(ex) < 5 and rec.failure_case is not None and rec.failure_case not in ex:
                        ex.append(rec.failure_case)
        for check, column in sorted(checks_seen, key=lambda k: (k[1] or "", k[0])):
            n = len(failing.get((check, column), ()))
            load.checks.append(Check(check, column, n))
            if not n:
                continue
            if column is None:
                exs = self._row_examples(failing[(check, None)], check)
                column = next((c for c in schema.columns if check.startswith(c + "_")), None)
            else:
                exs = examples.get((check, column), [])
            self.errors.append(self.error(
                column, f"{n:,} row{'s' if n > 1 else ''} fail{'s' if n == 1 else ''} the check "
                        f"'{i18n.check_label(check, column)}'",
                n_rows=n, examples=exs,
                fix=_CHECK_FIXES.get(check, "correct or remove these rows in the export"),
            ))

    def _row_examples(self, rows: set[int], check: str) -> list:
        cols = {"clicks_le_impressions": ("impressions", "clicks")}.get(check)
        if cols is None:
            m = re.match(r"(\w+)_not_before_(\w+)", check)
            cols = (m.group(2), m.group(1)) if m else ()
        if not cols:
            return sorted(rows)[:5]
        picked = sorted(rows)[:5]
        sel = ", ".join(_q(c) for c in cols)
        out = self.con.execute(
            f"SELECT {sel} FROM (SELECT {sel}, row_number() OVER () - 1 AS _i FROM {_q(self.table)}) "
            f"WHERE _i IN ({', '.join(str(i) for i in picked)})"
        ).fetchall()
        return [dict(zip(cols, (str(v) for v in r))) for r in out]

    def _columns(self) -> list[str]:
        return [r[0] for r in self.con.execute(f"DESCRIBE {_q(self.table)}").fetchall()]


def _chunks(reader, rows: int):
    """Arrow tables of about ``rows`` rows from a record-batch reader.
    DuckDB hands out batches of one row group (122,880 rows) whatever size
    is asked for, and pandera's cost per call is mostly fixed: validating
    62 M events batch by batch spent most of its time in that overhead."""
    import pyarrow as pa

    pending, n = [], 0
    for batch in reader:
        pending.append(batch)
        n += batch.num_rows
        if n >= rows:
            yield pa.Table.from_batches(pending)
            pending, n = [], 0
    if pending:
        yield pa.Table.from_batches(pending)


def _n_values(n: int) -> str:
    return "1 value" if n == 1 else f"{n:,} values"


def _redact(url: str) -> str:
    return re.sub(r"//([^:/@]+):([^@]+)@", r"//\1:***@", url)


# --------------------------------------------------------------------------
# Across tables
# --------------------------------------------------------------------------

def _customer_sources(con: duckdb.DuckDBPyConnection, loaded: set[str]) -> list[str]:
    out = []
    for t in sorted(loaded):
        spec = schemas.SPECS[t]
        if not spec.customer_keyed:
            continue
        cols = {r[0] for r in con.execute(f"DESCRIBE {_q(t)}").fetchall()}
        if "customer_id" in cols:
            out.append(f"SELECT customer_id, min({_q(spec.time_column)}) AS first_seen FROM {_q(t)} "
                       f"WHERE customer_id IS NOT NULL GROUP BY 1")
    return out


def _derive_orders(con: duckdb.DuckDBPyConnection, report: LoadReport) -> None:
    """An events-only client: its orders are its ``purchase`` events (paid)
    and its ``payment_failed`` events (failed attempts), one order per
    event. The customer is the event's ``customer_id`` when the events have
    one (rows without it are left out), else its ``visitor_id``; the amount
    is the event's ``value`` when the events have one, else unknown (counts
    only: revenue, order value and CLV are not measured)."""
    ev = report.tables.get("events")
    if ev is None or ev.status != "loaded" or ("orders" in report.tables and report.tables["orders"].status != "empty"):
        return
    cols = {r[0] for r in con.execute("DESCRIBE events").fetchall()}
    kinds = "event_type IN ('purchase', 'payment_failed')"
    if not con.execute(f"SELECT count(*) FROM events WHERE {kinds}").fetchone()[0]:
        return
    who = "customer_id" if "customer_id" in cols else "visitor_id"
    amount = "CAST(value AS DOUBLE)" if "value" in cols else "CAST(NULL AS DOUBLE)"
    extra = "".join(f", {c}" for c in ("channel", "device") if c in cols)
    con.execute(
        f"CREATE TABLE orders AS SELECT 'ev-' || CAST(row_number() OVER (ORDER BY occurred_at, {who}, event_type) "
        f"AS VARCHAR) AS order_id, {who} AS customer_id, occurred_at AS ordered_at, {amount} AS amount, "
        f"CASE event_type WHEN 'purchase' THEN 'paid' ELSE 'failed' END AS payment_status{extra} "
        f"FROM events WHERE {kinds} AND {who} IS NOT NULL")
    n, lo, hi, paid = con.execute("SELECT count(*), min(ordered_at), max(ordered_at), "
                                  "count(*) FILTER (WHERE payment_status = 'paid') FROM orders").fetchone()
    columns = {"order_id": "(one per event)", "customer_id": f"events.{who}", "ordered_at": "events.occurred_at",
               "payment_status": "events.event_type"}
    if "value" in cols:
        columns["amount"] = "events.value"
    columns.update({c: f"events.{c}" for c in ("channel", "device") if c in cols})
    note = (f"no orders table: {int(paid):,} purchase and {int(n - paid):,} payment_failed events are taken as "
            "orders and failed payment attempts, one per event"
            + ("; amounts from the events' value" if "value" in cols
               else "; the events carry no value, so amounts are unknown: revenue, order value and CLV are not measured"))
    report.tables["orders"] = TableLoad(
        "orders", "derived from events", "derived", rows_read=int(n), rows_loaded=int(n), status="derived",
        columns=columns, note=note, first_at=lo.isoformat() if lo else None, last_at=hi.isoformat() if hi else None)


def _relations(con: duckdb.DuckDBPyConnection, cfg: RunConfig, report: LoadReport) -> None:
    _derive_orders(con, report)
    loaded = {t for t, l in report.tables.items() if l.status == "loaded" or (l.status == "derived" and t != "customers")}
    sources = _customer_sources(con, loaded)
    if "customers" in loaded:
        if not sources:
            return
        union = " UNION ALL ".join(sources)
        con.execute(
            f"CREATE TABLE _unknown AS SELECT customer_id, min(first_seen) AS signup_at FROM ({union}) "
            f"WHERE customer_id NOT IN (SELECT customer_id FROM customers) GROUP BY 1"
        )
        n = con.execute("SELECT count(*) FROM _unknown").fetchone()[0]
        cust = report.tables["customers"]
        cust.checks.append(Check("known_customer", "customer_id", int(n)))
        if n:
            con.execute("INSERT INTO customers BY NAME SELECT customer_id, signup_at FROM _unknown")
            cust.repairs.append(Repair(
                "unknown_customers", "added customers found only in other tables", int(n),
                "their orders/events are real; they are added with signup_at = first activity, "
                "as for a client without a customers table (the customers export is usually a lagging snapshot)"))
            cust.rows_loaded += int(n)
        con.execute("DROP TABLE _unknown")
    elif sources:
        union = " UNION ALL ".join(sources)
        con.execute(
            f"CREATE TABLE customers AS SELECT customer_id, min(first_seen) AS signup_at FROM ({union}) GROUP BY 1 ORDER BY 1"
        )
        n = con.execute("SELECT count(*) FROM customers").fetchone()[0]
        report.tables["customers"] = TableLoad(
            "customers", "derived from " + ", ".join(sorted(t for t in loaded if schemas.SPECS[t].customer_keyed)),
            "derived", rows_loaded=int(n), status="derived",
            columns={"customer_id": "customer_id", "signup_at": "first activity"},
            note="no customers table: each customer's signup is taken as their first order or event")


# --------------------------------------------------------------------------
# Build and open
# --------------------------------------------------------------------------

def _build(cfg: RunConfig, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    work = target.parent / f".build-{uuid.uuid4().hex[:8]}"
    work.mkdir()
    try:
        con = duckdb.connect(str(work / "data.duckdb"))
        try:
            con.execute("SET enable_progress_bar = false")  # no bars on stderr while a large export loads
        except duckdb.Error:
            # In a Jupyter kernel (an analyst's notebook building the cache)
            # DuckDB refuses to change the setting without ipywidgets.
            pass
        con.execute(f"SET temp_directory = {_lit(str(work / 'spill'))}")
        con.execute(f"SET memory_limit = {_lit(cfg.engine.memory_limit)}")
        report = LoadReport(cfg.client, dt.datetime.now().isoformat(timespec="seconds"), __version__)
        errors: list[DataError] = []
        for table, tcfg in cfg.data.tables.items():
            loader = _TableLoader(con, cfg, table, tcfg, work)
            try:
                report.tables[table] = loader.load()
            except DataError as e:
                errors.append(e)
                continue
            errors.extend(loader.errors)
        if errors:
            raise DataErrors(errors) if len(errors) > 1 else errors[0]
        usable = {t for t, l in report.tables.items() if l.status == "loaded"}
        if not usable & {"orders", "events"}:
            raise DataError(
                client=cfg.client, table="orders", column=None,
                problem="no usable orders or events: every report needs at least one of them",
                fix="map an orders or events export under data.tables in the client file",
            )
        _relations(con, cfg, report)
        for name, t in report.tables.items():  # derived tables: their date range too
            if t.status != "empty" and t.first_at is None:
                col = _q(schemas.SPECS[name].time_column)
                lo, hi = con.execute(f"SELECT min({col}), max({col}) FROM {_q(name)}").fetchone()
                t.first_at, t.last_at = (lo.isoformat() if lo else None), (hi.isoformat() if hi else None)
        for f in work.glob("*.utf8.csv"):
            f.unlink()
        con.execute("CHECKPOINT")
        con.close()
        (work / "load_report.json").write_text(report.to_json(), encoding="utf-8")
        try:
            work.rename(target)
        except OSError:
            if not (target / "load_report.json").exists():
                raise
            shutil.rmtree(work)  # another process built the same key first
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    # Older cache entries of this client are no longer needed.
    for old in target.parent.iterdir():
        if old != target and not old.name.startswith(".") and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)


def prepare(cfg: RunConfig, *, refresh: bool = False) -> LoadReport:
    """Load, validate and cache the client's data without opening an engine
    on it (the runner, before its section kernels start); with
    ``engine.backend: spark`` also write the Parquet export Spark reads.
    Returns the load report."""
    target = _built(cfg, refresh)
    if cfg.engine.backend == "spark":
        parquet_export(target)
    return LoadReport.from_json((target / "load_report.json").read_text(encoding="utf-8"))


def _built(cfg: RunConfig, refresh: bool) -> Path:
    """The current cache entry of the client's data, built if needed."""
    target = _cache_root(cfg) / cfg.client / cache_key(cfg)
    if refresh and target.exists():
        shutil.rmtree(target, ignore_errors=True)
    if not (target / "load_report.json").exists():
        _build(cfg, target)
    return target


def load(cfg: RunConfig, *, refresh: bool = False) -> "Dataset":
    """Load, validate and cache the client's data; return a :class:`Dataset`.

    Parameters
    ----------
    cfg : RunConfig
        From :func:`journeykit.core.config.load`.
    refresh : bool
        Rebuild the cache even when it is current (always done for database
        sources by the runner, whose data can change under the same key).

    Raises
    ------
    DataError, DataErrors
        When the data breaks the contract; each names the client, table,
        column, rows, examples and the fix.
    """
    return Dataset(cfg, _built(cfg, refresh))


__all__ = ["Dataset", "prepare", "LoadReport", "TableLoad", "Repair", "Check", "load", "detect_encoding", "cache_key"]
