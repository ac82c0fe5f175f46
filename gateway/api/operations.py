"""The operations API: find, understand, release, replay and close messages; bulk acts; tasks;
endpoint health; the access audit; configuration reload (docs/operations.md is the runbook).

Callers: persons (console session or personal token, roles viewer/operator/admin) and the
machine keys of ``operator`` or ``region`` organisations (gateway/api/operations_auth.py).
``GET /v1/messages`` is open to every organisation key too, for its own messages.
Mounted through the ``medbro.routers`` entry point ``operations``.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from gateway.api.operations_auth import Actor, Admin, Reader, Reloader, Searcher, now_of
from gateway.api.operations_session import router as session_router
from gateway.api.responses import answers, json_body, ok, problems
from gateway.logging import get_logger, mask_cpr
from gateway.operations import actions, audit, bulk, endpoints, search, tasks
from gateway.operations.principal import Principal
from gateway.operations.rules import Action
from gateway.store.states import MessageState
from gateway.store.tables import InterchangeRow, MessageRow

log = get_logger(__name__)
router = APIRouter()
router.include_router(session_router)
messages = APIRouter(prefix="/v1/messages", tags=["operations"])
operations = APIRouter(prefix="/v1/operations", tags=["operations"])
other = APIRouter(tags=["operations"])
admin = APIRouter(prefix="/v1/admin", tags=["operations"])


class MessageItem(BaseModel):
    id: str
    state: str
    type: str
    sender: str | None
    receiver: str | None
    letter_id: str
    received_at: str
    updated_at: str


class MessagePage(BaseModel):
    items: list[MessageItem]
    next: str | None = Field(description="pass as cursor for the next (older) page; null: none")


class ReasonIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000, description="why: kept in the audit")


class ActionOut(BaseModel):
    id: str
    action: str
    state: str = Field(description="the message's state after the act")
    changed: bool = Field(description="false: nothing to do (already done or under way)")
    detail: str = ""


_TEXT = {"type": ["string", "null"]}
_FILTER_SCHEMA = {  # what search.Filter.parse takes, so that the schema tells the truth
    "type": "object", "additionalProperties": False,
    "properties": {
        **dict.fromkeys(("type", "sender", "receiver", "endpoint", "letter_id", "unb_ref",
                         "since", "until"), _TEXT),
        "state": {"type": ["string", "null"],
                  "enum": [*(s.value for s in MessageState), "", None]},  # "": not set
        "patient": {"type": ["string", "null"], "pattern": r"^(\d{6}-?\d{4})?$"},
    },
}


class BulkIn(BaseModel):
    filter: dict[str, Any] = Field(description="the filters of GET /v1/messages",
                                   json_schema_extra=_FILTER_SCHEMA)
    dry_run: bool = Field(default=True, strict=True)
    reason: str = Field(default="bulk act", min_length=1, max_length=2000)


class NoteIn(BaseModel):
    note: str = Field(min_length=1, max_length=2000)


# Examples for /openapi.json (gateway/api/responses.py), in the shapes the routes answer.
MESSAGE_ID = "0b8e6a52-3f7e-4a7c-9a1b-6f2d8c4e1a90"
MessageId = Annotated[str, Path(examples=[MESSAGE_ID])]
_ITEM = {"id": MESSAGE_ID, "state": "parked", "type": "DIS01", "sender": "5790000120420",
         "receiver": "5790000128686", "letter_id": "BDEMO000001",
         "received_at": "2026-03-02T08:30:01.221666+00:00",
         "updated_at": "2026-03-02T08:30:02.104511+00:00"}
PAGE_EXAMPLE = {"items": [_ITEM], "next": "MjAyNi0wMy0wMlQwODozMDowMS4yMjE2NjYrMDA6MDA"}
BODY_EXAMPLE = {"id": MESSAGE_ID, "interchange_id": "061664ea-46b6-4668-afc3-97b42a4a5ea8",
                "format": "edifact", "encoding": "latin-1",
                "body": "UNA:+.? 'UNB+UNOC:3+5790000120420:14+5790000128686:14+260302:0930..."}
REVEAL_EXAMPLE = {"id": MESSAGE_ID, "patients": [
    {"message_ref": "BDEMO000001", "cpr": "0101804321", "name": "Anna Marie Jensen"}]}
REASON_EXAMPLE = {"reason": "the GP's mailbox is back (ticket 4711)"}
ACT_EXAMPLE = {"id": MESSAGE_ID, "action": "release", "state": "routed", "changed": True,
               "detail": ""}
BULK_EXAMPLE = {"filter": {"state": "parked", "receiver": "5790000128686"}, "dry_run": False,
                "reason": "the GP's mailbox is back (ticket 4711)"}
OPERATION_ID = "5d1c9e7a-2b4f-4e8a-8c3d-7a6b5e4f3d21"
OPERATION_EXAMPLE = {
    "id": OPERATION_ID, "action": "release", "state": "done",
    "filter": {"state": "parked", "receiver": "5790000128686"},
    "reason": "the GP's mailbox is back (ticket 4711)", "actor": "person:anne",
    "matched": 42, "done": 41, "skipped": 1, "failed": 0, "error": None,
    "created_at": "2026-03-02T10:00:00+00:00", "updated_at": "2026-03-02T10:00:09+00:00"}
TASK_EXAMPLE = {"id": "msg-17", "source": "message", "kind": "undeliverable", "state": "open",
                "reason": "5 delivery attempts failed: connection refused",
                "message_id": MESSAGE_ID, "type": "DIS01", "sender": "5790000120420",
                "receiver": "5790000128686", "created_at": "2026-03-02T09:00:00+00:00",
                "resolved_at": None, "resolved_by": None, "note": None}
ENDPOINT_EXAMPLE = {"gln": "5790000128686", "name": "Lægehuset Vandværksvej",
                    "channel": "edi_mailbox", "queue_depth": 3, "oldest_age_seconds": 412.5,
                    "last_delivery": "2026-03-02T09:58:00+00:00", "failing_since": None,
                    "parked": 0}
AUDIT_EXAMPLE = {"items": [{"id": 981, "at": "2026-03-02T10:00:00+00:00",
                            "actor": "person:anne", "action": "message.release",
                            "target": f"message:{MESSAGE_ID}", "remote": "10.0.0.7",
                            "detail": {"reason": "the GP's mailbox is back (ticket 4711)"}}],
                 "next": None}
RELOAD_EXAMPLE = {"applied": True, "file": "/etc/medbro/partners.toml",
                  "endpoints": {"added": ["5790000181872"], "removed": [],
                                "changed": ["5790000128686"]},
                  "organisations": {"added": [], "removed": [], "changed": []}}
RELOAD_REFUSED = ("/etc/medbro/partners.toml: endpoints[3] (5790000181872).channel: kind "
                  "'edi_mailbox' needs outbox or directory")
_403 = "your role may not do this (or X-CSRF-Token is missing on a console session)"


def _bad(exc: search.FilterError) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc))


def _endpoint_gln(request: Request, flt: search.Filter) -> str | None:
    """``endpoint`` is a configured endpoint's GLN or its exact name."""
    if not flt.endpoint:
        return None
    registry = request.app.state.hub.registry
    if registry.endpoint(flt.endpoint) is not None:
        return flt.endpoint
    named = [ep.gln for ep in registry.endpoints if ep.name == flt.endpoint]
    if not named:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"endpoint: {flt.endpoint!r} is neither the GLN nor the name of a "
                            "configured endpoint (GET /v1/endpoints lists them)")
    return named[0]


