"""Deadline-aware delivery retries: when to try a letter again, and which letter to try first.

Theory of operation (docs/sla.md "Retries and escalation"):

* Backoff is a tenacity policy: tenacity's own wait and stop objects composed with ``+`` and
  ``|``, asked through gateway/retrying.py (the one retry vocabulary). The default waits
  30 s, doubling, capped at 30 min, plus up to 10 % jitter. The jitter is a stable function
  of (message id, attempt), so asking ``decide`` twice gives the same answer; tests inject
  their own.
* The backoff never waits past a *checkpoint*: the at-risk instant and, for every SLA
  deadline, ``margin`` (5 min) before it and the deadline itself. A letter whose receiver is
  down is therefore tried again right when it becomes at risk and just before each deadline.
* ``decide`` escalates (``Escalate``) when the letter is at risk or a deadline has passed and
  that kind was not raised yet; the escalation carries the retry decision to follow it.
  Epikriser never give up (the default stop policy is ``stop_never``); letters without an SLA
  deadline give up after the stop policy (``GiveUp``), and the caller parks them.
* ``priority``/``order_backlog``: earliest deadline first over the whole backlog. A message
  without an SLA deadline gets a virtual deadline ``received_at + non_sla_horizon`` (1 day),
  so deadline letters go first but nothing starves.

Everything is pure: the caller passes ``now``, sleeps, attempts and records the outcome.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import tenacity

from gateway.retrying import (
    retry_state,
    stable_random,
    stop_base,
    wait_base,
    wait_for,
    wait_stable_jitter,
)
from gateway.sla.deadlines import as_local


@dataclass(frozen=True)
class DeliverySummary:
    """What the scheduler knows about one message waiting for delivery (aware times).

    ``deadlines`` are (target workdays, deadline) pairs, ascending (empty for a message that is
    not an epikrise); ``at_risk_at`` the at-risk instant of the 1-workday deadline;
    ``escalated`` the escalation kinds already raised (``at_risk_1``, ``breached_1``,
    ``breached_3``: the ``sla_tasks`` kinds); ``attempts`` the failed attempts so far.
    """

    message_id: str
    received_at: datetime
    deadlines: tuple[tuple[int, datetime], ...] = ()
    at_risk_at: datetime | None = None
    attempts: int = 0
    last_attempt_at: datetime | None = None
    escalated: frozenset[str] = frozenset()


# ---- policies: tenacity's wait and stop objects (gateway/retrying.py) ------------------------


def wait_exponential(initial: timedelta = timedelta(seconds=30), multiplier: float = 2.0,
                     maximum: timedelta = timedelta(minutes=30)) -> wait_base:
    """``initial * multiplier ** (attempt - 1)``, capped at ``maximum`` (attempt 1 = the first
    retry)."""
    return tenacity.wait_exponential(multiplier=initial.total_seconds(), exp_base=multiplier,
                                     max=maximum.total_seconds())


def wait_jitter(of: wait_base, fraction: float = 0.1,
                random: Callable[[str, int], float] = stable_random) -> wait_base:
    """A random extra wait in [0, ``fraction`` * ``of``), stable per (message, attempt)."""
    return wait_stable_jitter(of, fraction, random)


def stop_after_attempt(attempts: int) -> stop_base:
    return tenacity.stop_after_attempt(attempts)


def stop_after_delay(delay: timedelta) -> stop_base:
    """Give up once ``delay`` has passed since the message was received."""
    return tenacity.stop_after_delay(delay.total_seconds())


stop_never = tenacity.stop_never


# ---- decisions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttemptNow:
    """Deliver now."""


@dataclass(frozen=True)
class WaitUntil:
    """Do not try before ``at``."""

    at: datetime


@dataclass(frozen=True)
class GiveUp:
    """Stop retrying (only for messages without an SLA deadline); park and tell an operator."""

    reason: str


@dataclass(frozen=True)
class Escalate:
    """Raise an alert and an operator task (``kind``: at_risk_1, breached_1, ...), then ``then``."""

    kind: str
    deadline: datetime
    then: AttemptNow | WaitUntil


Decision = AttemptNow | WaitUntil | GiveUp | Escalate


@dataclass(frozen=True)
class RetryPolicy:
    """The composed policy; the defaults are documented in docs/sla.md."""

    wait: wait_base = field(
        default_factory=lambda: wait_exponential() + wait_jitter(wait_exponential())
    )
    stop_sla: stop_base = field(default_factory=lambda: stop_never)
    stop_other: stop_base = field(
        default_factory=lambda: stop_after_attempt(12) | stop_after_delay(timedelta(days=2))
    )
    margin: timedelta = timedelta(minutes=5)
    non_sla_horizon: timedelta = timedelta(days=1)


DEFAULT_POLICY = RetryPolicy()


def _due_escalation(summary: DeliverySummary, now: datetime) -> tuple[str, datetime] | None:
    for target, due in summary.deadlines:
        kind = f"breached_{target}"
        if now > due and kind not in summary.escalated:
            return kind, due
    at_risk = summary.at_risk_at
    if at_risk is not None and now >= at_risk and "at_risk_1" not in summary.escalated:
        first = dict(summary.deadlines).get(1)
        if first is not None and now <= first:
            return "at_risk_1", first
    return None


def _checkpoints(summary: DeliverySummary, margin: timedelta) -> list[datetime]:
    points = [d - margin for _, d in summary.deadlines] + [d for _, d in summary.deadlines]
    if summary.at_risk_at is not None:
        points.append(summary.at_risk_at)
    return sorted(points)


def _retry(summary: DeliverySummary, now: datetime, policy: RetryPolicy) -> AttemptNow | WaitUntil:
    if summary.attempts == 0 or summary.last_attempt_at is None:
        return AttemptNow()
    last = as_local(summary.last_attempt_at)
    at = last + wait_for(policy.wait, summary.attempts, summary.message_id)
    later = [p for p in _checkpoints(summary, policy.margin) if p > last]
    if later:
        at = min(at, later[0])
    return AttemptNow() if at <= now else WaitUntil(at)


def decide(
    summary: DeliverySummary, now: datetime, policy: RetryPolicy = DEFAULT_POLICY
) -> Decision:
    """What to do with ``summary``'s message at ``now``."""
    now = as_local(now)
    retry = _retry(summary, now, policy)
    escalation = _due_escalation(summary, now)
    if escalation is not None:
        return Escalate(escalation[0], escalation[1], retry)
    stop = policy.stop_sla if summary.deadlines else policy.stop_other
    if summary.attempts and stop(retry_state(summary.attempts, key=summary.message_id,
                                             started=as_local(summary.received_at), now=now)):
        return GiveUp(f"gave up after {summary.attempts} failed attempts")
    return retry


