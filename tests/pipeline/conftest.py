"""Pipeline fixtures: a hub on a chosen database and broker, a recording channel, letters.

``pipeline_hub`` runs on SQLite and PostgreSQL (``database_url``) and on the in-process and the
RabbitMQ transport (``broker``); each test gets its own broker prefix and deletes what it
declared.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field

import pytest
from databases import fresh_postgres_database

from gateway.channels import (
    Delivery,
    DeliveryResult,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from gateway.pipeline import Hub
from gateway.registry import Endpoint, Registry
from gateway.settings import Settings

HOSPITAL = "5790000120420"
GP = "5790000128686"
MEDBRO_LOCAL = "5790000100002"
UNKNOWN = "5790009999994"

PARTNERS = {
    "endpoints": [
        {"gln": HOSPITAL, "name": "Hillerød Hospital", "kind": "hospital",
         "accepts": [{"type": "DIS91"}], "channel": {"kind": "recording"}},
        {"gln": GP, "name": "Lægehuset", "kind": "gp",
         "accepts": [{"type": "DIS01", "versions": ["D0133L"]}],
         "channel": {"kind": "recording"}},
        {"gln": MEDBRO_LOCAL, "name": "medbro itself", "kind": "region",
         "accepts": [{"type": "DIS01"}], "channel": {"kind": "local"}},
    ],
}


@dataclass
class RecordingChannel:
    """A test channel: records deliveries per endpoint; can fail on demand."""

    delivered: dict[str, list[Delivery]] = field(default_factory=dict)
    transient_failures: dict[str, int] = field(default_factory=dict)
    permanent: set[str] = field(default_factory=set)
    calls: int = 0

    async def deliver(self, endpoint: Endpoint, delivery: Delivery) -> DeliveryResult:
        self.calls += 1
        if endpoint.gln in self.permanent:
            raise PermanentDeliveryError(f"{endpoint.gln} refuses everything")
        if self.transient_failures.get(endpoint.gln, 0) > 0:
            self.transient_failures[endpoint.gln] -= 1
            raise TransientDeliveryError(f"{endpoint.gln} is down")
        self.delivered.setdefault(endpoint.gln, []).append(delivery)
        return DeliveryResult(external_ref=f"rec:{endpoint.gln}:{delivery.control_ref}")

    def payloads(self, gln: str) -> list[bytes]:
        return [d.payload for d in self.delivered.get(gln, [])]


def letter(control_ref: str, *, sender: str = HOSPITAL, receiver: str = GP, ack: bool = False,
           version: str = "D0133L") -> bytes:
    """A real MedCom DIS01 (the corpus sample) re-addressed, with its own UNB reference."""
    from tests.conftest import sample_bytes

    data = sample_bytes("edifact_DIS01_1.edi")
    data = data.replace(b"KuvertNr012234", control_ref.encode())
    data = data.replace(b"+5790000120420:14+5790000128686:14+",
                        f"+{sender}:14+{receiver}:14+".encode())
    data = data.replace(b"++++0'", b"++++1'" if ack else b"++++0'")
    return data.replace(b"D0133L", version.encode())


def receipt_for(original: bytes) -> bytes:
    """The CTL03 the receiving GP system sends back for ``original`` (asked for a receipt)."""
    from datetime import datetime

    from gateway.edifact.receipts import receipt_owed

    out = receipt_owed(original, now=datetime(2026, 3, 2, 10, 0))
    assert out is not None, "the original did not ask for a receipt"
    return out


async def eventually(check: Callable[[], object], timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            if check():
                return
        except AssertionError:
            if loop.time() > deadline:
                raise
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


@pytest.fixture(params=["memory", pytest.param("rabbitmq", marks=pytest.mark.rabbitmq)])
def broker(request: pytest.FixtureRequest) -> str:
    if request.param == "memory":
        return "memory://"
    return request.getfixturevalue("amqp_url")


@pytest.fixture
def channel() -> RecordingChannel:
    return RecordingChannel()


@dataclass
class HubFactory:
    database_url: str
    broker_url: str
    prefix: str
    channel: RecordingChannel
    hubs: list[Hub] = field(default_factory=list)

    async def __call__(self, **overrides: object) -> Hub:
        settings = Settings.load(**{
            "database_url": self.database_url, "broker_url": self.broker_url,
            "broker_prefix": self.prefix, "retry_delays_seconds": (0.2, 0.5),
            "scan_interval_seconds": 0.1, **overrides})
        hub = Hub(settings, Registry.from_dict(PARTNERS),
                  channel_factory=lambda endpoint: self.channel)
        await hub.start()
        self.hubs.append(hub)
        return hub


@pytest.fixture
def fresh_db(database_url: str) -> Iterator[str]:
    """``database_url``, but a fresh PostgreSQL database per test: the scanner looks at every
    message in the store, so tests must not see each other's messages."""
    if not database_url.startswith("postgresql"):
        yield database_url
        return
    yield from fresh_postgres_database("medbro_pipe")


@pytest.fixture
def pipeline_db(fresh_db: str, samples_dir: object) -> str:
    """``fresh_db`` for tests that send MedCom's own DIS01 (they skip cleanly without the
    sample corpus)."""
    return fresh_db


@pytest.fixture
async def client(hub: Hub) -> AsyncIterator[object]:
    """An HTTP client on the real app over the module's ``hub`` fixture (in-process ASGI)."""
    import httpx

    from gateway.api.app import create_app
    from gateway.api.messages import envelope_handlers

    app = create_app(hub, manage_hub=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://medbro.test") as c:
        yield c
    for _name, handler in envelope_handlers():
        with contextlib.suppress(AttributeError):
            handler.close(app)


@pytest.fixture
async def make_hub(pipeline_db: str, broker: str, broker_prefix: str,
                   channel: RecordingChannel) -> AsyncIterator[HubFactory]:
    factory = HubFactory(pipeline_db, broker, broker_prefix, channel)
    try:
        yield factory
    finally:
        for hub in factory.hubs:
            with contextlib.suppress(Exception):
                await hub.transport.delete(hub.topology)
            await hub.stop()


@contextlib.asynccontextmanager
async def running(hub: Hub) -> AsyncIterator[asyncio.Event]:
    """Run the hub's worker in the background for the block."""
    stop = asyncio.Event()
    task = asyncio.create_task(hub.run_worker(stop))
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
