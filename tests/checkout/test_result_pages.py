"""Where a payment on the hosted page ends (issue 16): each result has its own address, reached
by a redirect after the form's POST (post/redirect/get), so that it can be reloaded and
bookmarked without paying again; the PromptPay QR is such a page, with its status to poll, a
way to save the image and a way back to the card form; the receipt says when it was paid."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from factories import (
    QR_CSP,
    TestAccount,
    assert_secure_page,
    auth,
    form_tokens,
    link,
    open_page,
    pay_on_page,
)
from starlette.testclient import TestClient

RESULT = re.compile(r"^/pay/(payl_test_\w+)/return/([\w-]+)\?locale=(en|th)$")
BANGKOK = timezone(timedelta(hours=7))


def charges_made(client: TestClient) -> int:
    made: int = client.app.state.runtime.test_processor.charges_made  # type: ignore[attr-defined]
    return made


def start_promptpay(client: TestClient, link_id: str, locale: str = "en") -> str:
    """The address the QR's POST redirects to."""
    token = form_tokens(open_page(client, link_id))["promptpay_token"]
    posted = client.post(
        f"/pay/{link_id}/promptpay?locale={locale}",
        data={"promptpay_token": token},
        follow_redirects=False,
    )
    assert posted.status_code == 303, posted.text[:300]
    assert RESULT.match(posted.headers["location"]), posted.headers["location"]
    return posted.headers["location"]


def test_a_card_payment_ends_at_a_receipt_address_that_can_be_reloaded(
    client: TestClient, account: TestAccount
) -> None:
    invoice = link(client, account)
    posted = pay_on_page(client, invoice["id"], follow_redirects=False)
    assert posted.status_code == 303 and posted.headers["cache-control"] == "no-store"
    address = posted.headers["location"]
    assert RESULT.match(address) and RESULT.match(address).group(1) == invoice["id"]  # type: ignore[union-attr]
    first = assert_secure_page(client.get(address), 200)
    again = assert_secure_page(client.get(address), 200)
    assert "Payment successful" in first and first == again and charges_made(client) == 1
    charge = client.get(f"/links/{invoice['id']}", auth=auth(account.test.secret_key)).json()
    [paid] = charge["charges"]["data"]
    paid_at = datetime.fromisoformat(paid["paid_at"].replace("Z", "+00:00")).astimezone(BANGKOK)
    assert f"{paid_at:%d/%m/%Y} {paid_at:%H:%M} (Thailand time)" in first
    assert first.count("฿1,000.00") == 1  # the amount once, not in the summary and again below
    thai = assert_secure_page(client.get(address.replace("locale=en", "locale=th")), 200)
    assert "ชำระเงินสำเร็จ" in thai and f"{paid_at:%H:%M} น." in thai


def test_a_declined_card_is_answered_with_the_form_not_a_redirect(
    client: TestClient, account: TestAccount
) -> None:
    invoice = link(client, account)
    posted = pay_on_page(client, invoice["id"], "4111111111140011", follow_redirects=False)
    assert posted.status_code == 402 and 'id="pay-form"' in posted.text


def test_the_promptpay_qr_has_its_own_address_and_a_status_to_poll(
    client: TestClient, account: TestAccount
) -> None:
    invoice = link(client, account, title="Pottery class")
    address = start_promptpay(client, invoice["id"])
    qr_page = assert_secure_page(client.get(address), 200, csp=QR_CSP)
    image = re.search(r'src="(/sources/src_test_\w+/qr\.svg)"', qr_page).group(1)  # type: ignore[union-attr]
    reloaded = assert_secure_page(client.get(address), 200, csp=QR_CSP)
    assert f'src="{image}"' in reloaded  # the same QR, not a new payment
    assert re.search(rf'<a [^>]*href="{image}"[^>]* download="[^"]+"', qr_page)
    assert "Pottery class" in qr_page and "฿1,000.00" in qr_page and "Thailand time" in qr_page
    assert f'href="/pay/{invoice["id"]}?locale=en"' in qr_page  # pay by card instead
    status_url = re.search(r'data-status-url="([^"]+)"', qr_page).group(1)  # type: ignore[union-attr]
    assert status_url == address.replace("?locale=en", "/status")
    pending = client.get(status_url)
    assert pending.status_code == 200 and pending.json() == {"status": "pending"}
    assert pending.headers["cache-control"] == "no-store"
    [charge] = client.get(f"/links/{invoice['id']}", auth=auth(account.test.secret_key)).json()[
        "charges"
    ]["data"]
    paid = client.post(f"/charges/{charge['id']}/mark_as_paid", auth=auth(account.test.secret_key))
    assert paid.status_code == 200
    assert client.get(status_url).json() == {"status": "successful"}
    receipt = assert_secure_page(client.get(address), 200)
    assert "Payment successful" in receipt and "PromptPay" in receipt


def test_the_test_buttons_end_at_the_qrs_address(client: TestClient, account: TestAccount) -> None:
    invoice = link(client, account)
    address = start_promptpay(client, invoice["id"], locale="th")
    qr_page = client.get(address).text
    action = re.search(r'action="(/pay/[^"?]+/promptpay/chrg_test_\w+\?locale=th)"', qr_page)
    body = {"token": form_tokens(qr_page)["token"], "outcome": "paid"}
    marked = client.post(action.group(1), data=body, follow_redirects=False)  # type: ignore[union-attr]
    assert marked.status_code == 303 and marked.headers["location"] == address
    assert "ชำระเงินสำเร็จ" in assert_secure_page(client.get(address), 200)


def test_an_unknown_attempt_has_no_status_and_get_promptpay_goes_to_the_form(
    client: TestClient, account: TestAccount
) -> None:
    invoice = link(client, account)
    unknown = client.get(f"/pay/{invoice['id']}/return/{'a' * 32}/status")
    assert unknown.status_code == 404 and unknown.json() == {"status": None}
    other = link(client, account)
    address = start_promptpay(client, invoice["id"])
    stolen = address.replace(invoice["id"], other["id"]).replace("?locale=en", "/status")
    assert client.get(stolen).status_code == 404  # an attempt is only found under its link
    bare = client.get(f"/pay/{invoice['id']}/promptpay", follow_redirects=False)
    assert bare.status_code == 303 and bare.headers["location"] == f"/pay/{invoice['id']}"
