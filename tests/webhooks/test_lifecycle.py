"""An endpoint's life: disabling cancels what is pending, five days of failures disable it (and
say so in an event) while a flapping one survives, redelivery sends the same `webhook-id` again
without touching other endpoints, redirects and slow receivers fail, and live deliveries go to
the address that was checked (DNS pinning). Time is a FrozenClock; receivers are on 127.0.0.1."""

from __future__ import annotations

import asyncio
import http.server
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from factories import TestAccount, add_endpoint, auth, deliveries, drain, link, queue_one_event
from receivers import Receiver, mock_post, receiver
from starlette.testclient import TestClient

from paylinks.auth import Principal
from paylinks.clock import FrozenClock
from paylinks.db import Database
from paylinks.models import webhook_attempts, webhook_deliveries, webhook_endpoints
from paylinks.webhooks import service as endpoints
from paylinks.webhooks.commands import webhooks_group
from paylinks.webhooks.transport import TIMEOUT_SECONDS, AiohttpPost
from paylinks.webhooks.worker import Worker

DAY = 86400


pytestmark = pytest.mark.usefixtures("empty_outbox")


def endpoint_api(client: TestClient, account: TestAccount, url: str, **fields: Any) -> Any:
    response = client.post(
        "/webhook_endpoints", auth=auth(account.test.secret_key), json={"url": url, **fields}
    )
    assert response.status_code == 200, response.text
    return response.json()


def patch_endpoint(
    client: TestClient, account: TestAccount, endpoint_id: str, **fields: Any
) -> Any:
    response = client.patch(
        f"/webhook_endpoints/{endpoint_id}", auth=auth(account.test.secret_key), json=fields
    )
    assert response.status_code == 200, response.text
    return response.json()


def events_of(client: TestClient, account: TestAccount, key: str) -> list[Any]:
    listing = client.get("/events", auth=auth(account.test.secret_key), params={"limit": 100})
    return [e for e in listing.json()["data"] if e["key"] == key]


def keys_received(rx: Receiver) -> list[str]:
    return [orjson.loads(r.body)["key"] for r in rx.received]


def test_disabling_cancels_pending_deliveries_and_redelivery_resends(
    make_client: Any, account: TestAccount, db: Database
) -> None:
    clock = FrozenClock(datetime(2026, 6, 1, 12, 0, tzinfo=UTC))
    client = make_client(clock=clock)
    with receiver() as rx:
        endpoint = endpoint_api(client, account, rx.url, events=["link.create"])
        rx.script = [500]
        made = link(client, account)
        assert drain(db, clock, rounds=1) == 1  # the 500: a retry is now pending
        assert [d.status for d in deliveries(db, account)] == ["pending"]
        patch_endpoint(client, account, endpoint["id"], enabled=False)
        assert [d.status for d in deliveries(db, account)] == ["cancelled"]
        patch_endpoint(client, account, endpoint["id"], enabled=True)
        clock.advance(DAY)
        assert drain(db, clock) == 0  # a cancelled delivery stays cancelled
        (event,) = events_of(client, account, "link.create")
        assert event["data"]["id"] == made["id"]
        again = client.post(f"/events/{event['id']}/redeliver", auth=auth(account.test.secret_key))
        assert again.status_code == 200
        assert drain(db, clock, rounds=1) == 1
    first, second = rx.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == event["id"]
    assert first.body == second.body
    shown = client.get(f"/events/{event['id']}", auth=auth(account.test.secret_key)).json()
    assert [d["status"] for d in shown["webhook_deliveries"]] == [500, 200]
    assert len({d["id"] for d in shown["webhook_deliveries"]}) == 2  # a new delivery


def test_redelivery_to_one_endpoint_leaves_the_others_alone(
    client: TestClient, account: TestAccount, db: Database
) -> None:
    with receiver() as one, receiver() as other:
        first = endpoint_api(client, account, one.url)
        endpoint_api(client, account, other.url)
        link(client, account)
        drain(db)
        before = [(d.pk, d.status, d.attempts) for d in deliveries(db, account)]
        (event,) = events_of(client, account, "link.create")
        response = client.post(
            f"/events/{event['id']}/redeliver",
            auth=auth(account.test.secret_key),
            data={"endpoint": first["id"]},
        )
        assert response.status_code == 200
        drain(db)
        after = [(d.pk, d.status, d.attempts) for d in deliveries(db, account)]
    assert len(one.received) == 2 and len(other.received) == 1
    assert after[: len(before)] == before  # earlier deliveries untouched
    assert len(after) == len(before) + 1


