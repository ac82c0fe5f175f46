"""The pipeline's view of the EDIFACT codec: the few facts routing needs, and the receipts.

A thin adapter over ``gateway.edifact`` (the codec issue), so the pipeline depends on one
small surface: ``read`` (envelope + one ``MessageHead`` per UNH), ``envelope_hint`` (what can
still be known about an interchange the codec refused, to address the refusal), ``refusal``
(the CTL01 a network hop owes) and ``final_receipt`` (the CTL03/CTL02 a final receiver owes;
for a MedCom FHIR message its ``ok`` Acknowledgement, gateway.fhir.owed deciding).
"""

from __future__ import annotations

import dataclasses
import enum
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from gateway.model import Envelope, Letter, Receipt, RefusalCode

RECEIPT_TYPES = ("CTL01", "CTL02", "CTL03")
COPENHAGEN = ZoneInfo("Europe/Copenhagen")


@dataclass(frozen=True)
class MessageHead:
    """One UNH message: routing facts plus the canonical letter or receipt."""

    ref: str
    family: str
    type: str
    version: str
    letter: Letter | Receipt | None

    @property
    def is_receipt(self) -> bool:
        return self.type.upper() in RECEIPT_TYPES or self.family.upper() == "CONTRL"

    @property
    def letter_id(self) -> str:
        return getattr(self.letter, "letter_id", "") or ""


@dataclass(frozen=True)
class ParsedInterchange:
    envelope: Envelope
    messages: tuple[MessageHead, ...]


def read(data: bytes) -> ParsedInterchange:
    """Parse and validate; raises the codec's ``EdifactError`` (a ``RemoteMessageError``)."""
    from gateway.edifact import parse

    interchange = parse(data)
    heads = tuple(
        MessageHead(
            ref=m.ref, family=m.family, type=m.type, version=m.version,
            letter=getattr(m, "letter", None),
        )
        for m in interchange.messages
    )
    return ParsedInterchange(envelope=interchange.envelope, messages=heads)


def envelope_hint(data: bytes) -> Any | None:
    """The UNB of an interchange the codec refused (``.sender``, ``.recipient``,
    ``.control_ref``, ``.ack_requested``), or None when no sender can be read."""
    from gateway.edifact import read_envelope_leniently

    info = read_envelope_leniently(data)
    return info if info is not None and info.sender else None


def refusal(
    data: bytes, *, code: RefusalCode, text: str, sender_id: str, now: datetime
) -> bytes | None:
    """The CTL01 (negative VANS receipt) medbro owes as a network hop, or None (a CONTRL, or
    no readable UNB sender, recipient or control reference: no receipt rather than an invalid
    one)."""
    from gateway.edifact.receipts import negative_vans_receipt

    return negative_vans_receipt(
        data, code, now=_local(now), vans_id=sender_id, text=text,
        control_ref=new_ref("K"), message_ref=new_ref("M"),
    )


def final_receipt(data: bytes, *, now: datetime) -> bytes | None:
    """The CTL03/CTL02 medbro owes as the final receiver (None when none is owed); for a
    FHIR message the Acknowledgement owed (None for an Acknowledgement: never answered)."""
    from gateway import wire_format

    if wire_format.sniff(data) == wire_format.FHIR:
        from gateway.fhir.acknowledgement import answer

        aware = now if now.tzinfo is not None else now.replace(tzinfo=COPENHAGEN)
        out, _why = answer(data, now=aware.astimezone(COPENHAGEN).replace(microsecond=0))
        return out
    from gateway.edifact.receipts import receipt_owed

    return receipt_owed(data, now=_local(now), control_ref=new_ref("K"),
                        message_ref=new_ref("M"))


def original_of(data: bytes) -> Any:
    """What a receipt quotes of the stored interchange ``data`` (EDIFACT, or OIOXML read
    through its EDIFACT twin): an ``edifact.receipts.Original`` (``.ack_requested`` is UNB
    element 9)."""
    from gateway import wire_format
    from gateway.edifact import parse
    from gateway.edifact.receipts import Original

    if wire_format.sniff(data) != wire_format.EDIFACT:
        from gateway.oioxml import to_edifact

        data = to_edifact(data)
    return Original.of(parse(data))


def receipt_as_receiver(original: Any, *, type_: str, refusal: RefusalCode | None = None,
                        text: str = "", now: datetime) -> bytes | None:
    """The CONTRL (CTL03/CTL02) answering ``original`` (``original_of``), written as its
    recipient: for a letter its receiver got as a CareCommunication, whose Acknowledgement it
    stands for. None when the original cannot be quoted (no receipt rather than an invalid
    one)."""
    from gateway.edifact.letters import render_letter
    from gateway.edifact.receipts import build_receipt

    if not original.answerable:
        return None
    envelope, receipt = build_receipt(type_, original, now=_local(now), refusal=refusal,
                                      text=text, control_ref=new_ref("K"),
                                      message_ref=new_ref("M"))
    return render_letter(envelope, receipt)


def new_ref(prefix: str) -> str:
    """A unique 14-character reference for an interchange or message medbro writes."""
    return f"{prefix}{uuid.uuid4().hex[:13].upper()}"


def _local(now: datetime) -> datetime:
    """MedCom envelopes carry naive Danish local time."""
    if now.tzinfo is None:
        return now
    return now.astimezone(COPENHAGEN).replace(tzinfo=None)


def summary(head: MessageHead) -> dict[str, Any]:
    """A JSON-safe summary of a letter for the store and the API; never a full CPR number."""
    out: dict[str, Any] = {
        "ref": head.ref, "family": head.family, "type": head.type, "version": head.version,
    }
    letter = head.letter
    if isinstance(letter, Receipt):
        out["receipt"] = _jsonable(letter)
    elif isinstance(letter, Letter):
        keep = ("letter_id", "status", "authorised_at", "sent_at", "admitted_at",
                "discharged_at", "sender", "receiver", "priority")
        out["letter"] = {k: _jsonable(getattr(letter, k)) for k in keep}
        if letter.patient is not None:
            cpr = letter.patient.cpr
            out["letter"]["patient"] = f"{cpr[:6]}-****" if len(cpr) >= 6 else "****"
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
