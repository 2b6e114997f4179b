"""Driving money through its steps: the only code that calls the processor.

    open (commit: link claimed, token consumed, charge pending)
      → processor.charge(charge id, card reference)   no transaction is open here
      → settle (commit: outcome, link released on a decline, events)

A processor call is a side effect that no rollback takes back, so it happens strictly after
the claim is committed (a request that loses the claim never reaches it) and strictly outside
any transaction (a slow processor holds no lock). A request that dies in between leaves a
pending charge, which `charges.settlement` settles from what the processor says it did.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from paylinks.api.idempotency import GuardedDatabase
from paylinks.auth import Principal
from paylinks.charges.service import Charge, NewCharge, get_charge
from paylinks.db import Database
from paylinks.errors import LiveModeUnavailable, ProcessorRefused, ProcessorUnavailable
from paylinks.eventlog import Recorder
from paylinks.payments import authorizations, service, three_d_secure
from paylinks.payments.service import Opened
from paylinks.processors import sandbox
from paylinks.processors.protocol import Attempt, Outcome, Processor, Refused, Unknown
from paylinks.refunds import service as refunds_service
from paylinks.refunds.service import Refund

log = logging.getLogger("paylinks.payments")


def require_processor(processor: Processor | None) -> Processor:
    if processor is None:
        raise LiveModeUnavailable(
            "this account has not connected an Omise account for live payments "
            "(paylinks accounts connect-omise); nothing was charged"
        )
    return processor


async def pay(
    db: Database | GuardedDatabase,
    *,
    principal: Principal,
    new: NewCharge,
    now: datetime,
    processor: Processor | None,
    record: Recorder,
) -> Charge:
    """Create a charge: a card is charged now (a decline is a failed charge, not an error), a
    source starts a pending charge. Errors before the processor leave nothing written."""
    processor = require_processor(processor)
    opened = await db.write(
        service.open_charge, principal=principal, new=new, now=now, record=record
    )
    return await finish(
        db, opened, principal=principal, processor=processor, now=now, record=record
    )


async def finish(
    db: Database | GuardedDatabase,
    opened: Opened,
    *,
    principal: Principal,
    processor: Processor,
    now: datetime,
    record: Recorder,
) -> Charge:
    """Call the processor for an opened card charge and settle it; a source's charge as it is;
    a 3-D Secure charge waits for its customer (test mode: unless its card is not enrolled)."""
    charge = opened.charge
    if opened.card_ref is None:
        return charge
    if charge.authentication == "pending":
        if sandbox.enrolled_in_three_d_secure(opened.card_ref):
            return charge
        return await db.write(
            three_d_secure.refuse_unenrolled,
            principal=principal, charge_id=charge.id, now=now, record=record,
        )  # fmt: skip
    try:
        outcome = await processor.charge(
            charge_id=charge.id,
            card_ref=opened.card_ref,
            amount=charge.amount,
            currency=charge.currency,
            capture=charge.capture,
            link_id=charge.link_id,
            return_uri=charge.return_uri if principal.livemode else None,
        )
    except Unknown as problem:
        # Maybe charged, maybe not: never asked again blindly. The charge stays pending (its
        # link claimed) until the sweeper learns from the processor what happened.
        log.warning("charge %s: no answer from the processor (%s)", charge.id, problem)
        return charge
    except Refused as refused:
        # Nothing was done: the charge fails (its link is given back), and the merchant gets
        # the processor's own error, as it would from Omise.
        failed = Outcome(False, refused.code, refused.message)
        await db.write(
            service.settle_charge,
            principal=principal, charge_id=charge.id, outcome=failed, now=now, record=record,
        )  # fmt: skip
        raise ProcessorRefused(refused.code, refused.message, refused.status) from None
    return await db.write(
        service.settle_charge,
        principal=principal,
        charge_id=charge.id,
        outcome=outcome,
        now=now,
        record=record,
    )


async def refund(
    db: Database | GuardedDatabase,
    *,
    principal: Principal,
    charge_id: str,
    amount: int,
    metadata: dict[str, Any],
    now: datetime,
    processor: Processor | None,
    record: Recorder,
    refunded_before: int | None = None,
) -> Refund:
    """Refund part of a captured charge: the refund is recorded first (its amount reserved
    against the charge, so racing refunds can never exceed it), then the processor is asked
    once, outside the transaction, naming the refund. The test processor always agrees, so a
    test refund is made in that first step; a live one is only reserved there and made when
    Omise agrees (`_refund_live`). `refunded_before`: see `refunds.service.create_refund`."""
    # Another account's or mode's charge is a 404 before anything else is said.
    charge = await db.read(get_charge, principal=principal, charge_id=charge_id)
    processor = require_processor(processor)
    made = await db.write(
        refunds_service.create_refund,
        principal=principal,
        charge_id=charge_id,
        amount=amount,
        metadata=metadata,
        now=now,
        record=record,
        refunded_before=refunded_before,
        pending=principal.livemode,
    )
    if principal.livemode:
        return await _refund_live(db, made, charge, principal, processor, now, record)
    await processor.refund(
        charge_id=charge_id, refund_id=made.id, amount=made.amount, currency=made.currency,
        upstream_id=charge.upstream_id,
    )  # fmt: skip
    return made


async def _refund_live(
    db: Database | GuardedDatabase, reserved: Refund, charge: Charge, principal: Principal,
    processor: Processor, now: datetime, record: Recorder,
) -> Refund:  # fmt: skip
    """Omise's answer decides: made (closed, `refund.create` recorded), refused (the reservation
    given back, Omise's error to the merchant), or unknown (pending until the sweeper finds the
    refund at Omise, or not: Omise has no idempotency keys, so it is never sent twice)."""
    try:
        await processor.refund(
            charge_id=charge.id, refund_id=reserved.id, amount=reserved.amount,
            currency=reserved.currency, upstream_id=charge.upstream_id,
        )  # fmt: skip
    except Refused as refused:
        await db.write(refunds_service.release_refund, principal=principal, refund_id=reserved.id)
        raise ProcessorRefused(refused.code, refused.message, refused.status) from None
    except Unknown as problem:
        log.warning("refund %s: no answer from the processor (%s)", reserved.id, problem)
        return reserved
    return await db.write(
        refunds_service.confirm_refund,
        principal=principal, refund_id=reserved.id, now=now, record=record,
    )  # fmt: skip


async def capture(
    db: Database | GuardedDatabase,
    *,
    principal: Principal,
    charge_id: str,
    now: datetime,
    processor: Processor | None,
    record: Recorder,
) -> Charge:
    """Capture an authorization: recorded first (one of any racing captures wins), then the
    processor is asked once to capture it."""
    return await _settle_authorization(
        db, "capture", principal=principal, charge_id=charge_id, now=now,
        processor=processor, record=record,
    )  # fmt: skip


async def reverse(
    db: Database | GuardedDatabase,
    *,
    principal: Principal,
    charge_id: str,
    now: datetime,
    processor: Processor | None,
    record: Recorder,
) -> Charge:
    """Release an authorization: recorded first, then the processor is asked once."""
    return await _settle_authorization(
        db, "reverse", principal=principal, charge_id=charge_id, now=now,
        processor=processor, record=record,
    )  # fmt: skip


async def expire(
    db: Database | GuardedDatabase,
    *,
    principal: Principal,
    charge_id: str,
    now: datetime,
    processor: Processor | None,
    record: Recorder,
) -> Charge:
    """Expire a pending PromptPay charge now (its QR can no longer be paid). A live QR is paid
    at Omise, so Omise expires it first and the record follows Omise's answer; anything else
    (test mode, a live charge that is no waiting QR) is paylinks' own step, or its refusal."""
    charge = await db.read(get_charge, principal=principal, charge_id=charge_id)
    processor = require_processor(processor)
    if not (principal.livemode and charge.status == "pending" and charge.source is not None):
        return await db.write(
            authorizations.expire_charge,
            principal=principal, charge_id=charge_id, now=now, record=record,
        )  # fmt: skip
    at_omise = await _ask_live(processor, processor.expire, "expire", charge)
    done = await db.write(
        service.settle_charge,
        principal=principal, charge_id=charge_id, outcome=at_omise, now=now, record=record,
    )  # fmt: skip
    if done.status != "expired":
        raise ProcessorUnavailable(
            f"Omise has not expired charge {charge_id} yet; sending it again is safe"
        )
    return done


