"""HTTP for the capability object. Public or secret key."""

from __future__ import annotations

from typing import Any

from paylinks.api.pipeline import ApiCall
from paylinks.capability import schemas


async def retrieve_capability(call: ApiCall) -> dict[str, Any]:
    # A mode without a processor (live, before an Omise account is connected) refuses every
    # charge, so it offers no method.
    payable = await call.runtime.processor_of(call.principal) is not None
    return schemas.capability_to_wire(payable=payable, sources=not call.principal.livemode)
