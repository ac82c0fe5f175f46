"""What arrives, read once into the facts every decision needs, whatever the source.

Every source (HTTP EDIFACT, HTTP envelopes, the EDI mailbox, hospital push, payloads routed by
their envelope's facts, the case flow's outbox, medbro's own receipts) ends up here as one
``IngestInput``: the bytes as they came, who sent them through which door, and what the codec
(or the transport envelope, for a payload the codec does not read) says about them. A MedCom
FHIR message (a VANSEnvelope's HL7 payload, or medbro's own Acknowledgement) is read by
gateway.fhir: its MessageHeader gives the routing facts, and its ``MessageHeader.id`` is the
duplicate key, whole (the store's references are 64 wide); a HospitalNotification discharge
also carries its ``DischargeReport`` (the SLA clock it starts once accepted). Reading never
raises: an unreadable interchange is an ``IngestInput`` with its ``error``, and whatever can
still be read of its envelope, so that the decision can answer its sender.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from gateway import wire_format
from gateway.errors import RemoteMessageError
from gateway.fhir import FhirMessage, read_leniently, routing_facts
from gateway.fhir.hospitalnotification import DischargeReport, discharge_report
from gateway.fhir.routing import FORMAT as FHIR
from gateway.logging import get_logger
from gateway.pipeline import codec

log = get_logger(__name__)


@dataclass(frozen=True)
class PayloadHint:
    """What a transport envelope says about a payload the codec does not read (e.g. an XDIS22
    OIOXML letter in a VANSEnvelope): it is routed by these facts.

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


@dataclass(frozen=True)
class MessageFacts:
    """One message of an input: its duplicate-key part and routing facts, and the canonical
    letter or receipt when the codec read one."""

    ref: str
    family: str
    type: str
    version: str
    is_receipt: bool = False
    letter: Any = None
    letter_id: str = ""
    summary: dict[str, Any] | None = None
    discharge: DischargeReport | None = None  # a FHIR discharge: the SLA clock it starts


@dataclass(frozen=True)
class IngestInput:
    """One interchange (or hinted payload) as it arrived, read."""

    data: bytes
    received_via: str
    source: str = ""
    authenticated_glns: frozenset[str] | None = None
    origin: str = "inbound"  # inbound | generated (medbro's own receipts) | copy
    format: str = "edifact"
    sender: str | None = None
    receiver: str | None = None
    control_ref: str | None = None
    ack_requested: bool = False
    messages: tuple[MessageFacts, ...] = ()
    error: Exception | None = None  # why it could not be read (then ``messages`` is empty)
    fhir_message: FhirMessage | None = None  # what gateway.fhir read, also when a rule is broken

    @property
    def readable(self) -> bool:
        return self.error is None

    @property
    def keys(self) -> frozenset[tuple[str, str, str]]:
        """The duplicate keys (sender GLN, UNB ref, UNH ref) of its messages."""
        if self.sender is None or self.control_ref is None:
            return frozenset()
        return frozenset((self.sender, self.control_ref, m.ref) for m in self.messages)


def read(data: bytes, *, received_via: str, source: str = "",
         authenticated_glns: frozenset[str] | None = None, hint: PayloadHint | None = None,
         origin: str = "inbound") -> IngestInput:
    """Parse ``data`` once; never raises (a codec crash is an input with its ``error``)."""
    door = dict(data=data, received_via=received_via, source=source,
                authenticated_glns=authenticated_glns, origin=origin)
    if (hint.format if hint is not None else wire_format.sniff(data)) == FHIR:
        return _fhir(door)
    if hint is not None and hint.format != "edifact":
        return _hinted(door, hint)
    try:
        parsed = codec.read(data)
    except Exception as exc:  # noqa: BLE001 - the sender's error, or our codec's bug: stored
        if not isinstance(exc, RemoteMessageError):
            log.exception("codec_failed")
        return _unreadable(door, exc)
    env = parsed.envelope
    return IngestInput(
        **door, sender=env.sender, receiver=env.recipient, control_ref=env.control_ref,
        ack_requested=env.ack_requested,
        messages=tuple(MessageFacts(
            ref=h.ref, family=h.family.upper(), type=h.type.upper(), version=h.version.upper(),
            is_receipt=h.is_receipt, letter=h.letter, letter_id=h.letter_id[:70],
            summary=codec.summary(h)) for h in parsed.messages))


