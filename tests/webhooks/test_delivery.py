"""Webhook delivery end to end: outbox rows with the change, signed posts to a local receiver,
retries on an injected clock, 410, event filters, and nothing for a rolled-back change."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from factories import TestAccount, add_endpoint, auth, deliveries, drain, link, pay, principal_of
from receivers import receiver
from starlette.testclient import TestClient

from paylinks.clock import FrozenClock
from paylinks.db import Database
from paylinks.errors import BadRequest
from paylinks.links import service as links_service
from paylinks.links.service import NewLink
from paylinks.models import webhook_deliveries, webhook_endpoints
from paylinks.recording import EventRecorder
from paylinks.webhooks import delivery as outbox
from paylinks.webhooks import service as webhooks

pytestmark = pytest.mark.usefixtures("empty_outbox")


def seed_signature(body: bytes, secret: str) -> str:
    """The seed's verifyWebhook, written again here."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_a_paid_link_reaches_the_receiver_signed_as_the_seed_verifies(
    client: TestClient, account: TestAccount, db: Database
) -> None:
    with receiver() as rx:
        endpoint = add_endpoint(db, account, rx.url)
        invoice = link(client, account)
        charge = pay(client, account, invoice["id"]).json()
        assert drain(db) == 3  # link.create, charge.create, charge.complete
        by_key = {orjson.loads(r.body)["key"]: r for r in rx.received}
    assert set(by_key) == {"link.create", "charge.create", "charge.complete"}
    complete = by_key["charge.complete"]
    assert complete.headers["content-type"] == "application/json"
    assert complete.headers["omise-signature"] == seed_signature(complete.body, endpoint.secret)
    event = orjson.loads(complete.body)
    assert complete.headers["webhook-id"] == event["id"]
    assert event["object"] == "event" and event["data"]["id"] == charge["id"]
    # The seed's handler: charge.source.type == 'link', charge.source.id is the link.
    assert event["data"]["source"] == {"object": "source", "type": "link", "id": invoice["id"]}
    listed = client.get(f"/events/{event['id']}", auth=auth(account.test.secret_key)).json()
    assert [d["status"] for d in listed["webhook_deliveries"]] == [200]
    assert listed["webhook_deliveries"][0]["uri"] == endpoint.url


def test_an_endpoint_gets_only_the_keys_it_asked_for(
    client: TestClient, account: TestAccount, db: Database
) -> None:
    with receiver() as rx:
        add_endpoint(db, account, rx.url, keys=["charge.complete"])
        pay(client, account, link(client, account)["id"])
        drain(db)
    assert [orjson.loads(r.body)["key"] for r in rx.received] == ["charge.complete"]


def test_a_rolled_back_change_is_never_delivered(account: TestAccount, db: Database) -> None:
    add_endpoint(db, account, "http://127.0.0.1:9/never")
    recorder = EventRecorder(public_url="http://paylinks.test")

    def create_then_fail(conn: sa.Connection) -> None:
        links_service.create_link(
            conn,
            principal=principal_of(account),
            new=NewLink(100000, "thb", "Doomed", None, False, {}, None, None),
            now=datetime.now(UTC),
            max_active=0,
            record=recorder,
        )
        raise BadRequest("fails after the event and its delivery row were written")

    with pytest.raises(BadRequest):
        asyncio.run(db.write(create_then_fail))
    with db.snapshot() as conn:
        rows = conn.execute(
            sa.select(sa.func.count())
            .select_from(webhook_deliveries)
            .join(webhook_endpoints, webhook_endpoints.c.pk == webhook_deliveries.c.endpoint_pk)
            .where(webhook_endpoints.c.account_pk == account.pk)
        ).scalar_one()
    assert rows == 0


