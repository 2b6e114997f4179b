"""Helpers shared by tests (plain functions; fixtures live in conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
