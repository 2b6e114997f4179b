"""Migrations apply cleanly to empty SQLite and PostgreSQL databases, and back."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from paylinks import migrate
from paylinks.auth import Principal
from paylinks.db import Database, normalise_url
from paylinks.links import search as links_search
from paylinks.models import link_counters, links
from paylinks.search import service as search

TABLES = {
    "accounts", "api_keys", "links", "link_counters", "alembic_version",
    "instance_secrets", "tokens", "sources", "charges", "events",
    "webhook_endpoints", "webhook_deliveries", "webhook_attempts",
    "users", "dashboard_sessions", "account_branding", "idempotency_keys", "refunds",
    "omise_connections", "receipts",
}  # fmt: skip
# SQLite's FTS5 search index (migration 0009) and its shadow tables.
SQLITE_SEARCH_TABLES = {
    "links_search", "links_search_data", "links_search_idx", "links_search_docsize",
    "links_search_config",
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
    sqlite = engine.dialect.name == "sqlite"
    assert set(inspector.get_table_names()) == TABLES | (SQLITE_SEARCH_TABLES if sqlite else set())
    indexes = {ix["name"] for ix in inspector.get_indexes("links")}
    assert {"ix_links_account_created", "ix_links_open"} <= indexes
    search_indexes = {"ix_links_search_title", "ix_links_search_description",
                      "ix_links_search_metadata"}  # fmt: skip
    assert sqlite or search_indexes <= indexes
    migrate.upgrade(engine)  # a second run is a no-op
    assert migrate.is_current(engine)


def test_downgrade_to_base_removes_everything(empty_database: Database) -> None:
    engine = empty_database.write_engine
    migrate.upgrade(engine)
    migrate.downgrade(engine, "base")
    assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}


def link_row(account_pk: int, i: int, title: str) -> dict[str, object]:
    return {
        "id": f"payl_test_{i:019d}", "account_pk": account_pk, "livemode": False,
        "amount": 100000, "currency": "thb", "title": title, "description": f"About item {i}",
        "multiple": False, "metadata": f'{{"ref": "R-{i}"}}', "created_at": i,
    }  # fmt: skip


def found(db: Database, account_pk: int, query: str) -> list[str]:
    text = search.SearchQuery("link", query, {}, "chronological", 1, 30)
    conditions = search.link_conditions(text, now=datetime.now(UTC))
    principal = Principal(account_pk, "acct_x", False, "secret", key_hash="")
    with db.snapshot() as conn:
        matches, _ = links_search.search_links(
            conn, principal=principal, conditions=conditions, reverse=False, limit=30,
            offset=0, text_match=search.fts_match(query, db.dialect),
        )  # fmt: skip
    return [link.title for link in matches]


def search_objects(db: Database) -> set[str]:
    """The search index's own objects: FTS5 table and triggers, or the trigram indexes."""
    with db.snapshot() as conn:
        if db.dialect == "sqlite":
            names = conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE name LIKE 'links_search%'"
            ).scalars()
        else:
            names = conn.exec_driver_sql(
                "SELECT indexname FROM pg_indexes WHERE indexname LIKE 'ix_links_search%%'"
            ).scalars()
        return set(names)


def test_the_search_index_is_built_for_existing_links_and_removed_cleanly(
    empty_database: Database,
) -> None:
    db = empty_database
    migrate.upgrade(db.write_engine, "0008")
    with db.transaction() as conn:
        account_pk = conn.execute(
            sa.text("INSERT INTO accounts (id, name, created_at) VALUES ('acct_m', 'M', 0)"
                    " RETURNING pk")
        ).scalar_one()  # fmt: skip
        conn.execute(links.insert(), [link_row(account_pk, 1, "Blue kettle"),
                                      link_row(account_pk, 2, "Green teapot")])  # fmt: skip
        # As if the account had many links: SQLite's search then starts from its text index.
        conn.execute(link_counters.insert().values(account_pk=account_pk, livemode=False,
                                                   slot=0, count=1000))  # fmt: skip
    migrate.upgrade(db.write_engine)
    assert search_objects(db)
    assert found(db, account_pk, "kettle") == ["Blue kettle"]  # the backfill
    assert found(db, account_pk, "about r-2") == ["Green teapot"]
    if db.dialect == "sqlite":
        with db.transaction() as conn:
            conn.exec_driver_sql(
                "INSERT INTO links_search (links_search, rank) VALUES ('integrity-check', 1)"
            )
            matches = conn.exec_driver_sql(
                "SELECT rowid FROM links_search WHERE links_search MATCH '\"kettle\"'"
            ).scalars()
            assert list(matches) == [1]

    migrate.downgrade(db.write_engine, "0008")
    assert search_objects(db) == set()
    with db.transaction() as conn:  # no trigger is left to write to a table that is gone
        conn.execute(links.insert(), [link_row(account_pk, 3, "Red kettle")])
        conn.execute(links.update().where(links.c.pk == 1).values(title="Blue jug"))
        conn.execute(links.delete().where(links.c.title == "Green teapot"))
    after_0009 = {"refunds", "omise_connections", "receipts"}  # 0010, 0011, 0016
    assert set(sa.inspect(db.write_engine).get_table_names()) == TABLES - after_0009

    migrate.upgrade(db.write_engine)  # and up again, over the changes made meanwhile
    assert found(db, account_pk, "kettle") == ["Red kettle"]
    assert found(db, account_pk, "jug") == ["Blue jug"]
    assert found(db, account_pk, "teapot") == []


def test_sqlite_connections_use_wal_full_sync_and_foreign_keys(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'pragma.db'}")
    with db.snapshot() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    db.close()
