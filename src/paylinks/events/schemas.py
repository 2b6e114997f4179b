"""The event wire format (omise-compat §4.6)."""

from __future__ import annotations

from typing import Any

from paylinks.clock import format_time
from paylinks.events.service import Event


def event_to_wire(event: Event, deliveries: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "object": "event",
        "id": event.id,
        "livemode": event.livemode,
        "location": f"/events/{event.id}",
        "key": event.key,
        "created_at": format_time(event.created_at),
        "data": event.data,
        "webhook_deliveries": deliveries,  # every attempt, oldest first
    }
