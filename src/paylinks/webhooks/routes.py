"""HTTP for webhook endpoints (our extension; Omise configures them in its dashboard), and
for sending an event again (`POST /events/:id/redeliver`)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from paylinks.api.pipeline import ApiCall
from paylinks.auth import Principal
from paylinks.errors import InvalidUrl
from paylinks.events import reads
from paylinks.pagination import list_object, parse_list_query
from paylinks.webhooks import addresses, schemas, service


async def check_url(call: ApiCall, url: str) -> None:
    """Refuse a URL webhooks may not call (see `addresses`): `invalid_url`."""
    policy = addresses.Policy(call.principal.livemode, call.runtime.settings.allow_private_webhooks)
    try:
        await asyncio.to_thread(addresses.check_webhook_url, url, policy=policy)
    except ValueError as exc:
        raise InvalidUrl(str(exc)) from None


async def create_endpoint(call: ApiCall) -> dict[str, Any]:
    url, keys, scheme = schemas.parse_create(call.params)
    await check_url(call, url)
    endpoint = await call.db.write(
        service.create_endpoint,
        principal=call.principal,
        url=url,
        keys=keys,
        scheme=scheme,
        now=call.now(),
        limit=call.runtime.settings.max_webhook_endpoints,
    )
    return schemas.endpoint_to_wire(endpoint, with_secret=True)


async def retrieve_endpoint(call: ApiCall) -> dict[str, Any]:
    endpoint = await call.db.read(
        service.get_endpoint,
        principal=call.principal,
        endpoint_id=call.path_param("endpoint_id"),
    )
    return schemas.endpoint_to_wire(endpoint)


async def list_endpoints(call: ApiCall) -> dict[str, Any]:
    query = parse_list_query(call.params)
    found, total = await call.db.read(service.page_endpoints, principal=call.principal, query=query)
    return list_object(
        data=[schemas.endpoint_to_wire(e) for e in found],
        total=total,
        query=query,
        location="/webhook_endpoints",
        now=call.now(),
    )


async def update_endpoint(call: ApiCall) -> dict[str, Any]:
    changes = schemas.parse_update(call.params)
    if changes.url is not None:
        # Another account's (or mode's) endpoint is a 404 before any word about the URL.
        await call.db.read(
            service.get_endpoint,
            principal=call.principal,
            endpoint_id=call.path_param("endpoint_id"),
        )
        await check_url(call, changes.url)
    endpoint = await call.db.write(
        service.update_endpoint,
        principal=call.principal,
        endpoint_id=call.path_param("endpoint_id"),
        changes=changes,
    )
    return schemas.endpoint_to_wire(endpoint)


async def delete_endpoint(call: ApiCall) -> dict[str, Any]:
    endpoint = await call.db.write(
        service.delete_endpoint,
        principal=call.principal,
        endpoint_id=call.path_param("endpoint_id"),
        now=call.now(),
    )
    return schemas.deleted_to_wire(endpoint.id, livemode=endpoint.livemode)


async def roll_secret(call: ApiCall) -> dict[str, Any]:
    endpoint = await call.db.write(
        service.roll_secret,
        principal=call.principal,
        endpoint_id=call.path_param("endpoint_id"),
        now=call.now(),
    )
    return schemas.endpoint_to_wire(endpoint, with_secret=True)


async def rebuild_endpoint(call: ApiCall, endpoint_id: str) -> dict[str, Any]:
    """The answer a request that changed this endpoint would have given (see `recovery`)."""
    if call.request.method == "DELETE":
        return schemas.deleted_to_wire(endpoint_id, livemode=call.principal.livemode)
    endpoint = await call.runtime.db.read(
        service.get_endpoint, principal=call.principal, endpoint_id=endpoint_id
    )
    with_secret = call.request.method == "POST"  # create and roll_secret show it
    return schemas.endpoint_to_wire(endpoint, with_secret=with_secret)


def _redeliver(
    conn: Connection, *, principal: Principal, event_id: str, endpoint_id: str | None, now: datetime
) -> dict[str, Any]:
    service.redeliver(
        conn, principal=principal, event_id=event_id, endpoint_id=endpoint_id, now=now
    )
    return reads.read_event(conn, principal=principal, event_id=event_id)


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
