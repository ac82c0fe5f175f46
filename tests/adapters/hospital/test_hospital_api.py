"""The hospital push router: what it hands the hub for each posted format, and its answers.

The hub here is the recording twin (adapters/hospital/testing.py); the path through the real
hub and broker is in test_hospital_e2e.py.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import httpx
import pytest

from adapters.hospital import FakeIngestResult, Posted, RecordingHub, detect
from adapters.vans import (
    DuplicateCase,
    EndPoint,
    ReceiptKind,
    parse,
    resend,
    serialize,
    wrap,
)
from adapters.vans import http as vans_http
from gateway.api.app import create_app
from gateway.registry import Registry, hash_api_key
from tests.conftest import sample_bytes

HOSPITAL, GP = "5790000120420", "5790000128686"
ODENSE = "5790001659592"  # the XDIS22 sample's sender ...
ODENSE_GP = "5790000121526"  # ... and its receiver
KEY = "k-hospital"


@pytest.fixture
def hub(tmp_path):
    registry = Registry.from_dict({
        "endpoints": [
            {"gln": HOSPITAL, "name": "Hillerød", "kind": "hospital", "channel": {"kind": "local"}},
            {"gln": GP, "name": "GP", "kind": "gp", "channel": {"kind": "local"}},
            {"gln": ODENSE, "name": "Odense akut", "kind": "municipality",
             "channel": {"kind": "local"}},
            {"gln": ODENSE_GP, "name": "Odense GP", "kind": "gp", "channel": {"kind": "local"}},
        ],
        "organisations": [{"name": "region", "glns": [HOSPITAL, ODENSE],
                           "api_key_sha256": [hash_api_key(KEY)]}],
    })
    from adapters.hospital.testing import FakeSettings

    return RecordingHub(FakeSettings(f"sqlite:///{tmp_path / 'medbro.db'}"), registry)


@pytest.fixture
async def client(hub):
    app = create_app(hub, manage_hub=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://medbro.test") as c:
        yield c
    vans_http.close(app)


def _post(client, body, path="/v1/hospital/letters", key=KEY, ctype="application/xml"):
    return client.post(path, content=body, headers={"X-API-Key": key, "Content-Type": ctype})


def _envelope(payload: bytes, *, sender=HOSPITAL, envelope_id=None, message_id=None,
              reliable=True) -> bytes:
    return serialize(wrap(
        payload, sender=EndPoint(sender), receiver=EndPoint(GP), message_type="DIS01",
        version="D0133L", envelope_id=envelope_id or str(uuid.uuid4()),
        message_id=message_id or str(uuid.uuid4()), now=datetime(2026, 11, 22, 10, 0),
        reliable=reliable,
    ))


@pytest.mark.parametrize(
    ("sample", "kind"),
    [
        ("edifact_DIS01_1.edi", Posted.EDIFACT),
        ("oioxml_DIS01_1.xml", Posted.OIOXML),
        ("vansenvelope_1.0.4_XDIS22_message.xml", Posted.VANS),
    ],
)
def test_detect_reads_the_format_from_the_bytes(samples_dir, sample, kind):
    assert detect(sample_bytes(sample)) is kind
    assert detect(b'  {"discharge_id": "1"}') is Posted.JSON
    assert detect(b"%PDF-1.4") is Posted.UNKNOWN


async def test_edifact_goes_to_the_hub_byte_for_byte(client, hub, samples_dir):
    data = sample_bytes("edifact_DIS01_1.edi")
    response = await _post(client, data, ctype="application/edifact")
    assert response.status_code == 202
    assert response.json()["message_ids"] == ["msg-1"]
    call = hub.ingested[0]
    assert call["data"] == data and call["received_via"] == "hospital-http"
    assert call["authenticated_glns"] == frozenset({HOSPITAL, ODENSE})
    assert call["source"] == "hospital:region"


async def test_oioxml_is_converted_to_the_edifact_twin(client, hub, samples_dir):
    response = await _post(client, sample_bytes("oioxml_DIS01_1.xml"))
    assert response.status_code == 202
    from gateway.edifact import parse as parse_edifact

    sent = parse_edifact(hub.ingested[0]["data"])
    twin = parse_edifact(sample_bytes("edifact_DIS01_1.edi"))
    assert sent.messages[0].letter == twin.messages[0].letter


async def test_refused_by_the_hub_is_422_with_the_receipt(client, hub, samples_dir):
    hub.results.append(FakeIngestResult(["m9"], "rejected", receipt=b"UNB+CTL02'",
                                        error="syntax error in segment 3"))
    response = await _post(client, sample_bytes("edifact_DIS01_1.edi"))
    assert response.status_code == 422
    assert response.json()["error"] == "syntax error in segment 3"
    assert response.json()["receipt"] == "UNB+CTL02'"


async def test_vans_envelope_payload_is_ingested_once_and_receipted(client, hub, samples_dir):
    edi = sample_bytes("edifact_DIS01_1.edi")
    first_env = _envelope(edi)
    first = await _post(client, first_env)
    assert first.status_code == 200 and first.headers["content-type"] == "application/xml"
    assert first.headers["x-medbro-message-ids"] == "msg-1"
    receipt = parse(first.content)
    assert receipt.receipt.kind is ReceiptKind.POSITIVE_MESSAGE
    assert (receipt.sender.id, receipt.receiver.id) == (GP, HOSPITAL)
    assert [c["data"] for c in hub.ingested] == [edi]
    # The hospital lost our receipt and resends with a new envelope id: same receipt again.
    again_env = serialize(resend(parse(first_env), envelope_id=str(uuid.uuid4()),
                                 now=datetime(2026, 11, 22, 10, 30)))
    again = await _post(client, again_env)
    assert again.headers["x-medbro-duplicate-case"] == DuplicateCase.RECEIPT_LOST.value
    assert parse(again.content).receipt == receipt.receipt
    assert len(hub.ingested) == 1


async def test_vans_payload_refused_by_the_hub_gets_a_negative_receipt(client, hub, samples_dir):
    hub.results.append(FakeIngestResult(["m9"], "rejected", error="UNT count wrong"))
    response = await _post(client, _envelope(sample_bytes("edifact_DIS01_1.edi")))
    receipt = parse(response.content).receipt
    assert receipt.kind is ReceiptKind.NEGATIVE_MESSAGE
    assert receipt.error.description == "UNT count wrong"


async def test_unreliable_envelope_is_answered_with_json(client, hub, samples_dir):
    response = await _post(client, _envelope(sample_bytes("edifact_DIS01_1.edi"),
                                             reliable=False))
    assert response.status_code == 202
    assert response.json()["case"] == "new" and response.json()["message_ids"] == ["msg-1"]


async def test_bad_envelope_is_400_with_the_reason(client, hub, samples_dir):
    data = sample_bytes("vansenvelope_1.0.4_XDIS22_message.xml").replace(
        b"<SentDateTime>2020-08-26T17:12:13<", b"<SentDateTime>yesterday<")
    response = await _post(client, data)
    assert response.status_code == 400 and "SentDateTime" in response.json()["detail"]


async def test_xdis22_sample_payload_is_handed_to_the_hub_raw(client, hub, samples_dir):
    """The MedCom XDIS22 sample envelope (2019 OIOXML namespace, which has no EDIFACT twin):
    its payload is extracted and handed to the hub as it is, with the envelope's facts as the
    routing hint, so it is stored whatever the hub decides; a refusal comes back as a
    NegativeMessage with the hub's reason."""
    from adapters.vans import unwrap

    hub.results.append(FakeIngestResult(["m1"], "rejected", error="not EDIFACT"))
    data = sample_bytes("vansenvelope_1.0.4_XDIS22_message.xml")
    response = await _post(client, data)
    assert response.status_code == 200
    assert [c["data"] for c in hub.ingested] == [unwrap(data)[0]]
    hint = hub.ingested[0]["hint"]
    assert (hint.sender_gln, hint.receiver_gln, hint.format, hint.type, hint.version,
            hint.message_key) == ("5790001659592", "5790000121526", "oioxml", "XDIS22",
                                  "XD2230L", "068dadff-12bb-406d-8c86-083974dc0180")
    receipt = parse(response.content).receipt
    assert receipt.original_envelope_id == "068dadff-12bb-406d-8c86-083974dc0180"
    assert receipt.original_message.document.name == "MCM:XDIS22"
    assert receipt.kind is ReceiptKind.NEGATIVE_MESSAGE
    assert receipt.error.description == "not EDIFACT"


