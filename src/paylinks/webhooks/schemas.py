"""The webhook endpoint's wire format, both directions."""

from __future__ import annotations

from typing import Any

from paylinks.clock import format_time
from paylinks.errors import BadRequest
from paylinks.params import Params
from paylinks.webhooks.service import Changes, Endpoint

URL_MAX = 2048


def endpoint_to_wire(endpoint: Endpoint, *, with_secret: bool = False) -> dict[str, Any]:
    """The endpoint object; the secret only in the answer that made it (create, roll)."""
    wire: dict[str, Any] = {
        "object": "webhook_endpoint",
        "id": endpoint.id,
        "livemode": endpoint.livemode,
        "location": f"/webhook_endpoints/{endpoint.id}",
        "url": endpoint.url,
        "events": endpoint.events,
        "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason,
        "signature_scheme": endpoint.scheme,
        "failing_since": format_time(endpoint.failing_since) if endpoint.failing_since else None,
        "previous_secret_expires_at": (
            format_time(endpoint.previous_secret_until) if endpoint.previous_secret else None
        ),
        "created_at": format_time(endpoint.created_at),
    }
    if with_secret:
        wire["secret"] = endpoint.shown_secret
    return wire


def deleted_to_wire(endpoint_id: str, *, livemode: bool) -> dict[str, Any]:
    # Omise: deletions answer with the id and `deleted: true` (as for customers).
    return {"object": "webhook_endpoint", "id": endpoint_id, "livemode": livemode, "deleted": True}


def parse_keys(params: Params) -> list[str] | None:
    """`events` as a list (JSON, `events[]=` or `events[0]=` form fields) or a comma-separated
    string; None when absent."""
    value = params.data.get("events")
    if value is None:
        return None
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    raise BadRequest('events must be a list of event keys, or "*" for every event')


def parse_create(params: Params) -> tuple[str, list[str] | None, str]:
    url = params.string("url", required=True, max_length=URL_MAX)
    assert url is not None
    scheme = params.string("signature_scheme") or "seed"
    return url.strip(), parse_keys(params), scheme


def parse_update(params: Params) -> Changes:
    url = params.string("url", max_length=URL_MAX)
    return Changes(
        url=url.strip() if url is not None else None,
        keys=parse_keys(params),
        enabled=params.boolean("enabled"),
        scheme=params.string("signature_scheme"),
    )
