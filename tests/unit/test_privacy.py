"""Privacy: pseudonymous customer ids (keyed, stable, not reversible
without the key), and personal data masked in the names a client sends
(channels, campaigns, pages, event names) wherever they could reach a
report: at load, in tables, in recorded metrics and in exports."""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest

from journeykit.core import privacy


def test_known_value():
    # HMAC-SHA-256(key b"secret-1", message b"C0000001"), first 16 hex digits,
    # checked once with `python -c "import hmac, hashlib; ..."`.
    assert privacy.pseudonym("C0000001", b"secret-1") == "cx_e1095a063714e6a9"


def test_same_key_same_pseudonym_other_key_other_pseudonym():
    a = privacy.pseudonym("C0000001", b"k1")
    assert a == privacy.pseudonym("C0000001", b"k1")
    assert a != privacy.pseudonym("C0000001", b"k2")
    assert a != privacy.pseudonym("C0000002", b"k1")
    assert "C0000001" not in a and a.startswith("cx_") and len(a) == 3 + 16


def test_missing_ids_stay_missing_and_numbers_match_strings():
    s = privacy.pseudonymize(["7", 7, None, float("nan")], b"k")
    assert s[0] == s[1] and s[2] is None and s[3] is None


def test_frame_keeps_other_columns(tmp_path):
    class Cfg:
        def secret(self):
            return b"k"

    df = pd.DataFrame({"customer_id": ["a", "b"], "clv": [1.0, 2.0]})
    out = privacy.pseudonymize_frame(df, Cfg())
    assert out["clv"].tolist() == [1.0, 2.0]
    assert out["customer_id"].tolist() == [privacy.pseudonym("a", b"k"), privacy.pseudonym("b", b"k")]
    assert df["customer_id"].tolist() == ["a", "b"]  # the input is not changed


# --------------------------------------------------------------------------
# Personal data in names
# --------------------------------------------------------------------------

MASKED = [
    # (a client's name, what a report shows)
    ("search?email=kim.minsu@example.com", "search"),                 # a channel with a URL query: the query goes
    ("/pricing?utm_source=crm&uid=42", "/pricing"),                   # any query: ids, tokens, tracking
    ("APP_OPEN?email=a@b.co&tel=010-1234-5678", "APP_OPEN"),          # an event name
    ("welcome 010-1234-5678", "welcome [phone]"),                     # Korean mobile
    ("VIP 고객 010.1234.5678", "VIP 고객 [phone]"),                     # dots, after Hangul
    ("환영01012345678", "환영[phone]"),                                  # no separators
    ("store 02-123-4567", "store [phone]"),                           # Seoul landline
    ("call (031) 123-4567", "call [phone]"),
    ("call +82 10-1234-5678 now", "call [phone] now"),                # international forms
    ("+1 (415) 555-0100", "[phone]"),
    ("+44 20 7946 0958", "[phone]"),
    ("+33 1 23 45 67 89", "[phone]"),
    ("415-555-0100", "[phone]"),
    ("newsletter kim.minsu@example.com", "newsletter [email]"),
    ("kim%40example.com", "[email]"),                                 # URL-encoded @
    ("/menu?utm_source=crm&contact=+82 10-2468-1357", "/menu"),       # a phone with spaces inside a query
    ("?email=x@y.z", "[removed]"),                                    # nothing but a query
]
KEPT = ["search", "/product/house-blend", "newsletter_2026-10", "2026-10-15", "summer sale 2026", "plan 100",
        "1,000,000", "10.000.000", "v2.3.1", "sale? yes", "ab-123-4567", "black_friday_2026", "네이버 검색"]


@pytest.mark.parametrize("text,shown", MASKED)
def test_personal_data_in_a_name_is_masked(text, shown):
    assert privacy.mask_text(text) == shown


@pytest.mark.parametrize("text", KEPT)
def test_names_without_personal_data_are_kept(text):
    assert privacy.mask_text(text) == text


def test_the_load_and_python_mask_alike():
    # the loader masks with DuckDB (RE2), the report's guards with Python's re: one set of patterns
    con = duckdb.connect()
    for text, _ in MASKED + [(k, k) for k in KEPT]:
        sql = con.execute(f"SELECT CASE WHEN {privacy.hint_sql('v')} THEN {privacy.mask_sql('v')} ELSE v END "
                          "FROM (SELECT ? AS v)", [text]).fetchone()[0]
        assert sql == privacy.mask_text(text), text


def test_mask_values_and_frames():
    doc = {"top_channel": "search?email=a@b.co", "by_campaign": {"welcome 010-1234-5678": 0.5}, "n": 3,
           "list": ["x", "kim@example.com"]}
    assert privacy.mask_values(doc) == {"top_channel": "search", "by_campaign": {"welcome [phone]": 0.5}, "n": 3,
                                        "list": ["x", "[email]"]}
    df = pd.DataFrame({"customer_id": ["kim@example.com"], "campaign": ["welcome 010-1234-5678"], "n": [1]})
    out = privacy.mask_frame(df, skip=["customer_id"])
    assert out.to_dict("list") == {"customer_id": ["kim@example.com"], "campaign": ["welcome [phone]"], "n": [1]}
    assert df["campaign"].tolist() == ["welcome 010-1234-5678"]   # the input is not changed