def _hinted(door: dict[str, Any], hint: PayloadHint) -> IngestInput:
    key = hint.message_key[:64]
    return IngestInput(
        **door, format=hint.format[:16], sender=hint.sender_gln, receiver=hint.receiver_gln,
        control_ref=key,
        messages=(MessageFacts(
            ref=(hint.duplicate_key or hint.message_key)[:64], family=hint.family_word[:16],
            type=hint.type.upper()[:16], version=hint.version.upper()[:16], letter_id=key[:70],
            summary={"by_hint": {"format": hint.format, "type": hint.type,
                                 "version": hint.version, "message_key": hint.message_key}}),))


def _fhir(door: dict[str, Any]) -> IngestInput:
    """A FHIR message read by its MessageHeader (not by the envelope's words: the Bundle says
    who sent it to whom, and MedCom keys its duplicates on ``MessageHeader.id``)."""
    try:
        message, problem = read_leniently(door["data"])
    except Exception as exc:  # noqa: BLE001 - our reader's bug: stored, rejected, a task
        log.exception("fhir_reader_failed")
        return IngestInput(**door, format=FHIR, error=exc)
    if message is None:
        return IngestInput(**door, format=FHIR, error=problem)
    facts = routing_facts(message)
    # Every MedCom FHIR message but an Acknowledgement asks for one (MR2): the receipt clock
    # runs for it once delivered, and resend.py resends it with a new Bundle.id.
    read_as = dict(format=facts.format, sender=facts.sender_gln or None,
                   receiver=facts.receiver_gln or None, control_ref=facts.message_key or None,
                   fhir_message=message, ack_requested=not facts.is_acknowledgement)
    if problem is not None and door["origin"] != "generated":
        return IngestInput(**door, **read_as, error=problem)
    if problem is not None:  # medbro's own Acknowledgement (as a hop it has no SOR): routed
        log.info("own_fhir_message_routed_as_written", problem=str(problem))
    summary = {"fhir": {"event": message.event, "envelope_name": facts.envelope_name,
                        "bundle_id": facts.bundle_id, "version": facts.version}}
    if facts.is_acknowledgement:
        summary["fhir"].update(acknowledges=facts.acknowledges,
                               response_code=facts.response_code)
    return IngestInput(**door, **read_as, messages=(MessageFacts(
        ref=facts.message_key, family=facts.family, type=facts.type, version=facts.version,
        is_receipt=facts.is_acknowledgement, letter_id=facts.message_key, summary=summary,
        discharge=_discharge(message)),))


def _discharge(message: FhirMessage) -> DischargeReport | None:
    """The discharge a HospitalNotification reports (None for any other message). A bug of
    ours in the conversion is logged and the message still goes its way, without the clock."""
    try:
        report = discharge_report(message)
    except Exception:  # noqa: BLE001 - our bug, not the sender's: the message is not refused
        log.exception("fhir_discharge_report_failed")
        return None
    if report is None:
        return None
    return replace(report, hospital=report.hospital[:64], department=report.department[:32],
                   discharge_id=report.discharge_id[:128], patient_cpr=report.patient_cpr[:16],
                   message_id=report.message_id[:128])  # the SLA table's widths


def _unreadable(door: dict[str, Any], error: Exception) -> IngestInput:
    try:
        envelope = codec.envelope_hint(door["data"])
    except Exception:  # noqa: BLE001 - nothing readable: nobody to answer
        envelope = None
    if envelope is None:
        return IngestInput(**door, error=error)
    return IngestInput(**door, sender=envelope.sender, receiver=envelope.recipient,
                       control_ref=envelope.control_ref, ack_requested=envelope.ack_requested,
                       error=error)


__all__ = ["IngestInput", "MessageFacts", "PayloadHint", "read"]
