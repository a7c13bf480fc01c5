"""Section 55_campaigns: CRM message response (:mod:`.compute`), A/B test
readouts (:mod:`.experiments`, on :mod:`journeykit.stats.experiments`),
and what the notebook shows of both (:mod:`.view`)."""
