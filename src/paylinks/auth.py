"""Authentication: who is calling (`Principal`), the key in HTTP Basic, keys found by hash and
cached briefly. Every layer takes a `Principal`; none needs to know how it was found."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from paylinks.errors import AuthenticationFailure

CACHE_LIMIT = 10_000


@dataclass(frozen=True)
class Principal:
    """Who is calling: an account, in one mode, with a public or a secret key."""

    account_pk: int
    account_id: str
    livemode: bool
    kind: str  # "public" | "secret"
    key_hash: str
    key_pk: int | None = None  # the key's row; None for work done on an account's behalf
    # Test mode: how far the account's test clock is ahead of real time, in microseconds (0 in
    # live mode, always). What the account does is stamped, and expires, by that clock.
    clock_offset: int = 0

    @property
    def is_secret(self) -> bool:
        return self.kind == "secret"

    def clock(self, real: datetime) -> datetime:
        """`real` time as this account and mode see it."""
        return real + timedelta(microseconds=self.clock_offset) if self.clock_offset else real

    def real(self, moment: datetime) -> datetime:
        """A moment of this account's time as real time (for what runs on real time: webhook
        deliveries and secrets)."""
        return moment - timedelta(microseconds=self.clock_offset) if self.clock_offset else moment


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


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
