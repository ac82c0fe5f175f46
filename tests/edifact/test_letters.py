"""The canonical mapping of MedCom letters, checked field by field on MedCom's samples."""

from __future__ import annotations

from datetime import datetime

import pytest
from medcom_samples import sample_bytes

from gateway.edifact import parse
from gateway.edifact.letters import from_model, letter_identifier, to_model
from gateway.edifact.segment_values import pack
from gateway.errors import LocalUsageError
from gateway.model import (
    Address,
    Diagnosis,
    FreeText,
    Letter,
    LetterStatus,
    Party,
    Patient,
    Referral,
    Relative,
)


def letter_of(name: str) -> Letter:
    return parse(sample_bytes(name)).messages[0].letter


def test_dis01_discharge_letter(samples_dir) -> None:
    letter = letter_of("edifact_DIS01_1.edi")
    assert (letter.type, letter.version, letter.family, letter.ref) == (
        "DIS01",
        "D0133L",
        "MEDDIS",
        "BrevNr00129",
    )
    assert letter.letter_id == "BrevNr00129"
    assert letter.status is LetterStatus.CORRECTED
    assert letter.authorised_at == datetime(1999, 1, 15, 10, 12)
    assert letter.sent_at == datetime(1999, 1, 15, 10, 12)
    assert letter.sender == Party(
        "SSP", "2001060", "SKS", "SST", ("HILLERØD SYGEHUS", "KIRURGISK AFD. A"), speciality="30"
    )
    assert letter.receiver == Party(
        "PO",
        "291714",
        "YNR",
        "SFU",
        ("Lægehuset",),
        address=Address("Vandværksvej 99", "Hillerød", "3400"),
    )
    assert [c.names for c in letter.copies] == [("_", "Læge", "Hans Andersen")]
    assert letter.patient == Patient(
        "0108584947",
        "Mosebryggersen",
        "Schwenlund",
        Address("Grusgraven 3, 3 tv", "Hillerød", "3400"),
        "HS",
    )
    assert letter.relatives == (Relative("FA", "Mosebryggersen", "Jacob"),)
    assert letter.referral == Referral(
        "BrevNr00101",
        LetterStatus.NEW,
        datetime(1998, 11, 13, 0, 0),
        (Diagnosis("DI", "DZ859", "Anamnese med ondartet svulst u spec"),),
    )
    assert (letter.admitted_at, letter.discharged_at) == (
        datetime(1998, 11, 13, 10, 0),
        datetime(1999, 1, 11, 13, 0),
    )
    assert [(d.kind, d.code, d.at) for d in letter.diagnoses] == [
        ("A", "DC249", None),
        ("DM", "DE232", None),
        ("DM", "DZ862", datetime(1998, 12, 12, 9, 0)),
        ("TR", "KJJB40", None),
    ]
    assert letter.main_diagnosis.text == "Neopl mal viarum billiarum uden specifikation"
    [text] = letter.texts
    assert (text.qualifier, text.format, text.continued) == ("NC", "P00", False)
    lines = text.text.split("\n")
    assert lines[0] == ""  # the leading "." component
    assert lines[2] == (  # two components joined by the trailing backslash, space kept
        "Vægttab på 10 kg/ 2mdr, træthed, hudkløe og icterus. UL-scanning har afgivet mistanke "
        "om malign galdevejssygdom. Komplikationsfrit operations- og efterforløb i afd."
    )
    assert lines[4] == (  # continued across two FTX segments
        "Anbefales 8 ugers fuld rekreation, evt. da halvtidsfunktion en kortere periode."
    )
    assert lines[-3:] == ["Mads Madsen/ep", "Reservelage", "14.01.1999"]
    # what the model does not carry is kept, with where it stood
    assert letter.extra == (("S11#1", "RFF+AHI:1"), ("layout", "S11.CIN=1"))


