"""POST /links: the seed's fields and rules, every rejection naming its field."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from factories import TestAccount, auth
from starlette.testclient import TestClient

from paylinks.clock import FrozenClock
from paylinks.db import Database

SEED_ORDER = [
    "object", "id", "livemode", "location", "amount", "currency", "title", "description",
    "multiple", "payment_uri", "used", "charges", "created_at",
    "metadata", "deleted", "deleted_at", "used_at", "expires_at", "usage_limit", "active",
]  # fmt: skip


def create(client: TestClient, key: str, **fields: Any) -> Any:
    body = {"amount": 100000, "currency": "thb", "title": "Product Purchase", **fields}
    return client.post("/links", auth=auth(key), json=body)


def test_seed_example_creates_link_with_seed_fields_in_seed_order(
    client: TestClient, account: TestAccount
) -> None:
    response = client.post(
        "/links",
        auth=auth(account.test.secret_key),
        data={
            "amount": "100000",
            "currency": "thb",
            "title": "Product Purchase",
            "description": "Premium widget purchase",
            "multiple": "true",
        },
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    link = response.json()
    assert list(link) == SEED_ORDER
    assert re.fullmatch(r"payl_test_[0-9a-z]{19}", link["id"])
    assert link["object"] == "link"
    assert link["livemode"] is False
    assert link["location"] == f"/links/{link['id']}"
    assert (link["amount"], link["currency"]) == (100000, "thb")
    assert link["title"] == "Product Purchase"
    assert link["description"] == "Premium widget purchase"
    assert link["multiple"] is True
    assert link["payment_uri"] == f"http://paylinks.test/pay/{link['id']}"
    assert link["used"] is False and link["deleted"] is False and link["active"] is True
    assert link["charges"]["object"] == "list"
    assert link["charges"]["data"] == [] and link["charges"]["total"] == 0
    assert link["charges"]["location"] == f"/links/{link['id']}/charges"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", link["created_at"])
    assert link["metadata"] == {}
    assert link["deleted_at"] is None and link["used_at"] is None


def test_live_key_creates_live_link(client: TestClient, account: TestAccount) -> None:
    link = create(client, account.live.secret_key).json()
    assert re.fullmatch(r"payl_[0-9a-z]{19}", link["id"])
    assert link["livemode"] is True


def test_form_metadata_brackets_become_an_object(client: TestClient, account: TestAccount) -> None:
    response = client.post(
        "/links",
        auth=auth(account.test.secret_key),
        content="amount=250000&currency=THB&title=Invoice+%23INV-001&multiple=0"
        "&metadata[invoice_id]=INV-001&metadata[customer_email]=customer%40example.com",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    link = response.json()
    assert response.status_code == 200, link
    assert link["currency"] == "thb"
    assert link["title"] == "Invoice #INV-001"
    assert link["multiple"] is False
    assert link["metadata"] == {"invoice_id": "INV-001", "customer_email": "customer@example.com"}


def test_json_metadata_keeps_nested_values(client: TestClient, account: TestAccount) -> None:
    metadata = {"invoice_id": "INV-1", "nested": {"a": 1}, "tickets_available": 50}
    link = create(client, account.test.secret_key, metadata=metadata).json()
    assert link["metadata"] == metadata


def test_numeric_strings_are_accepted_for_amount(client: TestClient, account: TestAccount) -> None:
    link = create(client, account.test.secret_key, amount="500000").json()
    assert link["amount"] == 500000


@pytest.mark.parametrize(
    ("amount", "currency", "fragment"),
    [
        ("abc", "thb", "integer"),
        (True, "thb", "integer"),
        (12.5, "thb", "integer"),
        (0, "thb", "positive"),
        (-100, "thb", "positive"),
        (1999, "thb", "at least 2000"),
        (100_000_001, "thb", "at most 100000000"),
        (99, "jpy", "at least 100"),
        ({"a": 1}, "thb", "integer"),
    ],
)
def test_bad_amount_is_invalid_amount(
    client: TestClient, account: TestAccount, amount: Any, currency: str, fragment: str
) -> None:
    response = create(client, account.test.secret_key, amount=amount, currency=currency)
    assert response.status_code == 400
    error = response.json()
    assert error["object"] == "error" and error["code"] == "invalid_amount"
    assert "amount" in error["message"] and fragment in error["message"]
    assert error["location"] == "https://www.omise.co/api-errors#invalid-amount"


def test_missing_amount_is_invalid_amount(client: TestClient, account: TestAccount) -> None:
    response = client.post(
        "/links", auth=auth(account.test.secret_key), json={"currency": "thb", "title": "T"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_amount"
    assert "amount is required" in response.json()["message"]


def test_jpy_has_no_decimals_and_its_own_minimum(client: TestClient, account: TestAccount) -> None:
    link = create(client, account.test.secret_key, amount=5000, currency="JPY").json()
    assert (link["amount"], link["currency"]) == (5000, "jpy")


@pytest.mark.parametrize("currency", ["xyz", "bitcoin", "", "th"])
def test_unknown_currency_is_invalid_currency(
    client: TestClient, account: TestAccount, currency: str
) -> None:
    response = create(client, account.test.secret_key, currency=currency)
    assert response.status_code == 400
    assert response.json()["code"] == ("invalid_currency" if currency else "bad_request")
    assert "currency" in response.json()["message"]


@pytest.mark.parametrize("currency", ["usd", "USD", "Eur", "sgd", "myr", "gbp"])
def test_presentment_currencies_in_any_case(
    client: TestClient, account: TestAccount, currency: str
) -> None:
    link = create(client, account.test.secret_key, amount=5000, currency=currency).json()
    assert link["currency"] == currency.lower()


def test_title_is_required_and_at_most_200_characters(
    client: TestClient, account: TestAccount
) -> None:
    key = account.test.secret_key
    missing = client.post("/links", auth=auth(key), json={"amount": 100000, "currency": "thb"})
    assert missing.status_code == 400 and "title is required" in missing.json()["message"]
    blank = create(client, key, title="   ")
    assert blank.status_code == 400 and "title" in blank.json()["message"]
    assert create(client, key, title="x" * 200).status_code == 200
    too_long = create(client, key, title="x" * 201)
    assert too_long.status_code == 400
    assert too_long.json()["code"] == "bad_request" and "title" in too_long.json()["message"]


def test_description_is_at_most_1000_characters(client: TestClient, account: TestAccount) -> None:
    key = account.test.secret_key
    assert create(client, key, description="d" * 1000).status_code == 200
    response = create(client, key, description="d" * 1001)
    assert response.status_code == 400 and "description" in response.json()["message"]


@pytest.mark.parametrize(
    ("value", "expected"), [("true", True), ("1", True), ("false", False), ("0", False), (1, True)]
)
def test_multiple_accepts_boolean_forms(
    client: TestClient, account: TestAccount, value: Any, expected: bool
) -> None:
    assert create(client, account.test.secret_key, multiple=value).json()["multiple"] is expected


def test_multiple_rejects_non_booleans(client: TestClient, account: TestAccount) -> None:
    response = create(client, account.test.secret_key, multiple="maybe")
    assert response.status_code == 400 and "multiple" in response.json()["message"]


@pytest.mark.parametrize(
    ("metadata", "fragment"),
    [
        ({f"k{i}": "v" for i in range(51)}, "51 keys"),
        ({"k" * 41: "v"}, "1 to 40"),
        ({"note": "x" * 501}, "metadata[note]"),
        ("not-an-object", "must be an object"),
        ([1, 2], "must be an object"),
    ],
)
def test_metadata_limits(
    client: TestClient, account: TestAccount, metadata: Any, fragment: str
) -> None:
    response = create(client, account.test.secret_key, metadata=metadata)
    assert response.status_code == 400
    assert fragment in response.json()["message"]


def test_metadata_at_its_limits_is_accepted(client: TestClient, account: TestAccount) -> None:
    metadata = {f"{i:02d}" + "k" * 38: "v" * 100 for i in range(50)}
    metadata["00" + "k" * 38] = "v" * 100
    response = create(client, account.test.secret_key, metadata=metadata)
    assert response.status_code == 200 and response.json()["metadata"] == metadata


def test_expires_at_must_be_in_the_future(client: TestClient, account: TestAccount) -> None:
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    response = create(client, account.test.secret_key, expires_at=past)
    assert response.status_code == 400 and "expires_at" in response.json()["message"]
    garbage = create(client, account.test.secret_key, expires_at="next tuesday")
    assert garbage.status_code == 400 and "expires_at" in garbage.json()["message"]


def test_link_becomes_inactive_when_it_expires(make_client: Any, account: TestAccount) -> None:
    clock = FrozenClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    client = make_client(clock=clock)
    link = create(client, account.test.secret_key, expires_at="2026-03-01T14:00:00+01:00").json()
    assert link["expires_at"] == "2026-03-01T13:00:00Z"
    assert link["active"] is True
    clock.advance(3599)
    still = client.get(f"/links/{link['id']}", auth=auth(account.test.secret_key)).json()
    assert still["active"] is True
    clock.advance(1)
    clock.advance(3600)
    again = client.get(f"/links/{link['id']}", auth=auth(account.test.secret_key)).json()
    assert again["active"] is False


def test_expires_at_of_now_is_rejected(make_client: Any, account: TestAccount) -> None:
    clock = FrozenClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    client = make_client(clock=clock)
    response = create(client, account.test.secret_key, expires_at="2026-03-01T12:00:00Z")
    assert response.status_code == 400


def test_usage_limit_is_for_multi_use_links(client: TestClient, account: TestAccount) -> None:
    key = account.test.secret_key
    single = create(client, key, usage_limit=5)
    assert single.status_code == 400 and "usage_limit" in single.json()["message"]
    zero = create(client, key, multiple=True, usage_limit=0)
    assert zero.status_code == 400
    link = create(client, key, multiple=True, usage_limit=50).json()
    assert link["usage_limit"] == 50 and link["active"] is True


def test_active_link_cap_is_enforced_and_names_the_cap(
    make_client: Any, account: TestAccount
) -> None:
    client = make_client(max_active_links=2)
    key = account.test.secret_key
    first = create(client, key).json()
    create(client, key)
    refused = create(client, key)
    assert refused.status_code == 422
    error = refused.json()
    assert error["code"] == "limit_exceeded" and "PAYLINKS_MAX_ACTIVE_LINKS=2" in error["message"]
    # The other mode has its own cap.
    assert create(client, account.live.secret_key).status_code == 200
    # A deleted link no longer counts.
    client.delete(f"/links/{first['id']}", auth=auth(key))
    assert create(client, key).status_code == 200


def test_expired_links_do_not_count_toward_the_cap(make_client: Any, account: TestAccount) -> None:
    clock = FrozenClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    client = make_client(max_active_links=1, clock=clock)
    key = account.test.secret_key
    assert create(client, key, expires_at="2026-03-01T12:30:00Z").status_code == 200
    assert create(client, key).status_code == 422
    clock.advance(3600)
    assert create(client, key).status_code == 200


def test_rejected_create_writes_nothing(
    client: TestClient, account: TestAccount, db: Database
) -> None:
    key = account.test.secret_key
    before = client.get("/links", auth=auth(key)).json()["total"]
    for bad in ({"amount": -1}, {"currency": "zzz"}, {"title": "x" * 201}):
        assert create(client, key, **bad).status_code == 400
    assert client.get("/links", auth=auth(key)).json()["total"] == before


def test_fields_the_server_owns_are_ignored_on_create(
    client: TestClient, account: TestAccount
) -> None:
    link = create(
        client, account.test.secret_key, livemode=True, used=True, id="payl_test_mine", deleted=True
    ).json()
    assert link["livemode"] is False and link["used"] is False and link["deleted"] is False
    assert link["id"] != "payl_test_mine"
