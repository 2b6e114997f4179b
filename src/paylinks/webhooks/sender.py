"""Sending one delivery: aim at the endpoint's checked addresses (pinning), sign, post, and read
no more of the answer than the delivery log keeps.

The URL is checked again in every round of the worker that sends to it (DNS may have changed
since it was saved), the request goes to an address that was checked, redirects are not
followed, and only a short, text-only excerpt of an allowed receiver's answer is kept
(`addresses.Policy`).
"""

from __future__ import annotations

import asyncio
import time

from paylinks.clock import Clock
from paylinks.webhooks import addresses, signing
from paylinks.webhooks.delivery import AttemptResult, Job
from paylinks.webhooks.service import Endpoint
from paylinks.webhooks.transport import (
    AiohttpPost,
    Answer,
    Outgoing,
    Post,
    SendFailed,
    Unreachable,
)

EXCERPT_CHARS = 200
_TEXT_TYPES = ("text/", "application/json", "application/problem+json")
# Each endpoint's checked addresses, by endpoint pk, for one round of the worker.
Aims = dict[int, "asyncio.Future[list[addresses.Pinned]]"]


class Sender:
    def __init__(
        self,
        *,
        clock: Clock,
        post: Post | None = None,
        allow_private: bool = False,
        resolver: addresses.Resolver = addresses.system_resolver,
    ) -> None:
        """`post`: how to send (default: `AiohttpPost`, closed with the sender)."""
        self.clock = clock
        self._owned: AiohttpPost | None = None
        if post is None:
            post = self._owned = AiohttpPost()
        self.post = post
        self.allow_private = allow_private
        self.resolver = resolver

    async def send(self, job: Job, *, aimed: Aims | None = None) -> AttemptResult:
        """One attempt of a claimed delivery; what happened (never raises for the receiver's
        failures: they are outcomes). `aimed`: the addresses checked for each endpoint in this
        round of the worker, so that a round checks and resolves each endpoint's URL once."""
        return await self._send(job, {} if aimed is None else aimed)

    async def close(self) -> None:
        if self._owned is not None:
            await self._owned.close()

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

    async def _send(self, job: Job, aimed: Aims) -> AttemptResult:
        endpoint = job.endpoint
        now = self.clock.now()
        started = time.monotonic()
        if endpoint.pk not in aimed:
            aimed[endpoint.pk] = asyncio.ensure_future(self._aim(endpoint))
        try:
            aims = await aimed[endpoint.pk]
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
            shown = policy.shows_responses_of(pinned.address)
            try:
                answer = await self.post(Outgoing(pinned, job.body, headers))
            except Unreachable as exc:
                if n + 1 < len(aims):
                    continue  # `localhost` is ::1 and 127.0.0.1: try the next checked address
                return self._failed(exc, started, shown=shown)
            except SendFailed as exc:
                return self._failed(exc, started, shown=shown)
            latency = int((time.monotonic() - started) * 1000)
            excerpt = excerpt_of(answer) if shown else None
            return AttemptResult(answer.status, latency, excerpt, None, _retry_after(answer))
        raise AssertionError("resolve_safely returns at least one address")

    @staticmethod
    def _failed(exc: Exception, started: float, *, shown: bool) -> AttemptResult:
        latency = int((time.monotonic() - started) * 1000)
        # The kind of failure only, for addresses whose answers are not shown: a connection
        # refused versus a timeout would tell which internal ports are open.
        error = str(exc) if shown else "the receiver could not be reached"
        return AttemptResult(None, latency, None, error[:300])


def excerpt_of(answer: Answer) -> str | None:
    """A short, text-only excerpt of the answer for the delivery log: textual content types
    only, control characters removed, at most `EXCERPT_CHARS`."""
    if not answer.content_type.lower().startswith(_TEXT_TYPES):
        return None
    text = answer.head.decode("utf-8", "replace")
    cleaned = "".join(c if c.isprintable() else " " for c in text).strip()
    return cleaned[:EXCERPT_CHARS] or None


def _retry_after(answer: Answer) -> float | None:
    if answer.status not in (429, 503):
        return None
    value = (answer.retry_after or "").strip()
    return float(value) if value.isdigit() else None
