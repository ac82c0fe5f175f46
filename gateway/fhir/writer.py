"""Bundles to bytes: FHIR JSON or FHIR XML (UTF-8), as fhir.resources serialises them.

Every Bundle medbro writes is built as a plain document, then validated by fhir.resources'
R4B Bundle (``bundle_of``) before it is written, so medbro never sends what it would not read.
"""

from __future__ import annotations

from html import escape
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from gateway.errors import LocalUsageError

JSON = "application/fhir+json"
XML = "application/fhir+xml"


def bundle_of(document: dict[str, Any]) -> Bundle:
    """Validate a Bundle document built by medbro (a failure is medbro's bug, not input)."""
    try:
        return Bundle.model_validate(document)
    except ValidationError as exc:
        raise LocalUsageError(f"medbro built an invalid Bundle: {exc}") from exc


def dump(bundle: Bundle, media_type: str = JSON) -> bytes:
    """``bundle`` as FHIR JSON or FHIR XML bytes."""
    if media_type == XML:
        return bundle.model_dump_xml(pretty_print=True)
    if media_type != JSON:
        raise LocalUsageError(f"no FHIR serialisation {media_type!r}")
    return bundle.model_dump_json(indent=2).encode("utf-8")


def narrative(*lines: str) -> dict[str, str]:
    """The generated narrative MedCom requires on every resource ("text SHALL be included")."""
    body = "".join(f"<p>{escape(line)}</p>" for line in lines if line)
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{body}</div>'}
