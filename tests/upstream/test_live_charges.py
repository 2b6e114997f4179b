"""Live charges through Omise (the live-payments issue, item 3), with a second paylinks in test
mode standing in for Omise and a fault-injecting proxy between the two: a live charge is
committed pending before Omise is called, completed from Omise's answer, and — whenever the
answer is lost (a 5xx, a dropped connection, an answer later than the timeout) — left pending
until the sweeper asks Omise what it did. In every case Omise holds at most one charge for a
paylinks charge, the local charge ends in Omise's state, the single-use link is paid at most
once, and each event is recorded once."""

from __future__ import annotations

import base64
import time

import httpx
import pytest
from factories import VISA_NO_FUNDS, VISA_OK, TestAccount, auth
from faults import DELAY, DROP_AFTER, FAIL_AFTER, FAIL_BEFORE, FaultProxy
from servers import LiveServer
from starlette.testclient import TestClient
from upstreams import (
    TIMEOUT,
    connect,
    deliveries_by_key,
    events_of,
    live_endpoint,
    live_link,
    omise_webhook,
    pay_live,
    sweep,
    upstream_charges,
    upstream_token,
)

from paylinks.clock import parse_time
from paylinks.db import Database
from paylinks.upstream import connections


def test_a_live_charge_is_made_at_omise_once_and_recorded_from_its_answer(
    live: TestClient, account: TestAccount, omise: LiveServer
) -> None:
    link = live_link(live, account)
    paid = pay_live(live, account, omise, link["id"])
    assert paid.status_code == 200, paid.text
    charge = paid.json()
    assert charge["status"] == "successful" and charge["livemode"] is True
    assert charge["card"]["last_digits"] == VISA_OK[-4:] and charge["card"]["brand"] == "Visa"
    made = upstream_charges(omise, "paylinks_charge_id", charge["id"])
    assert [c["status"] for c in made] == ["successful"]
    assert made[0]["amount"] == 50000 and made[0]["metadata"]["paylinks_link_id"] == link["id"]
    assert events_of(live, account, charge["id"]) == ["charge.complete", "charge.create"]
    again = live.get(f"/links/{link['id']}", auth=auth(account.live.secret_key)).json()
    assert again["used"] is True


def test_a_decline_at_omise_is_a_failed_charge_with_omises_code(
    live: TestClient, account: TestAccount, omise: LiveServer
) -> None:
    link = live_link(live, account)
    paid = pay_live(live, account, omise, link["id"], VISA_NO_FUNDS)
    assert paid.status_code == 200, paid.text
    charge = paid.json()
    assert charge["status"] == "failed" and charge["failure_code"] == "insufficient_fund"
    made = upstream_charges(omise, "paylinks_charge_id", charge["id"])
    assert [(c["status"], c["failure_code"]) for c in made] == [("failed", "insufficient_fund")]
    assert events_of(live, account, charge["id"]) == ["charge.create", "charge.failed"]
    # The link was given back: it can still be paid.
    assert pay_live(live, account, omise, link["id"]).json()["status"] == "successful"


def test_a_refusal_by_omise_reaches_the_merchant_as_omises_error_and_is_replayed(
    live: TestClient, account: TestAccount, omise: LiveServer
) -> None:
    link = live_link(live, account)
    spent = upstream_token(omise)  # used at the upstream already: Omise will refuse it
    httpx.post(
        f"{omise.url}/charges", auth=(omise.secret_key, ""),
        json={"amount": 2000, "currency": "thb", "card": spent},
    ).raise_for_status()  # fmt: skip
    key = {"Idempotency-Key": f"refused-{link['id']}"}
    body = {"card": spent, "link": link["id"]}
    refused = live.post("/charges", auth=auth(account.live.secret_key), json=body, headers=key)
    assert refused.status_code == 400, refused.text
    assert refused.json()["object"] == "error" and refused.json()["code"] == "used_token"
    assert not refused.json()["message"].startswith("used_token")  # Omise's words, as Omise
    replayed = live.post("/charges", auth=auth(account.live.secret_key), json=body, headers=key)
    assert (replayed.status_code, replayed.json()) == (400, refused.json())
    # Nothing was charged, and the link is free again.
    assert pay_live(live, account, omise, link["id"]).json()["status"] == "successful"


