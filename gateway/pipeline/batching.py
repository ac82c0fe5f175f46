"""Group commit: calls that arrive together are handled as one batch (one transaction).

Each caller still awaits its own result, and gets it only after the batch handler returned (so
after the batch's commit): "stored before answered" holds per call. A batch is whatever has
arrived by the time a drain slot is free, at most ``max_batch`` calls; ``max_inflight`` batches
run at once, so the next batch is parsed while the previous one waits on the database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

I = TypeVar("I")  # noqa: E741 - the item type
O = TypeVar("O")  # noqa: E741 - the result type

BatchHandler = Callable[[list[I]], Awaitable[list["O | BaseException"]]]


class Coalescer(Generic[I, O]):
    """``await submit(item)`` -> the result of ``handle_batch`` for that item."""

    def __init__(self, handle_batch: Callable[[list[I]], Awaitable[list[O | BaseException]]],
                 *, max_batch: int = 64, max_inflight: int = 2) -> None:
        self._handle = handle_batch
        self.max_batch = max(1, max_batch)
        self.max_inflight = max(1, max_inflight)
        self._pending: list[tuple[I, asyncio.Future[O]]] = []
        self._drains: set[asyncio.Task[None]] = set()

    async def submit(self, item: I) -> O:
        future: asyncio.Future[O] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if len(self._drains) < self.max_inflight:
            task = asyncio.create_task(self._drain())
            self._drains.add(task)
            task.add_done_callback(self._drains.discard)
        return await asyncio.shield(future)  # a cancelled caller does not cancel its batch

    async def _drain(self) -> None:
        await asyncio.sleep(0)  # let the callers scheduled with this one join its batch
        while self._pending:
            batch = self._pending[:self.max_batch]
            del self._pending[:self.max_batch]
            try:
                results = await self._handle([item for item, _ in batch])
            except BaseException as exc:
                results = [exc] * len(batch)
                if not isinstance(exc, Exception):  # cancelled: tell the callers, then stop
                    _settle(batch, results)
                    raise
            _settle(batch, results)


def _settle(batch: list[tuple[I, asyncio.Future[O]]], results: list[O | BaseException]) -> None:
    if len(results) != len(batch):
        results = [RuntimeError("batch handler returned a wrong number of results")] * len(batch)
    for (_, future), result in zip(batch, results, strict=True):
        if future.done():
            continue
        if isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(result)
