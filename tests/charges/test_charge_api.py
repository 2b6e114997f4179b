"""POST/GET /charges: card payments, declines as failed charges, links paid once, consistency."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from factories import VISA_NO_FUNDS, VISA_OK, TestAccount, auth, link, pay, token
from starlette.testclient import TestClient

from paylinks.clock import FrozenClock


def test_charge_without_link(client: TestClient, account: TestAccount) -> None:
    body = {
        "amount": 5000,
        "currency": "USD",
        "card": token(client, account),
        "description": "Order 7",
        "metadata": {"order": "7"},
    }
    response = client.post("/charges", auth=auth(account.test.secret_key), json=body)
    assert response.status_code == 200
    charge = response.json()
    assert charge["object"] == "charge" and charge["id"].startswith("chrg_test_")
    assert (charge["status"], charge["paid"], charge["authorized"]) == ("successful", True, True)
    assert (charge["amount"], charge["currency"]) == (5000, "usd")
    assert charge["transaction"].startswith("trxn_test_")
    assert charge["link"] is None and charge["source"] is None
    assert charge["card"]["last_digits"] == "4242" and charge["metadata"] == {"order": "7"}
    assert charge["paid_at"] == charge["created_at"]
    assert charge["failure_code"] is None


def test_link_payment_defaults_amount_and_marks_single_use_link_used(
    client: TestClient, account: TestAccount
) -> None:
    invoice = link(client, account)
    charge = pay(client, account, invoice["id"], customer_email="buyer@example.com").json()
    assert (charge["amount"], charge["currency"], charge["status"]) == (100000, "thb", "successful")
    assert charge["link"] == invoice["id"]
    assert charge["source"] == {"object": "source", "type": "link", "id": invoice["id"]}
    assert charge["customer_email"] == "buyer@example.com"
    after = client.get(f"/links/{invoice['id']}", auth=auth(account.test.secret_key)).json()
    assert after["used"] is True and after["used_at"] is not None and after["active"] is False
    assert after["charges"]["total"] == 1 and after["charges"]["data"] == [charge]


def test_paid_single_use_link_rejects_second_payment(
    client: TestClient, account: TestAccount
) -> None:
    invoice = link(client, account)
    assert pay(client, account, invoice["id"]).status_code == 200
    second = pay(client, account, invoice["id"])
    assert second.status_code == 400
    assert second.json()["code"] == "link_not_payable"
    assert "already been paid" in second.json()["message"]
    charges = client.get(f"/links/{invoice['id']}/charges", auth=auth(account.test.secret_key))
    assert charges.json()["total"] == 1


@pytest.mark.parametrize(
    ("number", "code"),
    [
        (VISA_NO_FUNDS, "insufficient_fund"),
        ("4111111111130012", "stolen_or_lost_card"),
        ("4111111111120013", "failed_processing"),
        ("4111111111110014", "payment_rejected"),
        ("4111111111190016", "failed_fraud_check"),
        ("5555551111110011", "insufficient_fund"),
        ("4000000000000002", "payment_rejected"),  # the seed's failing card
    ],
)
def test_declined_card_is_a_failed_charge_and_leaves_the_link_payable(
    client: TestClient, account: TestAccount, number: str, code: str
) -> None:
    invoice = link(client, account)
    response = pay(client, account, invoice["id"], number)
    assert response.status_code == 200
    charge = response.json()
    assert (charge["status"], charge["paid"], charge["failure_code"]) == ("failed", False, code)
    assert charge["failure_message"] and charge["transaction"] is None
    still = client.get(f"/links/{invoice['id']}", auth=auth(account.test.secret_key)).json()
    assert still["used"] is False and still["active"] is True
    assert pay(client, account, invoice["id"]).json()["status"] == "successful"
    assert (
        client.get(f"/links/{invoice['id']}", auth=auth(account.test.secret_key)).json()["charges"][
            "total"
        ]
        == 2
    )


def test_multi_use_link_takes_many_payments(client: TestClient, account: TestAccount) -> None:
    product = link(client, account, multiple=True)
    for _ in range(3):
        assert pay(client, account, product["id"]).json()["status"] == "successful"
    after = client.get(f"/links/{product['id']}", auth=auth(account.test.secret_key)).json()
    assert after["used"] is False and after["active"] is True and after["charges"]["total"] == 3


def test_usage_limit_stops_payments(client: TestClient, account: TestAccount) -> None:
    tickets = link(client, account, multiple=True, usage_limit=2)
    pay(client, account, tickets["id"], VISA_NO_FUNDS)  # a decline does not count
    assert pay(client, account, tickets["id"]).status_code == 200
    assert pay(client, account, tickets["id"]).status_code == 200
    third = pay(client, account, tickets["id"])
    assert third.status_code == 400 and "usage limit" in third.json()["message"]


def test_deleted_and_expired_links_refuse_payment(make_client: Any, account: TestAccount) -> None:
    clock = FrozenClock(datetime(2026, 5, 1, 9, 0, tzinfo=UTC))
    client = make_client(clock=clock)
    gone = link(client, account)
    client.delete(f"/links/{gone['id']}", auth=auth(account.test.secret_key))
    refused = pay(client, account, gone["id"])
    assert refused.status_code == 400 and "deleted" in refused.json()["message"]
    soon = link(client, account, expires_at="2026-05-01T10:00:00Z")
    clock.advance(3600)
    expired = pay(client, account, soon["id"])
    assert expired.status_code == 400 and "expired" in expired.json()["message"]


@pytest.mark.parametrize(
    ("extra", "fragment"), [({"amount": 5}, "amount"), ({"currency": "usd"}, "currency")]
)
def test_amount_or_currency_mismatch_with_the_link_is_rejected(
    client: TestClient, account: TestAccount, extra: dict[str, Any], fragment: str
) -> None:
    invoice = link(client, account)
    response = pay(client, account, invoice["id"], **extra)
    assert response.status_code == 400 and response.json()["code"] == "invalid_charge"
    assert fragment in response.json()["message"]
    assert (
        client.get(f"/links/{invoice['id']}", auth=auth(account.test.secret_key)).json()["used"]
        is False
    )


def test_token_is_single_use(client: TestClient, account: TestAccount) -> None:
    tok = token(client, account)
    body = {"amount": 5000, "currency": "thb", "card": tok}
    assert client.post("/charges", auth=auth(account.test.secret_key), json=body).status_code == 200
    again = client.post("/charges", auth=auth(account.test.secret_key), json=body)
    assert again.status_code == 400 and again.json()["code"] == "used_token"
    fetched = client.get(f"/tokens/{tok}", auth=auth(account.test.public_key)).json()
    assert fetched["used"] is True and fetched["charge_status"] == "successful"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"amount": 5000, "currency": "thb"}, "missing_card"),
        ({"amount": 5000, "currency": "thb", "card": "tokn_test_nope"}, "invalid_card_token"),
        ({"currency": "thb", "card": "tokn_test_nope"}, "invalid_charge"),
        ({"amount": 5000, "currency": "zzz", "card": "tokn_test_nope"}, "invalid_currency"),
        ({"amount": 10, "currency": "thb", "card": "tokn_test_nope"}, "invalid_amount"),
        ({"link": "payl_test_nope", "card": "tokn_test_nope"}, "not_found"),
        ({"amount": 5000, "currency": "thb", "card": "x", "customer_email": "nope"}, "bad_request"),
    ],
)
def test_bad_charge_requests(
    client: TestClient, account: TestAccount, body: dict[str, Any], code: str
) -> None:
    response = client.post("/charges", auth=auth(account.test.secret_key), json=body)
    assert response.status_code in (400, 404)
    assert response.json()["code"] == code


def test_live_mode_charges_answer_a_clear_error_and_create_nothing(
    client: TestClient, account: TestAccount
) -> None:
    key = account.live.secret_key
    live_link = client.post(
        "/links", auth=auth(key), json={"amount": 100000, "currency": "thb", "title": "Live"}
    ).json()
    response = client.post("/charges", auth=auth(key), json={"link": live_link["id"], "card": "x"})
    assert response.status_code == 400 and response.json()["code"] == "live_mode_unavailable"
    assert client.get("/charges", auth=auth(key)).json()["total"] == 0


def test_charge_lists_agree(client: TestClient, account: TestAccount) -> None:
    product = link(client, account, multiple=True)
    made = [pay(client, account, product["id"]).json() for _ in range(3)]
    made.append(pay(client, account, product["id"], VISA_NO_FUNDS).json())
    key = account.test.secret_key
    by_link = client.get(f"/links/{product['id']}/charges", auth=auth(key)).json()
    everything = client.get("/charges", params={"limit": 100}, auth=auth(key)).json()
    embedded = client.get(f"/links/{product['id']}", auth=auth(key)).json()["charges"]
    assert by_link["data"] == made and by_link["total"] == 4
    assert embedded["data"] == made and embedded["total"] == 4
    assert everything["data"] == made and everything["total"] == 4
    for charge in made:
        assert client.get(f"/charges/{charge['id']}", auth=auth(key)).json() == charge
    reverse = client.get(
        f"/links/{product['id']}/charges", params={"order": "reverse_chronological", "limit": 2},
        auth=auth(key),
    ).json()  # fmt: skip
    assert reverse["data"] == made[::-1][:2]


def test_charges_of_other_accounts_and_modes_are_not_found(
    client: TestClient, account: TestAccount, other_account: TestAccount
) -> None:
    charge = pay(client, account, link(client, account)["id"]).json()
    for key in (other_account.test.secret_key, account.live.secret_key):
        assert client.get(f"/charges/{charge['id']}", auth=auth(key)).status_code == 404
        assert client.get("/charges", auth=auth(key)).json()["total"] == 0
    foreign_token = token(client, other_account)
    response = client.post(
        "/charges",
        auth=auth(account.test.secret_key),
        json={"amount": 5000, "currency": "thb", "card": foreign_token},
    )
    assert response.json()["code"] == "invalid_card_token"


def test_link_stats(client: TestClient, account: TestAccount) -> None:
    product = link(client, account, multiple=True)
    pay(client, account, product["id"])
    pay(client, account, product["id"])
    pay(client, account, product["id"], VISA_NO_FUNDS)
    stats = client.get(f"/links/{product['id']}/stats", auth=auth(account.test.secret_key)).json()
    assert stats["object"] == "link_stats" and stats["link"] == product["id"]
    assert stats["charges"] == {"total": 3, "successful": 2, "failed": 1, "pending": 0}
    assert stats["revenue"] == 200000 and stats["views"] == 0 and stats["conversion"] is None
    other = client.get("/links/payl_test_nope/stats", auth=auth(account.test.secret_key))
    assert other.status_code == 404


def test_card_number_never_appears_in_charge_responses(
    client: TestClient, account: TestAccount
) -> None:
    response = pay(client, account, link(client, account)["id"])
    assert VISA_OK not in response.text
