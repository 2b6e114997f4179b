"""Live PromptPay through Omise: the QR image Omise made for a source.

- `sources.upstream_image_uri`: where Omise serves the QR image of a live PromptPay source
  (its `scannable_code.image.download_uri`), recorded from Omise's answer to the charge; the
  hosted page shows that image and the API answers with it. None for test-mode sources, whose
  QR paylinks draws from `payload`.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sources", sa.Column("upstream_image_uri", sa.Text, nullable=True))


def downgrade() -> None:
    op.drop_column("sources", "upstream_image_uri")
