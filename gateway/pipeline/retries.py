"""When to try a failed delivery again: the SLA policy for epikriser, backoff for the rest.

The worker asks ``plan_retry`` inside the transaction that records the failed attempt.

* An epikrise (DIS01 and siblings) whose discharge still waits for its first delivered letter
  is scheduled by ``gateway.sla.scheduling``: ``decide`` on the summary from
  ``gateway.sla.backlog.summary_for``. The wait is the SLA policy's (exponential with stable
  jitter, capped) but never past the next checkpoint (the at-risk instant, 5 minutes before
  each deadline, the deadline). Escalations it returns (``at_risk_1``, ``breached_1``,
  ``breached_3``) are recorded with ``record_escalation`` (alert + SLA task, once per
  discharge and kind) and written to the message's audit log. Such a letter is never parked
  while a deadline is still ahead; once every deadline has passed (the breaches escalated),
  the generic backoff and ``max_delivery_attempts`` apply again (retrying forever on the SLA's
  schedule saves nothing then; an operator task does).
* Every other message keeps the generic exponential backoff over the delay tiers and is parked
  after ``max_delivery_attempts``.

Earliest deadline first, and its limit: the broker cannot reorder a queue (RabbitMQ 3.10's
quorum queues have no message priorities, and per-endpoint FIFO is what keeps one receiver's
letters in order). EDF is therefore applied to *when* each retry becomes due: the checkpoints
cut an epikrise's wait short as its deadline nears, so of two letters failing at the same
time the one with the earlier deadline is due (and back on the endpoint queue) first, and a
letter without a deadline gets the full backoff. The exact due time travels as the
``not_before`` header: the broker's delay tiers are fixed, so the worker publishes to the
longest tier that does not overshoot and, when a message comes back early, sends it through
another tier hop without an attempt (``decide_delivery``'s Wait). Within the endpoint queue, letters
that are due at once are delivered in arrival order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import tenacity
from sqlalchemy.orm import Session

from gateway.logging import get_logger
from gateway.retrying import wait_for
from gateway.store import repository as repo
from gateway.store.tables import MessageRow

log = get_logger(__name__)
NOT_BEFORE = "not_before"


@dataclass(frozen=True)
class RetryPlan:
    """``delay`` seconds until the next attempt, or ``give_up`` with a reason."""

    delay: float = 0.0
    give_up: str = ""
    sla: bool = False  # scheduled by the SLA policy (delay honoured exactly via not_before)
    escalations: tuple[str, ...] = ()


def _sla() -> Any | None:
    try:
        from gateway.sla import backlog, hooks, scheduling
    except ModuleNotFoundError:  # pragma: no cover - the SLA package ships with medbro
        return None
    return backlog, hooks, scheduling


def plan_retry(
    session: Session,
    rows: list[MessageRow],
    *,
    attempt_no: int,
    now: datetime,
    max_attempts: int,
    generic_delay: Callable[[int], float],
) -> RetryPlan:
    """The plan after failed attempt ``attempt_no`` of the interchange carrying ``rows``."""
    letter = _epikrise(rows)
    modules = _sla()
    if letter is not None and modules is not None:
        backlog, _, scheduling = modules
        summary = backlog.summary_for(session, letter.id, received_at=letter.created_at,
                                      attempts=attempt_no, last_attempt_at=now)
        if summary.deadlines:
            plan, escalations = _sla_plan(session, letter, summary, attempt_no=attempt_no,
                                          now=now, backlog=backlog, scheduling=scheduling)
            if plan is not None:
                return plan
            if attempt_no >= max_attempts:
                return RetryPlan(give_up=f"{attempt_no} attempts failed and every SLA deadline "
                                 "has passed", escalations=escalations)
            return RetryPlan(delay=generic_delay(attempt_no), escalations=escalations)
    if attempt_no >= max_attempts:
        return RetryPlan(give_up=f"{attempt_no} attempts failed")
    return RetryPlan(delay=generic_delay(attempt_no))


def _epikrise(rows: list[MessageRow]) -> MessageRow | None:
    modules = _sla()
    if modules is None:
        return None
    hooks = modules[1]
    return next((r for r in rows if r.family != "CONTRL" and hooks.is_epikrise(r.type or "")),
                None)


def _sla_plan(session: Session, letter: MessageRow, summary: Any, *, attempt_no: int,
              now: datetime, backlog: Any, scheduling: Any,
              ) -> tuple[RetryPlan | None, tuple[str, ...]]:
    """The SLA's plan and the escalations raised; no plan once every deadline has passed (the
    generic rule applies then: the SLA's schedule can no longer save a deadline)."""
    raised: list[str] = []
    decision = scheduling.decide(summary, now)
    for _ in range(4):  # at most at_risk_1, breached_1, breached_3 (+1 for safety)
        if not isinstance(decision, scheduling.Escalate):
            break
        escalation = backlog.record_escalation(session, letter.id, decision.kind, now)
        raised.append(decision.kind)
        repo.audit(session, "sla_escalated", at=now, message_id=letter.id,
                   interchange_id=letter.interchange_id, kind=decision.kind,
                   deadline=decision.deadline.isoformat(), new=escalation is not None)
        log.warning("delivery_escalated", message_id=letter.id, kind=decision.kind,
                    deadline=decision.deadline.isoformat(), attempts=attempt_no, alert=True)
        summary = backlog.summary_for(session, letter.id, received_at=letter.created_at,
                                      attempts=attempt_no, last_attempt_at=now)
        if decision.kind in summary.escalated:
            decision = scheduling.decide(summary, now)
        else:  # the discharge is gone meanwhile: follow the escalation's own retry decision
            decision = decision.then
    last_deadline = summary.deadlines[-1][1] if summary.deadlines else None
    if last_deadline is None or now > last_deadline:
        return None, tuple(raised)
    if isinstance(decision, scheduling.GiveUp):
        return RetryPlan(give_up=decision.reason, sla=True,
                         escalations=tuple(raised)), tuple(raised)
    delay = 0.0
    if isinstance(decision, scheduling.WaitUntil):
        delay = max((decision.at - now).total_seconds(), 0.0)
    return RetryPlan(delay=delay, sla=True, escalations=tuple(raised)), tuple(raised)


def generic_delay(settings: Any) -> Callable[[int], float]:
    """The backoff before retry ``n`` (1 = after the first failure) of a message without an
    SLA: tenacity's exponential wait over the delay tiers, from the shortest to the longest."""
    base, cap = settings.retry_delays_seconds[0], settings.retry_delays_seconds[-1]
    wait = tenacity.wait_exponential(multiplier=base, min=base, max=cap)

    def delay(attempt_no: int) -> float:
        return wait_for(wait, attempt_no).total_seconds()

    return delay


def hop_delay(tiers: tuple[float, ...], seconds: float) -> float:
    """The longest delay tier that does not overshoot ``seconds`` (the shortest if all do)."""
    fitting = [t for t in tiers if t <= seconds]
    return max(fitting) if fitting else min(tiers)


__all__ = ["NOT_BEFORE", "RetryPlan", "generic_delay", "hop_delay", "plan_retry"]
