"""An LÆ form laid out as the paper form: Danish title, parties, numbered boxes, signature.

Caseworkers read journalised forms in the ESDH, not XML. ``layout(form)`` decides once what a
reader sees and in which order - the header (form number, ids, dates), the parties (citizen,
sender, receiver), the numbered boxes with the questions and answers, the attachments and the
signature - with every Danish label in this module. Writers (adapters/esdh/render.py: HTML and
PDF) only draw it, so the two never disagree. Pure: no IO.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from gateway.forms.model import (
    AttachmentKind,
    Citizen,
    ClinicalFunction,
    Form,
    GeneralPractitioner,
    Lae261,
    Lae265,
    Lae271,
    Lae275,
    Municipality,
)

ATTACHMENT_KINDS = {
    AttachmentKind.LAE265: "Lægeattest til rehabiliteringsteam (LÆ 265)",
    AttachmentKind.REHAB_PLAN: "Rehabiliteringsplanens forberedende del",
    AttachmentKind.COORDINATOR_NOTE: "Sundhedskoordinatorens notat",
    AttachmentKind.MEDICAL_RECORDS: "Journaloplysninger",
    AttachmentKind.OTHER: "Andet bilag",
}


@dataclass(frozen=True)
class Question:
    """A numbered question; ``answer`` is None on a request (the doctor has not answered)."""

    number: int
    text: str
    answer: str | None = None


@dataclass(frozen=True)
class Box:
    """One framed part of the form: a heading, then labelled fields, text or questions."""

    heading: str
    number: int | None = None  # the paper form's box number; parties have none
    fields: tuple[tuple[str, str], ...] = ()
    text: str = ""
    questions: tuple[Question, ...] = ()


@dataclass(frozen=True)
class Signature:
    role: str  # "Lægens underskrift", "Sagsbehandler"
    name: str
    organisation: str
    signed_on: str


@dataclass(frozen=True)
class FormLayout:
    title: str  # "Lægeattest til rehabiliteringsteam"
    form_number: str  # "LÆ 265"
    header: tuple[tuple[str, str], ...]
    parties: tuple[Box, ...]
    boxes: tuple[Box, ...]
    signature: Signature

    @property
    def document_title(self) -> str:
        return f"{self.title} ({self.form_number})"


def day(value: date | datetime) -> str:
    """Dates as a Danish form writes them: 02-03-2026 (and 09:30 for a time)."""
    if isinstance(value, datetime):
        return value.strftime("%d-%m-%Y kl. %H:%M")
    return value.strftime("%d-%m-%Y")


def _citizen(citizen: Citizen) -> Box:
    return Box("Borger", fields=(("Navn", citizen.name), ("CPR-nr.", _cpr(citizen.cpr))))


def _cpr(cpr: str) -> str:
    return f"{cpr[:6]}-{cpr[6:]}" if len(cpr) == 10 and cpr.isdigit() else cpr


def _municipality(heading: str, m: Municipality) -> Box:
    return Box(heading, fields=(("Kommune", f"{m.name} ({m.number})".strip()),
                                ("Sagsbehandler", m.caseworker)))


def _gp(heading: str, gp: GeneralPractitioner) -> Box:
    return Box(heading, fields=(("Lægepraksis", gp.name), ("Ydernummer", gp.ydernummer)))


def _clinic(heading: str, cf: ClinicalFunction | None) -> Box:
    if cf is None:
        return Box(heading, fields=(("Klinisk funktion", "ikke angivet"),))
    return Box(heading, fields=(("Klinisk funktion", cf.name), ("SOR-kode", cf.sor)))


def _questions(questions: tuple[str, ...]) -> tuple[Question, ...]:
    return tuple(Question(i, q) for i, q in enumerate(questions, start=1))


def _header(form: Form, **extra: str) -> tuple[tuple[str, str], ...]:
    rows = [("Blanket", form.form_type.label), ("Blanket-id", form.form_id),
            ("Kommunens sagsnr.", form.case_ref)]
    rows += list(extra.items())
    rows.append(("Udstedt", day(form.issued_at)))
    return tuple((label.replace("_", " "), value) for label, value in rows)


def _request(form: Lae261 | Lae271) -> list[Box]:
    m = form.parties.municipality
    sender = _municipality("Fra kommunen", m)
    if isinstance(form, Lae261):
        receiver = _gp("Til borgerens læge", form.parties.gp)
        middle = Box("Borgerens aktuelle situation", 2, text=form.situation)
    else:
        receiver = _clinic("Til klinisk funktion", form.parties.clinical_function)
        middle = Box("Sundhedskoordinatorens vurdering", 2, text=form.coordinator_assessment)
    return [sender, receiver, Box("Baggrund for anmodningen", 1, text=form.background), middle,
            Box("Kommunens spørgsmål", 3, questions=_questions(form.questions))]


def _certificate(form: Lae265 | Lae275) -> list[Box]:
    if isinstance(form, Lae265):
        sender = _gp("Fra lægen", form.parties.gp)
    else:
        sender = _clinic("Fra klinisk funktion", form.parties.clinical_function)
    answers = tuple(Question(i, a.question, a.reply)
                    for i, a in enumerate(form.answers, start=1))
    return [
        sender,
        _municipality("Til kommunen", form.parties.municipality),
        Box("Konsultation", 1, fields=(("Borgeren er undersøgt den",
                                        day(form.consultation_date)),)),
        Box("Helbredsforhold", 2, text=form.health_conditions),
        Box("Behandling og prognose", 3, text=form.treatment_and_prognosis),
        Box("Funktionsevne", 4, text=form.functional_ability),
        Box("Borgerens egen vurdering", 5, text=form.citizen_view),
        Box("Svar på kommunens spørgsmål", 6, questions=answers),
    ]


def layout(form: Form) -> FormLayout:
    """The paper form's layout of ``form``, with Danish labels."""
    parties = [_citizen(form.citizen)]
    if isinstance(form, Lae261 | Lae271):
        boxes = _request(form)
        m = form.parties.municipality
        signature = Signature("Sagsbehandler", m.caseworker, m.name, day(form.issued_at.date()))
        header = _header(form)
    else:
        boxes = _certificate(form)
        if isinstance(form, Lae265):
            signer = (form.parties.gp.name, f"Ydernummer {form.parties.gp.ydernummer}")
        else:
            cf = form.parties.clinical_function
            signer = (cf.name if cf else "", f"SOR {cf.sor}" if cf else "")
        signature = Signature("Lægens underskrift", *signer, day(form.issued_at.date()))
        header = _header(form, Svar_på_anmodning=form.in_reply_to)
    parties += boxes[:2]
    boxes = boxes[2:]
    if isinstance(form, Lae271):
        listed = tuple((ATTACHMENT_KINDS[a.kind], f"{a.title} ({a.document_ref})")
                       for a in form.attachments)
        boxes.append(Box("Bilag", 4, fields=listed))
    if isinstance(form, Lae275):
        gp = form.parties.gp
        parties.append(Box("Kopi til borgerens læge", fields=(("Lægepraksis", gp.name),
                                                                ("Ydernummer", gp.ydernummer))))
    return FormLayout(
        title=form.form_type.name_da,
        form_number=form.form_type.label,
        header=header,
        parties=tuple(parties),
        boxes=tuple(boxes),
        signature=signature,
    )


__all__ = ["ATTACHMENT_KINDS", "Box", "FormLayout", "Question", "Signature", "day", "layout"]
