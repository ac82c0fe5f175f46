"""resend.decide: pure, with an injected clock; MedCom's 30 minutes and 2 resends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.pipeline.resend import (
    AttemptNow,
    GiveUp,
    ResendPolicy,
    ResendState,
    WaitUntil,
    decide,
    stop_after_resends,
    wait_fixed,
)

SENT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def state(resends: int, sent: datetime = SENT) -> ResendState:
    return ResendState(resends=resends, sent_at=sent)


@pytest.mark.parametrize(("resends", "minutes_later", "expected"), [
    (0, 0, WaitUntil(SENT + timedelta(minutes=30))),
    (0, 29, WaitUntil(SENT + timedelta(minutes=30))),
    (0, 30, AttemptNow()),
    (1, 31, AttemptNow()),
    (2, 29, WaitUntil(SENT + timedelta(minutes=30))),
    (2, 30, GiveUp),
    (5, 300, GiveUp),
])
def test_medcom_policy(resends, minutes_later, expected):
    decision = decide(state(resends), SENT + timedelta(minutes=minutes_later))
    if expected is GiveUp:
        assert isinstance(decision, GiveUp) and f"after {resends} resend" in decision.reason
    else:
        assert decision == expected


def test_a_full_run_resends_twice_then_gives_up():
    policy = ResendPolicy.medcom(timeout_seconds=60, max_resends=2)
    now, sent, resends, log = SENT, SENT, 0, []
    for _ in range(20):
        now += timedelta(seconds=15)
        decision = decide(state(resends, sent), now, policy)
        if isinstance(decision, AttemptNow):
            resends, sent = resends + 1, now
            log.append(("resend", now - SENT))
        elif isinstance(decision, GiveUp):
            log.append(("give_up", now - SENT))
            break
    assert log == [("resend", timedelta(seconds=60)), ("resend", timedelta(seconds=120)),
                   ("give_up", timedelta(seconds=180))]


def test_policies_compose():
    stop = stop_after_resends(3) | stop_after_resends(1)
    assert stop(state(1).as_retry_state()) and not stop(state(0).as_retry_state())
    policy = ResendPolicy(stop=stop_after_resends(0), wait=wait_fixed(10))
    assert isinstance(decide(state(0), SENT + timedelta(seconds=10), policy), GiveUp)


# -- FHIR: the same rule, each resend a new send; a transient-error makes it due at once -------


def fhir(resends: int, *, transient: bool = False) -> ResendState:
    return ResendState(resends=resends, sent_at=SENT, format="fhir", transient_error=transient)


@pytest.mark.parametrize(("fact", "minutes_later", "expected"), [
    (state(0), 30, AttemptNow(new_send=False)),  # EDIFACT: the same bytes again
    (fhir(0), 29, WaitUntil(SENT + timedelta(minutes=30))),
    (fhir(0), 30, AttemptNow(new_send=True)),  # a new Bundle.id, the same MessageHeader.id
    (fhir(1), 30, AttemptNow(new_send=True)),
    (fhir(2), 29, WaitUntil(SENT + timedelta(minutes=30))),
    (fhir(2), 30, "no Acknowledgement after 2 resend(s)"),
    (fhir(0, transient=True), 0, AttemptNow(new_send=True)),  # transient-error: due at once
    (fhir(1, transient=True), 1, AttemptNow(new_send=True)),
    (fhir(2, transient=True), 0, "a transient-error Acknowledgement after 2 resend(s)"),
    (state(2), 30, "no receipt after 2 resend(s)"),
])
def test_fhir_resends_under_the_same_rule(fact, minutes_later, expected):
    decision = decide(fact, SENT + timedelta(minutes=minutes_later))
    if isinstance(expected, str):
        assert isinstance(decision, GiveUp) and decision.reason.startswith(expected)
    else:
        assert decision == expected


def test_a_fhir_resend_has_a_new_bundle_id_of_its_own_and_keeps_the_message_header_id():
    from gateway.fhir import read
    from gateway.pipeline.resend import resend_bundle_id, resend_payload
    from tests.medcom_fhir import bundles

    data = bundles.to_bytes(bundles.care_communication())
    now = datetime(2026, 12, 5, 10, 30, 15, tzinfo=UTC)
    assert resend_payload(data, format="fhir", message_id="m1", resends=0, now=now) == data
    assert resend_payload(data, format="edifact", message_id="m1", resends=2, now=now) == data
    sends = [read(resend_payload(data, format="fhir", message_id="m1", resends=n, now=now))
             for n in (1, 2)]
    original = read(data)
    assert [s.bundle_id for s in sends] == [resend_bundle_id("m1", 1), resend_bundle_id("m1", 2)]
    assert len({original.bundle_id, *(s.bundle_id for s in sends)}) == 3
    assert {s.header_id for s in sends} == {original.header_id}
    assert {s.timestamp for s in sends} == {now}  # the resend's time, the original's was older
    assert resend_bundle_id("m1", 1) != resend_bundle_id("m2", 1)


# (automatic resends, operator's sends) -> the send: every pair its own Bundle.id
SENDS = [(0, 0), (1, 0), (2, 0), (0, 1), (0, 2), (1, 1), (2, 1), (2, 2)]


def test_every_send_an_operator_or_the_resend_rule_makes_has_its_own_bundle_id():
    from gateway.fhir import read
    from gateway.pipeline.resend import resend_bundle_id, resend_payload, resent_as
    from tests.medcom_fhir import bundles

    data = bundles.to_bytes(bundles.care_communication())
    now = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    ids = [read(resend_payload(data, format="fhir", message_id="m1", resends=r,
                               redeliveries=o, now=now)).bundle_id for r, o in SENDS]
    assert ids[0] == read(data).bundle_id  # the first send as it came
    assert len(set(ids)) == len(SENDS)
    assert ids[1:3] == [resend_bundle_id("m1", 1), resend_bundle_id("m1", 2)]  # as before
    assert resent_as("m1", 0, 0, now=now) is None
    assert resent_as("m1", 2, 1, now=now) == (resend_bundle_id("m1", 2, 1), now)
    # an EDIFACT letter is sent again byte for byte (a converted twin takes ``resent_as``)
    assert resend_payload(b"UNA", format="edifact", message_id="m1", resends=0,
                          redeliveries=1, now=now) == b"UNA"
