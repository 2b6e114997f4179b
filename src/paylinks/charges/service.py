"""Charges: pay with a token (card) or a source (PromptPay), optionally through a link.

A card payment is a small state machine, because the processor's call is a side effect no
transaction can take back (see `charges.payments`, which drives it):

1. `open_charge` (one transaction, committed): check the request, *claim* the link with a
   conditional UPDATE, consume the token, insert the charge as `pending`. On SQLite the
   transaction holds the write lock; on PostgreSQL a concurrent claim waits on the row and then
   finds it taken, so only the winner ever reaches the processor.
2. the processor is called, with no transaction open;
3. `settle_charge` (one transaction): record the answer, give the claim back after a decline,
   record the events. A charge whose request died between 1 and 3 is settled by the sweeper
   (`charges.settlement`) from what the processor says it did.

A unique partial index makes a second successful charge on a single-use link impossible even
if this code regresses.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paylinks.accounts.service import Principal
from paylinks.charges.processor import Outcome
from paylinks.clock import from_micros, to_micros
from paylinks.errors import (
    BadRequest,
    InvalidAmount,
    InvalidCharge,
    LiveModeUnavailable,
    MissingCard,
    NotFound,
)
from paylinks.events.service import Recorder
from paylinks.ids import new_id
from paylinks.links import service as links_service
from paylinks.links.service import Link
from paylinks.models import charges, links, sources
from paylinks.money import check_amount, parse_currency
from paylinks.pagination import ListQuery
from paylinks.sources import service as sources_service
from paylinks.sources.service import Source
from paylinks.tokens import service as tokens_service


class LinkNotPayable(BadRequest):
    """The link cannot take a payment now; `reason` is used, deleted, expired, limit_reached,
    or in_progress (a card payment holds its last place until the processor answers)."""

    code = "link_not_payable"

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


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


def _unpayable_reason(link: Link, now: datetime) -> tuple[str, str]:
    if link.deleted:
        return "deleted", f"link {link.id} has been deleted and is no longer available"
    if not link.multiple and link.used:
        return "used", f"link {link.id} has already been paid"
    if link.expires_at is not None and link.expires_at <= now:
        return "expired", f"link {link.id} expired"
    return "limit_reached", f"link {link.id} has reached its usage limit"


def ensure_payable(link: Link, now: datetime) -> None:
    if not link.is_active(now):
        reason, message = _unpayable_reason(link, now)
        raise LinkNotPayable(message, reason=reason)


def _payable_now(now: datetime) -> list[sa.ColumnElement[bool]]:
    micros = to_micros(now)
    return [
        links.c.deleted == sa.false(),
        sa.or_(links.c.expires_at.is_(None), links.c.expires_at > micros),
    ]


CLAIM_TRIES = 5


def claim_link(conn: Connection, *, principal: Principal, link: Link, now: datetime) -> None:
    """Take the link for one payment, or raise `LinkNotPayable` (judged in the database).

    When the claim fails, the reason is read afterwards in one statement (one snapshot); if by
    then the link is payable again (a payment in progress was declined and gave it back in
    between, which READ COMMITTED lets us see), the claim is simply tried again."""
    update = links.update().where(links.c.pk == link.pk, *_payable_now(now))
    if link.multiple:
        update = update.where(
            sa.or_(links.c.usage_limit.is_(None), links.c.paid_count < links.c.usage_limit)
        ).values(paid_count=links.c.paid_count + 1)
    else:
        # A single-use link has no usage limit: `used` is its whole count.
        update = update.where(links.c.used == sa.false()).values(used=True, used_at=to_micros(now))
    for _ in range(CLAIM_TRIES):
        if conn.execute(update).rowcount == 1:
            return
        current, held = _link_and_holder(conn, link)
        if current.is_active(now):
            continue  # given back meanwhile
        reason, message = _unpayable_reason(current, now)
        if reason in ("used", "limit_reached") and held:
            break
        raise LinkNotPayable(message, reason=reason)
    raise LinkNotPayable(
        f"a payment of link {link.id} is in progress; if it does not go through, the link can "
        "be paid again in a moment",
        reason="in_progress",
    )


_HELD = (
    sa.select(charges.c.pk)
    .where(
        charges.c.link_pk == links.c.pk,
        charges.c.status == "pending",
        charges.c.token_pk.is_not(None),
    )
    .exists()
)


def is_held(conn: Connection, *, link: Link) -> bool:
    """Whether a card charge between its claim and its settlement holds a place of the link."""
    found = conn.execute(sa.select(_HELD.label("held")).where(links.c.pk == link.pk)).scalar()
    return bool(found)


def _link_and_holder(conn: Connection, link: Link) -> tuple[Link, bool]:
    """The link's payment state now, and whether a card charge between its claim and its
    settlement holds a place: read together, so that both describe the same moment."""
    row = conn.execute(
        sa.select(
            links.c.deleted,
            links.c.used,
            links.c.expires_at,
            links.c.paid_count,
            _HELD.label("held"),
        ).where(links.c.pk == link.pk)
    ).one()
    current = replace(
        link,
        deleted=bool(row.deleted),
        used=bool(row.used),
        expires_at=from_micros(row.expires_at),
        paid_count=int(row.paid_count),
    )
    return current, bool(row.held)


def release_link(conn: Connection, *, link: Link) -> None:
    """Give back a claim after a decline: the link stays payable."""
    values: dict[str, Any] = (
        {"paid_count": links.c.paid_count - 1}
        if link.multiple
        else {"used": False, "used_at": None}
    )
    conn.execute(links.update().where(links.c.pk == link.pk).values(**values))


def _customer_amount(new: NewCharge, link: Link) -> tuple[int, str]:
    """A customer-decided link's charge: the amount the customer chose, within its bounds."""
    if new.amount is None:
        raise InvalidAmount("this link's customer decides the amount: send amount")
    if new.currency is not None and parse_currency(new.currency).code != link.currency:
        raise InvalidCharge(f"currency does not match the link's currency {link.currency}")
    currency = parse_currency(link.currency)
    check_amount(new.amount, currency)
    low = link.amount_min if link.amount_min is not None else currency.minimum
    high = link.amount_max if link.amount_max is not None else currency.maximum
    if not low <= new.amount <= high:
        raise InvalidAmount(f"amount must be between {low} and {high} for this link")
    return new.amount, link.currency


