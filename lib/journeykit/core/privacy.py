"""Pseudonymous customer ids for client-facing outputs.

Exports and target lists never carry a client's own customer ids: each id
becomes a keyed hash (HMAC-SHA-256 with the client's secret,
:meth:`journeykit.core.config.RunConfig.secret`), the same for the same id and
secret in every run, so a client matches lists across months with its key
and nobody can reverse or recompute them without it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

import pandas as pd

PREFIX = "cx_"
DIGITS = 16  # 64 bits: no collisions in practice for the customer counts of one client


def pseudonym(customer_id: object, secret: bytes) -> str | None:
    """The keyed hash of one id: ``cx_`` + 16 hex digits; ``None`` stays ``None``."""
    if customer_id is None or (isinstance(customer_id, float) and pd.isna(customer_id)):
        return None
    digest = hmac.new(secret, str(customer_id).encode("utf-8"), hashlib.sha256).hexdigest()
    return PREFIX + digest[:DIGITS]


def pseudonymize(ids: Iterable[object], secret: bytes) -> pd.Series:
    """:func:`pseudonym` of every id, as a string Series in the same order.
    The key is absorbed into the HMAC state once, and each distinct id is
    hashed once (target lists of a million customers repeat ids across
    playbooks)."""
    keyed = hmac.new(secret, digestmod=hashlib.sha256)
    seen: dict[str, str] = {}
    out = []
    for i in ids:
        if i is None or (isinstance(i, float) and pd.isna(i)):
            out.append(None)
            continue
        s = str(i)
        p = seen.get(s)
        if p is None:
            h = keyed.copy()
            h.update(s.encode("utf-8"))
            p = seen[s] = PREFIX + h.hexdigest()[:DIGITS]
        out.append(p)
    return pd.Series(out, dtype="object")


def pseudonymize_frame(df: pd.DataFrame, cfg, column: str = "customer_id") -> pd.DataFrame:
    """A copy of ``df`` whose ``column`` holds pseudonyms under the client's secret."""
    out = df.copy()
    out[column] = pseudonymize(out[column].tolist(), cfg.secret()).to_numpy()
    return out


__all__ = ["pseudonym", "pseudonymize", "pseudonymize_frame", "PREFIX"]