async def test_unknown_body_is_415_and_empty_is_400(client, hub):
    assert (await _post(client, b"%PDF-1.4 ...")).status_code == 415
    assert (await _post(client, b"")).status_code == 400
    assert (await _post(client, b"UNB", key="wrong")).status_code == 401


async def test_dis17_goes_to_the_hub_and_json_is_sent_to_the_sla_intake(client, hub,
                                                                        samples_dir):
    dis17 = sample_bytes("edifact_DIS17_1.edi")
    response = await _post(client, dis17, path="/v1/hospital/discharges")
    assert response.status_code == 202 and hub.ingested[0]["data"] == dis17
    json_event = await _post(client, b'{"discharge_id": "A1"}', path="/v1/hospital/discharges",
                             ctype="application/json")
    assert json_event.status_code == 307
    assert json_event.headers["location"] == "/v1/discharges"
    assert len(hub.ingested) == 1


async def test_envelope_for_an_unknown_receiver_gets_code_4(client, hub, samples_dir):
    data = serialize(wrap(
        sample_bytes("edifact_DIS01_1.edi"), sender=EndPoint(HOSPITAL),
        receiver=EndPoint("5790009999994"), message_type="DIS01", version="D0133L",
        envelope_id=str(uuid.uuid4()), message_id=str(uuid.uuid4()),
        now=datetime(2026, 11, 22, 10, 0)))
    receipt = parse((await _post(client, data)).content).receipt
    assert receipt.kind is ReceiptKind.NEGATIVE_MESSAGE and receipt.error.code == 4
    assert not hub.ingested


async def test_unconvertible_oioxml_is_still_handed_to_the_hub(client, hub, samples_dir):
    broken = sample_bytes("oioxml_DIS01_1.xml").replace(b"<Identifier>KuvertNr012234",
                                                        b"<Identifer>KuvertNr012234", 1)
    broken = broken.replace(b"KuvertNr012234</Identifier>", b"KuvertNr012234</Identifer>", 1)
    hub.results.append(FakeIngestResult(["m1"], "rejected", error="not EDIFACT"))
    response = await _post(client, broken)
    assert response.status_code == 422
    assert [c["data"] for c in hub.ingested] == [broken]
    assert response.json()["error"].endswith("(not EDIFACT)")
    assert "Identif" in response.json()["error"]
