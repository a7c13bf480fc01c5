"""``journeykit new-client``: a commented client file to start from."""

from __future__ import annotations

from pathlib import Path

from journeykit.core.config import check_client_name, client_path
from journeykit.core.errors import ConfigError

TEMPLATE = """\
# {client}: journeykit client file. Reference: README.md, "Client file".
# Every key not set here takes its value from params/defaults.yaml.
name: {name}                 # shown in reports; any Unicode
currency: {currency}                  # ISO 4217 code: KRW, USD, EUR, …
timezone: {timezone}           # IANA name; naive timestamps are read in this zone
language: {language}                   # ko | en: language of the report text

data:
  # A folder relative to the project root (CSV, Parquet, Excel files), or a
  # database URL understood by Ibis (e.g. duckdb:///path/to/file.db).
  source: data/{client}
  tables:
    # Map each export you have onto a canonical table. Only orders or
    # events are required; sections whose tables are missing say so.
    # `columns` maps canonical names (left) to your column names (right);
    # columns already named canonically need no entry.
    orders:
      file: orders.csv         # .csv (UTF-8 or CP949 detected), .parquet, .xlsx
      columns:
        customer_id: customer_id
        ordered_at: ordered_at
        amount: amount
      # date_format: "%d/%m/%Y %H:%M"   # only when timestamps are not ISO-like
      # values:                # what a payment-status column's values mean (common English ones need no entry;
      #   payment_status: {{결제완료: paid, 결제실패: failed, 환불: refunded}}   # an unknown value stops the run)
    # events:
    #   file: events.parquet
    #   columns: {{visitor_id: cookie, occurred_at: ts, event_type: name}}
    #   event_types: {{PDP: product_view, CART: add_to_cart}}
    # customers:
    #   file: customers.csv    # email / name / phone columns are never loaded

definitions:                   # business rules (defaults: params/defaults.yaml)
  churn_inactivity_days: 90
"""


def new_client(root: Path, client: str, *, name: str | None = None, language: str = "en") -> Path:
    """Write ``params/clients/<client>.yaml`` from the commented template.

    Refuses to overwrite an existing client file.
    """
    client = check_client_name(client)
    path = client_path(root, client)
    if path.exists():
        raise ConfigError(f"{path.relative_to(root)} already exists", fix="edit it, or choose another name")
    ko = language == "ko"
    text = TEMPLATE.format(
        client=client, name=_yaml_str(name or client), language=language,
        currency="KRW" if ko else "USD", timezone="Asia/Seoul" if ko else "UTC",
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _yaml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
