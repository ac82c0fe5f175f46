"""MedCom's reliable-messaging rules for FHIR: duplicates, what an Acknowledgement means, resend."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.errors import LocalUsageError
from gateway.fhir import read, read_bundle, routing_facts
from gateway.fhir.reliable import Case, Verdict, duplicate_case, resend, verdict

from . import bundles as b

H, OTHER = "header-1", "header-2"


@pytest.mark.parametrize(
    ("header_seen", "bundle_seen_with", "case"),
    [
        (False, None, Case.NEW),
        (True, None, Case.RESENT),  # a resend: new Bundle.id, same MessageHeader.id
        (True, H, Case.REPEATED),  # the very same send again
        (False, OTHER, Case.BUNDLE_REUSED),
        (True, OTHER, Case.BUNDLE_REUSED),
    ],
)
def test_duplicate_cases(header_seen, bundle_seen_with, case):
    assert (
        duplicate_case(header_seen=header_seen, bundle_seen_with=bundle_seen_with, header_id=H)
        is case
    )


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("ok", Verdict.ACKNOWLEDGED),
        ("fatal-error", Verdict.REJECTED),
        ("transient-error", Verdict.RETRY),
    ],
)
def test_what_an_acknowledgement_means(code, expected):
    assert verdict(code) is expected


def test_an_unknown_code_is_a_bug_not_a_verdict():
    with pytest.raises(LocalUsageError):
        verdict("maybe")


@pytest.mark.parametrize("xml", [False, True])
def test_a_resend_has_a_new_bundle_id_and_time_and_the_same_message(xml):
    data = b.to_bytes(b.care_communication())
    if xml:
        data = read_bundle(data).model_dump_xml()
    now = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    again = resend(data, bundle_id="5f0c7a58-8a3c-4b8e-9e0e-2a4c4f6a7b10", now=now)
    assert again.lstrip()[:1] == data.lstrip()[:1]
    first, second = routing_facts(read(data)), routing_facts(read(again))
    assert second.bundle_id == "5f0c7a58-8a3c-4b8e-9e0e-2a4c4f6a7b10"
    assert second.message_key == first.message_key == b.HEADER_ID
    assert read(again).timestamp == now
    assert second.__dict__ | {"bundle_id": ""} == first.__dict__ | {"bundle_id": ""}
    with pytest.raises(LocalUsageError, match="new Bundle.id"):
        resend(again, bundle_id=second.bundle_id, now=now)
