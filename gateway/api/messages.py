"""``/v1/messages``: organisations send interchanges and follow their messages.

Authentication: the ``X-API-Key`` header names an organisation of the partner registry (the key's
SHA-256 is configured, never the key). An organisation may send only as its own GLNs and sees
only messages it sent or received.

Answers of ``POST /v1/messages`` (decided here, documented in the OpenAPI schema):

* **202** ``{"message_ids", "state", "duplicate", "receipt"}``: stored durably (the store
  committed before the answer). A duplicate (same sender GLN, UNB ref, UNH ref) answers 202 with
  the first message's ids and the same receipt, and is not delivered again (MedCom §3.2).
* **401** no or unknown key; **403** the UNB sender is not one of the organisation's GLNs
  (nothing is stored: the caller is not entitled to speak for that GLN, so no receipt is owed).
* **415** unsupported content type; **400** empty body, or input refused before anything could
  be stored (an envelope that cannot be read, a DOCTYPE: app.py); **413** body over
  ``MAX_BODY`` bytes.
* A body that an envelope plugin (``medbro.envelopes``, e.g. ``vans``: a VANSEnvelope 1.0.4)
  ``accepts`` is answered by that plugin's ``handle(request, org, data)`` whatever the content
  type: for a VANSEnvelope in reliable mode **200** ``application/xml`` with the VANS receipt (the
  same receipt again for a duplicate), otherwise **202** JSON in the shape below.
* **503** (``Retry-After``) the store or broker is unavailable: not accepted, send it again (a
  repeat of something that did get stored is recognised as a duplicate).
* **422** ``{"error", "state", "message_ids", "duplicate", "receipt"}``: the interchange was
  stored but will not be delivered: ``rejected`` (malformed: CTL01/CTL02 SYN; sender not the
  organisation's) or ``parked`` (unknown receiver: CTL01 LOK; type not accepted: CTL01 VER).
  ``receipt`` is the CONTRL interchange owed to the sender, as ISO-8859-1 text (the pipeline
  also delivers it to the sender's endpoint channel). A duplicate of a refused interchange
  answers 422 again with the same receipt.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Security, status
from fastapi.security import APIKeyHeader
from pydantic import BaseModel

from gateway.api.answers import answer
from gateway.api.body_limit import read_body
from gateway.api.examples import DIS01_EDIFACT, DIS01_VANS_ENVELOPE
from gateway.api.operations_auth import Searcher
from gateway.api.responses import Refused, answers, ok, problems, raw_body
from gateway.envelopes import envelope_handler_for, envelope_handlers
from gateway.errors import RemoteMessageError
from gateway.logging import get_logger
from gateway.registry import is_demo_key

log = get_logger(__name__)

router = APIRouter(prefix="/v1/messages", tags=["messages"])

EDIFACT_TYPES = {"application/edifact", "application/edi-edifact", "application/octet-stream"}
MAX_BODY = 20 * 1024 * 1024  # MEDBIN attachments can be large; anything bigger is refused

# The status of an ingest verdict (202/403/422) is decided in gateway/api/answers.py; a
# duplicate answers the same way, with the same receipt (MedCom §3.2).

_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="organisation API key")


class Accepted(BaseModel):
    message_ids: list[str]
    state: str
    duplicate: bool
    receipt: str | None = None


def organisation(request: Request, api_key: Annotated[str | None, Security(_api_key)]) -> Any:
    """The organisation behind ``X-API-Key``; 401 when absent or unknown."""
    if not api_key:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "X-API-Key header is required",
                            headers={"WWW-Authenticate": "ApiKey"})
    org = request.app.state.hub.registry.organisation_for_key(api_key)
    if org is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED,
                            "the published demo key is refused (MEDBRO_ALLOW_DEMO_KEYS=true "
                            "allows it for a demo)" if is_demo_key(api_key) else
                            "unknown API key",
                            headers={"WWW-Authenticate": "ApiKey"})
    return org


Organisation = Annotated[Any, Depends(organisation)]




ACCEPTED_EXAMPLE = {"message_ids": ["0b8e6a52-3f7e-4a7c-9a1b-6f2d8c4e1a90"], "state": "routed",
                    "duplicate": False, "receipt": None}
REFUSED_EXAMPLE = {
    "detail": "unknown receiver 5790000999999", "errors": [],
    "error": "unknown receiver 5790000999999", "state": "parked",
    "message_ids": ["5d1c9e7a-2b4f-4e8a-8c3d-7a6b5e4f3d21"], "duplicate": False,
    "receipt": "UNA:+.? 'UNB+UNOC:3+5790000000000:14+5790000120420:14+260302:0931+C0000001'...",
}
VANS_RECEIPT_EXAMPLE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<VANSEnvelope xmlns="urn:oio:medcom:vans-envelope:'
    '1.0.4">...<Receipt><Type>PositiveVans</Type>...</Receipt></VANSEnvelope>')


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    summary="Send an EDIFACT interchange or a VANSEnvelope",
    responses=answers(
        ok(ACCEPTED_EXAMPLE, status=202, description="stored durably and routed (or a "
           "duplicate of a stored one: the first message's ids, the same receipt)"),
        ok(VANS_RECEIPT_EXAMPLE, status=200, media="application/xml",
           description="a VANSEnvelope in reliable mode: the VANS receipt"),
        problems(400, 401, 403, 413, 415, 503,
                 _400="empty body, or a VANSEnvelope that cannot be read",
                 _415="neither an EDIFACT media type nor an envelope a plugin recognises"),
        {422: {"model": Refused, "description": "stored but refused (rejected or parked); the "
               "receipt owed to the sender is included",
               "content": {"application/json": {"example": REFUSED_EXAMPLE}}}},
    ),
    openapi_extra=raw_body(
        "One EDIFACT interchange (application/edifact, application/edi-edifact or "
        "application/octet-stream), or a VANSEnvelope 1.0.4 (application/xml), recognised by "
        "its bytes whatever the media type.",
        {**dict.fromkeys(sorted(EDIFACT_TYPES), DIS01_EDIFACT),
         "application/xml": DIS01_VANS_ENVELOPE}),
)
async def post_message(request: Request, org: Organisation) -> Any:
    data = await read_body(request, MAX_BODY)
    # An envelope says what it is in its bytes, so it is recognised whatever the content type.
    found = envelope_handler_for(data) if data else None
    if found is not None:
        name, handler = found
        log.info("api_envelope_received", organisation=org.name, envelope=name)
        try:
            return await handler.handle(request, org, data)
        except (HTTPException, RemoteMessageError):
            raise  # answered as they are; bad input is 4xx (app.py), never "send it again"
        except Exception as exc:  # noqa: BLE001 - store or broker away: not accepted, say so
            log.error("api_ingest_failed", organisation=org.name, envelope=name, error=repr(exc))
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                                "the envelope could not be stored and is not accepted; send it "
                                "again", headers={"Retry-After": "5"}) from exc
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in EDIFACT_TYPES:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                            f"content type {content_type or 'none'!r} is not one of "
                            f"{', '.join(sorted(EDIFACT_TYPES))} (nor an envelope of "
                            f"{', '.join(n for n, _ in envelope_handlers()) or 'no plugin'})")
    if not data:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "empty body: send one interchange")
    hub = request.app.state.hub
    try:
        result = await hub.ingest(data, received_via="http", source=f"api:{org.name}",
                                  authenticated_glns=frozenset(org.glns))
    except RemoteMessageError:
        raise  # bad input: 400 (app.py), never "send it again"
    except Exception as exc:  # noqa: BLE001 - store or broker away: not accepted, say so
        log.error("api_ingest_failed", organisation=org.name, error=repr(exc))
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            "the message could not be stored and is not accepted; send it again",
                            headers={"Retry-After": "5"}) from exc
    response = answer(result)
    if response.status_code != status.HTTP_202_ACCEPTED:
        log.info("api_message_refused", organisation=org.name,
                 code=getattr(result, "code", None), error=result.error)
    return response


# ``source`` of what an organisation posted through the API: ``api:<name>`` (this router),
# ``hospital:<name>`` (the hospital push), `` vans:<envelope id>`` appended for an envelope.
_POSTED = re.compile(r"(?:api|hospital):(?P<name>.*?)(?: vans:\S+)?")


def posted_by(source: str, organisation_name: str) -> bool:
    """Whether an interchange's ``source`` says ``organisation_name`` posted it here."""
    found = _POSTED.fullmatch(source or "")
    return found is not None and found["name"] == organisation_name


