"""Events as the API reads them: one, a page, a charge's. They are written by `eventlog`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paylinks.auth import Principal
from paylinks.clock import format_time, from_micros
from paylinks.errors import NotFound
from paylinks.models import events, webhook_attempts, webhook_deliveries, webhook_endpoints
from paylinks.pagination import ListQuery, page_of, scoped


@dataclass(frozen=True)
class Event:
    pk: int
    id: str
    livemode: bool
    key: str
    data: dict[str, Any]
    created_at: datetime


_COLUMNS = (events.c.pk, events.c.id, events.c.livemode, events.c.key, events.c.data)


def _from_row(row: Any) -> Event:
    return Event(
        row.pk,
        row.id,
        bool(row.livemode),
        row.key,
        orjson.loads(row.data),
        from_micros(row.created_at),  # type: ignore[arg-type]
    )


def get_event(conn: Connection, *, principal: Principal, event_id: str) -> Event:
    row = conn.execute(
        sa.select(*_COLUMNS, events.c.created_at).where(
            events.c.id == event_id, *scoped(events, principal)
        )
    ).first()
    if row is None:
        raise NotFound.for_object("event", event_id)
    return _from_row(row)


def list_events(
    conn: Connection,
    *,
    principal: Principal,
    query: ListQuery,
    charge_pk: int | None = None,
    key: str | None = None,
) -> tuple[list[Event], int]:
    """A page of events (of one charge, or of one key, when given), oldest first by default,
    and how many match in all."""
    where = scoped(events, principal)
    if charge_pk is not None:
        where.append(events.c.charge_pk == charge_pk)
    if key is not None:
        where.append(events.c.key == key)
    select = sa.select(*_COLUMNS, events.c.created_at)
    rows, total = page_of(conn, select, table=events, where=where, query=query)
    return [_from_row(r) for r in rows], total


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
