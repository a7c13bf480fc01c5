"""What a section puts in the report: formats, tables, notes, generated
sentences (:mod:`.blocks`), charts (:mod:`.plots`), words in English and
Korean (:mod:`.i18n`), and the results it records (:mod:`.results`).

The names a notebook uses are available here directly
(``jk.report.Narrative``, ``jk.report.record``).
"""

from journeykit.report.blocks import (
    KEY_FIGURES_CLOSE, KEY_FIGURES_OPEN, Advice, Blocks, KeyFigures, Narrative, Note, Table, advise, change_sentence, describe_changes, judged,
    key_figures, key_figures_from_records, kpi_table, narrative, replace_key_figures, shown, table,
)
from journeykit.report.formats import (
    CURRENCY_SYMBOLS, fmt_date, fmt_delta, fmt_int, fmt_kpi, fmt_min_effect, fmt_money, fmt_num, fmt_p, fmt_pct,
    formatter, is_missing, per_day, significance_text,
)
from journeykit.report.results import (
    METRICS_MIME, METRICS_SCHEMA, STATUSES, change_from_record, change_record, export, jsonable, read_metrics, read_payload, record,
    SectionResult, metrics_document, run_results,
)

__all__ = ["KEY_FIGURES_CLOSE", "KEY_FIGURES_OPEN", "Advice", "Blocks", "KeyFigures", "Narrative", "Note", "Table", "advise", "change_sentence",
           "describe_changes", "judged", "key_figures", "key_figures_from_records", "kpi_table", "narrative",
           "replace_key_figures", "shown", "table", "CURRENCY_SYMBOLS",
           "fmt_date", "fmt_delta", "fmt_int", "fmt_kpi", "fmt_min_effect", "fmt_money", "fmt_num", "fmt_p", "fmt_pct",
           "formatter", "is_missing", "per_day", "significance_text", "METRICS_MIME", "METRICS_SCHEMA", "STATUSES",
           "change_from_record", "change_record", "export",
           "jsonable", "read_metrics", "read_payload", "record", "SectionResult", "metrics_document", "run_results"]
