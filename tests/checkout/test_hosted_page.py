"""The hosted payment page (/pay/<link id>): rendering, escaping, headers, CSRF, payments by card
and PromptPay, honest pages for every link state, attempt limits, views, and no card data out."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import anyio
import httpx
import markupsafe
import pytest
from factories import (
    CARD,
    CVV,
    QR_CSP,
    VISA_NO_FUNDS,
    VISA_OK,
    TestAccount,
    assert_secure_page,
    auth,
    form_tokens,
    link,
    open_page,
    pay_on_page,
    quiet_settings,
)
from starlette.testclient import TestClient

from paylinks.app import create_app
from paylinks.checkout.messages import Messages
from paylinks.clock import FrozenClock
from paylinks.db import Database


def api_link(client: TestClient, account: TestAccount, link_id: str) -> dict[str, Any]:
    response = client.get(f"/links/{link_id}", auth=auth(account.test.secret_key))
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


def processor_calls(client: TestClient) -> int:
    calls: int = client.app.state.runtime.test_processor.charges_made  # type: ignore[attr-defined]
    return calls


def test_page_shows_the_link_with_the_amount_in_english_and_thai(
    client: TestClient, account: TestAccount
) -> None:
    invoice = link(client, account, title="Invoice 42", description="Two mangoes")
    english = open_page(client, invoice["id"])
    assert '<html lang="en">' in english and "฿1,000.00" in english
    assert "Invoice 42" in english and "Two mangoes" in english and "Test merchant" in english
    assert "Pay by card" in english and "Pay with PromptPay QR" in english
    thai = open_page(client, invoice["id"], params={"locale": "th"})
    assert '<html lang="th">' in thai and "฿1,000.00" in thai and "ชำระด้วยบัตร" in thai
    negotiated = open_page(client, invoice["id"], headers={"Accept-Language": "fr, th;q=0.8"})
    assert '<html lang="th">' in negotiated
    yen = link(client, account, amount=5000, currency="jpy")
    page = open_page(client, yen["id"])
    assert "¥5,000" in page and "PromptPay" not in page  # PromptPay takes THB only


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "</title><script>alert(1)</script>",
        "{{7*7}}",
        "ชำระค่าสินค้า & <b>",
    ],
)
def test_merchant_text_is_escaped(client: TestClient, account: TestAccount, hostile: str) -> None:
    invoice = link(client, account, title=hostile, description=hostile)
    page = open_page(client, invoice["id"])
    assert page.count(str(markupsafe.escape(hostile))) >= 3  # <title>, heading, description
    assert "<img src=x" not in page and "<script>alert" not in page and "<b>" not in page
    assert "49" not in re.sub(
        r'(value|href|src|integrity|action|formaction|data-brands)="[^"]*"', "", page
    )


def test_every_page_carries_the_security_headers(make_client: Any, account: TestAccount) -> None:
    client = make_client(checkout_ip_limits="1/minute")
    invoice = link(client, account)
    assert_secure_page(client.get("/pay/payl_test_doesnotexist0000000"), 404)
    assert_secure_page(client.post("/pay/payl_test_doesnotexist0000000", data={}), 404)
    assert_secure_page(client.post(f"/pay/{invoice['id']}", data={}), 403)
    assert_secure_page(pay_on_page(client, invoice["id"]), 200)
    assert_secure_page(client.get(f"/pay/{invoice['id']}"), 410)  # already paid
    other = link(client, account)
    limited = assert_secure_page(pay_on_page(client, other["id"]), 429)
    assert "Too many attempts" in limited
    for name, kind in (
        ("checkout.css", "text/css"),
        ("checkout.js", "text/javascript"),
        ("promptpay.js", "text/javascript"),
    ):
        response = client.get(f"/static/checkout/{name}")
        assert response.status_code == 200 and response.headers["content-type"].startswith(kind)
        assert response.headers["x-content-type-options"] == "nosniff"
    for name in ("app.py", "..%2f..%2fapp.py", "checkout.css.map"):
        assert client.get(f"/static/checkout/{name}").status_code == 404


def test_the_page_runs_only_its_own_script_with_integrity(
    client: TestClient, account: TestAccount
) -> None:
    """The inventory of scripts on the payment page (PCI DSS 6.4.3): one file of ours, pinned
    by a Subresource Integrity hash of the bytes served."""
    page = open_page(client, link(client, account)["id"])
    scripts = re.findall(r"<script([^>]*)>", page)
    assert len(scripts) == 1
    src = re.search(r'src="([^"]+)"', scripts[0]).group(1)  # type: ignore[union-attr]
    pinned = re.search(r'integrity="sha384-([^"]+)"', scripts[0]).group(1)  # type: ignore[union-attr]
    assert src.startswith("/static/checkout/checkout.js?v=")
    served = client.get(src).content
    assert base64.b64encode(hashlib.sha384(served).digest()).decode() == pinned
    assert not re.search(r"<[^>]*\son\w+=", page)  # no inline event handlers


def test_forms_without_a_valid_token_or_from_another_site_are_refused(
    client: TestClient, account: TestAccount
) -> None:
    invoice, other = link(client, account), link(client, account)
    token = form_tokens(open_page(client, invoice["id"]))["card_token"]
    foreign = form_tokens(open_page(client, other["id"]))["card_token"]
    nonce, issued, mac = token.split(".")
    for bad in ("", "nonsense", f"{nonce}.{int(issued) + 1}.{mac}", f"{'0' * 32}.{issued}.{mac}"):
        assert "could not be accepted" in assert_secure_page(
            pay_on_page(client, invoice["id"], token=bad), 403
        )
    assert_secure_page(pay_on_page(client, invoice["id"], token=foreign), 403)
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}):
        body = {**CARD, "number": VISA_OK, "card_token": token}
        response = client.post(f"/pay/{invoice['id']}", data=body, headers=headers)
        assert_secure_page(response, 403)
    assert processor_calls(client) == 0 and not api_link(client, account, invoice["id"])["used"]
    # Under `Referrer-Policy: no-referrer` browsers send `Origin: null` from our own page.
    same_site = {"Sec-Fetch-Site": "same-origin", "Origin": "null"}
    response = client.post(
        f"/pay/{invoice['id']}",
        data={**CARD, "number": VISA_OK, "card_token": token},
        headers=same_site,
    )
    assert "Payment successful" in assert_secure_page(response, 200)


def test_tokens_expire_after_two_hours(make_client: Any, account: TestAccount) -> None:
    clock = FrozenClock(datetime(2026, 5, 1, 9, 0, tzinfo=UTC))
    client = make_client(clock=clock)
    invoice = link(client, account)
    token = form_tokens(open_page(client, invoice["id"]))["card_token"]
    clock.advance(2 * 3600 + 1)
    page = assert_secure_page(pay_on_page(client, invoice["id"], token=token), 403)
    assert "expired" in page and processor_calls(client) == 0


def test_card_payment_shows_a_receipt_and_uses_the_link(
    client: TestClient, account: TestAccount
) -> None:
    invoice = link(client, account)
    page = assert_secure_page(pay_on_page(client, invoice["id"]), 200)
    charge_id = re.search(r'id="charge-id">(chrg_test_\w+)<', page).group(1)  # type: ignore[union-attr]
    assert "Payment successful" in page and "฿1,000.00" in page and "Visa ending in 4242" in page
    # Without an SMTP server no receipt goes out, so the page promises none (tests/receipts).
    assert "s@example.com" not in page
    paid = api_link(client, account, invoice["id"])
    assert paid["used"] is True and [c["id"] for c in paid["charges"]["data"]] == [charge_id]
    charge = paid["charges"]["data"][0]
    assert charge["status"] == "successful" and charge["customer_email"] == "s@example.com"
    assert charge["metadata"] == {"checkout_nonce": charge["metadata"]["checkout_nonce"]}


def test_declined_card_shows_why_keeps_the_form_and_the_link_payable(
    client: TestClient, account: TestAccount
) -> None:
    invoice = link(client, account)
    page = assert_secure_page(pay_on_page(client, invoice["id"], VISA_NO_FUNDS, name="Nok"), 402)
    assert "insufficient funds" in page
    assert 'value="Nok"' in page and 'value="12/35"' in page
    assert 'id="method-card" checked' in page  # the card's form, not PromptPay's, comes back
    assert re.search(r'<input id="number"[^>]* value=""', page)
    assert api_link(client, account, invoice["id"])["used"] is False
    thai = client.post(
        f"/pay/{invoice['id']}",
        params={"locale": "th"},
        data={**CARD, "number": VISA_NO_FUNDS, "card_token": form_tokens(page)["card_token"]},
    )
    assert "ยอดเงินไม่เพียงพอ" in assert_secure_page(thai, 402)
    retry = pay_on_page(client, invoice["id"], token=form_tokens(thai.text)["card_token"])
    assert "Payment successful" in assert_secure_page(retry, 200)


def test_invalid_fields_are_named_and_nothing_is_charged(
    client: TestClient, account: TestAccount
) -> None:
    invoice = link(client, account)
    page = assert_secure_page(
        pay_on_page(client, invoice["id"], name="", expiry="13/99", email="x@"), 422
    )
    assert "Enter the name on the card." in page and "Enter a valid e-mail address" in page
    page = assert_secure_page(pay_on_page(client, invoice["id"], expiry="01/20"), 422)
    assert "This card has expired." in page
    page = assert_secure_page(pay_on_page(client, invoice["id"], "4242424242424241"), 422)
    assert "This card number is not valid." in page
    page = assert_secure_page(pay_on_page(client, invoice["id"], "4000056655665556"), 422)
    assert "real cards are not accepted" in page
    assert processor_calls(client) == 0


@pytest.mark.parametrize("multiple", [False, True])
def test_a_resubmitted_form_shows_the_same_receipt_and_charges_once(
    client: TestClient, account: TestAccount, multiple: bool
) -> None:
    invoice = link(client, account, multiple=multiple)
    token = form_tokens(open_page(client, invoice["id"]))["card_token"]
    first = assert_secure_page(pay_on_page(client, invoice["id"], token=token), 200)
    again = assert_secure_page(
        pay_on_page(client, invoice["id"], token=token, number="garbage"), 200
    )
    receipt = re.compile(r'id="charge-id">(chrg_test_\w+)<')
    assert receipt.search(first).group(1) == receipt.search(again).group(1)  # type: ignore[union-attr]
    assert api_link(client, account, invoice["id"])["charges"]["total"] == 1
    assert processor_calls(client) == 1


def test_concurrent_submissions_of_one_form_charge_once(
    client: TestClient, account: TestAccount
) -> None:
    """A double click races two posts of the same form: they take turns on the link's row."""
    invoice = link(client, account, multiple=True)
    token = form_tokens(open_page(client, invoice["id"]))["card_token"]
    body = {**CARD, "number": VISA_OK, "card_token": token}

    async def race() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", follow_redirects=True
        ) as http:
            posts = [http.post(f"/pay/{invoice['id']}", data=body) for _ in range(6)]
            return list(await asyncio.gather(*posts))

    responses = anyio.run(race)
    found = [re.search(r'id="charge-id">(chrg_test_\w+)<', r.text) for r in responses]
    unreceipted = [
        (r.status_code, r.text[:600]) for r, f in zip(responses, found, strict=True) if not f
    ]
    assert not unreceipted, unreceipted
    receipts = {f.group(1) for f in found if f}
    assert len(receipts) == 1 and processor_calls(client) == 1
    assert api_link(client, account, invoice["id"])["charges"]["total"] == 1


