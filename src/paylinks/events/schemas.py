"""The event wire format (omise-compat §4.6), once for every reader: the API (with the event's
delivery attempts), the webhook body the worker posts, and `paylinks listen`, which must post
the same bytes as the worker."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from paylinks.clock import format_time
from paylinks.events.service import Event


def event_object(
    *, event_id: str, livemode: bool, key: str, created_at: datetime, data: Any
) -> dict[str, Any]:
    """The event object, keys in Omise's order, without its delivery attempts."""
    return {
        "object": "event",
        "id": event_id,
        "livemode": livemode,
        "location": f"/events/{event_id}",
        "key": key,
        "created_at": format_time(created_at),
        "data": data,
    }


def event_to_wire(event: Event, deliveries: list[dict[str, Any]]) -> dict[str, Any]:
    """The event as the API shows it: with every delivery attempt, oldest first."""
    wire = event_object(
        event_id=event.id,
        livemode=event.livemode,
        key=event.key,
        created_at=event.created_at,
        data=event.data,
    )
    return {**wire, "webhook_deliveries": deliveries}


def event_body(
    *, event_id: str, livemode: bool, key: str, created_at: datetime, data: bytes | str
) -> bytes:
    """A delivery's body: the event object without its delivery log, holding the changed
    object exactly as it was stored (`data`, JSON text) when the change committed."""
    wire = event_object(
        event_id=event_id,
        livemode=livemode,
        key=key,
        created_at=created_at,
        data=orjson.Fragment(data),
    )
    return orjson.dumps(wire)
