"""The merchant dashboard: users (e-mail and password), server-side sessions, the payment page's
branding per account, and links whose customer decides the amount.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("pk", BigId, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(40), nullable=False, unique=True),
        sa.Column("account_pk", sa.BigInteger, sa.ForeignKey("accounts.pk"), nullable=False),
        sa.Column("email", sa.String(254), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "dashboard_sessions",
        sa.Column("pk", BigId, primary_key=True, autoincrement=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("account_pk", sa.BigInteger, sa.ForeignKey("accounts.pk"), nullable=False),
        sa.Column("user_pk", sa.BigInteger, sa.ForeignKey("users.pk"), nullable=True),
        sa.Column("livemode", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "account_branding",
        sa.Column("account_pk", sa.BigInteger, sa.ForeignKey("accounts.pk"), primary_key=True),
        sa.Column("display_name", sa.String(100), nullable=True),
        sa.Column("brand_color", sa.String(7), nullable=True),
        sa.Column("support_email", sa.String(254), nullable=True),
        sa.Column("logo", sa.LargeBinary, nullable=True),
        sa.Column("logo_type", sa.String(40), nullable=True),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    with op.batch_alter_table("links") as table:
        table.add_column(
            sa.Column("amount_type", sa.String(10), nullable=False, server_default="fixed")
        )
        table.add_column(sa.Column("amount_min", sa.BigInteger, nullable=True))
        table.add_column(sa.Column("amount_max", sa.BigInteger, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("links") as table:
        table.drop_column("amount_max")
        table.drop_column("amount_min")
        table.drop_column("amount_type")
    op.drop_table("account_branding")
    op.drop_table("dashboard_sessions")
    op.drop_table("users")
