"""Running a report: load once, execute every section, render, publish.

``run(client, period)`` resolves the configuration and loads and validates
the client's data once (the sections then open the cached, validated
database read-only), records the sections whose data is missing as not
available without starting a kernel, executes every other notebook in
``notebooks/`` with papermill (parameters ``client``, ``period`` and
``run_config``, the run's resolved configuration), judges the sections'
period-over-period changes together once they have run and before the
summary (:func:`judge_report`), renders client-facing HTML, ``index.html``,
``report.pdf`` and ``metrics.json``, all inside a temporary folder next to
the target. The
folder replaces ``reports/<client>/<period>/`` only when every section
succeeded, or when there was no good report there before; otherwise it is
kept in ``reports/<client>/_failed/<period>/`` and the good report stays.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo
import json
import os
import shutil
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from journeykit.core import config
from journeykit.core import engine
from journeykit.core import i18n
from journeykit.data import loader as io
from journeykit.run import render
from journeykit import report
from journeykit.core.config import RunConfig
from journeykit.core.errors import JourneykitError
from journeykit.report.results import SectionResult, metrics_document
from journeykit.sections import registry

KERNEL_START_ERRORS = ("Kernel didn't respond", "kernel died", "Kernel died", "Timeout waiting for kernel")


@dataclass
class RunResult:
    """What a run produced."""

    client: str
    period: str
    sections: list[SectionResult] = field(default_factory=list)
    report_dir: Path | None = None
    error: str | None = None  # a failure before any section ran (config, data)
    published: bool = False
    skipped: bool = False
    """Nothing ran: the published report was made from the same inputs."""
    busy: bool = False
    """Nothing ran: another run of this client and period holds the lock."""
    plan: list[tuple[str, str]] = field(default_factory=list)
    """With ``dry_run``: each section and what would happen to it."""

    @property
    def ok(self) -> bool:
        return self.error is None and not self.busy and all(s.status != "failed" for s in self.sections)


def notebooks(root: Path, only: list[str] | None = None) -> list[Path]:
    """Section notebooks, ordered by their numeric prefix.

    ``only`` keeps the notebooks whose name starts with one of the prefixes.
    """
    found = sorted(p for p in (root / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if only:
        found = [p for p in found if any(p.stem.startswith(o) for o in only)]
    return found


def _is_kernel_start_failure(exc: BaseException) -> bool:
    text = f"{type(exc).__name__}: {exc}"
    return isinstance(exc, TimeoutError) or any(s in text for s in KERNEL_START_ERRORS)


def pin_kernel(folder: Path) -> dict[str, str]:
    """Environment that makes the ``python3`` kernel this very interpreter.

    Papermill resolves kernels by name; a ``python3`` kernelspec in the
    user's Jupyter folders may point at another Python without journeykit.
    A kernelspec written under ``folder`` and put first on ``JUPYTER_PATH``
    wins over those.
    """
    spec_dir = folder / "kernels" / "python3"
    spec_dir.mkdir(parents=True, exist_ok=True)
    # --log-level: the kernel's own log lines ("KeyboardInterrupt caught in kernel" on every
    # shutdown) are noise in a run's log; a section's errors reach the runner through papermill.
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}", "--log-level=CRITICAL"],
            "display_name": "Python 3 (journeykit)", "language": "python",
            "metadata": {"debugger": False}}
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    old = os.environ.get("JUPYTER_PATH")
    return {"JUPYTER_PATH": str(folder) + (os.pathsep + old if old else "")}


def _ipc_kernel_manager():
    """A kernel manager that talks to its kernel over Unix sockets.

    TCP kernels pick free ports, which races when sections run in parallel
    (papermill #239, #511), and ipykernel warns on every start that TCP is
    unencrypted. Unix sockets in a private temporary folder avoid both.
    """
    import tempfile
    import uuid

    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class IpcKernelManager(AsyncKernelManager):
        @default("transport")
        def _default_transport(self):
            return "ipc"

        @default("ip")
        def _default_ip(self):
            return str(Path(tempfile.gettempdir()) / f"jk-{uuid.uuid4().hex[:12]}")

    return IpcKernelManager


def execute_section(cfg: RunConfig, nb_path: Path, out_path: Path, run_config: Path) -> SectionResult:
    """Execute one section notebook into ``out_path`` and classify the outcome.

    The notebook gets three parameters: ``client``, ``period`` and
    ``run_config``, the run's resolved configuration (settings, overrides
    and where to write), so a section sees exactly what the run decided.
    A kernel that fails to start is retried once (papermill's kernel start
    is racy on a loaded machine); the retry is recorded.
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    name = nb_path.stem
    source = nbformat.read(nb_path, as_version=4)
    title = render.notebook_title(source, cfg.language, name)
    result = SectionResult(name=name, title=title, status="ok")
    saved = os.environ.get("JUPYTER_PATH")
    os.environ.update(pin_kernel(out_path.parent.parent / ".kernel"))
    started = time.perf_counter()
    try:
        for attempt in (1, 2):
            try:
                pm.execute_notebook(
                    str(nb_path), str(out_path),
                    parameters={"client": cfg.client, "period": str(cfg.period), "run_config": str(run_config)},
                    cwd=str(nb_path.parent), kernel_name="python3", progress_bar=False,
                    log_output=False, start_timeout=120, language="python",
                    kernel_manager_class=_ipc_kernel_manager(),
                )
                break
            except PapermillExecutionError as e:
                if e.ename == "SectionNotAvailable":
                    result.status = "not_available"
                    result.needs = _needs_from(e.evalue)
                else:
                    result.status = "failed"
                    result.error = f"{e.ename}: {_first_line(e.evalue)}"
                break
            except Exception as e:  # kernel start, nbformat or I/O failure
                if attempt == 1 and _is_kernel_start_failure(e):
                    result.retried = True
                    time.sleep(2)
                    continue
                result.status = "failed"
                result.error = f"{type(e).__name__}: {_first_line(str(e))}"
                break
    finally:
        if saved is None:
            os.environ.pop("JUPYTER_PATH", None)
        else:
            os.environ["JUPYTER_PATH"] = saved
    result.seconds = round(time.perf_counter() - started, 2)
    executed = nbformat.read(out_path, as_version=4) if out_path.exists() else None
    if result.status in ("ok", "not_available") and executed is not None:
        # a not-available section may still record its stable keys as null
        payload = report.read_payload(executed) or {}
        result.metrics = payload.get("metrics")
        result.changes = payload.get("changes")
        result.trend = payload.get("trend")
        result.engine = payload.get("engine")
    if result.status == "ok":
        if result.metrics is None:
            result.status = "failed"
            result.error = "the notebook did not record its metrics (journeykit.report.record)"
    result.body_html = render.section_body(cfg, result, executed)
    return result


