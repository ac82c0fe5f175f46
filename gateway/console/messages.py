"""The message browser: search, one message's timeline and letter, release/replay/close, bulk.

Every read and act is the operations API's own code, called in-process with the logged-in
person's ``Principal``: the search is ``GET /v1/messages``'s handler (filters, visibility, the
audited patient search), the letter is the audited body read and reveal, the acts are
``gateway.operations.actions.act`` (rules.decide, audit, tasks closed) and the bulk acts are
``POST /v1/operations/release|replay``'s handler (dry-run count first, then a throttled walk).
Which act buttons a message shows is ``rules.decide`` too, and a forged act from a viewer is
refused (403) as the API refuses it.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from gateway.api import operations as ops_api
from gateway.api.operations_auth import now_of
from gateway.console import letter as letters
from gateway.console.auth import Visit, check_csrf, require, visit
from gateway.console.pages import render
from gateway.operations import actions, bulk
from gateway.operations.roles import Permission
from gateway.operations.rules import Action, Verdict, decide
from gateway.operations.search import Filter
from gateway.store.tables import MessageRow

router = APIRouter()

FILTERS = ("patient", "state", "type", "sender", "receiver", "endpoint", "letter_id", "unb_ref",
           "since", "until")
PAGE = 50

# The timeline's words for the store's events (gateway.store.states; translated by the
# catalogue); an event not named here is shown by its own name.
EVENTS = {
    "interchange_received": "Received",
    "message_received": "Stored",
    "message_validate": "Validated",
    "message_reject": "Rejected as malformed",
    "message_route": "Routed",
    "message_refuse": "Refused by routing",
    "message_deliver": "Delivered",
    "message_retry": "Delivery failed; it will be retried",
    "message_exhaust": "Delivery given up: parked",
    "message_acknowledge": "Receipt received",
    "message_negative_receipt": "Negative receipt received",
    "message_resend": "Sent again (no receipt)",
    "message_receipt_timed_out": "No receipt after the resends: parked",
    "message_requeue": "Released by an operator",
    "message_close": "Closed by an operator",
    "message_replay": "Replayed by an operator",
    "message_republished": "Published again",
    "operator_task_opened": "Operator task opened",
    "sla_escalated": "SLA deadline escalated",
    "duplicate_received": "The same interchange received again",
    "copy_routed": "Copy routed",
    "attempt": "Delivery attempt",
    "receipt_in": "Receipt from the receiver",
    "receipt_out": "Receipt to the sender",
}


@dataclass(frozen=True)
class Moment:
    """One line of a message's timeline."""

    at: str | None
    what: str  # a key of EVENTS (or an unknown event's name)
    detail: str = ""
    who: str = ""
    why: str = ""
    bad: bool = False


def timeline(view: dict[str, Any]) -> list[Moment]:
    """Received, validated, routed, every attempt with its error, receipts, resends and the
    operators' acts with who and why, in time order."""
    out: list[Moment] = []
    for e in view["events"]:
        d = e.get("detail") or {}
        note = d.get("error") or d.get("reason_text") or ""
        if e["event"] == "operator_task_opened":
            note = f"{d.get('kind', '')}: {d.get('reason', '')}"
        elif e["event"] == "sla_escalated":
            note = f"{d.get('kind', '')}, {d.get('deadline', '')}"
        elif "state_to" in d and not note:
            note = f"{d.get('state_from', '')} → {d['state_to']}"
        out.append(Moment(e["at"], e["event"], str(note), str(d.get("by", "") or ""),
                          str(d.get("reason", "") if e["event"] != "operator_task_opened"
                              else ""),
                          e["event"] in ("message_exhaust", "message_refuse", "message_reject",
                                         "message_negative_receipt",
                                         "message_receipt_timed_out")))
    for a in view["attempts"]:
        detail = f"#{a['attempt_no']} {a['channel']} → {a['endpoint_gln']}: {a['outcome']}"
        if a["error"]:
            detail += f" ({a['error']})"
        out.append(Moment(a["finished_at"], "attempt", detail, bad=a["outcome"] != "delivered"))
    for r in view["receipts"]:
        detail = r["kind"] + (f" {r['refusal']}" if r["refusal"] else "")
        detail += f": {r['text']}" if r["text"] else ""
        out.append(Moment(r["at"], f"receipt_{r['direction']}", detail,
                          bad=bool(r["refusal"])))
    return sorted(out, key=lambda m: m.at or "")


def available_acts(state: str) -> list[str]:
    """The acts that would change this message (rules.decide says APPLY)."""
    return [a.value for a in Action if decide(a, state).verdict is Verdict.APPLY]


def _filter_values(params: Any) -> dict[str, str]:
    return {k: str(params.get(k) or "").strip() for k in FILTERS if params.get(k)}


def _api_filter(values: dict[str, str]) -> dict[str, str]:
    """The page's filter fields as the API takes them: local times become ISO with zone."""
    from gateway.console.formats import local

    out = dict(values)
    for name in ("since", "until"):
        if out.get(name):
            with contextlib.suppress(ValueError):  # else the API's own check names the field
                out[name] = local(datetime.fromisoformat(out[name])).isoformat()
    return out


def _names(request: Request) -> dict[str, str]:
    registry = request.app.state.hub.registry
    return {ep.gln: ep.name for ep in registry.endpoints}


@router.get("/messages")
async def messages_page(request: Request, v: Annotated[Visit, Depends(visit)]) -> Response:
    values = _filter_values(request.query_params)
    result: dict[str, Any] = {"items": [], "next": None}
    error = None
    if values or request.query_params.get("search"):
        try:
            result = await run_in_threadpool(
                ops_api.list_messages, request, v.user.principal, **_api_filter(values),
                limit=PAGE, cursor=request.query_params.get("cursor") or None)
        except HTTPException as exc:
            error = str(exc.detail)
    return render(request, "messages.html", v, values=values, items=result["items"],
                  next=result["next"], error=error, names=_names(request),
                  searched=bool(values or request.query_params.get("search")),
                  states=[s for s in ("parked", "failed", "routed", "delivered", "acknowledged",
                                      "rejected", "received", "validated")])


