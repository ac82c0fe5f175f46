"""The pipeline's Prometheus figures (gateway.metrics), fed from what the store commits.

* ``medbro_messages_total{type,state}``: every state a message reaches is an audit event
  (``repository.transition`` writes ``message_<event>`` with ``state_to``; ``add_message``
  writes ``message_received``). A session listener collects those events at flush and counts
  them only after the COMMIT, so a rolled-back unit of work (a competing worker, a database
  outage) never counts, and no pipeline step has to remember to count.
* ``medbro_delivery_attempts_total`` and ``medbro_delivery_latency_seconds``: the worker calls
  ``attempt`` / ``delivered`` after its commit.
* ``medbro_queue_depth`` / ``medbro_oldest_message_age_seconds``: computed from the store (the
  ROUTED messages per receiver: on the endpoint queue or in a delay tier), by
  ``refresh_backlog``. The worker runs it on its scanner tick; the API process registers it as
  a scrape hook (``metrics.on_scrape``), so every process's ``/metrics`` shows the shared
  backlog, not its own in-memory share. Counters stay per process: Prometheus sums them.
"""

from __future__ import annotations

from collections import Counter as Tally
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from gateway import metrics
from gateway.store.states import MessageState
from gateway.store.tables import AuditEventRow, MessageRow

_PENDING = "medbro_metering"
_MESSAGE_MAPPER = sa.inspect(MessageRow)


def _type_of(session: Session, message_id: str | None, flushed: dict[str, str]) -> str:
    if message_id is None:
        return ""
    if message_id in flushed:
        return flushed[message_id]
    row = session.identity_map.get(_MESSAGE_MAPPER.identity_key_from_primary_key([message_id]))
    return (getattr(row, "type", "") or "") if row is not None else ""


@event.listens_for(Session, "after_flush")
def _collect(session: Session, _flush_context: Any) -> None:
    audits = [o for o in session.new
              if isinstance(o, AuditEventRow) and o.event.startswith("message_")]
    if not audits:
        return
    flushed = {o.id: o.type or "" for o in (*session.new, *session.dirty)
               if isinstance(o, MessageRow)}
    for obj in audits:
        if obj.event == "message_received":
            state = MessageState.RECEIVED.value
        else:
            state = (obj.detail or {}).get("state_to")
            if not state or state == (obj.detail or {}).get("state_from"):
                continue  # a retry stays ROUTED: an attempt, not a new state
        pending = session.info.setdefault(_PENDING, [])
        pending.append((_type_of(session, obj.message_id, flushed), state))


def count_on_commit(session: Session, reached: list[tuple[str, str]]) -> None:
    """Count (letter type, state) pairs written without ORM objects (bulk INSERTs of audit
    events), like ``_collect`` does for objects: only once the session's COMMIT succeeded."""
    session.info.setdefault(_PENDING, []).extend(reached)


@event.listens_for(Session, "after_commit")
def _count(session: Session) -> None:
    for (letter_type, state), n in Tally(session.info.pop(_PENDING, ())).items():
        metrics.MESSAGES.labels(letter_type or "unknown", state).inc(n)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)


def attempt(endpoint_name: str, *, ok: bool) -> None:
    metrics.DELIVERY_ATTEMPTS.labels(endpoint_name, "ok" if ok else "failed").inc()


def delivered(letter_type: str, received_at: datetime, delivered_at: datetime) -> None:
    seconds = max((delivered_at - received_at).total_seconds(), 0.0)
    metrics.DELIVERY_LATENCY.labels(letter_type or "unknown").observe(seconds)


def backlog(session: Session) -> dict[str, tuple[int, datetime]]:
    """Receiver GLN -> (messages waiting for delivery, oldest reception time)."""
    rows = session.execute(
        sa.select(MessageRow.receiver_gln, sa.func.count(), sa.func.min(MessageRow.created_at))
        .where(MessageRow.state == MessageState.ROUTED.value)
        .group_by(MessageRow.receiver_gln)
    ).all()
    out: dict[str, tuple[int, datetime]] = {}
    for gln, count, oldest in rows:
        if gln is None or oldest is None:
            continue
        if isinstance(oldest, str):  # SQLite returns MIN() of a DateTime as text
            oldest = datetime.fromisoformat(oldest)
        if oldest.tzinfo is None:
            from datetime import UTC

            oldest = oldest.replace(tzinfo=UTC)
        out[gln] = (int(count), oldest)
    return out


def refresh_backlog(session: Session, endpoints: dict[str, str], now: datetime) -> None:
    """Set the queue gauges of every configured endpoint (``gln -> label``) from the store."""
    waiting = backlog(session)
    for gln, label in endpoints.items():
        count, oldest = waiting.get(gln, (0, now))
        metrics.QUEUE_DEPTH.labels(label).set(count)
        metrics.OLDEST_MESSAGE_AGE.labels(label).set(
            max((now - oldest).total_seconds(), 0.0) if count else 0.0)


__all__ = ["attempt", "backlog", "count_on_commit", "delivered", "refresh_backlog"]
