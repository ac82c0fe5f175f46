"""Service characters (UNA) and syntax identifiers (UNOA/UNOB/UNOC/UNOY) of an interchange.

Theory of operation
-------------------
ISO 9735 (EDIFACT syntax, v3) section 7 defines six service characters. The optional UNA
"service string advice" (9 bytes: ``UNA`` + component separator, data element separator,
decimal mark, release character, reserved/repetition character, segment terminator) overrides
the defaults ``:+.? '``. MedCom always writes ``UNA:+.? '`` and its reader only warns when UNA
is absent (research/medcom.md section 2).

The release character ``?`` may precede exactly five characters: the component separator, the
element separator, the release character itself, the segment terminator, and the UNA reserved
(syntax v4: repetition) character. Anything else after ``?`` is an error, as in MedCom's reader
("Wrong use of escape", edifact_converter ``edi_reader.rb``). The encoder escapes the first four
always, and the fifth only when it is not a space (a space is the v3 "reserved" filler and MedCom
never escapes it).

The syntax identifier (UNB element 1 component 1) fixes the character repertoire (ISO 9735
annex; UN/ECE levels A, B and C; ISO 10646 for UNOY). The codec decodes bytes itself from it:

* ``UNOA``: level A, upper-case letters, digits, space and ``.,-()/='+:?!"%&*;<>``; ASCII.
* ``UNOB``: level B, level A plus lower-case letters; ASCII. (The IS1-IS4 control characters that
  level B allows as separators are not supported: MedCom always uses the printable ones.)
* ``UNOC``: ISO 8859-1 graphic characters, bytes 0x20-0x7E and 0xA0-0xFF; C0 and C1 control
  bytes are an error (sample ``DIS20_ERROR_ENC0``: UTF-8 bytes inside a Latin-1 file).
* ``UNOY``: ISO 10646 in UTF-8; invalid UTF-8 and control characters are errors.

CR, LF, space and tab *between* segments are ignored (MedCom's ``eatCrap``); inside a segment they
are data and therefore, except space, charset errors.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from functools import cached_property

from gateway.edifact.errors import EdifactError

#: Bytes skipped between segments.
WHITESPACE = b" \t\r\n"


@dataclass(frozen=True)
class Separators:
    """The six service characters, as str (the decoded segment text uses the same ASCII chars)."""

    component: str = ":"
    element: str = "+"
    decimal: str = "."
    release: str = "?"
    reserved: str = " "
    terminator: str = "'"

    @property
    def una(self) -> str:
        """The UNA segment text, e.g. ``UNA:+.? '``."""
        return (
            f"UNA{self.component}{self.element}{self.decimal}"
            f"{self.release}{self.reserved}{self.terminator}"
        )

    @functools.cached_property
    def escapable(self) -> frozenset[str]:
        """The five characters the release character may precede."""
        return frozenset(
            (self.component, self.element, self.release, self.terminator, self.reserved)
        )


DEFAULT_SEPARATORS = Separators()


@functools.lru_cache(maxsize=64)
def separators_from_una(una: bytes) -> Separators:
    """Read the 9 bytes of a UNA segment; reject separators that would make the text ambiguous."""
    if len(una) != 9 or not una.startswith(b"UNA"):
        raise EdifactError("UNA_INVALID", "UNA must be 'UNA' followed by 6 characters", tag="UNA")
    chars = una[3:].decode("latin-1")
    seps = Separators(*chars)
    structural = (seps.component, seps.element, seps.release, seps.terminator)
    if len(set(structural)) != 4:
        raise EdifactError(
            "UNA_INVALID",
            f"component, element, release and terminator must differ, got {chars!r}",
            tag="UNA",
        )
    for ch in structural:
        if ch.isalnum() or ch in " \t\r\n" or not 0x20 < ord(ch) < 0x7F:
            raise EdifactError("UNA_INVALID", f"{ch!r} cannot be a service character", tag="UNA")
    return seps


@dataclass(frozen=True)
class Charset:
    """A syntax identifier's encoding and the bytes (or characters) it forbids inside segments."""

    identifier: str
    codec: str
    description: str
    forbidden_bytes: re.Pattern[bytes]
    forbidden_chars: re.Pattern[str] | None = None  # checked after decoding (UNOY's C1 controls)

    @cached_property
    def allowed_bytes(self) -> bytes:
        """Every byte ``forbidden_bytes`` lets through (it is a class of single bytes):
        ``data.translate(None, allowed_bytes)`` is empty when ``data`` holds no forbidden byte,
        a C-level pass several times faster than the regex search on the tokeniser's hot path."""
        return bytes(b for b in range(256) if self.forbidden_bytes.search(bytes((b,))) is None)


_LEVEL_A = rb"A-Z0-9 .,\-()/='+:?!\"%&*;<>"

CHARSETS: dict[str, Charset] = {
    "UNOA": Charset(
        "UNOA",
        "ascii",
        "UN/ECE level A: upper-case letters, digits, space and .,-()/='+:?!\"%&*;<>",
        re.compile(rb"[^" + _LEVEL_A + rb"]"),
    ),
    "UNOB": Charset(
        "UNOB",
        "ascii",
        "UN/ECE level B: letters, digits, space and .,-()/='+:?!\"%&*;<>",
        re.compile(rb"[^a-z" + _LEVEL_A + rb"]"),
    ),
    "UNOC": Charset(
        "UNOC",
        "latin-1",
        "ISO 8859-1 graphic characters",
        re.compile(rb"[\x00-\x1f\x7f-\x9f]"),
    ),
    "UNOY": Charset(
        "UNOY",
        "utf-8",
        "ISO 10646 (UTF-8) without control characters",
        re.compile(rb"[\x00-\x1f\x7f]"),
        re.compile("[\x80-\x9f]"),
    ),
}

#: Used for UNB itself (and anything before it): ASCII graphic characters only.
ENVELOPE_CHARSET = Charset("UNB", "ascii", "ASCII graphic characters", re.compile(rb"[^\x20-\x7e]"))


def charset_for(identifier: str) -> Charset | None:
    """The charset of a syntax identifier, or None when the codec does not support it."""
    return CHARSETS.get(identifier)
