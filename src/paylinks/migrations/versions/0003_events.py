"""Events, recorded in the transaction of every state change.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("pk", BigId, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(40), nullable=False, unique=True),
        sa.Column("account_pk", sa.BigInteger, sa.ForeignKey("accounts.pk"), nullable=False),
        sa.Column("livemode", sa.Boolean, nullable=False),
        sa.Column("key", sa.String(60), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("charge_pk", sa.BigInteger, sa.ForeignKey("charges.pk"), nullable=True),
        sa.Column("link_pk", sa.BigInteger, sa.ForeignKey("links.pk"), nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index(
        "ix_events_account_created", "events", ["account_pk", "livemode", "created_at", "pk"]
    )
    op.create_index("ix_events_charge", "events", ["charge_pk"])


def downgrade() -> None:
    op.drop_index("ix_events_charge", table_name="events")
    op.drop_index("ix_events_account_created", table_name="events")
    op.drop_table("events")
