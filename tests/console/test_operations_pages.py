"""The console's operations pages over HTTP on a working hub (its worker delivers through a
channel the test switches off and on): search, timeline, release, masking and the audited
reveal, bulk acts with a dry-run count, tasks, persons, and what a viewer may not do."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from gateway.operations import audit

from .conftest import ADMIN, GP_GLN, OPERATOR, OTHER, PATIENT, VIEWER, log_in, parked_letter
from .test_pages import cells

CPR = PATIENT[0]
MASKED = f"{CPR[:6]}-****"


async def until(check, timeout: float = 20.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


def audit_actions(hub, actor: str) -> list[str]:
    with hub.store.transaction() as session:
        return [i["action"] for i in audit.listing(session, actor=actor, limit=100)["items"]]


async def test_a_parked_letter_is_found_by_cpr_and_the_search_is_audited(client, hub,
                                                                         channel) -> None:
    message_id = await parked_letter(hub, channel)
    await log_in(client)
    page = await client.get("/console/messages", params={"patient": CPR[:6] + "-" + CPR[6:]})
    rows = cells(page.text, "results")[1:]
    assert len(rows) == 1 and rows[0][5] == "Parkeret" and rows[0][3] == "Lægehuset Vandværksvej"
    assert f'href="/console/messages/{message_id}"' in page.text
    assert "message.search_patient" in audit_actions(hub, f"person:{OPERATOR}")
    other = await client.get("/console/messages", params={"patient": "0101509991"})
    assert "Ingen beskeder matcher" in other.text


async def test_timeline_release_and_delivery(client: httpx.AsyncClient, hub, channel) -> None:
    message_id = await parked_letter(hub, channel)
    csrf = await log_in(client)
    page = await client.get(f"/console/messages/{message_id}")
    timeline = re.sub(r"<[^>]+>", " ", re.search(r'<ol class="timeline".*?</ol>', page.text,
                                                 re.S).group(0))
    for step in ("Modtaget", "Routet", "Leveringsforsøg", "does not answer",
                 "Levering opgivet: parkeret", "Operatøropgave oprettet"):
        assert step in timeline, step
    assert 'value="release"' in page.text and 'value="replay"' not in page.text
    channel.down.clear()  # the GP's system is back
    empty = await client.post(f"/console/messages/{message_id}/release",
                              data={"csrf": csrf, "reason": "  "})
    assert empty.status_code == 422 and "Skriv en begrundelse" in empty.text
    answer = await client.post(f"/console/messages/{message_id}/release",
                               data={"csrf": csrf, "reason": "Lægehuset er oppe igen"})
    assert answer.status_code == 303
    await until(lambda: hub.message_view(message_id)["state"] == "delivered")
    assert len(channel.delivered[GP_GLN]) == 1
    page = await client.get(answer.headers["location"])
    assert "Frigivet: den routes igen" in page.text
    assert re.search(r'id="state">Leveret<', page.text)
    assert "Frigivet af en operatør" in page.text and f"person:{OPERATOR}" in page.text
    assert "Lægehuset er oppe igen" in page.text
    tasks = await client.get("/console/tasks")
    assert 'id="task-msg-' not in tasks.text  # the release closed the message's task


async def test_a_viewer_sees_no_act_and_a_forged_one_is_refused(client, hub, channel) -> None:
    message_id = await parked_letter(hub, channel)
    csrf = await log_in(client, VIEWER)
    page = await client.get(f"/console/messages/{message_id}")
    assert page.status_code == 200
    assert 'value="release"' not in page.text and "Din rolle kan læse" in page.text
    forged = await client.post(f"/console/messages/{message_id}/release",
                               data={"csrf": csrf, "reason": "forged"})
    assert forged.status_code == 403
    bulk = await client.post("/console/operations", data={
        "csrf": csrf, "action": "release", "state": "parked", "reason": "forged", "confirm": "yes"})
    assert bulk.status_code == 403
    task = await client.post("/console/tasks/msg-1/resolve", data={"csrf": csrf, "note": "x"})
    assert task.status_code == 403
    assert hub.message_view(message_id)["state"] == "parked"


async def test_acts_need_the_csrf_token(client, hub, channel) -> None:
    message_id = await parked_letter(hub, channel)
    await log_in(client)
    for data in ({"reason": "no token"}, {"reason": "wrong", "csrf": "forged"}):
        answer = await client.post(f"/console/messages/{message_id}/close", data=data)
        assert answer.status_code == 403
    assert hub.message_view(message_id)["state"] == "parked"


async def test_another_organisation_does_not_see_the_letter(client, hub, channel) -> None:
    message_id = await parked_letter(hub, channel)
    await log_in(client, OTHER)
    assert (await client.get(f"/console/messages/{message_id}")).status_code == 404
    page = await client.get("/console/messages", params={"state": "parked"})
    assert "Ingen beskeder matcher" in page.text


async def test_the_letter_is_masked_until_revealed_and_both_are_audited(client, hub,
                                                                        channel) -> None:
    message_id = await parked_letter(hub, channel)
    csrf = await log_in(client)
    before = await client.get(f"/console/messages/{message_id}")
    assert CPR not in before.text and "Østergård" not in before.text
    assert "message.read_body" not in audit_actions(hub, f"person:{OPERATOR}")
    masked = await client.get(f"/console/messages/{message_id}", params={"letter": "1"})
    assert MASKED in masked.text and "Galdesten" in masked.text
    assert CPR not in masked.text and "Østergård" not in masked.text and "Åse" not in masked.text
    assert "message.read_body" in audit_actions(hub, f"person:{OPERATOR}")
    assert "message.reveal_patient" not in audit_actions(hub, f"person:{OPERATOR}")
    shown = await client.post(f"/console/messages/{message_id}/reveal",
                              data={"csrf": csrf, "reason": "patienten ringede"})
    assert CPR in shown.text and "Åse Marie Østergård" in shown.text
    with hub.store.transaction() as session:
        reveals = audit.listing(session, action="message.reveal_patient")["items"]
    assert [(r["actor"], r["target"], r["detail"]["reason"]) for r in reveals] == [
        (f"person:{OPERATOR}", f"message:{message_id}", "patienten ringede")]


async def test_bulk_release_shows_the_count_and_acts_only_when_confirmed(client, hub,
                                                                         channel) -> None:
    ids = [await parked_letter(hub, channel, seq) for seq in (1, 2, 3)]
    csrf = await log_in(client)
    channel.down.clear()
    dry = await client.post("/console/operations", data={
        "csrf": csrf, "action": "release", "state": "parked", "receiver": GP_GLN,
        "reason": "GP back"})
    assert dry.status_code == 200
    assert re.search(r'id="matched">3 beskeder matcher', dry.text)
    assert all(hub.message_view(i)["state"] == "parked" for i in ids)
    done = await client.post("/console/operations", data={
        "csrf": csrf, "action": "release", "state": "parked", "receiver": GP_GLN,
        "reason": "GP back", "confirm": "yes"})
    assert done.status_code == 303 and done.headers["location"].startswith("/console/operations/")
    await until(lambda: all(hub.message_view(i)["state"] == "delivered" for i in ids))
    page = await client.get(done.headers["location"])
    assert re.search(r'id="op-matched">3<', page.text)


async def test_tasks_are_resolved_with_a_note(client, hub, channel) -> None:
    await parked_letter(hub, channel)
    csrf = await log_in(client)
    page = await client.get("/console/tasks")
    task_id = re.search(r'id="task-(msg-\d+)"', page.text).group(1)
    answer = await client.post(f"/console/tasks/{task_id}/resolve",
                               data={"csrf": csrf, "note": "ringede til lægehuset"})
    assert answer.status_code == 303
    resolved = await client.get("/console/tasks", params={"state": "resolved"})
    assert "ringede til lægehuset" in resolved.text and f"person:{OPERATOR}" in resolved.text


async def test_endpoints_and_overview_show_the_failing_gp(client, hub, channel) -> None:
    await parked_letter(hub, channel)
    await log_in(client)
    page = await client.get("/console/endpoints")
    row = next(r for r in cells(page.text, "endpoints")[1:] if r[1] == GP_GLN)
    assert row[2].startswith("Fejler siden") and row[6] == "1"
    overview = await client.get("/console/")
    assert re.search(r'id="parked">1<', overview.text)
    # the parked letter's task, and the SLA task of its discharge (on the real clock, the
    # letter of 30 November is past its deadlines)
    assert int(re.search(r'id="open-tasks">(\d+)<', overview.text).group(1)) >= 1
    assert GP_GLN in cells(overview.text, "troubled")[1][0]
    assert "Routet" in overview.text or "Parkeret" in overview.text


async def test_only_an_admin_manages_persons(client: httpx.AsyncClient, hub) -> None:
    csrf = await log_in(client)  # an operator
    assert (await client.get("/console/persons")).status_code == 403
    forged = await client.post("/console/persons", data={
        "csrf": csrf, "op": "add", "name": "mallory", "role": "admin",
        "organisation": "Region H", "password": "long enough password"})
    assert forged.status_code == 403
    assert 'href="/console/persons"' not in (await client.get("/console/")).text

    admin = httpx.AsyncClient(transport=client._transport, base_url="http://medbro")
    csrf = await log_in(admin, ADMIN)
    added = await admin.post("/console/persons", data={
        "csrf": csrf, "op": "add", "name": "bo", "role": "viewer",
        "organisation": "Rigshospitalet", "password": "long enough password"})
    assert added.status_code == 303
    short = await admin.post("/console/persons", data={
        "csrf": csrf, "op": "add", "name": "kim", "role": "viewer",
        "organisation": "Rigshospitalet", "password": "short"})
    assert short.status_code == 422 and "at least 10" in short.text
    changed = await admin.post("/console/persons", data={
        "csrf": csrf, "name": "bo", "role": "operator", "disabled": "yes"})
    assert changed.status_code == 303
    rows = {r[0]: r for r in cells((await admin.get("/console/persons")).text, "persons")[1:]}
    assert rows["bo"][1:4] == ["Operatør", "Rigshospitalet", "Spærret"]
    log = (await admin.get("/console/audit", params={"target": "person:bo"})).text
    assert "person.add" in log and "person.update" in log
    await admin.aclose()


@pytest.mark.parametrize("path", ["/console/messages/nope", "/console/operations/nope"])
async def test_unknown_things_are_404(client: httpx.AsyncClient, path: str) -> None:
    await log_in(client)
    assert (await client.get(path)).status_code == 404
