"""Migrations apply cleanly to empty SQLite and PostgreSQL databases, and back."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from paylinks import migrate
from paylinks.db import Database, normalise_url

TABLES = {
    "accounts", "api_keys", "links", "link_counters", "alembic_version",
    "instance_secrets", "tokens", "sources", "charges", "events",
    "webhook_endpoints", "webhook_deliveries", "webhook_attempts",
    "users", "dashboard_sessions", "account_branding", "idempotency_keys",
}  # fmt: skip


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'empty.db'}")
        yield db
        db.close()
        return
    admin_url = request.getfixturevalue("postgres_url")
    name = f"paylinks_migrate_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    db = Database(sa.make_url(normalise_url(admin_url)).set(database=name).render_as_string(False))
    yield db
    db.close()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.dispose()


def test_upgrade_from_empty_creates_schema_and_reaches_head(empty_database: Database) -> None:
    engine = empty_database.write_engine
    assert migrate.current_revision(engine) is None
    migrate.upgrade(engine)
    assert migrate.is_current(engine)
    inspector = sa.inspect(engine)
    assert set(inspector.get_table_names()) == TABLES
    indexes = {ix["name"] for ix in inspector.get_indexes("links")}
    assert {"ix_links_account_created", "ix_links_open"} <= indexes
    migrate.upgrade(engine)  # a second run is a no-op
    assert migrate.is_current(engine)


def test_downgrade_to_base_removes_everything(empty_database: Database) -> None:
    engine = empty_database.write_engine
    migrate.upgrade(engine)
    migrate.downgrade(engine, "base")
    assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}


def test_sqlite_connections_use_wal_full_sync_and_foreign_keys(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'pragma.db'}")
    with db.snapshot() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    db.close()
