"""``medbro parse``, ``receipt`` and ``convert`` with FHIR Bundles."""

from __future__ import annotations

import json

from click.testing import CliRunner
from medcom_samples import sample_bytes

from gateway.edifact import parse
from gateway.edifact.cli import parse_command, receipt_command
from gateway.fhir import read, routing_facts
from gateway.oioxml.cli import convert_command

from . import bundles as b


def _file(tmp_path, name, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_parse_prints_routing_facts_and_the_bundle(tmp_path):
    path = _file(tmp_path, "cc.json", b.to_bytes(b.care_communication()))
    result = CliRunner().invoke(parse_command, [path])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["format"] == "fhir" and doc["media_type"] == "application/fhir+json"
    assert doc["routing"]["type"] == "FDIS91" and doc["routing"]["message_key"] == b.HEADER_ID
    assert doc["bundle"]["resourceType"] == "Bundle"


def test_parse_names_a_broken_rule_and_exits_1(tmp_path):
    doc = b.changed(b.care_communication(), lambda d: d["entry"][0]["resource"].pop("focus"))
    result = CliRunner().invoke(parse_command, [_file(tmp_path, "cc.json", b.to_bytes(doc))])
    assert result.exit_code == 1
    assert "MessageHeader.focus: must be exactly one Communication" in result.stderr


def test_parse_still_reads_edifact(samples_dir, tmp_path):
    path = _file(tmp_path, "dis91.edi", sample_bytes("edifact_DIS91_1.edi"))
    result = CliRunner().invoke(parse_command, [path])
    assert result.exit_code == 0 and '"DIS91"' in result.stdout


def test_receipt_writes_the_acknowledgement_owed(tmp_path):
    path = _file(tmp_path, "hn.json", b.to_bytes(b.hospital_notification()))
    result = CliRunner().invoke(receipt_command, [path])
    assert result.exit_code == 0, result.output
    ack = read(result.stdout_bytes)
    assert routing_facts(ack).response_code == "ok" and ack.response.identifier == b.HEADER_ID


def test_receipt_for_an_invalid_message_is_a_fatal_error(tmp_path):
    doc = b.changed(b.care_communication(), lambda d: d["entry"].pop())  # no Provenance
    xml = _xml(doc)
    result = CliRunner().invoke(receipt_command, [_file(tmp_path, "cc.xml", xml)])
    assert result.exit_code == 0
    assert result.stdout_bytes.lstrip().startswith(b"<?xml")  # answered in the sender's form
    ack = read(result.stdout_bytes)
    assert ack.response.code == "fatal-error"
    assert "must hold at least one Provenance" in ack.response.issues[0].detail


def test_receipt_says_none_is_owed_for_an_acknowledgement(samples_dir, tmp_path):
    path = _file(tmp_path, "ack.json", sample_bytes("fhir_ack_AR_B_transient-error.json"))
    result = CliRunner().invoke(receipt_command, [path])
    assert result.exit_code == 0 and result.stdout == ""
    assert "no Acknowledgement is owed" in result.stderr and "never answered" in result.stderr


def test_convert_care_communication_to_edifact(tmp_path):
    path = _file(tmp_path, "cc.json", b.to_bytes(b.care_communication()))
    edi = CliRunner().invoke(convert_command, [path, "--to", "edifact"])
    assert edi.exit_code == 0, edi.output
    letter = parse(edi.stdout_bytes).messages[0].letter
    assert letter.type == "DIS91" and letter.patient.cpr == "0201919990"
    again = CliRunner().invoke(convert_command, [path, "--to", "edifact"])
    assert again.stdout_bytes == edi.stdout_bytes  # a pure function of the stored bytes
    # MedCom's ClinicalEmail requires the patient's episode status, which FHIR lacks.
    xml = CliRunner().invoke(convert_command, [path, "--to", "oioxml"])
    assert xml.exit_code == 1 and "letter.patient.episode_status" in xml.stderr


def test_convert_dis91_to_fhir_with_sor_codes(samples_dir, tmp_path):
    path = _file(tmp_path, "dis91.edi", sample_bytes("edifact_DIS91_1.edi"))
    args = [
        path,
        "--to",
        "fhir",
        "--sor",
        "5790000120400=111111111111111",
        "--sor",
        "5790000128700=222222222222222",
    ]
    result = CliRunner().invoke(convert_command, args)
    assert result.exit_code == 0, result.output
    facts = routing_facts(read(result.stdout_bytes))
    assert (facts.sender_sor, facts.receiver_sor) == ("111111111111111", "222222222222222")
    assert CliRunner().invoke(convert_command, args).stdout_bytes == result.stdout_bytes
    bad = CliRunner().invoke(convert_command, [path, "--to", "fhir", "--sor", "nope"])
    assert bad.exit_code == 2 and "GLN=SOR" in bad.output


def _xml(doc: dict) -> bytes:
    from gateway.fhir import read_bundle

    return read_bundle(b.to_bytes(doc)).model_dump_xml()
