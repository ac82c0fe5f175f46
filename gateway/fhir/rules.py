"""MedCom's profile rules that matter for routing and Acknowledgements, as one table.

Not a full profile validator (MedCom's StructureDefinitions and FHIRPath invariants would need
the Java validator): these are the rules without which medbro cannot route, de-duplicate,
answer or convert a message, each read from MedCom's IGs (docs/fhir.md names them):

* the Bundle is a ``message`` with an id and a timestamp, its first entry the MessageHeader
  (medcom-messaging-1), with a globally unique id;
* the MessageHeader's event is one of MedCom's event codes medbro carries;
* the sender and the one primary destination's receiver are MedComMessagingOrganizations in
  the Bundle with a GLN (EAN-ID) and a SOR identifier;
* CareCommunication and HospitalNotification: exactly one focus (a Communication / an
  Encounter in the Bundle), no cc destination, exactly one Patient with a CPR number
  (HospitalNotification: the official CPR, medcom-hospitalNotification-4);
* at least one Provenance (medcom-messaging-2), one of them for this message with an activity
  and an occurredDateTime;
* an Acknowledgement has a response with the acknowledged id and an R4 response code, and an
  OperationOutcome when the code is not ``ok`` (medcom-acknowledgement-1).

``problems`` lists every broken rule; ``check`` raises the first.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from gateway.fhir import codes
from gateway.fhir.errors import FhirError
from gateway.fhir.message import FhirMessage, destination_use, primary_destination

_CPR = re.compile(r"\d{10}\Z")
_HEADER = "MessageHeader"

Rule = Callable[[FhirMessage], list[FhirError]]


def _bundle(m: FhirMessage) -> list[FhirError]:
    found = []
    if m.bundle.type != "message":
        found.append(FhirError("Bundle.type", f"must be 'message', is {m.bundle.type!r}"))
    if not m.bundle_id:
        found.append(FhirError("Bundle.id", "missing (a new id on every send)"))
    if m.timestamp is None:
        found.append(FhirError("Bundle.timestamp", "missing"))
    elif m.timestamp.tzinfo is None:
        found.append(FhirError("Bundle.timestamp", "must carry a time zone", issue="value"))
    return found


def _header(m: FhirMessage) -> list[FhirError]:
    entries = m.bundle.entry or []
    first = entries[0].resource if entries else None
    if first is None or first.get_resource_type() != _HEADER:
        return [FhirError("Bundle.entry[0].resource", "the first entry must be the MessageHeader")]
    if not m.header_id:
        return [FhirError(f"{_HEADER}.id", "missing (the message's globally unique id)")]
    return []


def _event(m: FhirMessage) -> list[FhirError]:
    header = _header_of(m)
    if header is None:
        return []
    coding = header.eventCoding
    if coding is None or not coding.code:
        return [FhirError(f"{_HEADER}.eventCoding", "missing")]
    if coding.system != codes.EVENT_SYSTEM:
        return [
            FhirError(
                f"{_HEADER}.eventCoding.system",
                f"must be {codes.EVENT_SYSTEM}",
                issue="code-invalid",
            )
        ]
    if coding.code not in codes.TYPE_BY_EVENT:
        known = ", ".join(codes.TYPE_BY_EVENT)
        return [
            FhirError(
                f"{_HEADER}.eventCoding.code",
                f"{coding.code!r} is not a message medbro carries ({known})",
                issue="not-supported",
            )
        ]
    return []


def _parties(m: FhirMessage) -> list[FhirError]:
    header = _header_of(m)
    if header is None:
        return []
    found = _organisation_problems(m.sender, f"{_HEADER}.sender")
    primaries = [d for d in header.destination or [] if destination_use(d) == "primary"]
    if len(primaries) != 1 or primary_destination(header) is None:
        found.append(
            FhirError(
                f"{_HEADER}.destination",
                f"must have exactly one primary destination, has {len(primaries)}",
            )
        )
    else:
        found += _organisation_problems(m.receiver, f"{_HEADER}.destination[primary].receiver")
    if m.event in codes.TYPE_BY_EVENT and any(
        destination_use(d) == "cc" for d in header.destination or []
    ):
        found.append(FhirError(f"{_HEADER}.destination[cc]", "not allowed in this message"))
    return found


def _organisation_problems(org, path: str) -> list[FhirError]:
    if org is None or not org.reference:
        return [FhirError(path, "missing")]
    if not (org.gln or org.sor):
        return [
            FhirError(
                path,
                f"{org.reference} is not an Organization in the Bundle with a "
                f"GLN ({codes.GLN_SYSTEM}) and SOR ({codes.SOR_SYSTEM}) identifier",
            )
        ]
    found = []
    if not org.gln:
        found.append(FhirError(path, f"{org.reference} has no GLN identifier ({codes.GLN_SYSTEM})"))
    if not org.sor:
        found.append(FhirError(path, f"{org.reference} has no SOR identifier ({codes.SOR_SYSTEM})"))
    return found


_FOCUS = {codes.CARE_COMMUNICATION: "Communication", codes.HOSPITAL_NOTIFICATION: "Encounter"}


def _focus(m: FhirMessage) -> list[FhirError]:
    header = _header_of(m)
    wanted = _FOCUS.get(m.event)
    if header is None or wanted is None:
        return []
    if len(header.focus or []) != 1:
        return [FhirError(f"{_HEADER}.focus", f"must be exactly one {wanted}")]
    if m.focus is None or m.focus.get_resource_type() != wanted:
        return [FhirError(f"{_HEADER}.focus", f"must reference a {wanted} in the Bundle")]
    return []


def _patient(m: FhirMessage) -> list[FhirError]:
    if m.event not in _FOCUS:
        return []
    patients = [
        e.resource
        for e in m.bundle.entry or []
        if e.resource is not None and e.resource.get_resource_type() == "Patient"
    ]
    if len(patients) != 1:
        return [FhirError("Bundle.entry", f"must hold exactly one Patient, holds {len(patients)}")]
    if m.event == codes.HOSPITAL_NOTIFICATION and not any(
        i.system == codes.CPR_SYSTEM for i in patients[0].identifier or []
    ):
        return [FhirError("Patient.identifier", f"must be a CPR number ({codes.CPR_SYSTEM})")]
    if not m.cpr:
        return [FhirError("Patient.identifier", "no CPR or replacement CPR number")]
    official = any(i.system == codes.CPR_SYSTEM for i in patients[0].identifier or [])
    if official and not _CPR.match(m.cpr):
        return [FhirError("Patient.identifier", "a CPR number is 10 digits", issue="value")]
    return []


def _provenance(m: FhirMessage) -> list[FhirError]:
    if not m.activities:
        return [FhirError("Bundle.entry", "must hold at least one Provenance")]
    own = m.own_activity
    if m.header_id and own is None:
        return [
            FhirError("Provenance.target", f"no Provenance targets MessageHeader/{m.header_id}")
        ]
    if own is not None and not own.code:
        return [FhirError("Provenance.activity", "missing on this message's Provenance")]
    if own is not None and own.at is None:
        return [FhirError("Provenance.occurredDateTime", "missing on this message's Provenance")]
    return []


def _response(m: FhirMessage) -> list[FhirError]:
    if not m.is_acknowledgement:
        if m.response is not None:
            return [FhirError(f"{_HEADER}.response", "only an Acknowledgement has a response")]
        return []
    r = m.response
    if r is None:
        return [FhirError(f"{_HEADER}.response", "an Acknowledgement must have one")]
    found = []
    if not r.identifier:
        found.append(
            FhirError(
                f"{_HEADER}.response.identifier", "missing (the acknowledged MessageHeader.id)"
            )
        )
    if r.code not in codes.RESPONSE_CODES:
        found.append(
            FhirError(
                f"{_HEADER}.response.code",
                f"{r.code!r} is not " + " | ".join(codes.RESPONSE_CODES),
                issue="code-invalid",
            )
        )
    elif r.code != "ok" and not r.issues:
        found.append(
            FhirError(
                f"{_HEADER}.response.details",
                f"a {r.code} Acknowledgement must reference an OperationOutcome",
            )
        )
    return found


RULES: tuple[tuple[str, Rule], ...] = (
    ("bundle", _bundle),
    ("header", _header),
    ("event", _event),
    ("parties", _parties),
    ("focus", _focus),
    ("patient", _patient),
    ("provenance", _provenance),
    ("response", _response),
)


def problems(message: FhirMessage) -> list[FhirError]:
    """Every rule ``message`` breaks, in the table's order."""
    return [p for _, rule in RULES for p in rule(message)]


def check(message: FhirMessage) -> FhirMessage:
    """``message`` when it keeps every rule; else the first problem is raised."""
    found = problems(message)
    if found:
        raise found[0]
    return message


def _header_of(m: FhirMessage):
    entries = m.bundle.entry or []
    first = entries[0].resource if entries else None
    return first if first is not None and first.get_resource_type() == _HEADER else None
