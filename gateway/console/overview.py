"""The overview: what needs an operator now, refreshed by itself every ``REFRESH_SECONDS``.

* messages per state received in the last 24 hours, and the parked messages of any age;
* endpoints that are failing or backed up (gateway.console.endpoints.troubled over the
  operations layer's endpoint health: queue depth, oldest age, failing since, parked);
* open operator and SLA tasks (gateway.operations.tasks);
* today's SLA at a glance: today's discharges, letters within 1 and 3 workdays, and the open
  discharges at risk or past a deadline (the worklist's own status, gateway.sla.worklist).

Visibility is the operations layer's: ``search.conditions`` for messages (an organisation sees
what its GLNs sent or received; region and operator organisations everything), the Principal's
hospitals for the SLA figures.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from gateway.console import endpoints
from gateway.console.auth import ConsoleUser, Visit, visit
from gateway.console.pages import render
from gateway.operations import bulk, tasks
from gateway.operations.search import Filter, conditions
from gateway.sla.api import clock, config, session
from gateway.sla.config import SlaConfig
from gateway.sla.state import Clock
from gateway.sla.store_report import store_report
from gateway.sla.worklist import worklist
from gateway.store.states import MessageState
from gateway.store.tables import MessageRow

router = APIRouter()

REFRESH_SECONDS = 30
WINDOW = timedelta(hours=24)
AT_RISK_SCAN = 10000  # open discharges looked at for the at-risk count
TASK_SCAN = 1000  # open tasks counted (the page says "1000+" beyond)


def messages_by_state(db: Session, user: ConsoleUser, since: datetime) -> list[tuple[str, int]]:
    """Messages received since ``since`` per state, in the lifecycle's order."""
    where = conditions(Filter(since=since), glns=user.principal.glns)
    query = sa.select(MessageRow.state, sa.func.count()).where(*where).group_by(MessageRow.state)
    counts = Counter(dict(db.execute(query).all()))
    return [(s.value, counts[s.value]) for s in MessageState if counts[s.value]]


def parked_count(db: Session, user: ConsoleUser) -> int:
    return bulk.count(db, Filter(state=MessageState.PARKED.value), who=user.principal,
                      endpoint_gln=None)


def open_task_count(db: Session, user: ConsoleUser) -> int:
    return len(tasks.listing(db, user.principal, state="open", limit=TASK_SCAN))


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
    troubled = [item for item in endpoints.health(request, v).values()
                if endpoints.troubled(item)]
    context = {
        "troubled": troubled,
        "task_scan": TASK_SCAN,
        "states": messages_by_state(db, v.user, since),
        "parked": parked_count(db, v.user),
        "open_tasks": open_task_count(db, v.user),
        "sla": sla_today(db, v.user, now, cfg),
        "now": now,
        "refresh": getattr(request.app.state, "console_refresh_seconds", REFRESH_SECONDS),
    }
    # htmx asks for the body only when it refreshes the page by itself
    template = "overview_body.html" if request.headers.get("HX-Request") else "overview.html"
    return render(request, template, v, **context)
