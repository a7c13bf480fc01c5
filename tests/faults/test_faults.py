"""Fault injection: a run that is stopped, killed, outlived, pulled from
under or starved of disk neither hangs, nor leaks processes or files, nor
loses the published report, nor reports a machine problem as a bug.

The runs here are real ``journeykit run`` processes over throw-away
notebooks (a few lines each: record a metric, or sleep so the run can be
hit while its sections work). Every process a run starts inherits a marker
in its environment, so the process table tells whether anything it started
outlived it. A full or read-only output folder is a small tmpfs where this
machine lets the tests mount one (root), and a simulated write failure
elsewhere.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from journeykit.run import cli
from journeykit.run import runner
from journeykit.run import workers

REPO = Path(__file__).resolve().parents[2]
LIB = REPO / "lib"
PERIOD = "2026-10"

RECORD = """\
import journeykit as jk
cfg = jk.config.load(client, period, resolved=run_config)
ds = jk.load(cfg)
jk.report.record("{name}", {{"orders": int(ds.table("orders").count().execute())}})
"""
# Says it started (a file in the project), then works for a long time.
SLOW = """\
import pathlib, time
import journeykit as jk
cfg = jk.config.load(client, period, resolved=run_config)
(cfg.root / "started-{name}").touch()
time.sleep({seconds})
jk.report.record("{name}", {{"x": 1}})
"""
# Reads the data, waits (a `journeykit validate` runs meanwhile), reads it again, also through
# the shared Parquet results the cache entry keeps (what validate used to pull away).
READS_ACROSS_VALIDATE = """\
import time
import journeykit as jk
cfg = jk.config.load(client, period, resolved=run_config)
ds = jk.load(cfg)
n1 = int(ds.table("orders").count().execute())
(cfg.root / "started-{name}").touch()
while not (cfg.root / "validated").exists() and time.time() < {deadline}:
    time.sleep(0.2)
ds2 = jk.load(cfg)
t = ds2.table("orders")
per = ds2.shared("orders_per_customer_{name}", t.group_by("customer_id").aggregate(n=t.count()))
jk.report.record("{name}", {{"orders": n1, "again": int(ds2.table("orders").count().execute()),
                             "customers": int(per.count().execute())}})
"""


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------

def write_notebook(path: Path, title: str, code: str) -> None:
    nb = new_notebook(cells=[
        new_markdown_cell(f"# {title}"),
        new_code_cell('client: str = "acme"\nperiod: str = "2026-10"\nrun_config: str = ""',
                      metadata={"tags": ["parameters"]}),
        new_code_cell(code),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def make_project(folder: Path, notebooks: dict[str, str], client: str = "acme") -> Path:
    root = folder / "project"
    (root / "params" / "clients").mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "params" / "defaults.yaml", root / "params" / "defaults.yaml")
    (root / "params" / "clients" / f"{client}.yaml").write_text(textwrap.dedent("""
        name: ACME
        data:
          source: data/acme
          tables:
            orders: {file: orders.csv}
        report:
          pdf: false
        """), encoding="utf-8")
    (root / "data" / "acme").mkdir(parents=True, exist_ok=True)
    (root / "data" / "acme" / "orders.csv").write_bytes(
        b"customer_id,ordered_at,amount\nc1,2026-09-01,10\nc1,2026-10-15,12\nc2,2026-10-20,7\n")
    set_notebooks(root, notebooks)
    return root


def set_notebooks(root: Path, notebooks: dict[str, str]) -> None:
    nbdir = root / "notebooks"
    if nbdir.exists():
        shutil.rmtree(nbdir)
    nbdir.mkdir()
    for name, code in notebooks.items():
        write_notebook(nbdir / f"{name}.ipynb", name, code)


def quick(*names: str) -> dict[str, str]:
    return {n: RECORD.format(name=n) for n in names}


def slow(*names: str, seconds: int = 120) -> dict[str, str]:
    return {n: SLOW.format(name=n, seconds=seconds) for n in names}


def start(root: Path, *args: str, mark: str, client: str = "acme", command: str = "run") -> subprocess.Popen:
    """``journeykit run`` (or ``batch``) as a process leading its own process
    group (as a shell's foreground job), with ``mark`` in its environment."""
    env = dict(os.environ, JK_FAULT_MARK=mark, PYTHONPATH=str(LIB))
    argv = [sys.executable, "-m", "journeykit", "--root", str(root), command]
    if command == "run":
        argv += ["--client", client, "--period", PERIOD]
    return subprocess.Popen([*argv, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


def marked(mark: str) -> list[str]:
    """The command lines of the live processes carrying ``mark``."""
    found = []
    needle = f"JK_FAULT_MARK={mark}".encode()
    for d in Path("/proc").glob("[0-9]*"):
        try:
            if needle in (d / "environ").read_bytes():
                state = next((ln for ln in (d / "status").read_text().splitlines() if ln.startswith("State:")), "")
                if "Z" not in state.split()[1:2]:  # a zombie is dead, only not yet reaped
                    found.append((d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:160])
        except (OSError, IndexError):
            continue
    return found


def wait_until(predicate, timeout: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != "run.log"}


def run_dirs() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob(workers.PREFIX + "*"))


def stray_connection_files() -> list[Path]:
    """Connection files of a run's kernels in the user's Jupyter runtime
    folder (where they went, and stayed after an interruption, before each
    run kept them in its own folder)."""
    from jupyter_core.paths import jupyter_runtime_dir

    found = []
    for f in Path(jupyter_runtime_dir()).glob("kernel-*.json"):
        try:
            if workers.PREFIX in f.read_text(encoding="utf-8"):
                found.append(f)
        except OSError:
            continue
    return found


def can_mount() -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    probe = Path(tempfile.mkdtemp(prefix="jk-mount-"))
    try:
        ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(probe)],
                            capture_output=True).returncode == 0
        if ok:
            subprocess.run(["umount", str(probe)], capture_output=True)
        return ok
    finally:
        probe.rmdir()


