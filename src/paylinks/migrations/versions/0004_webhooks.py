"""Webhook endpoints, the delivery outbox and the attempt log.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "webhook_endpoints",
        sa.Column("pk", BigId, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(40), nullable=False, unique=True),
        sa.Column("account_pk", sa.BigInteger, sa.ForeignKey("accounts.pk"), nullable=False),
        sa.Column("livemode", sa.Boolean, nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("events", sa.Text, nullable=True),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("scheme", sa.String(10), nullable=False),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("previous_secret", sa.String(100), nullable=True),
        sa.Column("previous_secret_until", sa.BigInteger, nullable=True),
        sa.Column("disabled_reason", sa.String(200), nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_webhook_endpoints_account", "webhook_endpoints", ["account_pk", "livemode"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("pk", BigId, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(40), nullable=False, unique=True),
        sa.Column("event_pk", sa.BigInteger, sa.ForeignKey("events.pk"), nullable=False),
        sa.Column(
            "endpoint_pk", sa.BigInteger, sa.ForeignKey("webhook_endpoints.pk"), nullable=False
        ),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.BigInteger, nullable=True),
        sa.Column("locked_until", sa.BigInteger, nullable=True),
        sa.Column("last_status", sa.Integer, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index(
        "ix_webhook_deliveries_due", "webhook_deliveries", ["status", "next_attempt_at"]
    )
    op.create_index("ix_webhook_deliveries_event", "webhook_deliveries", ["event_pk"])
    op.create_table(
        "webhook_attempts",
        sa.Column("pk", BigId, primary_key=True, autoincrement=True),
        sa.Column(
            "delivery_pk", sa.BigInteger, sa.ForeignKey("webhook_deliveries.pk"), nullable=False
        ),
        sa.Column("attempted_at", sa.BigInteger, nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("latency_ms", sa.Integer, nullable=False),
        sa.Column("response_excerpt", sa.String(500), nullable=True),
        sa.Column("error", sa.String(300), nullable=True),
    )
    op.create_index("ix_webhook_attempts_delivery", "webhook_attempts", ["delivery_pk"])


def downgrade() -> None:
    op.drop_index("ix_webhook_attempts_delivery", table_name="webhook_attempts")
    op.drop_table("webhook_attempts")
    op.drop_index("ix_webhook_deliveries_event", table_name="webhook_deliveries")
    op.drop_index("ix_webhook_deliveries_due", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_index("ix_webhook_endpoints_account", table_name="webhook_endpoints")
    op.drop_table("webhook_endpoints")
