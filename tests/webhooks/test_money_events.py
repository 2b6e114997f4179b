"""Every event of money after the payment reaches a webhook receiver, signed, and one charge's
events arrive in the order they happened: against a real `paylinks serve` (its worker) on SQLite
and PostgreSQL, with an endpoint of Omise's own signature scheme, checked by a verifier written
from Omise's documentation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest
from factories import card, wait_until
from receivers import Received, receiver
from servers import LiveServer, backend_url, live_server

from paylinks.webhooks.delivery import Job
from paylinks.webhooks.worker import in_turns


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    database_url = backend_url(request, tmp_path_factory.mktemp("money"))
    with live_server(database_url) as live:
        yield live


def omise_signed(received: Received, secret: str) -> bool:
    """Omise's documented check: HMAC-SHA256 of `timestamp.body`, keyed with the base64-decoded
    secret, hex, against each value of Omise-Signature."""
    timestamp = received.headers["omise-signature-timestamp"]
    key = base64.b64decode(secret)
    expected = hmac.new(key, f"{timestamp}.".encode() + received.body, hashlib.sha256).hexdigest()
    given = received.headers["omise-signature"].split(",")
    return any(hmac.compare_digest(expected, value.strip()) for value in given)


def charge_of(event: dict[str, Any]) -> str:
    data = event["data"]
    return str(data["charge"] if data["object"] == "refund" else data["id"])


def test_money_events_arrive_signed_and_in_order(server: LiveServer) -> None:
    api = httpx.Client(base_url=server.url, auth=(server.secret_key, ""), timeout=10)
    public = (server.public_key, "")

    def card_charge(**fields: Any) -> dict[str, Any]:
        token = api.post("/tokens", auth=public, json={"card": card()}).json()["id"]
        body = {"amount": 50000, "currency": "thb", "card": token, **fields}
        made: dict[str, Any] = api.post("/charges", json=body).json()
        return made

    with receiver() as rx, api:
        keys = ["charge.create", "charge.complete", "charge.failed", "charge.capture",
                "charge.reverse", "charge.expire", "charge.update", "refund.create"]  # fmt: skip
        endpoint = api.post(
            "/webhook_endpoints",
            json={"url": rx.url, "signature_scheme": "omise", "events": keys},
        ).json()
        captured = card_charge(capture=False)
        assert api.post(f"/charges/{captured['id']}/capture").status_code == 200
        for amount in (1000, 2000):
            refund = api.post(f"/charges/{captured['id']}/refunds", json={"amount": amount})
            assert refund.status_code == 200
        api.patch(f"/charges/{captured['id']}", json={"description": "Refunded in part"})
        reversed_ = card_charge(capture=False)
        assert api.post(f"/charges/{reversed_['id']}/reverse").status_code == 200
        source = api.post(
            "/sources", json={"type": "promptpay", "amount": 50000, "currency": "thb"}
        )
        qr = api.post(
            "/charges", json={"source": source.json()["id"], "amount": 50000, "currency": "thb"}
        ).json()
        assert api.post(f"/charges/{qr['id']}/expire").status_code == 200
        secure = card_charge(return_uri="https://shop.example/done")
        done = httpx.post(
            secure["authorize_uri"], data={"result": "pass"}, headers={"Origin": server.url}
        )
        assert done.status_code == 303

        ids = [captured["id"], reversed_["id"], qr["id"], secure["id"]]
        happened = {
            charge_id: [e["key"] for e in api.get(f"/charges/{charge_id}/events").json()["data"]]
            for charge_id in ids
        }
        total = sum(len(keys) for keys in happened.values())
        wait_until(lambda: len(rx.received) >= total, what=f"{total} deliveries")

    assert happened[captured["id"]] == [
        "charge.create", "charge.capture", "refund.create", "refund.create", "charge.update",
    ]  # fmt: skip
    assert happened[reversed_["id"]] == ["charge.create", "charge.reverse"]
    assert happened[qr["id"]] == ["charge.create", "charge.expire"]
    assert happened[secure["id"]] == ["charge.create", "charge.complete"]
    assert len(rx.received) == total  # each once
    assert all(omise_signed(r, endpoint["secret"]) for r in rx.received)
    arrived: dict[str, list[str]] = {}
    for received in rx.received:
        event = json.loads(received.body)
        arrived.setdefault(charge_of(event), []).append(event["key"])
    assert arrived == happened


def test_one_objects_events_to_one_endpoint_wait_for_each_other() -> None:
    """The worker's batch as queues: in claim order within a queue, one queue per endpoint and
    object; events of nothing in particular each on their own."""

    def job(pk: int, endpoint: int, subject: tuple[str, int] | None) -> Job:
        return cast(Job, SimpleNamespace(delivery_pk=pk, endpoint=SimpleNamespace(pk=endpoint),
                                         subject=subject))  # fmt: skip

    charge_1, charge_2, link_1 = ("charge", 1), ("charge", 2), ("link", 1)
    batch = [
        job(1, 10, charge_1), job(2, 10, charge_2), job(3, 11, charge_1), job(4, 10, charge_1),
        job(5, 10, None), job(6, 10, None), job(7, 10, link_1), job(8, 10, charge_1),
    ]  # fmt: skip
    queues = [[j.delivery_pk for j in queue] for queue in in_turns(batch)]
    assert sorted(queues) == [[1, 4, 8], [2], [3], [5], [6], [7]]
