"""Every table, as SQLAlchemy Core metadata. Migrations create them; this package describes
them: the payment tables here, the dashboard's people in `people` (imported below, so that
`from paylinks.models import users` and `metadata` know every table).

Times are integer microseconds since the Unix epoch (UTC): one representation on SQLite and
PostgreSQL, exact ordering, cheap indexes. `clock.to_micros`/`from_micros` convert.
"""

from __future__ import annotations

import sqlalchemy as sa

from paylinks.models.base import BigId as BigId
from paylinks.models.base import metadata as metadata

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("pk", BigId, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(40), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    # The PromptPay ID (phone or tax id) that THB QR codes pay; test mode falls back to a dummy.
    sa.Column("promptpay_id", sa.String(20), nullable=True),
    # The hosted page sends card payments through 3-D Secure.
    sa.Column("three_d_secure", sa.Boolean, nullable=False, server_default=sa.false()),
    # The test clock: how far (microseconds) this account's test mode is ahead of real time.
    sa.Column("clock_offset", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("time_zone", sa.String(64), nullable=True),  # the dashboard's; NULL: Asia/Bangkok
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("pk", BigId, primary_key=True, autoincrement=True),
    sa.Column("account_pk", sa.BigInteger, sa.ForeignKey("accounts.pk"), nullable=False),
    sa.Column("livemode", sa.Boolean, nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),  # "public" | "secret"
    # SHA-256 of the whole key: keys carry ~165 random bits, so a fast hash is safe to store.
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    # Public keys are shown again (dashboard); secret keys only as a hint ("skey_test_…abcd").
    sa.Column("public_key", sa.String(80), nullable=True),
    sa.Column("hint", sa.String(40), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("revoked_at", sa.BigInteger, nullable=True),
)

links = sa.Table(
    "links",
    metadata,
    sa.Column("pk", BigId, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(40), nullable=False, unique=True),
    sa.Column("account_pk", sa.BigInteger, sa.ForeignKey("accounts.pk"), nullable=False),
    sa.Column("livemode", sa.Boolean, nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("multiple", sa.Boolean, nullable=False),
    sa.Column("metadata", sa.Text, nullable=False, server_default="{}"),
    sa.Column("used", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("used_at", sa.BigInteger, nullable=True),
    sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("deleted_at", sa.BigInteger, nullable=True),
    sa.Column("expires_at", sa.BigInteger, nullable=True),
    sa.Column("usage_limit", sa.BigInteger, nullable=True),
    # Places taken on a multi-use link (successful charges, and card charges in progress);
    # compared with usage_limit when a payment claims the link. Single-use links use `used`.
    sa.Column("paid_count", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("views", sa.BigInteger, nullable=False, server_default="0"),
    # "fixed", or "customer": the customer types the amount, within amount_min..amount_max, and
    # `amount` is only the suggestion the page starts with (the dashboard creates these).
    sa.Column("amount_type", sa.String(10), nullable=False, server_default="fixed"),
    sa.Column("amount_min", sa.BigInteger, nullable=True),
    sa.Column("amount_max", sa.BigInteger, nullable=True),
    sa.Index("ix_links_account_created", "account_pk", "livemode", "created_at", "pk"),
    # Links that may still count toward the active-link cap (expiry is checked on the few rows).
    sa.Index(
        "ix_links_open",
        "account_pk",
        "livemode",
        sqlite_where=sa.text("deleted = 0 AND used = 0"),
        postgresql_where=sa.text("NOT deleted AND NOT used"),
    ),
)

# Text search has indexes these tables do not describe, made by migration 0008 only (the schema
# comes from migrations; `metadata.create_all` would make a database without it):
# - SQLite: `links_search`, an FTS5 table (trigram tokenizer) with `links` as external content,
#   kept in step by the triggers `links_search_insert`, `_update` (of title, description and
#   metadata) and `_delete`. Recreating `links` (Alembic batch mode) drops those triggers: a
#   migration that does must create them again and rebuild `links_search`.
# - PostgreSQL: `ix_links_search_title`, `_description` and `_metadata`, pg_trgm GIN indexes
#   (`gin_trgm_ops`) that serve search's `ILIKE '%word%'` conditions.

# Per (account, mode) link totals, spread over a few slots so that concurrent creates on
# PostgreSQL do not queue on one row. `total` of an unfiltered list is their sum: O(1), not a
# COUNT(*) over a million rows.
link_counters = sa.Table(
    "link_counters",
    metadata,
    sa.Column("account_pk", sa.BigInteger, sa.ForeignKey("accounts.pk"), primary_key=True),
    sa.Column("livemode", sa.Boolean, primary_key=True),
    sa.Column("slot", sa.Integer, primary_key=True),
    sa.Column("count", sa.BigInteger, nullable=False),
)

# An account's own Omise account, where its live payments go (`upstream`). The secret key is
# sealed (never stored in plain text); the public key is published in payment pages anyway.
omise_connections = sa.Table(
    "omise_connections",
    metadata,
    sa.Column("account_pk", sa.BigInteger, sa.ForeignKey("accounts.pk"), primary_key=True),
    sa.Column("public_key", sa.String(80), nullable=False),
    sa.Column("secret_key_sealed", sa.Text, nullable=False),
    sa.Column("secret_key_last4", sa.String(4), nullable=False),
    # The currencies Omise said the account takes (its capability, read when connecting).
    sa.Column("currencies", sa.Text, nullable=False, server_default="[]"),
    sa.Column("connected_at", sa.BigInteger, nullable=False),
    # The secret Omise signs its webhooks to paylinks with, sealed; None until it is given.
    sa.Column("webhook_secret_sealed", sa.Text, nullable=True),
)

# A random secret per installation, shared by every process through the database: it keys card
# fingerprints and signs CSRF tokens unless PAYLINKS_SECRET is set.
instance_secrets = sa.Table(
    "instance_secrets",
    metadata,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("value", sa.String(128), nullable=False),
)

# Card tokens. The card number and security code are never stored: only what the card object
# shows, a keyed fingerprint, and the processor's opaque reference to the card.
tokens = sa.Table(
    "tokens",
    metadata,
    sa.Column("pk", BigId, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(40), nullable=False, unique=True),
    sa.Column("account_pk", sa.BigInteger, sa.ForeignKey("accounts.pk"), nullable=False),
    sa.Column("livemode", sa.Boolean, nullable=False),
    sa.Column("used", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("card", sa.Text, nullable=False),  # the card object as JSON
    sa.Column("processor_ref", sa.String(80), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

sources = sa.Table(
    "sources",
    metadata,
    sa.Column("pk", BigId, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(40), nullable=False, unique=True),
    sa.Column("account_pk", sa.BigInteger, sa.ForeignKey("accounts.pk"), nullable=False),
    sa.Column("livemode", sa.Boolean, nullable=False),
    sa.Column("type", sa.String(30), nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),  # the EMVCo QR payload
    sa.Column("used", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    # A live source's QR image at Omise (its `scannable_code.image.download_uri`).
    sa.Column("upstream_image_uri", sa.Text, nullable=True),
)

charges = sa.Table(
    "charges",
    metadata,
    sa.Column("pk", BigId, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(40), nullable=False, unique=True),
    sa.Column("account_pk", sa.BigInteger, sa.ForeignKey("accounts.pk"), nullable=False),
    sa.Column("livemode", sa.Boolean, nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("metadata", sa.Text, nullable=False, server_default="{}"),
    # pending | successful | failed | reversed | expired
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("card", sa.Text, nullable=True),  # the card object as JSON (card payments)
    sa.Column("source_pk", sa.BigInteger, sa.ForeignKey("sources.pk"), nullable=True),
    sa.Column("token_pk", sa.BigInteger, sa.ForeignKey("tokens.pk"), nullable=True),
    sa.Column("link_pk", sa.BigInteger, sa.ForeignKey("links.pk"), nullable=True),
    # True when the charge pays a single-use link: the partial unique index below uses it.
    sa.Column("single_use_link", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("customer_email", sa.String(254), nullable=True),
    sa.Column("failure_code", sa.String(60), nullable=True),
    sa.Column("failure_message", sa.String(300), nullable=True),
    sa.Column("transaction_id", sa.String(40), nullable=True),
    sa.Column("paid_at", sa.BigInteger, nullable=True),  # captured
    sa.Column("created_at", sa.BigInteger, nullable=False),
    # capture=false asks for an authorization only; it is captured or reversed later.
    sa.Column("capture", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("authorized_at", sa.BigInteger, nullable=True),
    sa.Column("reversed_at", sa.BigInteger, nullable=True),
    # When a pending charge (an authorization, a PromptPay QR) lapses, and when it did.
    sa.Column("expires_at", sa.BigInteger, nullable=True),
    sa.Column("expired_at", sa.BigInteger, nullable=True),
    # Raised by each refund's conditional UPDATE: never above `amount`.
    sa.Column("refunded_amount", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("return_uri", sa.Text, nullable=True),
    # 3-D Secure: "pending" while the customer authenticates, then "passed" or "failed".
    sa.Column("authentication", sa.String(10), nullable=True),
    # The processor's own id for a live charge (`chrg_…` at Omise), from its answer.
    sa.Column("upstream_id", sa.String(60), nullable=True),
    # Where the processor's 3-D Secure step is, while a live charge waits for its customer.
    sa.Column("upstream_authorize_uri", sa.Text, nullable=True),
    sa.Index("ix_charges_account_created", "account_pk", "livemode", "created_at", "pk"),
    sa.Index("ix_charges_upstream", "upstream_id"),
    sa.Index("ix_charges_link", "link_pk", "created_at", "pk"),
    # The database, not the code, makes a second successful (or authorized, not yet captured)
    # charge on a single-use link impossible.
    sa.Index(
        "ux_charges_one_success_per_single_use_link",
        "link_pk",
        unique=True,
        sqlite_where=sa.text(
            "single_use_link = 1 AND (status = 'successful' "
            "OR (status = 'pending' AND authorized_at IS NOT NULL))"
        ),
        postgresql_where=sa.text(
            "single_use_link AND (status = 'successful' "
            "OR (status = 'pending' AND authorized_at IS NOT NULL))"
        ),
    ),
    # The expiry sweeper's pending charges with a deadline.
    sa.Index(
        "ix_charges_pending_expiry",
        "expires_at",
        sqlite_where=sa.text("status = 'pending' AND expires_at IS NOT NULL"),
        postgresql_where=sa.text("status = 'pending' AND expires_at IS NOT NULL"),
    ),
)

# Refunds of a charge, each a part of what it captured (omise-compat: the refund object).
refunds = sa.Table(
    "refunds",
    metadata,
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
    # closed (made), or pending: a live refund waiting for Omise's answer (its amount reserved).
    sa.Column("status", sa.String(10), nullable=False, server_default="closed"),
    sa.Index("ix_refunds_account_created", "account_pk", "livemode", "created_at", "pk"),
    sa.Index("ix_refunds_charge", "charge_pk", "created_at", "pk"),
    sa.Index("ix_refunds_status", "status", "created_at"),
)

# Every state change records an event in the same transaction as the change: the object as it
# was at that moment, in its wire form. Webhook delivery rows will hang off these (the outbox).
events = sa.Table(
    "events",
    metadata,
    sa.Column("pk", BigId, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(40), nullable=False, unique=True),
    sa.Column("account_pk", sa.BigInteger, sa.ForeignKey("accounts.pk"), nullable=False),
    sa.Column("livemode", sa.Boolean, nullable=False),
    sa.Column("key", sa.String(60), nullable=False),
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("charge_pk", sa.BigInteger, sa.ForeignKey("charges.pk"), nullable=True),
    sa.Column("link_pk", sa.BigInteger, sa.ForeignKey("links.pk"), nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Index("ix_events_account_created", "account_pk", "livemode", "created_at", "pk"),
    sa.Index("ix_events_charge", "charge_pk"),
)

# Where an account's events go, per mode. The secret signs deliveries; while it is being rolled,
# the previous one keeps signing too until `previous_secret_until`.
webhook_endpoints = sa.Table(
    "webhook_endpoints",
    metadata,
    sa.Column("pk", BigId, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(40), nullable=False, unique=True),
    sa.Column("account_pk", sa.BigInteger, sa.ForeignKey("accounts.pk"), nullable=False),
    sa.Column("livemode", sa.Boolean, nullable=False),
    sa.Column("url", sa.String(2048), nullable=False),
    sa.Column("events", sa.Text, nullable=True),  # JSON list of keys; NULL = every event
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("scheme", sa.String(10), nullable=False),  # "seed" | "omise"
    sa.Column("secret", sa.String(100), nullable=False),
    sa.Column("previous_secret", sa.String(100), nullable=True),
    sa.Column("previous_secret_until", sa.BigInteger, nullable=True),
    sa.Column("disabled_reason", sa.String(200), nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    # The first failed attempt since the last success; five days of it disable the endpoint.
    sa.Column("failing_since", sa.BigInteger, nullable=True),
    sa.Column("deleted_at", sa.BigInteger, nullable=True),
    sa.Index("ix_webhook_endpoints_account", "account_pk", "livemode"),
)

# The outbox: one row per (event, endpoint), written with the event; the worker claims due rows.
webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("pk", BigId, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(40), nullable=False, unique=True),
    sa.Column("event_pk", sa.BigInteger, sa.ForeignKey("events.pk"), nullable=False),
    sa.Column("endpoint_pk", sa.BigInteger, sa.ForeignKey("webhook_endpoints.pk"), nullable=False),
    sa.Column("status", sa.String(12), nullable=False),  # pending|delivered|failed|cancelled
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", sa.BigInteger, nullable=True),
    sa.Column("locked_until", sa.BigInteger, nullable=True),
    sa.Column("last_status", sa.Integer, nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    sa.Index("ix_webhook_deliveries_event", "event_pk"),
)

# Every attempt, for the event's `webhook_deliveries` and the delivery log.
webhook_attempts = sa.Table(
    "webhook_attempts",
    metadata,
    sa.Column("pk", BigId, primary_key=True, autoincrement=True),
    sa.Column("delivery_pk", sa.BigInteger, sa.ForeignKey("webhook_deliveries.pk"), nullable=False),
    sa.Column("attempted_at", sa.BigInteger, nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("latency_ms", sa.Integer, nullable=False),
    sa.Column("response_excerpt", sa.String(500), nullable=True),
    sa.Column("error", sa.String(300), nullable=True),
    sa.Index("ix_webhook_attempts_delivery", "delivery_pk"),
)


# Receipt e-mails, an outbox like webhooks': a row is written "held" with the charge the page
# made (the customer's address and language), becomes "pending" in the transaction that records
# the charge paid, and the mailer claims it (a lease), sends it, and marks it "sent"; after its
# last failed try, "failed". One row per charge: a receipt is never queued twice.
receipts = sa.Table(
    "receipts",
    metadata,
    sa.Column("pk", BigId, primary_key=True, autoincrement=True),
    sa.Column("charge_pk", sa.BigInteger, sa.ForeignKey("charges.pk"), nullable=False, unique=True),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("language", sa.String(5), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),  # held|pending|sent|failed
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.BigInteger, nullable=True),
    sa.Column("locked_until", sa.BigInteger, nullable=True),
    sa.Column("last_error", sa.String(300), nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("sent_at", sa.BigInteger, nullable=True),
    sa.Index("ix_receipts_due", "status", "next_attempt_at"),
)

# How the hosted payment page looks for an account's customers.
account_branding = sa.Table(
    "account_branding",
    metadata,
    sa.Column("account_pk", sa.BigInteger, sa.ForeignKey("accounts.pk"), primary_key=True),
    sa.Column("display_name", sa.String(100), nullable=True),
    sa.Column("brand_color", sa.String(7), nullable=True),  # "#rrggbb"
    sa.Column("support_email", sa.String(254), nullable=True),
    sa.Column("logo", sa.LargeBinary, nullable=True),
    sa.Column("logo_type", sa.String(40), nullable=True),  # image/png | image/jpeg | image/webp
    sa.Column("updated_at", sa.BigInteger, nullable=False),
)

# Idempotency keys (the `Idempotency-Key` header): the key row commits in the transaction of the
# change it guards, so a key is either unused or bound to exactly one change; the response is
# stored right after, and replayed for 24 hours.
idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("pk", BigId, primary_key=True, autoincrement=True),
    sa.Column("account_pk", sa.BigInteger, sa.ForeignKey("accounts.pk"), nullable=False),
    sa.Column("livemode", sa.Boolean, nullable=False),
    sa.Column("key", sa.String(255), nullable=False),
    sa.Column("method", sa.String(10), nullable=False),
    sa.Column("path", sa.String(300), nullable=False),
    sa.Column("request_hash", sa.String(64), nullable=False),
    # The object the change made or changed: what a retry after a crash renders.
    sa.Column("object_id", sa.String(60), nullable=True),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("response", sa.LargeBinary, nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("account_pk", "livemode", "key", name="ux_idempotency_keys_scope"),
    sa.Index("ix_idempotency_keys_expires", "expires_at"),
)


# The dashboard's people and their sessions (a module of their own for its length only).
from paylinks.models.people import dashboard_sessions as dashboard_sessions  # noqa: E402
from paylinks.models.people import users as users  # noqa: E402
