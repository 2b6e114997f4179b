"""A second paylinks in test mode as a live paylinks' Omise (the live-payments issue): tokens made
at its vault as Omise.js makes them, the charges it holds for a paylinks charge or link; and the
live side's steps (connect, a link, a payment, its events, one sweep)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson
import sqlalchemy as sa
from factories import PUBLIC_URL, VISA_OK, TestAccount, auth, card, quiet_settings
from servers import LiveServer
from starlette.testclient import TestClient

from paylinks.auth import Principal
from paylinks.db import Database
from paylinks.keyring import Keyring, installation_key
from paylinks.models import charges, events, webhook_deliveries
from paylinks.payments import settlement
from paylinks.recording import EventRecorder
from paylinks.upstream import connections
from paylinks.upstream.processor import LiveProcessors
from paylinks.webhooks import service as webhooks

TIMEOUT = 1.0  # how long the live side waits for the upstream, in these tests


def upstream_token(omise: LiveServer, number: str = VISA_OK) -> str:
    """A token made at the upstream's vault with its public key, as Omise.js makes one."""
    made = httpx.post(
        f"{omise.url}/tokens", auth=(omise.public_key, ""), json={"card": card(number)}
    )
    assert made.status_code == 200, made.text
    return str(made.json()["id"])


def upstream_charges(omise: LiveServer, key: str, value: str) -> list[dict[str, Any]]:
    """Every charge the upstream holds whose metadata names `key: value`."""
    found: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = httpx.get(
            f"{omise.url}/charges?limit=100&offset={offset}", auth=(omise.secret_key, "")
        ).json()
        found += [c for c in page["data"] if (c.get("metadata") or {}).get(key) == value]
        offset += len(page["data"])
        if not page["data"] or offset >= page["total"]:
            return found


WEBHOOK_SECRET = base64.b64encode(b"omise-webhook-secret-for-tests!!").decode()


def connect(db: Database, account: TestAccount, omise: LiveServer) -> None:
    """The account connected to the upstream (the keys' check is test_connect_omise's)."""
    with db.transaction() as conn:
        key = installation_key(conn, master="", name=connections.SEALING_KEY)
        connections.connect(
            conn, account_id=account.id, public_key=omise.public_key,
            secret_key=omise.secret_key, sealing_key=key, now=datetime.now().astimezone(),
            currencies=["thb", "usd"], webhook_secret=WEBHOOK_SECRET,
        )  # fmt: skip


def live_link(live: TestClient, account: TestAccount, **fields: Any) -> dict[str, Any]:
    body = {"amount": 50000, "currency": "thb", "title": "Live invoice", **fields}
    made = live.post("/links", auth=auth(account.live.secret_key), json=body)
    assert made.status_code == 200, made.text
    return dict(made.json())


def pay_live(
    live: TestClient, account: TestAccount, omise: LiveServer, link_id: str,
    number: str = VISA_OK, **fields: Any,
) -> httpx.Response:  # fmt: skip
    body = {"card": upstream_token(omise, number), "link": link_id, **fields}
    return live.post("/charges", auth=auth(account.live.secret_key), json=body)


def events_of(live: TestClient, account: TestAccount, charge_id: str) -> list[str]:
    found = live.get(f"/charges/{charge_id}/events", auth=auth(account.live.secret_key))
    return sorted(e["key"] for e in found.json()["data"])


def sweep(db: Database, account: TestAccount, charge_id: str, upstream: str) -> dict[str, Any]:
    """The sweeper's step for one charge, as it runs once the charge is old enough."""
    settings = quiet_settings(omise_api_url=upstream, omise_timeout_seconds=TIMEOUT)
    processors = LiveProcessors(db, settings=settings, keyring=Keyring(db, master=""))
    principal = Principal(account.pk, account.id, True, "secret", "")

    async def go() -> Any:
        try:
            processor = await processors(principal)
            assert processor is not None
            later = datetime.now().astimezone() + processor.settle_after + timedelta(seconds=1)
            return await settlement.settle(
                db, principal=principal, charge_id=charge_id, processor=processor, now=later,
                record=EventRecorder(public_url=PUBLIC_URL),
            )  # fmt: skip
        finally:
            await processors.close()

    settled = asyncio.run(go())
    return {"status": settled.status, "failure_code": settled.failure_code}


def omise_webhook(
    live: TestClient, account: TestAccount, event: dict[str, Any], *, secret: str = WEBHOOK_SECRET,
    at: float | None = None,
) -> httpx.Response:  # fmt: skip
    """Omise's webhook to the account's endpoint, signed as Omise signs (timestamp.body)."""
    body = orjson.dumps(event)
    stamp = int(time.time() if at is None else at)
    key = base64.b64decode(secret)
    signature = hmac.new(key, f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    headers = {
        "Omise-Signature": f"{'0' * 64},{signature}",  # as while Omise rolls its secret
        "Omise-Signature-Timestamp": str(stamp),
        "Content-Type": "application/json",
    }
    return live.post(f"/omise/webhooks/{account.id}", content=body, headers=headers)


def live_endpoint(db: Database, account: TestAccount) -> None:
    """A live webhook endpoint of the account (never called here: its deliveries are counted)."""
    principal = Principal(account.pk, account.id, True, "secret", "")
    with db.transaction() as conn:
        webhooks.create_endpoint(
            conn, principal=principal, url="https://merchant.example/hooks", keys=None,
            scheme="omise", now=datetime.now().astimezone(), limit=0,
        )  # fmt: skip


def deliveries_by_key(db: Database, charge_id: str) -> dict[str, int]:
    """How many deliveries the outbox holds for each event of the charge (all endpoints)."""
    with db.snapshot() as conn:
        rows = conn.execute(
            sa.select(events.c.key, sa.func.count(webhook_deliveries.c.pk))
            .join(webhook_deliveries, webhook_deliveries.c.event_pk == events.c.pk)
            .join(charges, charges.c.pk == events.c.charge_pk)
            .where(charges.c.id == charge_id)
            .group_by(events.c.key)
        ).all()
    return {key: count for key, count in rows}


def upstream_source(omise: LiveServer, amount: int = 50000) -> str:
    """A PromptPay source made at the upstream with its public key, as Omise.js makes one."""
    made = httpx.post(
        f"{omise.url}/sources",
        auth=(omise.public_key, ""),
        json={"type": "promptpay", "amount": amount, "currency": "thb"},
    )
    assert made.status_code == 200, made.text
    return str(made.json()["id"])


def at_upstream(omise: LiveServer, upstream_id: str, action: str) -> dict[str, Any]:
    """The customer's bank at the upstream: `mark_as_paid` or `mark_as_failed` its charge."""
    done = httpx.post(f"{omise.url}/charges/{upstream_id}/{action}", auth=(omise.secret_key, ""))
    assert done.status_code == 200, done.text
    return dict(done.json())
