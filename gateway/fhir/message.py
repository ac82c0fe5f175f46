"""What medbro reads out of a MedCom FHIR message Bundle: the facts, not the wire form.

``message_of`` walks a parsed Bundle once and resolves the references the profiles make
(MessageHeader -> sender/receiver Organization, focus, the Patient, the Provenances). It is
lenient: a fact that is missing stays empty, so an invalid message can still be answered
(with a fatal-error Acknowledgement to its sender); ``gateway.fhir.rules`` says what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from gateway.fhir import codes


@dataclass(frozen=True)
class Organisation:
    """A MedComMessagingOrganization: its GLN (EAN-ID) and SOR identifiers."""

    reference: str = ""
    gln: str = ""
    sor: str = ""
    name: str = ""


@dataclass(frozen=True)
class Activity:
    """One Provenance: what happened (activity code), when, by whom, and to which message."""

    code: str
    at: datetime | None = None
    agent: str = ""  # the Organization reference
    target: str = ""  # the MessageHeader reference
    previous: str = ""  # entity[revision].what: the message this one answers


@dataclass(frozen=True)
class Issue:
    """One OperationOutcome issue of an Acknowledgement."""

    severity: str
    code: str
    detail: str = ""  # details.coding.code (MedCom's issue-details) or details.text


@dataclass(frozen=True)
class Response:
    """MessageHeader.response of an Acknowledgement."""

    identifier: str  # the MessageHeader.id of the acknowledged message
    code: str  # ok | transient-error | fatal-error
    issues: tuple[Issue, ...] = ()


@dataclass(frozen=True)
class FhirMessage:
    """One MedCom FHIR message (CareCommunication, HospitalNotification, Acknowledgement)."""

    bundle: Bundle
    bundle_id: str = ""
    timestamp: datetime | None = None
    header_id: str = ""
    event: str = ""
    definition: str = ""
    sender: Organisation | None = None
    receiver: Organisation | None = None
    source_endpoint: str = ""
    destination_endpoint: str = ""
    focus: Any = None  # the focus resource (Communication, Encounter), when it resolves
    patient: Any = None  # the Patient resource, when there is exactly one
    cpr: str = ""
    activities: tuple[Activity, ...] = ()
    response: Response | None = None

    @property
    def type(self) -> str:
        """medbro's letter type: FDIS91, FDIS20 or FCTL ("" for an unknown event)."""
        return codes.TYPE_BY_EVENT.get(self.event, "")

    @property
    def is_acknowledgement(self) -> bool:
        return self.event == codes.ACKNOWLEDGEMENT

    @property
    def own_activity(self) -> Activity | None:
        """The Provenance of this message (the one targeting its own MessageHeader)."""
        mine = [a for a in self.activities if a.target.endswith(f"MessageHeader/{self.header_id}")]
        return mine[-1] if mine else None

    @property
    def version(self) -> str:
        """The standard's version when the header names it (MessageDefinition ``|5.0``)."""
        return self.definition.rpartition("|")[2] if "|" in self.definition else ""

    @property
    def postfix(self) -> str:
        """The VANSEnvelope name's ``#postfix``: the category (CareCommunication), the
        activity (HospitalNotification), the response code (Acknowledgement)."""
        if self.response is not None:
            return self.response.code
        if self.event == codes.CARE_COMMUNICATION and self.focus is not None:
            coding = _first_coding(getattr(self.focus, "category", None) or [])
            return coding.code if coding is not None else ""
        activity = self.own_activity
        return activity.code if activity is not None else ""


class _Index:
    """Resolve a Reference within the Bundle: by fullUrl, or by ``Type/id`` at its end."""

    def __init__(self, bundle: Bundle) -> None:
        self.by_url: dict[str, Any] = {}
        self.by_key: dict[tuple[str, str], Any] = {}
        self.resources: list[Any] = []
        for entry in bundle.entry or []:
            resource = entry.resource
            if resource is None:
                continue
            self.resources.append(resource)
            if entry.fullUrl:
                self.by_url[str(entry.fullUrl)] = resource
            if resource.id:
                self.by_key[(resource.get_resource_type(), resource.id)] = resource

    def resolve(self, reference: Any) -> Any:
        ref = getattr(reference, "reference", None) if reference is not None else None
        if not ref:
            return None
        if ref in self.by_url:
            return self.by_url[ref]
        parts = ref.rstrip("/").split("/")
        if len(parts) >= 2:
            return self.by_key.get((parts[-2], parts[-1]))
        return None

    def of_type(self, name: str) -> list[Any]:
        return [r for r in self.resources if r.get_resource_type() == name]


