"""HTTP API decisions (auth, sender check, status codes, visibility) over a recording hub.

The end-to-end path through the real hub, RabbitMQ and PostgreSQL is in test_edge_e2e.py; here
the hub is a small stand-in so every answer of the API can be pinned down.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
import pytest

from gateway.api.app import create_app, load_routers
from gateway.registry import Registry, hash_api_key

HOSPITAL, GP, OTHER = "5790000120420", "5790000128686", "5790001234567"

LETTER = (
    "UNA:+.? 'UNB+UNOC:3+5790000120420:14+5790000128686:14+990115:1202+K1++++0'"
    "UNH+B1+MEDDIS:D:93A:UN:D0133L+DIS01'UNT+2+B1'UNZ+1+K1'"
).encode("latin-1")


@dataclass
class Result:
    message_ids: tuple[str, ...]
    state: str
    duplicate: bool = False
    receipt: bytes | None = None
    error: str | None = None


@dataclass
class RecordingHub:
    registry: Registry
    result: Result = field(default_factory=lambda: Result(("m1",), "received"))
    calls: list[dict] = field(default_factory=list)
    views: dict[str, dict] = field(default_factory=dict)
    database_ok: bool = True

    async def ingest(self, data: bytes, **kwargs) -> Result:
        self.calls.append({"data": data, **kwargs})
        if not self.database_ok:
            raise ConnectionError("database unavailable")
        return self.result

    def message_view(self, message_id: str) -> dict | None:
        return self.views.get(message_id)

    # what /readyz probes: hub.store.ping() and hub.transport.queue_depth(parking queue)
    @property
    def store(self):
        return self

    @property
    def transport(self):
        return self

    @property
    def topology(self):
        return self

    parking_queue = "medbro.parking"

    def ping(self) -> None:
        if not self.database_ok:
            raise ConnectionError("database unavailable")

    async def queue_depth(self, queue: str) -> int:
        assert queue == "medbro.parking"
        return 0


@pytest.fixture
def hub() -> RecordingHub:
    registry = Registry.from_dict({
        "endpoints": [
            {"gln": g, "name": n, "kind": k, "channel": {"kind": "local"}}
            for g, n, k in [(HOSPITAL, "Hospital", "hospital"), (GP, "GP", "gp"),
                            (OTHER, "Other", "municipality")]
        ],
        "organisations": [
            {"name": "region", "glns": [HOSPITAL], "api_key_sha256": [hash_api_key("k-region")]},
            {"name": "gp", "glns": [GP], "api_key_sha256": [hash_api_key("k-gp")]},
        ],
    })
    return RecordingHub(registry)


@pytest.fixture
async def client(hub: RecordingHub):
    app = create_app(hub, manage_hub=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://medbro.test") as c:
        yield c


def _post(client, body=LETTER, key="k-region", ctype="application/edifact"):
    headers = {"Content-Type": ctype}
    if key:
        headers["X-API-Key"] = key
    return client.post("/v1/messages", content=body, headers=headers)


async def test_accepted_is_202_with_ids(client, hub) -> None:
    response = await _post(client)
    assert response.status_code == 202
    assert response.json() == {"message_ids": ["m1"], "state": "received", "duplicate": False,
                               "receipt": None}
    assert hub.calls[0]["data"] == LETTER
    assert hub.calls[0]["authenticated_glns"] == frozenset({HOSPITAL})
    assert hub.calls[0]["received_via"] == "http"


@pytest.mark.parametrize("key", [None, "wrong"])
async def test_missing_or_unknown_key_is_401(client, hub, key) -> None:
    response = await _post(client, key=key)
    assert response.status_code == 401 and not hub.calls


async def test_wrong_content_type_is_415(client, hub) -> None:
    assert (await _post(client, ctype="text/plain")).status_code == 415
    assert (await _post(client, ctype="application/octet-stream")).status_code == 202


async def test_empty_body_is_400(client) -> None:
    assert (await _post(client, body=b"")).status_code == 400


async def test_refused_is_422_with_receipt(client, hub) -> None:
    hub.result = Result(("m2",), "rejected", receipt="UNB+CTL01 Æ'".encode("latin-1"),
                        error="UNT segment 3: count 2 does not match 3 segments")
    response = await _post(client, body=b"garbage")
    assert response.status_code == 422
    body = response.json()
    assert body["error"].startswith("UNT segment 3")
    assert body["receipt"] == "UNB+CTL01 Æ'" and body["message_ids"] == ["m2"]


async def test_parked_by_routing_is_422_and_its_duplicate_too(client, hub) -> None:
    hub.result = Result(("m3",), "parked", receipt=b"UNB+CTL01 LOK'")
    first = await _post(client)
    hub.result = Result(("m3",), "parked", duplicate=True, receipt=b"UNB+CTL01 LOK'")
    again = await _post(client)
    assert first.status_code == again.status_code == 422
    assert first.json()["receipt"] == again.json()["receipt"] == "UNB+CTL01 LOK'"
    assert again.json()["duplicate"] is True and "parked" in first.json()["error"]


async def test_store_unavailable_is_503_not_accepted(client, hub) -> None:
    hub.database_ok = False
    response = await _post(client)
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert "not accepted" in response.json()["detail"]


async def test_duplicate_is_202_with_same_receipt(client, hub) -> None:
    hub.result = Result(("m1",), "acknowledged", duplicate=True, receipt=b"UNB+CTL03'")
    body = (await _post(client)).json()
    assert body["duplicate"] is True and body["receipt"] == "UNB+CTL03'"


async def test_organisation_sees_only_its_messages(client, hub) -> None:
    hub.views["m1"] = {"id": "m1", "sender_gln": HOSPITAL, "receiver_gln": GP, "state": "routed"}
    hub.views["m9"] = {"id": "m9", "sender_gln": OTHER, "receiver_gln": OTHER, "state": "routed"}
    ok = await client.get("/v1/messages/m1", headers={"X-API-Key": "k-gp"})
    assert ok.status_code == 200 and ok.json()["state"] == "routed"
    assert (await client.get("/v1/messages/m9", headers={"X-API-Key": "k-gp"})).status_code == 404
    assert (await client.get("/v1/messages/nope", headers={"X-API-Key": "k-gp"})).status_code == 404
    assert (await client.get("/v1/messages/m1")).status_code == 401


async def test_health_and_readiness(client, hub) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok",
                                                                  "broker": "ok"}
    hub.database_ok = False
    down = await client.get("/readyz")
    assert down.status_code == 503 and "database unavailable" in down.json()["checks"]["database"]


async def test_openapi_is_published(client) -> None:
    schema = (await client.get("/openapi.json")).json()
    assert "/v1/messages" in schema["paths"] and "/v1/messages/{message_id}" in schema["paths"]
    assert "application/edifact" in schema["paths"]["/v1/messages"]["post"]["requestBody"][
        "content"]


def test_messages_router_is_mounted_and_missing_ones_are_tolerated() -> None:
    names = [name for name, _ in load_routers()]
    assert "messages" in names


def _ep(name: str, value: str):
    from importlib.metadata import EntryPoint

    return {name: EntryPoint(name=name, value=value, group="medbro.routers")}


def test_a_router_that_does_not_load_stops_startup() -> None:
    from gateway.errors import ConfigError

    with pytest.raises(ConfigError, match="'later'.*gateway.not_built_yet.api:router"):
        load_routers(_ep("later", "gateway.not_built_yet.api:router"))
    with pytest.raises(ConfigError, match="'broken'.*gateway.errors:router"):
        load_routers(_ep("broken", "gateway.errors:router"))
    with pytest.raises(ConfigError, match="'wrong' .*not an APIRouter"):
        load_routers(_ep("wrong", "gateway.errors:MedbroError"))
    assert [n for n, _ in load_routers(_ep("messages", "gateway.api.messages:router"))] == [
        "messages"]
