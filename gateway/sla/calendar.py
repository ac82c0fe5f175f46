"""The Danish workday calendar that every SLA clock counts in.

A workday is Monday to Friday and not a Danish public holiday (folkekirkens helligdage, from the
``holidays`` package: General Prayer Day is a holiday until 2023 only, abolished from 2024).
Extra closed days (grundlovsdag 5 June, juleaftensdag 24 December, nytårsaftensdag
31 December, or any date) are not holidays by law; they are opt-in configuration and by default
workdays (shared/research/medcom.md §5.2).

The calendar is a value: SLA code receives it as an argument and never builds one itself, so
tests can hand in any set of closed days.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import holidays

from gateway.errors import ConfigError

# The closing days that offices commonly add (not holidays by law): (month, day).
COMMON_EXTRA_CLOSED = ((6, 5), (12, 24), (12, 31))


@lru_cache(maxsize=64)
def _public_holidays(year: int) -> dict[date, str]:
    """Danish public holidays of ``year`` (cached: the ``holidays`` object is slow to expand)."""
    return dict(holidays.Denmark(years=year, language="en_US").items())


@dataclass(frozen=True)
class WorkdayCalendar:
    """Monday-Friday minus Danish public holidays minus the configured extra closed days.

    ``closed_annually`` holds (month, day) pairs closed every year (e.g. (12, 24));
    ``closed_dates`` holds single dates.
    """

    closed_annually: frozenset[tuple[int, int]] = field(default_factory=frozenset)
    closed_dates: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def from_spec(cls, specs: Iterable[str]) -> WorkdayCalendar:
        """Parse extra closed days: ``MM-DD`` (every year) or ``YYYY-MM-DD`` (one date)."""
        annual: set[tuple[int, int]] = set()
        dates: set[date] = set()
        for raw in specs:
            spec = raw.strip()
            if not spec:
                continue
            try:
                if len(spec) == 5:
                    month, day = (int(p) for p in spec.split("-"))
                    date(2024, month, day)  # validates (2024 is a leap year: 02-29 allowed)
                    annual.add((month, day))
                else:
                    dates.add(date.fromisoformat(spec))
            except ValueError as exc:
                raise ConfigError(
                    f"extra closed day {spec!r} is neither MM-DD nor YYYY-MM-DD: {exc}"
                ) from exc
        return cls(frozenset(annual), frozenset(dates))

    def closed_reason(self, day: date) -> str | None:
        """Why ``day`` is not a workday (weekend, the holiday's name, extra closed day), or None."""
        if day.weekday() >= 5:
            return "weekend"
        name = _public_holidays(day.year).get(day)
        if name is not None:
            return name
        if (day.month, day.day) in self.closed_annually or day in self.closed_dates:
            return "extra closed day"
        return None

    def is_workday(self, day: date) -> bool:
        return self.closed_reason(day) is None

    def nth_workday_after(self, day: date, n: int) -> date:
        """The ``n``-th workday strictly after ``day`` (n >= 1); for n = 0, ``day`` itself.

        A Saturday discharge makes Monday workday 1 (when Monday is a workday).
        """
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        current = day
        found = 0
        while found < n:
            current += timedelta(days=1)
            if self.is_workday(current):
                found += 1
        return current

    def previous_workday(self, day: date) -> date:
        """The last workday strictly before ``day``."""
        current = day - timedelta(days=1)
        while not self.is_workday(current):
            current -= timedelta(days=1)
        return current

    def workdays_between(self, start: date, end: date) -> int:
        """Workdays in (start, end]: 1 when ``end`` is the first workday after ``start``."""
        count = 0
        current = start
        while current < end:
            current += timedelta(days=1)
            if self.is_workday(current):
                count += 1
        return count


DEFAULT_CALENDAR = WorkdayCalendar()
