"""Small helpers to read and build pydifact segments in the tokeniser's normal form.

The tokeniser gives a simple element as ``str``, a composite as ``list[str]`` and drops
trailing empty components; built segments must look the same so that a rendered letter
parses back to equal segments. Also: dates of DTM (102/203/204), and a compact text form of
one segment (``TAG+el+c1:c2``, with ``?`` escapes) used to keep unmapped segments verbatim in
``Letter.extra``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pydifact.segments import Segment

from gateway.edifact.tokenizer import make_segment

__all__ = ["element", "build", "dtm_valid", "dtm_value", "parse_dtm", "pack", "unpack"]

DTM_PATTERNS = {"102": "%Y%m%d", "203": "%Y%m%d%H%M", "204": "%Y%m%d%H%M%S"}
DTM_LENGTHS = {"102": 8, "203": 12, "204": 14}
_SPECIAL = "?:+'"


def element(*parts: str) -> Any:
    """A normal-form element: trailing empty components dropped, one component as ``str``."""
    comps = list(parts)
    while len(comps) > 1 and not comps[-1]:
        comps.pop()
    return comps[0] if len(comps) == 1 else comps


def build(tag: str, *elements: Any) -> Segment:
    """A segment with trailing empty elements dropped."""
    els = list(elements)
    while els and els[-1] in ("", [], None):
        els.pop()
    return make_segment(tag, [e if e is not None else "" for e in els])


def parse_dtm(text: str, fmt: str) -> datetime | None:
    """The datetime of a DTM value, None when it does not fit the format (exact length,
    digits only, a real date)."""
    length = DTM_LENGTHS.get(fmt)
    if length is None or len(text) != length or not text.isdigit():
        return None
    try:
        return datetime(
            int(text[0:4]),
            int(text[4:6]),
            int(text[6:8]),
            int(text[8:10] or 0),
            int(text[10:12] or 0),
            int(text[12:14] or 0),
        )
    except ValueError:
        return None


# The dates every month has (days 01-28 of a year 0001-9999) and every valid clock time, per
# format: a value that matches is a real date, decided by one regex instead of a datetime.
_DATE = "(?!0000)[0-9]{4}(?:0[1-9]|1[0-2])(?:0[1-9]|1[0-9]|2[0-8])"
_CLOCK = "(?:[01][0-9]|2[0-3])[0-5][0-9]"
_SURE_DTM = {
    "102": re.compile(_DATE),
    "203": re.compile(_DATE + _CLOCK),
    "204": re.compile(_DATE + _CLOCK + "[0-5][0-9]"),
}


def dtm_valid(text: str, fmt: str) -> bool:
    """``parse_dtm(text, fmt) is not None``, without building the datetime in the common case
    (the grammar checks every DTM of every letter): a value the format's regex accepts is
    surely valid; anything else (days 29-31, leap years, junk) goes to ``parse_dtm``."""
    sure = _SURE_DTM.get(fmt)
    if sure is not None and sure.fullmatch(text) is not None:
        return True
    return parse_dtm(text, fmt) is not None


def dtm_value(at: datetime, fmt: str) -> str:
    return at.strftime(DTM_PATTERNS[fmt])


def _escape(text: str) -> str:
    return "".join("?" + c if c in _SPECIAL else c for c in text)


def pack(segment: Segment) -> str:
    """``TAG+el+c1:c2`` with MedCom's default separators and ``?`` escapes."""
    out = [segment.tag]
    for el in segment.elements:
        out.append(":".join(_escape(c) for c in el) if isinstance(el, list) else _escape(el))
    return "+".join(out)


def unpack(text: str) -> Segment:
    """The inverse of ``pack``."""
    elements: list[list[str]] = [[""]]
    escaped = False
    for char in text:
        if escaped:
            elements[-1][-1] += char
            escaped = False
        elif char == "?":
            escaped = True
        elif char == "+":
            elements.append([""])
        elif char == ":":
            elements[-1].append("")
        else:
            elements[-1][-1] += char
    tag = elements[0][0]
    return make_segment(tag, [c[0] if len(c) == 1 else c for c in elements[1:]])