def test_five_days_of_failures_disable_an_endpoint_but_a_flapping_one_survives(
    make_client: Any, account: TestAccount, db: Database
) -> None:
    clock = FrozenClock(datetime(2026, 6, 1, 12, 0, tzinfo=UTC))
    client = make_client(clock=clock)
    with receiver() as dead, receiver() as flapping:
        doomed = endpoint_api(client, account, dead.url)
        survivor = endpoint_api(client, account, flapping.url)
        dead.script = [500] * 1000
        flapping.script = [500] * 1000
        for _day in range(7):
            flapping.script.insert(0, 200)  # one success a day
            link(client, account)
            drain(db, clock)
            clock.advance(DAY)
        drain(db, clock)
        found = client.get("/webhook_endpoints", auth=auth(account.test.secret_key)).json()
        heard = len(dead.received)
        link(client, account)
        clock.advance(DAY)
        drain(db, clock)
        assert len(dead.received) == heard  # nothing more once disabled
    state = {e["id"]: e for e in found["data"]}
    assert not state[doomed["id"]]["enabled"]
    assert "5 days" in state[doomed["id"]]["disabled_reason"]
    assert state[survivor["id"]]["enabled"]
    (disabled,) = events_of(client, account, "webhook_endpoint.disable")
    assert disabled["data"]["id"] == doomed["id"] and not disabled["data"]["enabled"]
    assert "secret" not in disabled["data"]
    assert "webhook_endpoint.disable" in keys_received(flapping)  # the owner hears of it
    assert all(d.status != "pending" for d in deliveries(db, account) if d.attempts and
               d.endpoint_pk == doomed_pk(db, doomed["id"]))  # fmt: skip


def doomed_pk(db: Database, endpoint_id: str) -> int:
    with db.snapshot() as conn:
        pk = conn.execute(
            sa.select(webhook_endpoints.c.pk).where(webhook_endpoints.c.id == endpoint_id)
        ).scalar_one()
    return int(pk)


def test_redirects_are_failures_and_not_followed(
    client: TestClient, account: TestAccount, db: Database
) -> None:
    with receiver() as target, receiver() as redirecting:
        add_endpoint(db, account, redirecting.url, keys=["link.create"])
        redirecting.script = [(302, {"Location": target.url})]
        link(client, account)
        drain(db, rounds=1)
    assert target.received == []
    (row,) = deliveries(db, account)
    assert row.status == "pending" and row.last_status == 302


