"""Database access: SQLite and PostgreSQL engines, and how async code runs sync service functions.

Service functions are plain `fn(conn, **kwargs)` on a SQLAlchemy `Connection`. This module decides
on which thread and in which transaction they run:

- `read(fn)`   — a small dedicated thread pool (not Starlette's shared one), one transaction;
  on SQLite, on the event loop itself (see `read`).
- `read_offloaded(fn)` — on that thread pool on every backend: for reads that may take more than
  a few milliseconds (text search), which on the event loop would hold up every other request.
- `write(fn)`  — on SQLite, one writer thread that *group-commits*: it takes every write queued
  while the previous commit was syncing, runs each in its own SAVEPOINT inside one
  `BEGIN IMMEDIATE` transaction, commits once, and only then answers each caller. A failing job
  rolls back to its savepoint alone. At `synchronous=FULL` the fsync per commit is the ceiling
  for writes; sharing it is how creates go past it without weakening durability.
  On PostgreSQL, a pool of threads, one transaction per job (the server group-commits itself).
- `transaction()` — the same transactions for synchronous callers (CLI, worker, tests).

A write that adds to the webhook outbox says so (`note_outbox`); once it is committed the
database rings its outbox bells (`on_outbox`), so that a delivery worker in this process starts
at once instead of polling.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger("paylinks.db")

T = TypeVar("T")
P = ParamSpec("P")
BATCH_LIMIT = 64
_OUTBOX = "paylinks.outbox"  # the flag a write leaves on its connection (`note_outbox`)
OUTBOX_CHANNEL = "paylinks_outbox"  # PostgreSQL's NOTIFY channel (migration 0014)

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
)


def normalise_url(url: str) -> str:
    """Accept `postgresql://` / `postgres://` and pick the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def dialect_insert(conn: Connection, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into `table` that can say what to do on a conflict (`on_conflict_do_nothing`,
    `on_conflict_do_update`): PostgreSQL's and SQLite's share that API, core SQL has none."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def note_outbox(conn: Connection) -> None:
    """This transaction adds to the webhook outbox: ring the bells once it is committed."""
    conn.info[_OUTBOX] = True


def announce_outbox(conn: Connection) -> None:
    """Deliveries came due without a new row (migration 0014's trigger sees inserts only): wake
    the workers of this process and, on PostgreSQL, every listening worker, at commit."""
    note_outbox(conn)
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_notify(OUTBOX_CHANNEL, "")))


def _took_outbox_note(conn: Connection) -> bool:
    return bool(conn.info.pop(_OUTBOX, False))


def is_sqlite_url(url: str) -> bool:
    return url.startswith("sqlite")


def _sqlite_engine(url: str, *, begin: str, pooled: bool = True) -> Engine:
    """A SQLite engine; `hide_parameters` keeps values out of error messages and logs."""
    sa_url = sa.make_url(url)
    if sa_url.database and sa_url.database != ":memory:":
        Path(sa_url.database).parent.mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = {} if pooled else {"poolclass": sa.pool.NullPool}
    engine = sa.create_engine(
        url, connect_args={"check_same_thread": False}, hide_parameters=True, **options
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control from pysqlite: its legacy mode runs SELECTs outside any
        # transaction (a check-then-act race). We emit BEGIN ourselves below.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Straight to the driver: SQLAlchemy's execution path would cost more than BEGIN itself.
        conn.connection.dbapi_connection.execute(begin)  # type: ignore[union-attr]

    return engine


def create_engines(url: str, *, pool_size: int) -> tuple[Engine, Engine]:
    """(write engine, read engine). On SQLite writers take the lock up front (BEGIN IMMEDIATE)."""
    url = normalise_url(url)
    if is_sqlite_url(url):
        # Readers keep one connection per thread for good (see Database._reader): no pool.
        return (
            _sqlite_engine(url, begin="BEGIN IMMEDIATE"),
            _sqlite_engine(url, begin="BEGIN", pooled=False),
        )
    engine = sa.create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=1800,
        hide_parameters=True,  # values never reach error messages or logs
    )
    # Reads run in autocommit: under READ COMMITTED a read transaction gives no snapshot across
    # its statements anyway, and skipping BEGIN and COMMIT saves two round trips per read.
    return engine, engine.execution_options(isolation_level="AUTOCOMMIT")


# A service function's work once its arguments are bound: it only needs the connection.
Work = Callable[[Connection], T]


def _bind(
    fn: Callable[Concatenate[Connection, P], T], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Callable[[Connection], T]:
    def work(conn: Connection) -> T:
        return fn(conn, *args, **kwargs)

    return work


@dataclass
class _Job:
    work: Callable[[Connection], Any]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]
    result: Any = None
    error: BaseException | None = None
    done: bool = field(default=False)


class _ReaderSlot:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def __del__(self) -> None:
        self.conn.close()


