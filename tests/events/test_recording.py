"""Events are recorded in the transaction of every state change, holding the object as it was."""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa
from factories import VISA_NO_FUNDS, TestAccount, auth, link, pay, pay_on_page, token
from starlette.testclient import TestClient

from paylinks.db import Database
from paylinks.models import events


def recorded(db: Database, account: TestAccount) -> list[tuple[str, dict[str, Any]]]:
    with db.snapshot() as conn:
        rows = conn.execute(
            sa.select(events.c.key, events.c.data, events.c.id, events.c.livemode)
            .where(events.c.account_pk == account.pk)
            .order_by(events.c.pk)
        ).all()
    assert all(row.id.startswith("evnt_test_") and not row.livemode for row in rows)
    return [(row.key, orjson.loads(row.data)) for row in rows]


def test_link_lifecycle_events_hold_the_link_as_it_was(
    client: TestClient, account: TestAccount, db: Database
) -> None:
    key = account.test.secret_key
    created = link(client, account, description="first")
    updated = client.patch(
        f"/links/{created['id']}", auth=auth(key), json={"description": "second"}
    ).json()
    deleted = client.delete(f"/links/{created['id']}", auth=auth(key)).json()
    client.delete(f"/links/{created['id']}", auth=auth(key))  # a no-op records nothing
    keys = [k for k, _ in recorded(db, account)]
    assert keys == ["link.create", "link.update", "link.destroy"]
    (_, at_create), (_, at_update), (_, at_destroy) = recorded(db, account)
    assert at_create["description"] == "first" and at_create["id"] == created["id"]
    assert at_update["description"] == "second"
    assert {k: v for k, v in at_update.items() if k != "charges"} == {
        k: v for k, v in updated.items() if k != "charges"
    }
    assert at_destroy["deleted"] is True and at_destroy["deleted_at"] == deleted["deleted_at"]


def test_successful_card_payment_records_create_then_complete(
    client: TestClient, account: TestAccount, db: Database
) -> None:
    invoice = link(client, account)
    charge = pay(client, account, invoice["id"]).json()
    charge_events = [(k, d) for k, d in recorded(db, account) if k.startswith("charge.")]
    assert [k for k, _ in charge_events] == ["charge.create", "charge.complete"]
    for _, data in charge_events:
        assert data == charge
        # The seed's webhook handler finds the link from the charge.
        assert data["source"] == {"object": "source", "type": "link", "id": invoice["id"]}


def test_declined_card_records_create_then_failed(
    client: TestClient, account: TestAccount, db: Database
) -> None:
    charge = pay(client, account, link(client, account)["id"], VISA_NO_FUNDS).json()
    charge_events = [(k, d) for k, d in recorded(db, account) if k.startswith("charge.")]
    assert [k for k, _ in charge_events] == ["charge.create", "charge.failed"]
    assert charge_events[1][1]["failure_code"] == "insufficient_fund" == charge["failure_code"]


def test_promptpay_records_complete_when_marked_paid(
    client: TestClient, account: TestAccount, db: Database
) -> None:
    invoice = link(client, account)
    source = client.post(
        "/sources",
        auth=auth(account.test.public_key),
        json={"type": "promptpay", "amount": 100000, "currency": "thb"},
    ).json()
    key = account.test.secret_key
    pending = client.post(
        "/charges", auth=auth(key), json={"source": source["id"], "link": invoice["id"]}
    ).json()
    assert [k for k, _ in recorded(db, account)][-1] == "charge.create"
    client.post(f"/charges/{pending['id']}/mark_as_paid", auth=auth(key))
    last_key, last = recorded(db, account)[-1]
    assert last_key == "charge.complete" and last["status"] == "successful"
    assert recorded(db, account)[-2][1]["status"] == "pending"


def test_rejected_requests_record_nothing(
    client: TestClient, account: TestAccount, db: Database
) -> None:
    invoice = link(client, account)
    pay(client, account, invoice["id"])
    before = recorded(db, account)
    key = account.test.secret_key
    assert pay(client, account, invoice["id"]).status_code == 400  # already paid
    assert client.post("/links", auth=auth(key), json={"amount": -1}).status_code == 400
    tok = token(client, account)
    body = {"card": tok, "link": invoice["id"], "amount": 1}
    assert client.post("/charges", auth=auth(key), json=body).status_code == 400
    assert recorded(db, account) == before


def test_hosted_page_payments_record_events(
    client: TestClient, account: TestAccount, db: Database
) -> None:
    """The page pays through the same services as the API, so its payments have events too."""
    invoice = link(client, account)
    assert pay_on_page(client, invoice["id"]).status_code == 200
    keys = [k for k, _ in recorded(db, account)]
    assert keys[-2:] == ["charge.create", "charge.complete"]


def test_events_api_lists_retrieves_and_scopes(
    client: TestClient, account: TestAccount, other_account: TestAccount
) -> None:
    key = account.test.secret_key
    charge = pay(client, account, link(client, account)["id"]).json()
    listing = client.get("/events", auth=auth(key)).json()
    assert listing["object"] == "list" and listing["location"] == "/events"
    assert [e["key"] for e in listing["data"]] == [
        "link.create",
        "charge.create",
        "charge.complete",
    ]
    assert listing["total"] == 3
    newest = client.get(
        "/events", params={"order": "reverse_chronological", "limit": 1}, auth=auth(key)
    ).json()["data"][0]
    assert newest["object"] == "event" and newest["key"] == "charge.complete"
    assert newest["location"] == f"/events/{newest['id']}" and newest["webhook_deliveries"] == []
    assert client.get(f"/events/{newest['id']}", auth=auth(key)).json() == newest
    by_charge = client.get(f"/charges/{charge['id']}/events", auth=auth(key)).json()
    assert [e["key"] for e in by_charge["data"]] == ["charge.create", "charge.complete"]
    assert by_charge["location"] == f"/charges/{charge['id']}/events"
    for stranger in (other_account.test.secret_key, account.live.secret_key):
        assert client.get(f"/events/{newest['id']}", auth=auth(stranger)).status_code == 404
        assert client.get("/events", auth=auth(stranger)).json()["total"] == 0
        assert client.get(f"/charges/{charge['id']}/events", auth=auth(stranger)).status_code == 404
