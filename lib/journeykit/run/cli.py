"""The ``journeykit`` command.

Exit codes: 0 everything succeeded (or was already up to date); 1 a report
was produced but a section failed or its PDF could not be made, another
run of the same client and period holds its lock, or (``batch``) a client
failed; 2 the configuration, the data or the machine (disk full, a folder
not writable, a name too long) is wrong (the message says what to fix);
3 a bug in journeykit; 128 + the signal's number when stopped by SIGINT
(130), SIGTERM (143) or SIGHUP (129).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

from journeykit import __version__
from journeykit.core.errors import JourneykitError

EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_BUG = 0, 1, 2, 3

EXIT_CODES = """exit codes:
  0  success (or the report was already up to date)
  1  a section or a client failed, the PDF could not be made, or another run of the same client and period
     is going on
  2  the configuration, the data or the machine (disk full, folder not writable, name too long) is wrong:
     the message says what to fix
  3  a bug in journeykit (please report it with the traceback)
  130, 143  stopped by Ctrl-C (SIGINT) or SIGTERM: nothing was published, the previous report is untouched"""


def _root(args) -> Path:
    from journeykit.core.config import find_root

    return Path(args.root).resolve() if args.root else find_root()


def _err(text: str) -> None:
    print(f"error: {text}", file=sys.stderr, flush=True)


def _overrides(args) -> list[str]:
    out = list(getattr(args, "set", None) or [])
    if getattr(args, "no_pdf", False):
        out.append("report.pdf=false")
    return out


def cmd_demo_data(args) -> int:
    from journeykit import demo

    scenario = getattr(args, "scenario", "default") or "default"
    name = ("demo" if args.size == "demo" else args.size) + ("" if scenario == "default" else f"-{scenario}")
    out = Path(args.out) if args.out else _root(args) / "data" / name
    args.end = args.end or demo.DEFAULT_END
    if args.if_needed and demo.is_current(out, args.size, args.seed, args.end, scenario=scenario):
        return EXIT_OK
    t0 = time.perf_counter()
    truth = demo.generate(out, size=args.size, seed=args.seed, end=args.end, scenario=scenario)
    rows = truth.get("meta", {}).get("rows", {})
    detail = ", ".join(f"{k} {v:,}" for k, v in rows.items()) if isinstance(rows, dict) else ""
    print(f"wrote {args.size} demo data to {out} in {time.perf_counter() - t0:.1f} s" + (f": {detail}" if detail else ""))
    return EXIT_OK


def _print_sections(result) -> None:
    for s in result.sections:
        extra = s.error or (f"needs {', '.join(s.needs)}" if s.needs else "")
        print(f"  {s.status:<14} {s.name:<22} {s.seconds:6.1f} s  {extra}")


def _run_one(args, client: str, period: str):
    from journeykit.run import runner

    return runner.run(client, period, overrides=_overrides(args), root=_root(args), jobs=args.jobs,
                      sections=getattr(args, "sections", None) or None, force=args.force, dry_run=args.dry_run,
                      log_format=args.log_format)


def _save_result(result, path: str) -> None:
    """``batch --jobs N``: a client's run hands its :class:`RunResult` to the batch as JSON."""
    import dataclasses
    import json

    data = dataclasses.asdict(result)
    for s in data["sections"]:
        s["body_html"] = ""
    data["report_dir"] = str(result.report_dir) if result.report_dir else None
    Path(path).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def _load_result(path: Path):
    import json

    from journeykit.report.results import SectionResult
    from journeykit.run.runner import RunResult

    data = json.loads(path.read_text(encoding="utf-8"))
    data["sections"] = [SectionResult(**s) for s in data["sections"]]
    data["plan"] = [tuple(x) for x in data["plan"]]
    data["report_dir"] = Path(data["report_dir"]) if data["report_dir"] else None
    return RunResult(**data)


def cmd_run(args) -> int:
    result = _run_one(args, args.client, args.period)
    if getattr(args, "result_json", None):
        _save_result(result, args.result_json)
    if result.busy:
        _err(result.error)
        return EXIT_FAILED
    if result.error:
        _err(result.error)
        return EXIT_INPUT
    if args.dry_run:
        print(f"{result.client} {result.period}: would run")
        for name, what in result.plan:
            print(f"  {name:<22} {what}")
        return EXIT_OK
    if result.skipped:
        print(f"report: {result.report_dir}/index.html (up to date)")
        return EXIT_OK
    _print_sections(result)
    where = result.report_dir
    if result.ok:
        print(f"report: {where}/index.html")
        if result.pdf_missing:
            for w in result.warnings:
                _err(w)
            return EXIT_FAILED
        return EXIT_OK
    if result.published:
        print(f"report with failed sections: {where}/index.html", file=sys.stderr)
    else:
        print(f"a section failed: the previous good report is untouched; this run's output is in {where}",
              file=sys.stderr)
    return EXIT_FAILED


