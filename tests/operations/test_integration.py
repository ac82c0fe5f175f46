"""The operations issue's acceptance story on PostgreSQL and RabbitMQ (the same API as
test_api.py, which runs on SQLite and the in-process broker):

* an endpoint down -> the letter parked -> found by ``GET /v1/messages?state=parked&receiver=``
  -> the endpoint back -> released -> delivered once, its task resolved, the audit naming who;
* a bulk release of 200 parked letters, a dry-run count first;
* a viewer cannot release; another organisation can neither see nor release.
(Reload adding an endpoint without a restart, on the same services: test_reload.py.)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.operations.conftest import GP, KEYS, OTHER_GP, Ops, eventually, letter, ops_hub, working

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]


@pytest.fixture
async def ops(pg_url: str, amqp_url: str, broker_prefix: str) -> AsyncIterator[Ops]:
    async with ops_hub(pg_url, amqp_url, broker_prefix) as o:
        yield o


async def park(ops: Ops, seqs: range, receiver: str = GP) -> list[str]:
    ops.channel.down.add(receiver)
    ids = [await ops.ingest(letter(seq, receiver=receiver)) for seq in seqs]
    await eventually(lambda: all(ops.state(i) == "parked" for i in ids), timeout=60)
    return ids


async def test_parked_found_released_delivered_once_task_resolved_audited(ops: Ops) -> None:
    ops.add_person("otto", "operator", ["Drift"])
    ops.add_person("ada", "admin", ["Drift"])
    otto, ada = await ops.login("otto"), await ops.login("ada")
    async with working(ops.hub):
        [parked] = await park(ops, range(1, 2))
        found = (await otto.get("/v1/messages", params={"state": "parked",
                                                       "receiver": GP})).json()
        assert [m["id"] for m in found["items"]] == [parked] and found["next"] is None
        ops.channel.down.clear()
        r = await otto.post(f"/v1/messages/{parked}/release", json={"reason": "GP back"})
        assert r.status_code == 202 and r.json()["state"] == "routed"
        await eventually(lambda: ops.state(parked) == "delivered")
    assert ops.channel.count(GP) == 1
    resolved = (await otto.get("/v1/tasks", params={"state": "resolved",
                                                     "kind": "undeliverable"})).json()["items"]
    assert [(t["message_id"], t["resolved_by"]) for t in resolved] == [(parked, "person:otto")]
    audit = (await ada.get("/v1/audit", params={"action": "message.release"})).json()["items"]
    assert [(a["actor"], a["target"], a["detail"]["reason"]) for a in audit] == [
        ("person:otto", f"message:{parked}", "GP back")]


async def test_a_bulk_release_of_200_parked_letters_after_a_dry_run(ops: Ops) -> None:
    key = {"X-API-Key": KEYS["ops"]}
    flt = {"state": "parked", "receiver": GP}
    async with working(ops.hub):
        ids = await park(ops, range(1, 201))
        r = await ops.client.post("/v1/operations/release", headers=key,
                                  json={"filter": flt, "dry_run": True})
        assert r.json() == {"matched": 200}
        assert ops.channel.count(GP) == 0  # a dry run changes nothing
        ops.channel.down.clear()
        r = await ops.client.post("/v1/operations/release", headers=key,
                                  json={"filter": flt, "dry_run": False, "reason": "GP back"})
        assert r.status_code == 202, r.text
        operation = r.json()["id"]

        for _ in range(600):
            state = (await ops.client.get(f"/v1/operations/{operation}", headers=key)).json()
            if state["state"] != "running":
                break
            await asyncio.sleep(0.1)
        assert state["state"] == "done" and state["matched"] == 200 and state["done"] == 200
        await eventually(lambda: all(ops.state(i) == "delivered" for i in ids), timeout=90)
    refs = [d.control_ref for d in ops.channel.delivered[GP]]
    assert len(refs) == 200 and len(set(refs)) == 200  # each once


async def test_a_viewer_cannot_release_and_another_organisation_cannot_see(ops: Ops) -> None:
    ops.add_person("vera", "viewer", ["Drift"])
    ops.add_person("olga", "operator", ["Odense"])
    vera, olga = await ops.login("vera"), await ops.login("olga")
    async with working(ops.hub):
        [parked] = await park(ops, range(1, 2))
        r = await vera.post(f"/v1/messages/{parked}/release", json={"reason": "try"})
        assert r.status_code == 403
        assert (await olga.get(f"/v1/messages/{parked}")).status_code == 404
        r = await olga.post(f"/v1/messages/{parked}/release", json={"reason": "mine?"})
        assert r.status_code == 404
        listed = (await olga.get("/v1/messages", params={"state": "parked"})).json()
        assert listed["items"] == []
        other = await ops.ingest(letter(2, receiver=OTHER_GP))
        await eventually(lambda: ops.state(other) == "delivered")
        assert [m["id"] for m in (await olga.get("/v1/messages")).json()["items"]] == [other]
    assert ops.state(parked) == "parked" and ops.channel.count(GP) == 0
