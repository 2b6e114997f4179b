"""Settling card charges whose request died between the processor's call and its record.

A pending card charge older than its processor's `settle_after` has no request working on it
any more (the test processor answers at once, ten seconds is long dead; a live one within its
timeout, plus a margin). The sweeper asks the processor what it did for that charge and settles
the charge accordingly; when the processor never charged for it, the charge fails
(`failed_processing`) and its link is given back. `settle_charge` does
nothing to a charge already settled, so the request, the sweeper and a retried request may race
freely. Runs in every `serve` process and in `paylinks worker`, with the expiry of pending
charges whose time is up (`payments.expiry`) in the same loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paylinks.auth import Principal
from paylinks.charges.service import Charge, get_charge
from paylinks.clock import Clock
from paylinks.db import Database
from paylinks.eventlog import Recorder
from paylinks.models import charges
from paylinks.payments import service
from paylinks.payments.expiry import due, expire_due, pending_by_their_clock
from paylinks.processors.protocol import Attempt, Outcome, Processor, Refused, Unknown
from paylinks.refunds import service as refunds_service
from paylinks.refunds.service import WaitingRefund

log = logging.getLogger("paylinks.settlement")
SETTLE_AFTER = timedelta(seconds=10)
EVERY_SECONDS = 5.0
# Omise's code for a charge the network never completed.
INTERRUPTED = Outcome(
    False, "failed_processing", "the payment was interrupted before the card was charged"
)

# The processor behind an account and mode (`Runtime.processor_of`).
Processors = Callable[[Principal], Awaitable[Processor | None]]


def interrupted(
    conn: Connection, *, before: datetime, limit: int = 100
) -> list[tuple[Principal, str]]:
    """Pending charges waiting for the processor (`Charge.waits_for_the_processor`) created
    before `before`: (their account and mode, their id)."""
    waiting_for_the_processor = [
        # A card charge, or a live QR whose charge at Omise has no answer recorded yet.
        sa.or_(
            charges.c.token_pk.is_not(None),
            sa.and_(charges.c.livemode == sa.true(), charges.c.upstream_id.is_(None)),
        ),
        charges.c.authorized_at.is_(None),  # an authorization waits for its capture
        # A 3-D Secure charge waits for its customer, not for the processor.
        sa.or_(charges.c.authentication.is_(None), charges.c.authentication != "pending"),
    ]
    return pending_by_their_clock(
        conn,
        stamp=charges.c.created_at,
        until=before,
        conditions=waiting_for_the_processor,
        limit=limit,
    )


async def settle(
    db: Database,
    *,
    principal: Principal,
    charge_id: str,
    processor: Processor | None,
    now: datetime,
    record: Recorder,
) -> Charge:
    """Settle one interrupted charge from the processor's own account of it. A charge younger
    than the processor's `settle_after` may still have a request waiting for the answer, and a
    processor that cannot be asked now is asked again next sweep: both stay pending."""
    charge = await db.read(get_charge, principal=principal, charge_id=charge_id)
    if charge.status != "pending":
        return charge
    if processor is None:
        if principal.livemode:  # disconnected since: what Omise did is unknown, not a failure
            log.warning("live charge %s is pending and its account has no processor", charge_id)
            return charge
        found = None
    else:
        if now - charge.created_at < processor.settle_after:
            return charge
        try:
            found = await processor.lookup(
                Attempt(charge.id, charge.created_at, charge.upstream_id)
            )
        except (Unknown, Refused) as problem:
            log.warning("could not ask the processor about charge %s: %s", charge_id, problem)
            return charge
    settled = await db.write(
        service.settle_charge,
        principal=principal,
        charge_id=charge_id,
        outcome=found or INTERRUPTED,
        now=now,
        record=record,
    )
    log.warning("settled interrupted charge %s: %s", charge_id, settled.status)
    return settled


async def settle_interrupted(
    db: Database, *, processors: Processors, record: Recorder, now: datetime
) -> int:
    """One sweep; how many charges (and refunds) it looked at."""
    stale = await db.read(interrupted, before=now - SETTLE_AFTER)
    for principal, charge_id in stale:
        await settle(
            db,
            principal=principal,
            charge_id=charge_id,
            processor=await processors(principal),
            now=principal.clock(now),
            record=record,
        )
    waiting = await db.read(refunds_service.waiting_refunds, before=now - SETTLE_AFTER)
    for refund in waiting:
        await settle_refund(db, refund, processor=await processors(refund.principal), now=now,
                            record=record)  # fmt: skip
    return len(stale) + len(waiting)


async def settle_refund(
    db: Database, refund: WaitingRefund, *, processor: Processor | None, now: datetime,
    record: Recorder,
) -> None:  # fmt: skip
    """A live refund whose answer was lost: made if Omise holds it (by the refund id in its
    metadata), else given back. Young ones, and an Omise that cannot be asked, wait."""
    if processor is None or now - refund.created_at < processor.settle_after:
        return
    try:
        made = await processor.find_refund(
            charge_id=refund.charge_id, refund_id=refund.refund_id, upstream_id=refund.upstream_id
        )
    except (Unknown, Refused) as problem:
        log.warning("could not ask the processor about refund %s: %s", refund.refund_id, problem)
        return
    principal = refund.principal
    if made:
        await db.write(refunds_service.confirm_refund, principal=principal,
                       refund_id=refund.refund_id, now=now, record=record)  # fmt: skip
    else:
        await db.write(refunds_service.release_refund, principal=principal,
                       refund_id=refund.refund_id)  # fmt: skip
    log.warning(
        "settled interrupted refund %s: %s", refund.refund_id, "made" if made else "not made"
    )


async def end_live_qrs(
    db: Database, *, processors: Processors, record: Recorder, now: datetime
) -> int:
    """Live QRs whose time is up: settled from Omise (paid, expired) or, when Omise still waits,
    expired there first. One that cannot be asked now is asked next sweep."""
    due_qrs = await db.read(due, now=now, live_qrs=True)
    for principal, charge_id in due_qrs:
        processor = await processors(principal)
        charge = await db.read(get_charge, principal=principal, charge_id=charge_id)
        if processor is None or charge.status != "pending":
            continue
        try:
            found = await processor.lookup(
                Attempt(charge.id, charge.created_at, charge.upstream_id)
            )
            if found is not None and found.pending:
                found = await processor.expire(
                    charge_id=charge.id, amount=charge.amount, currency=charge.currency,
                    upstream_id=charge.upstream_id,
                )  # fmt: skip
        except (Unknown, Refused) as problem:
            log.warning("could not end live QR charge %s at Omise: %s", charge_id, problem)
            continue
        await db.write(
            service.settle_charge, principal=principal, charge_id=charge_id,
            outcome=found or INTERRUPTED, now=principal.clock(now), record=record,
        )  # fmt: skip
    return len(due_qrs)


async def run_forever(
    db: Database,
    *,
    processors: Processors,
    record: Recorder,
    clock: Clock,
    stop: asyncio.Event,
    every: float = EVERY_SECONDS,
) -> None:
    while not stop.is_set():
        try:
            now = clock.now()
            await settle_interrupted(db, processors=processors, record=record, now=now)
            await expire_due(db, record=record, now=now)  # the same loop: pending charges' end
            await end_live_qrs(db, processors=processors, record=record, now=now)
        except Exception:  # a database hiccup must not end settlement for good
            log.exception("settlement sweep failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
