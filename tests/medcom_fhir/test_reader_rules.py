"""Reading MedCom FHIR message Bundles (JSON and XML) and MedCom's profile rules."""

from __future__ import annotations

import pytest
from medcom_samples import sample_bytes

from gateway.fhir import FhirError, read, read_bundle, read_leniently, routing_facts
from gateway.fhir.rules import RULES

from . import bundles as b

ACK_SAMPLES = {
    "fhir_ack_AA_A_ok.json": "ok",
    "fhir_ack_AR_B_transient-error.json": "transient-error",
    "fhir_ack_AE_C_fatal-error.json": "fatal-error",
}


def test_care_communication_reads_with_its_facts():
    message = read(b.to_bytes(b.care_communication(category="regarding-referral")))
    assert (message.type, message.header_id) == ("FDIS91", b.HEADER_ID)
    assert (message.sender.gln, message.sender.sor) == (
        b.MUNICIPALITY["gln"],
        b.MUNICIPALITY["sor"],
    )
    assert (message.receiver.gln, message.receiver.sor) == (b.GP["gln"], b.GP["sor"])
    assert message.cpr == "0201919990"
    assert message.focus.get_resource_type() == "Communication"
    assert message.own_activity.code == "new-message"
    assert (message.version, message.postfix) == ("5.0", "regarding-referral")


def test_hospital_notification_reads():
    message = read(b.to_bytes(b.hospital_notification()))
    assert message.type == "FDIS20"
    assert message.focus.get_resource_type() == "Encounter"
    assert message.postfix == "discharge-inpatient-home"
    assert message.receiver.gln == b.MUNICIPALITY["gln"]


def test_xml_and_json_read_the_same_facts():
    doc = b.care_communication()
    from_json = read(b.to_bytes(doc))
    xml = read_bundle(b.to_bytes(doc)).model_dump_xml()
    assert xml.lstrip().startswith(b"<?xml")
    from_xml = read(xml)
    assert routing_facts(from_xml) == routing_facts(from_json)
    assert from_xml.cpr == from_json.cpr


@pytest.mark.parametrize("name", sorted(ACK_SAMPLES))
def test_medcom_acknowledgement_samples(samples_dir, name):
    message = read(sample_bytes(name))
    facts = routing_facts(message)
    assert facts.type == "FCTL" and facts.is_acknowledgement
    assert facts.response_code == ACK_SAMPLES[name]
    assert facts.envelope_name == f"MCM:FCTL#{ACK_SAMPLES[name]}"
    assert facts.acknowledges and facts.acknowledges != facts.message_key
    assert (facts.sender_gln, facts.receiver_gln) == ("5790000209354", "5790001348120")
    if ACK_SAMPLES[name] != "ok":
        assert message.response.issues[0].detail == "message-development-error"


def test_routing_facts_of_a_care_communication():
    facts = routing_facts(read(b.to_bytes(b.care_communication())))
    assert facts.sender_gln == b.MUNICIPALITY["gln"] and facts.receiver_gln == b.GP["gln"]
    assert (facts.type, facts.family, facts.format) == ("FDIS91", "FHIR", "fhir")
    assert facts.duplicate_key == facts.message_key == b.HEADER_ID
    assert facts.bundle_id == "add5e7e2-0c0f-4a4a-bfff-f6f984fa7e3c"
    assert not facts.is_acknowledgement and facts.acknowledges == "" and facts.response_code == ""
    assert facts.envelope_name == "MCM:FDIS91#other"


def _ack_without_outcome(doc):
    doc["entry"][0]["resource"]["response"] = {"identifier": "x", "code": "fatal-error"}


def _cc_header(doc):
    return doc["entry"][0]["resource"]


