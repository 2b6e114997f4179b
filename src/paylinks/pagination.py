"""List parameters and the list object (omise-compat §4.2, §7): limit, offset, order, from, to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from paylinks.clock import EPOCH, format_time
from paylinks.errors import BadRequest
from paylinks.params import Params

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_OFFSET = 2**53
ORDERS = ("chronological", "reverse_chronological")


@dataclass(frozen=True)
class ListQuery:
    limit: int
    offset: int
    order: str
    from_: datetime | None
    to: datetime | None

    @property
    def reverse(self) -> bool:
        return self.order == "reverse_chronological"

    @property
    def filtered(self) -> bool:
        return self.from_ is not None or self.to is not None


def parse_list_query(params: Params) -> ListQuery:
    """Read list parameters; `limit` above 100 is clamped (the Python SDK pages with 100)."""
    limit = params.integer("limit")
    if limit is None:
        limit = DEFAULT_LIMIT
    if limit < 0:
        raise BadRequest("limit must be between 0 and 100")
    offset = params.integer("offset") or 0
    if not 0 <= offset <= MAX_OFFSET:
        raise BadRequest("offset must be zero or a positive integer")
    order = params.string("order") or "chronological"
    if order not in ORDERS:
        raise BadRequest("order must be chronological or reverse_chronological")
    from_ = params.time("from")
    to = params.time("to", end_of_day=True)
    if from_ is not None and to is not None and from_ > to:
        raise BadRequest("from must not be later than to")
    return ListQuery(min(limit, MAX_LIMIT), offset, order, from_, to)


def list_object(
    *, data: list[dict[str, Any]], total: int, query: ListQuery, location: str, now: datetime
) -> dict[str, Any]:
    """Omise's list object; `from`/`to` echo the bounds used (defaults: the epoch and now)."""
    return {
        "object": "list",
        "data": data,
        "limit": query.limit,
        "offset": query.offset,
        "total": total,
        "location": location,
        "order": query.order,
        "from": format_time(query.from_ or EPOCH),
        "to": format_time(query.to or now),
    }
