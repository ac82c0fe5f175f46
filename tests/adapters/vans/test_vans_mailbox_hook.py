"""The hook for intakes built around ``Hub.ingest``: ``envelope_aware`` lets the EDI mailbox
watcher take ``.xml`` VANSEnvelopes beside ``.edi`` files, with a real hub behind it.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from adapters.edi_mailbox.config import MailboxConfig
from adapters.edi_mailbox.testing import MemoryMailboxClient
from adapters.edi_mailbox.watcher import MailboxWatcher
from adapters.vans import (
    EndPoint,
    ReceiptKind,
    VansIngest,
    envelope_aware,
    parse,
    receipt_file_name,
    resend,
    serialize,
    wrap,
)
from gateway.pipeline import Hub
from gateway.registry import Registry
from gateway.settings import Settings
from tests.conftest import sample_bytes

HOSPITAL, GP = "5790000120420", "5790000128686"


@pytest.fixture
async def hub(tmp_path, broker_prefix):
    registry = Registry.from_dict({"endpoints": [
        {"gln": HOSPITAL, "name": "Hillerød", "kind": "hospital", "channel": {"kind": "local"}},
        {"gln": GP, "name": "GP", "kind": "gp", "accepts": [{"type": "DIS01"}],
         "channel": {"kind": "local"}},
    ]})
    settings = Settings.load(database_url=f"sqlite:///{tmp_path / 'medbro.db'}",
                             broker_url="memory://", broker_prefix=broker_prefix)
    hub = Hub(settings, registry)
    await hub.start()
    yield hub
    await hub.stop()


def _envelope(payload: bytes, envelope_id: str, message_id: str) -> bytes:
    return serialize(wrap(payload, sender=EndPoint(HOSPITAL), receiver=EndPoint(GP),
                          message_type="DIS01", version="D0133L", envelope_id=envelope_id,
                          message_id=message_id, now=datetime(2026, 11, 22, 10, 0)))


async def test_mailbox_takes_xml_envelopes_beside_edi_files(hub, tmp_path, samples_dir):
    mailbox = MemoryMailboxClient(MailboxConfig(gln=HOSPITAL, directory=tmp_path / "mb"))
    vans = VansIngest.for_hub(hub, received_via="edi_mailbox")

    async def write_receipt(received):
        mailbox.publish(receipt_file_name(received), received.receipt)

    watcher = MailboxWatcher(mailbox, envelope_aware(hub.ingest, vans, on_receipt=write_receipt),
                             gln=HOSPITAL, authenticated_glns=frozenset({HOSPITAL}))
    edi = sample_bytes("edifact_DIS01_1.edi")
    envelope = _envelope(edi.replace(b"KuvertNr012234", b"KuvertNrVANS1"), str(uuid.uuid4()),
                         str(uuid.uuid4()))
    mailbox.drop("letter.edi", edi)
    mailbox.drop("letter.xml", envelope)
    try:
        assert await watcher.poll_once() == 2
        (receipt_name,) = mailbox.outbox_names()
        assert receipt_name.startswith(f"{GP}_") and receipt_name.endswith(".xml")
        receipt = parse(mailbox.read_outbox(receipt_name))
        assert receipt.receipt.kind is ReceiptKind.POSITIVE_MESSAGE
        assert receipt.receiver.id == HOSPITAL
        # The hospital resends the envelope (new envelope id, same message id): no second
        # letter in the hub, and the first receipt again.
        again = serialize(resend(parse(envelope), envelope_id=str(uuid.uuid4()),
                                 now=datetime(2026, 11, 22, 10, 30)))
        mailbox.drop("letter-again.xml", again)
        assert await watcher.poll_once() == 1
        names = mailbox.outbox_names()
        assert len(names) == 2
        replayed = [parse(mailbox.read_outbox(n)) for n in names if n != receipt_name][0]
        assert replayed.receipt == receipt.receipt
        assert len(mailbox.archived()) == 3
        with hub.store.transaction() as session:
            from sqlalchemy import func, select

            from gateway.store.tables import MessageRow

            assert session.scalar(select(func.count()).select_from(MessageRow)) == 2
    finally:
        vans.close()
