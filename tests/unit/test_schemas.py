"""journeykit.data.schemas matches the data contract of DESIGN.md."""

from __future__ import annotations

import pandas as pd
import pandera.errors
import pytest

from journeykit.data import schemas

# DESIGN.md, "Data contract": table -> (required, optional). PII columns are
# listed separately: they may be mapped but are never loaded.
CONTRACT = {
    "customers": (["customer_id", "signup_at"],
                  ["acquisition_channel", "referred_by", "country", "plan", "segment"]),
    "marketing": (["date", "channel", "impressions", "clicks"], ["campaign", "spend", "conversions"]),
    # events also needs customer_id or visitor_id: both optional, one required at load
    "events": (["occurred_at", "event_type"],
               ["customer_id", "visitor_id", "session_id", "channel", "device", "page", "duration_s",
                "feature", "value"]),
    "orders": (["customer_id", "ordered_at", "amount"],
               ["order_id", "currency", "channel", "device", "discount_code", "payment_status", "items"]),
    "subscriptions": (["subscription_id", "customer_id", "started_at"], ["ended_at", "plan", "mrr", "status"]),
    "tickets": (["ticket_id", "customer_id", "created_at"], ["category", "channel", "resolved_at", "csat"]),
    "surveys": (["response_id", "responded_at"], ["customer_id", "touchpoint", "nps", "csat"]),
    "messages": (["customer_id", "campaign", "sent_at"],
                 ["message_id", "channel", "opened_at", "clicked_at", "variant"]),
    "experiments": (["customer_id", "experiment", "variant", "assigned_at"], []),
}
PII = {"customers": ["email", "name", "phone"], "surveys": ["comment"]}

DESIGN_EVENT_TYPES = [
    "visit", "page_view", "product_view", "pricing_view", "add_to_cart", "checkout_start",
    "purchase", "payment_failed",  # payment_failed: the robustness issue adds it (events-only payment success)
    "login", "feature_use", "review", "share", "referral",
]


def test_nine_canonical_tables():
    assert list(schemas.SCHEMAS) == list(CONTRACT)      # same names, contract order
    assert set(schemas.SPECS) == set(CONTRACT)


@pytest.mark.parametrize("table", CONTRACT)
def test_required_columns_match_the_contract(table):
    required, _ = CONTRACT[table]
    assert sorted(schemas.required_columns(table)) == sorted(required)


@pytest.mark.parametrize("table", CONTRACT)
def test_every_contract_column_is_in_the_schema(table):
    required, optional = CONTRACT[table]
    cols = schemas.columns(table)
    assert set(required + optional) <= set(cols)
    # Anything else must be computed at load (e.g. surveys.has_comment).
    extra = set(cols) - set(required + optional)
    assert extra == set(schemas.DERIVED_COLUMNS.get(table, {}))


@pytest.mark.parametrize("table", CONTRACT)
def test_pii_columns_are_not_schema_columns(table):
    cols = set(schemas.columns(table))
    assert not cols & set(schemas.PII_COLUMNS)


@pytest.mark.parametrize("table", CONTRACT)
def test_mappable_columns(table):
    mappable = schemas.mappable_columns(table)
    required, optional = CONTRACT[table]
    assert set(required + optional) <= set(mappable)
    # PII names can be mapped, so that they are recognized and dropped
    assert set(PII.get(table, [])) <= set(mappable)
    # derived columns cannot be mapped from the client's file
    assert not set(schemas.DERIVED_COLUMNS.get(table, {})) & set(mappable)


def test_pii_specs():
    assert {t: list(s.pii) for t, s in schemas.SPECS.items() if s.pii} == PII
    assert set(schemas.PII_COLUMNS) == {c for cols in PII.values() for c in cols}


def test_time_columns_are_timestamps():
    for table, spec in schemas.SPECS.items():
        assert spec.time_column in schemas.required_columns(table)   # every row can be placed in time
        assert schemas.dtype(table, spec.time_column) == "datetime64"
        for c in spec.later_columns:
            assert schemas.dtype(table, c) == "datetime64"


