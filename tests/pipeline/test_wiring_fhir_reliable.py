"""MedCom FHIR reliable messaging end to end, the three pieces decide_ingest and the worker add:

* the reverse receipt: an EDIFACT DIS91 from a GP reaches a ``deliver_as = "fhir"``
  municipality as a CareCommunication; the municipality's Acknowledgement ends with medbro and
  comes back to the GP as the CONTRL it is owed (``ok`` -> CTL03, the DIS91 asked for one;
  ``fatal-error`` -> CTL02); the same Acknowledgement again delivers no second CONTRL;
* Bundle.id reuse: a known Bundle.id with a new MessageHeader.id is rejected with a
  ``fatal-error`` naming Bundle.id; the same Bundle.id and MessageHeader.id again (a transport
  retry) gets the first Acknowledgement and no second delivery;
* an operator's replay of a delivered FHIR message, and release of a parked one, is a new send:
  a new Bundle.id, the same MessageHeader.id.

On SQLite and PostgreSQL, on the in-process transport and on RabbitMQ (conftest fixtures).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from adapters.vans import ReceiptKind, parse
from gateway import fhir
from gateway.edifact import parse as parse_edifact
from gateway.fhir.acknowledgement import acknowledgement
from gateway.fhir.convert import fhir_to_edifact
from gateway.fhir.owed import Owed
from gateway.operations import actions
from gateway.operations.principal import Principal
from gateway.operations.roles import Role
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
    envelope,
    post,
    response_of,
    started_hub,
)

FHIR_KOMMUNE = "5790000128700"  # a municipality that takes FHIR only
FHIR_KOMMUNE_ORG = {**bundles.MUNICIPALITY, "id": "6c1f0c52-2d1e-4a53-8f0e-3b0f7e1c9a21",
                    "gln": FHIR_KOMMUNE, "sor": "222222222222222"}
SORS = {GP: bundles.GP["sor"], FHIR_KOMMUNE: FHIR_KOMMUNE_ORG["sor"]}
FHIR_KOMMUNE_KEY = "k-fhir-kommune"
OPERATOR = Principal("person:test-operator", Role.OPERATOR, (), None)


def registry() -> Registry:
    return Registry.from_dict({
        "endpoints": [
            {"gln": KOMMUNE, "name": "Aarhus Kommune", "kind": "municipality",
             "accepts": [{"type": "FCTL"}], "channel": {"kind": "recording"}},
            {"gln": GP, "name": "Lægehuset Vestergade", "kind": "gp",
             "accepts": [{"type": "FDIS91"}, {"type": "CTL02"}, {"type": "CTL03"}],
             "channel": {"kind": "recording"}},
            {"gln": FHIR_KOMMUNE, "name": "Kommune (FHIR)", "kind": "municipality",
             "accepts": [{"type": "FDIS91"}, {"type": "FCTL"}],
             "channel": {"kind": "recording"}, "deliver_as": "fhir"},
        ],
        "organisations": [
            {"name": "kommune", "glns": [KOMMUNE], "api_key_sha256": [hash_api_key(KEYS[KOMMUNE])]},
            {"name": "gp", "glns": [GP], "api_key_sha256": [hash_api_key(KEYS[GP])]},
            {"name": "fhir-kommune", "glns": [FHIR_KOMMUNE],
             "api_key_sha256": [hash_api_key(FHIR_KOMMUNE_KEY)]},
        ],
    })


@pytest.fixture
async def hub(fresh_db: str, broker: str, broker_prefix: str,
              channel: RecordingChannel) -> AsyncIterator[Hub]:
    settings = Settings.load(database_url=fresh_db, broker_url=broker,
                             broker_prefix=broker_prefix, retry_delays_seconds=(0.2, 0.5),
                             scan_interval_seconds=0.1, receipt_timeout_seconds=1800.0,
                             max_resends=2)
    async with started_hub(settings, registry(), channel) as started:
        yield started


@pytest.fixture
async def client(hub: Hub) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(hub) as c:
        yield c


# -- the reverse receipt ----------------------------------------------------------------------

def dis91_from_the_gp() -> bytes:
    """An EDIFACT DIS91 from the GP to the FHIR municipality, asking for a receipt (UNB 9 = 1)."""
    return fhir_to_edifact(care(sender=bundles.GP, receiver=FHIR_KOMMUNE_ORG))


def with_sor_codes(payload: bytes) -> bytes:
    """The delivered CareCommunication as the municipality's system knows its parties: with
    their SOR codes (the partner registry has none, so the twin medbro wrote carries none)."""
    doc = json.loads(payload)
    for entry in doc["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Organization":
            gln = next(i["value"] for i in resource["identifier"] if i["system"] == bundles.GLN)
            resource["identifier"].append({"system": bundles.SOR, "value": SORS[gln]})
    return json.dumps(doc).encode()


def acknowledgement_of(payload: bytes, code: str) -> bytes:
    """The FHIR municipality's Acknowledgement of the CareCommunication it was delivered."""
    owed = Owed(code) if code == "ok" else Owed(code, "processing", "Ukendt CPR-nummer")
    return acknowledgement(fhir.read(with_sor_codes(payload)), owed, now=NOW)


