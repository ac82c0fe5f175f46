"""SOR codes from the partner file in the FHIR messages medbro writes: its Acknowledgements as
a network hop (its own Organization: the SOR code of the endpoint with medbro's GLN) and the
CareCommunications it makes from DIS91s (the sender's and the receiver's). MedCom's
Organizations carry the SOR-ID beside the EAN-ID (MedComCoreOrganization, SOR-ID 1..;
MedComMessagingOrganization, EAN-ID 1..), and the MessageHeader's endpoints are SOR addresses.
Without a SOR code configured the GLN is written alone, as before."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from gateway import fhir
from gateway.channels import Delivery
from gateway.fhir import codes
from gateway.pipeline import Hub
from gateway.pipeline.conversion import convert_for
from gateway.pipeline.ingest_verdict import Known, Refuse, decide_ingest
from gateway.pipeline.inputs import read
from gateway.registry import Registry
from gateway.settings import Settings
from tests.medcom_fhir import bundles
from tests.medcom_samples import sample_bytes
from tests.pipeline.conftest import RecordingChannel, eventually, running
from tests.pipeline.fhir_wiring import started_hub

MEDBRO, MEDBRO_SOR = "5790000000000", "100071000016001"
UNKNOWN = "5790009999994"
NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
DIS91_SENDER, DIS91_RECEIVER = "5790000120400", "5790000128700"  # the DIS91 sample's parties
SENDER_SOR, RECEIVER_SOR = "100081000016008", "100091000016006"


def endpoint(gln: str, **extra) -> dict:
    return {"gln": gln, "name": f"party {gln}", "kind": "municipality",
            "accepts": [{"type": "FDIS91"}, {"type": "FCTL"}],
            "channel": {"kind": "recording"}, **extra}


def registry(medbro_sor: str | None) -> Registry:
    medbro = endpoint(MEDBRO, accepts=[], channel={"kind": "local"})
    if medbro_sor:
        medbro["sor"] = medbro_sor
    return Registry.from_dict({"endpoints": [
        endpoint(bundles.MUNICIPALITY["gln"]), endpoint(bundles.GP["gln"]), medbro]})


def hop_acknowledgement(medbro_sor: str | None) -> bytes:
    """medbro's fatal-error for a CareCommunication to a receiver nobody knows (a hop)."""
    stranger = {**bundles.GP, "gln": UNKNOWN}
    item = read(bundles.to_bytes(bundles.care_communication(receiver=stranger)),
                received_via="test")
    verdict = decide_ingest(item, Known(), registry(medbro_sor), now=NOW, medbro_gln=MEDBRO)
    assert isinstance(verdict, Refuse) and verdict.receipt is not None, verdict
    return verdict.receipt


def identifiers(message, org) -> dict[str, str]:
    ref_id = org.reference.rsplit("/", 1)[-1]
    (resource,) = [e.resource for e in message.bundle.entry
                   if e.resource.get_resource_type() == "Organization" and e.resource.id == ref_id]
    return {i.system: i.value for i in resource.identifier}


def test_a_hop_acknowledgement_names_medbro_by_gln_and_sor():
    message = fhir.read(hop_acknowledgement(MEDBRO_SOR))  # every rule holds, the SOR one too
    assert message.response is not None and message.response.code == "fatal-error"
    assert (message.sender.gln, message.sender.sor) == (MEDBRO, MEDBRO_SOR)
    assert identifiers(message, message.sender) == {codes.GLN_SYSTEM: MEDBRO,
                                                    codes.SOR_SYSTEM: MEDBRO_SOR}
    assert message.source_endpoint == f"{codes.SOR_ENDPOINT}{MEDBRO_SOR}"
    # The destination is the original sender, as the original named it (GLN and SOR).
    assert (message.receiver.gln, message.receiver.sor) == (bundles.MUNICIPALITY["gln"],
                                                            bundles.MUNICIPALITY["sor"])


