"""journeykit.run.runner: section order, statuses, publishing, exit codes.

The sections are throw-away notebooks written here (a few lines each), run
by papermill in a real kernel against a one-file client.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import textwrap
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from journeykit.run import cli
from journeykit.run import runner

REPO = Path(__file__).resolve().parents[2]

RECORD_OK = """\
from journeykit import report
report.record("00_ok", {"conversion_rate": 0.75, "orders": 3});  # 3 paid of 4 orders
"""
NOT_AVAILABLE = """\
from journeykit.core.errors import SectionNotAvailable
raise SectionNotAvailable("needs table(s): surveys, tickets")
"""
# Fails only while a FAIL file sits in the project folder (the run's resolved configuration names it).
FAILS_ON_FLAG = """\
import journeykit as jk
if (jk.config.load(client, period, resolved=run_config).root / "FAIL").exists():
    raise ValueError("boom from the flag")
from journeykit import report
report.record("20_flag", {"x": 1});
"""
NO_METRICS = """\
x = 1 + 1
"""


def write_notebook(path: Path, title: str, code: str) -> None:
    nb = new_notebook(cells=[
        new_markdown_cell(f"# {title}"),
        new_code_cell('client: str = "demo"\nperiod: str = "2026-01"\nrun_config: str = ""',
                      metadata={"tags": ["parameters"]}),
        new_code_cell(code),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def make_project(tmp_path: Path, notebooks: dict[str, tuple[str, str]]) -> Path:
    root = tmp_path / "project"
    (root / "params" / "clients").mkdir(parents=True)
    shutil.copy(REPO / "params" / "defaults.yaml", root / "params" / "defaults.yaml")
    (root / "params" / "clients" / "acme.yaml").write_text(textwrap.dedent("""
        name: ACME
        data:
          source: data/acme
          tables:
            orders: {file: orders.csv}
        report:
          pdf: false
        """), encoding="utf-8")
    (root / "data" / "acme").mkdir(parents=True)
    (root / "data" / "acme" / "orders.csv").write_bytes(b"customer_id,ordered_at,amount\nc1,2026-09-01,10\n"
                                                        b"c1,2026-10-15,12\n")
    (root / "notebooks").mkdir()
    for name, (title, code) in notebooks.items():
        write_notebook(root / "notebooks" / f"{name}.ipynb", title, code)
    return root


# --------------------------------------------------------------------------
# Section order
# --------------------------------------------------------------------------

def test_sections_are_ordered_by_numeric_prefix(tmp_path):
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    for name in ["90_summary", "10_awareness", "00_data_quality", "55_campaigns", "40_retention",
                 "5_no_two_digits", "notes", "100_three_digits", "x10_prefixed"]:
        (nbdir / f"{name}.ipynb").write_text("{}", encoding="utf-8")
    (nbdir / "40_retention.txt").write_text("", encoding="utf-8")
    names = [p.stem for p in runner.notebooks(tmp_path)]
    assert names == ["00_data_quality", "10_awareness", "40_retention", "55_campaigns", "90_summary"]
    # --sections picks by prefix and keeps the report order, not the order asked
    assert [p.stem for p in runner.notebooks(tmp_path, ["90", "00"])] == ["00_data_quality", "90_summary"]
    assert [p.stem for p in runner.notebooks(tmp_path, ["40_retention"])] == ["40_retention"]
    assert runner.notebooks(tmp_path, ["77"]) == []


# --------------------------------------------------------------------------
# A run, then a failing run: the good report stays
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    root = make_project(tmp_path_factory.mktemp("runner"), {
        "20_flag": ("Twenty", FAILS_ON_FLAG),
        "00_ok": ("Zero", RECORD_OK),
        "10_na": ("Ten", NOT_AVAILABLE),
        "30_no_metrics": ("Thirty", NO_METRICS),
    })
    messages: list[str] = []
    result = runner.run("acme", "2026-10", root=root, sections=["00", "10", "20"], progress=messages.append)
    return root, result, messages


def test_run_records_each_section_status(first_run):
    root, result, messages = first_run
    assert result.error is None and result.ok and result.published
    assert [(s.name, s.status) for s in result.sections] == [
        ("00_ok", "ok"), ("10_na", "not_available"), ("20_flag", "ok")]   # prefix order
    ok, na, flag = result.sections
    assert ok.title == "Zero" and ok.metrics == {"conversion_rate": 0.75, "orders": 3}
    assert na.metrics is None and na.needs == ["surveys", "tickets"] and na.error is None
    assert flag.metrics == {"x": 1}

    target = root / "reports" / "acme" / "2026-10"
    assert result.report_dir == target
    doc = json.loads((target / "metrics.json").read_text(encoding="utf-8"))
    assert {k: (v["status"], v["metrics"]) for k, v in doc["sections"].items()} == {
        "00_ok": ("ok", {"conversion_rate": 0.75, "orders": 3}),
        "10_na": ("not_available", None),
        "20_flag": ("ok", {"x": 1}),
    }
    assert doc["sections"]["10_na"]["needs"] == ["surveys", "tickets"]
    assert sorted(p.name for p in target.iterdir()) == [
        "00_ok.html", "10_na.html", "20_flag.html", "index.html", "metrics.json", "notebooks", "run.json",
        "run.log"]   # pdf: false
    assert sorted(p.name for p in (target / "notebooks").iterdir()) == ["00_ok.ipynb", "10_na.ipynb", "20_flag.ipynb"]
    # the executed notebook got the run's parameters
    executed = nbformat.read(target / "notebooks" / "00_ok.ipynb", as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and 'client = "acme"' in injected[0].source and 'period = "2026-10"' in injected[0].source
    # the not-available page says what is missing
    assert "surveys, support tickets" in (target / "10_na.html").read_text(encoding="utf-8")
    # nothing half-written left beside the report
    assert [p.name for p in (root / "reports" / "acme").iterdir()] == ["2026-10"]
    assert any("[1/3] 00_ok" in m for m in messages) and any("[3/3] 20_flag ok" in m for m in messages)


def test_failed_run_never_replaces_a_good_report(first_run, capsys):
    root, _, _ = first_run
    target = root / "reports" / "acme" / "2026-10"
    # run.log is the operations log: a failed run adds its lines there, the report itself is untouched
    good = {p.relative_to(target): p.read_bytes() for p in target.rglob("*") if p.is_file() and p.name != "run.log"}

    (root / "FAIL").touch()   # outside the report's inputs: --force, or the run is skipped as up to date
    try:
        code = cli.main(["--root", str(root), "run", "--client", "acme", "--period", "2026-10", "--sections", "20",
                         "--force"])
    finally:
        (root / "FAIL").unlink()
    err = capsys.readouterr().err
    assert code == cli.EXIT_FAILED == 1
    failed = root / "reports" / "acme" / "_failed" / "2026-10"
    assert "the previous good report is untouched" in err and str(failed) in err
    # the good report is byte for byte what it was
    assert {p.relative_to(target): p.read_bytes() for p in target.rglob("*") if p.is_file() and p.name != "run.log"} == good
    assert "finished with failures" in (target / "run.log").read_text(encoding="utf-8")
    # the failed run is kept for inspection
    doc = json.loads((failed / "metrics.json").read_text(encoding="utf-8"))
    assert doc["sections"]["20_flag"]["status"] == "failed"
    assert doc["sections"]["20_flag"]["metrics"] is None
    assert doc["sections"]["20_flag"]["error"] == "ValueError: boom from the flag"
    assert (failed / "notebooks" / "20_flag.ipynb").exists()
    page = (failed / "20_flag.html").read_text(encoding="utf-8")
    assert "could not be produced" in page and "Traceback" not in page
    assert sorted(p.name for p in (root / "reports" / "acme").iterdir()) == ["2026-10", "_failed"]


def test_first_report_of_a_period_is_published_even_with_a_failure_then_replaced(first_run, capsys):
    root, _, _ = first_run
    target = root / "reports" / "acme" / "2026-09"

    # No report for 2026-09 yet: the failing run is published (better than nothing), exit 1.
    code = cli.main(["--root", str(root), "run", "--client", "acme", "--period", "2026-09", "--sections", "30"])
    err = capsys.readouterr().err
    assert code == 1
    assert "report with failed sections" in err
    doc = json.loads((target / "metrics.json").read_text(encoding="utf-8"))
    assert doc["period"] == "2026-09"
    assert doc["sections"]["30_no_metrics"]["status"] == "failed"
    assert "did not record its metrics" in doc["sections"]["30_no_metrics"]["error"]
    assert not (root / "reports" / "acme" / "_failed" / "2026-09").exists()

    # Once the section is fixed, a good run replaces the report that had it failed, exit 0.
    write_notebook(root / "notebooks" / "30_no_metrics.ipynb", "Thirty", RECORD_OK.replace("00_ok", "30_no_metrics"))
    code = cli.main(["--root", str(root), "run", "--client", "acme", "--period", "2026-09", "--sections", "30"])
    out = capsys.readouterr().out
    assert code == cli.EXIT_OK == 0
    assert f"report: {target}/index.html" in out
    doc = json.loads((target / "metrics.json").read_text(encoding="utf-8"))
    assert list(doc["sections"]) == ["30_no_metrics"] and doc["sections"]["30_no_metrics"]["status"] == "ok"
    assert "could not be produced" not in (target / "30_no_metrics.html").read_text(encoding="utf-8")


def test_input_errors_stop_before_any_section(tmp_path):
    root = make_project(tmp_path, {"00_ok": ("Zero", RECORD_OK)})
    (root / "data" / "acme" / "orders.csv").write_bytes(b"customer_id,ordered_at,amount\nc1,2026-09-01,ten\n")
    result = runner.run("acme", "2026-10", root=root, progress=lambda m: None)
    assert result.sections == [] and not result.published and not result.ok
    assert "column 'amount'" in result.error and "fix:" in result.error
    assert not (root / "reports").exists() or not any((root / "reports").rglob("*"))


def test_no_notebooks_is_an_error(tmp_path):
    root = make_project(tmp_path, {})
    result = runner.run("acme", "2026-10", root=root, progress=lambda m: None)
    assert result.error and "no section notebook in" in result.error
    assert not result.ok


# --------------------------------------------------------------------------
# Parallel sections
# --------------------------------------------------------------------------

SUMMARY_READS_OTHERS = """\
import journeykit as jk
cfg = jk.config.load(client, period, resolved=run_config)
seen = jk.report.run_results(cfg)
jk.report.record("90_summary", {"saw": sorted(k for k, v in seen.items() if v["status"] == "ok")})
"""


def test_jobs_run_independent_sections_in_parallel_then_the_summary(tmp_path):
    record = lambda name: (  # noqa: E731
        "import journeykit as jk\n"
        f"jk.report.record('{name}', {{'x': 1}})\n")
    root = make_project(tmp_path, {
        "00_a": ("A", record("00_a")), "10_b": ("B", record("10_b")), "20_c": ("C", record("20_c")),
        "90_summary": ("Summary", SUMMARY_READS_OTHERS),
    })
    result = runner.run("acme", "2026-10", root=root, jobs=2, progress=lambda _m: None)
    assert result.ok, [(s.name, s.error) for s in result.sections]
    assert [s.name for s in result.sections] == ["00_a", "10_b", "20_c", "90_summary"]  # report order kept
    summary = result.sections[-1]
    assert summary.metrics == {"saw": ["00_a", "10_b", "20_c"]}  # it ran after all of them
    assert all(s.metrics == {"x": 1} for s in result.sections[:3])


def test_longest_expected_sections_start_first(tmp_path):
    from journeykit.core import config

    root = make_project(tmp_path, {"00_a": ("A", RECORD_OK), "10_b": ("B", RECORD_OK)})
    cfg = config.load("acme", "2026-10", root=root)
    paths = [Path(f"{n}.ipynb") for n in ("00_data_quality", "40_retention", "70_prediction", "90_summary")]
    # no earlier report: the model and full-scan sections rank first, prediction above retention
    est = runner.expected_seconds(cfg, paths)
    assert est["70_prediction"] > est["40_retention"] > est["00_data_quality"] == 0
    # with a report of the client, its measured seconds decide
    prev = root / "reports" / "acme" / "2026-09"
    prev.mkdir(parents=True)
    (prev / "metrics.json").write_text(json.dumps({"sections": {
        "00_data_quality": {"seconds": 50.0}, "40_retention": {"seconds": 3.5}, "70_prediction": {"seconds": 20.0}}}))
    est = runner.expected_seconds(cfg, paths)
    assert est["00_data_quality"] == 50.0 and est["70_prediction"] == 20.0 and est["40_retention"] == 3.5
    assert est["90_summary"] == 0  # not in that report, not heavy


# --------------------------------------------------------------------------
# The period against the data; partial runs
# --------------------------------------------------------------------------

def test_a_run_stopped_by_bad_data_says_why_in_the_run_log(first_run, capsys):
    root, _, _ = first_run
    target = root / "reports" / "acme" / "2026-10"
    orders = root / "data" / "acme" / "orders.csv"
    good = orders.read_bytes()
    orders.write_bytes(b"customer_id,ordered_at,total\nc1,2026-09-01,10\n")   # the amount column renamed
    try:
        code = cli.main(["--root", str(root), "run", "--client", "acme", "--period", "2026-10", "--sections", "00"])
    finally:
        orders.write_bytes(good)
    err = capsys.readouterr().err
    assert code == cli.EXIT_INPUT == 2 and "amount" in err
    log = (target / "run.log").read_text(encoding="utf-8")
    stopped = log[log.rindex("acme 2026-10: stopped: "):]
    assert "amount" in stopped and "fix:" in stopped            # the error and its fix, as on the console
    assert (target / "metrics.json").is_file()                   # the good report is still there


def test_a_period_after_the_data_is_refused_naming_its_last_date(tmp_path, capsys):
    # the data ends on 2026-10-15: a cron job asking for 2026-11 must not publish "visits fell to 0"
    root = make_project(tmp_path, {"00_ok": ("Zero", RECORD_OK)})
    rc = cli.main(["--root", str(root), "run", "--client", "acme", "--period", "2026-11"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "period 2026-11 starts after the data's last date, 2026-10-15" in err
    assert "the data covers 2026-09-01 to 2026-10-15" in err and "render a period up to 2026-10" in err
    assert not (root / "reports" / "acme" / "2026-11").exists()
    rc = cli.main(["--root", str(root), "run", "--client", "acme", "--period", "2024-01"])
    assert rc == 2 and "ends before the data's first date, 2026-09-01" in capsys.readouterr().err


def test_a_period_the_data_ends_inside_is_rendered_and_called_partial(tmp_path):
    root = make_project(tmp_path, {"00_ok": ("Zero", RECORD_OK)})
    messages = []
    result = runner.run("acme", "2026-10", root=root, progress=messages.append)
    assert result.ok
    assert any("the data ends on 2026-10-15, inside the period: the report is partial" in m for m in messages)
    messages.clear()
    assert runner.run("acme", "2026-09", root=root, progress=messages.append).ok   # September is complete
    assert not any("partial" in m for m in messages)


def test_a_partial_run_merges_into_the_report_and_never_drops_sections(tmp_path):
    record = lambda name, x: (  # noqa: E731
        "import journeykit as jk\n"
        f"jk.report.record('{name}', {{'x': {x}}})\n")
    root = make_project(tmp_path, {
        "00_a": ("A", record("00_a", 1)), "10_b": ("B", record("10_b", 1)),
        "90_summary": ("Summary", SUMMARY_READS_OTHERS),
    })
    assert runner.run("acme", "2026-10", root=root, progress=lambda _m: None).ok
    out = root / "reports" / "acme" / "2026-10"
    before = json.loads((out / "metrics.json").read_text())
    # 10_b changes and is re-run alone: 00_a is kept as it was, the summary re-reads both
    write_notebook(root / "notebooks" / "10_b.ipynb", "B", record("10_b", 2))
    result = runner.run("acme", "2026-10", root=root, sections=["10"], progress=lambda _m: None)
    assert result.ok and result.published
    doc = json.loads((out / "metrics.json").read_text())
    assert sorted(doc["sections"]) == ["00_a", "10_b", "90_summary"]
    assert doc["sections"]["00_a"] == before["sections"]["00_a"]
    assert doc["sections"]["10_b"]["metrics"] == {"x": 2}
    assert doc["sections"]["90_summary"]["metrics"] == {"saw": ["00_a", "10_b"]}
    assert (out / "00_a.html").is_file() and (out / "notebooks" / "00_a.ipynb").is_file()
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="00_a.html"' in index and 'href="10_b.html"' in index


# --------------------------------------------------------------------------
# Operations: skip when nothing changed, one run at a time, the log, batch
# --------------------------------------------------------------------------

def test_a_second_run_with_nothing_changed_is_skipped_until_something_changes(tmp_path, capsys):
    root = make_project(tmp_path, {"00_ok": ("Zero", RECORD_OK)})
    assert cli.main(["--root", str(root), "run", "--client", "acme", "--period", "2026-09"]) == 0
    out = root / "reports" / "acme" / "2026-09"
    first = (out / "metrics.json").read_bytes()
    capsys.readouterr()
    assert cli.main(["--root", str(root), "run", "--client", "acme", "--period", "2026-09"]) == 0
    assert "(up to date)" in capsys.readouterr().out
    assert (out / "metrics.json").read_bytes() == first           # not rendered again
    # a changed setting, a changed export or --force render it again
    assert cli.main(["--root", str(root), "run", "--client", "acme", "--period", "2026-09",
                     "--set", "definitions.churn_inactivity_days=60"]) == 0
    assert "(up to date)" not in capsys.readouterr().out
    with open(root / "data" / "acme" / "orders.csv", "ab") as f:
        f.write(b"c2,2026-09-20,7\n")
    assert cli.main(["--root", str(root), "run", "--client", "acme", "--period", "2026-09",
                     "--set", "definitions.churn_inactivity_days=60"]) == 0
    assert "(up to date)" not in capsys.readouterr().out
    assert cli.main(["--root", str(root), "run", "--client", "acme", "--period", "2026-09",
                     "--set", "definitions.churn_inactivity_days=60", "--force"]) == 0
    assert "(up to date)" not in capsys.readouterr().out


def test_a_second_run_of_the_same_client_and_period_is_refused_naming_the_first(tmp_path, capsys):
    root = make_project(tmp_path, {"00_ok": ("Zero", RECORD_OK)})
    held = runner.RunLock(root, "acme", "2026-09")
    assert held.acquire() is None                                   # another run holds it
    try:
        rc = cli.main(["--root", str(root), "run", "--client", "acme", "--period", "2026-09"])
        err = capsys.readouterr().err
        assert rc == 1
        assert "another run of acme 2026-09 is in progress (pid " in err and "started 20" in err
        assert not (root / "reports" / "acme" / "2026-09").exists()
        # another period of the same client is not held up
        assert cli.main(["--root", str(root), "run", "--client", "acme", "--period", "2026-10"]) == 0
    finally:
        held.release()
    assert cli.main(["--root", str(root), "run", "--client", "acme", "--period", "2026-09"]) == 0


def test_each_run_appends_a_timestamped_log_to_the_report(tmp_path):
    import json as _json

    root = make_project(tmp_path, {"00_ok": ("Zero", RECORD_OK)})
    assert cli.main(["--root", str(root), "run", "--client", "acme", "--period", "2026-09"]) == 0
    log = root / "reports" / "acme" / "2026-09" / "run.log"
    lines = log.read_text(encoding="utf-8").splitlines()
    assert lines and all(re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2} acme 2026-09: ", ln) for ln in lines)
    assert any("00_ok ok in" in ln for ln in lines)
    assert cli.main(["--root", str(root), "run", "--client", "acme", "--period", "2026-09", "--force",
                     "--log-format", "json"]) == 0
    more = log.read_text(encoding="utf-8").splitlines()
    assert more[:len(lines)] == lines                               # appended, the earlier run kept
    records = [_json.loads(ln) for ln in more[len(lines):]]
    assert records and all({"time", "client", "period", "message"} <= set(r) for r in records)
    assert records[0]["client"] == "acme" and records[0]["period"] == "2026-09"


def test_dry_run_says_what_would_run_and_writes_nothing(tmp_path, capsys):
    root = make_project(tmp_path, {"00_ok": ("Zero", RECORD_OK), "50_advocacy": ("Advocacy", RECORD_OK)})
    assert cli.main(["--root", str(root), "run", "--client", "acme", "--period", "2026-09", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"00_ok\s+runs", out)
    assert re.search(r"50_advocacy\s+not available \(needs surveys\): no kernel", out)
    assert not (root / "reports" / "acme" / "2026-09").exists()


def test_batch_renders_only_scheduled_clients_each_with_one_line_and_the_fix(tmp_path, capsys):
    root = make_project(tmp_path, {"00_ok": ("Zero", RECORD_OK)})
    clients = root / "params" / "clients"
    acme = (clients / "acme.yaml").read_text(encoding="utf-8")
    (clients / "acme.yaml").write_text(acme + "schedule: monthly\n", encoding="utf-8")
    (clients / "example.yaml").write_text(acme, encoding="utf-8")          # shipped example: not scheduled
    (clients / "broken.yaml").write_text(acme.replace("orders.csv", "nope.csv") + "schedule: monthly\n",
                                         encoding="utf-8")
    rc = cli.main(["--root", str(root), "batch", "--period", "2026-09"])
    out = capsys.readouterr().out
    assert rc == 2                                                   # an input error is the most urgent
    assert re.search(r"^acme 2026-09: ok in [\d.]+ s: 1 sections", out, re.M)
    assert re.search(r"^broken 2026-09: input error in [\d.]+ s: .*nope\.csv.* \| fix: ", out, re.M)
    assert "example" not in out
    # with the broken one fixed, a failing section makes it 1; nothing to do is 0
    (clients / "broken.yaml").unlink()
    write_notebook(root / "notebooks" / "10_boom.ipynb", "Boom", "raise ValueError('boom')")
    assert cli.main(["--root", str(root), "batch", "--period", "2026-09"]) == 1
    assert "failed: 10_boom (ValueError: boom)" in capsys.readouterr().out
    (clients / "acme.yaml").write_text(acme, encoding="utf-8")
    assert cli.main(["--root", str(root), "batch"]) == 0
    assert "nothing to render" in capsys.readouterr().out


def test_batch_period_defaults_to_last_month_in_the_clients_time_zone():
    import datetime as _dt

    from journeykit.core.periods import Period

    # 2026-11-01 00:30 in Seoul is still October 31st in New York
    utc = _dt.datetime(2026, 10, 31, 15, 30, tzinfo=_dt.timezone.utc)
    seoul = utc.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Seoul")).date()
    new_york = utc.astimezone(__import__("zoneinfo").ZoneInfo("America/New_York")).date()
    assert str(Period.last_complete(seoul)) == "2026-10" and str(Period.last_complete(new_york)) == "2026-09"
    assert str(Period.last_complete(timezone="Asia/Seoul")) == str(
        Period.last_complete(_dt.datetime.now(__import__("zoneinfo").ZoneInfo("Asia/Seoul")).date()))


def test_unknown_section_prefix_lists_the_known_ones(tmp_path, capsys):
    root = make_project(tmp_path, {"00_ok": ("Zero", RECORD_OK)})
    assert cli.main(["--root", str(root), "run", "--client", "acme", "--period", "2026-09", "--sections", "45"]) == 2
    err = capsys.readouterr().err
    assert "no section notebook in" in err and "starts with 45" in err and "fix: give number prefixes of: 00_ok" in err


def test_a_partial_run_under_other_settings_is_refused(tmp_path, capsys):
    # merging one section computed under new settings into a report made under the old ones would mix them
    root = make_project(tmp_path, {"00_ok": ("Zero", RECORD_OK), "10_b": ("B", RECORD_OK.replace("00_ok", "10_b"))})
    assert cli.main(["--root", str(root), "run", "--client", "acme", "--period", "2026-09"]) == 0
    rc = cli.main(["--root", str(root), "run", "--client", "acme", "--period", "2026-09", "--sections", "10",
                   "--set", "definitions.churn_inactivity_days=60"])
    assert rc == 2 and "made with other settings" in capsys.readouterr().err
    assert cli.main(["--root", str(root), "run", "--client", "acme", "--period", "2026-09", "--sections", "10",
                     "--force"]) == 0


def test_last_months_new_report_makes_this_month_out_of_date(tmp_path, capsys):
    # the summary compares with last month's published report: rendering September after October
    # must make October render again, or its "since last month" block stays stale
    root = make_project(tmp_path, {"00_ok": ("Zero", RECORD_OK)})
    assert cli.main(["--root", str(root), "run", "--client", "acme", "--period", "2026-10"]) == 0
    assert cli.main(["--root", str(root), "run", "--client", "acme", "--period", "2026-09"]) == 0
    capsys.readouterr()
    assert cli.main(["--root", str(root), "run", "--client", "acme", "--period", "2026-10"]) == 0
    assert "(up to date)" not in capsys.readouterr().out


def test_batch_with_jobs_runs_each_client_in_its_own_process_and_reports_each(tmp_path, capsys, monkeypatch):
    from journeykit.run import workers

    monkeypatch.delenv("JOURNEYKIT_CORES", raising=False)
    cores = ("import os\nfrom journeykit import report\n"
             "report.record('00_ok', {'cores': int(os.environ['JOURNEYKIT_CORES']), "
             "'threads': int(os.environ['JOURNEYKIT_THREADS'])})\n")
    root = make_project(tmp_path, {"00_ok": ("Zero", cores)})
    clients = root / "params" / "clients"
    acme = (clients / "acme.yaml").read_text(encoding="utf-8")
    (clients / "beta.yaml").write_text(acme, encoding="utf-8")
    (clients / "broken.yaml").write_text(acme.replace("orders.csv", "nope.csv"), encoding="utf-8")
    rc = cli.main(["--root", str(root), "batch", "--period", "2026-09", "--clients", "acme", "beta", "broken",
                   "--jobs", "2"])
    out = capsys.readouterr().out
    assert rc == 2
    assert re.search(r"^acme 2026-09: ok in [\d.]+ s: 1 sections", out, re.M)
    assert re.search(r"^beta 2026-09: ok in [\d.]+ s: 1 sections", out, re.M)
    assert re.search(r"^broken 2026-09: input error in [\d.]+ s: .*nope\.csv.* \| fix: ", out, re.M)
    for c in ("acme", "beta"):
        doc = json.loads((root / "reports" / c / "2026-09" / "metrics.json").read_text(encoding="utf-8"))
        assert doc["sections"]["00_ok"]["status"] == "ok"
        # two runs at once share the cores: each run's two lanes share its half
        share = max(1, workers.run_cores() // 2)
        assert doc["sections"]["00_ok"]["metrics"] == {"cores": share, "threads": workers.lane_threads(2, share)}


# --------------------------------------------------------------------------
# A worker keeps its kernel from one section to the next, made fresh
# --------------------------------------------------------------------------

LEAVES_STATE = """\
import os, warnings
import numpy as np
import matplotlib
import matplotlib.pyplot as plt
from journeykit import report
from journeykit.report import results
leftover = "from 00_a"
warnings.simplefilter("error")
np.seterr(all="raise")
matplotlib.rcParams["axes.grid"] = not matplotlib.rcParams["axes.grid"]
plt.figure()
block = np.ones(40_000_000)   # 320 MB: this section's peak, not the next one's
class Cycle: pass
cycle = Cycle(); cycle.me = cycle; cycle.block = block   # only the garbage collector frees it
del block
os.chdir("/")
report.record("00_a", {"pid": os.getpid(), "grid": matplotlib.rcParams["axes.grid"], "peak": results.peak_memory_mb()})
"""
CHECKS_FRESH = """\
import os, warnings
import numpy as np
import matplotlib
import matplotlib.pyplot as plt
from journeykit import report
from journeykit.report import results
from journeykit.data import dataset
report.record("10_b", {"pid": os.getpid(), "leftover": "leftover" in globals(), "grid": matplotlib.rcParams["axes.grid"],
                       "errors": np.geterr()["divide"], "raises": any(f[0] == "error" and f[2] is Warning and f[1] is None for f in warnings.filters),
                       "figures": len(plt.get_fignums()), "cwd": os.getcwd(), "open_datasets": len(dataset._LIVE),
                       "spec": "__spec__" in globals(), "engines": sorted(dataset.ENGINES_OPENED),
                       "peak": results.peak_memory_mb(), "frozen": __import__("gc").get_freeze_count()})
