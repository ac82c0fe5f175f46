"""``medbro prune``: remove the raw bytes of bodies policy.py lets go, batch by batch.

Each batch is one transaction: the bodies are emptied (``interchanges.raw``, and the raw copy
of a receipt carried by that interchange in ``receipts.raw``), a ``retention_pruned`` row and a
``body_pruned`` audit event per message record it. Metadata, states, attempts, receipts' text
and the audit log stay. An interrupted run can simply be run again; a second run prunes
nothing new. ``dry_run`` decides the same and writes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from gateway.logging import get_logger
from gateway.retention.holds import Holds
from gateway.retention.policy import RetentionPolicy, StoredMessage, Verdict, verdict
from gateway.retention.tables import PrunedBody
from gateway.store.repository import audit
from gateway.store.tables import InterchangeRow, MessageRow, ReceiptRow

BATCH = 500
log = get_logger(__name__)


@dataclass
class PruneResult:
    examined: int = 0
    pruned: int = 0
    bytes: int = 0
    kept: Counter[str] = field(default_factory=Counter)  # young / unsettled / held

    def summary(self, dry_run: bool) -> str:
        verb = "would prune" if dry_run else "pruned"
        kept = ", ".join(f"{n} {why}" for why, n in sorted(self.kept.items())) or "none"
        return (f"{self.examined} bodies examined: {verb} {self.pruned} ({self.bytes} bytes); "
                f"kept: {kept}")


def _candidates(cutoff: datetime):  # type: ignore[no-untyped-def]
    """Interchanges old enough for the shortest period and not yet pruned."""
    return (
        sa.select(InterchangeRow.id)
        .where(InterchangeRow.created_at < cutoff)
        .where(~sa.exists().where(PrunedBody.interchange_id == InterchangeRow.id))
    )


def pruned_on(session: Session, interchange_id: str) -> datetime | None:
    """When the interchange's body was pruned (None: it is whole). Operator acts that would
    send it again (release, replay) refuse a pruned one: there are no bytes left to send."""
    row = session.get(PrunedBody, interchange_id)
    return row.pruned_at if row is not None else None


def count_candidates(sessions: sessionmaker, policy: RetentionPolicy, now: datetime) -> int:
    cutoff = now - timedelta(days=policy.shortest)
    with sessions() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(
            _candidates(cutoff).subquery())) or 0


def _batch(session: Session, ids: list[str], *, now: datetime, policy: RetentionPolicy,
           holds: Holds, dry_run: bool, result: PruneResult) -> None:
    rows = session.execute(
        sa.select(InterchangeRow.id, InterchangeRow.created_at, InterchangeRow.status,
                  sa.func.length(InterchangeRow.raw))
        .where(InterchangeRow.id.in_(ids))
    ).all()
    messages: dict[str, list[tuple[str, StoredMessage]]] = {}
    for m in session.execute(
        sa.select(MessageRow.interchange_id, MessageRow.id, MessageRow.type, MessageRow.family,
                  MessageRow.state, MessageRow.ack_requested)
        .where(MessageRow.interchange_id.in_(ids))
    ):
        messages.setdefault(m.interchange_id, []).append(
            (m.id, StoredMessage(m.type or "", m.family or "", m.state, bool(m.ack_requested))))
    for inter_id, created_at, status, size in rows:
        result.examined += 1
        own = messages.get(inter_id, [])
        raw = None
        if holds.patients:  # only a patient hold needs the bytes themselves
            raw = session.scalar(sa.select(InterchangeRow.raw).where(InterchangeRow.id == inter_id))
        held = holds.cover(inter_id, [mid for mid, _ in own], raw)
        decided = verdict(created_at=created_at, now=now, interchange_status=status,
                          messages=[m for _, m in own], policy=policy, held=held)
        if decided is not Verdict.PRUNE:
            result.kept[decided.value] += 1
            continue
        result.pruned += 1
        result.bytes += size or 0
        if dry_run:
            continue
        days = max((policy.days_for(m, status) for _, m in own),
                   default=policy.days_for(None, status))
        session.execute(sa.update(InterchangeRow).where(InterchangeRow.id == inter_id)
                        .values(raw=b""))
        session.execute(sa.update(ReceiptRow).where(ReceiptRow.interchange_id == inter_id)
                        .values(raw=b""))
        session.add(PrunedBody(interchange_id=inter_id, pruned_at=now, size=size or 0,
                               retention_days=days))
        for message_id, _ in own or [(None, None)]:
            audit(session, "body_pruned", at=now, message_id=message_id,
                  interchange_id=inter_id, size=size or 0, retention_days=days)


def prune(
    sessions: sessionmaker,
    policy: RetentionPolicy,
    *,
    now: datetime,
    dry_run: bool = False,
    on_batch: Callable[[int], object] | None = None,
) -> PruneResult:
    """Prune every body the policy lets go at ``now`` (aware UTC); one commit per batch."""
    result = PruneResult()
    cutoff = now - timedelta(days=policy.shortest)
    with sessions() as session:
        holds = Holds.load(session)
    after: tuple[datetime, str] | None = None
    while True:
        with sessions() as session, session.begin():
            query = _candidates(cutoff).add_columns(InterchangeRow.created_at)
            if after is not None:
                query = query.where(sa.tuple_(InterchangeRow.created_at, InterchangeRow.id)
                                    > sa.tuple_(*after))
            page = session.execute(
                query.order_by(InterchangeRow.created_at, InterchangeRow.id).limit(BATCH)
            ).all()
            if not page:
                break
            _batch(session, [r.id for r in page], now=now, policy=policy, holds=holds,
                   dry_run=dry_run, result=result)
            after = (page[-1].created_at, page[-1].id)
        if on_batch is not None:
            on_batch(len(page))
    log.info("bodies_pruned" if not dry_run else "bodies_prune_dry_run", examined=result.examined,
             pruned=result.pruned, bytes=result.bytes, kept=dict(result.kept))
    return result


__all__ = ["PruneResult", "count_candidates", "prune", "pruned_on"]
