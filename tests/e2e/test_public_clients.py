"""Foreign data: public data sets that ship inside packages journeykit
already depends on, each mapped as a client with its own file format and
column names, rendered end to end. Nobody on the team wrote this data, and
it lacks most of what the demo always has.

- ``cdnow``: the CDNOW sample (lifetimes; 2,357 customers of an online CD
  store, 1997-01 to 1998-06): orders only, whitespace-separated, dates as
  ``YYYYMMDD``, no order id, status, channel, device or discount code.
- ``txlog``: lifetimes' example transaction log (5,000 customers, 2014): a
  file of customer id and date only, taken as purchase events: an
  events-only client whose orders are derived from them, without amounts.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from journeykit.run import cli
from journeykit.sections import registry

REPO = Path(__file__).resolve().parents[2]


def _lifetimes_data() -> Path:
    import lifetimes

    return Path(lifetimes.__file__).parent / "datasets"


def _project(tmp: Path) -> Path:
    (tmp / "params" / "clients").mkdir(parents=True)
    shutil.copy(REPO / "params" / "defaults.yaml", tmp / "params" / "defaults.yaml")
    shutil.copytree(REPO / "notebooks", tmp / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    (tmp / "reports").mkdir()
    return tmp


def _cdnow(project: Path) -> None:
    folder = project / "data" / "cdnow"
    folder.mkdir(parents=True)
    with open(_lifetimes_data() / "CDNOW_sample.txt", encoding="ascii") as fin, \
            open(folder / "purchases.csv", "w", newline="", encoding="utf-8") as fout:
        out = csv.writer(fout)
        out.writerow(["cust", "store", "yyyymmdd", "cds", "usd"])
        for line in fin:
            if line.strip():
                out.writerow(line.split())        # the same file, comma-separated: nothing else changes
    (project / "params" / "clients" / "cdnow.yaml").write_text(
        "name: CDNOW (public sample)\ncurrency: USD\ntimezone: America/New_York\nlanguage: en\n"
        "data:\n  source: data/cdnow\n  tables:\n    orders:\n      file: purchases.csv\n"
        "      columns: {customer_id: cust, ordered_at: yyyymmdd, amount: usd, items: cds}\n"
        "      date_format: '%Y%m%d'\n", encoding="utf-8")


def _txlog(project: Path) -> None:
    folder = project / "data" / "txlog"
    folder.mkdir(parents=True)
    shutil.copy(_lifetimes_data() / "example_transactions.csv", folder / "transactions.csv")
    (project / "params" / "clients" / "txlog.yaml").write_text(
        "name: Transaction log (public example)\ncurrency: EUR\ntimezone: Europe/Berlin\nlanguage: ko\n"
        "data:\n  source: data/txlog\n  tables:\n    events:\n      file: transactions.csv\n"
        "      columns: {customer_id: id, occurred_at: date}\n      event_type: purchase\n", encoding="utf-8")


@pytest.fixture(scope="module")
def public(tmp_path_factory) -> Path:
    project = _project(tmp_path_factory.mktemp("public"))
    _cdnow(project)
    _txlog(project)
    return project


def _run(project: Path, client: str, period: str) -> dict:
    rc = cli.main(["--root", str(project), "run", "--client", client, "--period", period, "--jobs", "2",
                   "--set", "report.pdf=false"])
    doc = json.loads((project / "reports" / client / period / "metrics.json").read_text(encoding="utf-8"))
    failed = {k: v.get("error") for k, v in doc["sections"].items() if v["status"] == "failed"}
    assert rc == 0 and not failed, failed
    for section in registry.SECTIONS:
        sec = doc["sections"][section.name]
        missing = [k for k in section.keys() if k not in (sec["metrics"] or {})]
        assert not missing, f"{client} {section.name} lacks {missing}"
    return doc


@pytest.mark.e2e
def test_cdnow_orders_only_renders_every_section_ok_or_not_available(public):
    doc = _run(public, "cdnow", "1998-06")
    status = {k: v["status"] for k, v in doc["sections"].items()}
    assert status == {"00_data_quality": "ok", "10_awareness": "not_available", "20_consideration": "not_available",
                      "30_purchase": "ok", "40_retention": "ok", "50_advocacy": "not_available",
                      "55_campaigns": "not_available", "60_segmentation": "ok", "70_prediction": "ok",
                      "80_ltv": "ok", "90_summary": "ok"}
    assert doc["currency"] == "USD" and doc["timezone"] == "America/New_York"
    out = public / "reports" / "cdnow" / "1998-06"
    ran = json.loads((out / "run.json").read_text(encoding="utf-8"))["sections"]
    needs = {"10_awareness": ["marketing"], "20_consideration": ["events"], "50_advocacy": ["surveys"],
             "55_campaigns": ["messages", "experiments"]}
    for section, tables in needs.items():
        sec = doc["sections"][section]
        assert sec["needs"] == tables, section
        # the stable keys are still there, as null
        assert sec["metrics"] == registry.get(section).null_metrics(), section
        # decided from the registry before any kernel started: no notebook was executed
        assert ran[section]["seconds"] == 0 and not (out / "notebooks" / f"{section}.ipynb").exists(), section
        page = (out / f"{section}.html").read_text(encoding="utf-8")
        assert "Not available for this client" in page and tables[0] in page
    assert doc["sections"]["30_purchase"]["metrics"]["orders"] > 0
    assert doc["sections"]["40_retention"]["metrics"]["mau"] > 0
    # no discount codes: the share is unknown (it used to break the churn model with an all-missing feature)
    assert doc["sections"]["30_purchase"]["metrics"]["discount_order_share"] is None
    assert doc["sections"]["70_prediction"]["metrics"]["churn"]["status"] in ("ok", "not_available")


@pytest.mark.e2e
def test_a_transaction_log_without_amounts_is_an_events_only_client(public):
    doc = _run(public, "txlog", "2014-12")
    sections = doc["sections"]
    assert sections["30_purchase"]["status"] == "ok"
    purchase = sections["30_purchase"]["metrics"]
    assert purchase["orders"] > 0 and purchase["revenue"] is None      # counts only: amounts are unknown
    assert sections["40_retention"]["status"] == "ok" and sections["40_retention"]["metrics"]["mau"] > 0
    page = (public / "reports" / "txlog" / "2014-12" / "00_data_quality.html").read_text(encoding="utf-8")
    assert "주문 테이블이 없어" in page                                     # says where orders came from, in Korean
