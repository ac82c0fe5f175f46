"""OIOXML ``Emessage`` -> canonical model (XDIS01, XDIS20, XDIS91, XREF01, XCTL01/02/03).

The reader is strict: every element must be one it maps, so nothing a sender wrote is dropped
without a word. Unknown elements, bad codes and bad dates raise :class:`OioxmlError` naming
the element path. Where OIOXML says less than the model holds, the reader fills in what
MedCom's XML->EDIFACT converter writes (RFF+SRI = the letter identifier, DTM+182 = the
authorisation time, the agency of each code list, FTX qualifier NC).
"""

from __future__ import annotations

from dataclasses import replace

from lxml import etree

from gateway.model import (
    Address,
    Diagnosis,
    Envelope,
    FreeText,
    Letter,
    LetterStatus,
    OriginalLetter,
    Party,
    Patient,
    Receipt,
    Referral,
    RefusalCode,
    Relative,
)
from gateway.oioxml import codes, extras, referral_extras
from gateway.oioxml.cursor import (
    Node,
    date_time,
    opt_date_time,
    opt_word_code,
    parse_xml,
    word_code,
    x_code,
)
from gateway.oioxml.errors import OioxmlError
from gateway.oioxml.text import read_lines, read_runs
from gateway.oioxml.writer import LETTER_ELEMENTS, NS_2005, NS_2006, RECEIPT_ELEMENTS
from gateway.oioxml.xmlpath import local_name, path_of

_BODIES = {name: (t, ns) for t, (name, ns) in LETTER_ELEMENTS.items()}
_BODIES.update({name: (t, NS_2005) for t, name in RECEIPT_ELEMENTS.items()})


def read(data: bytes, *, validate: bool = True) -> tuple[Envelope, Letter | Receipt]:
    """Read one OIOXML Emessage into (envelope, letter or receipt)."""
    return read_element(parse_xml(data), validate=validate)


def read_element(
    root: etree._Element, *, validate: bool = True
) -> tuple[Envelope, Letter | Receipt]:
    if local_name(root) != "Emessage":
        raise OioxmlError(path_of(root), f"expected <Emessage>, found <{local_name(root)}>")
    if etree.QName(root).namespace not in (NS_2005, NS_2006):
        raise OioxmlError(path_of(root), f"unknown namespace {etree.QName(root).namespace!r}")
    if validate:
        from gateway.oioxml.validate import validate_element

        validate_element(root)
    emessage = Node(root)
    bodies = [c for c in root if isinstance(c.tag, str) and local_name(c) != "Envelope"]
    if len(bodies) != 1:
        raise emessage.fail("an Emessage holds exactly one letter or receipt")
    name = local_name(bodies[0])
    if name not in _BODIES:
        raise OioxmlError(path_of(bodies[0]), f"unsupported OIOXML letter <{name}>")
    letter_type, ns = _BODIES[name]
    if emessage.ns != ns:
        raise emessage.fail(f"<{name}> belongs to namespace {ns}")
    envelope_node = emessage.one("Envelope")
    body = emessage.one(name)
    emessage.done()
    sender_ean = body.one("Sender").text("EANIdentifier")
    receiver_ean = body.one("Receiver").text("EANIdentifier")
    envelope = _envelope(envelope_node, sender_ean, receiver_ean)
    if letter_type.startswith("CTL"):
        return envelope, _receipt(body, letter_type)
    if letter_type == "DIS20":
        return envelope, _notification_of_admission(body)
    if letter_type == "REF01":
        return envelope, _hospital_referral(body)
    return envelope, _letter(body, letter_type)


# -- values ----------------------------------------------------------------------------------


def _envelope(node: Node, sender: str, recipient: str) -> Envelope:
    prepared_at = date_time(node.one("Sent"))
    ack_node = node.one("AcknowledgementCode")
    ack = ack_node.value()
    if ack not in ("pluspositivkvitt", "minuspositivkvitt"):
        raise ack_node.fail(f"unknown AcknowledgementCode {ack!r}")
    control_ref = node.text("Identifier")
    node.done()
    return Envelope(
        sender=sender,
        recipient=recipient,
        control_ref=control_ref,
        prepared_at=prepared_at,
        ack_requested=ack == "pluspositivkvitt",
    )


# -- letters ---------------------------------------------------------------------------------


