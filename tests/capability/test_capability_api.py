"""GET /capability: Omise's capability object, true to what the API takes. Its currencies, limits,
card brands and source types are checked against the modules that decide them and against the
API itself (a charge in every listed currency, the limits' edges, a token of every listed
brand), so that the object cannot offer a payer something a charge would refuse."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from factories import TestAccount, auth, card, token
from starlette.testclient import TestClient

from paylinks.db import Database
from paylinks.keyring import installation_key
from paylinks.money import CURRENCIES
from paylinks.processors.sandbox import TEST_CARDS
from paylinks.sources.service import PROMPTPAY_CURRENCY, SOURCE_TYPES
from paylinks.tokens.cards import BRANDS
from paylinks.upstream import connections

# Omise's fields (omise-php's capability fixture), less `transfer_amount` (no transfers here).
FIELDS = {
    "object", "location", "banks", "limits", "payment_methods", "tokenization_methods",
    "zero_interest_installments", "country",
}  # fmt: skip
METHOD_FIELDS = {
    "object", "name", "currencies", "card_brands", "installment_terms",
    "loan_installment_terms", "banks", "provider",
}  # fmt: skip


def capability(client: TestClient, key: str) -> dict[str, Any]:
    response = client.get("/capability", auth=auth(key))
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def methods(found: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {method["name"]: method for method in found["payment_methods"]}


def test_the_public_key_gets_omises_shape(client: TestClient, account: TestAccount) -> None:
    found = capability(client, account.test.public_key)
    assert set(found) == FIELDS
    assert (found["object"], found["location"]) == ("capability", "/capability")
    assert found["country"] == "TH"
    assert found["banks"] == [] and found["tokenization_methods"] == []
    assert found["zero_interest_installments"] is False
    assert set(found["limits"]) == {"charge_amount", "installment_amount"}
    assert found["limits"]["installment_amount"]["min"] > 0
    for method in found["payment_methods"]:
        assert set(method) == METHOD_FIELDS and method["object"] == "payment_method"
        assert method["installment_terms"] is None and method["banks"] == []


def test_values_are_the_ones_paylinks_enforces(client: TestClient, account: TestAccount) -> None:
    found = capability(client, account.test.public_key)
    thb = CURRENCIES["thb"]
    assert found["limits"]["charge_amount"] == {"max": thb.maximum, "min": thb.minimum}
    by_name = methods(found)
    assert list(by_name) == ["card", *SOURCE_TYPES]
    assert by_name["card"]["currencies"] == [code.upper() for code in CURRENCIES]
    assert set(by_name["card"]["card_brands"]) == {brand for brand, _, _ in BRANDS}
    assert by_name["promptpay"]["currencies"] == [PROMPTPAY_CURRENCY.upper()]
    assert by_name["promptpay"]["card_brands"] is None


def test_the_secret_key_gets_the_same_answer(client: TestClient, account: TestAccount) -> None:
    public = capability(client, account.test.public_key)
    assert capability(client, account.test.secret_key) == public
    slash = client.get("/capability/", auth=auth(account.test.secret_key))
    assert slash.status_code == 200 and slash.json() == public


def test_no_key_or_an_unknown_one_is_refused_readably(client: TestClient) -> None:
    for key in (None, "pkey_test_unknown", "skey_test_unknown"):
        response = client.get(
            "/capability",
            auth=None if key is None else auth(key),
            headers={"Origin": "https://shop.example"},
        )
        assert response.status_code == 401
        assert response.json()["code"] == "authentication_failure"
        assert response.headers["access-control-allow-origin"] == "*"


def test_live_mode_offers_nothing_while_it_has_no_processor(
    client: TestClient, account: TestAccount
) -> None:
    test = capability(client, account.test.public_key)
    for key in (account.live.public_key, account.live.secret_key):
        live = capability(client, key)
        assert live["payment_methods"] == []
        assert {**live, "payment_methods": None} == {**test, "payment_methods": None}
    refused = client.post("/tokens", auth=auth(account.live.public_key), json={"card": card()})
    assert refused.json()["code"] == "live_mode_unavailable"  # what the empty list reflects


def test_live_mode_offers_cards_once_an_omise_account_is_connected(
    client: TestClient, db: Database, account: TestAccount
) -> None:
    with db.transaction() as conn:
        key = installation_key(conn, master="", name=connections.SEALING_KEY)
        connections.connect(
            conn, account_id=account.id, public_key="pkey_" + "p" * 20,
            secret_key="skey_" + "s" * 20, sealing_key=key, now=datetime.now(UTC),
        )  # fmt: skip
    try:
        live = capability(client, account.live.public_key)
        # Omise.js tokenizes at Omise; live sources (PromptPay) are not taken yet.
        assert methods(live).keys() == {"card"}
    finally:
        with db.transaction() as conn:
            connections.disconnect(conn, account_id=account.id)
    assert methods(capability(client, account.live.public_key)) == {}


def test_every_listed_card_currency_can_be_charged(
    client: TestClient, account: TestAccount
) -> None:
    card_method = methods(capability(client, account.test.public_key))["card"]
    for code in card_method["currencies"]:
        smallest = CURRENCIES[code.lower()].minimum
        charge = client.post(
            "/charges",
            auth=auth(account.test.secret_key),
            json={"card": token(client, account), "amount": smallest, "currency": code},
        )
        assert charge.status_code == 200, (code, charge.text)
        assert charge.json()["status"] == "successful", code
    unlisted = client.post(
        "/charges",
        auth=auth(account.test.secret_key),
        json={"card": token(client, account), "amount": 100000, "currency": "KRW"},
    )
    assert unlisted.json()["code"] == "invalid_currency"


def test_the_charge_limits_are_the_edges_of_what_is_accepted(
    client: TestClient, account: TestAccount
) -> None:
    limits = capability(client, account.test.public_key)["limits"]["charge_amount"]
    secret = auth(account.test.secret_key)

    def source(amount: int) -> Any:
        body = {"type": "promptpay", "amount": amount, "currency": "thb"}
        return client.post("/sources", auth=secret, json=body)

    assert source(limits["min"]).status_code == 200
    assert source(limits["max"]).status_code == 200
    assert source(limits["min"] - 1).json()["code"] == "invalid_amount"
    assert source(limits["max"] + 1).json()["code"] == "invalid_amount"


def test_the_listed_brands_are_the_brands_the_vault_tokenizes(
    client: TestClient, account: TestAccount
) -> None:
    listed = set(methods(capability(client, account.test.public_key))["card"]["card_brands"])
    tokenized = set()
    for number, outcome in TEST_CARDS.items():
        if outcome is None:  # Omise's test cards that succeed: one or more of every brand
            body = {"card": card(number, security_code=None)}  # any length for any brand
            made = client.post("/tokens", auth=auth(account.test.public_key), json=body)
            assert made.status_code == 200, made.text
            tokenized.add(made.json()["card"]["brand"])
    assert tokenized == listed
