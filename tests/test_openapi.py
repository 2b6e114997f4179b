"""The OpenAPI document (src/paylinks/openapi.yaml) against real responses, on every backend.

Every response provoked here is checked against the document:

* its status must be documented for the operation (or be the 405 of an undocumented method);
* its JSON body must match the documented schema, made strict for the check: an object may carry
  no field the document does not list (the published document stays open, so that adding a field
  is not a breaking change — but then it must be documented);
* documented required headers must be present, present headers must match their schemas, and a
  header the document knows (rate limits, `Allow`) may appear only where it is documented.

Requests the server accepts are also checked against the documented parameters and bodies.
`SCENARIOS` holds at least one scenario for every (operation, status) pair the document lists,
and a test fails when a pair has none.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
from factories import VISA_NO_FUNDS, VISA_OK, TestAccount, auth, card
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from starlette.routing import Route
from starlette.testclient import TestClient

import paylinks
from paylinks.api import idempotency
from paylinks.api import pipeline as api
from paylinks.app import openapi_document, routes
from paylinks.ops import health
from paylinks.sources import service as sources_service

DOC: dict[str, Any] = openapi_document()
DOC_URI = "urn:paylinks:openapi"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# ---------------------------------------------------------------------------------------------
# Reading the document


def escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def pointer(*tokens: str) -> str:
    return "".join("/" + escape(token) for token in tokens)


def at(document: Any, ptr: str) -> Any:
    node = document
    for raw in ptr.split("/")[1:]:
        token = raw.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def resolve(ptr: str) -> tuple[Any, str]:
    """The object at `ptr` and its own pointer, following `$ref`s (responses, headers, ...)."""
    node = at(DOC, ptr)
    seen: set[str] = set()
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/") and ref not in seen, f"bad or circular $ref {ref}"
        seen.add(ref)
        ptr = ref[1:]
        node = at(DOC, ptr)
    return node, ptr


def operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in DOC["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                yield path, method, item[method]


OPERATIONS: dict[str, tuple[str, str]] = {
    op["operationId"]: (path, method) for path, method, op in operations()
}
SECURED = [
    op["operationId"]
    for _path, _method, op in operations()
    if op.get("security", DOC.get("security")) != []
]


def _all_response_headers() -> set[str]:
    names: set[str] = set()
    for response in DOC["components"]["responses"].values():
        names |= {name.lower() for name in response.get("headers", {})}
    for _path, _method, op in operations():
        for response in op["responses"].values():
            names |= {name.lower() for name in response.get("headers", {})}
    return names


KNOWN_HEADERS = _all_response_headers()

# ---------------------------------------------------------------------------------------------
# Validating against the document


def _strict(schema: Any, *, fragment: bool = False) -> None:
    """Close every object schema that does not say otherwise (allOf parts close as a whole;
    `not` is left open, or closing it would widen what it rejects)."""
    if not isinstance(schema, dict):
        return
    for sub in schema.get("allOf", []):
        _strict(sub, fragment=True)
    # anyOf/oneOf beside `properties` constrain that object; elsewhere they are alternatives.
    for key in ("anyOf", "oneOf"):
        for sub in schema.get(key, []):
            _strict(sub, fragment="properties" in schema)
    for sub in schema.get("properties", {}).values():
        _strict(sub)
    for key in ("items", "additionalProperties"):
        _strict(schema.get(key))
    declares = {"additionalProperties", "unevaluatedProperties"} & schema.keys()
    if not fragment and not declares and ("properties" in schema or "allOf" in schema):
        schema["unevaluatedProperties"] = False


def _strict_document(document: dict[str, Any]) -> dict[str, Any]:
    strict = copy.deepcopy(document)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                _strict(value) if key == "schema" else walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for schema in strict["components"]["schemas"].values():
        _strict(schema)
    walk(strict["paths"])
    walk({k: v for k, v in strict["components"].items() if k != "schemas"})
    return strict


REGISTRY = Registry().with_resource(DOC_URI, DRAFT202012.create_resource(_strict_document(DOC)))


@cache
def _validator(ptr: str) -> Draft202012Validator:
    ref = f"{DOC_URI}#{quote(ptr, safe='/~')}"
    return Draft202012Validator(
        {"$ref": ref}, registry=REGISTRY, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def schema_errors(instance: Any, ptr: str) -> list[str]:
    """Why `instance` does not match the (strict) schema at `ptr` in the document; [] if it does."""
    errors = []
    for error in _validator(ptr).iter_errors(instance):
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        context = "; ".join(sub.message for sub in error.context or [])
        errors.append(f"{where}: {error.message}" + (f" ({context})" if context else ""))
    return errors


def _header_value(value: str, schema: dict[str, Any]) -> Any:
    if schema.get("type") == "integer":
        assert re.fullmatch(r"-?[0-9]+", value), f"header value {value!r} is not an integer"
        return int(value)
    return value


def check_against(ptr: str, response: httpx.Response, where: str) -> Any:
    """Check `response` against the response object at `ptr`; its JSON body."""
    spec, ptr = resolve(ptr)
    documented: dict[str, tuple[dict[str, Any], str]] = {}
    for name in spec.get("headers", {}):
        header, header_ptr = resolve(f"{ptr}/headers/{escape(name)}")
        documented[name.lower()] = (header, header_ptr)
    for name, (header, header_ptr) in documented.items():
        if name not in response.headers:
            assert not header.get("required"), f"{where}: required header {name} is missing"
            continue
        value = _header_value(response.headers[name], header["schema"])
        errors = schema_errors(value, f"{header_ptr}/schema")
        assert not errors, f"{where}: header {name}={value!r} drifts from the document: {errors}"
    sent = {name.lower() for name in response.headers}
    undocumented = (sent & KNOWN_HEADERS) - documented.keys()
    assert not undocumented, f"{where}: headers {sorted(undocumented)} are not documented here"
    media = response.headers.get("content-type", "").split(";")[0].strip()
    assert media in spec.get("content", {}), f"{where}: content type {media!r} is not documented"
    if media == "image/png":
        assert response.content.startswith(b"\x89PNG"), f"{where}: not a PNG"
        return response.content
    if media == "image/svg+xml":
        assert b"<svg" in response.content, f"{where}: not an SVG"
        return response.content
    if media == "text/plain":  # the Prometheus exposition: HELP, TYPE and sample lines
        lines = response.text.splitlines()
        assert lines and all(
            line.startswith("# ") or re.match(r"^[a-z_:][a-z0-9_:]*(\{[^}]*\})? \S+$", line)
            for line in lines
        ), f"{where}: not the Prometheus text format"
        return response.content
    assert media == "application/json", f"{where}: no check written for {media}"
    body = response.json()
    errors = schema_errors(body, f"{ptr}/content/{escape(media)}/schema")
    assert not errors, f"{where}: body drifts from the document:\n" + "\n".join(errors)
    return body


def check_response(path: str, method: str, status: int, response: httpx.Response) -> Any:
    """Validate a real response for `method` on the documented `path` (a template such as
    `/links/{link_id}`): the status is the expected one and documented, the body matches the
    documented schema, documented headers are right. Returns the JSON body."""
    method = method.lower()
    where = f"{method.upper()} {path} -> {response.status_code}"
    assert response.status_code == status, f"{where}: expected {status}: {response.text}"
    assert path in DOC["paths"], f"{path} is not a documented path"
    item = DOC["paths"][path]
    if method in item:
        documented = item[method]["responses"]
        assert str(status) in documented, f"{where}: status {status} is not documented"
        ptr = pointer("paths", path, method, "responses", str(status))
    else:
        assert status == 405, f"{where}: an undocumented method must be answered 405"
        ptr = "/components/responses/MethodNotAllowed"
    return check_against(ptr, response, where)


def _parameters(path: str, method: str) -> dict[tuple[str, str], str]:
    """(in, name) -> the pointer of each parameter of the operation (path-level ones too)."""
    found = {}
    for owner in (pointer("paths", path), pointer("paths", path, method)):
        for index in range(len(at(DOC, owner).get("parameters", []))):
            param, param_ptr = resolve(f"{owner}/parameters/{index}")
            found[(param["in"], param["name"])] = param_ptr
    return found


def request_errors(
    path: str, method: str, *, query: dict[str, Any], body: Any, media: str | None
) -> list[str]:
    """Why a request does not match the documented parameters and body; [] if it does."""
    errors = []
    params = _parameters(path, method)
    for (place, name), param_ptr in params.items():
        required = place == "query" and at(DOC, param_ptr).get("required")
        in_body = isinstance(body, dict) and name in body
        if required and name not in query and not in_body:
            errors.append(f"required query parameter {name} is missing")
    for name, value in query.items():
        param_ptr = params.get(("query", name))
        if param_ptr is None:
            errors.append(f"query parameter {name} is not documented")
            continue
        errors += [f"query {name}: {e}" for e in schema_errors(value, f"{param_ptr}/schema")]
    if media is not None:
        op_ptr = pointer("paths", path, method)
        if "requestBody" not in at(DOC, op_ptr):
            return [*errors, "the operation documents no request body"]
        request_body, body_ptr = resolve(f"{op_ptr}/requestBody")
        if media not in request_body["content"]:
            return [*errors, f"request content type {media} is not documented"]
        errors += schema_errors(body, f"{body_ptr}/content/{escape(media)}/schema")
    return errors


def flatten(data: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Bracket nesting, as PHP, Ruby and curl users send forms: m[k]=v, l[]=x."""
    pairs: list[tuple[str, str]] = []
    for key, value in data.items():
        name = f"{prefix}[{key}]" if prefix else key
        if isinstance(value, dict):
            pairs += flatten(value, name)
        elif isinstance(value, list):
            pairs += [(f"{name}[]", _scalar(item)) for item in value]
        else:
            pairs.append((name, _scalar(value)))
    return pairs


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# ---------------------------------------------------------------------------------------------
# Scenarios

