"""A link as the API reads it: with its first charges embedded, a page of links, its charges page
by page, and its numbers (views, payments, revenue). Each is one transaction; charges are read
through `charges.service`, and rendered by `links.schemas`. A link is read with its charge
count, so that links without charges (most) cost no second statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paylinks.auth import Principal
from paylinks.charges import service as charges_service
from paylinks.charges.service import Charge
from paylinks.clock import to_micros
from paylinks.errors import NotFound
from paylinks.hot import Hot
from paylinks.links.service import (
    COUNTER_TOTAL,
    GET_LINK,
    LINK_COLUMNS,
    Link,
    from_row,
    get_link,
)
from paylinks.models import charges, links
from paylinks.pagination import ListQuery, bound_scope, scope_params

# For each link (by pk): its first charges and how many it has in all.
Embedded = dict[int, tuple[list[Charge], int]]

# How many charges a link has, read with it (an index lookup, `ix_charges_link`): a link or a
# page of links without charges then needs no second statement for its embedded charges.
CHARGE_COUNT = (
    sa.select(sa.func.count())
    .select_from(charges)
    .where(charges.c.link_pk == links.c.pk)
    .scalar_subquery()
    .label("charge_count")
)
_READ_LINK = Hot(GET_LINK.add_columns(CHARGE_COUNT))
_PK = LINK_COLUMNS["pk"]


def _counted_link(conn: Connection, principal: Principal, link_id: str) -> tuple[Link, int]:
    """`links.service.get_link`, and how many charges the link has (the last column), in one
    statement."""
    row = _READ_LINK.first(conn, {"link_id": link_id, **scope_params(principal)})
    if row is None:
        raise NotFound.for_object("link", link_id)
    return from_row(row), int(row[-1])


def _list_where(has_from: bool, has_to: bool) -> list[sa.ColumnElement[bool]]:
    where = bound_scope(links)
    if has_from:
        where.append(links.c.created_at >= sa.bindparam("from_micros"))
    if has_to:
        where.append(links.c.created_at <= sa.bindparam("to_micros"))
    return where


def _list_statements(reverse: bool, has_from: bool, has_to: bool) -> tuple[Hot, Hot]:
    order = (
        (links.c.created_at.desc(), links.c.pk.desc())
        if reverse
        else (links.c.created_at.asc(), links.c.pk.asc())
    )
    where = _list_where(has_from, has_to)
    page = (
        sa.select(links, CHARGE_COUNT)
        .where(*where)
        .order_by(*order)
        .limit(sa.bindparam("limit"))
        .offset(sa.bindparam("offset"))
    )
    count = sa.select(sa.func.count()).select_from(links).where(*where)
    return Hot(page), Hot(count)


_COUNTER_TOTAL = Hot(COUNTER_TOTAL)
# Every shape of list query (order x from x to), built once.
_LIST = {
    (r, f, t): _list_statements(r, f, t)
    for r in (False, True)
    for f in (False, True)
    for t in (False, True)
}


def list_links(
    conn: Connection, *, principal: Principal, query: ListQuery
) -> tuple[list[Link], int, dict[int, int]]:
    """One page of links, the number of all links matching `from`..`to` (inclusive), and how
    many charges each link of the page has (by its pk); an unfiltered total comes from the
    counters, not a COUNT over every row.

    Ties on `created_at` are broken by insertion order, so pages never skip or repeat a link.
    """
    page, count = _LIST[(query.reverse, query.from_ is not None, query.to is not None)]
    params: dict[str, Any] = {
        **scope_params(principal),
        "limit": query.limit,
        "offset": query.offset,
        "from_micros": to_micros(query.from_) if query.from_ else None,
        "to_micros": to_micros(query.to) if query.to else None,
    }
    rows = page.rows(conn, params)
    total = (count if query.filtered else _COUNTER_TOTAL).scalar(conn, params)
    counts = {r[_PK]: int(r[-1]) for r in rows}
    return [from_row(r) for r in rows], int(total), counts


def with_charges(
    conn: Connection, found: list[Link], counts: dict[int, int] | None = None
) -> tuple[list[Link], Embedded]:
    """The links and their embedded charges (`counts`: how many each has, when known)."""
    pks = [link.pk for link in found]
    return found, charges_service.embedded_charges(conn, link_pks=pks, counts=counts)


def read_link(
    conn: Connection, *, principal: Principal, link_id: str
) -> tuple[list[Link], Embedded]:
    """One link and its embedded charges (one statement for a link without charges)."""
    link, count = _counted_link(conn, principal, link_id)
    return with_charges(conn, [link], {link.pk: count})


def read_links(
    conn: Connection, *, principal: Principal, query: ListQuery
) -> tuple[list[Link], Embedded, int]:
    """A page of links with their embedded charges, and how many links match."""
    found, total, counts = list_links(conn, principal=principal, query=query)
    return (*with_charges(conn, found, counts), total)


def read_link_charges(
    conn: Connection, *, principal: Principal, link_id: str, query: ListQuery
) -> tuple[list[Charge], int]:
    link = get_link(conn, principal=principal, link_id=link_id)
    return charges_service.list_charges(conn, principal=principal, query=query, link_pk=link.pk)


@dataclass(frozen=True)
class LinkStats:
    views: int
    by_status: dict[str, int]
    revenue: int  # what the successful charges captured
    refunded: int  # what was given back of it

    @property
    def net_revenue(self) -> int:
        return self.revenue - self.refunded


def link_stats(conn: Connection, *, principal: Principal, link_id: str) -> tuple[Link, LinkStats]:
    link = get_link(conn, principal=principal, link_id=link_id)
    rows = conn.execute(
        sa.select(
            charges.c.status,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(charges.c.amount), 0),
            sa.func.coalesce(sa.func.sum(charges.c.refunded_amount), 0),
        )
        .where(charges.c.link_pk == link.pk)
        .group_by(charges.c.status)
    ).all()
    by_status = {status: int(count) for status, count, _, _ in rows}
    successful = [
        (int(total), int(back)) for status, _, total, back in rows if status == "successful"
    ]
    revenue, refunded = successful[0] if successful else (0, 0)
    views = conn.execute(sa.select(links.c.views).where(links.c.pk == link.pk)).scalar_one()
    return link, LinkStats(int(views), by_status, revenue, refunded)
