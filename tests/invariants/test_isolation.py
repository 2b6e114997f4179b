"""Keys, accounts and modes: who may call what, and who may see which object."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from factories import TestAccount, auth, stable
from starlette.testclient import TestClient

ID_ROUTES = [
    ("GET", "/links/{id}"),
    ("PATCH", "/links/{id}"),
    ("DELETE", "/links/{id}"),
    ("GET", "/links/{id}/charges"),
]
COLLECTION_ROUTES = [("GET", "/links"), ("POST", "/links"), ("GET", "/search?scope=link")]


def link_of(client: TestClient, key: str) -> dict[str, Any]:
    body = {"amount": 100000, "currency": "thb", "title": "Mine", "description": "secret plans"}
    result: dict[str, Any] = client.post("/links", auth=auth(key), json=body).json()
    return result


@pytest.mark.parametrize(("method", "path"), ID_ROUTES)
def test_other_accounts_and_modes_get_not_found(
    client: TestClient,
    account: TestAccount,
    other_account: TestAccount,
    method: str,
    path: str,
) -> None:
    owner_key = account.test.secret_key
    link = link_of(client, owner_key)
    strangers = [
        other_account.test.secret_key,
        other_account.live.secret_key,
        account.live.secret_key,  # the same account in the other mode
    ]
    for key in strangers:
        response = client.request(method, path.format(id=link["id"]), auth=auth(key))
        assert response.status_code == 404, (key, response.text)
        assert response.json()["code"] == "not_found"
        assert "secret plans" not in response.text
    # ... and nothing changed for the owner.
    assert stable(client.get(f"/links/{link['id']}", auth=auth(owner_key)).json()) == stable(link)


def test_lists_and_search_never_include_foreign_links(
    client: TestClient, account: TestAccount, other_account: TestAccount
) -> None:
    link = link_of(client, account.test.secret_key)
    for key in (other_account.test.secret_key, account.live.secret_key):
        listed = client.get("/links", auth=auth(key)).json()
        assert link["id"] not in {item["id"] for item in listed["data"]}
        assert listed["total"] == 0
        found = client.get("/search", params={"scope": "link", "query": "secret"}, auth=auth(key))
        assert found.json()["total"] == 0


@pytest.mark.parametrize(("method", "path"), COLLECTION_ROUTES + ID_ROUTES)
def test_public_key_cannot_use_secret_endpoints(
    client: TestClient, account: TestAccount, method: str, path: str
) -> None:
    link = link_of(client, account.test.secret_key)
    response = client.request(
        method, path.format(id=link["id"]), auth=auth(account.test.public_key)
    )
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failure"


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Basic " + base64.b64encode(b"skey_test_unknown:").decode(),
        "Basic !!!not-base64",
        "Bearer skey_test_whatever",
        "Basic " + base64.b64encode(b":").decode(),
    ],
)
def test_missing_or_unknown_keys_fail_authentication(
    client: TestClient, authorization: str | None
) -> None:
    headers = {"authorization": authorization} if authorization else {}
    response = client.get("/links", headers=headers)
    assert response.status_code == 401
    assert response.json() == {
        "object": "error",
        "location": "https://www.omise.co/api-errors#authentication-failure",
        "code": "authentication_failure",
        "message": "authentication failed",
    }


def test_a_key_with_one_character_changed_fails(client: TestClient, account: TestAccount) -> None:
    key = account.test.secret_key
    tampered = key[:-1] + ("a" if key[-1] != "a" else "b")
    assert client.get("/links", auth=auth(tampered)).status_code == 401
    assert client.get("/links", auth=auth(key)).status_code == 200


def test_the_password_part_is_ignored(client: TestClient, account: TestAccount) -> None:
    response = client.get("/links", auth=(account.test.secret_key, "anything"))
    assert response.status_code == 200


def test_authentication_comes_before_validation(client: TestClient) -> None:
    response = client.post("/links", json={"amount": "nonsense"})
    assert response.status_code == 401
