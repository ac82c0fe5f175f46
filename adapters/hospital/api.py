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
from gateway.api.messages import Organisation, result_json
from gateway.envelopes import envelope_handler_for
from gateway.logging import get_logger

log = get_logger(__name__)

router = APIRouter(prefix="/v1/hospital", tags=["hospital"])

SLA_DISCHARGES = "/v1/discharges"


async def _body(request: Request, ingest: HospitalIngest) -> bytes:
    data = await request.body()
    if not data:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "empty body")
    if len(data) > ingest.settings.max_body:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE,
                            f"body over {ingest.settings.max_body} bytes")
    return data


def _answer(result: Any, problem: str = "") -> JSONResponse:
    body = result_json(result)
    if problem and "error" in body:
        body["error"] = f"{problem} ({body['error']})"
    code = status.HTTP_422_UNPROCESSABLE_CONTENT if "error" in body else status.HTTP_202_ACCEPTED
    return JSONResponse(body, status_code=code)


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


@router.post(
    "/letters",
    summary="Push a letter as EDIFACT, OIOXML or VANSEnvelope",
    responses={
        200: {"description": "VANSEnvelope: the VANS receipt (application/xml)"},
        202: {"description": "stored and routed"},
        400: {"description": "a VANSEnvelope that cannot be read"},
        403: {"description": "sender is not one of the organisation's GLNs"},
        415: {"description": "neither EDIFACT, OIOXML nor VANSEnvelope"},
        422: {"description": "stored but refused (with the receipt and the reason)"},
    },
)
async def post_letter(request: Request, org: Organisation) -> Response:
    ingest = HospitalIngest.for_app(request.app)
    data = await _body(request, ingest)
    posted = detect(data)
    if posted not in (Posted.EDIFACT, Posted.OIOXML, Posted.VANS):
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                            "the body is neither EDIFACT (UNA/UNB), OIOXML nor a VANSEnvelope")
    return await _letter(request, org, data, posted, ingest)


@router.post(
    "/discharges",
    summary="Push a discharge event as DIS17 EDIFACT (or JSON, redirected to /v1/discharges)",
    responses={307: {"description": "JSON: use /v1/discharges (same method and body)"}},
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
