"""A Hypothesis state machine over money after the payment: pay links by card (captured or only
authorized, good or declined cards) and by PromptPay, refund, capture, reverse, expire, and move
the account's test clock forward, against a model. After every step:

- no charge is ever refunded more than it captured, and its refunds add up to `refunded_amount`;
- a single-use link has at most one successful or authorized charge, and `used` agrees;
- every state change has exactly one event, in order (`GET /charges/:id/events`);
- the processor was asked exactly what the model did: one charge or authorization per card
  charge, one capture, reverse or refund per successful call of that kind, nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from factories import VISA_NO_FUNDS, VISA_OK, TestAccount, auth, card, make_account
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from starlette.testclient import TestClient

from paylinks.db import Database

DAY = 86400
AUTHORIZATION_DAYS = 7  # Omise's hold on a card authorization
QR_DAYS = 1  # a PromptPay QR's life


@dataclass
class ChargeModel:
    id: str
    link_id: str
    amount: int
    status: str  # successful | failed | pending | reversed | expired
    authorized: bool = False  # capture=false, not yet captured
    promptpay: bool = False
    refunded: int = 0
    opened_day: int = 0  # the account's clock, in days, when it was made
    events: list[str] = field(default_factory=list)

    @property
    def holds_link(self) -> bool:
        return self.status == "successful" or (self.status == "pending" and self.authorized)


@dataclass
class LinkModel:
    id: str
    amount: int
    multiple: bool
    charges: list[str] = field(default_factory=list)


class Money(RuleBasedStateMachine):
    links = Bundle("links")
    charges = Bundle("charges")

    def __init__(self, client: TestClient, account: TestAccount) -> None:
        super().__init__()
        self.client = client
        self.secret = auth(account.test.secret_key)
        self.public = auth(account.test.public_key)
        self.links_by_id: dict[str, LinkModel] = {}
        self.charges_by_id: dict[str, ChargeModel] = {}
        self.day = 0  # the account's clock, in whole days ahead of real time
        self.asked: dict[str, int] = {}  # processor calls the model expects, by action

    def _call(self, method: str, path: str, **body: Any) -> Any:
        return self.client.request(method, path, auth=self.secret, json=body or None)

    def _link_holder(self, link: LinkModel) -> bool:
        return any(self.charges_by_id[c].holds_link for c in link.charges)

    def _expect(self, action: str) -> None:
        self.asked[action] = self.asked.get(action, 0) + 1

    @precondition(lambda self: len(self.links_by_id) < 3)  # a few links, many moves on them
    @rule(
        target=links, amount=st.integers(min_value=2000, max_value=500_000), multiple=st.booleans()
    )
    def create_link(self, amount: int, multiple: bool) -> str:
        body = {"amount": amount, "currency": "thb", "title": "Machine", "multiple": multiple}
        made = self._call("POST", "/links", **body).json()
        self.links_by_id[made["id"]] = LinkModel(made["id"], amount, multiple)
        return str(made["id"])

    # Hypothesis favours the first of a choice: a good card, captured, a week on.
    @rule(
        target=charges,
        link_id=links,
        good=st.sampled_from([True, False]),
        capture=st.sampled_from([True, False]),
    )
    def pay_by_card(self, link_id: str, good: bool, capture: bool) -> str:
        link = self.links_by_id[link_id]
        number = VISA_OK if good else VISA_NO_FUNDS
        token = self.client.post("/tokens", auth=self.public, json={"card": card(number)})
        response = self._call(
            "POST", "/charges", card=token.json()["id"], link=link_id, capture=capture
        )
        if not link.multiple and self._link_holder(link):
            assert response.status_code == 400, response.text
            assert response.json()["code"] == "link_not_payable"
            return ""
        assert response.status_code == 200, response.text
        made = response.json()
        self._expect("charge" if capture else "authorize")
        status = ("successful" if capture else "pending") if good else "failed"
        assert made["status"] == status
        outcome = ["charge.complete" if capture else None] if good else ["charge.failed"]
        model = ChargeModel(
            made["id"], link_id, link.amount, status, authorized=good and not capture,
            opened_day=self.day, events=["charge.create", *[k for k in outcome if k]],
        )  # fmt: skip
        self.charges_by_id[model.id] = model
        link.charges.append(model.id)
        return model.id

    @rule(target=charges, link_id=links)
    def pay_by_promptpay(self, link_id: str) -> str:
        link = self.links_by_id[link_id]
        source = self._call(
            "POST", "/sources", type="promptpay", amount=link.amount, currency="thb"
        )
        response = self._call("POST", "/charges", source=source.json()["id"], link=link_id)
        if not link.multiple and self._link_holder(link):
            assert response.status_code == 400 and response.json()["code"] == "link_not_payable"
            return ""
        assert response.status_code == 200, response.text
        model = ChargeModel(
            response.json()["id"], link_id, link.amount, "pending", promptpay=True,
            opened_day=self.day, events=["charge.create"],
        )  # fmt: skip
        self.charges_by_id[model.id] = model
        link.charges.append(model.id)
        return model.id

    @precondition(lambda self: self.charges_by_id)
    @rule(charge_id=charges, part=st.sampled_from([1, 3, 10, 100]))
    def refund(self, charge_id: str, part: int) -> None:
        """A part (1/part) of the charge, or as much again: sometimes more than is left."""
        model = self.charges_by_id.get(charge_id)
        if model is None:
            return
        amount = max(1, model.amount // part)
        response = self._call("POST", f"/charges/{charge_id}/refunds", amount=amount)
        if model.status != "successful" or model.refunded + amount > model.amount:
            assert response.status_code == 400, response.text
            assert response.json()["code"] == "failed_refund"
            return
        assert response.status_code == 200, response.text
        model.refunded += amount
        model.events.append("refund.create")
        self._expect("refund")

    @precondition(lambda self: self.charges_by_id)
    @rule(charge_id=charges)
    def capture(self, charge_id: str) -> None:
        model = self.charges_by_id.get(charge_id)
        if model is None:
            return
        response = self._call("POST", f"/charges/{charge_id}/capture")
        if not (model.status == "pending" and model.authorized):
            assert response.status_code == 400, response.text
            expected = "expired_charge" if model.status == "expired" else "failed_capture"
            assert response.json()["code"] == expected
            return
        assert response.status_code == 200 and response.json()["status"] == "successful"
        model.status, model.authorized = "successful", False
        model.events.append("charge.capture")
        self._expect("capture")

    @precondition(lambda self: self.charges_by_id)
    @rule(charge_id=charges)
    def reverse(self, charge_id: str) -> None:
        model = self.charges_by_id.get(charge_id)
        if model is None:
            return
        response = self._call("POST", f"/charges/{charge_id}/reverse")
        if not (model.status == "pending" and model.authorized):
            assert response.status_code == 400, response.text
            return
        assert response.status_code == 200 and response.json()["status"] == "reversed"
        model.status, model.authorized = "reversed", False
        model.events.append("charge.reverse")
        self._expect("reverse")

    @precondition(lambda self: self.charges_by_id)
    @rule(charge_id=charges)
    def expire(self, charge_id: str) -> None:
        model = self.charges_by_id.get(charge_id)
        if model is None:
            return
        response = self._call("POST", f"/charges/{charge_id}/expire")
        if not (model.promptpay and model.status == "pending"):
            assert response.status_code == 400 and response.json()["code"] == "failed_expire"
            return
        assert response.status_code == 200 and response.json()["status"] == "expired"
        model.status = "expired"
        model.events.append("charge.expire")

    @precondition(lambda self: any(c.status == "pending" for c in self.charges_by_id.values()))
    @rule(days=st.sampled_from([8, 1, 3]))
    def advance_clock(self, days: int) -> None:
        moved = self._call("POST", "/test_clock/advance", seconds=days * DAY)
        assert moved.status_code == 200, moved.text
        self.day += days
        for model in self.charges_by_id.values():
            life = AUTHORIZATION_DAYS if model.authorized else QR_DAYS if model.promptpay else None
            if model.status == "pending" and life and self.day - model.opened_day >= life:
                model.status, model.authorized = "expired", False
                model.events.append("charge.expire")

    @invariant()
    def charges_agree_with_the_model(self) -> None:
        for charge_id, model in self.charges_by_id.items():
            found = self._call("GET", f"/charges/{charge_id}").json()
            assert (found["status"], found["refunded_amount"]) == (model.status, model.refunded)
            assert found["refunded_amount"] <= found["amount"]
            assert sum(r["amount"] for r in found["refunds"]["data"]) == found["refunded_amount"]
            events = self._call("GET", f"/charges/{charge_id}/events").json()["data"]
            assert [e["key"] for e in events] == model.events, charge_id

    @invariant()
    def single_use_links_are_held_once(self) -> None:
        for link_id, link in self.links_by_id.items():
            if link.multiple:
                continue
            holders = [c for c in link.charges if self.charges_by_id[c].holds_link]
            assert len(holders) <= 1
            found = self._call("GET", f"/links/{link_id}").json()
            assert found["used"] == bool(holders)

    @invariant()
    def the_processor_was_asked_what_the_model_did(self) -> None:
        mine = set(self.charges_by_id)
        calls = self.client.app.state.runtime.test_processor.calls  # type: ignore[attr-defined]
        asked: dict[str, int] = {}
        for call in calls:
            if call.charge_id in mine:
                asked[call.action] = asked.get(call.action, 0) + 1
        assert asked == self.asked


@pytest.fixture
def client_for_machines(client: TestClient, db: Database) -> tuple[TestClient, Database]:
    return client, db


def test_money_after_the_payment_matches_the_model(
    client_for_machines: tuple[TestClient, Database],
) -> None:
    client, db = client_for_machines
    run_state_machine_as_test(
        lambda: Money(client, make_account(db)),  # a fresh account (and clock) per example
        settings=settings(
            max_examples=60,
            stateful_step_count=12,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        ),
    )
