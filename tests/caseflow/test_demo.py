"""The embedded demo's rehabilitation case: LÆ 261 to the recommendation at the GP, through a
real Hub (in-process transport, SQLite), every document delivered and readable."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime

from gateway.caseflow import demo_case
from gateway.caseflow.demo import CLINIC_GLN, COORDINATOR_GLN, DEMO_ENDPOINTS, GP_GLN
from gateway.channels import Delivery, DeliveryResult
from gateway.edifact import parse
from gateway.forms import Lae261, from_edifact
from gateway.pipeline import Hub
from gateway.registry import Endpoint, Registry
from gateway.settings import Settings


@dataclass
class Recorder:
    delivered: dict[str, list[bytes]] = field(default_factory=dict)

    async def deliver(self, endpoint: Endpoint, delivery: Delivery) -> DeliveryResult:
        self.delivered.setdefault(endpoint.gln, []).append(delivery.payload)
        return DeliveryResult(external_ref=delivery.control_ref)


async def test_demo_case_reaches_the_gp(sqlite_url) -> None:
    endpoints = [dict(e, channel={"kind": "recording"}) for e in DEMO_ENDPOINTS]
    endpoints.append({"gln": GP_GLN, "name": "Lægehuset", "kind": "gp",
                      "accepts": [{"type": "DIS91"}], "channel": {"kind": "recording"}})
    recorder = Recorder()
    hub = Hub(Settings.load(database_url=sqlite_url, broker_url="memory://",
                            scan_interval_seconds=0.2),
              Registry.from_dict({"endpoints": endpoints}), channel_factory=lambda ep: recorder)
    await hub.start()
    stop = asyncio.Event()
    worker = asyncio.create_task(hub.run_worker(stop))
    printed: list[str] = []
    try:
        lines = await demo_case(hub, datetime(2026, 3, 2, 9, 0), echo=printed.append)
        for _ in range(200):
            if sum(map(len, recorder.delivered.values())) >= 5:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(worker, 30)
        await hub.stop()
    assert lines == printed
    assert "REFUSED" not in "\n".join(lines)
    assert lines[0].endswith("case created, meeting scheduled -> created [coordinator_receipt "
                             "2026-03-30 pending]")  # meeting 16 April, over Easter
    assert lines[-1].endswith("case closed -> closed")
    assert sum(1 for line in lines if "routed as DIS91" in line) == 5
    gp = recorder.delivered[GP_GLN]
    assert isinstance(from_edifact(gp[0]), Lae261)
    assert "ressourceforløb" in parse(gp[-1]).messages[0].letter.texts[1].text
    assert len(recorder.delivered[COORDINATOR_GLN]) == 1
    assert len(recorder.delivered[CLINIC_GLN]) == 1
