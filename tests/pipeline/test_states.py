"""The lifecycle table: every pair is either a listed transition or an IllegalTransition."""

from __future__ import annotations

import itertools

import pytest

from gateway.store.states import (
    INTERCHANGE_TRANSITIONS,
    TERMINAL,
    TRANSITIONS,
    IllegalTransition,
    InterchangeEvent,
    InterchangeStatus,
    MessageEvent,
    MessageState,
    can,
    can_decide,
    interchange_status,
    mermaid_diagram,
    next_state,
    walk,
)

S, E = MessageState, MessageEvent

# The paths the issue names, spelled out: the table must allow each step in order.
PATHS = [
    [E.VALIDATE, E.ROUTE, E.DELIVER, E.ACKNOWLEDGE],  # happy path with CTL03
    [E.VALIDATE, E.ROUTE, E.DELIVER, E.NEGATIVE_RECEIPT],  # CTL02 from the receiver
    [E.REJECT],  # the codec refused it
    [E.VALIDATE, E.REFUSE],  # unknown receiver / version: parked
    [E.VALIDATE, E.ROUTE, E.RETRY, E.RETRY, E.EXHAUST, E.REQUEUE, E.DELIVER],
    [E.VALIDATE, E.ROUTE, E.DELIVER, E.RESEND, E.DELIVER, E.RESEND, E.DELIVER,
     E.RECEIPT_TIMED_OUT, E.CLOSE],
]
ENDS = [S.ACKNOWLEDGED, S.FAILED, S.REJECTED, S.PARKED, S.DELIVERED, S.FAILED]


@pytest.mark.parametrize(("events", "end"), list(zip(PATHS, ENDS, strict=True)))
def test_issue_paths_run_through_the_table(events, end):
    state = S.RECEIVED
    for event in events:
        state = next_state(state, event)
    assert state is end


def test_every_state_and_event_pair_is_decided_by_the_table():
    assert set(TRANSITIONS) == set(MessageState)
    for state, event in itertools.product(MessageState, MessageEvent):
        if event in TRANSITIONS[state]:
            assert next_state(state, event) is TRANSITIONS[state][event]
        else:
            with pytest.raises(IllegalTransition) as err:
                next_state(state, event)
            assert state.value in str(err.value) and event.value in str(err.value)


def test_final_states_have_no_way_out_and_handed_over_messages_are_never_redelivered():
    assert {S.REJECTED, S.ACKNOWLEDGED, S.FAILED} == TERMINAL
    for state in (S.DELIVERED, S.ACKNOWLEDGED, S.FAILED):
        assert E.DELIVER not in TRANSITIONS[state]


def test_every_state_is_reachable_from_received():
    seen, frontier = {S.RECEIVED}, [S.RECEIVED]
    while frontier:
        for target in TRANSITIONS[frontier.pop()].values():
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    assert seen == set(MessageState)


def test_diagram_is_generated_from_the_table():
    diagram = mermaid_diagram()
    count = sum(len(events) for events in TRANSITIONS.values())
    assert diagram.count(" --> ") == count + 1 + len(TERMINAL)
    assert "delivered --> routed: resend" in diagram


# The guards every step asks instead of re-checking states by hand: (state, event, allowed).
GUARDS = [
    (S.DELIVERED, E.ACKNOWLEDGE, True),  # a CTL03 for a delivered letter
    (S.ROUTED, E.ACKNOWLEDGE, True),  # a receipt overtaking our delivery record
    (S.PARKED, E.NEGATIVE_RECEIPT, True),  # a late receipt still tells the truth
    (S.FAILED, E.ACKNOWLEDGE, False),  # MedCom: a negative receipt is final
    (S.ACKNOWLEDGED, E.NEGATIVE_RECEIPT, False),
    (S.REJECTED, E.ACKNOWLEDGE, False),
    (S.VALIDATED, E.ACKNOWLEDGE, False),
    (S.PARKED, E.REQUEUE, True),
    (S.FAILED, E.REQUEUE, True),
    (S.DELIVERED, E.REQUEUE, False),
    (S.DELIVERED, E.REPLAY, True),
    (S.PARKED, E.CLOSE, True),
    (S.DELIVERED, E.CLOSE, False),
]


@pytest.mark.parametrize(("state", "event", "allowed"), GUARDS)
def test_can_answers_from_the_table(state, event, allowed):
    assert can(state, event) is allowed
    assert can(state.value, event.value) is allowed


def test_walk_lists_each_step_and_stops_at_an_illegal_one():
    assert walk(S.RECEIVED, E.VALIDATE, E.ROUTE) == [
        (E.VALIDATE, S.RECEIVED, S.VALIDATED), (E.ROUTE, S.VALIDATED, S.ROUTED)]
    with pytest.raises(IllegalTransition):
        walk(S.RECEIVED, E.ROUTE)


@pytest.mark.parametrize(("event", "status"), [
    (InterchangeEvent.ACCEPT, InterchangeStatus.PROCESSED),
    (InterchangeEvent.DUPLICATE, InterchangeStatus.DUPLICATE),
    (InterchangeEvent.REJECT, InterchangeStatus.REJECTED),
])
def test_interchange_status_is_decided_once(event, status):
    assert interchange_status(event) is status
    assert not can_decide(status)  # decided: nothing moves it again
    assert can_decide(InterchangeStatus.RECEIVED)
    assert set(INTERCHANGE_TRANSITIONS) == set(InterchangeStatus)
