"""``python -m journeykit``: the same as the ``journeykit`` command."""

from journeykit.run.cli import main

raise SystemExit(main())
