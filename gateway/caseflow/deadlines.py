"""The deadlines of a rehabilitation case: pure functions of the case's facts, the rules, the
workday calendar and ``now`` (never the wall clock).

From the regional agreements (shared/domain.md, "The rehabilitation-team case flow"):

* the coordinator receives the case at least ``coordinator_lead_workdays`` (10) workdays before
  the meeting: the latest day is the 10th workday before the meeting day;
* the coordinator screens within ``screening_workdays`` (5) workdays of receipt; one region
  uses "any time within the 10 days" (``screening_workdays=None``: by the last workday before
  the meeting);
* when the clinical-function appointment is more than ``clinical_notice_days`` (14) calendar
  days after the LÆ 271 was received, the caseworker must be told before the patient is
  summoned;
* LÆ 265 and LÆ 275 are due 14 days after the consultation, at most 30 after the request
  (gateway.forms.deadlines, calendar days);
* when the screening deadline cannot be met before the meeting, or the clinical function's
  answer cannot arrive in time, the flow recommends postponing the case.

Urgent cases use their own ``DeadlineRules``. Workdays come from the SLA calendar
(gateway.sla.calendar.WorkdayCalendar), handed in by the caller.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

from gateway.errors import ConfigError
from gateway.forms.deadlines import CertificateDeadlines, certificate_due


class Calendar(Protocol):
    """What the case flow needs of the SLA calendar (gateway.sla.calendar.WorkdayCalendar)."""

    def is_workday(self, day: date) -> bool: ...

    def nth_workday_after(self, day: date, n: int) -> date: ...


@dataclass(frozen=True)
class DeadlineRules:
    """One set of agreed deadlines (normal or urgent, per region)."""

    coordinator_lead_workdays: int = 10
    screening_workdays: int | None = 5
    clinical_notice_days: int = 14
    certificates: CertificateDeadlines = field(default_factory=CertificateDeadlines)
    warn_workdays: int = 2

    def __post_init__(self) -> None:
        numbers = (self.coordinator_lead_workdays, self.clinical_notice_days, self.warn_workdays,
                   self.screening_workdays or 0)
        if min(numbers) < 0:
            raise ConfigError(f"deadline rules must not be negative: {self}")


@dataclass(frozen=True)
class RegionPolicy:
    """A region's rules for normal and urgent cases."""

    normal: DeadlineRules = field(default_factory=DeadlineRules)
    urgent: DeadlineRules = field(default_factory=lambda: DeadlineRules(
        coordinator_lead_workdays=5, screening_workdays=2,
        certificates=CertificateDeadlines(days_after_consultation=7, days_after_request=14)))

    def rules(self, urgent: bool) -> DeadlineRules:
        return self.urgent if urgent else self.normal


DEFAULT_POLICY = RegionPolicy()
# The region that lets the coordinator screen "any time within the 10 days".
WITHIN_LEAD_POLICY = RegionPolicy(normal=DeadlineRules(screening_workdays=None))


class DeadlineStatus(enum.StrEnum):
    PENDING = "pending"  # running, not yet close
    DUE_SOON = "due_soon"  # within the warning window: alert now
    MISSED = "missed"  # not done and the due day is over
    MET = "met"  # done by the due day
    LATE = "late"  # done, but after the due day
    NOT_APPLICABLE = "not_applicable"


OPEN_STATUSES = (DeadlineStatus.PENDING, DeadlineStatus.DUE_SOON, DeadlineStatus.MISSED)
AT_RISK = (DeadlineStatus.DUE_SOON, DeadlineStatus.MISSED, DeadlineStatus.LATE)


@dataclass(frozen=True)
class CaseFacts:
    """The dates the deadlines depend on, as the case's timeline recorded them."""

    urgent: bool = False
    meeting_date: date | None = None
    lae261_sent_on: date | None = None
    lae265_consultation_on: date | None = None
    lae265_received_on: date | None = None
    sent_to_coordinator_on: date | None = None
    screened_on: date | None = None
    clarified: bool | None = None
    lae271_sent_on: date | None = None
    late_notice_on: date | None = None
    summons_received_on: date | None = None
    appointment_on: date | None = None
    lae275_consultation_on: date | None = None
    lae275_received_on: date | None = None


