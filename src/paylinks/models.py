"""Every table, as SQLAlchemy Core metadata. Migrations create them; this file describes them.

Times are integer microseconds since the Unix epoch (UTC): one representation on SQLite and
PostgreSQL, exact ordering, cheap indexes. `clock.to_micros`/`from_micros` convert.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# SQLite only auto-increments an INTEGER PRIMARY KEY (the rowid alias).
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("pk", BigId, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(40), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("pk", BigId, primary_key=True, autoincrement=True),
    sa.Column("account_pk", sa.BigInteger, sa.ForeignKey("accounts.pk"), nullable=False),
    sa.Column("livemode", sa.Boolean, nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),  # "public" | "secret"
    # SHA-256 of the whole key: keys carry ~165 random bits, so a fast hash is safe to store.
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    # Public keys are shown again (dashboard); secret keys only as a hint ("skey_test_…abcd").
    sa.Column("public_key", sa.String(80), nullable=True),
    sa.Column("hint", sa.String(40), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("revoked_at", sa.BigInteger, nullable=True),
)

links = sa.Table(
    "links",
    metadata,
    sa.Column("pk", BigId, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(40), nullable=False, unique=True),
    sa.Column("account_pk", sa.BigInteger, sa.ForeignKey("accounts.pk"), nullable=False),
    sa.Column("livemode", sa.Boolean, nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("multiple", sa.Boolean, nullable=False),
    sa.Column("metadata", sa.Text, nullable=False, server_default="{}"),
    sa.Column("used", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("used_at", sa.BigInteger, nullable=True),
    sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("deleted_at", sa.BigInteger, nullable=True),
    sa.Column("expires_at", sa.BigInteger, nullable=True),
    sa.Column("usage_limit", sa.BigInteger, nullable=True),
    # Successful charges so far; compared with usage_limit when a payment claims the link.
    sa.Column("paid_count", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Index("ix_links_account_created", "account_pk", "livemode", "created_at", "pk"),
    # Links that may still count toward the active-link cap (expiry is checked on the few rows).
    sa.Index(
        "ix_links_open",
        "account_pk",
        "livemode",
        sqlite_where=sa.text("deleted = 0 AND used = 0"),
        postgresql_where=sa.text("NOT deleted AND NOT used"),
    ),
)

# Per (account, mode) link totals, spread over a few slots so that concurrent creates on
# PostgreSQL do not queue on one row. `total` of an unfiltered list is their sum: O(1), not a
# COUNT(*) over a million rows.
link_counters = sa.Table(
    "link_counters",
    metadata,
    sa.Column("account_pk", sa.BigInteger, sa.ForeignKey("accounts.pk"), primary_key=True),
    sa.Column("livemode", sa.Boolean, primary_key=True),
    sa.Column("slot", sa.Integer, primary_key=True),
    sa.Column("count", sa.BigInteger, nullable=False),
)
