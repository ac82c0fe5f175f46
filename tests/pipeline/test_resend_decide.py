"""resend.decide: pure, with an injected clock; MedCom's 30 minutes and 2 resends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.pipeline.resend import (
    AttemptNow,
    GiveUp,
    ResendPolicy,
    ResendState,
    WaitUntil,
    decide,
    stop_after_resends,
    wait_fixed,
)

SENT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def state(resends: int, sent: datetime = SENT) -> ResendState:
    return ResendState(resends=resends, sent_at=sent)


@pytest.mark.parametrize(("resends", "minutes_later", "expected"), [
    (0, 0, WaitUntil(SENT + timedelta(minutes=30))),
    (0, 29, WaitUntil(SENT + timedelta(minutes=30))),
    (0, 30, AttemptNow()),
    (1, 31, AttemptNow()),
    (2, 29, WaitUntil(SENT + timedelta(minutes=30))),
    (2, 30, GiveUp),
    (5, 300, GiveUp),
])
def test_medcom_policy(resends, minutes_later, expected):
    decision = decide(state(resends), SENT + timedelta(minutes=minutes_later))
    if expected is GiveUp:
        assert isinstance(decision, GiveUp) and f"after {resends} resend" in decision.reason
    else:
        assert decision == expected


def test_a_full_run_resends_twice_then_gives_up():
    policy = ResendPolicy.medcom(timeout_seconds=60, max_resends=2)
    now, sent, resends, log = SENT, SENT, 0, []
    for _ in range(20):
        now += timedelta(seconds=15)
        decision = decide(state(resends, sent), now, policy)
        if isinstance(decision, AttemptNow):
            resends, sent = resends + 1, now
            log.append(("resend", now - SENT))
        elif isinstance(decision, GiveUp):
            log.append(("give_up", now - SENT))
            break
    assert log == [("resend", timedelta(seconds=60)), ("resend", timedelta(seconds=120)),
                   ("give_up", timedelta(seconds=180))]


def test_policies_compose():
    stop = stop_after_resends(3) | stop_after_resends(1)
    assert stop(state(1).as_retry_state()) and not stop(state(0).as_retry_state())
    policy = ResendPolicy(stop=stop_after_resends(0), wait=wait_fixed(10))
    assert isinstance(decide(state(0), SENT + timedelta(seconds=10), policy), GiveUp)
