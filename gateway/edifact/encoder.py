"""Segments -> EDIFACT bytes in the interchange's declared charset (the tokeniser's inverse).

Theory of operation
-------------------
* Each component is escaped with the release character before the component separator, the
  element separator, the release character and the segment terminator (ISO 9735 section 7.3;
  MedCom's writer escapes ``[+':?]``), and before the UNA reserved character when that is not a
  space (syntax.py explains why a space is left alone).
* Text is encoded with the syntax identifier's codec (UNOC -> ISO 8859-1, UNOY -> UTF-8, UNOA
  and UNOB -> ASCII) and checked against the same repertoire the tokeniser enforces, so what we
  write we would accept. A character outside it is an ``EdifactError`` (code ``CHARSET``) naming
  segment, element and component, never a silent replacement.
* ``encode`` writes UNA (when the interchange had or wants one), then one segment per line
  (terminator + ``\\n``), recomputes UNT counts (segments UNH..UNT) and the UNZ count, and puts a
  MEDBIN binary object's raw bytes straight after its UNO terminator, with no line break, since
  the byte count starts there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydifact.segments import Segment

from gateway.edifact.errors import EdifactError
from gateway.edifact.interchange import Interchange
from gateway.edifact.syntax import CHARSETS, DEFAULT_SEPARATORS, Charset, Separators
from gateway.edifact.tokenizer import make_segment
from gateway.errors import LocalUsageError

__all__ = ["encode", "encode_segments"]


def _escape_table(seps: Separators) -> dict[int, str]:
    chars = [seps.release, seps.component, seps.element, seps.terminator]
    if seps.reserved != " ":
        chars.append(seps.reserved)
    return {ord(c): seps.release + c for c in chars}


def _charset(syntax: str) -> Charset:
    charset = CHARSETS.get(syntax)
    if charset is None:
        raise EdifactError(
            "SYNTAX_ID",
            f"cannot write syntax identifier {syntax!r} (UNOA, UNOB, UNOC or UNOY)",
            tag="UNB",
            element=1,
            component=1,
        )
    return charset


def encode_segments(
    segments: Sequence[Segment],
    *,
    separators: Separators = DEFAULT_SEPARATORS,
    syntax: str = "UNOC",
    binaries: Mapping[int, bytes] | None = None,
    first_no: int = 1,
    newline: bytes = b"\n",
) -> bytes:
    """Encode ``segments`` as written (no counts are computed); ``binaries`` maps the index of a
    UNO segment to the raw bytes that follow it. Errors number segments from ``first_no``."""
    charset = _charset(syntax)
    table = _escape_table(separators)
    elem, comp, term = separators.element, separators.component, separators.terminator
    binaries = binaries or {}
    out = bytearray()
    for i, seg in enumerate(segments):
        parts = [seg.tag]
        for n, el in enumerate(seg.elements, 1):
            if isinstance(el, str):
                parts.append(el.translate(table))
            elif isinstance(el, list | tuple) and all(isinstance(c, str) for c in el):
                parts.append(comp.join(c.translate(table) for c in el))
            else:
                raise LocalUsageError(
                    f"{seg.tag} segment {first_no + i}, element {n}: {el!r} is neither a str "
                    "nor a list of str"
                )
        text = elem.join(parts) + term
        try:
            data = text.encode(charset.codec)
        except UnicodeEncodeError:
            data = b""
        if not data or _forbidden(data, text, charset):
            raise _locate(seg, first_no + i, charset, table)
        out += data
        if i in binaries:
            out += binaries[i]
        else:
            out += newline
    return bytes(out)


def _forbidden(data: bytes, text: str, charset: Charset) -> bool:
    if charset.forbidden_bytes.search(data) is not None:
        return True
    return charset.forbidden_chars is not None and charset.forbidden_chars.search(text) is not None


def _locate(seg: Segment, no: int, charset: Charset, table: dict[int, str]) -> EdifactError:
    """The first component the charset cannot carry."""
    place: tuple[int | None, int | None] = (None, None)
    candidates = [(None, None, seg.tag)]
    for n, el in enumerate(seg.elements, 1):
        comps = [el] if isinstance(el, str) else list(el)
        candidates += [(n, c, value) for c, value in enumerate(comps, 1)]
    bad = ""
    for n, c, value in candidates:
        for ch in value.translate(table):
            try:
                encoded = ch.encode(charset.codec)
            except UnicodeEncodeError:
                encoded = b""
            if not encoded or _forbidden(encoded, ch, charset):
                place, bad = (n, c), ch
                break
        if bad:
            break
    return EdifactError(
        "CHARSET",
        f"character {bad!r} (U+{ord(bad or '?'):04X}) cannot be written in {charset.identifier} "
        f"({charset.description})",
        tag=seg.tag,
        segment_no=no,
        element=place[0],
        component=place[1] if place[0] is not None else None,
    )


def _check_binaries(ref: str, segments: list[Segment], binaries: Mapping[int, bytes]) -> None:
    """Each binary object must follow a UNO whose length (element 4) and the next UNP's
    (element 1) give its size: a mismatch would write bytes no reader can split correctly."""
    for index, raw in binaries.items():
        uno = segments[index] if 0 <= index < len(segments) else None
        if uno is None or uno.tag != "UNO":
            raise LocalUsageError(f"message {ref}: binary object at {index} does not follow a UNO")
        unp = segments[index + 1] if index + 1 < len(segments) else None
        lengths = {_first(uno[3]), _first(unp[0]) if unp is not None and unp.tag == "UNP" else ""}
        if lengths != {str(len(raw))}:
            raise LocalUsageError(
                f"message {ref}: binary object of {len(raw)} bytes after segment {index + 2} (UNO),"
                f" but UNO element 4 / UNP element 1 say {sorted(lengths)}"
            )


def _first(element: object) -> str:
    if isinstance(element, list):
        return element[0] if element else ""
    return element if isinstance(element, str) else ""


def encode(interchange: Interchange) -> bytes:
    """The interchange as EDIFACT bytes, UNT and UNZ counts recomputed."""
    ic = interchange
    seps, syntax = ic.separators, ic.syntax
    out = bytearray()
    if ic.una or seps != DEFAULT_SEPARATORS:
        out += seps.una.encode("ascii") + b"\n"
    out += encode_segments([ic.unb], separators=seps, syntax=syntax)
    position = 1
    for message in ic.messages:
        count = len(message.segments) + 2
        unt = make_segment("UNT", [str(count), message.ref])
        segments = [message.unh, *message.segments, unt]
        _check_binaries(message.ref, message.segments, message.binaries)
        binaries = {i + 1: raw for i, raw in message.binaries.items()}
        out += encode_segments(segments, separators=seps, syntax=syntax, binaries=binaries)
        position += count
    unz = make_segment("UNZ", [str(len(ic.messages)), ic.control_ref])
    out += encode_segments([unz], separators=seps, syntax=syntax, first_no=position + 1)
    return bytes(out)
