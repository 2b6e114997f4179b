"""Contract scenarios of charges: paying by card and PromptPay, listing and reading charges,
and the test-mode completions (mark as paid, mark as failed)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from checker import (
    Ctx,
    error_code,
    scenario,
)
from factories import VISA_NO_FUNDS
from faults import FAIL_BEFORE, FaultProxy, fault_proxy
from servers import LiveServer, live_server
from starlette.testclient import TestClient
from upstreams import TIMEOUT, connect, upstream_charges, upstream_source, upstream_token

# --- createCharge


@scenario("createCharge", 200)
def pay_a_link_by_card(ctx: Ctx) -> None:
    invoice = ctx.new_link()
    charge = ctx.call(
        "createCharge",
        status=200,
        json={"card": ctx.new_token(), "link": invoice["id"], "customer_email": "b@example.com"},
    ).json()
    assert (charge["status"], charge["paid"], charge["link"]) == ("successful", True, invoice["id"])
    assert charge["source"] == {"object": "source", "type": "link", "id": invoice["id"]}
    # The link now embeds its charge.
    link = ctx.call("getLink", status=200, link_id=invoice["id"]).json()
    assert link["charges"]["data"] == [charge] and link["used"] is True


@scenario("createCharge", 200)
def pay_without_a_link_by_form_and_get_declined(ctx: Ctx) -> None:
    form = {
        "card": ctx.new_token(VISA_NO_FUNDS),
        "amount": "5000",
        "currency": "USD",
        "description": "Order 7",
        "metadata": {"order": "7"},
    }
    charge = ctx.call("createCharge", status=200, form=form).json()
    assert (charge["status"], charge["failure_code"]) == ("failed", "insufficient_fund")
    assert (
        charge["link"] is None and charge["source"] is None and charge["metadata"] == {"order": "7"}
    )


@scenario("createCharge", 200)
def pay_a_link_by_promptpay(ctx: Ctx) -> None:
    invoice = ctx.new_link()
    charge = ctx.pending_charge(invoice["id"])
    assert charge["source"]["type"] == "promptpay" and charge["source"]["link"] == invoice["id"]
    assert charge["card"] is None and charge["source"]["charge_status"] == "pending"


@scenario("createCharge", 400)
def charges_the_server_refuses(ctx: Ctx) -> None:
    paid = ctx.new_link()
    ctx.new_charge(link=paid["id"])
    used_token = ctx.new_token()
    ctx.new_charge(card=used_token, amount=5000, currency="usd")
    used_source = ctx.new_source()
    ctx.call(
        "createCharge", status=200, json={"source": used_source["id"], "link": ctx.new_link()["id"]}
    )
    cases: list[tuple[dict[str, Any], str]] = [
        ({"amount": 5000, "currency": "usd"}, "missing_card"),
        ({"card": ctx.new_token(), "source": ctx.new_source()["id"]}, "missing_card"),
        ({"card": ctx.new_token()}, "invalid_charge"),
        ({"card": ctx.new_token(), "link": ctx.new_link()["id"], "amount": 5}, "invalid_charge"),
        ({"card": ctx.new_token(), "amount": 0, "currency": "usd"}, "invalid_amount"),
        ({"card": ctx.new_token(), "amount": 50, "currency": "usd"}, "invalid_amount"),
        ({"card": ctx.new_token(), "amount": 5000, "currency": "xyz"}, "invalid_currency"),
        ({"card": ctx.new_token(), "link": paid["id"]}, "link_not_payable"),
        ({"card": used_token, "amount": 5000, "currency": "usd"}, "used_token"),
        ({"card": "tokn_test_unknown", "amount": 5000, "currency": "usd"}, "invalid_card_token"),
        ({"source": used_source["id"], "amount": 100000, "currency": "thb"}, "bad_request"),
        (
            {"card": ctx.new_token(), "amount": 5000, "currency": "usd", "customer_email": "x"},
            "bad_request",
        ),
    ]
    for body, code in cases:
        assert error_code(ctx.call("createCharge", status=400, json=body)) == code, body
    live = ctx.account.live.secret_key
    refused = ctx.call("createCharge", status=400, key=live, json={"card": "x", "link": "y"})
    assert error_code(refused) == "live_mode_unavailable"


@scenario("createCharge", 404)
def pay_a_missing_link_or_source(ctx: Ctx) -> None:
    ctx.call("createCharge", status=404, json={"card": ctx.new_token(), "link": "payl_test_x"})
    body = {"source": "src_test_missing", "amount": 100000, "currency": "thb"}
    ctx.call("createCharge", status=404, json=body)


# --- listCharges, getCharge


@scenario("listCharges", 200)
def list_charges_every_way(ctx: Ctx) -> None:
    made = [ctx.new_charge(), ctx.new_charge(), ctx.pending_charge()]
    listing = ctx.call("listCharges", status=200, query={"order": "reverse_chronological"})
    assert [c["id"] for c in listing.json()["data"]] == [c["id"] for c in made[::-1]]
    body = {"limit": 1, "offset": None, "from": "2020-01-01", "to": None}
    assert ctx.call("listCharges", status=200, json=body, slash=True).json()["total"] == 3


@scenario("listCharges", 400)
def list_all_charges_with_bad_parameters(ctx: Ctx) -> None:
    for query in ({"limit": -1}, {"order": "newest"}, {"to": "2001-01-01", "from": "2002-01-01"}):
        ctx.call("listCharges", status=400, query=query)


@scenario("getCharge", 200)
def get_charges(ctx: Ctx) -> None:
    for made in (ctx.new_charge(), ctx.pending_charge()):
        got = ctx.call("getCharge", status=200, charge_id=made["id"], slash=True).json()
        assert got == made


@scenario("getCharge", 400)
def get_a_charge_with_a_malformed_body(ctx: Ctx) -> None:
    charge = ctx.new_charge()
    headers = {"content-type": "application/json"}
    ctx.call("getCharge", status=400, charge_id=charge["id"], content=b'"', headers=headers)


@scenario("getCharge", 404)
def get_charges_of_others(ctx: Ctx) -> None:
    charge = ctx.new_charge()
    for key in (ctx.other_account.test.secret_key, ctx.account.live.secret_key):
        ctx.call("getCharge", status=404, charge_id=charge["id"], key=key)
    ctx.call("getCharge", status=404, charge_id="chrg_test_missing")


# --- markChargeAsPaid, markChargeAsFailed


@scenario("markChargeAsPaid", 200)
def complete_a_pending_charge(ctx: Ctx) -> None:
    pending = ctx.pending_charge()
    paid = ctx.call("markChargeAsPaid", status=200, charge_id=pending["id"], content=b"").json()
    assert paid["status"] == "successful" and paid["paid_at"] and paid["transaction"]
    assert paid["source"]["charge_status"] == "successful"


@scenario("markChargeAsPaid", 400)
def complete_what_cannot_be_completed(ctx: Ctx) -> None:
    done = ctx.new_charge()
    refused = ctx.call("markChargeAsPaid", status=400, charge_id=done["id"])
    assert error_code(refused) == "invalid_charge"
    invoice = ctx.new_link()
    late = ctx.pending_charge(invoice["id"])
    ctx.new_charge(link=invoice["id"])  # a card pays the single-use link first
    gone = ctx.call("markChargeAsPaid", status=400, charge_id=late["id"])
    assert error_code(gone) == "link_not_payable"
    live = ctx.account.live.secret_key  # the test charge is not the live key's to see
    ctx.call("markChargeAsPaid", status=404, charge_id=late["id"], key=live)


@scenario("markChargeAsPaid", 404)
def complete_a_missing_charge(ctx: Ctx) -> None:
    ctx.call("markChargeAsPaid", status=404, charge_id="chrg_test_missing")


@scenario("markChargeAsFailed", 200)
def fail_a_pending_charge(ctx: Ctx) -> None:
    pending = ctx.pending_charge()
    headers = {"content-type": "application/json"}  # the Node SDK's `null` body
    failed = ctx.call(
        "markChargeAsFailed", status=200, charge_id=pending["id"], content=b"null", headers=headers
    )
    assert (failed.json()["status"], failed.json()["failure_code"]) == (
        "failed",
        "payment_rejected",
    )


@scenario("markChargeAsFailed", 400)
def fail_what_cannot_be_failed(ctx: Ctx) -> None:
    done = ctx.new_charge()
    refused = ctx.call("markChargeAsFailed", status=400, charge_id=done["id"])
    assert error_code(refused) == "invalid_charge"
    live = ctx.account.live.secret_key  # the test charge is not the live key's to see
    ctx.call("markChargeAsFailed", status=404, charge_id=ctx.pending_charge()["id"], key=live)


@scenario("markChargeAsFailed", 404)
def fail_a_missing_charge(ctx: Ctx) -> None:
    ctx.call("markChargeAsFailed", status=404, charge_id="chrg_test_missing")


# --- updateCharge


@scenario("updateCharge", 200)
def update_a_charges_description_and_metadata(ctx: Ctx) -> None:
    charge = ctx.new_charge()
    body = {"description": "Order 9", "metadata": {"order": "9"}}
    updated = ctx.call("updateCharge", status=200, charge_id=charge["id"], json=body).json()
    assert (updated["description"], updated["metadata"]) == ("Order 9", {"order": "9"})
    form = ctx.call(
        "updateCharge", status=200, charge_id=charge["id"], form={"metadata[a]": "1"}, slash=True
    ).json()
    assert form["metadata"] == {"a": "1"} and form["description"] == "Order 9"


@scenario("updateCharge", 400)
def update_what_a_charge_cannot_change(ctx: Ctx) -> None:
    charge = ctx.new_charge()
    for body in ({"amount": 1}, {"status": "failed"}, {"description": "x" * 1001}):
        ctx.call("updateCharge", status=400, charge_id=charge["id"], json=body)


@scenario("updateCharge", 404)
def update_others_charges(ctx: Ctx) -> None:
    charge = ctx.new_charge()
    key = ctx.other_account.test.secret_key
    ctx.call("updateCharge", status=404, charge_id=charge["id"], key=key, json={"description": "x"})


# --- captureCharge, reverseCharge, expireCharge


@scenario("captureCharge", 200)
def capture_an_authorization(ctx: Ctx) -> None:
    charge = ctx.authorization()
    done = ctx.call("captureCharge", status=200, charge_id=charge["id"], slash=True).json()
    assert (done["status"], done["paid"], done["capturable"]) == ("successful", True, False)


@scenario("captureCharge", 400)
def captures_the_server_refuses(ctx: Ctx) -> None:
    captured = ctx.new_charge()
    response = ctx.call("captureCharge", status=400, charge_id=captured["id"])
    assert error_code(response) == "failed_capture"
    reversed_ = ctx.authorization()
    ctx.call("reverseCharge", status=200, charge_id=reversed_["id"])
    response = ctx.call("captureCharge", status=400, charge_id=reversed_["id"])
    assert error_code(response) == "failed_capture"


@scenario("captureCharge", 404)
def capture_others_charges(ctx: Ctx) -> None:
    charge = ctx.authorization()
    key = ctx.other_account.test.secret_key
    ctx.call("captureCharge", status=404, charge_id=charge["id"], key=key)
    ctx.call("captureCharge", status=404, charge_id="chrg_test_missing")


@scenario("reverseCharge", 200)
def reverse_an_authorization(ctx: Ctx) -> None:
    charge = ctx.authorization()
    done = ctx.call("reverseCharge", status=200, charge_id=charge["id"], slash=True).json()
    assert (done["status"], done["reversed"]) == ("reversed", True) and done["reversed_at"]


@scenario("reverseCharge", 400)
def reversals_the_server_refuses(ctx: Ctx) -> None:
    for charge in (ctx.new_charge(), ctx.pending_charge()):
        response = ctx.call("reverseCharge", status=400, charge_id=charge["id"])
        assert error_code(response) == "failed_reverse"


@scenario("reverseCharge", 404)
def reverse_others_charges(ctx: Ctx) -> None:
    charge = ctx.authorization()
    key = ctx.other_account.test.secret_key
    ctx.call("reverseCharge", status=404, charge_id=charge["id"], key=key)


@contextmanager
def live_with_omise(ctx: Ctx) -> Iterator[tuple[TestClient, LiveServer, FaultProxy]]:
    """The account connected to an Omise (a second paylinks in test mode) behind a proxy that
    can lose its answers; a client of the app that talks to it."""
    with (
        tempfile.TemporaryDirectory() as folder,
        live_server(f"sqlite:///{folder}/omise.db") as omise,
        fault_proxy(omise.url) as proxy,
    ):
        connect(ctx.db, ctx.account, omise)
        yield ctx.make_client(omise_api_url=proxy.url, omise_timeout_seconds=TIMEOUT), omise, proxy


@scenario("captureCharge", 503)
@scenario("reverseCharge", 503)
@scenario("expireCharge", 503)
def live_steps_whose_answer_from_omise_is_lost(ctx: Ctx) -> None:
    key = ctx.account.live.secret_key
    with live_with_omise(ctx) as (live, omise, proxy):
        body = {"card": upstream_token(omise), "amount": 50000, "currency": "thb", "capture": False}
        held = ctx.call("createCharge", status=200, client=live, key=key, json=body).json()
        qr = {"source": upstream_source(omise), "amount": 50000, "currency": "thb"}
        waiting = ctx.call("createCharge", status=200, client=live, key=key, json=qr).json()
        steps = [("captureCharge", held), ("reverseCharge", held), ("expireCharge", waiting)]
        for op, charge in steps:
            [upstream] = upstream_charges(omise, "paylinks_charge_id", charge["id"])
            action = op.removesuffix("Charge")
            proxy.arm(FAIL_BEFORE, "POST", f"/charges/{upstream['id']}/{action}")
            lost = ctx.call(op, status=503, client=live, key=key, charge_id=charge["id"])
            assert error_code(lost) == "service_unavailable"


@scenario("expireCharge", 200)
def expire_a_promptpay_charge(ctx: Ctx) -> None:
    charge = ctx.pending_charge()
    done = ctx.call("expireCharge", status=200, charge_id=charge["id"], slash=True).json()
    assert (done["status"], done["expired"]) == ("expired", True) and done["expired_at"]


@scenario("expireCharge", 400)
def expiries_the_server_refuses(ctx: Ctx) -> None:
    for charge in (ctx.new_charge(), ctx.authorization()):
        response = ctx.call("expireCharge", status=400, charge_id=charge["id"])
        assert error_code(response) == "failed_expire"


@scenario("expireCharge", 404)
def expire_others_charges(ctx: Ctx) -> None:
    charge = ctx.pending_charge()
    key = ctx.other_account.test.secret_key
    ctx.call("expireCharge", status=404, charge_id=charge["id"], key=key)
