"""Receipts through the hub: correlate the ones that come back, send the ones medbro owes.

Coming back (a CONTRL from a receiver): the receipt names the original interchange in UCI
(original control ref, sender, recipient) and its letters in UCM (UNH refs). That triple plus
the refs finds the original messages, which become ACKNOWLEDGED (CTL03) or FAILED (CTL02 /
CTL01). MedCom (medcom.md §3.1, ReceiptHandler): a negative receipt is final, later receipts for
the same letter are recorded but change nothing. The receipt itself is then routed like any
message to its UNB recipient, the original sender (forwarding).

Going out (medbro's own CTL01 as network hop, or CTL03/CTL02 as final receiver): stored as a
generated interchange, addressed to the original sender, routed to its endpoint, and linked to
the original in ``receipts`` so a duplicate gets exactly this receipt again (§3.2).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.logging import get_logger
from gateway.model import Receipt
from gateway.pipeline import codec, observers
from gateway.pipeline.codec import MessageHead
from gateway.pipeline.context import Pipeline, delivery_command
from gateway.routing import Match, RouteRequest
from gateway.store import repository as repo
from gateway.store.states import TERMINAL, MessageEvent, MessageState
from gateway.store.tables import MessageRow, ReceiptRow
from gateway.transport.port import PublishCommand

log = get_logger(__name__)


def correlate(session: Session, receipt_row: MessageRow, head: MessageHead,
              *, raw: bytes, at: datetime) -> list[MessageRow]:
    """Record an incoming receipt against the originals it names and move their states."""
    receipt = head.letter
    if not isinstance(receipt, Receipt):
        repo.audit(session, "receipt_unreadable", at=at, message_id=receipt_row.id)
        return []
    refs = [o.ref for o in receipt.original_letters]
    stmt = sa.select(MessageRow).where(
        MessageRow.sender_gln == receipt.original_sender,
        MessageRow.receiver_gln == receipt.original_recipient,
        MessageRow.control_ref == receipt.original_control_ref,
    )
    if refs:
        stmt = stmt.where(MessageRow.message_ref.in_(refs))
    originals = list(session.scalars(stmt.with_for_update()))
    if not originals:
        repo.audit(session, "receipt_uncorrelated", at=at, message_id=receipt_row.id,
                   original_control_ref=receipt.original_control_ref,
                   original_sender=receipt.original_sender)
        log.warning("receipt_uncorrelated", message_id=receipt_row.id,
                    original_control_ref=receipt.original_control_ref)
        return []
    positive = receipt.type.upper() == "CTL03"
    for original in originals:
        session.add(ReceiptRow(
            message_id=original.id, interchange_id=receipt_row.interchange_id, direction="in",
            kind=receipt.type.upper(), refusal=str(receipt.refusal) if receipt.refusal else None,
            text=receipt.text, raw=raw, created_at=at,
        ))
        state = MessageState(original.state)
        if state in TERMINAL:
            repo.audit(session, "receipt_ignored", at=at, message_id=original.id,
                       kind=receipt.type, reason=f"message already {state.value}")
            continue
        if state not in (MessageState.ROUTED, MessageState.DELIVERED, MessageState.PARKED):
            repo.audit(session, "receipt_ignored", at=at, message_id=original.id,
                       kind=receipt.type, reason=f"message is {state.value}")
            continue
        event = MessageEvent.ACKNOWLEDGE if positive else MessageEvent.NEGATIVE_RECEIPT
        repo.transition(session, original, event, at=at, receipt=receipt.type,
                        receipt_message_id=receipt_row.id,
                        refusal=str(receipt.refusal) if receipt.refusal else None)
        original.receipt_due_at = None
        if positive:
            observers.letter_acknowledged(session, message_id=original.id, at=at)
    log.info("receipt_correlated", message_id=receipt_row.id, kind=receipt.type,
             originals=[o.id for o in originals])
    return originals


def emit(
    ctx: Pipeline,
    session: Session,
    raw: bytes,
    *,
    originals: list[MessageRow],
    at: datetime,
) -> PublishCommand | None:
    """Store a receipt medbro wrote and route it to the original sender's endpoint."""
    parsed = codec.read(raw)  # our own receipt must be valid; a bug here should be loud
    inter = repo.add_interchange(session, raw=raw, received_via="medbro", source="generated",
                                 at=at, origin="generated", status="processed")
    env = parsed.envelope
    inter.sender_gln, inter.receiver_gln, inter.control_ref = (
        env.sender, env.recipient, env.control_ref)
    rows = []
    for head in parsed.messages:
        row = repo.add_message(
            session, inter, at=at, family=head.family, type=head.type, version=head.version,
            sender_gln=env.sender, receiver_gln=env.recipient, control_ref=env.control_ref,
            message_ref=head.ref, letter_id="", summary=codec.summary(head), ack_requested=False,
        )
        repo.transition(session, row, MessageEvent.VALIDATE, at=at)
        rows.append(row)
        receipt = head.letter if isinstance(head.letter, Receipt) else None
        for original in originals:
            session.add(ReceiptRow(
                message_id=original.id, interchange_id=inter.id, direction="out",
                kind=head.type.upper(),
                refusal=str(receipt.refusal) if receipt and receipt.refusal else None,
                text=receipt.text if receipt else "", raw=raw, created_at=at,
            ))
    session.flush()
    return route_rows(ctx, session, rows, at=at)


def route_rows(ctx: Pipeline, session: Session, rows: list[MessageRow],
               *, at: datetime) -> PublishCommand | None:
    """Route validated messages of one interchange: all to ROUTED, or all PARKED (refused)."""
    outcomes = [ctx.registry.match(RouteRequest(
        receiver_gln=r.receiver_gln or "", family=r.family, type=r.type, version=r.version,
        format=r.format)) for r in rows]
    refused = next((m for m in outcomes if m is not Match.FULL), None)
    if refused is None:
        for row in rows:
            repo.transition(session, row, MessageEvent.ROUTE, at=at)
        return delivery_command(rows[0])
    for row, outcome in zip(rows, outcomes, strict=True):
        repo.transition(session, row, MessageEvent.REFUSE, at=at, refusal=str(refused.refusal),
                        match=outcome.value)
        repo.open_task(session, message_id=row.id, kind="refused",
                       reason=refusal_text(refused, row), at=at)
    return None


def refusal_text(outcome: Match, row: MessageRow) -> str:
    """The Danish text of a CTL01 refusal (FTX), as MedCom's samples phrase them."""
    if outcome is Match.UNKNOWN_RECEIVER:
        return f"Modtagerlokationsnummer {row.receiver_gln} har ikke kunnet identificeres."
    return (f"Modtager {row.receiver_gln} kan ikke modtage {row.type} "
            f"i version {row.version}.")

