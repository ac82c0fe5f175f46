"""``/v1/hospital``: hospitals push letters and discharge events (entry point
``medbro.routers: hospital``).

* ``POST /v1/hospital/letters``: an epikrise (or any letter) as EDIFACT, OIOXML ``Emessage`` or
  VANSEnvelope; the format is read from the bytes. EDIFACT and OIOXML answer like
  ``/v1/messages`` (202 stored and routed, 422 stored but refused, with the receipt; OIOXML
  that cannot be converted is stored raw and refused, with the reason). A
  VANSEnvelope is answered by its envelope plugin (gateway/envelopes.py; adapters/vans: reliable
  mode): the VANS receipt (``200 application/xml``; the same receipt again for a duplicate),
  or 202 JSON for an unreliable envelope; a bad envelope is 400 with the reason.
* ``POST /v1/hospital/discharges``: a DIS17 (udskrivningsadvis) as EDIFACT goes through the hub
  (routed to its receivers; the pipeline's SLA observer starts the clock). A JSON discharge
  event is answered ``307`` to ``/v1/discharges``, the SLA API's one JSON intake, so there is
  one place that understands that JSON (method and body are kept by a 307).

Authentication is the API's: ``X-API-Key`` of a registry organisation, which may only send as
its own GLNs (the envelope's SenderID too).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import JSONResponse, RedirectResponse, Response

from adapters.hospital.client import HospitalIngest
from adapters.hospital.mapping import Posted, detect
from gateway.api.answers import answer
from gateway.api.body_limit import read_body
from gateway.api.examples import DIS01_EDIFACT, DIS01_OIOXML, DIS01_VANS_ENVELOPE
from gateway.api.messages import (
    ACCEPTED_EXAMPLE,
    REFUSED_EXAMPLE,
    VANS_RECEIPT_EXAMPLE,
    Organisation,
)
from gateway.api.responses import Refused, answers, ok, problems, raw_body
from gateway.envelopes import envelope_handler_for
from gateway.logging import get_logger

log = get_logger(__name__)

router = APIRouter(prefix="/v1/hospital", tags=["hospital"])

SLA_DISCHARGES = "/v1/discharges"


async def _body(request: Request, ingest: HospitalIngest) -> bytes:
    data = await read_body(request, ingest.settings.max_body)  # 413 while it streams in
    if not data:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "empty body")
    return data


def _answer(result: Any, problem: str = "") -> JSONResponse:
    """The core's answer (gateway/api/answers.py), with why an OIOXML letter was not
    converted when that is the reason."""
    return answer(result, problem=problem)


async def _envelope(request: Request, org: Any, data: bytes, *, source: str) -> Response:
    """An envelope is answered by the plugin that recognised it (``detect`` asked the same)."""
    found = envelope_handler_for(data)
    if found is None:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "no envelope plugin reads this")
    return await found[1].handle(request, org, data, source=source)


async def _letter(request: Request, org: Any, data: bytes, posted: Posted,
                  ingest: HospitalIngest) -> Response:
    glns = frozenset(org.glns)
    source = f"hospital:{org.name}"
    if posted is Posted.VANS:
        return await _envelope(request, org, data, source=source)
    result, problem = await ingest.letter(data, posted, source=source, glns=glns)
    return _answer(result, problem)


# What both routes answer, beside what each adds.
_ANSWERS = answers(
    ok(ACCEPTED_EXAMPLE, status=202, description="stored and routed (or a duplicate)"),
    ok(VANS_RECEIPT_EXAMPLE, media="application/xml",
       description="a VANSEnvelope in reliable mode: the VANS receipt"),
    problems(400, 401, 403, 413, 415, 503, _400="empty body, or a VANSEnvelope that cannot "
             "be read", _403="the sender is not one of the organisation's GLNs"),
    {422: {"model": Refused, "description": "stored but refused, with the receipt and why",
           "content": {"application/json": {"example": REFUSED_EXAMPLE}}}},
)
_LETTER_BODIES = {"application/edifact": DIS01_EDIFACT, "application/xml": DIS01_OIOXML,
                  "application/octet-stream": DIS01_EDIFACT}


@router.post(
    "/letters",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Push a letter as EDIFACT, OIOXML or VANSEnvelope",
    responses=answers(_ANSWERS, problems(415, _415="neither EDIFACT, OIOXML nor a "
                                         "VANSEnvelope")),
    openapi_extra=raw_body(
        "A letter as EDIFACT, OIOXML Emessage or VANSEnvelope; the format is read from the "
        "bytes, whatever the media type (the XML example is OIOXML; a VANSEnvelope is "
        "application/xml too).", _LETTER_BODIES),
)
async def post_letter(request: Request, org: Organisation) -> Response:
    ingest = HospitalIngest.for_app(request.app)
    data = await _body(request, ingest)
    posted = detect(data)
    if posted not in (Posted.EDIFACT, Posted.OIOXML, Posted.VANS):
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                            "the body is neither EDIFACT (UNA/UNB), OIOXML nor a VANSEnvelope")
    return await _letter(request, org, data, posted, ingest)


def _discharge_bodies() -> dict[str, Any]:
    """EDIFACT or a VANSEnvelope as raw bytes; JSON in the shape /v1/discharges takes."""
    from gateway.sla.api import DISCHARGE_IN_EXAMPLE, DischargeIn

    extra = raw_body(
        "A DIS17 discharge notice as EDIFACT (or in a VANSEnvelope), or a discharge event as "
        "JSON (answered 307 to /v1/discharges, which reads it). The EDIFACT example is a "
        "DIS01: any EDIFACT interchange is stored and routed the same way.",
        {"application/edifact": DIS01_EDIFACT, "application/xml": DIS01_VANS_ENVELOPE})
    extra["requestBody"]["content"]["application/json"] = {
        "schema": DischargeIn.model_json_schema(), "example": DISCHARGE_IN_EXAMPLE}
    return extra


@router.post(
    "/discharges",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Push a discharge event as DIS17 EDIFACT (or JSON, redirected to /v1/discharges)",
    responses=answers(
        _ANSWERS,
        {307: {"description": "JSON: use /v1/discharges (same method and body)"}},
        problems(415, _415="neither EDIFACT, JSON nor a VANSEnvelope")),
    openapi_extra=_discharge_bodies(),
)
async def post_discharge(request: Request, org: Organisation) -> Response:
    ingest = HospitalIngest.for_app(request.app)
    data = await _body(request, ingest)
    posted = detect(data)
    if posted is Posted.JSON:
        return RedirectResponse(SLA_DISCHARGES, status_code=status.HTTP_307_TEMPORARY_REDIRECT)
    if posted is Posted.VANS:
        return await _envelope(request, org, data, source=f"hospital:{org.name}")
    if posted is not Posted.EDIFACT:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                            "a discharge event is DIS17 EDIFACT or JSON")
    return await _letter(request, org, data, posted, ingest)
