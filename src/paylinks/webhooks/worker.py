"""The delivery worker: claims due deliveries, posts them, records every attempt.

`paylinks serve` runs one in-process; `paylinks worker` runs one on its own. Any number may run
against one database: claims are leases (see `service.claim_due`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import datetime, timedelta

import httpx
import sqlalchemy as sa

from paylinks.clock import Clock, SystemClock, to_micros
from paylinks.db import Database
from paylinks.models import webhook_deliveries
from paylinks.webhooks import addresses, signing
from paylinks.webhooks.endpoints import Endpoint
from paylinks.webhooks.outbox import LEASE, Job, Outcome, claim_due, record_attempt

log = logging.getLogger("paylinks.webhooks")
TIMEOUT = httpx.Timeout(10.0, connect=5.0)  # a 2xx within 10 s is success
READ_BYTES = 4096  # of a receiver's answer; the rest is never read
EXCERPT_CHARS = 200
_TEXT_TYPES = ("text/", "application/json", "application/problem+json")


def _anything_due(conn: sa.Connection, *, now: datetime) -> bool:
    """A cheap read before taking the write lock to claim."""
    found = conn.execute(
        sa.select(webhook_deliveries.c.pk)
        .where(
            webhook_deliveries.c.status == "pending",
            webhook_deliveries.c.next_attempt_at <= to_micros(now),
        )
        .limit(1)
    ).first()
    return found is not None


class Worker:
    def __init__(
        self,
        db: Database,
        *,
        clock: Clock | None = None,
        client: httpx.AsyncClient | None = None,
        allow_private: bool = False,
        resolver: addresses.Resolver = addresses.system_resolver,
        batch: int = 32,
        poll_seconds: float = 0.02,
        lease_seconds: float = LEASE.total_seconds(),
    ) -> None:
        self.db = db
        self.clock = clock or SystemClock()
        self.client = client or httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False)
        self.allow_private = allow_private
        self.resolver = resolver
        self.batch = batch
        self.poll_seconds = poll_seconds
        self.lease = timedelta(seconds=lease_seconds)

    async def run_once(self) -> int:
        """One round: claim what is due, send it all concurrently, record each; how many."""
        now = self.clock.now()
        if not await self.db.read(_anything_due, now=now):
            return 0
        jobs = await self.db.write(claim_due, now=now, limit=self.batch, lease=self.lease)
        await asyncio.gather(*(self._deliver(job) for job in jobs))
        return len(jobs)

    async def run_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                sent = await self.run_once()
            except Exception:  # a database hiccup must not end delivery for good
                log.exception("webhook round failed")
                sent = 0
            if not sent:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.poll_seconds)

    async def _deliver(self, job: Job) -> None:
        outcome = await self._send(job)
        status = await self.db.write(record_attempt, job=job, outcome=outcome, now=self.clock.now())
        log.info(
            "webhook %s to %s: %s (%s) -> %s",
            job.event_id, job.endpoint.url, outcome.status_code, outcome.error or "ok", status,
        )  # fmt: skip

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

    async def _send(self, job: Job) -> Outcome:
        endpoint = job.endpoint
        now = self.clock.now()
        started = time.monotonic()
        try:
            aims = await self._aim(endpoint)
        except ValueError as exc:
            return Outcome(None, 0, None, f"unsafe address: {exc}"[:300])
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
            return Outcome(status, latency, excerpt, None, retry_after)
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
    def _failed(exc: Exception, started: float, *, shown: bool) -> Outcome:
        latency = int((time.monotonic() - started) * 1000)
        # The kind of failure only, for addresses whose answers are not shown: a connection
        # refused versus a timeout would tell which internal ports are open.
        error = f"{type(exc).__name__}: {exc}" if shown else "the receiver could not be reached"
        return Outcome(None, latency, None, error[:300])

    async def close(self) -> None:
        await self.client.aclose()


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
