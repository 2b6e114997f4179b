"""The hosted page of a live link, as a browser without JavaScript (or a forger) sees it: the card
fields have no names (they are never posted), only Omise's token is taken, the policy lets in
Omise.js and Omise's vault and only on live pages, and a form that carries card data and no
token charges nothing and echoes nothing; PromptPay needs no JavaScript and shows Omise's QR.
The page in Chromium: tests/browser/test_live_page.py."""

from __future__ import annotations

import html
import re

import httpx
from factories import CARD, PUBLIC_URL, VISA_OK, TestAccount, auth, form_tokens
from servers import LiveServer
from starlette.testclient import TestClient
from upstreams import at_upstream, live_link, upstream_charges, upstream_token


def test_a_live_page_posts_no_card_field_and_lets_in_only_omise(
    live: TestClient, account: TestAccount
) -> None:
    link = live_link(live, account)
    page = live.get(f"/pay/{link['id']}")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "script-src 'self' https://cdn.omise.co;" in policy
    assert (
        "connect-src https://vault.omise.co" in policy
        and "frame-src https://vault.omise.co" in policy
    )
    assert '<script src="https://cdn.omise.co/omise.js" defer>' in page.text
    names = set(re.findall(r'<input[^>]* name="(\w+)"', page.text))
    # The way-to-pay choice posts only its own value; no receipt e-mail is asked for (none is
    # sent yet, issue 16).
    assert names == {"card_token", "promptpay_token", "omise_token", "method"}
    assert 'id="number"' in page.text and "promptpay-button" in page.text  # a THB link
    assert "PromptPay QR works without it." in page.text  # what a browser without JS is told
    assert "Test mode" not in page.text
    # A test page keeps the strict policy: no outside script.
    test_link = live.post(
        "/links", auth=auth(account.test.secret_key),
        json={"amount": 100000, "currency": "thb", "title": "Test"},
    ).json()  # fmt: skip
    test_policy = live.get(f"/pay/{test_link['id']}").headers["content-security-policy"]
    assert "omise.co" not in test_policy


def test_a_live_form_without_omises_token_charges_nothing_and_echoes_nothing(
    live: TestClient, account: TestAccount
) -> None:
    link = live_link(live, account)
    tokens = form_tokens(live.get(f"/pay/{link['id']}").text)
    body = {**CARD, "number": VISA_OK, "card_token": tokens["card_token"]}
    answer = live.post(f"/pay/{link['id']}", data=body)
    assert answer.status_code == 422
    assert "needs JavaScript" in answer.text and VISA_OK not in answer.text
    charges = live.get(f"/links/{link['id']}/charges", auth=auth(account.live.secret_key))
    assert charges.json()["data"] == []


def test_a_live_form_with_omises_token_pays_at_omise_after_its_3d_secure_step(
    live: TestClient, account: TestAccount, omise: LiveServer
) -> None:
    link = live_link(live, account)
    tokens = form_tokens(live.get(f"/pay/{link['id']}").text)
    body = {"card_token": tokens["card_token"], "omise_token": upstream_token(omise)}
    sent = live.post(f"/pay/{link['id']}", data=body)
    # Omise (here the upstream) asks for 3-D Secure: a page takes the customer to its step.
    assert sent.status_code == 200 and 'id="to-bank"' in sent.text
    step = re.search(r'<meta http-equiv="refresh" content="0;url=([^"]+)">', sent.text)
    assert step is not None and step.group(1).startswith(omise.url)
    # At Omise's step, whose answer goes back to the page's return address.
    passed = httpx.post(html.unescape(step.group(1)), data={"result": "pass"})
    assert passed.status_code == 303
    back = passed.headers["location"]
    assert back.startswith(f"{PUBLIC_URL}/pay/{link['id']}/return/")
    receipt = live.get(back.removeprefix(PUBLIC_URL))
    assert receipt.status_code == 200 and "Payment successful" in receipt.text
    # The same form again (a double click): that payment's receipt, nothing charged twice.
    again = live.post(f"/pay/{link['id']}", data=body)
    assert again.status_code == 200 and "Payment successful" in again.text
    charges = live.get(f"/links/{link['id']}/charges", auth=auth(account.live.secret_key))
    assert [c["status"] for c in charges.json()["data"]] == ["successful"]
    [upstream] = upstream_charges(omise, "paylinks_link_id", link["id"])
    assert upstream["status"] == "successful"


