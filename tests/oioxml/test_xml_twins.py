"""The OIOXML side against MedCom's five twins: read -> model -> write gives the twin back."""

from __future__ import annotations

from datetime import datetime

import pytest
from medcom_samples import sample_bytes

from gateway.model import LetterStatus, Receipt, RefusalCode
from gateway.oioxml import read, validate, write

from .helpers import TWINS, canonical


@pytest.mark.parametrize("name", TWINS)
def test_twin_reads_and_writes_back_equal(samples_dir, name):
    data = sample_bytes(f"oioxml_{name}.xml")
    envelope, message = read(data)
    out = write(envelope, message)
    assert canonical(out) == canonical(data)
    validate(out)
    assert read(out) == (envelope, message)


@pytest.mark.parametrize("name", TWINS)
def test_written_xml_is_windows_1252(samples_dir, name):
    out = write(*read(sample_bytes(f"oioxml_{name}.xml")))
    assert out.startswith(b"<?xml version='1.0' encoding='windows-1252'?>")
    out.decode("cp1252")  # no bytes outside the declared encoding


def test_discharge_letter_model(samples_dir):
    envelope, letter = read(sample_bytes("oioxml_DIS01_1.xml"))
    assert (envelope.sender, envelope.recipient) == ("5790000120420", "5790000128686")
    assert envelope.prepared_at == datetime(1999, 1, 15, 12, 2)
    assert envelope.control_ref == "KuvertNr012234" and not envelope.ack_requested
    assert (letter.type, letter.version, letter.ref) == ("DIS01", "D0133L", "BrevNr00129")
    assert letter.status is LetterStatus.CORRECTED
    assert letter.sent_at == letter.authorised_at == datetime(1999, 1, 15, 10, 12)
    assert (letter.sender.scheme, letter.sender.agency, letter.sender.speciality) == (
        "SKS",
        "SST",
        "30",
    )
    assert letter.receiver.names == ("Lægehuset",)
    assert letter.copies[0].names == ("_", "Læge", "Hans Andersen")
    assert letter.patient.episode_status == "HS"
    assert letter.relatives[0].relation == "FA"
    assert [(d.kind, d.code) for d in letter.diagnoses] == [
        ("A", "DC249"),
        ("DM", "DE232"),
        ("DM", "DZ862"),
        ("TR", "KJJB40"),
    ]
    assert letter.diagnoses[2].at == datetime(1998, 12, 12, 9, 0)
    assert letter.referral.diagnoses[0].kind == "DI"
    [text] = letter.texts
    lines = text.text.split("\n")
    assert lines[0] == "" and lines[-1] == "14.01.1999" and lines[-4] == ""
    assert "har afgivet mistanke" in lines[2]  # FTX continuation joined


def test_hospital_referral_model(samples_dir):
    """XREF01 reads to what the EDIFACT codec makes of its REF01 twin: the GP (NAD+PO) with its
    Referrer (NAD+BV) refers to the department (NAD+SSP); texts by FTX qualifier; the rest of
    what it says in the extras MedCom's converter writes."""
    envelope, letter = read(sample_bytes("oioxml_REF01_1.xml"))
    assert (letter.type, letter.version, letter.family) == ("REF01", "H0130R", "MEDREF")
    assert letter.authorised_at == datetime(2005, 1, 14, 10, 10) and letter.sent_at is None
    sender = letter.sender
    assert (sender.role, sender.id, sender.speciality) == ("PO", "079741", "580")
    assert (letter.receiver.role, letter.receiver.names[1]) == ("SSP", "Medicinsk afd. B")
    referrer, answer = letter.contacts
    assert (referrer.role, referrer.names) == ("BV", ("Uddannelsesamanuensis", "Hans Jensen"))
    assert (answer.role, answer.id, answer.scheme) == ("PRH", "079832", "YNR")
    assert [(d.kind, d.code, d.agency) for d in letter.diagnoses] == [
        ("H", "DI10", ""),
        ("DM", "DE659", ""),
    ]
    assert [t.qualifier for t in letter.texts] == ["DI", "IN", "NC", "CF", "MT", "AL", "COT"]
    assert letter.texts[5].text.startswith("\nFenoxymetylpenicillin")  # Cave opens with <Break/>
    assert ("S10#1", "REL+PER+MO") in letter.extra
    assert ("S18#1", "PTY+PRI+WA") in letter.extra and ("S19#1", "TDT+PHL++TX") in letter.extra
    assert ("S07#1", "CON+CE+20222324:TE") in letter.extra


def test_clinical_email_priority_and_subject(samples_dir):
    _, letter = read(sample_bytes("oioxml_DIS91_1.xml"))
    assert letter.priority == "NC"  # RFF+HI:NC, as the EDIFACT codec reads it
    assert letter.texts[0].qualifier == "OE" and letter.texts[0].text == "Forundersøgelse"
    assert letter.texts[1].text.split("\n")[1].endswith("foretaget:")


@pytest.mark.parametrize(
    ("name", "refusal", "on_letter"),
    [("CTL01_1", RefusalCode.LOK, ""), ("CTL02_1", RefusalCode.VER, "1111MAN01095")],
)
def test_negative_receipt_refusal_placement(samples_dir, name, refusal, on_letter):
    _, receipt = read(sample_bytes(f"oioxml_{name}.xml"))
    assert isinstance(receipt, Receipt)
    assert receipt.refusal is refusal and receipt.refused_letter_ref == on_letter
    assert all(o.action == "4" for o in receipt.original_letters)
    assert receipt.original_letters[0].message_identifier == "MEDREF:D:93A:UN:H0130R"


def test_positive_receipt(samples_dir):
    envelope, receipt = read(sample_bytes("oioxml_CTL03_1.xml"))
    assert receipt.accepted and receipt.refusal is None and receipt.text == ""
    assert [o.action for o in receipt.original_letters] == ["7"]
    assert envelope.sender == "5790000120420"
