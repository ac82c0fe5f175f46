"""Ingest by an envelope's facts: payloads the codec cannot read, routed on what their
envelope says (e.g. an XDIS22 OIOXML letter in a VANSEnvelope).

The EDIFACT path learns sender, receiver, type and version from the UNB/UNH it parses. A
payload in another format (OIOXML without an EDIFACT twin here, anything MedCom ships only as
XML) carries those facts in its transport envelope instead; the intake that unwrapped it passes
them as a ``PayloadHint``. Same guarantees as ingest.py, in the same order:

1. the raw payload is committed first (interchange ``received``, ``format`` = the hint's);
2. the sender must be one of the authenticated GLNs;
3. duplicate key (sender GLN, message key, duplicate key): for a VANSEnvelope the
   MetaInformation/Identifier, which stays the same across resends (the envelope id changes);
4. routing through the registry by (receiver, type, version, format): ROUTED and published to
   the receiver's queue, delivered byte for byte (or converted, conversion.py), or PARKED with
   an operator task and an ``error`` naming why, which the intake turns into its negative
   receipt (no CTL01 can be written for a payload that is not EDIFACT).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.logging import get_logger
from gateway.pipeline import receipts
from gateway.pipeline.context import Pipeline
from gateway.pipeline.ingest import IngestResult, _already_processed, _Outcome, publish_or_defer
from gateway.routing import Match, RouteRequest
from gateway.store import repository as repo
from gateway.store.states import MessageEvent
from gateway.store.tables import InterchangeRow, MessageRow

log = get_logger(__name__)


@dataclass(frozen=True)
class PayloadHint:
    """What a transport envelope says about a payload the codec does not read.

    ``message_key`` identifies the message across resends (VANS: MetaInformation/Identifier);
    ``duplicate_key`` may narrow it further (defaults to ``message_key``).
    """

    sender_gln: str
    receiver_gln: str
    format: str  # oioxml | fhir | binary | ...
    type: str  # XDIS22, ...
    version: str  # XD2230L, ...
    message_key: str
    duplicate_key: str = ""
    family: str = ""  # routing-key word; defaults to the format

    @property
    def family_word(self) -> str:
        return (self.family or self.format or "none").upper()


async def ingest(
    ctx: Pipeline,
    data: bytes,
    hint: PayloadHint,
    *,
    received_via: str,
    source: str = "",
    authenticated_glns: frozenset[str] | None = None,
) -> IngestResult:
    now = ctx.clock()
    interchange_id = await ctx.db(_store_received, ctx, data, hint, received_via, source, now)
    try:
        outcome = await ctx.db(_process, ctx, interchange_id, hint, authenticated_glns, now)
    except IntegrityError:  # the same key committed meanwhile: now a plain duplicate
        outcome = await ctx.db(_process, ctx, interchange_id, hint, authenticated_glns, now)
    for command in outcome.publish:
        await publish_or_defer(ctx, command)
    result = outcome.result
    log.info("interchange_ingested", interchange_id=interchange_id, state=result.state,
             duplicate=result.duplicate, messages=len(result.message_ids),
             received_via=received_via, by_hint=hint.format)
    return result


def _store_received(ctx: Pipeline, data: bytes, hint: PayloadHint, received_via: str,
                    source: str, now: datetime) -> str:
    with ctx.store.transaction() as session:
        inter = repo.add_interchange(session, raw=data, received_via=received_via,
                                     source=source, at=now)
        inter.format = hint.format[:16]
        return inter.id


def _process(ctx: Pipeline, interchange_id: str, hint: PayloadHint,
             authenticated_glns: frozenset[str] | None, now: datetime) -> _Outcome:
    with ctx.store.transaction() as session:
        inter = session.get(InterchangeRow, interchange_id, with_for_update=True)
        assert inter is not None
        if inter.status != "received":
            return _already_processed(session, inter)
        key = hint.message_key[:35]
        dup = (hint.duplicate_key or hint.message_key)[:35]
        inter.sender_gln, inter.receiver_gln, inter.control_ref = (
            hint.sender_gln, hint.receiver_gln, key)
        if authenticated_glns is not None and hint.sender_gln not in authenticated_glns:
            reason = (f"sender GLN {hint.sender_gln} is not one of the authenticated "
                      "organisation's GLNs")
            return _rejected(session, inter, hint, "SENDER_NOT_AUTHORISED", reason, now)
        existing = repo.find_by_keys(session, hint.sender_gln, key, [dup])
        if existing:
            inter.status = "duplicate"
            for original in existing:
                repo.audit(session, "duplicate_received", at=now, message_id=original.id,
                           interchange_id=inter.id, state=original.state)
            log.info("duplicate_received", interchange_id=inter.id, original=existing[0].id)
            return _Outcome(IngestResult([m.id for m in existing], existing[0].state,
                                         duplicate=True, interchange_id=inter.id))
        inter.status = "processed"
        row = repo.add_message(
            session, inter, at=now, format=hint.format[:16], family=hint.family_word[:16],
            type=hint.type.upper()[:16], version=hint.version.upper()[:16],
            sender_gln=hint.sender_gln, receiver_gln=hint.receiver_gln, control_ref=key,
            message_ref=dup, letter_id=key[:70],
            summary={"by_hint": {"format": hint.format, "type": hint.type,
                                 "version": hint.version, "message_key": hint.message_key}},
            ack_requested=False,
        )
        repo.transition(session, row, MessageEvent.VALIDATE, at=now, by_hint=True)
        command = receipts.route_rows(ctx, session, [row], at=now)
        if command is not None:
            return _Outcome(IngestResult([row.id], row.state, interchange_id=inter.id),
                            [command])
        reason = _refusal(ctx, row)
        return _Outcome(IngestResult([row.id], row.state, error=reason, interchange_id=inter.id))


def _refusal(ctx: Pipeline, row: MessageRow) -> str:
    outcome = ctx.registry.match(RouteRequest(row.receiver_gln or "", row.family, row.type,
                                              row.version, row.format))
    if outcome is Match.UNKNOWN_RECEIVER:
        return f"receiver {row.receiver_gln} is not a medbro endpoint"
    return (f"receiver {row.receiver_gln} does not accept {row.type} {row.version} "
            f"({row.format}); the message is parked for an operator")


def _rejected(session: Session, inter: InterchangeRow, hint: PayloadHint, code: str,
              reason: str, now: datetime) -> _Outcome:
    inter.status = "rejected"
    inter.error = {"code": code, "text": reason}
    row = repo.add_message(session, inter, at=now, format=hint.format[:16],
                           sender_gln=hint.sender_gln, receiver_gln=hint.receiver_gln,
                           control_ref=None, message_ref=None, summary={"error": inter.error},
                           ack_requested=False)
    repo.transition(session, row, MessageEvent.REJECT, at=now, error=reason)
    log.warning("interchange_rejected", interchange_id=inter.id, reason=code.lower())
    return _Outcome(IngestResult([row.id], row.state, error=reason, interchange_id=inter.id))


__all__ = ["PayloadHint", "ingest"]
