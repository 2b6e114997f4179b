"""HTTP for reading refunds: one charge's, one of them, and all of the account's. Making one is
`payments.routes` (it moves money)."""

from __future__ import annotations

from typing import Any

from paylinks.api.pipeline import ApiCall
from paylinks.pagination import list_object, parse_list_query
from paylinks.refunds import schemas, service


async def list_charge_refunds(call: ApiCall) -> dict[str, Any]:
    charge_id = call.path_param("charge_id")
    return await _listed(call, charge_id, location=f"/charges/{charge_id}/refunds")


async def list_refunds(call: ApiCall) -> dict[str, Any]:
    return await _listed(call, None, location="/refunds")


async def retrieve_refund(call: ApiCall) -> dict[str, Any]:
    refund = await call.db.read(
        service.get_refund,
        principal=call.principal,
        charge_id=call.path_param("charge_id"),
        refund_id=call.path_param("refund_id"),
    )
    return schemas.refund_to_wire(refund)


async def _listed(call: ApiCall, charge_id: str | None, *, location: str) -> dict[str, Any]:
    query = parse_list_query(call.params)
    found, total = await call.db.read(
        service.list_refunds, principal=call.principal, query=query, charge_id=charge_id
    )
    return list_object(
        data=[schemas.refund_to_wire(r) for r in found],
        total=total,
        query=query,
        location=location,
        now=call.now(),
    )