def test_failures_are_retried_on_the_schedule_and_retry_after_is_honoured(
    make_client: Any, account: TestAccount, db: Database
) -> None:
    clock = FrozenClock(datetime(2026, 6, 1, 12, 0, tzinfo=UTC))
    client = make_client(clock=clock)
    with receiver() as rx:
        add_endpoint(db, account, rx.url, keys=["link.create"])
        rx.script = [500, (429, {"Retry-After": "900"}), 503]
        link(client, account)
        assert drain(db, clock, rounds=1) == 1  # 500
        (row,) = deliveries(db, account)
        first_wait = (row.next_attempt_at / 1e6) - clock.now().timestamp()
        assert 54 <= first_wait <= 66 and row.status == "pending" and row.last_status == 500
        assert drain(db, clock, rounds=1) == 0  # not due yet
        clock.advance(66)
        assert drain(db, clock, rounds=1) == 1  # 429 with Retry-After: 900 (> the 300 s step)
        (row,) = deliveries(db, account)
        assert (row.next_attempt_at / 1e6) - clock.now().timestamp() >= 900
        clock.advance(900)
        drain(db, clock, rounds=1)  # 503
        clock.advance(1980)
        drain(db, clock, rounds=1)  # 200
        (row,) = deliveries(db, account)
    assert row.status == "delivered" and row.attempts == 4
    assert len(rx.received) == 4
    ids = {r.headers["webhook-id"] for r in rx.received}
    assert len(ids) == 1  # every retry of one event carries the same webhook-id


def test_the_schedule_ends_after_about_three_days(
    make_client: Any, account: TestAccount, db: Database
) -> None:
    clock = FrozenClock(datetime(2026, 6, 1, 12, 0, tzinfo=UTC))
    client = make_client(clock=clock)
    with receiver() as rx:
        add_endpoint(db, account, rx.url, keys=["link.create"])
        rx.script = [500] * 50
        link(client, account)
        for wait in (*outbox.RETRY_SCHEDULE, 0):
            assert drain(db, clock, rounds=1) == 1
            clock.advance(wait * 1.1 + 1)  # the longest jitter
        (row,) = deliveries(db, account)
    assert row.status == "failed" and row.attempts == len(outbox.RETRY_SCHEDULE) + 1
    total = sum(outbox.RETRY_SCHEDULE)
    assert 2.5 * 86400 < total < 3.5 * 86400


def test_410_disables_the_endpoint(client: TestClient, account: TestAccount, db: Database) -> None:
    with receiver() as rx:
        endpoint = add_endpoint(db, account, rx.url, keys=["link.create"])
        rx.script = [410]
        link(client, account)
        drain(db)
        link(client, account)  # no delivery row: the endpoint is disabled
        drain(db)
    assert len(rx.received) == 1
    with db.snapshot() as conn:
        found = webhooks.get_endpoint(
            conn, principal=principal_of(account), endpoint_id=endpoint.id
        )
    assert not found.enabled and "410" in (found.disabled_reason or "")


def test_many_deliveries_are_recorded_in_two_statements_and_a_cancelled_one_stays_cancelled(
    client: TestClient, account: TestAccount, db: Database
) -> None:
    """The worker's group record: every attempt logged, every delivery moved on, in two
    statements however many; a delivery cancelled while in flight (its endpoint disabled) keeps
    its status, as `record_attempt` does."""
    add_endpoint(db, account, "http://127.0.0.1:9/group", keys=["link.create"])
    for n in range(5):
        link(client, account, title=f"group {n}")
    now = datetime.now(UTC)
    with db.transaction() as conn:
        jobs = outbox.claim_due(conn, now=now, limit=100)
    assert len(jobs) == 5
    with db.transaction() as conn:
        conn.execute(
            webhook_deliveries.update()
            .where(webhook_deliveries.c.pk == jobs[0].delivery_pk)
            .values(status="cancelled")
        )
    ok = outbox.AttemptResult(204, 3, None, None)
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        statements.append(statement)

    sa.event.listen(db.write_engine, "before_cursor_execute", count)
    try:
        with db.transaction() as conn:
            outbox.record_delivered(conn, done=[(job, ok) for job in reversed(jobs)], now=now)
    finally:
        sa.event.remove(db.write_engine, "before_cursor_execute", count)
    assert len([s for s in statements if not s.startswith(("BEGIN", "COMMIT"))]) == 2
    found = {d.pk: d for d in deliveries(db, account)}
    assert found[jobs[0].delivery_pk].status == "cancelled"
    for job in jobs[1:]:
        assert (found[job.delivery_pk].status, found[job.delivery_pk].attempts) == ("delivered", 1)
        assert found[job.delivery_pk].last_status == 204
    with db.snapshot() as conn:
        logged = conn.execute(
            sa.select(sa.func.count())
            .select_from(outbox.webhook_attempts)
            .where(outbox.webhook_attempts.c.delivery_pk.in_([job.delivery_pk for job in jobs]))
        ).scalar_one()
    assert logged == 5
