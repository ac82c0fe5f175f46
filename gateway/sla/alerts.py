"""Escalation: an alert and an operator task when a letter is at risk or a deadline is breached.

``due_escalations`` decides (pure, from an ``SlaState`` and the kinds already raised);
``sweep`` applies it to the open discharges in the store, writes one ``SlaTask`` per discharge
and kind (the unique constraint makes a repeated sweep raise nothing new), updates the gauges
and hands each new escalation to an ``AlertSink``. The worker calls ``sweep`` on its scan tick;
Prometheus alerts on the same numbers (deploy/prometheus/medbro-rules.yml).
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway import metrics
from gateway.logging import get_logger
from gateway.sla.config import SlaConfig
from gateway.sla.deadlines import as_local, as_utc_naive, from_utc_naive
from gateway.sla.state import TARGETS, Clock, SlaState
from gateway.sla.tables import Discharge, SlaTask

# Discharges older than this are no longer swept (their last deadline is long gone).
SWEEP_HORIZON = timedelta(days=45)

log = get_logger(__name__)


@dataclass(frozen=True)
class Escalation:
    """One alert: ``kind`` is ``at_risk`` or ``breached`` for ``target`` workdays."""

    kind: str
    target: int
    deadline: datetime
    discharge_pk: int
    hospital: str
    department: str
    raised_at: datetime

    @property
    def task_kind(self) -> str:
        return f"{self.kind}_{self.target}"


AlertSink = Callable[[Escalation], None]


def log_sink(escalation: Escalation) -> None:
    """The default sink: one warning line per escalation (no patient data)."""
    log.warning(
        "letter_at_risk" if escalation.kind == "at_risk" else "letter_deadline_breached",
        target_workdays=escalation.target,
        deadline=escalation.deadline.isoformat(),
        discharge=escalation.discharge_pk,
        hospital=escalation.hospital,
        department=escalation.department,
    )


def due_escalations(
    state: SlaState, now: datetime, raised: Iterable[str]
) -> list[tuple[str, int, datetime]]:
    """(kind, target, deadline) for every escalation now due and not yet raised."""
    seen = set(raised)
    due = []
    for n in sorted(state.deadlines):
        status = state.status(n, now)
        if status is Clock.AT_RISK and f"at_risk_{n}" not in seen:
            due.append(("at_risk", n, state.deadlines[n]))
        elif status is Clock.BREACHED and f"breached_{n}" not in seen:
            due.append(("breached", n, state.deadlines[n]))
    return due


def raise_escalation(
    session: Session, row: Discharge, kind: str, n: int, due: datetime, now: datetime
) -> Escalation:
    at = as_utc_naive(now)
    session.add(
        SlaTask(
            discharge_pk=row.id,
            kind=f"{kind}_{n}",
            hospital=row.hospital,
            department=row.department,
            deadline=as_utc_naive(due),
            created_at=at,
            resolved_at=at if row.letter_sent_at is not None else None,
        )
    )
    metrics.ESCALATIONS.labels(kind, str(n)).inc()
    if kind == "breached":
        metrics.BREACHES.labels(row.hospital, str(n)).inc()
    return Escalation(kind, n, due, row.id, row.hospital, row.department, as_local(now))


def _open_discharges(session: Session, now: datetime) -> list[Discharge]:
    """Discharges still without a delivered letter, inside the sweep horizon
    (index ``ix_sla_discharges_open``)."""
    return list(session.scalars(
        select(Discharge).where(
            Discharge.letter_sent_at.is_(None),
            Discharge.discharged_at >= as_utc_naive(now) - SWEEP_HORIZON,
        )
    ).all())


def _tally(rows: Iterable[Discharge], now: datetime, config: SlaConfig
           ) -> tuple[Tally[tuple[str, int]], Tally[str]]:
    at_risk: Tally[tuple[str, int]] = Tally()
    open_letters: Tally[str] = Tally()
    for row in rows:
        state = SlaState.from_row(row, config)
        for n in TARGETS:
            if state.status(n, now) is Clock.AT_RISK:
                at_risk[(row.hospital, n)] += 1
        if state.next_deadline(now) is not None:
            open_letters[row.hospital] += 1
    return at_risk, open_letters


def letter_counts(session: Session, now: datetime, config: SlaConfig
                  ) -> tuple[Tally[tuple[str, int]], Tally[str]]:
    """((hospital, target) -> letters at risk, hospital -> letters open) at ``now``: the
    figures of the SLA gauges, read from the store (every process's scrape, and the sweep)."""
    return _tally(_open_discharges(session, now), now, config)


def set_letter_gauges(at_risk: Tally[tuple[str, int]], open_letters: Tally[str]) -> None:
    metrics.LETTERS_AT_RISK.clear()
    for (hospital, n), count in at_risk.items():
        metrics.LETTERS_AT_RISK.labels(hospital, str(n)).set(count)
    metrics.LETTERS_OPEN.clear()
    for hospital, count in open_letters.items():
        metrics.LETTERS_OPEN.labels(hospital).set(count)


def sweep(
    session: Session, now: datetime, config: SlaConfig, sink: AlertSink = log_sink
) -> list[Escalation]:
    """Raise every due escalation among open discharges; refresh the SLA gauges."""
    rows = _open_discharges(session, now)
    raised: dict[int, set[str]] = {}
    if rows:
        for task in session.scalars(
            select(SlaTask).where(SlaTask.discharge_pk.in_([r.id for r in rows]))
        ):
            raised.setdefault(task.discharge_pk, set()).add(task.kind)
    new: list[Escalation] = []
    for row in rows:
        state = SlaState.from_row(row, config)
        for kind, n, due in due_escalations(state, now, raised.get(row.id, ())):
            new.append(raise_escalation(session, row, kind, n, due, now))
    session.flush()
    set_letter_gauges(*_tally(rows, now, config))
    for escalation in new:
        sink(escalation)
    return new


def letter_delivered_for(session: Session, discharge: Discharge, sent_utc: datetime) -> None:
    """On the first delivery: close open tasks; count a late delivery's breaches once."""
    tasks = session.scalars(select(SlaTask).where(SlaTask.discharge_pk == discharge.id)).all()
    kinds = {t.kind for t in tasks}
    for task in tasks:
        if task.resolved_at is None:
            task.resolved_at = sent_utc
    for n, due in ((1, discharge.deadline_1), (3, discharge.deadline_3)):
        if sent_utc > due and f"breached_{n}" not in kinds:
            raise_escalation(
                session, discharge, "breached", n, from_utc_naive(due), from_utc_naive(sent_utc)
            )


def open_tasks(
    session: Session,
    *,
    department: str | None = None,
    hospitals: Collection[str] | None = None,
) -> list[SlaTask]:
    """Unresolved operator tasks, most urgent deadline first (``hospitals``: None = all)."""
    query = select(SlaTask).where(SlaTask.resolved_at.is_(None))
    if department:
        query = query.where(SlaTask.department == department)
    if hospitals is not None:
        query = query.where(SlaTask.hospital.in_(sorted(hospitals)))
    return list(session.scalars(query.order_by(SlaTask.deadline, SlaTask.id)))