def test_a_resubmitted_declined_form_is_not_tried_again(
    client: TestClient, account: TestAccount
) -> None:
    invoice = link(client, account)
    token = form_tokens(open_page(client, invoice["id"]))["card_token"]
    assert_secure_page(pay_on_page(client, invoice["id"], VISA_NO_FUNDS, token=token), 402)
    assert "insufficient funds" in assert_secure_page(
        pay_on_page(client, invoice["id"], token=token), 402
    )
    assert processor_calls(client) == 1 and not api_link(client, account, invoice["id"])["used"]


def test_links_that_cannot_be_paid_get_honest_pages(make_client: Any, account: TestAccount) -> None:
    clock = FrozenClock(datetime(2026, 5, 1, 9, 0, tzinfo=UTC))
    client = make_client(clock=clock)
    paid = link(client, account)
    token = form_tokens(open_page(client, paid["id"]))["card_token"]
    assert_secure_page(pay_on_page(client, paid["id"]), 200)
    # A paid single-use link is gone like an expired one (410), and says why.
    assert "Already paid" in assert_secure_page(client.get(f"/pay/{paid['id']}"), 410)
    assert "Already paid" in assert_secure_page(pay_on_page(client, paid["id"], token=token), 410)
    deleted = link(client, account)
    client.delete(f"/links/{deleted['id']}", auth=auth(account.test.secret_key))
    assert "No longer available" in assert_secure_page(client.get(f"/pay/{deleted['id']}"), 410)
    limited = link(client, account, multiple=True, usage_limit=1)
    assert_secure_page(pay_on_page(client, limited["id"]), 200)
    page = assert_secure_page(client.get(f"/pay/{limited['id']}"), 410)
    assert "No longer taking payments" in page
    expiring = link(client, account, expires_at="2026-05-01T10:00:00Z")
    token = form_tokens(open_page(client, expiring["id"]))["card_token"]
    clock.advance(3600)
    assert "has expired" in assert_secure_page(client.get(f"/pay/{expiring['id']}"), 410)
    assert "has expired" in assert_secure_page(
        pay_on_page(client, expiring["id"], token=token), 410
    )
    assert processor_calls(client) == 2


