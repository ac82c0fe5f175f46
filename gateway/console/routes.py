"""The console's router (entry point ``medbro.routers`` ``console``): every page under /console.

Mounted by ``medbro api`` like the JSON routers. Besides the pages of the other modules it
serves the login and logout, and the console's static files (its stylesheet and script, and the
vendored htmx and Chart.js with their licences) from the package itself: nothing is loaded from
another host at run time, because hospitals' networks are closed.
"""

from __future__ import annotations

import secrets
from importlib.resources import files
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from gateway.api.operations_session import LoginIn
from gateway.api.operations_session import login as open_session
from gateway.api.operations_session import logout as close_session
from gateway.console import admin, auth, cases, endpoints, messages, overview, sla, tasks
from gateway.console.auth import COOKIE, LOGIN_COOKIE, PATH, Visit, visit
from gateway.console.pages import render

router = APIRouter(prefix=PATH, include_in_schema=False)

# The files /console/static/ serves: name -> media type. Nothing else is readable.
STATIC = {
    "console.css": "text/css; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
    "vendor/htmx-2.0.11.min.js": "text/javascript; charset=utf-8",
    "vendor/chart-4.6.1.umd.min.js": "text/javascript; charset=utf-8",
    "vendor/htmx.LICENSE.txt": "text/plain; charset=utf-8",
    "vendor/chart.js.LICENSE.md": "text/plain; charset=utf-8",
}


@router.get("/static/{name:path}")
def static(name: str) -> Response:
    media_type = STATIC.get(name)
    if media_type is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such file")
    body = files("gateway.console").joinpath("static", *name.split("/")).read_bytes()
    return Response(body, media_type=media_type, headers={
        "Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"})


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


@router.get("/login")
def login_form(request: Request, next: str = "") -> Response:  # noqa: A002 - query name
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", None, next=auth.safe_next(next), login_csrf=token,
                      error=None)
    response.set_cookie(LOGIN_COOKIE, token, path=PATH, httponly=True, samesite="strict",
                        secure=_secure(request), max_age=3600)
    return response


@router.post("/login")
async def login(request: Request) -> Response:
    """The operations layer's own login (``POST /v1/session``: argon2, audit, session row)."""
    form = await request.form()
    auth.check_csrf(request, form, request.cookies.get(LOGIN_COOKIE, ""))
    target = auth.safe_next(str(form.get("next", "")))
    response = RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)
    try:
        body = LoginIn(name=str(form.get("name", "")), password=str(form.get("password", "")))
        await run_in_threadpool(open_session, body, request, response)  # sets the cookie
    except (ValidationError, HTTPException):
        token = secrets.token_urlsafe(24)
        refused = render(request, "login.html", None, status_code=401, next=target,
                         login_csrf=token, error="wrong")
        refused.set_cookie(LOGIN_COOKIE, token, path=PATH, httponly=True, samesite="strict",
                           secure=_secure(request), max_age=3600)
        return refused
    response.delete_cookie(LOGIN_COOKIE, path=PATH)
    return response


@router.post("/logout")
async def logout(request: Request, v: Annotated[Visit, Depends(visit)]) -> Response:
    auth.check_csrf(request, await request.form(), v.csrf)
    await run_in_threadpool(close_session, request, v.user.principal)  # ends it, audited
    response = RedirectResponse(f"{PATH}/login", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response


for page in (overview, messages, tasks, sla, cases, endpoints, admin):
    router.include_router(page.router)
