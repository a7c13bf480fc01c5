"""journeykit.report: formatting, tables, section status and metrics.json."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import textwrap
from pathlib import Path

import jsonschema
import nbformat
import numpy as np
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from journeykit.core import config
from journeykit import report
from journeykit.run import runner
from journeykit.run.render import SectionResult

REPO = Path(__file__).resolve().parents[2]


def make_root(tmp_path: Path, extra: str = "", orders: bytes | None = None) -> Path:
    root = tmp_path / "project"
    (root / "params" / "clients").mkdir(parents=True)
    shutil.copy(REPO / "params" / "defaults.yaml", root / "params" / "defaults.yaml")
    (root / "params" / "clients" / "acme.yaml").write_text(textwrap.dedent("""
        name: "ACME <Coffee> & Co"
        data:
          source: data/acme
          tables:
            orders: {file: orders.csv}
        """) + textwrap.dedent(extra), encoding="utf-8")
    (root / "data" / "acme").mkdir(parents=True)
    (root / "data" / "acme" / "orders.csv").write_bytes(
        orders or b"customer_id,ordered_at,amount\nc1,2026-10-01,10\n")
    return root


@pytest.fixture
def cfg(tmp_path):
    return config.load("acme", "2026-10", root=make_root(tmp_path, "currency: KRW\n"))


class Displayed:
    """Stands in for IPython's display(): keeps what a notebook would show."""

    def __init__(self):
        self.items = []

    def __call__(self, *objs, raw=False, **kw):
        for o in objs:
            self.items.append((o, raw))


@pytest.fixture
def displayed(monkeypatch):
    d = Displayed()
    monkeypatch.setattr("IPython.display.display", d)
    return d


# --------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------

@pytest.mark.parametrize("fn, value, expected", [
    (report.fmt_int, 12345, "12,345"),
    (report.fmt_int, 1234.6, "1,235"),                 # rounded to the nearest whole
    (report.fmt_int, np.int64(7), "7"),
    (report.fmt_int, -1500, "-1,500"),
    (report.fmt_num, 1234.567, "1,234.6"),             # one decimal by default
    (report.fmt_pct, 0.1234, "12.3%"),                 # rates are 0–1; display ×100
    (report.fmt_pct, 0.75, "75.0%"),                   # 3 paid of 4 orders
    (report.fmt_pct, 1, "100.0%"),
    (report.fmt_pct, 0, "0.0%"),
    (report.fmt_date, pd.Timestamp("2026-10-05 13:45"), "2026-10-05"),
    (report.fmt_date, dt.date(2026, 10, 5), "2026-10-05"),
])
def test_number_percent_and_date_formats(fn, value, expected):
    assert fn(value) == expected


def test_digits_argument():
    assert report.fmt_num(2 / 3, 3) == "0.667"
    assert report.fmt_pct(0.00049, 2) == "0.05%"        # 0.049 % → 0.05 %


@pytest.mark.parametrize("value, currency, expected", [
    (1234567.891, "KRW", "₩1,234,568"),                 # no decimals for won
    (1234567.891, "USD", "$1,234,567.89"),
    (1000, "JPY", "¥1,000"),
    (-5, "USD", "-$5.00"),                              # sign before the symbol
    (5, "CHF", "CHF 5.00"),                             # no symbol known: the code
])
def test_money_format(value, currency, expected):
    assert report.fmt_money(value, currency) == expected


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, pd.NA, pd.NaT, np.float64("nan")])
def test_missing_values_show_a_dash(missing, cfg):
    for kind in ("int", "num", "pct", "money", "date", "text"):
        assert report.formatter(kind, cfg)(missing) == "–", kind


def test_formatter_uses_the_client_currency(cfg):
    assert report.formatter("money", cfg)(2500) == "₩2,500"


# --------------------------------------------------------------------------
# Tables and notes
# --------------------------------------------------------------------------

