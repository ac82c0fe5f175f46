"""Deadline-aware retries with a fake clock: backoff, checkpoints, escalation, EDF order."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from gateway.retrying import wait_for
from gateway.sla.config import SlaConfig
from gateway.sla.deadlines import COPENHAGEN
from gateway.sla.scheduling import (
    AttemptNow,
    DeliverySummary,
    Escalate,
    GiveUp,
    RetryPolicy,
    WaitUntil,
    decide,
    next_retry_at,
    order_backlog,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
    wait_jitter,
)
from gateway.sla.state import SlaState


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=COPENHAGEN)  # type: ignore[misc]


def make_summary(
    discharged: datetime | None,
    *,
    message_id: str = "m",
    received: datetime | None = None,
    attempts: int = 0,
    last: datetime | None = None,
) -> DeliverySummary:
    """Like tenacity's make_retry_state: a summary from a discharge time and attempt count."""
    received = received or local(2025, 4, 22, 9, 0)
    if discharged is None:
        return DeliverySummary(message_id, received, attempts=attempts, last_attempt_at=last)
    state = SlaState.start(discharged, SlaConfig())
    return DeliverySummary(
        message_id,
        received,
        deadlines=tuple(sorted(state.deadlines.items())),
        at_risk_at=state.at_risk_from[1],
        attempts=attempts,
        last_attempt_at=last,
    )


POLICY = RetryPolicy()  # the default: exponential + stable jitter


@pytest.mark.parametrize(
    ("attempt", "seconds"),
    [(1, 30), (2, 60), (3, 120), (4, 240), (5, 480), (6, 960), (7, 1800), (8, 1800), (40, 1800)],
)
def test_exponential_backoff_is_capped(attempt: int, seconds: int) -> None:
    assert wait_for(wait_exponential(), attempt) == timedelta(seconds=seconds)


def test_jitter_adds_at_most_ten_percent() -> None:
    for value in (0.0, 0.5, 0.999):
        jitter = wait_jitter(wait_exponential(), random=lambda key, attempt, v=value: v)
        assert wait_for(wait_exponential() + jitter, 3) == timedelta(seconds=120 + 12 * value)


def test_default_jitter_is_stable_per_message_and_attempt() -> None:
    jitter = wait_jitter(wait_exponential())
    assert wait_for(jitter, 5, "m1") == wait_for(jitter, 5, "m1")
    spread = {wait_for(jitter, 5, f"m{i}") for i in range(50)}
    assert len(spread) > 40 and all(timedelta(0) <= j < timedelta(seconds=48) for j in spread)


def test_failing_receiver_escalates_at_risk_before_the_deadline() -> None:
    """Discharged the Wednesday before Easter; the letter arrives Tuesday 09:00 and the GP's
    system is down. Fake clock: jump to each WaitUntil; every attempt fails."""
    summary = make_summary(datetime(2025, 4, 16, 14, 0))
    deadline_1 = local(2025, 4, 22, 23, 59, 59, 999999)
    now = summary.received_at
    attempts: list[datetime] = []
    escalations: dict[str, datetime] = {}
    while now < local(2025, 4, 23, 6, 0):
        decision = decide(summary, now, POLICY)
        assert decide(summary, now, POLICY) == decision  # deciding again changes nothing
        if isinstance(decision, Escalate):
            escalations[decision.kind] = now
            summary = replace(summary, escalated=summary.escalated | {decision.kind})
            decision = decision.then
        assert not isinstance(decision, GiveUp)  # an epikrise is never given up
        if isinstance(decision, AttemptNow):
            attempts.append(now)  # ... and the receiver fails
            summary = replace(summary, attempts=summary.attempts + 1, last_attempt_at=now)
        else:
            assert decision.at > now
            now = decision.at

    assert escalations["at_risk_1"] == local(2025, 4, 22, 12, 0)  # 4 working hours before
    assert escalations["at_risk_1"] < deadline_1
    assert local(2025, 4, 22, 12, 0) in attempts  # tried again right at the at-risk point
    assert deadline_1 - timedelta(minutes=5) in attempts  # ... and just before the deadline
    assert deadline_1 in attempts
    assert deadline_1 < escalations["breached_1"] <= deadline_1 + timedelta(minutes=34)
    gaps = [b - a for a, b in zip(attempts, attempts[1:], strict=False)]
    assert max(gaps) <= timedelta(minutes=33)  # the 30-minute cap plus 10 % jitter
    assert gaps[:3] == sorted(gaps[:3])  # backing off


