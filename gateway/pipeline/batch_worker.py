"""Deliver in batches: the queue messages a worker holds (its prefetch) share two transactions.

``DeliveryWorker.handle`` does, per queue message, a load transaction and a record transaction.
Here the messages that arrive together are loaded with one query pair, delivered through their
channels concurrently, and their deliveries recorded in ONE transaction (attempts, states, audit
events, SLA clocks). Each queue message is still acked on its own and only after that commit:
``handle`` returns for a message when the batch that holds it has committed, and raises (nack,
redelivery) when it could not be recorded. Everything off the happy path - a retry hop still
waiting, a message already delivered or parked, an unknown receiver, a failed delivery - goes
through ``DeliveryWorker``'s own code for that message, unchanged.

Exactly-once effect is the same as one by one: the record transaction locks the messages
(``FOR UPDATE``, in one order so two workers cannot deadlock) and records a delivery only for
messages still ROUTED; a competing worker that delivered the same interchange wrote the same
file (channels are idempotent).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import defer

from gateway.channels import (
    Channel,
    Delivery,
    DeliveryResult,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from gateway.logging import get_logger
from gateway.pipeline import metering, observers, retries
from gateway.pipeline.batching import Coalescer
from gateway.pipeline.context import Pipeline
from gateway.pipeline.worker import DeliveryWorker, _Job
from gateway.registry import Endpoint
from gateway.store.states import MessageState
from gateway.store.tables import AttemptRow, InterchangeRow, MessageRow
from gateway.transport.port import IncomingMessage, PublishCommand

log = get_logger(__name__)

_Delivered = tuple[_Job, Endpoint, datetime, DeliveryResult]


class BatchDeliveryWorker(DeliveryWorker):
    """A ``DeliveryWorker`` whose ``handle`` groups concurrent queue messages."""

    def __init__(self, ctx: Pipeline,
                 channel_factory: Callable[[Endpoint], Channel] | None = None, *,
                 max_batch: int | None = None, max_inflight: int = 2) -> None:
        super().__init__(ctx, channel_factory)
        # interchanges a running batch is delivering: a repeat in another batch of this
        # process waits for that batch's commit, then finds it delivered (no second delivery)
        self._busy: dict[str, asyncio.Future[None]] = {}
        self._coalescer: Coalescer[IncomingMessage, None] = Coalescer(
            self._handle_batch, max_batch=max_batch or ctx.settings.prefetch,
            max_inflight=max_inflight)

    async def handle(self, incoming: IncomingMessage) -> None:
        await self._coalescer.submit(incoming)

    async def _one(self, incoming: IncomingMessage) -> None | BaseException:
        try:
            await DeliveryWorker.handle(self, incoming)
        except Exception as exc:  # noqa: BLE001 - this message is nacked, the others not
            return exc
        return None

    async def _handle_batch(self, batch: list[IncomingMessage]) -> list[None | BaseException]:
        now = self.ctx.clock()
        tiers = self.ctx.topology.delay_tiers
        plain = [i for i, m in enumerate(batch)
                 if retries.remaining_hop(m.headers, now, tiers) is None]
        # Claim before the first await: a repeat in another batch of this process waits for
        # this batch's commit, then finds the interchange delivered (no second delivery).
        owned: dict[str, asyncio.Future[None]] = {}
        others_busy: list[asyncio.Future[None]] = []
        for i in plain:
            interchange_id = batch[i].body.decode("ascii")
            if interchange_id in self._busy and interchange_id not in owned:
                others_busy.append(self._busy[interchange_id])
            elif interchange_id not in owned:
                owned[interchange_id] = asyncio.get_running_loop().create_future()
        self._busy.update(owned)
        results: list[None | BaseException] = [None] * len(batch)
        other: list[int] = []
        try:
            jobs = await self._db(self._load_many, list(owned)) if owned else {}
            ready: dict[str, tuple[_Job, Endpoint]] = {}
            for i, message in enumerate(batch):
                interchange_id = message.body.decode("ascii")
                job = jobs.get(interchange_id) if i in plain else None
                endpoint = self._deliverable(job) if job is not None else None
                if job is None or endpoint is None or interchange_id in ready:
                    other.append(i)  # DeliveryWorker decides (skip, park, hop, raise)
                else:
                    ready[interchange_id] = (job, endpoint)
            results = await self._deliver_ready(batch, ready, other, results)
        finally:
            for interchange_id, future in owned.items():
                del self._busy[interchange_id]
                future.set_result(None)
        await asyncio.gather(*(asyncio.shield(f) for f in others_busy))
        singles = await asyncio.gather(*(self._one(batch[i]) for i in other))
        for i, result in zip(other, singles, strict=True):
            results[i] = result
        return results

    async def _deliver_ready(self, batch: list[IncomingMessage],
                             ready: dict[str, tuple[_Job, Endpoint]], other: list[int],
                             results: list[None | BaseException]) -> list[None | BaseException]:
        delivered: list[_Delivered] = []
        failed: list[tuple[str, BaseException | None]] = []
        outcomes = await asyncio.gather(*(self._deliver(job, ep) for job, ep in ready.values()))
        for (interchange_id, (job, endpoint)), (started, result) in zip(
                ready.items(), outcomes, strict=True):
            if isinstance(result, DeliveryResult):
                metering.attempt(endpoint.gln, ok=True)
                delivered.append((job, endpoint, started, result))
            else:
                failed.append((interchange_id, await self._failed(job, endpoint, started,
                                                                  result)))
        if delivered:
            try:
                commands = await self._db(self._record_deliveries, delivered)
            except Exception as exc:  # noqa: BLE001 - not recorded: nack, redelivered later
                log.warning("delivery_batch_not_recorded", size=len(delivered), error=repr(exc))
                commands = []
                failed.extend((job.interchange_id, exc) for job, *_ in delivered)
            for command in commands:
                await self.ctx.transport.publish(command)
        errors = dict(failed)
        for i, message in enumerate(batch):
            if i not in other:
                results[i] = errors.get(message.body.decode("ascii"))
        return results

    def _deliverable(self, job: _Job) -> Endpoint | None:
        """The receiver when every message of ``job`` is ROUTED and it is configured."""
        if not job.messages or any(m.state != MessageState.ROUTED.value for m in job.messages):
            return None
        return self.ctx.registry.endpoint(job.messages[0].receiver_gln or "")

    async def _deliver(self, job: _Job, endpoint: Endpoint
                       ) -> tuple[datetime, DeliveryResult | BaseException]:
        first = job.messages[0]
        delivery = Delivery(
            message_id=first.id, payload=job.raw, sender_gln=first.sender_gln or "",
            receiver_gln=first.receiver_gln or "", control_ref=first.control_ref or "",
            type=first.type, version=first.version, format=first.format,
        )
        started = self.ctx.clock()
        try:
            return started, await self.channel(endpoint).deliver(endpoint, delivery)
        except Exception as exc:  # noqa: BLE001 - sorted out by _failed
            return started, exc

    async def _failed(self, job: _Job, endpoint: Endpoint, started: datetime,
                      exc: BaseException) -> BaseException | None:
        """As ``DeliveryWorker.handle`` after a failed delivery: record, maybe retry later."""
        metering.attempt(endpoint.gln, ok=False)
        try:
            if isinstance(exc, PermanentDeliveryError):
                await self._db(self._record_failure, job, endpoint, started, str(exc), True)
                return None
            if not isinstance(exc, TransientDeliveryError):
                log.error("channel_crashed", interchange_id=job.interchange_id, error=repr(exc))
            command = await self._db(self._record_failure, job, endpoint, started,
                                     f"{type(exc).__name__}: {exc}", False)
            if command is not None:
                await self.ctx.transport.publish(command)
        except Exception as error:  # noqa: BLE001 - not recorded: nack, redelivered later
            return error
        return None

    # -- store units of work (run in a thread) ---------------------------------------------

    def _load_many(self, interchange_ids: list[str]) -> dict[str, _Job]:
        attempts = (sa.select(sa.func.count()).select_from(AttemptRow)
                    .where(AttemptRow.interchange_id == InterchangeRow.id)
                    .correlate(InterchangeRow).scalar_subquery())
        with self.ctx.store.transaction() as session:
            found = session.execute(sa.select(InterchangeRow.id, InterchangeRow.raw, attempts)
                                    .where(InterchangeRow.id.in_(interchange_ids))).all()
            messages: dict[str, list[MessageRow]] = {}
            for row in session.scalars(
                    sa.select(MessageRow).options(defer(MessageRow.summary))
                    .where(MessageRow.interchange_id.in_(interchange_ids))
                    .order_by(MessageRow.created_at, MessageRow.id)):
                messages.setdefault(row.interchange_id, []).append(row)
            return {i: _Job(i, raw, messages.get(i, []), int(n or 0)) for i, raw, n in found}

    def _record_deliveries(self, delivered: list[_Delivered]) -> list[PublishCommand]:
        now = self.ctx.clock()
        commands: list[PublishCommand] = []
        latencies: list[tuple[str, datetime]] = []
        letters: list[str] = []
        with self.ctx.store.transaction() as session:
            locked: dict[str, list[MessageRow]] = {}
            for row in session.scalars(
                    sa.select(MessageRow).options(defer(MessageRow.summary))
                    .where(MessageRow.interchange_id.in_([j.interchange_id for j, *_ in delivered]))
                    .order_by(MessageRow.interchange_id, MessageRow.id).with_for_update()):
                locked.setdefault(row.interchange_id, []).append(row)
            answer: list[tuple[_Job, list[MessageRow]]] = []
            for job, endpoint, started, result in delivered:
                rows = sorted(locked.get(job.interchange_id, []),
                              key=lambda r: (r.created_at, r.id))
                marked = self._mark_delivered(session, job, rows, endpoint, started, now,
                                              result.external_ref, latencies)
                if marked is None:
                    continue  # a competing worker committed first (both delivered: idempotent)
                letters.extend(marked)
                if endpoint.is_local:
                    answer.append((job, rows))
            observers.letters_delivered(session, letters, at=now)
            for job, rows in answer:
                command = self._answer_as_final_receiver(session, job, rows, now)
                if command is not None:
                    commands.append(command)
        for letter_type, received_at in latencies:  # committed: now it counts
            metering.delivered(letter_type, received_at, now)
        for job, endpoint, _, result in delivered:
            log.info("message_delivered", interchange_id=job.interchange_id,
                     endpoint=endpoint.gln, external_ref=result.external_ref, batched=True)
        return commands


__all__ = ["BatchDeliveryWorker"]
