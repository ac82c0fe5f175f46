"""``decide_ingest`` from one table, like the tokenizer's: input, what the store knows, verdict.

No database, no broker: each row builds an ``IngestInput`` (read from real bytes where the
codec reads them) and a ``Known``, and names the verdict it must get.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from gateway import fhir
from gateway.demo import discharge_letter
from gateway.edifact import parse
from gateway.edifact.letters import render_letter
from gateway.edifact.receipts import Original, build_receipt
from gateway.fhir.acknowledgement import acknowledgement
from gateway.fhir.convert import edifact_refs, fhir_to_edifact, letter_of
from gateway.fhir.owed import Owed
from gateway.fhir.writer import dump
from gateway.model import RefusalCode
from gateway.oioxml.convert import convert
from gateway.pipeline.ingest_verdict import (
    Accept,
    Copy,
    Duplicate,
    Known,
    Redelivery,
    Refuse,
    Reject,
    StoredMessage,
    bundle_key,
    decide_ingest,
)
from gateway.pipeline.inputs import PayloadHint, read
from gateway.registry import Registry
from gateway.routing import Match, RouteRequest
from gateway.store.states import MessageEvent
from tests.medcom_fhir import bundles as fhir_bundles

HOSPITAL, GP, KOMMUNE, MEDBRO = "5790000120420", "5790000128686", "5790000118276", "5790000000000"
UNKNOWN, FORGED = "5790009999994", "5790000181872"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REGISTRY = Registry.from_dict({"endpoints": [
    {"gln": HOSPITAL, "name": "Hillerød", "kind": "hospital",
     "accepts": [{"type": "CTL01"}, {"type": "CTL02"}, {"type": "CTL03"}],
     "channel": {"kind": "edi_mailbox", "directory": "/tmp/h"}},
    {"gln": GP, "name": "Lægehuset", "kind": "gp",
     "accepts": [{"type": "DIS01", "versions": ["D0133L"]}, {"type": "CTL03"}],
     "channel": {"kind": "edi_mailbox", "directory": "/tmp/g"}},
    {"gln": KOMMUNE, "name": "Kommune", "kind": "municipality", "accepts": [{"type": "DIS01"}],
     "channel": {"kind": "edi_mailbox", "directory": "/tmp/k"}},
    {"gln": MEDBRO, "name": "medbro", "kind": "region", "accepts": [{"type": "DIS01"}],
     "channel": {"kind": "local"}},
]})


def letter(seq: int = 1, *, sender: str = HOSPITAL, receiver: str = GP) -> bytes:
    return discharge_letter(seq, sender=sender, receiver=receiver,
                            patient=("0101509991", "Ærøboe", "Søren"),
                            prepared_at=datetime(2026, 3, 2, 8, 0))


def with_copy_to(data: bytes, gln: str):
    """The input of ``data`` with a copy receiver (NAD+CCR) given by its EAN GLN."""
    given = item(data)
    party = SimpleNamespace(scheme="EAN", id=gln, refs=())
    head = replace(given.messages[0], letter=SimpleNamespace(copies=[party]))
    return replace(given, messages=(head,))


def ctl0x_for(data: bytes, kind: str) -> bytes:
    envelope, receipt = build_receipt(
        kind, Original.of(parse(data)), now=datetime(2026, 3, 2, 10, 0), control_ref="KR0000002",
        **({"refusal": RefusalCode.NC, "text": "kan ikke"} if kind == "CTL02" else {}))
    return render_letter(envelope, receipt)


def receipt_type(receipt: bytes | None) -> str:
    return parse(receipt).messages[0].letter.type if receipt else ""


def ctl03_for(data: bytes) -> bytes:
    return ctl0x_for(data, "CTL03")


def ctl02_for(data: bytes) -> bytes:
    return ctl0x_for(data, "CTL02")


def item(data: bytes, glns: frozenset[str] | None = None, **kw):
    return read(data, received_via="test", authenticated_glns=glns, **kw)


def key_of(data: bytes) -> tuple[str, str, str]:
    i = item(data)
    return (i.sender, i.control_ref, i.messages[0].ref)


def originals_of(data: bytes, state: str) -> dict:
    i = item(data)
    return {(i.sender, i.receiver, i.control_ref): (StoredMessage("orig", state,
                                                                  i.messages[0].ref, "DIS01"),)}


L1, L2 = letter(1), letter(2)
HINT = PayloadHint(sender_gln=HOSPITAL, receiver_gln=GP, format="oioxml", type="XDIS22",
                   version="XD2230L", message_key="m-1")

# (name, input, what the store knows, expected verdict type, a check on the verdict)
CASES = [
    ("routable letter", item(L1), Known(), Accept,
     lambda v: (v.route.receiver_gln, v.route.type, v.copies) == (GP, "DIS01", ())),
    ("authorised sender", item(L1, frozenset({HOSPITAL})), Known(), Accept, None),
    ("forged sender", item(letter(3, sender=FORGED), frozenset({HOSPITAL})), Known(), Reject,
     lambda v: (v.code, v.receipt, v.place["segment"]) == ("SENDER_NOT_AUTHORISED", None,
                                                           "UNB")),
    ("forged sender of an unreadable interchange",
     item(letter(3, sender=FORGED).replace(b"BGM+", b"XXX+"), frozenset({HOSPITAL})), Known(),
     Reject, lambda v: v.code == "SENDER_NOT_AUTHORISED"),
    ("forged sender of a hinted payload", item(b"<x/>", frozenset({GP}), hint=HINT), Known(),
     Reject, lambda v: v.code == "SENDER_NOT_AUTHORISED"),
    ("unreadable: CTL01 to the sender", item(L1.replace(b"BGM+", b"XXX+")), Known(), Reject,
     lambda v: receipt_type(v.receipt) == "CTL01" and v.code == "SEGMENT_UNEXPECTED"
     and v.place["segment_no"] == 2),
    ("unreadable to medbro itself: CTL02",
     item(letter(4, receiver=MEDBRO).replace(b"BGM+", b"XXX+")), Known(), Reject,
     lambda v: v.receipt is not None and b"CONTRL" in v.receipt),
    ("garbage: nobody to answer", item(b"\x00\xffnot edifact"), Known(), Reject,
     lambda v: v.receipt is None and v.code == "NOT_EDIFACT"),
    ("duplicate with its first receipt", item(L1),
     Known({key_of(L1): StoredMessage("m1", "delivered", "x")}, {"m1": b"RECEIPT"}), Duplicate,
     lambda v: (v.originals[0].id, v.receipt) == ("m1", b"RECEIPT")),
    ("duplicate of a hinted payload", item(b"<x/>", hint=HINT),
     Known({(HOSPITAL, "m-1", "m-1"): StoredMessage("m9", "routed", "m-1")}), Duplicate,
     lambda v: v.receipt is None),
    ("unknown receiver: CTL01 LOK", item(letter(5, receiver=UNKNOWN)), Known(), Refuse,
     lambda v: v.match is Match.UNKNOWN_RECEIVER and receipt_type(v.receipt) == "CTL01"
     and UNKNOWN in v.reason),
    ("version not taken: CTL01 VER", item(L1.replace(b"D0133L", b"D0134L")), Known(), Refuse,
     lambda v: v.match is Match.NOT_ACCEPTED and receipt_type(v.receipt) == "CTL01"),
    ("hinted type not taken: parked, no CTL01", item(b"<x/>", hint=HINT), Known(), Refuse,
     lambda v: v.receipt is None and "XDIS22" in v.reason),
    ("municipal copy", with_copy_to(letter(6), KOMMUNE), Known(), Accept,
     lambda v: v.copies == (Copy(0, KOMMUNE),)),
    ("copy to the main receiver is no copy", with_copy_to(letter(7), GP), Known(), Accept,
     lambda v: v.copies == ()),
    ("copy to a GP is no municipal copy", with_copy_to(letter(8), HOSPITAL), Known(), Accept,
     lambda v: v.copies == ()),
    ("CTL03 for a delivered letter", item(ctl03_for(L1)), Known(originals=originals_of(
        L1, "delivered")), Accept,
     lambda v: [(c.original.id, c.event) for c in v.correlations] == [
         ("orig", MessageEvent.ACKNOWLEDGE)] and v.route.receiver_gln == HOSPITAL),
    ("CTL03 after a CTL02: recorded, ignored", item(ctl03_for(L1)), Known(
        originals=originals_of(L1, "failed")), Accept,
     lambda v: v.correlations[0].event is None and "failed" in v.correlations[0].ignored),
    ("CTL02 for a delivered letter", item(ctl02_for(L1)), Known(originals=originals_of(
        L1, "delivered")), Accept,
     lambda v: v.correlations[0].event is MessageEvent.NEGATIVE_RECEIPT),
    ("CTL03 for nothing we know", item(ctl03_for(L2)), Known(), Accept,
     lambda v: v.correlations == ()),
]


@pytest.mark.parametrize(("name", "given", "known", "kind", "check"), CASES,
                         ids=[c[0] for c in CASES])
def test_decide_ingest(name, given, known, kind, check):
    verdict = decide_ingest(given, known, REGISTRY, now=NOW, medbro_gln=MEDBRO)
    assert isinstance(verdict, kind), verdict
    if check is not None:
        assert check(verdict), verdict


def test_partial_duplicate_is_rejected_with_a_task():
    two = item(L1)
    stored = StoredMessage("m1", "routed", two.messages[0].ref)
    doubled = replace(two, messages=two.messages + (replace(two.messages[0], ref="NEWREF"),))
    verdict = decide_ingest(doubled, Known({key_of(L1): stored}), REGISTRY, now=NOW,
                            medbro_gln=MEDBRO)
    assert isinstance(verdict, Reject)
    assert (verdict.code, verdict.task, verdict.originals) == (
        "PARTIAL_DUPLICATE", "partial_duplicate", (stored,))
    assert "NEWREF" in verdict.text


def test_an_edifact_duplicate_is_answered_not_redelivered():
    known = Known({key_of(L1): StoredMessage("m1", "acknowledged", "x")}, {"m1": b"CTL03"},
                  carriers={"m1": ACK_SENT})
    verdict = decide_ingest(item(L1), known, REGISTRY, now=NOW, medbro_gln=MEDBRO)
    assert isinstance(verdict, Duplicate) and verdict.redeliver == ()


def test_a_repeat_later_in_the_same_batch_is_a_duplicate_of_the_first():
    first = item(L1)
    known = Known().with_accepted(first, ["m1"], "routed")
    assert isinstance(decide_ingest(item(L1), known, REGISTRY, now=NOW, medbro_gln=MEDBRO),
                      Duplicate)


def test_decide_ingest_is_pure():
    """Same input, same store knowledge: the same verdict (receipt refs aside)."""
    one = decide_ingest(item(L1), Known(), REGISTRY, now=NOW, medbro_gln=MEDBRO)
    two = decide_ingest(item(L1), Known(), REGISTRY, now=NOW, medbro_gln=MEDBRO)
    assert one == two


# -- MedCom FHIR (gateway.fhir reads, the same decision routes, the Acknowledgement is owed) --

FHIR_REGISTRY = Registry.from_dict({"endpoints": [
    {"gln": fhir_bundles.GP["gln"], "name": "Lægehuset Vestergade", "kind": "gp",
     "accepts": [{"type": "FDIS91"}, {"type": "FCTL"}],
     "channel": {"kind": "edi_mailbox", "directory": "/tmp/g"}},
    {"gln": fhir_bundles.MUNICIPALITY["gln"], "name": "Aarhus Kommune", "kind": "municipality",
     "accepts": [{"type": "FDIS91"}, {"type": "FCTL"}],
     "channel": {"kind": "edi_mailbox", "directory": "/tmp/k"}},
]})
FHIR_SENDER, FHIR_RECEIVER = fhir_bundles.MUNICIPALITY["gln"], fhir_bundles.GP["gln"]
HEADER_ID = fhir_bundles.HEADER_ID  # 36 characters: a UUID, kept whole as the duplicate key
CARE = fhir_bundles.to_bytes(fhir_bundles.care_communication())
STRANGER = {**fhir_bundles.GP, "gln": UNKNOWN, "id": "0d6a1e0c-35a8-4bd6-9a44-5a0c5a3e1c11"}


def care(**change) -> bytes:
    return fhir_bundles.to_bytes(fhir_bundles.care_communication(**change))


def without_receiver_gln(doc: dict) -> None:
    org = [e["resource"] for e in doc["entry"]
           if e["resource"]["resourceType"] == "Organization"][1]
    org["identifier"] = [i for i in org["identifier"] if i["system"] != fhir_bundles.GLN]


def resent(data: bytes) -> bytes:
    """The same message sent again: a new Bundle.id, the same MessageHeader.id (MedCom MR7)."""
    return data.replace(b"add5e7e2-0c0f-4a4a-bfff-f6f984fa7e3c",
                        b"9f0c2b1e-7d0c-4a7e-8e7b-3b7f0f2d6a55")


def fhir_ack(code: str, data: bytes = CARE) -> bytes:
    """The GP's Acknowledgement of ``data`` (medbro's writer, answering as the receiver)."""
    original = fhir.message_of(fhir.read_bundle(data))
    owed = Owed(code) if code == "ok" else Owed(code, "processing", "kan ikke")
    return acknowledgement(original, owed, now=NOW)


def fhir_response(receipt: bytes | None) -> tuple[str, str, str]:
    """(response code, acknowledged MessageHeader.id, answering GLN) of an Acknowledgement
    (read leniently: medbro answering as a hop has a GLN but no SOR identifier)."""
    assert receipt is not None
    message, _problem = fhir.read_leniently(receipt)
    assert message is not None
    assert message.response is not None and message.sender is not None
    return message.response.code, message.response.identifier, message.sender.gln


def fhir_item(data: bytes, glns: frozenset[str] | None = None, **kw):
    return read(data, received_via="test", authenticated_glns=glns, **kw)


def answered(state: str) -> Known:
    return Known(answered={(FHIR_SENDER, HEADER_ID): (
        StoredMessage("orig", state, HEADER_ID, "FDIS91"),)})


ACK_SENT = Redelivery(StoredMessage("ack", "delivered", "ack-header-id", "FCTL"), "ack-inter",
                      RouteRequest(FHIR_SENDER, "FHIR", "FCTL", "", "fhir"))
FHIR_HINT = PayloadHint(sender_gln="5790000000017", receiver_gln="5790000000024",
                        format="fhir", type="FDIS91", version="", message_key="vans-id")

FHIR_CASES = [
    ("FHIR CareCommunication routed by its MessageHeader", fhir_item(CARE), Known(), Accept,
     lambda v: (v.route.receiver_gln, v.route.family, v.route.type, v.route.version,
                v.route.format) == (FHIR_RECEIVER, "FHIR", "FDIS91", "5.0", "fhir")),
    ("FHIR in a VANSEnvelope: the Bundle's facts, not the envelope's",
     fhir_item(CARE, hint=FHIR_HINT), Known(), Accept,
     lambda v: v.route.receiver_gln == FHIR_RECEIVER),
    ("FHIR forged sender", fhir_item(CARE, frozenset({FHIR_RECEIVER})), Known(), Reject,
     lambda v: (v.code, v.receipt, v.place) == (
         "SENDER_NOT_AUTHORISED", None, {"path": "Bundle.entry[0].resource.sender"})),
    ("FHIR breaking a rule: fatal-error naming the path",
     fhir_item(fhir_bundles.to_bytes(fhir_bundles.changed(fhir_bundles.care_communication(),
                                                          without_receiver_gln))),
     Known(), Reject,
     lambda v: v.code == "INVALID_FHIR"
     and v.place["path"] == "Bundle.entry[0].resource.destination[primary].receiver"
     and fhir_response(v.receipt) == ("fatal-error", HEADER_ID, MEDBRO)),
    ("FHIR that is no Bundle: nobody to answer",
     fhir_item(b'{"resourceType": "Patient", "id": "x"}'), Known(), Reject,
     lambda v: (v.code, v.receipt, v.place["path"]) == (
         "INVALID_FHIR", None, "Bundle.resourceType")),
    ("FHIR resent (same MessageHeader.id, new Bundle.id): the first Acknowledgement",
     fhir_item(resent(CARE)), Known({(FHIR_SENDER, HEADER_ID, HEADER_ID): StoredMessage(
         "m1", "delivered", HEADER_ID)}, {"m1": b"FIRST-ACK"}), Duplicate,
     lambda v: (v.originals[0].id, v.receipt) == ("m1", b"FIRST-ACK")),
    ("FHIR resent after the Acknowledgement was delivered: it is delivered again",
     fhir_item(resent(CARE)), Known({(FHIR_SENDER, HEADER_ID, HEADER_ID): StoredMessage(
         "m1", "acknowledged", HEADER_ID)}, {"m1": b"FIRST-ACK"}, carriers={"m1": ACK_SENT}),
     Duplicate, lambda v: (v.receipt, v.redeliver) == (b"FIRST-ACK", (ACK_SENT,))),
    ("FHIR resent while the Acknowledgement is still on its way: not twice",
     fhir_item(resent(CARE)), Known({(FHIR_SENDER, HEADER_ID, HEADER_ID): StoredMessage(
         "m1", "acknowledged", HEADER_ID)}, {"m1": b"FIRST-ACK"}, carriers={
             "m1": replace(ACK_SENT, message=replace(ACK_SENT.message, state="routed"))}),
     Duplicate, lambda v: v.redeliver == ()),
    ("FHIR unknown receiver: fatal-error from medbro",
     fhir_item(care(receiver=STRANGER)), Known(), Refuse,
     lambda v: v.match is Match.UNKNOWN_RECEIVER and UNKNOWN in v.reason
     and fhir_response(v.receipt) == ("fatal-error", HEADER_ID, MEDBRO)
     and b"not-found" in v.receipt),
    ("FHIR XML: answered in XML", fhir_item(dump(fhir.read_bundle(care(receiver=STRANGER)),
                                                 "application/fhir+xml")), Known(), Refuse,
     lambda v: v.receipt.startswith(b"<") and fhir_response(v.receipt)[0] == "fatal-error"),
    ("FHIR ok Acknowledgement for a delivered message", fhir_item(fhir_ack("ok")),
     answered("delivered"), Accept,
     lambda v: [(c.original.id, c.kind, c.event) for c in v.correlations] == [
         ("orig", "FCTL", MessageEvent.ACKNOWLEDGE)]
     and (v.route.receiver_gln, v.route.type) == (FHIR_SENDER, "FCTL")),
    ("FHIR fatal-error Acknowledgement: a negative receipt", fhir_item(fhir_ack("fatal-error")),
     answered("delivered"), Accept,
     lambda v: v.correlations[0].event is MessageEvent.NEGATIVE_RECEIPT
     and "kan ikke" in v.correlations[0].text),
    ("FHIR transient-error Acknowledgement: recorded, the resend due at once",
     fhir_item(fhir_ack("transient-error")), answered("delivered"), Accept,
     lambda v: v.correlations[0].event is None and "transient" in v.correlations[0].ignored
     and v.correlations[0].due_now),
    ("FHIR transient-error for a message being resent: recorded only",
     fhir_item(fhir_ack("transient-error")), answered("routed"), Accept,
     lambda v: v.correlations[0].event is None and not v.correlations[0].due_now),
    ("FHIR ok Acknowledgement after a fatal-error: ignored", fhir_item(fhir_ack("ok")),
     answered("failed"), Accept,
     lambda v: v.correlations[0].event is None and "failed" in v.correlations[0].ignored),
    ("FHIR Acknowledgement for a message another sender sent",
     fhir_item(fhir_ack("ok")), Known(answered={("5790000000017", HEADER_ID): (
         StoredMessage("other", "delivered", HEADER_ID, "FDIS91"),)}), Accept,
     lambda v: v.correlations == ()),
    ("FHIR Acknowledgement to an unknown receiver: never acknowledged",
     fhir_item(fhir_ack("ok", care(sender={**fhir_bundles.MUNICIPALITY, "gln": UNKNOWN}))),
     Known(), Refuse, lambda v: v.match is Match.UNKNOWN_RECEIVER and v.receipt is None),
]


@pytest.mark.parametrize(("name", "given", "known", "kind", "check"), FHIR_CASES,
                         ids=[c[0] for c in FHIR_CASES])
def test_decide_ingest_fhir(name, given, known, kind, check):
    verdict = decide_ingest(given, known, FHIR_REGISTRY, now=NOW, medbro_gln=MEDBRO)
    assert isinstance(verdict, kind), verdict
    if check is not None:
        assert check(verdict), verdict


def test_fhir_duplicate_key_is_the_whole_message_header_id():
    given = fhir_item(CARE)
    assert len(HEADER_ID) > 35
    assert given.keys == {(FHIR_SENDER, HEADER_ID, HEADER_ID)}
    assert given.messages[0].is_receipt is False
    assert fhir_item(fhir_ack("ok")).messages[0].is_receipt is True


# -- Conversion: a CareCommunication for an EDIFACT-only GP, and the CONTRL of its DIS91 twin --

EDIFACT_GP_REGISTRY = Registry.from_dict({"endpoints": [
    {"gln": FHIR_RECEIVER, "name": "Lægehuset Vestergade", "kind": "gp",
     "accepts": [{"type": "DIS91"}], "channel": {"kind": "edi_mailbox", "directory": "/tmp/g"}},
    {"gln": FHIR_SENDER, "name": "Aarhus Kommune", "kind": "municipality",
     "accepts": [{"type": "FCTL"}], "channel": {"kind": "edi_mailbox", "directory": "/tmp/k"}},
]})
TWIN = fhir_to_edifact(CARE)
TWIN_REF = edifact_refs(fhir.read(CARE))


def twin_sent(state: str) -> Known:
    """The CareCommunication stored, delivered to the GP as its DIS91 twin."""
    return Known(originals={(FHIR_SENDER, FHIR_RECEIVER, TWIN_REF): (
        StoredMessage("orig", state, TWIN_REF, "FDIS91"),)}, converted={"orig": CARE})


def answered_in_fhir(code: str) -> Callable[[Accept], bool]:
    def check(v: Accept) -> bool:
        (answer,) = v.in_place or ()
        return answer.original == "orig" and fhir_response(answer.acknowledgement) == (
            code, HEADER_ID, FHIR_RECEIVER)
    return check


CONVERSION_CASES = [
    ("CareCommunication to an EDIFACT-only GP: its twin's reference kept",
     fhir_item(CARE), Known(), Accept,
     lambda v: (v.route.type, v.converted_ref, v.in_place) == ("FDIS91", TWIN_REF, None)),
    ("CTL03 for the twin: an ok Acknowledgement to the FHIR sender", item(ctl03_for(TWIN)),
     twin_sent("delivered"), Accept,
     lambda v: answered_in_fhir("ok")(v)
     and [c.event for c in v.correlations] == [MessageEvent.ACKNOWLEDGE]),
    ("CTL02 for the twin: fatal-error", item(ctl02_for(TWIN)), twin_sent("delivered"), Accept,
     lambda v: answered_in_fhir("fatal-error")(v)
     and [c.event for c in v.correlations] == [MessageEvent.NEGATIVE_RECEIPT]),
    ("CTL03 overtaking the delivery's commit", item(ctl03_for(TWIN)), twin_sent("routed"),
     Accept, answered_in_fhir("ok")),
    ("a second CTL03: it ends with medbro, nothing more is written", item(ctl03_for(TWIN)),
     twin_sent("acknowledged"), Accept, lambda v: v.in_place == ()),
    ("CTL03 for an EDIFACT letter: forwarded as it is", item(ctl03_for(TWIN)),
     Known(originals=twin_sent("delivered").originals), Accept,
     lambda v: v.in_place is None and v.route.receiver_gln == FHIR_SENDER),
]


@pytest.mark.parametrize(("name", "given", "known", "kind", "check"), CONVERSION_CASES,
                         ids=[c[0] for c in CONVERSION_CASES])
def test_decide_ingest_conversion(name, given, known, kind, check):
    verdict = decide_ingest(given, known, EDIFACT_GP_REGISTRY, now=NOW, medbro_gln=MEDBRO)
    assert isinstance(verdict, kind), verdict
    assert check(verdict), verdict


# -- the reverse: a DIS91 its FHIR receiver got as a CareCommunication, and that receiver's
# Acknowledgement, which medbro turns into the CONTRL the EDIFACT sender is owed --------------

SORS = {FHIR_SENDER: fhir_bundles.MUNICIPALITY["sor"], FHIR_RECEIVER: fhir_bundles.GP["sor"]}
DIS91 = TWIN  # an EDIFACT DIS91 from FHIR_SENDER to FHIR_RECEIVER that asks for a receipt
DIS91_UNASKED = render_letter(*(lambda e, letter: (replace(e, ack_requested=False), letter))(
    *letter_of(fhir.read(CARE))))
CARE_TWIN = convert(DIS91, "fhir", sor_by_gln=SORS)
CARE_TWIN_ID = fhir.read(CARE_TWIN).header_id


def twin_ack(code: str, issue: str = "processing") -> bytes:
    """The FHIR receiver's Acknowledgement of the CareCommunication twin."""
    owed = Owed(code) if code == "ok" else Owed(code, issue, "kan ikke")
    return acknowledgement(fhir.read(CARE_TWIN), owed, now=NOW)


