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
EXCERPT_BYTES = 500


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
        allow_private_live: bool = False,
        resolver: addresses.Resolver = addresses.system_resolver,
        batch: int = 32,
        poll_seconds: float = 0.02,
        lease_seconds: float = LEASE.total_seconds(),
    ) -> None:
        self.db = db
        self.clock = clock or SystemClock()
        self.client = client or httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False)
        self.allow_private_live = allow_private_live
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

    async def _aim(self, endpoint: Endpoint) -> addresses.Pinned:
        """Check the endpoint's URL again; in live mode resolve it, require every address to be
        public (DNS may have changed since creation) and pin the request to one of them."""
        target = addresses.check_url(
            endpoint.url, allow_loopback=not endpoint.livemode, allow_http=not endpoint.livemode
        )
        if endpoint.livemode and not self.allow_private_live:
            found = await asyncio.to_thread(
                addresses.resolve_safely,
                target.host,
                target.port,
                allow_loopback=False,
                resolver=self.resolver,
            )
            return addresses.pin(endpoint.url, found[0])
        # Test mode (or private addresses allowed on purpose): nothing to guard against, and
        # the client may try each address of a name (`localhost` is ::1 and 127.0.0.1).
        return addresses.unpinned(endpoint.url)

    async def _send(self, job: Job) -> Outcome:
        endpoint = job.endpoint
        now = self.clock.now()
        started = time.monotonic()
        try:
            pinned = await self._aim(endpoint)
        except ValueError as exc:
            return Outcome(None, 0, None, f"unsafe address: {exc}"[:300])
        headers = signing.signature_headers(
            job.body,
            secrets=endpoint.signing_secrets(now),
            scheme=endpoint.scheme,
            message_id=job.event_id,
            timestamp=int(now.timestamp()),
        )
        extensions = {"sni_hostname": pinned.sni_hostname} if pinned.sni_hostname else None
        try:
            response = await self.client.post(
                pinned.url,
                content=job.body,
                headers={**headers, "Host": pinned.host_header},
                extensions=extensions,
            )
        except httpx.HTTPError as exc:
            latency = int((time.monotonic() - started) * 1000)
            return Outcome(None, latency, None, f"{type(exc).__name__}: {exc}"[:300])
        latency = int((time.monotonic() - started) * 1000)
        excerpt = response.content[:EXCERPT_BYTES].decode("utf-8", "replace")
        return Outcome(response.status_code, latency, excerpt, None, _retry_after(response))

    async def close(self) -> None:
        await self.client.aclose()


def _retry_after(response: httpx.Response) -> float | None:
    if response.status_code not in (429, 503):
        return None
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None
