"""Reporting periods: a calendar month, its comparison month, and trends.

A period is named ``YYYY-MM`` and covers ``[start, end)`` in the client's
local time. The comparison period is the month before. Nothing at or after
``end`` is used, so any past month re-runs identically.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from journeykit.core.errors import ConfigError

_PERIOD_RE = re.compile(r"^(\d{4})-(\d{2})$")

_EN_MONTHS = [
    "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December",
]


@dataclass(frozen=True, order=True)
class Period:
    """One calendar month.

    Attributes
    ----------
    year, month : int
        The month.

    Examples
    --------
    >>> p = Period.parse("2026-10")
    >>> p.start, p.end
    (datetime.date(2026, 10, 1), datetime.date(2026, 11, 1))
    >>> str(p.previous())
    '2026-09'
    """

    year: int
    month: int

    @classmethod
    def parse(cls, text: object) -> "Period":
        """Parse ``YYYY-MM`` (also accepts a date or ``YYYY-MM-DD``, as YAML
        and papermill may hand one over)."""
        if isinstance(text, Period):
            return text
        if isinstance(text, (dt.date, dt.datetime)):
            return cls(text.year, text.month)
        s = str(text).strip()
        if re.match(r"^\d{4}-\d{2}-\d{2}", s):
            s = s[:7]
        m = _PERIOD_RE.match(s)
        if not m or not 1 <= int(m.group(2)) <= 12:
            raise ConfigError(
                f"period {text!r} is not a month",
                fix="give the period as YYYY-MM, e.g. 2026-10 (--period 2026-10, or PERIOD=2026-10 with make)",
            )
        return cls(int(m.group(1)), int(m.group(2)))

    @classmethod
    def last_complete(cls, today: dt.date | None = None, timezone: str | None = None) -> "Period":
        """The most recent month that has ended by ``today`` (default: today
        in ``timezone``, an IANA name, else on this machine's clock): a
        client in Seoul has finished November hours before one in New York."""
        if today is None:
            if timezone:
                import zoneinfo

                today = dt.datetime.now(zoneinfo.ZoneInfo(timezone)).date()
            else:
                today = dt.date.today()
        return cls(today.year, today.month).previous()

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> dt.date:
        """First day of the month (inclusive)."""
        return dt.date(self.year, self.month, 1)

    @property
    def end(self) -> dt.date:
        """First day of the next month (exclusive bound)."""
        return self.next().start

    @property
    def days(self) -> int:
        """Number of days in the month."""
        return (self.end - self.start).days

    def previous(self) -> "Period":
        """The comparison period: the month before."""
        return self.shift(-1)

    def next(self) -> "Period":
        """The month after."""
        return self.shift(1)

    def shift(self, months: int) -> "Period":
        """The month ``months`` away (negative = earlier)."""
        i = self.year * 12 + (self.month - 1) + months
        return Period(i // 12, i % 12 + 1)

    def trailing(self, n: int) -> list["Period"]:
        """The last ``n`` periods ending with this one, oldest first."""
        return [self.shift(-k) for k in range(n - 1, -1, -1)]

    def label(self, language: str = "en") -> str:
        """Human label: ``October 2026`` or ``2026년 10월``."""
        if language == "ko":
            return f"{self.year}년 {self.month}월"
        return f"{_EN_MONTHS[self.month - 1]} {self.year}"
