"""CareCommunication <-> DIS91 through the model, and HospitalNotification -> SLA clock input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from medcom_samples import sample_bytes
from structlog.testing import capture_logs

from gateway.edifact import parse
from gateway.edifact.letters import render_letter
from gateway.fhir import read, routing_facts
from gateway.fhir.carecommunication import LOCAL, from_letter, lost_in_fhir, to_letter
from gateway.fhir.hospitalnotification import discharge_report
from gateway.model import Address, Envelope, FreeText, Letter, LetterStatus, Party, Patient

from . import bundles as b

NOW = datetime(2024, 5, 1, 12, 3, tzinfo=UTC)


def test_care_communication_becomes_a_dis91_edifact_letter():
    message = read(b.to_bytes(b.care_communication(text="Linje 1\nLinje 2")))
    envelope, letter = to_letter(message, ref="FHIR0001", control_ref="K0001", now=NOW)
    assert (envelope.sender, envelope.recipient) == (b.MUNICIPALITY["gln"], b.GP["gln"])
    assert envelope.prepared_at == datetime(2024, 5, 1, 14, 3)  # Danish local time (CEST)
    assert (letter.type, letter.version, letter.ref) == ("DIS91", "D9134L", "FHIR0001")
    assert letter.authorised_at == datetime(2024, 5, 1, 12, 0)  # written at 12:00+02:00
    assert letter.patient.cpr == "0201919990" and letter.patient.surname == "Elmer"
    assert letter.texts == (FreeText("OE", "Forundersøgelse"), FreeText("NC", "Linje 1\nLinje 2"))
    edi = render_letter(envelope, letter)
    assert parse(edi).messages[0].letter == letter  # a valid DIS91 interchange


def test_a_corrected_letter_is_a_modified_message_and_back():
    doc = b.care_communication()
    b.resource(doc, "Provenance")["activity"]["coding"][0]["code"] = "modified-message"
    _, letter = to_letter(read(b.to_bytes(doc)), ref="R", control_ref="K", now=NOW)
    assert letter.status is LetterStatus.CORRECTED


def test_dis91_sample_becomes_a_care_communication(samples_dir, caplog):
    interchange = parse(sample_bytes("edifact_DIS91_1.edi"))
    envelope, letter = interchange.envelope, interchange.messages[0].letter
    sor = {envelope.sender: "111111111111111", envelope.recipient: "222222222222222"}
    message = read(from_letter(envelope, letter, now=NOW, sor_by_gln=sor))
    facts = routing_facts(message)
    assert (facts.type, facts.sender_gln, facts.receiver_gln) == (
        "FDIS91",
        envelope.sender,
        envelope.recipient,
    )
    assert facts.sender_sor == "111111111111111"
    assert message.focus.topic.text == "Forundersøgelse"
    assert message.focus.payload[0].contentString.startswith("Afdeling A har modtaget")
    assert message.cpr == letter.patient.cpr
    # What the DIS91 says and FHIR cannot: named, by field.
    lost = lost_in_fhir(envelope, letter, sor)
    assert "letter.sender.id" in lost and "letter.receiver.address" in lost
    assert "letter.patient.episode_status" in lost


def test_dropped_fields_are_logged_by_name_never_by_value():
    doc = b.care_communication(category="examination-results")
    with capture_logs() as logs:
        to_letter(read(b.to_bytes(doc)), ref="R", control_ref="K", now=NOW)
    [event] = [e for e in logs if e["event"] == "fhir_fields_dropped"]
    assert "Communication.category" in event["fields"]
    assert event["direction"] == "fhir_to_dis91"
    assert "0201919990" not in repr(event)


# --- Hypothesis: model <-> FHIR ---------------------------------------------------------------

WORD = st.from_regex(r"[A-Za-zÆØÅæøåé][A-Za-zÆØÅæøåé0-9.-]{0,11}", fullmatch=True)
NAME = st.lists(WORD, min_size=1, max_size=3).map(" ".join)
LINE = st.from_regex(r"[A-Za-zÆØÅæøå0-9][A-Za-zÆØÅæøå0-9 .,:;?!()\"'/-]{0,60}", fullmatch=True).map(
    str.rstrip
)
TEXT = (
    st.lists(st.one_of(LINE, st.just("")), min_size=1, max_size=6)
    .map("\n".join)
    .filter(lambda t: t.strip() and t == t.strip())
)
GLN = st.from_regex(r"579\d{10}", fullmatch=True)
SOR = st.from_regex(r"\d{15}", fullmatch=True)


def _exists_in_denmark(moment: datetime) -> bool:
    """A local time the clocks show (not inside the spring-forward gap)."""
    there_and_back = moment.replace(tzinfo=LOCAL).astimezone(UTC).astimezone(LOCAL)
    return there_and_back.replace(tzinfo=None) == moment


MINUTE = (
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2037, 12, 31))
    .map(lambda d: d.replace(second=0, microsecond=0))
    .filter(_exists_in_denmark)
)
ADDRESS = st.none() | st.builds(
    Address, street=NAME, city=NAME, postcode=st.from_regex(r"\d{4}", fullmatch=True)
)


@st.composite
def dis91_letters(draw):
    sender, receiver = draw(st.lists(GLN, min_size=2, max_size=2, unique=True))
    written = draw(MINUTE)
    ref = draw(st.from_regex(r"[A-Z0-9]{1,14}", fullmatch=True))
    envelope = Envelope(
        sender=sender,
        recipient=receiver,
        control_ref=draw(st.from_regex(r"[A-Z0-9]{1,14}", fullmatch=True)),
        prepared_at=draw(MINUTE),
    )
    letter = Letter(
        type="DIS91",
        version="D9134L",
        ref=ref,
        letter_id=ref,
        status=draw(st.sampled_from(LetterStatus)),
        authorised_at=written,
        sent_at=written,
        sender=Party("SSP", sender, "EAN", "9", (draw(NAME),)),
        receiver=Party("PO", receiver, "EAN", "9", (draw(NAME),)),
        patient=Patient(
            cpr=draw(st.from_regex(r"\d{10}", fullmatch=True)),
            surname=draw(WORD),
            given_names=draw(NAME),
            address=draw(ADDRESS),
        ),
        texts=(FreeText("OE", draw(LINE.filter(bool))), FreeText("NC", draw(TEXT))),
    )
    sors = {sender: draw(SOR), receiver: draw(SOR)}
    return envelope, letter, sors


@settings(max_examples=40, deadline=None)
@given(dis91_letters(), st.sampled_from(["application/fhir+json", "application/fhir+xml"]))
def test_model_to_fhir_and_back_is_the_same_letter(drawn, media):
    envelope, letter, sors = drawn
    assert lost_in_fhir(envelope, letter, sors) == []  # the strategy draws what FHIR carries
    data = from_letter(envelope, letter, now=NOW, sor_by_gln=sors, media_type=media)
    message = read(data)  # keeps MedCom's rules
    back_envelope, back = to_letter(
        message,
        ref=letter.ref,
        control_ref=envelope.control_ref,
        now=envelope.prepared_at.replace(tzinfo=LOCAL),
    )
    assert back == letter
    assert back_envelope == envelope


@settings(max_examples=20, deadline=None)
@given(dis91_letters())
def test_fhir_to_model_and_back_keeps_the_message_facts(drawn):
    envelope, letter, sors = drawn
    first = read(from_letter(envelope, letter, now=NOW, sor_by_gln=sors))
    env2, letter2 = to_letter(first, ref=letter.ref, control_ref="K", now=NOW)
    second = read(from_letter(env2, letter2, now=NOW, sor_by_gln=sors))
    keep = (
        "sender_gln",
        "receiver_gln",
        "sender_sor",
        "receiver_sor",
        "type",
        "version",
        "postfix",
    )
    f1, f2 = routing_facts(first), routing_facts(second)
    assert [getattr(f1, k) for k in keep] == [getattr(f2, k) for k in keep]
    assert first.cpr == second.cpr
    assert first.focus.topic.text == second.focus.topic.text
    assert first.focus.payload[0].contentString == second.focus.payload[0].contentString
    assert first.own_activity.code == second.own_activity.code
    assert first.own_activity.at == second.own_activity.at


# --- HospitalNotification -> SLA -------------------------------------------------------------

CEST = timezone(timedelta(hours=2))


@pytest.mark.parametrize(
    ("activity", "status", "end", "starts_clock"),
    [
        ("discharge-inpatient-home", "finished", "2024-05-03T14:30:00+02:00", True),
        ("discharge-emergency-home", "finished", "2024-05-03T14:30:00+02:00", True),
        ("revise-discharge-inpatient-home", "finished", "2024-05-03T14:30:00+02:00", True),
        ("admit-inpatient", "in-progress", None, False),
        ("start-leave-inpatient", "onleave", None, False),
        ("cancel-admit-inpatient", "entered-in-error", None, False),
    ],
)
def test_a_discharge_notification_starts_an_sla_clock(activity, status, end, starts_clock):
    doc = b.hospital_notification(activity=activity, status=status, end=end)
    report = discharge_report(read(b.to_bytes(doc)))
    if not starts_clock:
        assert report is None
        return
    assert report.discharged_at == datetime(2024, 5, 3, 14, 30, tzinfo=CEST)
    assert report.patient_cpr == "0201919990"
    assert report.discharge_id == "bd481c38-a921-11ed-afa1-0242ac120002"
    assert (report.hospital, report.department) == (b.HOSPITAL["sor"], b.HOSPITAL["sor"])
    assert report.source == "dis17" and report.message_id == b.HEADER_ID


def test_the_discharge_report_is_what_the_sla_hook_takes():
    import inspect

    from gateway.sla.hooks import discharge_reported

    # reported_at: when the report arrived (the plausibility reference), the caller's, not the
    # message's
    hook = set(inspect.signature(discharge_reported).parameters) - {
        "session", "config", "reported_at"}
    fields = set(discharge_report(read(b.to_bytes(b.hospital_notification()))).__dataclass_fields__)
    assert fields == hook


def test_a_care_communication_reports_no_discharge():
    assert discharge_report(read(b.to_bytes(b.care_communication()))) is None
