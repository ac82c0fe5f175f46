"""The EDI mailbox takes ``.xml`` VANSEnvelopes beside ``.edi`` files (issue 5), on real
directories through the channel plugin: the payload is routed and delivered, and the VANS
receipt is written back into the sender's outbox."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path

import pytest

import adapters.edi_mailbox as edi_mailbox
from adapters.vans import EndPoint, ReceiptKind, parse, serialize, wrap
from gateway.pipeline import Hub
from gateway.registry import Registry
from gateway.settings import Settings
from tests.pipeline.conftest import GP, HOSPITAL, eventually, letter, running

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def ref() -> str:
    return "K" + uuid.uuid4().hex[:10].upper()


def envelope(payload: bytes, *, message_type: str = "DIS01", version: str = "D0133L") -> bytes:
    return serialize(wrap(payload, sender=EndPoint(HOSPITAL), receiver=EndPoint(GP),
                          message_type=message_type, version=version,
                          envelope_id=str(uuid.uuid4()), message_id=str(uuid.uuid4()),
                          now=datetime(2026, 11, 22, 10, 0)))


@pytest.fixture
async def mailbox_hub(pipeline_db, broker_prefix, tmp_path):
    registry = Registry.from_dict({"endpoints": [
        {"gln": HOSPITAL, "name": "Hillerød", "kind": "hospital", "accepts": [{"type": "DIS91"}],
         "channel": {"kind": "edi_mailbox", "directory": str(tmp_path / "hospital")}},
        {"gln": GP, "name": "Lægehuset", "kind": "gp", "accepts": [{"type": "DIS01"}],
         "channel": {"kind": "edi_mailbox", "directory": str(tmp_path / "gp")}},
    ]})
    settings = Settings.load(database_url=pipeline_db, broker_prefix=broker_prefix,
                             retry_delays_seconds=(0.2, 0.5), scan_interval_seconds=0.1)
    hub = Hub(settings, registry)
    await hub.start()
    yield hub
    await hub.stop()


def files(directory: Path, suffix: str) -> list[Path]:
    return sorted(directory.glob(f"*{suffix}")) if directory.exists() else []


async def test_envelopes_beside_edi_files_are_routed_and_answered(mailbox_hub, tmp_path):
    hub = mailbox_hub
    channel = edi_mailbox.channel(hub.registry.endpoint(HOSPITAL), hub.settings)
    assert channel.envelope_intake(hub.ingest).kinds == 1  # the VANS plugin takes .xml files
    watcher = channel.watcher(hub.ingest)
    inbox, outbox = tmp_path / "hospital" / "inbox", tmp_path / "hospital" / "outbox"
    plain, wrapped = letter(ref()), letter(ref())
    channel.client.ensure_dirs()
    channel.client.drop("letter.edi", plain)
    channel.client.drop("letter.xml", envelope(wrapped))
    channel.client.drop("broken.xml", envelope(b"\x00\x01 not a MedCom message"))
    try:
        assert await watcher.poll_once() == 3
        assert files(inbox, "") == []
        receipts = [parse(p.read_bytes()) for p in files(outbox, ".xml")]
        kinds = sorted(r.receipt.kind.value for r in receipts)
        assert kinds == sorted([ReceiptKind.POSITIVE_MESSAGE.value,
                                ReceiptKind.NEGATIVE_MESSAGE.value])
        assert all(r.receiver.id == HOSPITAL for r in receipts)
        async with running(hub):
            await eventually(lambda: len(files(tmp_path / "gp" / "outbox", ".edi")) == 2)
        delivered = {p.read_bytes() for p in files(tmp_path / "gp" / "outbox", ".edi")}
        assert delivered == {plain, wrapped}
    finally:
        channel.close()


async def test_an_unanswerable_file_is_stored_rejected_and_does_not_block_the_inbox(
        mailbox_hub, tmp_path):
    """An envelope too broken even for a CTL01 (no recipient) is stored and rejected; the
    watcher archives it and goes on (it used to raise, leaving the file to block the inbox)."""
    hub = mailbox_hub
    channel = edi_mailbox.channel(hub.registry.endpoint(HOSPITAL), hub.settings)
    try:
        channel.client.ensure_dirs()
        channel.client.drop("a-garbage.edi", b"UNB+UNOC:3+garbage'")
        channel.client.drop("b-letter.edi", letter(ref()))
        assert await channel.watcher(hub.ingest).poll_once() == 2
        assert files(tmp_path / "hospital" / "inbox", "") == []
        assert files(tmp_path / "hospital" / "processing", "") == []
        result = await hub.ingest(b"UNB+UNOC:3+garbage'", received_via="test")
        assert result.state == "rejected" and result.receipt is None
        events = [e["event"] for e in hub.message_view(result.message_ids[0])["events"]]
        # no receipt can quote an empty UNB recipient, so the codec writes none (issue 12)
        assert "message_reject" in events and "receipt_not_written" not in events
    finally:
        channel.close()


async def test_envelope_for_a_receiver_medbro_does_not_know_gets_a_negative_receipt(
        mailbox_hub, tmp_path):
    hub = mailbox_hub
    channel = edi_mailbox.channel(hub.registry.endpoint(HOSPITAL), hub.settings)
    unknown = "5790009999994"
    payload = letter(ref()).replace(f"+{GP}:14+".encode(), f"+{unknown}:14+".encode())
    try:
        channel.client.ensure_dirs()
        channel.client.drop("lost.xml", serialize(wrap(
            payload, sender=EndPoint(HOSPITAL), receiver=EndPoint(unknown),
            message_type="DIS01", version="D0133L", envelope_id=str(uuid.uuid4()),
            message_id=str(uuid.uuid4()), now=datetime(2026, 11, 22, 10, 0))))
        assert await channel.watcher(hub.ingest).poll_once() == 1
        (receipt_file,) = files(tmp_path / "hospital" / "outbox", ".xml")
        receipt = parse(receipt_file.read_bytes()).receipt
        assert receipt.kind is ReceiptKind.NEGATIVE_MESSAGE
        assert "har ikke kunnet identificeres" in receipt.error.description
    finally:
        channel.close()
