"""The municipal copy decision by a message's form (gateway/pipeline/copies.py ``RULES``): an
EDIFACT letter's NAD+CCR copy receivers; never a FHIR message (MedCom's FHIR messaging is
point-to-point: no ``destination[cc]`` in CareCommunication, HospitalNotification or
Acknowledgement); nothing for a payload routed by its envelope (no letter read)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from gateway.model import Party
from gateway.pipeline.copies import OTHER, RULES, copy_receivers, rule_for
from gateway.pipeline.ingest_verdict import Accept, Known, Reject, decide_ingest
from gateway.pipeline.inputs import read
from gateway.registry import Registry
from tests.medcom_fhir import bundles

ODENSE, AARHUS = "5790001659592", "5790000118276"


class Letter:
    """What the rule reads of a letter: its copy parties."""

    copies = (Party("CCR", ODENSE, "EAN", "9"),
              Party("CCR", "461", "KOM", "IM", refs=(("LOC", AARHUS),)),
              Party("CCR", "499211", "YNR", "SFU"))


CASES = [
    # form        copy receivers of the same letter
    ("edifact", [ODENSE, AARHUS]),  # an EAN id, an RFF+LOC GLN; a YNR (a GP) names no GLN
    ("", [ODENSE, AARHUS]),  # no form given: EDIFACT, the codec's
    ("fhir", []),  # point-to-point: a FHIR message has no copy receivers
    ("oioxml", []),  # routed by its envelope: no letter read
    ("binary", []),
]


@pytest.mark.parametrize(("form", "expected"), CASES, ids=[c[0] or "default" for c in CASES])
def test_copy_receivers_by_form(form, expected):
    assert copy_receivers(form, Letter()) == expected
    assert copy_receivers(form, None) == []


def test_every_form_says_why():
    assert RULES["edifact"].copies and not RULES["fhir"].copies and not OTHER.copies
    assert "destination[cc]" in RULES["fhir"].why and rule_for("oioxml") is OTHER


def with_copy_to(org: dict):
    """The notification with a second, ``cc`` destination: ``org``, in the Bundle."""
    def change(doc: dict) -> None:
        header = doc["entry"][0]["resource"]
        cc = copy.deepcopy(header["destination"][0])
        cc["extension"][0]["valueCoding"]["code"] = "cc"
        cc["receiver"] = {"reference": f"Organization/{org['id']}"}
        header["destination"].append(cc)
        doc["entry"].append({"fullUrl": f"Organization/{org['id']}",
                             "resource": bundles.organisation(org)})
    return change


REGISTRY = Registry.from_dict({"endpoints": [
    {"gln": bundles.MUNICIPALITY["gln"], "name": "Aarhus Kommune", "kind": "municipality",
     "accepts": [{"type": "FDIS20"}], "channel": {"kind": "recording"}},
    {"gln": ODENSE, "name": "Odense Kommune", "kind": "municipality",
     "accepts": [{"type": "FDIS20"}], "channel": {"kind": "recording"}}]})
ODENSE_ORG = {**bundles.GP, "gln": ODENSE, "id": "9a1c1c5e-3b8e-4c53-9d0e-0b4f5f1f2a11"}


def decide(doc: dict):
    item = read(bundles.to_bytes(doc), received_via="test")
    return decide_ingest(item, Known(), REGISTRY, now=datetime(2026, 12, 5, tzinfo=UTC),
                         medbro_gln="5790000000000")


def test_a_hospital_notification_goes_to_its_primary_receiver_alone():
    verdict = decide(bundles.hospital_notification())
    assert isinstance(verdict, Accept), verdict
    assert verdict.route.receiver_gln == bundles.MUNICIPALITY["gln"] and verdict.copies == ()


def test_a_cc_destination_is_refused_not_copied():
    """MedCom's profiles allow no cc here: the message is rejected (fatal-error to the
    sender), and the other municipality, although configured, gets nothing."""
    verdict = decide(bundles.changed(bundles.hospital_notification(), with_copy_to(ODENSE_ORG)))
    assert isinstance(verdict, Reject), verdict
    assert (verdict.code, verdict.place["path"]) == (
        "INVALID_FHIR", "Bundle.entry[0].resource.destination[cc]")
    assert verdict.receipt is not None and b"fatal-error" in verdict.receipt
