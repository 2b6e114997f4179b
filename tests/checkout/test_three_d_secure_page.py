"""The hosted page of an account with 3-D Secure on: a card payment goes to the authentication
page first and comes back to the link's own return address, which shows the receipt only once
the charge is final (a failure: the form again, saying why). The setting is per account, from
the CLI or the dashboard."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
from click.testing import CliRunner
from factories import (
    CARD,
    CSP,
    VISA_OK,
    TestAccount,
    assert_secure_page,
    auth,
    form_tokens,
    link,
    open_page,
    sign_in,
    token,
)
from starlette.testclient import TestClient

from paylinks.accounts.service import set_three_d_secure, three_d_secure_of
from paylinks.cli import main
from paylinks.db import Database

FAILS_VALIDATION = "4111111111140003"
NOT_ENROLLED = "4111111111150002"


def secure(db: Database, account: TestAccount, enabled: bool = True) -> None:
    with db.transaction() as conn:
        set_three_d_secure(conn, account_id=account.id, enabled=enabled)


def submit_card(client: TestClient, link_id: str, number: str = VISA_OK) -> httpx.Response:
    token = form_tokens(open_page(client, link_id))["card_token"]
    form = {**CARD, "number": number, "card_token": token}
    return client.post(f"/pay/{link_id}", data=form, follow_redirects=False)


def only_charge(client: TestClient, account: TestAccount, link_id: str) -> dict[str, Any]:
    listed = client.get(f"/links/{link_id}/charges", auth=auth(account.test.secret_key)).json()
    assert len(listed["data"]) == 1, listed
    charge: dict[str, Any] = listed["data"][0]
    return charge


def authenticate(client: TestClient, location: str, result: str) -> httpx.Response:
    path = urlsplit(location).path
    assert_secure_page(client.get(location), 200)
    return client.post(path, data={"result": result}, follow_redirects=False)


def test_a_card_payment_is_authenticated_before_the_receipt(
    client: TestClient, db: Database, account: TestAccount
) -> None:
    secure(db, account)
    invoice = link(client, account)
    sent = submit_card(client, invoice["id"])
    charge = only_charge(client, account, invoice["id"])
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/payments/{charge['id']}/authorize?locale=en"
    assert (charge["status"], charge["paid"]) == ("pending", False)
    return_uri = charge["return_uri"]
    assert return_uri.startswith(f"http://paylinks.test/pay/{invoice['id']}/return/")
    back = urlsplit(return_uri).path
    # Back before the bank has answered: sent to the bank again, never a receipt.
    early = client.get(back, follow_redirects=False)
    assert early.status_code == 303 and "/authorize" in early.headers["location"]
    done = authenticate(client, sent.headers["location"], "pass")
    assert done.status_code == 303 and done.headers["location"] == return_uri
    receipt = assert_secure_page(client.get(back), 200)
    assert "Payment successful" in receipt and charge["id"] in receipt
    assert only_charge(client, account, invoice["id"])["status"] == "successful"
    reloaded = assert_secure_page(client.get(back), 200)  # the return address can be reloaded
    assert "Payment successful" in reloaded


def test_a_failed_authentication_says_so_on_the_payment_page(
    client: TestClient, db: Database, account: TestAccount
) -> None:
    secure(db, account)
    invoice = link(client, account)
    sent = submit_card(client, invoice["id"], FAILS_VALIDATION)
    done = authenticate(client, sent.headers["location"], "pass")
    page = assert_secure_page(client.get(urlsplit(done.headers["location"]).path), 402)
    assert "could not confirm this payment (3-D Secure)" in page
    assert 'id="pay-form"' in page  # the form again: the link is payable
    charge = only_charge(client, account, invoice["id"])
    assert (charge["status"], charge["failure_code"]) == ("failed", "failed_3ds")
    api = client.get(f"/links/{invoice['id']}", auth=auth(account.test.secret_key)).json()
    assert api["used"] is False


def test_an_unenrolled_card_fails_at_once(
    client: TestClient, db: Database, account: TestAccount
) -> None:
    secure(db, account)
    invoice = link(client, account)
    page = assert_secure_page(submit_card(client, invoice["id"], NOT_ENROLLED), 402)
    assert "could not confirm this payment (3-D Secure)" in page
    assert only_charge(client, account, invoice["id"])["status"] == "failed"


def test_without_3ds_the_receipt_comes_at_once_and_other_accounts_are_untouched(
    client: TestClient, db: Database, account: TestAccount, other_account: TestAccount
) -> None:
    secure(db, other_account)
    invoice = link(client, account)
    sent = submit_card(client, invoice["id"])
    assert sent.status_code == 303 and "/return/" in sent.headers["location"]  # the receipt's
    page = assert_secure_page(client.get(sent.headers["location"]), 200)
    assert "Payment successful" in page
    assert only_charge(client, account, invoice["id"])["return_uri"] is None


def test_a_return_address_of_another_link_or_a_made_up_one_is_not_found(
    client: TestClient, db: Database, account: TestAccount
) -> None:
    secure(db, account)
    invoice, other = link(client, account), link(client, account)
    submit_card(client, invoice["id"])
    nonce = only_charge(client, account, invoice["id"])["return_uri"].rsplit("/", 1)[1]
    assert_secure_page(client.get(f"/pay/{other['id']}/return/{nonce}"), 404)
    for made_up in ("0" * 32, "%25", "x" * 32):
        assert_secure_page(client.get(f"/pay/{invoice['id']}/return/{made_up}"), 404)


def test_the_setting_from_the_cli(db: Database, account: TestAccount, database_url: str) -> None:
    runner = CliRunner()
    on = runner.invoke(
        main,
        ["accounts", "set", account.id, "--three-d-secure", "on", "--database-url", database_url],
    )
    assert on.exit_code == 0, on.output
    with db.snapshot() as conn:
        assert three_d_secure_of(conn, account_pk=account.pk) is True
    off = runner.invoke(
        main,
        ["accounts", "set", account.id, "--three-d-secure", "off", "--database-url", database_url],
    )
    assert off.exit_code == 0
    with db.snapshot() as conn:
        assert three_d_secure_of(conn, account_pk=account.pk) is False
    missing = runner.invoke(
        main,
        ["accounts", "set", "acct_nope", "--three-d-secure", "on", "--database-url", database_url],
    )
    assert missing.exit_code != 0 and "acct_nope" in missing.output


def test_the_setting_from_the_dashboard(
    client: TestClient, db: Database, account: TestAccount
) -> None:
    csrf = sign_in(client, account.test.secret_key)
    page = client.get("/dashboard/branding").text
    assert 'id="three_d_secure" checked' not in page
    saved = client.post(
        "/dashboard/branding/three-d-secure",
        data={"csrf": csrf, "three_d_secure": "on"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    with db.snapshot() as conn:
        assert three_d_secure_of(conn, account_pk=account.pk) is True
    assert 'id="three_d_secure" checked' in client.get("/dashboard/branding").text
    client.post("/dashboard/branding/three-d-secure", data={"csrf": csrf}, follow_redirects=False)
    with db.snapshot() as conn:
        assert three_d_secure_of(conn, account_pk=account.pk) is False
    forged = client.post(
        "/dashboard/branding/three-d-secure", data={"three_d_secure": "on"}, follow_redirects=False
    )
    assert forged.status_code == 403
    with db.snapshot() as conn:
        assert three_d_secure_of(conn, account_pk=account.pk) is False


def test_the_step_of_an_api_charge_may_send_its_answer_to_the_merchants_site(
    client: TestClient, account: TestAccount
) -> None:
    """The step's form answers with a redirect to the charge's return_uri, which browsers hold
    to the page's form-action: the merchant's origin is let in there, and nothing else."""
    made = client.post(
        "/charges", auth=auth(account.test.secret_key),
        json={"card": token(client, account), "amount": 100000, "currency": "thb",
              "return_uri": "https://shop.example:8443/orders/7?x=1"},
    ).json()  # fmt: skip
    page = client.get(urlsplit(made["authorize_uri"]).path)
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "form-action 'self' https://shop.example:8443;" in policy
    assert policy.replace(" https://shop.example:8443", "") == CSP
    step = urlsplit(made["authorize_uri"]).path
    done = client.post(step, data={"result": "pass"}, follow_redirects=False)
    assert done.status_code == 303, done.text[:300]
    assert done.headers["location"] == made["return_uri"]
