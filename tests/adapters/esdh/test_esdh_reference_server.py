"""The reference ESDH keeps the contract of docs/esdh.md, over real HTTP; and the channel plugin
built from a registry endpoint journalises a GP's DIS91 with its PDF there.
"""

from __future__ import annotations

import base64
import hashlib
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from esdh_helpers import CPR, MUNICIPALITY_GLN, delivery, reference_server

import adapters.esdh
from gateway.errors import ConfigError
from gateway.registry import Registry
from tests.conftest import sample_bytes


@pytest.fixture
def server(tmp_path):
    with reference_server(tmp_path / "esdh.db") as url, httpx.Client(base_url=url) as http:
        yield http


def _doc(case_id: str, key: str = "k-1", content: bytes = b"\x00\xffPDF") -> dict:
    return {"external_key": key, "case_id": case_id, "title": "Brev", "document_type": "DIS91",
            "files": [{"name": "a.pdf", "media_type": "application/pdf",
                       "content_base64": base64.b64encode(content).decode()}]}


def test_documents_are_unique_by_external_key_and_files_come_back_byte_for_byte(server):
    case = server.post("/v1/cases", json={"cpr": CPR, "kind": "sundhed"}).json()
    assert "cpr" not in case
    first = server.post("/v1/documents", json=_doc(case["id"]))
    again = server.post("/v1/documents", json=_doc(case["id"], content=b"other"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] and again.json()["created"] is False
    got = server.get(f"/v1/documents/{first.json()['id']}/files/a.pdf")
    assert got.content == b"\x00\xffPDF" and got.headers["content-type"] == "application/pdf"
    assert first.json()["files"][0]["sha256"] == hashlib.sha256(b"\x00\xffPDF").hexdigest()
    found = server.get("/v1/documents", params={"external_key": "k-1"}).json()["documents"]
    assert [d["id"] for d in found] == [first.json()["id"]]


def test_concurrent_creates_of_one_key_make_one_document(server):
    case = server.post("/v1/cases", json={"cpr": CPR, "kind": "sundhed"}).json()
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: server.post("/v1/documents", json=_doc(case["id"])),
                                range(8)))
    assert sorted(a.status_code for a in answers) == [200] * 7 + [201]
    assert len({a.json()["id"] for a in answers}) == 1
    assert len(server.get(f"/v1/cases/{case['id']}").json()["documents"]) == 1


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("post", "/v1/documents", _doc("case-nope"), 404),
        ("post", "/v1/cases", {"cpr": "12345", "kind": "sundhed"}, 422),
        ("post", "/v1/cases/search", {"cpr": "abc"}, 422),
        ("get", "/v1/documents/doc-nope", None, 404),
        ("get", "/v1/documents", None, 422),
        ("get", "/v1/cases/case-nope", None, 404),
    ],
)
def test_refusals(server, method, path, body, status):
    response = server.request(method.upper(), path, json=body)
    assert response.status_code == status, response.text


def test_bearer_token_is_required_when_configured(tmp_path):
    with reference_server(tmp_path / "esdh.db", token="s3cret") as url:
        assert httpx.post(f"{url}/v1/cases/search", json={"cpr": CPR}).status_code == 401
        ok = httpx.post(f"{url}/v1/cases/search", json={"cpr": CPR},
                        headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200 and ok.json() == {"cases": []}


def _registry(url: str, **options) -> Registry:
    return Registry.from_dict({"endpoints": [{
        "gln": MUNICIPALITY_GLN, "name": "Odense Kommune", "kind": "municipality",
        "accepts": [{"type": "DIS91"}],
        "channel": {"kind": "esdh", "url": url, **options},
    }]})


async def test_channel_plugin_journalises_a_real_dis91_with_its_pdf(server, samples_dir):
    """The MedCom DIS91 sample (5790000120400 -> 5790000128700), decoded by the real codec."""
    payload = sample_bytes("edifact_DIS91_1.edi")
    url = str(server.base_url)
    server.post("/v1/cases", json={"cpr": CPR, "kind": "sygedagpenge"})
    case = server.post("/v1/cases", json={"cpr": CPR, "kind": "sundhed"}).json()
    endpoint = _registry(url).endpoint(MUNICIPALITY_GLN)
    channel = adapters.esdh.channel(endpoint, None)
    result = await channel.deliver(endpoint, delivery(payload))
    again = await channel.deliver(endpoint, delivery(payload, message_id="m-again"))
    await channel.aclose()
    assert again.external_ref == result.external_ref
    docs = server.get(f"/v1/cases/{case['id']}").json()["documents"]
    assert [d["id"] for d in docs] == [result.external_ref]
    doc = docs[0]
    assert doc["external_key"] == "medcom:5790000120400:BrevNr00129"
    assert doc["document_date"] == "1998-12-13T12:02:00"
    assert doc["sender_organisation"] == "HILLERØD SYGEHUS, KIRURGISK AFD. A (2001060 SKS)"
    pdf = server.get(f"/v1/documents/{result.external_ref}/files/BrevNr00129.pdf")
    assert pdf.content.startswith(b"%PDF-1.4")
    assert "(Røntgen af hofte i to planer.) Tj".encode("cp1252") in pdf.content
    edi = server.get(f"/v1/documents/{result.external_ref}/files/BrevNr00129.edi")
    assert edi.content == payload
    page = server.get(f"/v1/documents/{result.external_ref}/files/BrevNr00129.html").text
    assert "Korrespondancebrev fra HILLERØD SYGEHUS" in page


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"vendor": "nosuch"}, "vendor"),
        ({"attempts": 0}, "attempts"),
        ({"api_key_env": "MEDBRO_TEST_UNSET_TOKEN_VAR"}, "MEDBRO_TEST_UNSET_TOKEN_VAR"),
        ({"case_kinds": "x"}, "case_kinds"),
    ],
)
def test_bad_channel_options_are_config_errors(options, message):
    endpoint = _registry("http://esdh.example", **options).endpoint(MUNICIPALITY_GLN)
    with pytest.raises(ConfigError, match=message):
        adapters.esdh.channel(endpoint, None)


@pytest.mark.slow
def test_the_medbro_command_serves_the_reference_esdh(tmp_path):
    """``medbro esdh-reference-server`` (the entry point) runs the server as a real process."""
    import subprocess
    import sys
    import time
    from pathlib import Path

    from esdh_helpers import free_port

    port = free_port()
    medbro = Path(sys.executable).with_name("medbro")
    proc = subprocess.Popen(
        [str(medbro), "esdh-reference-server", "--database", str(tmp_path / "e.db"),
         "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = httpx.post(f"http://127.0.0.1:{port}/v1/cases/search",
                                    json={"cpr": CPR})
                break
            except httpx.ConnectError:
                assert proc.poll() is None, proc.stderr.read().decode()
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        assert answer.status_code == 200 and answer.json() == {"cases": []}
        assert (tmp_path / "e.db").exists()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
