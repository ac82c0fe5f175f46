"""Bulk release and replay over a search filter: a dry-run count, then a throttled walk.

The walk pages through the filter newest first (the same keyset as the search, so messages
that change state while it runs are neither skipped nor taken twice) and applies the one-message
act (actions.py) to each, in small batches, at most ``rate`` messages a second, so live
traffic's deliveries never queue behind thousands of released letters. Progress and outcome are
kept in ``bulk_operations`` (``GET /v1/operations/{id}``). A walk stopped by a process restart
stays ``running`` with its counts; running the same bulk act again is safe (acts are
idempotent).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
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


def count(session: Any, flt: Filter, *, who: Principal, endpoint_gln: str | None) -> int:
    stmt = sa.select(sa.func.count()).select_from(MessageRow).where(
        *conditions(flt, glns=who.glns, endpoint_gln=endpoint_gln))
    return int(session.scalar(stmt) or 0)


def view(row: BulkOperationRow) -> dict[str, Any]:
    return {"id": row.id, "action": row.action, "state": row.state, "filter": row.filter,
            "reason": row.reason, "actor": row.actor, "matched": row.matched, "done": row.done,
            "skipped": row.skipped, "failed": row.failed, "error": row.error,
            "created_at": row.created_at.isoformat(), "updated_at": row.updated_at.isoformat()}


def start(hub: Any, action: Action, flt: Filter, *, who: Principal, reason: str,
          now: datetime, endpoint_gln: str | None) -> dict[str, Any]:
    """Create the operation row (matched = the count now); the caller runs ``walk``."""
    with hub.store.transaction() as session:
        matched = count(session, flt, who=who, endpoint_gln=endpoint_gln)
        row = BulkOperationRow(id=str(uuid.uuid4()), action=action.value, filter=flt.as_dict(),
                               reason=reason, actor=who.actor, state="running", matched=matched,
                               done=0, skipped=0, failed=0, error="", created_at=now,
                               updated_at=now)
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
            await hub.ctx.db(_progress, hub, operation_id, totals, error, "running")
            pause = len(page) / rate - (asyncio.get_running_loop().time() - started)
            if pause > 0:
                await asyncio.sleep(pause)
        await hub.ctx.db(_progress, hub, operation_id, totals, error, "done")
    except Exception as exc:  # noqa: BLE001 - the operation says it failed and why
        log.error("bulk_failed", operation=operation_id, error=repr(exc))
        await hub.ctx.db(_progress, hub, operation_id, totals, repr(exc)[:500], "failed")


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
        row.error = error
        row.state = state
        row.updated_at = hub.ctx.clock()


def get(hub: Any, operation_id: str) -> dict[str, Any] | None:
    with hub.store.transaction() as session:
        row = session.get(BulkOperationRow, operation_id)
        return view(row) if row is not None else None
