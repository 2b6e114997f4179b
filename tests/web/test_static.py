"""Static files of the hosted page and the dashboard (issue 16): asked for by their current
version they are kept a year (`immutable`); anything else, a day; gzipped for a browser that
takes it, byte for byte the same file once unzipped."""

from __future__ import annotations

import re

import pytest
from factories import TestAccount, link, open_page
from starlette.testclient import TestClient

from paylinks.web.html import takes_gzip


def test_a_versioned_file_is_immutable_and_anything_else_is_kept_a_day(
    client: TestClient, account: TestAccount
) -> None:
    page = open_page(client, link(client, account)["id"])
    for url in re.findall(r'(?:href|src)="(/static/checkout/[\w.]+\?v=\w+)"', page):
        current = client.get(url, headers={"Accept-Encoding": "identity"})
        assert current.status_code == 200
        assert current.headers["cache-control"] == "public, max-age=31536000, immutable"
        bare = url.split("?")[0]
        for other in (bare, bare + "?v=000000000000"):  # an old page's, or none
            answer = client.get(other, headers={"Accept-Encoding": "identity"})
            assert answer.headers["cache-control"] == "public, max-age=86400"
            assert answer.content == current.content
    assert len(re.findall(r"/static/checkout/", page)) >= 2  # the stylesheet and the script


STYLESHEETS = ["/static/checkout/checkout.css", "/dashboard/static/dashboard.css"]


@pytest.mark.parametrize("area", STYLESHEETS)
def test_a_browser_that_takes_gzip_gets_it(client: TestClient, area: str) -> None:
    plain = client.get(area, headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and "content-encoding" not in plain.headers
    zipped = client.get(area, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["vary"] == "Accept-Encoding"
    assert zipped.content == plain.content  # the client unzipped it ...
    sent = int(zipped.headers["content-length"])
    assert sent < len(plain.content) / 2  # ... from under half the bytes


def test_the_accept_encoding_header_is_read_with_its_weights() -> None:
    assert takes_gzip("gzip") and takes_gzip("deflate, gzip;q=0.5") and takes_gzip("*")
    assert not takes_gzip("") and not takes_gzip("br, deflate") and not takes_gzip("gzip;q=0")
    assert not takes_gzip("gzip; q=0.000")


def test_the_payment_page_itself_is_gzipped_but_not_the_dashboard(
    client: TestClient, account: TestAccount
) -> None:
    """The page's HTML too (its form tokens change with every answer, so BREACH has no secret
    to guess); the dashboard's pages carry a session-long CSRF token, and stay plain."""
    path = f"/pay/{link(client, account)['id']}?locale=th"
    plain = client.get(path, headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and "content-encoding" not in plain.headers
    zipped = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert (
        zipped.headers["content-encoding"] == "gzip" and "Accept-Encoding" in zipped.headers["vary"]
    )
    assert int(zipped.headers["content-length"]) < len(plain.content) / 2
    assert "<form" in zipped.text and zipped.headers["cache-control"] == "no-store"
    small = client.get("/dashboard/sign-in", headers={"Accept-Encoding": "gzip"})
    assert small.status_code == 200 and "content-encoding" not in small.headers
