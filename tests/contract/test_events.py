"""Contract scenarios of events: the list, one event, a charge's events."""

from __future__ import annotations

from checker import (
    Ctx,
    scenario,
)

# --- listEvents, getEvent, listChargeEvents


@scenario("listEvents", 200)
def list_events_every_way(ctx: Ctx) -> None:
    charge = ctx.new_charge()
    listing = ctx.call("listEvents", status=200, query={"limit": 100}).json()
    keys = [e["key"] for e in listing["data"]]
    assert keys[-3:] == ["link.create", "charge.create", "charge.complete"]
    assert listing["data"][-1]["data"] == charge
    body = {"limit": 1, "offset": 0, "from": "2020-01-01", "to": None, "order": None}
    assert len(ctx.call("listEvents", status=200, json=body, slash=True).json()["data"]) == 1


@scenario("listEvents", 400)
def list_events_with_bad_parameters(ctx: Ctx) -> None:
    for query in ({"limit": -1}, {"order": "newest"}, {"from": "soon"}):
        ctx.call("listEvents", status=400, query=query)


@scenario("getEvent", 200)
def get_events(ctx: Ctx) -> None:
    event = ctx.new_event()
    assert ctx.call("getEvent", status=200, event_id=event["id"], slash=True).json() == event


@scenario("getEvent", 400)
def get_an_event_with_a_malformed_body(ctx: Ctx) -> None:
    event = ctx.new_event()
    headers = {"content-type": "application/json"}
    ctx.call("getEvent", status=400, event_id=event["id"], content=b'"', headers=headers)


@scenario("getEvent", 404)
def get_events_of_others(ctx: Ctx) -> None:
    event = ctx.new_event()
    for key in (ctx.other_account.test.secret_key, ctx.account.live.secret_key):
        ctx.call("getEvent", status=404, event_id=event["id"], key=key)
    ctx.call("getEvent", status=404, event_id="evnt_test_missing")


@scenario("listChargeEvents", 200)
def list_a_charges_events(ctx: Ctx) -> None:
    pending = ctx.pending_charge()
    ctx.call("markChargeAsFailed", status=200, charge_id=pending["id"])
    listing = ctx.call("listChargeEvents", status=200, charge_id=pending["id"], slash=True)
    assert [e["key"] for e in listing.json()["data"]] == ["charge.create", "charge.failed"]


@scenario("listChargeEvents", 400)
def list_a_charges_events_with_bad_parameters(ctx: Ctx) -> None:
    charge = ctx.new_charge()
    ctx.call("listChargeEvents", status=400, charge_id=charge["id"], query={"limit": "all"})


@scenario("listChargeEvents", 404)
def list_events_of_others_charges(ctx: Ctx) -> None:
    charge = ctx.new_charge()
    key = ctx.other_account.test.secret_key
    ctx.call("listChargeEvents", status=404, charge_id=charge["id"], key=key)
    ctx.call("listChargeEvents", status=404, charge_id="chrg_test_missing")
