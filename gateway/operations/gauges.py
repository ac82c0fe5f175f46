"""The store-derived metrics: figures read from the shared store at scrape time.

A counter or gauge kept in one process's memory is wrong as soon as two processes run: the
parked messages, the open tasks, the letters at risk and the backlog belong to the store, not to
the worker that happened to park or raise them. ``refresh`` reads them with a few grouped,
indexed queries and sets the gauges; every process that serves ``/metrics`` runs it before each
scrape (``metrics.on_scrape``, registered by ``Hub.start``), so every instance reports the same
numbers and the alert rules take ``max`` over instances, never ``sum``.

* ``medbro_messages_parked{type,receiver}``: messages in state PARKED (index
  ``ix_messages_state_updated_at``); a receiver outside the partner file is ``unknown`` so the
  label set stays bounded.
* ``medbro_tasks_open{kind}``: open operator tasks (``refused``, ``undeliverable``, ...) and open
  SLA tasks (``at_risk_1``, ``breached_3``, ...), indexes ``ix_operator_tasks_status_kind`` and
  ``ix_sla_tasks_resolved_at_kind``.
* ``medbro_sla_letters_at_risk`` / ``medbro_sla_letters_open``: the SLA sweep's tallies
  (gateway.sla.alerts.letter_counts) over the open discharges (``ix_sla_discharges_open``).

The backlog gauges (``medbro_queue_depth``, ``medbro_oldest_message_age_seconds``) are read the
same way, by gateway.pipeline.metering; gateway.pipeline.ticks runs both on each scrape.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway import metrics
from gateway.sla.tables import SlaTask
from gateway.store.states import MessageState
from gateway.store.tables import MessageRow, OperatorTaskRow

UNKNOWN = "unknown"


def parked(session: Session, known_receivers: Collection[str]) -> dict[tuple[str, str], int]:
    """(type, receiver) -> parked messages; receivers not in ``known_receivers``: ``unknown``."""
    rows = session.execute(
        sa.select(MessageRow.type, MessageRow.receiver_gln, sa.func.count())
        .where(MessageRow.state == MessageState.PARKED.value)
        .group_by(MessageRow.type, MessageRow.receiver_gln)).all()
    out: dict[tuple[str, str], int] = {}
    for letter_type, gln, n in rows:
        key = (letter_type or UNKNOWN, gln if gln in known_receivers else UNKNOWN)
        out[key] = out.get(key, 0) + int(n)
    return out


def open_tasks(session: Session) -> dict[str, int]:
    """Task kind -> open tasks, operator tasks and SLA tasks together (their kinds differ)."""
    out: dict[str, int] = {}
    for kind, n in session.execute(
            sa.select(OperatorTaskRow.kind, sa.func.count())
            .where(OperatorTaskRow.status == "open").group_by(OperatorTaskRow.kind)):
        out[kind] = out.get(kind, 0) + int(n)
    for kind, n in session.execute(
            sa.select(SlaTask.kind, sa.func.count())
            .where(SlaTask.resolved_at.is_(None)).group_by(SlaTask.kind)):
        out[kind] = out.get(kind, 0) + int(n)
    return out


def refresh(session: Session, endpoints: dict[str, str], now: datetime) -> None:
    """Set every store-derived gauge (``endpoints``: configured GLN -> ``endpoint`` label)."""
    from gateway.sla import alerts, hooks

    counts = parked(session, endpoints)
    metrics.MESSAGES_PARKED.clear()
    for (letter_type, receiver), n in counts.items():
        metrics.MESSAGES_PARKED.labels(letter_type, endpoints.get(receiver, receiver)).set(n)
    tasks = open_tasks(session)
    metrics.TASKS_OPEN.clear()
    for kind, n in tasks.items():
        metrics.TASKS_OPEN.labels(kind).set(n)
    alerts.set_letter_gauges(*alerts.letter_counts(session, now, hooks.current_config()))


__all__ = ["UNKNOWN", "open_tasks", "parked", "refresh"]
