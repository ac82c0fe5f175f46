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
"""

from __future__ import annotations


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


__all__ = ["readdress"]
