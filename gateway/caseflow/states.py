"""The rehabilitation case as an explicit state machine: one transition table, nothing else.

Theory of operation (shared/domain.md, "The rehabilitation-team case flow", Table 8 of the
national evaluation, January 2015):

* step 1: LÆ 261 to the GP -> LÆ 265 back (reminders and escalation when the GP does not
  answer; a new LÆ 261 when the LÆ 265 is insufficient);
* step 2: the case to the regional health coordinator; 2.1 the screening answer, clarified or
  not (with notes); 2.2 when not clarified: LÆ 271 to the clinical function -> summons (with
  the appointment date; a notice first when it is more than 14 days out) -> LÆ 275 (copy to GP);
* step 3: the case documents to the team and the citizen, tied to a meeting;
* step 4: the team's recommendation (indstilling) to the citizen and, as DIS91, to the GP;
  then closed.

Meeting scheduling, postponement, urgency and withdrawal happen in every open state; they are
listed once (``ANY_OPEN``) and folded into the table. Everything that decides a transition lives
in this module (h11 ``_state.py`` rule 1); docs/caseflow.md is generated from ``TRANSITIONS``.
"""

from __future__ import annotations

import enum

from gateway.errors import LocalUsageError


class CaseState(enum.Enum):
    CREATED = "created"
    AWAITING_LAE265 = "awaiting_lae265"
    GP_ESCALATED = "gp_escalated"
    LAE265_RECEIVED = "lae265_received"
    LAE265_INSUFFICIENT = "lae265_insufficient"
    AWAITING_SCREENING = "awaiting_screening"
    NOT_CLARIFIED = "not_clarified"
    AWAITING_SUMMONS = "awaiting_summons"
    AWAITING_LAE275 = "awaiting_lae275"
    READY_FOR_TEAM = "ready_for_team"
    DOCUMENTS_SENT = "documents_sent"
    RECOMMENDATION_SENT = "recommendation_sent"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


class CaseEvent(enum.Enum):
    LAE261_SENT = "lae261_sent"
    GP_REMINDED = "gp_reminded"
    GP_ESCALATED = "gp_escalated"
    LAE265_RECEIVED = "lae265_received"
    LAE265_INSUFFICIENT = "lae265_insufficient"
    SENT_TO_COORDINATOR = "sent_to_coordinator"
    SCREENED_CLARIFIED = "screened_clarified"
    SCREENED_NOT_CLARIFIED = "screened_not_clarified"
    LAE271_SENT = "lae271_sent"
    LATE_APPOINTMENT_NOTIFIED = "late_appointment_notified"
    SUMMONS_RECEIVED = "summons_received"
    CLINIC_REMINDED = "clinic_reminded"
    LAE275_RECEIVED = "lae275_received"
    DOCUMENTS_SENT = "documents_sent"
    RECOMMENDATION_SENT = "recommendation_sent"
    CASE_CLOSED = "case_closed"
    # In every open state:
    MEETING_SCHEDULED = "meeting_scheduled"
    MEETING_POSTPONED = "meeting_postponed"
    MARKED_URGENT = "marked_urgent"
    WITHDRAWN = "withdrawn"


S, E = CaseState, CaseEvent

