"""``decide_delivery``: what a worker does with one delivery command, decided without IO.

The worker loads what the store holds of the command's interchange (``Stored``) and asks this
function; the verdict table (tests/pipeline/test_delivery_verdict.py, one case per row):

==========================================  ===================================================
command and stored state                    verdict
==========================================  ===================================================
not in the store                            MISSING (nack: the broker redelivers, then parks)
``not_before`` still ahead (SLA retry)      WAIT: one more delay-tier hop, no attempt
every message handed over                   SKIP: the idempotent consumer, acked only
no message ROUTED (parked, rejected...)     SKIP: an operator owns it
receiver no longer configured               PARK ``undeliverable`` with an operator task
otherwise                                   DELIVER to the receiver's endpoint
==========================================  ===================================================

An operator's release or replay (gateway/operations/actions.py) moves the message back to
ROUTED and publishes an ordinary command, decided here like any other; a close moves it to
FAILED, so a command still queued for it is skipped.
"""

from __future__ import annotations

import enum
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


class Do(enum.StrEnum):
    MISSING = "missing"  # not in the store: nack (a command for another database, or a bug);
    #                      the broker's delivery limit parks it in the parking queue
    WAIT = "wait"  # an SLA retry back from a delay tier early: one more hop, no attempt
    SKIP = "skip"  # ack, nothing else (the idempotent consumer, or an operator owns it)
    PARK = "park"  # give up now, with an operator task of ``kind``
    DELIVER = "deliver"  # hand it to ``endpoint``'s channel


@dataclass(frozen=True)
class DeliveryVerdict:
    do: Do
    reason: str = ""
    seconds: float = 0.0  # WAIT: left until ``not_before``
    kind: str = ""  # PARK: the operator task's kind
    endpoint: Endpoint | None = None  # DELIVER


def decide_delivery(job: DeliveryJob, stored: Stored | None, registry: Registry, *,
                    now: datetime) -> DeliveryVerdict:
    """The verdict for ``job``; pure (``registry`` is the loaded configuration)."""
    if stored is None or not stored.states:
        return DeliveryVerdict(Do.MISSING, f"interchange {job.interchange_id} is not in the store")
    if job.not_before is not None and job.not_before - now > EARLY_TOLERANCE:
        return DeliveryVerdict(Do.WAIT, "not yet due",
                               seconds=(job.not_before - now).total_seconds())
    states = {MessageState(s) for s in stored.states}
    if states <= HANDED_OVER:
        return DeliveryVerdict(Do.SKIP, "already handed over")
    if MessageState.ROUTED not in states:
        return DeliveryVerdict(Do.SKIP, f"not routed: {', '.join(sorted(states))}")
    endpoint = registry.endpoint(stored.receiver_gln)
    if endpoint is None:
        return DeliveryVerdict(Do.PARK, f"receiver {stored.receiver_gln} is no longer configured",
                               kind="undeliverable")
    return DeliveryVerdict(Do.DELIVER, endpoint=endpoint)


__all__ = ["DeliveryJob", "DeliveryVerdict", "Do", "Stored", "decide_delivery"]
