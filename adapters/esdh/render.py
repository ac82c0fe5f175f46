"""A readable rendering of a letter or receipt for the case file: HTML and PDF, same content.

Caseworkers read journalised documents in the ESDH, not EDIFACT, so every document gets a
rendering next to the original message. The content is one list of (label, value) rows and
free-text sections, produced once (``summarise``) and written twice (``to_html``, ``to_pdf``),
so the two never disagree. An LÆ form is drawn from its paper-form layout
(gateway.forms.layout: title, parties, numbered boxes, questions and answers, signature) by
``form_html`` and ``form_pdf``. Pure: no IO.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, replace
from datetime import datetime

from adapters.esdh.pdf import Line, render_pdf
from gateway.forms import FormType
from gateway.forms.layout import Box, FormLayout
from gateway.model import Letter, Party, Receipt

TITLES = {
    "DIS01": "Udskrivningsepikrise",
    "DIS02": "Ambulantepikrise",
    "DIS03": "Skadestueepikrise",
    "DIS05": "Billeddiagnostisk epikrise",
    "DIS06": "Lægevagtsepikrise",
    "DIS07": "Speciallægeepikrise",
    "DIS08": "Fysioterapiepikrise",
    "DIS09": "Kiropraktorepikrise",
    "DIS10": "Psykologepikrise",
    "DIS17": "Udskrivningsadvis",
    "DIS20": "Indlæggelsesadvis",
    "DIS90": "Administrativt korrespondancebrev",
    "DIS91": "Korrespondancebrev",
    "CTL01": "Negativ VANS-kvittering",
    "CTL02": "Negativ kvittering",
    "CTL03": "Positiv kvittering",
    # every LÆ form by its one Danish title (gateway.forms.model.DANISH_NAMES)
    **{f"LAE{t.value}": t.title for t in FormType},
}


@dataclass(frozen=True)
class Summary:
    title: str
    rows: tuple[tuple[str, str], ...]
    sections: tuple[tuple[str, str], ...]  # (heading, text)


def type_title(message_type: str) -> str:
    key = message_type.upper().replace("Æ", "AE").replace(" ", "")
    return TITLES.get(key, message_type)


def party_name(party: Party | None) -> str:
    """'Organisation, department (id scheme)' as a caseworker would say it."""
    if party is None:
        return ""
    names = ", ".join(n for n in party.names if n)
    ident = f"{party.id} {party.scheme}".strip()
    if names and ident:
        return f"{names} ({ident})"
    return names or ident


def _when(value: datetime | None) -> str:
    return value.strftime("%d-%m-%Y %H:%M") if value else ""


def summarise_letter(letter: Letter) -> Summary:
    patient = letter.patient
    rows = [
        ("Brevtype", f"{letter.type} {type_title(letter.type)} ({letter.version})"),
        ("Brev-id", letter.letter_id or letter.ref),
        ("Status", "Rettet brev" if letter.status.value == "M" else "Nyt brev"),
        ("Afsender", party_name(letter.sender)),
        ("Modtager", party_name(letter.receiver)),
        ("Kopimodtagere", "; ".join(party_name(p) for p in letter.copies)),
        ("Patient", f"{patient.given_names} {patient.surname}".strip() if patient else ""),
        ("CPR-nr.", patient.cpr if patient else ""),
        ("Godkendt", _when(letter.authorised_at)),
        ("Afsendt", _when(letter.sent_at)),
        ("Indlagt", _when(letter.admitted_at)),
        ("Udskrevet", _when(letter.discharged_at)),
        ("Henvisning", letter.referral.id if letter.referral else ""),
    ]
    rows += [(f"Diagnose ({d.kind})", f"{d.code} {d.text}".strip()) for d in letter.diagnoses]
    sections = tuple((f"Tekst ({t.qualifier})", t.text) for t in letter.texts)
    return Summary(
        title=f"{type_title(letter.type)} fra {party_name(letter.sender) or 'ukendt afsender'}",
        rows=tuple((k, v) for k, v in rows if v),
        sections=sections,
    )


def summarise_receipt(receipt: Receipt) -> Summary:
    rows = [
        ("Kvittering", f"{receipt.type} {type_title(receipt.type)}"),
        ("Kvitterer for forsendelse", receipt.original_control_ref),
        ("Oprindelig afsender", receipt.original_sender),
        ("Oprindelig modtager", receipt.original_recipient),
        ("Breve", ", ".join(o.ref for o in receipt.original_letters)),
        ("Afvisningskode", str(receipt.refusal) if receipt.refusal else ""),
    ]
    sections = (("Begrundelse", receipt.text),) if receipt.text else ()
    return Summary(
        title=f"{type_title(receipt.type)} for forsendelse {receipt.original_control_ref}",
        rows=tuple((k, v) for k, v in rows if v),
        sections=sections,
    )


def to_html(summary: Summary) -> bytes:
    esc = html.escape
    rows = "\n".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in summary.rows)
    sections = "\n".join(
        f"<h2>{esc(heading)}</h2>\n<p>{esc(text).replace(chr(10), '<br>')}</p>"
        for heading, text in summary.sections
    )
    page = (
        '<!DOCTYPE html>\n<html lang="da">\n<head><meta charset="utf-8">'
        f"<title>{esc(summary.title)}</title></head>\n<body>\n<h1>{esc(summary.title)}</h1>\n"
        f"<table>\n{rows}\n</table>\n{sections}\n</body>\n</html>\n"
    )
    return page.encode("utf-8")


def to_pdf(summary: Summary) -> bytes:
    lines = [Line(summary.title, bold=True), Line("")]
    lines += [Line(f"{k}: {v}") for k, v in summary.rows]
    for heading, text in summary.sections:
        lines += [Line(""), Line(heading, bold=True)]
        lines += [Line(part) for part in text.split("\n")]
    return render_pdf(lines, title=summary.title)


_FORM_CSS = """
body { font-family: Helvetica, Arial, sans-serif; font-size: 10.5pt; color: #000;
       max-width: 180mm; margin: 12mm auto; }