@dataclass(frozen=True)
class Deadline:
    """One tracked deadline: what, due when, its status now, and when it was done."""

    name: str
    due: date | None
    status: DeadlineStatus
    done_on: date | None = None
    note: str = ""

    def to_dict(self) -> dict[str, str | None]:
        return {"name": self.name, "due": self.due.isoformat() if self.due else None,
                "status": self.status.value,
                "done_on": self.done_on.isoformat() if self.done_on else None, "note": self.note}


def meeting_date_problem(meeting_on: date, *, today: date, opened_on: date) -> str | None:
    """Why ``meeting_on`` cannot be a case's meeting date, or None when it can.

    A meeting before today, or before the case was opened, would give the case deadlines that
    were missed before they existed (a meeting in 2000 on a case created in 2026).
    """
    if meeting_on < opened_on:
        return (f"meeting date {meeting_on.isoformat()} is before the case was opened "
                f"({opened_on.isoformat()})")
    if meeting_on < today:
        return (f"meeting date {meeting_on.isoformat()} is in the past "
                f"(today is {today.isoformat()})")
    return None


def workdays_before(calendar: Calendar, day: date, n: int) -> date:
    """The ``n``-th workday strictly before ``day`` (n >= 1)."""
    current, found = day, 0
    while found < n:
        current -= timedelta(days=1)
        if calendar.is_workday(current):
            found += 1
    return current


def _status(
    due: date | None, done: date | None, today: date, warn_from: date | None
) -> DeadlineStatus:
    if due is None:
        return DeadlineStatus.NOT_APPLICABLE
    if done is not None:
        return DeadlineStatus.MET if done <= due else DeadlineStatus.LATE
    if today > due:
        return DeadlineStatus.MISSED
    if warn_from is not None and today >= warn_from:
        return DeadlineStatus.DUE_SOON
    return DeadlineStatus.PENDING


def coordinator_deadline(meeting: date, rules: DeadlineRules, calendar: Calendar) -> date:
    """The last day the coordinator may receive the case for ``meeting``."""
    return workdays_before(calendar, meeting, rules.coordinator_lead_workdays)


def screening_deadline(received: date, meeting: date | None, rules: DeadlineRules,
                       calendar: Calendar) -> date | None:
    """When the coordinator's screening answer is due (None: no meeting yet in a
    "within the lead time" region)."""
    if rules.screening_workdays is not None:
        return calendar.nth_workday_after(received, rules.screening_workdays)
    return workdays_before(calendar, meeting, 1) if meeting else None


def notice_required(lae271_received: date, appointment: date, rules: DeadlineRules) -> bool:
    """True when the appointment is more than the notice limit after the LÆ 271 was received."""
    return (appointment - lae271_received).days > rules.clinical_notice_days


