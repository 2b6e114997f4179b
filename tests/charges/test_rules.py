"""The charge rules one by one, below the HTTP layer where that is where the rule lives: what a
claim answers for each reason, what a completion changes (and what it leaves alone), what the
processor is asked, what a charge stores, the customer-decided bounds at their edges, and the
charges a list of links embeds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from factories import PUBLIC_URL, VISA_NO_FUNDS, TestAccount, auth, link, pay, principal_of, token
from starlette.testclient import TestClient

from paylinks.charges.service import NewCharge
from paylinks.clock import FrozenClock
from paylinks.db import Database
from paylinks.links import claims
from paylinks.links import service as links_service
from paylinks.links.claims import LinkNotPayable
from paylinks.payments import service as payments
from paylinks.processors.protocol import Call
from paylinks.recording import EventRecorder

RECORD = EventRecorder(public_url=PUBLIC_URL)


def claim(db: Database, account: TestAccount, link_id: str, now: datetime) -> None:
    principal = principal_of(account)
    with db.transaction() as conn:
        found = links_service.get_link(conn, principal=principal, link_id=link_id)
        claims.claim_link(conn, principal=principal, link=found, now=now)


def refusal(db: Database, account: TestAccount, link_id: str, now: datetime) -> LinkNotPayable:
    with pytest.raises(LinkNotPayable) as refused:
        claim(db, account, link_id, now)
    return refused.value


def open_card_charge(client: TestClient, account: TestAccount, db: Database, link_id: str) -> str:
    new = NewCharge(
        amount=None, currency=None, token_id=token(client, account), source_id=None,
        link_id=link_id, description=None, metadata={}, customer_email=None,
    )  # fmt: skip
    with db.transaction() as conn:
        opened = payments.open_charge(
            conn, principal=principal_of(account), new=new, now=datetime.now(UTC), record=RECORD
        )
    return opened.charge.id


def test_each_reason_a_link_cannot_be_claimed(
    client: TestClient, account: TestAccount, db: Database
) -> None:
    now = datetime.now(UTC)
    paid = link(client, account)
    pay(client, account, paid["id"])
    assert refusal(db, account, paid["id"], now).reason == "used"
    gone = link(client, account)
    client.delete(f"/links/{gone['id']}", auth=auth(account.test.secret_key))
    assert refusal(db, account, gone["id"], now).reason == "deleted"
    expiring = link(client, account, expires_at=(now + timedelta(hours=1)).isoformat())
    assert refusal(db, account, expiring["id"], now + timedelta(hours=2)).reason == "expired"
    claim(db, account, expiring["id"], now)  # before its expiry: payable
    limited = link(client, account, multiple=True, usage_limit=1)
    pay(client, account, limited["id"])
    assert refusal(db, account, limited["id"], now).reason == "limit_reached"
    held = link(client, account)
    open_card_charge(client, account, db, held["id"])
    in_progress = refusal(db, account, held["id"], now)
    assert in_progress.reason == "in_progress" and "in progress" in in_progress.message
    limited_held = link(client, account, multiple=True, usage_limit=1)
    open_card_charge(client, account, db, limited_held["id"])
    assert refusal(db, account, limited_held["id"], now).reason == "in_progress"


def test_a_held_link_is_refused_on_the_api_and_the_page_says_a_payment_is_in_progress(
    client: TestClient, account: TestAccount, db: Database
) -> None:
    held = link(client, account)
    open_card_charge(client, account, db, held["id"])
    refused = pay(client, account, held["id"])
    assert refused.status_code == 400 and refused.json()["code"] == "link_not_payable"
    assert "in progress" in refused.json()["message"]
    page = client.get(f"/pay/{held['id']}")
    assert page.status_code == 409 and "Payment in progress" in page.text
    paid = link(client, account)
    pay(client, account, paid["id"])
    assert "Already paid" in client.get(f"/pay/{paid['id']}").text


def test_a_decline_gives_the_link_back_entirely(client: TestClient, account: TestAccount) -> None:
    invoice = link(client, account)
    declined = pay(client, account, invoice["id"], VISA_NO_FUNDS).json()
    assert declined["status"] == "failed"
    found = client.get(f"/links/{invoice['id']}", auth=auth(account.test.secret_key)).json()
    assert found["used"] is False and found["used_at"] is None and found["active"] is True


def test_the_processor_is_asked_for_this_charge_its_amount_and_card(
    client: TestClient, account: TestAccount
) -> None:
    processor = client.app.state.runtime.test_processor  # type: ignore[attr-defined]
    invoice = link(client, account, amount=123456, currency="jpy", multiple=True)
    made = pay(client, account, invoice["id"]).json()
    assert processor.calls[-1] == Call(made["id"], "test:success", 123456, "jpy")
    declined = pay(client, account, invoice["id"], VISA_NO_FUNDS).json()
    assert processor.calls[-1] == Call(declined["id"], "test:insufficient_fund", 123456, "jpy")


def test_a_charge_keeps_what_it_was_given(client: TestClient, account: TestAccount) -> None:
    body = {
        "card": token(client, account),
        "amount": 250000,
        "currency": "usd",
        "description": "Order 7",
        "metadata": {"order": "7"},
    }
    made = client.post("/charges", auth=auth(account.test.secret_key), json=body).json()
    found = client.get(f"/charges/{made['id']}", auth=auth(account.test.secret_key)).json()
    for charge in (made, found):
        assert charge["description"] == "Order 7" and charge["metadata"] == {"order": "7"}
        assert charge["livemode"] is False and charge["amount"] == 250000
        assert charge["transaction"].startswith("trxn_test_") and charge["paid_at"]


def pending_source_charge(client: TestClient, account: TestAccount, link_id: str) -> Any:
    source = client.post(
        "/sources",
        auth=auth(account.test.public_key),
        json={"type": "promptpay", "amount": 100000, "currency": "thb"},
    ).json()
    return client.post(
        "/charges",
        auth=auth(account.test.secret_key),
        json={"source": source["id"], "link": link_id},
    )


def test_completing_a_charge_changes_that_charge_alone(
    client: TestClient, account: TestAccount
) -> None:
    secret = auth(account.test.secret_key)
    invoice = link(client, account)
    first, second, third = (
        pending_source_charge(client, account, invoice["id"]).json() for _ in range(3)
    )
    paid = client.post(f"/charges/{first['id']}/mark_as_paid", auth=secret).json()
    assert paid["status"] == "successful" and paid["paid_at"] is not None
    assert paid["transaction"].startswith("trxn_test_")
    failed = client.post(f"/charges/{second['id']}/mark_as_failed", auth=secret).json()
    assert (failed["failure_code"], failed["failure_message"]) == (
        "payment_rejected",
        "payment rejected",
    )
    assert client.get(f"/charges/{third['id']}", auth=secret).json()["status"] == "pending"
    found = client.get(f"/links/{invoice['id']}", auth=secret).json()
    assert found["used"] is True  # the PromptPay payment claimed the single-use link
    again = client.post(f"/charges/{third['id']}/mark_as_paid", auth=secret)
    assert again.status_code == 400 and again.json()["code"] == "link_not_payable"
    assert client.get(f"/charges/{third['id']}", auth=secret).json()["status"] == "pending"


def test_a_source_charge_on_a_link_that_cannot_be_paid_is_refused(
    client: TestClient, account: TestAccount
) -> None:
    gone = link(client, account)
    client.delete(f"/links/{gone['id']}", auth=auth(account.test.secret_key))
    refused = pending_source_charge(client, account, gone["id"])
    assert refused.status_code == 400 and refused.json()["code"] == "link_not_payable"


@pytest.mark.parametrize(
    ("bounds", "accepted", "refused"),
    [
        ({"amount_min": 50000, "amount_max": 90000}, [50000, 90000], [49999, 90001]),
        ({}, [2000, 100_000_000], [1999, 100_000_001]),  # the currency's own limits
        ({"amount_min": 50000}, [50000, 100_000_000], [49999]),
        ({"amount_max": 90000}, [2000, 90000], [90001]),
    ],
)
def test_customer_amounts_at_the_edges_of_their_bounds(
    client: TestClient, account: TestAccount, bounds: dict[str, int], accepted: list[int],
    refused: list[int],
) -> None:  # fmt: skip
    invoice = link(client, account, multiple=True, amount_type="customer", amount=60000, **bounds)
    for amount in accepted:
        made = pay(client, account, invoice["id"], amount=amount)
        assert made.status_code == 200 and made.json()["amount"] == amount, made.text
    for amount in refused:
        answer = pay(client, account, invoice["id"], amount=amount)
        assert answer.status_code == 400 and answer.json()["code"] == "invalid_amount", amount
    other_currency = pay(client, account, invoice["id"], amount=60000, currency="usd")
    assert other_currency.status_code == 400 and other_currency.json()["code"] == "invalid_charge"
    same_currency = pay(client, account, invoice["id"], amount=60000, currency="THB")
    assert same_currency.status_code == 200


def test_each_link_embeds_its_own_first_twenty_charges(
    make_client: Any, account: TestAccount
) -> None:
    clock = FrozenClock(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    client: TestClient = make_client(clock=clock)
    busy, quiet, empty = (link(client, account, multiple=True, title=t) for t in "abc")
    made = []
    for _ in range(21):
        clock.advance(1)
        made.append(pay(client, account, busy["id"]).json()["id"])
        if len(made) <= 2:
            pay(client, account, quiet["id"])
    listed = client.get("/links", auth=auth(account.test.secret_key), params={"limit": 3})
    by_id = {found["id"]: found["charges"] for found in listed.json()["data"]}
    assert [c["id"] for c in by_id[busy["id"]]["data"]] == made[:20]  # the oldest, in order
    assert by_id[busy["id"]]["total"] == 21
    assert len(by_id[quiet["id"]]["data"]) == by_id[quiet["id"]]["total"] == 2
    assert all(c["link"] == quiet["id"] for c in by_id[quiet["id"]]["data"])
    assert by_id[empty["id"]]["data"] == [] and by_id[empty["id"]]["total"] == 0
    page = client.get(
        f"/links/{busy['id']}/charges",
        auth=auth(account.test.secret_key),
        params={"limit": 5, "offset": 18},
    ).json()
    assert [c["id"] for c in page["data"]] == made[18:21]


def test_stats_of_a_link_without_charges_show_no_revenue(
    client: TestClient, account: TestAccount
) -> None:
    secret = auth(account.test.secret_key)
    invoice = link(client, account, multiple=True)
    stats = client.get(f"/links/{invoice['id']}/stats", auth=secret).json()
    assert stats["revenue"] == 0 and stats["charges"]["total"] == 0
    pay(client, account, invoice["id"])
    pay(client, account, invoice["id"], VISA_NO_FUNDS)
    stats = client.get(f"/links/{invoice['id']}/stats", auth=secret).json()
    assert stats["revenue"] == invoice["amount"] and stats["charges"]["failed"] == 1