def _patient_audit(session: Any, who: Principal, flt: search.Filter, request: Request,
                   what: str) -> None:
    if flt.patient:
        audit.record(session, who, what, target=f"patient:{mask_cpr(flt.patient)}",
                     at=now_of(request),
                     cpr_sha256=hashlib.sha256(flt.patient.encode()).hexdigest())


@messages.get("", response_model=MessagePage, summary="Search messages (newest first)",
              responses=answers(ok(PAGE_EXAMPLE, description="one page, newest first"),
                                problems(401, 403, 422, _403=_403,
                                         _422="a filter value that cannot be used")))
def list_messages(
    request: Request, who: Searcher,
    state: str | None = None, type: str | None = None, sender: str | None = None,
    receiver: str | None = None, endpoint: str | None = None, letter_id: str | None = None,
    unb_ref: str | None = None,
    patient: Annotated[str | None, Query(description="CPR; the search is audited")] = None,
    since: str | None = None, until: str | None = None,
    limit: Annotated[int, Query(ge=1, le=search.MAX_LIMIT)] = search.DEFAULT_LIMIT,
    cursor: str | None = None,
) -> dict[str, Any]:
    try:
        flt = search.Filter.parse(dict(
            state=state, type=type, sender=sender, receiver=receiver, endpoint=endpoint,
            letter_id=letter_id, unb_ref=unb_ref, patient=patient, since=since, until=until))
    except search.FilterError as exc:
        raise _bad(exc) from None
    endpoint_gln = _endpoint_gln(request, flt)
    with request.app.state.hub.store.transaction() as session:
        _patient_audit(session, who, flt, request, "message.search_patient")
        try:
            return search.search(session, flt, glns=who.glns, limit=limit, cursor=cursor,
                                 endpoint_gln=endpoint_gln)
        except search.FilterError as exc:
            raise _bad(exc) from None


