"""The JSON form of the canonical model: exact both ways, times as YYYY-MM-DDTHH:MM."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from hypothesis import given, settings
from medcom_samples import sample_bytes

from gateway.edifact import parse
from gateway.errors import LocalUsageError
from gateway.model import Diagnosis, Receipt, RefusalCode
from gateway.model_json import dump, format_datetime, load, load_letter, load_receipt

from .fixtures_semantics.strategies import letters, receipts


def test_dis01_json_shape(samples_dir) -> None:
    letter = parse(sample_bytes("edifact_DIS01_1.edi")).messages[0].letter
    doc = json.loads(json.dumps(dump(letter)))
    assert doc["kind"] == "letter"
    assert doc["status"] == "M"
    assert doc["authorised_at"] == "1999-01-15T10:12"
    assert doc["patient"]["cpr"] == "0108584947"
    assert doc["sender"]["names"] == ["HILLERØD SYGEHUS", "KIRURGISK AFD. A"]
    assert doc["diagnoses"][2]["at"] == "1998-12-12T09:00"
    assert doc["extra"][0] == ["S11#1", "RFF+AHI:1"]
    assert load_letter(doc) == letter


def test_receipt_json_carries_accepted_and_refusal(samples_dir) -> None:
    receipt = parse(sample_bytes("edifact_CTL02_1.edi")).messages[0].letter
    doc = dump(receipt)
    assert (doc["kind"], doc["accepted"], doc["refusal"]) == ("receipt", False, "VER")
    assert doc["original_letters"][0] == {
        "ref": "1111MAN01095",
        "message_identifier": "MEDREF:D:93A:UN:H0130R",
        "action": "4",
    }
    assert load_receipt(doc) == receipt and load(doc) == receipt


def test_times_are_minutes_and_seconds_go_beside_them() -> None:
    assert format_datetime(datetime(2000, 1, 24, 21, 30, 5)) == "2000-01-24T21:30"
    plain = dump(Diagnosis("A", "D1", at=datetime(2000, 1, 24, 21, 30)))
    assert plain["at"] == "2000-01-24T21:30" and "at_seconds" not in plain
    with_seconds = dump(Diagnosis("A", "D1", at=datetime(2000, 1, 24, 21, 30, 5)))
    assert (with_seconds["at"], with_seconds["at_seconds"]) == ("2000-01-24T21:30", 5)


def test_dis14_keeps_its_204_seconds(samples_dir) -> None:
    letter = parse(sample_bytes("edifact_DIS14_1.edi")).messages[0].letter
    doc = dump(letter)
    assert (doc["authorised_at"], doc["authorised_at_seconds"]) == ("2001-04-24T15:30", 20)
    assert load_letter(json.loads(json.dumps(doc))) == letter


@pytest.mark.parametrize(
    ("doc", "complaint"),
    [
        ({"kind": "memo"}, "kind"),
        (
            {
                "kind": "receipt",
                "type": "CTL03",
                "version": "C0330Q",
                "ref": "R",
                "original_control_ref": "C",
                "original_sender": "1",
                "original_recipient": "2",
                "refusal": "XYZ",
            },
            r"receipt.refusal: 'XYZ' is not a RefusalCode",
        ),
        (
            {"kind": "letter", "type": "DIS01", "version": "V", "ref": "R", "colour": "red"},
            "unknown field 'colour'",
        ),
        (
            {"kind": "letter", "type": "DIS01", "version": "V", "ref": "R", "sent_at": "yesterday"},
            "letter.sent_at",
        ),
        (
            {
                "kind": "letter",
                "type": "DIS01",
                "version": "V",
                "ref": "R",
                "diagnoses": [{"kind": "A"}],
            },
            r"letter.diagnoses\[0\]",
        ),
        ({"kind": "letter", "type": 1, "version": "V", "ref": "R"}, "letter.type: expected str"),
        ({"kind": "letter", "version": "V", "ref": "R"}, "type"),
        (
            {
                "kind": "letter",
                "type": "DIS01",
                "version": "V",
                "ref": "R",
                "sent_at": "2020-01-01T10:00",
                "sent_at_seconds": 61,
            },
            "seconds 0-59",
        ),
        (
            {"kind": "letter", "type": "DIS01", "version": "V", "ref": "R", "sent_at_seconds": 5},
            "is not a time",
        ),
    ],
)
def test_bad_documents_name_the_field(doc, complaint) -> None:
    with pytest.raises(LocalUsageError, match=complaint):
        load(doc)


@settings(max_examples=100, deadline=None)
@given(letter=letters())
def test_letters_survive_json(letter) -> None:
    assert load_letter(json.loads(json.dumps(dump(letter)))) == letter


@settings(max_examples=100, deadline=None)
@given(receipt=receipts())
def test_receipts_survive_json(receipt: Receipt) -> None:
    doc = json.loads(json.dumps(dump(receipt)))
    assert load_receipt(doc) == receipt
    assert doc["accepted"] == (receipt.refusal is None) == (doc["refusal"] is None)
    assert receipt.refusal is None or RefusalCode(doc["refusal"]) is receipt.refusal
