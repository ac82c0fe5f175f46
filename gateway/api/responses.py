"""What the API answers, declared once: one error shape for every 4xx (and 503), the error
answers each operation documents, and the helpers that put examples into ``/openapi.json``.

Every router declares its answers with these helpers, so the schema tells the truth in one
vocabulary::

    @router.get("/{case_ref}", responses=answers(ok(CASE), problems(401, 404, 503)))

``install(app)`` makes the real bodies match: every ``HTTPException`` and every request that
fails validation is answered as a ``Problem`` (``{"detail": "...", "errors": [{"field",
"message"}]}``), and the schema's 422 answers name ``Problem`` instead of FastAPI's
``HTTPValidationError``, so an operation that declares nothing is still described truly.
tests/api/test_openapi_contract.py walks the schema; tests/api/test_schemathesis.py fuzzes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

JSON = "application/json"


class FieldProblem(BaseModel):
    """One wrong field: where (``body.patient_cpr``, ``query.limit``, ``lae265.in_reply_to``)
    and what is wrong with it."""

    field: str
    message: str


class Problem(BaseModel):
    """The body of every error answer: ``detail`` says what is wrong in one sentence;
    ``errors`` names each wrong field when there are any."""

    detail: str
    errors: list[FieldProblem] = Field(default_factory=list)


class Refused(Problem):
    """An interchange that was stored but will not be delivered (422), with the receipt owed
    to the sender (a CONTRL interchange as ISO-8859-1 text)."""

    error: str
    state: str | None = None
    message_ids: list[str] = Field(default_factory=list)
    duplicate: bool = False
    receipt: str | None = None


# Each error status: what it means in this API, and an example body.
ERRORS: dict[int, tuple[str, str]] = {
    400: ("the body cannot be read: empty, not JSON, or an envelope that is not well formed",
          "empty body: send one interchange"),
    401: ("no X-API-Key header, or a key that no organisation in the partner file has",
          "X-API-Key header is required"),
    403: ("the organisation may not do this: another organisation's GLN, hospital or "
          "municipality", "organisation 'Region Hovedstaden' may not send as GLN 5790000128686"),
    404: ("no such resource among the organisation's own", "no case 'K-2026-0001'"),
    409: ("the case is not in a state that allows this step",
          "send_recommendation is not allowed in state screening"),
    413: ("the body is larger than the limit", "body over 20971520 bytes"),
    415: ("the body is not of a media type (or format) this operation takes",
          "content type 'text/plain' is not one of application/edi-edifact, application/"
          "edifact, application/octet-stream"),
    422: ("the request is well formed but wrong: ``errors`` names each wrong field",
          "the request is not valid: query.limit: Input should be greater than or equal to 1"),
    429: ("too many requests from this organisation: wait ``Retry-After`` seconds",
          "too many requests: try again in 1 s"),
    503: ("the store, the broker or a configuration this needs is unavailable: nothing was "
          "done; send it again (``Retry-After``)",
          "the message could not be stored and is not accepted; send it again"),
}
_EXAMPLE_ERRORS = {422: [{"field": "query.limit",
                          "message": "Input should be greater than or equal to 1"}]}


def problems(*codes: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """The error answers an operation really gives, each a ``Problem`` with an example;
    ``descriptions`` (``_403="..."``) replace the standard meaning for this operation."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        meaning, example = ERRORS[code]
        body: dict[str, Any] = {"detail": example}
        if code in _EXAMPLE_ERRORS:
            body["errors"] = _EXAMPLE_ERRORS[code]
        out[code] = {"model": Problem, "description": descriptions.get(f"_{code}", meaning),
                     "content": {JSON: {"example": body}}}
    return out


def ok(example: Any, *, status: int = 200, description: str = "done", media: str = JSON,
       other_media: Mapping[str, str] | None = None) -> dict[int | str, dict[str, Any]]:
    """A success answer with an example body; ``other_media`` (``{"text/csv": "..."}``) adds
    the examples of the other media types the same answer can have."""
    content: dict[str, Any] = {media: {"example": example}}
    for name, other in (other_media or {}).items():
        content[name] = {"schema": {"type": "string"}, "example": other}
    return {status: {"description": description, "content": content}}