def test_refund_capture_and_reverse_go_to_omise(
    live: TestClient, account: TestAccount, omise: LiveServer
) -> None:
    key = auth(account.live.secret_key)
    paid = pay_live(live, account, omise, live_link(live, account)["id"]).json()
    refund = live.post(f"/charges/{paid['id']}/refunds", auth=key, json={"amount": 20000})
    assert refund.status_code == 200, refund.text
    [upstream] = upstream_charges(omise, "paylinks_charge_id", paid["id"])
    assert upstream["refunded_amount"] == 20000
    assert upstream["refunds"]["data"][0]["metadata"]["paylinks_refund_id"] == refund.json()["id"]

    held = pay_live(live, account, omise, live_link(live, account)["id"], capture=False).json()
    assert held["status"] == "pending" and held["authorized"] is True
    captured = live.post(f"/charges/{held['id']}/capture", auth=key)
    assert captured.status_code == 200 and captured.json()["status"] == "successful"
    [upstream] = upstream_charges(omise, "paylinks_charge_id", held["id"])
    assert upstream["status"] == "successful" and upstream["paid"] is True

    held = pay_live(live, account, omise, live_link(live, account)["id"], capture=False).json()
    reversed_ = live.post(f"/charges/{held['id']}/reverse", auth=key)
    assert reversed_.status_code == 200 and reversed_.json()["status"] == "reversed"
    [upstream] = upstream_charges(omise, "paylinks_charge_id", held["id"])
    assert upstream["status"] == "reversed" and upstream["reversed"] is True


@pytest.mark.parametrize(
    ("fault", "charged_upstream"),
    [
        (FAIL_BEFORE, False),  # a 502 from in between: Omise never saw the request
        (FAIL_AFTER, True),  # Omise charged; a 500 came back
        (DROP_AFTER, True),  # Omise charged; the connection dropped before the answer
        (DELAY, True),  # Omise charged; the answer came after the timeout
    ],
)
def test_a_lost_answer_leaves_the_charge_pending_until_the_sweeper_asks_omise(
    live: TestClient, db: Database, account: TestAccount, omise: LiveServer, proxy: FaultProxy,
    fault: str, charged_upstream: bool,
) -> None:  # fmt: skip
    live_endpoint(db, account)
    link = live_link(live, account)
    armed = proxy.arm(fault, "POST", "/charges", seconds=TIMEOUT + 1)
    paid = pay_live(live, account, omise, link["id"])
    assert armed.met.is_set()
    assert paid.status_code == 200, paid.text
    charge = paid.json()
    assert charge["status"] == "pending"  # not failed: Omise may have charged
    # Meanwhile the link stays claimed: no second payment can start.
    second = pay_live(live, account, omise, link["id"])
    assert second.status_code == 400 and second.json()["code"] == "link_not_payable"
    made = upstream_charges(omise, "paylinks_charge_id", charge["id"])
    assert len(made) == (1 if charged_upstream else 0)

    settled = sweep(db, account, charge["id"], proxy.url)
    if charged_upstream:
        assert settled == {"status": "successful", "failure_code": None}
        assert events_of(live, account, charge["id"]) == ["charge.complete", "charge.create"]
    else:
        assert settled == {"status": "failed", "failure_code": "failed_processing"}
        assert events_of(live, account, charge["id"]) == ["charge.create", "charge.failed"]
        assert pay_live(live, account, omise, link["id"]).json()["status"] == "successful"
    # Exactly one upstream charge (or none), however often the sweeper looks again.
    assert sweep(db, account, charge["id"], proxy.url) == settled
    assert len(upstream_charges(omise, "paylinks_charge_id", charge["id"])) == len(made)
    retrieved = live.get(f"/charges/{charge['id']}", auth=auth(account.live.secret_key)).json()
    assert retrieved["status"] == settled["status"]
    # The merchant's endpoint is sent each event once (the outbox: one delivery per event).
    final = "charge.complete" if charged_upstream else "charge.failed"
    assert deliveries_by_key(db, charge["id"]) == {"charge.create": 1, final: 1}
    if charged_upstream:
        assert retrieved["card"]["last_digits"] == VISA_OK[-4:]
        assert parse_time(retrieved["paid_at"]) is not None


