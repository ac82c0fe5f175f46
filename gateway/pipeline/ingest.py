"""Ingest: the one writer of decided inputs. Bytes in; read, decided, stored, then published.

Every source calls ``Ingest.__call__`` (through ``Hub.ingest``). Calls that arrive together
are one batch (batching.py; a batch of one is just a batch):

1. Read each input once, off the event loop (inputs.py: never raises).
2. One transaction: ask the store what it already knows about the batch (duplicate keys, the
   first receipt of each, the originals receipts speak of, locked), then ``decide_ingest``
   each input in arrival order (a repeat inside the batch is a duplicate of the first), and
   write every verdict with bulk INSERTs: the interchange with its raw bytes, its messages in
   their final state with an audit event per transition, tasks, receipts medbro owes (stored
   as generated interchanges and routed to the original sender like any input), municipal
   copies, correlated originals, the SLA clocks (one hook call per batch: the letters, and
   the discharges FHIR HospitalNotifications report) and the counters.
3. After the COMMIT, and only then, each caller gets its answer and the delivery commands
   are published. A failed publish leaves the message ROUTED; the worker's scanner publishes
   it again (resend.py), and the transport republishes as soon as it is reconnected.

Nothing accepted is lost: a caller is answered only once its input is committed. If the
transaction fails, nothing of the batch was stored and every caller gets the exception (HTTP
503, the mailbox file stays for the next poll). A unique-key race with another process (the
same interchange ingested twice at once) rolls the batch back and decides it again: the other
one is now a duplicate.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import structlog
import tenacity
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.fhir.hospitalnotification import DischargeReport
from gateway.logging import get_logger
from gateway.model import Receipt
from gateway.pipeline import copies, inputs, metering, observers
from gateway.pipeline.batching import Coalescer
from gateway.pipeline.context import Pipeline, delivery_command_for
from gateway.pipeline.ingest_verdict import (
    COPY_MARK,
    Accept,
    Duplicate,
    Known,
    Redelivery,
    Refuse,
    Reject,
    StoredMessage,
    Verdict,
    bundle_key,
    decide_ingest,
)
from gateway.pipeline.inputs import IngestInput, PayloadHint
from gateway.routing import RouteRequest
from gateway.store import patient_key
from gateway.store import repository as repo
from gateway.store.states import (
    InterchangeEvent,
    MessageEvent,
    MessageState,
    interchange_status,
    walk,
)
from gateway.store.tables import (
    AuditEventRow,
    FhirBundleRow,
    InterchangeRow,
    MessageRow,
    OperatorTaskRow,
    ReceiptRow,
)
from gateway.transport.port import PublishCommand, TransportError

log = get_logger(__name__)
S, E = MessageState, MessageEvent


@dataclass(frozen=True)
class IngestResult:
    """What the caller (mailbox, HTTP API) learns; the bytes are stored whatever it says.

    ``code`` names why an input was rejected (``SENDER_NOT_AUTHORISED``, the codec's error
    code, ``PARTIAL_DUPLICATE``...); the HTTP routes map it to their status (api/answers.py).
    """

    message_ids: list[str]
    state: str
    duplicate: bool = False
    receipt: bytes | None = None  # the receipt owed right now (refusal, rejection, duplicate)
    error: str | None = None
    interchange_id: str = ""
    code: str | None = None


@dataclass(frozen=True)
class _Request:
    data: bytes
    received_via: str
    source: str
    authenticated_glns: frozenset[str] | None
    hint: PayloadHint | None


class Ingest:
    """``await ingest(data, received_via=..., ...)`` -> ``IngestResult`` once committed."""

    def __init__(self, ctx: Pipeline, *, max_batch: int = 64, max_inflight: int = 2) -> None:
        self.ctx = ctx
        self._coalescer: Coalescer[_Request, IngestResult] = Coalescer(
            self._handle, max_batch=max_batch, max_inflight=max_inflight)

    async def __call__(self, data: bytes, *, received_via: str, source: str = "",
                       authenticated_glns: frozenset[str] | None = None,
                       hint: PayloadHint | None = None) -> IngestResult:
        return await self._coalescer.submit(
            _Request(data, received_via, source, authenticated_glns, hint))

    async def _handle(self, batch: list[_Request]) -> list[IngestResult | BaseException]:
        ctx = self.ctx
        items = await ctx.db(lambda: [inputs.read(
            r.data, received_via=r.received_via, source=r.source,
            authenticated_glns=r.authenticated_glns, hint=r.hint) for r in batch])
        try:
            results, commands = await ctx.db(write_with_retry, ctx, items, ctx.clock())
        except Exception as exc:  # noqa: BLE001 - nothing of the batch stored: every caller told
            log.warning("ingest_batch_not_stored", size=len(batch), error=repr(exc))
            return [exc] * len(batch)
        await publish_all_or_defer(ctx, commands)
        return list(results)


def write_with_retry(ctx: Pipeline, items: list[IngestInput], now: datetime
                     ) -> tuple[list[IngestResult], list[PublishCommand]]:
    """``write``, decided again when another process committed one of its keys meanwhile."""
    for attempt in tenacity.Retrying(retry=tenacity.retry_if_exception_type(IntegrityError),
                                     stop=tenacity.stop_after_attempt(3), reraise=True):
        with attempt:
            return write(ctx, items, now)
    raise AssertionError("unreachable")  # pragma: no cover


def write(ctx: Pipeline, items: list[IngestInput], now: datetime
          ) -> tuple[list[IngestResult], list[PublishCommand]]:
    """Decide and store ``items`` in one transaction; results in their order."""
    with ctx.store.transaction() as session:
        known = gather_known(session, items)
        plan = IngestPlan(ctx, now)
        results = []
        for item in items:
            verdict = decide_ingest(item, known, ctx.registry, now=now,
                                    medbro_gln=ctx.settings.medbro_gln)
            inter_id = repo.new_id()  # bound once: every log line of this input names it
            with structlog.contextvars.bound_contextvars(interchange_id=inter_id,
                                                         source=item.source):
                result = plan.add(item, verdict, inter_id)
            plan.remember_bundle(item, verdict, known, inter_id)
            results.append(result)
            known = plan.known_after(known, item, verdict, result)
        plan.flush(session)
    for result in results:
        with structlog.contextvars.bound_contextvars(interchange_id=result.interchange_id):
            log.info("interchange_ingested", state=result.state, duplicate=result.duplicate,
                     messages=len(result.message_ids), code=result.code)
    return results, plan.commands


def gather_known(session: Session, items: list[IngestInput]) -> Known:
    """What the store holds of ``items``' duplicate keys and of their receipts' originals;
    the originals are locked, so two receipts for one letter correlate one after the other."""
    keys = set().union(*(i.keys for i in items)) if items else set()
    by_key: dict[tuple[str, str, str], StoredMessage] = {}
    fhir_ids: set[str] = set()
    if keys:
        for row in session.execute(sa.select(
                MessageRow.id, MessageRow.state, MessageRow.sender_gln, MessageRow.control_ref,
                MessageRow.message_ref, MessageRow.type, MessageRow.format,
        ).where(MessageRow.sender_gln.in_({k[0] for k in keys}),
                MessageRow.control_ref.in_({k[1] for k in keys}))):
            key = (row.sender_gln, row.control_ref, row.message_ref)
            if key in keys:
                by_key[key] = StoredMessage(row.id, row.state, row.message_ref, row.type)
                if row.format == "fhir":
                    fhir_ids.add(row.id)
    replays: dict[str, bytes] = {}
    first_in: dict[str, str] = {}  # message id -> interchange of its first receipt
    if by_key:
        ids = [m.id for m in by_key.values()]
        for message_id, raw, receipt_inter, kind in session.execute(
                sa.select(ReceiptRow.message_id, ReceiptRow.raw, ReceiptRow.interchange_id,
                          ReceiptRow.kind)
                .where(ReceiptRow.message_id.in_(ids)).order_by(ReceiptRow.id)):
            if (message_id in fhir_ids) != (kind == "FCTL"):
                continue  # a receipt for its twin: its sender got one in its own format
            replays.setdefault(message_id, raw)
            if receipt_inter is not None:
                first_in.setdefault(message_id, receipt_inter)
    wanted = {(r.original_sender, r.original_recipient, r.original_control_ref)
              for i in items for m in i.messages if isinstance(r := m.letter, Receipt)}
    originals: dict[tuple[str, str, str], list[StoredMessage]] = {}
    converted: dict[str, str] = {}  # FHIR original delivered as a DIS91 -> its interchange
    if wanted:
        refs = {w[2] for w in wanted}
        for row in session.execute(sa.select(
                MessageRow.id, MessageRow.state, MessageRow.sender_gln, MessageRow.receiver_gln,
                MessageRow.control_ref, MessageRow.message_ref, MessageRow.type,
                MessageRow.converted_ref, MessageRow.format, MessageRow.interchange_id,
        ).where(sa.or_(MessageRow.control_ref.in_(refs), MessageRow.converted_ref.in_(refs)),
                MessageRow.sender_gln.in_({w[0] for w in wanted}))
                .order_by(MessageRow.created_at, MessageRow.id).with_for_update()):
            key = (row.sender_gln, row.receiver_gln, row.control_ref)
            if key in wanted:
                originals.setdefault(key, []).append(
                    StoredMessage(row.id, row.state, row.message_ref, row.type))
            # the receiver got a twin (conversion.py): its receipt names the twin's references
            twin = (row.sender_gln, row.receiver_gln, row.converted_ref)
            if row.converted_ref and twin in wanted:
                originals.setdefault(twin, []).append(
                    StoredMessage(row.id, row.state, row.converted_ref, row.type))
                if row.format == "fhir":
                    converted[row.id] = row.interchange_id
    answered = answered_by_acknowledgements(session, items, converted)
    raws = dict(session.execute(sa.select(InterchangeRow.id, InterchangeRow.raw).where(
        InterchangeRow.id.in_(set(converted.values())))).all()) if converted else {}
    return Known(by_key, replays, {k: tuple(v) for k, v in originals.items()},
                 answered, carriers(session, first_in),
                 {m: raws[i] for m, i in converted.items() if i in raws},
                 bundles_seen(session, items))


def bundles_seen(session: Session, items: list[IngestInput]) -> dict[tuple[str, str], str]:
    """The (sender, Bundle.id) of ``items`` already received, with their MessageHeader.id."""
    keys = {k for i in items if (k := bundle_key(i)) is not None}
    if not keys:
        return {}
    rows = session.execute(sa.select(
        FhirBundleRow.sender_gln, FhirBundleRow.bundle_id, FhirBundleRow.header_id,
    ).where(FhirBundleRow.sender_gln.in_({k[0] for k in keys}),
            FhirBundleRow.bundle_id.in_({k[1] for k in keys})))
    return {(r.sender_gln, r.bundle_id): r.header_id for r in rows
            if (r.sender_gln, r.bundle_id) in keys}


def carriers(session: Session, first_in: dict[str, str]) -> dict[str, Redelivery]:
    """For each message, the FHIR message that carried its first receipt (an Acknowledgement
    medbro wrote or forwarded), which a duplicate's sender gets delivered again."""
    if not first_in:
        return {}
    found: dict[str, Redelivery] = {}
    by_inter = {}
    for row in session.execute(sa.select(
            MessageRow.id, MessageRow.interchange_id, MessageRow.state, MessageRow.message_ref,
            MessageRow.receiver_gln, MessageRow.family, MessageRow.type, MessageRow.version,
            MessageRow.format,
    ).where(MessageRow.interchange_id.in_(set(first_in.values())),
            MessageRow.format == "fhir")):
        by_inter[row.interchange_id] = Redelivery(
            StoredMessage(row.id, row.state, row.message_ref, row.type), row.interchange_id,
            RouteRequest(row.receiver_gln or "", row.family, row.type, row.version, row.format))
    for message_id, inter_id in first_in.items():
        if inter_id in by_inter:
            found[message_id] = by_inter[inter_id]
    return found


