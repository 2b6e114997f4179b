"""What happens to a charge after it opened: an authorization captured or reversed, a pending
charge expired (by request, or when its time is up). Each step is one transaction whose
conditional UPDATE lets exactly one of any number of racing requests through; the loser is
told why, with nothing written. The processor is called by `payments.flow`, after the commit.

    pending + authorized --capture--> successful      (charge.capture)
    pending + authorized --reverse--> reversed        (charge.reverse; the link is given back)
    pending + authorized --7 days---> expired         (charge.expire; the link is given back)
    pending (PromptPay)  --expire---> expired         (charge.expire; also after 24 hours)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paylinks.auth import Principal
from paylinks.charges.service import Charge, get_charge
from paylinks.clock import to_micros
from paylinks.errors import ApiError, ExpiredCharge, FailedCapture, FailedExpire, FailedReverse
from paylinks.eventlog import Recorder
from paylinks.ids import new_id
from paylinks.links import service as links_service
from paylinks.links.claims import release_link
from paylinks.models import charges


def _authorization_refusal(
    charge: Charge, action: str, error: type[ApiError], now: datetime
) -> ApiError:
    lapsed = charge.expires_at is not None and charge.expires_at <= now
    if charge.status == "expired" or (charge.status == "pending" and lapsed):
        return ExpiredCharge(f"charge {charge.id} expired: its authorization lapsed")
    if charge.status == "pending" and not charge.authorized:
        return error(f"charge {charge.id} is not authorized yet, so it cannot be {action}")
    if charge.status == "successful":
        return error(f"charge {charge.id} has already been captured")
    return error(f"charge {charge.id} is {charge.status}, so it cannot be {action}")


def _transition(
    conn: Connection, charge: Charge, now: datetime, *conditions: Any, **values: Any
) -> bool:
    """Move a pending charge on, if it still is what `conditions` say (and has not lapsed)."""
    done = conn.execute(
        charges.update()
        .where(
            charges.c.pk == charge.pk,
            charges.c.status == "pending",
            sa.or_(charges.c.expires_at.is_(None), charges.c.expires_at > to_micros(now)),
            *conditions,
        )
        .values(**values)
    )
    return done.rowcount == 1


def capture_charge(
    conn: Connection, *, principal: Principal, charge_id: str, now: datetime, record: Recorder
) -> Charge:
    """Capture an authorization in full: it becomes a successful charge."""
    charge = get_charge(conn, principal=principal, charge_id=charge_id)
    captured = _transition(
        conn, charge, now, charges.c.authorized_at.is_not(None),
        status="successful", paid_at=to_micros(now), expires_at=None,
        transaction_id=new_id("trxn", livemode=principal.livemode),
    )  # fmt: skip
    if not captured:
        fresh = get_charge(conn, principal=principal, charge_id=charge_id)
        raise _authorization_refusal(fresh, "captured", FailedCapture, now)
    done = get_charge(conn, principal=principal, charge_id=charge_id)
    record(conn, key="charge.capture", principal=principal, subject=done, now=now)
    return done


def reverse_charge(
    conn: Connection, *, principal: Principal, charge_id: str, now: datetime, record: Recorder
) -> Charge:
    """Release an authorization that was not captured; its link can be paid again."""
    charge = get_charge(conn, principal=principal, charge_id=charge_id)
    reversed_ = _transition(
        conn, charge, now, charges.c.authorized_at.is_not(None),
        status="reversed", reversed_at=to_micros(now), expires_at=None,
    )  # fmt: skip
    if not reversed_:
        fresh = get_charge(conn, principal=principal, charge_id=charge_id)
        raise _authorization_refusal(fresh, "reversed", FailedReverse, now)
    return _closed(conn, principal, charge, "charge.reverse", now, record)


def expire_charge(
    conn: Connection, *, principal: Principal, charge_id: str, now: datetime, record: Recorder
) -> Charge:
    """Expire a pending source (PromptPay) charge now: its QR can no longer be paid."""
    charge = get_charge(conn, principal=principal, charge_id=charge_id)
    expired = charge.source is not None and _transition(
        conn, charge, now, status="expired", expired_at=to_micros(now)
    )
    if not expired:
        fresh = get_charge(conn, principal=principal, charge_id=charge_id)
        what = "a card charge" if fresh.source is None else fresh.status
        raise FailedExpire(f"charge {charge_id} is {what}: only a pending source charge expires")
    return _closed(conn, principal, charge, "charge.expire", now, record)


def _closed(
    conn: Connection, principal: Principal, charge: Charge, key: str, now: datetime,
    record: Recorder,
) -> Charge:  # fmt: skip
    """After a charge ended without money: give back the place it took on its link (a card
    charge, authorized or waiting for 3-D Secure; a live QR), and record the event. A test
    QR never claimed its link."""
    if charge.claimed_link and charge.link_id is not None:
        link = links_service.get_link(conn, principal=principal, link_id=charge.link_id)
        release_link(conn, link=link)
    done = get_charge(conn, principal=principal, charge_id=charge.id)
    record(conn, key=key, principal=principal, subject=done, now=now)
    return done


def lapse(
    conn: Connection, *, principal: Principal, charge_id: str, now: datetime, record: Recorder
) -> Charge | None:
    """Expire a pending charge whose time is up (the sweeper); None if it moved on meanwhile."""
    charge = get_charge(conn, principal=principal, charge_id=charge_id)
    done = conn.execute(
        charges.update()
        .where(
            charges.c.pk == charge.pk,
            charges.c.status == "pending",
            charges.c.expires_at <= to_micros(now),
        )
        .values(status="expired", expired_at=to_micros(now))
    )
    if done.rowcount != 1:
        return None
    return _closed(conn, principal, charge, "charge.expire", now, record)
