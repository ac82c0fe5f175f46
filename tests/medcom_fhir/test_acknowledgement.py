"""Which Acknowledgement is owed (a table), and the Acknowledgements medbro writes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from itertools import count

import pytest
from medcom_samples import sample_bytes

from gateway.errors import LocalUsageError
from gateway.fhir import FhirError, read, routing_facts
from gateway.fhir.acknowledgement import acknowledgement, answer
from gateway.fhir.message import Issue, Organisation
from gateway.fhir.owed import (
    Outcome,
    Owed,
    Role,
    acknowledgement_owed,
    from_receipt,
    receipt_owed,
)
from gateway.model import Receipt, RefusalCode

from . import bundles as b

NOW = datetime(2024, 5, 1, 12, 5, tzinfo=timezone(timedelta(hours=2)))
HUB = Organisation(gln="5790002000000", sor="999999999999999", name="medbro hub")
BAD = FhirError("Patient.identifier", "no CPR or replacement CPR number", issue="value")
F, H = Role.FINAL_RECEIVER, Role.HOP
A, U, X = Outcome.ACCEPTED, Outcome.UNDELIVERABLE, Outcome.FAILED

# (is_acknowledgement, answerable, problem, outcome, role) -> response code owed (None: none)
OWED = [
    (False, True, None, A, F, "ok"),
    (False, True, None, A, H, None),  # passed on: the final receiver acknowledges
    (False, True, BAD, A, F, "fatal-error"),
    (False, True, BAD, A, H, "fatal-error"),
    (False, True, None, U, H, "fatal-error"),
    (False, True, None, U, F, "fatal-error"),
    (False, True, None, X, F, "transient-error"),
    (False, True, None, X, H, "transient-error"),
    (False, False, BAD, A, F, None),  # nobody to answer
    (False, False, None, U, H, None),
    (True, True, None, A, F, None),  # an Acknowledgement is never acknowledged ...
    (True, True, BAD, A, F, None),  # ... not even an invalid one
    (True, True, None, U, H, None),
    (True, True, None, X, F, None),
]


@pytest.mark.parametrize(("is_ack", "answerable", "problem", "outcome", "role", "code"), OWED)
def test_which_acknowledgement_is_owed(is_ack, answerable, problem, outcome, role, code):
    owed = acknowledgement_owed(
        is_acknowledgement=is_ack,
        answerable=answerable,
        problem=problem,
        outcome=outcome,
        role=role,
        reason="no endpoint for GLN 5790000121526",
    )
    assert (owed.code if owed else None) == code
    if owed is not None and code != "ok":
        assert owed.text and owed.issue
    if problem is not None and owed is not None:
        assert owed.text == str(BAD) and owed.issue == "value"


@pytest.mark.parametrize(
    ("receipt_type", "refusal", "code", "issue"),
    [
        ("CTL03", None, "ok", ""),
        ("CTL02", RefusalCode.SYN, "fatal-error", "processing"),
        ("CTL01", RefusalCode.LOK, "fatal-error", "not-found"),
    ],
)
def test_a_contrl_receipt_stands_for_an_acknowledgement(receipt_type, refusal, code, issue):
    receipt = Receipt(
        type=receipt_type,
        version="C0330Q",
        ref="R1",
        original_control_ref="K1",
        original_sender="1",
        original_recipient="2",
        refusal=refusal,
        text="nej",
    )
    owed = from_receipt(receipt)
    assert (owed.code, owed.issue) == (code, issue)


def _ids():
    numbers = count(1)
    return lambda: f"00000000-0000-4000-8000-{next(numbers):012d}"


@pytest.mark.parametrize(
    "owed",
    [
        Owed("ok"),
        Owed("transient-error", "transient", "store unavailable"),
        Owed("fatal-error", "not-found", "no endpoint for GLN 5790000121526"),
    ],
    ids=lambda o: o.code,
)
@pytest.mark.parametrize("media", ["application/fhir+json", "application/fhir+xml"])
def test_written_acknowledgements_keep_medcoms_rules(owed, media):
    original = read(b.to_bytes(b.care_communication()))
    data = acknowledgement(original, owed, now=NOW, media_type=media, make_id=_ids())
    assert data.lstrip()[:1] == (b"<" if media.endswith("xml") else b"{")
    ack = read(data)  # every rule of gateway.fhir.rules holds
    facts = routing_facts(ack)
    assert facts.is_acknowledgement and facts.type == "FCTL"
    assert facts.acknowledges == b.HEADER_ID and facts.response_code == owed.code
    # Back to the original sender, from the original receiver.
    assert (facts.receiver_gln, facts.sender_gln) == (b.MUNICIPALITY["gln"], b.GP["gln"])
    assert ack.destination_endpoint == f"https://sor2.sum.dsdn.dk/#id={b.MUNICIPALITY['sor']}"
    assert ack.timestamp == NOW
    # Provenance as MedCom's examples: the original's activity, then the acknowledgement.
    activities = [(a.code, a.target, a.previous) for a in ack.activities]
    assert activities == [
        ("new-message", f"MessageHeader/{b.HEADER_ID}", ""),
        ("acknowledgement", f"MessageHeader/{ack.header_id}", f"MessageHeader/{b.HEADER_ID}"),
    ]
    if owed.ok:
        assert ack.response.issues == ()
    else:
        assert [(i.severity, i.code, i.detail) for i in ack.response.issues] == [
            ("error", owed.issue, owed.text)
        ]
    assert len({ack.bundle_id, ack.header_id}) == 2 and b.HEADER_ID not in ack.bundle_id


def test_an_acknowledgement_is_never_acknowledged(samples_dir):
    ack = read(sample_bytes("fhir_ack_AA_A_ok.json"))
    with pytest.raises(LocalUsageError, match="never acknowledged"):
        acknowledgement(ack, Owed("ok"), now=NOW)
    data, why = answer(sample_bytes("fhir_ack_AE_C_fatal-error.json"), now=NOW)
    assert data is None and "never answered" in why


def test_our_acknowledgement_has_the_shape_of_medcoms_sample(samples_dir):
    """Same resources, profiles and Provenance pattern as MedCom's ACK_AE_C example."""
    sample = json.loads(sample_bytes("fhir_ack_AE_C_fatal-error.json"))
    ours = json.loads(
        acknowledgement(
            read(b.to_bytes(b.hospital_notification())), Owed("fatal-error", "value", "x"), now=NOW
        )
    )

    def shape(doc):
        kinds = sorted(
            (e["resource"]["resourceType"], tuple(e["resource"]["meta"]["profile"]))
            for e in doc["entry"]
        )
        provenance = [
            e["resource"]["activity"]["coding"][0]["code"]
            for e in doc["entry"]
            if e["resource"]["resourceType"] == "Provenance"
        ]
        header = doc["entry"][0]["resource"]
        return kinds, doc["meta"]["profile"], sorted(header["response"]), provenance[-1]

    assert shape(ours) == shape(sample)


