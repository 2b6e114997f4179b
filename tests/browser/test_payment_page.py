"""The payment page in a real browser: paying, declines, finished links, PromptPay, 3-D Secure,
a small phone screen, and hostile merchant text."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from factories import make_link
from servers import LiveServer, create_account, paylinks
from visitor import FIRST_LOAD, Visitor, assert_above_the_fold, choose_card, fill_card

HOSTILE_TITLE = "<script>alert(1)</script>"
HOSTILE_DESCRIPTION = '"><img src=x onerror=alert(1)>'


def test_paying_by_card_shows_a_receipt(visitor: Visitor, api: httpx.Client) -> None:
    link = make_link(api)
    visitor.page.goto(link["payment_uri"])
    assert visitor.page.locator(".summary-value").inner_text() == "฿1,000.00"
    weight = visitor.page.evaluate(FIRST_LOAD)
    visitor.record("payment-page-weight", weight)
    assert weight["total_bytes"] <= 30 * 1024, weight
    fill_card(visitor, "4242 4242 4242 4242")
    visitor.page.get_by_role("button", name="Pay ฿1,000.00").click()
    visitor.page.get_by_role("heading", name="Payment successful").wait_for()
    visitor.screenshot("receipt")
    charge_id = visitor.page.locator("#charge-id").inner_text()
    assert "Visa ending in 4242" in visitor.page.content()
    paid = api.get(f"/links/{link['id']}").json()
    assert paid["used"] is True and paid["charges"]["data"][0]["id"] == charge_id
    assert api.get(f"/charges/{charge_id}").json()["status"] == "successful"
    assert visitor.console_errors == []


def test_a_declined_card_says_why_and_the_link_stays_payable(
    visitor: Visitor, api: httpx.Client
) -> None:
    link = make_link(api)
    visitor.page.goto(link["payment_uri"])
    fill_card(visitor, "4111 1111 1114 0011", name="Nok Sriwan")
    visitor.page.get_by_role("button", name="Pay ฿1,000.00").click()
    alert = visitor.page.get_by_role("alert")
    alert.wait_for()
    visitor.screenshot("declined")
    assert "insufficient funds" in alert.inner_text()
    assert "PromptPay" in alert.inner_text()  # another way to pay, suggested
    # Focus on the alert: a screen reader reads it, the keyboard goes on from it.
    assert visitor.page.evaluate("document.activeElement.id") == "form-alert"
    assert visitor.page.get_by_label("Name on card").input_value() == "Nok Sriwan"
    assert visitor.page.get_by_label("Card number").input_value() == ""
    assert visitor.page.get_by_label("Security code").input_value() == ""
    state = api.get(f"/links/{link['id']}").json()
    assert state["used"] is False and state["active"] is True
    assert state["charges"]["data"][0]["failure_code"] == "insufficient_fund"


def test_a_paid_link_says_it_is_already_paid(
    visitor: Visitor, api: httpx.Client, server: LiveServer
) -> None:
    link = make_link(api)
    card = {"number": "4242424242424242", "name": "A", "expiration_month": 12,
            "expiration_year": 2035, "security_code": "123"}  # fmt: skip
    token = httpx.post(
        f"{server.url}/tokens", auth=(server.public_key, ""), json={"card": card}
    ).json()["id"]
    assert api.post("/charges", json={"card": token, "link": link["id"]}).json()["paid"]
    visitor.page.goto(link["payment_uri"])
    visitor.page.get_by_role("heading", name="Already paid").wait_for()
    assert visitor.page.get_by_label("Card number").count() == 0
    visitor.screenshot("already-paid")


def test_promptpay_payment_completed_with_the_test_button(
    visitor: Visitor, api: httpx.Client
) -> None:
    link = make_link(api)
    visitor.page.goto(f"{link['payment_uri']}?locale=th")
    visitor.page.get_by_role("radio", name="บัตร").check()
    visitor.page.get_by_label("ชื่อบนบัตร").fill("typed, then changed my mind")
    visitor.page.get_by_role("radio", name="พร้อมเพย์").check()
    visitor.page.get_by_role("button", name="ชำระด้วย QR พร้อมเพย์").click()
    qr = visitor.page.get_by_role("img", name="QR โค้ดพร้อมเพย์ ยอด ฿1,000.00")
    qr.wait_for()
    # Visible is not loaded: wait (up to the default timeout) until the image has decoded.
    visitor.page.wait_for_function(
        "image => image.complete && image.naturalWidth > 0", arg=qr.element_handle()
    )
    visitor.screenshot("promptpay-qr")
    qr_address = visitor.page.url
    assert "/return/" in qr_address and qr_address.endswith("?locale=th")  # its own address
    visitor.page.get_by_role("button", name="ทำเครื่องหมายว่าชำระแล้ว").click()
    visitor.page.get_by_role("heading", name="ชำระเงินสำเร็จ").wait_for()
    visitor.screenshot("promptpay-receipt")
    assert visitor.page.url == qr_address  # the receipt is at the payment's address
    visitor.page.reload()  # no "resubmit the form?" question, and no second payment
    visitor.page.get_by_role("heading", name="ชำระเงินสำเร็จ").wait_for()
    assert visitor.dialogs == []
    paid = api.get(f"/links/{link['id']}").json()
    assert paid["used"] is True and paid["charges"]["data"][0]["source"]["type"] == "promptpay"
    assert paid["charges"]["total"] == 1
    assert visitor.console_errors == []


def test_the_qr_page_goes_to_the_receipt_by_itself_once_the_bank_has_paid(
    phone: Visitor, api: httpx.Client
) -> None:
    link = make_link(api, title="Pottery class")
    page = phone.page
    page.goto(link["payment_uri"])
    page.get_by_role("button", name="Pay with PromptPay QR").click()
    page.get_by_role("img", name="PromptPay QR code for ฿1,000.00").wait_for()
    save = page.get_by_role("link", name="Save QR image")
    assert save.get_attribute("download") and save.get_attribute("href").endswith("/qr.svg")
    assert page.get_by_role("link", name="Pay by card instead").is_visible()
    phone.screenshot("promptpay-qr-phone")
    [charge] = api.get(f"/links/{link['id']}").json()["charges"]["data"]
    # The customer's bank pays: nobody touches the page, which polls the charge's status.
    assert api.post(f"/charges/{charge['id']}/mark_as_paid").status_code == 200
    page.get_by_role("heading", name="Payment successful").wait_for()
    assert "Pottery class" in page.content()
    phone.screenshot("promptpay-paid-by-itself")
    assert phone.console_errors == []


def test_a_small_phone_needs_no_sideways_scrolling(phone: Visitor, api: httpx.Client) -> None:
    long_word = "Supercalifragilistic" * 8
    link = make_link(api, title=f"Workshop {long_word}", description="ค่าเข้าร่วมงาน " * 30)
    page = phone.page
    page.goto(link["payment_uri"])
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    phone.screenshot("phone-360-promptpay-first")
    choose_card(phone)
    page.get_by_role("button", name="Pay ฿1,000.00").click()  # empty: checked in the page
    assert page.get_by_text("Enter the name on the card.").is_visible()
    assert page.evaluate("document.activeElement.id") == "name"
    assert page.url == link["payment_uri"]  # nothing was posted
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    order = []
    for _ in range(4):
        page.keyboard.press("Tab")
        focused = "document.activeElement"
        order.append(page.evaluate(f"{focused}.id"))
        # Keyboard focus must be visible: every control shows an outline ring.
        assert page.evaluate(f"getComputedStyle({focused}).outlineStyle") != "none"
    expected = ["number", "expiry", "security_code", "pay-button"]
    assert order == expected
    phone.screenshot("phone-360")
    page.goto(f"{link['payment_uri']}?locale=th")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    phone.screenshot("phone-360-th")
    assert phone.console_errors == []


@pytest.mark.parametrize("locale", ["en", "th"])
def test_on_a_desktop_the_summary_and_the_payment_sit_side_by_side(
    desktop: Visitor, api: httpx.Client, locale: str
) -> None:
    link = make_link(api, title="Ceramic bowl, hand-thrown", description="Glazed, 18 cm")
    desktop.page.goto(f"{link['payment_uri']}?locale={locale}")
    box = "s => { const r = document.querySelector(s).getBoundingClientRect();"
    box += " return {left: r.left, right: r.right, top: r.top}; }"
    summary = desktop.page.evaluate(box, ".summary")
    methods = desktop.page.evaluate(box, ".methods")
    assert summary["right"] < methods["left"]  # two columns: what is bought | how to pay
    assert abs(summary["top"] - methods["top"]) < 60
    desktop.screenshot(f"payment-page-desktop-{locale}")


def test_hostile_merchant_text_is_shown_as_text(visitor: Visitor, api: httpx.Client) -> None:
    link = make_link(api, title=HOSTILE_TITLE, description=HOSTILE_DESCRIPTION)
    visitor.page.goto(link["payment_uri"])
    visitor.page.wait_for_load_state("load")
    assert visitor.page.locator("h1").inner_text() == HOSTILE_TITLE
    assert visitor.page.locator(".summary-description").inner_text() == HOSTILE_DESCRIPTION
    assert visitor.page.locator("img").count() == 0
    # Scripts run before `load` fires; one the CSP let through would have opened its dialog.
    assert visitor.dialogs == []
    visitor.screenshot("hostile-title")


@pytest.fixture
def secure_api(server: LiveServer) -> Iterator[httpx.Client]:
    """A client of a new account with 3-D Secure on (set as its merchant would, by the CLI)."""
    shop = create_account(server.database_url, "Secure shop")
    database = ["--database-url", server.database_url]
    paylinks("accounts", "set", shop.id, "--three-d-secure", "on", *database)
    with httpx.Client(base_url=server.url, auth=(shop.test["secret_key"], ""), timeout=10) as api:
        yield api


def test_with_3ds_the_receipt_comes_after_the_bank(
    visitor: Visitor, secure_api: httpx.Client
) -> None:
    link = make_link(secure_api)
    visitor.page.goto(link["payment_uri"])
    fill_card(visitor, "4242 4242 4242 4242")
    visitor.page.get_by_role("button", name="Pay ฿1,000.00").click()
    visitor.page.get_by_role("heading", name="Confirm it is you").wait_for()
    visitor.screenshot("3ds-authentication")
    charge = secure_api.get(f"/links/{link['id']}/charges").json()["data"][0]
    assert (charge["status"], charge["paid"]) == ("pending", False)  # nothing paid yet
    visitor.page.get_by_role("button", name="Authenticate").click()
    visitor.page.get_by_role("heading", name="Payment successful").wait_for()
    assert visitor.page.url == charge["return_uri"]
    assert visitor.page.locator("#charge-id").inner_text() == charge["id"]
    assert secure_api.get(f"/charges/{charge['id']}").json()["status"] == "successful"
    assert visitor.console_errors == []


def test_with_3ds_a_card_that_fails_it_is_refused_on_the_payment_page(
    visitor: Visitor, secure_api: httpx.Client
) -> None:
    link = make_link(secure_api)
    visitor.page.goto(link["payment_uri"])
    fill_card(visitor, "4111 1111 1114 0003", name="Nok Sriwan")
    visitor.page.locator("#pay-button").click()
    visitor.page.get_by_role("button", name="Authenticate").click()
    alert = visitor.page.get_by_role("alert")
    alert.wait_for()
    visitor.screenshot("3ds-failed")
    assert "could not confirm this payment (3-D Secure)" in alert.inner_text()
    assert visitor.page.get_by_label("Name on card").input_value() == "Nok Sriwan"
    assert visitor.page.locator("#pay-button").is_visible()  # the form again: try another card
    state = secure_api.get(f"/links/{link['id']}").json()
    assert state["used"] is False
    assert state["charges"]["data"][0]["failure_code"] == "failed_3ds"


def test_a_customer_decided_amount_is_checked_and_shown_as_it_is_typed(
    phone: Visitor, api: httpx.Client
) -> None:
    link = make_link(api, amount=35000, amount_type="customer", amount_min=10000,
                     amount_max=500000)  # fmt: skip
    page = phone.page
    page.goto(link["payment_uri"])
    button = page.locator("#pay-button")
    assert button.inner_text() == "Pay ฿350.00"  # the suggestion, on the button at once
    amount = page.get_by_label("Amount (THB)")
    amount.fill("1250.5")
    assert button.inner_text() == "Pay ฿1,250.50"
    assert page.locator(".summary-value").inner_text() == "฿1,250.50"
    amount.fill("20")
    fill_card(phone, "4242 4242 4242 4242")
    button.click()  # refused in the page: nothing is posted, the card fields stay as typed
    assert page.get_by_text("Enter an amount from ฿100.00 to ฿5,000.00.").is_visible()
    assert page.evaluate("document.activeElement.id") == "amount"
    assert page.url == link["payment_uri"]
    assert page.get_by_label("Card number").input_value() == "4242 4242 4242 4242"
    phone.screenshot("customer-amount-refused")
    amount.fill("480")
    button.click()
    page.get_by_role("heading", name="Payment successful").wait_for()
    assert api.get(f"/links/{link['id']}").json()["charges"]["data"][0]["amount"] == 48000
    assert phone.console_errors == []


def test_the_expiry_slash_and_the_card_number_groups_come_as_one_types(
    phone: Visitor, api: httpx.Client
) -> None:
    link = make_link(api)
    page = phone.page
    page.goto(link["payment_uri"])
    choose_card(phone)
    expiry, number = page.get_by_label("Expiry (MM/YY)"), page.get_by_label("Card number")
    expiry.press_sequentially("1235")
    assert expiry.input_value() == "12/35"
    expiry.fill("")
    expiry.press_sequentially("4")  # only April begins with a 4
    assert expiry.input_value() == "04"
    expiry.fill("")
    expiry.press_sequentially("12/2035")  # a "/" typed by hand, and a four-digit year
    assert expiry.input_value() == "12/2035"
    number.press_sequentially("4242424242424242")
    assert number.input_value() == "4242 4242 4242 4242"
    # The brand is named beside the label, and its mark among the accepted ones is lit.
    assert page.locator("#number-brand").inner_text() == "Visa"
    assert page.locator(".card-marks li.detected").all_inner_texts() == ["Visa"]
    number.fill("5555 5555 5555 4444")
    assert page.locator("#number-brand").inner_text() == "MasterCard"
    number.fill("9999")
    assert page.locator("#number-brand").inner_text() == ""
    assert page.locator(".card-marks li.detected").count() == 0
    phone.screenshot("card-brand-unknown")
    number.fill("4242 4242 4242 4242")
    page.get_by_label("Name on card").fill("Somchai Jaidee")
    page.get_by_label("Security code").fill("123")
    page.get_by_role("button", name="Pay ฿1,000.00").click()
    page.get_by_role("heading", name="Payment successful").wait_for()
    assert phone.console_errors == []


@pytest.mark.parametrize("locale", ["en", "th"])
def test_the_way_to_pay_and_its_button_are_on_a_small_phones_first_screen(
    phone: Visitor, api: httpx.Client, locale: str
) -> None:
    """360 x 740: PromptPay (first for baht) and its button, or the card's form and its pay
    button once the card is chosen, end above the fold; the merchant's name on one line."""
    link = make_link(api, title="Ceramic bowl, hand-thrown", description="Glazed, 18 cm")
    page = phone.page
    page.goto(f"{link['payment_uri']}?locale={locale}")
    assert_above_the_fold(phone, f"fold-{locale}")
    merchant = page.locator(".top-merchant")
    lines = "e => e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).lineHeight)"
    assert merchant.evaluate(lines) < 1.5  # one line
    long_name = "Baan Ceramics and Pottery Studio of Chiang Mai, hand-thrown stoneware since 1987"
    merchant.evaluate("(e, name) => { e.textContent = name; }", long_name)
    assert 1.5 < merchant.evaluate(lines) < 2.5  # two at most, however long the name
    phone.screenshot(f"phone-360-card-chosen-{locale}")
