"""A link as the API reads it: with its first charges embedded, its charges page by page, and its
numbers (views, payments, revenue). Each is one transaction; charges are read through
`charges.service`, and rendered by `links.schemas`.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paylinks.auth import Principal
from paylinks.charges import service as charges_service
from paylinks.charges.service import Charge
from paylinks.links.service import Link, get_link, list_links
from paylinks.models import charges, links
from paylinks.pagination import ListQuery

# For each link (by pk): its first charges and how many it has in all.
Embedded = dict[int, tuple[list[Charge], int]]


def with_charges(conn: Connection, found: list[Link]) -> tuple[list[Link], Embedded]:
    return found, charges_service.embedded_charges(conn, link_pks=[link.pk for link in found])


def read_link(
    conn: Connection, *, principal: Principal, link_id: str
) -> tuple[list[Link], Embedded]:
    """One link and its embedded charges."""
    return with_charges(conn, [get_link(conn, principal=principal, link_id=link_id)])


def read_links(
    conn: Connection, *, principal: Principal, query: ListQuery
) -> tuple[list[Link], Embedded, int]:
    """A page of links with their embedded charges, and how many links match."""
    found, total = list_links(conn, principal=principal, query=query)
    return (*with_charges(conn, found), total)


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
