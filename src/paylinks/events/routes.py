"""HTTP for events: list, retrieve, and a charge's events."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from paylinks.accounts.service import Principal
from paylinks.api import ApiCall
from paylinks.charges import service as charges_service
from paylinks.events import schemas, service
from paylinks.events.service import Event
from paylinks.pagination import ListQuery, list_object, parse_list_query


async def list_events(call: ApiCall) -> dict[str, Any]:
    query = parse_list_query(call.params)
    found, total = await call.db.read(service.list_events, principal=call.principal, query=query)
    return list_object(
        data=[schemas.event_to_wire(e) for e in found],
        total=total,
        query=query,
        location="/events",
        now=call.now(),
    )


async def retrieve_event(call: ApiCall) -> dict[str, Any]:
    event = await call.db.read(
        service.get_event, principal=call.principal, event_id=call.path_param("event_id")
    )
    return schemas.event_to_wire(event)


def read_charge_events(
    conn: Connection, *, principal: Principal, charge_id: str, query: ListQuery
) -> tuple[list[Event], int]:
    charge = charges_service.get_charge(conn, principal=principal, charge_id=charge_id)
    return service.list_events(conn, principal=principal, query=query, charge_pk=charge.pk)


async def list_charge_events(call: ApiCall) -> dict[str, Any]:
    charge_id = call.path_param("charge_id")
    query = parse_list_query(call.params)
    found, total = await call.db.read(
        read_charge_events, principal=call.principal, charge_id=charge_id, query=query
    )
    return list_object(
        data=[schemas.event_to_wire(e) for e in found],
        total=total,
        query=query,
        location=f"/charges/{charge_id}/events",
        now=call.now(),
    )
