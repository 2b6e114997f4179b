"""List parameters and the list object (omise-compat §4.2, §7): limit, offset, order, from, to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paylinks.auth import Principal
from paylinks.clock import EPOCH, format_time, to_micros
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


def scoped(table: sa.Table, principal: Principal) -> list[sa.ColumnElement[bool]]:
    """Rows of the caller's account *and* mode: every query is scoped by both, so another
    account's or mode's object is a 404, never a 403."""
    return [table.c.account_pk == principal.account_pk, table.c.livemode == principal.livemode]


def bound_scope(table: sa.Table) -> list[sa.ColumnElement[bool]]:
    """`scoped` for a statement built once: the account and mode bound by name, their values
    given at each call by `scope_params`."""
    return [
        table.c.account_pk == sa.bindparam("account_pk"),
        table.c.livemode == sa.bindparam("livemode"),
    ]


def scope_params(principal: Principal) -> dict[str, Any]:
    """The values of `bound_scope`'s parameters."""
    return {"account_pk": principal.account_pk, "livemode": principal.livemode}


def page_of(
    conn: Connection,
    select: sa.Select[Any],
    *,
    table: sa.Table,
    where: list[sa.ColumnElement[bool]],
    query: ListQuery,
) -> tuple[list[sa.Row[Any]], int]:
    """One page of `select` (rows of `table` matching `where`) as a list query asks: within
    `from`/`to` by `created_at`, in `(created_at, pk)` order or its reverse (ties never skip or
    repeat a row between pages), `limit` from `offset`; and how many rows match in all."""
    where = list(where)
    if query.from_ is not None:
        where.append(table.c.created_at >= to_micros(query.from_))
    if query.to is not None:
        where.append(table.c.created_at <= to_micros(query.to))
    created, pk = table.c.created_at, table.c.pk
    order = (created.desc(), pk.desc()) if query.reverse else (created.asc(), pk.asc())
    rows = conn.execute(
        select.where(*where).order_by(*order).limit(query.limit).offset(query.offset)
    ).all()
    total = conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()
    return list(rows), int(total)
