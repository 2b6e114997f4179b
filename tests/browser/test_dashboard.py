"""The dashboard in Chromium: sign in, create a fixed-amount link and a customer-decides-amount
link, pay the latter on the hosted page with a chosen amount, see the payment, the stats and the
chart on the link's page; add a webhook endpoint and redeliver an event to a local receiver.
Screenshots of the main pages (phone and desktop) go to test-artifacts/."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import segno
from factories import wait_until
from receivers import receiver
from servers import LiveServer
from visitor import FIRST_LOAD, Visitor, choose_card, fill_card


def sign_in(tab: Visitor, server: LiveServer) -> None:
    tab.page.goto(f"{server.url}/dashboard")
    tab.page.get_by_label("Or a secret API key").fill(server.secret_key)
    tab.page.get_by_role("button", name="Sign in with the key").click()
    tab.page.get_by_role("heading", name="Overview").wait_for()


def save_branding(tab: Visitor, server: LiveServer, *, logo: Any = None) -> None:
    """The branding every test of this module saves (they share one account, in any order)."""
    page = tab.page
    page.goto(f"{server.url}/dashboard/branding")
    page.get_by_label("Display name (shown to customers; default: the account's name)").fill(
        "Baan Ceramics"
    )
    page.locator("#brand_color").fill("#0b3d91")
    page.get_by_label("Support e-mail (optional)").fill("help@baan.example")
    if logo is not None:
        page.get_by_label("Logo (PNG, JPEG or WebP, at most 512 KiB)").set_input_files(str(logo))
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("Saved.").wait_for()


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
    # Revenue is the page's largest figure, larger than its heading.
    assert font_px(desktop, ".headline-figure") > font_px(desktop, "h1")
    desktop.screenshot("dashboard-overview")
    sign_in(phone, server)
    phone.page.goto(f"{server.url}/dashboard")
    assert phone.page.locator("svg.chart text.label.revenue").first.text_content() or "".startswith(
        "฿"
    )
    # The chart shrinks to the phone, its labels drawn larger so that they stay readable.
    label = phone.page.locator("svg.chart text.label").first.bounding_box()
    assert label is not None and label["height"] >= 9
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= 360
    phone.screenshot("dashboard-overview-phone")
    phone.page.goto(f"{server.url}/dashboard/links/{tip}")
    phone.screenshot("dashboard-link-page-phone")
    width = phone.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360  # nothing wider than the phone
    assert not desktop.console_errors and not phone.console_errors


def font_px(tab: Visitor, selector: str) -> float:
    size = tab.page.locator(selector).first.evaluate("e => getComputedStyle(e).fontSize")
    return float(size.removesuffix("px"))


def test_webhooks_from_the_dashboard(
    desktop: Visitor, phone: Visitor, server: LiveServer, api: httpx.Client
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
        endpoint_page = page.url
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
        # A test event, to this endpoint: signed and sent by the worker, then in the log.
        page.goto(endpoint_page)
        page.get_by_role("button", name="Send test event").click()
        page.get_by_role("status").get_by_text("queued").wait_for()
        wait_until(lambda: any(b"test.webhook" in r.body for r in rx.received), what="the test")
        # The answer to the POST is on screen: load the endpoint's page afresh, never reload that.
        wait_until(lambda: "test.webhook" in visit(page, endpoint_page), what="the test in the log")
        assert "200 OK" in page.locator("p.health").inner_text()
        desktop.screenshot("dashboard-endpoint-tested")
        sign_in(phone, server)
        phone.page.goto(endpoint_page)
        assert "test.webhook" in phone.page.content()
        assert phone.page.evaluate("document.documentElement.scrollWidth") <= 360
        phone.screenshot("dashboard-endpoint-phone")
        page.goto(f"{server.url}/dashboard/developers/events")
        desktop.screenshot("dashboard-events")
        page.goto(f"{server.url}/dashboard/developers/keys")
        assert server.public_key in page.content()
        desktop.screenshot("dashboard-keys")


def visit(page: Any, url: str) -> str:
    page.goto(url)
    return str(page.content())


def test_branding_from_the_dashboard_reaches_the_payment_page(
    desktop: Visitor, phone: Visitor, server: LiveServer, api: httpx.Client, tmp_path: Any
) -> None:
    logo = tmp_path / "logo.png"
    segno.make("Baan Ceramics").save(str(logo), scale=4)
    sign_in(desktop, server)
    save_branding(desktop, server, logo=logo)
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
    # A first visit's weight, logo included (a new browser context: nothing cached).
    weight = phone.page.evaluate(FIRST_LOAD)
    phone.record("payment-page-weight-with-logo", weight)
    assert weight["total_bytes"] <= 30 * 1024, weight
    choose_card(phone)
    button = phone.page.locator("#pay-button")
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(11, 61, 145)"
    assert "help@baan.example" in phone.page.content()
    phone.screenshot("payment-page-branded")
    assert not phone.console_errors and not desktop.console_errors


def test_the_previews_are_the_payment_page_itself(
    desktop: Visitor, server: LiveServer, api: httpx.Client
) -> None:
    """The create form's preview and the branding page's show the hosted page's own template,
    with the account's name, colour and support e-mail (the same values as the branding test
    above: the module's tests share one account, in any order)."""
    from playwright.sync_api import expect  # here: the module is collected without playwright

    sign_in(desktop, server)
    page = desktop.page
    save_branding(desktop, server)
    page.goto(f"{server.url}/dashboard/links/new")
    page.get_by_label("Title").fill("Glazed teapot")
    page.get_by_label("Amount", exact=True).fill("1450")
    page.get_by_role("button", name="Preview").click()
    frame = page.frame_locator("iframe.page-preview")
    expect(frame.locator("h1")).to_have_text("Glazed teapot")
    assert frame.locator(".top-merchant").inner_text() == "Baan Ceramics"
    assert frame.locator(".summary-value").inner_text() == "฿1,450.00"
    assert "help@baan.example" in frame.locator("footer").inner_text()
    expect(frame.locator("#pay-button")).to_have_css("background-color", "rgb(11, 61, 145)")
    desktop.screenshot("dashboard-link-preview")
    # The branding page's preview follows the form as it is typed, before anything is saved.
    page.goto(f"{server.url}/dashboard/branding")
    page.locator("#brand_color").fill("#8a1538")
    page.get_by_label("Display name (shown to customers; default: the account's name)").fill(
        "Baan Ceramics Studio"
    )
    frame = page.frame_locator("#brand-preview")
    expect(frame.locator(".top-merchant")).to_have_text("Baan Ceramics Studio")
    expect(frame.locator("#pay-button")).to_have_css("background-color", "rgb(138, 21, 56)")
    desktop.screenshot("dashboard-branding-preview")
    assert not desktop.console_errors


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


