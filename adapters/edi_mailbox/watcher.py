"""The inbound side of an EDI mailbox: poll the inbox, claim, store, then archive.

A file moves inbox/ -> processing/ (claim, atomic rename) -> hub.ingest (durably stored) ->
archive/. It is archived only after ingest returned, whatever the verdict (accepted, duplicate
or rejected: a rejected interchange is stored too, with the receipt it got). When ingest raises
(database or broker away), the file stays in processing/ and is retried on the next poll, and
no new file is claimed until the retry succeeds, so a backlog waits in the inbox untouched.
At startup ``run`` first finishes whatever a crash left in processing/. A file can therefore be
ingested twice only across a crash between the store commit and the archive rename, and the
hub's duplicate key (sender GLN, UNB ref, UNH ref) turns that second ingest into a no-op.
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
    ) -> None:
        self.client = client
        self._ingest = ingest
        self.gln = gln
        self._authenticated = authenticated_glns
        self.poll_interval = poll_interval
        self._max_backoff = max_backoff

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

    async def recover(self) -> bool:
        """Finish files left in processing/; False when one could not be stored yet."""
        for claimed in await self._io(self.client.claimed):
            if not await self._store(claimed):
                return False
        return True

    async def poll_once(self) -> int:
        """One pass: leftovers first, then every complete inbox file; the number stored."""
        if not await self.recover():
            return 0
        stored = 0
        for name in await self._io(self.client.ready):
            claimed = await self._io(self.client.claim, name)
            if claimed is None:  # another watcher took it
                continue
            if not await self._store(claimed):
                break
            stored += 1
        return stored

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop`` is set; back off (up to ``max_backoff``) while ingest fails."""
        await self._io(self.client.ensure_dirs)
        log.info("mailbox_watch_started", endpoint=self.gln)
        delay = self.poll_interval
        while not stop.is_set():
            try:
                await self.poll_once()
                healthy = not await self._io(self.client.claimed)
            except OSError as exc:
                log.error("mailbox_poll_failed", endpoint=self.gln, error=repr(exc))
                healthy = False
            delay = self.poll_interval if healthy else min(delay * 2, self._max_backoff)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)
        log.info("mailbox_watch_stopped", endpoint=self.gln)
