"""``medbro mailbox-watch`` follows a reloaded partner file: a mailbox that gets an inbox is
watched from then on, one that loses it is no longer claimed from (SQLite, in-process broker)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import sqlalchemy as sa

from adapters.edi_mailbox.cli import watch_all
from gateway.operations.principal import system
from gateway.pipeline import Hub
from gateway.reload import reload
from gateway.settings import Settings
from gateway.store.tables import MessageRow
from tests.operations.conftest import GP, HOSPITAL, letter
from tests.partner_files import write_partners


def partners(root: Path, *, hospital_inbox: bool) -> dict:
    hospital = ({"kind": "edi_mailbox", "directory": str(root / HOSPITAL), "poll_interval": 0.05}
                if hospital_inbox else {"kind": "edi_mailbox", "outbox": str(root / HOSPITAL)})
    return {"endpoints": [
        {"gln": HOSPITAL, "name": "Hospital", "kind": "hospital", "channel": hospital},
        {"gln": GP, "name": "GP", "kind": "gp", "accepts": [{"type": "DIS01"}],
         "channel": {"kind": "edi_mailbox", "outbox": str(root / GP)}}]}


def drop(inbox: Path, name: str, data: bytes) -> None:
    """The partner's side: a complete file appears in the inbox (temp name, then rename)."""
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / f".{name}.part").write_bytes(data)
    os.rename(inbox / f".{name}.part", inbox / name)


def stored(hub: Hub) -> int:
    with hub.store.transaction() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(MessageRow)) or 0


async def until(check, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "not in time"
        await asyncio.sleep(0.05)


async def test_watchers_follow_the_reloaded_partner_file(tmp_path: Path, broker_prefix: str):
    root = tmp_path / "mailboxes"
    config = write_partners(tmp_path / "partners.toml", partners(root, hospital_inbox=False))
    hub = Hub.from_settings(Settings.load(
        database_url=f"sqlite:///{tmp_path / 'medbro.db'}", broker_url="memory://",
        broker_prefix=broker_prefix, config=config))
    await hub.start()
    stop = asyncio.Event()
    watching = asyncio.create_task(watch_all(hub, stop))
    inbox = root / HOSPITAL / "inbox"
    try:
        await asyncio.sleep(0.2)
        write_partners(config, partners(root, hospital_inbox=True))
        outcome = await reload(hub, who=system("signal:SIGHUP:mailbox-watch"))
        assert outcome.changes.changed == (HOSPITAL,)
        drop(inbox, "one.edi", letter(1))
        await until(lambda: stored(hub) == 1)
        await until(lambda: not (inbox / "one.edi").exists())

        write_partners(config, partners(root, hospital_inbox=False))
        await reload(hub, who=system("signal:SIGHUP:mailbox-watch"))
        drop(inbox, "two.edi", letter(2))
        await asyncio.sleep(0.5)  # ten polls of the old watcher, were it still running
        assert (inbox / "two.edi").exists() and stored(hub) == 1
    finally:
        stop.set()
        await asyncio.wait_for(watching, 10)
        await hub.stop()
    assert watching.result() == 1  # watchers started over the run
