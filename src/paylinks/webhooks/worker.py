"""The delivery worker: claims due deliveries, posts them, records every attempt.

`paylinks serve` runs one in-process; `paylinks worker` runs one on its own. Any number may run
against one database: claims are leases (see `service.claim_due`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import datetime

import httpx
import sqlalchemy as sa

from paylinks.clock import Clock, SystemClock, to_micros
from paylinks.db import Database
from paylinks.models import webhook_deliveries
from paylinks.webhooks import addresses, signing
from paylinks.webhooks.service import Job, Outcome, claim_due, record_attempt

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
        batch: int = 32,
        poll_seconds: float = 0.02,
    ) -> None:
        self.db = db
        self.clock = clock or SystemClock()
        self.client = client or httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False)
        self.allow_private_live = allow_private_live
        self.batch = batch
        self.poll_seconds = poll_seconds

    async def run_once(self) -> int:
        """One round: claim what is due, send it all concurrently, record each; how many."""
        now = self.clock.now()
        if not await self.db.read(_anything_due, now=now):
            return 0
        jobs = await self.db.write(claim_due, now=now, limit=self.batch)
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

    async def _send(self, job: Job) -> Outcome:
        endpoint = job.endpoint
        now = self.clock.now()
        started = time.monotonic()
        try:
            target = addresses.check_url(
                endpoint.url, allow_loopback=not endpoint.livemode, allow_http=not endpoint.livemode
            )
            if endpoint.livemode and not self.allow_private_live:
                # Resolved again at every delivery: a name may point elsewhere since creation.
                await asyncio.to_thread(
                    addresses.resolve_safely, target.host, target.port, allow_loopback=False
                )
        except ValueError as exc:
            return Outcome(None, 0, None, f"unsafe address: {exc}"[:300])
        headers = signing.signature_headers(
            job.body,
            secrets=endpoint.signing_secrets(now),
            scheme=endpoint.scheme,
            message_id=job.event_id,
            timestamp=int(now.timestamp()),
        )
        try:
            response = await self.client.post(endpoint.url, content=job.body, headers=headers)
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
