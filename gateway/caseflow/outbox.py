"""The case flow's one port to the outside: an ``Outbox`` that takes a document and routes it.

The service never talks to a channel itself: it stores each outgoing document first (so none is
lost), then hands it to the outbox, which returns the pipeline's message id. ``HubOutbox``
turns the document into a MEDDIS DIS91 interchange (an LÆ form through the DIS91 profile, any
other document as a correspondence letter) and hands the bytes to ``Hub.ingest``; the Hub's
registry then routes it to the receiver's channel (EDI mailbox for GPs, HTTP for the
coordinator and the clinical function). ``MemoryOutbox`` is the in-memory twin for tests and
the embedded demo without a Hub.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from gateway.errors import ConfigError, MedbroError
from gateway.forms import from_xml, to_letter
from gateway.logging import get_logger
from gateway.model import Envelope, FreeText, Letter, Party, Patient, Referral

log = get_logger(__name__)


class OutboxError(MedbroError):
    """The pipeline refused a document (it stays in the case, marked unsent, to resend)."""


@dataclass(frozen=True)
class OutgoingDocument:
    """One document leaving the case: an LÆ form (XML) or a text letter."""

    document_id: int
    case_ref: str
    kind: str
    sender: Party
    receiver: Party
    patient: Patient
    created_at: datetime
    form_xml: bytes | None = None
    subject: str = ""
    text: str = ""
    copies: tuple[Party, ...] = ()
    attempt: int = 0  # how many times the pipeline refused it before

    @property
    def ref(self) -> str:
        """UNB / UNH / RFF+SRI reference (an..14): the same for the same document and attempt,
        so a send repeated after a crash is a duplicate the Hub delivers once; a new one after
        a refusal, so the corrected send is not mistaken for the refused one."""
        key = f"{self.case_ref}/{self.document_id}/{self.attempt}".encode()
        return "C" + hashlib.sha256(key).hexdigest()[:13].upper()


def letter_for(doc: OutgoingDocument) -> Letter:
    """The DIS91 letter that carries ``doc``."""
    if doc.form_xml is not None:
        letter = to_letter(from_xml(doc.form_xml), ref=doc.ref)
        if (letter.receiver.scheme, letter.receiver.id) != (doc.receiver.scheme, doc.receiver.id):
            # a forwarded copy (LÆ 275 to the GP): addressed to the copy's receiver
            letter = dataclasses.replace(letter, receiver=doc.receiver, copies=())
        return letter
    at = doc.created_at.replace(second=0, microsecond=0)
    return Letter(
        type="DIS91", version="D9134L", ref=doc.ref, letter_id=doc.ref, authorised_at=at,
        sent_at=at, sender=doc.sender, receiver=doc.receiver, copies=doc.copies,
        patient=doc.patient,
        texts=(FreeText("OE", doc.subject), FreeText("NC", doc.text)),
        # RFF+ROI names the municipal case, so ESDH files the letter on it (an..35)
        referral=Referral(id=doc.case_ref) if len(doc.case_ref) <= 35 else None,
    )


class Outbox(Protocol):
    async def send(self, doc: OutgoingDocument) -> str:
        """Route ``doc``; return the pipeline message id, or raise OutboxError."""
        ...


@dataclass
class MemoryOutbox:
    """In-memory twin: keeps every document and its letter, as the Hub would have read it."""

    sent: list[tuple[OutgoingDocument, Letter]] = field(default_factory=list)

    async def send(self, doc: OutgoingDocument) -> str:
        self.sent.append((doc, letter_for(doc)))
        return f"memory-{len(self.sent)}"


class HubOutbox:
    """Hands each document to ``hub.ingest`` as a DIS91 interchange (the real pipeline path).

    ``address_book`` maps a party ``(scheme, id)`` such as ``("YNR", "291714")`` or
    ``("KOM", "101")`` to its GLN in the Hub's partner registry.
    """

    def __init__(self, hub: Any, address_book: Mapping[tuple[str, str], str]) -> None:
        self.hub = hub
        self.address_book = dict(address_book)

    def gln(self, party: Party) -> str:
        try:
            return self.address_book[(party.scheme, party.id)]
        except KeyError:
            raise ConfigError(f"no GLN for party {party.scheme}:{party.id} in the case flow's "
                              "address book") from None

    def interchange(self, doc: OutgoingDocument) -> tuple[str, bytes]:
        from gateway.edifact.letters import render_letter

        sender = self.gln(doc.sender)
        envelope = Envelope(sender=sender, recipient=self.gln(doc.receiver),
                            control_ref=doc.ref, prepared_at=doc.created_at.replace(
                                second=0, microsecond=0))
        return sender, render_letter(envelope, letter_for(doc))

    async def send(self, doc: OutgoingDocument) -> str:
        sender, data = self.interchange(doc)
        result = await self.hub.ingest(data, received_via="caseflow", source=f"case:{doc.case_ref}",
                                       authenticated_glns=frozenset({sender}))
        if result.error or not result.message_ids or result.state not in ("routed", "delivered",
                                                                         "acknowledged"):
            raise OutboxError(f"the pipeline did not route {doc.kind} of case {doc.case_ref}: "
                              f"state {result.state}, {result.error or 'no message id'}")
        log.info("case_document_routed", case_ref=doc.case_ref, kind=doc.kind,
                 message_id=result.message_ids[0])
        return result.message_ids[0]
