"""journeykit: customer-lifecycle analysis, from raw exports to a report.

An analyst's notebook usually starts with::

    import journeykit as jk
    cfg = jk.config.load("acme", "2026-10")
    ds = jk.io.load(cfg)
"""

__version__ = "0.1.0"

from . import config, errors, i18n, io, periods, plots, quality, report, schemas  # noqa: E402,F401
