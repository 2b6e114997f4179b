"""The dashboard in Chromium: sign in, create a fixed-amount link and a customer-decides-amount
link, pay the latter on the hosted page with a chosen amount, see the payment, the stats and the
chart on the link's page; add a webhook endpoint and redeliver an event to a local receiver.
Screenshots of the main pages (phone and desktop) go to test-artifacts/."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
import segno
from receivers import receiver
from servers import LiveServer
from visitor import Visitor, fill_card


@pytest.fixture
def desktop(browser: Any) -> Any:
    tab = Visitor(browser, width=1280, height=900)
    yield tab
    tab.context.close()


def sign_in(tab: Visitor, server: LiveServer) -> None:
    tab.page.goto(f"{server.url}/dashboard")
    tab.page.get_by_label("Or a secret API key").fill(server.secret_key)
    tab.page.get_by_role("button", name="Sign in with the key").click()
    tab.page.get_by_role("heading", name="Overview").wait_for()


def create_link(
    tab: Visitor, server: LiveServer, title: str, amount: str, *, customer: bool
) -> str:
    page = tab.page
    page.goto(f"{server.url}/dashboard/links/new")
    page.get_by_label("Title").fill(title)
    page.get_by_label("Amount", exact=True).fill(amount)
    if customer:
        page.get_by_label("The customer (the amount above is a suggestion)").check()
        page.get_by_label("Minimum (optional)").fill("50")
        page.get_by_label("Maximum (optional)").fill("5000")
        page.get_by_label("Multi-use (many customers may pay this link)").check()
    page.get_by_role("button", name="Preview").click()
    page.get_by_role("heading", name="Preview").wait_for()
    page.get_by_role("button", name="Create link").click()
    page.get_by_role("heading", name=title).wait_for()
    return page.url.rsplit("/", 1)[1]


def test_links_from_the_dashboard_to_a_payment(
    desktop: Visitor, phone: Visitor, server: LiveServer, api: httpx.Client
) -> None:
    sign_in(desktop, server)
    create_link(desktop, server, "Ceramic bowl", "890", customer=False)
    tip = create_link(desktop, server, "Tip the band", "200", customer=True)
    desktop.screenshot("dashboard-link-new")
    # A customer pays the tip link on a phone, choosing the amount.
    phone.page.goto(f"{server.url}/pay/{tip}")
    phone.page.get_by_label("Amount (THB)").fill("350")
    fill_card(phone, "4242 4242 4242 4242")
    phone.page.get_by_role("button", name="Pay ฿350.00", exact=True).click()  # as typed
    phone.page.get_by_role("heading", name="Payment successful").wait_for()
    assert "฿350.00" in phone.page.content()
    # The merchant sees it: the charge, the stats and the chart.
    desktop.page.goto(f"{server.url}/dashboard/links/{tip}")
    content = desktop.page.content()
    assert "฿350.00" in content and "successful" in content and "Visa" in content
    assert desktop.page.locator("svg.chart rect.bar").count() == 30
    desktop.screenshot("dashboard-link-page")
    desktop.page.goto(f"{server.url}/dashboard/links")
    assert "Ceramic bowl" in desktop.page.content()
    desktop.screenshot("dashboard-links")
    desktop.page.goto(f"{server.url}/dashboard")
    assert "Tip the band" in desktop.page.content()
    desktop.screenshot("dashboard-overview")
    sign_in(phone, server)
    phone.page.goto(f"{server.url}/dashboard/links/{tip}")
    phone.screenshot("dashboard-link-page-phone")
    width = phone.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360  # nothing wider than the phone
    assert not desktop.console_errors and not phone.console_errors


def test_webhooks_from_the_dashboard(
    desktop: Visitor, server: LiveServer, api: httpx.Client
) -> None:
    sign_in(desktop, server)
    page = desktop.page
    with receiver() as rx:
        page.goto(f"{server.url}/dashboard/developers")
        page.get_by_label("URL").fill(rx.url)
        page.get_by_role("button", name="Add endpoint").click()
        page.get_by_role("heading", name="Endpoint added").wait_for()
        secret = page.get_by_label("Signing secret").input_value()
        assert secret.startswith("whsec_")
        page.get_by_role("link", name="Go to the endpoint").click()
        made = api.post(
            "/links", json={"amount": 100000, "currency": "thb", "title": "Hook"}
        ).json()
        # The receiver has the request before the worker records the attempt (after the answer):
        # wait until the attempt is in the delivery log the page shows, not for a time.
        redeliver = page.get_by_role("button", name="Redeliver")
        deadline = time.monotonic() + 30
        while redeliver.count() == 0:
            assert time.monotonic() < deadline, f"no attempt recorded; received {rx.received}"
            time.sleep(0.1)
            page.reload()
        assert "link.create" in page.content() and rx.received
        desktop.screenshot("dashboard-endpoint")
        page.get_by_role("button", name="Redeliver").first.click()
        deadline = time.monotonic() + 30
        while len(rx.received) < 2:
            assert time.monotonic() < deadline, f"the redelivery never came: {rx.received}"
            time.sleep(0.05)
        first, again = rx.received[0], rx.received[1]
        assert first.headers["webhook-id"] == again.headers["webhook-id"]
        assert made["id"].encode() in again.body
        page.goto(f"{server.url}/dashboard/developers/events")
        desktop.screenshot("dashboard-events")
        page.goto(f"{server.url}/dashboard/developers/keys")
        assert server.public_key in page.content()
        desktop.screenshot("dashboard-keys")


def test_branding_from_the_dashboard_reaches_the_payment_page(
    desktop: Visitor, phone: Visitor, server: LiveServer, api: httpx.Client, tmp_path: Any
) -> None:
    logo = tmp_path / "logo.png"
    segno.make("Baan Ceramics").save(str(logo), scale=4)
    sign_in(desktop, server)
    page = desktop.page
    page.goto(f"{server.url}/dashboard/branding")
    page.get_by_label("Display name (shown to customers; default: the account's name)").fill(
        "Baan Ceramics"
    )
    page.locator("#brand_color").fill("#0b3d91")
    page.get_by_label("Support e-mail (optional)").fill("help@baan.example")
    page.get_by_label("Logo (PNG, JPEG or WebP, at most 512 KiB)").set_input_files(str(logo))
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("Saved.").wait_for()
    desktop.screenshot("dashboard-branding")
    made = api.post("/links", json={"amount": 100000, "currency": "thb", "title": "Bowl"}).json()
    phone.page.goto(made["payment_uri"])
    # The name is written beside the logo: the image is decoration (alt=""), not said twice.
    header_logo = phone.page.locator("img.top-logo")
    assert header_logo.is_visible() and header_logo.get_attribute("alt") == ""
    assert phone.page.locator(".top-merchant").inner_text() == "Baan Ceramics"
    phone.page.wait_for_function(  # visible is not loaded: wait until the logo has decoded
        "() => document.querySelector('.top-logo').naturalWidth > 0"
    )
    button = phone.page.locator("#pay-button")
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(11, 61, 145)"
    assert "help@baan.example" in phone.page.content()
    phone.screenshot("payment-page-branded")
    assert not phone.console_errors and not desktop.console_errors


def test_on_a_phone_the_dashboard_needs_no_sideways_scrolling(
    phone: Visitor, server: LiveServer, api: httpx.Client
) -> None:
    for n in range(3):
        title = f"Workshop seat, Saturday morning session {n}"
        api.post("/links", json={"amount": 125000 + n, "currency": "thb", "title": title})
    sign_in(phone, server)
    page = phone.page
    for path in ("/dashboard", "/dashboard/links", "/dashboard/developers"):
        page.goto(f"{server.url}{path}")
        nav = page.locator("nav.nav ul")
        assert nav.evaluate("e => e.scrollWidth <= e.clientWidth"), path  # it wraps instead
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
    page.goto(f"{server.url}/dashboard/links")
    first = page.locator(".links-table tbody tr").first
    assert first.evaluate("r => getComputedStyle(r).display") == "block"  # a card per link
    amount = first.locator("td[data-label='Amount']")  # labelled by its ::before
    assert amount.inner_text().startswith("฿1,250.0")
    assert amount.evaluate("e => getComputedStyle(e, '::before').content") != "none"
    assert page.locator(".table-wrap").evaluate("e => e.scrollWidth <= e.clientWidth")
    phone.screenshot("dashboard-links-phone")
