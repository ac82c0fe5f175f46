"""``decide_ingest``: what happens to one input, decided without IO.

The one place that answers, for every source alike: may this organisation send as this GLN,
is it readable, is it a duplicate, which originals does a receipt speak of, may they take it,
is the route allowed, which municipalities get a copy, and which receipt the sender is owed.
The ingest writer (ingest.py) gathers what the store already knows about an input
(``Known``), calls this, and writes the verdict; nothing here touches a session.

Table of verdicts (tests/pipeline/test_ingest_verdict.py holds one case per row):

=====================================  ===========================================  =========
input                                  verdict                                      receipt
=====================================  ===========================================  =========
sender not one of the caller's GLNs    Reject SENDER_NOT_AUTHORISED (HTTP 403)      none
unreadable, our codec crashed          Reject CODEC_FAILED + operator task          none
unreadable, sender's error             Reject with the codec's code and place       CTL02 if
                                                                                    medbro is
                                                                                    receiver,
                                                                                    else CTL01
no messages (an empty envelope)        Reject EMPTY_INTERCHANGE                     none
every key already stored               Duplicate of the originals                   the first
                                                                                    one again
                                                                                    (FHIR: also
                                                                                    delivered
                                                                                    again)
some keys stored, some new             Reject PARTIAL_DUPLICATE + operator task     none
route refused (unknown, not taken)     Refuse: stored PARKED + operator task        CTL01 LOK/
                                                                                    VER
route allowed                          Accept: ROUTED (+ municipal copies)          none now
a CONTRL for a CareCommunication's     Accept in_place: the CONTRL ends with        the FHIR
DIS91 twin (delivered converted)       medbro (DELIVERED), originals correlated     sender gets
                                                                                    its Ack.
an Acknowledgement for a DIS91's       Accept in_place: it ends with medbro         CTL03 (if
CareCommunication twin                 (DELIVERED), originals correlated            asked) or
                                                                                    CTL02; none
                                                                                    for
                                                                                    transient
a Bundle.id seen with another          Reject BUNDLE_REUSED (``Bundle.id``)         fatal-error
MessageHeader.id (MedCom: never reused)
=====================================  ===========================================  =========

A MedCom FHIR message (inputs.py reads it with gateway.fhir) takes the same rows; its receipt is
the Acknowledgement gateway.fhir.owed says is owed, in the message's media type: a broken rule
is ``fatal-error`` naming the FHIR path (from medbro as a hop, or as the final receiver), a
refused route ``fatal-error`` from medbro (not-found), an accepted message ``ok`` when medbro is
its final receiver (written when the local endpoint took it, worker.py, like a CTL03) and
none when it is passed on (its final receiver answers); a duplicate gets the first
Acknowledgement again. An Acknowledgement is never answered.

MedCom's reliable-messaging cache (043_Reliable_Messaging-FHIR; gateway.fhir.reliable
``duplicate_case``) is decided here from what the store knows (``Known.bundles``: the Bundle.ids
seen per sender): the same Bundle.id and MessageHeader.id again (a transport retry) and a new
Bundle.id with a seen MessageHeader.id (a resend) are duplicates; a seen Bundle.id with a new
MessageHeader.id is an error (Bundle.ids are never reused), rejected with a ``fatal-error``.

Receipts (CONTRL) are accepted like letters (they are forwarded to the original sender) and
also carry their correlations: each original named by the UCI/UCM takes ACKNOWLEDGE (CTL03) or
NEGATIVE_RECEIPT (CTL02/CTL01) when the lifecycle table allows it in its state, else the
receipt is recorded and ignored for it (MedCom: a negative receipt is final). A FHIR
Acknowledgement correlates the same way to the message whose ``MessageHeader.id`` its
``response.identifier`` names, sent by the Acknowledgement's receiver: ``ok`` acknowledges,
``fatal-error`` is a negative receipt, ``transient-error`` is recorded and makes the original
due for its resend at once (``Correlation.due_now``; resend.py decides, under the same 30
minutes and at most two resends as a missing receipt).

Authorisation answer (docs/architecture.md): an interchange whose sender the caller may not
speak for is *stored and rejected*, visible to operators as evidence, answered with no receipt
(a receipt would go to the GLN that was impersonated), and the HTTP routes answer 403.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from gateway.errors import MedbroError, RemoteMessageError
from gateway.fhir import FhirError, read_leniently, reliable
from gateway.fhir.acknowledgement import acknowledgement, answer_read
from gateway.fhir.convert import edifact_refs, name_based_ids
from gateway.fhir.message import Organisation
from gateway.fhir.owed import Outcome, Role, from_receipt, receipt_owed
from gateway.fhir.reader import media_type
from gateway.fhir.routing import FORMAT as FHIR
from gateway.model import Receipt, RefusalCode
from gateway.pipeline import codec
from gateway.pipeline.conversion import target_format
from gateway.pipeline.copies import copy_receivers
from gateway.pipeline.inputs import IngestInput, MessageFacts
from gateway.registry import Registry
from gateway.routing import Match, RouteRequest
from gateway.store.states import MessageEvent, MessageState, can

COPY_MARK = "~CC"  # a municipal copy's message ref: <UNH ref>~CC<municipality GLN>


@dataclass(frozen=True)
class StoredMessage:
    """What the store holds of a message that an input may repeat or answer."""

    id: str
    state: str
    message_ref: str | None = None
    type: str = ""


@dataclass(frozen=True)
class Redelivery:
    """The message that carried a first receipt (a FHIR Acknowledgement), to be delivered to
    its receiver again: the sender of a duplicate lost it (MedCom MR8: "the same
    acknowledgement again")."""

    message: StoredMessage
    interchange_id: str
    route: RouteRequest


@dataclass(frozen=True)
class Known:
    """What the store already knows about a batch of inputs (read by the writer first)."""

    by_key: Mapping[tuple[str, str, str], StoredMessage] = field(default_factory=dict)
    replays: Mapping[str, bytes] = field(default_factory=dict)  # message id -> first receipt
    originals: Mapping[tuple[str, str, str], tuple[StoredMessage, ...]] = field(
        default_factory=dict)  # (sender, recipient, UNB ref) -> messages
    answered: Mapping[tuple[str, str], tuple[StoredMessage, ...]] = field(
        default_factory=dict)  # FHIR: (sender, MessageHeader.id) -> messages
    carriers: Mapping[str, Redelivery] = field(
        default_factory=dict)  # message id -> the message that carried its first receipt
    converted: Mapping[str, bytes] = field(
        default_factory=dict)  # originals delivered as their twin (a CareCommunication as a
    # DIS91, a DIS91 as a CareCommunication) whose receipts speak of them: id -> stored bytes
    bundles: Mapping[tuple[str, str], str] = field(
        default_factory=dict)  # FHIR: (sender, Bundle.id) seen -> its MessageHeader.id

    def with_accepted(self, item: IngestInput, ids: list[str], state: str,
                      receipt: bytes | None = None) -> Known:
        """``self`` plus the messages of an input just stored (a repeat in the same batch is
        then a duplicate of it, answered with the same ``receipt``)."""
        added = {(item.sender or "", item.control_ref or "", m.ref):
                 StoredMessage(i, state, m.ref, m.type)
                 for m, i in zip(item.messages, ids, strict=True)}
        replays = dict(self.replays)
        if receipt is not None:
            replays.update(dict.fromkeys(ids, receipt))
        return Known({**self.by_key, **added}, replays, self.originals, self.answered,
                     self.carriers, self.converted, self.with_bundle(item))

    def with_bundle(self, item: IngestInput) -> Mapping[tuple[str, str], str]:
        """``bundles`` plus the Bundle.id of ``item`` (a FHIR message just stored or repeated)."""
        key = bundle_key(item)
        if key is None or key in self.bundles:
            return self.bundles
        return {**self.bundles, key: item.control_ref or ""}

    def with_states(self, states: Mapping[str, str]) -> Known:
        """``self`` with the originals' states as a batch moved them."""
        def moved(found: tuple[StoredMessage, ...]) -> tuple[StoredMessage, ...]:
            return tuple(StoredMessage(m.id, states.get(m.id, m.state), m.message_ref, m.type)
                         for m in found)

        return Known(self.by_key, self.replays,
                     {key: moved(found) for key, found in self.originals.items()},
                     {key: moved(found) for key, found in self.answered.items()},
                     self.carriers, self.converted, self.bundles)


@dataclass(frozen=True)
class Correlation:
    """An incoming receipt's effect on one original message."""

    original: StoredMessage
    kind: str  # CTL01 | CTL02 | CTL03 | FCTL (a FHIR Acknowledgement)
    refusal: str | None
    text: str
    event: MessageEvent | None  # None: recorded, ignored (``ignored`` says why)
    ignored: str = ""
    due_now: bool = False  # a FHIR transient-error: the original's resend is due at once


@dataclass(frozen=True)
class Answer:
    """The receipt medbro writes, as the receiver, for ``original`` delivered as its twin: the
    Acknowledgement a CareCommunication's sender is owed for the DIS91 receiver's CONTRL, or
    the CONTRL a DIS91's sender is owed for the FHIR receiver's Acknowledgement."""

    original: str  # message id
    acknowledgement: bytes  # the receipt: an Acknowledgement or a CONTRL


@dataclass(frozen=True)
class Copy:
    """A municipal copy of letter ``index`` for ``gln``."""

    index: int
    gln: str


@dataclass(frozen=True)
class Accept:
    """Store the messages ROUTED and publish one delivery command for the interchange."""

    route: RouteRequest
    correlations: tuple[Correlation, ...] = ()
    copies: tuple[Copy, ...] = ()
    in_place: tuple[Answer, ...] | None = None  # a receipt for a twin: ends here (below)
    converted_ref: str | None = None  # the reference of the twin its receiver will get


@dataclass(frozen=True)
class Refuse:
    """Store the messages PARKED with an operator task; the sender gets ``receipt``."""

    match: Match
    reason: str
    receipt: bytes | None = None
    correlations: tuple[Correlation, ...] = ()


@dataclass(frozen=True)
class Duplicate:
    """Nothing new: audit on the originals; the sender gets the first receipt again."""

    originals: tuple[StoredMessage, ...]
    receipt: bytes | None = None
    redeliver: tuple[Redelivery, ...] = ()  # FHIR: the first Acknowledgement, sent again


@dataclass(frozen=True)
class Reject:
    """Store one REJECTED message naming ``code`` and ``place``; answer with ``receipt``."""

    code: str
    text: str
    place: dict[str, Any] = field(default_factory=dict)
    receipt: bytes | None = None
    task: str = ""  # an operator task of this kind is opened
    originals: tuple[StoredMessage, ...] = ()  # a partial duplicate: the ones it repeats
    receipt_error: str = ""  # why no receipt could be written although one is owed


Verdict = Accept | Refuse | Duplicate | Reject


def decide_ingest(item: IngestInput, known: Known, registry: Registry, *, now: datetime,
                  medbro_gln: str) -> Verdict:
    """The verdict for ``item``; pure (``registry`` is the loaded configuration)."""
    glns = item.authenticated_glns
    if glns is not None and item.sender is not None and item.sender not in glns:
        fhir = item.format == FHIR
        return Reject("SENDER_NOT_AUTHORISED",
                      f"the {'message' if fhir else 'interchange'}'s sender GLN {item.sender} "
                      f"({'MessageHeader.sender' if fhir else 'UNB element 2'}) is not one "
                      "of the authenticated organisation's GLNs",
                      place={"path": f"{HEADER}.sender"} if fhir else
                      {"segment": "UNB", "element": 2})
    if item.error is not None:
        if item.format == FHIR:
            return _unreadable_fhir(item, registry, now=now, medbro_gln=medbro_gln)
        return _unreadable(item, registry, now=now, medbro_gln=medbro_gln)
    if not item.messages:
        return Reject("EMPTY_INTERCHANGE",
                      f"interchange {item.control_ref} holds no message (UNH)",
                      place={"segment": "UNH"})
    stored = [known.by_key.get(k) for k in _keys(item)]
    if _bundle_case(item, known, seen=any(stored)) is reliable.Case.BUNDLE_REUSED:
        return _bundle_reused(item, known, registry, now=now, medbro_gln=medbro_gln)
    if any(stored):
        return _repeat(item, known, stored)
    pairs = [(m, c) for m in item.messages if m.is_receipt for c in _correlate(m, known)]
    answers = _correlate_fhir(item, known)
    correlations = tuple(c for _m, c in pairs) + answers
    route = RouteRequest(receiver_gln=item.receiver or "", family=item.messages[0].family,
                         type=item.messages[0].type, version=item.messages[0].version,
                         format=item.format)
    if pairs and all(c.original.id in known.converted for _m, c in pairs):
        return Accept(route, correlations, in_place=_in_fhir(item, pairs, known, now=now))
    if answers and all(c.original.id in known.converted for c in answers):
        return Accept(route, correlations, in_place=_in_edifact(item, answers, known, now=now))
    refused = _first_refusal(item, registry)
    if refused is None:
        return Accept(route, correlations, tuple(_copies(item, registry)),
                      converted_ref=_twin_ref(item, registry))
    match, message = refused
    reason = refusal_text(match, item.receiver or "", message)
    receipt = None
    if item.format == FHIR:
        receipt = _acknowledgement(item, registry, now=now, medbro_gln=medbro_gln,
                                   outcome=Outcome.UNDELIVERABLE, reason=reason)
    elif item.format == "edifact" and not any(m.is_receipt for m in item.messages):
        receipt = codec.refusal(item.data, code=match.refusal or RefusalCode.NC, text=reason,
                                sender_id=medbro_gln, now=now)
    return Refuse(match, reason, receipt, correlations)


def refusal_text(match: Match, receiver: str, message: MessageFacts) -> str:
    """The Danish text of a CTL01 refusal (FTX), as MedCom's samples phrase them."""
    if match is Match.UNKNOWN_RECEIVER:
        return f"Modtagerlokationsnummer {receiver} har ikke kunnet identificeres."
    return f"Modtager {receiver} kan ikke modtage {message.type} i version {message.version}."


def _keys(item: IngestInput) -> list[tuple[str, str, str]]:
    return [(item.sender or "", item.control_ref or "", m.ref) for m in item.messages]


def _unreadable(item: IngestInput, registry: Registry, *, now: datetime,
                medbro_gln: str) -> Reject:
    error = item.error
    assert error is not None
    if not isinstance(error, RemoteMessageError):
        return Reject("CODEC_FAILED", f"internal codec error {type(error).__name__}: {error}",
                      task="codec_error")
    detail = error.to_dict() if hasattr(error, "to_dict") else {"text": str(error)}
    code = str(detail.get("code") or "INVALID")
    place = {k: v for k, v in detail.items() if k not in ("code", "text", "message")}
    if item.sender is None:
        return Reject(code, str(error), place)
    receiver = registry.endpoint(item.receiver or "")
    try:
        if receiver is not None and receiver.is_local:
            receipt = codec.final_receipt(item.data, now=now)
        else:
            refusal = RefusalCode(str(getattr(error, "receipt_hint", "SYN")))
            receipt = codec.refusal(item.data, code=refusal,
                                    text=f"Fejl i EDI-kuvert: {error}"[:350],
                                    sender_id=medbro_gln, now=now)
    except Exception as exc:  # noqa: BLE001 - too broken to answer: stored, rejected, told
        return Reject(code, str(error), place, receipt_error=str(exc)[:500])
    return Reject(code, str(error), place, receipt)


HEADER = "Bundle.entry[0].resource"  # the MessageHeader (MedCom: always the first entry)


def fhir_place(error: FhirError) -> dict[str, str]:
    """Where a FHIR message breaks a rule, as a path from the Bundle (the rules name the
    MessageHeader by its type; it is the Bundle's first entry)."""
    path = error.path
    if path.startswith("MessageHeader"):
        path = HEADER + path.removeprefix("MessageHeader")
    return {"path": path, "issue": error.issue}


def bundle_key(item: IngestInput) -> tuple[str, str] | None:
    """(sender GLN, Bundle.id) of a FHIR message from outside, the key MedCom's reliable
    messaging caches sends under; None for anything else (medbro's own messages included)."""
    message = item.fhir_message
    if (message is None or item.error is not None or item.origin != "inbound"
            or not message.bundle_id or not item.sender):
        return None
    return item.sender, message.bundle_id


def _bundle_case(item: IngestInput, known: Known, *, seen: bool) -> reliable.Case | None:
    """MedCom's cache case for a FHIR message (None for other inputs)."""
    key = bundle_key(item)
    if key is None or not item.control_ref:
        return None
    return reliable.duplicate_case(header_seen=seen, bundle_seen_with=known.bundles.get(key),
                                   header_id=item.control_ref)


def _bundle_reused(item: IngestInput, known: Known, registry: Registry, *, now: datetime,
                   medbro_gln: str) -> Reject:
    """A Bundle.id seen before with another MessageHeader.id: MedCom says Bundle.ids are never
    reused, so this is refused with a ``fatal-error`` naming the Bundle.id (the sender must
    send it again under a new one)."""
    key = bundle_key(item)
    assert key is not None
    error = FhirError("Bundle.id", f"Bundle.id {key[1]} was already received with "
                      f"MessageHeader.id {known.bundles[key]}; a Bundle.id is never reused "
                      "(MedCom reliable messaging)", issue="business-rule")
    receipt = _acknowledgement(replace(item, error=error), registry, now=now,
                               medbro_gln=medbro_gln)
    return Reject("BUNDLE_REUSED", str(error), fhir_place(error), receipt)


def _unreadable_fhir(item: IngestInput, registry: Registry, *, now: datetime,
                     medbro_gln: str) -> Reject:
    """A FHIR message that is no Bundle or breaks MedCom's rules: rejected, and answered
    ``fatal-error`` when it says enough (a MessageHeader.id and a sender) to be answered."""
    error = item.error
    assert error is not None
    if not isinstance(error, FhirError):
        return Reject("CODEC_FAILED", f"internal FHIR reader error {type(error).__name__}: "
                      f"{error}", task="codec_error")
    try:
        receipt = _acknowledgement(item, registry, now=now, medbro_gln=medbro_gln)
    except Exception as exc:  # noqa: BLE001 - too broken to answer: stored, rejected, told
        return Reject("INVALID_FHIR", str(error), fhir_place(error),
                      receipt_error=str(exc)[:500])
    return Reject("INVALID_FHIR", str(error), fhir_place(error), receipt)


def _acknowledgement(item: IngestInput, registry: Registry, *, now: datetime, medbro_gln: str,
                     outcome: Outcome = Outcome.ACCEPTED, reason: str = "") -> bytes | None:
    """The Acknowledgement gateway.fhir.owed says ``item`` is owed (None for EDIFACT, for an
    Acknowledgement, and for a message medbro passes on). medbro is the final receiver for
    a local endpoint; as a network hop it answers as its own Organization: its GLN, and the
    SOR code the partner file gives that GLN (none: GLN only)."""
    message = item.fhir_message
    if message is None:
        return None
    endpoint = registry.endpoint(item.receiver or "")
    role = Role.FINAL_RECEIVER if endpoint is not None and endpoint.is_local else Role.HOP
    problem = item.error if isinstance(item.error, FhirError) else None
    out, _why = answer_read(message, problem, media_type=media_type(item.data), now=now,
                            role=role, outcome=outcome, reason=reason,
                            hub=Organisation(gln=medbro_gln, sor=registry.sor_of(medbro_gln),
                                             name="medbro"))
    return out


def _correlate_fhir(item: IngestInput, known: Known) -> tuple[Correlation, ...]:
    """An incoming FHIR Acknowledgement's effect on the message it answers: the one with
    ``MessageHeader.id`` = ``response.identifier`` that its receiver sent."""
    message = item.fhir_message
    if message is None or message.response is None or not item.messages[0].is_receipt:
        return ()
    response = message.response
    details = "; ".join(i.detail for i in response.issues if i.detail)
    text = response.code + (f": {details}" if details else "")
    meaning = reliable.verdict(response.code)
    event = {reliable.Verdict.ACKNOWLEDGED: MessageEvent.ACKNOWLEDGE,
             reliable.Verdict.REJECTED: MessageEvent.NEGATIVE_RECEIPT}.get(meaning)
    out = []
    for original in known.answered.get((item.receiver or "", response.identifier), ()):
        if event is None:
            out.append(Correlation(original, "FCTL", None, text, None,
                                   ignored="transient-error: resent by the resend rule",
                                   due_now=original.state == MessageState.DELIVERED.value))
        elif can(original.state, event):
            out.append(Correlation(original, "FCTL", None, text, event))
        else:
            out.append(Correlation(original, "FCTL", None, text, None,
                                   ignored=f"message is {original.state}"))
    return tuple(out)


def _twin_ref(item: IngestInput, registry: Registry) -> str | None:
    """The UNB reference of the DIS91 a CareCommunication's receiver will get when it does not
    take FHIR (conversion.py decides; edifact_refs is a function of the MessageHeader.id).
    Recorded at once, so that a CONTRL overtaking the delivery's commit still correlates; the
    delivery records the reference it really handed over."""
    message, endpoint = item.fhir_message, registry.endpoint(item.receiver or "")
    if message is None or endpoint is None or not item.messages:
        return None
    facts = item.messages[0]
    if target_format(endpoint, item.format, facts.type, facts.version) == FHIR:
        return None
    return edifact_refs(message)


def _in_fhir(item: IngestInput, pairs: list[tuple[MessageFacts, Correlation]], known: Known,
             *, now: datetime) -> tuple[Answer, ...]:
    """A CONTRL for the DIS91 twin of a CareCommunication: its sender speaks FHIR and cannot
    take a CONTRL, so it ends with medbro, which answers the sender in its place with the
    Acknowledgement the receipt stands for (gateway.fhir.owed.from_receipt: CTL03 ``ok``,
    CTL01/CTL02 ``fatal-error``), written as the receiver (the original's destination). Only
    a receipt that moves its original is answered: a later one is recorded and ignored."""
    out = []
    for message, c in pairs:
        if c.event is None or not isinstance(message.letter, Receipt):
            continue
        original, _problem = read_leniently(known.converted[c.original.id])
        if original is None:  # it was read when it came in: only a damaged store gets here
            continue
        seed = f"ack/{item.sender}/{item.control_ref}/{message.ref}/{original.header_id}"
        out.append(Answer(c.original.id, acknowledgement(
            original, from_receipt(message.letter), now=now,
            media_type=media_type(known.converted[c.original.id]),
            make_id=name_based_ids(seed))))
    return tuple(out)


def _in_edifact(item: IngestInput, answers: tuple[Correlation, ...], known: Known, *,
                now: datetime) -> tuple[Answer, ...]:
    """An Acknowledgement for the CareCommunication twin of a DIS91: the letter's sender speaks
    EDIFACT and cannot take it, so it ends with medbro, which answers the sender in its place
    with the CONTRL it stands for (gateway.fhir.owed.receipt_owed: ``ok`` -> CTL03 when the
    UNB asked for one, ``fatal-error`` -> CTL02, ``transient-error`` -> none: the resend rule
    acts), written as the receiver. Only an Acknowledgement that moves its original is
    answered: a later one is recorded and ignored."""
    message = item.fhir_message
    assert message is not None and message.response is not None
    out = []
    for c in answers:
        if c.event is None:
            continue
        try:
            original = codec.original_of(known.converted[c.original.id])
        except MedbroError:  # it was read when it came in: only a damaged store gets here
            continue
        owed = receipt_owed(message.response.code, message.response.issues,
                            ack_requested=original.ack_requested)
        if owed is None:
            continue
        raw = codec.receipt_as_receiver(original, type_=owed.type, refusal=owed.refusal,
                                        text=owed.text, now=now)
        if raw is not None:
            out.append(Answer(c.original.id, raw))
    return tuple(out)


def _repeat(item: IngestInput, known: Known,
            stored: list[StoredMessage | None]) -> Duplicate | Reject:
    seen = tuple(s for s in stored if s is not None)
    if len(seen) < len(stored):
        new = [m.ref for m, s in zip(item.messages, stored, strict=True) if s is None]
        return Reject("PARTIAL_DUPLICATE",
                      f"interchange {item.control_ref} repeats letters already received "
                      f"({', '.join(sorted(s.message_ref or '' for s in seen))}) together "
                      f"with new ones ({', '.join(new)})",
                      place={"segment": "UNH"}, task="partial_duplicate", originals=seen)
    carrier = known.carriers.get(seen[0].id)
    again = (carrier,) if (item.format == FHIR and carrier is not None
                           and can(carrier.message.state, MessageEvent.REPLAY)) else ()
    return Duplicate(seen, known.replays.get(seen[0].id), again)


def _correlate(message: MessageFacts, known: Known) -> list[Correlation]:
    receipt = message.letter
    if not isinstance(receipt, Receipt):
        return []
    key = (receipt.original_sender, receipt.original_recipient, receipt.original_control_ref)
    refs = {o.ref for o in receipt.original_letters}
    originals = [o for o in known.originals.get(key, ())
                 if not refs or o.message_ref in refs]
    kind = receipt.type.upper()
    event = MessageEvent.ACKNOWLEDGE if kind == "CTL03" else MessageEvent.NEGATIVE_RECEIPT
    refusal = str(receipt.refusal) if receipt.refusal else None
    out = []
    for original in originals:
        if can(original.state, event):
            out.append(Correlation(original, kind, refusal, receipt.text or "", event))
        else:
            out.append(Correlation(original, kind, refusal, receipt.text or "", None,
                                   ignored=f"message is {original.state}"))
    return out


def _first_refusal(item: IngestInput,
                   registry: Registry) -> tuple[Match, MessageFacts] | None:
    for message in item.messages:
        match = registry.match(RouteRequest(item.receiver or "", message.family, message.type,
                                            message.version, item.format))
        if match is not Match.FULL:
            return match, message
    return None


def _copies(item: IngestInput, registry: Registry) -> list[Copy]:
    """Municipal copies (copies.py has the rule, by the message's form: none for FHIR):
    letters whose copy receivers (NAD+CCR) are municipality endpoints that take the letter."""
    found: list[Copy] = []
    for index, message in enumerate(item.messages):
        if message.is_receipt or item.origin != "inbound":
            continue
        for gln in copy_receivers(item.format, message.letter):
            endpoint = registry.endpoint(gln)
            if endpoint is None or endpoint.kind != "municipality" or gln == item.receiver:
                continue
            request = RouteRequest(gln, message.family, message.type, message.version,
                                   item.format)
            if registry.match(request) is Match.FULL and Copy(index, gln) not in found:
                found.append(Copy(index, gln))
    return found


__all__ = ["COPY_MARK", "HEADER", "Accept", "Answer", "Copy", "Correlation", "Duplicate", "Known",
           "Redelivery", "Refuse", "Reject", "StoredMessage", "Verdict", "decide_ingest",
           "fhir_place", "refusal_text"]
