"""journeykit: customer-lifecycle analysis, from raw exports to a report.

An analyst's notebook usually starts with::

    import journeykit as jk
    cfg = jk.config.load("acme", "2026-10")
    ds = jk.io.load(cfg)
"""

__version__ = "0.1.0"

import warnings as _warnings

# With PySpark installed (the Spark engine), pandera imports pyspark.pandas,
# which warns on every import that it does not fully support pandas 3.
# journeykit never hands PySpark a pandas frame (results come back through
# Ibis), so the warning says nothing about this process.
_warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)

from . import config, errors, i18n, io, periods, plots, quality, report, schemas  # noqa: E402,F401
