"""The overview: what needs an operator now, refreshed by itself every ``REFRESH_SECONDS``.

* messages per state received in the last 24 hours, and the parked messages of any age;
* open operator tasks;
* today's SLA at a glance: today's discharges, letters within 1 and 3 workdays, and the open
  discharges at risk or past a deadline (the worklist's own status, gateway.sla.worklist).

A person sees the messages their organisations sent or received (all of them in a region or
operator organisation), as ``GET /v1/messages`` does.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from gateway.console.auth import ConsoleUser, Visit, visit
from gateway.console.pages import render
from gateway.sla.api import clock, config, session
from gateway.sla.config import SlaConfig
from gateway.sla.state import Clock
from gateway.sla.store_report import store_report
from gateway.sla.worklist import worklist
from gateway.store.states import MessageState
from gateway.store.tables import MessageRow, OperatorTaskRow

router = APIRouter()

REFRESH_SECONDS = 30
WINDOW = timedelta(hours=24)
AT_RISK_SCAN = 10000  # open discharges looked at for the at-risk count


def _own(query: Any, user: ConsoleUser) -> Any:
    """Only the messages ``user`` may see."""
    if user.sees_all:
        return query
    glns = sorted(user.glns)
    return query.where(sa.or_(MessageRow.sender_gln.in_(glns), MessageRow.receiver_gln.in_(glns)))


def messages_by_state(db: Session, user: ConsoleUser, since: datetime) -> list[tuple[str, int]]:
    """Messages received since ``since`` per state, in the lifecycle's order."""
    query = _own(sa.select(MessageRow.state, sa.func.count()).where(
        MessageRow.created_at >= since).group_by(MessageRow.state), user)
    counts = Counter(dict(db.execute(query).all()))
    return [(s.value, counts[s.value]) for s in MessageState if counts[s.value]]


def parked_count(db: Session, user: ConsoleUser) -> int:
    query = _own(sa.select(sa.func.count()).select_from(MessageRow).where(
        MessageRow.state == MessageState.PARKED.value), user)
    return int(db.scalar(query) or 0)


def open_task_count(db: Session, user: ConsoleUser) -> int:
    query = sa.select(sa.func.count()).select_from(OperatorTaskRow).where(
        OperatorTaskRow.status == "open")
    if not user.sees_all:
        glns = sorted(user.glns)
        query = query.join(MessageRow, MessageRow.id == OperatorTaskRow.message_id).where(
            sa.or_(MessageRow.sender_gln.in_(glns), MessageRow.receiver_gln.in_(glns)))
    return int(db.scalar(query) or 0)


@dataclass(frozen=True)
class SlaToday:
    discharges: int
    within_1: int
    within_3: int
    at_risk: int
    breached: int


def sla_today(db: Session, user: ConsoleUser, now: datetime, cfg: SlaConfig) -> SlaToday:
    today = now.date()
    report = store_report(db, (), start=today, end=today, hospitals=user.sla_hospitals)
    statuses = Counter(item.status for item in worklist(
        db, now, cfg, hospitals=user.sla_hospitals, limit=AT_RISK_SCAN))
    return SlaToday(report.total.discharges, report.total.within_1_workday,
                    report.total.within_3_workdays, statuses[Clock.AT_RISK],
                    statuses[Clock.BREACHED])


Db = Annotated[Session, Depends(session)]


@router.get("/")
def overview_page(request: Request, v: Annotated[Visit, Depends(visit)], db: Db,
                  now: Annotated[datetime, Depends(clock)],
                  cfg: Annotated[SlaConfig, Depends(config)]) -> Response:
    since = now.astimezone(UTC) - WINDOW
    context = {
        "states": messages_by_state(db, v.user, since),
        "parked": parked_count(db, v.user),
        "open_tasks": open_task_count(db, v.user),
        "sla": sla_today(db, v.user, now, cfg),
        "now": now,
        "refresh": REFRESH_SECONDS,
    }
    # htmx asks for the body only when it refreshes the page by itself
    template = "overview_body.html" if request.headers.get("HX-Request") else "overview.html"
    return render(request, template, v, **context)
