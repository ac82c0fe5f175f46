"""The tasks page: open operator and SLA tasks in one list, resolved with a note.

The list and the resolving are the operations layer's (gateway.operations.tasks, as
``GET /v1/tasks`` and ``POST /v1/tasks/{id}/resolve``): who sees which task, idempotence and
the audit are decided there. Only a role that may act sees the resolve form; a forged resolve
from a viewer is refused (403).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from gateway.api.operations_auth import now_of
from gateway.console.auth import Visit, check_csrf, require, visit
from gateway.console.pages import render
from gateway.operations import tasks
from gateway.operations.roles import Permission

router = APIRouter()

LIMIT = 200


@router.get("/tasks")
def tasks_page(request: Request, v: Annotated[Visit, Depends(visit)]) -> Response:
    require(v.user, Permission.READ)
    state = request.query_params.get("state", "open")
    state = state if state in ("open", "resolved") else "open"
    with request.app.state.hub.store.transaction() as session:
        items = tasks.listing(session, v.user.principal, state=state, limit=LIMIT)
    return render(request, "tasks.html", v, items=items, state=state, limit=LIMIT,
                  done=request.query_params.get("done"))


@router.post("/tasks/{task_id}/resolve")
async def resolve(task_id: str, request: Request,
                  v: Annotated[Visit, Depends(visit)]) -> Response:
    form = await request.form()
    check_csrf(request, form, v.csrf)
    require(v.user, Permission.ACT)
    note = str(form.get("note", "")).strip()
    if not note:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "note: write what was done")

    def unit() -> None:
        with request.app.state.hub.store.transaction() as session:
            tasks.resolve(session, task_id, who=v.user.principal, note=note,
                          now=now_of(request))

    try:
        await run_in_threadpool(unit)
    except tasks.TaskNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    return RedirectResponse(f"/console/tasks?done={task_id}",
                            status_code=status.HTTP_303_SEE_OTHER)
