"""The transition table: every step and loop reachable, illegal events named, diagram drawn."""

from __future__ import annotations

import pytest

from gateway.caseflow.states import (
    ANY_OPEN,
    FINAL_STATES,
    TRANSITIONS,
    CaseEvent,
    CaseState,
    IllegalTransition,
    mermaid,
    next_state,
)

S, E = CaseState, CaseEvent

STRAIGHT = [E.LAE261_SENT, E.LAE265_RECEIVED, E.SENT_TO_COORDINATOR, E.SCREENED_NOT_CLARIFIED,
            E.LAE271_SENT, E.SUMMONS_RECEIVED, E.LAE275_RECEIVED, E.DOCUMENTS_SENT,
            E.RECOMMENDATION_SENT, E.CASE_CLOSED]


def walk(events: list[CaseEvent], state: CaseState = S.CREATED) -> CaseState:
    for event in events:
        state = next_state(state, event)
    return state


def test_straight_path_via_the_clinical_function_closes() -> None:
    assert walk(STRAIGHT) is S.CLOSED


def test_clarified_case_skips_the_clinical_function() -> None:
    assert walk([E.LAE261_SENT, E.LAE265_RECEIVED, E.SENT_TO_COORDINATOR,
                 E.SCREENED_CLARIFIED]) is S.READY_FOR_TEAM


def test_loops() -> None:
    insufficient = [E.LAE261_SENT, E.LAE265_RECEIVED, E.LAE265_INSUFFICIENT, E.LAE261_SENT]
    assert walk(insufficient) is S.AWAITING_LAE265
    silent_gp = [E.LAE261_SENT, E.GP_REMINDED, E.GP_REMINDED, E.GP_ESCALATED, E.LAE265_RECEIVED]
    assert walk(silent_gp) is S.LAE265_RECEIVED
    postponed = STRAIGHT[:8] + [E.MEETING_POSTPONED]
    assert walk(postponed) is S.READY_FOR_TEAM
    assert walk([E.LAE261_SENT, E.MEETING_POSTPONED, E.MARKED_URGENT]) is S.AWAITING_LAE265
    assert walk([E.LAE261_SENT, E.LAE265_RECEIVED, E.WITHDRAWN]) is S.WITHDRAWN


@pytest.mark.parametrize("state", [s for s in CaseState if s not in FINAL_STATES])
def test_deviations_are_allowed_in_every_open_state(state: CaseState) -> None:
    for event in ANY_OPEN:
        assert event in TRANSITIONS[state]


@pytest.mark.parametrize("state", sorted(FINAL_STATES, key=lambda s: s.value))
def test_final_states_allow_nothing(state: CaseState) -> None:
    with pytest.raises(IllegalTransition, match=f"in state '{state.value}'"):
        next_state(state, E.MEETING_SCHEDULED)


def test_illegal_transition_names_state_and_event() -> None:
    with pytest.raises(IllegalTransition) as exc:
        next_state(S.CREATED, E.LAE275_RECEIVED)
    assert exc.value.state is S.CREATED and exc.value.event is E.LAE275_RECEIVED
    assert "'lae275_received' is not allowed in state 'created'" in str(exc.value)


def test_every_state_is_reachable_and_every_event_used() -> None:
    reached, frontier = {S.CREATED}, [S.CREATED]
    while frontier:
        for target in TRANSITIONS[frontier.pop()].values():
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(CaseState)
    used = {e for events in TRANSITIONS.values() for e in events}
    assert used == set(CaseEvent)


def test_mermaid_has_every_step_edge() -> None:
    diagram = mermaid()
    assert diagram.startswith("stateDiagram-v2")
    assert "awaiting_lae265 --> lae265_received: lae265_received" in diagram
    assert "documents_sent --> ready_for_team: meeting_postponed" in diagram
    assert "lae265_insufficient --> awaiting_lae265: lae261_sent" in diagram