def _visible_message(session: Any, who: Principal, message_id: str) -> MessageRow:
    row = session.get(MessageRow, message_id)
    if row is None or not who.sees(row.sender_gln, row.receiver_gln):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no message {message_id!r}")
    return row


@messages.get("/{message_id}/body", summary="The stored interchange as text (audited read)",
              responses=answers(ok(BODY_EXAMPLE, description="the bytes as received"),
                                problems(401, 403, 404, _403=_403,
                                         _404="no such message among those you may see")))
def message_body(message_id: MessageId, request: Request, who: Reader) -> dict[str, Any]:
    with request.app.state.hub.store.transaction() as session:
        row = _visible_message(session, who, message_id)
        inter = session.get(InterchangeRow, row.interchange_id)
        audit.record(session, who, "message.read_body", target=f"message:{message_id}",
                     at=now_of(request), reason=request.headers.get("X-Reason", ""))
        raw = inter.raw if inter is not None else b""
    return {"id": message_id, "interchange_id": row.interchange_id, "format": row.format,
            "encoding": "latin-1", "body": raw.decode("latin-1")}


@messages.post("/{message_id}/reveal",
               summary="The patient's full CPR and name (an explicit, audited act)",
               responses=answers(ok(REVEAL_EXAMPLE, description="the patients it names"),
                                 problems(401, 403, 404, 422, _403=_403,
                                          _404="no such message among those you may see")),
               openapi_extra=json_body(REASON_EXAMPLE))
def reveal(message_id: MessageId, body: ReasonIn, request: Request, who: Reader) -> dict[str, Any]:
    from gateway.edifact import parse

    with request.app.state.hub.store.transaction() as session:
        row = _visible_message(session, who, message_id)
        inter = session.get(InterchangeRow, row.interchange_id)
        audit.record(session, who, "message.reveal_patient", target=f"message:{message_id}",
                     at=now_of(request), reason=body.reason)
    patients = []
    try:
        parsed = parse(inter.raw if inter is not None else b"")
    except Exception:  # noqa: BLE001 - a refused interchange names no readable patient
        parsed = None
    for m in getattr(parsed, "messages", ()):
        p = getattr(getattr(m, "letter", None), "patient", None)
        if p is not None:
            patients.append({"message_ref": m.ref, "cpr": p.cpr,
                             "name": " ".join(x for x in (p.given_names, p.surname) if x)})
    return {"id": message_id, "patients": patients}


async def _act(request: Request, who: Principal, message_id: str, action: Action,
               reason: str) -> JSONResponse:
    hub = request.app.state.hub
    try:
        outcome = await actions.act(hub, message_id, action, who=who, reason=reason,
                                    now=now_of(request))
    except actions.NotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    except actions.Refused as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return JSONResponse(outcome.as_dict(), status_code=status.HTTP_202_ACCEPTED)


_ACT_RESPONSES = answers(
    ok(ACT_EXAMPLE, status=202, description="done, or nothing to do (idempotent)"),
    problems(401, 403, 404, 409, 422,
             _403="your role may not act (viewer, or an ordinary organisation key)",
             _404="no such message among those you may see",
             _409="the act does not apply in the message's state; the text says why"))


@messages.post("/{message_id}/release", status_code=202, response_model=ActionOut,
               responses=_ACT_RESPONSES, openapi_extra=json_body(REASON_EXAMPLE),
               summary="Route a parked or failed message again")
async def release(message_id: MessageId, body: ReasonIn, request: Request, who: Actor) -> Any:
    return await _act(request, who, message_id, Action.RELEASE, body.reason)


@messages.post("/{message_id}/replay", status_code=202, response_model=ActionOut,
               responses=_ACT_RESPONSES, openapi_extra=json_body(REASON_EXAMPLE),
               summary="Deliver a delivered message again")