def _amount_and_currency(new: NewCharge, link: Link | None) -> tuple[int, str]:
    if link is not None and link.customer_decides:
        return _customer_amount(new, link)
    if link is not None:
        if new.amount is not None and new.amount != link.amount:
            raise InvalidCharge(
                f"amount {new.amount} does not match the link's amount {link.amount}"
            )
        if new.currency is not None and parse_currency(new.currency).code != link.currency:
            raise InvalidCharge(f"currency does not match the link's currency {link.currency}")
        return link.amount, link.currency
    if new.amount is None or new.currency is None:
        raise InvalidCharge("amount and currency are required (or a link to take them from)")
    currency = parse_currency(new.currency)
    return check_amount(new.amount, currency), currency.code


@dataclass(frozen=True)
class Opened:
    """A charge as its first transaction left it. `card_ref` is set for a card charge that now
    waits, pending, for the processor (then `settle_charge`); None when the charge needs
    nothing more from this request (a PromptPay charge waits for the customer's bank)."""

    charge: Charge
    card_ref: str | None = None

    @property
    def id(self) -> str:
        """The charge's id: what an Idempotency-Key is bound to when this commits."""
        return self.charge.id


def open_charge(
    conn: Connection, *, principal: Principal, new: NewCharge, now: datetime, record: Recorder
) -> Opened:
    """The first step of a payment, committed before any processor is called: check the request,
    claim the link (card payments), consume the token or source, and insert the charge as
    pending. Nothing is written when an error is raised."""
    if principal.livemode:
        raise LiveModeUnavailable(
            "live mode has no card processor configured; nothing was charged (use test keys)"
        )
    if (new.token_id is None) == (new.source_id is None):
        raise MissingCard("send either card (a token id) or source (a source id)")
    link = None
    if new.link_id is not None:
        link = links_service.get_link(conn, principal=principal, link_id=new.link_id)
    amount, currency = _amount_and_currency(new, link)
    values: dict[str, Any] = {
        "amount": amount,
        "currency": currency,
        "link_pk": link.pk if link else None,
        "single_use_link": link is not None and not link.multiple,
        "status": "pending",
    }
    card_ref = None
    if new.source_id is not None:
        source = sources_service.consume_source(conn, principal=principal, source_id=new.source_id)
        if (source.amount, source.currency) != (amount, currency):
            raise InvalidCharge("the source's amount and currency must match the charge's")
        if link is not None:
            ensure_payable(link, now)
        values.update(source_pk=source.pk)
    else:
        assert new.token_id is not None
        if link is not None:
            claim_link(conn, principal=principal, link=link, now=now)  # before the processor
        token_pk, vaulted = tokens_service.consume_token(
            conn, principal=principal, token_id=new.token_id
        )
        card_ref = vaulted.processor_ref
        values.update(token_pk=token_pk, card=orjson.dumps(vaulted.card).decode())
    charge_id = new_id("chrg", livemode=principal.livemode)
    conn.execute(
        charges.insert().values(
            id=charge_id,
            account_pk=principal.account_pk,
            livemode=principal.livemode,
            description=new.description,
            metadata=orjson.dumps(new.metadata).decode(),
            customer_email=new.customer_email,
            created_at=to_micros(now),
            **values,
        )
    )
    charge = get_charge(conn, principal=principal, charge_id=charge_id)
    if card_ref is None:  # a source: visible as pending to the merchant from now on
        record(conn, key="charge.create", principal=principal, subject=charge, now=now)
    return Opened(charge, card_ref)


