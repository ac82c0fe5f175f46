"""``/metrics`` for the processes without an HTTP API (``medbro worker``, ``mailbox-watch``).

A minimal asyncio HTTP/1.0 server on its own port: ``GET /metrics`` answers
``gateway.metrics.render()`` (so the scrape hooks read the store-derived gauges first, in a
thread: they are database queries), anything else 404 or 405. Bound to 127.0.0.1 unless
``MEDBRO_METRICS_HOST`` says otherwise: Prometheus on the same host, or a container network.
prometheus_client's own server would skip the scrape hooks (it renders the registry as it is).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from gateway import metrics
from gateway.errors import ConfigError
from gateway.logging import get_logger

log = get_logger(__name__)

MAX_HEAD = 8192  # a scrape request is a few hundred bytes
READ_SECONDS = 10.0


def _response(status: str, body: bytes, content_type: str = "text/plain; charset=utf-8"
              ) -> bytes:
    head = (f"HTTP/1.0 {status}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    return head.encode("ascii") + body


async def _answer(reader: asyncio.StreamReader) -> bytes:
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_SECONDS)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
        return _response("400 Bad Request", b"bad request\n")
    method, _, rest = head.split(b"\r\n", 1)[0].decode("latin-1").partition(" ")
    path = rest.split(" ", 1)[0].split("?", 1)[0]
    if path != "/metrics":
        return _response("404 Not Found", b"only /metrics here\n")
    if method not in ("GET", "HEAD"):
        return _response("405 Method Not Allowed", b"GET /metrics\n")
    body, content_type = await asyncio.to_thread(metrics.render)
    answer = _response("200 OK", body, content_type)
    return answer if method == "GET" else answer[: answer.index(b"\r\n\r\n") + 4]


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        writer.write(await _answer(reader))
        await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def serve(host: str, port: int) -> asyncio.Server:
    """Listen on ``host:port`` until the returned server is closed; a port that cannot be
    bound is a ConfigError naming it (one line, exit 2: gateway/cli.py)."""
    try:
        server = await asyncio.start_server(_handle, host, port, limit=MAX_HEAD)
    except OSError as exc:
        raise ConfigError(f"--metrics-port/MEDBRO_METRICS_PORT: cannot listen on {host}:{port}: "
                          f"{exc.strerror or exc}") from None
    log.info("metrics_serving", host=host, port=port)
    return server


@contextlib.asynccontextmanager
async def serving(host: str, port: int | None) -> AsyncIterator[asyncio.Server | None]:
    """``/metrics`` on ``host:port`` for the duration of the block; 0 or None: no server."""
    if not port:
        yield None
        return
    server = await serve(host, port)
    try:
        yield server
    finally:
        server.close()


__all__ = ["serve", "serving"]
