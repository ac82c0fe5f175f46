"""Console sessions: idle and absolute timeouts, closing, and who a login makes of a key."""

from __future__ import annotations

import pytest

from gateway.console.auth import ConsoleUser, SessionStore, safe_next
from gateway.registry import Organisation


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


USER = ConsoleUser("anne", "operator")


def test_a_session_ends_after_the_idle_timeout() -> None:
    clock = Clock()
    store = SessionStore(idle_seconds=60, max_seconds=3600, clock=clock)
    cookie, csrf = store.open(USER)
    clock.now += 59
    assert store.get(cookie) == (USER, csrf)  # and this counts as activity
    clock.now += 59
    assert store.get(cookie) == (USER, csrf)
    clock.now += 61
    assert store.get(cookie) is None
    assert store.get(cookie) is None  # and stays ended


def test_a_busy_session_still_ends_at_the_absolute_limit() -> None:
    clock = Clock()
    store = SessionStore(idle_seconds=60, max_seconds=300, clock=clock)
    cookie, _ = store.open(USER)
    for _ in range(5):
        clock.now += 50
        assert store.get(cookie) is not None
    clock.now += 51
    assert store.get(cookie) is None


def test_closed_and_unknown_sessions_are_nobody() -> None:
    store = SessionStore()
    cookie, _ = store.open(USER)
    store.close(cookie)
    assert store.get(cookie) is None
    assert store.get("made-up") is None and store.get(None) is None and store.get("") is None


def test_each_session_has_its_own_cookie_and_csrf_token() -> None:
    store = SessionStore()
    first, second = store.open(USER), store.open(USER)
    assert len({*first, *second}) == 4


def test_timeouts_come_from_the_environment() -> None:
    store = SessionStore.from_env({"MEDBRO_CONSOLE_IDLE_MINUTES": "5",
                                   "MEDBRO_CONSOLE_MAX_HOURS": "1"})
    assert (store.idle_seconds, store.max_seconds) == (300, 3600)


@pytest.mark.parametrize(("kinds", "sees_all", "hospitals"), [
    (("region",), True, None),
    (("operator",), True, None),
    (("hospital",), False, frozenset({"1301"})),
    (("hospital", "hospital"), False, frozenset({"1301", "1330"})),
    (("hospital", "region"), True, None),
])
def test_what_a_user_sees_follows_their_organisations(kinds, sees_all, hospitals) -> None:
    orgs = tuple(Organisation(f"o{i}", frozenset({f"579000000000{i}"}), (),
                              frozenset({("1301", "1330")[i]}), kind)
                 for i, kind in enumerate(kinds))
    user = ConsoleUser("x", "viewer", orgs)
    assert user.sees_all is sees_all
    assert user.sla_hospitals == hospitals
    assert user.glns == frozenset(f"579000000000{i}" for i in range(len(kinds)))


@pytest.mark.parametrize(("target", "safe"), [
    ("/console/sla?from=2025-01-01", "/console/sla?from=2025-01-01"),
    ("/console/", "/console/"),
    ("/console", "/console/"),
    ("https://evil.example/console/", "/console/"),
    ("//evil.example", "/console/"),
    ("/console/\\\\evil", "/console/"),
    (None, "/console/"),
])
def test_after_login_only_console_paths(target, safe) -> None:
    assert safe_next(target) == safe
