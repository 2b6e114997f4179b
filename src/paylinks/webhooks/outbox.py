"""The delivery outbox: the rows written with each event, redelivery, and the worker's claim /
record / reschedule steps.

Delivery is at least once: a row is written in the transaction of the change (a rolled-back
change is never delivered), claimed with a lease (`locked_until`) so that several workers never
send the same attempt at once (`FOR UPDATE SKIP LOCKED` on PostgreSQL), and marked only after the
receiver answered. A crash between the answer and the mark sends it again, with the same
`webhook-id`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paylinks.accounts.service import Principal
from paylinks.clock import format_time, from_micros, to_micros
from paylinks.errors import BadRequest
from paylinks.events.service import get_event, record_event
from paylinks.ids import new_id
from paylinks.models import events, webhook_attempts, webhook_deliveries, webhook_endpoints
from paylinks.webhooks.endpoints import (
    Endpoint,
    disable,
    from_row,
    get_endpoint,
    list_endpoints,
)
from paylinks.webhooks.schemas import endpoint_to_wire

# Seconds after the first attempt, about three days in all (Standard Webhooks' example
# schedule); each gets ±10 % jitter so that a recovering receiver is not hit all at once.
RETRY_SCHEDULE = (60, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
# How long a claim holds: longer than any attempt takes (10 s timeout and the record), so that
# only a worker that died gives its deliveries back.
LEASE = timedelta(seconds=60)
# An endpoint whose every attempt failed for this long is disabled (Svix's rule). One success
# restarts the clock, so an endpoint that flaps is never disabled.
DISABLE_AFTER = timedelta(days=5)


def _insert_delivery(conn: Connection, *, event_pk: int, endpoint: Endpoint, now: datetime) -> None:
    conn.execute(
        webhook_deliveries.insert().values(
            id=new_id("whdl", livemode=endpoint.livemode),
            event_pk=event_pk,
            endpoint_pk=endpoint.pk,
            status="pending",
            attempts=0,
            next_attempt_at=to_micros(now),
            created_at=to_micros(now),
        )
    )


def enqueue(
    conn: Connection, *, principal: Principal, event_pk: int, key: str, now: datetime
) -> int:
    """One delivery row per enabled endpoint of the account and mode that wants `key`, in the
    caller's transaction; how many."""
    wanting = [e for e in list_endpoints(conn, principal=principal) if e.wants(key)]
    for endpoint in wanting:
        _insert_delivery(conn, event_pk=event_pk, endpoint=endpoint, now=now)
    return len(wanting)


def _targets(
    conn: Connection, *, principal: Principal, key: str, endpoint_id: str | None
) -> list[Endpoint]:
    """Where a redelivery goes: the endpoint named (whatever its filter), else every enabled
    endpoint that wants the key now."""
    if endpoint_id is None:
        return [e for e in list_endpoints(conn, principal=principal) if e.wants(key)]
    endpoint = get_endpoint(conn, principal=principal, endpoint_id=endpoint_id)
    if not endpoint.enabled:
        raise BadRequest(f"webhook endpoint {endpoint_id} is disabled; enable it first")
    return [endpoint]


def redeliver(
    conn: Connection,
    *,
    principal: Principal,
    event_id: str,
    endpoint_id: str | None,
    now: datetime,
) -> int:
    """Send an event again as a new delivery (same `webhook-id`); other deliveries, and other
    endpoints' state, are left as they are. How many deliveries were queued."""
    event = get_event(conn, principal=principal, event_id=event_id)
    targets = _targets(conn, principal=principal, key=event.key, endpoint_id=endpoint_id)
    if not targets:
        raise BadRequest(f"no enabled webhook endpoint receives {event.key} events")
    for endpoint in targets:
        _insert_delivery(conn, event_pk=event.pk, endpoint=endpoint, now=now)
    return len(targets)


def redeliver_range(
    conn: Connection,
    *,
    principal: Principal,
    start: datetime,
    end: datetime,
    endpoint_id: str | None,
    now: datetime,
) -> int:
    """Redeliver every event created in [start, end]; how many deliveries were queued."""
    rows = conn.execute(
        sa.select(events.c.pk, events.c.key)
        .where(
            events.c.account_pk == principal.account_pk,
            events.c.livemode == principal.livemode,
            events.c.created_at >= to_micros(start),
            events.c.created_at <= to_micros(end),
        )
        .order_by(events.c.created_at, events.c.pk)
    ).all()
    queued = 0
    for row in rows:
        for endpoint in _targets(conn, principal=principal, key=row.key, endpoint_id=endpoint_id):
            _insert_delivery(conn, event_pk=row.pk, endpoint=endpoint, now=now)
            queued += 1
    return queued


