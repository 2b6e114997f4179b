"""HTTP for links: parse, call one service function, render."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from paylinks.accounts.service import Principal
from paylinks.api import ApiCall
from paylinks.charges import service as charges_service
from paylinks.charges.routes import render_charge
from paylinks.charges.schemas import link_with_charges_to_wire
from paylinks.charges.service import Charge
from paylinks.links import schemas, service
from paylinks.links.service import Link
from paylinks.pagination import ListQuery, list_object, parse_list_query

Embedded = dict[int, tuple[list[Charge], int]]


def with_charges(conn: Connection, links: list[Link]) -> tuple[list[Link], Embedded]:
    return links, charges_service.embedded_charges(conn, link_pks=[link.pk for link in links])


def read_link(
    conn: Connection, *, principal: Principal, link_id: str
) -> tuple[list[Link], Embedded]:
    """One link and its embedded charges, in one transaction."""
    return with_charges(conn, [service.get_link(conn, principal=principal, link_id=link_id)])


def read_links(
    conn: Connection, *, principal: Principal, query: ListQuery
) -> tuple[list[Link], Embedded, int]:
    found, total = service.list_links(conn, principal=principal, query=query)
    return (*with_charges(conn, found), total)


def render_link(call: ApiCall, link: Link, embedded: Embedded | None = None) -> dict[str, Any]:
    found, total = (embedded or {}).get(link.pk, ([], 0))
    return link_with_charges_to_wire(
        link, found, total, public_url=call.services.settings.public_url, now=call.now()
    )


async def _render_fresh(call: ApiCall, link: Link) -> dict[str, Any]:
    """Render a link just written, with its charges as they are now."""
    embedded = await call.db.read(charges_service.embedded_charges, link_pks=[link.pk])
    return render_link(call, link, embedded)


async def create_link(call: ApiCall) -> dict[str, Any]:
    now = call.now()
    new = schemas.parse_create(call.params, now=now)
    link = await call.db.write(
        service.create_link,
        principal=call.principal,
        new=new,
        now=now,
        max_active=call.services.settings.max_active_links,
        record=call.services.recorder,
    )
    return render_link(call, link)  # a new link has no charges


async def retrieve_link(call: ApiCall) -> dict[str, Any]:
    found, embedded = await call.db.read(
        read_link, principal=call.principal, link_id=call.path_param("link_id")
    )
    return render_link(call, found[0], embedded)


async def update_link(call: ApiCall) -> dict[str, Any]:
    description, metadata = schemas.parse_update(call.params)
    link = await call.db.write(
        service.update_link,
        principal=call.principal,
        link_id=call.path_param("link_id"),
        description=description,
        metadata=metadata,
        now=call.now(),
        record=call.services.recorder,
    )
    return await _render_fresh(call, link)


async def destroy_link(call: ApiCall) -> dict[str, Any]:
    link = await call.db.write(
        service.destroy_link,
        principal=call.principal,
        link_id=call.path_param("link_id"),
        now=call.now(),
        record=call.services.recorder,
    )
    return await _render_fresh(call, link)


async def list_links(call: ApiCall) -> dict[str, Any]:
    query = parse_list_query(call.params)
    found, embedded, total = await call.db.read(read_links, principal=call.principal, query=query)
    return list_object(
        data=[render_link(call, link, embedded) for link in found],
        total=total,
        query=query,
        location="/links",
        now=call.now(),
    )


def read_link_charges(
    conn: Connection, *, principal: Principal, link_id: str, query: ListQuery
) -> tuple[list[Charge], int]:
    link = service.get_link(conn, principal=principal, link_id=link_id)
    return charges_service.list_charges(conn, principal=principal, query=query, link_pk=link.pk)


async def list_link_charges(call: ApiCall) -> dict[str, Any]:
    link_id = call.path_param("link_id")
    query = parse_list_query(call.params)
    found, total = await call.db.read(
        read_link_charges, principal=call.principal, link_id=link_id, query=query
    )
    return list_object(
        data=[render_charge(call, c) for c in found],
        total=total,
        query=query,
        location=f"/links/{link_id}/charges",
        now=call.now(),
    )


async def link_stats(call: ApiCall) -> dict[str, Any]:
    """Our extension: the seed's "Monitor Link Performance" computed by the server."""
    link, stats = await call.db.read(
        charges_service.link_stats, principal=call.principal, link_id=call.path_param("link_id")
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
        "conversion": round(successful / stats.views, 4) if stats.views else None,
    }
