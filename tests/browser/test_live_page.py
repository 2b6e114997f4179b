"""A live link paid on its hosted page in Chromium (the live-payments issue, items 2 and 7): the
page loads Omise.js — here the offline one a second paylinks in test mode serves, standing in for
Omise — the card number is typed, Omise.js turns it into Omise's token at the upstream's vault,
and the live paylinks receives only the token: its requests, its log, its database and WAL hold
no card number."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from factories import make_link
from servers import LiveServer, live_server, paylinks
from upstreams import at_upstream, upstream_charges
from visitor import Visitor, fill_card

NUMBER = "4242424242424242"


@pytest.fixture(scope="module")
def omise(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(f"sqlite:///{tmp_path_factory.mktemp('omise') / 'omise.db'}") as upstream:
        yield upstream


@pytest.fixture(scope="module")
def live(omise: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The live paylinks, its Omise URLs all pointing at the upstream, its account connected."""
    database_url = f"sqlite:///{tmp_path_factory.mktemp('live') / 'live.db'}"
    env = {
        "PAYLINKS_OMISE_API_URL": omise.url,
        "PAYLINKS_OMISE_VAULT_URL": omise.url,
        "PAYLINKS_OMISE_JS_URL": f"{omise.url}/omise.js",
    }
    with live_server(database_url, env=env) as server:
        paylinks(
            "accounts", "connect-omise", server.account_id, "--public-key", omise.public_key,
            "--database-url", database_url,
            env={"PAYLINKS_OMISE_API_URL": omise.url, "OMISE_SECRET_KEY": omise.secret_key},
        )  # fmt: skip
        yield server


@pytest.fixture
def live_api(live: LiveServer) -> Iterator[httpx.Client]:
    key = (live.live_keys["secret_key"], "")
    with httpx.Client(base_url=live.url, auth=key, timeout=30) as client:
        yield client


def requests_to(visitor: Visitor, origin: str) -> list[str]:
    """Every request the page sends to `origin`, with its body, as it is sent."""
    sent: list[str] = []

    def note(request: Any) -> None:
        if request.url.startswith(origin):
            sent.append(f"{request.method} {request.url}\n{request.post_data or ''}")

    visitor.page.on("request", note)
    return sent


def authenticate_at_omise(visitor: Visitor, omise: LiveServer) -> None:
    """Omise's 3-D Secure step (the upstream's own), reached from the live page, passed."""
    visitor.page.wait_for_url(f"{omise.url}/payments/**")
    visitor.page.get_by_role("button", name="Authenticate").click()


def holds_number(files: list[Path], number: str) -> list[str]:
    spaced = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    found = []
    for path in files:
        if path.exists():
            content = path.read_bytes()
            if number.encode() in content or spaced.encode() in content:
                found.append(path.name)
    return found


def test_a_live_link_is_paid_and_the_card_number_never_reaches_paylinks(
    visitor: Visitor, live: LiveServer, live_api: httpx.Client, omise: LiveServer
) -> None:
    link = make_link(live_api, title="Live order")
    assert link["livemode"] is True
    sent = requests_to(visitor, live.url)
    visitor.page.goto(link["payment_uri"])
    fill_card(visitor, "4242 4242 4242 4242")
    visitor.page.get_by_role("button", name="Pay ฿1,000.00").click()
    authenticate_at_omise(visitor, omise)
    visitor.page.get_by_role("heading", name="Payment successful").wait_for()
    visitor.screenshot("live-page-paid")
    assert visitor.console_errors == []  # the policy let Omise.js and its vault in, only them
    posted = [r for r in sent if r.startswith("POST ")]
    assert len(posted) == 1 and "omise_token=tokn_test_" in posted[0]
    assert not [r for r in sent if NUMBER in r.replace(" ", "").replace("+", "")]
    [charge] = live_api.get(f"/links/{link['id']}/charges").json()["data"]
    assert (charge["status"], charge["link"]) == ("successful", link["id"])
    assert charge["card"]["last_digits"] == "4242" and charge["livemode"] is True
    [upstream] = upstream_charges(omise, "paylinks_charge_id", charge["id"])
    assert upstream["status"] == "successful" and upstream["amount"] == 100000
    assert live.log is not None
    database = Path(live.database_url.removeprefix("sqlite:///"))
    files = [live.log, database, database.with_name(database.name + "-wal")]
    assert holds_number(files, NUMBER) == []


def test_a_declined_live_card_gets_the_generic_message_and_the_link_stays_payable(
    visitor: Visitor, live_api: httpx.Client, omise: LiveServer
) -> None:
    link = make_link(live_api, title="Live order, declined first")
    visitor.page.goto(link["payment_uri"])
    fill_card(visitor, "4111 1111 1114 0011")  # insufficient funds at Omise
    visitor.page.get_by_role("button", name="Pay ฿1,000.00").click()
    authenticate_at_omise(visitor, omise)
    alert = visitor.page.get_by_role("alert")
    alert.wait_for()
    assert "insufficient" not in alert.inner_text().lower()  # live: never the reason
    fill_card(visitor, "4242 4242 4242 4242")
    visitor.page.get_by_role("button", name="Pay ฿1,000.00").click()
    authenticate_at_omise(visitor, omise)
    visitor.page.get_by_role("heading", name="Payment successful").wait_for()
    statuses = [c["status"] for c in live_api.get(f"/links/{link['id']}/charges").json()["data"]]
    assert sorted(statuses) == ["failed", "successful"]


def test_a_live_link_is_paid_by_scanning_omises_promptpay_qr(
    visitor: Visitor, live_api: httpx.Client, omise: LiveServer
) -> None:
    link = make_link(live_api, title="Live order by QR")
    visitor.page.goto(link["payment_uri"])
    visitor.page.get_by_role("button", name="Pay with PromptPay QR").click()
    visitor.page.get_by_role("heading", name="Scan to pay with PromptPay").wait_for()
    # Omise's QR, from Omise's origin: the page's policy lets that image in, and it loads.
    qr = visitor.page.get_by_role("img", name="PromptPay QR code for ฿1,000.00")
    assert (qr.get_attribute("src") or "").startswith(omise.url)
    # Visible is not loaded: wait (up to the default timeout) until the image has decoded.
    visitor.page.wait_for_function(
        "image => image.complete && image.naturalWidth > 0", arg=qr.element_handle()
    )
    loaded = qr.evaluate("img => img.complete && img.naturalWidth > 0")
    assert loaded is True and visitor.console_errors == []
    visitor.screenshot("live-promptpay-qr")
    [charge] = live_api.get(f"/links/{link['id']}/charges").json()["data"]
    [upstream] = upstream_charges(omise, "paylinks_charge_id", charge["id"])
    at_upstream(omise, upstream["id"], "mark_as_paid")  # the customer's bank pays Omise
    visitor.page.get_by_role("link", name="I have paid").click()
    visitor.page.get_by_role("heading", name="Payment successful").wait_for()
    charge = live_api.get(f"/charges/{charge['id']}").json()
    assert charge["status"] == "successful" and charge["source"]["type"] == "promptpay"
