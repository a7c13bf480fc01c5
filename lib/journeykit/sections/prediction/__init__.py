"""Section 70 · Prediction: churn, promoter and upsell models, each
validated on a time-based holdout. :mod:`.features` (one builder per
source), :mod:`.labels` (populations and labels), :mod:`.models`
(classifiers and evaluation), :mod:`.compute` (backtest, scores, the
section's numbers) and :mod:`.view` (words, tables, charts)."""
