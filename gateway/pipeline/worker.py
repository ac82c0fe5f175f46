"""The delivery worker: the one consumer of the endpoint queues. Store-first, ack-after-commit.

Queue messages that arrive together (up to the prefetch) are one batch (batching.py; a batch
of one is just a batch):

1. Load the batch's interchanges from the store in one query pair and ``decide_delivery``
   each command (delivery_verdict.py): wait (one more delay-tier hop), skip (already handed
   over: the idempotent consumer), park, or deliver.
2. Deliver concurrently through each receiver's channel (``gateway/channels.py``, converting
   to its ``deliver_as`` format).
3. Record every outcome in ONE transaction, the messages locked in one order: attempts and
   states, receipt clocks, retries planned by the SLA or backoff policy (retries.py), parked
   messages with their operator tasks, the SLA clocks (one hook call), and the receipt medbro
   owes when it is itself the receiver (written by the ingest writer's plan, as any input).
4. Only after that commit does ``handle`` return for each queue message, so the transport
   acks it; then the follow-up commands (retries, receipts) are published.

The store can be down: every store call is retried with backoff while the queue messages stay
unacknowledged, and the broker redelivers them to someone if this worker dies meanwhile. A
worker that dies between delivering and committing delivers again on redelivery; channels are
idempotent for that case (same file name, same external key), and the record step writes a
delivery only for messages still ROUTED (a competing worker that committed first wins).
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
import structlog
import tenacity
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, defer

from gateway.channels import (
    Channel,
    Delivery,
    DeliveryResult,
    PermanentDeliveryError,
    TransientDeliveryError,
    load_channel,
)
from gateway.logging import get_logger
from gateway.pipeline import codec, metering, observers, resend, retries
from gateway.pipeline.batching import Coalescer
from gateway.pipeline.context import Pipeline, delivery_command
from gateway.pipeline.conversion import ConvertingChannel
from gateway.pipeline.delivery_verdict import (
    DeliveryJob,
    DeliveryVerdict,
    Do,
    Stored,
    decide_delivery,
)
from gateway.pipeline.ingest import IngestPlan, publish_all_or_defer
from gateway.registry import Endpoint
from gateway.store import repository as repo
from gateway.store.states import MessageEvent, MessageState, walk
from gateway.store.tables import AttemptRow, AuditEventRow, InterchangeRow, MessageRow
from gateway.transport.port import IncomingMessage, PublishCommand

log = get_logger(__name__)
T = TypeVar("T")


def store_unavailable(exc: BaseException) -> bool:
    """The database is away (connection refused or lost, locked), not our SQL being wrong."""
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def job_of(incoming: IncomingMessage) -> DeliveryJob:
    """The delivery command in a queue message (body: the interchange id)."""
    headers = incoming.headers or {}
    not_before = None
    if headers.get(retries.NOT_BEFORE):
        with contextlib.suppress(ValueError):
            not_before = datetime.fromisoformat(str(headers[retries.NOT_BEFORE]))
    return DeliveryJob(incoming.body.decode("ascii"), not_before=not_before)


@dataclass
class _Loaded:
    """An interchange as the worker needs it: raw bytes, messages, attempts so far."""

    interchange_id: str
    raw: bytes
    messages: list[MessageRow]
    attempts: int

    @property
    def stored(self) -> Stored:
        first = self.messages[0].receiver_gln if self.messages else ""
        return Stored(tuple(m.state for m in self.messages), first or "")


@dataclass
class _Outcome:
    """What happened to one interchange of a batch, recorded by ``_record``."""

    loaded: _Loaded
    endpoint: Endpoint | None = None
    started: datetime | None = None
    result: DeliveryResult | BaseException | None = None
    park: DeliveryVerdict | None = None


class Worker:
    """Handles the endpoint queues of one process; channels are built once per endpoint."""

    def __init__(self, ctx: Pipeline,
                 channel_factory: Callable[[Endpoint], Channel] | None = None, *,
                 max_batch: int | None = None, max_inflight: int = 2) -> None:
        self.ctx = ctx
        self._channels: dict[str, Channel] = {}
        self._factory = channel_factory or (lambda ep: load_channel(ep, ctx.settings))
        # interchanges a running batch holds: a repeat in another batch of this process waits
        # for that batch's commit, then finds it delivered (no second delivery)
        self._busy: dict[str, asyncio.Future[None]] = {}
        self._coalescer: Coalescer[IncomingMessage, None] = Coalescer(
            self._handle_batch, max_batch=max_batch or ctx.settings.prefetch,
            max_inflight=max_inflight)

    def channel(self, endpoint: Endpoint) -> Channel:
        """The endpoint's channel, converting to its ``deliver_as`` format (conversion.py)."""
        if endpoint.gln not in self._channels:
            self._channels[endpoint.gln] = ConvertingChannel(
                self._factory(endpoint), sor_by_gln=lambda: self.ctx.registry.sor_by_gln)
        return self._channels[endpoint.gln]

    def forget(self, *glns: str) -> None:
        """Drop these endpoints' channels (a reload changed or removed them): the next
        delivery builds the channel from the endpoint as it is now."""
        for gln in glns:
            self._channels.pop(gln, None)

    async def handle(self, incoming: IncomingMessage) -> None:
        """Returns once the command's outcome is committed (ack); raises to nack it."""
        await self._coalescer.submit(incoming)

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        """A store call, retried while the database is unreachable (the messages stay unacked)."""
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

    async def _handle_batch(self, batch: list[IncomingMessage]) -> list[None | BaseException]:
        jobs = [job_of(m) for m in batch]
        ids = {j.interchange_id for j in jobs}
        while waits := [self._busy[i] for i in ids if i in self._busy]:
            await asyncio.gather(*(asyncio.shield(w) for w in waits))
        # no await between the last check and the claim: one batch per interchange at a time
        loop = asyncio.get_running_loop()
        owned = {i: loop.create_future() for i in ids}
        self._busy.update(owned)
        try:
            return await self._run(batch, jobs)
        finally:
            for interchange_id, future in owned.items():
                self._busy.pop(interchange_id, None)
                future.set_result(None)

    async def _run(self, batch: list[IncomingMessage],
                   jobs: list[DeliveryJob]) -> list[None | BaseException]:
        ctx = self.ctx
        loaded = await self._db(self._load, sorted({j.interchange_id for j in jobs}))
        now = ctx.clock()
        results: list[None | BaseException] = [None] * len(batch)
        outcomes: dict[str, _Outcome] = {}
        deliveries: list[tuple[int, _Outcome]] = []
        for i, (incoming, job) in enumerate(zip(batch, jobs, strict=True)):
            found = loaded.get(job.interchange_id)
            if job.interchange_id in outcomes:  # the same command twice in one batch
                continue
            verdict = decide_delivery(job, found.stored if found else None, ctx.registry,
                                      now=now)
            with structlog.contextvars.bound_contextvars(interchange_id=job.interchange_id):
                if verdict.do is Do.MISSING:
                    results[i] = LookupError(verdict.reason)
                elif verdict.do is Do.WAIT:
                    results[i] = await self._hop(incoming, verdict.seconds)
                elif verdict.do is Do.SKIP:
                    log.info("delivery_skipped", reason=verdict.reason,
                             redelivered=incoming.redelivered)
                else:
                    assert found is not None
                    outcome = _Outcome(found)
                    if verdict.do is Do.PARK:
                        outcome.park = verdict
                    else:
                        outcome.endpoint = verdict.endpoint
                        deliveries.append((i, outcome))
                    outcomes[job.interchange_id] = outcome
        await asyncio.gather(*(self._deliver(o) for _, o in deliveries))
        if outcomes:
            try:
                commands = await self._db(self._record, list(outcomes.values()))
            except Exception as exc:  # noqa: BLE001 - not recorded: nack, redelivered later
                log.warning("delivery_batch_not_recorded", size=len(outcomes), error=repr(exc))
                for i, job in enumerate(jobs):
                    if job.interchange_id in outcomes:
                        results[i] = exc
                return results
            # committed: a lost publish is published on reconnect
            await publish_all_or_defer(ctx, list(commands))
        return results

    async def _hop(self, incoming: IncomingMessage, seconds: float) -> BaseException | None:
        """An SLA-scheduled retry back before it is due: through one more delay tier."""
        try:
            await self.ctx.transport.publish(PublishCommand(
                routing_key=incoming.routing_key, body=incoming.body,
                message_id=incoming.message_id, headers=dict(incoming.headers),
                delay_seconds=retries.hop_delay(self.ctx.topology.delay_tiers, seconds)))
        except Exception as exc:  # noqa: BLE001 - nack: it comes back and hops again
            return exc
        return None

    async def _deliver(self, outcome: _Outcome) -> None:
        endpoint = outcome.endpoint
        assert endpoint is not None
        first = outcome.loaded.messages[0]
        try:  # a resent FHIR message is a new send (new Bundle.id): resend.py decides
            payload = resend.resend_payload(
                outcome.loaded.raw, format=first.format, message_id=first.id,
                resends=first.resend_count, now=self.ctx.clock(),
                redeliveries=first.redeliveries)
        except Exception as exc:  # noqa: BLE001 - not rewritable: recorded as a failed attempt
            outcome.started, outcome.result = self.ctx.clock(), PermanentDeliveryError(
                f"the resend could not be written: {exc}")
            return
        delivery = Delivery(
            message_id=first.id, payload=payload, sender_gln=first.sender_gln or "",
            receiver_gln=first.receiver_gln or "", control_ref=first.control_ref or "",
            type=first.type, version=first.version, format=first.format,
            resent_as=resend.resent_as(first.id, first.resend_count, first.redeliveries,
                                       now=self.ctx.clock()),
        )
        outcome.started = self.ctx.clock()
        try:
            outcome.result = await self.channel(endpoint).deliver(endpoint, delivery)
        except Exception as exc:  # noqa: BLE001 - recorded as a failed attempt
            if not isinstance(exc, TransientDeliveryError | PermanentDeliveryError):
                log.error("channel_crashed", interchange_id=outcome.loaded.interchange_id,
                          error=repr(exc))
            outcome.result = exc
        metering.attempt(endpoint.gln, ok=isinstance(outcome.result, DeliveryResult))

    # -- store units of work (run in a thread) ---------------------------------------------

    def _load(self, interchange_ids: list[str]) -> dict[str, _Loaded]:
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
            return {i: _Loaded(i, raw, messages.get(i, []), int(n or 0)) for i, raw, n in found}

    def _record(self, outcomes: list[_Outcome]) -> list[PublishCommand]:
        """Record a batch's outcomes in one transaction; the commands to publish after it.

        The common case, a letter delivered to a partner, is written in bulk (one INSERT of the
        attempts, one guarded UPDATE of the messages, one INSERT of their audit events); a
        delivery to medbro itself, a failure and a park go through the ORM, one by one."""
        now = self.ctx.clock()
        commands: list[PublishCommand] = []
        bulk = _Delivered(now, timedelta(seconds=self.ctx.settings.receipt_timeout_seconds))
        with self.ctx.store.transaction() as session:
            locked: dict[str, list[MessageRow]] = {}
            for row in session.scalars(
                    sa.select(MessageRow).options(defer(MessageRow.summary))
                    .where(MessageRow.interchange_id.in_(
                        [o.loaded.interchange_id for o in outcomes]))
                    .order_by(MessageRow.interchange_id, MessageRow.id).with_for_update()):
                locked.setdefault(row.interchange_id, []).append(row)
            plan = IngestPlan(self.ctx, now)
            for outcome in outcomes:
                rows = sorted(locked.get(outcome.loaded.interchange_id, []),
                              key=lambda r: (r.created_at, r.id))
                with structlog.contextvars.bound_contextvars(
                        interchange_id=outcome.loaded.interchange_id):
                    if outcome.park is not None:
                        _park(session, rows, outcome.park.kind, outcome.park.reason, now)
                    elif isinstance(outcome.result, DeliveryResult):
                        self._delivered(session, outcome, rows, bulk, plan)
                    else:
                        command = self._failed(session, outcome, rows, now)
                        if command is not None:
                            commands.append(command)
            bulk.flush(session)
            observers.letters_delivered(session, bulk.letters, at=now)
            plan.flush(session)
        commands.extend(plan.commands)
        for letter_type, received_at in bulk.latencies:  # committed: now it counts
            metering.delivered(letter_type, received_at, now)
        return commands

    def _delivered(self, session: Session, outcome: _Outcome, rows: list[MessageRow],
                   bulk: _Delivered, plan: IngestPlan) -> None:
        """The attempt, and for each routed message its DELIVER transition and receipt clock
        (in ``bulk``); medbro as the receiver also answers with its receipt."""
        endpoint, result = outcome.endpoint, outcome.result
        assert endpoint is not None and isinstance(result, DeliveryResult)
        routed = [r for r in rows if r.state == MessageState.ROUTED.value]
        if not routed:
            return  # a competing worker committed first (both delivered: idempotent)
        bulk.add(outcome, endpoint, result, routed)
        if endpoint.is_local:
            bulk.flush(session)  # the receipt's rows follow the delivery's
            session.expire_all()
            fresh = repo.messages_of(session, outcome.loaded.interchange_id, for_update=True)
            self._answer_as_final_receiver(session, outcome.loaded, fresh, bulk.now, plan)
        log.info("message_delivered", endpoint=endpoint.gln, external_ref=result.external_ref)

    def _answer_as_final_receiver(self, session: Session, loaded: _Loaded,
                                  rows: list[MessageRow], now: datetime,
                                  plan: IngestPlan) -> None:
        """medbro is the receiver: it owes the sender a CTL03 (if asked) like any GP system."""
        receipt = codec.final_receipt(loaded.raw, now=now)
        acknowledged = []
        for row in rows:
            if row.family == "CONTRL":
                continue
            row.receipt_due_at = None
            if receipt is not None:
                repo.transition(session, row, MessageEvent.ACKNOWLEDGE, at=now,
                                receipt="CTL03", by="medbro")
                acknowledged.append(row.id)
        observers.letters_acknowledged(session, acknowledged, at=now)
        if receipt is not None:
            session.flush()
            plan.emit(receipt, originals=[r.id for r in rows])

    def _failed(self, session: Session, outcome: _Outcome, rows: list[MessageRow],
                now: datetime) -> PublishCommand | None:
        """A failed attempt: retry on the SLA's or the backoff's schedule, or park."""
        endpoint, exc = outcome.endpoint, outcome.result
        assert endpoint is not None and isinstance(exc, BaseException)
        settings = self.ctx.settings
        permanent = isinstance(exc, PermanentDeliveryError)
        error = str(exc) if permanent else f"{type(exc).__name__}: {exc}"
        attempt_no = outcome.loaded.attempts + 1
        session.add(AttemptRow(
            interchange_id=outcome.loaded.interchange_id, endpoint_gln=endpoint.gln,
            channel=endpoint.channel.kind, attempt_no=attempt_no,
            started_at=outcome.started or now, finished_at=now,
            outcome="permanent_error" if permanent else "transient_error", error=error[:4000]))
        routed = [r for r in rows if r.state == MessageState.ROUTED.value]
        if not routed:
            return None
        plan = retries.RetryPlan(give_up="refused by the channel") if permanent else (
            retries.plan_retry(session, routed, attempt_no=attempt_no, now=now,
                               max_attempts=settings.max_delivery_attempts,
                               generic_delay=retries.generic_delay(settings)))
        if plan.give_up:
            _park(session, routed, "undeliverable", f"{plan.give_up}: {error}", now)
            log.error("delivery_given_up", endpoint=endpoint.gln, attempts=attempt_no,
                      error=error, alert=True)
            return None
        for row in routed:
            repo.transition(session, row, MessageEvent.RETRY, at=now, attempt_no=attempt_no,
                            error=error, retry_in_seconds=plan.delay, sla=plan.sla)
        log.warning("delivery_failed", endpoint=endpoint.gln, attempt_no=attempt_no,
                    retry_in=plan.delay, error=error, sla=plan.sla)
        if not plan.sla:
            return delivery_command(routed[0], delay_seconds=plan.delay)
        # The SLA's due time is exact: the longest tier that does not overshoot, then hops.
        command = delivery_command(
            routed[0], delay_seconds=retries.hop_delay(self.ctx.topology.delay_tiers,
                                                       plan.delay))
        due = (now + timedelta(seconds=plan.delay)).isoformat()
        return dataclasses.replace(command, headers={**command.headers, retries.NOT_BEFORE: due})