TWIN_OK = twin_ack("ok")


def dis91_sent(state: str, data: bytes = DIS91) -> Known:
    """The DIS91 stored, delivered to its receiver as a CareCommunication."""
    return Known(answered={(FHIR_SENDER, CARE_TWIN_ID): (
        StoredMessage("dis", state, TWIN_REF, "DIS91"),)}, converted={"dis": data})


def answered_in_edifact(kind: str, refusal: str | None = None) -> Callable[[Accept], bool]:
    def check(v: Accept) -> bool:
        (answer,) = v.in_place or ()
        interchange = parse(answer.acknowledgement)
        receipt = interchange.messages[0].letter
        return (answer.original == "dis" and receipt.type == kind
                and (interchange.envelope.sender, interchange.envelope.recipient)
                == (FHIR_RECEIVER, FHIR_SENDER)  # written as the receiver, to the sender
                and receipt.original_control_ref == TWIN_REF
                and (str(receipt.refusal) if receipt.refusal else None) == refusal)
    return check


REVERSE_CASES = [
    ("ok for the twin, the UNB asked for a receipt: a CTL03", fhir_item(twin_ack("ok")),
     dis91_sent("delivered"), Accept,
     lambda v: answered_in_edifact("CTL03")(v)
     and [c.event for c in v.correlations] == [MessageEvent.ACKNOWLEDGE]),
    ("ok for the twin, no receipt asked: acknowledged, nothing written",
     fhir_item(twin_ack("ok")), dis91_sent("delivered", DIS91_UNASKED), Accept,
     lambda v: v.in_place == () and v.correlations[0].event is MessageEvent.ACKNOWLEDGE),
    ("fatal-error for the twin: a CTL02 (NC) with the receiver's reason",
     fhir_item(twin_ack("fatal-error")), dis91_sent("delivered"), Accept,
     lambda v: answered_in_edifact("CTL02", "NC")(v)
     and b"kan ikke" in v.in_place[0].acknowledgement
     and v.correlations[0].event is MessageEvent.NEGATIVE_RECEIPT),
    ("fatal-error not-found for the twin: a CTL02 (LOK), also when no receipt was asked",
     fhir_item(twin_ack("fatal-error", "not-found")), dis91_sent("delivered", DIS91_UNASKED),
     Accept, answered_in_edifact("CTL02", "LOK")),
    ("transient-error for the twin: no CONTRL yet, the resend due at once",
     fhir_item(twin_ack("transient-error")), dis91_sent("delivered"), Accept,
     lambda v: v.in_place == () and v.correlations[0].due_now),
    ("ok overtaking the delivery's commit", fhir_item(twin_ack("ok")), dis91_sent("routed"),
     Accept, answered_in_edifact("CTL03")),
    ("a second ok for the twin: it ends with medbro, no second CONTRL",
     fhir_item(twin_ack("ok")), dis91_sent("acknowledged"), Accept,
     lambda v: v.in_place == () and v.correlations[0].event is None),
    ("the same Acknowledgement again: a duplicate, nothing written",
     fhir_item(TWIN_OK), replace(dis91_sent("acknowledged"), by_key={
         (FHIR_RECEIVER, fhir.read(TWIN_OK).header_id, fhir.read(TWIN_OK).header_id):
         StoredMessage("ack", "delivered")}),
     Duplicate, lambda v: v.receipt is None and v.redeliver == ()),
]