def posted_by_one_of(view: dict[str, Any], organisations: tuple[str, ...]) -> bool:
    """Whether one of ``organisations`` posted the message of ``view`` through the API (so
    it sees it also when no sender GLN could be read from the input it refused)."""
    received = next((e for e in view.get("events", ()) if e.get("event") ==
                     "interchange_received"), None)
    source = received["detail"].get("source", "") if received is not None else ""
    return any(posted_by(source, name) for name in organisations)


MESSAGE_EXAMPLE = {
    "id": "0b8e6a52-3f7e-4a7c-9a1b-6f2d8c4e1a90",
    "interchange_id": "061664ea-46b6-4668-afc3-97b42a4a5ea8", "state": "delivered",
    "format": "edifact", "family": "MEDDIS", "type": "DIS01", "version": "D0133L",
    "sender_gln": "5790000120420", "receiver_gln": "5790000128686",
    "control_ref": "KDEMO000001", "message_ref": "BDEMO000001", "letter_id": "BDEMO000001",
    "ack_requested": True, "resend_count": 0, "received_via": "http",
    "sha256": "07ab85b220c9786334bdb2d4cc6c2d4ee852563ec5cec375d03eb888d01ecbb2",
    "created_at": "2026-03-02T08:30:01.221666+00:00",
    "updated_at": "2026-03-02T08:30:02.104511+00:00",
    "delivered_at": "2026-03-02T08:30:02.104511+00:00", "receipt_due_at": None,
    "summary": {"ref": "BDEMO000001", "family": "MEDDIS", "type": "DIS01",
                "version": "D0133L", "letter": {"letter_id": "BDEMO000001",
                                                "patient": "010180-****"}},
    "attempts": [{"attempt_no": 1, "endpoint_gln": "5790000128686", "channel": "edi_mailbox",
                  "started_at": "2026-03-02T08:30:02.051203+00:00",
                  "finished_at": "2026-03-02T08:30:02.104511+00:00", "outcome": "delivered",
                  "error": None, "external_ref": "5790000120420_KDEMO000001.edi"}],
    "receipts": [],
    "events": [{"at": "2026-03-02T08:30:01.221666+00:00", "event": "message_route",
                "detail": {"state_from": "validated", "state_to": "routed"}}],
    "tasks": [],
}


@router.get(
    "/{message_id}",
    summary="State, attempts, receipts and events of one message",
    responses=answers(ok(MESSAGE_EXAMPLE, description="the message as the store has it"),
                      problems(401, 404)),
)
async def get_message(
    message_id: Annotated[str, Path(examples=["0b8e6a52-3f7e-4a7c-9a1b-6f2d8c4e1a90"])],
    request: Request, who: Searcher,
) -> dict[str, Any]:
    view = request.app.state.hub.message_view(message_id)
    # Someone else's message answers 404 too: its existence is not the caller's business.
    # Region and operator organisations (and their persons) see every message.
    if view is None or not (who.sees(view.get("sender_gln"), view.get("receiver_gln"))
                            or posted_by_one_of(view, who.organisations)):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no message {message_id!r}")
    return view
