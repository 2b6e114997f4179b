"""How links perform: successful payments and revenue per day (of one link, or of the account
in one mode), the period's totals (with its failed payments and refunds), and the top links by
revenue and by conversion. Read-only queries over charges, refunds and links, scoped like every
service (account and mode)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paylinks.auth import Principal
from paylinks.clock import from_micros, to_micros
from paylinks.dashboard.charts import Day
from paylinks.models import charges, links, refunds
from paylinks.pagination import scoped


def _paid(principal: Principal) -> list[sa.ColumnElement[bool]]:
    return [
        charges.c.account_pk == principal.account_pk,
        charges.c.livemode == principal.livemode,
        charges.c.status == "successful",
    ]


def daily(
    conn: Connection, *, principal: Principal, since: datetime, now: datetime,
    link_pk: int | None = None, currency: str | None = None,
) -> list[Day]:  # fmt: skip
    """One `Day` per calendar day (UTC) from `since` to `now`, empty days included. Revenue
    counts `currency`'s payments only, when given: amounts in two currencies do not add up."""
    where = [*_paid(principal), charges.c.created_at >= to_micros(since)]
    if link_pk is not None:
        where.append(charges.c.link_pk == link_pk)
    columns = (charges.c.created_at, charges.c.amount, charges.c.currency)
    rows = conn.execute(sa.select(*columns).where(*where)).all()
    payments: dict[date, int] = defaultdict(int)
    revenue: dict[date, int] = defaultdict(int)
    for created_at, amount, paid_in in rows:
        day = from_micros(created_at).date()  # type: ignore[union-attr]
        payments[day] += 1
        if currency is None or paid_in == currency:
            revenue[day] += int(amount)
    first, last = since.date(), now.date()
    span = (last - first).days + 1
    days = [first + timedelta(days=i) for i in range(span)]
    return [Day(d, payments[d], revenue[d]) for d in days]


@dataclass(frozen=True)
class Totals:
    payments: int
    revenue_by_currency: dict[str, int]
    failed: int = 0  # charges that failed (declined, or the customer gave up on 3-D Secure)
    refunds: int = 0
    refunded_by_currency: dict[str, int] = field(default_factory=dict)

    @property
    def main_currency(self) -> str | None:
        """The currency that earned most: the one the overview's chart draws revenue in."""
        earned = self.revenue_by_currency
        return max(earned, key=lambda c: earned[c]) if earned else None


def totals(conn: Connection, *, principal: Principal, since: datetime) -> Totals:
    """Successful payments and revenue, failed payments, and refunds made since `since`: two
    statements."""
    rows = conn.execute(
        sa.select(
            charges.c.status, charges.c.currency, sa.func.count(), sa.func.sum(charges.c.amount)
        )
        .where(
            *scoped(charges, principal),
            charges.c.status.in_(("successful", "failed")),
            charges.c.created_at >= to_micros(since),
        )
        .group_by(charges.c.status, charges.c.currency)
    ).all()
    paid = [(c, int(n), int(s)) for status, c, n, s in rows if status == "successful"]
    returned = conn.execute(
        sa.select(refunds.c.currency, sa.func.count(), sa.func.sum(refunds.c.amount))
        .where(*scoped(refunds, principal), refunds.c.created_at >= to_micros(since))
        .group_by(refunds.c.currency)
    ).all()
    return Totals(
        payments=sum(n for _, n, _ in paid),
        revenue_by_currency={c: s for c, _, s in paid},
        failed=sum(int(n) for status, _, n, _ in rows if status == "failed"),
        refunds=sum(int(n) for _, n, _ in returned),
        refunded_by_currency={c: int(s) for c, _, s in returned},
    )


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
