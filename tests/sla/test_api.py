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

from gateway.errors import ConfigError
from gateway.registry import Registry, hash_api_key
from gateway.sla import alerts
from gateway.sla.api import router
from gateway.sla.config import SlaConfig
from gateway.sla.deadlines import COPENHAGEN

KEY = {"X-API-Key": "secret"}  # hospital 1301
OTHER = {"X-API-Key": "other-key"}  # hospital 1330
REGION = {"X-API-Key": "region-key"}  # kind region: sees all, owns none
GP = {"X-API-Key": "gp-key"}  # no hospitals


def registry() -> Registry:
    """A real partner registry: organisations bound to hospitals (SKS sygehus codes)."""
    glns = ["5790000120420", "5790000120437", "5790000128686"]
    return Registry.from_dict(
        {
            "endpoints": [
                {
                    "gln": gln,
                    "name": gln,
                    "kind": "hospital",
                    "channel": {"kind": "edi_mailbox", "directory": "var/x"},
                }
                for gln in glns
            ],
            "organisations": [
                org("Rigshospitalet", glns[0], "secret", hospitals=["1301"]),
                org("Herlev", glns[1], "other-key", hospitals=["1330"]),
                org("Region", glns[0], "region-key", kind="region"),
                org("Lægehuset", glns[2], "gp-key", kind="gp"),
            ],
        }
    )


def org(name: str, gln: str, key: str, **more: object) -> dict:
    return {"name": name, "glns": [gln], "api_key_sha256": [hash_api_key(key)], **more}


@pytest.fixture
async def client(sessions) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.include_router(router)
    app.state.hub = SimpleNamespace(registry=registry())
    app.state.sla_sessions = sessions
    app.state.clock = lambda: datetime(2025, 4, 22, 13, 0, tzinfo=COPENHAGEN)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://medbro") as http:
        yield http


def discharge(
    discharge_id: str, at: str, department: str = "1301011", hospital: str = "1301"
) -> dict:
    return {
        "hospital": hospital,
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
    hub = SimpleNamespace(registry=registry(), store=store)
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


async def test_discharge_of_another_hospital_is_forbidden(client: httpx.AsyncClient) -> None:
    """An API key may neither create nor overwrite another hospital's discharge."""
    mine = await client.post(
        "/v1/discharges", json=discharge("D1", "2025-04-16T14:00"), headers=KEY
    )
    assert mine.status_code == 201, mine.text
    moved = discharge("D1", "2025-04-22T12:00")  # would move Rigshospitalet's deadlines
    for headers in (OTHER, REGION, GP):
        response = await client.post("/v1/discharges", json=moved, headers=headers)
        assert response.status_code == 403, response.text
        assert "hospital '1301'" in response.json()["detail"]
    # its own hospital code with another hospital's department is refused too
    smuggled = discharge("D2", "2025-04-16T14:00", department="1301011", hospital="1330")
    response = await client.post("/v1/discharges", json=smuggled, headers=OTHER)
    assert response.status_code == 403 and "department '1301011'" in response.text
    (item,) = await get_json(client, "/v1/sla/worklist")
    assert (item["discharge_id"], item["discharged_at"]) == ("D1", "2025-04-16T14:00:00+02:00")


async def test_views_show_only_the_organisations_hospitals(client, sessions) -> None:
    posts = [
        (KEY, discharge("R1", "2025-04-16T14:00")),
        (KEY, discharge("R2", "2025-04-17T09:00", department="1301012")),
        (OTHER, discharge("H1", "2025-04-16T15:00", department="1330011", hospital="1330")),
    ]
    for headers, body in posts:
        posted = await client.post("/v1/discharges", json=body, headers=headers)
        assert posted.status_code == 201, posted.text
    with sessions() as s, s.begin():  # Tue 22 April 13:00: all three are at risk
        raised = alerts.sweep(
            s, datetime(2025, 4, 22, 13, 0, tzinfo=COPENHAGEN), SlaConfig(), sink=lambda e: None
        )
    assert len(raised) == 3

    async def seen(headers: dict) -> tuple[set, set, set]:
        report = await client.get(
            "/v1/sla/report", params={"group_by": "hospital"}, headers=headers
        )
        worklist = await client.get("/v1/sla/worklist", headers=headers)
        tasks = await client.get("/v1/sla/tasks", headers=headers)
        assert {report.status_code, worklist.status_code, tasks.status_code} == {200}
        return (
            {(g["hospital"], g["discharges"]) for g in report.json()["groups"]},
            {i["discharge_id"] for i in worklist.json()},
            {t["hospital"] for t in tasks.json()},
        )

    assert await seen(KEY) == ({("1301", 2)}, {"R1", "R2"}, {"1301"})
    assert await seen(OTHER) == ({("1330", 1)}, {"H1"}, {"1330"})
    assert await seen(REGION) == ({("1301", 2), ("1330", 1)}, {"R1", "R2", "H1"}, {"1301", "1330"})
    assert await seen(GP) == (set(), set(), set())
    total = await get_json(client, "/v1/sla/report", group_by="none")
    assert total["total"]["discharges"] == 2  # the total is limited too
    asked = await client.get("/v1/sla/worklist", params={"hospital": "1330"}, headers=KEY)
    assert asked.status_code == 403


@pytest.mark.parametrize(
    ("more", "message"),
    [
        ({"hospitals": ["13011"]}, "hospitals: '13011' is not a 4-character SKS hospital"),
        ({"hospitals": ["1301", "1301"]}, "hospitals: a hospital code is listed twice"),
        ({"kind": "pharmacy"}, "organisations[0] (X).kind"),
    ],
)
def test_organisation_hospitals_are_checked_at_load(more: dict, message: str) -> None:
    data = {
        "endpoints": [
            {"gln": "5790000120420", "name": "H", "kind": "hospital", "channel": {"kind": "local"}}
        ],
        "organisations": [org("X", "5790000120420", "k", **more)],
    }
    with pytest.raises(ConfigError) as err:
        Registry.from_dict(data, source="p.toml")
    assert message in str(err.value)


async def test_report_lists_the_warnings_of_the_callers_hospitals(
    client: httpx.AsyncClient,
) -> None:
    """A discharge reported for the future (the clock says 22 April) is in no figure yet and
    is listed as a warning, in JSON and below the CSV; another hospital does not see it."""
    for body, key in ((discharge("F1", "2025-04-30T10:00"), KEY),
                      (discharge("N1", "2025-04-16T10:00"), KEY),
                      (discharge("H1", "2025-05-02T10:00", "1330011", "1330"), OTHER)):
        assert (await client.post("/v1/discharges", json=body, headers=key)).status_code == 201
    report = (await client.get("/v1/sla/report?group_by=", headers=KEY)).json()
    assert report["total"]["discharges"] == 1
    assert [(w["discharge"], w["code"], w["column"]) for w in report["warnings"]] == [
        ("1301/F1", "discharge_in_future", "discharged_at")]
    text = (await client.get("/v1/sla/report?group_by=&format=csv", headers=KEY)).text
    assert "\n\nwarning,where,column,counted_as,message\n" in text
    assert "discharge_in_future,discharge 1301/F1,discharged_at,left out of every figure" in text
    other = (await client.get("/v1/sla/report?group_by=", headers=OTHER)).json()
    assert [w["discharge"] for w in other["warnings"]] == ["1330/H1"]