@dataclass
class _Delivered:
    """The rows of a batch's delivered letters, written with one statement per table."""

    now: datetime
    receipt_timeout: timedelta
    attempts: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    updates: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    audits: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    counted: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    letters: list[str] = dataclasses.field(default_factory=list)  # for the SLA clocks
    latencies: list[tuple[str, datetime]] = dataclasses.field(default_factory=list)

    def add(self, outcome: _Outcome, endpoint: Endpoint, result: DeliveryResult,
            routed: list[MessageRow]) -> None:
        now = self.now
        self.attempts.append(dict(
            interchange_id=outcome.loaded.interchange_id, endpoint_gln=endpoint.gln,
            channel=endpoint.channel.kind, attempt_no=outcome.loaded.attempts + 1,
            started_at=outcome.started or now, finished_at=now, outcome="delivered", error="",
            external_ref=result.external_ref[:500]))
        for row in routed:
            ((event, old, new),) = walk(MessageState(row.state), MessageEvent.DELIVER)
            self.updates.append(dict(
                b_id=row.id, b_old=old.value, state=new.value, updated_at=now,
                delivered_at=now, receipt_due_at=now + self.receipt_timeout
                if row.ack_requested else None,
                converted_ref=result.converted_ref or row.converted_ref))
            self.audits.append(dict(
                message_id=row.id, interchange_id=row.interchange_id, at=now,
                event=f"message_{event.value}", detail={
                    "state_from": old.value, "state_to": new.value, "endpoint": endpoint.gln,
                    "external_ref": result.external_ref,
                    **({"converted_ref": result.converted_ref} if result.converted_ref else {})}))
            self.counted.append((row.type, new.value))
            if row.delivered_at is None:  # a resend is not a new delivery latency
                self.latencies.append((row.type, row.created_at))
            if row.family != "CONTRL":
                self.letters.append(row.id)

    def flush(self, session: Session) -> None:
        if not self.attempts:
            return
        session.execute(sa.insert(AttemptRow), self.attempts)
        table = MessageRow.__table__
        moved = session.connection().execute(
            table.update()
            .where(table.c.id == sa.bindparam("b_id"), table.c.state == sa.bindparam("b_old"))
            .values(state=sa.bindparam("state"), updated_at=sa.bindparam("updated_at"),
                    delivered_at=sa.bindparam("delivered_at"),
                    receipt_due_at=sa.bindparam("receipt_due_at"),
                    converted_ref=sa.bindparam("converted_ref")),
            self.updates)
        if moved.rowcount != len(self.updates):  # the rows are locked: this is a bug
            raise RuntimeError("delivered messages changed state under their lock")
        session.execute(sa.insert(AuditEventRow), self.audits)
        metering.count_on_commit(session, self.counted)
        self.attempts, self.updates, self.audits, self.counted = [], [], [], []


def _park(session: Session, rows: list[MessageRow], kind: str, reason: str,
          now: datetime) -> None:
    for row in rows:
        if row.state == MessageState.ROUTED.value:
            repo.transition(session, row, MessageEvent.EXHAUST, at=now, error=reason)
            repo.open_task(session, message_id=row.id, kind=kind, reason=reason[:2000], at=now)
    log.error("delivery_given_up", reason=reason, alert=True)


async def run_scanner(ctx: Pipeline, stop: asyncio.Event) -> None:
    """Every ``scan_interval_seconds``: receipt timeouts, resends, stuck messages; and every
    ``sla_sweep_interval_seconds`` the SLA sweep and the backlog gauges (ticks.py)."""
    from gateway.pipeline import ticks

    last_sweep: float | None = None
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        try:
            await resend.scan_once(ctx)
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


__all__ = ["Worker", "job_of", "run_scanner", "store_unavailable"]