def test_table_cells_are_formatted_by_kind(cfg):
    df = pd.DataFrame({"channel": ["네이버", None], "orders": [1234, 5], "rate": [0.5, np.nan],
                       "revenue": [1_500_000, 0.0]})
    t = report.table(df, cfg, {"orders": "int", "rate": "pct", "revenue": "money"})
    assert t.cells().values.tolist() == [
        ["네이버", "1,234", "50.0%", "₩1,500,000"],
        ["–", "5", "–", "₩0"],
    ]


def test_table_html_escapes_client_strings_and_hides_the_index(cfg):
    df = pd.DataFrame({"campaign <b>": ["<script>alert(1)</script>", "A & B"], "n": [1, 2]},
                      index=["secret-index-1", "secret-index-2"])
    html = report.table(df, cfg, {"n": "int"}, caption="<i>cap</i>")._repr_html_()
    assert "<script>" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "A &amp; B" in html
    assert "campaign &lt;b&gt;" in html and "&lt;i&gt;cap&lt;/i&gt;" in html
    assert "secret-index" not in html
    assert '<td class="num">2</td>' in html and '<td class="txt">A &amp; B</td>' in html


def test_note_is_escaped():
    note = report.Note("<img src=x onerror=alert(1)>", "warn")
    assert note._repr_html_() == '<p class="jk-note jk-warn">&lt;img src=x onerror=alert(1)&gt;</p>'


# --------------------------------------------------------------------------
# Metrics: plain JSON, recorded as a custom MIME output, read back
# --------------------------------------------------------------------------

def test_jsonable_turns_numpy_and_pandas_into_plain_json():
    value = {
        "n": np.int64(3), "rate": np.float64(0.75), "flag": np.bool_(True), "nan": float("nan"),
        "inf": np.float64("inf"), "nat": pd.NaT, "na": pd.NA, "when": pd.Timestamp("2026-10-01 12:00"),
        "day": dt.date(2026, 10, 31), "arr": np.array([1, 2]), "nested": {1: [np.float32(0.5), None]},
        "text": "네이버",
    }
    out = report.jsonable(value)
    assert out == {
        "n": 3, "rate": 0.75, "flag": True, "nan": None, "inf": None, "nat": None, "na": None,
        "when": "2026-10-01T12:00:00", "day": "2026-10-31", "arr": [1, 2], "nested": {"1": [0.5, None]},
        "text": "네이버",
    }
    assert type(out["n"]) is int and type(out["rate"]) is float and type(out["flag"]) is bool
    json.dumps(out, allow_nan=False)                   # strict JSON: no NaN / Infinity


def test_jsonable_rejects_what_is_not_json():
    with pytest.raises(TypeError, match="object"):
        report.jsonable({"x": object()})


def test_record_notes_the_engine_the_kernel_opened(displayed, monkeypatch):
    from journeykit.data import dataset as io

    monkeypatch.setattr(io, "ENGINES_OPENED", {"spark"})
    assert report.record("30_purchase", {"orders": 1})["engine"] == "spark"
    monkeypatch.setattr(io, "ENGINES_OPENED", set())
    assert "engine" not in report.record("30_purchase", {"orders": 1})


def test_record_emits_the_metrics_mime_and_read_metrics_gets_them_back(displayed, monkeypatch):
    from journeykit.data import dataset as io

    monkeypatch.setattr(io, "ENGINES_OPENED", set())   # no dataset opened in this process
    data = report.record("30_purchase", {"conversion_rate": np.float64(0.75),   # 3 paid of 4 orders
                                         "orders": np.int64(4), "aov": float("nan")})
    timings = data.pop("timings")
    assert data == {"section": "30_purchase", "metrics": {"conversion_rate": 0.75, "orders": 4, "aov": None}}
    assert list(timings) == ["peak_memory_mb"]        # the kernel's peak memory, for run.json (not metrics.json)
    data["timings"] = timings
    [(bundle, raw)] = displayed.items
    assert raw is True
    assert bundle[report.METRICS_MIME] == data
    assert "text/plain" in bundle                     # something readable where the MIME is unknown

    # As the executed notebook stores it, through a JSON round trip:
    nb = new_notebook(cells=[new_code_cell("report.record(...)",
                                           outputs=[new_output("display_data", data=bundle)])])
    nbformat.validate(nb)
    nb = nbformat.reads(nbformat.writes(nb), as_version=4)
    assert report.read_metrics(nb) == {"conversion_rate": 0.75, "orders": 4, "aov": None}


