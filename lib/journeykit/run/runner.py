"""Running a report: load once, execute every section, render, publish.

``run(client, period)`` resolves the configuration and loads and validates
the client's data once (the sections then open the cached, validated
database read-only), records the sections whose data is missing as not
available without starting a kernel, executes every other notebook in
``notebooks/`` with papermill (parameters ``client``, ``period`` and
``run_config``, the run's resolved configuration), judges the sections'
period-over-period changes together once they have run and before the
summary (:func:`judge_report`), renders client-facing HTML, ``index.html``,
``report.pdf`` and
``metrics.json`` (and ``run.json``: how the run went, its timings), all
inside a temporary folder next to the target. The folder replaces
``reports/<client>/<period>/`` only when every section succeeded, or when
there was no good report there before; otherwise it is kept in
``reports/<client>/_failed/<period>/`` and the good report stays.

Faults (see :mod:`journeykit.run.workers` for the processes):

- before any section starts, the run checks what it will need: the
  period's data coverage, Chromium for the PDF (without it the HTML report
  is still rendered, and the run says how to add the PDF) and the free
  disk space (:func:`preflight`);
- SIGINT, SIGTERM and SIGHUP stop the run within seconds: the sections'
  workers and kernels are killed, the staging folder removed, the
  published report left as it was (:class:`Interrupted`); a later run of
  the client and period removes what a killed run left (:func:`clean_leftovers`);
- a section running longer than ``report.section_timeout_minutes`` is
  stopped and recorded as failed;
- a full disk, a read-only or forbidden folder, or a name too long for the
  file system is an :class:`OperationalError` saying what to fix, never an
  internal error.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import zoneinfo
import json
import os
import shutil
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from journeykit.core import config
from journeykit.core import engine
from journeykit.core import i18n
from journeykit.data import loader as io
from journeykit.run import brief, portfolio, render
from journeykit.run import workers
from journeykit import report
from journeykit.core.config import RunConfig
from journeykit.core.errors import ConfigError, JourneykitError
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
    warnings: list[str] = field(default_factory=list)
    """What the run could not do although its sections succeeded (e.g. the
    PDF without Chromium), each with the fix."""
    pdf_missing: bool = False
    """``report.pdf`` was asked for but not made (see ``warnings``)."""

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


def _ipc_kernel_manager():
    """A kernel manager that talks to its kernel over Unix sockets and tells
    the runner its kernel's pid (:func:`journeykit.run.workers.kernel_started`).

    TCP kernels pick free ports, which races when sections run in parallel
    (papermill #239, #511), and ipykernel warns on every start that TCP is
    unencrypted. Unix sockets in the run's private folder
    (``$JOURNEYKIT_KERNEL_SOCKETS``, see :class:`journeykit.run.workers.RunFolder`)
    avoid both, and go with the folder.
    """
    import tempfile

    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class IpcKernelManager(AsyncKernelManager):
        @default("transport")
        def _default_transport(self):
            return "ipc"

        @default("ip")
        def _default_ip(self):
            folder = os.environ.get("JOURNEYKIT_KERNEL_SOCKETS") or tempfile.gettempdir()
            return str(Path(folder) / f"k-{uuid.uuid4().hex[:12]}")

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            await super()._async_launch_kernel(kernel_cmd, **kw)
            if self.provisioner is not None and getattr(self.provisioner, "pid", None):
                workers.kernel_started(self.provisioner.pid)

    return IpcKernelManager


class KernelNotFresh(RuntimeError):
    """A kept kernel could not be made ready for the next section
    (:func:`journeykit.run.kernel.fresh_section` failed); a new kernel is
    started instead."""


class _KeptKernel:
    """This worker's section kernel, kept from one section to the next.

    Starting a kernel and importing the scientific stack cost about 2 s per
    section; a worker runs several sections one after another, so it keeps
    its kernel and has it made fresh before each section
    (:func:`journeykit.run.kernel.fresh_section`: datasets closed,
    namespace cleared, settings restored). A kernel that died, or could
    not be made fresh, is replaced by a new one.
    """

    def __init__(self) -> None:
        self.km = None
        self.sections = 0
        """Sections this kernel has run."""

    def manager(self):
        """The kernel manager for the next section (a new one when the kept
        kernel is gone; nbclient starts its kernel)."""
        from jupyter_core.utils import run_sync

        if self.km is not None:
            try:
                alive = bool(run_sync(self.km.is_alive)())
            except Exception:  # noqa: BLE001 - a manager in any broken state is replaced
                alive = False
            if alive:
                return self.km
            self.discard()
        self.km = _ipc_kernel_manager()(kernel_name="python3")
        self.sections = 0
        return self.km

    def discard(self) -> None:
        """Shut the kept kernel down (if it still runs) and forget it."""
        from jupyter_core.utils import run_sync

        km, self.km = self.km, None
        if km is None:
            return
        try:
            if km.has_kernel:
                run_sync(km.shutdown_kernel)(now=True)
        except Exception:  # noqa: BLE001 - already dead: its resources are cleaned below
            pass
        with contextlib.suppress(Exception):
            run_sync(km.cleanup_resources)()


_KEPT = _KeptKernel()


def warm_kernel(cwd: Path, timeout: float = 120) -> None:
    """Start this worker's kept kernel now (:class:`_KeptKernel`) as nbclient
    would start it for a section (working folder ``cwd``, the notebooks';
    history in memory), and import the analysis stack into it
    (:func:`journeykit.run.kernel.warm`). The first section finds the
    kernel running and ready. Raises when the kernel does not start or
    the imports fail (the kernel is then discarded)."""
    from jupyter_core.utils import run_sync

    km = _KEPT.manager()
    if not km.has_kernel:
        run_sync(km.start_kernel)(extra_arguments=["--HistoryManager.hist_file=:memory:"], cwd=str(cwd))
    kc = km.client()
    kc.start_channels()
    try:
        run_sync(kc.wait_for_ready)(timeout=timeout)
        reply = run_sync(kc.execute_interactive)(
            "__import__('journeykit.run.kernel', fromlist=['warm']).warm()",
            silent=True, store_history=False, timeout=timeout)
        content = (reply or {}).get("content", {})
        if content.get("status") != "ok":
            raise KernelNotFresh(f"{content.get('ename', 'no reply')}: {content.get('evalue', '')}")
    except BaseException:
        _KEPT.discard()
        raise
    finally:
        kc.stop_channels()


SAVE_EVERY = 10.0
"""Seconds between two writes of a section's executed notebook while it runs."""


@contextlib.contextmanager
def _throttled_saves(nb_man) -> Iterator[None]:
    """While the block runs, papermill's notebook manager ``nb_man`` writes
    the executed notebook only when :data:`SAVE_EVERY` seconds have passed
    since its last write. Papermill writes it whole at every cell's start
    and end: about 40 writes of a growing notebook (its figures included)
    per section, 3.5 s of the demo report's CPU. The write when the
    notebook ends (papermill's ``notebook_complete``, after the block)
    happens as before, so the file is complete, failed cells included; a
    section stopped on the way leaves the notebook as it was at most
    :data:`SAVE_EVERY` seconds earlier."""
    save = nb_man.save

    def throttled(**kwargs):
        if (nb_man.now() - nb_man.last_save_time).total_seconds() >= SAVE_EVERY:
            save(**kwargs)

    nb_man.save = throttled
    try:
        yield
    finally:
        del nb_man.save   # the class's own again


def _kept_kernel_engine() -> str:
    """Register (once) and name the papermill engine that runs a notebook
    on :data:`_KEPT`'s kernel: papermill's own, except that the kernel
    manager is the kept one (nbclient then neither starts a kernel that
    runs nor shuts it down), the kernel is made fresh before the first
    cell, the kernel client's channels are closed afterwards, and the
    executed notebook is written at most every :data:`SAVE_EVERY` seconds
    while it runs (:func:`_throttled_saves`), then once when it ends."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.log import logger

    name = "journeykit-kept-kernel"
    if name in papermill_engines._engines:
        return name

    class FreshKernelClient(PapermillNotebookClient):
        fresh_code = ""

        def papermill_execute_cells(self):
            if self.fresh_code:
                reply = self.wait_for_reply(self.kc.execute(self.fresh_code, silent=True, store_history=False))
                content = (reply or {}).get("content", {})
                if content.get("status") != "ok":
                    raise KernelNotFresh(f"{content.get('ename', 'no reply')}: {content.get('evalue', '')}")
            super().papermill_execute_cells()

    class KeptKernelEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None,
                                     stderr_file=None, start_timeout=60, execution_timeout=None, **kwargs):
            fresh = kwargs.pop("fresh_code", "")
            for k in ("input_path", "timeout", "startup_timeout"):
                kwargs.pop(k, None)
            client = FreshKernelClient(nb_man, timeout=execution_timeout, startup_timeout=start_timeout,
                                       kernel_name=kernel_name, log=logger, log_output=log_output,
                                       stdout_file=stdout_file, stderr_file=stderr_file, **kwargs)
            client.fresh_code = fresh
            try:
                with _throttled_saves(nb_man):
                    return client.execute()
            finally:
                if getattr(client, "kc", None) is not None:
                    client.kc.stop_channels()

    papermill_engines.register(name, KeptKernelEngine)
    return name


def execute_section(cfg: RunConfig, nb_path: Path, out_path: Path, run_config: Path) -> SectionResult:
    """Execute one section notebook into ``out_path`` and classify the outcome.

    The notebook gets three parameters: ``client``, ``period`` and
    ``run_config``, the run's resolved configuration (settings, overrides
    and where to write), so a section sees exactly what the run decided.
    A kernel that fails to start is retried once (papermill's kernel start
    is racy on a loaded machine); the retry is recorded. Runs in a section
    worker (:mod:`journeykit.run.workers`), whose environment names the
    run's kernel and its folder; the worker's kernel is kept for its next
    section (:class:`_KeptKernel`).
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    name = nb_path.stem
    source = nbformat.read(nb_path, as_version=4)
    title = render.notebook_title(source, cfg.language, name)
    result = SectionResult(name=name, title=title, status="ok")
    started = time.perf_counter()
    fresh = f"__import__('journeykit.run.kernel', fromlist=['fresh_section']).fresh_section({str(nb_path.parent)!r})"
    for attempt in (1, 2):
        try:
            pm.execute_notebook(
                str(nb_path), str(out_path),
                parameters={"client": cfg.client, "period": str(cfg.period), "run_config": str(run_config)},
                cwd=str(nb_path.parent), kernel_name="python3", progress_bar=False,
                log_output=False, start_timeout=120, language="python",
                kernel_manager_class=_ipc_kernel_manager(),
                engine_name=_kept_kernel_engine(), km=_KEPT.manager(), fresh_code=fresh,
            )
            _KEPT.sections += 1
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
            if attempt == 1 and isinstance(e, KernelNotFresh):
                _KEPT.discard()   # a new kernel for the section, not recorded as a retry of a start
                continue
            if attempt == 1 and _is_kernel_start_failure(e):
                _KEPT.discard()
                result.retried = True
                time.sleep(2)
                continue
            result.status = "failed"
            result.error = f"{type(e).__name__}: {_first_line(str(e))}"
            break
    result.seconds = round(time.perf_counter() - started, 2)
    executed = nbformat.read(out_path, as_version=4) if out_path.exists() else None
    if result.status in ("ok", "not_available") and executed is not None:
        # a not-available section may still record its stable keys as null
        payload = report.read_payload(executed) or {}
        result.metrics = payload.get("metrics")
        result.changes = payload.get("changes")
        result.trend = payload.get("trend")
        result.engine = payload.get("engine")
        result.timings = payload.get("timings")
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
    """Move ``staging`` to ``target``, replacing it in two renames, with
    SIGINT, SIGTERM and SIGHUP held back meanwhile (a stop between the two
    would leave no report; :func:`clean_leftovers` repairs even that)."""
    with _signals_held():
        old = None
        if target.exists():
            old = target.with_name(f".old-{target.name}-{uuid.uuid4().hex[:6]}")
            target.rename(old)
        staging.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def clean_leftovers(target: Path) -> list[str]:
    """What earlier runs of this client and period left beside ``target``
    when they were killed (the caller holds the run's :class:`RunLock`, so
    none of it is in use): a report moved aside by a publish that never
    finished is put back, and staging folders and moved-aside reports are
    removed. Returns what was done, one phrase each."""
    done = []
    parent = target.parent
    if not parent.is_dir():
        return done
    aside = sorted(parent.glob(f".old-{target.name}-*"), key=lambda d: d.stat().st_mtime)
    if aside and not target.exists():
        aside.pop().rename(target)
        done.append(f"restored {target.name} (a publish was interrupted)")
    for d in aside + sorted(parent.glob(f".tmp-{target.name}-*")):
        shutil.rmtree(d, ignore_errors=True)
        done.append(f"removed {d.name}")
    return done


