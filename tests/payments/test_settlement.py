"""Card charges whose request died between the claim and the record: settled from what the
processor says it did, exactly once, by the sweeper or by a retry with the request's
Idempotency-Key, whichever comes first; young charges are left to the request working on them.

A "died" request is staged by committing the first step (`open_charge`) and not the rest, as a
process killed at that moment would leave it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from factories import PUBLIC_URL, TestAccount, auth, link, pay, token
from starlette.testclient import TestClient

from paylinks.auth import Principal
from paylinks.charges.service import NewCharge
from paylinks.clock import FrozenClock
from paylinks.db import Database
from paylinks.payments import service as payments
from paylinks.payments import settlement
from paylinks.processors.protocol import Outcome
from paylinks.processors.sandbox import TestProcessor
from paylinks.recording import EventRecorder

START = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
LATER = START + settlement.SETTLE_AFTER + timedelta(seconds=1)  # older than SETTLE_AFTER


def opened_then_died(
    client: TestClient, account: TestAccount, db: Database, link_id: str, *, now: datetime
) -> str:
    """A card charge whose request committed its claim and died: its id."""
    principal = Principal(account.pk, account.id, False, "secret", "")
    new = NewCharge(
        amount=None, currency=None, token_id=token(client, account), source_id=None,
        link_id=link_id, description=None, metadata={}, customer_email=None,
    )  # fmt: skip
    with db.transaction() as conn:
        opened = payments.open_charge(
            conn, principal=principal, new=new, now=now, record=EventRecorder(public_url=PUBLIC_URL)
        )
    assert opened.card_ref is not None and opened.charge.status == "pending"
    return opened.charge.id


def sandbox_processors(processor: TestProcessor) -> settlement.Processors:
    async def processors(principal: Principal) -> TestProcessor | None:
        return None if principal.livemode else processor

    return processors


def charged(processor: TestProcessor, charge_id: str) -> Outcome:
    """The processor charges for `charge_id` (as it did before the process died)."""
    return asyncio.run(
        processor.charge(charge_id=charge_id, card_ref="test:success", amount=1, currency="thb")
    )


def sweep(db: Database, processor: TestProcessor, now: datetime) -> int:
    """One sweep (of the whole database, which other tests share: count with care)."""
    return asyncio.run(
        settlement.settle_interrupted(
            db,
            processors=sandbox_processors(processor),
            record=EventRecorder(public_url=PUBLIC_URL),
            now=now,
        )
    )


def charge_and_events(client: TestClient, account: TestAccount, charge_id: str) -> Any:
    key = auth(account.test.secret_key)
    charge = client.get(f"/charges/{charge_id}", auth=key).json()
    events = client.get(f"/charges/{charge_id}/events", auth=key).json()["data"]
    return charge, [e["key"] for e in events]


def test_a_charge_the_processor_never_saw_fails_and_gives_the_link_back(
    client: TestClient, account: TestAccount, db: Database
) -> None:
    invoice = link(client, account)
    charge_id = opened_then_died(client, account, db, invoice["id"], now=START)
    held = client.get(f"/links/{invoice['id']}", auth=auth(account.test.secret_key)).json()
    assert held["used"] is True  # claimed: nobody else may pay while it is unsettled
    processor = TestProcessor()  # a new process: it knows no calls
    assert sweep(db, processor, LATER) >= 1
    charge, events = charge_and_events(client, account, charge_id)
    assert charge["status"] == "failed" and charge["failure_code"] == "failed_processing"
    assert events == ["charge.create", "charge.failed"]
    assert processor.calls == []  # settling never charges
    after = client.get(f"/links/{invoice['id']}", auth=auth(account.test.secret_key)).json()
    assert after["used"] is False and after["active"] is True


def test_a_charge_the_processor_made_is_settled_as_successful(
    client: TestClient, account: TestAccount, db: Database
) -> None:
    invoice = link(client, account)
    charge_id = opened_then_died(client, account, db, invoice["id"], now=START)
    processor = TestProcessor()
    outcome = charged(processor, charge_id)
    assert outcome.successful  # the card was charged; then the process died
    assert sweep(db, processor, LATER) >= 1
    charge, events = charge_and_events(client, account, charge_id)
    assert charge["status"] == "successful" and charge["paid"] is True
    assert events == ["charge.create", "charge.complete"]
    assert len(processor.calls) == 1  # the sweeper asked, it did not charge again
    paid = client.get(f"/links/{invoice['id']}", auth=auth(account.test.secret_key)).json()
    assert paid["used"] is True
    sweep(db, processor, LATER + settlement.SETTLE_AFTER)
    assert charge_and_events(client, account, charge_id)[1] == events  # settled once


def test_a_young_pending_charge_is_left_to_its_request(
    client: TestClient, account: TestAccount, db: Database
) -> None:
    invoice = link(client, account)
    charge_id = opened_then_died(client, account, db, invoice["id"], now=START)
    processor = TestProcessor()
    sweep(db, processor, START + settlement.SETTLE_AFTER)  # not older than that yet
    assert charge_and_events(client, account, charge_id)[0]["status"] == "pending"
    sweep(db, processor, LATER)
    assert charge_and_events(client, account, charge_id)[0]["status"] == "failed"


def test_settling_twice_records_nothing_twice(
    client: TestClient, account: TestAccount, db: Database
) -> None:
    invoice = link(client, account, multiple=True, usage_limit=1)
    charge_id = opened_then_died(client, account, db, invoice["id"], now=START)
    principal = Principal(account.pk, account.id, False, "secret", "")
    record = EventRecorder(public_url=PUBLIC_URL)
    for outcome in (settlement.INTERRUPTED, Outcome(successful=True)):
        with db.transaction() as conn:
            settled = payments.settle_charge(
                conn, principal=principal, charge_id=charge_id, outcome=outcome, now=START,
                record=record,
            )  # fmt: skip
        assert settled.status == "failed"  # the second answer changes nothing
    _charge, events = charge_and_events(client, account, charge_id)
    assert events == ["charge.create", "charge.failed"]
    # Released once, not twice: the one place of the usage limit is free, and only one.
    paid = [pay(client, account, invoice["id"]) for _ in range(2)]
    assert paid[0].status_code == 200 and paid[0].json()["status"] == "successful"
    assert paid[1].status_code == 400 and paid[1].json()["code"] == "link_not_payable"


def test_a_retry_of_a_request_that_died_mid_call_gets_the_settled_charge(
    make_client: Any, account: TestAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process dies inside the processor call (staged by the call raising): the key is bound
    to the pending charge, a retry is told to wait, then gets the charge settled from the
    processor's record (it never charged), never "pending" and never a second call."""
    clock = FrozenClock(START)
    client = make_client(clock=clock)
    processor: TestProcessor = client.app.state.runtime.test_processor  # type: ignore[attr-defined]
    invoice = link(client, account)
    body = {"card": token(client, account), "link": invoice["id"]}

    def died(**_: Any) -> Any:
        raise RuntimeError("the process died here")

    monkeypatch.setattr(processor, "charge", died)
    key = {"Idempotency-Key": "dies-mid-call"}
    secret = auth(account.test.secret_key)
    assert client.post("/charges", auth=secret, json=body, headers=key).status_code == 500
    waiting = client.post("/charges", auth=secret, json=body, headers=key)
    assert waiting.status_code == 409
    clock.advance((LATER - START).total_seconds())
    answered = client.post("/charges", auth=secret, json=body, headers=key)
    assert answered.status_code == 200 and answered.headers["idempotent-replayed"] == "true"
    assert answered.json()["status"] == "failed"
    assert answered.json()["failure_code"] == "failed_processing"
    assert processor.calls == []
    again = client.post("/charges", auth=secret, json=body, headers=key)
    assert again.content == answered.content  # stored now: replayed byte for byte


