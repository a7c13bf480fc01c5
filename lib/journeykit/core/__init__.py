"""The lowest layer: typed settings (:mod:`.config`), reporting periods,
errors with a fix, pseudonyms, and the query engines. Imports nothing else
of journeykit."""
