"""Units of work on the message store; the same SQL on SQLite and PostgreSQL.

Callers open a transaction with ``Store.transaction()`` and use the helpers below inside it, so
one pipeline step (store + state change + audit event + SLA hook) commits or fails as a whole.
Every state change goes through ``transition``: the table in ``states.py`` decides, and an audit
event records it (the audit log is append-only; nothing here updates or deletes it).
"""

from __future__ import annotations

import fcntl
import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, defer

from gateway.db import create_engine, session_factory
from gateway.store.states import MessageEvent, MessageState, next_state
from gateway.store.tables import (
    AttemptRow,
    AuditEventRow,
    InterchangeRow,
    MessageRow,
    OperatorTaskRow,
    ReceiptRow,
)

MIGRATION_LOCK = 0x6D656462726F  # "medbro": the advisory lock key for schema upgrades


def new_id() -> str:
    return str(uuid.uuid4())


class Store:
    """The engine and session factory; ``transaction()`` is one unit of work."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = create_engine(url, **engine_kwargs)
        self._sessions = session_factory(self.engine)

    def migrate(self) -> None:
        """Bring the schema to the latest revision; safe when several processes start at once
        (PostgreSQL: under an advisory lock; SQLite: under an exclusive lock on a file beside
        the database, because SQLite's write lock does not cover Alembic's check-then-create)."""
        from gateway.migrations import upgrade

        if self.engine.dialect.name != "postgresql":
            database = self.engine.url.database
            if not database or database == ":memory:":
                upgrade(self.url)
                return
            with open(f"{database}.migrate.lock", "a+b") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                try:
                    upgrade(self.url)
                finally:
                    fcntl.flock(lock, fcntl.LOCK_UN)
            return
        with self.engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            try:
                upgrade(self.url)
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
                conn.commit()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


def audit(
    session: Session,
    event: str,
    *,
    at: datetime,
    message_id: str | None = None,
    interchange_id: str | None = None,
    **detail: Any,
) -> None:
    session.add(AuditEventRow(message_id=message_id, interchange_id=interchange_id, at=at,
                              event=event, detail=detail))


def add_interchange(
    session: Session,
    *,
    raw: bytes,
    received_via: str,
    source: str,
    at: datetime,
    origin: str = "inbound",
    status: str = "received",
) -> InterchangeRow:
    row = InterchangeRow(**interchange_values(
        new_id(), raw=raw, received_via=received_via, source=source, at=at, origin=origin,
        status=status))
    session.add(row)  # the row itself is the "interchange_received" event (see message_view)
    return row


def interchange_values(
    interchange_id: str,
    *,
    raw: bytes,
    received_via: str,
    source: str,
    at: datetime,
    origin: str = "inbound",
    status: str = "received",
    sender_gln: str | None = None,
    receiver_gln: str | None = None,
    control_ref: str | None = None,
    ack_requested: bool = False,
) -> dict[str, Any]:
    """The columns of a new interchange row (``add_interchange``, or a bulk INSERT)."""
    return dict(
        id=interchange_id, raw=raw, sha256=hashlib.sha256(raw).hexdigest(), format="edifact",
        origin=origin, received_via=received_via, source=source, status=status, created_at=at,
        sender_gln=sender_gln, receiver_gln=receiver_gln, control_ref=control_ref,
        ack_requested=ack_requested,
    )


def add_message(session: Session, interchange: InterchangeRow, *, at: datetime,
                **fields: Any) -> MessageRow:
    row = MessageRow(id=new_id(), interchange_id=interchange.id, state=MessageState.RECEIVED.value,
                     created_at=at, updated_at=at, resend_count=0, **fields)
    session.add(row)
    audit(session, "message_received", at=at, message_id=row.id, interchange_id=interchange.id)
    return row


def transition(session: Session, row: MessageRow, event: MessageEvent, *, at: datetime,
               **detail: Any) -> MessageState:
    """Move ``row`` by ``event`` (raises ``IllegalTransition``) and record the audit event."""
    old = MessageState(row.state)
    new = next_state(old, event)
    row.state = new.value
    row.updated_at = at
    audit(session, f"message_{event.value}", at=at, message_id=row.id,
          interchange_id=row.interchange_id, state_from=old.value, state_to=new.value, **detail)
    return new


def open_task(session: Session, *, message_id: str | None, kind: str, reason: str,
              at: datetime) -> OperatorTaskRow:
    task = OperatorTaskRow(message_id=message_id, kind=kind, reason=reason, status="open",
                           created_at=at)
    session.add(task)
    audit(session, "operator_task_opened", at=at, message_id=message_id, kind=kind,
          reason=reason)
    return task


def messages_of(session: Session, interchange_id: str, *,
                for_update: bool = False) -> list[MessageRow]:
    """The messages of one interchange (without their summary JSON, which routing never reads).

    ``for_update`` locks them (PostgreSQL) so two workers that delivered the same redelivered
    queue message record it once: the second waits, then sees the state the first committed.
    """
    stmt = (sa.select(MessageRow).options(defer(MessageRow.summary))
            .where(MessageRow.interchange_id == interchange_id))
    if for_update:
        stmt = stmt.with_for_update()
    return list(session.scalars(stmt.order_by(MessageRow.created_at, MessageRow.id)))


def find_by_keys(session: Session, sender_gln: str, control_ref: str,
                 refs: list[str]) -> list[MessageRow]:
    """Messages already stored under the duplicate key (sender, UNB ref, UNH ref)."""
    stmt = sa.select(MessageRow).where(
        MessageRow.sender_gln == sender_gln,
        MessageRow.control_ref == control_ref,
        MessageRow.message_ref.in_(refs),
    )
    return list(session.scalars(stmt))


def first_receipt(session: Session, message_id: str) -> ReceiptRow | None:
    """The first receipt the sender got for ``message_id`` (replayed for duplicates)."""
    stmt = (sa.select(ReceiptRow).where(ReceiptRow.message_id == message_id)
            .order_by(ReceiptRow.id).limit(1))
    return session.scalars(stmt).first()


def attempt_count(session: Session, interchange_id: str) -> int:
    stmt = sa.select(sa.func.count()).select_from(AttemptRow).where(
        AttemptRow.interchange_id == interchange_id)
    return int(session.scalar(stmt) or 0)


def message_view(session: Session, message_id: str) -> dict[str, Any] | None:
    """Everything an operator or an API client may see about one message."""
    msg = session.get(MessageRow, message_id)
    if msg is None:
        return None
    inter = session.get(InterchangeRow, msg.interchange_id)
    attempts = session.scalars(sa.select(AttemptRow).where(
        AttemptRow.interchange_id == msg.interchange_id).order_by(AttemptRow.id))
    receipts = session.scalars(sa.select(ReceiptRow).where(
        ReceiptRow.message_id == message_id).order_by(ReceiptRow.id))
    events = session.scalars(sa.select(AuditEventRow).where(sa.or_(
        AuditEventRow.message_id == message_id,
        sa.and_(AuditEventRow.interchange_id == msg.interchange_id,
                AuditEventRow.message_id.is_(None)),
    )).order_by(AuditEventRow.id))
    tasks = session.scalars(sa.select(OperatorTaskRow).where(
        OperatorTaskRow.message_id == message_id).order_by(OperatorTaskRow.id))
    return {
        "id": msg.id,
        "interchange_id": msg.interchange_id,
        "state": msg.state,
        "format": msg.format,
        "family": msg.family,
        "type": msg.type,
        "version": msg.version,
        "sender_gln": msg.sender_gln,
        "receiver_gln": msg.receiver_gln,
        "control_ref": msg.control_ref,
        "message_ref": msg.message_ref,
        "letter_id": msg.letter_id,
        "ack_requested": msg.ack_requested,
        "resend_count": msg.resend_count,
        "received_via": inter.received_via if inter else None,
        "sha256": inter.sha256 if inter else None,
        "created_at": _iso(msg.created_at),
        "updated_at": _iso(msg.updated_at),
        "delivered_at": _iso(msg.delivered_at),
        "receipt_due_at": _iso(msg.receipt_due_at),
        "summary": msg.summary,
        "attempts": [
            {"attempt_no": a.attempt_no, "endpoint_gln": a.endpoint_gln, "channel": a.channel,
             "started_at": _iso(a.started_at), "finished_at": _iso(a.finished_at),
             "outcome": a.outcome, "error": a.error, "external_ref": a.external_ref}
            for a in attempts
        ],
        "receipts": [
            {"direction": r.direction, "kind": r.kind, "refusal": r.refusal, "text": r.text,
             "interchange_id": r.interchange_id, "at": _iso(r.created_at)}
            for r in receipts
        ],
        "events": [_received_event(inter)] + [
            {"at": _iso(e.at), "event": e.event, "detail": e.detail} for e in events],
        "tasks": [{"kind": t.kind, "reason": t.reason, "status": t.status,
                   "created_at": _iso(t.created_at)} for t in tasks],
    }


def _received_event(inter: InterchangeRow | None) -> dict[str, Any]:
    if inter is None:
        return {"at": None, "event": "interchange_received", "detail": {}}
    return {"at": _iso(inter.created_at), "event": "interchange_received",
            "detail": {"received_via": inter.received_via, "source": inter.source,
                       "size": len(inter.raw), "sha256": inter.sha256, "origin": inter.origin}}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