def test_dis20_admission_advis_with_seconds_and_organisation_roles(samples_dir) -> None:
    letter = letter_of("edifact_DIS20_1.edi")
    assert letter.authorised_at == datetime(2000, 1, 24, 21, 30, 0)
    assert letter.sender.role == "SOR" and letter.receiver.role == "ROR"
    assert letter.sender.phone == "66133066"
    assert letter.sender.refs == (("LOC", "5790000143054"),)
    assert letter.sender.speciality == ""
    assert letter.receiver == Party("ROR", "173", "KOM", "IM", ("Lyngby Taarbæk Kommune",))
    assert letter.patient == Patient("2505544849", episode_status="HS")
    assert letter.admitted_at == datetime(2000, 1, 24, 21, 15)
    assert [v for k, v in letter.extra if k == "S11#1"] == ["GIS+N", "GIS+P", "RFF+REI:24681012"]


def test_dis91_correspondence_subject_priority_and_extras(samples_dir) -> None:
    letter = letter_of("edifact_DIS91_1.edi")
    assert letter.priority == "NC"
    assert [t.qualifier for t in letter.texts] == ["OE", "NC"]
    assert letter.texts[0].text == "Forundersøgelse"
    assert "foretaget:" in letter.texts[1].text  # an escaped ?: inside a line
    assert letter.receiver.names == ("Lægehuset", "Læge", "Else Nielsen")
    second = letter_of("edifact_DIS91_2.edi")
    assert ("S02#1", "RFF+NO:NC") in second.extra and second.priority == ""


def test_dis90_format_change_in_mid_line(samples_dir) -> None:
    letter = letter_of("edifact_DIS91_3.edi")
    assert letter.type == "DIS90"
    formats = [(t.format, t.continued) for t in letter.texts]
    assert formats[1:4] == [("P00", True), ("PK0", True), ("P00", False)]
    assert letter.texts[1].text.endswith("Analyserne skal derfor ")
    assert letter.texts[3].text.startswith(" bestilles enkeltvis")


def test_dis14_contacts_and_receiver_first(samples_dir) -> None:
    letter = letter_of("edifact_DIS14_1.edi")
    assert letter.receiver.role == "ROR" and letter.sender.role == "SOR"
    assert [c.role for c in letter.contacts] == ["BV"] * 4
    assert letter.contacts[0].refs == (("AHL", "2"), ("BUH", "ma-fre 15.00-22.30"))
    assert letter.contacts[0].phone == "44601000/1234"
    segments = from_model(letter)
    assert [s.elements[0] for s in segments if s.tag == "NAD"][:2] == ["ROR", "SOR"]


@pytest.mark.parametrize(
    "name",
    [
        "edifact_REF02_1.edi",
        "edifact_RPT01_1.edi",
        "edifact_PRE01_1.edi",
        "edifact_BIN01_5.edi",
        "edifact_REQ01_1.edi",
    ],
)
def test_structure_only_families_have_no_canonical_letter(samples_dir, name: str) -> None:
    interchange = parse(sample_bytes(name))
    assert interchange.messages[0].letter is None
    assert to_model(interchange.messages[0]) is None


def test_ref01_hospital_referral_model_and_segments_back(samples_dir) -> None:
    """A REF01 reads to a Letter (the GP refers: NAD+PO sends, NAD+SSP receives) and its
    segments are written back exactly as MedCom's twin has them."""
    interchange = parse(sample_bytes("edifact_REF01_1.edi"))
    [message] = interchange.messages
    letter = message.letter
    assert (letter.sender.role, letter.receiver.role) == ("PO", "SSP")
    assert [c.role for c in letter.contacts] == ["BV", "PRH"]
    assert [d.kind for d in letter.diagnoses] == ["H", "DM"]
    assert [t.qualifier for t in letter.texts] == ["DI", "IN", "NC", "CF", "MT", "AL", "COT"]
    assert [pack(s) for s in from_model(letter)] == [pack(s) for s in message.segments]


def test_identifier_of_letters_and_receipts(samples_dir) -> None:
    letter = letter_of("edifact_DIS01_1.edi")
    assert letter_identifier(letter) == ["MEDDIS", "D", "93A", "UN", "D0133L"]
    receipt = letter_of("edifact_CTL02_1.edi")
    assert letter_identifier(receipt) == ["CONTRL", "D", "93A", "ZZ", "C0230Q"]