def test_a_disconnected_account_cannot_charge_and_its_pending_charge_waits(
    live: TestClient, db: Database, account: TestAccount, omise: LiveServer, proxy: FaultProxy
) -> None:
    link = live_link(live, account)
    proxy.arm(DROP_AFTER, "POST", "/charges")
    charge = pay_live(live, account, omise, link["id"]).json()
    assert charge["status"] == "pending"
    with db.transaction() as conn:
        connections.disconnect(conn, account_id=account.id)
    refused = pay_live(live, account, omise, live_link(live, account)["id"])
    assert refused.status_code == 400 and refused.json()["code"] == "live_mode_unavailable"
    # Omise charged, but who could ask it is gone: pending, never failed by guesswork.
    got = live.get(f"/charges/{charge['id']}", auth=auth(account.live.secret_key)).json()
    assert got["status"] == "pending"
    connect(db, account, omise)
    assert sweep(db, account, charge["id"], proxy.url)["status"] == "successful"


def test_omises_webhook_completes_a_waiting_charge_from_what_omise_says(
    live: TestClient, account: TestAccount, omise: LiveServer, proxy: FaultProxy
) -> None:
    proxy.arm(DROP_AFTER, "POST", "/charges")
    charge = pay_live(live, account, omise, live_link(live, account)["id"]).json()
    assert charge["status"] == "pending"
    [upstream] = upstream_charges(omise, "paylinks_charge_id", charge["id"])
    event = {"object": "event", "key": "charge.complete", "data": {**upstream, "status": "failed"}}
    other = base64.b64encode(b"x" * 32).decode()
    refused = [
        omise_webhook(live, account, event, secret=other),  # forged: another secret
        omise_webhook(live, account, event, at=time.time() - 301),  # stale
        omise_webhook(live, account, event, at=time.time() + 301),  # from the future
        live.post(f"/omise/webhooks/{account.id}", json=event),  # unsigned
    ]
    for answer in refused:
        assert answer.status_code == 401 and answer.json()["object"] == "error", answer.text
    key = auth(account.live.secret_key)
    assert live.get(f"/charges/{charge['id']}", auth=key).json()["status"] == "pending"
    # Signed: believed only as far as Omise confirms it (the body says failed; Omise, not).
    for _ in range(2):
        assert omise_webhook(live, account, event).status_code == 200
    settled = live.get(f"/charges/{charge['id']}", auth=key).json()
    assert settled["status"] == "successful" and settled["card"]["last_digits"] == VISA_OK[-4:]
    assert events_of(live, account, charge["id"]) == ["charge.complete", "charge.create"]
    # A webhook about something else, or an account not connected, changes nothing.
    assert omise_webhook(live, account, {"key": "customer.create", "data": {}}).status_code == 200
    stranger = live.post("/omise/webhooks/acct_unknown", json=event)
    assert stranger.status_code == 401


@pytest.mark.parametrize(("result", "status"), [("pass", "successful"), ("fail", "failed")])
def test_omises_3d_secure_sends_the_customer_to_omise_and_its_webhook_finishes(
    live: TestClient, db: Database, account: TestAccount, omise: LiveServer, result: str,
    status: str,
) -> None:  # fmt: skip
    link = live_link(live, account)
    back = "https://shop.example/orders/1/done"
    paid = pay_live(live, account, omise, link["id"], return_uri=back)
    assert paid.status_code == 200, paid.text
    charge = paid.json()
    # Omise asked for 3-D Secure: the customer goes to Omise's step, not to paylinks'.
    [upstream] = upstream_charges(omise, "paylinks_charge_id", charge["id"])
    assert upstream["return_uri"] == back and upstream["authorize_uri"]
    assert charge["status"] == "pending" and charge["authorize_uri"] == upstream["authorize_uri"]
    # Waiting for the customer, not for the processor: the sweeper leaves it pending.
    assert sweep(db, account, charge["id"], omise.url)["status"] == "pending"
    # The customer authenticates at Omise (here: the upstream's own step).
    step = httpx.post(upstream["authorize_uri"], data={"result": result})
    assert step.status_code < 500, step.text
    event = {"key": "charge.complete", "data": {"object": "charge", "id": upstream["id"]}}
    assert omise_webhook(live, account, event).status_code == 200
    done = live.get(f"/charges/{charge['id']}", auth=auth(account.live.secret_key)).json()
    assert done["status"] == status and done["authorize_uri"] is None
    [upstream] = upstream_charges(omise, "paylinks_charge_id", charge["id"])
    assert upstream["status"] == status
    assert events_of(live, account, charge["id"]) == sorted(
        ["charge.create", "charge.complete" if status == "successful" else "charge.failed"]
    )
