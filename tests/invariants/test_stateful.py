"""A Hypothesis state machine over links and payments: create links, pay them with good and
declined cards, update and delete them, list them, against a model. After every step: a
single-use link has at most one successful charge and `used` agrees with its charges, the
immutable fields never change, and lists hold exactly the model's links in creation order."""

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
    rule,
    run_state_machine_as_test,
)
from starlette.testclient import TestClient

from paylinks.db import Database

# Text as people type it; NUL is refused by the API (see test_fuzz) and is not a model concern.
TEXT = st.text(alphabet=st.characters(exclude_characters="\x00"), min_size=1, max_size=20)
IMMUTABLE = ("amount", "currency", "title", "multiple", "created_at", "payment_uri")


@dataclass
class Model:
    wire: dict[str, Any]  # as created: the immutable fields
    successes: int = 0
    failures: int = 0
    deleted: bool = False
    description: str | None = None
    charges: list[str] = field(default_factory=list)

    @property
    def payable(self) -> bool:
        return not self.deleted and (self.wire["multiple"] or self.successes == 0)


class Links(RuleBasedStateMachine):
    links = Bundle("links")

    def __init__(self, client: TestClient, account: TestAccount) -> None:
        super().__init__()
        self.client = client
        self.secret = auth(account.test.secret_key)
        self.public = auth(account.test.public_key)
        self.model: dict[str, Model] = {}
        self.order: list[str] = []

    @rule(
        target=links,
        amount=st.integers(min_value=2000, max_value=10_000_000),
        multiple=st.booleans(),
        title=TEXT.filter(str.strip),
    )
    def create(self, amount: int, multiple: bool, title: str) -> str:
        body = {"amount": amount, "currency": "thb", "title": title, "multiple": multiple}
        response = self.client.post("/links", auth=self.secret, json=body)
        assert response.status_code == 200, response.text
        made = response.json()
        self.model[made["id"]] = Model(made)
        self.order.append(made["id"])
        return str(made["id"])

    @rule(link_id=links, good=st.booleans())
    def pay(self, link_id: str, good: bool) -> None:
        entry = self.model[link_id]
        number = VISA_OK if good else VISA_NO_FUNDS
        token = self.client.post("/tokens", auth=self.public, json={"card": card(number)})
        body = {"card": token.json()["id"], "link": link_id}
        response = self.client.post("/charges", auth=self.secret, json=body)
        if not entry.payable:
            assert response.status_code == 400, response.text
            assert response.json()["code"] == "link_not_payable"
            return
        assert response.status_code == 200, response.text
        charge = response.json()
        assert charge["status"] == ("successful" if good else "failed")
        assert charge["amount"] == entry.wire["amount"] and charge["link"] == link_id
        entry.charges.append(charge["id"])
        if good:
            entry.successes += 1
        else:
            entry.failures += 1

    @rule(link_id=links, text=TEXT.filter(str.strip))
    def update(self, link_id: str, text: str) -> None:
        entry = self.model[link_id]
        response = self.client.patch(
            f"/links/{link_id}", auth=self.secret, json={"description": text}
        )
        if entry.deleted:
            assert response.status_code == 400
            return
        assert response.status_code == 200, response.text
        entry.description = text

    @rule(link_id=links)
    def delete(self, link_id: str) -> None:
        response = self.client.delete(f"/links/{link_id}", auth=self.secret)
        assert response.status_code == 200 and response.json()["deleted"] is True
        self.model[link_id].deleted = True

    @rule(reverse=st.booleans())
    def list_links(self, reverse: bool) -> None:
        order = "reverse_chronological" if reverse else "chronological"
        listed = self.client.get(
            "/links", auth=self.secret, params={"limit": 100, "order": order}
        ).json()
        assert listed["total"] == len(self.order)
        expected = list(reversed(self.order)) if reverse else self.order
        assert [item["id"] for item in listed["data"]] == expected

    @invariant()
    def links_agree_with_the_model(self) -> None:
        for link_id, entry in self.model.items():
            found = self.client.get(f"/links/{link_id}", auth=self.secret).json()
            assert {k: found[k] for k in IMMUTABLE} == {k: entry.wire[k] for k in IMMUTABLE}
            assert found["deleted"] == entry.deleted
            if entry.description is not None:
                assert found["description"] == entry.description
            charges = self.client.get(
                f"/links/{link_id}/charges", auth=self.secret, params={"limit": 100}
            ).json()["data"]
            statuses = [c["status"] for c in charges]
            assert statuses.count("successful") == entry.successes
            assert statuses.count("failed") == entry.failures
            if not entry.wire["multiple"]:
                assert entry.successes <= 1
                assert found["used"] == (entry.successes == 1)


@pytest.fixture
def client_for_machines(client: TestClient, db: Database) -> tuple[TestClient, Database]:
    return client, db


def test_links_and_payments_match_the_model(
    client_for_machines: tuple[TestClient, Database],
) -> None:
    client, db = client_for_machines
    run_state_machine_as_test(
        lambda: Links(client, make_account(db)),  # a fresh account per example
        settings=settings(
            max_examples=200,
            stateful_step_count=8,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        ),
    )