def test_live_mode_links_say_payments_are_not_available(
    client: TestClient, account: TestAccount
) -> None:
    body = {"amount": 100000, "currency": "thb", "title": "Live invoice"}
    live = client.post("/links", auth=auth(account.live.secret_key), json=body).json()
    page = open_page(client, live["id"])
    assert "Payments are not available yet" in page and "card_token" not in page
    assert "Test mode" not in page


def test_promptpay_payment_completed_with_the_test_buttons(
    client: TestClient, account: TestAccount
) -> None:
    invoice = link(client, account)
    tokens = form_tokens(open_page(client, invoice["id"]))
    body = {"promptpay_token": tokens["promptpay_token"], "email": "p@example.com"}
    qr_page = assert_secure_page(
        client.post(f"/pay/{invoice['id']}/promptpay", data=body), 200, csp=QR_CSP
    )
    assert "Scan to pay with PromptPay" in qr_page and "Mark as paid" in qr_page
    image = re.search(r'src="(/sources/src_test_\w+/qr\.svg)"', qr_page).group(1)  # type: ignore[union-attr]
    assert client.get(image).headers["content-type"].startswith("image/svg+xml")
    again = client.post(f"/pay/{invoice['id']}/promptpay", data=body)
    assert re.search(r'src="([^"]+qr\.svg)"', again.text).group(1) == image  # type: ignore[union-attr]
    action = re.search(r'action="(/pay/[^"?]+/promptpay/chrg_test_\w+)\?', qr_page).group(1)  # type: ignore[union-attr]
    token = form_tokens(qr_page)["token"]
    receipt = assert_secure_page(client.post(action, data={"token": token, "outcome": "paid"}), 200)
    assert "Payment successful" in receipt and "PromptPay" in receipt
    paid = api_link(client, account, invoice["id"])
    assert paid["used"] is True and paid["charges"]["data"][0]["status"] == "successful"
    assert paid["charges"]["total"] == 1


