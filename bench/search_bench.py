"""Text search at 100,000 links: `GET /search` and the dashboard's `/dashboard/links?q=`, timed
in process (Starlette's TestClient, so no HTTP), mean of five after one warm-up. Then the longest
the event loop is held up while searches run (SQLite reads on the event loop hold up every
other request for the whole search). A benchmark, not a test.

    .venv/bin/python bench/search_bench.py                      # SQLite, in a temporary file
    .venv/bin/python bench/search_bench.py --database-url postgresql://postgres@127.0.0.1/x
                                                                # an empty, existing database
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from starlette.testclient import TestClient

from paylinks import migrate
from paylinks.app import create_app
from paylinks.clock import to_micros
from paylinks.db import Database
from paylinks.models import link_counters, links

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
from factories import auth, make_account, quiet_settings, sign_in

COUNT = 100_000
QUERIES = [
    ("rare word", "Item 9999"),  # "Item" is in every title, "9999" in 20 links
    ("metadata", "S77777"),
    ("description", "Desc 12345"),
    ("no match", "nothing-matches"),
    ("short words only", "99 Item"),  # "99" cannot use a trigram index
    ("every link matches", "Item"),
    ("10 words", "Item Desc 77 S77 777 7777 m77 e 7 S7777"),
]

parser = argparse.ArgumentParser()
parser.add_argument("--database-url", default="")
parser.add_argument("--count", type=int, default=COUNT)
args = parser.parse_args()

url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/search.db"
db = Database(url)
migrate.upgrade(db.write_engine)
acct = make_account(db)
now = to_micros(datetime.now(UTC))
rows = [
    dict(
        id=f"payl_test_{i:019d}",
        account_pk=acct.pk,
        livemode=False,
        amount=100000 + i,
        currency="thb",
        title=f"Item {i}",
        description=f"Desc {i}",
        multiple=i % 3 == 0,
        metadata=f'{{"sku": "S{i}"}}',
        used=i % 5 == 0,
        deleted=i % 7 == 0,
        paid_count=0,
        created_at=now - (args.count - i) * 1000,
        views=0,
    )
    for i in range(args.count)
]
t = time.perf_counter()
with db.transaction() as conn:
    for start in range(0, len(rows), 10_000):
        conn.execute(links.insert(), rows[start : start + 10_000])
    # The per-account total that creates keep (lists and search read it).
    conn.execute(link_counters.insert().values(account_pk=acct.pk, livemode=False, slot=0,
                                               count=args.count))  # fmt: skip
if not db.is_sqlite:  # as autovacuum would after a bulk load: statistics, GIN pending lists
    with db.write_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE links")
print(f"{db.write_engine.dialect.name}: seeded {args.count:,} links in "
      f"{time.perf_counter() - t:.1f} s")  # fmt: skip


def timed(client: TestClient, path: str, params: dict[str, Any], **kwargs: Any) -> float:
    client.get(path, params=params, **kwargs)
    n = 5
    t = time.perf_counter()
    for _ in range(n):
        response = client.get(path, params=params, **kwargs)
        assert response.status_code == 200, response.text
    return (time.perf_counter() - t) / n * 1000


async def loop_stalls(app: Any, queries: list[str], rounds: int = 9) -> None:
    """For each query, over `rounds` searches: the search's median time, and the longest the
    event loop was held up during each search (median and max over the rounds). A ticker wakes
    every millisecond; any longer gap is time no other request could be served. First the same
    for an idle loop: the machine's own noise."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        longest = 0.0

        async def ticker() -> None:
            nonlocal longest
            while True:
                t = time.perf_counter()
                await asyncio.sleep(0.001)
                longest = max(longest, time.perf_counter() - t - 0.001)

        ticking = asyncio.create_task(ticker())
        await asyncio.sleep(0.5)
        print(f"{'idle event loop, 0.5 s':52} longest stall {longest * 1000:5.1f} ms")
        for query in queries:
            params = {"scope": "link", "query": query, "per_page": "30"}
            times, stalls = [], []
            for _ in range(rounds):
                await asyncio.sleep(0.01)
                longest = 0.0
                started = time.perf_counter()
                response = await http.get("/search", params=params, auth=key)
                times.append(time.perf_counter() - started)
                await asyncio.sleep(0.005)  # the ticker wakes (a search on the loop kept it)
                stalls.append(longest)
                assert response.status_code == 200, response.text
            took, stall = statistics.median(times) * 1000, statistics.median(stalls) * 1000
            print(f"{query:42} {took:6.1f} ms  longest stall: median {stall:5.1f} ms, "
                  f"max {max(stalls) * 1000:5.1f} ms")  # fmt: skip
        ticking.cancel()


key = auth(acct.test.secret_key)
app = create_app(quiet_settings(), database=db)
with TestClient(app) as c:
    sign_in(c, acct.test.secret_key)
    print(f"{'query':20} {'words':42} {'/search':>9} {'dashboard':>10}")
    for label, query in QUERIES:
        api = timed(c, "/search", {"scope": "link", "query": query}, auth=key)
        page = timed(c, "/dashboard/links", {"q": query})
        print(f"{label:20} {query:42} {api:6.1f} ms {page:7.1f} ms")
# A fresh app: the first one's authenticator belongs to the TestClient's event loop.
stall_queries = ["Item 9999", "99 Item", "Item Desc 77 S77 777 7777 m77 e 7 S7777"]
asyncio.run(loop_stalls(create_app(quiet_settings(), database=db), stall_queries))
db.close()
