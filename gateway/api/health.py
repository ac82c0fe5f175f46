"""Liveness and readiness: ``/healthz`` says the process serves, ``/readyz`` that it can work.

Readiness asks the two things a message needs: the database (a ``SELECT 1``) and the broker
(the depth of a queue the hub declared, which needs a live channel). A load balancer stops
sending traffic to an API that answers 503 here, instead of taking messages it cannot store.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from gateway.api.responses import answers, ok

router = APIRouter(tags=["health"])

CHECK_TIMEOUT = 5.0


@router.get("/healthz", summary="Liveness",
            responses=ok({"status": "ok"}, description="the process serves"))
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def _check(name: str, probe: Any) -> tuple[str, str]:
    try:
        await asyncio.wait_for(probe(), timeout=CHECK_TIMEOUT)
    except Exception as exc:  # noqa: BLE001 - the reason is the answer
        return name, f"failed: {exc!r}"[:300]
    return name, "ok"


async def _database(hub: Any) -> None:
    await asyncio.to_thread(hub.store.ping)


async def _broker(hub: Any) -> None:
    await hub.transport.queue_depth(hub.topology.parking_queue)


@router.get(
    "/readyz", summary="Readiness: broker and database reachable",
    responses=answers(
        ok({"status": "ready", "checks": {"database": "ok", "broker": "ok"}},
           description="the database and the broker answer"),
        ok({"status": "unavailable", "checks": {"database": "ok", "broker":
            "failed: ConnectionError('broker not connected')"}}, status=503,
           description="the database or the broker does not answer: send no traffic here"),
    ),
)
async def readyz(request: Request) -> JSONResponse:
    hub = request.app.state.hub
    results = dict(
        await asyncio.gather(
            _check("database", lambda: _database(hub)), _check("broker", lambda: _broker(hub))
        )
    )
    ready = all(v == "ok" for v in results.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": results},
        status_code=200 if ready else 503,
    )
