"""The account's time zone: the dashboard shows its times there and reads the times merchants
type (a link's expiry) there. NULL means the default, Asia/Bangkok (`dashboard.pages`); an IANA
name otherwise, checked with zoneinfo before it is stored.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("accounts", sa.Column("time_zone", sa.String(64), nullable=True))


def downgrade() -> None:
    # In place (SQLite 3.35+ drops a plain column), as 0010 does: a batch copy of `accounts`
    # would trip the foreign keys that point at it.
    op.drop_column("accounts", "time_zone")
