"""Contract scenarios of webhook endpoints (create, list, get, update, delete, roll the secret)
and of redelivering an event."""

from __future__ import annotations

from checker import (
    HOOK_URL,
    Ctx,
    Scenario,
    error_code,
    new_endpoint,
    scenario,
)

# --- webhook endpoints, redeliverEvent


@scenario("createWebhookEndpoint", 200)
def add_endpoints_every_way(ctx: Ctx) -> None:
    made = ctx.call("createWebhookEndpoint", status=200, json={"url": HOOK_URL}).json()
    assert made["events"] is None and made["enabled"] and made["secret"].startswith("whsec_")
    form = {"url": HOOK_URL, "events": ["charge.failed", "charge.complete"]}
    picky = ctx.call("createWebhookEndpoint", status=200, form=form, slash=True).json()
    assert picky["events"] == ["charge.complete", "charge.failed"]
    body = {"url": HOOK_URL, "events": "link.create,link.update", "signature_scheme": "omise"}
    omise = ctx.call("createWebhookEndpoint", status=200, json=body).json()
    assert omise["signature_scheme"] == "omise" and omise["events"] == [
        "link.create",
        "link.update",
    ]
    assert not omise["secret"].startswith("whsec_")  # Omise's form: plain base64


@scenario("createWebhookEndpoint", 400)
def add_endpoints_that_cannot_be(ctx: Ctx) -> None:
    live = ctx.account.live.secret_key
    for url in ("http://example.com/hook", "https://10.0.0.1/hook", "https://127.1/hook"):
        refused = ctx.call("createWebhookEndpoint", status=400, key=live, json={"url": url})
        assert error_code(refused) == "invalid_url"
    for url in ("http://169.254.169.254/latest/meta-data/", "http://[fd00::1]/"):
        refused = ctx.call("createWebhookEndpoint", status=400, json={"url": url})
        assert error_code(refused) == "invalid_url"  # test keys too: loopback only
    for body in (
        {},
        {"url": "ftp://127.0.0.1/x"},
        {"url": HOOK_URL, "events": ["charge.refund"]},
        {"url": HOOK_URL, "events": []},
        {"url": HOOK_URL, "signature_scheme": "hmac"},
    ):
        ctx.call("createWebhookEndpoint", status=400, json=body)
    assert ctx.call("listWebhookEndpoints", status=200).json()["total"] == 0


@scenario("createWebhookEndpoint", 422)
def add_more_endpoints_than_allowed(ctx: Ctx) -> None:
    for n in range(16):
        ctx.call("createWebhookEndpoint", status=200, json={"url": f"{HOOK_URL}/{n}"})
    refused = ctx.call("createWebhookEndpoint", status=422, json={"url": HOOK_URL})
    assert error_code(refused) == "limit_exceeded"


@scenario("listWebhookEndpoints", 200)
def list_endpoints_every_way(ctx: Ctx) -> None:
    first, second = new_endpoint(ctx), new_endpoint(ctx)
    listing = ctx.call("listWebhookEndpoints", status=200, slash=True).json()
    assert [e["id"] for e in listing["data"]] == [first["id"], second["id"]]
    assert all("secret" not in e for e in listing["data"])
    newest = ctx.call("listWebhookEndpoints", status=200, query={"order": "reverse_chronological"})
    assert newest.json()["data"][0]["id"] == second["id"]
    other = ctx.call("listWebhookEndpoints", status=200, key=ctx.other_account.test.secret_key)
    assert other.json()["total"] == 0


@scenario("listWebhookEndpoints", 400)
def list_endpoints_with_bad_parameters(ctx: Ctx) -> None:
    ctx.call("listWebhookEndpoints", status=400, query={"offset": -1})


@scenario("getWebhookEndpoint", 200)
def get_endpoints(ctx: Ctx) -> None:
    made = new_endpoint(ctx)
    found = ctx.call("getWebhookEndpoint", status=200, endpoint_id=made["id"], slash=True).json()
    assert found == {k: v for k, v in made.items() if k != "secret"}


@scenario("getWebhookEndpoint", 400)
def get_an_endpoint_with_a_malformed_body(ctx: Ctx) -> None:
    headers = {"content-type": "application/json"}
    made = new_endpoint(ctx)
    ctx.call(
        "getWebhookEndpoint", status=400, endpoint_id=made["id"], content=b"{", headers=headers
    )


def _endpoint_404(op: str) -> Scenario:
    def others_and_missing(ctx: Ctx) -> None:
        made = new_endpoint(ctx)
        for key in (ctx.other_account.test.secret_key, ctx.account.live.secret_key):
            ctx.call(op, status=404, endpoint_id=made["id"], key=key)
        ctx.call(op, status=404, endpoint_id="wbhk_test_missing")

    return others_and_missing


for _op in (
    "getWebhookEndpoint",
    "updateWebhookEndpoint",
    "deleteWebhookEndpoint",
    "rollWebhookEndpointSecret",
):
    scenario(_op, 404)(_endpoint_404(_op))


