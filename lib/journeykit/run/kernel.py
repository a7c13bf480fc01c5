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
