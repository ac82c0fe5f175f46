"""Who is using the console: the operations layer's persons, sessions and roles, and CSRF.

The console does not keep sessions of its own. Logging in is ``POST /v1/session``'s own handler
(gateway.api.operations_session.login: argon2 check, audit, a session row), so a console login
is an operations-API session too: the cookie ``medbro_session`` is random, ``HttpOnly``,
``SameSite=Strict``, ``Secure`` over HTTPS, kept server-side as its SHA-256, and ends after
``persons.SESSION_TTL`` (one working shift) or at log-out.

Every state-changing request from a page (a form or an htmx action) carries the session's CSRF
token, in the form field ``csrf`` or the ``X-CSRF-Token`` header, else 403. The login form
itself is protected by a double-submit cookie (``medbro_console_login``).

What a person may see and do is the operations layer's ``Principal`` (visibility from their
organisations, permissions from their role, gateway.operations.roles); ``ConsoleUser`` only
names its parts for the templates.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request, status

from gateway.api.operations_auth import SESSION_COOKIE, now_of, remote_of
from gateway.operations import persons
from gateway.operations.principal import Principal, for_person
from gateway.operations.roles import Permission

COOKIE = SESSION_COOKIE
LOGIN_COOKIE = "medbro_console_login"
PATH = "/console"


@dataclass(frozen=True)
class ConsoleUser:
    """A logged-in person: their name and the operations layer's ``Principal``."""

    name: str
    principal: Principal

    @property
    def role(self) -> str:
        return self.principal.role.value if self.principal.role is not None else "viewer"

    @property
    def sees_all(self) -> bool:
        """A region or operator organisation: every organisation's traffic."""
        return self.principal.glns is None

    @property
    def glns(self) -> frozenset[str]:
        return self.principal.glns or frozenset()

    @property
    def sla_hospitals(self) -> frozenset[str] | None:
        """The hospitals whose SLA figures they see; None = all."""
        return self.principal.hospitals

    @property
    def may_act(self) -> bool:
        return self.principal.can(Permission.ACT)

    @property
    def is_admin(self) -> bool:
        return self.principal.can(Permission.ADMIN)

    @property
    def actor(self) -> str:
        return self.principal.actor


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
    """The logged-in person, or a redirect to the login page."""
    cookie = request.cookies.get(COOKIE)
    hub = request.app.state.hub
    found = None
    if cookie:
        with hub.store.transaction() as session:
            found = persons.session_person(session, cookie, now=now_of(request))
    if found is None:
        raise LoginRequired(request)
    person, login = found
    who = for_person(person, hub.registry, via="person", remote=remote_of(request),
                     csrf_token=login.csrf_token)
    return Visit(ConsoleUser(person.name, who), login.csrf_token)


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


def require(user: ConsoleUser, permission: Permission) -> None:
    """403 unless the user's role grants ``permission`` (a forged action from a viewer)."""
    if not user.principal.can(permission):
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            f"{user.actor} ({user.role}) may not {permission.value}")
