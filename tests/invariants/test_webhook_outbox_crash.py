"""The outbox under SIGKILL, and a change rolled back after its outbox rows were written.

1. Links are created and paid through a real `paylinks serve` that does not deliver
   (`PAYLINKS_DELIVER_WEBHOOKS=false`) while a separate `paylinks worker` is killed with SIGKILL
   again and again, each time at a random moment after it started delivering, and restarted.
   The receiver holds each answer for a moment, so that kills land between a post and its
   record. Afterwards: every event `GET /events` lists reached the receiver at least once and
   ends up with a 200 attempt; every body received is a listed event, byte for byte what the
   API shows; duplicates carry one `webhook-id` and identical bytes; every signature verifies.
2. A change that fails after its event and delivery rows were inserted (proved inside the
   transaction) leaves neither behind and is never posted, even when it fails inside a SQLite
   group commit beside changes that succeed.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa
from factories import TestAccount
from receivers import receiver
from servers import LiveServer, WorkerProcess, live_server, paylinks, start_worker

from paylinks.auth import Principal
from paylinks.db import Database
from paylinks.links import service as links_service
from paylinks.links.service import NewLink
from paylinks.models import events, webhook_deliveries, webhook_endpoints
from paylinks.recording import EventRecorder
from paylinks.webhooks import service as webhooks
from paylinks.webhooks.worker import Worker

SEED = 20261124
LINKS = 40  # three events each: link.create, charge.create, charge.complete
MIN_KILLS = 8
KILL_AFTER = (0.1, 0.5)  # seconds after a worker said it was delivering
ANSWER_DELAY = (0.02, 0.2)  # how long the receiver holds each answer
LEASE_SECONDS = 3  # a killed worker's claims come back after this, not after a minute
WORKER_ENV = {
    "PAYLINKS_LOG_LEVEL": "warning",
    "PAYLINKS_WEBHOOK_LEASE_SECONDS": str(LEASE_SECONDS),
}
CARD = {"name": "Crash Test", "number": "4242424242424242", "expiration_month": 12,
        "expiration_year": 2035, "security_code": "123"}  # fmt: skip


def seed_signature(body: bytes, secret: str) -> str:
    """The seed's verifyWebhook, written again: hex HMAC-SHA256 of the raw body."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# -- a receiver that is slow to answer --------------------------------------------------------


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes


@dataclass
class SlowReceiver:
    """Records each POST as soon as its body is read, then holds the answer (200) a moment."""

    url: str = ""
    received: list[Delivery] = field(default_factory=list)
    in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def webhook_ids(self) -> set[str]:
        with self.lock:
            return {d.headers["webhook-id"] for d in self.received}


