"""OIOXML ``Emessage`` -> canonical model (XDIS01, XDIS91, XCTL01/02/03).

The reader is strict: every element must be one it maps, so nothing a sender wrote is dropped
without a word. Unknown elements, bad codes and bad dates raise :class:`OioxmlError` naming
the element path. Where OIOXML says less than the model holds, the reader fills in what
MedCom's XML->EDIFACT converter writes (RFF+SRI = the letter identifier, DTM+182 = the
authorisation time, the agency of each code list, FTX qualifier NC).
"""

from __future__ import annotations

import re
from datetime import datetime

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
from gateway.oioxml import codes, extras
from gateway.oioxml.errors import OioxmlError
from gateway.oioxml.text import read_lines, read_runs
from gateway.oioxml.writer import LETTER_ELEMENTS, NS_2005, NS_2006, RECEIPT_ELEMENTS
from gateway.oioxml.xmlpath import local_name, path_of

_BODIES = {name: (t, ns) for t, (name, ns) in LETTER_ELEMENTS.items()}
_BODIES.update({name: (t, NS_2005) for t, name in RECEIPT_ELEMENTS.items()})
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_TIME = re.compile(r"\d{2}:\d{2}\Z")


class _Node:
    """An element being read; remembers which children were read so the rest is an error."""

    def __init__(self, element: etree._Element) -> None:
        self.element = element
        self.ns = etree.QName(element).namespace
        self._read: set[str] = set()

    @property
    def path(self) -> str:
        return path_of(self.element)

    def fail(self, problem: str) -> OioxmlError:
        return OioxmlError(self.path, problem)

    def many(self, name: str) -> list[_Node]:
        self._read.add(name)
        return [_Node(c) for c in self.element if isinstance(c.tag, str) and local_name(c) == name]

    def opt(self, name: str) -> _Node | None:
        found = self.many(name)
        if len(found) > 1:
            raise found[1].fail(f"<{name}> may occur only once here")
        return found[0] if found else None

    def one(self, name: str) -> _Node:
        found = self.opt(name)
        if found is None:
            raise self.fail(f"missing <{name}>")
        return found

    def value(self) -> str:
        for child in self.element:
            if isinstance(child.tag, str):
                raise OioxmlError(path_of(child), "no element may stand inside a value")
        return self.element.text or ""

    def text(self, name: str) -> str:
        return self.one(name).value()

    def opt_text(self, name: str) -> str:
        found = self.opt(name)
        return found.value() if found is not None else ""

    def done(self) -> None:
        """Raise on the first child element nobody read (or one in a foreign namespace)."""
        for child in self.element:
            if not isinstance(child.tag, str):
                continue
            if etree.QName(child).namespace != self.ns:
                raise OioxmlError(path_of(child), f"element in foreign namespace {child.tag}")
            if local_name(child) not in self._read:
                raise OioxmlError(path_of(child), f"unexpected element <{local_name(child)}>")