async def deliver_dis91(hub: Hub, channel: RecordingChannel) -> tuple[str, bytes, bytes]:
    """The GP's DIS91 delivered as a CareCommunication: (message id, DIS91, what was sent)."""
    data = dis91_from_the_gp()
    result = await hub.ingest(data, received_via="test", authenticated_glns=frozenset({GP}))
    assert result.state == "routed", result
    (message_id,) = result.message_ids
    await eventually(lambda: hub.message_view(message_id)["state"] == "delivered")
    (delivery,) = channel.delivered[FHIR_KOMMUNE]
    assert (delivery.format, delivery.type) == ("fhir", "FDIS91")
    return message_id, data, delivery.payload


def contrls(channel: RecordingChannel) -> list:
    """The CONTRL interchanges the GP was delivered."""
    return [parse_edifact(d.payload) for d in channel.delivered.get(GP, [])]


async def test_an_ok_for_a_dis91_delivered_as_fhir_comes_back_to_the_gp_as_a_ctl03(
        hub, client, channel) -> None:
    async with running(hub):
        message_id, data, sent = await deliver_dis91(hub, channel)
        twin = fhir.read_leniently(sent)[0]
        assert twin is not None and hub.message_view(message_id)["state"] == "delivered"
        # The municipality's system posts its Acknowledgement in a reliable VANSEnvelope.
        ack = acknowledgement_of(sent, "ok")
        answered = await client.post("/v1/messages", content=envelope(
            ack, sender=FHIR_KOMMUNE, receiver=GP, name="FCTL#ok"), headers={
                "X-API-Key": FHIR_KOMMUNE_KEY, "Content-Type": "application/xml"})
        assert answered.status_code == 200, answered.text
        assert parse(answered.content).receipt.kind is ReceiptKind.POSITIVE_MESSAGE
        (ack_id,) = answered.headers["x-medbro-message-ids"].split(",")
        assert hub.message_view(ack_id)["state"] == "delivered"  # it ends with medbro
        await eventually(lambda: hub.message_view(message_id)["state"] == "acknowledged")
        await eventually(lambda: len(contrls(channel)) == 1)

        # The same Acknowledgement again (a transport retry): a duplicate, no second CONTRL.
        again = await hub.ingest(ack, received_via="test",
                                 authenticated_glns=frozenset({FHIR_KOMMUNE}))
        assert again.duplicate
        # Another ok for the same message (a new Acknowledgement): recorded, ignored.
        await hub.ingest(acknowledgement_of(sent, "ok"), received_via="test")
        await asyncio.sleep(0.5)  # time for a wrong second CONTRL to show
    (ctl,) = contrls(channel)
    receipt = ctl.messages[0].letter
    original = parse_edifact(data).envelope
    assert receipt.type == "CTL03"
    assert (ctl.envelope.sender, ctl.envelope.recipient) == (FHIR_KOMMUNE, GP)
    assert receipt.original_control_ref == original.control_ref
    assert [d.format for d in channel.delivered[GP]] == ["edifact"]  # no Acknowledgement
    view = hub.message_view(message_id)
    assert [(r["direction"], r["kind"]) for r in view["receipts"]] == [
        ("in", "FCTL"), ("out", "CTL03"), ("in", "FCTL")]
    assert len(channel.delivered[FHIR_KOMMUNE]) == 1

    # The GP's resend of the DIS91 (the same UNB reference) gets that CTL03 as its receipt.
    dup = await hub.ingest(data, received_via="test", authenticated_glns=frozenset({GP}))
    assert dup.duplicate and dup.receipt is not None
    assert parse_edifact(dup.receipt).messages[0].letter.type == "CTL03"


async def test_a_fatal_error_for_a_dis91_delivered_as_fhir_is_a_ctl02(hub, channel) -> None:
    async with running(hub):
        message_id, _data, sent = await deliver_dis91(hub, channel)
        await hub.ingest(acknowledgement_of(sent, "fatal-error"), received_via="test")
        await eventually(lambda: hub.message_view(message_id)["state"] == "failed")
        await eventually(lambda: len(contrls(channel)) == 1)
    (ctl,) = contrls(channel)
    receipt = ctl.messages[0].letter
    assert (receipt.type, str(receipt.refusal)) == ("CTL02", "NC")
    assert "Ukendt CPR-nummer" in receipt.text


async def test_a_transient_error_for_a_dis91_delivered_as_fhir_writes_no_contrl(
        hub, channel) -> None:
    async with running(hub):
        message_id, _data, sent = await deliver_dis91(hub, channel)
        await hub.ingest(acknowledgement_of(sent, "transient-error"), received_via="test")
        # The resend rule acts at once: the DIS91 is sent again; the GP hears nothing yet.
        await eventually(lambda: len(channel.delivered[FHIR_KOMMUNE]) == 2)
        await eventually(lambda: hub.message_view(message_id)["state"] == "delivered")
    assert contrls(channel) == []
    assert hub.message_view(message_id)["resend_count"] == 1
    # The resend is a new send of the same CareCommunication: a new Bundle.id (MedCom MR7).
    first, again = (fhir.read_leniently(p)[0] for p in channel.payloads(FHIR_KOMMUNE))
    assert first is not None and again is not None
    assert again.header_id == first.header_id and again.bundle_id != first.bundle_id


