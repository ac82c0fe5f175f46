"""Canonical model -> OIOXML ``Emessage`` (XDIS01, XDIS20, XDIS91, XREF01, XCTL01/02/03).

The element order and the rules follow MedCom's own EDIFACT->XML converter as its sample twins
show it: the envelope's GLNs become Sender/Receiver ``EANIdentifier``, the UNB time becomes
``Envelope/Sent``, codes become Danish words (codes.py), free text becomes lines each followed
by ``<Break/>``. Output is windows-1252, as MedCom writes it, without indentation.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from lxml import etree

from gateway.logging import get_logger
from gateway.model import Address, Diagnosis, Envelope, FreeText, Letter, Party, Receipt
from gateway.oioxml import codes, conformance, extras, referral_extras
from gateway.oioxml.errors import OioxmlError
from gateway.oioxml.losses import unrepresented
from gateway.oioxml.text import append_formatted, append_lines

NS_2005 = "http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2005/08/07/"
NS_2006 = "http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2006/07/01/"

# Letter type -> (OIOXML element, namespace). DIS91 lives in the 2006/07/01 set (see the twin).
LETTER_ELEMENTS = {
    "DIS01": ("DischargeLetter", NS_2005),
    "DIS20": ("NotificationOfAdmission", NS_2005),
    "DIS91": ("ClinicalEmail", NS_2006),
    "REF01": ("HospitalReferral", NS_2005),
}
RECEIPT_ELEMENTS = {
    "CTL01": "NegativeVansReceipt",
    "CTL02": "NegativeReceipt",
    "CTL03": "PositiveReceipt",
}
ENCODING = "windows-1252"

QName = Callable[[str], str]
log = get_logger(__name__)


def write(envelope: Envelope, message: Letter | Receipt) -> bytes:
    """The OIOXML document for one letter or receipt in its interchange envelope.

    What the model holds and OIOXML cannot say (see losses.py) is logged by field name, never
    dropped silently; values are not logged (they may hold a CPR number). A letter MedCom's
    schema would refuse (conformance.py) is refused, naming the field.
    """
    refused = conformance.problems(envelope, message)
    if refused:
        field, rule = refused[0]
        raise OioxmlError(field, f"MedCom's OIOXML schema requires: {rule}")
    root = to_element(envelope, message)
    lost = unrepresented(envelope, message)
    if lost:
        log.warning("oioxml_fields_dropped", fields=lost, letter_type=message.type)
    return etree.tostring(root, xml_declaration=True, encoding=ENCODING)


def to_element(envelope: Envelope, message: Letter | Receipt) -> etree._Element:
    if isinstance(message, Receipt):
        ns = NS_2005
        if message.type not in RECEIPT_ELEMENTS:
            raise OioxmlError("receipt.type", f"no OIOXML form for receipt type {message.type!r}")
    else:
        if message.type not in LETTER_ELEMENTS:
            raise OioxmlError("letter.type", f"no OIOXML form for letter type {message.type!r}")
        ns = LETTER_ELEMENTS[message.type][1]

    def q(name: str) -> str:
        return f"{{{ns}}}{name}"

    root = etree.Element(q("Emessage"), nsmap={None: ns})
    _envelope(root, envelope, q)
    if isinstance(message, Receipt):
        _receipt(root, envelope, message, q)
    elif message.type == "DIS01":
        _discharge_letter(root, envelope, message, q)
    elif message.type == "DIS20":
        _notification_of_admission(root, envelope, message, q)
    elif message.type == "REF01":
        _hospital_referral(root, envelope, message, q)
    else:
        _clinical_email(root, envelope, message, q)
    return root


# -- building blocks -------------------------------------------------------------------------


def _add(parent: etree._Element, q: QName, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, q(name))
    if text is not None:
        element.text = text
    return element


def _add_if(parent: etree._Element, q: QName, name: str, text: str) -> None:
    if text:
        _add(parent, q, name, text)


def _date_time(parent: etree._Element, q: QName, name: str, when: datetime) -> None:
    element = _add(parent, q, name)
    _add(element, q, "Date", when.strftime("%Y-%m-%d"))
    _add(element, q, "Time", when.strftime("%H:%M"))


def _code(table: codes.CodeTable, code: str, where: str) -> str:
    word = table.to_xml(code)
    if word is None:
        raise OioxmlError(where, f"{table.name} has no word for code {code!r}")
    return word


def _envelope(root: etree._Element, envelope: Envelope, q: QName) -> None:
    env = _add(root, q, "Envelope")
    _date_time(env, q, "Sent", envelope.prepared_at)
    _add(env, q, "Identifier", envelope.control_ref)
    ack = "pluspositivkvitt" if envelope.ack_requested else "minuspositivkvitt"
    _add(env, q, "AcknowledgementCode", ack)


def _letter_head(parent: etree._Element, letter: Letter, q: QName) -> None:
    head = _add(parent, q, "Letter")
    _add(head, q, "Identifier", letter.ref)
    _add(head, q, "VersionCode", "X" + letter.version)
    _add(head, q, "StatisticalCode", "X" + letter.type)
    if letter.authorised_at is not None:
        _date_time(head, q, "Authorisation", letter.authorised_at)
    _add(head, q, "TypeCode", "X" + letter.type)
    _add(head, q, "StatusCode", _code(codes.STATUS_CODES, letter.status.value, "letter.status"))
    episode = extras.episode_identifier(letter.extra)
    if episode is not None:
        _add(head, q, "EpisodeOfCareIdentifier", episode)


def _party(
    parent: etree._Element,
    q: QName,
    name: str,
    party: Party,
    where: str,
    ean: str | None,
    contacts: tuple[Party, ...] = (),
) -> None:
    element = _add(parent, q, name)
    if ean is not None:
        _add(element, q, "EANIdentifier", ean)
    _add_if(element, q, "Identifier", party.id)
    if party.scheme or party.agency:
        scheme = party.scheme or "EAN"
        _add(element, q, "IdentifierCode", _code(codes.IDENTIFIER_CODES, scheme, where + ".scheme"))
    name_tags = ("OrganisationName", "DepartmentName", "UnitName")
    for tag, value in zip(name_tags, party.names[:3], strict=False):
        _add_if(element, q, tag, value)
    _address(element, q, party.address)
    if name != "Sender":
        return
    _add_if(element, q, "TelephoneSubscriberIdentifier", party.phone)
    if party.speciality:
        word = _code(codes.SPECIALITY_CODES, party.speciality, where + ".speciality")
        _add(element, q, "MedicalSpecialityCode", word)
    for i, contact in enumerate(contacts):
        _party(element, q, "Contact", contact, f"letter.contacts[{i}]", None)


def _address(parent: etree._Element, q: QName, address: Address | None) -> None:
    if address is None:
        return
    _add_if(parent, q, "StreetName", address.street)
    _add_if(parent, q, "DistrictName", address.city)
    _add_if(parent, q, "PostCodeIdentifier", address.postcode)


def _patient(parent: etree._Element, letter: Letter, q: QName) -> None:
    patient = letter.patient
    if patient is None:
        raise OioxmlError("letter.patient", "an OIOXML letter must name its patient")
    element = _add(parent, q, "Patient")
    _add_if(element, q, "CivilRegistrationNumber", patient.cpr)
    _add(element, q, "PersonSurnameName", patient.surname)
    _add_if(element, q, "PersonGivenName", patient.given_names)
    _address(element, q, patient.address)
    if patient.episode_status:
        word = _code(codes.EPISODE_STATUS, patient.episode_status, "letter.patient.episode_status")
        _add(element, q, "EpisodeOfCareStatusCode", word)


def _diagnosis_body(element: etree._Element, q: QName, diag: Diagnosis, where: str) -> None:
    _add(element, q, "DiagnoseCode", diag.code)
    _add(element, q, "DiagnoseTypeCode", _code(codes.DIAGNOSIS_SCHEMES, diag.scheme, where))
    _add(element, q, "DiagnoseText", diag.text)


def _diagnoses(parent: etree._Element, letter: Letter, q: QName) -> None:
    """S11 diagnoses as Main (the A) and MainAdditional (DMs), S14 ones as Other; when the
    S11 part has no XDIS01 form, all become Other (losses.py records it)."""
    diags = list(letter.diagnoses)
    if not diags:
        return
    block = _add(parent, q, "Diagnose")
    if extras.s11_fits(letter):
        n = extras.s11_count(letter)
        for i, diag in enumerate(diags[:n]):
            plain = _add(block, q, "Main" if i == 0 and diag.kind == "A" else "MainAdditional")
            _add(plain, q, "DiagnoseCode", diag.code)
            _add(plain, q, "DiagnoseText", diag.text)
        diags = diags[n:]
    for diag in diags:
        where = f"letter.diagnoses[{letter.diagnoses.index(diag)}]"
        other = _add(block, q, "Other")
        _add(other, q, "DiagnoseDescriptionCode", _code(codes.DIAGNOSIS_KINDS, diag.kind, where))
        _diagnosis_body(other, q, diag, where + ".scheme")
        if diag.at is not None:
            _date_time(other, q, "DiagnoseDateTime", diag.at)


def _referral(parent: etree._Element, letter: Letter, q: QName) -> None:
    referral = letter.referral
    if referral is None:
        return
    element = _add(parent, q, "Referral")
    _add_if(element, q, "Identifier", referral.id)
    if referral.received_at is not None:
        _date_time(element, q, "Received", referral.received_at)
    tags = {"DI": "Refer", "DM": "ReferalAdditional"}
    kinds = [d.kind for d in referral.diagnoses]
    if kinds.count("DI") > 1 or any(k not in tags for k in kinds) or "DI" in kinds[1:]:
        raise OioxmlError(
            "letter.referral.diagnoses", f"OIOXML carries one DI then DM diagnoses, not {kinds}"
        )
    for i, diag in enumerate(referral.diagnoses):
        sub = _add(element, q, tags[diag.kind])
        _diagnosis_body(sub, q, diag, f"letter.referral.diagnoses[{i}].scheme")


def _clinical_information(parent: etree._Element, texts: list[FreeText], q: QName) -> None:
    """One <ClinicalInformation> per run of texts; a new one starts when two neighbours share
    a format, so that reading splits the texts exactly where the model did."""
    text01 = None
    previous = None
    for text in texts:
        if text01 is None or text.format == previous:
            info = _add(parent, q, "ClinicalInformation")
            text01 = _add(info, q, "Text01")
        append_formatted(text01, text.text, text.format, q, continued=text.continued)
        previous = text.format


def _envelope_parties(parent, envelope: Envelope, letter: Letter, q: QName) -> None:
    if letter.sender is None or letter.receiver is None:
        raise OioxmlError("letter.sender", "an OIOXML letter needs a sender and a receiver")
    contacts = rsp_contacts(letter)
    _party(parent, q, "Sender", letter.sender, "letter.sender", envelope.sender, contacts)
    _party(parent, q, "Receiver", letter.receiver, "letter.receiver", envelope.recipient)


def rsp_contacts(letter: Letter) -> tuple[Party, ...]:
    """The contacts XDIS01 carries: the responsible person (RSP) inside Sender."""
    if letter.type != "DIS01":
        return ()
    return tuple(c for c in letter.contacts if c.role == "RSP")


def _discharge_letter(root, envelope: Envelope, letter: Letter, q: QName) -> None:
    body = _add(root, q, "DischargeLetter")
    _letter_head(body, letter, q)
    _envelope_parties(body, envelope, letter, q)
    for i, copy in enumerate(letter.copies):
        _party(body, q, "CCReceiver", copy, f"letter.copies[{i}]", None)
    _patient(body, letter, q)
    for i, relative in enumerate(letter.relatives):
        element = _add(body, q, "Relative")
        word = _code(codes.RELATION_CODES, relative.relation, f"letter.relatives[{i}].relation")
        _add(element, q, "RelationCode", word)
        _add(element, q, "PersonSurnameName", relative.surname)
        _add_if(element, q, "PersonGivenName", relative.given_names)
    _referral(body, letter, q)
    if letter.admitted_at is not None:
        _date_time(body, q, "Admission", letter.admitted_at)
    if letter.discharged_at is not None:
        _date_time(body, q, "Discharge", letter.discharged_at)
    _diagnoses(body, letter, q)
    _clinical_information(body, list(letter.texts), q)


def _clinical_email(root, envelope: Envelope, letter: Letter, q: QName) -> None:
    body = _add(root, q, "ClinicalEmail")
    _letter_head(body, letter, q)
    _envelope_parties(body, envelope, letter, q)
    _patient(body, letter, q)
    texts = list(letter.texts)
    subject = texts.pop(0) if texts and texts[0].qualifier == "OE" else None
    priority = ""
    if letter.priority:  # RFF+HI:<value>; MedCom writes HI:NC
        priority = "høj_prioritet"
    elif extras.ROUTINE in letter.extra:
        priority = "rutine"
    if priority or subject is not None:
        extra = _add(body, q, "AdditionalInformation")
        _add_if(extra, q, "Priority", priority)
        if subject is not None:
            _add(extra, q, "Subject", subject.text)
    _clinical_information(body, texts, q)


def _receipt(root, envelope: Envelope, receipt: Receipt, q: QName) -> None:
    body = _add(root, q, RECEIPT_ELEMENTS[receipt.type])
    head = _add(body, q, "Letter")
    _add(head, q, "Identifier", receipt.ref)
    _add(head, q, "VersionCode", "X" + receipt.version)
    _add(head, q, "StatisticalCode", "X" + receipt.type)
    _add(_add(body, q, "Sender"), q, "EANIdentifier", envelope.sender)
    _add(_add(body, q, "Receiver"), q, "EANIdentifier", envelope.recipient)
    original = _add(body, q, "OriginalEmessage")
    _add(original, q, "OriginalEnvelopeIdentifier", receipt.original_control_ref)
    _add(_add(original, q, "OriginalSender"), q, "EANIdentifier", receipt.original_sender)
    _add(_add(original, q, "OriginalReceiver"), q, "EANIdentifier", receipt.original_recipient)
    refs = [o.ref for o in receipt.original_letters]
    if receipt.refused_letter_ref and receipt.refused_letter_ref not in refs:
        raise OioxmlError(
            "receipt.refused_letter_ref",
            f"{receipt.refused_letter_ref!r} is none of the original letters {refs}",
        )
    if not receipt.refused_letter_ref:
        _refusal(original, receipt, q)
    for letter in receipt.original_letters:
        element = _add(original, q, "OriginalLetter")
        _add(element, q, "OriginalLetterIdentifier", letter.ref)
        _add(element, q, "OriginalVersionCode", letter.message_identifier.split(":")[-1])
        if receipt.refused_letter_ref == letter.ref:
            _refusal(element, receipt, q)


def _refusal(parent: etree._Element, receipt: Receipt, q: QName) -> None:
    if receipt.refusal is not None:
        word = _code(codes.REFUSE_CODES, receipt.refusal.value, "receipt.refusal")
        _add(parent, q, "RefuseCode", word)
    if receipt.text:
        append_lines(_add(parent, q, "RefuseText"), receipt.text, q)


def _notification_of_admission(
    root: etree._Element, envelope: Envelope, letter: Letter, q: QName
) -> None:
    """XDIS20 NotificationOfAdmission (indlæggelsesadvis): who admitted which patient when.

    The sender's RFF+LOC is its AnswerTo location; the S11 RFF+REI reference is the
    NotificationIdentifier; the authorisation time has seconds (EDIFACT DTM 204).
    """
    body = _add(root, q, "NotificationOfAdmission")
    head = _add(body, q, "Letter")
    _add(head, q, "Identifier", letter.ref)
    _add(head, q, "VersionCode", "X" + letter.version)
    _add(head, q, "StatisticalCode", "X" + letter.type)
    authorised = _add(head, q, "Authorisation")
    when = letter.authorised_at or envelope.prepared_at
    _add(authorised, q, "Date", when.strftime("%Y-%m-%d"))
    _add(authorised, q, "TimeWithSec", when.strftime("%H:%M:%S"))
    _add(head, q, "TypeCode", "X" + letter.type)
    _add(head, q, "StatusCode", _code(codes.STATUS_CODES, letter.status.value, "letter.status"))
    _add(head, q, "NotificationIdentifier", extras.notification_identifier(letter.extra) or "")
    sender = letter.sender or Party(role="SOR")
    element = _add(body, q, "Sender")
    _add(element, q, "EANIdentifier", envelope.sender)
    _add(element, q, "Identifier", sender.id)
    scheme = sender.scheme or "EAN"
    _add(
        element, q, "IdentifierCode", _code(codes.IDENTIFIER_CODES, scheme, "letter.sender.scheme")
    )
    for tag, value in zip(
        ("OrganisationName", "DepartmentName", "UnitName"), sender.names[:3], strict=False
    ):
        _add_if(element, q, tag, value)
    _add_if(element, q, "TelephoneSubscriberIdentifier", sender.phone)
    answer_to = _add(element, q, "AnswerTo")
    _add(answer_to, q, "EANIdentifier", dict(sender.refs).get("LOC", envelope.sender))
    receiver = letter.receiver or Party(role="ROR")
    element = _add(body, q, "Receiver")
    _add(element, q, "EANIdentifier", envelope.recipient)
    _add(element, q, "Identifier", receiver.id)
    scheme = receiver.scheme or "EAN"
    _add(
        element,
        q,
        "IdentifierCode",
        _code(codes.IDENTIFIER_CODES, scheme, "letter.receiver.scheme"),
    )
    if receiver.names:
        _add_if(element, q, "OrganisationName", receiver.names[0])
    patient = letter.patient
    if patient is None:
        raise OioxmlError("letter.patient", "an OIOXML letter must name its patient")
    element = _add(body, q, "Patient")
    _add(element, q, "CivilRegistrationNumber", patient.cpr)
    if patient.episode_status:
        word = _code(codes.EPISODE_STATUS, patient.episode_status, "letter.patient.episode_status")
        _add(element, q, "EpisodeOfCareStatusCode", word)
    if letter.admitted_at is None:
        raise OioxmlError("letter.admitted_at", "a NotificationOfAdmission needs the admission")
    _date_time(body, q, "Admission", letter.admitted_at)


def _hospital_referral(root: etree._Element, envelope: Envelope, letter: Letter, q: QName) -> None:
    """XREF01 HospitalReferral (sygehushenvisning): the GP (NAD+PO) and its Referrer (NAD+BV)
    refer the patient to a hospital department (NAD+SSP), AnswerCCReceiver (NAD+PRH) gets the
    answer too; the rest of what the REF01 says is in its extras (referral_extras)."""
    facts = referral_extras.facts(letter)
    body = _add(root, q, "HospitalReferral")
    head = _add(body, q, "Letter")
    _add(head, q, "Identifier", letter.ref)
    _add(head, q, "VersionCode", "X" + letter.version)
    _add(head, q, "StatisticalCode", "X" + letter.type)
    _date_time(head, q, "Authorisation", letter.authorised_at or envelope.prepared_at)
    _add(head, q, "TypeCode", "X" + letter.type)
    _add(head, q, "StatusCode", _code(codes.STATUS_CODES, letter.status.value, "letter.status"))
    if letter.sender is None or letter.receiver is None:
        raise OioxmlError("letter.sender", "an OIOXML letter needs a sender and a receiver")
    referrer, answer_cc = referral_contacts(letter)
    if referrer is None:
        raise OioxmlError("letter.contacts", "a HospitalReferral names its Referrer (NAD+BV)")
    _party(body, q, "Sender", letter.sender, "letter.sender", envelope.sender)
    sender = body[-1]
    element = _add(sender, q, "Referrer")
    _add_if(element, q, "Identifier", referrer.id)
    if referrer.scheme:
        where = "letter.contacts (Referrer).scheme"
        _add(element, q, "IdentifierCode", _code(codes.IDENTIFIER_CODES, referrer.scheme, where))
    title, name = _referrer_names(referrer)
    _add(element, q, "PersonName", name)
    _add_if(element, q, "PersonTitle", title)
    _party(body, q, "Receiver", letter.receiver, "letter.receiver", envelope.recipient)
    if answer_cc is not None:
        _party(body, q, "AnswerCCReceiver", answer_cc, "letter.contacts (AnswerCCReceiver)", None)
        _add_if(body[-1], q, "TelephoneSubscriberIdentifier", answer_cc.phone)
    texts: dict[str, str] = {}
    for text in letter.texts:  # one per qualifier, the first (losses.py names the rest)
        texts.setdefault(text.qualifier, text.text)
    patient = letter.patient
    if patient is None:
        raise OioxmlError("letter.patient", "an OIOXML letter must name its patient")
    element = _add(body, q, "Patient")
    _add(element, q, "CivilRegistrationNumber", patient.cpr)
    _add(element, q, "PersonSurnameName", patient.surname)
    _add_if(element, q, "PersonGivenName", patient.given_names)
    _add_if(element, q, "PersonTitle", facts.patient_title)
    _address(element, q, patient.address)
    for code, number in facts.phones:
        phone = _add(element, q, "TelephoneSubscriber")
        _add(phone, q, "TelephoneSubscriberIdentifier", number)
        word = _code(codes.TELEPHONE_CODES, code, "letter.extra (S07 CON)")
        _add(phone, q, "TelephoneSubscriberCode", word)
    if "IN" in texts:
        _add(element, q, "EmailIdentifier", texts["IN"])
    relative = facts.relative
    if relative is not None:
        element = _add(body, q, "Relative")
        where = "letter.extra (S10 REL)"
        _add(element, q, "RelationCode", _code(codes.RELATION_CODES, relative.relation, where))
        _add_if(element, q, "PersonIdentifier", relative.cpr)
        _add(element, q, "PersonSurnameName", relative.surname)
        _add_if(element, q, "PersonGivenName", relative.given_names)
    if facts.priority or facts.transport or "COT" in texts or "DI" in texts:
        element = _add(body, q, "AdditionalInformation")
        if facts.priority:
            where = "letter.extra (S18 PTY)"
            _add(element, q, "Priority", _code(codes.REFERRAL_PRIORITY, facts.priority, where))
        if facts.transport:
            where = "letter.extra (S19 TDT)"
            _add(element, q, "Transport", _code(codes.REFERRAL_TRANSPORT, facts.transport, where))
        for qualifier, tag in (("COT", "Supplementary"), ("DI", "ClinicalReason")):
            if qualifier in texts:
                append_lines(_add(element, q, tag), texts[qualifier], q)
    if letter.diagnoses:
        element = _add(body, q, "Referral")
        for i, diag in enumerate(letter.diagnoses):
            where = f"letter.diagnoses[{i}]"
            if i == 0 and diag.kind == "H":
                sub = _add(element, q, "Refer")
            else:
                sub = _add(element, q, "ReferralAdditional")
                word = _code(codes.DIAGNOSIS_KINDS, diag.kind, where + ".kind")
                _add(sub, q, "DiagnoseDescriptionCode", word)
            _add_if(sub, q, "DiagnoseCode", diag.code)
            _add(sub, q, "DiagnoseTypeCode", _code(codes.DIAGNOSIS_SCHEMES, diag.scheme, where))
            _add(sub, q, "DiagnoseText", diag.text)
    clinical = [(tag, texts[k]) for k, tag in REFERRAL_CLINICAL if k in texts]
    if clinical:
        element = _add(body, q, "RelevantClinicalInformation")
        for tag, text in clinical:
            append_lines(_add(element, q, tag), text, q)


# RelevantClinicalInformation, in MedCom's order: FTX qualifier -> element.
REFERRAL_CLINICAL = (("AL", "Cave"), ("NC", "Anamnesis"), ("CF", "Examination"),
                     ("MT", "ActualMedicine"))


def referral_contacts(letter: Letter) -> tuple[Party | None, Party | None]:
    """The contacts XREF01 carries: the first NAD+BV (Referrer), the first NAD+PRH."""
    referrer = next((c for c in letter.contacts if c.role == "BV"), None)
    answer_cc = next((c for c in letter.contacts if c.role == "PRH"), None)
    return referrer, answer_cc


def _referrer_names(referrer: Party) -> tuple[str, str]:
    """NAD+BV names: (PersonTitle, PersonName), as MedCom's converter writes them."""
    names = (*referrer.names, "", "")
    return names[0], names[1]
