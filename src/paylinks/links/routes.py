"""HTTP for links: parse, call one service function, render."""

from __future__ import annotations

from typing import Any

from paylinks.api import ApiCall
from paylinks.links import schemas, service
from paylinks.links.service import Link
from paylinks.pagination import ListQuery, list_object, parse_list_query

EMBEDDED_CHARGES = ListQuery(20, 0, "chronological", None, None)


def render_link(call: ApiCall, link: Link) -> dict[str, Any]:
    now = call.now()
    charges = list_object(
        data=[], total=0, query=EMBEDDED_CHARGES, location=f"/links/{link.id}/charges", now=now
    )
    return schemas.link_to_wire(
        link, public_url=call.services.settings.public_url, now=now, charges=charges
    )


async def create_link(call: ApiCall) -> dict[str, Any]:
    now = call.now()
    new = schemas.parse_create(call.params, now=now)
    link = await call.db.write(
        service.create_link,
        principal=call.principal,
        new=new,
        now=now,
        max_active=call.services.settings.max_active_links,
    )
    return render_link(call, link)


async def retrieve_link(call: ApiCall) -> dict[str, Any]:
    link = await call.db.read(
        service.get_link, principal=call.principal, link_id=call.path_param("link_id")
    )
    return render_link(call, link)


async def update_link(call: ApiCall) -> dict[str, Any]:
    description, metadata = schemas.parse_update(call.params)
    link = await call.db.write(
        service.update_link,
        principal=call.principal,
        link_id=call.path_param("link_id"),
        description=description,
        metadata=metadata,
    )
    return render_link(call, link)


async def destroy_link(call: ApiCall) -> dict[str, Any]:
    link = await call.db.write(
        service.destroy_link,
        principal=call.principal,
        link_id=call.path_param("link_id"),
        now=call.now(),
    )
    return render_link(call, link)


async def list_links(call: ApiCall) -> dict[str, Any]:
    query = parse_list_query(call.params)
    found, total = await call.db.read(service.list_links, principal=call.principal, query=query)
    return list_object(
        data=[render_link(call, link) for link in found],
        total=total,
        query=query,
        location="/links",
        now=call.now(),
    )


async def list_link_charges(call: ApiCall) -> dict[str, Any]:
    """The link's charges (none can exist until payments do: the list is honest and empty)."""
    link_id = call.path_param("link_id")
    query = parse_list_query(call.params)
    await call.db.read(service.get_link, principal=call.principal, link_id=link_id)
    return list_object(
        data=[], total=0, query=query, location=f"/links/{link_id}/charges", now=call.now()
    )
