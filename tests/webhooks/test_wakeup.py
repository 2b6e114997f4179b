"""What wakes the delivery worker: a commit that adds to the outbox (the database's bell in the
same process; PostgreSQL's NOTIFY from any process), not a clock. Each test puts the worker's
slow poll an hour away, so a delivery that arrives was brought by the wake-up under test."""

from __future__ import annotations

import asyncio

import pytest
from factories import TestAccount, add_endpoint, principal_of, queue_event, queue_one_event
from receivers import Receiver, receiver

from paylinks.db import Database
from paylinks.webhooks.worker import Worker

pytestmark = pytest.mark.usefixtures("empty_outbox")
AN_HOUR = 3600.0


async def arrived(rx: Receiver, count: int, within: float = 20.0) -> None:
    """Wait for the receiver to hold `count` deliveries (a condition, not a duration)."""
    deadline = asyncio.get_running_loop().time() + within
    while len(rx.received) < count:
        assert asyncio.get_running_loop().time() < deadline, f"{len(rx.received)} of {count}"
        await asyncio.sleep(0.01)


class SleepingWorker:
    """A worker running in the background whose slow poll is an hour away."""

    def __init__(self, db: Database, *, in_process: bool) -> None:
        self.worker = Worker(db, in_process=in_process)
        self.worker.wakeup.fallback_seconds = AN_HOUR
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(self.worker.run_forever(self.stop))

    async def stopped(self) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, 15)
        await self.worker.close()


def test_a_commit_in_the_same_process_wakes_the_worker(account: TestAccount, db: Database) -> None:
    """The first event is sent by the worker's first round; after it the worker sleeps (the
    poll an hour away) until the second event's commit, through `Database.write`, wakes it: on
    SQLite the bell rung by the group-committing writer thread, on PostgreSQL the NOTIFY that
    reaches every worker, this process's own included."""
    principal = principal_of(account)

    async def scenario(rx: Receiver) -> None:
        await db.write(queue_event, principal=principal)
        sleeping = SleepingWorker(db, in_process=True)
        try:
            await arrived(rx, 1)
            await db.write(queue_event, principal=principal)
            await arrived(rx, 2)
        finally:
            await sleeping.stopped()

    with receiver() as rx:
        add_endpoint(db, account, rx.url, keys=["link.create"])
        asyncio.run(scenario(rx))
    assert len(rx.received) == 2


@pytest.mark.parametrize("db", ["postgres"], indirect=True)
def test_a_commit_in_another_process_wakes_the_worker_on_postgresql(
    account: TestAccount, db: Database
) -> None:
    """The write goes through a Database of its own (another process, as far as bells go): only
    PostgreSQL's NOTIFY, sent by migration 0014's trigger at commit, can wake the worker."""
    elsewhere = Database(db.url)
    principal = principal_of(account)

    async def scenario(rx: Receiver) -> None:
        sleeping = SleepingWorker(db, in_process=False)
        try:
            await asyncio.wait_for(sleeping.worker.wakeup.listening.wait(), 15)
            for count in (1, 2):
                await asyncio.to_thread(queue_one_event, elsewhere, principal)
                await arrived(rx, count)
        finally:
            await sleeping.stopped()

    try:
        with receiver() as rx:
            add_endpoint(db, account, rx.url, keys=["link.create"])
            asyncio.run(scenario(rx))
    finally:
        elsewhere.close()
    assert len(rx.received) == 2


def test_a_worker_on_its_own_over_sqlite_still_polls(sqlite_database: Database) -> None:
    """Nothing can announce another process's SQLite commit: such a worker keeps its quick
    poll, and every other worker sleeps until woken (a second's poll as a fallback)."""
    assert Worker(sqlite_database).wakeup.fallback_seconds <= 0.05
    assert Worker(sqlite_database, in_process=True).wakeup.fallback_seconds >= 1
