"""Municipal copies: an epikrise with a copy receiver (NAD+CCR) that is a municipality endpoint
is also delivered there, so the municipality's ESDH journalises it (issue 5).

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

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from gateway.logging import get_logger
from gateway.pipeline import receipts
from gateway.pipeline.context import Pipeline
from gateway.routing import Match, RouteRequest
from gateway.store import repository as repo
from gateway.store.states import MessageEvent
from gateway.store.tables import InterchangeRow, MessageRow
from gateway.transport.port import PublishCommand

log = get_logger(__name__)
COPY_MARK = "~CC"


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


def _party_glns(party: Any) -> list[str]:
    glns = []
    if getattr(party, "scheme", "").upper() == "EAN" and party.id:
        glns.append(party.id)
    glns += [value for kind, value in getattr(party, "refs", ()) if kind.upper() == "LOC"]
    return glns


def municipal_copies(ctx: Pipeline, letter: Any, *, receiver_gln: str, family: str,
                     letter_type: str, version: str) -> list[str]:
    """GLNs of the municipality endpoints among ``letter``'s copy receivers (see the rule)."""
    found: list[str] = []
    for party in getattr(letter, "copies", ()) or ():
        for gln in _party_glns(party):
            endpoint = ctx.registry.endpoint(gln)
            if endpoint is None or endpoint.kind != "municipality" or gln == receiver_gln:
                continue
            request = RouteRequest(gln, family, letter_type, version, "edifact")
            if ctx.registry.match(request) is Match.FULL and gln not in found:
                found.append(gln)
    return found


def has_municipal_copy(ctx: Pipeline, heads: Iterable[Any], receiver_gln: str) -> bool:
    """True when any letter of an interchange gets a municipal copy (batch ingest defers those
    to ingest.py, which makes the copies)."""
    return any(
        not head.is_receipt and municipal_copies(
            ctx, head.letter, receiver_gln=receiver_gln, family=head.family.upper(),
            letter_type=head.type.upper(), version=head.version.upper())
        for head in heads)


def route_copies(ctx: Pipeline, session: Session, inter: InterchangeRow, data: bytes,
                 rows: list[MessageRow], heads: Iterable[Any], *,
                 at: datetime) -> list[PublishCommand]:
    """Store and route one copy delivery per (routed letter, municipality copy receiver)."""
    commands: list[PublishCommand] = []
    for row, head in zip(rows, heads, strict=True):
        if head.is_receipt or row.state != "routed":
            continue
        for gln in municipal_copies(ctx, head.letter, receiver_gln=row.receiver_gln or "",
                                    family=row.family, letter_type=row.type,
                                    version=row.version):
            copy_inter = repo.add_interchange(
                session, raw=readdress(data, row.receiver_gln or "", gln), received_via="copy",
                source=f"copy of {inter.id}", at=at, origin="copy", status="processed")
            copy_inter.sender_gln, copy_inter.receiver_gln, copy_inter.control_ref = (
                inter.sender_gln, gln, inter.control_ref)
            copy = repo.add_message(
                session, copy_inter, at=at, family=row.family, type=row.type,
                version=row.version, sender_gln=row.sender_gln, receiver_gln=gln,
                control_ref=row.control_ref, message_ref=f"{row.message_ref}{COPY_MARK}{gln}",
                letter_id=row.letter_id, summary={**(row.summary or {}), "copy_of": row.id},
                ack_requested=False)
            repo.transition(session, copy, MessageEvent.VALIDATE, at=at, copy_of=row.id)
            command = receipts.route_rows(ctx, session, [copy], at=at)
            repo.audit(session, "copy_routed", at=at, message_id=row.id,
                       interchange_id=inter.id, copy_message_id=copy.id, receiver=gln)
            log.info("municipal_copy_routed", message_id=row.id, copy_message_id=copy.id,
                     municipality=gln)
            if command is not None:
                commands.append(command)
    return commands


__all__ = ["COPY_MARK", "has_municipal_copy", "municipal_copies", "route_copies"]
