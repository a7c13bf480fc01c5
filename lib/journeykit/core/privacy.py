"""Privacy: pseudonymous customer ids, and personal data masked in names.

Exports and target lists never carry a client's own customer ids: each id
becomes a keyed hash (HMAC-SHA-256 with the client's secret,
:meth:`journeykit.core.config.RunConfig.secret`), the same for the same id and
secret in every run, so a client matches lists across months with its key
and nobody can reverse or recompute them without it.

Personal data also hides in the values of a client's categories: a channel
``search?email=kim@example.com``, a campaign ``welcome 010-1234-5678``, an
event name with a query string. :func:`mask_text` removes URL query
strings and replaces e-mail addresses with ``[email]`` and phone numbers
(Korean: ``010-1234-5678``, ``01012345678``, ``02-123-4567``; international:
``+82 10 1234 5678``, ``+1 (415) 555-0100``) with ``[phone]``. The same
patterns (:data:`PATTERNS`, written for both Python and DuckDB's RE2) are
applied where such text enters, at load (:func:`mask_sql`, every text column
but the ids), and again where it leaves for a report: table cells
(:mod:`journeykit.report.blocks`), recorded metrics and exports
(:mod:`journeykit.report.results`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

QUERY = r"\?[^\s?#]*=[^\s#]*"
"""A URL query string (``?key=value&…``): removed whole."""
EMAIL = r"[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
"""An e-mail address, also URL-encoded (``%40``)."""
PHONE = (r"\+[0-9]{1,3}[ .-]?\(?[0-9]{1,4}\)?(?:(?:[ .-]?[0-9]{3,4}){2}|(?:[ .-][0-9]{2}){4})"  # +82 10-1234-5678, +33 1 23 45 67 89
         r"|\b0[0-9]{1,2}[ .)-]{1,2}[0-9]{3,4}[ .-][0-9]{4}\b"                                   # 010-1234-5678, 02) 123-4567
         r"|\b01[016789][0-9]{7,8}\b"                                                           # 01012345678
         r"|\(?\b[0-9]{3}\)?[ .-][0-9]{3}[ .-][0-9]{4}\b")                                      # (415) 555-0100
"""A phone number, Korean or international."""
PATTERNS: tuple[tuple[str, str], ...] = ((EMAIL, "[email]"), (PHONE, "[phone]"), (QUERY, ""))
"""(pattern, replacement), applied in this order: addresses and numbers
first (a phone number may hold spaces, where a query string ends), then
the query strings."""
REMOVED = "[removed]"
"""What is left of a text that held nothing but a query string."""
HINT = r"[?@+]|%40|[0-9]{3}[ .)-]|[0-9]{7}"
"""Text :data:`PATTERNS` can match contains this (a cheap test first)."""

_COMPILED = [(re.compile(p, re.ASCII), r) for p, r in PATTERNS]
_HINT = re.compile(HINT)


def mask_text(text: str) -> str:
    """``text`` with URL query strings removed and e-mail addresses and phone
    numbers replaced (``[email]``, ``[phone]``); other text unchanged. A
    text that was nothing but a query string becomes :data:`REMOVED`."""
    if not isinstance(text, str) or not _HINT.search(text):
        return text
    for rx, repl in _COMPILED:
        text = rx.sub(repl, text)
    return text.strip() or REMOVED


def mask_values(value: Any) -> Any:
    """:func:`mask_text` on every string (mapping keys included) of a plain
    JSON value."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {mask_text(k) if isinstance(k, str) else k: mask_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_values(v) for v in value]
    return value


def mask_frame(df: pd.DataFrame, skip: Iterable[str] = ()) -> pd.DataFrame:
    """A copy of ``df`` with :func:`mask_text` on its text cells and its
    column names (``skip``: columns left as they are, e.g. pseudonyms)."""
    skip = set(skip)
    out = df.copy()
    for c in out.columns:
        if c in skip:
            continue
        col = out[c]
        if col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
            # each distinct value once: an export of a million rows holds a few thousand texts
            values = col.to_numpy(dtype=object)
            try:
                codes, distinct = pd.factorize(values)
            except TypeError:  # cells that cannot be hashed (lists) are not text
                out[c] = [mask_text(v) for v in values]
                continue
            masked = np.empty(len(distinct) + 1, dtype=object)
            masked[:-1] = [mask_text(v) for v in distinct]
            out[c] = np.where(codes >= 0, masked[codes], values).tolist()
    out.columns = [mask_text(c) if isinstance(c, str) else c for c in out.columns]
    return out


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def mask_sql(expr: str) -> str:
    """DuckDB SQL of :func:`mask_text` applied to the text expression ``expr``."""
    out = expr
    for pattern, repl in PATTERNS:
        out = f"regexp_replace({out}, {_lit(pattern)}, {_lit(repl)}, 'g')"
    return f"COALESCE(NULLIF(trim({out}), ''), {_lit(REMOVED)})"


def hint_sql(expr: str) -> str:
    """DuckDB SQL: whether ``expr`` may hold text :func:`mask_text` changes."""
    return f"regexp_matches({expr}, {_lit(HINT)})"

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


__all__ = ["pseudonym", "pseudonymize", "pseudonymize_frame", "PREFIX", "PATTERNS", "mask_text", "mask_values",
           "mask_frame", "mask_sql", "hint_sql"]
