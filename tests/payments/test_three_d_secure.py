"""3-D Secure in test mode: a card charge with a `return_uri` waits, pending, for its customer on
the `authorize_uri` page; "Authenticate" sends the card to the processor, "Fail" fails the
charge; either way the customer is sent to the `return_uri`. Omise's 3-D Secure test cards
behave as documented, and an abandoned authentication expires."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
from factories import TestAccount, auth, link, token
from starlette.testclient import TestClient

from paylinks.clock import FrozenClock
from paylinks.db import Database
from paylinks.payments.expiry import expire_due
from paylinks.recording import EventRecorder

RETURN = "https://shop.example/orders/7/done"
NOT_ENROLLED = "4111111111150002"
FAILS_VALIDATION = ("4111111111140003", "5555551111110003", "3530111111190003")


def secure_charge(
    client: TestClient, account: TestAccount, number: str = "4242424242424242", **fields: Any
) -> dict[str, Any]:
    body = {"card": token(client, account, number), "return_uri": RETURN, **fields}
    if "link" not in body:
        body |= {"amount": 5000, "currency": "thb"}
    response = client.post("/charges", auth=auth(account.test.secret_key), json=body)
    assert response.status_code == 200, response.text
    charge: dict[str, Any] = response.json()
    return charge


def answer(client: TestClient, charge: dict[str, Any], result: str) -> Any:
    path = urlsplit(charge["authorize_uri"]).path
    return client.post(path, data={"result": result}, follow_redirects=False)


def current(client: TestClient, account: TestAccount, charge_id: str) -> dict[str, Any]:
    found: dict[str, Any] = client.get(
        f"/charges/{charge_id}", auth=auth(account.test.secret_key)
    ).json()
    return found


def keys(client: TestClient, account: TestAccount, charge_id: str) -> list[str]:
    listed = client.get(f"/charges/{charge_id}/events", auth=auth(account.test.secret_key))
    return [e["key"] for e in listed.json()["data"]]


def calls(client: TestClient, charge_id: str) -> list[str]:
    made = client.app.state.runtime.test_processor.calls  # type: ignore[attr-defined]
    return [c.action for c in made if c.charge_id == charge_id]


def test_the_charge_waits_for_authentication(client: TestClient, account: TestAccount) -> None:
    charge = secure_charge(client, account)
    assert (charge["status"], charge["authorized"], charge["paid"]) == ("pending", False, False)
    assert charge["return_uri"] == RETURN
    assert charge["authorize_uri"] == f"http://paylinks.test/payments/{charge['id']}/authorize"
    assert keys(client, account, charge["id"]) == ["charge.create"]
    assert calls(client, charge["id"]) == []  # the processor waits for the customer
    page = client.get(urlsplit(charge["authorize_uri"]).path)
    assert page.status_code == 200 and 'id="authenticate"' in page.text
    assert "Content-Security-Policy" in page.headers
    thai = client.get(urlsplit(charge["authorize_uri"]).path, params={"locale": "th"})
    assert "ยืนยันตัวตน" in thai.text


def test_authenticating_completes_the_charge_once(client: TestClient, account: TestAccount) -> None:
    charge = secure_charge(client, account)
    done = answer(client, charge, "pass")
    assert done.status_code == 303 and done.headers["location"] == RETURN
    after = current(client, account, charge["id"])
    assert (after["status"], after["authorized"], after["paid"]) == ("successful", True, True)
    assert after["authorize_uri"] is None
    again = answer(client, charge, "fail")  # a second click changes nothing
    assert again.status_code == 303 and current(client, account, charge["id"]) == after
    assert keys(client, account, charge["id"]) == ["charge.create", "charge.complete"]
    assert calls(client, charge["id"]) == ["charge"]
    reopened = client.get(urlsplit(charge["authorize_uri"]).path, follow_redirects=False)
    assert reopened.status_code == 303 and reopened.headers["location"] == RETURN


def test_failing_authentication_fails_the_charge_and_frees_the_link(
    client: TestClient, account: TestAccount
) -> None:
    invoice = link(client, account)
    charge = secure_charge(client, account, link=invoice["id"])
    held = client.post(
        "/charges", auth=auth(account.test.secret_key),
        json={"card": token(client, account), "link": invoice["id"]},
    )  # fmt: skip
    assert held.status_code == 400 and held.json()["code"] == "link_not_payable"
    assert answer(client, charge, "fail").status_code == 303
    after = current(client, account, charge["id"])
    assert (after["status"], after["failure_code"]) == ("failed", "failed_3ds")
    assert keys(client, account, charge["id"]) == ["charge.create", "charge.failed"]
    assert calls(client, charge["id"]) == []
    again = client.get(f"/links/{invoice['id']}", auth=auth(account.test.secret_key)).json()
    assert again["used"] is False


@pytest.mark.parametrize("number", FAILS_VALIDATION)
def test_cards_whose_validation_fails_fail_even_when_authenticated(
    client: TestClient, account: TestAccount, number: str
) -> None:
    charge = secure_charge(client, account, number)
    assert charge["status"] == "pending"
    answer(client, charge, "pass")
    assert current(client, account, charge["id"])["failure_code"] == "failed_3ds"
    assert calls(client, charge["id"]) == []


def test_an_unenrolled_card_fails_at_once(client: TestClient, account: TestAccount) -> None:
    charge = secure_charge(client, account, NOT_ENROLLED)
    assert (charge["status"], charge["failure_code"]) == ("failed", "failed_3ds")
    assert charge["authorize_uri"] is None
    assert "not enrolled" in charge["failure_message"]


def test_the_3ds_cards_charge_normally_without_3ds(
    client: TestClient, account: TestAccount
) -> None:
    for number in (NOT_ENROLLED, *FAILS_VALIDATION):
        body = {"card": token(client, account, number), "amount": 5000, "currency": "thb"}
        made = client.post("/charges", auth=auth(account.test.secret_key), json=body).json()
        assert made["status"] == "successful", number


def test_authorize_only_with_3ds(client: TestClient, account: TestAccount) -> None:
    charge = secure_charge(client, account, capture=False)
    answer(client, charge, "pass")
    after = current(client, account, charge["id"])
    assert (after["status"], after["authorized"], after["capturable"]) == ("pending", True, True)
    assert calls(client, charge["id"]) == ["authorize"]


def test_an_abandoned_authentication_expires(
    make_client: Any, db: Database, account: TestAccount
) -> None:
    clock = FrozenClock(datetime(2026, 6, 1, 12, 0, tzinfo=UTC))
    client = make_client(clock=clock)
    invoice = link(client, account)
    charge = secure_charge(client, account, link=invoice["id"])
    assert charge["expires_at"] == "2026-06-01T12:15:00Z"
    clock.advance(15 * 60)
    record = EventRecorder(public_url="http://paylinks.test")
    assert asyncio.run(expire_due(db, record=record, now=clock.now())) == 1
    after = current(client, account, charge["id"])
    assert after["status"] == "expired" and after["authorize_uri"] is None
    assert (
        client.get(f"/links/{invoice['id']}", auth=auth(account.test.secret_key)).json()["used"]
        is False
    )
    late = answer(client, charge, "pass")
    assert late.status_code == 303 and current(client, account, charge["id"])["status"] == "expired"


def test_the_page_is_only_for_waiting_test_charges(
    client: TestClient, account: TestAccount
) -> None:
    plain = client.post(
        "/charges", auth=auth(account.test.secret_key),
        json={"card": token(client, account), "amount": 5000, "currency": "thb"},
    ).json()  # fmt: skip
    assert client.get(f"/payments/{plain['id']}/authorize").status_code == 404
    assert client.get("/payments/chrg_test_missing/authorize").status_code == 404
    charge = secure_charge(client, account)
    path = urlsplit(charge["authorize_uri"]).path
    forged = client.post(
        path, data={"result": "pass"}, headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )  # fmt: skip
    assert forged.status_code == 403
    assert client.post(path, data={"result": "maybe"}).status_code == 403
    assert current(client, account, charge["id"])["status"] == "pending"