def _clean_other_periods(cfg: RunConfig) -> list[tuple[str, str]]:
    """:func:`clean_leftovers` for the client's other periods whose runs
    died (their lock is free), so a killed run's staging folder does not
    wait for a run of the same period."""
    import re

    done = []
    folder = cfg.report_dir.parent
    if not folder.is_dir():
        return done
    periods = {m.group(1) for d in folder.iterdir()
               if (m := re.match(r"^\.(?:tmp|old)-(\d{4}-\d{2})-", d.name)) and m.group(1) != str(cfg.period)}
    for period in sorted(periods):
        lock = RunLock(cfg.root, cfg.client, period)
        if lock.acquire() is not None:
            continue  # that run is alive
        try:
            done += [(period, what) for what in clean_leftovers(folder / period)]
        finally:
            lock.release()
    return done


def expected_seconds(cfg: RunConfig, paths: list[Path]) -> dict[str, float]:
    """Each section's time in the client's most recent report (``seconds``
    in its run.json, or in the metrics.json of a report from before
    run.json); sections it lacks, or every section when there is none, get
    their registry rank (:attr:`journeykit.sections.registry.Section.heavy`)."""
    seen: dict[str, float] = {}
    folder = cfg.root / "reports" / cfg.client
    done = sorted((d.parent for d in folder.glob("*/metrics.json")), key=lambda f: f.stat().st_mtime) \
        if folder.is_dir() else []
    if done:
        for name in ("run.json", "metrics.json"):
            try:
                doc = json.loads((done[-1] / name).read_text(encoding="utf-8"))
                seen = {k: float(v.get("seconds") or 0) for k, v in doc.get("sections", {}).items()}
            except (OSError, ValueError, AttributeError):
                seen = {}
            if any(seen.values()):
                break
    def rank(name: str) -> float:
        section = registry.get(name)
        return float(section.heavy) if section else 0.0

    return {p.stem: seen.get(p.stem, rank(p.stem)) for p in paths}


