"""The parsed interchange: an envelope (UNB) and its messages (UNH..UNT) of pydifact segments.

``Interchange`` and ``Message`` are what ``gateway.edifact.parse`` returns and what
``gateway.edifact.encode`` writes. Only what the envelope governs is modelled (UNB, UNH); the
segments between UNH and UNT stay pydifact ``Segment`` objects, and the canonical letter
(``gateway.model``) hangs off ``Message.letter``.

Faithfulness: everything a sender wrote survives a parse -> encode round trip segment for
segment. UNB elements beyond the modelled ones (and extra components) are kept in
``Interchange.unb_elements``; UNH elements after element 3 in ``Message.unh_extra``; the raw bytes
of a MEDBIN binary object in ``Message.binaries`` keyed by the index (in ``segments``) of the UNO
segment they follow. Only UNT and UNZ are recomputed, because they are derived counts.

The JSON form (``to_json``/``from_json``; ``medbro parse``/``medbro render``) holds the contract
keys of issue 2 plus extra keys to reproduce a sample exactly: interchange ``syntax_version``,
``una`` (the six service characters, or null when the sender wrote no UNA) and ``unb`` (the UNB
elements as written); message ``identifier``, ``unh_extra`` and ``binaries`` (a list of
``{"segment": index of the UNO in "segments", "base64": the raw bytes}``).

UNB dates are ``YYMMDD`` in syntax version 3: the century pivot is YY < 70 -> 20YY, else 19YY
(MedCom's converter pivots at 20, which breaks for 2021+; research/medcom.md section 2).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydifact.segments import Segment

from gateway.edifact.syntax import DEFAULT_SEPARATORS, Separators
from gateway.edifact.tokenizer import make_segment
from gateway.errors import LocalUsageError
from gateway.model import Envelope

__all__ = [
    "ACK_REQUEST",
    "TEST_INDICATOR",
    "Interchange",
    "Message",
    "from_json",
    "to_json",
    "unb_datetime",
]

CENTURY_PIVOT = 70


class _Deferred:
    """A canonical letter not built yet: ``build(message)`` makes it on first access.

    ``build`` takes the message instead of closing over it: a closure over the message, kept in
    the message, is a reference cycle, and every parse would leave its segments to the cyclic
    collector (thousands of objects per corpus pass, a tenth of the parse time)."""

    __slots__ = ("build",)

    def __init__(self, build: Callable[[Any], object | None]) -> None:
        self.build = build


class _LazyLetter:
    """``Message.letter``: a value, or a ``_Deferred`` built (once) when first read. The reader
    defers it, so a parse that only routes or refuses never pays for the canonical model."""

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        if obj is None:
            return None  # the dataclass default
        value = obj.__dict__.get("_letter")
        if type(value) is _Deferred:
            value = obj.__dict__["_letter"] = value.build(obj)
        return value

    def __set__(self, obj: Any, value: Any) -> None:
        obj.__dict__["_letter"] = value


@dataclass
class Message:
    """One UNH..UNT message; ``segments`` excludes UNH and UNT."""

    ref: str
    family: str  # UNH element 2 component 1, e.g. MEDDIS
    version: str  # UNH element 2 component 5 (MedCom version), e.g. D0133L
    type: str  # UNH element 3 (MedCom letter type), e.g. DIS01
    identifier: list[str]  # UNH element 2, all components, e.g. MEDDIS:D:93A:UN:D0133L
    segments: list[Segment] = field(default_factory=list)
    # the canonical Letter or Receipt (gateway.edifact.letters), built when first read
    letter: object | None = _LazyLetter()  # type: ignore[assignment]
    binaries: dict[int, bytes] = field(default_factory=dict)  # UNO index in segments -> raw
    unh_extra: list[Any] = field(default_factory=list)  # UNH elements after element 3

    def defer_letter(self, build: Callable[[Message], object | None]) -> None:
        """Build ``letter`` with ``build(message)`` when it is first read."""
        self.__dict__["_letter"] = _Deferred(build)

    @property
    def message_identifier(self) -> str:
        """UNH element 2 as written, e.g. ``MEDDIS:D:93A:UN:D0133L`` (what CONTRL UCM quotes)."""
        return ":".join(self.identifier)

    @property
    def unh(self) -> Segment:
        return make_segment("UNH", [self.ref, list(self.identifier), self.type, *self.unh_extra])


@dataclass
class Interchange:
    """One UNB..UNZ interchange."""

    envelope: Envelope
    messages: list[Message] = field(default_factory=list)
    una: bool = True  # write (or: the sender wrote) a UNA service string advice
    separators: Separators = DEFAULT_SEPARATORS
    unb_elements: list[Any] = field(default_factory=list)  # UNB as received (kept verbatim)

    @property
    def syntax(self) -> str:
        return self.envelope.syntax

    @property
    def sender(self) -> str:
        return self.envelope.sender

    @property
    def sender_qualifier(self) -> str:
        return self.envelope.sender_qualifier

    @property
    def recipient(self) -> str:
        return self.envelope.recipient

    @property
    def recipient_qualifier(self) -> str:
        return self.envelope.recipient_qualifier

    @property
    def prepared_at(self) -> datetime:
        return self.envelope.prepared_at

    @property
    def control_ref(self) -> str:
        return self.envelope.control_ref

    @property
    def ack_requested(self) -> bool:
        return self.envelope.ack_requested

    @property
    def test(self) -> bool:
        return self.envelope.test

    @property
    def unb(self) -> Segment:
        """The UNB segment: the envelope's values laid over the elements as received."""
        env = self.envelope
        els = list(self.unb_elements) or [""] * 5
        els += [""] * (5 - len(els))
        date = env.prepared_at.strftime("%Y%m%d" if env.syntax_version >= "4" else "%y%m%d")
        els[0] = _overlay(els[0], [env.syntax, env.syntax_version])
        els[1] = _overlay(els[1], [env.sender, env.sender_qualifier])
        els[2] = _overlay(els[2], [env.recipient, env.recipient_qualifier])
        els[3] = _overlay(els[3], [date, env.prepared_at.strftime("%H%M")])
        els[4] = env.control_ref
        # a UNB medbro composes always carries element 9, as MedCom's converter writes it (``0``
        # for minuspositivkvitt); a received one is only changed where the model says otherwise
        if not self.unb_elements or ACK_REQUEST.get(_simple_at(els, 8)) is not env.ack_requested:
            els += [""] * (9 - len(els))
            els[8] = ACK_REQUEST_WRITTEN[env.ack_requested]
        if TEST_INDICATOR.get(_simple_at(els, 10)) is not env.test:
            els += [""] * (11 - len(els))
            els[10] = TEST_INDICATOR_WRITTEN if env.test else ""
            while len(els) > 9 and els[-1] == "":
                els.pop()
        return make_segment("UNB", els)


