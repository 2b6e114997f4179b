"""GET /search?scope=link (and /search/): query, filters, pages, the search object."""

from __future__ import annotations

from typing import Any

import pytest
from factories import TestAccount, auth, sign_in
from starlette.testclient import TestClient


def seed(client: TestClient, key: str) -> dict[str, str]:
    specs = {
        "tee": {"amount": 45000, "currency": "thb", "title": "T-Shirt Red", "multiple": True},
        "invoice": {
            "amount": 250000,
            "currency": "thb",
            "title": "Invoice #INV-001",
            "description": "Payment for consulting services",
        },
        "yen": {"amount": 1500, "currency": "jpy", "title": "Sticker pack"},
        "usd": {"amount": 5000, "currency": "usd", "title": "International Product"},
        "percent": {"amount": 3000, "currency": "thb", "title": "100% cotton_bag"},
    }
    ids = {}
    for name, body in specs.items():
        response = client.post("/links", auth=auth(key), json=body)
        assert response.status_code == 200, response.text
        ids[name] = response.json()["id"]
    return ids


def search(client: TestClient, key: str, path: str = "/search", **params: Any) -> dict[str, Any]:
    response = client.get(path, params={"scope": "link", **params}, auth=auth(key))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def found(result: dict[str, Any]) -> set[str]:
    return {item["id"] for item in result["data"]}


def test_search_object_shape(client: TestClient, account: TestAccount) -> None:
    key = account.test.secret_key
    ids = seed(client, key)
    result = search(client, key, path="/search/", query="invoice")
    assert result["object"] == "search" and result["scope"] == "link"
    assert result["query"] == "invoice" and result["filters"] == {}
    assert (result["page"], result["per_page"], result["total"], result["total_pages"]) == (
        1,
        30,
        1,
        1,
    )
    assert result["location"] == "/search"
    assert found(result) == {ids["invoice"]}
    assert result["data"][0]["object"] == "link"


def test_query_words_match_title_or_description(client: TestClient, account: TestAccount) -> None:
    key = account.test.secret_key
    ids = seed(client, key)
    assert found(search(client, key, query="CONSULTING")) == {ids["invoice"]}
    assert found(search(client, key, query="shirt red")) == {ids["tee"]}
    assert found(search(client, key, query="shirt blue")) == set()
    # LIKE wildcards in the query are literal characters.
    assert found(search(client, key, query="100%")) == {ids["percent"]}
    assert found(search(client, key, query="n_b")) == {ids["percent"]}
    assert len(found(search(client, key))) == 5


def test_amount_filter_uses_major_units_per_currency(
    client: TestClient, account: TestAccount
) -> None:
    key = account.test.secret_key
    ids = seed(client, key)
    # 450..2500 in major units: the tee (฿450), the invoice (฿2,500) and ¥1,500 — not 1500 satang.
    result = search(client, key, **{"filters[amount]": "450..2500"})
    assert found(result) == {ids["tee"], ids["invoice"], ids["yen"]}
    assert found(search(client, key, **{"filters[amount]": "450.01..2500"})) == {
        ids["invoice"],
        ids["yen"],
    }
    assert found(search(client, key, **{"filters[amount]": "1500"})) == {ids["yen"]}
    assert found(search(client, key, **{"filters[amount]": "..30"})) == {ids["percent"]}
    assert ids["usd"] in found(search(client, key, **{"filters[amount]": "50.00.."}))


def test_boolean_and_currency_filters(client: TestClient, account: TestAccount) -> None:
    key = account.test.secret_key
    ids = seed(client, key)
    assert found(search(client, key, **{"filters[multiple]": "true"})) == {ids["tee"]}
    assert found(search(client, key, **{"filters[currency]": "JPY"})) == {ids["yen"]}
    client.delete(f"/links/{ids['usd']}", auth=auth(key))
    assert found(search(client, key, **{"filters[deleted]": "yes"})) == {ids["usd"]}
    assert ids["usd"] not in found(search(client, key, **{"filters[active]": "true"}))
    assert found(search(client, key, **{"filters[used]": "true"})) == set()


def test_pages(client: TestClient, account: TestAccount) -> None:
    key = account.test.secret_key
    ids = seed(client, key)
    first = search(client, key, per_page=2, page=1)
    third = search(client, key, per_page=2, page=3)
    assert first["total"] == 5 and first["total_pages"] == 3
    assert len(first["data"]) == 2 and len(third["data"]) == 1
    everything = [
        x["id"] for p in (1, 2, 3) for x in search(client, key, per_page=2, page=p)["data"]
    ]
    assert everything == list(ids.values())
    reverse = search(client, key, order="reverse_chronological", per_page=1)
    assert reverse["data"][0]["id"] == ids["percent"]


def test_python_sdk_filters_arrive_in_the_query_string(
    client: TestClient, account: TestAccount
) -> None:
    key = account.test.secret_key
    ids = seed(client, key)
    response = client.request(
        "GET",
        "/search/?scope=link&query=invoice&filters%5Bamount%5D=1000..3000",
        content=b"{}",
        headers={"content-type": "application/json"},
        auth=auth(key),
    )
    assert found(response.json()) == {ids["invoice"]}


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, "invalid_scope"),
        ({"scope": "customer"}, "invalid_scope"),
        ({"scope": "link", "filters[colour]": "red"}, "invalid_filter"),
        ({"scope": "link", "filters[amount]": "lots"}, "invalid_filter"),
        ({"scope": "link", "filters[multiple]": "perhaps"}, "invalid_filter"),
        ({"scope": "link", "filters[created]": "last week"}, "invalid_filter"),
        ({"scope": "link", "page": 0}, "invalid_page"),
        ({"scope": "link", "per_page": -3}, "invalid_page"),
    ],
)
def test_bad_search_parameters(
    client: TestClient, account: TestAccount, params: dict[str, Any], code: str
) -> None:
    response = client.get("/search", params=params, auth=auth(account.test.secret_key))
    assert response.status_code == 400
    assert response.json()["code"] == code


def test_a_query_of_too_many_words_is_refused_before_the_database(
    make_client: Any, account: TestAccount
) -> None:
    client: TestClient = make_client()
    words = " ".join(["ab"] * 20_000)  # took a minute, then a 500: too many bound parameters
    response = client.request(
        "GET",
        "/search",
        json={"scope": "link", "query": words},
        auth=auth(account.test.secret_key),
    )
    assert response.status_code == 400 and "at most" in response.json()["message"]
    sign_in(client, account.test.secret_key)
    page = client.get("/dashboard/links", params={"q": " ".join(["ab"] * 33)})
    assert "at most 10 words" in page.text


def test_json_boolean_filters_are_echoed_as_json_words(
    client: TestClient, account: TestAccount
) -> None:
    response = client.request(
        "GET",
        "/search",
        content=b'{"scope": "link", "filters": {"multiple": false}}',
        headers={"content-type": "application/json"},
        auth=auth(account.test.secret_key),
    )
    assert response.json()["filters"] == {"multiple": "false"}
