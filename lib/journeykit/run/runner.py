"""Running a report: load once, execute every section, render, publish.

``run(client, period)`` loads and validates the client's data once (the
sections then open the cached, validated database read-only), executes
each notebook in ``notebooks/`` with papermill (parameters ``client`` and
``period``), renders client-facing HTML, ``index.html``, ``report.pdf`` and
``metrics.json``, all inside a temporary folder next to the target. The
folder replaces ``reports/<client>/<period>/`` only when every section
succeeded, or when there was no good report there before; otherwise it is
kept in ``reports/<client>/_failed/<period>/`` and the good report stays.
"""

from __future__ import annotations

import datetime as dt
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

from journeykit import __version__
from journeykit.core import config
from journeykit.core import engine
from journeykit.core import i18n
from journeykit.data import loader as io
from journeykit.run import render
from journeykit import report
from journeykit.core.config import RunConfig
from journeykit.core.errors import JourneykitError
from journeykit.run.render import SectionResult

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

    @property
    def ok(self) -> bool:
        return self.error is None and all(s.status != "failed" for s in self.sections)


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
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
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


def execute_section(cfg: RunConfig, nb_path: Path, out_path: Path) -> SectionResult:
    """Execute one section notebook into ``out_path`` and classify the outcome.

    A kernel that fails to start is retried once (papermill's kernel start is
    racy on a loaded machine); the retry is recorded.
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    name = nb_path.stem
    source = nbformat.read(nb_path, as_version=4)
    title = render.notebook_title(source, cfg.language, name)
    result = SectionResult(name=name, title=title, status="ok")
    saved = {k: os.environ.get(k) for k in ("JOURNEYKIT_ROOT", "JUPYTER_PATH", "JOURNEYKIT_EXPORTS",
                                            report.RUN_ENV)}
    os.environ["JOURNEYKIT_ROOT"] = str(cfg.root)
    os.environ["JOURNEYKIT_EXPORTS"] = str(out_path.parent.parent / "exports")
    os.environ[report.RUN_ENV] = str(out_path.parent.parent / ".run-results.json")
    os.environ.update(pin_kernel(out_path.parent.parent / ".kernel"))
    started = time.perf_counter()
    try:
        for attempt in (1, 2):
            try:
                pm.execute_notebook(
                    str(nb_path), str(out_path),
                    parameters={"client": cfg.client, "period": str(cfg.period)},
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
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
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


def _needs_from(evalue: str) -> list[str]:
    if ":" in evalue:
        return [t.strip() for t in evalue.split(":", 1)[1].split(",") if t.strip()]
    return []


def _first_line(text: str) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line[:300]


def metrics_document(cfg: RunConfig, results: list[SectionResult], generated_at: str) -> dict:
    """The metrics.json document (schema: ``journeykit.report.METRICS_SCHEMA``)."""
    sections = {}
    for r in results:
        entry: dict = {"status": r.status, "title": r.title, "metrics": r.metrics if r.status != "failed" else None,
                       "seconds": r.seconds}
        if r.error:
            entry["error"] = r.error
        if r.needs:
            entry["needs"] = r.needs
        if r.retried:
            entry["retried"] = True
        if r.engine:
            entry["engine"] = r.engine
        if r.status != "failed" and r.changes:
            entry["changes"] = r.changes
        if r.status != "failed" and r.trend:
            entry["trend"] = r.trend
        sections[r.name] = entry
    return {"client": cfg.client, "client_name": cfg.name, "language": cfg.language, "period": str(cfg.period),
            "generated_at": generated_at, "journeykit_version": __version__, "engine": cfg.engine.backend,
            "sections": sections}


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


def _section_worker(client: str, period: str, overrides, root: str, nb_path: str, out_path: str,
                    delay: float) -> SectionResult:
    """One section in a worker process (see :func:`run` with ``jobs``)."""
    time.sleep(delay)  # stagger kernel starts (papermill #239, #511)
    cfg = config.load(client, period, overrides=overrides, root=Path(root))
    return execute_section(cfg, Path(nb_path), Path(out_path))


HEAVY_SECTIONS = ("70_prediction", "60_segmentation", "40_retention", "20_consideration", "80_ltv", "55_campaigns")
"""Sections that fit models or scan every event, longest first (measured on
the demo and large data): without an earlier report of the client they
start first, so that no long section is left to run alone at the end."""


def expected_seconds(cfg: RunConfig, paths: list[Path]) -> dict[str, float]:
    """Each section's time in the client's most recent report (``seconds``
    in its metrics.json); sections it lacks, or every section when there is
    none, get an estimate from :data:`HEAVY_SECTIONS`."""
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
    rank = {name: len(HEAVY_SECTIONS) - i for i, name in enumerate(HEAVY_SECTIONS)}
    return {p.stem: seen.get(p.stem, float(rank.get(p.stem, 0))) for p in paths}


def _execute_all(cfg: RunConfig, paths: list[Path], staging: Path, generated_at: str, jobs: int,
                 say: Callable[[str], None], overrides) -> list[SectionResult]:
    """Execute the section notebooks into ``staging/notebooks``.

    Sections run in notebook order; with ``jobs > 1`` the independent ones
    run in that many worker processes (each with its own kernel, its own
    working folder and a staggered start), the longest expected first
    (:func:`expected_seconds`). Summary sections (``*_summary``) read the
    others' results, so they run afterwards, one at a time.
    """
    done: list[SectionResult] = []
    n = len(paths)
    pos = {p: i for i, p in enumerate(paths, 1)}

    def write_results():
        (staging / ".run-results.json").write_text(
            json.dumps(metrics_document(cfg, sorted(done, key=lambda r: r.name), generated_at), ensure_ascii=False),
            encoding="utf-8")

    def finished(r: SectionResult, p: Path) -> None:
        extra = f" ({r.error})" if r.error else (f" (needs {', '.join(r.needs)})" if r.needs else "")
        say(f"{cfg.client} {cfg.period}: [{pos[p]}/{n}] {p.stem} {r.status} in {r.seconds:.1f} s{extra}")
        done.append(r)

    independent = [p for p in paths if not p.stem.endswith("_summary")]
    sequential = paths
    if jobs > 1 and len(independent) > 1:
        sequential = [p for p in paths if p.stem.endswith("_summary")]
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor, as_completed

        write_results()
        cost = expected_seconds(cfg, independent)
        independent = sorted(independent, key=lambda p: -cost[p.stem])  # stable: ties keep notebook order
        with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn")) as pool:
            futures = {}
            for k, p in enumerate(independent):
                say(f"{cfg.client} {cfg.period}: [{pos[p]}/{n}] {p.stem} …")
                fut = pool.submit(_section_worker, cfg.client, str(cfg.period), overrides, str(cfg.root), str(p),
                                  str(staging / "notebooks" / p.name), 1.0 * min(k, jobs - 1))
                futures[fut] = p
            for fut in as_completed(futures):
                p = futures[fut]
                try:
                    r = fut.result()
                except Exception as e:  # the worker itself died: record, keep the others
                    r = SectionResult(name=p.stem, title=p.stem, status="failed",
                                      error=f"{type(e).__name__}: {_first_line(str(e))}")
                finished(r, p)
    for p in sequential:
        say(f"{cfg.client} {cfg.period}: [{pos[p]}/{n}] {p.stem} …")
        write_results()  # later sections (the summary) read the results of earlier ones
        finished(execute_section(cfg, p, staging / "notebooks" / p.name), p)
    order = {p.stem: i for i, p in enumerate(paths)}
    return sorted(done, key=lambda r: order.get(r.name, len(order)))


def _start_spark_server(cfg: RunConfig, say: Callable[[str], None]):
    """For ``engine.backend: spark`` without a ``remote``: one local Spark
    Connect server shared by every section kernel of the run (each kernel
    would otherwise start and warm up its own JVM). ``None`` when not
    needed, or when PySpark's Connect client is not installed (each kernel
    then starts its own local session)."""
    sc = cfg.engine.spark
    if cfg.engine.backend != "spark" or sc.remote or os.environ.get(engine.REMOTE_ENV):
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
    os.environ[engine.REMOTE_ENV] = server.url
    say(f"{cfg.client} {cfg.period}: Spark ({sc.master}) ready at {server.url} ({time.perf_counter() - t0:.1f} s)")
    return server


def run(
    client: str,
    period: str,
    *,
    overrides: list[str] | dict | None = None,
    root: Path | None = None,
    sections: list[str] | None = None,
    jobs: int = 1,
    progress: Callable[[str], None] | None = None,
) -> RunResult:
    """Render the full report for one client and period.

    ``jobs`` > 1 runs independent sections in that many processes at once.
    Returns a :class:`RunResult`; never raises for a section's failure.
    Configuration and data-contract errors are returned in ``error`` (no
    report is written for them).
    """
    say = progress or (lambda msg: print(msg, file=sys.stderr, flush=True))
    result = RunResult(client=client, period=str(period))
    try:
        cfg = config.load(client, period, overrides=overrides, root=root)
        result.period = str(cfg.period)
        say(f"{client} {cfg.period}: loading and validating data …")
        t0 = time.perf_counter()
        io.prepare(cfg, refresh=cfg.data.is_database)
        say(f"{client} {cfg.period}: data ready ({time.perf_counter() - t0:.1f} s)")
    except JourneykitError as e:
        result.error = e.render()
        return result

    paths = notebooks(cfg.root, sections or cfg.report.sections or None)
    if not paths:
        result.error = f"no section notebooks found in {cfg.root / 'notebooks'}"
        return result
    target = cfg.report_dir
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".tmp-{cfg.period}-{uuid.uuid4().hex[:8]}"
    (staging / "notebooks").mkdir(parents=True)
    generated_at = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    # The section kernels load their config themselves: they see the run's
    # --set overrides through the environment (worker processes inherit it).
    saved_overrides = os.environ.get(config.OVERRIDES_ENV)
    parsed = config.parse_overrides(overrides) if isinstance(overrides, list) else (overrides or {})
    if parsed:
        os.environ[config.OVERRIDES_ENV] = json.dumps(parsed, default=str)
    spark_server = None
    try:
        spark_server = _start_spark_server(cfg, say)
        result.sections = _execute_all(cfg, paths, staging, generated_at, max(1, jobs), say, overrides)
        shutil.rmtree(staging / ".kernel", ignore_errors=True)
        (staging / ".run-results.json").unlink(missing_ok=True)
        doc = metrics_document(cfg, result.sections, generated_at)
        (staging / "metrics.json").write_text(json.dumps(doc, ensure_ascii=False, indent=2, allow_nan=False), encoding="utf-8")
        say(f"{client} {cfg.period}: rendering HTML{' and PDF' if cfg.report.pdf else ''} …")
        render.write_report(cfg, staging, result.sections, generated_at[:16].replace("T", " "))
    except BaseException as e:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(e, JourneykitError):
            result.error = e.render()
            return result
        raise
    finally:
        if spark_server is not None:
            spark_server.stop()
            os.environ.pop(engine.REMOTE_ENV, None)
        if saved_overrides is None:
            os.environ.pop(config.OVERRIDES_ENV, None)
        else:
            os.environ[config.OVERRIDES_ENV] = saved_overrides

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