UNSET: Any = object()
FORM = "application/x-www-form-urlencoded"


@dataclass
class Ctx:
    client: TestClient
    make_client: Callable[..., TestClient]
    account: TestAccount
    other_account: TestAccount
    monkeypatch: pytest.MonkeyPatch
    seen: set[tuple[str, int]] = field(default_factory=set)

    @property
    def key(self) -> str:
        return self.account.test.secret_key

    def call(
        self,
        op: str,
        *,
        status: int,
        client: TestClient | None = None,
        key: str | None = UNSET,
        query: dict[str, Any] | None = None,
        json: Any = UNSET,
        form: dict[str, Any] | None = None,
        content: Any = None,
        headers: dict[str, str] | None = None,
        slash: bool = False,
        check_request: bool | None = None,
        **path_params: str,
    ) -> httpx.Response:
        """Send a request for operation `op` (path parameters by name: `link_id=...`) and check
        the answer against the document. A request the server accepts (status 200, unless
        `check_request` says) must also match the documented parameters and body."""
        path, method = OPERATIONS[op]
        url = re.sub(r"{(\w+)}", lambda m: quote(path_params[m.group(1)], safe=""), path)
        url += "/" if slash else ""
        kwargs: dict[str, Any] = {"headers": dict(headers or {})}
        body, media = None, None
        if query:
            kwargs["params"] = flatten(query)
        if json is not UNSET:
            kwargs["json"] = json
            body, media = json, "application/json"
        elif form is not None:
            kwargs["content"] = urlencode(flatten(form))
            kwargs["headers"]["content-type"] = FORM
            body, media = form, FORM
        elif content is not None:
            kwargs["content"] = content
        key = self.key if key is UNSET else key
        if key is not None:
            kwargs["auth"] = auth(key)
        if status == 200 if check_request is None else check_request:
            errors = request_errors(path, method, query=query or {}, body=body, media=media)
            assert not errors, f"{op}: an accepted request does not match the document: {errors}"
        response = (client or self.client).request(method.upper(), url, **kwargs)
        check_response(path, method, status, response)
        self.seen.add((op, status))
        return response

    def new_link(self, client: TestClient | None = None, **fields: Any) -> dict[str, Any]:
        body = {"amount": 100000, "currency": "thb", "title": "A link", **fields}
        link: dict[str, Any] = self.call("createLink", status=200, client=client, json=body).json()
        return link

    def new_token(self, number: str = VISA_OK) -> str:
        public = self.account.test.public_key
        body = {"card": card(number)}
        token_id: str = self.call("createToken", status=200, key=public, json=body).json()["id"]
        return token_id

    def new_source(self, amount: int = 100000) -> dict[str, Any]:
        body = {"type": "promptpay", "amount": amount, "currency": "thb"}
        public = self.account.test.public_key
        source: dict[str, Any] = self.call("createSource", status=200, key=public, json=body).json()
        return source

    def new_charge(self, **fields: Any) -> dict[str, Any]:
        """A card charge (of a new link unless `fields` say otherwise)."""
        body = {"card": self.new_token(), **fields}
        if "amount" not in body and "link" not in body:
            body["link"] = self.new_link()["id"]
        charge: dict[str, Any] = self.call("createCharge", status=200, json=body).json()
        return charge

    def pending_charge(self, link_id: str | None = None) -> dict[str, Any]:
        """A pending PromptPay charge of a link."""
        body = {"source": self.new_source()["id"], "link": link_id or self.new_link()["id"]}
        charge: dict[str, Any] = self.call("createCharge", status=200, json=body).json()
        assert charge["status"] == "pending"
        return charge

    def new_event(self) -> dict[str, Any]:
        """The newest event: the `link.create` of a new link."""
        made = self.new_link()
        newest = self.call("listEvents", status=200, query={"order": "reverse_chronological"})
        event: dict[str, Any] = newest.json()["data"][0]
        assert event["key"] == "link.create" and event["data"]["id"] == made["id"]
        return event


Scenario = Callable[[Ctx], None]
SCENARIOS: dict[tuple[str, int], list[Scenario]] = {}


def scenario(op: str, status: int) -> Callable[[Scenario], Scenario]:
    def register(function: Scenario) -> Scenario:
        SCENARIOS.setdefault((op, status), []).append(function)
        return function

    return register


def error_code(response: httpx.Response) -> str:
    code: str = response.json()["code"]
    return code


