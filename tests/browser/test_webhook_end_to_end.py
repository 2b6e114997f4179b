"""End to end: a customer pays a link on the hosted page in Chromium; the merchant's receiver
(an endpoint of the account, served by the in-process worker of `paylinks serve`) gets
`charge.create` then `charge.complete` for that charge, signed as the seed's `verifyWebhook`
checks, with the link id on the charge as the seed's handler expects."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections import defaultdict
from typing import Any

import httpx
import orjson
from factories import make_link
from receivers import Received, Receiver, receiver
from visitor import Visitor, fill_card


def verify_webhook(payload: bytes, signature: str, secret: str) -> bool:
    """The seed's verifyWebhook, written again: hex HMAC-SHA256 of the raw body, keyed by the
    secret as text."""
    expected = hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def deliveries_for(rx: Receiver, charge_id: str, timeout: float = 30) -> dict[str, list[Received]]:
    """The charge's deliveries by event key, once both of its events have arrived."""
    deadline = time.monotonic() + timeout
    while True:
        mine: dict[str, list[Received]] = defaultdict(list)
        for request in list(rx.received):
            event = orjson.loads(request.body)
            if event["data"].get("id") == charge_id:
                mine[event["key"]].append(request)
        if {"charge.create", "charge.complete"} <= set(mine):
            return mine
        if time.monotonic() > deadline:
            raise AssertionError(f"after {timeout}s the receiver had only {dict(mine)}")
        time.sleep(0.05)


def test_a_payment_on_the_hosted_page_reaches_the_merchants_receiver(
    visitor: Visitor, api: httpx.Client
) -> None:
    with receiver() as rx:
        made = api.post("/webhook_endpoints", json={"url": rx.url})
        assert made.status_code == 200, made.text
        endpoint = made.json()
        try:
            link = make_link(api, title="Webhook end to end")
            visitor.page.goto(link["payment_uri"])
            fill_card(visitor, "4242 4242 4242 4242")
            visitor.page.get_by_role("button", name="Pay ฿1,000.00").click()
            visitor.page.get_by_role("heading", name="Payment successful").wait_for()
            charge_id = visitor.page.locator("#charge-id").inner_text()
            by_key = deliveries_for(rx, charge_id)
        finally:
            api.delete(f"/webhook_endpoints/{endpoint['id']}")
    assert set(by_key) == {"charge.create", "charge.complete"}
    events: dict[str, Any] = {}
    for key, copies in by_key.items():
        assert len({c.body for c in copies}) == 1  # a retry would be the same bytes
        for copy in copies:
            assert verify_webhook(copy.body, copy.headers["omise-signature"], endpoint["secret"])
            assert copy.headers["content-type"] == "application/json"
        events[key] = orjson.loads(copies[0].body)
        assert copies[0].headers["webhook-id"] == events[key]["id"]
    created, completed = events["charge.create"], events["charge.complete"]
    # In that order: by creation time, and as the API lists the charge's events (created_at,
    # then insertion order for a tie).
    assert created["created_at"] <= completed["created_at"]
    listed = api.get(f"/charges/{charge_id}/events").json()["data"]
    assert [e["id"] for e in listed] == [created["id"], completed["id"]]
    # The seed's handler: `const charge = event.data; … charge.link` names the link paid.
    for event in (created, completed):
        assert event["data"]["object"] == "charge" and event["data"]["link"] == link["id"]
    assert completed["data"]["status"] == "successful" and completed["data"]["paid"] is True
    paid = api.get(f"/links/{completed['data']['link']}")
    assert paid.status_code == 200, paid.text
    assert paid.json()["used"] is True  # single-use, now paid
    assert charge_id in [c["id"] for c in paid.json()["charges"]["data"]]
