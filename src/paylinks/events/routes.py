"""HTTP for events: list, retrieve, and a charge's events (each with its delivery attempts)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from paylinks.accounts.service import Principal
from paylinks.api import ApiCall
from paylinks.charges import service as charges_service
from paylinks.events import schemas, service
from paylinks.events.service import Event
from paylinks.pagination import ListQuery, list_object, parse_list_query
from paylinks.webhooks.outbox import deliveries_of, redeliver

Rendered = list[dict[str, Any]]


def _render(conn: Connection, found: list[Event]) -> Rendered:
    attempts = deliveries_of(conn, event_pks=[e.pk for e in found])
    return [schemas.event_to_wire(e, attempts.get(e.pk, [])) for e in found]


def read_events(
    conn: Connection, *, principal: Principal, query: ListQuery, charge_id: str | None = None
) -> tuple[Rendered, int]:
    charge_pk = None
    if charge_id is not None:
        charge_pk = charges_service.get_charge(conn, principal=principal, charge_id=charge_id).pk
    found, total = service.list_events(conn, principal=principal, query=query, charge_pk=charge_pk)
    return _render(conn, found), total


def read_event(conn: Connection, *, principal: Principal, event_id: str) -> dict[str, Any]:
    return _render(conn, [service.get_event(conn, principal=principal, event_id=event_id)])[0]


async def list_events(call: ApiCall) -> dict[str, Any]:
    query = parse_list_query(call.params)
    data, total = await call.db.read(read_events, principal=call.principal, query=query)
    return list_object(data=data, total=total, query=query, location="/events", now=call.now())


async def retrieve_event(call: ApiCall) -> dict[str, Any]:
    return await call.db.read(
        read_event, principal=call.principal, event_id=call.path_param("event_id")
    )


async def list_charge_events(call: ApiCall) -> dict[str, Any]:
    charge_id = call.path_param("charge_id")
    query = parse_list_query(call.params)
    data, total = await call.db.read(
        read_events, principal=call.principal, query=query, charge_id=charge_id
    )
    location = f"/charges/{charge_id}/events"
    return list_object(data=data, total=total, query=query, location=location, now=call.now())


def _redeliver(
    conn: Connection, *, principal: Principal, event_id: str, endpoint_id: str | None, now: datetime
) -> dict[str, Any]:
    redeliver(conn, principal=principal, event_id=event_id, endpoint_id=endpoint_id, now=now)
    return read_event(conn, principal=principal, event_id=event_id)


async def redeliver_event(call: ApiCall) -> dict[str, Any]:
    """Queue the event again (to one endpoint, or to every endpoint that wants it); the event,
    whose `webhook_deliveries` grow as the new attempts are made."""
    return await call.db.write(
        _redeliver,
        principal=call.principal,
        event_id=call.path_param("event_id"),
        endpoint_id=call.params.string("endpoint"),
        now=call.now(),
    )
