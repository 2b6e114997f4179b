"""Authentication: HTTP Basic with the API key as user name; keys found by hash, cached briefly."""

from __future__ import annotations

import base64
import binascii
import hmac
import time
from collections.abc import Awaitable, Callable

from paylinks.accounts.service import Principal, hash_key
from paylinks.errors import AuthenticationFailure

CACHE_LIMIT = 10_000

Lookup = Callable[[str], Awaitable[Principal | None]]


def key_from_header(authorization: str | None) -> str | None:
    """The key of `Authorization: Basic base64(key:)`; the password is ignored, as Omise does."""
    if not authorization:
        return None
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    key = decoded.partition(":")[0]
    return key or None


class Authenticator:
    """Maps keys to principals through `lookup` (a database read), caching answers for a while."""

    def __init__(self, lookup: Lookup, *, cache_seconds: float) -> None:
        self._lookup = lookup
        self._cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, Principal]] = {}

    async def authenticate(self, authorization: str | None, *, secret: bool) -> Principal:
        """The caller; `AuthenticationFailure` for a missing, unknown, revoked or wrong-kind key."""
        key = key_from_header(authorization)
        if key is None:
            raise AuthenticationFailure()
        digest = hash_key(key)
        principal = self._cached(digest)
        if principal is None:
            principal = await self._lookup(digest)
            if principal is None:
                raise AuthenticationFailure()
            self._remember(digest, principal)
        # The row was found by its hash; compare again in constant time as a second guard.
        if not hmac.compare_digest(principal.key_hash, digest):
            raise AuthenticationFailure()
        if secret and not principal.is_secret:
            raise AuthenticationFailure("authentication failed: this endpoint needs a secret key")
        return principal

    def forget_all(self) -> None:
        """Drop every cached key (after keys are rolled in this process)."""
        self._cache.clear()

    def _cached(self, digest: str) -> Principal | None:
        hit = self._cache.get(digest)
        if hit is None:
            return None
        expires, principal = hit
        if expires < time.monotonic():
            self._cache.pop(digest, None)
            return None
        return principal

    def _remember(self, digest: str, principal: Principal) -> None:
        if self._cache_seconds <= 0:
            return
        if len(self._cache) >= CACHE_LIMIT:
            self._cache.clear()
        self._cache[digest] = (time.monotonic() + self._cache_seconds, principal)
