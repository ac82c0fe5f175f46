"""CareCommunication <-> DIS91 (korrespondancebrev) through the canonical model.

CareCommunication is DIS91's FHIR successor (MedCom: ``MCM:FDIS91``). An endpoint that takes
only EDIFACT gets a municipality's CareCommunication as a DIS91, and an endpoint that takes only
FHIR gets a DIS91 as a CareCommunication (``deliver_as`` per endpoint). Both go through the
model (``gateway.model.Letter``):

=========================================  ===============================================
CareCommunication                          DIS91 letter
=========================================  ===============================================
MessageHeader.sender / receiver GLN        envelope sender / recipient, NAD+SSP / NAD+PO
Organization.name                          the party's first name line
Patient CPR, name, address                 PNA+PAT, ADR
Communication.topic.text                   FTX+OE (the subject)
payload[].contentString (``\\n`` lines)    FTX+NC (one run per payload, blank line between)
this message's Provenance occurredDateTime DTM+137 / DTM+182 (local Danish time, minutes)
Provenance activity modified-message       GIS+M (a corrected letter); otherwise GIS+N
=========================================  ===============================================

What one side holds and the other cannot carry is named by field (``lost_in_letter``,
``lost_in_fhir``) and logged when converting, never dropped silently; values are not logged.
A DIS91 has no SOR code: the caller gives the GLN -> SOR directory the FHIR side requires.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from gateway.errors import LocalUsageError
from gateway.fhir import codes
from gateway.fhir.acknowledgement import new_id
from gateway.fhir.errors import FhirError
from gateway.fhir.message import FhirMessage
from gateway.fhir.writer import JSON, bundle_of, dump, narrative
from gateway.logging import get_logger
from gateway.model import Address, Envelope, FreeText, Letter, LetterStatus, Party, Patient

log = get_logger(__name__)

DIS91_VERSION = "D9134L"
LOCAL = ZoneInfo("Europe/Copenhagen")  # MedCom EDIFACT writes naive Danish local time
SUBJECT, BODY = "OE", "NC"
DEFAULT_CATEGORY = "other"  # a DIS91 has no category; "other" then needs the topic
DEFAULT_TOPIC = "Korrespondance"
_MODIFIED, _NEW = "modified-message", "new-message"
_EAN_AGENCY = "9"


def to_letter(
    message: FhirMessage, *, ref: str, control_ref: str, now: datetime
) -> tuple[Envelope, Letter]:
    """The DIS91 letter (and its interchange envelope) a CareCommunication says.

    ``ref`` becomes the UNH reference and letter id, ``control_ref`` the UNB reference
    (<= 14 characters each, EDIFACT's limits), ``now`` the interchange time.
    """
    if message.event != codes.CARE_COMMUNICATION:
        raise FhirError("MessageHeader.eventCoding.code", "only a CareCommunication is a DIS91")
    communication = message.focus
    if communication is None or message.sender is None or message.receiver is None:
        raise FhirError("MessageHeader", "a CareCommunication needs sender, receiver and focus")
    own = message.own_activity
    written = _local(own.at) if own is not None and own.at else _local(message.timestamp)
    texts = [FreeText(SUBJECT, _subject(communication))]
    bodies = [p.contentString for p in communication.payload or [] if p.contentString]
    if bodies:
        texts.append(FreeText(BODY, "\n\n".join(bodies)))
    envelope = Envelope(
        sender=message.sender.gln,
        recipient=message.receiver.gln,
        control_ref=control_ref,
        prepared_at=_minutes(now),
    )
    letter = Letter(
        type="DIS91",
        version=DIS91_VERSION,
        ref=ref,
        letter_id=ref,
        status=LetterStatus.CORRECTED if own and own.code == _MODIFIED else LetterStatus.NEW,
        authorised_at=written,
        sent_at=written,
        sender=_party("SSP", message.sender.gln, message.sender.name),
        receiver=_party("PO", message.receiver.gln, message.receiver.name),
        patient=_patient(message),
        texts=tuple(texts),
        priority="NC" if communication.priority == "asap" else "",
    )
    lost = lost_in_letter(message)
    if lost:
        log.warning("fhir_fields_dropped", fields=lost, direction="fhir_to_dis91")
    return envelope, letter


def from_letter(
    envelope: Envelope,
    letter: Letter,
    *,
    now: datetime,
    sor_by_gln: Mapping[str, str],
    media_type: str = JSON,
    make_id: Callable[[], str] = new_id,
) -> bytes:
    """The CareCommunication message a DIS91 letter says (JSON or XML)."""
    document = care_communication_document(
        envelope, letter, now=now, sor_by_gln=sor_by_gln, make_id=make_id
    )
    lost = lost_in_fhir(envelope, letter, sor_by_gln)
    if lost:
        log.warning("fhir_fields_dropped", fields=lost, direction="dis91_to_fhir")
    return dump(bundle_of(document), media_type)


def care_communication_document(
    envelope: Envelope,
    letter: Letter,
    *,
    now: datetime,
    sor_by_gln: Mapping[str, str],
    make_id: Callable[[], str] = new_id,
) -> dict[str, Any]:
    if letter.type != "DIS91":
        raise LocalUsageError(f"only a DIS91 is a CareCommunication, not a {letter.type}")
    if letter.patient is None:
        raise FhirError("letter.patient", "a CareCommunication needs the patient (PNA+PAT)")
    if now.tzinfo is None:
        raise LocalUsageError("a FHIR timestamp carries a time zone")
    written = _aware(letter.authorised_at or letter.sent_at or now.replace(tzinfo=None))
    header_id, communication_id, patient_id = make_id(), make_id(), make_id()
    payload_id = f"urn:uuid:{make_id()}"
    sender = _organisation(make_id(), envelope.sender, letter.sender, sor_by_gln)
    receiver = _organisation(make_id(), envelope.recipient, letter.receiver, sor_by_gln)
    subject = next((t.text for t in letter.texts if t.qualifier == SUBJECT), "")
    body = "\n\n".join(t.text for t in letter.texts if t.qualifier != SUBJECT and t.text)
    communication: dict[str, Any] = {
        "resourceType": "Communication",
        "id": communication_id,
        "meta": {"profile": [codes.PROFILES["cc-communication"]]},
        "text": narrative(subject, body),
        "status": "unknown",
        "identifier": [{"value": f"urn:uuid:{make_id()}"}],
        "category": [{"coding": [{"system": codes.CATEGORY_SYSTEM, "code": DEFAULT_CATEGORY}]}],
        "topic": {"text": subject or DEFAULT_TOPIC},
        "subject": {"reference": f"Patient/{patient_id}"},
        "payload": [
            {
                "extension": [
                    {"url": codes.DATETIME_EXTENSION, "valueDateTime": written},
                    {"url": codes.IDENTIFIER_EXTENSION, "valueIdentifier": {"value": payload_id}},
                ],
                "contentString": body or subject or DEFAULT_TOPIC,
            }
        ],
    }
    header = {
        "resourceType": "MessageHeader",
        "id": header_id,
        "meta": {"profile": [codes.PROFILES["cc-header"]]},
        "text": narrative(f"CareCommunication {header_id}"),
        "eventCoding": {"system": codes.EVENT_SYSTEM, "code": codes.CARE_COMMUNICATION},
        "destination": [
            {
                "extension": [
                    {
                        "url": codes.DESTINATION_USE_EXTENSION,
                        "valueCoding": {"system": codes.DESTINATION_USE_SYSTEM, "code": "primary"},
                    }
                ],
                "endpoint": _endpoint(receiver),
                "receiver": {"reference": f"Organization/{receiver['id']}"},
            }
        ],
        "sender": {"reference": f"Organization/{sender['id']}"},
        "source": {"endpoint": _endpoint(sender)},
        "focus": [{"reference": f"Communication/{communication_id}"}],
        "definition": codes.CARE_COMMUNICATION_DEFINITION,
    }
    activity = _MODIFIED if letter.status is LetterStatus.CORRECTED else _NEW
    provenance = {
        "resourceType": "Provenance",
        "id": make_id(),
        "meta": {"profile": [codes.PROFILES["cc-provenance"]]},
        "text": narrative(f"{activity} {header_id}"),
        "target": [{"reference": f"MessageHeader/{header_id}"}],
        "occurredDateTime": written,
        "recorded": written,
        "activity": {"coding": [{"system": codes.ACTIVITY_SYSTEM, "code": activity}]},
        "agent": [{"who": {"reference": f"Organization/{sender['id']}"}}],
        "entity": [{"role": "source", "what": {"identifier": {"value": payload_id}}}],
    }
    resources = [
        header,
        communication,
        _patient_resource(patient_id, letter.patient),
        sender,
        receiver,
        provenance,
    ]
    return {
        "resourceType": "Bundle",
        "id": make_id(),
        "meta": {"profile": [codes.PROFILES["cc-bundle"]]},
        "type": "message",
        "timestamp": now.isoformat(timespec="seconds"),
        "entry": [{"fullUrl": f"{r['resourceType']}/{r['id']}", "resource": r} for r in resources],
    }


def lost_in_letter(message: FhirMessage) -> list[str]:
    """What a CareCommunication holds that its DIS91 letter cannot say (field names)."""
    c = message.focus
    lost = []
    if c is None:
        return lost
    category = (c.category or [None])[0]
    code = category.coding[0].code if category is not None and category.coding else ""
    if code != DEFAULT_CATEGORY:
        lost.append("Communication.category")
    if not (c.topic and c.topic.text):
        lost.append("Communication.category (no topic: the category stands as the subject)")
    if c.recipient:
        lost.append("Communication.recipient")
    if c.encounter:
        lost.append("Communication.encounter")
    if c.extension:
        lost.append("Communication.extension (sender)")
    for i, payload in enumerate(c.payload or []):
        if payload.contentAttachment is not None:
            lost.append(f"Communication.payload[{i}].contentAttachment")
        names = {e.url for e in payload.extension or []}
        if codes.AUTHOR_EXTENSION in names or codes.CONTACT_EXTENSION in names:
            lost.append(f"Communication.payload[{i}] author")
    if message.sender and message.sender.sor:
        lost.append("MessageHeader.sender SOR")
    if message.receiver and message.receiver.sor:
        lost.append("MessageHeader.destination.receiver SOR")
    patient = message.patient
    if patient is not None and (patient.telecom or patient.gender or patient.birthDate):
        lost.append("Patient (telecom, gender, birthDate)")
    return lost


def lost_in_fhir(envelope: Envelope, letter: Letter, sor_by_gln: Mapping[str, str]) -> list[str]:
    """What a DIS91 letter holds that its CareCommunication cannot say (model field names)."""
    lost = []
    for where, party, gln in (
        ("sender", letter.sender, envelope.sender),
        ("receiver", letter.receiver, envelope.recipient),
    ):
        if gln not in sor_by_gln:
            lost.append(f"letter.{where} (no SOR code known for GLN)")
        if party is None:
            continue
        if party.scheme != "EAN" or party.id != gln:
            lost.append(f"letter.{where}.id")
        if len(party.names) > 1:
            lost.append(f"letter.{where}.names")
        for name in ("address", "speciality", "phone", "refs"):
            if getattr(party, name):
                lost.append(f"letter.{where}.{name}")
    if letter.letter_id not in ("", letter.ref):
        lost.append("letter.letter_id")
    if letter.sent_at not in (None, letter.authorised_at):
        lost.append("letter.sent_at")
    if letter.priority:
        lost.append("letter.priority (only a regarding-referral CareCommunication has one)")
    if letter.patient is not None and letter.patient.episode_status:
        lost.append("letter.patient.episode_status")
    for i, text in enumerate(letter.texts):
        if text.format != "P00" or text.continued:
            lost.append(f"letter.texts[{i}].format")
        if text.qualifier not in (SUBJECT, BODY):
            lost.append(f"letter.texts[{i}].qualifier")
    for name in ("copies", "contacts", "relatives", "diagnoses", "extra"):
        if getattr(letter, name):
            lost.append(f"letter.{name}")
    if letter.referral is not None:
        lost.append("letter.referral")
    if letter.admitted_at or letter.discharged_at:
        lost.append("letter.admitted_at/discharged_at")
    return lost


def _subject(communication: Any) -> str:
    if communication.topic and communication.topic.text:
        return communication.topic.text
    category = (communication.category or [None])[0]
    if category is not None and category.coding and category.coding[0].code:
        return category.coding[0].code
    return DEFAULT_TOPIC


def _party(role: str, gln: str, name: str) -> Party:
    return Party(role=role, id=gln, scheme="EAN", agency=_EAN_AGENCY, names=(name,) if name else ())


def _patient(message: FhirMessage) -> Patient:
    resource = message.patient
    surname, given, address = "", "", None
    if resource is not None:
        official = next((n for n in resource.name or [] if n.use == "official"), None)
        name = official or (resource.name or [None])[0]
        if name is not None:
            surname = name.family or ""
            given = " ".join(name.given or [])
        if resource.address:
            a = resource.address[0]
            address = Address(
                street=", ".join(a.line or []), city=a.city or "", postcode=a.postalCode or ""
            )
    return Patient(cpr=message.cpr, surname=surname, given_names=given, address=address)


def _patient_resource(pid: str, patient: Patient) -> dict[str, Any]:
    name: dict[str, Any] = {"use": "official", "family": patient.surname}
    if patient.given_names:
        name["given"] = patient.given_names.split(" ")
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": pid,
        "meta": {"profile": [codes.PROFILES["patient"]]},
        "text": narrative(f"{patient.given_names} {patient.surname}".strip()),
        "identifier": [{"system": codes.CPR_SYSTEM, "value": patient.cpr}],
        "name": [{k: v for k, v in name.items() if v}],
    }
    if patient.address is not None:
        address = {
            "line": [patient.address.street] if patient.address.street else None,
            "city": patient.address.city or None,
            "postalCode": patient.address.postcode or None,
        }
        resource["address"] = [{k: v for k, v in address.items() if v}]
    return resource


def _organisation(oid: str, gln: str, party: Party | None, sor_by_gln: Mapping[str, str]):
    identifiers = [{"system": codes.GLN_SYSTEM, "value": gln}]
    if sor_by_gln.get(gln):
        identifiers.insert(0, {"system": codes.SOR_SYSTEM, "value": sor_by_gln[gln]})
    result: dict[str, Any] = {
        "resourceType": "Organization",
        "id": oid,
        "meta": {"profile": [codes.PROFILES["organization"]]},
        "identifier": identifiers,
    }
    name = party.names[0] if party is not None and party.names else ""
    result["text"] = narrative(name or gln)
    if name:
        result["name"] = name
    return result


def _endpoint(organisation: dict[str, Any]) -> str:
    for identifier in organisation["identifier"]:
        if identifier["system"] == codes.SOR_SYSTEM:
            return f"{codes.SOR_ENDPOINT}{identifier['value']}"
    return f"urn:gln:{organisation['identifier'][0]['value']}"


def _local(moment: datetime | None) -> datetime | None:
    """An instant as MedCom EDIFACT writes it: naive Danish local time, whole minutes."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(LOCAL).replace(tzinfo=None)
    return _minutes(moment)


def _minutes(moment: datetime) -> datetime:
    if moment.tzinfo is not None:
        moment = moment.astimezone(LOCAL).replace(tzinfo=None)
    return moment.replace(second=0, microsecond=0)


def _aware(local: datetime) -> str:
    """A naive Danish local time as a FHIR dateTime with its zone."""
    return local.replace(tzinfo=LOCAL).isoformat(timespec="seconds")
