"""journeykit.sections.data_quality.compute: the tables behind section 00_data_quality.

One hand-built client folder (three files, three encodings) is loaded once
per language; every expected count is worked out in the comments.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from journeykit.core import config
from journeykit.core import i18n
from journeykit.data import loader as io
from journeykit.sections.data_quality import compute as quality
from journeykit.sections.data_quality import view
from journeykit.report import Note, Table

REPO = Path(__file__).resolve().parents[2]

# Period 2026-10: rows before 2026-11-01 are in scope.
ORDERS = (  # CP949, Korean headers; no order_id (generated); 이메일 ("email") is PII
    "고객번호,주문일자,결제금액,이메일\n"
    "c1,2026-09-03,100,a@example.kr\n"    # in scope
    "c1,2026-10-05,50,a@example.kr\n"     # in scope
    "c2,2026-10-10,30,b@example.kr\n"     # in scope
    "c3,2026-11-02,70,c@example.kr\n"     # after the period end
    ",2026-10-11,20,d@example.kr\n"       # no customer: dropped (missing_required)
).encode("cp949")
EVENTS = (  # UTF-8 with BOM
    "customer_id,occurred_at,event_type\n"
    "c1,2026-08-01,PDP\n"                 # mapped → product_view
    "c4,2026-10-01,FOO\n"                 # unmapped
    "c4,2026-10-02,FOO\n"                 # unmapped
    "c4,2026-11-05,visit\n"               # after the period end
).encode("utf-8-sig")
SURVEYS = (  # plain UTF-8; comment is PII (becomes has_comment)
    "response_id,responded_at,customer_id,nps,comment\n"
    "r1,2026-10-01,c1,9,great\n"
    "r1,2026-10-01,c1,9,great\n"          # exported twice: exact duplicate, one copy dropped
    "r2,2026-10-02,c2,3,\n"
).encode("utf-8")
CLIENT = """
    name: ACME
    language: {language}
    data:
      source: data/acme
      tables:
        orders:
          file: orders.csv
          columns: {{customer_id: 고객번호, ordered_at: 주문일자, amount: 결제금액}}
        events:
          file: events.csv
          event_types: {{PDP: product_view}}
        surveys:
          file: surveys.csv
    """
# Derived customers, signup = first activity in any table:
#   c1 min(event 08-01, order 09-03, survey 10-01) = 2026-08-01
#   c2 min(order 10-10, survey 10-02)              = 2026-10-02
#   c3 order 11-02                                 = 2026-11-02  (after the end)
#   c4 min(event 10-01, …)                         = 2026-10-01


def make_project(root: Path, client_yaml: str, files: dict[str, bytes]) -> Path:
    (root / "params" / "clients").mkdir(parents=True)
    shutil.copy(REPO / "params" / "defaults.yaml", root / "params" / "defaults.yaml")
    (root / "params" / "clients" / "acme.yaml").write_text(textwrap.dedent(client_yaml), encoding="utf-8")
    (root / "data" / "acme").mkdir(parents=True)
    for name, raw in files.items():
        (root / "data" / "acme" / name).write_bytes(raw)
    return root


@pytest.fixture(scope="module", params=["en", "ko"])
def ds(request, tmp_path_factory):
    lang = request.param
    root = make_project(tmp_path_factory.mktemp(f"quality-{lang}"), CLIENT.format(language=lang),
                        {"orders.csv": ORDERS, "events.csv": EVENTS, "surveys.csv": SURVEYS})
    with io.load(config.load("acme", "2026-10", root=root)) as dataset:
        yield dataset


def en(ds) -> bool:
    return ds.cfg.language == "en"


def labels(ds, *keys: str) -> list[str]:
    return [i18n.t(k, ds.cfg.language) for k in keys]


def cells(view) -> list[list[str]]:
    assert isinstance(view, Table)
    c = view.cells()
    return [list(c.columns)] + c.values.tolist()


# --------------------------------------------------------------------------
# Frames (language-independent)
# --------------------------------------------------------------------------

def test_tables_overview_rows_encodings_and_date_ranges(ds):
    df = quality.tables_overview(ds).set_index("table")
    assert list(df.index) == ["customers", "marketing", "events", "orders", "subscriptions",
                              "tickets", "surveys", "messages", "experiments"]   # contract order
    assert df["status"].to_dict() == {
        "customers": "derived", "marketing": "missing", "events": "loaded", "orders": "loaded",
        "subscriptions": "missing", "tickets": "missing", "surveys": "loaded", "messages": "missing",
        "experiments": "missing"}
    got = df.loc[["customers", "events", "orders", "surveys"],
                 ["encoding", "rows_read", "rows_loaded", "rows_in_scope", "rows_after_end", "first", "last"]]
    expected = pd.DataFrame({
        #               customers      events         orders         surveys
        "encoding":     [None,         "utf-8-sig",   "cp949",       "utf-8"],
        "rows_read":    [None,         4,             5,             3],
        "rows_loaded":  [4,            4,             4,             2],       # orders: 5 − 1 no customer; surveys: 3 − 1 duplicate
        "rows_in_scope": [3,           3,             3,             2],       # customers: c3 signs up 11-02
        "rows_after_end": [1,          1,             1,             0],
        "first": pd.to_datetime(["2026-08-01", "2026-08-01", "2026-09-03", "2026-10-01"]),
        "last": pd.to_datetime(["2026-10-02", "2026-10-02", "2026-10-10", "2026-10-02"]),
    }, index=pd.Index(["customers", "events", "orders", "surveys"], name="table"))
    for col in expected:
        for t in expected.index:
            want, have = expected.loc[t, col], got.loc[t, col]
            if pd.isna(want):
                assert pd.isna(have), (t, col, have)
            else:
                assert have == want, (t, col, have, want)
    assert df.loc["orders", "source"] == "orders.csv"
    assert df.loc["customers", "source"] == "derived from events, orders, surveys"
    assert df.loc["marketing", ["rows_loaded", "first"]].isna().all()


def test_checks_and_their_results(ds):
    assert quality.checks(ds).values.tolist() == [
        ["orders", "unique", "order_id", 0, "passed"],
        ["orders", "greater_than_or_equal_to", "amount", 0, "passed"],
        ["surveys", "unique", "response_id", 0, "passed"],            # after the duplicate was dropped
        ["surveys", "isin", "nps", 0, "passed"],
    ]


def test_repairs_are_listed_with_counts(ds):
    rep = quality.repairs(ds)
    assert rep[["table", "kind", "rows", "detail"]].values.tolist() == [
        ["orders", "generated_id", 4, "order_id"],                               # the 4 kept rows
        ["orders", "missing_required", 1, "customer_id, ordered_at, amount"],    # the row without customer
        ["surveys", "exact_duplicates", 1, ""],                                  # r1 twice
    ]


def test_mapping_pii_and_unmapped_event_types(ds):
    mapping = quality.column_mapping(ds)
    orders = mapping[mapping["table"] == "orders"]
    assert dict(zip(orders["canonical"], orders["client_column"])) == {
        "customer_id": "고객번호", "ordered_at": "주문일자", "amount": "결제금액"}
    assert quality.not_loaded(ds).values.tolist() == [
        ["orders", "이메일", "pii"],      # by its (Korean) name
        ["surveys", "comment", "pii"],    # canonical free text
    ]
    assert quality.unmapped_event_types(ds).values.tolist() == [["FOO", 2]]


def test_monthly_rows(ds):
    df = quality.monthly_rows(ds, months=2)           # September and October 2026
    got = [(t, m.strftime("%Y-%m"), n) for t, m, n in df.itertuples(index=False)]
    assert got == [
        ("customers", "2026-10", 2),    # c2 (10-02), c4 (10-01); c1 signed up in August
        ("events", "2026-10", 2),       # the two FOO; 08-01 is before the window, 11-05 after the end
        ("orders", "2026-09", 1),
        ("orders", "2026-10", 2),
        ("surveys", "2026-10", 2),
    ]


def test_section_metrics(ds):
    assert quality.metrics(ds) == {
        "tables_loaded": 4,                                            # customers (derived), events, orders, surveys
        "data_first_date": "2026-08-01", "data_last_date": "2026-11-05", "period_partial": False,
        "rows_loaded": {"customers": 4, "events": 4, "orders": 4, "surveys": 2},
        "rows_in_scope": {"customers": 3, "events": 3, "orders": 3, "surveys": 2},
        "rows_repaired": 2,                                            # 1 dropped order + 1 duplicate; generated ids not counted
        "checks_run": 4,
        "checks_repaired": 0,
        "unmapped_event_types": 1,                                     # FOO
        "pii_columns_dropped": 2,                                      # 이메일, comment
    }


# --------------------------------------------------------------------------
# Views, in the client's language
# --------------------------------------------------------------------------

def test_overview_view(ds):
    # Column headers are the i18n texts of these keys (their wording is
    # i18n's business); the cells are checked literally.
    head = labels(ds, "col_table", "col_status", "col_source", "col_encoding", "col_rows_read", "col_rows_loaded",
                  "col_rows_in_scope", "col_rows_after", "col_first", "col_last")
    assert head[:3] == (["Table", "Status", "Source"] if en(ds) else ["테이블", "상태", "원본"])
    if en(ds):
        names, loaded, derived = ["customers", "events", "orders", "surveys"], "loaded", "derived"
        src = "derived from events, orders, surveys"
    else:
        names, loaded, derived = ["고객", "이벤트", "주문", "설문"], "적재됨", "파생됨"
        src = "이벤트, 주문, 설문에서 생성"
    rows = cells(view.overview_view(ds))
    assert rows == [
        head,
        [names[0], derived, src, "–", "–", "4", "3", "1", "2026-08-01", "2026-10-02"],
        [names[1], loaded, "events.csv", "utf-8-sig", "4", "4", "3", "1", "2026-08-01", "2026-10-02"],
        [names[2], loaded, "orders.csv", "cp949", "5", "4", "3", "1", "2026-09-03", "2026-10-10"],
        [names[3], loaded, "surveys.csv", "utf-8", "3", "2", "2", "0", "2026-10-01", "2026-10-02"],
    ]


def test_checks_view(ds):
    if en(ds):
        expected = [labels(ds, "col_table", "col_check", "col_result"),
                    ["orders", "order_id is unique", "passed"],
                    ["orders", "amount ≥ 0", "passed"],
                    ["surveys", "response_id is unique", "passed"],
                    ["surveys", "nps is a whole number 0–10", "passed"]]
    else:
        expected = [labels(ds, "col_table", "col_check", "col_result"),
                    ["주문", "order_id 중복 없음", "통과"],
                    ["주문", "amount ≥ 0", "통과"],
                    ["설문", "response_id 중복 없음", "통과"],
                    ["설문", "nps는 0–10 정수", "통과"]]
    assert cells(view.checks_view(ds)) == expected


def test_repairs_view(ds):
    rows = cells(view.repairs_view(ds))
    if en(ds):
        assert rows[0] == labels(ds, "col_table", "col_repair", "col_rows", "col_why")
        assert [r[:3] for r in rows[1:]] == [["orders", "generated order_id", "4"],
                                             ["orders", "dropped rows missing a required value", "1"],
                                             ["surveys", "dropped exact duplicate rows", "1"]]
        assert rows[1][3] == "the export has no order_id: each row is taken as one record"
    else:
        assert rows[0] == labels(ds, "col_table", "col_repair", "col_rows", "col_why")
        assert [r[:3] for r in rows[1:]] == [["주문", "order_id 생성", "4"],
                                             ["주문", "필수 값이 없는 행 제외", "1"],
                                             ["설문", "완전히 동일한 중복 행 제외", "1"]]
        assert rows[1][3] == "원본에 order_id가 없어 각 행을 하나의 레코드로 간주"
        assert rows[2][3].startswith("customer_id, ordered_at, amount 값이 없는 행은")


def test_not_loaded_and_unmapped_views(ds):
    pii = "personal data (PII): never loaded" if en(ds) else "개인정보(PII): 적재하지 않음"
    orders, surveys = ("orders", "surveys") if en(ds) else ("주문", "설문")
    assert cells(view.not_loaded_view(ds))[1:] == [[orders, "이메일", pii], [surveys, "comment", pii]]
    head = labels(ds, "col_event_type", "col_events")
    assert cells(view.unmapped_view(ds)) == [head, ["FOO", "2"]]


def test_mapping_view(ds):
    rows = cells(view.mapping_view(ds))
    by_table = {r[0]: r[1:] for r in rows[1:]}
    orders = "orders" if en(ds) else "주문"
    events = "events" if en(ds) else "이벤트"
    assert by_table[orders] == ["customer_id ← 고객번호, ordered_at ← 주문일자, amount ← 결제금액", "–"]
    assert by_table[events] == ["–", "occurred_at, event_type, customer_id"]


def test_missing_view_names_the_tables_not_supplied(ds):
    note = view.missing_view(ds)
    assert isinstance(note, Note) and note.kind == "warn"
    if en(ds):
        assert note.text.startswith("Not supplied: marketing, subscriptions, support tickets, messages, experiments.")
    else:
        assert note.text.startswith("미제공 테이블: 마케팅, 구독, 상담 티켓, 메시지, 실험.")


def test_monthly_rows_chart_is_labelled_in_the_language(ds):
    fig = view.monthly_rows_chart(ds, months=2)
    ax = fig.axes[0]
    assert ax.get_title() == ("Rows per month by table" if en(ds) else "테이블별 월간 행 수")
    assert len(ax.get_lines()) == 4           # customers, events, orders, surveys


# --------------------------------------------------------------------------
# Other clients: notes instead of empty tables, and a repaired check
# --------------------------------------------------------------------------

CLEAN = """
    language: {language}
    data:
      source: data/acme
      tables:
        customers: {{file: customers.csv}}
        orders: {{file: orders.csv}}
    """


@pytest.mark.parametrize("language", ["en", "ko"])
def test_clean_client_gets_notes(tmp_path, language):
    root = make_project(tmp_path, CLEAN.format(language=language), {
        "customers.csv": b"customer_id,signup_at\nc1,2026-01-01\nc2,2026-02-01\n",
        "orders.csv": b"order_id,customer_id,ordered_at,amount\no1,c1,2026-10-01,10\no2,c2,2026-10-02,20\n",
    })
    with io.load(config.load("acme", "2026-10", root=root)) as ds:
        texts = [view.repairs_view(ds), view.not_loaded_view(ds), view.unmapped_view(ds)]
        assert all(isinstance(n, Note) for n in texts)
        if language == "en":
            assert [n.text for n in texts] == ["No rows needed repair.", "Every column in the exports was used.",
                                               "No events table: event mapping does not apply."]
        else:
            assert [n.text for n in texts] == ["보정이 필요한 행이 없었습니다.", "원본의 모든 컬럼이 사용되었습니다.",
                                               "이벤트 테이블이 없어 이벤트 매핑은 해당되지 않습니다."]
        assert quality.metrics(ds)["rows_repaired"] == 0


@pytest.mark.parametrize("language, result", [("en", "1 rows repaired"), ("ko", "1행 보정")])
def test_repaired_check_is_shown_as_repaired(tmp_path, language, result):
    root = make_project(tmp_path, CLEAN.format(language=language), {
        "customers.csv": b"customer_id,signup_at\nc1,2026-01-01\n",
        "orders.csv": b"order_id,customer_id,ordered_at,amount\no1,c1,2026-10-01,10\no2,c2,2026-10-02,20\n",
    })
    with io.load(config.load("acme", "2026-10", root=root)) as ds:
        chk = quality.checks(ds)
        known = chk[chk["check"] == "known_customer"]
        assert known[["table", "column", "failing_rows", "result"]].values.tolist() == [
            ["customers", "customer_id", 1, "repaired"]]          # c2 ordered but was not in customers
        assert quality.metrics(ds)["checks_repaired"] == 1
        assert quality.metrics(ds)["rows_repaired"] == 1          # c2 added
        label = {"en": "every customer in other tables is in customers",
                 "ko": "다른 테이블의 모든 고객이 고객 테이블에 있음"}[language]
        shown = cells(view.checks_view(ds))
        assert [r[2] for r in shown[1:] if r[1] == label] == [result]


def test_header_only_file_is_treated_as_not_supplied(tmp_path):
    root = make_project(tmp_path, CLEAN.format(language="en").replace("customers: {file: customers.csv}",
                                                                      "surveys: {file: surveys.csv}"), {
        "surveys.csv": b"response_id,responded_at,nps\n",            # a header, no rows
        "orders.csv": b"order_id,customer_id,ordered_at,amount\no1,c1,2026-10-01,10\n",
    })
    with io.load(config.load("acme", "2026-10", root=root)) as ds:
        assert not ds.has("surveys")
        overview = quality.tables_overview(ds).set_index("table")
        assert overview.loc["surveys", ["status", "rows_read", "rows_loaded"]].tolist() == ["empty", 0, 0]
        assert quality.repairs(ds)[["table", "kind", "rows"]].values.tolist() == [["surveys", "empty_table", 0]]
        m = quality.metrics(ds)
        assert m["tables_loaded"] == 2                                  # customers (derived from o1) and orders
        assert m["rows_loaded"] == {"customers": 1, "orders": 1}        # no surveys entry
        status = [r for r in cells(view.overview_view(ds))[1:] if r[0] == "surveys"][0][1]
        assert status == i18n.t("table_empty", "en")


def _load(root):
    return io.load(config.load("acme", "2026-10", root=root))


ORDERS_AND_EVENTS = """
    language: en
    data:
      source: data/acme
      tables:
        orders: {file: orders.csv}
        events: {file: events.csv}
    """


def test_unmapped_event_names_are_counted_up_to_the_period_end(tmp_path):
    # regression: the event-name table counted rows after the period end
    events = EVENTS.decode("utf-8-sig") + "c4,2026-11-06,FOO\nc4,2026-11-07,BAR\n"   # after the end: not counted
    root = make_project(tmp_path, ORDERS_AND_EVENTS, {
        "orders.csv": b"order_id,customer_id,ordered_at,amount\no1,c1,2026-10-01,10\n",
        "events.csv": events.encode("utf-8")})
    with _load(root) as ds:
        assert ds.report.tables["events"].unmapped_event_types == {"FOO": 3, "BAR": 1, "PDP": 1}   # all loaded rows
        assert quality.unmapped_event_types(ds).values.tolist() == [["FOO", 2], ["PDP", 1]]   # up to the period end


def test_coverage_says_when_the_data_ends_inside_the_period(tmp_path):
    root = make_project(tmp_path, ORDERS_AND_EVENTS.replace("        events: {file: events.csv}\n", ""), {
        "orders.csv": b"order_id,customer_id,ordered_at,amount\no1,c1,2026-09-01,10\no2,c1,2026-10-14,10\n"})
    with _load(root) as ds:
        cov = quality.coverage(ds)
        assert (str(cov["first_date"]), str(cov["last_date"]), cov["period_partial"]) == ("2026-09-01", "2026-10-14", True)
        texts = [b.text for b in view.coverage_view(ds).blocks]
        assert texts[0] == "The data runs from 2026-09-01 to 2026-10-14."
        assert texts[1].startswith("The data ends on 2026-10-14, before the end of October 2026")


def test_a_client_with_nothing_to_check_gets_a_sentence_not_an_empty_table(tmp_path):
    root = make_project(tmp_path, """
    language: en
    data:
      source: data/acme
      tables:
        events: {file: events.csv}
    """, {"events.csv": b"customer_id,occurred_at,event_type\nc1,2026-10-01,visit\nc1,2026-10-02,purchase\n"})
    with _load(root) as ds:
        assert quality.checks(ds).empty
        assert view.checks_view(ds).text.startswith("No value check applies to the columns supplied")
