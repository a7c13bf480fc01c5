"""``python -m journeykit``: the same as the ``journeykit`` command."""

from .cli import main

raise SystemExit(main())