def not_available(cfg: RunConfig, nb_path: Path, section: registry.Section, needs: list[str]) -> SectionResult:
    """The result of a section whose needs the client's data does not meet,
    decided before any kernel starts: every stable key recorded as
    ``null`` and a short page saying what data would enable it."""
    title = render.notebook_title(nbformat.read(nb_path, as_version=4), cfg.language, nb_path.stem)
    result = SectionResult(name=nb_path.stem, title=title, status="not_available",
                           metrics=section.null_metrics(), needs=needs)
    result.body_html = render.section_body(cfg, result)
    return result


def _needs_from(evalue: str) -> list[str]:
    if ":" in evalue:
        return [t.strip() for t in evalue.split(":", 1)[1].split(",") if t.strip()]
    return []


def _first_line(text: str) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line[:300]


def _is_good(report_dir: Path) -> bool:
    """A published report with no failed section."""
    try:
        doc = json.loads((report_dir / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return all(s.get("status") != "failed" for s in doc.get("sections", {}).values())


def _publish(staging: Path, target: Path) -> None:
    """Move ``staging`` to ``target``, replacing it in two renames."""
    old = None
    if target.exists():
        old = target.with_name(f".old-{target.name}-{uuid.uuid4().hex[:6]}")
        target.rename(old)
    staging.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _section_worker(run_config: str, nb_path: str, out_path: str, delay: float) -> SectionResult:
    """One section in a worker process (see :func:`run` with ``jobs``): the
    run's resolved configuration is read, not built again."""
    time.sleep(delay)  # stagger kernel starts (papermill #239, #511)
    cfg = config.read_resolved(run_config)
    return execute_section(cfg, Path(nb_path), Path(out_path), Path(run_config))


def expected_seconds(cfg: RunConfig, paths: list[Path]) -> dict[str, float]:
    """Each section's time in the client's most recent report (``seconds``
    in its metrics.json); sections it lacks, or every section when there is
    none, get their registry rank (:attr:`journeykit.sections.registry.Section.heavy`)."""
    seen: dict[str, float] = {}
    folder = cfg.root / "reports" / cfg.client
    done = sorted((d for d in folder.glob("*/metrics.json")), key=lambda f: f.stat().st_mtime) \
        if folder.is_dir() else []
    if done:
        try:
            doc = json.loads(done[-1].read_text(encoding="utf-8"))
            seen = {k: float(v.get("seconds") or 0) for k, v in doc.get("sections", {}).items()}
        except (OSError, ValueError, AttributeError):
            seen = {}
    def rank(name: str) -> float:
        section = registry.get(name)
        return float(section.heavy) if section else 0.0

    return {p.stem: seen.get(p.stem, rank(p.stem)) for p in paths}


def _execute_all(cfg: RunConfig, paths: list[Path], staging: Path, generated_at: str, jobs: int,
                 say: Callable[[str], None], available: dict[str, set[str]],
                 kept: list[SectionResult] | None = None) -> list[SectionResult]:
    """Execute the section notebooks into ``staging/notebooks``.

    A section whose needs the data does not meet (:mod:`journeykit.sections.registry`)
    is recorded as not available at once, without a kernel. The others run
    in notebook order; with ``jobs > 1`` the independent ones run in that
    many worker processes (each with its own kernel, its own working folder
    and a staggered start), the longest expected first
    (:func:`expected_seconds`). Sections that read the others' results (the
    summary) run afterwards, one at a time.
    """
    done: list[SectionResult] = list(kept or [])
    n = len(paths)
    pos = {p: i for i, p in enumerate(paths, 1)}
    resolved = Path(cfg.run.folder) / ".run" / "config.json"

    def write_results():
        Path(cfg.run.results).write_text(
            json.dumps(metrics_document(cfg, sorted(done, key=lambda r: r.name), generated_at), ensure_ascii=False),
            encoding="utf-8")

    def finished(r: SectionResult, p: Path) -> None:
        extra = f" ({r.error})" if r.error else (f" (needs {', '.join(r.needs)})" if r.needs else "")
        say(f"{cfg.client} {cfg.period}: [{pos[p]}/{n}] {p.stem} {r.status} in {r.seconds:.1f} s{extra}")
        done.append(r)

    def reads_results(p: Path) -> bool:
        section = registry.get(p.stem)
        return section.reads_results if section else p.stem.endswith("_summary")

    runnable = []
    for p in paths:
        section = registry.get(p.stem)
        missing = section.missing(available) if section else []
        if missing:
            finished(not_available(cfg, p, section, missing), p)
        else:
            runnable.append(p)
    independent = [p for p in runnable if not reads_results(p)]
    sequential = runnable
    if jobs > 1 and len(independent) > 1:
        sequential = [p for p in runnable if reads_results(p)]
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor, as_completed

        write_results()
        cost = expected_seconds(cfg, independent)
        independent = sorted(independent, key=lambda p: -cost[p.stem])  # stable: ties keep notebook order
        with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn")) as pool:
            futures = {}
            for k, p in enumerate(independent):
                say(f"{cfg.client} {cfg.period}: [{pos[p]}/{n}] {p.stem} queued")
                fut = pool.submit(_section_worker, str(resolved), str(p), str(staging / "notebooks" / p.name),
                                  1.0 * min(k, jobs - 1))
                futures[fut] = p
            for fut in as_completed(futures):
                p = futures[fut]
                try:
                    r = fut.result()
                except Exception as e:  # the worker itself died: record, keep the others
                    r = SectionResult(name=p.stem, title=p.stem, status="failed",
                                      error=f"{type(e).__name__}: {_first_line(str(e))}")
                finished(r, p)
    judged = False
    for p in sequential:
        if reads_results(p) and not judged:
            judged = True
            judge_report(cfg, done, staging, say)
        say(f"{cfg.client} {cfg.period}: [{pos[p]}/{n}] {p.stem} running")
        write_results()  # later sections (the summary) read the results of earlier ones
        finished(execute_section(cfg, p, staging / "notebooks" / p.name, resolved), p)
    if not judged:
        judge_report(cfg, done, staging, say)
    return sorted(done, key=lambda r: r.name)


def judge_report(cfg: RunConfig, results: list[SectionResult], staging: Path | None = None,
                 say: Callable[[str], None] | None = None) -> int:
    """Judge the period-over-period tests of every section together, once
    they have all run and before the summary reads them (README, "How
    changes are judged").

    The sections compute in separate kernels, each judging only its own
    tests. Here every recorded test of the report (the sections that do not
    read results) gets its Benjamini–Hochberg ``q_value`` over all of them
    and its final ``verdict`` (:func:`journeykit.stats.compare.judge_records`,
    ``changes.fdr``), written into the results (so ``metrics.json`` and the
    summary use them); each section's key-figures block — its KPI table,
    sentences and advice — is worded again from those records
    (:func:`journeykit.report.key_figures_from_records`) in its page and in
    its executed notebook under ``staging``. Returns the number of tests.
    """
    from journeykit.stats import compare

    def reads(name: str) -> bool:
        section = registry.get(name)
        return section.reads_results if section else name.endswith("_summary")

    chosen = [r for r in results if r.status == "ok" and r.changes and not reads(r.name)]
    m = compare.judge_records({r.name: r.changes for r in chosen}, cfg.changes.fdr)
    significant = 0
    for r in chosen:
        significant += sum(c.get("verdict") == "significant" for c in r.changes)
        block = report.key_figures_from_records(r.changes, cfg)._repr_html_()
        r.body_html, _ = report.replace_key_figures(r.body_html, block)
        nb_path = staging / "notebooks" / f"{r.name}.ipynb" if staging is not None else None
        if nb_path is not None and nb_path.is_file():
            nb = nbformat.read(nb_path, as_version=4)
            touched = 0
            for cell in nb.cells:
                for out in cell.get("outputs", []):
                    html_out = out.get("data", {}).get("text/html")
                    if isinstance(html_out, list):
                        html_out = "".join(html_out)
                    if html_out and report.KEY_FIGURES_CLOSE in html_out:
                        out["data"]["text/html"], k = report.replace_key_figures(html_out, block)
                        touched += k
            if touched:
                nbformat.write(nb, nb_path)
    if say is not None and m:
        say(f"{cfg.client} {cfg.period}: {m} period-over-period tests judged together: {significant} significant")
    return m


def check_coverage(cfg: RunConfig, load_report) -> dict:
    """The dates the client's data covers, checked against the period:
    ``first`` and ``last`` (dates over every loaded table) and ``partial``
    (the data ends inside the period).

    Raises
    ------
    ConfigError
        When the period starts after the data's last date or ends before its
        first: such a report would compare a month of data with a month of
        none ("visits fell from 914 to 0, significant").
    """
    import datetime as _dt

    from journeykit.core.errors import ConfigError

    firsts = [t.first_at for t in load_report.tables.values() if t.status != "empty" and t.first_at]
    lasts = [t.last_at for t in load_report.tables.values() if t.status != "empty" and t.last_at]
    if not lasts:
        return {"first": None, "last": None, "partial": False}
    first = _dt.datetime.fromisoformat(min(firsts)).date()
    last = _dt.datetime.fromisoformat(max(lasts)).date()
    covers = f"the data covers {first} to {last}"
    if cfg.period.start > last:
        raise ConfigError(
            f"client '{cfg.client}': period {cfg.period} starts after the data's last date, {last} ({covers})",
            fix=f"render a period up to {last.strftime('%Y-%m')}, or load an export that includes {cfg.period}")
    if cfg.period.end <= first:
        raise ConfigError(
            f"client '{cfg.client}': period {cfg.period} ends before the data's first date, {first} ({covers})",
            fix=f"render a period from {first.strftime('%Y-%m')} on")
    return {"first": first, "last": last, "partial": last < cfg.period.end - _dt.timedelta(days=1)}


def _previous_report(target: Path) -> dict | None:
    """The metrics.json of the report published at ``target``, if any."""
    try:
        return json.loads((target / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _kept_sections(cfg: RunConfig, previous: dict | None, paths: list[Path], staging: Path) -> list[SectionResult]:
    """For a partial run (``--sections``) over a published report: the
    sections it does not re-run, as that report had them (metrics, page,
    executed notebook and exports), so the new report never has fewer
    sections than the one it replaces."""
    if not previous:
        return []
    target = cfg.report_dir
    chosen = {p.stem for p in paths}
    kept = []
    for name, sec in previous.get("sections", {}).items():
        if name in chosen:
            continue
        r = SectionResult(name=name, title=sec.get("title") or name, status=sec.get("status", "failed"),
                          metrics=sec.get("metrics"), changes=sec.get("changes"), trend=sec.get("trend"),
                          error=sec.get("error"), needs=list(sec.get("needs") or []),
                          seconds=float(sec.get("seconds") or 0.0), retried=bool(sec.get("retried")),
                          engine=sec.get("engine"))
        nb_path = target / "notebooks" / f"{name}.ipynb"
        executed = nbformat.read(nb_path, as_version=4) if nb_path.exists() else None
        if executed is not None:
            shutil.copy2(nb_path, staging / "notebooks" / nb_path.name)
        r.body_html = render.section_body(cfg, r, executed)
        kept.append(r)
    if (target / "exports").is_dir():
        (staging / "exports").mkdir(exist_ok=True)
        for f in (target / "exports").iterdir():
            if f.is_file():
                shutil.copy2(f, staging / "exports" / f.name)  # a re-run section overwrites its own lists
    return kept


def _start_spark_server(cfg: RunConfig, say: Callable[[str], None]):
    """For ``engine.backend: spark`` without a ``remote``: one local Spark
    Connect server shared by every section kernel of the run (each kernel
    would otherwise start and warm up its own JVM). ``None`` when not
    needed, or when PySpark's Connect client is not installed (each kernel
    then starts its own local session)."""
    sc = cfg.engine.spark
    if cfg.engine.backend != "spark" or sc.remote:
        return None
    if not engine.has_spark_connect():
        say(f"{cfg.client} {cfg.period}: pyspark[connect] is not installed: every section starts its own Spark")
        return None
    log_dir = cfg.root / "data" / ".cache" / cfg.client
    t0 = time.perf_counter()
    try:
        server = engine.LocalConnectServer(sc.master, sc.conf, log_dir).start()
    except RuntimeError as e:
        raise JourneykitError(f"engine.backend is 'spark', but Spark did not start: {e}",
                              fix="Spark needs Java 17 or newer (`java -version`; `make sysdeps` installs it); "
                                  f"see {log_dir / 'spark-connect.log'}") from None
    say(f"{cfg.client} {cfg.period}: Spark ({sc.master}) ready at {server.url} ({time.perf_counter() - t0:.1f} s)")
    return server


def inputs_digest(cfg: RunConfig, paths: list[Path]) -> str | None:
    """A digest of everything a report is made from: the data (each export's
    content, see :func:`journeykit.data.loader.cache_key`), every setting,
    the section notebooks and journeykit's own code. Two runs with the same
    digest render the same report. ``None`` for a database source, whose
    data can change under the same name."""
    if cfg.data.is_database:
        return None
    import journeykit

    h = hashlib.sha256()
    h.update(io.cache_key(cfg).encode())
    h.update(cfg.settings_digest.encode())
    for p in paths:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    # the summary compares with last month's published report: a new one there is a new input
    before = cfg.root / "reports" / cfg.client / str(cfg.comparison) / "metrics.json"
    if before.is_file():
        h.update(b"previous|" + before.read_bytes())
    lib = Path(journeykit.__file__).parent
    for f in sorted(lib.rglob("*")):
        if f.is_file() and f.suffix in (".py", ".j2", ".css", ".yaml"):
            h.update(str(f.relative_to(lib)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:32]


class RunLock:
    """One run of a client and period at a time: an exclusive lock on
    ``data/.cache/locks/<client>-<period>.lock`` (released when the process
    ends, however it ends), holding who holds it."""

    def __init__(self, root: Path, client: str, period: str):
        self.path = root / "data" / ".cache" / "locks" / f"{client}-{period}.lock"
        self.fd = None

    def acquire(self) -> str | None:
        """Take the lock; ``None`` when taken, else a description of the run holding it."""
        import fcntl
        import socket

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 400).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            return holder
        os.ftruncate(fd, 0)
        started = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()}, started {started}".encode())
        self.fd = fd
        return None

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)   # closing the descriptor releases the lock
            self.fd = None


def run(
    client: str,
    period: str,
    *,
    overrides: list[str] | dict | None = None,
    root: Path | None = None,
    sections: list[str] | None = None,
    jobs: int = 1,
    progress: Callable[[str], None] | None = None,
    force: bool = False,
    dry_run: bool = False,
    log_format: str = "text",
) -> RunResult:
    """Render the full report for one client and period.

    The configuration is resolved once (defaults, client file, ``overrides``)
    and written into the run's folder; every section reads that file (its
    ``run_config`` parameter). ``jobs`` > 1 runs independent sections in
    that many processes at once. A run whose inputs (:func:`inputs_digest`)
    are those of the published report is skipped unless ``force``; a run of
    a client and period already running elsewhere is refused (``busy``).
    ``dry_run`` says what would run and stops. Each run appends its log to
    ``reports/<client>/<period>/run.log``. Returns a :class:`RunResult`;
    never raises for a section's failure. Configuration and data-contract
    errors are returned in ``error`` (no report is written for them).
    """
    from journeykit.run.log import RunLog

    log = RunLog(log_format, echo=progress if progress is not None else print, client=client, period=str(period))
    say = log
    result = RunResult(client=client, period=str(period))
    try:
        cfg = config.load(client, period, overrides=overrides, root=root)
    except JourneykitError as e:
        result.error = e.render()
        return result
    result.period = str(cfg.period)
    log.period = str(cfg.period)
    target = cfg.report_dir
    lock = RunLock(cfg.root, cfg.client, str(cfg.period))
    holder = None if dry_run else lock.acquire()
    if holder is not None:
        result.busy = True
        result.error = (f"another run of {client} {cfg.period} is in progress ({holder}); "
                        f"wait for it to finish, or stop it (lock: {lock.path})")
        return result
    try:
        return _run_locked(cfg, result, say, log, sections=sections, jobs=jobs, force=force, dry_run=dry_run,
                           overrides=overrides)
    finally:
        lock.release()
        target_log = result.report_dir if result.published else (target if _is_good(target) else None)
        if not dry_run and target_log is not None:
            log.append_to(target_log / "run.log")


def _run_locked(cfg: RunConfig, result: RunResult, say, log, *, sections, jobs, force, dry_run,
                overrides) -> RunResult:
    client = cfg.client
    paths = notebooks(cfg.root, sections or cfg.report.sections or None)
    if not paths:
        known = sorted(p.stem for p in notebooks(cfg.root))
        asked = ", ".join(sections or cfg.report.sections or [])
        result.error = (f"no section notebook in {cfg.root / 'notebooks'} starts with {asked or '[0-9][0-9]_'}"
                        + (f"\n  fix: give number prefixes of: {', '.join(known)}" if known else ""))
        return result
    target = cfg.report_dir
    try:
        digest = inputs_digest(cfg, notebooks(cfg.root))
    except JourneykitError as e:
        result.error = e.render()
        return result
    previous = _previous_report(target)
    if (previous and digest and not force and previous.get("inputs_digest") == digest and _is_good(target)
            and {p.stem for p in paths} <= set(previous.get("sections", {}))):
        result.skipped = True
        result.report_dir = target
        say(f"{client} {cfg.period}: up to date: the data, settings, notebooks and journeykit are those of the "
            f"report of {previous.get('generated_at', '?')} (--force renders it again)")
        return result
    try:
        say(f"{client} {cfg.period}: loading and validating data …")
        t0 = time.perf_counter()
        load_report = io.prepare(cfg, refresh=cfg.data.is_database)
        say(f"{client} {cfg.period}: data ready ({time.perf_counter() - t0:.1f} s)")
        coverage = check_coverage(cfg, load_report)
    except JourneykitError as e:
        result.error = e.render()
        return result
    if coverage["partial"]:
        say(f"{client} {cfg.period}: the data ends on {coverage['last']}, inside the period: the report is partial")
    merge = previous if sections else None
    if merge is not None and merge.get("settings_digest") not in (None, cfg.settings_digest):
        result.error = (f"the published report of {client} {cfg.period} was made with other settings (a client file "
                        "edit or --set): re-running only some sections would mix the two in one report\n"
                        "  fix: render every section (drop --sections), or give the same settings")
        return result
    if merge is not None:
        # A partial run merges into the report that is there: the sections not
        # re-run are kept as they were, and the summary is re-read from all.
        chosen = {p.stem for p in paths}
        summaries = [p for p in notebooks(cfg.root)
                     if (registry.get(p.stem) or registry.Section(p.stem, "")).reads_results and p.stem not in chosen]
        paths = sorted(paths + summaries)
    available = registry.available(load_report)
    if dry_run:
        for p in paths:
            section = registry.get(p.stem)
            missing = section.missing(available) if section else []
            what = f"not available (needs {', '.join(missing)}): no kernel" if missing else "runs"
            result.plan.append((p.stem, what))
        if merge is not None:
            result.plan += [(name, "kept from the published report") for name in merge.get("sections", {})
                            if name not in {p.stem for p in paths}]
        return result

    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".tmp-{cfg.period}-{uuid.uuid4().hex[:8]}"
    (staging / "notebooks").mkdir(parents=True)
    generated_at = dt.datetime.now(zoneinfo.ZoneInfo(cfg.timezone)).isoformat(timespec="seconds")  # the client's clock
    spark_server = None
    try:
        spark_server = _start_spark_server(cfg, say)
        context = config.RunContext(folder=staging, exports=staging / "exports",
                                    results=staging / ".run" / "results.json",
                                    spark_remote=spark_server.url if spark_server else None)
        run_cfg = cfg.model_copy(update={"run": context})
        run_cfg.write(staging / ".run" / "config.json")
        result.sections = _execute_all(run_cfg, paths, staging, generated_at, max(1, jobs), say, available,
                                       kept=_kept_sections(cfg, merge, paths, staging))
        shutil.rmtree(staging / ".kernel", ignore_errors=True)
        shutil.rmtree(staging / ".run", ignore_errors=True)
        doc = metrics_document(cfg, result.sections, generated_at)
        doc["inputs_digest"] = digest
        doc["settings_digest"] = cfg.settings_digest
        (staging / "metrics.json").write_text(json.dumps(doc, ensure_ascii=False, indent=2, allow_nan=False),
                                              encoding="utf-8")
        say(f"{client} {cfg.period}: rendering HTML{' and PDF' if cfg.report.pdf else ''} …")
        render.write_report(cfg, staging, result.sections, generated_at[:16].replace("T", " "),
                            data_through=coverage["last"], partial=coverage["partial"])
        if (target / "run.log").is_file():
            shutil.copy2(target / "run.log", staging / "run.log")   # the log of earlier runs goes on
    except BaseException as e:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(e, JourneykitError):
            result.error = e.render()
            return result
        raise
    finally:
        if spark_server is not None:
            spark_server.stop()

    if result.ok or not _is_good(target):
        _publish(staging, target)
        result.report_dir = target
        result.published = True
    else:
        failed_dir = target.parent / "_failed" / target.name
        failed_dir.parent.mkdir(parents=True, exist_ok=True)
        if failed_dir.exists():
            shutil.rmtree(failed_dir)
        staging.rename(failed_dir)
        result.report_dir = failed_dir
    render.write_reports_index(target.parent.parent)
    say(f"{client} {cfg.period}: {'done' if result.ok else 'finished with failures'} → {result.report_dir}")
    return result


def status_label(status: str, language: str = "en") -> str:
    return i18n.t(f"status_{status}", language)
