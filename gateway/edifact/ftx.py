"""MedCom's free-text rules for FTX segments, both ways.

``FTX+<qualifier>+<format>++<c1>:<c2>:...:<c5>'``: each component is one line of at most 70
characters; a component that is exactly ``.`` is an empty line; a component ending in ``\\``
continues in the next component (even in the next FTX segment) without a line break, the
backslash itself dropped. Consecutive FTX segments with the same qualifier and format form
one text (``FreeText``); a run that ends in ``\\`` followed by a run with another format (as in
MedCom's DIS90 sample) is a format change in mid-line, kept as ``FreeText.continued``.

Exactness (``decode(encode(t)) == t``):
* spaces are data: a trailing space stays on its line, and the splitter breaks long lines
  after a space, keeping the space before the ``\\`` (as MedCom's samples do);
* a line that is exactly ``.`` or ends in a backslash cannot be written (MedCom's rules give it
  another meaning), so ``encode_lines`` refuses it with ``FreeTextError``;
* control characters are not text: a line must not contain CR or other C0/C1 characters.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from gateway.edifact.grammar import components, get
from gateway.errors import LocalUsageError
from gateway.model import FreeText

__all__ = [
    "FreeTextError",
    "decode_components",
    "decode_runs",
    "encode_lines",
    "ftx_elements",
    "MAX_COMPONENT",
    "MAX_COMPONENTS",
]

MAX_COMPONENT = 70
MAX_COMPONENTS = 5
EMPTY_LINE = "."
CONTINUE = "\\"


class FreeTextError(LocalUsageError, ValueError):
    """A text cannot be written as MedCom FTX (it would read back differently)."""


def decode_components(parts: Iterable[str]) -> tuple[str, bool]:
    """Lines from FTX components: returns the text (lines joined by "\\n") and whether the
    last line is still open (the last component ended in a backslash)."""
    lines: list[str] = []
    current = ""
    open_line = False
    for part in parts:
        content = "" if part == EMPTY_LINE else part
        if content.endswith(CONTINUE):
            current += content[:-1]
            open_line = True
        else:
            lines.append(current + content)
            current = ""
            open_line = False
    if open_line:
        lines.append(current)
    return "\n".join(lines), open_line


def decode_runs(segments: Sequence[Any]) -> list[FreeText]:
    """Consecutive FTX segments -> one ``FreeText`` per run of equal qualifier and format.

    ``segments`` are adjacent FTX segments (the caller cuts runs at any other segment).
    """
    texts: list[FreeText] = []
    run: list[Any] = []

    def flush() -> None:
        if run:
            parts = [
                c
                for seg in run
                for c in (components(seg.elements[3]) if len(seg.elements) > 3 else [])
            ]
            text, open_line = decode_components(parts)
            texts.append(FreeText(get(run[0], 1), text, get(run[0], 2), continued=open_line))
            run.clear()

    for seg in segments:
        if run and (get(seg, 1), get(seg, 2)) != (get(run[0], 1), get(run[0], 2)):
            flush()
        run.append(seg)
    flush()
    return texts


def _check_line(line: str, *, last: bool) -> None:
    for char in line:
        code = ord(char)
        if code < 0x20 or 0x7F <= code < 0xA0:
            raise FreeTextError(f"free text contains control character U+{code:04X}")
    if last and line == EMPTY_LINE:
        raise FreeTextError("a line that is exactly '.' cannot be written (MedCom: empty line)")
    if last and line.endswith(CONTINUE):
        raise FreeTextError("a line ending in '\\' cannot be written (MedCom: continuation)")


def _split_line(line: str, *, keep_open: bool) -> list[str]:
    """One line -> components of at most 70 characters, all but the last ending in "\\"
    (the last too when ``keep_open``)."""
    if line == "" and not keep_open:
        return [EMPTY_LINE]
    _check_line(line, last=not keep_open)
    room = MAX_COMPONENT - 1  # a continued component spends one character on the backslash
    chunks: list[str] = []
    rest = line
    while len(rest) > (room if keep_open else MAX_COMPONENT):
        window = rest[:room]
        cut = window.rfind(" ") + 1
        if cut < room // 2:
            cut = room
        chunks.append(rest[:cut])
        rest = rest[cut:]
    if not keep_open and rest == EMPTY_LINE and chunks:
        # a last component "." would read as an empty line: move one character down to it
        rest = chunks[-1][-1] + rest
        chunks[-1] = chunks[-1][:-1]
    chunks.append(rest)
    out = [chunk + CONTINUE for chunk in chunks[:-1]]
    out.append(chunks[-1] + CONTINUE if keep_open else chunks[-1])
    return out


def encode_lines(text: str, *, continued: bool = False) -> list[str]:
    """A text -> its FTX components (lines split at 70 characters with the continuation
    rule; empty lines as "."). Raises ``FreeTextError`` for text MedCom cannot carry."""
    lines = text.split("\n")
    parts: list[str] = []
    for index, line in enumerate(lines):
        last = index == len(lines) - 1
        parts.extend(_split_line(line, keep_open=continued and last))
    return parts


def ftx_elements(free_text: FreeText) -> list[list[Any]]:
    """The elements of the FTX segments for one ``FreeText`` (at most 5 components each)."""
    parts = encode_lines(free_text.text, continued=free_text.continued)
    out: list[list[Any]] = []
    for start in range(0, len(parts), MAX_COMPONENTS):
        chunk = parts[start : start + MAX_COMPONENTS]
        literal: Any = chunk[0] if len(chunk) == 1 else list(chunk)
        out.append([free_text.qualifier, free_text.format, "", literal])
    return out
