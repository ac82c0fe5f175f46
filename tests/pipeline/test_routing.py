"""Routing decisions from a table, no IO."""

from __future__ import annotations

import pytest

from gateway.routing import Accept, Match, Route, RouteRequest, decide_route, routing_key

GP = "5790000128686"
ROUTES = {
    GP: Route(GP, (Accept("DIS01", ("D0133L", "D0134L")), Accept("DIS91", ()))),
}

CASES = [
    # receiver, family, type, version -> match
    (GP, "MEDDIS", "DIS01", "D0133L", Match.FULL),
    (GP, "MEDDIS", "dis01", "d0134l", Match.FULL),  # codes compare case-insensitively
    (GP, "MEDDIS", "DIS01", "D0132L", Match.NOT_ACCEPTED),  # version not registered
    (GP, "MEDDIS", "DIS91", "D9199L", Match.FULL),  # no versions listed = any version
    (GP, "MEDREF", "REF01", "H0131R", Match.NOT_ACCEPTED),
    (GP, "CONTRL", "CTL03", "C0330Q", Match.FULL),  # receipts always reach a known endpoint
    ("5790000000000", "MEDDIS", "DIS01", "D0133L", Match.UNKNOWN_RECEIVER),
    ("5790000000000", "CONTRL", "CTL03", "C0330Q", Match.UNKNOWN_RECEIVER),
]


@pytest.mark.parametrize(("receiver", "family", "type_", "version", "expected"), CASES)
def test_decide_route(receiver, family, type_, version, expected):
    assert decide_route(ROUTES, RouteRequest(receiver, family, type_, version)) is expected


EDIFACT_GP = Route(GP, (Accept("DIS91", ("D9134L",)),))  # deliver_as "edifact" (default)
FHIR_ONLY = Route(GP, (Accept("FDIS91"),), deliver_as="fhir")
TWIN_CASES = [
    # route, format, type, version -> match: a letter matches an endpoint taking its twin
    (EDIFACT_GP, "fhir", "FDIS91", "5.0", Match.FULL),  # a CareCommunication, as a DIS91
    (EDIFACT_GP, "fhir", "FDIS20", "5.0", Match.NOT_ACCEPTED),  # no letter twin here
    (EDIFACT_GP, "edifact", "DIS91", "D9134L", Match.FULL),
    (FHIR_ONLY, "edifact", "DIS91", "D9134L", Match.FULL),  # a DIS91, as a CareCommunication
    (FHIR_ONLY, "oioxml", "DIS91", "D9134L", Match.FULL),
    (FHIR_ONLY, "edifact", "DIS01", "D0133L", Match.NOT_ACCEPTED),
    (Route(GP, (Accept("FDIS91"),)), "edifact", "DIS91", "D9134L",  # takes FHIR, but
     Match.NOT_ACCEPTED),  # asked for EDIFACT: no twin
    (Route(GP, (Accept("DIS91", ("D9134L",)),), deliver_as="fhir"), "fhir", "FDIS91", "5.0",
     Match.NOT_ACCEPTED),  # FHIR to a FHIR endpoint: its own type only
]


@pytest.mark.parametrize(("route", "format_", "type_", "version", "expected"), TWIN_CASES)
def test_a_letter_matches_an_endpoint_that_takes_its_twin(route, format_, type_, version,
                                                         expected):
    request = RouteRequest(GP, "FHIR" if format_ == "fhir" else "MEDDIS", type_, version,
                           format_)
    assert route.matches(request) is expected


def test_refusal_codes_follow_medcom():
    assert Match.UNKNOWN_RECEIVER.refusal == "LOK"
    assert Match.NOT_ACCEPTED.refusal == "VER"
    assert Match.FULL.refusal is None


def test_routing_key_carries_format_family_type_version_receiver():
    request = RouteRequest(GP, "MEDDIS", "DIS01", "D0133L")
    assert routing_key(request) == "medcom.edifact.meddis.dis01.d0133l.5790000128686"
    odd = RouteRequest("57.9*0#", "MED DIS", "", "D0133L")
    assert routing_key(odd) == "medcom.edifact.med_dis.none.d0133l.57_9_0_"
