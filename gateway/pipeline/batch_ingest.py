"""Ingest in batches: interchanges that arrive together are stored in ONE transaction.

The happy path (a readable interchange of letters from an authorised sender, not seen before,
routable to a receiver that accepts them) is the traffic that matters for throughput; for it
the received row is written already final (parsed, ``processed``, messages ROUTED), so one
commit replaces ingest.py's two and the row re-read between them. Everything else (rejections,
refusals, receipts, duplicates, an empty envelope) takes ingest.py's path, one by one, after the
batch committed, so a duplicate of a letter in the same batch finds it stored.

The guarantees stay those of ingest.py: a caller is answered only after its interchange is
committed; if the batch transaction fails for any reason (a unique-key race with another
process, the database away, a bug) nothing of it was stored and each of its interchanges goes
through ingest.py, which stores the raw bytes first. Delivery commands are published after the
commit (a failed publish leaves the message ROUTED for the scanner, as before).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from gateway.logging import get_logger
from gateway.pipeline import codec, copies, metering, observers
from gateway.pipeline.batching import Coalescer
from gateway.pipeline.codec import ParsedInterchange
from gateway.pipeline.context import Pipeline, delivery_command_for
from gateway.pipeline.ingest import IngestResult, ingest, publish_or_defer
from gateway.pipeline.ingest import _read as read_interchange
from gateway.routing import Match, RouteRequest
from gateway.store import repository as repo
from gateway.store.states import MessageEvent, MessageState, next_state
from gateway.store.tables import AuditEventRow, InterchangeRow, MessageRow
from gateway.transport.port import PublishCommand

log = get_logger(__name__)


@dataclass(frozen=True)
class IngestRequest:
    data: bytes
    received_via: str
    source: str = ""
    authenticated_glns: frozenset[str] | None = None


class BatchIngest:
    """``await batch_ingest(data, received_via=..., ...)``: ``ingest.ingest`` with group commit."""

    def __init__(self, ctx: Pipeline, *, max_batch: int = 64, max_inflight: int = 2) -> None:
        self.ctx = ctx
        self._coalescer: Coalescer[IngestRequest, IngestResult] = Coalescer(
            self._handle, max_batch=max_batch, max_inflight=max_inflight)

    async def __call__(self, data: bytes, *, received_via: str, source: str = "",
                       authenticated_glns: frozenset[str] | None = None) -> IngestResult:
        return await self._coalescer.submit(
            IngestRequest(data, received_via, source, authenticated_glns))

    async def _handle(self, batch: list[IngestRequest]) -> list[IngestResult | BaseException]:
        return await ingest_batch(self.ctx, batch)


async def ingest_batch(ctx: Pipeline,
                       batch: list[IngestRequest]) -> list[IngestResult | BaseException]:
    """Results in the order of ``batch``; an exception in place of a result that failed."""
    # parsed off the event loop, so publisher confirms and acks keep flowing meanwhile
    parsed = await ctx.db(lambda: [read_interchange(item.data)[0] for item in batch])
    fast: list[int] = []
    keys: set[tuple[str, str, str]] = set()
    for i, (item, interchange) in enumerate(zip(batch, parsed, strict=True)):
        if interchange is None or not _plain(ctx, item, interchange):
            continue
        env = interchange.envelope
        mine = {(env.sender, env.control_ref, m.ref) for m in interchange.messages}
        if mine & keys or len(mine) != len(interchange.messages):
            continue  # repeated in this batch: ingest.py will find the first one stored
        keys |= mine
        fast.append(i)
    results: list[IngestResult | BaseException | None] = [None] * len(batch)
    if fast:
        try:
            stored = await ctx.db(_store_batch, ctx, [(batch[i], parsed[i]) for i in fast],
                                  ctx.clock())
        except Exception as exc:  # noqa: BLE001 - nothing committed: the one-by-one path
            log.warning("ingest_batch_failed", size=len(fast), error=repr(exc))
            stored = [None] * len(fast)
        commands: list[PublishCommand] = []
        for i, outcome in zip(fast, stored, strict=True):
            if outcome is not None:
                results[i], command = outcome
                commands.append(command)
        await asyncio.gather(*(publish_or_defer(ctx, c) for c in commands))
    rest = [i for i, r in enumerate(results) if r is None]
    slow = await asyncio.gather(
        *(ingest(ctx, batch[i].data, received_via=batch[i].received_via, source=batch[i].source,
                 authenticated_glns=batch[i].authenticated_glns) for i in rest),
        return_exceptions=True)
    for i, result in zip(rest, slow, strict=True):
        results[i] = result
    return [r if r is not None else RuntimeError("not ingested") for r in results]


def _plain(ctx: Pipeline, item: IngestRequest, interchange: ParsedInterchange) -> bool:
    """The happy path: letters only, an authorised sender, every letter routable."""
    env = interchange.envelope
    if not interchange.messages:
        return False
    if item.authenticated_glns is not None and env.sender not in item.authenticated_glns:
        return False
    for head in interchange.messages:
        if head.is_receipt:
            return False
        request = RouteRequest(receiver_gln=env.recipient, family=head.family.upper(),
                               type=head.type.upper(), version=head.version.upper(),
                               format="edifact")
        if ctx.registry.match(request) is not Match.FULL:
            return False
    # Municipal copies (copies.py) are made by ingest.py.
    return not copies.has_municipal_copy(ctx, interchange.messages, env.recipient)


def _store_batch(
    ctx: Pipeline, items: list[tuple[IngestRequest, ParsedInterchange | None]], now: datetime,
) -> list[tuple[IngestResult, PublishCommand] | None]:
    """One transaction; None for an interchange whose key is already stored (a duplicate).

    The rows are written with bulk INSERTs (one statement per table for the whole batch), not
    ORM objects: they are final when written, nothing reads them back in this transaction, and
    the unit of work's per-object bookkeeping was most of the ingest process's time. The same
    rows and audit events as ingest.py + receipts.route_rows; the message counters are fed
    from them (metering.count_on_commit), still counted only once the COMMIT succeeded.
    """
    validated = next_state(MessageState.RECEIVED, MessageEvent.VALIDATE)
    routed = next_state(validated, MessageEvent.ROUTE)
    with ctx.store.transaction() as session:
        seen = _stored_keys(session, [p for _, p in items if p is not None])
        out: list[tuple[IngestResult, PublishCommand] | None] = []
        letters: list[tuple[str, object]] = []
        interchanges: list[dict[str, object]] = []
        messages: list[dict[str, object]] = []
        audits: list[dict[str, object]] = []
        counted: list[tuple[str, str]] = []
        routable: dict[tuple[str, str, str, str], bool] = {}
        for item, interchange in items:
            assert interchange is not None
            env = interchange.envelope
            if any((env.sender, env.control_ref, m.ref) in seen for m in interchange.messages):
                out.append(None)
                continue
            inter_id = repo.new_id()
            interchanges.append(repo.interchange_values(
                inter_id, raw=item.data, received_via=item.received_via, source=item.source,
                at=now, status="processed", sender_gln=env.sender, receiver_gln=env.recipient,
                control_ref=env.control_ref, ack_requested=env.ack_requested))
            ids: list[str] = []
            command: PublishCommand | None = None
            for head in interchange.messages:
                family, type_ = head.family.upper(), head.type.upper()
                version = head.version.upper()
                route = (env.recipient, family, type_, version)
                if route not in routable:  # a batch's letters mostly share one route
                    routable[route] = ctx.registry.match(RouteRequest(
                        receiver_gln=env.recipient, family=family, type=type_, version=version,
                        format="edifact")) is Match.FULL
                if not routable[route]:
                    raise _Fallback(inter_id)  # the registry changed: let ingest.py refuse it
                message_id = repo.new_id()
                messages.append(dict(
                    id=message_id, interchange_id=inter_id, format="edifact", family=family,
                    type=type_, version=version, sender_gln=env.sender,
                    receiver_gln=env.recipient, control_ref=env.control_ref,
                    message_ref=head.ref, letter_id=head.letter_id[:70],
                    summary=codec.summary(head), state=routed.value,
                    ack_requested=env.ack_requested, resend_count=0, created_at=now,
                    updated_at=now))
                audits.append(_audit(message_id, inter_id, now, "message_received", {}))
                for event, old, new in ((MessageEvent.VALIDATE, MessageState.RECEIVED, validated),
                                        (MessageEvent.ROUTE, validated, routed)):
                    audits.append(_audit(message_id, inter_id, now, f"message_{event.value}",
                                         {"state_from": old.value, "state_to": new.value}))
                counted += [(type_, MessageState.RECEIVED.value), (type_, validated.value),
                            (type_, routed.value)]
                ids.append(message_id)
                letters.append((message_id, head.letter))
                if command is None:
                    command = delivery_command_for(
                        inter_id, receiver_gln=env.recipient, family=family, type=type_,
                        version=version)
            assert command is not None
            out.append((IngestResult(ids, routed.value, interchange_id=inter_id), command))
        if interchanges:
            session.execute(sa.insert(InterchangeRow), interchanges)
            session.execute(sa.insert(MessageRow), messages)
            session.execute(sa.insert(AuditEventRow), audits)
            metering.count_on_commit(session, counted)
        observers.letters_received(session, letters, at=now)
    for result in out:
        if result is not None:
            log.info("interchange_ingested", interchange_id=result[0].interchange_id,
                     state=result[0].state, duplicate=False,
                     messages=len(result[0].message_ids), batched=True)
    return out


def _audit(message_id: str, interchange_id: str, at: datetime, event: str,
           detail: dict[str, str]) -> dict[str, object]:
    return dict(message_id=message_id, interchange_id=interchange_id, at=at, event=event,
                detail=detail)


class _Fallback(Exception):
    """Abandon the batch transaction; every interchange in it goes through ingest.py."""


def _stored_keys(session: sa.orm.Session,
                 parsed: list[ParsedInterchange]) -> set[tuple[str, str, str]]:
    """Duplicate keys (sender, UNB ref, UNH ref) of ``parsed`` that are already stored."""
    wanted = {(p.envelope.sender, p.envelope.control_ref, m.ref)
              for p in parsed for m in p.messages}
    if not wanted:
        return set()
    found = session.execute(sa.select(
        MessageRow.sender_gln, MessageRow.control_ref, MessageRow.message_ref,
    ).where(MessageRow.sender_gln.in_({s for s, _, _ in wanted}),
            MessageRow.control_ref.in_({c for _, c, _ in wanted}))).all()
    return {(s, c, m) for s, c, m in found} & wanted
