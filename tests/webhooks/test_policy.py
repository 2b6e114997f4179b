"""Where webhooks may go, how many endpoints an account may have, and what a receiver's answer may
leave in the delivery log.

Test-mode keys may reach public addresses and loopback only (the probe reached the cloud metadata
address, RFC 1918, CGNAT and unique-local addresses with a test key, and read the answers back);
an endpoint saved before that rule is refused at delivery; an account has at most
`PAYLINKS_MAX_WEBHOOK_ENDPOINTS` endpoints per mode, even under concurrent creates; only a short,
text-only excerpt of a public receiver's answer is kept, and nothing of a private one's.

Deliveries here go through `receivers.mock_post` with a stub resolver: nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from factories import TestAccount, add_endpoint, auth, principal_of, queue_one_event, sign_in
from receivers import mock_post
from starlette.testclient import TestClient

from paylinks.db import Database
from paylinks.errors import LimitExceeded
from paylinks.models import webhook_attempts, webhook_deliveries, webhook_endpoints
from paylinks.webhooks import service as endpoints
from paylinks.webhooks.sender import EXCERPT_CHARS
from paylinks.webhooks.worker import Worker

pytestmark = pytest.mark.usefixtures("empty_outbox")

PRIVATE_URLS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/",
    "http://192.168.1.1/",
    "http://[fd00::1]/",
    "http://100.64.0.1/",
    "http://172.16.5.4:8080/x",
    "http://[::ffff:10.0.0.1]/",
    "http://[::7f00:1]/",
]


def create(client: TestClient, key: str, url: str) -> httpx.Response:
    return client.post("/webhook_endpoints", auth=auth(key), json={"url": url})


@pytest.mark.parametrize("url", PRIVATE_URLS)
def test_test_keys_cannot_point_webhooks_at_private_addresses(
    client: TestClient, account: TestAccount, url: str
) -> None:
    refused = create(client, account.test.secret_key, url)
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_url"
    https = url.replace("http://", "https://")
    live = create(client, account.live.secret_key, https)
    assert live.status_code == 400 and live.json()["code"] == "invalid_url"
    listed = client.get("/webhook_endpoints", auth=auth(account.test.secret_key)).json()
    assert listed["total"] == 0


def test_test_keys_may_still_reach_loopback_and_live_keys_may_not(
    client: TestClient, account: TestAccount
) -> None:
    for url in ("http://127.0.0.1:9/hook", "http://localhost:3000/hook", "http://[::1]:9/x"):
        assert create(client, account.test.secret_key, url).status_code == 200, url
    live = create(client, account.live.secret_key, "https://127.0.0.1/hook")
    assert live.status_code == 400 and live.json()["code"] == "invalid_url"


def test_private_targets_need_the_explicit_setting(make_client: Any, account: TestAccount) -> None:
    allowed = make_client(allow_private_webhooks=True)
    assert create(allowed, account.test.secret_key, "http://10.0.0.1/hook").status_code == 200
    refused = create(allowed, account.test.secret_key, "http://224.0.0.1/hook")
    assert refused.status_code == 400  # multicast is never a receiver


def test_the_dashboard_refuses_private_addresses_in_test_mode(
    make_client: Any, account: TestAccount
) -> None:
    client: TestClient = make_client()
    csrf = sign_in(client, account.test.secret_key)
    refused = client.post(
        "/dashboard/developers/endpoints",
        data={"csrf": csrf, "url": "http://169.254.169.254/latest/meta-data/"},
    )
    assert refused.status_code == 400 and "link-local" in refused.text


def run_worker(
    db: Database,
    answer: Callable[[httpx.Request], httpx.Response],
    resolver: Callable[[str, int], list[str]],
    **options: Any,
) -> list[httpx.Request]:
    """One worker round through a recording transport; the requests it was asked to send."""
    sent: list[httpx.Request] = []

    def transport(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return answer(request)

    async def go() -> None:
        worker = Worker(db, post=mock_post(transport), resolver=resolver, **options)
        try:
            await worker.run_once()
        finally:
            await worker.close()

    asyncio.run(go())
    return sent


def attempts(db: Database, account: TestAccount) -> list[Any]:
    with db.snapshot() as conn:
        return list(
            conn.execute(
                sa.select(webhook_attempts)
                .join(webhook_deliveries, webhook_deliveries.c.pk == webhook_attempts.c.delivery_pk)
                .join(webhook_endpoints, webhook_endpoints.c.pk == webhook_deliveries.c.endpoint_pk)
                .where(webhook_endpoints.c.account_pk == account.pk)
                .order_by(webhook_attempts.c.pk)
            ).all()
        )


def test_an_endpoint_saved_before_the_rule_is_refused_at_delivery(
    db: Database, account: TestAccount
) -> None:
    add_endpoint(db, account, "http://169.254.169.254/latest/meta-data/")
    queue_one_event(db, principal_of(account))
    sent = run_worker(db, lambda _r: httpx.Response(200, text="ami-id"), lambda _h, _p: [])
    assert sent == []
    (attempt,) = attempts(db, account)
    assert attempt.status_code is None and attempt.response_excerpt is None
    assert attempt.error.startswith("unsafe address") and "link-local" in attempt.error


def test_test_mode_resolves_and_pins_names_too(db: Database, account: TestAccount) -> None:
    """A name rebound to an internal address between saving and sending is not called."""
    add_endpoint(db, account, "http://hooks.example.test/x")
    queue_one_event(db, principal_of(account))
    sent = run_worker(db, lambda _r: httpx.Response(200), lambda _h, _p: ["10.1.2.3"])
    assert sent == []
    (attempt,) = attempts(db, account)
    assert "10.1.2.3, a private address" in attempt.error


def test_only_a_short_text_excerpt_of_a_public_answer_is_kept(
    db: Database, account: TestAccount
) -> None:
    add_endpoint(db, account, "https://hooks.example.com/x")
    queue_one_event(db, principal_of(account))
    body = "refused:\x00\x1b[31m" + "é" * 5000
    sent = run_worker(
        db,
        lambda _r: httpx.Response(400, text=body, headers={"content-type": "text/plain"}),
        lambda _h, _p: ["93.184.216.34"],
    )
    assert len(sent) == 1 and sent[0].url.host == "93.184.216.34"
    (attempt,) = attempts(db, account)
    excerpt = attempt.response_excerpt
    assert attempt.status_code == 400
    assert excerpt.startswith("refused:") and len(excerpt) <= EXCERPT_CHARS
    assert excerpt.isprintable()


def test_a_binary_answer_leaves_no_excerpt(db: Database, account: TestAccount) -> None:
    add_endpoint(db, account, "https://hooks.example.com/x")
    queue_one_event(db, principal_of(account))
    run_worker(
        db,
        lambda _r: httpx.Response(
            500, content=b"\x89PNG\r\n" * 10, headers={"content-type": "image/png"}
        ),
        lambda _h, _p: ["93.184.216.34"],
    )
    (attempt,) = attempts(db, account)
    assert attempt.status_code == 500 and attempt.response_excerpt is None


def test_answers_of_private_receivers_are_never_kept(db: Database, account: TestAccount) -> None:
    """With private targets allowed on purpose, the delivery log still shows nothing of what an
    internal address answered, and does not say how a connection failed (no port scanner)."""
    add_endpoint(db, account, "http://internal.example.test/x")
    queue_one_event(db, principal_of(account))
    run_worker(
        db,
        lambda _r: httpx.Response(200, text='{"AccessKeyId": "secret"}'),
        lambda _h, _p: ["10.0.0.5"],
        allow_private=True,
    )
    (attempt,) = attempts(db, account)
    assert attempt.status_code == 200 and attempt.response_excerpt is None

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    add_endpoint(db, account, "http://internal2.example.test/x")
    queue_one_event(db, principal_of(account))
    run_worker(db, refuse, lambda _h, _p: ["10.0.0.6"], allow_private=True)
    errors = [a.error for a in attempts(db, account) if a.error]
    assert errors and all(e == "the receiver could not be reached" for e in errors)
    assert not any("111" in e for e in errors)


def test_the_endpoint_cap_per_account_and_mode(make_client: Any, account: TestAccount) -> None:
    client = make_client(max_webhook_endpoints=3)
    key = account.test.secret_key
    made = [create(client, key, f"http://127.0.0.1:9/{n}").json() for n in range(3)]
    refused = create(client, key, "http://127.0.0.1:9/4")
    assert refused.status_code == 422 and refused.json()["code"] == "limit_exceeded"
    assert "PAYLINKS_MAX_WEBHOOK_ENDPOINTS=3" in refused.json()["message"]
    # The other mode has its own allowance; a deleted endpoint frees its place.
    assert create(client, account.live.secret_key, "https://93.184.216.34/x").status_code == 200
    client.delete(f"/webhook_endpoints/{made[0]['id']}", auth=auth(key))
    assert create(client, key, "http://127.0.0.1:9/5").status_code == 200


def test_the_default_cap_is_sixteen(make_client: Any, account: TestAccount) -> None:
    client = make_client()
    key = account.test.secret_key
    for n in range(16):
        assert create(client, key, f"http://127.0.0.1:9/{n}").status_code == 200
    assert create(client, key, "http://127.0.0.1:9/16").status_code == 422


def test_concurrent_creates_never_overshoot_the_cap(db: Database, account: TestAccount) -> None:
    """Eight transactions at once against a cap of three (on SQLite the write lock serialises
    them, so only the PostgreSQL run can catch a missing row lock)."""
    start = threading.Barrier(8)
    outcomes: list[str] = []

    def attempt(n: int) -> None:
        start.wait()
        try:
            with db.transaction() as conn:
                endpoints.create_endpoint(
                    conn, principal=principal_of(account), url=f"http://127.0.0.1:9/{n}",
                    keys=None, scheme="seed", now=datetime.now(UTC), limit=3,
                )  # fmt: skip
            outcomes.append("made")
        except LimitExceeded:
            outcomes.append("refused")

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["made"] * 3 + ["refused"] * 5
