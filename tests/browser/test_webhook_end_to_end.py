"""End to end: a customer pays a link on the hosted page in Chromium; the merchant's receiver
gets `charge.create` then `charge.complete`, signed as the seed's `verifyWebhook` checks, with
the link id on the charge, as the seed's handler expects."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

import httpx
import orjson
from receivers import Receiver, receiver
from test_payment_page import fill_card, make_link
from visitor import Visitor


def verify_webhook(payload: bytes, signature: str, secret: str) -> bool:
    """The seed's verifyWebhook, written again: hex HMAC-SHA256 of the raw body."""
    expected = hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def events_for(rx: Receiver, charge_id: str, count: int, timeout: float = 30) -> list[Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [orjson.loads(r.body) for r in rx.received]
        mine = [e for e in found if e["data"].get("id") == charge_id]
        if len(mine) >= count:
            return mine
        time.sleep(0.05)
    raise AssertionError(f"only {len(rx.received)} deliveries arrived")


def test_a_payment_on_the_hosted_page_reaches_the_merchants_receiver(
    visitor: Visitor, api: httpx.Client
) -> None:
    with receiver() as rx:
        endpoint = api.post("/webhook_endpoints", json={"url": rx.url}).json()
        link = make_link(api, title="Webhook end to end")
        visitor.page.goto(link["payment_uri"])
        fill_card(visitor, "4242 4242 4242 4242")
        visitor.page.get_by_role("button", name="Pay ฿1,000.00").click()
        visitor.page.get_by_role("heading", name="Payment successful").wait_for()
        charge_id = visitor.page.locator("#charge-id").inner_text()
        events = events_for(rx, charge_id, 2)
        bodies = {orjson.loads(r.body)["id"]: r for r in rx.received}
        api.delete(f"/webhook_endpoints/{endpoint['id']}")
    ordered = sorted(events, key=lambda e: (e["created_at"], e["key"] != "charge.create"))
    assert [e["key"] for e in ordered] == ["charge.create", "charge.complete"]
    for event in ordered:
        delivery = bodies[event["id"]]
        assert verify_webhook(
            delivery.body, delivery.headers["omise-signature"], endpoint["secret"]
        )
        assert delivery.headers["content-type"] == "application/json"
    complete = ordered[1]["data"]
    # The seed's handler: `const charge = event.data; … charge.link` names the link paid.
    assert complete["status"] == "successful" and complete["link"] == link["id"]
    assert api.get(f"/links/{complete['link']}").json()["used"] is True
