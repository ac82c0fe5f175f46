"""The reload decision (gateway/reload.py): what a new partner file changes, and that a bad file
keeps the running registry with the reason; then the swap on a real hub (SQLite, in-process
broker): one reference, audited, the new queue consumed, a bad file changes nothing."""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path

import pytest

from gateway.errors import ConfigError
from gateway.operations import audit
from gateway.operations.principal import system
from gateway.pipeline import Hub
from gateway.registry import Registry, hash_api_key
from gateway.reload import Changes, decide, diff, reload
from gateway.settings import Settings
from tests.partner_files import with_mailboxes, write_partners

HOSPITAL, GP, NEW_GP = "5790000120420", "5790000128686", "5790000181872"


def ep(gln: str, name: str = "x", **extra) -> dict:
    return {"gln": gln, "name": name, "kind": "gp", "accepts": [{"type": "DIS01"}],
            "channel": {"kind": "edi_mailbox", "outbox": f"/srv/{gln}"}, **extra}


def org(name: str, key: str = "k", **extra) -> dict:
    return {"name": name, "kind": "operator", "api_key_sha256": [hash_api_key(key)], **extra}


BASE = {"endpoints": [ep(HOSPITAL), ep(GP)], "organisations": [org("Drift")]}


def edited(**change) -> dict:
    doc = copy.deepcopy(BASE)
    for key, value in change.items():
        doc[key] = value
    return doc


DIFF_CASES = [
    # the new file                                                     what changes
    ("same file", BASE, Changes()),
    ("endpoint added", edited(endpoints=[ep(HOSPITAL), ep(GP), ep(NEW_GP)]),
     Changes(added=(NEW_GP,))),
    ("endpoint removed", edited(endpoints=[ep(HOSPITAL)]), Changes(removed=(GP,))),
    ("endpoint renamed", edited(endpoints=[ep(HOSPITAL), ep(GP, "Lægehuset")]),
     Changes(changed=(GP,))),
    ("outbox moved (a channel option)", edited(endpoints=[ep(HOSPITAL), {
        **ep(GP), "channel": {"kind": "edi_mailbox", "outbox": "/srv/elsewhere"}}]),
     Changes(changed=(GP,))),
    ("accepts another type", edited(endpoints=[ep(HOSPITAL), {
        **ep(GP), "accepts": [{"type": "DIS01"}, {"type": "REF01"}]}]),
     Changes(changed=(GP,))),
    ("delivered as OIOXML", edited(endpoints=[ep(HOSPITAL), ep(GP, deliver_as="oioxml")]),
     Changes(changed=(GP,))),
    ("a SOR code given", edited(endpoints=[ep(HOSPITAL, sor="265161000016000"), ep(GP)]),
     Changes(changed=(HOSPITAL,))),
    ("a department mapped", edited(endpoints=[ep(HOSPITAL, departments=[
        {"sor": "265161000016000", "sks": "2001060"}]), ep(GP)]), Changes(changed=(HOSPITAL,))),
    ("one added, one removed", edited(endpoints=[ep(HOSPITAL), ep(NEW_GP)]),
     Changes(added=(NEW_GP,), removed=(GP,))),
    ("organisation key rotated", edited(organisations=[org("Drift", "new key")]),
     Changes(organisations_changed=("Drift",))),
    ("organisation added", edited(organisations=[org("Drift"), org("Region", kind="region")]),
     Changes(organisations_added=("Region",))),
    ("organisation removed", edited(organisations=[]), Changes(organisations_removed=("Drift",))),
]


@pytest.mark.parametrize(("new", "expected"), [c[1:] for c in DIFF_CASES],
                         ids=[c[0] for c in DIFF_CASES])
def test_diff(new, expected):
    assert diff(Registry.from_dict(BASE), Registry.from_dict(new)) == expected
    assert expected.none == (expected == Changes())


def test_diff_names_no_key_hash():
    changes = diff(Registry.from_dict(BASE),
                   Registry.from_dict(edited(organisations=[org("Drift", "new key")])))
    assert hash_api_key("new key") not in repr(changes.as_dict())


def _bad(text: str):
    def read() -> Registry:
        raise ConfigError(text)
    return read


DECIDE_CASES = [
    # read gives                                          swapped   error
    ("a good file", lambda: Registry.from_dict(BASE), True, ""),
    ("a bad field", _bad("partners.toml: endpoints[1] (5790000128686).channel: kind "
                         "'edi_mailbox' needs outbox or directory"), False,
     "partners.toml: endpoints[1] (5790000128686).channel: kind 'edi_mailbox' needs outbox "
     "or directory"),
    ("not TOML, over lines", _bad("partners.toml: not valid TOML:\n  Expected '='"), False,
     "partners.toml: not valid TOML: Expected '='"),
]


@pytest.mark.parametrize(("read", "swapped", "error"), [c[1:] for c in DECIDE_CASES],
                         ids=[c[0] for c in DECIDE_CASES])
