"""HTTP for search: `GET /search` and `/search/` (the Python SDK adds the slash)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from paylinks.api.pipeline import ApiCall
from paylinks.auth import Principal
from paylinks.links import reads
from paylinks.links import search as links_search
from paylinks.links.reads import Embedded
from paylinks.links.schemas import linked_to_wire
from paylinks.links.service import Link
from paylinks.search import service
from paylinks.search.service import SearchQuery


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


async def search(call: ApiCall) -> dict[str, Any]:
    query = service.parse_search(call.params)
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
    return service.search_object(query, data=data, total=total)
