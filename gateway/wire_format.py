"""Which wire format a MedCom payload is in, from its first bytes: one decision for every door.

EDIFACT opens with UNA/UNB; FHIR is a JSON object with a ``resourceType`` or XML in the FHIR
namespace; other XML is OIOXML; anything else is binary. The VANS adapter
(adapters/vans/mapping.py ``sniff_format``) and the command line ask this function.
"""

from __future__ import annotations

import re

EDIFACT, OIOXML, FHIR, BINARY = "edifact", "oioxml", "fhir", "binary"

_HEAD = 4096
_FHIR_JSON = re.compile(rb'"resourceType"\s*:')


def sniff(payload: bytes) -> str:
    """``edifact``, ``oioxml``, ``fhir`` or ``binary``."""
    head = payload.lstrip(b"\xef\xbb\xbf \t\r\n")[:_HEAD]
    if head.startswith((b"UNA", b"UNB")):
        return EDIFACT
    if head.startswith(b"{"):
        return FHIR if _FHIR_JSON.search(head) else BINARY
    if head.startswith(b"<"):
        return FHIR if b"http://hl7.org/fhir" in head else OIOXML
    return BINARY