def answered_by_acknowledgements(session: Session, items: list[IngestInput],
                                 converted: dict[str, str] | None = None,
                                 ) -> dict[tuple[str, str], tuple[StoredMessage, ...]]:
    """The messages FHIR Acknowledgements of ``items`` answer, by (their sender, their
    MessageHeader.id), locked like the originals of CONTRL receipts. A letter its receiver got
    as a CareCommunication (conversion.py) is answered under its twin's MessageHeader.id
    (``converted_ref``); it is added to ``converted`` (message id -> its interchange)."""
    wanted = {(i.receiver or "", m.response.identifier) for i in items
              if (m := i.fhir_message) is not None and m.response is not None and i.messages}
    found: dict[tuple[str, str], list[StoredMessage]] = {}
    if not wanted:
        return {}
    for row in session.execute(sa.select(
            MessageRow.id, MessageRow.state, MessageRow.sender_gln, MessageRow.control_ref,
            MessageRow.message_ref, MessageRow.type,
    ).where(MessageRow.format == "fhir", MessageRow.control_ref.in_({w[1] for w in wanted}),
            MessageRow.message_ref == MessageRow.control_ref,
            MessageRow.sender_gln.in_({w[0] for w in wanted}))
            .order_by(MessageRow.created_at, MessageRow.id).with_for_update()):
        key = (row.sender_gln, row.control_ref)
        if key in wanted:
            found.setdefault(key, []).append(
                StoredMessage(row.id, row.state, row.message_ref, row.type))
    for row in session.execute(sa.select(
            MessageRow.id, MessageRow.state, MessageRow.sender_gln, MessageRow.converted_ref,
            MessageRow.message_ref, MessageRow.type, MessageRow.interchange_id,
    ).where(MessageRow.format != "fhir", MessageRow.converted_ref.in_({w[1] for w in wanted}),
            MessageRow.sender_gln.in_({w[0] for w in wanted}))
            .order_by(MessageRow.created_at, MessageRow.id).with_for_update()):
        key = (row.sender_gln, row.converted_ref)
        if key in wanted:
            found.setdefault(key, []).append(
                StoredMessage(row.id, row.state, row.message_ref, row.type))
            if converted is not None:
                converted[row.id] = row.interchange_id
    return {k: tuple(v) for k, v in found.items()}