class Database:
    def __init__(self, url: str, *, pool_size: int = 8) -> None:
        self.url = normalise_url(url)
        self.is_sqlite = is_sqlite_url(self.url)
        self.write_engine, self.read_engine = create_engines(self.url, pool_size=pool_size)
        self.dialect: str = self.write_engine.dialect.name  # "sqlite" or "postgresql"
        readers = 2 if self.is_sqlite else pool_size
        self._read_pool = ThreadPoolExecutor(readers, thread_name_prefix="paylinks-db-read")
        self._write_pool: ThreadPoolExecutor | None = None
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._lock = threading.Lock()
        self._local = threading.local()
        self._outbox_bells: list[Callable[[], None]] = []
        if not self.is_sqlite:
            self._write_pool = ThreadPoolExecutor(pool_size, thread_name_prefix="paylinks-db-write")

    # -- synchronous use ---------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction: committed when the block ends, rolled back if it raises."""
        with self.write_engine.begin() as conn:
            _took_outbox_note(conn)  # a note left by a transaction that rolled back
            yield conn
            rings = _took_outbox_note(conn)
        if rings:
            self.ring_outbox()

    def on_outbox(self, bell: Callable[[], None]) -> None:
        """Call `bell` (from any thread) after each commit that added to the outbox."""
        self._outbox_bells.append(bell)

    def off_outbox(self, bell: Callable[[], None]) -> None:
        if bell in self._outbox_bells:
            self._outbox_bells.remove(bell)

    def ring_outbox(self) -> None:
        for bell in self._outbox_bells:
            bell()

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """A read transaction."""
        with self.read_engine.connect() as conn, conn.begin():
            yield conn

    # -- asynchronous use --------------------------------------------------------------------

    # Each takes a service function and its arguments, typed by the function's own signature
    # (ParamSpec): mypy checks every keyword at every call site.

    async def read(
        self, fn: Callable[Concatenate[Connection, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        work = _bind(fn, args, kwargs)
        if self.is_sqlite:
            # SQLite reads are microseconds and never wait for the writer (WAL): running them on
            # the event loop costs less than a hop to a thread and back.
            return self._run_read(work)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._read_pool, self._run_read, work)

    async def read_offloaded(
        self, fn: Callable[Concatenate[Connection, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """`read`, but on the read thread pool on SQLite too: for reads whose time is not bounded
        by a page (text search). sqlite3 releases the GIL while a statement runs, so the event loop
        keeps answering other requests meanwhile."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._read_pool, self._run_read, _bind(fn, args, kwargs))

    async def write(
        self, fn: Callable[Concatenate[Connection, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        return await self.write_work(_bind(fn, args, kwargs))

    async def write_work(self, work: Callable[[Connection], T]) -> T:
        """Run bound work in a write transaction (see `write`)."""
        loop = asyncio.get_running_loop()
        if self._write_pool is not None:
            return await loop.run_in_executor(self._write_pool, self._run_write, work)
        self._ensure_writer()
        job = _Job(work, loop, loop.create_future())
        self._queue.put(job)
        result: T = await job.future
        return result

    def _run_read(self, work: Callable[[Connection], T]) -> T:
        if self.is_sqlite:
            conn = self._reader()
            with conn.begin():
                return work(conn)
        with self.snapshot() as conn:
            return work(conn)

    def _reader(self) -> Connection:
        """This thread's own long-lived SQLite read connection (no pool checkout per read);
        it is closed when the thread ends."""
        slot: _ReaderSlot | None = getattr(self._local, "slot", None)
        if slot is None:
            slot = _ReaderSlot(self.read_engine.connect())
            self._local.slot = slot
        return slot.conn

    def _run_write(self, work: Callable[[Connection], T]) -> T:
        with self.transaction() as conn:
            return work(conn)

    # -- the SQLite group-commit writer ---------------------------------------------------

    def _ensure_writer(self) -> None:
        if self._writer is not None:
            return
        with self._lock:
            if self._writer is None:
                self._writer = threading.Thread(
                    target=self._writer_loop, name="paylinks-db-writer", daemon=True
                )
                self._writer.start()

    def _writer_loop(self) -> None:
        conn = self.write_engine.connect()
        try:
            while True:
                job = self._queue.get()
                if job is None:
                    return
                batch = [job]
                stop = False
                while len(batch) < BATCH_LIMIT:
                    try:
                        nxt = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if nxt is None:
                        stop = True
                        break
                    batch.append(nxt)
                self._run_batch(conn, batch)
                if stop:
                    return
        finally:
            conn.close()

    def _run_batch(self, conn: Connection, batch: list[_Job]) -> None:
        _took_outbox_note(conn)
        rings = False
        try:
            with conn.begin():
                if len(batch) == 1:
                    self._run_job(conn, batch[0], reraise=True)
                else:
                    # Savepoints straight through the driver: SQLAlchemy's nested transactions
                    # cost more than the jobs they wrap.
                    driver = conn.connection.dbapi_connection
                    assert driver is not None
                    for job in batch:
                        driver.execute("SAVEPOINT job")
                        if self._run_job(conn, job, reraise=False):
                            driver.execute("RELEASE job")
                        else:
                            driver.execute("ROLLBACK TO job")
                            driver.execute("RELEASE job")
                rings = _took_outbox_note(conn)
        except BaseException as exc:  # the commit itself failed, or a single job raised
            if len(batch) == 1:
                batch[0].error = batch[0].error or exc
            else:
                log.warning("group commit failed (%s); retrying %d jobs alone", exc, len(batch))
                for job in batch:
                    job.error = None
                    self._run_batch(conn, [job])
                return
        if rings:
            self.ring_outbox()
        for job in batch:
            job.loop.call_soon_threadsafe(_settle, job)

    @staticmethod
    def _run_job(conn: Connection, job: _Job, *, reraise: bool) -> bool:
        try:
            job.result = job.work(conn)
            return True
        except BaseException as exc:
            job.error = exc
            if reraise:
                raise
            return False

    def close(self) -> None:
        if self._writer is not None:
            self._queue.put(None)
            self._writer.join(timeout=10)
            self._writer = None
        self._read_pool.shutdown(wait=True)
        self._local = threading.local()  # drops this thread's reader (the others end with theirs)
        if self._write_pool is not None:
            self._write_pool.shutdown(wait=True)
        self.write_engine.dispose()
        self.read_engine.dispose()


def _settle(job: _Job) -> None:
    if job.future.cancelled():
        return
    if job.error is not None:
        job.future.set_exception(job.error)
    else:
        job.future.set_result(job.result)
