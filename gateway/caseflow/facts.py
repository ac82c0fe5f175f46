"""The case's timeline read back into the dates its deadlines depend on (``CaseFacts``).

The timeline is the truth; facts are derived, never stored, so a correction of the rules or
the calendar applies to every open case at once. A new request restarts its clock: a second
LÆ 261 (the first LÆ 265 was insufficient) forgets the first answer, as does a new LÆ 271.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from gateway.caseflow.deadlines import CaseFacts
from gateway.caseflow.states import CaseEvent

E = CaseEvent


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if value else None


def facts_from_events(case: Any, events: Iterable[Any], meeting_on: date | None) -> CaseFacts:
    """``case`` has ``.urgent``; each event has ``.event``, ``.at`` and ``.data``."""
    f: dict[str, Any] = {}
    for ev in events:
        on, data = ev.at.date(), ev.data or {}
        match ev.event:
            case E.LAE261_SENT.value:
                f.update(lae261_sent_on=on, lae265_received_on=None, lae265_consultation_on=None)
            case E.LAE265_RECEIVED.value:
                f.update(lae265_received_on=on,
                         lae265_consultation_on=_day(data.get("consultation_date")))
            case E.SENT_TO_COORDINATOR.value:
                f.update(sent_to_coordinator_on=on, screened_on=None, clarified=None)
            case E.SCREENED_CLARIFIED.value | E.SCREENED_NOT_CLARIFIED.value:
                f.update(screened_on=on, clarified=bool(data.get("clarified")))
            case E.LAE271_SENT.value:
                f.update(lae271_sent_on=on, late_notice_on=None, summons_received_on=None,
                         appointment_on=None, lae275_received_on=None,
                         lae275_consultation_on=None)
            case E.LATE_APPOINTMENT_NOTIFIED.value:
                f.update(late_notice_on=on, appointment_on=_day(data.get("appointment_date")))
            case E.SUMMONS_RECEIVED.value:
                f.update(summons_received_on=on,
                         appointment_on=_day(data.get("appointment_date")))
            case E.LAE275_RECEIVED.value:
                f.update(lae275_received_on=on,
                         lae275_consultation_on=_day(data.get("consultation_date")))
    return CaseFacts(urgent=bool(case.urgent), meeting_date=meeting_on, **f)
