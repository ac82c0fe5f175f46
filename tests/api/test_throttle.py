"""The throttle policy for failed authentications, from a table of histories."""

from __future__ import annotations

import pytest

from gateway.api.throttle import GO, Failures, ThrottlePolicy, Verdict, after_failure, verdict

P = ThrottlePolicy(free_failures=5, first_delay=0.5, max_delay=4.0, lockout_after=20,
                   lockout_seconds=300.0, forget_after=900.0)


@pytest.mark.parametrize(
    ("failures", "now", "expected"),
    [
        (None, 1000.0, GO),
        (Failures(count=1, last_at=999.0), 1000.0, GO),
        (Failures(count=4, last_at=999.0), 1000.0, GO),
        (Failures(count=5, last_at=999.0), 1000.0, Verdict(delay=0.5)),
        (Failures(count=6, last_at=999.0), 1000.0, Verdict(delay=1.0)),
        (Failures(count=7, last_at=999.0), 1000.0, Verdict(delay=2.0)),
        (Failures(count=8, last_at=999.0), 1000.0, Verdict(delay=4.0)),
        (Failures(count=19, last_at=999.0), 1000.0, Verdict(delay=4.0)),  # capped
        (Failures(count=10**6, last_at=999.0), 1000.0, Verdict(delay=4.0)),  # no overflow
        # locked: refused with the seconds left, rounded up, at least 1
        (Failures(count=20, last_at=999.0, locked_until=1299.0), 1000.0,
         Verdict(retry_after=299)),
        (Failures(count=20, last_at=999.0, locked_until=1000.2), 1000.0, Verdict(retry_after=1)),
        # lock over: slowed again, not free
        (Failures(count=20, last_at=999.0, locked_until=1299.0), 1299.0, Verdict(delay=4.0)),
        # quiet for forget_after after the last failure: forgotten
        (Failures(count=8, last_at=100.0), 1000.0, GO),
        (Failures(count=8, last_at=100.1), 1000.0, Verdict(delay=4.0)),
        (Failures(count=30, last_at=0.0, locked_until=2000.0), 1000.0, Verdict(retry_after=1000)),
    ],
)
def test_verdict(failures, now, expected):
    assert verdict(failures, now, P) == expected


@pytest.mark.parametrize(
    ("failures", "now", "expected"),
    [
        (None, 10.0, Failures(count=1, last_at=10.0)),
        (Failures(count=3, last_at=5.0), 10.0, Failures(count=4, last_at=10.0)),
        (Failures(count=18, last_at=5.0), 10.0, Failures(count=19, last_at=10.0)),
        (Failures(count=19, last_at=5.0), 10.0,
         Failures(count=20, last_at=10.0, locked_until=310.0)),
        # a failure right after a lock ends locks again
        (Failures(count=20, last_at=10.0, locked_until=310.0), 311.0,
         Failures(count=21, last_at=311.0, locked_until=611.0)),
        # forgotten history starts at one
        (Failures(count=19, last_at=5.0), 905.0, Failures(count=1, last_at=905.0)),
    ],
)
def test_after_failure(failures, now, expected):
    assert after_failure(failures, now, P) == expected


def test_a_burst_of_wrong_keys_is_slowed_then_refused():
    failures, now, answers = None, 0.0, []
    for _ in range(25):
        decided = verdict(failures, now, P)
        answers.append("429" if decided.refused else f"wait {decided.delay}" if decided.delay
                       else "401")
        if decided.refused:
            continue
        now += decided.delay
        failures = after_failure(failures, now, P)
    assert answers == (["401"] * 5 + ["wait 0.5", "wait 1.0", "wait 2.0"] + ["wait 4.0"] * 12
                       + ["429"] * 5)
