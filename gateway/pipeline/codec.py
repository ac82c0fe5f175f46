"""The pipeline's view of the EDIFACT codec: the few facts routing needs, and the receipts.

A thin adapter over ``gateway.edifact`` (the codec issue), so the pipeline depends on one
small surface: ``read`` (envelope + one ``MessageHead`` per UNH), ``envelope_hint`` (what can
still be known about an interchange the codec refused, to address the refusal), ``refusal``
(the CTL01 a network hop owes) and ``final_receipt`` (the CTL03/CTL02 a final receiver owes).
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from gateway.model import Envelope, Letter, Receipt, RefusalCode

RECEIPT_TYPES = ("CTL01", "CTL02", "CTL03")


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


def envelope_hint(data: bytes) -> Envelope | None:
    """The UNB of an interchange the codec refused, when the UNB itself is readable."""
    from gateway.edifact import receipts

    try:
        return receipts.read_envelope(data)
    except Exception:  # noqa: BLE001 - best effort: without a readable UNB nobody can be answered
        return None


def refusal(
    data: bytes, *, code: RefusalCode, text: str, sender_id: str, now: datetime
) -> bytes | None:
    """The CTL01 (negative VANS receipt) medbro owes as a network hop, or None (a CONTRL)."""
    from gateway.edifact import receipts

    return receipts.network_refusal(data, refusal=code, text=text, sender=sender_id, now=now)


def final_receipt(data: bytes, *, now: datetime) -> bytes | None:
    """The CTL03/CTL02 medbro owes as the final receiver (None when none is owed)."""
    from gateway.edifact import receipts

    return receipts.receipt_owed(data, now=now)


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
