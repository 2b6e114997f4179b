"""Settings a live installation must not run with. With `PAYLINKS_LIVE_MODE=true`, `serve` and
`worker` refuse to start while any of these holds, and say which and how to fix it."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paylinks.config import Settings
from paylinks.db import Database
from paylinks.models import accounts, omise_connections

MIN_SECRET = 32
# SQLite's PRAGMA synchronous: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA.
SQLITE_FULL = 2


def _durability(conn: Connection) -> str | None:
    if conn.dialect.name == "sqlite":
        level = conn.exec_driver_sql("PRAGMA synchronous").scalar()
        if level is None or int(level) < SQLITE_FULL:
            return (
                f"SQLite runs with synchronous={level}: a committed payment could be lost in a "
                "power cut. paylinks sets FULL itself; remove whatever lowers it"
            )
        return None
    setting = conn.exec_driver_sql("SHOW synchronous_commit").scalar()
    if setting == "off":
        return (
            "PostgreSQL runs with synchronous_commit=off: a committed payment could be lost in "
            "a crash. Set synchronous_commit=on (the default) for paylinks' database or role"
        )
    return None


def problems(settings: Settings, db: Database) -> list[str]:
    """Why this installation may not serve live payments; [] when it may."""
    found: list[str] = []
    if len(settings.secret) < MIN_SECRET:
        found.append(
            f"PAYLINKS_SECRET is unset or shorter than {MIN_SECRET} characters: card "
            "fingerprints and page tokens would be keyed by a secret kept in the database. Set "
            "it to a long random value (e.g. `openssl rand -hex 32`) kept outside the database"
        )
    if settings.allow_private_webhooks:
        found.append(
            "PAYLINKS_WEBHOOK_ALLOW_PRIVATE is on: live webhooks could reach internal "
            "addresses. Turn it off"
        )
    if not settings.public_url.startswith("https://"):
        found.append(
            f"PAYLINKS_PUBLIC_URL is {settings.public_url}: customers would pay on a page "
            "served without TLS. Set it to the https:// address of the payment pages"
        )
    with db.snapshot() as conn:
        durability = _durability(conn)
    if durability:
        found.append(durability)
    return found


def live_accounts(db: Database) -> list[str]:
    """A line per account: where its live payments go, or that it cannot take any yet."""
    with db.snapshot() as conn:
        rows = conn.execute(
            sa.select(accounts.c.id, accounts.c.name, omise_connections.c.public_key)
            .outerjoin(omise_connections, omise_connections.c.account_pk == accounts.c.pk)
            .order_by(accounts.c.pk)
        ).all()
    return [
        f"live payments of {row.id} ({row.name}): "
        + (
            f"Omise {row.public_key[:10]}…{row.public_key[-4:]}"
            if row.public_key
            else "not connected (paylinks accounts connect-omise)"
        )
        for row in rows
    ]
