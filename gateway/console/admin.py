"""The admin pages: persons (add, change role or organisations, disable) and the access audit.

Both are the operations layer's (gateway.operations.persons, gateway.operations.audit; the same
functions ``medbro users`` and ``GET /v1/audit`` use). Only an admin sees them; a forged
request from another role is refused (403). Every change of a person is written to the audit.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from gateway.api.operations_auth import now_of
from gateway.console.auth import Visit, check_csrf, require, visit
from gateway.console.pages import render
from gateway.errors import LocalUsageError
from gateway.operations import audit, persons
from gateway.operations.roles import Permission, Role

router = APIRouter()

AUDIT_PAGE = 100


def _organisations(request: Request) -> list[str]:
    return sorted(o.name for o in request.app.state.hub.registry.organisations)


@router.get("/persons")
def persons_page(request: Request, v: Annotated[Visit, Depends(visit)]) -> Response:
    require(v.user, Permission.ADMIN)
    with request.app.state.hub.store.transaction() as session:
        people = persons.listing(session)
    return render(request, "persons.html", v, people=people, roles=[r.value for r in Role],
                  organisations=_organisations(request), error=None,
                  done=request.query_params.get("done"))


@router.post("/persons")
async def change_person(request: Request, v: Annotated[Visit, Depends(visit)]) -> Response:
    """Add a person (``password`` given) or change one (role, organisations, disabled)."""
    form = await request.form()
    check_csrf(request, form, v.csrf)
    require(v.user, Permission.ADMIN)
    name = str(form.get("name", "")).strip()
    role = str(form.get("role", "")) or None
    organisations = [str(o) for o in form.getlist("organisation") if o]
    unknown = sorted(set(organisations) - set(_organisations(request)))
    adding = form.get("op") == "add"

    def unit() -> None:
        with request.app.state.hub.store.transaction() as session:
            now = now_of(request)
            if adding:
                persons.add(session, name, role=role or "viewer", organisations=organisations,
                            password=str(form.get("password", "")), now=now)
                audit.record(session, v.user.principal, "person.add", target=f"person:{name}",
                             at=now, role=role, organisations=organisations)
            else:
                disabled = {"yes": True, "no": False}.get(str(form.get("disabled", "")))
                persons.update(session, name, role=role, organisations=organisations or None,
                               disabled=disabled)
                audit.record(session, v.user.principal, "person.update",
                             target=f"person:{name}", at=now, role=role,
                             organisations=organisations or None, disabled=disabled)

    try:
        if unknown:
            raise LocalUsageError(f"no organisation named {', '.join(unknown)} in the partner file")
        await run_in_threadpool(unit)
    except (LocalUsageError, ValueError) as exc:
        with request.app.state.hub.store.transaction() as session:
            people = persons.listing(session)
        return render(request, "persons.html", v, status_code=422, people=people,
                      roles=[r.value for r in Role], organisations=_organisations(request),
                      error=str(exc), done=None)
    return RedirectResponse(f"/console/persons?done={name}", status_code=status.HTTP_303_SEE_OTHER)


@router.get("/audit")
def audit_page(request: Request, v: Annotated[Visit, Depends(visit)]) -> Response:
    require(v.user, Permission.ADMIN)
    params = request.query_params
    before = params.get("before")
    if before is not None and not before.isdigit():
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "before: an audit id")
    with request.app.state.hub.store.transaction() as session:
        page: dict[str, Any] = audit.listing(
            session, actor=params.get("actor") or None, action=params.get("action") or None,
            target=params.get("target") or None, limit=AUDIT_PAGE,
            before_id=int(before) if before else None)
    return render(request, "audit.html", v, items=page["items"], next=page["next"],
                  actor=params.get("actor", ""), action=params.get("action", ""),
                  target=params.get("target", ""))