def test_the_qr_page_says_until_when_and_an_expired_qr_says_so(
    client: TestClient, account: TestAccount
) -> None:
    invoice = link(client, account)
    token = form_tokens(open_page(client, invoice["id"]))["promptpay_token"]
    qr_page = assert_secure_page(
        client.post(f"/pay/{invoice['id']}/promptpay", data={"promptpay_token": token}),
        200,
        csp=QR_CSP,
    )
    charge = api_link(client, account, invoice["id"])["charges"]["data"][0]
    until = datetime.fromisoformat(charge["expires_at"].replace("Z", "+00:00"))
    in_bangkok = until.astimezone(timezone(timedelta(hours=7)))
    expected = f"until {in_bangkok:%H:%M} on {in_bangkok:%d/%m/%Y} (Thailand time)"
    assert expected in qr_page
    thai = client.post(
        f"/pay/{invoice['id']}/promptpay?locale=th", data={"promptpay_token": token}
    ).text
    assert f"ชำระได้ถึงเวลา {in_bangkok:%H:%M} น." in thai
    expired = client.post(f"/charges/{charge['id']}/expire", auth=auth(account.test.secret_key))
    assert expired.status_code == 200
    action = re.search(r'action="(/pay/[^"?]+/promptpay/chrg_test_\w+)\?', qr_page).group(1)  # type: ignore[union-attr]
    body = {"token": form_tokens(qr_page)["token"], "outcome": "paid"}
    page = assert_secure_page(client.post(action, data=body), 402)
    assert "The QR code expired before it was paid" in page and 'id="pay-form"' in page
    assert api_link(client, account, invoice["id"])["charges"]["data"][0]["status"] == "expired"