# -- Bundle.id reuse --------------------------------------------------------------------------

BUNDLE_ID = b"add5e7e2-0c0f-4a4a-bfff-f6f984fa7e3c"  # the CareCommunication's Bundle.id


async def test_a_reused_bundle_id_is_refused_and_a_retry_is_a_duplicate(
        hub, client, channel) -> None:
    data = care()
    async with running(hub):
        first = await post(client, data)
        (message_id,) = first.headers["x-medbro-message-ids"].split(",")
        await eventually(lambda: hub.message_view(message_id)["state"] == "delivered")

        # The same Bundle.id and MessageHeader.id again (a transport retry): a duplicate.
        retry = await post(client, data)
        assert retry.headers["x-medbro-message-ids"] == message_id

        # A new message (new MessageHeader.id) under the same Bundle.id: refused.
        other = str(uuid.uuid4())
        reused = await post(client, data.replace(bundles.HEADER_ID.encode(), other.encode()))
        assert parse(reused.content).receipt.kind is ReceiptKind.NEGATIVE_MESSAGE
        (rejected_id,) = reused.headers["x-medbro-message-ids"].split(",")
        view = hub.message_view(rejected_id)
        assert view["state"] == "rejected"
        assert view["summary"]["error"]["code"] == "BUNDLE_REUSED"
        assert view["summary"]["error"]["path"] == "Bundle.id"
        await eventually(lambda: len(channel.payloads(KOMMUNE)) == 1)

        # A resend (new Bundle.id) is a duplicate, and its Bundle.id is remembered too.
        resend_bundle = str(uuid.uuid4()).encode()
        again = data.replace(BUNDLE_ID, resend_bundle)
        assert (await post(client, again)).headers["x-medbro-message-ids"] == message_id
        third = str(uuid.uuid4())
        reused_again = await post(client, again.replace(bundles.HEADER_ID.encode(),
                                                        third.encode()))
        assert parse(reused_again.content).receipt.kind is ReceiptKind.NEGATIVE_MESSAGE
        await eventually(lambda: len(channel.payloads(KOMMUNE)) == 2)
        await asyncio.sleep(0.5)  # time for a wrong second delivery to show
    ack, ack_again = channel.payloads(KOMMUNE)
    assert response_of(ack) == ("fatal-error", other)
    assert BUNDLE_ID in ack and b"Bundle.id" in ack
    assert response_of(ack_again) == ("fatal-error", third) and resend_bundle in ack_again
    assert len(channel.delivered[GP]) == 1


# -- an operator's redelivery is a new send ---------------------------------------------------

def sends(payloads: list[bytes]) -> list[tuple[str, str]]:
    return [(m.bundle_id, m.header_id) for m in map(fhir.read, payloads)]


async def test_an_operators_replay_and_release_send_new_bundle_ids(hub, client, channel) -> None:
    data = care()
    async with running(hub):
        first = await post(client, data)
        (message_id,) = first.headers["x-medbro-message-ids"].split(",")
        await eventually(lambda: hub.message_view(message_id)["state"] == "delivered")

        # The receiver lost it: an operator replays it.
        await actions.act(hub, message_id, "replay", who=OPERATOR, reason="lost", now=NOW)
        await eventually(lambda: len(channel.delivered[GP]) == 2)
        await eventually(lambda: hub.message_view(message_id)["state"] == "delivered")

        # The GP is down for good: the third send is parked; the operator releases it.
        channel.permanent.add(GP)
        await actions.act(hub, message_id, "replay", who=OPERATOR, reason="again", now=NOW)
        await eventually(lambda: hub.message_view(message_id)["state"] == "parked")
        channel.permanent.discard(GP)
        await actions.act(hub, message_id, "release", who=OPERATOR, reason="up", now=NOW)
        await eventually(lambda: len(channel.delivered[GP]) == 3)
        await eventually(lambda: hub.message_view(message_id)["state"] == "delivered")
    payloads = channel.payloads(GP)
    assert payloads[0] == data  # the first send as it came
    ids = sends(payloads)
    assert len({bundle_id for bundle_id, _ in ids}) == 3  # every send a Bundle.id of its own
    assert {header_id for _, header_id in ids} == {bundles.HEADER_ID}
    view = hub.message_view(message_id)
    named = [e["detail"]["bundle_id"] for e in view["events"]
             if e["event"] in ("message_replay", "message_requeue")]
    assert named[0] == ids[1][0] and named[-1] == ids[2][0]
    assert view["resend_count"] == 0  # the automatic resend budget is untouched