def _letter(body: Node, letter_type: str) -> Letter:
    head = body.one("Letter")
    ref = head.text("Identifier")
    version = x_code(head, "VersionCode")
    statistical = x_code(head, "StatisticalCode")
    type_code = x_code(head, "TypeCode")
    if statistical != letter_type or type_code != letter_type:
        raise head.fail(f"StatisticalCode/TypeCode must be X{letter_type} in this letter")
    authorised_at = opt_date_time(head, "Authorisation")
    status = LetterStatus(word_code(head, "StatusCode", codes.STATUS_CODES))
    episode = head.opt("EpisodeOfCareIdentifier")
    head.done()

    sender_node = body.one("Sender")
    contacts = _contacts(sender_node)
    sender = _party(sender_node, "SSP")
    receiver = _party(body.one("Receiver"), "PO")
    copies = tuple(_party(n, "CCR") for n in body.many("CCReceiver"))
    patient = _patient(body.one("Patient"))
    relatives = tuple(_relative(n) for n in body.many("Relative"))
    referral_node = body.opt("Referral")
    referral = _referral(referral_node) if referral_node is not None else None
    admitted_at = opt_date_time(body, "Admission")
    discharged_at = opt_date_time(body, "Discharge")
    diagnose = body.opt("Diagnose")
    diagnoses, in_s11 = _diagnoses(diagnose) if diagnose is not None else ((), 0)

    texts: list[FreeText] = []
    priority = ""
    kept: list[tuple[str, str]] = []  # segments the EDIFACT codec keeps in Letter.extra
    additional = body.opt("AdditionalInformation")
    if additional is not None:
        level = opt_word_code(additional, "Priority", codes.PRIORITY_CODES)
        if level == "HI":
            priority = extras.HIGH_PRIORITY
        elif level == "NO":
            kept.append(extras.ROUTINE)
        subject = additional.opt("Subject")
        if subject is not None:
            texts.append(FreeText("OE", subject.value()))
        additional.done()
    kept.append(extras.episode_extra(episode.value() if episode is not None else None))
    layout = extras.layout_extra(diagnoses, in_s11)
    if layout is not None:
        kept.append(layout)
    for info in body.many("ClinicalInformation"):
        text01 = info.one("Text01")
        info.done()
        runs = read_runs(text01.element)
        texts += [FreeText("NC", text, fmt, continued=c) for fmt, text, c in runs]
    body.done()
    return Letter(
        type=letter_type,
        version=version,
        ref=ref,
        letter_id=ref,
        status=status,
        family=codes.family_of_version(version),
        authorised_at=authorised_at,
        sent_at=authorised_at,
        sender=sender,
        receiver=receiver,
        copies=copies,
        patient=patient,
        admitted_at=admitted_at,
        discharged_at=discharged_at,
        diagnoses=diagnoses,
        texts=tuple(texts),
        relatives=relatives,
        contacts=contacts,
        referral=referral,
        priority=priority,
        extra=tuple(kept),
    )


def _notification_of_admission(body: Node) -> Letter:
    """XDIS20 as the EDIFACT codec models a DIS20: sender NAD+SOR (its AnswerTo location as
    RFF+LOC), receiver NAD+ROR, the admission as DTM+90, the NotificationIdentifier as the S11
    RFF+REI beside the GIS+N and GIS+P MedCom writes there."""
    head = body.one("Letter")
    ref = head.text("Identifier")
    version = x_code(head, "VersionCode")
    if x_code(head, "StatisticalCode") != "DIS20" or x_code(head, "TypeCode") != "DIS20":
        raise head.fail("StatisticalCode/TypeCode must be XDIS20 in this letter")
    authorised_at = _date_time_with_seconds(head.one("Authorisation"))
    status = LetterStatus(word_code(head, "StatusCode", codes.STATUS_CODES))
    notification = head.text("NotificationIdentifier")
    head.done()
    sender_node = body.one("Sender")
    answer_to = sender_node.one("AnswerTo")
    location = answer_to.text("EANIdentifier")
    answer_to.done()
    sender = _party(sender_node, "SOR")
    sender = Party(
        role="SOR",
        id=sender.id,
        scheme=sender.scheme,
        agency=sender.agency,
        names=sender.names,
        phone=sender.phone,
        refs=(("LOC", location),),
    )
    receiver = _party(body.one("Receiver"), "ROR")
    patient_node = body.one("Patient")
    patient = Patient(
        cpr=patient_node.text("CivilRegistrationNumber"),
        episode_status=opt_word_code(patient_node, "EpisodeOfCareStatusCode", codes.EPISODE_STATUS),
    )
    patient_node.done()
    admitted_at = date_time(body.one("Admission"))
    body.done()
    return Letter(
        type="DIS20",
        version=version,
        ref=ref,
        letter_id=ref,
        status=status,
        family=codes.family_of_version(version),
        authorised_at=authorised_at,
        sent_at=authorised_at,
        sender=sender,
        receiver=receiver,
        patient=patient,
        admitted_at=admitted_at,
        extra=extras.notification_extra(notification),
    )


