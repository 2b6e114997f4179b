"""Charges as a resource: the charge and the request to make one, reading them (one, a page, the
first charges of each of a page of links) and changing what describes one (its description and
metadata). Making and completing one is `payments`' business; nothing here claims a link or
calls a processor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paylinks.auth import Principal
from paylinks.clock import from_micros
from paylinks.errors import NotFound
from paylinks.eventlog import Recorder
from paylinks.hot import Hot
from paylinks.models import charges, links
from paylinks.pagination import ListQuery, bound_scope, page_of, scope_params, scoped
from paylinks.refunds import service as refunds_service
from paylinks.refunds.service import Refund
from paylinks.sources import service as sources_service
from paylinks.sources.service import Source


@dataclass(frozen=True)
class Charge:
    pk: int
    id: str
    livemode: bool
    amount: int
    currency: str
    description: str | None
    metadata: dict[str, Any]
    status: str
    card: dict[str, Any] | None
    source: Source | None
    link_id: str | None
    customer_email: str | None
    failure_code: str | None
    failure_message: str | None
    transaction_id: str | None
    paid_at: datetime | None
    created_at: datetime
    capture: bool = True
    authorized_at: datetime | None = None
    reversed_at: datetime | None = None
    expires_at: datetime | None = None
    expired_at: datetime | None = None
    refunded_amount: int = 0
    refunds: tuple[Refund, ...] = ()
    return_uri: str | None = None
    authentication: str | None = None  # 3-D Secure: pending | passed | failed
    upstream_id: str | None = None  # a live charge's id at Omise (never on the wire)
    upstream_authorize_uri: str | None = None  # Omise's 3-D Secure step, while it waits

    @property
    def authorized(self) -> bool:
        return self.authorized_at is not None

    @property
    def waits_for_the_processor(self) -> bool:
        """A charge whose processor has not answered for good yet: a card charge (not an
        authorization waiting for its capture, nor a 3-D Secure charge waiting for its
        customer), or a live PromptPay charge before Omise's answer (with its QR) is recorded."""
        if self.status != "pending" or self.authorized or self.authentication == "pending":
            return False
        return self.source is None or (self.livemode and self.upstream_id is None)

    @property
    def claimed_link(self) -> bool:
        """Whether the charge took its place on its link when it opened (given back when it
        ends without money): a card charge, and a live PromptPay charge (its QR is paid at
        Omise, where the link's rules cannot be checked again). A test-mode QR claims the link
        only when paid (`mark_as_paid`)."""
        return self.source is None or self.livemode

    @property
    def capturable(self) -> bool:
        """An authorization waiting to be captured (or reversed)."""
        return self.status == "pending" and self.authorized

    @property
    def refundable(self) -> int:
        """What is left to refund."""
        return self.amount - self.refunded_amount if self.status == "successful" else 0


@dataclass(frozen=True)
class NewCharge:
    amount: int | None
    currency: str | None
    token_id: str | None
    source_id: str | None
    link_id: str | None
    description: str | None
    metadata: dict[str, Any]
    customer_email: str | None
    capture: bool = True
    # Omise: a card charge with a return_uri goes through 3-D Secure (the hosted page of an
    # account with 3-D Secure on sets its own).
    return_uri: str | None = None


def _select() -> sa.Select[Any]:
    """A charge with its link's id (its source is read apart, by `_from_rows`)."""
    return sa.select(charges, links.c.id.label("link_id")).outerjoin(
        links, links.c.pk == charges.c.link_pk
    )


def _from_rows(conn: Connection, rows: list[sa.Row[Any]]) -> list[Charge]:
    source_pks = {r.source_pk for r in rows if r.source_pk is not None}
    by_pk = sources_service.sources_by_pk(conn, pks=source_pks)
    # Only refunded charges have refunds to read: most pages cost no query for them.
    refunded = refunds_service.refunds_of(
        conn, charge_pks=[r.pk for r in rows if r.refunded_amount]
    )
    return [
        Charge(
            pk=r.pk,
            id=r.id,
            livemode=bool(r.livemode),
            amount=r.amount,
            currency=r.currency,
            description=r.description,
            metadata=orjson.loads(r.metadata),
            status=r.status,
            card=orjson.loads(r.card) if r.card else None,
            source=by_pk.get(r.source_pk) if r.source_pk is not None else None,
            link_id=r.link_id,
            customer_email=r.customer_email,
            failure_code=r.failure_code,
            failure_message=r.failure_message,
            transaction_id=r.transaction_id,
            paid_at=from_micros(r.paid_at),
            created_at=from_micros(r.created_at),  # type: ignore[arg-type]
            capture=bool(r.capture),
            authorized_at=from_micros(r.authorized_at),
            reversed_at=from_micros(r.reversed_at),
            expires_at=from_micros(r.expires_at),
            expired_at=from_micros(r.expired_at),
            refunded_amount=r.refunded_amount,
            refunds=tuple(refunded.get(r.pk, ())),
            return_uri=r.return_uri,
            authentication=r.authentication,
            upstream_id=r.upstream_id,
            upstream_authorize_uri=r.upstream_authorize_uri,
        )
        for r in rows
    ]