def cmd_demo(args) -> int:
    from journeykit import demo

    root = _root(args)
    data = root / "data" / "demo"
    if not demo.is_current(data, "demo", 7, demo.DEFAULT_END):
        print("generating demo data (about 20,000 customers) …", file=sys.stderr, flush=True)
        demo.generate(data, size="demo", seed=7)
    args.client, args.period, args.set, args.sections = "demo", args.period or demo.DEFAULT_END, None, None
    args.force, args.dry_run, args.log_format = getattr(args, "force", False), False, "text"
    return cmd_run(args)


def _batch_one(args, client: str, period: str | None):
    """One client of ``batch``: (client, period, RunResult or None, bug text or None, seconds)."""
    from journeykit.core import config
    from journeykit.core.periods import Period

    t0 = time.perf_counter()
    try:
        if period is None:
            tz = config.load(client, Period.last_complete(), root=_root(args)).timezone
            period = str(Period.last_complete(timezone=tz))
        result = _run_one(args, client, period)
    except JourneykitError as e:
        from journeykit.run.runner import RunResult

        result = RunResult(client=client, period=period or "?", error=e.render())
    except Exception as e:  # one client's bug does not stop the others
        return client, period or "?", None, f"{type(e).__name__}: {e}", time.perf_counter() - t0
    for s in result.sections:  # the pages are written; keep what crosses processes small
        s.body_html = ""
    return client, result.period, result, None, time.perf_counter() - t0


def _outcome(result, bug: str | None) -> tuple[str, str, int]:
    """(status word, detail, exit code) of one batch client."""
    if bug:
        return "bug", bug, EXIT_BUG
    if result.busy:
        return "busy", result.error, EXIT_FAILED
    if result.error:
        lines = result.error.splitlines()
        fix = next((ln.strip() for ln in lines if ln.strip().startswith("fix:")), "")
        return "input error", lines[0] + (f" | {fix}" if fix else ""), EXIT_INPUT
    if result.plan:
        return "dry run", ", ".join(f"{n}: {w}" for n, w in result.plan), EXIT_OK
    if result.skipped:
        return "up to date", str(result.report_dir), EXIT_OK
    if result.ok:
        n_na = sum(s.status == "not_available" for s in result.sections)
        detail = f"{len(result.sections)} sections" + (f", {n_na} not available" if n_na else "")
        if result.pdf_missing:
            return "ok without PDF", detail + ": no Chromium (make sysdeps), HTML only", EXIT_FAILED
        return "ok", detail, EXIT_OK
    failed = [f"{s.name} ({s.error})" for s in result.sections if s.status == "failed"]
    return "failed", "failed: " + "; ".join(failed), EXIT_FAILED


def cmd_batch(args) -> int:
    from journeykit.core import config
    from journeykit.core.periods import Period

    root = _root(args)
    period = str(Period.parse(args.period)) if args.period else None
    if args.clients:
        clients = args.clients
    else:
        clients = [c for c in config.list_clients(root) if _scheduled(root, c)]
        if not clients:
            print("no client file in params/clients/ has `schedule: monthly`: nothing to render "
                  "(name clients with --clients, or add the key to their client files)")
            return EXIT_OK
    if args.jobs > 1 and len(clients) > 1:
        outcomes = _batch_parallel(args, clients, period)
    else:
        outcomes = [_batch_one(args, c, period) for c in clients]
    codes = []
    print(f"journeykit batch: {len(clients)} client(s)")
    for client, p, result, bug, secs in outcomes:
        status, detail, code = _outcome(result, bug)
        codes.append(code)
        print(f"{client} {p}: {status} in {secs:.1f} s: {detail}")
    if EXIT_BUG in codes:
        return EXIT_BUG
    if EXIT_INPUT in codes:
        return EXIT_INPUT
    return EXIT_FAILED if EXIT_FAILED in codes else EXIT_OK