def test_backoff_never_waits_past_the_at_risk_point() -> None:
    summary = make_summary(datetime(2025, 4, 16, 14, 0))
    failed_at = local(2025, 4, 22, 11, 50)
    plain = failed_at + wait_for(wait_exponential(), 6)
    assert plain > local(2025, 4, 22, 12, 0)
    assert next_retry_at(summary, 6, failed_at, POLICY) == local(2025, 4, 22, 12, 0)
    # without a deadline the same failure just backs off
    other = make_summary(None)
    assert next_retry_at(other, 6, failed_at, RetryPolicy(wait=wait_exponential())) == plain


def test_decisions_table() -> None:
    sla = make_summary(datetime(2025, 4, 16, 14, 0))
    assert decide(sla, local(2025, 4, 22, 9)) == AttemptNow()
    failed = replace(sla, attempts=1, last_attempt_at=local(2025, 4, 22, 9))
    policy = RetryPolicy(wait=wait_exponential())
    assert decide(failed, local(2025, 4, 22, 9), policy) == WaitUntil(local(2025, 4, 22, 9, 0, 30))
    assert decide(failed, local(2025, 4, 22, 9, 0, 30), policy) == AttemptNow()
    # letters without a deadline give up after the stop policy; epikriser never do
    other = make_summary(None, attempts=12, last=local(2025, 4, 22, 9))
    assert isinstance(decide(other, local(2025, 4, 22, 10)), GiveUp)
    stop = RetryPolicy(stop_other=stop_after_attempt(99) | stop_after_delay(timedelta(hours=1)))
    assert isinstance(decide(replace(other, attempts=2), local(2025, 4, 22, 10), stop), GiveUp)
    assert not isinstance(decide(replace(failed, attempts=500), local(2025, 4, 22, 10)), GiveUp)


def test_backlog_is_drained_earliest_deadline_first() -> None:
    """After an outage the backlog holds letters in arrival order; a working receiver gets
    them earliest deadline first, and a message without an SLA waits its virtual deadline."""
    now = local(2025, 4, 22, 8, 0)
    backlog = [
        make_summary(datetime(2025, 4, 15, 9), message_id="late-3wd", received=local(2025, 4, 21)),
        make_summary(None, message_id="dis91", received=local(2025, 4, 21, 7)),
        make_summary(
            datetime(2025, 4, 21, 9), message_id="easter-mon", received=local(2025, 4, 21, 10)
        ),
        make_summary(
            datetime(2025, 4, 16, 14), message_id="due-today", received=local(2025, 4, 21, 11)
        ),
        make_summary(
            datetime(2025, 4, 22, 7), message_id="due-wed", received=local(2025, 4, 21, 12)
        ),
        make_summary(None, message_id="dis91-new", received=local(2025, 4, 22, 7)),
    ]
    delivered = []
    while backlog:
        first = order_backlog(backlog, now)[0]
        decision = decide(first, now)
        if isinstance(decision, Escalate):  # late-3wd's 1-workday deadline has passed
            assert (decision.kind, first.message_id) == ("breached_1", "late-3wd")
            decision = decision.then
        assert decision == AttemptNow()
        delivered.append(first.message_id)  # the receiver accepts it
        backlog.remove(first)
        now += timedelta(seconds=1)
    assert delivered == [
        "dis91",  # virtual deadline 22 April 07:00 (received + 1 day): already due
        "easter-mon",  # 1 workday: Tuesday 22 April (Easter Monday discharge)
        "due-today",  # 1 workday: Tuesday 22 too (Wednesday before Easter); received later
        "dis91-new",  # virtual deadline 23 April 07:00
        "late-3wd",  # 1 workday (16 April) passed; 3 workdays: Wednesday 23, received first
        "due-wed",  # 1 workday: Wednesday 23 April
    ]
