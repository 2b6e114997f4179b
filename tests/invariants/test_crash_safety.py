"""Crash safety: clients create links and pay them, with Idempotency-Keys and retries, while the
server is killed with SIGKILL ten times and restarted. Afterwards every acknowledged object is
there; each key made exactly one object (links *and* charges, counted in the database against
the keys the clients were answered for); every charge has exactly its two events; the card
network was asked at most once per charge and never for a charge that does not exist; single-use
links have at most one successful charge and `used` agrees; the only refusal a client met is the
second payment of a link it had already paid; and the database passes its integrity checks.

A kill between a card charge's processor call and its record leaves a pending charge; the retry
of its key (after the in-flight window) settles it from what the processor says, and a fresh
process's test processor knows nothing of it, so it ends as failed: no money moved."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from servers import BIN, create_account_keys, free_port

from paylinks.db import normalise_url
from paylinks.models import charges, idempotency_keys
from paylinks.processors.sandbox import read_journal

KILLS = 10
CLIENTS = 3


@dataclass
class Server:
    database_url: str
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def journal(self) -> Path:
        return self.log.with_name("processor.jsonl")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {
            **os.environ,
            "PAYLINKS_RATE_LIMITS": "off",
            "PAYLINKS_MAX_ACTIVE_LINKS": "0",
            "PAYLINKS_TEST_PROCESSOR_JOURNAL": str(self.journal),
        }
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
    refused: list[str] = field(default_factory=list)  # charge keys answered link_not_payable
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
            paid = False
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
                    # Only a second payment of a single-use link this client paid is refused.
                    assert paid and not multiple, f"unexpected refusal: {refused}"
                    assert "already been paid" in str(refused), refused
                    with ledger.lock:
                        ledger.refused.append(charge_key)
                    continue
                paid = paid or charge["status"] == "successful"
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


def check_keys_and_calls(server: Server, ledger: Ledger) -> None:
    """Per key, in the database: each acknowledged key is bound to the object it was answered
    with, the account holds exactly those charges (a retry never made a second one), a refused
    key made none, and the processor was asked at most once per charge, never for another."""
    engine = sa.create_engine(normalise_url(server.database_url))
    try:
        with engine.connect() as conn:
            bound = dict(
                conn.execute(sa.select(idempotency_keys.c.key, idempotency_keys.c.object_id)).all()
            )
            stored = {
                row.id: row.status
                for row in conn.execute(sa.select(charges.c.id, charges.c.status)).all()
            }
    finally:
        engine.dispose()
    for key, link in ledger.links.items():
        assert bound[key] == link["id"]
    for key, charge in ledger.charges.items():
        assert bound[key] == charge["id"]
    assert all(key not in bound for key in ledger.refused)
    assert sorted(stored) == sorted(c["id"] for c in ledger.charges.values())
    assert not [c for c, status in stored.items() if status == "pending"]
    calls = Counter(call.charge_id for call in read_journal(server.journal))
    assert set(calls) <= set(stored), "the processor was asked for a charge that does not exist"
    assert max(calls.values(), default=0) <= 1, "a charge reached the processor twice"
    for charge_id, status in stored.items():
        if status == "successful":
            assert calls[charge_id] == 1  # never successful without the card network


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