@pytest.mark.parametrize(("name", "given", "known", "kind", "check"), REVERSE_CASES,
                         ids=[c[0] for c in REVERSE_CASES])
def test_decide_ingest_acknowledgement_for_a_twin(name, given, known, kind, check):
    verdict = decide_ingest(given, known, EDIFACT_GP_REGISTRY, now=NOW, medbro_gln=MEDBRO)
    assert isinstance(verdict, kind), verdict
    assert check(verdict), verdict


# -- MedCom's reliable-messaging cache: Bundle.id and MessageHeader.id -----------------------

BUNDLE_ID = "add5e7e2-0c0f-4a4a-bfff-f6f984fa7e3c"  # the CareCommunication's Bundle.id
OTHER_HEADER = "c0ffee00-0000-4000-8000-000000000001"
SEEN = {(FHIR_SENDER, HEADER_ID, HEADER_ID): StoredMessage("m1", "delivered", HEADER_ID)}


def another_message_same_bundle() -> bytes:
    """A new message (new MessageHeader.id) sent under the CareCommunication's Bundle.id."""
    return CARE.replace(HEADER_ID.encode(), OTHER_HEADER.encode())


BUNDLE_CASES = [
    ("new Bundle.id, new MessageHeader.id: processed", fhir_item(CARE),
     Known(bundles={(FHIR_SENDER, "some-other-bundle"): "x"}), Accept, None),
    ("same Bundle.id and MessageHeader.id (a transport retry): the same Acknowledgement",
     fhir_item(CARE), Known(SEEN, {"m1": b"FIRST-ACK"},
                            bundles={(FHIR_SENDER, BUNDLE_ID): HEADER_ID}), Duplicate,
     lambda v: (v.originals[0].id, v.receipt) == ("m1", b"FIRST-ACK")),
    ("new Bundle.id, seen MessageHeader.id (a resend): the same Acknowledgement",
     fhir_item(resent(CARE)), Known(SEEN, {"m1": b"FIRST-ACK"},
                                    bundles={(FHIR_SENDER, BUNDLE_ID): HEADER_ID}), Duplicate,
     lambda v: v.receipt == b"FIRST-ACK"),
    ("seen Bundle.id, new MessageHeader.id: refused, fatal-error naming Bundle.id",
     fhir_item(another_message_same_bundle()),
     Known(SEEN, bundles={(FHIR_SENDER, BUNDLE_ID): HEADER_ID}), Reject,
     lambda v: (v.code, v.place["path"]) == ("BUNDLE_REUSED", "Bundle.id")
     and fhir_response(v.receipt) == ("fatal-error", OTHER_HEADER, MEDBRO)
     and BUNDLE_ID.encode() in v.receipt and b"business-rule" in v.receipt),
    ("seen Bundle.id with another MessageHeader.id that was seen too: still a reuse",
     fhir_item(another_message_same_bundle()),
     Known({(FHIR_SENDER, OTHER_HEADER, OTHER_HEADER): StoredMessage("m2", "delivered")},
           bundles={(FHIR_SENDER, BUNDLE_ID): HEADER_ID}), Reject,
     lambda v: v.code == "BUNDLE_REUSED"),
    ("the same Bundle.id from another sender: not a reuse (the cache is per sender)",
     fhir_item(CARE), Known(bundles={("5790000000017", BUNDLE_ID): OTHER_HEADER}), Accept,
     None),
    ("an Acknowledgement reusing a Bundle.id: refused, never answered",
     fhir_item(TWIN_OK), Known(bundles={(FHIR_RECEIVER, fhir.read(TWIN_OK).bundle_id):
                                        "another"}), Reject,
     lambda v: (v.code, v.receipt) == ("BUNDLE_REUSED", None)),
]


