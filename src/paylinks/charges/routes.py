"""HTTP for charges as records: retrieve, list, and update the description and metadata. Making
and completing one: `payments.routes`."""

from __future__ import annotations

from typing import Any

from paylinks.api.pipeline import ApiCall
from paylinks.charges import schemas, service
from paylinks.pagination import list_object, parse_list_query


async def retrieve_charge(call: ApiCall) -> dict[str, Any]:
    charge = await call.db.read(
        service.get_charge, principal=call.principal, charge_id=call.path_param("charge_id")
    )
    return schemas.charge_to_wire(charge, public_url=call.runtime.settings.public_url)


async def list_charges(call: ApiCall) -> dict[str, Any]:
    query = parse_list_query(call.params)
    found, total = await call.db.read(service.list_charges, principal=call.principal, query=query)
    public_url = call.runtime.settings.public_url
    return list_object(
        data=[schemas.charge_to_wire(c, public_url=public_url) for c in found],
        total=total,
        query=query,
        location="/charges",
        now=call.now(),
    )


async def update_charge(call: ApiCall) -> dict[str, Any]:
    charge_id = call.path_param("charge_id")
    # Another account's charge is a 404 whatever the parameters say.
    await call.db.read(service.get_charge, principal=call.principal, charge_id=charge_id)
    description, metadata = schemas.parse_update(call.params)
    charge = await call.db.write(
        service.update_charge,
        principal=call.principal,
        charge_id=charge_id,
        description=description,
        metadata=metadata,
        now=call.now(),
        record=call.runtime.recorder,
    )
    return schemas.charge_to_wire(charge, public_url=call.runtime.settings.public_url)