def test_sharing_links_from_the_list_and_a_links_page(
    desktop: Visitor, phone: Visitor, server: LiveServer, api: httpx.Client
) -> None:
    fixed = api.post("/links", json={"amount": 89000, "currency": "thb", "title": "Bowl"}).json()
    tip = {"amount": 20000, "amount_type": "customer", "amount_min": 10000, "amount_max": 500000}
    ranged = api.post("/links", json={**tip, "currency": "thb", "title": "Tip jar"}).json()
    gone = api.post("/links", json={"amount": 50000, "currency": "thb", "title": "Old"}).json()
    api.delete(f"/links/{gone['id']}")
    # Headless Chromium lets a page write to and read the clipboard only with permission.
    desktop.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    sign_in(desktop, server)
    page = desktop.page
    page.goto(f"{server.url}/dashboard/links")
    row = page.locator(".links-table tbody tr").filter(has_text="Tip jar")
    assert "฿100.00 – ฿5,000.00" in row.inner_text()
    assert "closed: deleted" in page.locator("tr").filter(has_text="Old").inner_text()
    copy = row.get_by_role("button", name="Copy the payment link of Tip jar")
    copy.click()
    row.get_by_role("button", name="Copied").wait_for()  # the button says so
    assert page.evaluate("navigator.clipboard.readText()") == ranged["payment_uri"]
    # Chromium on Linux has no share sheet: the button stays hidden where it would do nothing.
    share = row.locator("[data-share-link]")
    assert share.is_visible() == page.evaluate("typeof navigator.share === 'function'")
    desktop.screenshot("dashboard-links-sharing")
    page.goto(f"{server.url}/dashboard/links/{fixed['id']}")
    page.get_by_role("button", name="Copy the payment link of Bowl").click()
    page.get_by_role("status").filter(has_text="Copied the payment link").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == fixed["payment_uri"]
    opened = page.get_by_role("link", name="Open payment page of Bowl (in a new tab)")
    assert opened.get_attribute("href") == fixed["payment_uri"]
    desktop.screenshot("dashboard-link-page-sharing")
    sign_in(phone, server)
    for path, name in (("/dashboard/links", "links"), (f"/dashboard/links/{ranged['id']}", "link")):
        phone.page.goto(f"{server.url}{path}")
        assert phone.page.locator("[data-copy-link]").first.is_visible()
        assert phone.page.evaluate("document.documentElement.scrollWidth") <= 360, path
        phone.screenshot(f"dashboard-{name}-sharing-phone")
    assert not desktop.console_errors and not phone.console_errors


