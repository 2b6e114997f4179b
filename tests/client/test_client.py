"""The API client: against a real server for the calls and the error codes, and against
`httpx.MockTransport` for what a real server never sends (redirects, proxy pages, hangs)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from servers import LiveServer, free_port, live_server

from paylinks.client import (
    NO_RETRIES,
    AsyncClient,
    Client,
    PaylinksConnectionError,
    PaylinksError,
    RetryPolicy,
)

pytestmark = pytest.mark.slow

UNKNOWN_LINK = "payl_test_0000000000000000000"
CARD = {
    "name": "Somchai Prasert",
    "number": "4242424242424242",
    "expiration_month": 12,
    "expiration_year": datetime.now(UTC).year + 3,
    "security_code": "123",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    database_url = f"sqlite:///{tmp_path_factory.mktemp('client') / 'paylinks.db'}"
    with live_server(database_url, env={"PAYLINKS_DELIVER_WEBHOOKS": "false"}) as live:
        yield live


@pytest.fixture
def api(server: LiveServer) -> Iterator[Client]:
    with Client(server.url, server.secret_key, public_key=server.public_key) as client:
        yield client


def new_link(api: Client, **fields: Any) -> dict[str, Any]:
    return api.create_link(**{"amount": 50000, "currency": "thb", "title": "A mug", **fields})


# -- against a real server ----------------------------------------------------------------------


def test_link_lifecycle_create_retrieve_update_destroy(api: Client) -> None:
    link = new_link(api, metadata={"order": "42"})
    assert link["object"] == "link"
    assert (link["amount"], link["currency"], link["metadata"]) == (50000, "thb", {"order": "42"})

    assert api.retrieve_link(link["id"])["id"] == link["id"]
    updated = api.update_link(link["id"], description="Blue, 350 ml")
    assert updated["description"] == "Blue, 350 ml"
    assert api.retrieve_link(link["id"])["description"] == "Blue, 350 ml"

    destroyed = api.destroy_link(link["id"])
    assert destroyed["id"] == link["id"]
    assert destroyed["deleted"] is True


def test_token_and_charge_against_a_link(api: Client) -> None:
    link = new_link(api)
    token = api.create_token(CARD)
    assert token["object"] == "token"
    assert token["card"]["last_digits"] == "4242"

    charge = api.create_charge(card=token["id"], link=link["id"])
    assert charge["status"] == "successful"
    assert (charge["amount"], charge["currency"], charge["link"]) == (50000, "thb", link["id"])
    assert api.retrieve_charge(charge["id"])["status"] == "successful"

    events = api.charge_events(charge["id"])
    assert [e["key"] for e in events["data"]] == ["charge.create", "charge.complete"]
    assert {e["data"]["id"] for e in events["data"]} == {charge["id"]}


def test_token_with_only_a_secret_key(server: LiveServer) -> None:
    with Client(server.url, server.secret_key) as api:
        assert api.create_token(CARD)["id"].startswith("tokn_test_")


def test_list_events_pages_in_order_and_filters_by_time(api: Client) -> None:
    first = new_link(api)
    second = new_link(api)
    page = api.list_events(limit=100, order="reverse_chronological")
    ids = [e["data"]["id"] for e in page["data"] if e["key"] == "link.create"]
    assert ids.index(second["id"]) < ids.index(first["id"])

    one = api.list_events(limit=1, offset=1, order="reverse_chronological")
    assert (one["limit"], one["offset"], len(one["data"])) == (1, 1, 1)
    assert one["data"][0]["id"] == page["data"][1]["id"]

    future = datetime(2100, 1, 1, tzinfo=UTC)
    assert api.list_events(from_=future)["data"] == []
    assert api.list_events(to="1999-12-31T00:00:00Z")["data"] == []
    assert api.list_events(from_=future)["from"] == "2100-01-01T00:00:00Z"


def test_unknown_link_is_not_found(api: Client) -> None:
    with pytest.raises(PaylinksError) as caught:
        api.retrieve_link(UNKNOWN_LINK)
    assert (caught.value.status, caught.value.code) == (404, "not_found")
    assert UNKNOWN_LINK in caught.value.message
    assert caught.value.location is not None


def test_wrong_key_is_an_authentication_failure(server: LiveServer) -> None:
    with (
        Client(server.url, "skey_test_" + "x" * 32) as api,
        pytest.raises(PaylinksError) as caught,
    ):
        api.list_events()
    assert (caught.value.status, caught.value.code) == (401, "authentication_failure")


def test_invalid_fields_carry_the_servers_code(api: Client) -> None:
    with pytest.raises(PaylinksError) as caught:
        api.create_link(amount=-5, currency="thb", title="Negative")
    assert (caught.value.status, caught.value.code) == (400, "invalid_amount")

    with pytest.raises(PaylinksError) as caught:
        api.create_charge(
            card="tokn_test_0000000000000000000", link="payl_test_0000000000000000000"
        )
    assert caught.value.status == 404
    assert caught.value.code == "not_found"


def test_an_id_cannot_name_another_path(api: Client) -> None:
    with pytest.raises(PaylinksError) as caught:
        api.retrieve_link("../charges")
    assert caught.value.code == "not_found"
    with pytest.raises(ValueError, match="object id"):
        api.retrieve_link("")


def test_closed_port_is_a_connection_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with Client(url, "skey_test_x") as api, pytest.raises(PaylinksConnectionError) as caught:
        api.retrieve_link("payl_test_x")
    assert isinstance(caught.value, PaylinksError)
    assert caught.value.status is None
    assert caught.value.code == "connection_error"
    assert f"cannot reach the paylinks API at {url}" in str(caught.value)


# -- what only a mock can send -----------------------------------------------------------------


def mocked(handler: Any, **options: Any) -> Client:
    """A client on a scripted transport; no retries unless the test asks, and no real sleeps."""
    return Client(
        "http://paylinks.test/api/",
        "skey_test_k",
        transport=httpx.MockTransport(handler),
        **{"retries": NO_RETRIES, "sleep": lambda _s: None, **options},
    )


def test_requests_send_basic_auth_and_json_bodies() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"object": "link", "id": "payl_test_1"})

    with mocked(handler, public_key="pkey_test_p") as api:
        api.create_link(amount=100, metadata={"a": "b"})
        api.create_token({"number": "4242424242424242"})
        api.retrieve_link("payl_test_1/x y")
    create, token, retrieve = seen
    assert create.url == "http://paylinks.test/api/links"
    assert create.headers["content-type"] == "application/json"
    assert json.loads(create.content) == {"amount": 100, "metadata": {"a": "b"}}
    assert create.headers["authorization"] == basic("skey_test_k")
    assert token.headers["authorization"] == basic("pkey_test_p")
    assert json.loads(token.content) == {"card": {"number": "4242424242424242"}}
    assert retrieve.url.raw_path == b"/api/links/payl_test_1%2Fx%20y"


def basic(user: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:".encode()).decode()


def test_list_events_sends_only_given_parameters_with_times_in_utc() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"object": "list", "data": []})

    bangkok = timezone(timedelta(hours=7))
    with mocked(handler) as api:
        api.list_events(limit=5, from_=datetime(2026, 11, 24, 9, 50, 7, 999999, tzinfo=bangkok))
    assert dict(seen[0].url.params) == {"limit": "5", "from": "2026-11-24T02:50:07Z"}


@pytest.mark.parametrize(
    ("response", "code"),
    [
        (httpx.Response(502, text="<html>Bad Gateway</html>"), "unexpected_response"),
        (
            httpx.Response(302, headers={"location": "http://elsewhere.test/"}),
            "unexpected_response",
        ),
        (httpx.Response(200, text="not json"), "invalid_response"),
        (httpx.Response(200, json=[1, 2]), "invalid_response"),
    ],
)
def test_answers_that_are_not_the_apis_json_raise(response: httpx.Response, code: str) -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return response

    with mocked(handler) as api, pytest.raises(PaylinksError) as caught:
        api.retrieve_charge("chrg_test_1")
    assert (caught.value.status, caught.value.code) == (response.status_code, code)
    assert "GET http://paylinks.test/api/charges/chrg_test_1" in caught.value.message
    assert len(calls) == 1  # the redirect was not followed


def test_a_timeout_is_a_connection_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with mocked(handler) as api, pytest.raises(PaylinksConnectionError, match="in time"):
        api.list_events()


# -- retries, idempotency keys, pages -------------------------------------------------------------


def error_answer(status: int, code: str, **headers: str) -> httpx.Response:
    body = {"object": "error", "location": "x", "code": code, "message": code}
    return httpx.Response(status, json=body, headers=headers)


def test_writes_are_retried_with_one_idempotency_key_and_retry_after_is_honoured() -> None:
    seen: list[httpx.Request] = []
    script = [
        error_answer(429, "too_many_requests", **{"Retry-After": "7"}),
        httpx.ConnectError("refused"),
        error_answer(503, "internal_error"),
        httpx.Response(200, json={"object": "link", "id": "payl_test_1"}),
    ]
    waits: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = script.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    api = mocked(handler, retries=RetryPolicy(attempts=5), sleep=waits.append)
    assert api.create_link(amount=1, currency="thb", title="t")["id"] == "payl_test_1"
    keys = {r.headers["idempotency-key"] for r in seen}
    assert len(seen) == 4 and len(keys) == 1 and keys.pop().startswith("pl-")
    assert waits[0] == 7 and all(0 <= w <= 8 for w in waits[1:])


def test_final_answers_are_not_retried_and_reads_carry_no_key() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return error_answer(404, "not_found")

    api = mocked(handler, retries=RetryPolicy(attempts=5))
    with pytest.raises(PaylinksError) as caught:
        api.retrieve_link("payl_test_x")
    assert caught.value.code == "not_found" and len(seen) == 1
    assert "idempotency-key" not in seen[0].headers


def test_retries_give_up_after_the_attempts() -> None:
    count = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        count["n"] += 1
        return error_answer(500, "internal_error")

    with pytest.raises(PaylinksError) as caught:
        mocked(handler, retries=RetryPolicy(attempts=3)).list_links()
    assert caught.value.status == 500 and count["n"] == 3


def test_a_given_key_is_sent_as_is() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"object": "charge", "id": "chrg_test_1"})

    mocked(handler).create_charge(amount=1, currency="thb", card="t", idempotency_key="row-7")
    assert seen[0].headers["idempotency-key"] == "row-7"


def test_iterators_page_through_more_than_a_hundred(api: Client) -> None:
    marker = f"pages-{datetime.now(UTC).timestamp()}"
    made = {new_link(api, description=marker)["id"] for _ in range(130)}
    found = [link["id"] for link in api.links(order="reverse_chronological")]
    assert made <= set(found) and len(found) == len(set(found))


def test_the_async_client_makes_the_same_calls(server: LiveServer) -> None:
    import asyncio

    async def scenario() -> tuple[dict[str, Any], list[str]]:
        async with AsyncClient(server.url, server.secret_key) as api:
            made = await api.create_link(amount=50000, currency="thb", title="Async mug")
            got = await api.retrieve_link(made["id"])
            ids = [link["id"] async for link in api.links(order="reverse_chronological")]
            with pytest.raises(PaylinksError) as caught:
                await api.retrieve_link("payl_test_missing")
            assert caught.value.code == "not_found"
            return got, ids

    got, ids = asyncio.run(scenario())
    assert got["title"] == "Async mug" and got["id"] in ids


def test_the_server_rate_limit_is_waited_out(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'limited.db'}"
    with live_server(url, env={"PAYLINKS_RATE_LIMITS": "5/2seconds"}) as limited:
        waits: list[float] = []

        def sleep(seconds: float) -> None:
            waits.append(seconds)
            time.sleep(seconds)

        with Client(limited.url, limited.secret_key, sleep=sleep) as api:
            made = [new_link(api)["id"] for _ in range(12)]
        assert len(set(made)) == 12 and waits  # some were refused with 429, then retried
        assert api.rate_limit is not None and api.rate_limit.limit == 5
        with Client(limited.url, limited.secret_key) as check:
            assert check.list_links(limit=0)["total"] == 12  # no duplicates from the retries
