"""The report's sections: one package per section (``compute`` for the
numbers, ``view`` for what the notebook shows), declared once in
:mod:`.registry`."""