def same_link(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Equal but for the embedded list's `to`, which is "now" and may have ticked."""
    return {**a, "charges": None} == {**b, "charges": None} and a["charges"]["total"] == b[
        "charges"
    ]["total"]


def soon(days: int = 1) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- createLink


@scenario("createLink", 200)
def create_json_with_every_field(ctx: Ctx) -> None:
    metadata = {"invoice_id": "INV-001", "nested": {"a": 1}, "items": [1, 2], "flag": True}
    body = {
        "amount": 250000,
        "currency": "thb",
        "title": "Invoice #INV-001",
        "description": "Payment for consulting services",
        "multiple": True,
        "metadata": metadata,
        "expires_at": soon(),
        "usage_limit": 10,
    }
    link = ctx.call("createLink", status=200, json=body).json()
    assert link["metadata"] == metadata and link["usage_limit"] == 10 and link["active"] is True
    assert "amount_type" not in link  # only customer-decided links carry it
    custom = {
        "amount": 50000,
        "currency": "thb",
        "title": "Tip jar",
        "multiple": True,
        "amount_type": "customer",
        "amount_min": 2000,
        "amount_max": 500000,
    }
    tip = ctx.call("createLink", status=200, json=custom).json()
    assert (tip["amount_type"], tip["amount_min"], tip["amount_max"]) == ("customer", 2000, 500000)


@scenario("createLink", 200)
def create_form_with_bracket_metadata(ctx: Ctx) -> None:
    form = {
        "amount": "150000",
        "currency": "THB",
        "title": "Consultation Booking",
        "multiple": "1",
        "metadata": {"service_type": "consultation", "duration": "60_minutes"},
    }
    link = ctx.call("createLink", status=200, form=form).json()
    assert link["amount"] == 150000 and link["currency"] == "thb" and link["multiple"] is True
    assert link["metadata"] == {"service_type": "consultation", "duration": "60_minutes"}


@scenario("createLink", 200)
def create_with_nulls_and_sdk_number_forms(ctx: Ctx) -> None:
    body = {
        "amount": 100000.0,
        "currency": "usd",
        "title": "International Product",
        "description": None,
        "metadata": None,
        "multiple": None,
        "expires_at": "",
    }
    link = ctx.call("createLink", status=200, json=body).json()
    assert link["description"] is None and link["metadata"] == {} and link["expires_at"] is None


@scenario("createLink", 200)
def create_in_live_mode_and_in_yen(ctx: Ctx) -> None:
    body = {"amount": 1500, "currency": "jpy", "title": "Sticker pack"}
    link = ctx.call("createLink", status=200, key=ctx.account.live.secret_key, json=body).json()
    assert link["livemode"] is True and not link["id"].startswith("payl_test_")


@scenario("createLink", 400)
def create_with_bad_amounts(ctx: Ctx) -> None:
    base = {"currency": "thb", "title": "Bad amount"}
    for amount in (0, -5, "abc", 1.5, 100, 10**12, None):
        response = ctx.call("createLink", status=400, json={**base, "amount": amount})
        assert error_code(response) == "invalid_amount", amount


@scenario("createLink", 400)
def create_with_unknown_currency(ctx: Ctx) -> None:
    body = {"amount": 100000, "currency": "xyz", "title": "Bad currency"}
    assert error_code(ctx.call("createLink", status=400, json=body)) == "invalid_currency"


@scenario("createLink", 400)
def create_with_bad_other_parameters(ctx: Ctx) -> None:
    base = {"amount": 100000, "currency": "thb", "title": "Bad"}
    for body in (
        {"amount": 100000, "currency": "thb"},
        {**base, "title": "   "},
        {**base, "title": "x" * 201},
        {**base, "description": "x" * 1001},
        {**base, "multiple": "maybe"},
        {**base, "usage_limit": 5},
        {**base, "metadata": {f"k{i}": i for i in range(51)}},
        {**base, "metadata": "not an object"},
        {**base, "expires_at": "2001-01-01T00:00:00Z"},
    ):
        assert error_code(ctx.call("createLink", status=400, json=body)) == "bad_request", body
    malformed = ctx.call(
        "createLink",
        status=400,
        content=b'{"amount": 100000',
        headers={"content-type": "application/json"},
    )
    assert error_code(malformed) == "bad_request"
    plain = ctx.call(
        "createLink", status=400, content=b"amount=1", headers={"content-type": "text/plain"}
    )
    assert error_code(plain) == "bad_request"


@scenario("createLink", 422)
def create_over_the_active_link_cap(ctx: Ctx) -> None:
    capped = ctx.make_client(max_active_links=1)
    ctx.new_link(client=capped)
    body = {"amount": 100000, "currency": "thb", "title": "One too many"}
    refused = ctx.call("createLink", status=422, client=capped, json=body)
    assert error_code(refused) == "limit_exceeded"


# --- listLinks


@scenario("listLinks", 200)
def list_with_query_parameters(ctx: Ctx) -> None:
    ids = [ctx.new_link(title=f"Link {i}")["id"] for i in range(3)]
    query = {
        "limit": 2,
        "offset": 1,
        "order": "reverse_chronological",
        "from": "2020-01-01",
        "to": "2100-12-31T23:59:59Z",
    }
    listing = ctx.call("listLinks", status=200, query=query).json()
    assert [link["id"] for link in listing["data"]] == ids[::-1][1:3]
    assert listing["total"] == 3 and listing["from"] == "2020-01-01T00:00:00Z"


@scenario("listLinks", 200)
def list_with_a_json_body_on_get_as_the_python_sdk_sends(ctx: Ctx) -> None:
    ctx.new_link()
    body = {"from": None, "limit": 100, "offset": 0, "order": None, "to": None}
    listing = ctx.call("listLinks", status=200, json=body).json()
    assert listing["limit"] == 100 and listing["total"] == 1


@scenario("listLinks", 200)
def list_with_a_form_body_and_node_empty_values(ctx: Ctx) -> None:
    ctx.new_link()
    ctx.new_link()
    assert ctx.call("listLinks", status=200, form={"limit": "1"}).json()["limit"] == 1
    node = {"limit": 20, "offset": 0, "order": "reverse_chronological", "from": "", "to": ""}
    assert ctx.call("listLinks", status=200, query=node).json()["total"] == 2


@scenario("listLinks", 200)
def list_clamps_large_limits_and_allows_zero(ctx: Ctx) -> None:
    ctx.new_link()
    assert ctx.call("listLinks", status=200, query={"limit": 500}).json()["limit"] == 100
    empty = ctx.call("listLinks", status=200, query={"limit": 0}, slash=True).json()
    assert empty["data"] == [] and empty["total"] == 1
    far = ctx.call("listLinks", status=200, query={"offset": 2**53}).json()
    assert far["data"] == [] and far["offset"] == 2**53


@scenario("listLinks", 200)
def list_shows_deleted_links_and_live_mode_separately(ctx: Ctx) -> None:
    link = ctx.new_link()
    ctx.call("deleteLink", status=200, link_id=link["id"])
    listing = ctx.call("listLinks", status=200).json()
    assert listing["data"][0]["deleted"] is True and listing["data"][0]["deleted_at"]
    live = ctx.call("listLinks", status=200, key=ctx.account.live.secret_key).json()
    assert live["total"] == 0


@scenario("listLinks", 400)
def list_with_bad_parameters(ctx: Ctx) -> None:
    for query in (
        {"limit": -1},
        {"limit": "ten"},
        {"offset": -1},
        {"offset": 2**53 + 1},
        {"order": "sideways"},
        {"from": "yesterday"},
        {"from": "2026-02-01", "to": "2026-01-01"},
    ):
        assert error_code(ctx.call("listLinks", status=400, query=query)) == "bad_request", query


# --- getLink


@scenario("getLink", 200)
def get_a_link_in_every_way_clients_ask(ctx: Ctx) -> None:
    link = ctx.new_link(description="Premium widget purchase")
    assert same_link(ctx.call("getLink", status=200, link_id=link["id"]).json(), link)
    assert same_link(ctx.call("getLink", status=200, link_id=link["id"], slash=True).json(), link)
    # The Python SDK sends `{}` on every GET: read and ignored (not a documented body).
    got = ctx.call("getLink", status=200, link_id=link["id"], json={}, check_request=False)
    assert got.json()["id"] == link["id"]


@scenario("getLink", 200)
def get_a_deleted_link(ctx: Ctx) -> None:
    link = ctx.new_link()
    ctx.call("deleteLink", status=200, link_id=link["id"])
    got = ctx.call("getLink", status=200, link_id=link["id"]).json()
    assert got["deleted"] is True and got["active"] is False


@scenario("getLink", 400)
def get_with_a_malformed_body(ctx: Ctx) -> None:
    link = ctx.new_link()
    response = ctx.call(
        "getLink",
        status=400,
        link_id=link["id"],
        content=b"{nope",
        headers={"content-type": "application/json"},
    )
    assert error_code(response) == "bad_request"


@scenario("getLink", 404)
def get_links_that_are_not_the_callers(ctx: Ctx) -> None:
    link = ctx.new_link()
    ctx.call("getLink", status=404, link_id="payl_test_0000000000000000000")
    ctx.call("getLink", status=404, link_id=link["id"], key=ctx.other_account.test.secret_key)
    response = ctx.call("getLink", status=404, link_id=link["id"], key=ctx.account.live.secret_key)
    assert error_code(response) == "not_found"


# --- updateLink


@scenario("updateLink", 200)
def update_with_json_form_and_nothing(ctx: Ctx) -> None:
    link = ctx.new_link(metadata={"old": "value"})
    body = {"description": "Updated description", "metadata": {"reason": "price_change"}}
    updated = ctx.call("updateLink", status=200, link_id=link["id"], json=body).json()
    assert updated["description"] == "Updated description"
    assert updated["metadata"] == {"reason": "price_change"}
    form = {"metadata": {"updated_by": "admin"}}
    updated = ctx.call("updateLink", status=200, link_id=link["id"], form=form).json()
    assert updated["metadata"] == {"updated_by": "admin"}
    unchanged = ctx.call("updateLink", status=200, link_id=link["id"]).json()
    assert same_link(unchanged, updated)
    emptied = ctx.call("updateLink", status=200, link_id=link["id"], json={"metadata": {}})
    assert emptied.json()["metadata"] == {}


@scenario("updateLink", 400)
def update_what_cannot_be_updated(ctx: Ctx) -> None:
    link = ctx.new_link()
    for body in (
        {"amount": 5000},
        {"title": "New title", "description": "ok"},
        {"description": "x" * 1001},
        {"metadata": "not an object"},
    ):
        response = ctx.call("updateLink", status=400, link_id=link["id"], json=body)
        assert error_code(response) == "bad_request", body
    ctx.call("deleteLink", status=200, link_id=link["id"])
    gone = ctx.call("updateLink", status=400, link_id=link["id"], json={"description": "late"})
    assert error_code(gone) == "bad_request"


@scenario("updateLink", 404)
def update_a_missing_link(ctx: Ctx) -> None:
    body = {"description": "nobody"}
    ctx.call("updateLink", status=404, link_id="payl_test_missing", json=body)


# --- deleteLink


@scenario("deleteLink", 200)
def delete_twice(ctx: Ctx) -> None:
    link = ctx.new_link()
    first = ctx.call("deleteLink", status=200, link_id=link["id"]).json()
    assert first["deleted"] is True and first["deleted_at"] is not None
    again = ctx.call("deleteLink", status=200, link_id=link["id"], slash=True).json()
    assert same_link(again, first)


@scenario("deleteLink", 400)
def delete_with_a_malformed_body(ctx: Ctx) -> None:
    link = ctx.new_link()
    response = ctx.call(
        "deleteLink",
        status=400,
        link_id=link["id"],
        content=b"\xff\xfe",
        headers={"content-type": FORM},
    )
    assert error_code(response) == "bad_request"


@scenario("deleteLink", 404)
def delete_another_accounts_link(ctx: Ctx) -> None:
    link = ctx.new_link()
    other = ctx.other_account.test.secret_key
    ctx.call("deleteLink", status=404, link_id=link["id"], key=other)
    assert ctx.call("getLink", status=200, link_id=link["id"]).json()["deleted"] is False


# --- listLinkCharges


@scenario("listLinkCharges", 200)
def list_the_charges_of_a_link(ctx: Ctx) -> None:
    link = ctx.new_link()
    query = {"limit": 100, "offset": 0, "order": "chronological", "from": "2020-01-01"}
    charges = ctx.call("listLinkCharges", status=200, link_id=link["id"], query=query).json()
    assert charges["location"] == f"/links/{link['id']}/charges" and charges["limit"] == 100
    slash = ctx.call("listLinkCharges", status=200, link_id=link["id"], slash=True).json()
    assert slash["total"] == 0


@scenario("listLinkCharges", 400)
def list_charges_with_bad_parameters(ctx: Ctx) -> None:
    link = ctx.new_link()
    for query in ({"limit": -1}, {"order": "random"}, {"to": "soon"}):
        ctx.call("listLinkCharges", status=400, link_id=link["id"], query=query)


@scenario("listLinkCharges", 404)
def list_charges_of_a_missing_link(ctx: Ctx) -> None:
    ctx.call("listLinkCharges", status=404, link_id="payl_test_missing")


# --- search


def _search_seed(ctx: Ctx) -> dict[str, str]:
    return {
        "tee": ctx.new_link(title="T-Shirt Red", amount=45000, multiple=True)["id"],
        "invoice": ctx.new_link(title="Invoice #INV-001", description="consulting")["id"],
        "yen": ctx.new_link(title="Sticker pack", amount=1500, currency="jpy")["id"],
    }


@scenario("search", 200)
def search_as_the_python_sdk_does(ctx: Ctx) -> None:
    ids = _search_seed(ctx)
    query = {
        "scope": "link",
        "query": "shirt red",
        "filters": {"amount": "400..500", "currency": "THB", "multiple": "true"},
    }
    result = ctx.call("search", status=200, query=query, json={}, slash=True).json()
    assert [link["id"] for link in result["data"]] == [ids["tee"]]
    assert result["filters"] == {"amount": "400..500", "currency": "THB", "multiple": "true"}


@scenario("search", 200)
def search_pages_order_and_created(ctx: Ctx) -> None:
    ids = _search_seed(ctx)
    query = {
        "scope": "link",
        "order": "reverse_chronological",
        "page": 2,
        "per_page": 2,
        "filters": {"created": "2020-01-01..2100-01-01", "deleted": "no", "active": "yes"},
    }
    result = ctx.call("search", status=200, query=query).json()
    assert result["total"] == 3 and result["total_pages"] == 2
    assert [link["id"] for link in result["data"]] == [ids["tee"]]
    clamped = ctx.call("search", status=200, query={"scope": "link", "per_page": 500}).json()
    assert clamped["per_page"] == 100 and clamped["page"] == 1


@scenario("search", 200)
def search_with_a_json_body(ctx: Ctx) -> None:
    ids = _search_seed(ctx)
    body = {"scope": "link", "filters": {"amount": "1000", "used": ""}, "page": None}
    result = ctx.call("search", status=200, json=body).json()
    assert [link["id"] for link in result["data"]] == [ids["invoice"]]  # ฿1,000.00, not ¥1,000
    assert result["filters"] == {"amount": "1000"}


@scenario("search", 400)
def search_with_bad_parameters(ctx: Ctx) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({}, "invalid_scope"),
        ({"scope": "charge"}, "invalid_scope"),
        ({"scope": "link", "filters": {"colour": "red"}}, "invalid_filter"),
        ({"scope": "link", "filters": {"amount": "lots"}}, "invalid_filter"),
        ({"scope": "link", "filters": {"multiple": "maybe"}}, "invalid_filter"),
        ({"scope": "link", "filters": {"currency": "xyz"}}, "invalid_filter"),
        ({"scope": "link", "filters": {"created": "last week"}}, "invalid_filter"),
        ({"scope": "link", "page": 0}, "invalid_page"),
        ({"scope": "link", "per_page": 0}, "invalid_page"),
        ({"scope": "link", "page": "two"}, "invalid_page"),
        ({"scope": "link", "order": "random"}, "bad_request"),
        ({"scope": "link", "query": " ".join("abcdefghijk")}, "bad_request"),
        ({"scope": "link", "query": "x" * 201}, "bad_request"),
    ]
    for query, code in cases:
        assert error_code(ctx.call("search", status=400, query=query)) == code, query