def settle_charge(
    conn: Connection,
    *,
    principal: Principal,
    charge_id: str,
    outcome: Outcome,
    now: datetime,
    record: Recorder,
) -> Charge:
    """The last step of a card payment: record the processor's answer on the pending charge,
    give the link back after a decline, and record `charge.create` and its outcome. Done once:
    a charge already settled (by the request or by the sweeper, whichever came second) is
    returned as it is."""
    charge = get_charge(conn, principal=principal, charge_id=charge_id)
    values: dict[str, Any] = {
        "status": "successful" if outcome.successful else "failed",
        "failure_code": outcome.failure_code,
        "failure_message": outcome.failure_message,
    }
    if outcome.successful:
        values.update(
            transaction_id=new_id("trxn", livemode=principal.livemode), paid_at=to_micros(now)
        )
    done = conn.execute(
        charges.update()
        .where(charges.c.pk == charge.pk, charges.c.status == "pending")
        .values(**values)
    )
    if done.rowcount != 1:
        return charge
    if not outcome.successful and charge.link_id is not None:
        link = links_service.get_link(conn, principal=principal, link_id=charge.link_id)
        release_link(conn, link=link)
    settled = get_charge(conn, principal=principal, charge_id=charge_id)
    record(conn, key="charge.create", principal=principal, subject=settled, now=now)
    _record_outcome(conn, record, principal, settled, now)
    return settled


def _record_outcome(
    conn: Connection, record: Recorder, principal: Principal, charge: Charge, now: datetime
) -> None:
    """The seed's keys: `charge.complete` when a charge succeeds, `charge.failed` when it fails."""
    key = "charge.complete" if charge.status == "successful" else "charge.failed"
    record(conn, key=key, principal=principal, subject=charge, now=now)


def _select() -> sa.Select[Any]:
    """A charge with its link's id (its source is read apart, by `_from_rows`)."""
    return sa.select(charges, links.c.id.label("link_id")).outerjoin(
        links, links.c.pk == charges.c.link_pk
    )


def _from_rows(conn: Connection, rows: list[sa.Row[Any]]) -> list[Charge]:
    source_pks = {r.source_pk for r in rows if r.source_pk is not None}
    by_pk: dict[int, Source] = {}
    if source_pks:
        for row in conn.execute(sa.select(sources).where(sources.c.pk.in_(source_pks))):
            by_pk[row.pk] = sources_service._from_row(row)
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
        )
        for r in rows
    ]


def _scoped(principal: Principal) -> list[sa.ColumnElement[bool]]:
    return [charges.c.account_pk == principal.account_pk, charges.c.livemode == principal.livemode]


def get_charge(conn: Connection, *, principal: Principal, charge_id: str) -> Charge:
    row = conn.execute(_select().where(charges.c.id == charge_id, *_scoped(principal))).first()
    if row is None:
        raise NotFound.for_object("charge", charge_id)
    return _from_rows(conn, [row])[0]


