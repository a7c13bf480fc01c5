"""Statistics with no knowledge of clients or reports: period-over-period
tests (:mod:`.compare`), A/B test statistics (:mod:`.experiments`) and
model fitters (:mod:`.bgnbd`). Nothing here imports above
:mod:`journeykit.core`."""
