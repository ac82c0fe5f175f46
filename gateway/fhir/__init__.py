"""MedCom FHIR messaging: CareCommunication, HospitalNotification and Acknowledgement.

``read`` parses bytes (FHIR JSON or XML, fhir.resources' R4B models) and checks MedCom's
profile rules that routing and receipts depend on; ``read_leniently`` keeps what it could read
of an invalid message so that its sender can be answered. ``routing_facts`` turns a read
message into what the core ingest decision needs. docs/fhir.md describes the whole side.
"""

from __future__ import annotations

from gateway.fhir.errors import FhirError
from gateway.fhir.message import FhirMessage, message_of
from gateway.fhir.reader import media_type, read_bundle
from gateway.fhir.routing import RoutingFacts, routing_facts
from gateway.fhir.rules import check, problems


def read(data: bytes) -> FhirMessage:
    """Parse ``data`` and check MedCom's rules; raises the first ``FhirError``."""
    return check(message_of(read_bundle(data)))


def read_leniently(data: bytes) -> tuple[FhirMessage | None, FhirError | None]:
    """(what could be read, the first problem): the message is None when even the Bundle
    could not be parsed; the error is None when the message keeps every rule."""
    try:
        message = message_of(read_bundle(data))
    except FhirError as exc:
        return None, exc
    found = problems(message)
    return message, (found[0] if found else None)


__all__ = [
    "FhirError",
    "FhirMessage",
    "RoutingFacts",
    "check",
    "media_type",
    "message_of",
    "problems",
    "read",
    "read_bundle",
    "read_leniently",
    "routing_facts",
]
