"""gateway.wire_format.sniff: one table of first bytes -> format (the VANS adapter uses it)."""

from __future__ import annotations

import pytest

from adapters.vans.mapping import sniff_format
from gateway.wire_format import sniff

CASES = [
    (b"UNA:+.? 'UNB+UNOC:3", "edifact"),
    (b"\r\nUNB+UNOC:3+1:14", "edifact"),
    (b'{"resourceType": "Bundle", "type": "message"}', "fhir"),
    (b'\xef\xbb\xbf {\n  "timestamp": "2023", "resourceType" : "Bundle"}', "fhir"),
    (b'{"hello": "world"}', "binary"),
    (b"<?xml version='1.0'?><Bundle xmlns=\"http://hl7.org/fhir\"/>", "fhir"),
    (b"<?xml version='1.0'?><Emessage xmlns='http://rep.oio.dk/'/>", "oioxml"),
    (b"%PDF-1.4", "binary"),
    (b"", "binary"),
]


@pytest.mark.parametrize(("data", "expected"), CASES)
def test_sniff(data, expected):
    assert sniff(data) == expected
    assert sniff_format(data) == expected  # the VANS adapter asks the same function
