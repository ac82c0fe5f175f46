"""The endpoints page: each partner's health, how it is reached and what it accepts.

Health is the operations layer's ``GET /v1/endpoints`` (gateway.operations.endpoints.health:
queue depth, age of the oldest queued message, last delivery, failing since, parked), read from
the store. Configuration is read only: the partner file is configuration as code
(gateway.registry), changed in git and reloaded, never edited here. Channel options are shown
from a list of harmless ones (``SHOWN_OPTIONS``); headers, tokens and the names of secret
variables are not. A person sees the endpoints their organisations' GLNs are (all of them in a
region or operator organisation), as the API shows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from gateway.api.operations_auth import now_of
from gateway.console.auth import Visit, require, visit
from gateway.console.pages import render
from gateway.operations import endpoints
from gateway.operations.roles import Permission

router = APIRouter()

SHOWN_OPTIONS = ("url", "directory", "inbox", "outbox", "timeout", "poll_interval")
BACKED_UP_SECONDS = 15 * 60  # queued longer than this: backed up (the overview lists it)


@dataclass(frozen=True)
class EndpointRow:
    gln: str
    name: str
    kind: str
    channel: str
    options: tuple[tuple[str, str], ...]
    accepts: str
    deliver_as: str


def endpoint_rows(registry: Any) -> list[EndpointRow]:
    """The partner file's endpoints by name, with only the options safe to show."""
    rows = []
    for ep in registry.endpoints if registry is not None else ():
        options = tuple((k, str(ep.channel.get(k))) for k in SHOWN_OPTIONS
                        if ep.channel.get(k) not in (None, ""))
        accepts = ", ".join(
            a.type + (f" ({'/'.join(a.versions)})" if a.versions else "") for a in ep.accepts)
        rows.append(EndpointRow(ep.gln, ep.name, ep.kind, ep.channel.kind, options, accepts,
                                ep.deliver_as))
    return sorted(rows, key=lambda r: (r.name.casefold(), r.gln))


def troubled(item: dict[str, Any], backlog_seconds: float = BACKED_UP_SECONDS) -> bool:
    """Failing, or backed up: something queued for longer than ``backlog_seconds``, or parked."""
    age = item.get("oldest_age_seconds") or 0
    return bool(item.get("failing_since") or item.get("parked") or age > backlog_seconds)


def health(request: Request, v: Visit) -> dict[str, dict[str, Any]]:
    """``GET /v1/endpoints``' rows by GLN, for the endpoints this person may see."""
    hub = request.app.state.hub
    with hub.store.transaction() as session:
        rows = endpoints.health(session, hub.registry, now_of(request), v.user.principal.glns)
    return {row["gln"]: row for row in rows}


@router.get("/endpoints")
def endpoints_page(request: Request, v: Annotated[Visit, Depends(visit)]) -> Response:
    require(v.user, Permission.READ)
    found = health(request, v)
    rows = [r for r in endpoint_rows(request.app.state.hub.registry) if r.gln in found]
    return render(request, "endpoints.html", v, endpoints=rows, health=found,
                  troubled={gln for gln, item in found.items() if troubled(item)})