def test_without_a_sor_code_a_hop_acknowledgement_names_medbro_by_gln_only():
    data = hop_acknowledgement(None)
    message, problem = fhir.read_leniently(data)
    assert message is not None and (message.sender.gln, message.sender.sor) == (MEDBRO, "")
    assert identifiers(message, message.sender) == {codes.GLN_SYSTEM: MEDBRO}
    assert message.source_endpoint == f"urn:gln:{MEDBRO}"
    assert problem is not None and "has no SOR identifier" in str(problem)


def dis91_delivery(samples_dir) -> Delivery:
    return Delivery(message_id="m1", payload=sample_bytes("edifact_DIS91_1.edi"),
                    sender_gln=DIS91_SENDER, receiver_gln=DIS91_RECEIVER, control_ref="K1",
                    type="DIS91", version="D9134L")


SORS = {DIS91_SENDER: SENDER_SOR, DIS91_RECEIVER: RECEIVER_SOR}


def test_a_care_communication_made_from_a_dis91_carries_the_partner_files_sor_codes(
        samples_dir):
    fhir_endpoint = Registry.from_dict({"endpoints": [endpoint(
        DIS91_RECEIVER, deliver_as="fhir", sor=RECEIVER_SOR)]}).endpoint(DIS91_RECEIVER)
    converted = convert_for(fhir_endpoint, dis91_delivery(samples_dir), sor_by_gln=SORS)
    message = fhir.read(converted.payload)  # valid: both Organizations have their SOR-ID
    assert (message.sender.gln, message.sender.sor) == (DIS91_SENDER, SENDER_SOR)
    assert (message.receiver.gln, message.receiver.sor) == (DIS91_RECEIVER, RECEIVER_SOR)
    assert message.source_endpoint == f"{codes.SOR_ENDPOINT}{SENDER_SOR}"
    assert message.destination_endpoint == f"{codes.SOR_ENDPOINT}{RECEIVER_SOR}"
    # Without SOR codes: GLN only, as before (a strict receiver refuses it).
    bare, problem = fhir.read_leniently(
        convert_for(fhir_endpoint, dis91_delivery(samples_dir)).payload)
    assert bare is not None and (bare.sender.sor, bare.receiver.sor) == ("", "")
    assert bare.source_endpoint == f"urn:gln:{DIS91_SENDER}"
    assert problem is not None and "SOR" in str(problem)


@pytest.fixture
async def hub(fresh_db: str, broker_prefix: str,
              channel: RecordingChannel) -> AsyncIterator[Hub]:
    partners = Registry.from_dict({"endpoints": [
        {"gln": DIS91_SENDER, "name": "Sygehus", "kind": "hospital", "sor": SENDER_SOR,
         "accepts": [{"type": "DIS91"}], "channel": {"kind": "recording"}},
        endpoint(DIS91_RECEIVER, deliver_as="fhir", sor=RECEIVER_SOR)]})
    settings = Settings.load(database_url=fresh_db, broker_url="memory://",
                             broker_prefix=broker_prefix, retry_delays_seconds=(0.2, 0.5),
                             scan_interval_seconds=0.1)
    async with started_hub(settings, partners, channel) as started:
        yield started


async def test_a_dis91_delivered_to_a_fhir_endpoint_names_both_parties_by_sor(
        samples_dir, hub, channel) -> None:
    """Through the worker: the partner file's SOR codes reach the CareCommunication it hands
    over (SQLite and PostgreSQL)."""
    async with running(hub):
        result = await hub.ingest(sample_bytes("edifact_DIS91_1.edi"), received_via="test")
        assert result.state == "routed", result
        await eventually(lambda: hub.message_view(result.message_ids[0])["state"]
                         == "delivered")
    (delivery,) = channel.delivered[DIS91_RECEIVER]
    message = fhir.read(delivery.payload)
    assert (message.sender.sor, message.receiver.sor) == (SENDER_SOR, RECEIVER_SOR)
