"""A minimal PDF writer: lines of Latin-1 text on A4 pages, in Helvetica.

Why our own: the rendering journalised in the ESDH only needs readable text (a title, labelled
fields, the letter's free text), and MedCom letters are ISO-8859-1, which PDF's standard
``WinAnsiEncoding`` covers for the Danish letters. A hundred lines beat a dependency tree.

The file follows PDF 1.4 (ISO 32000-1 section 7): header, numbered objects (catalog, page tree,
pages, content streams, one font), a cross-reference table with the byte offset of every
object, and the trailer. Text is wrapped at a fixed character count (Helvetica at 10 pt fits
about 95 average characters in the 170 mm text width); pages break every ``LINES_PER_PAGE``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from dataclasses import dataclass

PAGE_WIDTH, PAGE_HEIGHT = 595, 842  # A4 in points
MARGIN = 56
FONT_SIZE = 10
LEADING = 14
WRAP_AT = 95
LINES_PER_PAGE = (PAGE_HEIGHT - 2 * MARGIN) // LEADING


@dataclass(frozen=True)
class Line:
    """One line to print; ``bold`` lines (headings) use Helvetica-Bold at a larger size."""

    text: str
    bold: bool = False


def _escape(text: str) -> bytes:
    raw = text.encode("cp1252", "replace")  # WinAnsiEncoding; unknown characters become "?"
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def wrap_lines(lines: Iterable[Line]) -> list[Line]:
    """Break long lines at word boundaries (hard-break words longer than a line)."""
    out: list[Line] = []
    for line in lines:
        pieces = textwrap.wrap(line.text, WRAP_AT, break_long_words=True) or [""]
        out.extend(Line(piece, line.bold) for piece in pieces)
    return out


def _page_stream(lines: list[Line]) -> bytes:
    parts = [b"BT", f"{MARGIN} {PAGE_HEIGHT - MARGIN} Td".encode(), f"{LEADING} TL".encode()]
    for line in lines:
        font = b"/F2 12 Tf" if line.bold else f"/F1 {FONT_SIZE} Tf".encode()
        parts.append(font + b" (" + _escape(line.text) + b") Tj T*")
    parts.append(b"ET")
    return b"\n".join(parts)


def render_pdf(lines: Iterable[Line], *, title: str = "") -> bytes:
    """A complete PDF document showing ``lines``; ``title`` goes in the document info."""
    wrapped = wrap_lines(lines)
    pages = [wrapped[i : i + LINES_PER_PAGE] for i in range(0, len(wrapped), LINES_PER_PAGE)]
    pages = pages or [[]]
    # Object numbers: 1 catalog, 2 page tree, 3 font, 4 bold font, 5 info, then per page
    # (page, content).
    first_page = 6
    kids = " ".join(f"{first_page + 2 * i} 0 R" for i in range(len(pages)))
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Title (" + _escape(title) + b") /Producer (medbro) >>",
    ]
    for i, page in enumerate(pages):
        content_no = first_page + 2 * i + 1
        objects.append(
            (
                f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] "
                f"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> "
                f"/Contents {content_no} 0 R >>"
            ).encode()
        )
        stream = _page_stream(page)
        objects.append(
            f"<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"\nendstream"
        )
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref_at = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 5 0 R >>\n"
        f"startxref\n{xref_at}\n%%EOF\n"
    ).encode()
    return bytes(out)
