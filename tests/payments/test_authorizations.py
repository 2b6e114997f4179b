"""Authorize, then capture: `capture=false` only authorizes; capture makes the charge successful,
reverse releases it, and an authorization lapses after 7 days. PromptPay charges expire on
request or after 24 hours. A single-use link is used while authorized and payable again after a
reversal or a lapse."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from factories import TestAccount, auth, link, token
from starlette.testclient import TestClient

from paylinks.clock import FrozenClock
from paylinks.db import Database
from paylinks.payments.expiry import expire_due
from paylinks.recording import EventRecorder

START = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def call(client: TestClient, account: TestAccount, method: str, path: str, **body: Any) -> Any:
    return client.request(method, path, auth=auth(account.test.secret_key), json=body or None)


def authorize(client: TestClient, account: TestAccount, **fields: Any) -> dict[str, Any]:
    body = {"card": token(client, account), "amount": 5000, "currency": "thb", "capture": False}
    response = call(client, account, "POST", "/charges", **{**body, **fields})
    assert response.status_code == 200, response.text
    charge: dict[str, Any] = response.json()
    return charge


def keys(client: TestClient, account: TestAccount, charge_id: str) -> list[str]:
    events = call(client, account, "GET", f"/charges/{charge_id}/events").json()["data"]
    return [e["key"] for e in events]


def test_capture_false_only_authorizes(client: TestClient, account: TestAccount) -> None:
    charge = authorize(client, account)
    assert (charge["status"], charge["authorized"], charge["paid"]) == ("pending", True, False)
    assert (charge["capture"], charge["capturable"], charge["reversible"]) == (False, True, True)
    assert charge["transaction"] is None and charge["paid_at"] is None
    assert charge["expires_at"] is not None
    assert charge["refundable"] is False
    assert keys(client, account, charge["id"]) == ["charge.create"]
    # Not refundable before it is captured.
    refused = call(client, account, "POST", f"/charges/{charge['id']}/refunds", amount=100)
    assert refused.status_code == 400 and refused.json()["code"] == "failed_refund"


def test_capture_makes_the_charge_successful_once(client: TestClient, account: TestAccount) -> None:
    charge = authorize(client, account)
    captured = call(client, account, "POST", f"/charges/{charge['id']}/capture")
    assert captured.status_code == 200, captured.text
    done = captured.json()
    assert (done["status"], done["paid"], done["authorized"], done["capturable"]) == (
        "successful", True, True, False,
    )  # fmt: skip
    assert done["transaction"].startswith("trxn_test_") and done["expires_at"] is None
    again = call(client, account, "POST", f"/charges/{charge['id']}/capture")
    assert again.status_code == 400 and again.json()["code"] == "failed_capture"
    assert "already been captured" in again.json()["message"]
    reverse = call(client, account, "POST", f"/charges/{charge['id']}/reverse")
    assert reverse.status_code == 400 and reverse.json()["code"] == "failed_reverse"
    assert keys(client, account, charge["id"]) == ["charge.create", "charge.capture"]
    calls = client.app.state.runtime.test_processor.calls  # type: ignore[attr-defined]
    assert [c.action for c in calls if c.charge_id == charge["id"]] == ["authorize", "capture"]
    assert (
        call(client, account, "POST", f"/charges/{charge['id']}/refunds", amount=5000).status_code
        == 200
    )


def test_reverse_releases_the_authorization_and_the_link(
    client: TestClient, account: TestAccount
) -> None:
    invoice = link(client, account)
    charge = authorize(client, account, link=invoice["id"], amount=None, currency=None)
    assert call(client, account, "GET", f"/links/{invoice['id']}").json()["used"] is True
    second = call(
        client, account, "POST", "/charges", card=token(client, account), link=invoice["id"]
    )
    assert second.status_code == 400 and second.json()["code"] == "link_not_payable"
    reversed_ = call(client, account, "POST", f"/charges/{charge['id']}/reverse")
    assert reversed_.status_code == 200, reversed_.text
    done = reversed_.json()
    assert (done["status"], done["reversed"], done["capturable"]) == ("reversed", True, False)
    assert done["reversed_at"] is not None and done["paid"] is False
    assert call(client, account, "GET", f"/links/{invoice['id']}").json()["used"] is False
    capture = call(client, account, "POST", f"/charges/{charge['id']}/capture")
    assert capture.status_code == 400 and capture.json()["code"] == "failed_capture"
    assert keys(client, account, charge["id"]) == ["charge.create", "charge.reverse"]
    paid = call(
        client, account, "POST", "/charges", card=token(client, account), link=invoice["id"]
    )
    assert paid.status_code == 200 and paid.json()["status"] == "successful"


def test_a_successful_card_charge_cannot_be_captured_or_reversed(
    client: TestClient, account: TestAccount
) -> None:
    charge = authorize(client, account, capture=True)
    assert charge["status"] == "successful" and charge["capture"] is True
    for action, code in (("capture", "failed_capture"), ("reverse", "failed_reverse")):
        response = call(client, account, "POST", f"/charges/{charge['id']}/{action}")
        assert response.status_code == 400 and response.json()["code"] == code


def test_an_authorization_lapses_after_seven_days(
    make_client: Any, db: Database, account: TestAccount
) -> None:
    clock = FrozenClock(START)
    client = make_client(clock=clock)
    invoice = link(client, account)
    charge = authorize(client, account, link=invoice["id"], amount=None, currency=None)
    assert charge["expires_at"] == "2026-06-08T12:00:00Z"
    record = EventRecorder(public_url="http://paylinks.test")
    clock.advance(timedelta(days=7).total_seconds() - 1)
    assert asyncio.run(expire_due(db, record=record, now=clock.now())) == 0
    clock.advance(1)
    capture = call(client, account, "POST", f"/charges/{charge['id']}/capture")
    assert capture.status_code == 400 and capture.json()["code"] == "expired_charge"
    assert asyncio.run(expire_due(db, record=record, now=clock.now())) == 1
    assert asyncio.run(expire_due(db, record=record, now=clock.now())) == 0  # once
    done = call(client, account, "GET", f"/charges/{charge['id']}").json()
    assert (done["status"], done["expired"], done["expired_at"]) == (
        "expired", True, "2026-06-08T12:00:00Z",
    )  # fmt: skip
    assert keys(client, account, charge["id"]) == ["charge.create", "charge.expire"]
    assert call(client, account, "GET", f"/links/{invoice['id']}").json()["used"] is False
    reverse = call(client, account, "POST", f"/charges/{charge['id']}/reverse")
    assert reverse.status_code == 400 and reverse.json()["code"] == "expired_charge"


def promptpay_charge(client: TestClient, account: TestAccount, **fields: Any) -> dict[str, Any]:
    source = call(client, account, "POST", "/sources", type="promptpay", amount=100000,
                  currency="thb").json()  # fmt: skip
    response = call(client, account, "POST", "/charges", source=source["id"], amount=100000,
                    currency="thb", **fields)  # fmt: skip
    assert response.status_code == 200, response.text
    charge: dict[str, Any] = response.json()
    return charge


def test_a_promptpay_charge_expires_on_request(client: TestClient, account: TestAccount) -> None:
    charge = promptpay_charge(client, account)
    assert charge["status"] == "pending" and charge["expires_at"] is not None
    response = call(client, account, "POST", f"/charges/{charge['id']}/expire")
    assert response.status_code == 200, response.text
    done = response.json()
    assert (done["status"], done["expired"]) == ("expired", True) and done["expired_at"]
    again = call(client, account, "POST", f"/charges/{charge['id']}/expire")
    assert again.status_code == 400 and again.json()["code"] == "failed_expire"
    paid = call(client, account, "POST", f"/charges/{charge['id']}/mark_as_paid")
    assert paid.status_code == 400  # an expired QR can no longer be paid
    card = authorize(client, account)
    refused = call(client, account, "POST", f"/charges/{card['id']}/expire")
    assert refused.status_code == 400 and refused.json()["code"] == "failed_expire"
    assert keys(client, account, charge["id"]) == ["charge.create", "charge.expire"]


def test_a_promptpay_qr_lapses_after_24_hours(
    make_client: Any, db: Database, account: TestAccount
) -> None:
    clock = FrozenClock(START)
    client = make_client(clock=clock)
    charge = promptpay_charge(client, account)
    assert charge["expires_at"] == "2026-06-02T12:00:00Z"
    record = EventRecorder(public_url="http://paylinks.test")
    clock.advance(timedelta(hours=24).total_seconds())
    assert asyncio.run(expire_due(db, record=record, now=clock.now())) == 1
    done = call(client, account, "GET", f"/charges/{charge['id']}").json()
    assert done["status"] == "expired"
    paid = call(client, account, "POST", f"/charges/{charge['id']}/mark_as_paid")
    assert paid.status_code == 400


def test_authorizations_and_expiry_belong_to_their_account(
    client: TestClient, account: TestAccount, other_account: TestAccount
) -> None:
    charge = authorize(client, account)
    for action in ("capture", "reverse", "expire"):
        response = call(client, other_account, "POST", f"/charges/{charge['id']}/{action}")
        assert response.status_code == 404
    assert call(client, account, "GET", f"/charges/{charge['id']}").json()["capturable"] is True
