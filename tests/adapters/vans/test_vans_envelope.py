"""VANSEnvelope 1.0.4 read/write: the MedCom sample, round trips, receipts, clear errors."""

from __future__ import annotations

import base64
import contextlib
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from adapters.vans import (
    EndPoint,
    EndPointType,
    ErrorCode,
    PayloadFormat,
    ReceiptKind,
    TransportType,
    VansEnvelopeError,
    is_vans_envelope,
    negative_receipt,
    parse,
    payload_info,
    positive_receipt,
    replay_receipt,
    resend,
    serialize,
    unwrap,
    wrap,
)
from adapters.vans.envelope import schema
from tests.conftest import sample_bytes

SAMPLE = "vansenvelope_1.0.4_XDIS22_message.xml"
NOW = datetime(2026, 11, 22, 12, 0, 0)
ENV_ID = "11111111-2222-4333-8444-555555555555"
MSG_ID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
HOSPITAL = EndPoint("5790000192345")
GP = EndPoint("5790000121526")


def test_sample_is_read_and_its_payload_extracted(samples_dir):
    data = sample_bytes(SAMPLE)
    envelope = parse(data)
    assert envelope.sender == EndPoint("5790001659592", EndPointType.EAN)
    assert envelope.receiver == EndPoint("5790000121526", EndPointType.EAN)
    assert envelope.envelope_id == "068dadff-12bb-406d-8c86-083974dc0180"
    assert envelope.sent_at == datetime(2020, 8, 26, 17, 12, 13)
    meta = envelope.message.meta
    assert meta.document.format is PayloadFormat.XML
    assert (meta.document.name, meta.document.version) == ("MCM:XDIS22", "XD2230L")
    assert meta.document.size_in_bytes == 6089 == len(envelope.message.data)
    assert meta.transport.type is TransportType.RELIABLE and meta.reliable
    assert meta.transport.service_tags == (("MCM:STATISTIC", "manual"),)
    # The payload is exactly the decoded Data (the research twin holds the same bytes).
    twin = (samples_dir / "oioxml_XDIS22_payload_decoded.xml").read_bytes()
    payload, info = unwrap(data)
    assert payload == envelope.message.data
    assert b"<StatisticalCode>XDIS22</StatisticalCode>" in payload
    if twin.startswith(b"<?xml") and b"SOURCE" in twin.split(b"\n")[1]:
        lines = twin.split(b"\n")
        twin = b"\n".join(lines[:1] + lines[2:])
    assert payload == twin
    assert (info.message_type, info.version, info.format) == ("XDIS22", "XD2230L", "oioxml")
    assert info.receiver_id == "5790000121526" and info.reliable


def test_sample_round_trips_through_our_writer(samples_dir):
    first = parse(sample_bytes(SAMPLE))
    assert parse(serialize(first)) == first


def test_size_mismatch_is_an_error_naming_the_element(samples_dir):
    data = sample_bytes(SAMPLE).replace(b"<SizeInBytes>6089<", b"<SizeInBytes>6088<")
    with pytest.raises(VansEnvelopeError) as err:
        parse(data)
    assert "SizeInBytes says 6088 but Data decodes to 6089 bytes" in str(err.value)
    assert err.value.where.endswith("Document/SizeInBytes")
    assert parse(data, check_size=False).message.meta.document.size_in_bytes == 6088


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d[:-40], "not well-formed XML"),
        (lambda d: d.replace(b"068dadff-12bb", b"068dadff-12zz", 1), "EnvelopeIdentifier"),
        (lambda d: d.replace(b'EndPointType="EAN"', b'EndPointType="GLN"', 1), "EndPointType"),
        (lambda d: d.replace(b"<Format>XML</Format>", b"<Format>PDF</Format>"), "Format"),
        (lambda d: d.replace(b"urn:oio:medcom:vans-envelope:1.0.4", b"urn:x"), "expected VANS"),
        (lambda d: d.replace(b"<Data>PD94", b"<Data>*D94"), "Data"),
    ],
)
def test_bad_envelopes_are_refused_with_a_reason(samples_dir, mutate, expected):
    with pytest.raises(VansEnvelopeError) as err:
        parse(mutate(sample_bytes(SAMPLE)))
    assert expected in str(err.value)
    assert err.value.receipt_hint == "SYN"


