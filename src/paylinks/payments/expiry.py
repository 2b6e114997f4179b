"""Expiring pending charges when their time is up: an authorization after 7 days, a PromptPay
QR after 24 hours (a live QR's end is Omise's to say: `payments.settlement`). The settlement
sweeper runs it (every `serve` process and `paylinks worker`); racing sweepers expire a charge
once (`authorizations.lapse` is a conditional UPDATE).

Time is each account's own: in test mode an account's test clock may be ahead of real time, and
its charges expire by that clock (`testclock`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paylinks.accounts.service import clock_offset_of
from paylinks.auth import Principal
from paylinks.clock import to_micros
from paylinks.db import Database
from paylinks.eventlog import Recorder
from paylinks.models import accounts, charges
from paylinks.payments.authorizations import lapse

log = logging.getLogger("paylinks.expiry")


def pending_by_their_clock(
    conn: Connection,
    *,
    stamp: sa.Column[Any],
    until: datetime,
    conditions: list[sa.ColumnElement[bool]],
    limit: int,
) -> list[tuple[Principal, str]]:
    """Pending charges (with `conditions`) whose `stamp`, a time of their account's clock, is
    before real time `until` on that clock (test mode: plus the account's offset), oldest
    first: (the account and mode, with its clock; the charge id). For the sweeps."""
    offset = clock_offset_of(charges.c.livemode)
    rows = conn.execute(
        sa.select(
            charges.c.id,
            charges.c.account_pk,
            charges.c.livemode,
            accounts.c.id.label("account_id"),
            offset.label("offset"),
        )
        .join(accounts, accounts.c.pk == charges.c.account_pk)
        .where(
            charges.c.status == "pending",
            stamp.is_not(None),
            stamp < sa.literal(to_micros(until), sa.BigInteger) + offset,
            *conditions,
        )
        .order_by(stamp)
        .limit(limit)
    ).all()
    return [
        (
            Principal(r.account_pk, r.account_id, bool(r.livemode), "secret", "", None, r.offset),
            r.id,
        )
        for r in rows
    ]


# A live QR is paid at Omise: only Omise can say it was not (`settlement.end_live_qrs`).
LIVE_QR = sa.and_(charges.c.livemode == sa.true(), charges.c.source_pk.is_not(None))


def due(
    conn: Connection, *, now: datetime, live_qrs: bool = False, limit: int = 100
) -> list[tuple[Principal, str]]:
    """Pending charges whose time is up by their account's clock: those paylinks ends itself,
    or (`live_qrs`) the live QRs whose end Omise decides."""
    # `expires_at <= now` is `expires_at < now + 1 µs`: the moment itself has come.
    until = now + timedelta(microseconds=1)
    which = LIVE_QR if live_qrs else sa.not_(LIVE_QR)
    return pending_by_their_clock(
        conn, stamp=charges.c.expires_at, until=until, conditions=[which], limit=limit
    )


async def expire_due(db: Database, *, record: Recorder, now: datetime) -> int:
    """One sweep; how many charges it expired."""
    expired = 0
    for principal, charge_id in await db.read(due, now=now):
        done = await db.write(
            lapse, principal=principal, charge_id=charge_id, now=principal.clock(now), record=record
        )
        if done is not None:
            expired += 1
            log.info("expired charge %s", charge_id)
    return expired
