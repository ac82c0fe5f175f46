"""Canonical models of the LÆ forms of the rehabilitation-team flow: LÆ 261, 265, 271 and 275.

The forms follow MedCom's x1/x5 numbering (shared/research/medcom.md §1.4): LÆ 261 is the
municipality's request to the GP and LÆ 265 the GP's certificate for the rehabilitation team;
LÆ 271 is the municipality's request to the regional clinical function and LÆ 275 its
certificate, with a copy to the GP. In reality they travel as MedCom DDB XML; medbro's XML
(gateway.forms.xml) is the primary format, its DIS91 profile (gateway.forms.edifact_profile)
serves GP systems that only take EDIFACT.

The models are frozen dataclasses, like gateway.model, so two forms compare equal when they say
the same thing (the round-trip tests rely on it). Every codec walks the same field metadata
(``item`` names the element of a repeated field), so XML and EDIFACT never disagree on fields.
Times are naive local Danish time, as in gateway.model.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import ClassVar

FORM_VERSION = "1.0"


class FormType(enum.StrEnum):
    """The form number as written on the form (``LÆ 265`` is ``FormType.LAE265``)."""

    LAE261 = "261"
    LAE265 = "265"
    LAE271 = "271"
    LAE275 = "275"

    @property
    def label(self) -> str:
        return f"LÆ {self.value}"

    @property
    def name_da(self) -> str:
        """The form's Danish name, as on the paper form: ``Lægeattest til rehabiliteringsteam``."""
        return DANISH_NAMES[self]

    @property
    def title(self) -> str:
        """The document title everywhere a form is filed: ``Lægeattest til ... (LÆ 265)``."""
        return f"{self.name_da} ({self.label})"


# The one table of the forms' Danish names (medcom.md §1.4: x1 = request, x5 = certificate).
DANISH_NAMES = {
    FormType.LAE261: "Anmodning om lægeattest til rehabiliteringsteam",
    FormType.LAE265: "Lægeattest til rehabiliteringsteam",
    FormType.LAE271: "Anmodning om lægeattest fra klinisk funktion",
    FormType.LAE275: "Lægeattest fra klinisk funktion",
}


class AttachmentKind(enum.StrEnum):
    """Attachments the regional agreements prescribe for LÆ 271, plus anything else sent."""

    LAE265 = "lae265"  # the GP's certificate
    REHAB_PLAN = "rehab_plan"  # the preparatory part of the rehabilitation plan
    COORDINATOR_NOTE = "coordinator_note"  # the health coordinator's screening note
    MEDICAL_RECORDS = "medical_records"  # records fetched from hospital or specialist
    OTHER = "other"


# LÆ 271 is only valid with these attachments (the municipality sends what the coordinator saw).
PRESCRIBED_LAE271_ATTACHMENTS = (AttachmentKind.LAE265, AttachmentKind.REHAB_PLAN)


@dataclass(frozen=True)
class Citizen:
    """The citizen (borger). ``cpr`` is the full CPR number: never log it."""

    cpr: str
    name: str = ""


@dataclass(frozen=True)
class Municipality:
    """The sending municipality: its number (kommunenummer, 3 digits), name and caseworker."""

    number: str
    name: str = ""
    caseworker: str = ""


@dataclass(frozen=True)
class GeneralPractitioner:
    """The citizen's GP practice, by ydernummer (6 digits, NAD scheme YNR)."""

    ydernummer: str
    name: str = ""


@dataclass(frozen=True)
class ClinicalFunction:
    """The regional clinical function, by its SOR code (NAD scheme SOR)."""

    sor: str
    name: str = ""


@dataclass(frozen=True)
class Parties:
    """Who the form is between: the municipality and GP always, the clinical function for 27x."""

    municipality: Municipality
    gp: GeneralPractitioner
    clinical_function: ClinicalFunction | None = None


@dataclass(frozen=True)
class Answer:
    """One of the caseworker's questions with the doctor's reply."""

    question: str
    reply: str


@dataclass(frozen=True)
class Attachment:
    """A document sent with LÆ 271, by kind and by its id in the case (or ESDH)."""

    kind: AttachmentKind
    title: str
    document_ref: str


@dataclass(frozen=True)
class Lae261:
    """LÆ 261: the municipality asks the GP for LÆ 265 (certificate for the rehabilitation team)."""

    form_type: ClassVar[FormType] = FormType.LAE261

    form_id: str
    case_ref: str
    issued_at: datetime
    citizen: Citizen
    parties: Parties
    background: str
    situation: str
    questions: tuple[str, ...] = field(default=(), metadata={"item": "question"})
    form_version: str = FORM_VERSION


@dataclass(frozen=True)
class Lae265:
    """LÆ 265: the GP's certificate for the rehabilitation team, answering an LÆ 261."""

    form_type: ClassVar[FormType] = FormType.LAE265

    form_id: str
    case_ref: str
    issued_at: datetime
    citizen: Citizen
    parties: Parties
    in_reply_to: str
    consultation_date: date
    health_conditions: str
    treatment_and_prognosis: str
    functional_ability: str
    citizen_view: str
    answers: tuple[Answer, ...] = field(default=(), metadata={"item": "answer"})
    form_version: str = FORM_VERSION


@dataclass(frozen=True)
class Lae271:
    """LÆ 271: the municipality asks the clinical function, with the prescribed attachments."""

    form_type: ClassVar[FormType] = FormType.LAE271

    form_id: str
    case_ref: str
    issued_at: datetime
    citizen: Citizen
    parties: Parties
    background: str
    coordinator_assessment: str
    questions: tuple[str, ...] = field(default=(), metadata={"item": "question"})
    attachments: tuple[Attachment, ...] = field(default=(), metadata={"item": "attachment"})
    form_version: str = FORM_VERSION


@dataclass(frozen=True)
class Lae275:
    """LÆ 275: the clinical function's certificate, answering an LÆ 271; a copy goes to the GP."""

    form_type: ClassVar[FormType] = FormType.LAE275

    form_id: str
    case_ref: str
    issued_at: datetime
    citizen: Citizen
    parties: Parties
    in_reply_to: str
    consultation_date: date
    health_conditions: str
    treatment_and_prognosis: str
    functional_ability: str
    citizen_view: str
    answers: tuple[Answer, ...] = field(default=(), metadata={"item": "answer"})
    form_version: str = FORM_VERSION


Form = Lae261 | Lae265 | Lae271 | Lae275

FORM_CLASSES: dict[FormType, type] = {
    FormType.LAE261: Lae261,
    FormType.LAE265: Lae265,
    FormType.LAE271: Lae271,
    FormType.LAE275: Lae275,
}

# Request -> the certificate that answers it.
ANSWERED_BY = {FormType.LAE261: FormType.LAE265, FormType.LAE271: FormType.LAE275}