"""
DIES = """\
import os
os._exit(1)
"""


def test_a_worker_keeps_its_kernel_and_each_section_starts_fresh(tmp_path):
    opens_dataset = LEAVES_STATE.replace("leftover = ", "import journeykit as jk\nds = jk.load(jk.config.load(client, period, resolved=run_config))\nleftover = ")
    root = make_project(tmp_path, {"00_a": ("A", opens_dataset), "10_b": ("B", CHECKS_FRESH)})
    result = runner.run("acme", "2026-10", root=root, jobs=1, progress=lambda _m: None)
    assert result.ok, [(s.name, s.error) for s in result.sections]
    a, b = (s.metrics for s in result.sections)
    assert a["pid"] == b["pid"]                       # one kernel, kept
    assert b["leftover"] is False and b["figures"] == 0 and b["open_datasets"] == 0
    assert b["spec"]                                   # __main__'s own attributes survive (PySpark reads __spec__)
    assert b["engines"] == []                          # B opened no data: it records no engine (A's was duckdb)
    assert b["grid"] != a["grid"]                     # Matplotlib's settings as at kernel start
    assert b["errors"] == "warn" and b["raises"] is False
    assert b["cwd"] == str(root / "notebooks")
    assert a["peak"] > 300 and b["peak"] < a["peak"] - 250   # the peak of B's own section: A's cycle was collected
    assert b["frozen"] > 10_000                        # the imported stack is left out of the collector's passes
    counts = [[c.get("execution_count") for c in nbformat.read(result.report_dir / "notebooks" / f"{n}.ipynb", 4).cells
               if c.cell_type == "code"] for n in ("00_a", "10_b")]
    assert counts[0] == counts[1] == [1, 2, 3]         # cells count from 1 in every section


def test_a_section_that_kills_its_kernel_leaves_the_next_one_a_new_kernel(tmp_path):
    root = make_project(tmp_path, {"00_a": ("A", DIES), "10_b": ("B", RECORD_OK.replace("00_ok", "10_b"))})
    result = runner.run("acme", "2026-10", root=root, jobs=1, progress=lambda _m: None)
    a, b = result.sections
    assert a.status == "failed" and b.status == "ok", [(s.name, s.status, s.error) for s in result.sections]


def test_the_brief_prints_beside_the_report_and_dies_with_a_failed_report(monkeypatch, tmp_path):
    import subprocess
    import threading

    from journeykit.run import brief, render

    started, procs = threading.Event(), []

    def brief_printing(cfg, out, doc, generated_at):   # stands in for Chromium printing brief.pdf
        proc = subprocess.Popen(["sleep", "60"], start_new_session=True)
        procs.append(proc)
        render._PRINTS.add(proc)
        started.set()
        try:
            proc.wait()
        finally:
            render._PRINTS.discard(proc)
        return ["brief warning"]

    def report_fails(*_a, **_k):
        assert started.wait(30)          # the brief is printing while the report renders
        raise RuntimeError("report.pdf could not be printed")

    monkeypatch.setattr(brief, "write_brief", brief_printing)
    monkeypatch.setattr(render, "write_report", report_fails)
    result = runner.RunResult("acme", "2026-10")
    with pytest.raises(RuntimeError, match="report.pdf"):
        runner._write_report_and_brief(None, tmp_path, result, {}, "", {"last": None, "partial": False}, True)
    assert procs[0].returncode == -9     # killed with the report, not waited for

    monkeypatch.setattr(render, "write_report", lambda *_a, **_k: {"pdf_seconds": 1.0})
    procs.clear()
    monkeypatch.setattr(brief, "write_brief", lambda *_a: ["brief warning"])
    assert runner._write_report_and_brief(None, tmp_path, result, {}, "", {"last": None, "partial": False}, True) \
        == {"pdf_seconds": 1.0}
    assert result.warnings == ["brief warning"]


def test_kernels_start_while_the_data_loads_staggered_and_each_lane_keeps_its_one_kernel(tmp_path, monkeypatch):
    from journeykit.run import workers

    delays, warm_delays, kernels = [], [], []
    real_assign, real_warm, real_kill = workers.Pool._assign, workers.Pool._warm, workers.Pool._kill

    def spy(self, w, task):
        delays.append(task.delay)
        return real_assign(self, w, task)

    def spy_warm(self, w, cwd, delay):
        warm_delays.append(delay)
        return real_warm(self, w, cwd, delay)

    def spy_kill(self, w):
        kernels.append(list(w.kernels))
        return real_kill(self, w)

    monkeypatch.setattr(workers.Pool, "_assign", spy)
    monkeypatch.setattr(workers.Pool, "_warm", spy_warm)
    monkeypatch.setattr(workers.Pool, "_kill", spy_kill)
    record = lambda name: f"import journeykit as jk\njk.report.record('{name}', {{'x': 1}})\n"  # noqa: E731
    root = make_project(tmp_path, {n: (n, record(n)) for n in ("00_a", "10_b", "20_c", "30_d")})
    result = runner.run("acme", "2026-10", root=root, jobs=2, progress=lambda _m: None)
    assert result.ok
    assert warm_delays == [0.0, 1.0]          # lane 2 starts its kernel a second later (papermill #239, #511)
    assert delays == [0.0, 0.0, 0.0, 0.0]     # so no section waits: each finds its lane's kernel started
    assert [len(k) for k in kernels] == [1, 1]   # the kernel started early is the one the sections ran in


def test_a_worker_whose_early_kernel_fails_says_so_and_goes_on(monkeypatch, capsys):
    from journeykit.run import workers

    def fail(cwd):
        raise RuntimeError("no kernelspec")

    monkeypatch.setattr(runner, "warm_kernel", fail)
    workers._warm(cwd=".", delay=0.0)          # no exception: the first section starts a kernel itself
    assert "could not be started early (RuntimeError: no kernelspec)" in capsys.readouterr().err


def test_a_finished_run_reaps_its_workers_and_kernels_so_their_cpu_is_counted(tmp_path):
    import subprocess
    import sys

    burn = ("import time\nt = time.process_time()\nwhile time.process_time() - t < 1.5:\n    pass\n"
            "from journeykit import report\nreport.record('00_burn', {'x': 1});\n")
    root = make_project(tmp_path, {"00_burn": ("Burn", burn)})
    code = ("import resource, sys; from journeykit.run import runner; "
            f"r = runner.run('acme', '2026-10', root={str(root)!r}, jobs=1, progress=lambda m: None); "
            "u = resource.getrusage(resource.RUSAGE_CHILDREN); print(r.ok, u.ru_utime + u.ru_stime)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    ok, cpu = out.stdout.split()
    assert ok == "True", out.stderr[-2000:]
    assert float(cpu) >= 1.5   # the kernel's 1.5 s of CPU reached the run (the bench's CPU figure)


def test_memory_heavy_sections_never_run_together_while_light_ones_fill_the_other_lane(tmp_path):
    # on a million customers segmentation and prediction each peaked near 4 GB: together they broke the cap
    # Each section marks its start and takes 1.5 s; prediction also waits (up to a minute) until
    # retention has started, so on a loaded machine a slow kernel start in the other lane cannot
    # make them miss each other (a timing-only version failed once under two test halves at once).
    timed = ("import os, time, json, pathlib\nt0 = time.time()\n"
             "pathlib.Path(r'{out}', '{name}.started').touch()\n{wait}time.sleep(1.5)\n"
             "pathlib.Path(r'{out}', '{name}.json').write_text(json.dumps([t0, time.time(), "
             "os.environ.get('JOURNEYKIT_THREADS'), os.environ.get('OMP_NUM_THREADS')]))\n"
             "from journeykit import report\nreport.record('{name}', {{'x': 1}});\n")
    wait = ("end = time.time() + 60\nwhile not pathlib.Path(r'{out}', '40_retention.started').exists() "
            "and time.time() < end:\n    time.sleep(0.05)\n")
    names = ("40_retention", "60_segmentation", "70_prediction", "80_ltv")
    out = tmp_path / "times"
    out.mkdir()
    root = make_project(tmp_path, {n: (n, timed.format(out=out, name=n, wait=wait.format(out=out) if n == "70_prediction"
                                                       else "")) for n in names})
    result = runner.run("acme", "2026-10", root=root, jobs=2, progress=lambda _m: None)
    assert result.ok, [(s.name, s.error) for s in result.sections]
    span = {n: json.loads((out / f"{n}.json").read_text()) for n in names}

    def overlap(a, b):
        return span[a][0] < span[b][1] and span[b][0] < span[a][1]

    assert not overlap("60_segmentation", "70_prediction")
    # prediction started first (the longest expected); retention, not segmentation, ran beside it
    assert span["70_prediction"][0] < span["60_segmentation"][0]
    assert overlap("70_prediction", "40_retention")
    # each kernel got its lane's share of the cores
    from journeykit.run import workers

    share = str(workers.lane_threads(2))
    assert all(span[n][2] == share and span[n][3] in (share, os.environ.get("OMP_NUM_THREADS")) for n in names)


def test_lanes_share_the_cores_out(tmp_path, monkeypatch):
    from journeykit.run import workers

    assert [workers.lane_threads(j, cores=2) for j in (1, 2, 3)] == [2, 1, 1]
    assert workers.lane_threads(2, cores=8) == 4 and workers.lane_threads(0, cores=4) == 4
    monkeypatch.setenv("JOURNEYKIT_CORES", "6")          # a batch's share for this run
    assert workers.run_cores() == 6 and workers.lane_threads(2) == 3
    monkeypatch.delenv("JOURNEYKIT_CORES")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setenv("MKL_NUM_THREADS", "3")          # set by the user: kept
    folder = workers.RunFolder(tmp_path)
    try:
        pool = workers.Pool(2, folder)
        env = pool.env()
        assert env["JOURNEYKIT_THREADS"] == env["OMP_NUM_THREADS"] == env["OPENBLAS_NUM_THREADS"] == str(pool.threads)
        assert pool.threads == workers.lane_threads(2) and env["MKL_NUM_THREADS"] == "3"
        assert env["JUPYTER_RUNTIME_DIR"] == folder.env()["JUPYTER_RUNTIME_DIR"]
    finally:
        folder.close()



def test_the_executed_notebook_is_written_at_most_every_few_seconds_while_it_runs(tmp_path, monkeypatch):
    import datetime as dt

    from papermill import engines

    writes = []
    monkeypatch.setattr(engines, "write_ipynb", lambda nb, path: writes.append(path))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")], metadata={"papermill": {}})
    man = engines.NotebookExecutionManager(nb, output_path=str(tmp_path / "out.ipynb"), progress_bar=False)
    clock = [dt.datetime(2026, 10, 1, 9)]
    monkeypatch.setattr(man, "now", lambda: clock[0])
    man.notebook_start()
    assert len(writes) == 1
    with runner._throttled_saves(man):
        for _ in range(5):   # papermill writes at each cell's start and end
            man.cell_start(nb.cells[0], 0)
            man.cell_complete(nb.cells[0], 0)
        assert len(writes) == 1
        clock[0] += dt.timedelta(seconds=runner.SAVE_EVERY)
        man.cell_start(nb.cells[0], 0)
        assert len(writes) == 2
        man.cell_complete(nb.cells[0], 0)
        assert len(writes) == 2
    man.notebook_complete()   # the end is always written
    assert len(writes) == 3


def _prebuild_inputs(project):
    from journeykit.core import config
    from journeykit.data import loader
    from journeykit.sections import registry

    cfg = config.load("tiny", "2026-10", root=project)
    entry = loader.entry(cfg)
    report = loader.LoadReport.from_json((entry / "load_report.json").read_text(encoding="utf-8"))
    paths = runner.notebooks(project)
    return cfg, entry, paths, registry.available(report), report


def test_shared_facts_read_by_several_sections_are_built_before_them(project, monkeypatch):
    import journeykit as jk
    from journeykit import facts

    cfg, entry, paths, available, report = _prebuild_inputs(project)
    said, warnings = [], []
    # the tiny client is far below the threshold: nothing is built
    assert runner.prebuild_facts(cfg, entry, paths, available, report, said.append, warnings) == []
    assert not (entry / "shared").exists()
    monkeypatch.setattr(runner, "PREBUILD_MIN_ROWS", 0)
    # one reader gains nothing: it would build the fact itself
    one = [p for p in paths if p.stem in ("40_retention", "30_purchase")]
    assert runner.prebuild_facts(cfg, entry, one, available, report, said.append, warnings) == []
    built = runner.prebuild_facts(cfg, entry, paths, available, report, said.append, warnings)
    assert built == ["activity_days"] and warnings == []
    files = sorted((entry / "shared").glob("*.parquet"))
    assert [f.name.split("-")[0] for f in files] == ["activity_days_activity"]
    assert "shared facts built (activity_days)" in said[-1]
    stamp = files[0].stat().st_mtime_ns
    with jk.load(cfg.model_copy(update={"run": None})) as ds:   # a section: reads the file, builds nothing
        assert ds.path == entry
        assert len(facts.activity_days(ds).execute()) > 0
    assert sorted((entry / "shared").glob("*.parquet")) == files and files[0].stat().st_mtime_ns == stamp


def test_a_shared_fact_that_cannot_be_built_is_a_warning_and_each_section_builds_its_own(project, monkeypatch):
    from journeykit import facts

    cfg, entry, paths, available, report = _prebuild_inputs(project)
    monkeypatch.setattr(runner, "PREBUILD_MIN_ROWS", 0)

    def fails(ds, names):
        raise RuntimeError("disk full")

    monkeypatch.setattr(facts, "prebuild", fails)
    said, warnings = [], []
    assert runner.prebuild_facts(cfg, entry, paths, available, report, said.append, warnings) == []
    assert len(warnings) == 1 and "RuntimeError: disk full" in warnings[0] and "warning:" in said[-1]
    spark = cfg.model_copy(update={"engine": cfg.engine.model_copy(update={"backend": "spark"})})
    assert runner.prebuild_facts(spark, entry, paths, available, report, said.append, []) == []   # not on Spark


def test_without_an_earlier_report_sections_start_in_the_order_of_their_measured_cost(project):
    from journeykit.core import config

    paths = runner.notebooks(project)
    cfg = config.load("tiny", "2026-10", root=project)
    est = runner.expected_seconds(cfg, paths)
    order = [p.stem for p in sorted(paths, key=lambda p: -est[p.stem])]   # as the runner sorts them (stable)
    # the large demo client's seconds: 129, 76, 74, then 34–38 (four), 20, 9, 3; the summary runs last anyway
    assert order == ["70_prediction", "60_segmentation", "40_retention", "20_consideration", "30_purchase",
                     "55_campaigns", "80_ltv", "10_awareness", "50_advocacy", "00_data_quality", "90_summary"]
