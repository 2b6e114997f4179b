"""POST/GET /tokens: card validation, the token and card objects, one use per token."""

from __future__ import annotations

import re
from typing import Any

import pytest
from factories import VISA_OK, TestAccount, auth, card, token
from starlette.testclient import TestClient


def post_token(client: TestClient, key: str, **card_fields: Any) -> Any:
    return client.post("/tokens", auth=auth(key), json={"card": card(**card_fields)})


def test_token_and_card_objects(client: TestClient, account: TestAccount) -> None:
    response = post_token(client, account.test.public_key, city="Bangkok", country="TH")
    assert response.status_code == 200
    tok = response.json()
    assert re.fullmatch(r"tokn_test_[0-9a-z]{19}", tok["id"])
    assert tok["object"] == "token" and tok["livemode"] is False and tok["used"] is False
    assert tok["location"] == f"/tokens/{tok['id']}"
    c = tok["card"]
    assert c["object"] == "card" and re.fullmatch(r"card_test_[0-9a-z]{19}", c["id"])
    assert (c["brand"], c["last_digits"], c["name"]) == ("Visa", "4242", "Somchai Jaidee")
    assert (c["expiration_month"], c["expiration_year"]) == (12, 2035)
    assert c["security_code_check"] is True and c["first_digits"] is None
    assert (c["city"], c["country"]) == ("Bangkok", "th")
    assert re.fullmatch(r"[A-Za-z0-9+/]{43}=", c["fingerprint"])
    assert VISA_OK not in response.text and "123" not in str(c)


def test_sdk_style_values_as_strings_and_numbers(client: TestClient, account: TestAccount) -> None:
    form = {
        "card[number]": "4242 4242 4242 4242",
        "card[name]": "A",
        "card[expiration_month]": "1",
        "card[expiration_year]": "35",
        "card[security_code]": "321",
        "card[postal_code]": "10320",
    }
    tok = client.post("/tokens", auth=auth(account.test.public_key), data=form).json()
    assert tok["card"]["expiration_year"] == 2035 and tok["card"]["postal_code"] == "10320"
    numeric = post_token(client, account.test.public_key, number=int(VISA_OK), security_code=123)
    assert numeric.status_code == 200


def test_secret_key_may_create_tokens_too(client: TestClient, account: TestAccount) -> None:
    assert post_token(client, account.test.secret_key).status_code == 200
    assert client.post("/tokens", json={"card": card()}).status_code == 401


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"number": "4242424242424241"}, "Luhn"),
        ({"number": "42424242"}, "between 12 and 19"),
        ({"number": "4242x42424242424"}, "only digits"),
        ({"number": ""}, "card[number] is required"),
        ({"name": ""}, "card[name] is required"),
        ({"expiration_month": 13}, "between 1 and 12"),
        ({"expiration_month": 0}, "between 1 and 12"),
        ({"expiration_year": 2020}, "expired"),
        ({"expiration_month": "soon"}, "expiration_month"),
        ({"security_code": "12"}, "3 digits"),
        ({"number": "378282246310005", "security_code": "123"}, "4 digits"),
        ({"number": "9999999999999995"}, "brand"),
    ],
)
def test_invalid_cards_are_rejected_with_invalid_card(
    client: TestClient, account: TestAccount, fields: dict[str, Any], fragment: str
) -> None:
    response = post_token(client, account.test.public_key, **fields)
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "invalid_card" and fragment in error["message"]
    number = str(fields.get("number") or VISA_OK)
    assert len(number) < 12 or number not in response.text


def test_card_is_required(client: TestClient, account: TestAccount) -> None:
    response = client.post("/tokens", auth=auth(account.test.public_key), json={})
    assert response.status_code == 400 and response.json()["code"] == "invalid_card"


def test_real_card_numbers_are_refused_in_test_mode(
    client: TestClient, account: TestAccount
) -> None:
    real_looking = "4000056655665556"  # Luhn-valid, not an Omise test card
    response = post_token(client, account.test.public_key, number=real_looking)
    assert response.status_code == 400
    assert response.json()["code"] == "test_mode_live_card"
    assert real_looking not in response.text


@pytest.mark.parametrize(
    ("number", "brand"),
    [
        ("5555555555554444", "MasterCard"),
        ("3530111333300000", "JCB"),
        ("378282246310005", "American Express"),
        ("6447032400000000001", "Discover"),
        ("36021042000004", "Diners Club"),
        ("6250947000000006", "UnionPay"),
    ],
)
def test_brands_of_test_cards(
    client: TestClient, account: TestAccount, number: str, brand: str
) -> None:
    code = "1234" if brand == "American Express" else "123"
    tok = post_token(client, account.test.public_key, number=number, security_code=code).json()
    assert tok["card"]["brand"] == brand and tok["card"]["last_digits"] == number[-4:]


def test_live_mode_has_no_vault_yet(client: TestClient, account: TestAccount) -> None:
    response = post_token(client, account.live.public_key)
    assert response.status_code == 400 and response.json()["code"] == "live_mode_unavailable"


def test_retrieve_token_and_isolation(
    client: TestClient, account: TestAccount, other_account: TestAccount
) -> None:
    tok = token(client, account)
    fetched = client.get(f"/tokens/{tok}", auth=auth(account.test.public_key))
    assert fetched.status_code == 200 and fetched.json()["id"] == tok
    for key in (other_account.test.public_key, account.live.public_key):
        assert client.get(f"/tokens/{tok}", auth=auth(key)).status_code == 404


def test_same_card_same_fingerprint_different_cards_differ(
    client: TestClient, account: TestAccount
) -> None:
    def fingerprint(number: str) -> str:
        result: str = post_token(client, account.test.public_key, number=number).json()["card"][
            "fingerprint"
        ]
        return result

    assert fingerprint(VISA_OK) == fingerprint("4242 4242 4242 4242")
    assert fingerprint(VISA_OK) != fingerprint("4111111111111111")
