"""Sending one delivery: aim at the endpoint's checked addresses (pinning), sign, post, and read
no more of the answer than the delivery log keeps.

The URL is checked again at every attempt (DNS may have changed since it was saved), the
request goes to an address that was checked, redirects are not followed, and only a short,
text-only excerpt of an allowed receiver's answer is kept (`addresses.Policy`).
"""

from __future__ import annotations

import asyncio
import time

import httpx

from paylinks.clock import Clock
from paylinks.webhooks import addresses, signing
from paylinks.webhooks.delivery import AttemptResult, Job
from paylinks.webhooks.service import Endpoint

TIMEOUT = httpx.Timeout(10.0, connect=5.0)  # a 2xx within 10 s is success
READ_BYTES = 4096  # of a receiver's answer; the rest is never read
EXCERPT_CHARS = 200
_TEXT_TYPES = ("text/", "application/json", "application/problem+json")


class Sender:
    def __init__(
        self,
        *,
        clock: Clock,
        client: httpx.AsyncClient | None = None,
        allow_private: bool = False,
        resolver: addresses.Resolver = addresses.system_resolver,
    ) -> None:
        self.clock = clock
        self.client = client or httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False)
        self.allow_private = allow_private
        self.resolver = resolver

    async def send(self, job: Job) -> AttemptResult:
        """One attempt of a claimed delivery; what happened (never raises for the receiver's
        failures: they are outcomes)."""
        return await self._send(job)

    async def close(self) -> None:
        await self.client.aclose()

    async def _aim(self, endpoint: Endpoint) -> list[addresses.Pinned]:
        """Check the endpoint's URL again, resolve it, require every address to be allowed
        (DNS may have changed since it was saved) and aim at the checked addresses (pinning:
        a second DNS answer cannot send the request elsewhere)."""
        policy = addresses.Policy(endpoint.livemode, self.allow_private)
        target = addresses.check_url(endpoint.url, allow_http=policy.allow_http)
        found = await asyncio.to_thread(
            addresses.resolve_safely,
            target.host,
            target.port,
            policy=policy,
            resolver=self.resolver,
        )
        return [addresses.pin(endpoint.url, address) for address in found]

    async def _send(self, job: Job) -> AttemptResult:
        endpoint = job.endpoint
        now = self.clock.now()
        started = time.monotonic()
        try:
            aims = await self._aim(endpoint)
        except ValueError as exc:
            return AttemptResult(None, 0, None, f"unsafe address: {exc}"[:300])
        headers = signing.signature_headers(
            job.body,
            secrets=endpoint.signing_secrets(now),
            scheme=endpoint.scheme,
            message_id=job.event_id,
            timestamp=int(now.timestamp()),
        )
        policy = addresses.Policy(endpoint.livemode, self.allow_private)
        for n, pinned in enumerate(aims):
            try:
                status, excerpt, retry_after = await self._post(pinned, job.body, headers)
            except httpx.ConnectError as exc:
                if n + 1 < len(aims):
                    continue  # `localhost` is ::1 and 127.0.0.1: try the next checked address
                return self._failed(exc, started, shown=policy.shows_responses_of(pinned.address))
            except httpx.HTTPError as exc:
                return self._failed(exc, started, shown=policy.shows_responses_of(pinned.address))
            latency = int((time.monotonic() - started) * 1000)
            if not policy.shows_responses_of(pinned.address):
                excerpt = None
            return AttemptResult(status, latency, excerpt, None, retry_after)
        raise AssertionError("resolve_safely returns at least one address")

    async def _post(
        self, pinned: addresses.Pinned, body: bytes, headers: dict[str, str]
    ) -> tuple[int, str | None, float | None]:
        """POST, reading at most `READ_BYTES` of the answer: (status, excerpt, Retry-After)."""
        extensions = {"sni_hostname": pinned.sni_hostname} if pinned.sni_hostname else None
        request = self.client.build_request(
            "POST",
            pinned.url,
            content=body,
            headers={**headers, "Host": pinned.host_header},
            extensions=extensions,
        )
        response = await self.client.send(request, stream=True)
        try:
            head = b""
            async for chunk in response.aiter_bytes():
                head += chunk
                if len(head) >= READ_BYTES:
                    break
        finally:
            await response.aclose()
        return response.status_code, excerpt_of(response, head), _retry_after(response)

    @staticmethod
    def _failed(exc: Exception, started: float, *, shown: bool) -> AttemptResult:
        latency = int((time.monotonic() - started) * 1000)
        # The kind of failure only, for addresses whose answers are not shown: a connection
        # refused versus a timeout would tell which internal ports are open.
        error = f"{type(exc).__name__}: {exc}" if shown else "the receiver could not be reached"
        return AttemptResult(None, latency, None, error[:300])


def excerpt_of(response: httpx.Response, head: bytes) -> str | None:
    """A short, text-only excerpt of the answer for the delivery log: textual content types
    only, control characters removed, at most `EXCERPT_CHARS`."""
    content_type = response.headers.get("content-type", "").lower()
    if not content_type.startswith(_TEXT_TYPES):
        return None
    text = head.decode("utf-8", "replace")
    cleaned = "".join(c if c.isprintable() else " " for c in text).strip()
    return cleaned[:EXCERPT_CHARS] or None


def _retry_after(response: httpx.Response) -> float | None:
    if response.status_code not in (429, 503):
        return None
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None
