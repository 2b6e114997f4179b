"""Payments: instance secrets, tokens, sources, charges; link views; account PromptPay id.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("accounts", sa.Column("promptpay_id", sa.String(20), nullable=True))
    op.add_column("links", sa.Column("views", sa.BigInteger, nullable=False, server_default="0"))
    op.create_table(
        "instance_secrets",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("value", sa.String(128), nullable=False),
    )
    op.create_table(
        "tokens",
        sa.Column("pk", BigId, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(40), nullable=False, unique=True),
        sa.Column("account_pk", sa.BigInteger, sa.ForeignKey("accounts.pk"), nullable=False),
        sa.Column("livemode", sa.Boolean, nullable=False),
        sa.Column("used", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("card", sa.Text, nullable=False),
        sa.Column("processor_ref", sa.String(80), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "sources",
        sa.Column("pk", BigId, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(40), nullable=False, unique=True),
        sa.Column("account_pk", sa.BigInteger, sa.ForeignKey("accounts.pk"), nullable=False),
        sa.Column("livemode", sa.Boolean, nullable=False),
        sa.Column("type", sa.String(30), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("used", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "charges",
        sa.Column("pk", BigId, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(40), nullable=False, unique=True),
        sa.Column("account_pk", sa.BigInteger, sa.ForeignKey("accounts.pk"), nullable=False),
        sa.Column("livemode", sa.Boolean, nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("metadata", sa.Text, nullable=False, server_default="{}"),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("card", sa.Text, nullable=True),
        sa.Column("source_pk", sa.BigInteger, sa.ForeignKey("sources.pk"), nullable=True),
        sa.Column("token_pk", sa.BigInteger, sa.ForeignKey("tokens.pk"), nullable=True),
        sa.Column("link_pk", sa.BigInteger, sa.ForeignKey("links.pk"), nullable=True),
        sa.Column("single_use_link", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("customer_email", sa.String(254), nullable=True),
        sa.Column("failure_code", sa.String(60), nullable=True),
        sa.Column("failure_message", sa.String(300), nullable=True),
        sa.Column("transaction_id", sa.String(40), nullable=True),
        sa.Column("paid_at", sa.BigInteger, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index(
        "ix_charges_account_created", "charges", ["account_pk", "livemode", "created_at", "pk"]
    )
    op.create_index("ix_charges_link", "charges", ["link_pk", "created_at", "pk"])
    op.create_index(
        "ux_charges_one_success_per_single_use_link",
        "charges",
        ["link_pk"],
        unique=True,
        sqlite_where=sa.text("single_use_link = 1 AND status = 'successful'"),
        postgresql_where=sa.text("single_use_link AND status = 'successful'"),
    )


def downgrade() -> None:
    op.drop_index("ux_charges_one_success_per_single_use_link", table_name="charges")
    op.drop_index("ix_charges_link", table_name="charges")
    op.drop_index("ix_charges_account_created", table_name="charges")
    op.drop_table("charges")
    op.drop_table("sources")
    op.drop_table("tokens")
    op.drop_table("instance_secrets")
    with op.batch_alter_table("links") as batch:
        batch.drop_column("views")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("promptpay_id")
