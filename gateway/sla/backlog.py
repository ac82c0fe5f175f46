"""The bridge between the delivery worker and the SLA clocks (the IO side of scheduling.py).

The worker holds message ids; ``summary_for`` looks up the message's discharge clock and
returns the ``DeliverySummary`` that ``scheduling.decide``/``priority``/``next_retry_at`` take.
A message that is not an epikrise, or whose discharge already has a delivered letter (a
correction), gets a summary without deadlines: ordinary backoff, no escalation.
``record_escalation`` turns a scheduler ``Escalate`` into the same alert and operator task the
sweep raises (one per discharge and kind, whoever raises it first).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.sla.alerts import AlertSink, Escalation, log_sink, raise_escalation
from gateway.sla.deadlines import as_local, from_utc_naive
from gateway.sla.scheduling import DeliverySummary
from gateway.sla.tables import Discharge, SlaLetter, SlaTask


def _open_discharge(session: Session, message_id: str) -> Discharge | None:
    letter = session.get(SlaLetter, message_id)
    if letter is None or letter.discharge_pk is None:
        return None
    discharge = session.get(Discharge, letter.discharge_pk)
    if discharge is None or discharge.letter_sent_at is not None:
        return None
    return discharge


def summary_for(
    session: Session,
    message_id: str,
    *,
    received_at: datetime,
    attempts: int = 0,
    last_attempt_at: datetime | None = None,
) -> DeliverySummary:
    """The scheduler's view of one waiting message."""
    base = DeliverySummary(
        message_id=message_id,
        received_at=as_local(received_at),
        attempts=attempts,
        last_attempt_at=as_local(last_attempt_at) if last_attempt_at else None,
    )
    discharge = _open_discharge(session, message_id)
    if discharge is None:
        return base
    raised = frozenset(
        session.scalars(select(SlaTask.kind).where(SlaTask.discharge_pk == discharge.id))
    )
    return DeliverySummary(
        message_id=message_id,
        received_at=base.received_at,
        deadlines=(
            (1, from_utc_naive(discharge.deadline_1)),
            (3, from_utc_naive(discharge.deadline_3)),
        ),
        at_risk_at=from_utc_naive(discharge.at_risk_at),
        attempts=attempts,
        last_attempt_at=base.last_attempt_at,
        escalated=raised,
    )


def record_escalation(
    session: Session, message_id: str, kind: str, now: datetime, sink: AlertSink = log_sink
) -> Escalation | None:
    """Raise the ``kind`` escalation (``at_risk_1``, ``breached_3``, ...) for the message's
    discharge unless it was raised already; returns it (None when nothing new)."""
    discharge = _open_discharge(session, message_id)
    if discharge is None:
        return None
    exists = session.scalar(
        select(SlaTask.id).where(SlaTask.discharge_pk == discharge.id, SlaTask.kind == kind)
    )
    if exists is not None:
        return None
    name, _, target = kind.rpartition("_")
    due = discharge.deadline_1 if target == "1" else discharge.deadline_3
    escalation = raise_escalation(session, discharge, name, int(target), from_utc_naive(due), now)
    session.flush()
    sink(escalation)
    return escalation
