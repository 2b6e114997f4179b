"""The delivery log the dashboard shows: every attempt to one endpoint (newest first, with the
receiver's answer excerpt), or every attempt of one event; and each endpoint's health as the
endpoints list and an endpoint's page show it (its last answer, its next retry)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paylinks.clock import from_micros
from paylinks.models import events, webhook_attempts, webhook_deliveries, webhook_endpoints


def answer(status_code: int | None, error: str | None) -> str:
    """What the receiver answered, as the log says it: "500 Internal Server Error", or why
    there was no answer."""
    if status_code is None:
        return error or "no answer"
    try:
        return f"{status_code} {HTTPStatus(status_code).phrase}"
    except ValueError:  # a status no standard names (a receiver may answer 299 or 599)
        return str(status_code)


@dataclass(frozen=True)
class Attempt:
    event_id: str
    event_key: str
    endpoint_id: str
    endpoint_url: str
    attempted_at: datetime
    status_code: int | None
    error: str | None
    latency_ms: int
    excerpt: str | None

    @property
    def answer(self) -> str:
        return answer(self.status_code, self.error)

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


_SELECT = (
    sa.select(
        events.c.id,
        events.c.key,
        webhook_endpoints.c.id.label("endpoint_id"),
        webhook_endpoints.c.url,
        webhook_attempts.c.attempted_at,
        webhook_attempts.c.status_code,
        webhook_attempts.c.error,
        webhook_attempts.c.latency_ms,
        webhook_attempts.c.response_excerpt,
    )
    .select_from(webhook_attempts)
    .join(webhook_deliveries, webhook_deliveries.c.pk == webhook_attempts.c.delivery_pk)
    .join(events, events.c.pk == webhook_deliveries.c.event_pk)
    .join(webhook_endpoints, webhook_endpoints.c.pk == webhook_deliveries.c.endpoint_pk)
)


def _attempt(row: Any) -> Attempt:
    return Attempt(
        event_id=row.id,
        event_key=row.key,
        endpoint_id=row.endpoint_id,
        endpoint_url=row.url,
        attempted_at=from_micros(row.attempted_at),  # type: ignore[arg-type]
        status_code=row.status_code,
        error=row.error,
        latency_ms=row.latency_ms,
        excerpt=row.response_excerpt,
    )


def attempts_of(
    conn: Connection, *, endpoint_pk: int, limit: int, offset: int
) -> tuple[list[Attempt], int]:
    where = webhook_deliveries.c.endpoint_pk == endpoint_pk
    rows = conn.execute(
        _SELECT.where(where).order_by(webhook_attempts.c.pk.desc()).limit(limit).offset(offset)
    ).all()
    total = conn.execute(
        sa.select(sa.func.count())
        .select_from(webhook_attempts)
        .join(webhook_deliveries, webhook_deliveries.c.pk == webhook_attempts.c.delivery_pk)
        .where(where)
    ).scalar_one()
    return [_attempt(r) for r in rows], int(total)


def attempts_of_event(conn: Connection, *, event_pk: int) -> list[Attempt]:
    rows = conn.execute(
        _SELECT.where(webhook_deliveries.c.event_pk == event_pk).order_by(webhook_attempts.c.pk)
    ).all()
    return [_attempt(r) for r in rows]


@dataclass(frozen=True)
class Health:
    """An endpoint's last attempt (None: never tried) and its earliest retry still to come."""

    last_at: datetime | None = None
    last_answer: str | None = None
    last_delivered: bool = False
    next_retry_at: datetime | None = None


def health_of(conn: Connection, *, endpoint_pks: list[int]) -> dict[int, Health]:
    """Every endpoint's `Health`, in two statements whatever the number of endpoints."""
    latest = (
        sa.select(webhook_deliveries.c.endpoint_pk, sa.func.max(webhook_attempts.c.pk).label("pk"))
        .join(webhook_deliveries, webhook_deliveries.c.pk == webhook_attempts.c.delivery_pk)
        .where(webhook_deliveries.c.endpoint_pk.in_(endpoint_pks))
        .group_by(webhook_deliveries.c.endpoint_pk)
        .subquery()
    )
    last = conn.execute(
        sa.select(latest.c.endpoint_pk, webhook_attempts).join(
            webhook_attempts, webhook_attempts.c.pk == latest.c.pk
        )
    ).all()
    # A retry is a pending delivery already tried once: a new one goes out at once.
    retries = conn.execute(
        sa.select(
            webhook_deliveries.c.endpoint_pk, sa.func.min(webhook_deliveries.c.next_attempt_at)
        )
        .where(
            webhook_deliveries.c.endpoint_pk.in_(endpoint_pks),
            webhook_deliveries.c.status == "pending",
            webhook_deliveries.c.attempts > 0,
        )
        .group_by(webhook_deliveries.c.endpoint_pk)
    ).all()
    next_retry = {pk: from_micros(at) for pk, at in retries}
    found = {pk: Health(next_retry_at=next_retry.get(pk)) for pk in endpoint_pks}
    for row in last:
        found[row.endpoint_pk] = Health(
            last_at=from_micros(row.attempted_at),
            last_answer=answer(row.status_code, row.error),
            last_delivered=row.status_code is not None and 200 <= row.status_code < 300,
            next_retry_at=next_retry.get(row.endpoint_pk),
        )
    return found
