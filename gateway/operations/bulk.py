"""Bulk release and replay over a search filter: a dry-run count, then a throttled walk.

The walk pages through the filter newest first (the same keyset as the search, so messages
that change state while it runs are neither skipped nor taken twice) and applies the one-message
act (actions.py) to each, in small batches, at most ``rate`` messages a second, so live
traffic's deliveries never queue behind thousands of released letters. Progress and outcome are
kept in ``bulk_operations`` (``GET /v1/operations/{id}``).

A walk runs inside the API process that accepted it, and that process may die. While it walks
it touches ``heartbeat_at`` every HEARTBEAT seconds; an operation still ``running`` whose
heartbeat is older than STALE_AFTER has lost its runner, and the first read of it
(``get``: the API and the console) marks it ``interrupted`` with its counts and how to finish.
A process that stops cleanly marks its own walks interrupted at once (``interrupt``).
Interrupted operations are not resumed by themselves: the act was asked for by a person, under
their name, and the store may have changed since; running the same bulk act again finishes it
safely (acts are idempotent: what was done is skipped as a no-op).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from gateway.logging import get_logger
from gateway.operations import actions, audit
from gateway.operations.principal import Principal
from gateway.operations.rules import Action
from gateway.operations.search import Filter, conditions, select_ids
from gateway.operations.tables import BulkOperationRow
from gateway.store.tables import MessageRow

log = get_logger(__name__)

BATCH = 20
DEFAULT_RATE = 50.0  # messages a second
HEARTBEAT = 5.0  # seconds between a walk's heartbeats
STALE_AFTER = timedelta(seconds=60)  # no heartbeat for this long: the runner is gone
RUNNING, DONE, FAILED, INTERRUPTED = "running", "done", "failed", "interrupted"


def shown_state(state: str, last_beat: datetime, now: datetime) -> str:
    """The state an operation is in: ``running`` only while its runner's heartbeat is fresh
    (``last_beat``: its heartbeat, or its last progress for a row of an older release)."""
    if state != RUNNING:
        return state
    if now - last_beat > STALE_AFTER:
        return INTERRUPTED
    return RUNNING


def count(session: Any, flt: Filter, *, who: Principal, endpoint_gln: str | None) -> int:
    stmt = sa.select(sa.func.count()).select_from(MessageRow).where(
        *conditions(flt, glns=who.glns, endpoint_gln=endpoint_gln))
    return int(session.scalar(stmt) or 0)


def view(row: BulkOperationRow) -> dict[str, Any]:
    return {"id": row.id, "action": row.action, "state": row.state, "filter": row.filter,
            "reason": row.reason, "actor": row.actor, "matched": row.matched, "done": row.done,
            "skipped": row.skipped, "failed": row.failed, "error": row.error,
            "created_at": row.created_at.isoformat(), "updated_at": row.updated_at.isoformat()}


def _interrupted_note(row: BulkOperationRow, why: str) -> str:
    return (f"{why} after {row.done + row.skipped + row.failed} of {row.matched} messages "
            f"({row.done} done, {row.skipped} skipped, {row.failed} failed); run the same bulk "
            f"{row.action} again to finish it (what was done is skipped)")


def start(hub: Any, action: Action, flt: Filter, *, who: Principal, reason: str,
          now: datetime, endpoint_gln: str | None) -> dict[str, Any]:
    """Create the operation row (matched = the count now); the caller runs ``walk``."""
    with hub.store.transaction() as session:
        matched = count(session, flt, who=who, endpoint_gln=endpoint_gln)
        row = BulkOperationRow(id=str(uuid.uuid4()), action=action.value, filter=flt.as_dict(),
                               reason=reason, actor=who.actor, state=RUNNING, matched=matched,
                               done=0, skipped=0, failed=0, error="", created_at=now,
                               updated_at=now, heartbeat_at=now)
        session.add(row)
        audit.record(session, who, f"operation.{action.value}", target=f"operation:{row.id}",
                     at=now, reason=reason, filter=flt.as_dict(), matched=matched)
        return view(row)


def dry_run(hub: Any, action: Action, flt: Filter, *, who: Principal, reason: str,
            now: datetime, endpoint_gln: str | None) -> int:
    with hub.store.transaction() as session:
        matched = count(session, flt, who=who, endpoint_gln=endpoint_gln)
        audit.record(session, who, f"operation.{action.value}.dry_run", at=now, reason=reason,
                     filter=flt.as_dict(), matched=matched)
    return matched


async def walk(hub: Any, operation_id: str, action: Action, flt: Filter, *, who: Principal,
               reason: str, endpoint_gln: str | None, rate: float = DEFAULT_RATE) -> None:
    """Apply ``action`` to every match, throttled; records progress after every batch."""
    after: tuple[datetime, str] | None = None
    totals = {"done": 0, "skipped": 0, "failed": 0}
    error = ""
    beating = asyncio.create_task(_heartbeat(hub, operation_id))
    try:
        while True:
            stmt = select_ids(flt, glns=who.glns, endpoint_gln=endpoint_gln)
            if after is not None:
                stmt = stmt.where(sa.tuple_(MessageRow.created_at, MessageRow.id) < sa.tuple_(
                    sa.literal(after[0], MessageRow.created_at.type), sa.literal(after[1])))
            page = await hub.ctx.db(_page, hub, stmt.limit(BATCH))
            if not page:
                break
            started = asyncio.get_running_loop().time()
            for message_id, _at in page:
                try:
                    outcome = await actions.act(hub, message_id, action, who=who,
                                                reason=reason, now=hub.ctx.clock())
                    totals["done" if outcome.changed else "skipped"] += 1
                except (actions.Refused, actions.NotFound):
                    totals["skipped"] += 1
                except Exception as exc:  # noqa: BLE001 - counted, named, the walk goes on
                    totals["failed"] += 1
                    error = f"{message_id}: {exc!r}"[:500]
                    log.warning("bulk_item_failed", operation=operation_id, message_id=message_id,
                                error=repr(exc))
            after = (page[-1][1], page[-1][0])
            await hub.ctx.db(_progress, hub, operation_id, totals, error, RUNNING)
            pause = len(page) / rate - (asyncio.get_running_loop().time() - started)
            if pause > 0:
                await asyncio.sleep(pause)
        await hub.ctx.db(_progress, hub, operation_id, totals, error, DONE)
    except asyncio.CancelledError:  # the process is stopping: say so now, not in a minute
        log.warning("bulk_interrupted", operation=operation_id, **totals)
        with contextlib.suppress(Exception):
            await hub.ctx.db(_progress, hub, operation_id, totals, error, INTERRUPTED)
        raise
    except Exception as exc:  # noqa: BLE001 - the operation says it failed and why
        log.error("bulk_failed", operation=operation_id, error=repr(exc))
        await hub.ctx.db(_progress, hub, operation_id, totals, repr(exc)[:500], FAILED)
    finally:
        beating.cancel()


async def _heartbeat(hub: Any, operation_id: str) -> None:
    """Touch ``heartbeat_at`` while the walk runs (a dead process stops touching it)."""
    while True:
        await asyncio.sleep(HEARTBEAT)
        with contextlib.suppress(Exception):  # a missed beat is not fatal; STALE_AFTER is wide
            await hub.ctx.db(_beat, hub, operation_id)


def _beat(hub: Any, operation_id: str) -> None:
    with hub.store.transaction() as session:
        session.execute(sa.update(BulkOperationRow).where(
            BulkOperationRow.id == operation_id, BulkOperationRow.state == RUNNING,
        ).values(heartbeat_at=hub.ctx.clock()))


async def interrupt(walks: Iterable[asyncio.Task[None]]) -> None:
    """Stop this process's walks (a clean shutdown): each marks its operation interrupted."""
    walks = [w for w in walks if not w.done()]
    for w in walks:
        w.cancel()
    if walks:
        await asyncio.gather(*walks, return_exceptions=True)