def test_promptpay_payment_marked_as_failed_leaves_the_link_payable(
    client: TestClient, account: TestAccount
) -> None:
    invoice = link(client, account)
    token = form_tokens(open_page(client, invoice["id"]))["promptpay_token"]
    qr_page = client.post(f"/pay/{invoice['id']}/promptpay", data={"promptpay_token": token}).text
    action = re.search(r'action="(/pay/[^"?]+/promptpay/chrg_test_\w+)\?', qr_page).group(1)  # type: ignore[union-attr]
    body = {"token": form_tokens(qr_page)["token"], "outcome": "failed"}
    page = assert_secure_page(client.post(action, data=body), 402)
    assert "PromptPay payment was not completed" in page
    assert api_link(client, account, invoice["id"])["used"] is False
    foreign = link(client, account)
    other_token = form_tokens(open_page(client, foreign["id"]))["card_token"]
    stolen = action.replace(invoice["id"], foreign["id"])
    body = {"token": other_token, "outcome": "paid"}
    assert_secure_page(client.post(stolen, data=body), 404)


def test_payment_attempts_are_limited_per_address_and_per_link(
    make_client: Any, account: TestAccount
) -> None:
    client = make_client(checkout_ip_limits="3/minute", checkout_link_limits="off")
    invoice = link(client, account, multiple=True)
    for _ in range(3):
        assert pay_on_page(client, invoice["id"], VISA_NO_FUNDS).status_code == 402
    refused = pay_on_page(client, invoice["id"])
    assert "Wait" in assert_secure_page(refused, 429) and int(refused.headers["retry-after"]) > 0
    assert processor_calls(client) == 3
    client = make_client(checkout_ip_limits="off", checkout_link_limits="2/minute")
    invoice = link(client, account, multiple=True)
    assert [pay_on_page(client, invoice["id"]).status_code for _ in range(3)] == [200, 200, 429]
    assert pay_on_page(client, link(client, account)["id"]).status_code == 200  # another link


def test_payment_attempts_are_limited_per_card_and_per_account(
    make_client: Any, account: TestAccount, other_account: TestAccount
) -> None:
    """One card tried on many links (or merchants), or many attempts spread over an account's
    links: refused before the processor, whatever the address."""
    no_other_limits = {"checkout_ip_limits": "off", "checkout_link_limits": "off"}
    client = make_client(
        **no_other_limits, checkout_card_limits="2/minute", checkout_account_limits="off"
    )
    links = [link(client, account) for _ in range(3)]
    answers = [pay_on_page(client, each["id"], VISA_NO_FUNDS).status_code for each in links]
    assert answers == [402, 402, 429]
    assert pay_on_page(client, link(client, other_account)["id"], VISA_NO_FUNDS).status_code == 429
    assert pay_on_page(client, links[2]["id"], VISA_OK).status_code == 200  # another card
    assert processor_calls(client) == 3
    client = make_client(
        **no_other_limits, checkout_card_limits="off", checkout_account_limits="3/minute"
    )
    links = [link(client, account) for _ in range(4)]
    assert [pay_on_page(client, each["id"]).status_code for each in links] == [200, 200, 200, 429]
    assert pay_on_page(client, link(client, other_account)["id"]).status_code == 200


