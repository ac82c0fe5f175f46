"""The readable rendering: a structurally valid PDF and HTML with the letter's content."""

from __future__ import annotations

import re
from datetime import datetime

from adapters.esdh.pdf import LINES_PER_PAGE, Line, render_pdf
from adapters.esdh.render import summarise_letter, to_html, to_pdf
from gateway.model import FreeText, Letter, Party, Patient


def _check_structure(pdf: bytes) -> int:
    """Every xref offset points at its object; returns the page count."""
    assert pdf.startswith(b"%PDF-1.4\n") and pdf.rstrip().endswith(b"%%EOF")
    startxref = int(re.search(rb"startxref\n(\d+)\n", pdf).group(1))
    assert pdf[startxref:].startswith(b"xref\n")
    count = int(re.search(rb"xref\n0 (\d+)\n", pdf).group(1))
    table = pdf[startxref:].split(b"\n")[3 : 3 + count - 1]
    for number, entry in enumerate(table, start=1):
        offset = int(entry[:10])
        assert pdf[offset:].startswith(f"{number} 0 obj\n".encode()), number
    for match in re.finditer(rb"<< /Length (\d+) >>\nstream\n", pdf):
        length = int(match.group(1))
        assert pdf[match.end() + length :].startswith(b"\nendstream")
    return int(re.search(rb"/Type /Pages /Kids \[[^\]]*\] /Count (\d+)", pdf).group(1))


def test_pdf_is_well_formed_and_shows_latin1_text_escaped():
    pdf = render_pdf([Line("Kære læge (Ærø)", bold=True), Line("back\\slash")], title="Brev")
    assert _check_structure(pdf) == 1
    assert "(K\xe6re l\xe6ge \\(\xc6r\xf8\\)) Tj".encode("latin-1") in pdf
    assert b"(back\\\\slash) Tj" in pdf


def test_long_text_wraps_and_breaks_pages():
    lines = [Line("ord " * 100)] + [Line(f"linje {i}") for i in range(LINES_PER_PAGE * 2)]
    pdf = render_pdf(lines)
    assert _check_structure(pdf) == 3
    assert b"(linje 0) Tj" in pdf and f"(linje {LINES_PER_PAGE * 2 - 1}) Tj".encode() in pdf


def test_letter_rendering_has_the_same_content_in_html_and_pdf():
    letter = Letter(
        type="DIS91", version="D9134L", ref="BrevNr7", letter_id="BrevNr7",
        authorised_at=datetime(2026, 11, 2, 9, 30),
        sender=Party("SSP", "291714", "YNR", names=("Lægehuset", "Else Nielsen")),
        receiver=Party("PO", "461", "KOM", names=("Odense Kommune",)),
        patient=Patient("1502824933", "Mosebryggersen", "Knut"),
        texts=(FreeText("NC", "Første linje <b>\nAnden linje"),),
    )
    summary = summarise_letter(letter)
    assert summary.title == "Korrespondancebrev fra Lægehuset, Else Nielsen (291714 YNR)"
    page = to_html(summary).decode()
    assert "<td>02-11-2026 09:30</td>" in page
    assert "Første linje &lt;b&gt;<br>Anden linje" in page
    pdf = to_pdf(summary)
    _check_structure(pdf)
    assert "(Første linje <b>) Tj".encode("cp1252") in pdf
    assert "(Patient: Knut Mosebryggersen) Tj".encode("cp1252") in pdf
