"""The SLA API on a real app (gateway.api.app when present) over SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime
from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI

from gateway.sla.api import router
from gateway.sla.deadlines import COPENHAGEN

KEY = {"X-API-Key": "secret"}


class Registry:
    def organisation_for_key(self, key: str) -> object | None:
        return object() if key == "secret" else None


@pytest.fixture
async def client(sessions) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.include_router(router)
    app.state.hub = SimpleNamespace(registry=Registry())
    app.state.sla_sessions = sessions
    app.state.clock = lambda: datetime(2025, 4, 22, 13, 0, tzinfo=COPENHAGEN)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://medbro") as http:
        yield http


def discharge(discharge_id: str, at: str, department: str = "1301011") -> dict:
    return {
        "hospital": "1301",
        "department": department,
        "patient_cpr": "010858-4947",
        "discharge_id": discharge_id,
        "discharged_at": at,
    }


async def test_post_discharge_is_idempotent_and_returns_deadlines(
    client: httpx.AsyncClient,
) -> None:
    first = await client.post(
        "/v1/discharges", json=discharge("D1", "2025-04-16T14:00"), headers=KEY
    )
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["deadline_1"] == "2025-04-22T23:59:59.999999+02:00"
    assert body["deadline_3"] == "2025-04-24T23:59:59.999999+02:00"
    assert body["at_risk_at"] == "2025-04-22T12:00:00+02:00"
    assert body["status"] == "at_risk"
    again = await client.post(
        "/v1/discharges", json=discharge("D1", "2025-04-16T15:00"), headers=KEY
    )
    assert again.status_code == 200
    assert again.json()["discharged_at"] == "2025-04-16T15:00:00+02:00"


@pytest.mark.parametrize(
    ("change", "field"),
    [({"patient_cpr": "12345"}, "patient_cpr"), ({"discharged_at": "yesterday"}, "discharged_at")],
)
async def test_bad_discharge_is_refused_naming_the_field(client, change, field) -> None:
    body = {**discharge("D", "2025-04-16T14:00"), **change}
    response = await client.post("/v1/discharges", json=body, headers=KEY)
    assert response.status_code == 422
    assert field in response.text


async def test_key_is_required(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/sla/report")).status_code == 401
    wrong = await client.get("/v1/sla/worklist", headers={"X-API-Key": "wrong"})
    assert wrong.status_code == 401


async def get_json(client: httpx.AsyncClient, url: str, **params: str):
    response = await client.get(url, params=params, headers=KEY)
    assert response.status_code == 200, response.text
    return response.json()


async def test_report_json_and_csv_and_worklist(client: httpx.AsyncClient) -> None:
    for discharge_id, at, department in [
        ("D1", "2025-04-16T14:00", "1301011"),
        ("D2", "2025-04-21T09:00", "1301012"),
        ("D3", "2025-03-20T09:00", "1301012"),
    ]:
        body = discharge(discharge_id, at, department)
        assert (await client.post("/v1/discharges", json=body, headers=KEY)).status_code == 201
    report = await get_json(client, "/v1/sla/report", group_by="department")
    assert report["total"]["discharges"] == 3
    assert [(g["department"], g["discharges"]) for g in report["groups"]] == [
        ("1301011", 1),
        ("1301012", 2),
    ]
    april = await get_json(client, "/v1/sla/report", **{"from": "2025-04-01", "to": "2025-04-30"})
    assert april["total"]["discharges"] == 2 and april["groups"][0]["month"] == "2025-04"
    as_csv = await client.get("/v1/sla/report", headers={**KEY, "Accept": "text/csv"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert rows[-1]["hospital"] == "total" and rows[-1]["discharges"] == "3"
    again = await client.get("/v1/sla/report", params={"format": "csv"}, headers=KEY)
    assert again.text == as_csv.text
    unbounded = await get_json(client, "/v1/sla/report", **{"from": "", "to": ""})
    assert unbounded["total"]["discharges"] == 3
    bad_date = await client.get("/v1/sla/report", params={"from": "April"}, headers=KEY)
    assert bad_date.status_code == 422 and "from" in bad_date.text
    bad = await client.get("/v1/sla/report", params={"group_by": "ward"}, headers=KEY)
    assert bad.status_code == 422 and "ward" in bad.text

    items = await get_json(client, "/v1/sla/worklist")
    assert [i["discharge_id"] for i in items] == ["D3", "D1", "D2"]
    assert items[1]["status"] == "at_risk" and items[1]["time_left_hours"] == 11.0
    assert items[1]["patient"] == "010858-****"
    only = await get_json(client, "/v1/sla/worklist", department="1301011")
    assert [i["discharge_id"] for i in only] == ["D1"]


async def test_metrics_are_exposed(client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert "medbro_sla_breaches_total" in response.text
    assert "medbro_delivery_latency_seconds" in response.text


async def test_mounted_by_the_api_app_over_the_hubs_store(sqlite_url: str) -> None:
    """The real app mounts the router by entry point; sessions come from the hub's store."""
    from gateway.api.app import create_app
    from gateway.store.repository import Store

    store = Store(sqlite_url)
    store.migrate()
    hub = SimpleNamespace(registry=Registry(), store=store)
    app = create_app(hub, manage_hub=False)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://medbro") as http:
            posted = await http.post(
                "/v1/discharges", json=discharge("D9", "2025-06-04T12:00"), headers=KEY
            )
            assert posted.status_code == 201, posted.text
            report = await http.get("/v1/sla/report", headers=KEY)
            assert report.json()["total"]["discharges"] == 1
            assert (await http.get("/metrics")).status_code == 200
    finally:
        store.dispose()