# The flow's own steps and loops.
_STEPS: dict[CaseState, dict[CaseEvent, CaseState]] = {
    S.CREATED: {E.LAE261_SENT: S.AWAITING_LAE265},
    S.AWAITING_LAE265: {
        E.LAE265_RECEIVED: S.LAE265_RECEIVED,
        E.GP_REMINDED: S.AWAITING_LAE265,
        E.GP_ESCALATED: S.GP_ESCALATED,
    },
    S.GP_ESCALATED: {E.LAE265_RECEIVED: S.LAE265_RECEIVED, E.GP_REMINDED: S.GP_ESCALATED},
    S.LAE265_RECEIVED: {
        E.SENT_TO_COORDINATOR: S.AWAITING_SCREENING,
        E.LAE265_INSUFFICIENT: S.LAE265_INSUFFICIENT,
    },
    S.LAE265_INSUFFICIENT: {E.LAE261_SENT: S.AWAITING_LAE265},
    S.AWAITING_SCREENING: {
        E.SCREENED_CLARIFIED: S.READY_FOR_TEAM,
        E.SCREENED_NOT_CLARIFIED: S.NOT_CLARIFIED,
    },
    S.NOT_CLARIFIED: {E.LAE271_SENT: S.AWAITING_SUMMONS},
    S.AWAITING_SUMMONS: {
        E.LATE_APPOINTMENT_NOTIFIED: S.AWAITING_SUMMONS,
        E.SUMMONS_RECEIVED: S.AWAITING_LAE275,
    },
    S.AWAITING_LAE275: {
        E.LAE275_RECEIVED: S.READY_FOR_TEAM,
        E.CLINIC_REMINDED: S.AWAITING_LAE275,
    },
    S.READY_FOR_TEAM: {E.DOCUMENTS_SENT: S.DOCUMENTS_SENT},
    # A postponed meeting after the documents went out means sending them again.
    S.DOCUMENTS_SENT: {
        E.RECOMMENDATION_SENT: S.RECOMMENDATION_SENT,
        E.MEETING_POSTPONED: S.READY_FOR_TEAM,
    },
    S.RECOMMENDATION_SENT: {E.CASE_CLOSED: S.CLOSED},
    S.CLOSED: {},
    S.WITHDRAWN: {},
}

FINAL_STATES = frozenset({S.CLOSED, S.WITHDRAWN})
OPEN_STATES = frozenset(s for s in CaseState if s not in FINAL_STATES)

# Deviations possible in every open state, as (event, next state or None = stay).
ANY_OPEN: dict[CaseEvent, CaseState | None] = {
    E.MEETING_SCHEDULED: None,
    E.MEETING_POSTPONED: None,
    E.MARKED_URGENT: None,
    E.WITHDRAWN: S.WITHDRAWN,
}


def _build() -> dict[CaseState, dict[CaseEvent, CaseState]]:
    table = {state: dict(events) for state, events in _STEPS.items()}
    for state in OPEN_STATES:
        for event, target in ANY_OPEN.items():
            table[state].setdefault(event, target or state)
    return table


TRANSITIONS: dict[CaseState, dict[CaseEvent, CaseState]] = _build()


class IllegalTransition(LocalUsageError):
    """An event that the case's current state does not allow; names both."""

    def __init__(self, state: CaseState, event: CaseEvent) -> None:
        self.state, self.event = state, event
        allowed = ", ".join(sorted(e.value for e in TRANSITIONS[state])) or "none (final)"
        super().__init__(f"event {event.value!r} is not allowed in state {state.value!r} "
                         f"(allowed: {allowed})")


def next_state(state: CaseState, event: CaseEvent) -> CaseState:
    """The state after ``event``; IllegalTransition when the table has no such edge."""
    try:
        return TRANSITIONS[state][event]
    except KeyError:
        raise IllegalTransition(state, event) from None


def allowed_events(state: CaseState) -> list[CaseEvent]:
    return list(TRANSITIONS[state])


def mermaid() -> str:
    """The flow as a Mermaid state diagram, drawn from ``TRANSITIONS`` (docs/caseflow.md)."""
    lines = ["stateDiagram-v2", f"    [*] --> {S.CREATED.value}"]
    for state, events in TRANSITIONS.items():
        for event, target in events.items():
            if event in ANY_OPEN and not (state in _STEPS and event in _STEPS[state]):
                continue  # drawn once below, not on every state
            lines.append(f"    {state.value} --> {target.value}: {event.value}")
    lines.append(f"    note right of {S.CREATED.value}: in every open state: "
                 + ", ".join(e.value for e in ANY_OPEN))
    for state in sorted(FINAL_STATES, key=lambda s: s.value):
        lines.append(f"    {state.value} --> [*]")
    return "\n".join(lines)
