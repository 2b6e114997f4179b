"""A full-text index for link search (title, description, metadata), so that a search does not
scan every link of the account.

SQLite: `links_search`, an FTS5 table with the trigram tokenizer (any substring of three or more
characters, case-folded) over `links` as its external content (rowid = `links.pk`); triggers keep
it in step with inserts, deletes and changes of the three columns. Anything that recreates the
`links` table (Alembic's batch mode does, for most column changes on SQLite) drops the triggers:
such a migration must create them again and rebuild the index.

PostgreSQL: `pg_trgm` and a GIN trigram index on each of the three columns, which serve search's
`title ILIKE '%word%' OR description ILIKE ... OR metadata ILIKE ...` as it is (one index on the
three as one text was tried: a word in most links then costs twice the plain scan, which stops
at the title, and a rare word twice as much as with these). The extension is created when
missing (it is a trusted extension: the database's owner may create it) and left in place by the
downgrade, as other objects may use it. Building the indexes locks the table against writes for
the time it takes (0.6 s for 100,000 links).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

PG_COLUMNS = ("title", "description", "metadata")

SQLITE_UPGRADE = (
    "CREATE VIRTUAL TABLE links_search USING fts5("
    "title, description, metadata, content='links', content_rowid='pk', tokenize='trigram')",
    "CREATE TRIGGER links_search_insert AFTER INSERT ON links BEGIN "
    "INSERT INTO links_search (rowid, title, description, metadata) "
    "VALUES (new.pk, new.title, new.description, new.metadata); "
    "END",
    "CREATE TRIGGER links_search_delete AFTER DELETE ON links BEGIN "
    "INSERT INTO links_search (links_search, rowid, title, description, metadata) "
    "VALUES ('delete', old.pk, old.title, old.description, old.metadata); "
    "END",
    # Only changes of the indexed columns: paid_count, views, used and deleted change often.
    "CREATE TRIGGER links_search_update AFTER UPDATE OF title, description, metadata ON links "
    "BEGIN "
    "INSERT INTO links_search (links_search, rowid, title, description, metadata) "
    "VALUES ('delete', old.pk, old.title, old.description, old.metadata); "
    "INSERT INTO links_search (rowid, title, description, metadata) "
    "VALUES (new.pk, new.title, new.description, new.metadata); "
    "END",
    # The links that exist already.
    "INSERT INTO links_search (links_search) VALUES ('rebuild')",
)

SQLITE_DOWNGRADE = (
    "DROP TRIGGER links_search_update",
    "DROP TRIGGER links_search_delete",
    "DROP TRIGGER links_search_insert",
    "DROP TABLE links_search",
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_UPGRADE:
            op.execute(statement)
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in PG_COLUMNS:
        op.execute(
            f"CREATE INDEX ix_links_search_{column} ON links USING gin ({column} gin_trgm_ops)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_DOWNGRADE:
            op.execute(statement)
        return
    for column in PG_COLUMNS:
        op.execute(f"DROP INDEX ix_links_search_{column}")