MINIMAL = Letter(
    type="DIS01",
    version="D0133L",
    ref="R1",
    letter_id="L1",
    authorised_at=datetime(2024, 5, 1, 12, 0),
    sent_at=datetime(2024, 5, 1, 12, 0),
    sender=Party("SSP", "1", "SKS", "SST"),
    receiver=Party("PO", "2", "YNR", "SFU"),
    patient=Patient("0101011234"),
)


def test_minimal_letter_renders_the_conventional_segments() -> None:
    texts = [f"{s.tag}+{s.elements}" for s in from_model(MINIMAL)]
    assert texts[0] == "BGM+['EPI', '', '9', 'NA']"
    assert "SPR+['ORG', '', ['DIS01', 'SKS', 'SST']]" in texts
    assert "GIS+['N']" in texts and "SEQ+['', '1']" in texts


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"type": "REF02", "version": "H0230R"}, "only MEDDIS"),
        ({"type": "REF01", "version": "H0130R"}, r"no RFF\+SRI"),
        ({"type": "XYZ01"}, "unknown letter type"),
        ({"sender": Party("SSP", names=tuple("abcdef"))}, "at most 5 name"),
        (
            {
                "referral": Referral(
                    "x", diagnoses=(Diagnosis("DI", "D1", at=datetime(2020, 1, 1)),)
                )
            },
            "carries no date",
        ),
        ({"texts": (FreeText("NC", "a\n."),)}, "exactly '.'"),
        (
            {
                "extra": (("layout", "S11.CIN=1"),),
                "diagnoses": (Diagnosis("A", "D", at=datetime(2020, 1, 1)),),
            },
            "carry no date",
        ),
    ],
)
def test_letters_that_cannot_be_written_are_refused(change, complaint) -> None:
    from dataclasses import replace

    with pytest.raises(LocalUsageError, match=complaint):
        from_model(replace(MINIMAL, **change))


def test_render_refuses_a_letter_medbro_would_itself_reject() -> None:
    from dataclasses import replace

    from gateway.edifact.letters import render_letter
    from gateway.model import Envelope

    envelope = Envelope("5790000000001", "5790000000002", "K1", datetime(2024, 5, 1, 12, 0))
    assert render_letter(envelope, MINIMAL).startswith(b"UNA:+.? '\nUNB+UNOC:3+")
    with pytest.raises(LocalUsageError, match="DIS01 R1 would be refused: .*mandatory segment DTM"):
        render_letter(envelope, replace(MINIMAL, authorised_at=None))
    with pytest.raises(LocalUsageError, match="would be refused: .*'XX' is not allowed"):
        render_letter(
            envelope, replace(MINIMAL, patient=Patient("0101011234", episode_status="XX"))
        )
    unchecked = render_letter(envelope, replace(MINIMAL, authorised_at=None), check=False)
    assert b"DTM+137" not in unchecked


def test_a_segment_in_another_form_is_kept_as_written_while_the_model_agrees(samples_dir) -> None:
    from dataclasses import replace

    data = sample_bytes("edifact_DIS01_1.edi").replace(
        b"NAD+PO+291714:YNR:SFU++L\xe6gehuset:::::US'",
        b"NAD+PO+291714:YNR:SFU++L\xe6gehuset:::::US+Vej 1'",
    )
    [message] = parse(data).messages
    letter = message.letter
    assert letter.receiver.names == ("Lægehuset",)
    assert ("~S01", "NAD+PO+291714:YNR:SFU++Lægehuset:::::US+Vej 1") in letter.extra
    body = [[s.tag, *s.elements] for s in from_model(letter)]
    assert body == [[s.tag, *s.elements] for s in message.segments]
    # a changed model wins over the kept form
    renamed = replace(letter, receiver=replace(letter.receiver, names=("Klinikken",)))
    nads = [s.elements for s in from_model(renamed) if s.tag == "NAD" and s.elements[0] == "PO"]
    assert nads == [["PO", ["291714", "YNR", "SFU"], "", ["Klinikken", "", "", "", "", "US"]]]
