"""Display formats: numbers stay numbers and rates stay 0–1 in code; these
functions turn them into the strings a client reads (thousands separators,
percentages, the client's currency, percentage points for rate changes)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from journeykit.core.config import RunConfig
from journeykit.core import i18n

MAX_RELATIVE = 10.0
"""A relative change beyond ±1,000 % (more than eleven-fold) is shown as the
difference itself: its base is too small for a percentage to mean much."""

CURRENCY_SYMBOLS = {"KRW": "₩", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "¥"}


def is_missing(x: Any) -> bool:
    """Whether ``x`` is a missing value: None, NaN or NaT."""
    return x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NaT or (
        not isinstance(x, (str, bytes)) and pd.api.types.is_scalar(x) and pd.isna(x))


def fmt_int(x: Any) -> str:
    """``12345`` → ``12,345``; missing → ``–``."""
    return "–" if is_missing(x) else f"{int(round(float(x))):,}"


def fmt_num(x: Any, digits: int = 1) -> str:
    """A number with thousands separators and ``digits`` decimals."""
    return "–" if is_missing(x) else f"{float(x):,.{digits}f}"


def fmt_pct(x: Any, digits: int = 1) -> str:
    """A 0–1 rate as a percentage: ``0.1234`` → ``12.3%``."""
    return "–" if is_missing(x) else f"{100 * float(x):.{digits}f}%"


def fmt_money(x: Any, currency: str) -> str:
    """An amount with the currency's symbol; no decimals for KRW and JPY."""
    if is_missing(x):
        return "–"
    sym = CURRENCY_SYMBOLS.get(currency, currency + " ")
    digits = 0 if currency in ("KRW", "JPY") else 2
    sign = "-" if float(x) < 0 else ""
    return f"{sign}{sym}{abs(float(x)):,.{digits}f}"


def fmt_date(x: Any) -> str:
    """A date or timestamp as ``YYYY-MM-DD``."""
    return "–" if is_missing(x) else pd.Timestamp(x).strftime("%Y-%m-%d")


def formatter(kind: str, cfg: RunConfig):
    """The display function for a column kind: int, num (1 decimal), num2
    (2 decimals), pct, money, date, text, or numtext (text already formatted, right-aligned like a number)."""
    return {
        "int": fmt_int,
        "num": fmt_num,
        "pct": fmt_pct,
        "money": lambda x: fmt_money(x, cfg.currency),
        "date": fmt_date,
        "text": lambda x: "–" if is_missing(x) else str(x),
        "num2": lambda x: fmt_num(x, 2),
        "numtext": lambda x: "–" if is_missing(x) else str(x),   # already formatted, aligned as a number
    }[kind]



def fmt_delta(change, kind: str, cfg: RunConfig) -> str:
    """A change for display: percentage points for rates (``+1.2 pp``,
    Korean ``+1.2%p``), NPS in points (``+3.0``), otherwise relative
    (``+12.3%``), or the difference itself when the base is zero or so small
    that the relative change exceeds :data:`MAX_RELATIVE`; ``–`` when there
    is no comparison. The change is that of the quantity tested: for a count
    over months of different lengths, the mean per day (``+3.2% per day``)."""
    d = change.delta
    if d is None:
        return "–"
    sign = "+" if d > 0 else ("−" if d < 0 else "±")
    if kind == "pct":
        digits = 2 if abs(d) < 0.001 else 1   # a change under 0.1 pp would read "+0.0 pp"
        return i18n.t("pp", cfg.language, sign=sign, x=f"{abs(d) * 100:.{digits}f}")
    if kind == "nps":
        return f"{sign}{abs(d) * 100:.1f}"
    r = change.rel_delta
    if r is None or abs(r) > MAX_RELATIVE:
        # from a zero or tiny base a percentage says nothing ("+83,420.9 %"): the difference itself does
        text = f"{sign}{formatter('num' if per_day(change) else kind, cfg)(abs(d))}"
    else:
        text = f"{sign}{abs(r) * 100:,.1f}%"
    return i18n.t("per_day_delta", cfg.language, delta=text) if per_day(change) else text


def per_day(change) -> bool:
    """Whether a change is shown per day: a count (``basis`` ``per_day``)
    over two periods of different lengths, whose totals do not compare."""
    return getattr(change, "basis", None) == "per_day" and change.n is not None and change.n != change.n_prev


def fmt_min_effect(spec: dict | None, kind: str, cfg: RunConfig) -> str:
    """The minimum meaningful size of a change in words: ``5% change or
    1.0 pp`` (rates), ``5 points`` style for NPS; ``–`` without one."""
    if not spec:
        return "–"
    lang = cfg.language
    parts = []
    if spec.get("relative") is not None:
        parts.append(i18n.t("min_effect_relative", lang, x=f"{100 * spec['relative']:g}%"))
    if spec.get("absolute") is not None:
        a = spec["absolute"]
        x = (i18n.t("pp", lang, sign="", x=f"{100 * a:g}") if kind == "pct" else
             f"{100 * a:g}" if kind == "nps" else formatter(kind if kind in ("int", "num", "money") else "num", cfg)(a))
        parts.append(i18n.t("min_effect_absolute", lang, x=x))
    if not parts:
        return "–"
    return parts[0] if len(parts) == 1 else i18n.t("min_effect_or", lang, a=parts[0], b=parts[1])


def pct_digits(values) -> int:
    """Decimals for rates shown together (one sentence, one table row): two
    when any of them is under 5 % (so 0.84 % and 0.79 % differ), else one;
    one precision for all, never "3.07% → 20.3%"."""
    vals = [abs(float(v)) for v in values if not is_missing(v)]
    return 2 if any(v < 0.05 for v in vals) else 1


def fmt_kpi(kind: str, cfg: RunConfig, along=None):
    """The display function for a KPI of ``kind`` (``nps`` shown ×100;
    rates under 5 % with two decimals, so 0.84 % and 0.79 % differ). With
    ``along`` (the values shown together with it: this period, the
    comparison period, a year before), every rate gets the same decimals
    (:func:`pct_digits`)."""
    if kind == "pct":
        if along is not None:
            digits = pct_digits(along)
            return lambda x: fmt_pct(x, digits)
        return lambda x: fmt_pct(x, 2 if not is_missing(x) and abs(float(x)) < 0.05 else 1)
    if kind == "nps":
        return lambda x: "–" if is_missing(x) else f"{float(x) * 100:.1f}"
    return formatter(kind, cfg)


def fmt_p(p: float | None) -> str:
    """``= 0.012`` or ``< 0.001`` (to follow a ``p``)."""
    if p is None:
        return "–"
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


def significance_text(change, cfg: RunConfig) -> str:
    """``significant (p = 0.003, q = 0.012)`` / ``real but small (…)`` /
    ``not significant (…)`` / ``too little data`` / ``–`` (untested); ``q``
    is the multiplicity-adjusted p-value (the p-value itself when the change
    was never judged); a KPI shown without a test because the client buys it
    (``bought``) or because it is a stock of customers (``stock``) says so,
    and so does one whose comparison period precedes the data (``no earlier
    data``)."""
    if change.test == "no_earlier_data":
        # the comparison period lies before the client's data (compare.before_data)
        return i18n.t("sig_untested_no_earlier_data", cfg.language)
    if change.verdict == "untested" and change.test in ("bought", "stock") and change.delta is not None:
        return i18n.t(f"sig_untested_{change.test}", cfg.language)
    return i18n.t(f"sig_{change.verdict}", cfg.language, p=fmt_p(change.p_value), q=fmt_p(change.q))