def test_the_address_limit_believes_forwarded_addresses_only_from_trusted_proxies(
    db: Database, account: TestAccount
) -> None:
    def attempts(**settings: Any) -> list[int]:
        app = create_app(
            quiet_settings(checkout_ip_limits="2/minute", checkout_link_limits="off", **settings),
            database=db,
        )
        with TestClient(app, raise_server_exceptions=False, client=("10.0.0.2", 1)) as proxy:
            invoice = link(proxy, account, multiple=True)
            return [
                pay_on_page(
                    proxy, invoice["id"], headers={"X-Forwarded-For": f"192.0.2.{n}, 10.0.0.2"}
                ).status_code
                for n in range(3)
            ]

    assert attempts() == [200, 200, 429]  # the header is anyone's to write
    assert attempts(trusted_proxies="10.0.0.0/24") == [200, 200, 200]  # three customers


def test_a_view_is_counted_once_per_visitor_per_link_per_day(
    db: Database, account: TestAccount
) -> None:
    """Reloads, HEADs, payments and cookieless reloads by the same visitor are one view a day; a
    new visitor (another address) or a new day counts again, and no reload writes."""
    clock = FrozenClock(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    app = create_app(quiet_settings(), database=db, clock=clock)

    def visitor(address: str) -> TestClient:
        return TestClient(app, raise_server_exceptions=False, client=(address, 50000))

    with visitor("203.0.113.5") as browser, visitor("198.51.100.9") as other:
        invoice = link(browser, account, multiple=True)

        def views() -> int:
            stats = browser.get(f"/links/{invoice['id']}/stats", auth=auth(account.test.secret_key))
            return int(stats.json()["views"])

        for _ in range(3):
            open_page(browser, invoice["id"])
        browser.head(f"/pay/{invoice['id']}")
        pay_on_page(browser, invoice["id"])
        assert views() == 1
        browser.cookies.clear()  # a client without cookies: known by address and agent
        open_page(browser, invoice["id"])
        assert views() == 1
        open_page(other, invoice["id"])
        assert views() == 2
        another = link(browser, account)  # the same visitor on another link: its own view
        open_page(browser, another["id"])
        assert views() == 2
        clock.advance(86400)
        open_page(browser, invoice["id"])
        assert views() == 3


def test_no_card_number_or_security_code_leaves_in_any_page_or_log(
    client: TestClient, account: TestAccount, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    pages = []
    for number in (VISA_OK, VISA_NO_FUNDS, "4000056655665556", "4242424242424241"):
        invoice = link(client, account, multiple=True)
        spaced = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
        pages.append(pay_on_page(client, invoice["id"], spaced).text)
        pages.append(pay_on_page(client, invoice["id"], number, expiry="00/00").text)
    text = "\n".join([*pages, caplog.text])
    # Ids, tokens, hashes and a result's address (its form nonce, hex): opaque, whatever digits.
    opaque = (
        r'(value|integrity)="[^"]*"|\?v=\w+|(chrg|src|payl|tokn|card|trxn)_test_\w+'
        r"|/return/[0-9a-f]{32}"
    )
    readable = re.sub(opaque, "", text)
    for number in (VISA_OK, VISA_NO_FUNDS, "4000056655665556", "4242424242424241"):
        assert number not in re.sub(r"[\s-]", "", text)
    found = [
        readable[max(0, m.start() - 80) : m.end() + 20]
        for m in re.finditer(CVV + r"|\d{7,}", readable)
    ]
    assert not found


def test_a_nul_character_in_the_form_is_refused_not_stored(
    client: TestClient, account: TestAccount
) -> None:
    invoice = link(client, account)
    response = pay_on_page(client, invoice["id"], name="Som\x00chai")
    assert response.status_code == 403  # a form no browser sends, answered with a page
    assert (
        client.get(f"/links/{invoice['id']}", auth=auth(account.test.secret_key)).json()["charges"][
            "total"
        ]
        == 0
    )


@pytest.mark.parametrize("locale", ["en", "th"])
def test_live_declines_read_as_a_generic_decline(locale: str) -> None:
    """Test mode names the reason (integrators test their own handling); live mode never tells
    a card tester why a number failed. The merchant sees the code on the charge either way."""
    t = Messages(locale)
    generic = t("decline_generic")
    for code in ("insufficient_fund", "payment_rejected", "invalid_account_number"):
        assert t.decline(code) != generic
        assert t.decline(code, livemode=True) == generic
