"""Statistics with no knowledge of clients or reports: period-over-period
tests (:mod:`.compare`) and model fitters (:mod:`.bgnbd`)."""
