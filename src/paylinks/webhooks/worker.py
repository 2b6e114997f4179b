"""The delivery worker's loop: find what is due, claim it (`delivery`), send it concurrently
(`sender`) — except that one object's events to one endpoint go one after another, in the order
they happened — and record each attempt.

`paylinks serve` runs one in-process; `paylinks worker` runs one on its own. Any number may run
against one database: claims are leases (see `delivery.claim_due`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

import httpx

from paylinks.clock import Clock, SystemClock
from paylinks.db import Database
from paylinks.webhooks import addresses
from paylinks.webhooks.delivery import LEASE, Job, anything_due, claim_due, record_attempt
from paylinks.webhooks.sender import Sender

log = logging.getLogger("paylinks.webhooks")


def in_turns(jobs: list[Job]) -> list[list[Job]]:
    """The claimed jobs as queues sent side by side: one object's events to one endpoint wait
    for each other (in the order they happened); everything else goes at once."""
    queues: dict[object, list[Job]] = {}
    for job in jobs:
        turn = (job.endpoint.pk, job.subject) if job.subject else job.delivery_pk
        queues.setdefault(turn, []).append(job)
    return list(queues.values())


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
        self.sender = Sender(
            clock=self.clock, client=client, allow_private=allow_private, resolver=resolver
        )
        self.batch = batch
        self.poll_seconds = poll_seconds
        self.lease = timedelta(seconds=lease_seconds)

    async def run_once(self) -> int:
        """One round: claim what is due, send it all concurrently, record each; how many."""
        now = self.clock.now()
        if not await self.db.read(anything_due, now=now):
            return 0
        jobs = await self.db.write(claim_due, now=now, limit=self.batch, lease=self.lease)
        await asyncio.gather(*(self._deliver_in_turn(queue) for queue in in_turns(jobs)))
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

    async def _deliver_in_turn(self, queue: list[Job]) -> None:
        for job in queue:
            await self._deliver(job)

    async def _deliver(self, job: Job) -> None:
        outcome = await self.sender.send(job)
        status = await self.db.write(record_attempt, job=job, outcome=outcome, now=self.clock.now())
        log.info(
            "webhook %s to %s: %s (%s) -> %s",
            job.event_id, job.endpoint.url, outcome.status_code, outcome.error or "ok", status,
        )  # fmt: skip

    async def close(self) -> None:
        await self.sender.close()
