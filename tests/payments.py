"""Helpers for payment tests: tokens, links and charges through the public API."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient
from support import TestAccount, auth

VISA_OK = "4242424242424242"
VISA_NO_FUNDS = "4111111111140011"


def card(number: str = VISA_OK, **overrides: Any) -> dict[str, Any]:
    return {
        "number": number,
        "name": "Somchai Jaidee",
        "expiration_month": 12,
        "expiration_year": 2035,
        "security_code": "123",
        **overrides,
    }


def token(client: TestClient, account: TestAccount, number: str = VISA_OK, **overrides: Any) -> str:
    response = client.post(
        "/tokens", auth=auth(account.test.public_key), json={"card": card(number, **overrides)}
    )
    assert response.status_code == 200, response.text
    token_id: str = response.json()["id"]
    return token_id


def link(client: TestClient, account: TestAccount, **fields: Any) -> dict[str, Any]:
    body = {"amount": 100000, "currency": "thb", "title": "Invoice", **fields}
    response = client.post("/links", auth=auth(account.test.secret_key), json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def pay(
    client: TestClient, account: TestAccount, link_id: str, number: str = VISA_OK, **fields: Any
) -> Any:
    body = {"card": token(client, account, number), "link": link_id, **fields}
    return client.post("/charges", auth=auth(account.test.secret_key), json=body)
