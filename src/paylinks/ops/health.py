"""`GET /healthz` (the process answers) and `GET /readyz` (it can do its work: the database
answers, its schema is at this code's revision, and Redis answers when configured). For load
balancers and orchestrators: no key, no rate limit, nothing secret in the answer."""

from __future__ import annotations

import asyncio
from functools import cache
from typing import Any

from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection
from starlette.requests import Request
from starlette.responses import Response

from paylinks import migrate
from paylinks.api.pipeline import json_response
from paylinks.runtime import Runtime
from paylinks.web.ratelimit import RedisLimiter

CHECK_TIMEOUT = 2.0


@cache
def _head() -> str | None:
    return migrate.head_revision()


def _revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


async def healthz(_request: Request) -> Response:
    return json_response({"object": "health", "status": "ok"})


async def _check_database(runtime: Runtime) -> str:
    revision = await runtime.db.read(_revision)
    return "ok" if revision == _head() else f"schema at {revision}, code needs {_head()}"


async def _check_redis(runtime: Runtime) -> str:
    limiter = runtime.limiter
    if not isinstance(limiter, RedisLimiter):
        return "not used"
    return "ok" if await limiter.ping() else "no answer"


async def _run(check: Any, runtime: Runtime) -> str:
    try:
        result: str = await asyncio.wait_for(check(runtime), CHECK_TIMEOUT)
    except Exception as exc:  # any failure is "not ready", said plainly, never a 500
        return f"failed: {type(exc).__name__}"
    return result


async def readyz(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    checks = {
        "database": await _run(_check_database, runtime),
        "redis": await _run(_check_redis, runtime),
    }
    ready = all(value in ("ok", "not used") for value in checks.values())
    body = {"object": "readiness", "status": "ready" if ready else "not_ready", "checks": checks}
    return json_response(body, 200 if ready else 503, {"Cache-Control": "no-store"})