def test_settling_touches_only_interrupted_card_charges(
    client: TestClient, account: TestAccount, db: Database
) -> None:
    """Pending PromptPay charges wait for the bank, not the processor; a settled charge is done;
    two interrupted charges are each settled from their own record."""
    secret = auth(account.test.secret_key)
    promptpay = link(client, account)
    source = client.post(
        "/sources",
        auth=auth(account.test.public_key),
        json={"type": "promptpay", "amount": 100000, "currency": "thb"},
    ).json()
    waiting = client.post(
        "/charges", auth=secret, json={"source": source["id"], "link": promptpay["id"]}
    ).json()
    paid_id = opened_then_died(client, account, db, link(client, account)["id"], now=START)
    unpaid_id = opened_then_died(client, account, db, link(client, account)["id"], now=START)
    processor = TestProcessor()
    charged(processor, paid_id)
    sweep(db, processor, LATER + timedelta(days=365))  # long after: every age qualifies
    assert charge_and_events(client, account, paid_id)[0]["status"] == "successful"
    assert charge_and_events(client, account, unpaid_id)[0]["status"] == "failed"
    assert client.get(f"/charges/{waiting['id']}", auth=secret).json()["status"] == "pending"


def test_the_sweeper_runs_until_stopped(
    client: TestClient, account: TestAccount, db: Database
) -> None:
    charge_id = opened_then_died(client, account, db, link(client, account)["id"], now=START)

    async def run() -> None:
        stop = asyncio.Event()
        sweeper = asyncio.create_task(
            settlement.run_forever(
                db,
                processors=sandbox_processors(TestProcessor()),
                record=EventRecorder(public_url=PUBLIC_URL),
                clock=FrozenClock(LATER),
                stop=stop,
                every=0.01,
            )
        )

        async def settled() -> None:
            while charge_and_events(client, account, charge_id)[0]["status"] == "pending":
                await asyncio.sleep(0.01)  # waiting on the condition, not on a time

        try:
            await asyncio.wait_for(settled(), 30)  # a bound, should the sweeper never settle it
        finally:
            stop.set()
            await asyncio.wait_for(sweeper, 5)

    asyncio.run(run())
    assert charge_and_events(client, account, charge_id)[1] == ["charge.create", "charge.failed"]
