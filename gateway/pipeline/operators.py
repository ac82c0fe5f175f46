"""What an operator can do with a parked message: send it again, or close it as failed.

Both go through the lifecycle table (PARKED -> ROUTED by REQUEUE, PARKED -> FAILED by CLOSE),
close the open operator tasks of the message and leave an audit event naming who did it.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from gateway.errors import LocalUsageError
from gateway.logging import get_logger
from gateway.pipeline.context import Pipeline, delivery_command
from gateway.store import repository as repo
from gateway.store.states import MessageEvent, MessageState
from gateway.store.tables import MessageRow, OperatorTaskRow
from gateway.transport.port import PublishCommand

log = get_logger(__name__)


async def requeue(ctx: Pipeline, message_id: str, *, by: str) -> str:
    """Deliver a parked message again (after the receiver or the configuration was fixed)."""
    command = await ctx.db(_resolve, ctx, message_id, MessageEvent.REQUEUE, by, ctx.clock())
    if command is not None:
        await ctx.transport.publish(command)
    return MessageState.ROUTED.value


async def close(ctx: Pipeline, message_id: str, *, by: str) -> str:
    """Give up on a parked message for good (the sender is told outside medbro)."""
    await ctx.db(_resolve, ctx, message_id, MessageEvent.CLOSE, by, ctx.clock())
    return MessageState.FAILED.value


def _resolve(ctx: Pipeline, message_id: str, event: MessageEvent, by: str,
             now: datetime) -> PublishCommand | None:
    with ctx.store.transaction() as session:
        row = session.get(MessageRow, message_id, with_for_update=True)
        if row is None:
            raise LocalUsageError(f"no message {message_id}")
        rows = [r for r in repo.messages_of(session, row.interchange_id)
                if r.state == MessageState.PARKED.value]
        if row not in rows:
            raise LocalUsageError(f"message {message_id} is {row.state}, not parked")
        for r in rows:  # an interchange travels whole: all its parked messages move together
            repo.transition(session, r, event, at=now, by=by)
            session.execute(
                sa.update(OperatorTaskRow)
                .where(OperatorTaskRow.message_id == r.id, OperatorTaskRow.status == "open")
                .values(status="closed", closed_at=now)
            )
        log.info("operator_resolved", message_id=message_id, action=event.value, by=by)
        return delivery_command(row) if event is MessageEvent.REQUEUE else None
