"""Reliable mode: duplicate detection on (EnvelopeIdentifier, MetaInformation/Identifier).

MedCom's four cases (032_Reliable_Messaging-VANSEnvelope; shared/research/medcom.md 3.3) as a
table, decided before any IO:

=================  ==================  ===============  ==========================================
envelope id        message id          case             what medbro does
=================  ==================  ===============  ==========================================
new                new                 NEW              process, answer, remember the receipt
seen, same msg     seen                REPEATED         do NOT reprocess; send the first receipt
                                                        again (same content, new envelope id)
new                seen                RECEIPT_LOST     the first receipt was lost: send it again
                                                        (same content, new envelope id)
seen, other msg    (any)               ENVELOPE_REUSED  error: NegativeMessage (code 3), nothing
                                                        processed, nothing remembered
=================  ==================  ===============  ==========================================

"Both seen" may be reprocessed or rejected per MedCom; medbro rejects silently by replaying the
first receipt, because MedCom also says the receiver "SHALL return the same acknowledgement
content as the first time" and must not show a duplicate to the end user.

What is remembered is the receipt actually sent the first time, so a duplicate can never get a
positive receipt after a negative one or the other way round. A transient failure while
processing (an exception from ``process``) remembers nothing and answers nothing: the sender's
resend is processed as new. Unreliable envelopes are de-duplicated the same way but get no
receipt. Receipt envelopes (answers to what we sent) are remembered but never answered.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from adapters.vans.envelope import VansEnvelope, parse, serialize, size_problem
from adapters.vans.mapping import (
    ErrorCode,
    negative_receipt,
    positive_receipt,
    replay_receipt,
)
from gateway.logging import get_logger

log = get_logger(__name__)


class DuplicateCase(enum.Enum):
    NEW = "new"
    REPEATED = "repeated"
    RECEIPT_LOST = "receipt_lost"
    ENVELOPE_REUSED = "envelope_reused"


class EnvelopeSeen(enum.Enum):
    NO = "no"
    WITH_SAME_MESSAGE = "with_same_message"
    WITH_OTHER_MESSAGE = "with_other_message"


# (envelope id seen?, message id seen?) -> case. Every combination is listed.
DUPLICATE_TABLE: dict[tuple[EnvelopeSeen, bool], DuplicateCase] = {
    (EnvelopeSeen.NO, False): DuplicateCase.NEW,
    (EnvelopeSeen.NO, True): DuplicateCase.RECEIPT_LOST,
    (EnvelopeSeen.WITH_SAME_MESSAGE, True): DuplicateCase.REPEATED,
    (EnvelopeSeen.WITH_OTHER_MESSAGE, False): DuplicateCase.ENVELOPE_REUSED,
    (EnvelopeSeen.WITH_OTHER_MESSAGE, True): DuplicateCase.ENVELOPE_REUSED,
}


def classify(envelope: EnvelopeSeen, message_seen: bool) -> DuplicateCase:
    """The duplicate case; (WITH_SAME_MESSAGE, not seen) cannot happen and is refused."""
    try:
        return DUPLICATE_TABLE[(envelope, message_seen)]
    except KeyError:
        raise ValueError(
            f"impossible duplicate state: envelope {envelope.value}, message seen={message_seen}"
        ) from None


@dataclass(frozen=True)
class SeenEnvelope:
    """One remembered envelope: its ids and the receipt we sent (XML bytes, b"" when none)."""

    envelope_id: str
    sender_id: str
    message_id: str
    seen_at: datetime
    receipt: bytes = b""


class SeenStore(Protocol):
    """Durable memory of envelopes (adapters/vans/client.py SQL, testing.py in memory)."""

    def by_envelope(self, envelope_id: str) -> SeenEnvelope | None: ...

    def by_message(self, sender_id: str, message_id: str) -> SeenEnvelope | None: ...

    def remember(self, seen: SeenEnvelope) -> bool:
        """Store ``seen``; False when its envelope id is already stored (a concurrent twin)."""
        ...

    def forget_before(self, cutoff: datetime) -> int: ...


@dataclass(frozen=True)
class Outcome:
    """What processing the payload decided: accepted, or refused with a reason for the sender."""

    accepted: bool
    description: str = ""
    code: ErrorCode = ErrorCode.REJECTED
    detail: object = None  # whatever the processor wants back (e.g. the hub's IngestResult)


@dataclass(frozen=True)
class Received:
    """The result of receiving one envelope: the case, the envelope, and the receipt to send."""

    case: DuplicateCase
    envelope: VansEnvelope
    receipt: bytes = b""  # serialized receipt envelope; b"" when none is owed
    outcome: Outcome | None = None  # set only when the payload was processed now


Process = Callable[[VansEnvelope], Awaitable[Outcome]]


class ReliableReceiver:
    """Receive VANSEnvelopes: de-duplicate, process new messages once, answer with receipts."""

    def __init__(
        self,
        store: SeenStore,
        process: Process,
        *,
        now: Callable[[], datetime],
        new_id: Callable[[], str],
    ) -> None:
        self._store = store
        self._process = process
        self._now = now
        self._new_id = new_id

    async def receive(self, data: bytes) -> Received:
        """Handle one envelope. Raises ``VansEnvelopeError`` when it cannot even be read."""
        envelope = parse(data, check_size=False)
        case = await self._classify(envelope)
        log.info("vans_envelope_received", envelope_id=envelope.envelope_id, case=case.value)
        if case is DuplicateCase.ENVELOPE_REUSED:
            return self._envelope_reused(envelope)
        if case is not DuplicateCase.NEW:
            return await self._replay(envelope, case)
        if envelope.receipt is not None:
            await self._remember(envelope, b"")
            return Received(case, envelope)
        outcome = await self._outcome(envelope)
        receipt = self._receipt_for(envelope, outcome)
        if not await self._remember(envelope, receipt):
            # A twin of this envelope was remembered while we processed: answer as it did.
            return await self._replay(envelope, DuplicateCase.REPEATED)
        return Received(case, envelope, receipt, outcome)

    async def _classify(self, envelope: VansEnvelope) -> DuplicateCase:
        message_id = _message_id(envelope)
        by_env = await asyncio.to_thread(self._store.by_envelope, envelope.envelope_id)
        by_msg = await asyncio.to_thread(self._store.by_message, envelope.sender.id, message_id)
        if by_env is None:
            seen = EnvelopeSeen.NO
        elif by_env.message_id == message_id:
            seen = EnvelopeSeen.WITH_SAME_MESSAGE
        else:
            seen = EnvelopeSeen.WITH_OTHER_MESSAGE
        return classify(seen, by_msg is not None or seen is EnvelopeSeen.WITH_SAME_MESSAGE)

    async def _outcome(self, envelope: VansEnvelope) -> Outcome:
        problem = size_problem(envelope)
        if problem:
            return Outcome(accepted=False, description=problem, code=ErrorCode.SIZE_MISMATCH)
        return await self._process(envelope)

    def _receipt_for(self, envelope: VansEnvelope, outcome: Outcome) -> bytes:
        message = envelope.message
        if message is None or not message.meta.reliable:
            return b""
        if outcome.accepted:
            answer = positive_receipt(envelope, envelope_id=self._new_id(), now=self._now())
        else:
            answer = negative_receipt(
                envelope,
                description=outcome.description,
                code=outcome.code,
                envelope_id=self._new_id(),
                now=self._now(),
            )
        return serialize(answer)

    async def _remember(self, envelope: VansEnvelope, receipt: bytes) -> bool:
        seen = SeenEnvelope(
            envelope_id=envelope.envelope_id,
            sender_id=envelope.sender.id,
            message_id=_message_id(envelope),
            seen_at=self._now(),
            receipt=receipt,
        )
        return await asyncio.to_thread(self._store.remember, seen)

    async def _replay(self, envelope: VansEnvelope, case: DuplicateCase) -> Received:
        first = await asyncio.to_thread(
            self._store.by_message, envelope.sender.id, _message_id(envelope)
        )
        if first is None:  # the same envelope id with the same message: look it up by envelope
            first = await asyncio.to_thread(self._store.by_envelope, envelope.envelope_id)
        if first is None or not first.receipt or envelope.receipt is not None:
            return Received(case, envelope)
        again = replay_receipt(parse(first.receipt), envelope_id=self._new_id(), now=self._now())
        log.info("vans_receipt_replayed", envelope_id=envelope.envelope_id, case=case.value)
        return Received(case, envelope, serialize(again))

    def _envelope_reused(self, envelope: VansEnvelope) -> Received:
        log.warning("vans_envelope_id_reused", envelope_id=envelope.envelope_id)
        if envelope.message is None:
            return Received(DuplicateCase.ENVELOPE_REUSED, envelope)
        answer = negative_receipt(
            envelope,
            description=f"EnvelopeIdentifier {envelope.envelope_id} was already used for "
            "another message; EnvelopeIdentifier values must never be reused",
            code=ErrorCode.ENVELOPE_REUSED,
            envelope_id=self._new_id(),
            now=self._now(),
        )
        return Received(DuplicateCase.ENVELOPE_REUSED, envelope, serialize(answer))


def _message_id(envelope: VansEnvelope) -> str:
    """The message id: MetaInformation/Identifier, or for a receipt its own envelope id."""
    if envelope.message is not None:
        return envelope.message.meta.identifier
    return envelope.envelope_id
