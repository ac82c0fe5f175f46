"""Segment text helpers of the tokeniser: escapes, element splitting, error positions, and the
whole-buffer hot path.

``fast_tokens`` handles a complete interchange in a few C-level passes (whitespace between
segments removed by one regex, one charset check, one decode, one split on the terminator) and
then splits each segment with ``str.split``. It gives up (returns None) at the first doubt, and
the tokeniser's general scan then redoes the work and names the problem, so the fast path never
has to locate an error.
"""

from __future__ import annotations

import functools
import re

from pydifact.segments import Segment

from gateway.edifact.syntax import CHARSETS, WHITESPACE, Charset, Separators

TAG = re.compile(r"[A-Z][A-Z0-9]{2}\Z")
UNB_SYNTAX = re.compile(rb"UNB.([A-Z]{4})", re.S)


class EscapeError(Exception):
    def __init__(self, offset: int, problem: str) -> None:
        self.offset = offset
        self.problem = problem


def terminator_escaped(buf: bytes | bytearray, q: int, start: int, rel: int) -> bool:
    """Is the terminator at ``q`` escaped (preceded by an odd run of release characters)?"""
    run = 0
    i = q - 1
    while i >= start and buf[i] == rel:
        run += 1
        i -= 1
    return run % 2 == 1


def split_escaped(text: str, seps: Separators) -> list:
    """Split a segment that contains the release character; returns [tag, element, ...].

    Each escape pair is swapped for a private-use placeholder (``str.replace``, the release
    pair first: replacing from the left pairs a run of release characters exactly as the scan
    does), the text is split like any other, and the placeholders are swapped back: several
    times faster than the character scan (``_scan_escaped``), which runs instead when the text
    holds a placeholder character itself or a wrong escape (a release character is left over;
    the scan names the problem)."""
    pairs, show = _escape_tables(seps)
    if _PLACEHOLDER.search(text) is None:
        hidden = text
        for pair, placeholder in pairs:
            if pair in hidden:
                hidden = hidden.replace(pair, placeholder)
        if seps.release not in hidden:
            comp = seps.component
            used = [(p, ch) for p, ch in show if p in hidden]  # str.translate is slower
            out: list = []
            for el in hidden.split(seps.element):
                comps = el.split(comp)
                while len(comps) > 1 and not comps[-1]:
                    comps.pop()
                for i, c in enumerate(comps):
                    for p, ch in used:
                        if p in c:
                            comps[i] = c = c.replace(p, ch)
                out.append(comps if len(comps) > 1 else comps[0])
            return out
    return _scan_escaped(text, seps)


_PLACEHOLDER = re.compile("[\ue000-\ue004]")


@functools.lru_cache(maxsize=16)
def _escape_tables(
    seps: Separators,
) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """(escape pair, placeholder), the release pair first, and (placeholder, character) pairs
    for ``split_escaped``."""
    rel = seps.release
    chars = [rel] + sorted(seps.escapable - {rel})
    hide = {ch: chr(0xE000 + i) for i, ch in enumerate(chars)}
    return tuple((rel + ch, p) for ch, p in hide.items()), tuple((p, ch) for ch, p in hide.items())


def _scan_escaped(text: str, seps: Separators) -> list:
    """``split_escaped`` character by character, raising ``EscapeError`` at a wrong escape."""
    rel, elem, comp = seps.release, seps.element, seps.component
    escapable = seps.escapable
    out: list = []
    comps: list[str] = []
    chars: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == rel:
            if i + 1 >= n:
                raise EscapeError(i, "release character at the end of the segment")
            nxt = text[i + 1]
            if nxt not in escapable:
                raise EscapeError(i, f"wrong use of escape: {rel}{nxt!s} (only service characters)")
            chars.append(nxt)
            i += 2
            continue
        if ch == elem:
            comps.append("".join(chars))
            out.append(comps)
            comps, chars = [], []
        elif ch == comp:
            comps.append("".join(chars))
            chars = []
        else:
            chars.append(ch)
        i += 1
    comps.append("".join(chars))
    out.append(comps)
    result: list = []
    for cs in out:
        while len(cs) > 1 and not cs[-1]:
            cs.pop()
        result.append(cs if len(cs) > 1 else cs[0])
    return result


def position(prefix: str, seps: Separators) -> tuple[int | None, int | None]:
    """Element and component (1-based) of the character after ``prefix``; None in the tag."""
    element, component = 0, 1
    i = 0
    while i < len(prefix):
        ch = prefix[i]
        if ch == seps.release:
            i += 2
            continue
        if ch == seps.element:
            element, component = element + 1, 1
        elif ch == seps.component:
            component += 1
        i += 1
    if element == 0:
        return None, None
    return element, component


def guess_tag(raw: bytes | bytearray, seps: Separators) -> str | None:
    """The tag of a segment that could not be read, when it looks like one."""
    head = bytes(raw[:3]).decode("latin-1")
    return head if TAG.match(head) else None


