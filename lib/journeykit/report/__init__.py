"""What a section puts in the report: formats, tables, notes, generated
sentences (:mod:`.blocks`), charts (:mod:`.plots`), words in English and
Korean (:mod:`.i18n`), and the results it records (:mod:`.results`).

The names a notebook uses are available here directly
(``jk.report.Narrative``, ``jk.report.record``).
"""

from journeykit.report.blocks import Narrative, Note, Table, describe_changes, kpi_table, shown, table
from journeykit.report.formats import (
    CURRENCY_SYMBOLS, fmt_date, fmt_delta, fmt_int, fmt_kpi, fmt_money, fmt_num, fmt_p, fmt_pct, formatter, is_missing,
    significance_text,
)
from journeykit.report.results import (
    EXPORTS_ENV, METRICS_MIME, METRICS_SCHEMA, RUN_ENV, STATUSES, change_record, export, jsonable, read_metrics, read_payload, record,
    require, run_results,
)

__all__ = ["Narrative", "Note", "Table", "describe_changes", "kpi_table", "shown", "table", "CURRENCY_SYMBOLS",
           "fmt_date", "fmt_delta", "fmt_int", "fmt_kpi", "fmt_money", "fmt_num", "fmt_p", "fmt_pct", "formatter",
           "is_missing", "significance_text", "EXPORTS_ENV", "METRICS_MIME", "RUN_ENV", "METRICS_SCHEMA", "STATUSES", "change_record", "export",
           "jsonable", "read_metrics", "read_payload", "record", "require", "run_results"]