async def _settle_authorization(
    db: Database | GuardedDatabase,
    action: str,
    *,
    principal: Principal,
    charge_id: str,
    now: datetime,
    processor: Processor | None,
    record: Recorder,
) -> Charge:
    # Another account's or mode's charge is a 404 before anything else is said.
    charge = await db.read(get_charge, principal=principal, charge_id=charge_id)
    processor = require_processor(processor)
    step = authorizations.capture_charge if action == "capture" else authorizations.reverse_charge
    tell = processor.capture if action == "capture" else processor.reverse
    if principal.livemode:
        # Omise first: capturing or reversing twice cannot move money twice at Omise (the second
        # is refused), so asking again after a lost answer is safe, and the record follows
        # what Omise did, never the other way round.
        if charge.capturable:
            await _ask_live(processor, tell, action, charge)
        return await db.write(
            step, principal=principal, charge_id=charge_id, now=now, record=record
        )
    done = await db.write(step, principal=principal, charge_id=charge_id, now=now, record=record)
    await tell(
        charge_id=charge_id, amount=done.amount, currency=done.currency,
        upstream_id=done.upstream_id,
    )  # fmt: skip
    return done


async def _ask_live(
    processor: Processor, tell: Callable[..., Awaitable[Outcome]], action: str, charge: Charge
) -> Outcome:
    """Capture, reverse or expire at Omise (`tell`): Omise's answer; a refusal stands unless
    Omise's charge shows the action was done already (an earlier request whose answer was
    lost), and then that charge is the answer."""
    try:
        return await tell(
            charge_id=charge.id, amount=charge.amount, currency=charge.currency,
            upstream_id=charge.upstream_id,
        )  # fmt: skip
    except Unknown as problem:
        raise ProcessorUnavailable(
            f"Omise's answer to the {action} of charge {charge.id} was lost; nothing was "
            "recorded, and sending it again is safe"
        ) from problem
    except Refused as refused:
        refusal = refused
    try:
        now_at_omise = await processor.lookup(
            Attempt(charge.id, charge.created_at, charge.upstream_id)
        )
    except (Refused, Unknown):
        now_at_omise = None
    if now_at_omise is None or not DONE_AT_OMISE[action](now_at_omise):
        raise ProcessorRefused(refusal.code, refusal.message, refusal.status)
    return now_at_omise


