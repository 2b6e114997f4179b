"""A link's payment rules: whether it may be paid now, and the claim a payment takes on it.

A payment *claims* its link with a conditional UPDATE before any processor is called (single
use: `used = false`; multi-use: under its `usage_limit`; and not deleted or expired, judged by
the database at that moment). On SQLite the write transaction holds the database's lock; on
PostgreSQL a concurrent claim waits on the row and then finds it taken, so only the winner
reaches the processor. A decline gives the claim back. While a card charge is between its claim
and its settlement it *holds* the link: another payment is told a payment is in progress.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paylinks.auth import Principal
from paylinks.clock import from_micros, to_micros
from paylinks.errors import BadRequest
from paylinks.links.service import Link
from paylinks.models import charges, links


class LinkNotPayable(BadRequest):
    """The link cannot take a payment now; `reason` is used, deleted, expired, limit_reached,
    or in_progress (a card payment holds its last place until the processor answers; a live
    QR, until it is paid or expires)."""

    code = "link_not_payable"

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


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
        # A card charge, or a live QR (`Charge.claimed_link`); a test QR claims nothing.
        sa.or_(charges.c.token_pk.is_not(None), charges.c.livemode == sa.true()),
        charges.c.authorized_at.is_(None),  # an authorization has used the link, not held it
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
