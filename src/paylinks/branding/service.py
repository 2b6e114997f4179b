"""An account's branding: read for the hosted page, saved from the dashboard."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paylinks.clock import to_micros
from paylinks.db import dialect_insert
from paylinks.hot import Hot
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


_BRANDING = Hot(
    sa.select(
        account_branding.c.display_name,
        account_branding.c.brand_color,
        account_branding.c.support_email,
        account_branding.c.logo,
        account_branding.c.logo_type,
    ).where(account_branding.c.account_pk == sa.bindparam("account_pk"))
)


def get_branding(conn: Connection, *, account_pk: int) -> Branding | None:
    """Every payment page reads this: a hot statement (`paylinks.hot`)."""
    row = _BRANDING.first(conn, {"account_pk": account_pk})
    if row is None:
        return None
    name, color, email, logo, logo_type = row
    return Branding(name, color, email, None if logo is None else bytes(logo), logo_type)


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