def test_sniffing_tells_envelopes_from_other_formats(samples_dir):
    assert is_vans_envelope(sample_bytes(SAMPLE))
    assert not is_vans_envelope(sample_bytes("edifact_DIS01_1.edi"))
    assert not is_vans_envelope(sample_bytes("oioxml_DIS01_1.xml"))
    assert not is_vans_envelope(b"<not xml")
    assert not is_vans_envelope(b"")


def _message(payload: bytes = b"UNA:+.? 'UNB+UNOC:3+x'", reliable: bool = True):
    return wrap(
        payload,
        sender=HOSPITAL,
        receiver=GP,
        message_type="DIS01",
        version="D0133L",
        envelope_id=ENV_ID,
        message_id=MSG_ID,
        now=NOW,
        reliable=reliable,
    )


def test_wrap_describes_the_payload_and_validates():
    env = _message()
    xml = serialize(env)
    assert schema().validate(etree.fromstring(xml))
    doc = env.message.meta.document
    assert (doc.format, doc.name, doc.version, doc.size_in_bytes) == (
        PayloadFormat.EDIFACT,
        "MCM:DIS01",
        "D0133L",
        len(b"UNA:+.? 'UNB+UNOC:3+x'"),
    )
    info = payload_info(parse(xml))
    assert (info.format, info.message_type, info.sender_id) == ("edifact", "DIS01", HOSPITAL.id)


def test_resend_keeps_the_message_id_and_changes_the_envelope():
    env = _message()
    later = datetime(2026, 11, 22, 12, 30)
    again = resend(env, envelope_id="99999999-2222-4333-8444-555555555555", now=later)
    assert again.message.meta.identifier == MSG_ID
    assert again.envelope_id != env.envelope_id and again.sent_at == later
    assert again.message.data == env.message.data
    with pytest.raises(ValueError, match="new EnvelopeIdentifier"):
        resend(env, envelope_id=ENV_ID, now=later)


def test_receipts_answer_to_the_sender_and_copy_the_meta():
    env = _message()
    pos = parse(serialize(positive_receipt(env, envelope_id=MSG_ID.replace("a", "c"), now=NOW)))
    assert pos.sender == GP and pos.receiver == HOSPITAL
    assert pos.receipt.kind is ReceiptKind.POSITIVE_MESSAGE and pos.receipt.positive
    assert pos.receipt.original_envelope_id == ENV_ID
    assert pos.receipt.original_message == env.message.meta
    neg = parse(
        serialize(
            negative_receipt(
                env,
                description="syntax error in UNH",
                code=ErrorCode.REJECTED,
                envelope_id=MSG_ID.replace("a", "d"),
                now=NOW,
            )
        )
    )
    assert neg.receipt.kind is ReceiptKind.NEGATIVE_MESSAGE and not neg.receipt.positive
    assert (neg.receipt.error.code, neg.receipt.error.description) == (1, "syntax error in UNH")
    # Never a receipt on a receipt.
    with pytest.raises(ValueError, match="never answered"):
        positive_receipt(pos, envelope_id=ENV_ID, now=NOW)
    # A replay has the same receipt content in a new envelope.
    again = replay_receipt(neg, envelope_id=MSG_ID.replace("a", "e"), now=NOW)
    assert again.receipt == neg.receipt and again.envelope_id != neg.envelope_id


