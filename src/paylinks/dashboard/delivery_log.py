"""The delivery log the dashboard shows: every attempt to one endpoint (newest first, with the
receiver's answer excerpt), or every attempt of one event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paylinks.clock import from_micros
from paylinks.models import events, webhook_attempts, webhook_deliveries, webhook_endpoints


@dataclass(frozen=True)
class Attempt:
    event_id: str
    event_key: str
    endpoint_url: str
    attempted_at: datetime
    status_code: int | None
    error: str | None
    latency_ms: int
    excerpt: str | None


_SELECT = (
    sa.select(
        events.c.id,
        events.c.key,
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
