"""Municipal copies: an epikrise with a copy receiver (NAD+CCR) that is a municipality
endpoint is also delivered there, so the municipality's ESDH journalises it (issue 5).
``decide_ingest`` chooses the copies, the ingest writer stores them.

Matching rule (documented choice): a copy party is that municipality endpoint when its id is
a GLN (NAD scheme ``EAN``, or an ``RFF+LOC`` GLN in the party's group) of a registry endpoint
of kind ``municipality`` that takes the letter's type and version. A party given only by its
municipality number (scheme ``KOM``, e.g. 461 = Odense) is not matched: the registry does not
carry municipality numbers yet, and guessing from names would deliver patient letters to the
wrong authority. Copies for the main receiver itself, or for parties that are not configured
municipalities, are not made (the GP copy receivers are the hospital's business).

Store shape: the copy is its own tracked delivery without a schema change, as a second
interchange row (``origin = "copy"``) with one message row addressed to the municipality. Its
bytes are the hospital's, with only the UNB recipient changed to the municipality (as a sender
addresses a copy interchange itself): a municipality system that answers it names itself as
the original recipient, so its receipt can never be taken for the GP's. (Such a receipt is
stored as uncorrelated: the copy asked for none.) Its duplicate key is
derived: same sender and UNB ref, message ref ``<UNH ref>~CC<municipality GLN>`` (unique per
letter and copy receiver, within the 35 characters), so a resent original is still recognised
by its own key and never produces a second copy. The copy asks for no receipt (the sender
expects one from the main receiver only) and is not an SLA letter (the clock runs on the GP's
delivery); it has its own attempts, retries, state and operator tasks.

Only EDIFACT letters have copy receivers (``RULES``): MedCom's FHIR messages are
point-to-point, so a CareCommunication or HospitalNotification is never copied (docs/fhir.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CopyRule:
    """Whether a message in one form can name copy receivers, and why (said in the docs)."""

    copies: bool
    why: str


# The copy decision by the form a message arrives in: one row each (tests/pipeline/
# test_copies.py). Only an EDIFACT letter names copy receivers; a FHIR message never does.
RULES: dict[str, CopyRule] = {
    "edifact": CopyRule(True, "the letter's copy receivers (NAD+CCR) that are municipality "
                              "endpoints taking the letter (the DIS01 rules, docs/sla.md)"),
    "fhir": CopyRule(False, "MedCom FHIR messaging is point-to-point: the CareCommunication, "
                            "HospitalNotification and Acknowledgement MessageHeaders allow no "
                            "destination[cc] (..0), and gateway.fhir's rules refuse one; a "
                            "municipality is a message's primary receiver or gets none"),
}
OTHER = CopyRule(False, "routed by its envelope's facts (OIOXML, binary): no letter is read, "
                        "so no copy receiver is known")


def rule_for(format_: str) -> CopyRule:
    return RULES.get(format_ or "edifact", OTHER)


def copy_receivers(format_: str, letter: Any) -> list[str]:
    """GLNs a message in ``format_`` names for its copy receivers (none unless ``RULES`` says
    its form has them): a letter's EAN party id, or an RFF+LOC GLN in the party's group."""
    if not rule_for(format_).copies:
        return []
    glns: list[str] = []
    for party in getattr(letter, "copies", ()) or ():
        if getattr(party, "scheme", "").upper() == "EAN" and party.id:
            glns.append(party.id)
        glns += [value for kind, value in getattr(party, "refs", ()) if kind.upper() == "LOC"]
    return glns


def readdress(data: bytes, old: str, new: str) -> bytes:
    """``data`` with the UNB recipient ``old`` replaced by ``new`` (only inside the UNB)."""
    start = data.find(b"UNB+")
    if start < 0:
        return data
    end = start
    while True:
        end = data.find(b"'", end + 1)
        if end < 0 or data[end - 1:end] != b"?":
            break
    if end < 0:
        return data
    segment = data[start:end]
    elements = segment.split(b"+")
    if len(elements) < 4 or elements[3].split(b":")[0] != old.encode():
        return data
    elements[3] = new.encode() + elements[3][len(old.encode()):]
    return data[:start] + b"+".join(elements) + data[end:]


__all__ = ["OTHER", "RULES", "CopyRule", "copy_receivers", "readdress", "rule_for"]
