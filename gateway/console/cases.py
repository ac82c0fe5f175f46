"""The case-flow page: rehabilitation cases by state, and the deadlines due soon or missed.

It reads the case flow's own queries (gateway.caseflow.queries: ``list_cases``, ``at_risk``),
which the JSON API (``GET /v1/cases``, ``/v1/cases/at-risk``) answers with too. A person sees
the cases of the municipalities whose GLNs their organisations hold, or every case in a region
or operator organisation. Citizens are never shown here: the list is by case reference.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from gateway.caseflow.api import caseflow
from gateway.caseflow.states import CaseState
from gateway.console.auth import ConsoleUser, Visit, visit
from gateway.console.pages import render

router = APIRouter()

# Lifecycle order for the "by state" counts (the enum's order).
STATE_ORDER = tuple(s.value for s in CaseState)

# The page's words for the case flow's states and deadlines (translated by the catalogue).
LABELS = {
    "created": "Created",
    "awaiting_lae265": "Awaiting LÆ 265",
    "gp_escalated": "GP escalated",
    "lae265_received": "LÆ 265 received",
    "lae265_insufficient": "LÆ 265 insufficient",
    "awaiting_screening": "Awaiting screening",
    "not_clarified": "Not clarified",
    "awaiting_summons": "Awaiting summons",
    "awaiting_lae275": "Awaiting LÆ 275",
    "ready_for_team": "Ready for the team",
    "documents_sent": "Documents sent",
    "recommendation_sent": "Recommendation sent",
    "closed": "Closed",
    "withdrawn": "Withdrawn",
    "lae265_answer": "LÆ 265 from the GP",
    "coordinator_receipt": "Coordinator receives the case",
    "screening": "Screening",
    "late_appointment_notice": "Notice of a late appointment",
    "lae275_answer": "LÆ 275 from the clinical function",
    "due_soon": "Due soon",
    "missed": "Missed",
    "late": "Late",
}


def visible(flow: Any, user: ConsoleUser, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if user.sees_all:
        return items
    own = flow.municipalities_of(user.glns)
    return [c for c in items if c["municipality"] in own]


def by_state(cases: list[dict[str, Any]]) -> list[tuple[str, int]]:
    counts = Counter(c["state"] for c in cases)
    return [(s, counts[s]) for s in STATE_ORDER if counts[s]]


@router.get("/cases")
async def cases_page(request: Request, v: Annotated[Visit, Depends(visit)]) -> Response:
    try:
        flow = caseflow(request)
    except HTTPException as exc:  # the case flow is not configured in this deployment
        return render(request, "cases.html", v, unavailable=str(exc.detail), cases=[],
                      counts=[], at_risk=[], labels=LABELS)
    now = flow.clock()
    cases = visible(flow, v.user, await asyncio.to_thread(flow.service.list_cases))
    at_risk = visible(flow, v.user,
                      await asyncio.to_thread(flow.service.at_risk, None, now=now))
    return render(request, "cases.html", v, unavailable=None, cases=cases,
                  counts=by_state(cases), at_risk=at_risk, now=now, labels=LABELS)