@dataclass
class IngestPlan:
    """The rows and side effects of a batch's verdicts, written by ``flush`` in bulk."""

    ctx: Pipeline
    now: datetime
    interchanges: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    audits: list[dict[str, Any]] = field(default_factory=list)
    receipts: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    due_now: list[str] = field(default_factory=list)  # FHIR transient-error: resend at once
    letters: list[tuple[str, Any]] = field(default_factory=list)
    discharges: list[DischargeReport] = field(default_factory=list)  # FHIR discharges stored
    acknowledged: list[str] = field(default_factory=list)
    counted: list[tuple[str, str]] = field(default_factory=list)
    commands: list[PublishCommand] = field(default_factory=list)
    states: dict[str, str] = field(default_factory=dict)  # originals moved in this batch
    bundles: dict[tuple[str, str], dict[str, Any]] = field(
        default_factory=dict)  # FHIR Bundle.ids received in this batch, first seen

    # -- verdicts -> rows -------------------------------------------------------------------

    def add(self, item: IngestInput, verdict: Verdict, inter_id: str = "") -> IngestResult:
        """Plan the rows of ``verdict`` for ``item``, stored as interchange ``inter_id``."""
        inter_id = inter_id or repo.new_id()
        if isinstance(verdict, Duplicate):
            return self._duplicate(item, verdict, inter_id)
        if isinstance(verdict, Reject):
            return self._reject(item, verdict, inter_id)
        return self._store(item, verdict, inter_id)

    def _store(self, item: IngestInput, verdict: Accept | Refuse, inter_id: str) -> IngestResult:
        self._interchange(item, InterchangeEvent.ACCEPT, inter_id=inter_id)
        accepted = isinstance(verdict, Accept)
        final = (E.VALIDATE, E.ROUTE) if accepted else (E.VALIDATE, E.REFUSE)
        detail = {} if accepted else {"refusal": str(verdict.match.refusal),
                                      "match": verdict.match.value}
        answered = verdict.in_place if isinstance(verdict, Accept) else None
        if answered is not None:  # a receipt for a twin, taken in its original sender's place
            final = (E.VALIDATE, E.ROUTE, E.DELIVER)
            detail = {"endpoint": "medbro", "answered_as": "CONTRL" if item.format == "fhir"
                      else "FHIR Acknowledgement"}
        ids = []
        twin = verdict.converted_ref if isinstance(verdict, Accept) else None
        for message in item.messages:
            message_id = self._message(
                inter_id, item, message.family, message.type, message.version,
                ref=message.ref, letter_id=message.letter_id, summary=message.summary,
                ack_requested=item.ack_requested and not message.is_receipt,
                events=final, detail=detail, letter=message.letter)
            if twin:
                self.messages[-1]["converted_ref"] = twin
            ids.append(message_id)
            if not message.is_receipt and message.letter is not None:
                self.letters.append((message_id, message.letter))
            if message.discharge is not None:  # like a DIS17's letter: routed or parked
                self.discharges.append(message.discharge)
            if not accepted:
                self._task(message_id, "refused", verdict.reason)
        self._correlate(inter_id, item, verdict.correlations)
        if answered is not None:
            for answer in answered:
                self.emit(answer.acknowledgement, originals=[answer.original])
            return IngestResult(ids, S.DELIVERED.value, interchange_id=inter_id)
        if isinstance(verdict, Accept):
            route = verdict.route
            self.commands.append(delivery_command_for(
                inter_id, receiver_gln=route.receiver_gln, family=route.family,
                type=route.type, version=route.version, format=route.format))
            for copy in verdict.copies:
                self._copy(inter_id, item, copy.index, copy.gln, ids[copy.index])
            return IngestResult(ids, S.ROUTED.value, interchange_id=inter_id)
        if verdict.receipt is not None:
            self.emit(verdict.receipt, originals=ids)
        return IngestResult(ids, S.PARKED.value, receipt=verdict.receipt, error=verdict.reason,
                            interchange_id=inter_id, code=verdict.match.value.upper())

    def remember_bundle(self, item: IngestInput, verdict: Verdict, known: Known,
                        inter_id: str) -> None:
        """Remember the Bundle.id of a FHIR message taken or repeated (MedCom's reliable-
        messaging cache), once: not one the store or this batch already holds."""
        key = bundle_key(item)
        if (key is not None and not isinstance(verdict, Reject) and key not in known.bundles
                and key not in self.bundles):
            self.bundles[key] = dict(sender_gln=key[0], bundle_id=key[1],
                                     header_id=item.control_ref or "",
                                     interchange_id=inter_id, seen_at=self.now)

    def _duplicate(self, item: IngestInput, verdict: Duplicate, inter_id: str) -> IngestResult:
        self._interchange(item, InterchangeEvent.DUPLICATE, inter_id=inter_id)
        for original in verdict.originals:
            self._audit("duplicate_received", original.id, inter_id, state=original.state)
        for again in verdict.redeliver:
            self._redeliver(again, inter_id)
        log.info("duplicate_received", original=verdict.originals[0].id,
                 receipt_replayed=verdict.receipt is not None,
                 receipt_redelivered=bool(verdict.redeliver))
        first = verdict.originals[0]
        return IngestResult([o.id for o in verdict.originals],
                            self.states.get(first.id, first.state), duplicate=True,
                            receipt=verdict.receipt, interchange_id=inter_id)

    def _reject(self, item: IngestInput, verdict: Reject, inter_id: str) -> IngestResult:
        error = {"code": verdict.code, "text": verdict.text, **verdict.place}
        self._interchange(item, InterchangeEvent.REJECT, error=error, inter_id=inter_id)
        message_id = self._message(
            inter_id, item, "", "", "", ref=None, letter_id="", summary={"error": error},
            ack_requested=False, events=(E.REJECT,), detail={"error": verdict.text[:500]})
        for original in verdict.originals:
            self._audit("duplicate_received", original.id, inter_id, state=original.state)
        if verdict.task:
            self._task(verdict.originals[0].id if verdict.originals else message_id,
                       verdict.task, verdict.text)
        if verdict.receipt is not None:
            self.emit(verdict.receipt, originals=[message_id])
        if verdict.receipt_error:
            self._audit("receipt_not_written", message_id, inter_id,
                        error=verdict.receipt_error)
        log.warning("interchange_rejected", message_id=message_id,
                    code=verdict.code, receipt=verdict.receipt is not None)
        return IngestResult([message_id], S.REJECTED.value, receipt=verdict.receipt,
                            error=verdict.text, interchange_id=inter_id, code=verdict.code,
                            duplicate=bool(verdict.originals))

    def emit(self, raw: bytes, *, originals: list[str]) -> None:
        """A receipt medbro wrote: decided and stored like any input (from medbro itself),
        linked to the originals so a duplicate gets exactly this receipt again."""
        item = inputs.read(raw, received_via="medbro", source="generated", origin="generated")
        verdict = decide_ingest(item, Known(), self.ctx.registry, now=self.now,
                                medbro_gln=self.ctx.settings.medbro_gln)
        result = self.add(item, verdict)
        response = item.fhir_message.response if item.fhir_message is not None else None
        for message in item.messages:
            receipt = message.letter if isinstance(message.letter, Receipt) else None
            text = receipt.text if receipt else (response.code if response else "")
            for original in originals:
                self.receipts.append(dict(
                    message_id=original, interchange_id=result.interchange_id,
                    direction="out", kind=message.type,
                    refusal=str(receipt.refusal) if receipt and receipt.refusal else None,
                    text=text, raw=raw, created_at=self.now))

    def _redeliver(self, again: Redelivery, inter_id: str) -> None:
        """Deliver the first Acknowledgement again (REPLAY), at most once per batch."""
        message = again.message
        state = self.states.get(message.id, message.state)
        if state != message.state:
            return  # moved in this batch already (a second duplicate in the same batch)
        ((event, old, new),) = walk(MessageState(state), E.REPLAY)
        self.updates.append(dict(b_id=message.id, b_old=old.value, state=new.value,
                                 updated_at=self.now))
        self.states[message.id] = new.value
        self._audit(f"message_{event.value}", message.id, inter_id, state_from=old.value,
                    state_to=new.value, by="medbro", reason="the sender sent a duplicate")
        self.counted.append((message.type, new.value))
        route = again.route
        self.commands.append(delivery_command_for(
            again.interchange_id, receiver_gln=route.receiver_gln, family=route.family,
            type=route.type, version=route.version, format=route.format))

    def _correlate(self, inter_id: str, item: IngestInput, correlations: Any) -> None:
        for c in correlations:
            self.receipts.append(dict(
                message_id=c.original.id, interchange_id=inter_id, direction="in", kind=c.kind,
                refusal=c.refusal, text=c.text, raw=item.data, created_at=self.now))
            state = self.states.get(c.original.id, c.original.state)
            if c.event is None or state != c.original.state:
                reason = c.ignored or f"message is {state}"
                self._audit("receipt_ignored", c.original.id, None, kind=c.kind, reason=reason)
                if c.due_now and state == c.original.state:
                    self.due_now.append(c.original.id)
                continue
            ((event, old, new),) = walk(MessageState(state), c.event)
            self.updates.append(dict(b_id=c.original.id, b_old=old.value, state=new.value,
                                     updated_at=self.now))
            self.states[c.original.id] = new.value
            self._audit(f"message_{event.value}", c.original.id, None, state_from=old.value,
                        state_to=new.value, receipt=c.kind, refusal=c.refusal)
            self.counted.append((c.original.type, new.value))
            if event is E.ACKNOWLEDGE:
                self.acknowledged.append(c.original.id)
        if correlations:
            log.info("receipt_correlated", originals=[c.original.id for c in correlations])

    def _copy(self, inter_id: str, item: IngestInput, index: int, gln: str,
              original_id: str) -> None:
        message = item.messages[index]
        copy_item = IngestInput(
            data=copies.readdress(item.data, item.receiver or "", gln), received_via="copy",
            source=f"copy of {inter_id}", origin="copy", format=item.format, sender=item.sender,
            receiver=gln, control_ref=item.control_ref)
        copy_inter = self._interchange(copy_item, InterchangeEvent.ACCEPT)
        copy_id = self._message(
            copy_inter, copy_item, message.family, message.type, message.version,
            ref=f"{message.ref}{COPY_MARK}{gln}", letter_id=message.letter_id,
            summary={**(message.summary or {}), "copy_of": original_id}, ack_requested=False,
            events=(E.VALIDATE, E.ROUTE), detail={"copy_of": original_id}, letter=message.letter)
        self._audit("copy_routed", original_id, inter_id, copy_message_id=copy_id, receiver=gln)
        self.commands.append(delivery_command_for(
            copy_inter, receiver_gln=gln, family=message.family, type=message.type,
            version=message.version, format=item.format))
        log.info("municipal_copy_routed", message_id=original_id, copy_message_id=copy_id,
                 municipality=gln)

    # -- rows ---------------------------------------------------------------------------------

    def _interchange(self, item: IngestInput, event: InterchangeEvent,
                     error: dict[str, Any] | None = None, inter_id: str = "") -> str:
        inter_id = inter_id or repo.new_id()
        values = repo.interchange_values(
            inter_id, raw=item.data, received_via=item.received_via, source=item.source,
            at=self.now, origin=item.origin, status=interchange_status(event).value,
            sender_gln=item.sender, receiver_gln=item.receiver, control_ref=item.control_ref,
            ack_requested=item.ack_requested)
        values.update(format=item.format[:16], error=error)
        self.interchanges.append(values)
        return inter_id

    def _message(self, inter_id: str, item: IngestInput, family: str, type_: str,
                 version: str, *, ref: str | None, letter_id: str, summary: Any,
                 ack_requested: bool, events: tuple[MessageEvent, ...],
                 detail: dict[str, Any], letter: Any = None) -> str:
        """One message row; ``letter`` (the canonical letter, if read) gives its patient key."""
        message_id = repo.new_id()
        steps = walk(S.RECEIVED, *events)
        self.messages.append(dict(
            id=message_id, interchange_id=inter_id, format=item.format[:16], family=family,
            type=type_, version=version, sender_gln=item.sender, receiver_gln=item.receiver,
            control_ref=item.control_ref, message_ref=ref, letter_id=letter_id,
            summary=summary or {}, patient_key=patient_key.of_letter(letter), converted_ref=None,
            state=steps[-1][2].value, ack_requested=ack_requested,
            resend_count=0, delivered_at=None, receipt_due_at=None, created_at=self.now,
            updated_at=self.now))
        self._audit("message_received", message_id, inter_id)
        self.counted.append((type_, S.RECEIVED.value))
        for event, old, new in steps:
            self._audit(f"message_{event.value}", message_id, inter_id, state_from=old.value,
                        state_to=new.value, **detail)
            self.counted.append((type_, new.value))
        return message_id

    def _task(self, message_id: str, kind: str, reason: str) -> None:
        self.tasks.append(dict(message_id=message_id, kind=kind, reason=reason[:2000],
                               status="open", created_at=self.now, closed_at=None))
        self._audit("operator_task_opened", message_id, None, kind=kind, reason=reason[:2000])

    def _audit(self, event: str, message_id: str | None, interchange_id: str | None,
               **detail: Any) -> None:
        self.audits.append(dict(message_id=message_id, interchange_id=interchange_id,
                                at=self.now, event=event, detail=detail))

    # -- the batch ----------------------------------------------------------------------------

    def known_after(self, known: Known, item: IngestInput, verdict: Verdict,
                    result: IngestResult) -> Known:
        """``known`` as the next input of the batch must see it."""
        if isinstance(verdict, Accept | Refuse):
            known = known.with_accepted(item, result.message_ids, result.state, result.receipt)
        elif isinstance(verdict, Duplicate) and bundle_key(item) is not None:
            known = dataclasses.replace(known, bundles=known.with_bundle(item))
        if self.states:
            known = known.with_states(self.states)
        return known

    def flush(self, session: Session) -> None:
        """Write the batch: one INSERT per table, one UPDATE statement for the correlations,
        the SLA clocks, and the counters (counted after the COMMIT)."""
        if self.interchanges:
            session.execute(sa.insert(InterchangeRow), self.interchanges)
        if self.messages:
            session.execute(sa.insert(MessageRow), self.messages)
        if self.updates:
            table = MessageRow.__table__
            moved = session.connection().execute(
                table.update()
                .where(table.c.id == sa.bindparam("b_id"), table.c.state == sa.bindparam("b_old"))
                .values(state=sa.bindparam("state"), updated_at=sa.bindparam("updated_at"),
                        receipt_due_at=None),
                self.updates)
            if moved.rowcount != len(self.updates):  # moved meanwhile: decide the batch again
                raise IntegrityError("correlated originals changed state", None,
                                     Exception("state changed"))
        if self.receipts:
            session.execute(sa.insert(ReceiptRow), self.receipts)
        if self.bundles:  # a Bundle.id known before this batch was decided as seen: not here
            session.execute(sa.insert(FhirBundleRow), list(self.bundles.values()))
        if self.due_now:  # still delivered with its clock running: the scanner resends it
            session.execute(sa.update(MessageRow).where(
                MessageRow.id.in_(self.due_now),
                MessageRow.state == MessageState.DELIVERED.value,
                MessageRow.receipt_due_at.is_not(None),
            ).values(receipt_due_at=self.now))
        if self.tasks:
            session.execute(sa.insert(OperatorTaskRow), self.tasks)
        if self.audits:
            session.execute(sa.insert(AuditEventRow), self.audits)
        observers.discharges_reported(session, self.discharges, at=self.now,
                                      sks_by_sor=self.ctx.registry.sks_by_sor)
        observers.letters_received(session, self.letters, at=self.now)
        observers.letters_acknowledged(session, self.acknowledged, at=self.now)
        metering.count_on_commit(session, self.counted)


