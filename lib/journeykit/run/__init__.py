"""Running a report: execute the sections (:mod:`.runner`), render HTML and
PDF (:mod:`.render`), and the ``journeykit`` command (:mod:`.cli`). The top
layer: nothing below imports it."""
