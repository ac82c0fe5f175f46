"""The N-workday deadline rule in Europe/Copenhagen: holidays, weekends, DST, zones."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from gateway.sla.calendar import WorkdayCalendar
from gateway.sla.config import SlaConfig
from gateway.sla.deadlines import (
    COPENHAGEN,
    as_utc_naive,
    deadline,
    from_utc_naive,
    is_within,
    working_hours_before,
)

CAL = WorkdayCalendar()
CLOSED = WorkdayCalendar.from_spec(["06-05", "12-24", "12-31"])

# (discharged at, local naive; n; calendar; date whose end is the deadline)
CASES = [
    (datetime(2024, 3, 27, 11, 0), 1, CAL, date(2024, 4, 2)),  # Wed before Easter 2024
    (datetime(2024, 3, 27, 11, 0), 3, CAL, date(2024, 4, 4)),
    (datetime(2025, 4, 16, 14, 0), 1, CAL, date(2025, 4, 22)),  # Wed before Easter 2025
    (datetime(2025, 4, 16, 14, 0), 3, CAL, date(2025, 4, 24)),
    (datetime(2026, 5, 13, 9, 0), 1, CAL, date(2026, 5, 15)),  # Wed before Ascension
    (datetime(2026, 5, 13, 9, 0), 3, CAL, date(2026, 5, 19)),
    (datetime(2027, 5, 14, 16, 0), 1, CAL, date(2027, 5, 18)),  # Fri before Whitsun
    (datetime(2027, 5, 14, 16, 0), 3, CAL, date(2027, 5, 20)),
    (datetime(2026, 12, 23, 10, 0), 1, CAL, date(2026, 12, 24)),  # 24 Dec: a workday
    (datetime(2026, 12, 23, 10, 0), 3, CAL, date(2026, 12, 29)),
    (datetime(2026, 12, 23, 10, 0), 1, CLOSED, date(2026, 12, 28)),  # 24 Dec closed
    (datetime(2026, 12, 23, 10, 0), 3, CLOSED, date(2026, 12, 30)),
    (datetime(2025, 12, 31, 8, 0), 1, CAL, date(2026, 1, 2)),  # New Year 2026
    (datetime(2025, 12, 31, 8, 0), 3, CAL, date(2026, 1, 6)),
    (datetime(2026, 12, 31, 8, 0), 1, CAL, date(2027, 1, 4)),  # New Year 2027 (a Friday)
    (datetime(2026, 12, 30, 8, 0), 1, CLOSED, date(2027, 1, 4)),  # 31 Dec closed too
    (datetime(2025, 6, 4, 12, 0), 1, CAL, date(2025, 6, 5)),  # Constitution Day open
    (datetime(2025, 6, 4, 12, 0), 1, CLOSED, date(2025, 6, 6)),
    (datetime(2025, 3, 1, 12, 0), 1, CAL, date(2025, 3, 3)),  # Saturday: Monday is 1
    (datetime(2025, 3, 1, 12, 0), 3, CAL, date(2025, 3, 5)),
    (datetime(2023, 5, 4, 12, 0), 1, CAL, date(2023, 5, 8)),  # store bededag 2023
    (datetime(2024, 4, 25, 12, 0), 1, CAL, date(2024, 4, 26)),  # abolished in 2024
    (datetime(2025, 3, 30, 2, 30), 1, CAL, date(2025, 3, 31)),  # in the spring-forward gap
    (datetime(2025, 10, 26, 2, 30), 1, CAL, date(2025, 10, 27)),  # in the repeated hour
]


@pytest.mark.parametrize(("discharged", "n", "calendar", "day"), CASES)
def test_deadline_is_end_of_nth_workday(
    discharged: datetime, n: int, calendar: WorkdayCalendar, day: date
) -> None:
    due = deadline(discharged, n, calendar)
    assert due == datetime.combine(day, time(23, 59, 59, 999999), tzinfo=COPENHAGEN)


@pytest.mark.parametrize(
    ("discharged", "utc_end"),
    [
        # Friday before spring-forward: Monday 31 March ends 21:59:59.999999 UTC (CEST)
        (datetime(2025, 3, 28, 23, 30), datetime(2025, 3, 31, 21, 59, 59, 999999, tzinfo=UTC)),
        # Friday before fall-back: Monday 27 October ends 22:59:59.999999 UTC (CET)
        (datetime(2025, 10, 24, 23, 30), datetime(2025, 10, 27, 22, 59, 59, 999999, tzinfo=UTC)),
    ],
)
def test_deadline_instant_follows_dst(discharged: datetime, utc_end: datetime) -> None:
    assert deadline(discharged, 1, CAL) == utc_end
    before = utc_end.replace(microsecond=0, second=0)
    after = utc_end.replace(microsecond=0, second=0, minute=0, hour=utc_end.hour + 1)
    assert is_within(discharged, before, 1, CAL)
    assert not is_within(discharged, after, 1, CAL)


def test_letter_sent_on_the_discharge_day_is_within_1() -> None:
    assert is_within(datetime(2025, 3, 3, 10), datetime(2025, 3, 3, 15), 1, CAL)


def test_letter_sent_the_next_minute_after_the_deadline_is_late() -> None:
    discharged = datetime(2025, 4, 16, 14, 0)
    assert is_within(discharged, datetime(2025, 4, 22, 23, 59), 1, CAL)
    assert not is_within(discharged, datetime(2025, 4, 23, 0, 0), 1, CAL)
    assert is_within(discharged, datetime(2025, 4, 23, 0, 0), 3, CAL)
    assert not is_within(discharged, None, 3, CAL)


def test_discharge_date_is_the_local_date_of_an_aware_time() -> None:
    # 22:30 UTC on 2 June is 00:30 on 3 June in Copenhagen: the discharge date is 3 June.
    aware = datetime(2025, 6, 2, 22, 30, tzinfo=UTC)
    assert deadline(aware, 1, CAL).date() == date(2025, 6, 4)


def test_utc_naive_round_trip() -> None:
    local = datetime(2025, 7, 1, 12, 0)
    assert as_utc_naive(local) == datetime(2025, 7, 1, 10, 0)
    assert from_utc_naive(as_utc_naive(local)) == local.replace(tzinfo=COPENHAGEN)


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        (4, datetime(2025, 4, 22, 12, 0)),  # default: 12:00 on the deadline day
        (8, datetime(2025, 4, 22, 8, 0)),
        (10, datetime(2025, 4, 16, 14, 0)),  # back over Easter to the Wednesday
        (0.5, datetime(2025, 4, 22, 15, 30)),
    ],
)
def test_working_hours_before_a_deadline(hours: float, expected: datetime) -> None:
    due = deadline(datetime(2025, 4, 16, 14, 0), 1, CAL)
    at = working_hours_before(due, hours, SlaConfig(calendar=CAL))
    assert at == expected.replace(tzinfo=COPENHAGEN)


def test_working_hours_respect_configured_window() -> None:
    config = SlaConfig(calendar=CAL, work_start=time(7, 0), work_end=time(15, 0))
    due = deadline(datetime(2025, 3, 3, 9), 1, CAL)
    assert working_hours_before(due, 4, config) == datetime(2025, 3, 4, 11, tzinfo=COPENHAGEN)