# UNB element 9 (ISO 9735 data element 0031, acknowledgement request) and element 11 (0035,
# test indicator): the values a received UNB may hold -> the model's flag, and what is written.
ACK_REQUEST = {"": False, "0": False, "1": True}
ACK_REQUEST_WRITTEN = {False: "0", True: "1"}
TEST_INDICATOR = {"": False, "1": True}
TEST_INDICATOR_WRITTEN = "1"


def _simple_at(els: list[Any], index: int) -> str:
    """Element ``index`` (0-based) of a UNB as a simple value, "" when absent."""
    found = els[index] if len(els) > index else ""
    return found if isinstance(found, str) else ":".join(found)


def _overlay(element: Any, values: list[str]) -> Any:
    """Replace the leading components of ``element`` by ``values``, keeping any further ones."""
    comps = list(element) if isinstance(element, list) else [element]
    comps = values + comps[len(values) :]
    while len(comps) > 1 and not comps[-1]:
        comps.pop()
    return comps if len(comps) > 1 else comps[0]


def unb_datetime(date: str, time: str) -> datetime:
    """UNB element 4: ``YYMMDD`` (or ``CCYYMMDD``) and ``HHMM``; raises ValueError when invalid."""
    digits = (date + time).isascii() and date.isdigit() and time.isdigit()
    if not (digits and len(time) == 4 and len(date) in (6, 8)):
        raise ValueError(f"{date}:{time} is not YYMMDD:HHMM")
    # the digits read as two numbers and taken apart by arithmetic (one int() per field costs
    # more than the rest); datetime() validates ranges (month 13, Feb 30, hour 24 raise
    # ValueError); strptime is slower still
    year_month, day = divmod(int(date), 100)
    year, month = divmod(year_month, 100)
    if len(date) == 6:
        year += 2000 if year < CENTURY_PIVOT else 1900
    hour, minute = divmod(int(time), 100)
    return datetime(year, month, day, hour, minute)


