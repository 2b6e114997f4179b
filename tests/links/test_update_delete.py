"""PATCH and DELETE /links/:id: only description and metadata change; deletions stay readable."""

from __future__ import annotations

from typing import Any

import pytest
from factories import TestAccount, auth, stable
from starlette.testclient import TestClient


def new_link(client: TestClient, key: str, **fields: Any) -> dict[str, Any]:
    body = {"amount": 100000, "currency": "thb", "title": "Original", "description": "before"}
    response = client.post("/links", auth=auth(key), json={**body, **fields})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_patch_changes_description_and_metadata(client: TestClient, account: TestAccount) -> None:
    key = account.test.secret_key
    link = new_link(client, key, metadata={"old": "x"})
    response = client.patch(
        f"/links/{link['id']}",
        auth=auth(key),
        data={"description": "Updated", "metadata[reason]": "price_change"},
    )
    assert response.status_code == 200
    updated = response.json()
    assert updated["description"] == "Updated"
    assert updated["metadata"] == {"reason": "price_change"}  # metadata is replaced as a whole
    again = client.get(f"/links/{link['id']}", auth=auth(key)).json()
    assert stable(again) == stable(updated)


def test_patch_with_only_description_keeps_metadata(
    client: TestClient, account: TestAccount
) -> None:
    key = account.test.secret_key
    link = new_link(client, key, metadata={"keep": "me"})
    updated = client.patch(
        f"/links/{link['id']}", auth=auth(key), json={"description": "new"}
    ).json()
    assert updated["metadata"] == {"keep": "me"} and updated["description"] == "new"


@pytest.mark.parametrize(
    "field",
    [
        {"amount": 5},
        {"currency": "usd"},
        {"title": "New title"},
        {"multiple": True},
        {"used": True},
        {"livemode": True},
        {"usage_limit": 3},
        {"expires_at": "2099-01-01T00:00:00Z"},
    ],
)
def test_patch_of_immutable_field_is_rejected_and_changes_nothing(
    client: TestClient, account: TestAccount, field: dict[str, Any]
) -> None:
    key = account.test.secret_key
    link = new_link(client, key)
    response = client.patch(
        f"/links/{link['id']}", auth=auth(key), json={"description": "sneaky", **field}
    )
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "bad_request"
    assert next(iter(field)) in error["message"]
    assert stable(client.get(f"/links/{link['id']}", auth=auth(key)).json()) == stable(link)


def test_patch_validates_description_length(client: TestClient, account: TestAccount) -> None:
    key = account.test.secret_key
    link = new_link(client, key)
    response = client.patch(
        f"/links/{link['id']}", auth=auth(key), json={"description": "d" * 1001}
    )
    assert response.status_code == 400
    assert client.get(f"/links/{link['id']}", auth=auth(key)).json()["description"] == "before"


def test_empty_patch_returns_the_link_unchanged(client: TestClient, account: TestAccount) -> None:
    key = account.test.secret_key
    link = new_link(client, key)
    response = client.patch(f"/links/{link['id']}", auth=auth(key), content=b"null")
    assert response.status_code == 200 and stable(response.json()) == stable(link)


def test_delete_marks_link_deleted_and_keeps_it_readable(
    client: TestClient, account: TestAccount
) -> None:
    key = account.test.secret_key
    link = new_link(client, key)
    response = client.delete(f"/links/{link['id']}", auth=auth(key))
    assert response.status_code == 200
    deleted = response.json()
    assert deleted["deleted"] is True and deleted["active"] is False
    assert deleted["deleted_at"] is not None
    assert deleted["id"] == link["id"] and deleted["amount"] == link["amount"]
    fetched = client.get(f"/links/{link['id']}", auth=auth(key)).json()
    assert fetched["deleted"] is True and fetched["deleted_at"] == deleted["deleted_at"]
    # Deleting again is harmless and keeps the first deletion time.
    again = client.delete(f"/links/{link['id']}", auth=auth(key)).json()
    assert again["deleted_at"] == deleted["deleted_at"]


def test_deleted_link_cannot_be_updated(client: TestClient, account: TestAccount) -> None:
    key = account.test.secret_key
    link = new_link(client, key)
    client.delete(f"/links/{link['id']}", auth=auth(key))
    response = client.patch(f"/links/{link['id']}", auth=auth(key), json={"description": "x"})
    assert response.status_code == 400 and "deleted" in response.json()["message"]


def test_missing_link_is_not_found_for_every_method(
    client: TestClient, account: TestAccount
) -> None:
    key = account.test.secret_key
    for method in ("GET", "PATCH", "DELETE"):
        response = client.request(method, "/links/payl_test_doesnotexist0000000", auth=auth(key))
        assert response.status_code == 404
        assert response.json() == {
            "object": "error",
            "location": "https://www.omise.co/api-errors#not-found",
            "code": "not_found",
            "message": "link payl_test_doesnotexist0000000 was not found",
        }


def test_link_charges_is_an_empty_list_until_payments_exist(
    client: TestClient, account: TestAccount
) -> None:
    key = account.test.secret_key
    link = new_link(client, key)
    for path in (f"/links/{link['id']}/charges", f"/links/{link['id']}/charges/"):
        charges = client.get(path, auth=auth(key)).json()
        assert charges["object"] == "list" and charges["data"] == [] and charges["total"] == 0
        assert charges["location"] == f"/links/{link['id']}/charges"
    assert client.get("/links/payl_test_nope/charges", auth=auth(key)).status_code == 404
