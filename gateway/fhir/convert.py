"""Whole-message conversion between FHIR and the letter formats, for endpoints that take one.

* a CareCommunication -> one DIS91 EDIFACT interchange (or its OIOXML XDIS91 twin);
* a DIS91 (EDIFACT or OIOXML) -> a CareCommunication (JSON).

Conversion is a pure function of the stored bytes, so a redelivery hands over the same bytes:
the EDIFACT references come from the MessageHeader.id, the interchange time from the Bundle
timestamp, and a CareCommunication's ids are name-based UUIDs of the letter's
(sender, interchange reference, letter reference).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from itertools import count

from gateway.fhir import codes
from gateway.fhir.carecommunication import LOCAL, from_letter, to_letter
from gateway.fhir.errors import FhirError
from gateway.fhir.message import FhirMessage
from gateway.model import Envelope, Letter

_NAMESPACE = uuid.UUID("8d6f3c1e-5b7a-4e0f-9a61-2b8c0d4e7f15")  # medbro's, for uuid5 ids


def edifact_refs(message: FhirMessage) -> str:
    """A 14-character EDIFACT reference (UNB/UNH) derived from the MessageHeader.id."""
    return "F" + message.header_id.replace("-", "").upper()[:13]


def letter_of(message: FhirMessage) -> tuple[Envelope, Letter]:
    """The DIS91 letter of a read CareCommunication, with references from its header id."""
    if message.event != codes.CARE_COMMUNICATION:
        raise FhirError(
            "MessageHeader.eventCoding.code",
            f"only a CareCommunication has a letter form; this is {message.event or 'unknown'}",
        )
    ref = edifact_refs(message)
    envelope, letter = to_letter(message, ref=ref, control_ref=ref,
                                 now=message.timestamp or _epoch())
    # The FHIR sender is owed an Acknowledgement: the twin asks its receiver for a CONTRL.
    return replace(envelope, ack_requested=True), letter


def fhir_to_edifact(data: bytes) -> bytes:
    from gateway.edifact.letters import render_letter
    from gateway.fhir import read

    return render_letter(*letter_of(read(data)))


def fhir_to_oioxml(data: bytes) -> bytes:
    from gateway.fhir import read
    from gateway.oioxml.writer import write

    return write(*letter_of(read(data)))


def letter_to_fhir(envelope: Envelope, letter: Letter, *, sor_by_gln: Mapping[str, str]) -> bytes:
    """A DIS91 letter as a CareCommunication with ids and time that depend on it alone."""
    if letter.type != "DIS91":
        raise FhirError("letter.type", f"only a DIS91 has a FHIR form here, not {letter.type}")
    seed = f"{envelope.sender}/{envelope.control_ref}/{letter.ref}"
    return from_letter(
        envelope,
        letter,
        now=envelope.prepared_at.replace(tzinfo=LOCAL),
        sor_by_gln=sor_by_gln,
        make_id=name_based_ids(seed),
    )


def name_based_ids(seed: str) -> Callable[[], str]:
    """uuid5(seed, 1), uuid5(seed, 2), ...: the same ids for the same letter, every time."""
    numbers = count(1)
    return lambda: str(uuid.uuid5(_NAMESPACE, f"{seed}#{next(numbers)}"))


def _epoch() -> datetime:
    return datetime(1970, 1, 1, tzinfo=LOCAL)