# (case, change to a valid CareCommunication, the path the error names)
BROKEN = [
    ("not a message", lambda d: d.update(type="collection"), "Bundle.type"),
    ("no timestamp", lambda d: d.pop("timestamp"), "Bundle.timestamp"),
    ("header not first", lambda d: d["entry"].reverse(), "Bundle.entry[0].resource"),
    (
        "unknown event",
        lambda d: _cc_header(d)["eventCoding"].update(code="empty-message"),
        "MessageHeader.eventCoding.code",
    ),
    (
        "foreign event system",
        lambda d: _cc_header(d)["eventCoding"].update(system="urn:x"),
        "MessageHeader.eventCoding.system",
    ),
    (
        "sender not in bundle",
        lambda d: _cc_header(d)["sender"].update(reference="Organization/zz"),
        "MessageHeader.sender",
    ),
    (
        "sender without GLN",
        lambda d: b.resource(d, "Organization")["identifier"].pop(),
        "MessageHeader.sender",
    ),
    (
        "no primary destination",
        lambda d: _cc_header(d)["destination"][0]["extension"][0]["valueCoding"].update(code="cc"),
        "MessageHeader.destination",
    ),
    ("no focus", lambda d: _cc_header(d).pop("focus"), "MessageHeader.focus"),
    (
        "focus elsewhere",
        lambda d: _cc_header(d)["focus"][0].update(reference="Communication/zz"),
        "MessageHeader.focus",
    ),
    ("two patients", lambda d: d["entry"].append({"resource": b.patient()}), "Bundle.entry"),
    (
        "patient without CPR",
        lambda d: b.resource(d, "Patient").pop("identifier"),
        "Patient.identifier",
    ),
    (
        "CPR of 9 digits",
        lambda d: b.resource(d, "Patient")["identifier"][0].update(value="123456789"),
        "Patient.identifier",
    ),
    ("no provenance", lambda d: d["entry"].pop(), "Bundle.entry"),
    (
        "provenance of another message",
        lambda d: b.resource(d, "Provenance")["target"][0].update(reference="MessageHeader/zz"),
        "Provenance.target",
    ),
    (
        "response on a letter",
        lambda d: _cc_header(d).update(response={"identifier": "x", "code": "ok"}),
        "MessageHeader.response",
    ),
]


@pytest.mark.parametrize(("case", "change", "path"), BROKEN, ids=[c[0] for c in BROKEN])
def test_a_broken_rule_is_named_with_its_path(case, change, path):
    data = b.to_bytes(b.changed(b.care_communication(), change))
    with pytest.raises(FhirError) as err:
        read(data)
    assert err.value.path == path, str(err.value)


def test_hospital_notification_needs_the_official_cpr():
    doc = b.hospital_notification(cpr="0703921VJ4")
    b.resource(doc, "Patient")["identifier"][0]["system"] = "urn:oid:1.2.208.176.1.6.1.1"
    with pytest.raises(FhirError, match="must be a CPR number"):
        read(b.to_bytes(doc))
    # A CareCommunication may carry a replacement CPR (MedComCorePatient x-ecpr).
    cc = b.care_communication(cpr="0703921VJ4")
    b.resource(cc, "Patient")["identifier"][0]["system"] = "urn:oid:1.2.208.176.1.6.1.1"
    assert read(b.to_bytes(cc)).cpr == "0703921VJ4"


def test_acknowledgement_rules(samples_dir):
    doc = __import__("json").loads(sample_bytes("fhir_ack_AE_C_fatal-error.json"))
    _ack_without_outcome(doc)
    with pytest.raises(FhirError) as err:
        read(b.to_bytes(doc))
    assert err.value.path == "MessageHeader.response.details"
    doc["entry"][0]["resource"]["response"]["code"] = "maybe"
    with pytest.raises(FhirError, match="is not ok | transient-error | fatal-error"):
        read(b.to_bytes(doc))


def test_lenient_reading_keeps_the_facts_to_answer_with():
    data = b.to_bytes(b.changed(b.care_communication(), lambda d: d["entry"].pop()))
    message, problem = read_leniently(data)
    assert problem is not None and problem.path == "Bundle.entry"
    assert message.header_id == b.HEADER_ID and message.sender.gln == b.MUNICIPALITY["gln"]
    assert read_leniently(b"{not json")[0] is None


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "neither FHIR JSON"),
        (b"[1, 2]", "neither FHIR JSON"),
        (b'{"resourceType": "Bundle"', "not JSON"),
        (b'{"resourceType": "Patient"}', "expected Bundle"),
        (b'{"resourceType": "Bundle", "type": "message", "timestamp": "soon"}', "timestamp"),
        (b"<Bundle xmlns='urn:x'/>", "expected <Bundle"),
        (b"<Bundle xmlns='http://hl7.org/fhir'>", "not well-formed"),
    ],
)
def test_unreadable_bytes_say_why(data, problem):
    with pytest.raises(FhirError) as err:
        read_bundle(data)
    assert problem in str(err.value)


def test_xml_entities_and_dtds_are_refused():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE Bundle [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<Bundle xmlns="http://hl7.org/fhir"><id value="&b;"/></Bundle>'
    )
    with pytest.raises(FhirError, match="DOCTYPE is not allowed"):
        read_bundle(bomb)
    external = (
        b'<?xml version="1.0"?><!DOCTYPE Bundle SYSTEM "file:///etc/passwd">'
        b'<Bundle xmlns="http://hl7.org/fhir"><id value="x"/></Bundle>'
    )
    with pytest.raises(FhirError, match="DOCTYPE is not allowed"):
        read_bundle(external)


def test_the_rule_table_names_each_rule_once():
    names = [name for name, _ in RULES]
    assert len(names) == len(set(names))
