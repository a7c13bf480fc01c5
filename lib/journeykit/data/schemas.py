"""The data contract: one pandera schema per canonical table.

These schemas are the single source of canonical column names, their types,
which are required, and the value checks. ``journeykit.data.loader`` maps a client's
columns onto them, casts on the engine, and validates with them.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field


def _import_pandera():
    """``pandera.pandas``, imported without pandera's optional PySpark
    integration: pandera imports ``pyspark.pandas`` whenever PySpark is
    installed (0.2–0.3 s in every process that loads data, a Spark JVM's
    worth of warnings on some versions), and journeykit validates pandas
    frames only. While pandera is imported, ``pyspark.pandas`` reads as
    missing; afterwards it imports as usual (the Spark engine does not use
    it either)."""
    if "pandera.pandas" in sys.modules or "pyspark.pandas" in sys.modules:
        import pandera.pandas as pandera_pandas
        return pandera_pandas
    sys.modules["pyspark.pandas"] = None  # type: ignore[assignment]
    try:
        import pandera.pandas as pandera_pandas
    finally:
        del sys.modules["pyspark.pandas"]
    return pandera_pandas


pa = _import_pandera()

STR = "str"
TS = "datetime64[us]"
FLOAT = "float64"
INT = "Int64"

# Columns that identify a person or carry free text. They are never loaded:
# a client column mapped to one of these is dropped at load and reported.
PII_COLUMNS = ("email", "name", "phone", "comment")

EVENT_TYPES = (
    "visit", "page_view", "product_view", "pricing_view", "add_to_cart",
    "checkout_start", "purchase", "payment_failed", "login", "feature_use",
    "review", "share", "referral",
)

PAYMENT_STATUSES = ("paid", "failed", "refunded", "pending", "cancelled")
"""Canonical ``orders.payment_status`` values. An empty status means the
export did not say the payment failed (see :mod:`journeykit.facts`)."""

CATEGORIES: dict[tuple[str, str], tuple[str, ...]] = {("orders", "payment_status"): PAYMENT_STATUSES}
"""Columns whose values carry a meaning, and their canonical values. The
client file maps its own values onto them (``data.tables.<table>.values``);
a value that is neither mapped nor a default below is a validation error."""

DEFAULT_VALUES: dict[tuple[str, str], dict[str, str]] = {
    ("orders", "payment_status"): {
        **dict.fromkeys(("paid", "success", "succeeded", "successful", "completed", "complete", "approved",
                         "captured", "settled"), "paid"),
        **dict.fromkeys(("failed", "failure", "fail", "declined", "error", "rejected", "denied"), "failed"),
        **dict.fromkeys(("refunded", "refund", "chargeback", "charged_back"), "refunded"),
        **dict.fromkeys(("pending", "processing", "authorized", "authorised", "awaiting_payment"), "pending"),
        **dict.fromkeys(("cancelled", "canceled", "void", "voided"), "cancelled"),
    },
}
"""Common English source values (compared lower-cased and trimmed) and
their canonical value; the client's own mapping wins over these."""


def _col(dtype: str, *checks: pa.Check, required: bool = False) -> pa.Column:
    return pa.Column(dtype, checks=list(checks), nullable=not required, required=required, coerce=False)


_NONNEG = pa.Check.ge(0)


TABLE_CHECK_COLUMNS: dict[str, tuple[str, ...]] = {"clicks_le_impressions": ("impressions", "clicks")}
"""The columns each table-wide check reads, by check name (earlier column
first: the order examples are shown in)."""


def _not_before(later: str, earlier: str) -> pa.Check:
    TABLE_CHECK_COLUMNS[f"{later}_not_before_{earlier}"] = (earlier, later)

    def check(df):
        if later not in df or earlier not in df:
            return True
        return df[later].isna() | df[earlier].isna() | (df[later] >= df[earlier])

    return pa.Check(check, name=f"{later}_not_before_{earlier}")