# XREF01 texts: (element path, FTX qualifier), in the order the EDIFACT codec reads them
# (S02 clinical reason, S12 e-mail, anamnesis, examination, medicine, cave, S19 remark).
REFERRAL_TEXTS = (
    ("AdditionalInformation/ClinicalReason", "DI"),
    ("Patient/EmailIdentifier", "IN"),
    ("RelevantClinicalInformation/Anamnesis", "NC"),
    ("RelevantClinicalInformation/Examination", "CF"),
    ("RelevantClinicalInformation/ActualMedicine", "MT"),
    ("RelevantClinicalInformation/Cave", "AL"),
    ("AdditionalInformation/Supplementary", "COT"),
)


def _hospital_referral(body: Node) -> Letter:
    """XREF01 as the EDIFACT codec models a REF01: the GP refers (NAD+PO, its Referrer as
    NAD+BV), the hospital department receives (NAD+SSP), AnswerCCReceiver is NAD+PRH, the
    referral diagnoses are CIN+H and further CINs in S02, the texts FTX by qualifier; the rest
    goes to the extras MedCom's converter writes (referral_extras)."""
    head = body.one("Letter")
    ref = head.text("Identifier")
    version = x_code(head, "VersionCode")
    if x_code(head, "StatisticalCode") != "REF01" or x_code(head, "TypeCode") != "REF01":
        raise head.fail("StatisticalCode/TypeCode must be XREF01 in this letter")
    authorised_at = date_time(head.one("Authorisation"))
    status = LetterStatus(word_code(head, "StatusCode", codes.STATUS_CODES))
    head.done()
    texts: dict[str, str] = {}
    sender_node = body.one("Sender")
    referrer_node = sender_node.one("Referrer")
    scheme = opt_word_code(referrer_node, "IdentifierCode", codes.IDENTIFIER_CODES)
    referrer = Party(
        role="BV",
        id=referrer_node.opt_text("Identifier"),
        scheme=scheme,
        agency=codes.AGENCY_BY_SCHEME.get(scheme, ""),
        names=(referrer_node.opt_text("PersonTitle"), referrer_node.text("PersonName")),
        refs=(("AHL", "1"),),
    )
    referrer_node.done()
    sender = replace(_party(sender_node, "SOR"), role="PO")  # SOR: its phone and speciality
    receiver = replace(_party(body.one("Receiver"), "ROR"), role="SSP")
    contacts = [referrer]
    answer_cc = body.opt("AnswerCCReceiver")
    if answer_cc is not None:
        phone = answer_cc.opt_text("TelephoneSubscriberIdentifier")
        contacts.append(replace(_party(answer_cc, "PRH"), phone=phone))
    patient_node = body.one("Patient")
    patient = Patient(
        cpr=patient_node.text("CivilRegistrationNumber"),
        surname=patient_node.text("PersonSurnameName"),
        given_names=patient_node.opt_text("PersonGivenName"),
        address=_address(patient_node),
    )
    title = patient_node.opt_text("PersonTitle")
    phones = []
    for phone_node in patient_node.many("TelephoneSubscriber"):
        number = phone_node.text("TelephoneSubscriberIdentifier")
        code = word_code(phone_node, "TelephoneSubscriberCode", codes.TELEPHONE_CODES)
        phone_node.done()
        phones.append((code, number))
    email = patient_node.opt("EmailIdentifier")
    if email is not None:
        texts["IN"] = email.value()
    patient_node.done()
    relative = None
    relative_node = body.opt("Relative")
    if relative_node is not None:
        relative = referral_extras.ReferralRelative(
            relation=word_code(relative_node, "RelationCode", codes.RELATION_CODES),
            cpr=relative_node.opt_text("PersonIdentifier"),
            surname=relative_node.text("PersonSurnameName"),
            given_names=relative_node.opt_text("PersonGivenName"),
        )
        relative_node.done()
    priority = transport = ""
    additional = body.opt("AdditionalInformation")
    if additional is not None:
        priority = opt_word_code(additional, "Priority", codes.REFERRAL_PRIORITY)
        transport = opt_word_code(additional, "Transport", codes.REFERRAL_TRANSPORT)
        for name, qualifier in (("Supplementary", "COT"), ("ClinicalReason", "DI")):
            node = additional.opt(name)
            if node is not None:
                texts[qualifier] = read_lines(node.element)
        additional.done()
    diagnoses: list[Diagnosis] = []
    referral_node = body.opt("Referral")
    if referral_node is not None:
        refer = referral_node.opt("Refer")
        if refer is not None:
            diagnoses.append(_referral_diagnosis(refer, "H"))
        for node in referral_node.many("ReferralAdditional"):
            kind = word_code(node, "DiagnoseDescriptionCode", codes.DIAGNOSIS_KINDS)
            diagnoses.append(_referral_diagnosis(node, kind))
        referral_node.done()
    clinical = body.opt("RelevantClinicalInformation")
    if clinical is not None:
        for name, qualifier in (
            ("Cave", "AL"), ("Anamnesis", "NC"), ("Examination", "CF"), ("ActualMedicine", "MT")
        ):
            node = clinical.opt(name)
            if node is not None:
                texts[qualifier] = read_lines(node.element)
        clinical.done()
    body.done()
    facts = referral_extras.ReferralFacts(
        patient_title=title,
        phones=tuple(phones),
        relative=relative,
        priority=priority,
        transport=transport,
    )
    return Letter(
        type="REF01",
        version=version,
        ref=ref,
        status=status,
        family=codes.family_of_version(version),
        authorised_at=authorised_at,
        sender=sender,
        receiver=receiver,
        patient=patient,
        diagnoses=tuple(diagnoses),
        texts=tuple(FreeText(q, texts[q]) for _, q in REFERRAL_TEXTS if q in texts),
        contacts=tuple(contacts),
        extra=referral_extras.extra(authorised_at, facts),
    )


