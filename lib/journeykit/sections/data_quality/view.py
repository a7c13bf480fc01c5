"""What section 00 shows: the frames of :mod:`.compute`, labelled in the
client's language."""

from __future__ import annotations

import pandas as pd

from journeykit import report
from journeykit.core import i18n
from journeykit.data import schemas
from journeykit.data.dataset import Dataset
from journeykit.report import plots
from journeykit.sections.data_quality.compute import (
    checks, column_mapping, coverage, derived_orders, monthly_rows, not_loaded, repairs, tables_overview, unmapped_event_types,
    value_mappings,
)

i18n.register({
    "dq_values_title": {"en": "{table}.{column}", "ko": "{table}.{column}"},
    "dq_col_value": {"en": "Value in the export", "ko": "원본 값"},
    "dq_col_canonical": {"en": "Counted as", "ko": "해석"},
    "dq_col_mapped_by": {"en": "Mapped by", "ko": "매핑 기준"},
    "dq_mapped_client": {"en": "client file", "ko": "고객사 설정"},
    "dq_mapped_default": {"en": "common value", "ko": "일반 값"},
    "dq_mapped_empty": {"en": "blank: counted as paid", "ko": "빈 값: 결제 완료로 간주"},
    "dq_value_blank": {"en": "(blank)", "ko": "(빈 값)"},
    "dq_no_checks": {"en": "No value check applies to the columns supplied: ids, dates and event names were read and typed, and nothing else needed checking.",
                     "ko": "제공된 컬럼에 적용할 값 검사가 없습니다. ID, 날짜, 이벤트 이름은 읽고 형식을 확인했으며 그 밖에 검사할 값은 없었습니다."},
    "dq_no_values": {"en": "No categorical column needed a value mapping.",
                     "ko": "값 매핑이 필요한 범주형 컬럼이 없습니다."},
    "dq_coverage": {"en": "The data runs from {first} to {last}.", "ko": "데이터 기간: {first} ~ {last}."},
    "dq_partial": {
        "en": "The data ends on {last}, before the end of {period}: this month's figures are partial and will change when the rest of the month is loaded.",
        "ko": "데이터가 {period} 말 이전인 {last}에 끝나므로 이번 달 수치는 일부 기간만 반영하며, 나머지 기간의 데이터가 들어오면 달라집니다."},
    "dq_orders_derived": {
        "en": "There is no orders table: the {paid} purchase events are taken as orders and the {failed} payment_failed events as failed payment attempts, one per event.",
        "ko": "주문 테이블이 없어 구매 이벤트 {paid}건을 주문으로, payment_failed 이벤트 {failed}건을 결제 실패 시도로 봅니다(이벤트 1건 = 1건)."},
    "dq_orders_derived_no_failures": {
        "en": "There is no orders table: the {paid} purchase events are taken as orders, one per event. There is no payment_failed event, so payment success is not measured.",
        "ko": "주문 테이블이 없어 구매 이벤트 {paid}건을 주문으로 봅니다(이벤트 1건 = 1건). payment_failed 이벤트가 없어 결제 성공률은 측정하지 않습니다."},
    "dq_orders_amounts": {"en": "Order amounts are the events' value.", "ko": "주문 금액은 이벤트의 value 값입니다."},
    "dq_orders_no_amounts": {
        "en": "The events carry no value, so order amounts are unknown: revenue, order value and customer lifetime value are not measured.",
        "ko": "이벤트에 value 값이 없어 주문 금액을 알 수 없으므로 매출, 주문 금액, 고객 생애 가치는 측정하지 않습니다."},
})

def _view(df: pd.DataFrame, ds: Dataset, columns: dict[str, tuple[str, str]]):
    lang = ds.cfg.language
    out = df[list(columns)].copy()
    if "table" in out:
        out["table"] = [i18n.table_name(t, lang) for t in out["table"]]
    labels = {c: i18n.t(key, lang) for c, (key, _) in columns.items()}
    formats = {labels[c]: kind for c, (_, kind) in columns.items()}
    return report.table(out.rename(columns=labels), ds.cfg, formats)


