"""Ingest: bytes in, stored first, then parsed, de-duplicated, correlated and routed.

Order is the guarantee:

1. The raw bytes are committed (interchange ``received``) before anything can fail, so nothing
   handed to medbro is ever lost, whatever the codec or the registry say.
2. Parse + validate. A refused interchange is stored as a REJECTED message, visible, and
   answered (CTL02 when medbro is the final receiver, else CTL01 SYN as a network hop).
3. Duplicate key (sender GLN, UNB ref, UNH ref): a duplicate is logged as an audit event on the
   original, never delivered again, and gets the same receipt as the first time (§3.2).
4. Receipts (CONTRL) are correlated with the originals they speak of.
5. Routing via the registry: all messages ROUTED and one delivery command published to the
   receiver's queue, or all PARKED with an operator task and a CTL01 (LOK / VER) to the sender.

Steps 2-5 are one transaction; publishing happens after its commit. If publishing fails the
message stays ROUTED in the store and the scanner publishes it again (``resend.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
import tenacity
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.errors import RemoteMessageError
from gateway.logging import get_logger
from gateway.model import RefusalCode
from gateway.pipeline import codec, copies, observers, receipts
from gateway.pipeline.codec import ParsedInterchange
from gateway.pipeline.context import Pipeline
from gateway.routing import Match, RouteRequest
from gateway.store import repository as repo
from gateway.store.states import MessageEvent, MessageState
from gateway.store.tables import InterchangeRow, MessageRow
from gateway.transport.port import PublishCommand, TransportError

log = get_logger(__name__)


@dataclass(frozen=True)
class IngestResult:
    """What the caller (mailbox, HTTP API) learns; the bytes are stored whatever it says."""

    message_ids: list[str]
    state: str
    duplicate: bool = False
    receipt: bytes | None = None  # the receipt owed right now (refusal, rejection, duplicate)
    error: str | None = None
    interchange_id: str = ""


@dataclass
class _Outcome:
    result: IngestResult
    publish: list[PublishCommand] = field(default_factory=list)


async def ingest(
    ctx: Pipeline,
    data: bytes,
    *,
    received_via: str,
    source: str = "",
    authenticated_glns: frozenset[str] | None = None,
) -> IngestResult:
    now = ctx.clock()
    interchange_id = await ctx.db(_store_received, ctx, data, received_via, source, now)
    parsed, error = _read(data)
    try:
        outcome = await ctx.db(_process, ctx, interchange_id, data, parsed, error,
                               authenticated_glns, now)
    except IntegrityError:
        # Another ingest stored the same key between our check and our commit: now it is a
        # plain duplicate.
        outcome = await ctx.db(_process, ctx, interchange_id, data, parsed, error,
                               authenticated_glns, now)
    for command in outcome.publish:
        await publish_or_defer(ctx, command)
    result = outcome.result
    log.info("interchange_ingested", interchange_id=interchange_id, state=result.state,
             duplicate=result.duplicate, messages=len(result.message_ids),
             received_via=received_via)
    return result


async def publish_or_defer(ctx: Pipeline, command: PublishCommand) -> bool:
    """Publish, riding out a short broker outage (the robust connection reconnects within
    seconds); after that leave it to the scanner, which republishes ROUTED messages."""
    try:
        async for attempt in tenacity.AsyncRetrying(
            retry=tenacity.retry_if_exception_type(TransportError),
            stop=tenacity.stop_after_delay(ctx.settings.publish_patience_seconds),
            wait=tenacity.wait_exponential(multiplier=0.1, max=1.0),
            reraise=True,
        ):
            with attempt:
                await ctx.transport.publish(command)
        return True
    except Exception as exc:  # noqa: BLE001 - stored and ROUTED: the scanner republishes
        log.warning("message_publish_deferred", interchange_id=command.message_id,
                    error=str(exc))
        return False


def _read(data: bytes) -> tuple[ParsedInterchange | None, Exception | None]:
    """Parse; the sender's errors and our own codec's crashes both end in a stored rejection."""
    try:
        return codec.read(data), None
    except RemoteMessageError as exc:
        return None, exc
    except Exception as exc:  # noqa: BLE001 - a codec bug must not lose the message
        log.exception("codec_failed")
        return None, exc


def _store_received(ctx: Pipeline, data: bytes, received_via: str, source: str,
                    now: datetime) -> str:
    with ctx.store.transaction() as session:
        return repo.add_interchange(session, raw=data, received_via=received_via,
                                    source=source, at=now).id


def _process(
    ctx: Pipeline,
    interchange_id: str,
    data: bytes,
    parsed: ParsedInterchange | None,
    error: Exception | None,
    authenticated_glns: frozenset[str] | None,
    now: datetime,
) -> _Outcome:
    with ctx.store.transaction() as session:
        # Claim the interchange: exactly one of ingest and the recovery scan processes it (the
        # row lock on PostgreSQL; SQLite has one writer at a time and refuses a stale one).
        inter = session.get(InterchangeRow, interchange_id, with_for_update=True)
        assert inter is not None
        if inter.status != "received":
            return _already_processed(session, inter)
        if parsed is None:
            assert error is not None
            return _reject(ctx, session, inter, data, error, now)
        env = parsed.envelope
        inter.sender_gln, inter.receiver_gln, inter.control_ref = (
            env.sender, env.recipient, env.control_ref)
        inter.ack_requested = env.ack_requested
        if authenticated_glns is not None and env.sender not in authenticated_glns:
            return _reject_unauthorised(session, inter, env.sender, now)
        existing = repo.find_by_keys(session, env.sender, env.control_ref,
                                     [m.ref for m in parsed.messages])
        if existing:
            return _duplicate(session, inter, parsed, existing, now)
        return _accept(ctx, session, inter, data, parsed, now)


def _already_processed(session: Session, inter: InterchangeRow) -> _Outcome:
    rows = repo.messages_of(session, inter.id)
    state = rows[0].state if rows else inter.status
    return _Outcome(IngestResult([r.id for r in rows], state, duplicate=inter.status == "duplicate",
                                 interchange_id=inter.id))


async def recover_received(ctx: Pipeline) -> int:
    """Finish interchanges stored but never processed (the process died in between)."""
    now = ctx.clock()
    cutoff = now - timedelta(seconds=ctx.settings.republish_after_seconds)

    def stuck() -> list[tuple[str, bytes]]:
        with ctx.store.transaction() as session:
            rows = session.execute(
                sa.select(InterchangeRow.id, InterchangeRow.raw).where(
                    InterchangeRow.status == "received", InterchangeRow.created_at < cutoff,
                ).limit(100)
            ).all()
            return [(r.id, r.raw) for r in rows]

    recovered = 0
    for interchange_id, data in await ctx.db(stuck):
        parsed, error = _read(data)
        outcome = await ctx.db(_process, ctx, interchange_id, data, parsed, error, None, now)
        for command in outcome.publish:
            await publish_or_defer(ctx, command)
        log.warning("interchange_recovered", interchange_id=interchange_id,
                    state=outcome.result.state)
        recovered += 1
    return recovered


def _accept(ctx: Pipeline, session: Session, inter: InterchangeRow, data: bytes,
            parsed: ParsedInterchange, now: datetime) -> _Outcome:
    env = parsed.envelope
    inter.status = "processed"
    rows: list[MessageRow] = []
    for head in parsed.messages:
        row = repo.add_message(
            session, inter, at=now, family=head.family.upper(), type=head.type.upper(),
            version=head.version.upper(), sender_gln=env.sender, receiver_gln=env.recipient,
            control_ref=env.control_ref, message_ref=head.ref, letter_id=head.letter_id[:70],
            summary=codec.summary(head), ack_requested=env.ack_requested and not head.is_receipt,
        )
        repo.transition(session, row, MessageEvent.VALIDATE, at=now)
        rows.append(row)
    for row, head in zip(rows, parsed.messages, strict=True):
        if head.is_receipt:
            receipts.correlate(session, row, head, raw=data, at=now)
    publish: list[PublishCommand] = []
    # Letters are routed before anything queries, so their rows are inserted once, final.
    command = receipts.route_rows(ctx, session, rows, at=now)
    for row, head in zip(rows, parsed.messages, strict=True):
        if not head.is_receipt:
            observers.letter_received(session, message_id=row.id, letter=head.letter, at=now)
    receipt: bytes | None = None
    if command is not None:
        publish.append(command)
        publish += copies.route_copies(ctx, session, inter, data, rows, parsed.messages, at=now)
    elif not any(h.is_receipt for h in parsed.messages):
        outcome = _first_refusal(ctx, rows)
        receipt = codec.refusal(
            data, code=outcome.refusal or RefusalCode.NC,
            text=receipts.refusal_text(outcome, rows[0]),
            sender_id=ctx.settings.medbro_gln, now=now)
        if receipt is not None:
            sent = receipts.emit(ctx, session, receipt, originals=rows, at=now)
            if sent is not None:
                publish.append(sent)
    state = rows[0].state if rows else MessageState.VALIDATED.value
    return _Outcome(IngestResult([r.id for r in rows], state, receipt=receipt,
                                 interchange_id=inter.id), publish)


def _first_refusal(ctx: Pipeline, rows: list[MessageRow]) -> Match:
    for row in rows:
        outcome = ctx.registry.match(RouteRequest(row.receiver_gln or "", row.family, row.type,
                                                  row.version, row.format))
        if outcome is not Match.FULL:
            return outcome
    return Match.FULL


def _duplicate(session: Session, inter: InterchangeRow, parsed: ParsedInterchange,
               existing: list[MessageRow], now: datetime) -> _Outcome:
    inter.status = "duplicate"
    by_ref = {m.message_ref: m for m in existing}
    missing = [h.ref for h in parsed.messages if h.ref not in by_ref]
    for original in existing:
        repo.audit(session, "duplicate_received", at=now, message_id=original.id,
                   interchange_id=inter.id, state=original.state)
    if missing:
        # Some letters are new, some were seen: the interchange cannot be delivered as sent.
        inter.status = "rejected"
        reason = (f"interchange {inter.control_ref} repeats letters already received "
                  f"({', '.join(sorted(by_ref))}) together with new ones ({', '.join(missing)})")
        inter.error = {"code": "PARTIAL_DUPLICATE", "text": reason}
        repo.open_task(session, message_id=existing[0].id, kind="partial_duplicate",
                       reason=reason, at=now)
        return _Outcome(IngestResult([m.id for m in existing], MessageState.REJECTED.value,
                                     duplicate=True, error=reason, interchange_id=inter.id))
    first = repo.first_receipt(session, existing[0].id)
    replay = None
    if first is not None and first.direction == "out":
        replay = first.raw
    elif first is not None and first.interchange_id:
        carrier = session.get(InterchangeRow, first.interchange_id)
        replay = carrier.raw if carrier is not None else None
    log.info("duplicate_received", interchange_id=inter.id, original=existing[0].id,
             receipt_replayed=replay is not None)
    ordered = [by_ref[h.ref] for h in parsed.messages]
    return _Outcome(IngestResult([m.id for m in ordered], ordered[0].state, duplicate=True,
                                 receipt=replay, interchange_id=inter.id))


def _reject(ctx: Pipeline, session: Session, inter: InterchangeRow, data: bytes,
            error: Exception, now: datetime) -> _Outcome:
    try:
        hint = codec.envelope_hint(data)
    except Exception:  # noqa: BLE001 - nothing readable: nobody to answer
        hint = None
    if not isinstance(error, RemoteMessageError):
        return _codec_failed(session, inter, error, hint, now)
    detail = error.to_dict() if hasattr(error, "to_dict") else {"text": str(error)}
    inter.status = "rejected"
    inter.error = detail
    if hint is not None:
        inter.sender_gln, inter.receiver_gln, inter.control_ref = (
            hint.sender, hint.recipient, hint.control_ref)
        inter.ack_requested = hint.ack_requested
    row = repo.add_message(
        session, inter, at=now, sender_gln=hint.sender if hint else None,
        receiver_gln=hint.recipient if hint else None,
        control_ref=hint.control_ref if hint else None, message_ref=None,
        summary={"error": detail}, ack_requested=False,
    )
    repo.transition(session, row, MessageEvent.REJECT, at=now, error=str(error))
    publish: list[PublishCommand] = []
    receipt: bytes | None = None
    if hint is not None:
        receiver = ctx.registry.endpoint(hint.recipient)
        try:
            if receiver is not None and receiver.is_local:
                receipt = codec.final_receipt(data, now=now)
            else:
                code = RefusalCode(str(getattr(error, "receipt_hint", "SYN")))
                receipt = codec.refusal(data, code=code,
                                        text=f"Fejl i EDI-kuvert: {error}"[:350],
                                        sender_id=ctx.settings.medbro_gln, now=now)
        except Exception as exc:  # noqa: BLE001 - too broken to answer: stored, rejected, told
            receipt = None
            repo.audit(session, "receipt_not_written", at=now, message_id=row.id,
                       interchange_id=inter.id, error=str(exc)[:500])
            log.warning("receipt_not_written", interchange_id=inter.id, error=str(exc))
        if receipt is not None:
            session.flush()
            sent = receipts.emit(ctx, session, receipt, originals=[row], at=now)
            if sent is not None:
                publish.append(sent)
    log.warning("interchange_rejected", interchange_id=inter.id, message_id=row.id,
                error=str(error), receipt=receipt is not None)
    return _Outcome(IngestResult([row.id], row.state, receipt=receipt, error=str(error),
                                 interchange_id=inter.id), publish)


def _codec_failed(session: Session, inter: InterchangeRow, error: Exception, hint: Any,
                  now: datetime) -> _Outcome:
    """Our codec crashed: stored and rejected, no receipt (not the sender's fault), a task."""
    text = f"internal codec error {type(error).__name__}: {error}"[:2000]
    inter.status = "rejected"
    inter.error = {"code": "CODEC_FAILED", "text": text}
    row = repo.add_message(
        session, inter, at=now, sender_gln=hint.sender if hint else None,
        receiver_gln=hint.recipient if hint else None, control_ref=None, message_ref=None,
        summary={"error": inter.error}, ack_requested=False)
    repo.transition(session, row, MessageEvent.REJECT, at=now, error=text)
    repo.open_task(session, message_id=row.id, kind="codec_error", reason=text, at=now)
    return _Outcome(IngestResult([row.id], row.state, error=text, interchange_id=inter.id))


def _reject_unauthorised(session: Session, inter: InterchangeRow, sender: str,
                         now: datetime) -> _Outcome:
    reason = f"sender GLN {sender} is not one of the authenticated organisation's GLNs"
    inter.status = "rejected"
    inter.error = {"code": "SENDER_NOT_AUTHORISED", "text": reason}
    row = repo.add_message(session, inter, at=now, sender_gln=sender,
                           receiver_gln=inter.receiver_gln, control_ref=None, message_ref=None,
                           summary={"error": inter.error}, ack_requested=False)
    repo.transition(session, row, MessageEvent.REJECT, at=now, error=reason)
    log.warning("interchange_rejected", interchange_id=inter.id, reason="sender_not_authorised")
    return _Outcome(IngestResult([row.id], row.state, error=reason, interchange_id=inter.id))