def answers(*parts: Mapping[int | str, dict[str, Any]]) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: the parts merged (a later part adds to an earlier one)."""
    out: dict[int | str, dict[str, Any]] = {}
    for part in parts:
        for code, entry in part.items():
            out[code] = {**out.get(code, {}), **entry}
    return out


def json_body(example: Any) -> dict[str, Any]:
    """``openapi_extra=`` adding an example to a JSON body FastAPI declares from its model."""
    return {"requestBody": {"content": {JSON: {"example": example}}}}


def raw_body(description: str, media: Mapping[str, str]) -> dict[str, Any]:
    """``openapi_extra=`` declaring a raw body (a route that reads ``request.body()``): each
    media type it takes, with a real example of it."""
    content = {name: {"schema": {"type": "string", "format": "binary"}, "example": example}
               for name, example in media.items()}
    return {"requestBody": {"required": True, "description": description, "content": content}}


def refusal(body: Mapping[str, Any]) -> JSONResponse:
    """The 422 of an interchange stored but refused (``Refused``): ``detail`` is its ``error``."""
    return JSONResponse({"detail": body["error"], "errors": [], **body}, status_code=422)


# -- the real bodies -------------------------------------------------------------------------


def problem_body(detail: Any) -> dict[str, Any]:
    """Any ``HTTPException`` detail as a ``Problem``: a text, a list of field errors
    (``{"field", "message"}``, as the forms give them) or a problem already."""
    if isinstance(detail, Mapping) and isinstance(detail.get("detail"), str):
        return {"errors": [], **detail}
    if isinstance(detail, list):
        errors = [{"field": str(e.get("field", "?")), "message": str(e.get("message", e))}
                  if isinstance(e, Mapping) else {"field": "?", "message": str(e)}
                  for e in detail]
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return {"detail": f"the request is not valid: {summary}", "errors": errors}
    return {"detail": str(detail), "errors": []}


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    headers = getattr(exc, "headers", None)
    if exc.status_code == 405:
        headers = {**(headers or {}), "Allow": allowed_methods(request)}
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=headers)
    return JSONResponse(problem_body(exc.detail), status_code=exc.status_code, headers=headers)


def allowed_methods(request: Request) -> str:
    """Every method of every route at this path (Starlette names only the first route's)."""
    path = request.url.path
    methods = {m for route in request.app.routes
               if getattr(route, "methods", None) and route.path_regex.fullmatch(path)
               for m in route.methods}
    return ", ".join(sorted(methods))


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [{"field": ".".join(str(p) for p in err.get("loc", ())) or "request",
               "message": str(err.get("msg", ""))} for err in exc.errors()]
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return JSONResponse(jsonable_encoder(
        {"detail": f"the request is not valid: {summary}", "errors": errors}), status_code=422)


def install(app: FastAPI) -> None:
    """Answer every error as a ``Problem`` and say so in the schema (see the module docstring)."""
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = describe_validation_as_problem(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


_FASTAPI_VALIDATION = "#/components/schemas/HTTPValidationError"


def describe_validation_as_problem(schema: dict[str, Any]) -> dict[str, Any]:
    """Replace FastAPI's automatic 422 (``HTTPValidationError``) by the ``Problem`` that
    ``install`` really answers with, declare the 400 FastAPI gives to a JSON body that does not
    parse and the 429 (with ``Retry-After``) the auth guard gives before every operation that
    checks a key, and drop the components nothing refers to any more."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, model in (("FieldProblem", FieldProblem), ("Problem", Problem)):
        if name not in components:
            definition = model.model_json_schema(ref_template="#/components/schemas/{model}")
            definition.pop("$defs", None)
            components[name] = definition
    declared = problems(422)[422]
    throttled = problems(429)[429]
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            answers_ = operation.get("responses", {})
            if "401" in answers_ and "429" not in answers_:
                # the auth guard (gateway/api/auth_guard.py) refuses a client after repeated
                # failed keys, before any route runs: every operation that checks a key can
                # answer 429
                answers_["429"] = {
                    "description": throttled["description"],
                    "headers": {"Retry-After": {
                        "description": "seconds to wait before the next request",
                        "schema": {"type": "integer"}}},
                    "content": {JSON: {"schema": {"$ref": "#/components/schemas/Problem"},
                                       **throttled["content"][JSON]}}}
            if JSON in operation.get("requestBody", {}).get("content", {}) and (
                    "400" not in operation.get("responses", {})):
                operation["responses"]["400"] = {  # FastAPI's answer to a body that is no JSON
                    "description": "the body is not JSON",
                    "content": {JSON: {"schema": {"$ref": "#/components/schemas/Problem"},
                                       "example": {"detail": "There was an error parsing the "
                                                   "body", "errors": []}}}}
            entry = operation.get("responses", {}).get("422")
            if entry and entry.get("content", {}).get(JSON, {}).get("schema", {}).get(
                    "$ref") == _FASTAPI_VALIDATION:
                operation["responses"]["422"] = {
                    "description": declared["description"],
                    "content": {JSON: {"schema": {"$ref": "#/components/schemas/Problem"},
                                       **declared["content"][JSON]}}}
    if _FASTAPI_VALIDATION not in repr(schema.get("paths", {})):
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
    return schema