@pytest.mark.parametrize("table, column, kind", [
    ("orders", "amount", "float64"),
    ("orders", "customer_id", "str"),       # ids are text: "007" must stay "007"
    ("orders", "ordered_at", "datetime64"),
    ("marketing", "clicks", "float64"),
    ("surveys", "nps", "float64"),
    ("surveys", "has_comment", "bool"),
])
def test_dtype(table, column, kind):
    assert schemas.dtype(table, column) == kind


def test_orders_id_is_generated_when_absent():
    assert schemas.SPECS["orders"].id_column == "order_id"


def test_customer_keyed_tables():
    # customers itself and marketing (channel-level) name no customer
    assert {t for t, s in schemas.SPECS.items() if not s.customer_keyed} == {"customers", "marketing"}


def test_event_types_match_the_contract():
    assert list(schemas.EVENT_TYPES) == DESIGN_EVENT_TYPES


# --------------------------------------------------------------------------
# the value checks themselves (the loader runs them; here on tiny frames)
# --------------------------------------------------------------------------

def _fails(table: str, df: pd.DataFrame) -> set[str]:
    """Names of the checks that fail on df."""
    schema = schemas.SCHEMAS[table]
    cols = {c: schema.columns[c] for c in df.columns}
    schema = schema.__class__(cols, checks=schema.checks, unique=schema.unique, name=schema.name)
    try:
        schema.validate(df, lazy=True)
    except pandera.errors.SchemaErrors as e:
        return {str(c).split("(")[0] for c in e.failure_cases["check"]}
    return set()


def test_amount_must_not_be_negative():
    ok = pd.DataFrame({"amount": [0.0, 12000.0]})
    bad = pd.DataFrame({"amount": [-1.0, 12000.0]})
    assert _fails("orders", ok) == set()
    assert _fails("orders", bad) == {"greater_than_or_equal_to"}


def test_nps_is_a_whole_number_from_0_to_10():
    assert _fails("surveys", pd.DataFrame({"nps": [0.0, 10.0, None]})) == set()
    assert _fails("surveys", pd.DataFrame({"nps": [11.0]})) == {"isin"}
    assert _fails("surveys", pd.DataFrame({"nps": [7.5]})) == {"isin"}     # not an answer on the scale


def test_clicks_not_above_impressions():
    ok = pd.DataFrame({"impressions": [100.0, 5.0], "clicks": [100.0, 0.0]})   # equal is fine (CTR 100%)
    bad = pd.DataFrame({"impressions": [100.0], "clicks": [120.0]})
    assert _fails("marketing", ok) == set()
    assert _fails("marketing", bad) == {"clicks_le_impressions"}


def test_end_not_before_start():
    ts = pd.to_datetime
    ok = pd.DataFrame({"started_at": ts(["2026-10-01"]), "ended_at": ts(["2026-10-02"])}).astype("datetime64[us]")
    bad = pd.DataFrame({"started_at": ts(["2026-10-02"]), "ended_at": ts(["2026-10-01"])}).astype("datetime64[us]")
    assert _fails("subscriptions", ok) == set()
    assert _fails("subscriptions", bad) == {"ended_at_not_before_started_at"}


def test_the_contract_loads_without_pandera_importing_pyspark():
    import subprocess
    import sys

    code = ("import sys, importlib.util; import journeykit.data.schemas as s; "
            "print('pyspark' in sys.modules, s.pa.DataFrameSchema is not None, "
            "importlib.util.find_spec('pyspark.pandas') is not None or importlib.util.find_spec('pyspark') is None)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["False", "True", "True"], out.stderr[-1500:]   # and pyspark.pandas still importable


def test_checked_columns_are_those_a_value_check_reads():
    assert schemas.checked_columns("events") == ["duration_s"]
    assert schemas.checked_columns("orders") == ["amount", "items"]
    assert schemas.checked_columns("marketing") == ["impressions", "clicks", "spend", "conversions"]
    assert schemas.checked_columns("messages") == ["sent_at", "opened_at", "clicked_at"]   # table-wide checks
    assert schemas.checked_columns("customers") == []
    for table, schema in schemas.SCHEMAS.items():      # every table-wide check says what it reads
        for chk in schema.checks:
            assert set(schemas.TABLE_CHECK_COLUMNS[chk.name]) <= set(schema.columns), (table, chk.name)