@scenario("updateWebhookEndpoint", 200)
def update_endpoints_every_way(ctx: Ctx) -> None:
    made = new_endpoint(ctx)
    off = ctx.call(
        "updateWebhookEndpoint", status=200, endpoint_id=made["id"], json={"enabled": False}
    ).json()
    assert not off["enabled"] and off["disabled_reason"] == "disabled by the account"
    form = {"enabled": "true", "events": ["charge.complete"], "signature_scheme": "omise"}
    on = ctx.call("updateWebhookEndpoint", status=200, endpoint_id=made["id"], form=form).json()
    assert on["enabled"] and on["disabled_reason"] is None
    assert (on["events"], on["signature_scheme"]) == (["charge.complete"], "omise")
    body = {"url": "http://localhost:3000/hooks", "events": ["*"]}
    moved = ctx.call("updateWebhookEndpoint", status=200, endpoint_id=made["id"], json=body)
    assert (moved.json()["url"], moved.json()["events"]) == (body["url"], None)


@scenario("updateWebhookEndpoint", 400)
def update_endpoints_wrongly(ctx: Ctx) -> None:
    made = new_endpoint(ctx)
    for body in ({"url": "gopher://127.0.0.1/"}, {"events": ["nope"]}, {"enabled": "maybe"}):
        ctx.call("updateWebhookEndpoint", status=400, endpoint_id=made["id"], json=body)
    live = ctx.call(
        "createWebhookEndpoint",
        status=200,
        key=ctx.account.live.secret_key,
        json={"url": "https://93.184.216.34/hook"},
    ).json()
    refused = ctx.call(
        "updateWebhookEndpoint",
        status=400,
        endpoint_id=live["id"],
        key=ctx.account.live.secret_key,
        json={"url": "https://192.168.1.1/hook"},
    )
    assert error_code(refused) == "invalid_url"


@scenario("deleteWebhookEndpoint", 200)
def delete_endpoints(ctx: Ctx) -> None:
    made = new_endpoint(ctx)
    gone = ctx.call("deleteWebhookEndpoint", status=200, endpoint_id=made["id"], slash=True)
    assert gone.json() == {
        "object": "webhook_endpoint",
        "id": made["id"],
        "livemode": False,
        "deleted": True,
    }
    ctx.call("getWebhookEndpoint", status=404, endpoint_id=made["id"])


@scenario("deleteWebhookEndpoint", 400)
def delete_an_endpoint_with_a_malformed_body(ctx: Ctx) -> None:
    made = new_endpoint(ctx)
    headers = {"content-type": "text/csv"}
    ctx.call(
        "deleteWebhookEndpoint", status=400, endpoint_id=made["id"], content=b"a,b", headers=headers
    )


@scenario("rollWebhookEndpointSecret", 200)
def roll_secrets(ctx: Ctx) -> None:
    made = new_endpoint(ctx)
    rolled = ctx.call("rollWebhookEndpointSecret", status=200, endpoint_id=made["id"]).json()
    assert rolled["secret"] != made["secret"] and rolled["previous_secret_expires_at"]
    assert rolled["secret"].startswith("whsec_")
    omise = new_endpoint(ctx, signature_scheme="omise")
    rolled = ctx.call("rollWebhookEndpointSecret", status=200, endpoint_id=omise["id"]).json()
    assert rolled["secret"] != omise["secret"] and not rolled["secret"].startswith("whsec_")


@scenario("rollWebhookEndpointSecret", 400)
def roll_with_a_malformed_body(ctx: Ctx) -> None:
    made = new_endpoint(ctx)
    headers = {"content-type": "application/json"}
    ctx.call(
        "rollWebhookEndpointSecret",
        status=400,
        endpoint_id=made["id"],
        content=b"[",
        headers=headers,
    )


@scenario("redeliverEvent", 200)
def redeliver_events(ctx: Ctx) -> None:
    made = new_endpoint(ctx, events=["charge.complete"])
    event = ctx.new_event()  # link.create: not in the endpoint's filter, but named explicitly
    again = ctx.call(
        "redeliverEvent", status=200, event_id=event["id"], json={"endpoint": made["id"]}
    )
    assert again.json()["id"] == event["id"]
    new_endpoint(ctx)  # every event
    ctx.call("redeliverEvent", status=200, event_id=event["id"], slash=True)


@scenario("redeliverEvent", 400)
def redeliver_where_nothing_listens(ctx: Ctx) -> None:
    event = ctx.new_event()
    ctx.call("redeliverEvent", status=400, event_id=event["id"])  # no endpoint at all
    made = new_endpoint(ctx)
    ctx.call("updateWebhookEndpoint", status=200, endpoint_id=made["id"], json={"enabled": False})
    body = {"endpoint": made["id"]}
    ctx.call("redeliverEvent", status=400, event_id=event["id"], json=body)


@scenario("redeliverEvent", 404)
def redeliver_what_is_not_there(ctx: Ctx) -> None:
    event = ctx.new_event()
    new_endpoint(ctx)
    key = ctx.other_account.test.secret_key
    ctx.call("redeliverEvent", status=404, event_id=event["id"], key=key)
    ctx.call("redeliverEvent", status=404, event_id="evnt_test_missing")
    body = {"endpoint": "wbhk_test_missing"}
    ctx.call("redeliverEvent", status=404, event_id=event["id"], json=body)