def overview_view(ds: Dataset):
    """Display table of :func:`tables_overview` (supplied tables only)."""
    df = tables_overview(ds)
    df = df[df["status"] != "missing"]
    lang = ds.cfg.language
    sources = [i18n.table_name(t, lang) for t, load in sorted(ds.report.tables.items())
               if load.status != "derived" and schemas.SPECS[t].customer_keyed]
    df["source"] = [i18n.t("source_derived", lang, tables=", ".join(sources)) if st == "derived" else src
                    for st, src in zip(df["status"], df["source"])]
    df["status"] = [i18n.t(f"table_{s}", lang) for s in df["status"]]
    return _view(df, ds, {
        "table": ("col_table", "text"), "status": ("col_status", "text"), "source": ("col_source", "text"),
        "encoding": ("col_encoding", "text"), "rows_read": ("col_rows_read", "int"),
        "rows_loaded": ("col_rows_loaded", "int"), "rows_in_scope": ("col_rows_in_scope", "int"),
        "rows_after_end": ("col_rows_after", "int"), "first": ("col_first", "date"), "last": ("col_last", "date"),
    })


def checks_view(ds: Dataset):
    """Display table of :func:`checks`, or a note when no check applied
    (e.g. an events export with only the required columns)."""
    df = checks(ds)
    lang = ds.cfg.language
    if df.empty:
        return report.Note(i18n.t("dq_no_checks", lang))
    df["check"] = [i18n.check_label(c, col, lang) for c, col in zip(df["check"], df["column"])]
    df["result"] = [i18n.t("result_passed", lang) if r == "passed" else i18n.t("result_repaired", lang, n=f"{n:,}")
                    for r, n in zip(df["result"], df["failing_rows"])]
    return _view(df, ds, {"table": ("col_table", "text"), "check": ("col_check", "text"),
                          "result": ("col_result", "text")})


def repairs_view(ds: Dataset):
    """Display table of :func:`repairs`, or a note when nothing was repaired."""
    df = repairs(ds)
    lang = ds.cfg.language
    if df.empty:
        return report.Note(i18n.t("no_repairs", lang))
    df["what"] = [i18n.t(f"repair_{k}", lang, detail=d) for k, d in zip(df["kind"], df["detail"])]
    df["why"] = [i18n.t(f"repair_{k}_why", lang, detail=d) for k, d in zip(df["kind"], df["detail"])]
    return _view(df, ds, {"table": ("col_table", "text"), "what": ("col_repair", "text"),
                          "rows": ("col_rows", "int"), "why": ("col_why", "text")})


def mapping_view(ds: Dataset):
    """Display table of :func:`column_mapping`, one row per table: the
    columns the client names differently (``canonical ← client column``) and
    the canonical columns whose names already matched."""
    df = column_mapping(ds)
    rows = []
    for table, g in df.groupby("table", sort=False):
        pairs = list(zip(g["canonical"], g["client_column"]))
        rows.append({"table": table,
                     "renamed": ", ".join(f"{c} ← {s}" for c, s in pairs if c != s) or "–",
                     "same": ", ".join(c for c, s in pairs if c == s) or "–"})
    out = pd.DataFrame(rows, columns=["table", "renamed", "same"])
    return _view(out, ds, {"table": ("col_table", "text"), "renamed": ("col_renamed", "text"),
                           "same": ("col_same_name", "text")})


def missing_view(ds: Dataset):
    """A note naming the canonical tables the client did not supply."""
    lang = ds.cfg.language
    missing = [i18n.table_name(t, lang) for t in schemas.SPECS
               if t not in ds.report.tables or ds.report.tables[t].status == "empty"]
    if not missing:
        return report.Note(i18n.t("all_tables_supplied", lang))
    return report.Note(i18n.t("tables_missing", lang, tables=", ".join(missing)), "warn")


