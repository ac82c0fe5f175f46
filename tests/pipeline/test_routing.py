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


def test_refusal_codes_follow_medcom():
    assert Match.UNKNOWN_RECEIVER.refusal == "LOK"
    assert Match.NOT_ACCEPTED.refusal == "VER"
    assert Match.FULL.refusal is None


def test_routing_key_carries_format_family_type_version_receiver():
    request = RouteRequest(GP, "MEDDIS", "DIS01", "D0133L")
    assert routing_key(request) == "medcom.edifact.meddis.dis01.d0133l.5790000128686"
    odd = RouteRequest("57.9*0#", "MED DIS", "", "D0133L")
    assert routing_key(odd) == "medcom.edifact.med_dis.none.d0133l.57_9_0_"
