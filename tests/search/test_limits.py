"""Search is bounded: at most 10 words and 200 characters of query, and a search never holds up
other requests (on SQLite it runs off the event loop)."""

from __future__ import annotations

import asyncio
import html
import threading
from typing import Any

import anyio
import httpx
import pytest
from factories import TestAccount, auth, quiet_settings, sign_in
from starlette.testclient import TestClient

from paylinks.app import create_app
from paylinks.db import Database
from paylinks.links import search as links_search


def get_search(client: TestClient, key: str, query: str) -> httpx.Response:
    return client.get("/search", params={"scope": "link", "query": query}, auth=auth(key))


def test_the_limits_are_ten_words_and_two_hundred_characters() -> None:
    from paylinks.search.service import MAX_QUERY_LENGTH, MAX_QUERY_WORDS

    assert (MAX_QUERY_WORDS, MAX_QUERY_LENGTH) == (10, 200)


def test_eleven_words_are_refused(client: TestClient, account: TestAccount) -> None:
    response = get_search(client, account.test.secret_key, " ".join("abcdefghijk"))
    assert response.status_code == 400
    error = response.json()
    assert error["object"] == "error" and error["code"] == "bad_request"
    assert "at most 10 words" in error["message"]


def test_two_hundred_and_one_characters_are_refused(
    client: TestClient, account: TestAccount
) -> None:
    response = get_search(client, account.test.secret_key, "x" * 201)
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "bad_request" and "at most 200 characters" in error["message"]
    # Spaces count: a query of few words padded with whitespace is still too long.
    padded = get_search(client, account.test.secret_key, "shirt" + " " * 196)
    assert padded.status_code == 400 and padded.json()["code"] == "bad_request"


def test_the_limits_apply_to_a_json_body_too(client: TestClient, account: TestAccount) -> None:
    response = client.request(
        "GET",
        "/search",
        json={"scope": "link", "query": " ".join(["word"] * 11)},
        auth=auth(account.test.secret_key),
    )
    assert response.status_code == 400 and response.json()["code"] == "bad_request"


def test_ten_words_and_two_hundred_characters_are_accepted(
    client: TestClient, account: TestAccount
) -> None:
    key = account.test.secret_key
    words = ["Consulting", "services", "for", "the", "month", "of", "May", "ab", "x", "%_\\"]
    title = " ".join(words)
    created = client.post("/links", auth=auth(key), json={"amount": 100000, "currency": "thb",
                                                          "title": title})  # fmt: skip
    assert created.status_code == 200, created.text
    ten = get_search(client, key, " ".join(reversed(words)))
    assert ten.status_code == 200, ten.text
    assert [link["id"] for link in ten.json()["data"]] == [created.json()["id"]]
    # Exactly 200 characters in 10 words: accepted.
    longest = " ".join(["m" * 19] * 10)[:-1] + "mm"
    assert len(longest) == 200 and len(longest.split()) == 10
    at_limit = get_search(client, key, longest)
    assert at_limit.status_code == 200 and at_limit.json()["total"] == 0


def test_the_dashboard_says_what_is_wrong_with_a_long_query(
    client: TestClient, account: TestAccount
) -> None:
    sign_in(client, account.test.secret_key)
    page = client.get("/dashboard/links", params={"q": " ".join("abcdefghijk")})
    assert page.status_code == 200
    assert 'role="alert"' in page.text
    assert "at most 10 words" in html.unescape(page.text)
    page = client.get("/dashboard/links", params={"q": "y" * 201})
    assert page.status_code == 200 and "at most 200 characters" in html.unescape(page.text)
    # A NUL character is refused at the edge, before any page reads the query (a 400 page).
    page = client.get("/dashboard/links", params={"q": "abc\x00def"})
    assert page.status_code == 400 and "text/html" in page.headers["content-type"]


@pytest.mark.parametrize("where", ["api", "dashboard"])
def test_a_slow_search_does_not_hold_up_other_requests(
    db: Database, account: TestAccount, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """The search blocks (in its database function) until `GET /healthz` has been answered: if
    it ran on the event loop, nothing else could be answered until it gave up waiting, and the
    search would finish first."""
    entered, release = threading.Event(), threading.Event()
    search_links = links_search.search_links

    def slow_search(conn: Any, **kwargs: Any) -> Any:
        entered.set()
        release.wait(timeout=10)  # only a search that blocks the event loop waits this long
        return search_links(conn, **kwargs)

    monkeypatch.setattr(links_search, "search_links", slow_search)
    app = create_app(quiet_settings(), database=db)
    finished: list[str] = []

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            key = account.test.secret_key
            if where == "dashboard":
                signed = await http.post("/dashboard/sign-in", data={"secret_key": key})
                assert signed.status_code == 303, signed.text

            async def search() -> None:
                if where == "api":
                    response = await http.get(
                        "/search", params={"scope": "link", "query": "anything"}, auth=auth(key)
                    )
                else:
                    response = await http.get("/dashboard/links", params={"q": "anything"})
                assert response.status_code == 200, response.text
                finished.append("search")

            async def health() -> None:
                await asyncio.to_thread(entered.wait, 10)  # the search is under way
                response = await http.get("/healthz")
                assert response.status_code == 200
                finished.append("healthz")
                release.set()

            await asyncio.gather(search(), health())

    anyio.run(scenario)
    assert finished == ["healthz", "search"]
