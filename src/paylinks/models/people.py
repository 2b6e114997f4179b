"""The dashboard's tables of people: users and their sessions."""

from __future__ import annotations

import sqlalchemy as sa

from paylinks.models.base import BigId, metadata

# The dashboard's people: each signs in to one account with an e-mail and a password (scrypt).
users = sa.Table(
    "users",
    metadata,
    sa.Column("pk", BigId, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(40), nullable=False, unique=True),
    sa.Column("account_pk", sa.BigInteger, sa.ForeignKey("accounts.pk"), nullable=False),
    sa.Column("email", sa.String(254), nullable=False, unique=True),  # lower-cased
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    # Failed password sign-ins in a row; at `users.LOCK_AFTER` the user is locked until
    # `locked_until`, and a success resets both.
    sa.Column("failed_sign_ins", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_until", sa.BigInteger, nullable=True),
)

# Dashboard sessions, kept server-side so that signing out (or expiry) ends them for good. The
# cookie holds a random token; only its SHA-256 is stored.
dashboard_sessions = sa.Table(
    "dashboard_sessions",
    metadata,
    sa.Column("pk", BigId, primary_key=True, autoincrement=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("account_pk", sa.BigInteger, sa.ForeignKey("accounts.pk"), nullable=False),
    # NULL when signed in with a secret key: such a session stays in that key's mode.
    sa.Column("user_pk", sa.BigInteger, sa.ForeignKey("users.pk"), nullable=True),
    # The secret key that opened the session (NULL for a user's): rolling it ends the session.
    sa.Column("api_key_pk", sa.BigInteger, sa.ForeignKey("api_keys.pk"), nullable=True),
    sa.Column("livemode", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False),
    sa.Index("ix_dashboard_sessions_api_key", "api_key_pk"),
    sa.Index("ix_dashboard_sessions_user", "user_pk"),
)