MOUNT = can_mount()


class Tmpfs:
    """A small tmpfs mounted at ``path`` (optionally read-only) for the test's duration."""

    def __init__(self, path: Path, size: str, read_only: bool = False):
        self.path, self.size, self.read_only = path, size, read_only

    def __enter__(self) -> Path:
        self.path.mkdir(parents=True, exist_ok=True)
        opts = f"size={self.size}" + (",ro" if self.read_only else "")
        subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(self.path)], check=True)
        return self.path

    def __exit__(self, *exc) -> None:
        subprocess.run(["umount", "-l", str(self.path)], check=False)


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    """A project with a published good report of acme 2026-10 (two quick
    sections), copied for each test that stops a later run."""
    root = make_project(tmp_path_factory.mktemp("published"), quick("00_a", "10_b"))
    assert cli.main(["--root", str(root), "run", "--client", "acme", "--period", PERIOD]) == 0
    return root


@pytest.fixture
def project(published, tmp_path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(published, root, symlinks=True)
    return root


# --------------------------------------------------------------------------
# Stopping a run: SIGINT, SIGTERM, Ctrl-C to the process group, SIGKILL
# --------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["sigint", "sigterm", "ctrl_c_group", "sigint_three_times"])
def test_a_stopped_parallel_run_ends_in_seconds_leaving_nothing_and_the_report_intact(project, how):
    target = project / "reports" / "acme" / PERIOD
    before = tree(target)
    dirs = run_dirs()
    set_notebooks(project, {**quick("00_a"), **slow("10_b", "20_c", "30_d", "40_e")})   # 4 slow ones, 2 at a time
    mark = uuid.uuid4().hex
    proc = start(project, "--jobs", "2", "--force", mark=mark)
    assert wait_until(lambda: len(list(project.glob("started-*"))) >= 2, 90), proc.stderr and proc.communicate()[1]
    assert len(marked(mark)) >= 5          # the runner, two workers, two kernels

    t0 = time.monotonic()
    if how == "sigint":
        proc.send_signal(signal.SIGINT)
    elif how == "sigterm":
        proc.send_signal(signal.SIGTERM)
    elif how == "ctrl_c_group":
        os.killpg(proc.pid, signal.SIGINT)   # what a terminal's Ctrl-C does: the whole foreground group
    else:
        for _ in range(3):
            proc.send_signal(signal.SIGINT)
            time.sleep(0.05)
    _, err = proc.communicate(timeout=30)
    took = time.monotonic() - t0

    assert took < 10, f"took {took:.1f} s to stop"     # seconds, not the queued sections' minutes
    assert proc.returncode == (143 if how == "sigterm" else 130)
    assert "Traceback" not in err and "zmq" not in err.lower()
    stop_lines = [ln for ln in err.splitlines() if "interrupted" in ln]
    assert len(stop_lines) == 1 and stop_lines[0].startswith("error: interrupted (SIG")
    assert len([ln for ln in err.splitlines() if not ln[:4].isdigit()]) == 1   # that line, and progress lines
    assert wait_until(lambda: not marked(mark), 5), marked(mark)          # no worker, kernel or tracker left
    assert tree(target) == before                                          # the published report, byte for byte
    assert not list(target.parent.glob(".tmp-*")) and not list(target.parent.glob(".old-*"))
    assert run_dirs() <= dirs and not stray_connection_files()            # kernel files and sockets gone too
    assert "interrupted (SIG" in (target / "run.log").read_text(encoding="utf-8")

    set_notebooks(project, quick("00_a", "10_b"))
    assert cli.main(["--root", str(project), "run", "--client", "acme", "--period", PERIOD, "--force"]) == 0


def test_a_killed_run_takes_its_workers_along_and_the_next_run_cleans_up(project, capsys):
    target = project / "reports" / "acme" / PERIOD
    before = tree(target)
    dirs = run_dirs()
    set_notebooks(project, {**quick("00_a"), **slow("10_b", "20_c", "30_d")})
    mark = uuid.uuid4().hex
    proc = start(project, "--jobs", "2", "--force", mark=mark)
    assert wait_until(lambda: len(list(project.glob("started-*"))) >= 2, 90)
    proc.kill()                            # SIGKILL: the runner cannot clean up
    proc.communicate(timeout=10)
    assert wait_until(lambda: not marked(mark), 10), marked(mark)         # workers and kernels die with it
    assert tree(target) == before
    assert list(target.parent.glob(f".tmp-{PERIOD}-*"))                   # what it could not remove …
    assert run_dirs() - dirs

    set_notebooks(project, quick("00_a", "10_b"))
    assert cli.main(["--root", str(project), "run", "--client", "acme", "--period", PERIOD, "--force"]) == 0
    assert "an earlier run was stopped: removed .tmp-2026-10-" in capsys.readouterr().err
    assert not list(target.parent.glob(".tmp-*"))                         # … the next run removes
    assert not (run_dirs() - dirs)
    assert json.loads((target / "metrics.json").read_text())["sections"]["10_b"]["metrics"] == {"orders": 3}


def test_a_publish_cut_in_two_is_repaired_by_the_next_run(project):
    # a run killed between its two renames: the report moved aside, the new one not in place yet
    target = project / "reports" / "acme" / PERIOD
    before = tree(target)
    target.rename(target.with_name(f".old-{PERIOD}-abc123"))
    (target.parent / f".tmp-{PERIOD}-deadbeef").mkdir()
    assert runner.clean_leftovers(target) == [f"restored {PERIOD} (a publish was interrupted)",
                                             f"removed .tmp-{PERIOD}-deadbeef"]
    assert tree(target) == before
    assert sorted(p.name for p in target.parent.iterdir()) == [PERIOD]


def test_a_run_also_removes_what_dead_runs_of_other_periods_left(project):
    from journeykit.core import config

    folder = project / "reports" / "acme"
    (folder / ".tmp-2026-08-0badc0de").mkdir()       # its run is dead: removed
    (folder / ".tmp-2026-09-5ca1ab1e").mkdir()       # its run is alive (holds the lock): kept
    alive = runner.RunLock(project, "acme", "2026-09")
    assert alive.acquire() is None
    try:
        done = runner._clean_other_periods(config.load("acme", PERIOD, root=project))
    finally:
        alive.release()
    assert done == [("2026-08", "removed .tmp-2026-08-0badc0de")]
    assert sorted(p.name for p in folder.iterdir()) == [".tmp-2026-09-5ca1ab1e", PERIOD]


def test_a_runs_temporary_folder_goes_with_it_or_with_the_next_run(tmp_path):
    live = workers.RunFolder(tmp_path)
    dead = tmp_path / (workers.PREFIX + "dead0000")        # its run was killed: its lock is free
    (dead / "runtime").mkdir(parents=True)
    (dead / "owner.lock").touch()
    (dead / "runtime" / "kernel-1.json").write_text("{}")
    assert workers.sweep(tmp_path) == [dead]
    assert live.path.is_dir()                               # a live run's folder is locked: kept
    env = live.env()
    assert env["JUPYTER_RUNTIME_DIR"] == str(live.path / "runtime") and env["TMPDIR"] == str(live.path / "tmp")
    assert env["JUPYTER_PATH"].split(os.pathsep)[0] == str(live.path)
    spec = json.loads((live.path / "kernels" / "python3" / "kernel.json").read_text())
    assert spec["argv"][:3] == [sys.executable, "-m", "journeykit.run.kernel"]
    live.close()
    assert not live.path.exists()


def test_a_stopped_batch_stops_every_client_run(project):
    clients = project / "params" / "clients"
    shutil.copy(clients / "acme.yaml", clients / "beta.yaml")
    set_notebooks(project, slow("10_b", "20_c"))
    mark = uuid.uuid4().hex
    proc = start(project, "--period", PERIOD, "--clients", "acme", "beta", "--jobs", "2", "--force",
                 mark=mark, command="batch")
    assert wait_until(lambda: len(list(project.glob("started-*"))) >= 2, 120)
    t0 = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert time.monotonic() - t0 < 20 and proc.returncode == 130
    assert "Traceback" not in err
    assert wait_until(lambda: not marked(mark), 5), marked(mark)
    assert not list((project / "reports").glob("*/.tmp-*"))


# --------------------------------------------------------------------------
# A section over its time limit
# --------------------------------------------------------------------------

def test_a_section_over_its_time_limit_is_stopped_failed_and_the_run_goes_on(tmp_path):
    root = make_project(tmp_path, {**quick("00_a", "20_c"), **slow("10_stuck", seconds=600)})
    mark = uuid.uuid4().hex
    t0 = time.monotonic()
    # 30 s: the quick sections finish well within it, even on a loaded machine
    proc = start(root, "--jobs", "2", "--set", "report.section_timeout_minutes=0.5", mark=mark)
    _, err = proc.communicate(timeout=180)
    assert time.monotonic() - t0 < 150
    assert proc.returncode == 1, err                     # a section failed; the others were rendered
    out = root / "reports" / "acme" / PERIOD             # the first report of the period: published
    doc = json.loads((out / "metrics.json").read_text())
    stuck = doc["sections"]["10_stuck"]
    assert stuck["status"] == "failed" and stuck["error"].startswith("timed out: stopped after 0.5 minutes")
    assert doc["sections"]["00_a"]["status"] == doc["sections"]["20_c"]["status"] == "ok"
    ran = json.loads((out / "run.json").read_text())
    assert ran["sections"]["10_stuck"]["timed_out"] is True
    assert "could not be produced" in (out / "10_stuck.html").read_text(encoding="utf-8")
    assert wait_until(lambda: not marked(mark), 5), marked(mark)


def test_the_long_model_fits_cap_their_own_iterations(monkeypatch):
    # the LTV's Pareto/NBD fit ran for hours on a long-silent client: its optimizer is capped
    import numpy as np
    import pandas as pd
    import scipy.optimize

    from journeykit.sections.ltv import models

    seen = []
    real = scipy.optimize.minimize

    def spy(*a, **k):
        seen.append((k.get("options") or {}).get("maxiter"))
        return real(*a, **k)

    monkeypatch.setattr(scipy.optimize, "minimize", spy)
    monkeypatch.setattr(models, "_LT", {})               # the fitters are re-made with the spy
    tr = pd.DataFrame({"frequency": [0.0, 1.0, 2.0, 5.0], "recency": [0.0, 30.0, 60.0, 200.0],
                       "T": [300.0, 300.0, 300.0, 300.0], "weight": [40, 20, 10, 5]})
    models.fit_transactions("pareto_nbd", tr)
    assert seen and all(m is not None and m <= models.PARETO_MAXITER <= 3000 for m in seen)
    assert np.isfinite(models.PARETO_MAXITER)


# --------------------------------------------------------------------------
# `journeykit validate` while a run reads the data
# --------------------------------------------------------------------------

def test_validate_during_a_run_never_pulls_the_data_from_under_it(tmp_path, capsys):
    deadline = time.time() + 120
    root = make_project(tmp_path, {n: READS_ACROSS_VALIDATE.format(name=n, deadline=deadline)
                                   for n in ("10_a", "20_b")})
    cache = root / "data" / ".cache" / "acme"
    mark = uuid.uuid4().hex
    proc = start(root, "--jobs", "2", mark=mark)
    assert wait_until(lambda: len(list(root.glob("started-*"))) == 2, 90)
    pinned = sorted(p.name for p in cache.iterdir() if not p.name.startswith("."))
    for _ in range(2):   # each validate builds a new entry and removes the entries nobody uses
        assert cli.main(["--root", str(root), "validate", "--client", "acme"]) == 0
    assert "data is valid" in capsys.readouterr().out
    assert set(pinned) <= {p.name for p in cache.iterdir()}            # the run's entry is still there
    (root / "validated").touch()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    doc = json.loads((root / "reports" / "acme" / PERIOD / "metrics.json").read_text())
    for name in ("10_a", "20_b"):
        assert doc["sections"][name]["metrics"] == {"orders": 3, "again": 3, "customers": 2}
    # once the run is over, its entry is no longer held: the next validate removes it
    assert cli.main(["--root", str(root), "validate", "--client", "acme"]) == 0
    assert len([p for p in cache.iterdir() if not p.name.startswith(".")]) == 1
    assert not set(pinned) & {p.name for p in cache.iterdir()}


def test_an_entry_in_use_is_never_swept_and_a_free_one_is(tmp_path):
    from journeykit.core import config
    from journeykit.data import loader

    root = make_project(tmp_path, {})
    cfg = config.load("acme", PERIOD, root=root)
    with loader.load(cfg) as ds:
        first = ds.path
        newer = loader.entry(cfg, refresh=True)           # validate's rebuild, while ds is open
        assert first.exists() and newer != first
        assert ds.table("orders").count().execute() == 3
        assert loader.sweep(first.parent, keep={newer}) == []
    assert loader.sweep(first.parent, keep={newer}) == [first]          # closed: nobody holds it
    assert loader.cached(cfg) == newer


# --------------------------------------------------------------------------
# The machine in the way: no Chromium, a full disk, a read-only folder, a long name
# --------------------------------------------------------------------------

def test_without_chromium_the_html_report_is_rendered_and_the_fix_given(tmp_path, monkeypatch, capsys):
    from journeykit.core.errors import JourneykitError
    from journeykit.run import render

    root = make_project(tmp_path, quick("00_a"))
    (root / "params" / "clients" / "acme.yaml").write_text(
        (root / "params" / "clients" / "acme.yaml").read_text().replace("pdf: false", "pdf: true"))

    def missing():
        raise JourneykitError("no Chromium found to print report.pdf")

    monkeypatch.setattr(render, "find_chromium", missing)
    code = cli.main(["--root", str(root), "run", "--client", "acme", "--period", PERIOD])
    out, err = capsys.readouterr()
    assert code == cli.EXIT_FAILED == 1
    target = root / "reports" / "acme" / PERIOD
    assert (target / "index.html").is_file() and (target / "00_a.html").is_file()
    assert not (target / "report.pdf").exists() and 'href="report.pdf"' not in (target / "index.html").read_text()
    assert not (target / "brief.pdf").exists() and not (target / "brief.png").exists()   # no brief either
    assert "no Chromium found" in err and "make sysdeps" in err and "run the same command again" in err
    # said before any section started
    progress = err.splitlines()
    assert next(i for i, ln in enumerate(progress) if "warning: report.pdf, brief.pdf and brief.png will not be made" in ln) < \
        next(i for i, ln in enumerate(progress) if "00_a" in ln)
    assert json.loads((target / "run.json").read_text())["pdf"] is False
    # with Chromium back, the same command renders again (a report without its PDF is not up to date)
    monkeypatch.undo()
    if shutil.which("chromium") or os.environ.get("JOURNEYKIT_CHROMIUM"):
        assert cli.main(["--root", str(root), "run", "--client", "acme", "--period", PERIOD]) == 0
        assert (target / "report.pdf").is_file() and (target / "brief.pdf").is_file()   # and the one-page brief
        assert (target / "brief.png").is_file() or not shutil.which("pdftoppm")
        assert 'href="acme/2026-10/brief.pdf"' in (root / "reports" / "index.html").read_text(encoding="utf-8")


@pytest.mark.skipif(not MOUNT, reason="needs root to mount a small tmpfs")
def test_a_full_reports_disk_is_refused_before_any_section_with_the_space_needed(tmp_path, capsys):
    root = make_project(tmp_path, quick("00_a"))
    with Tmpfs(root / "reports", "2m"):
        code = cli.main(["--root", str(root), "run", "--client", "acme", "--period", PERIOD])
        err = capsys.readouterr().err
        assert code == cli.EXIT_INPUT == 2
        assert "not enough disk space for the report" in err and "MB needed" in err and "fix: free space" in err
        assert "Traceback" not in err and "00_a" not in err                # refused before any section started
        assert not any((root / "reports").rglob("*.ipynb"))


@pytest.mark.skipif(not MOUNT, reason="needs root to mount a small tmpfs")
def test_a_disk_that_fills_during_the_run_is_a_message_not_a_bug(tmp_path, capsys, monkeypatch):
    # The estimate passes (set to nothing here), then the disk fills while the sections write.
    monkeypatch.setattr(runner, "MIN_FREE_BYTES", 0)
    big = "print('x' * 400_000)\n" + RECORD.format(name="00_a")      # a 400 kB output per section
    root = make_project(tmp_path, {"00_a": big, "10_b": big.replace("00_a", "10_b")})
    with Tmpfs(root / "reports", "600k"):
        code = cli.main(["--root", str(root), "run", "--client", "acme", "--period", PERIOD])
        err = capsys.readouterr().err
        assert code == 2, err
        assert "no space left on the disk" in err and "fix: free space" in err and "Traceback" not in err
        assert not list((root / "reports" / "acme").glob(".tmp-*"))
        assert not (root / "reports" / "acme" / PERIOD).exists()


@pytest.mark.skipif(not MOUNT, reason="needs root to mount a small tmpfs")
def test_a_disk_that_fills_while_the_cache_is_built_is_a_message_not_a_bug(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(runner, "cache_space_needed", lambda cfg: 0)   # the estimate passes; the disk fills
    root = make_project(tmp_path, quick("00_a"))
    rows = b"".join(b"c%d,2026-10-%02d,%d\n" % (i, 1 + i % 28, i) for i in range(60_000))
    (root / "data" / "acme" / "orders.csv").write_bytes(b"customer_id,ordered_at,amount\n" + rows)
    with Tmpfs(root / "data" / ".cache", "300k"):
        code = cli.main(["--root", str(root), "run", "--client", "acme", "--period", PERIOD])
        err = capsys.readouterr().err
        assert code == 2, err
        assert "no space left on the disk" in err and "fix: free space" in err
        assert "Traceback" not in err and "internal error" not in err
        code = cli.main(["--root", str(root), "validate", "--client", "acme"])
        err = capsys.readouterr().err
        assert code == 2 and "no space left on the disk" in err and "internal error" not in err


def test_a_read_only_reports_folder_is_a_message_not_a_bug(tmp_path, capsys, monkeypatch):
    root = make_project(tmp_path, quick("00_a"))
    reports = root / "reports"
    if MOUNT:
        ctx = Tmpfs(reports, "1m", read_only=True)
    else:   # without a mount: the write fails as a read-only file system would make it
        real = Path.write_bytes

        def refuse(self, data):
            if reports in self.parents:
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))
            return real(self, data)

        monkeypatch.setattr(Path, "write_bytes", refuse)
        ctx = open(os.devnull)
    with ctx:
        code = cli.main(["--root", str(root), "run", "--client", "acme", "--period", PERIOD])
        err = capsys.readouterr().err
    assert code == 2, err
    assert "cannot write the report" in err and "read-only" in err and "fix: make the folder writable" in err
    assert "Traceback" not in err


def test_a_300_character_client_name_is_a_message_not_a_bug(tmp_path, capsys):
    root = make_project(tmp_path, quick("00_a"))
    name = "a" * 300
    for argv in (["run", "--client", name, "--period", PERIOD], ["validate", "--client", name],
                 ["new-client", "--client", name]):
        code = cli.main(["--root", str(root), *argv])
        err = capsys.readouterr().err
        assert code == 2, (argv, err)
        assert "300 characters long: at most 64 are allowed" in err and "Traceback" not in err
