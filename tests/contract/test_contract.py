"""The contract, registry-wide: every registered scenario run and its answers checked against
the document, every documented (operation, status) with a scenario, undocumented methods and
unknown paths, the routes and the documented paths agreeing, a well-formed document whose links
lead somewhere, and request schemas no looser than the server.

It imports every scenario module, so that the registry is complete whichever files are
collected, and in whatever order."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import test_capability
import test_charges
import test_events
import test_every_operation
import test_links
import test_ops
import test_refunds
import test_search
import test_sources
import test_tokens
import test_webhooks
from checker import (
    DOC,
    HTTP_METHODS,
    OPERATIONS,
    SCENARIOS,
    SECURED,
    UNSET,
    Ctx,
    Scenario,
    at,
    check_against,
    check_response,
    operations,
    parameters,
    pointer,
    request_errors,
    resolve,
    valid_request,
)
from factories import TestAccount, auth, card
from jsonschema import Draft202012Validator
from starlette.routing import Route
from starlette.testclient import TestClient

import paylinks
from paylinks.app import openapi_document, routes

# Every scenario module: each registers its scenarios in SCENARIOS when imported.
SCENARIO_MODULES = (
    test_capability, test_charges, test_events, test_every_operation, test_links, test_ops,
    test_refunds, test_search, test_sources, test_tokens, test_webhooks,
)  # fmt: skip

CASES = [
    pytest.param(op, status, function, id=f"{op}-{status}-{function.__name__}")
    for (op, status), functions in sorted(SCENARIOS.items())
    for function in sorted(functions, key=lambda function: function.__name__)
]


@pytest.mark.parametrize(("op", "status", "function"), CASES)
def test_responses_match_the_document(ctx: Ctx, op: str, status: int, function: Scenario) -> None:
    function(ctx)
    assert (op, status) in ctx.seen, f"the scenario never produced {status} for {op}"


def test_every_documented_response_has_a_scenario() -> None:
    documented = {
        (op["operationId"], int(status))
        for _path, _method, op in operations()
        for status in op["responses"]
    }
    assert documented == set(SCENARIOS)


@pytest.mark.parametrize(
    ("path", "method"),
    [
        (path, method)
        for path, item in DOC["paths"].items()
        for method in ("get", "post", "put", "patch", "delete", "options")
        if method not in item
    ],
)
def test_undocumented_methods_are_405_listing_the_documented_ones(
    client: TestClient, path: str, method: str
) -> None:
    url = path.replace("{link_id}", "payl_test_any")
    response = client.request(method.upper(), url)
    check_response(path, method, 405, response)
    allowed = {m.strip().lower() for m in response.headers["allow"].split(",")}
    documented = {m for m in DOC["paths"][path] if m in HTTP_METHODS}
    assert allowed == documented | ({"head"} if "get" in documented else set())


def test_unknown_paths_are_not_found(client: TestClient, account: TestAccount) -> None:
    for path in ("/nothing", "/links/a/b/c", "/disputes", "/sources/x/qr.svg/"):
        response = client.get(path, auth=auth(account.test.secret_key))
        assert response.status_code == 404
        check_against("/components/responses/NotFound", response, f"GET {path}")


def test_document_is_served_at_openapi_json(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == openapi_document()
    assert client.head("/openapi.json").status_code == 200


# The hosted payment page, the dashboard, their assets and the offline Omise.js are for
# browsers, and the endpoint of Omise's webhooks is for Omise (signed by it, documented in
# docs/operations.md and tested in tests/upstream/): none is part of the merchant's API document.
PAGE_PREFIXES = ("/pay/", "/static/", "/dashboard", "/payments/", "/omise.js", "/omise/webhooks/")


def test_routes_and_documented_paths_agree() -> None:
    every = [route for route in routes() if isinstance(route, Route)]
    assert len(every) == len(routes())
    table = [route for route in every if not route.path.startswith(PAGE_PREFIXES)]
    assert len(table) < len(every)  # the page routes exist, and are left out on purpose
    paths = {route.path for route in table}
    routed = set()
    for route in table:
        if route.path.endswith("/"):
            assert route.path[:-1] in paths, f"{route.path} is not a twin of a routed path"
            continue
        routed |= {(route.path, m.lower()) for m in route.methods or () if m != "HEAD"}
    documented = {(path, method) for path, method, _op in operations()}
    assert routed - documented == set(), "routed but not documented"
    assert documented - routed == set(), "documented but not routed"
    for path, item in DOC["paths"].items():
        says_so = f"`{path}/` answers the same" in " ".join(item["description"].split())
        assert says_so == (path + "/" in paths), f"{path}: the trailing slash is misdocumented"


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_document_is_well_formed() -> None:
    assert DOC["openapi"] == "3.1.0" and DOC["info"]["version"] == paylinks.__version__
    ids = [op.get("operationId") for _path, _method, op in operations()]
    assert all(ids) and len(ids) == len(set(ids)), ids
    for ref in _refs(DOC):
        assert ref.startswith("#/"), ref
        at(DOC, ref[1:])  # raises if it does not resolve
    for schema in DOC["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    scheme = DOC["components"]["securitySchemes"]["secretKey"]
    assert scheme == {**scheme, "type": "http", "scheme": "basic"}
    for path, method, op in operations():
        where = f"{method.upper()} {path}"
        params = parameters(path, method)
        assert {n for (place, n) in params if place == "path"} == set(
            re.findall(r"{(\w+)}", path)
        ), where
        statuses = set(op["responses"])
        assert "200" in statuses, where
        if op["operationId"] in SECURED:
            assert {"401", "413", "429", "500"} <= statuses, where
        for status, response in op["responses"].items():
            for name, link in response.get("links", {}).items():
                target = link["operationId"]
                assert target in OPERATIONS, f"{where} {status} link {name}"
                target_params = {n for (_place, n) in parameters(*OPERATIONS[target])}
                for param, expression in link["parameters"].items():
                    assert param in target_params, f"link {name}: {target} has no {param}"
                    assert expression.startswith("$response.body#/"), expression
                    body_schema, _ = resolve(
                        pointer("paths", path, method, "responses", status)
                        + "/content/application~1json/schema"
                    )
                    field_name = expression.removeprefix("$response.body#/")
                    assert field_name in _properties(body_schema), expression


def _properties(schema: dict[str, Any]) -> set[str]:
    """The properties a schema names, through `allOf` and `$ref`."""
    found = set(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        if "$ref" in part:
            part, _ = resolve(part["$ref"][1:])
        found |= _properties(part)
    return found


@pytest.mark.parametrize(
    "op",
    sorted(op["operationId"] for _p, _m, op in operations() if op["responses"]["200"].get("links")),
)
def test_openapi_links_lead_somewhere(ctx: Ctx, op: str) -> None:
    """Follow every link of an operation's 200, as a stateful tester would."""
    path, method = OPERATIONS[op]
    created = ctx.call(op, status=200, **valid_request(ctx, op)).json()
    links = DOC["paths"][path][method]["responses"]["200"]["links"]
    # Delete last: a deleted link can no longer be updated.
    for link in sorted(links.values(), key=lambda each: each["operationId"] == "deleteLink"):
        target = link["operationId"]
        args = {
            name: at(created, expression.removeprefix("$response.body#"))
            for name, expression in link["parameters"].items()
        }
        for (place, name), param_ptr in parameters(*OPERATIONS[target]).items():
            if place == "path" and name not in args:  # e.g. the QR's `kind`: its first value
                args[name] = at(DOC, param_ptr)["schema"]["enum"][0]
        key = None if target == "getSourceQr" else UNSET
        ctx.call(target, status=200, key=key, **args)


