"""``POST /v1/admin/reload``: who may reload, what a good and a bad partner file answer, the
audit; then the whole story on PostgreSQL and RabbitMQ: a letter parked because its receiver
did not exist is released after the reload and delivered once into the new EDI mailbox."""

from __future__ import annotations

import asyncio
import contextlib
import copy
from pathlib import Path

import httpx
import pytest

from gateway.api.app import create_app
from gateway.operations import audit
from gateway.pipeline import Hub
from tests.operations.conftest import (
    GP,
    HOSPITAL,
    KEYS,
    NEW_GP,
    PARTNERS,
    eventually,
    letter,
    ops_hub,
    settings_for,
    working,
)
from tests.partner_files import with_mailboxes, write_partners

REGION = {"name": "Region Syd", "kind": "region", "api_key_sha256": []}


def partners_with(tmp_path: Path, *, new_gp: bool = False) -> dict:
    partners = copy.deepcopy(PARTNERS)
    from gateway.registry import hash_api_key

    partners["organisations"].append({**REGION, "api_key_sha256": [hash_api_key(KEYS["region"])]})
    if new_gp:
        partners["endpoints"].append({"gln": NEW_GP, "name": "Nyt Lægehus", "kind": "gp",
                                      "accepts": [{"type": "DIS01"}], "channel": {}})
    return with_mailboxes(partners, tmp_path / "mailboxes")


@pytest.fixture
async def reloadable(tmp_path, broker_prefix):
    """The operations hub reading its partners from a file the test may change."""
    partners = partners_with(tmp_path)
    config = write_partners(tmp_path / "partners.toml", partners)
    async with ops_hub(f"sqlite:///{tmp_path / 'ops.db'}", "memory://", broker_prefix,
                       partners=partners, config=config) as ops:
        yield ops


async def _caller(ops, who: str) -> tuple[httpx.AsyncClient, dict]:
    if who.startswith("key:"):
        return ops.client, {"X-API-Key": KEYS[who.removeprefix("key:")]}
    if who == "nobody":
        return ops.client, {}
    ops.add_person(who, who.split("-")[0], ["Drift"])
    return await ops.login(who), {}


CALLERS = [
    # who                 answer
    ("admin-ada", 200),
    ("key:ops", 200),       # an operator organisation's key (a deploy job)
    ("key:region", 200),    # a region organisation's key
    ("operator-otto", 403),
    ("viewer-vera", 403),
    ("key:gp", 403),        # an ordinary organisation's key
    ("nobody", 401),
]


@pytest.mark.parametrize(("who", "status"), CALLERS)
async def test_who_may_reload(reloadable, tmp_path, who, status):
    ops = reloadable
    before = ops.hub.registry
    write_partners(ops.hub.settings.config, partners_with(tmp_path, new_gp=True))
    client, headers = await _caller(ops, who)
    r = await client.post("/v1/admin/reload", headers=headers)
    assert r.status_code == status, r.text
    if status == 200:
        assert r.json()["endpoints"] == {"added": [NEW_GP], "removed": [], "changed": []}
        assert ops.hub.registry.endpoint(NEW_GP) is not None
    else:
        assert ops.hub.registry is before and ops.hub.registry.endpoint(NEW_GP) is None
        assert r.json()["detail"]


async def test_admin_reload_answers_the_changes_and_is_audited(reloadable, tmp_path):
    ops = reloadable
    ops.add_person("ada", "admin", ["Drift"])
    ada = await ops.login("ada")
    partners = partners_with(tmp_path, new_gp=True)
    partners["endpoints"] = [e for e in partners["endpoints"] if e["gln"] != HOSPITAL]
    partners["organisations"] = [o for o in partners["organisations"] if o["name"] != "Hillerød"]
    partners["endpoints"][0]["name"] = "Lægehuset Vandværksvej"
    write_partners(ops.hub.settings.config, partners)
    r = await ada.post("/v1/admin/reload")
    assert r.status_code == 200, r.text
    assert r.json() == {
        "applied": True, "file": str(ops.hub.settings.config),
        "endpoints": {"added": [NEW_GP], "removed": [HOSPITAL], "changed": [GP]},
        "organisations": {"added": [], "removed": ["Hillerød"], "changed": []}}
    assert ops.hub.registry.endpoint(HOSPITAL) is None
    assert ops.hub.registry.endpoint(GP).name == "Lægehuset Vandværksvej"
    items = (await ada.get("/v1/audit", params={"action": "config.reload"})).json()["items"]
    assert [(a["actor"], a["target"], a["detail"]["outcome"], a["detail"]["endpoints"])
            for a in items] == [("person:ada", f"file:{ops.hub.settings.config}", "applied",
                                 {"added": [NEW_GP], "removed": [HOSPITAL], "changed": [GP]})]
    assert items[0]["remote"]


