"""Money after the payment: refunds, authorize-then-capture, 3-D Secure, charge expiry, and an
account's test clock.

- `refunds`: one row per refund of a charge (never more than the charge captured: the charge's
  `refunded_amount` is raised by a conditional UPDATE in the refund's transaction);
- `charges`: what was asked (`capture`, `return_uri`), what happened (`authorized_at`,
  `reversed_at`, `expired_at`, `refunded_amount`), when a pending charge lapses (`expires_at`,
  with an index for the sweeper) and where its 3-D Secure step stands (`authentication`);
- the one-success-per-single-use-link index now also counts an authorized, uncaptured charge;
- `accounts`: 3-D Secure on the hosted page (`three_d_secure`) and the test clock's offset in
  microseconds (`clock_offset`; test mode only).

Columns are added in place (no table copy on SQLite, so the link search triggers are untouched).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ONE_SUCCESS = "ux_charges_one_success_per_single_use_link"
OLD_WHERE = ("single_use_link = 1 AND status = 'successful'",
             "single_use_link AND status = 'successful'")  # fmt: skip
NEW_WHERE = (
    "single_use_link = 1 AND (status = 'successful' "
    "OR (status = 'pending' AND authorized_at IS NOT NULL))",
    "single_use_link AND (status = 'successful' "
    "OR (status = 'pending' AND authorized_at IS NOT NULL))",
)


def _one_success_index(where: tuple[str, str]) -> None:
    sqlite, postgresql = where
    op.create_index(
        ONE_SUCCESS,
        "charges",
        ["link_pk"],
        unique=True,
        sqlite_where=sa.text(sqlite),
        postgresql_where=sa.text(postgresql),
    )


CHARGE_COLUMNS = (
    ("capture", sa.Boolean, {"nullable": False, "server_default": sa.true()}),
    ("authorized_at", sa.BigInteger, {"nullable": True}),
    ("reversed_at", sa.BigInteger, {"nullable": True}),
    ("expires_at", sa.BigInteger, {"nullable": True}),
    ("expired_at", sa.BigInteger, {"nullable": True}),
    ("refunded_amount", sa.BigInteger, {"nullable": False, "server_default": "0"}),
    ("return_uri", sa.Text, {"nullable": True}),
    ("authentication", sa.String(10), {"nullable": True}),
)


def upgrade() -> None:
    for name, kind, options in CHARGE_COLUMNS:
        op.add_column("charges", sa.Column(name, kind, **options))
    # Charges authorized before this revision were captured at once.
    op.execute("UPDATE charges SET authorized_at = paid_at WHERE status = 'successful'")
    op.drop_index(ONE_SUCCESS, table_name="charges")
    _one_success_index(NEW_WHERE)
    op.create_index(
        "ix_charges_pending_expiry",
        "charges",
        ["expires_at"],
        sqlite_where=sa.text("status = 'pending' AND expires_at IS NOT NULL"),
        postgresql_where=sa.text("status = 'pending' AND expires_at IS NOT NULL"),
    )
    op.add_column(
        "accounts",
        sa.Column("three_d_secure", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "accounts", sa.Column("clock_offset", sa.BigInteger, nullable=False, server_default="0")
    )
    op.create_table(
        "refunds",
        sa.Column("pk", BigId, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(40), nullable=False, unique=True),
        sa.Column("account_pk", sa.BigInteger, sa.ForeignKey("accounts.pk"), nullable=False),
        sa.Column("livemode", sa.Boolean, nullable=False),
        sa.Column("charge_pk", sa.BigInteger, sa.ForeignKey("charges.pk"), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("metadata", sa.Text, nullable=False, server_default="{}"),
        sa.Column("transaction_id", sa.String(40), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index(
        "ix_refunds_account_created", "refunds", ["account_pk", "livemode", "created_at", "pk"]
    )
    op.create_index("ix_refunds_charge", "refunds", ["charge_pk", "created_at", "pk"])


def downgrade() -> None:
    op.drop_index("ix_refunds_charge", table_name="refunds")
    op.drop_index("ix_refunds_account_created", table_name="refunds")
    op.drop_table("refunds")
    # In place (SQLite 3.35+ drops a plain column): a batch copy of `accounts` would trip the
    # foreign keys that point at it.
    op.drop_column("accounts", "clock_offset")
    op.drop_column("accounts", "three_d_secure")
    op.drop_index("ix_charges_pending_expiry", table_name="charges")
    op.drop_index(ONE_SUCCESS, table_name="charges")
    _one_success_index(OLD_WHERE)
    for name, _kind, _options in reversed(CHARGE_COLUMNS):
        op.drop_column("charges", name)
