"""The outbox under SIGKILL: links are created and paid while the webhook worker (`paylinks
worker`, beside a `serve` that does not deliver) is killed with SIGKILL again and again and
restarted. Afterwards every event the API lists reached the receiver at least once, every body
received is a listed event, duplicates carry the same `webhook-id` and the same bytes, and every
signature verifies (reliability notes T3.2)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import random
import signal
import subprocess
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from receivers import Receiver, receiver
from servers import BIN, LiveServer, live_server, paylinks

CARD = {"name": "Crash Test", "number": "4242424242424242", "expiration_month": 12,
        "expiration_year": 2035, "security_code": "123"}  # fmt: skip
KILLS = 8


@pytest.fixture(params=["sqlite", "postgres"])
def outbox_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'outbox.db'}"
    else:
        yield request.getfixturevalue("own_postgres_url")


def start_worker(database_url: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(BIN / "paylinks"), "worker", "--database-url", database_url],
            # A short lease, so that a killed worker's claims come back in seconds, not a minute.
            env={
                **os.environ,
                "PAYLINKS_LOG_LEVEL": "warning",
                "PAYLINKS_WEBHOOK_LEASE_SECONDS": "3",
            },
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def shop(server: LiveServer, links: int, done: threading.Event) -> None:
    """Create and pay `links` links (3 events each: link.create, charge.create, .complete)."""
    with (
        httpx.Client(base_url=server.url, auth=(server.secret_key, ""), timeout=30) as api,
        httpx.Client(base_url=server.url, auth=(server.public_key, ""), timeout=30) as vault,
    ):
        for i in range(links):
            body = {"amount": 100000, "currency": "thb", "title": f"Outbox {i}"}
            link = api.post("/links", json=body).json()
            token = vault.post("/tokens", json={"card": CARD}).json()
            charge = api.post("/charges", json={"card": token["id"], "link": link["id"]})
            assert charge.status_code == 200, charge.text
            time.sleep(0.01)
    done.set()


def listed_events(server: LiveServer) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    with httpx.Client(base_url=server.url, auth=(server.secret_key, ""), timeout=30) as api:
        while True:
            page = api.get("/events", params={"limit": 100, "offset": len(found)}).json()
            found += page["data"]
            if len(found) >= page["total"] or not page["data"]:
                return found


def wait_for_all(rx: Receiver, expected: set[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if expected <= {r.headers["webhook-id"] for r in rx.received}:
            return
        time.sleep(0.1)


def test_every_event_is_delivered_through_worker_kills(
    outbox_database: str, tmp_path: Path
) -> None:
    env = {"PAYLINKS_DELIVER_WEBHOOKS": "false"}
    if outbox_database.startswith("postgresql"):
        paylinks("db", "upgrade", "--database-url", outbox_database)
    with live_server(outbox_database, env=env) as server, receiver() as rx:
        listed = paylinks("accounts", "list", "--json", "--database-url", outbox_database)
        account = json.loads(listed)["data"][-1]
        added = json.loads(
            paylinks(
                "webhooks",
                "add",
                "--account",
                account["id"],
                "--url",
                rx.url,
                "--json",
                "--database-url",
                outbox_database,
            )
        )
        log = tmp_path / "worker.log"
        worker = start_worker(outbox_database, log)
        done = threading.Event()
        shopper = threading.Thread(target=shop, args=(server, 40, done), daemon=True)
        shopper.start()
        rng = random.Random(3)
        kills = 0
        try:
            while not done.is_set() or kills < KILLS:
                time.sleep(rng.uniform(0.1, 0.5))
                worker.send_signal(signal.SIGKILL)
                worker.wait()
                kills += 1
                worker = start_worker(outbox_database, log)
            shopper.join(timeout=60)
            events = listed_events(server)
            expected = {str(e["id"]) for e in events}
            # Deliveries a killed worker had leased come back when the lease ends.
            wait_for_all(rx, expected, timeout=60)
        finally:
            worker.terminate()
            worker.wait(timeout=15)
    assert len(events) == 120 and kills >= KILLS
    received: dict[str, list[bytes]] = defaultdict(list)
    for request in rx.received:
        expected_signature = hmac.new(
            added["secret"].encode(), request.body, hashlib.sha256
        ).hexdigest()
        assert request.headers["omise-signature"] == expected_signature
        received[request.headers["webhook-id"]].append(request.body)
    assert set(received) == expected  # every listed event, and nothing else
    for event_id, bodies in received.items():
        assert all(orjson.loads(b)["id"] == event_id for b in bodies)
        assert len(set(bodies)) == 1  # a duplicate is the same event, byte for byte
    duplicates = sum(len(b) - 1 for b in received.values())
    print(f"{kills} kills, {len(rx.received)} deliveries, {duplicates} duplicates")
