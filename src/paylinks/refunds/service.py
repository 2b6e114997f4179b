"""Refunds as a resource: making one (a share of what the charge captured, never more) and
reading them. A refund's charge is found through the `charges` table directly, so that charges
may embed their refunds without a cycle between the two folders.

Never more than captured, under any concurrency: the charge's `refunded_amount` is raised by one
conditional UPDATE (`refunded_amount + amount <= amount`, charge successful) in the refund's
transaction. On PostgreSQL a concurrent refund waits on the row and then re-checks the condition
against the committed total; on SQLite the write lock serialises them.
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
from paylinks.clock import from_micros, to_micros
from paylinks.errors import FailedRefund, InvalidAmount, NotFound
from paylinks.eventlog import Recorder
from paylinks.ids import new_id
from paylinks.models import accounts, charges, refunds
from paylinks.pagination import ListQuery, page_of, scoped


@dataclass(frozen=True)
class Refund:
    pk: int
    id: str
    livemode: bool
    charge_pk: int
    charge_id: str
    amount: int
    currency: str
    metadata: dict[str, Any]
    transaction_id: str
    created_at: datetime
    status: str = "closed"  # or pending: a live refund waiting for Omise's answer


def _select() -> sa.Select[Any]:
    return sa.select(refunds, charges.c.id.label("charge_id")).join(
        charges, charges.c.pk == refunds.c.charge_pk
    )


def _from_row(row: sa.Row[Any]) -> Refund:
    return Refund(
        pk=row.pk,
        id=row.id,
        livemode=bool(row.livemode),
        charge_pk=row.charge_pk,
        charge_id=row.charge_id,
        amount=row.amount,
        currency=row.currency,
        metadata=orjson.loads(row.metadata),
        transaction_id=row.transaction_id,
        created_at=from_micros(row.created_at),  # type: ignore[arg-type]
        status=row.status,
    )


def _charge_row(conn: Connection, principal: Principal, charge_id: str) -> sa.Row[Any]:
    row = conn.execute(
        sa.select(
            charges.c.pk, charges.c.status, charges.c.amount, charges.c.refunded_amount,
            charges.c.currency,
        ).where(charges.c.id == charge_id, *scoped(charges, principal))
    ).first()  # fmt: skip
    if row is None:
        raise NotFound.for_object("charge", charge_id)
    return row  # type: ignore[return-value]


def _refusal(row: sa.Row[Any], amount: int, charge_id: str) -> FailedRefund:
    if row.status != "successful":
        return FailedRefund(f"charge {charge_id} is {row.status}: only a captured charge can be "
                            "refunded")  # fmt: skip
    left = row.amount - row.refunded_amount
    if left == 0:
        return FailedRefund(f"charge {charge_id} has been refunded in full")
    return FailedRefund(
        f"refund amount {amount} is more than the {left} left to refund on charge {charge_id}"
    )


def create_refund(
    conn: Connection,
    *,
    principal: Principal,
    charge_id: str,
    amount: int,
    metadata: dict[str, Any],
    now: datetime,
    record: Recorder,
    refunded_before: int | None = None,
    pending: bool = False,
) -> Refund:
    """Refund `amount` of a captured charge, or raise `FailedRefund` with nothing written.
    With `refunded_before` (a form showed the charge so refunded), only if it still is: a
    form sent twice refunds once. `pending`: only reserve the amount, for a processor that
    must confirm the refund first (`confirm_refund` makes it, `release_refund` gives it back)."""
    if amount <= 0:
        raise InvalidAmount("amount must be a positive integer in the currency's smallest unit")
    charge = _charge_row(conn, principal, charge_id)
    if amount > charge.amount:  # refused before the sum below could overflow a BIGINT
        raise _refusal(charge, amount, charge_id)
    taken = conn.execute(
        charges.update()
        .where(
            charges.c.pk == charge.pk,
            charges.c.status == "successful",
            charges.c.refunded_amount + amount <= charges.c.amount,
            *([] if refunded_before is None else [charges.c.refunded_amount == refunded_before]),
        )
        .values(refunded_amount=charges.c.refunded_amount + amount)
    )
    if taken.rowcount != 1:
        fresh = _charge_row(conn, principal, charge_id)
        if refunded_before is not None and fresh.refunded_amount != refunded_before:
            raise FailedRefund(f"charge {charge_id} was refunded meanwhile; nothing more was")
        raise _refusal(fresh, amount, charge_id)
    refund_id = new_id("rfnd", livemode=principal.livemode)
    conn.execute(
        refunds.insert().values(
            id=refund_id,
            account_pk=principal.account_pk,
            livemode=principal.livemode,
            charge_pk=charge.pk,
            amount=amount,
            currency=charge.currency,
            metadata=orjson.dumps(metadata).decode(),
            transaction_id=new_id("trxn", livemode=principal.livemode),
            created_at=to_micros(now),
            status="pending" if pending else "closed",
        )
    )
    refund = get_refund(conn, principal=principal, charge_id=charge_id, refund_id=refund_id)
    if not pending:
        record(conn, key="refund.create", principal=principal, subject=refund, now=now)
    return refund


def confirm_refund(
    conn: Connection, *, principal: Principal, refund_id: str, now: datetime, record: Recorder
) -> Refund:
    """A pending refund the processor made: closed, and its event recorded, once (whoever
    confirms it second gets it as it is)."""
    done = conn.execute(
        refunds.update()
        .where(
            refunds.c.id == refund_id, refunds.c.status == "pending", *scoped(refunds, principal)
        )
        .values(status="closed")
    )
    refund = get_refund(conn, principal=principal, refund_id=refund_id)
    if done.rowcount == 1:
        record(conn, key="refund.create", principal=principal, subject=refund, now=now)
    return refund


def release_refund(conn: Connection, *, principal: Principal, refund_id: str) -> bool:
    """A pending refund the processor did not make: gone, its amount refundable again; whether
    it was still pending (a refund confirmed meanwhile stays)."""
    row = conn.execute(
        sa.select(refunds.c.pk, refunds.c.charge_pk, refunds.c.amount).where(
            refunds.c.id == refund_id, refunds.c.status == "pending", *scoped(refunds, principal)
        )
    ).first()
    if row is None:
        return False
    gone = conn.execute(
        refunds.delete().where(refunds.c.pk == row.pk, refunds.c.status == "pending")
    )
    if gone.rowcount != 1:
        return False
    conn.execute(
        charges.update()
        .where(charges.c.pk == row.charge_pk)
        .values(refunded_amount=charges.c.refunded_amount - row.amount)
    )
    return True


@dataclass(frozen=True)
class WaitingRefund:
    """A pending refund whose processor's answer was lost (for the sweeper)."""

    principal: Principal
    refund_id: str
    charge_id: str
    upstream_id: str | None
    created_at: datetime


