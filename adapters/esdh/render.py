"""A readable rendering of a letter or receipt for the case file: HTML and PDF, same content.

Caseworkers read journalised documents in the ESDH, not EDIFACT, so every document gets a
rendering next to the original message. The content is one list of (label, value) rows and
free-text sections, produced once (``summarise``) and written twice (``to_html``, ``to_pdf``),
so the two never disagree. Pure: no IO.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime

from adapters.esdh.pdf import Line, render_pdf
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
    "LAE265": "Lægeattest til rehabiliteringsteam (LÆ 265)",
    "LAE275": "Lægeattest fra Klinisk funktion (LÆ 275)",
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