header { display: flex; justify-content: space-between; align-items: flex-start;
         border-bottom: 2px solid #000; padding-bottom: 4mm; }
header h1 { font-size: 16pt; margin: 0; }
.form-number { border: 2px solid #000; padding: 2mm 4mm; font-size: 14pt; font-weight: bold; }
table.header { border-collapse: collapse; margin: 3mm 0; }
table.header th { text-align: left; font-weight: normal; color: #333; padding-right: 6mm; }
.parties { display: grid; grid-template-columns: 1fr 1fr; gap: 3mm; margin: 3mm 0; }
section { border: 1px solid #000; margin: 3mm 0; break-inside: avoid; }
section h2 { font-size: 11pt; margin: 0; padding: 1.5mm 2mm; background: #e0e0e0;
             border-bottom: 1px solid #000; }
section .body { padding: 2mm; }
section p { margin: 0; }
.parties section { margin: 0; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 1mm 4mm; margin: 0; }
dt { color: #333; } dd { margin: 0; }
ol.questions { margin: 0; padding-left: 6mm; }
ol.questions li { margin-bottom: 2mm; }
.question { font-weight: bold; }
.answer { border-left: 3px solid #888; padding-left: 2mm; margin-top: 1mm; }
.signature { display: flex; gap: 10mm; margin-top: 8mm; }
.signature div { border-top: 1px solid #000; padding-top: 1mm; min-width: 60mm; }
"""


def _html_text(text: str) -> str:
    return html.escape(text).replace("\n", "<br>")


def _html_box(box: Box) -> str:
    esc = html.escape
    heading = f"{box.number}. {box.heading}" if box.number else box.heading
    parts = []
    if box.fields:
        parts.append("<dl>" + "".join(f"<dt>{esc(k)}</dt><dd>{_html_text(v) or '&nbsp;'}</dd>"
                                      for k, v in box.fields) + "</dl>")
    if box.text:
        parts.append(f"<p>{_html_text(box.text)}</p>")
    if box.questions:
        items = []
        for q in box.questions:
            answer = ("" if q.answer is None
                      else f'<div class="answer">{_html_text(q.answer)}</div>')
            items.append(f'<li value="{q.number}"><div class="question">{_html_text(q.text)}'
                         f"</div>{answer}</li>")
        parts.append('<ol class="questions">' + "".join(items) + "</ol>")
    return (f'<section><h2>{esc(heading)}</h2><div class="body">{"".join(parts)}</div>'
            "</section>")


def form_html(form: FormLayout) -> bytes:
    """The form as a standalone Danish HTML page laid out as the paper form."""
    esc = html.escape
    header = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in form.header)
    sig = form.signature
    page = (
        '<!DOCTYPE html>\n<html lang="da">\n<head><meta charset="utf-8">'
        f"<title>{esc(form.document_title)}</title><style>{_FORM_CSS}</style></head>\n<body>\n"
        f"<header><h1>{esc(form.title)}</h1>"
        f'<div class="form-number">{esc(form.form_number)}</div></header>\n'
        f'<table class="header">{header}</table>\n'
        f'<div class="parties">{"".join(_html_box(b) for b in form.parties)}</div>\n'
        + "\n".join(_html_box(b) for b in form.boxes)
        + f'\n<div class="signature"><div>{esc(sig.role)}: {esc(sig.name)}<br>'
        f"{esc(sig.organisation)}</div><div>Dato: {esc(sig.signed_on)}</div></div>\n"
        "</body>\n</html>\n"
    )
    return page.encode("utf-8")


def _pdf_box(box: Box) -> list[Line]:
    heading = f"{box.number}. {box.heading}" if box.number else box.heading
    lines = [Line("", keep=True), Line(heading, bold=True, size=11, band=True, keep=True)]
    # the value column starts after the longest label (about 5.3 points a character)
    column = max((len(label) for label, _ in box.fields), default=0) * 5.3 + 14
    for label, value in box.fields:
        parts = value.split("\n") or [""]
        if column > 220:  # a long label (an attachment's kind): its value on the next line
            lines.append(Line(f"{label}:", indent=4, keep=True))
            lines += [Line("", indent=22, value=part, value_at=0) for part in parts]
            continue
        for i, part in enumerate(parts):
            lines.append(Line(f"{label}:" if i == 0 else "", indent=4, value=part,
                              value_at=max(column, 110)))
    if box.text:
        lines += [Line(part, indent=4) for part in box.text.split("\n")]
    for q in box.questions:
        lines.append(Line(f"{q.number}. {q.text}", bold=True, size=10, indent=4,
                          keep=q.answer is not None))
        if q.answer is not None:
            lines += [Line(part, indent=18) for part in q.answer.split("\n")]
    lines[-1] = replace(lines[-1], keep=True)  # the box's closing rule never starts a page
    lines.append(Line("", rule=True))
    return lines


def form_pdf(form: FormLayout) -> bytes:
    """The same layout as ``form_html`` on A4: title, form number, boxes, signature."""
    lines = [Line(f"{form.title}    [{form.form_number}]", bold=True, size=15, rule=True),
             Line("")]
    lines += [Line(f"{k}:", value=v, value_at=110) for k, v in form.header]
    for box in (*form.parties, *form.boxes):
        lines += _pdf_box(box)
    sig = form.signature
    lines += [Line("", keep=True), Line("", keep=True),
              Line("", rule=True, rule_width=220, keep=True),
              Line(f"{sig.role}: {sig.name}", keep=True), Line(sig.organisation, keep=True),
              Line(f"Dato: {sig.signed_on}")]
    return render_pdf(lines, title=form.document_title)