def test_read_metrics_none_when_not_recorded_and_last_record_wins():
    assert report.read_metrics(new_notebook(cells=[new_code_cell("1 + 1")])) is None
    first = new_output("display_data", data={report.METRICS_MIME: {"section": "s", "metrics": {"a": 1}}})
    other = new_output("display_data", data={"text/plain": "hello"})
    last = new_output("display_data", data={report.METRICS_MIME: {"section": "s", "metrics": {"a": 2}}})
    nb = new_notebook(cells=[new_code_cell("x", outputs=[first]), new_code_cell("y", outputs=[other, last])])
    assert report.read_metrics(nb) == {"a": 2}


# --------------------------------------------------------------------------
# Section status
# --------------------------------------------------------------------------

def test_statuses():
    assert report.STATUSES == ("ok", "not_available", "failed")


# --------------------------------------------------------------------------
# metrics.json
# --------------------------------------------------------------------------

def results() -> list[SectionResult]:
    return [
        SectionResult("00_data_quality", "00 · Data quality", "ok",
                      metrics=report.jsonable({"tables_loaded": np.int64(4), "pii_columns_dropped": 2}), seconds=1.25),
        SectionResult("30_purchase", "30 · Purchase", "ok",
                      metrics=report.jsonable({"conversion_rate": 0.75,      # 3 paid of 4 orders
                                               "payment_success_rate": 2 / 3,  # 2 of 3 attempts
                                               "aov": float("nan")}), seconds=2.0),
        SectionResult("50_advocacy", "50 · Advocacy", "not_available", needs=["surveys"], seconds=0.5),
        SectionResult("70_prediction", "70 · Prediction", "failed", metrics={"partial": 1},
                      error="ValueError: boom", retried=True, seconds=3.0),
    ]


def test_metrics_document_matches_the_schema(cfg):
    doc = runner.metrics_document(cfg, results(), "2026-11-01T06:00:00+09:00")
    jsonschema.validate(doc, report.METRICS_SCHEMA)
    text = json.dumps(doc, allow_nan=False)           # raises on NaN / Infinity
    assert json.loads(text) == doc
    assert (doc["client"], doc["period"], doc["generated_at"]) == ("acme", "2026-10", "2026-11-01T06:00:00+09:00")
    s = doc["sections"]
    assert list(s) == ["00_data_quality", "30_purchase", "50_advocacy", "70_prediction"]
    assert {k: v["status"] for k, v in s.items()} == {
        "00_data_quality": "ok", "30_purchase": "ok", "50_advocacy": "not_available", "70_prediction": "failed"}
    # 10 significant digits: the 16th differs between two runs (parallel sums)
    assert s["30_purchase"]["metrics"] == {"conversion_rate": 0.75, "payment_success_rate": 0.6666666667, "aov": None}
    assert s["50_advocacy"]["metrics"] is None and s["50_advocacy"]["needs"] == ["surveys"]
    assert s["70_prediction"]["metrics"] is None      # a failed section's partial numbers are not published
    assert s["70_prediction"]["error"] == "ValueError: boom"
    assert "error" not in s["00_data_quality"]
    # how the run went (seconds, retries) is in run.json, not in metrics.json
    assert not any(k in sec for sec in s.values() for k in ("seconds", "retried", "timings"))


