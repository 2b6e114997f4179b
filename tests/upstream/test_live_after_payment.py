"""Refunds, captures and reversals of live charges when Omise refuses or its answer is lost (the
live-payments issue, items 3 and 5). Omise has no idempotency keys, so nothing is ever sent to it
twice blindly:

- a live refund is reserved (its amount held against the charge, no event), then made at Omise,
  then closed with its `refund.create`; refused, the reservation is given back and the merchant
  gets Omise's error; lost, it stays pending until the sweeper finds it at Omise (by the refund
  id in its metadata) or not;
- a live capture or reversal asks Omise first and records what Omise did; lost, nothing is
  recorded and the merchant is told to send it again, which is safe: Omise refuses a second
  capture, and paylinks then believes the charge as Omise holds it."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import httpx
from factories import PUBLIC_URL, TestAccount, auth, quiet_settings
from faults import DROP_AFTER, FAIL_BEFORE, FaultProxy
from servers import LiveServer
from starlette.testclient import TestClient
from upstreams import TIMEOUT, events_of, live_link, omise_webhook, pay_live, upstream_charges

from paylinks.db import Database
from paylinks.keyring import Keyring
from paylinks.payments import settlement
from paylinks.recording import EventRecorder
from paylinks.refunds.service import waiting_refunds
from paylinks.upstream.processor import LiveProcessors


def paid_charge(live: TestClient, account: TestAccount, omise: LiveServer, **fields: Any) -> Any:
    paid = pay_live(live, account, omise, live_link(live, account)["id"], **fields)
    assert paid.status_code == 200, paid.text
    return paid.json()


def omise_refunds(omise: LiveServer, charge_id: str) -> list[dict[str, Any]]:
    [upstream] = upstream_charges(omise, "paylinks_charge_id", charge_id)
    return list(upstream["refunds"]["data"])


def sweep_refund(db: Database, refund_id: str, upstream: str) -> None:
    """The sweeper's step for one pending refund, as it runs once the refund is old enough."""
    settings = quiet_settings(omise_api_url=upstream, omise_timeout_seconds=TIMEOUT)
    processors = LiveProcessors(db, settings=settings, keyring=Keyring(db, master=""))
    later = datetime.now().astimezone() + timedelta(hours=1)

    async def go() -> None:
        try:
            [waiting] = [
                w for w in await db.read(waiting_refunds, before=later) if w.refund_id == refund_id
            ]
            await settlement.settle_refund(
                db, waiting, processor=await processors(waiting.principal), now=later,
                record=EventRecorder(public_url=PUBLIC_URL),
            )  # fmt: skip
        finally:
            await processors.close()

    asyncio.run(go())


def test_a_refund_omise_refuses_is_given_back_and_its_error_passed_on(
    live: TestClient, account: TestAccount, omise: LiveServer
) -> None:
    key = auth(account.live.secret_key)
    charge = paid_charge(live, account, omise)
    [upstream] = upstream_charges(omise, "paylinks_charge_id", charge["id"])
    # Most of it refunded at Omise directly (its dashboard, say): Omise will refuse 20,000 more.
    httpx.post(
        f"{omise.url}/charges/{upstream['id']}/refunds", auth=(omise.secret_key, ""),
        json={"amount": 40000},
    ).raise_for_status()  # fmt: skip
    refused = live.post(f"/charges/{charge['id']}/refunds", auth=key, json={"amount": 20000})
    assert refused.status_code == 400 and refused.json()["code"] == "failed_refund", refused.text
    again = live.get(f"/charges/{charge['id']}", auth=key).json()
    assert again["refunded_amount"] == 0 and again["refunds"]["data"] == []
    assert events_of(live, account, charge["id"]) == ["charge.complete", "charge.create"]
    # What Omise still allows goes through.
    made = live.post(f"/charges/{charge['id']}/refunds", auth=key, json={"amount": 10000})
    assert made.status_code == 200 and made.json()["status"] == "closed"


