"""``decide_delivery`` from a table: delivery command and stored state -> verdict."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.pipeline.delivery_verdict import DeliveryJob, Do, Stored, decide_delivery
from gateway.registry import Registry

GP, GONE = "5790000128686", "5790009999994"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REGISTRY = Registry.from_dict({"endpoints": [
    {"gln": GP, "name": "Lægehuset", "kind": "gp", "accepts": [{"type": "DIS01"}],
     "channel": {"kind": "edi_mailbox", "directory": "/tmp/g"}}]})
JOB = DeliveryJob("i-1")
LATER = DeliveryJob("i-1", not_before=NOW + timedelta(seconds=40))
DUE = DeliveryJob("i-1", not_before=NOW + timedelta(milliseconds=200))


def stored(*states: str, receiver: str = GP) -> Stored:
    return Stored(states, receiver)


# (name, job, stored, what to do)
CASES = [
    ("routed: deliver", JOB, stored("routed"), Do.DELIVER),
    ("two letters routed", JOB, stored("routed", "routed"), Do.DELIVER),
    ("not in the store", JOB, None, Do.MISSING),
    ("no messages", JOB, stored(), Do.MISSING),
    ("SLA retry not yet due: one more hop", LATER, stored("routed"), Do.WAIT),
    ("SLA retry within the tolerance: deliver", DUE, stored("routed"), Do.DELIVER),
    ("delivered: the idempotent consumer", JOB, stored("delivered"), Do.SKIP),
    ("acknowledged", JOB, stored("acknowledged"), Do.SKIP),
    ("failed (closed by an operator too)", JOB, stored("failed"), Do.SKIP),
    ("parked: an operator owns it", JOB, stored("parked"), Do.SKIP),
    ("rejected", JOB, stored("rejected"), Do.SKIP),
    ("receiver gone: park", JOB, stored("routed", receiver=GONE), Do.PARK),
    ("released or replayed by an operator: routed again", JOB, stored("routed"), Do.DELIVER),
]


@pytest.mark.parametrize(("name", "job", "found", "expected"), CASES,
                         ids=[c[0] for c in CASES])
def test_decide_delivery(name, job, found, expected):
    verdict = decide_delivery(job, found, REGISTRY, now=NOW)
    assert verdict.do is expected, verdict
    if verdict.do is Do.DELIVER:
        assert verdict.endpoint.gln == GP
    if verdict.do is Do.PARK:
        assert verdict.kind == "undeliverable" and GONE in verdict.reason
    if verdict.do is Do.WAIT:
        assert verdict.seconds == 40.0
