"""Helpers shared by tests (plain functions; fixtures live in conftest.py)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, NoReturn

import pytest

from paylinks.accounts import service as accounts
from paylinks.clock import SystemClock
from paylinks.db import Database


@dataclass
class TestAccount:
    __test__ = False
    id: str
    pk: int
    test: accounts.KeyPair
    live: accounts.KeyPair


def make_account(db: Database, name: str = "Test merchant") -> TestAccount:
    with db.transaction() as conn:
        account, keys = accounts.create_account(conn, name=name, now=SystemClock().now())
    return TestAccount(account.id, account.pk, keys["test"], keys["live"])


def auth(key: str) -> tuple[str, str]:
    """HTTP Basic credentials as every Omise SDK sends them: the key and an empty password."""
    return (key, "")


def stable(link: dict[str, Any]) -> dict[str, Any]:
    """A link without the one field that moves by itself: its charges list's `to`, which echoes
    the time of the request."""
    charges = {k: v for k, v in link["charges"].items() if k != "to"}
    return {**link, "charges": charges}


def unavailable(reason: str) -> NoReturn:
    """A tool a test needs is missing: a failure where the run requires every tool (`.ci/run`
    sets PAYLINKS_REQUIRE_TOOLS=1; `CI` and PAYLINKS_REQUIRE_BROWSER=1 count too), a skip on a
    workstation."""
    required = any(
        os.environ.get(name) not in (None, "", "0")
        for name in ("PAYLINKS_REQUIRE_TOOLS", "PAYLINKS_REQUIRE_BROWSER", "CI")
    )
    if required:
        pytest.fail(f"required in this run, but {reason}")
    pytest.skip(reason)
