"""Release, replay and close one message: the store work around ``rules.decide``.

One transaction per act: the message's interchange is locked (``FOR UPDATE``, as the worker
locks it), the rule decides, every message of the interchange in the same state moves by the
lifecycle event (an interchange travels whole), the message's open operator tasks are closed
with who and why, and the act is written to the access audit. The delivery command is published
after the commit (pipeline_port); if that publish is lost the worker's scanner republishes a
message left ROUTED, so the act is never lost and never delivered twice by itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.errors import MedbroError
from gateway.operations import audit, pipeline_port
from gateway.operations.principal import Principal
from gateway.operations.rules import Action, Verdict, decide
from gateway.operations.tables import TaskResolutionRow
from gateway.retention.prune import pruned_on
from gateway.routing import Match
from gateway.store import repository as repo
from gateway.store.tables import MessageRow, OperatorTaskRow


class NotFound(MedbroError):
    """No such message among those the caller may see."""


class Refused(MedbroError):
    """The act does not apply in the message's state (409); the text says why."""


@dataclass(frozen=True)
class Outcome:
    id: str
    action: str
    state: str
    changed: bool
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "action": self.action, "state": self.state,
                "changed": self.changed, "detail": self.detail}


def task_id(task: OperatorTaskRow) -> str:
    return f"msg-{task.id}"


def close_tasks(session: Session, message_ids: list[str], *, note: str, actor: str,
                now: datetime) -> int:
    tasks = list(session.scalars(sa.select(OperatorTaskRow).where(
        OperatorTaskRow.message_id.in_(message_ids), OperatorTaskRow.status == "open")))
    for task in tasks:
        task.status = "closed"
        task.closed_at = now
        session.merge(TaskResolutionRow(task_id=task_id(task), note=note, actor=actor, at=now))
    return len(tasks)


def apply(session: Session, hub: Any, message_id: str, action: Action, *, who: Principal,
          reason: str, now: datetime) -> tuple[Outcome, list[MessageRow]]:
    """The act in one transaction; returns the outcome and the rows to deliver after commit."""
    row = session.get(MessageRow, message_id)
    if row is None or not who.sees(row.sender_gln, row.receiver_gln):
        raise NotFound(f"no message {message_id!r}")
    rows = repo.messages_of(session, row.interchange_id, for_update=True)
    row = next(r for r in rows if r.id == message_id)  # re-read under the lock
    decision = decide(action, row.state)
    target = f"message:{message_id}"
    if decision.verdict is Verdict.REFUSE:
        raise Refused(f"cannot {action.value} message {message_id}: it is {row.state}; "
                      f"{decision.reason}")
    if decision.verdict is Verdict.APPLY and action is not Action.CLOSE:
        pruned = pruned_on(session, row.interchange_id)
        if pruned is not None:  # retention removed the bytes: nothing left to send
            raise Refused(f"cannot {action.value} message {message_id}: its body was pruned "
                          f"on {pruned:%Y-%m-%d} (medbro prune, retention)")
        match = pipeline_port.routable(hub, row)
        if match is not Match.FULL:
            raise Refused(
                f"cannot {action.value} message {message_id}: routing says "
                f"{match.value} for receiver {row.receiver_gln} ({row.type} {row.version}); "
                "add or fix the endpoint in the partner file, reload (POST /v1/admin/reload "
                "or SIGHUP), then release again")
    if decision.verdict is Verdict.NOOP:
        audit.record(session, who, f"message.{action.value}", target=target, at=now,
                     reason=reason, outcome="noop", state=row.state)
        return Outcome(message_id, action.value, row.state, False, decision.reason), []
    assert decision.event is not None
    state_from = row.state
    moved = [r for r in rows if r.state == state_from]
    for r in moved:
        send = pipeline_port.new_send(r) if action is not Action.CLOSE else {}
        repo.transition(session, r, decision.event, at=now, by=who.actor, reason=reason, **send)
    closed = close_tasks(session, [r.id for r in moved], note=f"{action.value}: {reason}",
                         actor=who.actor, now=now)
    audit.record(session, who, f"message.{action.value}", target=target, at=now, reason=reason,
                 outcome="applied", state_from=state_from, state_to=row.state,
                 messages=len(moved), tasks_closed=closed)
    deliver = moved if action is not Action.CLOSE else []
    return Outcome(message_id, action.value, row.state, True), deliver


async def act(hub: Any, message_id: str, action: Action | str, *, who: Principal, reason: str,
              now: datetime) -> Outcome:
    """Apply ``action`` to one message and publish what must be delivered."""
    action = Action(action)

    def unit() -> tuple[Outcome, list[MessageRow]]:
        with hub.store.transaction() as session:
            return apply(session, hub, message_id, action, who=who, reason=reason, now=now)

    outcome, to_deliver = await hub.ctx.db(unit)
    if to_deliver:
        await pipeline_port.deliver(hub, to_deliver)
    return outcome
