"""The case API over a real app: create, forms as XML, answers, meetings, views, at-risk;
organisations see only their own municipality's cases."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa

from gateway.api.app import create_app
from gateway.caseflow.config import Caseflow
from gateway.caseflow.outbox import MemoryOutbox
from gateway.forms import to_xml
from gateway.operations.tables import AccessAuditRow
from gateway.pipeline import Hub
from gateway.registry import Registry, hash_api_key
from gateway.settings import Settings

from .scenario import lae261, lae265, new_ref

KBH, AARHUS = "5790000000101", "5790000000751"
REGISTRY = {
    "endpoints": [
        {"gln": KBH, "name": "København", "kind": "municipality",
         "accepts": [{"type": "DIS91"}], "channel": {"kind": "local"}},
        {"gln": AARHUS, "name": "Aarhus", "kind": "municipality",
         "accepts": [{"type": "DIS91"}], "channel": {"kind": "local"}},
    ],
    "organisations": [
        {"name": "København", "glns": [KBH], "api_key_sha256": [hash_api_key("kbh-key")]},
        {"name": "Aarhus", "glns": [AARHUS], "api_key_sha256": [hash_api_key("aar-key")]},
    ],
}
KBH_KEY, AAR_KEY = {"X-API-Key": "kbh-key"}, {"X-API-Key": "aar-key"}


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def api(service, sqlite_url):
    hub = Hub(Settings.load(database_url=sqlite_url, broker_url="memory://"),
              Registry.from_dict(REGISTRY))
    hub.store.migrate()  # the access audit of case reads
    app = create_app(hub, manage_hub=False)
    clock = Clock(datetime(2026, 3, 2, 9, 0))
    outbox = MemoryOutbox()
    app.state.caseflow = Caseflow(service, outbox, {("KOM", "101"): KBH, ("KOM", "751"): AARHUS},
                                  clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://medbro") as client:
        yield client, clock, outbox


def new_case(ref: str) -> dict:
    return {"case_ref": ref, "region": "hovedstaden", "cpr": "1502824933",
            "citizen_name": "Knut Odvar Mosebryggersen", "municipality_number": "101",
            "municipality_name": "Københavns Kommune", "caseworker": "Åse Sørensen",
            "gp_ydernummer": "291714", "gp_name": "Lægehuset Vandværksvej",
            "clinical_function_sor": "123456789012",
            "clinical_function_name": "Klinisk Funktion Region Hovedstaden"}


async def test_case_through_the_api(api) -> None:
    client, clock, outbox = api
    ref = new_ref()
    r = await client.post("/v1/cases", json=new_case(ref), headers=KBH_KEY)
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "created"
    r = await client.put(f"/v1/cases/{ref}/meeting", json={"date": "2026-04-15"},
                         headers=KBH_KEY)
    assert r.json()["meeting"] == {"date": "2026-04-15", "agenda_position": 1}
    r = await client.post(f"/v1/cases/{ref}/forms", content=to_xml(lae261(ref, clock.now)),
                    headers={**KBH_KEY, "Content-Type": "application/xml"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "awaiting_lae265"
    assert [d["message_id"] for d in body["documents"]] == ["memory-1"]
    assert outbox.sent[0][1].receiver.id == "291714"

    clock.now = datetime(2026, 3, 26, 10)  # coordinator deadline 27 March: due soon
    r = await client.get("/v1/cases/at-risk?municipality=101", headers=KBH_KEY)
    risky = {c["case_ref"]: c for c in r.json()}
    assert {d["name"] for d in risky[ref]["deadlines"]} == {"coordinator_receipt"}

    bad = dataclasses.replace(lae265(ref, clock.now, date(2026, 3, 20)), in_reply_to="nope")
    r = await client.post(f"/v1/cases/{ref}/forms", content=to_xml(bad), headers=KBH_KEY)
    assert r.status_code == 422
    assert r.json()["errors"] == [{"field": "lae265.in_reply_to",
                                   "message": f"'nope' is not a request sent in case {ref}"}]
    r = await client.post(f"/v1/cases/{ref}/forms", headers=KBH_KEY,
                          content=to_xml(lae265(ref, clock.now, date(2026, 3, 20))))
    assert r.json()["state"] == "lae265_received"
    r = await client.post(f"/v1/cases/{ref}/answers",
                          json={"kind": "screening", "clarified": True}, headers=KBH_KEY)
    assert r.status_code == 409  # screening before the coordinator has the case
    assert "'screened_clarified' is not allowed in state 'lae265_received'" in r.text
    r = await client.post(f"/v1/cases/{ref}/actions", json={"action": "send_to_coordinator"},
                    headers=KBH_KEY)
    assert r.json()["state"] == "awaiting_screening"
    r = await client.post(f"/v1/cases/{ref}/answers", json={"kind": "screening"},
                          headers=KBH_KEY)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "answer.clarified"
    r = await client.post(f"/v1/cases/{ref}/answers",
                    json={"kind": "screening", "clarified": True, "notes": "Belyst."},
                    headers=KBH_KEY)
    assert r.json()["state"] == "ready_for_team"
    r = await client.get(f"/v1/cases/{ref}", headers=KBH_KEY)
    view = r.json()
    assert [e["event"] for e in view["timeline"]][-2:] == ["sent_to_coordinator",
                                                          "screened_clarified"]
    screening = next(d for d in view["deadlines"] if d["name"] == "screening")
    assert screening == {"name": "screening", "due": "2026-04-07", "status": "met",
                         "done_on": "2026-03-26", "note": ""}


async def test_organisations_see_only_their_own_cases(api) -> None:
    client, _clock, _outbox = api
    ref = new_ref()
    r = await client.post("/v1/cases", json=new_case(ref), headers=KBH_KEY)
    assert r.status_code == 201
    r = await client.get(f"/v1/cases/{ref}", headers=AAR_KEY)
    assert r.status_code == 404
    r = await client.post(f"/v1/cases/{ref}/actions", json={"action": "withdraw"},
                          headers=AAR_KEY)
    assert r.status_code == 404
    r = await client.get("/v1/cases", headers=AAR_KEY)
    assert ref not in {c["case_ref"] for c in r.json()}
    r = await client.get("/v1/cases", headers=KBH_KEY)
    assert ref in {c["case_ref"] for c in r.json()}
    r = await client.get("/v1/cases/at-risk?municipality=101", headers=AAR_KEY)
    assert r.status_code == 403
    r = await client.post("/v1/cases", json=new_case(new_ref()), headers=AAR_KEY)
    assert r.status_code == 403
    r = await client.get(f"/v1/cases/{ref}")
    assert r.status_code == 401


async def test_bad_case_input_names_the_field(api) -> None:
    client, _clock, _outbox = api
    body = new_case(new_ref()) | {"gp_ydernummer": "12"}
    r = await client.post("/v1/cases", json=body, headers=KBH_KEY)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "case.parties.gp.ydernummer"


async def test_a_meeting_in_the_past_is_a_422_naming_the_date(api) -> None:
    """A meeting in 2000 on a case created in 2026 would have missed its deadlines already."""
    client, clock, _outbox = api
    ref = new_ref()
    assert (await client.post("/v1/cases", json=new_case(ref), headers=KBH_KEY)).status_code == 201
    clock.now = datetime(2026, 3, 10, 9, 0)
    for day, why in (("2000-01-05", "is before the case was opened (2026-03-02)"),
                     ("2026-03-09", "is in the past (today is 2026-03-10)")):
        r = await client.put(f"/v1/cases/{ref}/meeting", json={"date": day}, headers=KBH_KEY)
        assert r.status_code == 422, r.text
        # the API's one error shape (gateway/api/responses.py), naming the field
        assert r.json() == {
            "detail": f"the request is not valid: body.date: meeting date {day} {why}",
            "errors": [{"field": "body.date", "message": f"meeting date {day} {why}"}]}
    r = await client.get(f"/v1/cases/{ref}", headers=KBH_KEY)
    assert r.json()["meeting"] is None  # nothing was scheduled
    r = await client.put(f"/v1/cases/{ref}/meeting", json={"date": "2026-03-10"}, headers=KBH_KEY)
    assert r.status_code == 200 and r.json()["meeting"]["date"] == "2026-03-10"


def case_reads(hub: Hub, ref: str) -> list[AccessAuditRow]:
    with hub.store.transaction() as session:
        rows = session.scalars(sa.select(AccessAuditRow).where(
            AccessAuditRow.action == "case.read", AccessAuditRow.target == f"case:{ref}"))
        return list(rows)


async def test_reading_a_case_is_audited_with_who_when_and_from_where(api) -> None:
    client, _, _ = api
    hub = client._transport.app.state.hub  # noqa: SLF001
    ref = new_ref()
    assert (await client.post("/v1/cases", json=new_case(ref), headers=KBH_KEY)).status_code == 201
    assert case_reads(hub, ref) == []  # creating is not a read
    r = await client.get(f"/v1/cases/{ref}", headers={**KBH_KEY, "X-Reason": "visitation"})
    assert r.status_code == 200 and r.json()["citizen"]["cpr"] == "1502824933"
    [read] = case_reads(hub, ref)
    assert (read.actor, read.remote) == ("key:København", "127.0.0.1")
    assert abs(read.at - datetime.now(UTC)) < timedelta(minutes=1)  # the hub's (UTC) clock
    assert read.detail == {"municipality": "101", "reason": "visitation"}
    # another municipality's key sees no case, and nothing is read
    assert (await client.get(f"/v1/cases/{ref}", headers=AAR_KEY)).status_code == 404
    assert (await client.get(f"/v1/cases/{ref}")).status_code == 401
    assert len(case_reads(hub, ref)) == 1
