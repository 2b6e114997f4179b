"""The test clock (a paylinks extension): in test mode an account may move its own time
forward, so that an integrator can see a link expire, a PromptPay QR expire, an authorization
lapse or a webhook retried and an endpoint disabled, in seconds instead of days.

The clock is an offset from real time kept on the account (`accounts.clock_offset`,
microseconds), read with the key (`Principal.clock_offset`) and applied wherever the account's
"now" is taken (`Principal.clock`). Links, charges, refunds and events are stamped and expire by
it; sweeps that compare stored times compare them with real time plus the offset
(`accounts.service.clock_offset_of`). Webhook deliveries, secrets and keys run on real time
instead (a receiver lives in real time): advancing the clock pulls the account's pending
deliveries, failure clocks and secret overlaps forward by the same amount, which is the same
thing seen from the account.

Live mode never has a test clock: its offset is always 0, whatever the column says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paylinks.auth import Principal
from paylinks.db import announce_outbox
from paylinks.errors import BadRequest, NotFound
from paylinks.models import accounts, webhook_deliveries, webhook_endpoints

# Far enough for any schedule paylinks has (7-day authorizations, 5-day endpoint health, link
# expiry dates), near enough that no date computed from it can overflow.
MAX_AHEAD = timedelta(days=3650)
MICROS = 1_000_000


@dataclass(frozen=True)
class TestClock:
    __test__ = False  # not a pytest class
    livemode: bool
    offset: int  # microseconds ahead of real time
    now: datetime  # the account's time


def _test_mode_only(principal: Principal) -> None:
    if principal.livemode:
        raise NotFound("live mode has no test clock; use the account's test keys")


def read_clock(conn: Connection, *, principal: Principal, real_now: datetime) -> TestClock:
    """The clock as stored now (the key's cached offset may be a few seconds old)."""
    _test_mode_only(principal)
    query = sa.select(accounts.c.clock_offset).where(accounts.c.pk == principal.account_pk)
    offset = int(conn.execute(query).scalar_one())
    return TestClock(False, offset, real_now + timedelta(microseconds=offset))


def advance(
    conn: Connection, *, principal: Principal, seconds: int, real_now: datetime
) -> TestClock:
    """Move the account's test clock `seconds` forward, and pull what runs on real time forward
    with it. Refused (nothing written) past `MAX_AHEAD`."""
    _test_mode_only(principal)
    limit = int(MAX_AHEAD.total_seconds()) * MICROS
    if seconds <= 0:
        raise BadRequest("seconds must be a positive integer")
    if seconds * MICROS > limit:  # checked here: the SQL sum below could overflow a BIGINT
        raise BadRequest(f"a test clock may be at most {MAX_AHEAD.days} days ahead of real time")
    delta = seconds * MICROS
    moved = conn.execute(
        accounts.update()
        .where(accounts.c.pk == principal.account_pk, accounts.c.clock_offset + delta <= limit)
        .values(clock_offset=accounts.c.clock_offset + delta)
    )
    if moved.rowcount != 1:
        raise BadRequest(f"a test clock may be at most {MAX_AHEAD.days} days ahead of real time")
    _pull_forward(conn, principal=principal, delta=delta)
    return read_clock(conn, principal=principal, real_now=real_now)


def reset(conn: Connection, *, principal: Principal, real_now: datetime) -> TestClock:
    """Back to real time. What happened while ahead stays as it happened."""
    _test_mode_only(principal)
    conn.execute(
        accounts.update().where(accounts.c.pk == principal.account_pk).values(clock_offset=0)
    )
    return read_clock(conn, principal=principal, real_now=real_now)


def _pull_forward(conn: Connection, *, principal: Principal, delta: int) -> None:
    """The account's test-mode deliveries come due, failure clocks run and rolled secrets'
    overlaps end `delta` microseconds sooner in real time."""
    endpoints = webhook_endpoints.c
    mine = sa.and_(endpoints.account_pk == principal.account_pk, endpoints.livemode.is_(False))
    deliveries = webhook_deliveries.c
    announce_outbox(conn)  # some may be due now
    conn.execute(
        webhook_deliveries.update()
        .where(
            deliveries.status == "pending",
            deliveries.next_attempt_at.is_not(None),
            deliveries.endpoint_pk.in_(sa.select(endpoints.pk).where(mine)),
        )
        .values(next_attempt_at=deliveries.next_attempt_at - delta)
    )
    for column in (endpoints.failing_since, endpoints.previous_secret_until):
        conn.execute(
            webhook_endpoints.update()
            .where(mine, column.is_not(None))
            .values({column.name: column - delta})
        )
