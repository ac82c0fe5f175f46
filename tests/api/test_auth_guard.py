"""Failed authentications through the real app: logged with the key masked, slowed, refused.

The hub is real (SQLite, in-process transport); the guard's clock and sleeps are recorded, so
nothing here waits.
"""

from __future__ import annotations

import hashlib

import pytest
import structlog
from apiharness import KEY, running_api

from gateway.api import auth_guard
from gateway.api.throttle import ThrottlePolicy

POLICY = ThrottlePolicy(free_failures=2, first_delay=0.5, max_delay=2.0, lockout_after=5,
                        lockout_seconds=60.0, forget_after=600.0)
WRONG = "not-the-key-0108584947"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def slept(monkeypatch):
    """The delays the guard asked for, instead of sleeping them."""
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    monkeypatch.setattr(auth_guard.asyncio, "sleep", sleep)
    return delays


async def _get(api, key: str | None):
    headers = {"X-API-Key": key} if key is not None else {}
    return await api.client.get("/v1/messages/m-1", headers=headers)


async def test_wrong_keys_are_logged_masked_slowed_then_refused(tmp_path, slept):
    clock = Clock()
    async with running_api(tmp_path, app_options={"auth_policy": POLICY,
                                                  "auth_clock": clock}) as api:
        with structlog.testing.capture_logs() as logs:
            statuses = [(await _get(api, WRONG)).status_code for _ in range(5)]
            locked = await _get(api, KEY)  # even the right key, while the address is locked
        assert statuses == [401] * 5
        assert slept == [0.5, 1.0, 2.0]
        assert locked.status_code == 429
        assert locked.headers["retry-after"] == "60"
        failed = [e for e in logs if e["event"] == "auth_failed"]
        assert [e["failures"] for e in failed] == [1, 2, 3, 4, 5]
        expected = "sha256:" + hashlib.sha256(WRONG.encode()).hexdigest()[:12]
        assert {e["key"] for e in failed} == {expected}
        assert all(e["path"] == "/v1/messages/m-1" and e["client"] for e in failed)
        assert failed[-1]["locked_for"] == 60
        assert WRONG not in repr(logs)
        assert any(e["event"] == "auth_throttled" for e in logs)

        clock.now += 61  # the lock is over: slowed, not free; a success forgets the failures
        slept.clear()
        found = await api.client.get("/v1/messages", headers={"X-API-Key": KEY})
        assert found.status_code == 200, found.text
        assert slept == [2.0]
        assert (await _get(api, WRONG)).status_code == 401
        assert slept == [2.0]  # forgotten after the success: free again


async def test_only_a_success_forgets_failures(tmp_path, slept):
    """A 4xx other than 401 does not reset the count (it may come before authentication)."""
    async with running_api(tmp_path, app_options={"auth_policy": POLICY,
                                                  "auth_clock": Clock()}) as api:
        for _ in range(3):
            assert (await _get(api, WRONG)).status_code == 401
        assert (await _get(api, KEY)).status_code == 404  # no such message: waited 1.0
        assert (await _get(api, WRONG)).status_code == 401  # still 3 failures: waited 1.0
        assert slept == [0.5, 1.0, 1.0]


async def test_a_missing_key_counts_and_is_logged_as_none(tmp_path, slept):
    async with running_api(tmp_path, app_options={"auth_policy": POLICY,
                                                  "auth_clock": Clock()}) as api:
        with structlog.testing.capture_logs() as logs:
            assert (await _get(api, None)).status_code == 401
        [failed] = [e for e in logs if e["event"] == "auth_failed"]
        assert failed["key"] == "none" and failed["failures"] == 1


async def test_the_right_key_is_never_slowed(tmp_path, slept):
    async with running_api(tmp_path, app_options={"auth_policy": POLICY,
                                                  "auth_clock": Clock()}) as api:
        for _ in range(10):
            assert (await _get(api, KEY)).status_code == 404
        assert slept == []


def test_masked_key_is_a_short_hash_never_the_key():
    assert auth_guard.masked_key(None) == "none"
    assert auth_guard.masked_key("") == "none"
    masked = auth_guard.masked_key("demo-hospital-key")
    assert masked == "sha256:fa490b4da00a"  # the partner file's api_key_sha256 starts so
