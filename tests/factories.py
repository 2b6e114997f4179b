"""Plain helper functions that make things for tests: accounts and keys, app settings, cards,
tokens, links and charges through the API, the hosted page's forms, dashboard sessions, webhook
endpoints and deliveries. Fixtures live in conftest.py; live server processes in servers.py,
webhook receivers in receivers.py."""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NoReturn

import httpx
import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from paylinks.accounts import service as accounts
from paylinks.auth import Principal
from paylinks.clock import SystemClock
from paylinks.config import Settings
from paylinks.db import Database
from paylinks.eventlog import record_event
from paylinks.models import webhook_deliveries, webhook_endpoints
from paylinks.webhooks import service as webhooks
from paylinks.webhooks.worker import Worker

# ---------------------------------------------------------------------------------------------
# Accounts and keys


@dataclass
class TestAccount:
    __test__ = False
    id: str
    pk: int
    test: accounts.KeyPair
    live: accounts.KeyPair


def make_account(db: Database, name: str = "Test merchant") -> TestAccount:
    with db.transaction() as conn:
        account, keys = accounts.create_account(conn, name=name, now=SystemClock().now())
    return TestAccount(account.id, account.pk, keys["test"], keys["live"])


def auth(key: str) -> tuple[str, str]:
    """HTTP Basic credentials as every Omise SDK sends them: the key and an empty password."""
    return (key, "")


def principal_of(account: TestAccount) -> Principal:
    """The account's test-mode secret key, as the services are given it."""
    return Principal(account.pk, account.id, False, "secret", "")


# ---------------------------------------------------------------------------------------------
# Settings for in-process apps (no rate limits, no cap, no key cache)

PUBLIC_URL = "http://paylinks.test"


def quiet_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "public_url": PUBLIC_URL,
        "rate_limits": "off",
        "max_active_links": 0,
        "auth_cache_seconds": 0,
        "deliver_webhooks": False,  # tests that deliver run the worker themselves
        "send_receipts": False,  # and so do tests that send receipts
    }
    values.update(overrides)
    return Settings(**values)


# ---------------------------------------------------------------------------------------------
# Cards, tokens, links and charges through the public API

VISA_OK = "4242424242424242"
VISA_NO_FUNDS = "4111111111140011"


def card(number: str = VISA_OK, **overrides: Any) -> dict[str, Any]:
    return {
        "number": number,
        "name": "Somchai Jaidee",
        "expiration_month": 12,
        "expiration_year": 2035,
        "security_code": "123",
        **overrides,
    }


def token(client: TestClient, account: TestAccount, number: str = VISA_OK, **overrides: Any) -> str:
    response = client.post(
        "/tokens", auth=auth(account.test.public_key), json={"card": card(number, **overrides)}
    )
    assert response.status_code == 200, response.text
    token_id: str = response.json()["id"]
    return token_id


