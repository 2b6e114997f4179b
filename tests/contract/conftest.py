"""The contract tests' one fixture: a `Ctx` over a client, two accounts and monkeypatch."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from checker import Ctx
from factories import TestAccount
from starlette.testclient import TestClient

from paylinks.db import Database


@pytest.fixture
def ctx(
    client: TestClient,
    make_client: Callable[..., TestClient],
    account: TestAccount,
    other_account: TestAccount,
    monkeypatch: pytest.MonkeyPatch,
    db: Database,
) -> Ctx:
    return Ctx(client, make_client, account, other_account, monkeypatch, db=db)
