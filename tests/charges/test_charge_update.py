"""PATCH /charges/:id changes a charge's description and metadata (`charge.update`); anything
else is refused, naming it. PATCH /links/:id refuses unknown parameters the same way."""

from __future__ import annotations

from typing import Any

import pytest
from factories import TestAccount, auth, link, pay
from starlette.testclient import TestClient


def patch(client: TestClient, account: TestAccount, path: str, **body: Any) -> Any:
    return client.patch(path, auth=auth(account.test.secret_key), json=body)


def test_description_and_metadata_change(client: TestClient, account: TestAccount) -> None:
    invoice = link(client, account)
    charge = pay(client, account, invoice["id"]).json()
    response = patch(client, account, f"/charges/{charge['id']}", description="Order 42",
                     metadata={"order": "42"})  # fmt: skip
    assert response.status_code == 200, response.text
    updated = response.json()
    assert (updated["description"], updated["metadata"]) == ("Order 42", {"order": "42"})
    assert {k: v for k, v in updated.items() if k not in ("description", "metadata")} == {
        k: v for k, v in charge.items() if k not in ("description", "metadata")
    }
    events = client.get(f"/charges/{charge['id']}/events", auth=auth(account.test.secret_key))
    last = events.json()["data"][-1]
    assert last["key"] == "charge.update" and last["data"] == updated
    # Only what is sent changes; metadata is replaced as a whole.
    again = patch(client, account, f"/charges/{charge['id']}", metadata={"n": 1}).json()
    assert (again["description"], again["metadata"]) == ("Order 42", {"n": 1})


@pytest.mark.parametrize(
    "body", [{"amount": 1}, {"status": "failed"}, {"capture": False}, {"link": "payl_x"}]
)
def test_other_fields_are_refused_by_name(
    client: TestClient, account: TestAccount, body: dict[str, Any]
) -> None:
    charge = pay(client, account, link(client, account)["id"]).json()
    response = patch(client, account, f"/charges/{charge['id']}", description="x", **body)
    assert response.status_code == 400 and response.json()["code"] == "bad_request"
    assert next(iter(body)) in response.json()["message"]
    current = client.get(f"/charges/{charge['id']}", auth=auth(account.test.secret_key)).json()
    assert current == charge  # nothing written


def test_another_accounts_charge_is_not_found(
    client: TestClient, account: TestAccount, other_account: TestAccount
) -> None:
    charge = pay(client, account, link(client, account)["id"]).json()
    response = patch(client, other_account, f"/charges/{charge['id']}", description="mine")
    assert response.status_code == 404


def test_a_link_update_refuses_unknown_parameters(client: TestClient, account: TestAccount) -> None:
    invoice = link(client, account)
    response = patch(client, account, f"/links/{invoice['id']}", active=False, description="x")
    assert response.status_code == 400 and "active" in response.json()["message"]
    current = client.get(f"/links/{invoice['id']}", auth=auth(account.test.secret_key)).json()
    assert current["description"] == invoice["description"]