async def test_a_bad_file_is_422_and_nothing_changes(reloadable, tmp_path):
    ops = reloadable
    before, topology = ops.hub.registry, ops.hub.topology
    partners = partners_with(tmp_path, new_gp=True)
    partners["endpoints"][-1]["channel"] = {"kind": "edi_mailbox"}  # no outbox
    write_partners(ops.hub.settings.config, partners)
    r = await ops.client.post("/v1/admin/reload", headers={"X-API-Key": KEYS["ops"]})
    assert r.status_code == 422, r.text
    body = r.json()
    config = ops.hub.settings.config
    assert body["detail"] == (
        "the partner file was not reloaded (the running configuration is kept): "
        f"{config}: endpoints[3] ({NEW_GP}).channel: kind 'edi_mailbox' needs outbox or "
        "directory")
    assert body["errors"] == [{"field": f"endpoints[3] ({NEW_GP}).channel",
                               "message": "kind 'edi_mailbox' needs outbox or directory"}]
    assert ops.hub.registry is before and ops.hub.topology is topology
    # not TOML at all: the same answer shape, the whole text as the file's problem
    config.write_text("[[endpoints]\n", encoding="utf-8")
    r = await ops.client.post("/v1/admin/reload", headers={"X-API-Key": KEYS["ops"]})
    assert r.status_code == 422 and "not valid TOML" in r.json()["detail"]
    assert r.json()["errors"][0]["field"] == "file"
    assert ops.hub.registry is before
    with ops.hub.store.transaction() as session:
        rows = audit.listing(session, action="config.reload")["items"]
    assert [(a["actor"], a["detail"]["outcome"]) for a in rows] == [
        ("key:Drift", "refused"), ("key:Drift", "refused")]


# -- PostgreSQL and RabbitMQ: parked, reload, release, delivered once ------------------------


@pytest.mark.rabbitmq
@pytest.mark.postgres
async def test_a_parked_letter_is_delivered_once_after_the_reload_adds_its_receiver(
        tmp_path, pg_url, amqp_url, broker_prefix):
    partners = partners_with(tmp_path)
    config = write_partners(tmp_path / "partners.toml", partners)
    hub = Hub.from_settings(settings_for(pg_url, amqp_url, broker_prefix, config=config))
    await hub.start()
    app = create_app(hub, manage_hub=False)
    ops_key = {"X-API-Key": KEYS["ops"]}
    outbox = tmp_path / "mailboxes" / NEW_GP
    try:
        async with working(hub), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://medbro.test") as client:
            result = await hub.ingest(letter(1, receiver=NEW_GP), received_via="test")
            [message_id] = result.message_ids
            assert hub.message_view(message_id)["state"] == "parked"
            r = await client.post(f"/v1/messages/{message_id}/release", headers=ops_key,
                                  json={"reason": "too early"})
            assert r.status_code == 409 and "/v1/admin/reload" in r.json()["detail"]

            write_partners(config, partners_with(tmp_path, new_gp=True))
            r = await client.post("/v1/admin/reload", headers=ops_key)
            assert r.status_code == 200 and r.json()["endpoints"]["added"] == [NEW_GP]
            r = await client.post(f"/v1/messages/{message_id}/release", headers=ops_key,
                                  json={"reason": "the GP is in the partner file now"})
            assert r.status_code == 202, r.text

            def delivered() -> bool:
                return hub.message_view(message_id)["state"] == "delivered"

            await eventually(delivered)
            await asyncio.sleep(1.0)  # time for a second delivery, if there were one
            files = [p for p in outbox.iterdir() if not p.name.startswith(".")]
            assert len(files) == 1
            assert files[0].read_bytes() == letter(1, receiver=NEW_GP)
            view = hub.message_view(message_id)
            assert view["state"] == "delivered"
            assert [a["outcome"] for a in view["attempts"]] == ["delivered"]
    finally:
        with contextlib.suppress(Exception):
            await hub.transport.delete(hub.topology)
        await hub.stop()