def _referral_diagnosis(node: Node, kind: str) -> Diagnosis:
    """Refer / ReferralAdditional: CIN+<kind>+<code>:<scheme>::<text> (no agency in a REF01)."""
    diagnosis = Diagnosis(
        kind=kind,
        code=node.opt_text("DiagnoseCode"),
        scheme=word_code(node, "DiagnoseTypeCode", codes.DIAGNOSIS_SCHEMES),
        agency="",
        text=node.text("DiagnoseText"),
    )
    node.done()
    return diagnosis


def _date_time_with_seconds(node: Node):
    from datetime import datetime

    date, time = node.text("Date"), node.text("TimeWithSec")
    node.done()
    try:
        return datetime.strptime(f"{date} {time}", "%Y-%m-%d %H:%M:%S")
    except ValueError as exc:
        raise node.fail(f"no such date and time {date} {time} (YYYY-MM-DD HH:MM:SS)") from exc


def _address(node: Node) -> Address | None:
    street, city = node.opt_text("StreetName"), node.opt_text("DistrictName")
    postcode = node.opt_text("PostCodeIdentifier")
    if not (street or city or postcode):
        return None
    return Address(street=street, city=city, postcode=postcode)


def _party(node: Node, role: str) -> Party:
    node.opt("EANIdentifier")  # the envelope's GLN, read with the envelope
    scheme = opt_word_code(node, "IdentifierCode", codes.IDENTIFIER_CODES)
    names = [node.opt_text(t) for t in ("OrganisationName", "DepartmentName", "UnitName")]
    while names and not names[-1]:
        names.pop()
    party = Party(
        role=role,
        id=node.opt_text("Identifier"),
        scheme=scheme,
        agency=codes.AGENCY_BY_SCHEME.get(scheme, ""),
        names=tuple(names),
        address=_address(node),
        phone=node.opt_text("TelephoneSubscriberIdentifier") if role in ("SSP", "SOR") else "",
        speciality=opt_word_code(node, "MedicalSpecialityCode", codes.SPECIALITY_CODES),
    )
    node.done()
    return party


def _contacts(sender: Node) -> tuple[Party, ...]:
    """XDIS01 Sender/Contact: the responsible person (NAD+RSP)."""
    return tuple(_party(n, "RSP") for n in sender.many("Contact"))


