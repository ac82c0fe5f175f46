"""Authentication for the operations API: a console session cookie, a personal API token, or an
organisation's ``X-API-Key``; and the permission checks every operations route declares.

* ``Cookie: medbro_session=...`` (set by ``POST /v1/session``). Unsafe methods (POST, PUT,
  PATCH, DELETE) must also send ``X-CSRF-Token`` with the session's token, else 403.
* ``Authorization: Bearer mbt_...``: a person's API token (``medbro users token NAME``).
* ``X-API-Key``: an organisation of the partner file. Kinds ``operator`` and ``region`` act as
  operators (automation); other organisations only search their own messages.

401 when none is given or it is unknown; 403 when the caller may not do this.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import APIKeyCookie, APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from gateway.operations import persons
from gateway.operations.principal import Principal, for_key, for_person
from gateway.operations.roles import Permission

SESSION_COOKIE = "medbro_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="organisation API key")
_bearer = HTTPBearer(auto_error=False, description="personal API token (mbt_...)")
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False,
                       description="console session (POST /v1/session); unsafe methods also "
                                   f"need the {CSRF_HEADER} header")


def now_of(request: Request) -> datetime:
    hub = request.app.state.hub
    clock = getattr(getattr(hub, "ctx", None), "clock", None)
    return clock() if clock is not None else datetime.now(UTC)


def remote_of(request: Request) -> str:
    return request.client.host if request.client is not None else ""


def _unauthorised(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail,
                         headers={"WWW-Authenticate": "Bearer, ApiKey"})


def principal(
    request: Request,
    api_key: Annotated[str | None, Security(_api_key)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    cookie: Annotated[str | None, Security(_cookie)],
) -> Principal:
    """The caller, or 401. (A sync dependency: FastAPI runs its store look-ups in a thread.)"""
    hub = request.app.state.hub
    remote = remote_of(request)
    if api_key:
        org = hub.registry.organisation_for_key(api_key)
        if org is None:
            raise _unauthorised("unknown API key")
        return for_key(org, remote=remote)
    if bearer is not None:
        with hub.store.transaction() as session:
            person = persons.person_for_token(session, bearer.credentials)
        if person is None:
            raise _unauthorised("unknown or revoked API token")
        return for_person(person, hub.registry, via="token", remote=remote)
    if cookie:
        with hub.store.transaction() as session:
            found = persons.session_person(session, cookie, now=now_of(request))
        if found is None:
            raise _unauthorised("the session has ended; log in again (POST /v1/session)")
        person, login = found
        if request.method not in SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(sent.encode(), login.csrf_token.encode()):
                raise HTTPException(status.HTTP_403_FORBIDDEN,
                                    f"the {CSRF_HEADER} header is missing or wrong")
        return for_person(person, hub.registry, via="person", remote=remote,
                          csrf_token=login.csrf_token)
    raise _unauthorised("log in (POST /v1/session), or send a personal API token "
                        "(Authorization: Bearer) or an X-API-Key")


def require(permission: Permission) -> Callable[..., Principal]:
    """A dependency: the caller when their role grants ``permission``, else 403."""

    def check(who: Annotated[Principal, Depends(principal)]) -> Principal:
        if not who.can(permission):
            role = who.role.value if who.role is not None else "an organisation key"
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                f"{who.actor} ({role}) may not {permission.value}")
        return who

    return check


Caller = Annotated[Principal, Depends(principal)]
Searcher = Annotated[Principal, Depends(require(Permission.SEARCH))]
Reader = Annotated[Principal, Depends(require(Permission.READ))]
Actor = Annotated[Principal, Depends(require(Permission.ACT))]
Admin = Annotated[Principal, Depends(require(Permission.ADMIN))]
Reloader = Annotated[Principal, Depends(require(Permission.RELOAD))]


def hub_of(request: Request) -> Any:
    return request.app.state.hub