def list_charges(
    conn: Connection, *, principal: Principal, query: ListQuery, link_pk: int | None = None
) -> tuple[list[Charge], int]:
    """A page of charges (of one link, when given) and the number of all that match."""
    where = list(_scoped(principal))
    if link_pk is not None:
        where.append(charges.c.link_pk == link_pk)
    if query.from_ is not None:
        where.append(charges.c.created_at >= to_micros(query.from_))
    if query.to is not None:
        where.append(charges.c.created_at <= to_micros(query.to))
    order = (
        (charges.c.created_at.desc(), charges.c.pk.desc())
        if query.reverse
        else (charges.c.created_at.asc(), charges.c.pk.asc())
    )
    rows = conn.execute(
        _select().where(*where).order_by(*order).limit(query.limit).offset(query.offset)
    ).all()
    total = conn.execute(sa.select(sa.func.count()).select_from(charges).where(*where)).scalar_one()
    return _from_rows(conn, list(rows)), int(total)


def _pending(conn: Connection, principal: Principal, charge_id: str, action: str) -> Charge:
    # Found first: another mode's (or account's) charge is a 404, like any other route.
    charge = get_charge(conn, principal=principal, charge_id=charge_id)
    if principal.livemode:
        raise BadRequest(f"{action} is available in test mode only")
    if charge.status != "pending":
        raise InvalidCharge(f"charge {charge_id} is {charge.status}, not pending")
    return charge


def mark_as_paid(
    conn: Connection, *, principal: Principal, charge_id: str, now: datetime, record: Recorder
) -> Charge:
    """Complete a pending (PromptPay) charge as the customer's bank would (test mode)."""
    charge = _pending(conn, principal, charge_id, "mark_as_paid")
    if charge.link_id is not None:
        link = links_service.get_link(conn, principal=principal, link_id=charge.link_id)
        claim_link(conn, principal=principal, link=link, now=now)
    conn.execute(
        charges.update()
        .where(charges.c.pk == charge.pk, charges.c.status == "pending")
        .values(
            status="successful",
            paid_at=to_micros(now),
            transaction_id=new_id("trxn", livemode=principal.livemode),
        )
    )
    paid = get_charge(conn, principal=principal, charge_id=charge_id)
    _record_outcome(conn, record, principal, paid, now)
    return paid


def mark_as_failed(
    conn: Connection, *, principal: Principal, charge_id: str, now: datetime, record: Recorder
) -> Charge:
    """Fail a pending charge (test mode): the customer never paid."""
    charge = _pending(conn, principal, charge_id, "mark_as_failed")
    conn.execute(
        charges.update()
        .where(charges.c.pk == charge.pk, charges.c.status == "pending")
        .values(
            status="failed", failure_code="payment_rejected", failure_message="payment rejected"
        )
    )
    failed = get_charge(conn, principal=principal, charge_id=charge_id)
    _record_outcome(conn, record, principal, failed, now)
    return failed


@dataclass(frozen=True)
class LinkStats:
    views: int
    by_status: dict[str, int]
    revenue: int


def link_stats(conn: Connection, *, principal: Principal, link_id: str) -> tuple[Link, LinkStats]:
    link = links_service.get_link(conn, principal=principal, link_id=link_id)
    rows = conn.execute(
        sa.select(
            charges.c.status, sa.func.count(), sa.func.coalesce(sa.func.sum(charges.c.amount), 0)
        )
        .where(charges.c.link_pk == link.pk)
        .group_by(charges.c.status)
    ).all()
    by_status = {status: int(count) for status, count, _ in rows}
    revenue = sum(int(total) for status, _, total in rows if status == "successful")
    views = conn.execute(sa.select(links.c.views).where(links.c.pk == link.pk)).scalar_one()
    return link, LinkStats(int(views), by_status, revenue)


EMBEDDED = 20
_CHARGE_COUNTS = (
    sa.select(charges.c.link_pk, sa.func.count())
    .where(charges.c.link_pk.in_(sa.bindparam("pks", expanding=True)))
    .group_by(charges.c.link_pk)
)


def embedded_charges(
    conn: Connection, *, link_pks: list[int]
) -> dict[int, tuple[list[Charge], int]]:
    """For each link, its first 20 charges (chronological) and how many it has: two queries for
    a whole page of links."""
    if not link_pks:
        return {}
    counts: dict[int, int] = dict(conn.execute(_CHARGE_COUNTS, {"pks": link_pks}).all())
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
