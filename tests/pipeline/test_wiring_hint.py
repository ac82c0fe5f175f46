"""Payloads the codec cannot read, routed by their envelope's facts (issue 5 acceptance):
MedCom's VANSEnvelope sample carrying an XDIS22 OIOXML letter is accepted and its payload
delivered to an endpoint that takes XDIS22; without one it is refused with the reason."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

import adapters.edi_mailbox as edi_mailbox
from adapters.vans import ReceiptKind, SqlSeenStore, VansIngest, parse
from gateway.pipeline import Hub, PayloadHint
from gateway.registry import Registry
from gateway.settings import Settings
from gateway.store import MessageRow
from tests.medcom_samples import sample_bytes
from tests.pipeline.conftest import eventually, running

ODENSE, RECEIVER = "5790001659592", "5790000121526"
SAMPLE = "vansenvelope_1.0.4_XDIS22_message.xml"


def registry(tmp_path: Path, *, accepts: list[dict]) -> Registry:
    return Registry.from_dict({"endpoints": [
        {"gln": ODENSE, "name": "Odense Kommune", "kind": "municipality",
         "channel": {"kind": "edi_mailbox", "directory": str(tmp_path / "odense")}},
        {"gln": RECEIVER, "name": "Modtager", "kind": "hospital", "accepts": accepts,
         "deliver_as": "oioxml",
         "channel": {"kind": "edi_mailbox", "directory": str(tmp_path / "receiver")}},
    ]})


def payload_of(envelope: bytes) -> bytes:
    data = re.search(rb"<Data>(.*?)</Data>", envelope, re.S)
    assert data is not None
    return base64.b64decode(data.group(1))


async def make_hub(tmp_path: Path, database_url: str, prefix: str, accepts: list[dict]) -> Hub:
    settings = Settings.load(database_url=database_url, broker_prefix=prefix,
                             retry_delays_seconds=(0.2, 0.5), scan_interval_seconds=0.1)
    hub = Hub(settings, registry(tmp_path, accepts=accepts))
    await hub.start()
    return hub


async def test_xdis22_sample_from_the_mailbox_is_accepted_and_delivered(
        pipeline_db, broker_prefix, tmp_path, samples_dir):
    envelope = sample_bytes(SAMPLE)
    hub = await make_hub(tmp_path, pipeline_db, broker_prefix,
                         [{"type": "XDIS22", "versions": ["XD2230L"]}])
    channel = edi_mailbox.channel(hub.registry.endpoint(ODENSE), hub.settings)
    try:
        channel.client.ensure_dirs()
        channel.client.drop("xdis22.xml", envelope)
        assert await channel.watcher(hub.ingest).poll_once() == 1
        (receipt_file,) = sorted((tmp_path / "odense" / "outbox").glob("*.xml"))
        receipt = parse(receipt_file.read_bytes())
        assert receipt.receipt.kind is ReceiptKind.POSITIVE_MESSAGE
        assert receipt.receiver.id == ODENSE
        outbox = tmp_path / "receiver" / "outbox"
        async with running(hub):
            await eventually(lambda: len(list(outbox.glob("*.xml"))) == 1)
        (delivered,) = outbox.glob("*.xml")
        assert delivered.read_bytes() == payload_of(envelope)  # byte for byte
        with hub.store.transaction() as session:
            row = session.scalars(sa.select(MessageRow)).one()
            assert (row.format, row.type, row.version, row.state) == (
                "oioxml", "XDIS22", "XD2230L", "delivered")
            assert (row.sender_gln, row.receiver_gln) == (ODENSE, RECEIVER)
    finally:
        channel.close()
        await hub.transport.delete(hub.topology)
        await hub.stop()


async def test_xdis22_for_a_receiver_that_does_not_take_it_is_refused_with_the_reason(
        pipeline_db, broker_prefix, tmp_path, samples_dir):
    hub = await make_hub(tmp_path, pipeline_db, broker_prefix, [{"type": "DIS01"}])
    url = hub.settings.database_url
    vans = VansIngest(hub.ingest, SqlSeenStore.create(url), received_via="test")
    try:
        received = await vans.receive(sample_bytes(SAMPLE), source="test")
        assert received.outcome is not None and not received.outcome.accepted
        assert "kan ikke modtage XDIS22 i version XD2230L" in received.outcome.description
        assert parse(received.receipt).receipt.kind is ReceiptKind.NEGATIVE_MESSAGE
        view = hub.message_view(received.outcome.detail.message_ids[0])
        assert view["state"] == "parked"
        assert [t["kind"] for t in view["tasks"]] == ["refused"]
        # Resent with the same message id: a duplicate, nothing stored twice.
        again = await hub.ingest(payload_of(sample_bytes(SAMPLE)), received_via="test",
                                 hint=PayloadHint(ODENSE, RECEIVER, "oioxml", "XDIS22",
                                                  "XD2230L", message_key=_message_id()))
        assert again.duplicate and again.message_ids == received.outcome.detail.message_ids
    finally:
        vans.close()
        await hub.transport.delete(hub.topology)
        await hub.stop()


def _message_id() -> str:
    return "068dadff-12bb-406d-8c86-083974dc0180"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_hinted_sender_must_be_authenticated(pipeline_db, broker_prefix, tmp_path,
                                                   samples_dir):
    hub = await make_hub(tmp_path, pipeline_db, broker_prefix, [{"type": "XDIS22"}])
    try:
        result = await hub.ingest(payload_of(sample_bytes(SAMPLE)), received_via="test",
                                  authenticated_glns=frozenset({RECEIVER}),
                                  hint=PayloadHint(ODENSE, RECEIVER, "oioxml", "XDIS22",
                                                   "XD2230L", message_key="m-1"))
        assert result.state == "rejected" and "not one of the authenticated" in result.error
    finally:
        await hub.stop()
