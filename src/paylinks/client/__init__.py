"""A typed client for the paylinks API, synchronous (`Client`) and asynchronous
(`AsyncClient`): every call, list iterators, retries with backoff on network errors, 429 and
5xx, and an Idempotency-Key on every write so that a retry never applies it twice."""

from paylinks.client.aio import AsyncClient
from paylinks.client.errors import PaylinksConnectionError, PaylinksError
from paylinks.client.retries import NO_RETRIES, RetryPolicy
from paylinks.client.sync import Client

__all__ = [
    "NO_RETRIES",
    "AsyncClient",
    "Client",
    "PaylinksConnectionError",
    "PaylinksError",
    "RetryPolicy",
]