@contextmanager
def slow_receiver(seconds: float) -> Iterator[str]:
    """Answers 200, but only after `seconds`."""

    class Slow(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", "0")))
            time.sleep(seconds)
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/slow"
    finally:
        server.shutdown()
        server.server_close()


def test_a_slow_receiver_times_out(client: TestClient, account: TestAccount, db: Database) -> None:
    """A receiver that answers after the client's timeout is a failed attempt, retried later."""
    assert TIMEOUT_SECONDS == 10.0  # the documented limit: a 2xx within 10 s
    with slow_receiver(3.0) as slow_url, receiver() as quick:
        add_endpoint(db, account, slow_url, keys=["link.create"])
        add_endpoint(db, account, quick.url, keys=["link.create"])
        link(client, account)

        async def one_round() -> None:
            post = AiohttpPost(timeout=0.5)
            worker = Worker(db, post=post)
            try:
                await worker.run_once()
            finally:
                await worker.close()
                await post.close()

        asyncio.run(one_round())
    assert len(quick.received) == 1
    statuses = sorted((d.status, d.last_status) for d in deliveries(db, account))
    assert statuses == [("delivered", 200), ("pending", None)]
    assert any(e and "Timeout" in e for e in attempt_errors(db, account))


@contextmanager
def rendezvous_receivers(count: int, wait: float = 5.0) -> Iterator[tuple[list[str], list[bool]]]:
    """`count` receivers that each hold their request until all of them have one (or `wait`
    runs out): a worker that posts to every endpoint at once meets every rendezvous; one that
    sends in turn leaves the first receiver waiting alone until its wait runs out. Each answer
    records whether its rendezvous happened."""
    everyone = threading.Barrier(count, timeout=wait)
    met: list[bool] = []

    class Meeting(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", "0")))
            try:
                everyone.wait()
                met.append(True)
            except threading.BrokenBarrierError:
                met.append(False)
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    servers = [http.server.ThreadingHTTPServer(("127.0.0.1", 0), Meeting) for _ in range(count)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield [f"http://127.0.0.1:{s.server_address[1]}/meet" for s in servers], met
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def test_deliveries_to_different_endpoints_are_sent_concurrently(
    client: TestClient, account: TestAccount, db: Database
) -> None:
    """Decided by a rendezvous, not by a stopwatch: each receiver waits for the others, and the
    worker's own timeout (30 s here) outlasts the receivers' wait, so sending in turn would be
    seen as a rendezvous that never happened."""
    with rendezvous_receivers(3) as (urls, met):
        for url in urls:
            add_endpoint(db, account, url, keys=["link.create"])
        link(client, account)

        async def one_round() -> int:
            post = AiohttpPost(timeout=30)
            worker = Worker(db, post=post)
            try:
                return await worker.run_once()
            finally:
                await worker.close()
                await post.close()

        assert asyncio.run(one_round()) == 3
    assert met == [True, True, True]
    assert [d.status for d in deliveries(db, account)] == ["delivered"] * 3


def attempt_errors(db: Database, account: TestAccount) -> list[str | None]:
    with db.snapshot() as conn:
        return list(
            conn.execute(
                sa.select(webhook_attempts.c.error)
                .join(webhook_deliveries, webhook_deliveries.c.pk == webhook_attempts.c.delivery_pk)
                .join(webhook_endpoints, webhook_endpoints.c.pk == webhook_deliveries.c.endpoint_pk)
                .where(webhook_endpoints.c.account_pk == account.pk)
            ).scalars()
        )


def live_endpoint(db: Database, account: TestAccount, url: str) -> None:
    """A live endpoint (made directly: the API would resolve its name) with one event queued."""
    live = Principal(account.pk, account.id, True, "secret", "")
    with db.transaction() as conn:
        endpoints.create_endpoint(
            conn, principal=live, url=url, keys=None, scheme="seed", now=datetime.now(UTC), limit=0
        )
    queue_one_event(db, live)


def send_live_round(db: Database, answers: dict[str, list[str]]) -> list[httpx.Request]:
    """One worker round with a stub resolver and a transport that records, never connects."""
    sent: list[httpx.Request] = []

    def transport(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200)

    calls = {name: iter(found) for name, found in answers.items()}

    def resolver(host: str, _port: int) -> list[str]:
        return [next(calls[host])]

    async def go() -> None:
        worker = Worker(db, post=mock_post(transport), resolver=resolver)
        try:
            await worker.run_once()
        finally:
            await worker.close()

    asyncio.run(go())
    return sent


def test_live_deliveries_are_pinned_to_the_checked_address(
    account: TestAccount, db: Database
) -> None:
    live_endpoint(db, account, "https://hooks.example.com:8443/omise")
    (request,) = send_live_round(db, {"hooks.example.com": ["93.184.216.34"]})
    assert request.url.host == "93.184.216.34" and request.url.port == 8443
    assert request.headers["host"] == "hooks.example.com:8443"
    assert request.extensions["sni_hostname"] == "hooks.example.com"


def test_a_name_rebound_to_a_private_address_is_not_called(
    account: TestAccount, db: Database
) -> None:
    live_endpoint(db, account, "https://rebind.example.com/omise")
    assert send_live_round(db, {"rebind.example.com": ["10.0.0.7"]}) == []
    (error,) = attempt_errors(db, account)
    assert error.startswith("unsafe address")


@pytest.mark.parametrize("scope", ["all", "one"])
def test_the_cli_redelivers_a_time_range(
    client: TestClient, account: TestAccount, db: Database, scope: str
) -> None:
    with receiver() as rx, receiver() as other:
        first = endpoint_api(client, account, rx.url, events=["link.create"])
        endpoint_api(client, account, other.url, events=["link.create"])
        made = [link(client, account)["id"] for _ in range(3)]
        drain(db)
        args = ["redeliver", "--account", account.id, "--database-url", db.url,
                "--from", "2000-01-01", "--to", "2100-01-01"]  # fmt: skip
        if scope == "one":
            args += ["--endpoint", first["id"]]
        result = CliRunner().invoke(webhooks_group, args)
        assert result.exit_code == 0, result.output
        queued = 3 if scope == "one" else 6
        assert f"{queued} deliveries queued" in result.output
        drain(db)
    ids = [orjson.loads(r.body)["data"]["id"] for r in rx.received]
    assert sorted(ids) == sorted(made * 2)
    assert len(other.received) == (3 if scope == "one" else 6)
