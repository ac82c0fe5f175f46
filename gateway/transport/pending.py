"""Publishes that failed during a broker outage, sent again the moment the broker is back.

Both transports keep their ``publish_later`` commands here. Without it a letter stored during
an outage waited for the republish scanner (``republish_after_seconds``, 5 minutes); with it,
it is published as soon as the connection is restored (``on_reconnect`` wakes the drain), or at
the latest every ``retry_seconds`` while the broker stays away.

Memory stays bounded: beyond ``limit`` commands a new one is not kept (it is still ROUTED in
the store, so the scanner publishes it later); repeats of one command are kept once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from gateway.logging import get_logger
from gateway.transport.port import PublishCommand, UnroutableError

log = get_logger(__name__)

Publish = Callable[[PublishCommand], Awaitable[None]]


class PendingPublishes:
    def __init__(self, publish: Publish, *, limit: int = 50_000,
                 retry_seconds: float = 5.0) -> None:
        self._publish = publish
        self.limit = limit
        self.retry_seconds = retry_seconds
        self._pending: dict[tuple[str, str, float], PublishCommand] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._pending)

    def add(self, command: PublishCommand) -> bool:
        """Keep ``command`` until the broker takes it; False when the backlog is full."""
        key = (command.message_id, command.routing_key, command.delay_seconds)
        if key not in self._pending and len(self._pending) >= self.limit:
            log.warning("publish_backlog_full", interchange_id=command.message_id,
                        limit=self.limit)
            return False
        self._pending[key] = command
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._drain())
        return True

    async def reconnected(self) -> None:
        """The ``on_reconnect`` callback: publish what is pending now."""
        self._wake.set()

    async def _drain(self) -> None:
        while self._pending:
            self._wake.clear()
            published = 0
            for key, command in list(self._pending.items()):
                try:
                    await self._publish(command)
                except UnroutableError as exc:  # no queue for it: retrying cannot help
                    self._pending.pop(key, None)
                    log.error("pending_publish_unroutable", interchange_id=command.message_id,
                              error=str(exc))
                except Exception:  # noqa: BLE001 - the broker is still away: wait for it
                    break
                else:
                    self._pending.pop(key, None)
                    published += 1
            if published:
                log.info("pending_publishes_sent", count=published, left=len(self._pending))
            if self._pending:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.retry_seconds)

    async def close(self) -> None:
        """Stop draining; what is left stays ROUTED in the store for the scanner."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._pending:
            log.warning("pending_publishes_left", count=len(self._pending))
        self._pending.clear()