# --- getOpenApiDocument


@scenario("getOpenApiDocument", 200)
def get_the_document_without_a_key(ctx: Ctx) -> None:
    assert ctx.call("getOpenApiDocument", status=200, key=None).json() == DOC
    assert ctx.call("getOpenApiDocument", status=200, key=None, slash=True).json() == DOC


# --- getLinkStats


@scenario("getLinkStats", 200)
def stats_of_a_link_with_charges(ctx: Ctx) -> None:
    product = ctx.new_link(multiple=True)
    ctx.new_charge(link=product["id"])
    ctx.new_charge(link=product["id"], card=ctx.new_token(VISA_NO_FUNDS))
    stats = ctx.call("getLinkStats", status=200, link_id=product["id"]).json()
    assert stats["charges"] == {"total": 2, "successful": 1, "failed": 1, "pending": 0}
    assert stats["revenue"] == 100000 and stats["conversion"] is None
    ctx.call("getLinkStats", status=200, link_id=ctx.new_link()["id"], slash=True)


@scenario("getLinkStats", 400)
def stats_with_a_malformed_body(ctx: Ctx) -> None:
    link = ctx.new_link()
    headers = {"content-type": "application/json"}
    ctx.call("getLinkStats", status=400, link_id=link["id"], content=b"[", headers=headers)


@scenario("getLinkStats", 404)
def stats_of_a_missing_link(ctx: Ctx) -> None:
    ctx.call("getLinkStats", status=404, link_id="payl_test_missing")


# --- createCharge


@scenario("createCharge", 200)
def pay_a_link_by_card(ctx: Ctx) -> None:
    invoice = ctx.new_link()
    charge = ctx.call(
        "createCharge",
        status=200,
        json={"card": ctx.new_token(), "link": invoice["id"], "customer_email": "b@example.com"},
    ).json()
    assert (charge["status"], charge["paid"], charge["link"]) == ("successful", True, invoice["id"])
    assert charge["source"] == {"object": "source", "type": "link", "id": invoice["id"]}
    # The link now embeds its charge.
    link = ctx.call("getLink", status=200, link_id=invoice["id"]).json()
    assert link["charges"]["data"] == [charge] and link["used"] is True


@scenario("createCharge", 200)
def pay_without_a_link_by_form_and_get_declined(ctx: Ctx) -> None:
    form = {
        "card": ctx.new_token(VISA_NO_FUNDS),
        "amount": "5000",
        "currency": "USD",
        "description": "Order 7",
        "metadata": {"order": "7"},
    }
    charge = ctx.call("createCharge", status=200, form=form).json()
    assert (charge["status"], charge["failure_code"]) == ("failed", "insufficient_fund")
    assert (
        charge["link"] is None and charge["source"] is None and charge["metadata"] == {"order": "7"}
    )


@scenario("createCharge", 200)
def pay_a_link_by_promptpay(ctx: Ctx) -> None:
    invoice = ctx.new_link()
    charge = ctx.pending_charge(invoice["id"])
    assert charge["source"]["type"] == "promptpay" and charge["source"]["link"] == invoice["id"]
    assert charge["card"] is None and charge["source"]["charge_status"] == "pending"


@scenario("createCharge", 400)
def charges_the_server_refuses(ctx: Ctx) -> None:
    paid = ctx.new_link()
    ctx.new_charge(link=paid["id"])
    used_token = ctx.new_token()
    ctx.new_charge(card=used_token, amount=5000, currency="usd")
    used_source = ctx.new_source()
    ctx.call(
        "createCharge", status=200, json={"source": used_source["id"], "link": ctx.new_link()["id"]}
    )
    cases: list[tuple[dict[str, Any], str]] = [
        ({"amount": 5000, "currency": "usd"}, "missing_card"),
        ({"card": ctx.new_token(), "source": ctx.new_source()["id"]}, "missing_card"),
        ({"card": ctx.new_token()}, "invalid_charge"),
        ({"card": ctx.new_token(), "link": ctx.new_link()["id"], "amount": 5}, "invalid_charge"),
        ({"card": ctx.new_token(), "amount": 0, "currency": "usd"}, "invalid_amount"),
        ({"card": ctx.new_token(), "amount": 50, "currency": "usd"}, "invalid_amount"),
        ({"card": ctx.new_token(), "amount": 5000, "currency": "xyz"}, "invalid_currency"),
        ({"card": ctx.new_token(), "link": paid["id"]}, "link_not_payable"),
        ({"card": used_token, "amount": 5000, "currency": "usd"}, "used_token"),
        ({"card": "tokn_test_unknown", "amount": 5000, "currency": "usd"}, "invalid_card_token"),
        ({"source": used_source["id"], "amount": 100000, "currency": "thb"}, "bad_request"),
        (
            {"card": ctx.new_token(), "amount": 5000, "currency": "usd", "customer_email": "x"},
            "bad_request",
        ),
    ]
    for body, code in cases:
        assert error_code(ctx.call("createCharge", status=400, json=body)) == code, body
    live = ctx.account.live.secret_key
    refused = ctx.call("createCharge", status=400, key=live, json={"card": "x", "link": "y"})
    assert error_code(refused) == "live_mode_unavailable"


