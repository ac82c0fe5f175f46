"""``decide_delivery`` from a table: delivery command and stored state -> verdict."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.pipeline.delivery_verdict import (
    Deliver,
    DeliveryJob,
    Missing,
    Park,
    Skip,
    Stored,
    Wait,
    decide_delivery,
)
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


# (name, job, stored, expected verdict)
CASES = [
    ("routed: deliver", JOB, stored("routed"), Deliver),
    ("two letters routed", JOB, stored("routed", "routed"), Deliver),
    ("not in the store", JOB, None, Missing),
    ("no messages", JOB, stored(), Missing),
    ("SLA retry not yet due: one more hop", LATER, stored("routed"), Wait(40.0)),
    ("SLA retry within the tolerance: deliver", DUE, stored("routed"), Deliver),
    ("delivered: the idempotent consumer", JOB, stored("delivered"), Skip),
    ("acknowledged", JOB, stored("acknowledged"), Skip),
    ("failed", JOB, stored("failed"), Skip),
    ("parked: an operator owns it", JOB, stored("parked"), Skip),
    ("rejected", JOB, stored("rejected"), Skip),
    ("receiver gone: park", JOB, stored("routed", receiver=GONE), Park),
    ("released or replayed by an operator: routed again", JOB, stored("routed"), Deliver),
]


@pytest.mark.parametrize(("name", "job", "found", "expected"), CASES,
                         ids=[c[0] for c in CASES])
def test_decide_delivery(name, job, found, expected):
    verdict = decide_delivery(job, found, REGISTRY, now=NOW)
    if isinstance(expected, type):
        assert isinstance(verdict, expected), verdict
    else:
        assert verdict == expected
    if isinstance(verdict, Deliver):
        assert verdict.endpoint.gln == GP
    if isinstance(verdict, Park):
        assert verdict.kind == "undeliverable" and GONE in verdict.reason
