"""Money after the payment under races, against a real server with two processes on SQLite and
on PostgreSQL: clients released together by a barrier, each on its own connection.

- 50 concurrent refunds of one charge never refund more than it captured: every refund the
  server accepted is stored, their sum is the charge's `refunded_amount`, never above its
  amount, and each was sent to the processor exactly once; the others are `failed_refund`.
- 20 concurrent captures of one authorization: exactly one succeeds, one `charge.capture` is
  recorded and the processor captures once; the other 19 are `failed_capture`.

Honestly: SQLite serialises writers (`BEGIN IMMEDIATE`), so its runs cannot catch a
check-then-act bug; they prove the answers and sums there. PostgreSQL runs the writers
concurrently and is the run that fails when the refund's limit is checked outside its UPDATE
(planted and seen: 50 of 50 refunds accepted).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from servers import LiveServer, backend_url, live_server

REFUNDERS = 50
CAPTURERS = 20
CHARGE = 100000
REFUND = 7000  # 14 of them fit in the charge (98,000); 36 must be refused


@pytest.fixture(params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    database_url = backend_url(request, tmp_path)
    with live_server(database_url, workers=2) as live:
        yield live


def all_at_once(count: int, call: Callable[[httpx.Client], httpx.Response]) -> list[Any]:
    """Run `call` in `count` threads released together; (status, body) of each."""
    barrier = threading.Barrier(count)
    answers: list[Any] = [None] * count

    def one(index: int) -> None:
        with httpx.Client(timeout=60) as client:
            barrier.wait(timeout=60)
            response = call(client)
            answers[index] = (response.status_code, response.json())

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(answer is not None for answer in answers), "a client did not finish"
    return answers


def make_charge(server: LiveServer, **fields: Any) -> dict[str, Any]:
    with httpx.Client(base_url=server.url, timeout=30) as api:
        card = {"number": "4242424242424242", "name": "Race", "expiration_month": 12,
                "expiration_year": 2035, "security_code": "123"}  # fmt: skip
        token = api.post("/tokens", auth=(server.public_key, ""), json={"card": card}).json()
        body = {"card": token["id"], "amount": CHARGE, "currency": "thb", **fields}
        charge: dict[str, Any] = api.post(
            "/charges", auth=(server.secret_key, ""), json=body
        ).json()
    return charge


def read(server: LiveServer, path: str) -> dict[str, Any]:
    found: dict[str, Any] = httpx.get(
        server.url + path, auth=(server.secret_key, ""), params={"limit": 100}, timeout=30
    ).json()
    return found


def test_concurrent_refunds_never_exceed_the_charge(server: LiveServer) -> None:
    charge = make_charge(server)
    assert charge["status"] == "successful"
    url = f"{server.url}/charges/{charge['id']}/refunds"
    answers = all_at_once(
        REFUNDERS,
        lambda c: c.post(url, auth=(server.secret_key, ""), json={"amount": REFUND}),
    )
    made = [body for status, body in answers if status == 200]
    refused = [body for status, body in answers if status != 200]
    assert {(s, b["code"]) for s, b in answers if s != 200} <= {(400, "failed_refund")}, refused
    assert len(made) == CHARGE // REFUND and len(refused) == REFUNDERS - CHARGE // REFUND
    after = read(server, f"/charges/{charge['id']}")
    assert after["refunded_amount"] == sum(r["amount"] for r in made) <= CHARGE
    stored = read(server, f"/charges/{charge['id']}/refunds")
    assert sorted(r["id"] for r in stored["data"]) == sorted(r["id"] for r in made)
    sent = server.processor_calls("refund")
    assert sorted(c.reference or "" for c in sent) == sorted(r["id"] for r in made)
    events = read(server, f"/charges/{charge['id']}/events")["data"]
    assert sorted(e["data"]["id"] for e in events if e["key"] == "refund.create") == sorted(
        r["id"] for r in made
    )


def test_concurrent_captures_capture_once(server: LiveServer) -> None:
    charge = make_charge(server, capture=False)
    assert charge["capturable"] is True
    url = f"{server.url}/charges/{charge['id']}/capture"
    answers = all_at_once(CAPTURERS, lambda c: c.post(url, auth=(server.secret_key, "")))
    won = [body for status, body in answers if status == 200]
    lost = {(status, body["code"]) for status, body in answers if status != 200}
    assert len(won) == 1 and won[0]["status"] == "successful"
    assert lost == {(400, "failed_capture")}
    events = read(server, f"/charges/{charge['id']}/events")["data"]
    assert [e["key"] for e in events] == ["charge.create", "charge.capture"]
    assert [c.charge_id for c in server.processor_calls("capture")] == [charge["id"]]
