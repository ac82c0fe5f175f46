"""Municipal copies: an epikrise with a municipality as copy receiver (NAD+CCR) is also
delivered there, as its own tracked delivery with a derived duplicate key."""

from __future__ import annotations

import copy
import uuid

import pytest
import sqlalchemy as sa

from gateway.edifact import parse
from gateway.pipeline import Hub
from gateway.registry import Registry
from gateway.settings import Settings
from gateway.store import MessageRow
from tests.pipeline.conftest import GP, PARTNERS, eventually, letter, running

ODENSE = "5790001659592"
GP_COPY = "NAD+CCR+499211:YNR:SFU++"


def ref() -> str:
    return "K" + uuid.uuid4().hex[:10].upper()


def with_copy_to(data: bytes, party: str) -> bytes:
    assert GP_COPY.encode() in data
    return data.replace(GP_COPY.encode(), f"NAD+CCR+{party}++".encode())


@pytest.fixture
async def hub(pipeline_db, broker, broker_prefix, channel):
    partners = copy.deepcopy(PARTNERS)
    partners["endpoints"].append(
        {"gln": ODENSE, "name": "Odense Kommune", "kind": "municipality",
         "accepts": [{"type": "DIS01"}], "channel": {"kind": "recording"}})
    settings = Settings.load(database_url=pipeline_db, broker_url=broker,
                             broker_prefix=broker_prefix, retry_delays_seconds=(0.2, 0.5),
                             scan_interval_seconds=0.1)
    hub = Hub(settings, Registry.from_dict(partners), channel_factory=lambda endpoint: channel)
    await hub.start()
    try:
        yield hub
    finally:
        await hub.transport.delete(hub.topology)
        await hub.stop()


def messages(hub: Hub) -> list[MessageRow]:
    with hub.store.transaction() as session:
        rows = list(session.scalars(sa.select(MessageRow).order_by(MessageRow.created_at)))
        session.expunge_all()
        return rows


async def test_epikrise_with_a_municipal_copy_receiver_is_delivered_there_too(hub, channel):
    data = with_copy_to(letter(ref(), ack=True), f"{ODENSE}:EAN:9")
    async with running(hub):
        result = await hub.ingest(data, received_via="test")
        assert result.state == "routed"
        await eventually(lambda: len(channel.delivered.get(ODENSE, [])) == 1
                         and len(channel.delivered.get(GP, [])) == 1)
        again = await hub.ingest(data, received_via="test")  # the hospital resends
        assert again.duplicate and again.message_ids == result.message_ids
        await eventually(lambda: all(m.state in ("delivered", "acknowledged")
                                     for m in messages(hub)))
    assert channel.payloads(GP) == [data]
    # The copy is the hospital's interchange, addressed to the municipality in its UNB.
    assert channel.payloads(ODENSE) == [data.replace(f"+{GP}:14+".encode(),
                                                     f"+{ODENSE}:14+".encode(), 1)]
    assert parse(channel.payloads(ODENSE)[0]).envelope.recipient == ODENSE
    by_receiver = {m.receiver_gln: m for m in messages(hub)}
    assert sorted(by_receiver) == sorted([GP, ODENSE])
    original, municipal = by_receiver[GP], by_receiver[ODENSE]
    assert original.id == result.message_ids[0] and original.receiver_gln == GP
    assert municipal.receiver_gln == ODENSE and municipal.interchange_id != original.interchange_id
    assert municipal.message_ref == f"{original.message_ref}~CC{ODENSE}"
    assert (municipal.sender_gln, municipal.control_ref) == (original.sender_gln,
                                                             original.control_ref)
    assert municipal.ack_requested is False and original.ack_requested is True
    assert municipal.summary["copy_of"] == original.id
    view = hub.message_view(municipal.id)
    assert [a["outcome"] for a in view["attempts"]] == ["delivered"]
    events = [e["event"] for e in hub.message_view(original.id)["events"]]
    assert "copy_routed" in events


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("broker", ["memory://"], indirect=False)
@pytest.mark.parametrize("party", [
    "461:KOM:IM",  # only a municipality number: not matched (see copies.py)
    "5790000120420:EAN:9",  # a configured endpoint, but a hospital
    "5790009999994:EAN:9",  # a GLN nobody configured
])
async def test_no_copy_for_parties_that_are_not_configured_municipalities(hub, channel,
                                                                          party):
    data = with_copy_to(letter(ref()), party)
    async with running(hub):
        result = await hub.ingest(data, received_via="test")
        await eventually(lambda: hub.message_view(result.message_ids[0])["state"]
                         == "delivered")
    assert [m.receiver_gln for m in messages(hub)] == [GP]
    assert ODENSE not in channel.delivered
