"""The wire: JSON everywhere, Omise error objects for every failure, never a stack trace."""

from __future__ import annotations

from typing import Any

import pytest
from factories import TestAccount, auth
from starlette.testclient import TestClient

from paylinks.links import reads


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert set(body) == {"object", "location", "code", "message"}
    assert body["object"] == "error" and body["code"] == code
    assert body["location"].startswith("https://www.omise.co/api-errors#")
    return body


def test_unknown_route_is_an_omise_not_found(client: TestClient) -> None:
    assert_error(client.get("/nothing/here"), 404, "not_found")
    assert_error(client.post("/charges/x/y/z"), 404, "not_found")


def test_wrong_method_is_405_listing_allowed_methods(
    client: TestClient, account: TestAccount
) -> None:
    response = client.put("/links", auth=auth(account.test.secret_key))
    assert_error(response, 405, "method_not_allowed")
    assert set(response.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    response = client.post("/links/payl_test_x", auth=auth(account.test.secret_key))
    assert {"GET", "PATCH", "DELETE"} <= set(response.headers["allow"].replace(" ", "").split(","))


def test_malformed_body_is_bad_request(client: TestClient, account: TestAccount) -> None:
    response = client.post(
        "/links",
        content=b'{"amount": 1000',
        headers={"content-type": "application/json"},
        auth=auth(account.test.secret_key),
    )
    assert "JSON" in assert_error(response, 400, "bad_request")["message"]


def test_oversized_body_is_413(client: TestClient, account: TestAccount) -> None:
    response = client.post(
        "/links",
        content=b"title=" + b"x" * 70_000,
        headers={"content-type": "application/x-www-form-urlencoded"},
        auth=auth(account.test.secret_key),
    )
    assert_error(response, 413, "payload_too_large")


def test_unexpected_exception_is_a_generic_500_without_a_trace(
    client: TestClient, account: TestAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("secret internals /srv/app.py line 3")

    monkeypatch.setattr(reads, "read_link", explode)
    response = client.get("/links/payl_test_x", auth=auth(account.test.secret_key))
    body = assert_error(response, 500, "internal_error")
    assert "secret internals" not in response.text and "Traceback" not in response.text
    assert "logged" in body["message"]


def test_non_ascii_survives_the_round_trip(client: TestClient, account: TestAccount) -> None:
    title = "สินค้าประเทศไทย 🇹🇭"
    response = client.post(
        "/links",
        json={"amount": 150000, "currency": "thb", "title": title},
        auth=auth(account.test.secret_key),
    )
    assert response.json()["title"] == title
    assert title.encode() in response.content  # UTF-8, not \\u escapes


def test_head_is_answered_like_get(client: TestClient, account: TestAccount) -> None:
    """Same status and headers as GET (the length of the body GET would send), and no body."""
    key = auth(account.test.secret_key)
    client.post("/links", auth=key, json={"amount": 100000, "currency": "thb", "title": "Head"})
    get, head = client.get("/links", auth=key), client.head("/links", auth=key)
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"] == "application/json"
    assert head.headers["content-length"] == str(len(get.content))
    skip = {"x-request-id", "content-length", "date"}
    assert {k: v for k, v in head.headers.items() if k not in skip} == {
        k: v for k, v in get.headers.items() if k not in skip
    }
    missing = client.head("/links/payl_test_missing", auth=key)
    assert missing.status_code == 404 and missing.content == b""
