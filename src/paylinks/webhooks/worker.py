"""The delivery worker's loop: find what is due, claim it (`delivery`), send it concurrently
(`sender`) — except that one object's events to one endpoint go one after another, in the order
they happened — and record each attempt.

`paylinks serve` runs one in-process; `paylinks worker` runs one on its own. Any number may run
against one database: claims are leases (see `delivery.claim_due`). Between rounds the worker
sleeps until a commit adds to the outbox (`wakeup`).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from paylinks.clock import Clock, SystemClock
from paylinks.db import Database
from paylinks.webhooks import addresses
from paylinks.webhooks.delivery import (
    LEASE,
    AttemptResult,
    Job,
    anything_due,
    claim_due,
    plain,
    record_attempt,
    record_delivered,
)
from paylinks.webhooks.sender import Aims, Sender
from paylinks.webhooks.transport import Post
from paylinks.webhooks.wakeup import Wakeup

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
        post: Post | None = None,
        allow_private: bool = False,
        resolver: addresses.Resolver = addresses.system_resolver,
        batch: int = 64,
        lease_seconds: float = LEASE.total_seconds(),
        in_process: bool = False,
    ) -> None:
        """`post`: how deliveries are sent (default: aiohttp, `transport.AiohttpPost`).
        `in_process`: the API runs in this process over the same `db` (`serve`), whose commits
        wake the worker directly."""
        self.db = db
        self.clock = clock or SystemClock()
        self.sender = Sender(
            clock=self.clock, post=post, allow_private=allow_private, resolver=resolver
        )
        self.batch = batch
        self.lease = timedelta(seconds=lease_seconds)
        self.wakeup = Wakeup(db, in_process=in_process)
        self._finished: list[tuple[Job, AttemptResult, asyncio.Future[str]]] = []
        self._recording: asyncio.Task[None] | None = None

    async def run_once(self, *, look_first: bool = True) -> int:
        """One round: claim what is due, send it all concurrently, record each; how many.
        `look_first`: check with a read before claiming (a claim takes SQLite's write lock);
        not worth it when a commit has just announced new deliveries."""
        now = self.clock.now()
        if look_first and not await self.db.read(anything_due, now=now):
            return 0
        jobs = await self.db.write(claim_due, now=now, limit=self.batch, lease=self.lease)
        aimed: Aims = {}
        await asyncio.gather(*(self._deliver_in_turn(queue, aimed) for queue in in_turns(jobs)))
        return len(jobs)

    async def run_forever(self, stop: asyncio.Event) -> None:
        self.wakeup.start()
        announced = False
        while not stop.is_set():
            try:
                sent = await self.run_once(look_first=not announced)
            except Exception:  # a database hiccup must not end delivery for good
                log.exception("webhook round failed")
                sent = 0
            # A full batch: more may be due at once.
            announced = sent == self.batch or await self.wakeup.wait(stop)

    async def _deliver_in_turn(self, queue: list[Job], aimed: Aims) -> None:
        for job in queue:
            outcome = await self.sender.send(job, aimed=aimed)
            status = await self._record(job, outcome)
            log.info(
                "webhook %s to %s: %s (%s) -> %s",
                job.event_id, job.endpoint.url, outcome.status_code, outcome.error or "ok", status,
            )  # fmt: skip

    async def _record(self, job: Job, outcome: AttemptResult) -> str:
        """Record an attempt, together with every other that finished while the previous
        record was being written (one transaction for them all); the delivery's new status."""
        recorded: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._finished.append((job, outcome, recorded))
        if self._recording is None or self._recording.done():
            self._recording = asyncio.create_task(self._record_finished())
        return await recorded

    async def _record_finished(self) -> None:
        while self._finished:
            taken, self._finished = self._finished, []
            try:
                await self._write(taken)
            except Exception as exc:  # each waiting sender's round fails, as a write would
                for _job, _outcome, recorded in taken:
                    if not recorded.done():
                        recorded.set_exception(exc)

    async def _write(self, taken: list[tuple[Job, AttemptResult, asyncio.Future[str]]]) -> None:
        now = self.clock.now()
        delivered = [(job, outcome) for job, outcome, _ in taken if plain(job, outcome)]
        if delivered:
            await self.db.write(record_delivered, done=delivered, now=now)
        for job, outcome, recorded in sorted(taken, key=lambda t: not plain(t[0], t[1])):
            status = "delivered"
            if not plain(job, outcome):
                status = await self.db.write(record_attempt, job=job, outcome=outcome, now=now)
            if not recorded.done():  # its sender may have been cancelled meanwhile
                recorded.set_result(status)

    async def close(self) -> None:
        await self.wakeup.close()
        await self.sender.close()