CLIENT = """
name: Masked
currency: KRW
timezone: Asia/Seoul
language: en
data:
  source: data/acme
  tables:
    orders: {file: orders.csv}
    events: {file: events.csv, event_types: {PDP: product_view}}
    messages: {file: messages.csv}
"""


def _project(tmp_path):
    import shutil
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    root = tmp_path / "project"
    (root / "params" / "clients").mkdir(parents=True)
    shutil.copy(repo / "params" / "defaults.yaml", root / "params" / "defaults.yaml")
    (root / "params" / "clients" / "acme.yaml").write_text(CLIENT, encoding="utf-8")
    data = root / "data" / "acme"
    data.mkdir(parents=True)
    (data / "orders.csv").write_text(
        "customer_id,ordered_at,amount,channel\n"
        "kim@example.com,2026-10-01,10,search?email=kim@example.com\n"      # the id is an address: kept (ids are hashed)
        "c2,2026-10-02,20,search\n"
        "c3,2026-10-03,30,VIP 010-1234-5678\n", encoding="utf-8")
    (data / "events.csv").write_text(
        "customer_id,occurred_at,event_type,page\n"
        "c2,2026-10-02 10:00,PDP,/beans?email=kim@example.com\n"
        "c2,2026-10-02 10:01,APP_OPEN?tel=010-1234-5678,/beans\n", encoding="utf-8")
    (data / "messages.csv").write_text(
        "customer_id,campaign,sent_at\nc2,welcome 010-9876-5432,2026-10-01\nc3,welcome,2026-10-01\n",
        encoding="utf-8")
    return root


def test_the_loader_masks_names_and_counts_it_as_a_repair(tmp_path):
    from journeykit.core import config
    from journeykit.data import loader

    root = _project(tmp_path)
    with loader.load(config.load("acme", "2026-10", root=root)) as ds:
        orders = ds.raw("orders").to_pandas().sort_values("amount")
        assert orders["channel"].tolist() == ["search", "search", "VIP [phone]"]   # the first two are one channel now
        assert orders["customer_id"].tolist()[0] == "kim@example.com"
        events = ds.raw("events").to_pandas().sort_values("occurred_at")
        assert events["page"].tolist() == ["/beans", "/beans"]
        assert events["event_type"].tolist() == ["product_view", "APP_OPEN"]        # mapped on the raw name, then masked
        assert ds.report.tables["events"].unmapped_event_types == {"APP_OPEN": 1}
        assert sorted(ds.raw("messages").to_pandas()["campaign"]) == ["welcome", "welcome [phone]"]
        repairs = {(t, r.detail): r.rows for t, load in ds.report.tables.items() for r in load.repairs
                   if r.kind == "masked_personal_data"}
        assert repairs == {("orders", "channel"): 2, ("events", "page"): 1, ("events", "event_type"): 1,
                           ("messages", "campaign"): 1}
        cache = ds.path
    blobs = b"".join(p.read_bytes() for p in cache.rglob("*") if p.is_file())
    for planted in (b"010-1234-5678", b"010-9876-5432", b"email=kim"):
        assert planted not in blobs


def test_tables_metrics_and_exports_mask_names_that_reach_them(tmp_path):
    from journeykit import report
    from journeykit.core import config

    root = _project(tmp_path)
    cfg = config.load("acme", "2026-10", root=root)
    df = pd.DataFrame({"campaign": ["welcome 010-1234-5678", "search?email=a@b.co"], "sent": [3, 4]})
    html = report.table(df, cfg, {"sent": "int"})._repr_html_()
    assert "010-1234-5678" not in html and "a@b.co" not in html and "welcome [phone]" in html

    from IPython.display import display  # noqa: F401  (record displays its payload)

    data = report.record("10_x", {"top": "welcome 010-1234-5678", "by": {"kim@example.com": 1}})
    assert json.dumps(data).count("[phone]") == 1 and "kim@example.com" not in json.dumps(data)

    run = cfg.model_copy(update={"run": config.RunContext(folder=tmp_path, exports=tmp_path / "exports",
                                                          results=tmp_path / "r.json")})
    path = report.export("list", pd.DataFrame({"customer_id": ["c1"], "note": ["call +82 10-1234-5678"]}), run)
    text = path.read_text(encoding="utf-8")
    assert "call [phone]" in text and "+82" not in text
    # the id is pseudonymized (not "c1 appears nowhere": a keyed hash may hold those two characters)
    assert pd.read_csv(path, dtype=str)["customer_id"].tolist() == [privacy.pseudonym("c1", cfg.secret())]


def test_prediction_target_lists_fold_groups_fewer_than_k_rows_carry():
    from journeykit import facts
    from journeykit.sections.prediction.compute import fold_rare_drivers

    rows = [[("channel", "search"), ("recency_days", 40.0)]] * 5 + [[("channel", "VIP [phone]")]] * 2 \
        + [[("tickets_cat_refund", 2.0)]] * 2 + [[("tickets_cat_delivery", 1.0)]] * 5
    out = fold_rare_drivers(rows, k=5)
    assert out[0] == [("channel", "search"), ("recency_days", 40.0)]      # 5 rows: kept
    assert out[5] == [("channel", facts.OTHER)]                           # 2 rows: folded
    assert out[7] == [("tickets_cat_" + facts.OTHER, 2.0)]                # a ticket category in a feature's name
    assert out[9] == [("tickets_cat_delivery", 1.0)]
