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

1. finds the file (CSV, Parquet, Excel) or the database table
   (``schema.table``);
2. detects a CSV's encoding (UTF-8, UTF-8 with BOM, CP949/EUC-KR), checking
   a byte-order mark or a declared UTF-8 against the bytes;
3. finds the header (``header_row``, ``skip_rows``) and maps the client's
   column names and event names onto canonical ones, refusing a name the
   header repeats;
4. drops PII columns (email, name, phone, free-text comment) unread;
5. casts each column on the engine, failing with examples on values that
   are not numbers or timestamps, converting timestamps that carry a UTC
   offset or a zone name to the client's time zone, and refusing decimals
   in an amount of a currency without minor units;
6. validates values with the table's pandera schema, in bounded chunks;
7. repairs what is safe to repair, and counts it (see ``Repair``).

Then, across tables: duplicate ids, customers unknown to ``customers``
(added as derived customers), and a derived ``customers`` table when the
client sends none.
"""

from __future__ import annotations

import codecs
import copy
import csv
import datetime as dt
import difflib
import fcntl
import hashlib
import json
import os
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
from journeykit.data.dataset import CacheEntryGone, Dataset, hold, parquet_export
from journeykit.data.load_report import Check, LoadReport, Repair, TableLoad

CACHE_FORMAT = 4
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
# Twelve-hour clocks ("2024-11-04 8:25 PM"): DuckDB's cast reads the time
# and drops the PM, so these are read by format (day-first and month-first
# dates are not guessed: they need date_format).
_TS_FORMATS_12H = [
    f"{d}{sep}{t} %p" for d in ("%Y-%m-%d", "%Y.%m.%d", "%Y/%m/%d", "%Y. %m. %d.")
    for sep in (" ", "T") if not (sep == "T" and " " in d)
    for t in ("%I:%M:%S", "%I:%M")
]

# Time zone names at the end of a text timestamp ("2024-11-04 08:25:30 PST",
# "... America/New_York") are converted to the client's time zone, as UTC
# offsets ("Z", "+09:00", "-0500") are. An IANA name (Area/Location) is
# read with its daylight-saving rules. An abbreviation means one fixed
# offset, in minutes east of UTC: "PST" is -08:00 even in July (Los
# Angeles' summer time is "PDT"). Where an abbreviation has several
# meanings, the one of the exports journeykit meets is taken: CST/CDT and
# MST/MDT are North American Central and Mountain time (not China, Cuba or
# Malaysia), PST is Pacific time (not the Philippines), BST is British
# Summer Time (not Bangladesh). A client whose exports mean another zone
# says so in ``data.tables.<table>.time_zones`` (e.g. {CST: Asia/Shanghai}).
# "UTC+9", "GMT+09:00" are read as offsets too.
ZONE_ABBREVIATIONS: dict[str, int] = {
    "UTC": 0, "UT": 0, "GMT": 0, "Z": 0, "WET": 0,
    "WEST": 60, "BST": 60, "CET": 60, "WAT": 60, "MEZ": 60,
    "CEST": 120, "MESZ": 120, "EET": 120, "CAT": 120, "SAST": 120,
    "EEST": 180, "MSK": 180, "EAT": 180,
    "ICT": 420, "WIB": 420,
    "HKT": 480, "SGT": 480, "AWST": 480, "PHT": 480,
    "KST": 540, "JST": 540,
    "ACST": 570, "ACDT": 630, "AEST": 600, "AEDT": 660, "NZST": 720, "NZDT": 780,
    "NST": -210, "NDT": -150, "ADT": -180,
    "EST": -300, "EDT": -240, "CST": -360, "CDT": -300,
    "MST": -420, "MDT": -360, "PST": -480, "PDT": -420,
    "AKST": -540, "AKDT": -480, "HST": -600,
}
# Abbreviations refused: each names zones hours apart, none of them clearly
# the common one. The client says which it means (``time_zones``).
AMBIGUOUS_ZONES: dict[str, str] = {
    "IST": "India +05:30, Israel +02:00 or Ireland +01:00",
    "AST": "Atlantic -04:00 or Arabia +03:00",
    "SST": "Samoa -11:00 or Singapore +08:00",
    "GST": "Gulf +04:00 or South Georgia -02:00",
    "ECT": "Ecuador -05:00 or Eastern Caribbean -04:00",
}
# The zone token: a word after a space at the end (AM/PM excepted).
_ZONE_TOKEN = r"\s([A-Za-z][A-Za-z0-9_/+:-]*)$"
_ZONE_SUFFIX = r"\s+[A-Za-z][A-Za-z0-9_/+:-]*$"
_OFFSET_TOKEN = r"(Z|[+-][0-9]{2}:?[0-9]{2})$"
_SPACED_OFFSET = r"\s+([+-][0-9]{2}:?[0-9]{2})$"  # "... 08:25:30 +0900": the cast wants no space
_ZONE_ANY = r"(\s[A-Za-z][A-Za-z0-9_/+:-]*|Z|[+-][0-9]{2}:?[0-9]{2})$"
_UTC_OFFSET_TOKEN = r"^(UTC|GMT)([+-])([0-9]{1,2}?):?([0-9]{2})?$"

# Currencies without minor units (ISO 4217 minor unit 0): an amount in one
# of them is a whole number, and "1.234" is a thousands separator misread.
ZERO_DECIMAL_CURRENCIES = frozenset({
    "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF",
    "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF",
})
_DOTTED_THOUSANDS = r"-?[0-9]{1,3}(\.[0-9]{3})+"
_MONEY_COLUMNS = {("orders", "amount"), ("subscriptions", "mrr"), ("marketing", "spend")}

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

_ASCII_SUPERSETS = frozenset({"utf-8", "utf-8-sig", "cp949", "euc_kr"})
"""Codecs (by their ``codecs.lookup`` name) in which every byte below 0x80
is that ASCII character and no multi-byte character contains one as its
first byte: a chunk of ASCII read with nothing pending decodes to itself."""


class EncodingMismatch(ValueError):
    """A file whose bytes contradict the encoding it claims (a UTF-8
    byte-order mark) or the client file declares."""

    def __init__(self, message: str, *, cp949: bool):
        super().__init__(message)
        self.cp949 = cp949
        """The bytes read as CP949 (Korean Excel's encoding)."""


def _utf8_error(path: Path, start: int = 0, chunk_size: int = 1 << 20) -> str | None:
    """Where ``path`` stops being UTF-8 (from byte ``start``): "bytes B0 A1
    at byte 25 (line 2)", or None when it is UTF-8 to the end. Decoded
    incrementally, so a bad byte deep in the file is not missed."""
    dec = codecs.getincrementaldecoder("utf-8")(errors="strict")
    offset, newlines = start, 0
    with open(path, "rb") as f:
        f.seek(start)
        while True:
            chunk = f.read(chunk_size)
            if chunk and _ascii_run(chunk, dec):  # ASCII is UTF-8: nothing to decode
                offset += len(chunk)
                newlines += chunk.count(b"\n")
                continue
            pending = dec.getstate()[0]
            try:
                dec.decode(chunk, final=not chunk)
            except UnicodeDecodeError as e:
                data = pending + chunk
                line = newlines + data[:e.start].count(b"\n") + 1
                bad = data[e.start:max(e.end, e.start + 2)][:4]
                shown = " ".join(f"{b:02X}" for b in bad)
                try:
                    as_cp949 = f" (in CP949: {bad[:2].decode('cp949')!r})"
                except UnicodeDecodeError:
                    as_cp949 = ""
                return f"bytes {shown} at byte {offset - len(pending) + e.start:,} (line {line:,}){as_cp949}"
            if not chunk:
                return None
            offset += len(chunk)
            newlines += chunk.count(b"\n")


def _has_bom(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(3) == codecs.BOM_UTF8


def _ascii_run(chunk: bytes, dec) -> bool:
    """Whether ``chunk`` is plain ASCII read by ``dec``, an incremental
    decoder of UTF-8 or CP949, with no character left open from the chunk
    before: it then decodes to itself. Both encodings keep ASCII as it is
    (CP949's two-byte characters start at byte 0x81), and testing for it
    is about 20 times faster than decoding; a large export is mostly
    ASCII (its ids, dates and numbers)."""
    return chunk.isascii() and not dec.getstate()[0]


def _decodes(path: Path, encoding: str, start: int = 0, chunk_size: int = 1 << 20) -> bool:
    dec = codecs.getincrementaldecoder(encoding)(errors="strict")
    ascii_safe = codecs.lookup(encoding).name in _ASCII_SUPERSETS
    try:
        with open(path, "rb") as f:
            f.seek(start)
            while chunk := f.read(chunk_size):
                if ascii_safe and _ascii_run(chunk, dec):
                    continue
                dec.decode(chunk)
            dec.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(path: Path, chunk_size: int = 1 << 20) -> str:
    """Detect a CSV file's encoding: ``utf-8-sig``, ``utf-8`` or ``cp949``.

    CP949 is Microsoft's superset of EUC-KR, the encoding of Korean Excel
    exports. The whole file is decoded incrementally, so a non-UTF-8 byte
    deep in the file is not missed; a UTF-8 byte-order mark is checked
    against the bytes after it, not trusted.

    Raises
    ------
    EncodingMismatch
        When the file starts with a UTF-8 byte-order mark but is not UTF-8
        (e.g. CP949 with a mark added by another tool).
    ValueError
        When the file is none of the three; the message gives the bytes and
        their position.
    """
    if _has_bom(path):
        bad = _utf8_error(path, 3, chunk_size)
        if bad is None:
            return "utf-8-sig"
        cp949 = _decodes(path, "cp949", 3, chunk_size)
        raise EncodingMismatch(
            f"it starts with a UTF-8 byte-order mark (bytes EF BB BF), which says it is UTF-8, but {bad} "
            "are not valid UTF-8; "
            + ("the bytes after the mark read as CP949 (Korean Excel's encoding): it was probably saved as "
               "CP949 and the mark added by another tool" if cp949 else
               "the bytes after the mark are not CP949/EUC-KR either"), cp949=cp949)
    bad = _utf8_error(path, 0, chunk_size)
    if bad is None:
        return "utf-8"
    if _decodes(path, "cp949", 0, chunk_size):
        return "cp949"
    raise ValueError(f"{bad} are not valid UTF-8, and the file is not CP949/EUC-KR either")


def _transcode(src: Path, dst: Path, encoding: str, chunk_size: int = 1 << 20) -> None:
    with open(src, "rb") as raw:
        # A UTF-8 byte-order mark on a file declared in another encoding is
        # not text (read as CP949 it would become two characters glued to
        # the first column's name).
        if raw.read(3) != codecs.BOM_UTF8:
            raw.seek(0)
        if codecs.lookup(encoding).name not in _ASCII_SUPERSETS:
            with codecs.getreader(encoding)(raw, errors="strict") as fin, \
                    open(dst, "w", encoding="utf-8", newline="") as fout:
                shutil.copyfileobj(fin, fout, chunk_size)
            return
        # Runs of ASCII are copied as bytes and the rest is decoded (a Korean
        # export's header and names): 0.17 s instead of 1.1 s for 400 MB.
        dec = codecs.getincrementaldecoder(encoding)(errors="strict")
        with open(dst, "wb") as fout:
            while chunk := raw.read(chunk_size):
                fout.write(chunk if _ascii_run(chunk, dec) else dec.decode(chunk).encode("utf-8"))
            fout.write(dec.decode(b"", final=True).encode("utf-8"))


# --------------------------------------------------------------------------
# Cache key
# --------------------------------------------------------------------------

def _relative(f: Path, folder: Path | None) -> str:
    try:
        return f.relative_to(folder).as_posix() if folder else f.name
    except ValueError:
        return f.name


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
        present: list[str] = []
        if src.is_dir() and "/" in pattern.strip("/"):
            for p in src.rglob("*"):  # the pattern names folders: list paths, not bare names
                rel = p.relative_to(src)
                if p.is_file() and not any(part.startswith(".") for part in rel.parts):
                    present.append(rel.as_posix())
                if len(present) >= 500:
                    break
            present.sort()
        elif src.is_dir():
            present = sorted(p.name for p in src.iterdir())
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
    return content_digests([path], cache_root)[path]


def _hash_file(path: Path) -> str:
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)   # releases the GIL: files are hashed side by side
    return h.hexdigest()


def content_digests(paths: list[Path], cache_root: Path | None = None) -> dict[Path, str]:
    """:func:`content_digest` of each of ``paths``; the files not
    remembered are hashed on every core at once (a client's nine exports
    of 1.9 GB: 1.2 s instead of 2.3 s), and the memo is written once."""
    memo_path = cache_root / "digests.json" if cache_root else None
    memo: dict[str, str] = {}
    if memo_path and memo_path.exists():
        try:
            memo = json.loads(memo_path.read_text(encoding="utf-8"))
        except ValueError:
            memo = {}
    stamps = {}
    for path in paths:
        st = path.stat()
        stamps[path] = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    todo = [p for p in dict.fromkeys(paths) if stamps[p] not in memo]
    if todo:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=max(1, min(len(todo), os.cpu_count() or 1))) as pool:
            hashed = dict(zip(todo, pool.map(_hash_file, todo)))
        if memo_path:
            for path, digest in hashed.items():
                prefix = f"{path.resolve()}|"
                memo = {k: v for k, v in memo.items() if not k.startswith(prefix)}
                memo[stamps[path]] = digest
            memo_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = memo_path.with_name(f".digests-{uuid.uuid4().hex[:8]}.json")
            tmp.write_text(json.dumps(memo, indent=0), encoding="utf-8")
            tmp.replace(memo_path)  # atomic; a concurrent writer's entry may be lost, never the file
        memo = {**memo, **{stamps[p]: d for p, d in hashed.items()}}
    return {p: memo[stamps[p]] for p in paths}


