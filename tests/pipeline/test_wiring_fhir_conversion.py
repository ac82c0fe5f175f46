"""FHIR <-> EDIFACT conversion at delivery, end to end (issue acceptance): a CareCommunication
posted by a municipality in a VANSEnvelope reaches an EDIFACT-only GP as a DIS91 interchange;
the GP's CTL03 for that DIS91 comes back to the municipality as an ``ok`` Acknowledgement of
the original MessageHeader.id, and the original ends acknowledged; a resend of the same
MessageHeader.id gets the same Acknowledgement and no second delivery. A DIS91 reaches a
``deliver_as = "fhir"`` endpoint as a CareCommunication Bundle.

On SQLite and PostgreSQL, on the in-process transport and on RabbitMQ (conftest fixtures).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime

import httpx
import pytest

from adapters.vans import ReceiptKind, parse
from gateway import fhir
from gateway.edifact import parse as parse_edifact
from gateway.edifact.letters import render_letter
from gateway.edifact.receipts import Original, build_receipt
from gateway.fhir.convert import edifact_refs
from gateway.model import Letter, RefusalCode
from gateway.pipeline import Hub
from gateway.registry import Registry, hash_api_key
from gateway.settings import Settings
from tests.medcom_fhir import bundles
from tests.medcom_samples import sample_bytes
from tests.pipeline.conftest import RecordingChannel, eventually, receipt_for, running
from tests.pipeline.fhir_wiring import (
    KEYS,
    KOMMUNE,
    api_client,
    care,
    post,
    resent,
    response_of,
    started_hub,
)

GP = bundles.GP["gln"]
HOSPITAL = "5790000120400"  # the DIS91 sample's sender
FHIR_KOMMUNE = "5790000128700"  # the DIS91 sample's receiver: a municipality that takes FHIR


def registry() -> Registry:
    return Registry.from_dict({
        "endpoints": [
            {"gln": KOMMUNE, "name": "Aarhus Kommune", "kind": "municipality",
             "accepts": [{"type": "FCTL"}], "channel": {"kind": "recording"}},
            # EDIFACT only: takes DIS91, not FDIS91; deliver_as is the default "edifact"
            {"gln": GP, "name": "Lægehuset Vestergade", "kind": "gp",
             "accepts": [{"type": "DIS91"}], "channel": {"kind": "recording"}},
            {"gln": HOSPITAL, "name": "Sygehus", "kind": "hospital",
             "accepts": [{"type": "DIS91"}], "channel": {"kind": "recording"}},
            {"gln": FHIR_KOMMUNE, "name": "Kommune (FHIR)", "kind": "municipality",
             "accepts": [{"type": "FDIS91"}], "channel": {"kind": "recording"},
             "deliver_as": "fhir"},
        ],
        "organisations": [
            {"name": "kommune", "glns": [KOMMUNE], "api_key_sha256": [hash_api_key(KEYS[KOMMUNE])]},
            {"name": "gp", "glns": [GP], "api_key_sha256": [hash_api_key(KEYS[GP])]},
        ],
    })


@pytest.fixture
async def hub(fresh_db: str, broker: str, broker_prefix: str,
              channel: RecordingChannel) -> AsyncIterator[Hub]:
    settings = Settings.load(database_url=fresh_db, broker_url=broker,
                             broker_prefix=broker_prefix, retry_delays_seconds=(0.2, 0.5),
                             scan_interval_seconds=0.1)
    async with started_hub(settings, registry(), channel) as started:
        yield started


@pytest.fixture
async def client(hub: Hub) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(hub) as c:
        yield c


async def test_care_communication_reaches_an_edifact_gp_as_dis91_and_its_ctl03_is_an_ok(
        hub, client, channel) -> None:
    data = care()
    async with running(hub):
        first = await post(client, data, receiver=GP)
        assert parse(first.content).receipt.kind is ReceiptKind.POSITIVE_MESSAGE
        (message_id,) = first.headers["x-medbro-message-ids"].split(",")
        await eventually(lambda: hub.message_view(message_id)["state"] == "delivered")

        # The GP got a DIS91 interchange, whose letter says what the CareCommunication said.
        (delivery,) = channel.delivered[GP]
        assert (delivery.format, delivery.type, delivery.version) == ("edifact", "DIS91",
                                                                        "D9134L")
        interchange = parse_edifact(delivery.payload)
        ref = edifact_refs(fhir.read(data))
        assert (interchange.envelope.sender, interchange.envelope.recipient,
                interchange.envelope.control_ref) == (KOMMUNE, GP, ref)
        assert interchange.envelope.ack_requested  # the municipality is owed an answer
        letter = interchange.messages[0].letter
        assert isinstance(letter, Letter) and letter.type == "DIS91"
        assert letter.patient is not None and letter.patient.cpr == "0201919990"
        assert [t.text for t in letter.texts] == ["Forundersøgelse",
                                                  "Vi beder om blodtryk.\nVenlig hilsen"]
        # The store keeps the Bundle as it came; the delivery names the twin's reference.
        view = hub.message_view(message_id)
        assert view["format"] == "fhir" and view["message_ref"] == bundles.HEADER_ID
        delivered = [e for e in view["events"] if e["event"] == "message_deliver"]
        assert delivered[-1]["detail"]["converted_ref"] == ref

        # The GP's system answers the DIS91 with a CTL03, posted as EDIFACT.
        ctl03 = receipt_for(delivery.payload)
        answered = await client.post("/v1/messages", content=ctl03, headers={
            "X-API-Key": KEYS[GP], "Content-Type": "application/edifact"})
        assert answered.status_code == 202, answered.text
        await eventually(lambda: hub.message_view(message_id)["state"] == "acknowledged")
        await eventually(lambda: len(channel.payloads(KOMMUNE)) == 1)
        (ack,) = channel.payloads(KOMMUNE)
        message = fhir.read(ack)  # written as the GP: every MedCom rule kept
        assert response_of(ack) == ("ok", bundles.HEADER_ID)
        assert message.sender is not None and message.sender.gln == GP
        assert [d.format for d in channel.delivered[KOMMUNE]] == ["fhir"]  # no CONTRL
        receipts = hub.message_view(message_id)["receipts"]
        assert [(r["direction"], r["kind"]) for r in receipts] == [("in", "CTL03"),
                                                                    ("out", "FCTL")]
        assert answered.json()["state"] == "delivered"  # the CONTRL ended with medbro

        # A resend (new Bundle.id and envelope, same MessageHeader.id): the same
        # Acknowledgement again, and the GP gets nothing new.
        again = await post(client, resent(data), receiver=GP)
        assert again.headers["x-medbro-message-ids"] == message_id
        await eventually(lambda: channel.payloads(KOMMUNE) == [ack, ack])
        await asyncio.sleep(0.5)  # time for a wrong second delivery to show
    assert len(channel.delivered[GP]) == 1
    assert hub.message_view(message_id)["state"] == "acknowledged"


async def test_a_negative_ctl_for_the_twin_is_a_fatal_error(hub, client, channel) -> None:
    data = care()
    async with running(hub):
        first = await post(client, data, receiver=GP)
        (message_id,) = first.headers["x-medbro-message-ids"].split(",")
        await eventually(lambda: GP in channel.delivered)
        twin = parse_edifact(channel.delivered[GP][0].payload)
        ctl02 = render_letter(*build_receipt(
            "CTL02", Original.of(twin), now=datetime(2026, 12, 5, 11, 0),
            refusal=RefusalCode.NC, text="Ukendt CPR-nummer"))
        await hub.ingest(ctl02, received_via="test")
        await eventually(lambda: hub.message_view(message_id)["state"] == "failed")
        await eventually(lambda: len(channel.payloads(KOMMUNE)) == 1)
    (ack,) = channel.payloads(KOMMUNE)
    assert response_of(ack) == ("fatal-error", bundles.HEADER_ID)
    assert b"Ukendt CPR-nummer" in ack  # the GP's reason, in the OperationOutcome


async def test_dis91_reaches_a_fhir_endpoint_as_a_care_communication(
        samples_dir, hub, channel) -> None:
    data = sample_bytes("edifact_DIS91_1.edi")
    async with running(hub):
        result = await hub.ingest(data, received_via="test")
        assert result.state == "routed", result
        await eventually(lambda: hub.message_view(result.message_ids[0])["state"]
                         == "delivered")
    (delivery,) = channel.delivered[FHIR_KOMMUNE]
    assert (delivery.format, delivery.type) == ("fhir", "FDIS91")
    message, _problem = fhir.read_leniently(delivery.payload)  # no SOR codes configured
    assert message is not None and message.type == "FDIS91"
    assert delivery.control_ref == message.header_id
    letter = parse_edifact(data).messages[0].letter
    assert letter.patient is not None and letter.patient.cpr.encode() in delivery.payload
    view = hub.message_view(result.message_ids[0])
    assert view["format"] == "edifact"  # stored as it came
    assert [e["detail"].get("converted_ref") for e in view["events"]
            if e["event"] == "message_deliver"] == [message.header_id]
