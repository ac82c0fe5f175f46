"""The API's guard against key guessing: failed authentications are logged and throttled.

An ASGI middleware around the whole app, so every router's authentication is covered (an
``X-API-Key``, a personal token, a console session: whatever answers 401). For each client
address it keeps the failure history and asks the pure policy (gateway/api/throttle.py)
before a request: go on, wait first, or ``429`` with ``Retry-After``. After the answer, a 401 is
one more failure (logged as ``auth_failed`` with the key masked: a short SHA-256 prefix, which
an operator can match against the partner file's ``api_key_sha256``); a success with
credentials forgets the client's failures.

The client address is uvicorn's (behind a reverse proxy, run ``medbro api`` with the proxy in
``--forwarded-allow-ips`` so it is the caller's, not the proxy's). Histories are per process
and bounded (``max_clients``, oldest forgotten first), so memory stays bounded whatever the
number of addresses.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from gateway.api.throttle import Failures, ThrottlePolicy, after_failure, verdict
from gateway.logging import get_logger

log = get_logger(__name__)

CREDENTIAL_HEADERS = (b"x-api-key", b"authorization", b"cookie")


def masked_key(value: str | None) -> str:
    """``sha256:<12 hex>`` of a secret (its hash, never the secret), or ``none``."""
    if not value:
        return "none"
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:12]


class AuthGuard:
    """ASGI middleware: throttle clients by their failed authentications (see module doc)."""

    def __init__(self, app: Any, *, policy: ThrottlePolicy | None = None,
                 clock: Callable[[], float] = time.monotonic, max_clients: int = 10_000) -> None:
        self.app = app
        self.policy = policy or ThrottlePolicy()
        self.clock = clock
        self.max_clients = max_clients
        self.failures: OrderedDict[str, Failures] = OrderedDict()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        decided = verdict(self.failures.get(client), self.clock(), self.policy)
        if decided.refused:
            log.warning("auth_throttled", client=client, path=scope.get("path", ""),
                        retry_after=decided.retry_after)
            await _too_many(send, decided.retry_after)
            return
        if decided.delay:
            await asyncio.sleep(decided.delay)
        status = 0

        async def watch(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, watch)
        headers = dict(scope.get("headers") or ())
        if status == 401:
            self._failed(client, scope, headers)
        elif 200 <= status < 400 and any(h in headers for h in CREDENTIAL_HEADERS):
            self.failures.pop(client, None)

    def _failed(self, client: str, scope: dict[str, Any], headers: dict[bytes, bytes]) -> None:
        now = self.clock()
        failures = after_failure(self.failures.pop(client, None), now, self.policy)
        self.failures[client] = failures  # most recent last
        while len(self.failures) > self.max_clients:
            self.failures.popitem(last=False)
        key = headers.get(b"x-api-key")
        bearer = headers.get(b"authorization", b"").partition(b" ")[2]
        log.warning(
            "auth_failed", client=client, method=scope.get("method", ""),
            path=scope.get("path", ""),
            key=masked_key(key.decode("latin-1") if key else None),
            token=masked_key(bearer.decode("latin-1")) if bearer else "none",
            failures=failures.count,
            locked_for=max(0, round(failures.locked_until - now)),
        )


async def _too_many(send: Any, retry_after: int) -> None:
    body = json.dumps({"detail": "too many failed authentications from this address; try "
                                 f"again in {retry_after} s", "errors": []}).encode()
    await send({"type": "http.response.start", "status": 429, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(retry_after).encode())]})
    await send({"type": "http.response.body", "body": body})