def test_run_document_holds_what_differs_from_run_to_run(cfg):
    result = runner.RunResult("acme", "2026-10", sections=results(), warnings=["no Chromium"], pdf_missing=True)
    result.sections[0].timings = {"fit_seconds": 0.5}
    doc = runner.run_document(cfg, result, "2026-11-01T06:00:00+09:00", jobs=2, seconds=12.345, render_seconds=1.0)
    assert doc["seconds"] == 12.35 and doc["jobs"] == 2 and doc["pdf"] is False and doc["warnings"] == ["no Chromium"]
    assert doc["sections"]["70_prediction"] == {"status": "failed", "seconds": 3.0, "retried": True}
    assert doc["sections"]["00_data_quality"] == {"status": "ok", "seconds": 1.25, "timings": {"fit_seconds": 0.5}}
    assert doc["pdf_prints"] == {}
    doc = runner.run_document(cfg, result, "x", jobs=1, seconds=1, render_seconds=1,
                              pdf_prints={"pdf_seconds": 2.345, "toc_seconds": 3.0})
    assert doc["pdf_prints"] == {"pdf_seconds": 2.35, "toc_seconds": 3.0}   # the second print numbers the contents


def test_rounded_keeps_whole_numbers_and_ten_significant_digits():
    from journeykit.report.results import rounded

    noisy = {"sd": [20252.83262968077, 20252.832629680775], "p": 0.025321525348389128, "n": 1500.0,
             "big": 109264097.87070101, "k": 3, "none": None, "tiny": 1.2345678901234e-30}
    r = rounded(noisy)
    assert r["sd"] == [20252.83263, 20252.83263]          # the two runs' values agree once rounded
    assert r["p"] == 0.02532152535 and r["big"] == 109264097.9
    assert r["n"] == 1500.0 and r["k"] == 3 and r["none"] is None   # whole numbers stay exact
    assert r["tiny"] == 1.23456789e-30


def test_rates_in_metrics_json_are_fractions(cfg):
    doc = runner.metrics_document(cfg, results(), "2026-11-01T06:00:00+09:00")

    def rates(node, path=""):
        if isinstance(node, dict):
            for k, v in node.items():
                yield from rates(v, f"{path}.{k}")
        elif path.endswith("_rate") and node is not None:
            yield path, node

    found = dict(rates(doc["sections"]))
    assert found == {".30_purchase.metrics.conversion_rate": 0.75,
                     ".30_purchase.metrics.payment_success_rate": 0.6666666667}   # 2 of 3, 10 digits
    assert all(0 <= v <= 1 for v in found.values())


@pytest.mark.parametrize("breakage", [
    lambda d: d["sections"]["00_data_quality"].update(status="error"),       # not a status
    lambda d: d["sections"]["00_data_quality"].update(metrics="4 tables"),   # metrics must be an object
    lambda d: d["sections"]["00_data_quality"].pop("status"),
    lambda d: d.update(period="2026-1"),
    lambda d: d.update(unexpected=True),                                     # top level is closed
    lambda d: d.pop("generated_at"),
])
def test_schema_rejects_broken_documents(cfg, breakage):
    doc = runner.metrics_document(cfg, results(), "2026-11-01T06:00:00+09:00")
    breakage(doc)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, report.METRICS_SCHEMA)


def test_schema_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(report.METRICS_SCHEMA)
    assert report.METRICS_SCHEMA["properties"]["sections"]["additionalProperties"]["properties"]["status"]["enum"] \
        == list(report.STATUSES)



