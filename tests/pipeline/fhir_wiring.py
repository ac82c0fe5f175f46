"""What the FHIR end-to-end tests share (test_wiring_fhir.py, test_wiring_fhir_conversion.py):
the parties, a started hub with its API client, and posting a Bundle in a reliable VANSEnvelope
as a municipality or GP would."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx

from adapters.vans import EndPoint, serialize, wrap
from gateway import fhir
from gateway.api.app import create_app
from gateway.api.messages import envelope_handlers
from gateway.channels import Channel
from gateway.pipeline import Hub
from gateway.registry import Registry
from gateway.settings import Settings
from tests.medcom_fhir import bundles

KOMMUNE, GP = bundles.MUNICIPALITY["gln"], bundles.GP["gln"]
KEYS = {KOMMUNE: "k-kommune", GP: "k-gp"}
NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)


@contextlib.asynccontextmanager
async def started_hub(settings: Settings, registry: Registry, channel: Channel,
                      **options: Any) -> AsyncIterator[Hub]:
    """A hub whose every endpoint delivers into ``channel`` (``options``: Hub's own, such as
    ``clock``); its topology removed after."""
    hub = Hub(settings, registry, channel_factory=lambda endpoint: channel, **options)
    await hub.start()
    try:
        yield hub
    finally:
        with contextlib.suppress(Exception):
            await hub.transport.delete(hub.topology)
        await hub.stop()


@contextlib.asynccontextmanager
async def api_client(hub: Hub) -> AsyncIterator[httpx.AsyncClient]:
    """The API over ``hub`` (not managing it), in process."""
    app = create_app(hub, manage_hub=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://medbro.test") as client:
        yield client
    for _name, handler in envelope_handlers():
        with contextlib.suppress(AttributeError):
            handler.close(app)


def care(**change) -> bytes:
    return bundles.to_bytes(bundles.care_communication(**change))


def resent(data: bytes) -> bytes:
    """The same message sent again: a new Bundle.id, the same MessageHeader.id (MedCom MR7)."""
    return data.replace(b"add5e7e2-0c0f-4a4a-bfff-f6f984fa7e3c", str(uuid.uuid4()).encode())


def envelope(payload: bytes, *, sender: str, receiver: str, name: str) -> bytes:
    """A new reliable VANSEnvelope (new envelope id and message id) around ``payload``."""
    return serialize(wrap(payload, sender=EndPoint(sender), receiver=EndPoint(receiver),
                          message_type=name, version="5.0", envelope_id=str(uuid.uuid4()),
                          message_id=str(uuid.uuid4()), now=NOW.replace(tzinfo=None),
                          wire_format="fhir"))


async def post(client: httpx.AsyncClient, payload: bytes, *, sender: str = KOMMUNE,
               receiver: str = GP, name: str = "FDIS91#other") -> httpx.Response:
    body = envelope(payload, sender=sender, receiver=receiver, name=name)
    response = await client.post("/v1/messages", content=body, headers={
        "X-API-Key": KEYS[sender], "Content-Type": "application/xml"})
    assert response.status_code == 200, response.text
    return response


def response_of(ack: bytes) -> tuple[str, str]:
    """(response code, acknowledged MessageHeader.id) of an Acknowledgement (read leniently:
    medbro answering as a hop names its GLN but has no SOR identifier)."""
    message, _problem = fhir.read_leniently(ack)
    assert message is not None and message.response is not None, ack[:200]
    return message.response.code, message.response.identifier


