"""An account's connection to its own Omise account: made after Omise accepted both keys
(`omise_api.check_keys`), stored with the secret key sealed, ended at once by disconnecting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paylinks.clock import from_micros, to_micros
from paylinks.db import dialect_insert
from paylinks.errors import NotFound
from paylinks.models import accounts, omise_connections
from paylinks.upstream.sealing import seal, unseal

SEALING_KEY = "omise-credentials"  # the keyring's name for the key that seals secret keys


@dataclass(frozen=True)
class OmiseConnection:
    account_pk: int
    account_id: str
    public_key: str
    secret_key_sealed: str
    secret_key_last4: str
    connected_at: datetime
    currencies: tuple[str, ...] = ()  # what Omise said the account takes, lower case
    webhook_secret_sealed: str | None = None

    def secret_key(self, key: bytes) -> str:
        """The secret key, for a call to Omise (never to show, store elsewhere or log)."""
        return unseal(key, self.secret_key_sealed, owner=self.account_id)

    def webhook_secret(self, key: bytes) -> str | None:
        """The secret Omise's webhooks to paylinks are signed with, when it was given."""
        if self.webhook_secret_sealed is None:
            return None
        return unseal(key, self.webhook_secret_sealed, owner=_webhook_owner(self.account_id))

    @property
    def shown_secret_key(self) -> str:
        return f"skey_…{self.secret_key_last4}"

    @property
    def shown_public_key(self) -> str:
        return f"{self.public_key[:10]}…{self.public_key[-4:]}"


def _webhook_owner(account_id: str) -> str:
    # Sealed for its own purpose: the two sealed secrets of a row cannot stand in for each other.
    return f"{account_id}/webhook"


def _account_pk(conn: Connection, account_id: str) -> int:
    pk = conn.execute(sa.select(accounts.c.pk).where(accounts.c.id == account_id)).scalar()
    if pk is None:
        raise NotFound.for_object("account", account_id)
    return int(pk)


def connect(
    conn: Connection,
    *,
    account_id: str,
    public_key: str,
    secret_key: str,
    sealing_key: bytes,
    now: datetime,
    currencies: list[str] | None = None,
    webhook_secret: str | None = None,
) -> OmiseConnection:
    """Store (or replace) the account's connection; the keys were checked with Omise first,
    whose capability said which `currencies` (lower case) the account takes. `webhook_secret`:
    Omise's secret for its webhooks to this account's endpoint (`payments.omise_webhooks`)."""
    pk = _account_pk(conn, account_id)
    sealed_webhook = (
        seal(sealing_key, webhook_secret, owner=_webhook_owner(account_id))
        if webhook_secret
        else None
    )
    values = {
        "webhook_secret_sealed": sealed_webhook,
        "public_key": public_key,
        "currencies": orjson.dumps(sorted(currencies or [])).decode(),
        "secret_key_sealed": seal(sealing_key, secret_key, owner=account_id),
        "secret_key_last4": secret_key[-4:],
        "connected_at": to_micros(now),
    }
    # New keys without a webhook secret keep the one given before (disconnect forgets it).
    kept = {k: v for k, v in values.items() if v is not None}
    conn.execute(
        dialect_insert(conn, omise_connections)
        .values(account_pk=pk, **values)
        .on_conflict_do_update(index_elements=["account_pk"], set_=kept)
    )
    found = connection_of(conn, account_pk=pk)
    assert found is not None
    return found


def disconnect(conn: Connection, *, account_id: str) -> bool:
    """End the connection now (live payments stop with it); whether there was one."""
    pk = _account_pk(conn, account_id)
    done = conn.execute(omise_connections.delete().where(omise_connections.c.account_pk == pk))
    return done.rowcount == 1


def connection_of(conn: Connection, *, account_pk: int) -> OmiseConnection | None:
    row = conn.execute(
        sa.select(omise_connections, accounts.c.id.label("account_id"))
        .join(accounts, accounts.c.pk == omise_connections.c.account_pk)
        .where(omise_connections.c.account_pk == account_pk)
    ).first()
    if row is None:
        return None
    return OmiseConnection(
        account_pk=row.account_pk,
        account_id=row.account_id,
        public_key=row.public_key,
        secret_key_sealed=row.secret_key_sealed,
        secret_key_last4=row.secret_key_last4,
        connected_at=from_micros(row.connected_at),  # type: ignore[arg-type]
        currencies=tuple(orjson.loads(row.currencies)),
        webhook_secret_sealed=row.webhook_secret_sealed,
    )


def connection_of_account(conn: Connection, *, account_id: str) -> OmiseConnection | None:
    """The connection of the account with this public id (None for an unknown account too)."""
    pk = conn.execute(sa.select(accounts.c.pk).where(accounts.c.id == account_id)).scalar()
    return None if pk is None else connection_of(conn, account_pk=int(pk))
