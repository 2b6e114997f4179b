"""The asynchronous client: the same calls as `Client` (they are defined once, in `calls`),
awaited, with the same retries, idempotency keys and errors.

    async with AsyncClient("http://127.0.0.1:8000", "skey_test_…") as api:
        link = await api.create_link(amount=100000, currency="thb", title="A mug")
        async for charge in api.charges():
            ...
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import Any

import httpx

from paylinks import __version__
from paylinks.client.calls import Call, Methods
from paylinks.client.errors import PaylinksError
from paylinks.client.responses import RateLimit, decode, rate_limit
from paylinks.client.retries import RetryPolicy
from paylinks.client.sync import PAGE, connection_error

Answer = Awaitable[dict[str, Any]]


class AsyncClient(Methods[Answer]):
    def __init__(
        self,
        api_url: str,
        secret_key: str,
        *,
        public_key: str | None = None,
        timeout: float = 30,
        retries: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.retries = retries or RetryPolicy()
        self.rate_limit: RateLimit | None = None
        self._sleep = sleep
        self._token_auth = httpx.BasicAuth(public_key or secret_key, "")
        self._http = httpx.AsyncClient(
            base_url=self.api_url,
            auth=httpx.BasicAuth(secret_key, ""),
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
            headers={"User-Agent": f"paylinks-client/{__version__}", "Accept": "application/json"},
        )

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    def _send(self, call: Call) -> Answer:
        return self._send_with_retries(call)

    async def _send_with_retries(self, call: Call) -> dict[str, Any]:
        key = call.idempotency_key or (f"pl-{uuid.uuid4()}" if call.is_write else None)
        attempt = 1
        while True:
            try:
                return await self._once(call, key)
            except PaylinksError as error:
                wait = self.retries.wait(error, attempt)
                if wait is None:
                    raise
            await self._sleep(wait)
            attempt += 1

    async def _once(self, call: Call, key: str | None) -> dict[str, Any]:
        try:
            response = await self._http.request(
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

    async def request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        return await self._send_with_retries(Call(method, path, **kwargs))

    async def iterate(
        self, list_call: Callable[..., Answer], **params: Any
    ) -> AsyncIterator[dict[str, Any]]:
        offset = 0
        while True:
            page = await list_call(**{"limit": PAGE, **params, "offset": offset})
            for item in page["data"]:
                yield item
            offset += len(page["data"])
            if not page["data"] or offset >= page["total"]:
                return

    def links(self, **params: Any) -> AsyncIterator[dict[str, Any]]:
        return self.iterate(self.list_links, **params)

    def charges(self, **params: Any) -> AsyncIterator[dict[str, Any]]:
        return self.iterate(self.list_charges, **params)

    def events(self, **params: Any) -> AsyncIterator[dict[str, Any]]:
        return self.iterate(self.list_events, **params)
