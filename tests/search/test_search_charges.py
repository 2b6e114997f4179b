"""GET /search?scope=charge and scope=refund: filters, text, pages, scoping, the wire objects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from factories import VISA_NO_FUNDS, TestAccount, auth, token
from starlette.testclient import TestClient

from paylinks.clock import FrozenClock

MASTERCARD = "5555555555554444"
VISA_OTHER = "4111111111111111"


def charge(
    client: TestClient, account: TestAccount, number: str = "4242424242424242", **body: Any
) -> dict[str, Any]:
    fields = {"card": token(client, account, number), "currency": "thb", **body}
    response = client.post("/charges", auth=auth(account.test.secret_key), json=fields)
    assert response.status_code == 200, response.text
    made: dict[str, Any] = response.json()
    return made


def refund(client: TestClient, account: TestAccount, charge_id: str, amount: int) -> str:
    response = client.post(
        f"/charges/{charge_id}/refunds", auth=auth(account.test.secret_key), json={"amount": amount}
    )
    assert response.status_code == 200, response.text
    refund_id: str = response.json()["id"]
    return refund_id


def seed(client: TestClient, account: TestAccount) -> dict[str, str]:
    """Six charges, in this order: three captured, one declined, one authorized only, and one
    captured and then partly refunded."""
    made = {
        "tee": charge(client, account, amount=45000, description="T-Shirt Red",
                      metadata={"order": "ORD-7"}),
        "mug": charge(client, account, MASTERCARD, amount=150000, description="Coffee mug"),
        "yen": charge(client, account, amount=1500, currency="jpy", description="Sticker pack"),
        "declined": charge(client, account, VISA_NO_FUNDS, amount=100000,
                           description="Declined order"),
        "held": charge(client, account, VISA_OTHER, amount=200000, capture=False,
                       description="Hotel deposit"),
        "refunded": charge(client, account, amount=30000, description="Refunded item"),
    }  # fmt: skip
    assert made["declined"]["status"] == "failed"
    assert (made["held"]["status"], made["held"]["authorized"]) == ("pending", True)
    refund(client, account, made["refunded"]["id"], 10000)
    return {name: c["id"] for name, c in made.items()}


def search(client: TestClient, key: str, scope: str = "charge", **params: Any) -> dict[str, Any]:
    response = client.get("/search", params={"scope": scope, **params}, auth=auth(key))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def ids(result: dict[str, Any]) -> list[str]:
    return [item["id"] for item in result["data"]]


def filtered(client: TestClient, account: TestAccount, **filters: str) -> set[str]:
    params = {f"filters[{name}]": value for name, value in filters.items()}
    return set(ids(search(client, account.test.secret_key, **params)))


def named(made: dict[str, str], *names: str) -> set[str]:
    return {made[name] for name in names}


def test_status_captured_and_refunded_filters(client: TestClient, account: TestAccount) -> None:
    made = seed(client, account)
    assert filtered(client, account, status="failed") == named(made, "declined")
    assert filtered(client, account, status="PENDING") == named(made, "held")
    assert filtered(client, account, status="successful") == named(
        made, "tee", "mug", "yen", "refunded"
    )
    assert filtered(client, account, status="reversed") == set()
    # The authorization, not captured yet; a declined charge was not captured either.
    assert filtered(client, account, captured="false") == named(made, "declined", "held")
    assert filtered(client, account, captured="false", status="pending") == named(made, "held")
    assert filtered(client, account, captured="yes") == named(made, "tee", "mug", "yen", "refunded")
    assert filtered(client, account, refunded="true") == named(made, "refunded")
    assert filtered(client, account, refunded="no") == named(
        made, "tee", "mug", "yen", "declined", "held"
    )


def test_amount_in_major_units_currency_and_card_last_digits(
    client: TestClient, account: TestAccount
) -> None:
    made = seed(client, account)
    # ฿450..฿1,500 and ¥450..¥1,500: not ฿2,000 (held) nor ฿300 (refunded; its amount, not net).
    assert filtered(client, account, amount="450..1500") == named(
        made, "tee", "mug", "yen", "declined"
    )
    assert filtered(client, account, amount="..300") == named(made, "refunded")
    assert filtered(client, account, amount="2000") == named(made, "held")
    assert filtered(client, account, amount="450..1500", currency="JPY") == named(made, "yen")
    assert filtered(client, account, card_last_digits="4444") == named(made, "mug")
    assert filtered(client, account, card_last_digits="1111") == named(made, "held")
    assert filtered(client, account, card_last_digits="4242") == named(
        made, "tee", "yen", "refunded"
    )


def test_query_matches_id_description_metadata_and_last_digits(
    client: TestClient, account: TestAccount
) -> None:
    made = seed(client, account)
    key = account.test.secret_key
    assert set(ids(search(client, key, query="COFFEE"))) == named(made, "mug")
    assert set(ids(search(client, key, query="shirt red"))) == named(made, "tee")
    assert set(ids(search(client, key, query="shirt blue"))) == set()
    assert set(ids(search(client, key, query="ord-7"))) == named(made, "tee")  # metadata
    assert set(ids(search(client, key, query=made["held"]))) == named(made, "held")
    assert set(ids(search(client, key, query="4444"))) == named(made, "mug")
    assert set(ids(search(client, key, query="order"))) == named(made, "tee", "declined")
    assert search(client, key)["total"] == 6


def test_results_are_the_charges_as_get_answers_them(
    client: TestClient, account: TestAccount
) -> None:
    made = seed(client, account)
    key = account.test.secret_key
    result = search(client, key, query="refunded")
    assert (result["object"], result["scope"], result["total"]) == ("search", "charge", 1)
    assert result["filters"] == {} and result["query"] == "refunded"
    single = client.get(f"/charges/{made['refunded']}", auth=auth(key)).json()
    assert result["data"] == [single]
    assert result["data"][0]["refunds"]["total"] == 1
    assert result["data"][0]["refunded_amount"] == 10000


def test_created_range(make_client: Any, account: TestAccount) -> None:
    clock = FrozenClock(datetime(2026, 6, 1, 12, 0, tzinfo=UTC))
    client = make_client(clock=clock)
    days = []
    for _ in range(3):
        days.append(charge(client, account, amount=50000)["id"])
        clock.advance(timedelta(days=1).total_seconds())
    assert filtered(client, account, created="2026-06-02") == {days[1]}
    assert filtered(client, account, created="2026-06-01..2026-06-02") == {days[0], days[1]}
    assert filtered(client, account, created="2026-06-02T13:00:00Z..") == {days[2]}
    assert filtered(client, account, created="..2026-05-31") == set()


def test_order_and_pages(client: TestClient, account: TestAccount) -> None:
    made = seed(client, account)
    key = account.test.secret_key
    first = search(client, key, per_page=4)
    assert (first["total"], first["total_pages"], len(first["data"])) == (6, 2, 4)
    pages = [ids(search(client, key, per_page=4, page=page)) for page in (1, 2, 3)]
    assert pages[0] + pages[1] == list(made.values()) and pages[2] == []
    reverse = search(client, key, order="reverse_chronological", per_page=2, page=2)
    assert ids(reverse) == [made["declined"], made["yen"]]


def test_another_account_or_mode_is_never_seen(
    client: TestClient, account: TestAccount, other_account: TestAccount
) -> None:
    mine = seed(client, account)
    theirs = seed(client, other_account)
    result = search(client, account.test.secret_key, query="coffee")
    assert ids(result) == [mine["mug"]] and result["total"] == 1
    assert search(client, account.test.secret_key, query=theirs["mug"])["total"] == 0
    assert search(client, account.test.secret_key)["total"] == 6
    live = search(client, account.live.secret_key, query="coffee")
    assert (live["total"], live["data"]) == (0, [])
    assert search(client, account.live.secret_key, scope="refund")["total"] == 0


@pytest.mark.parametrize(
    ("params", "code", "words"),
    [
        ({"scope": "charge", "filters[multiple]": "true"}, "invalid_filter", "charge filters"),
        ({"scope": "charge", "filters[colour]": "red"}, "invalid_filter", "card_last_digits"),
        ({"scope": "refund", "filters[status]": "failed"}, "invalid_filter", "refund filters"),
        ({"scope": "charge", "filters[status]": "paid"}, "invalid_filter", "successful"),
        ({"scope": "charge", "filters[captured]": "maybe"}, "invalid_filter", "true or false"),
        ({"scope": "charge", "filters[card_last_digits]": "42"}, "invalid_filter", "4 digits"),
        ({"scope": "charge", "filters[amount]": "lots"}, "invalid_filter", "major units"),
        ({"scope": "refund", "filters[currency]": "xyz"}, "invalid_filter", "not a currency"),
        ({"scope": "customer"}, "invalid_scope", "link, charge, refund"),
    ],
)
def test_bad_charge_and_refund_searches(
    client: TestClient, account: TestAccount, params: dict[str, Any], code: str, words: str
) -> None:
    response = client.get("/search", params=params, auth=auth(account.test.secret_key))
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert words in response.json()["message"]


def test_refund_search_by_charge_amount_and_text(
    client: TestClient, account: TestAccount, other_account: TestAccount
) -> None:
    key = account.test.secret_key
    first = charge(client, account, amount=100000)["id"]
    second = charge(client, account, amount=100000)["id"]
    refunds = [
        refund(client, account, first, 10000),
        refund(client, account, first, 25000),
        refund(client, account, second, 10000),
    ]
    theirs = charge(client, other_account, amount=100000)["id"]
    refund(client, other_account, theirs, 10000)

    by_charge = search(client, key, scope="refund", **{"filters[charge]": first})
    assert ids(by_charge) == refunds[:2] and by_charge["scope"] == "refund"
    hundred = search(client, key, scope="refund", **{"filters[amount]": "100"})
    assert ids(hundred) == [refunds[0], refunds[2]]
    both = {"filters[amount]": "100", "filters[charge]": second}
    assert ids(search(client, key, scope="refund", **both)) == [refunds[2]]
    assert ids(search(client, key, scope="refund", query=second)) == [refunds[2]]
    assert ids(search(client, key, scope="refund", query=refunds[1].upper())) == [refunds[1]]
    assert ids(search(client, key, scope="refund", **{"filters[charge]": theirs})) == []
    assert search(client, key, scope="refund")["total"] == 3

    wire = client.get(f"/charges/{first}/refunds/{refunds[1]}", auth=auth(key)).json()
    assert search(client, key, scope="refund", query=refunds[1])["data"] == [wire]
