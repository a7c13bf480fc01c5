"""Moves between groups from one period end to the next (RFM segments,
lifecycle states): who was where before and where she is now."""

from __future__ import annotations

import pandas as pd

NONE = "none"
"""The key of "not in any group at that period end" (no paid order in the
RFM window; not yet signed up)."""


def transitions(before: pd.Series, after: pd.Series, order: list[str]) -> pd.DataFrame:
    """Customers by (group before, group after): rows ``before``, columns
    ``after``, both in ``order`` + :data:`NONE`. ``before`` and ``after`` are
    Series indexed by customer id; a customer missing from one of them is
    counted under :data:`NONE` there."""
    j = pd.concat([before.rename("before"), after.rename("after")], axis=1).fillna(NONE)
    keys = [*order, NONE]
    m = pd.crosstab(j["before"], j["after"]).reindex(index=keys, columns=keys, fill_value=0)
    m.loc[NONE, NONE] = 0
    return m.astype("int64")


def largest_move(m: pd.DataFrame) -> tuple[str, str, int] | None:
    """The largest off-diagonal cell of a transition matrix (moves from or
    to :data:`NONE` excluded) as ``(from, to, customers)``; ties go to the
    first cell in row, then column order. ``None`` when nobody moved."""
    best = None
    for a in m.index:
        for b in m.columns:
            if a == b or NONE in (a, b):
                continue
            n = int(m.loc[a, b])
            if n and (best is None or n > best[2]):
                best = (a, b, n)
    return best


__all__ = ["NONE", "transitions", "largest_move"]