def test_decide(read, swapped, error):
    decision = decide(Registry.from_dict(BASE), read)
    assert (decision.registry is not None) == swapped
    assert decision.error == error
    if not swapped:
        assert decision.changes == Changes()


def test_decide_on_real_files_names_file_entry_and_field(tmp_path):
    running = Registry.from_dict(BASE)
    path = write_partners(tmp_path / "partners.toml",
                          edited(endpoints=[ep(HOSPITAL), ep(GP), {**ep(NEW_GP), "gln": "123"}]))
    decision = decide(running, lambda: Registry.load(path))
    assert decision.registry is None
    assert decision.error.startswith(f"{path}: endpoints[2] (123).gln: ")
    write_partners(path, edited(endpoints=[ep(HOSPITAL, departments=[
        {"sor": "265161000016000", "sks": "2001060"}, {"sor": "26516", "sks": "2001061"}])]))
    assert decide(running, lambda: Registry.load(path)).error == (
        f"{path}: endpoints[0] ({HOSPITAL}).departments[1].sor: '26516' is not a SOR code "
        "(11 to 18 digits)")
    path.write_text("[[endpoints]\n", encoding="utf-8")
    assert "not valid TOML" in decide(running, lambda: Registry.load(path)).error
    path.unlink()
    assert "not found" in decide(running, lambda: Registry.load(path)).error


# -- the swap on a running hub ---------------------------------------------------------------


@pytest.fixture
async def hub(tmp_path: Path, broker_prefix: str):
    partners = with_mailboxes(BASE, tmp_path / "mailboxes")
    config = write_partners(tmp_path / "partners.toml", partners)
    settings = Settings.load(database_url=f"sqlite:///{tmp_path / 'medbro.db'}",
                             broker_url="memory://", broker_prefix=broker_prefix, config=config)
    hub = Hub.from_settings(settings)
    await hub.start()
    hub.partners = partners  # type: ignore[attr-defined]
    try:
        yield hub
    finally:
        await hub.stop()


def _audit(hub: Hub) -> list[dict]:
    with hub.store.transaction() as session:
        return audit.listing(session, action="config.reload")["items"]


async def test_a_good_file_is_swapped_whole_audited_and_its_queue_consumed(hub, tmp_path):
    stop = asyncio.Event()
    worker = asyncio.create_task(hub.run_worker(stop))
    await asyncio.sleep(0.05)
    before = hub.registry
    seen: list[tuple[Registry, Registry]] = []

    async def follower(old: Registry, new: Registry) -> None:
        seen.append((old, new))

    hub.on_reload(follower)
    partners = copy.deepcopy(hub.partners)
    partners["endpoints"].append({**ep(NEW_GP), "channel": {
        "kind": "edi_mailbox", "outbox": str(tmp_path / "mailboxes" / NEW_GP)}})
    write_partners(hub.settings.config, partners)
    outcome = await reload(hub, who=system("person:ada"))
    try:
        assert outcome.applied and outcome.changes == Changes(added=(NEW_GP,))
        assert hub.registry is hub.ctx.registry is not before
        assert hub.registry.endpoint(NEW_GP) is not None
        assert hub.topology.endpoint_queue(NEW_GP) in hub.topology.endpoint_queues
        assert hub.topology.endpoint_queue(NEW_GP) in hub._consumers
        assert seen == [(before, hub.registry)]
        [row] = _audit(hub)
        assert row["actor"] == "person:ada" and row["target"] == f"file:{hub.settings.config}"
        assert row["detail"]["outcome"] == "applied"
        assert row["detail"]["endpoints"] == {"added": [NEW_GP], "removed": [], "changed": []}
    finally:
        stop.set()
        await asyncio.wait_for(worker, 10)


async def test_a_bad_file_keeps_the_running_registry_and_says_why(hub):
    before, topology = hub.registry, hub.topology
    partners = copy.deepcopy(hub.partners)
    partners["endpoints"].append({**ep(NEW_GP), "channel": {"kind": "edi_mailbox"}})
    write_partners(hub.settings.config, partners)
    outcome = await reload(hub, who=system("person:ada"))
    assert not outcome.applied
    assert outcome.error == (f"{hub.settings.config}: endpoints[2] ({NEW_GP}).channel: kind "
                             "'edi_mailbox' needs outbox or directory")
    assert hub.registry is before and hub.topology is topology
    [row] = _audit(hub)
    assert row["detail"]["outcome"] == "refused" and row["detail"]["error"] == outcome.error


async def test_an_audit_that_cannot_be_written_swaps_nothing(hub, monkeypatch):
    before = hub.registry
    partners = copy.deepcopy(hub.partners)
    partners["endpoints"].pop()
    write_partners(hub.settings.config, partners)

    def store_away(*_a, **_k):
        raise ConnectionError("the store is away")

    monkeypatch.setattr(audit, "record", store_away)
    with pytest.raises(ConnectionError):
        await reload(hub, who=system())
    assert hub.registry is before
