"""``decide_delivery``: what a worker does with one delivery command, decided without IO.

The worker loads what the store holds of the command's interchange (``Stored``) and asks this
function; the verdict table (tests/pipeline/test_delivery_verdict.py, one case per row):

==========================================  ===================================================
command and stored state                    verdict
==========================================  ===================================================
not in the store                            Missing (nack: the broker redelivers, then parks)
``not_before`` still ahead (SLA retry)      Wait: one more delay-tier hop, no attempt
every message handed over                   Skip: the idempotent consumer, acked only
no message ROUTED (parked, rejected...)     Skip: an operator owns it
receiver no longer configured               Park ``undeliverable`` with an operator task
otherwise                                   Deliver to the receiver's endpoint
==========================================  ===================================================

An operator's release or replay (gateway/operations/actions.py) moves the message back to
ROUTED and publishes an ordinary command, decided here like any other; a close moves it to
FAILED, so a command still queued for it is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway.registry import Endpoint, Registry
from gateway.store.states import HANDED_OVER, MessageState

EARLY_TOLERANCE = timedelta(milliseconds=500)


@dataclass(frozen=True)
class DeliveryJob:
    """One delivery command as it came off the queue."""

    interchange_id: str
    not_before: datetime | None = None  # an SLA-scheduled retry's exact due time


@dataclass(frozen=True)
class Stored:
    """What the store holds of the job's interchange."""

    states: tuple[str, ...]
    receiver_gln: str


@dataclass(frozen=True)
class Missing:
    pass


@dataclass(frozen=True)
class Wait:
    seconds: float  # left until ``not_before``


@dataclass(frozen=True)
class Skip:
    reason: str


@dataclass(frozen=True)
class Park:
    kind: str
    reason: str


@dataclass(frozen=True)
class Deliver:
    endpoint: Endpoint


DeliveryVerdict = Missing | Wait | Skip | Park | Deliver


def decide_delivery(job: DeliveryJob, stored: Stored | None, registry: Registry, *,
                    now: datetime) -> DeliveryVerdict:
    """The verdict for ``job``; pure (``registry`` is the loaded configuration)."""
    if stored is None or not stored.states:
        return Missing()
    if job.not_before is not None and job.not_before - now > EARLY_TOLERANCE:
        return Wait((job.not_before - now).total_seconds())
    states = {MessageState(s) for s in stored.states}
    if states <= HANDED_OVER:
        return Skip("already handed over")
    if MessageState.ROUTED not in states:
        return Skip(f"not routed: {', '.join(sorted(states))}")
    endpoint = registry.endpoint(stored.receiver_gln)
    if endpoint is None:
        return Park("undeliverable", f"receiver {stored.receiver_gln} is no longer configured")
    return Deliver(endpoint)


__all__ = ["Deliver", "DeliveryJob", "DeliveryVerdict", "Missing", "Park", "Skip", "Stored",
           "Wait", "decide_delivery"]
