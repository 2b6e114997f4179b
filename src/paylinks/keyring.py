"""This installation's secrets: random, created once, shared by every process through the
database (or given by PAYLINKS_SECRET). They key card fingerprints and sign page tokens."""

from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paylinks.db import Database, dialect_insert
from paylinks.models import instance_secrets


def instance_secret(conn: Connection, *, name: str) -> bytes:
    """The secret called `name`, created on first use; concurrent first uses agree."""
    conn.execute(
        dialect_insert(conn, instance_secrets)
        .values(name=name, value=secrets.token_hex(32))
        .on_conflict_do_nothing(index_elements=["name"])
    )
    value = conn.execute(
        sa.select(instance_secrets.c.value).where(instance_secrets.c.name == name)
    ).scalar_one()
    return bytes.fromhex(value)


def derive(master: str, *, name: str) -> bytes:
    """A purpose-specific key from PAYLINKS_SECRET."""
    return hashlib.sha256(f"paylinks:{name}:{master}".encode()).digest()


def installation_key(conn: Connection, *, master: str, name: str) -> bytes:
    """The key called `name` for code without a `Keyring` (the CLI): from PAYLINKS_SECRET when
    set, else the database's own secret, as `Keyring.get` gives it."""
    return derive(master, name=name) if master else instance_secret(conn, name=name)


class Keyring:
    """The installation's secrets for one process, loaded once."""

    def __init__(self, db: Database, *, master: str) -> None:
        self._db = db
        self._master = master
        self._keys: dict[str, bytes] = {}

    async def get(self, name: str) -> bytes:
        key = self._keys.get(name)
        if key is None:
            if self._master:
                key = derive(self._master, name=name)
            else:
                key = await self._db.write(instance_secret, name=name)
            self._keys[name] = key
        return key
