"""Receipt e-mails: the `receipts` outbox (see `paylinks.receipts`).

One row per charge the hosted page made with a customer's e-mail address: "held" until the
charge is paid, then "pending" for the mailer, then "sent" (or "failed" after its last try).

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "receipts",
        sa.Column("pk", BigId, primary_key=True, autoincrement=True),
        sa.Column(
            "charge_pk", sa.BigInteger, sa.ForeignKey("charges.pk"), nullable=False, unique=True
        ),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("language", sa.String(5), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.BigInteger, nullable=True),
        sa.Column("locked_until", sa.BigInteger, nullable=True),
        sa.Column("last_error", sa.String(300), nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("sent_at", sa.BigInteger, nullable=True),
    )
    op.create_index("ix_receipts_due", "receipts", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_receipts_due", table_name="receipts")
    op.drop_table("receipts")
