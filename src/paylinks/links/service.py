"""Payment links: the rules and queries. Every query is scoped by account *and* mode.

Functions take the connection first and keyword arguments after; they raise `ApiError`s and know
nothing of HTTP.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row

from paylinks import pagination
from paylinks.accounts.service import lock_account
from paylinks.auth import Principal
from paylinks.clock import from_micros, to_micros
from paylinks.errors import BadRequest, LimitExceeded, NotFound
from paylinks.eventlog import Recorder
from paylinks.hot import Hot, insert
from paylinks.ids import new_id
from paylinks.models import accounts, link_counters, links
from paylinks.pagination import bound_scope, scope_params

COUNTER_SLOTS = 8


@dataclass(frozen=True)
class Link:
    pk: int
    id: str
    livemode: bool
    amount: int
    currency: str
    title: str
    description: str | None
    multiple: bool
    metadata: dict[str, Any]
    used: bool
    used_at: datetime | None
    deleted: bool
    deleted_at: datetime | None
    expires_at: datetime | None
    usage_limit: int | None
    paid_count: int
    created_at: datetime
    # "customer": the customer types the amount (within amount_min..amount_max); `amount` is the
    # suggestion the page starts with. A dashboard feature, also open to the API (an extension).
    amount_type: str = "fixed"
    amount_min: int | None = None
    amount_max: int | None = None

    @property
    def customer_decides(self) -> bool:
        return self.amount_type == "customer"

    def is_active(self, now: datetime) -> bool:
        """Payable now: not deleted, not a used single-use link, not expired, not at its limit."""
        if self.deleted or (self.used and not self.multiple):
            return False
        if self.expires_at is not None and self.expires_at <= now:
            return False
        return self.usage_limit is None or self.paid_count < self.usage_limit


@dataclass(frozen=True)
class NewLink:
    amount: int
    currency: str
    title: str
    description: str | None
    multiple: bool
    metadata: dict[str, Any]
    expires_at: datetime | None
    usage_limit: int | None
    amount_type: str = "fixed"
    amount_min: int | None = None
    amount_max: int | None = None


# Column positions in a row that starts with `links`' columns (`select(links, ...)`): reading by
# position is several times cheaper than by name (a page of twenty links), and hot statements'
# rows are plain tuples.
LINK_COLUMNS = {column.name: i for i, column in enumerate(links.columns)}


def from_row(row: Row[Any]) -> Link:
    v = row
    c = LINK_COLUMNS
    return Link(
        pk=v[c["pk"]],
        id=v[c["id"]],
        livemode=bool(v[c["livemode"]]),
        amount=v[c["amount"]],
        currency=v[c["currency"]],
        title=v[c["title"]],
        description=v[c["description"]],
        multiple=bool(v[c["multiple"]]),
        metadata=orjson.loads(v[c["metadata"]]),
        used=bool(v[c["used"]]),
        used_at=from_micros(v[c["used_at"]]),
        deleted=bool(v[c["deleted"]]),
        deleted_at=from_micros(v[c["deleted_at"]]),
        expires_at=from_micros(v[c["expires_at"]]),
        usage_limit=v[c["usage_limit"]],
        paid_count=v[c["paid_count"]],
        created_at=from_micros(v[c["created_at"]]),  # type: ignore[arg-type]
        amount_type=v[c["amount_type"]],
        amount_min=v[c["amount_min"]],
        amount_max=v[c["amount_max"]],
    )


def scoped(principal: Principal) -> list[sa.ColumnElement[bool]]:
    return pagination.scoped(links, principal)


def count_active(conn: Connection, *, principal: Principal, now: datetime) -> int:
    """Links of this account and mode that can still be paid (the cap counts these)."""
    micros = to_micros(now)
    query = (
        sa.select(sa.func.count())
        .select_from(links)
        .where(
            *scoped(principal),
            links.c.deleted == sa.false(),
            links.c.used == sa.false(),
            sa.or_(links.c.expires_at.is_(None), links.c.expires_at > micros),
            sa.or_(links.c.usage_limit.is_(None), links.c.paid_count < links.c.usage_limit),
        )
    )
    return int(conn.execute(query).scalar_one())


def _counter_upsert(dialect_insert: Any) -> Hot:
    columns = ("account_pk", "livemode", "slot", "count")
    statement = dialect_insert(link_counters).values({c: sa.bindparam(c) for c in columns})
    return Hot(
        statement.on_conflict_do_update(
            index_elements=["account_pk", "livemode", "slot"],
            set_={"count": link_counters.c.count + 1},
        )
    )


# Hot statements (paylinks.hot), built once per dialect: a create is CPU-bound once group
# commit shares the fsync.
_BUMP_COUNTER = {
    "postgresql": _counter_upsert(postgresql.insert),
    "sqlite": _counter_upsert(sqlite.insert),
}
_INSERT_LINK = insert(
    links,
    *(c.name for c in links.columns if c.name not in ("pk", "used_at", "deleted_at", "views")),
    returning=links.c.pk,
)


def _bump_counter(conn: Connection, principal: Principal) -> None:
    _BUMP_COUNTER[conn.dialect.name].execute(
        conn,
        {
            "account_pk": principal.account_pk,
            "livemode": principal.livemode,
            "slot": random.randrange(COUNTER_SLOTS),  # noqa: S311 - spreads contention only
            "count": 1,
        },
    )


def create_link(
    conn: Connection,
    *,
    principal: Principal,
    new: NewLink,
    now: datetime,
    max_active: int,
    record: Recorder,
) -> Link:
    """Insert a link; `LimitExceeded` when the account already has `max_active` active links."""
    if max_active > 0:
        lock_account(conn, account_pk=principal.account_pk)
        active = count_active(conn, principal=principal, now=now)
        if active >= max_active:
            raise LimitExceeded(
                f"this account already has {active} active links in "
                f"{'live' if principal.livemode else 'test'} mode, the most it may have "
                f"(PAYLINKS_MAX_ACTIVE_LINKS={max_active}); delete or use some first"
            )
    link_id = new_id("payl", livemode=principal.livemode)
    values = {
        "id": link_id,
        "account_pk": principal.account_pk,
        "livemode": principal.livemode,
        "amount": new.amount,
        "currency": new.currency,
        "title": new.title,
        "description": new.description,
        "multiple": new.multiple,
        "metadata": orjson.dumps(new.metadata).decode(),
        "used": False,
        "deleted": False,
        "paid_count": 0,
        "expires_at": to_micros(new.expires_at) if new.expires_at else None,
        "usage_limit": new.usage_limit,
        "created_at": to_micros(now),
        "amount_type": new.amount_type,
        "amount_min": new.amount_min,
        "amount_max": new.amount_max,
    }
    pk = _INSERT_LINK.scalar(conn, values)
    _bump_counter(conn, principal)
    link = Link(
        pk=pk,
        id=link_id,
        livemode=principal.livemode,
        amount=new.amount,
        currency=new.currency,
        title=new.title,
        description=new.description,
        multiple=new.multiple,
        metadata=new.metadata,
        used=False,
        used_at=None,
        deleted=False,
        deleted_at=None,
        expires_at=new.expires_at,
        usage_limit=new.usage_limit,
        paid_count=0,
        created_at=now,
        amount_type=new.amount_type,
        amount_min=new.amount_min,
        amount_max=new.amount_max,
    )
    record(conn, key="link.create", principal=principal, subject=link, now=now)
    return link


# Hot statements are built once: constructing a select costs more than running it on SQLite.
GET_LINK = sa.select(links).where(links.c.id == sa.bindparam("link_id"), *bound_scope(links))
COUNTER_TOTAL = sa.select(sa.func.coalesce(sa.func.sum(link_counters.c.count), 0)).where(
    *bound_scope(link_counters)
)


def get_link(conn: Connection, *, principal: Principal, link_id: str) -> Link:
    """The link, or `NotFound` — also when it belongs to another account or mode."""
    row = conn.execute(GET_LINK, {"link_id": link_id, **scope_params(principal)}).first()
    if row is None:
        raise NotFound.for_object("link", link_id)
    return from_row(row)


def update_link(
    conn: Connection,
    *,
    principal: Principal,
    link_id: str,
    description: str | None,
    metadata: dict[str, Any] | None,
    now: datetime,
    record: Recorder,
) -> Link:
    """Change the description and/or replace the metadata; nothing else is updatable. An
    update that changes nothing records no event."""
    link = get_link(conn, principal=principal, link_id=link_id)
    if link.deleted:
        raise BadRequest(f"link {link_id} has been deleted and cannot be changed")
    values: dict[str, Any] = {}
    if description is not None:
        values["description"] = description
    if metadata is not None:
        values["metadata"] = orjson.dumps(metadata).decode()
    if not values:
        return link
    conn.execute(links.update().where(links.c.pk == link.pk).values(**values))
    updated = replace(
        link,
        description=link.description if description is None else description,
        metadata=link.metadata if metadata is None else metadata,
    )
    record(conn, key="link.update", principal=principal, subject=updated, now=now)
    return updated


def delete_link(
    conn: Connection, *, principal: Principal, link_id: str, now: datetime, record: Recorder
) -> Link:
    """Mark the link deleted: it stays readable and stops being payable. Repeats are no-ops."""
    link = get_link(conn, principal=principal, link_id=link_id)
    if link.deleted:
        return link
    conn.execute(
        links.update().where(links.c.pk == link.pk).values(deleted=True, deleted_at=to_micros(now))
    )
    destroyed = replace(link, deleted=True, deleted_at=now)
    record(conn, key="link.destroy", principal=principal, subject=destroyed, now=now)
    return destroyed


@dataclass(frozen=True)
class CheckoutTarget:
    """What the hosted payment page, which has no API key, needs of a link and its account."""

    link: Link
    principal: Principal  # secret-kind, of the link's account and mode: the page pays through
    # the same services as the API
    account_name: str
    three_d_secure: bool  # the account asks card customers to authenticate


_CHECKOUT_LINK = Hot(
    sa.select(
        links,
        accounts.c.id.label("account_id"),
        accounts.c.name.label("account_name"),
        accounts.c.three_d_secure,
        accounts.c.clock_offset,
    )
    .join(accounts, accounts.c.pk == links.c.account_pk)
    .where(links.c.id == sa.bindparam("link_id"))
)


def find_checkout_link(conn: Connection, *, link_id: str) -> CheckoutTarget | None:
    """The link by id alone, with its account; None when no link has this id."""
    row = _CHECKOUT_LINK.first(conn, {"link_id": link_id})
    if row is None:
        return None
    link = from_row(row)
    account_id, account_name, three_d_secure, clock_offset = row[len(LINK_COLUMNS) :]
    offset = 0 if link.livemode else clock_offset
    account_pk = row[LINK_COLUMNS["account_pk"]]
    principal = Principal(account_pk, account_id, link.livemode, "secret", "", None, offset)
    return CheckoutTarget(link, principal, account_name, bool(three_d_secure))


def record_view(conn: Connection, *, link_pk: int) -> None:
    """Count one view of the link's payment page (shown by the stats endpoint)."""
    conn.execute(links.update().where(links.c.pk == link_pk).values(views=links.c.views + 1))
