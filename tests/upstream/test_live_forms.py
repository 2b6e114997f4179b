"""The hosted page of a live link, as a browser without JavaScript (or a forger) sees it: the card
fields have no names (they are never posted), only Omise's token is taken, the policy lets in
Omise.js and Omise's vault and only on live pages, and a form that carries card data and no
token charges nothing and echoes nothing. The page in Chromium: tests/browser/test_live_page.py."""

from __future__ import annotations

import html
import re

import httpx
from factories import CARD, PUBLIC_URL, VISA_OK, TestAccount, auth, form_tokens
from servers import LiveServer
from starlette.testclient import TestClient
from upstreams import live_link, upstream_charges, upstream_token


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
    assert names == {"card_token", "promptpay_token", "omise_token", "email"}
    assert 'id="number"' in page.text and "promptpay-button" not in page.text
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
