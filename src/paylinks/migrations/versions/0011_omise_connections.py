"""Live payments through Omise: each account's connection to its own Omise account.

- `omise_connections`: one row per connected account; the public key as given (it is published
  in payment pages anyway) and the secret key sealed (AES-GCM with a key derived from the
  installation's secret, bound to the account), with its last four characters to show, and
  the currencies Omise said the account takes.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "omise_connections",
        sa.Column("account_pk", sa.BigInteger, sa.ForeignKey("accounts.pk"), primary_key=True),
        sa.Column("public_key", sa.String(80), nullable=False),
        sa.Column("secret_key_sealed", sa.Text, nullable=False),
        sa.Column("secret_key_last4", sa.String(4), nullable=False),
        # The currencies Omise said the account takes (its capability, read when connecting).
        sa.Column("currencies", sa.Text, nullable=False, server_default="[]"),
        sa.Column("connected_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("omise_connections")
