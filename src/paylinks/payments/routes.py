"""HTTP for moving money: making a charge (`POST /charges`), refunding, capturing, reversing or
expiring one, and, in test mode, completing a pending one as the customer's bank would
(`mark_as_paid`, `mark_as_failed`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from paylinks.api.pipeline import ApiCall
from paylinks.charges import schemas
from paylinks.charges.service import Charge, get_charge
from paylinks.payments import flow, service
from paylinks.refunds import schemas as refund_schemas


def _rendered(call: ApiCall, charge: Charge) -> dict[str, Any]:
    return schemas.charge_to_wire(charge, public_url=call.runtime.settings.public_url)


async def create_charge(call: ApiCall) -> dict[str, Any]:
    charge = await flow.pay(
        call.db,
        principal=call.principal,
        new=schemas.parse_create(call.params),
        now=call.now(),
        processor=await call.runtime.processor_of(call.principal),
        record=call.runtime.recorder,
    )
    return _rendered(call, charge)


async def _charge_step(call: ApiCall, step: Callable[..., Charge]) -> dict[str, Any]:
    """A change of the path's charge in one transaction (no processor call), rendered."""
    charge = await call.db.write(
        step,
        principal=call.principal,
        charge_id=call.path_param("charge_id"),
        now=call.now(),
        record=call.runtime.recorder,
    )
    return _rendered(call, charge)


async def _processor_step(call: ApiCall, step: Callable[..., Awaitable[Charge]]) -> dict[str, Any]:
    """A change of the path's charge that the processor is told of (`payments.flow`)."""
    charge = await step(
        call.db,
        principal=call.principal,
        charge_id=call.path_param("charge_id"),
        now=call.now(),
        processor=await call.runtime.processor_of(call.principal),
        record=call.runtime.recorder,
    )
    return _rendered(call, charge)


async def mark_as_paid(call: ApiCall) -> dict[str, Any]:
    return await _charge_step(call, service.mark_as_paid)


async def mark_as_failed(call: ApiCall) -> dict[str, Any]:
    return await _charge_step(call, service.mark_as_failed)


async def create_refund(call: ApiCall) -> dict[str, Any]:
    charge_id = call.path_param("charge_id")
    # Another account's charge is a 404 whatever the parameters say.
    await call.db.read(get_charge, principal=call.principal, charge_id=charge_id)
    amount, metadata = refund_schemas.parse_create(call.params)
    made = await flow.refund(
        call.db,
        principal=call.principal,
        charge_id=charge_id,
        amount=amount,
        metadata=metadata,
        now=call.now(),
        processor=await call.runtime.processor_of(call.principal),
        record=call.runtime.recorder,
    )
    return refund_schemas.refund_to_wire(made)


async def capture_charge(call: ApiCall) -> dict[str, Any]:
    return await _processor_step(call, flow.capture)


async def reverse_charge(call: ApiCall) -> dict[str, Any]:
    return await _processor_step(call, flow.reverse)


async def expire_charge(call: ApiCall) -> dict[str, Any]:
    return await _processor_step(call, flow.expire)
