"""Contract scenarios of the capability object."""

from __future__ import annotations

from checker import Ctx, error_code, scenario

# --- getCapability


@scenario("getCapability", 200)
def capability_with_either_key_in_either_mode(ctx: Ctx) -> None:
    public = ctx.call("getCapability", status=200, key=ctx.account.test.public_key).json()
    secret = ctx.call("getCapability", status=200, slash=True).json()
    assert public == secret
    assert [method["name"] for method in public["payment_methods"]] == ["card", "promptpay"]
    live = ctx.call("getCapability", status=200, key=ctx.account.live.public_key).json()
    assert live["payment_methods"] == [] and live["limits"] == public["limits"]


@scenario("getCapability", 400)
def capability_with_a_malformed_body(ctx: Ctx) -> None:
    headers = {"content-type": "application/json"}
    response = ctx.call("getCapability", status=400, content=b"{", headers=headers)
    assert error_code(response) == "bad_request"