@contextmanager
def slow_receiver(seed: int) -> Iterator[SlowReceiver]:
    state = SlowReceiver()
    delays = random.Random(seed)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            if len(body) != length:
                return  # the worker was killed mid-request: no delivery (a real receiver agrees)
            with state.lock:
                headers = {k.lower(): v for k, v in self.headers.items()}
                state.received.append(Delivery(headers, body))
                state.in_flight += 1
                delay = delays.uniform(*ANSWER_DELAY)
            try:
                time.sleep(delay)
                self.send_response(200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:
                pass  # the worker was killed while waiting for us
            finally:
                with state.lock:
                    state.in_flight -= 1

        def log_message(self, *_args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 256  # a worker posts a batch of 32 at once
        daemon_threads = True

    server = Server(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/omise"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


# -- the customers ----------------------------------------------------------------------------


class Shopper:
    """Creates and pays links one after another, at a pace that spreads them over the kills."""

    def __init__(self, server: LiveServer, links: int) -> None:
        self.server = server
        self.links = links
        self.paid = 0
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.stop = threading.Event()  # the test ended early: stop shopping

    def run(self) -> None:
        server = self.server
        try:
            with (
                httpx.Client(base_url=server.url, auth=(server.secret_key, ""), timeout=30) as api,
                httpx.Client(base_url=server.url, auth=(server.public_key, ""), timeout=30) as pk,
            ):
                for i in range(self.links):
                    if self.stop.is_set():
                        return
                    body = {"amount": 100000, "currency": "thb", "title": f"Outbox {i}"}
                    made = api.post("/links", json=body)
                    assert made.status_code == 200, made.text
                    token = pk.post("/tokens", json={"card": CARD})
                    assert token.status_code == 200, token.text
                    charge = api.post(
                        "/charges", json={"card": token.json()["id"], "link": made.json()["id"]}
                    )
                    assert charge.status_code == 200, charge.text
                    assert charge.json()["status"] == "successful", charge.text
                    self.paid += 1
                    time.sleep(0.15)
        except BaseException as exc:
            self.error = exc
        finally:
            self.done.set()


# -- helpers ----------------------------------------------------------------------------------


def listed_events(server: LiveServer) -> list[dict[str, Any]]:
    """Every event of the account, paging through `GET /events` (100 at a time)."""
    found: list[dict[str, Any]] = []
    with httpx.Client(base_url=server.url, auth=(server.secret_key, ""), timeout=30) as api:
        while True:
            response = api.get("/events", params={"limit": 100, "offset": len(found)})
            assert response.status_code == 200, response.text
            page = response.json()
            found += page["data"]
            if not page["data"] or len(found) >= page["total"]:
                assert len(found) == page["total"]
                return found


def wait_for(what: str, done: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def all_marked_delivered(server: LiveServer) -> bool:
    """Whether every listed event has an attempt that was answered 200 (and recorded)."""
    return all(
        any(a["status"] == 200 for a in event["webhook_deliveries"])
        for event in listed_events(server)
    )


@pytest.fixture(params=["sqlite", "postgres"])
def outbox_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database of the test's own: a fresh SQLite file (serve migrates it), or this module's
    PostgreSQL database, upgraded as an operator would (serve does not migrate PostgreSQL)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'outbox.db'}"
    url: str = request.getfixturevalue("own_postgres_url")
    paylinks("db", "upgrade", "--database-url", url)
    return url


def test_every_event_is_delivered_through_worker_kills(
    outbox_database: str, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    serve_env = {"PAYLINKS_DELIVER_WEBHOOKS": "false"}
    incarnations: list[WorkerProcess] = []

    def spawn() -> WorkerProcess:
        log = tmp_path / f"worker-{len(incarnations)}.log"
        incarnations.append(start_worker(outbox_database, log=log, env=WORKER_ENV))
        return incarnations[-1]

    with live_server(outbox_database, env=serve_env) as server, slow_receiver(SEED) as rx:
        add = ["webhooks", "add", "--account", server.account_id, "--mode", "test"]
        add += ["--url", rx.url, "--json", "--database-url", outbox_database]
        added = json.loads(paylinks(*add))
        shopper = Shopper(server, LINKS)
        customers = threading.Thread(target=shopper.run, daemon=True)
        kills = kills_in_flight = before_drain = 0
        try:
            worker = spawn()
            customers.start()
            deadline = time.monotonic() + 60
            while not shopper.done.is_set() or kills < MIN_KILLS:
                assert time.monotonic() < deadline, f"{kills} kills, {shopper.paid} paid"
                if shopper.error is not None:
                    raise shopper.error
                worker.wait_ready(timeout=30)
                time.sleep(rng.uniform(*KILL_AFTER))
                kills_in_flight += rx.in_flight > 0
                worker.kill()
                kills += 1
                before_drain = len(rx.received)  # posts made by the workers killed so far
                worker = spawn()
            customers.join(timeout=30)
            assert not customers.is_alive(), "the customers never finished"
            if shopper.error is not None:
                raise shopper.error
            # The last worker drains; what a killed one had leased comes back after the lease.
            worker.wait_ready(timeout=30)
            listed = listed_events(server)
            expected = {str(e["id"]) for e in listed}
            wait_for("every listed event at the receiver", lambda: expected <= rx.webhook_ids(), 30)
            wait_for("every event marked delivered", lambda: all_marked_delivered(server), 30)
        finally:
            shopper.stop.set()
            for incarnation in incarnations:
                incarnation.stop()
    keys = Counter(str(e["key"]) for e in listed)
    assert keys == {"link.create": LINKS, "charge.create": LINKS, "charge.complete": LINKS}
    assert len(expected) == len(listed)  # no event listed twice
    assert kills >= MIN_KILLS
    assert before_drain > 0, "the workers that were killed delivered nothing: nothing was tested"
    # A delivery's body is the event as `GET /events/:id` shows it, without the attempts.
    as_listed = {e["id"]: {k: v for k, v in e.items() if k != "webhook_deliveries"} for e in listed}
    received: dict[str, list[bytes]] = defaultdict(list)
    for delivery in rx.received:
        assert hmac.compare_digest(
            delivery.headers["omise-signature"], seed_signature(delivery.body, added["secret"])
        )
        event = orjson.loads(delivery.body)
        assert delivery.headers["webhook-id"] == event["id"]
        assert event == as_listed.get(event["id"])  # a listed event, exactly as the API shows it
        received[event["id"]].append(delivery.body)
    assert set(received) == expected  # every listed event, and nothing else
    for bodies in received.values():
        assert len(set(bodies)) == 1  # a duplicate is the same event, byte for byte
    duplicates = sum(len(b) - 1 for b in received.values())
    # A kill while the receiver held an answer left a post that was never recorded: it must
    # have been sent again. Most kills land so (the answers are slow); none would mean the
    # crash window was never hit.
    assert kills_in_flight >= 1 and duplicates >= 1, (kills_in_flight, duplicates)
    print(
        f"\n{kills} kills ({kills_in_flight} with a post in flight), {len(rx.received)} posts "
        f"for {len(expected)} events ({before_drain} before the final drain), "
        f"{duplicates} duplicates"
    )


# -- a rolled-back change ---------------------------------------------------------------------


def _principal(account: TestAccount) -> Principal:
    return Principal(account.pk, account.id, False, "secret", "")


class Doomed(RuntimeError):
    pass


def _outbox_of_link(conn: sa.Connection, link_pk: int) -> tuple[int, int]:
    """How many events, and how many delivery rows, the link has in this transaction."""
    event_rows = conn.execute(
        sa.select(sa.func.count()).select_from(events).where(events.c.link_pk == link_pk)
    ).scalar_one()
    delivery_rows = conn.execute(
        sa.select(sa.func.count())
        .select_from(webhook_deliveries.join(events, events.c.pk == webhook_deliveries.c.event_pk))
        .where(events.c.link_pk == link_pk)
    ).scalar_one()
    return int(event_rows), int(delivery_rows)


@pytest.mark.usefixtures("empty_outbox")
def test_a_change_failing_after_its_outbox_rows_were_written_is_never_delivered(
    db: Database, account: TestAccount
) -> None:
    principal = _principal(account)
    recorder = EventRecorder(public_url="http://paylinks.test")
    written: list[tuple[int, int]] = []

    def create(conn: sa.Connection, *, title: str, fail: bool) -> str:
        made = links_service.create_link(
            conn,
            principal=principal,
            new=NewLink(100000, "thb", title, None, False, {}, None, None),
            now=datetime.now(UTC),
            max_active=0,
            record=recorder,
        )
        if fail:
            written.append(_outbox_of_link(conn, made.pk))
            raise Doomed(made.id)
        return made.id

    async def changes() -> list[Any]:
        # Together, so that on SQLite the failure happens inside a group commit (a savepoint
        # among the others'); run alone too, as a transaction of its own.
        together = await asyncio.gather(
            *(db.write(create, title=f"Change {i}", fail=i == 3) for i in range(7)),
            return_exceptions=True,
        )
        alone = await asyncio.gather(
            db.write(create, title="Alone", fail=True), return_exceptions=True
        )
        return [*together, *alone]

    async def drain() -> int:
        worker = Worker(db)
        sent = 0
        try:
            for _ in range(10):
                round_sent = await worker.run_once()
                sent += round_sent
                if not round_sent:
                    break
        finally:
            await worker.close()
        return sent

    with receiver() as rx:
        with db.transaction() as conn:
            webhooks.create_endpoint(
                conn, principal=principal, url=rx.url, keys=None, scheme="seed",
                now=datetime.now(UTC),
                limit=0,
            )  # fmt: skip
        results = asyncio.run(changes())
        doomed = [str(r) for r in results if isinstance(r, Doomed)]
        kept = {r for r in results if isinstance(r, str)}
        assert len(doomed) == 2 and len(kept) == 6, results
        # Inside each failing transaction its event and its delivery row had been written.
        assert written == [(1, 1), (1, 1)]
        assert asyncio.run(drain()) == 6
        posted = {orjson.loads(r.body)["data"]["id"] for r in rx.received}
    assert posted == kept
    with db.snapshot() as conn:
        stored = conn.execute(
            sa.select(events.c.data).where(events.c.account_pk == account.pk)
        ).scalars()
        assert {orjson.loads(data)["id"] for data in stored} == kept
        rows = conn.execute(
            sa.select(sa.func.count())
            .select_from(webhook_deliveries)
            .join(webhook_endpoints, webhook_endpoints.c.pk == webhook_deliveries.c.endpoint_pk)
            .where(webhook_endpoints.c.account_pk == account.pk)
        ).scalar_one()
    assert rows == len(kept)
