"""Links whose customer decides the amount: made in the dashboard (or the API, an extension);
the hosted page asks for the amount, checks it against the link's bounds, and both cards and
PromptPay charge it; the API's charges must name an amount within the bounds."""

from __future__ import annotations

from typing import Any

from factories import (
    CARD,
    TestAccount,
    auth,
    form_tokens,
    link,
    open_page,
    pay_on_page,
    sign_in,
    token,
)
from starlette.testclient import TestClient

TIP_JAR = {
    "title": "Tip jar",
    "amount": 10000,
    "multiple": True,
    "amount_type": "customer",
    "amount_min": 5000,
    "amount_max": 200000,
}


def test_the_api_makes_customer_links_and_checks_their_bounds(
    client: TestClient, account: TestAccount
) -> None:
    secret = auth(account.test.secret_key)
    tip = link(client, account, **TIP_JAR)
    assert (tip["amount_type"], tip["amount_min"], tip["amount_max"]) == ("customer", 5000, 200000)
    for body in (
        {**TIP_JAR, "amount": 1000},  # the suggestion is below the minimum
        {**TIP_JAR, "amount_type": "fixed"},  # bounds on a fixed link
        {**TIP_JAR, "amount_type": "whatever"},
    ):
        refused = client.post("/links", auth=secret, json={"currency": "thb", **body})
        assert refused.status_code == 400, refused.text
    missing = client.post(
        "/charges", auth=secret, json={"card": token(client, account), "link": tip["id"]}
    )
    assert missing.status_code == 400 and missing.json()["code"] == "invalid_amount"
    too_big = client.post(
        "/charges",
        auth=secret,
        json={"card": token(client, account), "link": tip["id"], "amount": 300000},
    )
    assert too_big.status_code == 400 and too_big.json()["code"] == "invalid_amount"
    paid = client.post(
        "/charges",
        auth=secret,
        json={"card": token(client, account), "link": tip["id"], "amount": 25000},
    )
    assert paid.status_code == 200 and paid.json()["amount"] == 25000
    assert paid.json()["status"] == "successful"


def test_a_single_use_customer_link_is_still_paid_once(
    client: TestClient, account: TestAccount
) -> None:
    once = link(client, account, **{**TIP_JAR, "multiple": False})
    secret = auth(account.test.secret_key)
    first = client.post(
        "/charges",
        auth=secret,
        json={"card": token(client, account), "link": once["id"], "amount": 7000},
    )
    second = client.post(
        "/charges",
        auth=secret,
        json={"card": token(client, account), "link": once["id"], "amount": 9000},
    )
    assert first.json()["status"] == "successful"
    assert second.status_code == 400 and second.json()["code"] == "link_not_payable"


def test_the_hosted_page_asks_for_the_amount_and_charges_it(
    client: TestClient, account: TestAccount
) -> None:
    tip = link(client, account, **TIP_JAR)
    page = open_page(client, tip["id"])
    assert 'name="amount"' in page and 'value="100.00"' in page  # the suggestion, ฿100
    assert "From ฿50.00 to ฿2,000.00" in page
    thai = open_page(client, tip["id"], params={"locale": "th"})
    assert "ตั้งแต่ ฿50.00 ถึง ฿2,000.00" in thai
    low = pay_on_page(client, tip["id"], amount="10")
    assert low.status_code == 422 and "Enter an amount from ฿50.00 to ฿2,000.00." in low.text
    assert 'value="10"' in low.text  # the form keeps what was typed
    bad = pay_on_page(client, tip["id"], amount="lots")
    assert bad.status_code == 422 and "as a number" in bad.text
    paid = pay_on_page(client, tip["id"], amount="1,234.50")
    assert paid.status_code == 200 and "฿1,234.50" in paid.text
    charges = client.get(f"/links/{tip['id']}/charges", auth=auth(account.test.secret_key))
    assert [c["amount"] for c in charges.json()["data"]] == [123450]


def test_promptpay_charges_the_chosen_amount(client: TestClient, account: TestAccount) -> None:
    tip = link(client, account, **TIP_JAR)
    tokens = form_tokens(open_page(client, tip["id"]))
    qr = client.post(
        f"/pay/{tip['id']}/promptpay",
        data={**CARD, "promptpay_token": tokens["promptpay_token"], "amount": "750"},
    )
    assert qr.status_code == 200, qr.text[:300]
    charges = client.get(f"/links/{tip['id']}/charges", auth=auth(account.test.secret_key))
    (pending,) = charges.json()["data"]
    assert (pending["amount"], pending["status"]) == (75000, "pending")


def test_fixed_links_are_unchanged(client: TestClient, account: TestAccount) -> None:
    fixed = link(client, account)
    page = open_page(client, fixed["id"])
    assert 'name="amount"' not in page and "Pay ฿1,000.00" in page
    assert (
        pay_on_page(client, fixed["id"], amount="5").status_code == 200
    )  # an extra field is ignored


def test_the_dashboard_creates_customer_links(make_client: Any, account: TestAccount) -> None:
    client: TestClient = make_client()
    csrf = sign_in(client, account.test.secret_key)
    form = {
        "csrf": csrf,
        "title": "Donations",
        "amount": "300",
        "currency": "thb",
        "amount_type": "customer",
        "amount_min": "100",
        "amount_max": "10,000",
        "multiple": "on",
        "action": "create",
    }
    made = client.post("/dashboard/links/new", data=form, follow_redirects=False)
    assert made.status_code == 303, made.text
    link_id = made.headers["location"].rsplit("/", 1)[1]
    found = client.get(f"/links/{link_id}", auth=auth(account.test.secret_key)).json()
    assert (found["amount"], found["amount_min"], found["amount_max"]) == (30000, 10000, 1000000)
    backwards = client.post("/dashboard/links/new", data={**form, "amount": "50"})
    assert backwards.status_code == 400  # the suggestion is below the minimum