def test_negative_vans_receipt_without_original_message_is_read():
    xml = f"""<?xml version="1.0"?>
<VANSEnvelope xmlns="urn:oio:medcom:vans-envelope:1.0.4">
  <SenderID EndPointType="VANS">DKKMDKMDNET</SenderID>
  <ReceiverID EndPointType="EAN">{HOSPITAL.id}</ReceiverID>
  <EnvelopeIdentifier>{MSG_ID}</EnvelopeIdentifier>
  <SentDateTime>2026-11-22T12:00:00+01:00</SentDateTime>
  <Receipt><NegativeVans><Error><Code>17</Code><Description>Ukendt modtager</Description>
  </Error><OriginalEnvelopeIdentifier>{ENV_ID}</OriginalEnvelopeIdentifier></NegativeVans>
  </Receipt></VANSEnvelope>""".encode()
    env = parse(xml)
    assert env.sender.type is EndPointType.VANS
    assert env.receipt.kind is ReceiptKind.NEGATIVE_VANS
    assert env.receipt.error.code == 17 and env.receipt.original_message is None
    assert parse(serialize(env)) == env
    with pytest.raises(VansEnvelopeError, match="no payload"):
        unwrap(xml)


@settings(max_examples=60, deadline=None)
@given(
    payload=st.binary(max_size=2000),
    reliable=st.booleans(),
    tags=st.lists(
        st.tuples(
            st.text("ABCMS:_", min_size=1, max_size=20),
            st.text("abcdefghij-/+", min_size=1, max_size=30),
        ),
        max_size=5,
    ),
)
def test_any_payload_round_trips(payload, reliable, tags):
    env = wrap(
        payload,
        sender=HOSPITAL,
        receiver=GP,
        message_type="BIN01",
        version="B0130L",
        envelope_id=ENV_ID,
        message_id=MSG_ID,
        now=NOW,
        reliable=reliable,
        service_tags=tuple(tags),
    )
    back = parse(serialize(env))
    assert back == env
    assert back.message.data == payload
    assert base64.b64decode(base64.b64encode(payload)) == payload


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_fuzzed_envelopes_are_read_or_refused_never_crash(data):
    """Any mutation of a valid envelope is either read or refused with VansEnvelopeError."""
    base = serialize(wrap(b"UNA:+.? 'UNB+UNOC:3+x'", sender=HOSPITAL, receiver=GP,
                          message_type="DIS01", version="D0133L", envelope_id=ENV_ID,
                          message_id=MSG_ID, now=NOW))
    mutated = bytearray(base)
    for _ in range(data.draw(st.integers(1, 8))):
        action = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        at = data.draw(st.integers(0, max(len(mutated) - 1, 0)))
        if action == "flip" and mutated:
            mutated[at] = data.draw(st.integers(0, 255))
        elif action == "cut":
            del mutated[at : at + data.draw(st.integers(1, 40))]
        else:
            mutated[at:at] = data.draw(st.sampled_from(
                [b"<", b"&", b"24:00:00", b"-", b"<Data>", b"\xff", b"]]>", b"0000"]))
    assert is_vans_envelope(bytes(mutated)) in (True, False)
    with contextlib.suppress(VansEnvelopeError):  # anything else fails the test
        parse(bytes(mutated))


def test_a_time_python_cannot_hold_is_refused_by_name():
    base = serialize(_message()).replace(b"2026-11-22T12:00:00", b"2026-11-22T24:00:00")
    with pytest.raises(VansEnvelopeError, match="SentDateTime"):
        parse(base)


def test_a_fhir_payload_travels_as_hl7_with_its_mime_service_tag():
    from medcom_fhir import bundles

    from gateway.fhir import read, routing_facts

    payload = bundles.to_bytes(bundles.care_communication())
    facts = routing_facts(read(payload))
    env = wrap(payload, sender=HOSPITAL, receiver=GP, message_type=facts.envelope_name[4:],
               version=facts.version, envelope_id=ENV_ID, message_id=MSG_ID, now=NOW)
    xml = serialize(env)
    assert schema().validate(etree.fromstring(xml))
    meta = parse(xml).message.meta
    assert (meta.document.format, meta.document.name) == (PayloadFormat.HL7, "MCM:FDIS91#other")
    assert ("MCM:MIME", "application/fhir+json") in meta.transport.service_tags
    info = payload_info(parse(xml))
    assert (info.format, info.message_type) == ("fhir", "FDIS91")