def _page(hub: Any, stmt: Any) -> list[tuple[str, datetime]]:
    with hub.store.transaction() as session:
        return [(r.id, r.created_at) for r in session.execute(stmt)]


def _progress(hub: Any, operation_id: str, totals: dict[str, int], error: str,
              state: str) -> None:
    with hub.store.transaction() as session:
        row = session.get(BulkOperationRow, operation_id)
        if row is None:
            return
        row.done, row.skipped, row.failed = totals["done"], totals["skipped"], totals["failed"]
        row.state = state
        row.updated_at = row.heartbeat_at = hub.ctx.clock()
        row.error = _interrupted_note(row, "stopped with its process") if (
            state == INTERRUPTED) else error


def get(hub: Any, operation_id: str) -> dict[str, Any] | None:
    """The operation as it is; one whose runner is gone is marked interrupted here."""
    with hub.store.transaction() as session:
        row = session.get(BulkOperationRow, operation_id)
        if row is None:
            return None
        now = hub.ctx.clock()
        beat = row.heartbeat_at or row.updated_at
        if shown_state(row.state, beat, now) != row.state:
            row.state = INTERRUPTED
            row.error = _interrupted_note(
                row, f"its process stopped (no heartbeat since {beat.isoformat()})")
            row.updated_at = now
        return view(row)
