"""The VANSEnvelope channel against a real receiver over HTTP: medbro's own hospital router
(reliable mode, durable duplicate memory) served by uvicorn on a free port.
"""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager

import pytest
import uvicorn

import adapters.vans
from adapters.hospital.testing import FakeIngestResult, FakeSettings, RecordingHub
from adapters.vans import VansChannelConfig, VansHttpChannel, vans_message_id
from adapters.vans import http as vans_http
from gateway.api.app import create_app
from gateway.channels import Delivery, PermanentDeliveryError, TransientDeliveryError
from gateway.errors import ConfigError
from gateway.registry import Registry, hash_api_key
from tests.conftest import sample_bytes

HOSPITAL, GP = "5790000120420", "5790000128686"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def _serve(app):
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def receiver(tmp_path):
    registry = Registry.from_dict({
        "endpoints": [
            {"gln": HOSPITAL, "name": "Hillerød", "kind": "hospital", "channel": {"kind": "local"}},
            {"gln": GP, "name": "GP", "kind": "gp", "channel": {"kind": "local"}},
        ],
        "organisations": [{"name": "region", "glns": [HOSPITAL],
                           "api_key_sha256": [hash_api_key("k-region")]}],
    })
    hub = RecordingHub(FakeSettings(f"sqlite:///{tmp_path / 'receiver.db'}"), registry)
    app = create_app(hub, manage_hub=False)
    with _serve(app) as url:
        yield hub, f"{url}/v1/hospital/letters"
    vans_http.close(app)


def _delivery(message_id: str = "medbro-msg-1") -> Delivery:
    return Delivery(message_id=message_id, payload=sample_bytes("edifact_DIS01_1.edi"),
                    sender_gln=HOSPITAL, receiver_gln=GP, control_ref="KuvertNr012234",
                    type="DIS01", version="D0133L")


def _channel(url: str) -> VansHttpChannel:
    return VansHttpChannel(VansChannelConfig(GP, url, headers={"X-API-Key": "k-region"}))


async def test_delivered_once_and_a_resend_gets_the_same_positive_receipt(receiver,
                                                                          samples_dir):
    hub, url = receiver
    channel = _channel(url)
    try:
        first = await channel.deliver(None, _delivery())
        again = await channel.deliver(None, _delivery())  # a redelivery: a MedCom resend
    finally:
        await channel.aclose()
    assert first.external_ref == again.external_ref == f"vans:{vans_message_id('medbro-msg-1')}"
    assert [c["data"] for c in hub.ingested] == [sample_bytes("edifact_DIS01_1.edi")]


async def test_a_refusal_is_permanent_with_the_receivers_reason(receiver, samples_dir):
    hub, url = receiver
    hub.results.append(FakeIngestResult(["m1"], "rejected", error="UNT count wrong"))
    channel = _channel(url)
    try:
        with pytest.raises(PermanentDeliveryError, match="NegativeMessage .*UNT count wrong"):
            await channel.deliver(None, _delivery("medbro-msg-2"))
    finally:
        await channel.aclose()


async def test_wrong_api_key_is_permanent_and_no_server_is_transient(receiver, samples_dir):
    _hub, url = receiver
    wrong = VansHttpChannel(VansChannelConfig(GP, url, headers={"X-API-Key": "nope"}))
    down = _channel(f"http://127.0.0.1:{_free_port()}/v1/hospital/letters")
    try:
        with pytest.raises(PermanentDeliveryError, match="401"):
            await wrong.deliver(None, _delivery())
        with pytest.raises(TransientDeliveryError, match="failed"):
            await down.deliver(None, _delivery())
    finally:
        await wrong.aclose()
        await down.aclose()


def test_message_ids_are_stable_uuids():
    assert vans_message_id("a") == vans_message_id("a") != vans_message_id("b")


@pytest.mark.parametrize(("options", "message"), [
    ({}, "url"), ({"url": "ftp://x"}, "url"), ({"url": "http://x", "timeout": "soon"}, "timeout"),
    ({"url": "http://x", "api_key_env": "MEDBRO_TEST_UNSET_VANS_TOKEN"}, "not set"),
])
def test_bad_options_are_config_errors(options, message):
    # a missing url is refused by the registry already, the rest by the plugin
    with pytest.raises(ConfigError, match=message):
        registry = Registry.from_dict({"endpoints": [{
            "gln": GP, "name": "GP", "kind": "gp", "channel": {"kind": "vans", **options}}]})
        adapters.vans.channel(registry.endpoint(GP), None)


async def test_a_dis91_for_a_fhir_endpoint_travels_as_a_care_communication(samples_dir):
    """Conversion at delivery (gateway/pipeline/conversion.py) in front of the VANS channel:
    an endpoint ``deliver_as = "fhir"`` gets the DIS91 as a CareCommunication Bundle, in a
    VANSEnvelope marked as FHIR (Format HL7, ServiceTag MCM:MIME)."""
    import httpx

    from gateway import fhir
    from gateway.pipeline.conversion import ConvertingChannel

    posted: list[bytes] = []

    def answer(request: httpx.Request) -> httpx.Response:
        posted.append(request.content)
        return httpx.Response(202)

    endpoint = Registry.from_dict({"endpoints": [
        {"gln": GP, "name": "Kommune", "kind": "municipality", "accepts": [{"type": "FDIS91"}],
         "channel": {"kind": "vans", "url": "http://vans.test/in", "reliable": False},
         "deliver_as": "fhir"}]}).endpoint(GP)
    inner = VansHttpChannel(VansChannelConfig(GP, "http://vans.test/in", reliable=False),
                            transport=httpx.MockTransport(answer))
    dis91 = sample_bytes("edifact_DIS91_1.edi")
    delivery = Delivery(message_id="m-91", payload=dis91, sender_gln=HOSPITAL, receiver_gln=GP,
                        control_ref="KuvertNr012234", type="DIS91", version="D9134L")
    result = await ConvertingChannel(inner).deliver(endpoint, delivery)
    await inner.aclose()
    (body,) = posted
    payload, info = adapters.vans.unwrap(body)
    message, _problem = fhir.read_leniently(payload)  # no SOR directory: SOR codes missing
    assert message is not None and message.type == "FDIS91"
    assert (info.format, info.message_type) == ("fhir", "FDIS91")
    assert b"MCM:MIME" in body and b"application/fhir+json" in body
    # MedCom's envelope name carries the CareCommunication's category as its #postfix
    assert f"MCM:FDIS91#{message.postfix}".encode() in body and message.postfix
    assert result.converted_ref == message.header_id  # its Acknowledgement will name this