def waiting_refunds(conn: Connection, *, before: datetime, limit: int = 100) -> list[WaitingRefund]:
    """Pending refunds made before `before` (live only: test refunds are made at once)."""
    rows = conn.execute(
        sa.select(
            refunds.c.id, refunds.c.account_pk, refunds.c.livemode, refunds.c.created_at,
            charges.c.id.label("charge_id"), charges.c.upstream_id,
            accounts.c.id.label("account_id"),
        )
        .join(charges, charges.c.pk == refunds.c.charge_pk)
        .join(accounts, accounts.c.pk == refunds.c.account_pk)
        .where(refunds.c.status == "pending", refunds.c.created_at < to_micros(before))
        .order_by(refunds.c.created_at)
        .limit(limit)
    ).all()  # fmt: skip
    return [
        WaitingRefund(
            Principal(r.account_pk, r.account_id, bool(r.livemode), "secret", ""),
            r.id,
            r.charge_id,
            r.upstream_id,
            from_micros(r.created_at),  # type: ignore[arg-type]
        )
        for r in rows
    ]


def get_refund(
    conn: Connection, *, principal: Principal, refund_id: str, charge_id: str | None = None
) -> Refund:
    where = [refunds.c.id == refund_id, *scoped(refunds, principal)]
    if charge_id is not None:
        where.append(charges.c.id == charge_id)
    row = conn.execute(_select().where(*where)).first()
    if row is None:
        raise NotFound.for_object("refund", refund_id)
    return _from_row(row)


def list_refunds(
    conn: Connection,
    *,
    principal: Principal,
    query: ListQuery,
    charge_id: str | None = None,
    conditions: Sequence[sa.ColumnElement[bool]] = (),
) -> tuple[list[Refund], int]:
    """A page of the account's refunds, or of one charge's (404 for a charge not found), that
    match `conditions` (a search's, over `refunds` columns alone: the count reads no other
    table), and how many match in all."""
    where = [*scoped(refunds, principal), *conditions]
    if charge_id is not None:
        where.append(refunds.c.charge_pk == _charge_row(conn, principal, charge_id).pk)
    rows, total = page_of(conn, _select(), table=refunds, where=where, query=query)
    return [_from_row(r) for r in rows], total


def refunds_of(conn: Connection, *, charge_pks: list[int]) -> dict[int, list[Refund]]:
    """The refunds of each of these charges, oldest first: one query for a page of charges."""
    if not charge_pks:
        return {}
    rows = conn.execute(
        _select()
        .where(refunds.c.charge_pk.in_(charge_pks))
        .order_by(refunds.c.created_at, refunds.c.pk)
    ).all()
    found: dict[int, list[Refund]] = {}
    for row in rows:
        found.setdefault(row.charge_pk, []).append(_from_row(row))
    return found
