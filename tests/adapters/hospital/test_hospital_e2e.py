"""End to end: a hospital posts an XDIS01 in a VANSEnvelope over HTTP to a GP that only takes
EDIFACT; the GP's EDI outbox gets a valid DIS01 (the pipeline on memory and on RabbitMQ).
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import datetime

import httpx
import pytest

from adapters.vans import EndPoint, ReceiptKind, parse, serialize, wrap
from adapters.vans import http as vans_http
from gateway.api.app import create_app
from gateway.edifact import parse as parse_edifact
from gateway.pipeline import Hub
from gateway.registry import Registry, hash_api_key
from gateway.settings import Settings
from tests.conftest import sample_bytes
from tests.pipeline.conftest import eventually, running

HOSPITAL, GP = "5790000120420", "5790000128686"  # the DIS01 twins' sender and receiver


@pytest.fixture(params=["memory", pytest.param("rabbitmq", marks=pytest.mark.rabbitmq)])
def broker(request):
    return "memory://" if request.param == "memory" else request.getfixturevalue("amqp_url")


@pytest.fixture
async def hub(tmp_path, broker, broker_prefix):
    registry = Registry.from_dict({
        "endpoints": [
            {"gln": HOSPITAL, "name": "Hillerød", "kind": "hospital",
             "accepts": [{"type": "CTL03"}, {"type": "CTL02"}],
             "channel": {"kind": "edi_mailbox", "outbox": str(tmp_path / "hospital-out")}},
            {"gln": GP, "name": "Lægehuset", "kind": "gp", "accepts": [{"type": "DIS01"}],
             "channel": {"kind": "edi_mailbox", "outbox": str(tmp_path / "gp-out")}},
        ],
        "organisations": [{"name": "region", "glns": [HOSPITAL],
                           "api_key_sha256": [hash_api_key("k-region")]}],
    })
    settings = Settings.load(database_url=f"sqlite:///{tmp_path / 'medbro.db'}",
                             broker_url=broker, broker_prefix=broker_prefix,
                             retry_delays_seconds=(0.2, 0.5), scan_interval_seconds=0.1)
    hub = Hub(settings, registry)
    await hub.start()
    try:
        yield hub
    finally:
        with contextlib.suppress(Exception):
            await hub.transport.delete(hub.topology)
        await hub.stop()


async def test_xdis01_in_a_vans_envelope_reaches_an_edifact_gp_as_dis01(hub, tmp_path,
                                                                       samples_dir):
    xml = sample_bytes("oioxml_DIS01_1.xml")
    envelope = serialize(wrap(
        xml, sender=EndPoint(HOSPITAL), receiver=EndPoint(GP), message_type="XDIS01",
        version="XD0133L", envelope_id=str(uuid.uuid4()), message_id=str(uuid.uuid4()),
        now=datetime(2026, 11, 22, 10, 0)))
    app = create_app(hub, manage_hub=False)
    try:
        async with running(hub), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://medbro.test") as client:
            response = await client.post("/v1/hospital/letters", content=envelope,
                                         headers={"X-API-Key": "k-region",
                                                  "Content-Type": "application/xml"})
            assert response.status_code == 200, response.text
            receipt = parse(response.content).receipt
            assert receipt.kind is ReceiptKind.POSITIVE_MESSAGE
            (message_id,) = response.headers["x-medbro-message-ids"].split(",")
            await eventually(lambda: hub.message_view(message_id)["state"] == "delivered")
    finally:
        vans_http.close(app)
    (written,) = list((tmp_path / "gp-out").glob("*.edi"))
    dis01 = parse_edifact(written.read_bytes())
    twin = parse_edifact(sample_bytes("edifact_DIS01_1.edi"))
    assert dis01.messages[0].type == "DIS01"
    assert dis01.messages[0].letter == twin.messages[0].letter
    assert (dis01.envelope.sender, dis01.envelope.recipient) == (HOSPITAL, GP)


async def test_the_xdis22_sample_envelope_is_stored_and_answered(tmp_path, broker_prefix,
                                                                 samples_dir):
    """The MedCom XDIS22 envelope through the real hub: the payload is stored and routed by
    the envelope's facts to the receiver that takes XDIS22; the sender gets a PositiveMessage."""
    sender, receiver = "5790001659592", "5790000121526"
    registry = Registry.from_dict({
        "endpoints": [
            {"gln": sender, "name": "Odense akut", "kind": "municipality",
             "channel": {"kind": "local"}},
            {"gln": receiver, "name": "Lægen", "kind": "gp", "accepts": [{"type": "XDIS22"}],
             "channel": {"kind": "local"}},
        ],
        "organisations": [{"name": "odense", "glns": [sender],
                           "api_key_sha256": [hash_api_key("k-odense")]}],
    })
    settings = Settings.load(database_url=f"sqlite:///{tmp_path / 'medbro.db'}",
                             broker_url="memory://", broker_prefix=broker_prefix)
    hub = Hub(settings, registry)
    await hub.start()
    app = create_app(hub, manage_hub=False)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://medbro.test") as client:
            response = await client.post(
                "/v1/hospital/letters",
                content=sample_bytes("vansenvelope_1.0.4_XDIS22_message.xml"),
                headers={"X-API-Key": "k-odense", "Content-Type": "application/xml"})
        assert response.status_code == 200, response.text
        receipt = parse(response.content).receipt
        assert receipt.kind is ReceiptKind.POSITIVE_MESSAGE
        (message_id,) = response.headers["x-medbro-message-ids"].split(",")
        view = hub.message_view(message_id)
        assert (view["state"], view["type"], view["format"]) == ("routed", "XDIS22", "oioxml")
    finally:
        vans_http.close(app)
        await hub.stop()