def message_of(bundle: Bundle) -> FhirMessage:
    """The facts of ``bundle`` (lenient: what is missing stays empty)."""
    index = _Index(bundle)
    entries = bundle.entry or []
    header = entries[0].resource if entries and entries[0].resource is not None else None
    if header is None or header.get_resource_type() != "MessageHeader":
        headers = index.of_type("MessageHeader")
        header = headers[0] if headers else None
    patients = index.of_type("Patient")
    patient = patients[0] if len(patients) == 1 else None
    facts: dict[str, Any] = dict(
        bundle=bundle,
        bundle_id=bundle.id or "",
        timestamp=bundle.timestamp,
        patient=patient,
        cpr=cpr_of(patient),
        activities=tuple(_activity(p) for p in index.of_type("Provenance")),
    )
    if header is None:
        return FhirMessage(**facts)
    primary = primary_destination(header)
    return FhirMessage(
        **facts,
        header_id=header.id or "",
        event=header.eventCoding.code or "" if header.eventCoding else "",
        definition=str(header.definition or ""),
        sender=_organisation(index, header.sender),
        receiver=_organisation(index, primary.receiver) if primary is not None else None,
        source_endpoint=str(header.source.endpoint or "") if header.source else "",
        destination_endpoint=str(primary.endpoint or "") if primary is not None else "",
        focus=index.resolve(header.focus[0]) if header.focus else None,
        response=_response(index, header),
    )


def primary_destination(header: Any) -> Any:
    """The destination whose use extension says ``primary`` (the only one when none says)."""
    destinations = header.destination or []
    for destination in destinations:
        if destination_use(destination) == "primary":
            return destination
    return destinations[0] if len(destinations) == 1 else None


def destination_use(destination: Any) -> str:
    for extension in destination.extension or []:
        if extension.url == codes.DESTINATION_USE_EXTENSION and extension.valueCoding:
            return extension.valueCoding.code or ""
    return ""


def identifier_value(resource: Any, system: str) -> str:
    for identifier in getattr(resource, "identifier", None) or []:
        if identifier.system == system and identifier.value:
            return identifier.value
    return ""


def cpr_of(patient: Any) -> str:
    """The CPR number, or a replacement CPR (eCPR) when the patient has no CPR."""
    if patient is None:
        return ""
    cpr = identifier_value(patient, codes.CPR_SYSTEM)
    if cpr:
        return cpr
    for identifier in patient.identifier or []:
        if (identifier.system or "").startswith(codes.ECPR_SYSTEM_PREFIX) and identifier.value:
            return identifier.value
    return ""


def _organisation(index: _Index, reference: Any) -> Organisation | None:
    if reference is None:
        return None
    found = index.resolve(reference)
    ref = reference.reference or ""
    if found is None or found.get_resource_type() != "Organization":
        return Organisation(reference=ref)
    return Organisation(
        reference=ref,
        gln=identifier_value(found, codes.GLN_SYSTEM),
        sor=identifier_value(found, codes.SOR_SYSTEM),
        name=found.name or "",
    )


def _first_coding(concepts: Any) -> Any:
    if not isinstance(concepts, list):
        concepts = [concepts]
    for concept in concepts:
        for coding in getattr(concept, "coding", None) or []:
            return coding
    return None


def _activity(provenance: Any) -> Activity:
    coding = _first_coding(provenance.activity) if provenance.activity else None
    previous = ""
    for entity in provenance.entity or []:
        if entity.role == "revision" and entity.what is not None:
            what = entity.what
            previous = what.reference or (what.identifier.value if what.identifier else "") or ""
    return Activity(
        code=(coding.code or "") if coding is not None else "",
        at=provenance.occurredDateTime,
        agent=(provenance.agent[0].who.reference or "") if provenance.agent else "",
        target=(provenance.target[0].reference or "") if provenance.target else "",
        previous=previous,
    )


def _response(index: _Index, header: Any) -> Response | None:
    response = header.response
    if response is None:
        return None
    issues: list[Issue] = []
    outcome = index.resolve(response.details) if response.details else None
    for issue in getattr(outcome, "issue", None) or []:
        coding = _first_coding(issue.details) if issue.details else None
        detail = (coding.code if coding is not None else "") or (
            issue.details.text if issue.details else ""
        )
        issues.append(
            Issue(severity=issue.severity or "", code=issue.code or "", detail=detail or "")
        )
    return Response(
        identifier=response.identifier or "", code=response.code or "", issues=tuple(issues)
    )
