"""Seed "Monitor link performance": a link's payments and revenue, computed from the link as
the seed does (with the official SDK), and paylinks' own `GET /links/:id/stats` (views and
conversion too) through `paylinks.client`.

    PAYLINKS_SECRET_KEY=skey_test_… python examples/link_stats.py [LINK_ID]
"""

from __future__ import annotations

import sys

import omise
from _setup import API_URL, PUBLIC_KEY, SECRET_KEY, use_paylinks

from paylinks.client import Client

CARD = {
    "name": "Somchai Prasert",
    "expiration_month": 12,
    "expiration_year": 2035,
    "security_code": "123",
}


def seed_stats(link_id: str) -> dict[str, int]:
    """As the seed computes them, from the link's embedded charges."""
    link = omise.Link.retrieve(link_id)
    charges = link.charges.data  # the SDK hands embedded charges over as plain dicts
    paid = [c for c in charges if c["status"] == "successful"]
    return {
        "total_charges": link.charges.total,
        "successful_payments": len(paid),
        "failed_payments": len([c for c in charges if c["status"] == "failed"]),
        "total_revenue": sum(c["amount"] for c in paid),
    }


def demo_link(api: Client) -> str:
    """A link with two payments and a decline, so that there is something to count."""
    link = api.create_link(amount=50000, currency="thb", title="Stats demo", multiple=True)
    for number in ("4242424242424242", "4242424242424242", "4111111111140011"):
        token = api.create_token({**CARD, "number": number})
        api.create_charge(card=token["id"], link=link["id"])
    return str(link["id"])


def main() -> None:
    use_paylinks()
    with Client(API_URL, SECRET_KEY, public_key=PUBLIC_KEY or None) as api:
        link_id = sys.argv[1] if len(sys.argv) > 1 else demo_link(api)
        print("seed's way:", seed_stats(link_id))
        stats = api.link_stats(link_id)
    print("GET /links/:id/stats:", {k: v for k, v in stats.items() if k not in ("object",)})


if __name__ == "__main__":
    main()
