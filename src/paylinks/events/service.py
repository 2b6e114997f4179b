"""Events: one row per state change, written in the transaction of the change.

Services that change state take a `Recorder` and call it with the changed object; what an event
holds (the object's wire form) is the recorder's business, so services need no renderer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paylinks.accounts.service import Principal
from paylinks.clock import from_micros, to_micros
from paylinks.errors import NotFound
from paylinks.ids import new_id
from paylinks.models import events
from paylinks.pagination import ListQuery

LINK_KEYS = ("link.create", "link.update", "link.destroy")
CHARGE_KEYS = ("charge.create", "charge.complete", "charge.failed")
# Recorded when paylinks itself disables an endpoint (410 Gone, five days of failures).
ENDPOINT_KEYS = ("webhook_endpoint.disable",)
EVENT_KEYS = CHARGE_KEYS + LINK_KEYS + ENDPOINT_KEYS


class Recorder(Protocol):
    def __call__(
        self, conn: Connection, *, key: str, principal: Principal, subject: Any, now: datetime
    ) -> None:
        """Record `key` for `subject` (a link or a charge) in the caller's transaction."""
        ...


def record_event(
    conn: Connection,
    *,
    principal: Principal,
    key: str,
    data: dict[str, Any],
    now: datetime,
    charge_pk: int | None = None,
    link_pk: int | None = None,
) -> int:
    """Insert one event; its primary key."""
    event_id = new_id("evnt", livemode=principal.livemode)
    pk = conn.execute(
        events.insert()
        .values(
            id=event_id,
            account_pk=principal.account_pk,
            livemode=principal.livemode,
            key=key,
            data=orjson.dumps(data).decode(),
            charge_pk=charge_pk,
            link_pk=link_pk,
            created_at=to_micros(now),
        )
        .returning(events.c.pk)
    ).scalar_one()
    return int(pk)


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


def _scoped(principal: Principal) -> list[sa.ColumnElement[bool]]:
    return [events.c.account_pk == principal.account_pk, events.c.livemode == principal.livemode]


def get_event(conn: Connection, *, principal: Principal, event_id: str) -> Event:
    row = conn.execute(
        sa.select(*_COLUMNS, events.c.created_at).where(
            events.c.id == event_id, *_scoped(principal)
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
    where = _scoped(principal)
    if charge_pk is not None:
        where.append(events.c.charge_pk == charge_pk)
    if key is not None:
        where.append(events.c.key == key)
    if query.from_ is not None:
        where.append(events.c.created_at >= to_micros(query.from_))
    if query.to is not None:
        where.append(events.c.created_at <= to_micros(query.to))
    order = (
        (events.c.created_at.desc(), events.c.pk.desc())
        if query.reverse
        else (events.c.created_at.asc(), events.c.pk.asc())
    )
    rows = conn.execute(
        sa.select(*_COLUMNS, events.c.created_at)
        .where(*where)
        .order_by(*order)
        .limit(query.limit)
        .offset(query.offset)
    ).all()
    total = conn.execute(sa.select(sa.func.count()).select_from(events).where(*where)).scalar_one()
    return [_from_row(r) for r in rows], int(total)