async def test_discharge_events_start_the_sla_clocks(tmp_path, broker_prefix, samples_dir):
    """Both discharge forms reach the SLA clocks: JSON through the redirect to the SLA intake,
    DIS17 through the hub (whose SLA observer records the discharge)."""
    from sqlalchemy import select

    from gateway.sla.tables import Discharge

    hospital, receiver = "5790000143054", "5790000143055"  # the DIS17 sample's parties
    registry = Registry.from_dict({
        "endpoints": [
            {"gln": hospital, "name": "Sygehus", "kind": "hospital",
             "channel": {"kind": "local"}},
            {"gln": receiver, "name": "Kommune", "kind": "municipality",
             "accepts": [{"type": "DIS17"}], "channel": {"kind": "local"}},
        ],
        "organisations": [{"name": "region", "glns": [hospital], "hospitals": ["1301"],
                           "api_key_sha256": [hash_api_key("k-region")]}],
    })
    settings = Settings.load(database_url=f"sqlite:///{tmp_path / 'medbro.db'}",
                             broker_url="memory://", broker_prefix=broker_prefix)
    hub = Hub(settings, registry)
    await hub.start()
    app = create_app(hub, manage_hub=False)
    headers = {"X-API-Key": "k-region"}
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://medbro.test",
                                     follow_redirects=True) as client:
            event = {"hospital": "1301", "department": "1301011", "patient_cpr": "0101011234",
                     "discharge_id": "ADM-1", "discharged_at": "2026-11-20T10:00:00"}
            json_answer = await client.post("/v1/hospital/discharges", json=event,
                                            headers=headers)
            assert json_answer.status_code == 201, json_answer.text
            assert json_answer.json()["discharge_key"] == "1301/ADM-1"
            dis17 = await client.post("/v1/hospital/discharges",
                                      content=sample_bytes("edifact_DIS17_1.edi"),
                                      headers={**headers, "Content-Type": "application/edifact"})
            assert dis17.status_code == 202, dis17.text
        with hub.store.transaction() as session:
            sources = sorted(session.scalars(select(Discharge.source)).all())
        assert sources == ["api", "dis17"]
    finally:
        await hub.stop()
