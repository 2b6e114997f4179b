"""CORS: any web page may call the public-key endpoints (the vault and /capability), as Omise.js
does, and read every answer there, errors included; a preflight is answered before any key or
rate limit. No other path answers another site: the route table is walked, so a new route is
covered (a secret-key one must stay without CORS, a public-key one must get it)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from factories import TestAccount, auth, card, link
from starlette.routing import Route
from starlette.testclient import TestClient

from paylinks.app import BROWSER_PATHS, openapi_document, routes

ORIGIN = {"Origin": "https://shop.example"}
ACAO = "access-control-allow-origin"


def preflight_headers(method: str = "POST") -> dict[str, str]:
    return {
        **ORIGIN,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type, omise-version",
    }


def concrete(template: str) -> str:
    """A path of the template with made-up ids (`qr.{kind}` gets a real kind)."""
    path = template.replace("{kind}", "svg").replace("{rest:path}", "elsewhere")
    return re.sub(r"{(\w+)}", lambda m: f"{m.group(1)}_test_nothing", path)


def public_key_paths() -> set[str]:
    """The paths whose operations the document says take the public key."""
    return {
        path
        for path, item in openapi_document()["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and {"publicKey": []} in op.get("security", [])
    }


BROWSER = sorted(
    (route.path, method)
    for route in routes()
    if isinstance(route, Route) and route.path.rstrip("/") in BROWSER_PATHS
    for method in route.methods or ()
)
OTHERS = sorted(
    (route.path, method)
    for route in routes()
    if isinstance(route, Route) and route.path.rstrip("/") not in BROWSER_PATHS
    for method in route.methods or ()
)


def test_cors_is_exactly_where_the_public_key_is_taken() -> None:
    assert set(BROWSER_PATHS) == public_key_paths()
    assert {"/tokens", "/tokens/{token_id}", "/sources", "/sources/{source_id}"} < set(
        BROWSER_PATHS
    )
    assert "/capability" in BROWSER_PATHS
    assert len(BROWSER) >= 10 and len(OTHERS) >= 60  # both slash twins, HEAD included


@pytest.mark.parametrize("template", sorted({path for path, _ in BROWSER}))
def test_preflight_from_any_origin_needs_no_key(client: TestClient, template: str) -> None:
    response = client.options(concrete(template), headers=preflight_headers())
    assert response.status_code == 204, response.text
    assert response.headers[ACAO] == "*"
    assert "access-control-allow-credentials" not in response.headers
    methods = {m.strip() for m in response.headers["access-control-allow-methods"].split(",")}
    assert {"GET", "POST"} <= methods
    named = response.headers["access-control-allow-headers"].split(",")
    allowed = {name.strip().lower() for name in named}
    assert {"authorization", "content-type", "idempotency-key", "omise-version"} <= allowed
    assert int(response.headers["access-control-max-age"]) > 0
    assert response.content == b""


def test_preflights_do_not_meet_rate_limits_or_spend_the_keys_budget(
    make_client: Callable[..., TestClient], account: TestAccount
) -> None:
    limited = make_client(rate_limits="2/minute")
    for _ in range(5):
        assert limited.options("/tokens", headers=preflight_headers()).status_code == 204
    public = auth(account.test.public_key)
    for remaining in ("1", "0"):
        made = limited.post("/tokens", auth=public, json={"card": card()}, headers=ORIGIN)
        assert made.status_code == 200 and made.headers["x-ratelimit-remaining"] == remaining
    refused = limited.post("/tokens", auth=public, json={"card": card()}, headers=ORIGIN)
    assert refused.status_code == 429 and refused.headers[ACAO] == "*"
    assert "Retry-After" in refused.headers["access-control-expose-headers"]


def test_a_bare_options_is_no_preflight(client: TestClient) -> None:
    response = client.options("/tokens")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    only_origin = client.options("/tokens", headers=ORIGIN)
    assert only_origin.status_code == 405


def test_a_shop_page_tokenizes_and_reads_the_answer(
    client: TestClient, account: TestAccount
) -> None:
    public = auth(account.test.public_key)
    made = client.post("/tokens", auth=public, json={"card": card()}, headers=ORIGIN)
    assert made.status_code == 200 and made.headers[ACAO] == "*"
    assert "X-Request-Id" in made.headers["access-control-expose-headers"]
    assert "access-control-allow-credentials" not in made.headers
    read = client.get(f"/tokens/{made.json()['id']}/", auth=public, headers=ORIGIN)
    assert read.status_code == 200 and read.headers[ACAO] == "*"
    body = {"type": "promptpay", "amount": 100000, "currency": "thb"}
    source = client.post("/sources", auth=public, json=body, headers=ORIGIN)
    assert source.status_code == 200 and source.headers[ACAO] == "*"
    found = client.get(f"/sources/{source.json()['id']}", auth=public, headers=ORIGIN)
    assert found.status_code == 200 and found.headers[ACAO] == "*"
    capability = client.get("/capability", auth=public, headers=ORIGIN)
    assert capability.status_code == 200 and capability.headers[ACAO] == "*"


def test_errors_on_browser_paths_are_readable(client: TestClient, account: TestAccount) -> None:
    public = auth(account.test.public_key)
    refusals = [
        (client.post("/tokens", json={"card": card()}, headers=ORIGIN), 401),
        (client.get("/capability", headers=ORIGIN), 401),
        (client.post("/tokens", auth=public, json={"card": card("4242")}, headers=ORIGIN), 400),
        (client.post("/sources", auth=public, json={"type": "x"}, headers=ORIGIN), 400),
        (client.get("/tokens/tokn_test_nothing", auth=public, headers=ORIGIN), 404),
        (client.get("/sources?q=%00", auth=public, headers=ORIGIN), 400),  # the edge's guard
        (client.delete("/tokens", auth=public, headers=ORIGIN), 405),
    ]
    for response, status in refusals:
        assert response.status_code == status, response.text
        assert response.headers[ACAO] == "*", response.request.url
        assert response.json()["object"] == "error"


@pytest.mark.parametrize(("template", "method"), OTHERS)
def test_no_other_path_answers_another_site(
    client: TestClient, account: TestAccount, template: str, method: str
) -> None:
    path = concrete(template)
    response = client.request(
        method, path, auth=auth(account.test.secret_key), headers=ORIGIN, follow_redirects=False
    )
    assert ACAO not in response.headers, (method, path, response.status_code)
    assert not any(name.startswith("access-control-") for name in response.headers)
    asked = client.options(path, headers=preflight_headers(method), follow_redirects=False)
    assert asked.status_code != 204 and ACAO not in asked.headers, (path, asked.status_code)


def test_secret_endpoints_answer_no_other_site_when_they_succeed(
    client: TestClient, account: TestAccount
) -> None:
    secret = auth(account.test.secret_key)
    made = link(client, account)
    answers = [
        client.post(
            "/links", auth=secret, headers=ORIGIN,
            json={"amount": 100000, "currency": "thb", "title": "CORS"},
        ),
        client.get("/links", auth=secret, headers=ORIGIN),
        client.get(f"/links/{made['id']}", auth=secret, headers=ORIGIN),
        client.get("/charges", auth=secret, headers=ORIGIN),
        client.get("/refunds", auth=secret, headers=ORIGIN),
        client.get("/events", auth=secret, headers=ORIGIN),
        client.get("/webhook_endpoints", auth=secret, headers=ORIGIN),
        client.get("/search", auth=secret, params={"scope": "link", "query": "x"}, headers=ORIGIN),
        client.get(f"/pay/{made['id']}", headers=ORIGIN),
        client.get("/dashboard/sign-in", headers=ORIGIN),
    ]  # fmt: skip
    for response in answers:
        assert response.status_code == 200, (response.request.url, response.text)
        assert ACAO not in response.headers, response.request.url
