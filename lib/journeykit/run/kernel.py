"""The section kernels' launcher: ``python -m journeykit.run.kernel -f
<connection file>``, an IPython kernel that dies with the process that
started it.

jupyter_client starts every kernel in a session of its own (so a Ctrl-C at
the terminal does not reach it), which also means nothing stops it when
its section worker is killed: the kernel's own parent poller notices only
about a second later, and only while Python code runs. Here the kernel
asks Linux to kill it the moment its parent exits (``PR_SET_PDEATHSIG``),
so a run stopped by SIGINT, SIGTERM, a time limit or even SIGKILL leaves
no kernel behind. Elsewhere it is an ordinary ``ipykernel_launcher``.

A section worker keeps its kernel from one section to the next (starting
a kernel and importing the scientific stack cost about 2 s per section,
a third of the demo report's CPU time); :func:`fresh_section` runs before
each section and leaves the kernel as a new one would be, as far as a
section can tell.
"""

from __future__ import annotations

import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGKILL, expected_parent: int | None = None) -> bool:
    """Have ``sig`` sent to this process when its parent exits (Linux); exit
    at once when the parent (``expected_parent``) is already gone. Returns
    whether the kernel could arrange it."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        armed = libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        armed = False
    if expected_parent and os.getppid() != expected_parent:
        os._exit(1)  # the parent died before the request took effect
    return armed


def fresh_section(cwd: str | None = None) -> None:
    """Make a kept kernel ready for its next section: every dataset the
    last one opened is closed (its share of the cache connection and its
    lock), the engines it used are forgotten (a section records its own),
    the user namespace and output history are cleared (``%reset -f``),
    figures are closed, Matplotlib's settings, the warning
    filters and NumPy's error handling are put back as at kernel start,
    the working folder is ``cwd``, freed memory goes back to the system,
    the peak-memory mark restarts (so a section's recorded peak is its
    own) and cells count from 1 again. Modules stay imported: that is
    the point of keeping the kernel.

    What is still alive at the end is then frozen (``gc.freeze``): the
    garbage collector's full passes (``%reset`` makes two, the next
    section's own many) stop walking the imported stack's quarter of a
    million objects again, about 0.1 s a pass. Objects the sections
    create are not frozen, so their cycles are collected as before."""
    import gc
    import warnings

    from IPython import get_ipython

    ip = get_ipython()
    state = _START.setdefault("state", _snapshot())
    ds = sys.modules.get("journeykit.data.dataset")
    if ds is not None:
        ds.close_all()
        ds.ENGINES_OPENED.clear()   # a section records the engines it used itself (none: the summary)
    if ip is not None:
        # %reset clears the namespace of ``__main__`` and puts back only
        # IPython's own names: its module attributes (``__spec__``, which
        # PySpark reads, ``__loader__``, …) are restored as they were
        dunders = {k: v for k, v in ip.user_ns.items() if k.startswith("__") and k.endswith("__")}
        ip.run_line_magic("reset", "-f")
        for k, v in dunders.items():
            ip.user_ns.setdefault(k, v)
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")
    mpl = sys.modules.get("matplotlib")
    if mpl is not None:
        mpl.rcdefaults()
        inline = sys.modules.get("matplotlib_inline.backend_inline")
        if inline is not None:
            mpl.rcParams.update(inline.InlineBackend.instance().rc)
    warnings.filters[:] = state["warnings"]
    np = sys.modules.get("numpy")
    if np is not None:
        np.seterr(**NUMPY_ERRORS)
    if cwd:
        os.chdir(cwd)
    gc.collect()
    gc.freeze()
    _give_back_memory()
    if ip is not None:
        ip.execution_count = 1


WARM_MODULES = ("journeykit.core.config", "journeykit.data.dataset", "journeykit.facts", "journeykit.report",
                "journeykit.report.plots", "journeykit.stats.compare", "matplotlib.pyplot", "ibis", "duckdb")
"""What a section's first cell imports, whichever section it is (``import
journeykit as jk``, ``jk.config``, ``jk.load``, ``jk.plots``, the engine and
the charts): imported by :func:`warm` before the first section."""


def warm() -> None:
    """Import :data:`WARM_MODULES` into a kernel before its first section
    (:meth:`journeykit.run.workers.Pool.prestart`), while the runner still
    loads the data: 1.5 to 3 s the first section would otherwise spend. What
    :func:`fresh_section` restores is recorded first, as the kernel had it
    before these imports."""
    import importlib

    _START.setdefault("state", _snapshot())
    for name in WARM_MODULES:
        importlib.import_module(name)


_START: dict = {}

NUMPY_ERRORS = {"divide": "warn", "over": "warn", "under": "ignore", "invalid": "warn"}
"""NumPy's default floating-point error handling (``np.seterr``)."""


def _snapshot() -> dict:
    """What :func:`fresh_section` restores, as the kernel had it before its first section."""
    import warnings

    return {"warnings": list(warnings.filters)}


def _give_back_memory() -> None:
    """Return freed heap to the system (glibc's ``malloc_trim``) and restart
    the process's peak-memory mark (``/proc/self/clear_refs``, Linux); a
    no-op elsewhere."""
    try:
        import ctypes

        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def main() -> None:
    parent = os.environ.get("JPY_PARENT_PID")
    die_with_parent(signal.SIGKILL, int(parent) if parent and parent.isdigit() else None)
    # as ipykernel_launcher: the working folder is put back on the path by the kernel itself
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


if __name__ == "__main__":
    main()
