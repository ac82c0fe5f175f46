"""How an ingest verdict is answered over HTTP: one mapping for every route that ingests.

``POST /v1/messages`` (EDIFACT and envelopes) and ``POST /v1/hospital/letters`` answer the
same verdict with the same status and the same body shape, so a client learns one contract:

* **202** stored and routed (or a duplicate of something routed);
* **403** the interchange's sender is not one of the caller's GLNs: stored and rejected
  (visible to operators), no receipt (it would go to the impersonated GLN);
* **422** stored but rejected or refused, with the error and the receipt MedCom requires.

A 403/422 body is the API's one problem shape (``detail``, ``errors``; gateway/api/
responses.py) with the result's fields beside it.
"""

from __future__ import annotations

from typing import Any

from fastapi import status
from fastapi.responses import JSONResponse

from gateway import wire_format

SENDER_NOT_AUTHORISED = "SENDER_NOT_AUTHORISED"
# A message in one of these states right after ingest will not be delivered as sent.
REFUSED_STATES = {"rejected", "parked"}


def status_for(result: Any) -> int:
    """The HTTP status of an ``IngestResult``."""
    if getattr(result, "code", None) == SENDER_NOT_AUTHORISED:
        return status.HTTP_403_FORBIDDEN
    if getattr(result, "error", None) or str(result.state) in REFUSED_STATES:
        return status.HTTP_422_UNPROCESSABLE_CONTENT
    return status.HTTP_202_ACCEPTED


def receipt_text(receipt: bytes) -> str:
    """A receipt as text: a CONTRL is ISO-8859-1 (UNOC), a FHIR Acknowledgement UTF-8."""
    if wire_format.sniff(receipt) == wire_format.FHIR:
        return receipt.decode("utf-8", errors="replace")
    return receipt.decode("latin-1")


def result_json(result: Any) -> dict[str, Any]:
    """An ``IngestResult`` as the JSON body every ingest route answers."""
    receipt = getattr(result, "receipt", None)
    state = str(result.state) if result.state is not None else None
    body: dict[str, Any] = {
        "message_ids": list(result.message_ids),
        "state": state,
        "duplicate": bool(getattr(result, "duplicate", False)),
        "receipt": receipt_text(receipt) if receipt is not None else None,
    }
    if status_for(result) != status.HTTP_202_ACCEPTED:
        body["error"] = getattr(result, "error", None) or (
            f"not routable: the message is {state}; the receipt says why")
        if getattr(result, "code", None):
            body["code"] = result.code
    return body


def answer(result: Any, *, problem: str = "") -> JSONResponse:
    """The HTTP answer of an ``IngestResult``; ``problem`` prefixes the error (e.g. why an
    OIOXML letter could not be converted)."""
    body = result_json(result)
    code = status_for(result)
    if code == status.HTTP_202_ACCEPTED:
        return JSONResponse(body, status_code=code)
    if problem:
        body["error"] = f"{problem} ({body['error']})"
    return JSONResponse({"detail": body["error"], "errors": [], **body}, status_code=code)
