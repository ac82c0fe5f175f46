"""Operations fixtures: a real hub (store + broker) behind the API, persons of each role,
organisations of each kind, a channel that can be switched off, letters rendered by the codec
(no sample corpus needed)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import pytest
from databases import fresh_postgres_database

from gateway.api.app import create_app
from gateway.channels import Delivery, DeliveryResult, TransientDeliveryError
from gateway.demo import discharge_letter
from gateway.operations import persons
from gateway.pipeline import Hub
from gateway.registry import Endpoint, Registry, hash_api_key
from gateway.settings import Settings

HOSPITAL = "5790000120420"
GP = "5790000128686"
OTHER_GP = "5790000121526"
NEW_GP = "5790000181872"  # not configured until a reload adds it
PATIENT = ("0108584947", "Jensen", "Anne")
PASSWORD = "correct horse battery"

KEYS = {"hospital": "hospital-key", "gp": "gp-key", "other": "other-gp-key", "ops": "ops-key",
        "region": "region-key"}


def endpoint(gln: str, name: str, kind: str, accepts: list[dict]) -> dict:
    return {"gln": gln, "name": name, "kind": kind, "accepts": accepts,
            "channel": {"kind": "recording"}}


PARTNERS = {
    "endpoints": [
        endpoint(HOSPITAL, "Hillerød Hospital", "hospital", [{"type": "DIS91"}]),
        endpoint(GP, "Lægehuset", "gp", [{"type": "DIS01"}]),
        endpoint(OTHER_GP, "Lægerne i Odense", "gp", [{"type": "DIS01"}]),
    ],
    "organisations": [
        {"name": "Hillerød", "kind": "hospital", "glns": [HOSPITAL], "hospitals": ["1301"],
         "api_key_sha256": [hash_api_key(KEYS["hospital"])]},
        {"name": "Lægehuset", "kind": "gp", "glns": [GP],
         "api_key_sha256": [hash_api_key(KEYS["gp"])]},
        {"name": "Odense", "kind": "gp", "glns": [OTHER_GP],
         "api_key_sha256": [hash_api_key(KEYS["other"])]},
        {"name": "Drift", "kind": "operator",
         "api_key_sha256": [hash_api_key(KEYS["ops"])]},
    ],
}


def letter(seq: int, *, receiver: str = GP, sender: str = HOSPITAL,
           patient: tuple[str, str, str] = PATIENT) -> bytes:
    return discharge_letter(seq, sender=sender, receiver=receiver, patient=patient,
                            prepared_at=datetime(2026, 12, 1, 9, 0), ack_requested=False)


@dataclass
class SwitchableChannel:
    """Records deliveries per endpoint; an endpoint in ``down`` fails (transiently)."""

    delivered: dict[str, list[Delivery]] = field(default_factory=dict)
    down: set[str] = field(default_factory=set)

    async def deliver(self, endpoint: Endpoint, delivery: Delivery) -> DeliveryResult:
        if endpoint.gln in self.down:
            raise TransientDeliveryError(f"{endpoint.gln} is down")
        self.delivered.setdefault(endpoint.gln, []).append(delivery)
        return DeliveryResult(external_ref=f"rec:{endpoint.gln}:{delivery.control_ref}")

    def count(self, gln: str) -> int:
        return len(self.delivered.get(gln, []))


async def eventually(check: Callable[[], object], timeout: float = 20.0) -> None:
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


@dataclass
class Ops:
    """A started hub, its API client, and helpers to log in as persons of each role."""

    hub: Hub
    client: httpx.AsyncClient
    channel: SwitchableChannel
    app: object

    def add_person(self, name: str, role: str, organisations: list[str]) -> None:
        with self.hub.store.transaction() as session:
            persons.add(session, name, role=role, organisations=organisations,
                        password=PASSWORD, now=datetime.now(UTC))

    async def login(self, name: str) -> httpx.AsyncClient:
        """A client of its own holding ``name``'s session cookie and CSRF header."""
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app),
                                   base_url="http://medbro.test")
        r = await client.post("/v1/session", json={"name": name, "password": PASSWORD})
        assert r.status_code == 200, r.text
        client.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        return client

    async def ingest(self, data: bytes) -> str:
        result = await self.hub.ingest(data, received_via="test", source="test")
        assert result.message_ids, result
        return result.message_ids[0]

    def state(self, message_id: str) -> str:
        view = self.hub.message_view(message_id)
        assert view is not None
        return view["state"]


def settings_for(database_url: str, broker_url: str, prefix: str, **overrides) -> Settings:
    return Settings.load(**{
        "database_url": database_url, "broker_url": broker_url, "broker_prefix": prefix,
        "retry_delays_seconds": (0.2, 0.4), "max_delivery_attempts": 2,
        "scan_interval_seconds": 0.2, **overrides})


@contextlib.asynccontextmanager
async def ops_hub(database_url: str, broker_url: str, prefix: str, *,
                  partners: dict | None = None, **overrides) -> AsyncIterator[Ops]:
    channel = SwitchableChannel()
    settings = settings_for(database_url, broker_url, prefix, **overrides)
    hub = Hub(settings, Registry.from_dict(partners or PARTNERS),
              channel_factory=lambda ep: channel)
    await hub.start()
    app = create_app(hub, manage_hub=False)
    app.state.bulk_rate = 500.0
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                               base_url="http://medbro.test")
    try:
        yield Ops(hub, client, channel, app)
    finally:
        await client.aclose()
        with contextlib.suppress(Exception):
            await hub.transport.delete(hub.topology)
        await hub.stop()


@contextlib.asynccontextmanager
async def working(hub: Hub) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(hub.run_worker(stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


@pytest.fixture
async def ops(tmp_path, broker_prefix) -> AsyncIterator[Ops]:
    """SQLite and the in-process broker: the API's decisions (integration: test_integration)."""
    async with ops_hub(f"sqlite:///{tmp_path / 'ops.db'}", "memory://", broker_prefix) as o:
        yield o


@pytest.fixture
def pg_url():
    yield from fresh_postgres_database("medbro_ops")
