"""Request bodies are limited while they stream in, chunked bodies included.

``BodyLimit`` (ASGI middleware around the whole app) counts the bytes of a request body as the
app reads them and answers ``413`` the moment the count passes the limit, so no body is held
whole before it is judged, whatever its framing (Content-Length or chunked). The limit is
``DEFAULT_LIMIT`` unless the route set its own with ``read_body(request, limit)`` before
reading (the ingest routes: ``POST /v1/messages``, ``POST /v1/hospital/letters``), which also
refuses a declared Content-Length over the limit before reading a byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request, status

DEFAULT_LIMIT = 20 * 1024 * 1024  # a MEDBIN attachment can be large; JSON bodies are small
SCOPE_KEY = "medbro.body_budget"


def too_large(limit: int) -> HTTPException:
    return HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"body over {limit} bytes")


@dataclass
class Budget:
    """The bytes one request's body may still bring."""

    limit: int
    received: int = 0

    def take(self, size: int) -> None:
        self.received += size
        if self.received > self.limit:
            raise too_large(self.limit)


class BodyLimit:
    """ASGI middleware: refuse a body (413) as soon as it passes its limit while streaming."""

    def __init__(self, app: Any, *, limit: int = DEFAULT_LIMIT) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        budget = Budget(self.limit)
        scope[SCOPE_KEY] = budget

        async def counted() -> dict[str, Any]:
            message = await receive()
            if message["type"] == "http.request":
                budget.take(len(message.get("body", b"")))
            return message

        await self.app(scope, counted, send)


async def read_body(request: Request, limit: int) -> bytes:
    """The request's body, at most ``limit`` bytes (413 otherwise, before or while reading)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    budget = request.scope.get(SCOPE_KEY)
    if budget is not None:
        budget.limit = limit
    data = await request.body()
    if len(data) > limit:  # an app without the middleware (a test's bare app)
        raise too_large(limit)
    return data
