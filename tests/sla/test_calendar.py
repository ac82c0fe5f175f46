"""The Danish workday calendar: holidays 2023-2027, weekends, extra closed days."""

from __future__ import annotations

from datetime import date

import pytest

from gateway.errors import ConfigError
from gateway.sla.calendar import WorkdayCalendar

CAL = WorkdayCalendar()

# (date, is a workday by default, why) -- Easter, Ascension, Whitsun, Christmas, New Year.
DAYS = [
    (date(2024, 1, 1), False, "New Year's Day"),
    (date(2024, 3, 27), True, "Wednesday before Easter"),
    (date(2024, 3, 28), False, "Maundy Thursday"),
    (date(2024, 3, 29), False, "Good Friday"),
    (date(2024, 4, 1), False, "Easter Monday"),
    (date(2024, 4, 2), True, "Tuesday after Easter"),
    (date(2024, 4, 26), True, "General Prayer Day abolished from 2024"),
    (date(2024, 5, 9), False, "Ascension Day"),
    (date(2024, 5, 10), True, "Friday after Ascension"),
    (date(2024, 5, 20), False, "Whit Monday"),
    (date(2024, 12, 24), True, "Christmas Eve: workday unless configured"),
    (date(2024, 12, 25), False, "Christmas Day"),
    (date(2024, 12, 26), False, "Second Day of Christmas"),
    (date(2024, 12, 27), True, "Friday after Christmas"),
    (date(2024, 12, 31), True, "New Year's Eve: workday unless configured"),
    (date(2025, 1, 1), False, "New Year's Day"),
    (date(2025, 4, 17), False, "Maundy Thursday"),
    (date(2025, 4, 18), False, "Good Friday"),
    (date(2025, 4, 21), False, "Easter Monday"),
    (date(2025, 5, 16), True, "would-be General Prayer Day"),
    (date(2025, 5, 29), False, "Ascension Day"),
    (date(2025, 6, 5), True, "Constitution Day: workday unless configured"),
    (date(2025, 6, 9), False, "Whit Monday"),
    (date(2026, 1, 1), False, "New Year's Day"),
    (date(2026, 4, 2), False, "Maundy Thursday"),
    (date(2026, 4, 3), False, "Good Friday"),
    (date(2026, 4, 6), False, "Easter Monday"),
    (date(2026, 5, 14), False, "Ascension Day"),
    (date(2026, 5, 15), True, "Friday after Ascension"),
    (date(2026, 5, 25), False, "Whit Monday"),
    (date(2026, 12, 25), False, "Christmas Day"),
    (date(2027, 1, 1), False, "New Year's Day"),
    (date(2027, 3, 25), False, "Maundy Thursday"),
    (date(2027, 3, 26), False, "Good Friday"),
    (date(2027, 3, 29), False, "Easter Monday"),
    (date(2027, 5, 6), False, "Ascension Day"),
    (date(2027, 5, 17), False, "Whit Monday"),
    (date(2027, 12, 27), True, "Monday after Christmas weekend"),
    (date(2025, 3, 1), False, "Saturday"),
    (date(2025, 3, 2), False, "Sunday"),
    (date(2025, 3, 3), True, "Monday"),
]


@pytest.mark.parametrize(("day", "workday", "why"), DAYS, ids=[str(d[0]) for d in DAYS])
def test_workdays_around_holidays(day: date, workday: bool, why: str) -> None:
    assert CAL.is_workday(day) is workday, why


def test_general_prayer_day_is_a_holiday_until_2023_only() -> None:
    assert CAL.closed_reason(date(2023, 5, 5)) is not None  # store bededag 2023 (a Friday)
    assert CAL.is_workday(date(2024, 4, 26))  # would have been store bededag 2024


def test_extra_closed_days_are_opt_in() -> None:
    cal = WorkdayCalendar.from_spec(["06-05", "12-24", "12-31", "2025-05-30"])
    for day in (date(2025, 6, 5), date(2025, 12, 24), date(2025, 12, 31), date(2025, 5, 30)):
        assert CAL.is_workday(day)
        assert not cal.is_workday(day)
        assert cal.closed_reason(day) == "extra closed day"
    assert cal.is_workday(date(2026, 5, 29))  # the single date does not repeat


@pytest.mark.parametrize("spec", ["13-01", "2025-02-30", "June 5", "5/6"])
def test_bad_extra_closed_day_is_named(spec: str) -> None:
    with pytest.raises(ConfigError, match=spec):
        WorkdayCalendar.from_spec([spec])


NTH = [
    # (start, n, expected): the n-th workday strictly after start
    (date(2025, 4, 16), 1, date(2025, 4, 22)),  # Wednesday before Easter
    (date(2025, 4, 16), 3, date(2025, 4, 24)),
    (date(2025, 3, 1), 1, date(2025, 3, 3)),  # Saturday: Monday is workday 1
    (date(2025, 3, 2), 1, date(2025, 3, 3)),  # Sunday
    (date(2025, 3, 3), 0, date(2025, 3, 3)),
]


@pytest.mark.parametrize(("start", "n", "expected"), NTH)
def test_nth_workday_after(start: date, n: int, expected: date) -> None:
    assert CAL.nth_workday_after(start, n) == expected
    if n:
        assert CAL.workdays_between(start, expected) == n


def test_previous_workday_skips_easter() -> None:
    assert CAL.previous_workday(date(2025, 4, 22)) == date(2025, 4, 16)
