"""What a load did, table by table: the rows read and kept, the checks run,
the repairs made and why, the columns mapped and those left unread. Saved
beside the cached database; 00_data_quality shows it."""

from __future__ import annotations

import dataclasses
import json

@dataclasses.dataclass
class Repair:
    """Rows changed or dropped at load, with the reason it is safe.

    ``kind`` is stable (``generated_id``, ``missing_required``,
    ``exact_duplicates``, ``unknown_customers``, ``empty_table``,
    ``masked_personal_data``); ``what``
    and ``why`` are its English wording, ``detail`` fills the placeholders
    of the translations in :mod:`journeykit.core.i18n`.
    """

    kind: str
    what: str
    rows: int
    why: str
    detail: str = ""


@dataclasses.dataclass
class Check:
    """One validation run on a table and its outcome."""

    check: str
    column: str | None
    failing_rows: int

    @property
    def passed(self) -> bool:
        return self.failing_rows == 0


@dataclasses.dataclass
class TableLoad:
    """How one canonical table was loaded."""

    table: str
    source: str
    format: str
    encoding: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    columns: dict[str, str] = dataclasses.field(default_factory=dict)
    unused_columns: list[str] = dataclasses.field(default_factory=list)
    pii_dropped: list[str] = dataclasses.field(default_factory=list)
    repairs: list[Repair] = dataclasses.field(default_factory=list)
    checks: list[Check] = dataclasses.field(default_factory=list)
    unmapped_event_types: dict[str, int] = dataclasses.field(default_factory=dict)
    values: dict[str, list[dict]] = dataclasses.field(default_factory=dict)
    """Categorical columns: every source value with its canonical value,
    its row count and who mapped it (``client`` or ``default``)."""
    time_zones: dict[str, dict[str, int]] = dataclasses.field(default_factory=dict)
    """Timestamp columns whose text carried a time zone name or a UTC offset
    (``PST``, ``America/New_York``, ``+09:00``, ``Z``): column -> {zone as
    written: rows}. Those timestamps were converted to the client's time
    zone; the others were taken as its local time."""
    first_at: str | None = None
    """The earliest and latest timestamp of the table's time column (ISO)."""
    last_at: str | None = None
    status: str = "loaded"  # loaded | empty | derived
    note: str | None = None


@dataclasses.dataclass
class LoadReport:
    """Everything the load did, saved beside the cached database."""

    client: str
    built_at: str
    journeykit_version: str
    tables: dict[str, TableLoad] = dataclasses.field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), ensure_ascii=False, indent=2)

    @classmethod
    def from_json(cls, text: str) -> "LoadReport":
        raw = json.loads(text)
        tables = {}
        for name, t in raw.pop("tables").items():
            t["repairs"] = [Repair(**r) for r in t["repairs"]]
            t["checks"] = [Check(**c) for c in t["checks"]]
            tables[name] = TableLoad(**t)
        return cls(tables=tables, **raw)
