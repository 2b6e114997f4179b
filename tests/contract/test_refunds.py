"""Contract scenarios of refunds: making one, a charge's refunds, one refund, all refunds."""

from __future__ import annotations

from checker import (
    Ctx,
    error_code,
    scenario,
)
from factories import VISA_NO_FUNDS

# --- createRefund


@scenario("createRefund", 200)
def refund_a_charge_in_parts(ctx: Ctx) -> None:
    charge = ctx.new_charge(amount=5000, currency="thb")
    first = ctx.call(
        "createRefund", status=200, charge_id=charge["id"],
        json={"amount": 2000, "metadata": {"reason": "late"}},
    ).json()  # fmt: skip
    assert (first["amount"], first["charge"], first["metadata"]) == (
        2000,
        charge["id"],
        {"reason": "late"},
    )
    rest = ctx.call(
        "createRefund", status=200, charge_id=charge["id"], form={"amount": "3000"}, slash=True
    ).json()
    after = ctx.call("getCharge", status=200, charge_id=charge["id"]).json()
    assert after["refunded_amount"] == 5000 and after["refundable"] is False
    assert after["refunds"]["data"] == [first, rest]


@scenario("createRefund", 400)
def refunds_the_server_refuses(ctx: Ctx) -> None:
    charge = ctx.new_charge(amount=5000, currency="thb")
    for body in ({}, {"amount": 0}, {"amount": "all"}):
        response = ctx.call("createRefund", status=400, charge_id=charge["id"], json=body)
        assert error_code(response) == "invalid_amount"
    over = ctx.call("createRefund", status=400, charge_id=charge["id"], json={"amount": 5001})
    assert error_code(over) == "failed_refund"
    declined = ctx.new_charge(card=ctx.new_token(VISA_NO_FUNDS), amount=5000, currency="thb")
    refused = ctx.call("createRefund", status=400, charge_id=declined["id"], json={"amount": 1})
    assert error_code(refused) == "failed_refund"
    pending = ctx.pending_charge()
    refused = ctx.call("createRefund", status=400, charge_id=pending["id"], json={"amount": 1})
    assert error_code(refused) == "failed_refund"
    metadata = {"metadata": {"k" * 41: "too long a key"}, "amount": 1}
    response = ctx.call("createRefund", status=400, charge_id=charge["id"], json=metadata)
    assert error_code(response) == "bad_request"


@scenario("createRefund", 404)
def refund_others_charges(ctx: Ctx) -> None:
    charge = ctx.new_charge()
    key = ctx.other_account.test.secret_key
    ctx.call("createRefund", status=404, charge_id=charge["id"], key=key, json={"amount": 1})
    ctx.call("createRefund", status=404, charge_id="chrg_test_missing", json={"amount": 1})


# --- listChargeRefunds, getRefund, listRefunds


@scenario("listChargeRefunds", 200)
def list_a_charges_refunds(ctx: Ctx) -> None:
    refund = ctx.new_refund()
    listing = ctx.call("listChargeRefunds", status=200, charge_id=refund["charge"], slash=True)
    assert listing.json()["data"] == [refund]
    empty = ctx.call("listChargeRefunds", status=200, charge_id=ctx.new_charge()["id"])
    assert empty.json()["total"] == 0


@scenario("listChargeRefunds", 400)
def list_a_charges_refunds_with_bad_parameters(ctx: Ctx) -> None:
    refund = ctx.new_refund()
    ctx.call("listChargeRefunds", status=400, charge_id=refund["charge"], query={"limit": "all"})


@scenario("listChargeRefunds", 404)
def list_refunds_of_others_charges(ctx: Ctx) -> None:
    refund = ctx.new_refund()
    key = ctx.other_account.test.secret_key
    ctx.call("listChargeRefunds", status=404, charge_id=refund["charge"], key=key)
    ctx.call("listChargeRefunds", status=404, charge_id="chrg_test_missing")


@scenario("getRefund", 200)
def get_a_refund(ctx: Ctx) -> None:
    refund = ctx.new_refund()
    found = ctx.call(
        "getRefund", status=200, charge_id=refund["charge"], refund_id=refund["id"], slash=True
    )
    assert found.json() == refund


@scenario("getRefund", 400)
def get_a_refund_with_a_malformed_body(ctx: Ctx) -> None:
    refund = ctx.new_refund()
    headers = {"content-type": "application/json"}
    ctx.call(
        "getRefund", status=400, charge_id=refund["charge"], refund_id=refund["id"],
        content=b"[", headers=headers,
    )  # fmt: skip


@scenario("getRefund", 404)
def get_refunds_of_others_or_under_another_charge(ctx: Ctx) -> None:
    refund = ctx.new_refund()
    other_charge = ctx.new_charge()
    key = ctx.other_account.test.secret_key
    ids = {"charge_id": refund["charge"], "refund_id": refund["id"]}
    ctx.call("getRefund", status=404, key=key, **ids)
    ctx.call("getRefund", status=404, key=ctx.account.live.secret_key, **ids)
    ctx.call("getRefund", status=404, charge_id=other_charge["id"], refund_id=refund["id"])
    ctx.call("getRefund", status=404, charge_id=refund["charge"], refund_id="rfnd_test_missing")


@scenario("listRefunds", 200)
def list_every_refund(ctx: Ctx) -> None:
    made = [ctx.new_refund(amount) for amount in (100, 200)]
    listing = ctx.call("listRefunds", status=200, query={"order": "reverse_chronological"})
    assert listing.json()["data"][:2] == made[::-1]
    body = {"limit": 1, "offset": 0}
    assert len(ctx.call("listRefunds", status=200, json=body, slash=True).json()["data"]) == 1


@scenario("listRefunds", 400)
def list_refunds_with_bad_parameters(ctx: Ctx) -> None:
    for query in ({"limit": -1}, {"order": "newest"}, {"to": "later"}):
        ctx.call("listRefunds", status=400, query=query)
