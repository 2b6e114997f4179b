"""Receipt e-mails (issue 16, item 4): asked for on the page only when an SMTP server is
configured, held with the charge, released in the transaction that records it paid, and sent
from that outbox to a real SMTP server (aiosmtpd) — once, in the customer's language, from the
merchant, and never lost to a mailer that dies or a server that is down."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
import sqlalchemy as sa
from factories import (
    TestAccount,
    auth,
    form_tokens,
    link,
    open_page,
    pay_on_page,
    quiet_settings,
)
from mailboxes import Mailbox, mailbox
from starlette.testclient import TestClient

from paylinks.branding.service import save_branding
from paylinks.clock import FrozenClock, SystemClock
from paylinks.config import Settings
from paylinks.db import Database
from paylinks.models import charges, receipts
from paylinks.receipts import outbox
from paylinks.receipts.mailer import Mailer, mailer_of, sender_address
from paylinks.receipts.smtp import SmtpSend, parse_smtp_url

CUSTOMER = "somchai@example.com"
DECLINED = "4111111111140011"


@pytest.fixture(autouse=True)
def nothing_due(db: Database) -> None:
    """The database is shared by a worker's tests: receipts an earlier test left due must not
    reach this test's mailbox."""
    with db.transaction() as conn:
        conn.execute(
            receipts.update().where(receipts.c.status == "pending").values(status="failed")
        )


def run_mailer(db: Database, box: Mailbox, clock: Any = None) -> int:
    send = SmtpSend(parse_smtp_url(box.url))
    mailer = Mailer(db, send=send, sender="receipts@shop.example", clock=clock or SystemClock())
    return asyncio.run(mailer.run_once())


def receipt_rows(db: Database, charge_id: str) -> list[Any]:
    with db.transaction() as conn:
        return conn.execute(
            sa.select(receipts)
            .join(charges, charges.c.pk == receipts.c.charge_pk)
            .where(charges.c.id == charge_id)
        ).all()


def charge_of(client: TestClient, account: TestAccount, link_id: str) -> dict[str, Any]:
    found = client.get(f"/links/{link_id}", auth=auth(account.test.secret_key)).json()
    charge: dict[str, Any] = found["charges"]["data"][0]
    return charge


def text_and_html(message: EmailMessage) -> tuple[str, str]:
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and html is not None
    return plain.get_content(), html.get_content()


def test_without_smtp_the_page_asks_for_no_address(
    client: TestClient, account: TestAccount
) -> None:
    page = open_page(client, link(client, account)["id"])
    assert 'name="email"' not in page


def test_a_card_payment_sends_one_receipt_from_the_merchant(
    db: Database, make_client: Any, account: TestAccount
) -> None:
    with db.transaction() as conn:
        save_branding(
            conn, account_pk=account.pk, now=SystemClock().now(),
            values={"display_name": "Baan Pottery", "support_email": "help@baan.example"},
        )  # fmt: skip
    with mailbox() as box:
        client = make_client(smtp_url=box.url, smtp_from="receipts@shop.example")
        invoice = link(client, account, title="Pottery class", amount=125050)
        page = open_page(client, invoice["id"])
        assert re.search(r'<input id="email" name="email" type="email"', page)
        paid = pay_on_page(client, invoice["id"], email=CUSTOMER)
        assert "A receipt is on its way to somchai@example.com." in paid.text
        charge = charge_of(client, account, invoice["id"])
        assert run_mailer(db, box) == 1
        [message] = box.wait_for(1)
        assert run_mailer(db, box) == 0  # sent is sent: a second round finds nothing
    assert message["To"] == CUSTOMER and box.envelopes == [("receipts@shop.example", [CUSTOMER])]
    assert message["From"] == "Baan Pottery <receipts@shop.example>"
    assert message["Reply-To"] == "help@baan.example"
    assert message["Subject"] == "Your receipt from Baan Pottery: ฿1,250.50"
    assert message["Message-ID"] == f"<receipt.{charge['id']}@shop.example>"
    plain, html = text_and_html(message)
    for body in (plain, html):
        assert "Pottery class" in body and "฿1,250.50" in body and charge["id"] in body
        assert "Visa ending in 4242" in body and "(Thailand time)" in body
        assert "4242424242424242" not in body  # the number never, only its last digits
    assert "help@baan.example" in html and "Test mode" in plain
    [row] = receipt_rows(db, charge["id"])
    assert row.status == "sent" and row.attempts == 1 and row.sent_at is not None


