"""The HTTP API: a FastAPI app around one ``Hub``, its routers loaded as plugins.

Every router named in the ``medbro.routers`` entry point group is mounted, so adapters add
endpoints without ``gateway`` importing them; the ``medbro.envelopes`` plugins (body formats
besides EDIFACT on ``POST /v1/messages``) are loaded here too and closed on shutdown. A router
that fails to load (its module missing, a bug, a missing dependency) stops startup with a
``ConfigError`` naming it: an API silently missing a route is worse than one that does not start.

Bad input is never a server error: a ``RemoteMessageError`` (the sender's fault: a codec,
conversion, envelope or DOCTYPE refusal) that reaches the app unanswered by its route is
``400`` with the reason. Routes that store what they refuse answer it themselves (422 with the
receipt); this is the answer for input refused before anything could be stored.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from importlib.metadata import EntryPoint
from typing import Any

from fastapi import APIRouter, FastAPI, Request, status
from fastapi.responses import JSONResponse

from gateway import plugins
from gateway.api.auth_guard import AuthGuard
from gateway.api.body_limit import BodyLimit
from gateway.api.throttle import ThrottlePolicy
from gateway.errors import ConfigError, RemoteMessageError
from gateway.logging import get_logger

log = get_logger(__name__)

ROUTER_GROUP = "medbro.routers"


def load_routers(
    entry_points: Mapping[str, EntryPoint] | None = None,
) -> list[tuple[str, APIRouter]]:
    """The routers of ``medbro.routers`` by name; see the module docstring for failures."""
    if entry_points is None:
        entry_points = plugins.available(ROUTER_GROUP)
    routers = []
    for name, ep in sorted(entry_points.items()):
        try:
            router = ep.load()
        except Exception as exc:
            raise ConfigError(f"API router plugin {name!r} ({ep.value}) failed: {exc!r}") from exc
        if not isinstance(router, APIRouter):
            raise ConfigError(f"API router plugin {name!r} ({ep.value}) is not an APIRouter")
        routers.append((name, router))
    return routers


async def refused_input(request: Request, exc: Exception) -> JSONResponse:
    """A ``RemoteMessageError`` no route answered: 400, naming what is wrong (never a 5xx)."""
    log.info("api_input_refused", path=request.url.path, error=str(exc),
             error_type=type(exc).__name__)
    return JSONResponse({"detail": str(exc), "errors": [],  # the Problem shape (responses.py)
                         "refusal": str(getattr(exc, "receipt_hint", "SYN"))},
                        status_code=status.HTTP_400_BAD_REQUEST)


def create_app(hub: Any, *, manage_hub: bool = True,
               auth_policy: ThrottlePolicy | None = None,
               auth_clock: Callable[[], float] = time.monotonic) -> FastAPI:
    """The API app for ``hub``; with ``manage_hub`` the app starts and stops it (lifespan).
    ``auth_policy`` (on ``auth_clock``): how clients that fail to authenticate are slowed
    and refused (gateway/api/throttle.py)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if manage_hub:
            await hub.start()
        try:
            yield
        finally:
            walks = getattr(app.state, "bulk_walks", None)
            if walks:  # bulk acts this process walks: marked interrupted, not left running
                from gateway.operations.bulk import interrupt

                await interrupt(list(walks))
            for _name, handler in envelope_handlers():
                close = getattr(handler, "close", None)
                if callable(close):
                    close(app)  # e.g. the VANS plugin's store of seen envelopes
            if manage_hub:
                await hub.stop()

    from gateway.api import responses
    from gateway.api.health import router as health_router
    from gateway.api.messages import envelope_handlers

    app = FastAPI(
        title="medbro",
        summary="MedCom message hub: ingest, route, deliver and follow receipts",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.hub = hub
    app.add_exception_handler(RemoteMessageError, refused_input)
    responses.install(app)  # every error answered as the one Problem shape the schema declares
    app.add_middleware(BodyLimit)  # bodies refused (413) while they stream in, chunked too
    # failed authentications: logged (key masked), slowed, then refused with 429 (outermost)
    app.add_middleware(AuthGuard, policy=auth_policy, clock=auth_clock)
    app.include_router(health_router)
    mounted = []
    for name, router in load_routers():
        app.include_router(router)
        mounted.append(name)
    app.state.routers = tuple(mounted)
    # Loaded now so that a broken envelope plugin stops startup instead of a request.
    app.state.envelopes = tuple(name for name, _ in envelope_handlers())
    log.info("api_created", routers=mounted, envelopes=list(app.state.envelopes))
    return app