def test_export_pseudonymizes_ids_and_writes_only_inside_a_run(tmp_path):
    import pandas as pd

    from journeykit.core import privacy
    from journeykit import report

    class Cfg:
        run = None                       # an analyst's notebook: no run context

        def secret(self):
            return b"k"

    class InRun(Cfg):
        run = config.RunContext(folder=tmp_path, exports=tmp_path / "exports", results=tmp_path / "r.json")

    df = pd.DataFrame({"customer_id": ["C1", "C2"], "clv": [10.0, 5.0]})
    assert report.export("top_clv", df, Cfg()) is None          # nothing written outside a run
    path = report.export("top_clv", df, InRun())
    assert path == tmp_path / "exports" / "top_clv.csv"
    out = pd.read_csv(path)
    assert out["customer_id"].tolist() == [privacy.pseudonym("C1", b"k"), privacy.pseudonym("C2", b"k")]
    assert "C1" not in path.read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="personal-data"):
        report.export("x", df.assign(email="a@b.c"), InRun())
    with pytest.raises(ValueError, match="name"):
        report.export("../escape", df, InRun())


def test_a_change_from_a_zero_or_tiny_base_is_not_a_percentage(cfg):
    # regression: "+83,420.9 %" from a base of almost nothing
    from journeykit.stats import compare

    assert report.fmt_delta(compare.value("x", 1000.0, 1.2), "int", cfg) == "+999"
    assert report.fmt_delta(compare.value("x", 5.0, 0.0), "int", cfg) == "+5"
    assert report.fmt_delta(compare.value("x", 150.0, 100.0), "int", cfg) == "+50.0%"
    assert report.fmt_delta(compare.value("x", 1100.0, 100.0), "num", cfg) == "+1,000.0%"   # ten-fold: still a %
    assert report.fmt_delta(compare.value("x", 1300.0, 100.0), "money", cfg) == "+₩1,200"  # beyond: the difference


def test_rates_shown_together_share_one_precision(cfg):
    # regression: "MRR churn moved from 3.07% to 20.3%": one sentence, two precisions
    from journeykit.stats import compare
    from journeykit.report.formats import pct_digits

    assert pct_digits([0.0307, 0.203]) == 2 and pct_digits([0.203, 0.19]) == 1 and pct_digits([None, 0.5]) == 1
    ch = compare.value("mrr_churn", 0.203, 0.0307)
    [sentence] = report.describe_changes([ch], {"mrr_churn": "MRR churn"}, {"mrr_churn": "pct"}, cfg)
    assert "from 3.07% to 20.30%" in sentence
    f = report.fmt_kpi("pct", cfg)                     # alone, each value keeps its own precision
    assert (f(0.0307), f(0.203)) == ("3.07%", "20.3%")
    row = report.kpi_table([ch], {"mrr_churn": "MRR churn"}, {"mrr_churn": "pct"}, cfg).df.iloc[0].tolist()
    assert row[1:3] == ["20.30%", "3.07%"]              # one row of the table: one precision
    wide = compare.value("churn", 0.203, 0.19)
    assert "from 19.0% to 20.3%" in report.describe_changes([wide], {"churn": "Churn"}, {"churn": "pct"}, cfg)[0]


def test_record_leaves_no_prev_numbers_when_the_comparison_precedes_the_data(displayed, monkeypatch):
    """Regression: sections that compute their ``_prev`` metrics apart from
    their changes (awareness, advocacy, segmentation) recorded 0 for a
    comparison month before the client's first data. When the changes say
    "no earlier data", every ``_prev`` number is recorded as null."""
    import datetime as dt

    from journeykit.core.periods import Period
    from journeykit.data import dataset as io
    from journeykit.stats import compare

    monkeypatch.setattr(io, "ENGINES_OPENED", set())
    c = compare.daily_count("visits", [3] * 31, [0] * 30)
    metrics = {"visits": 93, "visits_prev": 0, "funnel_prev": [{"step": "visit", "users": 0}], "ctr_prev": 0.0}
    kept = report.record("10_awareness", metrics, changes=[c])["metrics"]
    assert kept["visits_prev"] == 0                                   # data in the comparison month: as computed
    before = compare.before_data([c], Period.parse("2026-10"), dt.date(2026, 10, 2))
    got = report.record("10_awareness", metrics, changes=before)["metrics"]
    assert got == {"visits": 93, "visits_prev": None, "funnel_prev": [{"step": "visit", "users": 0}], "ctr_prev": None}