def test_request_schemas_reject_what_the_server_rejects(ctx: Ctx) -> None:
    """The documented request shapes are not looser than the server where they can say so."""
    link = ctx.new_link()
    valid = {"amount": 100000, "currency": "thb", "title": "t"}
    rejected: list[tuple[str, dict[str, Any]]] = [
        ("createLink", {"json": {"amount": 0, "currency": "thb", "title": "t"}}),
        ("createLink", {"json": {"amount": 100000, "currency": "xyz", "title": "t"}}),
        ("createLink", {"json": {"amount": 100000, "currency": "thb"}}),
        ("createLink", {"json": {"amount": 100000, "currency": "thb", "title": "x" * 201}}),
        ("createLink", {"json": {**valid, "multiple": 2}}),
        ("listLinks", {"query": {"limit": -1}}),
        ("listLinks", {"query": {"order": "sideways"}}),
        ("listLinks", {"query": {"from": "yesterday"}}),
        ("listLinkCharges", {"query": {"offset": -1}, "link_id": link["id"]}),
        ("updateLink", {"json": {"description": "x" * 1001}, "link_id": link["id"]}),
        ("search", {"query": {"scope": "customer"}}),
        ("search", {"query": {"scope": "link", "filters": {"colour": "red"}}}),
        ("search", {"query": {"scope": "link", "page": 0}}),
        ("search", {"query": {"scope": "link", "per_page": 0}}),
    ]
    rejected += [
        ("createCharge", {"json": {"card": ctx.new_token(), "source": ctx.new_source()["id"]}}),
        ("createCharge", {"json": {"amount": 5000, "currency": "usd"}}),
        ("createToken", {"json": {"card": {"number": "4242424242424242", "name": "x"}}}),
        ("createToken", {"json": {"card": card(expiration_month=13)}}),
        ("createSource", {"json": {"type": "bitcoin", "amount": 100000, "currency": "thb"}}),
        ("createSource", {"json": {"type": "promptpay", "amount": 5000, "currency": "usd"}}),
    ]
    for op, request in rejected:
        path, method = OPERATIONS[op]
        body = request.get("json")
        errors = request_errors(
            path,
            method,
            query=request.get("query", {}),
            body=body,
            media=None if body is None else "application/json",
        )
        assert errors, f"{op} {request}: the document accepts what the server refuses"
        ctx.call(op, status=400, **request)