def link(client: TestClient, account: TestAccount, **fields: Any) -> dict[str, Any]:
    body = {"amount": 100000, "currency": "thb", "title": "Invoice", **fields}
    response = client.post("/links", auth=auth(account.test.secret_key), json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def pay(
    client: TestClient, account: TestAccount, link_id: str, number: str = VISA_OK, **fields: Any
) -> Any:
    body = {"card": token(client, account, number), "link": link_id, **fields}
    return client.post("/charges", auth=auth(account.test.secret_key), json=body)


def stable(link: dict[str, Any]) -> dict[str, Any]:
    """A link without the one field that moves by itself: its charges list's `to`, which echoes
    the time of the request."""
    charges = {k: v for k, v in link["charges"].items() if k != "to"}
    return {**link, "charges": charges}


def make_link(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    """A link made through a client of a live server (its key already set)."""
    body = {"amount": 100000, "currency": "thb", "title": "Invoice 2026-001", **fields}
    response = api.post("/links", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


# ---------------------------------------------------------------------------------------------
# The hosted payment page

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# A PromptPay QR page also asks the server for its charge's status (its script polls).
QR_CSP = CSP + "; connect-src 'self'"
CVV = "987"
CARD = {"name": "Somchai Jaidee", "expiry": "12/35", "security_code": CVV, "email": "s@example.com"}


def assert_secure_page(response: httpx.Response, status: int, *, csp: str = CSP) -> str:
    """The response is an HTML page with every security header; its text."""
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    assert "<script>" not in response.text and " style=" not in response.text
    return response.text


def form_tokens(page: str) -> dict[str, str]:
    return dict(re.findall(r'name="(\w*token)" value="([^"]+)"', page))


def open_page(client: TestClient, link_id: str, **kwargs: Any) -> str:
    return assert_secure_page(client.get(f"/pay/{link_id}", **kwargs), 200)


def pay_on_page(
    client: TestClient,
    link_id: str,
    number: str = VISA_OK,
    *,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    follow_redirects: bool = True,
    **fields: str,
) -> httpx.Response:
    """Submit the card form as a browser without JavaScript would (a browser follows the
    redirect to the result's own address)."""
    if token is None:
        token = form_tokens(open_page(client, link_id, headers=headers))["card_token"]
    body = {**CARD, "number": number, "card_token": token, **fields}
    return client.post(
        f"/pay/{link_id}", data=body, headers=headers, follow_redirects=follow_redirects
    )


# ---------------------------------------------------------------------------------------------
# The dashboard: signing in and reading the CSRF token of a page

CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')


def sign_in(client: TestClient, secret_key: str) -> str:
    """Open a dashboard session with an API secret key (the client keeps the cookie); the
    session's CSRF token, for forms."""
    response = client.post(
        "/dashboard/sign-in", data={"secret_key": secret_key}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/dashboard"))


def sign_in_user(client: TestClient, email: str, password: str) -> str:
    response = client.post(
        "/dashboard/sign-in", data={"email": email, "password": password}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/dashboard"))


def csrf_of(page: httpx.Response) -> str:
    assert page.status_code == 200, page.text
    found = CSRF.search(page.text)
    assert found is not None, "the page has no CSRF field"
    return found.group(1)


# ---------------------------------------------------------------------------------------------
# Webhooks: endpoints made below the API, the worker run by hand, the outbox read back


def add_endpoint(db: Database, account: TestAccount, url: str, **kw: Any) -> webhooks.Endpoint:
    with db.transaction() as conn:
        return webhooks.create_endpoint(
            conn,
            principal=principal_of(account),
            url=url,
            keys=kw.get("keys"),
            scheme=kw.get("scheme", "seed"),
            now=datetime.now(UTC),
            limit=0,
        )


def queue_event(conn: sa.Connection, *, principal: Principal) -> None:
    """An empty `link.create` event and its deliveries, in the caller's transaction."""
    now = datetime.now(UTC)
    pk = record_event(conn, principal=principal, key="link.create", data={}, now=now)
    webhooks.enqueue(conn, principal=principal, event_pk=pk, key="link.create", now=now)


def queue_one_event(db: Database, principal: Principal) -> None:
    """`queue_event` in a transaction of its own."""
    with db.transaction() as conn:
        queue_event(conn, principal=principal)


def drain(db: Database, clock: Any = None, rounds: int = 5) -> int:
    async def go() -> int:
        worker = Worker(db, clock=clock)
        sent = 0
        try:
            for _ in range(rounds):
                sent += await worker.run_once()
        finally:
            await worker.close()
        return sent

    return asyncio.run(go())


def deliveries(db: Database, account: TestAccount) -> list[Any]:
    with db.snapshot() as conn:
        return list(
            conn.execute(
                sa.select(webhook_deliveries)
                .join(webhook_endpoints, webhook_endpoints.c.pk == webhook_deliveries.c.endpoint_pk)
                .where(webhook_endpoints.c.account_pk == account.pk)
                .order_by(webhook_deliveries.c.pk)  # tests compare lists: no accidental order
            ).all()
        )


# ---------------------------------------------------------------------------------------------
# Tools a test needs


def unavailable(reason: str) -> NoReturn:
    """A tool a test needs is missing: a failure where the run requires every tool (`.ci/run`
    sets PAYLINKS_REQUIRE_TOOLS=1; `CI` and PAYLINKS_REQUIRE_BROWSER=1 count too), a skip on a
    workstation."""
    required = any(
        os.environ.get(name) not in (None, "", "0")
        for name in ("PAYLINKS_REQUIRE_TOOLS", "PAYLINKS_REQUIRE_BROWSER", "CI")
    )
    if required:
        pytest.fail(f"required in this run, but {reason}")
    pytest.skip(reason)


def wait_until(condition: Callable[[], object], timeout: float = 20, what: str = "") -> None:
    """Wait for a condition (never for a time): polls it until true, fails after `timeout`."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.02)
