"""VANSEnvelopes posted over HTTP: one answer for every route that takes them.

``handle(request, org, data)`` is what a FastAPI route calls with a body for which
``accepts(data)`` is true: it checks that the organisation (``X-API-Key``, gateway/api) may send
as the envelope's SenderID, runs ``VansIngest`` (reliable mode, then ``hub.ingest``), and
answers with the VANS receipt (``200 application/xml``; the same receipt again for a duplicate)
or, for an unreliable envelope, ``202`` JSON in the shape of ``/v1/messages``. A body that is
not a readable envelope is ``400`` with the reason; a foreign SenderID is ``403``, and nothing is
remembered or stored for either.

The hospital router uses it; ``/v1/messages`` can use it through a plugin (see docs/adapters.md).
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request, status
from fastapi.responses import JSONResponse, Response

from adapters.vans.envelope import VansEnvelopeError, is_vans_envelope, parse
from adapters.vans.ingest import VansIngest
from adapters.vans.intake import intake  # noqa: F401 - mailbox hook, gateway/envelopes.py
from gateway.api.answers import answer, result_json, status_for
from gateway.logging import get_logger

log = get_logger(__name__)

RECEIVED_VIA = "vans-http"


def accepts(data: bytes) -> bool:
    return is_vans_envelope(data)


def vans_ingest_for(app: Any) -> VansIngest:
    """The app's ``VansIngest`` around ``app.state.hub``, made on first use."""
    existing = getattr(app.state, "vans_ingest", None)
    if existing is None:
        existing = VansIngest.for_hub(app.state.hub, received_via=RECEIVED_VIA)
        app.state.vans_ingest = existing
    return existing


async def handle(request: Request, org: Any, data: bytes, *, source: str = "") -> Response:
    glns = frozenset(org.glns)
    try:
        parse(data, check_size=False)
    except VansEnvelopeError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from exc
    received = await vans_ingest_for(request.app).receive(
        data, source=source or f"api:{org.name}", glns=glns)
    headers = {"X-Medbro-Duplicate-Case": received.case.value}
    detail = received.outcome.detail if received.outcome else None
    if detail is not None and getattr(detail, "message_ids", None):
        headers["X-Medbro-Message-Ids"] = ",".join(detail.message_ids)
    if detail is not None and status_for(detail) == status.HTTP_403_FORBIDDEN:
        # decided by the core like on every route: stored and rejected, answered 403
        log.warning("vans_sender_forbidden", organisation=org.name)
        forbidden = answer(detail)
        forbidden.headers.update(headers)
        return forbidden
    if received.receipt:
        return Response(received.receipt, media_type="application/xml", headers=headers)
    body: dict[str, Any] = {"case": received.case.value}
    if detail is not None:
        body.update(result_json(detail))
    return JSONResponse(body, status_code=status.HTTP_202_ACCEPTED, headers=headers)


def close(app: Any) -> None:
    """Release the app's VANS store (tests, shutdown)."""
    existing = getattr(app.state, "vans_ingest", None)
    if existing is not None:
        existing.close()
        app.state.vans_ingest = None
