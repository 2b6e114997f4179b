"""The receipts outbox: rows written in the payment's own transactions, claimed by the mailer.

A receipt is "held" with the charge the page opens (only then are the customer's address and
language known), released to "pending" in the transaction that records the charge paid (by the
event recorder, whatever path paid it: the card's answer, a QR paid, a capture, the sweeper), and
claimed with a lease, so that a mailer that dies gives its receipts back. SMTP has no idempotency
key: a mailer that dies after the server accepted a message and before `record_sent` committed
sends it again after the lease, with the same Message-ID (`letter.message_id`), which mail
clients use to fold duplicates. Nothing is lost; a duplicate needs a crash in that window.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paylinks.clock import to_micros
from paylinks.db import dialect_insert
from paylinks.hot import Hot
from paylinks.models import receipts

# Longer than a send can take (the SMTP client's timeout is 30 s).
LEASE = timedelta(seconds=90)
# Seconds before the next try after the n-th failure: a mail server down for a day still gets
# the receipt, a mailbox that refuses it stops being asked.
RETRY_SCHEDULE = (30, 300, 1800, 7200, 21600, 86400)


def hold(conn: Connection, *, charge_pk: int, email: str, language: str, now: datetime) -> None:
    """Queue a receipt for a charge that is not paid yet; a second call for it does nothing (a
    form posted twice makes one charge, and one receipt)."""
    row = {
        "charge_pk": charge_pk,
        "email": email,
        "language": language,
        "status": "held",
        "created_at": to_micros(now),
    }
    conn.execute(
        dialect_insert(conn, receipts)
        .values(row)
        .on_conflict_do_nothing(index_elements=["charge_pk"])
    )


# Runs in the transaction of every paid charge that carries an e-mail address.
_RELEASE = Hot(
    receipts.update()
    .where(receipts.c.charge_pk == sa.bindparam("charge"), receipts.c.status == "held")
    .values(status="pending", next_attempt_at=sa.bindparam("now"))
)


def release(conn: Connection, *, charge_pk: int, now: datetime) -> None:
    """The charge is paid: its held receipt (if one is held) is due now. Held once, released
    once: a receipt already pending or sent is left alone."""
    _RELEASE.execute(conn, {"charge": charge_pk, "now": to_micros(now)})


def _due(now: datetime) -> list[sa.ColumnElement[bool]]:
    micros = to_micros(now)
    return [
        receipts.c.status == "pending",
        receipts.c.next_attempt_at <= micros,
        sa.or_(receipts.c.locked_until.is_(None), receipts.c.locked_until < micros),
    ]


@dataclass(frozen=True)
class Claimed:
    pk: int
    charge_pk: int
    email: str
    language: str
    attempts: int


def claim_due(
    conn: Connection, *, now: datetime, limit: int = 20, lease: timedelta = LEASE
) -> list[Claimed]:
    """Lease up to `limit` due receipts (PostgreSQL skips rows another mailer is claiming)."""
    claimable = (
        sa.select(receipts.c.pk).where(*_due(now)).order_by(receipts.c.next_attempt_at).limit(limit)
    )
    if conn.dialect.name == "postgresql":
        claimable = claimable.with_for_update(skip_locked=True)
    pks = list(conn.execute(claimable).scalars())
    if not pks:
        return []
    conn.execute(
        receipts.update().where(receipts.c.pk.in_(pks)).values(locked_until=to_micros(now + lease))
    )
    rows = conn.execute(
        sa.select(
            receipts.c.pk, receipts.c.charge_pk, receipts.c.email, receipts.c.language,
            receipts.c.attempts,
        ).where(receipts.c.pk.in_(pks))
    ).all()  # fmt: skip
    return [Claimed(*row) for row in rows]


def anything_due(conn: Connection, *, now: datetime) -> bool:
    """A cheap read before taking the write lock to claim."""
    return conn.execute(sa.select(receipts.c.pk).where(*_due(now)).limit(1)).first() is not None


def record_sent(conn: Connection, *, pk: int, now: datetime) -> None:
    conn.execute(
        receipts.update()
        .where(receipts.c.pk == pk)
        .values(
            status="sent", sent_at=to_micros(now), attempts=receipts.c.attempts + 1,
            locked_until=None, last_error=None,
        )
    )  # fmt: skip


def record_failure(
    conn: Connection, *, claimed: Claimed, error: str, permanent: bool, now: datetime
) -> None:
    """A failed try: again later on the schedule, or "failed" when the server refused the
    address for good (5xx) or the schedule is spent."""
    attempts = claimed.attempts + 1
    later = None if permanent else next_attempt(attempts, now)
    conn.execute(
        receipts.update()
        .where(receipts.c.pk == claimed.pk)
        .values(
            status="pending" if later else "failed",
            attempts=attempts,
            next_attempt_at=to_micros(later) if later else None,
            locked_until=None,
            last_error=error[:300],
        )
    )


def next_attempt(attempts_made: int, now: datetime) -> datetime | None:
    if attempts_made > len(RETRY_SCHEDULE):
        return None
    wait = RETRY_SCHEDULE[attempts_made - 1] * random.uniform(0.9, 1.1)  # noqa: S311 - jitter
    return now + timedelta(seconds=wait)
