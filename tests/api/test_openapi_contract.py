"""The API explains itself: a walk over /openapi.json of the app with every installed router
(so a route another change adds must comply too), and the real error bodies against the one
``Problem`` shape the schema declares (gateway/api/responses.py)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from lxml import etree

from gateway.api import examples
from gateway.api.app import create_app
from gateway.api.responses import Problem, Refused
from gateway.pipeline import Hub
from gateway.registry import Registry, hash_api_key
from gateway.settings import Settings

HOSPITAL, GP = "5790000120420", "5790000128686"
KEY = {"X-API-Key": "hospital-key"}
PARTNERS = {
    "endpoints": [
        {"gln": HOSPITAL, "name": "Hillerød Hospital", "kind": "hospital",
         "channel": {"kind": "local"}},
        {"gln": GP, "name": "Lægehuset", "kind": "gp", "accepts": [{"type": "DIS01"}],
         "channel": {"kind": "local"}},
    ],
    "organisations": [{"name": "Hillerød Hospital", "glns": [HOSPITAL], "hospitals": ["1301"],
                       "api_key_sha256": [hash_api_key("hospital-key")]}],
}
METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.fixture
def app(tmp_path):
    hub = Hub(Settings.load(database_url=f"sqlite:///{tmp_path}/medbro.db"),
              Registry.from_dict(PARTNERS))
    return create_app(hub)


@pytest.fixture
def schema(app) -> dict[str, Any]:
    return app.openapi()


def operations(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(f"{method.upper()} {path}", op) for path, item in schema["paths"].items()
            for method, op in item.items() if method in METHODS]


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def has_example(media: dict[str, Any], schema: dict[str, Any]) -> bool:
    return bool(media.get("example") is not None or media.get("examples")
                or resolve(schema, media.get("schema", {})).get("examples"))


def without_examples(schema: dict[str, Any]) -> list[str]:
    """What lacks an example: request bodies, path parameters and answers of every operation."""
    missing = []
    for name, op in operations(schema):
        for media_type, media in op.get("requestBody", {}).get("content", {}).items():
            if not has_example(media, schema):
                missing.append(f"{name}: request body {media_type}")
        for param in op.get("parameters", []):
            if param.get("in") == "path" and not (
                    param.get("example") or param.get("examples")
                    or param.get("schema", {}).get("examples")):
                missing.append(f"{name}: path parameter {param['name']}")
        answers = op["responses"]
        if not any(code.startswith("2") for code in answers):
            missing.append(f"{name}: no success answer")
        for code, answer in answers.items():
            for media_type, media in answer.get("content", {}).items():
                if not has_example(media, schema):
                    missing.append(f"{name}: answer {code} {media_type}")
    return missing


def keyed_without_401(schema: dict[str, Any]) -> list[str]:
    return [name for name, op in operations(schema)
            if op.get("security") and "401" not in op["responses"]]


def test_every_operation_has_example_requests_and_answers(schema):
    missing = without_examples(schema)
    assert missing == [], "operations without examples:\n" + "\n".join(missing)


def test_every_operation_that_needs_a_key_documents_401(schema):
    assert len(operations(schema)) >= 18
    assert any(op.get("security") for _, op in operations(schema))
    assert keyed_without_401(schema) == []


def test_every_operation_that_checks_a_key_documents_the_throttles_429(schema):
    """The auth guard answers 429 with Retry-After before any route that checks a key."""
    keyed = [(name, op) for name, op in operations(schema) if "401" in op["responses"]]
    assert len(keyed) >= 18
    wrong = [name for name, op in keyed
             if "Retry-After" not in op["responses"].get("429", {}).get("headers", {})
             or not has_example(op["responses"]["429"]["content"]["application/json"], schema)]
    assert wrong == []


def test_the_walk_finds_a_route_that_explains_nothing(app):
    """A route added without declarations (as a new router might be) fails both walks."""
    from fastapi import APIRouter, Depends

    from gateway.api.messages import organisation

    bare = APIRouter()

    @bare.post("/v1/bare/{thing}")
    async def bare_route(thing: str, body: dict[str, str], org=Depends(organisation)):  # noqa: B008
        return {}

    app.include_router(bare)
    app.openapi_schema = None
    schema = app.openapi()
    assert {"POST /v1/bare/{thing}: request body application/json",
            "POST /v1/bare/{thing}: path parameter thing",
            "POST /v1/bare/{thing}: answer 200 application/json"} <= set(
                without_examples(schema))
    assert keyed_without_401(schema) == ["POST /v1/bare/{thing}"]


def test_every_4xx_answer_is_the_one_problem_shape(schema):
    assert "HTTPValidationError" not in repr(schema)
    wrong = []
    for name, op in operations(schema):
        for code, answer in op["responses"].items():
            if not code.startswith("4"):
                continue
            body = answer.get("content", {}).get("application/json")
            shape = resolve(schema, body["schema"]) if body and "schema" in body else {}
            if "detail" not in shape.get("required", []):
                wrong.append(f"{name} {code}")
                continue
            (Refused if "receipt" in shape.get("properties", {}) else Problem).model_validate(
                body["example"])
    assert wrong == []


def test_post_messages_lists_exactly_the_media_types_it_takes(schema):
    content = schema["paths"]["/v1/messages"]["post"]["requestBody"]["content"]
    assert sorted(content) == ["application/edi-edifact", "application/edifact",
                               "application/octet-stream", "application/xml"]
    for path in ("/v1/hospital/letters", "/v1/hospital/discharges"):
        assert schema["paths"][path]["post"]["requestBody"]["required"] is True


def test_the_example_bodies_are_real_messages():
    from adapters.vans.envelope import parse
    from gateway.edifact.reader import parse as parse_edifact
    from gateway.forms import Lae261, from_xml

    interchange = parse_edifact(examples.DIS01_EDIFACT.encode("latin-1"))
    letter = interchange.messages[0].letter
    assert (letter.type, interchange.sender, interchange.recipient) == ("DIS01", HOSPITAL, GP)
    assert etree.fromstring(examples.DIS01_OIOXML.encode()).tag.endswith("Emessage")
    envelope = parse(examples.DIS01_VANS_ENVELOPE.encode())
    assert envelope.message.data == examples.DIS01_EDIFACT.encode()
    assert isinstance(from_xml(examples.LAE261_XML.encode()), Lae261)


async def call(app, method: str, url: str, **kw: Any) -> httpx.Response:
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://medbro") as client:
        return await client.request(method, url, **kw)


@pytest.mark.parametrize(("method", "url", "kw", "status", "field"), [
    ("GET", "/v1/sla/report", {}, 401, None),
    ("GET", "/v1/messages/nope", {"headers": KEY}, 404, None),
    ("GET", "/v1/sla/report?format=", {"headers": KEY}, 422, "query.format"),
    ("GET", "/v1/sla/report?from=2026-13-01", {"headers": KEY}, 422, None),
    ("GET", "/v1/sla/worklist?limit=0", {"headers": KEY}, 422, "query.limit"),
    ("POST", "/v1/discharges", {"headers": KEY, "json": {"hospital": "1301"}}, 422,
     "body.department"),
    ("POST", "/v1/messages", {"headers": {**KEY, "Content-Type": "text/plain"},
                              "content": b"x"}, 415, None),
    ("POST", "/v1/hospital/letters", {"headers": KEY, "content": b""}, 400, None),
    ("GET", "/no/such/route", {}, 404, None),
])
async def test_error_bodies_are_problems(app, method, url, kw, status, field):
    response = await call(app, method, url, **kw)
    assert response.status_code == status, response.text
    problem = Problem.model_validate(response.json())
    assert problem.detail
    if field is not None:
        assert field in [e.field for e in problem.errors], problem


async def test_a_refused_interchange_is_a_problem_with_its_receipt(app):
    unknown = examples.DIS01_EDIFACT.replace(f"+{GP}:14+", "+5790000999999:14+")
    response = await call(app, "POST", "/v1/messages", content=unknown.encode(),
                          headers={**KEY, "Content-Type": "application/edifact"})
    assert response.status_code == 422, response.text
    refused = Refused.model_validate(response.json())
    assert refused.detail == refused.error and refused.receipt.startswith("UNA")
