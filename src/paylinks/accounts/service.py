"""Accounts and their API keys: create, list, roll, and find the account behind a key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import available_timezones

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paylinks.auth import Principal, hash_key
from paylinks.clock import from_micros, to_micros
from paylinks.errors import BadRequest, NotFound
from paylinks.ids import new_id, new_key
from paylinks.models import accounts, api_keys, dashboard_sessions

MODES = (False, True)  # test, live


@dataclass(frozen=True)
class KeyPair:
    public_key: str
    secret_key: str


@dataclass(frozen=True)
class Account:
    pk: int
    id: str
    name: str
    created_at: datetime


def _hint(key: str) -> str:
    prefix = key.rsplit("_", 1)[0]
    return f"{prefix}_…{key[-4:]}"


def _insert_key(conn: Connection, *, account_pk: int, livemode: bool, kind: str, now: int) -> str:
    key = new_key("pkey" if kind == "public" else "skey", livemode=livemode)
    conn.execute(
        api_keys.insert().values(
            account_pk=account_pk,
            livemode=livemode,
            kind=kind,
            key_hash=hash_key(key),
            public_key=key if kind == "public" else None,
            hint=_hint(key),
            created_at=now,
        )
    )
    return key


def _issue_pair(conn: Connection, *, account_pk: int, livemode: bool, now: int) -> KeyPair:
    public = _insert_key(conn, account_pk=account_pk, livemode=livemode, kind="public", now=now)
    secret = _insert_key(conn, account_pk=account_pk, livemode=livemode, kind="secret", now=now)
    return KeyPair(public_key=public, secret_key=secret)


def create_account(
    conn: Connection, *, name: str, now: datetime
) -> tuple[Account, dict[str, KeyPair]]:
    """A new account with a test and a live key pair; the secret keys exist only in the result."""
    micros = to_micros(now)
    account_id = new_id("acct")
    pk = conn.execute(
        accounts.insert()
        .values(id=account_id, name=name, created_at=micros)
        .returning(accounts.c.pk)
    ).scalar_one()
    keys = {
        "test" if not live else "live": _issue_pair(conn, account_pk=pk, livemode=live, now=micros)
        for live in MODES
    }
    return Account(pk=pk, id=account_id, name=name, created_at=now), keys


def list_accounts(conn: Connection) -> list[tuple[Account, dict[str, str]]]:
    """Every account with its current public keys by mode."""
    rows = conn.execute(sa.select(accounts).order_by(accounts.c.pk)).all()
    keys = conn.execute(
        sa.select(api_keys.c.account_pk, api_keys.c.livemode, api_keys.c.public_key).where(
            api_keys.c.kind == "public", api_keys.c.revoked_at.is_(None)
        )
    ).all()
    by_account: dict[int, dict[str, str]] = {}
    for key in keys:
        by_account.setdefault(key.account_pk, {})["live" if key.livemode else "test"] = (
            key.public_key
        )
    return [
        (Account(r.pk, r.id, r.name, from_micros(r.created_at)), by_account.get(r.pk, {}))  # type: ignore[arg-type]
        for r in rows
    ]


def count_accounts(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(accounts)).scalar_one())


def roll_keys(conn: Connection, *, account_id: str, livemode: bool, now: datetime) -> KeyPair:
    """Revoke the mode's current key pair and issue a new one. Dashboard sessions opened with a
    revoked key end with it, whoever rolls (CLI or dashboard)."""
    pk = conn.execute(sa.select(accounts.c.pk).where(accounts.c.id == account_id)).scalar()
    if pk is None:
        raise NotFound.for_object("account", account_id)
    micros = to_micros(now)
    current = (
        sa.select(api_keys.c.pk)
        .where(
            api_keys.c.account_pk == pk,
            api_keys.c.livemode == livemode,
            api_keys.c.revoked_at.is_(None),
        )
        .scalar_subquery()
    )
    conn.execute(dashboard_sessions.delete().where(dashboard_sessions.c.api_key_pk.in_(current)))
    conn.execute(api_keys.update().where(api_keys.c.pk.in_(current)).values(revoked_at=micros))
    return _issue_pair(conn, account_pk=pk, livemode=livemode, now=micros)


def set_three_d_secure(conn: Connection, *, account_id: str, enabled: bool) -> None:
    """Turn 3-D Secure on or off for the account's hosted payment pages (the API's charges ask
    for it themselves, with `return_uri`)."""
    done = conn.execute(
        accounts.update().where(accounts.c.id == account_id).values(three_d_secure=enabled)
    )
    if done.rowcount != 1:
        raise NotFound.for_object("account", account_id)


def three_d_secure_of(conn: Connection, *, account_pk: int) -> bool:
    query = sa.select(accounts.c.three_d_secure).where(accounts.c.pk == account_pk)
    return bool(conn.execute(query).scalar_one())


def set_time_zone(conn: Connection, *, account_pk: int, time_zone: str | None) -> None:
    """The zone the dashboard shows the account's times in (None: the default). An IANA name
    zoneinfo knows, else `BadRequest`: a stored name must always load."""
    if time_zone is not None and time_zone not in available_timezones():
        raise BadRequest(f"unknown time zone {time_zone!r}; use an IANA name such as Asia/Bangkok")
    conn.execute(accounts.update().where(accounts.c.pk == account_pk).values(time_zone=time_zone))


def clock_offset_of(livemode: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    """The account's test clock offset for a row of the given mode, in SQL (join `accounts`):
    0 for live rows. See `testclock`."""
    # Typed: PostgreSQL would otherwise read the literal as INTEGER and overflow.
    return sa.case((livemode, sa.literal(0, sa.BigInteger)), else_=accounts.c.clock_offset)


def find_principal(conn: Connection, *, key_hash: str) -> Principal | None:
    """The live (unrevoked) key with this hash, or None."""
    row = conn.execute(
        sa.select(
            api_keys.c.pk,
            api_keys.c.account_pk,
            api_keys.c.livemode,
            api_keys.c.kind,
            accounts.c.id,
            accounts.c.clock_offset,
        )
        .join(accounts, accounts.c.pk == api_keys.c.account_pk)
        .where(api_keys.c.key_hash == key_hash, api_keys.c.revoked_at.is_(None))
    ).first()
    if row is None:
        return None
    offset = 0 if row.livemode else row.clock_offset  # live mode never has a test clock
    return Principal(row.account_pk, row.id, row.livemode, row.kind, key_hash, row.pk, offset)


def lock_account(conn: Connection, *, account_pk: int) -> None:
    """Serialise an account's capped creates (links, webhook endpoints) on PostgreSQL, so that
    concurrent ones cannot overshoot a cap. SQLite needs nothing: every write transaction
    already holds the database's write lock."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(accounts.c.pk).where(accounts.c.pk == account_pk).with_for_update())