PREBUILD_MIN_ROWS = 5_000_000
"""Rows of activity (events and orders) from which the runner builds the
shared facts before the sections (:func:`prebuild_facts`)."""


def prebuild_facts(cfg: RunConfig, entry: Path, paths: list[Path], available: dict[str, set[str]], load_report,
                   say: Callable[[str], None], warnings: list[str]) -> list[str]:
    """Build, before any section starts, each shared fact
    (:data:`journeykit.facts.SHARED`) that two or more of the sections to
    run read (:attr:`journeykit.sections.registry.Section.facts`); returns
    their names.

    Sections run two at a time, and the two that start together both read
    the customers' active days: each built them (16 s each on the large
    demo data, one thread apiece). Built here they take 4.5 s on two
    threads, and every section reads the file. Only on the local cache
    (DuckDB, ``data.mode: copy``; elsewhere a section's shared facts are
    its own) and from :data:`PREBUILD_MIN_ROWS` rows of events and orders:
    on less, a section builds them in well under a second and opening the
    data here would cost more. A failure here is a warning: each section
    then builds what it needs, as it would without this step."""
    if cfg.engine.backend != "duckdb" or cfg.data.mode != "copy":
        return []
    readers: dict[str, int] = {}
    for p in paths:
        section = registry.get(p.stem)
        if section is None or section.missing(available):
            continue
        for name in section.facts:
            readers[name] = readers.get(name, 0) + 1
    names = sorted(name for name, n in readers.items() if n >= 2)
    rows = sum(t.rows_loaded for name, t in load_report.tables.items() if name in ("events", "orders"))
    if not names or rows < PREBUILD_MIN_ROWS:
        return []
    from journeykit import facts

    started = time.perf_counter()
    try:
        with io.Dataset(cfg, Path(entry)) as ds:
            facts.prebuild(ds, names)
    except Exception as e:  # noqa: BLE001 - the sections build what they need themselves
        msg = (f"the shared facts ({', '.join(names)}) could not be built before the sections "
               f"(each section builds what it needs): {type(e).__name__}: {_first_line(str(e))}")
        warnings.append(msg)
        say(f"{cfg.client} {cfg.period}: warning: {msg}")
        return []
    say(f"{cfg.client} {cfg.period}: shared facts built ({', '.join(names)}) in {time.perf_counter() - started:.1f} s")
    return names


