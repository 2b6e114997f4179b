"""Fuzzing. Schemathesis generates valid and invalid requests for every operation of
/openapi.json, aimed at an account that has objects of every kind, and walks sequences of calls
along the document's links (stateful); every answer is checked against the document. Hypothesis
throws odd JSON and form bodies at the parsers. Never a 5xx, never an answer the document does
not describe, never an invalid request accepted.

CI runs a fixed set (derandomized: the same examples every run). `make fuzz` runs deeper with a
random seed, printed so that a failure can be replayed (PAYLINKS_FUZZ_SEED=N make fuzz)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
import schemathesis
from factories import TestAccount, auth, link, pay, token
from fuzzing import fuzz_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ensure_resource_availability,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.testclient import TestClient

from paylinks.app import openapi_document

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 12


OPERATIONS = sorted(
    op["operationId"]
    for item in openapi_document()["paths"].values()
    for method, op in item.items()
    if method in ("get", "post", "patch", "delete")
)
# Operations that take something a request could get wrong (no negative case exists otherwise).
WITH_INPUT = sorted(
    op["operationId"]
    for item in openapi_document()["paths"].values()
    for method, op in item.items()
    if method in ("get", "post", "patch", "delete")
    and (op.get("parameters") or op.get("requestBody") or item.get("parameters"))
)


@dataclass(frozen=True)
class Objects:
    """Real ids of an account's objects, one of each kind, for generated cases to aim at (a
    generated id alone finds nothing, and the code behind an existing object is never run)."""

    by_parameter: dict[str, str]

    def aim(self, case: Any, aimed: bool) -> Any:
        if aimed and case.path_parameters:
            for name in case.path_parameters:
                if name in self.by_parameter:
                    case.path_parameters[name] = self.by_parameter[name]
        return case


@pytest.fixture
def objects(client: TestClient, account: TestAccount) -> Objects:
    secret, public = auth(account.test.secret_key), auth(account.test.public_key)
    invoice = link(client, account, multiple=True)
    pay(client, account, invoice["id"])
    source = client.post(
        "/sources", auth=public, json={"type": "promptpay", "amount": 100000, "currency": "thb"}
    ).json()
    pending = client.post(
        "/charges", auth=secret, json={"source": source["id"], "link": invoice["id"]}
    ).json()
    event = client.get("/events", auth=secret, params={"limit": 1}).json()["data"][0]
    endpoint = client.post(
        "/webhook_endpoints", auth=secret, json={"url": "http://127.0.0.1:9/fuzz"}
    ).json()
    other_source = client.post(
        "/sources", auth=public, json={"type": "promptpay", "amount": 100000, "currency": "thb"}
    ).json()
    return Objects(
        {
            "link_id": invoice["id"],
            "charge_id": pending["id"],
            "token_id": token(client, account),
            "source_id": other_source["id"],
            "event_id": event["id"],
            "endpoint_id": endpoint["id"],
        }
    )


@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_generated_requests_get_documented_answers(
    client: TestClient, account: TestAccount, objects: Objects, operation_id: str
) -> None:
    """Valid requests (half of them aimed at the account's real objects): never a 5xx, and an
    answer the document describes."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    operation = schema.find_operation_by_id(operation_id)
    headers = {"Authorization": _basic(account.test.secret_key)}

    @fuzz_settings(EXAMPLES)
    @given(case=operation.as_strategy(), aimed=st.booleans())
    def generated(case: Any, aimed: bool) -> None:
        objects.aim(case, aimed).call_and_validate(headers=headers, checks=CHECKS)

    generated()


@pytest.mark.parametrize("operation_id", WITH_INPUT)
def test_invalid_requests_are_refused_with_a_4xx(
    client: TestClient, account: TestAccount, objects: Objects, operation_id: str
) -> None:
    """Requests that break the document (wrong types, missing fields, out-of-range values) are
    refused with a 4xx the document describes, never accepted and never a 5xx."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    operation = schema.find_operation_by_id(operation_id)
    headers = {"Authorization": _basic(account.test.secret_key)}

    @fuzz_settings(EXAMPLES)
    @given(case=operation.as_strategy(generation_mode=GenerationMode.NEGATIVE), aimed=st.booleans())
    def generated(case: Any, aimed: bool) -> None:
        objects.aim(case, aimed).call_and_validate(
            headers=headers, checks=[not_a_server_error, negative_data_rejection]
        )

    generated()


def test_sequences_of_calls_along_the_documents_links(
    client: TestClient, account: TestAccount, objects: Objects
) -> None:
    """Schemathesis' stateful mode: create, then follow the document's links (retrieve, update,
    pay, mark, roll, delete) with the ids the answers carry. `use_after_free` is not checked:
    Omise's deleted links stay readable (`deleted: true`), by design."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    headers = {"Authorization": _basic(account.test.secret_key)}

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": headers}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(
                response, checks=[*CHECKS, ensure_resource_availability], headers=headers
            )

    Workflow.run(settings=fuzz_settings(25, stateful_step_count=6))


