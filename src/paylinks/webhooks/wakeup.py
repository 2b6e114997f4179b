"""What wakes the delivery worker: a commit that added to the outbox, not a clock.

- On SQLite, in the process that committed, the database rings its outbox bell
  (`db.note_outbox`) after the commit, from whichever thread committed.
- On PostgreSQL, every process's commits reach every worker, its own process's included (so
  the bell is not used there: it would wake the worker twice): a trigger sends
  `NOTIFY paylinks_outbox` (migration 0014) and the worker `LISTEN`s on a connection of its
  own, reconnecting when it is lost.
- Whatever was missed (a retry coming due, a SQLite write by another process, a lost
  notification) is found by a slow poll (`Wakeup.fallback_seconds`: 1 s; 5 s when listening).
  A worker on its own over SQLite has no bell and no listener: it polls quickly, as before.

An idle `serve` process thus sleeps instead of reading the outbox fifty times a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import psycopg

from paylinks.db import OUTBOX_CHANNEL, Database

log = logging.getLogger("paylinks.webhooks")

FALLBACK_SECONDS = 1.0  # the slow poll, when the in-process bell wakes the worker (SQLite)
# On PostgreSQL every commit anywhere is announced: the poll only finds retries coming due
# (scheduled a minute or more ahead) and notifications lost with a connection.
LISTENING_FALLBACK_SECONDS = 5.0
POLL_SECONDS = 0.02  # a worker on its own over SQLite: nothing else wakes it
RECONNECT_SECONDS = 1.0


class Wakeup:
    def __init__(self, db: Database, *, in_process: bool) -> None:
        """`in_process`: the API writes through this `db` in this process (`serve`)."""
        self.db = db
        self._event = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listener: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()  # LISTEN is in place (PostgreSQL)
        self.listens = db.dialect == "postgresql"
        self.fallback_seconds = POLL_SECONDS
        if self.listens:
            self.fallback_seconds = LISTENING_FALLBACK_SECONDS
        elif in_process:
            self.fallback_seconds = FALLBACK_SECONDS
            db.on_outbox(self.ring)

    def ring(self) -> None:
        """Wake the worker; safe from any thread."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._event.set)

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        if self.listens and self._listener is None:
            self._listener = asyncio.create_task(self._listen_forever())

    async def wait(self, stop: asyncio.Event) -> bool:
        """Until rung, stopped, or the fallback poll is due; whether it was rung."""
        if self._event.is_set() or stop.is_set():
            was_rung = self._event.is_set()
            self._event.clear()
            return was_rung
        stopping = asyncio.ensure_future(stop.wait())
        rung = asyncio.ensure_future(self._event.wait())
        try:
            await asyncio.wait(
                (stopping, rung),
                timeout=self.fallback_seconds,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            stopping.cancel()
            rung.cancel()
        was_rung = self._event.is_set()
        self._event.clear()
        return was_rung

    async def close(self) -> None:
        self.db.off_outbox(self.ring)
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None

    async def _listen_forever(self) -> None:
        conninfo = self.db.write_engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False
        )
        while True:
            try:
                await self._listen(conninfo)
            except (psycopg.Error, OSError) as exc:
                log.warning("outbox listener lost its connection (%s); reconnecting", exc)
            self.listening.clear()
            await asyncio.sleep(RECONNECT_SECONDS)

    async def _listen(self, conninfo: str) -> None:
        async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
            await conn.execute(f"LISTEN {OUTBOX_CHANNEL}")
            self.listening.set()
            self._event.set()  # whatever was committed before we listened
            async for _ in conn.notifies():
                self._event.set()
