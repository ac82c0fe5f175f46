"""Canonical mapping of MedCom letters: message segments <-> ``gateway.model.Letter``.

``to_model`` reads the groups of a MEDDIS letter (the epikriser DIS01-DIS13, the
correspondence letters DIS90/DIS91 and the municipal advis DIS14/DIS17/DIS20) and the
MEDREF hospital referral REF01 into a ``Letter``, a CONTRL into a ``Receipt``
(``receipts.receipt_from_message``); other families and MEDREF types give None (their
segments stay available on the message). ``from_model`` writes the body
segments back; ``render_letter`` wraps them in UNB/UNH..UNT/UNZ with the codec's encoder.

Nothing is dropped: a segment this mapping does not model (RFF+AHI in S11, a second CON,
RFF+REI, ...) is kept verbatim in ``Letter.extra`` as ``(where, "TAG+el+c1:c2")``, where
``where`` is ``S01/<role>#<n>`` for a party's group, ``header``, or ``<group>#<occurrence>``;
``from_model`` puts it back into that group at the place the grammar gives its tag. One more
kind of entry, ``("layout", "S11.CIN=<n>")``, records how many diagnoses stood in S11 when
that differs from the default below. And a mapped segment the sender wrote in another form
than ours (an extra component, DTM format 204 where we write 203, ...) is kept as
``("~<group>", "TAG+...")``: the writer uses it instead of its own form as long as the model
still says the same (a changed model wins). Extras are sorted by ``where`` so the model does
not depend on the order of parties or groups on the wire.

Conventions ``from_model`` writes (and ``to_model`` therefore does not record as extras):
BGM+EPI++9+NA; S01 groups sender, receiver, copies, contacts (DIS14: receiver first), each
with SEQ++<n> and the sender with SPR+ORG; S11 always, with GIS+N and SEQ++1 unless extras
say otherwise; diagnoses A/DM without a date in S11, the rest in S14 (one CIN per group,
DTM+CIS after it); all texts in one S14 group, a new group only where two adjacent texts have
the same qualifier and format (they would merge into one run otherwise).

A REF01 (``letter_writer.REFERRAL_TYPES``) is laid out as MedCom's referral: BGM+HNV++9+NA,
the sender NAD+PO (with SPR+ORG) and the receiver NAD+SSP, S02 holds the status (GIS), the
referral diagnoses (CIN) and the clinical reason (FTX+DI), S07 the patient, S12 the clinical
texts, S19 the transport remark (FTX+COT); its other groups stay extras.
"""

from __future__ import annotations

from typing import Any

from pydifact.segments import Segment

from gateway.edifact.grammar import MessageGrammar
from gateway.edifact.grammars import find_grammar
from gateway.edifact.letter_reader import read_letter
from gateway.edifact.letter_writer import REFERRAL_TYPES, write_letter
from gateway.errors import LocalUsageError
from gateway.model import Envelope, Letter, Receipt

__all__ = ["to_model", "from_model", "render_letter", "letter_identifier"]


def to_model(message: Any, interchange: Any = None) -> Letter | Receipt | None:
    """The canonical form of a (valid) message: a Letter, a Receipt, or None for the families
    this codec only checks structurally (MEDREF but REF01, MEDRPT, MEDREQ, MEDBIN, MEDPRE)."""
    if message.family == "CONTRL":
        from gateway.edifact.receipts import receipt_from_message

        return receipt_from_message(message)
    grammar = find_grammar(message.type)
    if grammar is None or not (message.family == "MEDDIS" or message.type in REFERRAL_TYPES):
        return None
    return read_letter(message, grammar)


def letter_identifier(item: Letter | Receipt) -> list[str]:
    """UNH element 2 for a letter or receipt: e.g. ``MEDDIS:D:93A:UN:D0133L``."""
    grammar = _grammar(item.type)
    return [*grammar.identifier, item.version]


def _grammar(type_: str) -> MessageGrammar:
    grammar = find_grammar(type_)
    if grammar is None:
        raise LocalUsageError(f"unknown letter type {type_!r}")
    return grammar


# -- writing -----------------------------------------------------------------------------------


def from_model(item: Letter | Receipt) -> list[Segment]:
    """The body segments (between UNH and UNT) of a letter or receipt."""
    if isinstance(item, Receipt):
        from gateway.edifact.receipts import receipt_segments

        return receipt_segments(item)
    grammar = _grammar(item.type)
    if grammar.family != "MEDDIS" and item.type not in REFERRAL_TYPES:
        raise LocalUsageError(
            f"{item.type}: only MEDDIS letters, REF01 and CONTRL receipts render"
        )
    return write_letter(item, grammar)


def render_letter(
    envelope: Envelope, item: Letter | Receipt, *, una: bool = True, check: bool = True
) -> bytes:
    """A whole interchange (UNA, UNB, UNH, body, UNT, UNZ) carrying one letter or receipt.

    With ``check`` (the default) the rendered message is validated against its grammar first,
    so medbro never sends what it would itself refuse: ``LocalUsageError`` names the problem.
    """
    from gateway.edifact.encoder import encode
    from gateway.edifact.interchange import Interchange, Message
    from gateway.edifact.validate import message_problems

    message = Message(
        ref=item.ref,
        family=_grammar(item.type).family,
        version=item.version,
        type=item.type,
        identifier=letter_identifier(item),
        segments=from_model(item),
    )
    if check:
        from gateway.edifact.envelope import receipt_requested_for_receipt

        if receipt_requested_for_receipt(message.family, envelope.ack_requested):
            raise LocalUsageError(f"{item.type} {item.ref} would be refused: a receipt "
                                  "must not request a receipt (UNB element 9)")
        problems = message_problems(message, first_only=True)
        if problems:
            raise LocalUsageError(f"{item.type} {item.ref} would be refused: {problems[0]}")
    return encode(Interchange(envelope=envelope, messages=[message], una=una))