@pytest.mark.parametrize(("name", "given", "known", "kind", "check"), BUNDLE_CASES,
                         ids=[c[0] for c in BUNDLE_CASES])
def test_decide_ingest_bundle_ids(name, given, known, kind, check):
    verdict = decide_ingest(given, known, FHIR_REGISTRY, now=NOW, medbro_gln=MEDBRO)
    assert isinstance(verdict, kind), verdict
    if check is not None:
        assert check(verdict), verdict


def test_a_bundle_id_reused_within_one_batch_is_refused_too():
    """The writer decides a batch in order: the first message's Bundle.id is known to the next."""
    known = Known().with_accepted(fhir_item(CARE), ["m1"], "routed")
    assert known.bundles == {(FHIR_SENDER, BUNDLE_ID): HEADER_ID}
    verdict = decide_ingest(fhir_item(another_message_same_bundle()), known, FHIR_REGISTRY,
                            now=NOW, medbro_gln=MEDBRO)
    assert isinstance(verdict, Reject) and verdict.code == "BUNDLE_REUSED"


def test_bundle_ids_are_remembered_only_for_messages_from_outside():
    assert bundle_key(fhir_item(CARE)) == (FHIR_SENDER, BUNDLE_ID)
    assert bundle_key(fhir_item(CARE, origin="generated")) is None  # medbro's own
    assert bundle_key(item(L1)) is None  # EDIFACT


