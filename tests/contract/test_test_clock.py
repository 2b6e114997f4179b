"""Contract scenarios of the test clock (a paylinks extension)."""

from __future__ import annotations

from datetime import datetime

from checker import Ctx, error_code, scenario


def _now(clock: dict[str, object]) -> datetime:
    return datetime.fromisoformat(str(clock["now"]).replace("Z", "+00:00"))


# --- getTestClock


@scenario("getTestClock", 200)
def clock_of_an_account(ctx: Ctx) -> None:
    clock = ctx.call("getTestClock", status=200, slash=True).json()
    assert (clock["object"], clock["livemode"], clock["location"]) == (
        "test_clock",
        False,
        "/test_clock",
    )


@scenario("getTestClock", 404)
def live_mode_has_no_clock(ctx: Ctx) -> None:
    response = ctx.call("getTestClock", status=404, key=ctx.account.live.secret_key)
    assert error_code(response) == "not_found" and "live mode" in response.json()["message"]


@scenario("getTestClock", 400)
@scenario("resetTestClock", 400)
def clock_with_a_malformed_body(ctx: Ctx) -> None:
    headers = {"content-type": "application/json"}
    for op in ("getTestClock", "resetTestClock"):
        response = ctx.call(op, status=400, content=b"{", headers=headers)
        assert error_code(response) == "bad_request"


# --- advanceTestClock and resetTestClock


@scenario("advanceTestClock", 200)
@scenario("resetTestClock", 200)
def advance_then_reset(ctx: Ctx) -> None:
    before = ctx.call("getTestClock", status=200).json()
    moved = ctx.call("advanceTestClock", status=200, json={"seconds": 3600}).json()
    assert moved["offset"] == before["offset"] + 3600
    assert (_now(moved) - _now(before)).total_seconds() >= 3600
    again = ctx.call("advanceTestClock", status=200, form={"seconds": "60"}, slash=True).json()
    assert again["offset"] == before["offset"] + 3660
    back = ctx.call("resetTestClock", status=200).json()
    assert back["offset"] == 0


@scenario("advanceTestClock", 400)
def advances_the_server_refuses(ctx: Ctx) -> None:
    offset = ctx.call("getTestClock", status=200).json()["offset"]
    for body in ({}, {"seconds": 0}, {"seconds": -5}, {"seconds": "soon"}):
        response = ctx.call("advanceTestClock", status=400, json=body)
        assert error_code(response) == "bad_request", body
    too_far = ctx.call("advanceTestClock", status=400, json={"seconds": 3651 * 86400})
    assert "at most 3650 days" in too_far.json()["message"]
    assert ctx.call("getTestClock", status=200).json()["offset"] == offset  # nothing written


@scenario("advanceTestClock", 404)
@scenario("resetTestClock", 404)
def live_mode_cannot_move_a_clock(ctx: Ctx) -> None:
    live = ctx.account.live.secret_key
    response = ctx.call("advanceTestClock", status=404, key=live, json={"seconds": 60})
    assert error_code(response) == "not_found"
    assert error_code(ctx.call("resetTestClock", status=404, key=live)) == "not_found"
