"""Crash safety: clients create links and pay them, with Idempotency-Keys and retries, while the
server is killed with SIGKILL ten times and restarted. Afterwards every acknowledged object is
there, each key made exactly one object, every charge has its events, single-use links have at
most one successful charge and `used` agrees, and the database passes its integrity checks."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from servers import BIN, create_account_keys, free_port

from paylinks.db import normalise_url

KILLS = 10
CLIENTS = 3


@dataclass
class Server:
    database_url: str
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, "PAYLINKS_RATE_LIMITS": "off", "PAYLINKS_MAX_ACTIVE_LINKS": "0"}
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [str(BIN / "paylinks"), "serve", "--port", str(self.port),
                 "--database-url", self.database_url],
                env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()[-2000:]
            try:
                httpx.get(f"{self.url}/healthz", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        raise AssertionError("the server did not come back")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()


@dataclass
class Ledger:
    """What the clients were told: every acknowledged link and charge, by idempotency key."""

    links: dict[str, dict[str, Any]] = field(default_factory=dict)
    charges: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def until_acknowledged(
    client: httpx.Client, method: str, path: str, body: dict[str, Any], key: str
) -> dict[str, Any]:
    """Send until the server answers (the same key every time): a dead server, a 409 while the
    first attempt is in flight, or a connection cut mid-answer all mean "again"."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            response = client.request(method, path, json=body, headers={"Idempotency-Key": key})
        except httpx.TransportError:
            time.sleep(0.05)
            continue
        if response.status_code == 409:
            time.sleep(0.5)
            continue
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer
    raise AssertionError(f"{method} {path} was never acknowledged")


def shop(
    server: Server, keys: dict[str, str], ledger: Ledger, name: str, stop: threading.Event
) -> None:
    secret = httpx.BasicAuth(keys["secret_key"], "")
    public = httpx.BasicAuth(keys["public_key"], "")
    rng = random.Random(name)
    n = 0
    with (
        httpx.Client(base_url=server.url, auth=secret, timeout=5) as client,
        httpx.Client(base_url=server.url, auth=public, timeout=5) as vault,
    ):
        while not stop.is_set():
            n += 1
            multiple = rng.random() < 0.3
            body = {
                "amount": 100000,
                "currency": "thb",
                "title": f"{name}-{n}",
                "multiple": multiple,
            }
            made = until_acknowledged(client, "POST", "/links", body, f"{name}-link-{n}")
            with ledger.lock:
                ledger.links[f"{name}-link-{n}"] = made
            for attempt in range(2 if multiple else rng.choice([1, 2])):
                card = {"number": rng.choice(["4242424242424242", "4111111111140011"]),
                        "name": "Crash Test", "expiration_month": 12, "expiration_year": 2035,
                        "security_code": "123"}  # fmt: skip
                token_key = f"{name}-token-{n}-{attempt}"
                token = until_acknowledged(vault, "POST", "/tokens", {"card": card}, token_key)
                charge_key = f"{name}-charge-{n}-{attempt}"
                body = {"card": token["id"], "link": made["id"]}
                try:
                    charge = until_acknowledged(client, "POST", "/charges", body, charge_key)
                except AssertionError as refused:
                    # A second payment of a paid single-use link is refused: that is the point.
                    assert "link_not_payable" in str(refused), refused
                    continue
                with ledger.lock:
                    ledger.charges[charge_key] = charge


@pytest.fixture(params=["sqlite", "postgres"])
def crash_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'crash.db'}"
        return
    # A database of its own: the integrity checks below read whole tables.
    yield request.getfixturevalue("own_postgres_url")


def test_acknowledged_work_survives_sigkill(crash_database: str, tmp_path: Path) -> None:
    database_url = crash_database
    keys = create_account_keys(database_url, name="Crash safety")
    server = Server(database_url, free_port(), tmp_path / "server.log")
    server.start()
    ledger, stop = Ledger(), threading.Event()
    shoppers = [
        threading.Thread(target=shop, args=(server, keys, ledger, f"c{i}", stop), daemon=True)
        for i in range(CLIENTS)
    ]
    for thread in shoppers:
        thread.start()
    rng = random.Random(7)
    try:
        for _ in range(KILLS):
            time.sleep(rng.uniform(0.3, 0.9))
            server.kill()
            server.start()
        time.sleep(0.5)
        stop.set()
        for thread in shoppers:
            thread.join(timeout=120)
            assert not thread.is_alive(), "a client never finished"
        check_everything(server, keys, ledger)
    finally:
        if server.process and server.process.poll() is None:
            server.process.terminate()
            server.process.wait(timeout=15)
    check_integrity(database_url)


def check_everything(server: Server, keys: dict[str, str], ledger: Ledger) -> None:
    api = httpx.Client(base_url=server.url, auth=(keys["secret_key"], ""), timeout=10)
    assert len(ledger.links) >= 10 and ledger.charges, "the clients did too little to judge"
    listed = api.get("/links", params={"limit": 0}).json()["total"]
    assert listed == len(ledger.links)  # one link per key: no duplicates from retries
    for link in ledger.links.values():
        found = api.get(f"/links/{link['id']}").json()
        charges = api.get(f"/links/{link['id']}/charges", params={"limit": 100}).json()["data"]
        successes = [c for c in charges if c["status"] == "successful"]
        if not found["multiple"]:
            assert len(successes) <= 1
            assert found["used"] == (len(successes) == 1)
    for charge in ledger.charges.values():
        assert api.get(f"/charges/{charge['id']}").json()["status"] == charge["status"]
        events = api.get(f"/charges/{charge['id']}/events").json()["data"]
        final = "charge.complete" if charge["status"] == "successful" else "charge.failed"
        assert [e["key"] for e in events] == ["charge.create", final]
    api.close()


def check_integrity(database_url: str) -> None:
    engine = sa.create_engine(normalise_url(database_url))
    try:
        _check_integrity(engine)
    finally:
        engine.dispose()


def _check_integrity(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        else:
            orphans = conn.exec_driver_sql(
                "SELECT count(*) FROM charges c LEFT JOIN events e ON e.charge_pk = c.pk "
                "WHERE e.pk IS NULL"
            ).scalar()
            assert orphans == 0
