"""Refunds over the API: partial and full, several per charge, never more than captured, the
charge's refund fields, the lists, the event and its webhook, and what cannot be refunded."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from factories import VISA_NO_FUNDS, TestAccount, auth, link, pay, token
from starlette.testclient import TestClient

from paylinks.api import idempotency
from paylinks.models import idempotency_keys


def paid_charge(client: TestClient, account: TestAccount, amount: int = 100000) -> dict[str, Any]:
    body = {"card": token(client, account), "amount": amount, "currency": "thb"}
    response = client.post("/charges", auth=auth(account.test.secret_key), json=body)
    assert response.status_code == 200 and response.json()["status"] == "successful"
    charge: dict[str, Any] = response.json()
    return charge


def refund(client: TestClient, account: TestAccount, charge_id: str, **body: Any) -> Any:
    return client.post(
        f"/charges/{charge_id}/refunds", auth=auth(account.test.secret_key), json=body
    )


def get(client: TestClient, account: TestAccount, path: str) -> dict[str, Any]:
    response = client.get(path, auth=auth(account.test.secret_key))
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def test_partial_refunds_until_the_charge_is_refunded_in_full(
    client: TestClient, account: TestAccount
) -> None:
    charge = paid_charge(client, account)
    assert (charge["refunded_amount"], charge["refundable"], charge["refunds"]["total"]) == (
        0, True, 0,
    )  # fmt: skip
    first = refund(client, account, charge["id"], amount=30000, metadata={"reason": "damaged"})
    assert first.status_code == 200, first.text
    made = first.json()
    assert made["object"] == "refund" and made["id"].startswith("rfnd_test_")
    assert (made["amount"], made["currency"], made["charge"]) == (30000, "thb", charge["id"])
    assert made["metadata"] == {"reason": "damaged"} and made["voided"] is False
    assert made["location"] == f"/charges/{charge['id']}/refunds/{made['id']}"

    second = refund(client, account, charge["id"], amount=70000).json()
    after = get(client, account, f"/charges/{charge['id']}")
    assert after["refunded_amount"] == 100000 and after["status"] == "successful"
    assert after["refundable"] is False and after["partially_refundable"] is False
    assert [r["id"] for r in after["refunds"]["data"]] == [made["id"], second["id"]]
    assert after["refunds"]["total"] == 2

    over = refund(client, account, charge["id"], amount=1)
    assert over.status_code == 400 and over.json()["code"] == "failed_refund"
    assert "refunded in full" in over.json()["message"]


def test_a_refund_beyond_what_is_left_writes_nothing(
    client: TestClient, account: TestAccount
) -> None:
    charge = paid_charge(client, account, amount=5000)
    assert refund(client, account, charge["id"], amount=4000).status_code == 200
    over = refund(client, account, charge["id"], amount=1001)
    assert over.status_code == 400 and over.json()["code"] == "failed_refund"
    assert "1000 left" in over.json()["message"]
    huge = refund(client, account, charge["id"], amount=2**63 - 1)  # no BIGINT overflow
    assert huge.status_code == 400 and huge.json()["code"] == "failed_refund"
    assert get(client, account, f"/charges/{charge['id']}")["refunded_amount"] == 4000
    assert get(client, account, f"/charges/{charge['id']}/refunds")["total"] == 1
    assert refund(client, account, charge["id"], amount=1000).status_code == 200


def test_only_a_captured_charge_can_be_refunded(client: TestClient, account: TestAccount) -> None:
    invoice = client.post(
        "/links", auth=auth(account.test.secret_key),
        json={"amount": 100000, "currency": "thb", "title": "T", "multiple": True},
    ).json()  # fmt: skip
    declined = pay(client, account, invoice["id"], VISA_NO_FUNDS).json()
    response = refund(client, account, declined["id"], amount=100)
    assert response.status_code == 400 and response.json()["code"] == "failed_refund"
    assert "failed" in response.json()["message"]
    source = client.post(
        "/sources", auth=auth(account.test.secret_key),
        json={"type": "promptpay", "amount": 100000, "currency": "thb"},
    ).json()  # fmt: skip
    pending = client.post(
        "/charges", auth=auth(account.test.secret_key),
        json={"source": source["id"], "amount": 100000, "currency": "thb"},
    ).json()  # fmt: skip
    response = refund(client, account, pending["id"], amount=100)
    assert response.status_code == 400 and "pending" in response.json()["message"]


def test_bad_amounts_and_unknown_charges(client: TestClient, account: TestAccount) -> None:
    charge = paid_charge(client, account)
    for body in ({}, {"amount": 0}, {"amount": -5}, {"amount": "ten"}, {"amount": 1.5}):
        response = refund(client, account, charge["id"], **body)
        assert response.status_code == 400 and response.json()["code"] == "invalid_amount", body
    missing = refund(client, account, "chrg_test_0000000000000000000", amount=100)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert get(client, account, f"/charges/{charge['id']}")["refunded_amount"] == 0


def test_refunds_are_listed_per_charge_and_per_account(
    client: TestClient, account: TestAccount, other_account: TestAccount
) -> None:
    one, two = paid_charge(client, account), paid_charge(client, account)
    a = refund(client, account, one["id"], amount=100).json()
    b = refund(client, account, two["id"], amount=200).json()
    c = refund(client, account, one["id"], amount=300).json()
    listed = get(client, account, f"/charges/{one['id']}/refunds")
    assert [r["id"] for r in listed["data"]] == [a["id"], c["id"]]
    assert listed["location"] == f"/charges/{one['id']}/refunds"
    everything = get(client, account, "/refunds?order=reverse_chronological")
    assert [r["id"] for r in everything["data"]] == [c["id"], b["id"], a["id"]]
    assert get(client, account, f"/charges/{one['id']}/refunds/{c['id']}") == c
    # A refund is found only under its own charge, and never by another account.
    wrong = client.get(
        f"/charges/{two['id']}/refunds/{a['id']}", auth=auth(account.test.secret_key)
    )
    assert wrong.status_code == 404
    theirs = client.get(f"/charges/{one['id']}/refunds", auth=auth(other_account.test.secret_key))
    assert theirs.status_code == 404
    assert get(client, other_account, "/refunds")["total"] == 0
    live = client.get("/refunds", auth=auth(account.live.secret_key)).json()
    assert live["total"] == 0


def test_a_refund_records_an_event_with_its_charge(
    client: TestClient, account: TestAccount
) -> None:
    charge = paid_charge(client, account)
    made = refund(client, account, charge["id"], amount=500).json()
    events = get(client, account, f"/charges/{charge['id']}/events")["data"]
    assert [e["key"] for e in events][-1] == "refund.create"
    assert events[-1]["data"] == made


def test_a_refund_is_sent_to_the_processor_once(client: TestClient, account: TestAccount) -> None:
    charge = paid_charge(client, account)
    made = refund(client, account, charge["id"], amount=500).json()
    refund(client, account, charge["id"], amount=10**6)  # refused: never reaches the processor
    calls = client.app.state.runtime.test_processor.calls  # type: ignore[attr-defined]
    refunds = [c for c in calls if c.action == "refund"]
    assert [(c.charge_id, c.reference, c.amount) for c in refunds] == [
        (charge["id"], made["id"], 500)
    ]


def test_a_refund_with_an_idempotency_key_happens_once(
    client: TestClient, account: TestAccount
) -> None:
    charge = paid_charge(client, account)
    headers = {"Idempotency-Key": "refund-order-7"}
    path = f"/charges/{charge['id']}/refunds"
    secret = auth(account.test.secret_key)
    first = client.post(path, auth=secret, json={"amount": 2500}, headers=headers)
    again = client.post(path, auth=secret, json={"amount": 2500}, headers=headers)
    assert first.status_code == 200 and again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert get(client, account, f"/charges/{charge['id']}")["refunded_amount"] == 2500
    other = client.post(path, auth=secret, json={"amount": 2600}, headers=headers)
    assert other.status_code == 422  # the same key for another request


def test_a_refund_whose_answer_was_lost_is_answered_from_the_refund(
    client: TestClient, account: TestAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    charge = paid_charge(client, account)
    real = idempotency.store
    lost = {"first": True}

    def crash(conn: Any, **kwargs: Any) -> None:
        if lost.pop("first", False):
            raise RuntimeError("killed before the response was stored")
        real(conn, **kwargs)

    monkeypatch.setattr(idempotency, "store", crash)
    path = f"/charges/{charge['id']}/refunds"
    headers = {"Idempotency-Key": "lost-answer"}
    secret = auth(account.test.secret_key)
    assert client.post(path, auth=secret, json={"amount": 700}, headers=headers).status_code == 500
    with client.app.state.runtime.db.write_engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(sa.update(idempotency_keys).values(created_at=0))  # past the in-flight window
    rebuilt = client.post(path, auth=secret, json={"amount": 700}, headers=headers)
    assert rebuilt.status_code == 200, rebuilt.text
    made = rebuilt.json()
    assert made == get(client, account, f"/charges/{charge['id']}/refunds/{made['id']}")
    assert get(client, account, f"/charges/{charge['id']}")["refunded_amount"] == 700


def test_a_links_stats_show_refunds_and_net_revenue(
    client: TestClient, account: TestAccount
) -> None:
    product = link(client, account, multiple=True)
    first = pay(client, account, product["id"]).json()
    second = pay(client, account, product["id"]).json()
    pay(client, account, product["id"], VISA_NO_FUNDS)
    before = get(client, account, f"/links/{product['id']}/stats")
    assert (before["revenue"], before["refunded"], before["net_revenue"]) == (200000, 0, 200000)
    refund(client, account, first["id"], amount=100000)
    refund(client, account, second["id"], amount=2500)
    after = get(client, account, f"/links/{product['id']}/stats")
    assert (after["revenue"], after["refunded"], after["net_revenue"]) == (200000, 102500, 97500)
    assert after["charges"] == before["charges"]  # a refunded charge is still a successful one