# -- JSON form (medbro parse / medbro render) ----------------------------------------------


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M")


def to_json(interchange: Interchange) -> dict[str, Any]:
    """The ``medbro parse`` document; ``letter`` through ``gateway.model_json.dump``."""
    ic = interchange
    if any(m.letter is not None for m in ic.messages):
        from gateway.model_json import dump  # the canonical model's JSON form
    else:
        dump = None  # type: ignore[assignment]
    return {
        "interchange": {
            "syntax": ic.syntax,
            "sender": ic.sender,
            "sender_qualifier": ic.sender_qualifier,
            "recipient": ic.recipient,
            "recipient_qualifier": ic.recipient_qualifier,
            "prepared_at": _iso(ic.prepared_at),
            "control_ref": ic.control_ref,
            "ack_requested": ic.ack_requested,
            "test": ic.test,
            "syntax_version": ic.envelope.syntax_version,
            "una": ic.separators.una[3:] if ic.una else None,
            "unb": ic.unb.elements,
        },
        "messages": [
            {
                "ref": m.ref,
                "family": m.family,
                "version": m.version,
                "type": m.type,
                "segments": [[s.tag, *s.elements] for s in m.segments],
                "letter": None if m.letter is None else dump(m.letter),  # type: ignore[misc]
                "identifier": m.identifier,
                "unh_extra": m.unh_extra,
                "binaries": [
                    {"segment": i, "base64": base64.b64encode(raw).decode("ascii")}
                    for i, raw in sorted(m.binaries.items())
                ],
            }
            for m in ic.messages
        ],
    }


def from_json(doc: dict[str, Any]) -> Interchange:
    """An ``Interchange`` from a ``medbro parse`` document (``letter`` is ignored: the segments
    are the source of truth); LocalUsageError naming the bad key."""
    try:
        head = doc["interchange"]
        una = head.get("una")
        envelope = Envelope(
            sender=_text(head["sender"], "sender"),
            recipient=_text(head["recipient"], "recipient"),
            control_ref=_text(head["control_ref"], "control_ref"),
            prepared_at=datetime.fromisoformat(head["prepared_at"]),
            ack_requested=bool(head.get("ack_requested", False)),
            sender_qualifier=_text(head.get("sender_qualifier", "14"), "sender_qualifier"),
            recipient_qualifier=_text(head.get("recipient_qualifier", "14"), "recipient_qualifier"),
            syntax=_text(head.get("syntax", "UNOC"), "syntax"),
            syntax_version=_text(head.get("syntax_version", "3"), "syntax_version"),
            test=bool(head.get("test", False)),
        )
        messages = [_message_from_json(m, n) for n, m in enumerate(doc["messages"], 1)]
        return Interchange(
            envelope=envelope,
            messages=messages,
            una="una" not in head or una is not None,
            separators=Separators(*una) if una else DEFAULT_SEPARATORS,
            unb_elements=[_element(e, "unb") for e in head.get("unb", [])],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise LocalUsageError(f"not a medbro parse document: {exc!r}") from exc


def _message_from_json(m: dict[str, Any], n: int) -> Message:
    identifier = m.get("identifier") or [m["family"], "D", "93A", "UN", m["version"]]
    segments = []
    for i, raw in enumerate(m["segments"], 1):
        if not isinstance(raw, list) or not raw or not isinstance(raw[0], str):
            raise ValueError(f"message {n} segment {i}: expected [tag, element, ...]")
        segments.append(make_segment(raw[0], [_element(e, f"{raw[0]}") for e in raw[1:]]))
    binaries = {int(b["segment"]): base64.b64decode(b["base64"]) for b in m.get("binaries", [])}
    return Message(
        ref=_text(m["ref"], "ref"),
        family=_text(m["family"], "family"),
        version=_text(m["version"], "version"),
        type=_text(m["type"], "type"),
        identifier=[_text(c, "identifier") for c in identifier],
        segments=segments,
        binaries=binaries,
        unh_extra=[_element(e, "unh_extra") for e in m.get("unh_extra", [])],
    )


def _text(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{key}: expected a string, got {value!r}")
    return value


def _element(value: Any, where: str) -> Any:
    if isinstance(value, list):
        return [_text(c, where) for c in value]
    return _text(value, where)