def _batch_parallel(args, clients: list[str], period: str | None) -> list:
    """``batch --jobs N`` over several clients: each client's run is a
    ``journeykit run`` process of its own session, N at once, handing back
    its result as JSON. A stop signal to the batch (Ctrl-C, SIGTERM) is
    passed on to the running clients as SIGTERM: each stops its sections
    and cleans up, then the batch stops."""
    import os
    import signal
    import subprocess
    import tempfile

    from journeykit.core import config
    from journeykit.core.periods import Period
    from journeykit.run import workers
    from journeykit.run.runner import RunResult, stop_on_signals

    root = _root(args)
    todo, running, outcomes = list(clients), {}, {}
    with tempfile.TemporaryDirectory(prefix="jk-batch-") as tmp, stop_on_signals():
        try:
            while todo or running:
                while todo and len(running) < args.jobs:
                    client = todo.pop(0)
                    t0 = time.perf_counter()
                    try:
                        p = period
                        if p is None:
                            tz = config.load(client, Period.last_complete(), root=root).timezone
                            p = str(Period.last_complete(timezone=tz))
                    except JourneykitError as e:
                        outcomes[client] = (client, period or "?", RunResult(client=client, period=period or "?",
                                                                             error=e.render()), None, 0.0)
                        continue
                    out = Path(tmp) / f"{client}.json"
                    cmd = [sys.executable, "-m", "journeykit", "--root", str(root), "run", "--client", client,
                           "--period", p, "--jobs", str(args.jobs), "--log-format", args.log_format,
                           "--result-json", str(out)]
                    cmd += [x for kv in (args.set or []) for x in ("--set", kv)]
                    cmd += ["--no-pdf"] * bool(args.no_pdf) + ["--force"] * bool(args.force) + \
                        ["--dry-run"] * bool(args.dry_run)
                    # N runs at once share the cores: each run's lanes then share its part
                    env = os.environ | {"JOURNEYKIT_CORES": str(max(1, workers.run_cores() // args.jobs))}
                    running[client] = (subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL,
                                                        env=env), p, out, t0)
                for client, (proc, p, out, t0) in list(running.items()):
                    if proc.poll() is None:
                        continue
                    del running[client]
                    secs = time.perf_counter() - t0
                    if out.exists():
                        outcomes[client] = (client, p, _load_result(out), None, secs)
                    else:
                        outcomes[client] = (client, p, None, f"its run exited {proc.returncode} without a result "
                                                             "(see its messages above)", secs)
                time.sleep(0.2)
        except KeyboardInterrupt:
            for proc, *_ in running.values():
                with contextlib.suppress(OSError):
                    os.killpg(proc.pid, signal.SIGTERM)   # each run stops its sections and cleans up
            for proc, *_ in running.values():
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(OSError):
                        os.killpg(proc.pid, signal.SIGKILL)
            raise
    return [outcomes[c] for c in clients]


def _scheduled(root: Path, client: str) -> bool:
    from journeykit.core import config

    raw = config.read_yaml(config.client_path(root, client))
    return raw.get("schedule") == "monthly"


def cmd_validate(args) -> int:
    from journeykit.core import config
    from journeykit.core.periods import Period
    from journeykit.data import loader
    from journeykit.sections.data_quality import compute as quality

    cfg = config.load(args.client, Period.last_complete(), overrides=args.set, root=_root(args))
    with loader.load(cfg, refresh=True) as ds:
        print(f"client '{cfg.client}': data is valid")
        for name in ds.tables:
            load = ds.report.tables[name]
            enc = f", {load.encoding}" if load.encoding else ""
            print(f"  {name:<14} {load.rows_loaded:>12,} rows  ({load.source}{enc})")
        first, last = ds.first_date(), ds.last_date()
        if last:
            print(f"  data from {first} to {last}")
        rep = quality.repairs(ds)
        for r in rep.itertuples():
            print(f"  repaired: {r.table}: {r.what} ({r.rows:,} rows): {r.why}")
        unmapped = quality.unmapped_event_types(ds)
        if len(unmapped):
            print("  unmapped event types (kept, not analysed): "
                  + ", ".join(f"{r.event_type} ({r.events:,})" for r in unmapped.itertuples()))
    return EXIT_OK


def cmd_new_client(args) -> int:
    from journeykit import scaffold

    path = scaffold.new_client(_root(args), args.client, name=args.name, language=args.language)
    print(f"wrote {path}: edit data.source and the table mappings, then run "
          f"`journeykit validate --client {args.client}`")
    return EXIT_OK


def cmd_clients(args) -> int:
    """Every client with its schedule, last report and the data it covered."""
    import json

    from journeykit.core import config

    root = _root(args)
    names = config.list_clients(root)
    if not names:
        print("no client files in params/clients/ (journeykit new-client --client NAME)")
        return EXIT_OK
    print(f"{'client':<20} {'schedule':<9} {'last report':<12} {'status':<28} {'data until':<11}")
    for c in names:
        schedule = "monthly" if _scheduled(root, c) else "-"
        folder = root / "reports" / c
        docs = sorted(folder.glob("[0-9][0-9][0-9][0-9]-[0-9][0-9]/metrics.json")) if folder.is_dir() else []
        period, status, until = "-", "-", "-"
        if docs:
            doc = json.loads(docs[-1].read_text(encoding="utf-8"))
            period = doc.get("period", "-")
            counts: dict[str, int] = {}
            for sec in doc.get("sections", {}).values():
                counts[sec.get("status", "?")] = counts.get(sec.get("status", "?"), 0) + 1
            status = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
            dq = (doc.get("sections", {}).get("00_data_quality") or {}).get("metrics") or {}
            until = dq.get("data_last_date") or "-"
        print(f"{c:<20} {schedule:<9} {period:<12} {status:<28} {until:<11}")
    return EXIT_OK


def cmd_diff(args) -> int:
    """This report's headline KPIs and verdicts against the previous period's report."""
    from journeykit.core import config
    from journeykit.run import diff

    cfg = config.load(args.client, args.period, root=_root(args))
    lines = diff.describe(diff.compare(cfg), cfg.language)
    print("\n".join(lines))
    return EXIT_OK


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog):
        super().__init__(prog, max_help_position=30, width=100)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="journeykit", formatter_class=_Formatter,
        description="Customer-lifecycle reports from a client's exports.",
        epilog="examples:\n"
               "  journeykit new-client --client acme --name \"ACME Coffee\" --language ko\n"
               "  journeykit validate --client acme\n"
               "  journeykit run --client acme --period 2026-10 --jobs 2\n"
               "  journeykit batch                      # every client with `schedule: monthly`\n"
               "  journeykit diff --client acme --period 2026-10\n\n" + EXIT_CODES)
    p.add_argument("--version", action="version", version=f"journeykit {__version__}")
    p.add_argument("--root", metavar="DIR", help="project folder (default: found from the working directory)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def positive(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if n < 1:
            raise argparse.ArgumentTypeError(f"{n} is not a positive number of jobs (1 or more)")
        return n

    def client_arg(sp, required=True):
        sp.add_argument("--client", required=required, metavar="NAME",
                        help="the client: params/clients/NAME.yaml (e.g. acme)")

    def period_arg(sp, required, default_help):
        sp.add_argument("--period", required=required, metavar="YYYY-MM",
                        help=f"the month to report on, e.g. 2026-10; compared with the month before{default_help}")

    def run_options(sp, jobs_help="run up to N independent sections at once, each in its own process (default 1)"):
        sp.add_argument("--jobs", type=positive, default=1, metavar="N", help=jobs_help)
        sp.add_argument("--set", action="append", metavar="KEY=VALUE",
                        help="override a setting, e.g. --set definitions.churn_inactivity_days=60 (repeatable)")
        sp.add_argument("--no-pdf", action="store_true",
                        help="render the HTML report only: the published report then has no report.pdf (an older "
                             "PDF would disagree with the new pages, so it is not kept)")
        sp.add_argument("--force", action="store_true",
                        help="render even when the data, settings, notebooks and journeykit are unchanged")
        sp.add_argument("--dry-run", action="store_true",
                        help="say which sections would run (and which are not available) and stop")
        sp.add_argument("--log-format", choices=["text", "json"], default="text",
                        help="progress lines, on the console and in run.log: text (default) or JSON lines")

    sp = sub.add_parser("demo-data", formatter_class=_Formatter, help="generate the fictional demo client's exports",
                        description="Generate the fictional demo client's exports (a Korean coffee brand).",
                        epilog="example:\n  journeykit demo-data --size tiny --if-needed")
    sp.add_argument("--size", choices=["tiny", "demo", "large"], default="demo",
                    help="tiny: 1,500 customers (tests); demo: 20,000 (make demo); large: 1,000,000 (benchmarks)")
    sp.add_argument("--seed", type=int, default=7, help="random seed: the same seed writes the same files (default 7)")
    sp.add_argument("--end", metavar="YYYY-MM", help="last month of the data (default: the demo's 2026-10)")
    sp.add_argument("--scenario", choices=["default", "stationary", "planted"], default="default",
                    help="default: the demo client; stationary: nothing changes from month to month (false alarms); "
                         "planted: stationary with known changes in the last month (see journeykit.demo.PLANTED)")
    sp.add_argument("--out", metavar="DIR",
                    help="folder (default: data/demo, data/tiny or data/large; data/<size>-<scenario> for a scenario)")
    sp.add_argument("--if-needed", action="store_true",
                    help="do nothing when the folder already holds this generator's data of this size")
    sp.set_defaults(func=cmd_demo_data)

    sp = sub.add_parser("demo", formatter_class=_Formatter,
                        help="generate demo data if missing and render the demo client's report",
                        epilog="example:\n  journeykit demo --jobs 2")
    period_arg(sp, False, " (default: the demo data's last month)")
    sp.add_argument("--jobs", type=positive, default=2, metavar="N", help="sections at once (default 2)")
    sp.add_argument("--no-pdf", action="store_true", help="render the HTML report only")
    sp.set_defaults(func=cmd_demo)

    sp = sub.add_parser("run", formatter_class=_Formatter, help="render one client's report for one month",
                        description="Render one client's report for one month into reports/CLIENT/PERIOD/.",
                        epilog="examples:\n"
                               "  journeykit run --client acme --period 2026-10 --jobs 2\n"
                               "  journeykit run --client acme --period 2026-10 --sections 40 --no-pdf\n"
                               "  journeykit run --client acme --period 2026-10 --dry-run\n\n" + EXIT_CODES)
    client_arg(sp)
    period_arg(sp, True, "")
    sp.add_argument("--sections", nargs="+", metavar="PREFIX",
                    help="only these sections, by number prefix (e.g. 00 40); merged into the published report")
    sp.add_argument("--result-json", metavar="FILE", help=argparse.SUPPRESS)   # batch --jobs: the run's result
    run_options(sp)
    sp.set_defaults(func=cmd_run)

    sp = sub.add_parser("batch", formatter_class=_Formatter,
                        help="render every scheduled client (schedule: monthly) for last month",
                        description="Render every client whose file says `schedule: monthly` (or those named), "
                                    "each for the last complete month in its own time zone; one line per client.",
                        epilog="examples:\n  journeykit batch\n  journeykit batch --period 2026-10 --clients acme beta\n\n"
                               + EXIT_CODES)
    period_arg(sp, False, " (default: the last complete month in each client's time zone)")
    sp.add_argument("--clients", nargs="+", metavar="NAME", help="only these clients (scheduled or not)")
    run_options(sp, "run up to N clients at once, each with up to N sections at once, sharing the cores "
                    "(default 1)")
    sp.set_defaults(func=cmd_batch)

    sp = sub.add_parser("validate", formatter_class=_Formatter, help="load and check a client's data, nothing else",
                        epilog="example:\n  journeykit validate --client acme\n\n" + EXIT_CODES)
    client_arg(sp)
    sp.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a setting (repeatable)")
    sp.set_defaults(func=cmd_validate)

    sp = sub.add_parser("new-client", formatter_class=_Formatter,
                        help="write a commented params/clients/NAME.yaml to start from",
                        epilog="example:\n  journeykit new-client --client acme --name \"ACME 커피\" --language ko")
    client_arg(sp)
    sp.add_argument("--name", help="display name in reports (any Unicode; default: the client's file name)")
    sp.add_argument("--language", choices=["en", "ko"], default="en", help="language of the report (default en)")
    sp.set_defaults(func=cmd_new_client)

    sp = sub.add_parser("clients", formatter_class=_Formatter,
                        help="list the clients with their schedule, last report and data date",
                        epilog="example:\n  journeykit clients")
    sp.set_defaults(func=cmd_clients)

    sp = sub.add_parser("diff", formatter_class=_Formatter,
                        help="what changed since last month's report: headline KPIs and verdicts",
                        epilog="example:\n  journeykit diff --client acme --period 2026-10")
    client_arg(sp)
    period_arg(sp, True, "")
    sp.set_defaults(func=cmd_diff)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_OK
    try:
        return args.func(args)
    except JourneykitError as e:
        _err(e.render())
        return EXIT_INPUT
    except KeyboardInterrupt as e:
        import signal

        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # one line, however many more arrive
            signal.signal(s, signal.SIG_IGN)
        name = getattr(e, "name", "SIGINT")
        _err(f"interrupted ({name}): the run was stopped and its sections killed; "
             "nothing was published, the previous report is untouched")
        return getattr(e, "exit_code", 130)
    except Exception as e:  # a full disk, a read-only folder … is the machine's; anything else a bug
        from journeykit.core.errors import operational

        err = operational(e, f"journeykit {args.command}")
        if err is None:
            return _bug(e)  # say so plainly, keep the traceback for the log
        _err(err.render())
        return EXIT_INPUT


def _bug(e: BaseException) -> int:
    """Report a bug: one line, then the traceback (for the log and the issue)."""
    import traceback

    _err(f"journeykit {__version__} hit an internal error: {type(e).__name__}: {e}")
    traceback.print_exception(e, file=sys.stderr)
    return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())