def _clicks_le_impressions(df):
    if "clicks" not in df or "impressions" not in df:
        return True
    return df["clicks"].isna() | df["impressions"].isna() | (df["clicks"] <= df["impressions"])


SCHEMAS: dict[str, pa.DataFrameSchema] = {
    "customers": pa.DataFrameSchema(
        {
            "customer_id": _col(STR, required=True),
            "signup_at": _col(TS, required=True),
            "acquisition_channel": _col(STR),
            "referred_by": _col(STR),
            "country": _col(STR),
            "plan": _col(STR),
            "segment": _col(STR),
        },
        name="customers", unique=["customer_id"],
    ),
    "marketing": pa.DataFrameSchema(
        {
            "date": _col(TS, required=True),
            "channel": _col(STR, required=True),
            "impressions": _col(FLOAT, _NONNEG, required=True),
            "clicks": _col(FLOAT, _NONNEG, required=True),
            "campaign": _col(STR),
            "spend": _col(FLOAT, _NONNEG),
            "conversions": _col(FLOAT, _NONNEG),
        },
        name="marketing",
        checks=[pa.Check(_clicks_le_impressions, name="clicks_le_impressions")],
    ),
    "events": pa.DataFrameSchema(
        {
            "occurred_at": _col(TS, required=True),
            "event_type": _col(STR, required=True),
            "customer_id": _col(STR),
            "visitor_id": _col(STR),
            "session_id": _col(STR),
            "channel": _col(STR),
            "device": _col(STR),
            "page": _col(STR),
            "duration_s": _col(FLOAT, _NONNEG),
            "feature": _col(STR),
            "value": _col(FLOAT),
        },
        name="events",
    ),
    "orders": pa.DataFrameSchema(
        {
            "customer_id": _col(STR, required=True),
            "ordered_at": _col(TS, required=True),
            "amount": _col(FLOAT, _NONNEG, required=True),
            "order_id": _col(STR),
            "currency": _col(STR),
            "channel": _col(STR),
            "device": _col(STR),
            "discount_code": _col(STR),
            "payment_status": _col(STR),
            "items": _col(FLOAT, _NONNEG),
        },
        name="orders", unique=["order_id"],
    ),
    "subscriptions": pa.DataFrameSchema(
        {
            "subscription_id": _col(STR, required=True),
            "customer_id": _col(STR, required=True),
            "started_at": _col(TS, required=True),
            "ended_at": _col(TS),
            "plan": _col(STR),
            "mrr": _col(FLOAT, _NONNEG),
            "status": _col(STR),
        },
        name="subscriptions", unique=["subscription_id"],
        checks=[_not_before("ended_at", "started_at")],
    ),
    "tickets": pa.DataFrameSchema(
        {
            "ticket_id": _col(STR, required=True),
            "customer_id": _col(STR, required=True),
            "created_at": _col(TS, required=True),
            "category": _col(STR),
            "channel": _col(STR),
            "resolved_at": _col(TS),
            "csat": _col(FLOAT, pa.Check.in_range(1, 5)),
        },
        name="tickets", unique=["ticket_id"],
        checks=[_not_before("resolved_at", "created_at")],
    ),
    "surveys": pa.DataFrameSchema(
        {
            "response_id": _col(STR, required=True),
            "responded_at": _col(TS, required=True),
            "customer_id": _col(STR),
            "touchpoint": _col(STR),
            "nps": _col(FLOAT, pa.Check.isin(list(range(11)))),
            "csat": _col(FLOAT, pa.Check.in_range(1, 5)),
            "has_comment": _col("bool"),
        },
        name="surveys", unique=["response_id"],
    ),
    "messages": pa.DataFrameSchema(
        {
            "customer_id": _col(STR, required=True),
            "campaign": _col(STR, required=True),
            "sent_at": _col(TS, required=True),
            "message_id": _col(STR),
            "channel": _col(STR),
            "opened_at": _col(TS),
            "clicked_at": _col(TS),
            "variant": _col(STR),
        },
        name="messages", unique=["message_id"],
        checks=[_not_before("opened_at", "sent_at"), _not_before("clicked_at", "sent_at")],
    ),
    "experiments": pa.DataFrameSchema(
        {
            "customer_id": _col(STR, required=True),
            "experiment": _col(STR, required=True),
            "variant": _col(STR, required=True),
            "assigned_at": _col(TS, required=True),
        },
        name="experiments", unique=["customer_id", "experiment"],
    ),
}