def test_answer_as_final_receiver_and_as_hop():
    data = b.to_bytes(b.care_communication())
    ok, why = answer(data, now=NOW)
    assert routing_facts(read(ok)).response_code == "ok" and why == "Acknowledgement ok"
    none, why = answer(data, now=NOW, role=Role.HOP, hub=HUB)
    assert none is None and "final receiver acknowledges" in why
    fatal, why = answer(
        data,
        now=NOW,
        role=Role.HOP,
        outcome=Outcome.UNDELIVERABLE,
        reason="no endpoint for GLN 5790000121526",
        hub=HUB,
    )
    facts = routing_facts(read(fatal))
    assert facts.response_code == "fatal-error" and facts.sender_gln == HUB.gln
    assert facts.receiver_gln == b.MUNICIPALITY["gln"] and "5790000121526" in why


def test_answer_to_an_invalid_message_is_fatal_and_names_the_problem():
    data = b.to_bytes(
        b.changed(b.care_communication(), lambda d: b.resource(d, "Patient").pop("identifier"))
    )
    out, why = answer(data, now=NOW.astimezone(UTC))
    ack = read(out)
    assert ack.response.code == "fatal-error"
    assert "Patient.identifier" in ack.response.issues[0].detail and "Patient.identifier" in why


def test_no_answer_to_unreadable_bytes():
    out, why = answer(b"{broken", now=NOW)
    assert out is None and "cannot be read" in why


NOT_FOUND = Issue("error", "not-found", "ukendt modtager")
PROCESSING = Issue("error", "processing", "kan ikke læses")

# (response code, issues, UNB element 9 = 1?) -> (CONTRL type, refusal) owed; None: none
RECEIPT_OWED = [
    ("ok", (), True, ("CTL03", None)),
    ("ok", (), False, None),  # MedCom: a CTL03 only when the interchange asked for one
    ("fatal-error", (PROCESSING,), True, ("CTL02", RefusalCode.NC)),
    ("fatal-error", (PROCESSING,), False, ("CTL02", RefusalCode.NC)),  # a refusal is always owed
    ("fatal-error", (NOT_FOUND,), True, ("CTL02", RefusalCode.LOK)),
    ("fatal-error", (), True, ("CTL02", RefusalCode.NC)),
    ("transient-error", (PROCESSING,), True, None),  # the resend rule acts, nothing yet
    ("transient-error", (), False, None),
]


@pytest.mark.parametrize(("code", "issues", "asked", "owed"), RECEIPT_OWED)
def test_the_contrl_an_acknowledgement_stands_for(code, issues, asked, owed):
    got = receipt_owed(code, issues, ack_requested=asked)
    assert (None if got is None else (got.type, got.refusal)) == owed
    if got is not None and got.type == "CTL02":
        assert got.text.startswith("Afvist af modtageren (FHIR fatal-error)")
        assert all(i.detail in got.text for i in issues)


def test_no_contrl_for_a_response_code_fhir_does_not_have():
    with pytest.raises(FhirError, match="response.code"):
        receipt_owed("AA", ack_requested=True)