@scenario("createCharge", 404)
def pay_a_missing_link_or_source(ctx: Ctx) -> None:
    ctx.call("createCharge", status=404, json={"card": ctx.new_token(), "link": "payl_test_x"})
    body = {"source": "src_test_missing", "amount": 100000, "currency": "thb"}
    ctx.call("createCharge", status=404, json=body)


# --- listCharges, getCharge


@scenario("listCharges", 200)
def list_charges_every_way(ctx: Ctx) -> None:
    made = [ctx.new_charge(), ctx.new_charge(), ctx.pending_charge()]
    listing = ctx.call("listCharges", status=200, query={"order": "reverse_chronological"})
    assert [c["id"] for c in listing.json()["data"]] == [c["id"] for c in made[::-1]]
    body = {"limit": 1, "offset": None, "from": "2020-01-01", "to": None}
    assert ctx.call("listCharges", status=200, json=body, slash=True).json()["total"] == 3


@scenario("listCharges", 400)
def list_all_charges_with_bad_parameters(ctx: Ctx) -> None:
    for query in ({"limit": -1}, {"order": "newest"}, {"to": "2001-01-01", "from": "2002-01-01"}):
        ctx.call("listCharges", status=400, query=query)


@scenario("getCharge", 200)
def get_charges(ctx: Ctx) -> None:
    for made in (ctx.new_charge(), ctx.pending_charge()):
        got = ctx.call("getCharge", status=200, charge_id=made["id"], slash=True).json()
        assert got == made


@scenario("getCharge", 400)
def get_a_charge_with_a_malformed_body(ctx: Ctx) -> None:
    charge = ctx.new_charge()
    headers = {"content-type": "application/json"}
    ctx.call("getCharge", status=400, charge_id=charge["id"], content=b'"', headers=headers)


@scenario("getCharge", 404)
def get_charges_of_others(ctx: Ctx) -> None:
    charge = ctx.new_charge()
    for key in (ctx.other_account.test.secret_key, ctx.account.live.secret_key):
        ctx.call("getCharge", status=404, charge_id=charge["id"], key=key)
    ctx.call("getCharge", status=404, charge_id="chrg_test_missing")


# --- listEvents, getEvent, listChargeEvents


@scenario("listEvents", 200)
def list_events_every_way(ctx: Ctx) -> None:
    charge = ctx.new_charge()
    listing = ctx.call("listEvents", status=200, query={"limit": 100}).json()
    keys = [e["key"] for e in listing["data"]]
    assert keys[-3:] == ["link.create", "charge.create", "charge.complete"]
    assert listing["data"][-1]["data"] == charge
    body = {"limit": 1, "offset": 0, "from": "2020-01-01", "to": None, "order": None}
    assert len(ctx.call("listEvents", status=200, json=body, slash=True).json()["data"]) == 1


@scenario("listEvents", 400)
def list_events_with_bad_parameters(ctx: Ctx) -> None:
    for query in ({"limit": -1}, {"order": "newest"}, {"from": "soon"}):
        ctx.call("listEvents", status=400, query=query)


@scenario("getEvent", 200)
def get_events(ctx: Ctx) -> None:
    event = ctx.new_event()
    assert ctx.call("getEvent", status=200, event_id=event["id"], slash=True).json() == event


@scenario("getEvent", 400)
def get_an_event_with_a_malformed_body(ctx: Ctx) -> None:
    event = ctx.new_event()
    headers = {"content-type": "application/json"}
    ctx.call("getEvent", status=400, event_id=event["id"], content=b'"', headers=headers)


@scenario("getEvent", 404)
def get_events_of_others(ctx: Ctx) -> None:
    event = ctx.new_event()
    for key in (ctx.other_account.test.secret_key, ctx.account.live.secret_key):
        ctx.call("getEvent", status=404, event_id=event["id"], key=key)
    ctx.call("getEvent", status=404, event_id="evnt_test_missing")


@scenario("listChargeEvents", 200)
def list_a_charges_events(ctx: Ctx) -> None:
    pending = ctx.pending_charge()
    ctx.call("markChargeAsFailed", status=200, charge_id=pending["id"])
    listing = ctx.call("listChargeEvents", status=200, charge_id=pending["id"], slash=True)
    assert [e["key"] for e in listing.json()["data"]] == ["charge.create", "charge.failed"]


@scenario("listChargeEvents", 400)
def list_a_charges_events_with_bad_parameters(ctx: Ctx) -> None:
    charge = ctx.new_charge()
    ctx.call("listChargeEvents", status=400, charge_id=charge["id"], query={"limit": "all"})


@scenario("listChargeEvents", 404)
def list_events_of_others_charges(ctx: Ctx) -> None:
    charge = ctx.new_charge()
    key = ctx.other_account.test.secret_key
    ctx.call("listChargeEvents", status=404, charge_id=charge["id"], key=key)
    ctx.call("listChargeEvents", status=404, charge_id="chrg_test_missing")


# --- webhook endpoints, redeliverEvent

HOOK_URL = "http://127.0.0.1:9/webhooks/omise"  # nothing listens: these tests deliver nothing


@scenario("createWebhookEndpoint", 200)
def add_endpoints_every_way(ctx: Ctx) -> None:
    made = ctx.call("createWebhookEndpoint", status=200, json={"url": HOOK_URL}).json()
    assert made["events"] is None and made["enabled"] and made["secret"].startswith("whsec_")
    form = {"url": HOOK_URL, "events": ["charge.failed", "charge.complete"]}
    picky = ctx.call("createWebhookEndpoint", status=200, form=form, slash=True).json()
    assert picky["events"] == ["charge.complete", "charge.failed"]
    body = {"url": HOOK_URL, "events": "link.create,link.update", "signature_scheme": "omise"}
    omise = ctx.call("createWebhookEndpoint", status=200, json=body).json()
    assert omise["signature_scheme"] == "omise" and omise["events"] == [
        "link.create",
        "link.update",
    ]


@scenario("createWebhookEndpoint", 400)
def add_endpoints_that_cannot_be(ctx: Ctx) -> None:
    live = ctx.account.live.secret_key
    for url in ("http://example.com/hook", "https://10.0.0.1/hook", "https://127.1/hook"):
        refused = ctx.call("createWebhookEndpoint", status=400, key=live, json={"url": url})
        assert error_code(refused) == "invalid_url"
    for url in ("http://169.254.169.254/latest/meta-data/", "http://[fd00::1]/"):
        refused = ctx.call("createWebhookEndpoint", status=400, json={"url": url})
        assert error_code(refused) == "invalid_url"  # test keys too: loopback only
    for body in (
        {},
        {"url": "ftp://127.0.0.1/x"},
        {"url": HOOK_URL, "events": ["charge.refund"]},
        {"url": HOOK_URL, "events": []},
        {"url": HOOK_URL, "signature_scheme": "hmac"},
    ):
        ctx.call("createWebhookEndpoint", status=400, json=body)
    assert ctx.call("listWebhookEndpoints", status=200).json()["total"] == 0


@scenario("createWebhookEndpoint", 422)
def add_more_endpoints_than_allowed(ctx: Ctx) -> None:
    for n in range(16):
        ctx.call("createWebhookEndpoint", status=200, json={"url": f"{HOOK_URL}/{n}"})
    refused = ctx.call("createWebhookEndpoint", status=422, json={"url": HOOK_URL})
    assert error_code(refused) == "limit_exceeded"


def new_endpoint(ctx: Ctx, **fields: Any) -> dict[str, Any]:
    body = {"url": HOOK_URL, **fields}
    made: dict[str, Any] = ctx.call("createWebhookEndpoint", status=200, json=body).json()
    return made


@scenario("listWebhookEndpoints", 200)
def list_endpoints_every_way(ctx: Ctx) -> None:
    first, second = new_endpoint(ctx), new_endpoint(ctx)
    listing = ctx.call("listWebhookEndpoints", status=200, slash=True).json()
    assert [e["id"] for e in listing["data"]] == [first["id"], second["id"]]
    assert all("secret" not in e for e in listing["data"])
    newest = ctx.call("listWebhookEndpoints", status=200, query={"order": "reverse_chronological"})
    assert newest.json()["data"][0]["id"] == second["id"]
    other = ctx.call("listWebhookEndpoints", status=200, key=ctx.other_account.test.secret_key)
    assert other.json()["total"] == 0


@scenario("listWebhookEndpoints", 400)
def list_endpoints_with_bad_parameters(ctx: Ctx) -> None:
    ctx.call("listWebhookEndpoints", status=400, query={"offset": -1})


@scenario("getWebhookEndpoint", 200)
def get_endpoints(ctx: Ctx) -> None:
    made = new_endpoint(ctx)
    found = ctx.call("getWebhookEndpoint", status=200, endpoint_id=made["id"], slash=True).json()
    assert found == {k: v for k, v in made.items() if k != "secret"}


