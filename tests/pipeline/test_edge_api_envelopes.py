"""``POST /v1/messages`` takes a VANSEnvelope as well as raw EDIFACT (issue 5), through the
``medbro.envelopes`` plugin ``vans``, on the real app and a real hub (SQLite + in-process
transport): reliable mode answers with the VANS receipt, a duplicate gets the same receipt and
is neither stored nor delivered twice.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from adapters.vans import DuplicateCase, EndPoint, ReceiptKind, parse, serialize, wrap
from gateway.api.messages import envelope_handler_for, envelope_handlers
from gateway.demo import discharge_letter
from gateway.pipeline import Hub
from gateway.registry import Registry, hash_api_key
from gateway.settings import Settings
from tests.pipeline.conftest import eventually, running

HOSPITAL, GP, OTHER = "5790000120420", "5790000128686", "5790000181872"
KEY = "k-region"
NOW = datetime(2026, 11, 22, 10, 0)


@pytest.fixture
async def hub(tmp_path, broker_prefix):
    registry = Registry.from_dict({
        "endpoints": [
            {"gln": HOSPITAL, "name": "Hillerød", "kind": "hospital",
             "accepts": [{"type": "CTL03"}, {"type": "CTL02"}],
             "channel": {"kind": "edi_mailbox", "outbox": str(tmp_path / "hospital-out")}},
            {"gln": GP, "name": "Lægehuset", "kind": "gp", "accepts": [{"type": "DIS01"}],
             "channel": {"kind": "edi_mailbox", "outbox": str(tmp_path / "gp-out")}},
            {"gln": OTHER, "name": "Ølstykke", "kind": "gp", "accepts": [{"type": "DIS01"}],
             "channel": {"kind": "edi_mailbox", "outbox": str(tmp_path / "other-out")}},
        ],
        "organisations": [{"name": "region", "glns": [HOSPITAL],
                           "api_key_sha256": [hash_api_key(KEY)]}],
    })
    settings = Settings.load(database_url=f"sqlite:///{tmp_path / 'medbro.db'}",
                             broker_url="memory://", broker_prefix=broker_prefix,
                             scan_interval_seconds=0.1)
    hub = Hub(settings, registry)
    await hub.start()
    try:
        yield hub
    finally:
        await hub.stop()


def _dis01(seq: int = 1, sender: str = HOSPITAL) -> bytes:
    return discharge_letter(seq, sender=sender, receiver=GP,
                            patient=("0101509991", "Ærøboe", "Søren"), prepared_at=NOW)


def _envelope(payload: bytes, *, sender: str = HOSPITAL, reliable: bool = True,
              envelope_id: str | None = None) -> bytes:
    return serialize(wrap(
        payload, sender=EndPoint(sender), receiver=EndPoint(GP), message_type="DIS01",
        version="D0133L", envelope_id=envelope_id or str(uuid.uuid4()),
        message_id=str(uuid.uuid4()), now=NOW, reliable=reliable))


def _post(client, body: bytes, ctype: str = "application/xml"):
    return client.post("/v1/messages", content=body,
                       headers={"X-API-Key": KEY, "Content-Type": ctype})


def test_the_vans_plugin_is_found_by_the_bytes_only() -> None:
    assert [name for name, _ in envelope_handlers()] == ["vans"]
    assert envelope_handler_for(_envelope(_dis01()))[0] == "vans"
    assert envelope_handler_for(_dis01()) is None


async def test_reliable_envelope_with_dis01_gets_a_positive_receipt_and_is_delivered(
        hub, client, tmp_path) -> None:
    payload = _dis01()
    async with running(hub):
        response = await _post(client, _envelope(payload))
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/xml")
        receipt = parse(response.content).receipt
        assert receipt.kind is ReceiptKind.POSITIVE_MESSAGE
        (message_id,) = response.headers["x-medbro-message-ids"].split(",")
        await eventually(lambda: hub.message_view(message_id)["state"] == "delivered")
    view = hub.message_view(message_id)
    assert view["sender_gln"] == HOSPITAL and view["receiver_gln"] == GP
    (written,) = (tmp_path / "gp-out").glob("*.edi")
    assert written.read_bytes() == payload  # the envelope's payload, byte for byte


async def test_duplicate_envelope_gets_the_same_receipt_and_is_not_delivered_again(
        hub, client, tmp_path) -> None:
    envelope = _envelope(_dis01(2))
    async with running(hub):
        first = await _post(client, envelope)
        again = await _post(client, envelope, ctype="application/octet-stream")
        assert first.status_code == again.status_code == 200
        assert again.headers["x-medbro-duplicate-case"] == DuplicateCase.REPEATED.value
        assert parse(again.content).receipt == parse(first.content).receipt
        (message_id,) = first.headers["x-medbro-message-ids"].split(",")
        await eventually(lambda: hub.message_view(message_id)["state"] == "delivered")
    assert len(list((tmp_path / "gp-out").glob("*.edi"))) == 1


async def test_unreliable_envelope_is_202_in_the_shape_of_edifact_answers(hub, client) -> None:
    response = await _post(client, _envelope(_dis01(3), reliable=False))
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["duplicate"] is False and len(body["message_ids"]) == 1
    assert hub.message_view(body["message_ids"][0])["receiver_gln"] == GP


async def test_envelope_from_a_foreign_sender_is_403_stored_and_rejected(hub, client) -> None:
    response = await _post(client, _envelope(_dis01(4, sender=OTHER), sender=OTHER))
    assert response.status_code == 403
    body = response.json()
    assert OTHER in body["error"] and body["code"] == "SENDER_NOT_AUTHORISED"
    assert hub.message_view(body["message_ids"][0])["state"] == "rejected"


async def test_raw_edifact_still_goes_the_edifact_way(hub, client) -> None:
    response = await _post(client, _dis01(5), ctype="application/edifact")
    assert response.status_code == 202, response.text
    assert hub.message_view(response.json()["message_ids"][0])["state"] in (
        "routed", "delivered", "validated", "received")
    assert (await _post(client, _dis01(6), ctype="application/xml")).status_code == 415
