"""The codec's entry points for received bytes: ``parse`` and ``read_envelope_leniently``.

``parse`` runs the layers (pydifact's tokenizer -> parser -> collection layering, Bots' syntax
-> envelope -> message grammar) in one streaming pass: the tokeniser (separators, escapes,
charset) hands each block of segments to the envelope state machine (``envelope.py``), which
feeds each message's segments to the letter type's grammar walker
(``gateway.edifact.validate.MessageValidator``) as they come. The first problem in stream order
raises ``EdifactError`` and the rest of the input is never read. The canonical letter or receipt
(``gateway.edifact.letters.to_model``) is built when ``Message.letter`` is first read.

``read_envelope_leniently`` is for the answer to a rejected interchange: a negative CONTRL must
quote the sender, control reference and message references even when the input is invalid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydifact.segments import Segment

from gateway.edifact._segment_text import TAG
from gateway.edifact.envelope import read_interchange
from gateway.edifact.envelope_segments import envelope_segments
from gateway.edifact.errors import EdifactError
from gateway.edifact.interchange import ACK_REQUEST, TEST_INDICATOR, Interchange, unb_datetime
from gateway.edifact.syntax import WHITESPACE
from gateway.edifact.tokenizer import Tokenizer

__all__ = ["EnvelopeInfo", "MessageInfo", "parse", "read_envelope_leniently", "parse_envelope"]

_WHITESPACE = frozenset(WHITESPACE)
_ENVELOPE_TAGS = frozenset(("UNB", "UNH"))  # all a receipt quotes of a refused interchange


def parse_envelope(data: bytes) -> Interchange:
    """Tokenise and check the envelope only (no letter-type validation, ``letter`` stays None)."""
    return _read(data, None)


def _read(data: bytes, check: Any) -> Interchange:
    """Tokenise block by block, running the envelope and ``check`` as the blocks come; the
    first problem stops the reading (memory: the input, one block, the segments kept)."""
    if isinstance(data, bytes | bytearray):
        _require_edifact_start(data)
    tok = Tokenizer()
    tok.feed_all(data)  # the one-shot path: whole blocks on the fast path, no copy
    return read_interchange(tok, check)


def _require_edifact_start(data: bytes | bytearray) -> None:
    """Refuse input that is not EDIFACT at all (XML, a PDF, garbage) with one clear error,
    instead of whatever the tokeniser trips over first. An interchange starts with UNA or UNB;
    a start that is at least shaped like a segment (``GIS+``, ``UNH+``) is left to the envelope,
    which names the segment found where UNB belongs (UNB_MISSING)."""
    start = 0
    while start < len(data) and data[start] in _WHITESPACE:
        start += 1
    if start == len(data):
        return  # nothing but whitespace: the envelope says "no UNB"
    head = bytes(data[start : start + 4])
    tag = head[:3].decode("latin-1")
    if tag == "UNA" or (TAG.match(tag) and head[3:] in (b"", b"+", b"'")):
        return
    shown = bytes(data[start : start + 8]).decode("latin-1")  # too short for a CPR number
    raise EdifactError(
        "NOT_EDIFACT",
        f"not an EDIFACT interchange: it starts with {shown!r}, not with UNA or UNB",
        segment_no=1,
    )


def parse(data: bytes) -> Interchange:
    """Parse and fully validate one received interchange; raises ``EdifactError``.

    The canonical letter of each message (``Message.letter``) is built when first read: a
    valid message always maps, so nothing can fail later, and routing or refusing an
    interchange does not pay for models it never reads."""
    check, to_model = _SEMANTICS or _semantics()
    interchange = _read(data, check)
    for message in interchange.messages:
        message.defer_letter(to_model)
    return interchange


_SEMANTICS: list[Any] = []


def _semantics() -> list[Any]:
    """The semantic layer (grammar tables, model), imported on first use: the grammar check the
    envelope runs on each message (the first problem raises) and the canonical mapping."""
    from gateway.edifact import letters, validate

    def check(message: Any) -> Any:
        return validate.MessageValidator(message, raise_first=True)

    _SEMANTICS[:] = [check, letters.to_model]
    return _SEMANTICS


@dataclass
class MessageInfo:
    """What a receipt quotes of one message: UNH reference, identifier, letter type."""

    ref: str
    identifier: list[str] = field(default_factory=list)
    type: str = ""

    @property
    def message_identifier(self) -> str:
        return ":".join(self.identifier)


@dataclass
class EnvelopeInfo:
    """Best-effort UNB/UNH values of a possibly invalid interchange ("" when unreadable)."""

    syntax: str = ""
    syntax_version: str = ""
    sender: str = ""
    sender_qualifier: str = ""
    recipient: str = ""
    recipient_qualifier: str = ""
    control_ref: str = ""
    prepared_at: datetime | None = None
    ack_requested: bool = False
    test: bool = False
    messages: list[MessageInfo] = field(default_factory=list)


def read_envelope_leniently(data: bytes) -> EnvelopeInfo | None:
    """The envelope values that can be read from ``data``, skipping unreadable segments;
    None when there is no readable UNB (then nobody can be answered)."""
    tok = Tokenizer(lenient=True, keep=_ENVELOPE_TAGS)
    tok.feed_all(envelope_segments(data))  # the segments in between are never tokenised
    segments = [t for block, _ in tok.blocks() for t in block if isinstance(t, Segment)]
    unb = next((s for s in segments if s.tag == "UNB"), None)
    if unb is None:
        return None
    els = unb.elements
    info = EnvelopeInfo(
        syntax=_part(els, 0, 0),
        syntax_version=_part(els, 0, 1),
        sender=_part(els, 1, 0),
        sender_qualifier=_part(els, 1, 1),
        recipient=_part(els, 2, 0),
        recipient_qualifier=_part(els, 2, 1),
        control_ref=_part(els, 4, 0),
        ack_requested=ACK_REQUEST.get(_part(els, 8, 0), False),
        test=TEST_INDICATOR.get(_part(els, 10, 0), False),
    )
    try:
        info.prepared_at = unb_datetime(_part(els, 3, 0), _part(els, 3, 1))
    except ValueError:
        info.prepared_at = None
    for seg in segments:
        if seg.tag == "UNH" and seg.elements:
            ident = seg.elements[1] if len(seg.elements) > 1 else []
            info.messages.append(
                MessageInfo(
                    ref=_part(seg.elements, 0, 0),
                    identifier=list(ident) if isinstance(ident, list) else [ident],
                    type=_part(seg.elements, 2, 0),
                )
            )
    return info


def _part(elements: list, i: int, j: int) -> str:
    """Component ``j`` of element ``i`` (0-based), "" when absent."""
    if len(elements) <= i:
        return ""
    el = elements[i]
    comps = el if isinstance(el, list) else [el]
    return comps[j] if len(comps) > j else ""
