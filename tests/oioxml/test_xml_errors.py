"""Bad OIOXML input: an OioxmlError (a RemoteMessageError) naming the element path."""

from __future__ import annotations

import pytest
from medcom_samples import sample_bytes

from gateway.errors import RemoteMessageError
from gateway.oioxml import OioxmlError, read

DIS01 = "oioxml_DIS01_1.xml"


def _edit(name: str, old: bytes, new: bytes) -> bytes:
    data = sample_bytes(name)
    assert data.count(old) == 1, old
    return data.replace(old, new)


CASES = [
    (
        b"<StatusCode>rettetbrev</StatusCode>",
        b"<StatusCode>gammelbrev</StatusCode>",
        "/Emessage/DischargeLetter/Letter/StatusCode",
        "gammelbrev",
    ),
    (
        b"<RelationCode>far</RelationCode>",
        b"<RelationCode>onkel</RelationCode>",
        "/Emessage/DischargeLetter/Relative/RelationCode",
        "onkel",
    ),
    (
        b"<Admission><Date>1998-11-13</Date>",
        b"<Admission><Date>13-11-1998</Date>",
        "/Emessage/DischargeLetter/Admission/Date",
        "13-11-1998",
    ),
    (
        b"<DiagnoseCode>DZ862</DiagnoseCode>",
        b"<DiagnoseCode>DZ862</DiagnoseCode><Foo/>",
        "/Emessage/DischargeLetter/Diagnose/Other[2]/Foo",
        "",
    ),
    (
        b"<EpisodeOfCareStatusCode>indlagt</EpisodeOfCareStatusCode>",
        b"<EpisodeOfCareStatusCode>hjemme</EpisodeOfCareStatusCode>",
        "/Emessage/DischargeLetter/Patient/EpisodeOfCareStatusCode",
        "hjemme",
    ),
]


REF01 = "oioxml_REF01_1.xml"
# XREF01: words of MedCom's enumerations medbro has no EDIFACT code for are refused by name.
REFERRAL_CASES = [
    (
        b"<Priority>elektiv</Priority>",
        b"<Priority>akut</Priority>",
        "/Emessage/HospitalReferral/AdditionalInformation/Priority",
        "akut",
    ),
    (
        b"<Transport>ingen</Transport>",
        b"<Transport>liggende</Transport>",
        "/Emessage/HospitalReferral/AdditionalInformation/Transport",
        "liggende",
    ),
    (
        b"<TelephoneSubscriberCode>mobil</TelephoneSubscriberCode>",
        b"<TelephoneSubscriberCode>arbejde</TelephoneSubscriberCode>",
        "/Emessage/HospitalReferral/Patient/TelephoneSubscriber[2]/TelephoneSubscriberCode",
        "arbejde",
    ),
    (
        b"<PersonName>Hans Jensen</PersonName>",
        b"<PersonName>Hans Jensen</PersonName><Foo/>",
        "/Emessage/HospitalReferral/Sender/Referrer/Foo",
        "",
    ),
]


@pytest.mark.parametrize("validate", [True, False], ids=["xsd", "reader"])
@pytest.mark.parametrize(("old", "new", "path", "word"), REFERRAL_CASES)
def test_bad_referral_element_is_named(samples_dir, validate, old, new, path, word):
    with pytest.raises(OioxmlError) as caught:
        read(_edit(REF01, old, new), validate=validate)
    assert caught.value.path == path
    assert word in str(caught.value)


@pytest.mark.parametrize("validate", [True, False], ids=["xsd", "reader"])
@pytest.mark.parametrize(("old", "new", "path", "word"), CASES)
def test_bad_element_is_named(samples_dir, validate, old, new, path, word):
    with pytest.raises(OioxmlError) as caught:
        read(_edit(DIS01, old, new), validate=validate)
    assert caught.value.path == path
    assert word in str(caught.value)
    assert isinstance(caught.value, RemoteMessageError)


def test_impossible_date_is_named(samples_dir):
    data = _edit(
        DIS01, b"<Date>1998-11-13</Date><Time>10:00", b"<Date>1998-02-30</Date><Time>10:00"
    )
    with pytest.raises(OioxmlError) as caught:
        read(data)
    assert caught.value.path == "/Emessage/DischargeLetter/Admission"


def test_unknown_formatting_in_text_is_named(samples_dir):
    data = _edit(DIS01, b"<Text01><Break/>", b"<Text01><Blink>x</Blink><Break/>")
    with pytest.raises(OioxmlError) as caught:
        read(data, validate=False)
    assert caught.value.path == "/Emessage/DischargeLetter/ClinicalInformation/Text01/Blink"


def test_letter_in_wrong_namespace(samples_dir):
    data = sample_bytes("oioxml_DIS91_1.xml").replace(b"2006/07/01", b"2005/08/07")
    with pytest.raises(OioxmlError) as caught:
        read(data, validate=False)
    assert caught.value.path == "/Emessage" and "2006/07/01" in caught.value.problem


@pytest.mark.parametrize(
    ("data", "path"),
    [
        (b"<Emessage", "/"),
        (b"<Other xmlns='x'/>", "/Other"),
        (b"<Emessage xmlns='urn:nope'/>", "/Emessage"),
    ],
)
def test_not_an_emessage(data, path):
    with pytest.raises(OioxmlError) as caught:
        read(data)
    assert caught.value.path == path


def test_entities_are_not_expanded():
    data = (
        b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<Emessage xmlns='http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2005/08/07/'>"
        b"&x;</Emessage>"
    )
    with pytest.raises(OioxmlError):
        read(data)
