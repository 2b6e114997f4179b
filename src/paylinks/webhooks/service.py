"""Webhook endpoints and the delivery outbox: which endpoints want an event, the delivery rows
written with it, and the worker's claim / record / reschedule steps.

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
from paylinks.errors import BadRequest, NotFound
from paylinks.ids import new_id
from paylinks.models import events, webhook_attempts, webhook_deliveries, webhook_endpoints
from paylinks.webhooks import signing

EVENT_KEYS = (
    "charge.create",
    "charge.complete",
    "charge.failed",
    "link.create",
    "link.update",
    "link.destroy",
)
# Seconds after the first attempt, about three days in all (Standard Webhooks' example
# schedule); each gets ±10 % jitter so that a recovering receiver is not hit all at once.
RETRY_SCHEDULE = (60, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
LEASE = timedelta(seconds=60)
ROLL_OVERLAP = timedelta(hours=24)


@dataclass(frozen=True)
class Endpoint:
    pk: int
    id: str
    livemode: bool
    url: str
    events: list[str] | None
    enabled: bool
    scheme: str
    secret: str
    previous_secret: str | None
    previous_secret_until: datetime | None
    disabled_reason: str | None
    created_at: datetime

    def signing_secrets(self, now: datetime) -> list[str]:
        """The current secret, then the previous one while its roll-over window lasts."""
        if self.previous_secret and self.previous_secret_until and now < self.previous_secret_until:
            return [self.secret, self.previous_secret]
        return [self.secret]


def _endpoint(row: Any) -> Endpoint:
    return Endpoint(
        pk=row.pk,
        id=row.id,
        livemode=bool(row.livemode),
        url=row.url,
        events=orjson.loads(row.events) if row.events else None,
        enabled=bool(row.enabled),
        scheme=row.scheme,
        secret=row.secret,
        previous_secret=row.previous_secret,
        previous_secret_until=from_micros(row.previous_secret_until),
        disabled_reason=row.disabled_reason,
        created_at=from_micros(row.created_at),  # type: ignore[arg-type]
    )


def _scoped(principal: Principal) -> list[sa.ColumnElement[bool]]:
    return [
        webhook_endpoints.c.account_pk == principal.account_pk,
        webhook_endpoints.c.livemode == principal.livemode,
    ]


def check_event_keys(keys: list[str] | None) -> list[str] | None:
    if keys is None:
        return None
    unknown = [k for k in keys if k not in EVENT_KEYS]
    if unknown:
        raise BadRequest(f"unknown event key {unknown[0]!r}; keys are {', '.join(EVENT_KEYS)}")
    return sorted(set(keys))


def create_endpoint(
    conn: Connection,
    *,
    principal: Principal,
    url: str,
    keys: list[str] | None,
    scheme: str,
    now: datetime,
) -> Endpoint:
    """A new endpoint with a fresh signing secret (shown to the caller once)."""
    if scheme not in ("seed", "omise"):
        raise BadRequest("signature scheme must be seed or omise")
    endpoint_id = new_id("wbhk", livemode=principal.livemode)
    conn.execute(
        webhook_endpoints.insert().values(
            id=endpoint_id,
            account_pk=principal.account_pk,
            livemode=principal.livemode,
            url=url,
            events=orjson.dumps(check_event_keys(keys)).decode() if keys is not None else None,
            enabled=True,
            scheme=scheme,
            secret=signing.new_secret(),
            created_at=to_micros(now),
        )
    )
    return get_endpoint(conn, principal=principal, endpoint_id=endpoint_id)


def get_endpoint(conn: Connection, *, principal: Principal, endpoint_id: str) -> Endpoint:
    row = conn.execute(
        sa.select(webhook_endpoints).where(
            webhook_endpoints.c.id == endpoint_id, *_scoped(principal)
        )
    ).first()
    if row is None:
        raise NotFound.for_object("webhook endpoint", endpoint_id)
    return _endpoint(row)


def list_endpoints(conn: Connection, *, principal: Principal) -> list[Endpoint]:
    rows = conn.execute(
        sa.select(webhook_endpoints).where(*_scoped(principal)).order_by(webhook_endpoints.c.pk)
    ).all()
    return [_endpoint(r) for r in rows]


def remove_endpoint(conn: Connection, *, principal: Principal, endpoint_id: str) -> Endpoint:
    """Disable the endpoint for good (its delivery log stays)."""
    endpoint = get_endpoint(conn, principal=principal, endpoint_id=endpoint_id)
    conn.execute(
        webhook_endpoints.update()
        .where(webhook_endpoints.c.pk == endpoint.pk)
        .values(enabled=False, disabled_reason="removed")
    )
    return get_endpoint(conn, principal=principal, endpoint_id=endpoint_id)


def roll_secret(
    conn: Connection, *, principal: Principal, endpoint_id: str, now: datetime
) -> Endpoint:
    """A new secret; the old one keeps signing (beside the new) for 24 hours."""
    endpoint = get_endpoint(conn, principal=principal, endpoint_id=endpoint_id)
    conn.execute(
        webhook_endpoints.update()
        .where(webhook_endpoints.c.pk == endpoint.pk)
        .values(
            secret=signing.new_secret(),
            previous_secret=endpoint.secret,
            previous_secret_until=to_micros(now + ROLL_OVERLAP),
        )
    )
    return get_endpoint(conn, principal=principal, endpoint_id=endpoint_id)


def enqueue(
    conn: Connection, *, principal: Principal, event_pk: int, key: str, now: datetime
) -> int:
    """One delivery row per enabled endpoint of the account and mode that wants `key`, in the
    caller's transaction; how many."""
    count = 0
    for endpoint in list_endpoints(conn, principal=principal):
        if not endpoint.enabled or (endpoint.events is not None and key not in endpoint.events):
            continue
        conn.execute(
            webhook_deliveries.insert().values(
                id=new_id("whdl", livemode=principal.livemode),
                event_pk=event_pk,
                endpoint_pk=endpoint.pk,
                status="pending",
                attempts=0,
                next_attempt_at=to_micros(now),
                created_at=to_micros(now),
            )
        )
        count += 1
    return count


