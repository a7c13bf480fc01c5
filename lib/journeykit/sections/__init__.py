"""The report's sections: one package per section (``compute`` for the
numbers, ``view`` for what the notebook shows), declared once in
:mod:`.registry`. A notebook checks its section's needs with
``jk.sections.require(cfg, ds, "<section>")``."""

from journeykit.sections.registry import SECTIONS, get, require

__all__ = ["SECTIONS", "get", "require"]
