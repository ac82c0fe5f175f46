"""The endpoints page: each partner of the partner file, how it is reached, what it accepts.

Read only: the partner file is configuration as code (gateway.registry), changed in git and
reloaded, never edited here. Channel options are shown from a list of harmless ones
(``SHOWN_OPTIONS``); headers, tokens and the names of secret variables are not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from gateway.console.auth import Visit, visit
from gateway.console.pages import render

router = APIRouter()

SHOWN_OPTIONS = ("url", "directory", "inbox", "outbox", "timeout", "poll_interval")


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


@router.get("/endpoints")
def endpoints_page(request: Request, v: Annotated[Visit, Depends(visit)]) -> Response:
    registry = getattr(request.app.state.hub, "registry", None)
    return render(request, "endpoints.html", v, endpoints=endpoint_rows(registry))
