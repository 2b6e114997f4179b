"""Forgetting what has expired: idempotency keys after 24 hours, dashboard sessions after their
end. Runs in every `serve` process and `paylinks worker` (deleting twice is harmless)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

from sqlalchemy.engine import Connection

from paylinks.api import idempotency
from paylinks.clock import Clock, to_micros
from paylinks.db import Database
from paylinks.models import dashboard_sessions

log = logging.getLogger("paylinks.housekeeping")
EVERY_SECONDS = 600.0


def sweep(conn: Connection, *, now: datetime) -> int:
    """Delete what has expired; how many rows."""
    keys = idempotency.reap(conn, now=now)
    gone = conn.execute(
        dashboard_sessions.delete().where(dashboard_sessions.c.expires_at <= to_micros(now))
    )
    return keys + int(gone.rowcount or 0)


async def run_forever(
    db: Database, clock: Clock, stop: asyncio.Event, every: float = EVERY_SECONDS
) -> None:
    while not stop.is_set():
        try:
            await db.write(sweep, now=clock.now())
        except Exception:  # a database hiccup must not end housekeeping for good
            log.exception("housekeeping failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
