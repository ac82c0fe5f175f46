"""The N-workday deadline rule, in Europe/Copenhagen time.

A letter is within N workdays when it was sent no later than the end of the N-th workday after
the calendar date of discharge, local time (docs/sla.md). The discharge day itself is not
counted, so a letter sent on the discharge day is within 1; a Saturday discharge makes Monday
workday 1. Deadlines are instants: end of day is 23:59:59.999999 local, which is 21:59:59.999999
UTC in summer and 22:59:59.999999 UTC in winter; DST changes only ever happen on Sundays, which
are never workdays, but the zone still decides the instant.

MedCom writes naive local times (gateway.model); ``as_local`` attaches the zone to those and
converts aware ones. The store keeps naive UTC (``as_utc_naive``) so that SQLite and PostgreSQL
compare the same values.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from gateway.sla.calendar import WorkdayCalendar
from gateway.sla.config import SlaConfig

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
END_OF_DAY = time(23, 59, 59, 999999)


def as_local(moment: datetime) -> datetime:
    """``moment`` as an aware Copenhagen time; naive input is taken to be Copenhagen local."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=COPENHAGEN)
    return moment.astimezone(COPENHAGEN)


def as_utc_naive(moment: datetime) -> datetime:
    """The naive-UTC form the SLA tables store (naive input is Copenhagen local)."""
    return as_local(moment).astimezone(UTC).replace(tzinfo=None)


def from_utc_naive(moment: datetime) -> datetime:
    """Inverse of ``as_utc_naive``: an aware Copenhagen time."""
    return moment.replace(tzinfo=UTC).astimezone(COPENHAGEN)


def end_of_day(day: date) -> datetime:
    """The last instant of ``day`` in Copenhagen."""
    return datetime.combine(day, END_OF_DAY, tzinfo=COPENHAGEN)


def deadline(discharged_at: datetime, n: int, calendar: WorkdayCalendar) -> datetime:
    """End of the ``n``-th workday after the local calendar date of ``discharged_at``."""
    discharge_day = as_local(discharged_at).date()
    return end_of_day(calendar.nth_workday_after(discharge_day, n))


def is_within(
    discharged_at: datetime, sent_at: datetime | None, n: int, calendar: WorkdayCalendar
) -> bool:
    """Whether a letter sent at ``sent_at`` (None: no letter) meets the ``n``-workday target."""
    if sent_at is None:
        return False
    return as_local(sent_at) <= deadline(discharged_at, n, calendar)


def working_hours_before(moment: datetime, hours: float, config: SlaConfig) -> datetime:
    """The instant ``hours`` working hours before ``moment``.

    Working hours run from ``config.work_start`` to ``config.work_end`` on workdays; time
    outside them does not count. With the defaults (08:00-16:00, 4 hours) a deadline at the end
    of a workday puts the at-risk point at 12:00 that day.
    """
    remaining = timedelta(hours=hours)
    local = as_local(moment)
    day = local.date()
    cursor = local
    while remaining > timedelta(0):
        if config.calendar.is_workday(day):
            opens = datetime.combine(day, config.work_start, tzinfo=COPENHAGEN)
            closes = datetime.combine(day, config.work_end, tzinfo=COPENHAGEN)
            window_end = min(cursor, closes)
            if window_end > opens:
                available = window_end - opens
                if available >= remaining:
                    return window_end - remaining
                remaining -= available
        day -= timedelta(days=1)
        cursor = end_of_day(day)
    return cursor
