"""HTTP for events: list, retrieve, and a charge's events (each with its delivery attempts).
Redelivering one is the webhooks' business (`webhooks.routes.redeliver_event`)."""

from __future__ import annotations

from typing import Any

from paylinks.api.pipeline import ApiCall
from paylinks.events import reads
from paylinks.pagination import list_object, parse_list_query


async def list_events(call: ApiCall) -> dict[str, Any]:
    query = parse_list_query(call.params)
    data, total = await call.db.read(reads.read_events, principal=call.principal, query=query)
    return list_object(data=data, total=total, query=query, location="/events", now=call.now())


async def retrieve_event(call: ApiCall) -> dict[str, Any]:
    return await call.db.read(
        reads.read_event, principal=call.principal, event_id=call.path_param("event_id")
    )


async def list_charge_events(call: ApiCall) -> dict[str, Any]:
    charge_id = call.path_param("charge_id")
    query = parse_list_query(call.params)
    data, total = await call.db.read(
        reads.read_events, principal=call.principal, query=query, charge_id=charge_id
    )
    location = f"/charges/{charge_id}/events"
    return list_object(data=data, total=total, query=query, location=location, now=call.now())
