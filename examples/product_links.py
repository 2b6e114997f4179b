"""Seed example 1: one reusable payment link per product, with the product in its metadata.
Uses the official `omise` SDK, pointed at paylinks.

    PAYLINKS_SECRET_KEY=skey_test_… python examples/product_links.py
"""

from __future__ import annotations

import omise
from _setup import use_paylinks

PRODUCTS = [
    {"id": "SHIRT-001", "name": "Cotton T-shirt", "price": 59000},
    {"id": "CAP-002", "name": "Baseball cap", "price": 39000},
    {"id": "BAG-003", "name": "Canvas tote bag", "price": 45000},
]


def main() -> None:
    use_paylinks()
    for product in PRODUCTS:
        link = omise.Link.create(
            amount=product["price"],
            currency="thb",
            title=product["name"],
            description=f"Purchase {product['name']}",
            multiple=True,  # many customers may buy through one link
            metadata={"product_id": product["id"], "category": "apparel"},
        )
        # Store link.id and link.payment_uri with the product (here: print them).
        print(f"{product['id']}  {link.id}  {link.payment_uri}")


if __name__ == "__main__":
    main()
