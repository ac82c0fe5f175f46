"""Pure translation from MedCom letters and receipts to ESDH journal entries, and case choice.

Rules (docs/esdh.md has the same text for vendors):

* **External key.** A letter's key is ``medcom:<sender GLN>:<letter id>`` (the letter id is
  RFF+SRI, or the UNH ref when absent). A corrected letter (GIS+M) keeps its letter id but is a
  new document, so its key adds ``:M:<UNB control ref>:<UNH ref>``. A receipt's key is
  ``medcom-receipt:<sender GLN>:<control ref>:<UNH ref>``. The ESDH refuses a second document
  with the same key, so a redelivered message never creates a second document.
* **Case.** The case reference carried by the message (``Letter.extra`` ``case_reference``,
  else the referral id RFF+ROI) picks the citizen's case with that reference; without one, or
  when no case of the citizen has it, the citizen's one OPEN case of the letter type's kind.
  No case, or several open cases of the kind, is ``CaseNotFound``: an operator files it; medbro
  never guesses.
* **LÆ certificates** arrive as DIS91 letters in medbro's LÆ profile (docs/lae-edifact-profile.md):
  the form's ``case_ref`` is the case reference, the case kind is the form's (``LAE265``), the
  document type is the form's Danish title (``Lægeattest til rehabiliteringsteam (LÆ 265)``,
  gateway.forms.model.DANISH_NAMES, the same for all four forms), and the HTML and PDF show
  the form laid out as the paper form (gateway.forms.layout). A DIS91 whose profile body does
  not read is journalised as the plain letter it also is.
* **Receipts** (CTL01-03 for a letter the municipality sent) go on the case of the document
  that letter became, found by its MedCom reference ``<sender>:<control ref>:<UNH ref>``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from adapters.esdh.render import (
    form_html,
    form_pdf,
    party_name,
    summarise_letter,
    summarise_receipt,
    to_html,
    to_pdf,
    type_title,
)
from gateway.errors import MedbroError
from gateway.forms import Form, FormValidationError, from_letter
from gateway.forms.edifact_profile import PROFILE_LINE
from gateway.forms.layout import layout
from gateway.model import Letter, LetterStatus, Receipt

DEFAULT_CASE_KINDS: Mapping[str, str] = {
    "LAE265": "rehabilitering",
    "LAE275": "rehabilitering",
}
DEFAULT_CASE_KIND = "sundhed"


class CaseNotFound(MedbroError):
    """No single case to journalise on; ``reason`` says what was searched (never the CPR)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Case:
    id: str
    kind: str
    status: str  # open | closed
    reference: str = ""
    title: str = ""


@dataclass(frozen=True)
class Attachment:
    name: str
    media_type: str
    content: bytes


@dataclass(frozen=True)
class JournalEntry:
    """One document to create: where to look for its case, its metadata and its files."""

    external_key: str
    title: str
    document_type: str
    document_date: datetime | None
    sender_organisation: str
    letter_id: str
    medcom_ref: str  # <sender GLN>:<control ref>:<UNH ref>, how receipts find it later
    cpr: str = ""  # the citizen (letters)
    case_reference: str = ""
    case_kind: str = DEFAULT_CASE_KIND
    original_of: str = ""  # receipts: medcom_ref of the letter they answer
    attachments: tuple[Attachment, ...] = ()


def medcom_ref(sender: str, control_ref: str, unh_ref: str) -> str:
    return f"{sender}:{control_ref}:{unh_ref}"


def case_kind(message_type: str, kinds: Mapping[str, str] | None = None) -> str:
    key = message_type.upper().replace("Æ", "AE").replace(" ", "")
    table = {**DEFAULT_CASE_KINDS, **{k.upper(): v for k, v in (kinds or {}).items()}}
    return table.get(key, table.get("*", DEFAULT_CASE_KIND))


def letter_key(letter: Letter, *, sender_gln: str, control_ref: str) -> str:
    key = f"medcom:{sender_gln}:{letter.letter_id or letter.ref}"
    if letter.status is LetterStatus.CORRECTED:
        key += f":M:{control_ref}:{letter.ref}"
    return key


def case_reference(letter: Letter) -> str:
    extra = dict(letter.extra)
    if extra.get("case_reference"):
        return extra["case_reference"]
    return letter.referral.id if letter.referral else ""


