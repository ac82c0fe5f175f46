"""Whole-message conversion EDIFACT <-> OIOXML (<-> FHIR) through the canonical model.

``from_edifact`` and ``to_edifact`` are what the pipeline calls when an endpoint speaks the
other format (a hospital posts XDIS01, the GP only takes EDIFACT). One interchange carries
one letter here, as MedCom's converter writes it and as an OIOXML Emessage holds it.
``convert`` also takes and writes FHIR: a CareCommunication is a DIS91 (gateway.fhir.convert).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from gateway.errors import LocalUsageError, converting
from gateway.logging import get_logger
from gateway.model import Envelope, Letter
from gateway.oioxml.errors import OioxmlError
from gateway.oioxml.reader import read
from gateway.oioxml.writer import write

log = get_logger(__name__)


class Format(enum.StrEnum):
    EDIFACT = "edifact"
    OIOXML = "oioxml"
    FHIR = "fhir"


def detect_format(data: bytes) -> Format:
    """EDIFACT (UNA/UNB), FHIR (gateway.wire_format decides) or an OIOXML ``Emessage``."""
    from gateway import wire_format

    sniffed = wire_format.sniff(data)
    if sniffed == wire_format.EDIFACT:
        return Format.EDIFACT
    if sniffed == wire_format.FHIR:
        return Format.FHIR
    if sniffed == wire_format.OIOXML:
        from gateway.oioxml.cursor import parse_xml
        from gateway.oioxml.xmlpath import local_name

        root = parse_xml(data)
        if local_name(root) == "Emessage":
            return Format.OIOXML
        raise OioxmlError(f"/{local_name(root)}", "XML, but not an OIOXML <Emessage>")
    raise OioxmlError("/", "neither EDIFACT (UNA/UNB), OIOXML (<Emessage>) nor a FHIR Bundle")


def from_edifact(edi_bytes: bytes) -> bytes:
    """One EDIFACT interchange (one DIS01/DIS91 letter or CTL01/02/03 receipt) as OIOXML."""
    from gateway.edifact import parse

    interchange = parse(edi_bytes)
    if len(interchange.messages) != 1:
        raise OioxmlError(
            "UNZ",
            f"an OIOXML Emessage carries one letter; the interchange "
            f"{interchange.envelope.control_ref} has {len(interchange.messages)}",
        )
    message = interchange.messages[0]
    if message.letter is None:
        raise OioxmlError(
            f"UNH {message.ref}", f"{message.family} {message.type} has no OIOXML form here"
        )
    with converting("EDIFACT", "OIOXML"):
        xml = write(interchange.envelope, message.letter)
    log.info("oioxml_converted", direction="edifact_to_oioxml", letter_type=message.type)
    return xml


def to_edifact(
    xml_bytes: bytes, *, control_ref: str | None = None, now: datetime | None = None
) -> bytes:
    """An OIOXML Emessage as one EDIFACT interchange.

    ``control_ref`` replaces the envelope identifier and ``now`` the UNB time (minutes), for a
    hub that sends the converted letter in an interchange of its own; both default to the
    XML envelope's ``Identifier`` and ``Sent``.
    """
    from gateway.edifact.letters import render_letter

    envelope, message = read(xml_bytes)
    if control_ref is not None:
        envelope = replace(envelope, control_ref=control_ref)
    if now is not None:
        envelope = replace(envelope, prepared_at=now.replace(second=0, microsecond=0))
    with converting("OIOXML", "EDIFACT"):  # the letter came from outside: its sender's fault
        edi = render_letter(envelope, message)
    log.info("oioxml_converted", direction="oioxml_to_edifact", letter_type=message.type)
    return edi


def convert(data: bytes, to: Format | str, *, sor_by_gln: Mapping[str, str] | None = None) -> bytes:
    """Convert ``data`` (format detected) to ``to``; converting to its own format is refused.

    ``sor_by_gln`` gives the SOR codes a CareCommunication needs when writing FHIR.
    """
    from gateway.fhir import convert as fhir

    target = Format(to)
    source = detect_format(data)
    if source is target:
        raise LocalUsageError(f"the input is already {target.value}")
    if source is Format.FHIR:
        return fhir.fhir_to_edifact(data) if target is Format.EDIFACT else fhir.fhir_to_oioxml(data)
    if target is Format.FHIR:
        envelope, letter = _letter_of(data, source)
        return fhir.letter_to_fhir(envelope, letter, sor_by_gln=sor_by_gln or {})
    return from_edifact(data) if target is Format.OIOXML else to_edifact(data)


def _letter_of(data: bytes, source: Format) -> tuple[Envelope, Letter]:
    if source is Format.OIOXML:
        envelope, message = read(data)
    else:
        from gateway.edifact import parse

        interchange = parse(data)
        if len(interchange.messages) != 1:
            raise OioxmlError("UNZ", "a FHIR message is converted from one letter")
        envelope, message = interchange.envelope, interchange.messages[0].letter
    if not isinstance(message, Letter):
        raise OioxmlError("UNH", "only a letter (DIS91) has a FHIR form, not a receipt")
    return envelope, message