def _view(request: Request, v: Visit, message_id: str) -> dict[str, Any]:
    """The message as the API shows it, or 404 when it is not one the person may see."""
    hub = request.app.state.hub
    with hub.store.transaction() as session:
        row = session.get(MessageRow, message_id)
        if row is None or not v.user.principal.sees(row.sender_gln, row.receiver_gln):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no message {message_id!r}")
    return hub.message_view(message_id)


async def _message_page(request: Request, v: Visit, message_id: str, *,
                        letter: letters.LetterView | None = None, notice: str | None = None,
                        error: str | None = None, status_code: int = 200) -> Response:
    view = await run_in_threadpool(_view, request, v, message_id)
    return render(request, "message.html", v, status_code=status_code, m=view,
                  moments=timeline(view), events=EVENTS, names=_names(request),
                  acts=available_acts(view["state"]) if v.user.may_act else [],
                  letter=letter, notice=notice or request.query_params.get("done"),
                  error=error)


@router.get("/messages/{message_id}")
async def message_page(message_id: str, request: Request,
                       v: Annotated[Visit, Depends(visit)]) -> Response:
    letter = None
    if request.query_params.get("letter"):
        letter = await run_in_threadpool(_read_letter, request, v, message_id, None)
    return await _message_page(request, v, message_id, letter=letter)


def _read_letter(request: Request, v: Visit, message_id: str,
                 reveal_reason: str | None) -> letters.LetterView:
    """The audited body read (and, with a reason, the audited reveal), then the view."""
    who = v.user.principal
    require(v.user, Permission.READ)
    body = ops_api.message_body(message_id, request, who)  # visibility checked, audited
    if reveal_reason is not None:
        ops_api.reveal(message_id, ops_api.ReasonIn(reason=reveal_reason), request, who)
    raw = body["body"].encode(body["encoding"])
    return letters.read(raw, revealed=reveal_reason is not None)


@router.post("/messages/{message_id}/reveal")
async def reveal(message_id: str, request: Request,
                 v: Annotated[Visit, Depends(visit)]) -> Response:
    form = await request.form()
    check_csrf(request, form, v.csrf)
    require(v.user, Permission.READ)
    reason = str(form.get("reason", "")).strip()
    if not reason:
        letter = await run_in_threadpool(_read_letter, request, v, message_id, None)
        return await _message_page(request, v, message_id, letter=letter, status_code=422,
                                   error="reason")
    letter = await run_in_threadpool(_read_letter, request, v, message_id, reason)
    return await _message_page(request, v, message_id, letter=letter)


@router.post("/messages/{message_id}/{act}")
async def act(message_id: str, act: str, request: Request,
              v: Annotated[Visit, Depends(visit)]) -> Response:
    form = await request.form()
    check_csrf(request, form, v.csrf)
    require(v.user, Permission.ACT)
    try:
        action = Action(act)
    except ValueError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no act {act!r}") from None
    reason = str(form.get("reason", "")).strip()
    if not reason:
        return await _message_page(request, v, message_id, status_code=422, error="reason")
    hub = request.app.state.hub
    try:
        await actions.act(hub, message_id, action, who=v.user.principal, reason=reason,
                          now=now_of(request))
    except actions.NotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    except actions.Refused as exc:
        return await _message_page(request, v, message_id, status_code=409, error=str(exc))
    return RedirectResponse(f"/console/messages/{message_id}?done={action.value}",
                            status_code=status.HTTP_303_SEE_OTHER)


@router.post("/operations")
async def bulk_act(request: Request, v: Annotated[Visit, Depends(visit)]) -> Response:
    """A bulk release or replay of a search: the dry-run count first, then on confirmation
    the throttled walk (``POST /v1/operations/<act>``'s handler)."""
    form = await request.form()
    check_csrf(request, form, v.csrf)
    require(v.user, Permission.ACT)
    action = Action(str(form.get("action", "release")))
    if action is Action.CLOSE:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "bulk acts: release, replay")
    values = _filter_values(form)
    reason = str(form.get("reason", "")).strip() or "bulk act"
    handler = ops_api.bulk_release if action is Action.RELEASE else ops_api.bulk_replay
    confirmed = form.get("confirm") == "yes"
    body = ops_api.BulkIn(filter=_api_filter(values), dry_run=not confirmed, reason=reason)
    try:
        answer = await handler(body, request, v.user.principal)
    except HTTPException as exc:
        return render(request, "bulk.html", v, status_code=exc.status_code, values=values,
                      action=action.value, reason=reason, matched=None, error=str(exc.detail))
    data = json.loads(answer.body)
    if not confirmed:
        return render(request, "bulk.html", v, values=values, action=action.value,
                      reason=reason, matched=data["matched"], error=None)
    return RedirectResponse(f"/console/operations/{data['operation_id']}",
                            status_code=status.HTTP_303_SEE_OTHER)


@router.get("/operations/{operation_id}")
def operation_page(operation_id: str, request: Request,
                   v: Annotated[Visit, Depends(visit)]) -> Response:
    require(v.user, Permission.READ)
    found = bulk.get(request.app.state.hub, operation_id)
    if found is None or (not v.user.sees_all and found["actor"] != v.user.actor):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no operation {operation_id!r}")
    template = "operation_body.html" if request.headers.get("HX-Request") else "operation.html"
    return render(request, template, v, op=found, filter=Filter.parse(found["filter"]).as_dict())
