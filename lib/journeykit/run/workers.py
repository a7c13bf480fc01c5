"""Section workers: where the runner's notebooks execute, and how a run
stops without leaving anything behind.

Every section runs in a worker process (``python -m journeykit.run.workers``)
that the runner starts in a session of its own: a Ctrl-C at the terminal
reaches the runner only, which then stops the run itself (papermill and ZMQ
in the workers never see the signal, so they print no tracebacks). A
worker executes one section at a time with papermill; its kernel is
started by :mod:`journeykit.run.kernel` and dies with it.

Nothing a worker or kernel leaves is outside the run's own temporary
folder (:class:`RunFolder`): the kernelspec, the kernels' connection files
and sockets, their ``TMPDIR`` (DuckDB's spill files). The folder is locked
by the runner while the run lives and removed when it ends; a folder whose
run died (SIGKILL, power loss) is unlocked, and the next run removes it.

How a run stops, whatever stops it:

- **the runner ends normally, is interrupted (SIGINT, SIGTERM) or a section
  exceeds its time limit**: :class:`Pool` kills the workers' and kernels'
  process groups (SIGKILL) and reaps them;
- **the runner itself is killed (SIGKILL)**: each worker asked Linux to
  kill it when the runner dies (``PR_SET_PDEATHSIG``) and each kernel to
  kill it when its worker dies, so the whole tree goes with it.

The protocol is one JSON object per line: the runner writes a task on the
worker's stdin; the worker answers ``{"kernel": pid}`` when a kernel starts
and ``{"done": id}`` once the section's result is written to the task's
``result`` file.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

PREFIX = "jk-run-"
"""Name prefix of the runs' temporary folders (in the system's temp folder)."""


# --------------------------------------------------------------------------
# The run's temporary folder
# --------------------------------------------------------------------------

def _try_lock(path: Path, create: bool = False) -> int | None:
    """An exclusive lock on ``path`` if nobody holds it (the descriptor), else ``None``."""
    try:
        fd = os.open(path, os.O_RDWR | (os.O_CREAT if create else 0), 0o600)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def sweep(base: Path | None = None) -> list[Path]:
    """Remove the temporary folders of runs that are no longer alive (their
    ``owner.lock`` is free); returns them."""
    base = Path(base or tempfile.gettempdir())
    removed = []
    for d in sorted(base.glob(PREFIX + "*")):
        if not d.is_dir():
            continue
        fd = _try_lock(d / "owner.lock")  # never created here: a folder appears with its lock held
        if fd is None:
            continue  # a live run's
        try:
            shutil.rmtree(d, ignore_errors=True)
            removed.append(d)
        finally:
            os.close(fd)
    return removed


class RunFolder:
    """The run's private temporary folder, locked while the run lives.

    ``kernels/python3/kernel.json`` makes every section kernel this
    interpreter, started through :mod:`journeykit.run.kernel`; ``runtime/``
    holds the kernels' connection files, ``k-*`` their sockets and ``tmp/``
    their temporary files. Removed by :meth:`close`; stale folders of dead
    runs are removed on creation (:func:`sweep`).
    """

    def __init__(self, base: Path | None = None):
        base = Path(base or tempfile.gettempdir())
        sweep(base)
        # made under another name, locked, then renamed: a sweep never sees it unlocked
        new = Path(tempfile.mkdtemp(prefix=".jk-new-", dir=base))
        fd = _try_lock(new / "owner.lock", create=True)
        if fd is None:  # cannot happen: the folder is new
            raise RuntimeError(f"cannot lock {new}")
        self.path = base / (PREFIX + new.name[len(".jk-new-"):])
        new.rename(self.path)
        self._fd = fd
        for sub in ("runtime", "tmp", "results"):
            (self.path / sub).mkdir()
        spec_dir = self.path / "kernels" / "python3"
        spec_dir.mkdir(parents=True)
        # --log-level: the kernel's own log lines ("KeyboardInterrupt caught in kernel" on every
        # shutdown) are noise in a run's log; a section's errors reach the runner through papermill.
        # exec_lines: figures carry their title and axis labels as plain text (the report's alt texts)
        spec = {"argv": [sys.executable, "-m", "journeykit.run.kernel", "-f", "{connection_file}",
                         "--log-level=CRITICAL",
                         "--IPKernelApp.exec_lines=__import__('journeykit.report.alt', fromlist=['register']).register();"],
                "display_name": "Python 3 (journeykit)", "language": "python",
                "metadata": {"debugger": False}}
        (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")

    def env(self) -> dict[str, str]:
        """The environment of the run's workers (and, inherited, their kernels)."""
        env = dict(os.environ)
        old = env.get("JUPYTER_PATH")
        env["JUPYTER_PATH"] = str(self.path) + (os.pathsep + old if old else "")
        env["JUPYTER_RUNTIME_DIR"] = str(self.path / "runtime")
        env["JOURNEYKIT_KERNEL_SOCKETS"] = str(self.path)
        env["TMPDIR"] = str(self.path / "tmp")
        return env

    def close(self) -> None:
        """Remove the folder and release its lock."""
        if self._fd is None:
            return
        shutil.rmtree(self.path, ignore_errors=True)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> "RunFolder":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --------------------------------------------------------------------------
