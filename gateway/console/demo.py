"""The console on ``medbro demo``'s data: a demo person, and ``medbro demo --serve``.

The demo's partner file has one organisation (``DEMO_ORGANISATION``, a region: it sees every
message) and the demo adds one person to it, an admin, so the whole console can be tried:
the parked letter to the unknown GP, the delivered and acknowledged letters, their SLA clocks,
the rehabilitation case. ``serve`` runs the API (console included) and a worker on the demo's
SQLite store and in-process transport until Ctrl-C.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

DEMO_ORGANISATION = "Region Hovedstaden (demo)"
DEMO_PERSON = ("demo", "medbro-demo")  # name, password: printed by the demo, demo data only


def organisation_toml(gln: str) -> str:
    """The demo partner file's ``[[organisations]]`` entry."""
    return (f'[[organisations]]\nname = "{DEMO_ORGANISATION}"\nkind = "region"\n'
            f'glns = ["{gln}"]\n\n')


def add_demo_person(hub: Any) -> tuple[str, str]:
    """The demo's admin person (an operations-layer person, argon2 as any other)."""
    from gateway.operations import persons

    name, password = DEMO_PERSON
    with hub.store.transaction() as session:
        persons.add(session, name, role="admin", organisations=[DEMO_ORGANISATION],
                    password=password, now=datetime.now(UTC))
    return name, password


def console_address(host: str, port: int) -> str:
    return f"http://{host}:{port}/console/"


async def serve(settings: Any, *, host: str, port: int) -> None:
    """The API with the console and a worker on the demo's store, until cancelled."""
    import uvicorn

    from gateway.api.app import create_app
    from gateway.caseflow.config import CaseflowConfig, caseflow_for_hub
    from gateway.caseflow.demo import COORDINATORS, DEMO_ADDRESS_BOOK
    from gateway.pipeline.hub import Hub

    hub = Hub.from_settings(settings)
    await hub.start()
    app = create_app(hub, manage_hub=False)
    app.state.caseflow = caseflow_for_hub(hub, CaseflowConfig(DEMO_ADDRESS_BOOK, COORDINATORS,
                                                              {}))
    stop = asyncio.Event()
    worker = asyncio.create_task(hub.run_worker(stop))
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    try:
        await server.serve()
    finally:
        stop.set()
        await asyncio.gather(worker, return_exceptions=True)
        await hub.stop()
