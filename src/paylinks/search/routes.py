"""HTTP for search: `GET /search` and `/search/` (the Python SDK adds the slash)."""

from __future__ import annotations

from typing import Any

from paylinks.api import ApiCall
from paylinks.links import service as links_service
from paylinks.links.routes import render_link
from paylinks.search import service


async def search(call: ApiCall) -> dict[str, Any]:
    query = service.parse_search(call.params)
    found, total = await call.db.read(
        links_service.search_links,
        principal=call.principal,
        conditions=service.link_conditions(query, now=call.now()),
        reverse=query.order == "reverse_chronological",
        limit=query.per_page,
        offset=query.offset,
    )
    return service.search_object(
        query, data=[render_link(call, link) for link in found], total=total
    )
