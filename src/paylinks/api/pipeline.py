"""The API request pipeline: body limit, authentication, rate limit, parameters, handler, JSON.

A handler is `async def handler(call: ApiCall) -> dict`; `endpoint(...)` wraps it into a Starlette
endpoint. Errors raised anywhere become Omise's error object; an unexpected exception is logged
and answered with a generic 500 (never a stack trace).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from paylinks.api import idempotency
from paylinks.api.idempotency import GuardedDatabase
from paylinks.auth import Principal
from paylinks.db import Database
from paylinks.errors import (
    ApiError,
    AuthenticationFailure,
    InternalError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    RateLimited,
)
from paylinks.logs import redact
from paylinks.params import Params, clamped_integer, merge
from paylinks.runtime import Runtime
from paylinks.web import RequestHandler
from paylinks.web.ratelimit import headers_for

log = logging.getLogger("paylinks.api")


@dataclass
class ApiCall:
    request: Request
    params: Params
    principal: Principal
    runtime: Runtime
    # Set for a request with an Idempotency-Key: its write also claims the key.
    guarded: GuardedDatabase | None = None

    @property
    def db(self) -> Database | GuardedDatabase:
        return self.guarded or self.runtime.db

    def now(self) -> datetime:
        """The caller's time: real time, or in test mode the account's test clock."""
        return self.principal.clock(self.runtime.clock.now())

    def path_param(self, name: str) -> str:
        value = str(self.request.path_params[name])
        # `edge.ControlCharacterGuard` refuses such a path before routing; this stays because a
        # handler cannot know the app it runs in installed the guard, and a NUL reaching
        # PostgreSQL is a 500. Cheap, and 404 is the right answer for such an id anyway.
        if "\x00" in value:
            raise NotFound(f"no object has the id {value!r}")
        return value


Handler = Callable[[ApiCall], Awaitable[dict[str, Any]]]


def json_response(
    content: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(orjson.dumps(content), status, headers, media_type="application/json")


def error_response(error: ApiError, headers: dict[str, str] | None = None) -> Response:
    return json_response(error.to_wire(), error.status, {**(headers or {}), **error.headers})


async def read_body(request: Request, limit: int) -> bytes:
    declared = clamped_integer(
        request.headers.get("content-length", ""), low=0, high=limit + 1, default=0
    )
    if declared > limit:
        raise PayloadTooLarge(f"request body is larger than {limit} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"request body is larger than {limit} bytes")
    return body


async def _rate_limit(runtime: Runtime, bucket: str) -> dict[str, str]:
    """Count one request against `bucket`; the headers to send, or `RateLimited`."""
    if runtime.limiter is None:
        return {}
    decision = await runtime.limiter.hit(bucket)
    headers = headers_for(decision, now_epoch=time.time())
    if not decision.allowed:
        binding = decision.binding().window
        raise RateLimited(
            f"too many requests: at most {binding.amount} per {binding.name} for this key; "
            f"retry after {headers['Retry-After']} seconds",
            headers=headers,
        )
    return headers


async def _authenticate(
    runtime: Runtime, request: Request, auth: str
) -> tuple[Principal, dict[str, str]]:
    try:
        principal = await runtime.authenticator.authenticate(
            request.headers.get("authorization"), secret=auth == "secret"
        )
    except AuthenticationFailure:
        # Unknown keys are counted per client address, so guessing keys is rate-limited too.
        await _rate_limit(runtime, f"ip:{runtime.clients.of(request)}")
        raise
    return principal, await _rate_limit(runtime, principal.key_hash)


def endpoint(handler: Handler, *, auth: str = "secret") -> RequestHandler:
    """Wrap `handler` with the pipeline. `auth` is "secret", "public" (either key) or "any"."""

    async def run(request: Request) -> Response:
        runtime: Runtime = request.app.state.runtime
        headers: dict[str, str] = {}
        try:
            principal, headers = await _authenticate(runtime, request, auth)
            body = await read_body(request, runtime.settings.max_body_bytes)
            params = Params(
                merge(
                    request.scope["query_string"].decode("latin-1"),
                    body,
                    request.headers.get("content-type", ""),
                )
            )
            call = ApiCall(request, params, principal, runtime)
            key = request.headers.get(idempotency.HEADER)
            if key is not None and request.method in idempotency.METHODS:
                return await _run_once(handler, call, key, headers)
            return json_response(await handler(call), 200, headers)
        except ApiError as error:
            return error_response(error, headers)
        except Exception:
            log.exception("unhandled error in %s %s", request.method, redact(request.url.path))
            return error_response(InternalError(), headers)

    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


async def _run_once(handler: Handler, call: ApiCall, key: str, headers: dict[str, str]) -> Response:
    """Run a request with an Idempotency-Key at most once (see `idempotency`)."""
    runtime, request = call.runtime, call.request
    once = idempotency.Request(
        call.principal,
        idempotency.check_key(key),
        request.method,
        request.url.path,
        idempotency.request_hash(request.method, request.url.path, call.params.data),
    )
    found = await runtime.db.read(idempotency.find, request=once, now=runtime.clock.now())
    if found is not None:
        return await _answer_again(call, once, found, headers)
    call.guarded = idempotency.GuardedDatabase(runtime.db, request=once, clock=runtime.clock)
    try:
        result = await handler(call)
    except sa.exc.IntegrityError:
        # Another request with this key committed first (its claim won the unique index).
        found = await runtime.db.read(idempotency.find, request=once, now=runtime.clock.now())
        if found is None:
            raise
        return await _answer_again(call, once, found, headers)
    except ApiError as error:
        if call.guarded.claimed:
            # A change committed, then the request ended in an error (a live processor's
            # refusal after the charge was opened): that error is the key's answer for good.
            wire = orjson.dumps(error.to_wire())
            await runtime.db.write(
                idempotency.store, request=once, status_code=error.status, response=wire
            )
        raise
    body = orjson.dumps(result)
    if call.guarded.claimed:
        await runtime.db.write(idempotency.store, request=once, status_code=200, response=body)
    return Response(body, 200, headers, media_type="application/json")


async def _answer_again(
    call: ApiCall, once: idempotency.Request, found: idempotency.Record, headers: dict[str, str]
) -> Response:
    runtime = call.runtime
    idempotency.check_replay(found, request=once, now=runtime.clock.now())
    replayed = {**headers, "Idempotent-Replayed": "true"}
    if found.response is not None:
        return Response(
            found.response, found.status_code or 200, replayed, media_type="application/json"
        )
    # The first request's change committed but its process died before the answer was stored:
    # rebuild the answer from the object it made, and keep that.
    if found.object_id is None or runtime.rebuild is None:
        raise idempotency.KeyInUse("the first request with this key did not finish; use a new key")
    body = orjson.dumps(await runtime.rebuild(call, found.object_id))
    await runtime.db.write(idempotency.store, request=once, status_code=200, response=body)
    return Response(body, 200, replayed, media_type="application/json")


async def http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 (unknown routes and methods) as Omise errors."""
    assert isinstance(exc, HTTPException)
    error: ApiError
    if exc.status_code == 405:
        error = MethodNotAllowed(f"method {request.method} is not allowed on {request.url.path}")
        return error_response(error, dict(exc.headers or {}))
    if exc.status_code == 404:
        error = NotFound(f"the requested path {request.url.path} was not found")
    else:
        error = ApiError(exc.detail)
        error.status = exc.status_code
    return error_response(error)


async def server_error(request: Request, exc: Exception) -> Response:
    log.error("unhandled error in %s %s", request.method, redact(request.url.path), exc_info=exc)
    return error_response(InternalError())