@dataclass(frozen=True)
class Job:
    """A claimed delivery: everything the sender needs."""

    delivery_pk: int
    delivery_id: str
    attempts: int
    event_id: str
    body: bytes
    endpoint: Endpoint


def claim_due(conn: Connection, *, now: datetime, limit: int) -> list[Job]:
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
        .values(locked_until=to_micros(now + LEASE))
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


def _job(row: Any) -> Job:
    body = orjson.dumps(
        {
            "object": "event",
            "id": row.event_id,
            "livemode": bool(row.event_livemode),
            "location": f"/events/{row.event_id}",
            "key": row.key,
            "created_at": format_time(from_micros(row.event_created_at)),
            # The event's object exactly as it was stored when the change committed.
            "data": orjson.Fragment(row.data),
        }
    )
    return Job(row.delivery_pk, row.delivery_id, row.attempts, row.event_id, body, _endpoint(row))


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
    """Log the attempt and move the delivery on; the delivery's new status."""
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
        status = "pending" if when is not None else "failed"
        if outcome.status_code == 410:  # the receiver says it is gone for good
            status, when = "failed", None
            conn.execute(
                webhook_endpoints.update()
                .where(webhook_endpoints.c.pk == job.endpoint.pk)
                .values(enabled=False, disabled_reason="the receiver answered 410 Gone")
            )
    conn.execute(
        webhook_deliveries.update()
        .where(webhook_deliveries.c.pk == job.delivery_pk)
        .values(
            status=status,
            attempts=attempts,
            last_status=outcome.status_code,
            next_attempt_at=to_micros(when) if when else None,
            locked_until=None,
        )
    )
    return status


def deliveries_of(conn: Connection, *, event_pks: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Each event's delivery attempts, as the event object lists them."""
    rows = conn.execute(
        sa.select(
            webhook_deliveries.c.event_pk,
            webhook_deliveries.c.id,
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
                "uri": r.url,
                "status": r.status_code,
                "error": r.error,
                "latency_ms": r.latency_ms,
                "attempted_at": format_time(from_micros(r.attempted_at)),
            }
        )
    return out
