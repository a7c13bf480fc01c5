"""journeykit.run.cli: arguments, validate, new-client, help and exit codes."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from journeykit.run import cli

REPO = Path(__file__).resolve().parents[2]
SUBCOMMANDS = ["demo-data", "demo", "run", "batch", "validate", "new-client", "clients", "diff"]

GOOD_ORDERS = (b"customer_id,ordered_at,amount\n"
               b"c1,2026-09-01,10\n"
               b"c1,2026-10-01,20\n"
               b"c2,2026-10-02,30\n")
BROKEN_ORDERS = (b"customer_id,ordered_at,amount\n"
                 b"c1,2026-09-01,10\n"
                 b"c2,2026-10-02,abc\n")    # not a number


def make_root(tmp_path: Path, orders: bytes, extra_files: dict[str, bytes] | None = None,
              tables: tuple[str, ...] = ("orders",)) -> Path:
    root = tmp_path / "project"
    (root / "params" / "clients").mkdir(parents=True)
    shutil.copy(REPO / "params" / "defaults.yaml", root / "params" / "defaults.yaml")
    (root / "params" / "clients" / "acme.yaml").write_text(
        "data:\n  source: data/acme\n  tables:\n"
        + "".join(f"    {t}: {{file: {t}.csv}}\n" for t in tables), encoding="utf-8")
    (root / "data" / "acme").mkdir(parents=True)
    (root / "data" / "acme" / "orders.csv").write_bytes(orders)
    for name, raw in (extra_files or {}).items():
        (root / "data" / "acme" / name).write_bytes(raw)
    return root


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


# --------------------------------------------------------------------------
# Parsing and help
# --------------------------------------------------------------------------

def test_run_arguments_are_parsed():
    args = cli.build_parser().parse_args([
        "--root", "/x", "run", "--client", "acme", "--period", "2026-10", "--sections", "00", "40",
        "--set", "definitions.churn_inactivity_days=60", "--set", "report.pdf=false"])
    assert (args.root, args.client, args.period) == ("/x", "acme", "2026-10")
    assert args.sections == ["00", "40"]
    assert args.set == ["definitions.churn_inactivity_days=60", "report.pdf=false"]   # repeatable, in order
    assert args.func is cli.cmd_run


def test_other_subcommands_parse():
    p = cli.build_parser()
    assert p.parse_args(["validate", "--client", "acme"]).func is cli.cmd_validate
    nc = p.parse_args(["new-client", "--client", "acme", "--name", "ACME 커피", "--language", "ko"])
    assert (nc.client, nc.name, nc.language, nc.func) == ("acme", "ACME 커피", "ko", cli.cmd_new_client)
    b = p.parse_args(["batch", "--period", "2026-10", "--clients", "a", "b"])
    assert (b.period, b.clients, b.func) == ("2026-10", ["a", "b"], cli.cmd_batch)
    assert p.parse_args(["batch"]).period is None                # default: last complete month
    d = p.parse_args(["demo-data", "--size", "tiny", "--if-needed"])
    assert (d.size, d.seed, d.if_needed, d.scenario) == ("tiny", 7, True, "default")
    assert p.parse_args(["demo-data", "--scenario", "stationary"]).scenario == "stationary"


def test_demo_data_writes_a_scenario_into_its_own_folder(tmp_path, capsys):
    from journeykit import demo

    args = cli.build_parser().parse_args(["demo-data", "--size", "tiny", "--scenario", "planted", "--seed", "2"])
    args.root = None
    out = tmp_path / "data" / "tiny-planted"
    args.out = str(out)
    assert cli.cmd_demo_data(args) == cli.EXIT_OK
    assert demo.is_current(out, "tiny", 2, scenario="planted")


@pytest.mark.parametrize("argv, complaint", [
    (["run", "--client", "acme"], "--period"),                  # required
    (["validate"], "--client"),
    (["new-client", "--client", "acme", "--language", "fr"], "invalid choice"),
    (["new-client", "acme"], "--client"),                         # the client is --client everywhere
    (["demo-data", "--size", "huge"], "invalid choice"),
    (["run", "--client", "acme", "--period", "2026-10", "--jobs", "0"], "not a positive number of jobs"),
    (["batch", "--jobs", "two"], "not a whole number"),
])
def test_bad_arguments_exit_2_with_usage(capsys, argv, complaint):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "usage: journeykit" in err and complaint in err


def test_top_level_help_lists_every_subcommand_examples_and_exit_codes(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for sub in SUBCOMMANDS:
        assert re.search(rf"^    {sub}\b", out, re.M), sub
    assert list(_subparsers()) == SUBCOMMANDS
    assert "examples:" in out and "exit codes:" in out
    for code in "0123":
        assert re.search(rf"^  {code}  ", out, re.M), code


def test_bare_journeykit_prints_help(capsys):
    assert cli.main([]) == 0
    assert capsys.readouterr().out.startswith("usage: journeykit")


@pytest.mark.parametrize("sub", SUBCOMMANDS)
def test_every_subcommand_has_help(capsys, sub):
    with pytest.raises(SystemExit) as info:
        cli.main([sub, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: journeykit {sub}")
    assert "-h, --help" in out and "example" in out
    for action in _subparsers()[sub]._actions:                   # every option says what it is for
        assert action.help, f"{sub} {action.option_strings}"


def _subparsers() -> dict:
    import argparse

    parser = cli.build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == "journeykit 0.1.0"


# --------------------------------------------------------------------------
# validate
# --------------------------------------------------------------------------

def test_validate_good_folder_returns_0_and_summarises(tmp_path, capsys):
    root = make_root(tmp_path, GOOD_ORDERS)
    code, out, err = run_cli(capsys, "--root", root, "validate", "--client", "acme")
    assert code == cli.EXIT_OK == 0
    assert "client 'acme': data is valid" in out
    assert re.search(r"orders\s+3 rows\s+\(orders\.csv, utf-8\)", out)               # 3 data rows
    assert re.search(r"customers\s+2 rows\s+\(derived from orders\)", out)          # c1, c2
    assert "repaired: orders: generated order_id (3 rows)" in out
    assert "Traceback" not in err


def test_validate_reports_unmapped_event_types(tmp_path, capsys):
    root = make_root(tmp_path, GOOD_ORDERS, {
        "events.csv": b"customer_id,occurred_at,event_type\nc1,2026-10-01,visit\nc1,2026-10-01,PING\nc2,2026-10-02,PING\n"},
        tables=("orders", "events"))
    code, out, _ = run_cli(capsys, "--root", root, "validate", "--client", "acme")
    assert code == 0
    assert "unmapped event types (kept, not analysed): PING (2)" in out


def test_validate_broken_folder_names_client_table_column_and_fix(tmp_path, capsys):
    root = make_root(tmp_path, BROKEN_ORDERS)
    code, out, err = run_cli(capsys, "--root", root, "validate", "--client", "acme")
    assert code == cli.EXIT_INPUT == 2
    assert out == ""
    assert err.startswith("error: client 'acme', table 'orders', column 'amount' (file orders.csv)")
    assert "rows affected: 1" in err and "examples: 'abc'" in err
    assert "fix: export plain numbers" in err
    assert "Traceback" not in err


def test_validate_several_problems_are_reported_together(tmp_path, capsys):
    root = make_root(tmp_path, b"customer_id,ordered_at,amount\nc1,someday,10\nc2,2026-10-01,-5\n")
    code, _, err = run_cli(capsys, "--root", root, "validate", "--client", "acme")
    assert code == 2
    assert err.startswith("error: 2 problems in the client's data:")
    assert "column 'ordered_at'" in err and "'someday'" in err          # not a date
    assert "column 'amount'" in err and "amount ≥ 0" in err             # negative amount
    assert err.count("fix:") == 2
    assert "Traceback" not in err


def test_validate_unknown_client_suggests_the_close_one(tmp_path, capsys):
    root = make_root(tmp_path, GOOD_ORDERS)
    code, _, err = run_cli(capsys, "--root", root, "validate", "--client", "acmee")
    assert code == 2
    assert "no client file params/clients/acmee.yaml (did you mean 'acme'?)" in err
    assert "journeykit new-client --client acmee" in err


def test_validate_in_a_real_process_exits_non_zero_without_traceback(tmp_path):
    root = make_root(tmp_path, BROKEN_ORDERS)
    proc = subprocess.run([sys.executable, "-m", "journeykit", "--root", str(root), "validate", "--client", "acme"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "client 'acme', table 'orders', column 'amount'" in proc.stderr
    assert "fix:" in proc.stderr
    assert "Traceback" not in proc.stderr


# --------------------------------------------------------------------------
# new-client and run's input errors
# --------------------------------------------------------------------------

def test_new_client_writes_once_then_refuses(tmp_path, capsys):
    root = make_root(tmp_path, GOOD_ORDERS)
    code, out, _ = run_cli(capsys, "--root", root, "new-client", "--client", "seoul", "--name", "서울 카페",
                           "--language", "ko")
    assert code == 0
    path = root / "params" / "clients" / "seoul.yaml"
    assert f"wrote {path}" in out and "journeykit validate --client seoul" in out
    code, out, err = run_cli(capsys, "--root", root, "new-client", "--client", "seoul")
    assert code == 2
    assert "params/clients/seoul.yaml already exists" in err and "Traceback" not in err


def test_run_with_a_bad_period_is_an_input_error(tmp_path, capsys):
    root = make_root(tmp_path, GOOD_ORDERS)
    code, _, err = run_cli(capsys, "--root", root, "run", "--client", "acme", "--period", "2026-13")
    assert code == 2
    assert "period '2026-13' is not a month" in err and "YYYY-MM" in err and "--period 2026-10" in err
    assert not (root / "reports").exists() or not any((root / "reports").rglob("*.html"))
