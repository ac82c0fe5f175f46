"""The delivery worker: one consumer per endpoint queue, store-first, ack-after-commit.

For each queue message (the id of an interchange):

1. Load it from the store. Already handed over (DELIVERED, ACKNOWLEDGED, FAILED) -> ack and do
   nothing: a redelivered AMQP message never reaches the receiver twice through us (the
   idempotent consumer). PARKED -> ack (an operator owns it).
2. Deliver through the endpoint's channel (``gateway/channels.py``).
3. Commit the attempt and the new state (DELIVERED, receipt clock started when the sender asked
   for a receipt; SLA hook) - and only then return, so the transport acks.
4. Transient failure: the attempt is recorded and the message goes to a delay tier queue with an
   exponential backoff (tenacity's ``wait_exponential``); attempts used up or a permanent error
   -> PARKED with an operator task.

The store can be down: every store call is retried with backoff while the AMQP message stays
unacknowledged in the broker, which redelivers it to someone if this worker dies meanwhile.
A worker that dies between delivering and committing delivers again on redelivery; channels are
idempotent for that case (same file name, same external key).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
import tenacity
from sqlalchemy.exc import DBAPIError, OperationalError

from gateway.channels import (
    Channel,
    Delivery,
    PermanentDeliveryError,
    TransientDeliveryError,
    load_channel,
)
from gateway.logging import get_logger
from gateway.pipeline import codec, metering, observers, receipts, retries
from gateway.pipeline.context import Pipeline, delivery_command
from gateway.pipeline.conversion import ConvertingChannel
from gateway.registry import Endpoint
from gateway.store import repository as repo
from gateway.store.states import HANDED_OVER, MessageEvent, MessageState
from gateway.store.tables import AttemptRow, InterchangeRow, MessageRow
from gateway.transport.port import IncomingMessage, PublishCommand

log = get_logger(__name__)
T = TypeVar("T")


def store_unavailable(exc: BaseException) -> bool:
    """The database is away (connection refused or lost, locked), not our SQL being wrong."""
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def retry_delay(attempt_no: int, *, base: float, cap: float) -> float:
    """Backoff before retry ``attempt_no`` (1 = after the first failure): exponential, capped."""
    wait = tenacity.wait_exponential(multiplier=base, min=base, max=cap)
    state = tenacity.RetryCallState(retry_object=tenacity.Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = attempt_no
    return float(wait(state))


@dataclass
class _Job:
    interchange_id: str
    raw: bytes
    messages: list[MessageRow]
    attempts: int


class DeliveryWorker:
    """Handles the endpoint queues of one process; channels are built once per endpoint."""

    def __init__(self, ctx: Pipeline,
                 channel_factory: Callable[[Endpoint], Channel] | None = None) -> None:
        self.ctx = ctx
        self._channels: dict[str, Channel] = {}
        self._factory = channel_factory or (lambda ep: load_channel(ep, ctx.settings))

    def channel(self, endpoint: Endpoint) -> Channel:
        """The endpoint's channel, converting to its ``deliver_as`` format (conversion.py)."""
        if endpoint.gln not in self._channels:
            self._channels[endpoint.gln] = ConvertingChannel(self._factory(endpoint))
        return self._channels[endpoint.gln]

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        """A store call, retried while the database is unreachable (the message stays unacked)."""
        async for attempt in tenacity.AsyncRetrying(
            retry=tenacity.retry_if_exception(store_unavailable),
            wait=tenacity.wait_exponential(multiplier=0.2, max=5.0),
            before_sleep=lambda rs: log.warning(
                "store_unavailable", attempt=rs.attempt_number,
                error=str(rs.outcome.exception()) if rs.outcome else ""),
            reraise=True,
        ):
            with attempt:
                return await self.ctx.db(fn, *args)
        raise AssertionError("unreachable")  # pragma: no cover

    async def handle(self, incoming: IncomingMessage) -> None:
        interchange_id = incoming.body.decode("ascii")
        hop = retries.remaining_hop(incoming.headers, self.ctx.clock(),
                                    self.ctx.topology.delay_tiers)
        if hop is not None:  # an SLA-scheduled retry back from a delay tier before it is due
            await self.ctx.transport.publish(PublishCommand(
                routing_key=incoming.routing_key, body=incoming.body,
                message_id=incoming.message_id, headers=dict(incoming.headers),
                delay_seconds=hop))
            return
        job = await self._db(self._load, interchange_id)
        if job is None:
            raise LookupError(f"interchange {interchange_id} is not in the store")
        states = {MessageState(m.state) for m in job.messages}
        if states <= HANDED_OVER:
            log.info("delivery_skipped_already_delivered", interchange_id=interchange_id,
                     redelivered=incoming.redelivered)
            return
        if MessageState.ROUTED not in states:
            log.info("delivery_skipped", interchange_id=interchange_id,
                     states=sorted(s.value for s in states))
            return
        first = job.messages[0]
        endpoint = self.ctx.registry.endpoint(first.receiver_gln or "")
        if endpoint is None:
            await self._db(self._park, job, "undeliverable",
                           f"receiver {first.receiver_gln} is no longer configured")
            return
        delivery = Delivery(
            message_id=first.id, payload=job.raw, sender_gln=first.sender_gln or "",
            receiver_gln=first.receiver_gln or "", control_ref=first.control_ref or "",
            type=first.type, version=first.version, format=first.format,
        )
        started = self.ctx.clock()
        try:
            result = await self.channel(endpoint).deliver(endpoint, delivery)
        except PermanentDeliveryError as exc:
            metering.attempt(endpoint.gln, ok=False)
            await self._db(self._record_failure, job, endpoint, started, str(exc), True)
            return
        except Exception as exc:  # noqa: BLE001 - anything else may pass: retry later
            metering.attempt(endpoint.gln, ok=False)
            transient = isinstance(exc, TransientDeliveryError)
            if not transient:
                log.exception("channel_crashed", interchange_id=interchange_id)
            command = await self._db(self._record_failure, job, endpoint, started,
                                     f"{type(exc).__name__}: {exc}", False)
            if command is not None:
                await self.ctx.transport.publish(command)
            return
        metering.attempt(endpoint.gln, ok=True)
        commands = await self._db(self._record_delivery, job, endpoint, started,
                                  result.external_ref)
        for command in commands:
            await self.ctx.transport.publish(command)

    # -- store units of work (run in a thread) ---------------------------------------------

    def _load(self, interchange_id: str) -> _Job | None:
        attempts = (sa.select(sa.func.count()).select_from(AttemptRow)
                    .where(AttemptRow.interchange_id == interchange_id).scalar_subquery())
        with self.ctx.store.transaction() as session:
            found = session.execute(
                sa.select(InterchangeRow.raw, attempts).where(InterchangeRow.id == interchange_id)
            ).first()
            if found is None:
                return None
            messages = repo.messages_of(session, interchange_id)
            return _Job(interchange_id, found[0], messages, int(found[1] or 0))

    def _record_delivery(self, job: _Job, endpoint: Endpoint, started: datetime,
                         external_ref: str) -> list[PublishCommand]:
        now = self.ctx.clock()
        commands: list[PublishCommand] = []
        latencies: list[tuple[str, datetime]] = []
        with self.ctx.store.transaction() as session:
            rows = repo.messages_of(session, job.interchange_id, for_update=True)
            letters = self._mark_delivered(session, job, rows, endpoint, started, now,
                                           external_ref, latencies)
            if letters is None:
                return []
            for message_id in letters:
                observers.letter_delivered(session, message_id=message_id, at=now)
            if endpoint.is_local:
                command = self._answer_as_final_receiver(session, job, rows, now)
                if command is not None:
                    commands.append(command)
        for letter_type, received_at in latencies:  # committed: now it counts
            metering.delivered(letter_type, received_at, now)
        log.info("message_delivered", interchange_id=job.interchange_id, endpoint=endpoint.gln,
                 external_ref=external_ref)
        return commands

    def _mark_delivered(self, session: Any, job: _Job, rows: list[MessageRow],
                        endpoint: Endpoint, started: datetime, now: datetime, external_ref: str,
                        latencies: list[tuple[str, datetime]]) -> list[str] | None:
        """Record one delivered interchange in ``session`` (rows locked by the caller): the
        attempt, and for each routed message its DELIVER transition and receipt deadline.
        None when a competing worker committed first (both delivered: idempotent); else the
        ids of the delivered letters (not CONTRL) for the SLA clocks. Appends to ``latencies``
        what the metrics count once the caller has committed."""
        if not any(r.state == MessageState.ROUTED.value for r in rows):
            return None
        session.add(AttemptRow(
            interchange_id=job.interchange_id, endpoint_gln=endpoint.gln,
            channel=endpoint.channel.kind, attempt_no=job.attempts + 1, started_at=started,
            finished_at=now, outcome="delivered", external_ref=external_ref[:500],
        ))
        timeout = timedelta(seconds=self.ctx.settings.receipt_timeout_seconds)
        letters: list[str] = []
        for row in rows:
            if row.state != MessageState.ROUTED.value:
                continue
            repo.transition(session, row, MessageEvent.DELIVER, at=now,
                            endpoint=endpoint.gln, external_ref=external_ref)
            if row.delivered_at is None:  # a resend is not a new delivery latency
                latencies.append((row.type, row.created_at))
            row.delivered_at = now
            row.receipt_due_at = now + timeout if row.ack_requested else None
            if row.family != "CONTRL":
                letters.append(row.id)
        return letters

    def _answer_as_final_receiver(self, session: Any, job: _Job, rows: list[MessageRow],
                                  now: datetime) -> PublishCommand | None:
        """medbro is the receiver: it owes the sender a CTL03 (if asked) like any GP system."""
        receipt = codec.final_receipt(job.raw, now=now)
        for row in rows:
            if row.state == MessageState.DELIVERED.value and row.family != "CONTRL":
                row.receipt_due_at = None
                if receipt is not None:
                    repo.transition(session, row, MessageEvent.ACKNOWLEDGE, at=now,
                                    receipt="CTL03", by="medbro")
                    observers.letter_acknowledged(session, message_id=row.id, at=now)
        if receipt is None:
            return None
        return receipts.emit(self.ctx, session, receipt, originals=rows, at=now)

    def _record_failure(self, job: _Job, endpoint: Endpoint, started: datetime, error: str,
                        permanent: bool) -> PublishCommand | None:
        now = self.ctx.clock()
        settings = self.ctx.settings
        with self.ctx.store.transaction() as session:
            rows = repo.messages_of(session, job.interchange_id, for_update=True)
            attempt_no = repo.attempt_count(session, job.interchange_id) + 1
            session.add(AttemptRow(
                interchange_id=job.interchange_id, endpoint_gln=endpoint.gln,
                channel=endpoint.channel.kind, attempt_no=attempt_no, started_at=started,
                finished_at=now, outcome="permanent_error" if permanent else "transient_error",
                error=error[:4000],
            ))
            routed = [r for r in rows if r.state == MessageState.ROUTED.value]
            plan = retries.RetryPlan(give_up="refused by the channel") if permanent else (
                retries.plan_retry(
                    session, routed, attempt_no=attempt_no, now=now,
                    max_attempts=settings.max_delivery_attempts,
                    generic_delay=lambda n: retry_delay(
                        n, base=settings.retry_delays_seconds[0],
                        cap=settings.retry_delays_seconds[-1])))
            if plan.give_up:
                why = plan.give_up
                for row in routed:
                    repo.transition(session, row, MessageEvent.EXHAUST, at=now, error=error)
                    repo.open_task(session, message_id=row.id, kind="undeliverable",
                                   reason=f"{why}: {error}"[:2000], at=now)
                log.error("delivery_given_up", interchange_id=job.interchange_id,
                          endpoint=endpoint.gln, attempts=attempt_no, error=error, alert=True)
                return None
            delay = plan.delay
            for row in routed:
                repo.transition(session, row, MessageEvent.RETRY, at=now, attempt_no=attempt_no,
                                error=error, retry_in_seconds=delay, sla=plan.sla)
            log.warning("delivery_failed", interchange_id=job.interchange_id,
                        endpoint=endpoint.gln, attempt_no=attempt_no, retry_in=delay, error=error,
                        sla=plan.sla)
            if not routed:
                return None
            if not plan.sla:
                return delivery_command(routed[0], delay_seconds=delay)
            # The SLA's due time is exact: the longest tier that does not overshoot, then hops.
            command = delivery_command(
                routed[0], delay_seconds=retries.hop_delay(self.ctx.topology.delay_tiers, delay))
            due = (now + timedelta(seconds=delay)).isoformat()
            return dataclasses.replace(
                command, headers={**command.headers, retries.NOT_BEFORE: due})

    def _park(self, job: _Job, kind: str, reason: str) -> None:
        now = self.ctx.clock()
        with self.ctx.store.transaction() as session:
            for row in repo.messages_of(session, job.interchange_id, for_update=True):
                if row.state == MessageState.ROUTED.value:
                    repo.transition(session, row, MessageEvent.EXHAUST, at=now, error=reason)
                    repo.open_task(session, message_id=row.id, kind=kind, reason=reason, at=now)
        log.error("delivery_given_up", interchange_id=job.interchange_id, reason=reason,
                  alert=True)


async def run_scanner(ctx: Pipeline, stop: asyncio.Event) -> None:
    """Every ``scan_interval_seconds``: receipt timeouts, resends, stuck messages; and every
    ``sla_sweep_interval_seconds`` the SLA sweep and the backlog gauges (ticks.py)."""
    from gateway.pipeline import ingest, resend, ticks

    last_sweep: float | None = None
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        try:
            await resend.scan_once(ctx)
            await ingest.recover_received(ctx)
        except Exception as exc:  # noqa: BLE001 - the scanner must outlive one bad round
            log.warning("scan_failed", error=repr(exc))
        if last_sweep is None or loop.time() - last_sweep >= ticks.sweep_interval(ctx):
            last_sweep = loop.time()
            try:
                await ticks.tick(ctx)
            except Exception as exc:  # noqa: BLE001 - same: the next tick tries again
                log.warning("sla_sweep_failed", error=repr(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=ctx.settings.scan_interval_seconds)
