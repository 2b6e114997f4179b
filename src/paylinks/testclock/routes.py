"""HTTP for the test clock (a paylinks extension): `GET /test_clock`, `POST /test_clock/advance`
(`seconds`), `POST /test_clock/reset`. Test keys only."""

from __future__ import annotations

from typing import Any

from paylinks.api.pipeline import ApiCall
from paylinks.clock import format_time
from paylinks.errors import BadRequest
from paylinks.payments.expiry import expire_due
from paylinks.testclock import service
from paylinks.testclock.service import MICROS, TestClock


def clock_to_wire(clock: TestClock) -> dict[str, Any]:
    return {
        "object": "test_clock",
        "livemode": clock.livemode,
        "location": "/test_clock",
        "offset": clock.offset // MICROS,
        "now": format_time(clock.now),
    }


async def retrieve_clock(call: ApiCall) -> dict[str, Any]:
    clock = await call.db.read(
        service.read_clock, principal=call.principal, real_now=call.runtime.clock.now()
    )
    return clock_to_wire(clock)


async def advance_clock(call: ApiCall) -> dict[str, Any]:
    seconds = call.params.integer("seconds", required=True)
    if seconds is None or seconds <= 0:
        raise BadRequest("seconds must be a positive integer")
    clock = await call.db.write(
        service.advance,
        principal=call.principal,
        seconds=seconds,
        real_now=call.runtime.clock.now(),
    )
    await _took_effect(call)
    return clock_to_wire(clock)


async def reset_clock(call: ApiCall) -> dict[str, Any]:
    clock = await call.db.write(
        service.reset, principal=call.principal, real_now=call.runtime.clock.now()
    )
    await _took_effect(call)
    return clock_to_wire(clock)


async def _took_effect(call: ApiCall) -> None:
    """The next request with any key of this process sees the new time (other processes within
    the key cache's few seconds), and what the move made due has expired before the answer."""
    runtime = call.runtime
    runtime.authenticator.forget_all()
    await expire_due(runtime.db, record=runtime.recorder, now=runtime.clock.now())
