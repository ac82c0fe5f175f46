"""The case flow's HTTP API (router plugin ``cases``, mounted under /v1/cases).

Create a case, send or record a form (the LÆ XML as the body), record answers (screening,
summons, late-appointment notice, insufficient LÆ 265), take the flow's other steps, schedule
or postpone a meeting, view a case with its timeline and deadline status, and list the cases
at risk per municipality. Every change hands the new documents to the pipeline before it
answers. Authentication is the API's ``X-API-Key`` (gateway.api.messages.organisation); an
organisation sees the cases of the municipalities whose GLNs it holds, and nothing else
(another municipality's case is a 404, as if it did not exist). A case names its citizen (CPR,
name): ``GET /v1/cases/{ref}`` is an audited read (``case.read`` in the access audit, with the
key, the remote address and an optional ``X-Reason``), like a message body's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from pydantic import BaseModel, Field

from gateway.api.examples import LAE261_XML
from gateway.api.messages import organisation
from gateway.api.responses import answers, json_body, ok, problems, raw_body
from gateway.caseflow.config import Caseflow, caseflow_for_hub
from gateway.caseflow.service import CaseNotFound, InvalidMeetingDate
from gateway.caseflow.states import IllegalTransition
from gateway.errors import ConfigError, LocalUsageError
from gateway.forms import (
    Citizen,
    ClinicalFunction,
    FormValidationError,
    GeneralPractitioner,
    Lae261,
    Lae271,
    Municipality,
    Parties,
    from_xml,
)

router = APIRouter(prefix="/v1/cases", tags=["cases"])


def caseflow(request: Request) -> Caseflow:
    """The app's case flow (``app.state.caseflow``), built beside the Hub on first use."""
    state = request.app.state
    if getattr(state, "caseflow", None) is None:
        try:
            state.caseflow = caseflow_for_hub(state.hub)
        except ConfigError as exc:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None
    return state.caseflow


Flow = Annotated[Caseflow, Depends(caseflow)]
Org = Annotated[Any, Depends(organisation)]


def _own(flow: Caseflow, org: Any) -> set[str]:
    return flow.municipalities_of(frozenset(org.glns))