def evaluate(facts: CaseFacts, rules: DeadlineRules, calendar: Calendar,
             now: datetime) -> list[Deadline]:
    """Every deadline of the case and its status at ``now``."""
    today = now.date()

    def warn(due: date | None) -> date | None:
        if due is None or rules.warn_workdays == 0:
            return due
        return workdays_before(calendar, due, rules.warn_workdays)

    out: list[Deadline] = []
    if facts.lae261_sent_on:
        due = certificate_due(facts.lae261_sent_on, facts.lae265_consultation_on,
                              rules.certificates)
        out.append(Deadline("lae265_answer", due, _status(due, facts.lae265_received_on, today,
                                                          warn(due)), facts.lae265_received_on))
    if facts.meeting_date:
        due = coordinator_deadline(facts.meeting_date, rules, calendar)
        out.append(Deadline("coordinator_receipt", due,
                            _status(due, facts.sent_to_coordinator_on, today, warn(due)),
                            facts.sent_to_coordinator_on,
                            f"{rules.coordinator_lead_workdays} workdays before the meeting"))
    if facts.sent_to_coordinator_on:
        due = screening_deadline(facts.sent_to_coordinator_on, facts.meeting_date, rules,
                                 calendar)
        out.append(Deadline("screening", due, _status(due, facts.screened_on, today, warn(due)),
                            facts.screened_on))
    if facts.lae271_sent_on:
        out.append(_notice(facts, rules, today))
        due = certificate_due(facts.lae271_sent_on,
                              facts.lae275_consultation_on or facts.appointment_on,
                              rules.certificates)
        out.append(Deadline("lae275_answer", due, _status(due, facts.lae275_received_on, today,
                                                          warn(due)), facts.lae275_received_on))
    return out


def _notice(facts: CaseFacts, rules: DeadlineRules, today: date) -> Deadline:
    """The 14-day notice: due before the summons when the appointment is far out."""
    assert facts.lae271_sent_on is not None
    limit = facts.lae271_sent_on + timedelta(days=rules.clinical_notice_days)
    name = "late_appointment_notice"
    if facts.appointment_on is None:
        return Deadline(name, None, DeadlineStatus.NOT_APPLICABLE,
                        note=f"required if the appointment is after {limit.isoformat()}")
    if not notice_required(facts.lae271_sent_on, facts.appointment_on, rules):
        return Deadline(name, None, DeadlineStatus.NOT_APPLICABLE,
                        note=f"appointment {facts.appointment_on.isoformat()} within "
                             f"{rules.clinical_notice_days} days")
    due = facts.summons_received_on or today
    note = (f"appointment {facts.appointment_on.isoformat()} is more than "
            f"{rules.clinical_notice_days} days after the LÆ 271 ({limit.isoformat()})")
    if facts.late_notice_on and (facts.summons_received_on is None
                                 or facts.late_notice_on <= facts.summons_received_on):
        return Deadline(name, due, DeadlineStatus.MET, facts.late_notice_on, note)
    if facts.summons_received_on is not None:
        return Deadline(name, due, DeadlineStatus.MISSED, None,
                        note + "; the patient was summoned before the caseworker was told")
    return Deadline(name, due, DeadlineStatus.DUE_SOON, None,
                    note + "; tell the caseworker before summoning")


def recommend_postponement(facts: CaseFacts, rules: DeadlineRules, calendar: Calendar,
                           now: datetime) -> list[str]:
    """Why the case should move to a later meeting (empty: no reason to postpone)."""
    meeting = facts.meeting_date
    if meeting is None or facts.screened_on and facts.clarified:
        return []
    today = now.date()
    reasons = []
    last_before = workdays_before(calendar, meeting, 1)
    if facts.sent_to_coordinator_on is None:
        latest = coordinator_deadline(meeting, rules, calendar)
        if today > latest:
            reasons.append(f"the coordinator did not receive the case by {latest.isoformat()} "
                           f"({rules.coordinator_lead_workdays} workdays before the meeting)")
    elif facts.screened_on is None:
        due = screening_deadline(facts.sent_to_coordinator_on, meeting, rules, calendar)
        if due is not None and (today > due or due > last_before):
            reasons.append(f"the screening deadline {due.isoformat()} cannot be met before "
                           f"the meeting on {meeting.isoformat()}")
    elif facts.clarified is False and facts.lae275_received_on is None:
        expected = facts.appointment_on or (
            certificate_due(facts.lae271_sent_on, None, rules.certificates)
            if facts.lae271_sent_on else None)
        if expected is None or expected >= last_before:
            when = expected.isoformat() if expected else "unknown"
            reasons.append(f"the case is not clarified and the clinical function's answer "
                           f"(expected {when}) cannot arrive before the meeting")
    return reasons
