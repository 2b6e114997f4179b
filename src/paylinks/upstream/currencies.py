"""Which currencies a connected account's Omise takes: read from Omise's capability object when
the account connects, kept with the connection, and checked when a live link is made, so that a
customer is never sent to pay a link Omise would refuse."""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paylinks.auth import Principal
from paylinks.errors import InvalidCurrency
from paylinks.models import omise_connections


def capability_currencies(capability: dict[str, Any]) -> list[str]:
    """The currencies Omise's capability object lists for any payment method, lower case."""
    methods = capability.get("payment_methods")
    found: set[str] = set()
    for method in methods if isinstance(methods, list) else []:
        if isinstance(method, dict) and isinstance(method.get("currencies"), list):
            found |= {str(c).lower() for c in method["currencies"]}
    return sorted(found)


def check_live_currency(conn: Connection, *, principal: Principal, currency: str) -> None:
    """`InvalidCurrency` for a live link in a currency the account's Omise does not take. An
    account not connected yet has nothing to check against (its live charges wait anyway)."""
    if not principal.livemode:
        return
    query = sa.select(omise_connections.c.currencies).where(
        omise_connections.c.account_pk == principal.account_pk
    )
    stored = conn.execute(query).scalar()
    if stored is None:
        return
    taken: list[str] = orjson.loads(stored)
    if currency.lower() not in taken:
        listed = ", ".join(c.upper() for c in taken) or "none"
        raise InvalidCurrency(
            f"the connected Omise account does not take {currency.upper()} (it takes {listed})"
        )
