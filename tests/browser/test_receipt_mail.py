"""The receipt e-mail from the payment page, on a server that sends them: an SMTP server of the
test's own (aiosmtpd) receives what a customer would."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from factories import make_link
from mailboxes import Mailbox, mailbox
from servers import LiveServer, live_server
from visitor import Visitor, assert_above_the_fold


@pytest.fixture(scope="module")
def mail(browser: Any) -> Iterator[Mailbox]:
    with mailbox() as box:
        yield box


@pytest.fixture(scope="module")
def server(
    browser: Any, mail: Mailbox, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """This module's server sends receipts: the page asks for the customer's e-mail."""
    database_url = f"sqlite:///{tmp_path_factory.mktemp('mail') / 'paylinks.db'}"
    env = {
        "PAYLINKS_CHECKOUT_IP_LIMITS": "60/minute",
        "PAYLINKS_SMTP_URL": mail.url,
        "PAYLINKS_SMTP_FROM": "receipts@paylinks.test",
    }
    with live_server(database_url, env=env) as live:
        yield live


@pytest.mark.parametrize("locale", ["en", "th"])
def test_the_receipt_reaches_the_customers_inbox_in_their_language(
    phone: Visitor, api: httpx.Client, mail: Mailbox, locale: str
) -> None:
    link = make_link(api, title="Ceramic bowl, hand-thrown", description="Glazed, 18 cm")
    page = phone.page
    page.goto(f"{link['payment_uri']}?locale={locale}")
    # With the e-mail field too, both ways to pay end on the first screen.
    assert_above_the_fold(phone, f"fold-with-email-{locale}")
    address = f"nok.{locale}@example.com"
    page.locator("#email").fill(address)
    for field, value in (("name", "Nok Sriwan"), ("number", "4242 4242 4242 4242"),
                         ("expiry", "12/35"), ("security_code", "123")):  # fmt: skip
        page.locator(f"#{field}").fill(value)  # by id: the labels are in the page's language
    page.locator("#pay-button").click()
    page.locator("#receipt-mail").wait_for()
    assert address in page.locator("#receipt-mail").inner_text()
    charge_id = page.locator("#charge-id").inner_text()
    phone.screenshot(f"receipt-mailed-{locale}")
    arrived = wait_for_receipt(mail, charge_id)
    assert arrived["To"] == address
    subject = "Your receipt from" if locale == "en" else "ใบเสร็จจาก"
    assert arrived["Subject"].startswith(subject) and "฿1,000.00" in arrived["Subject"]
    html = arrived.get_body(("html",))
    assert html is not None and charge_id in html.get_content()
    assert "4242424242424242" not in arrived.as_string()  # the last digits only
    assert phone.console_errors == []


def wait_for_receipt(mail: Mailbox, charge_id: str) -> Any:
    """The message about this charge (the module's other test mails too, in any order)."""
    with mail.arrived:
        found = mail.arrived.wait_for(
            lambda: any(charge_id in m["Message-ID"] for m in mail.messages), timeout=30
        )
        assert found, f"no receipt for {charge_id} among {len(mail.messages)} messages"
        return next(m for m in mail.messages if charge_id in m["Message-ID"])
