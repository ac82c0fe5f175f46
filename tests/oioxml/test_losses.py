"""What OIOXML cannot say is named (and logged by field), never dropped silently."""

from __future__ import annotations

from dataclasses import replace

import pytest
from medcom_samples import sample_bytes
from structlog.testing import capture_logs

from gateway.model import FreeText, Party
from gateway.oioxml import OioxmlError, read, unrepresented, write


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


@pytest.fixture
def ref01(samples_dir):
    return read(sample_bytes("oioxml_REF01_1.xml"))


@pytest.mark.parametrize(
    ("change", "lost"),
    [
        (dict(letter_id="L1"), ["letter.letter_id"]),
        (dict(priority="NC"), ["letter.priority"]),
        (dict(contacts=()), None),  # no Referrer: refused by conformance, see below
        (
            dict(texts=(FreeText("AL", "a"), FreeText("NC", "b"), FreeText("NC", "c"))),
            ["letter.texts[2]", "letter.texts (order)"],
        ),
        (dict(texts=(FreeText("OE", "emne"),)), ["letter.texts[0]"]),
        (dict(texts=(FreeText("NC", "a", "P02"),)), ["letter.texts[0].format"]),
    ],
)
def test_referral_losses_are_named(ref01, change, lost):
    envelope, letter = ref01
    assert unrepresented(envelope, letter) == []
    if lost is None:
        with pytest.raises(OioxmlError) as err:
            write(envelope, replace(letter, **change))
        assert err.value.path == "letter.contacts"
        return
    assert unrepresented(envelope, replace(letter, **change)) == lost


def test_referral_extras_xml_cannot_say_are_named(ref01):
    """A fourth phone, a second PTY, a segment no XREF01 element stands for."""
    envelope, letter = ref01
    phones = (("S07#1", "CON+HO+1:TE"), ("S07#1", "CON+HO+2:TE"))  # the twin has two
    odd = (("S18#1", "PTY+PRI+WA"), ("S12#1", "RFF+XPI:1"))
    n = len(letter.extra) + 2
    changed = replace(letter, extra=(*letter.extra[:5], *phones, *letter.extra[5:], *odd))
    assert unrepresented(envelope, changed) == [f"letter.extra[{i}]" for i in (6, n, n + 1)]


def test_referral_party_roles_are_named(ref01):
    envelope, letter = ref01
    swapped = replace(
        letter,
        sender=replace(letter.sender, role="SSP"),
        receiver=replace(letter.receiver, role="PO"),
    )
    assert unrepresented(envelope, swapped) == [
        "letter.sender.role (NAD+PO)",
        "letter.receiver.role (NAD+SSP)",
    ]


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
