"""Idempotency keys: a POST, PATCH or DELETE sent with `Idempotency-Key` happens at most once.

The key row is inserted in the transaction of the change it guards (the one `db.write` of the
handler), so a key is either unused or bound to exactly one committed change; a crash before
the commit leaves neither. The response is stored right after and replayed byte for byte for 24
hours. If the process died between the commit and storing the response, a retry after
`IN_FLIGHT` rebuilds the response from the object the change made (its id is kept with the key).

Requests that fail (validation, 404, any error inside the change) store nothing, so they can be
retried with the same key. The same key with another method, path or parameters → 422; while
the first request is still running → 409 (IETF draft-ietf-httpapi-idempotency-key-header).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Concatenate, ParamSpec, TypeVar

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paylinks.auth import Principal
from paylinks.clock import Clock, from_micros, to_micros
from paylinks.db import Database
from paylinks.errors import ApiError, BadRequest
from paylinks.models import idempotency_keys

T = TypeVar("T")
P = ParamSpec("P")
HEADER = "idempotency-key"
METHODS = frozenset({"POST", "PATCH", "DELETE"})
KEY_TTL = timedelta(hours=24)
# A committed change whose response is not stored yet counts as in flight this long; after it,
# its request is taken to have died, and a retry rebuilds the response.
IN_FLIGHT = timedelta(seconds=10)
_KEY = re.compile(r"[\x20-\x7e]{1,255}")


class KeyInUse(ApiError):
    status = 409
    code = "idempotency_key_in_use"


class KeyReused(ApiError):
    status = 422
    code = "idempotency_key_reused"


def check_key(raw: str) -> str:
    if not _KEY.fullmatch(raw):
        raise BadRequest("Idempotency-Key must be 1 to 255 printable ASCII characters")
    return raw


def request_hash(method: str, path: str, params: dict[str, Any]) -> str:
    """What makes two requests "the same": method, path (trailing slash aside) and parameters."""
    canonical = orjson.dumps([method, path.rstrip("/"), params], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


@dataclass(frozen=True)
class Request:
    """One request's key, in its account and mode."""

    principal: Principal
    key: str
    method: str
    path: str
    fingerprint: str

    def scope(self) -> list[sa.ColumnElement[bool]]:
        return [
            idempotency_keys.c.account_pk == self.principal.account_pk,
            idempotency_keys.c.livemode == self.principal.livemode,
            idempotency_keys.c.key == self.key,
        ]


@dataclass(frozen=True)
class Record:
    fingerprint: str
    object_id: str | None
    status_code: int | None
    response: bytes | None
    created_at: datetime


def find(conn: Connection, *, request: Request, now: datetime) -> Record | None:
    """The key's record, unless it has expired (an expired key is a new request)."""
    row = conn.execute(
        sa.select(idempotency_keys).where(
            *request.scope(), idempotency_keys.c.expires_at > to_micros(now)
        )
    ).first()
    if row is None:
        return None
    return Record(
        row.request_hash,
        row.object_id,
        row.status_code,
        row.response,
        from_micros(row.created_at),  # type: ignore[arg-type]
    )


def check_replay(record: Record, *, request: Request, now: datetime) -> bool:
    """For a key already used: True when its stored response may be replayed (or rebuilt);
    `KeyReused` for another request, `KeyInUse` while the first is still running."""
    if record.fingerprint != request.fingerprint:
        raise KeyReused(
            "this Idempotency-Key was used for a different request (method, path or "
            "parameters); use a new key for a new request"
        )
    if record.response is None and now - record.created_at < IN_FLIGHT:
        raise KeyInUse("a request with this Idempotency-Key is still in progress; retry later")
    return True


def claim(conn: Connection, *, request: Request, now: datetime) -> None:
    """Bind the key to the change of this transaction. A concurrent claim of the same key fails
    on the unique index (after waiting for the first, on PostgreSQL) and rolls back its change."""
    conn.execute(
        idempotency_keys.delete().where(
            *request.scope(), idempotency_keys.c.expires_at <= to_micros(now)
        )
    )
    conn.execute(
        idempotency_keys.insert().values(
            account_pk=request.principal.account_pk,
            livemode=request.principal.livemode,
            key=request.key,
            method=request.method,
            path=request.path,
            request_hash=request.fingerprint,
            created_at=to_micros(now),
            expires_at=to_micros(now + KEY_TTL),
        )
    )


def _object_id(result: Any) -> str | None:
    found = result.get("id") if isinstance(result, dict) else getattr(result, "id", None)
    return found if isinstance(found, str) else None


def bind_object(conn: Connection, *, request: Request, result: Any) -> None:
    object_id = _object_id(result)
    if object_id is not None:
        conn.execute(idempotency_keys.update().where(*request.scope()).values(object_id=object_id))


def store(conn: Connection, *, request: Request, status_code: int, response: bytes) -> None:
    """Keep the first response (a rebuilt one only if none was stored meanwhile)."""
    conn.execute(
        idempotency_keys.update()
        .where(*request.scope(), idempotency_keys.c.response.is_(None))
        .values(status_code=status_code, response=response)
    )


def reap(conn: Connection, *, now: datetime) -> int:
    """Forget expired keys; how many."""
    done = conn.execute(
        idempotency_keys.delete().where(idempotency_keys.c.expires_at <= to_micros(now))
    )
    return int(done.rowcount or 0)


class GuardedDatabase:
    """The database as a handler sees it during a request with a key: its write also claims
    the key and remembers the object, in the same transaction. Reads pass through."""

    def __init__(self, db: Database, *, request: Request, clock: Clock) -> None:
        self._db = db
        self._request = request
        self._clock = clock
        self.claimed = False

    async def read(
        self, fn: Callable[Concatenate[Connection, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        return await self._db.read(fn, *args, **kwargs)

    async def read_offloaded(
        self, fn: Callable[Concatenate[Connection, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        return await self._db.read_offloaded(fn, *args, **kwargs)

    async def write(
        self, fn: Callable[Concatenate[Connection, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        def guarded(conn: Connection) -> T:
            if self.claimed:  # a second write of the same request: the key is already bound
                return fn(conn, *args, **kwargs)
            claim(conn, request=self._request, now=self._clock.now())
            result = fn(conn, *args, **kwargs)
            bind_object(conn, request=self._request, result=result)
            return result

        result: T = await self._db.write_work(guarded)
        self.claimed = True
        return result
