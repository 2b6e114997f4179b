"""PostgreSQL: tell listening delivery workers when the webhook outbox gains rows.

A statement-level trigger on `webhook_deliveries` sends `NOTIFY paylinks_outbox` (delivered
when the inserting transaction commits; several in one transaction arrive as one). Workers
`LISTEN` on that channel instead of polling (`webhooks.wakeup`). Costs the inserting request no
round trip. SQLite has no equivalent: there a worker sharing the API's process is woken
in-process, and a worker on its own polls.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

CHANNEL = "paylinks_outbox"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        CREATE FUNCTION paylinks_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', '');
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER webhook_deliveries_notify AFTER INSERT ON webhook_deliveries "
        "FOR EACH STATEMENT EXECUTE FUNCTION paylinks_outbox_notify()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER webhook_deliveries_notify ON webhook_deliveries")
    op.execute("DROP FUNCTION paylinks_outbox_notify()")
