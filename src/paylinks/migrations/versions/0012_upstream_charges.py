"""Live charges made at Omise: the Omise charge's id beside the paylinks charge.

- `charges.upstream_id`: the processor's id for the charge (`chrg_…` at Omise), recorded from
  its answer; what refunds, captures and Omise's webhooks name it by. Indexed for the webhooks.
- `charges.upstream_authorize_uri`: where Omise's 3-D Secure step is, while a live charge waits
  for its customer there (the charge's `authorize_uri` then).
- `refunds.status`: `closed` (made), or `pending` while a live refund waits for Omise's answer
  (its amount reserved against the charge; no event until Omise confirms it). Indexed for the
  sweeper that settles the pending ones.
- `omise_connections.webhook_secret_sealed`: the secret Omise signs its webhooks to paylinks
  with (from Omise's dashboard), sealed like the secret key; none until the merchant gives it.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("charges", sa.Column("upstream_id", sa.String(60), nullable=True))
    op.create_index("ix_charges_upstream", "charges", ["upstream_id"])
    op.add_column("charges", sa.Column("upstream_authorize_uri", sa.Text, nullable=True))
    op.add_column(
        "refunds", sa.Column("status", sa.String(10), nullable=False, server_default="closed")
    )
    op.create_index("ix_refunds_status", "refunds", ["status", "created_at"])
    op.add_column("omise_connections", sa.Column("webhook_secret_sealed", sa.Text, nullable=True))


def downgrade() -> None:
    op.drop_column("omise_connections", "webhook_secret_sealed")
    op.drop_index("ix_refunds_status", "refunds")
    op.drop_column("refunds", "status")
    op.drop_column("charges", "upstream_authorize_uri")
    op.drop_index("ix_charges_upstream", "charges")
    op.drop_column("charges", "upstream_id")
