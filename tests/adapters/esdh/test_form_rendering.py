"""Journalised LÆ forms read as the paper form: Danish HTML and PDF from one layout, with the
form's title, parties, questions and answers, dates and signature; and as PNG (pdftoppm)."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from adapters.esdh.mapping import letter_entry
from adapters.esdh.render import form_html, form_pdf, type_title
from gateway.forms import Form, FormType, Lae265, Lae271, Lae275, from_xml, to_letter, to_xml
from gateway.forms.layout import layout

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "lae"
TITLES = {
    FormType.LAE261: "Anmodning om lægeattest til rehabiliteringsteam (LÆ 261)",
    FormType.LAE265: "Lægeattest til rehabiliteringsteam (LÆ 265)",
    FormType.LAE271: "Anmodning om lægeattest fra klinisk funktion (LÆ 271)",
    FormType.LAE275: "Lægeattest fra klinisk funktion (LÆ 275)",
}


def example(form_type: FormType) -> Form:
    return from_xml((EXAMPLES / f"lae{form_type.value}.xml").read_bytes())


FORMS = pytest.mark.parametrize("form_type", list(FormType), ids=lambda t: t.label)


def questions_and_answers(form: Form) -> list[str]:
    if isinstance(form, Lae265 | Lae275):
        return [x for a in form.answers for x in (a.question, a.reply)]
    return list(form.questions)


@FORMS
def test_html_shows_the_form_as_the_paper_form(form_type: FormType) -> None:
    form = example(form_type)
    page = form_html(layout(form)).decode()
    assert f"<title>{html.escape(TITLES[form_type])}</title>" in page
    assert f'<div class="form-number">{form_type.label}</div>' in page
    for text in questions_and_answers(form):  # every question, and every answer given
        assert html.escape(text) in page, text
    assert form.citizen.name in page and "251248-9996" in page
    assert html.escape(form.parties.municipality.name) in page
    assert form.issued_at.strftime("%d-%m-%Y") in page
    signature = "Lægens underskrift" if isinstance(form, Lae265 | Lae275) else "Sagsbehandler"
    assert f'<div class="signature"><div>{signature}: ' in page
    # numbered boxes in the paper form's order
    numbers = [int(n) for n in re.findall(r"<h2>(\d+)\. ", page)]
    assert numbers == sorted(numbers) and numbers[0] == 1
    if isinstance(form, Lae271):
        assert "<h2>4. Bilag</h2>" in page and "AAR117-plan-1" in page
    if isinstance(form, Lae275):
        assert "<h2>Kopi til borgerens læge</h2>" in page


@FORMS
def test_pdf_has_the_same_content(form_type: FormType) -> None:
    form = example(form_type)
    pdf = form_pdf(layout(form))
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    shown = b"".join(re.findall(rb"\((.*?)\) Tj", pdf)).decode("cp1252")
    flat = " ".join(shown.split())
    for text in questions_and_answers(form):
        assert " ".join(text.split()).replace(" ", "") in flat.replace(" ", ""), text
    assert TITLES[form_type].split(" (")[0] in flat


@FORMS
def test_journalised_form_has_its_danish_title_and_paper_form_files(form_type: FormType) -> None:
    form = example(form_type)
    letter = to_letter(form)
    entry = letter_entry(letter, original=to_xml(form), original_type="application/xml",
                         sender_gln="5790000000751", control_ref="K1")
    assert entry.document_type == TITLES[form_type] == type_title(f"LAE{form_type.value}")
    assert entry.title.startswith(TITLES[form_type] + " fra ")
    assert entry.case_reference == "AAR-2026-0117"
    files = {a.name.rsplit(".", 1)[1]: a.content for a in entry.attachments}
    assert files["html"] == form_html(layout(form))
    assert files["pdf"] == form_pdf(layout(form))
    assert b"#MEDBRO-LAE-1" not in files["html"]  # not the machine text


def _pdftoppm() -> str:
    found = shutil.which("pdftoppm")
    if found is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("pdftoppm (Debian poppler-utils) is missing; .ci/run installs it")
        pytest.skip("pdftoppm (Debian poppler-utils) is not installed")
    return found


def _dark_share(pgm: bytes) -> float:
    """The share of dark pixels of a binary PGM (P5) page."""
    magic, width, height, _max, pixels = pgm.split(maxsplit=4)
    assert magic == b"P5"
    pixels = pixels[: int(width) * int(height)]
    return sum(1 for b in pixels if b < 128) / len(pixels)


@FORMS
def test_each_pdf_turns_into_png_pages_with_ink(form_type: FormType, tmp_path: Path) -> None:
    """pdftoppm reads every page; the PNGs are what docs/caseflow.md shows. Set FORM_PNG_DIR
    to keep them (the docs step: FORM_PNG_DIR=docs/img pytest -k png)."""
    tool = _pdftoppm()
    pdf_path = tmp_path / f"lae{form_type.value}.pdf"
    pdf = form_pdf(layout(example(form_type)))
    pdf_path.write_bytes(pdf)
    pages = int(re.search(rb"/Type /Pages /Kids \[[^\]]*\] /Count (\d+)", pdf).group(1))
    out = Path(os.environ.get("FORM_PNG_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"lae{form_type.value}"
    subprocess.run([tool, "-png", "-r", "60", str(pdf_path), str(stem)], check=True)
    pngs = sorted(out.glob(f"lae{form_type.value}-*.png"))
    assert len(pngs) == pages
    assert all(p.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") for p in pngs)
    subprocess.run([tool, "-gray", "-r", "30", "-f", "1", "-l", "1", str(pdf_path),
                    str(tmp_path / "gray")], check=True)
    (gray,) = tmp_path.glob("gray*.pgm")
    assert _dark_share(gray.read_bytes()) > 0.01  # text and rules, not a blank page
