"""Driving a card payment through its steps: the only code that calls the processor.

    open (commit: link claimed, token consumed, charge pending)
      → processor.charge(charge id, card reference)   no transaction is open here
      → settle (commit: outcome, link released on a decline, events)

A processor call is a side effect that no rollback takes back, so it happens strictly after
the claim is committed (a request that loses the claim never reaches it) and strictly outside
any transaction (a slow processor holds no lock). A request that dies in between leaves a
pending charge, which `charges.settlement` settles from what the processor says it did.
"""

from __future__ import annotations

from datetime import datetime

from paylinks.api.idempotency import GuardedDatabase
from paylinks.auth import Principal
from paylinks.charges.service import Charge, NewCharge
from paylinks.db import Database
from paylinks.errors import LiveModeUnavailable
from paylinks.eventlog import Recorder
from paylinks.payments import service
from paylinks.payments.service import Opened
from paylinks.processors.protocol import Processor


def require_processor(processor: Processor | None) -> Processor:
    if processor is None:
        raise LiveModeUnavailable(
            "live mode has no card processor configured; nothing was charged (use test keys)"
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
    """Call the processor for an opened card charge and settle it; a source's charge as it is."""
    charge = opened.charge
    if opened.card_ref is None:
        return charge
    outcome = processor.charge(
        charge_id=charge.id,
        card_ref=opened.card_ref,
        amount=charge.amount,
        currency=charge.currency,
    )
    return await db.write(
        service.settle_charge,
        principal=principal,
        charge_id=charge.id,
        outcome=outcome,
        now=now,
        record=record,
    )
