"""Money after the payment with the installed official Python SDK (`omise` 0.16.0, unmodified)
against a live server: refunds (partial, full, too much), authorize then capture or reverse,
expiring a PromptPay charge, updating a charge, and a 3-D Secure charge followed to the end
through its `authorize_uri` with a plain HTTP client, as a customer's browser would."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
import omise
import omise.errors
import pytest
from servers import LiveServer, create_account_keys

pytestmark = pytest.mark.usefixtures("sdk")


@pytest.fixture(autouse=True)
def fresh_account(server: LiveServer, sdk: None) -> None:
    """Each test in an account of its own, so that every list and count is exact."""
    keys = create_account_keys(server.database_url, "Python SDK money")
    omise.api_secret = keys["secret_key"]
    omise.api_public = keys["public_key"]


def charge(amount: int = 100000, number: str = "4242424242424242", **extra: Any) -> omise.Charge:
    token = omise.Token.create(
        name="Somchai Jaidee",
        number=number,
        expiration_month=12,
        expiration_year=2035,
        security_code="123",
    )
    made = omise.Charge.create(amount=amount, currency="thb", card=token.id, **extra)
    assert isinstance(made, omise.Charge)
    return made


def test_partial_and_full_refunds_then_too_much() -> None:
    paid = charge(100000)
    first = paid.refund(amount=30000, metadata={"reason": "one cup broken"})
    assert isinstance(first, omise.Refund)
    assert (first.amount, first.charge, first.currency) == (30000, paid.id, "thb")
    # The SDK wraps nested objects; their attributes are what the server sent.
    assert first.metadata._attributes == {"reason": "one cup broken"}
    assert first.id.startswith("rfnd_test_")
    # Charge.refund reloads the charge: the SDK's object shows what is left.
    assert (paid.refunded_amount, paid.refundable, paid.partially_refundable) == (30000, True, True)
    rest = paid.refund(amount=70000)
    assert paid.refunded_amount == 100000 and paid.refundable is False
    with pytest.raises(omise.errors.FailedRefundError, match="refunded in full"):
        paid.refund(amount=1)
    assert [r.id for r in paid.list_refunds()] == [first.id, rest.id]
    assert [r.id for r in omise.Refund.list()] == [first.id, rest.id]
    assert omise.Charge.retrieve(paid.id).refunded_amount == 100000


def test_a_refund_beyond_what_is_left_changes_nothing() -> None:
    paid = charge(50000)
    paid.refund(amount=20000)
    with pytest.raises(omise.errors.FailedRefundError):
        paid.refund(amount=30001)
    assert omise.Charge.retrieve(paid.id).refunded_amount == 20000
    declined = charge(50000, number="4111111111140011")
    assert declined.status == "failed"
    with pytest.raises(omise.errors.FailedRefundError):
        declined.refund(amount=100)


def test_authorize_then_capture_or_reverse() -> None:
    held = charge(80000, capture=False)
    assert (held.status, held.authorized, held.paid, held.capturable) == (
        "pending",
        True,
        False,
        True,
    )
    held.capture()
    assert (held.status, held.paid, held.capturable) == ("successful", True, False)
    with pytest.raises(omise.errors.FailedCaptureError):
        held.capture()
    released = charge(80000, capture=False)
    released.reverse()
    assert (released.status, released.reversed, released.paid) == ("reversed", True, False)
    assert released.reversed_at is not None
    with pytest.raises(omise.errors.FailedCaptureError):
        released.capture()


def test_a_promptpay_charge_expires_and_a_charge_is_updated() -> None:
    source = omise.Source.create(type="promptpay", amount=50000, currency="thb")
    pending = omise.Charge.create(amount=50000, currency="thb", source=source.id)
    assert pending.status == "pending" and pending.expires_at is not None
    pending.expire()
    assert (pending.status, pending.expired) == ("expired", True)
    paid = charge(10000, description="Before")
    paid.update(description="After", metadata={"order": "A-17"})
    again = omise.Charge.retrieve(paid.id)
    assert (again.description, again.metadata._attributes) == ("After", {"order": "A-17"})
    assert [e.key for e in again.list_events()][-1] == "charge.update"


@pytest.mark.parametrize(
    ("number", "status", "code"),
    [("4242424242424242", "successful", None), ("4111111111140003", "failed", "failed_3ds")],
)
def test_3ds_to_completion_by_following_authorize_uri(
    number: str, status: str, code: str | None
) -> None:
    back = "https://shop.example/orders/9/done"
    waiting = charge(25000, number=number, return_uri=back)
    assert (waiting.status, waiting.authorized, waiting.return_uri) == ("pending", False, back)
    with httpx.Client(timeout=10) as browser:
        page = browser.get(waiting.authorize_uri)
        assert page.status_code == 200 and 'id="authenticate"' in page.text
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(waiting.authorize_uri))
        done = browser.post(
            waiting.authorize_uri, data={"result": "pass"}, headers={"Origin": origin}
        )
    assert done.status_code == 303 and done.headers["location"] == back
    waiting.reload()
    assert (waiting.status, waiting.failure_code) == (status, code)
