"""The test vocabulary: databases (SQLite always, PostgreSQL when reachable or required), apps,
clients and accounts. Every test that takes `db` (directly or through `client`) runs on both."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import kinds
import pytest
import sqlalchemy as sa
from factories import TestAccount, auth, make_account, quiet_settings
from starlette.testclient import TestClient

from paylinks import migrate
from paylinks.app import create_app
from paylinks.db import Database, normalise_url
from paylinks.models import webhook_deliveries

__all__ = ["TestAccount", "auth", "make_account"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--require-postgres",
        action="store_true",
        help="fail, instead of skipping, when PAYLINKS_TEST_POSTGRES_URL is unset or unreachable",
    )
    parser.addoption(
        "--test-kinds", action="store_true", help="print how many tests there are of each kind"
    )
    parser.addoption(
        "--require-redis",
        action="store_true",
        help="fail, instead of skipping, when Redis (PAYLINKS_TEST_REDIS_URL) is unreachable",
    )


def pytest_collection_finish(session: pytest.Session) -> None:
    """`pytest --collect-only -q -p no:xdist --test-kinds`: the count by kind (tests/kinds.py),
    so that "N tests" means something (docs/testing.md)."""
    if session.config.getoption("--test-kinds"):
        print("\n" + kinds.summary(list(session.items)))


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, created from the admin URL."""
    admin_url = os.environ.get("PAYLINKS_TEST_POSTGRES_URL", "")
    required = request.config.getoption("--require-postgres")
    if not admin_url:
        if required:
            pytest.fail("--require-postgres: PAYLINKS_TEST_POSTGRES_URL is not set")
        pytest.skip("PAYLINKS_TEST_POSTGRES_URL is not set")
    name = f"paylinks_test_{_worker()}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        admin.dispose()
        if required:
            pytest.fail(f"--require-postgres: cannot reach PostgreSQL at {admin_url}: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {admin_url}")
    url = sa.make_url(normalise_url(admin_url)).set(database=name)
    yield url.render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'paylinks.db'}"


@pytest.fixture(scope="session")
def sqlite_database(sqlite_url: str) -> Iterator[Database]:
    db = Database(sqlite_url)
    migrate.upgrade(db.write_engine)
    yield db
    db.close()


@pytest.fixture(scope="session")
def postgres_database(postgres_url: str) -> Iterator[Database]:
    db = Database(postgres_url)
    migrate.upgrade(db.write_engine)
    yield db
    db.close()


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest) -> Database:
    """The database under test; each test runs once per backend. Tests stay independent by
    working in accounts of their own, so nothing is truncated between them."""
    database: Database = request.getfixturevalue(f"{request.param}_database")
    return database


@pytest.fixture
def database_url(db: Database) -> str:
    return db.url


@pytest.fixture
def account(db: Database) -> TestAccount:
    return make_account(db)


@pytest.fixture
def other_account(db: Database) -> TestAccount:
    return make_account(db, "Someone else")


AppFactory = Callable[..., TestClient]


@pytest.fixture
def make_client(db: Database) -> Iterator[AppFactory]:
    """Build a client for an app with some settings changed (and optional clock/limiter)."""
    clients: list[TestClient] = []

    def factory(*, clock: Any = None, limiter: Any = None, **overrides: Any) -> TestClient:
        app = create_app(quiet_settings(**overrides), database=db, clock=clock, limiter=limiter)
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: AppFactory) -> TestClient:
    return make_client()


@pytest.fixture
def empty_outbox(db: Database) -> None:
    """Cancel every pending webhook delivery, so that a worker run by the test sends only what
    the test queues. The database is shared by a session's tests (one session per xdist worker,
    whose tests run one after another), and a worker claims whatever is due."""
    with db.transaction() as conn:
        conn.execute(
            webhook_deliveries.update()
            .where(webhook_deliveries.c.status == "pending")
            .values(status="cancelled")
        )


@pytest.fixture(scope="session")
def redis_url(request: pytest.FixtureRequest) -> str:
    """A Redis for shared rate limits: skipped when unreachable, a failure under --require-redis."""
    import redis

    url = os.environ.get("PAYLINKS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError as exc:
        if request.config.getoption("--require-redis"):
            pytest.fail(f"Redis is required in CI and unreachable at {url}: {exc}")
        pytest.skip(f"Redis unreachable at {url}")
    return url


@pytest.fixture(scope="module")
def own_postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A PostgreSQL database of the module's own, migrated: for tests that run servers and
    workers over whole tables (the session's database is shared by other tests)."""
    request.getfixturevalue("postgres_url")  # skips, or fails under --require-postgres
    admin_url = normalise_url(os.environ["PAYLINKS_TEST_POSTGRES_URL"])
    name = f"paylinks_own_{_worker()}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    migrate.upgrade(db.write_engine)
    db.close()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