def _loader_digest() -> str:
    """A digest of the code that builds a cache entry (this module, the
    contract and the load report): a change to how data is read or derived
    never reuses an entry built the old way."""
    global _LOADER_DIGEST
    if _LOADER_DIGEST is None:
        here = Path(__file__).parent
        h = hashlib.blake2b(digest_size=8)
        for name in ("loader.py", "schemas.py", "load_report.py"):
            h.update((here / name).read_bytes())
        _LOADER_DIGEST = h.hexdigest()
    return _LOADER_DIGEST


_LOADER_DIGEST: str | None = None


def cache_key(cfg: RunConfig) -> str:
    """A digest of everything the loaded data depends on: the format, the
    loader's own code, the time zone and currency, the client's data mapping
    and the content of every source file (see :func:`content_digest`)."""
    h = hashlib.sha256()
    h.update(f"{CACHE_FORMAT}|{__version__}|{_loader_digest()}|{cfg.timezone}|{cfg.currency}|".encode())
    h.update(cfg.data.model_dump_json().encode())
    if not cfg.data.is_database:
        files = [f for table, tcfg in sorted(cfg.data.tables.items()) for f in _source_files(cfg, table, tcfg)]
        digests = content_digests(files, _cache_root(cfg))
        for f in files:
            h.update(f"{_relative(f, cfg.source_path)}|{digests[f]}".encode())
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
        self.duplicates: dict[str, tuple[str, list[str], str]] = {}
        """Names a header repeats: lower-cased name -> (file, names as
        written, their positions)."""

    def error(self, column: str | None, problem: str, fix: str, n_rows: int | None = None, examples=()) -> DataError:
        return DataError(client=self.cfg.client, table=self.table, column=column, problem=problem,
                         fix=fix, n_rows=n_rows, examples=examples, file=self.file_label)

    # -- reading ---------------------------------------------------------
    def read(self) -> TableLoad:
        if self.cfg.data.is_database:
            return self._read_database()
        files = _source_files(self.cfg, self.table, self.tcfg)
        self.file_label = ", ".join(self._label(f) for f in files)
        suffix = files[0].suffix.lower()
        if suffix in _CSV_SUFFIXES:
            return self._read_csv(files)
        if suffix in _PARQUET_SUFFIXES:
            self._no_header_settings("a Parquet file")
            paths = "[" + ", ".join(_lit(str(f)) for f in files) + "]"
            self.con.execute(f"CREATE VIEW {self.raw} AS SELECT * FROM read_parquet({paths}, union_by_name=true)")
            return TableLoad(self.table, self.file_label, "parquet")
        if suffix in _EXCEL_SUFFIXES:
            return self._read_excel(files)
        raise self.error(None, f"unsupported file type '{suffix}'",
                         "export the table as .csv, .parquet or .xlsx")

    def _label(self, f: Path) -> str:
        """A source file as the user knows it: its path inside the source
        folder (a glob may match files of the same name in several folders)."""
        return _relative(f, self.cfg.source_path)

    def _no_header_settings(self, what: str) -> None:
        given = [k for k in ("header_row", "skip_rows") if getattr(self.tcfg, k) is not None]
        if given:
            raise ConfigError(
                f"params/clients/{self.cfg.client}.yaml: data.tables.{self.table}.{given[0]} is set, but the table "
                f"is read from {what}, which has no header rows",
                fix=f"remove {' and '.join(given)}: they apply to CSV and Excel files")

    def _read_csv(self, files: list[Path]) -> TableLoad:
        encodings = set()
        as_parquet = sum(f.stat().st_size for f in files) >= CSV_TO_PARQUET_BYTES
        paths = []
        try:
            for f in files:
                if f.stat().st_size == 0:
                    raise self.error(None, f"file {self._label(f)} is empty (0 bytes)",
                                     "re-export the table; if the client has no such data, remove the table from the client file")
                if as_parquet:
                    done = self._parquet_copy(f)
                    if done is not None:
                        paths.append(done[0])
                        encodings.add(done[1])
                        self._note_duplicates(done[2], self._label(f), excel=False)
                        continue
                readable, enc = self._utf8(f, len(paths))
                encodings.add(enc)
                header = self._csv_header(readable)
                self._note_duplicates(header, self._label(f), excel=False)
                paths.append(self._csv_as_parquet(f, readable, enc, header) if as_parquet else readable)
            if as_parquet:
                lst = "[" + ", ".join(_lit(str(p)) for p in paths) + "]"
                self.con.execute(f"CREATE VIEW {self.raw} AS SELECT * FROM read_parquet({lst}, union_by_name=true)")
            else:
                self._run_csv(lambda select: f"CREATE TABLE {self.raw} AS {select}", paths)
        except duckdb.Error as e:
            _not_the_data(e, f"cannot load table '{self.table}' of client '{self.cfg.client}'")
            lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
            detail = "; ".join(lines[:2]) if lines and lines[0].startswith("CSV Error") else (lines or [""])[0]
            if "unicode" in detail.lower():
                fix = (f"the file is not valid UTF-8: save it as UTF-8, or set data.tables.{self.table}.encoding "
                       "to the encoding it was saved in")
            else:
                fix = ("check the delimiter and quoting (a header row, one record per line"
                       + (f", the header on line {self.tcfg.header_row}" if self.tcfg.header_row else "")
                       + "); a title above the header needs data.tables."
                       + f"{self.table}.header_row")
            raise self.error(None, f"the CSV file cannot be parsed: {detail}", fix) from None
        return TableLoad(self.table, self.file_label or "", "csv", encoding=", ".join(sorted(encodings)))

    def _csv_select(self, paths: list[Path], parallel: bool = True) -> str:
        """The query reading ``paths`` (UTF-8 CSV files) as text columns."""
        opts = _CSV_OPTIONS
        if (self.tcfg.header_row or 1) > 1:
            opts += f", skip={self.tcfg.header_row - 1}"
        if not parallel:
            opts += ", parallel=false"
        if not self.tcfg.skip_rows:
            return f"SELECT * FROM read_csv([{', '.join(_lit(str(p)) for p in paths)}], {opts})"
        # Rows right below the header (a units line, a second header level),
        # in each file; DuckDB keeps a file's row order.
        return " UNION ALL BY NAME ".join(
            f"(SELECT * FROM read_csv({_lit(str(p))}, {opts}) OFFSET {self.tcfg.skip_rows})" for p in paths)

    def _run_csv(self, statement, paths: list[Path]) -> None:
        """Run ``statement(select)`` over the CSV files. DuckDB's parallel
        reader cannot read a newline inside a quoted field together with
        ``null_padding`` (short rows padded with NULL), and says so: such a
        file is read again by the single-threaded reader, which can (about
        a third slower on a large file, so only when needed)."""
        try:
            self.con.execute(statement(self._csv_select(paths)))
        except duckdb.Error as e:
            if "quoted new lines" not in str(e):
                raise
            self.con.execute(statement(self._csv_select(paths, parallel=False)))

    def _csv_header(self, readable: Path) -> list[str]:
        """The header's column names as the file writes them. (DuckDB's
        reader renames a repeated name, amount -> amount_1, so repeats are
        read from the header itself.)"""
        skip = (self.tcfg.header_row or 1) - 1
        try:
            delim, quote = self.con.execute(
                f"SELECT Delimiter, Quote FROM sniff_csv({_lit(str(readable))}, skip={skip}, null_padding=true)"
            ).fetchone()
        except duckdb.Error:
            return []  # reported by the read itself
        if not delim or len(delim) != 1:
            return []
        quote = quote if quote and len(quote) == 1 else '"'
        with open(readable, encoding="utf-8-sig", newline="") as fh:
            for _ in range(skip):
                fh.readline()
            return next(csv.reader(fh, delimiter=delim, quotechar=quote), [])

    def _note_duplicates(self, names: list[str], label: str, *, excel: bool) -> None:
        """Remember the names the header of ``label`` repeats (compared as
        the mapping compares them: case and surrounding spaces ignored);
        :meth:`mapping` refuses to read one."""
        seen: dict[str, list[tuple[str, int]]] = {}
        for i, name in enumerate(names):
            if str(name).strip():
                seen.setdefault(str(name).strip().lower(), []).append((str(name), i))
        for key, found in seen.items():
            if len(found) > 1:
                where = ", ".join(_excel_column(i) if excel else str(i + 1) for _, i in found)
                self.duplicates.setdefault(key, (label, [n for n, _ in found], where))

    def _utf8(self, f: Path, i: int) -> tuple[Path, str]:
        """A UTF-8 readable path for ``f`` (transcoded into the build folder
        when needed) and the encoding it was read in."""
        enc = self.tcfg.encoding
        setting = f"data.tables.{self.table}.encoding"
        client_file = f"params/clients/{self.cfg.client}.yaml"
        if not enc:
            try:
                enc = detect_encoding(f)
            except EncodingMismatch as e:
                raise self.error(
                    None, f"the text encoding of {f.name} contradicts itself: {e}",
                    f"re-save the file as UTF-8 (Excel: Save As, 'CSV UTF-8'), or set {setting}: "
                    + ("cp949" if e.cp949 else "<the encoding it was saved in>")
                    + f" in {client_file} (the mark is then skipped)") from None
            except ValueError as e:
                raise self.error(None, f"cannot tell the text encoding of {f.name}: {e}",
                                 f"save it as UTF-8, or set {setting} in {client_file}") from None
        try:
            codec = codecs.lookup(enc).name
        except LookupError:
            raise ConfigError(f"{client_file}: {setting}: unknown encoding {enc!r}",
                              fix="use a Python codec name: utf-8, utf-8-sig, cp949, euc-kr, shift_jis, latin-1, ...") from None
        if codec in ("utf-8", "utf-8-sig"):
            # A declared UTF-8 is checked like a detected one: the CSV reader
            # would blame the delimiter for an undecodable byte.
            bad = _utf8_error(f, 3 if _has_bom(f) else 0)
            if bad is not None:
                cp949 = _decodes(f, "cp949")
                raise self.error(
                    None, f"{f.name} is declared {enc} ({setting}), but {bad} are not valid UTF-8"
                          + ("; the file reads as CP949 (Korean Excel's encoding)" if cp949 else ""),
                    f"set {setting}: " + ("cp949" if cp949 else "<the encoding it was saved in>")
                    + f" in {client_file}, or remove the setting to have the encoding detected") from None
            return f, enc
        out = self.work / f"{self.table}-{i}.utf8.csv"
        try:
            _transcode(f, out, enc)
        except UnicodeDecodeError as e:
            hint = " (it is valid UTF-8: remove the setting)" if _utf8_error(f) is None else ""
            raise self.error(None, f"{f.name} is not valid {enc}: {e}",
                             f"check {setting} in {client_file}{hint}") from None
        return out, enc

    def _parquet_target(self, source: Path) -> Path:
        root = _cache_root(self.cfg)
        enc = self.tcfg.encoding or "detected"
        # The copy depends on how the file is read: its encoding, where its
        # header is, and the reader's version (v2: quoted newlines, header
        # kept in the .json beside it).
        layout = f"h{self.tcfg.header_row or 1}s{self.tcfg.skip_rows or 0}-v2"
        return root / "csv" / f"{content_digest(source, root)}-{re.sub(r'[^A-Za-z0-9_-]', '', enc)}-{layout}.parquet"

    def _parquet_copy(self, source: Path) -> tuple[Path, str, list[str]] | None:
        """The finished Parquet copy of ``source``, the encoding it was read
        in and its header as written, if an earlier load converted it."""
        out = self._parquet_target(source)
        meta = out.with_suffix(".json")
        if out.exists() and meta.exists():
            info = json.loads(meta.read_text(encoding="utf-8"))
            return out, info["encoding"], info.get("header", [])
        return None

    def _csv_as_parquet(self, source: Path, readable: Path, encoding: str, header: list[str]) -> Path:
        """Convert a large CSV once to Parquet (every column text, as the CSV
        reader gives it) in ``data/.cache/csv/<content digest>``: a rebuild
        after the client file changes, or another client mapping the same
        export, reads it instead of detecting, transcoding and parsing the
        CSV again."""
        out = self._parquet_target(source)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.stem}-{uuid.uuid4().hex[:8]}.parquet")
        try:
            self._run_csv(lambda select: f"COPY ({select}) TO {_lit(str(tmp))} (FORMAT parquet)", [readable])
            tmp.replace(out)
        finally:
            tmp.unlink(missing_ok=True)
        out.with_suffix(".json").write_text(
            json.dumps({"source": source.name, "encoding": encoding, "header": header}, ensure_ascii=False),
            encoding="utf-8")
        return out

    def _read_excel(self, files: list[Path]) -> TableLoad:
        header = (self.tcfg.header_row or 1) - 1
        frames = []
        for f in files:
            try:
                # Read without a header: pandas would rename a repeated name
                # (amount -> amount.1) and could not skip a title row.
                sheet = pd.read_excel(f, sheet_name=self.tcfg.sheet or 0, header=None, dtype=object)
            except ValueError as e:
                raise self.error(None, f"cannot read sheet of {self._label(f)}: {e}",
                                 f"set data.tables.{self.table}.sheet to an existing sheet name") from None
            if len(sheet) <= header:
                raise self.error(
                    None, f"the sheet of {self._label(f)} has {len(sheet)} rows: row {header + 1} cannot be its header",
                    f"set data.tables.{self.table}.header_row to the row that holds the column names")
            names = ["" if _blank(v) else str(v) for v in sheet.iloc[header]]
            self._note_duplicates(names, self._label(f), excel=True)
            df = sheet.iloc[header + 1 + (self.tcfg.skip_rows or 0):].reset_index(drop=True)
            df.columns = _unique_names([n or f"Unnamed: {i}" for i, n in enumerate(names)])
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

    def _database_table(self) -> tuple[str, list[str], str | tuple[str, ...] | None]:
        """The client's database table for this canonical table: its name as
        written (``data.tables.<t>.table``, else the canonical name), its
        parts (catalog, schema, table) and the Ibis ``database`` argument that
        locates it (``None``, a schema, or ``(catalog, schema)``); a name that
        is not one is a :class:`ConfigError`. Header settings do not apply."""
        self._no_header_settings("a database")
        name = self.tcfg.table or self.table
        parts = _table_parts(name)
        if not parts:
            raise ConfigError(
                f"params/clients/{self.cfg.client}.yaml: data.tables.{self.table}.table: {name!r} is not a table name",
                fix="write table, schema.table or catalog.schema.table; put a part holding a dot in double "
                    "quotes, e.g. 'sales.\"orders.2026\"'")
        database = None if len(parts) == 1 else parts[0] if len(parts) == 2 else tuple(parts[:-1])
        return name, parts, database

    def _read_database(self) -> TableLoad:
        import ibis

        name, parts, database = self._database_table()
        if self.cfg.data.source.startswith("duckdb://"):
            return self._read_duckdb_file(name, parts)
        from journeykit.data.warehouse import _scrub, source_url

        try:
            backend = ibis.connect(source_url(self.cfg))
            expr = backend.table(parts[-1], database=database)
        except ConfigError:
            raise
        except Exception as e:  # backend errors have no common base class
            raise self.error(None, f"cannot read table '{name}' from {_redact(self.cfg.data.source)}: "
                                   f"{_scrub(str(e), self.cfg)}",
                             f"check data.source and data.tables.{self.table}.table") from None
        reader = expr.to_pyarrow_batches(chunk_size=CHUNK_ROWS)
        self.con.execute(f"CREATE TABLE {self.raw} AS SELECT * FROM reader")
        self.file_label = name
        return TableLoad(self.table, f"{_redact(self.cfg.data.source)} / {name}", "database")

    def _read_duckdb_file(self, name: str, parts: list[str]) -> TableLoad:
        # Fix (tests/unit/test_io.py::test_database_source_loads_like_a_file):
        # a duckdb:// source went through ibis' to_pyarrow_batches(), which
        # calls DuckDBPyConnection.fetch_record_batch(), removed in DuckDB 2.0:
        # every duckdb:// load failed with a raw InvalidInputException. The
        # file is now attached read-only to the build connection and copied on
        # the engine (which also no longer creates a missing file, as ibis'
        # read-write connect did). Paths: duckdb:///abs/file.db, and
        # duckdb://relative/file.db against the project folder (as
        # data.source folders are), not the working directory.
        source = self.cfg.data.source
        path = Path(source[len("duckdb://"):].split("?", 1)[0]).expanduser()
        if not path.is_absolute():
            path = self.cfg.root / path
        if len(parts) > 2:
            raise ConfigError(
                f"params/clients/{self.cfg.client}.yaml: data.tables.{self.table}.table: {name!r} names a catalog, "
                "but a duckdb:// source is one database file",
                fix="write schema.table (e.g. sales.orders) or the table alone")
        try:
            self.con.execute(f"ATTACH {_lit(str(path))} AS _jk_source (READ_ONLY)")
            try:
                ref = ".".join(_q(p) for p in ["_jk_source", *parts])
                try:
                    self.con.execute(f"CREATE TABLE {self.raw} AS SELECT * FROM {ref}")
                except duckdb.CatalogException:
                    known = [r[0] for r in self.con.execute(
                        "SELECT CASE WHEN schema_name = 'main' THEN table_name ELSE schema_name || '.' || table_name END "
                        "FROM duckdb_tables() WHERE database_name = '_jk_source' UNION ALL "
                        "SELECT CASE WHEN schema_name = 'main' THEN view_name ELSE schema_name || '.' || view_name END "
                        "FROM duckdb_views() WHERE database_name = '_jk_source' ORDER BY 1").fetchall()]
                    close = difflib.get_close_matches(name, known, n=1)
                    raise self.error(
                        None, f"table '{name}' does not exist in {_redact(source)} ({path})",
                        (f"did you mean '{close[0]}'? " if close else "")
                        + f"set data.tables.{self.table}.table to one of: {', '.join(known[:15]) or '(no tables)'}"
                    ) from None
            finally:
                self.con.execute("DETACH _jk_source")
        except duckdb.Error as e:
            _not_the_data(e, f"cannot load table '{self.table}' of client '{self.cfg.client}'")
            raise self.error(None, f"cannot read table '{name}' from {_redact(source)} ({path}): "
                                   f"{str(e).splitlines()[0]}",
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
        repeated = [(canon, self.duplicates[col.strip().lower()]) for canon, col in chosen.items()
                    if col.strip().lower() in self.duplicates and canon not in schemas.SPECS[self.table].pii]
        if repeated:
            canon, (label, names, _) = repeated[0]
            what = "; ".join(
                f"{' and '.join(dict.fromkeys(repr(n) for n in ns))} ({'columns' if ',' in w else 'column'} {w}, read as {c})"
                for c, (_, ns, w) in repeated)
            raise self.error(
                canon, f"the header of {label} repeats a column name the mapping reads: {what}; which column "
                       "holds the values cannot be told (only the first would be read)",
                f"rename or remove the repeated column in the export (e.g. {names[0]}_paid and {names[0]}_list), "
                f"then map the right one under data.tables.{self.table}.columns in params/clients/{self.cfg.client}.yaml",
                examples=[n for _, (_, ns, _) in repeated for n in ns])
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
            return self._timestamp_text(f"TRIM({col})")
        raise AssertionError(f"no cast for {kind}")

    def zones(self) -> tuple[dict[str, int], dict[str, str]]:
        """Upper-cased zone abbreviation -> fixed UTC offset (minutes east),
        and -> IANA zone: journeykit's (``ZONE_ABBREVIATIONS``) with the
        client's ``time_zones`` over them."""
        fixed, named = dict(ZONE_ABBREVIATIONS), {}
        for name, zone in self.tcfg.time_zones.items():
            key = name.strip().upper()
            fixed.pop(key, None)
            m = re.fullmatch(r"([+-])([0-9]{2}):?([0-9]{2})", zone.strip())
            if m:
                fixed[key] = (-1 if m.group(1) == "-" else 1) * (int(m.group(2)) * 60 + int(m.group(3)))
            else:
                named[key] = zone.strip()
        return fixed, named

    def _local_timestamp(self, s: str, fmt: str | None) -> str:
        """``s`` (text) read as a timestamp without a zone."""
        if fmt:
            return f"TRY_STRPTIME({s}, {_lit(fmt)})"
        fmts = "[" + ", ".join(_lit(f) for f in _TS_FORMATS) + "]"
        return f"COALESCE(TRY_CAST({s} AS TIMESTAMP), TRY_STRPTIME({s}, {fmts}))"

    def _timestamp_text(self, s: str) -> str:
        """A text timestamp in the client's time zone: one with a UTC offset
        (``Z``, ``+09:00``, ``-0500``) or a zone name at the end (``UTC``,
        ``PST``, ``America/New_York``) is converted, one without either is
        taken as the client's local time. NULL when it cannot be read, or
        its zone name is unknown or ambiguous (explained by _check_casts)."""
        tz = _lit(self.cfg.timezone)
        fmt = self.tcfg.date_format
        if fmt and "%z" in fmt:  # the format reads the offset itself
            return f"timezone({tz}, TRY_STRPTIME({s}, {_lit(fmt)}))"
        if fmt and fmt.rstrip().endswith("%Z"):
            # DuckDB's %Z reads abbreviations with ICU's meanings (BST is
            # Bangladesh): the zone name is read below instead.
            fmt = fmt.rstrip()[:-2].rstrip()
        fixed, named = self.zones()
        plain = self._local_timestamp(s, fmt)
        twelve = plain if fmt else f"TRY_STRPTIME({s}, [{', '.join(_lit(f) for f in _TS_FORMATS_12H)}])"
        # The zone's offset and name are bound once per row with a lambda
        # (a value used twice in an expression is otherwise computed twice
        # inside a CASE: a CASE over the 40 abbreviations ran the regular
        # expression 40 times, 14 s per 2 M rows instead of 0.4 s).
        offsets = "MAP {" + ", ".join(f"{_lit(k)}: {v}" for k, v in fixed.items()) + "}"
        utc = (f"list_transform([regexp_extract(r.z, {_lit(_UTC_OFFSET_TOKEN)}, ['base', 'sign', 'h', 'm'])], lambda o: "
               "CASE WHEN o.h <> '' THEN (CASE o.sign WHEN '-' THEN -1 ELSE 1 END) * "
               "(CAST(o.h AS INTEGER) * 60 + COALESCE(TRY_CAST(NULLIF(o.m, '') AS INTEGER), 0)) END)[1]")
        name = "CASE WHEN contains(r.n, '/') THEN r.n END"
        if named:
            names = "MAP {" + ", ".join(f"{_lit(k)}: {_lit(v)}" for k, v in named.items()) + "}"
            name = f"COALESCE(map_extract_value({names}, r.z), {name})"
        local = self._local_timestamp("r.p", fmt)
        zoned = (
            f"list_transform([{{'n': regexp_extract({s}, {_lit(_ZONE_TOKEN)}, 1), "
            f"'z': upper(regexp_extract({s}, {_lit(_ZONE_TOKEN)}, 1)), "
            f"'p': regexp_replace({s}, {_lit(_ZONE_SUFFIX)}, '')}}], lambda r: "
            f"CASE WHEN r.z IN ('AM', 'PM') THEN {twelve} ELSE COALESCE("
            f"timezone({tz}, timezone('UTC', {local} - to_minutes(COALESCE(map_extract_value({offsets}, r.z), {utc})))), "
            f"timezone({tz}, TRY_CAST(strftime({local}, '%Y-%m-%d %H:%M:%S.%f') || ' ' || ({name}) AS TIMESTAMPTZ))"
            f") END)[1]")
        with_offset = "" if fmt else (
            f"WHEN regexp_matches({s}, {_lit(_OFFSET_TOKEN)}) "
            f"THEN timezone({tz}, TRY_CAST(regexp_replace({s}, {_lit(_SPACED_OFFSET)}, '\\1') AS TIMESTAMPTZ)) ")
        return (f"CASE WHEN regexp_matches({s}, {_lit(_ZONE_TOKEN)}) THEN {zoned} "
                f"{with_offset}ELSE {plain} END")

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
            listed, unmapped = classify_values(rows, mapping, allowed)
            load.values[canon] = listed
            if unmapped:
                self.errors.append(self._unmapped_error(canon, chosen[canon], unmapped, allowed))

    def _unmapped_error(self, canon: str, source: str, unmapped: list[tuple[str, int]],
                        allowed: tuple[str, ...]) -> DataError:
        """The error for values of ``canon`` (client column ``source``) that
        map to no canonical value: (value, rows), most rows first."""
        total = sum(n for _, n in unmapped)
        example = ", ".join(f"{v}: <{'|'.join(allowed)}>" for v, _ in unmapped[:3])
        return self.error(
            canon, f"{len(unmapped)} value{'s' if len(unmapped) > 1 else ''} of column "
                   f"'{source}' {'are' if len(unmapped) > 1 else 'is'} not mapped to a canonical "
                   f"{canon} ({', '.join(allowed)})",
            n_rows=total, examples=[f"{v} ({n:,} row{'s' if n != 1 else ''})" for v, n in unmapped[:5]],
            fix=f"say what each value means under data.tables.{self.table}.values.{canon} in "
                f"params/clients/{self.cfg.client}.yaml, e.g. {{{example}}}")

    def _blank_error(self, canon: str, source: str, rows_read: int) -> DataError:
        """The error for a required column without a single value."""
        return self.error(
            canon, f"column '{source}' is empty in all {rows_read:,} rows, and {canon} is required",
            n_rows=rows_read,
            fix=f"check that data.tables.{self.table}.columns.{canon} names the right column, "
                "or re-export the table with it filled")

    def _time_range(self, load: TableLoad) -> None:
        col = _q(self.spec.time_column)
        lo, hi = self.con.execute(f"SELECT min({col}), max({col}) FROM {_q(self.table)}").fetchone()
        load.first_at = lo.isoformat() if lo is not None else None
        load.last_at = hi.isoformat() if hi is not None else None

    def load(self) -> TableLoad:
        load = self.read()
        source = self._source_types = self.source_columns()
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
        self._scan_checks(load, exprs, chosen, source)
        self._check_values(load, chosen)

        select = ", ".join(f"{e} AS {_q(c)}" for c, e in exprs.items())
        # Cast and filter in one pass: the typed rows are never stored
        # separately (on 62 M events a typed copy cost 35 s of a 2-minute load).
        self._repair(load, exprs, f"(SELECT {select} FROM {self.raw})")
        kind = self.con.execute("SELECT table_type FROM information_schema.tables WHERE table_name = ?",
                                [self.raw]).fetchone()[0]
        self.con.execute(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} {self.raw}")
        self._mask_personal_data(load, exprs)
        if self.table == "events":
            self._unmapped_events(load)
        self._validate(load)
        load.rows_loaded = self.con.execute(f"SELECT count(*) FROM {_q(self.table)}").fetchone()[0]
        self._time_range(load)
        return load

    def _scan_checks(self, load: TableLoad, exprs: dict[str, str], chosen: dict[str, str],
                     source: dict[str, str]) -> None:
        """Checks on the raw rows, counted in one scan: values that cannot be
        cast (numbers, timestamps), timestamps that name a time zone or a UTC
        offset (recorded), amounts with decimals in a currency without minor
        units, and required columns without a single value. Examples are
        looked up only for a check that fails."""
        aggs: list[tuple[str, str, str]] = []  # (kind, canonical column, aggregate)

        def text(canon: str) -> str:
            return f"TRIM(CAST({_q(chosen[canon])} AS VARCHAR))"

        cast = [c for c in exprs if c in chosen and schemas.dtype(self.table, c) != "str"]
        for c in cast:
            aggs.append(("cast", c, f"count(*) FILTER (WHERE {self._failing(c, exprs, chosen)})"))
        zoned = [c for c in cast if schemas.dtype(self.table, c).startswith("datetime")
                 and source[chosen[c]].upper().startswith("VARCHAR") and "%z" not in (self.tcfg.date_format or "")]
        for c in zoned:
            aggs.append(("zone", c, f"count(*) FILTER (WHERE regexp_matches({text(c)}, {_lit(_ZONE_ANY)}))"))
        for c in cast:
            cond = self._zero_decimal(c, exprs, chosen)
            if cond:
                aggs.append(("decimals", c, f"count(*) FILTER (WHERE {cond})"))
        for c in schemas.required_columns(self.table):
            if c in chosen:
                aggs.append(("blank", c, f"count(NULLIF({text(c)}, ''))" if self._is_text(c, chosen)
                             else f"count({_q(chosen[c])})"))
        if not aggs:
            return
        counts = self.con.execute("SELECT " + ", ".join(a for _, _, a in aggs) + f" FROM {self.raw}").fetchone()
        found = {(kind, c): int(n) for (kind, c, _), n in zip(aggs, counts)}
        for c in cast:
            if found[("cast", c)]:
                self._explain_casts(c, found[("cast", c)], exprs, chosen)
        for c in zoned:
            if found[("zone", c)]:
                self._record_zones(load, c, exprs, chosen)
        for (kind, c), n in found.items():
            if kind == "decimals" and n:
                self._explain_decimals(c, n, exprs, chosen)
            elif kind == "blank" and not n:
                self.errors.append(self._blank_error(c, chosen[c], load.rows_read))

    def _is_text(self, canon: str, chosen: dict[str, str]) -> bool:
        """Whether the source column of ``canon`` holds text (a CSV's, or a
        text column of Parquet or a database). A typed one (a Parquet
        timestamp, a number) is never blank, and is not written out as text
        to find out: on 62 M Parquet timestamps that took 3.5 s a check."""
        kind = str(getattr(self, "_source_types", {}).get(chosen[canon], "VARCHAR")).upper()
        return kind.startswith(("VARCHAR", "BLOB", "JSON", "UNKNOWN"))

    def _failing(self, canon: str, exprs: dict[str, str], chosen: dict[str, str]) -> str:
        src = _q(chosen[canon])
        if not self._is_text(canon, chosen):
            return f"({src} IS NOT NULL AND ({exprs[canon]}) IS NULL)"
        return f"({src} IS NOT NULL AND TRIM(CAST({src} AS VARCHAR)) <> '' AND ({exprs[canon]}) IS NULL)"

    def _explain_casts(self, canon: str, n: int, exprs: dict[str, str], chosen: dict[str, str]) -> None:
        src = _q(chosen[canon])
        failing = self._failing(canon, exprs, chosen)
        if not schemas.dtype(self.table, canon).startswith("datetime"):
            examples = [r[0] for r in self.con.execute(
                f"SELECT DISTINCT CAST({src} AS VARCHAR) FROM {self.raw} WHERE {failing} LIMIT 5").fetchall()]
            self.errors.append(self.error(
                canon, f"{_n_values(n)} in column '{chosen[canon]}' {'is not a number' if n == 1 else 'are not numbers'}",
                n_rows=n, examples=examples,
                fix="export plain numbers (no currency signs or units"
                    + ("; dots are not thousands separators: write 1234567 or 1,234,567, not 1.234.567"
                       if any(re.fullmatch(_DOTTED_THOUSANDS, str(e).strip()) for e in examples) else "")
                    + "); check that the mapping names the right column",
            ))
            return
        # A value whose date and time can be read but whose zone name is
        # ambiguous or unknown gets its own explanation.
        s = f"TRIM(CAST({src} AS VARCHAR))"
        fmt = self.tcfg.date_format
        if fmt and fmt.rstrip().endswith("%Z"):
            fmt = fmt.rstrip()[:-2].rstrip()
        zone = f"upper(regexp_extract({s}, {_lit(_ZONE_TOKEN)}, 1))"
        prefix = f"regexp_replace({s}, {_lit(_ZONE_SUFFIX)}, '')"
        bad_zone = (f"CASE WHEN {zone} NOT IN ('', 'AM', 'PM') AND {self._local_timestamp(prefix, fmt)} IS NOT NULL "
                    f"THEN {zone} ELSE '' END") if "%z" not in (fmt or "") else "''"
        rows = self.con.execute(
            f"SELECT zone, count(*), list(DISTINCT v ORDER BY v)[:5] FROM (SELECT CAST({src} AS VARCHAR) AS v, "
            f"{bad_zone} AS zone FROM {self.raw} WHERE {failing}) GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()
        plain = [(z, k, ex) for z, k, ex in rows if not z]
        zones = [(z, k, ex) for z, k, ex in rows if z]
        if zones:
            n_zone = sum(k for _, k, _ in zones)
            what = "; ".join(
                f"{z} ({k:,} row{'s' if k != 1 else ''}: "
                + (f"ambiguous, it names {AMBIGUOUS_ZONES[z]}" if z in AMBIGUOUS_ZONES else "not a known time zone")
                + ")" for z, k, _ in zones[:5])
            first = zones[0][0]
            example = {"IST": "Asia/Kolkata", "AST": "America/Halifax", "SST": "Asia/Singapore",
                       "GST": "Asia/Dubai", "ECT": "America/Guayaquil"}.get(first, "<IANA zone such as Asia/Seoul>")
            self.errors.append(self.error(
                canon, f"{_n_values(n_zone)} in column '{chosen[canon]}' end in a time zone name that cannot be "
                       f"converted to {self.cfg.timezone}: {what}",
                n_rows=n_zone, examples=[e for _, _, ex in zones for e in ex][:5],
                fix=f"say which zone each name means under data.tables.{self.table}.time_zones in "
                    f"params/clients/{self.cfg.client}.yaml (an IANA name or a UTC offset), e.g. "
                    f"{{{first}: {example}}}; or export the timestamps with a UTC offset (+09:00). Known "
                    f"abbreviations: {', '.join(sorted(ZONE_ABBREVIATIONS))}; IANA names (Area/City) are read "
                    "with their daylight-saving rules"))
        if plain:
            n_plain = sum(k for _, k, _ in plain)
            self.errors.append(self.error(
                canon, f"{_n_values(n_plain)} in column '{chosen[canon]}' cannot be read as a date or timestamp",
                n_rows=n_plain, examples=[e for _, _, ex in plain for e in ex][:5],
                fix=f"write them as YYYY-MM-DD HH:MM:SS, or set data.tables.{self.table}.date_format "
                    "(e.g. '%d/%m/%Y %H:%M') in the client file",
            ))

    def _record_zones(self, load: TableLoad, canon: str, exprs: dict[str, str], chosen: dict[str, str]) -> None:
        """Which zone names and UTC offsets the text timestamps of ``canon``
        carried, with their row counts (converted to the client's zone)."""
        s = f"TRIM(CAST({_q(chosen[canon])} AS VARCHAR))"
        token = (f"CASE WHEN regexp_matches({s}, {_lit(_ZONE_TOKEN)}) THEN regexp_extract({s}, {_lit(_ZONE_TOKEN)}, 1) "
                 f"ELSE regexp_extract({s}, {_lit(_OFFSET_TOKEN)}, 1) END")
        rows = self.con.execute(
            f"SELECT {token} AS zone, count(*) FROM {self.raw} WHERE regexp_matches({s}, {_lit(_ZONE_ANY)}) "
            f"AND ({exprs[canon]}) IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()
        zones = {z: int(k) for z, k in rows if z.upper() not in ("AM", "PM")}
        if zones:
            load.time_zones[canon] = zones

    def _zero_decimal(self, canon: str, exprs: dict[str, str], chosen: dict[str, str]) -> str | None:
        """SQL: the row's ``canon`` has decimals in a currency without minor
        units; None when no row can be in one."""
        if (self.table, canon) not in _MONEY_COLUMNS:
            return None
        codes = ", ".join(_lit(c) for c in sorted(ZERO_DECIMAL_CURRENCIES))
        own = self.cfg.currency.upper()
        if "currency" in chosen:
            currency = f"COALESCE(NULLIF(upper(TRIM(CAST({_q(chosen['currency'])} AS VARCHAR))), ''), {_lit(own)})"
            where = f"{currency} IN ({codes}) AND "
        elif own in ZERO_DECIMAL_CURRENCIES:
            where = ""
        else:
            return None
        x = exprs[canon]
        # 1.234 has decimals; 12.000 has none, but written so in a currency
        # without minor units it is 12,000 with dots for thousands.
        dotted = f"regexp_full_match(TRIM(CAST({_q(chosen[canon])} AS VARCHAR)), {_lit(_DOTTED_THOUSANDS)})"
        return f"({where}({x}) IS NOT NULL AND (abs(({x}) - round({x})) > 1e-6 OR {dotted}))"

    def _explain_decimals(self, canon: str, n: int, exprs: dict[str, str], chosen: dict[str, str]) -> None:
        src = _q(chosen[canon])
        cond = self._zero_decimal(canon, exprs, chosen)
        examples = [r[0] for r in self.con.execute(
            f"SELECT DISTINCT CAST({src} AS VARCHAR) AS v FROM {self.raw} WHERE {cond} ORDER BY v LIMIT 5").fetchall()]
        if "currency" in chosen:
            cur = f"{_q(chosen['currency'])}"
            codes = sorted({str(r[0]).strip().upper() for r in self.con.execute(
                f"SELECT DISTINCT COALESCE(NULLIF(upper(TRIM(CAST({cur} AS VARCHAR))), ''), {_lit(self.cfg.currency)}) "
                f"FROM {self.raw} WHERE {cond} LIMIT 5").fetchall()})
        else:
            codes = [self.cfg.currency.upper()]
        self.errors.append(self.error(
            canon, f"{_n_values(n)} in column '{chosen[canon]}' {'has' if n == 1 else 'have'} decimals, but "
                   f"{' and '.join(codes)} {'has' if len(codes) == 1 else 'have'} no minor unit: amounts are whole "
                   "numbers (a value such as 1.234 is usually 1,234 written with a European thousands separator)",
            n_rows=n, examples=examples,
            fix="remove the thousands separators from the amounts in the export (1234, not 1.234 or 1.234,00); "
                f"if the decimals are real, check that data.tables.{self.table}.columns.{canon} names the amount "
                f"column (not a rate or a price in another currency) and that the client's currency "
                f"({self.cfg.currency}) is right",
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
            self.errors.append(self._shared_id_error(key, n, [r[0] if len(key) == 1 else tuple(r[:-1]) for r in dups]))

    def _shared_id_error(self, key: list[str], n: int, examples: list) -> DataError:
        """The error for ``n`` rows sharing an id (``key``) with a different row."""
        return self.error(
            "+".join(key), f"{n:,} rows share an id with a different row ({'+'.join(key)} must be unique)",
            n_rows=n, examples=examples,
            fix="ids must identify one record: de-duplicate the export, or map the right id column",
        )

    def _mask_personal_data(self, load: TableLoad, exprs: dict[str, str]) -> None:
        """Mask e-mail addresses, phone numbers and URL query strings in the
        names a report may show (:func:`journeykit.data.schemas.shown_text_columns`:
        channels, campaigns, pages, event types, …), counted as a repair.
        Each distinct value is masked once and the rows holding a changed
        one are updated: on 10 M rows this costs half a second, a masking
        expression over every row fifteen times that."""
        from journeykit.core import privacy

        t = _q(self.table)
        for col in schemas.shown_text_columns(self.table):
            if col not in exprs:
                continue
            c = _q(col)
            # The distinct values first, in a statement of their own: in one query DuckDB pushes the
            # test below the DISTINCT and runs the regular expression on every row (62 M events:
            # 1.5 s a column, against 0.1 s).
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE _mask AS SELECT DISTINCT {c} AS v FROM {t} "
                             f"WHERE {c} IS NOT NULL")
            self.con.execute(f"DELETE FROM _mask WHERE NOT {privacy.hint_sql('v')}")
            self.con.execute("ALTER TABLE _mask ADD COLUMN w VARCHAR")
            self.con.execute(f"UPDATE _mask SET w = {privacy.mask_sql('v')}")
            self.con.execute("DELETE FROM _mask WHERE w IS NOT DISTINCT FROM v")
            n_values = self.con.execute("SELECT count(*) FROM _mask").fetchone()[0]
            if n_values:
                # the update says how many rows it changed (a count of its own joined all rows again)
                rows = self.con.execute(f"UPDATE {t} SET {c} = m.w FROM _mask m WHERE {t}.{c} = m.v").fetchone()[0]
                load.repairs.append(Repair(
                    "masked_personal_data", f"masked personal data in {col}", int(rows),
                    "e-mail addresses, phone numbers and URL query strings in names are never shown", col))
            self.con.execute("DROP TABLE _mask")

    def _unmapped_events(self, load: TableLoad) -> None:
        canon = ", ".join(_lit(c) for c in schemas.EVENT_TYPES)
        rows = self.con.execute(
            f"SELECT event_type, count(*) FROM events WHERE event_type NOT IN ({canon}) GROUP BY 1 ORDER BY 2 DESC, 1"
        ).fetchall()
        load.unmapped_event_types = {r[0]: int(r[1]) for r in rows}

    def _validate(self, load: TableLoad) -> None:
        """Run the pandera schema over the table, in chunks of CHUNK_ROWS.

        Every row of the table has the types and nulls the load gave it
        (each column is cast to its type, and rows without a required value
        were dropped by :meth:`_repair`), so the whole schema runs on the
        first chunk, and the value checks (:func:`~journeykit.data.schemas.checked_columns`)
        on every row, fetching only the columns they read: on 62 M events
        that is one column instead of eleven."""
        present = [c for c in self.schema.columns if c in self._columns()]
        schema = copy.deepcopy(self.schema)
        schema.unique = None  # checked on the whole table by _dedupe
        schema.columns = {c: schema.columns[c] for c in present}
        checked = [c for c in schemas.checked_columns(self.table) if c in present]
        values = copy.deepcopy(schema)
        values.columns = {c: values.columns[c] for c in checked}
        failing: dict[tuple[str, str | None], set[int]] = {}
        examples: dict[tuple[str, str | None], list] = {}
        checks_seen: set[tuple[str, str | None]] = set()
        for col in present:
            for chk in schema.columns[col].checks:
                checks_seen.add((chk.name, col))
        for chk in schema.checks:
            checks_seen.add((chk.name, None))

        def run(schema, cols: list[str], limit: str = "") -> None:
            reader = self.con.sql(f"SELECT {', '.join(_q(c) for c in cols)} FROM {_q(self.table)}{limit}"
                                  ).to_arrow_reader(CHUNK_ROWS)
            offset = 0
            for chunk in _chunks(reader, CHUNK_ROWS):
                df = chunk.to_pandas()
                df.index = range(offset, offset + len(df))
                offset += len(df)
                try:
                    schema.validate(df, lazy=True)
                except pandera.errors.SchemaErrors as e:
                    for rec in e.failure_cases.itertuples(index=False):
                        check = str(rec.check).split("(")[0]
                        column = rec.column if rec.schema_context == "Column" else None
                        key = (check, column)
                        checks_seen.add(key)
                        if rec.index is not None and not pd.isna(rec.index):
                            failing.setdefault(key, set()).add(int(rec.index))
                        ex = examples.setdefault(key, [])
                        if len(ex) < 5 and rec.failure_case is not None and rec.failure_case not in ex:
                            ex.append(rec.failure_case)

        run(schema, present, f" LIMIT {CHUNK_ROWS}")
        if checked and load.rows_read > CHUNK_ROWS:
            # rows are counted in sets: the first chunk's, checked twice, count once
            run(values, checked)
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
            self.errors.append(self._check_error(check, column, n, exs))

    def _check_error(self, check: str, column: str | None, n: int, examples: list) -> DataError:
        """The error for ``n`` rows failing the contract's value check ``check``."""
        return self.error(
            column, f"{n:,} row{'s' if n > 1 else ''} fail{'s' if n == 1 else ''} the check "
                    f"'{i18n.check_label(check, column)}'",
            n_rows=n, examples=examples,
            fix=_CHECK_FIXES.get(check, "correct or remove these rows in the export"),
        )

    def _row_examples(self, rows: set[int], check: str) -> list:
        cols = schemas.TABLE_CHECK_COLUMNS.get(check, ())
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


def _not_the_data(e: BaseException, doing: str) -> None:
    """Raise the :class:`~journeykit.core.errors.OperationalError` when the
    engine failed because of the machine (a full disk, a read-only folder),
    not because of the data: such a failure must not be explained as a
    broken export ("check the delimiter and quoting")."""
    from journeykit.core.errors import operational

    err = operational(e, doing)
    if err is not None:
        raise err from None


def _blank(v) -> bool:
    return v is None or (not isinstance(v, str) and bool(pd.isna(v)))


def _unique_names(names: list[str]) -> list[str]:
    """Names made unique as DuckDB's CSV reader does (amount, amount_1)."""
    out: list[str] = []
    taken: set[str] = set()
    for name in names:
        new, k = name, 0
        while new.lower() in taken:
            k += 1
            new = f"{name}_{k}"
        taken.add(new.lower())
        out.append(new)
    return out


def _excel_column(i: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


def _table_parts(name: str) -> list[str]:
    """``sales.orders`` -> ``['sales', 'orders']``; a part in double quotes
    may hold dots (``sales."orders.2026"``). Empty when malformed."""
    parts, cur, quoted, i = [], "", False, 0
    name = name.strip()
    while i < len(name):
        ch = name[i]
        if quoted:
            if ch == '"' and name[i + 1:i + 2] == '"':
                cur += '"'
                i += 1
            elif ch == '"':
                quoted = False
            else:
                cur += ch
        elif ch == '"':
            quoted = True
        elif ch == ".":
            parts.append(cur)
            cur = ""
        else:
            cur += ch
        i += 1
    parts.append(cur)
    if quoted or len(parts) > 3 or any(not p.strip() for p in parts):
        return []
    return parts


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
    event. The customer is the event's ``customer_id``, else (an anonymous
    purchase, or events without customer ids) its ``visitor_id``: a purchase
    is never dropped for want of a login, and how many were attributed to
    a visitor id is recorded as a repair. The amount is the event's
    ``value`` when the events have one, else unknown (counts only: revenue,
    order value and CLV are not measured). The payment status (paid /
    failed) exists only when the events contain at least one
    ``payment_failed``: a client that does not track failed payments gets
    no payment success rate, rather than 100 %."""
    ev = report.tables.get("events")
    if ev is None or ev.status != "loaded" or ("orders" in report.tables and report.tables["orders"].status != "empty"):
        return
    cols = {r[0] for r in con.execute("DESCRIBE events").fetchall()}
    kinds = "event_type IN ('purchase', 'payment_failed')"
    if not con.execute(f"SELECT count(*) FROM events WHERE {kinds}").fetchone()[0]:
        return
    ids = [c for c in ("customer_id", "visitor_id") if c in cols]
    who = f"COALESCE({', '.join(ids)})" if len(ids) > 1 else ids[0]
    amount = "CAST(value AS DOUBLE)" if "value" in cols else "CAST(NULL AS DOUBLE)"
    extra = "".join(f", {c}" for c in ("channel", "device") if c in cols)
    # without a single payment_failed event, failures are not tracked: no
    # payment status (success rate "not measured"), never a 100 % success rate
    failures = bool(con.execute("SELECT count(*) FROM events WHERE event_type = 'payment_failed'").fetchone()[0])
    status = ", CASE event_type WHEN 'purchase' THEN 'paid' ELSE 'failed' END AS payment_status" if failures else ""
    con.execute(
        f"CREATE TABLE orders AS SELECT 'ev-' || CAST(row_number() OVER (ORDER BY occurred_at, {who}, event_type) "
        f"AS VARCHAR) AS order_id, {who} AS customer_id, occurred_at AS ordered_at, {amount} AS amount"
        f"{status}{extra} FROM events WHERE {kinds} AND {who} IS NOT NULL")
    paid_rows = "count(*) FILTER (WHERE payment_status = 'paid')" if failures else "count(*)"
    n, lo, hi, paid = con.execute(f"SELECT count(*), min(ordered_at), max(ordered_at), {paid_rows} FROM orders").fetchone()
    columns = {"order_id": "(one per event)", "customer_id": " or ".join(f"events.{c}" for c in ids),
               "ordered_at": "events.occurred_at"}
    if failures:
        columns["payment_status"] = "events.event_type"
    if "value" in cols:
        columns["amount"] = "events.value"
    columns.update({c: f"events.{c}" for c in ("channel", "device") if c in cols})
    note = (f"no orders table: {int(paid):,} purchase and {int(n - paid):,} payment_failed events are taken as "
            "orders and failed payment attempts, one per event"
            + ("; amounts from the events' value" if "value" in cols
               else "; the events carry no value, so amounts are unknown: revenue, order value and CLV are not measured"))
    load = TableLoad(
        "orders", "derived from events", "derived", rows_read=int(n), rows_loaded=int(n), status="derived",
        columns=columns, note=note, first_at=lo.isoformat() if lo else None, last_at=hi.isoformat() if hi else None)
    if len(ids) > 1:
        anonymous = con.execute(f"SELECT count(*) FROM events WHERE {kinds} AND customer_id IS NULL "
                                "AND visitor_id IS NOT NULL").fetchone()[0]
        if anonymous:
            load.repairs.append(Repair(
                "visitor_orders", "orders attributed to a visitor id", int(anonymous),
                "purchase and payment_failed events without a customer id (before a login) are orders of their "
                "visitor: dropping them would understate orders, revenue and failed payments"))
    report.tables["orders"] = load


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

def _build(cfg: RunConfig, folder: Path, key: str) -> Path:
    """Load, validate and write a new cache entry of the client's data into
    ``folder`` (``data/.cache/<client>``); returns it. The entry is built in
    a ``.build-*`` folder locked by this process and appears under its final
    name complete (one rename); then every other entry of the client that no
    process uses is removed (:func:`sweep`)."""
    if cfg.data.mode == "in_place":  # validated on the database; the entry holds no rows
        from journeykit.data import warehouse

        return warehouse.build(cfg, folder, key)
    folder.mkdir(parents=True, exist_ok=True)
    work = folder / f".build-{uuid.uuid4().hex[:8]}"
    work.mkdir()
    lock = _lock_new(work)
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
        shutil.rmtree(work / "spill", ignore_errors=True)
        (work / "load_report.json").write_text(report.to_json(), encoding="utf-8")
        stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S%f")
        target = folder / f"{key}-{stamp}-{uuid.uuid4().hex[:4]}"
        work.rename(target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    finally:
        os.close(lock)
    sweep(folder, keep={target})
    return target


# --------------------------------------------------------------------------
# Cache entries: immutable, removed only when nobody uses them
# --------------------------------------------------------------------------
#
# An entry is a folder ``data/.cache/<client>/<key>-<build>/`` (``key``: see
# cache_key) with the database, the load report and ``.users``, a lock file:
# every process reading the entry (a run, a section's kernel, an analyst's
# dataset) holds a shared lock on it (hold), and an entry is removed only
# under an exclusive one (sweep), so ``journeykit validate`` or a newer build
# never pulls an entry from under a run. An entry is never changed once
# written (``shared/`` and ``parquet/`` only gain files, each written whole);
# rebuilding (``refresh``) writes a new entry beside it.

def _lock_new(folder: Path) -> int:
    """Create ``folder/.users`` already locked exclusively (written under
    another name, locked, then renamed: a sweeper never sees it unlocked)."""
    tmp = folder / f".users-{uuid.uuid4().hex[:6]}"
    fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.rename(tmp, folder / ".users")
    return fd


def sweep(folder: Path, keep: set[Path] | frozenset = frozenset()) -> list[Path]:
    """Remove the entries of ``folder`` (one client's cache) that no process
    holds, except ``keep``, and builds whose process died; returns them."""
    removed = []
    if not folder.is_dir():
        return removed
    for d in sorted(folder.iterdir()):
        if d in keep or not d.is_dir():
            continue
        if d.name.startswith(".trash-"):
            shutil.rmtree(d, ignore_errors=True)
            continue
        if d.name.startswith(".") and not d.name.startswith(".build-"):
            continue
        try:
            fd = os.open(d / ".users", os.O_RDONLY)
        except FileNotFoundError:
            if (d / "load_report.json").is_file():  # an entry of an older journeykit (no lock file)
                shutil.rmtree(d, ignore_errors=True)
                removed.append(d)
            continue  # a build that has not locked yet
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue  # in use
        try:
            trash = folder / f".trash-{uuid.uuid4().hex[:8]}"
            d.rename(trash)  # readers that open it after this see it gone
            shutil.rmtree(trash, ignore_errors=True)
            removed.append(d)
        except OSError:
            pass
        finally:
            os.close(fd)
    return removed


def _entries(folder: Path, key: str) -> list[Path]:
    """The complete entries of ``key`` in ``folder``, oldest first."""
    if not folder.is_dir():
        return []
    return sorted(d for d in folder.glob(f"{key}-*") if (d / "load_report.json").is_file())


def cached(cfg: RunConfig) -> Path | None:
    """The newest complete cache entry of the client's data as it is now
    (its :func:`cache_key`), or ``None`` when it would have to be built."""
    found = _entries(_cache_root(cfg) / cfg.client, cache_key(cfg))
    return found[-1] if found else None


def entry(cfg: RunConfig, *, refresh: bool = False) -> Path:
    """The cache entry of the client's data as it is now: the newest entry
    of its :func:`cache_key`, built when there is none or when ``refresh``
    (a new entry; the older one stays until nobody uses it)."""
    if not refresh and (found := cached(cfg)) is not None:
        return found
    return _build(cfg, _cache_root(cfg) / cfg.client, cache_key(cfg))


def prepare(cfg: RunConfig, *, refresh: bool = False) -> LoadReport:
    """Load, validate and cache the client's data without opening an engine
    on it (the runner, before its section kernels start); with
    ``engine.backend: spark`` also write the Parquet export Spark reads.
    Returns the load report."""
    target = entry(cfg, refresh=refresh)
    if cfg.engine.backend == "spark" and cfg.data.mode != "in_place":
        parquet_export(target)
    return LoadReport.from_json((target / "load_report.json").read_text(encoding="utf-8"))


def load(cfg: RunConfig, *, refresh: bool = False) -> "Dataset":
    """Load, validate and cache the client's data; return a :class:`Dataset`.

    Inside a report run (``cfg.run``) the dataset opens the cache entry the
    run pinned, so every section reads the same data even when the exports
    change or ``journeykit validate`` rebuilds the cache meanwhile.

    Parameters
    ----------
    cfg : RunConfig
        From :func:`journeykit.core.config.load`.
    refresh : bool
        Build a new cache entry even when one is current (always done for
        database sources by the runner, whose data can change under the
        same key).

    Raises
    ------
    DataError, DataErrors
        When the data breaks the contract; each names the client, table,
        column, rows, examples and the fix.
    """
    pinned = cfg.run.cache if cfg.run is not None else None
    if pinned is not None and not refresh:
        return Dataset(cfg, Path(pinned))
    for _ in range(3):
        try:
            return Dataset(cfg, entry(cfg, refresh=refresh))
        except CacheEntryGone:  # removed between choosing and opening it: choose again
            refresh = False
    return Dataset(cfg, entry(cfg, refresh=True))


__all__ = ["Dataset", "prepare", "cached", "entry", "hold", "sweep", "LoadReport", "TableLoad", "Repair", "Check", "load", "detect_encoding", "cache_key",
           "EncodingMismatch", "ZONE_ABBREVIATIONS", "AMBIGUOUS_ZONES", "ZERO_DECIMAL_CURRENCIES", "classify_values"]


def classify_values(rows, mapping: dict, allowed) -> tuple[list[dict], list[tuple[str, int]]]:
    """How each distinct value of a categorical column is read: ``rows`` are
    ``(value, rows)`` pairs (``None``/non-text for a blank), ``mapping`` the
    lower-cased value → ``(canonical, mapped_by)`` of the client file and the
    common defaults, ``allowed`` the canonical values (taken as they are).
    Returns the listed values (``value``, ``canonical``, ``rows``,
    ``mapped_by``: ``client``/``default``/``empty``/``None``) and the
    unmapped ``(value, rows)`` pairs, in the order given."""
    listed, unmapped = [], []
    for value, n in rows:
        if value is None or not isinstance(value, str):
            listed.append({"value": None, "canonical": None, "rows": int(n), "mapped_by": "empty"})
            continue
        hit = mapping.get(value.lower())
        if hit is None and value in allowed:
            hit = (value, "default")
        if hit is None:
            unmapped.append((value, int(n)))
        listed.append({"value": value, "canonical": hit[0] if hit else None, "rows": int(n),
                       "mapped_by": hit[1] if hit else None})
    return listed, unmapped
