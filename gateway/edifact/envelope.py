"""The interchange envelope as a state machine: tokens -> ``Interchange``, or an ``EdifactError``.

Theory of operation
-------------------
ISO 9735 v3 section 6 and MedCom (research/medcom.md section 2) give the envelope::

    [UNA] UNB (UNH segment... [UNO <raw bytes> UNP] ... UNT)+ UNZ

``TRANSITIONS`` is that grammar as data: ``{state: {event kind: next state}}``. Every pair not in
it is illegal, and ``ILLEGAL`` names the error code and problem for it (a generic message names
state and event for the rest). All transitions live in this module (h11 ``_state.py`` Rule 1).

Checks beyond the order of segments, each with its code (docs/edifact.md has the list):

* UNB: mandatory elements 1-5 present (``UNB_ELEMENT``), date/time valid, control reference at
  most 14 characters (ISO 9735 data element 0020, an..14), ack request (element 9) empty, 0 or 1,
  test indicator (element 11) empty or 1 (the tables ``interchange.ACK_REQUEST`` and
  ``TEST_INDICATOR``).
* A CONTRL in an interchange that requests a receipt (``CONTRL_ACK_REQUEST``, named at UNB
  element 9): a receipt is never receipted, and MedCom's converter refuses a CONTRL asking for one.
* UNH: reference (0062, an..14), message identifier components 1-5 (type, version, release,
  agency, MedCom version) and element 3 (MedCom letter type) present (``UNH_EMPTY``,
  ``UNH_ELEMENT``).
* UNT: count = segments UNH..UNT inclusive (``UNT_COUNT``), reference = UNH's (``UNH_UNT_REF``).
* UNZ: at least one message in the interchange (``NO_MESSAGES``: MedCom writes one letter per
  interchange, and an empty one has nothing to deliver or acknowledge), count = number of
  messages (``UNZ_COUNT``), reference = UNB's (``UNZ_REF``).
* UNO/UNP (MEDBIN): UNP follows the binary object, UNP element 1 = the byte count and element 2
  = UNO element 1 (``BIN_UNP``).

Segment numbers follow ``tokenizer.SegmentCounter``: inside a message from UNH = 1, outside it
the position in the interchange with UNB = 1.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any, NoReturn, Protocol

from pydifact.segments import Segment

from gateway.edifact.errors import EdifactError
from gateway.edifact.interchange import (
    ACK_REQUEST,
    TEST_INDICATOR,
    Interchange,
    Message,
    unb_datetime,
)
from gateway.edifact.syntax import DEFAULT_SEPARATORS, Separators
from gateway.edifact.tokenizer import BinaryObject, SegmentCounter, Token, Tokenizer
from gateway.model import Envelope

__all__ = [
    "ILLEGAL",
    "TRANSITIONS",
    "EnvelopeBuilder",
    "Kind",
    "State",
    "build_interchange",
    "read_interchange",
    "receipt_requested_for_receipt",
    "state_diagram",
]


class MessageCheck(Protocol):
    """The letter grammar run on one message as it streams (``validate.MessageValidator``)."""

    def start(self) -> None: ...
    def feed(self, seg: Any, no: int) -> None: ...
    def feed_many(self, segments: list[Any], first_no: int) -> None: ...
    def finish(self, end_no: int) -> None: ...


class State(enum.Enum):
    __hash__ = object.__hash__  # members are singletons: the C hash, for the tables' lookups

    START = "start"
    INTERCHANGE = "in interchange"
    MESSAGE = "in message"
    CLOSED = "after UNZ"


class Kind(enum.Enum):
    __hash__ = object.__hash__  # members are singletons: the C hash, for the tables' lookups

    UNB = "UNB"
    UNH = "UNH"
    UNT = "UNT"
    UNZ = "UNZ"
    SEGMENT = "segment"
    BINARY = "binary object"
    END = "end of input"


TRANSITIONS: dict[State, dict[Kind, State]] = {
    State.START: {Kind.UNB: State.INTERCHANGE},
    State.INTERCHANGE: {Kind.UNH: State.MESSAGE, Kind.UNZ: State.CLOSED},
    State.MESSAGE: {
        Kind.SEGMENT: State.MESSAGE,
        Kind.BINARY: State.MESSAGE,
        Kind.UNT: State.INTERCHANGE,
    },
    State.CLOSED: {Kind.END: State.CLOSED},
}

ILLEGAL: dict[tuple[State, Kind], tuple[str, str]] = {
    **{(State.START, k): ("UNB_MISSING", "the interchange must start with UNB") for k in Kind},
    (State.START, Kind.END): ("UNB_MISSING", "no UNB: the input holds no interchange"),
    (State.INTERCHANGE, Kind.UNB): ("UNB_DUPLICATE", "a second UNB inside the interchange"),
    (State.MESSAGE, Kind.UNB): ("UNB_DUPLICATE", "a second UNB inside the interchange"),
    (State.INTERCHANGE, Kind.SEGMENT): ("UNH_MISSING", "segment outside a message (UNH missing)"),
    (State.INTERCHANGE, Kind.BINARY): ("UNH_MISSING", "binary object outside a message"),
    (State.INTERCHANGE, Kind.UNT): ("UNH_MISSING", "UNT without a UNH"),
    (State.INTERCHANGE, Kind.END): ("UNZ_MISSING", "the interchange ends without UNZ"),
    (State.MESSAGE, Kind.UNH): ("UNT_MISSING", "UNH before the UNT of the open message"),
    (State.MESSAGE, Kind.UNZ): ("UNT_MISSING", "UNZ before the UNT of the open message"),
    (State.MESSAGE, Kind.END): ("UNT_MISSING", "the interchange ends inside a message"),
    **{(State.CLOSED, k): ("AFTER_UNZ", "data after UNZ") for k in Kind if k is not Kind.END},
}

_MISSING_TAG = {
    State.START: "UNB",
    State.INTERCHANGE: "UNZ",
    State.MESSAGE: "UNT",
    State.CLOSED: None,
}
_KINDS = {"UNB": Kind.UNB, "UNH": Kind.UNH, "UNT": Kind.UNT, "UNZ": Kind.UNZ}
# the segments ``_segment`` treats apart from body segments (UNO/UNP frame a binary object)
_SERVICE_TAGS = frozenset((*_KINDS, "UNO", "UNP"))
_UNB_NAMES = (
    "syntax identifier",
    "interchange sender",
    "interchange recipient",
    "date and time of preparation",
    "interchange control reference",
)


class EnvelopeBuilder:
    """Feed tokens in order; ``finish()`` returns the ``Interchange``. Raises on the first error."""

    def __init__(
        self,
        separators: Separators,
        una: bool,
        check: Callable[[Message], MessageCheck] | None = None,
    ) -> None:
        self.state = State.START
        self._check_factory = check  # the letter grammar, run on each message as it streams
        self._check: MessageCheck | None = None
        self.counter = SegmentCounter()
        self._separators = separators
        self._una = una
        self._unb: Segment | None = None
        self._envelope: Envelope | None = None
        self._messages: list[Message] = []
        self._current: Message | None = None
        self._awaiting_unp: tuple[Segment, BinaryObject] | None = None
        self._last_uno: Segment | None = None

    # -- transitions -----------------------------------------------------------------------

    def _move(self, kind: Kind, tag: str | None, no: int | None) -> None:
        nxt = TRANSITIONS[self.state].get(kind)
        if nxt is None:
            code, problem = ILLEGAL.get(
                (self.state, kind), ("ENVELOPE", f"{kind.value} not allowed {self.state.value}")
            )
            raise self._error(code, problem, tag=tag, segment_no=no)
        self.state = nxt

    def fail(self, error: EdifactError) -> NoReturn:
        """Raise a tokeniser ``error`` found after the tokens fed so far (in their message)."""
        if error.message_ref is None and self._current is not None:
            error.message_ref = self._current.ref
        raise error

    def _error(self, code: str, problem: str, **where: object) -> EdifactError:
        if self._current is not None:
            where.setdefault("message_ref", self._current.ref)
        return EdifactError(code, problem, **where)  # type: ignore[arg-type]

    # -- events ----------------------------------------------------------------------------

    def feed(self, tokens: list[Token]) -> None:
        """Handle tokens in order. The hot path: inside a message, runs of ordinary segments
        (not a service segment of ``_SERVICE_TAGS``, which ``_segment`` handles) are appended
        without going through the transition table."""
        i, n = 0, len(tokens)
        counter = self.counter
        while i < n:
            if self.state is State.MESSAGE and self._awaiting_unp is None:
                assert self._current is not None and counter.message_no is not None
                start = i
                while i < n:
                    token = tokens[i]
                    if type(token) is not Segment or (
                        token.tag[0] == "U" and token.tag in _SERVICE_TAGS
                    ):
                        break
                    i += 1
                if i > start:
                    run = tokens[start:i]
                    if self._check is not None:
                        # the grammar walks the run in one call, raising at the first wrong one
                        self._check.feed_many(run, counter.message_no + 1)
                    self._current.segments += run
                counter.interchange_no += i - start
                counter.message_no += i - start
                if i == n:
                    break
            token = tokens[i]
            if type(token) is Segment:
                self._segment(token)
            else:
                assert isinstance(token, BinaryObject)
                self._binary(token)
            i += 1

    def _segment(self, seg: Segment) -> None:
        tag = seg.tag
        no = self.counter.count(tag)
        kind = _KINDS.get(tag, Kind.SEGMENT)
        if self._awaiting_unp is not None and tag != "UNP":
            raise self._error(
                "BIN_UNP", "UNP must follow the binary object", tag=tag, segment_no=no
            )
        self._move(kind, tag, no)
        if kind is Kind.UNB:
            self._open_interchange(seg, no)
        elif kind is Kind.UNH:
            self._open_message(seg, no)
        elif kind is Kind.UNT:
            self._close_message(seg, no)
        elif kind is Kind.UNZ:
            self._close_interchange(seg, no)
        else:
            assert self._current is not None
            if tag == "UNP":
                self._check_unp(seg, no)
            elif tag == "UNO":
                self._last_uno = seg
            if self._check is not None:
                self._check.feed(seg, no)
            self._current.segments.append(seg)

    def _binary(self, obj: BinaryObject) -> None:
        self._move(Kind.BINARY, "UNO", self.counter.message_no)
        assert self._current is not None and self._last_uno is not None
        self._current.binaries[len(self._current.segments) - 1] = obj.data
        self._awaiting_unp = (self._last_uno, obj)

    def finish(self) -> Interchange:
        """End of input: the interchange must be closed by UNZ."""
        self._move(Kind.END, _MISSING_TAG[self.state], None)
        assert self._envelope is not None
        return Interchange(
            envelope=self._envelope,
            messages=self._messages,
            una=self._una,
            separators=self._separators,
            unb_elements=list(self._unb.elements) if self._unb is not None else [],
        )

    # -- service segments ------------------------------------------------------------------

    def _open_interchange(self, seg: Segment, no: int) -> None:
        els = seg.elements
        for i, name in enumerate(_UNB_NAMES):
            if len(els) <= i or _first(els[i]) == "":
                raise self._error(
                    "UNB_ELEMENT", f"{name} missing", tag="UNB", segment_no=no, element=i + 1
                )
        syntax, version = _first_two(els[0])
        if not (version.isascii() and version.isdigit()):
            raise self._error(
                "UNB_ELEMENT",
                f"syntax version {version!r} is not a number",
                tag="UNB",
                segment_no=no,
                element=1,
                component=2,
            )
        try:
            prepared = unb_datetime(*_first_two(els[3]))
        except ValueError as exc:
            raise self._error(
                "UNB_ELEMENT", str(exc), tag="UNB", segment_no=no, element=4
            ) from None
        control_ref = self._simple(els, 4, "UNB", no, 14)
        ack = self._flag(els, 8, ACK_REQUEST, "acknowledgement request", no)
        test = self._flag(els, 10, TEST_INDICATOR, "test indicator", no)
        sender, sender_qualifier = _first_two(els[1])
        recipient, recipient_qualifier = _first_two(els[2])
        self._unb = seg
        self._envelope = Envelope(
            sender=sender,
            recipient=recipient,
            control_ref=control_ref,
            prepared_at=prepared,
            ack_requested=ack,
            sender_qualifier=sender_qualifier,
            recipient_qualifier=recipient_qualifier,
            syntax=syntax,
            syntax_version=version,
            test=test,
        )

    def _open_message(self, seg: Segment, no: int) -> None:
        els = seg.elements
        if not els or els == [""]:
            raise self._error(
                "UNH_EMPTY",
                "message reference and message identifier missing",
                tag="UNH",
                segment_no=no,
            )
        ref = self._simple(els, 0, "UNH", no, 14)
        ident = els[1] if len(els) > 1 else ""
        comps = ident if isinstance(ident, list) else [ident]
        names = ("message type", "version", "release", "controlling agency", "MedCom version")
        for i, name in enumerate(names):
            if len(comps) <= i or not comps[i]:
                raise self._error(
                    "UNH_ELEMENT",
                    f"message identifier: {name} missing",
                    tag="UNH",
                    segment_no=no,
                    element=2,
                    component=i + 1,
                    message_ref=ref,
                )
        if len(els) < 3 or not els[2]:
            raise self._error(
                "UNH_ELEMENT",
                "letter type (element 3, e.g. DIS01) missing",
                tag="UNH",
                segment_no=no,
                element=3,
                message_ref=ref,
            )
        letter_type = self._simple(els, 2, "UNH", no, 35)
        assert self._envelope is not None
        if receipt_requested_for_receipt(comps[0], self._envelope.ack_requested):
            raise self._error(
                "CONTRL_ACK_REQUEST",
                f"a CONTRL receipt (message {ref}) must not request a receipt: UNB element 9 "
                "must be 0 or absent",
                tag="UNB",
                segment_no=1,
                element=9,
                message_ref=ref,
            )
        self._current = Message(
            ref=ref,
            family=comps[0],
            version=comps[4],
            type=letter_type,
            identifier=list(comps),
            unh_extra=list(els[3:]),
        )
        if self._check_factory is not None:
            self._check = self._check_factory(self._current)
            self._check.start()

    def _close_message(self, seg: Segment, no: int) -> None:
        assert self._current is not None
        els = seg.elements
        if not els or els == [""]:
            raise self._error(
                "UNT_EMPTY", "segment count and message reference missing", tag="UNT", segment_no=no
            )
        count = self._simple(els, 0, "UNT", no)
        if not (count.isascii() and count.isdigit()):
            raise self._error(
                "UNT_ELEMENT",
                f"segment count {count!r} is not a number",
                tag="UNT",
                segment_no=no,
                element=1,
            )
        ref = self._simple(els, 1, "UNT", no)
        if ref != self._current.ref:
            raise self._error(
                "UNH_UNT_REF",
                f"reference {ref} does not match UNH reference {self._current.ref}",
                tag="UNT",
                segment_no=no,
                element=2,
            )
        if int(count) != no:
            raise self._error(
                "UNT_COUNT", f"count {count} does not match {no} segments", tag="UNT", segment_no=no
            )
        if self._check is not None:
            self._check.finish(no)
            self._check = None
        self._messages.append(self._current)
        self._current = None

    def _close_interchange(self, seg: Segment, no: int) -> None:
        assert self._envelope is not None
        els = seg.elements
        if not els or els == [""]:
            raise self._error(
                "UNZ_EMPTY", "message count and control reference missing", tag="UNZ", segment_no=no
            )
        count = self._simple(els, 0, "UNZ", no)
        ref = self._simple(els, 1, "UNZ", no)
        if ref != self._envelope.control_ref:
            raise self._error(
                "UNZ_REF",
                f"reference {ref} does not match UNB control reference "
                f"{self._envelope.control_ref}",
                tag="UNZ",
                segment_no=no,
                element=2,
            )
        n = len(self._messages)
        if n == 0:
            raise self._error(
                "NO_MESSAGES",
                f"interchange {ref} contains no messages (UNB..UNZ needs at least one UNH..UNT)",
                tag="UNZ",
                segment_no=no,
            )
        if not (count.isascii() and count.isdigit()) or int(count) != n:
            raise self._error(
                "UNZ_COUNT",
                f"count {count} does not match {n} message{'s' if n != 1 else ''}",
                tag="UNZ",
                segment_no=no,
            )

    def _check_unp(self, seg: Segment, no: int) -> None:
        if self._awaiting_unp is None:
            raise self._error("BIN_UNP", "UNP without a binary object", tag="UNP", segment_no=no)
        uno, obj = self._awaiting_unp
        self._awaiting_unp = None
        length = _first(seg.elements[0]) if seg.elements else ""
        if length != str(len(obj.data)):
            raise self._error(
                "BIN_UNP",
                f"length {length!r} does not match the {len(obj.data)} bytes of the binary object",
                tag="UNP",
                segment_no=no,
                element=1,
            )
        ref = _first(seg.elements[1]) if len(seg.elements) > 1 else ""
        if ref != _first(uno.elements[0]):
            raise self._error(
                "BIN_UNP",
                f"reference {ref!r} does not match UNO reference {_first(uno.elements[0])!r}",
                tag="UNP",
                segment_no=no,
                element=2,
            )

    def _flag(self, els: list, i: int, table: dict[str, bool], name: str, no: int) -> bool:
        """UNB element ``i`` (0-based) read through ``table`` (values allowed -> flag)."""
        value = els[i] if len(els) > i else ""
        if not isinstance(value, str) or value not in table:
            shown = value if isinstance(value, str) else ":".join(value)
            allowed = " or ".join(repr(v) for v in table if v) + " (or absent)"
            raise self._error(
                "UNB_ELEMENT",
                f"{name} {shown!r} is not {allowed}",
                tag="UNB",
                segment_no=no,
                element=i + 1,
            )
        return table[value]

    def _simple(self, els: list, i: int, tag: str, no: int, max_len: int | None = None) -> str:
        """Element ``i`` (0-based) as a mandatory simple value."""
        value = els[i] if len(els) > i else ""
        if type(value) is str and value and (max_len is None or len(value) <= max_len):
            return value  # the common case, decided before any error is prepared
        where = {"tag": tag, "segment_no": no, "element": i + 1}
        if isinstance(value, list):
            raise self._error(
                f"{tag}_ELEMENT",
                f"expected a single value, found components {':'.join(value)!r}",
                **where,
            )
        if value == "":
            raise self._error(f"{tag}_ELEMENT", "mandatory element missing", **where)
        if max_len is not None and len(value) > max_len:
            raise self._error(
                f"{tag}_ELEMENT", f"{value!r} is longer than {max_len} characters", **where
            )
        return value


def receipt_requested_for_receipt(family: str, ack_requested: bool) -> bool:
    """A CONTRL in an interchange that asks for a receipt: invalid (MedCom never receipts a
    receipt, and its converter refuses a CONTRL with anything but minuspositivkvitt)."""
    return family == "CONTRL" and ack_requested


def _first(element: object) -> str:
    return element if type(element) is str else element[0]  # type: ignore[index]


def _first_two(element: object) -> tuple[str, str]:
    """Components 1 and 2 of an element, "" when absent."""
    if type(element) is str:
        return element, ""
    n = len(element)  # type: ignore[arg-type]
    return (element[0] if n else ""), (element[1] if n > 1 else "")  # type: ignore[index]


def state_diagram() -> str:
    """The envelope grammar as a Mermaid state diagram, drawn from ``TRANSITIONS`` (for the
    docs, as h11 draws its diagrams from its tables)."""
    lines = ["stateDiagram-v2", "    [*] --> START"]
    for state, moves in TRANSITIONS.items():
        for kind, target in moves.items():
            lines.append(f"    {state.name} --> {target.name}: {kind.value}")
    lines.append("    CLOSED --> [*]")
    return "\n".join(lines)


def build_interchange(
    tokens: list[Token], separators: Separators, una: bool, error: EdifactError | None = None
) -> Interchange:
    """Run the envelope over ``tokens``; a tokeniser ``error`` after them is raised in its place
    (so an envelope problem earlier in the stream is reported first)."""
    builder = EnvelopeBuilder(separators, una)
    builder.feed(tokens)
    if error is not None:
        builder.fail(error)
    return builder.finish()


def read_interchange(
    tokenizer: Tokenizer, check: Callable[[Message], MessageCheck] | None = None
) -> Interchange:
    """Run the envelope (and ``check``, the letter grammar, on each message) over the
    tokeniser's events block by block: the first problem in stream order is raised as soon as
    its block is read, so the rest of the input is never tokenised."""
    builder: EnvelopeBuilder | None = None
    for tokens, error in tokenizer.blocks():
        if builder is None:
            seps = tokenizer.separators or DEFAULT_SEPARATORS
            builder = EnvelopeBuilder(seps, tokenizer.una, check)
        builder.feed(tokens)
        if error is not None:
            builder.fail(error)
    if builder is None:
        builder = EnvelopeBuilder(tokenizer.separators or DEFAULT_SEPARATORS, tokenizer.una)
    return builder.finish()
