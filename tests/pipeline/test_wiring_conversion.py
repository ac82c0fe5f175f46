"""Per-endpoint conversion at delivery: ``deliver_as`` decides the format the channel gets."""

from __future__ import annotations

import copy
import uuid

import pytest

from gateway.channels import Delivery, PermanentDeliveryError
from gateway.edifact import parse
from gateway.oioxml import detect_format, from_edifact, read
from gateway.pipeline import Hub
from gateway.pipeline.conversion import convert_for, target_format
from gateway.registry import Registry
from gateway.settings import Settings
from tests.medcom_samples import sample_bytes
from tests.pipeline.conftest import GP, HOSPITAL, PARTNERS, eventually, letter, running


def ref() -> str:
    return "K" + uuid.uuid4().hex[:10].upper()


def partners(deliver_as: str) -> dict:
    data = copy.deepcopy(PARTNERS)
    for endpoint in data["endpoints"]:
        if endpoint["gln"] == GP:
            endpoint["deliver_as"] = deliver_as
            endpoint["accepts"] = [{"type": "DIS01"}, {"type": "DIS02"}]
    return data


@pytest.fixture
async def oioxml_hub(pipeline_db, broker, broker_prefix, channel):
    settings = Settings.load(database_url=pipeline_db, broker_url=broker,
                             broker_prefix=broker_prefix, retry_delays_seconds=(0.2, 0.5),
                             scan_interval_seconds=0.1)
    hub = Hub(settings, Registry.from_dict(partners("oioxml")),
              channel_factory=lambda endpoint: channel)
    await hub.start()
    try:
        yield hub
    finally:
        await hub.transport.delete(hub.topology)
        await hub.stop()


async def test_edifact_letter_reaches_an_oioxml_endpoint_as_its_xml_twin(oioxml_hub, channel):
    data = letter(ref())
    async with running(oioxml_hub):
        result = await oioxml_hub.ingest(data, received_via="test")
        await eventually(lambda: oioxml_hub.message_view(result.message_ids[0])["state"]
                         == "delivered")
    (delivery,) = channel.delivered[GP]
    assert delivery.format == "oioxml"
    assert detect_format(delivery.payload).value == "oioxml"
    assert delivery.payload == from_edifact(data)
    envelope, xml_letter = read(delivery.payload)
    edi = parse(data)
    assert xml_letter.letter_id == edi.messages[0].letter.letter_id
    assert envelope.sender == HOSPITAL
    # The store keeps the interchange as it arrived.
    assert oioxml_hub.message_view(result.message_ids[0])["format"] == "edifact"


async def test_letter_without_an_oioxml_form_is_parked_with_the_reason(oioxml_hub, channel):
    data = sample_bytes("edifact_DIS02_1.edi")
    head = parse(data).envelope
    data = data.replace(f"+{head.sender}:14+{head.recipient}:14+".encode(),
                        f"+{HOSPITAL}:14+{GP}:14+".encode())
    async with running(oioxml_hub):
        result = await oioxml_hub.ingest(data, received_via="test")
        assert result.state == "routed", result
        await eventually(lambda: oioxml_hub.message_view(result.message_ids[0])["state"]
                         == "parked")
    view = oioxml_hub.message_view(result.message_ids[0])
    assert [t["kind"] for t in view["tasks"]] == ["undeliverable"]
    assert "takes oioxml" in view["tasks"][0]["reason"]
    assert GP not in channel.delivered


def test_oioxml_message_reaches_an_edifact_endpoint_as_edifact(samples_dir):
    xml = sample_bytes("oioxml_DIS01_1.xml")
    endpoint = Registry.from_dict(partners("edifact")).endpoint(GP)
    delivery = Delivery(message_id="m1", payload=xml, sender_gln=HOSPITAL, receiver_gln=GP,
                        control_ref="K1", type="DIS01", version="D0133L", format="oioxml")
    converted = convert_for(endpoint, delivery)
    assert converted.format == "edifact"
    interchange = parse(converted.payload)
    assert interchange.messages[0].type == "DIS01"
    assert interchange.messages[0].letter.letter_id == read(xml)[1].letter_id
    # Same format, or a local endpoint: handed over untouched.
    assert convert_for(endpoint, converted) is converted
    broken = Delivery(message_id="m2", payload=b"<Emessage/>", sender_gln=HOSPITAL,
                      receiver_gln=GP, control_ref="K2", type="DIS01", version="D0133L",
                      format="oioxml")
    with pytest.raises(PermanentDeliveryError, match="could not be converted from oioxml"):
        convert_for(endpoint, broken)


def _endpoint(deliver_as: str = "edifact", accepts: tuple[str, ...] = ("DIS91",),
              kind: str = "recording") -> object:
    return Registry.from_dict({"endpoints": [{
        "gln": GP, "name": "GP", "kind": "gp", "accepts": [{"type": t} for t in accepts],
        "channel": {"kind": kind}, "deliver_as": deliver_as}]}).endpoint(GP)


TARGETS = [
    # deliver_as, accepts, channel kind, stored format, type -> the format handed over
    ("edifact", ("DIS91",), "recording", "fhir", "FDIS91", "edifact"),  # EDIFACT-only GP
    ("oioxml", ("DIS91",), "recording", "fhir", "FDIS91", "oioxml"),
    ("edifact", ("FDIS91",), "recording", "fhir", "FDIS91", "fhir"),  # takes FHIR itself
    ("edifact", ("DIS91",), "recording", "fhir", "FCTL", "fhir"),  # no letter twin
    ("edifact", ("DIS91",), "recording", "fhir", "FDIS20", "fhir"),
    ("fhir", ("FDIS91",), "recording", "edifact", "DIS91", "fhir"),
    ("fhir", ("FDIS91",), "recording", "oioxml", "DIS91", "fhir"),
    ("fhir", ("FDIS91",), "recording", "fhir", "FDIS91", "fhir"),
    ("edifact", ("DIS01",), "recording", "oioxml", "DIS01", "edifact"),
    ("oioxml", ("DIS01",), "recording", "edifact", "DIS01", "oioxml"),
    ("edifact", ("DIS01",), "recording", "binary", "DIS01", "binary"),  # unknown: as stored
    ("fhir", ("FDIS91",), "local", "edifact", "DIS91", "edifact"),  # medbro itself
]


@pytest.mark.parametrize(("deliver_as", "accepts", "kind", "stored", "type_", "expected"),
                         TARGETS)
def test_target_format(deliver_as, accepts, kind, stored, type_, expected):
    endpoint = _endpoint(deliver_as, accepts, kind)
    assert target_format(endpoint, stored, type_) == expected


def test_a_dis01_has_no_fhir_form_for_a_fhir_endpoint(samples_dir):
    delivery = Delivery(message_id="m1", payload=letter(ref()), sender_gln=HOSPITAL,
                        receiver_gln=GP, control_ref="K1", type="DIS01", version="D0133L")
    with pytest.raises(PermanentDeliveryError, match="takes fhir"):
        convert_for(_endpoint("fhir", ("FDIS91",)), delivery)