def _execute_all(cfg: RunConfig, paths: list[Path], staging: Path, generated_at: str, jobs: int,
                 say: Callable[[str], None], available: dict[str, set[str]],
                 kept: list[SectionResult] | None = None,
                 folder: workers.RunFolder | None = None,
                 pool: workers.Pool | None = None) -> list[SectionResult]:
    """Execute the section notebooks into ``staging/notebooks``.

    A section whose needs the data does not meet (:mod:`journeykit.sections.registry`)
    is recorded as not available at once, without a kernel. The others run
    in section workers (:class:`journeykit.run.workers.Pool`: each its own
    process and kernel, in the run's temporary ``folder``), ``jobs`` at
    once with staggered starts, the longest expected first
    (:func:`expected_seconds`); a section running longer than
    ``report.section_timeout_minutes`` is stopped and recorded as failed.
    Sections that read the others' results (the summary) run afterwards,
    one at a time. ``pool``: workers started already (:meth:`~journeykit.run.workers.Pool.prestart`),
    closed here when the sections are done, as a pool of its own would be.
    """
    done: list[SectionResult] = list(kept or [])
    n = len(paths)
    pos = {p: i for i, p in enumerate(paths, 1)}
    by_name = {p.stem: p for p in paths}
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

    def task(p: Path) -> workers.Task:
        section = registry.get(p.stem)
        return workers.Task(name=p.stem, notebook=str(p), out=str(staging / "notebooks" / p.name),
                            run_config=str(resolved), memory_heavy=bool(section and section.memory_heavy))

    def on_start(t: workers.Task) -> None:
        say(f"{cfg.client} {cfg.period}: [{pos[by_name[t.name]]}/{n}] {t.name} running")

    def on_done(t: workers.Task, r: SectionResult) -> None:
        if r.status == "failed" and not r.body_html:  # the worker could not render its page
            r.title = render.notebook_title(nbformat.read(t.notebook, as_version=4), cfg.language, t.name)
            r.body_html = render.section_body(cfg, r)
        finished(r, by_name[t.name])

    runnable = []
    for p in paths:
        section = registry.get(p.stem)
        missing = section.missing(available) if section else []
        if missing:
            finished(not_available(cfg, p, section, missing), p)
        else:
            runnable.append(p)
    independent = [p for p in runnable if not reads_results(p)]
    sequential = [p for p in runnable if reads_results(p)]
    timeout = cfg.report.section_timeout_minutes * 60
    with contextlib.ExitStack() as stack:
        if folder is None:
            folder = stack.enter_context(workers.RunFolder())
        pool = stack.enter_context(pool if pool is not None else workers.Pool(max(1, jobs), folder, timeout=timeout))
        if independent:
            write_results()
            if jobs > 1:
                cost = expected_seconds(cfg, independent)
                independent = sorted(independent, key=lambda p: -cost[p.stem])  # stable: ties keep notebook order
                for p in independent:
                    say(f"{cfg.client} {cfg.period}: [{pos[p]}/{n}] {p.stem} queued")
            # staggered kernel starts (papermill #239, #511): the first section of each lane starts a
            # second after the lane before; later ones reuse their lane's kernel and start at once
            pool.run([task(p) for p in independent], on_done, on_start, stagger=1.0)
        # every section's tests judged together, before the summary reads them
        judge_report(cfg, done, staging, say)
        for p in sequential:
            write_results()  # later sections (the summary) read the results of earlier ones
            pool.run([task(p)], on_done, on_start)
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
    try:
        ran = json.loads((target / "run.json").read_text(encoding="utf-8")).get("sections", {})
    except (OSError, ValueError):
        ran = {}
    kept = []
    for name, sec in previous.get("sections", {}).items():
        if name in chosen:
            continue
        how = {**sec, **(ran.get(name) or {})}   # timings: run.json (metrics.json before it existed)
        r = SectionResult(name=name, title=sec.get("title") or name, status=sec.get("status", "failed"),
                          metrics=sec.get("metrics"), changes=sec.get("changes"), trend=sec.get("trend"),
                          error=sec.get("error"), needs=list(sec.get("needs") or []),
                          seconds=float(how.get("seconds") or 0.0), retried=bool(how.get("retried")),
                          engine=sec.get("engine"), timings=how.get("timings"), timed_out=bool(how.get("timed_out")))
        nb_path = target / "notebooks" / f"{name}.ipynb"
        try:
            executed = nbformat.read(nb_path, as_version=4) if nb_path.exists() else None
        except Exception:  # noqa: BLE001 - a notebook cut short by a killed worker: the page says failed
            executed = None
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


