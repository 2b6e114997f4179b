"""The OpenAPI contract checker: the document (src/paylinks/openapi.yaml) against real
responses, on every backend.

Every response a scenario provokes is checked against the document:

* its status must be documented for the operation (or be the 405 of an undocumented method);
* its JSON body must match the documented schema, made strict for the check: an object may carry
  no field the document does not list (the published document stays open, so that adding a field
  is not a breaking change — but then it must be documented);
* documented required headers must be present, present headers must match their schemas, and a
  header the document knows (rate limits, `Allow`) may appear only where it is documented.

Requests the server accepts are also checked against the documented parameters and bodies.

Here: reading the document, validating against it, `Ctx` (what a scenario calls with, and the
(operation, status) pairs it has seen answered) and the `SCENARIOS` registry. The scenarios
register themselves from one module per resource (test_links.py, test_charges.py, ...);
test_contract.py imports them all, runs each, and fails when a documented (operation, status)
pair has none.
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
from factories import VISA_OK, TestAccount, auth, card
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from starlette.testclient import TestClient

from paylinks.app import openapi_document

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


def parameters(path: str, method: str) -> dict[tuple[str, str], str]:
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
    params = parameters(path, method)
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
    db: Any = None  # the app's Database (scenarios that connect the account to an Omise)

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

    def authorization(self, **fields: Any) -> dict[str, Any]:
        """A card charge made with capture=false: pending, authorized, capturable."""
        body = {"card": self.new_token(), "amount": 5000, "currency": "thb", "capture": False}
        charge: dict[str, Any] = self.call(
            "createCharge", status=200, json={**body, **fields}
        ).json()
        assert charge["capturable"] is True
        return charge

    def new_refund(self, amount: int = 100) -> dict[str, Any]:
        """A refund of `amount` of a new card charge."""
        charge = self.new_charge()
        body = {"amount": amount}
        refund: dict[str, Any] = self.call(
            "createRefund", status=200, charge_id=charge["id"], json=body
        ).json()
        return refund

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
        registered = SCENARIOS.setdefault((op, status), [])
        # A scenario module imported twice (under two names) would run its scenarios twice.
        assert function.__name__ not in {each.__name__ for each in registered}, (
            f"{op} {status}: {function.__name__} is registered twice"
        )
        registered.append(function)
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


# ---------------------------------------------------------------------------------------------
# What the scenarios share: webhook endpoints that receive nothing, and a valid request of
# every secured operation

HOOK_URL = "http://127.0.0.1:9/webhooks/omise"  # nothing listens: these tests deliver nothing


def new_endpoint(ctx: Ctx, **fields: Any) -> dict[str, Any]:
    body = {"url": HOOK_URL, **fields}
    made: dict[str, Any] = ctx.call("createWebhookEndpoint", status=200, json=body).json()
    return made


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
    if op in ("getCapability", "getTestClock", "resetTestClock"):
        return {}
    if op == "advanceTestClock":  # a second: nothing of the shared account's comes due
        return {"json": {"seconds": 1}}
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
    if op == "updateCharge":
        return {"charge_id": ctx.new_charge()["id"], "json": {"description": "changed"}}
    if op in ("captureCharge", "reverseCharge"):
        return {"charge_id": ctx.authorization()["id"]}
    if op == "expireCharge":
        return {"charge_id": ctx.pending_charge()["id"]}
    if op == "createRefund":
        return {"charge_id": ctx.new_charge()["id"], "json": {"amount": 100}}
    if op == "listChargeRefunds":
        return {"charge_id": ctx.new_charge()["id"]}
    if op == "getRefund":
        refund = ctx.new_refund()
        return {"charge_id": refund["charge"], "refund_id": refund["id"]}
    if op == "listRefunds":
        return {"query": {"limit": 5}}
    raise AssertionError(f"no valid request known for {op}; add one")


def path_params(request: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in request.items() if k.endswith("_id")}


def takes_public_key(op: str) -> bool:
    path, method = OPERATIONS[op]
    return {"publicKey": []} in DOC["paths"][path][method].get("security", [])
