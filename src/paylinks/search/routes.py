"""HTTP for search: `GET /search` and `/search/` (the Python SDK adds the slash)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.engine import Connection

from paylinks.api.pipeline import ApiCall
from paylinks.auth import Principal
from paylinks.charges import service as charges_service
from paylinks.charges.schemas import charge_to_wire
from paylinks.links import reads
from paylinks.links import search as links_search
from paylinks.links.reads import Embedded
from paylinks.links.schemas import linked_to_wire
from paylinks.links.service import Link
from paylinks.refunds import service as refunds_service
from paylinks.refunds.schemas import refund_to_wire
from paylinks.search import charges as charges_search
from paylinks.search import refunds as refunds_search
from paylinks.search import service
from paylinks.search.service import SearchQuery

Found = tuple[list[dict[str, Any]], int]


def matching_links(
    conn: Connection,
    *,
    principal: Principal,
    search: SearchQuery,
    conditions: Any,
    match: str | None,
) -> tuple[list[Link], Embedded, int]:
    """Matching links with their embedded charges, in one transaction."""
    found, total = links_search.search_links(
        conn,
        principal=principal,
        conditions=conditions,
        text_match=match,
        reverse=search.order == "reverse_chronological",
        limit=search.per_page,
        offset=search.offset,
    )
    return (*reads.with_charges(conn, found), total)


async def _links(call: ApiCall, query: SearchQuery) -> Found:
    # Off the event loop even on SQLite: a search may take milliseconds, not microseconds.
    found, embedded, total = await call.db.read_offloaded(
        matching_links,
        principal=call.principal,
        search=query,
        conditions=service.link_conditions(query, now=call.now()),
        match=service.fts_match(query.query, call.runtime.db.dialect),
    )
    public_url = call.runtime.settings.public_url
    data = [linked_to_wire(link, embedded, public_url=public_url, now=call.now()) for link in found]
    return data, total


async def _charges(call: ApiCall, query: SearchQuery) -> Found:
    """Charges as `GET /charges/:id` answers them, their refunds included."""
    found, total = await call.db.read_offloaded(
        charges_service.list_charges,
        principal=call.principal,
        query=service.page_query(query),
        conditions=charges_search.charge_conditions(query),
    )
    public_url = call.runtime.settings.public_url
    return [charge_to_wire(charge, public_url=public_url) for charge in found], total


async def _refunds(call: ApiCall, query: SearchQuery) -> Found:
    found, total = await call.db.read_offloaded(
        refunds_service.list_refunds,
        principal=call.principal,
        query=service.page_query(query),
        conditions=refunds_search.refund_conditions(query),
    )
    return [refund_to_wire(refund) for refund in found], total


_SEARCHES: dict[str, Callable[[ApiCall, SearchQuery], Awaitable[Found]]] = {
    "link": _links,
    "charge": _charges,
    "refund": _refunds,
}


async def search(call: ApiCall) -> dict[str, Any]:
    query = service.parse_search(call.params)
    data, total = await _SEARCHES[query.scope](call, query)
    return service.search_object(query, data=data, total=total)