@scenario("getWebhookEndpoint", 400)
def get_an_endpoint_with_a_malformed_body(ctx: Ctx) -> None:
    headers = {"content-type": "application/json"}
    made = new_endpoint(ctx)
    ctx.call(
        "getWebhookEndpoint", status=400, endpoint_id=made["id"], content=b"{", headers=headers
    )


def _endpoint_404(op: str) -> Scenario:
    def others_and_missing(ctx: Ctx) -> None:
        made = new_endpoint(ctx)
        for key in (ctx.other_account.test.secret_key, ctx.account.live.secret_key):
            ctx.call(op, status=404, endpoint_id=made["id"], key=key)
        ctx.call(op, status=404, endpoint_id="wbhk_test_missing")

    return others_and_missing


for _op in (
    "getWebhookEndpoint",
    "updateWebhookEndpoint",
    "deleteWebhookEndpoint",
    "rollWebhookEndpointSecret",
):
    scenario(_op, 404)(_endpoint_404(_op))


@scenario("updateWebhookEndpoint", 200)
def update_endpoints_every_way(ctx: Ctx) -> None:
    made = new_endpoint(ctx)
    off = ctx.call(
        "updateWebhookEndpoint", status=200, endpoint_id=made["id"], json={"enabled": False}
    ).json()
    assert not off["enabled"] and off["disabled_reason"] == "disabled by the account"
    form = {"enabled": "true", "events": ["charge.complete"], "signature_scheme": "omise"}
    on = ctx.call("updateWebhookEndpoint", status=200, endpoint_id=made["id"], form=form).json()
    assert on["enabled"] and on["disabled_reason"] is None
    assert (on["events"], on["signature_scheme"]) == (["charge.complete"], "omise")
    body = {"url": "http://localhost:3000/hooks", "events": ["*"]}
    moved = ctx.call("updateWebhookEndpoint", status=200, endpoint_id=made["id"], json=body)
    assert (moved.json()["url"], moved.json()["events"]) == (body["url"], None)


@scenario("updateWebhookEndpoint", 400)
def update_endpoints_wrongly(ctx: Ctx) -> None:
    made = new_endpoint(ctx)
    for body in ({"url": "gopher://127.0.0.1/"}, {"events": ["nope"]}, {"enabled": "maybe"}):
        ctx.call("updateWebhookEndpoint", status=400, endpoint_id=made["id"], json=body)
    live = ctx.call(
        "createWebhookEndpoint",
        status=200,
        key=ctx.account.live.secret_key,
        json={"url": "https://93.184.216.34/hook"},
    ).json()
    refused = ctx.call(
        "updateWebhookEndpoint",
        status=400,
        endpoint_id=live["id"],
        key=ctx.account.live.secret_key,
        json={"url": "https://192.168.1.1/hook"},
    )
    assert error_code(refused) == "invalid_url"


@scenario("deleteWebhookEndpoint", 200)
def delete_endpoints(ctx: Ctx) -> None:
    made = new_endpoint(ctx)
    gone = ctx.call("deleteWebhookEndpoint", status=200, endpoint_id=made["id"], slash=True)
    assert gone.json() == {
        "object": "webhook_endpoint",
        "id": made["id"],
        "livemode": False,
        "deleted": True,
    }
    ctx.call("getWebhookEndpoint", status=404, endpoint_id=made["id"])


@scenario("deleteWebhookEndpoint", 400)
def delete_an_endpoint_with_a_malformed_body(ctx: Ctx) -> None:
    made = new_endpoint(ctx)
    headers = {"content-type": "text/csv"}
    ctx.call(
        "deleteWebhookEndpoint", status=400, endpoint_id=made["id"], content=b"a,b", headers=headers
    )


@scenario("rollWebhookEndpointSecret", 200)
def roll_secrets(ctx: Ctx) -> None:
    made = new_endpoint(ctx)
    rolled = ctx.call("rollWebhookEndpointSecret", status=200, endpoint_id=made["id"]).json()
    assert rolled["secret"] != made["secret"] and rolled["previous_secret_expires_at"]


@scenario("rollWebhookEndpointSecret", 400)
def roll_with_a_malformed_body(ctx: Ctx) -> None:
    made = new_endpoint(ctx)
    headers = {"content-type": "application/json"}
    ctx.call(
        "rollWebhookEndpointSecret",
        status=400,
        endpoint_id=made["id"],
        content=b"[",
        headers=headers,
    )


@scenario("redeliverEvent", 200)
def redeliver_events(ctx: Ctx) -> None:
    made = new_endpoint(ctx, events=["charge.complete"])
    event = ctx.new_event()  # link.create: not in the endpoint's filter, but named explicitly
    again = ctx.call(
        "redeliverEvent", status=200, event_id=event["id"], json={"endpoint": made["id"]}
    )
    assert again.json()["id"] == event["id"]
    new_endpoint(ctx)  # every event
    ctx.call("redeliverEvent", status=200, event_id=event["id"], slash=True)


@scenario("redeliverEvent", 400)
def redeliver_where_nothing_listens(ctx: Ctx) -> None:
    event = ctx.new_event()
    ctx.call("redeliverEvent", status=400, event_id=event["id"])  # no endpoint at all
    made = new_endpoint(ctx)
    ctx.call("updateWebhookEndpoint", status=200, endpoint_id=made["id"], json={"enabled": False})
    body = {"endpoint": made["id"]}
    ctx.call("redeliverEvent", status=400, event_id=event["id"], json=body)


@scenario("redeliverEvent", 404)
def redeliver_what_is_not_there(ctx: Ctx) -> None:
    event = ctx.new_event()
    new_endpoint(ctx)
    key = ctx.other_account.test.secret_key
    ctx.call("redeliverEvent", status=404, event_id=event["id"], key=key)
    ctx.call("redeliverEvent", status=404, event_id="evnt_test_missing")
    body = {"endpoint": "wbhk_test_missing"}
    ctx.call("redeliverEvent", status=404, event_id=event["id"], json=body)


# --- getHealth, getReadiness


@scenario("getHealth", 200)
def the_process_is_up(ctx: Ctx) -> None:
    response = ctx.call("getHealth", status=200, key=None, slash=True)
    assert response.headers["x-request-id"].startswith("req_")


@scenario("getReadiness", 200)
def ready_with_a_current_schema(ctx: Ctx) -> None:
    given = {"X-Request-Id": "lb-probe-0001"}
    response = ctx.call("getReadiness", status=200, key=None, headers=given)
    assert response.json()["checks"] == {"database": "ok", "redis": "not used"}
    assert response.headers["x-request-id"] == "lb-probe-0001"


@scenario("getReadiness", 503)
def not_ready_when_the_schema_is_behind(ctx: Ctx) -> None:
    ctx.monkeypatch.setattr(health, "_head", lambda: "9999")
    response = ctx.call("getReadiness", status=503, key=None)
    assert response.json()["checks"]["database"].startswith("schema at")

    async def broken(_services: Any) -> str:
        raise OSError("connection refused")

    ctx.monkeypatch.setattr(health, "_check_database", broken)
    response = ctx.call("getReadiness", status=503, key=None)
    assert response.json()["checks"]["database"] == "failed: OSError"


@scenario("getMetrics", 200)
def metrics_when_on(ctx: Ctx) -> None:
    client = ctx.make_client(metrics=True)
    ctx.new_charge()  # a charge in the database: counted at scrape time
    ctx.call("listLinks", status=200, client=client)
    text = ctx.call("getMetrics", status=200, client=client, key=None).text
    assert 'paylinks_http_requests_total{method="GET",route="/links",status="200"}' in text
    assert 'paylinks_charges{livemode="false",status="successful"}' in text
    assert "paylinks_outbox_backlog" in text and "payl_test_" not in text  # templates, not ids


@scenario("getMetrics", 401)
def metrics_behind_a_token(ctx: Ctx) -> None:
    client = ctx.make_client(metrics=True, metrics_token="scrape-me-please")
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        ctx.call("getMetrics", status=401, client=client, key=None, headers=headers)
    right = {"Authorization": "Bearer scrape-me-please"}
    ctx.call("getMetrics", status=200, client=client, key=None, headers=right, slash=True)


@scenario("getMetrics", 404)
def metrics_off_by_default(ctx: Ctx) -> None:
    ctx.call("getMetrics", status=404, key=None)


# --- markChargeAsPaid, markChargeAsFailed


@scenario("markChargeAsPaid", 200)
def complete_a_pending_charge(ctx: Ctx) -> None:
    pending = ctx.pending_charge()
    paid = ctx.call("markChargeAsPaid", status=200, charge_id=pending["id"], content=b"").json()
    assert paid["status"] == "successful" and paid["paid_at"] and paid["transaction"]
    assert paid["source"]["charge_status"] == "successful"


