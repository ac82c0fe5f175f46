"""A case service on a migrated database (SQLite and PostgreSQL), and its outbox: the
in-memory twin, or the real pipeline (a Hub on RabbitMQ and PostgreSQL whose worker delivers
every document to a recording channel; at teardown every sent document must have arrived)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import pytest

from gateway.caseflow.outbox import HubOutbox, MemoryOutbox, OutgoingDocument, letter_for
from gateway.caseflow.service import CaseService
from gateway.channels import Delivery, DeliveryResult
from gateway.db import create_engine, session_factory
from gateway.migrations import upgrade
from gateway.model import Letter
from gateway.registry import Endpoint, Registry

COORDINATORS = {"hovedstaden": ("987654321098", "Sundhedskoordinator Region H")}
MUNICIPALITY, GP = "5790000000101", "5790000291714"
COORDINATOR, CLINIC = "5790000987654", "5790000123456"
ADDRESS_BOOK = {("KOM", "101"): MUNICIPALITY, ("YNR", "291714"): GP,
                ("SOR", "987654321098"): COORDINATOR, ("SOR", "123456789012"): CLINIC}
PARTNERS = {"endpoints": [
    {"gln": gln, "name": name, "kind": kind, "accepts": [{"type": "DIS91"}],
     "channel": {"kind": "recording"}}
    for gln, name, kind in ((MUNICIPALITY, "Københavns Kommune", "municipality"),
                            (GP, "Lægehuset", "gp"),
                            (COORDINATOR, "Sundhedskoordinator", "region"),
                            (CLINIC, "Klinisk funktion", "region"))]}


@dataclass
class Recorder:
    """A channel that records what the Hub's worker delivered, per receiver GLN."""

    delivered: dict[str, list[bytes]] = field(default_factory=dict)

    async def deliver(self, endpoint: Endpoint, delivery: Delivery) -> DeliveryResult:
        self.delivered.setdefault(endpoint.gln, []).append(delivery.payload)
        return DeliveryResult(external_ref=f"rec:{delivery.control_ref}")

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.delivered.values())


class RecordingHubOutbox(HubOutbox):
    """The real HubOutbox, remembering what it handed over (the same shape as MemoryOutbox)."""

    def __init__(self, hub, address_book) -> None:  # type: ignore[no-untyped-def]
        super().__init__(hub, address_book)
        self.sent: list[tuple[OutgoingDocument, Letter]] = []

    async def send(self, doc: OutgoingDocument) -> str:
        message_id = await super().send(doc)
        self.sent.append((doc, letter_for(doc)))
        return message_id


@pytest.fixture
def service(database_url: str) -> Iterator[CaseService]:
    upgrade(database_url)
    engine = create_engine(database_url)
    # PostgreSQL: the session database is shared by the tests; cases use unique refs.
    yield CaseService(session_factory(engine), coordinators=COORDINATORS)
    engine.dispose()


@pytest.fixture(params=["memory", pytest.param("hub", marks=[pytest.mark.rabbitmq,
                                                              pytest.mark.postgres])])
async def outbox(request: pytest.FixtureRequest) -> AsyncIterator[object]:
    if request.param == "memory":
        yield MemoryOutbox()
        return
    from gateway.edifact import parse
    from gateway.pipeline import Hub
    from gateway.settings import Settings

    settings = Settings.load(database_url=request.getfixturevalue("postgres_url"),
                             broker_url=request.getfixturevalue("amqp_url"),
                             broker_prefix=request.getfixturevalue("broker_prefix"))
    recorder = Recorder()
    hub = Hub(settings, Registry.from_dict(PARTNERS), channel_factory=lambda ep: recorder)
    await hub.start()
    stop = asyncio.Event()
    worker = asyncio.create_task(hub.run_worker(stop))
    box = RecordingHubOutbox(hub, ADDRESS_BOOK)
    try:
        yield box
        for _ in range(300):  # every document handed over must reach its receiver
            if recorder.count >= len(box.sent):
                break
            await asyncio.sleep(0.05)
        assert recorder.count == len(box.sent)
        arrived = [parse(p).messages[0].letter for v in recorder.delivered.values() for p in v]
        assert sorted(arrived, key=lambda x: x.ref) == sorted(
            (letter for _, letter in box.sent), key=lambda x: x.ref)
    finally:
        stop.set()
        await asyncio.wait_for(worker, 30)
        with contextlib.suppress(Exception):
            await hub.transport.delete(hub.topology)
        await hub.stop()
