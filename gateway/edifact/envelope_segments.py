"""The UNB and UNH segments of an interchange, found without tokenising the segments between.

``read_envelope_leniently`` answers a refused interchange: it needs UNB and every UNH, nothing
else. Tokenising a hostile body of a million tiny segments to find them costs up to a second
per read (and a refusal reads it twice); finding them is one C-level regex pass for the rare
tags. ``envelope_segments(data)`` returns a shorter input that the lenient tokeniser reads to
the same UNB and UNH segments: the UNA (if any), then every segment that starts ``UNB`` or
``UNH`` right after an unescaped terminator and optional whitespace (or first), in order, each
up to its own unescaped terminator. The tokeniser still decides what each of them is (tag,
charset from UNB, escapes), so only the segments in between are skipped.

A MEDBIN binary object (after ``UNO``) is raw bytes, not segments: a ``'UNH`` inside one is no
segment start, so input with a segment starting ``UNO`` is returned unchanged, as is input whose
UNA cannot be read (the tokeniser reports it).
"""

from __future__ import annotations

import re

from gateway.edifact._segment_text import terminator_escaped
from gateway.edifact.errors import EdifactError
from gateway.edifact.syntax import DEFAULT_SEPARATORS, WHITESPACE, separators_from_una

__all__ = ["envelope_segments"]

_TAGS = (b"UNB", b"UNH", b"UNO")
_TAG = re.compile(rb"UN[BHO]")  # a candidate; a segment start when an unescaped terminator
# (and whitespace) stands before it. Searching the rare tag, not the million terminators, keeps
# the pass at C speed.


def envelope_segments(data: bytes | bytearray) -> bytes | bytearray:
    """``data`` reduced to its UNA and UNB/UNH segments (see the module docstring), or ``data``
    itself when it cannot be reduced safely."""
    if not isinstance(data, bytes | bytearray):
        return data
    start = _skip_whitespace(data, 0)
    seps = DEFAULT_SEPARATORS
    if data[start : start + 3] == b"UNA":
        try:
            seps = separators_from_una(bytes(data[start : start + 9]))
        except EdifactError:
            return data
        start += 9
    term = ord(seps.terminator)
    rel = ord(seps.release)
    parts = [data[:start]]
    first = _skip_whitespace(data, start)
    found = [first] if data[first : first + 3] in _TAGS else []
    for match in _TAG.finditer(data, first + 1):
        at = q = match.start()
        while q > start and data[q - 1] in WHITESPACE:  # separators are never whitespace
            q -= 1
        q -= 1  # where the terminator before the segment must be
        if q >= start and data[q] == term and not terminator_escaped(data, q, start, rel):
            found.append(at)
    for at in found:
        if data[at : at + 3] == b"UNO":
            return data  # a binary object may follow: only the full scan knows where it ends
        parts.append(_segment(data, at, term, rel))
    return b"".join(parts)


def _skip_whitespace(data: bytes | bytearray, at: int) -> int:
    while at < len(data) and data[at] in WHITESPACE:
        at += 1
    return at


def _segment(data: bytes | bytearray, at: int, term: int, rel: int) -> bytes:
    """The segment starting at ``at``, up to and including its unescaped terminator (to the
    end of the input when it has none: the tokeniser then reports it unterminated)."""
    q = data.find(term, at)
    while q != -1 and data[q - 1] == rel and terminator_escaped(data, q, at, rel):
        q = data.find(term, q + 1)
    return bytes(data[at:] if q == -1 else data[at : q + 1])