def parse_xml(data: bytes) -> etree._Element:
    """Parse bytes safely (no entities, no network); a syntax error names line and column."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise OioxmlError("/", f"not well-formed XML: {exc}") from exc
    if root.getroottree().docinfo.internalDTD is not None:
        raise OioxmlError("/", "a DOCTYPE is not allowed in OIOXML (no entities, no DTD)")
    return root


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
    emessage = _Node(root)
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
    return envelope, _letter(body, letter_type)


# -- values ----------------------------------------------------------------------------------


def _date_time(node: _Node) -> datetime:
    date, time = node.text("Date"), node.text("Time")
    if not _DATE.match(date):
        raise node.one("Date").fail(f"date {date!r} is not YYYY-MM-DD")
    if not _TIME.match(time):
        raise node.one("Time").fail(f"time {time!r} is not HH:MM")
    node.done()
    try:
        return datetime.strptime(f"{date} {time}", "%Y-%m-%d %H:%M")
    except ValueError as exc:
        raise node.fail(f"no such date and time {date} {time}") from exc


def _opt_date_time(parent: _Node, name: str) -> datetime | None:
    node = parent.opt(name)
    return _date_time(node) if node is not None else None


def _code(parent: _Node, name: str, table: codes.CodeTable) -> str:
    node = parent.one(name)
    word = node.value()
    code = table.to_edi(word)
    if code is None:
        raise node.fail(f"unknown {table.name} {word!r} (known: {', '.join(table.words())})")
    return code


def _opt_code(parent: _Node, name: str, table: codes.CodeTable) -> str:
    return _code(parent, name, table) if parent.opt(name) is not None else ""


def _envelope(node: _Node, sender: str, recipient: str) -> Envelope:
    prepared_at = _date_time(node.one("Sent"))
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


def _version(node: _Node, name: str) -> str:
    value = node.text(name)
    if not value.startswith("X") or len(value) < 2:
        raise node.one(name).fail(f"{name} {value!r} must be X followed by the EDIFACT code")
    return value[1:]


# -- letters ---------------------------------------------------------------------------------


def _letter(body: _Node, letter_type: str) -> Letter:
    head = body.one("Letter")
    ref = head.text("Identifier")
    version = _version(head, "VersionCode")
    statistical = _version(head, "StatisticalCode")
    type_code = _version(head, "TypeCode")
    if statistical != letter_type or type_code != letter_type:
        raise head.fail(f"StatisticalCode/TypeCode must be X{letter_type} in this letter")
    authorised_at = _opt_date_time(head, "Authorisation")
    status = LetterStatus(_code(head, "StatusCode", codes.STATUS_CODES))
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
    admitted_at = _opt_date_time(body, "Admission")
    discharged_at = _opt_date_time(body, "Discharge")
    diagnose = body.opt("Diagnose")
    diagnoses, in_s11 = _diagnoses(diagnose) if diagnose is not None else ((), 0)

    texts: list[FreeText] = []
    priority = ""
    kept: list[tuple[str, str]] = []  # segments the EDIFACT codec keeps in Letter.extra
    additional = body.opt("AdditionalInformation")
    if additional is not None:
        level = _opt_code(additional, "Priority", codes.PRIORITY_CODES)
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


def _address(node: _Node) -> Address | None:
    street, city = node.opt_text("StreetName"), node.opt_text("DistrictName")
    postcode = node.opt_text("PostCodeIdentifier")
    if not (street or city or postcode):
        return None
    return Address(street=street, city=city, postcode=postcode)


def _party(node: _Node, role: str) -> Party:
    node.opt("EANIdentifier")  # the envelope's GLN, read with the envelope
    scheme = _opt_code(node, "IdentifierCode", codes.IDENTIFIER_CODES)
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
        phone=node.opt_text("TelephoneSubscriberIdentifier") if role == "SSP" else "",
        speciality=_opt_code(node, "MedicalSpecialityCode", codes.SPECIALITY_CODES),
    )
    node.done()
    return party


def _contacts(sender: _Node) -> tuple[Party, ...]:
    """XDIS01 Sender/Contact: the responsible person (NAD+RSP)."""
    return tuple(_party(n, "RSP") for n in sender.many("Contact"))


def _patient(node: _Node) -> Patient:
    patient = Patient(
        cpr=node.opt_text("CivilRegistrationNumber"),
        surname=node.text("PersonSurnameName"),
        given_names=node.opt_text("PersonGivenName"),
        address=_address(node),
        episode_status=_opt_code(node, "EpisodeOfCareStatusCode", codes.EPISODE_STATUS),
    )
    if not patient.cpr:
        raise node.fail("the patient needs a CivilRegistrationNumber")
    node.done()
    return patient


def _relative(node: _Node) -> Relative:
    relative = Relative(
        relation=_code(node, "RelationCode", codes.RELATION_CODES),
        surname=node.opt_text("PersonSurnameName"),
        given_names=node.opt_text("PersonGivenName"),
    )
    node.done()
    return relative


def _typed_diagnosis(node: _Node, kind: str) -> Diagnosis:
    scheme = _code(node, "DiagnoseTypeCode", codes.DIAGNOSIS_SCHEMES)
    diagnosis = Diagnosis(
        kind=kind,
        code=node.text("DiagnoseCode"),
        text=node.opt_text("DiagnoseText"),
        scheme=scheme,
        agency=codes.DIAGNOSIS_AGENCY[scheme],
        at=_opt_date_time(node, "DiagnoseDateTime"),
    )
    node.done()
    return diagnosis


def _referral(node: _Node) -> Referral:
    diagnoses = [_typed_diagnosis(n, "DI") for n in node.many("Refer")]
    diagnoses += [_typed_diagnosis(n, "DM") for n in node.many("ReferalAdditional")]
    referral = Referral(
        id=node.opt_text("Identifier"),
        received_at=_opt_date_time(node, "Received"),
        diagnoses=tuple(diagnoses),
    )
    node.done()
    return referral


def _diagnoses(node: _Node) -> tuple[tuple[Diagnosis, ...], int]:
    """The diagnoses and how many of them stand in S11 (Main, MainAdditional)."""
    result = []
    for kind, name in (("A", "Main"), ("DM", "MainAdditional")):
        for sub in node.many(name):
            result.append(Diagnosis(kind, sub.text("DiagnoseCode"), sub.opt_text("DiagnoseText")))
            sub.done()
    in_s11 = len(result)
    for sub in node.many("Other"):
        kind = _code(sub, "DiagnoseDescriptionCode", codes.DIAGNOSIS_KINDS)
        result.append(_typed_diagnosis(sub, kind))
    node.done()
    return tuple(result), in_s11


# -- receipts --------------------------------------------------------------------------------


def _refusal(node: _Node) -> tuple[RefusalCode | None, str, bool]:
    code = _opt_code(node, "RefuseCode", codes.REFUSE_CODES)
    text_node = node.opt("RefuseText")
    text = read_lines(text_node.element) if text_node is not None else ""
    return (RefusalCode(code) if code else None), text, bool(code or text_node is not None)


def _ean_only(node: _Node) -> str:
    ean = node.text("EANIdentifier")
    node.done()
    return ean


def _receipt(body: _Node, receipt_type: str) -> Receipt:
    head = body.one("Letter")
    ref = head.text("Identifier")
    version = _version(head, "VersionCode")
    if _version(head, "StatisticalCode") != receipt_type:
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