# --------------------------------------------------------------------------
# Stopping: signals
# --------------------------------------------------------------------------

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal; ``exit_code`` is 128 + its number."""

    def __init__(self, signum: int):
        self.signum = int(signum)
        super().__init__(signal.Signals(self.signum).name)

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP raise :class:`Interrupted` in the main
    thread (the run then cleans up on its way out); further signals are
    ignored until the cleanup is over, so a second Ctrl-C cannot cut it
    short. A signal ignored before (``nohup``) stays ignored. Elsewhere
    than the main thread this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {s: signal.getsignal(s) for s in STOP_SIGNALS}
    caught: list[int] = []

    def handler(signum, frame):
        if caught:
            return
        caught.append(signum)
        raise Interrupted(signum)

    for s, h in old.items():
        if h is not signal.SIG_IGN:
            signal.signal(s, handler)
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h if h is not None else signal.SIG_DFL)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP held back (delivered on leaving): for a
    step that must not be cut in two, such as publishing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


# --------------------------------------------------------------------------
# Before any section: what the run will need
# --------------------------------------------------------------------------

MIN_FREE_BYTES = 64 << 20
"""The least free space a report run asks for, whatever its estimate."""


def _tree_bytes(folder: Path) -> int:
    total = 0
    for f in folder.rglob("*"):
        try:
            if f.is_file() and not f.is_symlink():
                total += f.stat().st_size
        except OSError:
            pass
    return total


def space_needed(cfg: RunConfig) -> int:
    """An estimate of the disk space (bytes) a report run of this client
    writes under ``reports/``: 1.5 times the client's most recent report
    (executed notebooks, pages and PDF), at least :data:`MIN_FREE_BYTES`."""
    folder = cfg.root / "reports" / cfg.client
    done = sorted((d.parent for d in folder.glob("[0-9]*/metrics.json")), key=lambda d: d.stat().st_mtime) \
        if folder.is_dir() else []
    last = _tree_bytes(done[-1]) if done else 0
    return max(MIN_FREE_BYTES, int(last * 1.5))


def cache_space_needed(cfg: RunConfig) -> int:
    """An estimate of the disk space (bytes) building the cache entry of
    the client's data takes: twice its source files (database, spill,
    transcoded copies), at least :data:`MIN_FREE_BYTES`; nothing for a
    database source."""
    src = cfg.source_path
    size = _tree_bytes(src) if src is not None and src.is_dir() else 0
    return max(MIN_FREE_BYTES, 2 * size)


def _free_bytes(path: Path) -> int | None:
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


def check_space(path: Path, needed: int, what: str) -> None:
    """Raise an :class:`~journeykit.core.errors.OperationalError` when the
    file system of ``path`` has less than ``needed`` bytes free."""
    from journeykit.core.errors import OperationalError

    free = _free_bytes(path)
    if free is not None and free < needed:
        raise OperationalError(
            f"not enough disk space for {what} in {path}: about {needed / 2**20:,.0f} MB needed, "
            f"{free / 2**20:,.0f} MB free",
            fix="free space on that disk (old reports, reports/*/_failed, data/.cache), then run again")


def check_writable(path: Path, what: str) -> None:
    """Raise an :class:`~journeykit.core.errors.OperationalError` when
    ``path`` (or the folder that would hold it) cannot be written."""
    from journeykit.core.errors import operational

    probe_dir = path
    while not probe_dir.exists() and probe_dir != probe_dir.parent:
        probe_dir = probe_dir.parent
    probe = probe_dir / f".jk-write-test-{uuid.uuid4().hex[:6]}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise (operational(e, f"cannot write {what} in {probe_dir}") or e) from None


def preflight(cfg: RunConfig) -> list[str]:
    """What the run needs besides the data, checked before any section
    starts: ``reports/`` writable with room for the report
    (:func:`space_needed`), and Chromium when ``report.pdf`` is on. A
    missing Chromium is not an error: returns the warning to give (the HTML
    report is rendered without the PDF); a disk or folder problem raises
    :class:`~journeykit.core.errors.OperationalError`."""
    reports = cfg.root / "reports"
    check_writable(reports / cfg.client, "the report")
    check_space(reports, space_needed(cfg), "the report")
    warnings = []
    if cfg.report.pdf:
        try:
            render.find_chromium()
        except JourneykitError:
            warnings.append(
                "report.pdf, brief.pdf and brief.png will not be made: no Chromium found (the HTML report is "
                "rendered). To add the PDF and the brief, "
                "install Chromium (`make sysdeps`, or `apt-get install chromium`; or set JOURNEYKIT_CHROMIUM to "
                "its path), then run the same command again; --no-pdf (report.pdf: false) skips it knowingly")
    return warnings


def _operational(e: BaseException, doing: str) -> JourneykitError | None:
    from journeykit.core.errors import operational

    return operational(e, doing)


# --------------------------------------------------------------------------
# A run
# --------------------------------------------------------------------------

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
    never raises for a section's failure. Configuration, data-contract and
    operational errors (disk, permissions) are returned in ``error`` (no
    report is written for them). A stop signal raises :class:`Interrupted`
    once everything the run started is stopped and removed.
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
    with stop_on_signals():
        lock = RunLock(cfg.root, cfg.client, str(cfg.period))
        try:
            holder = None if dry_run else lock.acquire()
        except OSError as e:
            err = _operational(e, "cannot take the run's lock")
            if err is None:
                raise
            result.error = err.render()
            return result
        if holder is not None:
            result.busy = True
            result.error = (f"another run of {client} {cfg.period} is in progress ({holder}); "
                            f"wait for it to finish, or stop it (lock: {lock.path})")
            return result
        try:
            return _run_locked(cfg, result, say, log, sections=sections, jobs=jobs, force=force, dry_run=dry_run,
                               overrides=overrides)
        except Interrupted as e:
            log.lines.append(log.format(f"{client} {cfg.period}: interrupted ({e.name}): the run was stopped, "
                                        "its sections killed and its output removed"))
            raise
        finally:
            lock.release()
            target_log = result.report_dir if result.published else (target if _is_good(target) else None)
            if not dry_run and target_log is not None:
                if result.error:   # what stopped the run, with its fix: said on the console by the CLI
                    log.lines.append(log.format(f"{client} {cfg.period}: stopped: {result.error}"))
                with contextlib.suppress(OSError):
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
    if not dry_run:
        for what in clean_leftovers(target):
            say(f"{client} {cfg.period}: an earlier run was stopped: {what}")
        for period, what in _clean_other_periods(cfg):
            say(f"{client} {cfg.period}: an earlier run of {period} was stopped: {what}")
    try:
        digest = inputs_digest(cfg, notebooks(cfg.root))
    except JourneykitError as e:
        result.error = e.render()
        return result
    previous = _previous_report(target)
    if (previous and digest and not force and previous.get("inputs_digest") == digest and _is_good(target)
            and {p.stem for p in paths} <= set(previous.get("sections", {}))
            and (not cfg.report.pdf or ((target / "report.pdf").is_file() and (target / "brief.pdf").is_file()))):
        result.skipped = True
        result.report_dir = target
        say(f"{client} {cfg.period}: up to date: the data, settings, notebooks and journeykit are those of the "
            f"report of {previous.get('generated_at', '?')} (--force renders it again)")
        return result
    held = None
    folder = pool = None
    try:
        if not dry_run:
            # The section workers start now, each starting its kernel, while the data loads.
            folder = workers.RunFolder()
            pool = workers.Pool(max(1, jobs), folder, timeout=cfg.report.section_timeout_minutes * 60)
            pool.prestart(paths[0].parent, n=len(paths))
        try:
            say(f"{client} {cfg.period}: loading and validating data …")
            t0 = time.perf_counter()
            refresh = cfg.data.is_database
            for _ in range(3):
                entry = None if refresh else io.cached(cfg)
                if entry is None:
                    check_space(cfg.root / "data" / ".cache", cache_space_needed(cfg), "the data cache")
                    entry = io.entry(cfg, refresh=refresh)
                held = io.hold(entry)   # this run's entry: nothing removes it until the run ends
                if held is not None:
                    break
                refresh = False  # removed as it was being opened (a newer one was built): take that
            else:
                raise JourneykitError(f"the data cache of client '{client}' keeps changing under this run",
                                      fix="wait for the other runs or `journeykit validate` to finish, then run again")
            load_report = io.LoadReport.from_json((entry / "load_report.json").read_text(encoding="utf-8"))
            if cfg.engine.backend == "spark":
                io.parquet_export(entry)
            say(f"{client} {cfg.period}: data ready ({time.perf_counter() - t0:.1f} s)")
            coverage = check_coverage(cfg, load_report)
            if not dry_run:
                result.warnings += preflight(cfg)
        except JourneykitError as e:
            result.error = e.render()
            return result
        except Exception as e:  # a full disk or a read-only folder (OSError, or DuckDB's error saying so)
            err = _operational(e, f"cannot prepare the data of client '{client}'")
            if err is None:
                raise
            result.error = err.render()
            return result
        for w in result.warnings:
            say(f"{client} {cfg.period}: warning: {w}")
        return _render(cfg, result, say, paths=paths, sections=sections, jobs=jobs, dry_run=dry_run,
                       digest=digest, previous=previous, entry=entry, load_report=load_report, coverage=coverage,
                       folder=folder, pool=pool)
    finally:
        if pool is not None:
            pool.close()   # after the sections it is closed already; on a failure before them, killed here
        if folder is not None:
            folder.close()
        if held is not None:
            os.close(held)


def _render(cfg: RunConfig, result: RunResult, say, *, paths, sections, jobs, dry_run, digest, previous, entry,
            load_report, coverage, folder: workers.RunFolder | None = None,
            pool: workers.Pool | None = None) -> RunResult:
    client = cfg.client
    target = cfg.report_dir
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

    pdf = cfg.report.pdf and not any("Chromium" in w for w in result.warnings)
    result.pdf_missing = cfg.report.pdf and not pdf
    prebuild_facts(cfg, entry, paths, available, load_report, say, result.warnings)
    run_started = time.perf_counter()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".tmp-{cfg.period}-{uuid.uuid4().hex[:8]}"
    generated_at = dt.datetime.now(zoneinfo.ZoneInfo(cfg.timezone)).isoformat(timespec="seconds")  # the client's clock
    spark_server = None
    try:
        (staging / "notebooks").mkdir(parents=True)
        with contextlib.nullcontext(folder) if folder is not None else workers.RunFolder() as folder:
            spark_server = _start_spark_server(cfg, say)
            context = config.RunContext(folder=staging, exports=staging / "exports",
                                        results=staging / ".run" / "results.json",
                                        spark_remote=spark_server.url if spark_server else None, cache=entry)
            run_cfg = cfg.model_copy(update={"run": context})
            run_cfg.write(staging / ".run" / "config.json")
            result.sections = _execute_all(run_cfg, paths, staging, generated_at, max(1, jobs), say, available,
                                           kept=_kept_sections(cfg, merge, paths, staging), folder=folder,
                                           pool=pool)
        shutil.rmtree(staging / ".run", ignore_errors=True)
        doc = metrics_document(cfg, result.sections, generated_at)
        doc["inputs_digest"] = digest
        doc["settings_digest"] = cfg.settings_digest
        (staging / "metrics.json").write_text(json.dumps(doc, ensure_ascii=False, indent=2, allow_nan=False),
                                              encoding="utf-8")
        say(f"{client} {cfg.period}: rendering HTML{' and PDF' if pdf else ''} …")
        t_render = time.perf_counter()
        render_cfg = cfg if pdf == cfg.report.pdf else cfg.model_copy(
            update={"report": cfg.report.model_copy(update={"pdf": pdf})})
        prints = _write_report_and_brief(render_cfg, staging, result, doc, generated_at[:16].replace("T", " "),
                                         coverage, pdf)
        (staging / "run.json").write_text(json.dumps(
            run_document(cfg, result, generated_at, jobs=max(1, jobs),
                         seconds=time.perf_counter() - run_started, render_seconds=time.perf_counter() - t_render,
                         pdf_prints=prints),
            ensure_ascii=False, indent=2), encoding="utf-8")
        if (target / "run.log").is_file():
            shutil.copy2(target / "run.log", staging / "run.log")   # the log of earlier runs goes on
    except BaseException as e:
        with _signals_held():
            shutil.rmtree(staging, ignore_errors=True)
        if isinstance(e, JourneykitError):
            result.error = e.render()
            return result
        if isinstance(e, Exception) and (err := _operational(e, f"cannot write the report of {client} {cfg.period}")):
            result.error = err.render()
            return result
        raise
    finally:
        if spark_server is not None:
            spark_server.stop()

    try:
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
        portfolio.write_portfolio(target.parent.parent)
    except OSError as e:
        shutil.rmtree(staging, ignore_errors=True)
        err = _operational(e, f"cannot publish the report of {client} {cfg.period}")
        if err is None:
            raise
        result.error = err.render()
        return result
    say(f"{client} {cfg.period}: {'done' if result.ok else 'finished with failures'} → {result.report_dir}")
    return result


def _write_report_and_brief(cfg: RunConfig, staging: Path, result: RunResult, doc: dict, generated_at: str,
                            coverage: dict, pdf: bool) -> dict:
    """The report's pages and PDF (:func:`journeykit.run.render.write_report`)
    and, with the PDF, the one-page brief (:func:`journeykit.run.brief.write_brief`),
    printed at the same time by a second Chromium: the brief needs only the
    metrics document, and the report's two prints keep one core busy.
    Returns the report's print timings; the brief's warnings join the run's.
    If anything stops the report (an error, an interrupt), the brief's
    print is killed with it."""
    from concurrent.futures import ThreadPoolExecutor

    if not pdf:
        return render.write_report(cfg, staging, result.sections, generated_at,
                                   data_through=coverage["last"], partial=coverage["partial"])
    with ThreadPoolExecutor(1, thread_name_prefix="jk-brief") as pool:
        job = pool.submit(brief.write_brief, cfg, staging, doc, generated_at)
        try:
            prints = render.write_report(cfg, staging, result.sections, generated_at,
                                         data_through=coverage["last"], partial=coverage["partial"])
        except BaseException:
            render.stop_prints()
            raise
        result.warnings += job.result()
    return prints


def run_document(cfg: RunConfig, result: RunResult, generated_at: str, *, jobs: int, seconds: float,
                 render_seconds: float, pdf_prints: dict | None = None) -> dict:
    """``run.json``: how the run went, beside its metrics.json (which holds
    only what the data and settings determine, byte for byte the same for
    the same inputs): when, how long (the run, rendering, each section),
    with how many jobs, which sections were retried or timed out, the
    timings the sections recorded (e.g. the LTV fits' ``fit_seconds``), the
    seconds of each print of the PDF (``pdf_prints``: ``layout_seconds``
    the one finding the parts' pages, ``pdf_seconds`` the report's,
    :func:`journeykit.run.render.write_report`), and
    the warnings (e.g. a PDF not made)."""
    from journeykit import __version__

    sections = {}
    for r in sorted(result.sections, key=lambda r: r.name):
        entry: dict = {"status": r.status, "seconds": r.seconds}
        if r.retried:
            entry["retried"] = True
        if r.timed_out:
            entry["timed_out"] = True
        if r.timings:
            entry["timings"] = r.timings
        sections[r.name] = entry
    return {"client": cfg.client, "period": str(cfg.period), "generated_at": generated_at,
            "journeykit_version": __version__, "jobs": jobs, "seconds": round(seconds, 2),
            "render_seconds": round(render_seconds, 2),
            "pdf_prints": {k: round(v, 2) for k, v in (pdf_prints or {}).items()},
            "pdf": cfg.report.pdf and not result.pdf_missing,
            "warnings": list(result.warnings), "sections": sections}


def status_label(status: str, language: str = "en") -> str:
    return i18n.t(f"status_{status}", language)
