"""Sans-IO EDIFACT tokeniser: bytes in, pydifact ``Segment`` objects out.

Theory of operation
-------------------
``Tokenizer.feed(bytes)`` only buffers; ``next_event()`` returns the next ``Segment``, a
``BinaryObject`` (the raw bytes after a MEDBIN ``UNO`` segment), ``Event.NEED_DATA`` or, after
``close()`` and the last segment, ``Event.END``. The first error is raised by ``next_event()``
at its place in the stream, after every event before it (so the envelope layer reports an
earlier problem first). ``tokenize(data)`` is the one-shot form.

* Service characters: a leading ``UNA`` (ISO 9735 section 7) or the defaults ``:+.? '``
  (see ``syntax.py``, also for which characters ``?`` may escape).
* A complete input (``feed_all``) is read in blocks of about ``BLOCK`` bytes cut after an
  unescaped terminator (``blocks()``): each block takes the fast path (``fast_tokens``) or, at
  the first doubt, the general scan, so a reader that stops at the first problem never
  tokenises the rest and holds one block's temporaries at a time. The first block is
  ``FIRST_BLOCK`` bytes (a whole ordinary letter), each next one twice the last up to
  ``BLOCK``: a body wrong in its first segments is refused after a thousand segments, not the
  sixteen thousand tiny ones a full block can hold (and whose garbage wakes the collector).
* Segments end at an unescaped terminator. The hot path finds it with ``bytes.find`` and splits
  the decoded text with ``str.split``; a segment containing the release character takes a careful
  character scan instead. The buffer is scanned once: a search for a terminator resumes where the
  last one stopped, and consumed bytes are dropped in chunks (h11 ``_receivebuffer.py``), so
  feeding byte by byte stays O(n).
* Charset: the UNB syntax identifier (UNB element 1 component 1) picks the repertoire for UNB and
  every later segment; before UNB the MedCom default UNOC applies. Segment bytes are checked
  against the repertoire before decoding, so a C0/C1 control byte is a ``CHARSET`` error naming
  segment, element and component.
* Elements come out exactly as pydifact's parser gives them: a ``str`` for a simple element, a
  ``list[str]`` for a composite, trailing empty components dropped (ISO 9735 section 9.3 allows
  omitting them, and pydifact normalises them away).
* MEDBIN (BIN01, research/medcom.md section 3): ``UNO`` element 4 component 1 is a byte count;
  exactly that many raw bytes follow the UNO terminator, unescaped and not a segment, then ``UNP``.
  They come out as one ``BinaryObject`` event.

Segment numbers in errors follow ``SegmentCounter``: inside a message counted from UNH = 1 (as
UNT counts them), outside a message the position in the interchange with UNB = 1 (UNA excluded).
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from pydifact.segments import Segment

from gateway.edifact._segment_text import (
    TAG,
    UNB_SYNTAX,
    EscapeError,
    fast_tokens,
    guess_tag,
    position,
    split_escaped,
    terminator_escaped,
)
from gateway.edifact.errors import EdifactError
from gateway.edifact.syntax import (
    CHARSETS,
    DEFAULT_SEPARATORS,
    WHITESPACE,
    Charset,
    Separators,
    separators_from_una,
)
from gateway.errors import LocalUsageError

__all__ = [
    "BinaryObject",
    "Event",
    "SegmentCounter",
    "Tokenizer",
    "make_segment",
    "tokenize",
]

_COMPACT_AT = 1 << 16  # drop consumed bytes from the buffer once this many have piled up
BLOCK = 1 << 16  # a complete input is tokenised in blocks of about this many bytes
FIRST_BLOCK = 1 << 12  # ... the first ones smaller, doubling up to BLOCK (see ``_block_end``)
_SERVICE = frozenset(("UNB", "UNH", "UNT", "UNZ"))
_WS = frozenset(WHITESPACE)


class Event(enum.Enum):
    """Sentinels returned by ``Tokenizer.next_event`` when no segment is ready."""

    NEED_DATA = "need data"
    END = "end"


@dataclass(frozen=True)
class BinaryObject:
    """The raw bytes that follow a MEDBIN ``UNO`` segment (not escaped, not counted in UNT)."""

    data: bytes


Token = Segment | BinaryObject


def make_segment(tag: str, elements: list) -> Segment:
    """A pydifact ``Segment`` equal to ``Segment(tag, *elements)``, without its per-call checks
    and warnings (they cost more than the whole tokenising of a segment)."""
    seg = Segment.__new__(Segment)
    seg.tag = tag
    seg.elements = elements
    return seg


class SegmentCounter:
    """Numbers segments the way errors and CONTRL name them (see module docstring)."""

    __slots__ = ("interchange_no", "message_no")

    def __init__(self) -> None:
        self.interchange_no = 0
        self.message_no: int | None = None

    def count(self, tag: str) -> int:
        """Number the next segment, which has ``tag``."""
        self.interchange_no += 1
        if tag == "UNH":
            self.message_no = 1
        elif tag in ("UNB", "UNZ"):
            self.message_no = None
        elif self.message_no is not None:
            self.message_no += 1
            if tag == "UNT":
                no, self.message_no = self.message_no, None
                return no
        return self.message_no if self.message_no is not None else self.interchange_no

    def advance(self, segments: list[Segment]) -> None:
        """Count a block of segments at once (the fast path): the state after the block
        depends only on its last service segment."""
        n = len(segments)
        self.interchange_no += n
        for i in range(n - 1, -1, -1):
            tag = segments[i].tag
            if tag[0] == "U" and tag in _SERVICE:
                self.message_no = n - i if tag == "UNH" else None
                return
        if self.message_no is not None:
            self.message_no += n


class Tokenizer:
    """Incremental tokeniser; see the module docstring. ``lenient=True`` skips a segment it cannot
    read instead of stopping (for best-effort envelope reading of rejected input)."""

    def __init__(self, *, lenient: bool = False, keep: frozenset[str] | None = None) -> None:
        self._buf: bytes | bytearray = b""
        self._pos = 0
        self._scan_from = 0
        self._closed = False
        self._ready: deque[Token] = deque()
        self._error: EdifactError | None = None
        self._binary_len: int | None = None
        self._block_size = FIRST_BLOCK
        self._lenient = lenient
        self._keep = keep  # only segments with these tags come out (lenient envelope reading)
        self._counter = SegmentCounter()
        self._charset: Charset = CHARSETS["UNOC"]
        self._unb_seen = False
        self.separators: Separators | None = None
        self.una = False
        self.errors: list[EdifactError] = []  # the skipped segments' errors in lenient mode

    # -- public API ------------------------------------------------------------------------

    @property
    def syntax(self) -> str:
        """The syntax identifier in force (UNOC until a UNB names another)."""
        return self._charset.identifier

    def feed(self, data: bytes) -> None:
        """Append received bytes; nothing is parsed until ``next_event``."""
        if self._closed:
            raise EdifactError("CLOSED", "data fed after close()")
        if not isinstance(data, bytes | bytearray):
            data = _as_bytes(data)
        if not data:
            return
        if not isinstance(self._buf, bytearray):
            self._buf = bytearray(self._buf)
        self._buf += data

    def feed_all(self, data: bytes) -> None:
        """Feed a complete input and close: the one-shot path (no copy of ``data``)."""
        if not isinstance(data, bytes | bytearray):
            data = _as_bytes(data)
        if self._buf:
            self.feed(data)
        else:
            self._buf = data
        self.close()

    def close(self) -> None:
        """No more data will come: a trailing unterminated segment becomes an error."""
        self._closed = True

    def next_event(self) -> Token | Event:
        """The next segment or binary object, or ``Event.NEED_DATA`` / ``Event.END``."""
        if not self._ready and self._error is None:
            self._scan()
        if self._ready:
            return self._ready.popleft()
        if self._error is not None:
            raise self._error
        return Event.END if self._closed else Event.NEED_DATA

    def drain(self) -> tuple[list[Token], EdifactError | None]:
        """Every event available now, and the error that stopped them (None if none)."""
        events: list[Token] = []
        for block, error in self.blocks():
            events += block
            if error is not None:
                return events, error
        return events, self._error

    def blocks(self) -> Iterator[tuple[list[Token], EdifactError | None]]:
        """The events available now, block by block (about ``BLOCK`` input bytes each, once the
        input is complete), each with the error that stopped the scan after them (None if
        none). A reader that stops at the first problem stops reading there, and holds one
        block's temporaries at a time."""
        while True:
            before = self._pos
            self._scan()
            events = list(self._ready)
            self._ready.clear()
            if events or self._error is not None:
                yield events, self._error
            if self._error is not None or not self._closed or self._pos in (before, len(self._buf)):
                return

    # -- scanning --------------------------------------------------------------------------

    def _scan(self) -> None:
        """Tokenise every complete segment in the buffer into ``self._ready``."""
        if self._error is not None:
            return
        try:
            self._scan_segments()
        except EdifactError as err:
            self._error = err
        if self._pos >= _COMPACT_AT and isinstance(self._buf, bytearray):
            del self._buf[: self._pos]
            self._scan_from -= self._pos
            self._pos = 0

    def _read_una(self) -> bool:
        """Decide the separators; False when more bytes are needed to know."""
        buf, pos = self._buf, self._pos
        while pos < len(buf) and buf[pos] in _WS:
            pos += 1
        if len(buf) - pos < 3 and not self._closed:
            return False
        if buf[pos : pos + 3] == b"UNA":
            if len(buf) - pos < 9:
                if not self._closed:
                    return False
                raise EdifactError("UNA_INVALID", "UNA is cut short", tag="UNA")
            self.separators = separators_from_una(bytes(buf[pos : pos + 9]))
            self.una = True
            pos += 9
        else:
            self.separators = DEFAULT_SEPARATORS
        self._pos = self._scan_from = pos
        return True

    def _scan_segments(self) -> None:
        if self.separators is None and not self._read_una():
            return
        seps = self.separators
        assert seps is not None
        term = seps.terminator.encode("ascii")
        rel_byte = ord(seps.release)
        buf = self._buf
        n = len(buf)
        pos = self._pos
        stop = n
        if self._closed and self._binary_len is None:
            stop = self._block_end(pos, n, term, rel_byte)
            if self._fast_block(pos, stop):
                return
        rel = seps.release
        elem, comp = seps.element, seps.component
        ready = self._ready
        ws = _WS
        keep = self._keep
        while True:
            if self._binary_len is not None:
                if n - pos < self._binary_len:
                    if self._closed:
                        raise EdifactError(
                            "BIN_TRUNCATED",
                            f"UNO announces {self._binary_len} bytes, only {n - pos} follow",
                            tag="UNO",
                        )
                    break
                ready.append(BinaryObject(bytes(buf[pos : pos + self._binary_len])))
                pos += self._binary_len
                self._scan_from = pos
                self._binary_len = None
            while pos < n and buf[pos] in ws:
                pos += 1
            if pos >= stop:
                break
            q = buf.find(term, max(pos, self._scan_from))
            while q > pos and buf[q - 1] == rel_byte and terminator_escaped(buf, q, pos, rel_byte):
                q = buf.find(term, q + 1)
            if q == -1:
                self._scan_from = n
                if self._closed:
                    self._pos = pos
                    raw = bytes(buf[pos:])
                    raise EdifactError(
                        "UNTERMINATED",
                        "data after the last segment terminator",
                        tag=guess_tag(raw, seps),
                        segment_no=self._counter.interchange_no + 1,
                    )
                break
            raw = buf[pos:q]
            pos = q + 1
            self._scan_from = pos
            self._pos = pos
            charset = self._charset
            if not self._unb_seen and raw[:3] == b"UNB":
                charset = self._select_charset(raw)
            if charset.forbidden_bytes.search(raw) is None:
                try:
                    text = raw.decode(charset.codec)
                except UnicodeDecodeError:
                    text = None
            else:
                text = None
            if text is None or (
                charset.forbidden_chars is not None and charset.forbidden_chars.search(text)
            ):
                self._fail(self._charset_error(bytes(raw), charset))
                continue
            if rel in text:
                try:
                    parts = split_escaped(text, seps)
                except EscapeError as exc:
                    self._fail(self._located(text, exc.offset, "ESCAPE", exc.problem))
                    continue
                tag = parts[0]
                elements = parts[1:]
            else:
                parts = text.split(elem)
                tag = parts[0]
                elements = []
                for el in parts[1:]:
                    if comp in el:
                        comps = el.split(comp)
                        while len(comps) > 1 and not comps[-1]:
                            comps.pop()
                        elements.append(comps if len(comps) > 1 else comps[0])
                    else:
                        elements.append(el)
            if type(tag) is not str or TAG.match(tag) is None:
                self._fail(
                    EdifactError(
                        "TAG",
                        f"invalid segment tag {text[:3]!r} (3 upper-case letters or digits)",
                        segment_no=self._counter.count(""),
                    )
                )
                continue
            self._counter.count(tag)
            if keep is not None and tag not in keep:
                continue
            seg = Segment.__new__(Segment)
            seg.tag = tag
            seg.elements = elements
            ready.append(seg)
            if tag == "UNO":
                self._binary_len = self._binary_length(seg)
            elif tag == "UNB":
                self._unb_seen = True
                self._charset = charset
        self._pos = pos

    def _block_end(self, pos: int, n: int, term: bytes, rel_byte: int) -> int:
        """The end of the block starting at ``pos``: just after the first unescaped terminator
        at least the block size on (``FIRST_BLOCK``, doubling up to ``BLOCK``), or the end of
        the input."""
        size = min(self._block_size, BLOCK)
        self._block_size = 2 * size
        if n - pos <= size:
            return n
        buf = self._buf
        q = buf.find(term, pos + size)
        while q != -1 and buf[q - 1] == rel_byte and terminator_escaped(buf, q, pos, rel_byte):
            q = buf.find(term, q + 1)
        return n if q == -1 else q + 1

    def _fast_block(self, pos: int, stop: int) -> bool:
        """Tokenise ``buf[pos:stop]`` on the fast path; False when the general scan must."""
        buf = self._buf
        whole = isinstance(buf, bytes) and pos == 0 and stop == len(buf)
        data = buf if whole else bytes(buf[pos:stop])
        fast = fast_tokens(
            data, self.separators, self._charset if self._unb_seen else None, self._keep
        )
        if fast is None:
            return False
        segments, charset = fast
        if not self._unb_seen:
            self._unb_seen = True  # the block starts with UNB, which named the charset
            self._charset = charset
        if self._keep is None:
            self._counter.advance(segments)
        self._ready.extend(segments)
        self._pos = self._scan_from = stop
        return True

    # -- helpers ---------------------------------------------------------------------------

    def _fail(self, err: EdifactError) -> None:
        """Stop at ``err``, or in lenient mode note it and skip the segment."""
        if not self._lenient:
            raise err
        self.errors.append(err)

    def _select_charset(self, raw: bytes | bytearray) -> Charset:
        match = UNB_SYNTAX.match(raw)
        ident = match.group(1).decode("ascii") if match else ""
        charset = CHARSETS.get(ident)
        if charset is None:
            self._counter.count("UNB")
            self._unb_seen = True
            raise EdifactError(
                "SYNTAX_ID",
                f"unsupported syntax identifier {ident!r} (expected UNOA, UNOB, UNOC or UNOY)",
                tag="UNB",
                segment_no=self._counter.interchange_no,
                element=1,
                component=1,
            )
        return charset

    def _charset_error(self, raw: bytes, charset: Charset) -> EdifactError:
        """Locate the first byte (or character) the charset forbids."""
        bad = charset.forbidden_bytes.search(raw)
        if bad is not None:
            offset = bad.start()
        else:
            try:
                text = raw.decode(charset.codec)
            except UnicodeDecodeError as exc:
                offset = exc.start
            else:
                assert charset.forbidden_chars is not None
                ch = charset.forbidden_chars.search(text)
                assert ch is not None
                offset = len(text[: ch.start()].encode(charset.codec))
        problem = (
            f"byte 0x{raw[offset]:02X} is not allowed in {charset.identifier} "
            f"({charset.description})"
        )
        return self._located(raw.decode("latin-1"), offset, "CHARSET", problem, prefix_bytes=True)

    def _located(
        self, text: str, offset: int, code: str, problem: str, *, prefix_bytes: bool = False
    ) -> EdifactError:
        """An error at ``offset`` of a segment's text, naming tag, number, element, component."""
        assert self.separators is not None
        tag = guess_tag(text.encode("latin-1", "replace"), self.separators)
        element, component = position(text[:offset], self.separators)
        return EdifactError(
            code,
            problem,
            tag=tag,
            segment_no=self._counter.count(tag or ""),
            element=element,
            component=component,
        )

    def _binary_length(self, seg: Segment) -> int:
        el = seg.elements[3] if len(seg.elements) > 3 else ""
        length = el[0] if isinstance(el, list) else el
        if not (length.isascii() and length.isdigit()):
            raise EdifactError(
                "BIN_LENGTH",
                f"binary object length {length!r} is not a number",
                tag="UNO",
                segment_no=self._counter.message_no or self._counter.interchange_no,
                element=4,
                component=1,
            )
        return int(length)


def _as_bytes(data: object) -> bytes:
    """Bytes-like input as bytes; text is refused: the codec decodes from the UNB charset."""
    if isinstance(data, str):
        raise LocalUsageError("EDIFACT input must be bytes (the charset comes from UNB), not str")
    return bytes(data)  # type: ignore[call-overload]


def tokenize(data: bytes) -> list[Token]:
    """Tokenise a complete interchange; raises the first ``EdifactError``."""
    tok = Tokenizer()
    tok.feed_all(data)
    events, error = tok.drain()
    if error is not None:
        raise error
    return events
