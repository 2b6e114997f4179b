"""Seed example 3: a link per ticket type for an event. paylinks links take a `usage_limit`
(an extension), so a link stops taking payments when the tickets are sold: no overselling.
Uses the official `omise` SDK (it passes the extra field through), pointed at paylinks.

    PAYLINKS_SECRET_KEY=skey_test_… python examples/event_tickets.py
"""

from __future__ import annotations

import omise
from _setup import use_paylinks

EVENT = {
    "id": "workshop-2026",
    "name": "Payments Workshop 2026",
    "tickets": [
        {"type": "early_bird", "price": 150000, "available": 20},
        {"type": "regular", "price": 250000, "available": 100},
    ],
}


def main() -> None:
    use_paylinks()
    for ticket in EVENT["tickets"]:
        link = omise.Link.create(
            amount=ticket["price"],
            currency="thb",
            title=f"{EVENT['name']} - {ticket['type'].replace('_', ' ').upper()} Ticket",
            description=f"Register for {EVENT['name']}",
            multiple=True,
            usage_limit=ticket["available"],  # paylinks: at most this many payments
            metadata={"event_id": EVENT["id"], "ticket_type": ticket["type"]},
        )
        print(f"{ticket['type']}: {link.payment_uri} (up to {link.usage_limit} tickets)")


if __name__ == "__main__":
    main()
