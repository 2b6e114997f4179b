"""The outbox as the delivery worker sees it: claiming what is due, recording each attempt,
the retry schedule, and each endpoint's health.

Delivery is at least once: a row is claimed with a lease (`locked_until`) so that several
workers never send the same attempt at once (`FOR UPDATE SKIP LOCKED` on PostgreSQL), and marked
only after the receiver answered. A crash between the answer and the mark sends it again, with
the same `webhook-id`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paylinks.clock import from_micros, to_micros
from paylinks.eventlog import record_event
from paylinks.events import schemas as events_schemas
from paylinks.models import events, webhook_attempts, webhook_deliveries, webhook_endpoints
from paylinks.webhooks.schemas import endpoint_to_wire
from paylinks.webhooks.service import Endpoint, disable, enqueue, from_row

# Seconds after the first attempt, about three days in all (Standard Webhooks' example
# schedule); each gets ±10 % jitter so that a recovering receiver is not hit all at once.
RETRY_SCHEDULE = (60, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
# How long a claim holds: longer than any attempt takes (10 s timeout and the record), so that
# only a worker that died gives its deliveries back.
LEASE = timedelta(seconds=60)
# An endpoint whose every attempt failed for this long is disabled (Svix's rule). One success
# restarts the clock, so an endpoint that flaps is never disabled.
DISABLE_AFTER = timedelta(days=5)


def due(now: datetime) -> list[sa.ColumnElement[bool]]:
    """What makes a delivery due: pending, its time come, and no live lease on it."""
    micros = to_micros(now)
    return [
        webhook_deliveries.c.status == "pending",
        webhook_deliveries.c.next_attempt_at <= micros,
        sa.or_(
            webhook_deliveries.c.locked_until.is_(None),
            webhook_deliveries.c.locked_until < micros,
        ),
    ]


def anything_due(conn: Connection, *, now: datetime) -> bool:
    """A cheap read before taking the write lock to claim."""
    found = conn.execute(sa.select(webhook_deliveries.c.pk).where(*due(now)).limit(1)).first()
    return found is not None


@dataclass(frozen=True)
class Job:
    """A claimed delivery: everything the sender needs."""

    delivery_pk: int
    delivery_id: str
    attempts: int
    event_id: str
    body: bytes
    endpoint: Endpoint
    # What the event is about (its charge, else its link), so that one receiver gets one
    # object's events in the order they happened; None: an event of nothing in particular.
    subject: tuple[str, int] | None = None


def claim_due(
    conn: Connection, *, now: datetime, limit: int, lease: timedelta = LEASE
) -> list[Job]:
    """Lease up to `limit` due deliveries to this worker. On PostgreSQL, rows another worker is
    claiming are skipped (SKIP LOCKED); on SQLite the write lock serialises claims."""
    claimable = (
        sa.select(webhook_deliveries.c.pk)
        .where(*due(now))
        .order_by(webhook_deliveries.c.next_attempt_at, webhook_deliveries.c.pk)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        claimable = claimable.with_for_update(skip_locked=True)
    pks = list(conn.execute(claimable).scalars())
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
            events.c.charge_pk.label("event_charge_pk"),
            events.c.link_pk.label("event_link_pk"),
            webhook_endpoints,
        )
        .join(events, events.c.pk == webhook_deliveries.c.event_pk)
        .join(webhook_endpoints, webhook_endpoints.c.pk == webhook_deliveries.c.endpoint_pk)
        .where(webhook_deliveries.c.pk.in_(pks))
    ).all()
    # In claim order (due time, then delivery): for one object, the order its events happened.
    position = {pk: index for index, pk in enumerate(pks)}
    return sorted((_job(row) for row in rows), key=lambda job: position[job.delivery_pk])


def _job(row: Any) -> Job:
    body = events_schemas.event_body(
        event_id=row.event_id,
        livemode=bool(row.event_livemode),
        key=row.key,
        created_at=from_micros(row.event_created_at),  # type: ignore[arg-type]
        data=row.data,
    )
    subject = None
    if row.event_charge_pk is not None:
        subject = ("charge", int(row.event_charge_pk))
    elif row.event_link_pk is not None:
        subject = ("link", int(row.event_link_pk))
    return Job(
        row.delivery_pk, row.delivery_id, row.attempts, row.event_id, body, from_row(row), subject
    )


@dataclass(frozen=True)
class AttemptResult:
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


def record_delivered(
    conn: Connection, *, done: list[tuple[Job, AttemptResult]], now: datetime
) -> None:
    """`record_attempt` for many plain attempts (`plain`) in one transaction and two
    statements: a worker's throughput is its writes. Rows are locked in primary-key order;
    no endpoint row is touched."""
    done = sorted(done, key=lambda pair: pair[0].delivery_pk)
    conn.execute(webhook_attempts.insert(), [_attempt_row(job, got, now) for job, got in done])
    conn.execute(
        _DELIVERED,
        [
            {"b_pk": job.delivery_pk, "b_attempts": job.attempts + 1, "b_status": got.status_code}
            for job, got in done
        ],
    )


def plain(job: Job, outcome: AttemptResult) -> bool:
    """Delivered to an endpoint that was not failing: nothing but the delivery row changes.
    Anything else goes through `record_attempt`, one at a time (it locks the endpoint first)."""
    return outcome.delivered and job.endpoint.failing_since is None


# Only a delivery still pending moves on (see `record_attempt`).
_DELIVERED = (
    webhook_deliveries.update()
    .where(
        webhook_deliveries.c.pk == sa.bindparam("b_pk"),
        webhook_deliveries.c.status == "pending",
    )
    .values(
        status="delivered",
        attempts=sa.bindparam("b_attempts"),
        last_status=sa.bindparam("b_status"),
        next_attempt_at=None,
        locked_until=None,
    )
)


def _attempt_row(job: Job, outcome: AttemptResult, now: datetime) -> dict[str, Any]:
    return {
        "delivery_pk": job.delivery_pk,
        "attempted_at": to_micros(now),
        "status_code": outcome.status_code,
        "latency_ms": outcome.latency_ms,
        "response_excerpt": outcome.excerpt,
        "error": outcome.error,
    }


def record_attempt(conn: Connection, *, job: Job, outcome: AttemptResult, now: datetime) -> str:
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
    conn.execute(webhook_attempts.insert().values(_attempt_row(job, outcome, now)))
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


def _track_health(
    conn: Connection, *, endpoint: Endpoint, outcome: AttemptResult, now: datetime
) -> None:
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
