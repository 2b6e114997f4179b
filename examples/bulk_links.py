"""Seed example 5 done right: many links at once, with concurrency that stays inside the rate
limit (the server's own headers say when to wait), an Idempotency-Key per item so a re-run
never duplicates, and a CSV of title and payment_uri. Uses `paylinks.client` (async). For
spreadsheets, `paylinks links bulk-create ITEMS.csv --out LINKS.csv` does the same and more.

    PAYLINKS_SECRET_KEY=skey_test_… python examples/bulk_links.py [COUNT] > links.csv
"""

from __future__ import annotations

import asyncio
import csv
import sys
import time

from _setup import API_URL, SECRET_KEY

from paylinks.client import AsyncClient, PaylinksError


def products(count: int) -> list[dict[str, object]]:
    return [
        {"title": f"Product {i}", "amount": 50_000 + 1000 * i, "description": f"Item {i}"}
        for i in range(1, count + 1)
    ]


async def create_all(items: list[dict[str, object]], workers: int = 4) -> list[tuple[str, str]]:
    made: list[tuple[str, str]] = []
    failed: list[tuple[object, str]] = []
    queue: asyncio.Queue[dict[str, object]] = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)
    async with AsyncClient(API_URL, SECRET_KEY) as api:

        async def worker() -> None:
            while not queue.empty():
                item = queue.get_nowait()
                window = api.rate_limit
                if window is not None and window.remaining <= 0:  # wait for the reset, no more
                    await asyncio.sleep(max(0.0, window.reset - time.time()))
                try:
                    link = await api.create_link(
                        currency="thb",
                        multiple=True,
                        idempotency_key=f"bulk-{item['title']}",
                        **item,
                    )
                    made.append((str(item["title"]), link["payment_uri"]))
                except PaylinksError as error:
                    failed.append((item["title"], str(error)))

        await asyncio.gather(*(worker() for _ in range(workers)))
    for title, reason in failed:
        print(f"failed: {title}: {reason}", file=sys.stderr)
    return made


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 25
    made = asyncio.run(create_all(products(count)))
    writer = csv.writer(sys.stdout)
    writer.writerow(["title", "payment_uri"])
    writer.writerows(sorted(made))
    print(f"created {len(made)} of {count}", file=sys.stderr)


if __name__ == "__main__":
    main()
