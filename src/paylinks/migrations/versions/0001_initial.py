"""Accounts, API keys, links and link counters.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("pk", BigId, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(40), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("pk", BigId, primary_key=True, autoincrement=True),
        sa.Column("account_pk", sa.BigInteger, sa.ForeignKey("accounts.pk"), nullable=False),
        sa.Column("livemode", sa.Boolean, nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("public_key", sa.String(80), nullable=True),
        sa.Column("hint", sa.String(40), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("revoked_at", sa.BigInteger, nullable=True),
    )
    op.create_index("ix_api_keys_account", "api_keys", ["account_pk", "livemode", "kind"])
    op.create_table(
        "links",
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
        sa.Column("paid_count", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index(
        "ix_links_account_created", "links", ["account_pk", "livemode", "created_at", "pk"]
    )
    op.create_index(
        "ix_links_open",
        "links",
        ["account_pk", "livemode"],
        sqlite_where=sa.text("deleted = 0 AND used = 0"),
        postgresql_where=sa.text("NOT deleted AND NOT used"),
    )
    op.create_table(
        "link_counters",
        sa.Column("account_pk", sa.BigInteger, sa.ForeignKey("accounts.pk"), primary_key=True),
        sa.Column("livemode", sa.Boolean, primary_key=True),
        sa.Column("slot", sa.Integer, primary_key=True),
        sa.Column("count", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("link_counters")
    op.drop_index("ix_links_open", table_name="links")
    op.drop_index("ix_links_account_created", table_name="links")
    op.drop_table("links")
    op.drop_index("ix_api_keys_account", table_name="api_keys")
    op.drop_table("api_keys")
    op.drop_table("accounts")
