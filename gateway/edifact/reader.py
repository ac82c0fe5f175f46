"""The codec's entry points for received bytes: ``parse`` and ``read_envelope_leniently``.

``parse`` runs the layers in order (pydifact's tokenizer -> parser -> collection layering, Bots'
syntax -> envelope -> message grammar): tokeniser (separators, escapes, charset), envelope state
machine (``envelope.py``), then per message the deep validation of the letter type's grammar
(``gateway.edifact.validate.validate_message``) and the canonical letter or receipt
(``gateway.edifact.letters.to_model``). The first problem raises ``EdifactError``.

``read_envelope_leniently`` is for the answer to a rejected interchange: a negative CONTRL must
quote the sender, control reference and message references even when the input is invalid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pydifact.segments import Segment

from gateway.edifact._segment_text import TAG
from gateway.edifact.envelope import build_interchange
from gateway.edifact.errors import EdifactError
from gateway.edifact.interchange import ACK_REQUEST, TEST_INDICATOR, Interchange, unb_datetime
from gateway.edifact.syntax import DEFAULT_SEPARATORS, WHITESPACE
from gateway.edifact.tokenizer import Tokenizer

__all__ = ["EnvelopeInfo", "MessageInfo", "parse", "read_envelope_leniently", "parse_envelope"]

_WHITESPACE = frozenset(WHITESPACE)


def parse_envelope(data: bytes) -> Interchange:
    """Tokenise and check the envelope only (no letter-type validation, ``letter`` stays None)."""
    if isinstance(data, bytes | bytearray):
        _require_edifact_start(data)
    tok = Tokenizer()
    tok.feed_all(data)  # the one-shot path: the tokeniser's whole-buffer scan, no copy
    tokens, error = tok.drain()
    return build_interchange(tokens, tok.separators or DEFAULT_SEPARATORS, tok.una, error)


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
    """Parse and fully validate one received interchange; raises ``EdifactError``."""
    from gateway.edifact import letters, validate  # the semantic layer (grammar tables, model)

    interchange = parse_envelope(data)
    for message in interchange.messages:
        validate.validate_message(message)
        message.letter = letters.to_model(message, interchange)
    return interchange


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
    tok = Tokenizer(lenient=True)
    tok.feed_all(data)
    tokens, _error = tok.drain()
    segments = [t for t in tokens if isinstance(t, Segment)]
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