def test_the_new_link_form_with_the_script_and_its_problems(
    desktop: Visitor, server: LiveServer
) -> None:
    sign_in(desktop, server)
    page = desktop.page
    page.goto(f"{server.url}/dashboard/links/new")
    minimum = page.get_by_label("Minimum (optional)")
    assert minimum.is_disabled()  # a fixed amount has no bounds
    page.get_by_label("The customer (the amount above is a suggestion)").check()
    assert minimum.is_enabled()
    page.get_by_label("This amount, always").check()
    assert minimum.is_disabled()
    page.get_by_role("button", name="Add a row").click()
    assert page.locator(".meta-row").count() == 4
    added = page.get_by_label("Key 4", exact=True)
    assert added.evaluate("e => e === document.activeElement")
    added.fill("order")
    page.get_by_label("Value 4", exact=True).fill("A-17")
    page.get_by_label("Amount", exact=True).fill("lots")
    expiry = page.get_by_label(re.compile(r"^Expires at \(optional; [\w/]+ time\)$"))
    expiry.fill("2031-03-04T10:30")
    page.get_by_role("button", name="Create link").click()
    summary = page.get_by_role("alert")
    summary.wait_for()
    assert "2 things to fix" in summary.inner_text()  # the title and the amount, together
    assert page.locator("#title-error").is_visible() and page.locator("#amount-error").is_visible()
    # Kept as typed; the filled rows first, then empty ones to fill.
    assert page.get_by_label("Key 1", exact=True).input_value() == "order"
    assert expiry.input_value() == "2031-03-04T10:30"
    desktop.screenshot("dashboard-link-new-problems")
    # The only console line is the refused form's own answer: a 400, on purpose.
    assert desktop.console_errors == [
        "Failed to load resource: the server responded with a status of 400 (Bad Request)"
    ]


def test_the_time_zone_setting(desktop: Visitor, server: LiveServer, api: httpx.Client) -> None:
    made = api.post("/links", json={"amount": 100000, "currency": "thb", "title": "Lamp"}).json()
    sign_in(desktop, server)
    page = desktop.page
    page.goto(f"{server.url}/dashboard/settings")
    zone = page.get_by_label("The dashboard shows times in this zone", exact=False)
    assert zone.input_value() == "Asia/Bangkok"  # the default
    zone.select_option("Asia/Tokyo")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Saved.").wait_for()
    desktop.screenshot("dashboard-settings")
    page.goto(f"{server.url}/dashboard/links/{made['id']}")
    assert " JST" in page.locator(".link-summary .facts").inner_text()
    page.goto(f"{server.url}/dashboard/settings")  # back to the default, for the other tests
    page.get_by_label("The dashboard shows times in this zone", exact=False).select_option(
        "Asia/Bangkok"
    )
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Saved.").wait_for()
    assert not desktop.console_errors
