"""The SLA state of one discharge, and deadline properties over any date (hypothesis)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.sla.calendar import WorkdayCalendar
from gateway.sla.config import SlaConfig
from gateway.sla.deadlines import COPENHAGEN, as_local, deadline, is_within
from gateway.sla.state import Clock, SlaState

CONFIG = SlaConfig()
WED_BEFORE_EASTER = datetime(2025, 4, 16, 14, 0)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=COPENHAGEN)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("sent", "now", "one", "three", "overall"),
    [
        (None, local(2025, 4, 17, 9), Clock.PENDING, Clock.PENDING, Clock.PENDING),
        (None, local(2025, 4, 22, 12), Clock.AT_RISK, Clock.PENDING, Clock.AT_RISK),
        (None, local(2025, 4, 23, 9), Clock.BREACHED, Clock.PENDING, Clock.AT_RISK),  # 1 missed
        (None, local(2025, 4, 24, 12), Clock.BREACHED, Clock.AT_RISK, Clock.AT_RISK),
        (None, local(2025, 4, 25, 0), Clock.BREACHED, Clock.BREACHED, Clock.BREACHED),
        (local(2025, 4, 16, 15), local(2025, 4, 30), Clock.MET, Clock.MET, Clock.MET),
        (local(2025, 4, 23, 8), local(2025, 4, 30), Clock.BREACHED, Clock.MET, Clock.BREACHED),
        (local(2025, 4, 23, 8), local(2025, 4, 17), Clock.BREACHED, Clock.MET, Clock.BREACHED),
    ],
)
def test_status_table(sent, now, one, three, overall) -> None:
    state = SlaState.start(WED_BEFORE_EASTER, CONFIG, letter_sent_at=sent)
    assert (state.status(1, now), state.status(3, now), state.overall(now)) == (
        one,
        three,
        overall,
    )


def test_next_deadline() -> None:
    state = SlaState.start(WED_BEFORE_EASTER, CONFIG)
    assert state.next_deadline(local(2025, 4, 22, 9)) == local(2025, 4, 22, 23, 59, 59, 999999)
    assert state.next_deadline(local(2025, 4, 23, 9)) == local(2025, 4, 24, 23, 59, 59, 999999)
    assert state.next_deadline(local(2025, 4, 25, 9)) is None


CALENDARS = st.sampled_from([WorkdayCalendar(), WorkdayCalendar.from_spec(["06-05", "12-24"])])


@given(
    day=st.dates(min_value=date(2023, 1, 1), max_value=date(2027, 12, 31)),
    minute=st.integers(0, 24 * 60 - 1),
    calendar=CALENDARS,
)
def test_deadline_properties(day: date, minute: int, calendar: WorkdayCalendar) -> None:
    discharged = datetime.combine(day, time()) + timedelta(minutes=minute)
    due_1, due_3 = deadline(discharged, 1, calendar), deadline(discharged, 3, calendar)
    for due, n in ((due_1, 1), (due_3, 3)):
        assert calendar.is_workday(due.date())
        assert calendar.workdays_between(day, due.date()) == n
        assert due.time() == time(23, 59, 59, 999999)
        assert due.date() > day
    assert due_1 < due_3
    # a letter sent with the discharge is within 1; one an instant after deadline 3 is late
    assert is_within(discharged, discharged, 1, calendar)
    assert not is_within(discharged, due_3 + timedelta(microseconds=1), 3, calendar)
    # naive times are local: even in the DST gap the discharge date stays the written one
    assert as_local(discharged).date() == day