def _basic(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


# --- parsers ------------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(["1e3", "-0", "00100", "100000.0", "0x10", "１２３", "\u202e", "9" * 400]),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = [
    *("amount", "currency", "title", "description", "multiple", "metadata", "usage_limit"),
    *("expires_at", "card", "link", "source", "limit", "offset", "order", "from", "to"),
]
BODIES = st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES, max_size=6)
PATHS = ["/links", "/charges", "/tokens", "/sources", "/webhook_endpoints", "/search"]
FUZZ = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=list(HealthCheck))  # fmt: skip


def _answer_is_sane(response: Any) -> None:
    assert response.status_code < 500, response.text
    body = response.json()
    assert body["object"] in ("error", "link", "charge", "token", "source", "list",
                              "webhook_endpoint", "search")  # fmt: skip
    if body["object"] == "error":
        assert set(body) == {"object", "location", "code", "message"}


@FUZZ
@given(path=st.sampled_from(PATHS), body=BODIES)
def test_odd_json_bodies_never_break_the_server(
    client: TestClient, account: TestAccount, path: str, body: dict[str, Any]
) -> None:
    method = "GET" if path == "/search" else "POST"
    key = account.test.public_key if path in ("/tokens", "/sources") else account.test.secret_key
    content = json.dumps(body, allow_nan=False)
    response = client.request(
        method, path, auth=auth(key), content=content, headers={"content-type": "application/json"}
    )
    _answer_is_sane(response)


FORM_KEYS = st.sampled_from(FIELDS).flatmap(
    lambda name: st.sampled_from(
        [
            name,
            f"{name}[]",
            f"{name}[x]",
            f"{name}[0]",
            f"{name}[a][b]",
            f"{name}[",
            f"{name}]]",
            f"{name}[][]",
        ]
    )
)
FORM_VALUES = st.text(max_size=30) | st.sampled_from(["1e3", "-0", "00100", "true", "", "%00"])


@FUZZ
@given(
    path=st.sampled_from(PATHS),
    pairs=st.lists(st.tuples(FORM_KEYS, FORM_VALUES), max_size=8),
)
def test_odd_form_bodies_never_break_the_server(
    client: TestClient, account: TestAccount, path: str, pairs: list[tuple[str, str]]
) -> None:
    body = "&".join(f"{quote(k, safe='[]')}={quote(v)}" for k, v in pairs)
    key = account.test.public_key if path in ("/tokens", "/sources") else account.test.secret_key
    headers = {"content-type": "application/x-www-form-urlencoded"}
    method = "GET" if path == "/search" else "POST"
    _answer_is_sane(client.request(method, path, auth=auth(key), content=body, headers=headers))


@FUZZ
@given(raw=st.binary(max_size=200), kind=st.sampled_from(["application/json", "text/plain", ""]))
def test_raw_bytes_never_break_the_server(
    client: TestClient, account: TestAccount, raw: bytes, kind: str
) -> None:
    headers = {"content-type": kind} if kind else {}
    response = client.post(
        "/links", auth=auth(account.test.secret_key), content=raw, headers=headers
    )
    _answer_is_sane(response)


@pytest.mark.parametrize(
    "amount", ["1e3", "-0", "00100", "100000.0", "1_000", " 100000 ", "+100000"]
)
def test_odd_amount_spellings(client: TestClient, account: TestAccount, amount: str) -> None:
    body = {"amount": amount, "currency": "thb", "title": "Odd"}
    response = client.post("/links", auth=auth(account.test.secret_key), json=body)
    _answer_is_sane(response)
    if response.status_code == 200:  # taken only when it is plainly an integer
        assert response.json()["amount"] == int(amount.strip())


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/links", {"amount": 100000, "currency": "thb", "title": "a\x00b"}),
        (
            "POST",
            "/links",
            {"amount": 100000, "currency": "thb", "title": "t", "description": "\x00"},
        ),
        ("GET", "/search", {"scope": "link", "query": "\x00"}),
        ("GET", "/links/payl_test_%00", None),
        ("PATCH", "/links/%00", {"description": "x"}),
        ("GET", "/charges/chrg%00", None),
        ("POST", "/webhook_endpoints", {"url": "http://127.0.0.1:9/\x00"}),
    ],
)
def test_nul_characters_are_refused_not_stored(
    client: TestClient, account: TestAccount, method: str, path: str, body: Any
) -> None:
    """PostgreSQL cannot store NUL in text: refuse it as bad input, never a 500."""
    response = client.request(method, path, auth=auth(account.test.secret_key), json=body)
    assert response.status_code in (400, 404), response.text
    assert response.json()["object"] == "error"
