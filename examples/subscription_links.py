"""Seed example 4: a single-use link per subscription per month, to e-mail to the customer.
Uses the official `omise` SDK, pointed at paylinks.

    PAYLINKS_SECRET_KEY=skey_test_… python examples/subscription_links.py
"""

from __future__ import annotations

from datetime import UTC, datetime

import omise
from _setup import use_paylinks

SUBSCRIPTIONS = [
    {"id": "SUB-001", "customer_id": "CUST-123", "plan": "Premium", "monthly_amount": 99000},
    {"id": "SUB-002", "customer_id": "CUST-456", "plan": "Business", "monthly_amount": 299000},
]


def monthly_link(subscription: dict[str, object], today: datetime) -> omise.Link:
    month = today.strftime("%B %Y")
    return omise.Link.create(
        amount=subscription["monthly_amount"],
        currency="thb",
        title=f"{subscription['plan']} - {month}",
        description=f"Monthly payment for {subscription['plan']} subscription",
        multiple=False,  # each month gets its own link
        metadata={
            "subscription_id": subscription["id"],
            "customer_id": subscription["customer_id"],
            "billing_month": today.strftime("%Y-%m"),
        },
    )


def main() -> None:
    use_paylinks()
    today = datetime.now(UTC)
    for subscription in SUBSCRIPTIONS:
        link = monthly_link(subscription, today)
        print(f"{subscription['customer_id']}: {link.payment_uri}  ({link.title})")


if __name__ == "__main__":
    main()
