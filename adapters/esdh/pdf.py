"""A minimal PDF writer: lines of Latin-1 text on A4 pages, in Helvetica, with form furniture.

Why our own: the rendering journalised in the ESDH only needs readable text (a title, labelled
fields, the letter's free text), and MedCom letters are ISO-8859-1, which PDF's standard
``WinAnsiEncoding`` covers for the Danish letters. A hundred lines beat a dependency tree.

The file follows PDF 1.4 (ISO 32000-1 section 7): header, numbered objects (catalog, page tree,
pages, content streams, one font), a cross-reference table with the byte offset of every
object, and the trailer. Text is wrapped at a character count that follows the font size and
the indent (Helvetica at 10 pt fits about 95 average characters in the 170 mm text width).
Each line is placed at its own position, so a line can be indented, larger, set on a grey band
(a form's box heading) or be a ruled line (a box's edge, a signature line); pages break when
the next line would cross the bottom margin (``LINES_PER_PAGE`` plain lines).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, replace

PAGE_WIDTH, PAGE_HEIGHT = 595, 842  # A4 in points
MARGIN = 56
FONT_SIZE = 10
LEADING = 14
WRAP_AT = 95
LINES_PER_PAGE = (PAGE_HEIGHT - 2 * MARGIN) // LEADING


@dataclass(frozen=True)
class Line:
    """One line to print; ``bold`` lines (headings) use Helvetica-Bold at a larger size.

    ``size``: the font size (default 10, bold 12); ``indent`` in points; ``band``: a grey band
    behind the line; ``rule``: a horizontal line (from ``indent``, ``rule_width`` points long,
    default to the right margin) under the text, if any; ``value``: a second column that
    starts ``value_at`` points after the text's start (a form's label and its value);
    ``keep``: keep this line on the page of the next one (a heading, a signature block).
    """

    text: str
    bold: bool = False
    size: float | None = None
    indent: float = 0
    band: bool = False
    rule: bool = False
    rule_width: float | None = None
    value: str | None = None
    value_at: float = 130
    keep: bool = False

    @property
    def font_size(self) -> float:
        return self.size or (12 if self.bold else FONT_SIZE)

    @property
    def leading(self) -> float:
        return max(LEADING, self.font_size + 6)


def _escape(text: str) -> bytes:
    raw = text.encode("cp1252", "replace")  # WinAnsiEncoding; unknown characters become "?"
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def wrap_lines(lines: Iterable[Line]) -> list[Line]:
    """Break long lines at word boundaries (hard-break words longer than a line)."""
    out: list[Line] = []
    text_width = PAGE_WIDTH - 2 * MARGIN
    for line in lines:
        indent = line.indent + (line.value_at if line.value is not None else 0)
        width = int(WRAP_AT * (text_width - indent) / text_width * FONT_SIZE / line.font_size)
        if line.value is not None:
            pieces = textwrap.wrap(line.value, max(width, 10), break_long_words=True) or [""]
            out.append(replace(line, value=pieces[0]))
            out.extend(replace(line, text="", value=piece) for piece in pieces[1:])
            continue
        pieces = textwrap.wrap(line.text, max(width, 10), break_long_words=True) or [""]
        out.extend(replace(line, text=piece) for piece in pieces)
    return out


def _f(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _page_stream(lines: list[Line]) -> bytes:
    parts: list[bytes] = []
    y = PAGE_HEIGHT - MARGIN
    right = PAGE_WIDTH - MARGIN
    for line in lines:
        x = MARGIN + line.indent
        if line.band:
            top = y + line.font_size
            parts.append(f"0.88 g {_f(x - 4)} {_f(y - 4)} {_f(right - x + 8)} "
                         f"{_f(top - y + 6)} re f 0 g".encode())
        if line.text:
            font = b"/F2" if line.bold else b"/F1"
            parts.append(b"BT " + font + f" {_f(line.font_size)} Tf {_f(x)} {_f(y)} Td (".encode()
                         + _escape(line.text) + b") Tj ET")
        if line.value:
            at = f"{_f(line.font_size)} Tf {_f(x + line.value_at)} {_f(y)} Td ("
            parts.append(b"BT /F1 " + at.encode() + _escape(line.value) + b") Tj ET")
        if line.rule:
            end = right if line.rule_width is None else x + line.rule_width
            parts.append(f"0.6 w {_f(x)} {_f(y - 4)} m {_f(end)} {_f(y - 4)} l S".encode())
        y -= line.leading
    return b"\n".join(parts)


def _pages(lines: list[Line]) -> list[list[Line]]:
    """Lines per page: a page ends when the next line would cross the bottom margin."""
    pages: list[list[Line]] = [[]]
    used = 0.0
    room = PAGE_HEIGHT - 2 * MARGIN
    run = 0.0  # the height of the lines kept together from here
    for i, line in enumerate(lines):
        if i == 0 or not lines[i - 1].keep:
            run, j = line.leading, i
            while lines[j].keep and j + 1 < len(lines):
                j += 1
                run += lines[j].leading
        else:
            run = line.leading
        if pages[-1] and used + min(run, room) > room:
            pages.append([])
            used = 0.0
        pages[-1].append(line)
        used += line.leading
    return pages


def render_pdf(lines: Iterable[Line], *, title: str = "") -> bytes:
    """A complete PDF document showing ``lines``; ``title`` goes in the document info."""
    pages = _pages(wrap_lines(lines))
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
