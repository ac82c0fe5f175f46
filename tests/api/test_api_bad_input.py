"""No 5xx on any input: conversion, render and envelope errors are the sender's fault.

Through the real app and a real hub (SQLite, in-process transport): an OIOXML letter whose free
text cannot be written as EDIFACT is stored, refused (422) and visible to its sender; a
DOCTYPE anywhere is refused as bad input, never 500 or 503 "send it again".
"""

from __future__ import annotations

import pytest
from apiharness import (
    GP,
    HOSPITAL,
    OTHER_KEY,
    edifact_letter,
    envelope,
    oioxml_letter,
    running_api,
)

from adapters.vans import parse as parse_envelope

DOCTYPE = b'<!DOCTYPE x [<!ENTITY e "5790000120420">]>'


def _with_doctype(xml: bytes) -> bytes:
    head, sep, rest = xml.partition(b"?>")
    return head + sep + DOCTYPE + rest if sep else DOCTYPE + xml


# Free text OIOXML can carry and MedCom's FTX rules cannot (gateway/edifact/ftx.py).
UNWRITABLE_TEXT = [
    pytest.param(b"Lap\taroskopisk", id="tab-control-character"),
    pytest.param(b"Laparoskopisk<Break/>.<Break/>", id="a-line-that-is-only-a-dot"),
    pytest.param(b"Laparoskopisk\\<Break/>", id="a-line-ending-in-backslash"),
]


@pytest.mark.parametrize("text", UNWRITABLE_TEXT)
async def test_oioxml_that_cannot_be_edifact_is_stored_refused_and_visible(tmp_path, text):
    letter = oioxml_letter().replace(b"Laparoskopisk", text)
    async with running_api(tmp_path) as api:
        answer = await api.post("/v1/hospital/letters", letter)
        assert answer.status_code == 422, answer.text
        body = answer.json()
        assert body["state"] == "rejected"
        assert "cannot be written as EDIFACT" in body["error"]
        view = await api.message(body["message_ids"][0])
        assert view.status_code == 200
        assert view.json()["state"] == "rejected"
        # another organisation does not see it
        assert (await api.message(body["message_ids"][0], key=OTHER_KEY)).status_code == 404


async def test_the_same_letter_without_the_bad_text_is_routed(tmp_path):
    async with running_api(tmp_path) as api:
        answer = await api.post("/v1/hospital/letters", oioxml_letter())
        assert answer.status_code == 202, answer.text
        assert answer.json()["state"] == "routed"


@pytest.mark.parametrize("path", ["/v1/hospital/letters", "/v1/messages"])
async def test_a_vans_envelope_with_a_doctype_is_400(tmp_path, path):
    bodies = [
        _with_doctype(envelope(edifact_letter())),
        # the entity used where the schema checks a value: was a libxml2 "internal error"
        _with_doctype(envelope(edifact_letter())).replace(
            f">{HOSPITAL}<".encode(), b">&e;<", 1),
        _with_doctype(envelope(edifact_letter())).replace(b'EndPointType="EAN"',
                                                          b'EndPointType="&e;"', 1),
    ]
    async with running_api(tmp_path) as api:
        for body in bodies:
            answer = await api.post(path, body)
            assert answer.status_code == 400, answer.text
            assert "DOCTYPE is not allowed in a VANSEnvelope" in answer.json()["detail"]


@pytest.mark.parametrize(("payload_type", "version"), [("DIS01", "D0133L"),
                                                        ("XDIS22", "XD2230L")])
async def test_a_payload_with_a_doctype_gets_a_negative_receipt_and_is_not_routed(
        tmp_path, payload_type, version):
    payload = _with_doctype(oioxml_letter())
    async with running_api(tmp_path) as api:
        answer = await api.post("/v1/hospital/letters",
                                envelope(payload, message_type=payload_type, version=version))
        assert answer.status_code == 200, answer.text
        receipt = parse_envelope(answer.content).receipt
        assert not receipt.positive
        assert "DOCTYPE is not allowed" in receipt.error.description
        message_id = answer.headers["x-medbro-message-ids"].split(",")[0]
        view = (await api.message(message_id)).json()
        assert view["state"] == "rejected" and view["attempts"] == []


async def test_an_oioxml_letter_with_a_doctype_is_stored_and_refused(tmp_path):
    async with running_api(tmp_path) as api:
        answer = await api.post("/v1/hospital/letters", _with_doctype(oioxml_letter()))
        assert answer.status_code == 422, answer.text
        assert "DOCTYPE is not allowed" in answer.json()["error"]


async def test_edifact_to_messages_is_still_accepted(tmp_path):
    async with running_api(tmp_path) as api:
        answer = await api.post("/v1/messages", edifact_letter(),
                                content_type="application/edifact")
        assert answer.status_code == 202, answer.text
        assert answer.json()["state"] == "routed"
        assert GP in (await api.message(answer.json()["message_ids"][0])).text


async def test_a_million_tiny_segments_are_stored_refused_and_receipted(tmp_path):
    """The hostile body of issue 13 (``FTX'`` a million times before BGM): refused at its
    second segment, stored, answered with the CTL02 MedCom requires, visible to its sender."""
    head = (f"UNA:+.? 'UNB+UNOC:3+{HOSPITAL}:14+{GP}:14+261123:0930+HOSTILE1++++0'"
            "UNH+1+MEDDIS:D:93A:UN:D0133L+DIS01'").encode()
    body = head + b"FTX'" * 1_000_000 + b"BGM+DIS01'UNT+3+1'UNZ+1+HOSTILE1'"
    async with running_api(tmp_path) as api:
        answer = await api.post("/v1/messages", body, content_type="application/edifact")
        assert answer.status_code == 422, answer.text
        result = answer.json()
        assert result["code"] == "SEGMENT_UNEXPECTED" and "FTX segment 2" in result["error"]
        assert "CTL02" in result["receipt"] and "UCI+HOSTILE1+" in result["receipt"]
        view = (await api.message(result["message_ids"][0])).json()
        assert view["state"] == "rejected" and view["control_ref"] == "HOSTILE1"
        assert [r["kind"] for r in view["receipts"]] == ["CTL02"]
        assert view["summary"]["error"]["segment_no"] == 2
