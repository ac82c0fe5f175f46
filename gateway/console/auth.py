"""Who is using the console: log in, the session cookie, its timeout, and CSRF.

* The session cookie (``medbro_console``) is random, ``HttpOnly``, ``SameSite=Strict``, scoped
  to ``/console`` and ``Secure`` over HTTPS. Only its SHA-256 is kept server-side. A session
  ends after ``MEDBRO_CONSOLE_IDLE_MINUTES`` (default 30) without a request, and after
  ``MEDBRO_CONSOLE_MAX_HOURS`` (default 12) in any case.
* Every state-changing request (a form or an htmx action) carries the session's CSRF token, in
  the form field ``csrf`` or the ``X-CSRF-Token`` header; without it the answer is 403. The
  login form itself is protected by a double-submit cookie (``medbro_console_login``).
* Log in: ``LoginBackend`` turns a name and a secret into a ``ConsoleUser``. The backend here
  takes an organisation's name and its API key (the same identity the JSON API accepts), so the
  console's reading pages work before persons exist; the operations layer's persons and roles
  plug in through the same protocol.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from fastapi import HTTPException, Request, status

from gateway.registry import SLA_OVERVIEW_KINDS, Organisation

COOKIE = "medbro_console"
LOGIN_COOKIE = "medbro_console_login"
PATH = "/console"
ROLES = ("viewer", "operator", "admin")


@dataclass(frozen=True)
class ConsoleUser:
    """A logged-in person (or organisation key): role and what they may see."""

    name: str
    role: str  # viewer | operator | admin
    organisations: tuple[Organisation, ...] = ()
    actor: str = ""  # how the audit names them: person:anne, key:Region H

    @property
    def sees_all(self) -> bool:
        """Region and operator organisations see every organisation's traffic."""
        return any(o.kind in SLA_OVERVIEW_KINDS for o in self.organisations)

    @property
    def glns(self) -> frozenset[str]:
        return frozenset().union(*(o.glns for o in self.organisations))

    @property
    def sla_hospitals(self) -> frozenset[str] | None:
        """The hospitals whose SLA figures they see; None = all (as Organisation.sla_hospitals)."""
        if self.sees_all:
            return None
        return frozenset().union(*(o.hospitals for o in self.organisations))

    @property
    def may_act(self) -> bool:
        return self.role in ("operator", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class LoginBackend(Protocol):
    def authenticate(self, request: Request, name: str, secret: str) -> ConsoleUser | None: ...


class OrganisationKeyLogin:
    """Log in as an organisation of the partner file with one of its API keys.

    Region and operator organisations act as operators (the rights of their machine keys);
    any other organisation only views its own traffic.
    """

    def authenticate(self, request: Request, name: str, secret: str) -> ConsoleUser | None:
        registry = getattr(getattr(request.app.state, "hub", None), "registry", None)
        org = registry.organisation_for_key(secret) if registry is not None and secret else None
        if org is None or not hmac.compare_digest(org.name.casefold(), name.strip().casefold()):
            return None
        role = "operator" if org.kind in SLA_OVERVIEW_KINDS else "viewer"
        return ConsoleUser(org.name, role, (org,), actor=f"key:{org.name}")


@dataclass
class _Session:
    user: ConsoleUser
    csrf: str
    started: float
    seen: float
    remote: str = ""


@dataclass
class SessionStore:
    """Console sessions by the SHA-256 of their cookie, with idle and absolute timeouts."""

    idle_seconds: float = 30 * 60
    max_seconds: float = 12 * 3600
    clock: Any = time.monotonic
    _sessions: dict[str, _Session] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SessionStore:
        env = os.environ if environ is None else environ
        idle = float(env.get("MEDBRO_CONSOLE_IDLE_MINUTES", "30")) * 60
        most = float(env.get("MEDBRO_CONSOLE_MAX_HOURS", "12")) * 3600
        return cls(idle, most)

    def open(self, user: ConsoleUser, remote: str = "") -> tuple[str, str]:
        """A new session: (cookie value, CSRF token)."""
        cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = self.clock()
        with self._lock:
            self._expire(now)
            self._sessions[_digest(cookie)] = _Session(user, csrf, now, now, remote)
        return cookie, csrf

    def get(self, cookie: str | None) -> tuple[ConsoleUser, str] | None:
        """The user and CSRF token of a live session (and it counts as activity)."""
        if not cookie:
            return None
        now = self.clock()
        with self._lock:
            found = self._sessions.get(_digest(cookie))
            if found is None:
                return None
            if now - found.seen > self.idle_seconds or now - found.started > self.max_seconds:
                del self._sessions[_digest(cookie)]
                return None
            found.seen = now
            return found.user, found.csrf

    def close(self, cookie: str | None) -> None:
        if cookie:
            with self._lock:
                self._sessions.pop(_digest(cookie), None)

    def _expire(self, now: float) -> None:
        stale = [k for k, s in self._sessions.items()
                 if now - s.seen > self.idle_seconds or now - s.started > self.max_seconds]
        for key in stale:
            del self._sessions[key]


def _digest(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


def sessions(request: Request) -> SessionStore:
    state = request.app.state
    if getattr(state, "console_sessions", None) is None:
        state.console_sessions = SessionStore.from_env()
    return state.console_sessions


def backend(request: Request) -> LoginBackend:
    return getattr(request.app.state, "console_login", None) or OrganisationKeyLogin()


@dataclass(frozen=True)
class Visit:
    """The user of a request and the CSRF token its forms carry."""

    user: ConsoleUser
    csrf: str


class LoginRequired(HTTPException):
    """Not logged in (or the session ended): go to the login page, then back."""

    def __init__(self, request: Request) -> None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        location = f"{PATH}/login?next={_quote(target)}"
        headers = {"Location": location}
        if request.headers.get("HX-Request"):
            headers["HX-Redirect"] = location  # htmx: a full page change, not a swap
        super().__init__(status.HTTP_303_SEE_OTHER, "log in first", headers=headers)


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="/")


def visit(request: Request) -> Visit:
    """The logged-in user, or a redirect to the login page."""
    found = sessions(request).get(request.cookies.get(COOKIE))
    if found is None:
        raise LoginRequired(request)
    return Visit(*found)


def check_csrf(request: Request, form: Mapping[str, Any], expected: str) -> None:
    """403 unless the request carries ``expected`` (form field ``csrf`` or header)."""
    given = form.get("csrf") or request.headers.get("X-CSRF-Token") or ""
    if not (isinstance(given, str) and expected and hmac.compare_digest(given, expected)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or wrong CSRF token")


def safe_next(target: str | None) -> str:
    """Where to go after logging in: only a console path (no open redirect)."""
    if target and target.startswith(PATH + "/") and not target.startswith("//") \
            and "\\" not in target and "://" not in target:
        return target
    return PATH + "/"


def require(user: ConsoleUser, allowed: Iterable[str]) -> None:
    """403 unless the user's role is one of ``allowed`` (a forged action from a viewer)."""
    if user.role not in tuple(allowed):
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            f"role {user.role!r} may not do this")
