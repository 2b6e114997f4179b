"""The few calls to Omise's API that connecting an account needs: are these keys Omise's, of one
mode, and do they work? A harmless authenticated read with each key (`GET /capability`, which
Omise answers to either key) proves it without charging anything."""

from __future__ import annotations

import re
from typing import Any

import httpx

TIMEOUT = httpx.Timeout(10.0)
_PUBLIC = re.compile(r"pkey_(test_)?[0-9a-z]{10,60}")
_SECRET = re.compile(r"skey_(test_)?[0-9a-z]{10,60}")


class UpstreamRefused(Exception):
    """Omise (or the way to it) said no; `message` says why, never with a key in it. `code` and
    `status`: Omise's error code and HTTP status, when it answered with an error object."""

    def __init__(self, message: str, *, code: str = "bad_request", status: int = 400) -> None:
        super().__init__(f"{code}: {message}")  # for logs; `message` alone for people
        self.message, self.code, self.status = message, code, status


def check_key_shapes(public_key: str, secret_key: str) -> None:
    if not _PUBLIC.fullmatch(public_key):
        raise UpstreamRefused("the public key must look like pkey_… (or pkey_test_…)")
    if not _SECRET.fullmatch(secret_key):
        raise UpstreamRefused("the secret key must look like skey_… (or skey_test_…)")
    if public_key.startswith("pkey_test_") != secret_key.startswith("skey_test_"):
        raise UpstreamRefused("the two keys are of different modes (one test, one live)")


async def _capability(client: httpx.AsyncClient, api_url: str, key: str, which: str) -> Any:
    try:
        answer = await client.get(f"{api_url.rstrip('/')}/capability", auth=(key, ""))
    except httpx.HTTPError as problem:
        raise UpstreamRefused(f"Omise could not be reached at {api_url}: {problem}") from None
    if answer.status_code == 401:
        raise UpstreamRefused(f"Omise refused the {which} key (authentication_failure)")
    if answer.status_code != 200:
        raise UpstreamRefused(f"Omise answered {answer.status_code} to the {which} key")
    try:
        found = answer.json()
    except ValueError:
        found = None
    if not isinstance(found, dict) or found.get("object") != "capability":
        raise UpstreamRefused(f"{api_url} did not answer as Omise does")
    return found


async def check_keys(
    *, api_url: str, public_key: str, secret_key: str, client: httpx.AsyncClient | None = None
) -> dict[str, Any]:
    """Omise's capability object, read with each key; `UpstreamRefused` otherwise."""
    check_key_shapes(public_key, secret_key)
    own = client is None
    client = client or httpx.AsyncClient(timeout=TIMEOUT)
    try:
        await _capability(client, api_url, secret_key, "secret")
        capability: dict[str, Any] = await _capability(client, api_url, public_key, "public")
        return capability
    finally:
        if own:
            await client.aclose()