def next_retry_at(
    summary: DeliverySummary, attempt: int, now: datetime, policy: RetryPolicy = DEFAULT_POLICY
) -> datetime:
    """For a worker that just failed attempt number ``attempt`` at ``now``: when to try again.

    Escalations and giving up are ``decide``'s business; this only answers "when".
    """
    failed = replace(summary, attempts=attempt, last_attempt_at=now)
    decision = _retry(failed, as_local(now), policy)
    return decision.at if isinstance(decision, WaitUntil) else as_local(now)


def priority(
    summary: DeliverySummary, now: datetime, policy: RetryPolicy = DEFAULT_POLICY
) -> tuple[datetime, datetime, str]:
    """Sort key for earliest-deadline-first: (effective deadline, received at, message id)."""
    now = as_local(now)
    upcoming = [d for _, d in summary.deadlines if d >= now]
    if upcoming:
        effective = upcoming[0]
    elif summary.deadlines:
        effective = summary.deadlines[-1][1]  # all passed: the most overdue go first
    else:
        effective = as_local(summary.received_at) + policy.non_sla_horizon
    return (as_local(effective), as_local(summary.received_at), summary.message_id)


def order_backlog(
    items: Iterable[DeliverySummary], now: datetime, policy: RetryPolicy = DEFAULT_POLICY
) -> list[DeliverySummary]:
    """The backlog in delivery order: earliest (effective) deadline first."""
    return sorted(items, key=lambda s: priority(s, now, policy))