async def publish_or_defer(ctx: Pipeline, command: PublishCommand) -> bool:
    """Publish, riding out a short broker outage (the robust connection reconnects within
    seconds); after that the transport publishes it as soon as it is reconnected
    (``publish_later``), and the scanner republishes whatever is still ROUTED."""
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
    except Exception as exc:  # noqa: BLE001 - stored and ROUTED: published on reconnect
        kept = ctx.transport.publish_later(command)  # the moment the broker is back
        log.warning("message_publish_deferred", interchange_id=command.message_id,
                    error=str(exc), on_reconnect=kept)
        return False


async def publish_all_or_defer(ctx: Pipeline, commands: list[PublishCommand]) -> None:
    """``publish_or_defer`` for a committed batch, with the patience spent once: after one
    command had to be deferred, the rest go straight to ``publish_later`` (waiting the whole
    patience again for each would hold a batch of 64 for half an hour while the broker is away)."""
    for i, command in enumerate(commands):
        if not await publish_or_defer(ctx, command):
            for rest in commands[i + 1:]:
                ctx.transport.publish_later(rest)
            if len(commands) > i + 1:
                log.warning("message_publishes_deferred", count=len(commands) - i - 1)
            return

__all__ = ["Ingest", "IngestPlan", "IngestResult", "PayloadHint", "gather_known",
           "publish_all_or_defer", "publish_or_defer", "write", "write_with_retry"]
