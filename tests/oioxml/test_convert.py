"""EDIFACT <-> OIOXML through the model, against MedCom's five twins, and the CLI."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from medcom_samples import sample_bytes

from gateway.edifact import parse
from gateway.errors import LocalUsageError
from gateway.oioxml import (
    Format,
    OioxmlError,
    convert,
    detect_format,
    from_edifact,
    read,
    to_edifact,
)
from gateway.oioxml.cli import convert_command

from .helpers import TWINS, canonical


def _model_of_edi(data: bytes):
    interchange = parse(data)
    [message] = interchange.messages
    return interchange.envelope, message.letter


@pytest.mark.parametrize("name", TWINS)
def test_edifact_converts_to_the_twin(samples_dir, name):
    xml = from_edifact(sample_bytes(f"edifact_{name}.edi"))
    assert canonical(xml) == canonical(sample_bytes(f"oioxml_{name}.xml"))


@pytest.mark.parametrize("name", TWINS)
def test_twin_reads_to_the_model_of_the_edifact(samples_dir, name):
    assert read(sample_bytes(f"oioxml_{name}.xml")) == _model_of_edi(
        sample_bytes(f"edifact_{name}.edi")
    )


@pytest.mark.parametrize("name", TWINS)
def test_twin_to_edifact_parses_back_to_the_same_model(samples_dir, name):
    xml = sample_bytes(f"oioxml_{name}.xml")
    assert _model_of_edi(to_edifact(xml)) == read(xml)


def test_to_edifact_new_envelope(samples_dir):
    edi = to_edifact(
        sample_bytes("oioxml_DIS01_1.xml"),
        control_ref="MEDBRO000042",
        now=datetime(2026, 11, 22, 18, 30, 59),
    )
    envelope, letter = _model_of_edi(edi)
    assert envelope.control_ref == "MEDBRO000042"
    assert b"+MEDBRO000042++++0'" in edi  # UNB element 9 as MedCom's converter writes it
    assert envelope.prepared_at == datetime(2026, 11, 22, 18, 30)
    assert letter == read(sample_bytes("oioxml_DIS01_1.xml"))[1]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"UNA:+.? 'UNB+UNOC:3+1:14+2:14+990115:1202+K'", Format.EDIFACT),
        (b"\r\nUNB+UNOC:3+1:14", Format.EDIFACT),
        (b"\xef\xbb\xbf<Emessage xmlns='x'/>", Format.OIOXML),
    ],
)
def test_detect_format(data, expected):
    assert detect_format(data) is expected


@pytest.mark.parametrize("data", [b"%PDF-1.4", b"<html/>", b""])
def test_detect_format_refuses_other_bytes(data):
    with pytest.raises(OioxmlError):
        detect_format(data)


def test_convert_refuses_same_format(samples_dir):
    with pytest.raises(LocalUsageError):
        convert(sample_bytes("oioxml_DIS01_1.xml"), "oioxml")


def test_interchange_with_two_letters_is_refused(samples_dir):
    edi = sample_bytes("edifact_DIS91_1.edi").decode("latin-1")
    start, end = edi.index("UNH+"), edi.index("UNZ+")
    second = edi[start:end].replace("BrevNr00129", "BrevNr00130")
    two = edi[:end] + second + "UNZ+2" + edi[end + 5 :]
    assert len(parse(two.encode("latin-1")).messages) == 2
    with pytest.raises(OioxmlError) as caught:
        from_edifact(two.encode("latin-1"))
    assert "has 2" in str(caught.value)


def test_cli_converts_both_ways(samples_dir, tmp_path: Path):
    edi = tmp_path / "in.edi"
    edi.write_bytes(sample_bytes("edifact_DIS91_1.edi"))
    runner = CliRunner()
    result = runner.invoke(convert_command, [str(edi), "--to", "oioxml"])
    assert result.exit_code == 0, result.output
    assert canonical(result.stdout_bytes) == canonical(sample_bytes("oioxml_DIS91_1.xml"))
    xml = tmp_path / "out.xml"
    xml.write_bytes(result.stdout_bytes)
    back = tmp_path / "back.edi"
    result = runner.invoke(convert_command, [str(xml), "--to", "edifact", "-o", str(back)])
    assert result.exit_code == 0, result.output
    assert _model_of_edi(back.read_bytes()) == _model_of_edi(edi.read_bytes())


def test_cli_names_the_problem(samples_dir, tmp_path: Path):
    bad = tmp_path / "bad.xml"
    bad.write_bytes(sample_bytes("oioxml_DIS01_1.xml").replace(b">far<", b">onkel<"))
    result = CliRunner().invoke(convert_command, [str(bad), "--to", "edifact"])
    assert result.exit_code == 1
    assert "/Emessage/DischargeLetter/Relative/RelationCode" in result.output


def test_medbro_entry_point(samples_dir, tmp_path: Path):
    edi = tmp_path / "ctl.edi"
    edi.write_bytes(sample_bytes("edifact_DIS01_1.edi"))
    medbro = Path(sys.executable).with_name("medbro")
    done = subprocess.run(
        [str(medbro), "convert", str(edi), "--to", "oioxml"], capture_output=True, check=True
    )
    assert canonical(done.stdout) == canonical(sample_bytes("oioxml_DIS01_1.xml"))