async def replay(message_id: MessageId, body: ReasonIn, request: Request, who: Actor) -> Any:
    return await _act(request, who, message_id, Action.REPLAY, body.reason)


@messages.post("/{message_id}/close", status_code=202, response_model=ActionOut,
               responses=_ACT_RESPONSES, openapi_extra=json_body(REASON_EXAMPLE),
               summary="Give up on a message for good")
async def close(message_id: MessageId, body: ReasonIn, request: Request, who: Actor) -> Any:
    return await _act(request, who, message_id, Action.CLOSE, body.reason)


async def _bulk(request: Request, who: Principal, action: Action, body: BulkIn) -> Any:
    hub = request.app.state.hub
    try:
        flt = search.Filter.parse(body.filter)
    except search.FilterError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"filter.{exc}") from None
    endpoint_gln = _endpoint_gln(request, flt)
    now = now_of(request)
    if body.dry_run:
        matched = await hub.ctx.db(bulk.dry_run, hub, action, flt, who=who, reason=body.reason,
                                   now=now, endpoint_gln=endpoint_gln)
        return JSONResponse({"matched": matched})
    with hub.store.transaction() as session:
        _patient_audit(session, who, flt, request, f"operation.{action.value}.patient")
    op = await hub.ctx.db(bulk.start, hub, action, flt, who=who, reason=body.reason, now=now,
                          endpoint_gln=endpoint_gln)
    rate = getattr(request.app.state, "bulk_rate", bulk.DEFAULT_RATE)
    running = getattr(request.app.state, "bulk_walks", None)
    if running is None:  # keep a reference: an unreferenced task may be collected mid-walk
        running = request.app.state.bulk_walks = set()
    task = asyncio.create_task(bulk.walk(hub, op["id"], action, flt, who=who,
                                         reason=body.reason, endpoint_gln=endpoint_gln,
                                         rate=rate))
    running.add(task)
    task.add_done_callback(running.discard)
    return JSONResponse({"operation_id": op["id"], "id": op["id"], "matched": op["matched"],
                         "state": op["state"]}, status_code=status.HTTP_202_ACCEPTED,
                        headers={"Location": f"/v1/operations/{op['id']}"})


_BULK_RESPONSES = answers(
    ok({"matched": 42}, description='dry run: {"matched": N}'),
    ok({"operation_id": OPERATION_ID, "id": OPERATION_ID, "matched": 42, "state": "running"},
       status=202, description='started: {"operation_id", "matched", "state"}; follow '
                               "GET /v1/operations/{id} (Location)"),
    problems(401, 403, 422, _403="your role may not act",
             _422="a filter value that cannot be used"))


@operations.post("/release", responses=_BULK_RESPONSES, openapi_extra=json_body(BULK_EXAMPLE),
                 summary="Release every parked/failed message a filter matches (throttled)")
async def bulk_release(body: BulkIn, request: Request, who: Actor) -> Any:
    return await _bulk(request, who, Action.RELEASE, body)


@operations.post("/replay", responses=_BULK_RESPONSES, openapi_extra=json_body(
                     {**BULK_EXAMPLE, "filter": {"state": "delivered", "type": "DIS01"}}),
                 summary="Replay every delivered message a filter matches (throttled)")
async def bulk_replay(body: BulkIn, request: Request, who: Actor) -> Any:
    return await _bulk(request, who, Action.REPLAY, body)


@operations.get("/{operation_id}", summary="Progress and outcome of a bulk act",
                responses=answers(ok(OPERATION_EXAMPLE, description="the bulk act"),
                                  problems(401, 403, 404, _403=_403,
                                           _404="no such operation")))
def operation(operation_id: Annotated[str, Path(examples=[OPERATION_ID])], request: Request,
              who: Reader) -> dict[str, Any]:
    found = bulk.get(request.app.state.hub, operation_id)
    if found is None or (who.glns is not None and found["actor"] != who.actor):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no operation {operation_id!r}")
    return found


@other.get("/v1/tasks", summary="Operator and SLA tasks, newest first",
           responses=answers(ok({"items": [TASK_EXAMPLE]}, description="the tasks"),
                             problems(401, 403, 422, _403=_403)))
def list_tasks(
    request: Request, who: Reader,
    state: Annotated[str | None, Query(pattern="^(open|resolved)$")] = None,
    kind: str | None = None,
    limit: Annotated[int, Query(ge=1, le=tasks.MAX_LIMIT)] = 100,
) -> dict[str, Any]:
    with request.app.state.hub.store.transaction() as session:
        return {"items": tasks.listing(session, who, state=state, kind=kind, limit=limit)}


