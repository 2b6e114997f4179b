"""The payment form's errors without JavaScript (issue 16): the server names every field it
refuses at once, in the form's order, each listed in the alert as a link to its field; a
decline suggests PromptPay where it is offered; the language switch stays."""

from __future__ import annotations

import re

from factories import TestAccount, assert_secure_page, form_tokens, link, open_page
from starlette.testclient import TestClient

from paylinks.checkout.messages import EN


def charges_made(client: TestClient) -> int:
    made: int = client.app.state.runtime.test_processor.charges_made  # type: ignore[attr-defined]
    return made


def post_card(client: TestClient, link_id: str, **fields: str) -> str:
    token = form_tokens(open_page(client, link_id))["card_token"]
    body = {"name": "Somchai Jaidee", "number": "4242424242424242", "expiry": "12/35",
            "security_code": "123", "card_token": token, **fields}  # fmt: skip
    return assert_secure_page(client.post(f"/pay/{link_id}", data=body), 422)


def listed(page: str) -> list[tuple[str, str]]:
    """The alert's list: (field it links to, message)."""
    alert = page.split('id="form-alert"', 1)[1].split("</div>", 1)[0]
    return re.findall(r'<li><a href="#(\w+)">([^<]+)</a></li>', alert)


def test_every_refused_field_is_named_at_once_in_the_forms_order(
    client: TestClient, account: TestAccount
) -> None:
    invoice = link(
        client, account, amount=60000, amount_type="customer", amount_min=50000, amount_max=90000
    )
    page = post_card(
        client, invoice["id"], amount="10", name="", number="4242424242424241", expiry="01/20",
    )  # fmt: skip
    assert listed(page) == [
        ("amount", EN["err_amount_range"].format(low="฿500.00", high="฿900.00")),
        ("name", EN["err_name_required"]),
        ("number", EN["err_number_invalid"]),
        ("expiry", EN["err_expiry_past"]),
    ]
    for field in ("amount", "name", "number", "expiry"):  # beside each field too
        assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', page)
    # A good number: its security code is judged with it, and a bad expiry beside it.
    page = post_card(client, invoice["id"], amount="600", expiry="13/40", security_code="12")
    assert listed(page) == [
        ("expiry", EN["err_expiry_invalid"]),
        ("security_code", EN["err_security_code"]),
    ]
    assert charges_made(client) == 0


def test_a_decline_suggests_promptpay_where_it_is_offered_and_keeps_the_language_switch(
    client: TestClient, account: TestAccount
) -> None:
    baht = link(client, account)
    token = form_tokens(open_page(client, baht["id"]))["card_token"]
    body = {"name": "Nok", "number": "4111111111140011", "expiry": "12/35",
            "security_code": "123", "card_token": token}  # fmt: skip
    page = assert_secure_page(client.post(f"/pay/{baht['id']}", data=body), 402)
    assert EN["declined_try_promptpay"] in page and 'id="promptpay-button"' in page
    assert f'href="/pay/{baht["id"]}?locale=th"' in page  # the switch stays on an error page
    dollars = link(client, account, currency="usd", amount=5000)
    token = form_tokens(open_page(client, dollars["id"]))["card_token"]
    page = assert_secure_page(
        client.post(f"/pay/{dollars['id']}", data={**body, "card_token": token}), 402
    )
    assert EN["declined_try_promptpay"] not in page  # no PromptPay for dollars
