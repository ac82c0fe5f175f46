"""Receipt timeouts: when to resend a delivered message, and when to give up.

MedCom (shared/research/medcom.md §3.2-3.3): a sender that gets no receipt within 30 minutes
SHALL resend, and SHALL NOT resend more than twice; after that, re-dispatch is manual. medbro
does this for the messages it forwarded that asked for a receipt (UNB element 9 = 1).

For EDIFACT the resend carries the same bytes, same UNB control ref: the receiver de-duplicates
on (sender, UNB ref, UNH ref) and answers a duplicate with the receipt it already gave, which
then correlates with the original here. (VANSEnvelope resends get a new envelope id, issue 5.)

A MedCom FHIR message (every one but an Acknowledgement asks for one) follows the same rule,
with two differences the decision states (MR3-MR7, gateway.fhir.reliable): each resend is a new
send, the stored Bundle with a new ``Bundle.id`` and ``timestamp`` and the same
``MessageHeader.id`` (``resend_payload``, which the worker delivers; the Bundle.id of resend
*n* is fixed, ``resend_bundle_id``, so a delivery retried by the transport repeats that send);
and a ``transient-error`` Acknowledgement makes it due at once (ingest sets the receipt clock to
now), counted like a missing Acknowledgement.

``decide(state, now)`` is pure, on tenacity's stop and wait objects (deciding apart from
waiting); the
scanner in ``scan_once`` does the IO and is run periodically by every worker. Several workers
may scan at once: each claim is a conditional UPDATE (state and resend count unchanged), so
exactly one of them acts.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import tenacity

from gateway.fhir import reliable
from gateway.fhir.routing import FORMAT as FHIR
from gateway.logging import get_logger
from gateway.pipeline.context import Pipeline, delivery_command
from gateway.retrying import retry_state
from gateway.store import repository as repo
from gateway.store.states import MessageEvent, MessageState
from gateway.store.tables import AuditEventRow, MessageRow, ReceiptRow
from gateway.transport.port import PublishCommand

log = get_logger(__name__)
MAX_REPUBLISHES = 3
TRANSIENT = "transient-error"  # the FHIR response code that asks for a resend
# Bundle.id of a FHIR resend: uuid5 of the message id and the resend number.
_RESEND_NAMESPACE = uuid.UUID("6f1c7a52-2b1e-4b8e-9a53-0c3e4f7d2a91")


# -- policies: tenacity's stop and wait objects; they decide, the scanner acts -----------------


@dataclass(frozen=True)
class ResendState:
    """What the decision looks at for one message waiting for its receipt."""

    resends: int  # automatic resends already made
    sent_at: datetime  # when it was last handed to the receiver
    format: str = "edifact"  # fhir: each resend is a new send (new Bundle.id)
    transient_error: bool = False  # a FHIR transient-error Acknowledgement since the last send

    def as_retry_state(self) -> tenacity.RetryCallState:
        """The state in tenacity's terms: the sends made so far are its attempts."""
        return retry_state(self.resends + 1)


def stop_after_resends(max_resends: int) -> tenacity.stop.stop_base:
    """Give up once ``max_resends`` resends were made (MedCom: 2), i.e. after that many + 1
    sends."""
    return tenacity.stop_after_attempt(max_resends + 1)


def wait_fixed(seconds: float) -> tenacity.wait.wait_base:
    """Wait the same time after every send for the receipt (MedCom: 30 minutes)."""
    return tenacity.wait_fixed(seconds)


@dataclass(frozen=True)
class ResendPolicy:
    stop: tenacity.stop.stop_base
    wait: tenacity.wait.wait_base

    @classmethod
    def medcom(cls, timeout_seconds: float = 1800.0, max_resends: int = 2) -> ResendPolicy:
        return cls(stop=stop_after_resends(max_resends), wait=wait_fixed(timeout_seconds))


@dataclass(frozen=True)
class AttemptNow:
    """Resend now: the same bytes (EDIFACT), or ``new_send`` (FHIR, MR7): the stored Bundle
    with a new Bundle.id and timestamp, the same MessageHeader.id."""

    new_send: bool = False


@dataclass(frozen=True)
class WaitUntil:
    at: datetime


@dataclass(frozen=True)
class GiveUp:
    reason: str


Decision = AttemptNow | WaitUntil | GiveUp


