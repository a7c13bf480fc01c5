"""The ``journeykit`` command.

Exit codes: 0 everything succeeded; 1 a report was produced but a section
failed (or, for ``batch``, a client failed); 2 the configuration or data is
wrong (the message says what to fix); 3 a bug in journeykit.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from journeykit import __version__
from journeykit.core.errors import JourneykitError

EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_BUG = 0, 1, 2, 3


def _root(args) -> Path:
    from journeykit.core.config import find_root

    return Path(args.root).resolve() if args.root else find_root()


def _err(text: str) -> None:
    print(f"error: {text}", file=sys.stderr, flush=True)


def cmd_demo_data(args) -> int:
    from journeykit import demo

    out = Path(args.out) if args.out else _root(args) / "data" / ("demo" if args.size == "demo" else args.size)
    args.end = args.end or demo.DEFAULT_END
    if args.if_needed and demo.is_current(out, args.size, args.seed, args.end):
        return EXIT_OK
    t0 = time.perf_counter()
    truth = demo.generate(out, size=args.size, seed=args.seed, end=args.end)
    rows = truth.get("meta", {}).get("rows", {})
    detail = ", ".join(f"{k} {v:,}" for k, v in rows.items()) if isinstance(rows, dict) else ""
    print(f"wrote {args.size} demo data to {out} in {time.perf_counter() - t0:.1f} s" + (f": {detail}" if detail else ""))
    return EXIT_OK


def _print_sections(result) -> None:
    for s in result.sections:
        extra = s.error or (f"needs {', '.join(s.needs)}" if s.needs else "")
        print(f"  {s.status:<14} {s.name:<22} {s.seconds:6.1f} s  {extra}")


def cmd_run(args) -> int:
    from journeykit.run import runner

    result = runner.run(args.client, args.period, overrides=args.set, root=_root(args), jobs=args.jobs,
                        sections=args.sections or None)
    if result.error:
        _err(result.error)
        return EXIT_INPUT
    _print_sections(result)
    where = result.report_dir
    if result.ok:
        print(f"report: {where}/index.html")
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
    args.jobs = args.jobs or 2
    return cmd_run(args)


def _batch_one(client: str, period: str, overrides, root: str):
    """One client of ``batch``: (RunResult or None, bug text or None, seconds)."""
    from journeykit.run import runner

    t0 = time.perf_counter()
    try:
        result = runner.run(client, period, overrides=overrides, root=Path(root))
    except Exception as e:
        return None, f"{type(e).__name__}: {e}", time.perf_counter() - t0
    for s in result.sections:  # the pages are written; keep what crosses processes small
        s.body_html = ""
    return result, None, time.perf_counter() - t0


def cmd_batch(args) -> int:
    from rich.console import Console
    from rich.table import Table

    from journeykit.core import config
    from journeykit.core.periods import Period

    root = _root(args)
    period = str(Period.parse(args.period)) if args.period else str(Period.last_complete())
    clients = args.clients or config.list_clients(root)
    if args.jobs > 1 and len(clients) > 1:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=args.jobs, mp_context=mp.get_context("spawn")) as pool:
            outcomes = list(pool.map(_batch_one, clients, [period] * len(clients), [args.set] * len(clients),
                                     [str(root)] * len(clients)))
    else:
        outcomes = [_batch_one(c, period, args.set, str(root)) for c in clients]
    rows = []
    for client, (result, bug, secs) in zip(clients, outcomes):
        if bug:  # one client's bug does not stop the others
            rows.append((client, "bug", bug, secs))
            continue
        if result.error:
            rows.append((client, "input error", result.error.splitlines()[0], secs))
        elif result.ok:
            n_na = sum(s.status == "not_available" for s in result.sections)
            rows.append((client, "ok", f"{len(result.sections)} sections" + (f", {n_na} not available" if n_na else ""), secs))
        else:
            failed = [s.name for s in result.sections if s.status == "failed"]
            rows.append((client, "failed", "failed: " + ", ".join(failed), secs))
    table = Table(title=f"journeykit batch · {period}")
    for col in ("client", "result", "detail", "seconds"):
        table.add_column(col)
    for client, status, detail, secs in rows:
        style = "green" if status == "ok" else "red"
        table.add_row(client, f"[{style}]{status}[/{style}]", detail, f"{secs:.1f}")
    Console(stderr=False).print(table)
    return EXIT_OK if all(r[1] == "ok" for r in rows) else EXIT_FAILED


def cmd_validate(args) -> int:
    from journeykit.core import config
    from journeykit.data import loader as io
    from journeykit.sections.data_quality import compute as quality
    from journeykit.core.periods import Period

    cfg = config.load(args.client, Period.last_complete(), overrides=args.set, root=_root(args))
    with io.load(cfg, refresh=True) as ds:
        print(f"client '{cfg.client}': data is valid")
        for name in ds.tables:
            load = ds.report.tables[name]
            enc = f", {load.encoding}" if load.encoding else ""
            print(f"  {name:<14} {load.rows_loaded:>12,} rows  ({load.source}{enc})")
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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="journeykit", description="Customer-lifecycle reports from a client's exports.")
    p.add_argument("--version", action="version", version=f"journeykit {__version__}")
    p.add_argument("--root", help="project folder (default: found from the working directory)")
    sub = p.add_subparsers(dest="command", required=True)

    def with_set(sp):
        sp.add_argument("--set", action="append", metavar="KEY=VALUE",
                        help="override a config key, e.g. definitions.churn_inactivity_days=60 (repeatable)")

    sp = sub.add_parser("demo-data", help="generate the fictional demo client's exports")
    sp.add_argument("--size", choices=["tiny", "demo", "large"], default="demo")
    sp.add_argument("--seed", type=int, default=7)
    sp.add_argument("--end", help="last month of the data (YYYY-MM; default: the demo's 2026-10)")
    sp.add_argument("--out", help="folder (default: data/demo, data/tiny or data/large)")
    sp.add_argument("--if-needed", action="store_true",
                    help="do nothing when the folder already holds this generator's data of this size")
    sp.set_defaults(func=cmd_demo_data)

    sp = sub.add_parser("demo", help="generate demo data if missing and render the demo client's report")
    sp.add_argument("--period", help="YYYY-MM (default: the demo data's last month)")
    sp.add_argument("--jobs", type=int, default=2, metavar="N", help="sections at once (default 2)")
    sp.set_defaults(func=cmd_demo)

    sp = sub.add_parser("run", help="render one client's report for one period")
    sp.add_argument("--client", required=True)
    sp.add_argument("--period", required=True, help="YYYY-MM")
    sp.add_argument("--sections", nargs="*", help="only these section prefixes, e.g. 00 40")
    sp.add_argument("--jobs", type=int, default=1, metavar="N",
                    help="run up to N independent sections at once, each in its own process (default 1)")
    with_set(sp)
    sp.set_defaults(func=cmd_run)

    sp = sub.add_parser("batch", help="render every client in params/clients/ for one period")
    sp.add_argument("--period", help="YYYY-MM (default: the last complete month)")
    sp.add_argument("--clients", nargs="*", help="only these clients")
    sp.add_argument("--jobs", type=int, default=1, metavar="N",
                    help="render up to N clients at once, each in its own process (default 1)")
    with_set(sp)
    sp.set_defaults(func=cmd_batch)

    sp = sub.add_parser("validate", help="load and validate a client's data, nothing else")
    sp.add_argument("--client", required=True)
    with_set(sp)
    sp.set_defaults(func=cmd_validate)

    sp = sub.add_parser("new-client", help="write a commented params/clients/<client>.yaml to start from")
    sp.add_argument("client")
    sp.add_argument("--name", help="display name (any Unicode)")
    sp.add_argument("--language", choices=["en", "ko"], default="en")
    sp.set_defaults(func=cmd_new_client)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except JourneykitError as e:
        _err(e.render())
        return EXIT_INPUT
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except Exception as e:  # a bug: say so plainly, keep the traceback for the log
        import traceback

        _err(f"journeykit {__version__} hit an internal error: {type(e).__name__}: {e}")
        traceback.print_exc(file=sys.stderr)
        return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())
