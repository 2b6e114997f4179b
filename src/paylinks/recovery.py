"""Rebuilding a response from the object a request made, by the object's id: for a retry with
an Idempotency-Key whose first request died after its change committed (see `idempotency`).

Each kind renders as its own retrieve endpoint does; a webhook endpoint as the request that
changed it would have (with its secret after a create or a roll, as a deletion after DELETE).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from starlette.requests import Request

from paylinks.api.idempotency import KeyInUse
from paylinks.api.pipeline import ApiCall, Handler
from paylinks.charges import routes as charges
from paylinks.charges import service as charges_service
from paylinks.events import routes as events
from paylinks.links import routes as links
from paylinks.payments import settlement
from paylinks.refunds import routes as refunds
from paylinks.sources import routes as sources
from paylinks.tokens import routes as tokens
from paylinks.webhooks import routes as webhooks

RETRIEVERS: dict[str, tuple[Handler, str]] = {
    "payl_": (links.retrieve_link, "link_id"),
    "chrg_": (charges.retrieve_charge, "charge_id"),
    "tokn_": (tokens.retrieve_token, "token_id"),
    "src_": (sources.retrieve_source, "source_id"),
    "evnt_": (events.retrieve_event, "event_id"),
    "rfnd_": (refunds.retrieve_refund, "refund_id"),
}


async def rebuild(call: ApiCall, object_id: str) -> dict[str, Any]:
    if object_id.startswith("wbhk_"):
        return await webhooks.rebuild_endpoint(call, object_id)
    if object_id.startswith("chrg_"):
        await _settle_if_interrupted(call, object_id)
    for prefix, (retrieve, param) in RETRIEVERS.items():
        if object_id.startswith(prefix):
            # Merged: a refund is read under the charge named in the request's own path.
            params = {**call.request.path_params, param: object_id}
            scope = {**call.request.scope, "path_params": params}
            return await retrieve(replace(call, request=Request(scope), guarded=None))
    raise LookupError(f"no way to render {object_id}")


async def _settle_if_interrupted(call: ApiCall, charge_id: str) -> None:
    """A card charge whose request died before settling it is settled now (from what the
    processor says it did), so that the retry gets its final answer, not "pending". While the
    first request may still be waiting for the processor (a charge younger than the processor's
    `settle_after`), the retry is told to come back: settling it now could fail a charge the
    processor is about to make."""
    runtime = call.runtime
    charge = await runtime.db.read(
        charges_service.get_charge, principal=call.principal, charge_id=charge_id
    )
    if not charge.waits_for_the_processor:
        return
    settled = await settlement.settle(
        runtime.db,
        principal=call.principal,
        charge_id=charge_id,
        processor=await runtime.processor_of(call.principal),
        now=call.now(),
        record=runtime.recorder,
    )
    if settled.status == "pending":
        raise KeyInUse("the first request with this key is still in progress; retry shortly")