def decide(state: ResendState, now: datetime, policy: ResendPolicy | None = None) -> Decision:
    """Resend now, wait until the receipt is due, or give up (an operator task).

    A FHIR transient-error Acknowledgement makes the message due at once; otherwise it is due
    the policy's wait after the last send. Either way at most the policy's resends are made.
    """
    policy = policy or ResendPolicy.medcom()
    call = state.as_retry_state()
    due = state.sent_at if state.transient_error else (
        state.sent_at + timedelta(seconds=policy.wait(call)))
    if now < due:
        return WaitUntil(due)
    fhir = state.format == FHIR
    if policy.stop(call):
        answer = ("a transient-error Acknowledgement" if state.transient_error
                  else "no Acknowledgement" if fhir else "no receipt")
        return GiveUp(f"{answer} after {state.resends} resend(s); "
                      f"last sent {state.sent_at:%Y-%m-%d %H:%M} UTC")
    return AttemptNow(new_send=fhir)


def resend_bundle_id(message_id: str, resend_no: int, redeliveries: int = 0) -> str:
    """The Bundle.id of a FHIR message's send after ``resend_no`` automatic resends and
    ``redeliveries`` sends an operator asked for (release, replay: MedCom's manual re-dispatch,
    a new envelope too). Fixed, so that a delivery the transport retries repeats that send
    instead of making another; every new send (either count grows) has a new one."""
    name = f"{message_id}/{resend_no}" + (f"/operator/{redeliveries}" if redeliveries else "")
    return str(uuid.uuid5(_RESEND_NAMESPACE, name))


def resent_as(message_id: str, resends: int, redeliveries: int, *,
              now: datetime) -> tuple[str, datetime] | None:
    """(Bundle.id, time) of a send after the first, None for the first: what a letter
    converted to a CareCommunication at delivery is rewritten with (conversion.py), so its
    resends are new sends too."""
    if resends == redeliveries == 0:
        return None
    aware = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    return resend_bundle_id(message_id, resends, redeliveries), aware


def resend_payload(raw: bytes, *, format: str, message_id: str, resends: int,
                   now: datetime, redeliveries: int = 0) -> bytes:
    """What a delivery sends: the stored bytes, or for a FHIR message sent again (resent, or
    released/replayed by an operator) those bytes rewritten by ``reliable.resend`` (its send's
    Bundle.id, ``now`` as the timestamp)."""
    if format != FHIR or resends == redeliveries == 0:
        return raw
    aware = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    return reliable.resend(raw, bundle_id=resend_bundle_id(message_id, resends, redeliveries),
                           now=aware)


# -- the scanner ----------------------------------------------------------------------------


def policy_for(ctx: Pipeline) -> ResendPolicy:
    return ResendPolicy.medcom(ctx.settings.receipt_timeout_seconds, ctx.settings.max_resends)


async def scan_once(ctx: Pipeline) -> int:
    """Resend or park overdue messages and republish stuck ones; returns how many it sent."""
    now = ctx.clock()
    commands = await ctx.db(_scan, ctx, now)
    sent: list[PublishCommand] = []
    for command in commands:
        try:
            await ctx.transport.publish(command)
        except Exception as exc:  # noqa: BLE001 - still ROUTED in the store: next scan retries
            log.warning("message_publish_failed", interchange_id=command.message_id,
                        error=str(exc))
        else:
            sent.append(command)
    republished = [c for c in sent if c.headers.get("republish") == "1"]
    if republished:  # only a publish the broker confirmed counts towards MAX_REPUBLISHES
        await ctx.db(_record_republished, ctx, republished, now)
    return len(sent)


def _record_republished(ctx: Pipeline, commands: list[PublishCommand], now: datetime) -> None:
    with ctx.store.transaction() as session:
        for command in commands:
            repo.audit(session, "message_republished", at=now,
                       message_id=command.headers["message_id"],
                       interchange_id=command.message_id)


def _scan(ctx: Pipeline, now: datetime) -> list[PublishCommand]:
    policy = policy_for(ctx)
    commands: list[PublishCommand] = []
    with ctx.store.transaction() as session:
        overdue = session.scalars(
            sa.select(MessageRow).where(
                MessageRow.state == MessageState.DELIVERED.value,
                MessageRow.receipt_due_at.is_not(None),
                MessageRow.receipt_due_at <= now,
            ).order_by(MessageRow.receipt_due_at).limit(500)
        ).all()
        ids = [(m.id, m.resend_count) for m in overdue]
    for message_id, resends in ids:
        command = _resolve_overdue(ctx, message_id, resends, policy, now)
        if command is not None:
            commands.append(command)
    commands.extend(_republish_stuck(ctx, now))
    return commands