def not_loaded_view(ds: Dataset):
    """Display table of :func:`not_loaded`, or a note when every column was used."""
    df = not_loaded(ds)
    if df.empty:
        return report.Note(i18n.t("nothing_dropped", ds.cfg.language))
    df["reason"] = [i18n.t(f"reason_{r}", ds.cfg.language) for r in df["reason"]]
    return _view(df, ds, {"table": ("col_table", "text"), "column": ("col_dropped", "text"),
                          "reason": ("col_reason", "text")})


def unmapped_view(ds: Dataset):
    """Display table of :func:`unmapped_event_types`, or a note."""
    if not ds.has("events"):
        return report.Note(i18n.t("no_events", ds.cfg.language))
    df = unmapped_event_types(ds)
    if df.empty:
        return report.Note(i18n.t("no_unmapped", ds.cfg.language))
    return _view(df, ds, {"event_type": ("col_event_type", "text"), "events": ("col_events", "int")})


def monthly_rows_chart(ds: Dataset, months: int = 24):
    """Figure of :func:`monthly_rows`."""
    df = monthly_rows(ds, months)
    lang = ds.cfg.language
    df["table"] = [i18n.table_name(t, lang) for t in df["table"]]
    return plots.monthly_rows(df, i18n.t("chart_rows_per_month", lang), i18n.t("axis_rows", lang),
                              i18n.t("col_month", lang))


def values_view(ds: Dataset):
    """Display table of :func:`value_mappings`: every value of a categorical
    column, what it counts as and who said so; a note when there is none."""
    df = value_mappings(ds)
    lang = ds.cfg.language
    if df.empty:
        return report.Note(i18n.t("dq_no_values", lang))
    df["column"] = [f"{i18n.table_name(t, lang)}.{c}" for t, c in zip(df["table"], df["column"])]
    df["value"] = [i18n.t("dq_value_blank", lang) if v is None or pd.isna(v) else v for v in df["value"]]
    df["canonical"] = ["–" if c is None or pd.isna(c) else c for c in df["canonical"]]
    df["mapped_by"] = [i18n.t(f"dq_mapped_{m}", lang) if isinstance(m, str) else "–" for m in df["mapped_by"]]
    return _view(df, ds, {"column": ("col_column", "text"), "value": ("dq_col_value", "text"),
                          "canonical": ("dq_col_canonical", "text"), "rows": ("col_rows", "int"),
                          "mapped_by": ("dq_col_mapped_by", "text")})


def coverage_view(ds: Dataset):
    """The data's first and last date, a warning when the period is only
    partly covered, that the data stayed in the client's database (in
    place), and how orders were derived when the client sent none."""
    cov = coverage(ds)
    lang = ds.cfg.language
    blocks = []
    if cov["last_date"] is not None:
        blocks.append(report.Note(i18n.t("dq_coverage", lang, first=report.fmt_date(cov["first_date"]),
                                         last=report.fmt_date(cov["last_date"]))))
    if cov["period_partial"]:
        blocks.append(report.Note(i18n.t("dq_partial", lang, last=report.fmt_date(cov["last_date"]),
                                         period=ds.cfg.period.label(lang)), "warn"))
    if cov["in_place"]:
        blocks.append(report.Note(i18n.t("dq_in_place", lang)))
    derived = derived_orders(ds)
    if derived is not None:
        said = (i18n.t("dq_orders_derived_no_failures", lang, paid=f"{derived['paid']:,}") if derived["failed"] is None
                else i18n.t("dq_orders_derived", lang, paid=f"{derived['paid']:,}", failed=f"{derived['failed']:,}"))
        blocks.append(report.Note(said + " "
                                  + i18n.t("dq_orders_amounts" if derived["with_amounts"] else "dq_orders_no_amounts",
                                           lang)))
    return report.Blocks(blocks)
