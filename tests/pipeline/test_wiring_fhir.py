"""MedCom FHIR messages end to end (issue acceptance): a CareCommunication in a VANSEnvelope
posted to ``POST /v1/messages`` is read by gateway.fhir, routed by its MessageHeader's
destination through the core decision, stored and delivered once; the receiver's Acknowledgement
correlates to it; a resend with the same MessageHeader.id is delivered no second time and its
sender gets the same Acknowledgement again; an unknown receiver gets a fatal-error
Acknowledgement from medbro; medbro as the final receiver answers ``ok``.

On SQLite and PostgreSQL, on the in-process transport and on RabbitMQ (conftest fixtures).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from adapters.vans import ReceiptKind, parse
from gateway import fhir
from gateway.fhir.acknowledgement import acknowledgement
from gateway.fhir.owed import Owed
from gateway.pipeline import Hub
from gateway.registry import Registry, hash_api_key
from gateway.settings import Settings
from tests.medcom_fhir import bundles
from tests.pipeline.conftest import RecordingChannel, eventually, running
from tests.pipeline.fhir_wiring import (
    GP,
    KEYS,
    KOMMUNE,
    NOW,
    api_client,
    care,
    post,
    resent,
    response_of,
    started_hub,
)

LOCAL = {"id": "5b8a3f0e-6a43-4c55-9a53-2f7d1f1c0e01", "gln": "5790000100002",
         "sor": "111111111111111", "name": "medbro, regionens postkasse"}
STRANGER = {**bundles.GP, "id": "0d6a1e0c-35a8-4bd6-9a44-5a0c5a3e1c11", "gln": "5790009999994"}


def registry() -> Registry:
    return Registry.from_dict({
        "endpoints": [
            {"gln": KOMMUNE, "name": "Aarhus Kommune", "kind": "municipality",
             "accepts": [{"type": "FCTL"}], "channel": {"kind": "recording"}},
            {"gln": GP, "name": "Lægehuset Vestergade", "kind": "gp",
             "accepts": [{"type": "FDIS91"}], "channel": {"kind": "recording"}},
            {"gln": LOCAL["gln"], "name": "medbro", "kind": "region",
             "accepts": [{"type": "FDIS91"}], "channel": {"kind": "local"}},
        ],
        "organisations": [
            {"name": "kommune", "glns": [KOMMUNE], "api_key_sha256": [hash_api_key(KEYS[KOMMUNE])]},
            {"name": "gp", "glns": [GP], "api_key_sha256": [hash_api_key(KEYS[GP])]},
        ],
    })


@pytest.fixture
def receipt_timeout() -> float:
    return 1800.0  # MedCom's 30 minutes: no resend within a test unless it asks for one


@pytest.fixture
async def hub(fresh_db: str, broker: str, broker_prefix: str, channel: RecordingChannel,
              receipt_timeout: float) -> AsyncIterator[Hub]:
    settings = Settings.load(database_url=fresh_db, broker_url=broker,
                             broker_prefix=broker_prefix, retry_delays_seconds=(0.2, 0.5),
                             scan_interval_seconds=0.1, receipt_timeout_seconds=receipt_timeout,
                             max_resends=2)
    async with started_hub(settings, registry(), channel) as started:
        yield started


@pytest.fixture
async def client(hub: Hub) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(hub) as c:
        yield c


async def test_delivered_once_acknowledged_and_a_resend_gets_the_same_acknowledgement(
        hub, client, channel) -> None:
    data = care()
    async with running(hub):
        first = await post(client, data)
        assert parse(first.content).receipt.kind is ReceiptKind.POSITIVE_MESSAGE
        (message_id,) = first.headers["x-medbro-message-ids"].split(",")
        await eventually(lambda: hub.message_view(message_id)["state"] == "delivered")
        assert channel.payloads(GP) == [data]  # the Bundle as it came, by its destination
        view = hub.message_view(message_id)
        assert (view["format"], view["family"], view["type"], view["sender_gln"],
                view["receiver_gln"], view["message_ref"]) == (
            "fhir", "FHIR", "FDIS91", KOMMUNE, GP, bundles.HEADER_ID)

        # The GP's system answers ok: correlated to the original, forwarded to the sender.
        ack = acknowledgement(fhir.read(data), Owed("ok"), now=NOW)
        answered = await post(client, ack, sender=GP, receiver=KOMMUNE, name="FCTL#ok")
        assert parse(answered.content).receipt.kind is ReceiptKind.POSITIVE_MESSAGE
        await eventually(lambda: hub.message_view(message_id)["state"] == "acknowledged")
        await eventually(lambda: channel.payloads(KOMMUNE) == [ack])
        receipts = hub.message_view(message_id)["receipts"]
        assert [(r["direction"], r["kind"]) for r in receipts] == [("in", "FCTL")]

        # The municipality did not get it and sends the message again (new Bundle.id, new
        # envelope): a duplicate, not delivered again, and the same Acknowledgement again.
        again = await post(client, resent(data))
        assert parse(again.content).receipt.kind is ReceiptKind.POSITIVE_MESSAGE
        assert again.headers["x-medbro-message-ids"] == message_id
        await eventually(lambda: channel.payloads(KOMMUNE) == [ack, ack])
        await asyncio.sleep(0.5)  # time for a wrong second delivery to show
    assert channel.payloads(GP) == [data]
    assert hub.message_view(message_id)["state"] == "acknowledged"


async def test_unknown_receiver_gets_a_fatal_error_acknowledgement(hub, client, channel) -> None:
    data = care(receiver=STRANGER)
    async with running(hub):
        refused = await post(client, data, receiver=STRANGER["gln"])
        assert parse(refused.content).receipt.kind is ReceiptKind.NEGATIVE_MESSAGE
        (message_id,) = refused.headers["x-medbro-message-ids"].split(",")
        assert hub.message_view(message_id)["state"] == "parked"
        await eventually(lambda: len(channel.payloads(KOMMUNE)) == 1)
        (ack,) = channel.payloads(KOMMUNE)
        assert response_of(ack) == ("fatal-error", bundles.HEADER_ID)
        assert STRANGER["gln"].encode() in ack  # the OperationOutcome says who is unknown

        # A resend of it is a duplicate: the same fatal-error Acknowledgement, delivered again.
        again = await post(client, resent(data), receiver=STRANGER["gln"])
        assert again.headers["x-medbro-message-ids"] == message_id
        await eventually(lambda: channel.payloads(KOMMUNE) == [ack, ack])
    assert STRANGER["gln"] not in channel.delivered


async def test_medbro_as_final_receiver_answers_ok(hub, client, channel) -> None:
    data = care(receiver=LOCAL)
    async with running(hub):
        response = await post(client, data, receiver=LOCAL["gln"])
        (message_id,) = response.headers["x-medbro-message-ids"].split(",")
        await eventually(lambda: hub.message_view(message_id)["state"] == "acknowledged")
        await eventually(lambda: len(channel.payloads(KOMMUNE)) == 1)
    (ack,) = channel.payloads(KOMMUNE)
    message = fhir.read(ack)  # the receiver answers as itself: every MedCom rule kept
    assert response_of(ack) == ("ok", bundles.HEADER_ID)
    assert message.sender is not None and message.sender.gln == LOCAL["gln"]


async def test_a_bundle_breaking_a_rule_is_rejected_with_its_path(hub, client, channel) -> None:
    def without_receiver_gln(doc: dict) -> None:
        org = [e["resource"] for e in doc["entry"]
               if e["resource"]["resourceType"] == "Organization"][1]
        org["identifier"] = [i for i in org["identifier"] if i["system"] != bundles.GLN]

    data = bundles.to_bytes(bundles.changed(bundles.care_communication(), without_receiver_gln))
    async with running(hub):
        response = await post(client, data)
        assert parse(response.content).receipt.kind is ReceiptKind.NEGATIVE_MESSAGE
        (message_id,) = response.headers["x-medbro-message-ids"].split(",")
        view = hub.message_view(message_id)
        assert view["state"] == "rejected"
        assert view["summary"]["error"]["path"] == (
            "Bundle.entry[0].resource.destination[primary].receiver")
        await eventually(lambda: len(channel.payloads(KOMMUNE)) == 1)
    assert response_of(channel.payloads(KOMMUNE)[0]) == ("fatal-error", bundles.HEADER_ID)
    assert GP not in channel.delivered


def sends(payloads: list[bytes]) -> list[tuple[str, str]]:
    """(Bundle.id, MessageHeader.id) of each send."""
    return [(m.bundle_id, m.header_id) for m in map(fhir.read, payloads)]


@pytest.mark.parametrize("receipt_timeout", [0.4])
async def test_no_acknowledgement_resends_twice_with_new_bundle_ids_then_parks(
        hub, client, channel) -> None:
    """MedCom MR3-MR7: no Acknowledgement within the timeout -> resent, at most twice, each
    time with a new Bundle.id and the same MessageHeader.id; then an operator task."""
    data = care()
    async with running(hub):
        response = await post(client, data)
        (message_id,) = response.headers["x-medbro-message-ids"].split(",")
        await eventually(lambda: hub.message_view(message_id)["state"] == "parked", timeout=30)
    payloads = channel.payloads(GP)
    assert len(payloads) == 3 and payloads[0] == data  # the original, then two resends
    bundle_ids = [bundle_id for bundle_id, _ in sends(payloads)]
    assert len(set(bundle_ids)) == 3
    assert {header_id for _, header_id in sends(payloads)} == {bundles.HEADER_ID}
    view = hub.message_view(message_id)
    assert view["resend_count"] == 2 and view["receipt_due_at"] is None
    assert [t["kind"] for t in view["tasks"]] == ["receipt_missing"]
    assert "no Acknowledgement after 2 resend(s)" in view["tasks"][0]["reason"]
    resent_as = [e["detail"]["bundle_id"] for e in view["events"]
                 if e["event"] == "message_resend"]
    assert resent_as == bundle_ids[1:]
    assert "message_receipt_timed_out" in [e["event"] for e in view["events"]]


async def test_a_transient_error_acknowledgement_is_resent_at_once(hub, client, channel) -> None:
    """A transient-error Acknowledgement drives the same rule without waiting 30 minutes: the
    message is sent again with a new Bundle.id; the ok to that resend acknowledges it."""
    data = care()
    async with running(hub):
        response = await post(client, data)
        (message_id,) = response.headers["x-medbro-message-ids"].split(",")
        await eventually(lambda: hub.message_view(message_id)["state"] == "delivered")
        transient = acknowledgement(fhir.read(data), Owed("transient-error", "transient",
                                                          "prøv igen"), now=NOW)
        await post(client, transient, sender=GP, receiver=KOMMUNE, name="FCTL#transient")
        await eventually(lambda: len(channel.payloads(GP)) == 2)
        await eventually(lambda: hub.message_view(message_id)["state"] == "delivered")
        second = channel.payloads(GP)[1]
        ok = acknowledgement(fhir.read(second), Owed("ok"), now=NOW)
        await post(client, ok, sender=GP, receiver=KOMMUNE, name="FCTL#ok")
        await eventually(lambda: hub.message_view(message_id)["state"] == "acknowledged")
        await eventually(lambda: channel.payloads(KOMMUNE) == [transient, ok])  # forwarded
    (first_id, header), (second_id, again) = sends(channel.payloads(GP))
    assert first_id != second_id and header == again == bundles.HEADER_ID
    view = hub.message_view(message_id)
    assert view["resend_count"] == 1 and view["tasks"] == []
    [resent] = [e for e in view["events"] if e["event"] == "message_resend"]
    assert resent["detail"]["after"] == "transient-error"
