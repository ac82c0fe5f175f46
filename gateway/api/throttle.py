"""The policy for clients that keep failing to authenticate: slowed, then refused a while.

Pure: ``verdict`` says what a request from a client with this failure history gets (go on,
wait first, or 429 with Retry-After) and ``after_failure`` is the history after one more
failed authentication. The middleware (gateway/api/auth_guard.py) keeps one history per client
address and calls these; nothing else decides.

With the defaults a client gets 5 failures free, then waits 0.5 s, 1 s, 2 s, 4 s, 4 s ... before
each answer, and after 20 failures is refused with 429 for 5 minutes. A client that stays
quiet for 15 minutes after its last failure starts afresh; a successful authentication does too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class ThrottlePolicy:
    free_failures: int = 5  # failures answered without delay
    first_delay: float = 0.5  # seconds before the answer after the free ones, doubled each time
    max_delay: float = 4.0
    lockout_after: int = 20  # failures before the client is refused
    lockout_seconds: float = 300.0  # refused for this long (Retry-After)
    forget_after: float = 900.0  # quiet this long after the last failure: history forgotten


@dataclass(frozen=True)
class Failures:
    """One client's recent failed authentications (times on a monotonic clock, seconds)."""

    count: int
    last_at: float
    locked_until: float = 0.0


@dataclass(frozen=True)
class Verdict:
    delay: float = 0.0  # wait this long, then handle the request
    retry_after: int = 0  # > 0: refuse with 429 and ``Retry-After: retry_after``

    @property
    def refused(self) -> bool:
        return self.retry_after > 0


GO = Verdict()


def _current(failures: Failures | None, now: float, policy: ThrottlePolicy) -> Failures | None:
    """``failures`` unless it is forgotten by now."""
    if failures is None:
        return None
    if now >= failures.locked_until and now - failures.last_at >= policy.forget_after:
        return None
    return failures


def verdict(failures: Failures | None, now: float, policy: ThrottlePolicy) -> Verdict:
    """What a request from a client with ``failures`` gets at ``now``."""
    failures = _current(failures, now, policy)
    if failures is None:
        return GO
    if now < failures.locked_until:
        return Verdict(retry_after=max(1, math.ceil(failures.locked_until - now)))
    beyond = failures.count - policy.free_failures
    if beyond < 0:
        return GO
    return Verdict(delay=min(policy.max_delay, policy.first_delay * 2 ** min(beyond, 32)))


def after_failure(failures: Failures | None, now: float, policy: ThrottlePolicy) -> Failures:
    """The history after one more failed authentication at ``now``."""
    failures = _current(failures, now, policy)
    count = (failures.count if failures is not None else 0) + 1
    locked_until = failures.locked_until if failures is not None else 0.0
    if count >= policy.lockout_after:
        locked_until = max(locked_until, now + policy.lockout_seconds)
    return Failures(count=count, last_at=now, locked_until=locked_until)
