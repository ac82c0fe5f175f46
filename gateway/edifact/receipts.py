"""CONTRL receipts: their canonical mapping, and the receipt a receiver owes.

MedCom's rules (research/medcom.md section 3 and the CTL0x samples):
* CTL03 (positive, UCI/UCM action 7, no FTX) only when the sender asked for it: UNB element 9
  is 1;
* CTL02 (negative, action 4) for EVERY rejected interchange, with ``FTX+<refusal code>`` and a
  Danish text that names where the error is;
* CTL01 (negative VANS receipt) is what a network hop answers when it cannot deliver (unknown
  location number: LOK, ...);
* never a receipt for a CONTRL, nor one that could not quote the original's sender, recipient
  and control reference (``Original.answerable``); the receipt goes back from the original
  recipient to the original sender (the two swapped), under a new control reference and
  message reference, marked as a test when the original was one (UNB element 11).

Everything here is pure: the clock (``now``) and the new references are passed in; when the
references are not given they are derived from ``now`` and the original (<= 14 characters,
deterministic, so a replayed input gets the same receipt).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydifact.segments import Segment

from gateway.edifact.errors import EdifactError
from gateway.edifact.ftx import decode_runs, ftx_elements
from gateway.edifact.grammar import components, get
from gateway.edifact.receipt_texts import danish_error_text, vans_text
from gateway.edifact.segment_values import build, element
from gateway.errors import LocalUsageError
from gateway.model import Envelope, FreeText, OriginalLetter, Receipt, RefusalCode

__all__ = [
    "Original",
    "build_receipt",
    "negative_vans_receipt",
    "receipt_from_message",
    "receipt_owed",
    "receipt_segments",
    "RECEIPT_VERSIONS",
]

RECEIPT_VERSIONS = {"CTL01": "C0130Q", "CTL02": "C0230Q", "CTL03": "C0330Q"}
ACCEPTED, REJECTED = "7", "4"


# -- the canonical mapping -------------------------------------------------------------------


def receipt_from_message(message: Any) -> Receipt:
    """A CONTRL message body (UCI, UCM..., FTX...) as a ``Receipt``."""
    uci = next((s for s in message.segments if s.tag == "UCI"), None)
    letters: list[OriginalLetter] = []
    ftx_run: list[Segment] = []
    refused_after = ""
    for seg in message.segments:
        if seg.tag == "UCM":
            letters.append(OriginalLetter(get(seg, 1), ":".join(_comps(seg, 2)), get(seg, 3)))
        elif seg.tag == "FTX" and (not ftx_run or _adjacent(message.segments, ftx_run[-1], seg)):
            if not ftx_run:
                refused_after = letters[-1].ref if letters else ""
            ftx_run.append(seg)
    texts = decode_runs(ftx_run)
    text = texts[0] if texts else None
    refusal = None
    if text is not None and text.qualifier in RefusalCode.__members__:
        refusal = RefusalCode(text.qualifier)
    return Receipt(
        type=message.type,
        version=message.version,
        ref=message.ref,
        original_control_ref=get(uci, 1) if uci else "",
        original_sender=get(uci, 2, 1) if uci else "",
        original_recipient=get(uci, 3, 1) if uci else "",
        original_sender_qualifier=get(uci, 2, 2) if uci else "",
        original_recipient_qualifier=get(uci, 3, 2) if uci else "",
        original_letters=tuple(letters),
        refusal=refusal,
        text=text.text if text else "",
        text_format=text.format if text else "P00",
        refused_letter_ref=refused_after,
    )


def _comps(seg: Segment, index: int) -> list[str]:
    return components(seg.elements[index - 1]) if len(seg.elements) >= index else []


def _adjacent(segments: Sequence[Segment], before: Segment, seg: Segment) -> bool:
    position = next(i for i, s in enumerate(segments) if s is before)
    return position + 1 < len(segments) and segments[position + 1] is seg


def receipt_segments(receipt: Receipt) -> list[Segment]:
    """The CONTRL body: UCI, the refusal FTX (after UCI or after the refused UCM), UCMs."""
    action = ACCEPTED if receipt.accepted else REJECTED
    uci = build(
        "UCI",
        receipt.original_control_ref,
        element(receipt.original_sender, receipt.original_sender_qualifier),
        element(receipt.original_recipient, receipt.original_recipient_qualifier),
        action,
    )
    ftx: list[Segment] = []
    if not receipt.accepted:
        if receipt.refusal is None:
            raise LocalUsageError(f"{receipt.type} needs a refusal code (NC, LOK, MID, VER, SYN)")
        free_text = FreeText(receipt.refusal.value, receipt.text, receipt.text_format)
        ftx = [build("FTX", *els) for els in ftx_elements(free_text)]
    refs = [letter.ref for letter in receipt.original_letters]
    if receipt.refused_letter_ref and receipt.refused_letter_ref not in refs:
        raise LocalUsageError(f"refused letter {receipt.refused_letter_ref} is not among the UCMs")
    body = [uci]
    if not receipt.refused_letter_ref:
        body += ftx
    for letter in receipt.original_letters:
        body.append(
            build("UCM", letter.ref, element(*letter.message_identifier.split(":")), letter.action)
        )
        if letter.ref == receipt.refused_letter_ref:
            body += ftx
    return body


# -- the receipt owed ------------------------------------------------------------------------


@dataclass(frozen=True)
class Original:
    """What a receipt quotes of the interchange it answers."""

    sender: str
    recipient: str
    control_ref: str
    sender_qualifier: str = "14"
    recipient_qualifier: str = "14"
    prepared_at: datetime | None = None
    letters: tuple[tuple[str, str, str], ...] = ()  # (UNH ref, message identifier, type)
    ack_requested: bool = False
    test: bool = False  # UNB element 11: the receipt is marked as a test too

    @property
    def is_receipt(self) -> bool:
        return any(
            identifier.startswith("CONTRL") or type_.startswith("CTL")
            for _, identifier, type_ in self.letters
        )

    @property
    def answerable(self) -> bool:
        """Can a receipt answer it? Not when it is a receipt itself (a receipt is never
        receipted), nor when its sender, recipient or control reference could not be read:
        UCI elements 1-3 are mandatory, and medbro writes no receipt rather than an invalid one."""
        return bool(self.sender and self.recipient and self.control_ref) and not self.is_receipt

    @classmethod
    def of(cls, source: Any) -> Original:
        """From a parsed ``Interchange`` or a lenient ``EnvelopeInfo``."""
        envelope = getattr(source, "envelope", source)
        # a UCM can only quote a message whose UNH reference and type could be read
        letters = tuple(
            (m.ref, ":".join(m.identifier), m.type)
            for m in getattr(source, "messages", [])
            if m.ref and m.identifier and m.identifier[0] and len(m.identifier) <= 6
        )
        return cls(
            sender=envelope.sender,
            recipient=envelope.recipient,
            control_ref=envelope.control_ref,
            sender_qualifier=envelope.sender_qualifier or "14",
            recipient_qualifier=envelope.recipient_qualifier or "14",
            prepared_at=envelope.prepared_at,
            letters=letters,
            ack_requested=envelope.ack_requested,
            test=getattr(envelope, "test", False),
        )


def new_ref(prefix: str, now: datetime, original: Original) -> str:
    """A fresh reference of at most 14 characters, derived from ``now`` and the original."""
    seed = f"{prefix}|{original.sender}|{original.control_ref}|{now.isoformat()}"
    return f"{prefix}{now:%y%m%d%H%M}{zlib.crc32(seed.encode()) % 1000:03d}"


def build_receipt(
    type_: str,
    original: Original,
    *,
    now: datetime,
    refusal: RefusalCode | None = None,
    text: str = "",
    refused_letter_ref: str = "",
    control_ref: str | None = None,
    message_ref: str | None = None,
    sender: str | None = None,
    sender_qualifier: str | None = None,
) -> tuple[Envelope, Receipt]:
    """The envelope and receipt (CTL01/02/03) answering ``original``.

    The receipt travels from the original recipient (or ``sender``, e.g. the VANS for CTL01)
    back to the original sender.
    """
    if type_ not in RECEIPT_VERSIONS:
        raise LocalUsageError(f"{type_} is not a receipt type (CTL01, CTL02, CTL03)")
    accepted = type_ == "CTL03"
    if accepted == (refusal is not None):
        raise LocalUsageError("CTL03 carries no refusal code; CTL01/CTL02 need one")
    control_ref = control_ref or new_ref("K", now, original)
    message_ref = message_ref or new_ref("M", now, original)
    for name, ref in (("control_ref", control_ref), ("message_ref", message_ref)):
        if len(ref) > 14:
            raise LocalUsageError(f"{name} {ref!r} is longer than 14 characters")
    action = ACCEPTED if accepted else REJECTED
    envelope = Envelope(
        sender=sender or original.recipient,
        recipient=original.sender,
        control_ref=control_ref,
        prepared_at=now.replace(second=0, microsecond=0),
        ack_requested=False,  # a receipt is never receipted
        test=original.test,
        sender_qualifier=sender_qualifier or original.recipient_qualifier,
        recipient_qualifier=original.sender_qualifier,
    )
    receipt = Receipt(
        type=type_,
        version=RECEIPT_VERSIONS[type_],
        ref=message_ref,
        original_control_ref=original.control_ref,
        original_sender=original.sender,
        original_recipient=original.recipient,
        original_sender_qualifier=original.sender_qualifier,
        original_recipient_qualifier=original.recipient_qualifier,
        original_letters=tuple(
            OriginalLetter(ref, ident, action) for ref, ident, _ in original.letters
        ),
        refusal=refusal,
        text=text,
        refused_letter_ref=refused_letter_ref,
    )
    return envelope, receipt


def receipt_owed(
    data: bytes,
    *,
    now: datetime,
    control_ref: str | None = None,
    message_ref: str | None = None,
) -> bytes | None:
    """The CONTRL interchange a receiver owes for ``data``, or None when none is owed.

    Valid and UNB element 9 = 1: CTL03. Valid otherwise: None. Invalid: CTL02 with the error's
    refusal code and a Danish text naming the place. Input that is not ``answerable`` (a
    CONTRL, or no readable UNB sender, recipient or control reference) gets None.
    """
    from gateway.edifact.letters import render_letter
    from gateway.edifact.reader import parse, read_envelope_leniently

    try:
        interchange = parse(data)
    except EdifactError as error:
        info = read_envelope_leniently(data)
        if info is None:
            return None
        original = Original.of(info)
        if not original.answerable:
            return None
        refused = (
            error.message_ref if error.message_ref in {r for r, _, _ in original.letters} else ""
        )
        envelope, receipt = build_receipt(
            "CTL02",
            original,
            now=now,
            refusal=RefusalCode(error.receipt_hint),
            text=danish_error_text(error, original.control_ref),
            refused_letter_ref=refused,
            control_ref=control_ref,
            message_ref=message_ref,
        )
        return render_letter(envelope, receipt)
    original = Original.of(interchange)
    if not original.answerable or not original.ack_requested:
        return None
    envelope, receipt = build_receipt(
        "CTL03", original, now=now, control_ref=control_ref, message_ref=message_ref
    )
    return render_letter(envelope, receipt)


def negative_vans_receipt(
    data: bytes,
    refusal: RefusalCode,
    *,
    now: datetime,
    vans_id: str,
    text: str | None = None,
    control_ref: str | None = None,
    message_ref: str | None = None,
) -> bytes | None:
    """The CTL01 a network hop (``vans_id``) sends back when it cannot deliver ``data``
    (LOK: unknown recipient location number, VER, ...); None when not ``answerable``."""
    from gateway.edifact.letters import render_letter
    from gateway.edifact.reader import read_envelope_leniently

    info = read_envelope_leniently(data)
    if info is None:
        return None
    original = Original.of(info)
    if not original.answerable:
        return None
    envelope, receipt = build_receipt(
        "CTL01",
        original,
        now=now,
        refusal=refusal,
        text=text if text is not None else vans_text(refusal, original, now),
        control_ref=control_ref,
        message_ref=message_ref,
        sender=vans_id,
    )
    return render_letter(envelope, receipt)