# A payment reads its charge three times: a hot statement (paylinks.hot).
_GET_CHARGE = Hot(
    _select().where(charges.c.id == sa.bindparam("charge_id"), *bound_scope(charges)),
    named=True,
)


def get_charge(conn: Connection, *, principal: Principal, charge_id: str) -> Charge:
    row = _GET_CHARGE.first(
        conn,
        {"charge_id": charge_id, **scope_params(principal)},
    )
    if row is None:
        raise NotFound.for_object("charge", charge_id)
    return _from_rows(conn, [row])[0]


def update_charge(
    conn: Connection,
    *,
    principal: Principal,
    charge_id: str,
    description: str | None,
    metadata: dict[str, Any] | None,
    now: datetime,
    record: Recorder,
) -> Charge:
    """Change a charge's description and/or metadata (metadata is replaced as a whole)."""
    charge = get_charge(conn, principal=principal, charge_id=charge_id)
    values: dict[str, Any] = {}
    if description is not None:
        values["description"] = description
    if metadata is not None:
        values["metadata"] = orjson.dumps(metadata).decode()
    if not values:
        return charge
    conn.execute(charges.update().where(charges.c.pk == charge.pk).values(**values))
    updated = get_charge(conn, principal=principal, charge_id=charge_id)
    record(conn, key="charge.update", principal=principal, subject=updated, now=now)
    return updated


def list_charges(
    conn: Connection,
    *,
    principal: Principal,
    query: ListQuery,
    link_pk: int | None = None,
    conditions: Sequence[sa.ColumnElement[bool]] = (),
) -> tuple[list[Charge], int]:
    """A page of charges (of one link, when given; matching `conditions` over `charges` columns,
    a search's) and the number of all that match."""
    where = [*scoped(charges, principal), *conditions]
    if link_pk is not None:
        where.append(charges.c.link_pk == link_pk)
    rows, total = page_of(conn, _select(), table=charges, where=where, query=query)
    return _from_rows(conn, rows), total


EMBEDDED = 20
_CHARGE_COUNTS = (
    sa.select(charges.c.link_pk, sa.func.count())
    .where(charges.c.link_pk.in_(sa.bindparam("pks", expanding=True)))
    .group_by(charges.c.link_pk)
)


def embedded_charges(
    conn: Connection, *, link_pks: list[int], counts: dict[int, int] | None = None
) -> dict[int, tuple[list[Charge], int]]:
    """For each link, its first 20 charges (chronological) and how many it has: two queries for
    a whole page of links, one when `counts` (how many each has, read with the links) is
    given, none when those are all zero."""
    if not link_pks:
        return {}
    if counts is None:
        counts = dict(conn.execute(_CHARGE_COUNTS, {"pks": link_pks}).all())
    counts = {pk: n for pk, n in counts.items() if n}
    result: dict[int, tuple[list[Charge], int]] = {pk: ([], 0) for pk in link_pks}
    if not counts:
        return result
    ranked = (
        _select()
        .add_columns(
            sa.func.row_number()
            .over(partition_by=charges.c.link_pk, order_by=(charges.c.created_at, charges.c.pk))
            .label("position")
        )
        .where(charges.c.link_pk.in_(list(counts)))
        .subquery()
    )
    rows = conn.execute(
        sa.select(ranked)
        .where(ranked.c.position <= EMBEDDED)
        .order_by(ranked.c.link_pk, ranked.c.position)
    ).all()
    for charge, row in zip(_from_rows(conn, list(rows)), rows, strict=True):
        result[row.link_pk][0].append(charge)
    return {pk: (found, int(counts.get(pk, 0))) for pk, (found, _) in result.items()}
