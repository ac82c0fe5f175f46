"""``/v1/session``: a person logs in to the console (session cookie + CSRF token), asks who
they are, logs out. The contract is in docs/operations.md ("Logging in")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, status
from pydantic import BaseModel, Field

from gateway.api.operations_auth import (
    SESSION_COOKIE,
    Caller,
    now_of,
    remote_of,
)
from gateway.api.responses import answers, json_body, ok, problems
from gateway.operations import audit, persons
from gateway.operations.principal import for_person

router = APIRouter(prefix="/v1/session", tags=["session"])


class LoginIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1000)


class SessionOut(BaseModel):
    person: str
    role: str
    organisations: list[str]
    sees_all: bool = Field(description="a region or operator organisation: every message")
    csrf_token: str = Field(description="send as X-CSRF-Token on POST/PUT/PATCH/DELETE")
    expires_at: datetime


SESSION_EXAMPLE = {"person": "anne", "role": "operator", "organisations": ["Region Hovedstaden"],
                   "sees_all": True, "csrf_token": "q3J9cV0hYx2bWQ6kL1tN8e",
                   "expires_at": "2026-03-02T18:00:00Z"}


def _out(person: Any, login: persons.Login, registry: Any, remote: str) -> SessionOut:
    who = for_person(person, registry, via="person", remote=remote)
    return SessionOut(person=person.name, role=person.role.value,
                      organisations=list(person.organisations), sees_all=who.glns is None,
                      csrf_token=login.csrf_token, expires_at=login.expires_at)


@router.post("", response_model=SessionOut, summary="Log in (sets the session cookie)",
             responses=answers(ok(SESSION_EXAMPLE, description="logged in"),
                               problems(401, 422, _401="wrong name or password")),
             openapi_extra=json_body({"name": "anne", "password": "a long passphrase"}))
def login(body: LoginIn, request: Request, response: Response) -> SessionOut:
    hub = request.app.state.hub
    now, remote = now_of(request), remote_of(request)
    with hub.store.transaction() as session:
        person = persons.authenticate(session, body.name, body.password)
        if person is None:
            audit.record(session, _anonymous(body.name, remote), "session.login_failed",
                         at=now)
        else:
            started = persons.open_session(session, person, now=now, remote=remote)
            who = for_person(person, hub.registry, via="person", remote=remote)
            audit.record(session, who, "session.login", at=now)
    if person is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong name or password")
    response.set_cookie(SESSION_COOKIE, started.session_id, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/",
                        max_age=int(persons.SESSION_TTL.total_seconds()))
    return _out(person, started, hub.registry, remote)


@router.get("", response_model=SessionOut, summary="Who is logged in",
            responses=answers(ok(SESSION_EXAMPLE, description="the session's person"),
                              problems(401, _401="no session, or it has ended")))
def whoami(request: Request, who: Caller) -> SessionOut:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie or who.csrf_token is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "no console session")
    hub = request.app.state.hub
    with hub.store.transaction() as session:
        found = persons.session_person(session, cookie, now=now_of(request))
    if found is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "no console session")
    return _out(found[0], found[1], hub.registry, remote_of(request))


@router.delete("", status_code=status.HTTP_204_NO_CONTENT, summary="Log out",
               responses=answers({204: {"description": "logged out"}},
                                 problems(401, 403, _401="no session",
                                          _403="X-CSRF-Token missing or wrong")))
def logout(request: Request, who: Caller) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    hub = request.app.state.hub
    with hub.store.transaction() as session:
        if cookie:
            persons.close_session(session, cookie)
        audit.record(session, who, "session.logout", at=now_of(request))
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


def _anonymous(name: str, remote: str) -> Any:
    from gateway.operations.principal import Principal

    return Principal(f"login:{name[:200]}", None, (), frozenset(), remote)
