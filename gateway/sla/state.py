"""The SLA state of one discharge: its clocks, and met / pending / at risk / breached per target.

Theory of operation:

* The clock starts at discharge (the discharge event's time, or the letter's DTM+91 when no
  event is known). Its deadlines are fixed when the discharge time is written (``clock_for``).
* The *first delivered* letter stops the clock. A corrected letter (GIS+M) or a second letter
  never restarts or moves it: the report and the worklist only look at the first delivery.
* A target N is ``met`` when the letter was sent by deadline N, ``breached`` when it was sent
  later or the deadline passed with no letter, ``at_risk`` from ``at_risk_working_hours``
  working hours before the deadline while no letter has been delivered, else ``pending``.

Everything here is pure: ``now`` and the configuration are arguments.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

from gateway.sla.config import SlaConfig
from gateway.sla.deadlines import (
    as_local,
    as_utc_naive,
    deadline,
    from_utc_naive,
    working_hours_before,
)

TARGETS = (1, 3)


class Clock(enum.StrEnum):
    """Where one target of one discharge stands."""

    PENDING = "pending"
    AT_RISK = "at_risk"
    MET = "met"
    BREACHED = "breached"


@dataclass(frozen=True)
class ClockColumns:
    """The precomputed columns of a discharge row (naive UTC instants, local date and month)."""

    discharged_at: datetime
    discharge_date: date
    month: str
    deadline_1: datetime
    deadline_3: datetime
    at_risk_at: datetime


def clock_for(discharged_at: datetime, config: SlaConfig) -> ClockColumns:
    """The clock columns for a discharge at ``discharged_at`` (naive = Copenhagen local)."""
    local = as_local(discharged_at)
    due_1 = deadline(local, 1, config.calendar)
    due_3 = deadline(local, 3, config.calendar)
    return ClockColumns(
        discharged_at=as_utc_naive(local),
        discharge_date=local.date(),
        month=local.strftime("%Y-%m"),
        deadline_1=as_utc_naive(due_1),
        deadline_3=as_utc_naive(due_3),
        at_risk_at=as_utc_naive(working_hours_before(due_1, config.at_risk_working_hours, config)),
    )


@dataclass(frozen=True)
class SlaState:
    """One discharge's clock as aware Copenhagen times (built from a row or by tests)."""

    discharged_at: datetime
    deadlines: dict[int, datetime]
    at_risk_from: dict[int, datetime]
    letter_sent_at: datetime | None = None
    letter_received_at: datetime | None = None
    acknowledged_at: datetime | None = None

    @classmethod
    def start(cls, discharged_at: datetime, config: SlaConfig, **letter: datetime | None):
        """A fresh clock for a discharge at ``discharged_at``."""
        local = as_local(discharged_at)
        deadlines = {n: deadline(local, n, config.calendar) for n in TARGETS}
        at_risk = {
            n: working_hours_before(due, config.at_risk_working_hours, config)
            for n, due in deadlines.items()
        }
        return cls(local, deadlines, at_risk, **letter)

    @classmethod
    def from_row(cls, row: object, config: SlaConfig) -> SlaState:
        """From a ``tables.Discharge`` row (naive UTC columns)."""

        def aware(value: datetime | None) -> datetime | None:
            return None if value is None else from_utc_naive(value)

        base = cls.start(from_utc_naive(row.discharged_at), config)  # type: ignore[attr-defined]
        return cls(
            base.discharged_at,
            {1: from_utc_naive(row.deadline_1), 3: from_utc_naive(row.deadline_3)},  # type: ignore[attr-defined]
            base.at_risk_from,
            letter_sent_at=aware(row.letter_sent_at),  # type: ignore[attr-defined]
            letter_received_at=aware(row.letter_received_at),  # type: ignore[attr-defined]
            acknowledged_at=aware(row.letter_acknowledged_at),  # type: ignore[attr-defined]
        )

    def status(self, n: int, now: datetime) -> Clock:
        """Where target ``n`` stands at ``now``."""
        due = self.deadlines[n]
        if self.letter_sent_at is not None:
            return Clock.MET if self.letter_sent_at <= due else Clock.BREACHED
        now = as_local(now)
        if now > due:
            return Clock.BREACHED
        if now >= self.at_risk_from[n]:
            return Clock.AT_RISK
        return Clock.PENDING

    def next_deadline(self, now: datetime) -> datetime | None:
        """The earliest deadline still to play for (None once delivered or all have passed)."""
        if self.letter_sent_at is not None:
            return None
        now = as_local(now)
        future = [due for due in self.deadlines.values() if due >= now]
        return min(future) if future else None

    def overall(self, now: datetime) -> Clock:
        """One word for lists: the most urgent status over the targets still open."""
        statuses = [self.status(n, now) for n in sorted(self.deadlines)]
        if self.letter_sent_at is not None:
            return Clock.MET if all(s is Clock.MET for s in statuses) else Clock.BREACHED
        for wanted in (Clock.AT_RISK, Clock.PENDING):
            if wanted in statuses:
                # a breached 1-workday target with the 3-workday one still open is "at risk"
                return Clock.AT_RISK if Clock.BREACHED in statuses else wanted
        return Clock.BREACHED
