"""The anchor: the least a Python server can do for paylinks' work on PostgreSQL, on this machine.

A bare Starlette app, served exactly as `paylinks serve` is (`paylinks.server.uvicorn_options`,
`--workers N`), over paylinks' own tables (the database `paylinks db upgrade` made), with one
statement per request through the raw driver and nothing else: no authentication, no
idempotency, no events, no outbox. What paylinks answers is measured as a fraction of it.

- `GET /links/{id}`: one link by id (the unique index), as JSON;
- `GET /links`: the first page of 20 of an account's test links, newest first (the
  `(account_pk, livemode, created_at)` index), as JSON;
- `POST /links`: one link-shaped row inserted from a form body, committed (autocommit: the
  INSERT is its own transaction), answered as JSON.

The driver is paylinks' own (psycopg 3, async, a pool of `db_pool_size` connections) or, for
comparison, asyncpg. Configured by environment, since `--workers` processes import the app:

    ANCHOR_DATABASE_URL=postgresql://… ANCHOR_ACCOUNT_PK=1 ANCHOR_DRIVER=psycopg|asyncpg \
        python bench/anchor_app.py --port 8002 [--workers 2]
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

# Written out in full (constant text, no interpolation): what each request runs.
RETRIEVE = (
    "SELECT id, livemode, amount, currency, title, description, multiple, used, created_at "
    "FROM links WHERE id = $1"
)
PAGE = (
    "SELECT id, livemode, amount, currency, title, description, multiple, used, created_at "
    "FROM links WHERE account_pk = $1 AND livemode = false ORDER BY created_at DESC LIMIT 20"
)
INSERT = (
    "INSERT INTO links (id, account_pk, livemode, amount, currency, title, description, "
    "multiple, created_at) VALUES ($1, $2, false, $3, $4, $5, $6, false, $7) "
    "RETURNING id, livemode, amount, currency, title, description, multiple, used, created_at"
)
POOL_SIZE = 8  # paylinks' default `db_pool_size`

Fetch = Callable[[str, tuple[Any, ...]], Awaitable[list[dict[str, Any]]]]


class PsycopgPool:
    """A fixed set of autocommit psycopg connections, lent out one request at a time."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._idle: asyncio.Queue[Any] = asyncio.Queue()

    async def open(self) -> None:
        import psycopg
        from psycopg.rows import dict_row

        for _ in range(POOL_SIZE):
            conn = await psycopg.AsyncConnection.connect(
                self._url, autocommit=True, row_factory=dict_row
            )
            self._idle.put_nowait(conn)

    async def fetch(self, sql: str, args: tuple[Any, ...]) -> list[dict[str, Any]]:
        conn = await self._idle.get()
        try:
            # psycopg writes placeholders as %s; prepared after a few uses, as paylinks' are.
            cursor = await conn.execute(_percent(sql), args)
            return list(await cursor.fetchall())
        finally:
            self._idle.put_nowait(conn)

    async def close(self) -> None:
        while not self._idle.empty():
            await self._idle.get_nowait().close()


def _percent(sql: str) -> str:
    for n in range(9, 0, -1):
        sql = sql.replace(f"${n}", "%s")
    return sql


class AsyncpgPool:
    def __init__(self, url: str) -> None:
        self._url = url
        self._pool: Any = None

    async def open(self) -> None:
        import asyncpg

        self._pool = await asyncpg.create_pool(self._url, min_size=POOL_SIZE, max_size=POOL_SIZE)

    async def fetch(self, sql: str, args: tuple[Any, ...]) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(sql, *args)
        return [dict(row) for row in rows]

    async def close(self) -> None:
        await self._pool.close()


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status, media_type="application/json")


def make_app() -> Starlette:
    url = os.environ["ANCHOR_DATABASE_URL"]
    account_pk = int(os.environ["ANCHOR_ACCOUNT_PK"])
    driver = os.environ.get("ANCHOR_DRIVER", "psycopg")
    pool = AsyncpgPool(url) if driver == "asyncpg" else PsycopgPool(url)

    async def retrieve(request: Request) -> Response:
        rows = await pool.fetch(RETRIEVE, (request.path_params["link_id"],))
        return _json(rows[0]) if rows else _json({"object": "error"}, 404)

    async def page(_request: Request) -> Response:
        return _json({"object": "list", "data": await pool.fetch(PAGE, (account_pk,))})

    async def create(request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        link_id = "link_test_" + secrets.token_hex(10)[:19]
        values = (
            link_id, account_pk, int(form["amount"]), form["currency"], form["title"],
            form.get("description"), time.time_ns() // 1000,
        )  # fmt: skip
        return _json((await pool.fetch(INSERT, values))[0])

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await pool.open()
        yield
        await pool.close()

    routes = [
        Route("/links/{link_id}", retrieve),
        Route("/links", page),
        Route("/links", create, methods=["POST"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


if __name__ == "__main__":
    from hello_app import serve_as_paylinks

    serve_as_paylinks("anchor_app:make_app", factory=True, port=8002, doc=__doc__)
