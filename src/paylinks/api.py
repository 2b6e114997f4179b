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
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from paylinks.accounts.service import Principal
from paylinks.auth import Authenticator
from paylinks.charges.processor import Processor
from paylinks.clock import Clock
from paylinks.config import Settings
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
from paylinks.events.service import Recorder
from paylinks.instance import Keyring
from paylinks.params import Params, merge
from paylinks.ratelimit import Limiter, headers_for

log = logging.getLogger("paylinks.api")


@dataclass
class Services:
    """What every handler may use; built once by `create_app` and kept on `app.state`."""

    settings: Settings
    db: Database
    clock: Clock
    authenticator: Authenticator
    limiter: Limiter | None
    keyring: Keyring
    test_processor: Processor
    recorder: Recorder  # records an event in the transaction of every state change

    def processor_for(self, livemode: bool) -> Processor | None:
        """The card processor of a mode: the test processor, and none (yet) for live mode."""
        return None if livemode else self.test_processor


@dataclass
class ApiCall:
    request: Request
    params: Params
    principal: Principal
    services: Services

    @property
    def db(self) -> Database:
        return self.services.db

    def now(self) -> datetime:
        return self.services.clock.now()

    def path_param(self, name: str) -> str:
        return str(self.request.path_params[name])


Handler = Callable[[ApiCall], Awaitable[dict[str, Any]]]
Endpoint = Callable[[Request], Awaitable[Response]]


def json_response(
    content: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(orjson.dumps(content), status, headers, media_type="application/json")


def error_response(error: ApiError, headers: dict[str, str] | None = None) -> Response:
    return json_response(error.to_wire(), error.status, {**(headers or {}), **error.headers})


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body is larger than {limit} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"request body is larger than {limit} bytes")
    return body


async def _rate_limit(services: Services, bucket: str) -> dict[str, str]:
    """Count one request against `bucket`; the headers to send, or `RateLimited`."""
    if services.limiter is None:
        return {}
    decision = await services.limiter.hit(bucket)
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
    services: Services, request: Request, auth: str
) -> tuple[Principal, dict[str, str]]:
    try:
        principal = await services.authenticator.authenticate(
            request.headers.get("authorization"), secret=auth == "secret"
        )
    except AuthenticationFailure:
        # Unknown keys are counted per client address, so guessing keys is rate-limited too.
        client = request.client.host if request.client else "unknown"
        await _rate_limit(services, f"ip:{client}")
        raise
    return principal, await _rate_limit(services, principal.key_hash)


def endpoint(handler: Handler, *, auth: str = "secret") -> Endpoint:
    """Wrap `handler` with the pipeline. `auth` is "secret", "public" (either key) or "any"."""

    async def run(request: Request) -> Response:
        services: Services = request.app.state.services
        headers: dict[str, str] = {}
        try:
            principal, headers = await _authenticate(services, request, auth)
            body = await _read_body(request, services.settings.max_body_bytes)
            params = Params(
                merge(
                    request.scope["query_string"].decode("latin-1"),
                    body,
                    request.headers.get("content-type", ""),
                )
            )
            result = await handler(ApiCall(request, params, principal, services))
            return json_response(result, 200, headers)
        except ApiError as error:
            return error_response(error, headers)
        except Exception:
            log.exception("unhandled error in %s %s", request.method, request.url.path)
            return error_response(InternalError(), headers)

    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


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
    log.error("unhandled error in %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(InternalError())
