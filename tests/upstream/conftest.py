"""The live side and its Omise for the tests of live payments: a second paylinks in test mode
as Omise (one per module), a fault-injecting proxy in between, and an in-process live app whose
account is connected to it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from factories import TestAccount
from faults import FaultProxy, fault_proxy
from servers import LiveServer, live_server
from starlette.testclient import TestClient
from upstreams import TIMEOUT, connect

from paylinks.db import Database


@pytest.fixture(scope="module")
def omise(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The upstream: a paylinks in test mode, as Omise."""
    with live_server(f"sqlite:///{tmp_path_factory.mktemp('omise') / 'omise.db'}") as upstream:
        yield upstream


@pytest.fixture(scope="module")
def proxy(omise: LiveServer) -> Iterator[FaultProxy]:
    with fault_proxy(omise.url) as between:
        yield between


@pytest.fixture
def live(
    make_client: Any, db: Database, account: TestAccount, omise: LiveServer,
    proxy: FaultProxy,
) -> TestClient:  # fmt: skip
    """The live side: an app whose Omise is the upstream behind the proxy, the account
    connected to it."""
    connect(db, account, omise)
    return make_client(omise_api_url=proxy.url, omise_timeout_seconds=TIMEOUT)
