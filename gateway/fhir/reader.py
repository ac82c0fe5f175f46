"""FHIR R4 message Bundles from bytes (JSON or XML), parsed by fhir.resources.

MedCom's profiles are FHIR 4.0.1. fhir.resources serves R4 through its ``R4B`` package (4.3.0):
the older releases whose default models were R4 (6.1 and before) need pydantic 1, and R4B
changed only modules MedCom does not use (medication definition, evidence, subscriptions), so
Bundle, MessageHeader, Communication, Encounter, Patient, Organization, Provenance and
OperationOutcome read and write the same in both (docs/fhir.md).

XML is parsed by lxml with no DTD, no entities and no network, and a DOCTYPE is refused.
Every error names where: pydantic's location becomes a FHIRPath-like path.
"""

from __future__ import annotations

import json

from fhir.resources.R4B.bundle import Bundle
from lxml import etree
from pydantic import ValidationError

from gateway.fhir.errors import FhirError

MAX_BYTES = 32 * 1024 * 1024  # a MedCom message with attachments stays well below this
FHIR_NS = "http://hl7.org/fhir"


def media_type(data: bytes) -> str:
    """``application/fhir+json`` or ``application/fhir+xml`` from the first bytes."""
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head == b"{":
        return "application/fhir+json"
    if head == b"<":
        return "application/fhir+xml"
    raise FhirError("Bundle", "neither FHIR JSON ({...}) nor FHIR XML (<Bundle>)")


def read_bundle(data: bytes) -> Bundle:
    """Parse and check one Bundle against FHIR's structure (not yet MedCom's rules)."""
    if len(data) > MAX_BYTES:
        raise FhirError("Bundle", f"{len(data)} bytes is more than the {MAX_BYTES} medbro takes")
    if media_type(data) == "application/fhir+json":
        return _from_json(data)
    return _from_xml(data)


def _from_json(data: bytes) -> Bundle:
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FhirError("Bundle", f"not JSON: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("resourceType") != "Bundle":
        kind = doc.get("resourceType") if isinstance(doc, dict) else type(doc).__name__
        raise FhirError("Bundle.resourceType", f"expected Bundle, got {kind!r}")
    try:
        return Bundle.model_validate(doc)
    except ValidationError as exc:
        raise _located(exc) from exc


def _from_xml(data: bytes) -> Bundle:
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise FhirError("Bundle", f"not well-formed XML: {exc}") from exc
    if root.getroottree().docinfo.internalDTD is not None:
        raise FhirError("Bundle", "a DOCTYPE is not allowed (no DTD, no entities)")
    if root.tag != f"{{{FHIR_NS}}}Bundle":
        raise FhirError("Bundle", f"expected <Bundle xmlns={FHIR_NS!r}>, got <{root.tag}>")
    try:
        # fhir.resources reads the parsed tree again: give it the same safe parser.
        return Bundle.model_validate_xml(etree.tostring(root), xmlparser=parser)
    except ValidationError as exc:
        raise _located(exc) from exc
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise FhirError("Bundle", f"not a FHIR R4 Bundle: {exc}") from exc


def _located(exc: ValidationError) -> FhirError:
    """The first pydantic error as a path and a problem."""
    first = exc.errors()[0]
    path = "Bundle"
    for part in first.get("loc", ()):
        if isinstance(part, int):
            path += f"[{part}]"
        elif part not in ("__root__",):
            path += f".{part}"
    return FhirError(path, first.get("msg", "invalid"))
