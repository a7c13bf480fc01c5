"""journeykit.sections.registry: every section declared once, and used by
the runner, the notebooks, the e2e tests and the README."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pytest

from journeykit.core import config
from journeykit.core.errors import SectionNotAvailable
from journeykit.data import loader as io
from journeykit import report
from journeykit.sections import registry

from test_report import Displayed, make_root  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def displayed(monkeypatch):
    d = Displayed()
    monkeypatch.setattr("IPython.display.display", d)
    return d


def test_every_section_has_one_notebook_and_every_notebook_one_section():
    notebooks = sorted(p.stem for p in (REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert notebooks == [s.name for s in registry.SECTIONS]       # the registry is in notebook order
    for s in registry.SECTIONS:
        assert importlib.import_module(f"journeykit.sections.{s.package}.compute")
        assert s.headline in s.stable_keys, s.name


def test_missing_reads_tables_and_columns():
    retention = registry.get("40_retention")                       # orders, or events with a customer id
    assert retention.missing({"orders": {"customer_id"}}) == []
    assert retention.missing({"events": {"customer_id", "event_type"}}) == []
    assert retention.missing({"events": {"visitor_id"}}) == ["orders", "events.customer_id"]
    purchase = registry.get("30_purchase")
    assert purchase.missing({"events": {"customer_id"}}) == ["orders"]
    assert registry.get("90_summary").missing({}) == []
    assert registry.get("nope") is None


def test_null_metrics_keep_every_stable_key():
    assert registry.get("30_purchase").null_metrics() == {
        k: None for key in registry.get("30_purchase").stable_keys for k in (key, f"{key}_prev")}
    assert registry.get("55_campaigns").null_metrics() == {"campaigns": None, "experiments": None}
    churn = registry.get("70_prediction").null_metrics()["churn"]
    assert churn["status"] == "not_available" and churn["roc_auc"] is None
    # each key gets its own dict (a caller filling one must not fill the others)
    m = registry.get("70_prediction").null_metrics()
    m["churn"]["reason"] = "x"
    assert "reason" not in m["upsell"]


def test_needs_text_names_tables_and_columns_in_the_client_language():
    assert registry.needs_text(["orders", "events.customer_id"], "en") == "orders, events (customer_id)"
    assert "주문" in registry.needs_text(["orders"], "ko")


def test_require_passes_when_needs_are_met_and_stops_with_a_note_and_null_keys_when_not(tmp_path, displayed):
    cfg = config.load("acme", "2026-10", root=make_root(tmp_path))
    with io.load(cfg) as ds:
        assert registry.require(cfg, ds, "30_purchase") is None
        assert displayed.items == []
        with pytest.raises(SectionNotAvailable) as info:
            registry.require(cfg, ds, "50_advocacy")
    assert str(info.value) == "needs: surveys"
    (note, _), (recorded, raw) = displayed.items
    assert isinstance(note, report.Note) and note.kind == "warn"
    assert note.text.startswith("This section needs the surveys table(s), which ACME <Coffee> & Co has not supplied.")
    assert "ACME &lt;Coffee&gt; &amp; Co" in note._repr_html_()
    assert raw and recorded[report.METRICS_MIME]["metrics"] == registry.get("50_advocacy").null_metrics()


def test_the_readme_metrics_reference_lists_every_stable_key():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    ref = readme[readme.index("## Metrics reference"):]
    ref = ref[:ref.index("\n## ", 5)]
    for s in registry.SECTIONS:
        if s.name in ("00_data_quality", "90_summary"):
            continue
        for key in s.stable_keys:
            assert re.search(rf"`{key}`", ref), f"README's metrics reference lacks {s.name}.{key}"


def test_the_metrics_schema_documents_what_a_run_writes():
    # currency and time zone give money and months their unit
    props = report.METRICS_SCHEMA["properties"]
    assert {"currency", "timezone"} <= set(props)
    json.dumps(report.METRICS_SCHEMA)