@scenario("markChargeAsPaid", 400)
def complete_what_cannot_be_completed(ctx: Ctx) -> None:
    done = ctx.new_charge()
    refused = ctx.call("markChargeAsPaid", status=400, charge_id=done["id"])
    assert error_code(refused) == "invalid_charge"
    invoice = ctx.new_link()
    late = ctx.pending_charge(invoice["id"])
    ctx.new_charge(link=invoice["id"])  # a card pays the single-use link first
    gone = ctx.call("markChargeAsPaid", status=400, charge_id=late["id"])
    assert error_code(gone) == "link_not_payable"
    live = ctx.account.live.secret_key  # the test charge is not the live key's to see
    ctx.call("markChargeAsPaid", status=404, charge_id=late["id"], key=live)


@scenario("markChargeAsPaid", 404)
def complete_a_missing_charge(ctx: Ctx) -> None:
    ctx.call("markChargeAsPaid", status=404, charge_id="chrg_test_missing")


@scenario("markChargeAsFailed", 200)
def fail_a_pending_charge(ctx: Ctx) -> None:
    pending = ctx.pending_charge()
    headers = {"content-type": "application/json"}  # the Node SDK's `null` body
    failed = ctx.call(
        "markChargeAsFailed", status=200, charge_id=pending["id"], content=b"null", headers=headers
    )
    assert (failed.json()["status"], failed.json()["failure_code"]) == (
        "failed",
        "payment_rejected",
    )


@scenario("markChargeAsFailed", 400)
def fail_what_cannot_be_failed(ctx: Ctx) -> None:
    done = ctx.new_charge()
    refused = ctx.call("markChargeAsFailed", status=400, charge_id=done["id"])
    assert error_code(refused) == "invalid_charge"
    live = ctx.account.live.secret_key  # the test charge is not the live key's to see
    ctx.call("markChargeAsFailed", status=404, charge_id=ctx.pending_charge()["id"], key=live)


@scenario("markChargeAsFailed", 404)
def fail_a_missing_charge(ctx: Ctx) -> None:
    ctx.call("markChargeAsFailed", status=404, charge_id="chrg_test_missing")


# --- createToken, getToken


@scenario("createToken", 200)
def tokenize_as_the_sdks_do(ctx: Ctx) -> None:
    public = ctx.account.test.public_key
    body = {"card": card(postal_code=10320, country="TH", city="Bangkok", security_code=123)}
    token = ctx.call("createToken", status=200, key=public, json=body).json()
    assert token["card"]["country"] == "th" and token["card"]["postal_code"] == "10320"
    amex = {"card": card("378282246310005", expiration_year="35", security_code="1234")}
    token = ctx.call("createToken", status=200, json=amex).json()  # the secret key works too
    assert token["card"]["brand"] == "American Express" and token["card"]["expiration_year"] == 2035
    form = {"card": {**card("5555 5555 5555 4444"), "expiration_month": "7", "security_code": ""}}
    token = ctx.call("createToken", status=200, key=public, form=form, slash=True).json()
    assert token["card"]["brand"] == "MasterCard" and token["card"]["security_code_check"] is False


@scenario("createToken", 400)
def cards_the_vault_refuses(ctx: Ctx) -> None:
    public = ctx.account.test.public_key
    cases: list[tuple[dict[str, Any], str]] = [
        ({}, "invalid_card"),
        ({"card": "4242424242424242"}, "invalid_card"),
        ({"card": card("4242424242424241")}, "invalid_card"),
        ({"card": card(expiration_year=2001)}, "invalid_card"),
        ({"card": card(expiration_month=13)}, "invalid_card"),
        ({"card": card(security_code="12")}, "invalid_card"),
        ({"card": card("4012888888881881")}, "test_mode_live_card"),
    ]
    for body, code in cases:
        response = ctx.call("createToken", status=400, key=public, json=body)
        assert error_code(response) == code, body
        assert "4242424242424241" not in response.text
    live = ctx.call(
        "createToken", status=400, key=ctx.account.live.public_key, json={"card": card()}
    )
    assert error_code(live) == "live_mode_unavailable"
    malformed = ctx.call(
        "createToken",
        status=400,
        key=public,
        content=b"{",
        headers={"content-type": "application/json"},
    )
    assert error_code(malformed) == "bad_request"


@scenario("getToken", 200)
def get_a_token_before_and_after_use(ctx: Ctx) -> None:
    token_id = ctx.new_token()
    public = ctx.account.test.public_key
    fresh = ctx.call("getToken", status=200, key=public, token_id=token_id).json()
    assert (fresh["used"], fresh["charge_status"]) == (False, "unknown")
    ctx.new_charge(card=token_id)
    used = ctx.call("getToken", status=200, token_id=token_id, slash=True).json()
    assert (used["used"], used["charge_status"]) == (True, "successful")


@scenario("getToken", 400)
def get_a_token_with_a_malformed_body(ctx: Ctx) -> None:
    headers = {"content-type": "application/json"}
    ctx.call("getToken", status=400, token_id=ctx.new_token(), content=b"{", headers=headers)


@scenario("getToken", 404)
def get_tokens_of_others(ctx: Ctx) -> None:
    token_id = ctx.new_token()
    ctx.call("getToken", status=404, token_id=token_id, key=ctx.other_account.test.public_key)
    ctx.call("getToken", status=404, token_id="tokn_test_missing")


# --- createSource, getSource, getSourceQr


@scenario("createSource", 200)
def create_sources_with_either_key(ctx: Ctx) -> None:
    source = ctx.new_source(amount=100050)
    assert source["scannable_code"]["raw_data"].startswith("000201")
    form = {"type": "promptpay", "amount": "2000", "currency": "THB"}
    ctx.call("createSource", status=200, form=form, slash=True)


@scenario("createSource", 400)
def sources_the_server_refuses(ctx: Ctx) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"amount": 100000, "currency": "thb"}, "bad_request"),
        ({"type": "bitcoin", "amount": 100000, "currency": "thb"}, "bad_request"),
        ({"type": "promptpay", "amount": 5000, "currency": "usd"}, "bad_request"),
        ({"type": "promptpay", "amount": 100, "currency": "thb"}, "invalid_amount"),
        ({"type": "promptpay", "currency": "thb"}, "invalid_amount"),
        ({"type": "promptpay", "amount": 100000, "currency": "xyz"}, "invalid_currency"),
    ]
    for body, code in cases:
        assert error_code(ctx.call("createSource", status=400, json=body)) == code, body


@scenario("getSource", 200)
def get_a_source(ctx: Ctx) -> None:
    source = ctx.new_source()
    public = ctx.account.test.public_key
    got = ctx.call("getSource", status=200, key=public, source_id=source["id"], slash=True)
    assert got.json() == source


@scenario("getSource", 400)
def get_a_source_with_a_malformed_body(ctx: Ctx) -> None:
    headers = {"content-type": "application/json"}
    source_id = ctx.new_source()["id"]
    ctx.call("getSource", status=400, source_id=source_id, content=b"{", headers=headers)


@scenario("getSource", 404)
def get_sources_of_others(ctx: Ctx) -> None:
    source_id = ctx.new_source()["id"]
    ctx.call("getSource", status=404, source_id=source_id, key=ctx.other_account.test.secret_key)


@scenario("getSourceQr", 200)
def get_the_qr_images(ctx: Ctx) -> None:
    source = ctx.new_source()
    image = source["scannable_code"]["image"]
    for kind, uri in (("svg", image["download_uri"]), ("png", image["png_uri"])):
        response = ctx.call("getSourceQr", status=200, key=None, source_id=source["id"], kind=kind)
        assert uri.endswith(f"/sources/{source['id']}/qr.{kind}")
        assert response.headers["content-type"] == f"image/{'svg+xml' if kind == 'svg' else kind}"


@scenario("getSourceQr", 400)
def get_a_qr_image_in_another_format(ctx: Ctx) -> None:
    source_id = ctx.new_source()["id"]
    # `kind` is outside the documented enum: the request itself is invalid, as intended.
    ctx.call("getSourceQr", status=400, key=None, source_id=source_id, kind="jpg")


@scenario("getSourceQr", 404)
def get_the_qr_image_of_a_missing_source(ctx: Ctx) -> None:
    ctx.call("getSourceQr", status=404, key=None, source_id="src_test_missing", kind="svg")


