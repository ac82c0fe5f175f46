"""The inbound side of an EDI mailbox: poll the inbox, claim, store, then archive.

A file moves inbox/ -> processing/ (claim, atomic rename) -> hub.ingest (durably stored) ->
archive/. It is archived only after ingest returned, whatever the verdict (accepted, duplicate
or rejected: a rejected interchange is stored too, with the receipt it got). When ingest raises
(database or broker away), the file stays in processing/ and is retried on the next poll, and
no new file is claimed until the retry succeeds, so a backlog waits in the inbox untouched.
Files are ingested ``concurrency`` at a time (the hub stores them in parallel); at most that
many are in processing/ at once.
Every pass (so at startup too) first finishes what a crashed watcher left in processing/; a file
another live watcher of the same mailbox is storing is left alone (the claim's flock, see
client.py). A file can therefore be ingested twice only across a crash between the store commit
and the archive rename, and the hub's duplicate key (sender GLN, UNB ref, UNH ref) turns that
second ingest into a no-op.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from gateway.logging import get_logger

log = get_logger(__name__)

Ingest = Callable[..., Awaitable[Any]]


class MailboxIO(Protocol):
    """What the watcher needs of a mailbox client (the file client and its memory twin)."""

    def ensure_dirs(self) -> None: ...
    def ready(self) -> list[str]: ...
    def claim(self, name: str) -> str | None: ...
    def claimed(self) -> list[str]: ...
    def adopt(self, claimed: str) -> bool: ...
    def close(self) -> None: ...
    def read_claimed(self, claimed: str) -> bytes: ...
    def archive(self, claimed: str) -> None: ...


class MailboxWatcher:
    """Feeds one endpoint's inbox into the hub; ``ingest`` is ``Hub.ingest``."""

    def __init__(
        self,
        client: MailboxIO,
        ingest: Ingest,
        *,
        gln: str,
        authenticated_glns: frozenset[str] | None = None,
        poll_interval: float = 0.5,
        max_backoff: float = 10.0,
        concurrency: int = 8,
    ) -> None:
        self.client = client
        self._ingest = ingest
        self.gln = gln
        self._authenticated = authenticated_glns
        self.poll_interval = poll_interval
        self._max_backoff = max_backoff
        self.concurrency = max(1, concurrency)

    async def _io(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.to_thread(fn, *args)

    async def _store(self, claimed: str) -> bool:
        """Ingest one claimed file and archive it; False (file kept) when ingest failed."""
        data = await self._io(self.client.read_claimed, claimed)
        try:
            result = await self._ingest(
                data,
                received_via="edi_mailbox",
                source=f"{self.gln}/{claimed}",
                authenticated_glns=self._authenticated,
            )
        except Exception as exc:  # noqa: BLE001 - the file waits in processing/ for a retry
            log.warning("mailbox_ingest_failed", endpoint=self.gln, file=claimed, error=repr(exc))
            return False
        await self._io(self.client.archive, claimed)
        log.info(
            "mailbox_file_stored",
            endpoint=self.gln,
            file=claimed,
            message_ids=list(getattr(result, "message_ids", ()) or ()),
            state=str(getattr(result, "state", "")),
            duplicate=bool(getattr(result, "duplicate", False)),
        )
        return True

    async def _store_all(self, claimed: list[str]) -> tuple[int, bool]:
        """Ingest claimed files ``concurrency`` at a time; (stored, all of them stored)."""
        stored = 0
        for start in range(0, len(claimed), self.concurrency):
            results = await asyncio.gather(
                *(self._store(c) for c in claimed[start:start + self.concurrency]))
            stored += sum(results)
            if not all(results):
                return stored, False
        return stored, True

    async def _leftovers(self) -> list[str]:
        """Files in processing/ this watcher owns: its failed stores and crashed claimers'."""
        names = await self._io(self.client.claimed)
        return [c for c in names if await self._io(self.client.adopt, c)]

    async def recover(self) -> bool:
        """Finish files left in processing/; False when one could not be stored yet."""
        _, ok = await self._store_all(await self._leftovers())
        return ok

    async def poll_once(self) -> int:
        """One pass: leftovers first, then every complete inbox file; the number stored.

        Files are taken oldest first, ``concurrency`` at a time (1 keeps strict file order;
        MedCom letters carry their own ids and versions, so receivers do not rely on order).
        """
        stored, ok = await self._store_all(await self._leftovers())
        if not ok:
            return stored
        names = await self._io(self.client.ready)
        for start in range(0, len(names), self.concurrency):
            chunk = names[start:start + self.concurrency]
            claims = await asyncio.gather(*(self._io(self.client.claim, n) for n in chunk))
            # None: another watcher took it
            done, ok = await self._store_all([c for c in claims if c is not None])
            stored += done
            if not ok:
                break
        return stored

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop`` is set; back off (up to ``max_backoff``) while ingest fails."""
        await self._io(self.client.ensure_dirs)
        log.info("mailbox_watch_started", endpoint=self.gln)
        delay = self.poll_interval
        while not stop.is_set():
            try:
                await self.poll_once()
                healthy = not await self._leftovers()
            except OSError as exc:
                log.error("mailbox_poll_failed", endpoint=self.gln, error=repr(exc))
                healthy = False
            delay = self.poll_interval if healthy else min(delay * 2, self._max_backoff)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)
        await self._io(self.client.close)  # failed claims become adoptable by other watchers
        log.info("mailbox_watch_stopped", endpoint=self.gln)