def test_a_care_communication_for_a_gp_that_takes_fhir_has_no_twin():
    verdict = decide_ingest(fhir_item(CARE), Known(), FHIR_REGISTRY, now=NOW, medbro_gln=MEDBRO)
    assert isinstance(verdict, Accept) and verdict.converted_ref is None


# -- a HospitalNotification discharge: the SLA clock it starts is read with it -----------------

def notification(**change) -> bytes:
    return fhir_bundles.to_bytes(fhir_bundles.hospital_notification(**change))


def with_period_end(end: str) -> bytes:
    def change(doc: dict) -> None:
        fhir_bundles.resource(doc, "Encounter")["period"]["end"] = end
    return fhir_bundles.to_bytes(fhir_bundles.changed(fhir_bundles.hospital_notification(), change))


HOSPITAL_ORG = fhir_bundles.HOSPITAL  # its SOR is both hospital and department
DISCHARGE_READS = [
    ("a discharge", notification(), "2024-05-03T12:30:00+00:00"),
    ("an emergency discharge", notification(activity="discharge-emergency-home"),
     "2024-05-03T12:30:00+00:00"),
    ("a revised discharge", notification(activity="revise-discharge-inpatient-home",
                                         end="2024-05-04T09:00:00+02:00"),
     "2024-05-04T07:00:00+00:00"),
    ("a discharge whose period ends on a date only: the Provenance's time",
     with_period_end("2024-05-03"), "2024-05-03T12:30:00+00:00"),
    ("an admission", notification(activity="admit-inpatient", status="in-progress", end=None),
     None),
    ("a leave", notification(activity="start-leave-inpatient", status="onleave", end=None), None),
    ("a CareCommunication", CARE, None),
]


@pytest.mark.parametrize(("name", "data", "discharged_at"), DISCHARGE_READS,
                         ids=[c[0] for c in DISCHARGE_READS])
def test_read_gives_the_discharge_a_hospital_notification_reports(name, data, discharged_at):
    (message,) = fhir_item(data).messages
    if discharged_at is None:
        assert message.discharge is None
        return
    report = message.discharge
    assert report is not None
    assert report.discharged_at == datetime.fromisoformat(discharged_at)
    assert (report.hospital, report.department, report.patient_cpr, report.discharge_id,
            report.message_id, report.source) == (
        HOSPITAL_ORG["sor"], HOSPITAL_ORG["sor"], "0201919990",
        "bd481c38-a921-11ed-afa1-0242ac120002", HEADER_ID, "dis17")


def test_an_edifact_letter_and_a_hinted_payload_carry_no_discharge():
    assert all(m.discharge is None for m in item(letter()).messages)
    assert all(m.discharge is None
               for m in read(b"<x/>", received_via="test", hint=replace(
                   FHIR_HINT, format="oioxml", type="XDIS22")).messages)
