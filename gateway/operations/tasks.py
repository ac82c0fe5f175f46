"""One task list: the pipeline's operator tasks (a parked message, a missing receipt, ...) and
the SLA escalations (a discharge letter at risk or late), with one resolve.

Ids say where a task lives: ``msg-<n>`` (operator_tasks) and ``sla-<n>`` (sla_tasks). A task is
``open`` until resolved: by an operator's act on its message (actions.py), by
``POST /v1/tasks/{id}/resolve``, or for SLA tasks by the letter's delivery. Who resolved it and
why is kept in ``task_resolutions`` and the access audit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.errors import MedbroError
from gateway.operations import audit
from gateway.operations.principal import Principal
from gateway.operations.tables import TaskResolutionRow
from gateway.sla.tables import SlaTask
from gateway.store.tables import MessageRow, OperatorTaskRow

STATES = ("open", "resolved")
MAX_LIMIT = 500


class TaskNotFound(MedbroError):
    pass


def _utc(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def listing(session: Session, who: Principal, *, state: str | None = None,
            kind: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Newest first, message tasks and SLA tasks together."""
    items = _message_tasks(session, who, state, kind, limit) + _sla_tasks(
        session, who, state, kind, limit)
    items.sort(key=lambda t: t["created_at"] or "", reverse=True)
    return items[:limit]


def _resolutions(session: Session, ids: list[str]) -> dict[str, TaskResolutionRow]:
    if not ids:
        return {}
    rows = session.scalars(sa.select(TaskResolutionRow).where(TaskResolutionRow.task_id.in_(ids)))
    return {r.task_id: r for r in rows}


def _message_view(task: OperatorTaskRow, parties: Any, res: TaskResolutionRow | None
                  ) -> dict[str, Any]:
    sender, receiver, letter_type = parties if parties is not None else (None, None, None)
    return {
        "id": f"msg-{task.id}", "source": "message", "kind": task.kind,
        "state": "open" if task.status == "open" else "resolved", "reason": task.reason,
        "message_id": task.message_id, "type": letter_type, "sender": sender,
        "receiver": receiver, "created_at": _utc(task.created_at),
        "resolved_at": _utc(task.closed_at), "resolved_by": res.actor if res else None,
        "note": res.note if res else None}


def _sla_view(task: SlaTask, res: TaskResolutionRow | None) -> dict[str, Any]:
    return {
        "id": f"sla-{task.id}", "source": "sla", "kind": task.kind,
        "state": "open" if task.resolved_at is None else "resolved",
        "reason": f"discharge letter {task.kind.replace('_', ' ')} workday(s); deadline "
                  f"{_utc(task.deadline)}",
        "hospital": task.hospital, "department": task.department,
        "deadline": _utc(task.deadline), "created_at": _utc(task.created_at),
        "resolved_at": _utc(task.resolved_at), "resolved_by": res.actor if res else None,
        "note": res.note if res else None}


def _message_tasks(session: Session, who: Principal, state: str | None, kind: str | None,
                   limit: int, task_no: int | None = None) -> list[dict[str, Any]]:
    t, m = OperatorTaskRow, MessageRow
    stmt = sa.select(t, m.sender_gln, m.receiver_gln, m.type).outerjoin(m, m.id == t.message_id)
    if task_no is not None:
        stmt = stmt.where(t.id == task_no)
    if state:
        stmt = stmt.where(t.status == ("open" if state == "open" else "closed"))
    if kind:
        stmt = stmt.where(t.kind == kind)
    if who.glns is not None:
        glns = sorted(who.glns) or [""]
        stmt = stmt.where(sa.or_(m.sender_gln.in_(glns), m.receiver_gln.in_(glns)))
    rows = session.execute(stmt.order_by(t.id.desc()).limit(limit)).all()
    done = _resolutions(session, [f"msg-{r[0].id}" for r in rows])
    return [_message_view(r[0], r[1:], done.get(f"msg-{r[0].id}")) for r in rows]


def _sla_tasks(session: Session, who: Principal, state: str | None, kind: str | None,
               limit: int, task_no: int | None = None) -> list[dict[str, Any]]:
    stmt = sa.select(SlaTask)
    if task_no is not None:
        stmt = stmt.where(SlaTask.id == task_no)
    if state == "open":
        stmt = stmt.where(SlaTask.resolved_at.is_(None))
    elif state == "resolved":
        stmt = stmt.where(SlaTask.resolved_at.is_not(None))
    if kind:
        stmt = stmt.where(SlaTask.kind == kind)
    if who.hospitals is not None:
        stmt = stmt.where(SlaTask.hospital.in_(sorted(who.hospitals) or [""]))
    rows = list(session.scalars(stmt.order_by(SlaTask.id.desc()).limit(limit)))
    done = _resolutions(session, [f"sla-{r.id}" for r in rows])
    return [_sla_view(r, done.get(f"sla-{r.id}")) for r in rows]


def get(session: Session, who: Principal, task_id: str) -> dict[str, Any]:
    """One task the caller may see, else TaskNotFound."""
    source, _, number = task_id.partition("-")
    if not number.isdigit() or source not in ("msg", "sla"):
        raise TaskNotFound(f"no task {task_id!r} (ids look like msg-12 or sla-5)")
    found = (_message_tasks if source == "msg" else _sla_tasks)(
        session, who, None, None, 1, task_no=int(number))
    if not found:
        raise TaskNotFound(f"no task {task_id!r}")
    return found[0]


def resolve(session: Session, task_id: str, *, who: Principal, note: str,
            now: datetime) -> dict[str, Any]:
    """Resolve one task (idempotent: a resolved task answers as it is)."""
    get(session, who, task_id)  # visible to the caller, else TaskNotFound
    number = int(task_id.partition("-")[2])
    changed = False
    if task_id.startswith("msg-"):
        task = session.get(OperatorTaskRow, number, with_for_update=True)
        if task is not None and task.status == "open":
            task.status, task.closed_at, changed = "closed", now, True
    else:
        sla = session.get(SlaTask, number, with_for_update=True)
        if sla is not None and sla.resolved_at is None:
            sla.resolved_at = now.astimezone(UTC).replace(tzinfo=None)
            changed = True
    if changed:
        session.merge(TaskResolutionRow(task_id=task_id, note=note, actor=who.actor, at=now))
    audit.record(session, who, "task.resolve", target=f"task:{task_id}", at=now, note=note,
                 outcome="applied" if changed else "noop")
    return get(session, who, task_id)
