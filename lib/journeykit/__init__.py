"""journeykit: customer-lifecycle analysis, from raw exports to a report.

An analyst's notebook usually starts with::

    import journeykit as jk
    cfg = jk.config.load("acme", "2026-10")
    ds = jk.load(cfg)

Layers, each importing only those above it in this list:

- :mod:`journeykit.core` — typed settings, periods, errors, privacy, engines;
- :mod:`journeykit.data` — the data contract, the loader and the Dataset;
- :mod:`journeykit.stats` — tests and model fitters;
- :mod:`journeykit.facts` — business definitions, each once;
- :mod:`journeykit.report` — formats, tables, charts, words, recorded results;
- :mod:`journeykit.sections` — one package per report section, and the registry;
- :mod:`journeykit.run` — the runner, HTML/PDF rendering and the command line.
"""

__version__ = "0.1.0"

import importlib as _importlib
import os as _os
import sys as _sys
import warnings as _warnings


def _no_transparent_huge_pages() -> None:
    """Turn transparent huge pages off for this process and every process it
    starts (``prctl(PR_SET_THP_DISABLE)``, inherited across fork and exec).

    numpy and Arrow's allocator (mimalloc) ask the kernel for huge pages for
    large blocks. Where the kernel then compacts memory on each fault (THP
    defrag ``madvise``, as on the 2-core VMs this project is measured on), a
    fresh gigabyte cost 6-7 s of kernel time instead of 0.4 s, and a million
    customers' frames spent more time being allocated than computed
    (measured: 2 GiB of numpy in 12.4 s against 0.86 s; a 30 M-row Arrow
    table to pandas in 7.4 s against 0.5 s). ``JOURNEYKIT_HUGE_PAGES=1``
    keeps them."""
    if _os.environ.get("JOURNEYKIT_HUGE_PAGES") == "1" or not _sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(41, 1, 0, 0, 0)  # PR_SET_THP_DISABLE
    except (OSError, AttributeError):  # no prctl: nothing to turn off
        pass


_no_transparent_huge_pages()

# With PySpark installed (the Spark engine), pandera imports pyspark.pandas,
# which warns on every import that it does not fully support pandas 3.
# journeykit never hands PySpark a pandas frame (results come back through
# Ibis), so the warning says nothing about this process.
_warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)

_LAZY = {
    "config": "journeykit.core.config",
    "periods": "journeykit.core.periods",
    "errors": "journeykit.core.errors",
    "facts": "journeykit.facts",
    "report": "journeykit.report",
    "plots": "journeykit.report.plots",
    "i18n": "journeykit.core.i18n",
    "sections": "journeykit.sections",
    "registry": "journeykit.sections.registry",
    "schemas": "journeykit.data.schemas",
}


def __getattr__(name: str):
    # Submodules load on first use, so ``import journeykit`` stays cheap for
    # the runner and a section pays only for what it uses.
    if name in _LAZY:
        module = _importlib.import_module(_LAZY[name])
        globals()[name] = module
        return module
    if name == "load":
        from journeykit.data.loader import load

        return load
    raise AttributeError(f"module 'journeykit' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_LAZY, "load"])
