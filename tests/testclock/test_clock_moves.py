"""The test clock, against a real `paylinks serve` (its webhook worker and sweeper included) on
SQLite and on PostgreSQL: moving an account's clock forward makes a link expire, a PromptPay
charge expire, an authorization lapse (its link payable again), a failing webhook endpoint be
retried and then disabled after five days — each in seconds, without sleeping. Other accounts
and live mode keep real time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from factories import card, wait_until
from receivers import receiver
from servers import LiveServer, backend_url, create_account, live_server, paylinks

DAY = 86400


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    database_url = backend_url(request, tmp_path_factory.mktemp("clock"))
    with live_server(database_url) as live:
        yield live


class Shop:
    """A new account of the server, through its API: each test moves its own clock."""

    def __init__(self, server: LiveServer) -> None:
        account = create_account(server.database_url, "Clock shop")
        self.keys = account.keys
        self.api = httpx.Client(
            base_url=server.url, auth=(account.test["secret_key"], ""), timeout=10
        )
        self.public = account.test["public_key"]

    def __enter__(self) -> Shop:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.api.close()

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.api.request(method, path, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()

    def advance(self, seconds: int) -> Any:
        return self.ok("POST", "/test_clock/advance", json={"seconds": seconds})

    def token(self) -> str:
        answer = self.api.post("/tokens", auth=(self.public, ""), json={"card": card()})
        token_id: str = answer.json()["id"]
        return token_id

    def keys_of(self, charge_id: str) -> list[str]:
        return [e["key"] for e in self.ok("GET", f"/charges/{charge_id}/events")["data"]]


@pytest.fixture
def shop(server: LiveServer) -> Iterator[Shop]:
    with Shop(server) as made:
        yield made


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_the_clock_moves_forward_and_back(shop: Shop, server: LiveServer) -> None:
    start = shop.ok("GET", "/test_clock")
    assert start["offset"] == 0
    assert abs(when(start["now"]) - datetime.now(UTC)) < timedelta(minutes=1)
    moved = shop.advance(3 * DAY)
    assert moved["offset"] == 3 * DAY
    # The next request already lives at the account's time (this process forgot its key cache).
    made = shop.ok("POST", "/links", json={"amount": 5000, "currency": "thb", "title": "Later"})
    assert when(made["created_at"]) - datetime.now(UTC) > timedelta(days=3) - timedelta(minutes=1)
    assert shop.ok("POST", "/test_clock/reset")["offset"] == 0
    with Shop(server) as other:
        assert other.ok("GET", "/test_clock")["offset"] == 0  # another account keeps real time
    live = httpx.get(f"{server.url}/test_clock", auth=(shop.keys["live"]["secret_key"], ""))
    assert live.status_code == 404 and live.json()["code"] == "not_found"


def test_a_link_expires(shop: Shop, server: LiveServer) -> None:
    expires = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    link = shop.ok(
        "POST", "/links",
        json={"amount": 5000, "currency": "thb", "title": "Soon", "expires_at": expires},
    )  # fmt: skip
    assert link["active"] is True
    shop.advance(2 * DAY + 60)
    assert shop.ok("GET", f"/links/{link['id']}")["active"] is False
    refused = shop.api.post("/charges", json={"card": shop.token(), "link": link["id"]})
    assert refused.status_code == 400, refused.text
    page = httpx.get(link["payment_uri"])
    assert page.status_code == 410 and "expired" in page.text


def test_a_promptpay_charge_expires_but_not_another_accounts(
    shop: Shop, server: LiveServer, request: pytest.FixtureRequest
) -> None:
    def promptpay(owner: Shop) -> Any:
        body = {"type": "promptpay", "amount": 5000, "currency": "thb"}
        source = owner.ok("POST", "/sources", json=body)
        return owner.ok(
            "POST", "/charges", json={"source": source["id"], "amount": 5000, "currency": "thb"}
        )

    neighbour = Shop(server)
    request.addfinalizer(neighbour.api.close)
    mine, theirs = promptpay(shop), promptpay(neighbour)
    assert mine["status"] == "pending"
    assert when(mine["expires_at"]) - when(mine["created_at"]) == timedelta(days=1)
    shop.advance(DAY - 60)
    assert shop.ok("GET", f"/charges/{mine['id']}")["status"] == "pending"
    shop.advance(120)
    expired = shop.ok("GET", f"/charges/{mine['id']}")
    assert (expired["status"], expired["expired"]) == ("expired", True)
    assert shop.keys_of(mine["id"]) == ["charge.create", "charge.expire"]
    assert neighbour.ok("GET", f"/charges/{theirs['id']}")["status"] == "pending"


def test_an_authorization_lapses_and_frees_its_link(shop: Shop) -> None:
    link = shop.ok("POST", "/links", json={"amount": 5000, "currency": "thb", "title": "Hold"})
    held = shop.ok(
        "POST", "/charges", json={"card": shop.token(), "link": link["id"], "capture": False}
    )
    assert (held["status"], held["authorized"]) == ("pending", True)
    assert shop.ok("GET", f"/links/{link['id']}")["used"] is True
    shop.advance(7 * DAY + 60)
    lapsed = shop.ok("GET", f"/charges/{held['id']}")
    assert (lapsed["status"], lapsed["expired"]) == ("expired", True)
    assert shop.ok("GET", f"/links/{link['id']}")["used"] is False
    refused = shop.api.post(f"/charges/{held['id']}/capture")
    assert refused.status_code == 400
    paid = shop.ok("POST", "/charges", json={"card": shop.token(), "link": link["id"]})
    assert paid["status"] == "successful"


def test_a_failing_endpoint_is_retried_then_disabled(shop: Shop) -> None:
    with receiver() as rx:
        rx.script = [500] * 10
        endpoint = shop.ok(
            "POST", "/webhook_endpoints", json={"url": rx.url, "events": ["link.create"]}
        )
        shop.ok("POST", "/links", json={"amount": 5000, "currency": "thb", "title": "Hooked"})
        event = shop.ok("GET", "/events", params={"limit": 1})["data"][0]
        assert event["key"] == "link.create"

        def recorded(count: int) -> None:
            """Recorded, not only received: the next try is scheduled when one is recorded."""
            wait_until(
                lambda: (
                    len(shop.ok("GET", f"/events/{event['id']}")["webhook_deliveries"]) == count
                ),
                what=f"attempt {count} recorded",
            )

        recorded(1)
        path = f"/webhook_endpoints/{endpoint['id']}"
        assert shop.ok("GET", path)["failing_since"] is not None
        shop.advance(70)  # past the first retry's 60 s (±10 %)
        recorded(2)
        assert shop.ok("GET", path)["enabled"] is True
        shop.advance(5 * DAY)
        wait_until(lambda: not shop.ok("GET", path)["enabled"], what="the endpoint disabled")
        assert len(rx.received) == 3
        assert rx.received[0].body == rx.received[2].body  # the same delivery, a third time
    gone = shop.ok("GET", path)
    assert gone["disabled_reason"] == "every delivery failed for 5 days"
    keys = [e["key"] for e in shop.ok("GET", "/events")["data"]]
    assert "webhook_endpoint.disable" in keys


def test_the_cli_moves_the_clock(shop: Shop, server: LiveServer) -> None:
    key = ["--api-url", server.url, "--secret-key", shop.keys["test"]["secret_key"]]
    moved = json.loads(paylinks("clock", "advance", "1d12h", "--json", *key))
    assert moved["offset"] == DAY + 12 * 3600
    shown = json.loads(paylinks("clock", "show", "--json", *key))
    assert shown["offset"] == moved["offset"]
    assert json.loads(paylinks("clock", "reset", "--json", *key))["offset"] == 0
