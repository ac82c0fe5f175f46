"""Fuzzing every reader and every ingest route (issue 13): bad input is never a 5xx.

Seeds are MedCom's corpus when ../shared is there, else letters the repo builds (tests/
fuzzcases.py); Hypothesis draws the mutations (a ``Random`` it controls, so failures shrink and
replay). Bounded: a fixed number of examples per target and no deadline, a few seconds each;
bench/fuzz_campaign.py runs the same targets for longer.

* readers: the VANSEnvelope reader answers an envelope or a ``VansEnvelopeError``; the OIOXML
  path to EDIFACT answers bytes or a ``RemoteMessageError``;
* routes, through the real app and hub (SQLite, in-process transport): every answer is below
  500, and a message refused after it was stored (422) is visible in GET /v1/messages/{id};
* the EDI mailbox's intake (what the watcher calls for each file) stores whatever it is given
  and never raises (the watcher would keep the file and try it again forever).
"""

from __future__ import annotations

import asyncio
import contextlib
import random

import pytest
from apiharness import KEY, running_api
from fuzzcases import case, seeds
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.vans.envelope import VansEnvelopeError
from adapters.vans.envelope import parse as parse_envelope
from gateway.errors import RemoteMessageError

KINDS = seeds()
FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
RANDOMS = st.randoms(use_true_random=False)


@FUZZ
@given(rnd=RANDOMS)
def test_the_vans_envelope_reader_answers_an_envelope_or_its_error(rnd: random.Random):
    data = case(KINDS, "vans", rnd)
    with contextlib.suppress(VansEnvelopeError):
        parse_envelope(data, check_size=rnd.random() < 0.5)


@FUZZ
@given(rnd=RANDOMS)
def test_oioxml_to_edifact_answers_bytes_or_the_senders_error(rnd: random.Random):
    from gateway.oioxml import to_edifact

    with contextlib.suppress(RemoteMessageError):
        assert isinstance(to_edifact(case(KINDS, "oioxml", rnd)), bytes)


ROUTES = [
    ("/v1/messages", "edifact", "application/edifact"),
    ("/v1/messages", "vans", "application/xml"),
    ("/v1/hospital/letters", "edifact", "application/edifact"),
    ("/v1/hospital/letters", "oioxml", "application/xml"),
    ("/v1/hospital/letters", "vans", "application/xml"),
]


@pytest.mark.parametrize(("path", "kind", "content_type"), ROUTES)
def test_an_ingest_route_never_answers_5xx(tmp_path, path, kind, content_type):
    loop = asyncio.new_event_loop()
    context = running_api(tmp_path)
    api = loop.run_until_complete(context.__aenter__())
    try:
        @settings(FUZZ, max_examples=40)
        @given(rnd=RANDOMS)
        def check(rnd: random.Random) -> None:
            body = case(KINDS, kind, rnd)
            answer = loop.run_until_complete(api.post(path, body, content_type=content_type))
            assert answer.status_code < 500, (answer.status_code, answer.text[:300], body[:300])
            if answer.status_code == 422 and answer.json().get("message_ids"):
                view = loop.run_until_complete(api.message(answer.json()["message_ids"][0]))
                assert view.status_code == 200, view.text

        check()
    finally:
        loop.run_until_complete(context.__aexit__(None, None, None))
        loop.close()


def test_the_mailbox_intake_stores_whatever_it_is_given(tmp_path):
    from gateway.envelopes import envelope_intake

    receipts: list[tuple[str, bytes]] = []

    async def on_receipt(name: str, data: bytes) -> None:
        receipts.append((name, data))

    loop = asyncio.new_event_loop()
    context = running_api(tmp_path)
    api = loop.run_until_complete(context.__aenter__())
    intake = envelope_intake(api.hub.ingest, api.hub.settings, received_via="edi_mailbox",
                             on_receipt=on_receipt)
    try:
        @settings(FUZZ, max_examples=40)
        @given(rnd=RANDOMS, kind=st.sampled_from(["edifact", "vans"]))
        def check(rnd: random.Random, kind: str) -> None:
            # never an exception: the watcher would keep the file and try it forever
            result = loop.run_until_complete(intake(
                case(KINDS, kind, rnd), received_via="edi_mailbox", source="fuzz/in.edi",
                authenticated_glns=None))
            # stored (accepted, refused, a duplicate), or an envelope answered with its receipt
            # (refused before the hub, e.g. an unknown receiver, and its repeats)
            assert result.message_ids or result.receipt, result

        check()
    finally:
        intake.close()
        loop.run_until_complete(context.__aexit__(None, None, None))
        loop.close()


def test_the_seeds_pass_unmutated(tmp_path):
    """The fuzz starts from input that is accepted: the seeds themselves are good letters."""
    async def run() -> list[int]:
        async with running_api(tmp_path) as api:
            return [(await api.post("/v1/hospital/letters", KINDS[k][0])).status_code
                    for k in ("edifact", "oioxml", "vans")]

    assert asyncio.run(run()) == [202, 202, 200]
    assert KEY
