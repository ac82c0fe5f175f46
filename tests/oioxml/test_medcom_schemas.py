"""Every OIOXML document medbro writes is valid against MedCom's official schemas.

MedCom's XSDs (../shared/research/medcom-xsd/, from MedCom's own converter) are used where they
are, never copied; the tests skip cleanly without them. The twins of MedCom's corpus are
validated too, as the control that the schemas load and judge as MedCom's converter does.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from lxml import etree
from medcom_samples import SAMPLES, sample_bytes

from gateway.oioxml import read, write

from .helpers import TWINS
from .strategies import Strategies

MEDCOM_XSD = SAMPLES.parent / "medcom-xsd" / "Schemas"
TWIN_FILES = ["DIS01_1", "DIS91_1", "CTL01_1", "CTL02_1", "CTL03_1", "DIS20_1", "REF01_1"]
XML = Strategies()


@pytest.fixture(scope="module")
def medcom_xsd() -> Path:
    if not (MEDCOM_XSD / "2005" / "08" / "07" / "EMessage.xsd").is_file():
        pytest.skip(f"MedCom's OIOXML schemas not found at {MEDCOM_XSD}")
    return MEDCOM_XSD


@cache
def _schema(namespace: str) -> etree.XMLSchema:
    """The EMessage.xsd of a namespace ``.../xml/schemas/2005/08/07/``."""
    date = Path(*namespace.rstrip("/").split("/")[-3:])
    return etree.XMLSchema(etree.parse(str(MEDCOM_XSD / date / "EMessage.xsd")))


def assert_medcom_valid(data: bytes) -> None:
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    schema = _schema(etree.QName(root).namespace)
    assert schema.validate(root), f"{schema.error_log[0]}\n{data.decode('cp1252')[:2000]}"


@pytest.mark.parametrize("name", TWIN_FILES)
def test_medcoms_twins_are_valid_control(medcom_xsd, samples_dir, name):
    assert_medcom_valid(sample_bytes(f"oioxml_{name}.xml"))


@pytest.mark.parametrize("name", TWINS)
def test_what_medbro_writes_for_the_twins_is_valid(medcom_xsd, samples_dir, name):
    assert_medcom_valid(write(*read(sample_bytes(f"oioxml_{name}.xml"))))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(envelope=XML.envelopes, message=XML.messages)
def test_every_letter_and_receipt_medbro_writes_is_valid(medcom_xsd, envelope, message):
    assert_medcom_valid(write(envelope, message))


@pytest.mark.parametrize(
    "name",
    [
        "edifact_DIS01_1.edi",
        "edifact_DIS91_1.edi",
        "edifact_DIS91_2.edi",
        "edifact_DIS20_1.edi",
        "edifact_unittest_DIS20_ok.edi",
        "edifact_REF01_1.edi",
        "edifact_CTL01_1.edi",
        "edifact_CTL02_1.edi",
        "edifact_CTL03_1.edi",
    ],
)
def test_edifact_converted_to_oioxml_is_valid(medcom_xsd, samples_dir, name):
    from gateway.oioxml import from_edifact

    assert_medcom_valid(from_edifact(sample_bytes(name)))


def test_a_care_communication_has_no_oioxml_form_without_an_episode_status():
    """MedCom's ClinicalEmail requires the patient's EpisodeOfCareStatusCode, which a
    CareCommunication does not carry: the conversion is refused, naming the field."""
    from medcom_fhir import bundles as b

    from gateway.fhir.convert import fhir_to_oioxml
    from gateway.oioxml import OioxmlError

    with pytest.raises(OioxmlError) as err:
        fhir_to_oioxml(b.to_bytes(b.care_communication()))
    assert err.value.path == "letter.patient.episode_status"


def _dis01():
    from datetime import datetime

    from gateway.model import Diagnosis, Envelope, Letter, Party, Patient

    envelope = Envelope("5790000120420", "5790000128686", "K1", datetime(2024, 5, 1, 12, 0))
    letter = Letter(
        type="DIS01",
        version="D0133L",
        ref="L1",
        letter_id="L1",
        authorised_at=datetime(2024, 5, 1, 12, 0),
        sent_at=datetime(2024, 5, 1, 12, 0),
        sender=Party("SSP", "2001060", "SKS", "SST", ("Hillerød Sygehus",)),
        receiver=Party("PO", "291714", "YNR", "SFU", ("Lægehuset",)),
        patient=Patient("0201919990", "Elmer", "Bruno", episode_status="HS"),
        diagnoses=(Diagnosis("A", "DC249", "Neopl mal viarum billiarum"),),
    )
    return envelope, letter


def _with(letter, **changes):
    import dataclasses

    return dataclasses.replace(letter, **changes)


# (model change, the field the refusal names): each rule of gateway/oioxml/conformance.py
REFUSED = [
    (lambda e, lt: (e, _with(lt, authorised_at=None)), "letter.authorised_at"),
    (lambda e, lt: (e, _with(lt, sender=_with(lt.sender, id=""))), "letter.sender.id"),
    (lambda e, lt: (e, _with(lt, sender=_with(lt.sender, id="1" * 18))), "letter.sender.id"),
    (
        lambda e, lt: (e, _with(lt, receiver=_with(lt.receiver, scheme="", agency=""))),
        "letter.receiver.scheme",
    ),
    (lambda e, lt: (e, _with(lt, receiver=_with(lt.receiver, names=()))), "letter.receiver.names"),
    (
        lambda e, lt: (e, _with(lt, sender=_with(lt.sender, names=("x" * 36,)))),
        "letter.sender.names[0]",
    ),
    (
        lambda e, lt: (e, _with(lt, sender=_with(lt.sender, speciality="80"))),
        "letter.sender.speciality",
    ),
    (lambda e, lt: (e, _with(lt, patient=_with(lt.patient, surname=""))), "letter.patient.surname"),
    (
        lambda e, lt: (e, _with(lt, patient=_with(lt.patient, episode_status=""))),
        "letter.patient.episode_status",
    ),
    (
        lambda e, lt: (e, _with(lt, diagnoses=(_with(lt.diagnoses[0], text=""),))),
        "letter.diagnoses[0].text",
    ),
    (
        lambda e, lt: (e, _with(lt, diagnoses=(_with(lt.diagnoses[0], kind="G"),))),
        "letter.diagnoses[0].kind",
    ),
    (lambda e, lt: (e, _with(lt, copies=(lt.receiver, lt.receiver))), "letter.copies"),
    (lambda e, lt: (_with(e, control_ref="K" * 15), lt), "envelope.control_ref"),
]


@pytest.mark.parametrize(("change", "field"), REFUSED, ids=[f for _, f in REFUSED])
def test_a_letter_medcoms_schema_refuses_is_refused_by_name(medcom_xsd, change, field):
    from gateway.oioxml import OioxmlError

    envelope, letter = _dis01()
    assert_medcom_valid(write(envelope, letter))  # the unchanged letter is written and valid
    with pytest.raises(OioxmlError) as err:
        write(*change(envelope, letter))
    assert err.value.path == field
