"""A client's data: the contract (:mod:`.schemas`), reading and validating
exports (:mod:`.loader`), and the loaded :class:`~.dataset.Dataset` that owns
the engine connection and the memo of computed results. Imports only
:mod:`journeykit.core`."""
