"""When to try a request again, and how long to wait: network failures, 429 (honouring
`Retry-After`), 5xx and a 409 for a key still in flight are retried with capped exponential
backoff and full jitter; every other answer is final. Writes always carry an Idempotency-Key,
so a retry can never apply a change twice."""

from __future__ import annotations

import random
from dataclasses import dataclass

from paylinks.client.errors import PaylinksConnectionError, PaylinksError

RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5  # in all, the first included
    base: float = 0.25  # seconds before the first retry (before jitter)
    cap: float = 8.0  # no single wait longer than this (unless the server asks)
    max_retry_after: float = 120.0  # a longer Retry-After is an error, not a wait

    def wait(self, error: PaylinksError, attempt: int) -> float | None:
        """Seconds to wait before attempt `attempt + 1`, or None to give up and raise."""
        if attempt >= self.attempts or not retryable(error):
            return None
        if error.retry_after is not None:
            return error.retry_after if error.retry_after <= self.max_retry_after else None
        return random.uniform(0, min(self.cap, self.base * 2 ** (attempt - 1)))  # noqa: S311


def retryable(error: PaylinksError) -> bool:
    if isinstance(error, PaylinksConnectionError):
        return True
    if error.code == "idempotency_key_in_use":
        return True
    return error.status in RETRIED_STATUSES


NO_RETRIES = RetryPolicy(attempts=1)