def _resolve_overdue(ctx: Pipeline, message_id: str, resends: int, policy: ResendPolicy,
                     now: datetime) -> PublishCommand | None:
    with ctx.store.transaction() as session:
        row = session.get(MessageRow, message_id)
        if row is None or row.state != MessageState.DELIVERED.value or row.resend_count != resends:
            return None
        sent_at = row.delivered_at or row.updated_at
        fact = ResendState(resends=row.resend_count, sent_at=sent_at, format=row.format,
                           transient_error=_transient_since(session, row.id, sent_at))
        decision = decide(fact, now, policy)
        claimed = session.execute(
            sa.update(MessageRow)
            .where(MessageRow.id == message_id, MessageRow.state == MessageState.DELIVERED.value,
                   MessageRow.resend_count == resends)
            .values(updated_at=now)
        ).rowcount
        if claimed != 1:
            return None  # another worker's scanner took it
        if isinstance(decision, WaitUntil):
            row.receipt_due_at = decision.at
            return None
        if isinstance(decision, GiveUp):
            repo.transition(session, row, MessageEvent.RECEIPT_TIMED_OUT, at=now,
                            reason=decision.reason)
            row.receipt_due_at = None
            repo.open_task(session, message_id=row.id, kind="receipt_missing",
                           reason=decision.reason, at=now)
            log.error("receipt_overdue", message_id=row.id, receiver=row.receiver_gln,
                      resends=row.resend_count, alert=True)
            return None
        row.resend_count += 1
        row.receipt_due_at = None
        detail = {}
        if decision.new_send:  # the worker sends it with this Bundle.id (resend_payload)
            detail["bundle_id"] = resend_bundle_id(row.id, row.resend_count, row.redeliveries)
            if fact.transient_error:
                detail["after"] = TRANSIENT
        repo.transition(session, row, MessageEvent.RESEND, at=now, resend_no=row.resend_count,
                        **detail)
        log.info("message_resent", message_id=row.id, resend_no=row.resend_count, **detail)
        return delivery_command(row)


def _transient_since(session, message_id: str, sent_at: datetime) -> bool:
    """Did a FHIR transient-error Acknowledgement for the message come after its last send?"""
    latest = session.scalars(
        sa.select(ReceiptRow.text).where(
            ReceiptRow.message_id == message_id, ReceiptRow.direction == "in",
            ReceiptRow.kind == "FCTL", ReceiptRow.created_at >= sent_at,
        ).order_by(ReceiptRow.created_at.desc(), ReceiptRow.id.desc()).limit(1)
    ).first()
    return latest is not None and latest.startswith(TRANSIENT)


def _republish_stuck(ctx: Pipeline, now: datetime) -> list[PublishCommand]:
    """ROUTED for too long: the publish after the commit may have been lost; publish again."""
    cutoff = now - timedelta(seconds=ctx.settings.republish_after_seconds)
    commands = []
    with ctx.store.transaction() as session:
        stuck = session.scalars(
            sa.select(MessageRow).where(
                MessageRow.state == MessageState.ROUTED.value, MessageRow.updated_at < cutoff,
            ).limit(500)
        ).all()
        seen: set[str] = set()
        for row in stuck:
            claimed = session.execute(
                sa.update(MessageRow)
                .where(MessageRow.id == row.id, MessageRow.updated_at == row.updated_at,
                       MessageRow.state == MessageState.ROUTED.value)
                .values(updated_at=now)
            ).rowcount
            if claimed != 1 or row.interchange_id in seen:
                continue
            seen.add(row.interchange_id)
            earlier = session.scalar(sa.select(sa.func.count()).select_from(AuditEventRow).where(
                AuditEventRow.message_id == row.id, AuditEventRow.event == "message_republished"))
            if (earlier or 0) >= MAX_REPUBLISHES:
                # Published again and again, never delivered: a poison message the broker
                # parked, or a bug. A person must look at it.
                for other in repo.messages_of(session, row.interchange_id):
                    if other.state == MessageState.ROUTED.value:
                        repo.transition(session, other, MessageEvent.EXHAUST, at=now,
                                        error="never delivered after republishing")
                        repo.open_task(session, message_id=other.id, kind="stuck", at=now,
                                       reason=f"routed but not delivered after {earlier} "
                                              "republishes (see the parking queue)")
                log.error("message_stuck", message_id=row.id, alert=True)
                continue
            command = delivery_command(row)
            headers = {**command.headers, "republish": "1", "message_id": row.id}
            commands.append(dataclasses.replace(command, headers=headers))
    return commands
