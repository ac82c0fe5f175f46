"""A mailbox watcher dying at each step of claim -> store -> publish -> archive, deterministically.

The fault test in test_fault_processes.py SIGKILLs a real watcher wherever it happens to be; this
one stops a watcher exactly between two steps (its locks dropped, as the kernel does for a dead
process) and lets a second watcher on the same mailbox finish. Each file must be stored once,
archived once and have exactly one delivery command; a file stored but never published is the
scanner's (republished once ROUTED longer than ``republish_after_seconds``), not lost.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from adapters.edi_mailbox.client import MailboxClient
from adapters.edi_mailbox.config import MailboxConfig
from adapters.edi_mailbox.watcher import MailboxWatcher
from gateway.demo import discharge_letter
from gateway.pipeline import resend
from gateway.pipeline.hub import Hub
from gateway.registry import Registry
from gateway.settings import Settings
from gateway.store.tables import InterchangeRow, MessageRow

HOSPITAL, GP = "5790000120420", "5790000128686"


@pytest.fixture
async def hub(tmp_path: Path, broker_prefix: str):
    registry = Registry.from_dict({"endpoints": [
        {"gln": HOSPITAL, "name": "hospital", "kind": "hospital",
         "channel": {"kind": "edi_mailbox", "directory": str(tmp_path / "hospital")}},
        {"gln": GP, "name": "gp", "kind": "gp", "accepts": [{"type": "DIS01"}],
         "channel": {"kind": "edi_mailbox", "outbox": str(tmp_path / "gp")}},
    ]})
    settings = Settings.load(database_url=f"sqlite:///{tmp_path / 'medbro.db'}",
                             broker_url="memory://", broker_prefix=broker_prefix,
                             republish_after_seconds=0.05)
    hub = Hub(settings, registry)
    await hub.start()
    try:
        yield hub
    finally:
        await hub.stop()


def mailbox(tmp_path: Path) -> MailboxClient:
    client = MailboxClient(MailboxConfig(gln=HOSPITAL, directory=tmp_path / "hospital"))
    client.ensure_dirs()
    return client


def letter() -> bytes:
    return discharge_letter(1, sender=HOSPITAL, receiver=GP, patient=("0101509991", "Ærøboe",
                            "Søren"), prepared_at=datetime(2026, 3, 2, 9, 30), ack_requested=False)


def watcher(client: MailboxClient, hub: Hub) -> MailboxWatcher:
    return MailboxWatcher(client, hub.ingest, gln=HOSPITAL,
                          authenticated_glns=frozenset({HOSPITAL}))


def stored(hub: Hub) -> tuple[list[str], list[str]]:
    """(interchange statuses, message states) in the store."""
    with hub.store.transaction() as session:
        return (sorted(session.scalars(sa.select(InterchangeRow.status)).all()),
                sorted(session.scalars(sa.select(MessageRow.state)).all()))


async def queued(hub: Hub) -> int:
    return await hub.transport.queue_depth(hub.topology.endpoint_queue(GP))


async def test_died_after_claim_before_store(tmp_path: Path, hub: Hub) -> None:
    dead = mailbox(tmp_path)
    dead.drop("a.edi", letter())
    assert dead.claim("a.edi") is not None
    dead.close()  # the process died: the kernel drops its flocks
    live = mailbox(tmp_path)
    assert await watcher(live, hub).poll_once() == 1
    assert stored(hub) == (["processed"], ["routed"])
    assert await queued(hub) == 1
    assert live.claimed() == [] and len(live.archived()) == 1


async def test_died_after_store_before_archive(tmp_path: Path, hub: Hub) -> None:
    dead = mailbox(tmp_path)
    dead.drop("a.edi", letter())
    claimed = dead.claim("a.edi")
    assert claimed is not None
    await hub.ingest(dead.read_claimed(claimed), received_via="edi_mailbox")  # stored, published
    dead.close()
    live = mailbox(tmp_path)
    assert await watcher(live, hub).poll_once() == 1  # read again: a duplicate
    assert stored(hub) == (["duplicate", "processed"], ["routed"])
    assert await queued(hub) == 1  # one delivery command, not two
    assert live.claimed() == [] and live.archived() == [claimed]


async def test_died_after_commit_before_publish(tmp_path: Path, hub: Hub) -> None:
    dead = mailbox(tmp_path)
    dead.drop("a.edi", letter())
    never = asyncio.Event()

    async def hang(command: object) -> None:  # the process dies while publishing
        await never.wait()

    publish, hub.transport.publish = hub.transport.publish, hang  # type: ignore[method-assign]
    crashed = asyncio.create_task(watcher(dead, hub).poll_once())
    for _ in range(1000):  # up to 10 s: a loaded machine commits slowly
        if stored(hub)[1] == ["routed"]:
            break
        await asyncio.sleep(0.01)
    assert stored(hub) == (["processed"], ["routed"])  # committed, publish pending
    crashed.cancel()  # the watcher is gone; its publish stays stuck until the end of the test
    await asyncio.gather(crashed, return_exceptions=True)
    dead.close()
    hub.transport.publish = publish  # type: ignore[method-assign]
    assert len(dead.claimed()) == 1 and await queued(hub) == 0

    live = mailbox(tmp_path)
    assert await watcher(live, hub).poll_once() == 1  # read again: a duplicate, archived
    assert stored(hub) == (["duplicate", "processed"], ["routed"])
    assert live.claimed() == [] and len(live.archived()) == 1
    assert await queued(hub) == 0  # a duplicate is never delivered again by itself...
    await asyncio.sleep(0.1)  # (republish_after_seconds)
    assert await resend.scan_once(hub.ctx) == 1  # ...the scanner republishes the ROUTED one
    assert await queued(hub) == 1
    never.set()  # (let the stuck publish return without publishing, so the hub stops cleanly)
    await asyncio.gather(*hub._ingest._coalescer._drains)
    assert await queued(hub) == 1