def test_a_refund_whose_answer_is_lost_is_settled_from_what_omise_holds(
    live: TestClient, db: Database, account: TestAccount, omise: LiveServer, proxy: FaultProxy
) -> None:
    key = auth(account.live.secret_key)
    charge = paid_charge(live, account, omise)
    refunds = f"/charges/{charge['id']}/refunds"
    # Omise made it; the answer was lost.
    proxy.arm(DROP_AFTER, "POST", "/charges/")
    made = live.post(refunds, auth=key, json={"amount": 15000})
    assert made.status_code == 200 and made.json()["status"] == "pending", made.text
    # Omise never saw it.
    proxy.arm(FAIL_BEFORE, "POST", "/charges/")
    lost = live.post(refunds, auth=key, json={"amount": 5000})
    assert lost.status_code == 200 and lost.json()["status"] == "pending", lost.text
    held = live.get(f"/charges/{charge['id']}", auth=key).json()
    assert held["refunded_amount"] == 20000  # both reserved: nothing can overdraw meanwhile
    assert "refund.create" not in events_of(live, account, charge["id"])

    for refund in (made.json(), lost.json()):
        sweep_refund(db, refund["id"], proxy.url)
    settled = live.get(f"/charges/{charge['id']}", auth=key).json()
    assert settled["refunded_amount"] == 15000
    assert [(r["id"], r["status"]) for r in settled["refunds"]["data"]] == [
        (made.json()["id"], "closed")
    ]
    assert events_of(live, account, charge["id"]) == [
        "charge.complete", "charge.create", "refund.create"
    ]  # fmt: skip
    at_omise = omise_refunds(omise, charge["id"])
    assert [(r["amount"], r["metadata"]["paylinks_refund_id"]) for r in at_omise] == [
        (15000, made.json()["id"])
    ]
    # Settled once: another sweep finds nothing to do.
    assert not [w for w in db_waiting(db) if w.refund_id in (made.json()["id"], lost.json()["id"])]


def db_waiting(db: Database) -> list[Any]:
    return list(asyncio.run(
        db.read(waiting_refunds, before=datetime.now().astimezone() + timedelta(hours=1))
    ))  # fmt: skip


def test_a_capture_whose_answer_is_lost_is_recorded_when_sent_again(
    live: TestClient, account: TestAccount, omise: LiveServer, proxy: FaultProxy
) -> None:
    key = auth(account.live.secret_key)
    held = paid_charge(live, account, omise, capture=False)
    assert held["authorized"] is True and held["status"] == "pending"
    capture = f"/charges/{held['id']}/capture"
    proxy.arm(DROP_AFTER, "POST", "/charges/")
    lost = live.post(capture, auth=key)
    assert lost.status_code == 503 and lost.json()["code"] == "service_unavailable", lost.text
    # Nothing recorded: the charge is as it was, no event.
    assert live.get(f"/charges/{held['id']}", auth=key).json()["status"] == "pending"
    assert "charge.capture" not in events_of(live, account, held["id"])
    [upstream] = upstream_charges(omise, "paylinks_charge_id", held["id"])
    assert upstream["status"] == "successful"  # Omise did capture
    # Sent again: Omise refuses a second capture; paylinks believes Omise's charge.
    again = live.post(capture, auth=key)
    assert again.status_code == 200 and again.json()["status"] == "successful", again.text
    assert events_of(live, account, held["id"]).count("charge.capture") == 1


def test_a_reversal_omise_refuses_changes_nothing_here(
    live: TestClient, account: TestAccount, omise: LiveServer
) -> None:
    key = auth(account.live.secret_key)
    held = paid_charge(live, account, omise, capture=False)
    [upstream] = upstream_charges(omise, "paylinks_charge_id", held["id"])
    # Captured at Omise behind paylinks' back: a reversal is refused there, and here.
    httpx.post(
        f"{omise.url}/charges/{upstream['id']}/capture", auth=(omise.secret_key, "")
    ).raise_for_status()
    refused = live.post(f"/charges/{held['id']}/reverse", auth=key)
    assert refused.status_code == 400 and refused.json()["object"] == "error", refused.text
    assert refused.json()["code"] == "failed_reverse"
    after = live.get(f"/charges/{held['id']}", auth=key).json()
    assert (after["status"], after["authorized"], after["reversed"]) == ("pending", True, False)


def test_omises_refund_webhook_closes_a_refund_whose_answer_was_lost(
    live: TestClient, account: TestAccount, omise: LiveServer, proxy: FaultProxy
) -> None:
    key = auth(account.live.secret_key)
    charge = paid_charge(live, account, omise)
    refunds = f"/charges/{charge['id']}/refunds"
    proxy.arm(DROP_AFTER, "POST", "/charges/")
    made = live.post(refunds, auth=key, json={"amount": 12000}).json()
    proxy.arm(FAIL_BEFORE, "POST", "/charges/")
    lost = live.post(refunds, auth=key, json={"amount": 3000}).json()
    assert (made["status"], lost["status"]) == ("pending", "pending")
    [upstream] = upstream_charges(omise, "paylinks_charge_id", charge["id"])
    # The body claims both were made; Omise's charge lists only one, and only it is closed.
    claimed = [
        {"object": "refund", "metadata": {"paylinks_refund_id": r["id"]}} for r in (made, lost)
    ]
    event = {"key": "refund.create", "data": {"object": "refund", "charge": upstream["id"],
             "refunds": claimed}}  # fmt: skip
    for _ in range(2):
        assert omise_webhook(live, account, event).status_code == 200
    after = {r["id"]: r["status"] for r in live.get(refunds, auth=key).json()["data"]}
    assert after == {made["id"]: "closed", lost["id"]: "pending"}
    assert events_of(live, account, charge["id"]).count("refund.create") == 1
