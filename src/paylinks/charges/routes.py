"""HTTP for charges: create, retrieve, list, and the test-mode completions."""

from __future__ import annotations

from typing import Any

from paylinks.api import ApiCall
from paylinks.charges import payments, schemas, service
from paylinks.charges.service import Charge
from paylinks.pagination import list_object, parse_list_query


def render_charge(call: ApiCall, charge: Charge) -> dict[str, Any]:
    return schemas.charge_to_wire(charge, public_url=call.services.settings.public_url)


async def create_charge(call: ApiCall) -> dict[str, Any]:
    new = schemas.parse_create(call.params)
    charge = await payments.pay(
        call.db,
        principal=call.principal,
        new=new,
        now=call.now(),
        processor=call.services.processor_for(call.principal.livemode),
        record=call.services.recorder,
    )
    return render_charge(call, charge)


async def retrieve_charge(call: ApiCall) -> dict[str, Any]:
    charge = await call.db.read(
        service.get_charge, principal=call.principal, charge_id=call.path_param("charge_id")
    )
    return render_charge(call, charge)


async def list_charges(call: ApiCall) -> dict[str, Any]:
    query = parse_list_query(call.params)
    found, total = await call.db.read(service.list_charges, principal=call.principal, query=query)
    return list_object(
        data=[render_charge(call, c) for c in found],
        total=total,
        query=query,
        location="/charges",
        now=call.now(),
    )


async def mark_as_paid(call: ApiCall) -> dict[str, Any]:
    charge = await call.db.write(
        service.mark_as_paid,
        principal=call.principal,
        charge_id=call.path_param("charge_id"),
        now=call.now(),
        record=call.services.recorder,
    )
    return render_charge(call, charge)


async def mark_as_failed(call: ApiCall) -> dict[str, Any]:
    charge = await call.db.write(
        service.mark_as_failed,
        principal=call.principal,
        charge_id=call.path_param("charge_id"),
        now=call.now(),
        record=call.services.recorder,
    )
    return render_charge(call, charge)
