"""What OIOXML cannot say is named (and logged by field), never dropped silently."""

from __future__ import annotations

from dataclasses import replace

import pytest
from medcom_samples import sample_bytes
from structlog.testing import capture_logs

from gateway.model import Party
from gateway.oioxml import read, unrepresented, write


@pytest.fixture
def dis01(samples_dir):
    return read(sample_bytes("oioxml_DIS01_1.xml"))


@pytest.mark.parametrize(
    ("change", "lost"),
    [
        (dict(letter_id="OTHER"), ["letter.letter_id"]),
        (dict(family="MEDREF"), ["letter.family"]),
        (dict(priority="NC"), ["letter.priority"]),
        (dict(contacts=(Party(role="BV"),)), ["letter.contacts[0]"]),
    ],
)
def test_letter_losses_are_named(dis01, change, lost):
    envelope, letter = dis01
    assert unrepresented(envelope, letter) == []
    assert unrepresented(envelope, replace(letter, **change)) == lost


def test_unknown_kept_segment_is_named(dis01):
    envelope, letter = dis01
    changed = replace(letter, extra=(*letter.extra, ("S07#1", "RFF+XPI:123")))
    assert unrepresented(envelope, changed) == [f"letter.extra[{len(letter.extra)}]"]


def test_sent_time_other_than_authorisation_is_named(dis01):
    envelope, letter = dis01
    later = replace(letter, sent_at=letter.authorised_at.replace(hour=23))
    assert unrepresented(envelope, later) == ["letter.sent_at"]


def test_receipt_losses_are_named(samples_dir):
    envelope, receipt = read(sample_bytes("oioxml_CTL02_1.xml"))
    [original] = receipt.original_letters
    odd = replace(original, action="7", message_identifier="MEDREF:D:96A:UN:H0130R")
    assert unrepresented(envelope, replace(receipt, original_letters=(odd,))) == [
        "receipt.original_letters[0].action",
        "receipt.original_letters[0].message_identifier",
    ]


def test_write_logs_what_it_drops_without_values(dis01):
    envelope, letter = dis01
    with capture_logs() as logs:
        write(envelope, replace(letter, letter_id="SECRET-0108584947"))
    [event] = [e for e in logs if e["event"] == "oioxml_fields_dropped"]
    assert event["fields"] == ["letter.letter_id"]
    assert "0108584947" not in repr(event)
