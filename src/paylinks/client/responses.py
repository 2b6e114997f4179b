"""Turning an HTTP response into the object it carries or the error it reports. No I/O, so a
synchronous and an asynchronous client can share it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from paylinks.client.errors import PaylinksError

EXCERPT_CHARS = 200


def decode(response: httpx.Response) -> dict[str, Any]:
    """The JSON object of a 2xx answer; raises `PaylinksError` for anything else."""
    body = _json(response)
    request = response.request
    if response.is_success:
        if isinstance(body, dict):
            return body
        raise PaylinksError(
            f"{request.method} {request.url} answered {response.status_code} without a JSON "
            f"object: {_excerpt(response)}",
            status=response.status_code,
            code="invalid_response",
        )
    if isinstance(body, dict) and body.get("object") == "error":
        error = _api_error(response.status_code, body)
        error.retry_after = retry_after(response.headers.get("retry-after", ""))
        raise error
    # A proxy's error page, or a redirect (never followed: it would drop the credentials).
    raise PaylinksError(
        f"{request.method} {request.url} answered {response.status_code} without an error "
        f"object: {_excerpt(response)}",
        status=response.status_code,
        code="unexpected_response",
    )


def _api_error(status: int, body: dict[str, Any]) -> PaylinksError:
    location = body.get("location")
    return PaylinksError(
        str(body.get("message", "")),
        status=status,
        code=str(body.get("code", "unknown_error")),
        location=location if isinstance(location, str) else None,
    )


def retry_after(value: str) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:  # an HTTP date: not sent by paylinks
        return None


@dataclass(frozen=True)
class RateLimit:
    """The binding window as the last answer reported it (`X-RateLimit-*`)."""

    limit: int
    remaining: int
    reset: float  # Unix seconds when the window has room again


def rate_limit(response: httpx.Response) -> RateLimit | None:
    headers = response.headers
    try:
        return RateLimit(
            int(headers["x-ratelimit-limit"]),
            int(headers["x-ratelimit-remaining"]),
            float(headers["x-ratelimit-reset"]),
        )
    except (KeyError, ValueError):
        return None


def _json(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:  # not JSON, or not UTF-8
        return None


def _excerpt(response: httpx.Response) -> str:
    text = response.content[:EXCERPT_CHARS].decode("utf-8", "replace")
    return repr(text) if text else "an empty body"