async def _run(flow: Caseflow, org: Any, case_ref: str | None,
               change: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Check access, apply ``change`` (in a thread), route its documents, map the errors."""
    try:
        if case_ref is not None:
            await _visible(flow, org, case_ref)
        view = await asyncio.to_thread(change)
        await flow.service.dispatch(flow.outbox, now=flow.clock(), case_ref=view["case_ref"])
        # read again: the view now shows the pipeline's message ids
        return await asyncio.to_thread(flow.service.view, view["case_ref"], now=flow.clock())
    except FormValidationError as exc:
        raise HTTPException(422, exc.to_dict()) from None
    except CaseNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    except IllegalTransition as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    except ConfigError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None
    except InvalidMeetingDate as exc:  # a wrong field of the body: the API's 422 shape
        raise HTTPException(422, [{"field": "body.date", "message": str(exc)}]) from None
    except LocalUsageError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None


async def _visible(flow: Caseflow, org: Any, case_ref: str) -> dict[str, Any]:
    view = await asyncio.to_thread(flow.service.view, case_ref, now=flow.clock())
    if view["municipality"] not in _own(flow, org):
        raise CaseNotFound(f"no case {case_ref!r}")
    return view


class NewCase(BaseModel):
    case_ref: str
    region: str
    cpr: str = Field(pattern=r"^[0-9]{10}$")
    citizen_name: str = ""
    municipality_number: str
    municipality_name: str = ""
    caseworker: str = ""
    gp_ydernummer: str
    gp_name: str = ""
    clinical_function_sor: str | None = None
    clinical_function_name: str = ""
    urgent: bool = False


class Answer(BaseModel):
    kind: Literal["screening", "summons", "late_notice", "lae265_insufficient"]
    clarified: bool | None = None
    notes: str = ""
    appointment_date: date | None = None
    reason: str = ""


class Action(BaseModel):
    action: Literal["send_to_coordinator", "send_documents", "send_recommendation", "remind_gp",
                    "escalate_gp", "remind_clinic", "mark_urgent", "withdraw", "close"]
    text: str = ""


class MeetingRequest(BaseModel):
    date: date
    reason: str = ""


REF = "K-2026-0001"
CaseRef = Annotated[str, Path(examples=[REF])]
NEW_CASE_EXAMPLE = {
    "case_ref": REF, "region": "hovedstaden", "cpr": "1502824933",
    "citizen_name": "Knut Odvar Mosebryggersen", "municipality_number": "101",
    "municipality_name": "Københavns Kommune", "caseworker": "Åse Sørensen",
    "gp_ydernummer": "291714", "gp_name": "Lægehuset Vandværksvej",
    "clinical_function_sor": "123456789012",
    "clinical_function_name": "Klinisk Funktion Region Hovedstaden", "urgent": False,
}
CASE_EXAMPLE = {
    "case_ref": REF, "state": "awaiting_lae265", "region": "hovedstaden", "urgent": False,
    "municipality": "101", "gp": "291714", "clinical_function": "123456789012",
    "citizen": {"cpr": "1502824933", "name": "Knut Odvar Mosebryggersen"}, "meeting": None,
    "allowed_events": ["lae265_received", "gp_reminded", "gp_escalated", "meeting_scheduled",
                       "meeting_postponed", "marked_urgent", "withdrawn"],
    "deadlines": [{"name": "lae265_answer", "due": "2026-03-16", "status": "pending",
                   "done_on": None, "note": ""}],
    "postponement_advised": [],
    "timeline": [{"at": "2026-03-02T09:00:00", "event": "lae261_sent", "from": "created",
                  "to": "awaiting_lae265", "data": {"form_id": "K-2026-0001-261-1"},
                  "document_id": 1}],
    "documents": [{"id": 1, "kind": "lae261", "direction": "out", "recipient": "gp",
                   "form_id": "K-2026-0001-261-1", "route": "pipeline",
                   "message_id": "a301856d-6ebf-4cfb-b2fb-072a944cb067", "send_error": None,
                   "created_at": "2026-03-02T09:00:00", "sent_at": "2026-03-02T09:00:01"}],
}
CASE_LIST_EXAMPLE = [{"case_ref": REF, "state": "awaiting_lae265", "municipality": "101",
                      "region": "hovedstaden"}]
AT_RISK_EXAMPLE = [{"case_ref": REF, "state": "awaiting_coordinator", "municipality": "101",
                    "deadlines": [{"name": "coordinator_receipt", "due": "2026-03-27",
                                   "status": "due_soon", "done_on": None, "note": ""}],
                    "postponement_advised": []}]
CASE_ERRORS = (400, 401, 404, 409, 422, 503)  # every step on one case (JSON or XML body)
_503 = "the case flow is not configured (MEDBRO_CASEFLOW_CONFIG) or its store is unavailable"


@router.post(
    "", status_code=status.HTTP_201_CREATED,
    responses=answers(ok(CASE_EXAMPLE, status=201, description="the new case"),
                      problems(400, 401, 403, 409, 422, 503, _403="not the organisation's "
                               "municipality", _409="a case with this case_ref exists",
                               _503=_503)),
    openapi_extra=json_body(NEW_CASE_EXAMPLE),
)
async def create_case(body: NewCase, flow: Flow, org: Org) -> dict[str, Any]:
    if body.municipality_number not in _own(flow, org):
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            f"not your municipality: {body.municipality_number}")
    cf = (ClinicalFunction(body.clinical_function_sor, body.clinical_function_name)
          if body.clinical_function_sor else None)
    parties = Parties(Municipality(body.municipality_number, body.municipality_name,
                                   body.caseworker),
                      GeneralPractitioner(body.gp_ydernummer, body.gp_name), cf)
    return await _run(flow, org, None, lambda: flow.service.create_case(
        body.case_ref, Citizen(body.cpr, body.citizen_name), parties, region=body.region,
        urgent=body.urgent, now=flow.clock()))


@router.get("", responses=answers(ok(CASE_LIST_EXAMPLE, description="the organisation's "
                                     "cases"), problems(401, 503, _503=_503)))
async def list_cases(flow: Flow, org: Org) -> list[dict[str, str]]:
    own = _own(flow, org)
    cases = await asyncio.to_thread(flow.service.list_cases)
    return [c for c in cases if c["municipality"] in own]


@router.get("/at-risk", responses=answers(
    ok(AT_RISK_EXAMPLE, description="open cases with a deadline due soon or missed"),
    problems(401, 403, 422, 503, _403="not the organisation's municipality", _503=_503)))
async def cases_at_risk(municipality: Annotated[str, Query(examples=["101"])], flow: Flow,
                        org: Org) -> list[dict[str, Any]]:
    if municipality not in _own(flow, org):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"not your municipality: {municipality}")
    return await asyncio.to_thread(flow.service.at_risk, municipality, now=flow.clock())


@router.get("/{case_ref}", responses=answers(
    ok(CASE_EXAMPLE, description="the case: state, deadlines, timeline, documents"),
    problems(401, 404, 503, _503=_503)))
async def view_case(case_ref: CaseRef, request: Request, flow: Flow, org: Org
                    ) -> dict[str, Any]:
    try:
        view = await _visible(flow, org, case_ref)
    except CaseNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    await asyncio.to_thread(_audit_read, request, org, view)
    return view


def _audit_read(request: Request, org: Any, view: dict[str, Any]) -> None:
    """Who read which case, when and from where; committed before the case is answered."""
    from gateway.api.operations_auth import now_of, remote_of
    from gateway.operations import audit
    from gateway.operations.principal import for_key

    with request.app.state.hub.store.transaction() as session:
        audit.record(session, for_key(org, remote=remote_of(request)), "case.read",
                     target=f"case:{view['case_ref']}", at=now_of(request),
                     municipality=view["municipality"],
                     reason=request.headers.get("X-Reason", ""))


@router.post(
    "/{case_ref}/forms",
    responses=answers(ok(CASE_EXAMPLE, description="the case after the form"),
                      problems(*CASE_ERRORS, _422="the form is not valid: errors names each "
                               "field (xml, lae265.in_reply_to, ...)", _503=_503)),
    openapi_extra=raw_body("An LÆ 261, 265, 271 or 275 form as XML (schemas/lae).",
                           {"application/xml": LAE261_XML}),
)
async def post_form(case_ref: CaseRef, request: Request, flow: Flow, org: Org) -> dict[str, Any]:
    """An LÆ form as XML: LÆ 261/271 are sent, LÆ 265/275 recorded as received."""
    data = await request.body()

    def change() -> dict[str, Any]:
        form = from_xml(data)
        if isinstance(form, Lae261 | Lae271):
            return flow.service.send_form(case_ref, form, now=flow.clock())
        return flow.service.record_form(case_ref, form, now=flow.clock())

    return await _run(flow, org, case_ref, change)


@router.post(
    "/{case_ref}/answers",
    responses=answers(ok(CASE_EXAMPLE, description="the case after the answer"),
                      problems(*CASE_ERRORS, _503=_503)),
    openapi_extra=json_body({"kind": "screening", "clarified": True,
                             "notes": "Helbredsforholdene er belyst."}),
)
async def post_answer(case_ref: CaseRef, body: Answer, flow: Flow, org: Org) -> dict[str, Any]:
    s, now = flow.service, flow.clock()

    def change() -> dict[str, Any]:
        if body.kind == "screening":
            if body.clarified is None:
                raise FormValidationError([_field("answer.clarified", "required for screening")])
            return s.record_screening(case_ref, clarified=body.clarified, notes=body.notes,
                                      now=now)
        if body.kind == "lae265_insufficient":
            return s.mark_lae265_insufficient(case_ref, body.reason, now=now)
        if body.appointment_date is None:
            raise FormValidationError([_field("answer.appointment_date", "required")])
        if body.kind == "summons":
            return s.record_summons(case_ref, body.appointment_date, now=now)
        return s.record_late_notice(case_ref, body.appointment_date, now=now)

    return await _run(flow, org, case_ref, change)


@router.post(
    "/{case_ref}/actions",
    responses=answers(ok(CASE_EXAMPLE, description="the case after the step"),
                      problems(*CASE_ERRORS, _503=_503)),
    openapi_extra=json_body({"action": "send_to_coordinator", "text": ""}),
)
async def post_action(case_ref: CaseRef, body: Action, flow: Flow, org: Org) -> dict[str, Any]:
    s, now = flow.service, flow.clock()
    steps: dict[str, Callable[[], dict[str, Any]]] = {
        "send_to_coordinator": lambda: s.send_to_coordinator(case_ref, now=now),
        "send_documents": lambda: s.send_documents(case_ref, now=now),
        "send_recommendation": lambda: s.send_recommendation(case_ref, body.text, now=now),
        "remind_gp": lambda: s.remind_gp(case_ref, now=now),
        "escalate_gp": lambda: s.escalate_gp(case_ref, body.text, now=now),
        "remind_clinic": lambda: s.remind_clinic(case_ref, now=now),
        "mark_urgent": lambda: s.mark_urgent(case_ref, body.text, now=now),
        "withdraw": lambda: s.withdraw(case_ref, body.text, now=now),
        "close": lambda: s.close_case(case_ref, now=now),
    }
    return await _run(flow, org, case_ref, steps[body.action])


@router.put(
    "/{case_ref}/meeting",
    responses=answers(ok(CASE_EXAMPLE, description="the case with its meeting"),
                      problems(*CASE_ERRORS, _503=_503)),
    openapi_extra=json_body({"date": "2026-04-15", "reason": ""}),
)
async def put_meeting(case_ref: CaseRef, body: MeetingRequest, flow: Flow,
                      org: Org) -> dict[str, Any]:
    """Schedule the case for a meeting, or postpone it to a later one (with a reason).

    A date before today, or before the case was opened, is a 422 naming ``body.date``."""
    return await _run(flow, org, case_ref, lambda: flow.service.schedule_meeting(
        case_ref, body.date, now=flow.clock(), reason=body.reason))


def _field(name: str, message: str) -> Any:
    from gateway.forms import FieldError

    return FieldError(name, message)


__all__ = ["caseflow", "router"]
