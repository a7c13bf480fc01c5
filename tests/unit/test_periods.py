"""journeykit.core.periods: a reporting period is one calendar month."""

from __future__ import annotations

import datetime as dt

import pytest

from journeykit.core.errors import ConfigError
from journeykit.core.periods import Period


# --------------------------------------------------------------------------
# parse
# --------------------------------------------------------------------------

@pytest.mark.parametrize("given, expected", [
    ("2026-10", Period(2026, 10)),                      # the documented form
    (" 2026-10 ", Period(2026, 10)),                    # stray spaces from a Makefile variable
    ("2026-01", Period(2026, 1)),
    (dt.date(2026, 10, 17), Period(2026, 10)),          # YAML turns 2026-10-17 into a date
    (dt.datetime(2026, 10, 17, 8, 30), Period(2026, 10)),
    ("2026-10-01", Period(2026, 10)),                   # papermill hands YAML dates over as strings
    ("2026-10-01T00:00:00", Period(2026, 10)),          # ... or as ISO timestamps
    (Period(2026, 10), Period(2026, 10)),               # already parsed: returned as is
])
def test_parse(given, expected):
    assert Period.parse(given) == expected


@pytest.mark.parametrize("bad", ["2026-13", "2026-00", "2026-1", "202610", "Oct 2026", "", "2026/10", None, 2026])
def test_parse_rejects_what_is_not_a_month(bad):
    with pytest.raises(ConfigError) as info:
        Period.parse(bad)
    text = str(info.value)
    assert repr(bad) in text          # names what was given
    assert "YYYY-MM" in text          # and says how to write it
    assert "fix:" in text


def test_str_round_trips():
    assert str(Period(2026, 3)) == "2026-03"           # zero-padded month
    assert Period.parse(str(Period(987, 3))) == Period(987, 3)  # and year


# --------------------------------------------------------------------------
# bounds and neighbours
# --------------------------------------------------------------------------

def test_start_and_end_are_a_half_open_month():
    p = Period(2026, 10)
    assert p.start == dt.date(2026, 10, 1)               # inclusive
    assert p.end == dt.date(2026, 11, 1)                 # exclusive: the next month's first day
    assert p.days == 31


def test_december_ends_in_the_next_year():
    p = Period(2026, 12)
    assert p.end == dt.date(2027, 1, 1)
    assert p.next() == Period(2027, 1)


def test_january_comparison_is_last_december():
    assert Period(2026, 1).previous() == Period(2025, 12)


def test_february_of_a_leap_year():
    assert Period(2028, 2).days == 29                   # 2028 is a leap year
    assert Period(2026, 2).days == 28


@pytest.mark.parametrize("months, expected", [
    (0, Period(2026, 10)),
    (2, Period(2026, 12)),
    (3, Period(2027, 1)),         # over the year end
    (-10, Period(2025, 12)),      # back over it
    (-22, Period(2024, 12)),      # and over two
    (15, Period(2028, 1)),
])
def test_shift(months, expected):
    assert Period(2026, 10).shift(months) == expected


def test_trailing_is_oldest_first_and_ends_with_the_period():
    assert Period(2026, 2).trailing(3) == [Period(2025, 12), Period(2026, 1), Period(2026, 2)]
    assert Period(2026, 2).trailing(1) == [Period(2026, 2)]
    assert len(Period(2026, 2).trailing(12)) == 12


def test_periods_order_chronologically():
    assert Period(2025, 12) < Period(2026, 1) < Period(2026, 2)
    assert max(Period(2026, 1), Period(2025, 12)) == Period(2026, 1)


# --------------------------------------------------------------------------
# labels
# --------------------------------------------------------------------------

@pytest.mark.parametrize("period, language, expected", [
    (Period(2026, 10), "en", "October 2026"),
    (Period(2026, 1), "en", "January 2026"),
    (Period(2026, 10), "ko", "2026년 10월"),
    (Period(2026, 1), "ko", "2026년 1월"),              # no zero padding in Korean either
])
def test_label(period, language, expected):
    assert period.label(language) == expected


def test_label_defaults_to_english():
    assert Period(2026, 12).label() == "December 2026"


# --------------------------------------------------------------------------
# last_complete
# --------------------------------------------------------------------------

@pytest.mark.parametrize("today, expected", [
    (dt.date(2026, 11, 1), Period(2026, 10)),   # `make monthly` on the 1st reports the month just ended
    (dt.date(2026, 11, 30), Period(2026, 10)),  # November is not complete yet
    (dt.date(2026, 1, 15), Period(2025, 12)),   # across the year end
])
def test_last_complete(today, expected):
    assert Period.last_complete(today=today) == expected


def test_last_complete_defaults_to_today():
    today = dt.date.today()
    assert Period.last_complete().end == dt.date(today.year, today.month, 1)
