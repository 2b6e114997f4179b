"""Contract tests: the official SDKs and curl against a real `paylinks serve` process.

One server per backend per module: starting a process costs about a second, so the tests of a
module share it and stay independent by working in accounts or links of their own.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import omise
import pytest
from servers import LiveServer, live_server

SDK_SETTINGS = ("api_secret", "api_public", "api_main", "api_vault", "api_version")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A live server on a fresh SQLite file or on the session's PostgreSQL database.

    `live_server` turns rate limits and the active-link cap off. `serve` migrates SQLite itself
    but refuses an unmigrated PostgreSQL, which the session `postgres_database` fixture migrates.
    """
    if request.param == "sqlite":
        database_url = f"sqlite:///{tmp_path_factory.mktemp('compat') / 'paylinks.db'}"
    else:
        request.getfixturevalue("postgres_database")
        database_url = request.getfixturevalue("postgres_url")
    with live_server(database_url) as live:
        yield live


@pytest.fixture
def api(server: LiveServer) -> Iterator[httpx.Client]:
    """Plain HTTP with the server's secret key, to check what an SDK did from the outside."""
    with httpx.Client(base_url=server.url, auth=(server.secret_key, ""), timeout=10) as client:
        yield client


@pytest.fixture
def sdk(server: LiveServer) -> Iterator[None]:
    """The Python SDK's globals pointed at the live server (as omise-compat §1.1 and the README
    tell users to), and put back as they were afterwards."""
    saved = {name: getattr(omise, name) for name in SDK_SETTINGS}
    omise.api_secret = server.secret_key
    omise.api_public = server.public_key
    omise.api_main = server.url
    omise.api_vault = server.url
    omise.api_version = None  # the SDK's default: no Omise-Version header
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(omise, name, value)
