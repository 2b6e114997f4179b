"""The dashboard's links list at 100,000 links (SQLite): the first page, a deep page, text
search (title, description, metadata), each filter, and the other order, timed in process
(Starlette's TestClient, so no HTTP). A benchmark, not a test.

    .venv/bin/python bench/dashboard_bench.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from starlette.testclient import TestClient

from paylinks import migrate
from paylinks.app import create_app
from paylinks.clock import to_micros
from paylinks.db import Database
from paylinks.models import links

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
from factories import make_account, quiet_settings, sign_in

d = tempfile.mkdtemp()
db = Database(f"sqlite:///{d}/x.db")
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
        created_at=now - (100000 - i) * 1000,
        views=0,
    )
    for i in range(100000)
]
t = time.perf_counter()
with db.transaction() as conn:
    conn.execute(links.insert(), rows)
print("seeded", time.perf_counter() - t)
app = create_app(quiet_settings(), database=db)
with TestClient(app) as c:
    sign_in(c, acct.test.secret_key)
    for label, params in [
        ("first page", {}),
        ("deep page", {"page": "3000"}),
        ("search", {"q": "Item 9999"}),
        ("metadata", {"q": "S77777"}),
        ("used", {"used": "on"}),
        ("active", {"active": "on"}),
        ("dates", {"from": "2020-01-01", "to": "2030-01-01"}),
        ("oldest", {"sort": "oldest"}),
    ]:
        c.get("/dashboard/links", params=params)
        t = time.perf_counter()
        n = 5
        for _ in range(n):
            r = c.get("/dashboard/links", params=params)
        print(f"{label:12} {(time.perf_counter() - t) / n * 1000:7.1f} ms  status {r.status_code}")
