"""Security: a dashboard session remembers the API key that opened it (rolling the key ends the
session), and users carry a failed sign-in count and a lock-out time.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Batch mode: SQLite adds a column with a foreign key by copying the table.
    with op.batch_alter_table("dashboard_sessions") as batch:
        batch.add_column(sa.Column("api_key_pk", sa.BigInteger, nullable=True))
        batch.create_foreign_key(
            "fk_dashboard_sessions_api_key", "api_keys", ["api_key_pk"], ["pk"]
        )
        batch.create_index("ix_dashboard_sessions_api_key", ["api_key_pk"])
        batch.create_index("ix_dashboard_sessions_user", ["user_pk"])
    # Sessions opened with a key before this revision cannot say which key: end them.
    op.execute("DELETE FROM dashboard_sessions WHERE user_pk IS NULL")
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("failed_sign_ins", sa.Integer, nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("locked_until", sa.BigInteger, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("locked_until")
        batch.drop_column("failed_sign_ins")
    with op.batch_alter_table("dashboard_sessions") as batch:
        batch.drop_index("ix_dashboard_sessions_user")
        batch.drop_index("ix_dashboard_sessions_api_key")
        batch.drop_constraint("fk_dashboard_sessions_api_key", type_="foreignkey")
        batch.drop_column("api_key_pk")
