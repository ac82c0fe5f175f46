"""Recompute the stored deadlines after the calendar or the at-risk settings change.

``deadline_1``, ``deadline_3`` and ``at_risk_at`` are written with the discharge (tables.py),
so a new ``MEDBRO_SLA_EXTRA_CLOSED_DAYS``, a new ``holidays`` release or other working hours
leave them stale until recomputed here. By default only open discharges (no delivered letter)
are touched: their worklist, alerts and retries depend on it, while the figures of letters
already sent stay as they were reported. ``include_closed`` redoes history as well.

Idempotent (a second run changes nothing) and committed per batch, so an interrupted run can
simply be started again. Unresolved operator tasks follow their discharge's new deadline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from gateway.logging import get_logger
from gateway.sla.config import SlaConfig
from gateway.sla.deadlines import from_utc_naive
from gateway.sla.state import clock_for
from gateway.sla.tables import Discharge, SlaTask

BATCH = 2000
log = get_logger(__name__)


@dataclass
class RecomputeResult:
    rows: int = 0
    changed: int = 0
    unchanged: int = 0


def refresh_deadlines(row: Discharge, config: SlaConfig) -> bool:
    """Set the row's deadline columns from ``config``; True when one of them changed."""
    clock = clock_for(from_utc_naive(row.discharged_at), config)
    before = (row.deadline_1, row.deadline_3, row.at_risk_at)
    row.deadline_1, row.deadline_3, row.at_risk_at = (
        clock.deadline_1,
        clock.deadline_3,
        clock.at_risk_at,
    )
    return before != (row.deadline_1, row.deadline_3, row.at_risk_at)


def recompute(
    sessions: sessionmaker,
    config: SlaConfig,
    *,
    include_closed: bool = False,
    on_batch: Callable[[int], None] | None = None,
    batch: int = BATCH,
) -> RecomputeResult:
    """Recompute open (or all) discharges in id order, one transaction per batch."""
    scope = [] if include_closed else [Discharge.letter_sent_at.is_(None)]
    result = RecomputeResult()
    last_id = 0
    while True:
        with sessions() as session, session.begin():
            rows = session.scalars(
                select(Discharge)
                .where(Discharge.id > last_id, *scope)
                .order_by(Discharge.id)
                .limit(batch)
            ).all()
            if not rows:
                break
            changed = [row for row in rows if refresh_deadlines(row, config)]
            if changed:
                by_id = {row.id: row for row in changed}
                for task in session.scalars(
                    select(SlaTask).where(
                        SlaTask.discharge_pk.in_(list(by_id)), SlaTask.resolved_at.is_(None)
                    )
                ):
                    row = by_id[task.discharge_pk]
                    task.deadline = row.deadline_1 if task.kind.endswith("_1") else row.deadline_3
            last_id = rows[-1].id
            result.rows += len(rows)
            result.changed += len(changed)
            result.unchanged += len(rows) - len(changed)
        if on_batch is not None:
            on_batch(len(rows))
    log.info("sla_deadlines_recomputed", include_closed=include_closed, **result.__dict__)
    return result


def count_in_scope(sessions: sessionmaker, *, include_closed: bool = False) -> int:
    """How many discharges ``recompute`` will read (for the progress bar)."""
    query = select(func.count()).select_from(Discharge)
    if not include_closed:
        query = query.where(Discharge.letter_sent_at.is_(None))
    with sessions() as session:
        return int(session.scalar(query) or 0)


__all__ = ["RecomputeResult", "count_in_scope", "recompute", "refresh_deadlines"]
