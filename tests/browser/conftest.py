"""Browser tests: Debian's Chromium, driven by Playwright, against a real `paylinks serve`.

They skip when /usr/bin/chromium or the playwright package is missing, unless
PAYLINKS_REQUIRE_BROWSER=1 (set by .ci/run) turns that into a failure. Playwright never downloads
a browser here: it launches the system Chromium by path.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from factories import unavailable
from servers import LiveServer, live_server
from visitor import Visitor

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# Module scope, not session: while Playwright's sync API runs, its event loop is the thread's
# running loop, and later tests calling asyncio.run() in the same process would fail.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is missing (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def server(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server on a fresh SQLite file for the module (the route tests cover PostgreSQL);
    started after the browser so that a skip costs nothing."""
    database_url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'paylinks.db'}"
    with live_server(database_url, env={"PAYLINKS_CHECKOUT_IP_LIMITS": "60/minute"}) as live:
        yield live


@pytest.fixture
def api(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, auth=(server.secret_key, ""), timeout=10) as client:
        yield client


@pytest.fixture
def visitor(browser: Any) -> Iterator[Visitor]:
    tab = Visitor(browser, width=412, height=915)
    yield tab
    tab.context.close()


@pytest.fixture
def desktop(browser: Any) -> Iterator[Visitor]:
    tab = Visitor(browser, width=1280, height=900)
    yield tab
    tab.context.close()


@pytest.fixture
def phone(browser: Any) -> Iterator[Visitor]:
    tab = Visitor(browser, width=360, height=740)
    yield tab
    tab.context.close()
