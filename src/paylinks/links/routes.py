"""HTTP for links: parse, call one service function, render."""

from __future__ import annotations

from typing import Any

from paylinks.api.pipeline import ApiCall
from paylinks.charges import service as charges_service
from paylinks.charges.schemas import charge_to_wire
from paylinks.links import reads, schemas, service
from paylinks.links.reads import Embedded
from paylinks.links.service import Link
from paylinks.pagination import list_object, parse_list_query
from paylinks.upstream.currencies import check_live_currency


def render_link(call: ApiCall, link: Link, embedded: Embedded | None = None) -> dict[str, Any]:
    public_url = call.runtime.settings.public_url
    return schemas.linked_to_wire(link, embedded or {}, public_url=public_url, now=call.now())


async def _render_fresh(call: ApiCall, link: Link) -> dict[str, Any]:
    """Render a link just written, with its charges as they are now."""
    embedded = await call.db.read(charges_service.embedded_charges, link_pks=[link.pk])
    return render_link(call, link, embedded)


async def create_link(call: ApiCall) -> dict[str, Any]:
    now = call.now()
    new = schemas.parse_create(call.params, now=now)
    if call.principal.livemode:
        await call.db.read(check_live_currency, principal=call.principal, currency=new.currency)
    link = await call.db.write(
        service.create_link,
        principal=call.principal,
        new=new,
        now=now,
        max_active=call.runtime.settings.max_active_links,
        record=call.runtime.recorder,
    )
    return render_link(call, link)  # a new link has no charges


async def retrieve_link(call: ApiCall) -> dict[str, Any]:
    found, embedded = await call.db.read(
        reads.read_link, principal=call.principal, link_id=call.path_param("link_id")
    )
    return render_link(call, found[0], embedded)


async def update_link(call: ApiCall) -> dict[str, Any]:
    link_id = call.path_param("link_id")
    # Another account's link is a 404 whatever the parameters say.
    await call.db.read(service.get_link, principal=call.principal, link_id=link_id)
    description, metadata = schemas.parse_update(call.params)
    link = await call.db.write(
        service.update_link,
        principal=call.principal,
        link_id=link_id,
        description=description,
        metadata=metadata,
        now=call.now(),
        record=call.runtime.recorder,
    )
    return await _render_fresh(call, link)


async def delete_link(call: ApiCall) -> dict[str, Any]:
    link = await call.db.write(
        service.delete_link,
        principal=call.principal,
        link_id=call.path_param("link_id"),
        now=call.now(),
        record=call.runtime.recorder,
    )
    return await _render_fresh(call, link)


async def list_links(call: ApiCall) -> dict[str, Any]:
    query = parse_list_query(call.params)
    found, embedded, total = await call.db.read(
        reads.read_links, principal=call.principal, query=query
    )
    return list_object(
        data=[render_link(call, link, embedded) for link in found],
        total=total,
        query=query,
        location="/links",
        now=call.now(),
    )


async def list_link_charges(call: ApiCall) -> dict[str, Any]:
    link_id = call.path_param("link_id")
    query = parse_list_query(call.params)
    found, total = await call.db.read(
        reads.read_link_charges, principal=call.principal, link_id=link_id, query=query
    )
    public_url = call.runtime.settings.public_url
    return list_object(
        data=[charge_to_wire(c, public_url=public_url) for c in found],
        total=total,
        query=query,
        location=f"/links/{link_id}/charges",
        now=call.now(),
    )


async def link_stats(call: ApiCall) -> dict[str, Any]:
    """Our extension: the seed's "Monitor Link Performance" computed by the server."""
    link, stats = await call.db.read(
        reads.link_stats, principal=call.principal, link_id=call.path_param("link_id")
    )
    successful = stats.by_status.get("successful", 0)
    return {
        "object": "link_stats",
        "link": link.id,
        "location": f"/links/{link.id}/stats",
        "livemode": link.livemode,
        "currency": link.currency,
        "views": stats.views,
        "charges": {
            "total": sum(stats.by_status.values()),
            "successful": successful,
            "failed": stats.by_status.get("failed", 0),
            "pending": stats.by_status.get("pending", 0),
        },
        "revenue": stats.revenue,
        "refunded": stats.refunded,
        "net_revenue": stats.net_revenue,
        "conversion": round(successful / stats.views, 4) if stats.views else None,
    }