@dataclass(frozen=True)
class Job:
    """A claimed delivery: everything the sender needs."""

    delivery_pk: int
    delivery_id: str
    attempts: int
    event_id: str
    body: bytes
    endpoint: Endpoint


def claim_due(
    conn: Connection, *, now: datetime, limit: int, lease: timedelta = LEASE
) -> list[Job]:
    """Lease up to `limit` due deliveries to this worker. On PostgreSQL, rows another worker is
    claiming are skipped (SKIP LOCKED); on SQLite the write lock serialises claims."""
    micros = to_micros(now)
    due = (
        sa.select(webhook_deliveries.c.pk)
        .where(
            webhook_deliveries.c.status == "pending",
            webhook_deliveries.c.next_attempt_at <= micros,
            sa.or_(
                webhook_deliveries.c.locked_until.is_(None),
                webhook_deliveries.c.locked_until < micros,
            ),
        )
        .order_by(webhook_deliveries.c.next_attempt_at, webhook_deliveries.c.pk)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    pks = list(conn.execute(due).scalars())
    if not pks:
        return []
    conn.execute(
        webhook_deliveries.update()
        .where(webhook_deliveries.c.pk.in_(pks))
        .values(locked_until=to_micros(now + lease))
    )
    rows = conn.execute(
        sa.select(
            webhook_deliveries.c.pk.label("delivery_pk"),
            webhook_deliveries.c.id.label("delivery_id"),
            webhook_deliveries.c.attempts,
            events.c.id.label("event_id"),
            events.c.key,
            events.c.livemode.label("event_livemode"),
            events.c.data,
            events.c.created_at.label("event_created_at"),
            webhook_endpoints,
        )
        .join(events, events.c.pk == webhook_deliveries.c.event_pk)
        .join(webhook_endpoints, webhook_endpoints.c.pk == webhook_deliveries.c.endpoint_pk)
        .where(webhook_deliveries.c.pk.in_(pks))
    ).all()
    return [_job(row) for row in rows]


def event_body(
    *, event_id: str, livemode: bool, key: str, created_at: datetime, data: bytes | str
) -> bytes:
    """The delivery body: the event object as `GET /events/:id` shows it, without the log of
    deliveries, holding the object exactly as it was stored when the change committed."""
    return orjson.dumps(
        {
            "object": "event",
            "id": event_id,
            "livemode": livemode,
            "location": f"/events/{event_id}",
            "key": key,
            "created_at": format_time(created_at),
            "data": orjson.Fragment(data),
        }
    )


def _job(row: Any) -> Job:
    body = event_body(
        event_id=row.event_id,
        livemode=bool(row.event_livemode),
        key=row.key,
        created_at=from_micros(row.event_created_at),  # type: ignore[arg-type]
        data=row.data,
    )
    return Job(row.delivery_pk, row.delivery_id, row.attempts, row.event_id, body, from_row(row))


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    latency_ms: int
    excerpt: str | None
    error: str | None
    retry_after: float | None = None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def next_attempt(attempts_made: int, now: datetime, retry_after: float | None) -> datetime | None:
    """When to try again after `attempts_made` attempts, or None when the schedule is spent."""
    if attempts_made > len(RETRY_SCHEDULE):
        return None
    wait = RETRY_SCHEDULE[attempts_made - 1] * random.uniform(0.9, 1.1)  # noqa: S311 - jitter
    if retry_after is not None:
        wait = max(wait, retry_after)
    return now + timedelta(seconds=wait)


def record_attempt(conn: Connection, *, job: Job, outcome: Outcome, now: datetime) -> str:
    """Log the attempt, move the delivery on, and keep the endpoint's health; the delivery's new
    status."""
    touches_endpoint = not outcome.delivered or job.endpoint.failing_since is not None
    if touches_endpoint:
        # Lock order: the endpoint row, then delivery rows, as `endpoints.disable` does; two
        # attempts failing at once would otherwise deadlock on PostgreSQL.
        conn.execute(
            sa.select(webhook_endpoints.c.pk)
            .where(webhook_endpoints.c.pk == job.endpoint.pk)
            .with_for_update()
        )
    attempts = job.attempts + 1
    conn.execute(
        webhook_attempts.insert().values(
            delivery_pk=job.delivery_pk,
            attempted_at=to_micros(now),
            status_code=outcome.status_code,
            latency_ms=outcome.latency_ms,
            response_excerpt=outcome.excerpt,
            error=outcome.error,
        )
    )
    if outcome.delivered:
        status, when = "delivered", None
    else:
        when = next_attempt(attempts, now, outcome.retry_after)
        status = "pending" if when is not None and outcome.status_code != 410 else "failed"
    # Only a delivery still pending moves on: one cancelled while it was in flight (its
    # endpoint disabled) stays cancelled.
    conn.execute(
        webhook_deliveries.update()
        .where(webhook_deliveries.c.pk == job.delivery_pk, webhook_deliveries.c.status == "pending")
        .values(
            status=status,
            attempts=attempts,
            last_status=outcome.status_code,
            next_attempt_at=to_micros(when) if status == "pending" and when else None,
            locked_until=None,
        )
    )
    if touches_endpoint:
        _track_health(conn, endpoint=job.endpoint, outcome=outcome, now=now)
    return status


def _track_health(conn: Connection, *, endpoint: Endpoint, outcome: Outcome, now: datetime) -> None:
    """A success restarts the failure clock; a 410, or failing for `DISABLE_AFTER`, disables
    the endpoint and records a `webhook_endpoint.disable` event."""
    table = webhook_endpoints
    if outcome.delivered:
        conn.execute(
            table.update()
            .where(table.c.pk == endpoint.pk, table.c.failing_since.is_not(None))
            .values(failing_since=None)
        )
        return
    conn.execute(
        table.update()
        .where(table.c.pk == endpoint.pk, table.c.failing_since.is_(None))
        .values(failing_since=to_micros(now))
    )
    due: sa.ColumnElement[bool]
    if outcome.status_code == 410:
        reason = "the receiver answered 410 Gone"
        due = table.c.enabled.is_(True)
    else:
        reason = f"every delivery failed for {DISABLE_AFTER.days} days"
        due = sa.and_(
            table.c.enabled.is_(True), table.c.failing_since <= to_micros(now - DISABLE_AFTER)
        )
    # Conditional, so that of several workers failing at once only one disables and records.
    still_enabled = conn.execute(
        sa.select(table.c.pk).where(table.c.pk == endpoint.pk, due)
    ).first()
    if still_enabled is None:
        return
    disable(conn, endpoint_pk=endpoint.pk, reason=reason)
    fresh = from_row(conn.execute(sa.select(table).where(table.c.pk == endpoint.pk)).one())
    key = "webhook_endpoint.disable"
    event_pk = record_event(
        conn, principal=fresh.owner, key=key, data=endpoint_to_wire(fresh), now=now
    )
    enqueue(conn, principal=fresh.owner, event_pk=event_pk, key=key, now=now)


def deliveries_of(conn: Connection, *, event_pks: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Each event's delivery attempts, as the event object lists them."""
    rows = conn.execute(
        sa.select(
            webhook_deliveries.c.event_pk,
            webhook_deliveries.c.id,
            webhook_endpoints.c.id.label("endpoint_id"),
            webhook_endpoints.c.url,
            webhook_attempts.c.status_code,
            webhook_attempts.c.attempted_at,
            webhook_attempts.c.latency_ms,
            webhook_attempts.c.error,
        )
        .join(webhook_endpoints, webhook_endpoints.c.pk == webhook_deliveries.c.endpoint_pk)
        .join(webhook_attempts, webhook_attempts.c.delivery_pk == webhook_deliveries.c.pk)
        .where(webhook_deliveries.c.event_pk.in_(event_pks))
        .order_by(webhook_attempts.c.pk)
    ).all()
    out: dict[int, list[dict[str, Any]]] = {pk: [] for pk in event_pks}
    for r in rows:
        out[r.event_pk].append(
            {
                "object": "webhook_delivery",
                "id": r.id,
                "endpoint": r.endpoint_id,
                "uri": r.url,
                "status": r.status_code,
                "error": r.error,
                "latency_ms": r.latency_ms,
                "attempted_at": format_time(from_micros(r.attempted_at)),
            }
        )
    return out