def _patient(node: Node) -> Patient:
    patient = Patient(
        cpr=node.opt_text("CivilRegistrationNumber"),
        surname=node.text("PersonSurnameName"),
        given_names=node.opt_text("PersonGivenName"),
        address=_address(node),
        episode_status=opt_word_code(node, "EpisodeOfCareStatusCode", codes.EPISODE_STATUS),
    )
    if not patient.cpr:
        raise node.fail("the patient needs a CivilRegistrationNumber")
    node.done()
    return patient


def _relative(node: Node) -> Relative:
    relative = Relative(
        relation=word_code(node, "RelationCode", codes.RELATION_CODES),
        surname=node.opt_text("PersonSurnameName"),
        given_names=node.opt_text("PersonGivenName"),
    )
    node.done()
    return relative


def _typed_diagnosis(node: Node, kind: str) -> Diagnosis:
    scheme = word_code(node, "DiagnoseTypeCode", codes.DIAGNOSIS_SCHEMES)
    diagnosis = Diagnosis(
        kind=kind,
        code=node.text("DiagnoseCode"),
        text=node.opt_text("DiagnoseText"),
        scheme=scheme,
        agency=codes.DIAGNOSIS_AGENCY[scheme],
        at=opt_date_time(node, "DiagnoseDateTime"),
    )
    node.done()
    return diagnosis


def _referral(node: Node) -> Referral:
    diagnoses = [_typed_diagnosis(n, "DI") for n in node.many("Refer")]
    diagnoses += [_typed_diagnosis(n, "DM") for n in node.many("ReferalAdditional")]
    referral = Referral(
        id=node.opt_text("Identifier"),
        received_at=opt_date_time(node, "Received"),
        diagnoses=tuple(diagnoses),
    )
    node.done()
    return referral


def _diagnoses(node: Node) -> tuple[tuple[Diagnosis, ...], int]:
    """The diagnoses and how many of them stand in S11 (Main, MainAdditional)."""
    result = []
    for kind, name in (("A", "Main"), ("DM", "MainAdditional")):
        for sub in node.many(name):
            result.append(Diagnosis(kind, sub.text("DiagnoseCode"), sub.opt_text("DiagnoseText")))
            sub.done()
    in_s11 = len(result)
    for sub in node.many("Other"):
        kind = word_code(sub, "DiagnoseDescriptionCode", codes.DIAGNOSIS_KINDS)
        result.append(_typed_diagnosis(sub, kind))
    node.done()
    return tuple(result), in_s11


# -- receipts --------------------------------------------------------------------------------


def _refusal(node: Node) -> tuple[RefusalCode | None, str, bool]:
    code = opt_word_code(node, "RefuseCode", codes.REFUSE_CODES)
    text_node = node.opt("RefuseText")
    text = read_lines(text_node.element) if text_node is not None else ""
    return (RefusalCode(code) if code else None), text, bool(code or text_node is not None)


def _ean_only(node: Node) -> str:
    ean = node.text("EANIdentifier")
    node.done()
    return ean


def _receipt(body: Node, receipt_type: str) -> Receipt:
    head = body.one("Letter")
    ref = head.text("Identifier")
    version = x_code(head, "VersionCode")
    if x_code(head, "StatisticalCode") != receipt_type:
        raise head.one("StatisticalCode").fail(f"must be X{receipt_type} in this receipt")
    head.done()
    for name in ("Sender", "Receiver"):
        _ean_only(body.one(name))
    original = body.one("OriginalEmessage")
    body.done()
    refusal, text, refused_here = _refusal(original)
    refused_letter_ref = ""
    action = "7" if receipt_type == "CTL03" else "4"
    letters = []
    for node in original.many("OriginalLetter"):
        letter_ref = node.text("OriginalLetterIdentifier")
        letter_version = node.text("OriginalVersionCode")
        letter_refusal, letter_text, refused = _refusal(node)
        if refused:
            if refused_here or refused_letter_ref:
                raise node.fail("a receipt carries one refusal (RefuseCode/RefuseText)")
            refusal, text, refused_letter_ref = letter_refusal, letter_text, letter_ref
        node.done()
        letters.append(OriginalLetter(letter_ref, codes.message_identifier(letter_version), action))
    receipt = Receipt(
        type=receipt_type,
        version=version,
        ref=ref,
        original_control_ref=original.text("OriginalEnvelopeIdentifier"),
        original_sender=_ean_only(original.one("OriginalSender")),
        original_recipient=_ean_only(original.one("OriginalReceiver")),
        original_letters=tuple(letters),
        refusal=refusal,
        text=text,
        refused_letter_ref=refused_letter_ref,
    )
    original.done()
    return receipt