def test_the_receipt_speaks_the_language_the_customer_paid_in(
    db: Database, make_client: Any, account: TestAccount
) -> None:
    with mailbox() as box:
        client = make_client(smtp_url=box.url)
        invoice = link(client, account, title="คลาสปั้นดิน")
        thai = {"Accept-Language": "th"}
        pay_on_page(client, invoice["id"], email=CUSTOMER, headers=thai)
        run_mailer(db, box)
        [message] = box.wait_for(1)
    assert (
        message["Subject"].startswith("ใบเสร็จจาก Test merchant")
        and message["Content-Language"] == "th"
    )
    plain, _ = text_and_html(message)
    assert "ชำระเงินสำเร็จ" in plain and "คลาสปั้นดิน" in plain and "(เวลาประเทศไทย)" in plain


def test_a_promptpay_receipt_waits_until_the_qr_is_paid(
    db: Database, make_client: Any, account: TestAccount
) -> None:
    with mailbox() as box:
        client = make_client(smtp_url=box.url)
        invoice = link(client, account)
        token = form_tokens(open_page(client, invoice["id"]))["promptpay_token"]
        client.post(
            f"/pay/{invoice['id']}/promptpay", data={"promptpay_token": token, "email": CUSTOMER}
        )
        charge = charge_of(client, account, invoice["id"])
        assert run_mailer(db, box) == 0 and [r.status for r in receipt_rows(db, charge["id"])] == [
            "held"
        ]
        marked = client.post(
            f"/charges/{charge['id']}/mark_as_paid", auth=auth(account.test.secret_key)
        )
        assert marked.status_code == 200
        assert run_mailer(db, box) == 1
        [message] = box.wait_for(1)
    assert "PromptPay" in text_and_html(message)[0]


def test_a_declined_card_sends_no_receipt(
    db: Database, make_client: Any, account: TestAccount
) -> None:
    with mailbox() as box:
        client = make_client(smtp_url=box.url)
        invoice = link(client, account)
        declined = pay_on_page(client, invoice["id"], DECLINED, email=CUSTOMER)
        assert declined.status_code == 402
        assert run_mailer(db, box) == 0 and box.messages == []


def test_a_mailer_that_dies_after_claiming_gives_the_receipt_back(
    db: Database, make_client: Any, account: TestAccount
) -> None:
    """The claim is a lease: a mailer killed between claiming and sending (or before recording)
    loses nothing; after the lease another mailer sends it, once."""
    with mailbox() as box:
        client = make_client(smtp_url=box.url)
        pay_on_page(client, link(client, account)["id"], email=CUSTOMER)
        now = SystemClock().now()
        with db.transaction() as conn:
            assert len(outbox.claim_due(conn, now=now)) == 1  # ... and then the mailer died
        assert run_mailer(db, box, FrozenClock(now + timedelta(seconds=30))) == 0  # leased
        assert run_mailer(db, box, FrozenClock(now + outbox.LEASE + timedelta(seconds=1))) == 1
        box.wait_for(1)
        assert run_mailer(db, box, FrozenClock(now + 2 * outbox.LEASE)) == 0
    assert len(box.messages) == 1


