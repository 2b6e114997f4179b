"""GET /links: limit, offset, order, from/to, total, the echo — as every client sends them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from factories import TestAccount, auth
from starlette.testclient import TestClient

from paylinks.clock import FrozenClock

Factory = Any


def make_links(client: TestClient, key: str, count: int) -> list[str]:
    ids = []
    for i in range(count):
        body = {"amount": 100000 + i, "currency": "thb", "title": f"Link {i}"}
        response = client.post("/links", auth=auth(key), json=body)
        assert response.status_code == 200
        ids.append(response.json()["id"])
    return ids


def page(client: TestClient, key: str, **params: Any) -> dict[str, Any]:
    response = client.get("/links", params=params, auth=auth(key))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_default_page_and_echo(client: TestClient, account: TestAccount) -> None:
    key = account.test.secret_key
    ids = make_links(client, key, 25)
    listing = page(client, key)
    assert listing["object"] == "list"
    assert [link["id"] for link in listing["data"]] == ids[:20]
    assert listing["limit"] == 20 and listing["offset"] == 0 and listing["total"] == 25
    assert listing["order"] == "chronological" and listing["location"] == "/links"
    assert listing["from"] == "1970-01-01T00:00:00Z"
    assert listing["to"].endswith("Z")
    assert all(link["object"] == "link" for link in listing["data"])


def test_offset_limit_and_reverse_order(client: TestClient, account: TestAccount) -> None:
    key = account.test.secret_key
    ids = make_links(client, key, 7)
    assert [x["id"] for x in page(client, key, limit=3, offset=2)["data"]] == ids[2:5]
    reverse = page(client, key, limit=3, order="reverse_chronological")
    assert [x["id"] for x in reverse["data"]] == ids[::-1][:3]
    assert page(client, key, offset=100)["data"] == []
    assert page(client, key, limit=0)["data"] == [] and page(client, key, limit=0)["total"] == 7


def test_limit_100_is_honoured_and_larger_limits_clamped(
    client: TestClient, account: TestAccount
) -> None:
    key = account.test.secret_key
    make_links(client, key, 105)
    assert len(page(client, key, limit=100)["data"]) == 100
    clamped = page(client, key, limit=500)
    assert len(clamped["data"]) == 100 and clamped["limit"] == 100 and clamped["total"] == 105


def test_pages_are_stable_when_timestamps_tie(make_client: Factory, account: TestAccount) -> None:
    client = make_client(clock=FrozenClock(datetime(2026, 2, 6, 10, 30, tzinfo=UTC)))
    key = account.test.secret_key
    ids = make_links(client, key, 9)
    forward = [
        x["id"] for o in range(0, 9, 2) for x in page(client, key, limit=2, offset=o)["data"]
    ]
    assert forward == ids
    backward = [
        x["id"]
        for o in range(0, 9, 4)
        for x in page(client, key, limit=4, offset=o, order="reverse_chronological")["data"]
    ]
    assert backward == ids[::-1]


def test_from_and_to_filter_and_total_counts_matches(
    make_client: Factory, account: TestAccount
) -> None:
    clock = FrozenClock(datetime(2026, 1, 31, 12, 0, tzinfo=UTC))
    client = make_client(clock=clock)
    key = account.test.secret_key
    jan = make_links(client, key, 2)
    clock.advance(86400)  # 2026-02-01
    feb = make_links(client, key, 3)
    clock.advance(86400)  # 2026-02-02
    later = make_links(client, key, 1)
    only_feb_first = page(client, key, **{"from": "2026-02-01", "to": "2026-02-01"})
    assert [x["id"] for x in only_feb_first["data"]] == feb
    assert only_feb_first["total"] == 3
    assert only_feb_first["from"] == "2026-02-01T00:00:00Z"
    assert only_feb_first["to"] == "2026-02-01T23:59:59Z"
    since = page(client, key, **{"from": "2026-02-01T12:00:00Z"})
    assert [x["id"] for x in since["data"]] == feb + later and since["total"] == 4
    until = page(client, key, to="2026-01-31T12:00:00+00:00")
    assert [x["id"] for x in until["data"]] == jan and until["total"] == 2
    assert page(client, key)["total"] == 6


def test_trailing_slash_lists_too(client: TestClient, account: TestAccount) -> None:
    key = account.test.secret_key
    make_links(client, key, 2)
    response = client.get("/links/", auth=auth(key))
    assert response.status_code == 200 and response.json()["total"] == 2


def test_python_sdk_style_json_body_on_get(client: TestClient, account: TestAccount) -> None:
    key = account.test.secret_key
    ids = make_links(client, key, 5)
    body = json.dumps({"from": None, "limit": 2, "offset": 1, "order": None, "to": None})
    response = client.request(
        "GET", "/links", content=body, headers={"content-type": "application/json"}, auth=auth(key)
    )
    listing = response.json()
    assert [x["id"] for x in listing["data"]] == ids[1:3]
    assert listing["order"] == "chronological"


def test_node_sdk_style_empty_query_values_are_absent(
    client: TestClient, account: TestAccount
) -> None:
    key = account.test.secret_key
    ids = make_links(client, key, 3)
    response = client.get(
        "/links?limit=20&offset=0&order=reverse_chronological&from=2020-01-01T00%3A00%3A00Z&to=&metadata=",
        auth=auth(key),
    )
    assert [x["id"] for x in response.json()["data"]] == ids[::-1]


def test_curl_style_form_body_on_get(client: TestClient, account: TestAccount) -> None:
    key = account.test.secret_key
    make_links(client, key, 4)
    response = client.request(
        "GET",
        "/links",
        content="limit=1",
        headers={"content-type": "application/x-www-form-urlencoded"},
        auth=auth(key),
    )
    assert len(response.json()["data"]) == 1


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"limit": -1}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": -5}, "offset"),
        ({"order": "random"}, "order"),
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-13-45"}, "to"),
        ({"from": "2026-03-01", "to": "2026-02-01"}, "from"),
    ],
)
def test_bad_list_parameters_are_rejected(
    client: TestClient, account: TestAccount, params: dict[str, Any], fragment: str
) -> None:
    response = client.get("/links", params=params, auth=auth(account.test.secret_key))
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request" and fragment in response.json()["message"]


def test_rfc3339_lowercase_separators_are_accepted(
    client: TestClient, account: TestAccount
) -> None:
    key = account.test.secret_key
    make_links(client, key, 1)
    listing = page(client, key, **{"from": "2020-01-01t00:00:00z"})
    assert listing["total"] == 1 and listing["from"] == "2020-01-01T00:00:00Z"
