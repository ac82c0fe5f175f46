"""Endpoint health from the store: what waits for each endpoint, since when, what is parked,
when it last took a delivery and since when it has been failing.

Read from the shared store, so every process (and every API replica) answers the same; the
same figures feed the store-derived metrics (gateway/operations/gauges.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.store.states import MessageState
from gateway.store.tables import AttemptRow, MessageRow

DELIVERED = "delivered"


def _aware(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite answers MIN()/MAX() of a DateTime as text
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def waiting(session: Session) -> dict[tuple[str | None, str], tuple[int, datetime | None]]:
    """(receiver GLN, state) -> (count, oldest reception) for ROUTED and PARKED messages."""
    rows = session.execute(
        sa.select(MessageRow.receiver_gln, MessageRow.state, sa.func.count(),
                  sa.func.min(MessageRow.created_at))
        .where(MessageRow.state.in_([MessageState.ROUTED.value, MessageState.PARKED.value]))
        .group_by(MessageRow.receiver_gln, MessageRow.state)).all()
    return {(gln, state): (int(n), _aware(oldest)) for gln, state, n, oldest in rows}


def _last_delivery(session: Session, gln: str) -> datetime | None:
    return _aware(session.scalar(sa.select(sa.func.max(AttemptRow.finished_at)).where(
        AttemptRow.endpoint_gln == gln, AttemptRow.outcome == DELIVERED)))


def _failing_since(session: Session, gln: str, last_ok: datetime | None) -> datetime | None:
    stmt = sa.select(sa.func.min(AttemptRow.finished_at)).where(
        AttemptRow.endpoint_gln == gln, AttemptRow.outcome != DELIVERED)
    if last_ok is not None:
        stmt = stmt.where(AttemptRow.finished_at > last_ok)
    return _aware(session.scalar(stmt))


def health(session: Session, registry: Any, now: datetime,
           glns: frozenset[str] | None = None) -> list[dict[str, Any]]:
    """One row per configured endpoint (those in ``glns`` when given), by name."""
    counts = waiting(session)
    out = []
    for ep in sorted(registry.endpoints, key=lambda e: e.name):
        if glns is not None and ep.gln not in glns:
            continue
        depth, oldest = counts.get((ep.gln, MessageState.ROUTED.value), (0, None))
        parked, _ = counts.get((ep.gln, MessageState.PARKED.value), (0, None))
        last_ok = _last_delivery(session, ep.gln)
        failing = _failing_since(session, ep.gln, last_ok)
        out.append({
            "gln": ep.gln, "name": ep.name, "channel": ep.channel.kind,
            "queue_depth": depth,
            "oldest_age_seconds": round(max((now - oldest).total_seconds(), 0.0), 1)
            if oldest is not None else None,
            "last_delivery": last_ok.isoformat() if last_ok else None,
            "failing_since": failing.isoformat() if failing else None,
            "parked": parked,
        })
    return out


def parked_unknown(session: Session, registry: Any) -> int:
    """Parked messages whose receiver is not a configured endpoint (reload, then release)."""
    known = {ep.gln for ep in registry.endpoints}
    return sum(n for (gln, state), (n, _) in waiting(session).items()
               if state == MessageState.PARKED.value and gln not in known)