@dataclass(frozen=True)
class TableSpec:
    """What the loader needs to know about a canonical table beyond its schema."""

    time_column: str
    """The timestamp that places a row in a period."""
    later_columns: tuple[str, ...] = ()
    """Other timestamps, masked when they fall after the period end."""
    id_column: str | None = None
    """The row id; generated when the client has none (orders only)."""
    customer_keyed: bool = True
    """Rows name a customer that must exist in ``customers``."""
    # Check names (pandera's, or ours for table-wide checks) are worded for
    # people by journeykit.core.i18n.check_label.
    pii: tuple[str, ...] = field(default_factory=tuple)
    """Canonical PII columns a client may map; dropped at load."""


SPECS: dict[str, TableSpec] = {
    "customers": TableSpec("signup_at", customer_keyed=False, pii=("email", "name", "phone")),
    "marketing": TableSpec("date", customer_keyed=False),
    "events": TableSpec("occurred_at"),
    "orders": TableSpec("ordered_at", id_column="order_id"),
    "subscriptions": TableSpec("started_at", later_columns=("ended_at",)),
    "tickets": TableSpec("created_at", later_columns=("resolved_at",)),
    "surveys": TableSpec("responded_at", pii=("comment",)),
    "messages": TableSpec("sent_at", later_columns=("opened_at", "clicked_at")),
    "experiments": TableSpec("assigned_at"),
}

ID_COLUMNS = ("customer_id", "visitor_id", "session_id", "order_id", "subscription_id", "ticket_id",
              "response_id", "message_id", "referred_by", "currency")
"""Text columns that identify a record (or hold a code), not name a category:
loaded as they are; every other text column is a name a report may show,
and has personal data masked at load (:func:`journeykit.core.privacy.mask_sql`)."""


def shown_text_columns(table: str) -> list[str]:
    """The text columns of ``table`` whose values a report may show:
    channels, campaigns, pages, event types, plans, segments, …"""
    return [c for c in columns(table) if dtype(table, c) == STR and c not in ID_COLUMNS
            and (table, c) not in CATEGORIES]


# Columns computed at load rather than mapped from the client's file.
DERIVED_COLUMNS = {"surveys": {"has_comment": "comment"}}


def checked_columns(table: str) -> list[str]:
    """The columns of ``table`` whose values the contract checks: those
    with a column check (a range, allowed values) and those a table-wide
    check reads, in schema order."""
    schema = SCHEMAS[table]
    wide = {c for chk in schema.checks for c in TABLE_CHECK_COLUMNS[chk.name]}
    return [c for c, col in schema.columns.items() if col.checks or c in wide]


def columns(table: str) -> list[str]:
    """Canonical columns of ``table``, in schema order."""
    return list(SCHEMAS[table].columns)


def required_columns(table: str) -> list[str]:
    """Columns a client must supply for ``table``.

    ``events`` also needs one of ``customer_id`` or ``visitor_id``.
    """
    return [c for c, col in SCHEMAS[table].columns.items() if col.required]


def mappable_columns(table: str) -> list[str]:
    """Names a client file may use under ``columns:`` for ``table``."""
    derived = set(DERIVED_COLUMNS.get(table, {}))
    return [c for c in columns(table) if c not in derived] + list(SPECS[table].pii)


def dtype(table: str, column: str) -> str:
    """The kind of a canonical column: ``str``, ``float64``, ``datetime64`` or ``bool``."""
    name = str(SCHEMAS[table].columns[column].dtype).lower()
    for kind, marks in (("datetime64", ("datetime",)), ("str", ("str",)), ("bool", ("bool",))):
        if any(m in name for m in marks):
            return kind
    return "float64"