@other.post("/v1/tasks/{task_id}/resolve", summary="Resolve a task with a note",
            responses=answers(
                ok({**TASK_EXAMPLE, "state": "resolved",
                    "resolved_at": "2026-03-02T10:05:00+00:00", "resolved_by": "person:anne",
                    "note": "released after the mailbox came back"},
                   description="the resolved task"),
                problems(401, 403, 404, 422, _403=_403,
                         _404="no such task among those you may see")),
            openapi_extra=json_body({"note": "released after the mailbox came back"}))
def resolve_task(task_id: Annotated[str, Path(examples=["msg-17"])], body: NoteIn,
                 request: Request, who: Actor) -> dict[str, Any]:
    with request.app.state.hub.store.transaction() as session:
        try:
            return tasks.resolve(session, task_id, who=who, note=body.note, now=now_of(request))
        except tasks.TaskNotFound as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None


@other.get("/v1/endpoints", summary="Endpoint health: backlog, last delivery, failures, parked",
           responses=answers(ok({"items": [ENDPOINT_EXAMPLE]}, description="every endpoint"),
                             problems(401, 403, _403=_403)))
def list_endpoints(request: Request, who: Reader) -> dict[str, Any]:
    hub = request.app.state.hub
    with hub.store.transaction() as session:
        return {"items": endpoints.health(session, hub.registry, now_of(request), who.glns)}


@other.get("/v1/audit", summary="The access audit: who read or did what, when, from where",
           responses=answers(ok(AUDIT_EXAMPLE, description="one page, newest first"),
                             problems(401, 403, 422, _403="only an admin reads the audit")))
def list_audit(
    request: Request, who: Admin,
    actor: str | None = None, action: str | None = None, target: str | None = None,
    since: str | None = None, until: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100, cursor: str | None = None,
) -> dict[str, Any]:
    try:
        window = search.Filter.parse({"since": since, "until": until})
    except search.FilterError as exc:
        raise _bad(exc) from None
    before = int(cursor) if cursor and cursor.isdigit() else None
    with request.app.state.hub.store.transaction() as session:
        return audit.listing(session, actor=actor, action=action, target=target,
                             since=window.since, until=window.until, limit=limit,
                             before_id=before)


def _file_problems(error: str, file: str) -> list[dict[str, str]]:
    """A ``ConfigError`` text as field problems: ``endpoints[3] (579...).channel`` and what."""
    text = error.removeprefix(f"{file}: ") if file else error
    out = []
    for part in text.split("; "):
        where, sep, what = part.partition(": ")
        located = sep and where.startswith(("endpoints[", "organisations["))
        out.append({"field": where if located else "file", "message": what if located else part})
    return out


@admin.post("/reload", summary="Re-read the partner file; a bad file changes nothing",
            responses=answers(
                ok(RELOAD_EXAMPLE, description="swapped in (and audited): what changed"),
                problems(401, 403, 422, 503,
                         _403="only an admin, or the key of an operator or region "
                              "organisation, reloads",
                         _422="the partner file has a problem (file, entry, field): the "
                              "running configuration is kept",
                         _503="the broker or the store is away: nothing was changed; try "
                              "again"),
                {422: {"content": {"application/json": {"example": {
                    "detail": RELOAD_REFUSED,
                    "errors": [{"field": "endpoints[3] (5790000181872).channel",
                                "message": "kind 'edi_mailbox' needs outbox or directory"}],
                }}}}}))
async def reload_config(request: Request, who: Reloader) -> dict[str, Any]:
    """The same reload SIGHUP does (gateway/reload.py), for this API process."""
    from gateway.reload import reload

    hub = request.app.state.hub
    try:
        outcome = await reload(hub, who=who, now=now_of(request))
    except Exception as exc:  # noqa: BLE001 - broker or store away: nothing swapped
        log.error("config_reload_failed", actor=who.actor, error=repr(exc))
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            "the partner file was not reloaded (nothing changed): the broker "
                            "or the store is away; try again", headers={"Retry-After": "5"}
                            ) from exc
    if not outcome.applied:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, {
            "detail": f"the partner file was not reloaded (the running configuration is kept): "
                      f"{outcome.error}",
            "errors": _file_problems(outcome.error, outcome.file)})
    return outcome.as_dict()


router.include_router(messages)
router.include_router(operations)
router.include_router(other)
router.include_router(admin)
