"""End to end through the pipeline: a DIS91 for a municipality becomes one document on the
right case in the reference ESDH (over real HTTP), with its PDF, whether the broker is the
in-process one or RabbitMQ; a case that cannot be found parks the message for an operator.
"""

from __future__ import annotations

import contextlib

import httpx
import pytest
from esdh_helpers import CPR, GP_GLN, MUNICIPALITY_GLN, reference_server

from gateway.pipeline import Hub
from gateway.registry import Registry
from gateway.settings import Settings
from tests.conftest import sample_bytes
from tests.pipeline.conftest import eventually, running


@pytest.fixture(params=["memory", pytest.param("rabbitmq", marks=pytest.mark.rabbitmq)])
def broker(request):
    return "memory://" if request.param == "memory" else request.getfixturevalue("amqp_url")


@pytest.fixture
def esdh(tmp_path):
    with reference_server(tmp_path / "esdh.db") as url, httpx.Client(base_url=url) as admin:
        yield url, admin


@pytest.fixture
async def hub(tmp_path, broker, broker_prefix, esdh):
    url, _admin = esdh
    registry = Registry.from_dict({"endpoints": [
        {"gln": GP_GLN, "name": "Lægehuset", "kind": "gp", "accepts": [{"type": "CTL03"}],
         "channel": {"kind": "edi_mailbox", "outbox": str(tmp_path / "gp-outbox")}},
        {"gln": MUNICIPALITY_GLN, "name": "Odense Kommune", "kind": "municipality",
         "accepts": [{"type": "DIS91"}], "channel": {"kind": "esdh", "url": url}},
    ]})
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


def _state(hub, message_id):
    return hub.message_view(message_id)["state"]


async def test_dis91_to_a_municipality_is_journalised_once_with_its_pdf(hub, esdh, samples_dir):
    _url, admin = esdh
    admin.post("/v1/cases", json={"cpr": CPR, "kind": "sygedagpenge"}).raise_for_status()
    case = admin.post("/v1/cases", json={"cpr": CPR, "kind": "sundhed"}).json()
    data = sample_bytes("edifact_DIS91_1.edi")
    async with running(hub):
        first = await hub.ingest(data, received_via="test", source="e2e")
        (message_id,) = first.message_ids
        await eventually(lambda: _state(hub, message_id) == "delivered")
        again = await hub.ingest(data, received_via="test", source="e2e again")
        assert again.duplicate
    docs = admin.get(f"/v1/cases/{case['id']}").json()["documents"]
    assert len(docs) == 1
    doc = docs[0]
    assert doc["external_key"] == "medcom:5790000120400:BrevNr00129"
    assert {f["name"] for f in doc["files"]} == {"BrevNr00129.edi", "BrevNr00129.html",
                                                 "BrevNr00129.pdf"}
    pdf = admin.get(f"/v1/documents/{doc['id']}/files/BrevNr00129.pdf").content
    assert pdf.startswith(b"%PDF-1.4") and b"Korrespondancebrev" in pdf
    view = hub.message_view(message_id)
    assert [a["external_ref"] for a in view["attempts"]] == [doc["id"]]


async def test_no_case_for_the_citizen_parks_the_message(hub, esdh, samples_dir):
    _url, admin = esdh
    data = sample_bytes("edifact_DIS91_1.edi")
    async with running(hub):
        result = await hub.ingest(data, received_via="test", source="e2e")
        (message_id,) = result.message_ids
        await eventually(lambda: _state(hub, message_id) == "parked")
    view = hub.message_view(message_id)
    assert "ESDH case not found" in str(view)
    assert admin.get("/v1/documents", params={"external_key": "medcom:5790000120400:BrevNr00129"}
                     ).json() == {"documents": []}
