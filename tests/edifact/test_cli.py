"""``medbro parse`` / ``render`` / ``receipt`` through the real CLI group (plugins loaded)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from medcom_samples import sample_bytes

from gateway.cli import main
from gateway.edifact import tokenize

from .test_corpus import VALID

INTERCHANGE_KEYS = {
    "syntax",
    "sender",
    "sender_qualifier",
    "recipient",
    "recipient_qualifier",
    "prepared_at",
    "control_ref",
    "ack_requested",
}
MESSAGE_KEYS = {"ref", "family", "version", "type", "segments", "letter"}


def sample_file(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.write_bytes(sample_bytes(name))  # without the corpus' inserted # SOURCE line
    return path


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_parse_prints_the_contract_json(samples_dir: Path, tmp_path: Path) -> None:
    result = run("parse", str(sample_file(tmp_path, "edifact_REF01_1.edi")))
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    head = doc["interchange"]
    assert set(head) >= INTERCHANGE_KEYS
    assert head["syntax"] == "UNOC" and head["prepared_at"] == "2005-01-15T12:02"
    (msg,) = doc["messages"]
    assert set(msg) >= MESSAGE_KEYS
    assert (msg["family"], msg["type"]) == ("MEDREF", "REF01")
    assert msg["segments"][0][0] == "BGM"  # UNH excluded
    assert all(isinstance(s[0], str) for s in msg["segments"])
    assert all(isinstance(e, str | list) for s in msg["segments"] for e in s[1:])


def test_parse_dis01_includes_the_letter(samples_dir: Path, tmp_path: Path) -> None:
    result = run("parse", str(sample_file(tmp_path, "edifact_DIS01_1.edi")))
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["messages"][0]["letter"] is not None


def test_parse_invalid_exits_1_naming_the_place(samples_dir: Path, tmp_path: Path) -> None:
    result = run("parse", str(sample_file(tmp_path, "edifact_unittest_DIS20_ERROR_UNT0.edi")))
    assert result.exit_code == 1
    assert result.stderr.strip() == "UNT segment 26: count 25 does not match 26 segments"
    assert result.stdout == ""


def test_parse_reads_files_as_they_are(tmp_path: Path) -> None:
    path = tmp_path / "x.edi"
    path.write_bytes(b"# SOURCE: a comment line\nUNB+UNOC:3+1+2+250101:0000+R'UNZ+0+R'")
    result = run("parse", str(path))
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "segment 1: not an EDIFACT interchange: it starts with '# SOURCE'"
    )


@pytest.mark.parametrize("name", VALID)
def test_render_reproduces_every_valid_sample(samples_dir: Path, tmp_path: Path, name: str) -> None:
    parsed = run("parse", str(sample_file(tmp_path, name)))
    assert parsed.exit_code == 0, parsed.stderr
    doc_path = tmp_path / "doc.json"
    doc_path.write_text(parsed.stdout, encoding="utf-8")
    rendered = run("render", str(doc_path))
    assert rendered.exit_code == 0, rendered.stderr
    assert tokenize(rendered.stdout_bytes) == tokenize(sample_bytes(name))


def test_render_rejects_a_document_that_is_not_one(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"interchange": {}}')
    result = run("render", str(path))
    assert result.exit_code == 1 and "not a medbro parse document" in result.stderr


def test_render_names_an_unencodable_character(tmp_path: Path) -> None:
    doc = {
        "interchange": {
            "syntax": "UNOC",
            "sender": "1",
            "sender_qualifier": "14",
            "recipient": "2",
            "recipient_qualifier": "14",
            "prepared_at": "2025-03-01T09:30",
            "control_ref": "R",
            "ack_requested": False,
        },
        "messages": [
            {
                "ref": "M",
                "family": "MEDDIS",
                "version": "D0133L",
                "type": "DIS01",
                "segments": [["GIS", "N"], ["FTX", "AAB", "", "", ["pris", "5 €"]]],
                "letter": None,
            }
        ],
    }
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(doc))
    result = run("render", str(path))
    assert result.exit_code == 1
    assert "FTX segment 3, element 4 component 2" in result.stderr


def test_receipt_for_a_rejected_interchange(samples_dir: Path, tmp_path: Path) -> None:
    result = run("receipt", str(sample_file(tmp_path, "edifact_unittest_DIS20_ERROR_UNT0.edi")))
    assert result.exit_code == 0
    segments = tokenize(result.stdout_bytes)
    unh = next(s for s in segments if s.tag == "UNH")
    assert unh.elements[2] == "CTL02"


def test_empty_interchange_is_invalid_for_parse_and_receipt(tmp_path: Path) -> None:
    path = tmp_path / "empty.edi"
    path.write_bytes(b"UNB+UNOC:3+5790000000001:14+5790000000002:14+250101:0000+R1++++1'UNZ+0+R1'")
    parsed = run("parse", str(path))
    assert parsed.exit_code == 1 and parsed.stdout == ""
    assert parsed.stderr.startswith("UNZ segment 2: interchange R1 contains no messages")
    result = run("receipt", str(path))
    assert result.exit_code == 0
    segments = tokenize(result.stdout_bytes)
    assert next(s for s in segments if s.tag == "UNH").elements[2] == "CTL02"
    assert "ingen meddelelser" in result.stdout_bytes.decode("latin-1")


def test_receipt_positive_when_requested(samples_dir: Path, tmp_path: Path) -> None:
    result = run("receipt", str(sample_file(tmp_path, "edifact_REF06_1.edi")))
    assert result.exit_code == 0
    unh = next(s for s in tokenize(result.stdout_bytes) if s.tag == "UNH")
    assert unh.elements[2] == "CTL03"


def test_no_receipt_owed_is_said_on_stderr(samples_dir: Path, tmp_path: Path) -> None:
    result = run("receipt", str(sample_file(tmp_path, "edifact_REF01_1.edi")))
    assert result.exit_code == 0 and result.stdout_bytes == b""
    assert "no receipt is owed" in result.stderr
    result = run("receipt", str(sample_file(tmp_path, "edifact_CTL03_1.edi")))
    assert result.exit_code == 0 and "CONTRL" in result.stderr


@pytest.mark.parametrize(
    "name",
    ["multi_message.edi", "no_una.edi", "escapes.edi", "latin1.edi", "unoy.edi", "binary.edi"],
)
def test_json_document_round_trip_of_own_fixtures(name: str) -> None:
    """to_json -> JSON text -> from_json gives back the same interchange (binary as base64)."""
    from gateway.edifact import parse_envelope
    from gateway.edifact.interchange import from_json, to_json

    ic = parse_envelope((Path(__file__).parent / "fixtures_core" / name).read_bytes())
    again = from_json(json.loads(json.dumps(to_json(ic))))
    assert again == ic