def test_a_server_that_says_later_is_asked_again_and_a_refused_address_is_given_up(
    db: Database, make_client: Any, account: TestAccount
) -> None:
    with mailbox() as box:
        box.refusals = {
            "later@example.com": ["451 4.3.0 try again later"],
            "nobody@example.com": ["550 5.1.1 no such user"],
        }
        client = make_client(smtp_url=box.url)
        later, nobody = link(client, account), link(client, account)
        pay_on_page(client, later["id"], email="later@example.com")
        pay_on_page(client, nobody["id"], email="nobody@example.com")
        now = SystemClock().now()
        assert run_mailer(db, box, FrozenClock(now)) == 2 and box.messages == []
        [waiting] = receipt_rows(db, charge_of(client, account, later["id"])["id"])
        [refused] = receipt_rows(db, charge_of(client, account, nobody["id"])["id"])
        assert waiting.status == "pending" and waiting.attempts == 1 and "451" in waiting.last_error
        assert refused.status == "failed" and "550" in refused.last_error
        assert run_mailer(db, box, FrozenClock(now + timedelta(seconds=10))) == 0  # not yet
        assert run_mailer(db, box, FrozenClock(now + timedelta(minutes=1))) == 1
        [message] = box.wait_for(1)
    assert message["To"] == "later@example.com"


def test_the_smtp_login_comes_from_the_url_and_a_refused_login_is_tried_again(
    db: Database, make_client: Any, account: TestAccount
) -> None:
    """A login the server refuses is the operator's to fix, not the customer's fault: the
    receipt waits for the next try instead of being given up."""
    with mailbox(username="shop", password="s3cret p@ss") as box:
        client = make_client(smtp_url=box.url)
        invoice = link(client, account)
        pay_on_page(client, invoice["id"], email=CUSTOMER)
        now = SystemClock().now()
        anonymous = mailer_of(quiet_settings(smtp_url=box.url), db, FrozenClock(now))
        assert asyncio.run(anonymous.run_once()) == 1 and box.messages == []
        [row] = receipt_rows(db, charge_of(client, account, invoice["id"])["id"])
        assert row.status == "pending" and "530" in row.last_error
        url = box.url.replace("smtp://", "smtp://shop:s3cret%20p%40ss@")
        later = FrozenClock(now + timedelta(minutes=1))
        assert asyncio.run(mailer_of(quiet_settings(smtp_url=url), db, later).run_once()) == 1
        [message] = box.wait_for(1)
    assert message["To"] == CUSTOMER


def test_serve_sends_receipts_by_itself(
    db: Database, make_client: Any, account: TestAccount
) -> None:
    """The wiring: with SMTP configured, the app's own mailer empties the outbox."""
    with mailbox() as box:
        client = make_client(smtp_url=box.url, send_receipts=True)
        pay_on_page(client, link(client, account)["id"], email=CUSTOMER)
        [message] = box.wait_for(1)
    assert message["To"] == CUSTOMER


@pytest.mark.parametrize(
    "url",
    ["http://mail.example", "smtp://", "smtp://mail.example?tls=maybe", "mail.example:25"],
)
def test_an_unreadable_smtp_url_stops_the_start(url: str) -> None:
    with pytest.raises(ValueError, match="SMTP_URL"):
        Settings(smtp_url=url)


def test_the_smtp_url_says_how_to_connect() -> None:
    plain = parse_smtp_url("smtp://user:p%40ss@mail.example")
    assert (plain.host, plain.port, plain.username, plain.password) == (
        "mail.example",
        587,
        "user",
        "p@ss",
    )
    assert plain.start_tls is None and not plain.use_tls  # STARTTLS when offered
    secure = parse_smtp_url("smtps://mail.example")
    assert secure.port == 465 and secure.use_tls and secure.start_tls is False
    assert parse_smtp_url("smtp://relay:25?tls=off").start_tls is False


def test_the_sender_defaults_to_the_public_host() -> None:
    assert sender_address("", "https://pay.shop.example") == "receipts@pay.shop.example"
    assert sender_address("", "http://127.0.0.1:8000") == "receipts@localhost"
    assert sender_address("billing@shop.example", "https://x.example") == "billing@shop.example"
