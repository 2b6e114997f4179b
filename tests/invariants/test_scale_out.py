"""Scale-out on PostgreSQL + Redis: two API processes (`serve --workers 2`) and two webhook
workers (`paylinks worker`) share one database and one rate-limit store. A single-use link is
paid exactly once however the attempts spread over the processes; the per-key limit holds at
exactly 60 a minute across them; and every webhook is delivered, none twice."""

from __future__ import annotations

import concurrent.futures
import json
import os
import subprocess
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import orjson
import pytest
import sqlalchemy as sa
from receivers import Receiver, receiver
from servers import BIN, LiveServer, live_server, paylinks

from paylinks.db import normalise_url
from paylinks.models import webhook_attempts

CARD = {"name": "Scale Out", "expiration_month": 12, "expiration_year": 2035,
        "security_code": "123", "number": "4242424242424242"}  # fmt: skip


def new_account(database_url: str) -> dict[str, str]:
    made = json.loads(
        paylinks("accounts", "create", "--name", "Scale", "--json", "--database-url", database_url)
    )
    return {"id": made["id"], **made["keys"]["test"]}


@pytest.fixture(scope="module")
def cluster(own_postgres_url: str, redis_url: str) -> Iterator[LiveServer]:
    """Two API processes on PostgreSQL, limits in Redis, no in-process webhook delivery."""
    env = {
        "PAYLINKS_REDIS_URL": redis_url,
        "PAYLINKS_RATE_LIMITS": "60/minute",
        "PAYLINKS_DELIVER_WEBHOOKS": "false",
    }
    with live_server(own_postgres_url, workers=2, env=env) as server:
        yield server


def fresh_connection(method: str, url: str, **kwargs: object) -> httpx.Response:
    """One request on its own connection, so that requests spread over both processes."""
    with httpx.Client(timeout=30) as client:
        return client.request(method, url, **kwargs)  # type: ignore[arg-type]


def test_the_rate_limit_holds_exactly_across_processes(cluster: LiveServer) -> None:
    keys = new_account(cluster.database_url)
    auth = (keys["secret_key"], "")
    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(
            pool.map(
                lambda _: fresh_connection("GET", f"{cluster.url}/links", auth=auth), range(80)
            )
        )
    counts = Counter(a.status_code for a in answers)
    assert counts == {200: 60, 429: 20}


def test_a_single_use_link_is_paid_exactly_once(cluster: LiveServer) -> None:
    keys = new_account(cluster.database_url)
    secret, public = (keys["secret_key"], ""), (keys["public_key"], "")
    link = fresh_connection(
        "POST", f"{cluster.url}/links", auth=secret,
        json={"amount": 100000, "currency": "thb", "title": "Once"},
    ).json()  # fmt: skip
    tokens = [
        fresh_connection("POST", f"{cluster.url}/tokens", auth=public, json={"card": CARD}).json()
        for _ in range(40)
    ]

    def pay(token: dict[str, str]) -> httpx.Response:
        body = {"card": token["id"], "link": link["id"]}
        return fresh_connection("POST", f"{cluster.url}/charges", auth=secret, json=body)

    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(pay, tokens))
    outcomes = Counter(
        a.json()["status"] if a.status_code == 200 else a.json()["code"] for a in answers
    )
    assert outcomes == {"successful": 1, "link_not_payable": 39}
    found = fresh_connection("GET", f"{cluster.url}/links/{link['id']}", auth=secret).json()
    assert found["used"] is True and found["charges"]["total"] == 1


def attempt_errors(database_url: str) -> list[object]:
    engine = sa.create_engine(normalise_url(database_url))
    with engine.connect() as conn:
        found = conn.execute(
            sa.select(webhook_attempts.c.status_code, webhook_attempts.c.error)
            .where(webhook_attempts.c.error.is_not(None))
            .limit(5)
        ).all()
    engine.dispose()
    return [tuple(row) for row in found]


def start_workers(database_url: str, count: int) -> list[subprocess.Popen[bytes]]:
    return [
        subprocess.Popen(
            [str(BIN / "paylinks"), "worker", "--database-url", database_url],
            env={**os.environ, "PAYLINKS_LOG_LEVEL": "warning"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]


def wait_for(rx: Receiver, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while len(rx.received) < count and time.monotonic() < deadline:
        time.sleep(0.05)


def test_two_workers_deliver_everything_once(cluster: LiveServer) -> None:
    keys = new_account(cluster.database_url)
    secret = (keys["secret_key"], "")
    with receiver() as rx:
        paylinks("webhooks", "add", "--account", keys["id"], "--url", rx.url,
                 "--database-url", cluster.database_url)  # fmt: skip
        made = [
            fresh_connection(
                "POST", f"{cluster.url}/links", auth=secret,
                json={"amount": 100000, "currency": "thb", "title": f"Hook {i}"},
            ).json()["id"]
            for i in range(50)
        ]  # fmt: skip
        workers = start_workers(cluster.database_url, 2)
        try:
            wait_for(rx, len(made))
        finally:
            # SIGTERM: each worker finishes the round it is in and exits, so once both have
            # exited nothing more can arrive: a duplicate would be in `received` by now.
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.wait(timeout=15)
        ids = [orjson.loads(r.body)["data"]["id"] for r in rx.received]
    assert sorted(ids) == sorted(made), attempt_errors(cluster.database_url)  # all, none twice
    assert len({r.headers["webhook-id"] for r in rx.received}) == len(made)
