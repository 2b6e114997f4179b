"""The synchronous client: every call of `Methods`, each returning the object the API answered
(a parsed JSON dict) or raising a `PaylinksError`, retried as `RetryPolicy` says."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

import httpx

from paylinks import __version__
from paylinks.client.calls import Call, Methods
from paylinks.client.errors import PaylinksConnectionError, PaylinksError
from paylinks.client.responses import RateLimit, decode, rate_limit
from paylinks.client.retries import RetryPolicy

PAGE = 100  # the API's largest page


def connection_error(api_url: str, call: Call, exc: httpx.HTTPError) -> PaylinksConnectionError:
    if isinstance(exc, httpx.TimeoutException):
        return PaylinksConnectionError(
            f"no answer from the paylinks API at {api_url} in time "
            f"({call.method} {call.path}: {type(exc).__name__})"
        )
    return PaylinksConnectionError(
        f"cannot reach the paylinks API at {api_url} "
        f"({call.method} {call.path}: {type(exc).__name__}: {exc})"
    )


class Client(Methods[dict[str, Any]]):
    """A connection pool to one paylinks server, authenticated with one account's keys (HTTP
    Basic, the key as user name and an empty password, as Omise does). Use it as a context
    manager, or call `close()`:

        with Client("http://127.0.0.1:8000", "skey_test_…") as api:
            link = api.create_link(amount=100000, currency="thb", title="A mug")
    """

    def __init__(
        self,
        api_url: str,
        secret_key: str,
        *,
        public_key: str | None = None,
        timeout: float = 30,
        retries: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.retries = retries or RetryPolicy()
        self.rate_limit: RateLimit | None = None  # as the last answer reported it
        self._sleep = sleep
        # Tokens accept either key; the public one is what a browser would use, so prefer it.
        self._token_auth = httpx.BasicAuth(public_key or secret_key, "")
        self._http = httpx.Client(
            base_url=self.api_url,
            auth=httpx.BasicAuth(secret_key, ""),
            timeout=timeout,
            transport=transport,
            # A redirect would carry the key to another place; the API never sends one.
            follow_redirects=False,
            headers={"User-Agent": f"paylinks-client/{__version__}", "Accept": "application/json"},
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _send(self, call: Call) -> dict[str, Any]:
        # One key for every attempt of this call: that is what makes retrying a write safe.
        key = call.idempotency_key or (f"pl-{uuid.uuid4()}" if call.is_write else None)
        attempt = 1
        while True:
            try:
                return self._once(call, key)
            except PaylinksError as error:
                wait = self.retries.wait(error, attempt)
                if wait is None:
                    raise
            self._sleep(wait)
            attempt += 1

    def _once(self, call: Call, key: str | None) -> dict[str, Any]:
        try:
            response = self._http.request(
                call.method,
                call.path,
                json=call.json if call.json is not None or call.is_write else None,
                params=call.params,
                headers={"Idempotency-Key": key} if key else None,
                auth=self._token_auth if call.public else httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.HTTPError as exc:
            raise connection_error(self.api_url, call, exc) from exc
        self.rate_limit = rate_limit(response) or self.rate_limit
        return decode(response)

    def request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """Any call by hand (`json=`, `params=`, `idempotency_key=`), with the same retries."""
        return self._send(Call(method, path, **kwargs))

    def iterate(self, list_call: Callable[..., dict[str, Any]], **params: Any) -> Iterator[Any]:
        """Every item of a list call, page after page, oldest first unless `order` says:

        for link in api.iterate(api.list_links): ...
        """
        offset = 0
        while True:
            page = list_call(**{"limit": PAGE, **params, "offset": offset})
            yield from page["data"]
            offset += len(page["data"])
            if not page["data"] or offset >= page["total"]:
                return

    def links(self, **params: Any) -> Iterator[dict[str, Any]]:
        return self.iterate(self.list_links, **params)

    def charges(self, **params: Any) -> Iterator[dict[str, Any]]:
        return self.iterate(self.list_charges, **params)

    def events(self, **params: Any) -> Iterator[dict[str, Any]]:
        return self.iterate(self.list_events, **params)
