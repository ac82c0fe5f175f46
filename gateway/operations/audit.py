"""The access audit: every read of patient data and every operator act, with who, what, when
and from where. Append-only: ``record`` adds a row in the caller's transaction, so a read that
could not be audited is not answered."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.operations.principal import Principal
from gateway.operations.tables import AccessAuditRow


def record(session: Session, who: Principal, action: str, *, target: str = "", at: datetime,
           **detail: Any) -> None:
    session.add(AccessAuditRow(at=at, actor=who.actor, action=action, target=target,
                               remote=who.remote[:200], detail=detail))
    session.flush()


def listing(session: Session, *, actor: str | None = None, action: str | None = None,
            target: str | None = None, since: datetime | None = None,
            until: datetime | None = None, limit: int = 100,
            before_id: int | None = None) -> dict[str, Any]:
    """Newest first; ``next`` is the id to pass as ``before_id`` for the next page."""
    stmt = sa.select(AccessAuditRow)
    if actor:
        stmt = stmt.where(AccessAuditRow.actor == actor)
    if action:
        stmt = stmt.where(AccessAuditRow.action == action)
    if target:
        stmt = stmt.where(AccessAuditRow.target == target)
    if since:
        stmt = stmt.where(AccessAuditRow.at >= since)
    if until:
        stmt = stmt.where(AccessAuditRow.at < until)
    if before_id:
        stmt = stmt.where(AccessAuditRow.id < before_id)
    rows = list(session.scalars(stmt.order_by(AccessAuditRow.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [{"id": r.id, "at": r.at.isoformat(), "actor": r.actor, "action": r.action,
                   "target": r.target, "remote": r.remote, "detail": r.detail} for r in rows],
        "next": str(rows[-1].id) if more and rows else None,
    }
