"""The operations API's decisions over a real hub (SQLite, in-process broker): logging in,
roles, organisation keys, visibility, search, acts, tasks, endpoints and the audit.

The same story on PostgreSQL and RabbitMQ is in test_integration.py.
"""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.operations import persons
from tests.operations.conftest import (
    GP,
    KEYS,
    OTHER_GP,
    PATIENT,
    eventually,
    letter,
    working,
)


async def _park(ops, seq: int, receiver: str = GP) -> str:
    """A letter to a receiver that is down, retried until parked."""
    ops.channel.down.add(receiver)
    message_id = await ops.ingest(letter(seq, receiver=receiver))
    await eventually(lambda: ops.state(message_id) == "parked")
    return message_id


async def test_login_sets_an_httponly_cookie_and_csrf_is_required(ops):
    ops.add_person("anne", "operator", ["Drift"])
    c = ops.client
    r = await c.post("/v1/session", json={"name": "anne", "password": "wrong password!"})
    assert r.status_code == 401
    r = await c.post("/v1/session", json={"name": "anne", "password": "correct horse battery"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["person"] == "anne" and body["role"] == "operator" and body["sees_all"] is True
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "medbro_session=" in cookie
    assert (await c.get("/v1/session")).json()["csrf_token"] == body["csrf_token"]
    # unsafe method without the CSRF header: 403 even with the cookie
    r = await c.post("/v1/messages/nope/release", json={"reason": "x"})
    assert r.status_code == 403 and "X-CSRF-Token" in r.text
    r = await c.post("/v1/messages/nope/release", json={"reason": "x"},
                     headers={"X-CSRF-Token": body["csrf_token"]})
    assert r.status_code == 404
    r = await c.delete("/v1/session", headers={"X-CSRF-Token": body["csrf_token"]})
    assert r.status_code == 204
    assert (await c.get("/v1/session")).status_code == 401
    assert (await c.get("/v1/messages")).status_code == 401


async def test_passwords_are_argon2_and_tokens_are_hashed_at_rest(ops):
    ops.add_person("bo", "viewer", ["Lægehuset"])
    from gateway.operations.tables import PersonRow, PersonTokenRow

    with ops.hub.store.transaction() as session:
        token = persons.issue_token(session, "bo", label="script", now=datetime.now(UTC))
    with ops.hub.store.transaction() as session:
        row = session.query(PersonRow).one()
        stored = session.query(PersonTokenRow).one()
    assert row.password_hash.startswith("$argon2id$")
    assert token not in stored.token_sha256 and stored.token_sha256 == persons.sha256(token)
    r = await ops.client.get("/v1/tasks", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    r = await ops.client.get("/v1/tasks", headers={"Authorization": "Bearer mbt_nope"})
    assert r.status_code == 401


async def test_roles_viewer_reads_operator_acts_admin_audits(ops):
    for name, role in (("vera", "viewer"), ("otto", "operator"), ("ada", "admin")):
        ops.add_person(name, role, ["Drift"])
    async with working(ops.hub):
        parked = await _park(ops, 1)
    vera, otto, ada = [await ops.login(n) for n in ("vera", "otto", "ada")]
    assert (await vera.get("/v1/messages", params={"state": "parked"})).json()["items"][0][
        "id"] == parked
    r = await vera.post(f"/v1/messages/{parked}/release", json={"reason": "try"})
    assert r.status_code == 403 and "viewer" in r.text
    assert ops.state(parked) == "parked"
    assert (await otto.get("/v1/audit")).status_code == 403
    r = await otto.post(f"/v1/messages/{parked}/close", json={"reason": "GP closed for good"})
    assert r.status_code == 202 and r.json()["state"] == "failed"
    audit = (await ada.get("/v1/audit", params={"action": "message.close"})).json()["items"]
    assert [(a["actor"], a["detail"]["reason"]) for a in audit] == [
        ("person:otto", "GP closed for good")]
    assert audit[0]["remote"]


async def test_organisation_keys_see_their_own_and_only_overview_keys_act(ops):
    async with working(ops.hub):
        mine = await _park(ops, 1, receiver=GP)
        theirs = await _park(ops, 2, receiver=OTHER_GP)
    gp = {"X-API-Key": KEYS["gp"]}
    other = {"X-API-Key": KEYS["other"]}
    operator = {"X-API-Key": KEYS["ops"]}
    ids = [m["id"] for m in (await ops.client.get("/v1/messages", headers=gp)).json()["items"]]
    assert ids == [mine]
    assert (await ops.client.get(f"/v1/messages/{theirs}", headers=gp)).status_code == 404
    assert (await ops.client.get(f"/v1/messages/{mine}", headers=gp)).status_code == 200
    # an ordinary organisation's key may not act, not even on its own letters
    r = await ops.client.post(f"/v1/messages/{mine}/release", json={"reason": "x"}, headers=gp)
    assert r.status_code == 403
    r = await ops.client.post(f"/v1/messages/{mine}/release", json={"reason": "x"},
                              headers=other)
    assert r.status_code == 403
    # the operator organisation (no GLN of its own) sees and acts on everything
    r = await ops.client.get("/v1/messages", headers=operator)
    assert {m["id"] for m in r.json()["items"]} == {mine, theirs}
    assert (await ops.client.get(f"/v1/messages/{theirs}", headers=operator)).status_code == 200
    ops.channel.down.clear()
    r = await ops.client.post(f"/v1/messages/{theirs}/release", json={"reason": "back up"},
                              headers=operator)
    assert r.status_code == 202 and r.json()["state"] == "routed"


async def test_a_person_of_another_organisation_cannot_see_or_release(ops):
    ops.add_person("olga", "operator", ["Odense"])
    async with working(ops.hub):
        parked = await _park(ops, 1, receiver=GP)
    olga = await ops.login("olga")
    assert (await olga.get("/v1/messages")).json()["items"] == []
    assert (await olga.get(f"/v1/messages/{parked}")).status_code == 404
    r = await olga.post(f"/v1/messages/{parked}/release", json={"reason": "mine?"})
    assert r.status_code == 404
    r = await olga.post("/v1/operations/release",
                        json={"filter": {"state": "parked"}, "dry_run": True})
    assert r.json() == {"matched": 0}
    assert ops.state(parked) == "parked"


async def test_search_filters_paging_newest_first_and_bad_filters(ops):
    ids = [await ops.ingest(letter(i, receiver=GP if i % 2 else OTHER_GP)) for i in range(1, 8)]
    c, h = ops.client, {"X-API-Key": KEYS["ops"]}
    page = (await c.get("/v1/messages", params={"limit": 3}, headers=h)).json()
    assert [m["id"] for m in page["items"]] == ids[::-1][:3]
    assert set(page["items"][0]) == {"id", "state", "type", "sender", "receiver", "letter_id",
                                     "received_at", "updated_at"}
    seen = [m["id"] for m in page["items"]]
    while page["next"]:
        page = (await c.get("/v1/messages", params={"limit": 3, "cursor": page["next"]},
                            headers=h)).json()
        seen += [m["id"] for m in page["items"]]
    assert seen == ids[::-1]
    r = await c.get("/v1/messages", params={"receiver": GP}, headers=h)
    assert [m["id"] for m in r.json()["items"]] == [ids[6], ids[4], ids[2], ids[0]]
    r = await c.get("/v1/messages", params={"endpoint": "Lægerne i Odense"}, headers=h)
    assert [m["id"] for m in r.json()["items"]] == [ids[5], ids[3], ids[1]]
    one = (await c.get(f"/v1/messages/{ids[2]}", headers=h)).json()
    r = await c.get("/v1/messages", params={"letter_id": one["letter_id"], "type": "dis01",
                                            "unb_ref": one["control_ref"]}, headers=h)
    assert [m["id"] for m in r.json()["items"]] == [ids[2]]
    r = await c.get("/v1/messages", params={"until": "2000-01-01T00:00:00Z"}, headers=h)
    assert r.json() == {"items": [], "next": None}
    r = await c.get("/v1/messages", params={"state": "stuck"}, headers=h)
    assert r.status_code == 422 and "state" in r.text
    r = await c.get("/v1/messages", params={"endpoint": "nobody"}, headers=h)
    assert r.status_code == 422 and "endpoint" in r.text
    r = await c.get("/v1/messages", params={"cursor": "garbage!"}, headers=h)
    assert r.status_code == 422 and "cursor" in r.text


async def test_patient_search_finds_the_patient_and_is_audited(ops):
    ops.add_person("ada", "admin", ["Drift"])
    anne = await ops.ingest(letter(1))
    await ops.ingest(letter(2, patient=("0108581234", "Other", "Same Birthday")))
    await ops.ingest(letter(3, patient=("2302701111", "Third", "Person")))
    ada = await ops.login("ada")
    r = await ada.get("/v1/messages", params={"patient": "010858-4947"})
    assert [m["id"] for m in r.json()["items"]] == [anne]
    audit = (await ada.get("/v1/audit", params={"action": "message.search_patient"})).json()
    assert audit["items"][0]["target"] == "patient:010858-****"
    assert "4947" not in str(audit)


async def test_body_and_reveal_are_audited_reads(ops):
    ops.add_person("vera", "viewer", ["Drift"])
    ops.add_person("ada", "admin", ["Drift"])
    message_id = await ops.ingest(letter(1))
    vera = await ops.login("vera")
    view = (await vera.get(f"/v1/messages/{message_id}")).json()
    assert view["summary"]["letter"]["patient"] == "010858-****"  # masked by default
    body = (await vera.get(f"/v1/messages/{message_id}/body")).json()
    assert "0108584947" in body["body"]
    r = await vera.post(f"/v1/messages/{message_id}/reveal", json={"reason": "GP asked"})
    assert r.json()["patients"][0]["cpr"] == PATIENT[0]
    ada = await ops.login("ada")
    audit = (await ada.get("/v1/audit", params={"actor": "person:vera"})).json()["items"]
    assert [(a["action"], a["target"]) for a in audit[:2]] == [
        ("message.reveal_patient", f"message:{message_id}"),
        ("message.read_body", f"message:{message_id}")]
    assert audit[0]["detail"]["reason"] == "GP asked"


async def test_release_delivers_once_resolves_the_task_and_is_idempotent(ops):
    ops.add_person("otto", "operator", ["Drift"])
    otto = await ops.login("otto")
    async with working(ops.hub):
        parked = await _park(ops, 1)
        tasks = (await otto.get("/v1/tasks", params={"state": "open"})).json()["items"]
        assert [(t["kind"], t["message_id"]) for t in tasks if t["source"] == "message"] == [
            ("undeliverable", parked)]
        # the letter's discharge is days old: its SLA escalations are in the same list
        assert {t["kind"] for t in tasks if t["source"] == "sla"} >= {"breached_1"}
        endpoints = {e["gln"]: e for e in (await otto.get("/v1/endpoints")).json()["items"]}
        assert endpoints[GP]["parked"] == 1 and endpoints[GP]["failing_since"] is not None
        ops.channel.down.clear()
        r = await otto.post(f"/v1/messages/{parked}/release", json={"reason": "GP back"})
        assert r.status_code == 202 and r.json() == {
            "id": parked, "action": "release", "state": "routed", "changed": True, "detail": ""}
        await eventually(lambda: ops.state(parked) == "delivered")
        r = await otto.post(f"/v1/messages/{parked}/release", json={"reason": "again"})
        assert r.status_code == 202 and r.json()["changed"] is False
        r = await otto.post(f"/v1/messages/{parked}/close", json={"reason": "too late"})
        assert r.status_code == 409 and "delivered" in r.text
    assert ops.channel.count(GP) == 1
    task = (await otto.get("/v1/tasks", params={"state": "resolved",
                                                 "kind": "undeliverable"})).json()["items"][0]
    assert task["resolved_by"] == "person:otto" and task["note"] == "release: GP back"
    endpoints = {e["gln"]: e for e in (await otto.get("/v1/endpoints")).json()["items"]}
    assert endpoints[GP]["parked"] == 0 and endpoints[GP]["failing_since"] is None
    assert endpoints[GP]["last_delivery"] is not None
    events = [e for e in ops.hub.message_view(parked)["events"]
              if e["event"] == "message_requeue"]
    assert events[0]["detail"]["by"] == "person:otto"


async def test_replay_delivers_again_as_a_new_attempt(ops):
    async with working(ops.hub):
        message_id = await ops.ingest(letter(1))
        await eventually(lambda: ops.state(message_id) == "delivered")
        r = await ops.client.post(f"/v1/messages/{message_id}/replay",
                                  json={"reason": "GP lost it"},
                                  headers={"X-API-Key": KEYS["ops"]})
        assert r.status_code == 202 and r.json()["state"] == "routed"
        await eventually(lambda: ops.channel.count(GP) == 2)
        await eventually(lambda: ops.state(message_id) == "delivered")
    attempts = ops.hub.message_view(message_id)["attempts"]
    assert [a["outcome"] for a in attempts] == ["delivered", "delivered"]


async def test_resolving_a_task_by_hand(ops):
    ops.add_person("otto", "operator", ["Drift"])
    async with working(ops.hub):
        await _park(ops, 1)
    otto = await ops.login("otto")
    task = (await otto.get("/v1/tasks", params={"kind": "undeliverable"})).json()["items"][0]
    r = await otto.post(f"/v1/tasks/{task['id']}/resolve", json={"note": "phoned the GP"})
    assert r.status_code == 200 and r.json()["state"] == "resolved"
    assert r.json()["resolved_by"] == "person:otto"
    r = await otto.post(f"/v1/tasks/{task['id']}/resolve", json={"note": "again"})
    assert r.json()["note"] == "phoned the GP"  # idempotent: the first resolution stands
    assert (await otto.post("/v1/tasks/msg-999/resolve", json={"note": "x"})).status_code == 404
    assert (await otto.post("/v1/tasks/bogus/resolve", json={"note": "x"})).status_code == 404
