"""One retry vocabulary: tenacity's stop and wait objects, asked outside a retry loop.

medbro never sleeps in a retry loop where it matters: a resend is due in 30 minutes, a
delivery retry travels through the broker's delay tiers, an epikrise's retry is scheduled
against its SLA deadline. So the policies are tenacity's own objects (``wait_exponential``,
``wait_fixed``, ``stop_after_attempt``, ``stop_after_delay``, composed with ``+`` and ``|``),
and this module turns "the n-th attempt of message m, started at s, now t" into the
``RetryCallState`` they read. Policies decide; the caller sleeps, schedules or parks.
Used by gateway/pipeline/resend.py, gateway/pipeline/retries.py and gateway/sla/scheduling.py.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta

import tenacity
from tenacity.stop import stop_base
from tenacity.wait import wait_base

__all__ = ["retry_state", "stable_random", "stop_base", "wait_base", "wait_for",
           "wait_stable_jitter"]


def retry_state(attempt: int, *, key: str = "", started: datetime | None = None,
                now: datetime | None = None) -> tenacity.RetryCallState:
    """The state tenacity's policies read: attempt ``attempt`` (1 = the first) of ``key``,
    ``now - started`` after the first try (for ``stop_after_delay``)."""
    state = tenacity.RetryCallState(retry_object=tenacity.Retrying(), fn=None, args=(),
                                    kwargs={"key": key})
    state.attempt_number = max(attempt, 1)
    if started is not None and now is not None:
        state.start_time = 0.0
        state.outcome_timestamp = (now - started).total_seconds()
    return state


def wait_for(wait: wait_base, attempt: int, key: str = "") -> timedelta:
    """How long ``wait`` waits after failed attempt ``attempt`` of ``key``."""
    return timedelta(seconds=float(wait(retry_state(attempt, key=key))))


def stable_random(key: str, attempt: int) -> float:
    """A number in [0, 1) that depends only on (key, attempt): jitter that a decision repeats."""
    digest = hashlib.blake2b(f"{key}:{attempt}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


class wait_stable_jitter(wait_base):  # noqa: N801 - tenacity's naming
    """A random extra wait in [0, ``fraction`` * ``of``), stable per (key, attempt): spreads a
    backlog's retries while asking twice gives the same answer (tenacity's own jitter draws
    anew each time)."""

    def __init__(self, of: wait_base, fraction: float = 0.1,
                 random: Callable[[str, int], float] = stable_random) -> None:
        self.of, self.fraction, self.random = of, fraction, random

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        key = str(retry_state.kwargs.get("key", ""))
        return self.of(retry_state) * self.fraction * self.random(key,
                                                                  retry_state.attempt_number)
