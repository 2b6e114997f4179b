"""How links perform: successful payments and revenue per day (of one link, or of the account
in one mode), and the top links by revenue and by conversion. Read-only queries over charges
and links, scoped like every service (account and mode)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paylinks.auth import Principal
from paylinks.clock import from_micros, to_micros
from paylinks.dashboard.charts import Day
from paylinks.models import charges, links


def _paid(principal: Principal) -> list[sa.ColumnElement[bool]]:
    return [
        charges.c.account_pk == principal.account_pk,
        charges.c.livemode == principal.livemode,
        charges.c.status == "successful",
    ]


def daily(
    conn: Connection, *, principal: Principal, since: datetime, now: datetime,
    link_pk: int | None = None,
) -> list[Day]:  # fmt: skip
    """One `Day` per calendar day (UTC) from `since` to `now`, empty days included."""
    where = [*_paid(principal), charges.c.created_at >= to_micros(since)]
    if link_pk is not None:
        where.append(charges.c.link_pk == link_pk)
    rows = conn.execute(sa.select(charges.c.created_at, charges.c.amount).where(*where)).all()
    payments: dict[date, int] = defaultdict(int)
    revenue: dict[date, int] = defaultdict(int)
    for created_at, amount in rows:
        day = from_micros(created_at).date()  # type: ignore[union-attr]
        payments[day] += 1
        revenue[day] += int(amount)
    first, last = since.date(), now.date()
    span = (last - first).days + 1
    days = [first + timedelta(days=i) for i in range(span)]
    return [Day(d, payments[d], revenue[d]) for d in days]


@dataclass(frozen=True)
class Totals:
    payments: int
    revenue_by_currency: dict[str, int]


def totals(conn: Connection, *, principal: Principal, since: datetime) -> Totals:
    rows = conn.execute(
        sa.select(charges.c.currency, sa.func.count(), sa.func.sum(charges.c.amount))
        .where(*_paid(principal), charges.c.created_at >= to_micros(since))
        .group_by(charges.c.currency)
    ).all()
    return Totals(sum(int(n) for _, n, _ in rows), {c: int(s) for c, _, s in rows})


@dataclass(frozen=True)
class Ranked:
    id: str
    title: str
    currency: str
    revenue: int
    payments: int
    views: int

    @property
    def conversion(self) -> float:
        return self.payments / self.views if self.views else 0.0


def paying_links(conn: Connection, *, principal: Principal, since: datetime) -> list[Ranked]:
    """The (at most 100) links that earned most since `since`, with payments and views: the
    overview ranks them by revenue and by conversion."""
    paid = (
        sa.select(
            charges.c.link_pk,
            sa.func.count().label("payments"),
            sa.func.sum(charges.c.amount).label("revenue"),
        )
        .where(*_paid(principal), charges.c.created_at >= to_micros(since))
        .group_by(charges.c.link_pk)
        .subquery()
    )
    rows = conn.execute(
        sa.select(links.c.id, links.c.title, links.c.currency, links.c.views, paid)
        .join(paid, paid.c.link_pk == links.c.pk)
        .where(links.c.account_pk == principal.account_pk, links.c.livemode == principal.livemode)
        .order_by(paid.c.revenue.desc())
        .limit(100)
    ).all()
    return [
        Ranked(r.id, r.title, r.currency, int(r.revenue), int(r.payments), int(r.views))
        for r in rows
    ]