# What Omise's charge looks like once each action was done there.
DONE_AT_OMISE: dict[str, Callable[[Outcome], bool]] = {
    "capture": lambda found: found.successful and not found.held,
    "reverse": lambda found: found.failure_code == "reversed",
    "expire": lambda found: found.expired,
}


async def settle_from_processor(
    db: Database,
    charge: Charge,
    *,
    principal: Principal,
    processor: Processor,
    now: datetime,
    record: Recorder,
) -> Charge:
    """The charge as the processor holds it now, recorded once it is final (a live charge back
    from Omise's 3-D Secure step); pending, or a processor that cannot be asked: as it is."""
    try:
        found = await processor.lookup(Attempt(charge.id, charge.created_at, charge.upstream_id))
    except (Refused, Unknown):
        return charge
    if found is None or found.pending:
        return charge
    return await db.write(
        service.settle_charge,
        principal=principal, charge_id=charge.id, outcome=found, now=now, record=record,
    )  # fmt: skip


async def authenticate(
    db: Database, *, charge_id: str, passed: bool, now: datetime, processor: Processor,
    record: Recorder,
) -> Charge:  # fmt: skip
    """The customer's answer on the 3-D Secure page: a pass sends the card to the processor
    (once: only the request that recorded the pass goes on), a failure fails the charge."""
    principal, opened = await db.write(
        three_d_secure.authenticate, charge_id=charge_id, passed=passed, now=now, record=record
    )
    if opened.card_ref is None:
        return opened.charge
    return await finish(
        db, opened, principal=principal, processor=processor, now=now, record=record
    )
