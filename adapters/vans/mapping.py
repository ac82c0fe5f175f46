"""Pure translation between VANSEnvelopes and what the pipeline needs: no IO, no clock.

* ``wrap`` puts any MedCom payload in a new envelope; ``resend`` re-sends the same message
  with a new EnvelopeIdentifier and SentDateTime (MedCom: "SHALL change the envelope id and
  sent time on every resend"; the message id stays);
* ``positive_receipt`` / ``negative_receipt`` answer an envelope (sender and receiver swapped,
  the original MetaInformation copied into OriginalMessage); ``replay_receipt`` sends the SAME
  receipt content again in a new envelope, which is what a duplicate gets;
* ``payload_info`` says what the pipeline needs to route the payload: who to whom, letter type
  and version (from ``Document/Name`` ``MCM:<type>[#postfix]`` and ``Document/Version``) and the
  payload's format.

Error codes in negative receipts are medbro's own (MedCom's list in "Den Gode VANSEnvelope"
could not be read; shared/research/medcom.md section 7): see ``ErrorCode``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime

from adapters.vans.envelope import (
    Document,
    EndPoint,
    Message,
    MetaInformation,
    PayloadFormat,
    Receipt,
    ReceiptError,
    ReceiptKind,
    Transport,
    TransportType,
    VansEnvelope,
)
from gateway import wire_format
from gateway.fhir.reader import media_type as fhir_media_type


class ErrorCode(enum.IntEnum):
    """Codes medbro writes in ``Receipt/*/Error/Code`` (documented in docs/adapters.md)."""

    REJECTED = 1  # the payload was read and refused (syntax, unknown type, ...)
    SIZE_MISMATCH = 2  # SizeInBytes differs from the decoded Data
    ENVELOPE_REUSED = 3  # an EnvelopeIdentifier seen before with another message id
    UNKNOWN_RECEIVER = 4  # nobody behind ReceiverID


@dataclass(frozen=True)
class PayloadInfo:
    """What an envelope says about its payload, in pipeline terms."""

    sender_id: str
    receiver_id: str
    envelope_id: str
    message_id: str
    message_type: str  # e.g. XDIS22, DIS01 (MCM: prefix and #postfix removed)
    version: str  # Document/Version as written, e.g. XD2230L
    format: str  # edifact | oioxml | fhir | binary | other
    reliable: bool


MIME_TAG = "MCM:MIME"  # the ServiceTag naming a FHIR payload's media type


def message_type(document_name: str) -> str:
    """``MCM:XDIS22#foo`` -> ``XDIS22``; a name without the MCM: prefix is kept as written."""
    name = document_name.split("#", 1)[0]
    return name[4:] if name.upper().startswith("MCM:") else name


def sniff_format(payload: bytes) -> str:
    """The payload's wire format from its first bytes: edifact, oioxml, fhir, or binary
    (gateway.wire_format decides, for every door alike)."""
    return wire_format.sniff(payload)


def payload_info(envelope: VansEnvelope) -> PayloadInfo:
    message = envelope.message
    if message is None:
        raise ValueError("a receipt envelope carries no payload")
    doc = message.meta.document
    if doc.format is PayloadFormat.EDIFACT:
        fmt = "edifact"
    elif doc.format is PayloadFormat.HL7:
        fmt = "fhir"
    elif doc.format is PayloadFormat.XML:
        fmt = "fhir" if sniff_format(message.data) == "fhir" else "oioxml"
    else:
        fmt = sniff_format(message.data)
    return PayloadInfo(
        sender_id=envelope.sender.id,
        receiver_id=envelope.receiver.id,
        envelope_id=envelope.envelope_id,
        message_id=message.meta.identifier,
        message_type=message_type(doc.name),
        version=doc.version,
        format=fmt,
        reliable=message.meta.reliable,
    )


_FORMAT_BY_WIRE = {
    "edifact": PayloadFormat.EDIFACT,
    "oioxml": PayloadFormat.XML,
    "fhir": PayloadFormat.HL7,
}


def wrap(
    payload: bytes,
    *,
    sender: EndPoint,
    receiver: EndPoint,
    message_type: str,
    version: str,
    envelope_id: str,
    message_id: str,
    now: datetime,
    wire_format: str | None = None,
    reliable: bool = True,
    service_tags: tuple[tuple[str, str], ...] = (),
) -> VansEnvelope:
    """A new envelope around ``payload``; ``Name`` becomes ``MCM:<message_type>`` (for FHIR
    e.g. ``FDIS91#other``, ``gateway.fhir.RoutingFacts.envelope_name`` without ``MCM:``), and a
    FHIR payload gets its ``MCM:MIME`` ServiceTag."""
    fmt = _FORMAT_BY_WIRE.get(wire_format or sniff_format(payload), PayloadFormat.BINARY)
    if fmt is PayloadFormat.HL7 and not any(name == MIME_TAG for name, _ in service_tags):
        # MedCom: FHIR travels with ServiceTag MCM:MIME = application/fhir+json|xml.
        service_tags = (*service_tags, (MIME_TAG, fhir_media_type(payload)))
    meta = MetaInformation(
        identifier=message_id,
        document=Document(
            format=fmt,
            name=f"MCM:{message_type}",
            version=version,
            size_in_bytes=len(payload),
        ),
        transport=Transport(
            type=TransportType.RELIABLE if reliable else TransportType.UNRELIABLE,
            transform_message=False,
            service_tags=service_tags,
        ),
    )
    return VansEnvelope(
        sender=sender,
        receiver=receiver,
        envelope_id=envelope_id,
        sent_at=now,
        body=Message(meta=meta, data=payload),
    )


def resend(envelope: VansEnvelope, *, envelope_id: str, now: datetime) -> VansEnvelope:
    """The same message again: new EnvelopeIdentifier and SentDateTime, same message id."""
    if envelope_id == envelope.envelope_id:
        raise ValueError("a resend needs a new EnvelopeIdentifier (MedCom: never reuse one)")
    return replace(envelope, envelope_id=envelope_id, sent_at=now)


def _answer(
    original: VansEnvelope, receipt: Receipt, envelope_id: str, now: datetime
) -> VansEnvelope:
    return VansEnvelope(
        sender=original.receiver,
        receiver=original.sender,
        envelope_id=envelope_id,
        sent_at=now,
        body=receipt,
    )


def positive_receipt(original: VansEnvelope, *, envelope_id: str, now: datetime) -> VansEnvelope:
    message = _require_message(original)
    receipt = Receipt(
        kind=ReceiptKind.POSITIVE_MESSAGE,
        original_envelope_id=original.envelope_id,
        original_message=message.meta,
    )
    return _answer(original, receipt, envelope_id, now)


def negative_receipt(
    original: VansEnvelope,
    *,
    description: str,
    code: ErrorCode,
    envelope_id: str,
    now: datetime,
) -> VansEnvelope:
    message = _require_message(original)
    receipt = Receipt(
        kind=ReceiptKind.NEGATIVE_MESSAGE,
        original_envelope_id=original.envelope_id,
        original_message=message.meta,
        error=ReceiptError(description=description[:512] or "rejected", code=int(code)),
    )
    return _answer(original, receipt, envelope_id, now)


def replay_receipt(first: VansEnvelope, *, envelope_id: str, now: datetime) -> VansEnvelope:
    """The receipt sent the first time, same content, in a new envelope (a resend)."""
    if first.receipt is None:
        raise ValueError("only a receipt envelope can be replayed")
    return resend(first, envelope_id=envelope_id, now=now)


def _require_message(envelope: VansEnvelope) -> Message:
    if envelope.message is None:
        # Never receipt a receipt (MedCom KR2.R; medcom.md section 3.1).
        raise ValueError("a receipt is never answered with a receipt")
    return envelope.message
