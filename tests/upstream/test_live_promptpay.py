"""Live PromptPay through Omise (the live-payments issue, item 5): a live charge of an Omise
source (`src_…`, made by Omise.js with the account's Omise public key) is made at Omise, shows
Omise's own QR, claims its link while the QR can be paid, and ends as Omise says — paid or
failed by the customer's bank (told by Omise's webhook, confirmed at Omise), expired at Omise by
the merchant or when its time is up. A second paylinks in test mode stands in for Omise; its
`mark_as_paid` is the customer's bank."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from factories import PUBLIC_URL, TestAccount, auth, quiet_settings
from faults import DROP_AFTER, FaultProxy
from servers import LiveServer
from starlette.testclient import TestClient
from upstreams import (
    TIMEOUT,
    at_upstream,
    deliveries_by_key,
    events_of,
    live_endpoint,
    live_link,
    omise_webhook,
    sweep,
    upstream_charges,
    upstream_source,
)

from paylinks.db import Database
from paylinks.keyring import Keyring
from paylinks.payments import settlement
from paylinks.recording import EventRecorder
from paylinks.upstream.processor import LiveProcessors


def pay_by_qr(live: TestClient, account: TestAccount, source: str, link_id: str) -> dict:
    paid = live.post(
        "/charges", auth=auth(account.live.secret_key), json={"source": source, "link": link_id}
    )
    assert paid.status_code == 200, paid.text
    return dict(paid.json())


def retrieved(live: TestClient, account: TestAccount, charge_id: str) -> dict:
    return dict(live.get(f"/charges/{charge_id}", auth=auth(account.live.secret_key)).json())


def link_state(live: TestClient, account: TestAccount, link_id: str) -> bool:
    return bool(live.get(f"/links/{link_id}", auth=auth(account.live.secret_key)).json()["used"])


@pytest.mark.parametrize(("bank", "status"), [("mark_as_paid", "successful"),
                                               ("mark_as_failed", "failed")])  # fmt: skip
def test_a_live_qr_is_omises_and_the_bank_ends_it_through_omises_webhook(
    live: TestClient, db: Database, account: TestAccount, omise: LiveServer, bank: str,
    status: str,
) -> None:  # fmt: skip
    live_endpoint(db, account)
    link = live_link(live, account)
    source = upstream_source(omise)
    charge = pay_by_qr(live, account, source, link["id"])
    [upstream] = upstream_charges(omise, "paylinks_charge_id", charge["id"])
    assert upstream["source"]["id"] == source and upstream["amount"] == 50000
    # Omise's QR, where Omise serves it: the customer scans what Omise made.
    qr = upstream["source"]["scannable_code"]["image"]["download_uri"]
    assert qr.startswith(omise.url)
    assert charge["status"] == "pending" and charge["source"]["id"] == source
    assert charge["source"]["scannable_code"]["image"]["download_uri"] == qr
    assert charge["source"]["scannable_code"]["raw_data"] == upstream["source"][
        "scannable_code"]["raw_data"]  # fmt: skip
    # While it can be paid, it holds the single-use link; the sweeper leaves it to its customer.
    assert link_state(live, account, link["id"]) is True
    again = live.post("/charges", auth=auth(account.live.secret_key),
                      json={"source": upstream_source(omise), "link": link["id"]})  # fmt: skip
    assert again.status_code == 400 and again.json()["code"] == "link_not_payable"
    assert sweep(db, account, charge["id"], omise.url)["status"] == "pending"

    at_upstream(omise, upstream["id"], bank)
    event = {"key": "charge.complete", "data": {"object": "charge", "id": upstream["id"]}}
    for _ in range(2):  # Omise may send it twice: one outcome, one event
        assert omise_webhook(live, account, event).status_code == 200
    done = retrieved(live, account, charge["id"])
    assert done["status"] == status
    final = "charge.complete" if status == "successful" else "charge.failed"
    assert events_of(live, account, charge["id"]) == sorted(["charge.create", final])
    assert deliveries_by_key(db, charge["id"]) == {"charge.create": 1, final: 1}
    # Paid: the link is used for good. Failed: it can be paid again.
    assert link_state(live, account, link["id"]) is (status == "successful")


def test_the_merchant_expires_a_live_qr_at_omise_first(
    live: TestClient, account: TestAccount, omise: LiveServer, proxy: FaultProxy
) -> None:
    link = live_link(live, account)
    charge = pay_by_qr(live, account, upstream_source(omise), link["id"])
    key = auth(account.live.secret_key)
    [upstream] = upstream_charges(omise, "paylinks_charge_id", charge["id"])
    # Omise's answer lost: nothing recorded here, and sending it again is safe.
    armed = proxy.arm(DROP_AFTER, "POST", f"/charges/{upstream['id']}/expire")
    lost = live.post(f"/charges/{charge['id']}/expire", auth=key)
    assert armed.met.is_set()
    assert lost.status_code == 503 and lost.json()["code"] == "service_unavailable"
    assert retrieved(live, account, charge["id"])["status"] == "pending"
    expired = live.post(f"/charges/{charge['id']}/expire", auth=key)
    assert expired.status_code == 200, expired.text
    assert expired.json()["status"] == "expired" and expired.json()["expired_at"]
    [upstream] = upstream_charges(omise, "paylinks_charge_id", charge["id"])
    assert upstream["status"] == "expired"
    assert events_of(live, account, charge["id"]) == ["charge.create", "charge.expire"]
    assert link_state(live, account, link["id"]) is False  # payable again
    # Expired already: Omise refuses, and so does paylinks, with Omise's word.
    twice = live.post(f"/charges/{charge['id']}/expire", auth=key)
    assert twice.status_code == 400 and twice.json()["object"] == "error"


def end_qrs(db: Database, omise_url: str, *, hours: float) -> None:
    """One sweep of live QRs whose time is up, `hours` from now."""
    settings = quiet_settings(omise_api_url=omise_url, omise_timeout_seconds=TIMEOUT)
    processors = LiveProcessors(db, settings=settings, keyring=Keyring(db, master=""))

    async def go() -> None:
        try:
            await settlement.end_live_qrs(
                db, processors=processors, record=EventRecorder(public_url=PUBLIC_URL),
                now=datetime.now().astimezone() + timedelta(hours=hours),
            )  # fmt: skip
        finally:
            await processors.close()

    asyncio.run(go())


@pytest.mark.parametrize("paid_first", [False, True])
def test_a_live_qr_whose_time_is_up_ends_as_omise_says(
    live: TestClient, db: Database, account: TestAccount, omise: LiveServer, paid_first: bool
) -> None:
    link = live_link(live, account)
    charge = pay_by_qr(live, account, upstream_source(omise), link["id"])
    [upstream] = upstream_charges(omise, "paylinks_charge_id", charge["id"])
    end_qrs(db, omise.url, hours=1)  # not yet
    assert retrieved(live, account, charge["id"])["status"] == "pending"
    if paid_first:  # paid at the last minute, its webhook lost: Omise's word wins
        at_upstream(omise, upstream["id"], "mark_as_paid")
    end_qrs(db, omise.url, hours=25)
    done = retrieved(live, account, charge["id"])
    [upstream] = upstream_charges(omise, "paylinks_charge_id", charge["id"])
    expected = "successful" if paid_first else "expired"
    assert done["status"] == upstream["status"] == expected
    final = "charge.complete" if paid_first else "charge.expire"
    assert events_of(live, account, charge["id"]) == sorted(["charge.create", final])
    assert link_state(live, account, link["id"]) is paid_first


def test_a_live_qr_whose_answer_was_lost_gets_its_qr_from_the_sweeper(
    live: TestClient, db: Database, account: TestAccount, omise: LiveServer, proxy: FaultProxy
) -> None:
    link = live_link(live, account)
    proxy.arm(DROP_AFTER, "POST", "/charges")
    charge = pay_by_qr(live, account, upstream_source(omise), link["id"])
    assert charge["status"] == "pending"
    [upstream] = upstream_charges(omise, "paylinks_charge_id", charge["id"])
    # The sweeper finds Omise's charge by its metadata and records its QR; it stays pending.
    assert sweep(db, account, charge["id"], proxy.url)["status"] == "pending"
    qr = retrieved(live, account, charge["id"])["source"]["scannable_code"]["image"]
    assert qr["download_uri"] == upstream["source"]["scannable_code"]["image"]["download_uri"]
    at_upstream(omise, upstream["id"], "mark_as_paid")
    event = {"key": "charge.complete", "data": {"object": "charge", "id": upstream["id"]}}
    assert omise_webhook(live, account, event).status_code == 200
    assert retrieved(live, account, charge["id"])["status"] == "successful"
    assert len(upstream_charges(omise, "paylinks_charge_id", charge["id"])) == 1


def test_a_live_source_pays_once_and_only_an_omise_source_is_taken(
    live: TestClient, account: TestAccount, omise: LiveServer
) -> None:
    source = upstream_source(omise)
    pay_by_qr(live, account, source, live_link(live, account)["id"])
    key = auth(account.live.secret_key)
    twice = live.post("/charges", auth=key, json={"source": source, "amount": 50000,
                                                   "currency": "thb"})  # fmt: skip
    assert twice.status_code == 400 and "already used" in twice.json()["message"]
    number = "4242424242424242"
    odd = live.post("/charges", auth=key, json={"source": number, "amount": 50000,
                                                 "currency": "thb"})  # fmt: skip
    assert odd.status_code == 400 and number not in odd.text
