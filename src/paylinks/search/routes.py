"""HTTP for search: `GET /search` and `/search/` (the Python SDK adds the slash)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from paylinks.api import ApiCall
from paylinks.links import service as links_service
from paylinks.links.routes import Embedded, render_link, with_charges
from paylinks.links.service import Link
from paylinks.search import service


def search_links(conn: Connection, **kwargs: Any) -> tuple[list[Link], Embedded, int]:
    """Matching links with their embedded charges, in one transaction."""
    found, total = links_service.search_links(conn, **kwargs)
    return (*with_charges(conn, found), total)


async def search(call: ApiCall) -> dict[str, Any]:
    query = service.parse_search(call.params)
    conditions = service.link_conditions(query, now=call.now())
    # Off the event loop even on SQLite: a search may take milliseconds, not microseconds.
    found, embedded, total = await call.db.read_offloaded(
        search_links,
        principal=call.principal,
        conditions=conditions,
        text_match=service.fts_match(query.query, call.services.db.dialect),
        reverse=query.order == "reverse_chronological",
        limit=query.per_page,
        offset=query.offset,
    )
    data = [render_link(call, link, embedded) for link in found]
    return service.search_object(query, data=data, total=total)