# The pool of workers (runner side)
# --------------------------------------------------------------------------

@dataclass
class Task:
    """One section to execute: its notebook, where the executed notebook
    goes, the run's resolved configuration, a start delay (seconds;
    staggered kernel starts, papermill #239, #511), and whether it is
    memory-heavy (two such tasks never run at once)."""

    name: str
    notebook: str
    out: str
    run_config: str
    delay: float = 0.0
    memory_heavy: bool = False
    id: int = 0
    result: str = ""


@dataclass
class _Worker:
    proc: subprocess.Popen
    task: Task | None = None
    deadline: float | None = None
    started: float = 0.0
    kernels: list[int] = field(default_factory=list)
    buffer: bytes = b""
    warm: bool = False
    """Asked to start its kernel before its first task (:meth:`Pool.prestart`)."""


THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
"""The thread counts of OpenMP (scikit-learn) and BLAS a worker's kernel starts with."""


def run_cores() -> int:
    """The cores a run may use: ``JOURNEYKIT_CORES`` when set (``batch
    --jobs N`` gives each of its N client runs its share), else the cores
    this process may run on."""
    if os.environ.get("JOURNEYKIT_CORES"):
        return max(1, int(os.environ["JOURNEYKIT_CORES"]))
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def lane_threads(jobs: int, cores: int | None = None) -> int:
    """Threads for each of ``jobs`` sections running at once: the run's cores
    (:func:`run_cores`, unless given) shared out evenly, at least one each.

    Every section's engine and models would otherwise take every core: with
    two lanes on two cores, four busy threads took turns and scikit-learn's
    OpenMP threads spun while they waited. Measured on the large client,
    prediction beside a DuckDB query loop took 231 s (181 s of CPU) with two
    threads each and 141 s (132 s) with one."""
    return max(1, (run_cores() if cores is None else cores) // max(1, jobs))


def _kill_group(pid: int) -> None:
    """SIGKILL the process group led by ``pid`` (a worker or a kernel: each leads its session)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class Pool:
    """Up to ``jobs`` section workers of one run (see the module's docstring).

    ``run(tasks, done)`` executes the tasks in the given order, calling
    ``done(task, result)`` (a :class:`journeykit.report.results.SectionResult`)
    as each finishes. A section running longer than ``timeout`` seconds is
    stopped (worker and kernel killed) and recorded as failed; a worker that
    dies is recorded so too, and replaced. :meth:`close` (also on an
    exception, e.g. an interrupt) kills and reaps every worker and kernel.
    """

    def __init__(self, jobs: int, folder: RunFolder, timeout: float | None = None):
        self.jobs = max(1, int(jobs))
        self.threads = lane_threads(self.jobs)
        """Threads of each worker's kernel (:func:`lane_threads`)."""
        self.folder = folder
        self.timeout = timeout
        self.workers: list[_Worker] = []
        self._next_id = 0
        self._sel = selectors.DefaultSelector()
        self._closed = False

    # -- workers -----------------------------------------------------------
    def env(self) -> dict[str, str]:
        """The workers' environment (their kernels inherit it): the run
        folder's (:meth:`RunFolder.env`), with ``JOURNEYKIT_THREADS`` (the
        engine's threads, read by :mod:`journeykit.data.dataset`) and
        :data:`THREAD_VARIABLES` set to :attr:`threads`; a thread variable
        set in the runner's own environment is kept."""
        env = self.folder.env()
        env["JOURNEYKIT_THREADS"] = str(self.threads)
        for name in THREAD_VARIABLES:
            env.setdefault(name, str(self.threads))
        return env

    def _spawn(self) -> _Worker:
        cmd = [sys.executable, "-m", "journeykit.run.workers", "--parent", str(os.getpid())]
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None,
                                env=self.env(), start_new_session=True, close_fds=True)
        os.set_blocking(proc.stdout.fileno(), False)
        w = _Worker(proc)
        self._sel.register(proc.stdout, selectors.EVENT_READ, w)
        self.workers.append(w)
        return w

    def _kill(self, w: _Worker) -> None:
        for k in w.kernels:
            _kill_group(k)
        _kill_group(w.proc.pid)
        try:
            self._sel.unregister(w.proc.stdout)
        except (KeyError, ValueError):
            pass
        for stream in (w.proc.stdin, w.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        try:
            w.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        if w in self.workers:
            self.workers.remove(w)

    def close(self, wait: float = 0.0) -> None:
        """Kill and reap every worker and kernel of the pool. With ``wait``
        (seconds; a run that ended normally), idle workers are first asked
        to stop: each shuts its kernel down and exits, so both are reaped
        and their CPU time counted; what has not ended by then is killed."""
        if self._closed:
            return
        if wait > 0:
            idle = [w for w in self.workers if w.task is None]
            for w in idle:
                try:
                    w.proc.stdin.close()
                except OSError:
                    pass
            deadline = time.monotonic() + wait
            for w in idle:
                try:
                    w.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    pass
        for w in list(self.workers):
            self._kill(w)
        self._sel.close()
        self._closed = True

    def __enter__(self) -> "Pool":
        return self

    def __exit__(self, exc_type, *exc) -> None:
        self.close(wait=10.0 if exc_type is None else 0.0)

    def prestart(self, cwd: Path, n: int | None = None, stagger: float = 1.0) -> None:
        """Start ``n`` workers (default: ``jobs``) now, each of which starts
        its kernel and imports the analysis stack into it at once, a
        ``stagger`` apart (papermill #239, #511), while the runner still
        loads the data: about 2.5 s a lane, which the first section of each
        lane would otherwise wait. ``cwd``: the notebooks' folder, the
        kernels' working folder. A worker whose early start fails starts a
        kernel for its first section as it would have."""
        for i in range(self.jobs if n is None else max(0, min(n, self.jobs))):
            w = self._spawn()
            try:
                self._warm(w, cwd, stagger * i)
            except OSError:   # died at once: run() replaces it
                self._kill(w)
                continue
            w.warm = True

    def _warm(self, w: _Worker, cwd: Path, delay: float) -> None:
        w.proc.stdin.write((json.dumps({"warm": {"cwd": str(cwd), "delay": delay}}) + "\n").encode())
        w.proc.stdin.flush()

    # -- running -------------------------------------------------------------
    def _assign(self, w: _Worker, task: Task) -> None:
        self._next_id += 1
        task.id = self._next_id
        task.result = str(self.folder.path / "results" / f"{task.id}-{task.name}.json")
        w.task = task   # w.kernels: every kernel the worker started (it keeps one from section to section)
        w.started = time.monotonic()
        w.deadline = w.started + task.delay + self.timeout if self.timeout else None
        w.proc.stdin.write((json.dumps(dataclasses.asdict(task)) + "\n").encode())
        w.proc.stdin.flush()

    def _messages(self, w: _Worker) -> Iterator[dict]:
        try:
            chunk = os.read(w.proc.stdout.fileno(), 1 << 16)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            yield {"eof": True}
            return
        w.buffer += chunk
        while b"\n" in w.buffer:
            line, w.buffer = w.buffer.split(b"\n", 1)
            try:
                yield json.loads(line)
            except ValueError:
                continue

    def run(self, tasks: list[Task], done: Callable[[Task, object], None],
            started: Callable[[Task], None] | None = None, stagger: float = 0.0) -> None:
        """Execute ``tasks`` (in order, up to ``jobs`` at once); ``started(task)``
        as each one is handed to a worker, ``done(task, result)`` as each one
        finishes. While a memory-heavy task runs, a free worker takes the
        next task that is not (their peaks would add up), or waits. The
        first ``jobs`` tasks started wait ``stagger`` seconds more each than
        the one before (kernel starts, papermill #239, #511)."""
        pending = list(tasks)
        busy = 0
        refused = 0
        first = 0
        while pending or busy:
            while pending and busy < self.jobs:
                heavy_running = any(w.task is not None and w.task.memory_heavy for w in self.workers)
                nxt = next((t for t in pending if not (heavy_running and t.memory_heavy)), None)
                if nxt is None:
                    break
                idle = next((w for w in self.workers if w.task is None), None) or self._spawn()
                if first < self.jobs and not idle.warm:   # a warm worker's kernel started staggered already
                    nxt.delay = max(nxt.delay, stagger * first)
                try:
                    self._assign(idle, nxt)
                    refused = 0
                except OSError:  # the worker died before its first task: another one, twice at most
                    self._kill(idle)
                    refused += 1
                    if refused >= 3:
                        pending.remove(nxt)
                        done(nxt, _failed(nxt, "no section worker could be started (see the messages above)"))
                        refused = 0
                    continue
                pending.remove(nxt)
                first += 1
                task = nxt
                busy += 1
                if started is not None:
                    started(task)
            deadlines = [w.deadline for w in self.workers if w.task is not None and w.deadline]
            wait = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
            events = self._sel.select(timeout=min(wait, 1.0) if wait is not None else 1.0)
            for key, _ in events:
                w: _Worker = key.data
                for msg in self._messages(w):
                    if "kernel" in msg:
                        w.kernels.append(int(msg["kernel"]))
                    elif "done" in msg and w.task is not None and msg["done"] == w.task.id:
                        task, w.task, w.deadline = w.task, None, None
                        busy -= 1
                        done(task, _read_result(task))
                    elif "eof" in msg:
                        task = w.task
                        code = w.proc.poll()
                        self._kill(w)
                        if task is not None:
                            busy -= 1
                            how = (f"killed by signal {-code}" if code is not None and code < 0
                                   else f"exit code {code}")
                            done(task, _failed(task, f"the section's worker process died ({how}), "
                                                     "e.g. out of memory"))
                        break
            now = time.monotonic()
            for w in [w for w in self.workers if w.task is not None and w.deadline and now > w.deadline]:
                task = w.task
                self._kill(w)
                busy -= 1
                minutes = self.timeout / 60
                done(task, _failed(task, f"timed out: stopped after {minutes:g} minute{'s' if minutes != 1 else ''} "
                                         "(report.section_timeout_minutes)", timed_out=True))


def _read_result(task: Task):
    from journeykit.report.results import SectionResult

    try:
        data = json.loads(Path(task.result).read_text(encoding="utf-8"))
        Path(task.result).unlink(missing_ok=True)
        return SectionResult(**data)
    except (OSError, ValueError, TypeError) as e:
        return _failed(task, f"the section's result could not be read: {type(e).__name__}: {e}")


def _failed(task: Task, error: str, timed_out: bool = False):
    """A failed result for a section whose worker could not report one; an
    executed notebook it left half-written is removed."""
    from journeykit.report.results import SectionResult

    out = Path(task.out)
    if out.exists():
        import nbformat

        try:
            nbformat.read(out, as_version=4)
        except Exception:  # truncated when the worker was killed mid-write
            out.unlink(missing_ok=True)
    return SectionResult(name=task.name, title=task.name, status="failed", error=error, timed_out=timed_out)


# --------------------------------------------------------------------------
# The worker (its own process)
# --------------------------------------------------------------------------

_PROTO = None


def kernel_started(pid: int) -> None:
    """Tell the runner a kernel of this worker started (so it can kill it);
    called by the runner's kernel manager (no-op outside a worker)."""
    if _PROTO is not None:
        _PROTO.write(json.dumps({"kernel": int(pid)}) + "\n")
        _PROTO.flush()


def _execute(task: Task) -> dict:
    from journeykit.core import config
    from journeykit.report.results import SectionResult
    from journeykit.run import runner

    time.sleep(task.delay)
    try:
        cfg = config.read_resolved(task.run_config)
        result = runner.execute_section(cfg, Path(task.notebook), Path(task.out), Path(task.run_config))
    except Exception as e:  # noqa: BLE001 - reported as the section's failure
        result = SectionResult(name=task.name, title=task.name, status="failed",
                               error=f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}")
    return dataclasses.asdict(result)


def _warm(cwd: str, delay: float = 0.0) -> None:
    """Start this worker's kernel before its first task, after ``delay``
    seconds (:meth:`Pool.prestart`); a failure only costs the time: the
    first section starts a kernel as usual."""
    time.sleep(delay)
    try:
        from journeykit.run import runner

        runner.warm_kernel(Path(cwd))
    except Exception as e:  # noqa: BLE001 - the first section starts its own kernel
        print(f"journeykit: the section kernel could not be started early ({type(e).__name__}: {e}); "
              "it starts with the first section", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """A worker: read tasks from stdin until it closes (a ``warm`` line
    first: start the kernel before the first task)."""
    global _PROTO
    argv = sys.argv[1:] if argv is None else argv
    parent = int(argv[argv.index("--parent") + 1]) if "--parent" in argv else None
    from journeykit.run.kernel import die_with_parent

    die_with_parent(signal.SIGKILL, parent)
    # stdout is the protocol; anything a library prints goes to stderr instead
    _PROTO = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    for line in sys.stdin:
        if not line.strip():
            continue
        msg = json.loads(line)
        if "warm" in msg:
            _warm(**msg["warm"])
            continue
        task = Task(**msg)
        data = _execute(task)
        tmp = Path(task.result + ".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        tmp.replace(task.result)
        _PROTO.write(json.dumps({"done": task.id}) + "\n")
        _PROTO.flush()
    runner = sys.modules.get("journeykit.run.runner")
    if runner is not None:   # the runner asked this worker to stop: its kept kernel goes first
        runner._KEPT.discard()
    return 0


if __name__ == "__main__":
    # Run as ``python -m``, this module is ``__main__``: the runner's kernel
    # manager reports its kernels through ``journeykit.run.workers``, which
    # must be this module (with the protocol), not a second copy of it.
    sys.modules.setdefault("journeykit.run.workers", sys.modules[__name__])
    sys.exit(main())
