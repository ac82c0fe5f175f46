"""The canonical model of MedCom letters and receipts.

Every codec (EDIFACT, OIOXML, the LÆ forms profile) translates to and from these classes, so
routing, the SLA clocks, the case flow and ESDH journalisation never look at a wire format.
They are frozen dataclasses with tuples for repeated parts, so two letters compare equal when
they say the same thing (the codec round trips rely on that).

Times are naive local Danish time (Europe/Copenhagen), as MedCom writes them; the SLA code
attaches the zone where it needs instants.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class RefusalCode(enum.StrEnum):
    """Refusal codes of a negative CONTRL receipt (FTX element 1; MedCom C0130Q/C0230Q)."""

    NC = "NC"  # ikke specificeret: not specified
    LOK = "LOK"  # ukendt lokationsnummer: unknown location number
    MID = "MID"  # problem med modtagerID: problem with the receiver id
    VER = "VER"  # problem med version: problem with the version
    SYN = "SYN"  # syntaksfejl: syntax error


class LetterStatus(enum.StrEnum):
    """GIS+N (a new letter) or GIS+M (a corrected letter, which replaces an earlier one)."""

    NEW = "N"
    CORRECTED = "M"


@dataclass(frozen=True)
class Envelope:
    """The interchange envelope (UNB): who sent it to whom, when, and whether a receipt is owed.

    ``test`` is UNB element 11 (test indicator ``1``): a test interchange, whose receipt is a
    test interchange too.
    """

    sender: str
    recipient: str
    control_ref: str
    prepared_at: datetime
    ack_requested: bool = False
    sender_qualifier: str = "14"
    recipient_qualifier: str = "14"
    syntax: str = "UNOC"
    syntax_version: str = "3"
    test: bool = False


@dataclass(frozen=True)
class Address:
    """ADR: street, city and post code as MedCom letters carry them."""

    street: str = ""
    city: str = ""
    postcode: str = ""


@dataclass(frozen=True)
class Party:
    """A NAD party: role qualifier as written (SSP, PO, CCR, SOR, ROR, ...), id and its scheme.

    ``scheme`` is the NAD code list: SKS (hospital department), YNR (GP ydernummer),
    KOM (municipality number), EAN (location number), SOR (SOR registry code); ``agency`` is the
    responsible agency (SST, SFU, IM). ``names`` are NAD element 4's components in order
    (organisation, department, unit, ...).
    """

    role: str
    id: str = ""
    scheme: str = ""
    agency: str = ""
    names: tuple[str, ...] = ()
    address: Address | None = None
    speciality: str = ""  # SPR+ORG speciality code as written (e.g. "30" = kirurgi, SKS)
    speciality_scheme: str = "SKS"  # SPR code list of the speciality (SKS; YNR at GP on-call)
    phone: str = ""  # CON++<number>:TE
    refs: tuple[tuple[str, str], ...] = ()  # RFF in the party's group: (LOC, GLN), (AHL, ..)


@dataclass(frozen=True)
class Patient:
    """PNA+PAT: the patient. ``cpr`` is the full CPR number: never log it (logging masks it)."""

    cpr: str
    surname: str = ""
    given_names: str = ""
    address: Address | None = None
    episode_status: str = ""  # PAS code as written (HS = indlagt, POT = ...)


@dataclass(frozen=True)
class Relative:
    """REL + PNA+PAS: a relative of the patient; ``relation`` is the REL code (FA, MO, ...)."""

    relation: str
    surname: str = ""
    given_names: str = ""


@dataclass(frozen=True)
class Diagnosis:
    """CIN: ``kind`` is the CIN qualifier (A main, DM additional, TR operation, DI referral...)."""

    kind: str
    code: str
    text: str = ""
    scheme: str = "SKS"
    agency: str = "SST"
    at: datetime | None = None

    @property
    def is_main(self) -> bool:
        return self.kind == "A"


@dataclass(frozen=True)
class Referral:
    """The referral a letter answers (DIS01 group S05): RFF+ROI, DTM+8, CIN+DI."""

    id: str
    status: LetterStatus = LetterStatus.NEW
    received_at: datetime | None = None
    diagnoses: tuple[Diagnosis, ...] = ()


@dataclass(frozen=True)
class FreeText:
    """One FTX run, decoded by MedCom's rules: lines joined by "\\n" (a "." component is an
    empty line; a trailing backslash continues the line in the next component)."""

    qualifier: str
    text: str
    format: str = "P00"
    # The last line goes on in the next FreeText without a line break (MedCom writes a format
    # change in mid-line as a run ending in "\\" followed by a run with another format).
    continued: bool = False


@dataclass(frozen=True)
class Letter:
    """A MedCom letter (epikrise, correspondence, advis, ...) in canonical form."""

    type: str  # statistical code, e.g. DIS01
    version: str  # MedCom version code, e.g. D0133L
    ref: str  # UNH message reference
    letter_id: str = ""  # RFF+SRI
    status: LetterStatus = LetterStatus.NEW
    family: str = "MEDDIS"
    authorised_at: datetime | None = None  # DTM+137
    sent_at: datetime | None = None  # DTM+182
    sender: Party | None = None
    receiver: Party | None = None
    copies: tuple[Party, ...] = ()
    patient: Patient | None = None
    admitted_at: datetime | None = None  # DTM+90
    discharged_at: datetime | None = None  # DTM+91
    diagnoses: tuple[Diagnosis, ...] = ()
    texts: tuple[FreeText, ...] = ()
    relatives: tuple[Relative, ...] = ()
    contacts: tuple[Party, ...] = ()  # S01 parties other than sender/receiver/copies (BV, RSP)
    referral: Referral | None = None
    priority: str = ""  # RFF+HI (DIS91: NC = høj prioritet in OIOXML)
    extra: tuple[tuple[str, str], ...] = field(default=())  # codec-specific extras, kept verbatim

    @property
    def main_diagnosis(self) -> Diagnosis | None:
        return next((d for d in self.diagnoses if d.is_main), None)


@dataclass(frozen=True)
class OriginalLetter:
    """UCM: one original message a receipt speaks of (its UNH ref and message identifier)."""

    ref: str
    message_identifier: str  # e.g. MEDREF:D:93A:UN:H0130R
    action: str  # 4 rejected, 7 acknowledged


@dataclass(frozen=True)
class Receipt:
    """A CONTRL receipt: CTL01 (negative VANS), CTL02 (negative), CTL03 (positive)."""

    type: str  # CTL01 / CTL02 / CTL03
    version: str  # C0130Q / C0230Q / C0330Q
    ref: str  # UNH ref of the receipt itself
    original_control_ref: str
    original_sender: str
    original_recipient: str
    original_letters: tuple[OriginalLetter, ...] = ()
    refusal: RefusalCode | None = None
    text: str = ""
    original_sender_qualifier: str = "14"
    original_recipient_qualifier: str = "14"
    text_format: str = "P00"
    # Where the refusal FTX stands: "" = right after UCI (the whole interchange is refused, as
    # in CTL01); a UCM ref = right after that UCM (that letter is refused, as in CTL02).
    # OIOXML puts RefuseCode/RefuseText on OriginalEmessage or on that OriginalLetter.
    refused_letter_ref: str = ""

    @property
    def accepted(self) -> bool:
        return self.type == "CTL03"