@scenario("getSourceQr", 500)
def qr_image_when_the_database_fails(ctx: Ctx) -> None:
    source_id = ctx.new_source()["id"]

    def explode(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("boom")

    ctx.monkeypatch.setattr(sources_service, "find_source", explode)
    response = ctx.call("getSourceQr", status=500, key=None, source_id=source_id, kind="png")
    assert error_code(response) == "internal_error" and "boom" not in response.text


# --- What every secured operation shares: 401, 413, 429, 500


def valid_request(ctx: Ctx, op: str) -> dict[str, Any]:
    """Arguments of `Ctx.call` for a request of `op` that succeeds (made afresh each time:
    tokens, sources and pending charges work once)."""
    if op == "createLink":
        return {"json": {"amount": 100000, "currency": "thb", "title": "Valid"}}
    if op in ("listLinks", "listCharges", "listEvents"):
        return {"query": {"limit": 5}}
    if op == "getEvent":
        return {"event_id": ctx.new_event()["id"]}
    if op == "listChargeEvents":
        return {"charge_id": ctx.new_charge()["id"]}
    if op in ("getLink", "deleteLink", "listLinkCharges", "getLinkStats"):
        return {"link_id": ctx.new_link()["id"]}
    if op == "updateLink":
        return {"link_id": ctx.new_link()["id"], "json": {"description": "changed"}}
    if op == "search":
        return {"query": {"scope": "link", "query": "valid"}}
    if op == "createCharge":
        return {"json": {"amount": 5000, "currency": "usd", "card": ctx.new_token()}}
    if op == "getCharge":
        return {"charge_id": ctx.new_charge()["id"]}
    if op in ("markChargeAsPaid", "markChargeAsFailed"):
        return {"charge_id": ctx.pending_charge()["id"]}
    if op == "createToken":
        return {"json": {"card": card()}}
    if op == "getToken":
        return {"token_id": ctx.new_token()}
    if op == "createSource":
        return {"json": {"type": "promptpay", "amount": 100000, "currency": "thb"}}
    if op == "getSource":
        return {"source_id": ctx.new_source()["id"]}
    if op == "createWebhookEndpoint":
        return {"json": {"url": HOOK_URL}}
    if op == "listWebhookEndpoints":
        return {"query": {"limit": 5}}
    if op in ("getWebhookEndpoint", "deleteWebhookEndpoint", "rollWebhookEndpointSecret"):
        return {"endpoint_id": new_endpoint(ctx)["id"]}
    if op == "updateWebhookEndpoint":
        return {"endpoint_id": new_endpoint(ctx)["id"], "json": {"enabled": False}}
    if op == "redeliverEvent":
        return {"event_id": ctx.new_event()["id"], "json": {"endpoint": new_endpoint(ctx)["id"]}}
    raise AssertionError(f"no valid request known for {op}; add one")


def path_params(request: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in request.items() if k.endswith("_id")}


def takes_public_key(op: str) -> bool:
    path, method = OPERATIONS[op]
    return {"publicKey": []} in DOC["paths"][path][method].get("security", [])


def _unauthorized(op: str) -> Scenario:
    def wrong_or_missing_key(ctx: Ctx) -> None:
        keys: list[str | None] = [None, "skey_test_unknown", "pkey_test_unknown"]
        if not takes_public_key(op):
            keys.append(ctx.account.test.public_key)
        for key in keys:
            response = ctx.call(op, status=401, key=key, **valid_request(ctx, op))
            assert error_code(response) == "authentication_failure"

    return wrong_or_missing_key


def _too_large(op: str) -> Scenario:
    def huge_body_declared_and_streamed(ctx: Ctx) -> None:
        ids = path_params(valid_request(ctx, op))
        body = b"title=" + b"x" * 70_000
        headers = {"content-type": FORM}
        response = ctx.call(op, status=413, content=body, headers=headers, **ids)
        assert error_code(response) == "payload_too_large"
        chunks = iter([b"title="] + [b"x" * 10_000] * 7)  # no Content-Length: read and cut
        ctx.call(op, status=413, content=chunks, headers=headers, **ids)

    return huge_body_declared_and_streamed


def _rate_limited(op: str) -> Scenario:
    def third_request_in_a_minute(ctx: Ctx) -> None:
        limited = ctx.make_client(rate_limits="2/minute")
        for remaining in ("1", "0"):
            ok = ctx.call(op, status=200, client=limited, **valid_request(ctx, op))
            assert ok.headers["x-ratelimit-remaining"] == remaining
            assert ok.headers["x-ratelimit-limit"] == "2" and "ratelimit-policy" in ok.headers
        refused = ctx.call(op, status=429, client=limited, **valid_request(ctx, op))
        assert error_code(refused) == "too_many_requests"
        assert 1 <= int(refused.headers["retry-after"]) <= 60

    return third_request_in_a_minute


def _internal_error(op: str) -> Scenario:
    def unexpected_exception(ctx: Ctx) -> None:
        request = valid_request(ctx, op)

        def explode(*_args: Any, **_kwargs: Any) -> None:
            raise RuntimeError("boom")

        ctx.monkeypatch.setattr(api, "Params", explode)
        response = ctx.call(op, status=500, check_request=False, **request)
        assert error_code(response) == "internal_error" and "boom" not in response.text

    return unexpected_exception


def _key_reused(op: str) -> Scenario:
    def same_key_other_parameters(ctx: Ctx) -> None:
        request = valid_request(ctx, op)
        key = {"Idempotency-Key": f"reuse-{op}"}
        first = ctx.call(op, status=200, headers=key, **request)
        again = ctx.call(op, status=200, headers=key, **request)
        assert again.content == first.content and again.headers["idempotent-replayed"] == "true"
        other = {**request, "query": {**request.get("query", {}), "probe": "different"}}
        refused = ctx.call(op, status=422, headers=key, **other)
        assert error_code(refused) == "idempotency_key_reused"

    return same_key_other_parameters


def _key_in_use(op: str) -> Scenario:
    def retried_while_the_first_has_not_answered(ctx: Ctx) -> None:
        request = valid_request(ctx, op)
        key = {"Idempotency-Key": f"busy-{op}"}

        def dies(*_args: Any, **_kwargs: Any) -> None:
            raise RuntimeError("killed after the commit, before the answer was stored")

        ctx.monkeypatch.setattr(idempotency, "store", dies)
        ctx.call(op, status=500, headers=key, check_request=False, **request)
        busy = ctx.call(op, status=409, headers=key, **request)
        assert error_code(busy) == "idempotency_key_in_use"

    return retried_while_the_first_has_not_answered


WRITES = [
    op["operationId"]
    for _path, method, op in operations()
    if method in ("post", "patch", "delete") and op.get("security", DOC.get("security")) != []
]

for _op in WRITES:
    scenario(_op, 409)(_key_in_use(_op))
    scenario(_op, 422)(_key_reused(_op))

for _op in SECURED:
    scenario(_op, 401)(_unauthorized(_op))
    scenario(_op, 413)(_too_large(_op))
    scenario(_op, 429)(_rate_limited(_op))
    scenario(_op, 500)(_internal_error(_op))


@scenario("listLinks", 401)
@scenario("listLinks", 429)
def guessing_keys_is_limited_per_address(ctx: Ctx) -> None:
    limited = ctx.make_client(rate_limits="2/minute")
    for _ in range(2):  # 401s carry no rate-limit headers (the check fails if they did)
        ctx.call("listLinks", status=401, client=limited, key="skey_test_guess")
    ctx.call("listLinks", status=429, client=limited, key="skey_test_guess")


# ---------------------------------------------------------------------------------------------
# Tests

CASES = [
    pytest.param(op, status, function, id=f"{op}-{status}-{function.__name__}")
    for (op, status), functions in sorted(SCENARIOS.items())
    for function in functions
]


@pytest.fixture
def ctx(
    client: TestClient,
    make_client: Callable[..., TestClient],
    account: TestAccount,
    other_account: TestAccount,
    monkeypatch: pytest.MonkeyPatch,
) -> Ctx:
    return Ctx(client, make_client, account, other_account, monkeypatch)


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
    for path in ("/nothing", "/links/a/b/c", "/refunds", "/sources/x/qr.svg/"):
        response = client.get(path, auth=auth(account.test.secret_key))
        assert response.status_code == 404
        check_against("/components/responses/NotFound", response, f"GET {path}")


def test_document_is_served_at_openapi_json(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == openapi_document()
    assert client.head("/openapi.json").status_code == 200


# The hosted payment page, the dashboard and their assets are HTML for people, not part of the
# API document.
PAGE_PREFIXES = ("/pay/", "/static/", "/dashboard")


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
        params = _parameters(path, method)
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
                target_params = {n for (_place, n) in _parameters(*OPERATIONS[target])}
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
        for (place, name), param_ptr in _parameters(*OPERATIONS[target]).items():
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
        ("search", {"query": {"scope": "charge"}}),
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


# ---------------------------------------------------------------------------------------------
# Edge cases an earlier audit found answered wrongly (all fixed; kept as regressions).


def test_list_echoes_early_dates_as_valid_timestamps(ctx: Ctx) -> None:
    ctx.call("listLinks", status=200, query={"from": "0999-06-01"})


def test_search_created_filter_out_of_range_is_invalid_filter(ctx: Ctx) -> None:
    query = {"scope": "link", "filters": {"created": "0001-01-01T00:00:00+01:00"}}
    ctx.call("search", status=400, query=query)


def test_blank_card_name_is_invalid_card(ctx: Ctx) -> None:
    body = {"card": card(name="   ")}
    ctx.call("createToken", status=400, key=ctx.account.test.public_key, json=body)