def test_a_live_page_pays_by_omises_promptpay_qr_without_javascript(
    live: TestClient, account: TestAccount, omise: LiveServer
) -> None:
    link = live_link(live, account)
    tokens = form_tokens(live.get(f"/pay/{link['id']}").text)
    body = {"promptpay_token": tokens["promptpay_token"], "email": "payer@example.com"}
    shown = live.post(f"/pay/{link['id']}/promptpay", data=body)
    assert shown.status_code == 200, shown.text
    # Omise made the source and the charge; the page shows Omise's QR, from Omise's origin.
    [upstream] = upstream_charges(omise, "paylinks_link_id", link["id"])
    assert upstream["status"] == "pending" and upstream["amount"] == 50000
    image = upstream["source"]["scannable_code"]["image"]["download_uri"]
    assert f'src="{image}"' in shown.text
    policy = shown.headers["content-security-policy"]
    assert f"img-src 'self' data: {omise.url};" in policy and "mark-as-paid" not in shown.text
    check = re.search(r'id="promptpay-check" href="([^"]+)"', shown.text)
    assert check is not None and 'http-equiv="refresh"' not in shown.text  # no timed reload
    # The page's script polls the attempt's status every ten seconds, each asking Omise.
    polled = re.search(r'data-status-url="([^"]+)" data-status-every="10"', shown.text)
    assert polled is not None and live.get(polled.group(1)).json() == {"status": "pending"}
    # Not paid yet: the same QR page. Paid at the bank: the receipt, from Omise's word alone.
    waiting = live.get(html.unescape(check.group(1)))
    assert waiting.status_code == 200 and f'src="{image}"' in waiting.text
    at_upstream(omise, upstream["id"], "mark_as_paid")
    assert live.get(polled.group(1)).json() == {"status": "successful"}
    receipt = live.get(html.unescape(check.group(1)))
    assert receipt.status_code == 200 and "Payment successful" in receipt.text
    charges = live.get(f"/links/{link['id']}/charges", auth=auth(account.live.secret_key))
    [charge] = charges.json()["data"]
    assert charge["status"] == "successful" and charge["customer_email"] == "payer@example.com"
    # The form again (a double click, a back button): that payment's receipt, no second QR.
    again = live.post(f"/pay/{link['id']}/promptpay", data=body)
    assert "Payment successful" in again.text
    assert len(upstream_charges(omise, "paylinks_link_id", link["id"])) == 1


def test_a_live_qr_customer_may_pay_another_way_and_frees_the_link(
    live: TestClient, account: TestAccount, omise: LiveServer
) -> None:
    link = live_link(live, account)
    tokens = form_tokens(live.get(f"/pay/{link['id']}").text)
    shown = live.post(
        f"/pay/{link['id']}/promptpay", data={"promptpay_token": tokens["promptpay_token"]}
    )
    assert shown.status_code == 200 and 'id="promptpay-cancel"' in shown.text
    # While the QR can be paid it holds the single-use link: another visitor is told so.
    assert "in progress" in live.get(f"/pay/{link['id']}").text
    [upstream] = upstream_charges(omise, "paylinks_link_id", link["id"])
    cancel = re.search(r'action="([^"]+/promptpay/[^"]+)"', shown.text)
    assert cancel is not None
    form = {"token": form_tokens(shown.text)["token"], "outcome": "cancel"}
    back = live.post(html.unescape(cancel.group(1)), data=form)
    # Expired at Omise first, then here; the form again, and the link free for anyone.
    assert back.status_code == 200 and 'id="pay-button"' in back.text
    [upstream] = upstream_charges(omise, "paylinks_link_id", link["id"])
    assert upstream["status"] == "expired"
    charges = live.get(f"/links/{link['id']}/charges", auth=auth(account.live.secret_key))
    assert [c["status"] for c in charges.json()["data"]] == ["expired"]
    assert 'id="pay-button"' in live.get(f"/pay/{link['id']}").text
