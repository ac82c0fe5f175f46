"""The operator-act table: every (act, state) pair, and the lifecycle table agrees with it."""

from __future__ import annotations

import pytest

from gateway.operations.rules import TABLE, Action, Verdict, decide
from gateway.store.states import MessageState, next_state

A, S, V = Action, MessageState, Verdict

CASES = [
    # act       state            verdict    state after an APPLY
    (A.RELEASE, S.PARKED, V.APPLY, S.ROUTED),
    (A.RELEASE, S.FAILED, V.APPLY, S.ROUTED),
    (A.RELEASE, S.ROUTED, V.NOOP, None),
    (A.RELEASE, S.DELIVERED, V.NOOP, None),
    (A.RELEASE, S.ACKNOWLEDGED, V.NOOP, None),
    (A.RELEASE, S.RECEIVED, V.REFUSE, None),
    (A.RELEASE, S.VALIDATED, V.REFUSE, None),
    (A.RELEASE, S.REJECTED, V.REFUSE, None),
    (A.REPLAY, S.DELIVERED, V.APPLY, S.ROUTED),
    (A.REPLAY, S.ACKNOWLEDGED, V.APPLY, S.ROUTED),
    (A.REPLAY, S.ROUTED, V.NOOP, None),
    (A.REPLAY, S.PARKED, V.REFUSE, None),
    (A.REPLAY, S.FAILED, V.REFUSE, None),
    (A.REPLAY, S.RECEIVED, V.REFUSE, None),
    (A.REPLAY, S.VALIDATED, V.REFUSE, None),
    (A.REPLAY, S.REJECTED, V.REFUSE, None),
    (A.CLOSE, S.PARKED, V.APPLY, S.FAILED),
    (A.CLOSE, S.ROUTED, V.APPLY, S.FAILED),
    (A.CLOSE, S.FAILED, V.NOOP, None),
    (A.CLOSE, S.REJECTED, V.NOOP, None),
    (A.CLOSE, S.DELIVERED, V.REFUSE, None),
    (A.CLOSE, S.ACKNOWLEDGED, V.REFUSE, None),
    (A.CLOSE, S.RECEIVED, V.REFUSE, None),
    (A.CLOSE, S.VALIDATED, V.REFUSE, None),
]


@pytest.mark.parametrize(("action", "state", "verdict", "after"), CASES)
def test_decide(action, state, verdict, after):
    decision = decide(action, state)
    assert decision.verdict is verdict
    if verdict is V.APPLY:
        assert decision.event is not None
        assert next_state(state, decision.event) is after
    else:
        assert decision.event is None
        assert decision.reason  # the operator is told why


def test_every_act_in_every_state_is_decided():
    assert {(a, s) for a, s, *_ in CASES} == set(TABLE) == {(a, s) for a in A for s in S}


def test_a_repeat_of_an_applied_act_is_a_noop():
    """Idempotent: after an act, the same act again does nothing."""
    for action, state, verdict, after in CASES:
        if verdict is V.APPLY:
            assert decide(action, after).verdict is V.NOOP, (action, state)