def lae_form(letter: Letter) -> Form | None:
    """The LÆ form a DIS91 carries in medbro's profile, or None (a plain letter)."""
    if letter.type != "DIS91" or not any(t.text.startswith(PROFILE_LINE) for t in letter.texts):
        return None
    try:
        return from_letter(letter)
    except FormValidationError:
        return None


def _files(stem: str, original: bytes, original_type: str, summary,
           form: Form | None = None) -> tuple[Attachment, ...]:
    """The original message, and its reading as HTML and PDF (a form as its paper form)."""
    if form is not None:
        paper = layout(form)
        html, pdf = form_html(paper), form_pdf(paper)
    else:
        html, pdf = to_html(summary), to_pdf(summary)
    return (
        Attachment(f"{stem}.edi" if original_type == "application/edifact" else f"{stem}.xml",
                   original_type, original),
        Attachment(f"{stem}.html", "text/html", html),
        Attachment(f"{stem}.pdf", "application/pdf", pdf),
    )


def _safe_stem(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text) or "brev"


def letter_entry(
    letter: Letter,
    *,
    original: bytes,
    original_type: str,
    sender_gln: str,
    control_ref: str,
    kinds: Mapping[str, str] | None = None,
) -> JournalEntry:
    """The journal entry for ``letter``; raises ``CaseNotFound`` when it names no citizen."""
    if letter.patient is None or not letter.patient.cpr:
        raise CaseNotFound(f"{letter.type} {letter.letter_id or letter.ref} names no patient CPR")
    summary = summarise_letter(letter)
    document_type = f"{letter.type} {type_title(letter.type)}"
    reference, kind = case_reference(letter), case_kind(letter.type, kinds)
    form = lae_form(letter)
    if form is not None:
        form_key = f"LAE{form.form_type.value}"
        document_type = form.form_type.title
        summary = replace(summary, title=f"{document_type} fra {party_name(letter.sender)}")
        reference, kind = form.case_ref, case_kind(form_key, kinds)
    return JournalEntry(
        external_key=letter_key(letter, sender_gln=sender_gln, control_ref=control_ref),
        title=summary.title[:250],
        document_type=document_type,
        document_date=letter.authorised_at or letter.sent_at,
        sender_organisation=party_name(letter.sender) or sender_gln,
        letter_id=letter.letter_id or letter.ref,
        medcom_ref=medcom_ref(sender_gln, control_ref, letter.ref),
        cpr=letter.patient.cpr,
        case_reference=reference,
        case_kind=kind,
        attachments=_files(_safe_stem(letter.letter_id or letter.ref), original, original_type,
                           summary, form),
    )


def receipt_entry(
    receipt: Receipt, *, original: bytes, sender_gln: str, control_ref: str
) -> JournalEntry:
    """The journal entry of a CONTRL receipt about a letter the municipality sent."""
    summary = summarise_receipt(receipt)
    first = receipt.original_letters[0].ref if receipt.original_letters else ""
    return JournalEntry(
        external_key=f"medcom-receipt:{sender_gln}:{control_ref}:{receipt.ref}",
        title=summary.title[:250],
        document_type=f"{receipt.type} {type_title(receipt.type)}",
        document_date=None,
        sender_organisation=sender_gln,
        letter_id=receipt.ref,
        medcom_ref=medcom_ref(sender_gln, control_ref, receipt.ref),
        original_of=medcom_ref(receipt.original_sender, receipt.original_control_ref, first),
        attachments=_files(_safe_stem(f"kvittering-{receipt.ref}"), original,
                           "application/edifact", summary),
    )


def choose_case(cases: Sequence[Case], *, reference: str, kind: str) -> Case:
    """The one case a letter belongs on (see the module rules); ``cases`` are the citizen's."""
    if reference:
        named = [c for c in cases if c.reference == reference]
        if len(named) == 1:
            return named[0]
    open_of_kind = [c for c in cases if c.kind == kind and c.status == "open"]
    if len(open_of_kind) == 1:
        return open_of_kind[0]
    looked = f"reference {reference!r} or " if reference else ""
    if not open_of_kind:
        raise CaseNotFound(f"the citizen has no case with {looked}an open case of kind {kind!r}")
    raise CaseNotFound(
        f"the citizen has {len(open_of_kind)} open cases of kind {kind!r} and "
        f"{'no case with reference ' + repr(reference) if reference else 'no case reference'}"
        "; an operator must choose"
    )