def fast_tokens(
    data: bytes,
    seps: Separators,
    charset: Charset | None = None,
    keep: frozenset[str] | None = None,
) -> tuple[list[Segment], Charset] | None:
    """The hot path over a block of whole segments, or None when the general scan must run.

    ``charset`` is the one in force; None for the first block, which must then start with a
    UNB naming it. It applies only when nothing can go wrong that needs locating: no binary
    object (a ``UNO`` tag is never among the known tags), a supported syntax identifier, no
    forbidden byte, valid escapes and only valid tags. Any doubt returns None and the general
    loop redoes the work and names the problem. With ``keep``, only segments with those tags
    are made (lenient envelope reading).
    """
    term = seps.terminator.encode("ascii")
    if charset is None:
        match = UNB_SYNTAX.match(data.lstrip(WHITESPACE))
        charset = CHARSETS.get(match.group(1).decode("ascii")) if match else None
        if charset is None:
            return None
    rel_b = seps.release.encode("ascii")
    # a release character before a terminator (an escaped one, perhaps): looked for only where
    # there is a release character at all (one memchr; a two-byte search costs a microsecond)
    rel_term = rel_b in data and rel_b + term in data
    # Whitespace after a terminator (MedCom writes a line break after every segment) is left
    # where it is when no terminator can be escaped: it starts the next piece, the tag table
    # strips it, and the control characters in it are counted against those the charset check
    # finds (one anywhere else, inside a segment, is an error the general scan names). Else,
    # and for ``keep``, one regex removes it first (a regex pass costs several microseconds).
    strip_at_tags = not rel_term and keep is None
    if not strip_at_tags:
        ws = _inter_segment_ws(term, rel_b if rel_term else b"")
        # the terminator as a literal replacement: a UNA may declare a backslash, which re.sub
        # would read as an escape
        data = ws.sub(term.replace(b"\\", b"\\\\"), data)
    data = data.strip(WHITESPACE)
    if not data.endswith(term):
        return None
    controls = data.translate(None, charset.allowed_bytes)
    if controls and (not strip_at_tags or controls.translate(None, WHITESPACE)):
        return None  # a forbidden byte: the general scan locates it
    try:
        text = data.decode(charset.codec)
    except UnicodeDecodeError:
        return None
    if charset.forbidden_chars is not None and charset.forbidden_chars.search(text):
        return None
    elem, comp, rel = seps.element, seps.component, seps.release
    has_rel = rel_term or rel in text
    pieces = text.split(seps.terminator)
    pieces.pop()  # the empty text after the last terminator
    if rel_term:
        pieces = _rejoin_escaped(pieces, seps)
    if keep is not None:
        pieces = [p for p in pieces if p[:3] in keep]
    out: list[Segment] = []
    append = out.append
    new = Segment.__new__
    tag_of = _TAG_OF
    controls_at_tags = 0
    for raw in pieces:
        if has_rel and rel in raw:
            body = raw.lstrip(_TEXT_WHITESPACE)  # the whitespace before it, not an escaped one
            try:
                parts = split_escaped(body, seps)  # elements come out final
            except EscapeError:
                return None
            tag = parts[0]
            if type(tag) is not str or tag[:1] in _TEXT_WHITESPACE:
                return None  # an escape in the tag (an empty tag, too)
            tag = raw[: len(raw) - len(body)] + tag
            del parts[0]
        else:
            parts = raw.split(elem)
            tag = parts[0]
            del parts[0]
            if comp in raw:
                # a plain loop, not a comprehension: Python 3.11 calls a comprehension as a
                # function, which costs more than the two or three elements of a segment
                for i, el in enumerate(parts):
                    if comp in el:
                        c = el.split(comp)
                        parts[i] = c if c[-1] else _trim(c)
        known = tag_of.get(tag)
        if known is None:
            known = _read_tag(tag)
            if known is None:
                return None
            if len(tag_of) < _TAG_OF_MAX:
                tag_of[tag] = known
        tag, controls_before = known
        controls_at_tags += controls_before
        seg = new(Segment)
        seg.tag = tag
        seg.elements = parts
        append(seg)
    if controls_at_tags != len(controls):
        return None  # a line break (or tab) inside a segment: the general scan names it
    return out, charset


def _read_tag(text: str) -> tuple[str, int] | None:
    """A piece's tag text (perhaps after whitespace that followed the last terminator) as the
    tag and the number of control characters before it; None when it is no valid tag, or a
    UNO (raw bytes follow it, which only the general scan reads)."""
    tag = text.lstrip(_TEXT_WHITESPACE)
    if TAG.match(tag) is None or tag == "UNO":
        return None
    before = text[: len(text) - len(tag)]
    return tag, len(before) - before.count(" ")


def _trim(comps: list[str]) -> list[str] | str:
    """Drop trailing empty components as pydifact does; a single component becomes a str."""
    while len(comps) > 1 and not comps[-1]:
        comps.pop()
    return comps if len(comps) > 1 else comps[0]


def _rejoin_escaped(pieces: list[str], seps: Separators) -> list[str]:
    """Glue back pieces split at an escaped terminator (one ending in an odd release run)."""
    out: list[str] = []
    rel, term = seps.release, seps.terminator
    carry = ""
    for piece in pieces:
        piece = carry + piece
        if piece.endswith(rel) and (len(piece) - len(piece.rstrip(rel))) % 2 == 1:
            carry = piece + term
        else:
            out.append(piece)
            carry = ""
    if carry:
        out.append(carry[:-1])  # an escape at the very end: the general scan reports it
    return out


@functools.lru_cache(maxsize=16)
def _inter_segment_ws(term: bytes, release: bytes) -> re.Pattern[bytes]:
    """Whitespace after an (apparently) unescaped terminator; a miss only costs the fast path.

    ``release`` is b"" when no release character stands before a terminator anywhere in the
    block: then every terminator is unescaped and the look-behind, which makes the regex engine
    try every position (five times slower), is left out."""
    ws = re.escape(term) + rb"[ \t\r\n]+"
    return re.compile(rb"(?<!" + re.escape(release) + rb")" + ws if release else ws)


_TEXT_WHITESPACE = WHITESPACE.decode("ascii")
# the tag texts seen (with the whitespace before them) -> ``_read_tag``'s answer; bounded, so
# hostile input with ever new tags and whitespace cannot grow it
_TAG_OF: dict[str, tuple[str, int]] = {}
_TAG_OF_MAX = 4096
