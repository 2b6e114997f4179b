"""An account's branding: read for the hosted page, saved from the dashboard."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paylinks.clock import to_micros
from paylinks.db import dialect_insert
from paylinks.models import account_branding


@dataclass(frozen=True)
class Branding:
    display_name: str | None
    brand_color: str | None
    support_email: str | None
    logo: bytes | None
    logo_type: str | None

    @property
    def version(self) -> str:
        """Changes whenever the look does: cache-busts the stylesheet and the logo."""
        parts = f"{self.brand_color}|{self.logo_type}|".encode() + (self.logo or b"")
        return hashlib.sha256(parts).hexdigest()[:12]


def get_branding(conn: Connection, *, account_pk: int) -> Branding | None:
    row = conn.execute(
        sa.select(account_branding).where(account_branding.c.account_pk == account_pk)
    ).first()
    if row is None:
        return None
    return Branding(row.display_name, row.brand_color, row.support_email, row.logo, row.logo_type)


def save_branding(
    conn: Connection, *, account_pk: int, values: dict[str, object], now: datetime
) -> None:
    """Set the given columns (display_name, brand_color, support_email, logo, logo_type)."""
    row = {**values, "account_pk": account_pk, "updated_at": to_micros(now)}
    conn.execute(
        dialect_insert(conn, account_branding)
        .values(row)
        .on_conflict_do_update(
            index_elements=["account_pk"], set_={**values, "updated_at": row["updated_at"]}
        )
    )
