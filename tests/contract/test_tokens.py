"""Contract scenarios of card tokens: tokenizing and reading tokens."""

from __future__ import annotations

from typing import Any

from checker import (
    Ctx,
    error_code,
    scenario,
)
from factories import card

# --- createToken, getToken


@scenario("createToken", 200)
def tokenize_as_the_sdks_do(ctx: Ctx) -> None:
    public = ctx.account.test.public_key
    body = {"card": card(postal_code=10320, country="TH", city="Bangkok", security_code=123)}
    token = ctx.call("createToken", status=200, key=public, json=body).json()
    assert token["card"]["country"] == "th" and token["card"]["postal_code"] == "10320"
    amex = {"card": card("378282246310005", expiration_year="35", security_code="1234")}
    token = ctx.call("createToken", status=200, json=amex).json()  # the secret key works too
    assert token["card"]["brand"] == "American Express" and token["card"]["expiration_year"] == 2035
    form = {"card": {**card("5555 5555 5555 4444"), "expiration_month": "7", "security_code": ""}}
    token = ctx.call("createToken", status=200, key=public, form=form, slash=True).json()
    assert token["card"]["brand"] == "MasterCard" and token["card"]["security_code_check"] is False


@scenario("createToken", 400)
def cards_the_vault_refuses(ctx: Ctx) -> None:
    public = ctx.account.test.public_key
    cases: list[tuple[dict[str, Any], str]] = [
        ({}, "invalid_card"),
        ({"card": "4242424242424242"}, "invalid_card"),
        ({"card": card("4242424242424241")}, "invalid_card"),
        ({"card": card(expiration_year=2001)}, "invalid_card"),
        ({"card": card(expiration_month=13)}, "invalid_card"),
        ({"card": card(security_code="12")}, "invalid_card"),
        ({"card": card("4012888888881881")}, "test_mode_live_card"),
    ]
    for body, code in cases:
        response = ctx.call("createToken", status=400, key=public, json=body)
        assert error_code(response) == code, body
        assert "4242424242424241" not in response.text
    live = ctx.call(
        "createToken", status=400, key=ctx.account.live.public_key, json={"card": card()}
    )
    assert error_code(live) == "live_mode_unavailable"
    malformed = ctx.call(
        "createToken",
        status=400,
        key=public,
        content=b"{",
        headers={"content-type": "application/json"},
    )
    assert error_code(malformed) == "bad_request"


@scenario("getToken", 200)
def get_a_token_before_and_after_use(ctx: Ctx) -> None:
    token_id = ctx.new_token()
    public = ctx.account.test.public_key
    fresh = ctx.call("getToken", status=200, key=public, token_id=token_id).json()
    assert (fresh["used"], fresh["charge_status"]) == (False, "unknown")
    ctx.new_charge(card=token_id)
    used = ctx.call("getToken", status=200, token_id=token_id, slash=True).json()
    assert (used["used"], used["charge_status"]) == (True, "successful")


@scenario("getToken", 400)
def get_a_token_with_a_malformed_body(ctx: Ctx) -> None:
    headers = {"content-type": "application/json"}
    ctx.call("getToken", status=400, token_id=ctx.new_token(), content=b"{", headers=headers)


@scenario("getToken", 404)
def get_tokens_of_others(ctx: Ctx) -> None:
    token_id = ctx.new_token()
    ctx.call("getToken", status=404, token_id=token_id, key=ctx.other_account.test.public_key)
    ctx.call("getToken", status=404, token_id="tokn_test_missing")


# Edge cases an earlier audit found answered wrongly (all fixed; kept as regressions).


def test_blank_card_name_is_invalid_card(ctx: Ctx) -> None:
    body = {"card": card(name="   ")}
    ctx.call("createToken", status=400, key=ctx.account.test.public_key, json=body)
