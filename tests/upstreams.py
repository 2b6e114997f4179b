"""A second paylinks in test mode as a live paylinks' Omise (the live-payments issue): tokens made
at its vault as Omise.js makes them, and the charges it holds for a paylinks charge or link."""

from __future__ import annotations

from typing import Any

import httpx
from factories import VISA_OK, card
from servers import LiveServer


def upstream_token(omise: LiveServer, number: str = VISA_OK) -> str:
    """A token made at the upstream's vault with its public key, as Omise.js makes one."""
    made = httpx.post(
        f"{omise.url}/tokens", auth=(omise.public_key, ""), json={"card": card(number)}
    )
    assert made.status_code == 200, made.text
    return str(made.json()["id"])


def upstream_charges(omise: LiveServer, key: str, value: str) -> list[dict[str, Any]]:
    """Every charge the upstream holds whose metadata names `key: value`."""
    found: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = httpx.get(
            f"{omise.url}/charges?limit=100&offset={offset}", auth=(omise.secret_key, "")
        ).json()
        found += [c for c in page["data"] if (c.get("metadata") or {}).get(key) == value]
        offset += len(page["data"])
        if not page["data"] or offset >= page["total"]:
            return found
